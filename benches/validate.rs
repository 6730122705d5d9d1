//! `cargo bench --bench validate`: full validation of single-signature CREATE and TRANSFER
//! transactions against a bare ed25519 verification (public key, signature and message as
//! bytes, as libsodium's `crypto_sign_verify_detached` takes them) measured in the same run.
//!
//! The transactions are the valid single-signature CREATE and TRANSFER lines of
//! `fixtures/transactions.jsonl` (signed by planetmint-driver). The target is full validation
//! at no more than 1.5x the bare verification; the ratio is printed at the end.

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use base64::Engine as _;
use criterion::{Criterion, Throughput};
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};

use planetmint_stream::validate::{Operation, validate};

/// Loads the raw bytes of the fixture transactions this benchmark is about.
fn corpus(operation: Operation) -> Vec<Vec<u8>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/transactions.jsonl");
    let text = std::fs::read_to_string(path).expect("fixtures/transactions.jsonl");
    let txs: Vec<Vec<u8>> = text
        .lines()
        .map(|line| {
            let case: serde_json::Value = serde_json::from_str(line).expect("fixture JSON");
            base64::engine::general_purpose::STANDARD
                .decode(case["raw"].as_str().expect("raw"))
                .expect("fixture base64")
        })
        .filter(|raw| {
            validate(raw).result.is_ok_and(|tx| {
                tx.operation == operation
                    && tx.inputs.len() == 1
                    && tx.inputs[0]
                        .fulfillment
                        .condition()
                        .is_ok_and(|c| c.uri().contains("fpt=ed25519-sha-256"))
                    // Keep payloads typical: the 1 MiB metadata case measures hashing, not this.
                    && raw.len() < 4096
            })
        })
        .collect();
    assert!(
        !txs.is_empty(),
        "no {operation:?} transactions in the fixtures"
    );
    txs
}

fn benches(c: &mut Criterion) {
    let key = SigningKey::from_bytes(&[7; 32]);
    let message = [42u8; 32];
    let signature = key.sign(&message).to_bytes();
    let public_key = key.verifying_key().to_bytes();

    let mut group = c.benchmark_group("validate");
    group.throughput(Throughput::Elements(1));
    // A bare verification as a validator meets it: key, signature and message as bytes
    // (what libsodium's crypto_sign_verify_detached takes), so the key is decompressed.
    group.bench_function("ed25519_verify_strict", |b| {
        b.iter(|| {
            let key = VerifyingKey::from_bytes(black_box(&public_key)).expect("valid key");
            let signature = Signature::from_bytes(black_box(&signature));
            key.verify_strict(black_box(&message), &signature)
        })
    });
    for (name, operation) in [
        ("create", Operation::Create),
        ("transfer", Operation::Transfer),
    ] {
        let txs = corpus(operation);
        let mut next = txs.iter().cycle();
        group.bench_function(name, |b| {
            b.iter(|| validate(black_box(next.next().expect("cycle"))))
        });
    }
    group.finish();
}

/// Reads criterion's point estimates back to print the ratio the target is stated in.
fn report() {
    let mean = |name: &str| -> Option<f64> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("target/criterion/validate")
            .join(name)
            .join("new/estimates.json");
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
        json["mean"]["point_estimate"].as_f64()
    };
    let Some(verify) = mean("ed25519_verify_strict") else {
        return;
    };
    println!("\nper core: ed25519 verify_strict {:.0}/s", 1e9 / verify);
    for name in ["create", "transfer"] {
        if let Some(ns) = mean(name) {
            println!(
                "per core: validate {name} {:.0} tx/s, {:.2}x a bare verification",
                1e9 / ns,
                ns / verify
            );
        }
    }
}

fn main() {
    let mut criterion = Criterion::default()
        .measurement_time(Duration::from_secs(5))
        .configure_from_args();
    benches(&mut criterion);
    criterion.final_summary();
    report();
}
