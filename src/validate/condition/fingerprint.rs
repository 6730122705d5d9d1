//! What a fulfillment fulfills: a [`Condition`]'s fingerprint, cost and subtypes, computed
//! as `planetmint-cryptoconditions` computes them, and its DER and URI forms.
//!
//! In: a parsed [`Fulfillment`], or the subconditions and threshold of condition details.
//! Out: the [`Condition`], or the [`ConditionError`] Python raises computing it (a threshold
//! outside `1..65535` or not met, a subcondition cost past 32 bits, an RSA modulus
//! `cryptography` refuses).

use base64::Engine as _;
use sha2::{Digest, Sha256};

use super::der::{
    TAG_CONSTRUCTED, TAG_PRIMITIVE, int_content, push_tlv, sha256_sequence, sorted_set,
};
use super::ed25519::{ED25519_COST, ed25519_condition};
use super::rsa::rsa_cost;
use super::types::{Condition, ConditionError, ConditionType, Fulfillment, Subtypes};

/// Cost a threshold adds per subcondition, and a prefix adds once (the Python constants).
const COST_PER_SUBCONDITION: u64 = 1024;
/// Largest threshold `ThresholdFingerprintContents` encodes (`INTEGER (1..65535)`).
pub(super) const MAX_THRESHOLD: usize = 65_535;

impl Fulfillment {
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

    /// Python's `calculate_cost()`: `condition()?.cost` without this fulfillment's own
    /// fingerprint, so without its checks (threshold range, children's costs fitting 32
    /// bits); the children's whole conditions are still computed.
    pub(super) fn calculate_cost(&self) -> Result<u64, ConditionError> {
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

    /// The DER Python writes for this condition (`to_asn1_dict`), used for fingerprints and
    /// sorting. Subtypes are rewritten from the five known bits, so any other bits a parsed
    /// subcondition carried are gone, as in Python. A computed cost can exceed the schema's
    /// 32 bits, which only fails once the condition is encoded like this.
    pub(super) fn to_der(&self) -> Result<Vec<u8>, ConditionError> {
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
pub(super) fn threshold_condition(
    threshold: u64,
    subs: &[Condition],
) -> Result<Condition, ConditionError> {
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
