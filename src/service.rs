//! The service: wires a source, the validate stage, the hub and the server together.
//!
//! In: where blocks come from ([`Source`]), the server settings, bound listeners, and a
//! shutdown token. Out: the streams, until shutdown. The stages talk through bounded
//! channels only: source → (`BLOCK_QUEUE` blocks) → validate stage → hub rings → sessions.

use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::error;

use crate::config::{NodeArgs, ServerArgs};
use crate::hub::Hub;
use crate::metrics::Metrics;
use crate::parallel::available_threads;
use crate::server::{self, Listeners, ServerError};
use crate::source::chain_file::{self, ReplayOptions};
use crate::source::{BLOCK_QUEUE, node};

/// Where blocks come from.
#[derive(Debug, Clone)]
pub enum Source {
    /// A live CometBFT node.
    Node(NodeArgs),
    /// A recorded chain file.
    Replay {
        path: PathBuf,
        options: ReplayOptions,
    },
}

/// Runs the service until `shutdown` is cancelled. A replay that reaches the end of its
/// file leaves the server up, so clients keep their connections until shutdown.
pub async fn run(
    source: Source,
    server_args: ServerArgs,
    listeners: Listeners,
    shutdown: CancellationToken,
) -> Result<(), ServerError> {
    let metrics = Arc::new(Metrics::default());
    let hub = Hub::new(server_args.queue, metrics.clone());
    let (blocks_tx, blocks_rx) = mpsc::channel(BLOCK_QUEUE);
    let pipeline = tokio::spawn(crate::pipeline::run(
        blocks_rx,
        hub.clone(),
        metrics.clone(),
        available_threads(),
    ));
    let source_shutdown = shutdown.clone();
    let source_metrics = metrics.clone();
    let source = tokio::spawn(async move {
        match source {
            Source::Node(node) => {
                node::follow(node, blocks_tx, source_metrics, source_shutdown).await
            }
            Source::Replay { path, options } => {
                if let Err(e) = chain_file::replay(&path, options, blocks_tx, source_shutdown).await
                {
                    error!(error = %e, path = %path.display(), "replay stopped");
                }
            }
        }
    });
    let served = server::serve(listeners, &server_args, hub, metrics, shutdown).await;
    source.abort();
    pipeline.abort();
    served
}
