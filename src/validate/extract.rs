//! What the stream tells a client about a transaction besides its verdict: the [`Tags`] a
//! subscriber's filter matches, and the body a client may ask for.
//!
//! In: the decoded body, however far validation gets with it. Out: [`Tags`] and the body as
//! JSON text. Both are read best-effort from whatever the body holds, because refused
//! transactions are filtered too: a field of the wrong shape contributes nothing.

use super::json::{Object, Value, canonical};
use crate::chain::OutputLink;
use crate::wire::index::Tags;

/// The keys a filter matches that can be read before the id is known: the operation, every
/// output's `public_keys` and every input's `owners_before`.
pub fn tags(body: &Object) -> Tags {
    Tags {
        transaction_id: None,
        operation: body
            .get("operation")
            .and_then(Value::as_str)
            .map(str::to_owned),
        asset_ids: Vec::new(),
        public_keys: keys(body.get("outputs"), "public_keys"),
        owners_before: keys(body.get("inputs"), "owners_before"),
    }
}

/// The strings of `items[*][field][*]`.
fn keys(items: Option<&Value>, field: &str) -> Vec<String> {
    items
        .and_then(Value::as_array)
        .unwrap_or_default()
        .iter()
        .filter_map(|item| item.get(field)?.as_array())
        .flatten()
        .filter_map(|key| key.as_str().map(str::to_owned))
        .collect()
}

/// The outputs the body's inputs spend (`inputs[*].fulfills`), those that are well formed:
/// what a transaction the node accepted took out of its state, valid to us or not.
pub fn spends(body: &Object) -> Vec<OutputLink> {
    body.get("inputs")
        .and_then(Value::as_array)
        .unwrap_or_default()
        .iter()
        .filter_map(|input| {
            let link = input.get("fulfills")?;
            Some(OutputLink {
                transaction_id: link.get("transaction_id")?.as_str()?.to_owned(),
                output_index: match link.get("output_index")? {
                    &Value::Int(n) => u64::try_from(n).ok()?,
                    Value::BigInt(text) => text.parse().ok()?,
                    _ => return None,
                },
            })
        })
        .collect()
}

/// How many outputs the body lists: the outputs a refused transaction would taint.
pub fn output_count(body: &Object) -> usize {
    body.get("outputs")
        .and_then(Value::as_array)
        .map_or(0, <[Value]>::len)
}

/// The body as a client receives it: the object Python's `json.loads` built (the last of a
/// repeated key wins), written compact with sorted keys, as Planetmint serializes it. JSON
/// cannot carry the `NaN`, `Infinity` and `-Infinity` Python accepts, so those become
/// `null`, as JavaScript's `JSON.stringify` writes them; a client that must recompute the
/// id of such a body needs the raw transaction from the node.
pub fn body_json(body: &Object) -> String {
    let mut out = Vec::with_capacity(1024);
    if body.iter().any(|(_, v)| has_non_finite(v)) {
        let mut copy = Value::Object(body.clone());
        null_non_finite(&mut copy);
        canonical::write(&copy, &mut out);
    } else {
        canonical::write_object(body, &mut out);
    }
    // Valid UTF-8 by construction: the writer copies strings that were decoded as UTF-8.
    String::from_utf8(out).expect("the canonical writer writes UTF-8")
}

fn has_non_finite(value: &Value) -> bool {
    match value {
        Value::Float(f) => !f.is_finite(),
        Value::Array(items) => items.iter().any(has_non_finite),
        Value::Object(object) => object.iter().any(|(_, v)| has_non_finite(v)),
        _ => false,
    }
}

fn null_non_finite(value: &mut Value) {
    match value {
        Value::Float(f) if !f.is_finite() => *value = Value::Null,
        Value::Array(items) => items.iter_mut().for_each(null_non_finite),
        Value::Object(object) => object.values_mut().for_each(null_non_finite),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::json::decode_object as object;

    #[test]
    fn tags_read_every_key_and_skip_what_has_the_wrong_shape() {
        let body = object(
            r#"{"operation":"TRANSFER",
                "inputs":[{"owners_before":["a","b"]},{"owners_before":"c"},7],
                "outputs":[{"public_keys":["d"]},{"public_keys":[1,"e"]},{}]}"#,
        );
        let tags = tags(&body);
        assert_eq!(tags.operation.as_deref(), Some("TRANSFER"));
        assert_eq!(tags.owners_before, ["a", "b"]);
        assert_eq!(tags.public_keys, ["d", "e"]);
        assert_eq!(output_count(&body), 3);
        let spending = object(
            r#"{"inputs":[{"fulfills":{"transaction_id":"t","output_index":18446744073709551615}},
                {"fulfills":null},{"fulfills":{"transaction_id":"u","output_index":-1}},
                {"fulfills":{"transaction_id":"v","output_index":2}}]}"#,
        );
        let link = |id: &str, output_index| OutputLink {
            transaction_id: id.into(),
            output_index,
        };
        assert_eq!(spends(&spending), [link("t", u64::MAX), link("v", 2)]);
        let odd = object(r#"{"operation":["CREATE"],"outputs":{"public_keys":["x"]}}"#);
        assert_eq!(super::tags(&odd), Tags::default());
        assert_eq!(output_count(&odd), 0);
    }

    #[test]
    fn bodies_are_json_with_the_last_repeated_key_and_no_specials() {
        let body = object(r#"{"b":[NaN,1e16,{"x":-Infinity}],"a":1,"a":"two","c":"é\u2028"}"#);
        let json = body_json(&body);
        assert_eq!(
            json,
            "{\"a\":\"two\",\"b\":[null,1e+16,{\"x\":null}],\"c\":\"é\u{2028}\"}"
        );
        let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(parsed["b"][1], 1e16);
        assert_eq!(body_json(&object(r#"{"n":2.5}"#)), r#"{"n":2.5}"#);
    }
}
