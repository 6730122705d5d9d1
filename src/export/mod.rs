//! The NATS JetStream export: both streams (and the refused one), published exactly once,
//! in order, for backends that want the events durably and replayable.
//!
//! In: stored blocks (the exporter trails the store, woken by the hub; it never holds the
//! WebSocket streams up), the chain id the store is bound to. Out: JetStream messages laid
//! out by [`layout`], and the exported height, which the store holds pruning back for.
//!
//! Exactly once, in order, whatever fails: the export's position is the stream's own last
//! message, read at every (re)connect ([`stream::position`]); every publish carries a
//! deterministic `Nats-Msg-Id` (a resend inside the duplicate window is dropped by the
//! server) and `Nats-Expected-Last-Sequence` (a message published after one that was lost
//! is refused, so what the stream holds is always a prefix of what was sent, never a
//! sequence with a hole). Publishes are pipelined, each ack checked in order; on any
//! failure the exporter reconnects after a backoff and reads its position again.

mod layout;
mod stream;

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::jetstream::{self, context::PublishAckFuture, message::PublishMessage};
use bytes::Bytes;
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

pub use layout::{Kind, Layout, Position, Step};

use crate::backoff::Backoff;
use crate::chain::Height;
use crate::hub::{Batch, Hub};
use crate::metrics::Metrics;
use crate::store::{Store, StoreError};
use crate::wire::EncodedBlock;

/// The stream's name by default.
pub const DEFAULT_STREAM: &str = "PLANETMINT";

/// Blocks the export may fall behind the store, by default, before the service stops taking
/// blocks rather than prune unexported ones: about 5.5 hours of 1-second blocks, about 1.6
/// GB of store with 100-transaction blocks.
pub const DEFAULT_MAX_BEHIND: u64 = 20_000;

/// Acknowledgements awaited at once: enough to keep a loopback or LAN round trip from
/// pacing the export, well under the client's own limit of in-flight acks (5,000).
const ACK_WINDOW: usize = 1_000;

/// How long an acknowledgement may take before the connection is deemed broken: JetStream
/// acks a file-stored message in milliseconds; a lost one is resolved by reading the
/// position again, not by waiting the client's default 30 s.
const ACK_TIMEOUT: Duration = Duration::from_secs(10);

/// Bytes of stored history read at once while catching up: a few hundred blocks of 100
/// transactions, one read transaction each.
const READ_CHUNK_BYTES: usize = 4 << 20;

/// How often the exporter looks at the store without being woken (a missed wake-up, a
/// quiet chain): a safety net, not the pace.
const IDLE_CHECK: Duration = Duration::from_secs(1);

/// What the export needs to know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportSettings {
    /// The NATS server, e.g. `nats://127.0.0.1:4222`.
    pub url: String,
    /// The JetStream stream's name.
    pub stream: String,
    /// Whether transaction messages carry the body (`"transaction": {…}`).
    pub bodies: bool,
    /// Blocks the export may fall behind before the store stops taking blocks.
    pub max_behind: u64,
    /// Replicas of the stream, when this service creates it.
    pub replicas: usize,
}

impl ExportSettings {
    /// The defaults, exporting to `url`.
    pub fn new(url: impl Into<String>) -> Self {
        ExportSettings {
            url: url.into(),
            stream: DEFAULT_STREAM.into(),
            bodies: false,
            max_behind: DEFAULT_MAX_BEHIND,
            replicas: 1,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("cannot connect to NATS at {url}: {source}")]
    Connect {
        url: String,
        source: async_nats::ConnectError,
    },
    #[error("the NATS stream {stream} {why}; fix or remove it, or name another with --nats-stream")]
    Incompatible { stream: String, why: String },
    #[error(
        "the NATS stream's last message (sequence {sequence}, subject {subject}) was not written by this export; the stream must be this export's alone"
    )]
    Foreign { sequence: u64, subject: String },
    #[error("JetStream: {0}")]
    Stream(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("reading the stream's last message: {0}")]
    Read(#[source] async_nats::jetstream::stream::RawMessageError),
    #[error("publishing block {height}: {source}")]
    Publish {
        height: Height,
        source: async_nats::jetstream::context::PublishError,
    },
    #[error("block {height} acknowledged at sequence {got}, expected {expected}")]
    Sequence {
        height: Height,
        got: u64,
        expected: u64,
    },
    #[error("reading stored blocks: {0}")]
    Store(#[from] StoreError),
    #[error(
        "the NATS stream {stream} cannot be created: {source}; an operator must change its settings or the server's"
    )]
    Create {
        stream: String,
        source: async_nats::jetstream::context::CreateStreamError,
    },
    #[error(
        "the NATS stream's last message (sequence {sequence}) is gone (purged or aged out), so where the export stands is unknown; the stream must keep its messages"
    )]
    LastMessageGone { sequence: u64 },
    /// A bug: the service stops rather than let events pile up unexported.
    #[error("the export panicked: {0}")]
    Panicked(#[source] tokio::task::JoinError),
    #[error(
        "the stream needs block {next}, which the store no longer holds (its history starts at {first})"
    )]
    Pruned { next: Height, first: Height },
}

impl ExportError {
    fn stream(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        ExportError::Stream(Box::new(error))
    }

    fn read(error: async_nats::jetstream::stream::RawMessageError) -> Self {
        ExportError::Read(error)
    }

    /// An operator must change something: retrying cannot help.
    pub fn is_fatal(&self) -> bool {
        matches!(
            self,
            ExportError::Incompatible { .. }
                | ExportError::Foreign { .. }
                | ExportError::Pruned { .. }
        )
    }
}

/// Runs the export until `shutdown`; returns an error only when it cannot go on at all.
pub async fn run(
    settings: ExportSettings,
    store: Arc<Store>,
    hub: Hub,
    metrics: Arc<Metrics>,
    shutdown: CancellationToken,
) -> Result<(), ExportError> {
    let Some(chain) = chain_of(&store, &shutdown).await else {
        return Ok(());
    };
    let layout = Layout::new(&chain);
    let mut wake = hub.subscribe();
    let mut backoff = Backoff::default();
    loop {
        let exported_before = store.exported();
        let session = Session {
            settings: &settings,
            layout: &layout,
            store: &store,
            metrics: &metrics,
        };
        let outcome = tokio::select! {
            () = shutdown.cancelled() => return Ok(()),
            outcome = session.run(&mut wake) => outcome,
        };
        metrics.record_export_connected(false);
        let error = match outcome {
            Err(error) if error.is_fatal() => return Err(error),
            Err(error) => error,
            Ok(()) => return Ok(()),
        };
        if store.exported() != exported_before {
            backoff.reset();
        }
        let pause = backoff.pause();
        metrics.record_export_error();
        warn!(%error, retry_in = ?pause, "export interrupted; reconnecting to NATS");
        tokio::select! {
            () = shutdown.cancelled() => return Ok(()),
            () = tokio::time::sleep(pause) => {}
        }
        metrics.record_export_reconnect();
    }
}

/// The chain id the store is bound to, once it is (the source binds it on first contact).
async fn chain_of(store: &Store, shutdown: &CancellationToken) -> Option<String> {
    loop {
        if let Some(chain) = store.chain_id() {
            return Some(chain);
        }
        tokio::select! {
            () = shutdown.cancelled() => return None,
            () = tokio::time::sleep(Duration::from_millis(100)) => {}
        }
    }
}

/// One connection's worth of exporting.
struct Session<'a> {
    settings: &'a ExportSettings,
    layout: &'a Layout,
    store: &'a Arc<Store>,
    metrics: &'a Metrics,
}

impl Session<'_> {
    async fn run(
        &self,
        wake: &mut tokio::sync::broadcast::Receiver<Batch>,
    ) -> Result<(), ExportError> {
        // The exporter reconnects itself, reading its position first; a client left to
        // reconnect on its own would send its queued publishes into a stream it no longer
        // knows the position of.
        let client = async_nats::ConnectOptions::new()
            .max_reconnects(Some(1))
            .connect(&self.settings.url)
            .await
            .map_err(|source| ExportError::Connect {
                url: self.settings.url.clone(),
                source,
            })?;
        let max_payload = client.server_info().max_payload;
        let js = jetstream::ContextBuilder::new()
            .timeout(ACK_TIMEOUT)
            .ack_timeout(ACK_TIMEOUT)
            .build(client);
        let wanted = stream::config(&self.settings.stream, self.layout, self.settings.replicas);
        let mut nats_stream = stream::ensure(&js, wanted, max_payload).await?;
        let (position, mut last_sequence) = stream::position(&mut nats_stream).await?;
        self.metrics.record_export_connected(true);
        let (mut next, mut step) = match position {
            Position::Empty => (self.store.first_height(), Step::Start),
            Position::Done(height) => (Some(height.next()), Step::Start),
            Position::Within(height, step) => (Some(height), step),
        };
        if position == Position::Empty && self.store.exported().is_some() {
            error!(stream = %self.settings.stream, "the NATS stream is empty although this export wrote to it: NATS lost its data; exporting again from the oldest stored block");
        }
        // An empty stream starts at the oldest stored block: what is before it is gone.
        let exported = match position {
            Position::Empty => self.store.first_height().and_then(Height::previous),
            position => position.exported(),
        };
        self.store.set_exported(exported);
        self.metrics.record_exported(exported);
        info!(stream = %self.settings.stream, ?exported, "exporting to NATS");
        let mut live: Option<Arc<EncodedBlock>> = None;
        loop {
            let Some(from) = next.or(self.store.first_height()) else {
                live = wait(wake).await;
                continue;
            };
            let blocks = match live.take() {
                // Caught up: the hub's copy of the stored block saves reading it back.
                Some(block) if block.height == from => vec![block],
                _ => self.read(from).await?,
            };
            if blocks.is_empty() {
                live = wait(wake).await;
                continue;
            }
            for block in &blocks {
                let messages = self.layout.messages(block, step, self.settings.bodies);
                last_sequence = publish(&js, block.height, messages, last_sequence).await?;
                step = Step::Start;
                next = Some(block.height.next());
                self.store.set_exported(Some(block.height));
                self.metrics.record_exported(Some(block.height));
            }
        }
    }

    /// Stored blocks from `from` on (none yet, if the store does not hold `from` yet); an
    /// error if it no longer does. Read on a blocking thread, like a session's history.
    async fn read(&self, from: Height) -> Result<Vec<Arc<EncodedBlock>>, ExportError> {
        if let Some(first) = self.store.first_height()
            && from < first
        {
            return Err(ExportError::Pruned { next: from, first });
        }
        let store = self.store.clone();
        let blocks = tokio::task::spawn_blocking(move || store.read(from, READ_CHUNK_BYTES))
            .await
            .expect("store reads do not panic")?;
        // A block after `from` means `from` is not there: pruned (caught above on the next
        // round), or a first block committed a moment before its height is mirrored.
        if blocks.first().is_some_and(|block| block.height != from) {
            return Ok(Vec::new());
        }
        Ok(blocks.into_iter().map(Arc::new).collect())
    }
}

/// Waits for the hub's next block (stored before the hub has it), a missed one (None: read
/// the store), or the idle check.
async fn wait(wake: &mut tokio::sync::broadcast::Receiver<Batch>) -> Option<Arc<EncodedBlock>> {
    let woken = async {
        match wake.recv().await {
            Ok(batch) => Some(batch.block),
            Err(RecvError::Lagged(_)) => None,
            // The hub is gone only at shutdown, which the caller watches.
            Err(RecvError::Closed) => std::future::pending().await,
        }
    };
    tokio::time::timeout(IDLE_CHECK, woken).await.ok().flatten()
}

/// Publishes a block's `messages` after the stream's `last` sequence, each expecting the one
/// before it, acks checked in order; returns the new last sequence.
async fn publish(
    js: &jetstream::Context,
    height: Height,
    messages: Vec<layout::Outgoing>,
    mut last: u64,
) -> Result<u64, ExportError> {
    let failed = |source| ExportError::Publish { height, source };
    let mut pending: VecDeque<(u64, PublishAckFuture)> = VecDeque::with_capacity(ACK_WINDOW);
    let mut expected = last;
    for message in messages {
        if pending.len() == ACK_WINDOW {
            let (sequence, ack) = pending.pop_front().expect("a full window");
            last = acked(height, sequence, ack).await?;
        }
        let mut headers = HeaderMap::new();
        for (name, value) in &message.headers {
            headers.insert(*name, value.as_str());
        }
        let mut publish = PublishMessage::build()
            .payload(Bytes::from(message.payload))
            .headers(headers)
            .expected_last_sequence(expected);
        if expected == 0 {
            // nats-server ignores an expected last sequence of 0: into an empty stream the
            // first message is guarded by its subject being new instead.
            publish = publish.expected_last_subject_sequence(0);
        }
        let ack = js
            .send_publish(message.subject, publish)
            .await
            .map_err(failed)?;
        expected += 1;
        pending.push_back((expected, ack));
    }
    for (sequence, ack) in pending {
        last = acked(height, sequence, ack).await?;
    }
    Ok(last)
}

/// The acknowledged sequence, which must be `expected`.
async fn acked(height: Height, expected: u64, ack: PublishAckFuture) -> Result<u64, ExportError> {
    let ack = ack
        .await
        .map_err(|source| ExportError::Publish { height, source })?;
    if ack.sequence != expected {
        // A duplicate (acknowledged with the sequence it was first stored at): the stream is
        // not where this session thought. Read the position again.
        return Err(ExportError::Sequence {
            height,
            got: ack.sequence,
            expected,
        });
    }
    Ok(ack.sequence)
}
