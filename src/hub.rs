//! Hub: stored blocks in, the same blocks out to every live subscriber of every stream.
//!
//! Each block is encoded once (an [`EncodedBlock`], by the validate stage, which stores it
//! before publishing it) and put, behind one reference count, on a [`broadcast`] ring. A
//! subscriber is a cursor into that ring, so its outbound queue is its window of the ring,
//! counted in blocks: a block is held once however many subscribers there are, publishing
//! never waits for anyone, and a subscriber that falls a whole ring behind learns it on its
//! next receive (`Lagged`) and is closed as a slow consumer. One ring for every stream keeps
//! them in step; each session picks its own frames (its stream, its filter, bodies or not)
//! from the block, so a block means one wake-up per subscriber (not one per message), one
//! write and flush, and every subscriber sees block order.

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::broadcast;

use crate::metrics::Metrics;
use crate::wire::EncodedBlock;

/// A stored block on its way to the live subscribers.
#[derive(Debug, Clone)]
pub struct Batch {
    pub block: Arc<EncodedBlock>,
    /// When the source received the block's NewBlock event: live blocks only, for the
    /// event-to-send latency histogram.
    pub received: Option<Instant>,
}

/// The fan-out point. Cheap to clone; every clone publishes to the same ring.
#[derive(Clone)]
pub struct Hub {
    ring: broadcast::Sender<Batch>,
    metrics: Arc<Metrics>,
}

impl Hub {
    /// A hub whose ring holds `blocks` blocks: the most a subscriber may fall behind before
    /// it is closed as a slow consumer.
    pub fn new(blocks: usize, metrics: Arc<Metrics>) -> Self {
        Hub {
            ring: broadcast::channel(blocks).0,
            metrics,
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Batch> {
        self.ring.subscribe()
    }

    /// Publishes a stored block.
    pub fn publish(&self, block: Arc<EncodedBlock>, received: Option<Instant>) {
        let (height, published) = (block.height, block.published.len());
        // No subscriber is not an error: the batch is simply not kept.
        let _ = self.ring.send(Batch { block, received });
        self.metrics.record_published(height, published);
    }
}
