//! The wire messages of the Event Stream: what a subscriber receives, encoded once.
//!
//! In: a block's height, Planetmint's app hash after it, and the ids of the transactions
//! it publishes. Out: an [`EncodedBlock`], the block's [`Frame`]s on each [`StreamKind`],
//! which the store keeps and the hub fans out as they are.
//!
//! A leaf that imports only [`crate::chain`]: the stages that write (the validate stage), keep (the
//! store), fan out (the hub) and send (the sessions) messages all share these types, so none
//! of them has to import another for them.

use std::sync::Arc;

use axum::extract::ws::Utf8Bytes;
use serde::Serialize;

use crate::chain::Height;

pub mod index;

/// One encoded WebSocket text message, shared by every subscriber.
pub type Frame = Utf8Bytes;

/// The two streams of the Event Stream API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamKind {
    /// `/api/v1/streams/valid_transactions`: one frame per published transaction.
    Transactions,
    /// `/api/v1/streams/valid_blocks`: one frame per block, empty blocks included.
    Blocks,
    /// `/api/v1/streams/refused_transactions`: one frame per transaction of a committed
    /// block that is not published.
    Refused,
}

impl StreamKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StreamKind::Transactions => "valid_transactions",
            StreamKind::Blocks => "valid_blocks",
            StreamKind::Refused => "refused_transactions",
        }
    }
}

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

/// A transaction a block publishes, as its message names it.
pub struct PublishedTx<'a> {
    /// The SHA3-256 transaction id, lower-case hex.
    pub id: &'a str,
    pub asset_ids: &'a [String],
}

impl EncodedBlock {
    /// The messages of the block at `height`, whose app hash after it is `app_hash`,
    /// publishing `published` in block order.
    pub fn encode(height: Height, app_hash: &str, published: &[PublishedTx<'_>]) -> Self {
        let transactions: Vec<Frame> = published
            .iter()
            .map(|tx| {
                to_frame(&TransactionMessage {
                    transaction_id: tx.id,
                    asset_id: tx.asset_ids.first().map(String::as_str),
                    asset_ids: tx.asset_ids,
                    height: height.get(),
                })
            })
            .collect();
        EncodedBlock {
            height,
            transactions: transactions.into(),
            block: to_frame(&BlockMessage {
                height: height.get(),
                hash: app_hash,
                transaction_ids: published.iter().map(|tx| tx.id).collect(),
            }),
        }
    }

    /// This block's frames on `stream`.
    pub fn frames(&self, stream: StreamKind) -> &[Frame] {
        match stream {
            StreamKind::Transactions => &self.transactions,
            StreamKind::Blocks => std::slice::from_ref(&self.block),
            StreamKind::Refused => &[],
        }
    }
}

/// The documented transaction message, plus Planetmint 2.x's `asset_ids` list so its
/// existing clients keep working.
#[derive(Serialize)]
struct TransactionMessage<'a> {
    transaction_id: &'a str,
    asset_id: Option<&'a str>,
    asset_ids: &'a [String],
    height: u64,
}

/// The block message: `hash` is Planetmint's app hash after the block.
#[derive(Serialize)]
struct BlockMessage<'a> {
    height: u64,
    hash: &'a str,
    transaction_ids: Vec<&'a str>,
}

fn to_frame(message: &impl Serialize) -> Frame {
    serde_json::to_string(message)
        .expect("messages always serialize")
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_have_planetmints_shape() {
        let assets = ["a".repeat(64), "b".repeat(64)];
        let tx = PublishedTx {
            id: "c",
            asset_ids: &assets,
        };
        let block = EncodedBlock::encode(Height::new(7).unwrap(), "hash", &[tx]);
        let sent: serde_json::Value = serde_json::from_str(&block.transactions[0]).unwrap();
        assert_eq!(
            sent,
            serde_json::json!({"transaction_id": "c", "asset_id": assets[0],
                "asset_ids": assets, "height": 7})
        );
        let sent: serde_json::Value = serde_json::from_str(&block.block).unwrap();
        assert_eq!(
            sent,
            serde_json::json!({"height": 7, "hash": "hash", "transaction_ids": ["c"]})
        );
        assert_eq!(
            block.frames(StreamKind::Blocks),
            std::slice::from_ref(&block.block)
        );
    }
}
