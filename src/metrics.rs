//! Counters and gauges every stage reports to, kept in a `prometheus-client` registry and
//! exposed in the Prometheus text format, and the state `/ready` judges.
//!
//! In: increments from the source, validate, hub and session stages. Out: `GET /metrics`
//! ([`Metrics::render`], served as [`EXPOSITION_CONTENT_TYPE`]) and a [`Snapshot`] for
//! `GET /ready` on the API listener. Counters and gauges are atomics, so counting never
//! blocks a stage; the latency histogram, the refusals per reason and the node's identity
//! sit under locks held only for one update.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use prometheus_client::encoding::{EncodeLabelSet, EncodeMetric, MetricEncoder, prometheus_text};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::{MetricType, TypedMetric};
use prometheus_client::registry::{Metric, Registry};
use serde::Serialize;

use crate::chain::Height;

/// The `Content-Type` of [`Metrics::render`]'s output: the Prometheus text format 0.0.4, as
/// before the registry (the type now also names its charset, UTF-8), so scrapers and
/// dashboards see the same samples.
pub const EXPOSITION_CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

/// Upper bounds (seconds) of the latency histogram's buckets: from a millisecond (an
/// empty block to a local client) to ten seconds (the send timeout, beyond which the
/// subscriber is dropped).
const LATENCY_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// Heights and counts of things present: never negative.
type U64Gauge = Gauge<u64, AtomicU64>;

/// The label set of `planetmint_stream_transactions_refused_total`: the validate stage's
/// refusal reason.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RefusedLabels {
    reason: &'static str,
}

/// `planetmint_stream_lag_blocks`, computed from the two heights when scraped. A gauge set
/// on every change of either height would need the two read and the difference stored as
/// one step, else the source and the validate stage updating at once can leave a stale
/// difference standing until the next block; computed while encoding, it is always the
/// difference of the heights as they are at the scrape.
#[derive(Debug)]
struct Lag {
    /// The node's height (or, for the export's lag, the last published one)...
    ahead: U64Gauge,
    /// ...and how far this side got: published (or exported).
    behind: U64Gauge,
}

impl Lag {
    /// Saturating: after a restart the last height is known before the node's, and a node
    /// may be behind what was published (restored from an older snapshot).
    fn get(&self) -> u64 {
        self.ahead.get().saturating_sub(self.behind.get())
    }
}

/// The NATS export's side, registered only when it runs.
#[derive(Debug, Default)]
struct Export {
    height: U64Gauge,
    connected: U64Gauge,
    errors: Counter,
    reconnects: Counter,
}

/// Where the export stands, for `/ready`.
#[derive(Debug, Clone, Serialize)]
pub struct ExportSnapshot {
    pub connected: bool,
    /// The last block whose every message NATS acknowledged.
    pub height: Option<u64>,
    pub lag: u64,
}

impl TypedMetric for Lag {
    const TYPE: MetricType = MetricType::Gauge;
}

impl EncodeMetric for Lag {
    fn encode(&self, encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        ConstGauge::new(self.get()).encode(encoder)
    }

    fn metric_type(&self) -> MetricType {
        Self::TYPE
    }
}

/// Which node the source follows now.
#[derive(Debug, Clone, Default, Serialize)]
pub struct NodeInfo {
    pub url: String,
    pub dialect: String,
    pub chain_id: String,
}

/// What `/ready` reports and judges.
#[derive(Debug, Clone, Serialize)]
pub struct Snapshot {
    pub connected: bool,
    pub node: Option<NodeInfo>,
    pub last_height: u64,
    pub node_height: u64,
    pub lag: u64,
    pub subscribers: u64,
    pub app_hash_mismatches: u64,
}

/// Why a stream request was refused before the WebSocket upgrade, as counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// 503: the client limit is reached.
    TooManyClients,
    /// 410: a resume whose `from_height` is older than the retained history.
    TooOld,
    /// 400 or 414: a query string with an unknown parameter, a malformed value, or too
    /// many values or bytes.
    BadQuery,
    /// 503: all subscribers' filters hold the most values allowed.
    FilterBudget,
    /// 429: the client's address holds the most subscribers allowed.
    PerAddress,
    /// Closed at once, before any HTTP: too many connections were in their HTTP phase.
    TooManyPending,
    /// Closed: the TLS handshake or a request head was not complete in time.
    HeadTimeout,
}

/// Why the server closed a subscriber's WebSocket, as counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    SlowConsumer,
    /// A resuming client whose next height was pruned from history before it got there.
    HistoryExpired,
    MessageTooBig,
    IdleTimeout,
    /// Sent messages (pings and pongs included) faster than its rate.
    MessageRate,
    /// Sent bytes faster than its rate.
    ByteRate,
}

pub struct Metrics {
    blocks_published: Counter,
    blocks_seen: Counter,
    transactions_seen: Counter,
    transactions_published: Counter,
    unverifiable: Counter,
    last_height: U64Gauge,
    app_hash_mismatches: Counter,
    node_reconnects: Counter,
    backfilled: Counter,
    node_height: U64Gauge,
    /// 1 or 0: whether a node is followed.
    connected: U64Gauge,
    pipeline_failures: Counter,
    subscribers: U64Gauge,
    tainted_outputs: U64Gauge,
    slow_consumers: Counter,
    idle_timeouts: Counter,
    oversized_messages: Counter,
    refused_clients: Counter,
    history_expired: Counter,
    refused_resumes: Counter,
    refused_queries: Counter,
    refused_filters: Counter,
    refused_per_address: Counter,
    refused_pending: Counter,
    head_timeouts: Counter,
    pending: U64Gauge,
    message_rate_closed: Counter,
    byte_rate_closed: Counter,
    latency: Histogram,
    refused: Family<RefusedLabels, Counter>,
    registry: Registry,
    node: Mutex<Option<NodeInfo>>,
    pipeline_failing: AtomicBool,
    export: Option<Export>,
    /// Set while the store refuses blocks because the export is too far behind.
    export_holding: AtomicBool,
}

/// Registers `metric` as `name` and hands it back to be kept for updating. The crate adds
/// `_total` to a counter's name and a full stop to `help`: neither is written here.
fn registered<M: Metric + Clone>(registry: &mut Registry, name: &str, help: &str, metric: M) -> M {
    registry.register(name, help, metric.clone());
    metric
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::default();
        let r = &mut registry;
        let counter = |r: &mut Registry, name: &str, help: &str| {
            registered(r, name, help, Counter::default())
        };
        let gauge = |r: &mut Registry, name: &str, help: &str| {
            registered(r, name, help, U64Gauge::default())
        };
        let mut metrics = Self {
            blocks_published: counter(r, "planetmint_stream_blocks", "Blocks published"),
            blocks_seen: counter(
                r,
                "planetmint_stream_blocks_seen",
                "Blocks received from the source and judged",
            ),
            transactions_seen: counter(
                r,
                "planetmint_stream_transactions_seen",
                "Transactions seen in blocks",
            ),
            transactions_published: counter(
                r,
                "planetmint_stream_transactions_published",
                "Transactions published",
            ),
            unverifiable: counter(
                r,
                "planetmint_stream_transactions_unverifiable",
                "Published transactions with a part that could not be verified",
            ),
            last_height: gauge(
                r,
                "planetmint_stream_last_height",
                "Height of the last published block",
            ),
            app_hash_mismatches: counter(
                r,
                "planetmint_stream_app_hash_mismatches",
                "Blocks whose computed app hash differs from the node's",
            ),
            node_reconnects: counter(
                r,
                "planetmint_stream_node_reconnects",
                "Reconnections to the node",
            ),
            backfilled: counter(
                r,
                "planetmint_stream_backfilled_blocks",
                "Blocks fetched over HTTP because no event brought them (gaps, reconnects, restarts)",
            ),
            node_height: gauge(
                r,
                "planetmint_stream_node_height",
                "The node's latest height, as last seen",
            ),
            connected: gauge(
                r,
                "planetmint_stream_node_connected",
                "1 while following a node (or replaying a file), else 0",
            ),
            pipeline_failures: counter(
                r,
                "planetmint_stream_pipeline_failures",
                "Failed attempts to validate or store blocks (retried; nothing is published unjudged or unstored)",
            ),
            subscribers: gauge(
                r,
                "planetmint_stream_subscribers",
                "Connected stream subscribers",
            ),
            tainted_outputs: gauge(
                r,
                "planetmint_stream_tainted_outputs",
                "Unspent outputs of transactions the node accepted and the stream refused: spending one is refused too",
            ),
            slow_consumers: counter(
                r,
                "planetmint_stream_slow_consumers_closed",
                "Subscribers closed for falling a whole queue behind",
            ),
            idle_timeouts: counter(
                r,
                "planetmint_stream_idle_timeouts",
                "Subscribers closed for silence",
            ),
            oversized_messages: counter(
                r,
                "planetmint_stream_oversized_messages",
                "Subscribers closed for sending a message over the limit",
            ),
            refused_clients: counter(
                r,
                "planetmint_stream_refused_clients",
                "Upgrades refused at the client limit",
            ),
            history_expired: counter(
                r,
                "planetmint_stream_history_expired",
                "Resuming subscribers closed because their next height left the retained history",
            ),
            refused_resumes: counter(
                r,
                "planetmint_stream_refused_resumes",
                "Resumes refused (410) for a from_height older than the retained history",
            ),
            refused_queries: counter(
                r,
                "planetmint_stream_refused_queries",
                "Subscriptions refused (400, 414) for a malformed, unknown or oversized query string",
            ),
            refused_filters: counter(
                r,
                "planetmint_stream_refused_filters",
                "Subscriptions refused (503) because all subscribers' filters held the most values allowed",
            ),
            refused_per_address: counter(
                r,
                "planetmint_stream_refused_per_address",
                "Upgrades refused (429) because the client's address held the most subscribers allowed",
            ),
            refused_pending: counter(
                r,
                "planetmint_stream_refused_pending",
                "Connections closed at once because the most connections allowed were in their HTTP phase",
            ),
            head_timeouts: counter(
                r,
                "planetmint_stream_request_head_timeouts",
                "Connections closed for not completing their TLS handshake or request head in time",
            ),
            pending: gauge(
                r,
                "planetmint_stream_pending_connections",
                "Connections in their TLS handshake or HTTP phase (not subscribers yet), both listeners",
            ),
            message_rate_closed: counter(
                r,
                "planetmint_stream_message_rate_closed",
                "Subscribers closed (1008) for sending messages, pings included, faster than allowed",
            ),
            byte_rate_closed: counter(
                r,
                "planetmint_stream_byte_rate_closed",
                "Subscribers closed (1008) for sending bytes faster than allowed",
            ),
            latency: registered(
                r,
                "planetmint_stream_event_to_send_seconds",
                "Time from a NewBlock event to a live subscriber having been sent the block's messages",
                Histogram::new(LATENCY_BUCKETS),
            ),
            refused: registered(
                r,
                "planetmint_stream_transactions_refused",
                "Transactions not published, by reason",
                Family::default(),
            ),
            registry,
            node: Mutex::default(),
            pipeline_failing: AtomicBool::default(),
            export: None,
            export_holding: AtomicBool::default(),
        };
        let lag = Lag {
            ahead: metrics.node_height.clone(),
            behind: metrics.last_height.clone(),
        };
        metrics.registry.register(
            "planetmint_stream_lag_blocks",
            "Blocks the node has that are not published yet",
            lag,
        );
        metrics
    }
}

impl Metrics {
    pub fn record_seen(&self, transactions: usize) {
        self.blocks_seen.inc();
        self.transactions_seen.inc_by(transactions as u64);
    }

    /// Registers the NATS export's metrics: the service exports.
    pub fn enable_export(&mut self) {
        let export = Export::default();
        let r = &mut self.registry;
        r.register(
            "planetmint_stream_export_height",
            "Height of the last block whose every message NATS acknowledged",
            export.height.clone(),
        );
        r.register(
            "planetmint_stream_export_lag_blocks",
            "Blocks published but not yet exported to NATS",
            Lag {
                ahead: self.last_height.clone(),
                behind: export.height.clone(),
            },
        );
        r.register(
            "planetmint_stream_export_connected",
            "1 while connected to NATS with the stream checked, else 0",
            export.connected.clone(),
        );
        r.register(
            "planetmint_stream_export_publish_errors",
            "Export sessions ended by an error (connecting, publishing, acknowledgements)",
            export.errors.clone(),
        );
        r.register(
            "planetmint_stream_export_reconnects",
            "Reconnections to NATS",
            export.reconnects.clone(),
        );
        self.export = Some(export);
    }

    pub fn record_exported(&self, height: Option<Height>) {
        if let Some(export) = &self.export {
            export.height.set(height.map_or(0, Height::get));
        }
    }

    pub fn record_export_connected(&self, connected: bool) {
        if let Some(export) = &self.export {
            export.connected.set(u64::from(connected));
        }
    }

    pub fn record_export_error(&self) {
        if let Some(export) = &self.export {
            export.errors.inc();
        }
    }

    pub fn record_export_reconnect(&self) {
        if let Some(export) = &self.export {
            export.reconnects.inc();
        }
    }

    /// Whether the store refuses blocks because the export is too far behind.
    pub fn record_export_holding(&self, holding: bool) {
        self.export_holding.store(holding, Relaxed);
    }

    pub fn export_holding(&self) -> bool {
        self.export_holding.load(Relaxed)
    }

    /// The export's state, when the service exports.
    pub fn export_snapshot(&self) -> Option<ExportSnapshot> {
        let export = self.export.as_ref()?;
        let height = export.height.get();
        Some(ExportSnapshot {
            connected: export.connected.get() == 1,
            height: (height > 0).then_some(height),
            lag: self.last_height.get().saturating_sub(height),
        })
    }

    pub fn record_published(&self, height: Height, transactions: usize) {
        self.blocks_published.inc();
        self.transactions_published.inc_by(transactions as u64);
        self.last_height.set(height.get());
    }

    /// The height published before a restart, from the store.
    pub fn record_resumed(&self, height: Height) {
        self.last_height.set(height.get());
    }

    pub fn record_refused(&self, reason: &'static str) {
        self.refused.get_or_create(&RefusedLabels { reason }).inc();
    }

    pub fn record_unverifiable(&self) {
        self.unverifiable.inc();
    }

    pub fn record_app_hash_mismatch(&self) {
        self.app_hash_mismatches.inc();
    }

    pub fn record_reconnect(&self) {
        self.node_reconnects.inc();
    }

    pub fn record_backfilled(&self) {
        self.backfilled.inc();
    }

    /// The node's latest height as last seen (an event, a `/status`): lag is measured
    /// against it.
    pub fn record_tainted(&self, outputs: usize) {
        self.tainted_outputs.set(outputs as u64);
    }

    pub fn record_node_height(&self, height: Height) {
        self.node_height.inner().fetch_max(height.get(), Relaxed);
    }

    /// The source is following `node` now, or (None) lost it.
    pub fn record_node(&self, node: Option<NodeInfo>) {
        self.connected.set(u64::from(node.is_some()));
        if node.is_some() {
            *self.node.lock().unwrap_or_else(|e| e.into_inner()) = node;
        }
    }

    /// Validating or storing a batch of blocks failed; it is retried, and nothing is
    /// published meanwhile.
    pub fn record_pipeline_failure(&self) {
        self.pipeline_failures.inc();
        self.pipeline_failing.store(true, Relaxed);
    }

    /// A batch of blocks was stored and published.
    pub fn record_pipeline_ok(&self) {
        self.pipeline_failing.store(false, Relaxed);
    }

    /// Whether the last attempt to validate or store blocks failed: `/health` says so, so
    /// that a supervisor restarts a process whose store went bad (redb refuses every
    /// operation after an I/O error until reopened; a restart resumes exactly).
    pub fn pipeline_failing(&self) -> bool {
        self.pipeline_failing.load(Relaxed)
    }

    /// Time from a block's NewBlock event to a subscriber having been sent its messages.
    pub fn record_latency(&self, latency: Duration) {
        self.latency.observe(latency.as_secs_f64());
    }

    pub fn snapshot(&self) -> Snapshot {
        let last_height = self.last_height.get();
        let node_height = self.node_height.get();
        Snapshot {
            connected: self.connected.get() == 1,
            node: self.node.lock().unwrap_or_else(|e| e.into_inner()).clone(),
            last_height,
            node_height,
            lag: node_height.saturating_sub(last_height),
            subscribers: self.subscribers.get(),
            app_hash_mismatches: self.app_hash_mismatches.get(),
        }
    }

    pub fn subscriber_joined(&self) {
        self.subscribers.inc();
    }

    pub fn subscriber_left(&self) {
        self.subscribers.dec();
    }

    pub fn record_refusal(&self, refusal: Refusal) {
        match refusal {
            Refusal::TooManyClients => self.refused_clients.inc(),
            Refusal::TooOld => self.refused_resumes.inc(),
            Refusal::BadQuery => self.refused_queries.inc(),
            Refusal::FilterBudget => self.refused_filters.inc(),
            Refusal::PerAddress => self.refused_per_address.inc(),
            Refusal::TooManyPending => self.refused_pending.inc(),
            Refusal::HeadTimeout => self.head_timeouts.inc(),
        };
    }

    pub fn record_close(&self, reason: CloseReason) {
        match reason {
            CloseReason::SlowConsumer => self.slow_consumers.inc(),
            CloseReason::HistoryExpired => self.history_expired.inc(),
            CloseReason::MessageTooBig => self.oversized_messages.inc(),
            CloseReason::IdleTimeout => self.idle_timeouts.inc(),
            CloseReason::MessageRate => self.message_rate_closed.inc(),
            CloseReason::ByteRate => self.byte_rate_closed.inc(),
        };
    }

    /// A connection entered its TLS handshake or HTTP phase (`true`), or left it (upgraded,
    /// or closed).
    pub fn record_pending(&self, entered: bool) {
        if entered {
            self.pending.inc();
        } else {
            self.pending.dec();
        }
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = String::new();
        prometheus_text::encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn height(n: u64) -> Height {
        Height::new(n).expect("positive")
    }

    /// The names, HELP texts, labels and bucket bounds dashboards and alerts are written
    /// against: spelled out here, not taken from the registrations.
    #[test]
    fn exposition_keeps_the_names_dashboards_use() {
        let metrics = Metrics::default();
        metrics.record_published(height(7), 3);
        metrics.record_node_height(height(10));
        metrics.record_refused("node_rejected");
        metrics.record_refused("node_rejected");
        metrics.record_latency(Duration::from_millis(3));
        metrics.record_refusal(Refusal::TooOld);
        metrics.record_close(CloseReason::SlowConsumer);
        let text = metrics.render();

        let bounds = "0.001 0.0025 0.005 0.01 0.025 0.05 0.1 0.25 0.5 1 2.5 10 +Inf";
        let buckets: String = bounds
            .split(' ')
            .map(|le| {
                // The one observation, 3 ms, is in every bucket from 5 ms up.
                // (Rust parses "+Inf" as infinity.)
                let count = u64::from(le.parse::<f64>().expect("a bound") >= 0.003);
                format!("planetmint_stream_event_to_send_seconds_bucket{{le=\"{le}\"}} {count}\n")
            })
            .collect();
        for expected in [
            "# HELP planetmint_stream_blocks_total Blocks published.\n\
             # TYPE planetmint_stream_blocks_total counter\n\
             planetmint_stream_blocks_total 1\n",
            "\nplanetmint_stream_transactions_published_total 3\n",
            "# HELP planetmint_stream_transactions_refused_total Transactions not published, by reason.\n\
             # TYPE planetmint_stream_transactions_refused_total counter\n\
             planetmint_stream_transactions_refused_total{reason=\"node_rejected\"} 2\n",
            "# TYPE planetmint_stream_event_to_send_seconds histogram\n",
            &buckets,
            "planetmint_stream_event_to_send_seconds_sum 0.003\n\
             planetmint_stream_event_to_send_seconds_count 1\n",
            "# HELP planetmint_stream_lag_blocks Blocks the node has that are not published yet.\n\
             # TYPE planetmint_stream_lag_blocks gauge\n\
             planetmint_stream_lag_blocks 3\n",
            "\nplanetmint_stream_refused_resumes_total 1\n",
            "\nplanetmint_stream_refused_clients_total 0\n",
            "\nplanetmint_stream_slow_consumers_closed_total 1\n",
            "\nplanetmint_stream_refused_per_address_total 0\n",
            "\nplanetmint_stream_refused_pending_total 0\n",
            "\nplanetmint_stream_request_head_timeouts_total 0\n",
            "\nplanetmint_stream_pending_connections 0\n",
            "\nplanetmint_stream_message_rate_closed_total 0\n",
            "\nplanetmint_stream_byte_rate_closed_total 0\n",
        ] {
            assert!(text.contains(expected), "no {expected:?} in:\n{text}");
        }

        // The lag follows either height at once, and a node behind what was published is
        // no lag rather than a wrapped one.
        metrics.record_published(height(9), 0);
        assert!(
            metrics
                .render()
                .contains("\nplanetmint_stream_lag_blocks 1\n")
        );
        metrics.record_resumed(height(12));
        assert!(
            metrics
                .render()
                .contains("\nplanetmint_stream_lag_blocks 0\n")
        );
        metrics.record_node_height(height(15));
        assert!(
            metrics
                .render()
                .contains("\nplanetmint_stream_lag_blocks 3\n")
        );
    }
}
