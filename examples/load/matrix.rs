//! The default run: idle memory per connection, then latency and back-to-back throughput
//! for every pair of client count and block size.
//!
//! In: the client counts, block sizes and block count of the command line. Out: the idle
//! line and one table row per pair on standard output.

use std::time::Duration;

use crate::{LIVE_HISTORY, measure, spawn_child, start, stop, valid_transactions};

/// Connections the idle measurement opens: the service's default client limit.
const IDLE_CLIENTS: usize = 10_000;

pub async fn run(clients: &[usize], txs: &[usize], blocks: usize) {
    // First, while this process has served nothing: memory freed by a loaded run would be
    // reused by the connections and hide their cost.
    idle_memory(IDLE_CLIENTS).await;
    let pool = valid_transactions();
    println!("clients  txs/block  p50_ms  p99_ms  max_ms  msgs/s (back to back)");
    for &t in txs {
        for &c in clients {
            scenario(&pool, c, t, blocks).await;
        }
    }
}

async fn scenario(pool: &[Vec<u8>], clients: usize, txs: usize, blocks: usize) {
    let service = start(2 * blocks + 16, LIVE_HISTORY, None).await;
    let (child, mut lines) = spawn_clients(service.ws, clients, txs);
    match measure(pool, &service, &mut lines, clients * txs, txs, blocks).await {
        Ok(figures) => println!("{clients:>7}  {txs:>9}  {}", figures.row()),
        // One machine runs both sides: past some size the clients, not the server, give
        // out (a client that cannot take a block within 10 s is closed as slow).
        Err(why) => println!("{clients:>7}  {txs:>9}  not measured: {why}"),
    }
    stop(child);
    service.shutdown.cancel();
}

/// The child process with `clients` unfiltered clients, each expecting `per_block` frames
/// a block.
fn spawn_clients(
    ws: std::net::SocketAddr,
    clients: usize,
    per_block: usize,
) -> (std::process::Child, tokio::sync::mpsc::Receiver<String>) {
    spawn_child(&[
        crate::clients::SUBSCRIBERS,
        &ws.to_string(),
        &clients.to_string(),
        &per_block.to_string(),
    ])
}

/// The server's RSS growth per idle connection.
async fn idle_memory(clients: usize) {
    let service = start(16, LIVE_HISTORY, None).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let before = rss_kib();
    let (child, mut lines) = spawn_clients(service.ws, clients, 1);
    crate::expect_line(&mut lines, "connected")
        .await
        .expect("idle clients connect");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = rss_kib();
    println!(
        "idle: {clients} connections, server RSS {before} KiB -> {after} KiB, {:.1} KiB per connection",
        (after.saturating_sub(before)) as f64 / clients as f64
    );
    stop(child);
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
