//! What filtered streams, bodies and refusals must carry, from the reference files alone:
//! `<chain>.valid_transactions`, `.valid_blocks`, `.bodies` and `.refused_transactions`
//! (`tools/gen_chains.py`: Planetmint's library decoded every body and judged every
//! transaction, never our code). A [`Query`] is matched here by its plain definition over
//! the decoded bodies (the README's filter table), independently of the service's index.

use serde_json::Value;

use super::expected::expected_lines;

/// A chain's reference streams, decoded.
pub struct Reference {
    /// `valid_transactions` messages, in order, each with the body Planetmint decoded.
    pub published: Vec<(Value, Value)>,
    /// The same messages as the reference file spells them, byte for byte.
    pub published_lines: Vec<String>,
    pub blocks: Vec<Value>,
    /// `refused_transactions` lines: the message fields, plus `transaction` (the body, or
    /// null) and no `message`.
    pub refused: Vec<Value>,
}

fn json_lines(chain: &str, stream: &str) -> Vec<Value> {
    expected_lines(chain, stream)
        .iter()
        .map(|line| serde_json::from_str(line).expect("reference lines are JSON"))
        .collect()
}

impl Reference {
    pub fn of(chain: &str) -> Reference {
        let messages = json_lines(chain, "valid_transactions");
        let bodies = json_lines(chain, "bodies");
        assert_eq!(
            messages.len(),
            bodies.len(),
            "{chain}: one body per message"
        );
        let published = messages
            .into_iter()
            .zip(bodies)
            .map(|(message, body)| {
                assert_eq!(message["transaction_id"], body["transaction_id"]);
                (message, body["transaction"].clone())
            })
            .collect();
        Reference {
            published,
            published_lines: expected_lines(chain, "valid_transactions"),
            blocks: json_lines(chain, "valid_blocks"),
            refused: json_lines(chain, "refused_transactions"),
        }
    }

    /// The `valid_transactions` frames `query` selects.
    pub fn transactions(&self, query: &Query) -> Vec<Value> {
        self.selected(query)
            .map(|i| self.published[i].0.clone())
            .collect()
    }

    /// The same frames as text, byte for byte.
    pub fn transaction_lines(&self, query: &Query) -> Vec<String> {
        self.selected(query)
            .map(|i| self.published_lines[i].clone())
            .collect()
    }

    fn selected<'a>(&'a self, query: &'a Query) -> impl Iterator<Item = usize> + 'a {
        (0..self.published.len()).filter(move |&i| {
            let (message, body) = &self.published[i];
            query.matches(body, &message["transaction_id"], &message["asset_ids"])
        })
    }

    /// The `valid_blocks` frames under `query`: every block, listing the matching ids.
    pub fn blocks(&self, query: &Query) -> Vec<Value> {
        let matching: Vec<Value> = self
            .transactions(query)
            .into_iter()
            .map(|m| m["transaction_id"].clone())
            .collect();
        self.blocks
            .iter()
            .map(|block| {
                let mut block = block.clone();
                let ids = block["transaction_ids"].as_array_mut().expect("ids");
                ids.retain(|id| matching.contains(id));
                block
            })
            .collect()
    }

    /// The `refused_transactions` lines `query` selects (with `transaction`).
    pub fn refusals(&self, query: &Query) -> Vec<Value> {
        self.refused
            .iter()
            .filter(|line| {
                query.is_everything()
                    || (line["transaction"].is_object()
                        && query.matches(
                            &line["transaction"],
                            &line["transaction_id"],
                            &asset_ids(line),
                        ))
            })
            .cloned()
            .collect()
    }
}

/// Planetmint's stream rule for asset ids, over a refused body: each asset's `id`, or the
/// transaction's own id (fact sheet §4).
fn asset_ids(line: &Value) -> Value {
    let id = &line["transaction_id"];
    let body = &line["transaction"];
    let one = |asset: &Value| asset.get("id").cloned().unwrap_or_else(|| id.clone());
    match (body.get("assets"), body.get("asset")) {
        (Some(Value::Array(assets)), _) if body["version"] != "2.0" => {
            assets.iter().map(one).collect()
        }
        (_, Some(asset @ Value::Object(_))) => Value::Array(vec![one(asset)]),
        _ => Value::Array(vec![id.clone()]),
    }
}

/// A subscriber's filter, as the README defines it: OR within a key, AND across keys.
#[derive(Debug, Clone, Default)]
pub struct Query {
    pub public_key: Vec<String>,
    pub owner_before: Vec<String>,
    pub asset_id: Vec<String>,
    pub operation: Vec<String>,
    pub transaction_id: Vec<String>,
}

impl Query {
    pub fn is_everything(&self) -> bool {
        self.keys().iter().all(|(_, values)| values.is_empty())
    }

    fn keys(&self) -> [(&'static str, &[String]); 5] {
        [
            ("public_key", &self.public_key),
            ("owner_before", &self.owner_before),
            ("asset_id", &self.asset_id),
            ("operation", &self.operation),
            ("transaction_id", &self.transaction_id),
        ]
    }

    /// The query string, each key's values as a comma list.
    pub fn to_query(&self) -> String {
        self.keys()
            .iter()
            .filter(|(_, values)| !values.is_empty())
            .map(|(key, values)| format!("{key}={}", values.join(",")))
            .collect::<Vec<_>>()
            .join("&")
    }

    /// Whether the transaction `body`, whose id Planetmint computes as `id`, matches.
    fn matches(&self, body: &Value, id: &Value, asset_ids: &Value) -> bool {
        let text = |v: &Value| v.as_str().map(str::to_owned).into_iter().collect();
        let any = |wanted: &[String], have: Vec<String>| {
            wanted.is_empty() || wanted.iter().any(|w| have.contains(w))
        };
        let ids = asset_ids
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect();
        let upper: Vec<String> = self.operation.iter().map(|o| o.to_uppercase()).collect();
        let lower: Vec<String> = self
            .transaction_id
            .iter()
            .map(|t| t.to_lowercase())
            .collect();
        any(&self.public_key, keys(&body["outputs"], "public_keys"))
            && any(&self.owner_before, keys(&body["inputs"], "owners_before"))
            && any(&self.asset_id, ids)
            && any(&upper, text(&body["operation"]))
            && any(&lower, text(id))
    }
}

/// The strings of `items[*][key][*]`: every output's `public_keys`, every input's
/// `owners_before`.
pub fn keys(items: &Value, key: &str) -> Vec<String> {
    items
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|item| item[key].as_array())
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect()
}

/// The refusal frames as the reference gives them: without the body, and `message` (whose
/// wording is ours) only checked for presence by the caller.
pub fn without_body_and_message(line: &Value) -> Value {
    let mut line = line.clone();
    let object = line.as_object_mut().expect("an object");
    object.remove("transaction");
    object.remove("message");
    line
}
