//! Chain files: recorded node responses, replayed through the same pipeline as a live node.
//!
//! A chain file is JSON Lines. Line 1 is `{"status": <the node's /status response>}`; every
//! further line is `{"height": H, "block": <its /block response>, "block_results": <its
//! /block_results response>}`, heights increasing. The responses are the node's JSON-RPC
//! replies verbatim (whitespace outside strings removed to keep one block per line), so a
//! file is parsed exactly as a live reply would be, by `tendermint-rpc` in the dialect its
//! status names.
//!
//! In (replay): a file. Out: [`RawBlock`]s on the pipeline's channel. A file that cannot
//! be opened, or whose first line is not a status, is refused by [`Replay::open`] before
//! anything is served; a later line that does not parse is logged and skipped. In
//! (record): a node's HTTP RPC. Out: a file.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use serde_json::value::RawValue;
use tendermint_rpc::Response as _;
use tendermint_rpc::client::CompatMode;
use tendermint_rpc::endpoint::{block, block_results, status};
use tokio::fs::File;
use tokio::io::{AsyncBufReadExt, AsyncWrite, AsyncWriteExt, BufReader, Lines};
use tracing::{error, info, warn};

use super::node::Endpoint;
use super::{BlockSource, OneLine, SourceContext, SourceError, dialect, raw_block};
use crate::chain::{Height, RawBlock};
use crate::metrics::NodeInfo;

/// What is wrong with a chain file, or with recording one.
#[derive(Debug, thiserror::Error)]
pub enum ChainFileError {
    /// A file `replay` cannot start on: which file, and why.
    #[error("cannot replay {path}: {source}")]
    Unusable {
        path: PathBuf,
        #[source]
        source: Box<ChainFileError>,
    },
    #[error("chain file: {0}")]
    Io(#[from] std::io::Error),
    #[error("chain file is empty: line 1 must be the node's status")]
    Empty,
    #[error("chain file line {line}: {source}")]
    Json {
        line: usize,
        #[source]
        source: serde_json::Error,
    },
    /// (Boxed: the RPC library's error carries a trace, and would make every `Result` of
    /// this module as large.)
    #[error("chain file line {line}: {}", OneLine(source))]
    Reply {
        line: usize,
        #[source]
        source: Box<tendermint_rpc::Error>,
    },
    #[error("chain file line {line}: the heights of the line, block and results differ")]
    Heights { line: usize },
    #[error("fetching {url}: {source}")]
    Fetch {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("the node's reply to {url}: {}", OneLine(source))]
    NodeReply {
        url: String,
        #[source]
        source: Box<tendermint_rpc::Error>,
    },
}

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
pub fn parse_status(line: &str) -> Result<status::Response, ChainFileError> {
    let parsed: StatusLine =
        serde_json::from_str(line).map_err(|source| ChainFileError::Json { line: 1, source })?;
    status::Response::from_string(parsed.status.get()).map_err(|source| ChainFileError::Reply {
        line: 1,
        source: Box::new(source),
    })
}

/// Parses one block line in `dialect`.
pub fn parse_block(
    line: &str,
    number: usize,
    dialect: CompatMode,
) -> Result<RawBlock, SourceError> {
    let reply = |source| ChainFileError::Reply {
        line: number,
        source: Box::new(source),
    };
    let parsed: BlockLine = serde_json::from_str(line).map_err(|source| ChainFileError::Json {
        line: number,
        source,
    })?;
    let block = block::Response::from_string(parsed.block.get()).map_err(reply)?;
    let results = parse_block_results(parsed.block_results.get(), dialect).map_err(reply)?;
    if block.block.header.height.value() != parsed.height
        || results.height != block.block.header.height
    {
        return Err(ChainFileError::Heights { line: number }.into());
    }
    raw_block(&block.block, &results, dialect)
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

/// An opened chain file, its status read: the source that replays it.
pub struct Replay {
    path: PathBuf,
    lines: Lines<BufReader<File>>,
    dialect: CompatMode,
    chain_id: String,
    interval: Duration,
}

impl Replay {
    /// Opens `path` and reads its status line; a missing or unreadable file, or a first
    /// line that is not a status, is refused here, before anything is served.
    pub async fn open(path: &Path, options: ReplayOptions) -> Result<Replay, SourceError> {
        let opened = async {
            let mut lines = BufReader::new(File::open(path).await?).lines();
            let first = lines.next_line().await?.ok_or(ChainFileError::Empty)?;
            Ok((parse_status(&first)?, lines))
        };
        let (status, lines) = opened.await.map_err(|source| ChainFileError::Unusable {
            path: path.to_owned(),
            source: Box::new(source),
        })?;
        Ok(Replay {
            path: path.to_owned(),
            lines,
            dialect: dialect(options.dialect, &status.node_info.version.to_string())?,
            chain_id: status.node_info.network.to_string(),
            interval: options.interval,
        })
    }
}

impl BlockSource for Replay {
    /// Replays the file until it ends, the pipeline closes, or shutdown. Blocks at or below
    /// the store's last height are skipped. Reading failing midway is logged, and the
    /// streams stay up for the clients that have them.
    async fn run(mut self, context: SourceContext) -> Result<(), SourceError> {
        let path = self.path.display().to_string();
        info!(path, dialect = %self.dialect, chain = %self.chain_id, "replaying chain file");
        context.metrics.record_node(Some(NodeInfo {
            url: path.clone(),
            dialect: self.dialect.to_string(),
            chain_id: self.chain_id.clone(),
        }));
        // Bound like a followed node's, so a store of another chain is refused and the
        // export knows its subjects.
        context.store.claim_chain(&self.chain_id)?;
        match self.replay(&context).await {
            Err(SourceError::ChainFile(error)) => {
                error!(%error, path, "replay stopped");
                Ok(())
            }
            // The pipeline is gone only at shutdown.
            Err(SourceError::Closed) => Ok(()),
            replayed => replayed,
        }
    }
}

impl Replay {
    async fn replay(&mut self, context: &SourceContext) -> Result<(), SourceError> {
        let mut number = 1;
        let mut last = context.store.last_height();
        while let Some(line) = self.lines.next_line().await.map_err(ChainFileError::from)? {
            number += 1;
            let block = match parse_block(&line, number, self.dialect) {
                Ok(block) => block,
                Err(error) => {
                    error!(%error, "skipping chain file line");
                    continue;
                }
            };
            if last.is_some_and(|last| block.height <= last) {
                warn!(height = %block.height, line = number, "skipping block: height not after the last one");
                continue;
            }
            last = Some(block.height);
            context.metrics.record_node_height(block.height);
            tokio::select! {
                () = context.shutdown.cancelled() => return Ok(()),
                sent = context.blocks.send(block) => if sent.is_err() { return Err(SourceError::Closed) },
            }
            tokio::select! {
                () = context.shutdown.cancelled() => return Ok(()),
                () = tokio::time::sleep(self.interval) => {}
            }
        }
        info!("chain file replayed");
        Ok(())
    }
}

/// Bounds each request `record` makes: a node answers from disk, so 30 s is a hung node.
const RECORD_TIMEOUT: Duration = Duration::from_secs(30);

/// Writes a chain file of heights `from..=to` (to the node's latest height when `to` is
/// absent) from `node`'s HTTP RPC, in `dialect` (or the one its status names).
pub async fn record(
    node: &Endpoint,
    dialect_flag: Option<CompatMode>,
    from: Height,
    to: Option<Height>,
    out: &mut (impl AsyncWrite + Unpin),
) -> Result<u64, SourceError> {
    let client = reqwest::Client::builder()
        .timeout(RECORD_TIMEOUT)
        .build()
        .map_err(|source| ChainFileError::Fetch {
            url: node.http.clone(),
            source,
        })?;
    let get = |path: String| {
        let client = client.clone();
        let url = format!("{}{path}", node.http);
        async move {
            let fetched = async {
                client
                    .get(&url)
                    .send()
                    .await?
                    .error_for_status()?
                    .text()
                    .await
            };
            match fetched.await {
                Ok(text) => Ok(compact(&text)),
                Err(source) => Err(ChainFileError::Fetch { url, source }),
            }
        }
    };
    let reply = |url: &str| {
        let url = url.to_owned();
        move |source| ChainFileError::NodeReply {
            url,
            source: Box::new(source),
        }
    };
    let status_text = get("/status".into()).await?;
    let status = status::Response::from_string(&status_text).map_err(reply("/status"))?;
    let dialect = dialect(dialect_flag, &status.node_info.version.to_string())?;
    let to = to.map_or(status.sync_info.latest_block_height.value(), Height::get);
    out.write_all(format!("{{\"status\":{status_text}}}\n").as_bytes())
        .await
        .map_err(ChainFileError::from)?;
    let mut written = 0;
    for height in from.get()..=to {
        let path = format!("/block?height={height}");
        let block = get(path.clone()).await?;
        block::Response::from_string(&block).map_err(reply(&path))?;
        let path = format!("/block_results?height={height}");
        let results = super::until_results_stored(height, || async {
            let results = get(path.clone()).await?;
            parse_block_results(&results, dialect).map_err(reply(&path))?;
            Ok::<_, ChainFileError>(results)
        })
        .await?;
        out.write_all(
            format!("{{\"height\":{height},\"block\":{block},\"block_results\":{results}}}\n")
                .as_bytes(),
        )
        .await
        .map_err(ChainFileError::from)?;
        written += 1;
    }
    out.flush().await.map_err(ChainFileError::from)?;
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
