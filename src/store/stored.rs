//! The layout of one block in the `blocks` table: [`Stored`], written and read with postcard.
//!
//! In: an [`EncodedBlock`] (borrowed, to write) or a stored value (to read). Out: the bytes,
//! or the block again. Frames and bodies are kept as the text clients receive, so reading
//! history back never encodes a message again; the tags come back for filters.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::chain::Height;
use crate::wire::index::Tags;
use crate::wire::{EncodedBlock, Frame, PublishedTx, RefusedTx};

/// A block as the `blocks` table holds it.
#[derive(Serialize, Deserialize)]
pub(super) struct Stored<'a> {
    #[serde(borrow)]
    app_hash: &'a str,
    block: &'a str,
    published: Vec<StoredTx<'a>>,
    refused: Vec<StoredRefusal<'a>>,
}

#[derive(Serialize, Deserialize)]
pub(super) struct StoredTx<'a> {
    #[serde(borrow)]
    frame: &'a str,
    body: &'a str,
    tags: Cow<'a, Tags>,
}

#[derive(Serialize, Deserialize)]
pub(super) struct StoredRefusal<'a> {
    #[serde(borrow)]
    frame: &'a str,
    tags: Cow<'a, Tags>,
}

impl<'a> Stored<'a> {
    pub(super) fn of(block: &'a EncodedBlock) -> Self {
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

    pub(super) fn into_block(self, height: Height) -> EncodedBlock {
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
