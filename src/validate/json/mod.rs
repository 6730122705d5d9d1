//! JSON as Planetmint's Python sees it: decoded like `json.loads`, serialized like
//! python-rapidjson's canonical `dumps`.
//!
//! In: raw transaction bytes. Out: a [`Value`] tree (or a [`DecodeError`]), and for any tree
//! its canonical bytes, which ids and signed messages hash. Inside: `value` is the model,
//! `decode` builds it from bytes and [`canonical`] writes it back; both read the model only,
//! never each other.

pub mod canonical;
mod decode;
mod value;

#[cfg(test)]
pub use decode::decode_object;
pub use decode::{DecodeError, Document, MAX_DEPTH, decode, decode_document};
pub use value::{Object, Value};
