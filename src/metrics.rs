//! Counters every stage reports to, rendered in Prometheus text format.
//!
//! In: increments from the source, validate, hub and session stages. Out: `GET /metrics`
//! on the API listener. Plain atomics, so counting never blocks a stage; refusals are
//! counted per reason under a mutex held only for one map update.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use crate::source::Height;

/// Why a client connection was closed or refused, as counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientEnd {
    SlowConsumer,
    IdleTimeout,
    MessageTooBig,
    TooManyClients,
}

#[derive(Default)]
pub struct Metrics {
    blocks: AtomicU64,
    transactions_seen: AtomicU64,
    published: AtomicU64,
    unverifiable: AtomicU64,
    last_height: AtomicU64,
    app_hash_mismatches: AtomicU64,
    node_reconnects: AtomicU64,
    subscribers: AtomicU64,
    slow_consumers: AtomicU64,
    idle_timeouts: AtomicU64,
    oversized_messages: AtomicU64,
    refused_clients: AtomicU64,
    refused: Mutex<BTreeMap<&'static str, u64>>,
}

impl Metrics {
    pub fn record_seen(&self, transactions: usize) {
        self.transactions_seen
            .fetch_add(transactions as u64, Relaxed);
    }

    pub fn record_published(&self, height: Height, transactions: usize) {
        self.blocks.fetch_add(1, Relaxed);
        self.published.fetch_add(transactions as u64, Relaxed);
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

    pub fn subscriber_joined(&self) {
        self.subscribers.fetch_add(1, Relaxed);
    }

    pub fn subscriber_left(&self) {
        self.subscribers.fetch_sub(1, Relaxed);
    }

    pub fn record_client_end(&self, end: ClientEnd) {
        let counter = match end {
            ClientEnd::SlowConsumer => &self.slow_consumers,
            ClientEnd::IdleTimeout => &self.idle_timeouts,
            ClientEnd::MessageTooBig => &self.oversized_messages,
            ClientEnd::TooManyClients => &self.refused_clients,
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
