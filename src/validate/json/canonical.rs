//! Planetmint's canonical serialization, byte for byte.
//!
//! Planetmint hashes `rapidjson.dumps(value, skipkeys=False, ensure_ascii=False,
//! sort_keys=True)` of the value Python's `json.loads` produced. In: a [`Value`]. Out: those
//! exact bytes. Any difference, one escape or one float digit, is a different transaction id
//! and a lost event for a client, so every rule below is python-rapidjson's, not JSON's:
//!
//! - compact, keys in code point order at every level (the order [`Object`] keeps);
//! - strings raw UTF-8 except `"` `\` and the C0 controls: the short escapes `\b \t \n \f \r`
//!   and `\u00XX` with UPPER-case hex for the rest (`/`, DEL and U+2028 stay raw);
//! - integers exact; floats as Python's `repr` (`1e+16`, `1000000000000000.0`, `1e-05`),
//!   `NaN`, `Infinity`, `-Infinity` for the specials.
//!
//! Also here: `Display` for [`Value`], which shows the canonical form (error messages name
//! offending values that way).
//!
//! [`Object`]: super::value::Object

use std::fmt;
use std::io::Write;

use super::value::{Object, Value};

/// A value holding a lone surrogate, which python-rapidjson cannot encode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a string holds a lone surrogate")]
pub struct Unencodable;

/// The canonical bytes of `value`, or [`Unencodable`] where Python's serializer raises.
pub fn to_vec(value: &Value) -> Result<Vec<u8>, Unencodable> {
    if value.contains_unencodable() {
        return Err(Unencodable);
    }
    let mut out = Vec::with_capacity(256);
    write(value, &mut out);
    Ok(out)
}

/// Appends the canonical bytes of `value` to `out`. The caller has made sure `value` holds
/// no [`Value::Unencodable`] (see [`to_vec`]); one would be written as `null`.
pub fn write(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Int(n) => {
            write!(out, "{n}").expect("writing to a Vec cannot fail");
        }
        Value::BigInt(text) => out.extend_from_slice(text.as_bytes()),
        Value::Float(f) => write_float(*f, out),
        Value::Str(s) => write_str(s, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write(item, out);
            }
            out.push(b']');
        }
        Value::Object(object) => write_object(object, out),
        // Callers check `contains_unencodable` first; this placeholder is never hashed.
        Value::Unencodable => out.extend_from_slice(b"null"),
    }
}

impl fmt::Display for Value {
    /// The canonical form, for messages (a lone surrogate shows as `null`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut bytes = Vec::new();
        write(self, &mut bytes);
        f.write_str(&String::from_utf8_lossy(&bytes))
    }
}

/// Appends the canonical bytes of an object.
pub fn write_object(object: &Object, out: &mut Vec<u8>) {
    write_object_with(object, "", &Value::Null, out, &mut |_, _, _| false);
}

/// Appends the canonical bytes of `object` as if `object[key] = replacement` had been done
/// first (inserting `key` in order when absent), without copying the object. `nested` may
/// write an entry's value itself (returning true) to rewrite deeper levels the same way.
/// An empty `key` replaces nothing.
pub fn write_object_with(
    object: &Object,
    key: &str,
    replacement: &Value,
    out: &mut Vec<u8>,
    nested: &mut dyn FnMut(&str, &Value, &mut Vec<u8>) -> bool,
) {
    out.push(b'{');
    let mut first = true;
    let mut separator = |out: &mut Vec<u8>| {
        if !std::mem::take(&mut first) {
            out.push(b',');
        }
    };
    let mut pending = !key.is_empty();
    for (name, value) in object.iter() {
        if pending && name >= key {
            pending = false;
            separator(out);
            write_str(key, out);
            out.push(b':');
            write(replacement, out);
            if name == key {
                continue;
            }
        }
        separator(out);
        write_str(name, out);
        out.push(b':');
        if !nested(name, value, out) {
            write(value, out);
        }
    }
    if pending {
        separator(out);
        write_str(key, out);
        out.push(b':');
        write(replacement, out);
    }
    out.push(b'}');
}

/// A JSON string with python-rapidjson's escapes (`ensure_ascii=False`).
pub fn write_str(s: &str, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut run = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let short = match b {
            b'"' => b'"',
            b'\\' => b'\\',
            0x08 => b'b',
            0x09 => b't',
            0x0A => b'n',
            0x0C => b'f',
            0x0D => b'r',
            0x00..=0x1F => 0,
            _ => continue,
        };
        out.extend_from_slice(&bytes[run..i]);
        run = i + 1;
        if short == 0 {
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(b >> 4)]);
            out.push(HEX[usize::from(b & 0xF)]);
        } else {
            out.push(b'\\');
            out.push(short);
        }
    }
    out.extend_from_slice(&bytes[run..]);
    out.push(b'"');
}

/// Python's `repr(float)`: the shortest digits that round-trip, in fixed notation when the
/// decimal exponent is in `-4..16` (with `.0` for whole numbers), else `d.ddde+XX`.
fn write_float(f: f64, out: &mut Vec<u8>) {
    if f.is_nan() {
        out.extend_from_slice(b"NaN");
        return;
    }
    if f.is_infinite() {
        out.extend_from_slice(if f > 0.0 { b"Infinity" } else { b"-Infinity" });
        return;
    }
    // Rust's `{:e}` gives the same shortest round-trip digits as Python's repr; only the
    // layout differs.
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci
        .split_once('e')
        .expect("LowerExp always has an exponent");
    let exp: i32 = exp.parse().expect("LowerExp exponent is an integer");
    let (negative, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mantissa),
    };
    let digits: Vec<u8> = mantissa.bytes().filter(|&b| b != b'.').collect();
    if negative {
        out.push(b'-');
    }
    if !(-4..16).contains(&exp) {
        out.push(digits[0]);
        if digits.len() > 1 {
            out.push(b'.');
            out.extend_from_slice(&digits[1..]);
        }
        write!(out, "e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs())
            .expect("writing to a Vec cannot fail");
    } else if exp >= 0 {
        let int_len = exp as usize + 1;
        if digits.len() <= int_len {
            out.extend_from_slice(&digits);
            out.extend(std::iter::repeat_n(b'0', int_len - digits.len()));
            out.extend_from_slice(b".0");
        } else {
            out.extend_from_slice(&digits[..int_len]);
            out.push(b'.');
            out.extend_from_slice(&digits[int_len..]);
        }
    } else {
        out.extend_from_slice(b"0.");
        out.extend(std::iter::repeat_n(b'0', (-exp - 1) as usize));
        out.extend_from_slice(&digits);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn replacing_a_key_equals_setting_it() {
        for text in [
            r#"{"a":1,"id":"x","z":2}"#,
            r#"{"a":1,"z":2}"#,
            r#"{}"#,
            r#"{"zz":[]}"#,
        ] {
            let Value::Object(object) = decode(text.as_bytes()).unwrap() else {
                unreachable!()
            };
            let mut expected = object.clone();
            expected.insert("id", Value::Null);
            let mut out = Vec::new();
            write_object_with(&object, "id", &Value::Null, &mut out, &mut |_, _, _| false);
            assert_eq!(out, to_vec(&Value::Object(expected)).unwrap(), "{text}");
        }
    }

    use super::*;
    use crate::validate::json::decode;

    fn canon(text: &str) -> String {
        String::from_utf8(to_vec(&decode(text.as_bytes()).unwrap()).unwrap()).unwrap()
    }

    #[test]
    fn floats_match_python_repr() {
        for (input, expected) in [
            ("1e16", "1e+16"),
            ("1e15", "1000000000000000.0"),
            ("1e-5", "1e-05"),
            ("1e-4", "0.0001"),
            ("1.0e2", "100.0"),
            ("-0.0", "-0.0"),
            ("0.1", "0.1"),
            ("1.5e300", "1.5e+300"),
            ("5e-324", "5e-324"),
            ("1e400", "Infinity"),
            ("-1e400", "-Infinity"),
            ("123.456", "123.456"),
            ("9999999999999998.0", "9999999999999998.0"),
        ] {
            assert_eq!(canon(input), expected, "{input}");
        }
    }

    #[test]
    fn strings_and_keys() {
        assert_eq!(
            canon(r#"{"b":"\u001f\u007f\u2028/\b\t\n\f\r\"\\","a":[1,-0,null,true]}"#),
            "{\"a\":[1,0,null,true],\"b\":\"\\u001F\u{7f}\u{2028}/\\b\\t\\n\\f\\r\\\"\\\\\"}"
        );
        assert_eq!(canon(r#"{"é":1,"z":2,"Z":3}"#), r#"{"Z":3,"z":2,"é":1}"#);
    }
}
