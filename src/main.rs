//! The `planetmint-stream` binary: command-line parsing, logging, signals and exit codes;
//! the work is in the library.
//!
//! Exit status: 0 on success (and after SIGINT/SIGTERM), 1 when `check` finds an invalid
//! transaction or a command fails at run time, 2 on a usage, configuration or I/O error.

use std::io::{self, BufReader};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use tokio_util::sync::CancellationToken;
use tracing::info;

use planetmint_stream::check::{self, Encoding};
use planetmint_stream::config::{self, NodeArgs, ServerArgs, StoreArgs};
use planetmint_stream::parallel;
use planetmint_stream::server::Listeners;
use planetmint_stream::service::{self, ServiceError, Source};
use planetmint_stream::source::chain_file::{self, ReplayOptions};
use planetmint_stream::source::{Height, SourceError};
use planetmint_stream::store::Store;

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
    },
    /// Serve the event streams from a recorded chain file (no node needed).
    Replay {
        /// Chain file written by `record`.
        file: PathBuf,
        /// Pause between blocks.
        #[arg(long, default_value = "1s", value_parser = humantime::parse_duration)]
        interval: Duration,
        /// Blocks kept (in memory) for clients resuming with `?from_height=N`.
        #[arg(long, default_value_t = 10_000)]
        history_blocks: u64,
        /// RPC dialect (0.34, 0.37 or 0.38); the file's status names it when absent.
        #[arg(long, value_parser = config::parse_dialect)]
        dialect: Option<tendermint_rpc::client::CompatMode>,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Write a chain file of a node's blocks, for `replay` and tests.
    Record {
        #[command(flatten)]
        node: NodeArgs,
        /// First height to record.
        #[arg(long)]
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

/// A failure worth exit status 2: the operator has to fix something before trying again.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct UsageError(String);

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(io::stderr)
        // Colours only for a person at a terminal, not in log files and collectors.
        .with_ansi(io::IsTerminal::is_terminal(&io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    match run(cli) {
        Ok(code) => code,
        Err(error) if error.is::<UsageError>() || error.is::<io::Error>() => {
            eprintln!("planetmint-stream: {error:#}");
            ExitCode::from(2)
        }
        Err(error) => {
            eprintln!("planetmint-stream: {error:#}");
            ExitCode::from(1)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Check {
            file,
            json,
            threads,
        } => {
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
                        .map_err(|e| UsageError(format!("opening {}: {e}", path.display())))?;
                    check::run(BufReader::new(file), stdout, encoding, threads)
                }
                None => check::run(io::stdin().lock(), stdout, encoding, threads),
            }
            .map_err(|e| UsageError(e.to_string()))?;
            Ok(if summary.invalid == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::Serve {
            node,
            store,
            server,
        } => {
            store.check().map_err(|e| UsageError(e.to_string()))?;
            let start = store.start_height.and_then(Height::new);
            let opened = Store::open(&store.data_dir, store.history_blocks)
                .map_err(|e| UsageError(e.to_string()))?;
            serve(Source::Node { node, start }, opened, server)
        }
        Command::Replay {
            file,
            interval,
            history_blocks,
            dialect,
            server,
        } => {
            if history_blocks == 0 {
                return Err(UsageError("--history-blocks must be at least 1".into()).into());
            }
            let store = Store::in_memory(history_blocks).context("creating the store")?;
            serve(
                Source::Replay {
                    path: file,
                    options: ReplayOptions { interval, dialect },
                },
                store,
                server,
            )
        }
        Command::Record {
            node,
            from,
            to,
            out,
        } => {
            let from =
                Height::new(from).ok_or_else(|| UsageError("--from must be at least 1".into()))?;
            let to = to
                .map(|to| Height::new(to).filter(|to| *to >= from))
                .map(|to| to.ok_or_else(|| UsageError("--to must be at least --from".into())))
                .transpose()?;
            let runtime = tokio::runtime::Runtime::new()?;
            let written = runtime.block_on(async {
                match out {
                    Some(path) => {
                        let mut file = tokio::fs::File::create(&path)
                            .await
                            .map_err(|e| UsageError(format!("creating {}: {e}", path.display())))?;
                        chain_file::record(&node, from, to, &mut file).await
                    }
                    None => chain_file::record(&node, from, to, &mut tokio::io::stdout()).await,
                }
                .context("recording")
            })?;
            info!(blocks = written, "recorded");
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn serve(source: Source, store: Store, server: ServerArgs) -> anyhow::Result<ExitCode> {
    server.check().map_err(|e| UsageError(e.to_string()))?;
    let runtime = tokio::runtime::Runtime::new()?;
    let served = runtime.block_on(async {
        let listeners = Listeners::bind(&server)
            .await
            .map_err(|e| UsageError(e.to_string()))?;
        let shutdown = CancellationToken::new();
        tokio::spawn(cancel_on_signal(shutdown.clone()));
        service::run(source, Arc::new(store), server, listeners, shutdown)
            .await
            .map_err(|e| match e {
                // A store of another chain: the operator must choose the data directory.
                ServiceError::Source(SourceError::Store(e)) => UsageError(e.to_string()).into(),
                e => anyhow::Error::from(e),
            })?;
        info!("shut down");
        Ok(ExitCode::SUCCESS)
    });
    // Blocking tasks (a block being validated, a commit) must not hold the exit past the
    // 5 s orchestrators allow after SIGTERM; the store is consistent at any point.
    runtime.shutdown_timeout(Duration::from_millis(500));
    served
}

/// Cancels `shutdown` on SIGINT or SIGTERM.
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
    tokio::select! {
        _ = interrupt => info!("SIGINT: shutting down"),
        () = terminate => info!("SIGTERM: shutting down"),
    }
    shutdown.cancel();
}
