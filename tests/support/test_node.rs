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
//! - Control: [`TestNode::produce`], [`TestNode::produce_until`],
//!   [`TestNode::produce_until_paced`], [`TestNode::current_height`], and the faults
//!   [`TestNode::skip_events_for`] (a block with no event: the follower must fetch it),
//!   [`TestNode::disconnect_websockets`] (dropped without a close frame) and
//!   [`TestNode::stop`] / [`TestNode::restart`] (the whole listener, same port).
//! - Observation: [`TestNode::subscriptions`] / [`TestNode::wait_for`] (how many NewBlock
//!   subscriptions are active, and how many were ever made) and [`TestNode::blocks_served`].

use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;
use std::path::Path;
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

/// One recorded height.
struct Block {
    /// The `result` of its `/block` reply, verbatim.
    block: String,
    /// The `result` of its `/block_results` reply, verbatim.
    results: String,
    /// `result.data.value` of its NewBlock event.
    event_value: Value,
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
    /// Heights whose `block` was asked for (over HTTP or the websocket).
    blocks_served: BTreeSet<u64>,
    websockets: Generation,
}

struct Shared {
    status: Value,
    blocks: Vec<Block>,
    state: Mutex<NodeState>,
    /// Heights whose NewBlock event is to be pushed.
    events: broadcast::Sender<u64>,
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
    dialect: Dialect,
}

impl TestNode {
    /// A node serving `fixtures/chains/<chain>.chain.jsonl` with no block produced yet.
    pub async fn start(chain: &str) -> TestNode {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/chains")
            .join(format!("{chain}.chain.jsonl"));
        let text = std::fs::read_to_string(&path)
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
            blocks,
            state: Mutex::new(NodeState {
                height: 0,
                skip_events: BTreeSet::new(),
                blocks_served: BTreeSet::new(),
                websockets: Generation::default(),
            }),
            events: broadcast::channel(1024).0,
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
            dialect,
        };
        node.listen(listener);
        node
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The height of the chain file's last block.
    pub fn last_height(&self) -> u64 {
        self.shared.blocks.len() as u64
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

    /// Produces blocks up to and including `height` at once.
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

    /// The heights whose `block` someone asked for: a follower only asks for the blocks
    /// it did not get in an event.
    pub fn blocks_served(&self) -> BTreeSet<u64> {
        self.state().blocks_served.clone()
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
        let (height, push) = {
            let mut state = self.state();
            assert!(
                state.height < self.last_height(),
                "test node: the chain file ends at height {}",
                self.last_height()
            );
            state.height += 1;
            (state.height, !state.skip_events.contains(&state.height))
        };
        if push {
            // No receiver is fine: nobody subscribed, the event is lost, as on a node.
            let _ = self.shared.events.send(height);
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

impl Shared {
    fn state(&self) -> std::sync::MutexGuard<'_, NodeState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
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
                let block = &self.blocks[height as usize - 1];
                Ok(if method == "block" {
                    self.state().blocks_served.insert(height);
                    block.block.clone()
                } else {
                    block.results.clone()
                })
            }
            _ => Err(json!({"code": -32601, "message": "Method not found"})),
        }
    }

    fn event(&self, height: u64, id: &Value) -> String {
        json!({
            "jsonrpc": "2.0",
            "id": id,
            "result": {
                "query": NEW_BLOCK_QUERY,
                "data": {
                    "type": "tendermint/event/NewBlock",
                    "value": self.blocks[height as usize - 1].event_value,
                },
                "events": {"tm.event": ["NewBlock"]},
            },
        })
        .to_string()
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
    let raw: Line = serde_json::from_str(line).expect("chain line");
    let result = |reply: &RawValue| {
        serde_json::from_str::<Reply>(reply.get())
            .expect("recorded reply")
            .result
            .get()
            .to_owned()
    };
    let value: Value = serde_json::from_str(line).expect("chain line");
    (
        raw.height,
        Block {
            block: result(raw.block),
            results: result(raw.block_results),
            event_value: new_block_event_value(dialect, &value),
        },
    )
}

/// `result.data.value` of the NewBlock event for a chain line (check_chain_shapes.py's
/// `new_block_event`).
fn new_block_event_value(dialect: Dialect, line: &Value) -> Value {
    let block = &line["block"]["result"]["block"];
    match dialect {
        Dialect::V0_34 => json!({
            "block": block,
            "result_begin_block": {},
            "result_end_block": {"validator_updates": null},
        }),
        Dialect::V0_38 => {
            let results = &line["block_results"]["result"];
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
            json!({
                "block": block,
                "block_id": line["block"]["result"]["block_id"],
                "result_finalize_block": finalize,
            })
        }
    }
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
    upgrade.on_upgrade(move |socket| {
        generation.tracker.track_future(websocket_session(
            shared,
            socket,
            events,
            generation.cancel,
        ))
    })
}

/// One `/websocket` connection. Returning drops the socket without a close frame.
async fn websocket_session(
    shared: Arc<Shared>,
    mut socket: WebSocket,
    mut events: broadcast::Receiver<u64>,
    cancel: CancellationToken,
) {
    // The request id of the NewBlock subscription, which every event carries.
    let mut subscription: Option<Value> = None;
    loop {
        tokio::select! {
            biased;
            () = cancel.cancelled() => break,
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
                Ok(height) => {
                    if let Some(id) = &subscription
                        && socket.send(Message::Text(shared.event(height, id).into())).await.is_err()
                    {
                        break;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(n)) => panic!("test node: websocket lagged {n} events"),
                Err(broadcast::error::RecvError::Closed) => break,
            },
        }
    }
    if subscription.is_some() {
        shared.count_subscription(false);
    }
}
