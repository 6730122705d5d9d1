//! A subscriber's query string, and the filter it sets on a stream.
//!
//! In: the stream a client asks for and the raw query of its request (from the server).
//! Out: a [`Subscription`] (where to resume, the [`Filter`], whether bodies are sent) or a
//! [`QueryError`] with its HTTP status. Per block, [`Filter::select`] picks the positions of
//! the transactions a subscriber gets, through the block's [`BlockIndex`], so a filter costs
//! one look-up per value it names, not a pass over the block.
//!
//! Values are checked by Planetmint 2.5.3's own validators for the same parameters of its
//! REST API (`planetmint/web/views/parameters.py`), so a value Planetmint takes is taken here
//! and means the same; see [`normalize`]. Imports only [`crate::chain`] and [`crate::wire`].

use std::collections::BTreeSet;

use crate::chain::Height;
use crate::wire::StreamKind;
use crate::wire::index::{BlockIndex, Field};

#[cfg(test)]
mod tests;

/// Filter values a query may name by default, over all its parameters: enough to follow a
/// wallet's keys, small enough that a subscriber's look-ups per block stay cheap.
pub const DEFAULT_MAX_FILTER_VALUES: usize = 1_000;

/// Longest raw query taken, in bytes; longer is a 414 before anything is parsed. 1,000
/// 44-character keys sent the longest way, a repeated `owner_before=<key>&`, take 58,000
/// bytes; the rest leaves room for `from_height` and `transaction(s)`. It stays below the
/// 65,534-byte cap hyper sets on a request's whole URI (answered with its own 414).
pub const MAX_QUERY_BYTES: usize = 60_000;

/// Hex digits of an id: a SHA3-256 digest, the `{64}` of Planetmint's `valid_txid`.
const ID_HEX_DIGITS: usize = 64;

/// Characters of a public key, the `{43,44}` of Planetmint's `valid_ed25519`: base58 of 32
/// bytes.
const KEY_CHARS: std::ops::RangeInclusive<usize> = 43..=44;

/// Longest part of a client's value or parameter name an error repeats: errors are logged and
/// sent back, and a query may be tens of kilobytes.
const MAX_SHOWN_CHARS: usize = 80;

/// Every operation the filter can name: Planetmint's `valid_operation` takes only CREATE
/// and TRANSFER (its REST API lists nothing else), but blocks carry all of these.
const OPERATIONS: [&str; 7] = [
    "CREATE",
    "TRANSFER",
    "COMPOSE",
    "DECOMPOSE",
    "VALIDATOR_ELECTION",
    "CHAIN_MIGRATION_ELECTION",
    "VOTE",
];

/// Limits a query is held to; the server builds it from its settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryLimits {
    /// Distinct filter values over all parameters.
    pub max_values: usize,
}

impl Default for QueryLimits {
    fn default() -> Self {
        QueryLimits {
            max_values: DEFAULT_MAX_FILTER_VALUES,
        }
    }
}

/// What a subscriber asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// `from_height`: the first height to send; the next live block when None.
    pub from: Option<Height>,
    pub filter: Filter,
    /// `transaction=full` (valid_transactions) or `transactions=full` (valid_blocks): send
    /// the transactions' bodies, not only their ids.
    pub bodies: bool,
}

/// Why a query is refused; [`QueryError::status`] is the answer's HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error("query is {bytes} bytes (at most {MAX_QUERY_BYTES})")]
    TooLong { bytes: usize },
    #[error("unknown parameter {name:?}")]
    UnknownParameter { name: String },
    /// `transaction` on valid_blocks, `transactions` on valid_transactions, either on
    /// refused_transactions.
    #[error("parameter {name:?} is not taken on {}", stream.as_str())]
    NotOnStream {
        name: &'static str,
        stream: StreamKind,
    },
    #[error("{name} may be given only once")]
    Repeated { name: &'static str },
    #[error("from_height must be a positive integer")]
    FromHeight,
    #[error("{name} must be \"id\" or \"full\", not {value:?}")]
    Bodies { name: &'static str, value: String },
    #[error("{} has an empty value", field.name())]
    EmptyValue { field: Field },
    #[error("{} {value:?} is not {}", field.name(), expected(*field))]
    InvalidValue { field: Field, value: String },
    #[error("too many filter values: {count} (at most {max})")]
    TooManyValues { count: usize, max: usize },
}

impl QueryError {
    /// The HTTP status the request is refused with.
    pub fn status(&self) -> u16 {
        match self {
            QueryError::TooLong { .. } => 414,
            _ => 400,
        }
    }
}

/// What an invalid value of `field` should have been, for [`QueryError::InvalidValue`].
fn expected(field: Field) -> &'static str {
    match field {
        Field::PublicKey | Field::OwnerBefore => "a base58 ed25519 public key",
        Field::AssetId | Field::TransactionId => "a 64-digit hex id",
        Field::Operation => "a Planetmint operation",
    }
}

/// A client's text as an error repeats it: at most [`MAX_SHOWN_CHARS`] characters.
fn shown(text: &str) -> String {
    match text.char_indices().nth(MAX_SHOWN_CHARS) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_owned(),
    }
}

/// Which transactions of a block a subscriber gets: for each field it names, a transaction
/// must hold one of that field's values (OR within a field, AND across fields).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// The fields narrowed, in [`Field::ALL`] order, each with its distinct values, sorted.
    fields: Vec<(Field, Vec<String>)>,
}

impl Filter {
    /// True when no parameter narrowed it: every transaction passes.
    pub fn is_everything(&self) -> bool {
        self.fields.is_empty()
    }

    /// Distinct values over all fields.
    pub fn values(&self) -> usize {
        self.fields.iter().map(|(_, values)| values.len()).sum()
    }

    /// Positions (ascending, no repeats) of the block's transactions that match.
    ///
    /// Meaningless for a filter that [`is_everything`](Self::is_everything): the index does
    /// not know the block's length, so callers send such a subscriber everything without
    /// asking.
    pub fn select(&self, index: &BlockIndex) -> Vec<u32> {
        debug_assert!(
            !self.is_everything(),
            "select on a filter that takes everything"
        );
        let lists: Vec<Vec<&[u32]>> = self
            .fields
            .iter()
            .map(|(field, values)| values.iter().map(|v| index.positions(*field, v)).collect())
            .collect();
        // The field matching fewest transactions drives: its union is the only one built;
        // every other field is asked, by binary search, about those positions alone. So
        // `public_key=K&operation=TRANSFER` costs K's few positions, not every transfer.
        let total = |lists: &Vec<&[u32]>| lists.iter().map(|l| l.len()).sum::<usize>();
        let driver = (0..lists.len())
            .min_by_key(|&i| total(&lists[i]))
            .expect("a filter that is not everything names a field");
        let mut selected = union(lists[driver].iter().copied());
        for (i, field_lists) in lists.iter().enumerate() {
            if i != driver {
                selected.retain(|p| field_lists.iter().any(|l| l.binary_search(p).is_ok()));
            }
        }
        selected
    }
}

/// The positions in any of `lists`, each ascending: one copy for a single list; for more, a
/// stable sort, which finds the ascending runs and merges them.
fn union<'a>(lists: impl Iterator<Item = &'a [u32]>) -> Vec<u32> {
    let mut all: Vec<u32> = lists.flatten().copied().collect();
    all.sort();
    all.dedup();
    all
}

/// A query parameter, as [`parse`] tells them apart.
enum Param {
    FromHeight,
    /// `transaction` or `transactions`, on the stream that takes it.
    Bodies(&'static str),
    Field(Field),
}

/// The name of the parameter that asks `stream` for bodies, if it takes one.
fn bodies_param(stream: StreamKind) -> Option<&'static str> {
    match stream {
        StreamKind::Transactions => Some("transaction"),
        StreamKind::Blocks => Some("transactions"),
        StreamKind::Refused => None,
    }
}

fn param(stream: StreamKind, name: &str) -> Result<Param, QueryError> {
    if name == "from_height" {
        return Ok(Param::FromHeight);
    }
    if let Some(field) = Field::ALL.into_iter().find(|field| field.name() == name) {
        return Ok(Param::Field(field));
    }
    if let Some(own) = bodies_param(stream).filter(|own| *own == name) {
        return Ok(Param::Bodies(own));
    }
    let streams = [StreamKind::Transactions, StreamKind::Blocks];
    match streams
        .into_iter()
        .filter_map(bodies_param)
        .find(|n| *n == name)
    {
        Some(name) => Err(QueryError::NotOnStream { name, stream }),
        None => Err(QueryError::UnknownParameter { name: shown(name) }),
    }
}

/// Sets `slot` to `value`, refusing a parameter given twice.
fn once<T>(slot: &mut Option<T>, name: &'static str, value: T) -> Result<(), QueryError> {
    match slot.replace(value) {
        Some(_) => Err(QueryError::Repeated { name }),
        None => Ok(()),
    }
}

/// Parses the raw query (`None` or empty: everything, live, ids only) of a request for
/// `stream`. A value list is a comma list, a repeated key, or both.
pub fn parse(
    stream: StreamKind,
    query: Option<&str>,
    limits: &QueryLimits,
) -> Result<Subscription, QueryError> {
    let query = query.unwrap_or_default();
    if query.len() > MAX_QUERY_BYTES {
        return Err(QueryError::TooLong { bytes: query.len() });
    }
    let mut from = None;
    let mut bodies = None;
    let mut wanted: [BTreeSet<String>; Field::ALL.len()] = Default::default();
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        match param(stream, &name)? {
            Param::FromHeight => {
                let height = value.parse().ok().and_then(Height::new);
                once(
                    &mut from,
                    "from_height",
                    height.ok_or(QueryError::FromHeight)?,
                )?;
            }
            Param::Bodies(name) => once(&mut bodies, name, wants_bodies(name, &value)?)?,
            Param::Field(field) => {
                let set = &mut wanted[field.slot()];
                for item in value.split(',') {
                    set.insert(normalize(field, item)?);
                }
            }
        }
    }
    let filter = Filter {
        fields: Field::ALL
            .into_iter()
            .zip(wanted)
            .filter(|(_, values)| !values.is_empty())
            .map(|(field, values)| (field, values.into_iter().collect()))
            .collect(),
    };
    if filter.values() > limits.max_values {
        return Err(QueryError::TooManyValues {
            count: filter.values(),
            max: limits.max_values,
        });
    }
    Ok(Subscription {
        from,
        filter,
        bodies: bodies.unwrap_or(false),
    })
}

/// `full` asks for bodies; `id`, the default, for ids only.
fn wants_bodies(name: &'static str, value: &str) -> Result<bool, QueryError> {
    match value {
        "full" => Ok(true),
        "id" => Ok(false),
        _ => Err(QueryError::Bodies {
            name,
            value: shown(value),
        }),
    }
}

/// One value of `field`, checked and spelled as the index holds it, by the validator
/// Planetmint 2.5.3 uses for the same REST parameter (web/views/parameters.py):
///
/// - ids, `valid_txid`: `re.match("^[a-fA-F0-9]{64}$", v)`, returns `v.lower()`;
/// - keys, `valid_ed25519`: `re.match("^[1-9a-zA-Z]{43,44}$", v)` and not
///   `re.match(".*[Il0O]", v)`, returns `v` as given (a character check, nothing decoded);
/// - operations, `valid_operation`: `v.upper()` (Unicode: `tranſfer` is TRANSFER, as in
///   Rust's `to_uppercase`) must be a name; Planetmint's are CREATE and TRANSFER, ours all of
///   [`OPERATIONS`].
///
/// Python's `$` also matches before a final newline, so Planetmint takes an id or key with
/// one trailing `\n`; so does this, but keeps the value without it (Planetmint keeps the
/// `\n` and then finds nothing), so the filter means what the client evidently meant.
fn normalize(field: Field, value: &str) -> Result<String, QueryError> {
    if value.is_empty() {
        return Err(QueryError::EmptyValue { field });
    }
    let line = value.strip_suffix('\n').unwrap_or(value);
    let normalized = match field {
        Field::AssetId | Field::TransactionId => {
            let hex = line.len() == ID_HEX_DIGITS && line.bytes().all(|b| b.is_ascii_hexdigit());
            hex.then(|| line.to_ascii_lowercase())
        }
        Field::PublicKey | Field::OwnerBefore => {
            let base58 =
                |b: u8| b.is_ascii_alphanumeric() && !matches!(b, b'0' | b'I' | b'l' | b'O');
            let key = KEY_CHARS.contains(&line.len()) && line.bytes().all(base58);
            key.then(|| line.to_owned())
        }
        Field::Operation => {
            let upper = value.to_uppercase();
            OPERATIONS.contains(&upper.as_str()).then_some(upper)
        }
    };
    normalized.ok_or_else(|| QueryError::InvalidValue {
        field,
        value: shown(value),
    })
}
