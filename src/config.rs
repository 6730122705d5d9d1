//! Configuration: command-line flags, each with an environment variable.
//!
//! In: flags and the environment. Out: checked settings for the server and the source.
//! Where Planetmint has a setting for the same thing, its variable and default are used
//! (`PLANETMINT_<SECTION>_<KEY>`), so an operator's existing environment works unchanged;
//! our own settings use `PLANETMINT_STREAM_<KEY>`. An invalid value is one clear line and
//! exit status 2 (clap's, or [`ConfigError`]'s in `main`).

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use tendermint_rpc::client::CompatMode;

use crate::sessions::SessionConfig;

/// Where the CometBFT node is.
#[derive(Debug, Clone, Args)]
pub struct NodeArgs {
    /// CometBFT RPC host.
    #[arg(long, env = "PLANETMINT_TENDERMINT_HOST", default_value = "localhost")]
    pub tendermint_host: String,
    /// CometBFT RPC port.
    #[arg(long, env = "PLANETMINT_TENDERMINT_PORT", default_value_t = 26657)]
    pub tendermint_port: u16,
    /// Several nodes of the same chain to fail over between, comma-separated, each
    /// `host:port` or an `http(s)://` URL; replaces the host and port above when given.
    #[arg(long, env = "PLANETMINT_STREAM_NODES", value_delimiter = ',')]
    pub nodes: Vec<String>,
    /// RPC dialect (0.34, 0.37 or 0.38); read from the node's /status when absent.
    #[arg(long, env = "PLANETMINT_STREAM_DIALECT", value_parser = parse_dialect)]
    pub dialect: Option<CompatMode>,
}

/// One node's RPC addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Base of the HTTP RPC, without a trailing slash.
    pub http: String,
    /// The `/websocket` URL.
    pub websocket: String,
}

impl NodeArgs {
    /// The nodes to follow, in the order they are tried.
    pub fn endpoints(&self) -> Vec<Endpoint> {
        let default = [format!("{}:{}", self.tendermint_host, self.tendermint_port)];
        let nodes = if self.nodes.is_empty() {
            &default[..]
        } else {
            &self.nodes[..]
        };
        nodes
            .iter()
            .map(|node| {
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
            })
            .collect()
    }

    /// The first node's HTTP RPC: the one `record` reads.
    pub fn http_url(&self) -> String {
        self.endpoints().swap_remove(0).http
    }
}

/// Where the stream's state lives and how much history it keeps.
#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// Directory of the store (the cursor and the retained history); created if missing.
    #[arg(long, env = "PLANETMINT_STREAM_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Blocks of published messages kept for clients resuming with `?from_height=N`.
    /// 10,000 blocks is hours of a busy chain (at most a few hundred MB at 100
    /// transactions a block), enough to ride out a client's restart or a maintenance window.
    #[arg(
        long,
        env = "PLANETMINT_STREAM_HISTORY_BLOCKS",
        default_value_t = 10_000
    )]
    pub history_blocks: u64,
    /// Where a fresh store begins: 1 streams the whole chain; the node's next block when
    /// absent. Ignored once the store holds a height (the service continues after it).
    #[arg(long, env = "PLANETMINT_STREAM_START_HEIGHT")]
    pub start_height: Option<u64>,
}

/// The listeners and their limits.
#[derive(Debug, Clone, Args)]
pub struct ServerArgs {
    /// Host the WebSocket streams listen on.
    #[arg(long, env = "PLANETMINT_WSSERVER_HOST", default_value = "localhost")]
    pub ws_host: String,
    /// Port the WebSocket streams listen on.
    #[arg(long, env = "PLANETMINT_WSSERVER_PORT", default_value_t = 9985)]
    pub ws_port: u16,
    /// Scheme of the stream URLs the API root advertises (ws or wss).
    #[arg(long, env = "PLANETMINT_WSSERVER_ADVERTISED_SCHEME", default_value = "ws", value_parser = ["ws", "wss"])]
    pub advertised_scheme: String,
    /// Host of the stream URLs the API root advertises.
    #[arg(
        long,
        env = "PLANETMINT_WSSERVER_ADVERTISED_HOST",
        default_value = "localhost"
    )]
    pub advertised_host: String,
    /// Port of the stream URLs the API root advertises.
    #[arg(
        long,
        env = "PLANETMINT_WSSERVER_ADVERTISED_PORT",
        default_value_t = 9985
    )]
    pub advertised_port: u16,
    /// host:port of the HTTP API root (and /metrics).
    #[arg(long, env = "PLANETMINT_SERVER_BIND", default_value = "localhost:9984")]
    pub api_bind: String,
    /// How often the server pings each subscriber.
    #[arg(long, env = "PLANETMINT_STREAM_PING_INTERVAL", default_value = "30s", value_parser = humantime::parse_duration)]
    pub ping_interval: Duration,
    /// A subscriber silent (no frame, not even a pong) this long is closed.
    #[arg(long, env = "PLANETMINT_STREAM_IDLE_TIMEOUT", default_value = "90s", value_parser = humantime::parse_duration)]
    pub idle_timeout: Duration,
    /// Most subscribers at once; further upgrades get 503.
    #[arg(long, env = "PLANETMINT_STREAM_MAX_CLIENTS", default_value_t = 10_000)]
    pub max_clients: usize,
    /// Blocks a subscriber may fall behind before it is closed as a slow consumer. Each
    /// stream's ring holds this many blocks' messages, shared by all subscribers (so a full
    /// ring costs what the last 16 blocks' messages weigh, once, not per subscriber); 16
    /// holds the ten full blocks a client may be allowed to lag, with room to spare.
    #[arg(long, env = "PLANETMINT_STREAM_QUEUE", default_value_t = 16)]
    pub queue: usize,
    /// `/ready` answers 503 while the node is more than this many blocks ahead of what is
    /// published: a few blocks is a moment of validation; more is a backfill or a stall.
    #[arg(long, env = "PLANETMINT_STREAM_MAX_LAG", default_value_t = 5)]
    pub max_lag: u64,
}

/// A setting that parsed but makes no sense.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "--idle-timeout ({idle:?}) must be longer than --ping-interval ({ping:?}), or live clients would be cut off"
    )]
    IdleNotAfterPing { idle: Duration, ping: Duration },
    #[error("--ping-interval must be positive")]
    ZeroPing,
    #[error("{0} must be at least 1")]
    Zero(&'static str),
    #[error("--api-bind must be host:port, got {0:?}")]
    ApiBind(String),
    #[error("--start-height must be at least 1")]
    StartHeight,
}

impl StoreArgs {
    /// Checks what clap cannot.
    pub fn check(&self) -> Result<(), ConfigError> {
        if self.history_blocks == 0 {
            return Err(ConfigError::Zero("--history-blocks"));
        }
        if self.start_height == Some(0) {
            return Err(ConfigError::StartHeight);
        }
        Ok(())
    }
}

impl ServerArgs {
    /// The defaults, with both listeners on 127.0.0.1 and ephemeral ports: what tests and
    /// the load tool run the server with. (Variables set in the environment still apply.)
    pub fn loopback() -> Self {
        #[derive(clap::Parser)]
        struct Command {
            #[command(flatten)]
            server: ServerArgs,
        }
        let args = ["loopback", "--ws-host", "127.0.0.1", "--ws-port", "0"];
        let args = args.into_iter().chain(["--api-bind", "127.0.0.1:0"]);
        <Command as clap::Parser>::parse_from(args).server
    }

    /// Checks what clap cannot.
    pub fn check(&self) -> Result<(), ConfigError> {
        if self.ping_interval.is_zero() {
            return Err(ConfigError::ZeroPing);
        }
        if self.idle_timeout <= self.ping_interval {
            return Err(ConfigError::IdleNotAfterPing {
                idle: self.idle_timeout,
                ping: self.ping_interval,
            });
        }
        for (name, value) in [("--max-clients", self.max_clients), ("--queue", self.queue)] {
            if value == 0 {
                return Err(ConfigError::Zero(name));
            }
        }
        match self.api_bind.rsplit_once(':') {
            Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => Ok(()),
            _ => Err(ConfigError::ApiBind(self.api_bind.clone())),
        }
    }

    /// Where clients are told the streams are: `{scheme}://{host}:{port}`.
    pub fn advertised_ws_url(&self) -> String {
        format!(
            "{}://{}:{}",
            self.advertised_scheme, self.advertised_host, self.advertised_port
        )
    }

    pub fn session(&self) -> SessionConfig {
        SessionConfig {
            ping_interval: self.ping_interval,
            idle_timeout: self.idle_timeout,
        }
    }
}

/// Parses a dialect flag: `0.34`, `0.37` or `0.38` (a leading `v` is allowed).
pub fn parse_dialect(text: &str) -> Result<CompatMode, String> {
    match text.trim_start_matches('v') {
        "0.34" => Ok(CompatMode::V0_34),
        "0.37" => Ok(CompatMode::V0_37),
        "0.38" => Ok(CompatMode::V0_38),
        _ => Err("expected 0.34, 0.37 or 0.38".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_planetmints_and_pass_the_checks() {
        let args = ServerArgs::loopback();
        assert_eq!(args.advertised_ws_url(), "ws://localhost:9985");
        assert_eq!(args.ping_interval, Duration::from_secs(30));
        assert!(args.check().is_ok());
    }

    #[test]
    fn nonsense_is_refused() {
        let base = ServerArgs::loopback();
        let idle = ServerArgs {
            idle_timeout: Duration::from_secs(30),
            ..base.clone()
        };
        assert!(matches!(
            idle.check(),
            Err(ConfigError::IdleNotAfterPing { .. })
        ));
        let bind = ServerArgs {
            api_bind: "9984".into(),
            ..base.clone()
        };
        assert!(matches!(bind.check(), Err(ConfigError::ApiBind(_))));
        let queue = ServerArgs { queue: 0, ..base };
        assert!(matches!(queue.check(), Err(ConfigError::Zero("--queue"))));
        assert_eq!(parse_dialect("v0.38"), Ok(CompatMode::V0_38));
        assert!(parse_dialect("0.35").is_err());
    }
}
