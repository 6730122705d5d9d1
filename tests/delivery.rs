//! Delivery guarantees: every published message exactly once, in order, across client
//! reconnects (`?from_height=N`), node faults and service restarts; and the operator's
//! signals (`/health`, `/ready`, `/metrics`).
//!
//! Expected messages are the fixture files computed by Planetmint's own library
//! (`tools/gen_chains.py`), never our own output.

mod support;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt as _;
use serde_json::Value;
use tokio::time::{Instant, timeout_at};
use tokio_tungstenite::tungstenite::{self, Message};

use planetmint_stream::chain::Height;
use planetmint_stream::server::ServerSettings;
use planetmint_stream::service::ServiceError;
use planetmint_stream::source::SourceError;
use planetmint_stream::source::chain_file::{Replay, ReplayOptions};
use planetmint_stream::source::node::{Endpoint, Follow, NodeSettings};
use planetmint_stream::store::{Store, StoreError};

use support::*;

/// The CometBFT 0.38 chain: its blocks carry their results, so following it is quick.
const CHAIN: &str = CHAINS[1];
/// The last height before the chain's 523-transaction block, slow to validate in a debug
/// build: tests that need no big block stop here.
const BEFORE_BIG: u64 = 23;
/// A bound for failures, not an expected duration (debug builds, two shared cores).
const WITHIN: Duration = Duration::from_secs(60);

/// A stream client that reconnects where it left off, as a client application would:
/// `valid_blocks` from the height after the last block it got; `valid_transactions` from
/// the last height it got (it may have been cut off inside that block), dropping the
/// transactions of that height it already has.
struct Follower {
    path: &'static str,
    frames: Vec<String>,
    /// `(height, transaction_id)` of every transaction frame, to drop repeats of the
    /// height it resumed at (the documented client recipe). Never used for blocks.
    seen: HashSet<(u64, String)>,
    client: Option<Client>,
    resumes: usize,
}

/// How a [`Follower::read`] ended.
#[derive(Debug, PartialEq, Eq)]
enum Read {
    Done,
    Disconnected,
    TimedOut,
}

impl Follower {
    fn new(path: &'static str) -> Follower {
        Follower {
            path,
            frames: Vec::new(),
            seen: HashSet::new(),
            client: None,
            resumes: 0,
        }
    }

    /// A live client on each stream.
    async fn live_pair(ws: SocketAddr) -> (Follower, Follower) {
        let (mut blocks, mut txs) = (Follower::new(BLOCKS), Follower::new(TXS));
        blocks.connect(ws, None).await;
        txs.connect(ws, None).await;
        (blocks, txs)
    }

    /// The `from_height` to resume with (none before the first frame).
    fn resume_height(&self) -> Option<u64> {
        let last = heights(std::slice::from_ref(self.frames.last()?))[0];
        Some(if self.path == BLOCKS { last + 1 } else { last })
    }

    /// Connects, resuming after what it has (or live, with nothing yet, unless `from`).
    async fn connect(&mut self, addr: SocketAddr, from: Option<u64>) {
        let path = match from.or(self.resume_height()) {
            Some(height) => {
                self.resumes += 1;
                format!("{}?from_height={height}", self.path)
            }
            None => self.path.to_owned(),
        };
        self.client = Some(connect(addr, &path).await);
    }

    /// Reads until it has `want` frames, the connection ends, or `deadline`.
    async fn read(&mut self, want: usize, deadline: Instant) -> Read {
        let Some(client) = self.client.as_mut() else {
            return Read::Disconnected;
        };
        while self.frames.len() < want {
            match timeout_at(deadline, client.next()).await {
                Err(_) => return Read::TimedOut,
                Ok(Some(Ok(Message::Text(text)))) => {
                    let text = text.as_str().to_owned();
                    if self.path == TXS {
                        let value: Value = serde_json::from_str(&text).expect("JSON frame");
                        let key = (
                            value["height"].as_u64().expect("height"),
                            value["transaction_id"].as_str().expect("id").to_owned(),
                        );
                        if !self.seen.insert(key) {
                            continue;
                        }
                    }
                    self.frames.push(text);
                }
                Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => {}
                Ok(_) => {
                    self.client = None;
                    return Read::Disconnected;
                }
            }
        }
        Read::Done
    }

    /// Reads `want` frames in all, reconnecting to `addr()` whenever cut off.
    async fn read_all(&mut self, want: usize, addr: impl Fn() -> SocketAddr) {
        let deadline = Instant::now() + WITHIN;
        loop {
            match self.read(want, deadline).await {
                Read::Done => return,
                Read::TimedOut => panic!(
                    "{}: {} of {want} frames after {WITHIN:?}",
                    self.path,
                    self.frames.len()
                ),
                Read::Disconnected => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    self.connect(addr(), None).await;
                }
            }
        }
    }
}

/// A node on [`CHAIN`] and the service following it (fresh in-memory store), subscribed.
async fn node_and_service(args: ServerSettings) -> (TestNode, Service) {
    let node = TestNode::start(CHAIN).await;
    let service = Service::follow(&node, args).await;
    node.wait_for("the service to subscribe", |s| s.active == 1)
        .await;
    (node, service)
}

/// Produces up to `height` and waits until a live client has every block up to it (so
/// they are stored).
async fn produce_and_settle(node: &TestNode, service: &Service, height: u64) {
    let mut live = connect(service.ws, BLOCKS).await;
    let before = node.current_height();
    node.produce_until(height);
    let got = collect_texts(&mut live, (height - before) as usize, WITHIN).await;
    assert_eq!(
        heights(&got),
        (before + 1..=height).collect::<Vec<_>>(),
        "a live client"
    );
}

/// Clients resuming from a height get the stored history, then live blocks, with no gap
/// and no duplicate at the hand-over; a height beyond the head is waited for.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resumed_clients_get_history_then_live() {
    let (node, service) = node_and_service(server_args()).await;
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
    let (node, service) = node_and_service(server_args()).await;
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
    let metrics = get_text(service.api, "/metrics").await.1;
    assert_eq!(
        metric(&metrics, "planetmint_stream_refused_resumes_total"),
        2
    );
    service.shut_down().await;
}

/// GET `path` on `addr`: status and body.
async fn get_text(addr: SocketAddr, path: &str) -> (u16, String) {
    let response = reqwest::get(format!("http://{addr}{path}"))
        .await
        .unwrap_or_else(|e| panic!("GET {path}: {e}"));
    let status = response.status().as_u16();
    (status, response.text().await.expect("body"))
}

/// The value of an unlabelled metric.
fn metric(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no metric {name} in:\n{text}"))
        .parse::<f64>()
        .expect("metric value") as u64
}

/// Waits until `/ready` reports `height` published.
async fn wait_for_height(api: SocketAddr, height: u64) {
    let deadline = Instant::now() + WITHIN;
    loop {
        let (_, body) = get_text(api, "/ready").await;
        let ready: Value = serde_json::from_str(&body).expect("JSON");
        if ready["last_height"].as_u64() >= Some(height) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "height {height} never published: {body}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `/health` answers while the process runs; `/ready` is 200 while following the node
/// and 503 (saying why) while it is gone; `/metrics` counts what happened.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_ready_and_metrics() {
    let (mut node, service) = node_and_service(server_args()).await;
    produce_and_settle(&node, &service, 6).await;
    assert_eq!(get_text(service.api, "/health").await, (200, "ok\n".into()));
    let (status, body) = get_text(service.api, "/ready").await;
    assert_eq!(status, 200, "{body}");
    let ready: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(ready["ready"], true);
    assert_eq!(ready["connected"], true);
    assert_eq!(ready["last_height"], 6);
    assert_eq!(ready["lag"], 0);
    assert_eq!(ready["node"]["dialect"], "v0.38");
    assert_eq!(ready["node"]["chain_id"], "planetmint-test");

    node.stop().await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let body = loop {
        let (status, body) = get_text(service.api, "/ready").await;
        if status == 503 {
            break body;
        }
        assert!(Instant::now() < deadline, "/ready stayed {status}: {body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let ready: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(ready["ready"], false);
    assert_eq!(ready["reasons"][0], "not connected to a node");
    assert_eq!(get_text(service.api, "/health").await.0, 200);

    node.skip_events_for([8]);
    node.produce_until(8);
    node.restart().await;
    node.wait_for("the service to resubscribe", |s| s.active == 1)
        .await;
    wait_for_height(service.api, 8).await;
    produce_and_settle(&node, &service, 10).await;
    let (status, body) = get_text(service.api, "/ready").await;
    assert_eq!(status, 200, "{body}");
    let text = get_text(service.api, "/metrics").await.1;
    assert_eq!(metric(&text, "planetmint_stream_blocks_total"), 10);
    assert_eq!(metric(&text, "planetmint_stream_last_height"), 10);
    assert_eq!(metric(&text, "planetmint_stream_node_height"), 10);
    assert_eq!(metric(&text, "planetmint_stream_lag_blocks"), 0);
    assert_eq!(metric(&text, "planetmint_stream_node_connected"), 1);
    // 7 and 8 came over HTTP: made while the node was down, and without an event.
    assert_eq!(
        metric(&text, "planetmint_stream_backfilled_blocks_total"),
        2
    );
    assert!(metric(&text, "planetmint_stream_node_reconnects_total") >= 1);
    // Live blocks reached live clients: every one was timed.
    assert!(metric(&text, "planetmint_stream_event_to_send_seconds_count") >= 8);
    service.shut_down().await;
}

/// A store bound to another chain is refused: the service stops with the store's error
/// instead of mixing two chains' heights.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_of_another_chain_is_refused() {
    let node = TestNode::start(CHAIN).await;
    node.produce_until(2);
    let store = Arc::new(Store::in_memory(10).expect("store"));
    store.claim_chain("another-chain").expect("claim");
    let source = Follow {
        settings: node_args(&node),
        start: None,
    };
    let service = Service::start_with(source, store.clone(), server_args()).await;
    match service.join(Duration::from_secs(10)).await {
        Err(ServiceError::Source(SourceError::Store(StoreError::OtherChain { stored, node }))) => {
            assert_eq!(
                (stored.as_str(), node.as_str()),
                ("another-chain", "planetmint-test")
            );
        }
        other => panic!("expected the other-chain refusal, got {other:?}"),
    }
    assert_eq!(store.last_height(), None, "nothing was stored");
}

/// With `start` = 1 a fresh store streams the whole chain, though the node is far ahead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_height_one_streams_the_whole_chain() {
    let node = TestNode::start(CHAIN).await;
    node.produce_until(BEFORE_BIG);
    let source = Follow {
        settings: node_args(&node),
        start: Height::new(1),
    };
    let store = memory_store();
    let service = Service::start_with(source, store.clone(), server_args()).await;
    node.wait_for("the service to subscribe", |s| s.active == 1)
        .await;
    let mut blocks = connect(service.ws, &format!("{BLOCKS}?from_height=1")).await;
    let expected = expected_range(CHAIN, "valid_blocks", 1, BEFORE_BIG);
    let got = collect_texts(&mut blocks, expected.len(), WITHIN).await;
    assert_no_diffs([diff_lines("the whole chain", &got, &expected)]);
    assert_eq!(node.blocks_served().len() as u64, BEFORE_BIG);
    service.shut_down().await;
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
    let settings = NodeSettings {
        endpoints: vec![
            Endpoint::parse(&first.addr().to_string()),
            Endpoint::parse(&format!("http://{}", second.addr())),
        ],
        ..node_args(&first)
    };
    let service = Service::start(
        Follow {
            settings,
            start: None,
        },
        server_args(),
    )
    .await;
    first
        .wait_for("the service to subscribe to the first node", |s| {
            s.active == 1
        })
        .await;
    let (mut blocks, mut txs) = Follower::live_pair(service.ws).await;
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

/// The binary following `node`, its store in `data`.
async fn serve(node: &TestNode, data: &TempDir) -> Binary {
    let port = node.addr().port().to_string();
    let args = [
        "serve".as_ref(),
        "--data-dir".as_ref(),
        data.path().as_os_str(),
    ];
    let env = [
        ("PLANETMINT_TENDERMINT_HOST", "127.0.0.1"),
        ("PLANETMINT_TENDERMINT_PORT", port.as_str()),
    ];
    Binary::start(args, &env).await
}

/// The service binary killed with SIGKILL while blocks keep coming, and started again on
/// its data directory: it continues after its last stored height, and clients resuming
/// from where they were cut off get every message exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_service_resumes_from_its_store() {
    const LAST: u64 = BEFORE_BIG;
    let node = Arc::new(TestNode::start(CHAIN).await);
    let data = TempDir::new("killed");
    let service = serve(&node, &data).await;
    node.wait_for("the service to subscribe", |s| s.active == 1)
        .await;
    let (mut blocks, mut txs) = Follower::live_pair(service.ws).await;
    let producing = tokio::spawn({
        let node = node.clone();
        async move {
            node.produce_until_paced(LAST, Duration::from_millis(40))
                .await
        }
    });
    let deadline = Instant::now() + WITHIN;
    assert_eq!(blocks.read(6, deadline).await, Read::Done);
    service.signal("KILL");
    let (status, _) = service.wait(Duration::from_secs(5)).await;
    assert!(!status.success(), "SIGKILL: {status}");
    // Blocks keep coming while the service is down.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let service = serve(&node, &data).await;
    assert!(
        service.startup.iter().all(|l| !l.contains("ERROR")),
        "{:?}",
        service.startup
    );
    producing.await.expect("producing");
    assert_received(
        CHAIN,
        "across a SIGKILL",
        service.ws,
        &mut blocks,
        &mut txs,
        LAST,
    )
    .await;
    let expected = expected_range(CHAIN, "valid_blocks", 1, LAST);
    assert!(blocks.resumes >= 1 && txs.resumes >= 1);
    // The history survived the kill: a new client gets the whole chain.
    let mut all = connect(service.ws, &format!("{BLOCKS}?from_height=1")).await;
    let got = collect_texts(&mut all, expected.len(), WITHIN).await;
    assert_no_diffs([diff_lines("history after a SIGKILL", &got, &expected)]);
    // The restarted service published only what the first had not stored.
    let text = get_text(service.api, "/metrics").await.1;
    let republished = metric(&text, "planetmint_stream_blocks_total");
    assert!(
        republished < LAST - 5,
        "the restarted service published {republished} blocks"
    );
    service.signal("TERM");
    let (status, _) = service.wait(Duration::from_secs(5)).await;
    assert!(status.success(), "{status}");
}

/// A node on `chain`, the service following it, and a client on each stream, once blocks
/// `1..=height` have reached the blocks client.
async fn following(chain: &str, height: u64) -> (TestNode, Service, Follower, Follower) {
    let node = TestNode::start(chain).await;
    let service = Service::follow(&node, server_args()).await;
    node.wait_for("the service to subscribe", |s| s.active == 1)
        .await;
    let (mut blocks, txs) = Follower::live_pair(service.ws).await;
    node.produce_until(height);
    blocks.read_all(height as usize, || service.ws).await;
    (node, service, blocks, txs)
}

/// Reads both clients (reconnecting to `ws` when cut off) up to the chain's messages of
/// heights `1..=last`, and asserts they got exactly those.
async fn assert_received(
    chain: &str,
    what: &str,
    ws: SocketAddr,
    blocks: &mut Follower,
    txs: &mut Follower,
    last: u64,
) {
    let expected = expected_range(chain, "valid_blocks", 1, last);
    let expected_txs = expected_range(chain, "valid_transactions", 1, last);
    blocks.read_all(expected.len(), || ws).await;
    txs.read_all(expected_txs.len(), || ws).await;
    assert_no_diffs([
        diff_lines(&format!("valid_blocks, {what}"), &blocks.frames, &expected),
        diff_lines(
            &format!("valid_transactions, {what}"),
            &txs.frames,
            &expected_txs,
        ),
    ]);
}

/// [`assert_received`], with neither client ever cut off, and nothing more coming.
async fn assert_exact(
    chain: &str,
    what: &str,
    service: &Service,
    blocks: &mut Follower,
    txs: &mut Follower,
    last: u64,
) {
    assert_received(chain, what, service.ws, blocks, txs, last).await;
    assert_eq!(
        (blocks.resumes, txs.resumes),
        (0, 0),
        "{what}: a client was cut off"
    );
    for client in [blocks, txs] {
        let client = client.client.as_mut().expect("connected");
        assert_no_more_texts(client, what, Duration::from_millis(200)).await;
    }
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
/// `cargo test --release --test delivery soak -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "minutes long: run explicitly (see the doc comment)"]
async fn soak_ten_thousand_blocks_with_faults() {
    const BLOCKS_TOTAL: u64 = 10_000;
    const FAULT_EVERY: u64 = 500;
    let started = std::time::Instant::now();
    let mut node = TestNode::start_cycled(CHAIN, BLOCKS_TOTAL).await;
    let data = TempDir::new("soak");
    let mut service = serve(&node, &data).await;
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
                    service = serve(&node, &data).await;
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

/// A replayed chain file with a line that does not parse has no block at that height:
/// clients resuming from before it get every other block, in order, without being taken
/// for expired.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_height_does_not_stop_resuming_clients() {
    let data = TempDir::new("gap");
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

/// Two nodes of the chain; the first halts (its RPC still answers, no new blocks) while
/// the second goes on: after its probe delay the service moves to the second and
/// delivers the rest, once each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leaves_a_halted_node_for_one_ahead() {
    let halted = TestNode::start(CHAIN).await;
    let going = TestNode::start(CHAIN).await;
    let settings = NodeSettings {
        endpoints: [&halted, &going]
            .map(|node| Endpoint::parse(&node.addr().to_string()))
            .into(),
        ..node_args(&halted)
    };
    let service = Service::start(
        Follow {
            settings,
            start: None,
        },
        server_args(),
    )
    .await;
    halted
        .wait_for("the service to subscribe to the first node", |s| {
            s.active == 1
        })
        .await;
    let (mut blocks, mut txs) = Follower::live_pair(service.ws).await;
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
