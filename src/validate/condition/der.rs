//! DER as pyasn1 0.4.8 reads and writes the crypto-conditions schema.
//!
//! In: bytes a fulfillment decodes to, or the parts of a condition or fulfillment to encode.
//! Out: [`Tlv`] elements and [`Fields`] of a SEQUENCE (or a [`ConditionError::Der`]), and
//! encoded bytes and SHA-256 fingerprints. The reader is as lenient as pyasn1's "DER"
//! decoder, which is BER with a few checks: long-form and non-minimal lengths and tags,
//! empty or zero-padded INTEGERs and unsorted SET OFs pass; indefinite lengths and
//! constructed strings do not. The writer is pyasn1's encoder: minimal lengths and
//! integers, SET OF sorted.

use sha2::{Digest, Sha256};

use super::types::{ConditionError, Subtypes};

/// Context-specific class, primitive: implicitly tagged strings and integers.
pub(super) const TAG_PRIMITIVE: u8 = 0x80;
/// Context-specific class, constructed: choices, sequences and set-ofs.
pub(super) const TAG_CONSTRUCTED: u8 = 0xa0;
const CLASS_MASK: u8 = 0xc0;
const CLASS_CONTEXT: u8 = 0x80;
const CONSTRUCTED_BIT: u8 = 0x20;
const LONG_TAG: u8 = 0x1f;

/// One decoded element. `number` is `None` for a tag number too large to be one of ours.
pub(super) struct Tlv<'a> {
    class: u8,
    constructed: bool,
    number: Option<u32>,
    pub(super) content: &'a [u8],
}

/// Reads one element off the front of `input`. Like pyasn1: long-form tag numbers (even
/// with leading zero groups) and long-form lengths (even non-minimal) are fine, the
/// indefinite length is not, and the content must fit the input.
pub(super) fn read_tlv<'a>(input: &mut &'a [u8]) -> Result<Tlv<'a>, ConditionError> {
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
    pub(super) fn context_number(&self) -> Option<u32> {
        (self.class == CLASS_CONTEXT)
            .then_some(self.number)
            .flatten()
    }

    pub(super) fn sequence(&self) -> Result<Fields<'a>, ConditionError> {
        if !self.constructed {
            return Err(ConditionError::Der("primitive sequence"));
        }
        Ok(Fields(self.content))
    }
}

/// The components of a SEQUENCE without optional parts: all present, in order, no more.
pub(super) struct Fields<'a>(&'a [u8]);

impl<'a> Fields<'a> {
    pub(super) fn field(&mut self, number: u32) -> Result<Tlv<'a>, ConditionError> {
        if self.0.is_empty() {
            return Err(ConditionError::Der("missing component"));
        }
        let tlv = read_tlv(&mut self.0)?;
        if tlv.context_number() != Some(number) {
            return Err(ConditionError::Der("unexpected tag"));
        }
        Ok(tlv)
    }

    pub(super) fn finish(self) -> Result<(), ConditionError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ConditionError::Der("excess components"))
        }
    }

    /// An OCTET STRING; pyasn1's DER decoder refuses the constructed form.
    pub(super) fn octets(&mut self, number: u32) -> Result<&'a [u8], ConditionError> {
        let tlv = self.field(number)?;
        if tlv.constructed {
            return Err(ConditionError::Der("constructed string"));
        }
        Ok(tlv.content)
    }

    /// An `INTEGER (0..4294967295)`: any width, empty meaning 0, leading zeros allowed.
    pub(super) fn uint32(&mut self, number: u32) -> Result<u32, ConditionError> {
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
    pub(super) fn set_of(&mut self, number: u32) -> Result<&'a [u8], ConditionError> {
        let tlv = self.field(number)?;
        if !tlv.constructed {
            return Err(ConditionError::Der("primitive set"));
        }
        Ok(tlv.content)
    }

    /// A `ConditionTypes` BIT STRING. Python reads only the first five bits (bits that
    /// exist), ignoring the rest and any set padding bits.
    pub(super) fn subtypes(&mut self, number: u32) -> Result<Subtypes, ConditionError> {
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

/// `bytes` as an exact-size array; pyasn1's size constraints refuse other lengths.
pub(super) fn sized<const N: usize>(bytes: &[u8]) -> Result<[u8; N], ConditionError> {
    bytes
        .try_into()
        .map_err(|_| ConditionError::Der("wrong string size"))
}

// Writing.

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

pub(super) fn push_tlv(out: &mut Vec<u8>, tag: u8, content: &[u8]) {
    out.push(tag);
    push_len(out, content.len());
    out.extend_from_slice(content);
}

/// Minimal two's complement content of a non-negative INTEGER (0 is one zero byte).
pub(super) fn int_content(value: u64) -> Vec<u8> {
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
pub(super) fn sorted_set(mut elements: Vec<Vec<u8>>) -> Vec<u8> {
    elements.sort_unstable();
    elements.concat()
}

/// SHA-256 of a universal SEQUENCE around `contents`.
pub(super) fn sha256_sequence(contents: &[u8]) -> [u8; 32] {
    let mut der = Vec::with_capacity(contents.len() + 6);
    push_tlv(&mut der, 0x30, contents);
    Sha256::digest(&der).into()
}

/// Bytes without their leading zero bytes: the big-endian integer Python sees.
pub(super) fn significant(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}
