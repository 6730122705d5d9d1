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
//! | sent messages faster than allowed | 1008       | `too many messages`    |
//! | sent bytes faster than allowed    | 1008       | `too many bytes`       |
//! | silent past the idle timeout      | 1000       | `idle timeout`         |
//! | the store could not be read       | 1011       | `internal error`       |
//! | the service is shutting down      | 1001       | `server shutting down` |
//!
//! A resuming session is a [`Cursor`]: the next height it owes its client. It reads the
//! store while the store holds that height, a chunk at a time at the client's own pace, then
//! takes the ring's batches, skipping the heights it already sent. The ring subscription
//! is made before the upgrade and the store is written before the ring, so every height is
//! in one or the other: the hand-over from history to live has no gap and no duplicate.
//! While catching up the ring may lap the session; that costs nothing, since the store
//! has those blocks. Once live, falling a ring behind is a slow consumer, as for everyone.
//!
//! The session is generic over its socket (any sink of messages that is also a stream of
//! them), so unit tests drive it over channels; the server hands it an axum WebSocket.
//!
//! What a client sends is ignored (as Planetmint's server ignores it) but not for free:
//! every message, pings and pongs included, is counted against a rate (a [`TokenBucket`]
//! of `max_messages_per_second`), and the server's reads fail once the client sends more
//! bytes than its rate (see the server's `accept`), so ignoring a flood costs a bounded amount
//! before the flooder is closed. The pongs tungstenite answers pings with are bounded with
//! them: one per ping counted, never larger than the ping.
//!
//! A session never blocks anyone else: the hub never waits for it, and its own sends are
//! bounded by [`SEND_TIMEOUT`], so a client that stops reading is cut off, not waited for.

mod cursor;
#[cfg(test)]
mod tests;
mod view;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message};
use futures_util::{Sink, SinkExt as _, Stream, StreamExt as _};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, broadcast};
use tokio::time::{Instant, MissedTickBehavior, interval_at, sleep_until, timeout};
use tokio_util::sync::CancellationToken;
use tracing::{debug, error, info};

use crate::chain::Height;
use crate::filter::Subscription;
use crate::hub::Batch;
use crate::limits::{AddressPermit, LimitError, TokenBucket};
use crate::metrics::{CloseReason, Metrics};
use crate::store::{Store, StoreError};
use crate::wire::{EncodedBlock, StreamKind};

pub use cursor::{Cursor, Live};

/// Largest message (and frame) a client may send; clients have nothing to say beyond
/// pings, so 64 KiB is generous, and it caps what one client can make us buffer.
pub const MAX_CLIENT_MESSAGE: usize = 64 << 10;

/// How long writing one block's frames (or one chunk of history) to a client may take. A
/// healthy client on a slow link drains them in well under a second; one that stopped
/// reading would otherwise pin its session forever.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// How long the close frame may take: a client that cannot take even that is dropped.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);

/// History read and written at once: about this many bytes of frames (at least one
/// block), one read transaction and one flush per chunk. A client on a slow link still
/// takes a chunk well within [`SEND_TIMEOUT`] (1 MiB in 10 s is 0.8 Mbit/s).
const HISTORY_CHUNK_BYTES: usize = 1 << 20;

/// History reads in flight across all sessions: a reconnect storm of thousands of
/// resuming clients queues here instead of holding thousands of chunks in memory (this
/// bounds it to 16 chunks) or crowding the blocking pool the validate stage also uses.
pub const HISTORY_READERS: usize = 16;

/// Per-session settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionSettings {
    pub ping_interval: Duration,
    pub idle_timeout: Duration,
    /// Messages a second a client may send (pings and pongs included), with a second's
    /// worth at once; faster is closed with 1008.
    pub max_messages_per_second: u32,
}

impl SessionSettings {
    /// A ping every 30 s keeps NAT and proxy mappings alive (most expire idle TCP after a
    /// minute or more); three missed pings' worth of silence is a dead client. A client
    /// has nothing to say beyond pongs and keep-alive pings: even one pinging every 100 ms
    /// with a message beside each (and answering our pings) sends 25 a second, so 50 holds
    /// any honest client, and ignoring 50 small messages a second costs microseconds.
    pub const DEFAULT: SessionSettings = SessionSettings {
        ping_interval: Duration::from_secs(30),
        idle_timeout: Duration::from_secs(90),
        max_messages_per_second: 50,
    };
}

/// Where a subscriber's stream comes from.
pub struct Feed {
    pub stream: StreamKind,
    /// Its cursor into the hub's ring, taken before the upgrade.
    pub live: broadcast::Receiver<Batch>,
    pub store: Arc<Store>,
    /// Permits for history reads, shared by every session ([`HISTORY_READERS`]).
    pub history_reads: Arc<Semaphore>,
    /// What the client asked for: where to start (the next live block when `from` is
    /// absent), its filter, and whether it wants bodies.
    pub subscription: Subscription,
}

/// How a session ended, for the log and the counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    ClientLeft,
    SocketError,
    Closed(CloseReason),
    StoreFailed,
    Shutdown,
}

impl End {
    /// The close frame the client is sent: a stable code and a short reason.
    fn close_frame(self) -> Option<(u16, &'static str)> {
        match self {
            End::Closed(CloseReason::SlowConsumer) => Some((1008, "slow consumer")),
            End::Closed(CloseReason::HistoryExpired) => Some((1008, "history expired")),
            End::Closed(CloseReason::MessageTooBig) => Some((1009, "message too big")),
            End::Closed(CloseReason::MessageRate) => Some((1008, "too many messages")),
            End::Closed(CloseReason::ByteRate) => Some((1008, "too many bytes")),
            End::Closed(CloseReason::IdleTimeout) => Some((1000, "idle timeout")),
            End::StoreFailed => Some((1011, "internal error")),
            End::Shutdown => Some((1001, "server shutting down")),
            End::ClientLeft | End::SocketError => None,
        }
    }
}

/// What a session holds while it runs, released however it ends: its slot under the
/// client limit, its filter values under the server's budget for all subscribers, and its
/// place under its address's limit.
pub struct Admission {
    pub client: OwnedSemaphorePermit,
    pub filter_values: Option<OwnedSemaphorePermit>,
    pub address: Option<AddressPermit>,
}

/// Serves one subscriber on `socket` until either side ends the session, holding its
/// `_admission` until then.
pub async fn run<S>(
    mut socket: S,
    feed: Feed,
    settings: SessionSettings,
    shutdown: CancellationToken,
    metrics: Arc<Metrics>,
    _admission: Admission,
) where
    S: Sink<Message> + Stream<Item = Result<Message, axum::Error>> + Unpin,
{
    metrics.subscriber_joined();
    let stream = feed.stream;
    let end = serve(&mut socket, feed, settings, &shutdown, &metrics).await;
    if let End::Closed(reason) = end {
        metrics.record_close(reason);
    }
    if let Some((code, reason)) = end.close_frame() {
        let frame = Message::Close(Some(CloseFrame {
            code,
            reason: reason.into(),
        }));
        // Best effort: a client that cannot take even this frame is dropped anyway.
        let _ = timeout(CLOSE_TIMEOUT, socket.send(frame)).await;
        info!(stream = stream.as_str(), code, reason, "closed subscriber");
    } else {
        debug!(stream = stream.as_str(), ?end, "subscriber gone");
    }
    metrics.subscriber_left();
}

async fn serve<S>(
    socket: &mut S,
    mut feed: Feed,
    settings: SessionSettings,
    shutdown: &CancellationToken,
    metrics: &Metrics,
) -> End
where
    S: Sink<Message> + Stream<Item = Result<Message, axum::Error>> + Unpin,
{
    let mut ping = interval_at(
        Instant::now() + settings.ping_interval,
        settings.ping_interval,
    );
    ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut last_heard = Instant::now();
    let rate = settings.max_messages_per_second;
    let mut talk = TokenBucket::new(rate, rate, last_heard.into_std());
    let mut cursor = Cursor::new(feed.subscription.from);
    // A history read in progress: kept across loop turns, so a chatty client's messages
    // do not cancel and restart it.
    let mut reading: Option<HistoryRead> = None;
    loop {
        let in_history = cursor.wants_history(feed.store.last_height());
        if in_history && reading.is_none() {
            if cursor.expired(feed.store.first_height()) {
                return End::Closed(CloseReason::HistoryExpired);
            }
            reading = Some(start_history_read(&feed, cursor.next()));
        }
        // Not biased: a client that keeps sending must not starve its own stream.
        let outgoing: Outgoing = tokio::select! {
            () = shutdown.cancelled() => return End::Shutdown,
            incoming = socket.next() => match incoming {
                // Anything the client sends, pongs included, proves it alive; the
                // content is ignored, as Planetmint's server ignores it.
                Some(Ok(Message::Close(_))) | None => return End::ClientLeft,
                Some(Ok(_)) => {
                    last_heard = Instant::now();
                    if !talk.take(1, last_heard.into_std()) {
                        return End::Closed(CloseReason::MessageRate);
                    }
                    continue;
                }
                Some(Err(error)) if is_too_big(&error) => return End::Closed(CloseReason::MessageTooBig),
                Some(Err(error)) if is_byte_rate(&error) => return End::Closed(CloseReason::ByteRate),
                Some(Err(_)) => return End::SocketError,
            },
            read = async { reading.as_mut().expect("guarded").await }, if reading.is_some() => {
                reading = None;
                match history(read, &cursor, &feed.store) {
                    Ok(blocks) => Outgoing::History(blocks),
                    Err(end) => return end,
                }
            }
            batch = feed.live.recv(), if !in_history => match batch {
                Ok(batch) => match cursor.on_live(batch.block.height) {
                    Live::Send => Outgoing::Batch(batch),
                    Live::Skip | Live::Behind => continue,
                },
                Err(broadcast::error::RecvError::Lagged(_)) if cursor.survives_lag() => continue,
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    return End::Closed(CloseReason::SlowConsumer);
                }
                Err(broadcast::error::RecvError::Closed) => return End::Shutdown,
            },
            _ = ping.tick() => Outgoing::Ping,
            () = sleep_until(last_heard + settings.idle_timeout) => {
                return End::Closed(CloseReason::IdleTimeout);
            }
        };
        let sent_through = outgoing.last_height();
        let received = outgoing.received();
        let frames_sent = tokio::select! {
            () = shutdown.cancelled() => return End::Shutdown,
            sent = timeout(SEND_TIMEOUT, send(socket, outgoing, feed.stream, &feed.subscription)) => match sent {
                Ok(Ok(frames)) => frames,
                Ok(Err(())) => return End::SocketError,
                // Stuck behind a client that stopped reading: a slow consumer too.
                Err(_) => return End::Closed(CloseReason::SlowConsumer),
            },
        };
        if let Some(height) = sent_through {
            cursor.sent(height);
        }
        // A filtered subscriber a block had nothing for was sent nothing, so it took no time.
        if let Some(received) = received
            && frames_sent > 0
        {
            metrics.record_latency(received.elapsed());
        }
    }
}

type HistoryRead = tokio::task::JoinHandle<Result<Vec<EncodedBlock>, StoreError>>;

/// Starts reading the next chunk of history, from `next` on, under a reader permit.
fn start_history_read(feed: &Feed, next: Option<Height>) -> HistoryRead {
    let next = next.expect("history is read only with a cursor");
    let (store, permits) = (feed.store.clone(), feed.history_reads.clone());
    tokio::spawn(async move {
        let _permit = permits.acquire_owned().await.expect("never closed");
        tokio::task::spawn_blocking(move || store.read(next, HISTORY_CHUNK_BYTES))
            .await
            .expect("store reads do not panic")
    })
}

/// The blocks of a finished history read from the cursor on. The first may be past the
/// cursor where the chain has no block (a replayed file with a line skipped); but if the
/// cursor's height was pruned meanwhile, the client's history has expired.
fn history(
    read: Result<Result<Vec<EncodedBlock>, StoreError>, tokio::task::JoinError>,
    cursor: &Cursor,
    store: &Store,
) -> Result<Vec<EncodedBlock>, End> {
    let next = cursor.next();
    match read {
        Ok(Ok(blocks)) if !blocks.is_empty() && !cursor.expired(store.first_height()) => Ok(blocks),
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
            Outgoing::Batch(batch) => Some(batch.block.height),
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
/// the whole block instead of one per message; returns how many text frames it wrote. The
/// socket's error is not kept: the session ends the same way whatever it was.
async fn send<S: Sink<Message> + Unpin>(
    socket: &mut S,
    outgoing: Outgoing,
    stream: StreamKind,
    subscription: &Subscription,
) -> Result<usize, ()> {
    let blocks: Vec<&EncodedBlock> = match &outgoing {
        Outgoing::Ping => {
            socket
                .feed(Message::Ping(Default::default()))
                .await
                .map_err(drop)?;
            Vec::new()
        }
        Outgoing::Batch(batch) => vec![&batch.block],
        Outgoing::History(blocks) => blocks.iter().collect(),
    };
    let mut sent = 0;
    for block in blocks {
        for frame in view::frames(block, stream, subscription) {
            socket.feed(Message::Text(frame)).await.map_err(drop)?;
            sent += 1;
        }
    }
    socket.flush().await.map_err(drop)?;
    Ok(sent)
}

/// Whether a receive error is the frame or message size limit.
fn is_too_big(error: &axum::Error) -> bool {
    matches!(
        tungstenite_error(error),
        Some(tungstenite::Error::Capacity(_))
    )
}

/// Whether a receive error is the server's read failing at the client's byte rate.
fn is_byte_rate(error: &axum::Error) -> bool {
    match tungstenite_error(error) {
        Some(tungstenite::Error::Io(io)) => {
            io.get_ref().and_then(|e| e.downcast_ref::<LimitError>()) == Some(&LimitError::ByteRate)
        }
        _ => false,
    }
}

fn tungstenite_error(error: &axum::Error) -> Option<&tungstenite::Error> {
    std::error::Error::source(error).and_then(|e| e.downcast_ref::<tungstenite::Error>())
}
