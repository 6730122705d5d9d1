//! Backfill speed and time to live, against the test CometBFT node.
//!
//! `cargo bench --bench backfill [-- --blocks N --txs T]`
//!
//! A chain of N blocks of T transactions each (default 2,000 × 100) is made from the
//! accepted transactions of the recorded CometBFT 0.38 chain (`fixtures/chains`), 20 distinct
//! blocks cycled with their heights rewritten, and served by the test node with every block
//! already produced. Measured, each over a fresh on-disk store:
//!
//! 1. start to live from height 1: the service backfills all N blocks over HTTP (fetching,
//!    validating every transaction, storing with fsync, publishing), then subscribes;
//!    blocks/s is N over the time until the last block is stored;
//! 2. the same over empty blocks: what fetching, storing and publishing cost without
//!    validation;
//! 3. validation alone of the same blocks, in the same process (the stage's bound);
//! 4. restart to live: the service stopped at N/2 and started again on its store, the node
//!    at N (time to continue, catch up and subscribe); and once more with nothing to catch
//!    up.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio_util::sync::CancellationToken;

use planetmint_stream::chain::Height;
use planetmint_stream::parallel::available_threads;
use planetmint_stream::server::{Listeners, ServerSettings};
use planetmint_stream::service;
use planetmint_stream::source::chain_file::{parse_block, parse_status};
use planetmint_stream::source::dialect;
use planetmint_stream::source::node::{Endpoint, Follow, NodeSettings};
use planetmint_stream::store::Store;
use planetmint_stream::validate::judge::judge;
use planetmint_stream::validate::taint::{Overlay, Taint};
use planetmint_test_node::TestNode;

/// Distinct blocks in a generated chain file (cycled up to the asked height).
const DISTINCT: usize = 20;

fn option(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map_or(default, |v| v.parse().expect("a number"))
}

/// Writes a chain file of `DISTINCT` blocks of `txs` accepted transactions each, made from
/// the recorded chain: its status line, and block 1's replies as the template (heights 1..).
fn write_chain(path: &Path, txs: usize) {
    let source = planetmint_test_node::chain_path("cometbft-0.38");
    let text = std::fs::read_to_string(source).expect("the recorded chain");
    let mut lines = text.lines();
    let status = lines.next().expect("status line");
    let recorded: Vec<Value> = lines
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    let mut pool: Vec<(Value, Value)> = Vec::new();
    for line in &recorded {
        let block_txs = line["block"]["result"]["block"]["data"]["txs"]
            .as_array()
            .expect("txs");
        let results = line["block_results"]["result"]["txs_results"].as_array();
        for (i, tx) in block_txs.iter().enumerate() {
            let result = &results.expect("results")[i];
            if result["code"].as_u64() == Some(0) {
                pool.push((tx.clone(), result.clone()));
            }
        }
    }
    let mut out = format!("{status}\n");
    let template = &recorded[0];
    let mut next = pool.iter().cycle();
    for height in 1..=DISTINCT {
        let mut line = template.clone();
        let (block_txs, results): (Vec<Value>, Vec<Value>) =
            (0..txs).map(|_| next.next().expect("pool").clone()).unzip();
        line["height"] = height.into();
        let block = &mut line["block"]["result"]["block"];
        block["header"]["height"] = height.to_string().into();
        block["last_commit"]["height"] = (height - 1).to_string().into();
        block["data"]["txs"] = block_txs.into();
        line["block_results"]["result"]["height"] = height.to_string().into();
        line["block_results"]["result"]["txs_results"] = results.into();
        out.push_str(&line.to_string());
        out.push('\n');
    }
    std::fs::write(path, out).expect("writing the chain");
}

struct Run {
    stored: Duration,
    live: Duration,
}

/// Starts the service on `store` following `node` from `start`, and times how long until
/// `last` is stored and the service is subscribed.
async fn follow(node: &TestNode, store: Arc<Store>, start: Option<Height>, last: u64) -> Run {
    let args = ServerSettings::loopback();
    let listeners = Listeners::bind(&args).await.expect("bind");
    let settings = NodeSettings {
        endpoints: vec![Endpoint::parse(&node.addr().to_string())],
        dialect: None,
    };
    let shutdown = CancellationToken::new();
    let subscribed_before = node.subscriptions().total;
    let began = Instant::now();
    let service = tokio::spawn(service::run(
        Follow { settings, start },
        store.clone(),
        args,
        None,
        listeners,
        shutdown.clone(),
    ));
    let mut stored = None;
    let mut live = None;
    while stored.is_none() || live.is_none() {
        if stored.is_none() && store.last_height().is_some_and(|h| h.get() >= last) {
            stored = Some(began.elapsed());
        }
        if live.is_none() && node.subscriptions().total > subscribed_before {
            live = Some(began.elapsed());
        }
        assert!(began.elapsed() < Duration::from_secs(600), "no progress");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    shutdown.cancel();
    service.await.expect("service task").expect("service");
    Run {
        stored: stored.expect("stored"),
        live: live.expect("live"),
    }
}

/// Opens the store at `path` once the stopped service's tasks have let go of it.
async fn reopen(path: &Path) -> Store {
    let began = Instant::now();
    loop {
        match Store::open(path, 100_000) {
            Ok(store) => return store,
            Err(e) if began.elapsed() > Duration::from_secs(10) => panic!("reopening: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
}

fn main() {
    let blocks = option("--blocks", 2_000);
    let txs = option("--txs", 100) as usize;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let scratch = tempfile::tempdir().expect("scratch directory");
    let dir = scratch.path();
    runtime.block_on(async {
        for (what, per_block) in [("transactions", txs), ("empty", 0)] {
            let chain = dir.join(format!("{what}.chain.jsonl"));
            write_chain(&chain, per_block);
            let node = TestNode::start_file(&chain, Some(blocks)).await;
            node.produce_until(blocks);
            let store = Arc::new(Store::open(&dir.join(format!("{what}.store")), 100_000).expect("store"));
            let run = follow(&node, store, Height::new(1), blocks).await;
            println!(
                "backfill {blocks} blocks of {per_block} txs from height 1: {:.0} blocks/s ({:.0} tx/s), stored in {:.2?}, live after {:.2?}",
                blocks as f64 / run.stored.as_secs_f64(),
                (blocks as usize * per_block) as f64 / run.stored.as_secs_f64(),
                run.stored,
                run.live,
            );
            if per_block == 0 {
                continue;
            }

            // Validation alone, the same blocks, as the validate stage runs it.
            let text = std::fs::read_to_string(&chain).expect("chain");
            let mut lines = text.lines();
            let status = parse_status(lines.next().expect("status")).expect("status");
            let dialect = dialect(None, &status.node_info.version.to_string()).expect("dialect");
            let raws: Vec<_> = lines
                .enumerate()
                .map(|(i, l)| parse_block(l, i + 2, dialect).expect("block"))
                .collect();
            let threads = available_threads();
            let began = Instant::now();
            let mut judged = 0;
            while began.elapsed() < Duration::from_secs(5) {
                for raw in &raws {
                    std::hint::black_box(judge(raw, threads, &mut Overlay::new(&Taint::default())));
                    judged += 1;
                }
            }
            println!(
                "validation alone, {threads} threads: {:.0} blocks/s of {per_block} txs",
                judged as f64 / began.elapsed().as_secs_f64()
            );

            // Restart to live: stopped half way, the node ahead.
            let half = blocks / 2;
            let restart_node = TestNode::start_file(&chain, Some(blocks)).await;
            restart_node.produce_until(half);
            let path = dir.join("restart.store");
            let store = Arc::new(Store::open(&path, 100_000).expect("store"));
            follow(&restart_node, store.clone(), Height::new(1), half).await;
            drop(store);
            restart_node.produce_until(blocks);
            let store = Arc::new(reopen(&path).await);
            let run = follow(&restart_node, store.clone(), None, blocks).await;
            println!(
                "restart with {} blocks to catch up: live after {:.2?}, caught up after {:.2?}",
                blocks - half,
                run.live,
                run.stored
            );
            drop(store);
            let store = Arc::new(reopen(&path).await);
            let run = follow(&restart_node, store, None, blocks).await;
            println!("restart with nothing to catch up: live after {:.2?}", run.live);
        }
    });
}
