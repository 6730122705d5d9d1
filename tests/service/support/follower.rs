//! Stream clients that follow the chain as a client application does: [`Follower`]
//! reconnects where it left off (`?from_height=N`) when it is cut off; [`following`] sets up
//! a node, the service and a follower on each stream; [`assert_received`] and
//! [`assert_exact`] check that the followers got the chain's messages exactly once, in order.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::Duration;

use futures_util::StreamExt as _;
use serde_json::Value;
use tokio::time::{Instant, timeout_at};
use tokio_tungstenite::tungstenite::Message;

use super::{
    BLOCKS, CHAIN_WITHIN, Client, Service, TXS, TestNode, WITHIN, assert_no_diffs,
    assert_no_more_texts, connect, diff_lines, expected_range, heights, node_and_service,
    server_args,
};

/// A stream client that reconnects where it left off, as a client application would:
/// `valid_blocks` from the height after the last block it got; `valid_transactions` from
/// the last height it got (it may have been cut off inside that block), dropping the
/// transactions of that height it already has.
pub struct Follower {
    path: &'static str,
    pub frames: Vec<String>,
    /// `(height, transaction_id)` of every transaction frame, to drop repeats of the
    /// height it resumed at (the documented client recipe). Never used for blocks.
    seen: HashSet<(u64, String)>,
    pub client: Option<Client>,
    pub resumes: usize,
}

/// How a [`Follower::read`] ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Read {
    Done,
    Disconnected,
    TimedOut,
}

impl Follower {
    pub fn new(path: &'static str) -> Follower {
        Follower {
            path,
            frames: Vec::new(),
            seen: HashSet::new(),
            client: None,
            resumes: 0,
        }
    }

    /// A live client on each stream.
    pub async fn live_pair(ws: SocketAddr) -> (Follower, Follower) {
        let (mut blocks, mut txs) = (Follower::new(BLOCKS), Follower::new(TXS));
        blocks.connect(ws, None).await;
        txs.connect(ws, None).await;
        (blocks, txs)
    }

    /// The `from_height` to resume with (none before the first frame).
    pub fn resume_height(&self) -> Option<u64> {
        let last = heights(std::slice::from_ref(self.frames.last()?))[0];
        Some(if self.path == BLOCKS { last + 1 } else { last })
    }

    /// Connects, resuming after what it has (or live, with nothing yet, unless `from`).
    pub async fn connect(&mut self, addr: SocketAddr, from: Option<u64>) {
        let path = match from.or(self.resume_height()) {
            Some(height) => {
                self.resumes += 1;
                format!("{}?from_height={height}", self.path)
            }
            None => self.path.to_owned(),
        };
        self.client = Some(connect(addr, &path).await);
    }

    /// Its connection, for reading it as a plain client.
    pub fn client(&mut self) -> &mut Client {
        self.client.as_mut().expect("connected")
    }

    /// Reads until it has `want` frames, the connection ends, or `deadline`.
    pub async fn read(&mut self, want: usize, deadline: Instant) -> Read {
        let Some(client) = self.client.as_mut() else {
            return Read::Disconnected;
        };
        while self.frames.len() < want {
            match timeout_at(deadline, client.next()).await {
                Err(_) => return Read::TimedOut,
                Ok(Some(Ok(Message::Text(text)))) => {
                    let text = text.as_str().to_owned();
                    if self.path == TXS {
                        let value: Value = serde_json::from_str(&text).expect("JSON frame");
                        let key = (
                            value["height"].as_u64().expect("height"),
                            value["transaction_id"].as_str().expect("id").to_owned(),
                        );
                        if !self.seen.insert(key) {
                            continue;
                        }
                    }
                    self.frames.push(text);
                }
                Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => {}
                Ok(_) => {
                    self.client = None;
                    return Read::Disconnected;
                }
            }
        }
        Read::Done
    }

    /// Reads `want` frames in all, reconnecting to `addr()` whenever cut off.
    pub async fn read_all(&mut self, want: usize, addr: impl Fn() -> SocketAddr) {
        let deadline = Instant::now() + WITHIN;
        loop {
            match self.read(want, deadline).await {
                Read::Done => return,
                Read::TimedOut => panic!(
                    "{}: {} of {want} frames after {WITHIN:?}",
                    self.path,
                    self.frames.len()
                ),
                Read::Disconnected => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    self.connect(addr(), None).await;
                }
            }
        }
    }
}

/// A node on `chain`, the service following it, and a live client on each stream, once
/// blocks `1..=height` have reached the blocks client, each once, in order (in its
/// `frames`; neither client was cut off).
pub async fn following(chain: &str, height: u64) -> (TestNode, Service, Follower, Follower) {
    let (node, service) = node_and_service(chain, server_args()).await;
    let (mut blocks, txs) = Follower::live_pair(service.ws).await;
    node.produce_until(height);
    let read = blocks
        .read(height as usize, Instant::now() + CHAIN_WITHIN)
        .await;
    assert_eq!(read, Read::Done, "the first {height} blocks");
    assert_eq!(heights(&blocks.frames), (1..=height).collect::<Vec<_>>());
    (node, service, blocks, txs)
}

/// Reads both clients (reconnecting to `ws` when cut off) up to the chain's messages of
/// heights `1..=last`, and asserts they got exactly those.
pub async fn assert_received(
    chain: &str,
    what: &str,
    ws: SocketAddr,
    blocks: &mut Follower,
    txs: &mut Follower,
    last: u64,
) {
    let expected = expected_range(chain, "valid_blocks", 1, last);
    let expected_txs = expected_range(chain, "valid_transactions", 1, last);
    blocks.read_all(expected.len(), || ws).await;
    txs.read_all(expected_txs.len(), || ws).await;
    assert_no_diffs([
        diff_lines(&format!("valid_blocks, {what}"), &blocks.frames, &expected),
        diff_lines(
            &format!("valid_transactions, {what}"),
            &txs.frames,
            &expected_txs,
        ),
    ]);
}

/// [`assert_received`], with neither client ever cut off, and nothing more coming.
pub async fn assert_exact(
    chain: &str,
    what: &str,
    service: &Service,
    blocks: &mut Follower,
    txs: &mut Follower,
    last: u64,
) {
    assert_received(chain, what, service.ws, blocks, txs, last).await;
    assert_eq!(
        (blocks.resumes, txs.resumes),
        (0, 0),
        "{what}: a client was cut off"
    );
    for follower in [blocks, txs] {
        assert_no_more_texts(follower.client(), what, Duration::from_millis(200)).await;
    }
}
