//! The `planetmint-stream` binary: command-line parsing ([`cli`]), logging, signals and exit
//! codes; the work is in the library.
//!
//! Exit status: 0 on success (and after SIGINT/SIGTERM); 1 when `check` finds an invalid
//! transaction or the service fails at run time; 2 when the operator must change something
//! before trying again: a flag, the data directory (another chain's, or locked by another
//! process), the chain file (missing, unreadable, not a chain file), or a port another
//! process listens on (beside a node, most likely Planetmint's own servers).

mod cli;

use std::io::{self, BufReader, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{CommandFactory as _, FromArgMatches as _, Parser, Subcommand};
use tokio_util::sync::CancellationToken;
use tracing::info;

use planetmint_stream::chain::Height;
use planetmint_stream::check::{self, Encoding};
use planetmint_stream::export::{ExportError, ExportSettings};
use planetmint_stream::parallel;
use planetmint_stream::server::{Listener, Listeners, ServerError, ServerSettings};
use planetmint_stream::service::{self, ServiceError};
use planetmint_stream::source::chain_file::{self, Replay, ReplayOptions};
use planetmint_stream::source::node::{Follow, NodeSettings};
use planetmint_stream::source::{BlockSource, SourceError};
use planetmint_stream::store::{Store, StoreError};

use cli::{NatsArgs, NodeArgs, ServerArgs, StoreArgs};

#[derive(Parser)]
#[command(version, about = "A validating event stream for Planetmint nodes")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Follow a CometBFT node and serve the validated event streams.
    Serve {
        #[command(flatten)]
        node: NodeArgs,
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        server: ServerArgs,
        #[command(flatten)]
        nats: NatsArgs,
    },
    /// Serve the event streams from a recorded chain file (no node needed).
    Replay {
        /// Chain file written by `record`.
        file: PathBuf,
        /// Pause between blocks.
        #[arg(long, default_value = "1s", value_parser = humantime::parse_duration)]
        interval: Duration,
        /// Blocks kept (in memory) for clients resuming with `?from_height=N`.
        #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
        history_blocks: u64,
        /// RPC dialect (0.34, 0.37 or 0.38); the file's status names it when absent.
        #[arg(long, value_parser = cli::parse_dialect)]
        dialect: Option<tendermint_rpc::client::CompatMode>,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Write a chain file of a node's blocks, for `replay` and tests.
    Record {
        #[command(flatten)]
        node: NodeArgs,
        /// First height to record.
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
        from: u64,
        /// Last height to record; the node's latest when absent.
        #[arg(long)]
        to: Option<u64>,
        /// Output file; standard output when absent.
        #[arg(long, short)]
        out: Option<PathBuf>,
    },
    /// Validate transactions, one per line, printing one JSON verdict per line.
    ///
    /// Exit status: 0 when every line is valid, 1 when any is not, 2 on a usage or I/O error.
    Check {
        /// Input file; standard input when absent.
        file: Option<PathBuf>,
        /// Lines hold the raw JSON text instead of its base64.
        #[arg(long)]
        json: bool,
        /// Validation threads; all cores by default.
        #[arg(long)]
        threads: Option<usize>,
    },
}

/// Why the process failed: the error, and whether the operator must change something
/// first (exit status 2) or it failed at run time (1).
struct Failure {
    error: anyhow::Error,
    usage: bool,
}

impl Failure {
    fn usage(error: impl Into<anyhow::Error>) -> Self {
        Failure {
            error: error.into(),
            usage: true,
        }
    }

    fn runtime(error: impl Into<anyhow::Error>) -> Self {
        Failure {
            error: error.into(),
            usage: false,
        }
    }
}

/// Log lines waiting for the writer thread before new ones are dropped: a reader of our
/// output that stalls must cost lines, never stall the service or its shutdown.
const LOG_BUFFER_LINES: usize = 16_384;

fn main() -> ExitCode {
    let cli = parse_command_line();
    // Logging goes through a writer thread, lossy and bounded, and its write errors are
    // ignored: standard error may be a pipe whose reader stopped reading or is gone (`| head`),
    // and a failed or blocked write must not panic a task or hold a runtime thread.
    let (writer, flush_on_exit) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .buffered_lines_limit(LOG_BUFFER_LINES)
        .lossy(true)
        .finish(io::stderr());
    tracing_subscriber::fmt()
        .with_writer(writer)
        .log_internal_errors(false)
        // Colours only for a person at a terminal, not in log files and collectors.
        .with_ansi(io::IsTerminal::is_terminal(&io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let ran = run(cli);
    // The log lines still queued go out first (dropping the guard flushes them), so the
    // failure below is the last line an operator sees.
    drop(flush_on_exit);
    match ran {
        Ok(code) => code,
        Err(failure) => {
            // One line, and never a panic if standard error is gone. The error's own text
            // names its cause; its source chain would repeat it, and a node's RPC error
            // there prints a multi-line trace.
            let _ = writeln!(io::stderr(), "planetmint-stream: {}", failure.error);
            ExitCode::from(if failure.usage { 2 } else { 1 })
        }
    }
}

/// The command line and the environment, each shared setting read from this service's own
/// variable where it is set ([`cli::prefer_own_names`]); exits on a usage error, as
/// `Cli::parse` does.
fn parse_command_line() -> Cli {
    let is_set = |name: &str| std::env::var_os(name).is_some();
    let mut command = cli::prefer_own_names(Cli::command(), is_set);
    let mut matches = command.get_matches_mut();
    Cli::from_arg_matches_mut(&mut matches)
        .map_err(|error| error.format(&mut command))
        .unwrap_or_else(|error| error.exit())
}

fn run(cli: Cli) -> Result<ExitCode, Failure> {
    match cli.command {
        Command::Check {
            file,
            json,
            threads,
        } => run_check(file, json, threads),
        Command::Serve {
            node,
            store,
            server,
            nats,
        } => {
            let settings = ServerSettings::try_from(server).map_err(Failure::usage)?;
            let opened =
                Store::open(&store.data_dir, store.history_blocks).map_err(Failure::usage)?;
            let source = Follow {
                settings: NodeSettings::from(node),
                start: store.start_height.and_then(Height::new),
            };
            let export = nats.settings();
            on_runtime(async { serve(source, opened, settings, export).await })
        }
        Command::Replay {
            file,
            interval,
            history_blocks,
            dialect,
            server,
        } => {
            let settings = ServerSettings::try_from(server).map_err(Failure::usage)?;
            let store = Store::in_memory(history_blocks).map_err(Failure::runtime)?;
            on_runtime(async {
                let replay = Replay::open(&file, ReplayOptions { interval, dialect })
                    .await
                    .map_err(Failure::usage)?;
                serve(replay, store, settings, None).await
            })
        }
        Command::Record {
            node,
            from,
            to,
            out,
        } => {
            let from = Height::new(from).expect("clap checks --from");
            let to = match to.map(|to| Height::new(to).filter(|to| *to >= from)) {
                Some(None) => return Err(Failure::usage(UsageError::ToBeforeFrom)),
                to => to.flatten(),
            };
            let node = NodeSettings::from(node);
            on_runtime(async {
                let endpoint = &node.endpoints[0];
                let written = match out {
                    Some(path) => {
                        let mut file = tokio::fs::File::create(&path)
                            .await
                            .map_err(|source| UsageError::Create { path, source })
                            .map_err(Failure::usage)?;
                        chain_file::record(endpoint, node.dialect, from, to, &mut file).await
                    }
                    None => {
                        let mut stdout = tokio::io::stdout();
                        chain_file::record(endpoint, node.dialect, from, to, &mut stdout).await
                    }
                }
                .map_err(Failure::runtime)?;
                info!(blocks = written, "recorded");
                Ok(ExitCode::SUCCESS)
            })
        }
    }
}

/// What the command line asks that cannot be done.
#[derive(Debug, thiserror::Error)]
enum UsageError {
    #[error("--to must be at least --from")]
    ToBeforeFrom,
    #[error("cannot open {path}: {source}")]
    Open { path: PathBuf, source: io::Error },
    #[error("cannot create {path}: {source}")]
    Create { path: PathBuf, source: io::Error },
    #[error("cannot listen on {addr}, {listener}: it is in use, likely by {}", taken_hint(*.listener))]
    PortTaken { addr: String, listener: Listener },
}

/// Who, beside a Planetmint node, most likely holds a port of ours, and what to do: the
/// shared variables give both processes the same ports unless one of them is moved.
fn taken_hint(listener: Listener) -> &'static str {
    match listener {
        Listener::Streams => {
            "Planetmint's built-in stream server (`planetmint start` listens on PLANETMINT_WSSERVER_PORT): \
             move it to a private port, or give this service another with PLANETMINT_STREAM_WS_PORT \
             (README, \"Swapping it in\")"
        }
        Listener::Api => {
            "Planetmint's HTTP API (`planetmint start` listens on PLANETMINT_SERVER_BIND): \
             give this service another with PLANETMINT_STREAM_API_BIND (README, \"Swapping it in\")"
        }
    }
}

fn run_check(
    file: Option<PathBuf>,
    json: bool,
    threads: Option<usize>,
) -> Result<ExitCode, Failure> {
    let encoding = if json {
        Encoding::Json
    } else {
        Encoding::Base64
    };
    let threads = threads.unwrap_or_else(parallel::available_threads);
    let stdout = io::stdout().lock();
    let summary = match file {
        Some(path) => {
            let file = std::fs::File::open(&path)
                .map_err(|source| Failure::usage(UsageError::Open { path, source }))?;
            check::run(BufReader::new(file), stdout, encoding, threads)
        }
        None => check::run(io::stdin().lock(), stdout, encoding, threads),
    }
    .map_err(Failure::usage)?;
    Ok(if summary.invalid == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Runs `work` on a multi-threaded runtime.
fn on_runtime(work: impl Future<Output = Result<ExitCode, Failure>>) -> Result<ExitCode, Failure> {
    let runtime = tokio::runtime::Runtime::new().map_err(Failure::runtime)?;
    let done = runtime.block_on(work);
    // Blocking tasks (a block being validated, a commit) must not hold the exit past the
    // 5 s orchestrators allow after SIGTERM; the store is consistent at any point.
    runtime.shutdown_timeout(Duration::from_millis(500));
    done
}

/// Serves the streams from `source` until a signal, or a failure of the source.
async fn serve(
    source: impl BlockSource,
    store: Store,
    settings: ServerSettings,
    export: Option<ExportSettings>,
) -> Result<ExitCode, Failure> {
    let listeners = Listeners::bind(&settings)
        .await
        .map_err(|error| match error {
            ServerError::InUse { addr, listener } => {
                Failure::usage(UsageError::PortTaken { addr, listener })
            }
            error => Failure::usage(error),
        })?;
    let shutdown = CancellationToken::new();
    tokio::spawn(cancel_on_signal(shutdown.clone()));
    match service::run(
        source,
        Arc::new(store),
        settings,
        export,
        listeners,
        shutdown,
    )
    .await
    {
        Ok(()) => {
            info!("shut down");
            Ok(ExitCode::SUCCESS)
        }
        // A store of another chain: the operator must choose the data directory.
        Err(error @ ServiceError::Source(SourceError::Store(StoreError::OtherChain { .. }))) => {
            Err(Failure::usage(error))
        }
        // A NATS stream this export cannot use: the operator must fix or rename it.
        Err(error @ ServiceError::Export(ExportError::Panicked(_))) => Err(Failure::runtime(error)),
        Err(error @ ServiceError::Export(_)) => Err(Failure::usage(error)),
        Err(error) => Err(Failure::runtime(error)),
    }
}

/// Cancels `shutdown` on SIGINT or SIGTERM; cancelling comes first, saying so second.
async fn cancel_on_signal(shutdown: CancellationToken) {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    let signal = tokio::select! {
        _ = interrupt => "SIGINT",
        () = terminate => "SIGTERM",
    };
    shutdown.cancel();
    info!(signal, "shutting down");
}
