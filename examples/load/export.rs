//! `--export`: the NATS JetStream export, against a real `nats-server` (Debian's package)
//! this tool starts on a free loopback port with a temporary store, and stops by its pid.
//!
//! With the matrix or `--filtered`, `--export` turns the export on in every service they
//! start, so their figures compare with the export off. `--export-bench` measures the export
//! itself, for each `--txs` size: the added latency from a block's store commit to the ack
//! of its last message (p50/p99 over blocks sent one at a time), then the catch-up of a
//! backlog stored while NATS was down: blocks/s and messages/s from NATS starting to the
//! whole backlog acknowledged.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use planetmint_stream::chain::Height;
use planetmint_stream::store::Store;

use crate::{BLOCK_DEADLINE, Service, block, start};

/// How often the store's cursor and export position are read while measuring.
const POLL: Duration = Duration::from_micros(200);
/// Blocks sent one at a time for the latency figures.
const LATENCY_BLOCKS: u64 = 30;

/// A `nats-server` with JetStream, killed when dropped.
pub struct NatsServer {
    child: Option<Child>,
    port: u16,
    pub url: String,
    dir: tempfile::TempDir,
}

impl NatsServer {
    /// Starts one on a free loopback port, waiting until it accepts.
    pub fn start() -> NatsServer {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let mut server = NatsServer {
            child: None,
            port,
            url: format!("nats://127.0.0.1:{port}"),
            dir: tempfile::tempdir().expect("a temporary directory"),
        };
        server.resume();
        server
    }

    /// Kills the server; its store stays.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on its port and store, waiting until it accepts.
    pub fn resume(&mut self) {
        let child = Command::new("nats-server")
            .args(["-js", "-sd"])
            .arg(self.dir.path())
            .args(["-a", "127.0.0.1", "-p", &self.port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server (Debian package nats-server) on PATH");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "nats-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.stop();
    }
}

pub const HEADER: &str =
    "export  txs/block  commit->ack p50_ms  p99_ms  backlog_blocks  catch-up blocks/s  msgs/s";

pub async fn scenario(pool: &[Vec<u8>], txs: usize, backlog: u64) {
    match measure(pool, txs, backlog).await {
        Ok(row) => println!("export  {txs:>9}  {row}"),
        Err(why) => println!("export  {txs:>9}  not measured: {why}"),
    }
}

async fn measure(pool: &[Vec<u8>], txs: usize, backlog: u64) -> Result<String, String> {
    let mut nats = NatsServer::start();
    let service = start(16, backlog + LATENCY_BLOCKS, Some(nats.url.clone())).await;
    let mut latencies = Vec::new();
    for height in 1..=LATENCY_BLOCKS {
        send(&service, pool, height, txs).await?;
        let committed = until(&service.store, height, |s| s.last_height()).await?;
        let acked = until(&service.store, height, Store::exported).await?;
        latencies.push(acked - committed);
    }
    latencies.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let pick = |q: f64| latencies[((latencies.len() - 1) as f64 * q).round() as usize];
    // The backlog: NATS down while the blocks are stored, then back with its store.
    nats.stop();
    let first = LATENCY_BLOCKS + 1;
    let last = LATENCY_BLOCKS + backlog;
    for height in first..=last {
        send(&service, pool, height, txs).await?;
    }
    until(&service.store, last, |s| s.last_height()).await?;
    nats.resume();
    // The exporter comes back at its next reconnect attempt (its backoff grew while NATS was
    // down); the rate is counted from its first block after that.
    let back = until(&service.store, first, Store::exported).await?;
    until_within(&service.store, last, Store::exported, BLOCK_DEADLINE * 10).await?;
    let took = (until(&service.store, last, Store::exported).await? - back).as_secs_f64();
    service.shutdown.cancel();
    let blocks = (backlog - 1) as f64;
    Ok(format!(
        "{:>18.1}  {:>6.1}  {backlog:>14}  {:>17.0}  {:>7.0}",
        ms(pick(0.5)),
        ms(pick(0.99)),
        blocks / took,
        blocks * (txs as f64 + 1.0) / took,
    ))
}

async fn send(service: &Service, pool: &[Vec<u8>], height: u64, txs: usize) -> Result<(), String> {
    tokio::time::timeout(
        BLOCK_DEADLINE,
        service.blocks.send(block(pool, height, txs)),
    )
    .await
    .map_err(|_| format!("block {height} not taken in time"))?
    .map_err(|_| "the pipeline closed".to_owned())
}

/// When `read` of the store first reaches `height`.
async fn until(
    store: &Store,
    height: u64,
    read: impl Fn(&Store) -> Option<Height>,
) -> Result<Duration, String> {
    until_within(store, height, read, BLOCK_DEADLINE).await
}

async fn until_within(
    store: &Store,
    height: u64,
    read: impl Fn(&Store) -> Option<Height>,
    within: Duration,
) -> Result<Duration, String> {
    static EPOCH: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    let epoch = *EPOCH.get_or_init(Instant::now);
    let deadline = Instant::now() + within;
    while read(store).is_none_or(|h| h.get() < height) {
        if Instant::now() > deadline {
            return Err(format!("height {height} not reached within {within:?}"));
        }
        tokio::time::sleep(POLL).await;
    }
    Ok(epoch.elapsed())
}
