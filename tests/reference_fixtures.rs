//! Agreement with Planetmint's own Python library, on reference data it computed.
//!
//! The files under `fixtures/` are written by `tools/gen_fixtures.py`, which runs
//! planetmint-transactions 0.8.4 and planetmint-cryptoconditions 1.2.2; nothing in them comes
//! from this crate. Each test reads every line and reports every disagreement at once.

use std::path::Path;

use base64::Engine as _;
use serde_json::Value as Json;

use planetmint_stream::validate::condition::{Fulfillment, Verification};
use planetmint_stream::validate::json::{self, canonical};
use planetmint_stream::validate::validate;

fn lines(name: &str) -> Vec<Json> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    text.lines()
        .map(|l| serde_json::from_str(l).expect("fixture lines are JSON"))
        .collect()
}

fn b64(value: &Json) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(value.as_str().expect("base64 string"))
        .expect("fixture base64")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Fails listing every disagreement, so one run shows the whole picture.
fn assert_no_failures(file: &str, total: usize, failures: Vec<String>) {
    assert!(
        failures.is_empty(),
        "{} of {total} lines of {file} disagree with Planetmint:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn transactions_agree_with_planetmint() {
    let cases = lines("transactions.jsonl");
    assert!(cases.len() >= 150, "only {} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let name = case["name"].as_str().unwrap();
        let verdict = validate(&b64(&case["raw"]));
        let (valid, asset_ids, error) = match &verdict.result {
            Ok(tx) => (
                tx.unverifiable.is_none(),
                Some(tx.asset_ids.clone()),
                tx.unverifiable.map(str::to_owned),
            ),
            Err(invalid) => (false, None, Some(format!("{}: {invalid}", invalid.code()))),
        };
        let expected_ids: Option<Vec<String>> =
            serde_json::from_value(case["asset_ids"].clone()).unwrap();
        let got = serde_json::json!({
            "valid": valid,
            "transaction_id": verdict.transaction_id.map(|id| id.to_string()),
            "asset_ids": if valid { asset_ids.clone() } else { None },
            "asset_id": if valid { asset_ids.and_then(|a| a.first().cloned()) } else { None },
            "operation": verdict.tags.operation,
        });
        let want = serde_json::json!({
            "valid": case["valid"],
            "transaction_id": case["transaction_id"],
            "asset_ids": expected_ids,
            "asset_id": case["asset_id"],
            "operation": case["operation"],
        });
        if got != want {
            failures.push(format!(
                "{name}: python {want} ({}), ours {got} ({})",
                case["python_error"],
                error.unwrap_or_default()
            ));
        }
    }
    assert_no_failures("transactions.jsonl", cases.len(), failures);
}

#[test]
fn canonical_form_agrees_with_python_rapidjson() {
    let cases = lines("canonical.jsonl");
    assert!(cases.len() >= 100, "only {} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let name = case["name"].as_str().unwrap();
        let got = json::decode(&b64(&case["input"]))
            .map_err(|e| e.to_string())
            .and_then(|v| canonical::to_vec(&v).map_err(|e| e.to_string()));
        match (&got, case["canonical"].is_null()) {
            (Ok(bytes), false) => {
                let want = b64(&case["canonical"]);
                if *bytes != want {
                    failures.push(format!(
                        "{name}: python {:?}, ours {:?}",
                        String::from_utf8_lossy(&want),
                        String::from_utf8_lossy(bytes)
                    ));
                } else {
                    let sha = hex(planetmint_stream::validate::TxId::of(bytes).as_bytes());
                    if case["sha3"].as_str() != Some(sha.as_str()) {
                        failures.push(format!("{name}: sha3 differs"));
                    }
                }
            }
            (Err(_), true) => {}
            (Ok(bytes), true) => failures.push(format!(
                "{name}: python refuses ({}), ours {:?}",
                case["error"],
                String::from_utf8_lossy(bytes)
            )),
            (Err(e), false) => failures.push(format!("{name}: python accepts, ours {e}")),
        }
    }
    assert_no_failures("canonical.jsonl", cases.len(), failures);
}

#[test]
fn conditions_agree_with_planetmint_cryptoconditions() {
    let cases = lines("conditions.jsonl");
    assert!(cases.len() >= 50, "only {} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let name = case["name"].as_str().unwrap();
        let message: Vec<u8> = (0..case["message"].as_str().unwrap().len() / 2)
            .map(|i| {
                u8::from_str_radix(&case["message"].as_str().unwrap()[2 * i..2 * i + 2], 16)
                    .unwrap()
            })
            .collect();
        let parsed = Fulfillment::from_uri(case["fulfillment"].as_str().unwrap());
        match (&parsed, case["parse_error"].is_null()) {
            (Ok(f), true) => {
                // Python cannot compute some conditions (a threshold of nothing): then it
                // records no URI, and neither may we.
                let uri = f.condition().map(|c| c.uri()).ok();
                if case["condition_uri"].as_str() != uri.as_deref() {
                    failures.push(format!(
                        "{name}: uri python {}, ours {uri:?}",
                        case["condition_uri"]
                    ));
                }
                let valid = f.validate(&message) == Verification::Valid;
                if case["valid"].as_bool() != Some(valid) {
                    failures.push(format!(
                        "{name}: python valid={}, ours {valid}",
                        case["valid"]
                    ));
                }
            }
            (Err(_), false) => {}
            (Ok(_), false) => failures.push(format!(
                "{name}: python refuses ({}), ours parses",
                case["parse_error"]
            )),
            (Err(e), true) => failures.push(format!("{name}: python parses, ours {e}")),
        }
    }
    assert_no_failures("conditions.jsonl", cases.len(), failures);
}
