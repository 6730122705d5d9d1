//! The JSON Schema stage: `validate_transaction_schema` of `transactions/common/schema`, the
//! YAML files of `v2.0/` and `v3.0/` rewritten as functions with RapidJSON's semantics (see
//! the parent module). Each function names the YAML definition it implements; the rules the
//! two versions share are written once.
//!
//! Reading aid for the YAML: `required` and `additionalProperties` bind only objects and
//! `minItems` only arrays, so a definition without `type` (most asset definitions) lets a
//! value of another type through; the common schema usually narrows it to null or object.

use super::patterns::{self, UriTypes};
use super::{At, Operation, SchemaError, Version, asset_entries, field, member};
use crate::validate::json::{Object, Value};

type Rule = Result<(), SchemaError>;

/// `validate_transaction_schema(local_dict)`: the common schema of the version, then the
/// operation's schema.
pub(super) fn validate_schema(tx: &Object, version: Version, op: Operation) -> Rule {
    let at = At::ROOT;
    for (key, value) in tx.iter() {
        finite(value, &at.key(key))?;
    }
    common(tx, version, &at)?;
    operation(tx, version, op, &at)
}

/// python-rapidjson's `dumps` writes NaN and ±Infinity as `NaN`/`Infinity`, and the
/// `Validator` parsing that text refuses them before any rule runs, wherever they are. It
/// reads an integer beyond 64 bits as a double, so one beyond a double's range (`10**400`)
/// fails the same way.
fn finite(value: &Value, at: &At) -> Rule {
    let too_big = |text: &str| text.parse::<f64>().map_or(true, f64::is_infinite);
    match value {
        Value::Float(f) if !f.is_finite() => Err(SchemaError::NonFinite { path: at.pointer() }),
        Value::BigInt(text) if too_big(text) => Err(SchemaError::NonFinite { path: at.pointer() }),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, item)| finite(item, &at.index(i))),
        Value::Object(o) => o.iter().try_for_each(|(k, v)| finite(v, &at.key(k))),
        _ => Ok(()),
    }
}

// ---------------------------------------------------------------------------------------
// Keyword helpers

fn type_error(at: &At, expected: &'static str) -> SchemaError {
    SchemaError::Type {
        path: at.pointer(),
        expected,
    }
}

/// `type: object`.
fn object<'v>(value: &'v Value, at: &At) -> Result<&'v Object, SchemaError> {
    value.as_object().ok_or_else(|| type_error(at, "object"))
}

/// `type: array`.
fn array<'v>(value: &'v Value, at: &At) -> Result<&'v [Value], SchemaError> {
    value.as_array().ok_or_else(|| type_error(at, "array"))
}

/// `type: string`.
fn string<'v>(value: &'v Value, at: &At) -> Result<&'v str, SchemaError> {
    value.as_str().ok_or_else(|| type_error(at, "string"))
}

/// `type: string` with a `pattern` (named after its definition for the error).
fn pattern(value: &Value, at: &At, name: &'static str, matches: impl Fn(&str) -> bool) -> Rule {
    if matches(string(value, at)?) {
        Ok(())
    } else {
        Err(SchemaError::Pattern {
            path: at.pointer(),
            pattern: name,
        })
    }
}

/// `type: integer` with `minimum` and an optional `maximum`. RapidJSON's integers are the
/// literals that fit an int64 or a uint64; anything else, `1.0` included, is a double.
fn integer(value: &Value, at: &At, minimum: i128, maximum: Option<i128>) -> Rule {
    let n = match value {
        Value::Int(n) => i128::from(*n),
        Value::BigInt(text) => text
            .parse::<u64>()
            .map(i128::from)
            .map_err(|_| type_error(at, "integer"))?,
        _ => return Err(type_error(at, "integer")),
    };
    if n < minimum || maximum.is_some_and(|max| n > max) {
        return Err(SchemaError::Range { path: at.pointer() });
    }
    Ok(())
}

/// A closed object (`additionalProperties: false`) in one pass over its entries: every key
/// must be in `required` or `optional`, `rule` checks each present value by its key (the
/// `properties`; it only ever sees those keys), and every `required` key must appear.
fn closed(
    o: &Object,
    at: &At,
    required: &[&str],
    optional: &[&str],
    rule: impl Fn(&str, &Value, &At) -> Rule,
) -> Rule {
    let mut found = 0;
    for (key, value) in o.iter() {
        if required.contains(&key) {
            found += 1;
        } else if !optional.contains(&key) {
            return Err(SchemaError::Additional {
                path: at.key(key).pointer(),
            });
        }
        rule(key, value, &at.key(key))?;
    }
    if found < required.len() {
        return required_keys(o, required, at);
    }
    Ok(())
}

/// `required` alone.
fn required_keys(o: &Object, required: &[&str], at: &At) -> Rule {
    match required.iter().find(|k| field(o, k).is_none()) {
        Some(missing) => Err(SchemaError::Missing {
            path: at.key(missing).pointer(),
        }),
        None => Ok(()),
    }
}

/// `minItems` and an optional `maxItems`.
fn items_count(items: &[Value], at: &At, min: usize, max: Option<usize>) -> Rule {
    if items.len() < min || max.is_some_and(|max| items.len() > max) {
        return Err(SchemaError::Items { path: at.pointer() });
    }
    Ok(())
}

/// `items: rule`.
fn each(items: &[Value], at: &At, rule: impl Fn(&Value, &At) -> Rule) -> Rule {
    items
        .iter()
        .enumerate()
        .try_for_each(|(i, item)| rule(item, &at.index(i)))
}

/// Runs `rule` on `o[key]` when present (`properties` of an open object).
fn property(o: &Object, key: &str, at: &At, rule: impl Fn(&Value, &At) -> Rule) -> Rule {
    match field(o, key) {
        Some(value) => rule(value, &at.key(key)),
        None => Ok(()),
    }
}

/// `anyOf: [rule, {type: 'null'}]`.
fn or_null(value: &Value, at: &At, rule: impl Fn(&Value, &At) -> Rule) -> Rule {
    match value {
        Value::Null => Ok(()),
        _ => rule(value, at),
    }
}

/// `anyOf: [{type: string}, {type: 'null'}]` (`definitions/metadata`, asset `data`).
fn string_or_null(value: &Value, at: &At) -> Rule {
    or_null(value, at, |v, at| string(v, at).map(drop))
}

/// `anyOf: [{type: object}, {type: array}]` (script `outputs`/`output`).
fn object_or_array(value: &Value, at: &At) -> Rule {
    match value {
        Value::Object(_) | Value::Array(_) => Ok(()),
        _ => Err(type_error(at, "object or array")),
    }
}

// ---------------------------------------------------------------------------------------
// transaction.yaml (v2.0 and v3.0): the common schema

/// `definitions/operation` of v3.0; v2.0's enum is the same without the last two.
const OPERATIONS: [&str; 7] = [
    "CREATE",
    "TRANSFER",
    "VALIDATOR_ELECTION",
    "CHAIN_MIGRATION_ELECTION",
    "VOTE",
    "COMPOSE",
    "DECOMPOSE",
];
/// The length of v2.0's enum, a prefix of `OPERATIONS`.
const OPERATIONS_V2: usize = 5;

/// `transaction.yaml`, the common schema of either version.
fn common(tx: &Object, version: Version, at: &At) -> Rule {
    let (operations, pattern) = match version {
        Version::V2 => (&OPERATIONS[..OPERATIONS_V2], "2.0"),
        Version::V3 => (&OPERATIONS[..], "3.0"),
    };
    // properties/version: type string, pattern "^2\.0$" / "^3\.0$". Checked first so that an
    // unknown version reports itself rather than the asset key it brings along.
    match field(tx, "version").and_then(Value::as_str) {
        Some(s) if patterns::literal(s, &[pattern]) => {}
        _ => return Err(SchemaError::Version),
    }
    let tag = version.asset_tag();
    let required = [
        "id",
        "inputs",
        "outputs",
        "operation",
        "metadata",
        tag,
        "version",
    ];
    closed(tx, at, &required, &["script"], |key, v, at| match key {
        // anyOf [sha3_hexdigest, null]
        "id" => or_null(v, at, sha3_hexdigest),
        // definitions/operation: type string, enum
        "operation" => enumerated(v, at, operations),
        // v3.0: anyOf [array of definitions/asset, null]
        "assets" => or_null(v, at, |v, at| each(array(v, at)?, at, asset)),
        // v2.0: definitions/asset
        "asset" => asset(v, at),
        "inputs" => each(array(v, at)?, at, input),
        "outputs" => each(array(v, at)?, at, output),
        // definitions/metadata
        "metadata" => string_or_null(v, at),
        "script" => match version {
            Version::V2 => script_v2(v, at),
            Version::V3 => script_v3(v, at),
        },
        // `version`, checked above.
        _ => Ok(()),
    })
}

/// `type: string` with an `enum`.
fn enumerated(value: &Value, at: &At, allowed: &[&str]) -> Rule {
    if allowed.contains(&string(value, at)?) {
        Ok(())
    } else {
        Err(SchemaError::Enum { path: at.pointer() })
    }
}

/// `definitions/sha3_hexdigest`.
fn sha3_hexdigest(value: &Value, at: &At) -> Rule {
    pattern(value, at, "sha3_hexdigest", patterns::sha3_hexdigest)
}

/// `definitions/base58`.
fn base58(value: &Value, at: &At) -> Rule {
    pattern(value, at, "base58", patterns::base58)
}

/// `definitions/asset`: anyOf [null, object].
fn asset(value: &Value, at: &At) -> Rule {
    or_null(value, at, |v, at| object(v, at).map(drop))
}

/// `definitions/public_keys`: anyOf [array of definitions/base58, null].
fn public_keys(value: &Value, at: &At) -> Rule {
    or_null(value, at, |v, at| each(array(v, at)?, at, base58))
}

/// `definitions/input`.
fn input(value: &Value, at: &At) -> Rule {
    let required = ["owners_before", "fulfillment"];
    closed(
        object(value, at)?,
        at,
        &required,
        &["fulfills"],
        |key, v, at| match key {
            "owners_before" => public_keys(v, at),
            // anyOf [string with pattern, definitions/condition_details]: a string can only be
            // the first, anything else only the second.
            "fulfillment" => match v {
                Value::Str(_) => pattern(v, at, "fulfillment", patterns::fulfillment),
                _ => condition_details(v, at),
            },
            // anyOf [object {output_index: offset, transaction_id: sha3_hexdigest}, null]
            "fulfills" => or_null(v, at, |v, at| {
                let required = ["output_index", "transaction_id"];
                closed(object(v, at)?, at, &required, &[], |key, v, at| match key {
                    // definitions/offset: type integer, minimum 0
                    "output_index" => integer(v, at, 0, None),
                    "transaction_id" => sha3_hexdigest(v, at),
                    _ => Ok(()),
                })
            }),
            _ => Ok(()),
        },
    )
}

/// `definitions/output`.
fn output(value: &Value, at: &At) -> Rule {
    let required = ["amount", "condition", "public_keys"];
    closed(
        object(value, at)?,
        at,
        &required,
        &[],
        |key, v, at| match key {
            "amount" => pattern(v, at, "amount", patterns::amount),
            "condition" => closed(
                object(v, at)?,
                at,
                &["details", "uri"],
                &[],
                |key, v, at| match key {
                    "details" => condition_details(v, at),
                    "uri" => condition_uri(v, at, UriTypes::Any),
                    _ => Ok(()),
                },
            ),
            "public_keys" => public_keys(v, at),
            _ => Ok(()),
        },
    )
}

/// The `uri` pattern of `definitions/output`.
fn condition_uri(value: &Value, at: &At, types: UriTypes) -> Rule {
    pattern(value, at, "condition uri", |s| {
        patterns::condition_uri(s, types)
    })
}

/// `definitions/condition_details`: anyOf [ed25519/zenroom, threshold]. The `type` patterns
/// exclude each other, so `type` picks the only branch that can pass.
fn condition_details(value: &Value, at: &At) -> Rule {
    let o = object(value, at)?;
    let kind_at = at.key("type");
    let kind = match field(o, "type") {
        None => {
            return Err(SchemaError::Missing {
                path: kind_at.pointer(),
            });
        }
        Some(kind) => string(kind, &kind_at)?,
    };
    if patterns::literal(kind, &["ed25519-sha-256", "zenroom-sha-256"]) {
        closed(
            o,
            at,
            &["type", "public_key"],
            &[],
            |key, v, at| match key {
                "public_key" => base58(v, at),
                // `type`, matched above.
                _ => Ok(()),
            },
        )
    } else if patterns::literal(kind, &["threshold-sha-256"]) {
        let required = ["type", "threshold", "subconditions"];
        closed(o, at, &required, &[], |key, v, at| match key {
            // type integer, minimum 1, maximum 100
            "threshold" => integer(v, at, 1, Some(100)),
            "subconditions" => each(array(v, at)?, at, condition_details),
            // `type`, matched above.
            _ => Ok(()),
        })
    } else {
        Err(SchemaError::Pattern {
            path: kind_at.pointer(),
            pattern: "condition type",
        })
    }
}

/// v3.0 `definitions/script`.
fn script_v3(value: &Value, at: &At) -> Rule {
    let required = ["code", "state", "inputs", "outputs"];
    closed(
        object(value, at)?,
        at,
        &required,
        &["policies"],
        |key, v, at| match key {
            "code" => string(v, at).map(drop),
            "inputs" => object(v, at).map(drop),
            "outputs" => object_or_array(v, at),
            "state" => script_state(v, at),
            "policies" => script_policies(v, at),
            _ => Ok(()),
        },
    )
}

/// v2.0 `definitions/script`: `code` is one of two object shapes, and the data keys are
/// singular (`input`, `output`), which `Script.from_dict` then does not find.
fn script_v2(value: &Value, at: &At) -> Rule {
    let required = ["code", "state", "input", "output"];
    closed(
        object(value, at)?,
        at,
        &required,
        &["policies"],
        |key, v, at| match key {
            "code" => script_v2_code(v, at),
            "input" => object(v, at).map(drop),
            "output" => object_or_array(v, at),
            "state" => script_state(v, at),
            "policies" => script_policies(v, at),
            _ => Ok(()),
        },
    )
}

/// v2.0 script `code`: anyOf [{type: enum [zenroom], raw: string, parameters: array of
/// objects}, {transaction_id: sha3_hexdigest}], both closed: a `transaction_id` key rules
/// out the first, its absence the second.
fn script_v2_code(value: &Value, at: &At) -> Rule {
    let code = object(value, at)?;
    if field(code, "transaction_id").is_some() {
        closed(code, at, &["transaction_id"], &[], |_, v, at| {
            sha3_hexdigest(v, at)
        })
    } else {
        let required = ["type", "raw", "parameters"];
        closed(code, at, &required, &[], |key, v, at| match key {
            "type" => enumerated(v, at, &["zenroom"]),
            "raw" => string(v, at).map(drop),
            "parameters" => each(array(v, at)?, at, |p, at| object(p, at).map(drop)),
            _ => Ok(()),
        })
    }
}

/// Script `state`, both versions: anyOf [{type: object, $ref: sha3_hexdigest}], where the
/// $ref replaces `type: object`.
fn script_state(value: &Value, at: &At) -> Rule {
    sha3_hexdigest(value, at)
}

/// Script `policies`, both versions: an open object whose `raw` and `txids` are objects.
fn script_policies(value: &Value, at: &At) -> Rule {
    let policies = object(value, at)?;
    property(policies, "raw", at, |v, at| object(v, at).map(drop))?;
    property(policies, "txids", at, |v, at| object(v, at).map(drop))
}

// ---------------------------------------------------------------------------------------
// transaction_<operation>.yaml

/// How an operation schema constrains `inputs[*].fulfills`.
#[derive(Clone, Copy)]
enum Fulfills {
    /// `type: "object"` (TRANSFER, VOTE, COMPOSE, DECOMPOSE).
    Object,
    /// `anyOf: [object, null]` (v3.0 CREATE).
    ObjectOrNull,
    /// `type: "null"` (v2.0 CREATE).
    Null,
}

/// The operation's own schema (VOTE: transfer's, then vote's).
fn operation(tx: &Object, version: Version, op: Operation, at: &At) -> Rule {
    let tag = version.asset_tag();
    let assets_at = at.key(tag);
    let assets = field(tx, tag).unwrap_or(&Value::Null);
    match op {
        Operation::Create => {
            assets_rule(
                assets,
                &assets_at,
                version,
                true,
                (1, Some(1)),
                create_asset,
            )?;
            let fulfills = match version {
                Version::V2 => Fulfills::Null,
                Version::V3 => Fulfills::ObjectOrNull,
            };
            inputs_rule(tx, at, (1, Some(1)), fulfills)
        }
        Operation::Transfer | Operation::Vote => {
            // v3.0 items carry `type: object`, v2.0's `asset` does not.
            let typed = version == Version::V3;
            assets_rule(assets, &assets_at, version, true, (1, None), |v, at| {
                transfer_asset(v, at, typed)
            })?;
            inputs_rule(tx, at, (1, None), Fulfills::Object)?;
            if op == Operation::Vote {
                election_outputs(tx, at)?;
            }
            Ok(())
        }
        Operation::Compose => {
            assets_rule(assets, &assets_at, version, false, (1, None), compose_asset)?;
            inputs_rule(tx, at, (1, None), Fulfills::Object)
        }
        // DECOMPOSE bounds inputs by maxItems only.
        Operation::Decompose => {
            assets_rule(assets, &assets_at, version, false, (1, None), compose_asset)?;
            inputs_rule(tx, at, (0, Some(1)), Fulfills::Object)
        }
        Operation::ValidatorElection => {
            assets_rule(
                assets,
                &assets_at,
                version,
                false,
                (1, Some(1)),
                validator_asset,
            )
            .and_then(|()| election_outputs(tx, at))
            .map_err(|e| {
                // jsonschema, consulted only to word this error, evaluates every asset
                // item and raises on the `$ref` of any `data.power` it meets.
                let power = asset_entries(version, assets)
                    .iter()
                    .any(|a| member(a, "data").and_then(|d| member(d, "power")).is_some());
                if power {
                    SchemaError::Unresolvable(Box::new(e))
                } else {
                    e
                }
            })
        }
        Operation::ChainMigrationElection => {
            assets_rule(
                assets,
                &assets_at,
                version,
                false,
                (1, Some(1)),
                migration_asset,
            )?;
            election_outputs(tx, at)
        }
    }
}

/// The asset property of an operation schema. v3.0: an `assets` array with item bounds,
/// null allowed where the YAML has `anyOf [..., null]`; v2.0: the item definition applied to
/// `asset` itself.
fn assets_rule(
    assets: &Value,
    at: &At,
    version: Version,
    nullable: bool,
    (min, max): (usize, Option<usize>),
    item: impl Fn(&Value, &At) -> Rule,
) -> Rule {
    match version {
        Version::V2 => item(assets, at),
        Version::V3 if nullable && *assets == Value::Null => Ok(()),
        Version::V3 => {
            let items = array(assets, at)?;
            items_count(items, at, min, max)?;
            each(items, at, item)
        }
    }
}

/// `inputs` of the CREATE, TRANSFER, COMPOSE and DECOMPOSE schemas: item bounds, and every
/// item an object with a `fulfills` of the given type.
fn inputs_rule(tx: &Object, at: &At, (min, max): (usize, Option<usize>), f: Fulfills) -> Rule {
    property(tx, "inputs", at, |v, at| {
        let inputs = array(v, at)?;
        items_count(inputs, at, min, max)?;
        each(inputs, at, |input, at| {
            let o = object(input, at)?;
            required_keys(o, &["fulfills"], at)?;
            property(o, "fulfills", at, |v, at| match (f, v) {
                (Fulfills::Object | Fulfills::ObjectOrNull, Value::Object(_)) => Ok(()),
                (Fulfills::ObjectOrNull | Fulfills::Null, Value::Null) => Ok(()),
                (Fulfills::Null, _) => Err(type_error(at, "null")),
                _ => Err(type_error(at, "object")),
            })
        })
    })
}

/// `definitions/asset` of transaction_create.yaml (v3.0 item; v2.0 `properties/asset`):
/// untyped, so a null asset passes; an object is exactly `{data: string | null}`.
fn create_asset(value: &Value, at: &At) -> Rule {
    match value.as_object() {
        Some(o) => closed(o, at, &["data"], &[], |_, v, at| string_or_null(v, at)),
        None => Ok(()),
    }
}

/// transaction_transfer.yaml's asset: exactly `{id: sha3_hexdigest}`; `typed` is the v3.0
/// item's `type: object`, absent from v2.0's `properties/asset` (so a null v2.0 asset passes
/// here and fails later in the constructor).
fn transfer_asset(value: &Value, at: &At, typed: bool) -> Rule {
    match value.as_object() {
        Some(o) => closed(o, at, &["id"], &[], |_, v, at| sha3_hexdigest(v, at)),
        None if typed => Err(type_error(at, "object")),
        None => Ok(()),
    }
}

/// `definitions/asset` of transaction_compose.yaml and transaction_decompose.yaml: oneOf
/// [exactly `{id: sha3_hexdigest}`, exactly `{data: string}`]. Only the first allows `id`
/// and it requires it, so an `id` key picks the first, its absence the second.
fn compose_asset(value: &Value, at: &At) -> Rule {
    let o = object(value, at)?;
    if field(o, "id").is_some() {
        closed(o, at, &["id"], &[], |_, v, at| sha3_hexdigest(v, at))
    } else {
        closed(o, at, &["data"], &[], |_, v, at| string(v, at).map(drop))
    }
}

/// The public key `type` enum of transaction_validator_election.yaml.
pub(super) const KEY_ENCODINGS: [&str; 3] = ["ed25519-base16", "ed25519-base32", "ed25519-base64"];

/// transaction_validator_election.yaml's asset: untyped `{data}`, `data` untyped and closed:
/// `node_id`, `public_key` and `power` required, `seed` optional. `power` refers to the
/// missing `#/definitions/positiveInteger`, which RapidJSON resolves to "anything".
fn validator_asset(value: &Value, at: &At) -> Rule {
    let Some(o) = value.as_object() else {
        return Ok(());
    };
    closed(o, at, &["data"], &[], |_, v, at| {
        let Some(data) = v.as_object() else {
            return Ok(());
        };
        let required = ["node_id", "public_key", "power"];
        closed(data, at, &required, &["seed"], |key, v, at| match key {
            "node_id" | "seed" => string(v, at).map(drop),
            "public_key" => {
                closed(
                    object(v, at)?,
                    at,
                    &["value", "type"],
                    &[],
                    |key, v, at| match key {
                        "value" => string(v, at).map(drop),
                        "type" => enumerated(v, at, &KEY_ENCODINGS),
                        _ => Ok(()),
                    },
                )
            }
            // `power`: the unresolvable $ref, anything goes.
            _ => Ok(()),
        })
    })
}

/// transaction_chain_migration_election.yaml's asset: untyped `{data}`, `data` untyped and
/// closed with an optional string `seed`.
fn migration_asset(value: &Value, at: &At) -> Rule {
    let Some(o) = value.as_object() else {
        return Ok(());
    };
    closed(o, at, &["data"], &[], |_, v, at| match v.as_object() {
        Some(data) => closed(data, at, &[], &["seed"], |_, v, at| string(v, at).map(drop)),
        None => Ok(()),
    })
}

/// `definitions/output` of the election and vote schemas: the condition URI may name
/// ed25519 conditions only.
fn election_outputs(tx: &Object, at: &At) -> Rule {
    property(tx, "outputs", at, |v, at| {
        each(array(v, at)?, at, |out, at| {
            property(object(out, at)?, "condition", at, |v, at| {
                let condition = object(v, at)?;
                required_keys(condition, &["uri"], at)?;
                property(condition, "uri", at, |v, at| {
                    condition_uri(v, at, UriTypes::Ed25519)
                })
            })
        })
    })
}
