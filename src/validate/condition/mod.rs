//! Crypto-conditions (draft-thomas-crypto-conditions) exactly as Planetmint uses them.
//!
//! Owns one question: what does `planetmint-cryptoconditions` 1.2.2 (with pyasn1 0.4.8, PyNaCl
//! 1.4.0 / libsodium 1.0.18 and `base58` 2.1.1 underneath) make of a transaction's
//! fulfillments and condition details? In: an input's `"fulfillment"` string, or an output's
//! `condition.details` [`Value`](crate::validate::json::Value). Out: a parsed [`Fulfillment`], its [`Condition`] (and URI),
//! a [`Verification`] against the signed message, or a [`ConditionError`].
//!
//! Every accept/reject decision is Python's, including its accidents; the ones that matter:
//!
//! - base64: Python re-pads, then decodes leniently: `+`/`/` are as good as `-`/`_`, other
//!   characters are skipped, and decoding stops at the first complete padding, so anything
//!   after it is ignored ([`fulfillment::decode_base64`]).
//! - DER: pyasn1's "DER" decoder is BER with a few checks. It takes long-form and non-minimal
//!   lengths and tags, empty or zero-padded INTEGERs, unsorted SET OFs, bytes after the
//!   fulfillment, and bytes after the one fulfillment inside a prefix's `[2]` wrapper (whose
//!   constructed bit it does not check). It refuses indefinite lengths, constructed strings
//!   and anything off-schema ([`der::read_tlv`], [`der::Fields`]).
//! - Costs: a condition's own cost may exceed 32 bits, but encoding it as a subcondition
//!   (its parent's fingerprint) fails, so the parent has no condition.
//! - A parsed threshold's threshold is its number of subfulfillments, so `validate` only asks
//!   that every subfulfillment be valid; "m of n" shows up in the condition URI instead. A
//!   threshold with no subfulfillment validates, but has no condition (its threshold 0 is
//!   outside pyasn1's `1..65535`).
//! - Python's recursive decoder and encoder give up (`RecursionError`) on deep nesting;
//!   [`frames::Frames`] models where, which also bounds our own recursion.
//!
//! Signatures: ed25519 is checked as libsodium's `crypto_sign_verify_detached` does
//! ([`verify_ed25519`]), rsa-sha-256 as `cryptography` over OpenSSL 3.1 checks RSA-PSS
//! ([`verify_rsa_pss`]), so every type Python validates gets a definite verdict.
//!
//! Inside: [`types`] holds the vocabulary, [`fulfillment`] parses and re-serializes,
//! [`der`] reads and writes the DER, [`frames`] models Python's recursion limit,
//! [`fingerprint`] computes conditions and costs, [`details`] builds output condition
//! details, and [`ed25519`] and [`rsa`] check the two signature types.

mod der;
mod details;
mod ed25519;
mod fingerprint;
mod frames;
mod fulfillment;
mod rsa;
#[cfg(test)]
mod tests;
mod types;
#[cfg(test)]
mod vectors;

pub use details::Details;
pub use types::{Condition, ConditionError, ConditionType, Fulfillment, Subtypes, Verification};

use ed25519::verify_ed25519;
use rsa::{rsa_cost, verify_rsa_pss};

impl Fulfillment {
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
}

fn verdict(valid: bool) -> Verification {
    if valid {
        Verification::Valid
    } else {
        Verification::Invalid
    }
}
