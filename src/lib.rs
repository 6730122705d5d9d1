//! planetmint-stream: a validating event stream for Planetmint nodes.
//!
//! Layout, in the direction data flows (a stage imports the shared types and stages before
//! it, never one after it, with one exception that is no cycle: the source reads the store's
//! cursor, where to continue, and claims the store for its chain):
//!
//! - [`source`]: CometBFT blocks in ([`source::node`] follows live nodes,
//!   [`source::chain_file`] replays a recorded chain), [`chain::RawBlock`]s out. Any
//!   [`source::BlockSource`] can feed the service.
//! - [`validate`]: the transaction core. Pure functions over the raw bytes a block carries:
//!   Python-compatible JSON decoding and Planetmint's canonical serialization
//!   ([`validate::json`]), SHA3 ids and the transaction model ([`validate::model`]), schema
//!   rules, crypto-condition verification, the [`validate::Verdict`], and per block
//!   ([`validate::judge`]) what is published and Planetmint's app hash.
//! - `pipeline`: the validate stage's task: judges each block, logs and counts refusals,
//!   cross-checks the app hash, encodes the block's messages, stores them, then hands them
//!   to the hub.
//! - [`store`]: the cursor and the retained history, in redb; written before publishing.
//! - [`hub`]: fans each stored block out on one bounded ring.
//! - [`sessions`]: one task per WebSocket subscriber: history (when resuming) then live
//!   frames out, pings, limits, close codes; the hand-over is a pure [`sessions::Cursor`],
//!   and which frames of a block a subscriber gets is a pure view of its [`filter`].
//!
//! Shared types, leaves: [`chain`] (`Height`, `RawBlock`, `OutputLink`; imports nothing of
//! ours) and [`wire`] (the stream messages, encoded once: `Frame`, `EncodedBlock`,
//! `StreamKind`, and the block index filters look values up in; imports only `chain`).
//! [`filter`] turns a subscriber's query string into a [`filter::Subscription`] (resume
//! height, [`filter::Filter`], ids or bodies; imports only `chain` and `wire`); the server
//! parses with it, the sessions pick a block's transactions with it through the block's
//! [`wire::index::BlockIndex`].
//! - [`export`]: trails the store, beside the hub: stored blocks out to NATS JetStream,
//!   exactly once, in order (`serve --nats`).
//!
//! Beside the stages: [`server`] (listeners, routes, client limits, `/health`, `/ready`,
//! shutdown), [`limits`] (the pure decisions that hold hostile clients: rates, per-address
//! counts, whom `X-Forwarded-For` is believed from; a leaf), [`service`] (wires the stages), [`metrics`] (counters, Prometheus text),
//! [`check`] (the `check` command), [`parallel`] (order-keeping parallel map) and
//! [`backoff`] (the reconnecting loops' pauses). The
//! binary (`main.rs`, `cli.rs`) turns flags into the stages' settings structs.

pub mod backoff;
pub mod chain;
pub mod check;
pub mod export;
pub mod filter;
pub mod hub;
pub mod limits;
pub mod metrics;
pub mod parallel;
mod pipeline;
pub mod server;
pub mod service;
pub mod sessions;
pub mod source;
pub mod store;
pub mod validate;
pub mod wire;
