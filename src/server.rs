//! Server: the two listeners, their routes and limits, and orderly shutdown.
//!
//! In: bound listeners, the hub, the store, the shutdown token. Out: the API root,
//! `/health`, `/ready`, `/metrics` and the browser page `/streams` on the API listener
//! (Planetmint's port 9984), the three streams on the WebSocket listener (9985). Each
//! takes its query string as a [`Subscription`] (resume with `?from_height=N`, filters,
//! bodies): a query the [`filter`](crate::filter) module refuses gets its 400 or 414 and
//! one-line reason before any upgrade (the page asks the API port the same question first,
//! since a browser cannot read that reason), and a height older than the retained history
//! gets 410. Each accepted subscriber holds a permit of a semaphore sized `--max-clients`,
//! so the limit is checked before the upgrade (503) and released however the session
//! ends, and a place under its address's limit (429; the address is the peer's, or the
//! client a trusted proxy names, see [`limits`](crate::limits)). Before that, [`accept`]
//! holds every connection to a request-head deadline, a deadline for its whole HTTP phase
//! and a cap on connections not yet upgraded (with a share per address), and meters what
//! stream clients send. On shutdown the listeners stop accepting, every session sends
//! close 1001, and [`serve`] returns once they are all gone or [`SHUTDOWN_GRACE`] has
//! passed. With [`TlsSettings`], both listeners speak TLS only ([`tls`]). The API port's
//! routes are in [`api`], the page's in [`page`].

mod accept;
mod api;
mod page;
mod tls;

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{info, warn};

use crate::filter::{self, QueryError, QueryLimits, Subscription};
use crate::hub::Hub;
use crate::limits::{self, PerAddress};
use crate::metrics::{Metrics, Refusal};
use crate::sessions::{
    self, Admission, Feed, HISTORY_READERS, MAX_CLIENT_MESSAGE, SessionSettings,
};
use crate::store::Store;
use crate::wire::StreamKind;

pub use accept::{
    ConnectionLimits, DEFAULT_BYTES_PER_SECOND, DEFAULT_MAX_CLIENTS_PER_IP, DEFAULT_MAX_PENDING,
    DEFAULT_MAX_PENDING_PER_IP, DEFAULT_REQUEST_HEAD_TIMEOUT, MAX_REQUEST_HEAD_TIMEOUT,
};
pub use tls::{RELOAD_POLL, TlsError, TlsSettings};

/// How long shutdown waits for sessions to deliver their close frames (each gets at most a
/// second). The process must be gone within 5 s of SIGTERM (what orchestrators wait before
/// SIGKILL); this leaves two for everything else: a stuck source (0.5 s), blocking tasks
/// (0.5 s), and the last log lines (about a second, when standard error is not read).
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

/// Bytes tungstenite reserves to read each connection. Clients only send pings and pongs,
/// so 4 KiB (instead of its 128 KiB default) keeps idle connections cheap; larger client
/// messages still arrive, in more reads, up to [`MAX_CLIENT_MESSAGE`].
const READ_BUFFER: usize = 4 << 10;

pub const TRANSACTIONS_PATH: &str = "/api/v1/streams/valid_transactions";
pub const BLOCKS_PATH: &str = "/api/v1/streams/valid_blocks";
pub const REFUSED_PATH: &str = "/api/v1/streams/refused_transactions";

/// Most subscribers at once, by default: thousands of idle subscribers cost a few KiB each,
/// and each live one a share of the fan-out; 10,000 keeps both well inside a small host.
pub const DEFAULT_MAX_CLIENTS: usize = 10_000;

/// Blocks a subscriber may fall behind, by default. Each stream's ring holds this many
/// blocks' messages, shared by all subscribers (so a full ring costs what the last 16
/// blocks' messages weigh, once, not per subscriber); 16 holds the ten full blocks a client
/// may be allowed to lag, with room to spare.
pub const DEFAULT_SUBSCRIBER_QUEUE_BLOCKS: usize = 16;

/// Filter values held by all subscribers together, by default. A value costs about 100
/// bytes (the string and its place in the filter's set), so this bounds what filters hold
/// to about 100 MB however clients combine `--max-clients` and `--max-filter-values`
/// (10,000 subscribers with 100 values each, or 1,000 with the full 1,000).
pub const DEFAULT_MAX_FILTER_VALUES_TOTAL: usize = 1_000_000;

/// `/ready` answers 503 while the node is more than this many blocks ahead of what is
/// published, by default: a few blocks is a moment of validation; more is a backfill or a
/// stall.
pub const DEFAULT_MAX_LAG: u64 = 5;

/// What the server needs to know: plain values, checked by whoever builds them (the
/// command line does in `main`).
#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// `host:port` the streams listen on (Planetmint's 9985).
    pub ws_bind: String,
    /// `host:port` of the API root, `/health`, `/ready` and `/metrics` (Planetmint's 9984).
    pub api_bind: String,
    /// `{scheme}://{host}:{port}` the API root tells clients the streams are at.
    pub advertised_ws_url: String,
    pub session: SessionSettings,
    /// Most subscribers at once; further upgrades get 503.
    pub max_clients: usize,
    /// Blocks a subscriber may fall behind before it is closed as a slow consumer.
    pub subscriber_queue_blocks: usize,
    /// Blocks of lag `/ready` tolerates.
    pub max_lag: u64,
    /// What a subscriber's query string may hold.
    pub query: QueryLimits,
    /// Filter values all subscribers may hold together; beyond, upgrades get 503.
    pub max_filter_values_total: usize,
    /// The certificate both listeners serve TLS with; plain TCP when absent.
    pub tls: Option<TlsSettings>,
    /// Deadlines, caps and rates that keep hostile clients from taking the stream away.
    pub connections: ConnectionLimits,
}

impl ServerSettings {
    /// The defaults, with both listeners on 127.0.0.1 and ephemeral ports: what tests and
    /// the load tool run the server with.
    pub fn loopback() -> Self {
        ServerSettings {
            ws_bind: "127.0.0.1:0".into(),
            api_bind: "127.0.0.1:0".into(),
            advertised_ws_url: "ws://localhost:9985".into(),
            session: SessionSettings::DEFAULT,
            max_clients: DEFAULT_MAX_CLIENTS,
            subscriber_queue_blocks: DEFAULT_SUBSCRIBER_QUEUE_BLOCKS,
            max_lag: DEFAULT_MAX_LAG,
            query: QueryLimits::default(),
            max_filter_values_total: DEFAULT_MAX_FILTER_VALUES_TOTAL,
            tls: None,
            connections: ConnectionLimits::defaults(),
        }
    }
}

/// One of the two listeners, as an error names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listener {
    /// The API root, `/health`, `/ready` and `/metrics` (Planetmint's HTTP API port).
    Api,
    /// The WebSocket streams (Planetmint's stream port).
    Streams,
}

impl std::fmt::Display for Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Listener::Api => "the API port",
            Listener::Streams => "the stream port",
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// Another process listens there: beside a Planetmint node, most likely Planetmint
    /// itself, which reads the same variables (the binary says what to do about it).
    #[error("cannot listen on {addr}, {listener}: it is in use")]
    InUse { addr: String, listener: Listener },
    #[error("cannot listen on {addr}, {listener}: {source}")]
    Bind {
        addr: String,
        listener: Listener,
        source: std::io::Error,
    },
    #[error("serving: {0}")]
    Serve(#[source] std::io::Error),
    #[error(transparent)]
    Tls(#[from] TlsError),
}

/// Both listeners, bound before serving so callers (and tests on port 0) know the ports,
/// and the certificate they serve, read before serving so a bad one is refused at once.
pub struct Listeners {
    pub api: TcpListener,
    pub ws: TcpListener,
    tls: Option<tls::Tls>,
}

impl Listeners {
    pub async fn bind(settings: &ServerSettings) -> Result<Self, ServerError> {
        let bind = |addr: String, listener, send_buffer: Option<u32>| async move {
            bind_listener(&addr, send_buffer)
                .await
                .map_err(|source| match source.kind() {
                    std::io::ErrorKind::AddrInUse => ServerError::InUse { addr, listener },
                    _ => ServerError::Bind {
                        addr,
                        listener,
                        source,
                    },
                })
        };
        let tls = match &settings.tls {
            Some(files) => Some(tls::Tls::load(files).await?),
            None => None,
        };
        Ok(Listeners {
            api: bind(settings.api_bind.clone(), Listener::Api, None).await?,
            ws: bind(
                settings.ws_bind.clone(),
                Listener::Streams,
                Some(STREAM_SEND_BUFFER),
            )
            .await?,
            tls,
        })
    }

    pub fn api_addr(&self) -> std::io::Result<SocketAddr> {
        self.api.local_addr()
    }

    pub fn ws_addr(&self) -> std::io::Result<SocketAddr> {
        self.ws.local_addr()
    }
}

/// Kernel send buffer of each subscriber's socket (accepted sockets inherit it from the
/// listener). Linux otherwise grows it to 4 MiB for a client that stops reading, which both
/// hides a slow consumer from its session for thousands of frames and costs that much memory
/// outside our bounds; 128 KiB (the kernel doubles it) holds hundreds of frames, plenty for a
/// healthy client on a slow link.
const STREAM_SEND_BUFFER: u32 = 128 << 10;

/// Pending connections the kernel queues for `accept`: a reconnect storm of thousands of
/// clients after a restart should wait in the queue, not be refused.
const LISTEN_BACKLOG: u32 = 1024;

/// Binds the first address `addr` resolves to.
async fn bind_listener(addr: &str, send_buffer: Option<u32>) -> std::io::Result<TcpListener> {
    let resolved = tokio::net::lookup_host(addr).await?.next().ok_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::NotFound, "no address to listen on")
    })?;
    let socket = if resolved.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    if let Some(size) = send_buffer {
        socket.set_send_buffer_size(size)?;
    }
    socket.bind(resolved)?;
    socket.listen(LISTEN_BACKLOG)
}

#[derive(Clone)]
struct StreamState {
    hub: Hub,
    store: Arc<Store>,
    history_reads: Arc<Semaphore>,
    clients: Arc<Semaphore>,
    filter_values: Arc<Semaphore>,
    per_address: Arc<PerAddress>,
    trusted_proxies: Arc<[IpAddr]>,
    session: SessionSettings,
    query: QueryLimits,
    shutdown: CancellationToken,
    sessions: TaskTracker,
    metrics: Arc<Metrics>,
}

/// Serves both listeners until `shutdown` is cancelled and the sessions have closed.
pub async fn serve(
    listeners: Listeners,
    settings: &ServerSettings,
    hub: Hub,
    store: Arc<Store>,
    metrics: Arc<Metrics>,
    shutdown: CancellationToken,
) -> Result<(), ServerError> {
    let sessions = TaskTracker::new();
    let limits = &settings.connections;
    let trusted_proxies: Arc<[IpAddr]> = limits.trusted_proxies.as_slice().into();
    let state = StreamState {
        hub,
        store,
        history_reads: Arc::new(Semaphore::new(HISTORY_READERS)),
        clients: Arc::new(Semaphore::new(settings.max_clients)),
        filter_values: Arc::new(Semaphore::new(settings.max_filter_values_total)),
        per_address: PerAddress::new(limits.max_clients_per_ip),
        trusted_proxies: trusted_proxies.clone(),
        session: settings.session,
        query: settings.query,
        shutdown: shutdown.clone(),
        sessions: sessions.clone(),
        metrics: metrics.clone(),
    };
    let streams = Router::new()
        .route(TRANSACTIONS_PATH, get(transactions))
        .route(BLOCKS_PATH, get(blocks))
        .route(REFUSED_PATH, get(refused))
        .with_state(state);
    let api = api::router(settings, metrics.clone());
    info!(
        api = %listeners.api_addr().map_err(ServerError::Serve)?,
        streams = %listeners.ws_addr().map_err(ServerError::Serve)?,
        tls = listeners.tls.is_some(),
        "listening"
    );
    let tls = listeners.tls.as_ref().map(|tls| tls.acceptor.clone());
    if let Some(tls) = listeners.tls {
        tokio::spawn(tls.watch(shutdown.clone()));
    }
    let connections = TaskTracker::new();
    let lingering = Arc::new(Semaphore::new(accept::MAX_LINGERING));
    let acceptor = |router: Router, bytes_per_second: Option<u32>| accept::Acceptor {
        router,
        tls: tls.clone(),
        head_timeout: limits.request_head_timeout,
        bytes_per_second,
        pending: Arc::new(Semaphore::new(limits.max_pending)),
        pending_per_address: PerAddress::new(limits.max_pending_per_ip),
        trusted_proxies: trusted_proxies.clone(),
        lingering: lingering.clone(),
        metrics: metrics.clone(),
        shutdown: shutdown.clone(),
        connections: connections.clone(),
    };
    let stream_bytes = Some(limits.bytes_per_second);
    tokio::join!(
        accept::accept_loop(listeners.api, acceptor(api, None)),
        accept::accept_loop(listeners.ws, acceptor(streams, stream_bytes)),
    );
    connections.close();
    sessions.close();
    let finished = async { tokio::join!(connections.wait(), sessions.wait()) };
    if tokio::time::timeout(SHUTDOWN_GRACE, finished)
        .await
        .is_err()
    {
        warn!(
            sessions = sessions.len(),
            connections = connections.len(),
            "sessions or connections still open after the shutdown grace; dropping them"
        );
    }
    Ok(())
}

async fn transactions(
    state: State<StreamState>,
    asker: Asker,
    upgrade: WebSocketUpgrade,
) -> Response {
    subscribe(state, asker, upgrade, StreamKind::Transactions)
}

async fn blocks(state: State<StreamState>, asker: Asker, upgrade: WebSocketUpgrade) -> Response {
    subscribe(state, asker, upgrade, StreamKind::Blocks)
}

async fn refused(state: State<StreamState>, asker: Asker, upgrade: WebSocketUpgrade) -> Response {
    subscribe(state, asker, upgrade, StreamKind::Refused)
}

/// Who asks for a stream: the address the request counts against (the peer's, or the
/// client a trusted proxy names), and the query string.
struct Asker {
    address: IpAddr,
    query: Option<String>,
}

impl FromRequestParts<StreamState> for Asker {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &StreamState,
    ) -> Result<Self, Infallible> {
        let ConnectInfo(peer) = *parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .expect("the accept loop gives every request its peer");
        // A value that is not text counts as a bad entry: never skipped, which would let
        // an entry the client wrote count instead.
        let forwarded = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .map(|value| value.to_str().unwrap_or("?"));
        Ok(Asker {
            address: limits::client_address(peer.ip(), forwarded, &state.trusted_proxies),
            query: parts.uri.query().map(str::to_owned),
        })
    }
}

fn subscribe(
    State(state): State<StreamState>,
    Asker { address, query }: Asker,
    upgrade: WebSocketUpgrade,
    stream: StreamKind,
) -> Response {
    let subscription = match filter::parse(stream, query.as_deref(), &state.query) {
        Ok(subscription) => subscription,
        Err(error) => {
            state.metrics.record_refusal(Refusal::BadQuery);
            info!(stream = stream.as_str(), %error, "refused subscriber: bad query");
            return refused_query(&error);
        }
    };
    if let Some(response) = too_old(&state, stream, &subscription) {
        return response;
    }
    let admission = match admit(&state, address, &subscription) {
        Ok(admission) => admission,
        Err((refusal, why)) => {
            state.metrics.record_refusal(refusal);
            warn!(stream = stream.as_str(), %address, why, "refused subscriber");
            let status = match refusal {
                Refusal::PerAddress => StatusCode::TOO_MANY_REQUESTS,
                _ => StatusCode::SERVICE_UNAVAILABLE,
            };
            return (status, format!("{why}\n")).into_response();
        }
    };
    // Subscribing before the upgrade completes means the client's stream starts with the
    // first block published after its request was accepted, and a resuming client's
    // history (read later) overlaps its live feed instead of leaving a gap.
    let feed = Feed {
        stream,
        live: state.hub.subscribe(),
        store: state.store.clone(),
        history_reads: state.history_reads.clone(),
        subscription,
    };
    let sessions = state.sessions.clone();
    upgrade
        .max_frame_size(MAX_CLIENT_MESSAGE)
        .max_message_size(MAX_CLIENT_MESSAGE)
        .read_buffer_size(READ_BUFFER)
        .on_upgrade(move |socket| {
            sessions.track_future(sessions::run(
                socket,
                feed,
                state.session,
                state.shutdown,
                state.metrics,
                admission,
            ))
        })
}

/// The answer to a query [`filter::parse`] refuses: its status (400 or 414) and one-line
/// reason. The page's check on the API port answers the same, so what a browser (which cannot
/// read the body of a failed upgrade) shows is what a subscriber would have been told.
fn refused_query(error: &QueryError) -> Response {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST);
    (status, format!("{error}\n")).into_response()
}

/// A slot under its address's limit and the client limit and, for a filter, its values
/// under the budget of all subscribers' values; else why not (the client is told, with 429
/// for its address's limit, else 503). The address goes first, so one address at its limit
/// takes nothing from anyone else.
fn admit(
    state: &StreamState,
    address: IpAddr,
    subscription: &Subscription,
) -> Result<Admission, (Refusal, &'static str)> {
    let address = state.per_address.try_acquire(address).ok_or((
        Refusal::PerAddress,
        "too many subscribers from this address",
    ))?;
    let client = state
        .clients
        .clone()
        .try_acquire_owned()
        .map_err(|_| (Refusal::TooManyClients, "too many clients"))?;
    let values = subscription.filter.values();
    let filter_values = match u32::try_from(values) {
        Ok(0) => None,
        Ok(n) => state.filter_values.clone().try_acquire_many_owned(n).ok(),
        Err(_) => None,
    };
    if values > 0 && filter_values.is_none() {
        return Err((
            Refusal::FilterBudget,
            "too many filter values held by all subscribers",
        ));
    }
    Ok(Admission {
        client,
        filter_values,
        address: Some(address),
    })
}

/// 410 for a resume older than the retained history.
fn too_old(
    state: &StreamState,
    stream: StreamKind,
    subscription: &Subscription,
) -> Option<Response> {
    let (from, first) = (subscription.from?, state.store.first_height()?);
    if from >= first {
        return None;
    }
    state.metrics.record_refusal(Refusal::TooOld);
    info!(stream = stream.as_str(), %from, %first, "refused resume: older than the history");
    Some(
        (
            StatusCode::GONE,
            format!(
                "from_height {from} is older than the retained history, which starts at {first}\n"
            ),
        )
            .into_response(),
    )
}
