//! Structural rules of Planetmint transactions: everything planetmint-transactions 0.8.4's
//! `Transaction.from_dict(tx, False)` checks about a transaction's shape, written as code.
//!
//! In: the `local_dict` that `from_dict` builds from the decoded transaction (the keys
//! `inputs`, `outputs`, `operation`, `metadata`, `asset` when `version == "2.0"` else
//! `assets`, `version`, `id`, and `script` when the transaction has one) and the
//! [`Operation`] its operation resolved to. Out: the [`Version`] whose rules applied, or
//! a [`SchemaError`] from the first stage that fails in Python, carrying the exception class
//! Python raises there ([`SchemaError::python_class`]). Within the schema stage, which rule
//! gets reported is ours: they all raise the same class.
//!
//! Not here: JSON decoding ([`super::json`]), the id comparison (`validate_id`), and
//! crypto-conditions: `Fulfillment.from_uri` of input fulfillments and
//! `_fulfillment_from_details` of output condition details ([`super::condition`]).
//!
//! The stages, in `from_dict`'s order:
//! 1. `resolve_class(operation)` ([`Operation::resolve`], done by the caller; what Python
//!    raises when it fails is [`SchemaError::from`]), then the `tx[...]` look-ups that build
//!    `local_dict` (`constructors`);
//! 2. `validate_schema` (`rules`): the version's common schema (version "3.0" → `v3.0/`,
//!    anything else → `v2.0/`), then the operation's own (VOTE: transfer's, then vote's);
//!    ValidatorElection then decodes the proposed validator key (`constructors`);
//! 3. `Input.from_dict`, `Output.from_dict`, `Script.from_dict` and the constructors
//!    (`constructors`).
//!
//! Whose schema semantics: `_validate_schema` first runs python-rapidjson's `Validator` on
//! `rapidjson.dumps(body)` and consults `jsonschema` only when that fails, to word the error.
//! A rapidjson pass is final and a rapidjson failure always raises, so every rule here follows
//! RapidJSON's C++ validator, not the JSON Schema specification:
//! - `NaN`/`Infinity` anywhere fail: `dumps` writes them, the validator's parser refuses them;
//! - `type: integer` means an integer literal in [-2^63, 2^64): `1.0` and 2^64 are not;
//! - patterns are searched, not matched, and stop at the first NUL (`patterns`);
//! - the unresolvable `$ref: "#/definitions/positiveInteger"` (`power` in the validator
//!   election schemas) accepts anything, and a `$ref` replaces its sibling keywords
//!   (`script.state` is a digest string, whatever its `type: object` says).
//!
//! Hot path: no allocation unless a check fails (paths are rendered only into errors), except
//! for decoding a validator election's proposed key.

mod constructors;
mod patterns;
mod rules;
#[cfg(test)]
mod tests;

use super::encodings;
use super::json::{Object, Value};
use super::model::{Operation, Version};

/// Checks Planetmint's `local_dict` against every structural rule of `from_dict(tx, False)`
/// except the id comparison and crypto-condition parsing. Returns the version whose rules
/// applied.
///
/// Callers build `local` as `from_dict` does: `id` is null when absent (the id comparison
/// then fails), and for version "2.0" the `asset` value falls back to `tx["assets"]`. `op` is
/// what `resolve_class` made of the transaction's operation ([`Operation::resolve`]); one
/// that does not resolve fails before this stage, raising what [`SchemaError::from`] says.
pub fn check(local: &Object, op: Operation) -> Result<Version, SchemaError> {
    let version = constructors::local_dict_keys(local)?;
    rules::validate_schema(local, version, op)?;
    constructors::after_schema(local, version, op)?;
    Ok(version)
}

/// Why a transaction fails a structural rule. Paths are JSON pointers into `local_dict`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    /// `operation` names no registered transaction class (`from_dict`'s `resolve_class`).
    #[error("operation is not a registered transaction type")]
    Operation,
    /// `version` fails the common schema's `^2\.0$` / `^3\.0$` (or is not a string).
    #[error("/version: not a supported transaction version")]
    Version,
    /// A `required` key is absent.
    #[error("{path}: required key missing")]
    Missing { path: String },
    /// A `type` rule (for `anyOf` of types, the first alternative is named).
    #[error("{path}: expected {expected}")]
    Type {
        path: String,
        expected: &'static str,
    },
    /// A `pattern` rule; `pattern` names the schema definition.
    #[error("{path}: does not match {pattern}")]
    Pattern { path: String, pattern: &'static str },
    /// A `minimum`/`maximum` rule.
    #[error("{path}: number out of range")]
    Range { path: String },
    /// A `minItems`/`maxItems` rule.
    #[error("{path}: wrong number of items")]
    Items { path: String },
    /// An `enum` rule.
    #[error("{path}: not one of the allowed values")]
    Enum { path: String },
    /// `additionalProperties: false`; the path names the extra key.
    #[error("{path}: key not allowed")]
    Additional { path: String },
    /// A NaN or infinite number, or an integer beyond a double's range: the schema
    /// validator cannot even parse the document.
    #[error("{path}: NaN, Infinity or a number beyond a double")]
    NonFinite { path: String },
    /// A validator election schema rule failed and Python's fallback validator, wording the
    /// error, then trips over the unresolvable `#/definitions/positiveInteger` of `power`:
    /// the exception is jsonschema's, not `SchemaValidationError`. [`SchemaError::code`] is
    /// the wrapped rule's.
    #[error("{0} (and the election schema's `power` $ref is unresolvable)")]
    Unresolvable(Box<SchemaError>),
    /// The proposed validator key does not decode to 32 bytes (`validate_asset_public_key`).
    #[error("{path}: not a 32-byte key in its declared encoding")]
    PublicKey { path: String },
    /// `Output.from_dict`/`Output.__init__`: `amount` is not an integer in 1..=9*10^18.
    #[error("{path}: amount not an integer in 1..=9000000000000000000")]
    Amount { path: String },
    /// A check Python makes outside the schema, in `from_dict` or a constructor.
    #[error("{path}: {rule}")]
    Constructor {
        path: String,
        raised: Raised,
        rule: &'static str,
    },
}

/// The Python exception class a [`SchemaError::Constructor`] rule raises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Raised {
    TypeError,
    KeyError,
}

impl SchemaError {
    /// A stable snake_case name of the failed rule.
    pub fn code(&self) -> &'static str {
        match self {
            SchemaError::Operation => "operation",
            SchemaError::Version => "version",
            SchemaError::Missing { .. } => "missing",
            SchemaError::Type { .. } => "type",
            SchemaError::Pattern { .. } => "pattern",
            SchemaError::Range { .. } => "range",
            SchemaError::Items { .. } => "items",
            SchemaError::Enum { .. } => "enum",
            SchemaError::Additional { .. } => "additional_property",
            SchemaError::NonFinite { .. } => "non_finite",
            SchemaError::Unresolvable(inner) => inner.code(),
            SchemaError::PublicKey { .. } => "public_key",
            SchemaError::Amount { .. } => "amount",
            SchemaError::Constructor { .. } => "constructor",
        }
    }

    /// The class of the exception planetmint-transactions 0.8.4 raises for this failure.
    pub fn python_class(&self) -> &'static str {
        match self {
            SchemaError::Unresolvable(_) => "_WrappedReferencingError",
            SchemaError::PublicKey { .. } => "InvalidPublicKey",
            SchemaError::Amount { .. } => "AmountError",
            SchemaError::Constructor { raised, .. } => match raised {
                Raised::TypeError => "TypeError",
                Raised::KeyError => "KeyError",
            },
            _ => "SchemaValidationError",
        }
    }
}

/// The asset entries of `local_dict`: the items of the v3.0 `assets` list (none when it is
/// not a list), or the single v2.0 `asset`.
fn asset_entries(version: Version, assets: &Value) -> &[Value] {
    match version {
        Version::V3 => assets.as_array().unwrap_or_default(),
        Version::V2 => std::slice::from_ref(assets),
    }
}

/// `o[key]`. Faster than [`Object::get`] for the handful of keys a transaction object has:
/// its binary search compares whole strings on every probe, where this scan compares lengths
/// first and bytes only on a length match.
fn field<'o>(o: &'o Object, key: &str) -> Option<&'o Value> {
    o.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
}

/// `value[key]` when `value` is an object holding `key`.
fn member<'v>(value: &'v Value, key: &str) -> Option<&'v Value> {
    value.as_object().and_then(|o| field(o, key))
}

/// Where in `local_dict` a rule is looking: a stack-allocated chain of steps, rendered into a
/// JSON pointer only when an error is built.
#[derive(Clone, Copy)]
struct At<'a> {
    up: Option<&'a At<'a>>,
    step: Step<'a>,
}

#[derive(Clone, Copy)]
enum Step<'a> {
    Root,
    Key(&'a str),
    Index(usize),
}

impl<'a> At<'a> {
    const ROOT: At<'static> = At {
        up: None,
        step: Step::Root,
    };

    fn key(&'a self, key: &'a str) -> At<'a> {
        At {
            up: Some(self),
            step: Step::Key(key),
        }
    }

    fn index(&'a self, index: usize) -> At<'a> {
        At {
            up: Some(self),
            step: Step::Index(index),
        }
    }

    /// RFC 6901 JSON pointer (`""` for the root).
    fn pointer(&self) -> String {
        let mut steps = Vec::new();
        let mut at = Some(self);
        while let Some(a) = at {
            steps.push(a.step);
            at = a.up;
        }
        let mut out = String::new();
        for step in steps.iter().rev() {
            match step {
                Step::Root => {}
                Step::Key(key) => {
                    out.push('/');
                    out.push_str(&key.replace('~', "~0").replace('/', "~1"));
                }
                Step::Index(i) => {
                    out.push('/');
                    out.push_str(&i.to_string());
                }
            }
        }
        out
    }
}

impl SchemaError {
    fn constructor(at: &At, raised: Raised, rule: &'static str) -> SchemaError {
        SchemaError::Constructor {
            path: at.pointer(),
            raised,
            rule,
        }
    }
}
