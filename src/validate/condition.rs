//! Crypto-conditions (draft-thomas-crypto-conditions) exactly as Planetmint uses them.
//!
//! Owns one question: what does `planetmint-cryptoconditions` 1.2.2 (with pyasn1 0.4.8, PyNaCl
//! 1.4.0 / libsodium 1.0.18 and `base58` 2.1.1 underneath) make of a transaction's
//! fulfillments and condition details? In: an input's `"fulfillment"` string, or an output's
//! `condition.details` [`Value`]. Out: a parsed [`Fulfillment`], its [`Condition`] (and URI),
//! a [`Verification`] against the signed message, or a [`ConditionError`].
//!
//! Every accept/reject decision is Python's, including its accidents; the ones that matter:
//!
//! - base64: Python re-pads, then decodes leniently: `+`/`/` are as good as `-`/`_`, other
//!   characters are skipped, and decoding stops at the first complete padding, so anything
//!   after it is ignored ([`decode_base64`]).
//! - DER: pyasn1's "DER" decoder is BER with a few checks. It takes long-form and non-minimal
//!   lengths and tags, empty or zero-padded INTEGERs, unsorted SET OFs, bytes after the
//!   fulfillment, and bytes after the one fulfillment inside a prefix's `[2]` wrapper (whose
//!   constructed bit it does not check). It refuses indefinite lengths, constructed strings
//!   and anything off-schema ([`read_tlv`], [`Fields`]).
//! - Costs: a condition's own cost may exceed 32 bits, but encoding it as a subcondition
//!   (its parent's fingerprint) fails, so the parent has no condition.
//! - A parsed threshold's threshold is its number of subfulfillments, so `validate` only asks
//!   that every subfulfillment be valid; "m of n" shows up in the condition URI instead. A
//!   threshold with no subfulfillment validates, but has no condition (its threshold 0 is
//!   outside pyasn1's `1..65535`).
//! - Python's recursive decoder and encoder give up (`RecursionError`) on deep nesting;
//!   [`Frames`] models where, which also bounds our own recursion.
//!
//! Signatures: ed25519 is checked as libsodium's `crypto_sign_verify_detached` does
//! ([`verify_ed25519`]), rsa-sha-256 as `cryptography` over OpenSSL 3.1 checks RSA-PSS
//! ([`verify_rsa_pss`]), so every type Python validates gets a definite verdict.

use base64::Engine as _;
use ed25519_dalek::{Signature, VerifyingKey};
use sha2::{Digest, Sha256};

use super::json::Value;

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
    const BY_NAME: [ConditionType; 5] = [
        ConditionType::Ed25519Sha256,
        ConditionType::PrefixSha256,
        ConditionType::PreimageSha256,
        ConditionType::RsaSha256,
        ConditionType::ThresholdSha256,
    ];

    fn from_id(id: u32) -> Option<ConditionType> {
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

    fn bit(self) -> u8 {
        1 << self.id()
    }
}

/// A set of [`ConditionType`]s: bit `i` is type id `i`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Subtypes(u8);

impl Subtypes {
    pub fn contains(self, kind: ConditionType) -> bool {
        self.0 & kind.bit() != 0
    }

    /// The union of a child's subtypes and its own type, never naming `parent` itself: a
    /// compound condition's subtypes exclude its own type (Python's `subtypes` properties).
    fn with_child(self, child: &Condition, parent: ConditionType) -> Subtypes {
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

/// Fixed cost of an ed25519-sha-256 condition (`Ed25519Sha256.CONSTANT_COST`).
const ED25519_COST: u64 = 131_072;
/// Cost a threshold adds per subcondition, and a prefix adds once (the Python constants).
const COST_PER_SUBCONDITION: u64 = 1024;
/// Largest threshold `ThresholdFingerprintContents` encodes (`INTEGER (1..65535)`).
const MAX_THRESHOLD: usize = 65_535;
/// The public exponent `RsaSha256` fixes.
const RSA_PUBLIC_EXPONENT: u32 = 65_537;
/// `RsaSha256.COST_RIGHT_SHIFT`.
const RSA_COST_SHIFT: u32 = 6;

impl Fulfillment {
    /// Parses an input's fulfillment string as `Fulfillment.from_uri` does.
    pub fn from_uri(uri: &str) -> Result<Fulfillment, ConditionError> {
        let der = decode_base64(uri)?;
        let mut rest = der.as_slice();
        // pyasn1 hands back the bytes after the first element and `from_binary` drops them.
        let tlv = read_tlv(&mut rest)?;
        Fulfillment::from_tlv(&tlv, Frames::NONE)
    }

    /// The condition this fulfillment fulfills (Python's `condition`).
    ///
    /// Fails where Python raises: a threshold with no subfulfillment or more than 65535, an
    /// RSA modulus `cryptography` refuses, or any such part nested inside.
    pub fn condition(&self) -> Result<Condition, ConditionError> {
        Ok(match self {
            Fulfillment::Ed25519Sha256 { public_key, .. } => ed25519_condition(public_key),
            Fulfillment::PreimageSha256 { preimage } => Condition {
                kind: ConditionType::PreimageSha256,
                fingerprint: Sha256::digest(preimage).into(),
                cost: preimage.len() as u64,
                subtypes: Subtypes::default(),
            },
            Fulfillment::RsaSha256 { modulus, .. } => {
                let mut contents = Vec::with_capacity(modulus.len() + 8);
                push_tlv(&mut contents, TAG_PRIMITIVE, modulus);
                Condition {
                    kind: ConditionType::RsaSha256,
                    fingerprint: sha256_sequence(&contents),
                    cost: rsa_cost(modulus)?,
                    subtypes: Subtypes::default(),
                }
            }
            Fulfillment::PrefixSha256 {
                prefix,
                max_message_length,
                subfulfillment,
            } => {
                let sub = subfulfillment.condition()?;
                let mut contents = Vec::with_capacity(prefix.len() + 64);
                push_tlv(&mut contents, TAG_PRIMITIVE, prefix);
                push_tlv(
                    &mut contents,
                    TAG_PRIMITIVE | 1,
                    &int_content(u64::from(*max_message_length)),
                );
                push_tlv(&mut contents, TAG_CONSTRUCTED | 2, &sub.to_der()?);
                Condition {
                    kind: ConditionType::PrefixSha256,
                    fingerprint: sha256_sequence(&contents),
                    cost: prefix_cost(prefix, *max_message_length, &sub),
                    subtypes: Subtypes::default().with_child(&sub, ConditionType::PrefixSha256),
                }
            }
            Fulfillment::ThresholdSha256 {
                subfulfillments,
                subconditions,
            } => {
                let subs = threshold_children(subfulfillments, subconditions)?;
                let threshold = subfulfillments.len();
                if threshold == 0 || threshold > MAX_THRESHOLD {
                    return Err(ConditionError::ThresholdOutOfRange);
                }
                threshold_condition(threshold as u64, &subs)?
            }
        })
    }

    /// Python's `validate(message=...)` on the parsed fulfillment.
    pub fn validate(&self, message: &[u8]) -> Verification {
        match self {
            Fulfillment::Ed25519Sha256 {
                public_key,
                signature,
            } => verdict(verify_ed25519(public_key, signature, message)),
            // A hashlock is fulfilled by being parsed at all.
            Fulfillment::PreimageSha256 { .. } => Verification::Valid,
            // Python never compares the message length with `max_message_length`.
            Fulfillment::PrefixSha256 {
                prefix,
                subfulfillment,
                ..
            } => subfulfillment.validate(&[prefix.as_slice(), message].concat()),
            // The parsed threshold equals the number of subfulfillments, so Python's "not
            // met" and "not minimal" checks never fire: every subfulfillment must pass.
            Fulfillment::ThresholdSha256 {
                subfulfillments, ..
            } => {
                let mut result = Verification::Valid;
                for sub in subfulfillments {
                    match sub.validate(message) {
                        Verification::Valid => {}
                        Verification::Invalid => return Verification::Invalid,
                        Verification::Unverifiable => result = Verification::Unverifiable,
                    }
                }
                result
            }
            Fulfillment::RsaSha256 { modulus, signature } => {
                verdict(rsa_cost(modulus).is_ok() && verify_rsa_pss(modulus, signature, message))
            }
        }
    }

    /// Public keys of all ed25519 leaves, depth first in DER order (not unfulfilled
    /// subconditions, which carry only a hash).
    pub fn public_keys(&self) -> Vec<[u8; 32]> {
        let mut keys = Vec::new();
        self.collect_public_keys(&mut keys);
        keys
    }

    fn collect_public_keys(&self, keys: &mut Vec<[u8; 32]>) {
        match self {
            Fulfillment::Ed25519Sha256 { public_key, .. } => keys.push(*public_key),
            Fulfillment::PrefixSha256 { subfulfillment, .. } => {
                subfulfillment.collect_public_keys(keys)
            }
            Fulfillment::ThresholdSha256 {
                subfulfillments, ..
            } => {
                for sub in subfulfillments {
                    sub.collect_public_keys(keys);
                }
            }
            Fulfillment::PreimageSha256 { .. } | Fulfillment::RsaSha256 { .. } => {}
        }
    }

    /// Python's `serialize_uri()`.
    ///
    /// Planetmint's `_input_valid` validates `Fulfillment.from_uri(f.serialize_uri())`, not
    /// `f`; the re-parsed fulfillment validates exactly as `f` does, but this step itself can
    /// fail, which a caller mirroring that check must treat as an invalid input.
    pub fn serialize_uri(&self) -> Result<String, ConditionError> {
        let mut der = Vec::new();
        self.encode(&mut der, Frames::NONE)?;
        Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(der))
    }

    /// Appends the DER Python's `serialize_binary` writes (`{TYPE_ASN1: asn1_dict_payload}`).
    fn encode(&self, out: &mut Vec<u8>, depth: Frames) -> Result<(), ConditionError> {
        let mut body = Vec::new();
        match self {
            Fulfillment::PreimageSha256 { preimage } => {
                depth.encodes(Frames::BYTES_LEAF)?;
                push_tlv(&mut body, TAG_PRIMITIVE, preimage);
            }
            Fulfillment::Ed25519Sha256 {
                public_key,
                signature,
            } => {
                depth.encodes(Frames::ED25519_LEAF)?;
                push_tlv(&mut body, TAG_PRIMITIVE, public_key);
                push_tlv(&mut body, TAG_PRIMITIVE | 1, signature);
            }
            Fulfillment::RsaSha256 { modulus, signature } => {
                depth.encodes(Frames::BYTES_LEAF)?;
                push_tlv(&mut body, TAG_PRIMITIVE, modulus);
                push_tlv(&mut body, TAG_PRIMITIVE | 1, signature);
            }
            Fulfillment::PrefixSha256 {
                prefix,
                max_message_length,
                subfulfillment,
            } => {
                // The prefix payload goes through the child's `to_asn1_dict`, which
                // `RsaSha256` lacks (AttributeError).
                if let Fulfillment::RsaSha256 { .. } = **subfulfillment {
                    return Err(ConditionError::Unserializable("rsa inside prefix"));
                }
                push_tlv(&mut body, TAG_PRIMITIVE, prefix);
                push_tlv(
                    &mut body,
                    TAG_PRIMITIVE | 1,
                    &int_content(u64::from(*max_message_length)),
                );
                let mut sub = Vec::new();
                subfulfillment.encode(&mut sub, depth.plus(Frames::PREFIX_LEVEL))?;
                push_tlv(&mut body, TAG_CONSTRUCTED | 2, &sub);
            }
            Fulfillment::ThresholdSha256 {
                subfulfillments,
                subconditions,
            } => {
                // Python sorts the subfulfillments by `calculate_cost()` before the encoder
                // sorts them again by DER, so only the costs' failures show.
                if subfulfillments.is_empty() && subconditions.is_empty() {
                    depth.encodes(Frames::EMPTY_THRESHOLD_LEAF)?;
                }
                let inner = depth.plus(Frames::THRESHOLD_LEVEL);
                let mut subs = Vec::with_capacity(subfulfillments.len());
                for sub in subfulfillments {
                    sub.calculate_cost()?;
                    let mut der = Vec::new();
                    sub.encode(&mut der, inner)?;
                    subs.push(der);
                }
                for condition in subconditions {
                    inner.encodes(condition.frames())?;
                }
                push_tlv(&mut body, TAG_CONSTRUCTED, &sorted_set(subs));
                let conds = subconditions
                    .iter()
                    .map(Condition::to_der)
                    .collect::<Result<_, _>>()?;
                push_tlv(&mut body, TAG_CONSTRUCTED | 1, &sorted_set(conds));
            }
        }
        push_tlv(out, TAG_CONSTRUCTED | self.kind().id(), &body);
        Ok(())
    }

    fn kind(&self) -> ConditionType {
        match self {
            Fulfillment::PreimageSha256 { .. } => ConditionType::PreimageSha256,
            Fulfillment::PrefixSha256 { .. } => ConditionType::PrefixSha256,
            Fulfillment::ThresholdSha256 { .. } => ConditionType::ThresholdSha256,
            Fulfillment::RsaSha256 { .. } => ConditionType::RsaSha256,
            Fulfillment::Ed25519Sha256 { .. } => ConditionType::Ed25519Sha256,
        }
    }

    /// Python's `calculate_cost()`: `condition()?.cost` without this fulfillment's own
    /// fingerprint, so without its checks (threshold range, children's costs fitting 32
    /// bits); the children's whole conditions are still computed.
    fn calculate_cost(&self) -> Result<u64, ConditionError> {
        match self {
            Fulfillment::ThresholdSha256 {
                subfulfillments,
                subconditions,
            } => {
                let subs = threshold_children(subfulfillments, subconditions)?;
                Ok(threshold_cost(subfulfillments.len(), &subs))
            }
            Fulfillment::PrefixSha256 {
                prefix,
                max_message_length,
                subfulfillment,
            } => Ok(prefix_cost(
                prefix,
                *max_message_length,
                &subfulfillment.condition()?,
            )),
            Fulfillment::RsaSha256 { modulus, .. } => rsa_cost(modulus),
            Fulfillment::PreimageSha256 { preimage } => Ok(preimage.len() as u64),
            Fulfillment::Ed25519Sha256 { .. } => Ok(ED25519_COST),
        }
    }

    /// Decodes one element of pyasn1's untagged `Fulfillment` CHOICE.
    fn from_tlv(tlv: &Tlv<'_>, depth: Frames) -> Result<Fulfillment, ConditionError> {
        let kind = tlv
            .context_number()
            .and_then(ConditionType::from_id)
            .ok_or(ConditionError::Der("unknown fulfillment type"))?;
        let mut fields = tlv.sequence()?;
        let fulfillment = match kind {
            ConditionType::PreimageSha256 => {
                depth.parses(Frames::BYTES_LEAF)?;
                Fulfillment::PreimageSha256 {
                    preimage: fields.octets(0)?.to_vec(),
                }
            }
            ConditionType::Ed25519Sha256 => {
                depth.parses(Frames::ED25519_LEAF)?;
                Fulfillment::Ed25519Sha256 {
                    public_key: sized(fields.octets(0)?)?,
                    signature: sized(fields.octets(1)?)?,
                }
            }
            ConditionType::RsaSha256 => {
                depth.parses(Frames::BYTES_LEAF)?;
                Fulfillment::RsaSha256 {
                    modulus: fields.octets(0)?.to_vec(),
                    signature: fields.octets(1)?.to_vec(),
                }
            }
            ConditionType::PrefixSha256 => {
                let prefix = fields.octets(0)?.to_vec();
                let max_message_length = fields.uint32(1)?;
                let wrapper = fields.field(2)?;
                // A tagged CHOICE: pyasn1 decodes the first element inside and drops the
                // rest, whichever the wrapper's constructed bit says.
                let mut inner = wrapper.content;
                let sub = read_tlv(&mut inner)?;
                let depth = depth.enter(Frames::PREFIX_LEVEL)?;
                Fulfillment::PrefixSha256 {
                    prefix,
                    max_message_length,
                    subfulfillment: Box::new(Fulfillment::from_tlv(&sub, depth)?),
                }
            }
            ConditionType::ThresholdSha256 => {
                let mut subs = fields.set_of(0)?;
                let mut conds = fields.set_of(1)?;
                let depth = if subs.is_empty() && conds.is_empty() {
                    depth.parses(Frames::EMPTY_THRESHOLD_LEAF)?;
                    depth
                } else {
                    depth.enter(Frames::THRESHOLD_LEVEL)?
                };
                let mut subfulfillments = Vec::new();
                while !subs.is_empty() {
                    subfulfillments.push(Fulfillment::from_tlv(&read_tlv(&mut subs)?, depth)?);
                }
                let mut subconditions = Vec::new();
                while !conds.is_empty() {
                    let condition = Condition::from_tlv(&read_tlv(&mut conds)?)?;
                    depth.parses(condition.frames())?;
                    subconditions.push(condition);
                }
                Fulfillment::ThresholdSha256 {
                    subfulfillments,
                    subconditions,
                }
            }
        };
        fields.finish()?;
        Ok(fulfillment)
    }
}

impl Condition {
    /// `ni:///sha-256;<fingerprint>?fpt=<type>&cost=<n>[&subtypes=...]` as Python's
    /// `serialize_uri` writes it.
    pub fn uri(&self) -> String {
        let mut uri = format!(
            "ni:///sha-256;{}?fpt={}&cost={}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(self.fingerprint),
            self.kind.name(),
            self.cost
        );
        if self.kind.is_compound() {
            uri.push_str("&subtypes=");
            let names: Vec<&str> = ConditionType::BY_NAME
                .iter()
                .filter(|t| self.subtypes.contains(**t))
                .map(|t| t.name())
                .collect();
            uri.push_str(&names.join(","));
        }
        uri
    }

    /// The condition of an output's `condition.details`, as
    /// `transactions.common.utils._fulfillment_from_details(details).condition` computes it.
    ///
    /// [`ConditionError::MissingKey`] is Python's `KeyError`: `Output.from_dict` catches it
    /// and takes `condition.uri` as the output's (hashlock) condition instead.
    pub fn from_details(details: &Value) -> Result<Condition, ConditionError> {
        // Python builds the whole tree before computing anything, so a KeyError anywhere
        // wins over a threshold that cannot be met.
        Details::parse(details)?.condition()
    }

    fn frames(&self) -> Frames {
        if self.kind.is_compound() {
            Frames::COMPOUND_CONDITION_LEAF
        } else {
            Frames::SIMPLE_CONDITION_LEAF
        }
    }

    /// Decodes one element of pyasn1's `Condition` CHOICE.
    fn from_tlv(tlv: &Tlv<'_>) -> Result<Condition, ConditionError> {
        let kind = tlv
            .context_number()
            .and_then(ConditionType::from_id)
            .ok_or(ConditionError::Der("unknown condition type"))?;
        let mut fields = tlv.sequence()?;
        let fingerprint = sized(fields.octets(0)?)?;
        let cost = u64::from(fields.uint32(1)?);
        let subtypes = if kind.is_compound() {
            fields.subtypes(2)?
        } else {
            Subtypes::default()
        };
        fields.finish()?;
        Ok(Condition {
            kind,
            fingerprint,
            cost,
            subtypes,
        })
    }

    /// The DER Python writes for this condition (`to_asn1_dict`), used for fingerprints and
    /// sorting. Subtypes are rewritten from the five known bits, so any other bits a parsed
    /// subcondition carried are gone, as in Python. A computed cost can exceed the schema's
    /// 32 bits, which only fails once the condition is encoded like this.
    fn to_der(&self) -> Result<Vec<u8>, ConditionError> {
        if self.cost > u64::from(u32::MAX) {
            return Err(ConditionError::CostOutOfRange);
        }
        let mut body = Vec::with_capacity(48);
        push_tlv(&mut body, TAG_PRIMITIVE, &self.fingerprint);
        push_tlv(&mut body, TAG_PRIMITIVE | 1, &int_content(self.cost));
        if self.kind.is_compound() {
            // Python writes the bits as a string with trailing zeros stripped.
            let bits = (0..5u8)
                .rev()
                .find(|i| self.subtypes.0 & (1 << i) != 0)
                .map_or(0, |top| top + 1);
            let mut bitstring = vec![0u8];
            if bits > 0 {
                let byte = (0..bits)
                    .filter(|i| self.subtypes.0 & (1 << i) != 0)
                    .fold(0u8, |acc, i| acc | (0x80 >> i));
                bitstring = vec![8 - bits, byte];
            }
            push_tlv(&mut body, TAG_PRIMITIVE | 2, &bitstring);
        }
        let mut out = Vec::with_capacity(body.len() + 2);
        push_tlv(&mut out, TAG_CONSTRUCTED | self.kind.id(), &body);
        Ok(out)
    }
}

fn verdict(valid: bool) -> Verification {
    if valid {
        Verification::Valid
    } else {
        Verification::Invalid
    }
}

/// libsodium 1.0.18's `crypto_sign_verify_detached`, which PyNaCl calls.
///
/// `verify_strict` already matches it on everything but the key encoding: both refuse S >= L,
/// small-order R and A, and compare the recomputed R with the signature's bytes, so a
/// non-canonical R never passes either. libsodium also refuses a public key whose y
/// coordinate is not reduced (y >= p), which dalek decompresses by reducing it; we refuse it
/// first. Both use the cofactorless equation and accept keys with a torsion component.
fn verify_ed25519(public_key: &[u8; 32], signature: &[u8; 64], message: &[u8]) -> bool {
    if !is_canonical_y(public_key) {
        return false;
    }
    let Ok(key) = VerifyingKey::from_bytes(public_key) else {
        return false;
    };
    key.verify_strict(message, &Signature::from_bytes(signature))
        .is_ok()
}

/// libsodium's `ge25519_is_canonical`: the encoded y (sign bit cleared) is below
/// p = 2^255 - 19, i.e. not 0x7fff..ffed through 0x7fff..ffff.
fn is_canonical_y(encoding: &[u8; 32]) -> bool {
    const P_LOW_BYTE: u8 = 0xed;
    let top_all_ones = encoding[31] & 0x7f == 0x7f && encoding[1..31].iter().all(|&b| b == 0xff);
    !(top_all_ones && encoding[0] >= P_LOW_BYTE)
}

fn ed25519_condition(public_key: &[u8; 32]) -> Condition {
    // DER of `Ed25519FingerprintContents`: SEQUENCE { [0] OCTET STRING (32) }.
    let mut contents = [0u8; 36];
    contents[..4].copy_from_slice(&[0x30, 0x22, TAG_PRIMITIVE, 0x20]);
    contents[4..].copy_from_slice(public_key);
    Condition {
        kind: ConditionType::Ed25519Sha256,
        fingerprint: Sha256::digest(contents).into(),
        cost: ED25519_COST,
        subtypes: Subtypes::default(),
    }
}

fn prefix_cost(prefix: &[u8], max_message_length: u32, sub: &Condition) -> u64 {
    (prefix.len() as u64)
        .saturating_add(u64::from(max_message_length))
        .saturating_add(sub.cost)
        .saturating_add(COST_PER_SUBCONDITION)
}

/// The conditions a threshold counts: its subfulfillments' then its subconditions.
fn threshold_children(
    subfulfillments: &[Fulfillment],
    subconditions: &[Condition],
) -> Result<Vec<Condition>, ConditionError> {
    let mut subs = Vec::with_capacity(subfulfillments.len() + subconditions.len());
    for sub in subfulfillments {
        subs.push(sub.condition()?);
    }
    subs.extend_from_slice(subconditions);
    Ok(subs)
}

/// `calculate_worst_case_length(threshold, costs) + 1024 * n`: the `threshold` largest costs.
/// Python slices `sorted(costs)[-threshold:]`, and `[-0:]` is the whole list.
fn threshold_cost(threshold: usize, subs: &[Condition]) -> u64 {
    let mut costs: Vec<u64> = subs.iter().map(|c| c.cost).collect();
    costs.sort_unstable_by(|a, b| b.cmp(a));
    let take = if threshold == 0 {
        costs.len()
    } else {
        threshold
    };
    costs
        .iter()
        .take(take)
        .fold(0u64, |sum, c| sum.saturating_add(*c))
        .saturating_add(COST_PER_SUBCONDITION.saturating_mul(subs.len() as u64))
}

/// A threshold-sha-256 condition over `subs`; `threshold` is already known to be in 1..=65535.
fn threshold_condition(threshold: u64, subs: &[Condition]) -> Result<Condition, ConditionError> {
    if subs.len() < threshold as usize {
        return Err(ConditionError::ThresholdNotMet);
    }
    let mut contents = Vec::with_capacity(16 + subs.len() * 48);
    push_tlv(&mut contents, TAG_PRIMITIVE, &int_content(threshold));
    let ders = subs
        .iter()
        .map(Condition::to_der)
        .collect::<Result<_, _>>()?;
    push_tlv(&mut contents, TAG_CONSTRUCTED | 1, &sorted_set(ders));
    let subtypes = subs.iter().fold(Subtypes::default(), |acc, c| {
        acc.with_child(c, ConditionType::ThresholdSha256)
    });
    Ok(Condition {
        kind: ConditionType::ThresholdSha256,
        fingerprint: sha256_sequence(&contents),
        cost: threshold_cost(threshold as usize, subs),
        subtypes,
    })
}

/// The modulus without leading zero bytes: the integer `cryptography` sees.
fn significant(modulus: &[u8]) -> &[u8] {
    let start = modulus
        .iter()
        .position(|&b| b != 0)
        .unwrap_or(modulus.len());
    &modulus[start..]
}

/// `RsaSha256.calculate_cost`: `cryptography` first insists on 3 <= n and 65537 < n, then
/// the cost is `int(math.pow(bits, 2)) >> 6`; the float square is kept because it rounds
/// for moduli over 2^26 bits, as Python's does.
fn rsa_cost(modulus: &[u8]) -> Result<u64, ConditionError> {
    let n = significant(modulus);
    let small = n.len() <= 4 && n.iter().fold(0u64, |acc, &b| acc << 8 | u64::from(b)) < 3;
    if small {
        return Err(ConditionError::RsaModulus("n must be >= 3"));
    }
    if n.len() <= 4
        && n.iter().fold(0u64, |acc, &b| acc << 8 | u64::from(b)) <= u64::from(RSA_PUBLIC_EXPONENT)
    {
        return Err(ConditionError::RsaModulus("e must be < n"));
    }
    let bits = (n.len() as u64 - 1) * 8 + u64::from(8 - n[0].leading_zeros());
    let square = (bits as f64) * (bits as f64);
    Ok((square as u64) >> RSA_COST_SHIFT)
}

// ---------------------------------------------------------------------------------------
// RSA-PSS, as `cryptography` 41 (OpenSSL 3.1) checks it for `RsaSha256.validate`.

/// SHA-256's digest length, PSS's `hLen`.
const SHA256_LEN: usize = 32;
/// `RsaSha256`'s PSS salt length.
const RSA_PSS_SALT_LEN: usize = 32;
/// OpenSSL's `OPENSSL_RSA_MAX_MODULUS_BITS`: larger moduli fail every operation.
const RSA_MAX_MODULUS_BITS: usize = 16_384;

/// `RSAPublicNumbers(65537, n).public_key().verify(signature, message, PSS(MGF1(SHA256),
/// salt_length=32), SHA256())`, true where it returns and false where it raises. The
/// modulus has already passed [`rsa_cost`]'s checks (n > 65537).
fn verify_rsa_pss(modulus: &[u8], signature: &[u8], message: &[u8]) -> bool {
    let n = significant(modulus);
    let bits = n.len() * 8 - n[0].leading_zeros() as usize;
    // `cryptography` refuses keys too short for the digest plus two bytes; OpenSSL refuses
    // moduli past its maximum, even moduli (Montgomery form), signatures longer than the
    // modulus and signature values not below it. A shorter signature is a smaller number.
    if n.len() < SHA256_LEN + 2
        || bits > RSA_MAX_MODULUS_BITS
        || n[n.len() - 1] & 1 == 0
        || signature.len() > n.len()
    {
        return false;
    }
    let Some(em) = BigMont::new(n).pow_65537(significant(signature)) else {
        return false;
    };
    emsa_pss_verify(&Sha256::digest(message), &em, bits - 1)
}

/// RFC 8017 EMSA-PSS-VERIFY with SHA-256, MGF1-SHA-256 and a 32-byte salt, as OpenSSL's
/// `RSA_verify_PKCS1_PSS_mgf1` runs it on the modulus-length block `em`.
fn emsa_pss_verify(m_hash: &[u8], em: &[u8], em_bits: usize) -> bool {
    let top_bits = em_bits % 8;
    let mut em = em;
    if top_bits == 0 {
        // The block is a byte longer than the encoded message; that byte must be zero.
        if em[0] != 0 {
            return false;
        }
        em = &em[1..];
    } else if em[0] & (0xffu8 << top_bits) != 0 {
        return false;
    }
    if em.len() < SHA256_LEN + RSA_PSS_SALT_LEN + 2 || em[em.len() - 1] != 0xbc {
        return false;
    }
    let db_len = em.len() - SHA256_LEN - 1;
    let (masked_db, rest) = em.split_at(db_len);
    let h = &rest[..SHA256_LEN];
    let mut db = mgf1_sha256(h, db_len);
    for (d, m) in db.iter_mut().zip(masked_db) {
        *d ^= m;
    }
    if top_bits != 0 {
        db[0] &= 0xff >> (8 - top_bits);
    }
    // The first non-zero byte of DB, or its last byte, must be the 0x01 before the salt.
    let one = db[..db_len - 1]
        .iter()
        .position(|&b| b != 0)
        .unwrap_or(db_len - 1);
    if db[one] != 0x01 || db_len - one - 1 != RSA_PSS_SALT_LEN {
        return false;
    }
    let mut hasher = Sha256::new();
    hasher.update([0u8; 8]);
    hasher.update(m_hash);
    hasher.update(&db[one + 1..]);
    hasher.finalize().as_slice() == h
}

fn mgf1_sha256(seed: &[u8], len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + SHA256_LEN);
    let mut counter: u32 = 0;
    while out.len() < len {
        let mut hasher = Sha256::new();
        hasher.update(seed);
        hasher.update(counter.to_be_bytes());
        out.extend_from_slice(&hasher.finalize());
        counter += 1;
    }
    out.truncate(len);
    out
}

/// Montgomery arithmetic modulo an odd `n` of at most [`RSA_MAX_MODULUS_BITS`], just enough
/// for `s^65537 mod n`. Limbs are little-endian `u64`.
struct BigMont {
    n: Vec<u64>,
    /// `-n^-1 mod 2^64`.
    n_prime: u64,
    /// `R^2 mod n`, with `R = 2^(64 * limbs)`.
    r2: Vec<u64>,
    /// Byte length of `n`: the length of the block RSA yields.
    len: usize,
}

impl BigMont {
    fn new(n_bytes: &[u8]) -> BigMont {
        let n = limbs(n_bytes, n_bytes.len().div_ceil(8));
        // Newton's iteration doubles the correct low bits of the inverse each round.
        let mut inv: u64 = 1;
        for _ in 0..6 {
            inv = inv.wrapping_mul(2u64.wrapping_sub(n[0].wrapping_mul(inv)));
        }
        let mut r2 = vec![0u64; n.len()];
        r2[0] = 1;
        for _ in 0..128 * n.len() {
            let carry = shl1(&mut r2);
            if carry || !less(&r2, &n) {
                sub_in_place(&mut r2, &n);
            }
        }
        BigMont {
            n_prime: inv.wrapping_neg(),
            r2,
            len: n_bytes.len(),
            n,
        }
    }

    /// `base^65537 mod n` as a big-endian block of `n`'s length, or None when `base >= n`.
    fn pow_65537(&self, base: &[u8]) -> Option<Vec<u8>> {
        if base.len() > self.len {
            return None;
        }
        let base = limbs(base, self.n.len());
        if !less(&base, &self.n) {
            return None;
        }
        let base = self.mul(&base, &self.r2);
        let mut x = base.clone();
        // 65537 = 2^16 + 1.
        for _ in 0..16 {
            x = self.mul(&x, &x);
        }
        x = self.mul(&x, &base);
        let mut one = vec![0u64; self.n.len()];
        one[0] = 1;
        let x = self.mul(&x, &one);
        let mut out = vec![0u8; self.n.len() * 8];
        for (i, limb) in x.iter().enumerate() {
            let at = out.len() - 8 * (i + 1);
            out[at..at + 8].copy_from_slice(&limb.to_be_bytes());
        }
        Some(out.split_off(out.len() - self.len))
    }

    /// Montgomery product `a * b / R mod n` (CIOS).
    fn mul(&self, a: &[u64], b: &[u64]) -> Vec<u64> {
        let k = self.n.len();
        let mut t = vec![0u64; k + 2];
        for &ai in a {
            let mut carry: u128 = 0;
            for j in 0..k {
                let sum = u128::from(t[j]) + u128::from(ai) * u128::from(b[j]) + carry;
                t[j] = sum as u64;
                carry = sum >> 64;
            }
            let sum = u128::from(t[k]) + carry;
            t[k] = sum as u64;
            t[k + 1] = (sum >> 64) as u64;
            let m = t[0].wrapping_mul(self.n_prime);
            let mut carry = (u128::from(t[0]) + u128::from(m) * u128::from(self.n[0])) >> 64;
            for j in 1..k {
                let sum = u128::from(t[j]) + u128::from(m) * u128::from(self.n[j]) + carry;
                t[j - 1] = sum as u64;
                carry = sum >> 64;
            }
            let sum = u128::from(t[k]) + carry;
            t[k - 1] = sum as u64;
            t[k] = t[k + 1] + (sum >> 64) as u64;
        }
        let mut result = t[..k].to_vec();
        if t[k] != 0 || !less(&result, &self.n) {
            sub_in_place(&mut result, &self.n);
        }
        result
    }
}

/// Big-endian bytes as `count` little-endian limbs (the bytes must fit).
fn limbs(bytes: &[u8], count: usize) -> Vec<u64> {
    let mut out = vec![0u64; count];
    for (i, &b) in bytes.iter().rev().enumerate() {
        out[i / 8] |= u64::from(b) << (8 * (i % 8));
    }
    out
}

fn less(a: &[u64], b: &[u64]) -> bool {
    for (x, y) in a.iter().rev().zip(b.iter().rev()) {
        if x != y {
            return x < y;
        }
    }
    false
}

/// `a -= b`, wrapping; callers only subtract when `a >= b` or `a` overflowed its limbs.
fn sub_in_place(a: &mut [u64], b: &[u64]) {
    let mut borrow = false;
    for (x, &y) in a.iter_mut().zip(b) {
        let (d, b1) = x.overflowing_sub(y);
        let (d, b2) = d.overflowing_sub(u64::from(borrow));
        *x = d;
        borrow = b1 || b2;
    }
}

/// `a <<= 1`, returning the bit shifted out.
fn shl1(a: &mut [u64]) -> bool {
    let mut carry = 0;
    for x in a.iter_mut() {
        let next = *x >> 63;
        *x = *x << 1 | carry;
        carry = next;
    }
    carry != 0
}

// ---------------------------------------------------------------------------------------
// Condition details (`_fulfillment_from_details`).

/// `_fulfillment_from_details` raises `ThresholdTooDeep` on reaching this depth.
const DETAILS_MAX_DEPTH: usize = 100;

/// The tree `_fulfillment_from_details` builds: ed25519 leaves without signatures and
/// thresholds with their declared threshold.
#[derive(Debug)]
enum DetailsNode {
    Ed25519([u8; 32]),
    Threshold {
        /// `None` for JSON null, which `ThresholdSha256` accepts and only the condition
        /// refuses; integers past `u64` are kept as `u64::MAX`, equally out of range.
        threshold: Option<u64>,
        subs: Vec<DetailsNode>,
    },
}

fn details_node(data: &Value, depth: usize) -> Result<DetailsNode, ConditionError> {
    if depth == DETAILS_MAX_DEPTH {
        return Err(ConditionError::ThresholdTooDeep);
    }
    let Value::Object(object) = data else {
        return Err(ConditionError::BadDetails("details are not an object"));
    };
    let kind = object
        .get("type")
        .ok_or(ConditionError::MissingKey("type"))?;
    match kind.as_str() {
        Some("ed25519-sha-256") => {
            let key = object
                .get("public_key")
                .ok_or(ConditionError::MissingKey("public_key"))?;
            let Value::Str(key) = key else {
                return Err(ConditionError::BadKey("public key is not a string"));
            };
            Ok(DetailsNode::Ed25519(decode_base58_key(key)?))
        }
        Some("threshold-sha-256") => {
            let threshold = object
                .get("threshold")
                .ok_or(ConditionError::MissingKey("threshold"))?;
            // `ThresholdSha256(threshold)`: None or an int >= 1 (a bool is an int).
            let threshold = match threshold {
                Value::Null => None,
                Value::Bool(true) => Some(1),
                Value::Int(n) if *n >= 1 => Some(*n as u64),
                Value::BigInt(digits) if !digits.starts_with('-') => Some(u64::MAX),
                _ => return Err(ConditionError::BadThreshold),
            };
            let subconditions = object
                .get("subconditions")
                .ok_or(ConditionError::MissingKey("subconditions"))?;
            let mut subs = Vec::new();
            match subconditions {
                Value::Array(items) => {
                    for item in items {
                        subs.push(details_node(item, depth + 1)?);
                    }
                }
                // Python iterates a string's characters or an object's keys: none is
                // subscriptable by "type", unless the depth check fires first.
                Value::Str(s) if s.is_empty() => {}
                Value::Object(o) if o.is_empty() => {}
                Value::Str(_) | Value::Object(_) => {
                    if depth + 1 == DETAILS_MAX_DEPTH {
                        return Err(ConditionError::ThresholdTooDeep);
                    }
                    return Err(ConditionError::BadDetails("subcondition is not an object"));
                }
                _ => return Err(ConditionError::BadDetails("subconditions not iterable")),
            }
            Ok(DetailsNode::Threshold { threshold, subs })
        }
        _ => Err(ConditionError::UnsupportedType(match kind {
            Value::Str(s) => s.clone(),
            other => other.to_string(),
        })),
    }
}

/// An output's `condition.details` as `_fulfillment_from_details` builds them, before any
/// condition is computed. `Output.from_dict` stops here: Planetmint never computes an
/// output's condition, so details whose condition cannot be computed (a threshold above
/// its subconditions) still make a valid, merely unspendable, output.
#[derive(Debug)]
pub struct Details(DetailsNode);

impl Details {
    /// `_fulfillment_from_details(details)`: [`ConditionError::MissingKey`] is Python's
    /// `KeyError`, which `Output.from_dict` catches to fall back to `condition.uri`.
    pub fn parse(details: &Value) -> Result<Details, ConditionError> {
        details_node(details, 0).map(Details)
    }

    /// The condition these details describe, where Python can compute one.
    pub fn condition(&self) -> Result<Condition, ConditionError> {
        self.0.condition()
    }
}

impl DetailsNode {
    fn condition(&self) -> Result<Condition, ConditionError> {
        match self {
            DetailsNode::Ed25519(key) => Ok(ed25519_condition(key)),
            DetailsNode::Threshold { threshold, subs } => {
                let subs = subs
                    .iter()
                    .map(DetailsNode::condition)
                    .collect::<Result<Vec<_>, _>>()?;
                match threshold {
                    Some(t) if *t as usize <= MAX_THRESHOLD => threshold_condition(*t, &subs),
                    _ => Err(ConditionError::ThresholdOutOfRange),
                }
            }
        }
    }
}

/// Longest base58 string (after leading '1's) whose value can still fit 32 bytes:
/// 58^44 > 2^256, so 45 significant digits are always too many.
const BASE58_MAX_SIGNIFICANT_DIGITS: usize = 44;

/// `base58.b58decode(key)` then `Ed25519Sha256(public_key=...)`'s 32-byte check.
fn decode_base58_key(key: &str) -> Result<[u8; 32], ConditionError> {
    const ALPHABET: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    // `str.rstrip()` strips Python whitespace, then the rest must be ASCII.
    let key = key.trim_end_matches(is_python_whitespace);
    if !key.is_ascii() {
        return Err(ConditionError::BadKey("not ASCII"));
    }
    let digits = key.trim_start_matches('1');
    let zeros = key.len() - digits.len();
    if zeros > 32 || digits.len() > BASE58_MAX_SIGNIFICANT_DIGITS {
        return Err(ConditionError::BadKey("not 32 bytes"));
    }
    // Big-endian accumulator wide enough for 58^44.
    let mut value = [0u8; 33];
    for c in digits.bytes() {
        let digit = ALPHABET
            .iter()
            .position(|&a| a == c)
            .ok_or(ConditionError::BadKey("not base58"))?;
        let mut carry = digit as u32;
        for byte in value.iter_mut().rev() {
            carry += u32::from(*byte) * 58;
            *byte = carry as u8;
            carry >>= 8;
        }
    }
    let significant = significant(&value);
    if zeros + significant.len() != 32 {
        return Err(ConditionError::BadKey("not 32 bytes"));
    }
    let mut out = [0u8; 32];
    out[zeros..].copy_from_slice(significant);
    Ok(out)
}

/// Python's `str.isspace()`: Unicode `White_Space` plus the separators U+001C..U+001F.
fn is_python_whitespace(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

// ---------------------------------------------------------------------------------------
// Base64, as `urlsafe_b64decode(base64_add_padding(s))` does it.

/// Python's `binascii.a2b_base64` in its default (non-strict) mode, run on `s` plus the
/// 1 to 4 `=` that `base64_add_padding` always appends.
fn decode_base64(s: &str) -> Result<Vec<u8>, ConditionError> {
    let padding = 4 - s.len() % 4;
    let mut out = Vec::with_capacity(s.len() / 4 * 3 + 3);
    let mut quad = 0u8;
    let mut left = 0u8;
    let mut pads = 0u8;
    for c in s.bytes().chain(std::iter::repeat_n(b'=', padding)) {
        if c == b'=' {
            // A pad counts only after two data characters; enough pads end the input,
            // whatever follows.
            if quad >= 2 {
                pads += 1;
                if quad + pads >= 4 {
                    return Ok(out);
                }
            }
            continue;
        }
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            // `urlsafe_b64decode` maps `-_` onto `+/` and keeps those too.
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            _ => continue,
        };
        pads = 0;
        match quad {
            0 => left = value,
            1 => {
                out.push(left << 2 | value >> 4);
                left = value & 0x0f;
            }
            2 => {
                out.push(left << 4 | value >> 2);
                left = value & 0x03;
            }
            _ => out.push(left << 6 | value),
        }
        quad = (quad + 1) % 4;
    }
    if quad == 0 {
        Ok(out)
    } else {
        Err(ConditionError::Base64)
    }
}

// ---------------------------------------------------------------------------------------
// DER: a reader as lenient and as strict as pyasn1 0.4.8's decoder on this schema.

/// Context-specific class, primitive: implicitly tagged strings and integers.
const TAG_PRIMITIVE: u8 = 0x80;
/// Context-specific class, constructed: choices, sequences and set-ofs.
const TAG_CONSTRUCTED: u8 = 0xa0;
const CLASS_MASK: u8 = 0xc0;
const CLASS_CONTEXT: u8 = 0x80;
const CONSTRUCTED_BIT: u8 = 0x20;
const LONG_TAG: u8 = 0x1f;

/// One decoded element. `number` is `None` for a tag number too large to be one of ours.
struct Tlv<'a> {
    class: u8,
    constructed: bool,
    number: Option<u32>,
    content: &'a [u8],
}

/// Reads one element off the front of `input`. Like pyasn1: long-form tag numbers (even
/// with leading zero groups) and long-form lengths (even non-minimal) are fine, the
/// indefinite length is not, and the content must fit the input.
fn read_tlv<'a>(input: &mut &'a [u8]) -> Result<Tlv<'a>, ConditionError> {
    let (&first, mut rest) = input
        .split_first()
        .ok_or(ConditionError::Der("missing element"))?;
    let mut number = Some(u32::from(first & LONG_TAG));
    if first & LONG_TAG == LONG_TAG {
        let mut n: u32 = 0;
        let mut overflow = false;
        loop {
            let (&b, tail) = rest
                .split_first()
                .ok_or(ConditionError::Der("truncated tag"))?;
            rest = tail;
            overflow |= n > u32::MAX >> 7;
            n = n.wrapping_shl(7) | u32::from(b & 0x7f);
            if b & 0x80 == 0 {
                break;
            }
        }
        number = (!overflow).then_some(n);
    }
    let (&len_byte, tail) = rest
        .split_first()
        .ok_or(ConditionError::Der("truncated length"))?;
    rest = tail;
    let length = match len_byte {
        0..=0x7f => usize::from(len_byte),
        0x80 => return Err(ConditionError::Der("indefinite length")),
        _ => {
            let count = usize::from(len_byte & 0x7f);
            if rest.len() < count {
                return Err(ConditionError::Der("truncated length"));
            }
            let (bytes, tail) = rest.split_at(count);
            rest = tail;
            let mut length: usize = 0;
            for &b in bytes {
                // Only grows, so once past what is left it can never fit.
                length = length
                    .checked_mul(256)
                    .and_then(|l| l.checked_add(usize::from(b)))
                    .filter(|&l| l <= rest.len())
                    .ok_or(ConditionError::Der("length past end"))?;
            }
            length
        }
    };
    if rest.len() < length {
        return Err(ConditionError::Der("length past end"));
    }
    let (content, tail) = rest.split_at(length);
    *input = tail;
    Ok(Tlv {
        class: first & CLASS_MASK,
        constructed: first & CONSTRUCTED_BIT != 0,
        number,
        content,
    })
}

impl<'a> Tlv<'a> {
    /// The tag number when the class is context-specific. pyasn1 matches tags on class and
    /// number only; each value decoder then checks the constructed bit its way.
    fn context_number(&self) -> Option<u32> {
        (self.class == CLASS_CONTEXT)
            .then_some(self.number)
            .flatten()
    }

    fn sequence(&self) -> Result<Fields<'a>, ConditionError> {
        if !self.constructed {
            return Err(ConditionError::Der("primitive sequence"));
        }
        Ok(Fields(self.content))
    }
}

/// The components of a SEQUENCE without optional parts: all present, in order, no more.
struct Fields<'a>(&'a [u8]);

impl<'a> Fields<'a> {
    fn field(&mut self, number: u32) -> Result<Tlv<'a>, ConditionError> {
        if self.0.is_empty() {
            return Err(ConditionError::Der("missing component"));
        }
        let tlv = read_tlv(&mut self.0)?;
        if tlv.context_number() != Some(number) {
            return Err(ConditionError::Der("unexpected tag"));
        }
        Ok(tlv)
    }

    fn finish(self) -> Result<(), ConditionError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ConditionError::Der("excess components"))
        }
    }

    /// An OCTET STRING; pyasn1's DER decoder refuses the constructed form.
    fn octets(&mut self, number: u32) -> Result<&'a [u8], ConditionError> {
        let tlv = self.field(number)?;
        if tlv.constructed {
            return Err(ConditionError::Der("constructed string"));
        }
        Ok(tlv.content)
    }

    /// An `INTEGER (0..4294967295)`: any width, empty meaning 0, leading zeros allowed.
    fn uint32(&mut self, number: u32) -> Result<u32, ConditionError> {
        let tlv = self.field(number)?;
        if tlv.constructed {
            return Err(ConditionError::Der("constructed integer"));
        }
        if tlv.content.first().is_some_and(|b| b & 0x80 != 0) {
            return Err(ConditionError::Der("negative integer"));
        }
        let digits = significant(tlv.content);
        if digits.len() > 4 {
            return Err(ConditionError::Der("integer out of range"));
        }
        Ok(digits.iter().fold(0u32, |acc, &b| acc << 8 | u32::from(b)))
    }

    /// A constructed SET OF: its content, to be read element by element.
    fn set_of(&mut self, number: u32) -> Result<&'a [u8], ConditionError> {
        let tlv = self.field(number)?;
        if !tlv.constructed {
            return Err(ConditionError::Der("primitive set"));
        }
        Ok(tlv.content)
    }

    /// A `ConditionTypes` BIT STRING. Python reads only the first five bits (bits that
    /// exist), ignoring the rest and any set padding bits.
    fn subtypes(&mut self, number: u32) -> Result<Subtypes, ConditionError> {
        let tlv = self.field(number)?;
        if tlv.constructed {
            return Err(ConditionError::Der("constructed bit string"));
        }
        let (&unused, bytes) = tlv
            .content
            .split_first()
            .ok_or(ConditionError::Der("empty bit string"))?;
        // pyasn1 rejects more than 7 padding bits; with no byte to pad it builds a bit
        // string of negative length, which fails later with a ValueError.
        if unused > 7 || (bytes.is_empty() && unused > 0) {
            return Err(ConditionError::Der("bad bit string padding"));
        }
        let length = bytes.len() * 8 - usize::from(unused);
        let first = bytes.first().copied().unwrap_or(0);
        let mut set = 0u8;
        for bit in 0..length.min(5) {
            if first & (0x80 >> bit) != 0 {
                set |= 1 << bit;
            }
        }
        Ok(Subtypes(set))
    }
}

/// Python stack frames one nesting level or one leaf takes in each of the three recursive
/// walks that can hit CPython's recursion limit of 1000 (`RecursionError`): pyasn1's DER
/// decoder and native encoder, both inside `from_uri`, and the encoding inside
/// `serialize_uri`.
///
/// Measured with pyasn1 0.4.8 on CPython 3.11 by bisecting `sys.setrecursionlimit` over
/// chains and mixes of thresholds and prefixes on every kind of leaf, calling from two frames
/// deep. Planetmint calls from a deeper stack, so its real limits sit a few levels lower
/// than ours; nothing under 20 levels of nesting is affected, and past that Python's
/// condition and (for thresholds) serialization already take time exponential in the depth.
/// Not modelled: the cost computation a threshold runs on its subtree while serializing,
/// which Python can push a few frames past these limits when five or more thresholds sit
/// under a hundred prefixes.
#[derive(Debug, Clone, Copy)]
struct Frames {
    decode: u32,
    native: u32,
    encode: u32,
}

impl Frames {
    const NONE: Frames = Frames::new(0, 0, 0);
    const THRESHOLD_LEVEL: Frames = Frames::new(10, 9, 12);
    const PREFIX_LEVEL: Frames = Frames::new(6, 6, 8);
    const ED25519_LEAF: Frames = Frames::new(16, 24, 26);
    /// Preimage and rsa-sha-256 leaves.
    const BYTES_LEAF: Frames = Frames::new(16, 20, 23);
    /// A threshold with neither subfulfillments nor subconditions.
    const EMPTY_THRESHOLD_LEAF: Frames = Frames::new(16, 19, 23);
    const SIMPLE_CONDITION_LEAF: Frames = Frames::new(16, 25, 27);
    const COMPOUND_CONDITION_LEAF: Frames = Frames::new(17, 25, 27);
    /// Every path ends in a leaf taking at least this many frames.
    const SMALLEST_LEAF: Frames = Frames::new(16, 19, 23);
    const PYTHON_RECURSION_LIMIT: u32 = 1000;

    const fn new(decode: u32, native: u32, encode: u32) -> Frames {
        Frames {
            decode,
            native,
            encode,
        }
    }

    fn plus(self, other: Frames) -> Frames {
        Frames::new(
            self.decode + other.decode,
            self.native + other.native,
            self.encode + other.encode,
        )
    }

    /// Whether `from_uri` gets through a leaf `leaf` nested under `self`.
    fn parses(self, leaf: Frames) -> Result<(), ConditionError> {
        let total = self.plus(leaf);
        if total.decode <= Frames::PYTHON_RECURSION_LIMIT
            && total.native <= Frames::PYTHON_RECURSION_LIMIT
        {
            Ok(())
        } else {
            Err(ConditionError::TooDeep)
        }
    }

    /// Enters one level, refusing early what no leaf below could fit, which also bounds
    /// our own recursion.
    fn enter(self, level: Frames) -> Result<Frames, ConditionError> {
        let inner = self.plus(level);
        inner.parses(Frames::SMALLEST_LEAF)?;
        Ok(inner)
    }

    /// Whether `serialize_uri` gets through a leaf `leaf` nested under `self`.
    fn encodes(self, leaf: Frames) -> Result<(), ConditionError> {
        if self.encode + leaf.encode <= Frames::PYTHON_RECURSION_LIMIT {
            Ok(())
        } else {
            Err(ConditionError::TooDeep)
        }
    }
}

/// `bytes` as an exact-size array; pyasn1's size constraints refuse other lengths.
fn sized<const N: usize>(bytes: &[u8]) -> Result<[u8; N], ConditionError> {
    bytes
        .try_into()
        .map_err(|_| ConditionError::Der("wrong string size"))
}

// ---------------------------------------------------------------------------------------
// DER writing, as pyasn1's encoder writes this schema.

fn push_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let digits = significant(&bytes);
        out.push(0x80 | digits.len() as u8);
        out.extend_from_slice(digits);
    }
}

fn push_tlv(out: &mut Vec<u8>, tag: u8, content: &[u8]) {
    out.push(tag);
    push_len(out, content.len());
    out.extend_from_slice(content);
}

/// Minimal two's complement content of a non-negative INTEGER (0 is one zero byte).
fn int_content(value: u64) -> Vec<u8> {
    let bytes = value.to_be_bytes();
    let digits = significant(&bytes);
    let mut out = Vec::with_capacity(9);
    if digits.first().is_none_or(|b| b & 0x80 != 0) {
        out.push(0);
    }
    out.extend_from_slice(digits);
    out
}

/// The content of a DER SET OF: its elements' encodings in byte order.
fn sorted_set(mut elements: Vec<Vec<u8>>) -> Vec<u8> {
    elements.sort_unstable();
    elements.concat()
}

/// SHA-256 of a universal SEQUENCE around `contents`.
fn sha256_sequence(contents: &[u8]) -> [u8; 32] {
    let mut der = Vec::with_capacity(contents.len() + 6);
    push_tlv(&mut der, 0x30, contents);
    Sha256::digest(&der).into()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::validate::json;

    /// One fulfillment string and what planetmint-cryptoconditions 1.2.2 says about it:
    /// `Fulfillment.from_uri(uri)` succeeds (`parses`), then `.condition_uri`,
    /// `.serialize_uri()` (None where Python raises) and `.validate(message=...)`.
    /// Reference data produced with the Python library, not with this module.
    struct Vector {
        name: &'static str,
        uri: &'static str,
        message: &'static str,
        parses: bool,
        condition: Option<&'static str>,
        serialized: Option<&'static str>,
        valid: bool,
    }

    const VECTORS: &[Vector] = &[
        // Ed25519Sha256().sign(b'\x02'*32, seed 0x01*32).serialize_uri()
        Vector {
            name: "ed25519_valid",
            uri: "pGSAIIqI4910CfGV_VLbLTy6XXLKZwm_HZQSG_N0iAG0D29cgUAjxqZYlQNy4_oipEdiACz37kxO4JLzURA_oBbz0T3prJWx7HenGKOVNT--ECFRaWVx0h92vbAZyt-egnZvLyoP",
            message: "0202020202020202020202020202020202020202020202020202020202020202",
            parses: true,
            condition: Some(
                "ni:///sha-256;SPn_lVGhY_CiWpYTTUoocHC9LPKQFUGnPr-yGK3vPHM?fpt=ed25519-sha-256&cost=131072",
            ),
            serialized: Some(
                "pGSAIIqI4910CfGV_VLbLTy6XXLKZwm_HZQSG_N0iAG0D29cgUAjxqZYlQNy4_oipEdiACz37kxO4JLzURA_oBbz0T3prJWx7HenGKOVNT--ECFRaWVx0h92vbAZyt-egnZvLyoP",
            ),
            valid: true,
        },
        // same fulfillment, validate(message=b'\x03'*32)
        Vector {
            name: "ed25519_wrong_message",
            uri: "pGSAIIqI4910CfGV_VLbLTy6XXLKZwm_HZQSG_N0iAG0D29cgUAjxqZYlQNy4_oipEdiACz37kxO4JLzURA_oBbz0T3prJWx7HenGKOVNT--ECFRaWVx0h92vbAZyt-egnZvLyoP",
            message: "0303030303030303030303030303030303030303030303030303030303030303",
            parses: true,
            condition: Some(
                "ni:///sha-256;SPn_lVGhY_CiWpYTTUoocHC9LPKQFUGnPr-yGK3vPHM?fpt=ed25519-sha-256&cost=131072",
            ),
            serialized: Some(
                "pGSAIIqI4910CfGV_VLbLTy6XXLKZwm_HZQSG_N0iAG0D29cgUAjxqZYlQNy4_oipEdiACz37kxO4JLzURA_oBbz0T3prJWx7HenGKOVNT--ECFRaWVx0h92vbAZyt-egnZvLyoP",
            ),
            valid: false,
        },
        // Ed25519Sha256().sign(b'\x03'*32, seed 0x01*32).serialize_uri()
        Vector {
            name: "ed25519_signed_other_message",
            uri: "pGSAIIqI4910CfGV_VLbLTy6XXLKZwm_HZQSG_N0iAG0D29cgUCK9GGFC8A4NNEpJ-PAdhjGUHx0k5vpFHCX7TE-I0Sc7GsBFr4gm5ci5maCKIrX_H6KNT0RO7Qdm69jK_WSnqsL",
            message: "0202020202020202020202020202020202020202020202020202020202020202",
            parses: true,
            condition: Some(
                "ni:///sha-256;SPn_lVGhY_CiWpYTTUoocHC9LPKQFUGnPr-yGK3vPHM?fpt=ed25519-sha-256&cost=131072",
            ),
            serialized: Some(
                "pGSAIIqI4910CfGV_VLbLTy6XXLKZwm_HZQSG_N0iAG0D29cgUCK9GGFC8A4NNEpJ-PAdhjGUHx0k5vpFHCX7TE-I0Sc7GsBFr4gm5ci5maCKIrX_H6KNT0RO7Qdm69jK_WSnqsL",
            ),
            valid: false,
        },
        // ThresholdSha256(1) + add_subfulfillment(ed25519 seed 0x01)
        Vector {
            name: "threshold_1_of_1",
            uri: "omqgZqRkgCCKiOPddAnxlf1S2y08ul1yymcJvx2UEhvzdIgBtA9vXIFAI8amWJUDcuP6IqRHYgAs9-5MTuCS81EQP6AW89E96ayVsex3pxijlTU_vhAhUWllcdIfdr2wGcrfnoJ2by8qD6EA",
            message: "0202020202020202020202020202020202020202020202020202020202020202",
            parses: true,
            condition: Some(
                "ni:///sha-256;2p5dUNpjpaw9c856XVMHUCzxsdsVBhiR9ACe3lytjqs?fpt=threshold-sha-256&cost=132096&subtypes=ed25519-sha-256",
            ),
            serialized: Some(
                "omqgZqRkgCCKiOPddAnxlf1S2y08ul1yymcJvx2UEhvzdIgBtA9vXIFAI8amWJUDcuP6IqRHYgAs9-5MTuCS81EQP6AW89E96ayVsex3pxijlTU_vhAhUWllcdIfdr2wGcrfnoJ2by8qD6EA",
            ),
            valid: true,
        },
        // ThresholdSha256(2) + 2 signed subfulfillments (seeds 0x01, 0x02) + add_subcondition(seed 0x03 condition_uri)
        Vector {
            name: "threshold_2_of_3",
            uri: "ooH6oIHMpGSAIIE5dw6ofRdfVqNUZsNMfszLjYqRtO43ol32D1uPybOUgUDEbYD7vhcjftQggHf24ea3Pdm2tpMna4k5v6UUntjk2mwxCvy-dpkRIwzT6aoEN7_PId7rsIXRyVTA6tdvRooHpGSAIIqI4910CfGV_VLbLTy6XXLKZwm_HZQSG_N0iAG0D29cgUAjxqZYlQNy4_oipEdiACz37kxO4JLzURA_oBbz0T3prJWx7HenGKOVNT--ECFRaWVx0h92vbAZyt-egnZvLyoPoSmkJ4AgwAKbU0kAeY69LN-cDcApwOmOC-WYburQ_OmZETDsJFCBAwIAAA",
            message: "0202020202020202020202020202020202020202020202020202020202020202",
            parses: true,
            condition: Some(
                "ni:///sha-256;6xbVvXwInJtSg9YIxRt_FbDIavXYCXtJ1L7t42-xVus?fpt=threshold-sha-256&cost=265216&subtypes=ed25519-sha-256",
            ),
            serialized: Some(
                "ooH6oIHMpGSAIIE5dw6ofRdfVqNUZsNMfszLjYqRtO43ol32D1uPybOUgUDEbYD7vhcjftQggHf24ea3Pdm2tpMna4k5v6UUntjk2mwxCvy-dpkRIwzT6aoEN7_PId7rsIXRyVTA6tdvRooHpGSAIIqI4910CfGV_VLbLTy6XXLKZwm_HZQSG_N0iAG0D29cgUAjxqZYlQNy4_oipEdiACz37kxO4JLzURA_oBbz0T3prJWx7HenGKOVNT--ECFRaWVx0h92vbAZyt-egnZvLyoPoSmkJ4AgwAKbU0kAeY69LN-cDcApwOmOC-WYburQ_OmZETDsJFCBAwIAAA",
            ),
            valid: true,
        },
        // ThresholdSha256(1) + 1 signed subfulfillment (seed 0x01) + 2 add_subcondition (seeds 0x02, 0x03)
        Vector {
            name: "threshold_1_of_3",
            uri: "ooG8oGakZIAgiojj3XQJ8ZX9UtstPLpdcspnCb8dlBIb83SIAbQPb1yBQCPGpliVA3Lj-iKkR2IALPfuTE7gkvNRED-gFvPRPemslbHsd6cYo5U1P74QIVFpZXHSH3a9sBnK356Cdm8vKg-hUqQngCDAAptTSQB5jr0s35wNwCnA6Y4L5Zhu6tD86ZkRMOwkUIEDAgAApCeAIMTE9EPtO5PqAZRaREi2oI2tqUo8_dlYpxu-DomUBgsggQMCAAA",
            message: "0202020202020202020202020202020202020202020202020202020202020202",
            parses: true,
            condition: Some(
                "ni:///sha-256;1zGMpTQ-7PpauDqcD5kpAReD9EO6mQHSZ5Z6LbCP05E?fpt=threshold-sha-256&cost=134144&subtypes=ed25519-sha-256",
            ),
            serialized: Some(
                "ooG8oGakZIAgiojj3XQJ8ZX9UtstPLpdcspnCb8dlBIb83SIAbQPb1yBQCPGpliVA3Lj-iKkR2IALPfuTE7gkvNRED-gFvPRPemslbHsd6cYo5U1P74QIVFpZXHSH3a9sBnK356Cdm8vKg-hUqQngCDAAptTSQB5jr0s35wNwCnA6Y4L5Zhu6tD86ZkRMOwkUIEDAgAApCeAIMTE9EPtO5PqAZRaREi2oI2tqUo8_dlYpxu-DomUBgsggQMCAAA",
            ),
            valid: true,
        },
        // as threshold_2_of_3 but seed 0x02 signed b'\x03'*32
        Vector {
            name: "threshold_2_of_3_bad_sub",
            uri: "ooH6oIHMpGSAIIE5dw6ofRdfVqNUZsNMfszLjYqRtO43ol32D1uPybOUgUAmd0njyeuXmdj4sl9VxmCV4QaHifG2Vv61j1uYI4yGEHqCe9ssDzQg6V577XBOh4_r9HEVIEXGO2gXqQC7IwUDpGSAIIqI4910CfGV_VLbLTy6XXLKZwm_HZQSG_N0iAG0D29cgUAjxqZYlQNy4_oipEdiACz37kxO4JLzURA_oBbz0T3prJWx7HenGKOVNT--ECFRaWVx0h92vbAZyt-egnZvLyoPoSmkJ4AgwAKbU0kAeY69LN-cDcApwOmOC-WYburQ_OmZETDsJFCBAwIAAA",
            message: "0202020202020202020202020202020202020202020202020202020202020202",
            parses: true,
            condition: Some(
                "ni:///sha-256;6xbVvXwInJtSg9YIxRt_FbDIavXYCXtJ1L7t42-xVus?fpt=threshold-sha-256&cost=265216&subtypes=ed25519-sha-256",
            ),
            serialized: Some(
                "ooH6oIHMpGSAIIE5dw6ofRdfVqNUZsNMfszLjYqRtO43ol32D1uPybOUgUAmd0njyeuXmdj4sl9VxmCV4QaHifG2Vv61j1uYI4yGEHqCe9ssDzQg6V577XBOh4_r9HEVIEXGO2gXqQC7IwUDpGSAIIqI4910CfGV_VLbLTy6XXLKZwm_HZQSG_N0iAG0D29cgUAjxqZYlQNy4_oipEdiACz37kxO4JLzURA_oBbz0T3prJWx7HenGKOVNT--ECFRaWVx0h92vbAZyt-egnZvLyoPoSmkJ4AgwAKbU0kAeY69LN-cDcApwOmOC-WYburQ_OmZETDsJFCBAwIAAA",
            ),
            valid: false,
        },
        // ThresholdSha256(2) of [ed25519 seed 0x01, ThresholdSha256(1) of [ed25519 seed 0x02, condition seed 0x03]]
        Vector {
            name: "threshold_nested",
            uri: "ooIBAaCB_KKBk6BmpGSAIIE5dw6ofRdfVqNUZsNMfszLjYqRtO43ol32D1uPybOUgUDEbYD7vhcjftQggHf24ea3Pdm2tpMna4k5v6UUntjk2mwxCvy-dpkRIwzT6aoEN7_PId7rsIXRyVTA6tdvRooHoSmkJ4AgwAKbU0kAeY69LN-cDcApwOmOC-WYburQ_OmZETDsJFCBAwIAAKRkgCCKiOPddAnxlf1S2y08ul1yymcJvx2UEhvzdIgBtA9vXIFAI8amWJUDcuP6IqRHYgAs9-5MTuCS81EQP6AW89E96ayVsex3pxijlTU_vhAhUWllcdIfdr2wGcrfnoJ2by8qD6EA",
            message: "0202020202020202020202020202020202020202020202020202020202020202",
            parses: true,
            condition: Some(
                "ni:///sha-256;W9Cf8kthMdrR3R70KBip5H0xdsGwScB50XA35tNqnzY?fpt=threshold-sha-256&cost=266240&subtypes=ed25519-sha-256",
            ),
            serialized: Some(
                "ooIBAaCB_KKBk6BmpGSAIIE5dw6ofRdfVqNUZsNMfszLjYqRtO43ol32D1uPybOUgUDEbYD7vhcjftQggHf24ea3Pdm2tpMna4k5v6UUntjk2mwxCvy-dpkRIwzT6aoEN7_PId7rsIXRyVTA6tdvRooHoSmkJ4AgwAKbU0kAeY69LN-cDcApwOmOC-WYburQ_OmZETDsJFCBAwIAAKRkgCCKiOPddAnxlf1S2y08ul1yymcJvx2UEhvzdIgBtA9vXIFAI8amWJUDcuP6IqRHYgAs9-5MTuCS81EQP6AW89E96ayVsex3pxijlTU_vhAhUWllcdIfdr2wGcrfnoJ2by8qD6EA",
            ),
            valid: true,
        },
        // PreimageSha256(preimage=b'secret').serialize_uri()
        Vector {
            name: "preimage",
            uri: "oAiABnNlY3JldA",
            message: "0202020202020202020202020202020202020202020202020202020202020202",
            parses: true,
            condition: Some(
                "ni:///sha-256;K7gNU3sdo-OL0wNhqoVWhr3g6s1xYv72ol_pe_Unols?fpt=preimage-sha-256&cost=6",
            ),
            serialized: Some("oAiABnNlY3JldA"),
            valid: true,
        },
        // PrefixSha256(prefix=b'pre', max_message_length=32) over ed25519 seed 0x01 signing b'pre'+b'\x02'*32
        Vector {
            name: "prefix",
            uri: "oXCAA3ByZYEBIKJmpGSAIIqI4910CfGV_VLbLTy6XXLKZwm_HZQSG_N0iAG0D29cgUCFSDIA78y0KfaO3a-5c3_tLdsaC0922BMKdnEMP1fLcxRV1OYZ2aZ_Y4je-a2S7B2ch__seguf8pZl3Hz6JJAK",
            message: "0202020202020202020202020202020202020202020202020202020202020202",
            parses: true,
            condition: Some(
                "ni:///sha-256;qTn28Mt8la3ogbo5S3thws8Yr3CXGot5rcTVqKHhItw?fpt=prefix-sha-256&cost=132131&subtypes=ed25519-sha-256",
            ),
            serialized: Some(
                "oXCAA3ByZYEBIKJmpGSAIIqI4910CfGV_VLbLTy6XXLKZwm_HZQSG_N0iAG0D29cgUCFSDIA78y0KfaO3a-5c3_tLdsaC0922BMKdnEMP1fLcxRV1OYZ2aZ_Y4je-a2S7B2ch__seguf8pZl3Hz6JJAK",
            ),
            valid: true,
        },
        // as prefix with max_message_length=0 (Python never checks it)
        Vector {
            name: "prefix_ignores_max_message_length",
            uri: "oXCAA3ByZYEBAKJmpGSAIIqI4910CfGV_VLbLTy6XXLKZwm_HZQSG_N0iAG0D29cgUCFSDIA78y0KfaO3a-5c3_tLdsaC0922BMKdnEMP1fLcxRV1OYZ2aZ_Y4je-a2S7B2ch__seguf8pZl3Hz6JJAK",
            message: "0202020202020202020202020202020202020202020202020202020202020202",
            parses: true,
            condition: Some(
                "ni:///sha-256;KJmDsqJpEeAc_3PacEEQ7weLPFY1QSTu7mTf6MkwPhU?fpt=prefix-sha-256&cost=132099&subtypes=ed25519-sha-256",
            ),
            serialized: Some(
                "oXCAA3ByZYEBAKJmpGSAIIqI4910CfGV_VLbLTy6XXLKZwm_HZQSG_N0iAG0D29cgUCFSDIA78y0KfaO3a-5c3_tLdsaC0922BMKdnEMP1fLcxRV1OYZ2aZ_Y4je-a2S7B2ch__seguf8pZl3Hz6JJAK",
            ),
            valid: true,
        },
        // RsaSha256().sign(b'\x02'*32, fresh 1024-bit key)
        Vector {
            name: "rsa",
            uri: "o4IBBoCBgLr8YOzhtgQNzvQuJB3SXvsAUKtIsByz2JySeFGCKIQYRyEnXLFSWB40VItzGc-y0KlEAZnaWDa8644VEA5jqsA9otT2wm1-mqvYs0x2l3STz_sO3gBb2fqpE7RS4hGk4bKqhbTidfvSOQHWAUwp60KqLWKIC_vfLQu_gIiSHkpvgYGAIcPw0CAzcUfD6ZxgUqyd56KdGBtDVjh3bp7RMREG0nMznTAWVuJfVZ4Bfu5ZL7uxgB2K2QTrJwiseX9tVmRiBTE9bGi_TG2HwMciVRYrzOkDBU_EBcav120yLtYXDcxF3Kg_o-A42wrUcPNHLBAWf-csbOy6ClkwbHlDS5cpFyw",
            message: "0202020202020202020202020202020202020202020202020202020202020202",
            parses: true,
            condition: Some(
                "ni:///sha-256;tT77i5Nu88zCgr-hpNHE5UJ4LwOG_6hHDwxiVMev5mk?fpt=rsa-sha-256&cost=16384",
            ),
            serialized: Some(
                "o4IBBoCBgLr8YOzhtgQNzvQuJB3SXvsAUKtIsByz2JySeFGCKIQYRyEnXLFSWB40VItzGc-y0KlEAZnaWDa8644VEA5jqsA9otT2wm1-mqvYs0x2l3STz_sO3gBb2fqpE7RS4hGk4bKqhbTidfvSOQHWAUwp60KqLWKIC_vfLQu_gIiSHkpvgYGAIcPw0CAzcUfD6ZxgUqyd56KdGBtDVjh3bp7RMREG0nMznTAWVuJfVZ4Bfu5ZL7uxgB2K2QTrJwiseX9tVmRiBTE9bGi_TG2HwMciVRYrzOkDBU_EBcav120yLtYXDcxF3Kg_o-A42wrUcPNHLBAWf-csbOy6ClkwbHlDS5cpFyw",
            ),
            valid: true,
        },
        // ed25519_valid DER + b'\x00\x01'
        Vector {
            name: "trailing_bytes",
            uri: "pGSAIIqI4910CfGV_VLbLTy6XXLKZwm_HZQSG_N0iAG0D29cgUAjxqZYlQNy4_oipEdiACz37kxO4JLzURA_oBbz0T3prJWx7HenGKOVNT--ECFRaWVx0h92vbAZyt-egnZvLyoPAAE",
            message: "0202020202020202020202020202020202020202020202020202020202020202",
            parses: true,
            condition: Some(
                "ni:///sha-256;SPn_lVGhY_CiWpYTTUoocHC9LPKQFUGnPr-yGK3vPHM?fpt=ed25519-sha-256&cost=131072",
            ),
            serialized: Some(
                "pGSAIIqI4910CfGV_VLbLTy6XXLKZwm_HZQSG_N0iAG0D29cgUAjxqZYlQNy4_oipEdiACz37kxO4JLzURA_oBbz0T3prJWx7HenGKOVNT--ECFRaWVx0h92vbAZyt-egnZvLyoP",
            ),
            valid: true,
        },
        // ed25519_valid DER[:-1]
        Vector {
            name: "truncated",
            uri: "pGSAIIqI4910CfGV_VLbLTy6XXLKZwm_HZQSG_N0iAG0D29cgUAjxqZYlQNy4_oipEdiACz37kxO4JLzURA_oBbz0T3prJWx7HenGKOVNT--ECFRaWVx0h92vbAZyt-egnZvLyo",
            message: "0202020202020202020202020202020202020202020202020202020202020202",
            parses: false,
            condition: None,
            serialized: None,
            valid: false,
        },
        // ed25519_valid with its length as 0x81 0x64
        Vector {
            name: "long_form_length",
            uri: "pIFkgCCKiOPddAnxlf1S2y08ul1yymcJvx2UEhvzdIgBtA9vXIFAI8amWJUDcuP6IqRHYgAs9-5MTuCS81EQP6AW89E96ayVsex3pxijlTU_vhAhUWllcdIfdr2wGcrfnoJ2by8qDw",
            message: "0202020202020202020202020202020202020202020202020202020202020202",
            parses: true,
            condition: Some(
                "ni:///sha-256;SPn_lVGhY_CiWpYTTUoocHC9LPKQFUGnPr-yGK3vPHM?fpt=ed25519-sha-256&cost=131072",
            ),
            serialized: Some(
                "pGSAIIqI4910CfGV_VLbLTy6XXLKZwm_HZQSG_N0iAG0D29cgUAjxqZYlQNy4_oipEdiACz37kxO4JLzURA_oBbz0T3prJWx7HenGKOVNT--ECFRaWVx0h92vbAZyt-egnZvLyoP",
            ),
            valid: true,
        },
        // ed25519_valid with its tag as 0xbf 0x80 0x04
        Vector {
            name: "long_form_tag",
            uri: "v4AEZIAgiojj3XQJ8ZX9UtstPLpdcspnCb8dlBIb83SIAbQPb1yBQCPGpliVA3Lj-iKkR2IALPfuTE7gkvNRED-gFvPRPemslbHsd6cYo5U1P74QIVFpZXHSH3a9sBnK356Cdm8vKg8",
            message: "0202020202020202020202020202020202020202020202020202020202020202",
            parses: true,
            condition: Some(
                "ni:///sha-256;SPn_lVGhY_CiWpYTTUoocHC9LPKQFUGnPr-yGK3vPHM?fpt=ed25519-sha-256&cost=131072",
            ),
            serialized: Some(
                "pGSAIIqI4910CfGV_VLbLTy6XXLKZwm_HZQSG_N0iAG0D29cgUAjxqZYlQNy4_oipEdiACz37kxO4JLzURA_oBbz0T3prJWx7HenGKOVNT--ECFRaWVx0h92vbAZyt-egnZvLyoP",
            ),
            valid: true,
        },
        // 0xa4 0x84 0xff 0xff 0xff 0xff + ed25519_valid content
        Vector {
            name: "huge_length",
            uri: "pIT_____gCCKiOPddAnxlf1S2y08ul1yymcJvx2UEhvzdIgBtA9vXIFAI8amWJUDcuP6IqRHYgAs9-5MTuCS81EQP6AW89E96ayVsex3pxijlTU_vhAhUWllcdIfdr2wGcrfnoJ2by8qDw",
            message: "0202020202020202020202020202020202020202020202020202020202020202",
            parses: false,
            condition: None,
            serialized: None,
            valid: false,
        },
        // 0xa4 0x80 + content + 0x00 0x00
        Vector {
            name: "indefinite_length",
            uri: "pICAIIqI4910CfGV_VLbLTy6XXLKZwm_HZQSG_N0iAG0D29cgUAjxqZYlQNy4_oipEdiACz37kxO4JLzURA_oBbz0T3prJWx7HenGKOVNT--ECFRaWVx0h92vbAZyt-egnZvLyoPAAA",
            message: "0202020202020202020202020202020202020202020202020202020202020202",
            parses: false,
            condition: None,
            serialized: None,
            valid: false,
        },
        // ed25519_valid with tag 0x84
        Vector {
            name: "primitive_choice",
            uri: "hGSAIIqI4910CfGV_VLbLTy6XXLKZwm_HZQSG_N0iAG0D29cgUAjxqZYlQNy4_oipEdiACz37kxO4JLzURA_oBbz0T3prJWx7HenGKOVNT--ECFRaWVx0h92vbAZyt-egnZvLyoP",
            message: "0202020202020202020202020202020202020202020202020202020202020202",
            parses: false,
            condition: None,
            serialized: None,
            valid: false,
        },
        // ed25519 with a 63-byte signature
        Vector {
            name: "short_signature",
            uri: "pGOAIIqI4910CfGV_VLbLTy6XXLKZwm_HZQSG_N0iAG0D29cgT8jxqZYlQNy4_oipEdiACz37kxO4JLzURA_oBbz0T3prJWx7HenGKOVNT--ECFRaWVx0h92vbAZyt-egnZvLyo",
            message: "0202020202020202020202020202020202020202020202020202020202020202",
            parses: false,
            condition: None,
            serialized: None,
            valid: false,
        },
        // ed25519_valid uri + '=' + 'garbage'
        Vector {
            name: "base64_garbage_after_padding",
            uri: "pGSAIIqI4910CfGV_VLbLTy6XXLKZwm_HZQSG_N0iAG0D29cgUAjxqZYlQNy4_oipEdiACz37kxO4JLzURA_oBbz0T3prJWx7HenGKOVNT--ECFRaWVx0h92vbAZyt-egnZvLyoP==garbage",
            message: "0202020202020202020202020202020202020202020202020202020202020202",
            parses: true,
            condition: Some(
                "ni:///sha-256;SPn_lVGhY_CiWpYTTUoocHC9LPKQFUGnPr-yGK3vPHM?fpt=ed25519-sha-256&cost=131072",
            ),
            serialized: Some(
                "pGSAIIqI4910CfGV_VLbLTy6XXLKZwm_HZQSG_N0iAG0D29cgUAjxqZYlQNy4_oipEdiACz37kxO4JLzURA_oBbz0T3prJWx7HenGKOVNT--ECFRaWVx0h92vbAZyt-egnZvLyoP",
            ),
            valid: true,
        },
        // ed25519_valid uri with -_ replaced by +/
        Vector {
            name: "base64_std_alphabet",
            uri: "pGSAIIqI4910CfGV/VLbLTy6XXLKZwm/HZQSG/N0iAG0D29cgUAjxqZYlQNy4/oipEdiACz37kxO4JLzURA/oBbz0T3prJWx7HenGKOVNT++ECFRaWVx0h92vbAZyt+egnZvLyoP",
            message: "0202020202020202020202020202020202020202020202020202020202020202",
            parses: true,
            condition: Some(
                "ni:///sha-256;SPn_lVGhY_CiWpYTTUoocHC9LPKQFUGnPr-yGK3vPHM?fpt=ed25519-sha-256&cost=131072",
            ),
            serialized: Some(
                "pGSAIIqI4910CfGV_VLbLTy6XXLKZwm_HZQSG_N0iAG0D29cgUAjxqZYlQNy4_oipEdiACz37kxO4JLzURA_oBbz0T3prJWx7HenGKOVNT--ECFRaWVx0h92vbAZyt-egnZvLyoP",
            ),
            valid: true,
        },
        // 'A' * 5
        Vector {
            name: "base64_one_char_too_many",
            uri: "AAAAA",
            message: "0202020202020202020202020202020202020202020202020202020202020202",
            parses: false,
            condition: None,
            serialized: None,
            valid: false,
        },
        // prefix whose [2] wrapper is primitive (0x82)
        Vector {
            name: "prefix_primitive_wrapper",
            uri: "oQyAAIEBCoIFoAOAAXg",
            message: "0202020202020202020202020202020202020202020202020202020202020202",
            parses: true,
            condition: Some(
                "ni:///sha-256;yumgmhxByh7-_2OkSUT1yTfiQkx700qXNzH-q2_VERU?fpt=prefix-sha-256&cost=1035&subtypes=preimage-sha-256",
            ),
            serialized: Some("oQyAAIEBCqIFoAOAAXg"),
            valid: true,
        },
        // prefix whose [2] wrapper holds two fulfillments
        Vector {
            name: "prefix_wrapper_trailing",
            uri: "oXKAAIEBCqJroAOAAXikZIAgiojj3XQJ8ZX9UtstPLpdcspnCb8dlBIb83SIAbQPb1yBQCPGpliVA3Lj-iKkR2IALPfuTE7gkvNRED-gFvPRPemslbHsd6cYo5U1P74QIVFpZXHSH3a9sBnK356Cdm8vKg8",
            message: "0202020202020202020202020202020202020202020202020202020202020202",
            parses: true,
            condition: Some(
                "ni:///sha-256;yumgmhxByh7-_2OkSUT1yTfiQkx700qXNzH-q2_VERU?fpt=prefix-sha-256&cost=1035&subtypes=preimage-sha-256",
            ),
            serialized: Some("oQyAAIEBCqIFoAOAAXg"),
            valid: true,
        },
        // threshold with no subfulfillments and no subconditions
        Vector {
            name: "threshold_empty",
            uri: "ogSgAKEA",
            message: "0202020202020202020202020202020202020202020202020202020202020202",
            parses: true,
            condition: None,
            serialized: Some("ogSgAKEA"),
            valid: true,
        },
        // threshold over a prefix with max_message_length 2^32-1
        Vector {
            name: "subcondition_cost_over_32_bits",
            uri: "ohagEqEQgACBBQD_____ogWgA4ABeKEA",
            message: "0202020202020202020202020202020202020202020202020202020202020202",
            parses: true,
            condition: None,
            serialized: Some("ohagEqEQgACBBQD_____ogWgA4ABeKEA"),
            valid: true,
        },
        // threshold with a threshold subcondition whose subtypes BIT STRING sets 16 bits
        Vector {
            name: "subtypes_extra_bits",
            uri: "ojWgBaADgAF4oSyiKoAgERERERERERERERERERERERERERERERERERERERERERGBAQWCAwD__w",
            message: "0202020202020202020202020202020202020202020202020202020202020202",
            parses: true,
            condition: Some(
                "ni:///sha-256;HvQCTjviGRNLlaLJIgivVCM5VvbHyBd25eBfxkClPcs?fpt=threshold-sha-256&cost=2053&subtypes=ed25519-sha-256,prefix-sha-256,preimage-sha-256,rsa-sha-256",
            ),
            serialized: Some(
                "ojSgBaADgAF4oSuiKYAgERERERERERERERERERERERERERERERERERERERERERGBAQWCAgP4",
            ),
            valid: true,
        },
        // threshold subcondition with cost INTEGER of length 0
        Vector {
            name: "integer_empty_and_padded",
            uri: "oi-gBaADgAF4oSakJIAgERERERERERERERERERERERERERERERERERERERERERGBAA",
            message: "0202020202020202020202020202020202020202020202020202020202020202",
            parses: true,
            condition: Some(
                "ni:///sha-256;i4k3kdLAEt_57_tSUqoTFffLPP7NsW8ipQstvj4U7NI?fpt=threshold-sha-256&cost=2049&subtypes=ed25519-sha-256,preimage-sha-256",
            ),
            serialized: Some("ojCgBaADgAF4oSekJYAgERERERERERERERERERERERERERERERERERERERERERGBAQA"),
            valid: true,
        },
        // pure-Python ed25519 construction (see module docs), checked with PyNaCl via validate()
        Vector {
            name: "ed25519_noncanonical_s",
            uri: "pGSAIGxhx8UfzO_6U1sPZ9vrUfuPkONPr3MyS2HcmSEH6ZPIgUDvT2L4R5czrYec-s7TyJqcOd1Px5XvLvocPq_k1ymggYYCm6v_dd9iXlfi_W2dFcDhj_7V9Wg5fP0Ur9lLuHYZ",
            message: "0202020202020202020202020202020202020202020202020202020202020202",
            parses: true,
            condition: Some(
                "ni:///sha-256;s6Viqt2MHK28tOtkR3dBsrmKfWpIZ-haVIKp9zC8KXk?fpt=ed25519-sha-256&cost=131072",
            ),
            serialized: Some(
                "pGSAIGxhx8UfzO_6U1sPZ9vrUfuPkONPr3MyS2HcmSEH6ZPIgUDvT2L4R5czrYec-s7TyJqcOd1Px5XvLvocPq_k1ymggYYCm6v_dd9iXlfi_W2dFcDhj_7V9Wg5fP0Ur9lLuHYZ",
            ),
            valid: false,
        },
        // pure-Python ed25519 construction (see module docs), checked with PyNaCl via validate()
        Vector {
            name: "ed25519_small_order_key",
            uri: "pGSAIAEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAgUBYZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZgEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            message: "0202020202020202020202020202020202020202020202020202020202020202",
            parses: true,
            condition: Some(
                "ni:///sha-256;a_zCM3TjxTpuPdFc4q_LVS6szof90Cf0F34olM3dZw8?fpt=ed25519-sha-256&cost=131072",
            ),
            serialized: Some(
                "pGSAIAEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAgUBYZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZgEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            ),
            valid: false,
        },
        // pure-Python ed25519 construction (see module docs), checked with PyNaCl via validate()
        Vector {
            name: "ed25519_small_order_r",
            uri: "pGSAIGxhx8UfzO_6U1sPZ9vrUfuPkONPr3MyS2HcmSEH6ZPIgUABAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAKE3tzsqYc2fMX_USHYV-4gphMNpxe9ifEIVxZQf3F8A",
            message: "0202020202020202020202020202020202020202020202020202020202020202",
            parses: true,
            condition: Some(
                "ni:///sha-256;s6Viqt2MHK28tOtkR3dBsrmKfWpIZ-haVIKp9zC8KXk?fpt=ed25519-sha-256&cost=131072",
            ),
            serialized: Some(
                "pGSAIGxhx8UfzO_6U1sPZ9vrUfuPkONPr3MyS2HcmSEH6ZPIgUABAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAKE3tzsqYc2fMX_USHYV-4gphMNpxe9ifEIVxZQf3F8A",
            ),
            valid: false,
        },
        // pure-Python ed25519 construction (see module docs), checked with PyNaCl via validate()
        Vector {
            name: "ed25519_mixed_order_key",
            uri: "pGSAIEXTpJrg4rVPbxbTxylSdh1PZnTaozyCV-3YucruSug4gUDJo_hqrkZfDlZROGRRDzmXVh-iyeheoh3CKSMJ881gImImneWD6B7L6EDcCAeNEH9qZyUPhBhyWyn-O00JVucG",
            message: "0202020202020202020202020202020202020202020202020202020202020202",
            parses: true,
            condition: Some(
                "ni:///sha-256;3GvGMShRaHiE18Y7vUunEyLDzox2Hi_8UMkG8bxT2JY?fpt=ed25519-sha-256&cost=131072",
            ),
            serialized: Some(
                "pGSAIEXTpJrg4rVPbxbTxylSdh1PZnTaozyCV-3YucruSug4gUDJo_hqrkZfDlZROGRRDzmXVh-iyeheoh3CKSMJ881gImImneWD6B7L6EDcCAeNEH9qZyUPhBhyWyn-O00JVucG",
            ),
            valid: true,
        },
        // pure-Python ed25519 construction (see module docs), checked with PyNaCl via validate()
        Vector {
            name: "ed25519_noncanonical_key",
            uri: "pGSAIPD_______________________________________9_gUDvT2L4R5czrYec-s7TyJqcOd1Px5XvLvocPq_k1ymggZkupU7lEs0KiLrqWo-jNqvhj_7V9Wg5fP0Ur9lLuHYJ",
            message: "0202020202020202020202020202020202020202020202020202020202020202",
            parses: true,
            condition: Some(
                "ni:///sha-256;rp9NwNU0wyJsrlmEkTsXlXW1sL2JRsBBCqqwkkI7Eiw?fpt=ed25519-sha-256&cost=131072",
            ),
            serialized: Some(
                "pGSAIPD_______________________________________9_gUDvT2L4R5czrYec-s7TyJqcOd1Px5XvLvocPq_k1ymggZkupU7lEs0KiLrqWo-jNqvhj_7V9Wg5fP0Ur9lLuHYJ",
            ),
            valid: false,
        },
        // cryptography PSS signature (1024-bit key) that starts with 0x00, as signed
        Vector {
            name: "rsa_signature_leading_zero",
            uri: "o4IBBoCBgJ6G397C8b01F-Wkr13AZpE4bLU_nqszG9_plOpV8GlDNHADJ19IuxdzznhDranOeQBhCz6n4sCCQhLEzWNHphL3YWARPcznemOiaf4U-iVHNAoorqa8Dni-G6kugJ-Xd7gHSLNSFlj2fdcxTSinxzby4FdeG1ZdvmvnOnkJ-TATgYGAAJpFWg5tHD9qOeRW_RWrWIu8-lx4ghl508Y5mj4QnYe20zSzFbp3YV2xw5ZuNpspig6fX-n-zv64vSmsNEEv-YFW4NBQuh1qtYIr0vMOyF1Qs2Wo3KLCt8qFu5rKZkZQDfT0OekGXfZKgzf-F9Nv9NWCWNCa3V7med_HwQueCNc",
            message: "d3a87e9b2184b4019b84718efc78c71d372aa3868f4bbc5a31e01df40fad5c3d",
            parses: true,
            condition: Some(
                "ni:///sha-256;kZK6a4D_PYdx1ndz9DHLwCTL3tvziUZYlpnLguXXBOE?fpt=rsa-sha-256&cost=16384",
            ),
            serialized: Some(
                "o4IBBoCBgJ6G397C8b01F-Wkr13AZpE4bLU_nqszG9_plOpV8GlDNHADJ19IuxdzznhDranOeQBhCz6n4sCCQhLEzWNHphL3YWARPcznemOiaf4U-iVHNAoorqa8Dni-G6kugJ-Xd7gHSLNSFlj2fdcxTSinxzby4FdeG1ZdvmvnOnkJ-TATgYGAAJpFWg5tHD9qOeRW_RWrWIu8-lx4ghl508Y5mj4QnYe20zSzFbp3YV2xw5ZuNpspig6fX-n-zv64vSmsNEEv-YFW4NBQuh1qtYIr0vMOyF1Qs2Wo3KLCt8qFu5rKZkZQDfT0OekGXfZKgzf-F9Nv9NWCWNCa3V7med_HwQueCNc",
            ),
            valid: true,
        },
        // same signature without its leading zero byte (OpenSSL takes the shorter number)
        Vector {
            name: "rsa_signature_leading_zero_stripped",
            uri: "o4IBBICBgJ6G397C8b01F-Wkr13AZpE4bLU_nqszG9_plOpV8GlDNHADJ19IuxdzznhDranOeQBhCz6n4sCCQhLEzWNHphL3YWARPcznemOiaf4U-iVHNAoorqa8Dni-G6kugJ-Xd7gHSLNSFlj2fdcxTSinxzby4FdeG1ZdvmvnOnkJ-TATgX-aRVoObRw_ajnkVv0Vq1iLvPpceIIZedPGOZo-EJ2HttM0sxW6d2FdscOWbjabKYoOn1_p_s7-uL0prDRBL_mBVuDQULodarWCK9LzDshdULNlqNyiwrfKhbuaymZGUA309DnpBl32SoM3_hfTb_TVgljQmt1e5nnfx8ELngjX",
            message: "d3a87e9b2184b4019b84718efc78c71d372aa3868f4bbc5a31e01df40fad5c3d",
            parses: true,
            condition: Some(
                "ni:///sha-256;kZK6a4D_PYdx1ndz9DHLwCTL3tvziUZYlpnLguXXBOE?fpt=rsa-sha-256&cost=16384",
            ),
            serialized: Some(
                "o4IBBICBgJ6G397C8b01F-Wkr13AZpE4bLU_nqszG9_plOpV8GlDNHADJ19IuxdzznhDranOeQBhCz6n4sCCQhLEzWNHphL3YWARPcznemOiaf4U-iVHNAoorqa8Dni-G6kugJ-Xd7gHSLNSFlj2fdcxTSinxzby4FdeG1ZdvmvnOnkJ-TATgX-aRVoObRw_ajnkVv0Vq1iLvPpceIIZedPGOZo-EJ2HttM0sxW6d2FdscOWbjabKYoOn1_p_s7-uL0prDRBL_mBVuDQULodarWCK9LzDshdULNlqNyiwrfKhbuaymZGUA309DnpBl32SoM3_hfTb_TVgljQmt1e5nnfx8ELngjX",
            ),
            valid: true,
        },
        // same signature with one more zero byte: longer than the modulus
        Vector {
            name: "rsa_signature_zero_prepended",
            uri: "o4IBB4CBgJ6G397C8b01F-Wkr13AZpE4bLU_nqszG9_plOpV8GlDNHADJ19IuxdzznhDranOeQBhCz6n4sCCQhLEzWNHphL3YWARPcznemOiaf4U-iVHNAoorqa8Dni-G6kugJ-Xd7gHSLNSFlj2fdcxTSinxzby4FdeG1ZdvmvnOnkJ-TATgYGBAACaRVoObRw_ajnkVv0Vq1iLvPpceIIZedPGOZo-EJ2HttM0sxW6d2FdscOWbjabKYoOn1_p_s7-uL0prDRBL_mBVuDQULodarWCK9LzDshdULNlqNyiwrfKhbuaymZGUA309DnpBl32SoM3_hfTb_TVgljQmt1e5nnfx8ELngjX",
            message: "d3a87e9b2184b4019b84718efc78c71d372aa3868f4bbc5a31e01df40fad5c3d",
            parses: true,
            condition: Some(
                "ni:///sha-256;kZK6a4D_PYdx1ndz9DHLwCTL3tvziUZYlpnLguXXBOE?fpt=rsa-sha-256&cost=16384",
            ),
            serialized: Some(
                "o4IBB4CBgJ6G397C8b01F-Wkr13AZpE4bLU_nqszG9_plOpV8GlDNHADJ19IuxdzznhDranOeQBhCz6n4sCCQhLEzWNHphL3YWARPcznemOiaf4U-iVHNAoorqa8Dni-G6kugJ-Xd7gHSLNSFlj2fdcxTSinxzby4FdeG1ZdvmvnOnkJ-TATgYGBAACaRVoObRw_ajnkVv0Vq1iLvPpceIIZedPGOZo-EJ2HttM0sxW6d2FdscOWbjabKYoOn1_p_s7-uL0prDRBL_mBVuDQULodarWCK9LzDshdULNlqNyiwrfKhbuaymZGUA309DnpBl32SoM3_hfTb_TVgljQmt1e5nnfx8ELngjX",
            ),
            valid: false,
        },
    ];

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn python_vectors() {
        for v in VECTORS {
            let parsed = Fulfillment::from_uri(v.uri);
            assert_eq!(parsed.is_ok(), v.parses, "{}: {parsed:?}", v.name);
            let Ok(f) = parsed else { continue };
            let condition = f.condition().ok().map(|c| c.uri());
            assert_eq!(condition.as_deref(), v.condition, "{}", v.name);
            let serialized = f.serialize_uri().ok();
            assert_eq!(serialized.as_deref(), v.serialized, "{}", v.name);
            let expected = verdict(v.valid);
            assert_eq!(f.validate(&unhex(v.message)), expected, "{}", v.name);
            // What `_input_valid` validates: the re-parsed re-serialization.
            if let Some(again) = serialized {
                let reparsed = Fulfillment::from_uri(&again).unwrap();
                assert_eq!(reparsed.validate(&unhex(v.message)), expected, "{}", v.name);
                assert_eq!(reparsed.condition().ok(), f.condition().ok(), "{}", v.name);
            }
        }
    }

    fn vector(name: &str) -> Fulfillment {
        let v = VECTORS.iter().find(|v| v.name == name).unwrap();
        Fulfillment::from_uri(v.uri).unwrap()
    }

    #[test]
    fn threshold_not_met_shows_in_the_condition() {
        // The 2-of-3 output condition cannot be met by a fulfillment with one signature: the
        // parsed threshold is 1, so its condition is a different (1-of-3) one.
        let two_of_three = vector("threshold_2_of_3").condition().unwrap();
        let one_signature = vector("threshold_1_of_3");
        assert_eq!(
            one_signature.validate(&[2; 32]),
            Verification::Valid,
            "every present subfulfillment is valid"
        );
        assert_ne!(one_signature.condition().unwrap(), two_of_three);
        assert_eq!(
            two_of_three.uri(),
            "ni:///sha-256;6xbVvXwInJtSg9YIxRt_FbDIavXYCXtJ1L7t42-xVus?fpt=threshold-sha-256&cost=265216&subtypes=ed25519-sha-256"
        );
    }

    #[test]
    fn public_keys_come_from_ed25519_leaves_only() {
        let nested = vector("threshold_nested").public_keys();
        // Seeds 0x01 and 0x02 signed; 0x03 is an unfulfilled subcondition.
        let key = |seed: u8| {
            ed25519_dalek::SigningKey::from_bytes(&[seed; 32])
                .verifying_key()
                .to_bytes()
        };
        assert_eq!(nested.len(), 2);
        assert!(nested.contains(&key(1)) && nested.contains(&key(2)));
        assert_eq!(vector("prefix").public_keys(), vec![key(1)]);
        assert!(vector("preimage").public_keys().is_empty());
    }

    fn prefix_chain(levels: usize) -> String {
        // The DER `tests/vectors.py` built with `tlv()`: preimage b"x" under `levels`
        // prefixes with empty prefix and max_message_length 10.
        let mut der = vec![0xa0, 0x03, 0x80, 0x01, b'x'];
        for _ in 0..levels {
            let mut body = vec![0x80, 0x00, 0x81, 0x01, 0x0a];
            push_tlv(&mut body, 0xa2, &der);
            der.clear();
            push_tlv(&mut der, 0xa1, &body);
        }
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(der)
    }

    #[test]
    fn nesting_limits_follow_python() {
        // From two frames deep, Python parses 163 nested prefixes over a preimage but not
        // 164; it serializes 122 but not 123 (RecursionError).
        assert!(Fulfillment::from_uri(&prefix_chain(163)).is_ok());
        assert_eq!(
            Fulfillment::from_uri(&prefix_chain(164)),
            Err(ConditionError::TooDeep)
        );
        let f = Fulfillment::from_uri(&prefix_chain(122)).unwrap();
        assert!(f.serialize_uri().is_ok());
        let f = Fulfillment::from_uri(&prefix_chain(123)).unwrap();
        assert_eq!(f.serialize_uri(), Err(ConditionError::TooDeep));
        assert_eq!(f.validate(b""), Verification::Valid);
        // Far past any limit: refused without deep recursion.
        assert_eq!(
            Fulfillment::from_uri(&prefix_chain(100_000)),
            Err(ConditionError::TooDeep)
        );
    }

    #[test]
    fn threshold_chain_depth() {
        // Python parses 98 nested 1-of-1 thresholds over an ed25519 leaf, not 99.
        let leaf = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(VECTORS[0].uri)
            .unwrap();
        let chain = |levels: usize| {
            let mut der = leaf.clone();
            for _ in 0..levels {
                let mut body = Vec::new();
                push_tlv(&mut body, 0xa0, &der);
                push_tlv(&mut body, 0xa1, &[]);
                der.clear();
                push_tlv(&mut der, 0xa2, &body);
            }
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(der)
        };
        assert!(Fulfillment::from_uri(&chain(98)).is_ok());
        assert_eq!(
            Fulfillment::from_uri(&chain(99)),
            Err(ConditionError::TooDeep)
        );
    }

    #[test]
    fn malformed_der_is_refused() {
        let cases: &[&[u8]] = &[
            b"",
            &[0xa4],
            &[0xa4, 0x82, 0x01],
            // Eight length bytes of 0xff: far past the end, and past usize on the way.
            &[0xa4, 0x88, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            &[0xbf, 0x80],
            &[0xbf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x04, 0x00],
            &[0xa5, 0x00],
            &[0xa4, 0x00],
            &[0xa0, 0x02, 0xa0, 0x00],
            &[0xa2, 0x04, 0xa0, 0x00, 0x81, 0x00],
        ];
        for der in cases {
            let uri = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(der);
            assert!(
                matches!(Fulfillment::from_uri(&uri), Err(ConditionError::Der(_))),
                "{der:02x?}"
            );
        }
    }

    #[test]
    fn base64_quirks() {
        // `urlsafe_b64decode(base64_add_padding(s))`, checked against Python on 100k random
        // strings; these are the surprising ones.
        let cases: &[(&str, Option<&[u8]>)] = &[
            ("QUJD", Some(b"ABC")),
            ("QUJ", Some(b"AB")),
            ("Q", None),
            ("", Some(b"")),
            ("QQ==QUJD", Some(b"A")),
            ("QU=J", Some(b"AB")),
            ("QU+/", Some(&[0x41, 0x4f, 0xbf])),
            ("QU-_", Some(&[0x41, 0x4f, 0xbf])),
            ("Q\nUJ", Some(b"AB")),
            ("QUé", Some(b"A")),
            ("QUJDQ=", None),
            ("==QUJD", Some(b"ABC")),
            ("A=B=C=D=", Some(&[0x00, 0x10])),
        ];
        for (input, expected) in cases {
            assert_eq!(decode_base64(input).ok().as_deref(), *expected, "{input:?}");
        }
    }

    #[test]
    fn canonical_y_matches_libsodium() {
        let mut y = [0xff; 32];
        y[31] = 0x7f;
        for (low, canonical) in [(0xec, true), (0xed, false), (0xff, false)] {
            y[0] = low;
            assert_eq!(is_canonical_y(&y), canonical, "{low:x}");
            // The sign bit is not part of y.
            let mut signed = y;
            signed[31] |= 0x80;
            assert_eq!(is_canonical_y(&signed), canonical);
        }
        assert!(is_canonical_y(&[0; 32]));
    }

    /// `(name, details JSON, condition URI or error code)`. Each comment names Python's
    /// outcome of `_fulfillment_from_details(details).condition_uri`, from
    /// planetmint-transactions 0.8.4; keys are base58 public keys of seeds 0x01..0x03.
    const DETAILS: &[(&str, &str, Result<&str, &str>)] = &[
        // Output.generate([pk1], 1).to_dict()['condition']['details']: a condition
        (
            "single_key",
            r#"{"type": "ed25519-sha-256", "public_key": "AKnL4NNf3DGWZJS6cPknBuEGnVsV4A4m5tgebLHaRSZ9"}"#,
            Ok(
                "ni:///sha-256;SPn_lVGhY_CiWpYTTUoocHC9LPKQFUGnPr-yGK3vPHM?fpt=ed25519-sha-256&cost=131072",
            ),
        ),
        // Output.generate([pk1, pk2], 1) details (threshold 2 of 2): a condition
        (
            "two_keys",
            r#"{"type": "threshold-sha-256", "threshold": 2, "subconditions": [{"type": "ed25519-sha-256", "public_key": "AKnL4NNf3DGWZJS6cPknBuEGnVsV4A4m5tgebLHaRSZ9"}, {"type": "ed25519-sha-256", "public_key": "9hSR6S7WPtxmTojgo6GG3k4yDPecgJY292j7xrsUGWBu"}]}"#,
            Ok(
                "ni:///sha-256;scJAoDXv0jWyezkC3-knkaOL9e8prdjNxWg0rtpKJQ4?fpt=threshold-sha-256&cost=264192&subtypes=ed25519-sha-256",
            ),
        ),
        // Output.generate([pk1, [pk2, pk3]], 1) details: a condition
        (
            "nested",
            r#"{"type": "threshold-sha-256", "threshold": 2, "subconditions": [{"type": "ed25519-sha-256", "public_key": "AKnL4NNf3DGWZJS6cPknBuEGnVsV4A4m5tgebLHaRSZ9"}, {"type": "threshold-sha-256", "threshold": 2, "subconditions": [{"type": "ed25519-sha-256", "public_key": "9hSR6S7WPtxmTojgo6GG3k4yDPecgJY292j7xrsUGWBu"}, {"type": "ed25519-sha-256", "public_key": "GyGKxMyg1p9SsHfm15MkNUu1u9TN2JtTspcdmrtGUdse"}]}]}"#,
            Ok(
                "ni:///sha-256;n3c1OgXg-xdleUArsjkTO1Lj9UumgeUSuaxw_t_tR_s?fpt=threshold-sha-256&cost=397312&subtypes=ed25519-sha-256",
            ),
        ),
        // threshold 1 of three keys: a condition
        (
            "one_of_three",
            r#"{"type": "threshold-sha-256", "threshold": 1, "subconditions": [{"type": "ed25519-sha-256", "public_key": "AKnL4NNf3DGWZJS6cPknBuEGnVsV4A4m5tgebLHaRSZ9"}, {"type": "ed25519-sha-256", "public_key": "9hSR6S7WPtxmTojgo6GG3k4yDPecgJY292j7xrsUGWBu"}, {"type": "ed25519-sha-256", "public_key": "GyGKxMyg1p9SsHfm15MkNUu1u9TN2JtTspcdmrtGUdse"}]}"#,
            Ok(
                "ni:///sha-256;1zGMpTQ-7PpauDqcD5kpAReD9EO6mQHSZ5Z6LbCP05E?fpt=threshold-sha-256&cost=134144&subtypes=ed25519-sha-256",
            ),
        ),
        // threshold true (a bool is an int): a condition
        (
            "threshold_true",
            r#"{"type": "threshold-sha-256", "threshold": true, "subconditions": [{"type": "ed25519-sha-256", "public_key": "AKnL4NNf3DGWZJS6cPknBuEGnVsV4A4m5tgebLHaRSZ9"}]}"#,
            Ok(
                "ni:///sha-256;2p5dUNpjpaw9c856XVMHUCzxsdsVBhiR9ACe3lytjqs?fpt=threshold-sha-256&cost=132096&subtypes=ed25519-sha-256",
            ),
        ),
        // public_key + U+3000 (str.rstrip strips it): a condition
        (
            "key_trailing_ideographic_space",
            r#"{"type": "ed25519-sha-256", "public_key": "AKnL4NNf3DGWZJS6cPknBuEGnVsV4A4m5tgebLHaRSZ9　"}"#,
            Ok(
                "ni:///sha-256;SPn_lVGhY_CiWpYTTUoocHC9LPKQFUGnPr-yGK3vPHM?fpt=ed25519-sha-256&cost=131072",
            ),
        ),
        // ' ' + public_key: ValueError
        (
            "key_leading_space",
            r#"{"type": "ed25519-sha-256", "public_key": " AKnL4NNf3DGWZJS6cPknBuEGnVsV4A4m5tgebLHaRSZ9"}"#,
            Err("bad_key"),
        ),
        // base58 of 31 bytes: ValueError
        (
            "key_31_bytes",
            r#"{"type": "ed25519-sha-256", "public_key": "5SV2hdVK1ZezefdyJMyk8fvkE9qZvZshnqmvg28eJp"}"#,
            Err("bad_key"),
        ),
        // base58 of 32 zero bytes ('1' * 32): a condition
        (
            "key_all_zero",
            r#"{"type": "ed25519-sha-256", "public_key": "11111111111111111111111111111111"}"#,
            Ok(
                "ni:///sha-256;45inuPYM26yp-YOe0nXZfAc_4RmQYFBzDVjnoQw5UAo?fpt=ed25519-sha-256&cost=131072",
            ),
        ),
        // public_key with '0': ValueError
        (
            "key_not_base58",
            r#"{"type": "ed25519-sha-256", "public_key": "0KnL4NNf3DGWZJS6cPknBuEGnVsV4A4m5tgebLHaRSZ9"}"#,
            Err("bad_key"),
        ),
        // public_key 5: AttributeError
        (
            "key_not_string",
            r#"{"type": "ed25519-sha-256", "public_key": 5}"#,
            Err("bad_key"),
        ),
        // no public_key: KeyError
        (
            "missing_public_key",
            r#"{"type": "ed25519-sha-256"}"#,
            Err("missing_key"),
        ),
        // no type: KeyError
        (
            "missing_type",
            r#"{"public_key": "AKnL4NNf3DGWZJS6cPknBuEGnVsV4A4m5tgebLHaRSZ9"}"#,
            Err("missing_key"),
        ),
        // threshold without subconditions: KeyError
        (
            "missing_subconditions",
            r#"{"type": "threshold-sha-256", "threshold": 1}"#,
            Err("missing_key"),
        ),
        // KeyError deep inside wins over an unmet threshold: KeyError
        (
            "missing_nested_key",
            r#"{"type": "threshold-sha-256", "threshold": 5, "subconditions": [{"type": "ed25519-sha-256", "public_key": "AKnL4NNf3DGWZJS6cPknBuEGnVsV4A4m5tgebLHaRSZ9"}, {"type": "ed25519-sha-256"}]}"#,
            Err("missing_key"),
        ),
        // zenroom-sha-256: UnsupportedTypeError
        (
            "unsupported_type",
            r#"{"type": "zenroom-sha-256", "public_key": "AKnL4NNf3DGWZJS6cPknBuEGnVsV4A4m5tgebLHaRSZ9"}"#,
            Err("unsupported_type"),
        ),
        // threshold 0: ValueError
        (
            "threshold_zero",
            r#"{"type": "threshold-sha-256", "threshold": 0, "subconditions": []}"#,
            Err("bad_threshold"),
        ),
        // threshold 1.0: ValueError
        (
            "threshold_float",
            r#"{"type": "threshold-sha-256", "threshold": 1.0, "subconditions": [{"type": "ed25519-sha-256", "public_key": "AKnL4NNf3DGWZJS6cPknBuEGnVsV4A4m5tgebLHaRSZ9"}]}"#,
            Err("bad_threshold"),
        ),
        // threshold null: TypeError
        (
            "threshold_null",
            r#"{"type": "threshold-sha-256", "threshold": null, "subconditions": [{"type": "ed25519-sha-256", "public_key": "AKnL4NNf3DGWZJS6cPknBuEGnVsV4A4m5tgebLHaRSZ9"}]}"#,
            Err("threshold_out_of_range"),
        ),
        // threshold 2 of 1: MissingDataError
        (
            "threshold_not_met",
            r#"{"type": "threshold-sha-256", "threshold": 2, "subconditions": [{"type": "ed25519-sha-256", "public_key": "AKnL4NNf3DGWZJS6cPknBuEGnVsV4A4m5tgebLHaRSZ9"}]}"#,
            Err("threshold_not_met"),
        ),
        // threshold 65536: ValueConstraintError
        (
            "threshold_too_large",
            r#"{"type": "threshold-sha-256", "threshold": 65536, "subconditions": [{"type": "ed25519-sha-256", "public_key": "AKnL4NNf3DGWZJS6cPknBuEGnVsV4A4m5tgebLHaRSZ9"}]}"#,
            Err("threshold_out_of_range"),
        ),
        // subconditions '' iterates nothing: MissingDataError
        (
            "subconditions_empty_string",
            r#"{"type": "threshold-sha-256", "threshold": 1, "subconditions": ""}"#,
            Err("threshold_not_met"),
        ),
        // subconditions 'ab' iterates characters: TypeError
        (
            "subconditions_string",
            r#"{"type": "threshold-sha-256", "threshold": 1, "subconditions": "ab"}"#,
            Err("bad_details"),
        ),
        // details is a list: TypeError
        ("not_an_object", r#"[]"#, Err("bad_details")),
    ];

    #[test]
    fn details_vectors() {
        for (name, text, expected) in DETAILS {
            let details = json::decode(text.as_bytes()).unwrap();
            let got = Condition::from_details(&details);
            let got = got
                .as_ref()
                .map(Condition::uri)
                .map_err(ConditionError::code);
            assert_eq!(got.as_deref().map_err(|e| *e), *expected, "{name}");
        }
    }

    #[test]
    fn details_depth_limit() {
        // `_fulfillment_from_details` raises ThresholdTooDeep at depth 100: 99 thresholds
        // above a key build, 100 do not.
        let nest = |levels: usize| {
            let mut text =
                r#"{"type": "ed25519-sha-256", "public_key": "11111111111111111111111111111111"}"#
                    .to_string();
            for _ in 0..levels {
                text = format!(
                    r#"{{"type": "threshold-sha-256", "threshold": 1, "subconditions": [{text}]}}"#
                );
            }
            json::decode(text.as_bytes()).unwrap()
        };
        assert!(Condition::from_details(&nest(99)).is_ok());
        assert_eq!(
            Condition::from_details(&nest(100)),
            Err(ConditionError::ThresholdTooDeep)
        );
    }

    #[test]
    fn error_codes_are_distinct() {
        let errors = [
            ConditionError::Base64,
            ConditionError::Der(""),
            ConditionError::TooDeep,
            ConditionError::UnsupportedType(String::new()),
            ConditionError::MissingKey(""),
            ConditionError::BadDetails(""),
            ConditionError::BadKey(""),
            ConditionError::BadThreshold,
            ConditionError::ThresholdTooDeep,
            ConditionError::ThresholdOutOfRange,
            ConditionError::CostOutOfRange,
            ConditionError::ThresholdNotMet,
            ConditionError::RsaModulus(""),
            ConditionError::Unserializable(""),
        ];
        let codes: std::collections::HashSet<_> = errors.iter().map(|e| e.code()).collect();
        assert_eq!(codes.len(), errors.len());
    }

    /// Everything Python would compute on a parsed fulfillment, none of which may panic.
    fn exercise(uri: &str) {
        if let Ok(f) = Fulfillment::from_uri(uri) {
            let _ = f.condition().map(|c| c.uri());
            let _ = f.serialize_uri();
            let _ = f.validate(b"message");
            let _ = f.public_keys();
        }
    }

    proptest! {
        #[test]
        fn from_uri_never_panics_on_strings(uri in "\\PC{0,300}") {
            exercise(&uri);
        }

        #[test]
        fn from_uri_never_panics_on_der(der in proptest::collection::vec(any::<u8>(), 0..300)) {
            exercise(&base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(der));
        }

        #[test]
        fn from_uri_never_panics_on_mutated_vectors(
            index in 0..VECTORS.len(),
            flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..4),
        ) {
            let mut der = decode_base64(VECTORS[index].uri).unwrap_or_default();
            for (at, byte) in flips {
                if !der.is_empty() {
                    let at = at % der.len();
                    der[at] = byte;
                }
            }
            exercise(&base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(der));
        }
    }
}
