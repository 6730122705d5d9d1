//! From raw bytes to a checked [`Transaction`]: ids, signed messages and the [`Verdict`].
//!
//! In: the raw bytes of one transaction. Out: a [`Verdict`] carrying the id Planetmint
//! computes (when the body gets that far), the operation, and either the parsed
//! [`Transaction`] or the reason it is [`Invalid`]. The steps and their order follow
//! planetmint-transactions' `Transaction.from_dict(tx, False)` and Planetmint's
//! `validate_transaction`, minus what needs the node's state (whether a spent output exists,
//! amounts balance) and plus what Planetmint 2.5 forgets (signatures of CREATE, DECOMPOSE,
//! elections and votes):
//!
//! 1. decode as `json.loads` ([`super::json`]);
//! 2. build Planetmint's `local_dict` (only the keys that take part in the id) and compare
//!    the claimed id with SHA3-256 of its canonical form with `"id": null`;
//! 3. the structural rules ([`super::schema`]);
//! 4. parse fulfillments and output conditions ([`super::condition`]);
//! 5. verify every input's fulfillment over its message: SHA3-256 of the canonical form of
//!    the *whole* body with every fulfillment and the id set to null, extended with the spent
//!    `{transaction_id}{output_index}` for inputs that spend;
//! 6. no output spent twice by one transaction.

use sha3::{Digest, Sha3_256};

use super::condition::{ConditionError, Details, Fulfillment, Verification};
use super::extract;
use super::json::{self, Object, Value, canonical};
use super::model::{Operation, OperationError, TxId, Version};
use super::schema;
use super::verdict::{Input, Invalid, Output, OutputLink, Transaction, Verdict};
use crate::wire::index::Tags;

/// Deepest nesting a transaction may have. Planetmint deep-copies the body (Python's
/// `deepcopy` spends two stack frames a level against a recursion limit of 1000), so it
/// fails somewhere near 490 levels, depending on its own stack; 400 stays clear of that
/// boundary. The cost: a transaction between 400 and ~490 levels deep, which no client
/// library produces, is refused although Planetmint might accept it.
pub const MAX_TX_DEPTH: usize = 400;

/// Validates one raw transaction.
pub fn validate(raw: &[u8]) -> Verdict {
    let mut verdict = Verdict {
        transaction_id: None,
        tags: Tags::default(),
        body: None,
        outputs: 0,
        spends: Vec::new(),
        result: Err(Invalid::NotObject),
    };
    verdict.result = check(raw, &mut verdict);
    verdict
}

/// Checks `raw`, filling in `seen` (all but its result) as far as the body gets.
fn check(raw: &[u8], seen: &mut Verdict) -> Result<Transaction, Invalid> {
    let document = json::decode_document(raw)?;
    let Value::Object(body) = document.value else {
        return Err(Invalid::NotObject);
    };
    seen.tags = extract::tags(&body);
    seen.outputs = extract::output_count(&body);
    seen.spends = extract::spends(&body);
    if !document.unencodable {
        seen.body = Some(extract::body_json(&body));
    }
    let operation = Operation::resolve(&body);

    // The signed message covers the body as the client sent it, extra keys included, so it
    // is taken before `body` is cut down to Planetmint's `local_dict`. A lone surrogate
    // anywhere makes it unencodable, which fails the transaction once it gets that far.
    let mut buf = Vec::with_capacity(1024);
    let message = (!document.unencodable).then(|| {
        write_signing_form(&body, &mut buf);
        Sha3_256::new_with_prefix(&buf)
    });

    let local = LocalDict::cut(body, operation)?;
    if document.unencodable && local.body.iter().any(|(_, v)| v.contains_unencodable()) {
        return Err(Invalid::Unencodable);
    }
    buf.clear();
    canonical::write_object(&local.body, &mut buf);
    let id = TxId::of(&buf);
    seen.transaction_id = Some(id);
    seen.tags.transaction_id = Some(id.to_string());
    seen.tags.asset_ids = asset_ids(assets(&local.body), id).unwrap_or_default();
    let operation = operation.map_err(|error| match error {
        // from_dict hashes with a default of CREATE, then its constructor reads
        // `tx["operation"]` and raises KeyError.
        OperationError::Missing => Invalid::MissingKey("operation"),
        OperationError::Unhashable | OperationError::Unregistered => Invalid::UnknownOperation,
    })?;
    if document.depth > MAX_TX_DEPTH {
        return Err(Invalid::TooDeep(document.depth));
    }
    if local.claimed_id.as_deref().map(str::as_bytes) != Some(&id.hex()[..]) {
        return Err(Invalid::IdMismatch { computed: id });
    }
    let local = local.body;
    let version = schema::check(&local, operation)?;
    let mut tx = parse(&local, id, operation, version)?;
    let message = message.ok_or(Invalid::Unencodable)?;

    for (index, input) in tx.inputs.iter().enumerate() {
        let mut digest = message.clone();
        if let Some(link) = &input.fulfills {
            digest.update(link.transaction_id.as_bytes());
            digest.update(link.output_index.to_string().as_bytes());
        }
        // `_input_valid` validates `Fulfillment.from_uri(f.serialize_uri())` and, for every
        // spending input, compares `f.condition_uri` with the spent output's: a fulfillment
        // that cannot be re-encoded or has no condition (a threshold of nothing) proves
        // nothing, whatever the operation. Only compound and RSA fulfillments can fail this,
        // so plain ed25519 skips the work.
        if !matches!(input.fulfillment, Fulfillment::Ed25519Sha256 { .. })
            && (input.fulfillment.serialize_uri().is_err()
                || input.fulfillment.condition().is_err())
        {
            return Err(Invalid::Signature(index));
        }
        match input.fulfillment.validate(&digest.finalize()) {
            Verification::Valid => {}
            Verification::Invalid => return Err(Invalid::Signature(index)),
            Verification::Unverifiable => {
                tx.unverifiable
                    .get_or_insert("fulfillment type not verified");
            }
        }
    }
    let mut spent = std::collections::HashSet::new();
    for (index, input) in tx.inputs.iter().enumerate() {
        if let Some(link) = &input.fulfills
            && !spent.insert(link)
        {
            return Err(Invalid::DoubleSpend(index));
        }
    }
    Ok(tx)
}

/// The keys of Planetmint's `local_dict`: the only ones that take part in the id and the
/// schema. Any other top-level key is ignored there, yet still signed (see [`check`]).
const ID_KEYS: [&str; 9] = [
    "asset",
    "assets",
    "id",
    "inputs",
    "metadata",
    "operation",
    "outputs",
    "script",
    "version",
];

/// The body cut down to Planetmint's `local_dict`, with `"id": null`, ready to hash.
struct LocalDict {
    body: Object,
    claimed_id: Option<String>,
}

impl LocalDict {
    /// Mirrors the first lines of `Transaction.from_dict`: `version`, the asset key chosen
    /// by version, `inputs`, `outputs` and `metadata` must be present; `id` may be missing
    /// (null); a missing operation is hashed as CREATE. Whether the operation names a
    /// registered class does not matter here: the id is computed either way.
    fn cut(
        mut body: Object,
        operation: Result<Operation, OperationError>,
    ) -> Result<Self, Invalid> {
        let version = body.get("version").ok_or(Invalid::MissingKey("version"))?;
        // `get_asset_obj`: version 2.0 reads `asset`, falling back to `assets`, and stores
        // it under `asset`; every other version reads `assets`.
        if version.as_str() == Some("2.0") {
            if !body.contains_key("asset") {
                let assets = body
                    .get("assets")
                    .ok_or(Invalid::MissingKey("asset"))?
                    .clone();
                body.insert("asset", assets);
            }
            body.retain(|k| k != "assets");
        } else {
            if !body.contains_key("assets") {
                return Err(Invalid::MissingKey("assets"));
            }
            body.retain(|k| k != "asset");
        }
        for key in ["inputs", "outputs", "metadata"] {
            if !body.contains_key(key) {
                return Err(Invalid::MissingKey(key));
            }
        }
        let claimed_id = body.get("id").and_then(Value::as_str).map(str::to_owned);
        body.retain(|k| ID_KEYS.contains(&k));
        body.insert("id", Value::Null);
        if operation == Err(OperationError::Missing) {
            body.insert("operation", Value::Str(Operation::Create.as_str().into()));
        }
        Ok(LocalDict { body, claimed_id })
    }
}

/// The canonical form Planetmint signs: the whole body with `"id": null` and every input's
/// `fulfillment` null (`Transaction._remove_signatures`), keys inserted when absent as
/// Python's item assignment does.
fn write_signing_form(body: &Object, out: &mut Vec<u8>) {
    let null = Value::Null;
    canonical::write_object_with(body, "id", &null, out, &mut |key, value, out| {
        if key != "inputs" {
            return false;
        }
        let Value::Array(inputs) = value else {
            return false;
        };
        out.push(b'[');
        for (i, input) in inputs.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            match input {
                Value::Object(input) => canonical::write_object_with(
                    input,
                    "fulfillment",
                    &null,
                    out,
                    &mut |_, _, _| false,
                ),
                other => canonical::write(other, out),
            }
        }
        out.push(b']');
        true
    });
}

/// Builds the domain types from a `local_dict` that passed [`schema::check`] as `operation`
/// under `version`.
fn parse(
    local: &Object,
    id: TxId,
    operation: Operation,
    version: Version,
) -> Result<Transaction, Invalid> {
    let field = |key: &'static str| local.get(key).ok_or(Invalid::MissingKey(key));
    let inputs = array(field("inputs")?, "inputs")?
        .iter()
        .enumerate()
        .map(|(index, input)| parse_input(input, index))
        .collect::<Result<Vec<_>, _>>()?;
    let outputs = array(field("outputs")?, "outputs")?
        .iter()
        .enumerate()
        .map(|(index, output)| parse_output(output, index))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Transaction {
        id,
        version,
        operation,
        asset_ids: asset_ids(assets(local), id)?,
        inputs,
        outputs,
        // Script.validate() runs Zenroom code; we have no Zenroom VM.
        unverifiable: local
            .contains_key("script")
            .then_some("zenroom script not run"),
    })
}

/// The body's assets, under whichever key its version uses.
fn assets(local: &Object) -> &Value {
    local
        .get("asset")
        .or(local.get("assets"))
        .unwrap_or(&Value::Null)
}

/// Planetmint's stream rule (`eventify_block`, with its 2.0 bug fixed): each asset's `id`,
/// or the transaction's own id for an asset without one; no assets at all means the
/// transaction's own id.
fn asset_ids(assets: &Value, id: TxId) -> Result<Vec<String>, Invalid> {
    let one = |asset: &Value| match asset.get("id") {
        None => Ok(id.to_string()),
        Some(Value::Str(asset_id)) => Ok(asset_id.clone()),
        Some(_) => Err(Invalid::Shape("asset id is not a string")),
    };
    match assets {
        Value::Array(list) => list.iter().map(one).collect(),
        Value::Object(_) => Ok(vec![one(assets)?]),
        _ => Ok(vec![id.to_string()]),
    }
}

fn array<'a>(value: &'a Value, what: &'static str) -> Result<&'a [Value], Invalid> {
    value.as_array().ok_or(Invalid::Shape(what))
}

fn strings(value: &Value, what: &'static str) -> Result<Vec<String>, Invalid> {
    array(value, what)?
        .iter()
        .map(|v| v.as_str().map(str::to_owned).ok_or(Invalid::Shape(what)))
        .collect()
}

fn parse_input(input: &Value, index: usize) -> Result<Input, Invalid> {
    let get = |key| input.get(key).ok_or(Invalid::Shape("input"));
    let fulfillment = get("fulfillment")?
        .as_str()
        .ok_or(Invalid::Shape("input fulfillment"))?;
    let fulfillment = Fulfillment::from_uri(fulfillment)
        .map_err(|source| Invalid::Fulfillment { index, source })?;
    // TransactionLink.from_dict: a null link means "spends nothing".
    let fulfills = match get("fulfills")? {
        Value::Null => None,
        link => Some(OutputLink {
            transaction_id: link
                .get("transaction_id")
                .and_then(Value::as_str)
                .ok_or(Invalid::Shape("fulfills"))?
                .to_owned(),
            // The schema caps it at 2^64 - 1, which is beyond i64.
            output_index: match link.get("output_index") {
                Some(&Value::Int(n)) => u64::try_from(n).ok(),
                Some(Value::BigInt(text)) => text.parse().ok(),
                _ => None,
            }
            .ok_or(Invalid::Shape("fulfills"))?,
        }),
    };
    Ok(Input {
        owners_before: strings(get("owners_before")?, "owners_before")?,
        fulfills,
        fulfillment,
    })
}

fn parse_output(output: &Value, index: usize) -> Result<Output, Invalid> {
    let get = |key| output.get(key).ok_or(Invalid::Shape("output"));
    let amount = get("amount")?
        .as_str()
        .and_then(|a| a.parse().ok())
        .ok_or(Invalid::Shape("amount"))?;
    let condition = get("condition")?;
    // Output.from_dict: the condition comes from `details`; when they are missing, or a key
    // inside them is (a KeyError), only the URI is kept and nothing is parsed (a hashlock).
    let details = match condition.get("details").map(Details::parse) {
        None | Some(Err(ConditionError::MissingKey(_))) => {
            condition
                .get("uri")
                .ok_or(Invalid::Shape("condition uri"))?;
            None
        }
        Some(Err(source)) => return Err(Invalid::Condition { index, source }),
        Some(Ok(details)) => Some(details),
    };
    // Output.__init__ takes `None` for no public keys.
    let public_keys = match get("public_keys")? {
        Value::Null => Vec::new(),
        keys => strings(keys, "public_keys")?,
    };
    Ok(Output {
        public_keys,
        amount,
        details,
    })
}
