//! `/websocket` sessions: one task per connection, answering `subscribe` to
//! `tm.event = 'NewBlock'`, `unsubscribe`, `unsubscribe_all` and the RPC methods, and pushing
//! each produced block to a subscribed connection as a NewBlock event in the chain's dialect.
//! In: the socket, the node's produced blocks ([`Push`]) and cancellations. Out: replies,
//! events (garbled ones included), CometBFT's cancellation error, and the subscription and
//! dropped-event counts the tests observe.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use serde_json::{Value, json};
use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::Shared;
use crate::chain::{Dialect, NEW_BLOCK_QUERY};
use crate::rpc::{RpcRequest, internal_error, reply};

/// The set of live `/websocket` connections, dropped together by `disconnect_websockets`.
#[derive(Clone, Default)]
pub(crate) struct Generation {
    pub cancel: CancellationToken,
    pub tracker: TaskTracker,
}

/// A NewBlock event to push.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Push {
    pub height: u64,
    /// Pushed as malformed JSON.
    pub garbled: bool,
}

impl Shared {
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
        let canceled = match self.chain.dialect {
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

/// `GET /websocket`: a session per connection, in the generation live now.
pub(crate) async fn upgrade(
    State(shared): State<Arc<Shared>>,
    upgrade: WebSocketUpgrade,
) -> Response {
    let generation = shared.state().websockets.clone();
    let events = shared.events.subscribe();
    let cancellations = shared.cancellations.subscribe();
    upgrade.on_upgrade(move |socket| {
        generation.tracker.track_future(session(
            shared,
            socket,
            events,
            cancellations,
            generation.cancel,
        ))
    })
}

/// One `/websocket` connection. Returning drops the socket without a close frame.
async fn session(
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
