//! The node's own faults and chains, against plain clients (no service): raw websockets,
//! HTTP GET and POST, and tendermint-rpc's clients, which is what the service uses.

use std::time::{Duration, Instant};

use futures_util::{SinkExt as _, StreamExt as _};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};
use tendermint_rpc::client::CompatMode;
use tendermint_rpc::query::EventType;
use tendermint_rpc::{Client as _, HttpClient, SubscriptionClient as _, WebSocketClient};
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message;

use crate::chain::NEW_BLOCK_QUERY;
use crate::{Subscriptions, TestNode, chain_path};

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

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

    // The height after the chain's last block is block 1 again, with its heights rewritten
    // and nothing else.
    let file = std::fs::read_to_string(chain_path(chain)).unwrap();
    // Line 1 is the status; one line per block follows.
    let blocks = file.lines().count() as u64 - 1;
    let again = blocks + 1;
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
    let height_again = format!(r#""height":"{again}""#);
    let expected = line
        .block
        .get()
        .replacen(r#""height":"1""#, &height_again, 1)
        .replacen(r#""height":"0""#, &format!(r#""height":"{blocks}""#), 1);
    assert_eq!(get(&format!("/block?height={again}")).await, expected);
    let expected = line
        .block_results
        .get()
        .replacen(r#""height":"1""#, &height_again, 1);
    let results = get(&format!("/block_results?height={again}")).await;
    assert_eq!(results, expected);

    // tendermint-rpc takes the rewritten blocks.
    let rpc = HttpClient::builder(format!("http://{}", node.addr()).parse().unwrap())
        .compat_mode(CompatMode::V0_34)
        .build()
        .unwrap();
    for height in [again as u32, 10_000] {
        let block = rpc.block(height).await.expect("block");
        assert_eq!(block.block.header.height.value(), height as u64);
        let last_commit = block.block.last_commit.expect("last commit");
        assert_eq!(last_commit.height.value(), height as u64 - 1);
        let results = rpc.block_results(height).await.expect("block results");
        assert_eq!(results.height.value(), height as u64);
    }
}
