//! The live source: follows one of the CometBFT nodes it is given.
//!
//! In: the node's RPC (`/status`, NewBlock events on `/websocket`, `/block` and
//! `/block_results` over HTTP), through `tendermint-rpc` in the node's dialect. Out: one
//! [`RawBlock`] per height, each height exactly once and in order, on the pipeline's
//! channel, starting after the store's last height.
//!
//! A session reads `/status` (the dialect, and the chain id the store must belong to),
//! catches up to the node's head over HTTP, subscribes to NewBlock, and then follows the
//! events, fetching any height an event did not bring (blocks committed while it
//! subscribed, events the node dropped). Fetches run [`BACKFILL_CONCURRENCY`] at a time
//! and are sent in order. The result codes come with the event in 0.38 and from `/block_results` before that
//! (retried while the node has not stored them yet).
//!
//! The session ends on any failure: socket errors, a driver that exited, a subscription
//! that ended or yielded an error (that is how `tendermint-rpc` hands over the node's
//! "subscription was cancelled" message, sent to subscribers too slow for it), and a
//! subscription gone silent: no event for [`STALL_AFTER`](super::stall::STALL_AFTER)
//! while `/status` shows a height not sent yet (a [`Watch`] judges the silence), which
//! catches events lost any other way (`tendermint-rpc` drops events it cannot parse; a
//! half-open socket is noticed by its driver only after 30 s). The
//! supervisor then logs and counts it, waits a capped, growing, jittered backoff, and
//! starts a new session with the next node, from the next height to send; so a node going
//! away never stops the service, and never makes it skip or repeat a height. With several
//! nodes, a node that is catching up is skipped, and one that stays silent for
//! [`PROBE_AFTER`](super::stall::PROBE_AFTER) while another node has the next height
//! (halted, or fallen behind) is left for that one.

use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use tendermint::Block;
use tendermint::abci::response::FinalizeBlock;
use tendermint_rpc::client::CompatMode;
use tendermint_rpc::endpoint::block_results;
use tendermint_rpc::event::EventData;
use tendermint_rpc::query::EventType;
use tendermint_rpc::{Client as _, HttpClient, SubscriptionClient as _, WebSocketClient};
use tokio::sync::mpsc;
use tokio::task::JoinError;
use tokio::time::{MissedTickBehavior, timeout};
use tracing::{debug, info, warn};

use super::stall::{Check, Decision, Watch};
use super::{BlockSource, SourceContext, SourceError, dialect, joined, raw_block};
use crate::backoff::Backoff;
use crate::chain::{Height, RawBlock};
use crate::metrics::{Metrics, NodeInfo};
use crate::store::Store;

/// Bounds each HTTP request, so a hung node fails the session instead of stalling it.
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

/// Blocks fetched at once while backfilling. Each fetch is two requests the node answers
/// from disk; eight in flight hide the round trips without making a busy node queue them,
/// and bound what waits in memory to eight blocks.
pub const BACKFILL_CONCURRENCY: usize = 8;

/// How often a subscription is checked for silence: half of
/// [`STALL_AFTER`](super::stall::STALL_AFTER), so a silence is noticed at most a second
/// late.
const STALL_CHECK: Duration = Duration::from_secs(1);

/// Bounds each `/status` of a probe of the other nodes: they answer from memory, and a
/// probe must not hold the session it checks for long.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// How long a subscribed session waits for room in the pipeline's channel. The RPC
/// library buffers every event without bound while we wait, so a pipeline stuck longer
/// (a failing disk) makes the session drop its subscription and catch up over HTTP later,
/// which waits without buffering. Validating a few of the largest blocks takes well under
/// this.
const PIPELINE_WAIT: Duration = Duration::from_secs(30);

/// Aborts a spawned task when dropped: the websocket driver must not outlive its session,
/// however the session ends (shutdown drops it mid-await).
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// One node's RPC addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Base of the HTTP RPC, without a trailing slash.
    pub http: String,
    /// The `/websocket` URL.
    pub websocket: String,
}

impl Endpoint {
    /// A node given as `host:port` or an `http(s)://` URL (`https` means `wss` too).
    pub fn parse(node: &str) -> Endpoint {
        let node = node.trim().trim_end_matches('/');
        let (secure, address) = match node.split_once("://") {
            Some((scheme, address)) => (scheme.eq_ignore_ascii_case("https"), address),
            None => (false, node),
        };
        let (http, ws) = if secure {
            ("https", "wss")
        } else {
            ("http", "ws")
        };
        Endpoint {
            http: format!("{http}://{address}"),
            websocket: format!("{ws}://{address}/websocket"),
        }
    }
}

/// Which nodes to follow, and how.
#[derive(Debug, Clone)]
pub struct NodeSettings {
    /// The nodes of one chain, in the order they are tried; never empty.
    pub endpoints: Vec<Endpoint>,
    /// The RPC dialect; read from each node's `/status` when None.
    pub dialect: Option<CompatMode>,
}

/// The live source: follows the nodes of `settings`, starting after the store's last
/// height, or (a fresh store) at `start`, or at the node's next block.
#[derive(Debug, Clone)]
pub struct Follow {
    pub settings: NodeSettings,
    pub start: Option<Height>,
}

impl BlockSource for Follow {
    /// A failure it returns is the caller's to report (`main` prints it, once).
    async fn run(self, context: SourceContext) -> Result<(), SourceError> {
        follow(self, &context).await
    }
}

/// Follows the nodes until `shutdown`, the pipeline closing, or a failure no reconnection
/// can fix (a node of another chain than the store's), which it returns.
async fn follow(follow: Follow, context: &SourceContext) -> Result<(), SourceError> {
    let SourceContext {
        blocks,
        store,
        metrics,
        shutdown,
    } = context;
    let endpoints = &follow.settings.endpoints;
    let mut next = store.last_height().map(Height::next).or(follow.start);
    // Capped so a long outage costs one log line every 10 s (see `crate::backoff`).
    let mut backoff = Backoff::default();
    let mut attempt: u64 = 0;
    // The node to follow next: the following one after a failure, or one found ahead.
    let mut index = 0;
    loop {
        let endpoint = &endpoints[index];
        attempt += 1;
        let next_before = next;
        let session = Session {
            endpoint,
            others: endpoints,
            dialect: follow.settings.dialect,
            store,
            blocks,
            metrics,
        };
        let outcome = tokio::select! {
            () = shutdown.cancelled() => return Ok(()),
            outcome = session.run(&mut next) => outcome,
        };
        metrics.record_node(None);
        index = match &outcome {
            Err(SourceError::Behind { ahead, .. }) => *ahead,
            _ => (index + 1) % endpoints.len(),
        };
        match outcome {
            Err(SourceError::Closed) => return Ok(()),
            Err(error @ SourceError::Store(_)) => return Err(error),
            Err(error) => {
                if next != next_before {
                    // The session made progress: the next failure starts the backoff over.
                    backoff.reset();
                }
                let pause = backoff.pause();
                warn!(
                    %error,
                    attempt,
                    retry_in = ?pause,
                    node = %endpoint.http,
                    "lost the node; reconnecting"
                );
                metrics.record_reconnect();
                tokio::select! {
                    () = shutdown.cancelled() => return Ok(()),
                    () = tokio::time::sleep(pause) => {}
                }
            }
            Ok(()) => return Ok(()),
        }
    }
}

/// Wraps a failed request to the node, named by `request`.
fn rpc(request: &'static str) -> impl FnOnce(tendermint_rpc::Error) -> SourceError {
    move |source| SourceError::Rpc {
        request,
        source: Box::new(source),
    }
}

/// The node's address as an RPC client of the library takes it.
fn url<Url>(address: &str) -> Result<Url, SourceError>
where
    Url: std::str::FromStr<Err = tendermint_rpc::Error>,
{
    address.parse().map_err(|source| SourceError::Url {
        url: address.to_owned(),
        source: Box::new(source),
    })
}

/// A height as the RPC library takes it.
fn rpc_height(height: Height) -> Result<tendermint::block::Height, SourceError> {
    tendermint::block::Height::try_from(height.get()).map_err(|_| SourceError::Garbage {
        height: height.get(),
        what: "height beyond what the RPC can ask for",
    })
}

/// One connection to one node.
struct Session<'a> {
    endpoint: &'a Endpoint,
    /// Every configured node, this one included: with others, a node still catching up is
    /// skipped, and a silent one is compared with them.
    others: &'a [Endpoint],
    dialect: Option<CompatMode>,
    store: &'a Store,
    blocks: &'a mpsc::Sender<RawBlock>,
    metrics: &'a Metrics,
}

impl Session<'_> {
    /// Returns only on failure (or `Closed`); `next` is the next height to send, decided
    /// from the node's head when the store is fresh and no start height was given.
    async fn run(&self, next: &mut Option<Height>) -> Result<(), SourceError> {
        let (fetcher, chain_id) = self.connect().await?;
        let latest = self.latest(&fetcher.http).await?;
        let next = next.get_or_insert(latest.map_or(Height::FIRST, Height::next));
        self.catch_up(&fetcher, next, latest).await?;
        // Bounded like the HTTP requests: a node that accepts the connection and never
        // answers must not hold the session (and failover) forever.
        let connect = WebSocketClient::builder(url(&self.endpoint.websocket)?)
            .compat_mode(fetcher.dialect)
            .build();
        let (ws, driver) = timeout(HTTP_TIMEOUT, connect)
            .await
            .map_err(|_| SourceError::TimedOut {
                request: "websocket connect",
            })?
            .map_err(rpc("websocket connect"))?;
        let mut driver = AbortOnDrop(tokio::spawn(driver.run()));
        let followed = self
            .follow(&fetcher, &chain_id, &ws, &mut driver, next)
            .await;
        let _ = ws.close();
        followed
    }

    /// Reads the node's `/status`, and claims the store for its chain; returns its HTTP
    /// client, in its dialect, and its chain id.
    async fn connect(&self) -> Result<(Fetcher, String), SourceError> {
        let mut http = HttpClient::builder(url(&self.endpoint.http)?)
            .timeout(HTTP_TIMEOUT)
            .build()
            .map_err(rpc("HTTP client"))?;
        let status = http.status().await.map_err(rpc("/status"))?;
        if status.sync_info.catching_up && self.others.len() > 1 {
            // A node still syncing lags the chain; another may not.
            return Err(SourceError::CatchingUp);
        }
        let chain_id = status.node_info.network.to_string();
        self.store.claim_chain(&chain_id)?;
        let dialect = dialect(self.dialect, &status.node_info.version.to_string())?;
        http.set_compat_mode(dialect);
        Ok((Fetcher { http, dialect }, chain_id))
    }

    /// Sends every block up to the node's head over HTTP, `latest` first, asking for the
    /// head again until there is nothing newer. This comes before subscribing: a
    /// subscription opened during a long backfill would buffer every event of that time.
    async fn catch_up(
        &self,
        fetcher: &Fetcher,
        next: &mut Height,
        latest: Option<Height>,
    ) -> Result<(), SourceError> {
        let mut head = latest;
        while let Some(to) = head
            && to >= *next
        {
            self.backfill(fetcher, next, to, None).await?;
            head = self.latest(&fetcher.http).await?;
        }
        Ok(())
    }

    /// Subscribes to NewBlock and follows the events until a failure; checks a silent
    /// subscription every [`STALL_CHECK`].
    async fn follow(
        &self,
        fetcher: &Fetcher,
        chain_id: &str,
        ws: &WebSocketClient,
        driver: &mut AbortOnDrop<Result<(), tendermint_rpc::Error>>,
        next: &mut Height,
    ) -> Result<(), SourceError> {
        let mut events = timeout(HTTP_TIMEOUT, ws.subscribe(EventType::NewBlock.into()))
            .await
            .map_err(|_| SourceError::TimedOut {
                request: "subscribe",
            })?
            .map_err(rpc("subscribe"))?;
        self.announce(fetcher.dialect, chain_id, *next);
        // Blocks committed before the subscription took effect bring no event. The first
        // event fills them in as a gap; if none comes, the watch does.
        let subscribed_at = self.latest(&fetcher.http).await?;
        let mut watch = Watch::new(Instant::now(), subscribed_at, self.others.len() > 1);
        let mut stall_check = tokio::time::interval(STALL_CHECK);
        stall_check.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            let event = tokio::select! {
                // Events first: a check must never win over an event already here.
                biased;
                event = events.next() => event
                    .ok_or(SourceError::SubscriptionEnded)?
                    .map_err(rpc("NewBlock subscription"))?,
                exited = &mut driver.0 => return Err(driver_exit(exited)),
                _ = stall_check.tick() => {
                    self.check_stall(fetcher, &mut watch, next).await?;
                    continue;
                }
            };
            watch.arrived();
            self.on_event(fetcher, event.data, next, &mut watch).await?;
        }
    }

    /// Publishes and logs which node the service now follows.
    fn announce(&self, dialect: CompatMode, chain_id: &str, next: Height) {
        self.metrics.record_node(Some(NodeInfo {
            url: self.endpoint.http.clone(),
            dialect: dialect.to_string(),
            chain_id: chain_id.to_owned(),
        }));
        info!(
            node = %self.endpoint.http,
            %dialect,
            chain = %chain_id,
            %next,
            "following the node"
        );
    }

    /// Acts on a periodic check of a silent subscription.
    async fn check_stall(
        &self,
        fetcher: &Fetcher,
        watch: &mut Watch,
        next: &mut Height,
    ) -> Result<(), SourceError> {
        if watch.check(Instant::now()) == Check::Wait {
            return Ok(());
        }
        let head = self.latest(&fetcher.http).await?;
        match watch.decide(Instant::now(), head, *next) {
            Decision::Quiet | Decision::Behind => Ok(()),
            Decision::Backfill { to } => {
                self.backfill(fetcher, next, to, Some(PIPELINE_WAIT)).await
            }
            Decision::ProbeOthers => self.probe_others(*next).await,
            Decision::Stalled { head } => Err(SourceError::Stalled {
                next: next.get(),
                head: head.get(),
            }),
        }
    }

    /// Sends the block of a NewBlock event, after any heights it skipped.
    async fn on_event(
        &self,
        fetcher: &Fetcher,
        event: EventData,
        next: &mut Height,
        watch: &mut Watch,
    ) -> Result<(), SourceError> {
        let received = Instant::now();
        let Some((block, finalized)) = new_block(event) else {
            return Ok(());
        };
        let height = Height::new(block.header.height.value()).ok_or(SourceError::Garbage {
            height: 0,
            what: "block height 0",
        })?;
        self.metrics.record_node_height(height);
        if height < *next {
            debug!(%height, "already sent; ignored");
            watch.heard(Instant::now());
            return Ok(());
        }
        if height > *next {
            warn!(from = %next, %height, "filling a gap in the event stream");
            let to = height.previous().unwrap_or(height);
            self.backfill(fetcher, next, to, Some(PIPELINE_WAIT))
                .await?;
        }
        let mut raw = match finalized {
            Some(f) => joined(&block, &f.tx_results, Some(&f.app_hash))?,
            None => raw_block(&block, &fetcher.results(height).await?, fetcher.dialect)?,
        };
        raw.received = Some(received);
        send(self.blocks, raw, next, Some(PIPELINE_WAIT)).await?;
        watch.heard(Instant::now());
        Ok(())
    }

    /// Fails with [`SourceError::Behind`] if another configured node has the height
    /// `next`, which this one has not: it is halted or lagging, not merely quiet.
    async fn probe_others(&self, next: Height) -> Result<(), SourceError> {
        for (index, other) in self.others.iter().enumerate() {
            if other == self.endpoint {
                continue;
            }
            let Ok(url) = other.http.parse() else {
                continue;
            };
            let Ok(client) = HttpClient::builder(url).timeout(PROBE_TIMEOUT).build() else {
                continue;
            };
            if let Ok(status) = client.status().await
                && status.sync_info.latest_block_height.value() >= next.get()
            {
                return Err(SourceError::Behind {
                    next: next.get(),
                    ahead: index,
                    other: other.http.clone(),
                });
            }
        }
        Ok(())
    }

    /// The node's latest height (None before its first block).
    async fn latest(&self, http: &HttpClient) -> Result<Option<Height>, SourceError> {
        let status = http.status().await.map_err(rpc("/status"))?;
        let latest = Height::new(status.sync_info.latest_block_height.value());
        if let Some(latest) = latest {
            self.metrics.record_node_height(latest);
        }
        Ok(latest)
    }

    /// Fetches and sends `next..=to`, [`BACKFILL_CONCURRENCY`] at a time, in order; each
    /// send waits at most `wait` for the pipeline.
    async fn backfill(
        &self,
        fetcher: &Fetcher,
        next: &mut Height,
        to: Height,
        wait: Option<Duration>,
    ) -> Result<(), SourceError> {
        if *next > to {
            return Ok(());
        }
        debug!(from = %next, %to, "backfilling");
        let mut fetched =
            futures_util::stream::iter((next.get()..=to.get()).filter_map(Height::new))
                .map(|height| fetcher.fetch(height))
                .buffered(BACKFILL_CONCURRENCY);
        while let Some(raw) = fetched.next().await {
            send(self.blocks, raw?, next, wait).await?;
            self.metrics.record_backfilled();
        }
        Ok(())
    }
}

/// Sends the block at `next` and moves `next` past it, waiting at most `wait` for room.
async fn send(
    blocks: &mpsc::Sender<RawBlock>,
    raw: RawBlock,
    next: &mut Height,
    wait: Option<Duration>,
) -> Result<(), SourceError> {
    if raw.height != *next {
        return Err(SourceError::Garbage {
            height: raw.height.get(),
            what: "the node served another height than asked for",
        });
    }
    match wait {
        None => blocks.send(raw).await.map_err(|_| SourceError::Closed)?,
        Some(wait) => match blocks.send_timeout(raw, wait).await {
            Ok(()) => {}
            Err(mpsc::error::SendTimeoutError::Closed(_)) => return Err(SourceError::Closed),
            Err(mpsc::error::SendTimeoutError::Timeout(_)) => {
                return Err(SourceError::PipelineStuck);
            }
        },
    }
    *next = next.next();
    Ok(())
}

/// The end of the websocket driver, as the session's failure.
fn driver_exit(exited: Result<Result<(), tendermint_rpc::Error>, JoinError>) -> SourceError {
    match exited {
        Ok(Ok(())) => SourceError::DriverStopped,
        Ok(Err(source)) => SourceError::DriverFailed {
            source: Box::new(source),
        },
        Err(source) => SourceError::DriverPanicked { source },
    }
}

/// The block of a NewBlock event, with its results and app hash when the event brings
/// them (0.38); None, logged, for an event without a block.
fn new_block(event: EventData) -> Option<(Box<Block>, Option<FinalizeBlock>)> {
    match event {
        EventData::NewBlock {
            block: Some(block),
            result_finalize_block,
            ..
        } => Some((block, result_finalize_block)),
        EventData::LegacyNewBlock {
            block: Some(block), ..
        } => Some((block, None)),
        other => {
            warn!(event = ?other, "NewBlock event without a block; ignored");
            None
        }
    }
}

/// Fetches blocks the event stream did not deliver, over the node's HTTP RPC.
struct Fetcher {
    http: HttpClient,
    dialect: CompatMode,
}

impl Fetcher {
    /// A block and its results.
    async fn fetch(&self, height: Height) -> Result<RawBlock, SourceError> {
        let block = self
            .http
            .block(rpc_height(height)?)
            .await
            .map_err(rpc("/block"))?;
        raw_block(&block.block, &self.results(height).await?, self.dialect)
    }

    /// A block's results, retried while the node has not stored them yet.
    async fn results(&self, height: Height) -> Result<block_results::Response, SourceError> {
        let at = rpc_height(height)?;
        super::until_results_stored(height.get(), || async {
            self.http
                .block_results(at)
                .await
                .map_err(rpc("/block_results"))
        })
        .await
    }
}
