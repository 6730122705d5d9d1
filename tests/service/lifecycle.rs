//! The service's life: shutdown closes every client with 1001; the binary exits 0 on
//! SIGTERM (even with its log output gone), resumes from its store after a SIGKILL, refuses
//! a store of another chain, streams the whole chain with a start height of 1, and exits 2,
//! serving nothing, on a chain file it cannot replay.

use std::ffi::OsStr;
use std::io::{BufRead as _, BufReader};
use std::sync::Arc;
use std::time::Duration;

use tokio::time::{Instant, timeout};

use planetmint_stream::chain::Height;
use planetmint_stream::service::ServiceError;
use planetmint_stream::source::SourceError;
use planetmint_stream::source::node::Follow;
use planetmint_stream::store::{Store, StoreError};

use crate::support::*;

/// (f) Cancelling the shutdown token closes every subscriber with 1001, and
/// `service::run` returns within 5 s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_closes_every_client_with_1001() {
    let node = TestNode::start(CHAINS[1]).await;
    let service = Service::follow(&node, server_args()).await;
    let mut clients = Vec::new();
    for path in [TXS, TXS, BLOCKS, BLOCKS] {
        clients.push(connect(service.ws, path).await);
    }
    node.wait_for("the service to subscribe", |s| s.active == 1)
        .await;
    node.produce_until(4);
    let shutdown = service.shutdown.clone();
    let run = tokio::spawn(service.shut_down());
    for client in &mut clients {
        let (code, reason) = expect_close(client, Duration::from_secs(5)).await;
        assert_eq!((code, reason.as_str()), (1001, "server shutting down"));
    }
    let took = run.await.expect("shutdown task");
    assert!(shutdown.is_cancelled());
    assert!(
        took < Duration::from_secs(5),
        "service::run took {took:?} to return"
    );
}

/// (f) The binary, replaying a chain file, exits 0 on SIGTERM within 5 s after closing
/// its subscribers with 1001.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_exits_cleanly_on_sigterm() {
    let chain = fixture("chains/cometbft-0.38.chain.jsonl");
    let binary = Binary::start(
        [
            "replay".as_ref(),
            chain.as_os_str(),
            "--interval".as_ref(),
            "10ms".as_ref(),
        ],
        &[],
    )
    .await;
    let mut blocks = connect(binary.ws, BLOCKS).await;
    let mut txs = connect(binary.ws, TXS).await;

    let signalled = Instant::now();
    binary.signal("TERM");
    for client in [&mut blocks, &mut txs] {
        let (code, reason) = expect_close(client, Duration::from_secs(5)).await;
        assert_eq!((code, reason.as_str()), (1001, "server shutting down"));
    }
    let (status, rest) = binary
        .wait(Duration::from_secs(5).saturating_sub(signalled.elapsed()))
        .await;
    assert!(status.success(), "exit status {status}");
    assert!(
        rest.iter().any(|l| l.contains("shut down")),
        "no `shut down` log line after SIGTERM:\n{}",
        rest.join("\n")
    );
}

/// A store bound to another chain is refused: the service stops with the store's error
/// instead of mixing two chains' heights.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_of_another_chain_is_refused() {
    let node = TestNode::start(CHAIN).await;
    node.produce_until(2);
    let store = Arc::new(Store::in_memory(10).expect("store"));
    store.claim_chain("another-chain").expect("claim");
    let source = Follow {
        settings: node_args(&node),
        start: None,
    };
    let service = Service::start_with(source, store.clone(), server_args()).await;
    match service.join(Duration::from_secs(10)).await {
        Err(ServiceError::Source(SourceError::Store(StoreError::OtherChain { stored, node }))) => {
            assert_eq!(
                (stored.as_str(), node.as_str()),
                ("another-chain", "planetmint-test")
            );
        }
        other => panic!("expected the other-chain refusal, got {other:?}"),
    }
    assert_eq!(store.last_height(), None, "nothing was stored");
}

/// With `start` = 1 a fresh store streams the whole chain, though the node is far ahead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_height_one_streams_the_whole_chain() {
    let node = TestNode::start(CHAIN).await;
    node.produce_until(BEFORE_BIG);
    let source = Follow {
        settings: node_args(&node),
        start: Height::new(1),
    };
    let store = memory_store();
    let service = Service::start_with(source, store.clone(), server_args()).await;
    node.wait_for("the service to subscribe", |s| s.active == 1)
        .await;
    let mut blocks = connect(service.ws, &format!("{BLOCKS}?from_height=1")).await;
    let expected = expected_range(CHAIN, "valid_blocks", 1, BEFORE_BIG);
    let got = collect_texts(&mut blocks, expected.len(), WITHIN).await;
    assert_no_diffs([diff_lines("the whole chain", &got, &expected)]);
    assert_eq!(node.blocks_served().len() as u64, BEFORE_BIG);
    service.shut_down().await;
}

/// The service binary killed with SIGKILL while blocks keep coming, and started again on
/// its data directory: it continues after its last stored height, and clients resuming
/// from where they were cut off get every message exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_service_resumes_from_its_store() {
    const LAST: u64 = BEFORE_BIG;
    let node = Arc::new(TestNode::start(CHAIN).await);
    let data = tempfile::tempdir().expect("a temporary directory");
    let service = serve(&node, data.path()).await;
    node.wait_for("the service to subscribe", |s| s.active == 1)
        .await;
    let (mut blocks, mut txs) = Follower::live_pair(service.ws).await;
    let producing = tokio::spawn({
        let node = node.clone();
        async move {
            node.produce_until_paced(LAST, Duration::from_millis(40))
                .await
        }
    });
    let deadline = Instant::now() + WITHIN;
    assert_eq!(blocks.read(6, deadline).await, Read::Done);
    service.signal("KILL");
    let (status, _) = service.wait(Duration::from_secs(5)).await;
    assert!(!status.success(), "SIGKILL: {status}");
    // Blocks keep coming while the service is down.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let service = serve(&node, data.path()).await;
    assert!(
        service.startup.iter().all(|l| !l.contains("ERROR")),
        "{:?}",
        service.startup
    );
    producing.await.expect("producing");
    assert_received(
        CHAIN,
        "across a SIGKILL",
        service.ws,
        &mut blocks,
        &mut txs,
        LAST,
    )
    .await;
    let expected = expected_range(CHAIN, "valid_blocks", 1, LAST);
    assert!(blocks.resumes >= 1 && txs.resumes >= 1);
    // The history survived the kill: a new client gets the whole chain.
    let mut all = connect(service.ws, &format!("{BLOCKS}?from_height=1")).await;
    let got = collect_texts(&mut all, expected.len(), WITHIN).await;
    assert_no_diffs([diff_lines("history after a SIGKILL", &got, &expected)]);
    // The restarted service published only what the first had not stored.
    let text = get_text(service.api, "/metrics").await.1;
    let republished = metric(&text, "planetmint_stream_blocks_total");
    assert!(
        republished < LAST - 5,
        "the restarted service published {republished} blocks"
    );
    service.signal("TERM");
    let (status, _) = service.wait(Duration::from_secs(5)).await;
    assert!(status.success(), "{status}");
}

/// Guards a fix: SIGTERM ends the binary even when its log output is a pipe whose reader
/// has gone. Before the fix, a log line written to the closed pipe panicked the signal task
/// before it cancelled the shutdown, so the process never exited. The node's port refuses,
/// so the binary keeps retrying, and logging so, after its reader is gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_ends_the_binary_whose_log_reader_is_gone() {
    let refusing = refusing_port();
    let data = tempfile::tempdir().expect("a temporary directory");
    let (mut process, stderr) = Process::spawn(serve_args(data.path()), &node_env(&refusing));
    let reading = tokio::task::spawn_blocking(move || {
        let mut log = BufReader::new(stderr);
        let mut lines = Vec::new();
        for _ in 0..2 {
            let mut line = String::new();
            log.read_line(&mut line).expect("reading the log");
            lines.push(line);
        }
        // Dropping the reader closes the pipe's read end.
        lines
    });
    let lines = timeout(Duration::from_secs(10), reading)
        .await
        .expect("two log lines within 10 s")
        .expect("log reader");
    assert!(
        lines.iter().all(|line| !line.is_empty()),
        "the binary ended its log early: {lines:?}"
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    process.signal("TERM");
    let status = process.wait(Duration::from_secs(5)).await;
    assert_eq!(status.code(), Some(0), "exit status {status}");
}

/// Guards a fix: `replay` of a chain file it cannot use exits 2 with one line on standard
/// error naming the file and what is wrong with it (missing; a first line that is not the
/// node's status), and serves nothing (no `listening` line).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_of_an_unusable_chain_file_exits_2() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let missing = dir.path().join("missing.chain.jsonl");
    let not_a_chain = dir.path().join("not-a-chain.chain.jsonl");
    std::fs::write(&not_a_chain, "{\"height\":1}\n").expect("writing the file");
    let cases = [
        (&missing, "No such file"),
        (&not_a_chain, "chain file line 1"),
    ];
    for (file, says) in cases {
        assert_refuses_file([OsStr::new("replay"), file.as_os_str()], file, says).await;
    }
}

/// Guards a fix: one event, one log line. Each reconnection used to log the RPC library's
/// error with its `Caused by:`/`Location:` trace, and a whole stack backtrace with
/// `RUST_BACKTRACE` set: six to twenty lines. Now every line of the log is a log line,
/// with the cause as a field.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_reconnect_is_one_log_line() {
    let refusing = refusing_port();
    let data = tempfile::tempdir().expect("a temporary directory");
    let mut env = node_env(&refusing).to_vec();
    env.push(("RUST_BACKTRACE", "1"));
    let (mut process, stderr) = Process::spawn(serve_args(data.path()), &env);
    let reading = tokio::task::spawn_blocking(move || {
        BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<_>>()
    });
    // Backoff from 200 ms: several reconnections in three seconds.
    tokio::time::sleep(Duration::from_secs(3)).await;
    process.signal("TERM");
    assert_eq!(process.wait(Duration::from_secs(5)).await.code(), Some(0));
    let lines = timeout(Duration::from_secs(5), reading)
        .await
        .expect("the log ends with the process")
        .expect("log reader");
    let reconnects = lines
        .iter()
        .filter(|line| line.contains("lost the node"))
        .count();
    assert!(reconnects >= 2, "{reconnects} reconnections: {lines:#?}");
    // A log line starts with its timestamp, e.g. 2026-11-30T10:44:02.180386Z.
    let is_log_line = |line: &str| {
        let bytes = line.as_bytes();
        bytes.len() > 20
            && bytes[4] == b'-'
            && bytes[10] == b'T'
            && line[..4].parse::<u16>().is_ok()
    };
    let strays: Vec<&String> = lines.iter().filter(|line| !is_log_line(line)).collect();
    assert!(
        strays.is_empty(),
        "lines that are not log lines: {strays:#?}"
    );
}

/// A loopback port nothing listens on (bound, then released), as a node that is down.
fn refusing_port() -> String {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("binding a port")
        .port()
        .to_string()
}
