//! A small CometBFT node for tests: it serves a recorded chain file
//! (`fixtures/chains/*.chain.jsonl`) over CometBFT's RPC, one block at a time as the test
//! "produces" them.
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

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::ops::Range;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

const NEW_BLOCK_QUERY: &str = "tm.event = 'NewBlock'";

/// Events a `/websocket` connection may fall behind before it drops the oldest.
const EVENTS_BUFFER: usize = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    V0_34,
    V0_38,
}

/// NewBlock subscriptions seen by the node.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Subscriptions {
    /// Subscriptions alive now.
    pub active: usize,
    /// Subscriptions ever made (grows by one on every resubscription).
    pub total: usize,
}

/// One recorded block, as texts with its height fields cut out (see [`Template`]).
struct Block {
    /// The `result` of its `/block` reply.
    block: Template,
    /// The `result` of its `/block_results` reply.
    results: Template,
    /// The `result` of its NewBlock event.
    event: Template,
}

/// A recorded text with its height fields cut out, filled in with the height served: the
/// recorded height gives back the recorded text byte for byte.
struct Template {
    /// The text around the holes: `pieces[0]`, hole 0, `pieces[1]`, hole 1, ...
    pieces: Vec<String>,
    holes: Vec<Hole>,
}

/// A height field (a JSON string) of a recorded text.
#[derive(Debug, Clone, Copy)]
enum Hole {
    /// The block's height (`block.header.height`, `block_results.height`).
    Height,
    /// The height before (`block.last_commit.height`).
    Previous,
}

impl Hole {
    fn value(self, height: u64) -> u64 {
        match self {
            Hole::Height => height,
            Hole::Previous => height - 1,
        }
    }
}

impl Template {
    /// `text` with the fields at `holes` cut out; each must hold its value at `recorded`.
    fn cut(text: &str, mut holes: Vec<(Range<usize>, Hole)>, recorded: u64) -> Template {
        holes.sort_by_key(|(range, _)| range.start);
        let mut template = Template {
            pieces: Vec::with_capacity(holes.len() + 1),
            holes: Vec::with_capacity(holes.len()),
        };
        let mut at = 0;
        for (range, hole) in holes {
            let field = &text[range.clone()];
            assert_eq!(
                field,
                format!("\"{}\"", hole.value(recorded)),
                "test node: {hole:?} field of the block at height {recorded}"
            );
            template.pieces.push(text[at..range.start].to_owned());
            template.holes.push(hole);
            at = range.end;
        }
        template.pieces.push(text[at..].to_owned());
        template
    }

    fn literal(text: &str) -> Template {
        Template {
            pieces: vec![text.to_owned()],
            holes: Vec::new(),
        }
    }

    fn push_str(&mut self, text: &str) {
        self.pieces.last_mut().expect("a piece").push_str(text);
    }

    fn push(&mut self, other: &Template) {
        let mut pieces = other.pieces.iter();
        self.push_str(pieces.next().expect("a piece"));
        self.pieces.extend(pieces.cloned());
        self.holes.extend(&other.holes);
    }

    /// The text for `height`.
    fn render_into(&self, height: u64, out: &mut String) {
        out.reserve(self.pieces.iter().map(String::len).sum::<usize>() + 24 * self.holes.len());
        out.push_str(&self.pieces[0]);
        for (hole, piece) in self.holes.iter().zip(&self.pieces[1..]) {
            write!(out, "\"{}\"", hole.value(height)).expect("writing to a String");
            out.push_str(piece);
        }
    }

    fn render(&self, height: u64) -> String {
        let mut out = String::new();
        self.render_into(height, &mut out);
        out
    }
}

/// The set of live `/websocket` connections, dropped together by `disconnect_websockets`.
#[derive(Clone, Default)]
struct Generation {
    cancel: CancellationToken,
    tracker: TaskTracker,
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

/// A NewBlock event to push.
#[derive(Debug, Clone, Copy)]
struct Push {
    height: u64,
    /// Pushed as malformed JSON.
    garbled: bool,
}

struct Shared {
    status: Value,
    dialect: Dialect,
    /// The chain file's blocks: height `h` is `blocks[(h - 1) % blocks.len()]`.
    blocks: Vec<Block>,
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
    /// [`super::expected_cycled`] gives the stream frames such a chain must produce.
    pub async fn start_cycled(chain: &str, blocks: u64) -> TestNode {
        assert!(blocks > 0, "test node: a chain of no blocks");
        TestNode::start_file(&chain_path(chain), Some(blocks)).await
    }

    /// A node serving the chain file at `path`, cycled as [`TestNode::start_cycled`] does up
    /// to `last_height` when given: for benchmarks that write their own chains.
    pub async fn start_file(path: &Path, last_height: Option<u64>) -> TestNode {
        let text = std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        let mut lines = text.lines();
        let status: Value = serde_json::from_str::<Value>(lines.next().expect("status line"))
            .expect("status line is JSON")["status"]
            .clone();
        let version = status["result"]["node_info"]["version"]
            .as_str()
            .expect("node version");
        let dialect = if version.starts_with("0.34.") {
            Dialect::V0_34
        } else if version.starts_with("0.38.") {
            Dialect::V0_38
        } else {
            panic!("test node: unsupported node version {version}");
        };
        let blocks: Vec<Block> = lines
            .enumerate()
            .map(|(i, line)| {
                let block = parse_line(line, dialect);
                assert_eq!(
                    block.0,
                    i as u64 + 1,
                    "chain file heights must be 1, 2, 3, ..."
                );
                block.1
            })
            .collect();
        let shared = Arc::new(Shared {
            status,
            dialect,
            last_height: last_height.unwrap_or(blocks.len() as u64),
            blocks,
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
        self.shared.dialect
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

    /// Blocks at these heights are produced without a NewBlock event.
    pub fn skip_events_for(&self, heights: impl IntoIterator<Item = u64>) {
        self.state().skip_events.extend(heights);
    }

    /// Blocks at these heights are produced with a malformed NewBlock event (the real
    /// event's text cut in the middle, so not JSON); `/block` and `/block_results` serve
    /// them as usual.
    pub fn garble_events_for(&self, heights: impl IntoIterator<Item = u64>) {
        self.state().garble_events.extend(heights);
    }

    /// The next `n` `block_results` calls (`POST /`, `GET /block_results`, or over the
    /// websocket) fail as CometBFT does when it has not stored a block's results yet:
    /// `{"code":-32603,"message":"Internal error","data":"could not find results for height
    /// #H"}`, HTTP 500 for GET. Calls for heights not produced yet fail as always and do not
    /// count among the `n`.
    pub fn fail_block_results(&self, n: usize) {
        self.state().failing_results = n;
    }

    /// How many `block_results` calls [`TestNode::fail_block_results`] has failed so far.
    pub fn block_results_failures_served(&self) -> usize {
        self.state().results_failures
    }

    /// Cancels the NewBlock subscription of every live `/websocket` connection as CometBFT
    /// does to a subscriber that does not keep up: the connection gets a JSON-RPC error
    /// carrying the subscription's request id (code -32000, `data` "subscription was
    /// canceled (reason: internal subscription event buffer is out of capacity)", spelled
    /// "cancelled" by Tendermint 0.34), no more events, and stays open; it may subscribe
    /// again. Blocks produced after this returns are not pushed on the cancelled
    /// subscriptions. [`Subscriptions::active`] drops once each connection has sent its
    /// error: [`TestNode::wait_for`] it.
    pub fn cancel_subscriptions(&self) {
        self.shared.cancellations.send_modify(|n| *n += 1);
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

    /// Drops every `/websocket` connection without a close frame, and returns once they
    /// are all gone (their subscriptions included).
    pub async fn disconnect_websockets(&self) {
        let old = std::mem::take(&mut self.state().websockets);
        old.cancel.cancel();
        old.tracker.close();
        tokio::time::timeout(Duration::from_secs(5), old.tracker.wait())
            .await
            .expect("test node: websocket connections did not end");
    }

    /// Stops listening (the port refuses connections) and drops every connection.
    pub async fn stop(&mut self) {
        let Some(listener) = self.listener.take() else {
            return;
        };
        listener.stop.cancel();
        self.disconnect_websockets().await;
        tokio::time::timeout(Duration::from_secs(5), listener.task)
            .await
            .expect("test node: listener did not stop")
            .expect("test node: listener task failed");
    }

    /// Listens again on the same port, with the chain where it was.
    pub async fn restart(&mut self) {
        assert!(self.listener.is_none(), "test node: restart without stop");
        let listener = TcpListener::bind(self.addr)
            .await
            .unwrap_or_else(|e| panic!("test node: rebinding {}: {e}", self.addr));
        self.listen(listener);
    }

    fn listen(&mut self, listener: TcpListener) {
        let stop = CancellationToken::new();
        let app = Router::new()
            .route("/", post(rpc_post))
            .route("/status", get(rpc_get_status))
            .route("/block", get(rpc_get_block))
            .route("/block_results", get(rpc_get_block_results))
            .route("/websocket", get(websocket))
            .with_state(self.shared.clone());
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

/// `fixtures/chains/<chain>.chain.jsonl`.
fn chain_path(chain: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/chains")
        .join(format!("{chain}.chain.jsonl"))
}

impl Drop for TestNode {
    fn drop(&mut self) {
        if let Some(listener) = &self.listener {
            listener.stop.cancel();
        }
        self.state().websockets.cancel.cancel();
    }
}

impl Shared {
    fn state(&self) -> std::sync::MutexGuard<'_, NodeState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The block served at `height` (at most `last_height`).
    fn block(&self, height: u64) -> &Block {
        &self.blocks[((height - 1) % self.blocks.len() as u64) as usize]
    }

    /// Answers one JSON-RPC call: the `result` text or an error object.
    fn call(&self, method: &str, params: &Value) -> Result<String, Value> {
        let current = self.state().height;
        match method {
            "status" => {
                let mut result = self.status["result"].clone();
                result["sync_info"]["latest_block_height"] = current.to_string().into();
                Ok(result.to_string())
            }
            "block" | "block_results" => {
                let height = match &params["height"] {
                    Value::Null => current,
                    Value::String(text) => text.trim_matches('"').parse().map_err(|_| {
                        internal_error(format!(
                            "error converting http params to arguments: bad height {text:?}"
                        ))
                    })?,
                    Value::Number(n) => n
                        .as_u64()
                        .ok_or_else(|| internal_error("bad height".into()))?,
                    other => return Err(internal_error(format!("bad height {other}"))),
                };
                if height == 0 {
                    return Err(internal_error(
                        "height must be greater than 0, but got 0".into(),
                    ));
                }
                if height > current {
                    return Err(internal_error(format!(
                        "height {height} must be less than or equal to the current blockchain height {current}"
                    )));
                }
                let block = self.block(height);
                if method == "block" {
                    self.state().blocks_served.insert(height);
                    Ok(block.block.render(height))
                } else {
                    {
                        let mut state = self.state();
                        if state.failing_results > 0 {
                            state.failing_results -= 1;
                            state.results_failures += 1;
                            // CometBFT's state store, when a block's results are not stored.
                            return Err(internal_error(format!(
                                "could not find results for height #{height}"
                            )));
                        }
                    }
                    Ok(block.results.render(height))
                }
            }
            _ => Err(json!({"code": -32601, "message": "Method not found"})),
        }
    }

    /// The NewBlock event of `push` for the subscription made with request id `id`.
    fn event(&self, push: Push, id: &Value) -> String {
        let mut text = format!(r#"{{"jsonrpc":"2.0","id":{id},"result":"#);
        self.block(push.height)
            .event
            .render_into(push.height, &mut text);
        text.push('}');
        if push.garbled {
            text.truncate(text.floor_char_boundary(text.len() / 2));
        }
        text
    }

    /// CometBFT's message when it cancels the subscription made with request id `id`
    /// because the subscriber's buffer is full (`rpc/core/events.go`: the pubsub's
    /// `ErrOutOfCapacity`, sent as an `RPCServerError`).
    fn cancellation(&self, id: &Value) -> String {
        let canceled = match self.dialect {
            Dialect::V0_34 => "cancelled",
            Dialect::V0_38 => "canceled",
        };
        let data = format!(
            "subscription was {canceled} (reason: internal subscription event buffer is out of capacity)"
        );
        reply(
            id,
            Err(json!({"code": -32000, "message": "Server error", "data": data})),
        )
    }

    fn count_subscription(&self, joined: bool) {
        self.subscriptions.send_modify(|s| {
            if joined {
                s.active += 1;
                s.total += 1;
            } else {
                s.active -= 1;
            }
        });
    }
}

fn internal_error(data: String) -> Value {
    json!({"code": -32603, "message": "Internal error", "data": data})
}

fn reply(id: &Value, answer: Result<String, Value>) -> String {
    match answer {
        Ok(result) => format!(r#"{{"jsonrpc":"2.0","id":{id},"result":{result}}}"#),
        Err(error) => json!({"jsonrpc": "2.0", "id": id, "error": error}).to_string(),
    }
}

/// Where `part`, a slice of `whole` (as serde_json borrows it), lies in `whole`.
fn span(whole: &str, part: &str) -> Range<usize> {
    let start = (part.as_ptr() as usize)
        .checked_sub(whole.as_ptr() as usize)
        .filter(|start| start + part.len() <= whole.len())
        .expect("a slice of the text");
    start..start + part.len()
}

/// A chain line: its height and what the node serves for it.
fn parse_line(line: &str, dialect: Dialect) -> (u64, Block) {
    #[derive(Deserialize)]
    struct Line<'a> {
        height: u64,
        #[serde(borrow)]
        block: &'a RawValue,
        #[serde(borrow)]
        block_results: &'a RawValue,
    }
    #[derive(Deserialize)]
    struct Reply<'a> {
        #[serde(borrow)]
        result: &'a RawValue,
    }
    /// The `result` of a `/block` reply.
    #[derive(Deserialize)]
    struct BlockResult<'a> {
        #[serde(borrow)]
        block_id: &'a RawValue,
        #[serde(borrow)]
        block: &'a RawValue,
    }
    #[derive(Deserialize)]
    struct BlockHeights<'a> {
        #[serde(borrow)]
        header: HasHeight<'a>,
        #[serde(borrow, default)]
        last_commit: Option<HasHeight<'a>>,
    }
    #[derive(Deserialize)]
    struct HasHeight<'a> {
        #[serde(borrow)]
        height: &'a RawValue,
    }
    let raw: Line = serde_json::from_str(line).expect("chain line");
    let result = |reply: &RawValue| {
        serde_json::from_str::<Reply>(reply.get())
            .expect("recorded reply")
            .result
            .get()
            .to_owned()
    };
    let height = raw.height;

    let block_result = result(raw.block);
    let parts: BlockResult = serde_json::from_str(&block_result).expect("recorded block");
    let block_text = parts.block.get();
    let heights: BlockHeights = serde_json::from_str(block_text).expect("recorded block");
    let mut holes = vec![(span(block_text, heights.header.height.get()), Hole::Height)];
    if let Some(last_commit) = &heights.last_commit {
        holes.push((span(block_text, last_commit.height.get()), Hole::Previous));
    }
    let at = span(&block_result, block_text).start;
    let in_result = holes
        .iter()
        .map(|(range, hole)| (range.start + at..range.end + at, *hole))
        .collect();
    let block = Template::cut(&block_result, in_result, height);

    let results_text = result(raw.block_results);
    let results_height: HasHeight =
        serde_json::from_str(&results_text).expect("recorded block results");
    let results = Template::cut(
        &results_text,
        vec![(
            span(&results_text, results_height.height.get()),
            Hole::Height,
        )],
        height,
    );

    // check_chain_shapes.py's `new_block_event`.
    let mut event = Template::literal(&format!(
        r#"{{"query":{},"data":{{"type":"tendermint/event/NewBlock","value":{{"block":"#,
        json!(NEW_BLOCK_QUERY)
    ));
    event.push(&Template::cut(block_text, holes, height));
    match dialect {
        Dialect::V0_34 => event
            .push_str(r#","result_begin_block":{},"result_end_block":{"validator_updates":null}"#),
        Dialect::V0_38 => {
            let results: Value =
                serde_json::from_str(&results_text).expect("recorded block results");
            event.push_str(&format!(
                r#","block_id":{},"result_finalize_block":{}"#,
                parts.block_id.get(),
                result_finalize_block(&results)
            ));
        }
    }
    event.push_str(r#"}},"events":{"tm.event":["NewBlock"]}}"#);

    (
        height,
        Block {
            block,
            results,
            event,
        },
    )
}

/// The `result_finalize_block` of a 0.38 NewBlock event, from the block's `/block_results`
/// `result` (check_chain_shapes.py's `new_block_event`).
fn result_finalize_block(results: &Value) -> Value {
    let truthy = |v: &Value| match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        _ => true,
    };
    let mut finalize = serde_json::Map::new();
    if truthy(&results["txs_results"]) {
        finalize.insert("tx_results".into(), results["txs_results"].clone());
    }
    finalize.insert("validator_updates".into(), json!([]));
    if truthy(&results["app_hash"]) {
        finalize.insert("app_hash".into(), results["app_hash"].clone());
    }
    Value::Object(finalize)
}

#[derive(Deserialize)]
struct RpcRequest {
    #[serde(default)]
    id: Value,
    method: String,
    #[serde(default)]
    params: Value,
}

fn json_response(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn rpc_post(State(shared): State<Arc<Shared>>, body: String) -> Response {
    let body = match serde_json::from_str::<RpcRequest>(&body) {
        Ok(request) => reply(&request.id, shared.call(&request.method, &request.params)),
        Err(e) => reply(
            &Value::Null,
            Err(json!({"code": -32700, "message": "Parse error", "data": e.to_string()})),
        ),
    };
    json_response(StatusCode::OK, body)
}

fn rpc_get(shared: &Shared, method: &str, query: HashMap<String, String>) -> Response {
    let params = json!({"height": query.get("height")});
    let answer = shared.call(method, &params);
    let status = if answer.is_ok() {
        StatusCode::OK
    } else {
        StatusCode::INTERNAL_SERVER_ERROR
    };
    json_response(status, reply(&json!(-1), answer))
}

async fn rpc_get_status(State(shared): State<Arc<Shared>>) -> Response {
    rpc_get(&shared, "status", HashMap::new())
}

async fn rpc_get_block(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    rpc_get(&shared, "block", query)
}

async fn rpc_get_block_results(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    rpc_get(&shared, "block_results", query)
}

async fn websocket(State(shared): State<Arc<Shared>>, upgrade: WebSocketUpgrade) -> Response {
    let generation = shared.state().websockets.clone();
    let events = shared.events.subscribe();
    let cancellations = shared.cancellations.subscribe();
    upgrade.on_upgrade(move |socket| {
        generation.tracker.track_future(websocket_session(
            shared,
            socket,
            events,
            cancellations,
            generation.cancel,
        ))
    })
}

/// One `/websocket` connection. Returning drops the socket without a close frame.
async fn websocket_session(
    shared: Arc<Shared>,
    mut socket: WebSocket,
    mut events: broadcast::Receiver<Push>,
    mut cancellations: watch::Receiver<u64>,
    cancel: CancellationToken,
) {
    // The request id of the NewBlock subscription, which every event carries.
    let mut subscription: Option<Value> = None;
    loop {
        tokio::select! {
            biased;
            () = cancel.cancelled() => break,
            // Before the events: none produced after `cancel_subscriptions` goes out.
            Ok(()) = cancellations.changed() => {
                if let Some(id) = subscription.take() {
                    let sent = socket.send(Message::Text(shared.cancellation(&id).into())).await;
                    shared.count_subscription(false);
                    if sent.is_err() {
                        break;
                    }
                }
            }
            incoming = socket.recv() => {
                let text = match incoming {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                    Some(Ok(_)) => continue,
                };
                let Ok(request) = serde_json::from_str::<RpcRequest>(text.as_str()) else {
                    continue;
                };
                let answer = match request.method.as_str() {
                    "subscribe" => {
                        if request.params["query"].as_str() != Some(NEW_BLOCK_QUERY) {
                            Err(internal_error(format!("test node: unsupported query {}", request.params["query"])))
                        } else if subscription.is_some() {
                            Err(internal_error("already subscribed".into()))
                        } else {
                            subscription = Some(request.id.clone());
                            shared.count_subscription(true);
                            Ok("{}".to_owned())
                        }
                    }
                    "unsubscribe" | "unsubscribe_all" => {
                        if subscription.take().is_some() {
                            shared.count_subscription(false);
                        }
                        Ok("{}".to_owned())
                    }
                    method => shared.call(method, &request.params),
                };
                if socket.send(Message::Text(reply(&request.id, answer).into())).await.is_err() {
                    break;
                }
            }
            event = events.recv() => match event {
                Ok(push) => {
                    if let Some(id) = &subscription
                        && socket.send(Message::Text(shared.event(push, id).into())).await.is_err()
                    {
                        break;
                    }
                }
                // Fallen behind: like a node, drop what was missed and go on.
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    if subscription.is_some() {
                        shared.events_dropped.fetch_add(missed, Ordering::Relaxed);
                    }
                }
                Err(broadcast::error::RecvError::Closed) => break,
            },
        }
    }
    if subscription.is_some() {
        shared.count_subscription(false);
    }
}

/// The node's own faults and chains, against plain clients (no service).
#[cfg(test)]
mod tests {
    use std::time::Instant;

    use futures_util::{SinkExt as _, StreamExt as _};
    use tendermint_rpc::client::CompatMode;
    use tendermint_rpc::query::EventType;
    use tendermint_rpc::{Client as _, HttpClient, SubscriptionClient as _, WebSocketClient};
    use tokio::time::timeout;
    use tokio_tungstenite::tungstenite::Message;

    use super::*;

    type Socket = tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >;

    async fn connect(node: &TestNode) -> Socket {
        let url = format!("ws://{}/websocket", node.addr());
        tokio_tungstenite::connect_async(url)
            .await
            .expect("connecting to the test node")
            .0
    }

    /// The next text message, within 5 s.
    async fn next_text(socket: &mut Socket) -> String {
        loop {
            match timeout(Duration::from_secs(5), socket.next()).await {
                Ok(Some(Ok(Message::Text(text)))) => return text.as_str().to_owned(),
                Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => {}
                other => panic!("expected a text message, got {other:?}"),
            }
        }
    }

    async fn next_json(socket: &mut Socket) -> Value {
        let text = next_text(socket).await;
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
    }

    async fn call(socket: &mut Socket, id: &str, method: &str, params: Value) -> Value {
        let request = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        socket
            .send(Message::text(request.to_string()))
            .await
            .expect("sending a request");
        let reply = next_json(socket).await;
        assert_eq!(reply["id"], id, "{reply}");
        reply
    }

    async fn subscribe(socket: &mut Socket, id: &str) {
        let reply = call(socket, id, "subscribe", json!({"query": NEW_BLOCK_QUERY})).await;
        assert_eq!(reply["result"], json!({}), "{reply}");
    }

    fn event_height(event: &Value) -> u64 {
        event["result"]["data"]["value"]["block"]["header"]["height"]
            .as_str()
            .and_then(|h| h.parse().ok())
            .unwrap_or_else(|| panic!("not a NewBlock event: {event}"))
    }

    async fn assert_quiet(socket: &mut Socket) {
        if let Ok(Some(message)) = timeout(Duration::from_millis(300), socket.next()).await {
            panic!("expected nothing, got {message:?}");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn cancel_subscriptions_keeps_the_socket() {
        for (chain, canceled) in [
            ("tendermint-0.34", "cancelled"),
            ("cometbft-0.38", "canceled"),
        ] {
            let node = TestNode::start(chain).await;
            let mut socket = connect(&node).await;
            subscribe(&mut socket, "sub-1").await;
            node.produce(1);
            let event = next_json(&mut socket).await;
            assert_eq!(
                (event["id"].as_str(), event_height(&event)),
                (Some("sub-1"), 1)
            );

            node.cancel_subscriptions();
            node.produce(1);
            let error = next_json(&mut socket).await;
            assert_eq!(
                error,
                json!({"jsonrpc": "2.0", "id": "sub-1", "error": {
                    "code": -32000,
                    "message": "Server error",
                    "data": format!("subscription was {canceled} (reason: internal subscription event buffer is out of capacity)"),
                }})
            );
            node.wait_for("the cancellation", |s| s.active == 0 && s.total == 1)
                .await;
            assert_quiet(&mut socket).await;

            let reply = call(&mut socket, "b", "block", json!({"height": "2"})).await;
            assert_eq!(reply["result"]["block"]["header"]["height"], "2");
            subscribe(&mut socket, "sub-2").await;
            node.wait_for("the resubscription", |s| s.active == 1 && s.total == 2)
                .await;
            node.produce(1);
            let event = next_json(&mut socket).await;
            assert_eq!(
                (event["id"].as_str(), event_height(&event)),
                (Some("sub-2"), 3)
            );
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn garbled_events_and_failing_block_results() {
        let node = TestNode::start("cometbft-0.38").await;
        let mut socket = connect(&node).await;
        subscribe(&mut socket, "sub").await;
        node.garble_events_for([2]);
        node.fail_block_results(3);
        node.produce(3);
        assert_eq!(event_height(&next_json(&mut socket).await), 1);
        let garbled = next_text(&mut socket).await;
        assert!(
            serde_json::from_str::<Value>(&garbled).is_err(),
            "{garbled}"
        );
        assert!(garbled.starts_with(r#"{"jsonrpc":"2.0","id":"sub","result":"#));
        assert_eq!(event_height(&next_json(&mut socket).await), 3);

        let http = reqwest::Client::new();
        let get = |path: String| {
            let request = http.get(format!("http://{}{path}", node.addr()));
            async move {
                let response = request.send().await.expect("GET");
                (response.status(), response.text().await.expect("body"))
            }
        };
        let (status, body) = get("/block?height=2".into()).await;
        assert_eq!(status, 200, "{body}");
        let expected_error = |id: Value, height: u64| {
            json!({"jsonrpc": "2.0", "id": id, "error": {
                "code": -32603,
                "message": "Internal error",
                "data": format!("could not find results for height #{height}"),
            }})
        };
        let (status, body) = get("/block_results?height=2".into()).await;
        assert_eq!(status, 500, "{body}");
        assert_eq!(
            serde_json::from_str::<Value>(&body).unwrap(),
            expected_error(json!(-1), 2)
        );
        // Heights not produced yet fail as always, without using up a failure.
        let (status, body) = get("/block_results?height=4".into()).await;
        assert_eq!(status, 500, "{body}");
        assert!(body.contains("must be less than or equal"), "{body}");
        let posted = http
            .post(format!("http://{}/", node.addr()))
            .body(r#"{"jsonrpc":"2.0","id":5,"method":"block_results","params":{"height":"3"}}"#)
            .send()
            .await
            .expect("POST");
        assert_eq!(posted.status(), 200);
        let body = posted.text().await.expect("body");
        assert_eq!(
            serde_json::from_str::<Value>(&body).unwrap(),
            expected_error(json!(5), 3)
        );
        let reply = call(&mut socket, "r", "block_results", json!({"height": "1"})).await;
        assert_eq!(
            reply["error"]["data"],
            "could not find results for height #1"
        );
        assert_eq!(node.block_results_failures_served(), 3);
        let (status, body) = get("/block_results?height=2".into()).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(node.block_results_failures_served(), 3);
    }

    async fn next(
        events: &mut tendermint_rpc::Subscription,
    ) -> Option<Result<tendermint_rpc::event::Event, tendermint_rpc::Error>> {
        timeout(Duration::from_secs(5), events.next())
            .await
            .expect("an event within 5 s")
    }

    /// The height of the next event on `events`, which must be a NewBlock with a block.
    async fn next_height(events: &mut tendermint_rpc::Subscription) -> u64 {
        let event = next(events).await.expect("stream open").expect("an event");
        match event.data {
            tendermint_rpc::event::EventData::NewBlock {
                block: Some(block), ..
            } => block.header.height.value(),
            other => panic!("{other:?}"),
        }
    }

    /// What tendermint-rpc's websocket client does with a garbled event and a cancellation.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn tendermint_rpc_client_and_the_faults() {
        let node = TestNode::start("cometbft-0.38").await;
        let url = format!("ws://{}/websocket", node.addr());
        let (client, driver) = WebSocketClient::builder(url.parse().unwrap())
            .compat_mode(CompatMode::V0_38)
            .build()
            .await
            .expect("websocket client");
        let driver = tokio::spawn(driver.run());
        let mut events = client.subscribe(EventType::NewBlock.into()).await.unwrap();
        node.garble_events_for([1]);
        node.produce(2);
        // The garbled event is skipped (logged by the driver), the next one comes through.
        assert_eq!(next_height(&mut events).await, 2);
        node.cancel_subscriptions();
        let error = next(&mut events).await.expect("stream open").unwrap_err();
        // The cancellation reaches the stream as a response error, not ended.
        let detail = format!("{:?}", error.detail());
        assert!(detail.contains("subscription was canceled"), "{detail}");
        // The stream does not end, the driver goes on.
        node.produce(1);
        assert!(
            timeout(Duration::from_millis(300), events.next())
                .await
                .is_err(),
            "the subscription stream went on after its error"
        );
        assert!(!driver.is_finished());
        // Subscribing again on the same client sends nothing: the router still holds the
        // cancelled subscription's query. Unsubscribing first clears it.
        let _stale = client.subscribe(EventType::NewBlock.into()).await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(
            node.subscriptions(),
            Subscriptions {
                active: 0,
                total: 1
            }
        );
        client
            .unsubscribe(EventType::NewBlock.into())
            .await
            .unwrap();
        assert!(
            next(&mut events).await.is_none(),
            "unsubscribe ends the stream"
        );
        let mut events = client.subscribe(EventType::NewBlock.into()).await.unwrap();
        node.wait_for("the resubscription", |s| s.active == 1 && s.total == 2)
            .await;
        node.produce(1);
        assert_eq!(next_height(&mut events).await, 4);
        client.close().expect("closing the client");
        timeout(Duration::from_secs(5), driver)
            .await
            .expect("the driver ends on close")
            .expect("driver task")
            .expect("driver");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn cycled_chain_of_10_000_blocks() {
        let chain = "tendermint-0.34";
        let started = Instant::now();
        let node = TestNode::start_cycled(chain, 10_000).await;
        let took = started.elapsed();
        assert!(took < Duration::from_secs(3), "start_cycled took {took:?}");
        assert_eq!(node.last_height(), 10_000);
        let mut socket = connect(&node).await;
        subscribe(&mut socket, "sub").await;
        let produced = Instant::now();
        node.produce_until(10_000);
        let took = produced.elapsed();
        assert!(took < Duration::from_secs(3), "produce_until took {took:?}");
        // The connection fell behind: it dropped the events it missed and pushes the rest.
        let mut received = 0;
        let mut last = 0;
        while last < 10_000 {
            let event = next_json(&mut socket).await;
            let height = event_height(&event);
            assert!(height > last, "event {height} after {last}");
            last = height;
            received += 1;
        }
        assert_eq!(received + node.events_dropped(), 10_000);
        assert!(node.events_dropped() > 0);

        // Height 48 is block 1 again, with its heights rewritten and nothing else.
        let file = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join(format!("fixtures/chains/{chain}.chain.jsonl")),
        )
        .unwrap();
        #[derive(Deserialize)]
        struct Line<'a> {
            #[serde(borrow)]
            block: &'a RawValue,
            #[serde(borrow)]
            block_results: &'a RawValue,
        }
        let line: Line = serde_json::from_str(file.lines().nth(1).unwrap()).unwrap();
        let http = reqwest::Client::new();
        let get = |path: &str| {
            let request = http.get(format!("http://{}{path}", node.addr()));
            async move {
                request
                    .send()
                    .await
                    .expect("GET")
                    .text()
                    .await
                    .expect("body")
            }
        };
        // Block 1's only height fields: the header's "1" and the last commit's "0".
        let expected = line
            .block
            .get()
            .replacen(r#""height":"1""#, r#""height":"48""#, 1)
            .replacen(r#""height":"0""#, r#""height":"47""#, 1);
        assert_eq!(get("/block?height=48").await, expected);
        let expected = line
            .block_results
            .get()
            .replacen(r#""height":"1""#, r#""height":"48""#, 1);
        assert_eq!(get("/block_results?height=48").await, expected);

        // tendermint-rpc takes the rewritten blocks.
        let rpc = HttpClient::builder(format!("http://{}", node.addr()).parse().unwrap())
            .compat_mode(CompatMode::V0_34)
            .build()
            .unwrap();
        for height in [48u32, 10_000] {
            let block = rpc.block(height).await.expect("block");
            assert_eq!(block.block.header.height.value(), height as u64);
            let last_commit = block.block.last_commit.expect("last commit");
            assert_eq!(last_commit.height.value(), height as u64 - 1);
            let results = rpc.block_results(height).await.expect("block results");
            assert_eq!(results.height.value(), height as u64);
        }
    }

    #[test]
    fn expected_cycled_rewrites_heights_only() {
        use super::super::{expected_cycled, expected_lines, heights};
        let chain = "cometbft-0.38";
        let height = |line: &String| heights(std::slice::from_ref(line))[0];
        let shift = |line: &String, by: u64| {
            let h = height(line);
            line.replace(
                &format!(r#""height":{h}"#),
                &format!(r#""height":{}"#, h + by),
            )
        };
        for stream in ["valid_blocks", "valid_transactions"] {
            let fixture = expected_lines(chain, stream);
            assert_eq!(expected_cycled(chain, stream, 47), fixture);
            // 48..=94 are 1..=47 again, 95..=100 are 1..=6.
            let mut expected = fixture.clone();
            expected.extend(fixture.iter().map(|line| shift(line, 47)));
            expected.extend(
                fixture
                    .iter()
                    .filter(|line| height(line) <= 6)
                    .map(|line| shift(line, 94)),
            );
            let cycled = expected_cycled(chain, stream, 100);
            assert_eq!(cycled, expected);
            if stream == "valid_blocks" {
                assert_eq!(heights(&cycled), (1..=100).collect::<Vec<_>>());
            }
        }
    }
}
