//! The chain's own types, shared by every stage: a block [`Height`], a [`RawBlock`] (the
//! source's output and the validate stage's input) and an [`OutputLink`] (which the validate
//! stage follows and the store keeps).
//!
//! A leaf: it imports nothing of ours and no RPC types, so the source alone knows how a
//! node's replies become a [`RawBlock`], and later stages never see them.

use std::fmt;
use std::time::Instant;

use serde::{Deserialize, Serialize};

/// A block height: positive, as CometBFT numbers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Height(u64);

impl Height {
    /// A chain's first block.
    pub const FIRST: Height = Height(1);

    pub fn new(height: u64) -> Option<Self> {
        (height > 0).then_some(Height(height))
    }

    pub fn get(self) -> u64 {
        self.0
    }

    pub fn next(self) -> Self {
        Height(self.0 + 1)
    }

    /// The height before this one; None for height 1.
    pub fn previous(self) -> Option<Self> {
        Height::new(self.0 - 1)
    }
}

impl fmt::Display for Height {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// One block as the validate stage needs it: the raw transactions, the node's verdict on
/// each, and the app hashes that let the stage prove its accepted set equals the node's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawBlock {
    pub height: Height,
    pub txs: Vec<Vec<u8>>,
    /// The node's result for each transaction, same length as `txs`.
    pub results: Vec<TxResult>,
    /// Planetmint's app hash after the previous block, as this block's header carries it.
    pub previous_app_hash: String,
    /// Planetmint's app hash after this block, when the node reports it with the block
    /// (CometBFT 0.38's `result_finalize_block.app_hash`).
    pub app_hash: Option<String>,
    /// When its NewBlock event arrived; None for a block fetched or replayed.
    pub received: Option<Instant>,
}

/// The node's verdict on one transaction of a block.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TxResult {
    /// 0 is accepted; Planetmint answers 1 for anything else.
    pub code: u32,
    /// The node's log for it: empty from Planetmint, which keeps its reasons in its own log.
    pub log: String,
}

impl TxResult {
    pub fn accepted() -> Self {
        TxResult::default()
    }
}

/// An output of a transaction on the chain, as an input's `fulfills` names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct OutputLink {
    /// The transaction id, as the spending input spells it.
    pub transaction_id: String,
    pub output_index: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heights_are_positive() {
        assert_eq!(Height::new(0), None);
        let one = Height::new(1).unwrap();
        assert_eq!(one.previous(), None);
        assert_eq!(one.next().previous(), Some(one));
        assert_eq!(one.next().to_string(), "2");
    }
}
