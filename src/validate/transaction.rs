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

use std::fmt;

use sha3::{Digest, Sha3_256};

use super::canonical;
use super::condition::{Condition, ConditionError, Details, Fulfillment, Verification};
use super::json::{self, DecodeError, Object, Value};
use super::schema::{self, SchemaError};

/// Deepest nesting a transaction may have. Planetmint deep-copies the body (Python's
/// `deepcopy` spends two stack frames a level against a recursion limit of 1000), so it
/// fails somewhere near 490 levels, depending on its own stack; 400 stays clear of that
/// boundary. The cost: a transaction between 400 and ~490 levels deep, which no client
/// library produces, is refused although Planetmint might accept it.
pub const MAX_TX_DEPTH: usize = 400;

/// A transaction id: SHA3-256 of a canonical form, shown as 64 lower-case hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TxId([u8; 32]);

impl TxId {
    /// SHA3-256 of `bytes`, the way Planetmint's `hash_data` computes ids.
    pub fn of(bytes: &[u8]) -> Self {
        TxId(Sha3_256::digest(bytes).into())
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl TxId {
    /// The 64 lower-case hex digits, without allocating.
    pub fn hex(&self) -> [u8; 64] {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut out = [0u8; 64];
        for (i, b) in self.0.iter().enumerate() {
            out[2 * i] = DIGITS[usize::from(b >> 4)];
            out[2 * i + 1] = DIGITS[usize::from(b & 0xF)];
        }
        out
    }
}

impl fmt::Display for TxId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(std::str::from_utf8(&self.hex()).expect("hex digits are ASCII"))
    }
}

impl fmt::Debug for TxId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TxId({self})")
    }
}

/// The seven operations planetmint-transactions registers a class for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    Create,
    Transfer,
    Compose,
    Decompose,
    ValidatorElection,
    ChainMigrationElection,
    Vote,
}

impl Operation {
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "CREATE" => Operation::Create,
            "TRANSFER" => Operation::Transfer,
            "COMPOSE" => Operation::Compose,
            "DECOMPOSE" => Operation::Decompose,
            "VALIDATOR_ELECTION" => Operation::ValidatorElection,
            "CHAIN_MIGRATION_ELECTION" => Operation::ChainMigrationElection,
            "VOTE" => Operation::Vote,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "CREATE",
            Operation::Transfer => "TRANSFER",
            Operation::Compose => "COMPOSE",
            Operation::Decompose => "DECOMPOSE",
            Operation::ValidatorElection => "VALIDATOR_ELECTION",
            Operation::ChainMigrationElection => "CHAIN_MIGRATION_ELECTION",
            Operation::Vote => "VOTE",
        }
    }
}

/// Transaction format version. Planetmint checks anything that is not `"3.0"` against the
/// 2.0 rules (whose schema then insists on `"2.0"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V2,
    V3,
}

/// The output an input spends.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OutputLink {
    pub transaction_id: String,
    pub output_index: u64,
}

#[derive(Debug)]
pub struct Input {
    pub owners_before: Vec<String>,
    pub fulfills: Option<OutputLink>,
    pub fulfillment: Fulfillment,
}

#[derive(Debug)]
pub struct Output {
    pub public_keys: Vec<String>,
    pub amount: u64,
    /// The condition details as Planetmint builds them; `None` for an output given by its
    /// condition URI alone (a hashlock), which Planetmint keeps unparsed.
    pub details: Option<Details>,
}

impl Output {
    /// The output's condition, computed on demand (validation never needs it); `None` for
    /// a hashlock or details that admit no condition (an unmeetable threshold).
    pub fn condition(&self) -> Option<Condition> {
        self.details.as_ref().and_then(|d| d.condition().ok())
    }
}

/// A transaction that passed every stateless check.
#[derive(Debug)]
pub struct Transaction {
    pub id: TxId,
    pub version: Version,
    pub operation: Operation,
    /// The asset ids Planetmint's stream reports, in order (see [`asset_ids`]).
    pub asset_ids: Vec<String>,
    pub inputs: Vec<Input>,
    pub outputs: Vec<Output>,
    /// Set when a part we cannot check ourselves passed everything else: a Zenroom `script`,
    /// whose code only the Zenroom VM can run (or a fulfillment type the condition module
    /// cannot verify, of which there is none today). Such a transaction is neither proven
    /// valid nor invalid.
    pub unverifiable: Option<&'static str>,
}

impl Transaction {
    /// The documented singular `asset_id`: the first of [`Transaction::asset_ids`].
    pub fn asset_id(&self) -> Option<&str> {
        self.asset_ids.first().map(String::as_str)
    }
}

/// Why a transaction is not valid. Codes are stable and short, for logs, counters and clients.
#[derive(Debug, thiserror::Error)]
pub enum Invalid {
    #[error("not a JSON document: {0}")]
    Json(#[from] DecodeError),
    #[error("not a JSON object")]
    NotObject,
    #[error("missing key {0:?}")]
    MissingKey(&'static str),
    #[error("unknown operation")]
    UnknownOperation,
    #[error("nested {0} levels deep, deeper than Planetmint can copy")]
    TooDeep(usize),
    #[error("a string holds a lone surrogate, which cannot be encoded")]
    Unencodable,
    #[error("id is not the hash of the body (computed {computed})")]
    IdMismatch { computed: TxId },
    #[error("{0}")]
    Schema(#[from] SchemaError),
    #[error("input {index}: {source}")]
    Fulfillment {
        index: usize,
        source: ConditionError,
    },
    #[error("output {index}: {source}")]
    Condition {
        index: usize,
        source: ConditionError,
    },
    #[error("unexpected shape: {0}")]
    Shape(&'static str),
    #[error("input {0}: fulfillment does not verify")]
    Signature(usize),
    #[error("input {0} spends an output another input already spends")]
    DoubleSpend(usize),
}

impl Invalid {
    /// A stable snake_case code naming the failed rule.
    pub fn code(&self) -> &'static str {
        match self {
            Invalid::Json(DecodeError::TooDeep) => "too_deep",
            Invalid::Json(_) => "json",
            Invalid::NotObject => "not_object",
            Invalid::MissingKey(_) => "missing_key",
            Invalid::UnknownOperation => "unknown_operation",
            Invalid::TooDeep(_) => "too_deep",
            Invalid::Unencodable => "unencodable",
            Invalid::IdMismatch { .. } => "id_mismatch",
            Invalid::Schema(e) => e.code(),
            Invalid::Fulfillment { source, .. } | Invalid::Condition { source, .. } => {
                source.code()
            }
            Invalid::Shape(_) => "shape",
            Invalid::Signature(_) => "signature",
            Invalid::DoubleSpend(_) => "double_spend",
        }
    }
}

/// What the core says about one raw transaction.
#[derive(Debug)]
pub struct Verdict {
    /// The id Planetmint computes for the body: present once the body is an object with
    /// every key of the id's form, valid or not.
    pub transaction_id: Option<TxId>,
    /// The body's `operation` when it is a string, valid or not.
    pub operation: Option<String>,
    pub result: Result<Transaction, Invalid>,
}

/// Validates one raw transaction.
pub fn validate(raw: &[u8]) -> Verdict {
    let mut verdict = Verdict {
        transaction_id: None,
        operation: None,
        result: Err(Invalid::NotObject),
    };
    verdict.result = check(raw, &mut verdict.transaction_id, &mut verdict.operation);
    verdict
}

fn check(
    raw: &[u8],
    id_out: &mut Option<TxId>,
    operation_out: &mut Option<String>,
) -> Result<Transaction, Invalid> {
    let document = json::decode_document(raw)?;
    let Value::Object(body) = document.value else {
        return Err(Invalid::NotObject);
    };
    *operation_out = body
        .get("operation")
        .and_then(Value::as_str)
        .map(str::to_owned);

    // The signed message covers the body as the client sent it, extra keys included, so it
    // is taken before `body` is cut down to Planetmint's `local_dict`. A lone surrogate
    // anywhere makes it unencodable, which fails the transaction once it gets that far.
    let mut buf = Vec::with_capacity(1024);
    let message = (!document.unencodable).then(|| {
        write_signing_form(&body, &mut buf);
        Sha3_256::new_with_prefix(&buf)
    });

    let local = LocalDict::cut(body)?;
    if document.unencodable && local.body.iter().any(|(_, v)| v.contains_unencodable()) {
        return Err(Invalid::Unencodable);
    }
    buf.clear();
    canonical::write_object(&local.body, &mut buf);
    let id = TxId::of(&buf);
    *id_out = Some(id);
    match local.operation {
        OperationKey::Known => {}
        OperationKey::Unknown => return Err(Invalid::UnknownOperation),
        // from_dict hashes with a default of CREATE, then its constructor reads
        // `tx["operation"]` and raises KeyError.
        OperationKey::Missing => return Err(Invalid::MissingKey("operation")),
    }
    if document.depth > MAX_TX_DEPTH {
        return Err(Invalid::TooDeep(document.depth));
    }
    if local.claimed_id.as_deref().map(str::as_bytes) != Some(&id.hex()[..]) {
        return Err(Invalid::IdMismatch { computed: id });
    }
    let local = local.body;
    schema::check(&local)?;
    let mut tx = parse(&local, id)?;
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
    operation: OperationKey,
}

/// What the body's `operation` is, as far as `from_dict` cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OperationKey {
    Known,
    Unknown,
    Missing,
}

impl LocalDict {
    /// Mirrors the first lines of `Transaction.from_dict`: `version`, the asset key chosen
    /// by version, `inputs`, `outputs` and `metadata` must be present; `id` may be missing
    /// (null); a missing operation is hashed as CREATE. Whether the operation names a
    /// registered class is only noted: the id is computed either way.
    fn cut(mut body: Object) -> Result<Self, Invalid> {
        let operation = match body.get("operation") {
            None => OperationKey::Missing,
            Some(Value::Str(name)) if Operation::parse(name).is_some() => OperationKey::Known,
            Some(_) => OperationKey::Unknown,
        };
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
        if operation == OperationKey::Missing {
            body.insert("operation", Value::Str("CREATE".into()));
        }
        Ok(LocalDict {
            body,
            claimed_id,
            operation,
        })
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

/// Builds the domain types from a `local_dict` that passed [`schema::check`].
fn parse(local: &Object, id: TxId) -> Result<Transaction, Invalid> {
    let field = |key: &'static str| local.get(key).ok_or(Invalid::MissingKey(key));
    let operation = field("operation")?
        .as_str()
        .and_then(Operation::parse)
        .ok_or(Invalid::UnknownOperation)?;
    let version = if field("version")?.as_str() == Some("3.0") {
        Version::V3
    } else {
        Version::V2
    };
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
    let assets = local
        .get("asset")
        .or(local.get("assets"))
        .unwrap_or(&Value::Null);
    Ok(Transaction {
        id,
        version,
        operation,
        asset_ids: asset_ids(assets, id)?,
        inputs,
        outputs,
        // Script.validate() runs Zenroom code; we have no Zenroom VM.
        unverifiable: local
            .contains_key("script")
            .then_some("zenroom script not run"),
    })
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
