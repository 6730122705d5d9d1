//! Helpers for the stream service tests: the service started in-process on ephemeral
//! ports, stream clients (a tokio-tungstenite one and a raw one that never answers
//! anything), reading frames under a deadline, and the expected fixture lines.
//!
//! Every wait here is bounded; a helper that runs out of time panics (or, for
//! [`collect_texts`], returns what it got so the caller can report the difference).

// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

pub mod binary;
pub mod test_node;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt as _;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tokio::time::{Instant, timeout, timeout_at};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_util::sync::CancellationToken;

use planetmint_stream::server::{Listeners, ServerSettings};
use planetmint_stream::service::{self, ServiceError};
use planetmint_stream::source::BlockSource;
use planetmint_stream::source::node::{Endpoint, Follow, NodeSettings};
use planetmint_stream::store::Store;

pub use binary::Binary;
pub use planetmint_stream::server::{BLOCKS_PATH as BLOCKS, TRANSACTIONS_PATH as TXS};
pub use test_node::TestNode;

/// The two recorded chains: same blocks, two dialects.
pub const CHAINS: [&str; 2] = ["tendermint-0.34", "cometbft-0.38"];

pub fn fixture(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(relative)
}

/// The lines `/api/v1/streams/<stream>` must send for `chain` (`stream` is
/// `valid_transactions` or `valid_blocks`).
pub fn expected_lines(chain: &str, stream: &str) -> Vec<String> {
    let path = fixture(&format!("chains/{chain}.{stream}.jsonl"));
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
        .lines()
        .map(str::to_owned)
        .collect()
}

/// [`expected_lines`] of the blocks up to `last_height` only.
pub fn expected_until(chain: &str, stream: &str, last_height: u64) -> Vec<String> {
    let lines = expected_lines(chain, stream);
    let keep = heights(&lines)
        .into_iter()
        .take_while(|height| *height <= last_height)
        .count();
    lines[..keep].to_vec()
}

/// [`expected_lines`] of the blocks `from..=to` only.
pub fn expected_range(chain: &str, stream: &str, from: u64, to: u64) -> Vec<String> {
    let lines = expected_lines(chain, stream);
    heights(&lines)
        .into_iter()
        .zip(lines)
        .filter(|(height, _)| (from..=to).contains(height))
        .map(|(_, line)| line)
        .collect()
}

/// Server settings for tests: both listeners on 127.0.0.1, ephemeral ports, roomy limits.
pub fn server_args() -> ServerSettings {
    ServerSettings {
        max_clients: 100,
        ..ServerSettings::loopback()
    }
}

/// Following `node` (only).
pub fn node_args(node: &TestNode) -> NodeSettings {
    NodeSettings {
        endpoints: vec![Endpoint::parse(&node.addr().to_string())],
        dialect: None,
    }
}

/// History the in-memory stores of tests keep: more than any test chain.
pub const TEST_HISTORY: u64 = 100_000;

/// A store that lives as long as the test needs it.
pub fn memory_store() -> Arc<Store> {
    Arc::new(Store::in_memory(TEST_HISTORY).expect("in-memory store"))
}

/// A fresh directory under the system's temporary directory, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        let unique = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_nanos();
        let path = std::env::temp_dir().join(format!(
            "planetmint-stream-test-{name}-{}-{unique}",
            std::process::id()
        ));
        std::fs::create_dir_all(&path).expect("creating a temporary directory");
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The service, running in a task of the test's runtime.
pub struct Service {
    pub api: SocketAddr,
    pub ws: SocketAddr,
    pub shutdown: CancellationToken,
    task: Option<JoinHandle<Result<(), ServiceError>>>,
}

impl Service {
    pub async fn start(source: impl BlockSource, args: ServerSettings) -> Service {
        Service::start_with(source, memory_store(), args).await
    }

    pub async fn start_with(
        source: impl BlockSource,
        store: Arc<Store>,
        args: ServerSettings,
    ) -> Service {
        let listeners = Listeners::bind(&args).await.expect("binding the service");
        let api = listeners.api_addr().expect("api address");
        let ws = listeners.ws_addr().expect("ws address");
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(service::run(
            source,
            store,
            args,
            listeners,
            shutdown.clone(),
        ));
        Service {
            api,
            ws,
            shutdown,
            task: Some(task),
        }
    }

    /// The service following `node` with a fresh store, from the node's next block.
    pub async fn follow(node: &TestNode, args: ServerSettings) -> Service {
        let source = Follow {
            settings: node_args(node),
            start: None,
        };
        Service::start(source, args).await
    }

    /// Waits (at most `within`) for `service::run` to return by itself, and returns what
    /// it returned.
    pub async fn join(mut self, within: Duration) -> Result<(), ServiceError> {
        let task = self.task.take().expect("running");
        timeout(within, task)
            .await
            .unwrap_or_else(|_| panic!("service::run did not return within {within:?}"))
            .expect("service task panicked")
    }

    /// Cancels the shutdown token and waits for `service::run` to return: it must, with
    /// `Ok`, within 5 s. Returns how long it took.
    pub async fn shut_down(mut self) -> Duration {
        let started = Instant::now();
        self.shutdown.cancel();
        let task = self.task.take().expect("running");
        timeout(Duration::from_secs(5), task)
            .await
            .expect("service::run did not return within 5 s of shutdown")
            .expect("service task panicked")
            .expect("service::run failed");
        started.elapsed()
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

pub type Client = WebSocketStream<TcpStream>;

pub fn ws_url(addr: SocketAddr, path: &str) -> String {
    format!("ws://{addr}{path}")
}

/// A WebSocket client of `path`, or the handshake's error (an HTTP refusal included).
pub async fn try_connect(addr: SocketAddr, path: &str) -> Result<Client, tungstenite::Error> {
    let attempt = async {
        let tcp = TcpStream::connect(addr).await?;
        let (client, _) = tokio_tungstenite::client_async(ws_url(addr, path), tcp).await?;
        Ok(client)
    };
    timeout(Duration::from_secs(5), attempt)
        .await
        .unwrap_or_else(|_| panic!("connecting to {}: no answer in 5 s", ws_url(addr, path)))
}

/// A WebSocket client of `path`; once this returns the server has subscribed it, so it
/// gets every block published from now on.
pub async fn connect(addr: SocketAddr, path: &str) -> Client {
    try_connect(addr, path)
        .await
        .unwrap_or_else(|e| panic!("connecting to {}: {e}", ws_url(addr, path)))
}

/// Reads text frames until there are `n`, `within` has passed, or the stream ends, and
/// returns them. Pings and pongs are skipped (the library answers pings as it reads).
pub async fn collect_texts(client: &mut Client, n: usize, within: Duration) -> Vec<String> {
    let deadline = Instant::now() + within;
    let mut texts = Vec::with_capacity(n);
    while texts.len() < n {
        match timeout_at(deadline, client.next()).await {
            Err(_) => break,
            Ok(Some(Ok(Message::Text(text)))) => texts.push(text.as_str().to_owned()),
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => {}
            Ok(other) => panic!(
                "stream ended after {} text frames (wanted {n}): {other:?}",
                texts.len()
            ),
        }
    }
    texts
}

/// Reads until a close frame and returns its code and reason; text frames, pings and
/// pongs before it are skipped. Panics if the connection ends without a close frame or
/// nothing arrives `within`.
pub async fn expect_close(client: &mut Client, within: Duration) -> (u16, String) {
    let deadline = Instant::now() + within;
    let mut skipped = 0usize;
    loop {
        match timeout_at(deadline, client.next()).await {
            Err(_) => panic!("no close frame within {within:?} ({skipped} text frames before)"),
            Ok(Some(Ok(Message::Close(Some(frame))))) => {
                return (u16::from(frame.code), frame.reason.as_str().to_owned());
            }
            Ok(Some(Ok(Message::Close(None)))) => panic!("close frame without a code"),
            Ok(Some(Ok(Message::Text(_)))) => skipped += 1,
            Ok(Some(Ok(_))) => {}
            Ok(other) => panic!("connection ended without a close frame: {other:?}"),
        }
    }
}

/// Asserts nothing but pings and pongs arrives for `quiet`.
pub async fn assert_no_more_texts(client: &mut Client, what: &str, quiet: Duration) {
    let deadline = Instant::now() + quiet;
    loop {
        match timeout_at(deadline, client.next()).await {
            Err(_) => return,
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => {}
            Ok(other) => panic!("{what}: unexpected message after the expected ones: {other:?}"),
        }
    }
}

/// `key` of every frame, in order, read by `get` (which returns None when it is missing or
/// of another type).
fn field<T>(frames: &[String], key: &str, get: impl Fn(&serde_json::Value) -> Option<T>) -> Vec<T> {
    frames
        .iter()
        .map(|frame| {
            let value: serde_json::Value = serde_json::from_str(frame)
                .unwrap_or_else(|e| panic!("frame is not JSON ({e}): {frame}"));
            get(&value[key]).unwrap_or_else(|| panic!("frame without a {key}: {frame}"))
        })
        .collect()
}

/// The `height` of every frame, in order.
pub fn heights(frames: &[String]) -> Vec<u64> {
    field(frames, "height", serde_json::Value::as_u64)
}

/// The `hash` of every block frame, in order.
pub fn hashes(frames: &[String]) -> Vec<String> {
    field(frames, "hash", |v| v.as_str().map(str::to_owned))
}

/// `None` when `got` equals `expected` line for line, else a short report: the counts,
/// the first difference, and how many lines differ.
pub fn diff_lines(what: &str, got: &[String], expected: &[String]) -> Option<String> {
    if got == expected {
        return None;
    }
    let first = got
        .iter()
        .zip(expected)
        .position(|(g, e)| g != e)
        .unwrap_or(got.len().min(expected.len()));
    let differing = got.iter().zip(expected).filter(|(g, e)| g != e).count();
    Some(format!(
        "{what}: got {} frames, expected {}; {differing} of the first {} differ; first difference at line {}:\n  got:      {}\n  expected: {}",
        got.len(),
        expected.len(),
        got.len().min(expected.len()),
        first + 1,
        got.get(first).map_or("<none>", String::as_str),
        expected.get(first).map_or("<none>", String::as_str),
    ))
}

/// Panics with every report at once.
pub fn assert_no_diffs(reports: impl IntoIterator<Item = Option<String>>) {
    let reports: Vec<String> = reports.into_iter().flatten().collect();
    assert!(reports.is_empty(), "\n{}", reports.join("\n\n"));
}

/// A WebSocket client written by hand: it completes the handshake and from then on only
/// reads, so it never answers a ping (the idle-timeout test needs a truly silent client).
pub struct RawClient {
    tcp: TcpStream,
    buffer: Vec<u8>,
}

/// One frame from the server (servers do not mask).
#[derive(Debug)]
pub struct RawFrame {
    pub opcode: u8,
    pub payload: Vec<u8>,
}

impl RawClient {
    pub async fn connect(addr: SocketAddr, path: &str) -> RawClient {
        let mut tcp = TcpStream::connect(addr).await.expect("raw client connect");
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        );
        tcp.write_all(request.as_bytes())
            .await
            .expect("raw client handshake");
        let mut client = RawClient {
            tcp,
            buffer: Vec::new(),
        };
        let head_end = loop {
            if let Some(end) = client.buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                break end + 4;
            }
            assert!(
                client.fill(Instant::now() + Duration::from_secs(5)).await,
                "raw client: connection closed during the handshake"
            );
        };
        let head = String::from_utf8_lossy(&client.buffer[..head_end]).into_owned();
        assert!(
            head.starts_with("HTTP/1.1 101"),
            "raw client: handshake refused: {head}"
        );
        client.buffer.drain(..head_end);
        client
    }

    /// The next frame, or `None` at the end of the connection. Panics after `deadline`.
    pub async fn next_frame(&mut self, deadline: Instant) -> Option<RawFrame> {
        loop {
            if let Some((frame, used)) = parse_frame(&self.buffer) {
                self.buffer.drain(..used);
                return Some(frame);
            }
            if !self.fill(deadline).await {
                assert!(
                    self.buffer.is_empty(),
                    "raw client: connection ended inside a frame"
                );
                return None;
            }
        }
    }

    /// Reads more bytes; false at the end of the connection (a reset counts as an end).
    async fn fill(&mut self, deadline: Instant) -> bool {
        let mut chunk = [0u8; 4096];
        match timeout_at(deadline, self.tcp.read(&mut chunk)).await {
            Err(_) => panic!("raw client: nothing from the server before the deadline"),
            Ok(Ok(0) | Err(_)) => false,
            Ok(Ok(n)) => {
                self.buffer.extend_from_slice(&chunk[..n]);
                true
            }
        }
    }
}

fn parse_frame(buffer: &[u8]) -> Option<(RawFrame, usize)> {
    let [first, second, ..] = *buffer else {
        return None;
    };
    assert_eq!(second & 0x80, 0, "raw client: the server masked a frame");
    let (length, mut at) = match second & 0x7f {
        126 => (
            u16::from_be_bytes(buffer.get(2..4)?.try_into().ok()?) as usize,
            4,
        ),
        127 => (
            u64::from_be_bytes(buffer.get(2..10)?.try_into().ok()?) as usize,
            10,
        ),
        short => (short as usize, 2),
    };
    let payload = buffer.get(at..at + length)?.to_vec();
    at += length;
    Some((
        RawFrame {
            opcode: first & 0x0f,
            payload,
        },
        at,
    ))
}

/// The frames `/api/v1/streams/<stream>` must send for heights `1..=last_height` of a chain
/// served by [`TestNode::start_cycled`]: for each height `h`, the fixture frames of block
/// `(h - 1) % N + 1` (N blocks in the chain) with their `height` rewritten to `h`. Hashes and
/// ids stay the fixture's (the block hash follows the header's previous app hash, which
/// cycling keeps). The text is the fixture line's with only the `"height":N` member
/// replaced, so frames compare byte for byte.
pub fn expected_cycled(chain: &str, stream: &str, last_height: u64) -> Vec<String> {
    // valid_blocks has one frame per block, empty blocks included.
    let blocks = expected_lines(chain, "valid_blocks").len();
    let lines = expected_lines(chain, stream);
    // Each block's frames, as the text before and after the height's digits.
    let mut frames: Vec<Vec<(&str, &str)>> = vec![Vec::new(); blocks];
    for (line, height) in lines.iter().zip(heights(&lines)) {
        let mut members = line.match_indices("\"height\":");
        let (Some((at, member)), None) = (members.next(), members.next()) else {
            panic!("{chain}.{stream}: not one height member in {line}");
        };
        let digits = at + member.len();
        let end = digits + line[digits..].len()
            - line[digits..]
                .trim_start_matches(|c: char| c.is_ascii_digit())
                .len();
        assert_eq!(line[digits..end], height.to_string(), "{line}");
        assert!(
            (1..=blocks as u64).contains(&height),
            "{chain}.{stream}: height {height} past the chain"
        );
        frames[height as usize - 1].push((&line[..digits], &line[end..]));
    }
    (1..=last_height)
        .flat_map(|height| {
            frames[((height - 1) % blocks as u64) as usize]
                .iter()
                .map(move |(before, after)| format!("{before}{height}{after}"))
        })
        .collect()
}
