//! The wire messages of the Event Stream: what a subscriber receives, encoded once.
//!
//! In: a block's height, Planetmint's app hash after it, and what it publishes and refuses.
//! Out: an [`EncodedBlock`]: the block's [`Frame`]s on each [`StreamKind`], the bodies and
//! [`Tags`] of its transactions, and (built once, on first use) the frames carrying bodies
//! and the [`BlockIndex`] filters look values up in. The store keeps it and the hub fans it
//! out as it is; each session picks its subscriber's frames from it.
//!
//! A leaf that imports only [`crate::chain`]: the stages that write (the validate stage), keep (the
//! store), fan out (the hub) and send (the sessions) messages all share these types, so none
//! of them has to import another for them.
//!
//! Every message is a serde struct written by serde_json; a message with bodies is the same
//! message with one more member, spliced in before its closing brace, so bodies are never
//! parsed again and the messages without them stay byte-for-byte what they were.

use std::sync::{Arc, OnceLock};

use axum::extract::ws::Utf8Bytes;
use serde::Serialize;

use crate::chain::Height;

pub mod index;

use index::{BlockIndex, Tags};

/// One encoded WebSocket text message, shared by every subscriber.
pub type Frame = Utf8Bytes;

/// The three streams of the Event Stream API.
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
    pub const ALL: [StreamKind; 3] = [
        StreamKind::Transactions,
        StreamKind::Blocks,
        StreamKind::Refused,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StreamKind::Transactions => "valid_transactions",
            StreamKind::Blocks => "valid_blocks",
            StreamKind::Refused => "refused_transactions",
        }
    }
}

/// A published transaction as a block holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedTx {
    /// Its `valid_transactions` message.
    pub frame: Frame,
    /// Its body, the JSON object clients may ask for.
    pub body: Frame,
    pub tags: Tags,
}

/// A refused transaction as a block holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedTx {
    /// Its `refused_transactions` message.
    pub frame: Frame,
    pub tags: Tags,
}

/// What the validate stage says of a refused transaction, to encode.
pub struct Refusal<'a> {
    pub index: usize,
    /// The node's result code (0 when only the stream refused it).
    pub code: u32,
    /// A stable code: `node_rejected`, `spends_refused`, or the failed rule.
    pub reason: &'a str,
    pub message: &'a str,
    pub tags: Tags,
}

#[cfg(test)]
impl Refusal<'static> {
    /// A transaction at `index` the node rejected without a log: what tests refuse.
    pub fn by_node(index: usize, tags: Tags) -> Self {
        Refusal {
            index,
            code: 1,
            reason: "node_rejected",
            message: "rejected by the node",
            tags,
        }
    }
}

/// A block's messages on every stream, encoded once: what the store keeps and the hub fans
/// out.
#[derive(Debug)]
pub struct EncodedBlock {
    pub height: Height,
    /// Planetmint's app hash after the block.
    pub app_hash: String,
    /// The published transactions, in block order.
    pub published: Vec<PublishedTx>,
    /// The `valid_blocks` frame.
    pub block: Frame,
    /// The refused transactions, in block order.
    pub refused: Vec<RefusedTx>,
    /// Built on first use, then shared by every subscriber that needs them.
    derived: Derived,
}

#[derive(Debug, Default)]
struct Derived {
    index: OnceLock<BlockIndex>,
    refused_index: OnceLock<BlockIndex>,
    full_transactions: OnceLock<Arc<[Frame]>>,
    full_block: OnceLock<Frame>,
}

impl PartialEq for EncodedBlock {
    /// Blocks are equal when their messages are; what was derived from them so far is not
    /// part of them.
    fn eq(&self, other: &Self) -> bool {
        (
            self.height,
            &self.app_hash,
            &self.published,
            &self.block,
            &self.refused,
        ) == (
            other.height,
            &other.app_hash,
            &other.published,
            &other.block,
            &other.refused,
        )
    }
}

impl EncodedBlock {
    /// A block from its parts (as the store reads them back).
    pub fn new(
        height: Height,
        app_hash: String,
        published: Vec<PublishedTx>,
        block: Frame,
        refused: Vec<RefusedTx>,
    ) -> Self {
        EncodedBlock {
            height,
            app_hash,
            published,
            block,
            refused,
            derived: Derived::default(),
        }
    }

    /// The messages of the block at `height`, whose app hash after it is `app_hash`,
    /// publishing `published` (tags and body of each) and refusing `refused`, in block order.
    pub fn encode(
        height: Height,
        app_hash: &str,
        published: Vec<(Tags, String)>,
        refused: Vec<Refusal<'_>>,
    ) -> Self {
        let ids: Vec<&str> = published
            .iter()
            .map(|(tags, _)| tags.transaction_id.as_deref().unwrap_or_default())
            .collect();
        let block = to_frame(&BlockMessage {
            height: height.get(),
            hash: app_hash,
            transaction_ids: ids,
        });
        let published = published
            .into_iter()
            .map(|(tags, body)| PublishedTx {
                frame: to_frame(&TransactionMessage {
                    transaction_id: tags.transaction_id.as_deref().unwrap_or_default(),
                    asset_id: tags.asset_ids.first().map(String::as_str),
                    asset_ids: &tags.asset_ids,
                    height: height.get(),
                }),
                body: body.into(),
                tags,
            })
            .collect();
        let refused = refused
            .into_iter()
            .map(|refusal| RefusedTx {
                frame: to_frame(&RefusedMessage {
                    transaction_id: refusal.tags.transaction_id.as_deref(),
                    height: height.get(),
                    index: refusal.index,
                    code: refusal.code,
                    reason: refusal.reason,
                    message: refusal.message,
                }),
                tags: refusal.tags,
            })
            .collect();
        EncodedBlock::new(height, app_hash.to_owned(), published, block, refused)
    }

    /// Where each filter value occurs among the published transactions.
    pub fn index(&self) -> &BlockIndex {
        self.derived
            .index
            .get_or_init(|| BlockIndex::new(self.published.iter().map(|tx| &tx.tags)))
    }

    /// Where each filter value occurs among the refused transactions.
    pub fn refused_index(&self) -> &BlockIndex {
        self.derived
            .refused_index
            .get_or_init(|| BlockIndex::new(self.refused.iter().map(|tx| &tx.tags)))
    }

    /// Every published transaction's message with its body (`"transaction": {…}`).
    pub fn full_transactions(&self) -> &Arc<[Frame]> {
        self.derived.full_transactions.get_or_init(|| {
            self.published
                .iter()
                .map(|tx| with_member(&tx.frame, "transaction", |out| out.push_str(&tx.body)))
                .collect()
        })
    }

    /// The `valid_blocks` frame with every published body (`"transactions": […]`).
    pub fn full_block(&self) -> &Frame {
        self.derived
            .full_block
            .get_or_init(|| with_bodies(&self.block, self.published.iter()))
    }

    /// The `valid_blocks` frame listing only the published transactions at `positions`
    /// (ascending), with their bodies when `bodies`: a filtered subscriber's block message.
    pub fn filtered_block(&self, positions: &[u32], bodies: bool) -> Frame {
        if positions.len() == self.published.len() {
            // Everything matched: the shared frame says the same.
            return if bodies {
                self.full_block().clone()
            } else {
                self.block.clone()
            };
        }
        let picked = || positions.iter().map(|&p| &self.published[p as usize]);
        let frame = to_frame(&BlockMessage {
            height: self.height.get(),
            hash: &self.app_hash,
            transaction_ids: picked()
                .map(|tx| tx.tags.transaction_id.as_deref().unwrap_or_default())
                .collect(),
        });
        if bodies {
            with_bodies(&frame, picked())
        } else {
            frame
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

/// The refused-transaction message: where it was, the node's code, and why.
#[derive(Serialize)]
struct RefusedMessage<'a> {
    transaction_id: Option<&'a str>,
    height: u64,
    index: usize,
    code: u32,
    reason: &'a str,
    message: &'a str,
}

fn to_frame(message: &impl Serialize) -> Frame {
    serde_json::to_string(message)
        .expect("messages always serialize")
        .into()
}

/// `message` (a JSON object) with one more member, `"name": <what write appends>`.
fn with_member(message: &str, name: &str, write: impl FnOnce(&mut String)) -> Frame {
    let open = message
        .strip_suffix('}')
        .expect("every message is a JSON object");
    let mut out = String::with_capacity(message.len() + name.len() + 1024);
    out.push_str(open);
    out.push_str(",\"");
    out.push_str(name);
    out.push_str("\":");
    write(&mut out);
    out.push('}');
    out.into()
}

/// A block message with the bodies of `published` as `"transactions": […]`.
fn with_bodies<'a>(block: &str, published: impl Iterator<Item = &'a PublishedTx>) -> Frame {
    with_member(block, "transactions", |out| {
        out.push('[');
        for (i, tx) in published.enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&tx.body);
        }
        out.push(']');
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(id: &str, key: &str) -> Tags {
        Tags {
            transaction_id: Some(id.into()),
            operation: Some("CREATE".into()),
            asset_ids: vec![id.into(), "a".repeat(64)],
            public_keys: vec![key.into()],
            owners_before: vec![key.into()],
        }
    }

    fn json(frame: &str) -> serde_json::Value {
        serde_json::from_str(frame).unwrap()
    }

    fn block() -> EncodedBlock {
        let refusal = Refusal::by_node(1, Tags::default());
        EncodedBlock::encode(
            Height::new(7).unwrap(),
            "hash",
            vec![
                (tags("c", "k1"), r#"{"id":"c"}"#.into()),
                (tags("d", "k2"), r#"{"id":"d","n":[1]}"#.into()),
            ],
            vec![refusal],
        )
    }

    #[test]
    fn messages_have_planetmints_shape() {
        let block = block();
        assert_eq!(
            json(&block.published[0].frame),
            serde_json::json!({"transaction_id": "c", "asset_id": "c",
                "asset_ids": ["c", "a".repeat(64)], "height": 7})
        );
        assert_eq!(
            json(&block.block),
            serde_json::json!({"height": 7, "hash": "hash", "transaction_ids": ["c", "d"]})
        );
        assert_eq!(
            json(&block.refused[0].frame),
            serde_json::json!({"transaction_id": null, "height": 7, "index": 1, "code": 1,
                "reason": "node_rejected", "message": "rejected by the node"})
        );
    }

    #[test]
    fn bodies_are_one_more_member_of_the_same_messages() {
        let block = block();
        let full = block.full_transactions();
        let mut expected = json(&block.published[1].frame);
        expected["transaction"] = serde_json::json!({"id": "d", "n": [1]});
        assert_eq!(json(&full[1]), expected);
        let mut expected = json(&block.block);
        expected["transactions"] = serde_json::json!([{"id": "c"}, {"id": "d", "n": [1]}]);
        assert_eq!(json(block.full_block()), expected);
        // Built once, then shared.
        assert!(Arc::ptr_eq(full, block.full_transactions()));
    }

    #[test]
    fn a_filtered_block_lists_only_the_picked_transactions() {
        let block = block();
        assert_eq!(
            json(&block.filtered_block(&[1], false)),
            serde_json::json!({"height": 7, "hash": "hash", "transaction_ids": ["d"]})
        );
        assert_eq!(
            json(&block.filtered_block(&[], true)),
            serde_json::json!({"height": 7, "hash": "hash", "transaction_ids": [],
                "transactions": []})
        );
        assert_eq!(block.filtered_block(&[0, 1], false), block.block);
        assert_eq!(block.index().positions(index::Field::PublicKey, "k2"), [1]);
        assert!(
            block
                .refused_index()
                .positions(index::Field::PublicKey, "k2")
                .is_empty()
        );
    }
}
