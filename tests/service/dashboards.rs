//! The Grafana dashboard of `deploy/grafana/` against the service: its JSON parses, every
//! panel queries something, and every metric its queries name is one the service exports
//! (a replayed chain's `/metrics`, and the NATS export's metrics from a registry with the
//! export enabled, as `--nats` registers them). The alert rules' names are held to the same
//! (their logic is unit-tested by `promtool` in `.ci/run`).

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use tokio::time::Instant;

use planetmint_stream::metrics::Metrics;

use crate::support::*;

/// Every metric of this service starts so; the other words of a query (functions, labels,
/// Grafana's variables) do not.
const PREFIX: &str = "planetmint_stream_";

/// The text of `relative`, a path under `deploy/`.
fn deployed(relative: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("deploy")
        .join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

fn dashboard() -> Value {
    serde_json::from_str(&deployed("grafana/planetmint-stream.json"))
        .unwrap_or_else(|e| panic!("the dashboard is not JSON: {e}"))
}

/// The PromQL of every panel's targets, each panel having at least one, and of the
/// template variables.
fn queries(dashboard: &Value) -> Vec<String> {
    let panels = dashboard["panels"].as_array().expect("panels");
    assert!(!panels.is_empty(), "a dashboard without panels");
    let mut queries = Vec::new();
    for panel in panels {
        let targets = panel["targets"].as_array().cloned().unwrap_or_default();
        let exprs: Vec<String> = targets
            .iter()
            .filter_map(|target| target["expr"].as_str().map(str::to_owned))
            .filter(|expr| !expr.trim().is_empty())
            .collect();
        assert!(
            !exprs.is_empty(),
            "panel {} queries nothing",
            panel["title"]
        );
        queries.extend(exprs);
    }
    let variables = dashboard["templating"]["list"].as_array().cloned();
    queries.extend(
        variables
            .unwrap_or_default()
            .iter()
            .filter_map(|variable| variable["query"].as_str().map(str::to_owned)),
    );
    queries
}

/// The metric names `queries` use: each run of name characters that starts with
/// [`PREFIX`].
fn named_metrics(queries: &[String]) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for query in queries {
        let mut rest = query.as_str();
        while let Some(at) = rest.find(PREFIX) {
            let name = &rest[at..];
            let end = name
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(name.len());
            names.insert(name[..end].to_owned());
            rest = &name[end..];
        }
    }
    names
}

/// The names of the samples in a Prometheus text exposition (a histogram's are its
/// `_bucket`, `_sum` and `_count` series; a labelled family with no child has none).
fn exported(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.split(['{', ' ']).next())
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The dashboard and the alert rules name only exported metrics. A replay of the recorded chain fills the
/// families that have samples only once counted (refusals by reason); the test waits for
/// them rather than for the whole chain.
#[tokio::test]
async fn dashboard_and_alerts_name_only_exported_metrics() {
    let mut sources = queries(&dashboard());
    sources.push(deployed("prometheus/alerts.yml"));
    let named = named_metrics(&sources);
    let mut with_export = Metrics::default();
    with_export.enable_export();
    let without = exported(&Metrics::default().render());
    let export: BTreeSet<String> = exported(&with_export.render())
        .difference(&without)
        .cloned()
        .collect();
    assert!(
        named.contains("planetmint_stream_export_lag_blocks"),
        "the dashboard shows no export lag; the export's metrics are {export:?}"
    );

    let service = Service::start(replay(CHAIN).await, server_args()).await;
    let deadline = Instant::now() + CHAIN_WITHIN;
    let missing = loop {
        let served = exported(&get_text(service.api, "/metrics").await.1);
        let missing: Vec<&String> = named
            .iter()
            .filter(|name| !served.contains(*name) && !export.contains(*name))
            .collect();
        if missing.is_empty() || Instant::now() >= deadline {
            break missing;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        missing.is_empty(),
        "the dashboard or the alert rules name metrics the service does not export: {missing:?}"
    );
    service.shut_down().await;
}
