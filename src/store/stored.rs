//! The layout of one block in the `blocks` table: a [`Stored`] block, serialized with
//! postcard, then compressed with LZ4.
//!
//! In: an [`EncodedBlock`] (borrowed, to write) or a stored value (to read). Out: the bytes,
//! or the block again. Frames and bodies are kept as the text clients receive, so reading
//! history back never encodes a message again; the tags come back for filters. JSON with
//! its repeated keys and hex ids shrinks several times under LZ4, which both decompresses
//! faster than the disk reads and keeps redb's power-of-two page allocations of large
//! values from doubling the file.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::chain::Height;
use crate::wire::index::Tags;
use crate::wire::{EncodedBlock, Frame, PublishedTx, RefusedTx};

/// Largest block a stored value may claim to decompress to. CometBFT's default block limit
/// is 21 MiB of transactions; bodies, frames and tags take a few times that, and a damaged
/// value claiming more must not make a reader allocate it.
const MAX_DECODED_BYTES: usize = 256 << 20;

/// The bytes `block` is stored as.
pub(super) fn encode(block: &EncodedBlock) -> Vec<u8> {
    let plain =
        postcard::to_allocvec(&Stored::of(block)).expect("serializing to memory cannot fail");
    lz4_flex::compress_prepend_size(&plain)
}

/// The block at `height` stored as `bytes`, and its size decoded; None when the bytes are
/// not a block this layout wrote.
pub(super) fn decode(bytes: &[u8], height: Height) -> Option<(EncodedBlock, usize)> {
    let claimed = u32::from_le_bytes(bytes.get(..4)?.try_into().ok()?);
    if usize::try_from(claimed).ok()? > MAX_DECODED_BYTES {
        return None;
    }
    let plain = lz4_flex::decompress_size_prepended(bytes).ok()?;
    let stored: Stored = postcard::from_bytes(&plain).ok()?;
    Some((stored.into_block(height), plain.len()))
}

/// A block as the `blocks` table holds it.
#[derive(Serialize, Deserialize)]
struct Stored<'a> {
    #[serde(borrow)]
    app_hash: &'a str,
    block: &'a str,
    published: Vec<StoredTx<'a>>,
    refused: Vec<StoredRefusal<'a>>,
}

#[derive(Serialize, Deserialize)]
struct StoredTx<'a> {
    #[serde(borrow)]
    frame: &'a str,
    body: &'a str,
    tags: Cow<'a, Tags>,
}

#[derive(Serialize, Deserialize)]
struct StoredRefusal<'a> {
    #[serde(borrow)]
    frame: &'a str,
    tags: Cow<'a, Tags>,
}

impl<'a> Stored<'a> {
    fn of(block: &'a EncodedBlock) -> Self {
        Stored {
            app_hash: &block.app_hash,
            block: &block.block,
            published: block
                .published
                .iter()
                .map(|tx| StoredTx {
                    frame: &tx.frame,
                    body: &tx.body,
                    tags: Cow::Borrowed(&tx.tags),
                })
                .collect(),
            refused: block
                .refused
                .iter()
                .map(|tx| StoredRefusal {
                    frame: &tx.frame,
                    tags: Cow::Borrowed(&tx.tags),
                })
                .collect(),
        }
    }

    fn into_block(self, height: Height) -> EncodedBlock {
        EncodedBlock::new(
            height,
            self.app_hash.to_owned(),
            self.published
                .into_iter()
                .map(|tx| PublishedTx {
                    frame: Frame::from(tx.frame),
                    body: Frame::from(tx.body),
                    tags: tx.tags.into_owned(),
                })
                .collect(),
            Frame::from(self.block),
            self.refused
                .into_iter()
                .map(|tx| RefusedTx {
                    frame: Frame::from(tx.frame),
                    tags: tx.tags.into_owned(),
                })
                .collect(),
        )
    }
}
