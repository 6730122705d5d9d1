//! The names a transaction is judged under: its [`TxId`], its [`Operation`] and its
//! [`Version`].
//!
//! In: a hash input, or the decoded body's `operation` and `version` values. Out: these small
//! types, which every other part of the core (rules, checks, verdicts, blocks) shares. A leaf:
//! it reads the JSON model and nothing else of ours.

use std::fmt;

use sha3::{Digest, Sha3_256};

use super::json::{Object, Value};

/// A transaction id: SHA3-256 of a canonical form, shown as 64 lower-case hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TxId([u8; 32]);

impl TxId {
    /// SHA3-256 of `bytes`, the way Planetmint's `hash_data` computes ids.
    pub fn of(bytes: &[u8]) -> Self {
        TxId(Sha3_256::digest(bytes).into())
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The 64 lower-case hex digits, without allocating.
    pub fn hex(&self) -> [u8; 64] {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut out = [0u8; 64];
        for (i, b) in self.0.iter().enumerate() {
            out[2 * i] = DIGITS[usize::from(b >> 4)];
            out[2 * i + 1] = DIGITS[usize::from(b & 0xF)];
        }
        out
    }
}

impl fmt::Display for TxId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(std::str::from_utf8(&self.hex()).expect("hex digits are ASCII"))
    }
}

impl fmt::Debug for TxId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TxId({self})")
    }
}

/// The seven operations planetmint-transactions registers a class for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    Create,
    Transfer,
    Compose,
    Decompose,
    ValidatorElection,
    ChainMigrationElection,
    Vote,
}

impl Operation {
    fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "CREATE" => Operation::Create,
            "TRANSFER" => Operation::Transfer,
            "COMPOSE" => Operation::Compose,
            "DECOMPOSE" => Operation::Decompose,
            "VALIDATOR_ELECTION" => Operation::ValidatorElection,
            "CHAIN_MIGRATION_ELECTION" => Operation::ChainMigrationElection,
            "VOTE" => Operation::Vote,
            _ => return None,
        })
    }

    /// `Transaction.resolve_class(tx["operation"])` on the decoded body: a dict look-up, so
    /// only the seven registered names resolve, and a list or dict is unhashable.
    pub fn resolve(body: &Object) -> Result<Self, OperationError> {
        match body.get("operation") {
            Some(Value::Str(name)) => Self::parse(name).ok_or(OperationError::Unregistered),
            Some(Value::Array(_) | Value::Object(_)) => Err(OperationError::Unhashable),
            Some(_) => Err(OperationError::Unregistered),
            None => Err(OperationError::Missing),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "CREATE",
            Operation::Transfer => "TRANSFER",
            Operation::Compose => "COMPOSE",
            Operation::Decompose => "DECOMPOSE",
            Operation::ValidatorElection => "VALIDATOR_ELECTION",
            Operation::ChainMigrationElection => "CHAIN_MIGRATION_ELECTION",
            Operation::Vote => "VOTE",
        }
    }
}

/// Why a body's `operation` names no transaction class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OperationError {
    /// The body has no `operation` (`from_dict` hashes it as CREATE, then raises `KeyError`).
    #[error("no operation")]
    Missing,
    /// A list or an object, which Python cannot look up in a dict (`TypeError`).
    #[error("operation is unhashable")]
    Unhashable,
    /// Any other value: a string naming no registered class, a number, null.
    #[error("operation is not a registered transaction type")]
    Unregistered,
}

/// Transaction format version, as `validate_transaction_schema` splits it: `"3.0"` selects
/// the v3.0 rules, anything else the v2.0 rules (whose schema then insists on `"2.0"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V2,
    V3,
}

impl Version {
    /// The version a body's `version` value selects.
    pub fn of(version: &Value) -> Self {
        match version.as_str() {
            Some("3.0") => Version::V3,
            _ => Version::V2,
        }
    }

    /// The asset key the version's schema checks. `local_dict` holds `asset` iff the version
    /// is exactly "2.0" (`Transaction.get_assets_tag`), so a v2.0-checked version other than
    /// "2.0" brings `assets`, which the v2.0 schema refuses: only "2.0" and "3.0" can pass.
    pub fn asset_tag(self) -> &'static str {
        match self {
            Version::V2 => "asset",
            Version::V3 => "assets",
        }
    }
}
