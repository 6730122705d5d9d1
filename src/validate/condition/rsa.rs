//! rsa-sha-256: its cost, and its RSA-PSS signature checked as `cryptography` 41 (OpenSSL
//! 3.1) checks it for `RsaSha256.validate`.
//!
//! In: the modulus and signature bytes of a fulfillment, and the message. Out: the
//! condition's cost (or [`ConditionError::RsaModulus`] where `cryptography` refuses the
//! key), and whether the signature verifies. The arithmetic and the PSS decoding are the
//! `rsa` crate's; only what OpenSSL does differently from it is written here.

use std::ops::RangeInclusive;

use ::rsa::{BoxedUint, Pss, PublicKey};
use sha2::{Digest, Sha256};

use super::der::significant;
use super::types::ConditionError;

/// The public exponent `RsaSha256` fixes.
const RSA_PUBLIC_EXPONENT: u32 = 65_537;
/// `RsaSha256.COST_RIGHT_SHIFT`.
const RSA_COST_SHIFT: u32 = 6;

/// `RsaSha256.calculate_cost`: `cryptography` first insists on 3 <= n and 65537 < n, then
/// the cost is `int(math.pow(bits, 2)) >> 6`; the float square is kept because it rounds
/// for moduli over 2^26 bits, as Python's does.
pub(super) fn rsa_cost(modulus: &[u8]) -> Result<u64, ConditionError> {
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

/// `RsaSha256`'s PSS salt length.
const RSA_PSS_SALT_LEN: usize = 32;
/// Up to OpenSSL's `OPENSSL_RSA_MAX_MODULUS_BITS`, past which every operation fails. No
/// minimum: what `cryptography` refuses as too short for the digest, PSS's length check
/// refuses too (the crate's default minimum of 1024 bits is not OpenSSL's).
const RSA_MODULUS_BITS: RangeInclusive<usize> = 0..=16_384;

/// `RSAPublicNumbers(65537, n).public_key().verify(signature, message, PSS(MGF1(SHA256),
/// salt_length=32), SHA256())`, true where it returns and false where it raises. The
/// modulus has already passed [`rsa_cost`]'s checks (n > 65537).
///
/// The crate refuses what OpenSSL refuses (even moduli, signature values not below n, a
/// nonzero byte above the encoded message) and checks PSS as OpenSSL does with a fixed salt
/// length; only the signature's length is OpenSSL's own, below.
pub(super) fn verify_rsa_pss(modulus: &[u8], signature: &[u8], message: &[u8]) -> bool {
    // `cryptography` builds n from the bytes as an integer: leading zero bytes do not count.
    let n = significant(modulus);
    // OpenSSL refuses a signature longer than the modulus, even one padded with zeros, but
    // reads a shorter one as the smaller number it spells; the crate wants exactly n's
    // length (vectors `rsa_signature_zero_prepended`, `rsa_signature_leading_zero_stripped`).
    if signature.len() > n.len() {
        return false;
    }
    let mut padded = vec![0u8; n.len() - signature.len()];
    padded.extend_from_slice(signature);
    let e = BoxedUint::from(u64::from(RSA_PUBLIC_EXPONENT));
    let Ok(key) =
        PublicKey::new_with_size_limits(BoxedUint::from_be_slice_vartime(n), e, RSA_MODULUS_BITS)
    else {
        return false;
    };
    let pss = Pss::<Sha256>::new_with_salt(RSA_PSS_SALT_LEN);
    key.verify(pss, &Sha256::digest(message), &padded).is_ok()
}
