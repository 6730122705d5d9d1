//! What the operator sees: the API root in Planetmint's shape (and `/api/v1`), CORS, 404s
//! on either port, `/health`, `/ready` (200 while following the node, 503 saying why while
//! it is gone) and `/metrics` (its format, and what it counts).

use std::time::Duration;

use serde_json::Value;
use tokio::time::{Instant, timeout};

use planetmint_stream::server::ServerSettings;

use crate::support::*;

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
    assert_eq!(
        v1["refused_transactions"], "wss://example.org:443/api/v1/streams/refused_transactions",
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

/// `/health` answers while the process runs; `/ready` is 200 while following the node
/// and 503 (saying why) while it is gone; `/metrics` counts what happened.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_ready_and_metrics() {
    let (mut node, service) = node_and_service(CHAIN, server_args()).await;
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
