//! The `planetmint-stream` binary: command-line parsing and exit codes; the work is in the
//! library.

use std::io::{self, BufReader};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};

use planetmint_stream::check::{self, Encoding};

#[derive(Parser)]
#[command(version, about = "A validating event stream for Planetmint nodes")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("planetmint-stream: {error:#}");
            ExitCode::from(2)
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
            let threads = threads
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
            let stdout = io::stdout().lock();
            let summary = match file {
                Some(path) => {
                    let file = std::fs::File::open(&path)
                        .with_context(|| format!("opening {}", path.display()))?;
                    check::run(BufReader::new(file), stdout, encoding, threads)?
                }
                None => check::run(io::stdin().lock(), stdout, encoding, threads)?,
            };
            Ok(if summary.invalid == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}
