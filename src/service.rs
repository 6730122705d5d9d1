//! The service: wires a source, the validate stage, the hub and the server together.
//!
//! In: where blocks come from ([`Source`]), the opened store, the server settings, bound
//! listeners, and a shutdown token. Out: the streams, until shutdown. The stages talk
//! through bounded channels only: source → (`BLOCK_QUEUE` blocks) → validate stage → store,
//! then hub rings → sessions (which read the store too, for resuming clients).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::error;

use crate::config::{NodeArgs, ServerArgs};
use crate::hub::Hub;
use crate::metrics::Metrics;
use crate::parallel::available_threads;
use crate::server::{self, Listeners, ServerError};
use crate::source::chain_file::{self, ReplayOptions};
use crate::source::{BLOCK_QUEUE, Height, SourceError, node};
use crate::store::Store;

/// How long shutdown waits for the source to stop: it stops at its next await, so this
/// only bounds a stuck one.
const SOURCE_GRACE: Duration = Duration::from_millis(500);

/// Where blocks come from.
#[derive(Debug, Clone)]
pub enum Source {
    /// Live CometBFT nodes; a fresh store begins at `start` (the node's next block when
    /// None).
    Node {
        node: NodeArgs,
        start: Option<Height>,
    },
    /// A recorded chain file.
    Replay {
        path: PathBuf,
        options: ReplayOptions,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Server(#[from] ServerError),
    /// The source stopped for a reason reconnecting cannot fix (a node of another chain
    /// than the store's).
    #[error(transparent)]
    Source(#[from] SourceError),
}

/// Runs the service until `shutdown` is cancelled (or the source fails for good, which
/// shuts the service down and is returned). A replay that reaches the end of its file
/// leaves the server up, so clients keep their connections (and can resume) until
/// shutdown.
pub async fn run(
    source: Source,
    store: Arc<Store>,
    server_args: ServerArgs,
    listeners: Listeners,
    shutdown: CancellationToken,
) -> Result<(), ServiceError> {
    let metrics = Arc::new(Metrics::default());
    if let Some(last) = store.last_height() {
        // What was published before a restart counts as published: lag starts right.
        metrics.record_resumed(last);
    }
    let hub = Hub::new(server_args.queue, metrics.clone());
    let (blocks_tx, blocks_rx) = mpsc::channel(BLOCK_QUEUE);
    let pipeline = tokio::spawn(crate::pipeline::run(
        blocks_rx,
        store.clone(),
        hub.clone(),
        metrics.clone(),
        available_threads(),
    ));
    let source_shutdown = shutdown.clone();
    let source_metrics = metrics.clone();
    let source_store = store.clone();
    let mut source = tokio::spawn(async move {
        match source {
            Source::Node { node, start } => {
                let followed = node::follow(
                    node,
                    start,
                    source_store,
                    blocks_tx,
                    source_metrics,
                    source_shutdown.clone(),
                )
                .await;
                if let Err(e) = &followed {
                    error!(error = %e, "cannot follow the node; shutting down");
                    source_shutdown.cancel();
                }
                followed
            }
            Source::Replay { path, options } => {
                let replayed =
                    chain_file::replay(&path, options, blocks_tx, &source_metrics, source_shutdown)
                        .await;
                if let Err(e) = replayed {
                    error!(error = %e, path = %path.display(), "replay stopped");
                }
                Ok(())
            }
        }
    });
    let served = server::serve(listeners, &server_args, hub, store, metrics, shutdown).await;
    // The source ends promptly once shutdown is cancelled (the server returns only then);
    // waiting for it is how a fatal source error, which cancelled shutdown itself, is not
    // lost to a race with the server's return.
    let sourced = match tokio::time::timeout(SOURCE_GRACE, &mut source).await {
        Ok(Ok(sourced)) => sourced,
        Ok(Err(panic)) => {
            error!(error = %panic, "the source panicked");
            Ok(())
        }
        Err(_) => {
            source.abort();
            Ok(())
        }
    };
    pipeline.abort();
    served?;
    Ok(sourced?)
}
