//! The child process's side: WebSocket clients of the service under test, each on
//! valid_transactions, reporting on standard output, one line per event, what the parent
//! times.
//!
//! In: the arguments the parent starts this program with:
//!
//! - `--clients-only ADDR N PER_BLOCK`: N unfiltered clients, each expecting PER_BLOCK
//!   frames a block;
//! - `--clients-only ADDR --plan FILE`: one client per line of FILE, `PER_BLOCK QUERY`
//!   (written by [`write_plan`]); a client expecting 0 frames must receive none;
//! - `--resume-reader ADDR QUERY TOTAL`: one client reading TOTAL frames.
//!
//! Out: `connected` once every client is; `done H` when every client expecting frames has
//! all of height H's; `unexpected …` when a client gets a frame beyond its count; the
//! reader's `read FRAMES BYTES NANOS LAST_HEIGHT`, or `stalled …` / `ended …`.

use std::collections::HashMap;
use std::io::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures_util::StreamExt as _;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use planetmint_stream::server::TRANSACTIONS_PATH;

use crate::BLOCK_DEADLINE;

/// The first argument of a child that runs subscribers.
pub const SUBSCRIBERS: &str = "--clients-only";
/// The first argument of a child that resumes from the store.
pub const RESUME_READER: &str = "--resume-reader";
/// Clients connecting at once: the listener's accept backlog is 1024.
const CONNECT_BATCH: usize = 500;

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// One client of a plan: its query string and the frames it expects of every block.
#[derive(Debug, Clone)]
pub struct Subscriber {
    pub per_block: usize,
    /// Without the `?`; empty for none.
    pub query: String,
}

/// True when this program was started as a child.
pub fn is_child(args: &[String]) -> bool {
    matches!(
        args.first().map(String::as_str),
        Some(SUBSCRIBERS | RESUME_READER)
    )
}

/// Runs the child `args` ask for, until the parent ends it (or, a reader, until it is done).
pub fn run(args: &[String]) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let addr = &args[1];
    if args[0] == RESUME_READER {
        let total = args[3].parse().expect("frame count");
        runtime.block_on(resume_reader(addr, &args[2], total));
        return;
    }
    let plan = if args[2] == "--plan" {
        read_plan(&args[3])
    } else {
        let clients = args[2].parse().expect("client count");
        let per_block = args[3].parse().expect("frames per block");
        let unfiltered = Subscriber {
            per_block,
            query: String::new(),
        };
        vec![unfiltered; clients]
    };
    runtime.block_on(subscribers(addr, plan));
}

/// `plan` in a temporary file, for `--plan`.
pub fn write_plan(plan: &[Subscriber]) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().expect("a temporary file");
    for subscriber in plan {
        writeln!(file, "{} {}", subscriber.per_block, subscriber.query).expect("write the plan");
    }
    file.flush().expect("write the plan");
    file
}

fn read_plan(path: &str) -> Vec<Subscriber> {
    let text = std::fs::read_to_string(path).expect("the plan");
    text.lines()
        .map(|line| {
            let (count, query) = line.split_once(' ').expect("`PER_BLOCK QUERY`");
            Subscriber {
                per_block: count.parse().expect("frames per block"),
                query: query.to_owned(),
            }
        })
        .collect()
}

/// One line to the parent, at once.
fn report(line: &str) {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}").expect("stdout");
    out.flush().expect("stdout");
}

fn url(addr: &str, query: &str) -> String {
    let separator = if query.is_empty() { "" } else { "?" };
    format!("ws://{addr}{TRANSACTIONS_PATH}{separator}{query}")
}

/// Connects the plan's clients, then reports each block all of those expecting frames have.
async fn subscribers(addr: &str, plan: Vec<Subscriber>) {
    let matching = plan.iter().filter(|s| s.per_block > 0).count();
    let remaining: Arc<Mutex<HashMap<u64, usize>>> = Arc::default();
    let mut sockets = Vec::with_capacity(plan.len());
    for batch in plan.chunks(CONNECT_BATCH) {
        let connecting = batch
            .iter()
            .map(|s| tokio_tungstenite::connect_async(url(addr, &s.query)));
        for result in futures_util::future::join_all(connecting).await {
            sockets.push(result.expect("connect").0);
        }
    }
    report("connected");
    let tasks: Vec<_> = sockets
        .into_iter()
        .zip(plan)
        .map(|(socket, subscriber)| {
            tokio::spawn(follow(socket, subscriber, remaining.clone(), matching))
        })
        .collect();
    for task in tasks {
        let _ = task.await;
    }
}

/// Counts one client's frames per height; the last of `matching` clients to complete a
/// height reports it done.
async fn follow(
    mut socket: Socket,
    subscriber: Subscriber,
    remaining: Arc<Mutex<HashMap<u64, usize>>>,
    matching: usize,
) {
    // Kept after a height completes, so a frame beyond the count is seen as one.
    let mut counts: HashMap<u64, usize> = HashMap::new();
    while let Some(Ok(message)) = socket.next().await {
        let Message::Text(text) = message else {
            continue;
        };
        let Some(height) = height_of(&text) else {
            continue;
        };
        let count = counts.entry(height).or_default();
        *count += 1;
        if *count > subscriber.per_block {
            report(&format!(
                "unexpected frame {count} of height {height} to ?{} (expects {})",
                subscriber.query, subscriber.per_block
            ));
            return;
        }
        if *count == subscriber.per_block {
            let mut remaining = remaining.lock().expect("lock");
            let left = remaining.entry(height).or_insert(matching);
            *left -= 1;
            if *left == 0 {
                remaining.remove(&height);
                report(&format!("done {height}"));
            }
        }
    }
}

/// The `height` of a transaction message, which ends `,"height":N}`, or `,"height":N,` when
/// a body follows.
fn height_of(text: &str) -> Option<u64> {
    let start = text.find("\"height\":")? + "\"height\":".len();
    let digits = text[start..].find(|c: char| !c.is_ascii_digit())?;
    text[start..start + digits].parse().ok()
}

/// Reads `total` frames from `?QUERY`, timed from the connect request to the last frame.
async fn resume_reader(addr: &str, query: &str, total: usize) {
    let started = Instant::now();
    let (mut socket, _) = tokio_tungstenite::connect_async(url(addr, query))
        .await
        .expect("connect");
    let (mut frames, mut bytes, mut last) = (0, 0, None);
    while frames < total {
        match tokio::time::timeout(BLOCK_DEADLINE, socket.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => {
                frames += 1;
                bytes += text.len();
                last = height_of(&text);
            }
            Ok(Some(Ok(_))) => {}
            Ok(Some(Err(error))) => return report(&format!("ended after {frames}: {error}")),
            Ok(None) => return report(&format!("ended after {frames}: closed")),
            Err(_) => return report(&format!("stalled after {frames} for {BLOCK_DEADLINE:?}")),
        }
    }
    let nanos = started.elapsed().as_nanos();
    report(&format!(
        "read {frames} {bytes} {nanos} {}",
        last.unwrap_or(0)
    ));
}
