//! Accepting connections on both listeners, and what a connection is held to before it is
//! a subscriber: a cap on connections still in their HTTP phase ([`ConnectionLimits`]'s
//! `max_pending`, and a share of it per address; over either a new connection is closed at
//! once), one deadline for the TLS handshake and another for each request head (hyper's
//! header read timeout; a head not complete by then closes the socket), a deadline for the
//! whole phase ([`PHASE_HEADS`] head deadlines: responses a client never reads and
//! keep-alive requests cannot stretch it), and on the stream listener a byte rate on
//! everything the client sends ([`Metered`]).
//!
//! In: a bound listener, its router, the TLS acceptor if any, the shutdown token. Out:
//! each connection served by hyper (HTTP/1.1 with upgrades) with its peer address as
//! axum's [`ConnectInfo`]; a connection's pending permit is held until its upgrade is
//! done or it ends. Connection tasks are tracked so shutdown can wait for them.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower_service::Service as _;
use tracing::debug;

use crate::limits::{AddressPermit, LimitError, PerAddress, TokenBucket};
use crate::metrics::{Metrics, Refusal};
use crate::sessions::MAX_CLIENT_MESSAGE;

/// How long a client has for its TLS handshake and then for each request head, by
/// default. An honest client sends its head in one packet right after connecting, so even
/// a far mobile link needs well under a second; 10 s is generous to it, and bounds what a
/// client trickling its head a byte at a time can hold (a socket and ~17 KiB) to 10 s.
pub const DEFAULT_REQUEST_HEAD_TIMEOUT: Duration = Duration::from_secs(10);

/// Connections in their HTTP phase at once, per listener, by default. An honest one is
/// pending for a round trip, so even all 10,000 subscribers reconnecting within a second
/// leave a few hundred pending; 1,024 (the accept backlog) is a few times that, and caps
/// what slow heads can hold to 1,024 sockets and about 17 MB.
pub const DEFAULT_MAX_PENDING: usize = 1_024;

/// Connections one address may hold in their HTTP phase, per listener, by default: an
/// eighth of [`DEFAULT_MAX_PENDING`], so it takes eight addresses (not one host) to fill
/// the pending cap and shut everyone else out, and still far more than one honest host
/// (or an office NAT) has pending at once. Trusted proxies are exempt: they carry everyone.
pub const DEFAULT_MAX_PENDING_PER_IP: usize = DEFAULT_MAX_PENDING / 8;

/// The longest `--request-head-timeout` taken: past an hour it is no deadline at all, and
/// hyper adds it to instants (a century would overflow them and fail every connection).
pub const MAX_REQUEST_HEAD_TIMEOUT: Duration = Duration::from_secs(3_600);

/// The whole HTTP phase of a connection (TLS handshake, request heads, responses, and on
/// the API port keep-alive requests) ends after this many head deadlines. hyper's header
/// timeout runs only while a head is read: without this a client pipelining requests and
/// never reading the answers, or sending one cheap request per deadline, would hold its
/// pending place forever. An honest stream client needs one round trip, a scraper one
/// request per connection it opens; three deadlines is generous to both.
pub const PHASE_HEADS: u32 = 3;

/// Closed connections drained at once ([`LINGER`]); past this one closes without
/// draining. Each costs a socket for at most a second: 4,096 is a few times the pending
/// caps, so honest closes always linger, and bounds what a connect-and-close flood holds.
pub(super) const MAX_LINGERING: usize = 4_096;

/// Subscribers one address may hold, by default. A client application needs one per
/// stream it follows, a host of them (or a NAT in front of an office) a few dozen; 100
/// lets that through and leaves the other 9,900 of `--max-clients` to everyone else.
pub const DEFAULT_MAX_CLIENTS_PER_IP: usize = 100;

/// Bytes a second a subscriber may send, by default (frame headers, control frames and
/// fragments included, as read from the socket). Clients have nothing to say beyond pongs
/// and the odd ping, tens of bytes a second; 64 KiB/s lets one send its largest message
/// every second, and keeps what 100 clients of one address can make us read to 6.4 MB/s.
pub const DEFAULT_BYTES_PER_SECOND: u32 = 64 << 10;

/// What a client may send at once beyond its byte rate: two of its largest messages, so a
/// message of the limit's size (a 1009, not a 1008) or a burst of small ones after a quiet
/// spell passes; the HTTP request head comes out of it too.
const BYTE_BURST: u32 = 2 * MAX_CLIENT_MESSAGE as u32;

/// What connections are held to before they are subscribers, and what they may send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// The TLS handshake's deadline, and each request head's.
    pub request_head_timeout: Duration,
    /// Connections in their HTTP phase at once, per listener; more are closed at once.
    pub max_pending: usize,
    /// Of those, what one address may hold (trusted proxies exempt).
    pub max_pending_per_ip: usize,
    /// Subscribers one address may hold; more get 429.
    pub max_clients_per_ip: usize,
    /// Proxies whose `X-Forwarded-For` names the client; nobody else's is believed.
    pub trusted_proxies: Vec<IpAddr>,
    /// Bytes a second a subscriber may send; faster is closed with 1008.
    pub bytes_per_second: u32,
}

impl ConnectionLimits {
    pub fn defaults() -> Self {
        ConnectionLimits {
            request_head_timeout: DEFAULT_REQUEST_HEAD_TIMEOUT,
            max_pending: DEFAULT_MAX_PENDING,
            max_pending_per_ip: DEFAULT_MAX_PENDING_PER_IP,
            max_clients_per_ip: DEFAULT_MAX_CLIENTS_PER_IP,
            trusted_proxies: Vec::new(),
            bytes_per_second: DEFAULT_BYTES_PER_SECOND,
        }
    }
}

/// What one listener's connections share.
pub(super) struct Acceptor {
    pub router: Router,
    pub tls: Option<TlsAcceptor>,
    pub head_timeout: Duration,
    /// The byte rate of the stream listener's clients; None on the API listener.
    pub bytes_per_second: Option<u32>,
    pub pending: Arc<Semaphore>,
    /// Each address's share of `pending`.
    pub pending_per_address: Arc<PerAddress>,
    /// Exempt from the per-address share.
    pub trusted_proxies: Arc<[IpAddr]>,
    /// Places for closed connections to linger ([`MAX_LINGERING`]).
    pub lingering: Arc<Semaphore>,
    pub metrics: Arc<Metrics>,
    pub shutdown: CancellationToken,
    pub connections: TaskTracker,
}

/// Accepts on `listener` until shutdown; each connection is served in a task of
/// `connections`, which shutdown asks to finish.
pub(super) async fn accept_loop(mut listener: TcpListener, acceptor: Acceptor) {
    let acceptor = Arc::new(acceptor);
    loop {
        // axum's own accept retries what is worth retrying (too many open files).
        let (tcp, peer) = tokio::select! {
            () = acceptor.shutdown.cancelled() => return,
            accepted = axum::serve::Listener::accept(&mut listener) => accepted,
        };
        // Closed at once when refused: an attacker's connections cost a socket for a
        // moment only.
        let Some(pending) = acceptor.pending_place(peer.ip()) else {
            acceptor.metrics.record_refusal(Refusal::TooManyPending);
            debug!(%peer, "connection closed: too many pending connections");
            continue;
        };
        acceptor
            .connections
            .spawn(connection(tcp, peer, pending, acceptor.clone()));
    }
}

/// A connection's place among the pending ones: under the listener's cap and (unless it is
/// a trusted proxy) its address's share.
struct Pending {
    _place: OwnedSemaphorePermit,
    _share: Option<AddressPermit>,
    /// The gauge goes down however the connection ends, a panic included.
    metrics: Arc<Metrics>,
}

impl Drop for Pending {
    fn drop(&mut self) {
        self.metrics.record_pending(false);
    }
}

impl Acceptor {
    fn pending_place(&self, peer: IpAddr) -> Option<Pending> {
        let share = if self.trusted_proxies.contains(&peer.to_canonical()) {
            None
        } else {
            Some(self.pending_per_address.try_acquire(peer)?)
        };
        let place = self.pending.clone().try_acquire_owned().ok()?;
        self.metrics.record_pending(true);
        Some(Pending {
            _place: place,
            _share: share,
            metrics: self.metrics.clone(),
        })
    }
}

/// One connection, through its TLS handshake (if any) and its HTTP phase.
async fn connection(tcp: TcpStream, peer: SocketAddr, pending: Pending, acceptor: Arc<Acceptor>) {
    let io = Metered::new(tcp, acceptor.bytes_per_second, acceptor.lingering.clone());
    let phase = acceptor.head_timeout * PHASE_HEADS;
    let served = tokio::time::timeout(phase, async {
        match &acceptor.tls {
            None => serve_http(io, peer, &acceptor).await,
            Some(tls) => match tokio::time::timeout(acceptor.head_timeout, tls.accept(io)).await {
                Ok(Ok(tls)) => serve_http(tls, peer, &acceptor).await,
                Ok(Err(error)) => debug!(%peer, %error, "TLS handshake failed"),
                Err(_) => {
                    acceptor.metrics.record_refusal(Refusal::HeadTimeout);
                    debug!(%peer, "TLS handshake timed out");
                }
            },
        }
    })
    .await;
    if served.is_err() {
        acceptor.metrics.record_refusal(Refusal::HeadTimeout);
        debug!(%peer, "connection closed: HTTP phase not over in time");
    }
    drop(pending);
}

/// Serves HTTP/1.1 on `io` until the connection ends or is upgraded (the WebSocket then
/// lives on in its session task), or shutdown has let its request in flight finish.
async fn serve_http<I>(io: I, peer: SocketAddr, acceptor: &Acceptor)
where
    I: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let router = acceptor.router.clone();
    // Whether a request came: hyper reports an idle keep-alive connection closing at the
    // head deadline as a head timeout, which is no refusal.
    let requested = Arc::new(AtomicBool::new(false));
    let served_one = requested.clone();
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        served_one.store(true, Ordering::Relaxed);
        request.extensions_mut().insert(ConnectInfo(peer));
        router.clone().call(request)
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(acceptor.head_timeout);
    let connection = builder
        .serve_connection(TokioIo::new(io), service)
        .with_upgrades();
    tokio::pin!(connection);
    let served = tokio::select! {
        served = connection.as_mut() => served,
        () = acceptor.shutdown.cancelled() => {
            connection.as_mut().graceful_shutdown();
            connection.as_mut().await
        }
    };
    match served {
        Err(error) if error.is_timeout() && requested.load(Ordering::Relaxed) => {
            debug!(%peer, "idle keep-alive connection closed");
        }
        Err(error) if error.is_timeout() => {
            acceptor.metrics.record_refusal(Refusal::HeadTimeout);
            debug!(%peer, "connection closed: request head not complete in time");
        }
        Err(error) => debug!(%peer, %error, "connection failed"),
        Ok(()) => {}
    }
}

/// How long a closed connection is drained: its write side is shut (so what was written
/// last, a close frame, goes out before the FIN) and what the client still sends is read
/// and dropped until it closes too. Closing with unread data would reset the connection at
/// once, and a reset discards the close frame, so a flooder would never learn why it was
/// closed; a second is plenty for a client to read it and hang up.
const LINGER: Duration = Duration::from_secs(1);

/// Most bytes a closed connection is drained of: a flooder that keeps sending is reset
/// after this, having had its close frame and FIN in front of it.
const LINGER_BYTES: usize = 64 << 10;

/// A socket whose reads fail with [`LimitError::ByteRate`] once the client sends faster
/// than its rate (no limit without one). Counting here, below TLS and the WebSocket
/// framing, counts every byte: fragments, control frames and a message that never
/// completes alike. Dropped, it lingers ([`LINGER`]) before it closes, if one of
/// [`MAX_LINGERING`] places is free.
struct Metered {
    /// Taken only on drop.
    inner: Option<TcpStream>,
    bucket: Option<TokenBucket>,
    exceeded: bool,
    lingering: Arc<Semaphore>,
}

impl Metered {
    fn new(inner: TcpStream, bytes_per_second: Option<u32>, lingering: Arc<Semaphore>) -> Self {
        let bucket = bytes_per_second
            .map(|rate| TokenBucket::new(rate, rate.max(BYTE_BURST), Instant::now()));
        Metered {
            inner: Some(inner),
            bucket,
            exceeded: false,
            lingering,
        }
    }

    fn tcp(&mut self) -> Pin<&mut TcpStream> {
        Pin::new(self.inner.as_mut().expect("taken only on drop"))
    }
}

impl Drop for Metered {
    fn drop(&mut self) {
        let Some(tcp) = self.inner.take() else { return };
        // Outside a runtime (never, but on a runtime's own teardown), or with every place
        // taken, it simply closes.
        let place = self.lingering.clone().try_acquire_owned();
        if let (Ok(runtime), Ok(place)) = (tokio::runtime::Handle::try_current(), place) {
            runtime.spawn(async move {
                linger(tcp).await;
                drop(place);
            });
        }
    }
}

async fn linger(mut tcp: TcpStream) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let _ = tcp.shutdown().await;
    let mut sink = [0u8; 4096];
    let mut drained = 0;
    let _ = tokio::time::timeout(LINGER, async {
        while drained < LINGER_BYTES {
            match tcp.read(&mut sink).await {
                Ok(0) | Err(_) => return,
                Ok(n) => drained += n,
            }
        }
    })
    .await;
}

fn rate_exceeded() -> io::Error {
    io::Error::other(LimitError::ByteRate)
}

impl AsyncRead for Metered {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.exceeded {
            return Poll::Ready(Err(rate_exceeded()));
        }
        let before = buf.filled().len();
        let polled = this.tcp().poll_read(cx, buf);
        let read = (buf.filled().len() - before) as u64;
        if let Some(bucket) = &mut this.bucket
            && read > 0
            && !bucket.take(read, Instant::now())
        {
            this.exceeded = true;
            return Poll::Ready(Err(rate_exceeded()));
        }
        polled
    }
}

impl AsyncWrite for Metered {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().tcp().poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().tcp().poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().tcp().poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().tcp().poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner
            .as_ref()
            .is_some_and(|tcp| tcp.is_write_vectored())
    }
}
