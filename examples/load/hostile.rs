//! `--hostile slowhead,storm,pingflood`: what hostile clients cost the server, and what
//! they do to 100 well-behaved subscribers.
//!
//! In: the modes, `--txs` (default 10) and the fixture pool. Out: per mode, the good
//! subscribers' block latency (p50, p99, max) before and during the attack, the server's
//! peak RSS and open descriptors during it, and what the server counted; for `pingflood`,
//! the server's CPU per flooding connection (its CPU during the flood, less what the blocks
//! cost at the baseline's rate, over the connections it closed).
//!
//! The server is this process (the real service with the tool's limits: the per-address
//! limit is raised, since the attackers share the good clients' address, as a botnet's
//! would not; everything else is the default); the good subscribers are one
//! child (see `clients`), the attackers another (this file's [`attack`]):
//!
//! - `slowhead`: 10,000 connections, each sending a request line and `Host`, then one
//!   header byte every 10 s (the attack);
//! - `storm`: 10,000 WebSocket upgrades at once, each closed once upgraded;
//! - `pingflood`: 100 subscribers each sending pings as fast as it can until closed, then
//!   reconnecting to flood again, for the whole window.
//!
//! Latency is measured as the matrix does: a block is handed to the pipeline, and timed
//! until the last good subscriber has its last frame; then the next block.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use futures_util::{SinkExt as _, StreamExt as _};
use tokio::io::AsyncWriteExt as _;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use planetmint_stream::server::TRANSACTIONS_PATH;

use crate::clients::SUBSCRIBERS;
use crate::{LIVE_HISTORY, Service, block, expect_line, spawn_child, start, stop};

/// The first argument of a child that attacks.
pub const ATTACKER: &str = "--attack";
/// Well-behaved subscribers measured.
const GOOD: usize = 100;
/// Connections of the slow-head and storm attacks.
const ATTEMPTS: usize = 10_000;
/// Subscribers of the ping flood.
const FLOODERS: usize = 100;
/// The default queue: a good subscriber is never near it.
const QUEUE: usize = 16;
/// Blocks timed before the attack, for comparison.
const BASELINE_BLOCKS: u64 = 100;
/// How long blocks are timed during an attack: past the 10 s head deadline, so the
/// slow heads' sockets are seen closed and replaced.
const ATTACK_WINDOW: Duration = Duration::from_secs(15);

pub async fn run(pool: &[Vec<u8>], modes: &[String], txs: usize) {
    println!("attack     phase     blocks  p50_ms  p99_ms  max_ms  peak_rss_MiB  peak_fds");
    for mode in modes {
        scenario(pool, mode, txs).await;
    }
}

async fn scenario(pool: &[Vec<u8>], mode: &str, txs: usize) {
    let service = start(QUEUE, LIVE_HISTORY, None).await;
    let ws = service.ws.to_string();
    let (good, mut lines) = spawn_child(&[SUBSCRIBERS, &ws, &GOOD.to_string(), &txs.to_string()]);
    if let Err(why) = expect_line(&mut lines, "connected").await {
        println!("{mode}: good subscribers not connected: {why}");
        stop(good);
        return;
    }
    let mut height = 0;
    let baseline = timed_blocks(
        pool,
        &service,
        &mut lines,
        &mut height,
        txs,
        Until::Blocks(BASELINE_BLOCKS),
    )
    .await;
    print_row(mode, "before", &baseline, Peak::now());
    let cpu_before = cpu_ticks();
    let started = Instant::now();
    let (attacker, mut said) = spawn_child(&[ATTACKER, mode, &ws]);
    let during = timed_blocks(
        pool,
        &service,
        &mut lines,
        &mut height,
        txs,
        Until::Window(ATTACK_WINDOW, &mut said),
    )
    .await;
    print_row(mode, "during", &during, during.peak);
    let counters = counted(service.api).await;
    if mode == "pingflood" {
        let cpu = cpu_ticks().saturating_sub(cpu_before) as f64 / ticks_per_second();
        let blocks_cpu = baseline.cpu_per_block * during.latencies.len() as f64;
        let closed = counter(&counters, "message_rate_closed_total").max(1);
        println!(
            "pingflood: {closed} flooding connections closed in {:.1} s; server CPU {cpu:.2} s, \
             of which the blocks' (at the baseline's cost per block) {blocks_cpu:.2} s: \
             {:.3} ms per flooding connection",
            started.elapsed().as_secs_f64(),
            (cpu - blocks_cpu).max(0.0) * 1e3 / closed as f64,
        );
    }
    println!("{mode}: {counters}");
    for line in during.said {
        println!("{mode}: attacker: {line}");
    }
    stop(attacker);
    stop(good);
    service.shutdown.cancel();
}

enum Until<'a> {
    Blocks(u64),
    /// This long, while reading the attacker's reports.
    Window(Duration, &'a mut mpsc::Receiver<String>),
}

/// Latencies of blocks sent one at a time, and what was seen meanwhile.
struct Timed {
    latencies: Vec<Duration>,
    peak: Peak,
    cpu_per_block: f64,
    said: Vec<String>,
}

async fn timed_blocks(
    pool: &[Vec<u8>],
    service: &Service,
    lines: &mut mpsc::Receiver<String>,
    height: &mut u64,
    txs: usize,
    mut until: Until<'_>,
) -> Timed {
    let started = Instant::now();
    let cpu = cpu_ticks();
    let mut timed = Timed {
        latencies: Vec::new(),
        peak: Peak::now(),
        cpu_per_block: 0.0,
        said: Vec::new(),
    };
    loop {
        match &mut until {
            Until::Blocks(n) if timed.latencies.len() as u64 >= *n => break,
            Until::Window(window, _) if started.elapsed() >= *window => break,
            _ => {}
        }
        if let Until::Window(_, said) = &mut until {
            while let Ok(line) = said.try_recv() {
                timed.said.push(line);
            }
        }
        *height += 1;
        let sent = Instant::now();
        service
            .blocks
            .send(block(pool, *height, txs))
            .await
            .expect("pipeline");
        if let Err(why) = expect_line(lines, &format!("done {height}")).await {
            timed.said.push(format!("good subscribers stopped: {why}"));
            break;
        }
        timed.latencies.push(sent.elapsed());
        timed.peak = timed.peak.max(Peak::now());
    }
    let blocks = timed.latencies.len().max(1) as f64;
    timed.cpu_per_block = cpu_ticks().saturating_sub(cpu) as f64 / ticks_per_second() / blocks;
    timed.latencies.sort();
    timed
}

fn print_row(mode: &str, phase: &str, timed: &Timed, peak: Peak) {
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let pick = |q: f64| {
        let n = timed.latencies.len();
        if n == 0 {
            return f64::NAN;
        }
        ms(timed.latencies[((n - 1) as f64 * q).round() as usize])
    };
    println!(
        "{mode:<10} {phase:<8} {:>7}  {:>6.1}  {:>6.1}  {:>6.1}  {:>12.1}  {:>8}",
        timed.latencies.len(),
        pick(0.5),
        pick(0.99),
        pick(1.0),
        peak.rss_kib as f64 / 1024.0,
        peak.fds,
    );
}

/// The server's (this process's) resident memory and open descriptors.
#[derive(Debug, Clone, Copy)]
struct Peak {
    rss_kib: u64,
    fds: usize,
}

impl Peak {
    fn now() -> Peak {
        let rss_kib = std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                let line = s.lines().find(|l| l.starts_with("VmRSS:"))?.to_owned();
                line.split_whitespace().nth(1)?.parse().ok()
            })
            .unwrap_or(0);
        let fds = std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count());
        Peak { rss_kib, fds }
    }

    fn max(self, other: Peak) -> Peak {
        Peak {
            rss_kib: self.rss_kib.max(other.rss_kib),
            fds: self.fds.max(other.fds),
        }
    }
}

/// User and system CPU of this process, in clock ticks (`/proc/self/stat` fields 14, 15).
fn cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The command name may hold spaces: fields are counted after its closing parenthesis.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or(vec![], |(_, rest)| rest.split_whitespace().collect());
    let field = |n: usize| {
        fields
            .get(n - 3)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    field(14) + field(15)
}

/// Linux's USER_HZ, which `/proc` counts CPU time in.
fn ticks_per_second() -> f64 {
    100.0
}

/// The server's counters of hostile clients, from its `/metrics`.
async fn counted(api: SocketAddr) -> String {
    let Ok(response) = reqwest::get(format!("http://{api}/metrics")).await else {
        return "metrics unavailable".into();
    };
    let text = response.text().await.unwrap_or_default();
    text.lines()
        .filter(|l| {
            !l.starts_with('#')
                && [
                    "request_head_timeouts",
                    "refused_pending",
                    "message_rate_closed",
                    "byte_rate_closed",
                    "refused_per_address",
                    "pending_connections",
                ]
                .iter()
                .any(|name| l.contains(name))
        })
        .map(|l| l.trim_start_matches("planetmint_stream_"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The value of `name` in [`counted`]'s line.
fn counter(counted: &str, name: &str) -> u64 {
    counted
        .split(", ")
        .find_map(|pair| pair.strip_prefix(name)?.trim().parse().ok())
        .unwrap_or(0)
}

/// True when this program was started as the attacking child.
pub fn is_attacker(args: &[String]) -> bool {
    args.first().map(String::as_str) == Some(ATTACKER)
}

/// The attacking child: `--attack MODE ADDR`; reports `attacking …` once under way and
/// `over …` when the attack has nothing left to do.
pub fn attack(args: &[String]) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let addr: SocketAddr = args[2].parse().expect("address");
    runtime.block_on(async {
        match args[1].as_str() {
            "slowhead" => slow_heads(addr).await,
            "storm" => storm(addr).await,
            "pingflood" => ping_flood(addr).await,
            other => panic!("unknown attack {other:?}: slowhead, storm or pingflood"),
        }
    });
}

fn report(line: &str) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

async fn slow_heads(addr: SocketAddr) {
    let (closed_tx, mut closed) = mpsc::unbounded_channel::<()>();
    let mut failed = 0;
    for _ in 0..ATTEMPTS {
        let Ok(mut tcp) = TcpStream::connect(addr).await else {
            failed += 1;
            continue;
        };
        let closed_tx = closed_tx.clone();
        tokio::spawn(async move {
            let head = format!("GET {TRANSACTIONS_PATH} HTTP/1.1\r\nHost: {addr}\r\n");
            let mut ok = tcp.write_all(head.as_bytes()).await.is_ok();
            while ok {
                tokio::time::sleep(Duration::from_secs(10)).await;
                ok = tcp.write_all(b"X").await.is_ok();
            }
            let _ = closed_tx.send(());
        });
    }
    report(&format!(
        "attacking: {ATTEMPTS} slow heads attempted, {failed} not connected"
    ));
    drop(closed_tx);
    let mut seen = 0;
    while tokio::time::timeout(Duration::from_secs(30), closed.recv())
        .await
        .is_ok_and(|c| c.is_some())
    {
        seen += 1;
    }
    report(&format!("over: {seen} slow heads seen closed"));
}

async fn storm(addr: SocketAddr) {
    let url = format!("ws://{addr}{TRANSACTIONS_PATH}");
    let started = Instant::now();
    let attempts = (0..ATTEMPTS).map(|_| {
        let url = url.clone();
        tokio::spawn(async move {
            match tokio_tungstenite::connect_async(url).await {
                Ok((mut socket, _)) => {
                    let _ = socket.close(None).await;
                    true
                }
                Err(_) => false,
            }
        })
    });
    let results = futures_util::future::join_all(attempts).await;
    let upgraded = results.iter().filter(|r| matches!(r, Ok(true))).count();
    report(&format!(
        "over: {ATTEMPTS} upgrades attempted in {:.2} s, {upgraded} upgraded, {} refused or closed",
        started.elapsed().as_secs_f64(),
        ATTEMPTS - upgraded
    ));
}

async fn ping_flood(addr: SocketAddr) {
    let url = format!("ws://{addr}{TRANSACTIONS_PATH}");
    report(&format!(
        "attacking: {FLOODERS} flooders, each reconnecting when closed"
    ));
    let floods = (0..FLOODERS).map(|_| {
        let url = url.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = tokio_tungstenite::connect_async(&url).await {
                flood_until_closed(socket).await;
            }
        })
    });
    futures_util::future::join_all(floods).await;
    report("over: the flooders could not connect any more");
}

/// Sends pings as fast as the connection takes them until the server closes it.
async fn flood_until_closed(socket: WebSocketStream<MaybeTlsStream<TcpStream>>) {
    let (mut write, mut read) = socket.split();
    let pinging = async { while write.send(Message::Ping(Default::default())).await.is_ok() {} };
    let closed = async {
        while let Some(Ok(message)) = read.next().await {
            if message.is_close() {
                return;
            }
        }
    };
    tokio::select! {
        () = pinging => {}
        () = closed => {}
    }
}
