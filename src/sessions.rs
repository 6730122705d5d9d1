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
use tokio::sync::{OwnedSemaphorePermit, broadcast};
use tokio::time::{Instant, MissedTickBehavior, interval_at, sleep_until, timeout};
use tokio_util::sync::CancellationToken;
use tracing::{debug, error, info};

use crate::hub::{Batch, EncodedBlock, Stream};
use crate::metrics::{ClientEnd, Metrics};
use crate::source::Height;
use crate::store::{Store, StoreError};

/// Largest message (and frame) a client may send; clients have nothing to say beyond
/// pings, so 64 KiB is generous, and it caps what one client can make us buffer.
pub const MAX_CLIENT_MESSAGE: usize = 64 << 10;

/// How long writing one block's frames (or one chunk of history) to a client may take. A
/// healthy client on a slow link drains them in well under a second; one that stopped
/// reading would otherwise pin its session forever.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// Blocks of history read and written at once: a read transaction and a flush per chunk,
/// and at most this many blocks' frames in a session's hands (a few MiB for full blocks).
const HISTORY_CHUNK: usize = 32;

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
    /// The first height to send (`?from_height=N`); the next live block when absent.
    pub from: Option<Height>,
}

/// How a session ended, for the log and the counters.
enum End {
    ClientLeft,
    SocketError,
    Closed(ClientEnd),
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
            metrics.record_client_end(why);
            Some(match why {
                ClientEnd::SlowConsumer => (1008, "slow consumer"),
                ClientEnd::HistoryExpired => (1008, "history expired"),
                ClientEnd::MessageTooBig => (1009, "message too big"),
                ClientEnd::IdleTimeout => (1000, "idle timeout"),
                ClientEnd::TooManyClients | ClientEnd::TooOld => {
                    unreachable!("refused before the upgrade")
                }
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
            match start_history_read(&feed.store, next) {
                Ok(read) => reading = Some(read),
                Err(end) => return end,
            }
        }
        let outgoing: Outgoing = tokio::select! {
            biased;
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
                            End::Closed(ClientEnd::MessageTooBig)
                        } else {
                            End::SocketError
                        };
                    }
                }
            }
            read = async { reading.as_mut().expect("guarded").await }, if reading.is_some() => {
                reading = None;
                match history(read, next) {
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
                Err(broadcast::error::RecvError::Lagged(_)) if catching_up => continue,
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    return End::Closed(ClientEnd::SlowConsumer);
                }
                Err(broadcast::error::RecvError::Closed) => return End::Shutdown,
            },
            _ = ping.tick() => Outgoing::Ping,
            () = sleep_until(last_heard + config.idle_timeout) => {
                return End::Closed(ClientEnd::IdleTimeout);
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
                Err(_) => return End::Closed(ClientEnd::SlowConsumer),
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

/// Starts reading the next chunk of history, from `next` on.
fn start_history_read(store: &Arc<Store>, next: Option<Height>) -> Result<HistoryRead, End> {
    let next = next.expect("history is read only with a cursor");
    if store.first_height().is_some_and(|first| next < first) {
        return Err(End::Closed(ClientEnd::HistoryExpired));
    }
    let store = store.clone();
    Ok(tokio::task::spawn_blocking(move || {
        store.read(next, HISTORY_CHUNK)
    }))
}

/// The blocks of a finished history read, which must start at `next`.
fn history(
    read: Result<Result<Vec<EncodedBlock>, StoreError>, tokio::task::JoinError>,
    next: Option<Height>,
) -> Result<Vec<EncodedBlock>, End> {
    match read {
        Ok(Ok(blocks)) if blocks.first().map(|b| b.height) == next => Ok(blocks),
        // Pruned between the check and the read.
        Ok(Ok(_)) => Err(End::Closed(ClientEnd::HistoryExpired)),
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
                for frame in block.batch(stream, None).frames.iter() {
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
