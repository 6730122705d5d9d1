//! Hub: judged blocks in, encoded frames out to every subscriber of each stream.
//!
//! Each message is encoded once into a [`Frame`] (a reference-counted UTF-8 buffer); a
//! block's frames for a stream form one [`Batch`], put on a [`broadcast`] ring per stream. A
//! subscriber is a cursor into that ring, so its outbound queue is its window of the ring,
//! counted in blocks: a frame is stored once however many subscribers there are,
//! publishing never waits for anyone, and a subscriber that falls a whole ring behind
//! learns it on its next receive (`Lagged`) and is closed as a slow consumer. One batch per
//! block means one wake-up per subscriber per block (not per message) and lets a session
//! write a block's frames with one flush; and every subscriber sees block order.

use std::sync::Arc;

use axum::extract::ws::Utf8Bytes;
use serde::Serialize;
use tokio::sync::broadcast;

use crate::metrics::Metrics;
use crate::validate::block::JudgedBlock;

/// One encoded WebSocket text message, shared by every subscriber.
pub type Frame = Utf8Bytes;

/// A block's frames for one stream, in order (possibly none: a block without published
/// transactions still passes through the transactions ring, keeping both rings in step).
pub type Batch = Arc<[Frame]>;

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

    /// Publishes a judged block: its transactions, then the block itself.
    pub fn publish(&self, block: &JudgedBlock) {
        let mut frames = encode(block);
        let block_frame = frames.pop().expect("encode ends with the block frame");
        let transactions = frames.len();
        // No subscriber is not an error: the batch is simply not kept.
        let _ = self.transactions.send(frames.into());
        let _ = self.blocks.send(Arc::new([block_frame]));
        self.metrics.record_published(block.height, transactions);
    }
}

/// The frames of a block: one per published transaction, then the block frame.
pub fn encode(block: &JudgedBlock) -> Vec<Frame> {
    let height = block.height.get();
    let mut frames: Vec<Frame> = block
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
    frames.push(to_frame(&BlockMessage {
        height,
        hash: &block.app_hash,
        transaction_ids: block.published.iter().map(|tx| tx.id.to_string()).collect(),
    }));
    frames
}

fn to_frame(message: &impl Serialize) -> Frame {
    serde_json::to_string(message)
        .expect("messages always serialize")
        .into()
}
