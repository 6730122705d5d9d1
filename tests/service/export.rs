//! The NATS JetStream export (`serve --nats`) against a real `nats-server`: the whole chain
//! exported exactly once, in order, its subjects, headers and payloads those of the
//! reference and of the WebSocket streams (with bodies on request); still exactly once
//! across NATS killed and restarted, the service SIGKILLed inside the big block, an export
//! cut at chosen points inside blocks, and NATS down longer than the WebSocket history;
//! past `--nats-max-behind` the service stops taking blocks and `/health` fails (and SIGTERM
//! still ends it); an existing stream with incompatible settings stops `serve` at start; the
//! export's metrics and its `/ready` object.

use std::ffi::OsStr;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use async_nats::jetstream::stream::{Config, DiscardPolicy, RetentionPolicy, StorageType};
use serde_json::{Value, json};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite;

use crate::support::nats::*;
use crate::support::*;

/// `serve` following `node` from height 1 (a fresh store exports the whole chain), its store
/// in `data`, exporting to the NATS server at `url`, with `extra` flags.
async fn serve_exporting(node: &TestNode, data: &Path, url: &str, extra: &[&str]) -> Binary {
    let port = node.addr().port().to_string();
    let mut args: Vec<&OsStr> = serve_args(data).to_vec();
    args.extend(["--start-height", "1", "--nats", url].map(OsStr::new));
    args.extend(extra.iter().map(OsStr::new));
    Binary::start(args, &node_env(&port)).await
}

/// Polls `probe` every few milliseconds until it returns `Ok`, at most `within`; else
/// panics naming `what` and the last `Err` (what was seen instead).
async fn eventually<T>(
    what: &str,
    within: Duration,
    mut probe: impl AsyncFnMut() -> Result<T, String>,
) -> T {
    let deadline = Instant::now() + within;
    loop {
        match probe().await {
            Ok(value) => return value,
            Err(seen) => assert!(
                Instant::now() < deadline,
                "{what}: not within {within:?}; last seen: {seen}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// `/ready`, parsed.
async fn ready(api: SocketAddr) -> Value {
    serde_json::from_str(&get_text(api, "/ready").await.1).expect("/ready is JSON")
}

/// Waits until `/ready` reports the blocks up to `height` exported; returns its `export`.
async fn wait_for_export(api: SocketAddr, height: u64) -> Value {
    eventually(
        &format!("export of height {height}"),
        CHAIN_WITHIN,
        async || {
            let export = ready(api).await["export"].clone();
            match export["height"].as_u64() >= Some(height) {
                true => Ok(export),
                false => Err(export.to_string()),
            }
        },
    )
    .await
}

/// The export's gauges, as `/metrics` reports them: height, lag, connected.
async fn export_gauges(api: SocketAddr) -> [u64; 3] {
    let text = get_text(api, "/metrics").await.1;
    ["height", "lag_blocks", "connected"]
        .map(|name| metric(&text, &format!("planetmint_stream_export_{name}")))
}

/// The chain's export, read back from the stream, is `expected`.
async fn assert_stream(what: &str, nats: &NatsServer, expected: &[Exported]) {
    let got = stream_messages(&nats.url(), DEFAULT_STREAM).await;
    assert_export(what, &got, expected);
}

/// SIGTERM: the binary exits 0 with the export on.
async fn terminate(service: Binary) {
    service.signal("TERM");
    let (status, rest) = service.wait(Duration::from_secs(5)).await;
    assert!(status.success(), "exit status {status}: {rest:#?}");
}

/// A NATS server killed before the service starts (its port and store kept, for a
/// restart), a node, and `serve` exporting to that server with `flags`, its store in the
/// returned directory.
async fn nats_down(flags: &[&str]) -> (NatsServer, TestNode, tempfile::TempDir, Binary) {
    let mut nats = NatsServer::start().await;
    nats.kill();
    let node = TestNode::start(CHAIN).await;
    let data = tempfile::tempdir().expect("a data directory");
    let service = serve_exporting(&node, data.path(), &nats.url(), flags).await;
    (nats, node, data, service)
}

/// Waits until `/health` answers 503; returns its body.
async fn health_fails(api: SocketAddr) -> String {
    eventually("/health to fail", WITHIN, async || {
        match get_text(api, "/health").await {
            (503, body) => Ok(body),
            (status, body) => Err(format!("{status} {body}")),
        }
    })
    .await
}

/// The whole chain, exported once the node has produced all of it, is the reference,
/// message for message; each payload is byte for byte what the WebSocket stream of its kind
/// sends (with `transaction=full` when `bodies`); the stream has the interface's settings;
/// the metrics and `/ready` report the export done.
async fn exports_the_whole_chain(bodies: bool) {
    let nats = NatsServer::start().await;
    let node = TestNode::start(CHAIN).await;
    let last = chain_blocks(CHAIN);
    node.produce_until(last);
    let data = tempfile::tempdir().expect("a data directory");
    let flags: &[&str] = if bodies { &["--nats-bodies"] } else { &[] };
    let service = serve_exporting(&node, data.path(), &nats.url(), flags).await;
    let export = wait_for_export(service.api, last).await;
    assert_eq!(export, json!({"connected": true, "height": last, "lag": 0}));
    assert_eq!(export_gauges(service.api).await, [last, 0, 1]);
    let text = get_text(service.api, "/metrics").await.1;
    assert_eq!(
        metric(&text, "planetmint_stream_export_publish_errors_total"),
        0
    );
    // Reported; how many depends on when NATS answered the first connect.
    metric(&text, "planetmint_stream_export_reconnects_total");

    let got = stream_messages(&nats.url(), DEFAULT_STREAM).await;
    assert_export("the whole chain", &got, &expected_export(CHAIN, bodies));
    let full = if bodies { "&transaction=full" } else { "" };
    let mut reports = Vec::new();
    for (kind, path, query) in [
        ("transactions", TXS, full),
        ("refused", REFUSED, ""),
        ("blocks", BLOCKS, ""),
    ] {
        let payloads: Vec<String> = got
            .iter()
            .filter(|message| message.kind() == kind)
            .map(|message| message.payload.clone())
            .collect();
        let url = format!("{path}?from_height=1{query}");
        let mut client = connect(service.ws, &url).await;
        let sent = collect_texts(&mut client, payloads.len(), WITHIN).await;
        assert_no_more_texts(&mut client, &url, Duration::from_millis(200)).await;
        reports.push(diff_lines(
            &format!("{kind} payloads, against {url}"),
            &payloads,
            &sent,
        ));
    }
    assert_no_diffs(reports);
    if bodies {
        let big = 2u128.pow(70).to_string();
        assert!(
            got.iter().any(|m| m.payload.contains(&format!(":{big}"))),
            "no body spells 2**70 exactly"
        );
    }

    let mut stream = stream(&nats.url(), DEFAULT_STREAM).await;
    let config = stream.info().await.expect("stream info").config.clone();
    let wanted = export_config(CHAIN);
    let settings = |c: &Config| {
        let (subjects, storage, retention) = (c.subjects.clone(), c.storage, c.retention);
        let limits = (c.duplicate_window, c.max_message_size, c.num_replicas);
        (subjects, storage, retention, limits)
    };
    assert_eq!(settings(&config), settings(&wanted), "{config:?}");
    terminate(service).await;
}

/// (a) Every message of the chain once, in order, equal to the reference and to the
/// WebSocket streams.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_chain_is_exported_exactly() {
    exports_the_whole_chain(false).await;
}

/// (a) With `--nats-bodies` the transaction messages carry the reference bodies, as
/// `transaction=full` does on the WebSocket stream; block messages never do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_ride_on_the_transaction_messages() {
    exports_the_whole_chain(true).await;
}

/// (b) NATS SIGKILLed at height 20 and restarted at 40: the WebSocket streams go on, the
/// export reports the outage and its lag, then catches up, exactly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_killed_and_restarted_mid_chain() {
    let mut nats = NatsServer::start().await;
    let node = TestNode::start(CHAIN).await;
    let data = tempfile::tempdir().expect("a data directory");
    let service = serve_exporting(&node, data.path(), &nats.url(), &[]).await;
    node.produce_until(20);
    wait_for_export(service.api, 20).await;
    nats.kill();
    node.produce_until(40);
    wait_for_height(service.api, 40).await;
    eventually("the export to report the outage", WITHIN, async || {
        let export = ready(service.api).await["export"].clone();
        match export == json!({"connected": false, "height": 20, "lag": 20}) {
            true => Ok(()),
            false => Err(export.to_string()),
        }
    })
    .await;
    assert_eq!(export_gauges(service.api).await, [20, 20, 0]);

    nats.restart().await;
    let last = chain_blocks(CHAIN);
    node.produce_until(last);
    wait_for_export(service.api, last).await;
    assert_stream("NATS killed at 20", &nats, &expected_export(CHAIN, false)).await;
    assert_eq!(export_gauges(service.api).await, [last, 0, 1]);
    let reconnects = metric_of(service.api, "planetmint_stream_export_reconnects_total").await;
    assert!(reconnects >= 1, "{reconnects} reconnects");
}

/// (c) The service SIGKILLed while it exports the 523-transaction block, and started again
/// on its store: the export continues where the stream stands, exactly. Publishing is
/// pipelined, so the block's messages are in within milliseconds; to be sure the kill lands
/// inside the block, the stream is limited (discard new) to 300 of its messages first: the
/// server refuses the rest, and the exporter retries until it is killed. The limit is lifted
/// before the restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_killed_inside_the_big_block_resumes_exactly() {
    const BIG: u64 = BEFORE_BIG + 1;
    const KEPT: u64 = 300;
    let nats = NatsServer::start().await;
    let node = TestNode::start(CHAIN).await;
    let data = tempfile::tempdir().expect("a data directory");
    let first = serve_exporting(&node, data.path(), &nats.url(), &[]).await;
    node.produce_until(BEFORE_BIG);
    wait_for_export(first.api, BEFORE_BIG).await;
    let expected = expected_export(CHAIN, false);
    let before = expected.iter().filter(|m| m.block_height() < BIG).count() as u64;

    let js = jetstream(&nats.url()).await;
    let mut stream = stream(&nats.url(), DEFAULT_STREAM).await;
    let created = stream.info().await.expect("stream info").config.clone();
    let limited = Config {
        max_messages: (before + KEPT) as i64,
        discard: DiscardPolicy::New,
        ..created.clone()
    };
    js.update_stream(&limited)
        .await
        .expect("limiting the stream");
    node.produce_until(BIG);
    eventually(
        "the big block's export to hit the limit",
        CHAIN_WITHIN,
        async || {
            let errors =
                metric_of(first.api, "planetmint_stream_export_publish_errors_total").await;
            let info = stream.info().await.map_err(|e| e.to_string())?;
            match (info.state.last_sequence, errors) {
                (last, 1..) if last == before + KEPT => Ok(()),
                seen => Err(format!("(last sequence, publish errors) {seen:?}")),
            }
        },
    )
    .await;
    first.signal("KILL");
    first.wait(Duration::from_secs(5)).await;
    js.update_stream(&created).await.expect("lifting the limit");

    let second = serve_exporting(&node, data.path(), &nats.url(), &[]).await;
    let last = chain_blocks(CHAIN);
    node.produce_until(last);
    wait_for_export(second.api, last).await;
    let what = format!("SIGKILLed with {KEPT} messages of block {BIG} in");
    assert_stream(&what, &nats, &expected).await;
}

/// (c) Deterministically: a stream holding every message before a block and the first
/// messages of that block, exactly as the exporter writes them, is continued after its last
/// message (read back at start), with no duplicate: a cut among the transaction messages,
/// one among the refused messages, and one just before the block message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_cut_inside_a_block_continues_after_its_last_message() {
    let node = TestNode::start(CHAIN).await;
    node.produce_until(BEFORE_BIG);
    let data = tempfile::tempdir().expect("a data directory");
    let mut expected = expected_export_until(CHAIN, false, BEFORE_BIG);
    // The blocks stored, and the refusals as the service words them, without the export.
    let port = node.addr().port().to_string();
    let mut args: Vec<&OsStr> = serve_args(data.path()).to_vec();
    args.extend(["--start-height", "1"].map(OsStr::new));
    let plain = Binary::start(args, &node_env(&port)).await;
    wait_for_height(plain.api, BEFORE_BIG).await;
    assert_eq!(ready(plain.api).await["export"], Value::Null, "no --nats");
    let mut refused: Vec<&mut Exported> = expected
        .iter_mut()
        .filter(|message| message.kind() == "refused")
        .collect();
    let mut client = connect(plain.ws, &format!("{REFUSED}?from_height=1")).await;
    let frames = collect_texts(&mut client, refused.len(), WITHIN).await;
    assert_eq!(frames.len(), refused.len(), "refused frames");
    for (message, frame) in refused.iter_mut().zip(frames) {
        message.payload = frame;
    }
    terminate(plain).await;

    // (block, messages of it in the stream): 13 has 6 transactions and 1 refusal, 10 has 2
    // and 5, 6 has 4 and 3.
    for (height, keep) in [(13, 3), (10, 4), (6, 7)] {
        let nats = NatsServer::start().await;
        let first = expected
            .iter()
            .position(|m| m.block_height() == height)
            .expect("the block's first message");
        assert_eq!(
            expected[first + keep].block_height(),
            height,
            "a cut inside the block"
        );
        publish_as_the_export(&nats.url(), &expected[..first + keep]).await;
        let service = serve_exporting(&node, data.path(), &nats.url(), &[]).await;
        wait_for_export(service.api, BEFORE_BIG).await;
        let what = format!("cut after {keep} messages of block {height}");
        assert_stream(&what, &nats, &expected).await;
        terminate(service).await;
    }
}

/// NATS down from the start while the chain comes up to 47, far past `--history-blocks
/// 5`: `/health` stays 200 (not past `--nats-max-behind`), the store keeps every block not
/// yet exported, and once NATS is up the export is exact; when `kill_again`, NATS is killed
/// again as soon as the catch-up has begun (acknowledgements in flight, the exporter's
/// position behind what it sent) and restarted. The chain's last blocks come once the export
/// has caught up: the history shrinks back to 5 blocks.
async fn nats_down_past_the_history(kill_again: bool) {
    const OUTAGE_UNTIL: u64 = 47;
    let (mut nats, node, _data, service) = nats_down(&["--history-blocks", "5"]).await;
    node.produce_until(OUTAGE_UNTIL);
    eventually("the chain published", CHAIN_WITHIN, async || {
        let (status, body) = get_text(service.api, "/health").await;
        assert_eq!(status, 200, "/health while NATS is down: {body}");
        match ready(service.api).await["last_height"].as_u64() {
            Some(height) if height >= OUTAGE_UNTIL => Ok(()),
            height => Err(format!("last height {height:?}")),
        }
    })
    .await;
    let export = ready(service.api).await["export"].clone();
    let down = json!({"connected": false, "height": null, "lag": OUTAGE_UNTIL});
    assert_eq!(export, down);

    nats.restart().await;
    let mut what = "NATS down from the start".to_owned();
    if kill_again {
        let js = jetstream(&nats.url()).await;
        let held = eventually("the catch-up to begin", WITHIN, async || {
            let mut stream = js
                .get_stream(DEFAULT_STREAM)
                .await
                .map_err(|e| e.to_string())?;
            let info = stream.info().await.map_err(|e| e.to_string())?;
            match info.state.last_sequence {
                0 => Err("an empty stream".into()),
                held => Ok(held),
            }
        })
        .await;
        nats.kill();
        what += &format!(", killed again with {held} messages in");
        nats.restart().await;
    }
    wait_for_export(service.api, OUTAGE_UNTIL).await;
    let last = chain_blocks(CHAIN);
    node.produce_until(last);
    wait_for_export(service.api, last).await;
    assert_stream(&what, &nats, &expected_export(CHAIN, false)).await;
    assert_eq!(get_text(service.api, "/health").await.0, 200);
    match try_connect(service.ws, &format!("{BLOCKS}?from_height=1")).await {
        Err(tungstenite::Error::Http(response)) => {
            let body = response.body().as_deref().unwrap_or_default();
            let body = String::from_utf8_lossy(body);
            assert_eq!(response.status(), 410, "{body}");
            assert!(body.contains("starts at 48"), "{body}");
        }
        other => panic!("from_height=1 once exported: {:?}", other.map(|_| ())),
    }
}

/// (d) NATS down longer than the WebSocket history.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_down_longer_than_the_websocket_history() {
    nats_down_past_the_history(false).await;
}

/// (b, d) NATS down longer than the WebSocket history, then killed again while the export
/// catches up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_killed_again_while_the_export_catches_up() {
    nats_down_past_the_history(true).await;
}

/// (d) Past `--nats-max-behind 10` with NATS down, the service stops taking blocks: the
/// WebSocket stream stops advancing and `/health` answers 503 naming the export. NATS back,
/// it recovers and the export is exact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_max_behind_the_service_stops_taking_blocks() {
    let (mut nats, node, _data, service) = nats_down(&["--nats-max-behind", "10"]).await;
    let mut blocks = connect(service.ws, &format!("{BLOCKS}?from_height=1")).await;
    node.produce_until(BEFORE_BIG);
    let health = health_fails(service.api).await;
    assert!(health.to_lowercase().contains("export"), "{health}");
    let held = collect_texts(&mut blocks, BEFORE_BIG as usize, Duration::from_secs(1)).await;
    let taken = heights(&held).last().copied().unwrap_or(0);
    assert_eq!(heights(&held), (1..=taken).collect::<Vec<_>>());
    // Blocks are stored in batches (up to 5 while catching up), each admitted while its
    // first block is within the limit: the stream stops at the limit, or at most 4 blocks
    // (the rest of a batch) past it.
    assert!(
        (10..=14).contains(&taken),
        "{taken} blocks taken with the export at most 10 behind"
    );
    assert_no_more_texts(&mut blocks, "held back", Duration::from_millis(500)).await;

    nats.restart().await;
    wait_for_export(service.api, BEFORE_BIG).await;
    let rest = collect_texts(&mut blocks, (BEFORE_BIG - taken) as usize, WITHIN).await;
    let all: Vec<String> = held.into_iter().chain(rest).collect();
    assert_no_diffs([diff_lines(
        "valid_blocks held back, then recovered",
        &all,
        &expected_range(CHAIN, "valid_blocks", 1, BEFORE_BIG),
    )]);
    assert_eq!(get_text(service.api, "/health").await, (200, "ok\n".into()));
    let expected = expected_export_until(CHAIN, false, BEFORE_BIG);
    assert_stream("held back past --nats-max-behind", &nats, &expected).await;
}

/// (e) An existing stream the export cannot use safely (memory storage, other subjects,
/// work-queue retention, messages limited below the server's max_payload) stops `serve` at
/// start with exit status 2 and one line naming the stream and what is wrong; nothing is
/// written to it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incompatible_stream_is_refused_at_start() {
    let nats = NatsServer::start().await;
    let node = TestNode::start(CHAIN).await;
    node.produce_until(2);
    let js = jetstream(&nats.url()).await;
    let ours = export_config(CHAIN);
    let cases = [
        (
            Config {
                storage: StorageType::Memory,
                ..ours.clone()
            },
            "storage",
        ),
        (
            Config {
                name: "OTHER".into(),
                subjects: vec!["other.>".into()],
                ..ours.clone()
            },
            "subjects",
        ),
        (
            Config {
                name: "WORK".into(),
                retention: RetentionPolicy::WorkQueue,
                ..ours.clone()
            },
            "retention",
        ),
        (
            Config {
                name: "SMALL".into(),
                max_message_size: 1024,
                ..ours.clone()
            },
            "1024",
        ),
    ];
    let port = node.addr().port().to_string();
    let url = nats.url();
    for (config, says) in cases {
        let name = config.name.clone();
        js.create_stream(config).await.expect("creating the stream");
        let data = tempfile::tempdir().expect("a data directory");
        let mut args: Vec<&OsStr> = serve_args(data.path()).to_vec();
        let flags = ["--tendermint-host", "127.0.0.1", "--tendermint-port", &port];
        args.extend(flags.map(OsStr::new));
        args.extend(["--nats", &url].map(OsStr::new));
        if name != DEFAULT_STREAM {
            args.extend(["--nats-stream", &name].map(OsStr::new));
        }
        let (status, lines) = Process::run(args, Duration::from_secs(10)).await;
        assert_eq!(status.code(), Some(2), "{name}: {status}: {lines:#?}");
        let failures: Vec<&String> = lines
            .iter()
            .filter(|line| line.starts_with("planetmint-stream: "))
            .collect();
        assert_eq!(
            failures.len(),
            1,
            "{name}: not one closing line: {lines:#?}"
        );
        assert_eq!(
            lines.last(),
            Some(failures[0]),
            "{name}: the failure is not the last line: {lines:#?}"
        );
        assert!(
            failures[0].contains(&name) && failures[0].contains(says),
            "{name}: the line does not name the stream and its {says}: {}",
            failures[0]
        );
        let mut stream = stream(&url, &name).await;
        let info = stream.info().await.expect("stream info");
        assert_eq!(info.state.messages, 0, "{name}: written to");
        // The next case's stream may take the same subjects.
        js.delete_stream(&name).await.expect("deleting the stream");
    }
}

/// Guards a fix: a `--nats-max-behind` smaller than the batches the pipeline stores (up to
/// 5 blocks while catching up) must not stop the stream for good once the export has
/// caught up. With NATS up all along, the whole of the chain up to the big block comes
/// through, and is exported exactly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_max_behind_below_the_store_batch_does_not_stall() {
    let nats = NatsServer::start().await;
    let node = TestNode::start(CHAIN).await;
    node.produce_until(BEFORE_BIG);
    let data = tempfile::tempdir().expect("a data directory");
    let flags = ["--nats-max-behind", "2"];
    let service = serve_exporting(&node, data.path(), &nats.url(), &flags).await;
    eventually("the chain stored and exported", WITHIN, async || {
        let ready = ready(service.api).await;
        match (
            ready["last_height"].as_u64(),
            ready["export"]["height"].as_u64(),
        ) {
            (Some(BEFORE_BIG), Some(BEFORE_BIG)) => Ok(()),
            _ => Err(ready.to_string()),
        }
    })
    .await;
    let expected = expected_export_until(CHAIN, false, BEFORE_BIG);
    assert_stream("--nats-max-behind 2", &nats, &expected).await;
}

/// SIGTERM while the stream waits for an export that cannot reach NATS: the binary still
/// exits 0 promptly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_while_holding_for_the_export_exits_cleanly() {
    let (_nats, node, _data, service) = nats_down(&["--nats-max-behind", "10"]).await;
    node.produce_until(BEFORE_BIG);
    health_fails(service.api).await;
    terminate(service).await;
}
