//! Python-compatible JSON decoding into [`Value`].
//!
//! Owns the one question "what does Planetmint's `json.loads(raw.decode("utf8"))` make of these
//! bytes?". In: raw transaction bytes. Out: a [`Value`] tree or a [`DecodeError`]. Everything
//! downstream (canonical form, ids, schema, signatures) works on this tree, so it must hold
//! exactly what Python holds, no more:
//!
//! - repeated keys keep the *last* value (Python dict assignment);
//! - `NaN`, `Infinity` and `-Infinity` are accepted (Python's default `allow_nan`);
//! - integers are exact at any size (`-0` is `0`); a fraction or exponent makes a float,
//!   parsed with correct rounding and overflowing to infinity like Python's `float()`;
//! - raw control characters inside strings are refused (Python's `strict=True`);
//! - a `\u` escape of a lone surrogate decodes (Python's `str` can hold one) into
//!   [`Value::Unencodable`]: Planetmint fails the moment it serializes such a string, so the
//!   string's content can never matter, only where it sits.
//!
//! Nesting is bounded by [`MAX_DEPTH`] so hostile input can never overflow the stack; the
//! depth reached is reported so the transaction rules can apply Planetmint's own, lower,
//! limit.

use super::value::{Object, Value};

/// Deepest nesting of arrays and objects we decode.
///
/// Python's `json.loads` fails with `RecursionError` a little below its recursion limit of
/// 1000 (how far below depends on the caller's stack). Decoding as deep as Python does keeps
/// the ids of refused transactions equal to Planetmint's; the tests check that this depth
/// stays far inside a 2 MiB thread stack for our decoder, serializer and `Drop`.
pub const MAX_DEPTH: usize = 960;

/// Largest integer literal Python's `int()` converts (CPython 3.11's
/// `sys.get_int_max_str_digits()` default); longer ones raise `ValueError` in `json.loads`.
const MAX_INT_DIGITS: usize = 4300;

/// A decoded document and what the transaction rules need to know about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub value: Value,
    /// Deepest nesting of arrays and objects (a scalar is 0, `[]` is 1).
    pub depth: usize,
    /// Whether any [`Value::Unencodable`] occurs.
    pub unencodable: bool,
}

/// Why bytes are not a JSON document Python would decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("not UTF-8 (byte {0})")]
    Utf8(usize),
    #[error("{what} at byte {at}")]
    Syntax { what: &'static str, at: usize },
    #[error("nested deeper than {MAX_DEPTH} levels")]
    TooDeep,
    #[error("integer longer than {MAX_INT_DIGITS} digits")]
    IntTooLong,
}

/// Decodes raw transaction bytes as Planetmint does: UTF-8, then `json.loads`.
pub fn decode(raw: &[u8]) -> Result<Value, DecodeError> {
    decode_document(raw).map(|doc| doc.value)
}

/// [`decode`], also reporting the depth reached and whether a lone surrogate occurred.
pub fn decode_document(raw: &[u8]) -> Result<Document, DecodeError> {
    let text = std::str::from_utf8(raw).map_err(|e| DecodeError::Utf8(e.valid_up_to()))?;
    let mut parser = Parser {
        bytes: text.as_bytes(),
        pos: 0,
        depth: 0,
        max_depth: 0,
        unencodable: false,
    };
    parser.skip_ws();
    let value = parser.value()?;
    parser.skip_ws();
    if parser.pos != parser.bytes.len() {
        return Err(parser.err("extra data"));
    }
    Ok(Document {
        value,
        depth: parser.max_depth,
        unencodable: parser.unencodable,
    })
}

/// Where an object keeps a pair whose key holds a lone surrogate.
const UNENCODABLE_KEY: &str = "\u{0}unencodable key";

/// Marks a string that holds a lone surrogate.
struct Unencodable;

struct Parser<'a> {
    bytes: &'a [u8],
    pos: usize,
    depth: usize,
    max_depth: usize,
    unencodable: bool,
}

impl Parser<'_> {
    fn err(&self, what: &'static str) -> DecodeError {
        DecodeError::Syntax { what, at: self.pos }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn eat_literal(&mut self, literal: &[u8]) -> bool {
        if self.bytes[self.pos..].starts_with(literal) {
            self.pos += literal.len();
            true
        } else {
            false
        }
    }

    fn value(&mut self) -> Result<Value, DecodeError> {
        match self.peek() {
            Some(b'{') => self.nested(Self::object),
            Some(b'[') => self.nested(Self::array),
            Some(b'"') => self.string_value(),
            Some(b'n') if self.eat_literal(b"null") => Ok(Value::Null),
            Some(b't') if self.eat_literal(b"true") => Ok(Value::Bool(true)),
            Some(b'f') if self.eat_literal(b"false") => Ok(Value::Bool(false)),
            Some(b'N') if self.eat_literal(b"NaN") => Ok(Value::Float(f64::NAN)),
            Some(b'I') if self.eat_literal(b"Infinity") => Ok(Value::Float(f64::INFINITY)),
            Some(b'-') if self.eat_literal(b"-Infinity") => Ok(Value::Float(f64::NEG_INFINITY)),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err(self.err("expecting value")),
        }
    }

    fn nested(
        &mut self,
        inner: fn(&mut Self) -> Result<Value, DecodeError>,
    ) -> Result<Value, DecodeError> {
        if self.depth == MAX_DEPTH {
            return Err(DecodeError::TooDeep);
        }
        self.depth += 1;
        self.max_depth = self.max_depth.max(self.depth);
        let value = inner(self);
        self.depth -= 1;
        value
    }

    fn object(&mut self) -> Result<Value, DecodeError> {
        self.pos += 1; // '{'
        let mut pairs = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Value::Object(Object::default()));
        }
        loop {
            if self.peek() != Some(b'"') {
                return Err(self.err("expecting property name in double quotes"));
            }
            // A key with a lone surrogate makes its object as unencodable as a value with one
            // would; its value no longer matters, so the pair is kept as an unencodable
            // value under a name that cannot be typed in JSON without an escape.
            let key = self.string()?;
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(self.err("expecting ':' delimiter"));
            }
            self.pos += 1;
            self.skip_ws();
            let value = self.value()?;
            pairs.push(match key {
                Ok(key) => (key, value),
                Err(Unencodable) => {
                    self.unencodable = true;
                    (UNENCODABLE_KEY.to_owned(), Value::Unencodable)
                }
            });
            self.skip_ws();
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    self.skip_ws();
                }
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Value::Object(Object::from_pairs(pairs)));
                }
                _ => return Err(self.err("expecting ',' delimiter")),
            }
        }
    }

    fn array(&mut self) -> Result<Value, DecodeError> {
        self.pos += 1; // '['
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Value::Array(items));
        }
        loop {
            items.push(self.value()?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    self.skip_ws();
                }
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Value::Array(items));
                }
                _ => return Err(self.err("expecting ',' delimiter")),
            }
        }
    }

    fn string_value(&mut self) -> Result<Value, DecodeError> {
        Ok(match self.string()? {
            Ok(text) => Value::Str(text),
            Err(Unencodable) => {
                self.unencodable = true;
                Value::Unencodable
            }
        })
    }

    /// A string; its inner `Err` means it holds a lone surrogate.
    fn string(&mut self) -> Result<Result<String, Unencodable>, DecodeError> {
        self.pos += 1; // opening quote
        let mut out = String::new();
        let mut lone = false;
        loop {
            let start = self.pos;
            // Copy the longest run that needs no decoding; the input is valid UTF-8 and the
            // stop bytes are ASCII, so the run is valid UTF-8 too.
            while let Some(&b) = self.bytes.get(self.pos) {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            out.push_str(
                std::str::from_utf8(&self.bytes[start..self.pos]).expect("checked UTF-8 input"),
            );
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(if lone { Err(Unencodable) } else { Ok(out) });
                }
                Some(b'\\') => {
                    self.pos += 1;
                    lone |= self.escape(&mut out)?;
                }
                Some(_) => return Err(self.err("invalid control character")),
                None => return Err(self.err("unterminated string")),
            }
        }
    }

    /// Decodes one escape into `out`; true when it was a lone surrogate (then nothing is
    /// pushed).
    fn escape(&mut self, out: &mut String) -> Result<bool, DecodeError> {
        let c = match self.peek() {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => {
                self.pos += 1;
                let first = self.hex4()?;
                let code = match first {
                    0xD800..=0xDBFF => {
                        // Python pairs a high surrogate only with an immediately following
                        // `\u` low surrogate; anything else leaves it lone.
                        if self.bytes[self.pos..].starts_with(b"\\u") {
                            let save = self.pos;
                            self.pos += 2;
                            let second = self.hex4()?;
                            if (0xDC00..=0xDFFF).contains(&second) {
                                0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
                            } else {
                                self.pos = save;
                                return Ok(true);
                            }
                        } else {
                            return Ok(true);
                        }
                    }
                    0xDC00..=0xDFFF => return Ok(true),
                    _ => first,
                };
                out.push(char::from_u32(code).expect("surrogates handled above"));
                return Ok(false);
            }
            _ => return Err(self.err("invalid \\escape")),
        };
        self.pos += 1;
        out.push(c);
        Ok(false)
    }

    fn hex4(&mut self) -> Result<u32, DecodeError> {
        let digits = self
            .bytes
            .get(self.pos..self.pos + 4)
            .ok_or_else(|| self.err("invalid \\uXXXX escape"))?;
        let mut code = 0u32;
        for &d in digits {
            let v = (d as char)
                .to_digit(16)
                .ok_or_else(|| self.err("invalid \\uXXXX escape"))?;
            code = code * 16 + v;
        }
        self.pos += 4;
        Ok(code)
    }

    /// Python's `NUMBER_RE`: `-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?`.
    fn number(&mut self) -> Result<Value, DecodeError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => self.skip_digits(),
            _ => {
                return Err(DecodeError::Syntax {
                    what: "expecting value",
                    at: start,
                });
            }
        }
        let int_end = self.pos;
        let mut is_float = false;
        // A '.' or 'e' not followed by digits is not part of the number: Python's regex
        // backtracks and the leftover bytes then fail as "extra data" or a missing delimiter.
        if self.peek() == Some(b'.') && self.digit_at(self.pos + 1) {
            self.pos += 1;
            self.skip_digits();
            is_float = true;
        }
        if let Some(b'e' | b'E') = self.peek() {
            let mut p = self.pos + 1;
            if let Some(b'+' | b'-') = self.bytes.get(p) {
                p += 1;
            }
            if self.digit_at(p) {
                self.pos = p;
                self.skip_digits();
                is_float = true;
            }
        }
        let text = std::str::from_utf8(&self.bytes[start..self.pos]).expect("ASCII digits");
        if is_float {
            // Rust's parser rounds correctly and overflows to infinity, like Python's float().
            return Ok(Value::Float(text.parse().expect("matched float grammar")));
        }
        let digits = int_end - start - usize::from(text.starts_with('-'));
        if digits > MAX_INT_DIGITS {
            return Err(DecodeError::IntTooLong);
        }
        Ok(match text.parse::<i64>() {
            Ok(n) => Value::Int(n),
            Err(_) => Value::BigInt(text.into()),
        })
    }

    fn digit_at(&self, p: usize) -> bool {
        matches!(self.bytes.get(p), Some(b'0'..=b'9'))
    }

    fn skip_digits(&mut self) {
        while self.digit_at(self.pos) {
            self.pos += 1;
        }
    }
}

/// The object `text` decodes to: what tests of the JSON model start from.
#[cfg(test)]
pub fn decode_object(text: &str) -> Object {
    match decode(text.as_bytes()).unwrap() {
        Value::Object(object) => object,
        other => panic!("not an object: {other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_key_keeps_last_value() {
        let o = decode_object(r#"{"b":1,"a":2,"b":3}"#);
        assert_eq!(o.get("b"), Some(&Value::Int(3)));
        assert_eq!(o.len(), 2);
    }

    #[test]
    fn numbers_follow_python() {
        assert_eq!(decode(b"-0").unwrap(), Value::Int(0));
        assert_eq!(decode(b"1E5").unwrap(), Value::Float(100000.0));
        assert_eq!(decode(b"1e400").unwrap(), Value::Float(f64::INFINITY));
        assert_eq!(
            decode(b"-123456789012345678901234567890").unwrap(),
            Value::BigInt("-123456789012345678901234567890".into())
        );
        for bad in ["01", "1.", ".5", "+1", "-", "1e", "0x10", "1 2"] {
            assert!(decode(bad.as_bytes()).is_err(), "{bad} must be refused");
        }
        let long = "9".repeat(MAX_INT_DIGITS + 1);
        assert_eq!(decode(long.as_bytes()), Err(DecodeError::IntTooLong));
    }

    #[test]
    fn strings_follow_python() {
        assert_eq!(
            decode(br#""\ud83d\ude00\u00e9\/""#).unwrap(),
            Value::Str("\u{1F600}\u{e9}/".into())
        );
        assert_eq!(decode(br#""\ud800""#).unwrap(), Value::Unencodable);
        let doc = decode_document(br#"{"a":["\ud800\u0041"],"\udc00":1}"#).unwrap();
        assert!(doc.unencodable);
        assert!(doc.value.contains_unencodable());
        assert_eq!(doc.depth, 2);
        assert!(decode(b"\"a\tb\"").is_err(), "raw control characters");
        assert!(decode(br#""\x""#).is_err());
        assert!(matches!(decode(b"\"\xff\""), Err(DecodeError::Utf8(1))));
    }

    #[test]
    fn nesting_is_bounded() {
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(decode(ok.as_bytes()).is_ok());
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert_eq!(decode(deep.as_bytes()), Err(DecodeError::TooDeep));
        let hostile = "[".repeat(1_000_000);
        assert_eq!(decode(hostile.as_bytes()), Err(DecodeError::TooDeep));
    }

    #[test]
    fn special_floats_and_whitespace() {
        assert!(matches!(decode(b" \t\r\nNaN\n"), Ok(Value::Float(f)) if f.is_nan()));
        assert_eq!(
            decode(b"[-Infinity]").unwrap(),
            Value::Array(vec![Value::Float(f64::NEG_INFINITY)])
        );
        assert!(decode("\u{feff}{}".as_bytes()).is_err(), "BOM is refused");
        assert!(decode(b"").is_err());
    }
}
