//! Hub: encoded blocks in, frames out to every live subscriber of each stream.
//!
//! Each message is encoded once ([`encode`], by the validate stage, which stores the result
//! before publishing it) into a [`Frame`] (a reference-counted UTF-8 buffer); a block's
//! frames for a stream form one [`Batch`], put on a [`broadcast`] ring per stream. A
//! subscriber is a cursor into that ring, so its outbound queue is its window of the ring,
//! counted in blocks: a frame is stored once however many subscribers there are,
//! publishing never waits for anyone, and a subscriber that falls a whole ring behind
//! learns it on its next receive (`Lagged`) and is closed as a slow consumer. One batch per
//! block means one wake-up per subscriber per block (not per message) and lets a session
//! write a block's frames with one flush; and every subscriber sees block order.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::ws::Utf8Bytes;
use serde::Serialize;
use tokio::sync::broadcast;

use crate::metrics::Metrics;
use crate::source::Height;
use crate::validate::block::JudgedBlock;

/// One encoded WebSocket text message, shared by every subscriber.
pub type Frame = Utf8Bytes;

/// A block's messages on both streams, encoded once: what the store keeps and the hub
/// fans out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedBlock {
    pub height: Height,
    /// One frame per published transaction, in block order.
    pub transactions: Arc<[Frame]>,
    /// The `valid_blocks` frame.
    pub block: Frame,
}

impl EncodedBlock {
    /// This block's frames on `stream`.
    pub fn frames(&self, stream: Stream) -> &[Frame] {
        match stream {
            Stream::Transactions => &self.transactions,
            Stream::Blocks => std::slice::from_ref(&self.block),
        }
    }

    /// This block's frames on `stream`, as a batch for the stream's ring.
    pub fn batch(&self, stream: Stream, received: Option<Instant>) -> Batch {
        Batch {
            height: self.height,
            frames: match stream {
                Stream::Transactions => self.transactions.clone(),
                Stream::Blocks => Arc::new([self.block.clone()]),
            },
            received,
        }
    }
}

/// A block's frames for one stream, in order (possibly none: a block without published
/// transactions still passes through the transactions ring, keeping both rings in step,
/// and telling a resumed subscriber which height it is at).
#[derive(Debug, Clone)]
pub struct Batch {
    pub height: Height,
    pub frames: Arc<[Frame]>,
    /// When the source received the block's NewBlock event: live blocks only, for the
    /// event-to-send latency histogram.
    pub received: Option<Instant>,
}

/// The two streams of the Event Stream API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// `/api/v1/streams/valid_transactions`: one frame per published transaction.
    Transactions,
    /// `/api/v1/streams/valid_blocks`: one frame per block, empty blocks included.
    Blocks,
}

impl Stream {
    pub fn as_str(self) -> &'static str {
        match self {
            Stream::Transactions => "valid_transactions",
            Stream::Blocks => "valid_blocks",
        }
    }
}

/// The documented transaction message, plus Planetmint 2.x's `asset_ids` list so its
/// existing clients keep working.
#[derive(Serialize)]
struct TransactionMessage<'a> {
    transaction_id: String,
    asset_id: Option<&'a str>,
    asset_ids: &'a [String],
    height: u64,
}

/// The block message: `hash` is Planetmint's app hash after the block.
#[derive(Serialize)]
struct BlockMessage<'a> {
    height: u64,
    hash: &'a str,
    transaction_ids: Vec<String>,
}

/// The fan-out point. Cheap to clone; every clone publishes to the same rings.
#[derive(Clone)]
pub struct Hub {
    transactions: broadcast::Sender<Batch>,
    blocks: broadcast::Sender<Batch>,
    metrics: Arc<Metrics>,
}

impl Hub {
    /// A hub whose rings hold `blocks` blocks: the most a subscriber may fall behind before
    /// it is closed as a slow consumer.
    pub fn new(blocks: usize, metrics: Arc<Metrics>) -> Self {
        Hub {
            transactions: broadcast::channel(blocks).0,
            blocks: broadcast::channel(blocks).0,
            metrics,
        }
    }

    pub fn subscribe(&self, stream: Stream) -> broadcast::Receiver<Batch> {
        match stream {
            Stream::Transactions => self.transactions.subscribe(),
            Stream::Blocks => self.blocks.subscribe(),
        }
    }

    /// Publishes a stored block: its transactions, then the block itself.
    pub fn publish(&self, block: &EncodedBlock, received: Option<Instant>) {
        // No subscriber is not an error: the batch is simply not kept.
        let _ = self
            .transactions
            .send(block.batch(Stream::Transactions, received));
        let _ = self.blocks.send(block.batch(Stream::Blocks, received));
        self.metrics
            .record_published(block.height, block.transactions.len());
    }
}

/// The messages of a judged block.
pub fn encode(block: &JudgedBlock) -> EncodedBlock {
    let height = block.height.get();
    let transactions: Vec<Frame> = block
        .published
        .iter()
        .map(|tx| {
            to_frame(&TransactionMessage {
                transaction_id: tx.id.to_string(),
                asset_id: tx.asset_ids.first().map(String::as_str),
                asset_ids: &tx.asset_ids,
                height,
            })
        })
        .collect();
    EncodedBlock {
        height: block.height,
        transactions: transactions.into(),
        block: to_frame(&BlockMessage {
            height,
            hash: &block.app_hash,
            transaction_ids: block.published.iter().map(|tx| tx.id.to_string()).collect(),
        }),
    }
}

fn to_frame(message: &impl Serialize) -> Frame {
    serde_json::to_string(message)
        .expect("messages always serialize")
        .into()
}
