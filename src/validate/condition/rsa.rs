//! rsa-sha-256: its cost, and its RSA-PSS signature checked as `cryptography` 41 (OpenSSL
//! 3.1) checks it for `RsaSha256.validate`.
//!
//! In: the modulus and signature bytes of a fulfillment, and the message. Out: the
//! condition's cost (or [`ConditionError::RsaModulus`] where `cryptography` refuses the
//! key), and whether the signature verifies.

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

/// SHA-256's digest length, PSS's `hLen`.
const SHA256_LEN: usize = 32;
/// `RsaSha256`'s PSS salt length.
const RSA_PSS_SALT_LEN: usize = 32;
/// OpenSSL's `OPENSSL_RSA_MAX_MODULUS_BITS`: larger moduli fail every operation.
const RSA_MAX_MODULUS_BITS: usize = 16_384;

/// `RSAPublicNumbers(65537, n).public_key().verify(signature, message, PSS(MGF1(SHA256),
/// salt_length=32), SHA256())`, true where it returns and false where it raises. The
/// modulus has already passed [`rsa_cost`]'s checks (n > 65537).
pub(super) fn verify_rsa_pss(modulus: &[u8], signature: &[u8], message: &[u8]) -> bool {
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
