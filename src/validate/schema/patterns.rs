//! Hand-written matchers for the `pattern` keywords of the transaction schemas, with the
//! semantics of the regex engine inside python-rapidjson 1.25's `Validator` (RapidJSON's
//! `internal::GenericRegex`), which is the one that decides (see the module header of
//! `schema`):
//!
//! - a pattern is *searched*, not matched: without `^`/`$` a string passes when any substring
//!   matches (`[0-9a-f]{64}` accepts `"xx" + 64 hex digits + "yy"`);
//! - the engine reads its subject as a NUL-terminated C string, so nothing from the first
//!   U+0000 on is seen (`"3.0\u0000junk"` matches `^3\.0$`);
//! - it works on code points, but every class here is ASCII, so a byte-wise scan of the UTF-8
//!   text finds the same runs (no byte of a multi-byte sequence is ASCII).
//!
//! Each matcher names the schema definition it replaces.

/// Length of a SHA3-256 hex digest, the `{64}` of `definitions/sha3_hexdigest`.
const SHA3_HEX_LEN: usize = 64;

/// Shortest run accepted by `definitions/base58` (`{43,44}`; a longer run contains a run of
/// 43, so unanchored the upper bound never matters).
const BASE58_MIN_RUN: usize = 43;

/// Longest `amount` (`^[0-9]{1,20}$` in `definitions/output`).
const AMOUNT_MAX_DIGITS: usize = 20;

/// Longest fingerprint in a condition URI (`([a-zA-Z0-9_-]{0,86})`).
const URI_FINGERPRINT_MAX: usize = 86;

/// Repetitions of the query parameter group in a condition URI (`(...){2,3}`).
const URI_MIN_PARAMS: usize = 2;
const URI_MAX_PARAMS: usize = 3;

/// The part of `s` the regex engine sees: everything before the first NUL.
fn subject(s: &str) -> &[u8] {
    let bytes = s.as_bytes();
    match bytes.iter().position(|&b| b == 0) {
        Some(nul) => &bytes[..nul],
        None => bytes,
    }
}

/// Whether `bytes` holds `min` consecutive bytes of `class`: an unanchored `class{min,}`.
fn has_run(bytes: &[u8], min: usize, class: impl Fn(u8) -> bool) -> bool {
    let mut run = 0;
    for &b in bytes {
        if class(b) {
            run += 1;
            if run == min {
                return true;
            }
        } else {
            run = 0;
        }
    }
    false
}

/// `definitions/sha3_hexdigest`: `[0-9a-f]{64}`, unanchored (ids, asset ids, spent tx ids).
pub fn sha3_hexdigest(s: &str) -> bool {
    has_run(
        subject(s),
        SHA3_HEX_LEN,
        |b| matches!(b, b'0'..=b'9' | b'a'..=b'f'),
    )
}

/// `definitions/base58`: `[1-9a-zA-Z^OIl]{43,44}`, unanchored. Inside the class `^` is a
/// literal and `O`, `I`, `l` are already in the ranges, so the class is 1-9, letters and `^`:
/// the schema meant to exclude the characters base58 lacks but lists them instead.
pub fn base58(s: &str) -> bool {
    has_run(
        subject(s),
        BASE58_MIN_RUN,
        |b| matches!(b, b'1'..=b'9' | b'a'..=b'z' | b'A'..=b'Z' | b'^'),
    )
}

/// `definitions/output/properties/amount`: `^[0-9]{1,20}$`.
pub fn amount(s: &str) -> bool {
    let t = subject(s);
    (1..=AMOUNT_MAX_DIGITS).contains(&t.len()) && t.iter().all(u8::is_ascii_digit)
}

/// `definitions/input/properties/fulfillment` (string branch): `^[a-zA-Z0-9_-]*$`.
pub fn fulfillment(s: &str) -> bool {
    subject(s).iter().all(|&b| is_base64url(b))
}

/// An anchored literal pattern: `^3\.0$`, `^2\.0$` (`version`), `^(ed25519|zenroom)-sha-256$`
/// and `^threshold-sha-256$` (`definitions/condition_details`). `literals` are the
/// alternatives.
pub fn literal(s: &str, literals: &[&str]) -> bool {
    let t = subject(s);
    literals.iter().any(|l| l.as_bytes() == t)
}

fn is_base64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// Which crypto-condition types a condition URI may name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UriTypes {
    /// `definitions/output` of the common schemas: `fpt=(ed25519|threshold|zenroom)-sha-256`,
    /// `subtypes=(ed25519|zenroom)-sha-256`.
    Any,
    /// `definitions/output` of the election and vote schemas: ed25519 only.
    Ed25519,
}

/// `definitions/output/.../uri`:
/// `^ni:///sha-256;([a-zA-Z0-9_-]{0,86})[?](fpt=T-sha-256(&)?|cost=[0-9]+(&)?|subtypes=S-sha-256(&)?){2,3}$`.
///
/// Parsed deterministically, which is exact for this language: the fingerprint class lacks
/// `?`; every parameter starts with its own literal (`fpt=`, `cost=`, `subtypes=`), so `cost`
/// digits can only end where a non-digit starts, and an `&` can only be the optional one
/// (no parameter starts with `&`). Any order, repeats and a trailing `&` are allowed.
pub fn condition_uri(s: &str, types: UriTypes) -> bool {
    let Some(rest) = subject(s).strip_prefix(b"ni:///sha-256;") else {
        return false;
    };
    let fingerprint = rest.iter().take_while(|&&b| is_base64url(b)).count();
    if fingerprint > URI_FINGERPRINT_MAX || rest.get(fingerprint) != Some(&b'?') {
        return false;
    }
    let (fpt, subtypes): (&[&[u8]], &[&[u8]]) = match types {
        UriTypes::Any => (
            &[b"ed25519", b"threshold", b"zenroom"],
            &[b"ed25519", b"zenroom"],
        ),
        UriTypes::Ed25519 => (&[b"ed25519"], &[b"ed25519"]),
    };
    let mut query = &rest[fingerprint + 1..];
    let mut params = 0;
    while !query.is_empty() {
        let after = if let Some(r) = query.strip_prefix(b"fpt=") {
            type_name(r, fpt)
        } else if let Some(r) = query.strip_prefix(b"subtypes=") {
            type_name(r, subtypes)
        } else if let Some(r) = query.strip_prefix(b"cost=") {
            let digits = r.iter().take_while(|b| b.is_ascii_digit()).count();
            (digits > 0).then(|| &r[digits..])
        } else {
            None
        };
        let Some(after) = after else {
            return false;
        };
        query = after.strip_prefix(b"&").unwrap_or(after);
        params += 1;
        if params > URI_MAX_PARAMS {
            return false;
        }
    }
    params >= URI_MIN_PARAMS
}

/// `(name1|name2|...)-sha-256` at the start of `s`: the rest after it.
fn type_name<'a>(s: &'a [u8], names: &[&[u8]]) -> Option<&'a [u8]> {
    names
        .iter()
        .find_map(|n| s.strip_prefix(*n))
        .and_then(|r| r.strip_prefix(b"-sha-256"))
}
