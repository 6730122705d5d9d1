//! ed25519-sha-256: its condition, and its signature checked as PyNaCl (libsodium 1.0.18)
//! checks it.
//!
//! In: a 32-byte public key, and a 64-byte signature with the message. Out: the key's
//! [`Condition`], and whether libsodium accepts the signature.

use ed25519_dalek::{Signature, VerifyingKey};
use sha2::{Digest, Sha256};

use super::der::TAG_PRIMITIVE;
use super::types::{Condition, ConditionType, Subtypes};

/// Fixed cost of an ed25519-sha-256 condition (`Ed25519Sha256.CONSTANT_COST`).
pub(super) const ED25519_COST: u64 = 131_072;

/// libsodium 1.0.18's `crypto_sign_verify_detached`, which PyNaCl calls.
///
/// `verify_strict` already matches it on everything but the key encoding: both refuse S >= L,
/// small-order R and A, and compare the recomputed R with the signature's bytes, so a
/// non-canonical R never passes either. libsodium also refuses a public key whose y
/// coordinate is not reduced (y >= p), which dalek decompresses by reducing it; we refuse it
/// first. Both use the cofactorless equation and accept keys with a torsion component.
pub(super) fn verify_ed25519(public_key: &[u8; 32], signature: &[u8; 64], message: &[u8]) -> bool {
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
pub(super) fn is_canonical_y(encoding: &[u8; 32]) -> bool {
    const P_LOW_BYTE: u8 = 0xed;
    let top_all_ones = encoding[31] & 0x7f == 0x7f && encoding[1..31].iter().all(|&b| b == 0xff);
    !(top_all_ones && encoding[0] >= P_LOW_BYTE)
}

pub(super) fn ed25519_condition(public_key: &[u8; 32]) -> Condition {
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
