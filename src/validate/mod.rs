//! The transaction core: decides whether raw transaction bytes are a valid Planetmint
//! transaction, and under which ids.
//!
//! In: the raw bytes of one transaction as a CometBFT block carries them. Out: a [`Verdict`].
//! No I/O and no global state; every function here is pure, so the stage can run on any
//! thread and be tested against Planetmint's own library byte for byte.
//!
//! Inside: [`json`] decodes as Python does and serializes as python-rapidjson does
//! ([`json::canonical`]), `encodings` decodes base16/32/64 as Python's `base64` module does,
//! [`model`] names a transaction ([`TxId`], [`Operation`], [`Version`]), [`schema`] holds the
//! structural rules of transaction versions 2.0 and 3.0, [`condition`] parses and verifies
//! crypto-condition fulfillments, [`transaction`] ties them into ids, signed messages and
//! the [`verdict`], and [`judge`] judges whole blocks.

pub mod condition;
mod encodings;
pub mod extract;
pub mod json;
pub mod judge;
pub mod model;
pub mod schema;
pub mod taint;
pub mod transaction;
pub mod verdict;

pub use model::{Operation, TxId, Version};
pub use transaction::validate;
pub use verdict::{Invalid, Transaction, Verdict};
