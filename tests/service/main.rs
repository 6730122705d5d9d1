//! The stream service end to end, in one test binary: the real service (in-process, or the
//! binary) following a test CometBFT node (`planetmint-test-node`) that serves the recorded
//! chains of `fixtures/chains/`, checked against the expected stream output recorded there
//! (computed by Planetmint's own library, `tools/gen_chains.py`, never our own output).
//! Every port is ephemeral and every wait is bounded.
//!
//! One module per feature: [`fixtures`] (the streams match the recorded ones, and `record`
//! writes the chain files back), [`resume`] (`?from_height=N`: history, then live),
//! [`node_faults`] (what the node does wrong, and the soak test), [`client_limits`] (what
//! clients may do), [`operator`] (the API root, health, readiness, metrics),
//! [`hostile`] (slow heads, floods, per-address limits, against the binary),
//! [`lifecycle`] (start, shutdown, signals, the store across restarts, exit statuses),
//! [`filters`] (filters, bodies, the refused stream, tainted spends), [`replicas`]
//! (replicas of one node send the same streams; clients resume on any of them),
//! [`export`] (the NATS JetStream export, against a real `nats-server`), [`tls`]
//! (`wss://` and `https://`, certificate renewal), [`dashboards`] (the dashboard and
//! alert rules name only metrics the service exports), [`page`] (the browser page at
//! `/streams`, in a headless Chromium) and [`swap_in`] (beside Planetmint: ports, its
//! variables, the shipped nginx snippet and systemd unit).

mod support;

mod client_limits;
mod dashboards;
mod export;
mod filters;
mod fixtures;
mod hostile;
mod lifecycle;
mod node_faults;
mod operator;
mod page;
mod replicas;
mod resume;
mod swap_in;
mod tls;
