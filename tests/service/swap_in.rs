//! Swapping the service in beside Planetmint (README, "Swapping it in"): a port another
//! process holds is one line naming it, Planetmint and the fix, and exit status 2; this
//! service's own variables win over the names it shares with Planetmint, and flags over
//! both; the shipped nginx snippet, in a real nginx, carries every stream; the shipped
//! systemd unit verifies. The README's steps against a real Planetmint are
//! `tools/swap_in_check.sh`.

use std::ffi::OsStr;
use std::net::{SocketAddr, TcpListener};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::support::nginx::{Nginx, PLANETMINT};
use crate::support::*;

/// The README section every message and the shipped files point to.
const SECTION: &str = "Swapping it in";

/// The binary replaying the recorded chain, its blocks `interval` apart.
fn replay_args(interval: &str) -> Vec<std::ffi::OsString> {
    let chain = fixture(&format!("chains/{CHAIN}.chain.jsonl"));
    vec![
        "replay".into(),
        chain.into(),
        "--interval".into(),
        interval.into(),
    ]
}

/// A port some other process listens on, as Planetmint's servers would.
fn taken_port() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a port");
    let port = listener
        .local_addr()
        .expect("its address")
        .port()
        .to_string();
    (listener, port)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_port_in_use_is_one_line_naming_it_planetmint_and_the_fix() {
    let readme = std::fs::read_to_string(repository("README.md")).expect("the README");
    assert!(
        readme.contains(&format!("\n## {SECTION}\n")),
        "the README has no section {SECTION:?}"
    );
    let (_held, port) = taken_port();
    let taken = format!("127.0.0.1:{port}");
    // One environment file for both processes, as Planetmint reads it: the shared names
    // put both listeners where Planetmint's are.
    let cases = [
        (
            [("PLANETMINT_WSSERVER_PORT", port.as_str())],
            "the stream port",
            "Planetmint's built-in stream server",
            "PLANETMINT_STREAM_WS_PORT",
        ),
        (
            [("PLANETMINT_SERVER_BIND", taken.as_str())],
            "the API port",
            "Planetmint's HTTP API",
            "PLANETMINT_STREAM_API_BIND",
        ),
    ];
    for (shared, port_name, owner, fix) in cases {
        let env = [
            [
                ("PLANETMINT_WSSERVER_HOST", "127.0.0.1"),
                ("PLANETMINT_WSSERVER_PORT", "0"),
                ("PLANETMINT_SERVER_BIND", "127.0.0.1:0"),
            ]
            .as_slice(),
            &shared,
        ]
        .concat();
        let (status, lines) =
            Process::run_as_told(replay_args("1s"), &env, Duration::from_secs(10)).await;
        assert_eq!(status.code(), Some(2), "{port_name}: {status}, {lines:?}");
        assert_eq!(lines.len(), 1, "{port_name}: not one line: {lines:?}");
        for says in [
            &taken,
            port_name,
            owner,
            fix,
            &format!("README, \"{SECTION}\""),
        ] {
            assert!(
                lines[0].contains(says),
                "does not say {says:?}: {}",
                lines[0]
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn own_names_win_over_planetmints_and_flags_over_both() {
    let (_stream_port, stream_port) = taken_port();
    let (_api_port, api_port) = taken_port();
    let api_taken = format!("127.0.0.1:{api_port}");
    let env = [
        // Planetmint's, on ports it holds: ours must not be used.
        ("PLANETMINT_WSSERVER_HOST", "127.0.0.1"),
        ("PLANETMINT_WSSERVER_PORT", stream_port.as_str()),
        ("PLANETMINT_SERVER_BIND", api_taken.as_str()),
        ("PLANETMINT_WSSERVER_ADVERTISED_SCHEME", "ws"),
        ("PLANETMINT_WSSERVER_ADVERTISED_HOST", "planetmint.example"),
        ("PLANETMINT_WSSERVER_ADVERTISED_PORT", "8443"),
        // Ours.
        ("PLANETMINT_STREAM_WS_PORT", "0"),
        ("PLANETMINT_STREAM_API_BIND", "127.0.0.1:0"),
        ("PLANETMINT_STREAM_ADVERTISED_HOST", "stream.example"),
        ("PLANETMINT_STREAM_ADVERTISED_SCHEME", "ws"),
    ];
    let args = [
        replay_args("1s"),
        vec!["--advertised-scheme".into(), "wss".into()],
    ]
    .concat();
    let binary = Binary::start_as_told(args, &env).await;
    assert_eq!(binary.ws.ip().to_string(), "127.0.0.1", "the shared host");
    let root: Value =
        serde_json::from_str(&get_text(binary.api, "/").await.1).expect("the API root");
    // The scheme from the flag, the host from our name, the port from Planetmint's.
    assert_eq!(
        root["api"]["v1"]["streams"], "wss://stream.example:8443/api/v1/streams/valid_transactions",
        "{root}"
    );
    binary.signal("TERM");
    let (status, _) = binary.wait(Duration::from_secs(10)).await;
    assert!(status.success(), "{status}");
}

/// What a client of `path` receives through `proxy`, from height 1 up to `BEFORE_BIG`.
async fn through(proxy: SocketAddr, path: &str, stream: &str) -> (Vec<String>, Vec<String>) {
    let expected = expected_until(CHAIN, stream, BEFORE_BIG);
    let mut client = connect(proxy, &format!("{path}?from_height=1")).await;
    let got = collect_texts(&mut client, expected.len(), WITHIN).await;
    (got, expected)
}

/// The fields of a refused frame the recorded file holds too (it has no message, and
/// bodies are asked for).
fn refused_ids(frames: &[String]) -> Vec<(Value, Value, Value)> {
    frames
        .iter()
        .map(|frame| {
            let frame: Value = serde_json::from_str(frame).expect("JSON");
            let field = |name: &str| frame[name].clone();
            (field("transaction_id"), field("height"), field("reason"))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nginx_with_the_shipped_snippet_carries_every_stream() {
    let binary = Binary::start(replay_args("20ms"), &[]).await;
    let nginx = Nginx::start(binary.ws).await;
    let (got, expected) = through(nginx.addr, BLOCKS, "valid_blocks").await;
    assert_no_diffs([diff_lines("valid_blocks through nginx", &got, &expected)]);
    let (got, expected) = through(nginx.addr, TXS, "valid_transactions").await;
    assert_no_diffs([diff_lines(
        "valid_transactions through nginx",
        &got,
        &expected,
    )]);
    let (got, expected) = through(nginx.addr, REFUSED, "refused_transactions").await;
    assert_eq!(
        refused_ids(&got),
        refused_ids(&expected),
        "refused through nginx"
    );
    // Every path under the streams' is this service's; the rest is left to Planetmint.
    let (status, _) = get_text(nginx.addr, "/api/v1/streams/nope").await;
    assert_eq!(status, 404, "the service's answer to an unknown stream");
    let (status, body) = get_text(nginx.addr, "/api/v1/").await;
    assert_eq!((status, body.as_str()), (200, PLANETMINT), "/api/v1/");
}

/// `systemd-analyze verify` of the shipped unit, its binary path pointed at the one built
/// here (the unit names the installed path, which need not exist where tests run), with no
/// warning at all (unknown keys and bad values are only warnings to it); and its
/// sandbox's exposure, by `systemd-analyze security`, at most 2 of 10. Skipped (saying so)
/// where there is no systemd-analyze; CI installs it.
#[test]
fn the_shipped_systemd_unit_verifies() {
    let analyze = "/usr/bin/systemd-analyze";
    if !std::path::Path::new(analyze).exists() {
        eprintln!("no {analyze}: the unit is not verified here");
        return;
    }
    let unit = std::fs::read_to_string(repository("packaging/planetmint-stream.service"))
        .expect("the unit");
    let installed = "ExecStart=/usr/local/bin/planetmint-stream serve";
    assert!(unit.contains(installed), "{unit}");
    let built = format!(
        "ExecStart={} serve",
        env!("CARGO_BIN_EXE_planetmint-stream")
    );
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("planetmint-stream.service");
    std::fs::write(&path, unit.replace(installed, &built)).expect("the unit's copy");
    let run = |args: &[&OsStr]| {
        let output = Command::new(analyze)
            .args(args)
            .arg(&path)
            .output()
            .expect("running systemd-analyze");
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        (output.status, stderr)
    };
    let (status, stderr) = run(&["verify".as_ref()]);
    assert!(
        status.success() && stderr.is_empty(),
        "verify: {status}\n{stderr}"
    );
    let (status, stderr) = run(&[
        "security".as_ref(),
        "--offline=true".as_ref(),
        "--threshold=20".as_ref(),
    ]);
    assert!(status.success(), "security: {status}\n{stderr}");
}
