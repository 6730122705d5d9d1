//! Load tool: latency and throughput of the stream from block in to last client, the memory
//! an idle connection costs, the fan-out of filtered subscriptions, and resuming from the
//! store.
//!
//! ```sh
//! cargo run --release --example load                      # the full matrix
//! cargo run --release --example load -- --clients 100 --txs 100 --blocks 20
//! cargo run --release --example load -- --filtered 10000 --txs 1000 --blocks 10
//! cargo run --release --example load -- --resume 10000 --txs 100
//! cargo run --release --example load -- --hostile slowhead,storm,pingflood
//! ```
//!
//! The server side is the real service minus the node: blocks of valid transactions (from
//! `fixtures/chains`) go into the validate stage's channel, are validated, published by the
//! hub and sent by the real WebSocket server. Every block is the same: the first `--txs`
//! transactions of the fixture pool, cycled. The clients run in a child process (this same
//! program, see `clients`), so the server's memory and CPU are its own.
//!
//! The matrix (no mode flag; `--clients`, `--txs` and `--blocks` narrow it): for each block
//! the child reports on a pipe when its last client has the block's last message; latency
//! is from handing the block to the pipeline to that report (validating, storing on disk
//! with fsync, publishing, sending). Blocks are sent one at a time for latency, then back to
//! back for throughput. Idle memory, measured first, is the server process's RSS growth
//! when 10,000 clients connect and stay silent, divided by 10,000.
//!
//! `--filtered N` (`--txs` defaults to 1,000): N subscribers on valid_transactions, each
//! with `?public_key=` a key of its own; see `filtered`. Latency is from handing the block
//! to the pipeline to the last matching subscriber having all its frames of it; a frame to
//! a subscriber whose key the block does not hold fails the run.
//!
//! `--resume B` (B defaults to 10,000, `--txs` to 100): the size of a store holding B
//! blocks, and how fast one client (in the child process) reads them back from
//! `?from_height=1`, with ids only and with bodies; see `resume`.
//!
//! `--hostile slowhead,storm,pingflood` (`--txs` defaults to 10): slow request heads, an
//! upgrade storm and a ping flood against the server, with the latency of 100 good
//! subscribers before and during each, the server's memory, descriptors and CPU; see
//! `hostile`.
//!
//! The mode flags may be combined; given any, the matrix is not run. Stops by itself: every
//! wait is bounded.

mod clients;
mod export;
mod filtered;
mod hostile;
mod matrix;
mod resume;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use planetmint_stream::chain::{Height, RawBlock, TxResult};
use planetmint_stream::export::ExportSettings;
use planetmint_stream::server::{ConnectionLimits, Listeners, ServerSettings};
use planetmint_stream::service;
use planetmint_stream::source::chain_file::{parse_block, parse_status};
use planetmint_stream::source::{BlockSource, SourceContext, SourceError, dialect};
use planetmint_stream::store::Store;
use planetmint_stream::validate::validate;

/// How long one block may take to reach every client before the run is declared stuck.
const BLOCK_DEADLINE: Duration = Duration::from_secs(60);
/// Blocks the live scenarios' stores keep: more than any of them sends, so none prunes
/// while it is measured.
const LIVE_HISTORY: u64 = 1_000;
/// `--resume` without a number: the service's default history.
const DEFAULT_RESUME_BLOCKS: usize = 10_000;
/// `--filtered` without a number: the subscriber count the service allows by default.
const DEFAULT_FILTERED: usize = 10_000;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if clients::is_child(&args) {
        clients::run(&args);
        return;
    }
    if hostile::is_attacker(&args) {
        hostile::attack(&args);
        return;
    }
    let numbers = |name: &str| flag(&args, name).filter(|values| !values.is_empty());
    let blocks = numbers("--blocks").map_or(10, |b| b[0]);
    let filtered = flag(&args, "--filtered").map(|n| n.first().copied());
    let resume = flag(&args, "--resume").map(|n| n.first().copied());
    let export_bench = flag(&args, "--export-bench").map(|n| n.first().copied());
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    // `--export`: every service of the matrix or `--filtered` exports to its own server.
    let _nats = args.iter().any(|a| a == "--export").then(|| {
        let nats = export::NatsServer::start();
        EXPORT_URL.set(nats.url.clone()).expect("set once");
        println!("(exporting to NATS JetStream at {})", nats.url);
        nats
    });
    if let Some(backlog) = export_bench {
        let pool = valid_transactions();
        println!("{}", export::HEADER);
        for t in numbers("--txs").unwrap_or_else(|| vec![100, 1_000]) {
            let backlog = backlog.unwrap_or(if t >= 1_000 { 1_000 } else { 10_000 }) as u64;
            runtime.block_on(export::scenario(&pool, t, backlog));
        }
        return;
    }
    let hostile = args.iter().position(|a| a == "--hostile").map(|at| {
        args.get(at + 1)
            .map_or("slowhead,storm,pingflood", String::as_str)
    });
    if filtered.is_none() && resume.is_none() && hostile.is_none() {
        let clients = numbers("--clients").unwrap_or_else(|| vec![1, 100, 1_000, 10_000]);
        let txs = numbers("--txs").unwrap_or_else(|| vec![100, 1_000]);
        runtime.block_on(matrix::run(&clients, &txs, blocks));
        return;
    }
    let pool = valid_transactions();
    if let Some(subscribers) = filtered {
        let subscribers = subscribers.unwrap_or(DEFAULT_FILTERED);
        println!("{}", filtered::HEADER);
        for t in numbers("--txs").unwrap_or_else(|| vec![1_000]) {
            runtime.block_on(filtered::scenario(&pool, subscribers, t, blocks));
        }
    }
    if let Some(modes) = hostile {
        let modes: Vec<String> = modes.split(',').map(str::to_owned).collect();
        let txs = numbers("--txs").map_or(10, |t| t[0]);
        runtime.block_on(hostile::run(&pool, &modes, txs));
    }
    if let Some(stored) = resume {
        let stored = stored.unwrap_or(DEFAULT_RESUME_BLOCKS);
        for t in numbers("--txs").unwrap_or_else(|| vec![100]) {
            runtime.block_on(resume::scenario(&pool, stored, t));
        }
    }
}

/// The numbers after `name` (a comma list): None without the flag, none when no value
/// follows it.
fn flag(args: &[String], name: &str) -> Option<Vec<usize>> {
    let at = args.iter().position(|a| a == name)?;
    let value = args.get(at + 1).filter(|v| !v.starts_with("--"));
    Some(value.map_or_else(Vec::new, |v| {
        v.split(',').map(|n| n.parse().expect("number")).collect()
    }))
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
            // The filtered mode counts keys with serde_json, which refuses the NaN one
            // fixture body carries (the service sends it as null).
            if result.code == 0
                && validate(&tx).result.is_ok_and(|t| t.unverifiable.is_none())
                && serde_json::from_slice::<serde_json::Value>(&tx).is_ok()
            {
                pool.push(tx);
            }
        }
    }
    pool
}

fn server_args(queue: usize) -> ServerSettings {
    let mut settings = ServerSettings {
        max_clients: 20_000,
        // Every client of the tool comes from loopback.
        connections: ConnectionLimits {
            max_clients_per_ip: 20_000,
            // The attackers of `--hostile` stand for many hosts, as the figures did before
            // the per-address share of the pending cap.
            max_pending_per_ip: planetmint_stream::server::DEFAULT_MAX_PENDING,
            ..ConnectionLimits::defaults()
        },
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
        // The export names its subjects after the chain.
        context.store.claim_chain("load")?;
        while let Some(block) = self.0.recv().await {
            if context.blocks.send(block).await.is_err() {
                break; // The pipeline is gone only at shutdown.
            }
        }
        Ok(())
    }
}

/// Where services export to, when `--export` is given.
static EXPORT_URL: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// The real service, fed by this tool.
struct Service {
    blocks: mpsc::Sender<RawBlock>,
    ws: std::net::SocketAddr,
    api: std::net::SocketAddr,
    shutdown: CancellationToken,
    store: Arc<Store>,
    /// The store's directory, removed with the service.
    data: tempfile::TempDir,
}

/// The service with a subscriber queue of `queue` blocks and a store keeping `history`,
/// exporting to `nats` (or, without it, to the `--export` server if there is one).
async fn start(queue: usize, history: u64, nats: Option<String>) -> Service {
    let settings = server_args(queue);
    let listeners = Listeners::bind(&settings).await.expect("bind");
    let ws = listeners.ws_addr().expect("address");
    let api = listeners.api_addr().expect("address");
    let shutdown = CancellationToken::new();
    // No more than the pipeline's own queue waits here.
    let (blocks, fed) = mpsc::channel(1);
    // A store on disk, as `serve` has: every block is committed (fsync) before it is sent.
    let data = tempfile::tempdir().expect("a temporary directory");
    let store = Arc::new(Store::open(data.path(), history).expect("store"));
    let export = nats
        .or_else(|| EXPORT_URL.get().cloned())
        .map(|url| ExportSettings {
            // The tool's backlogs must be held, not refused.
            max_behind: u64::MAX / 2,
            ..ExportSettings::new(url)
        });
    tokio::spawn(service::run(
        Fed(fed),
        store.clone(),
        settings,
        export,
        listeners,
        shutdown.clone(),
    ));
    Service {
        blocks,
        ws,
        api,
        shutdown,
        store,
        data,
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

/// This program as a child process run with `args` (see `clients`), and a reader of the
/// lines it reports.
fn spawn_child(args: &[&str]) -> (Child, mpsc::Receiver<String>) {
    let mut child = Command::new(std::env::current_exe().expect("own path"))
        .args(args)
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

/// Ends a child process this tool started.
fn stop(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
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

/// What [`measure`] found.
struct Figures {
    /// Per block sent alone, ascending.
    latencies: Vec<Duration>,
    /// Frames received per second while blocks were sent back to back.
    rate: f64,
}

impl Figures {
    /// `p50_ms  p99_ms  max_ms  msgs/s`, as the tables print them.
    fn row(&self) -> String {
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let pick =
            |q: f64| self.latencies[((self.latencies.len() - 1) as f64 * q).round() as usize];
        format!(
            "{:>6.1}  {:>6.1}  {:>6.1}  {:>10.0}",
            ms(pick(0.5)),
            ms(pick(0.99)),
            ms(*self.latencies.last().expect("blocks")),
            self.rate,
        )
    }
}

/// Sends `blocks` blocks one at a time, each after the clients reported the one before,
/// then as many back to back; the clients receive `frames` frames of each in all.
async fn measure(
    pool: &[Vec<u8>],
    service: &Service,
    lines: &mut mpsc::Receiver<String>,
    frames: usize,
    txs: usize,
    blocks: usize,
) -> Result<Figures, String> {
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
    let rate = (blocks * frames) as f64 / started.elapsed().as_secs_f64();
    latencies.sort();
    Ok(Figures { latencies, rate })
}
