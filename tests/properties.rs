//! Properties over arbitrary input: the core never panics, and the canonical form is a
//! fixed point (serializing what it decodes to gives the same bytes again).

use proptest::prelude::*;

use planetmint_stream::validate::json::{Value, canonical, decode};
use planetmint_stream::validate::validate;

/// JSON-ish text: mostly the characters JSON is made of, so the decoder gets deep into its
/// grammar instead of failing at the first byte.
fn jsonish() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just("{".to_owned()),
            Just("}".to_owned()),
            Just("[".to_owned()),
            Just("]".to_owned()),
            Just(",".to_owned()),
            Just(":".to_owned()),
            Just("\"".to_owned()),
            Just("\\u".to_owned()),
            Just("\\".to_owned()),
            Just("NaN".to_owned()),
            Just("-Infinity".to_owned()),
            Just("null".to_owned()),
            "[0-9eE.+-]{1,6}",
            "[a-zA-Z0-9 ]{0,4}",
            "\\PC{0,2}",
        ],
        0..64,
    )
    .prop_map(|parts| parts.concat())
}

/// Arbitrary JSON values, as the decoder would produce them.
fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::Int),
        any::<f64>().prop_map(Value::Float),
        "\\PC{0,8}".prop_map(Value::Str),
        "[\\x00-\\x1f\"\\\\/\u{7f}\u{2028}]{0,4}".prop_map(Value::Str),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            proptest::collection::vec(("\\PC{0,6}", inner), 0..8).prop_map(|pairs| {
                Value::Object(planetmint_stream::validate::json::Object::from_pairs(pairs))
            }),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let verdict = validate(&bytes);
        prop_assert!(verdict.result.is_err() || verdict.transaction_id.is_some());
    }

    #[test]
    fn jsonish_text_never_panics(text in jsonish()) {
        let _ = validate(text.as_bytes());
        if let Ok(value) = decode(text.as_bytes()) {
            let _ = canonical::to_vec(&value);
        }
    }

    #[test]
    fn canonical_form_is_a_fixed_point(value in value()) {
        let first = canonical::to_vec(&value).expect("generated values hold no lone surrogate");
        let decoded = decode(&first).expect("the canonical form is JSON Python decodes");
        let second = canonical::to_vec(&decoded).expect("decoded canonical form is encodable");
        prop_assert_eq!(&first, &second);
    }
}

/// The deepest documents the decoder takes must still be safe for every later step (id,
/// signing form, drop) on a default 2 MiB test thread, in debug builds too.
#[test]
fn deepest_decodable_transactions_are_refused_without_overflow() {
    use planetmint_stream::validate::json::MAX_DEPTH;
    let inner = MAX_DEPTH - 1;
    for (open, close) in [("[", "]"), ("{\"a\":", "}")] {
        let deep = format!("{}1{}", open.repeat(inner), close.repeat(inner));
        let tx = format!(
            r#"{{"id":null,"inputs":[],"outputs":[],"operation":"CREATE","metadata":null,"assets":[],"version":"3.0","extra":{deep}}}"#
        );
        let verdict = validate(tx.as_bytes());
        assert!(
            verdict.transaction_id.is_some(),
            "the id does not cover extra keys"
        );
        assert_eq!(verdict.result.unwrap_err().code(), "too_deep");
    }
}
