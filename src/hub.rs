//! Hub: encoded blocks in, frames out to every live subscriber of each stream.
//!
//! Each message is encoded once (an [`EncodedBlock`], by the validate stage, which stores it
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

use tokio::sync::broadcast;

use crate::chain::Height;
use crate::metrics::Metrics;
use crate::wire::{EncodedBlock, Frame, StreamKind};

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

impl Batch {
    /// `block`'s frames on `stream`.
    fn of(block: &EncodedBlock, stream: StreamKind, received: Option<Instant>) -> Self {
        Batch {
            height: block.height,
            frames: match stream {
                StreamKind::Transactions => block.transactions.clone(),
                StreamKind::Blocks => Arc::new([block.block.clone()]),
                StreamKind::Refused => Arc::new([]),
            },
            received,
        }
    }
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

    pub fn subscribe(&self, stream: StreamKind) -> broadcast::Receiver<Batch> {
        match stream {
            StreamKind::Transactions => self.transactions.subscribe(),
            StreamKind::Blocks | StreamKind::Refused => self.blocks.subscribe(),
        }
    }

    /// Publishes a stored block: its transactions, then the block itself.
    pub fn publish(&self, block: &EncodedBlock, received: Option<Instant>) {
        // No subscriber is not an error: the batch is simply not kept.
        let _ = self
            .transactions
            .send(Batch::of(block, StreamKind::Transactions, received));
        let _ = self
            .blocks
            .send(Batch::of(block, StreamKind::Blocks, received));
        self.metrics
            .record_published(block.height, block.transactions.len());
    }
}
