//! The vocabulary of crypto-conditions, shared by every other part of this module: the
//! five [`ConditionType`]s, [`Subtypes`], a [`Condition`], a parsed [`Fulfillment`], the
//! [`Verification`] outcome and [`ConditionError`]. Data and its small accessors only; what
//! computes, parses or verifies these lives in the sibling files, so this one imports none
//! of them.

/// The five types `planetmint-cryptoconditions` registers; the discriminant is the type id
/// (the DER context tag and the subtype bit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConditionType {
    PreimageSha256 = 0,
    PrefixSha256 = 1,
    ThresholdSha256 = 2,
    RsaSha256 = 3,
    Ed25519Sha256 = 4,
}

impl ConditionType {
    /// In Python's URI order: `",".join(sorted(names))`.
    pub(super) const BY_NAME: [ConditionType; 5] = [
        ConditionType::Ed25519Sha256,
        ConditionType::PrefixSha256,
        ConditionType::PreimageSha256,
        ConditionType::RsaSha256,
        ConditionType::ThresholdSha256,
    ];

    pub(super) fn from_id(id: u32) -> Option<ConditionType> {
        Some(match id {
            0 => ConditionType::PreimageSha256,
            1 => ConditionType::PrefixSha256,
            2 => ConditionType::ThresholdSha256,
            3 => ConditionType::RsaSha256,
            4 => ConditionType::Ed25519Sha256,
            _ => return None,
        })
    }

    pub fn id(self) -> u8 {
        self as u8
    }

    /// The `fpt` name in condition URIs and the `type` in condition details.
    pub fn name(self) -> &'static str {
        match self {
            ConditionType::PreimageSha256 => "preimage-sha-256",
            ConditionType::PrefixSha256 => "prefix-sha-256",
            ConditionType::ThresholdSha256 => "threshold-sha-256",
            ConditionType::RsaSha256 => "rsa-sha-256",
            ConditionType::Ed25519Sha256 => "ed25519-sha-256",
        }
    }

    /// Compound types carry subtypes, in their DER condition and in their URI.
    pub fn is_compound(self) -> bool {
        matches!(
            self,
            ConditionType::PrefixSha256 | ConditionType::ThresholdSha256
        )
    }

    pub(super) fn bit(self) -> u8 {
        1 << self.id()
    }
}

/// A set of [`ConditionType`]s: bit `i` is type id `i`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Subtypes(pub(super) u8);

impl Subtypes {
    pub fn contains(self, kind: ConditionType) -> bool {
        self.0 & kind.bit() != 0
    }

    /// The union of a child's subtypes and its own type, never naming `parent` itself: a
    /// compound condition's subtypes exclude its own type (Python's `subtypes` properties).
    pub(super) fn with_child(self, child: &Condition, parent: ConditionType) -> Subtypes {
        Subtypes((self.0 | child.subtypes.0 | child.kind.bit()) & !parent.bit())
    }
}

/// A crypto-condition: what an output locks, and what a fulfillment must hash to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Condition {
    pub kind: ConditionType,
    /// SHA-256 of the type's fingerprint contents.
    pub fingerprint: [u8; 32],
    /// Python computes costs with unbounded integers. A cost only grows by adding per-node
    /// amounts of at most 2^32 + 1024 + the node's prefix length, and a node takes at least
    /// two bytes of DER, so no input under 1 GiB can reach `u64::MAX`; arithmetic saturates.
    pub cost: u64,
    /// Empty for simple types.
    pub subtypes: Subtypes,
}

/// Outcome of [`Fulfillment::validate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    Valid,
    Invalid,
    /// Python's verdict hangs on a check this module cannot do. Every type
    /// planetmint-cryptoconditions 1.2.2 registers is checked, so no fulfillment yields
    /// this today; it stays so that callers handle a future unchecked type safely.
    Unverifiable,
}

/// Why Python refuses a fulfillment, its condition, its re-serialization or condition details.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConditionError {
    /// `binascii.Error` from the base64 decoder.
    #[error("fulfillment is not base64")]
    Base64,
    /// pyasn1 cannot decode the bytes against the fulfillment schema.
    #[error("malformed fulfillment DER: {0}")]
    Der(&'static str),
    /// Python hits its recursion limit decoding (or re-serializing) this much nesting.
    #[error("fulfillment nests too deep")]
    TooDeep,
    /// Condition details name a type `_fulfillment_from_details` does not build.
    #[error("unsupported condition type {0}")]
    UnsupportedType(String),
    /// A key condition details need is absent: Python's `KeyError`, which
    /// `Output.from_dict` catches to fall back to `condition.uri`.
    #[error("condition details lack {0:?}")]
    MissingKey(&'static str),
    /// Condition details of the wrong JSON shape (Python's `TypeError`).
    #[error("malformed condition details: {0}")]
    BadDetails(&'static str),
    /// A public key in condition details is not base58 of 32 bytes.
    #[error("bad public key: {0}")]
    BadKey(&'static str),
    /// A threshold in condition details that is not an integer >= 1 (or null).
    #[error("bad threshold")]
    BadThreshold,
    /// Condition details nest thresholds 100 deep (`ThresholdTooDeep`).
    #[error("threshold nested too deep")]
    ThresholdTooDeep,
    /// A threshold outside pyasn1's `1..65535`, or null, when encoding its fingerprint.
    #[error("threshold outside 1..=65535")]
    ThresholdOutOfRange,
    /// A subcondition whose cost does not fit `INTEGER (0..4294967295)` when Python encodes
    /// it into its parent's fingerprint.
    #[error("subcondition cost above 2^32 - 1")]
    CostOutOfRange,
    /// Fewer subconditions than the threshold (`MissingDataError`).
    #[error("fewer subconditions than the threshold")]
    ThresholdNotMet,
    /// `cryptography` refuses the RSA modulus with exponent 65537.
    #[error("rsa modulus refused: {0}")]
    RsaModulus(&'static str),
    /// Python fails to re-serialize the parsed fulfillment.
    #[error("fulfillment cannot be re-serialized: {0}")]
    Unserializable(&'static str),
}

impl ConditionError {
    /// A stable short code for logs and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            ConditionError::Base64 => "base64",
            ConditionError::Der(_) => "der",
            ConditionError::TooDeep => "too_deep",
            ConditionError::UnsupportedType(_) => "unsupported_type",
            ConditionError::MissingKey(_) => "missing_key",
            ConditionError::BadDetails(_) => "bad_details",
            ConditionError::BadKey(_) => "bad_key",
            ConditionError::BadThreshold => "bad_threshold",
            ConditionError::ThresholdTooDeep => "threshold_too_deep",
            ConditionError::ThresholdOutOfRange => "threshold_out_of_range",
            ConditionError::CostOutOfRange => "cost_out_of_range",
            ConditionError::ThresholdNotMet => "threshold_not_met",
            ConditionError::RsaModulus(_) => "rsa_modulus",
            ConditionError::Unserializable(_) => "unserializable",
        }
    }
}

/// A parsed fulfillment, holding exactly what Python's objects hold after `from_uri`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fulfillment {
    PreimageSha256 {
        preimage: Vec<u8>,
    },
    PrefixSha256 {
        prefix: Vec<u8>,
        max_message_length: u32,
        subfulfillment: Box<Fulfillment>,
    },
    ThresholdSha256 {
        subfulfillments: Vec<Fulfillment>,
        subconditions: Vec<Condition>,
    },
    RsaSha256 {
        modulus: Vec<u8>,
        signature: Vec<u8>,
    },
    Ed25519Sha256 {
        public_key: [u8; 32],
        signature: [u8; 64],
    },
}

impl Fulfillment {
    pub(super) fn kind(&self) -> ConditionType {
        match self {
            Fulfillment::PreimageSha256 { .. } => ConditionType::PreimageSha256,
            Fulfillment::PrefixSha256 { .. } => ConditionType::PrefixSha256,
            Fulfillment::ThresholdSha256 { .. } => ConditionType::ThresholdSha256,
            Fulfillment::RsaSha256 { .. } => ConditionType::RsaSha256,
            Fulfillment::Ed25519Sha256 { .. } => ConditionType::Ed25519Sha256,
        }
    }
}
