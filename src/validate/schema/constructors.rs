//! The constructor rules: what planetmint-transactions checks in Python code rather than in
//! the schema. That is the look-ups that build `local_dict` in `Transaction.from_dict`,
//! ValidatorElection's key decoding, and what `Input.from_dict`, `Output.from_dict`,
//! `Script.from_dict` and the constructors still refuse once the schema has passed.
//!
//! In: `local_dict`, with the [`Operation`] and (after the look-ups) the [`Version`] it was
//! checked under. Out: the first [`SchemaError`] Python would raise, carrying its class.
//!
//! Only outcomes reachable after the schema are written here. In particular:
//! - `Transaction.__init__` refuses a non-string `metadata` and, for CREATE, a non-string
//!   asset `data` (consulting `cid.is_cid` only to word the `TypeError`), but the schemas
//!   already allow nothing else, so `is_cid` never decides anything;
//! - `Output.__init__`'s `public_keys` check (list or None) and `TransactionLink.from_dict`
//!   accept everything the schema lets through.

use super::encodings;
use super::rules::KEY_ENCODINGS;
use super::{At, Operation, Raised, SchemaError, Version, asset_entries, field, member};
use crate::validate::json::{Object, Value};

type Rule = Result<(), SchemaError>;

/// `Output.MAX_AMOUNT`.
const MAX_AMOUNT: u64 = 9_000_000_000_000_000_000;

/// Decoded length of an ed25519 public key (`validate_asset_public_key`).
const PUBLIC_KEY_LEN: usize = 32;

/// The `tx[...]` look-ups `from_dict` makes while building `local_dict`, in its order: a key
/// missing from the transaction raises `KeyError` there, so a `local` without it cannot come
/// from Python. Returns the version they select.
pub(super) fn local_dict_keys(local: &Object) -> Result<Version, SchemaError> {
    let at = At::ROOT;
    let missing = |key| {
        SchemaError::constructor(
            &at.key(key),
            Raised::KeyError,
            "missing from the transaction",
        )
    };
    let version = field(local, "version").ok_or_else(|| missing("version"))?;
    // `Transaction.get_assets_tag(version)`: `asset` iff the version is exactly "2.0".
    let tag = match version.as_str() {
        Some("2.0") => "asset",
        _ => "assets",
    };
    for key in [tag, "inputs", "outputs", "metadata"] {
        if field(local, key).is_none() {
            return Err(missing(key));
        }
    }
    Ok(Version::of(version))
}

/// Everything after `validate_schema`, in `from_dict`'s order. Assumes the schema passed.
pub(super) fn after_schema(tx: &Object, version: Version, op: Operation) -> Rule {
    let at = At::ROOT;
    let assets_at = at.key(version.asset_tag());
    let assets = field(tx, version.asset_tag()).unwrap_or(&Value::Null);
    if op == Operation::ValidatorElection {
        validator_public_key(assets, &assets_at, version)?;
    }
    let inputs_at = at.key("inputs");
    for (i, input) in items(tx, "inputs").iter().enumerate() {
        input_from_dict(input, &inputs_at.index(i))?;
    }
    let outputs_at = at.key("outputs");
    for (i, output) in items(tx, "outputs").iter().enumerate() {
        output_from_dict(output, &outputs_at.index(i))?;
    }
    let script = field(tx, "script");
    // `Script.from_dict` reads `data["inputs"]`, which the v2.0 schema's closed script object
    // (keys `input`/`output`) can never hold.
    if script.is_some() && version == Version::V2 {
        return Err(SchemaError::constructor(
            &at.key("script").key("inputs"),
            Raised::KeyError,
            "Script.from_dict needs `inputs`",
        ));
    }
    // `Transaction.__init__` then runs `script.validate()`, Zenroom code this crate cannot
    // run: the transaction module marks such a transaction unverifiable.
    constructor_assets(assets, &assets_at, version, op)
}

/// `tx[key]` as a list (the schema made it one).
fn items<'t>(tx: &'t Object, key: &str) -> &'t [Value] {
    field(tx, key).and_then(Value::as_array).unwrap_or_default()
}

/// `ValidatorElection.validate_schema`, after the schema: `tx["assets"][0]["data"]
/// ["public_key"]` (v2.0: `tx["asset"]["data"]["public_key"]`), then
/// `validate_asset_public_key`. The election schema leaves the asset and its `data` untyped,
/// so a null asset or a non-object `data` reaches the subscripts and raises `TypeError`.
fn validator_public_key(assets: &Value, at: &At, version: Version) -> Rule {
    let first = asset_entries(version, assets)
        .first()
        .unwrap_or(&Value::Null);
    let asset_at = match version {
        Version::V3 => at.index(0),
        Version::V2 => *at,
    };
    let data_at = asset_at.key("data");
    let key_at = data_at.key("public_key");
    let key = member(first, "data")
        .and_then(|data| member(data, "public_key"))
        .ok_or_else(|| {
            SchemaError::constructor(&data_at, Raised::TypeError, "not subscriptable")
        })?;
    // The schema made `value` a string and `type` one of KEY_ENCODINGS.
    let value = member(key, "value")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let decode = match member(key, "type").and_then(Value::as_str) {
        Some(t) if t == KEY_ENCODINGS[0] => encodings::b16decode,
        Some(t) if t == KEY_ENCODINGS[1] => encodings::b32decode,
        _ => encodings::b64decode,
    };
    match decode(value.as_bytes()) {
        Some(bytes) if bytes.len() == PUBLIC_KEY_LEN => Ok(()),
        _ => Err(SchemaError::PublicKey {
            path: key_at.key("value").pointer(),
        }),
    }
}

/// `Input.from_dict` and `Input.__init__` for one input (the fulfillment is parsed
/// elsewhere): `data["fulfills"]` is a plain subscript although only the CREATE, TRANSFER,
/// VOTE, COMPOSE and DECOMPOSE schemas require the key (elections do not), and
/// `owners_before` must be a list although `definitions/public_keys` allows null.
fn input_from_dict(input: &Value, at: &At) -> Rule {
    if member(input, "fulfills").is_none() {
        return Err(SchemaError::constructor(
            &at.key("fulfills"),
            Raised::KeyError,
            "missing from the input",
        ));
    }
    if member(input, "owners_before")
        .and_then(Value::as_array)
        .is_none()
    {
        return Err(SchemaError::constructor(
            &at.key("owners_before"),
            Raised::TypeError,
            "`owners_before` must be a list instance",
        ));
    }
    Ok(())
}

/// `Output.from_dict`/`Output.__init__` for one output (the condition is parsed elsewhere):
/// `int(amount)` must succeed and lie in `1..=MAX_AMOUNT` (`AmountError` either way). The
/// schema made `amount` 1 to 20 ASCII digits up to its first NUL; a NUL, hidden from the
/// pattern, makes `int()` fail.
fn output_from_dict(output: &Value, at: &At) -> Rule {
    let amount = member(output, "amount")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let in_range = amount.bytes().all(|b| b.is_ascii_digit())
        && amount
            .parse::<u64>()
            .is_ok_and(|n| (1..=MAX_AMOUNT).contains(&n));
    if in_range {
        Ok(())
    } else {
        Err(SchemaError::Amount {
            path: at.key("amount").pointer(),
        })
    }
}

/// `Transaction.__init__`'s asset rule for TRANSFER (and VOTE, whose class sets
/// `TRANSFER = "VOTE"`): v3.0 `isinstance(assets, list) and "id" in assets[0]`, v2.0
/// `isinstance(asset, dict) and "id" in asset`. The transfer schema allows a null
/// `assets`/`asset`, which fails here.
fn constructor_assets(assets: &Value, at: &At, version: Version, op: Operation) -> Rule {
    if !matches!(op, Operation::Transfer | Operation::Vote) {
        return Ok(());
    }
    let holds_id = |asset: Option<&Value>| asset.and_then(|a| member(a, "id")).is_some();
    let ok = match version {
        Version::V3 => holds_id(assets.as_array().and_then(<[Value]>::first)),
        Version::V2 => holds_id(Some(assets)),
    };
    if ok {
        Ok(())
    } else {
        Err(SchemaError::constructor(
            at,
            Raised::TypeError,
            "TRANSFER assets must hold an `id`",
        ))
    }
}
