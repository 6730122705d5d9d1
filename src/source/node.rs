//! The live source: follows a CometBFT node.
//!
//! In: the node's RPC (`/status`, NewBlock events on `/websocket`, `/block` and
//! `/block_results` over HTTP), through `tendermint-rpc` in the node's dialect. Out: one
//! [`RawBlock`] per height, strictly increasing, on the pipeline's channel.
//!
//! A session reads `/status` to pick the dialect, subscribes to NewBlock, and for each event
//! first fills any gap since the last block it sent from `/block` + `/block_results`. The
//! result codes come with the event in 0.38 and from `/block_results` before that (retried
//! while the node has not stored them yet). When anything fails (the node is down, the
//! socket drops, the subscription is cancelled, the driver exits), the supervisor logs it,
//! waits a capped, growing backoff, and starts a new session from the last height sent, so
//! the node going away never stops the service.

use std::time::Duration;

use futures_util::StreamExt as _;
use tendermint::abci::types::ExecTxResult;
use tendermint::{AppHash, Block};
use tendermint_rpc::client::CompatMode;
use tendermint_rpc::event::EventData;
use tendermint_rpc::query::EventType;
use tendermint_rpc::{Client as _, HttpClient, SubscriptionClient as _, WebSocketClient};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use super::{Height, RawBlock, SourceError, dialect_from_version};
use crate::config::NodeArgs;
use crate::metrics::Metrics;

/// First and largest pause between reconnection attempts: quick enough to ride out a node
/// restart, capped so a long outage costs one log line every 10 s.
const BACKOFF_FIRST: Duration = Duration::from_millis(200);
const BACKOFF_MAX: Duration = Duration::from_secs(10);

/// A node stores a block's results as it commits, a moment after the NewBlock event; these
/// bound how long we wait for them (about 6 s in all) before treating the node as broken.
const RESULTS_FIRST_WAIT: Duration = Duration::from_millis(50);
const RESULTS_MAX_WAIT: Duration = Duration::from_secs(1);
const RESULTS_ATTEMPTS: u32 = 12;

/// Bounds each HTTP request, so a hung node fails the session instead of stalling it.
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

/// Follows the node until `shutdown` or until the pipeline closes.
pub async fn follow(
    node: NodeArgs,
    blocks: mpsc::Sender<RawBlock>,
    metrics: std::sync::Arc<Metrics>,
    shutdown: CancellationToken,
) {
    let mut last: Option<Height> = None;
    let mut backoff = BACKOFF_FIRST;
    let mut attempt: u64 = 0;
    loop {
        attempt += 1;
        let sent_before = last;
        let outcome = tokio::select! {
            () = shutdown.cancelled() => return,
            outcome = session(&node, &mut last, &blocks) => outcome,
        };
        match outcome {
            Err(SourceError::Closed) => return,
            Err(error) => {
                if last != sent_before {
                    // The session made progress: the next failure starts the backoff over.
                    backoff = BACKOFF_FIRST;
                }
                warn!(
                    %error,
                    attempt,
                    retry_in = ?backoff,
                    node = %node.http_url(),
                    "lost the node; reconnecting"
                );
                metrics.record_reconnect();
            }
            Ok(()) => return,
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(BACKOFF_MAX);
    }
}

fn rpc(error: impl std::fmt::Display) -> SourceError {
    SourceError::Rpc(error.to_string())
}

/// One connection to the node; returns only on failure (or `Closed`).
async fn session(
    node: &NodeArgs,
    last: &mut Option<Height>,
    blocks: &mpsc::Sender<RawBlock>,
) -> Result<(), SourceError> {
    let mut http = HttpClient::builder(node.http_url().parse().map_err(rpc)?)
        .timeout(HTTP_TIMEOUT)
        .build()
        .map_err(rpc)?;
    let status = http.status().await.map_err(rpc)?;
    let dialect = match node.dialect {
        Some(dialect) => dialect,
        None => dialect_from_version(&status.node_info.version.to_string())?,
    };
    http.set_compat_mode(dialect);
    let (ws, driver) = WebSocketClient::builder(node.websocket_url().parse().map_err(rpc)?)
        .compat_mode(dialect)
        .build()
        .await
        .map_err(rpc)?;
    let mut driver = tokio::spawn(driver.run());
    let mut events = ws
        .subscribe(EventType::NewBlock.into())
        .await
        .map_err(rpc)?;
    info!(
        node = %node.http_url(),
        %dialect,
        chain = %status.node_info.network,
        latest = %status.sync_info.latest_block_height,
        "following the node"
    );
    let result = async {
        loop {
            let event = tokio::select! {
                exited = &mut driver => {
                    return Err(SourceError::Rpc(match exited {
                        Ok(Ok(())) => "websocket driver stopped".into(),
                        Ok(Err(e)) => format!("websocket driver failed: {e}"),
                        Err(e) => format!("websocket driver panicked: {e}"),
                    }));
                }
                event = events.next() => event
                    .ok_or_else(|| SourceError::Rpc("subscription ended".into()))?
                    .map_err(rpc)?,
            };
            let (block, results, app_hash) = match event.data {
                EventData::NewBlock {
                    block: Some(block),
                    result_finalize_block,
                    ..
                } => match result_finalize_block {
                    Some(f) => (block, Some(f.tx_results), Some(f.app_hash)),
                    None => (block, None, None),
                },
                EventData::LegacyNewBlock {
                    block: Some(block), ..
                } => (block, None, None),
                other => {
                    warn!(event = ?other, "NewBlock event without a block; ignored");
                    continue;
                }
            };
            let height = Height::new(block.header.height.value()).ok_or(SourceError::Garbage {
                height: 0,
                what: "block height 0",
            })?;
            if last.is_some_and(|last| height <= last) {
                debug!(%height, "already sent; ignored");
                continue;
            }
            if let Some(from) = *last {
                let mut missing = from.next();
                while missing < height {
                    warn!(%missing, %height, "filling a gap in the event stream");
                    send(blocks, fetch(&http, missing, dialect).await?, last).await?;
                    missing = missing.next();
                }
            }
            let raw = match results {
                Some(results) => RawBlock::new(&block, &results, app_hash.as_ref())?,
                None => {
                    let results = results_with_retry(&http, height).await?;
                    raw_block(&block, &results, dialect)?
                }
            };
            send(blocks, raw, last).await?;
        }
    }
    .await;
    driver.abort();
    let _ = ws.close();
    result
}

async fn send(
    blocks: &mpsc::Sender<RawBlock>,
    raw: RawBlock,
    last: &mut Option<Height>,
) -> Result<(), SourceError> {
    let height = raw.height;
    blocks.send(raw).await.map_err(|_| SourceError::Closed)?;
    *last = Some(height);
    Ok(())
}

/// A block and its results over HTTP, for heights the event stream did not deliver.
async fn fetch(
    http: &HttpClient,
    height: Height,
    dialect: CompatMode,
) -> Result<RawBlock, SourceError> {
    let block = http
        .block(tendermint::block::Height::try_from(height.get()).map_err(rpc)?)
        .await
        .map_err(rpc)?;
    let results = results_with_retry(http, height).await?;
    raw_block(&block.block, &results, dialect)
}

fn raw_block(
    block: &Block,
    results: &tendermint_rpc::endpoint::block_results::Response,
    dialect: CompatMode,
) -> Result<RawBlock, SourceError> {
    let no_results: &[ExecTxResult] = &[];
    let app_hash: Option<&AppHash> = (dialect == CompatMode::V0_38).then_some(&results.app_hash);
    RawBlock::new(
        block,
        results.txs_results.as_deref().unwrap_or(no_results),
        app_hash,
    )
}

async fn results_with_retry(
    http: &HttpClient,
    height: Height,
) -> Result<tendermint_rpc::endpoint::block_results::Response, SourceError> {
    let at = tendermint::block::Height::try_from(height.get()).map_err(rpc)?;
    let mut wait = RESULTS_FIRST_WAIT;
    let mut attempt = 1;
    loop {
        match http.block_results(at).await {
            Ok(results) => return Ok(results),
            Err(error) if attempt < RESULTS_ATTEMPTS => {
                debug!(%height, attempt, %error, "results not stored yet; retrying");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(RESULTS_MAX_WAIT);
                attempt += 1;
            }
            Err(error) => return Err(rpc(error)),
        }
    }
}
