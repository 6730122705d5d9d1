//! Parsing an input's fulfillment string as `Fulfillment.from_uri` does, and writing it
//! back as `serialize_uri` does.
//!
//! In: the `"fulfillment"` string. Out: a [`Fulfillment`] holding exactly what Python's
//! objects hold, its re-serialization, or the [`ConditionError`] Python raises. The string
//! is base64 as `urlsafe_b64decode(base64_add_padding(s))` reads it; the DER inside is read
//! by [`super::der`] and its nesting bounded by [`Frames`].

use base64::Engine as _;

use super::der::{
    TAG_CONSTRUCTED, TAG_PRIMITIVE, Tlv, int_content, push_tlv, read_tlv, sized, sorted_set,
};
use super::frames::Frames;
use super::types::{Condition, ConditionError, ConditionType, Fulfillment, Subtypes};
use crate::validate::encodings;

impl Fulfillment {
    /// Parses an input's fulfillment string as `Fulfillment.from_uri` does.
    pub fn from_uri(uri: &str) -> Result<Fulfillment, ConditionError> {
        let der = decode_base64(uri)?;
        let mut rest = der.as_slice();
        // pyasn1 hands back the bytes after the first element and `from_binary` drops them.
        let tlv = read_tlv(&mut rest)?;
        Fulfillment::from_tlv(&tlv, Frames::NONE)
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
}

/// `urlsafe_b64decode(base64_add_padding(s))`: `-`/`_` mapped onto `+`/`/` (which stay
/// valid too), the 1 to 4 `=` that `base64_add_padding` always appends, then CPython's
/// lenient `a2b_base64`.
pub(super) fn decode_base64(s: &str) -> Result<Vec<u8>, ConditionError> {
    let padding = 4 - s.len() % 4;
    let standard: Vec<u8> = s
        .bytes()
        .map(|b| match b {
            b'-' => b'+',
            b'_' => b'/',
            _ => b,
        })
        .chain(std::iter::repeat_n(b'=', padding))
        .collect();
    encodings::b64decode(&standard).ok_or(ConditionError::Base64)
}
