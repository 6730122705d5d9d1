//! The command line: flags, each with an environment variable, parsed into the settings
//! the library's stages take ([`NodeSettings`], [`ServerSettings`]), so no stage sees clap.
//!
//! In: flags and the environment. Out: checked settings, or a [`ConfigError`] (exit status 2
//! in `main`). Where Planetmint has a setting for the same thing, its variable and default
//! are used (`PLANETMINT_<SECTION>_<KEY>`), so an operator's existing environment works
//! unchanged; our own settings use `PLANETMINT_STREAM_<KEY>`. Each shared setting also has
//! its own name, which wins ([`prefer_own_names`]), so one environment file can serve both
//! Planetmint and this service. Defaults that the library also uses (in
//! [`ServerSettings::loopback`]) are the library's constants, stated once.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Command};
use humantime::Duration as HumanDuration;
use tendermint_rpc::client::CompatMode;

use planetmint_stream::export::{self, ExportSettings};
use planetmint_stream::filter::{self, QueryLimits};
use planetmint_stream::server::{self, ConnectionLimits, ServerSettings, TlsSettings};
use planetmint_stream::sessions::SessionSettings;
use planetmint_stream::source::node::{Endpoint, NodeSettings};

/// The settings this service shares with Planetmint: Planetmint's variable, and this
/// service's own name for it (`PLANETMINT_STREAM_` and the flag's name), which wins. Beside
/// a node, both processes read one environment file: Planetmint's stream server and this
/// service cannot both have `PLANETMINT_WSSERVER_PORT`, nor its HTTP API and ours
/// `PLANETMINT_SERVER_BIND`.
pub const OWN_NAMES: [(&str, &str); 8] = [
    (
        "PLANETMINT_TENDERMINT_HOST",
        "PLANETMINT_STREAM_TENDERMINT_HOST",
    ),
    (
        "PLANETMINT_TENDERMINT_PORT",
        "PLANETMINT_STREAM_TENDERMINT_PORT",
    ),
    ("PLANETMINT_WSSERVER_HOST", "PLANETMINT_STREAM_WS_HOST"),
    ("PLANETMINT_WSSERVER_PORT", "PLANETMINT_STREAM_WS_PORT"),
    (
        "PLANETMINT_WSSERVER_ADVERTISED_SCHEME",
        "PLANETMINT_STREAM_ADVERTISED_SCHEME",
    ),
    (
        "PLANETMINT_WSSERVER_ADVERTISED_HOST",
        "PLANETMINT_STREAM_ADVERTISED_HOST",
    ),
    (
        "PLANETMINT_WSSERVER_ADVERTISED_PORT",
        "PLANETMINT_STREAM_ADVERTISED_PORT",
    ),
    ("PLANETMINT_SERVER_BIND", "PLANETMINT_STREAM_API_BIND"),
];

/// The variable a setting is read from: its own name when `is_set` says the environment
/// has it, else the `shared` one it was declared with. A flag still beats both.
pub fn env_name(shared: &str, is_set: impl Fn(&str) -> bool) -> Option<&'static str> {
    OWN_NAMES
        .iter()
        .find(|(name, _)| *name == shared)
        .map(|(_, own)| *own)
        .filter(|own| is_set(own))
}

/// `command` with every shared setting of every subcommand read from its own name where
/// the environment has it ([`env_name`]). Clap takes one variable per flag, so the choice
/// is made before parsing.
pub fn prefer_own_names(command: Command, is_set: impl Fn(&str) -> bool + Copy) -> Command {
    command.mut_subcommands(move |subcommand| {
        subcommand.mut_args(move |arg| {
            let own = arg
                .get_env()
                .and_then(|shared| env_name(shared.to_str()?, is_set));
            match own {
                Some(own) => arg.env(own),
                None => arg,
            }
        })
    })
}

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

impl From<NodeArgs> for NodeSettings {
    fn from(args: NodeArgs) -> Self {
        let endpoints = if args.nodes.is_empty() {
            vec![Endpoint::parse(&format!(
                "{}:{}",
                args.tendermint_host, args.tendermint_port
            ))]
        } else {
            args.nodes
                .iter()
                .map(|node| Endpoint::parse(node))
                .collect()
        };
        NodeSettings {
            endpoints,
            dialect: args.dialect,
        }
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
    #[arg(long, env = "PLANETMINT_STREAM_HISTORY_BLOCKS", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub history_blocks: u64,
    /// Where a fresh store begins: 1 streams the whole chain; the node's next block when
    /// absent. Ignored once the store holds a height (the service continues after it).
    #[arg(long, env = "PLANETMINT_STREAM_START_HEIGHT", value_parser = clap::value_parser!(u64).range(1..))]
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
    /// Scheme of the stream URLs the API root advertises (ws or wss): wss when this
    /// service serves TLS (--tls-cert), else ws.
    #[arg(long, env = "PLANETMINT_WSSERVER_ADVERTISED_SCHEME", value_parser = ["ws", "wss"])]
    pub advertised_scheme: Option<String>,
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
    #[arg(long, env = "PLANETMINT_STREAM_PING_INTERVAL", default_value_t = SessionSettings::DEFAULT.ping_interval.into())]
    pub ping_interval: HumanDuration,
    /// A subscriber silent (no frame, not even a pong) this long is closed.
    #[arg(long, env = "PLANETMINT_STREAM_IDLE_TIMEOUT", default_value_t = SessionSettings::DEFAULT.idle_timeout.into())]
    pub idle_timeout: HumanDuration,
    /// Most subscribers at once; further upgrades get 503.
    #[arg(long, env = "PLANETMINT_STREAM_MAX_CLIENTS", default_value_t = server::DEFAULT_MAX_CLIENTS)]
    pub max_clients: usize,
    /// Blocks a subscriber may fall behind before it is closed as a slow consumer (the
    /// length of each stream's ring, shared by all subscribers).
    #[arg(long = "queue", value_name = "BLOCKS", env = "PLANETMINT_STREAM_QUEUE", default_value_t = server::DEFAULT_SUBSCRIBER_QUEUE_BLOCKS)]
    pub subscriber_queue_blocks: usize,
    /// `/ready` answers 503 while the node is more than this many blocks ahead of what is
    /// published.
    #[arg(long, env = "PLANETMINT_STREAM_MAX_LAG", default_value_t = server::DEFAULT_MAX_LAG)]
    pub max_lag: u64,
    /// Most filter values (public keys, ids, operations, over all parameters) one
    /// subscriber's query may name; more gets 400.
    #[arg(long, env = "PLANETMINT_STREAM_MAX_FILTER_VALUES", default_value_t = filter::DEFAULT_MAX_FILTER_VALUES)]
    pub max_filter_values: usize,
    /// Most filter values all subscribers may hold together (about 100 bytes each); an
    /// upgrade that would pass it gets 503.
    #[arg(long, env = "PLANETMINT_STREAM_MAX_FILTER_VALUES_TOTAL", default_value_t = server::DEFAULT_MAX_FILTER_VALUES_TOTAL)]
    pub max_filter_values_total: usize,
    /// Certificate chain (PEM) both listeners serve TLS with (wss:// and https://);
    /// reloaded when the file changes. Needs --tls-key.
    #[arg(long, env = "PLANETMINT_STREAM_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// Private key (PEM) of --tls-cert; reloaded when the file changes.
    #[arg(long, env = "PLANETMINT_STREAM_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    #[command(flatten)]
    pub abuse: AbuseArgs,
}

/// What keeps hostile clients from taking the stream away from everyone else.
#[derive(Debug, Clone, Args)]
pub struct AbuseArgs {
    /// How long a client has for its TLS handshake, and then for each request head;
    /// after that its socket is closed.
    #[arg(long, env = "PLANETMINT_STREAM_REQUEST_HEAD_TIMEOUT", default_value_t = server::DEFAULT_REQUEST_HEAD_TIMEOUT.into())]
    pub request_head_timeout: HumanDuration,
    /// Connections in their HTTP phase (not subscribers yet) at once, per listener; more
    /// are closed at once.
    #[arg(long, env = "PLANETMINT_STREAM_MAX_PENDING_CONNECTIONS", default_value_t = server::DEFAULT_MAX_PENDING)]
    pub max_pending_connections: usize,
    /// Of those, what one address (an IPv6 host's /64) may hold; more are closed at once.
    /// Trusted proxies are exempt.
    #[arg(long, env = "PLANETMINT_STREAM_MAX_PENDING_PER_IP", default_value_t = server::DEFAULT_MAX_PENDING_PER_IP)]
    pub max_pending_per_ip: usize,
    /// Subscribers one address (an IPv6 host's /64) may hold; more get 429.
    #[arg(long, env = "PLANETMINT_STREAM_MAX_CLIENTS_PER_IP", default_value_t = server::DEFAULT_MAX_CLIENTS_PER_IP)]
    pub max_clients_per_ip: usize,
    /// Addresses of the proxies in front of the service, comma-separated: their
    /// X-Forwarded-For names the client the per-address limit counts. Never believed from
    /// anyone else; off when absent.
    #[arg(
        long,
        env = "PLANETMINT_STREAM_TRUST_FORWARDED_FOR",
        value_delimiter = ','
    )]
    pub trust_forwarded_for: Vec<std::net::IpAddr>,
    /// Messages a second a subscriber may send (pings and pongs included); faster is
    /// closed with 1008.
    #[arg(long, env = "PLANETMINT_STREAM_MAX_CLIENT_MESSAGES_PER_SECOND", default_value_t = SessionSettings::DEFAULT.max_messages_per_second)]
    pub max_client_messages_per_second: u32,
    /// Bytes a second a subscriber may send (as read from the socket); faster is closed
    /// with 1008.
    #[arg(long, env = "PLANETMINT_STREAM_MAX_CLIENT_BYTES_PER_SECOND", default_value_t = server::DEFAULT_BYTES_PER_SECOND)]
    pub max_client_bytes_per_second: u32,
}

impl AbuseArgs {
    /// The server's limits, or the flag that is zero.
    fn limits(self) -> Result<ConnectionLimits, ConfigError> {
        for (name, value) in [
            (
                "--request-head-timeout",
                u64::from(!self.request_head_timeout.is_zero()),
            ),
            (
                "--max-pending-connections",
                self.max_pending_connections as u64,
            ),
            ("--max-pending-per-ip", self.max_pending_per_ip as u64),
            ("--max-clients-per-ip", self.max_clients_per_ip as u64),
            (
                "--max-client-messages-per-second",
                u64::from(self.max_client_messages_per_second),
            ),
            (
                "--max-client-bytes-per-second",
                u64::from(self.max_client_bytes_per_second),
            ),
        ] {
            if value == 0 {
                return Err(ConfigError::Zero(name));
            }
        }
        if *self.request_head_timeout > server::MAX_REQUEST_HEAD_TIMEOUT {
            return Err(ConfigError::HeadTimeoutTooLong(*self.request_head_timeout));
        }
        Ok(ConnectionLimits {
            request_head_timeout: *self.request_head_timeout,
            max_pending: self.max_pending_connections,
            max_pending_per_ip: self.max_pending_per_ip,
            max_clients_per_ip: self.max_clients_per_ip,
            // As the peer is compared: an IPv4 proxy written as IPv4-mapped IPv6 is itself.
            trusted_proxies: (self.trust_forwarded_for.iter())
                .map(|proxy| proxy.to_canonical())
                .collect(),
            bytes_per_second: self.max_client_bytes_per_second,
        })
    }
}

/// The NATS JetStream export (`serve` only).
#[derive(Debug, Args)]
pub struct NatsArgs {
    /// NATS server to export both streams to (JetStream), e.g. nats://127.0.0.1:4222; off
    /// when absent.
    #[arg(long = "nats", value_name = "URL", env = "PLANETMINT_STREAM_NATS_URL")]
    pub url: Option<String>,
    /// The JetStream stream (created if missing).
    #[arg(long = "nats-stream", env = "PLANETMINT_STREAM_NATS_STREAM", default_value = export::DEFAULT_STREAM)]
    pub stream: String,
    /// Put each transaction's body in its exported message.
    #[arg(long = "nats-bodies", env = "PLANETMINT_STREAM_NATS_BODIES")]
    pub bodies: bool,
    /// Blocks the export may fall behind; past it the stream waits and /health says why,
    /// rather than the store dropping unexported blocks.
    #[arg(long = "nats-max-behind", value_name = "BLOCKS", env = "PLANETMINT_STREAM_NATS_MAX_BEHIND", default_value_t = export::DEFAULT_MAX_BEHIND, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_behind: u64,
    /// Replicas of the stream when this service creates it (3 in a three-node cluster).
    #[arg(long = "nats-replicas", env = "PLANETMINT_STREAM_NATS_REPLICAS", default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=5))]
    pub replicas: u8,
}

impl NatsArgs {
    /// The export's settings, when it is on.
    pub fn settings(self) -> Option<ExportSettings> {
        Some(ExportSettings {
            url: self.url?,
            stream: self.stream,
            bodies: self.bodies,
            max_behind: self.max_behind,
            replicas: usize::from(self.replicas),
        })
    }
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
    #[error("--request-head-timeout ({0:?}) must be at most an hour")]
    HeadTimeoutTooLong(Duration),
    #[error("--api-bind must be host:port, got {0:?}")]
    ApiBind(String),
}

impl TryFrom<ServerArgs> for ServerSettings {
    type Error = ConfigError;

    /// Checks what clap cannot.
    fn try_from(args: ServerArgs) -> Result<Self, ConfigError> {
        let (ping, idle) = (*args.ping_interval, *args.idle_timeout);
        if ping.is_zero() {
            return Err(ConfigError::ZeroPing);
        }
        if idle <= ping {
            return Err(ConfigError::IdleNotAfterPing { idle, ping });
        }
        for (name, value) in [
            ("--max-clients", args.max_clients),
            ("--queue", args.subscriber_queue_blocks),
            ("--max-filter-values", args.max_filter_values),
            ("--max-filter-values-total", args.max_filter_values_total),
        ] {
            if value == 0 {
                return Err(ConfigError::Zero(name));
            }
        }
        match args.api_bind.rsplit_once(':') {
            Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => {}
            _ => return Err(ConfigError::ApiBind(args.api_bind)),
        }
        let messages = args.abuse.max_client_messages_per_second;
        let connections = args.abuse.limits()?;
        let tls = args
            .tls_cert
            .zip(args.tls_key)
            .map(|(cert, key)| TlsSettings { cert, key });
        let scheme = match (args.advertised_scheme, &tls) {
            (Some(scheme), _) => scheme,
            (None, Some(_)) => "wss".to_owned(),
            (None, None) => "ws".to_owned(),
        };
        Ok(ServerSettings {
            ws_bind: format!("{}:{}", args.ws_host, args.ws_port),
            api_bind: args.api_bind,
            advertised_ws_url: format!(
                "{scheme}://{}:{}",
                args.advertised_host, args.advertised_port
            ),
            session: SessionSettings {
                ping_interval: ping,
                idle_timeout: idle,
                max_messages_per_second: messages,
            },
            max_clients: args.max_clients,
            subscriber_queue_blocks: args.subscriber_queue_blocks,
            max_lag: args.max_lag,
            query: QueryLimits {
                max_values: args.max_filter_values,
            },
            max_filter_values_total: args.max_filter_values_total,
            tls,
            connections,
        })
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

    #[derive(clap::Parser)]
    struct Command {
        #[command(flatten)]
        server: ServerArgs,
        #[command(flatten)]
        node: NodeArgs,
    }

    /// Flags as parsed from `args` (and the environment, as in `main`).
    fn parse(args: &[&str]) -> Command {
        <Command as clap::Parser>::try_parse_from(
            std::iter::once("test").chain(args.iter().copied()),
        )
        .expect("flags")
    }

    #[test]
    fn defaults_are_planetmints_and_pass_the_checks() {
        let settings = ServerSettings::try_from(parse(&[]).server).expect("defaults");
        assert_eq!(settings.advertised_ws_url, "ws://localhost:9985");
        assert_eq!(settings.ws_bind, "localhost:9985");
        assert_eq!(settings.api_bind, "localhost:9984");
        assert_eq!(settings.session.ping_interval, Duration::from_secs(30));
        assert_eq!(settings.tls, None);
        let node = NodeSettings::from(parse(&[]).node);
        assert_eq!(node.endpoints, [Endpoint::parse("localhost:26657")]);
    }

    #[test]
    fn tls_advertises_wss_unless_told_otherwise() {
        let tls = ["--tls-cert", "c.pem", "--tls-key", "k.pem"];
        let settings = ServerSettings::try_from(parse(&tls).server).expect("TLS");
        assert_eq!(settings.advertised_ws_url, "wss://localhost:9985");
        let files = TlsSettings {
            cert: "c.pem".into(),
            key: "k.pem".into(),
        };
        assert_eq!(settings.tls, Some(files));
        let told = [&tls[..], &["--advertised-scheme", "ws"]].concat();
        let settings = ServerSettings::try_from(parse(&told).server).expect("TLS");
        assert_eq!(settings.advertised_ws_url, "ws://localhost:9985");
        let half = <Command as clap::Parser>::try_parse_from(["test", "--tls-cert", "c.pem"]);
        assert!(half.is_err(), "a certificate without its key");
    }

    #[test]
    fn nonsense_is_refused() {
        let refused = |args: &[&str]| ServerSettings::try_from(parse(args).server).err();
        assert!(matches!(
            refused(&["--idle-timeout", "30s"]),
            Some(ConfigError::IdleNotAfterPing { .. })
        ));
        assert!(matches!(
            refused(&["--api-bind", "9984"]),
            Some(ConfigError::ApiBind(_))
        ));
        assert!(matches!(
            refused(&["--queue", "0"]),
            Some(ConfigError::Zero("--queue"))
        ));
        assert_eq!(parse_dialect("v0.38"), Ok(CompatMode::V0_38));
        assert!(parse_dialect("0.35").is_err());
    }

    #[test]
    fn an_own_name_wins_only_when_set() {
        let own = "PLANETMINT_STREAM_WS_PORT";
        let only_own = |name: &str| name == own;
        assert_eq!(env_name("PLANETMINT_WSSERVER_PORT", only_own), Some(own));
        assert_eq!(env_name("PLANETMINT_WSSERVER_PORT", |_| false), None);
        // Another setting's own name, or a setting that has only ours, changes nothing.
        assert_eq!(env_name("PLANETMINT_SERVER_BIND", only_own), None);
        assert_eq!(env_name("PLANETMINT_STREAM_QUEUE", |_| true), None);
    }

    /// The environment names of each subcommand's flags, by flag.
    fn env_names(command: &clap::Command) -> Vec<(String, String, String)> {
        command
            .get_subcommands()
            .flat_map(|subcommand| {
                subcommand.get_arguments().filter_map(|arg| {
                    let env = arg.get_env()?.to_str()?.to_owned();
                    let name = subcommand.get_name().to_owned();
                    Some((name, arg.get_long()?.to_owned(), env))
                })
            })
            .collect()
    }

    #[test]
    fn every_shared_setting_has_its_own_name_and_it_is_used_when_set() {
        let declared = env_names(&<crate::Cli as clap::CommandFactory>::command());
        let preferred = env_names(&prefer_own_names(
            <crate::Cli as clap::CommandFactory>::command(),
            |name| name.starts_with("PLANETMINT_STREAM_"),
        ));
        assert_eq!(declared.len(), preferred.len());
        let mut shared = 0;
        for ((subcommand, flag, env), (_, _, chosen)) in declared.iter().zip(&preferred) {
            let own = format!(
                "PLANETMINT_STREAM_{}",
                flag.to_uppercase().replace('-', "_")
            );
            if env.starts_with("PLANETMINT_STREAM_") {
                assert_eq!(chosen, env, "{subcommand} --{flag}: already its own");
            } else {
                assert_eq!(*chosen, own, "{subcommand} --{flag} ({env})");
                assert!(OWN_NAMES.contains(&(env.as_str(), own.as_str())));
                shared += 1;
            }
        }
        // serve and replay share the 6 listener settings, serve and record the node's 2.
        assert_eq!(shared, 2 * 6 + 2 * 2);
        let untouched = env_names(&prefer_own_names(
            <crate::Cli as clap::CommandFactory>::command(),
            |_| false,
        ));
        assert_eq!(untouched, declared, "no own name set: Planetmint's names");
    }

    #[test]
    fn abuse_limits_parse_and_zero_is_refused() {
        let args = [
            "--request-head-timeout",
            "2s",
            "--max-clients-per-ip",
            "7",
            "--max-pending-per-ip",
            "3",
            "--trust-forwarded-for",
            "10.0.0.1,::1,::ffff:10.0.0.9",
        ];
        let settings = ServerSettings::try_from(parse(&args).server).expect("limits");
        let limits = settings.connections;
        assert_eq!(limits.request_head_timeout, Duration::from_secs(2));
        assert_eq!(limits.max_clients_per_ip, 7);
        assert_eq!(limits.max_pending_per_ip, 3);
        let proxies: Vec<std::net::IpAddr> = ["10.0.0.1", "::1", "10.0.0.9"]
            .map(|proxy| proxy.parse().unwrap())
            .into();
        assert_eq!(limits.trusted_proxies, proxies, "compared as peers are");
        let endless = parse(&["--request-head-timeout", "500000000000years"]).server;
        assert!(matches!(
            ServerSettings::try_from(endless),
            Err(ConfigError::HeadTimeoutTooLong(_))
        ));
        let defaults = ServerSettings::try_from(parse(&[]).server).expect("defaults");
        assert_eq!(defaults.connections, ConnectionLimits::defaults());
        assert_eq!(defaults.session, SessionSettings::DEFAULT);
        for flag in [
            "--request-head-timeout",
            "--max-pending-connections",
            "--max-pending-per-ip",
            "--max-clients-per-ip",
            "--max-client-messages-per-second",
            "--max-client-bytes-per-second",
        ] {
            let zero = if flag == "--request-head-timeout" {
                "0s"
            } else {
                "0"
            };
            let refused = ServerSettings::try_from(parse(&[flag, zero]).server).err();
            assert!(
                matches!(refused, Some(ConfigError::Zero(name)) if name == flag),
                "{flag}"
            );
        }
    }

    #[test]
    fn nodes_replace_host_and_port() {
        let node = NodeSettings::from(parse(&["--nodes", "a:1,https://b:2/"]).node);
        assert_eq!(
            node.endpoints,
            [
                Endpoint {
                    http: "http://a:1".into(),
                    websocket: "ws://a:1/websocket".into()
                },
                Endpoint {
                    http: "https://b:2".into(),
                    websocket: "wss://b:2/websocket".into()
                },
            ]
        );
    }
}
