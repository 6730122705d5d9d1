//! The API listener's routes: the API root in Planetmint's shape (and `/api/v1`),
//! `/health`, `/ready` and `/metrics`, plus the browser page's routes ([`super::page`]).
//!
//! In: the server's settings (the advertised stream URL, the tolerated lag, the query
//! limits), the metrics. Out: the [`Router`] the server serves on the API port (9984).

use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
use serde_json::json;
use tower_http::cors::{Any, CorsLayer};

use super::{BLOCKS_PATH, REFUSED_PATH, ServerSettings, TRANSACTIONS_PATH, page};
use crate::metrics::{EXPOSITION_CONTENT_TYPE, Metrics};

/// The API root in Planetmint's shape, listing only what this service serves, the
/// operator's endpoints, and the page.
pub(super) fn router(settings: &ServerSettings, metrics: Arc<Metrics>) -> Router {
    let (ws_url, max_lag) = (&settings.advertised_ws_url, settings.max_lag);
    let v1 = json!({
        "docs": "https://docs.planetmint.io/projects/server/en/latest/websocket-event-stream-api.html",
        "streams": format!("{ws_url}{TRANSACTIONS_PATH}"),
        "streamedblocks": format!("{ws_url}{BLOCKS_PATH}"),
        "refused_transactions": format!("{ws_url}{REFUSED_PATH}"),
    });
    let root = json!({
        "api": {"v1": v1.clone()},
        "docs": "https://docs.planetmint.io/projects/server/en/latest/",
        "software": "planetmint-stream",
        "version": env!("CARGO_PKG_VERSION"),
    });
    let v1_handler = move || {
        let v1 = v1.clone();
        async move { Json(v1) }
    };
    page::router(ws_url, settings.query)
        .route("/", get(move || async move { Json(root) }))
        .route("/api/v1", get(v1_handler.clone()))
        .route("/api/v1/", get(v1_handler))
        .route(
            "/health",
            get({
                let metrics = metrics.clone();
                move || async move {
                    if metrics.export_holding() {
                        (
                            StatusCode::SERVICE_UNAVAILABLE,
                            "the NATS export is more than --nats-max-behind blocks behind; the stream waits for it\n",
                        )
                    } else if metrics.pipeline_failing() {
                        (
                            StatusCode::SERVICE_UNAVAILABLE,
                            "validating or storing blocks fails\n",
                        )
                    } else {
                        (StatusCode::OK, "ok\n")
                    }
                }
            }),
        )
        .route(
            "/ready",
            get({
                let metrics = metrics.clone();
                move || async move { ready(&metrics, max_lag) }
            }),
        )
        .route(
            "/metrics",
            get(move |_: Request| async move {
                (
                    [(header::CONTENT_TYPE, EXPOSITION_CONTENT_TYPE)],
                    metrics.render(),
                )
            }),
        )
        .layer(
            CorsLayer::new()
                .allow_origin(Any)
                .allow_methods([Method::GET]),
        )
}

/// `/ready`: 200 when following a node, at most `max_lag` blocks behind, and never having
/// disagreed with its app hash; else 503. The body says why either way.
fn ready(metrics: &Metrics, max_lag: u64) -> Response {
    let snapshot = metrics.snapshot();
    let mut reasons = Vec::new();
    if !snapshot.connected {
        reasons.push("not connected to a node".to_owned());
    }
    if snapshot.lag > max_lag {
        reasons.push(format!(
            "{} blocks behind the node (most allowed: {max_lag})",
            snapshot.lag
        ));
    }
    if metrics.export_holding() {
        reasons.push("the NATS export is more than --nats-max-behind blocks behind".to_owned());
    }
    if snapshot.app_hash_mismatches > 0 {
        // Sticky: what was published may disagree with the node; an operator must look.
        reasons.push("the app hash differed from the node's".to_owned());
    }
    let status = if reasons.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({
        "ready": reasons.is_empty(),
        "reasons": reasons,
        "connected": snapshot.connected,
        "node": snapshot.node,
        "last_height": snapshot.last_height,
        "node_height": snapshot.node_height,
        "lag": snapshot.lag,
        "subscribers": snapshot.subscribers,
        "export": metrics.export_snapshot(),
    });
    (status, Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::Height;
    use crate::metrics::NodeInfo;

    fn status_and_reasons(metrics: &Metrics, max_lag: u64) -> (StatusCode, Vec<String>) {
        let response = ready(metrics, max_lag);
        let status = response.status();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let body = runtime
            .block_on(axum::body::to_bytes(response.into_body(), usize::MAX))
            .expect("body");
        let body: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
        let reasons = body["reasons"]
            .as_array()
            .expect("reasons")
            .iter()
            .map(|r| r.as_str().expect("text").to_owned())
            .collect();
        (status, reasons)
    }

    #[test]
    fn ready_means_connected_caught_up_and_agreeing() {
        let metrics = Metrics::default();
        let (status, reasons) = status_and_reasons(&metrics, 2);
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(reasons, ["not connected to a node"]);

        metrics.record_node(Some(NodeInfo::default()));
        metrics.record_resumed(Height::new(10).unwrap());
        metrics.record_node_height(Height::new(12).unwrap());
        assert_eq!(status_and_reasons(&metrics, 2), (StatusCode::OK, vec![]));

        metrics.record_node_height(Height::new(13).unwrap());
        let (status, reasons) = status_and_reasons(&metrics, 2);
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(reasons, ["3 blocks behind the node (most allowed: 2)"]);

        metrics.record_resumed(Height::new(13).unwrap());
        metrics.record_app_hash_mismatch();
        let (status, reasons) = status_and_reasons(&metrics, 2);
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(reasons, ["the app hash differed from the node's"]);
    }
}
