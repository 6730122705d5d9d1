//! Chain files: recorded node responses, replayed through the same pipeline as a live node.
//!
//! A chain file is JSON Lines. Line 1 is `{"status": <the node's /status response>}`; every
//! further line is `{"height": H, "block": <its /block response>, "block_results": <its
//! /block_results response>}`, heights increasing. The responses are the node's JSON-RPC
//! replies verbatim (whitespace outside strings removed to keep one block per line), so a
//! file is parsed exactly as a live reply would be, by `tendermint-rpc` in the dialect its
//! status names.
//!
//! In (replay): a file. Out: [`RawBlock`]s on the pipeline's channel. In (record): a node's
//! HTTP RPC. Out: a file.

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use serde_json::value::RawValue;
use tendermint_rpc::Response as _;
use tendermint_rpc::client::CompatMode;
use tendermint_rpc::endpoint::{block, block_results, status};
use tokio::io::{AsyncBufReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use super::{Height, RawBlock, SourceError, dialect_from_version};
use crate::config::NodeArgs;
use crate::metrics::{Metrics, NodeInfo};

#[derive(Deserialize)]
struct StatusLine<'a> {
    #[serde(borrow)]
    status: &'a RawValue,
}

#[derive(Deserialize)]
struct BlockLine<'a> {
    height: u64,
    #[serde(borrow)]
    block: &'a RawValue,
    #[serde(borrow)]
    block_results: &'a RawValue,
}

/// Parses line 1: the node's status, which names the dialect.
pub fn parse_status(line: &str) -> Result<status::Response, SourceError> {
    let bad = |what: String| SourceError::ChainFile { line: 1, what };
    let parsed: StatusLine = serde_json::from_str(line).map_err(|e| bad(e.to_string()))?;
    status::Response::from_string(parsed.status.get()).map_err(|e| bad(e.to_string()))
}

/// Parses one block line in `dialect`.
pub fn parse_block(
    line: &str,
    number: usize,
    dialect: CompatMode,
) -> Result<RawBlock, SourceError> {
    let bad = |what: String| SourceError::ChainFile { line: number, what };
    let parsed: BlockLine = serde_json::from_str(line).map_err(|e| bad(e.to_string()))?;
    let block = block::Response::from_string(parsed.block.get()).map_err(|e| bad(e.to_string()))?;
    let results =
        parse_block_results(parsed.block_results.get(), dialect).map_err(|e| bad(e.to_string()))?;
    if block.block.header.height.value() != parsed.height
        || results.height != block.block.header.height
    {
        return Err(bad("heights of the line, block and results differ".into()));
    }
    let app_hash = (dialect == CompatMode::V0_38).then_some(&results.app_hash);
    RawBlock::new(
        &block.block,
        results.txs_results.as_deref().unwrap_or_default(),
        app_hash,
    )
}

/// `/block_results` replies differ by dialect: 0.34 has `DeliverTx` results.
pub fn parse_block_results(
    text: &str,
    dialect: CompatMode,
) -> Result<block_results::Response, tendermint_rpc::Error> {
    match dialect {
        CompatMode::V0_34 => {
            block_results::v0_34::DialectResponse::from_string(text).map(Into::into)
        }
        _ => block_results::Response::from_string(text),
    }
}

/// Settings of a replay.
#[derive(Debug, Clone, Copy)]
pub struct ReplayOptions {
    /// Pause between blocks, as a node's block time would space them.
    pub interval: Duration,
    /// Overrides the dialect the file's status names.
    pub dialect: Option<CompatMode>,
}

/// Replays `path` into `blocks` until the file ends, the pipeline closes, or `shutdown`.
/// A line that does not parse is logged and skipped. `metrics` hears of each height, as
/// the node's latest, and of the file as the node followed.
pub async fn replay(
    path: &Path,
    options: ReplayOptions,
    blocks: mpsc::Sender<RawBlock>,
    metrics: &Metrics,
    shutdown: CancellationToken,
) -> Result<(), SourceError> {
    let file = tokio::fs::File::open(path).await?;
    let mut lines = BufReader::new(file).lines();
    let first = lines.next_line().await?.ok_or(SourceError::ChainFile {
        line: 1,
        what: "empty file".into(),
    })?;
    let status = parse_status(&first)?;
    let dialect = match options.dialect {
        Some(dialect) => dialect,
        None => dialect_from_version(&status.node_info.version.to_string())?,
    };
    let chain_id = status.node_info.network.to_string();
    info!(path = %path.display(), %dialect, chain = %chain_id, "replaying chain file");
    metrics.record_node(Some(NodeInfo {
        url: path.display().to_string(),
        dialect: dialect.to_string(),
        chain_id,
    }));
    let mut number = 1;
    let mut last: Option<Height> = None;
    while let Some(line) = lines.next_line().await? {
        number += 1;
        let block = match parse_block(&line, number, dialect) {
            Ok(block) => block,
            Err(e) => {
                error!(error = %e, "skipping chain file line");
                continue;
            }
        };
        if last.is_some_and(|last| block.height <= last) {
            warn!(height = %block.height, line = number, "skipping block: height not increasing");
            continue;
        }
        last = Some(block.height);
        metrics.record_node_height(block.height);
        tokio::select! {
            () = shutdown.cancelled() => return Ok(()),
            sent = blocks.send(block) => if sent.is_err() { return Err(SourceError::Closed) },
        }
        tokio::select! {
            () = shutdown.cancelled() => return Ok(()),
            () = tokio::time::sleep(options.interval) => {}
        }
    }
    info!("chain file replayed");
    Ok(())
}

/// How long `record` waits for a node that has not stored a block's results yet, between
/// its attempts, and how many attempts it makes: results lag a block by one commit.
const RESULTS_RETRY: Duration = Duration::from_millis(500);
const RESULTS_ATTEMPTS: u32 = 20;

/// Writes a chain file of heights `from..=to` (to the node's latest height when `to` is
/// absent) from the node's HTTP RPC.
pub async fn record(
    node: &NodeArgs,
    from: Height,
    to: Option<Height>,
    out: &mut (impl AsyncWrite + Unpin),
) -> Result<u64, SourceError> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| SourceError::Rpc(e.to_string()))?;
    let base = node.http_url();
    let get = |path: String| {
        let client = client.clone();
        let url = format!("{base}{path}");
        async move {
            let text = client
                .get(&url)
                .send()
                .await
                .and_then(|r| r.error_for_status())
                .map_err(|e| SourceError::Rpc(format!("{url}: {e}")))?
                .text()
                .await
                .map_err(|e| SourceError::Rpc(format!("{url}: {e}")))?;
            Ok::<String, SourceError>(compact(&text))
        }
    };
    let status_text = get("/status".into()).await?;
    let status =
        status::Response::from_string(&status_text).map_err(|e| SourceError::Rpc(e.to_string()))?;
    let dialect = match node.dialect {
        Some(dialect) => dialect,
        None => dialect_from_version(&status.node_info.version.to_string())?,
    };
    let to = to.map_or(status.sync_info.latest_block_height.value(), Height::get);
    out.write_all(format!("{{\"status\":{status_text}}}\n").as_bytes())
        .await?;
    let mut written = 0;
    for height in from.get()..=to {
        let block = get(format!("/block?height={height}")).await?;
        block::Response::from_string(&block).map_err(|e| SourceError::Rpc(e.to_string()))?;
        let mut attempt = 0;
        let results = loop {
            let results = get(format!("/block_results?height={height}")).await?;
            match parse_block_results(&results, dialect) {
                Ok(_) => break results,
                Err(e) if attempt + 1 < RESULTS_ATTEMPTS => {
                    attempt += 1;
                    warn!(height, attempt, error = %e, "results not ready; retrying");
                    tokio::time::sleep(RESULTS_RETRY).await;
                }
                Err(e) => return Err(SourceError::Rpc(e.to_string())),
            }
        };
        out.write_all(
            format!("{{\"height\":{height},\"block\":{block},\"block_results\":{results}}}\n")
                .as_bytes(),
        )
        .await?;
        written += 1;
    }
    out.flush().await?;
    Ok(written)
}

/// Removes the whitespace outside strings, changing nothing else: nodes pretty-print
/// their replies, and a chain file holds one reply per line.
fn compact(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    let mut in_string = false;
    let mut escaped = false;
    for c in json.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if !c.is_ascii_whitespace() {
            in_string = c == '"';
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_keeps_strings_and_order() {
        assert_eq!(
            compact("{\n  \"b\": \"a \\\" b\",\n  \"a\": [1, 2]\n}\n"),
            r#"{"b":"a \" b","a":[1,2]}"#
        );
    }
}
