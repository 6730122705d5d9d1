//! Helpers of the service tests: the service started in-process on ephemeral ports (or the
//! real binary, see [`binary`]), following a test node of the recorded chains; its HTTP
//! API read; stream clients ([`clients`], [`follower`]); and what the streams must carry
//! ([`expected`]); a real `nats-server` and what the export's stream must hold ([`nats`]);
//! a headless Chromium driven over its DevTools protocol ([`browser`]); a real nginx in
//! front of the streams, configured with the shipped snippet ([`nginx`]).
//!
//! Every wait here is bounded; a helper that runs out of time panics (or, for
//! [`collect_texts`], returns what it got so the caller can report the difference).

pub mod binary;
pub mod browser;
pub mod clients;
pub mod expected;
pub mod follower;
pub mod nats;
pub mod nginx;
pub mod reference;

use std::ffi::OsStr;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::task::JoinHandle;
use tokio::time::{Instant, timeout};
use tokio_util::sync::CancellationToken;

use planetmint_stream::server::{Listeners, ServerSettings};
use planetmint_stream::service::{self, ServiceError};
use planetmint_stream::source::BlockSource;
use planetmint_stream::source::chain_file::{Replay, ReplayOptions};
use planetmint_stream::source::node::{Endpoint, Follow, NodeSettings};
use planetmint_stream::store::Store;

pub use binary::{Binary, Process, assert_refuses_file};
pub use clients::*;
pub use expected::*;
pub use follower::*;
pub use planetmint_stream::server::{
    BLOCKS_PATH as BLOCKS, REFUSED_PATH as REFUSED, TRANSACTIONS_PATH as TXS,
};
pub use planetmint_test_node::TestNode;
pub use reference::*;

/// The two recorded chains: same blocks, two dialects.
pub const CHAINS: [&str; 2] = ["tendermint-0.34", "cometbft-0.38"];
/// The CometBFT 0.38 chain: its blocks carry their results, so following it is quick.
pub const CHAIN: &str = CHAINS[1];
/// The last height before the chains' 523-transaction block, slow to validate in a debug
/// build: tests that need no big block stop here.
pub const BEFORE_BIG: u64 = 23;
/// A bound for failures, not an expected duration (debug builds, two shared cores).
pub const WITHIN: Duration = Duration::from_secs(60);
/// How long a whole chain may take to come through. Validating the 753 transactions of a
/// chain takes about 14 s of CPU in a debug build (ed25519 unoptimized), and tests share
/// two cores: a bound for failures, not an expected duration.
pub const CHAIN_WITHIN: Duration = Duration::from_secs(120);
/// Once the last block frame has arrived, every transaction frame was published before
/// it: the transaction stream gets this long to deliver them.
pub const TXS_AFTER_BLOCKS: Duration = Duration::from_secs(3);

/// Server settings for tests: both listeners on 127.0.0.1, ephemeral ports, roomy limits.
pub fn server_args() -> ServerSettings {
    ServerSettings {
        max_clients: 100,
        ..ServerSettings::loopback()
    }
}

/// Following `node` (only).
pub fn node_args(node: &TestNode) -> NodeSettings {
    NodeSettings {
        endpoints: vec![Endpoint::parse(&node.addr().to_string())],
        dialect: None,
    }
}

/// History the in-memory stores of tests keep: more than any test chain.
pub const TEST_HISTORY: u64 = 100_000;

/// A store that lives as long as the test needs it.
pub fn memory_store() -> Arc<Store> {
    Arc::new(Store::in_memory(TEST_HISTORY).expect("in-memory store"))
}

/// The service, running in a task of the test's runtime.
pub struct Service {
    pub api: SocketAddr,
    pub ws: SocketAddr,
    pub shutdown: CancellationToken,
    task: Option<JoinHandle<Result<(), ServiceError>>>,
}

impl Service {
    pub async fn start(source: impl BlockSource, args: ServerSettings) -> Service {
        Service::start_with(source, memory_store(), args).await
    }

    pub async fn start_with(
        source: impl BlockSource,
        store: Arc<Store>,
        args: ServerSettings,
    ) -> Service {
        let listeners = Listeners::bind(&args).await.expect("binding the service");
        Service::start_on(source, store, args, listeners)
    }

    /// On `listeners`, bound by the caller (who may then advertise their ports).
    pub fn start_on(
        source: impl BlockSource,
        store: Arc<Store>,
        args: ServerSettings,
        listeners: Listeners,
    ) -> Service {
        let api = listeners.api_addr().expect("api address");
        let ws = listeners.ws_addr().expect("ws address");
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(service::run(
            source,
            store,
            args,
            None,
            listeners,
            shutdown.clone(),
        ));
        Service {
            api,
            ws,
            shutdown,
            task: Some(task),
        }
    }

    /// The service following `node` with a fresh store, from the node's next block.
    pub async fn follow(node: &TestNode, args: ServerSettings) -> Service {
        let source = Follow {
            settings: node_args(node),
            start: None,
        };
        Service::start(source, args).await
    }

    /// Waits (at most `within`) for `service::run` to return by itself, and returns what
    /// it returned.
    pub async fn join(mut self, within: Duration) -> Result<(), ServiceError> {
        let task = self.task.take().expect("running");
        timeout(within, task)
            .await
            .unwrap_or_else(|_| panic!("service::run did not return within {within:?}"))
            .expect("service task panicked")
    }

    /// Cancels the shutdown token and waits for `service::run` to return: it must, with
    /// `Ok`, within 5 s. Returns how long it took.
    pub async fn shut_down(mut self) -> Duration {
        let started = Instant::now();
        self.shutdown.cancel();
        let task = self.task.take().expect("running");
        timeout(Duration::from_secs(5), task)
            .await
            .expect("service::run did not return within 5 s of shutdown")
            .expect("service task panicked")
            .expect("service::run failed");
        started.elapsed()
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// A node on `chain` and the service following it (fresh in-memory store), subscribed.
pub async fn node_and_service(chain: &str, args: ServerSettings) -> (TestNode, Service) {
    let node = TestNode::start(chain).await;
    let service = Service::follow(&node, args).await;
    node.wait_for("the service to subscribe", |s| s.active == 1)
        .await;
    (node, service)
}

/// `chain`'s recorded file, replayed a block a millisecond.
pub async fn replay(chain: &str) -> Replay {
    let options = ReplayOptions {
        interval: Duration::from_millis(1),
        dialect: None,
    };
    let path = fixture(&format!("chains/{chain}.chain.jsonl"));
    Replay::open(&path, options).await.expect("a chain file")
}

/// Produces up to `height` and waits until a live client has every block up to it (so
/// they are stored).
pub async fn produce_and_settle(node: &TestNode, service: &Service, height: u64) {
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

/// The binary's `serve` arguments, its store in `data`.
pub fn serve_args(data: &Path) -> [&OsStr; 3] {
    ["serve".as_ref(), "--data-dir".as_ref(), data.as_os_str()]
}

/// The binary's environment naming a node on loopback `port`, as Planetmint's own
/// configuration does.
pub fn node_env(port: &str) -> [(&'static str, &str); 2] {
    [
        ("PLANETMINT_TENDERMINT_HOST", "127.0.0.1"),
        ("PLANETMINT_TENDERMINT_PORT", port),
    ]
}

/// The binary following `node`, its store in `data`.
pub async fn serve(node: &TestNode, data: &Path) -> Binary {
    let port = node.addr().port().to_string();
    Binary::start(serve_args(data), &node_env(&port)).await
}

/// GET `path` on `addr`: status and body.
pub async fn get_text(addr: SocketAddr, path: &str) -> (u16, String) {
    let response = reqwest::get(format!("http://{addr}{path}"))
        .await
        .unwrap_or_else(|e| panic!("GET {path}: {e}"));
    let status = response.status().as_u16();
    (status, response.text().await.expect("body"))
}

/// The value of an unlabelled metric.
pub fn metric(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no metric {name} in:\n{text}"))
        .parse::<f64>()
        .expect("metric value") as u64
}

/// The value of the unlabelled metric `name` the service at `api` reports now.
pub async fn metric_of(api: SocketAddr, name: &str) -> u64 {
    metric(&get_text(api, "/metrics").await.1, name)
}

/// Waits until `/ready` reports `height` published.
pub async fn wait_for_height(api: SocketAddr, height: u64) {
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
