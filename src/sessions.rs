//! Sessions: one task per WebSocket subscriber, frames from the hub out to its socket.
//!
//! In: the subscriber's cursor into a hub ring, its socket, the shutdown signal. Out: text
//! frames, pings, and a close frame with a stable reason when the session ends:
//!
//! | why                               | close code | reason                 |
//! |-----------------------------------|------------|------------------------|
//! | fell a whole queue behind         | 1008       | `slow consumer`        |
//! | sent a message over the limit     | 1009       | `message too big`      |
//! | silent past the idle timeout      | 1000       | `idle timeout`         |
//! | the service is shutting down      | 1001       | `server shutting down` |
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
use tracing::{debug, info};

use crate::hub::{Batch, Stream};
use crate::metrics::{ClientEnd, Metrics};

/// Largest message (and frame) a client may send; clients have nothing to say beyond
/// pings, so 64 KiB is generous, and it caps what one client can make us buffer.
pub const MAX_CLIENT_MESSAGE: usize = 64 << 10;

/// How long writing one block's frames to a client may take. A healthy client on a slow
/// link drains them in well under a second; one that stopped reading would otherwise pin
/// its session forever.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// Per-session settings.
#[derive(Debug, Clone, Copy)]
pub struct SessionConfig {
    pub ping_interval: Duration,
    pub idle_timeout: Duration,
}

/// How a session ended, for the log and the counters.
enum End {
    ClientLeft,
    SocketError,
    Closed(ClientEnd),
    Shutdown,
}

/// Serves one subscriber until either side ends the session. `_permit` is its slot under
/// the client limit, released when the session ends.
pub async fn run(
    mut socket: WebSocket,
    mut frames: broadcast::Receiver<Batch>,
    stream: Stream,
    config: SessionConfig,
    shutdown: CancellationToken,
    metrics: Arc<Metrics>,
    _permit: OwnedSemaphorePermit,
) {
    metrics.subscriber_joined();
    let end = serve(&mut socket, &mut frames, config, &shutdown).await;
    let close = match end {
        End::Closed(why) => {
            metrics.record_client_end(why);
            Some(match why {
                ClientEnd::SlowConsumer => (1008, "slow consumer"),
                ClientEnd::MessageTooBig => (1009, "message too big"),
                ClientEnd::IdleTimeout => (1000, "idle timeout"),
                ClientEnd::TooManyClients => unreachable!("refused before the upgrade"),
            })
        }
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
    frames: &mut broadcast::Receiver<Batch>,
    config: SessionConfig,
    shutdown: &CancellationToken,
) -> End {
    let mut ping = interval_at(Instant::now() + config.ping_interval, config.ping_interval);
    ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut last_heard = Instant::now();
    loop {
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
            batch = frames.recv() => match batch {
                Ok(batch) => Outgoing::Batch(batch),
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
        tokio::select! {
            () = shutdown.cancelled() => return End::Shutdown,
            sent = timeout(SEND_TIMEOUT, send(socket, outgoing)) => match sent {
                Ok(Ok(())) => {}
                Ok(Err(_)) => return End::SocketError,
                // Stuck behind a client that stopped reading: a slow consumer too.
                Err(_) => return End::Closed(ClientEnd::SlowConsumer),
            },
        }
    }
}

/// What a session writes next.
enum Outgoing {
    Batch(Batch),
    Ping,
}

/// Writes a block's frames (or a ping) and flushes once: one write for the whole block
/// instead of one per message.
async fn send(socket: &mut WebSocket, outgoing: Outgoing) -> Result<(), axum::Error> {
    match outgoing {
        Outgoing::Ping => socket.feed(Message::Ping(Default::default())).await?,
        Outgoing::Batch(batch) => {
            for frame in batch.iter() {
                socket.feed(Message::Text(frame.clone())).await?;
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
