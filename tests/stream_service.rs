//! The stream service end to end: the real service (in-process, or the binary) following a
//! test CometBFT node that serves the recorded chains of `fixtures/chains/`, checked against
//! the expected stream output recorded there, plus the server's limits, keepalive and
//! shutdown behaviour. Every port is ephemeral and every wait is bounded.

mod support;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::Value;
use tokio::net::TcpSocket;
use tokio::time::{Instant, timeout};
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_util::sync::CancellationToken;

use planetmint_stream::chain::Height;
use planetmint_stream::hub::Hub;
use planetmint_stream::metrics::Metrics;
use planetmint_stream::server::ServerSettings;
use planetmint_stream::server::{self, Listeners};
use planetmint_stream::sessions::SessionSettings;
use planetmint_stream::source::chain_file;
use planetmint_stream::validate::TxId;
use planetmint_stream::wire::{EncodedBlock, PublishedTx};

use support::*;

/// How long the chain may take to come through. Validating the 740 transactions of a
/// chain takes about 14 s of CPU in a debug build (ed25519 unoptimized), and tests share
/// two cores: a bound for failures, not an expected duration.
const CHAIN_WITHIN: Duration = Duration::from_secs(120);
/// Once the last block frame has arrived, every transaction frame was published before
/// it: the transaction stream gets this long to deliver them.
const TXS_AFTER_BLOCKS: Duration = Duration::from_secs(3);

/// Every height once, in order, each with Planetmint's app hash: what the block stream
/// must get right whatever the verdicts on single transactions (the hash follows the ids
/// of the transactions the node accepted).
fn assert_heights_and_hashes(what: &str, got: &[String], expected: &[String]) {
    assert_eq!(
        heights(got),
        heights(expected),
        "{what}: valid_blocks must carry every height once, in order"
    );
    assert_eq!(
        hashes(got),
        hashes(expected),
        "{what}: valid_blocks app hashes"
    );
}

/// Reads both streams to the end of the chain and compares them with the fixtures: first
/// the block heights (every block once, in order: independent of validation), then the
/// exact frames.
async fn assert_streams_match(chain: &str, txs: &mut Client, blocks: &mut Client) {
    let expected_blocks = expected_lines(chain, "valid_blocks");
    let expected_txs = expected_lines(chain, "valid_transactions");
    let got_blocks = collect_texts(blocks, expected_blocks.len(), CHAIN_WITHIN).await;
    assert_heights_and_hashes(chain, &got_blocks, &expected_blocks);
    let got_txs = collect_texts(txs, expected_txs.len(), TXS_AFTER_BLOCKS).await;
    assert_no_more_texts(blocks, "valid_blocks", Duration::from_millis(200)).await;
    assert_no_more_texts(txs, "valid_transactions", Duration::from_millis(200)).await;
    assert_no_diffs([
        diff_lines(
            &format!("{chain} valid_blocks"),
            &got_blocks,
            &expected_blocks,
        ),
        diff_lines(
            &format!("{chain} valid_transactions"),
            &got_txs,
            &expected_txs,
        ),
    ]);
}

/// (a) Clients connected before the first block get exactly the fixture streams.
async fn streams_match_fixtures(chain: &str) {
    let node = TestNode::start(chain).await;
    let service = Service::follow(&node, server_args()).await;
    let mut txs = connect(service.ws, TXS).await;
    let mut blocks = connect(service.ws, BLOCKS).await;
    // The service follows from the first NewBlock event it sees: subscribe before block 1.
    node.wait_for("the service to subscribe", |s| s.active == 1)
        .await;
    node.produce_until(node.last_height());
    assert_streams_match(chain, &mut txs, &mut blocks).await;
    service.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tendermint_0_34_streams_match_fixtures() {
    streams_match_fixtures(CHAINS[0]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cometbft_0_38_streams_match_fixtures() {
    streams_match_fixtures(CHAINS[1]).await;
}

/// A test node on `chain`, the service following it, and a client on each stream, once
/// blocks `1..=height` have reached the blocks client (returned as the last element).
async fn following(chain: &str, height: u64) -> (TestNode, Service, Client, Client, Vec<String>) {
    let node = TestNode::start(chain).await;
    let service = Service::follow(&node, server_args()).await;
    let txs = connect(service.ws, TXS).await;
    let mut blocks = connect(service.ws, BLOCKS).await;
    node.wait_for("the service to subscribe", |s| s.active == 1)
        .await;
    node.produce_until(height);
    let first = collect_texts(&mut blocks, height as usize, CHAIN_WITHIN).await;
    assert_eq!(heights(&first), (1..=height).collect::<Vec<_>>());
    (node, service, txs, blocks, first)
}

/// (h) The node drops the service's websocket; blocks made meanwhile, and blocks whose
/// event never comes, are fetched over HTTP: no gap, no duplicate. The chain is followed
/// up to `last`.
async fn survives_node_disconnect(chain: &str, last: u64) {
    let (node, service, mut txs, mut blocks, first) = following(chain, 10).await;

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

    let mut rest = collect_texts(&mut blocks, last as usize - 10, CHAIN_WITHIN).await;
    let mut all_blocks = first;
    all_blocks.append(&mut rest);
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
    let got_txs = collect_texts(&mut txs, expected_txs.len(), TXS_AFTER_BLOCKS).await;
    assert_no_more_texts(&mut txs, "valid_transactions", Duration::from_millis(200)).await;
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
    survives_node_disconnect(CHAINS[0], 23).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cometbft_0_38_survives_node_disconnect() {
    survives_node_disconnect(CHAINS[1], 47).await;
}

/// The planetmint_stream_node_reconnects_total counter from /metrics.
async fn reconnects(http: &reqwest::Client, service: &Service) -> u64 {
    let text = http
        .get(format!("http://{}/metrics", service.api))
        .send()
        .await
        .expect("GET /metrics")
        .text()
        .await
        .expect("metrics body");
    text.lines()
        .find_map(|line| line.strip_prefix("planetmint_stream_node_reconnects_total "))
        .expect("reconnect counter")
        .parse()
        .expect("counter value")
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
    const LAST: u64 = 23;
    let (mut node, service, mut txs, mut blocks, first) = following(chain, 5).await;
    let http = reqwest::Client::new();

    node.stop().await;
    node.produce_until(8);
    // Wait until the service has lost the node and failed to reach it at least once more.
    timeout(Duration::from_secs(10), async {
        while reconnects(&http, &service).await < 2 {
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

    let mut rest = collect_texts(&mut blocks, LAST as usize - 5, CHAIN_WITHIN).await;
    let mut all_blocks = first;
    all_blocks.append(&mut rest);
    let expected_blocks = expected_until(chain, "valid_blocks", LAST);
    assert_heights_and_hashes("after a node restart", &all_blocks, &expected_blocks);
    // 6-8 were made while the node was down, 9 had no event: all four fetched, only them.
    assert_eq!(node.blocks_served(), BTreeSet::from([6, 7, 8, 9]));
    let expected_txs = expected_until(chain, "valid_transactions", LAST);
    let got_txs = collect_texts(&mut txs, expected_txs.len(), TXS_AFTER_BLOCKS).await;
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

/// (b) The API root in Planetmint's shape, CORS, 404 on the stream port, /metrics.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_root_cors_and_metrics() {
    let node = TestNode::start(CHAINS[1]).await;
    let args = ServerSettings {
        advertised_ws_url: "wss://example.org:443".into(),
        ..server_args()
    };
    let service = Service::follow(&node, args).await;
    let http = reqwest::Client::new();
    let get = |url: String| {
        let request = http.get(url);
        async move {
            timeout(Duration::from_secs(5), request.send())
                .await
                .expect("HTTP request timed out")
                .expect("HTTP request failed")
        }
    };
    let api = format!("http://{}", service.api);

    let root = get(format!("{api}/")).await;
    assert_eq!(root.status(), 200);
    let root: Value =
        serde_json::from_str(&root.text().await.expect("root body")).expect("root is JSON");
    let v1 = &root["api"]["v1"];
    assert_eq!(
        v1["streams"], "wss://example.org:443/api/v1/streams/valid_transactions",
        "{root}"
    );
    assert_eq!(
        v1["streamedblocks"], "wss://example.org:443/api/v1/streams/valid_blocks",
        "{root}"
    );
    assert!(
        v1["docs"]
            .as_str()
            .is_some_and(|d| d.starts_with("https://")),
        "{root}"
    );
    assert!(
        root["docs"]
            .as_str()
            .is_some_and(|d| d.starts_with("https://")),
        "{root}"
    );
    assert_eq!(root["software"], "planetmint-stream", "{root}");
    assert_eq!(root["version"], env!("CARGO_PKG_VERSION"), "{root}");

    for path in ["/api/v1", "/api/v1/"] {
        let response = get(format!("{api}{path}")).await;
        assert_eq!(response.status(), 200, "{path}");
        let body: Value =
            serde_json::from_str(&response.text().await.expect("v1 body")).expect("v1 is JSON");
        assert_eq!(&body, v1, "GET {path} must return the root's api.v1");
    }

    let cors = timeout(
        Duration::from_secs(5),
        http.get(format!("{api}/api/v1/"))
            .header("Origin", "https://wallet.example")
            .send(),
    )
    .await
    .expect("CORS request timed out")
    .expect("CORS request failed");
    assert_eq!(
        cors.headers()
            .get("access-control-allow-origin")
            .map(|v| v.to_str().unwrap()),
        Some("*")
    );

    for path in [
        "/",
        "/api/v1/streams/nope",
        "/api/v1/streams/valid_transactions/x",
    ] {
        let response = get(format!("http://{}{path}", service.ws)).await;
        assert_eq!(response.status(), 404, "GET {path} on the stream port");
    }
    for path in ["/nope", "/api/v2/"] {
        let response = get(format!("{api}{path}")).await;
        assert_eq!(response.status(), 404, "GET {path} on the API port");
    }

    let metrics = get(format!("{api}/metrics")).await;
    assert_eq!(metrics.status(), 200);
    let content_type = metrics.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    let text = metrics.text().await.expect("metrics body");
    assert!(
        text.contains("# TYPE planetmint_stream_subscribers gauge\n"),
        "{text}"
    );
    assert!(
        text.contains("# TYPE planetmint_stream_blocks_total counter\n"),
        "{text}"
    );
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let (name, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("bad sample line {line:?}"));
        assert!(
            name.starts_with("planetmint_stream_"),
            "bad metric name in {line:?}"
        );
        value
            .parse::<f64>()
            .unwrap_or_else(|_| panic!("bad sample value in {line:?}"));
    }
    service.shut_down().await;
}

fn pinging_args(ping_ms: u64, idle_ms: u64) -> ServerSettings {
    ServerSettings {
        session: SessionSettings {
            ping_interval: Duration::from_millis(ping_ms),
            idle_timeout: Duration::from_millis(idle_ms),
        },
        ..server_args()
    }
}

/// (c) The server pings every subscriber.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_pings_subscribers() {
    let node = TestNode::start(CHAINS[1]).await;
    let service = Service::follow(&node, pinging_args(200, 2_000)).await;
    let mut client = connect(service.ws, TXS).await;
    let started = Instant::now();
    let mut pings = 0;
    while pings < 3 {
        match timeout(Duration::from_secs(2), client.next()).await {
            Ok(Some(Ok(Message::Ping(_)))) => pings += 1,
            other => panic!("expected a ping, got {other:?}"),
        }
    }
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(500) && elapsed < Duration::from_secs(3),
        "3 pings 200 ms apart took {elapsed:?}"
    );
    service.shut_down().await;
}

/// (c) A client that talks (text messages, pings) keeps its stream and gets its pongs,
/// well past the idle timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chatty_client_keeps_its_stream() {
    let node = TestNode::start(CHAINS[1]).await;
    let service = Service::follow(&node, pinging_args(200, 1_000)).await;
    let mut client = connect(service.ws, BLOCKS).await;
    node.wait_for("the service to subscribe", |s| s.active == 1)
        .await;
    // 20 blocks 100 ms apart: twice the idle timeout (and before the chain's big block).
    const BLOCKS_WANTED: u64 = 20;
    let talk = async {
        let mut texts = Vec::new();
        let mut pongs = Vec::new();
        let mut sent_pings = 0u32;
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        while (texts.len() as u64) < BLOCKS_WANTED {
            tokio::select! {
                _ = tick.tick() => {
                    sent_pings += 1;
                    client.send(Message::text("hello")).await.expect("sending text");
                    client
                        .send(Message::Ping(sent_pings.to_be_bytes().to_vec().into()))
                        .await
                        .expect("sending ping");
                }
                message = client.next() => match message {
                    Some(Ok(Message::Text(text))) => texts.push(text.as_str().to_owned()),
                    Some(Ok(Message::Pong(payload))) => pongs.push(u32::from_be_bytes(payload[..].try_into().unwrap())),
                    Some(Ok(Message::Ping(_))) => {}
                    other => panic!("chatty client lost its stream: {other:?}"),
                },
            }
        }
        (texts, pongs, sent_pings)
    };
    let produce = node.produce_until_paced(BLOCKS_WANTED, Duration::from_millis(100));
    let ((texts, pongs, sent), ()) = timeout(Duration::from_secs(10), async {
        tokio::join!(talk, produce)
    })
    .await
    .expect("the chatty client did not get its blocks in time");
    assert_eq!(heights(&texts), (1..=BLOCKS_WANTED).collect::<Vec<_>>());
    // Every ping answered, in order (the last one may still be in flight).
    assert!(
        sent >= 15,
        "the test should have run well past the idle timeout"
    );
    assert!(
        pongs.len() as u32 >= sent - 1,
        "sent {sent} pings, got pongs {pongs:?}"
    );
    assert_eq!(pongs, (1..=pongs.len() as u32).collect::<Vec<_>>());
    service.shut_down().await;
}

/// (c) A client message over 64 KiB ends the session with 1009.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_client_message_closes_with_1009() {
    let node = TestNode::start(CHAINS[1]).await;
    let service = Service::follow(&node, server_args()).await;
    let mut client = connect(service.ws, TXS).await;
    client
        .send(Message::text("x".repeat(100 << 10)))
        .await
        .expect("sending 100 KiB");
    let (code, reason) = expect_close(&mut client, Duration::from_secs(5)).await;
    assert_eq!((code, reason.as_str()), (1009, "message too big"));
    service.shut_down().await;
}

/// (d) A client that never sends anything (not even a pong) is closed after the idle
/// timeout, having been pinged meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_client_is_closed_after_idle_timeout() {
    let node = TestNode::start(CHAINS[1]).await;
    let service = Service::follow(&node, pinging_args(200, 500)).await;
    let mut client = RawClient::connect(service.ws, TXS).await;
    let connected = Instant::now();
    let deadline = connected + Duration::from_secs(3);
    let mut pings = 0;
    let close = loop {
        match client.next_frame(deadline).await {
            Some(frame) if frame.opcode == 0x9 => pings += 1,
            Some(frame) if frame.opcode == 0x8 => break frame.payload,
            Some(frame) => panic!("unexpected frame {frame:?}"),
            None => panic!("connection ended without a close frame"),
        }
    };
    let elapsed = connected.elapsed();
    assert!(close.len() >= 2, "close frame without a code");
    let code = u16::from_be_bytes([close[0], close[1]]);
    assert_eq!(
        (code, String::from_utf8_lossy(&close[2..]).as_ref()),
        (1000, "idle timeout")
    );
    assert!(
        pings >= 2,
        "a silent client is still pinged (got {pings} pings)"
    );
    assert!(
        elapsed >= Duration::from_millis(450) && elapsed < Duration::from_secs(3),
        "closed {elapsed:?} after connecting; the idle timeout is 500 ms"
    );
    assert!(
        client
            .next_frame(Instant::now() + Duration::from_secs(2))
            .await
            .is_none(),
        "the server must hang up after its close frame"
    );
    service.shut_down().await;
}

/// (e) Past `max_clients`, upgrades get 503; a slot frees when a client leaves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_clients_refuses_with_503() {
    let node = TestNode::start(CHAINS[1]).await;
    let mut args = server_args();
    args.max_clients = 2;
    let service = Service::follow(&node, args).await;
    let mut first = connect(service.ws, TXS).await;
    let _second = connect(service.ws, BLOCKS).await;
    for path in [TXS, BLOCKS] {
        match try_connect(service.ws, path).await {
            Err(tungstenite::Error::Http(response)) => assert_eq!(response.status(), 503),
            Err(other) => panic!("third client: expected HTTP 503, got {other}"),
            Ok(_) => panic!("third client on {path} was accepted past max_clients = 2"),
        }
    }
    first.close(None).await.expect("closing the first client");
    // The server releases the slot when it sees the close; retry until it has.
    let admitted = timeout(Duration::from_secs(5), async {
        loop {
            match try_connect(service.ws, TXS).await {
                Ok(client) => return client,
                Err(tungstenite::Error::Http(response)) if response.status() == 503 => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(other) => panic!("reconnecting: {other}"),
            }
        }
    })
    .await;
    assert!(
        admitted.is_ok(),
        "the slot of a client that left was never freed"
    );
    service.shut_down().await;
}

/// (f) Cancelling the shutdown token closes every subscriber with 1001, and
/// `service::run` returns within 5 s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_closes_every_client_with_1001() {
    let node = TestNode::start(CHAINS[1]).await;
    let service = Service::follow(&node, server_args()).await;
    let mut clients = Vec::new();
    for path in [TXS, TXS, BLOCKS, BLOCKS] {
        clients.push(connect(service.ws, path).await);
    }
    node.wait_for("the service to subscribe", |s| s.active == 1)
        .await;
    node.produce_until(4);
    let shutdown = service.shutdown.clone();
    let run = tokio::spawn(service.shut_down());
    for client in &mut clients {
        let (code, reason) = expect_close(client, Duration::from_secs(5)).await;
        assert_eq!((code, reason.as_str()), (1001, "server shutting down"));
    }
    let took = run.await.expect("shutdown task");
    assert!(shutdown.is_cancelled());
    assert!(
        took < Duration::from_secs(5),
        "service::run took {took:?} to return"
    );
}

/// (f) The binary, replaying a chain file, exits 0 on SIGTERM within 5 s after closing
/// its subscribers with 1001.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_exits_cleanly_on_sigterm() {
    let chain = fixture("chains/cometbft-0.38.chain.jsonl");
    let binary = Binary::start(
        [
            "replay".as_ref(),
            chain.as_os_str(),
            "--interval".as_ref(),
            "10ms".as_ref(),
        ],
        &[],
    )
    .await;
    let mut blocks = connect(binary.ws, BLOCKS).await;
    let mut txs = connect(binary.ws, TXS).await;

    let signalled = Instant::now();
    binary.signal("TERM");
    for client in [&mut blocks, &mut txs] {
        let (code, reason) = expect_close(client, Duration::from_secs(5)).await;
        assert_eq!((code, reason.as_str()), (1001, "server shutting down"));
    }
    let (status, rest) = binary
        .wait(Duration::from_secs(5).saturating_sub(signalled.elapsed()))
        .await;
    assert!(status.success(), "exit status {status}");
    assert!(
        rest.iter().any(|l| l.contains("shut down")),
        "no `shut down` log line after SIGTERM:\n{}",
        rest.join("\n")
    );
}

/// A block of `transactions` published transactions of 20 asset ids each (~1.5 KB frames).
fn big_block(height: u64, transactions: usize) -> EncodedBlock {
    let published: Vec<(String, Vec<String>)> = (0..transactions)
        .map(|i| {
            let id = TxId::of(format!("tx {height} {i}").as_bytes()).to_string();
            let assets = (0..20)
                .map(|k| format!("{height:016x}{i:016x}{k:032x}"))
                .collect();
            (id, assets)
        })
        .collect();
    let published: Vec<PublishedTx> = published
        .iter()
        .map(|(id, asset_ids)| PublishedTx { id, asset_ids })
        .collect();
    let height = Height::new(height).expect("positive height");
    EncodedBlock::encode(height, &"ab".repeat(32), &published)
}

/// (g) A client that reads slowly is closed with 1008 "slow consumer" while a fast client
/// on the same stream gets every frame, in block order, on time.
///
/// The slow client reads one message every 20 ms while the blocks are published, then
/// reads as fast as it can until its close frame: what it reads first is what the kernel
/// had buffered for it (the server's send buffer autotunes up to `tcp_wmem` max, 4 MiB by
/// default; the listener caps it lower) before the server noticed it had fallen a whole
/// queue (one block) behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_consumer_is_closed_while_fast_client_keeps_up() {
    const BLOCKS_PUBLISHED: u64 = 10;
    const PER_BLOCK: usize = 500;
    let args = ServerSettings {
        subscriber_queue_blocks: 1,
        ..server_args()
    };
    let listeners = Listeners::bind(&args).await.expect("binding");
    let ws = listeners.ws_addr().expect("ws address");
    let metrics = Arc::new(Metrics::default());
    let hub = Hub::new(args.subscriber_queue_blocks, metrics.clone());
    let shutdown = CancellationToken::new();
    let server = tokio::spawn({
        let (hub, metrics, shutdown) = (hub.clone(), metrics.clone(), shutdown.clone());
        async move { server::serve(listeners, &args, hub, memory_store(), metrics, shutdown).await }
    });
    let blocks: Vec<EncodedBlock> = (1..=BLOCKS_PUBLISHED)
        .map(|h| big_block(h, PER_BLOCK))
        .collect();

    let mut fast = connect(ws, TXS).await;
    let slow_socket = TcpSocket::new_v4().expect("socket");
    slow_socket.set_recv_buffer_size(4096).expect("SO_RCVBUF");
    let slow_tcp = slow_socket.connect(ws).await.expect("slow connect");
    let (mut slow, _) = tokio_tungstenite::client_async(ws_url(ws, TXS), slow_tcp)
        .await
        .expect("slow handshake");
    let publishing = CancellationToken::new();
    let slow_reader = tokio::spawn({
        let publishing = publishing.clone();
        async move {
            let mut read = 0usize;
            loop {
                if !publishing.is_cancelled() {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                match slow.next().await {
                    Some(Ok(Message::Close(Some(frame)))) => {
                        return Ok((
                            u16::from(frame.code),
                            frame.reason.as_str().to_owned(),
                            read,
                        ));
                    }
                    Some(Ok(Message::Text(_))) => read += 1,
                    Some(Ok(_)) => {}
                    other => {
                        return Err(format!(
                            "slow client ended without a close frame after {read} frames: {other:?}"
                        ));
                    }
                }
            }
        }
    });

    let mut worst = Duration::ZERO;
    for block in &blocks {
        let height = block.height;
        let expected: Vec<String> = block
            .transactions
            .iter()
            .map(|f| f.as_str().to_owned())
            .collect();
        assert!(
            expected[0].len() > 1400,
            "frames should be big: {} bytes",
            expected[0].len()
        );
        let published = Instant::now();
        hub.publish(block, None);
        let got = collect_texts(&mut fast, PER_BLOCK, Duration::from_secs(5)).await;
        let took = published.elapsed();
        worst = worst.max(took);
        assert_no_diffs([diff_lines(
            &format!("fast client, block {height}"),
            &got,
            &expected,
        )]);
        assert!(
            took < Duration::from_secs(1),
            "the fast client got block {height} {took:?} after it was published"
        );
    }
    // Publishing is over: the slow client now drains what was buffered for it.
    publishing.cancel();
    let (code, reason, read) = timeout(Duration::from_secs(15), slow_reader)
        .await
        .expect("the slow client got no close frame within 15 s")
        .expect("slow reader task")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((code, reason.as_str()), (1008, "slow consumer"));
    assert!(
        read < BLOCKS_PUBLISHED as usize * PER_BLOCK,
        "the slow client read everything ({read} frames): it was not slow"
    );
    let closed = metrics.render().lines().find_map(|l| {
        l.strip_prefix("planetmint_stream_slow_consumers_closed_total ")
            .map(str::to_owned)
    });
    assert_eq!(
        closed.as_deref(),
        Some("1"),
        "only the slow client is a slow consumer"
    );
    eprintln!(
        "slow consumer: read {read} frames before its close; fast client: worst block latency {worst:?}"
    );
    assert_no_more_texts(&mut fast, "fast client", Duration::from_millis(100)).await;
    shutdown.cancel();
    let (code, _) = expect_close(&mut fast, Duration::from_secs(5)).await;
    assert_eq!(code, 1001, "the fast client stays until shutdown");
    timeout(Duration::from_secs(5), server)
        .await
        .expect("server did not stop")
        .expect("server task")
        .expect("server");
}

/// `record` against the test node (its GET endpoints) writes back the chain file's block
/// lines byte for byte, and a status naming the produced height.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn record_reproduces_the_chain_files() {
    for chain in CHAINS {
        let node = TestNode::start(chain).await;
        node.produce_until(node.last_height());
        let mut out = Vec::new();
        let written = timeout(
            Duration::from_secs(20),
            chain_file::record(
                &node_args(&node).endpoints[0],
                None,
                Height::new(1).unwrap(),
                None,
                &mut out,
            ),
        )
        .await
        .expect("record timed out")
        .expect("record");
        assert_eq!(written, node.last_height());
        let out = String::from_utf8(out).expect("UTF-8");
        let mut lines = out.lines();
        let status = chain_file::parse_status(lines.next().expect("status line")).expect("status");
        assert_eq!(
            status.sync_info.latest_block_height.value(),
            node.last_height()
        );
        let file =
            std::fs::read_to_string(fixture(&format!("chains/{chain}.chain.jsonl"))).unwrap();
        let recorded: Vec<String> = lines.map(str::to_owned).collect();
        let expected: Vec<String> = file.lines().skip(1).map(str::to_owned).collect();
        assert_no_diffs([diff_lines(
            &format!("{chain} recorded"),
            &recorded,
            &expected,
        )]);
    }
}
