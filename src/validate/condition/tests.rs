//! Unit tests of crypto-conditions against Python's verdicts ([`super::vectors`]), the
//! quirks they pin down (base64, DER, recursion limits, libsodium's key check), and
//! proptests that no input panics.

use base64::Engine as _;
use proptest::prelude::*;

use super::der::push_tlv;
use super::ed25519::is_canonical_y;
use super::fulfillment::decode_base64;
use super::vectors::{DETAILS, VECTORS};
use super::*;
use crate::validate::json;

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn python_vectors() {
    for v in VECTORS {
        let parsed = Fulfillment::from_uri(v.uri);
        assert_eq!(parsed.is_ok(), v.parses, "{}: {parsed:?}", v.name);
        let Ok(f) = parsed else { continue };
        let condition = f.condition().ok().map(|c| c.uri());
        assert_eq!(condition.as_deref(), v.condition, "{}", v.name);
        let serialized = f.serialize_uri().ok();
        assert_eq!(serialized.as_deref(), v.serialized, "{}", v.name);
        let expected = verdict(v.valid);
        assert_eq!(f.validate(&unhex(v.message)), expected, "{}", v.name);
        // What `_input_valid` validates: the re-parsed re-serialization.
        if let Some(again) = serialized {
            let reparsed = Fulfillment::from_uri(&again).unwrap();
            assert_eq!(reparsed.validate(&unhex(v.message)), expected, "{}", v.name);
            assert_eq!(reparsed.condition().ok(), f.condition().ok(), "{}", v.name);
        }
    }
}

fn vector(name: &str) -> Fulfillment {
    let v = VECTORS.iter().find(|v| v.name == name).unwrap();
    Fulfillment::from_uri(v.uri).unwrap()
}

#[test]
fn threshold_not_met_shows_in_the_condition() {
    // The 2-of-3 output condition cannot be met by a fulfillment with one signature: the
    // parsed threshold is 1, so its condition is a different (1-of-3) one.
    let two_of_three = vector("threshold_2_of_3").condition().unwrap();
    let one_signature = vector("threshold_1_of_3");
    assert_eq!(
        one_signature.validate(&[2; 32]),
        Verification::Valid,
        "every present subfulfillment is valid"
    );
    assert_ne!(one_signature.condition().unwrap(), two_of_three);
    assert_eq!(
        two_of_three.uri(),
        "ni:///sha-256;6xbVvXwInJtSg9YIxRt_FbDIavXYCXtJ1L7t42-xVus?fpt=threshold-sha-256&cost=265216&subtypes=ed25519-sha-256"
    );
}

#[test]
fn public_keys_come_from_ed25519_leaves_only() {
    let nested = vector("threshold_nested").public_keys();
    // Seeds 0x01 and 0x02 signed; 0x03 is an unfulfilled subcondition.
    let key = |seed: u8| {
        ed25519_dalek::SigningKey::from_bytes(&[seed; 32])
            .verifying_key()
            .to_bytes()
    };
    assert_eq!(nested.len(), 2);
    assert!(nested.contains(&key(1)) && nested.contains(&key(2)));
    assert_eq!(vector("prefix").public_keys(), vec![key(1)]);
    assert!(vector("preimage").public_keys().is_empty());
}

fn prefix_chain(levels: usize) -> String {
    // The DER `tests/vectors.py` built with `tlv()`: preimage b"x" under `levels`
    // prefixes with empty prefix and max_message_length 10.
    let mut der = vec![0xa0, 0x03, 0x80, 0x01, b'x'];
    for _ in 0..levels {
        let mut body = vec![0x80, 0x00, 0x81, 0x01, 0x0a];
        push_tlv(&mut body, 0xa2, &der);
        der.clear();
        push_tlv(&mut der, 0xa1, &body);
    }
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(der)
}

#[test]
fn nesting_limits_follow_python() {
    // From two frames deep, Python parses 163 nested prefixes over a preimage but not
    // 164; it serializes 122 but not 123 (RecursionError).
    assert!(Fulfillment::from_uri(&prefix_chain(163)).is_ok());
    assert_eq!(
        Fulfillment::from_uri(&prefix_chain(164)),
        Err(ConditionError::TooDeep)
    );
    let f = Fulfillment::from_uri(&prefix_chain(122)).unwrap();
    assert!(f.serialize_uri().is_ok());
    let f = Fulfillment::from_uri(&prefix_chain(123)).unwrap();
    assert_eq!(f.serialize_uri(), Err(ConditionError::TooDeep));
    assert_eq!(f.validate(b""), Verification::Valid);
    // Far past any limit: refused without deep recursion.
    assert_eq!(
        Fulfillment::from_uri(&prefix_chain(100_000)),
        Err(ConditionError::TooDeep)
    );
}

#[test]
fn threshold_chain_depth() {
    // Python parses 98 nested 1-of-1 thresholds over an ed25519 leaf, not 99.
    let leaf = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(VECTORS[0].uri)
        .unwrap();
    let chain = |levels: usize| {
        let mut der = leaf.clone();
        for _ in 0..levels {
            let mut body = Vec::new();
            push_tlv(&mut body, 0xa0, &der);
            push_tlv(&mut body, 0xa1, &[]);
            der.clear();
            push_tlv(&mut der, 0xa2, &body);
        }
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(der)
    };
    assert!(Fulfillment::from_uri(&chain(98)).is_ok());
    assert_eq!(
        Fulfillment::from_uri(&chain(99)),
        Err(ConditionError::TooDeep)
    );
}

#[test]
fn malformed_der_is_refused() {
    let cases: &[&[u8]] = &[
        b"",
        &[0xa4],
        &[0xa4, 0x82, 0x01],
        // Eight length bytes of 0xff: far past the end, and past usize on the way.
        &[0xa4, 0x88, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        &[0xbf, 0x80],
        &[0xbf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x04, 0x00],
        &[0xa5, 0x00],
        &[0xa4, 0x00],
        &[0xa0, 0x02, 0xa0, 0x00],
        &[0xa2, 0x04, 0xa0, 0x00, 0x81, 0x00],
    ];
    for der in cases {
        let uri = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(der);
        assert!(
            matches!(Fulfillment::from_uri(&uri), Err(ConditionError::Der(_))),
            "{der:02x?}"
        );
    }
}

#[test]
fn base64_quirks() {
    // `urlsafe_b64decode(base64_add_padding(s))`, checked against Python on 100k random
    // strings; these are the surprising ones.
    let cases: &[(&str, Option<&[u8]>)] = &[
        ("QUJD", Some(b"ABC")),
        ("QUJ", Some(b"AB")),
        ("Q", None),
        ("", Some(b"")),
        ("QQ==QUJD", Some(b"A")),
        ("QU=J", Some(b"AB")),
        ("QU+/", Some(&[0x41, 0x4f, 0xbf])),
        ("QU-_", Some(&[0x41, 0x4f, 0xbf])),
        ("Q\nUJ", Some(b"AB")),
        ("QUé", Some(b"A")),
        ("QUJDQ=", None),
        ("==QUJD", Some(b"ABC")),
        ("A=B=C=D=", Some(&[0x00, 0x10])),
    ];
    for (input, expected) in cases {
        assert_eq!(decode_base64(input).ok().as_deref(), *expected, "{input:?}");
    }
}

#[test]
fn canonical_y_matches_libsodium() {
    let mut y = [0xff; 32];
    y[31] = 0x7f;
    for (low, canonical) in [(0xec, true), (0xed, false), (0xff, false)] {
        y[0] = low;
        assert_eq!(is_canonical_y(&y), canonical, "{low:x}");
        // The sign bit is not part of y.
        let mut signed = y;
        signed[31] |= 0x80;
        assert_eq!(is_canonical_y(&signed), canonical);
    }
    assert!(is_canonical_y(&[0; 32]));
}

#[test]
fn details_vectors() {
    for (name, text, expected) in DETAILS {
        let details = json::decode(text.as_bytes()).unwrap();
        let got = Condition::from_details(&details);
        let got = got
            .as_ref()
            .map(Condition::uri)
            .map_err(ConditionError::code);
        assert_eq!(got.as_deref().map_err(|e| *e), *expected, "{name}");
    }
}

#[test]
fn details_depth_limit() {
    // `_fulfillment_from_details` raises ThresholdTooDeep at depth 100: 99 thresholds
    // above a key build, 100 do not.
    let nest = |levels: usize| {
        let mut text =
            r#"{"type": "ed25519-sha-256", "public_key": "11111111111111111111111111111111"}"#
                .to_string();
        for _ in 0..levels {
            text = format!(
                r#"{{"type": "threshold-sha-256", "threshold": 1, "subconditions": [{text}]}}"#
            );
        }
        json::decode(text.as_bytes()).unwrap()
    };
    assert!(Condition::from_details(&nest(99)).is_ok());
    assert_eq!(
        Condition::from_details(&nest(100)),
        Err(ConditionError::ThresholdTooDeep)
    );
}

#[test]
fn error_codes_are_distinct() {
    let errors = [
        ConditionError::Base64,
        ConditionError::Der(""),
        ConditionError::TooDeep,
        ConditionError::UnsupportedType(String::new()),
        ConditionError::MissingKey(""),
        ConditionError::BadDetails(""),
        ConditionError::BadKey(""),
        ConditionError::BadThreshold,
        ConditionError::ThresholdTooDeep,
        ConditionError::ThresholdOutOfRange,
        ConditionError::CostOutOfRange,
        ConditionError::ThresholdNotMet,
        ConditionError::RsaModulus(""),
        ConditionError::Unserializable(""),
    ];
    let codes: std::collections::HashSet<_> = errors.iter().map(|e| e.code()).collect();
    assert_eq!(codes.len(), errors.len());
}

/// Everything Python would compute on a parsed fulfillment, none of which may panic.
fn exercise(uri: &str) {
    if let Ok(f) = Fulfillment::from_uri(uri) {
        let _ = f.condition().map(|c| c.uri());
        let _ = f.serialize_uri();
        let _ = f.validate(b"message");
        let _ = f.public_keys();
    }
}

proptest! {
    #[test]
    fn from_uri_never_panics_on_strings(uri in "\\PC{0,300}") {
        exercise(&uri);
    }

    #[test]
    fn from_uri_never_panics_on_der(der in proptest::collection::vec(any::<u8>(), 0..300)) {
        exercise(&base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(der));
    }

    #[test]
    fn from_uri_never_panics_on_mutated_vectors(
        index in 0..VECTORS.len(),
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..4),
    ) {
        let mut der = decode_base64(VECTORS[index].uri).unwrap_or_default();
        for (at, byte) in flips {
            if !der.is_empty() {
                let at = at % der.len();
                der[at] = byte;
            }
        }
        exercise(&base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(der));
    }
}
