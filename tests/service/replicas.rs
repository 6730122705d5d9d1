//! Replicas: the streams are a function of the chain, so identical replicas, each with its
//! own store, following one node, send byte-identical streams (live and from history, the
//! refused stream included), and a client cut off from one replica resumes on another by
//! height with no gap and no duplicate. This is what lets clients be balanced over replicas
//! (README, "Scaling out").

use std::time::Duration;

use crate::support::*;

/// Long enough for a stray frame after the expected ones to show.
const QUIET: Duration = Duration::from_millis(200);

/// A node on `chain` and two replicas following it, each with its own store, both
/// subscribed before the first block.
async fn replicas(chain: &str) -> (TestNode, [Service; 2]) {
    let node = TestNode::start(chain).await;
    let replicas = [
        Service::follow(&node, server_args()).await,
        Service::follow(&node, server_args()).await,
    ];
    node.wait_for("both replicas to subscribe", |s| s.active == 2)
        .await;
    (node, replicas)
}

/// Two replicas following one node through the whole chain: live clients on each get the
/// same frames byte for byte, and so do clients reading every stream from height 1 once the
/// chain is produced; the valid streams are also the recorded ones.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_emit_identical_streams() {
    let (node, replicas) = replicas(CHAIN).await;
    let expected_blocks = expected_lines(CHAIN, "valid_blocks");
    let expected_txs = expected_lines(CHAIN, "valid_transactions");
    let refused = expected_lines(CHAIN, "refused_transactions").len();
    let mut live = Vec::new();
    for replica in &replicas {
        live.push((
            connect(replica.ws, BLOCKS).await,
            connect(replica.ws, TXS).await,
        ));
    }
    node.produce_until(node.last_height());

    // Once a live client has the last block, the replica has stored the whole chain.
    let mut live_frames = Vec::new();
    for (blocks, txs) in &mut live {
        let got_blocks = collect_texts(blocks, expected_blocks.len(), CHAIN_WITHIN).await;
        assert_heights_and_hashes("a replica's live client", &got_blocks, &expected_blocks);
        let got_txs = collect_texts(txs, expected_txs.len(), TXS_AFTER_BLOCKS).await;
        live_frames.push([got_blocks, got_txs]);
    }
    let mut reports = Vec::new();
    for (i, path) in [BLOCKS, TXS].into_iter().enumerate() {
        let [a, b] = [&live_frames[0][i], &live_frames[1][i]];
        reports.push(diff_lines(
            &format!("live {path}: replica B against A"),
            b,
            a,
        ));
    }

    let streams = [
        (BLOCKS, expected_blocks.len(), Some(&expected_blocks)),
        (TXS, expected_txs.len(), Some(&expected_txs)),
        (REFUSED, refused, None),
    ];
    for (path, count, expected) in streams {
        let mut got = Vec::new();
        for replica in &replicas {
            let mut client = connect(replica.ws, &format!("{path}?from_height=1")).await;
            got.push(collect_texts(&mut client, count, WITHIN).await);
            assert_no_more_texts(&mut client, path, QUIET).await;
        }
        reports.push(diff_lines(
            &format!("{path} from height 1: replica B against A"),
            &got[1],
            &got[0],
        ));
        if let Some(expected) = expected {
            reports.push(diff_lines(
                &format!("{path} from height 1 on replica A"),
                &got[0],
                expected,
            ));
        }
    }
    assert_no_diffs(reports);
    for replica in replicas {
        replica.shut_down().await;
    }
}

/// A client that read blocks 1..=CUT from replica A resumes on replica B (which has moved
/// on) from the height after the last block it got: it gets B's history, then live blocks,
/// and in all exactly the chain's frames, with no gap and no duplicate at either hand-over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_resumes_on_another_replica() {
    /// The last height the client reads from replica A.
    const CUT: u64 = 10;
    /// How far replica B is ahead when the client comes to it.
    const AHEAD: u64 = 5;
    let (node, [a, b]) = replicas(CHAIN).await;
    let mut blocks = connect(a.ws, BLOCKS).await;
    let mut txs = connect(a.ws, TXS).await;
    node.produce_until(CUT);
    let mut got_blocks = collect_texts(&mut blocks, CUT as usize, WITHIN).await;
    let until_cut = expected_range(CHAIN, "valid_transactions", 1, CUT).len();
    let mut got_txs = collect_texts(&mut txs, until_cut, WITHIN).await;
    drop((blocks, txs));

    node.produce_until(CUT + AHEAD);
    wait_for_height(b.api, CUT + AHEAD).await;
    let next = heights(&got_blocks).last().expect("a block from replica A") + 1;
    let mut blocks = connect(b.ws, &format!("{BLOCKS}?from_height={next}")).await;
    let mut txs = connect(b.ws, &format!("{TXS}?from_height={next}")).await;
    node.produce_until(BEFORE_BIG);
    let expected_blocks = expected_range(CHAIN, "valid_blocks", 1, BEFORE_BIG);
    let expected_txs = expected_range(CHAIN, "valid_transactions", 1, BEFORE_BIG);
    let rest = expected_blocks.len() - got_blocks.len();
    got_blocks.extend(collect_texts(&mut blocks, rest, WITHIN).await);
    let rest = expected_txs.len() - got_txs.len();
    got_txs.extend(collect_texts(&mut txs, rest, WITHIN).await);
    assert_no_diffs([
        diff_lines("valid_blocks, A then B", &got_blocks, &expected_blocks),
        diff_lines("valid_transactions, A then B", &got_txs, &expected_txs),
    ]);
    assert_no_more_texts(&mut blocks, BLOCKS, QUIET).await;
    assert_no_more_texts(&mut txs, TXS, QUIET).await;
    a.shut_down().await;
    b.shut_down().await;
}
