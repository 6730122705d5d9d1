//! Sessions: one task per WebSocket subscriber, frames from the hub (and, for a client
//! resuming with `?from_height=N`, from the store) out to its socket.
//!
//! In: the subscriber's cursor into a hub ring, the store, its socket, the shutdown
//! signal. Out: text frames, pings, and a close frame with a stable reason when the
//! session ends:
//!
//! | why                               | close code | reason                 |
//! |-----------------------------------|------------|------------------------|
//! | fell a whole queue behind         | 1008       | `slow consumer`        |
//! | resumed history was pruned first  | 1008       | `history expired`      |
//! | sent a message over the limit     | 1009       | `message too big`      |
//! | silent past the idle timeout      | 1000       | `idle timeout`         |
//! | the store could not be read       | 1011       | `internal error`       |
//! | the service is shutting down      | 1001       | `server shutting down` |
//!
//! A resuming session is a cursor: the next height it owes its client. It reads the store
//! while the store holds that height, a chunk at a time at the client's own pace, then
//! takes the ring's batches, skipping the heights it already sent. The ring subscription
//! is made before the upgrade and the store is written before the ring, so every height is
//! in one or the other: the hand-over from history to live has no gap and no duplicate.
//! While catching up the ring may lap the session; that costs nothing, since the store
//! has those blocks. Once live, falling a ring behind is a slow consumer, as for everyone.
//!
//! A session never blocks anyone else: the hub never waits for it, and its own sends are
//! bounded by [`SEND_TIMEOUT`], so a client that stops reading is cut off, not waited for.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::SinkExt as _;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, broadcast};
use tokio::time::{Instant, MissedTickBehavior, interval_at, sleep_until, timeout};
use tokio_util::sync::CancellationToken;
use tracing::{debug, error, info};

use crate::hub::{Batch, EncodedBlock, Stream};
use crate::metrics::{CloseReason, Metrics};
use crate::source::Height;
use crate::store::{Store, StoreError};

/// Largest message (and frame) a client may send; clients have nothing to say beyond
/// pings, so 64 KiB is generous, and it caps what one client can make us buffer.
pub const MAX_CLIENT_MESSAGE: usize = 64 << 10;

/// How long writing one block's frames (or one chunk of history) to a client may take. A
/// healthy client on a slow link drains them in well under a second; one that stopped
/// reading would otherwise pin its session forever.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// History read and written at once: about this many bytes of frames (at least one
/// block), one read transaction and one flush per chunk. A client on a slow link still
/// takes a chunk well within [`SEND_TIMEOUT`] (1 MiB in 10 s is 0.8 Mbit/s).
const HISTORY_CHUNK_BYTES: usize = 1 << 20;

/// History reads in flight across all sessions: a reconnect storm of thousands of
/// resuming clients queues here instead of holding thousands of chunks in memory (this
/// bounds it to 16 chunks) or crowding the blocking pool the validate stage also uses.
pub const HISTORY_READERS: usize = 16;

/// Per-session settings.
#[derive(Debug, Clone, Copy)]
pub struct SessionConfig {
    pub ping_interval: Duration,
    pub idle_timeout: Duration,
}

/// Where a subscriber's stream comes from.
pub struct Feed {
    pub stream: Stream,
    /// Its cursor into the hub's ring, taken before the upgrade.
    pub live: broadcast::Receiver<Batch>,
    pub store: Arc<Store>,
    /// Permits for history reads, shared by every session ([`HISTORY_READERS`]).
    pub history_reads: Arc<Semaphore>,
    /// The first height to send (`?from_height=N`); the next live block when absent.
    pub from: Option<Height>,
}

/// How a session ended, for the log and the counters.
enum End {
    ClientLeft,
    SocketError,
    Closed(CloseReason),
    StoreFailed,
    Shutdown,
}

/// Serves one subscriber until either side ends the session. `_permit` is its slot under
/// the client limit, released when the session ends.
pub async fn run(
    mut socket: WebSocket,
    feed: Feed,
    config: SessionConfig,
    shutdown: CancellationToken,
    metrics: Arc<Metrics>,
    _permit: OwnedSemaphorePermit,
) {
    metrics.subscriber_joined();
    let stream = feed.stream;
    let end = serve(&mut socket, feed, config, &shutdown, &metrics).await;
    let close = match end {
        End::Closed(why) => {
            metrics.record_close(why);
            Some(match why {
                CloseReason::SlowConsumer => (1008, "slow consumer"),
                CloseReason::HistoryExpired => (1008, "history expired"),
                CloseReason::MessageTooBig => (1009, "message too big"),
                CloseReason::IdleTimeout => (1000, "idle timeout"),
            })
        }
        End::StoreFailed => Some((1011, "internal error")),
        End::Shutdown => Some((1001, "server shutting down")),
        End::ClientLeft | End::SocketError => None,
    };
    if let Some((code, reason)) = close {
        let frame = Message::Close(Some(CloseFrame {
            code,
            reason: reason.into(),
        }));
        // Best effort: a client that cannot take even this frame is dropped anyway.
        let _ = timeout(SEND_TIMEOUT.min(Duration::from_secs(1)), socket.send(frame)).await;
        info!(stream = stream.as_str(), code, reason, "closed subscriber");
    } else {
        debug!(stream = stream.as_str(), "subscriber gone");
    }
    metrics.subscriber_left();
}

async fn serve(
    socket: &mut WebSocket,
    mut feed: Feed,
    config: SessionConfig,
    shutdown: &CancellationToken,
    metrics: &Metrics,
) -> End {
    let mut ping = interval_at(Instant::now() + config.ping_interval, config.ping_interval);
    ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut last_heard = Instant::now();
    let mut next = feed.from;
    // Reading history until a ring batch arrives at exactly the next height.
    let mut catching_up = next.is_some();
    // A history read in progress: kept across loop turns, so a chatty client's messages
    // do not cancel and restart it.
    let mut reading: Option<HistoryRead> = None;
    loop {
        let in_history = catching_up
            && next.is_some_and(|next| feed.store.last_height().is_some_and(|last| next <= last));
        if in_history && reading.is_none() {
            match start_history_read(&feed, next) {
                Ok(read) => reading = Some(read),
                Err(end) => return end,
            }
        }
        // Not biased: a client that keeps sending must not starve its own stream.
        let outgoing: Outgoing = tokio::select! {
            () = shutdown.cancelled() => return End::Shutdown,
            incoming = socket.recv() => {
                match incoming {
                    // Anything the client sends, pongs included, proves it alive; the
                    // content is ignored, as Planetmint's server ignores it.
                    Some(Ok(Message::Close(_))) | None => return End::ClientLeft,
                    Some(Ok(_)) => {
                        last_heard = Instant::now();
                        continue;
                    }
                    Some(Err(error)) => {
                        return if is_too_big(error) {
                            End::Closed(CloseReason::MessageTooBig)
                        } else {
                            End::SocketError
                        };
                    }
                }
            }
            read = async { reading.as_mut().expect("guarded").await }, if reading.is_some() => {
                reading = None;
                match history(read, next, &feed.store) {
                    Ok(blocks) => Outgoing::History(blocks),
                    Err(end) => return end,
                }
            }
            batch = feed.live.recv(), if !in_history => match batch {
                Ok(batch) => match next {
                    Some(next) if batch.height < next => continue,
                    // The ring lapped a catching-up session: the store has the heights.
                    Some(next) if batch.height > next => {
                        catching_up = true;
                        continue;
                    }
                    _ => {
                        catching_up = false;
                        Outgoing::Batch(batch)
                    }
                },
                // Catching up, the store has what the ring dropped; before its first block
                // a live client has missed nothing of its own.
                Err(broadcast::error::RecvError::Lagged(_)) if catching_up || next.is_none() => continue,
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    return End::Closed(CloseReason::SlowConsumer);
                }
                Err(broadcast::error::RecvError::Closed) => return End::Shutdown,
            },
            _ = ping.tick() => Outgoing::Ping,
            () = sleep_until(last_heard + config.idle_timeout) => {
                return End::Closed(CloseReason::IdleTimeout);
            }
        };
        let sent_through = outgoing.last_height();
        let received = outgoing.received();
        tokio::select! {
            () = shutdown.cancelled() => return End::Shutdown,
            sent = timeout(SEND_TIMEOUT, send(socket, outgoing, feed.stream)) => match sent {
                Ok(Ok(())) => {}
                Ok(Err(_)) => return End::SocketError,
                // Stuck behind a client that stopped reading: a slow consumer too.
                Err(_) => return End::Closed(CloseReason::SlowConsumer),
            },
        }
        if let Some(height) = sent_through {
            next = Some(height.next());
        }
        if let Some(received) = received {
            metrics.record_latency(received.elapsed());
        }
    }
}

type HistoryRead = tokio::task::JoinHandle<Result<Vec<EncodedBlock>, StoreError>>;

/// Starts reading the next chunk of history, from `next` on, under a reader permit.
fn start_history_read(feed: &Feed, next: Option<Height>) -> Result<HistoryRead, End> {
    let next = next.expect("history is read only with a cursor");
    if feed.store.first_height().is_some_and(|first| next < first) {
        return Err(End::Closed(CloseReason::HistoryExpired));
    }
    let (store, permits) = (feed.store.clone(), feed.history_reads.clone());
    Ok(tokio::spawn(async move {
        let _permit = permits.acquire_owned().await.expect("never closed");
        tokio::task::spawn_blocking(move || store.read(next, HISTORY_CHUNK_BYTES))
            .await
            .expect("store reads do not panic")
    }))
}

/// The blocks of a finished history read from `next` on. The first may be past `next`
/// where the chain has no block (a replayed file with a line skipped); but if `next` was
/// pruned meanwhile, the client's history has expired.
fn history(
    read: Result<Result<Vec<EncodedBlock>, StoreError>, tokio::task::JoinError>,
    next: Option<Height>,
    store: &Store,
) -> Result<Vec<EncodedBlock>, End> {
    let expired =
        || next.is_some_and(|next| store.first_height().is_some_and(|first| next < first));
    match read {
        Ok(Ok(blocks)) if !blocks.is_empty() && !expired() => Ok(blocks),
        Ok(Ok(_)) => Err(End::Closed(CloseReason::HistoryExpired)),
        Ok(Err(error)) => {
            error!(%error, ?next, "reading history failed");
            Err(End::StoreFailed)
        }
        Err(panic) => {
            error!(error = %panic, ?next, "reading history panicked");
            Err(End::StoreFailed)
        }
    }
}

/// What a session writes next.
enum Outgoing {
    Batch(Batch),
    History(Vec<EncodedBlock>),
    Ping,
}

impl Outgoing {
    fn last_height(&self) -> Option<Height> {
        match self {
            Outgoing::Batch(batch) => Some(batch.height),
            Outgoing::History(blocks) => blocks.last().map(|b| b.height),
            Outgoing::Ping => None,
        }
    }

    fn received(&self) -> Option<std::time::Instant> {
        match self {
            Outgoing::Batch(batch) => batch.received,
            _ => None,
        }
    }
}

/// Writes a block's frames, a chunk of history, or a ping, and flushes once: one write for
/// the whole block instead of one per message.
async fn send(
    socket: &mut WebSocket,
    outgoing: Outgoing,
    stream: Stream,
) -> Result<(), axum::Error> {
    match outgoing {
        Outgoing::Ping => socket.feed(Message::Ping(Default::default())).await?,
        Outgoing::Batch(batch) => {
            for frame in batch.frames.iter() {
                socket.feed(Message::Text(frame.clone())).await?;
            }
        }
        Outgoing::History(blocks) => {
            for block in &blocks {
                for frame in block.frames(stream) {
                    socket.feed(Message::Text(frame.clone())).await?;
                }
            }
        }
    }
    socket.flush().await
}

/// Whether a receive error is the frame or message size limit.
fn is_too_big(error: axum::Error) -> bool {
    matches!(
        error.into_inner().downcast_ref::<tungstenite::Error>(),
        Some(tungstenite::Error::Capacity(_))
    )
}
