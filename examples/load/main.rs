//! Load tool: latency and throughput of the stream from block in to last client, and the
//! memory an idle connection costs.
//!
//! ```sh
//! cargo run --release --example load                      # the full matrix
//! cargo run --release --example load -- --clients 100 --txs 100 --blocks 20
//! ```
//!
//! The server side is the real service minus the node: blocks of valid transactions (from
//! `fixtures/chains`) go into the validate stage's channel, are validated, published by the
//! hub and sent by the real WebSocket server. The clients run in a child process (this same
//! program with `--clients-only`), so the server's memory and CPU are its own. For each
//! block the child reports on a pipe when its last client has the block's last message;
//! latency is from handing the block to the pipeline to that report (validating, storing
//! on disk with fsync, publishing, sending). Blocks are sent one at a time for latency,
//! then back to back for throughput. Idle memory, measured first,
//! is the server process's RSS growth when 10,000 clients connect and stay silent, divided
//! by 10,000.
//!
//! Stops by itself: every wait is bounded.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use planetmint_stream::chain::{Height, RawBlock, TxResult};
use planetmint_stream::server::{Listeners, ServerSettings};
use planetmint_stream::service;
use planetmint_stream::source::chain_file::{parse_block, parse_status};
use planetmint_stream::source::{BlockSource, SourceContext, SourceError, dialect};
use planetmint_stream::store::Store;
use planetmint_stream::validate::validate;

/// How long one block may take to reach every client before the run is declared stuck.
const BLOCK_DEADLINE: Duration = Duration::from_secs(60);
/// Clients connecting at once: the listener's accept backlog is 1024.
const CONNECT_BATCH: usize = 500;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--clients-only") {
        let addr = args[1].clone();
        let clients: usize = args[2].parse().expect("client count");
        let per_block: usize = args[3].parse().expect("transactions per block");
        tokio::runtime::Runtime::new()
            .expect("runtime")
            .block_on(run_clients(addr, clients, per_block));
        return;
    }
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .map(|v| {
                v.split(',')
                    .map(|n| n.parse().expect("number"))
                    .collect::<Vec<usize>>()
            })
    };
    let clients = flag("--clients").unwrap_or_else(|| vec![1, 100, 1_000, 10_000]);
    let txs = flag("--txs").unwrap_or_else(|| vec![100, 1_000]);
    let blocks = flag("--blocks").map_or(10, |b| b[0]);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    // First, while this process has served nothing: memory freed by a loaded run would be
    // reused by the connections and hide their cost.
    runtime.block_on(idle_memory(10_000));
    let pool = valid_transactions();
    println!("clients  txs/block  p50_ms  p99_ms  max_ms  msgs/s (back to back)");
    for &t in &txs {
        for &c in &clients {
            runtime.block_on(scenario(&pool, c, t, blocks));
        }
    }
}

/// Valid transactions of the fixture chains, to fill synthetic blocks with.
fn valid_transactions() -> Vec<Vec<u8>> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/chains/cometbft-0.38.chain.jsonl");
    let text = std::fs::read_to_string(path).expect("fixture chain");
    let mut lines = text.lines();
    let status = parse_status(lines.next().expect("status line")).expect("status");
    let dialect = dialect(None, &status.node_info.version.to_string()).expect("dialect");
    let mut pool = Vec::new();
    for (i, line) in lines.enumerate() {
        let block = parse_block(line, i + 2, dialect).expect("block line");
        for (tx, result) in block.txs.into_iter().zip(block.results) {
            if result.code == 0 && validate(&tx).result.is_ok_and(|t| t.unverifiable.is_none()) {
                pool.push(tx);
            }
        }
    }
    pool
}

fn server_args(queue: usize) -> ServerSettings {
    let mut settings = ServerSettings {
        max_clients: 20_000,
        subscriber_queue_blocks: queue,
        ..ServerSettings::loopback()
    };
    settings.session.idle_timeout = Duration::from_secs(300);
    settings
}

/// The blocks this tool makes, as a block source of the real service.
struct Fed(mpsc::Receiver<RawBlock>);

impl BlockSource for Fed {
    async fn run(mut self, context: SourceContext) -> Result<(), SourceError> {
        while let Some(block) = self.0.recv().await {
            if context.blocks.send(block).await.is_err() {
                break; // The pipeline is gone only at shutdown.
            }
        }
        Ok(())
    }
}

/// The real service, fed by this tool.
struct Service {
    blocks: mpsc::Sender<RawBlock>,
    ws: std::net::SocketAddr,
    shutdown: CancellationToken,
    /// The store's directory, removed with the service.
    _data: tempfile::TempDir,
}

async fn start(queue: usize) -> Service {
    let settings = server_args(queue);
    let listeners = Listeners::bind(&settings).await.expect("bind");
    let ws = listeners.ws_addr().expect("address");
    let shutdown = CancellationToken::new();
    // No more than the pipeline's own queue waits here.
    let (blocks, fed) = mpsc::channel(1);
    // A store on disk, as `serve` has: every block is committed (fsync) before it is sent.
    let data = tempfile::tempdir().expect("a temporary directory");
    let store = Arc::new(Store::open(data.path(), 1_000).expect("store"));
    tokio::spawn(service::run(
        Fed(fed),
        store,
        settings,
        listeners,
        shutdown.clone(),
    ));
    Service {
        blocks,
        ws,
        shutdown,
        _data: data,
    }
}

fn block(pool: &[Vec<u8>], height: u64, txs: usize) -> RawBlock {
    RawBlock {
        height: Height::new(height).expect("positive"),
        txs: pool.iter().cycle().take(txs).cloned().collect(),
        results: vec![TxResult::accepted(); txs],
        previous_app_hash: String::new(),
        app_hash: None,
        received: None,
    }
}

/// The child process with `clients` clients, and a reader of its "done" lines.
fn spawn_clients(
    ws: std::net::SocketAddr,
    clients: usize,
    per_block: usize,
) -> (std::process::Child, mpsc::Receiver<String>) {
    let mut child = Command::new(std::env::current_exe().expect("own path"))
        .args([
            "--clients-only",
            &ws.to_string(),
            &clients.to_string(),
            &per_block.to_string(),
        ])
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn clients");
    let stdout = child.stdout.take().expect("piped");
    let (tx, rx) = mpsc::channel(1024);
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.blocking_send(line).is_err() {
                break;
            }
        }
    });
    (child, rx)
}

/// Waits for the clients' next report, which must be `want`.
async fn expect_line(lines: &mut mpsc::Receiver<String>, want: &str) -> Result<(), String> {
    match tokio::time::timeout(BLOCK_DEADLINE, lines.recv()).await {
        Ok(Some(line)) if line == want => Ok(()),
        Ok(Some(line)) => Err(format!("clients said {line:?}, expected {want:?}")),
        Ok(None) => Err("the client process ended".into()),
        Err(_) => Err(format!("no {want:?} within {BLOCK_DEADLINE:?}")),
    }
}

async fn scenario(pool: &[Vec<u8>], clients: usize, txs: usize, blocks: usize) {
    let service = start(2 * blocks + 16).await;
    let (mut child, mut lines) = spawn_clients(service.ws, clients, txs);
    if let Err(why) = measure(pool, &service, &mut lines, clients, txs, blocks).await {
        // One machine runs both sides: past some size the clients, not the server, give
        // out (a client that cannot take a block within 10 s is closed as slow).
        println!("{clients:>7}  {txs:>9}  not measured: {why}");
    }
    let _ = child.kill();
    let _ = child.wait();
    service.shutdown.cancel();
}

async fn measure(
    pool: &[Vec<u8>],
    service: &Service,
    lines: &mut mpsc::Receiver<String>,
    clients: usize,
    txs: usize,
    blocks: usize,
) -> Result<(), String> {
    expect_line(lines, "connected").await?;
    let mut latencies = Vec::new();
    for height in 1..=blocks as u64 {
        let started = Instant::now();
        service
            .blocks
            .send(block(pool, height, txs))
            .await
            .expect("pipeline");
        expect_line(lines, &format!("done {height}")).await?;
        latencies.push(started.elapsed());
    }
    let started = Instant::now();
    let first = blocks as u64 + 1;
    let last = 2 * blocks as u64;
    for height in first..=last {
        service
            .blocks
            .send(block(pool, height, txs))
            .await
            .expect("pipeline");
    }
    for height in first..=last {
        expect_line(lines, &format!("done {height}")).await?;
    }
    let rate = (blocks * txs * clients) as f64 / started.elapsed().as_secs_f64();
    latencies.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let pick = |q: f64| latencies[((latencies.len() - 1) as f64 * q).round() as usize];
    println!(
        "{clients:>7}  {txs:>9}  {:>6.1}  {:>6.1}  {:>6.1}  {rate:>10.0}",
        ms(pick(0.5)),
        ms(pick(0.99)),
        ms(*latencies.last().expect("blocks")),
    );
    Ok(())
}

/// Runs in the child: connects the clients, then reports each block all of them have.
async fn run_clients(addr: String, clients: usize, per_block: usize) {
    let url = format!("ws://{addr}/api/v1/streams/valid_transactions");
    let remaining: Arc<Mutex<HashMap<u64, usize>>> = Arc::default();
    let mut sockets = Vec::with_capacity(clients);
    for batch in (0..clients).collect::<Vec<_>>().chunks(CONNECT_BATCH) {
        let connecting = batch
            .iter()
            .map(|_| tokio_tungstenite::connect_async(url.clone()));
        for result in futures_util::future::join_all(connecting).await {
            sockets.push(result.expect("connect").0);
        }
    }
    println!("connected");
    std::io::stdout().flush().expect("stdout");
    let mut tasks = Vec::new();
    for mut socket in sockets {
        let remaining = remaining.clone();
        tasks.push(tokio::spawn(async move {
            let mut counts: HashMap<u64, usize> = HashMap::new();
            while let Some(Ok(message)) = socket.next().await {
                let Ok(text) = message.to_text() else {
                    continue;
                };
                let Some(height) = height_of(text) else {
                    continue;
                };
                let count = counts.entry(height).or_default();
                *count += 1;
                if *count == per_block {
                    counts.remove(&height);
                    let mut remaining = remaining.lock().expect("lock");
                    let left = remaining.entry(height).or_insert(clients);
                    *left -= 1;
                    if *left == 0 {
                        remaining.remove(&height);
                        println!("done {height}");
                        std::io::stdout().flush().expect("stdout");
                    }
                }
            }
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
}

/// The `height` of a transaction message, which ends `,"height":N}`.
fn height_of(text: &str) -> Option<u64> {
    let start = text.rfind("\"height\":")? + "\"height\":".len();
    text[start..].trim_end_matches('}').parse().ok()
}

/// The server's RSS growth per idle connection.
async fn idle_memory(clients: usize) {
    let service = start(16).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let before = rss_kib();
    let (mut child, mut lines) = spawn_clients(service.ws, clients, 1);
    expect_line(&mut lines, "connected")
        .await
        .expect("idle clients connect");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = rss_kib();
    println!(
        "idle: {clients} connections, server RSS {before} KiB -> {after} KiB, {:.1} KiB per connection",
        (after.saturating_sub(before)) as f64 / clients as f64
    );
    let _ = child.kill();
    let _ = child.wait();
    service.shutdown.cancel();
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}
