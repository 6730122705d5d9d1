//! A backend reading the JetStream export (README, "Scaling out"): a durable pull consumer on
//! the chain's stream that prints each message as `<subject> <payload>` and acknowledges it.
//!
//! ```sh
//! cargo run --example consume -- --nats nats://127.0.0.1:4222
//! cargo run --example consume -- --durable blocks --filter 'planetmint.<chain>.blocks.>'
//! cargo run --example consume -- --durable indexer --from-height 1000
//! ```
//!
//! In: the stream the service exports to (`--stream`, the service's `--nats-stream`). Out:
//! one line per message on stdout, in stream order, and one acknowledgement per message.
//!
//! Where it starts: the consumer is durable, so the server keeps its position. On its first
//! run it starts at the stream's first message, or with `--from-height H` at the first
//! message of block H: the stream sequence of the first message on
//! `planetmint.<chain>.*.<H>`, asked of the server once (STREAM.MSG.GET, next by subject),
//! then `DeliverPolicy::ByStartSequence`. A block's messages are contiguous in the stream
//! (its transactions, its refused transactions, then its block message), so this is exact
//! whatever the filter: nothing of an earlier block, nothing of H or later missed. Later
//! runs resume after the last acknowledged message; `--from-height` and `--filter` only
//! shape the consumer when it is created (delete it to start over:
//! `nats consumer rm <stream> <durable>`).
//!
//! Heights rather than times (`ByStartTime`) because a replay is asked for by block, and
//! the time a block was exported says nothing about its height after an outage.

use anyhow::{Context as _, bail};
use async_nats::jetstream::consumer::pull::{Config, MessagesErrorKind};
use async_nats::jetstream::consumer::{AckPolicy, DeliverPolicy, PullConsumer};
use async_nats::jetstream::context::ConsumerInfoErrorKind;
use async_nats::jetstream::stream::Stream;
use clap::Parser;
use futures_util::StreamExt as _;
use std::io::Write as _;

#[derive(Parser)]
struct Args {
    /// The NATS server (any node of a cluster).
    #[arg(
        long,
        env = "PLANETMINT_STREAM_NATS_URL",
        default_value = "nats://127.0.0.1:4222"
    )]
    nats: String,
    /// The JetStream stream the service exports to.
    #[arg(
        long,
        env = "PLANETMINT_STREAM_NATS_STREAM",
        default_value = "PLANETMINT"
    )]
    stream: String,
    /// The consumer's durable name: its position survives this program and the server.
    #[arg(long, default_value = "planetmint-consume")]
    durable: String,
    /// Only the subjects matching this, e.g. `planetmint.<chain>.blocks.>` (at creation).
    #[arg(long)]
    filter: Option<String>,
    /// Start at this block's first message instead of the stream's first (at creation).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    from_height: Option<u64>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let client = async_nats::connect(&args.nats)
        .await
        .with_context(|| format!("connecting to {}", args.nats))?;
    let jetstream = async_nats::jetstream::new(client);
    let stream = jetstream
        .get_stream(&args.stream)
        .await
        .with_context(|| format!("stream {}", args.stream))?;
    let consumer = consumer(&stream, &args).await?;
    let mut messages = consumer.messages().await.context("pulling")?;
    let mut out = std::io::stdout().lock();
    while let Some(message) = messages.next().await {
        let message = match message {
            Ok(message) => message,
            // The server went quiet (restarting, a cluster electing a leader): the pull
            // goes on by itself.
            Err(error) if error.kind() == MessagesErrorKind::MissingHeartbeat => {
                eprintln!("consume: {error}; still pulling");
                continue;
            }
            Err(error) => return Err(error).context("pulling"),
        };
        let payload = String::from_utf8_lossy(&message.payload);
        writeln!(out, "{} {payload}", message.subject)?;
        out.flush()?;
        // Only once the message is handled: a crash before this redelivers it.
        message.ack().await.map_err(anyhow::Error::from_boxed)?;
    }
    Ok(())
}

/// The durable consumer named `--durable`: as the server has it, or created as asked.
async fn consumer(stream: &Stream, args: &Args) -> anyhow::Result<PullConsumer> {
    match stream.consumer_info(&args.durable).await {
        Ok(_) => {
            eprintln!("consume: resuming consumer {}", args.durable);
            return stream
                .get_consumer(&args.durable)
                .await
                .map_err(anyhow::Error::from_boxed);
        }
        Err(error) if error.kind() == ConsumerInfoErrorKind::NotFound => {}
        Err(error) => return Err(error).context("consumer info"),
    }
    let deliver_policy = match args.from_height {
        None => DeliverPolicy::All,
        Some(height) => DeliverPolicy::ByStartSequence {
            start_sequence: first_sequence_of(stream, height).await?,
        },
    };
    let config = Config {
        durable_name: Some(args.durable.clone()),
        filter_subject: args.filter.clone().unwrap_or_default(),
        deliver_policy,
        ack_policy: AckPolicy::Explicit,
        ..Config::default()
    };
    stream
        .create_consumer(config)
        .await
        .with_context(|| format!("creating consumer {}", args.durable))
}

/// The stream sequence of the first message of block `height`, on any of its subjects.
async fn first_sequence_of(stream: &Stream, height: u64) -> anyhow::Result<u64> {
    let info = stream.get_info().await.context("stream info")?;
    // The service's stream has one subject, `planetmint.<chain>.>`.
    let prefix = match info.config.subjects.as_slice() {
        [subject] => subject.strip_suffix('>'),
        _ => None,
    };
    let Some(prefix) = prefix else {
        bail!("stream {} is not one chain's export", info.config.name);
    };
    let of_height = format!("{prefix}*.{height}");
    match stream.get_first_raw_message_by_subject(&of_height, 1).await {
        Ok(message) => Ok(message.sequence),
        Err(error) => Err(error).with_context(|| {
            format!(
                "height {height}: no message on {of_height} in stream {}",
                info.config.name
            )
        }),
    }
}
