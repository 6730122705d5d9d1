//! `--filtered N`: the fan-out of N subscribers each following one public key.
//!
//! In: the fixture pool, N, the block size and count. Out: one table row: how many
//! subscribers matched, the frames they get per block, latency (block handed to the
//! pipeline to the last matching frame) and back-to-back throughput.
//!
//! Every block is the same first `txs` transactions of the cycled pool, so the frames each
//! output key gets per block are counted once, here, from the bodies (with serde_json, not
//! the service's own extraction, so the two are checked against each other): a transaction
//! counts once for a key however many of its outputs name it. Subscribers 0..k follow the k
//! distinct keys of the block; the rest follow keys no transaction holds, and must receive
//! nothing (the child reports any frame they get, which fails the run).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use planetmint_stream::filter::{QueryLimits, parse};
use planetmint_stream::wire::StreamKind;

use crate::clients::{SUBSCRIBERS, Subscriber, write_plan};
use crate::{LIVE_HISTORY, measure, spawn_child, start, stop};

pub const HEADER: &str = "filtered  subscribers  matched  txs/block  frames/block  p50_ms  p99_ms  max_ms  msgs/s (back to back)";

/// How long the clients are listened to after the last block: a frame to a subscriber that
/// should get none arrives with the block's other frames, well within this.
const SETTLE: Duration = Duration::from_millis(500);

/// The first 24 bytes of every non-matching key: a 44-character base58 key (a first byte of
/// 16 or more makes 32 bytes need all 44 digits), which no fixture wallet holds.
const UNUSED_KEY_PREFIX: [u8; 24] = [0xEE; 24];

pub async fn scenario(pool: &[Vec<u8>], subscribers: usize, txs: usize, blocks: usize) {
    let plan = plan(&frames_per_key(pool, txs), subscribers);
    let matched = plan.iter().filter(|s| s.per_block > 0).count();
    let frames: usize = plan.iter().map(|s| s.per_block).sum();
    let row = format!("filtered  {subscribers:>11}  {matched:>7}  {txs:>9}  {frames:>12}");
    let file = write_plan(&plan);
    let service = start(2 * blocks + 16, LIVE_HISTORY, None).await;
    let path = file.path().to_str().expect("a UTF-8 temporary path");
    let (child, mut lines) = spawn_child(&[SUBSCRIBERS, &service.ws.to_string(), "--plan", path]);
    let measured = async {
        let figures = measure(pool, &service, &mut lines, frames, txs, blocks).await?;
        match tokio::time::timeout(SETTLE, lines.recv()).await {
            Err(_) => Ok(figures),
            Ok(Some(line)) => Err(format!("clients said {line:?} after the last block")),
            Ok(None) => Err("the client process ended".into()),
        }
    };
    match measured.await {
        Ok(figures) => println!("{row}  {}", figures.row()),
        Err(why) => println!("{row}  not measured: {why}"),
    }
    stop(child);
    service.shutdown.cancel();
}

/// For each output public key of a block of the first `txs` transactions of the cycled
/// pool, the number of those transactions naming it.
fn frames_per_key(pool: &[Vec<u8>], txs: usize) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for raw in pool.iter().cycle().take(txs) {
        let body: serde_json::Value = serde_json::from_slice(raw).expect("a pool body is JSON");
        let keys: BTreeSet<&str> = body["outputs"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|output| output["public_keys"].as_array().into_iter().flatten())
            .filter_map(serde_json::Value::as_str)
            .collect();
        for key in keys {
            *counts.entry(key.to_owned()).or_default() += 1;
        }
    }
    counts
}

/// `subscribers` clients: one per key of `counts` (as many as fit), then followers of
/// unused keys.
fn plan(counts: &BTreeMap<String, usize>, subscribers: usize) -> Vec<Subscriber> {
    let matching = counts.iter().map(|(key, &n)| (key.clone(), n));
    let unused = (0u64..).map(|i| {
        let key = unused_key(i);
        assert!(!counts.contains_key(&key), "{key} is a pool key");
        (key, 0)
    });
    matching
        .chain(unused)
        .take(subscribers)
        .map(|(key, per_block)| {
            let query = format!("public_key={key}");
            // The service's check of a key is Planetmint's `valid_ed25519`.
            let checked = parse(
                StreamKind::Transactions,
                Some(&query),
                &QueryLimits::default(),
            );
            assert!(checked.is_ok(), "{key} is no key Planetmint takes");
            Subscriber { per_block, query }
        })
        .collect()
}

/// The `i`th key that matches nothing.
fn unused_key(i: u64) -> String {
    let mut bytes = [0; 32];
    bytes[..24].copy_from_slice(&UNUSED_KEY_PREFIX);
    bytes[24..].copy_from_slice(&i.to_be_bytes());
    let key = bs58::encode(bytes).into_string();
    debug_assert_eq!(key.len(), 44);
    key
}
