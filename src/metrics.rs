//! Counters and gauges every stage reports to, rendered in Prometheus text format, and
//! the state `/ready` judges.
//!
//! In: increments from the source, validate, hub and session stages. Out: `GET /metrics`
//! and a [`Snapshot`] for `GET /ready` on the API listener. Plain atomics, so counting never
//! blocks a stage; refusals are counted per reason, and the node's identity kept, under
//! mutexes held only for one update.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use serde::Serialize;

use crate::chain::Height;

/// Upper bounds (seconds) of the latency histogram's buckets: from a millisecond (an
/// empty block to a local client) to ten seconds (the send timeout, beyond which the
/// subscriber is dropped).
const LATENCY_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// A Prometheus histogram over atomics: a count per bucket (not cumulative; summed when
/// rendered), the sum in microseconds, and the total count.
#[derive(Default)]
struct Histogram {
    buckets: [AtomicU64; LATENCY_BUCKETS.len()],
    sum_micros: AtomicU64,
    count: AtomicU64,
}

impl Histogram {
    fn observe(&self, value: Duration) {
        let seconds = value.as_secs_f64();
        if let Some(bucket) = LATENCY_BUCKETS.iter().position(|le| seconds <= *le) {
            self.buckets[bucket].fetch_add(1, Relaxed);
        }
        self.sum_micros
            .fetch_add(value.as_micros().min(u64::MAX as u128) as u64, Relaxed);
        self.count.fetch_add(1, Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        let mut cumulative = 0;
        for (le, bucket) in LATENCY_BUCKETS.iter().zip(&self.buckets) {
            cumulative += bucket.load(Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{le}\"}} {cumulative}");
        }
        let count = self.count.load(Relaxed);
        let sum = self.sum_micros.load(Relaxed) as f64 / 1e6;
        let _ = writeln!(
            out,
            "{name}_bucket{{le=\"+Inf\"}} {count}\n{name}_sum {sum}\n{name}_count {count}"
        );
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

/// Why a subscription was refused before the WebSocket upgrade, as counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// 503: the client limit is reached.
    TooManyClients,
    /// 410: `from_height` is older than the retained history.
    TooOld,
}

/// Why the service closed a subscriber's session, as counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    SlowConsumer,
    /// A resuming client whose next height was pruned from history before it got there.
    HistoryExpired,
    MessageTooBig,
    IdleTimeout,
}

#[derive(Default)]
pub struct Metrics {
    blocks: AtomicU64,
    blocks_seen: AtomicU64,
    transactions_seen: AtomicU64,
    published: AtomicU64,
    unverifiable: AtomicU64,
    last_height: AtomicU64,
    app_hash_mismatches: AtomicU64,
    node_reconnects: AtomicU64,
    backfilled: AtomicU64,
    node_height: AtomicU64,
    connected: AtomicBool,
    node: Mutex<Option<NodeInfo>>,
    pipeline_failures: AtomicU64,
    pipeline_failing: AtomicBool,
    latency: Histogram,
    subscribers: AtomicU64,
    slow_consumers: AtomicU64,
    idle_timeouts: AtomicU64,
    oversized_messages: AtomicU64,
    refused_clients: AtomicU64,
    history_expired: AtomicU64,
    refused_resumes: AtomicU64,
    refused: Mutex<BTreeMap<&'static str, u64>>,
}

impl Metrics {
    pub fn record_seen(&self, transactions: usize) {
        self.blocks_seen.fetch_add(1, Relaxed);
        self.transactions_seen
            .fetch_add(transactions as u64, Relaxed);
    }

    pub fn record_published(&self, height: Height, transactions: usize) {
        self.blocks.fetch_add(1, Relaxed);
        self.published.fetch_add(transactions as u64, Relaxed);
        self.last_height.store(height.get(), Relaxed);
    }

    /// The height published before a restart, from the store.
    pub fn record_resumed(&self, height: Height) {
        self.last_height.store(height.get(), Relaxed);
    }

    pub fn record_refused(&self, reason: &'static str) {
        let mut refused = self.refused.lock().unwrap_or_else(|e| e.into_inner());
        *refused.entry(reason).or_default() += 1;
    }

    pub fn record_unverifiable(&self) {
        self.unverifiable.fetch_add(1, Relaxed);
    }

    pub fn record_app_hash_mismatch(&self) {
        self.app_hash_mismatches.fetch_add(1, Relaxed);
    }

    pub fn record_reconnect(&self) {
        self.node_reconnects.fetch_add(1, Relaxed);
    }

    pub fn record_backfilled(&self) {
        self.backfilled.fetch_add(1, Relaxed);
    }

    /// The node's latest height as last seen (an event, a `/status`): lag is measured
    /// against it.
    pub fn record_node_height(&self, height: Height) {
        self.node_height.fetch_max(height.get(), Relaxed);
    }

    /// The source is following `node` now, or (None) lost it.
    pub fn record_node(&self, node: Option<NodeInfo>) {
        self.connected.store(node.is_some(), Relaxed);
        if node.is_some() {
            *self.node.lock().unwrap_or_else(|e| e.into_inner()) = node;
        }
    }

    /// Validating or storing a batch of blocks failed; it is retried, and nothing is
    /// published meanwhile.
    pub fn record_pipeline_failure(&self) {
        self.pipeline_failures.fetch_add(1, Relaxed);
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
        self.latency.observe(latency);
    }

    pub fn snapshot(&self) -> Snapshot {
        let last_height = self.last_height.load(Relaxed);
        let node_height = self.node_height.load(Relaxed);
        Snapshot {
            connected: self.connected.load(Relaxed),
            node: self.node.lock().unwrap_or_else(|e| e.into_inner()).clone(),
            last_height,
            node_height,
            lag: node_height.saturating_sub(last_height),
            subscribers: self.subscribers.load(Relaxed),
            app_hash_mismatches: self.app_hash_mismatches.load(Relaxed),
        }
    }

    pub fn subscriber_joined(&self) {
        self.subscribers.fetch_add(1, Relaxed);
    }

    pub fn subscriber_left(&self) {
        self.subscribers.fetch_sub(1, Relaxed);
    }

    pub fn record_refusal(&self, refusal: Refusal) {
        let counter = match refusal {
            Refusal::TooManyClients => &self.refused_clients,
            Refusal::TooOld => &self.refused_resumes,
        };
        counter.fetch_add(1, Relaxed);
    }

    pub fn record_close(&self, reason: CloseReason) {
        let counter = match reason {
            CloseReason::SlowConsumer => &self.slow_consumers,
            CloseReason::IdleTimeout => &self.idle_timeouts,
            CloseReason::MessageTooBig => &self.oversized_messages,
            CloseReason::HistoryExpired => &self.history_expired,
        };
        counter.fetch_add(1, Relaxed);
    }

    /// The Prometheus text exposition of every counter.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let mut metric = |name: &str, kind: &str, help: &str, value: u64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        };
        let get = |c: &AtomicU64| c.load(Relaxed);
        metric(
            "planetmint_stream_blocks_total",
            "counter",
            "Blocks published.",
            get(&self.blocks),
        );
        metric(
            "planetmint_stream_blocks_seen_total",
            "counter",
            "Blocks received from the source and judged.",
            get(&self.blocks_seen),
        );
        metric(
            "planetmint_stream_transactions_seen_total",
            "counter",
            "Transactions seen in blocks.",
            get(&self.transactions_seen),
        );
        metric(
            "planetmint_stream_transactions_published_total",
            "counter",
            "Transactions published.",
            get(&self.published),
        );
        metric(
            "planetmint_stream_transactions_unverifiable_total",
            "counter",
            "Published transactions with a part that could not be verified.",
            get(&self.unverifiable),
        );
        metric(
            "planetmint_stream_last_height",
            "gauge",
            "Height of the last published block.",
            get(&self.last_height),
        );
        metric(
            "planetmint_stream_app_hash_mismatches_total",
            "counter",
            "Blocks whose computed app hash differs from the node's.",
            get(&self.app_hash_mismatches),
        );
        metric(
            "planetmint_stream_node_reconnects_total",
            "counter",
            "Reconnections to the node.",
            get(&self.node_reconnects),
        );
        metric(
            "planetmint_stream_backfilled_blocks_total",
            "counter",
            "Blocks fetched over HTTP because no event brought them (gaps, reconnects, restarts).",
            get(&self.backfilled),
        );
        metric(
            "planetmint_stream_node_height",
            "gauge",
            "The node's latest height, as last seen.",
            get(&self.node_height),
        );
        metric(
            "planetmint_stream_lag_blocks",
            "gauge",
            "Blocks the node has that are not published yet.",
            get(&self.node_height).saturating_sub(get(&self.last_height)),
        );
        metric(
            "planetmint_stream_node_connected",
            "gauge",
            "1 while following a node (or replaying a file), else 0.",
            u64::from(self.connected.load(Relaxed)),
        );
        metric(
            "planetmint_stream_pipeline_failures_total",
            "counter",
            "Failed attempts to validate or store blocks (retried; nothing is published unjudged or unstored).",
            get(&self.pipeline_failures),
        );
        metric(
            "planetmint_stream_subscribers",
            "gauge",
            "Connected stream subscribers.",
            get(&self.subscribers),
        );
        metric(
            "planetmint_stream_slow_consumers_closed_total",
            "counter",
            "Subscribers closed for falling a whole queue behind.",
            get(&self.slow_consumers),
        );
        metric(
            "planetmint_stream_idle_timeouts_total",
            "counter",
            "Subscribers closed for silence.",
            get(&self.idle_timeouts),
        );
        metric(
            "planetmint_stream_oversized_messages_total",
            "counter",
            "Subscribers closed for sending a message over the limit.",
            get(&self.oversized_messages),
        );
        metric(
            "planetmint_stream_refused_clients_total",
            "counter",
            "Upgrades refused at the client limit.",
            get(&self.refused_clients),
        );
        metric(
            "planetmint_stream_history_expired_total",
            "counter",
            "Resuming subscribers closed because their next height left the retained history.",
            get(&self.history_expired),
        );
        metric(
            "planetmint_stream_refused_resumes_total",
            "counter",
            "Resumes refused (410) for a from_height older than the retained history.",
            get(&self.refused_resumes),
        );
        self.latency.render(
            &mut out,
            "planetmint_stream_event_to_send_seconds",
            "Time from a NewBlock event to a live subscriber having been sent the block's messages.",
        );
        let refused = self.refused.lock().unwrap_or_else(|e| e.into_inner());
        let _ = writeln!(
            out,
            "# HELP planetmint_stream_transactions_refused_total Transactions not published, by reason.\n# TYPE planetmint_stream_transactions_refused_total counter"
        );
        for (reason, count) in refused.iter() {
            let _ = writeln!(
                out,
                "planetmint_stream_transactions_refused_total{{reason=\"{reason}\"}} {count}"
            );
        }
        out
    }
}
