//! Python's `base64.b16decode`, `b32decode` and `b64decode` with default arguments: the
//! same inputs succeed, with the same bytes. A leaf: bytes in, `Some(decoded)` or `None`
//! (Python's `binascii.Error`) out.
//!
//! Two callers: the schema checks apply all three to the UTF-8 bytes of a proposed
//! validator key (`validate_asset_public_key`, types/elections/validator_utils.py), and the
//! crypto-conditions decode a fulfillment string with `b64decode` once they have mapped the
//! URL-safe alphabet and padded it as Python does. Python 3.11's rules: base16 and base32
//! are strict (upper case, exact padding); base64 is `binascii.a2b_base64(s,
//! strict_mode=False)`, which skips foreign characters and stops at a completed padding.

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

/// Characters per base32 quantum, and the bytes it decodes to.
const B32_QUANTUM_CHARS: usize = 8;
const B32_QUANTUM_BYTES: usize = 5;

/// Characters per base64 quantum.
const B64_QUANTUM_CHARS: usize = 4;

/// Decodes the base64 characters `a2b_base64` kept: standard alphabet, no padding left, and
/// the unused bits of a final partial quantum ignored, as CPython does.
const B64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::RequireNone)
        .with_decode_allow_trailing_bits(true),
);

/// `base64.b16decode(s)`: `[0-9A-F]` only (no `casefold`), even length.
pub fn b16decode(s: &[u8]) -> Option<Vec<u8>> {
    fn digit(b: u8) -> Option<u8> {
        match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'A'..=b'F' => Some(b - b'A' + 10),
            _ => None,
        }
    }
    if !s.len().is_multiple_of(2) {
        return None;
    }
    s.chunks_exact(2)
        .map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?))
        .collect()
}

/// `base64.b32decode(s)` (CPython 3.11 `_b32decode`): length a multiple of 8, trailing `=`
/// counts of 0, 1, 3, 4 or 6, everything before them in `A-Z2-7`; the unused low bits of
/// the last quantum are not checked.
pub fn b32decode(s: &[u8]) -> Option<Vec<u8>> {
    fn digit(b: u8) -> Option<u64> {
        match b {
            b'A'..=b'Z' => Some(u64::from(b - b'A')),
            b'2'..=b'7' => Some(u64::from(b - b'2') + 26),
            _ => None,
        }
    }
    if !s.len().is_multiple_of(B32_QUANTUM_CHARS) {
        return None;
    }
    let data_len = s.iter().rposition(|&b| b != b'=').map_or(0, |i| i + 1);
    let (data, padding) = (&s[..data_len], s.len() - data_len);
    // Bytes the last quantum keeps for each legal padding length (CPython's `leftover`).
    let last_quantum_bytes = match padding {
        0 => B32_QUANTUM_BYTES,
        1 => 4,
        3 => 3,
        4 => 2,
        6 => 1,
        _ => return None,
    };
    let mut out = Vec::with_capacity(data.len().div_ceil(B32_QUANTUM_CHARS) * B32_QUANTUM_BYTES);
    for quantum in data.chunks(B32_QUANTUM_CHARS) {
        let mut acc = 0u64;
        for &b in quantum {
            acc = acc << 5 | digit(b)?;
        }
        // Only the last quantum can be short: left-align its bits as if padded with zeros.
        acc <<= 5 * (B32_QUANTUM_CHARS - quantum.len());
        out.extend_from_slice(&acc.to_be_bytes()[8 - B32_QUANTUM_BYTES..]);
    }
    if !out.is_empty() {
        out.truncate(out.len() - B32_QUANTUM_BYTES + last_quantum_bytes);
    }
    Some(out)
}

/// `base64.b64decode(s)` (`binascii.a2b_base64` in non-strict mode, CPython 3.11): characters
/// outside the standard alphabet are skipped; an `=` counts only after two or three data
/// characters of a quantum, and once it completes that quantum decoding stops, ignoring the
/// rest; otherwise the data characters must end on a quantum boundary.
pub fn b64decode(s: &[u8]) -> Option<Vec<u8>> {
    let mut data = Vec::with_capacity(s.len());
    let mut pads = 0;
    let mut completed = false;
    for &b in s {
        if b == b'=' {
            let quad_pos = data.len() % B64_QUANTUM_CHARS;
            if quad_pos >= 2 {
                pads += 1;
                if quad_pos + pads >= B64_QUANTUM_CHARS {
                    completed = true;
                    break;
                }
            }
        } else if b.is_ascii_alphanumeric() || b == b'+' || b == b'/' {
            data.push(b);
            pads = 0;
        }
    }
    if !completed && !data.len().is_multiple_of(B64_QUANTUM_CHARS) {
        return None;
    }
    B64.decode(&data).ok()
}
