//! The service: wires a block source, the validate stage, the hub and the server together.
//!
//! In: any [`BlockSource`], the opened store, the server settings, bound listeners, and a
//! shutdown token. Out: the streams, until shutdown. The stages talk through bounded
//! channels only: source → (`BLOCK_QUEUE` blocks) → validate stage → store, then hub
//! rings → sessions (which read the store too, for resuming clients).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::error;

use crate::hub::Hub;
use crate::metrics::Metrics;
use crate::parallel::available_threads;
use crate::pipeline::{self, BLOCK_QUEUE};
use crate::server::{self, Listeners, ServerError, ServerSettings};
use crate::source::{BlockSource, SourceContext, SourceError};
use crate::store::Store;

/// How long shutdown waits for the source to stop: it stops at its next await, so this
/// only bounds a stuck one.
const SOURCE_GRACE: Duration = Duration::from_millis(500);

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
/// shuts the service down and is returned). A source that ends (a replay at the end of
/// its file) leaves the server up, so clients keep their connections (and can resume)
/// until shutdown.
pub async fn run(
    source: impl BlockSource,
    store: Arc<Store>,
    settings: ServerSettings,
    listeners: Listeners,
    shutdown: CancellationToken,
) -> Result<(), ServiceError> {
    let metrics = Arc::new(Metrics::default());
    if let Some(last) = store.last_height() {
        // What was published before a restart counts as published: lag starts right.
        metrics.record_resumed(last);
    }
    let hub = Hub::new(settings.subscriber_queue_blocks, metrics.clone());
    let (blocks, blocks_rx) = mpsc::channel(BLOCK_QUEUE);
    let pipeline = tokio::spawn(pipeline::run(
        blocks_rx,
        store.clone(),
        hub.clone(),
        metrics.clone(),
        available_threads(),
    ));
    let context = SourceContext {
        blocks,
        store: store.clone(),
        metrics: metrics.clone(),
        shutdown: shutdown.clone(),
    };
    let source_shutdown = shutdown.clone();
    let mut source = tokio::spawn(async move {
        let sourced = source.run(context).await;
        if sourced.is_err() {
            source_shutdown.cancel();
        }
        sourced
    });
    let served = server::serve(listeners, &settings, hub, store, metrics, shutdown).await;
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
