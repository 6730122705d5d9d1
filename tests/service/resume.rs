//! Resuming: clients that connect with `?from_height=N` get the stored history, then live
//! blocks, with no gap and no duplicate at the hand-over, even while blocks keep coming;
//! heights older than the retained history are refused with 410, malformed ones with 400;
//! a height missing from the chain does not stop resuming clients.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio_tungstenite::tungstenite;

use planetmint_stream::source::chain_file::{Replay, ReplayOptions};
use planetmint_stream::source::node::Follow;
use planetmint_stream::store::Store;

use crate::support::*;

/// Clients resuming from a height get the stored history, then live blocks, with no gap
/// and no duplicate at the hand-over; a height beyond the head is waited for.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resumed_clients_get_history_then_live() {
    let (node, service) = node_and_service(CHAIN, server_args()).await;
    produce_and_settle(&node, &service, 10).await;

    let mut blocks = connect(service.ws, &format!("{BLOCKS}?from_height=3")).await;
    let mut txs = connect(service.ws, &format!("{TXS}?from_height=3")).await;
    let mut ahead = connect(service.ws, &format!("{BLOCKS}?from_height=15")).await;
    let history = expected_range(CHAIN, "valid_blocks", 3, 10);
    let got = collect_texts(&mut blocks, history.len(), WITHIN).await;
    assert_no_diffs([diff_lines("history", &got, &history)]);
    assert_no_more_texts(
        &mut ahead,
        "a client waiting for 15",
        Duration::from_millis(200),
    )
    .await;

    node.produce_until(20);
    let expected_blocks = expected_range(CHAIN, "valid_blocks", 3, 20);
    let expected_txs = expected_range(CHAIN, "valid_transactions", 3, 20);
    let mut all_blocks = got;
    all_blocks
        .extend(collect_texts(&mut blocks, expected_blocks.len() - history.len(), WITHIN).await);
    let got_txs = collect_texts(&mut txs, expected_txs.len(), WITHIN).await;
    let got_ahead = collect_texts(&mut ahead, 6, WITHIN).await;
    assert_no_diffs([
        diff_lines("valid_blocks from 3", &all_blocks, &expected_blocks),
        diff_lines("valid_transactions from 3", &got_txs, &expected_txs),
        diff_lines(
            "valid_blocks from 15",
            &got_ahead,
            &expected_range(CHAIN, "valid_blocks", 15, 20),
        ),
    ]);
    for (client, what) in [
        (&mut blocks, "blocks"),
        (&mut txs, "txs"),
        (&mut ahead, "ahead"),
    ] {
        assert_no_more_texts(client, what, Duration::from_millis(200)).await;
    }
    service.shut_down().await;
}

/// Clients that connect with `from_height=1` while blocks keep coming each get every
/// block exactly once, whichever side of the history/live hand-over each block falls on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hand_over_under_production_is_exact() {
    let (node, service) = node_and_service(CHAIN, server_args()).await;
    produce_and_settle(&node, &service, 3).await;
    let expected = expected_range(CHAIN, "valid_blocks", 1, BEFORE_BIG);
    let expected_txs = expected_range(CHAIN, "valid_transactions", 1, BEFORE_BIG);
    let node = Arc::new(node);
    let producing = tokio::spawn({
        let node = node.clone();
        async move {
            node.produce_until_paced(BEFORE_BIG, Duration::from_millis(15))
                .await
        }
    });
    let mut clients = Vec::new();
    for stagger in 0..8u64 {
        tokio::time::sleep(Duration::from_millis(stagger * 7)).await;
        let path = if stagger % 2 == 0 { BLOCKS } else { TXS };
        clients.push((
            path,
            connect(service.ws, &format!("{path}?from_height=1")).await,
        ));
    }
    producing.await.expect("producing");
    let mut reports = Vec::new();
    for (i, (path, client)) in clients.iter_mut().enumerate() {
        let want = if *path == BLOCKS {
            &expected
        } else {
            &expected_txs
        };
        let got = collect_texts(client, want.len(), WITHIN).await;
        reports.push(diff_lines(&format!("client {i} on {path}"), &got, want));
        assert_no_more_texts(client, path, Duration::from_millis(100)).await;
    }
    assert_no_diffs(reports);
}

/// The HTTP status of a refused upgrade, and its body.
async fn refused(addr: SocketAddr, path: &str) -> (u16, String) {
    match try_connect(addr, path).await {
        Err(tungstenite::Error::Http(response)) => (
            response.status().as_u16(),
            String::from_utf8_lossy(response.body().as_deref().unwrap_or_default()).into_owned(),
        ),
        Err(other) => panic!("{path}: {other}"),
        Ok(_) => panic!("{path}: upgraded, expected a refusal"),
    }
}

/// A height older than the retained history is refused with 410, a malformed one with
/// 400; the oldest retained height is served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_beyond_history_is_refused() {
    let node = TestNode::start(CHAIN).await;
    let store = Arc::new(Store::in_memory(5).expect("store"));
    let source = Follow {
        settings: node_args(&node),
        start: None,
    };
    let service = Service::start_with(source, store, server_args()).await;
    node.wait_for("the service to subscribe", |s| s.active == 1)
        .await;
    produce_and_settle(&node, &service, 10).await;

    for path in [BLOCKS, TXS] {
        let (status, body) = refused(service.ws, &format!("{path}?from_height=5")).await;
        assert_eq!(status, 410, "{path}: {body}");
        assert!(
            body.contains("older than the retained history, which starts at 6"),
            "{body}"
        );
        for bad in ["0", "-1", "x", ""] {
            let (status, body) = refused(service.ws, &format!("{path}?from_height={bad}")).await;
            assert_eq!(status, 400, "from_height={bad}: {body}");
        }
    }
    let mut oldest = connect(service.ws, &format!("{BLOCKS}?from_height=6")).await;
    let got = collect_texts(&mut oldest, 5, WITHIN).await;
    assert_no_diffs([diff_lines(
        "from the oldest retained height",
        &got,
        &expected_range(CHAIN, "valid_blocks", 6, 10),
    )]);
    assert_eq!(
        metric_of(service.api, "planetmint_stream_refused_resumes_total").await,
        2
    );
    service.shut_down().await;
}

/// A replayed chain file with a line that does not parse has no block at that height:
/// clients resuming from before it get every other block, in order, without being taken
/// for expired.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_height_does_not_stop_resuming_clients() {
    let data = tempfile::tempdir().expect("a temporary directory");
    let original = std::fs::read_to_string(fixture(&format!("chains/{CHAIN}.chain.jsonl")))
        .expect("chain file");
    // Line 0 is the status; line 5 is height 5.
    let damaged: Vec<&str> = original
        .lines()
        .enumerate()
        .map(|(i, line)| if i == 5 { "{not a block" } else { line })
        .take(BEFORE_BIG as usize + 1)
        .collect();
    let path = data.path().join("damaged.chain.jsonl");
    std::fs::write(&path, damaged.join("\n") + "\n").expect("writing the chain");
    let options = ReplayOptions {
        interval: Duration::from_millis(10),
        dialect: None,
    };
    let source = Replay::open(&path, options).await.expect("a chain file");
    let service = Service::start(source, server_args()).await;
    // Live from whichever block comes next: it sees height 6 follow 4.
    let mut live = connect(service.ws, BLOCKS).await;
    let expected: Vec<String> = expected_range(CHAIN, "valid_blocks", 1, BEFORE_BIG)
        .into_iter()
        .filter(|line| heights(std::slice::from_ref(line)) != [5])
        .collect();
    wait_for_height(service.api, BEFORE_BIG).await;
    for from in [1, 4, 5] {
        let mut client = connect(service.ws, &format!("{BLOCKS}?from_height={from}")).await;
        let want: Vec<String> = expected
            .iter()
            .filter(|line| heights(std::slice::from_ref(line))[0] >= from)
            .cloned()
            .collect();
        let got = collect_texts(&mut client, want.len(), WITHIN).await;
        assert_no_diffs([diff_lines(
            &format!("from {from}, past a missing height"),
            &got,
            &want,
        )]);
    }
    let mut got: Vec<String> = Vec::new();
    while heights(&got).last() != Some(&BEFORE_BIG) {
        let more = collect_texts(&mut live, 1, WITHIN).await;
        assert!(!more.is_empty(), "the live client stopped after {got:?}");
        got.extend(more);
    }
    assert!(
        expected.ends_with(&got),
        "the live client's blocks {:?} are not the chain's last ones",
        heights(&got)
    );
    service.shut_down().await;
}
