//! Source: blocks from CometBFT in, [`RawBlock`]s out, one per height, strictly increasing.
//!
//! Two sources feed the same pipeline through a bounded channel: [`node`] follows live
//! nodes (NewBlock events over the WebSocket, `/block` and `/block_results` over HTTP, with
//! reconnects, failover and backfill from the store's height), and [`chain_file`] replays a recorded chain file (and writes
//! one with `record`). Both turn the node's own responses, parsed by `tendermint-rpc` in the
//! node's dialect, into a [`RawBlock`] here, so later stages never see RPC types.

pub mod chain_file;
pub mod node;

use std::fmt;
use std::time::Instant;

use tendermint::abci::types::ExecTxResult;
use tendermint::{AppHash, Block};
use tendermint_rpc::client::CompatMode;

/// Blocks in flight between the source and the validate stage. A block is validated in a few
/// milliseconds, so a short queue is enough to overlap fetching with validating, and it
/// keeps a slow validate stage pushing back on the source instead of buffering blocks.
pub const BLOCK_QUEUE: usize = 4;

/// A block height: positive, as CometBFT numbers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Height(u64);

impl Height {
    pub fn new(height: u64) -> Option<Self> {
        (height > 0).then_some(Height(height))
    }

    pub fn get(self) -> u64 {
        self.0
    }

    pub fn next(self) -> Self {
        Height(self.0 + 1)
    }
}

impl fmt::Display for Height {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The RPC dialect of the node, chosen from `/status` or by flag.
pub fn dialect_from_version(version: &str) -> Result<CompatMode, SourceError> {
    let version: tendermint::Version =
        serde_json::from_value(version.into()).map_err(|e| SourceError::Dialect(e.to_string()))?;
    CompatMode::from_version(version).map_err(|e| SourceError::Dialect(e.to_string()))
}

/// One block as the validate stage needs it: the raw transactions, the node's verdict on
/// each, and the app hashes that let the stage prove its accepted set equals the node's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawBlock {
    pub height: Height,
    pub txs: Vec<Vec<u8>>,
    /// The node's result code for each transaction, same length as `txs`; 0 is accepted.
    pub codes: Vec<u32>,
    /// Planetmint's app hash after the previous block, as this block's header carries it.
    pub previous_app_hash: String,
    /// Planetmint's app hash after this block, when the node reports it with the block
    /// (CometBFT 0.38's `result_finalize_block.app_hash`).
    pub app_hash: Option<String>,
    /// When its NewBlock event arrived; None for a block fetched or replayed.
    pub received: Option<Instant>,
}

impl RawBlock {
    /// Joins a block with its transaction results.
    pub fn new(
        block: &Block,
        results: &[ExecTxResult],
        app_hash: Option<&AppHash>,
    ) -> Result<Self, SourceError> {
        let height = Height::new(block.header.height.value()).ok_or(SourceError::Garbage {
            height: 0,
            what: "block height 0",
        })?;
        let txs = block.data.clone();
        if results.len() != txs.len() {
            return Err(SourceError::Garbage {
                height: height.get(),
                what: "transaction results do not match the block's transactions",
            });
        }
        let app_hash_text = |hash: &AppHash| {
            app_hash_string(hash).ok_or(SourceError::Garbage {
                height: height.get(),
                what: "app hash is not Planetmint's hex text",
            })
        };
        Ok(RawBlock {
            height,
            codes: results.iter().map(|r| r.code.value()).collect(),
            txs,
            previous_app_hash: app_hash_text(&block.header.app_hash)?,
            app_hash: app_hash.map(app_hash_text).transpose()?,
            received: None,
        })
    }
}

/// Planetmint hands CometBFT its app hash as the ASCII bytes of a hex string; read it back.
fn app_hash_string(hash: &AppHash) -> Option<String> {
    let text = std::str::from_utf8(hash.as_bytes()).ok()?;
    text.bytes()
        .all(|b| b.is_ascii_hexdigit())
        .then(|| text.to_owned())
}

/// What can go wrong getting blocks.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("node RPC: {0}")]
    Rpc(String),
    #[error("unsupported node version: {0}")]
    Dialect(String),
    #[error("node sent garbage at height {height}: {what}")]
    Garbage { height: u64, what: &'static str },
    #[error("chain file line {line}: {what}")]
    ChainFile { line: usize, what: String },
    #[error("chain file: {0}")]
    Io(#[from] std::io::Error),
    #[error("no NewBlock event for the node's height {head} (next to send: {next})")]
    Stalled { next: u64, head: u64 },
    #[error("the node has not reached height {next}, which {other} has")]
    Behind {
        next: u64,
        /// Which configured node is ahead.
        ahead: usize,
        other: String,
    },
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("the pipeline stopped")]
    Closed,
}
