//! The service: wires a block source, the validate stage, the hub and the server together.
//!
//! In: any [`BlockSource`], the opened store, the server settings, the NATS export's (if
//! any), bound listeners, and a shutdown token. Out: the streams, until shutdown. The stages
//! talk through bounded channels only: source → (`BLOCK_QUEUE` blocks) → validate stage →
//! store, then the hub's ring → sessions (which read the store too, for resuming clients);
//! the exporter trails the store beside the hub, woken by it.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::error;

use crate::export::{self, ExportError, ExportSettings};
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
    /// The export cannot go on (an incompatible stream): an operator must act.
    #[error(transparent)]
    Export(#[from] ExportError),
}

/// Runs the service until `shutdown` is cancelled (or the source fails for good, which
/// shuts the service down and is returned). A source that ends (a replay at the end of
/// its file) leaves the server up, so clients keep their connections (and can resume)
/// until shutdown.
pub async fn run(
    source: impl BlockSource,
    store: Arc<Store>,
    settings: ServerSettings,
    export: Option<ExportSettings>,
    listeners: Listeners,
    shutdown: CancellationToken,
) -> Result<(), ServiceError> {
    let mut metrics = Metrics::default();
    if let Some(export) = &export {
        metrics.enable_export();
        store.hold_for_export(export.max_behind);
    }
    let metrics = Arc::new(metrics);
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
    let exporter = export.map(|export| {
        let (store, hub, metrics) = (store.clone(), hub.clone(), metrics.clone());
        let export_shutdown = shutdown.clone();
        tokio::spawn(async move {
            let exporting = export::run(export, store, hub, metrics, export_shutdown.clone());
            // An export that stops (fatally, or by a panic, a bug) stops the service: its
            // events would pile up unexported until the store's limit, unexplained.
            let exported = tokio::spawn(exporting)
                .await
                .unwrap_or_else(|panic| Err(ExportError::Panicked(panic)));
            export_shutdown.cancel();
            exported
        })
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
    let exported = match exporter {
        Some(exporter) => match tokio::time::timeout(SOURCE_GRACE, exporter).await {
            Ok(Ok(exported)) => exported,
            Ok(Err(panic)) => {
                error!(error = %panic, "the export task panicked");
                Ok(())
            }
            Err(_) => Ok(()),
        },
        None => Ok(()),
    };
    served?;
    sourced?;
    Ok(exported?)
}
