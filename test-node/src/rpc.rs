//! CometBFT's JSON-RPC as the node serves it: `POST /` and the GET forms `/status`,
//! `/block?height=H`, `/block_results?height=H`, answered from the chain at the produced
//! height (the websocket sessions answer their RPC calls here too). In: requests and the
//! node's state. Out: the recorded replies, or CometBFT's errors; `block_results` failures
//! asked for by [`crate::TestNode::fail_block_results`] are served and counted here.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{Shared, websocket};

/// The node's routes, on its shared state.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/", post(rpc_post))
        .route("/status", get(rpc_get_status))
        .route("/block", get(rpc_get_block))
        .route("/block_results", get(rpc_get_block_results))
        .route("/websocket", get(websocket::upgrade))
        .with_state(shared)
}

impl Shared {
    /// Answers one JSON-RPC call: the `result` text or an error object.
    pub(crate) fn call(&self, method: &str, params: &Value) -> Result<String, Value> {
        let current = self.state().height;
        match method {
            "status" => {
                let mut result = self.chain.status["result"].clone();
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
}

pub(crate) fn internal_error(data: String) -> Value {
    json!({"code": -32603, "message": "Internal error", "data": data})
}

pub(crate) fn reply(id: &Value, answer: Result<String, Value>) -> String {
    match answer {
        Ok(result) => format!(r#"{{"jsonrpc":"2.0","id":{id},"result":{result}}}"#),
        Err(error) => json!({"jsonrpc": "2.0", "id": id, "error": error}).to_string(),
    }
}

/// A JSON-RPC request, over HTTP or the websocket.
#[derive(Deserialize)]
pub(crate) struct RpcRequest {
    #[serde(default)]
    pub id: Value,
    pub method: String,
    #[serde(default)]
    pub params: Value,
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
