//! planetmint-stream: a validating event stream for Planetmint nodes.
//!
//! Layout, in the direction data flows:
//!
//! - [`source`]: CometBFT blocks in ([`source::node`] follows a live node,
//!   [`source::chain_file`] replays a recorded one), [`source::RawBlock`]s out.
//! - [`validate`]: the transaction core. Pure functions over the raw bytes a block carries:
//!   Python-compatible JSON decoding, Planetmint's canonical serialization and SHA3 ids,
//!   schema rules, crypto-condition verification, the [`validate::Verdict`], and per block
//!   ([`validate::block`]) what is published and Planetmint's app hash.
//! - [`pipeline`]: the validate stage's task: judges each block, logs and counts refusals,
//!   cross-checks the app hash, stores the block, then hands it to the hub.
//! - [`hub`]: encodes each message once and fans it out on a bounded ring per stream.
//! - [`sessions`]: one task per WebSocket subscriber: history (when resuming) then live
//!   frames out, pings, limits, close codes.
//!
//! Beside them: [`store`] (the cursor and the retained history, in redb), [`config`] (flags
//! and environment), [`server`] (listeners, routes, client limit, `/health`, `/ready`,
//! shutdown), [`service`] (wires the stages), [`metrics`] (counters), [`check`] (the
//! `check` command) and [`parallel`] (order-keeping parallel map).

pub mod check;
pub mod config;
pub mod hub;
pub mod metrics;
pub mod parallel;
pub mod pipeline;
pub mod server;
pub mod service;
pub mod sessions;
pub mod source;
pub mod store;
pub mod validate;
