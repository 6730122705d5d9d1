//! A small CometBFT node for planetmint-stream's tests and benchmarks: it serves a recorded
//! chain file (`fixtures/chains/*.chain.jsonl`) over CometBFT's RPC, one block at a time as
//! the test "produces" them.
//!
//! - JSON-RPC over `POST /` (`status`, `block`, `block_results`) and the GET forms
//!   `/status`, `/block?height=H`, `/block_results?height=H`. Replies are the recorded ones,
//!   with the request's `id` (POST) or `-1` (GET). Heights not produced yet get CometBFT's
//!   error, and `/status` reports the produced height as `latest_block_height`.
//! - `/websocket`: `subscribe` to `tm.event = 'NewBlock'` (answered `{}`), `unsubscribe`,
//!   `unsubscribe_all`, and the RPC methods above; each produced block is pushed to every
//!   subscriber as a NewBlock event in the chain's dialect, derived from the chain line as
//!   `tools/check_chain_shapes.py:new_block_event` does. Pings are answered by the library.
//!   A connection that falls more than 1024 events behind drops the ones it missed, silently
//!   (counted by [`TestNode::events_dropped`]), and goes on: the follower fills the gap.
//! - Chains: [`TestNode::start`] serves the chain file as recorded; [`TestNode::start_cycled`]
//!   serves it over and over, as long a chain as asked, with the heights rewritten.
//! - Control: [`TestNode::produce`], [`TestNode::produce_until`],
//!   [`TestNode::produce_until_paced`], [`TestNode::current_height`], and the faults
//!   [`TestNode::skip_events_for`] (a block with no event: the follower must fetch it),
//!   [`TestNode::garble_events_for`] (a block whose event is not JSON),
//!   [`TestNode::fail_block_results`] (`block_results` fails for a while),
//!   [`TestNode::cancel_subscriptions`] (CometBFT cancels every NewBlock subscription, as it
//!   does to a slow subscriber, and keeps the sockets open),
//!   [`TestNode::disconnect_websockets`] (dropped without a close frame) and
//!   [`TestNode::stop`] / [`TestNode::restart`] (the whole listener, same port).
//! - Observation: [`TestNode::subscriptions`] / [`TestNode::wait_for`] (how many NewBlock
//!   subscriptions are active, and how many were ever made), [`TestNode::blocks_served`],
//!   [`TestNode::block_results_failures_served`] and [`TestNode::events_dropped`].
//!
//! Modules: `chain` reads chain files into height templates, `rpc` answers JSON-RPC,
//! `websocket` runs the subscriber sessions, `faults` holds the fault controls; this file
//! holds the node's state, production and observation.

mod chain;
mod faults;
mod rpc;
#[cfg(test)]
mod tests;
mod websocket;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use chain::Dialect;

use chain::{Block, Chain};
use websocket::{Generation, Push};

/// Events a `/websocket` connection may fall behind before it drops the oldest.
const EVENTS_BUFFER: usize = 1024;

/// The recorded chains, `fixtures/chains` of the planetmint-stream crate: this crate lives in
/// that crate's workspace, one directory down.
const CHAINS_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/chains");

/// `fixtures/chains/<chain>.chain.jsonl` of the planetmint-stream crate.
pub fn chain_path(chain: &str) -> PathBuf {
    Path::new(CHAINS_DIR).join(format!("{chain}.chain.jsonl"))
}

/// NewBlock subscriptions seen by the node.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Subscriptions {
    /// Subscriptions alive now.
    pub active: usize,
    /// Subscriptions ever made (grows by one on every resubscription).
    pub total: usize,
}

struct NodeState {
    height: u64,
    skip_events: BTreeSet<u64>,
    garble_events: BTreeSet<u64>,
    /// How many more `block_results` calls fail.
    failing_results: usize,
    /// How many `block_results` calls failed so.
    results_failures: usize,
    /// Heights whose `block` was asked for (over HTTP or the websocket).
    blocks_served: BTreeSet<u64>,
    websockets: Generation,
}

/// What the listener's handlers and the [`TestNode`] share.
struct Shared {
    /// The chain file: height `h` is its block `(h - 1) % N + 1`.
    chain: Chain,
    /// The last height served.
    last_height: u64,
    state: Mutex<NodeState>,
    events: broadcast::Sender<Push>,
    /// Bumped by `cancel_subscriptions`: every connection cancels its subscription.
    cancellations: watch::Sender<u64>,
    /// Events subscribed connections dropped for lagging.
    events_dropped: AtomicU64,
    subscriptions: watch::Sender<Subscriptions>,
}

impl Shared {
    fn state(&self) -> std::sync::MutexGuard<'_, NodeState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The block served at `height` (at most `last_height`).
    fn block(&self, height: u64) -> &Block {
        let blocks = &self.chain.blocks;
        &blocks[((height - 1) % blocks.len() as u64) as usize]
    }
}

struct Listener {
    stop: CancellationToken,
    task: JoinHandle<()>,
}

pub struct TestNode {
    shared: Arc<Shared>,
    addr: SocketAddr,
    listener: Option<Listener>,
}

impl TestNode {
    /// A node serving `fixtures/chains/<chain>.chain.jsonl` with no block produced yet.
    pub async fn start(chain: &str) -> TestNode {
        TestNode::start_file(&chain_path(chain), None).await
    }

    /// A node serving heights `1..=blocks` (none produced yet), for soak tests: height `h`
    /// is the chain file's block `(h - 1) % N + 1` (N blocks in the file) with its height
    /// fields rewritten to `h` (`block.header.height`, `block.last_commit.height` to `h - 1`,
    /// `block_results.height`, and so in its event); everything else is the recorded text.
    /// The service tests' `expected_cycled` gives the stream frames such a chain must produce.
    pub async fn start_cycled(chain: &str, blocks: u64) -> TestNode {
        assert!(blocks > 0, "test node: a chain of no blocks");
        TestNode::start_file(&chain_path(chain), Some(blocks)).await
    }

    /// A node serving the chain file at `path`, cycled as [`TestNode::start_cycled`] does up
    /// to `last_height` when given: for benchmarks that write their own chains.
    pub async fn start_file(path: &Path, last_height: Option<u64>) -> TestNode {
        let chain = Chain::read(path);
        let last_height = last_height.unwrap_or(chain.blocks.len() as u64);
        let shared = Arc::new(Shared {
            chain,
            last_height,
            state: Mutex::new(NodeState {
                height: 0,
                skip_events: BTreeSet::new(),
                garble_events: BTreeSet::new(),
                failing_results: 0,
                results_failures: 0,
                blocks_served: BTreeSet::new(),
                websockets: Generation::default(),
            }),
            events: broadcast::channel(EVENTS_BUFFER).0,
            cancellations: watch::channel(0).0,
            events_dropped: AtomicU64::new(0),
            subscriptions: watch::channel(Subscriptions::default()).0,
        });
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding the test node");
        let addr = listener.local_addr().expect("test node address");
        let mut node = TestNode {
            shared,
            addr,
            listener: None,
        };
        node.listen(listener);
        node
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn dialect(&self) -> Dialect {
        self.shared.chain.dialect
    }

    /// The last height of the chain: the chain file's last block, or the `blocks` of
    /// [`TestNode::start_cycled`].
    pub fn last_height(&self) -> u64 {
        self.shared.last_height
    }

    /// The last produced height (0 before the first block).
    pub fn current_height(&self) -> u64 {
        self.state().height
    }

    /// Produces the next `n` blocks at once.
    pub fn produce(&self, n: u64) {
        for _ in 0..n {
            self.produce_one();
        }
    }

    /// Produces blocks up to and including `height` at once (10,000 blocks take a few
    /// milliseconds; subscribers that fall behind drop events, see the module doc).
    pub fn produce_until(&self, height: u64) {
        while self.current_height() < height {
            self.produce_one();
        }
    }

    /// Produces blocks up to and including `height`, `interval` apart.
    pub async fn produce_until_paced(&self, height: u64, interval: Duration) {
        while self.current_height() < height {
            self.produce_one();
            if self.current_height() < height {
                tokio::time::sleep(interval).await;
            }
        }
    }

    /// How many `block_results` calls [`TestNode::fail_block_results`] has failed so far.
    pub fn block_results_failures_served(&self) -> usize {
        self.state().results_failures
    }

    /// The heights whose `block` someone asked for: a follower only asks for the blocks
    /// it did not get in an event.
    pub fn blocks_served(&self) -> BTreeSet<u64> {
        self.state().blocks_served.clone()
    }

    /// NewBlock events that subscribed `/websocket` connections dropped because they fell
    /// more than 1024 events behind.
    pub fn events_dropped(&self) -> u64 {
        self.shared.events_dropped.load(Ordering::Relaxed)
    }

    pub fn subscriptions(&self) -> Subscriptions {
        *self.shared.subscriptions.borrow()
    }

    /// Waits (at most 10 s, else panics naming `what`) until `condition` holds.
    pub async fn wait_for(&self, what: &str, condition: impl FnMut(&Subscriptions) -> bool) {
        let mut watch = self.shared.subscriptions.subscribe();
        let waited = tokio::time::timeout(Duration::from_secs(10), watch.wait_for(condition)).await;
        match waited {
            Ok(Ok(_)) => {}
            _ => panic!(
                "test node: timed out waiting for {what}; subscriptions {:?}",
                self.subscriptions()
            ),
        }
    }

    /// Serves the node on `listener` until [`TestNode::stop`] or the drop.
    fn listen(&mut self, listener: TcpListener) {
        let stop = CancellationToken::new();
        let app = rpc::router(self.shared.clone());
        let task = tokio::spawn(
            axum::serve(listener, app)
                .with_graceful_shutdown(stop.clone().cancelled_owned())
                .into_future(),
        );
        let task = tokio::spawn(async move {
            task.await
                .expect("test node listener panicked")
                .expect("test node listener failed");
        });
        self.listener = Some(Listener { stop, task });
    }

    fn produce_one(&self) {
        let push = {
            let mut state = self.state();
            assert!(
                state.height < self.last_height(),
                "test node: the chain ends at height {}",
                self.last_height()
            );
            state.height += 1;
            let height = state.height;
            (!state.skip_events.contains(&height)).then(|| Push {
                height,
                garbled: state.garble_events.contains(&height),
            })
        };
        if let Some(push) = push {
            // No receiver is fine: nobody subscribed, the event is lost, as on a node.
            let _ = self.shared.events.send(push);
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, NodeState> {
        self.shared.state()
    }
}

impl Drop for TestNode {
    fn drop(&mut self) {
        if let Some(listener) = &self.listener {
            listener.stop.cancel();
        }
        self.state().websockets.cancel.cancel();
    }
}
