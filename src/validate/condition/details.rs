//! An output's `condition.details`, as `_fulfillment_from_details` (planetmint-transactions
//! 0.8.4, with `base58` 2.1.1 for the keys) builds them.
//!
//! In: the details [`Value`]. Out: [`Details`], the tree Python builds, whose condition is
//! computed only on request, or the [`ConditionError`] Python raises building it.

use super::ed25519::ed25519_condition;
use super::fingerprint::{MAX_THRESHOLD, threshold_condition};
use super::types::{Condition, ConditionError};
use crate::validate::json::Value;

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

impl Condition {
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
    // `str.rstrip()` strips Python whitespace, then the rest must be ASCII.
    let key = key.trim_end_matches(is_python_whitespace);
    if !key.is_ascii() {
        return Err(ConditionError::BadKey("not ASCII"));
    }
    // Refusing what cannot be 32 bytes before decoding bounds the work on a long string.
    let digits = key.trim_start_matches('1');
    let zeros = key.len() - digits.len();
    if zeros > 32 || digits.len() > BASE58_MAX_SIGNIFICANT_DIGITS {
        return Err(ConditionError::BadKey("not 32 bytes"));
    }
    // Like Python's, each leading '1' decodes to a zero byte before the number's own bytes.
    let bytes = bs58::decode(key)
        .into_vec()
        .map_err(|_| ConditionError::BadKey("not base58"))?;
    bytes
        .try_into()
        .map_err(|_| ConditionError::BadKey("not 32 bytes"))
}

/// Python's `str.isspace()`: Unicode `White_Space` plus the separators U+001C..U+001F.
fn is_python_whitespace(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}
