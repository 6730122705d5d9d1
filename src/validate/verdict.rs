//! What the core says about a transaction: the [`Verdict`], and in it either the checked
//! [`Transaction`] with its inputs and outputs or the reason it is [`Invalid`].
//!
//! In: nothing; the transaction module builds these. Out: the types the pipeline, the hub and
//! `check` read. Codes ([`Invalid::code`]) are stable: logs, counters and clients key on them.

pub use crate::chain::OutputLink;

use super::condition::{Condition, ConditionError, Details, Fulfillment};
use super::json::DecodeError;
use super::model::{Operation, TxId, Version};
use super::schema::SchemaError;
use crate::wire::index::Tags;

#[derive(Debug)]
pub struct Input {
    pub owners_before: Vec<String>,
    pub fulfills: Option<OutputLink>,
    pub fulfillment: Fulfillment,
}

#[derive(Debug)]
pub struct Output {
    pub public_keys: Vec<String>,
    pub amount: u64,
    /// The condition details as Planetmint builds them; `None` for an output given by its
    /// condition URI alone (a hashlock), which Planetmint keeps unparsed.
    pub details: Option<Details>,
}

impl Output {
    /// The output's condition, computed on demand (validation never needs it); `None` for
    /// a hashlock or details that admit no condition (an unmeetable threshold).
    pub fn condition(&self) -> Option<Condition> {
        self.details.as_ref().and_then(|d| d.condition().ok())
    }
}

/// A transaction that passed every stateless check.
#[derive(Debug)]
pub struct Transaction {
    pub id: TxId,
    pub version: Version,
    pub operation: Operation,
    /// The asset ids Planetmint's stream reports, in order: each asset's `id`, or the
    /// transaction's own id for an asset without one or no assets at all.
    pub asset_ids: Vec<String>,
    pub inputs: Vec<Input>,
    pub outputs: Vec<Output>,
    /// Set when a part we cannot check ourselves passed everything else: a Zenroom `script`,
    /// whose code only the Zenroom VM can run (or a fulfillment type the condition module
    /// cannot verify, of which there is none today). Such a transaction is neither proven
    /// valid nor invalid.
    pub unverifiable: Option<&'static str>,
}

impl Transaction {
    /// The documented singular `asset_id`: the first of [`Transaction::asset_ids`].
    pub fn asset_id(&self) -> Option<&str> {
        self.asset_ids.first().map(String::as_str)
    }
}

/// Why a transaction is not valid. Codes are stable and short, for logs, counters and clients.
#[derive(Debug, thiserror::Error)]
pub enum Invalid {
    #[error("not a JSON document: {0}")]
    Json(#[from] DecodeError),
    #[error("not a JSON object")]
    NotObject,
    #[error("missing key {0:?}")]
    MissingKey(&'static str),
    #[error("unknown operation")]
    UnknownOperation,
    #[error("nested {0} levels deep, deeper than Planetmint can copy")]
    TooDeep(usize),
    #[error("a string holds a lone surrogate, which cannot be encoded")]
    Unencodable,
    #[error("id is not the hash of the body (computed {computed})")]
    IdMismatch { computed: TxId },
    #[error("{0}")]
    Schema(#[from] SchemaError),
    #[error("input {index}: {source}")]
    Fulfillment {
        index: usize,
        source: ConditionError,
    },
    #[error("output {index}: {source}")]
    Condition {
        index: usize,
        source: ConditionError,
    },
    #[error("unexpected shape: {0}")]
    Shape(&'static str),
    #[error("input {0}: fulfillment does not verify")]
    Signature(usize),
    #[error("input {0} spends an output another input already spends")]
    DoubleSpend(usize),
}

impl Invalid {
    /// A stable snake_case code naming the failed rule.
    pub fn code(&self) -> &'static str {
        match self {
            Invalid::Json(DecodeError::TooDeep) => "too_deep",
            Invalid::Json(_) => "json",
            Invalid::NotObject => "not_object",
            Invalid::MissingKey(_) => "missing_key",
            Invalid::UnknownOperation => "unknown_operation",
            Invalid::TooDeep(_) => "too_deep",
            Invalid::Unencodable => "unencodable",
            Invalid::IdMismatch { .. } => "id_mismatch",
            Invalid::Schema(e) => e.code(),
            Invalid::Fulfillment { source, .. } | Invalid::Condition { source, .. } => {
                source.code()
            }
            Invalid::Shape(_) => "shape",
            Invalid::Signature(_) => "signature",
            Invalid::DoubleSpend(_) => "double_spend",
        }
    }
}

/// What the core says about one raw transaction.
#[derive(Debug)]
pub struct Verdict {
    /// The id Planetmint computes for the body: present once the body is an object with
    /// every key of the id's form, valid or not.
    pub transaction_id: Option<TxId>,
    /// What a subscriber's filter matches, read from the body however far it got (the id and
    /// asset ids once they are known).
    pub tags: Tags,
    /// The body as clients receive it ([`super::extract::body_json`]), once the bytes decode
    /// to an object.
    pub body: Option<String>,
    /// How many outputs the body lists.
    pub outputs: usize,
    /// The outputs its inputs spend, as far as the body names them well formed.
    pub spends: Vec<OutputLink>,
    pub result: Result<Transaction, Invalid>,
}
