//! Every expectation here ("ok" or "<Python exception class> <code>") was obtained by running
//! planetmint-transactions 0.8.4's `Transaction.from_dict(tx, False)` on the same document,
//! with the parts other modules own stubbed out (`validate_id`, `Fulfillment.from_uri`,
//! `_fulfillment_from_details`, and `Script.validate`, whose Zenroom run is not ours to make). Cases
//! on `id` alone come from python-rapidjson's `Validator` with the same schema, because
//! Python's memoizer hex-decodes the id before the schema runs.

use super::*;
use crate::validate::json::decode;
use crate::validate::model::OperationError;

const V2: &str = "2.0";
const V3: &str = "3.0";
const OPERATIONS: [&str; 7] = [
    "CREATE",
    "TRANSFER",
    "VOTE",
    "COMPOSE",
    "DECOMPOSE",
    "VALIDATOR_ELECTION",
    "CHAIN_MIGRATION_ELECTION",
];

const TX_ID: &str = "015f7f2a3f1fc6c8bd94515a91b77ad0f3292a5d998153343c9c656327a065e3";
const KEY: &str = "67vHA8qZGCJKw1UNGUJZME4MwEWDRGWzp7MGvsut43A8";
const URI: &str =
    "ni:///sha-256;Wu-WJAvKVYLm_QRoh5omhj2B0cH7YC3vVZJu8z7Iux8?fpt=ed25519-sha-256&cost=131072";
/// Only its pattern matters here; parsing it is the condition module's job.
const FULFILLMENT: &str = "pGSAIEvRRQm1l-8CBi4hY3DPxm4dQrwMHEaIAXFXMIgcUXRigUBmYzmZ";
/// sha256("validator") in the three encodings a validator election may use.
const VALIDATOR_B64: &str = "+CrzIWC8UxEsoRirv1f6b+1H65ApGh0dkvQ4ri7XTvY=";
const VALIDATOR_B32: &str = "7AVPGILAXRJRCLFBDCV36V72N7WUP24QFENB2HMS6Q4K4LWXJ33A====";
const VALIDATOR_B16: &str = "F82AF32160BC53112CA118ABBF57FA6FED47EB90291A1D1D92F438AE2ED74EF6";

/// The assets of a minimal valid transaction of `op`; v2.0 carries the first as `asset`.
fn assets(op: &str) -> Vec<String> {
    match op {
        "CREATE" => vec![r#"{"data":"QmQsNBzTsrrWUQY7jQTh3tsjk8Qtqt7NPzbiDpbEdW5Uqs"}"#.into()],
        "TRANSFER" | "VOTE" => vec![format!(r#"{{"id":"{TX_ID}"}}"#)],
        "COMPOSE" | "DECOMPOSE" => {
            vec![
                r#"{"data":"QmNew"}"#.into(),
                format!(r#"{{"id":"{TX_ID}"}}"#),
            ]
        }
        "VALIDATOR_ELECTION" => vec![format!(
            r#"{{"data":{{"node_id":"node-1","public_key":{{"value":"{VALIDATOR_B64}","type":"ed25519-base64"}},"power":10,"seed":"s"}}}}"#
        )],
        "CHAIN_MIGRATION_ELECTION" => vec![r#"{"data":{"seed":"s"}}"#.into()],
        _ => unreachable!("{op}"),
    }
}

/// A minimal transaction of `op` that passes every rule (for v2.0, all but COMPOSE and
/// DECOMPOSE).
fn base(version: &str, op: &str) -> Value {
    let spends = matches!(op, "TRANSFER" | "VOTE" | "COMPOSE" | "DECOMPOSE");
    let fulfills = if spends {
        format!(r#"{{"transaction_id":"{TX_ID}","output_index":0}}"#)
    } else {
        "null".into()
    };
    let assets = assets(op);
    let (tag, assets) = if version == V2 {
        ("asset", assets[0].clone())
    } else {
        ("assets", format!("[{}]", assets.join(",")))
    };
    let text = format!(
        r#"{{"inputs":[{{"owners_before":["{KEY}"],"fulfillment":"{FULFILLMENT}","fulfills":{fulfills}}}],
            "outputs":[{{"amount":"1","condition":{{"details":{{"type":"ed25519-sha-256","public_key":"{KEY}"}},"uri":"{URI}"}},"public_keys":["{KEY}"]}}],
            "operation":"{op}","metadata":null,"{tag}":{assets},"version":"{version}","id":null}}"#
    );
    decode(text.as_bytes()).expect("valid base JSON")
}

/// `Transaction.from_dict`'s `local_dict` for `tx` (which always has an operation here).
fn local_dict(tx: &Object) -> Object {
    let mut local = Object::default();
    for key in [
        "inputs",
        "outputs",
        "operation",
        "metadata",
        "version",
        "script",
    ] {
        if let Some(value) = tx.get(key) {
            local.insert(key, value.clone());
        }
    }
    local.insert("id", tx.get("id").cloned().unwrap_or(Value::Null));
    if let Some(version) = tx.get("version") {
        // get_assets_tag / get_asset_obj
        let asset = match version.as_str() {
            Some("2.0") => tx
                .get("asset")
                .or_else(|| tx.get("assets"))
                .map(|a| ("asset", a)),
            _ => tx.get("assets").map(|a| ("assets", a)),
        };
        if let Some((tag, value)) = asset {
            local.insert(tag, value.clone());
        }
    }
    local
}

/// One edit of a base transaction at a JSON pointer: set a value given as JSON text (`-`
/// appends to an array), or remove it (`json` is None).
#[derive(Debug)]
struct Edit {
    pointer: String,
    json: Option<String>,
}

fn set(pointer: impl Into<String>, json: impl Into<String>) -> Edit {
    Edit {
        pointer: pointer.into(),
        json: Some(json.into()),
    }
}

fn del(pointer: impl Into<String>) -> Edit {
    Edit {
        pointer: pointer.into(),
        json: None,
    }
}

fn apply(tx: &mut Value, edit: &Edit) {
    let pointer = &edit.pointer;
    let mut steps: Vec<&str> = pointer.split('/').skip(1).collect();
    let last = steps.pop().expect("non-root pointer");
    let mut node = tx;
    for step in steps {
        node = match node {
            Value::Object(o) => o.get_mut(step).expect("pointer into the base"),
            Value::Array(a) => &mut a[step.parse::<usize>().expect("index")],
            _ => panic!("pointer {pointer} crosses a scalar"),
        };
    }
    let value = edit
        .json
        .as_ref()
        .map(|j| decode(j.as_bytes()).expect("valid edit JSON"));
    match (node, value) {
        (Value::Object(o), Some(v)) => o.insert(last, v),
        (Value::Object(o), None) => o.retain(|k| k != last),
        (Value::Array(a), Some(v)) if last == "-" => a.push(v),
        (Value::Array(a), Some(v)) => a[last.parse::<usize>().expect("index")] = v,
        (Value::Array(a), None) => {
            a.remove(last.parse::<usize>().expect("index"));
        }
        _ => panic!("pointer {pointer} ends under a scalar"),
    }
}

/// `s` as JSON text.
fn json_string(s: &str) -> String {
    Value::Str(s.into()).to_string()
}

/// `"ok"`, or `"<python_class> <code>"`.
fn outcome(result: Result<(), SchemaError>) -> String {
    match result {
        Ok(()) => "ok".into(),
        Err(e) => format!("{} {}", e.python_class(), e.code()),
    }
}

/// `from_dict(tx, False)` from `resolve_class` on, as the transaction module runs it: the
/// operation resolved, then every structural rule.
fn from_dict(local: &Object) -> Result<(), SchemaError> {
    check(local, Operation::resolve(local).map_err(raised)?).map(drop)
}

/// What `from_dict` raises for an operation that does not resolve: `resolve_class`'s dict
/// look-up fails on an unhashable value or an unregistered name, and a transaction without
/// one resolves as CREATE, then fails on `tx["operation"]`. (The service refuses these before
/// the schema runs, with the same codes; see `transaction::check`.)
fn raised(error: OperationError) -> SchemaError {
    let at = At::ROOT.key("operation");
    match error {
        OperationError::Missing => {
            SchemaError::constructor(&at, Raised::KeyError, "missing from the transaction")
        }
        OperationError::Unhashable => {
            SchemaError::constructor(&at, Raised::TypeError, "unhashable operation")
        }
        OperationError::Unregistered => SchemaError::Operation,
    }
}

/// Checks the base transaction of `version`/`op` with `edits` applied.
#[track_caller]
fn case(version: &str, op: &str, edits: &[Edit], expected: &str) {
    let mut tx = base(version, op);
    for edit in edits {
        apply(&mut tx, edit);
    }
    let local = local_dict(tx.as_object().expect("object"));
    let got = outcome(from_dict(&local));
    assert_eq!(got, expected, "{version} {op} {edits:?}");
}

#[test]
fn minimal_transactions_pass() {
    for op in OPERATIONS {
        case(V3, op, &[], "ok");
    }
    for op in OPERATIONS {
        // v2.0's definitions/operation enum lacks COMPOSE and DECOMPOSE.
        let expected = match op {
            "COMPOSE" | "DECOMPOSE" => "SchemaValidationError enum",
            _ => "ok",
        };
        case(V2, op, &[], expected);
    }
}

#[test]
fn operation_must_resolve() {
    for version in [V2, V3] {
        for (operation, expected) in [
            (r#""FOO""#, "SchemaValidationError operation"),
            (r#""create""#, "SchemaValidationError operation"),
            (r#""CREATE\u0000""#, "SchemaValidationError operation"),
            ("1", "SchemaValidationError operation"),
            ("null", "SchemaValidationError operation"),
            // resolve_class does a dict look-up: unhashable values raise TypeError.
            (r#"["CREATE"]"#, "TypeError constructor"),
            (r#"{"CREATE":1}"#, "TypeError constructor"),
        ] {
            case(version, "CREATE", &[set("/operation", operation)], expected);
        }
    }
    // A transaction without operation is validated as CREATE, then fails on
    // tx["operation"]: the caller refuses it; a local_dict without one is a KeyError.
    let mut local = local_dict(base(V3, "CREATE").as_object().unwrap());
    local.retain(|k| k != "operation");
    assert_eq!(outcome(from_dict(&local)), "KeyError constructor");
}

#[test]
fn version_selects_schema() {
    for op in ["CREATE", "TRANSFER"] {
        for (value, expected) in [
            (r#""1.0""#, "SchemaValidationError version"),
            (r#""3.0\n""#, "SchemaValidationError version"),
            (r#""3.00""#, "SchemaValidationError version"),
            (r#"" 3.0""#, "SchemaValidationError version"),
            ("3", "SchemaValidationError version"),
            ("3.0", "SchemaValidationError version"),
            ("null", "SchemaValidationError version"),
            // Not "3.0", so checked against v2.0, whose ^2\.0$ it fails.
            (r#""3.0\u0000""#, "SchemaValidationError version"),
        ] {
            case(V3, op, &[set("/version", value)], expected);
        }
    }
    // "2.0\u0000" passes ^2\.0$ (the regex stops at NUL) but is not "2.0", so local_dict
    // carries `assets`, which the v2.0 schema refuses.
    case(
        V3,
        "CREATE",
        &[set("/version", r#""2.0\u0000""#)],
        "SchemaValidationError additional_property",
    );
    // "2.0" with only `assets`: get_asset_obj falls back to that list, which v2.0's
    // `asset` (null or object) refuses; other versions without `assets` fail the look-up.
    case(
        V3,
        "CREATE",
        &[set("/version", r#""2.0""#)],
        "SchemaValidationError type",
    );
    case(
        V2,
        "CREATE",
        &[set("/version", r#""3.0""#)],
        "KeyError constructor",
    );
    case(
        V2,
        "CREATE",
        &[set("/version", r#""1.0""#)],
        "KeyError constructor",
    );
    case(V2, "CREATE", &[del("/version")], "KeyError constructor");
}

#[test]
fn top_level_keys() {
    for version in [V2, V3] {
        let tag = if version == V2 { "/asset" } else { "/assets" };
        for key in ["/inputs", "/outputs", "/metadata", tag] {
            case(version, "CREATE", &[del(key)], "KeyError constructor");
        }
        case(
            version,
            "CREATE",
            &[set("/inputs", "{}")],
            "SchemaValidationError type",
        );
        case(
            version,
            "CREATE",
            &[set("/outputs", "null")],
            "SchemaValidationError type",
        );
        // Keys outside local_dict never reach the schema.
        case(version, "CREATE", &[set("/extra", "1")], "ok");
    }
}

#[test]
fn id_follows_rapidjson() {
    // From python-rapidjson's Validator (see the module header).
    let mut local = local_dict(base(V3, "CREATE").as_object().unwrap());
    for (id, expected) in [
        (format!(r#""{TX_ID}""#), "ok"),
        (format!(r#""xx{TX_ID}yy""#), "ok"),
        (
            format!(r#""{}""#, &TX_ID[1..]),
            "SchemaValidationError pattern",
        ),
        (
            format!(r#""{}""#, TX_ID.to_uppercase()),
            "SchemaValidationError pattern",
        ),
        ("1".into(), "SchemaValidationError type"),
    ] {
        local.insert("id", decode(id.as_bytes()).unwrap());
        assert_eq!(outcome(from_dict(&local)), expected, "{id}");
    }
    local.retain(|k| k != "id");
    assert_eq!(outcome(from_dict(&local)), "SchemaValidationError missing");
}

#[test]
fn metadata_is_string_or_null() {
    for version in [V2, V3] {
        for (metadata, expected) in [
            (r#""QmQsNBzTsrrWUQY7jQTh3tsjk8Qtqt7NPzbiDpbEdW5Uqs""#, "ok"),
            (r#""not a CID""#, "ok"),
            (r#""""#, "ok"),
            ("{}", "SchemaValidationError type"),
            (r#"{"a":1}"#, "SchemaValidationError type"),
            ("[]", "SchemaValidationError type"),
            ("1", "SchemaValidationError type"),
            ("true", "SchemaValidationError type"),
        ] {
            case(version, "CREATE", &[set("/metadata", metadata)], expected);
        }
    }
}

#[test]
fn non_finite_numbers_fail_anywhere() {
    for version in [V2, V3] {
        let power = if version == V2 {
            "/asset/data/power"
        } else {
            "/assets/0/data/power"
        };
        // `power` accepts anything, but the validator cannot parse NaN/Infinity.
        case(version, "VALIDATOR_ELECTION", &[set(power, "1.5")], "ok");
        for special in ["NaN", "Infinity", "-Infinity", "[1,{\"a\":NaN}]"] {
            case(
                version,
                "VALIDATOR_ELECTION",
                &[set(power, special)],
                "SchemaValidationError non_finite",
            );
        }
        // Even where another rule fails too.
        case(
            version,
            "CREATE",
            &[set("/outputs/0/amount", "NaN")],
            "SchemaValidationError non_finite",
        );
    }
    case(
        V3,
        "CREATE",
        &[set(
            "/script",
            format!(r#"{{"code":"c","state":"{TX_ID}","inputs":{{"x":Infinity}},"outputs":[]}}"#),
        )],
        "SchemaValidationError non_finite",
    );
}

#[test]
fn input_rules() {
    for version in [V2, V3] {
        for (edit, expected) in [
            (set("/inputs/0/owners_before", "[]"), "ok"),
            // definitions/public_keys allows null, Input.__init__ does not.
            (
                set("/inputs/0/owners_before", "null"),
                "TypeError constructor",
            ),
            (
                set("/inputs/0/owners_before", r#""key""#),
                "SchemaValidationError type",
            ),
            (
                set("/inputs/0/owners_before", r#"["short"]"#),
                "SchemaValidationError pattern",
            ),
            (
                set("/inputs/0/owners_before/0", "1"),
                "SchemaValidationError type",
            ),
            // base58 is unanchored and its class is 1-9, letters and ^.
            (
                set(
                    "/inputs/0/owners_before/0",
                    r#""!! 67vHA8qZGCJKw1UNGUJZME4MwEWDRGWzp7MGvsut43A8 !!""#,
                ),
                "ok",
            ),
            (
                set(
                    "/inputs/0/owners_before/0",
                    r#""^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^""#,
                ),
                "ok",
            ),
            (
                set(
                    "/inputs/0/owners_before/0",
                    r#""0000000000000000000000000000000000000000000""#,
                ),
                "SchemaValidationError pattern",
            ),
            (
                set(
                    "/inputs/0/owners_before/0",
                    r#""\u000067vHA8qZGCJKw1UNGUJZME4MwEWDRGWzp7MGvsut43A8""#,
                ),
                "SchemaValidationError pattern",
            ),
            (
                del("/inputs/0/owners_before"),
                "SchemaValidationError missing",
            ),
            (
                del("/inputs/0/fulfillment"),
                "SchemaValidationError missing",
            ),
            (set("/inputs/0/fulfillment", r#""""#), "ok"),
            (
                set("/inputs/0/fulfillment", r#""pGSA=IA""#),
                "SchemaValidationError pattern",
            ),
            (
                set("/inputs/0/fulfillment", r#""pGSA IA""#),
                "SchemaValidationError pattern",
            ),
            // The pattern stops at NUL; parsing the fulfillment is another module's job.
            (set("/inputs/0/fulfillment", r#""pGSA\u0000 !""#), "ok"),
            (
                set("/inputs/0/fulfillment", "null"),
                "SchemaValidationError type",
            ),
            (
                set("/inputs/0/fulfillment", "1"),
                "SchemaValidationError type",
            ),
            // The condition_details branch of the anyOf.
            (
                set(
                    "/inputs/0/fulfillment",
                    r#"{"type":"ed25519-sha-256","public_key":"67vHA8qZGCJKw1UNGUJZME4MwEWDRGWzp7MGvsut43A8"}"#,
                ),
                "ok",
            ),
            (
                set("/inputs/0/fulfillment", r#"{"type":"ed25519-sha-256"}"#),
                "SchemaValidationError missing",
            ),
            (
                set("/inputs/0/extra", "1"),
                "SchemaValidationError additional_property",
            ),
            (set("/inputs/0", "null"), "SchemaValidationError type"),
        ] {
            case(version, "CREATE", &[edit], expected);
        }
    }
    // The path of an extra key is a JSON pointer, escaped.
    let mut local = local_dict(base(V3, "CREATE").as_object().unwrap());
    let mut inputs = local.get("inputs").unwrap().clone();
    if let Value::Array(items) = &mut inputs
        && let Value::Object(input) = &mut items[0]
    {
        input.insert("a/b~c", Value::Null);
    }
    local.insert("inputs", inputs);
    assert_eq!(
        from_dict(&local),
        Err(SchemaError::Additional {
            path: "/inputs/0/a~1b~0c".into()
        })
    );
}

#[test]
fn fulfills_rules() {
    for (edit, expected) in [
        (
            set("/inputs/0/fulfills/output_index", "9223372036854775807"),
            "ok",
        ),
        // RapidJSON's integers reach 2^64-1; beyond is a double, not an integer.
        (
            set("/inputs/0/fulfills/output_index", "18446744073709551615"),
            "ok",
        ),
        (
            set("/inputs/0/fulfills/output_index", "18446744073709551616"),
            "SchemaValidationError type",
        ),
        (
            set("/inputs/0/fulfills/output_index", "-1"),
            "SchemaValidationError range",
        ),
        (
            set("/inputs/0/fulfills/output_index", "-9223372036854775809"),
            "SchemaValidationError type",
        ),
        (
            set("/inputs/0/fulfills/output_index", "0.0"),
            "SchemaValidationError type",
        ),
        (
            set("/inputs/0/fulfills/output_index", "1e2"),
            "SchemaValidationError type",
        ),
        (
            set("/inputs/0/fulfills/output_index", r#""0""#),
            "SchemaValidationError type",
        ),
        (
            set("/inputs/0/fulfills/output_index", "true"),
            "SchemaValidationError type",
        ),
        (
            set(
                "/inputs/0/fulfills/transaction_id",
                r#""txid:015f7f2a3f1fc6c8bd94515a91b77ad0f3292a5d998153343c9c656327a065e3!""#,
            ),
            "ok",
        ),
        (
            set(
                "/inputs/0/fulfills/transaction_id",
                r#""015f7f2a3f1fc6c8bd94515a91b77ad0f3292a5d998153343c9c656327a065e""#,
            ),
            "SchemaValidationError pattern",
        ),
        (
            del("/inputs/0/fulfills/output_index"),
            "SchemaValidationError missing",
        ),
        (
            set("/inputs/0/fulfills/extra", "1"),
            "SchemaValidationError additional_property",
        ),
        (
            set("/inputs/0/fulfills", "[]"),
            "SchemaValidationError type",
        ),
    ] {
        case(V3, "TRANSFER", &[edit], expected);
    }
}

#[test]
fn amount_bounds() {
    for version in [V2, V3] {
        for (amount, expected) in [
            (r#""1""#, "ok"),
            (r#""0001""#, "ok"),
            (r#""9000000000000000000""#, "ok"),
            (r#""0""#, "AmountError amount"),
            (r#""00000000000000000000""#, "AmountError amount"),
            (r#""9000000000000000001""#, "AmountError amount"),
            (r#""18446744073709551616""#, "AmountError amount"),
            (r#""99999999999999999999""#, "AmountError amount"),
            (
                r#""999999999999999999999""#,
                "SchemaValidationError pattern",
            ),
            (r#""""#, "SchemaValidationError pattern"),
            (r#""-1""#, "SchemaValidationError pattern"),
            (r#""+1""#, "SchemaValidationError pattern"),
            (r#"" 1""#, "SchemaValidationError pattern"),
            (r#""1_0""#, "SchemaValidationError pattern"),
            (r#""1\n""#, "SchemaValidationError pattern"),
            (r#""\u0661""#, "SchemaValidationError pattern"),
            // The pattern stops at NUL, int() does not.
            (r#""1\u0000""#, "AmountError amount"),
            (r#""1\u0000x""#, "AmountError amount"),
            ("1", "SchemaValidationError type"),
        ] {
            case(
                version,
                "CREATE",
                &[set("/outputs/0/amount", amount)],
                expected,
            );
        }
    }
}

#[test]
fn output_rules() {
    for version in [V2, V3] {
        for (edit, expected) in [
            // public_keys may be null for outputs (Output.__init__ allows None).
            (set("/outputs/0/public_keys", "null"), "ok"),
            (set("/outputs/0/public_keys", "[]"), "ok"),
            (
                set("/outputs/0/public_keys", "{}"),
                "SchemaValidationError type",
            ),
            (
                del("/outputs/0/public_keys"),
                "SchemaValidationError missing",
            ),
            (
                del("/outputs/0/condition/details"),
                "SchemaValidationError missing",
            ),
            (
                del("/outputs/0/condition/uri"),
                "SchemaValidationError missing",
            ),
            (
                set("/outputs/0/condition/extra", "1"),
                "SchemaValidationError additional_property",
            ),
            (
                set("/outputs/0/extra", "1"),
                "SchemaValidationError additional_property",
            ),
            (
                set("/outputs/0/condition", r#""uri""#),
                "SchemaValidationError type",
            ),
            (set("/outputs/-", "null"), "SchemaValidationError type"),
            (set("/outputs", "[]"), "ok"),
        ] {
            case(version, "CREATE", &[edit], expected);
        }
    }
}

#[test]
fn condition_uri_pattern() {
    for (uri, common, election) in [
        (
            "ni:///sha-256;Wu-WJAvKVYLm_QRoh5omhj2B0cH7YC3vVZJu8z7Iux8?fpt=ed25519-sha-256&cost=131072",
            "ok",
            "ok",
        ),
        ("ni:///sha-256;?cost=1cost=2", "ok", "ok"),
        ("ni:///sha-256;x?cost=1&cost=2&cost=3&", "ok", "ok"),
        (
            "ni:///sha-256;x?fpt=threshold-sha-256&cost=264&subtypes=ed25519-sha-256",
            "ok",
            "SchemaValidationError pattern",
        ),
        (
            "ni:///sha-256;x?fpt=zenroom-sha-256&cost=1",
            "ok",
            "SchemaValidationError pattern",
        ),
        (
            "ni:///sha-256;x?cost=1&subtypes=zenroom-sha-256",
            "ok",
            "SchemaValidationError pattern",
        ),
        ("ni:///sha-256;x?cost=1&cost=2\u{0}anything", "ok", "ok"),
        (
            "ni:///sha-256;x?cost=1",
            "SchemaValidationError pattern",
            "SchemaValidationError pattern",
        ),
        (
            "ni:///sha-256;x?cost=1&cost=2&cost=3&cost=4",
            "SchemaValidationError pattern",
            "SchemaValidationError pattern",
        ),
        (
            "ni:///sha-256;x?cost=&cost=2",
            "SchemaValidationError pattern",
            "SchemaValidationError pattern",
        ),
        (
            "ni:///sha-256;x?cost=1&&cost=2",
            "SchemaValidationError pattern",
            "SchemaValidationError pattern",
        ),
        (
            "ni:///sha-256;x?cost=1&cost=2\n",
            "SchemaValidationError pattern",
            "SchemaValidationError pattern",
        ),
        (
            "ni:///sha-256;x?fpt=preimage-sha-256&cost=1",
            "SchemaValidationError pattern",
            "SchemaValidationError pattern",
        ),
        (
            "ni:///sha-256;x?subtypes=threshold-sha-256&cost=1",
            "SchemaValidationError pattern",
            "SchemaValidationError pattern",
        ),
        (
            "ni:///sha-256;x=?cost=1&cost=2",
            "SchemaValidationError pattern",
            "SchemaValidationError pattern",
        ),
        (
            " ni:///sha-256;x?cost=1&cost=2",
            "SchemaValidationError pattern",
            "SchemaValidationError pattern",
        ),
        (
            "ni:///sha-512;x?cost=1&cost=2",
            "SchemaValidationError pattern",
            "SchemaValidationError pattern",
        ),
    ] {
        let json = json_string(uri);
        for version in [V2, V3] {
            case(
                version,
                "CREATE",
                &[set("/outputs/0/condition/uri", &json)],
                common,
            );
            case(
                version,
                "VOTE",
                &[set("/outputs/0/condition/uri", &json)],
                election,
            );
            case(
                version,
                "CHAIN_MIGRATION_ELECTION",
                &[set("/outputs/0/condition/uri", &json)],
                election,
            );
        }
    }
    // The 86-character fingerprint bound.
    let fingerprint = |n: usize| format!(r#""ni:///sha-256;{}?cost=1&cost=2""#, "A".repeat(n));
    case(
        V3,
        "CREATE",
        &[set("/outputs/0/condition/uri", fingerprint(86))],
        "ok",
    );
    case(
        V3,
        "CREATE",
        &[set("/outputs/0/condition/uri", fingerprint(87))],
        "SchemaValidationError pattern",
    );
}

#[test]
fn condition_details_rules() {
    const DETAILS: &str = "/outputs/0/condition/details";
    for (details, expected) in [
        (
            r#"{"type":"zenroom-sha-256","public_key":"67vHA8qZGCJKw1UNGUJZME4MwEWDRGWzp7MGvsut43A8"}"#,
            "ok",
        ),
        (
            r#"{"type":"ed25519-sha-256\u0000x","public_key":"67vHA8qZGCJKw1UNGUJZME4MwEWDRGWzp7MGvsut43A8"}"#,
            "ok",
        ),
        (
            r#"{"type":"threshold-sha-256","threshold":1,"subconditions":[]}"#,
            "ok",
        ),
        (
            r#"{"type":"threshold-sha-256","threshold":100,"subconditions":[{"type":"threshold-sha-256","threshold":1,"subconditions":[{"type":"ed25519-sha-256","public_key":"67vHA8qZGCJKw1UNGUJZME4MwEWDRGWzp7MGvsut43A8"}]}]}"#,
            "ok",
        ),
        (
            r#"{"type":"threshold-sha-256","threshold":0,"subconditions":[]}"#,
            "SchemaValidationError range",
        ),
        (
            r#"{"type":"threshold-sha-256","threshold":101,"subconditions":[]}"#,
            "SchemaValidationError range",
        ),
        (
            r#"{"type":"threshold-sha-256","threshold":18446744073709551615,"subconditions":[]}"#,
            "SchemaValidationError range",
        ),
        (
            r#"{"type":"threshold-sha-256","threshold":1.0,"subconditions":[]}"#,
            "SchemaValidationError type",
        ),
        (
            r#"{"type":"threshold-sha-256","threshold":1,"subconditions":[{"type":"ed25519-sha-256"}]}"#,
            "SchemaValidationError missing",
        ),
        (
            r#"{"type":"threshold-sha-256","threshold":1,"subconditions":{}}"#,
            "SchemaValidationError type",
        ),
        (
            r#"{"type":"threshold-sha-256","threshold":1}"#,
            "SchemaValidationError missing",
        ),
        (
            r#"{"type":"threshold-sha-256","threshold":1,"subconditions":[],"public_key":"x"}"#,
            "SchemaValidationError additional_property",
        ),
        (
            r#"{"type":"ed25519-sha-256","public_key":"67vHA8qZGCJKw1UNGUJZME4MwEWDRGWzp7MGvsut43A8","threshold":1}"#,
            "SchemaValidationError additional_property",
        ),
        (
            r#"{"type":"preimage-sha-256","public_key":"67vHA8qZGCJKw1UNGUJZME4MwEWDRGWzp7MGvsut43A8"}"#,
            "SchemaValidationError pattern",
        ),
        (
            r#"{"type":"Ed25519-sha-256","public_key":"67vHA8qZGCJKw1UNGUJZME4MwEWDRGWzp7MGvsut43A8"}"#,
            "SchemaValidationError pattern",
        ),
        (
            r#"{"public_key":"67vHA8qZGCJKw1UNGUJZME4MwEWDRGWzp7MGvsut43A8"}"#,
            "SchemaValidationError missing",
        ),
        (
            r#"{"type":4,"public_key":"67vHA8qZGCJKw1UNGUJZME4MwEWDRGWzp7MGvsut43A8"}"#,
            "SchemaValidationError type",
        ),
        (
            r#"{"type":"ed25519-sha-256","public_key":"67vHA8qZGCJKw1UNGUJZME4MwEWDRGWzp7MGvsut43"}"#,
            "SchemaValidationError pattern",
        ),
        ("null", "SchemaValidationError type"),
    ] {
        for version in [V2, V3] {
            case(version, "CREATE", &[set(DETAILS, details)], expected);
        }
    }
}

#[test]
fn create_assets() {
    for (assets, expected) in [
        ("null", "ok"),
        ("[null]", "ok"),
        (r#"[{"data":null}]"#, "ok"),
        (r#"[{"data":""}]"#, "ok"),
        ("[]", "SchemaValidationError items"),
        (
            r#"[{"data":null},{"data":null}]"#,
            "SchemaValidationError items",
        ),
        (r#"[{"data":1}]"#, "SchemaValidationError type"),
        (r#"[{"data":{"a":1}}]"#, "SchemaValidationError type"),
        (r#"[{}]"#, "SchemaValidationError missing"),
        (
            r#"[{"data":"x","id":"y"}]"#,
            "SchemaValidationError additional_property",
        ),
        ("[1]", "SchemaValidationError type"),
        (r#"{"data":"x"}"#, "SchemaValidationError type"),
    ] {
        case(V3, "CREATE", &[set("/assets", assets)], expected);
    }
    for (asset, expected) in [
        ("null", "ok"),
        (r#"{"data":null}"#, "ok"),
        (r#"{"data":1}"#, "SchemaValidationError type"),
        ("{}", "SchemaValidationError missing"),
        (
            r#"{"data":"x","y":1}"#,
            "SchemaValidationError additional_property",
        ),
        (r#"[{"data":"x"}]"#, "SchemaValidationError type"),
    ] {
        case(V2, "CREATE", &[set("/asset", asset)], expected);
    }
}

#[test]
fn create_inputs() {
    const LINK: &str = r#"{"transaction_id":"015f7f2a3f1fc6c8bd94515a91b77ad0f3292a5d998153343c9c656327a065e3","output_index":0}"#;
    // v3.0 allows a CREATE input to link an output; v2.0 requires null.
    case(V3, "CREATE", &[set("/inputs/0/fulfills", LINK)], "ok");
    case(
        V2,
        "CREATE",
        &[set("/inputs/0/fulfills", LINK)],
        "SchemaValidationError type",
    );
    for version in [V2, V3] {
        case(
            version,
            "CREATE",
            &[del("/inputs/0/fulfills")],
            "SchemaValidationError missing",
        );
        case(
            version,
            "CREATE",
            &[set("/inputs", "[]")],
            "SchemaValidationError items",
        );
        case(
            version,
            "CREATE",
            &[set(
                "/inputs/-",
                r#"{"owners_before":[],"fulfillment":"","fulfills":null}"#,
            )],
            "SchemaValidationError items",
        );
    }
}

#[test]
fn transfer_and_vote_assets() {
    for op in ["TRANSFER", "VOTE"] {
        for (assets, expected) in [
            (
                r#"[{"id":"015f7f2a3f1fc6c8bd94515a91b77ad0f3292a5d998153343c9c656327a065e3"},{"id":"zz015f7f2a3f1fc6c8bd94515a91b77ad0f3292a5d998153343c9c656327a065e3"}]"#,
                "ok",
            ),
            // The transfer schema allows null; Transaction.__init__ then wants a list.
            ("null", "TypeError constructor"),
            ("[]", "SchemaValidationError items"),
            ("[null]", "SchemaValidationError type"),
            (r#"[{"id":"x"}]"#, "SchemaValidationError pattern"),
            (
                r#"[{"data":"x"}]"#,
                "SchemaValidationError additional_property",
            ),
            (r#"[{}]"#, "SchemaValidationError missing"),
        ] {
            case(V3, op, &[set("/assets", assets)], expected);
        }
        for (asset, expected) in [
            ("null", "TypeError constructor"),
            (r#"{"id":"x"}"#, "SchemaValidationError pattern"),
            ("{}", "SchemaValidationError missing"),
        ] {
            case(V2, op, &[set("/asset", asset)], expected);
        }
        for version in [V2, V3] {
            case(
                version,
                op,
                &[set("/inputs", "[]")],
                "SchemaValidationError items",
            );
            case(
                version,
                op,
                &[set("/inputs/0/fulfills", "null")],
                "SchemaValidationError type",
            );
            case(
                version,
                op,
                &[del("/inputs/0/fulfills")],
                "SchemaValidationError missing",
            );
        }
    }
}

#[test]
fn compose_and_decompose() {
    const LINK: &str = r#"{"transaction_id":"015f7f2a3f1fc6c8bd94515a91b77ad0f3292a5d998153343c9c656327a065e3","output_index":1}"#;
    for op in ["COMPOSE", "DECOMPOSE"] {
        for (assets, expected) in [
            (r#"[{"data":"a"},{"data":"b"}]"#, "ok"),
            (
                r#"[{"id":"015f7f2a3f1fc6c8bd94515a91b77ad0f3292a5d998153343c9c656327a065e3"}]"#,
                "ok",
            ),
            ("null", "SchemaValidationError type"),
            ("[]", "SchemaValidationError items"),
            ("[null]", "SchemaValidationError type"),
            (r#"[{"data":null}]"#, "SchemaValidationError type"),
            (r#"[{}]"#, "SchemaValidationError missing"),
            (
                r#"[{"id":"015f7f2a3f1fc6c8bd94515a91b77ad0f3292a5d998153343c9c656327a065e3","data":"x"}]"#,
                "SchemaValidationError additional_property",
            ),
            (r#"[{"id":"x"}]"#, "SchemaValidationError pattern"),
        ] {
            case(V3, op, &[set("/assets", assets)], expected);
        }
        case(
            V3,
            op,
            &[set("/inputs/0/fulfills", "null")],
            "SchemaValidationError type",
        );
    }
    // COMPOSE needs an input; DECOMPOSE bounds inputs by maxItems only.
    case(
        V3,
        "COMPOSE",
        &[set("/inputs", "[]")],
        "SchemaValidationError items",
    );
    case(V3, "DECOMPOSE", &[set("/inputs", "[]")], "ok");
    case(
        V3,
        "DECOMPOSE",
        &[set(
            "/inputs/-",
            format!(r#"{{"owners_before":[],"fulfillment":"","fulfills":{LINK}}}"#),
        )],
        "SchemaValidationError items",
    );
}

#[test]
fn validator_election_asset() {
    for version in [V2, V3] {
        let (asset, data): (&str, &str) = if version == V2 {
            ("/asset", "/asset/data")
        } else {
            ("/assets/0", "/assets/0/data")
        };
        let at = |suffix: &str| format!("{data}{suffix}");
        for (edit, expected) in [
            (set(at("/power"), r#"{"any":["thing"]}"#), "ok"),
            (del(at("/seed")), "ok"),
            (set(at("/seed"), "1"), "_WrappedReferencingError type"),
            (set(at("/node_id"), "1"), "_WrappedReferencingError type"),
            (
                set(at("/extra"), "1"),
                "_WrappedReferencingError additional_property",
            ),
            (
                set(at("/public_key/type"), r#""ed25519-base58""#),
                "_WrappedReferencingError enum",
            ),
            (
                set(at("/public_key/value"), "1"),
                "_WrappedReferencingError type",
            ),
            (
                set(at("/public_key/extra"), "1"),
                "_WrappedReferencingError additional_property",
            ),
            (
                set(at("/public_key"), r#""key""#),
                "_WrappedReferencingError type",
            ),
            (del(at("/node_id")), "_WrappedReferencingError missing"),
            // Without `power`, Python's fallback validator never meets the broken $ref.
            (del(at("/power")), "SchemaValidationError missing"),
            // Asset and data are untyped in the schema: Python then subscripts them.
            (set(asset, "null"), "TypeError constructor"),
            (set(data, r#""data""#), "TypeError constructor"),
            (set(data, "[]"), "TypeError constructor"),
            (del(data), "SchemaValidationError missing"),
            (
                set(
                    "/outputs/0/condition/uri",
                    r#""ni:///sha-256;x?fpt=threshold-sha-256&cost=1""#,
                ),
                "_WrappedReferencingError pattern",
            ),
            // Elections do not require `fulfills`, Input.from_dict does.
            (del("/inputs/0/fulfills"), "KeyError constructor"),
            (
                set(
                    "/inputs/-",
                    r#"{"owners_before":[],"fulfillment":"","fulfills":null}"#,
                ),
                "ok",
            ),
        ] {
            case(version, "VALIDATOR_ELECTION", &[edit], expected);
        }
    }
    for (assets, expected) in [
        ("[]", "SchemaValidationError items"),
        ("null", "SchemaValidationError type"),
        (
            r#"[{"data":{"node_id":"n","public_key":{"value":"","type":"ed25519-base16"},"power":1}},null]"#,
            "_WrappedReferencingError items",
        ),
    ] {
        case(
            V3,
            "VALIDATOR_ELECTION",
            &[set("/assets", assets)],
            expected,
        );
    }
}

#[test]
fn validator_public_key_encodings() {
    const VALUE: &str = "/assets/0/data/public_key/value";
    const TYPE: &str = "/assets/0/data/public_key/type";
    let text = json_string;
    let lower = |s: &str| s.to_lowercase();
    for (encoding, value, expected) in [
        ("ed25519-base16", VALIDATOR_B16.to_string(), "ok"),
        (
            "ed25519-base16",
            lower(VALIDATOR_B16),
            "InvalidPublicKey public_key",
        ),
        (
            "ed25519-base16",
            VALIDATOR_B16[..62].to_string(),
            "InvalidPublicKey public_key",
        ),
        (
            "ed25519-base16",
            format!("{VALIDATOR_B16}0"),
            "InvalidPublicKey public_key",
        ),
        ("ed25519-base32", VALIDATOR_B32.to_string(), "ok"),
        (
            "ed25519-base32",
            lower(VALIDATOR_B32),
            "InvalidPublicKey public_key",
        ),
        (
            "ed25519-base32",
            VALIDATOR_B32.trim_end_matches('=').to_string(),
            "InvalidPublicKey public_key",
        ),
        (
            "ed25519-base32",
            format!("{VALIDATOR_B32}========"),
            "InvalidPublicKey public_key",
        ),
        (
            "ed25519-base32",
            VALIDATOR_B16.to_string(),
            "InvalidPublicKey public_key",
        ),
        ("ed25519-base64", VALIDATOR_B64.to_string(), "ok"),
        // b64decode skips foreign characters and stops after completed padding.
        (
            "ed25519-base64",
            format!(" {}\n{} ", &VALIDATOR_B64[..20], &VALIDATOR_B64[20..]),
            "ok",
        ),
        (
            "ed25519-base64",
            format!("{VALIDATOR_B64}!!garbage=="),
            "ok",
        ),
        ("ed25519-base64", format!("=={VALIDATOR_B64}"), "ok"),
        (
            "ed25519-base64",
            VALIDATOR_B64.replace('+', "-"),
            "InvalidPublicKey public_key",
        ),
        (
            "ed25519-base64",
            VALIDATOR_B64.trim_end_matches('=').to_string(),
            "InvalidPublicKey public_key",
        ),
        (
            "ed25519-base64",
            format!("{}==", &VALIDATOR_B64[..42]),
            "InvalidPublicKey public_key",
        ),
        (
            "ed25519-base64",
            format!("AAAA{VALIDATOR_B64}"),
            "InvalidPublicKey public_key",
        ),
        (
            "ed25519-base64",
            String::new(),
            "InvalidPublicKey public_key",
        ),
    ] {
        case(
            V3,
            "VALIDATOR_ELECTION",
            &[set(TYPE, text(encoding)), set(VALUE, text(&value))],
            expected,
        );
    }
}

#[test]
fn chain_migration_election_asset() {
    for (assets, expected) in [
        // Untyped asset and data: anything but an object with other keys passes.
        ("[null]", "ok"),
        (r#"[{"data":"anything"}]"#, "ok"),
        (r#"[{"data":null}]"#, "ok"),
        (r#"[{"data":{}}]"#, "ok"),
        (r#"[{"data":{"seed":1}}]"#, "SchemaValidationError type"),
        (
            r#"[{"data":{"x":1}}]"#,
            "SchemaValidationError additional_property",
        ),
        (r#"[{}]"#, "SchemaValidationError missing"),
        ("[]", "SchemaValidationError items"),
        (
            r#"[{"data":{}},{"data":{}}]"#,
            "SchemaValidationError items",
        ),
        ("null", "SchemaValidationError type"),
    ] {
        case(
            V3,
            "CHAIN_MIGRATION_ELECTION",
            &[set("/assets", assets)],
            expected,
        );
    }
    case(
        V2,
        "CHAIN_MIGRATION_ELECTION",
        &[set("/asset", "null")],
        "ok",
    );
    case(
        V2,
        "CHAIN_MIGRATION_ELECTION",
        &[del("/inputs/0/fulfills")],
        "KeyError constructor",
    );
}

#[test]
fn script_rules() {
    let v3 = |extra: &str| {
        format!(r#"{{"code":"c","state":"{TX_ID}","inputs":{{}},"outputs":[]{extra}}}"#)
    };
    // A schema-valid v3.0 script passes the structural rules; whether its Zenroom code
    // holds is for the transaction module to call unverifiable.
    case(V3, "CREATE", &[set("/script", v3(""))], "ok");
    case(
        V3,
        "CREATE",
        &[set(
            "/script",
            v3(r#","policies":{"raw":{},"txids":{},"x":1}"#),
        )],
        "ok",
    );
    // ... but the constructor's asset rule comes first.
    case(
        V3,
        "TRANSFER",
        &[set("/script", v3("")), set("/assets", "null")],
        "TypeError constructor",
    );
    for (edit, expected) in [
        (set("/script", "null"), "SchemaValidationError type"),
        (set("/script", "{}"), "SchemaValidationError missing"),
        (
            set("/script", v3(r#","x":1"#)),
            "SchemaValidationError additional_property",
        ),
        (
            set("/script", v3(r#","policies":[]"#)),
            "SchemaValidationError type",
        ),
        (
            set("/script", v3(r#","policies":{"raw":1}"#)),
            "SchemaValidationError type",
        ),
        // `state` is {type: object, $ref: sha3_hexdigest}: the $ref wins.
        (
            set(
                "/script",
                r#"{"code":"c","state":{},"inputs":{},"outputs":[]}"#,
            ),
            "SchemaValidationError type",
        ),
        (
            set(
                "/script",
                r#"{"code":"c","state":"x","inputs":{},"outputs":[]}"#,
            ),
            "SchemaValidationError pattern",
        ),
        (
            set(
                "/script",
                format!(r#"{{"code":1,"state":"{TX_ID}","inputs":{{}},"outputs":[]}}"#),
            ),
            "SchemaValidationError type",
        ),
        (
            set(
                "/script",
                format!(r#"{{"code":"c","state":"{TX_ID}","inputs":[],"outputs":[]}}"#),
            ),
            "SchemaValidationError type",
        ),
        (
            set(
                "/script",
                format!(r#"{{"code":"c","state":"{TX_ID}","inputs":{{}},"outputs":"o"}}"#),
            ),
            "SchemaValidationError type",
        ),
    ] {
        case(V3, "CREATE", &[edit], expected);
    }
    // v2.0 scripts have `input`/`output`; Script.from_dict wants `inputs`.
    for (code, expected) in [
        (
            format!(r#"{{"transaction_id":"{TX_ID}"}}"#),
            "KeyError constructor",
        ),
        (
            r#"{"type":"zenroom","raw":"r","parameters":[{}]}"#.into(),
            "KeyError constructor",
        ),
        (
            r#"{"type":"lua","raw":"r","parameters":[]}"#.into(),
            "SchemaValidationError enum",
        ),
        (
            r#"{"type":"zenroom","raw":"r","parameters":[1]}"#.into(),
            "SchemaValidationError type",
        ),
        (
            format!(r#"{{"transaction_id":"{TX_ID}","raw":"r"}}"#),
            "SchemaValidationError additional_property",
        ),
        (r#""code""#.into(), "SchemaValidationError type"),
    ] {
        let json = format!(r#"{{"code":{code},"state":"{TX_ID}","input":{{}},"output":{{}}}}"#);
        case(V2, "CREATE", &[set("/script", json)], expected);
    }
    // A v3.0 script under v2.0: `code` (a string) fails before the plural keys are met.
    case(
        V2,
        "CREATE",
        &[set("/script", v3(""))],
        "SchemaValidationError type",
    );
}

#[test]
fn python_order_of_failures() {
    // Inputs are converted before outputs, each input fully before the next.
    case(
        V3,
        "CREATE",
        &[
            set("/outputs/0/amount", r#""0""#),
            set("/inputs/0/owners_before", "null"),
        ],
        "TypeError constructor",
    );
    // The schema runs before any constructor.
    case(
        V3,
        "CREATE",
        &[
            set("/inputs/0/owners_before", "null"),
            set("/metadata", "1"),
        ],
        "SchemaValidationError type",
    );
    // ValidatorElection's key check runs right after the schema, before the inputs.
    case(
        V3,
        "VALIDATOR_ELECTION",
        &[
            set("/inputs/0/owners_before", "null"),
            set("/assets/0/data/public_key/value", r#""x""#),
        ],
        "InvalidPublicKey public_key",
    );
}

#[test]
fn python_base_decoders() {
    // Outputs of Python 3.11's base64.b16decode/b32decode/b64decode.
    let hex =
        |b: Option<Vec<u8>>| b.map(|b| b.iter().map(|x| format!("{x:02x}")).collect::<String>());
    for (input, expected) in [
        ("", Some("")),
        ("00FF", Some("00ff")),
        ("00ff", None),
        ("0F0", None),
        ("0G", None),
    ] {
        assert_eq!(
            hex(encodings::b16decode(input.as_bytes())).as_deref(),
            expected,
            "b16 {input}"
        );
    }
    for (input, expected) in [
        ("", Some("")),
        ("MZXW6===", Some("666f6f")),
        ("MZXW6YQ=", Some("666f6f62")),
        ("MZXW6YTB", Some("666f6f6261")),
        ("MZXW6YTBOI======", Some("666f6f626172")),
        ("MZ======", Some("66")),
        ("MZXW====", Some("666f")),
        ("MZXW7===", Some("666f6f")),
        ("MZXW6", None),
        ("mzxw6===", None),
        ("MZXW6==", None),
        ("M=======", None),
        ("MZX=6===", None),
        ("========", None),
    ] {
        assert_eq!(
            hex(encodings::b32decode(input.as_bytes())).as_deref(),
            expected,
            "b32 {input}"
        );
    }
    for (input, expected) in [
        ("", Some("")),
        ("Zm9v", Some("666f6f")),
        ("Zm9vYg==", Some("666f6f62")),
        ("Zm9vYh==", Some("666f6f62")),
        ("Zm9=v", Some("666f")),
        ("Z=m9v", Some("666f6f")),
        ("Zm 9v\n", Some("666f6f")),
        ("Zm9v=junk", Some("666f6f8ee9e4")),
        ("Zm9vYg==Zm9v", Some("666f6f62")),
        ("=Zm9v", Some("666f6f")),
        ("Zm-9_v", Some("666f6f")),
        ("Zm9vYg=x=", Some("666f6f620c")),
        ("Zm\u{e9}9v", Some("666f6f")),
        ("Zm9vYg", None),
        ("Zm9vYg=", None),
        ("Zm9vY", None),
    ] {
        assert_eq!(
            hex(encodings::b64decode(input.as_bytes())).as_deref(),
            expected,
            "b64 {input}"
        );
    }
}

#[test]
fn error_codes_and_classes_are_stable() {
    let inner = SchemaError::Pattern {
        path: "/outputs/0/condition/uri".into(),
        pattern: "condition uri",
    };
    let wrapped = SchemaError::Unresolvable(Box::new(inner.clone()));
    assert_eq!(
        (inner.code(), inner.python_class()),
        ("pattern", "SchemaValidationError")
    );
    assert_eq!(
        (wrapped.code(), wrapped.python_class()),
        ("pattern", "_WrappedReferencingError")
    );
    assert_eq!(
        inner.to_string(),
        "/outputs/0/condition/uri: does not match condition uri"
    );
    assert_eq!(SchemaError::Operation.code(), "operation");
}
