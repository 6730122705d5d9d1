//! What the node does wrong, and what the service makes of it: websockets dropped, the
//! node restarted, subscriptions cancelled, malformed events, `block_results` failing,
//! a node gone (failover) or halted; every time the clients get each message once, in
//! order. The soak test (ignored by default) runs all of them over 10,000 blocks.

use std::collections::BTreeSet;
use std::time::Duration;

use tokio::time::{Instant, timeout};

use planetmint_stream::source::node::{Endpoint, Follow, NodeSettings};

use crate::support::*;

/// (h) The node drops the service's websocket; blocks made meanwhile, and blocks whose
/// event never comes, are fetched over HTTP: no gap, no duplicate. The chain is followed
/// up to `last`.
async fn survives_node_disconnect(chain: &str, last: u64) {
    let (node, service, mut blocks, mut txs) = following(chain, 10).await;

    node.disconnect_websockets().await;
    // Nobody is subscribed now: these events are lost, as a real node loses them.
    node.produce_until(14);
    // And these never have an event at all.
    node.skip_events_for([15, 16, 20]);
    node.produce_until(16);
    node.wait_for("the service to resubscribe", |s| {
        s.active == 1 && s.total == 2
    })
    .await;
    // 17's event makes the service fetch 11-16; 21's fetches 20.
    node.produce_until(last);

    let rest = collect_texts(blocks.client(), last as usize - 10, CHAIN_WITHIN).await;
    let mut all_blocks = std::mem::take(&mut blocks.frames);
    all_blocks.extend(rest);
    let expected_blocks = expected_until(chain, "valid_blocks", last);
    assert_heights_and_hashes(chain, &all_blocks, &expected_blocks);
    // Only the blocks without a delivered event were fetched: 15, 16, 20 for sure,
    // 11-14 too unless the service resubscribed before they were produced.
    let fetched = node.blocks_served();
    let skipped = BTreeSet::from([15, 16, 20]);
    let missed: BTreeSet<u64> = (11..=16).chain([20]).collect();
    assert!(
        skipped.is_subset(&fetched) && fetched.is_subset(&missed),
        "{chain}: blocks fetched over HTTP: {fetched:?}"
    );
    let expected_txs = expected_until(chain, "valid_transactions", last);
    let got_txs = collect_texts(txs.client(), expected_txs.len(), TXS_AFTER_BLOCKS).await;
    assert_no_more_texts(
        txs.client(),
        "valid_transactions",
        Duration::from_millis(200),
    )
    .await;
    assert_no_diffs([
        diff_lines(
            &format!("{chain} valid_blocks"),
            &all_blocks,
            &expected_blocks,
        ),
        diff_lines(
            &format!("{chain} valid_transactions"),
            &got_txs,
            &expected_txs,
        ),
    ]);
    service.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tendermint_0_34_survives_node_disconnect() {
    // Up to the block before the big one: validating in a debug build is slow.
    survives_node_disconnect(CHAINS[0], BEFORE_BIG).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cometbft_0_38_survives_node_disconnect() {
    survives_node_disconnect(CHAINS[1], chain_blocks(CHAINS[1])).await;
}

/// The node's whole listener goes away (connections refused) and comes back on the same
/// port: the service keeps retrying and resumes without a gap.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn survives_node_restart() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            "debug,hyper=info,reqwest=info,h2=info,tungstenite=info,tokio_tungstenite=info",
        )
        .with_test_writer()
        .try_init();
    let chain = CHAINS[1];
    // Up to the block before the big one: validating in a debug build is slow.
    const LAST: u64 = BEFORE_BIG;
    let (mut node, service, mut blocks, mut txs) = following(chain, 5).await;

    node.stop().await;
    node.produce_until(8);
    // Wait until the service has lost the node and failed to reach it at least once more.
    timeout(Duration::from_secs(10), async {
        while metric_of(service.api, "planetmint_stream_node_reconnects_total").await < 2 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("the service never noticed the node was gone");
    node.restart().await;
    node.wait_for("the service to resubscribe", |s| {
        s.active == 1 && s.total == 2
    })
    .await;
    node.skip_events_for([9]);
    node.produce_until(LAST);

    let rest = collect_texts(blocks.client(), LAST as usize - 5, CHAIN_WITHIN).await;
    let mut all_blocks = std::mem::take(&mut blocks.frames);
    all_blocks.extend(rest);
    let expected_blocks = expected_until(chain, "valid_blocks", LAST);
    assert_heights_and_hashes("after a node restart", &all_blocks, &expected_blocks);
    // 6-8 were made while the node was down, 9 had no event: all four fetched, only them.
    assert_eq!(node.blocks_served(), BTreeSet::from([6, 7, 8, 9]));
    let expected_txs = expected_until(chain, "valid_transactions", LAST);
    let got_txs = collect_texts(txs.client(), expected_txs.len(), TXS_AFTER_BLOCKS).await;
    assert_no_diffs([
        diff_lines(
            "valid_blocks after a node restart",
            &all_blocks,
            &expected_blocks,
        ),
        diff_lines(
            "valid_transactions after a node restart",
            &got_txs,
            &expected_txs,
        ),
    ]);
    service.shut_down().await;
}

/// The service following the nodes at `endpoints` (fresh in-memory store), once it has
/// subscribed to `first`'s, the first of them; and a live client on each stream.
async fn following_nodes(
    first: &TestNode,
    endpoints: Vec<Endpoint>,
) -> (Service, Follower, Follower) {
    let settings = NodeSettings {
        endpoints,
        ..node_args(first)
    };
    let source = Follow {
        settings,
        start: None,
    };
    let service = Service::start(source, server_args()).await;
    first
        .wait_for("the service to subscribe to the first node", |s| {
            s.active == 1
        })
        .await;
    let (blocks, txs) = Follower::live_pair(service.ws).await;
    (service, blocks, txs)
}

/// Two nodes of the chain: when the first goes away, the service goes on with the second,
/// from the next height, without a gap or a duplicate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fails_over_to_the_next_node() {
    let mut first = TestNode::start(CHAIN).await;
    let second = TestNode::start(CHAIN).await;
    let both = |height| {
        first.produce_until(height);
        second.produce_until(height);
    };
    let endpoints = vec![
        Endpoint::parse(&first.addr().to_string()),
        Endpoint::parse(&format!("http://{}", second.addr())),
    ];
    let (service, mut blocks, mut txs) = following_nodes(&first, endpoints).await;
    both(5);
    blocks.read_all(5, || service.ws).await;

    first.stop().await;
    let both = |height| {
        first.produce_until(height);
        second.produce_until(height);
    };
    both(9);
    second
        .wait_for("the service to subscribe to the second node", |s| {
            s.active == 1
        })
        .await;
    both(BEFORE_BIG);
    assert_received(
        CHAIN,
        "across a failover",
        service.ws,
        &mut blocks,
        &mut txs,
        BEFORE_BIG,
    )
    .await;
    assert_eq!(blocks.resumes, 0, "the clients were never cut off");
    // 6-9 were made while the service moved over: fetched from the second node.
    assert!(second.blocks_served().is_superset(&(6..=9).collect()));
    service.shut_down().await;
}

/// The node cancels the service's subscription (as it does to slow subscribers) and
/// keeps the socket open: the service notices within seconds that events stopped while the
/// chain goes on, resubscribes, and fills what it missed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_subscription_is_noticed_and_filled() {
    let (node, service, mut blocks, mut txs) = following(CHAIN, 5).await;
    node.cancel_subscriptions();
    node.wait_for("the subscription to be cancelled", |s| s.active == 0)
        .await;
    let cancelled = Instant::now();
    node.produce_until(8);
    node.wait_for("the service to resubscribe", |s| {
        s.active == 1 && s.total == 2
    })
    .await;
    let noticed = cancelled.elapsed();
    assert!(
        noticed < Duration::from_secs(8),
        "noticed after {noticed:?}"
    );
    node.produce_until(BEFORE_BIG);
    assert_exact(
        CHAIN,
        "after a cancelled subscription",
        &service,
        &mut blocks,
        &mut txs,
        BEFORE_BIG,
    )
    .await;
    let text = get_text(service.api, "/metrics").await.1;
    assert!(metric(&text, "planetmint_stream_node_reconnects_total") >= 1);
    assert!(metric(&text, "planetmint_stream_backfilled_blocks_total") >= 3);
    eprintln!("cancelled subscription noticed and replaced after {noticed:?}");
    service.shut_down().await;
}

/// Events that are not JSON are dropped by the RPC library; the blocks are fetched over
/// HTTP when a later event shows the gap, or, for the last block, when the stall check
/// sees the node ahead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_events_are_filled_from_http() {
    let (node, service, mut blocks, mut txs) = following(CHAIN, 5).await;
    node.garble_events_for([7, 8, 12]);
    node.produce_until(12);
    // 12 is the last block: no later event reveals it.
    blocks.read_all(12, || service.ws).await;
    node.produce_until(BEFORE_BIG);
    assert_exact(
        CHAIN,
        "after malformed events",
        &service,
        &mut blocks,
        &mut txs,
        BEFORE_BIG,
    )
    .await;
    let fetched = node.blocks_served();
    assert!(
        [7, 8, 12].iter().all(|h| fetched.contains(h)),
        "fetched over HTTP: {fetched:?}"
    );
    service.shut_down().await;
}

/// On Tendermint 0.34 every block's results come from `/block_results`; while that fails
/// the service retries (reconnecting if it must), and publishes nothing out of order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_block_results_are_retried() {
    let chain = CHAINS[0];
    let (node, service, mut blocks, mut txs) = following(chain, 5).await;
    node.fail_block_results(8);
    node.produce_until(BEFORE_BIG);
    assert_exact(
        chain,
        "after /block_results failed",
        &service,
        &mut blocks,
        &mut txs,
        BEFORE_BIG,
    )
    .await;
    assert_eq!(node.block_results_failures_served(), 8);
    service.shut_down().await;
}

/// The soak test: 10,000 blocks with a fault about every 500 (node WebSockets cut,
/// subscription cancelled, malformed events, `/block_results` failing, node restarted,
/// service SIGKILLed and restarted on its data directory), and clients that resume with
/// `from_height` whenever they are cut off. It must end with every message exactly once,
/// in order. Ignored by default (minutes); run it with
/// `cargo test --release --test service soak -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "minutes long: run explicitly (see the doc comment)"]
async fn soak_ten_thousand_blocks_with_faults() {
    const BLOCKS_TOTAL: u64 = 10_000;
    const FAULT_EVERY: u64 = 500;
    let started = std::time::Instant::now();
    let mut node = TestNode::start_cycled(CHAIN, BLOCKS_TOTAL).await;
    let data = tempfile::tempdir().expect("a temporary directory");
    let mut service = serve(&node, data.path()).await;
    node.wait_for("the service to subscribe", |s| s.active == 1)
        .await;
    // The clients follow whichever service runs now, from their own tasks.
    let (address_tx, address) = tokio::sync::watch::channel(service.ws);
    let expected = expected_cycled(CHAIN, "valid_blocks", BLOCKS_TOTAL);
    let expected_txs = expected_cycled(CHAIN, "valid_transactions", BLOCKS_TOTAL);
    let follow = |path: &'static str, want: usize| {
        let address = address.clone();
        tokio::spawn(async move {
            let mut follower = Follower::new(path);
            let first = *address.borrow();
            follower.connect(first, None).await;
            let deadline = Instant::now() + Duration::from_secs(3600);
            loop {
                match follower.read(want, deadline).await {
                    Read::Done => return follower,
                    Read::TimedOut => panic!("{path}: {} of {want} frames", follower.frames.len()),
                    Read::Disconnected => loop {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        let addr = *address.borrow();
                        let path = match follower.resume_height() {
                            Some(h) => format!("{path}?from_height={h}"),
                            None => path.to_owned(),
                        };
                        if let Ok(client) = try_connect(addr, &path).await {
                            follower.client = Some(client);
                            follower.resumes += 1;
                            break;
                        }
                    },
                }
            }
        })
    };
    let blocks = follow(BLOCKS, expected.len());
    let txs = follow(TXS, expected_txs.len());
    let mut faults = Vec::new();
    while node.current_height() < BLOCKS_TOTAL {
        let height = node.current_height();
        if height > 0 && height % FAULT_EVERY == 0 {
            let fault = (height / FAULT_EVERY) % 6;
            faults.push((height, fault));
            match fault {
                0 => node.disconnect_websockets().await,
                1 => node.cancel_subscriptions(),
                2 => node.garble_events_for(height + 1..=height + 3),
                3 => node.fail_block_results(5),
                4 => {
                    node.stop().await;
                    node.produce(20);
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    node.restart().await;
                }
                _ => {
                    service.signal("KILL");
                    let _ = service.wait(Duration::from_secs(5)).await;
                    node.produce(20);
                    service = serve(&node, data.path()).await;
                    address_tx.send_replace(service.ws);
                }
            }
        }
        // About 200 blocks a second, in bursts.
        node.produce(10.min(BLOCKS_TOTAL - node.current_height()));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let blocks = blocks.await.expect("blocks follower");
    let txs = txs.await.expect("transactions follower");
    assert_no_diffs([
        diff_lines("soak valid_blocks", &blocks.frames, &expected),
        diff_lines("soak valid_transactions", &txs.frames, &expected_txs),
    ]);
    eprintln!(
        "soak: {BLOCKS_TOTAL} blocks, {} block and {} transaction messages, each exactly once, in order; \
         {} faults {faults:?}; clients resumed {} and {} times; node dropped {} events; took {:?}",
        blocks.frames.len(),
        txs.frames.len(),
        faults.len(),
        blocks.resumes,
        txs.resumes,
        node.events_dropped(),
        started.elapsed()
    );
    service.signal("TERM");
    let (status, _) = service.wait(Duration::from_secs(5)).await;
    assert!(status.success(), "{status}");
}

/// Two nodes of the chain; the first halts (its RPC still answers, no new blocks) while
/// the second goes on: after its probe delay the service moves to the second and
/// delivers the rest, once each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leaves_a_halted_node_for_one_ahead() {
    let halted = TestNode::start(CHAIN).await;
    let going = TestNode::start(CHAIN).await;
    let endpoints = [&halted, &going]
        .map(|node| Endpoint::parse(&node.addr().to_string()))
        .into();
    let (service, mut blocks, mut txs) = following_nodes(&halted, endpoints).await;
    halted.produce_until(5);
    going.produce_until(BEFORE_BIG);
    blocks.read_all(5, || service.ws).await;
    let halted_at = Instant::now();
    // Ten seconds of silence before the probe: longer than `wait_for` waits.
    while going.subscriptions().active == 0 {
        assert!(
            halted_at.elapsed() < Duration::from_secs(30),
            "the service stayed on the halted node"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!("left the halted node after {:?}", halted_at.elapsed());
    assert_exact(
        CHAIN,
        "after leaving a halted node",
        &service,
        &mut blocks,
        &mut txs,
        BEFORE_BIG,
    )
    .await;
    service.shut_down().await;
}
