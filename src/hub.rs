//! Hub: judged blocks in, encoded frames out to every subscriber of each stream.
//!
//! Each message is encoded once into a [`Frame`] (a reference-counted UTF-8 buffer) and put
//! on a [`broadcast`] ring per stream. A subscriber is a cursor into that ring, so its
//! outbound queue is its window of the ring: a frame is stored once however many subscribers
//! there are, publishing never waits for anyone, and a subscriber that falls a whole ring
//! behind learns it on its next receive (`Lagged`) and is closed as a slow consumer. Frames
//! of one block are sent before the next block's, so every subscriber sees block order.

use std::sync::Arc;

use axum::extract::ws::Utf8Bytes;
use serde::Serialize;
use tokio::sync::broadcast;

use crate::metrics::Metrics;
use crate::validate::block::JudgedBlock;

/// One encoded WebSocket text message, shared by every subscriber.
pub type Frame = Utf8Bytes;

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
    transactions: broadcast::Sender<Frame>,
    blocks: broadcast::Sender<Frame>,
    metrics: Arc<Metrics>,
}

impl Hub {
    /// A hub whose rings hold `transaction_frames` and `block_frames` frames: the most a
    /// subscriber may fall behind before it is closed as a slow consumer.
    pub fn new(transaction_frames: usize, block_frames: usize, metrics: Arc<Metrics>) -> Self {
        Hub {
            transactions: broadcast::channel(transaction_frames).0,
            blocks: broadcast::channel(block_frames).0,
            metrics,
        }
    }

    pub fn subscribe(&self, stream: Stream) -> broadcast::Receiver<Frame> {
        match stream {
            Stream::Transactions => self.transactions.subscribe(),
            Stream::Blocks => self.blocks.subscribe(),
        }
    }

    /// Publishes a judged block: its transactions, then the block itself.
    pub fn publish(&self, block: &JudgedBlock) {
        let frames = encode(block);
        let (transactions, block_frame) = frames.split_at(frames.len() - 1);
        for frame in transactions {
            // No subscriber is not an error: the frame is simply not kept.
            let _ = self.transactions.send(frame.clone());
        }
        let _ = self.blocks.send(block_frame[0].clone());
        self.metrics
            .record_published(block.height, transactions.len());
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
