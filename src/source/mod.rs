//! Source: blocks from CometBFT in, [`RawBlock`]s out, one per height, strictly increasing.
//!
//! Any [`BlockSource`] feeds the pipeline through a bounded channel. Two come with the
//! service: [`node::Follow`] follows live nodes (NewBlock events over the WebSocket,
//! `/block` and `/block_results` over HTTP, with reconnects, failover and backfill from the
//! store's height; `stall` judges when its subscription has gone silent), and
//! [`chain_file::Replay`] replays a recorded chain file (which [`chain_file::record`]
//! writes). Both turn the node's own responses, parsed by `tendermint-rpc` in the node's
//! dialect, into a [`RawBlock`] here ([`raw_block`]), so later stages never see RPC types.
//! Their errors, [`SourceError`], each render on one line.

pub mod chain_file;
pub mod node;
mod stall;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tendermint::abci::types::ExecTxResult;
use tendermint::{AppHash, Block};
use tendermint_rpc::client::CompatMode;
use tendermint_rpc::endpoint::block_results;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::debug;

use crate::chain::{Height, RawBlock, TxResult};
use crate::metrics::Metrics;
use crate::store::Store;

/// What a source is given to run: where to send blocks, the store (whose last height is
/// where it continues, and whose chain it must stay on), the counters, and shutdown.
pub struct SourceContext {
    pub blocks: mpsc::Sender<RawBlock>,
    pub store: Arc<Store>,
    pub metrics: Arc<Metrics>,
    pub shutdown: CancellationToken,
}

/// Where the service gets its blocks.
pub trait BlockSource: Send + 'static {
    /// Sends blocks after the store's last height, each once and in order, until
    /// `shutdown`, the pipeline closing, or the source's natural end (`Ok`). An `Err` is a
    /// failure no retry can fix; the service shuts down with it.
    fn run(self, context: SourceContext) -> impl Future<Output = Result<(), SourceError>> + Send;
}

/// The node's RPC dialect: the flag's when given, else the one its `/status` version names.
pub fn dialect(flag: Option<CompatMode>, version: &str) -> Result<CompatMode, SourceError> {
    if let Some(dialect) = flag {
        return Ok(dialect);
    }
    let dialect = |e: &dyn std::fmt::Display| SourceError::Dialect {
        version: version.to_owned(),
        reason: e.to_string(),
    };
    let parsed: tendermint::Version =
        serde_json::from_value(version.into()).map_err(|e| dialect(&e))?;
    CompatMode::from_version(parsed).map_err(|e| dialect(&e))
}

/// Joins a block with its `/block_results`. CometBFT 0.38 reports Planetmint's app hash
/// after the block there too; before 0.38 that field is something else and is not read.
pub fn raw_block(
    block: &Block,
    results: &block_results::Response,
    dialect: CompatMode,
) -> Result<RawBlock, SourceError> {
    let app_hash = (dialect == CompatMode::V0_38).then_some(&results.app_hash);
    joined(
        block,
        results.txs_results.as_deref().unwrap_or_default(),
        app_hash,
    )
}

/// Joins a block with its transaction results and, where the node reports it with the
/// block, the app hash after it.
pub fn joined(
    block: &Block,
    results: &[ExecTxResult],
    app_hash: Option<&AppHash>,
) -> Result<RawBlock, SourceError> {
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
        results: results.iter().map(tx_result).collect(),
        txs,
        previous_app_hash: app_hash_text(&block.header.app_hash)?,
        app_hash: app_hash.map(app_hash_text).transpose()?,
        received: None,
    })
}

/// Bytes of a node's log kept per transaction. Planetmint's are empty; another application's
/// (or a broken node's) could be anything, and each is stored and sent with the refusal.
const MAX_LOG_BYTES: usize = 512;

fn tx_result(result: &ExecTxResult) -> TxResult {
    let mut log = result.log.clone();
    if log.len() > MAX_LOG_BYTES {
        let mut end = MAX_LOG_BYTES;
        while !log.is_char_boundary(end) {
            end -= 1;
        }
        log.truncate(end);
    }
    TxResult {
        code: result.code.value(),
        log,
    }
}

/// A node stores a block's results as it commits, a moment after the NewBlock event; these
/// bound how long we wait for them (about 6 s in all) before treating the node as broken.
const RESULTS_FIRST_WAIT: Duration = Duration::from_millis(50);
const RESULTS_MAX_WAIT: Duration = Duration::from_secs(1);
const RESULTS_ATTEMPTS: u32 = 12;

/// Runs `fetch` (a block's results) until it succeeds, or fails [`RESULTS_ATTEMPTS`] times
/// with growing pauses: a node answers with an error for results it has not stored yet.
pub(crate) async fn until_results_stored<T, E, F>(
    height: u64,
    mut fetch: impl FnMut() -> F,
) -> Result<T, E>
where
    E: std::fmt::Display,
    F: Future<Output = Result<T, E>>,
{
    let mut wait = RESULTS_FIRST_WAIT;
    let mut attempt = 1;
    loop {
        match fetch().await {
            Err(error) if attempt < RESULTS_ATTEMPTS => {
                debug!(height, attempt, %error, "results not stored yet; retrying");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(RESULTS_MAX_WAIT);
                attempt += 1;
            }
            fetched => return fetched,
        }
    }
}

/// Planetmint hands CometBFT its app hash as the ASCII bytes of a hex string; read it back.
fn app_hash_string(hash: &AppHash) -> Option<String> {
    let text = std::str::from_utf8(hash.as_bytes()).ok()?;
    text.bytes()
        .all(|b| b.is_ascii_hexdigit())
        .then(|| text.to_owned())
}

/// What can go wrong getting blocks. Each renders on one line, its cause included, so a
/// log line or the exit message need not follow the [`source`](std::error::Error::source)
/// chain (whose RPC errors print a multi-line trace).
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// A request to the node failed (or its reply did not parse). `request` names it.
    /// (Boxed: the RPC library's error carries a trace, and would make every `Result` of
    /// this module as large.)
    #[error("node RPC {request}: {}", OneLine(source))]
    Rpc {
        request: &'static str,
        #[source]
        source: Box<tendermint_rpc::Error>,
    },
    #[error("bad node address {url:?}: {}", OneLine(source))]
    Url {
        url: String,
        #[source]
        source: Box<tendermint_rpc::Error>,
    },
    #[error("{request} timed out")]
    TimedOut { request: &'static str },
    /// With other nodes to follow, one still syncing (and so behind the chain) is skipped.
    #[error("the node is catching up")]
    CatchingUp,
    #[error("the node ended the NewBlock subscription")]
    SubscriptionEnded,
    /// The task reading the websocket ended: the connection is gone.
    #[error("the websocket connection closed")]
    DriverStopped,
    #[error("the websocket connection failed: {}", OneLine(source))]
    DriverFailed {
        #[source]
        source: Box<tendermint_rpc::Error>,
    },
    #[error("the websocket driver panicked: {source}")]
    DriverPanicked {
        #[source]
        source: tokio::task::JoinError,
    },
    /// The pipeline took no block for the session's wait; the session drops its
    /// subscription, which would buffer events meanwhile.
    #[error("the pipeline is stuck; dropping the subscription meanwhile")]
    PipelineStuck,
    #[error("unsupported node version {version:?}: {reason}")]
    Dialect { version: String, reason: String },
    #[error("node sent garbage at height {height}: {what}")]
    Garbage { height: u64, what: &'static str },
    #[error(transparent)]
    ChainFile(#[from] chain_file::ChainFileError),
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

/// A `tendermint-rpc` error on one line: its messages, outermost first, joined by `: `.
/// Its own `Display` prints its trace instead: `Caused by:` and `Location:` sections on
/// further lines, and a whole backtrace when `RUST_BACKTRACE` is set.
pub(crate) struct OneLine<'a>(pub &'a tendermint_rpc::Error);

impl std::fmt::Display for OneLine<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The trace is the error's source: one message per link, without the locations.
        let Some(trace) = std::error::Error::source(self.0) else {
            return write!(f, "{}", self.0.detail());
        };
        let messages = std::iter::successors(Some(trace), |link| link.source()).map(|link| {
            // A message may quote a node's reply, which may hold line breaks.
            link.to_string()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        });
        for (index, message) in messages.enumerate() {
            if index > 0 {
                f.write_str(": ")?;
            }
            f.write_str(&message)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use tendermint_rpc::{Client as _, HttpClient};

    use super::*;

    /// A `/status` request to a loopback port nothing listens on.
    async fn refused() -> tendermint_rpc::Error {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let client = HttpClient::new(format!("http://127.0.0.1:{port}").as_str()).unwrap();
        client.status().await.unwrap_err()
    }

    #[tokio::test]
    async fn a_failed_request_logs_as_one_line_with_its_cause() {
        let error = SourceError::Rpc {
            request: "/status",
            source: Box::new(refused().await),
        };
        // As `warn!(%error, ...)` renders it.
        let logged = format!("{error}");
        assert!(!logged.contains('\n'), "{logged}");
        assert!(!logged.contains("Caused by"), "{logged}");
        assert!(!logged.contains("Location"), "{logged}");
        assert!(
            logged.starts_with("node RPC /status: HTTP error: "),
            "{logged}"
        );
        assert!(logged.contains("127.0.0.1"), "{logged}");
    }

    #[test]
    fn line_breaks_in_a_message_are_joined() {
        let error = tendermint_rpc::Error::client_internal("first\n  second\n".into());
        assert_eq!(
            OneLine(&error).to_string(),
            "client internal error: first second"
        );
    }
}
