//! `--resume B`: what B stored blocks weigh on disk, and how fast a client reads them back.
//!
//! In: the fixture pool, B and the block size. Out: the store file's size (MiB, and per
//! 10,000 blocks), then one row per query: frames, messages/s and MiB/s (frame text, not
//! WebSocket framing) of one client that resumes with `?from_height=1`, once with ids only
//! and once with `&transaction=full`, and reads to height B's last transaction.
//!
//! The store (history B) is filled back to back through the pipeline with no subscriber;
//! it is full when its cursor reaches B. The reader runs in the child process, like every
//! client of this tool, and times itself from its connect request to its last frame.

use std::sync::Arc;
use std::time::{Duration, Instant};

use planetmint_stream::store::{FILE_NAME, Store};

use crate::clients::RESUME_READER;
use crate::{BLOCK_DEADLINE, Service, block, spawn_child, start, stop};

/// Resume queries measured, each from the first height.
const QUERIES: [&str; 2] = ["from_height=1", "from_height=1&transaction=full"];
/// Slowest resume worth waiting for, in frames per second: a reader of `n` frames is given
/// `BLOCK_DEADLINE` plus `n` / this before it counts as stuck.
const SLOWEST_RESUME_RATE: f64 = 1_000.0;
/// How often the store's cursor is read while it fills.
const POLL: Duration = Duration::from_millis(20);
const MIB: f64 = 1024.0 * 1024.0;
/// No subscriber is live while the store fills: the default queue.
const QUEUE: usize = 16;

pub async fn scenario(pool: &[Vec<u8>], blocks: usize, txs: usize) {
    let service = start(QUEUE, blocks as u64, None).await;
    if let Err(why) = measure(pool, &service, blocks, txs).await {
        println!("resume: {blocks} blocks of {txs} transactions not measured: {why}");
    }
    service.shutdown.cancel();
}

async fn measure(
    pool: &[Vec<u8>],
    service: &Service,
    blocks: usize,
    txs: usize,
) -> Result<(), String> {
    let started = Instant::now();
    for height in 1..=blocks as u64 {
        tokio::time::timeout(
            BLOCK_DEADLINE,
            service.blocks.send(block(pool, height, txs)),
        )
        .await
        .map_err(|_| format!("block {height} not taken within {BLOCK_DEADLINE:?}"))?
        .map_err(|_| "the pipeline closed".to_owned())?;
    }
    stored(&service.store, blocks as u64).await?;
    let filled = started.elapsed().as_secs_f64();
    let path = service.data.path().join(FILE_NAME);
    let size = std::fs::metadata(&path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .len() as f64
        / MIB;
    println!(
        "resume: {blocks} blocks of {txs} transactions stored in {filled:.1} s; \
         {FILE_NAME} {size:.1} MiB, {:.1} MiB per 10,000 blocks",
        size * 10_000.0 / blocks as f64
    );
    println!("resume  query                           frames    msgs/s   MiB/s");
    for query in QUERIES {
        match read(service, query, blocks * txs, blocks as u64).await {
            Ok(figures) => println!("resume  {query:<30}  {figures}"),
            Err(why) => println!("resume  {query:<30}  not measured: {why}"),
        }
    }
    Ok(())
}

/// Waits until the store's cursor is at `last`, as long as it keeps moving.
async fn stored(store: &Arc<Store>, last: u64) -> Result<(), String> {
    let height = || store.last_height().map_or(0, |h| h.get());
    let (mut seen, mut moved) = (height(), Instant::now());
    while seen < last {
        if moved.elapsed() > BLOCK_DEADLINE {
            return Err(format!(
                "the store stayed at height {seen} for {BLOCK_DEADLINE:?}"
            ));
        }
        tokio::time::sleep(POLL).await;
        let now = height();
        if now != seen {
            (seen, moved) = (now, Instant::now());
        }
    }
    Ok(())
}

/// One reader of `total` frames with `query`, whose last frame must be of height `last`:
/// `frames  msgs/s  MiB/s`.
async fn read(service: &Service, query: &str, total: usize, last: u64) -> Result<String, String> {
    let addr = service.ws.to_string();
    let (child, mut lines) = spawn_child(&[RESUME_READER, &addr, query, &total.to_string()]);
    let deadline = BLOCK_DEADLINE + Duration::from_secs_f64(total as f64 / SLOWEST_RESUME_RATE);
    let line = tokio::time::timeout(deadline, lines.recv()).await;
    stop(child);
    let line = match line {
        Ok(Some(line)) => line,
        Ok(None) => return Err("the client process ended".into()),
        Err(_) => return Err(format!("no report within {deadline:?}")),
    };
    let numbers: Vec<f64> = line
        .strip_prefix("read ")
        .map(|rest| rest.split(' ').filter_map(|n| n.parse().ok()).collect())
        .unwrap_or_default();
    let [frames, bytes, nanos, height] = numbers[..] else {
        return Err(format!("the reader said {line:?}"));
    };
    if height != last as f64 {
        return Err(format!("the last frame was of height {height}, not {last}"));
    }
    let seconds = nanos / 1e9;
    Ok(format!(
        "{frames:>7}  {:>8.0}  {:>6.1}",
        frames / seconds,
        bytes / MIB / seconds
    ))
}
