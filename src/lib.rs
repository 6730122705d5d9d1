//! planetmint-stream: a validating event stream for Planetmint nodes.
//!
//! Layout, in the direction data flows:
//!
//! - [`validate`]: the transaction core. Pure functions over the raw bytes a CometBFT block
//!   carries: Python-compatible JSON decoding, Planetmint's canonical serialization and SHA3
//!   ids, schema rules, crypto-condition verification, and the [`validate::Verdict`].
//! - [`check`]: the `check` command, which runs the core over a file of transactions in
//!   parallel, keeping input order.

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
pub mod validate;
