//! Crypto-conditions (draft-thomas-crypto-conditions) exactly as Planetmint uses them.
//!
//! Owns one question: what does `planetmint-cryptoconditions` 1.2.2 (with pyasn1 0.4.8, PyNaCl
//! 1.4.0 / libsodium 1.0.18 and `base58` 2.1.1 underneath) make of a transaction's
//! fulfillments and condition details? In: an input's `"fulfillment"` string, or an output's
//! `condition.details` [`Value`]. Out: a parsed [`Fulfillment`], its [`Condition`] (and URI),
//! whether it validates against the signed message, or a [`ConditionError`].
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
//!   and anything off-schema ([`Der`]).
//! - A parsed threshold's threshold is its number of subfulfillments, so `validate` only asks
//!   that every subfulfillment be valid; "m of n" shows up in the condition URI instead. A
//!   threshold with no subfulfillment validates, but has no condition (its threshold 0 is
//!   outside pyasn1's `1..65535`).
//! - Python's recursive decoder gives up (`RecursionError`) on deep nesting; [`Depth`] models
//!   where, which also bounds our own recursion.
//!
//! Signatures: ed25519 is checked as libsodium's `crypto_sign_verify_detached` does
//! ([`verify_ed25519`]), rsa-sha-256 as OpenSSL's RSASSA-PSS ([`verify_rsa_pss`]).

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

/// Why Python refuses a fulfillment, its condition, its re-serialization or condition details.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConditionError {
    /// `binascii.Error` from the base64 decoder.
    #[error("fulfillment is not base64")]
    Base64,
    /// pyasn1 cannot decode the bytes against the fulfillment schema.
    #[error("malformed fulfillment DER: {0}")]
    Der(&'static str),
    /// Python hits its recursion limit decoding this much nesting.
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
/// `cryptography` refuses PSS with SHA-256 when the modulus has fewer bytes than the digest
/// (32) plus 2.
const RSA_MIN_PSS_MODULUS_BYTES: usize = 34;
/// `RsaSha256.COST_RIGHT_SHIFT`.
const RSA_COST_SHIFT: u32 = 6;

impl Fulfillment {
    /// Parses an input's fulfillment string as `Fulfillment.from_uri` does.
    pub fn from_uri(uri: &str) -> Result<Fulfillment, ConditionError> {
        let der = decode_base64(uri)?;
        let mut rest = der.as_slice();
        // pyasn1 hands back the bytes after the first element and `from_binary` drops them.
        let tlv = Der::read(&mut rest)?;
        Fulfillment::from_tlv(&tlv, Depth::TOP)
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
    pub fn validate(&self, message: &[u8]) -> bool {
        match self {
            Fulfillment::Ed25519Sha256 {
                public_key,
                signature,
            } => verify_ed25519(public_key, signature, message),
            // A hashlock is fulfilled by being parsed at all.
            Fulfillment::PreimageSha256 { .. } => true,
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
            } => subfulfillments.iter().all(|sub| sub.validate(message)),
            Fulfillment::RsaSha256 { modulus, signature } => {
                // `cryptography` raises before any RSA arithmetic on these.
                let bytes = significant(modulus);
                rsa_cost(modulus).is_ok()
                    && bytes.len() >= RSA_MIN_PSS_MODULUS_BYTES
                    && verify_rsa_pss(bytes, signature, message)
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
        self.encode(&mut der)?;
        Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(der))
    }

    /// Appends the DER Python's `serialize_binary` writes (`{TYPE_ASN1: asn1_dict_payload}`).
    fn encode(&self, out: &mut Vec<u8>) -> Result<(), ConditionError> {
        let mut body = Vec::new();
        match self {
            Fulfillment::PreimageSha256 { preimage } => {
                push_tlv(&mut body, TAG_PRIMITIVE, preimage);
            }
            Fulfillment::Ed25519Sha256 {
                public_key,
                signature,
            } => {
                push_tlv(&mut body, TAG_PRIMITIVE, public_key);
                push_tlv(&mut body, TAG_PRIMITIVE | 1, signature);
            }
            Fulfillment::RsaSha256 { modulus, signature } => {
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
                subfulfillment.encode(&mut sub)?;
                push_tlv(&mut body, TAG_CONSTRUCTED | 2, &sub);
            }
            Fulfillment::ThresholdSha256 {
                subfulfillments,
                subconditions,
            } => {
                // Python sorts the subfulfillments by `calculate_cost()` before the encoder
                // sorts them again by DER, so only the costs' failures show.
                let mut subs = Vec::with_capacity(subfulfillments.len());
                for sub in subfulfillments {
                    sub.calculate_cost()?;
                    let mut der = Vec::new();
                    sub.encode(&mut der)?;
                    subs.push(der);
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
    fn from_tlv(tlv: &Tlv<'_>, depth: Depth) -> Result<Fulfillment, ConditionError> {
        let kind = tlv
            .context_number()
            .and_then(ConditionType::from_id)
            .ok_or(ConditionError::Der("unknown fulfillment type"))?;
        let mut fields = tlv.sequence()?;
        let fulfillment = match kind {
            ConditionType::PreimageSha256 => Fulfillment::PreimageSha256 {
                preimage: fields.octets(0)?.to_vec(),
            },
            ConditionType::Ed25519Sha256 => Fulfillment::Ed25519Sha256 {
                public_key: sized(fields.octets(0)?)?,
                signature: sized(fields.octets(1)?)?,
            },
            ConditionType::RsaSha256 => Fulfillment::RsaSha256 {
                modulus: fields.octets(0)?.to_vec(),
                signature: fields.octets(1)?.to_vec(),
            },
            ConditionType::PrefixSha256 => {
                let prefix = fields.octets(0)?.to_vec();
                let max_message_length = fields.uint32(1)?;
                let wrapper = fields.field(2)?;
                // A tagged CHOICE: pyasn1 decodes the first element inside and drops the
                // rest, whichever the wrapper's constructed bit says.
                let mut inner = wrapper.content;
                let sub = Der::read(&mut inner)?;
                let depth = depth.enter(ConditionType::PrefixSha256)?;
                Fulfillment::PrefixSha256 {
                    prefix,
                    max_message_length,
                    subfulfillment: Box::new(Fulfillment::from_tlv(&sub, depth)?),
                }
            }
            ConditionType::ThresholdSha256 => {
                let mut subs = fields.set_of(0)?;
                let mut conds = fields.set_of(1)?;
                // Decoding a subcondition nests as deep as decoding an ed25519 leaf.
                let depth = if subs.is_empty() && conds.is_empty() {
                    depth
                } else {
                    depth.enter(ConditionType::ThresholdSha256)?
                };
                let mut subfulfillments = Vec::new();
                while !subs.is_empty() {
                    subfulfillments.push(Fulfillment::from_tlv(&Der::read(&mut subs)?, depth)?);
                }
                let mut subconditions = Vec::new();
                while !conds.is_empty() {
                    subconditions.push(Condition::from_tlv(&Der::read(&mut conds)?)?);
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
    /// `Err` is what `_fulfillment_from_details` itself raises; [`ConditionError::MissingKey`]
    /// is Python's `KeyError`, which `Output.from_dict` catches to take `condition.uri` as
    /// the output's (hashlock) condition instead. `Ok(None)`: the details build, but no
    /// condition can be computed from them (a threshold above its subconditions, or of
    /// none); Planetmint never computes an output's condition, so such an output is valid,
    /// merely unspendable.
    pub fn from_details(details: &Value) -> Result<Option<Condition>, ConditionError> {
        // Python builds the whole tree before computing anything, so a KeyError anywhere
        // wins over a threshold that cannot be met.
        Ok(details_node(details, 0)?.condition().ok())
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

/// Largest modulus OpenSSL verifies with (`OPENSSL_RSA_MAX_MODULUS_BITS`); `cryptography`
/// fails on larger ones.
const RSA_MAX_MODULUS_BYTES: usize = 16384 / 8;

/// `RsaSha256.validate`: RSASSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt, public
/// exponent 65537, checked as OpenSSL (through `cryptography`) checks it. `modulus` has no
/// leading zero bytes and is at least [`RSA_MIN_PSS_MODULUS_BYTES`] long.
fn verify_rsa_pss(modulus: &[u8], signature: &[u8], message: &[u8]) -> bool {
    use rsa::signature::Verifier as _;
    /// `RsaSha256.SALT_LENGTH`.
    const SALT_LENGTH: usize = 32;
    // OpenSSL refuses a signature longer than the modulus and reads a shorter one as a
    // number, that is, as if zero-padded; it cannot do Montgomery arithmetic modulo an even
    // number, and caps the modulus size.
    if signature.len() > modulus.len()
        || modulus.len() > RSA_MAX_MODULUS_BYTES
        || modulus.last().is_none_or(|b| b % 2 == 0)
    {
        return false;
    }
    let mut padded = vec![0u8; modulus.len() - signature.len()];
    padded.extend_from_slice(signature);
    let bits = modulus.len() as u32 * 8;
    let exponent = rsa::BoxedUint::from_be_slice(&RSA_PUBLIC_EXPONENT.to_be_bytes(), 64);
    let (Ok(n), Ok(e)) = (rsa::BoxedUint::from_be_slice(modulus, bits), exponent) else {
        return false;
    };
    // The size checks above are OpenSSL's; the crate's own minimum (1024 bits) is not.
    let key = rsa::PublicKey::new_unchecked(n, e);
    let Ok(signature) = rsa::pss::Signature::try_from(padded.as_slice()) else {
        return false;
    };
    rsa::pss::VerifyingKey::<Sha256>::new_with_salt_len(key, SALT_LENGTH)
        .verify(message, &signature)
        .is_ok()
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
// Condition details (`_fulfillment_from_details`).

/// `_fulfillment_from_details` raises `ThresholdTooDeep` on reaching this depth.
const DETAILS_MAX_DEPTH: usize = 100;

/// The tree `_fulfillment_from_details` builds: ed25519 leaves without signatures and
/// thresholds with their declared threshold.
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

struct Der;

impl Der {
    /// Reads one element off the front of `input`. Like pyasn1: long-form tag numbers
    /// (even with leading zero groups) and long-form lengths (even non-minimal) are fine,
    /// the indefinite length is not, and the content must fit the input.
    fn read<'a>(input: &mut &'a [u8]) -> Result<Tlv<'a>, ConditionError> {
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
        let tlv = Der::read(&mut self.0)?;
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

/// Python's nesting limit, as a frame budget.
///
/// Python decodes fulfillments recursively and raises `RecursionError` at 1000 frames.
/// Measured with pyasn1 0.4.8 on CPython 3.11 from a shallow stack: each nested threshold
/// costs 10 frames and each nested prefix 6, and the deepest chains that still parse are 98
/// thresholds and 163 prefixes, which a budget of 980 frames reproduces. Planetmint calls
/// `from_uri` from a deeper stack, so its real limit is a few levels lower; nothing below
/// 20 levels is affected, and past that Python's condition and serialization already take
/// time exponential in the depth.
#[derive(Debug, Clone, Copy)]
struct Depth(u32);

impl Depth {
    const TOP: Depth = Depth(0);
    const BUDGET: u32 = 980;
    const THRESHOLD_FRAMES: u32 = 10;
    const PREFIX_FRAMES: u32 = 6;

    fn enter(self, parent: ConditionType) -> Result<Depth, ConditionError> {
        let frames = match parent {
            ConditionType::ThresholdSha256 => Depth::THRESHOLD_FRAMES,
            _ => Depth::PREFIX_FRAMES,
        };
        let used = self.0 + frames;
        if used > Depth::BUDGET {
            Err(ConditionError::TooDeep)
        } else {
            Ok(Depth(used))
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
