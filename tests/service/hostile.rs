//! Hostile clients against the real binary (replaying a chain file), with raw TCP and
//! WebSocket clients: a request head trickled a byte at a time is closed at its deadline
//! on both listeners, and the whole HTTP phase at three deadlines however the client
//! talks (an idle keep-alive connection closed uncounted); connections over the pending cap,
//! or over one address's share of it, are closed at once; an address over
//! its subscriber limit gets 429 (counted by the client a trusted proxy names, and only a
//! trusted one); message, ping, byte and fragment floods are closed with 1008 or 1009;
//! compression is never negotiated; and through all of it a well-behaved subscriber gets
//! every message of the chain, in order.
//!
//! Deadlines and rates are set low by flags so the tests run fast; every wait is bounded.

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout};
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::{self, Message};

use crate::support::*;

/// The binary replaying the 0.38 chain every `interval`, with `flags` added.
async fn replaying(interval: &str, flags: &[&str]) -> Binary {
    let chain = fixture(&format!("chains/{CHAIN}.chain.jsonl"));
    let mut args = vec![
        "replay".to_owned(),
        chain.display().to_string(),
        "--interval".to_owned(),
        interval.to_owned(),
    ];
    args.extend(flags.iter().map(|f| (*f).to_owned()));
    Binary::start(args, &[]).await
}

/// Sends a request head's first line and `Host`, then one more header byte every
/// `every`; returns how long after connecting the server closed the socket (at most
/// `within`, else panics).
async fn trickle_head(addr: SocketAddr, path: &str, every: Duration, within: Duration) -> Duration {
    let started = Instant::now();
    let mut tcp = TcpStream::connect(addr).await.expect("connect");
    let head = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n");
    tcp.write_all(head.as_bytes()).await.expect("head");
    let (mut read, mut write) = tcp.into_split();
    let trickle = async move {
        // Write errors end the trickle: the server has closed.
        for byte in b"X-Slow: ".iter().cycle() {
            tokio::time::sleep(every).await;
            if write.write_all(&[*byte]).await.is_err() {
                break;
            }
        }
    };
    let closed = async {
        let mut buffer = [0u8; 1024];
        // Whatever the server says (nothing, or a 408) until it closes.
        while let Ok(n) = read.read(&mut buffer).await
            && n > 0
        {}
    };
    timeout(within, async {
        tokio::select! {
            () = closed => {}
            () = trickle => panic!("the trickle ended before the server closed"),
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{path}: a trickled head still open after {within:?}"));
    started.elapsed()
}

/// Whether the server closes `tcp` (sending nothing) within `within`.
async fn closed_within(tcp: &mut TcpStream, within: Duration) -> bool {
    let mut buffer = [0u8; 64];
    matches!(
        timeout(within, tcp.read(&mut buffer)).await,
        Ok(Ok(0) | Err(_))
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_head_is_closed_at_the_deadline_on_both_listeners() {
    let binary = replaying("1s", &["--request-head-timeout", "500ms"]).await;
    let every = Duration::from_millis(100);
    let (stream, api) = tokio::join!(
        trickle_head(binary.ws, TXS, every, Duration::from_secs(10)),
        trickle_head(binary.api, "/metrics", every, Duration::from_secs(10)),
    );
    for (which, after) in [("stream", stream), ("API", api)] {
        assert!(
            after >= Duration::from_millis(450),
            "the {which} listener closed a trickled head after {after:?}, before its 500 ms"
        );
    }
    // Honest clients are served as before.
    let mut client = connect(binary.ws, BLOCKS).await;
    assert_eq!(collect_texts(&mut client, 1, WITHIN).await.len(), 1);
    assert_eq!(
        metric_of(binary.api, "planetmint_stream_request_head_timeouts_total").await,
        2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_pending_cap_are_closed_at_once() {
    let flags = [
        "--max-pending-connections",
        "2",
        "--request-head-timeout",
        "60s",
    ];
    let binary = replaying("1s", &flags).await;
    // Subscribers are past their HTTP phase: they do not count.
    let _subscribers = [
        connect(binary.ws, TXS).await,
        connect(binary.ws, BLOCKS).await,
        connect(binary.ws, TXS).await,
    ];
    // Their upgrades are done once their connections leave the HTTP phase; what is
    // pending then is the one request reading the gauge (on the API listener).
    let deadline = Instant::now() + WITHIN;
    while metric_of(binary.api, "planetmint_stream_pending_connections").await > 1 {
        assert!(Instant::now() < deadline, "subscribers still pending");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut holders = Vec::new();
    for _ in 0..2 {
        holders.push(TcpStream::connect(binary.ws).await.expect("connect"));
    }
    let mut third = TcpStream::connect(binary.ws).await.expect("connect");
    assert!(
        closed_within(&mut third, Duration::from_secs(10)).await,
        "a third silent connection was not closed, with a cap of 2 and a 60 s head deadline"
    );
    for holder in &mut holders {
        assert!(!closed_within(holder, Duration::from_millis(200)).await);
    }
    assert_eq!(
        metric_of(binary.api, "planetmint_stream_refused_pending_total").await,
        1
    );
    // A holder gone frees its place (once the server has seen it go).
    drop(holders.pop());
    assert_admitted_again(binary.ws, "the place of a holder that left").await;
}

/// Retries a subscriber until one is admitted: a place freed once the server saw its
/// holder go.
async fn assert_admitted_again(ws: SocketAddr, what: &str) {
    let admitted = timeout(WITHIN, async {
        while try_connect(ws, TXS).await.is_err() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(admitted.is_ok(), "{what} never freed");
}

/// A client of `path` whose request says `X-Forwarded-For: forwarded`.
async fn connect_forwarded(
    addr: SocketAddr,
    path: &str,
    forwarded: &str,
) -> Result<Client, tungstenite::Error> {
    let mut request = ws_url(addr, path).into_client_request().expect("request");
    request
        .headers_mut()
        .insert("x-forwarded-for", forwarded.parse().expect("header value"));
    let tcp = TcpStream::connect(addr).await.expect("connect");
    let attempt = tokio_tungstenite::client_async(request, tcp);
    let (client, _) = timeout(Duration::from_secs(5), attempt)
        .await
        .expect("no answer in 5 s")?;
    Ok(client)
}

/// The status and body of a refused upgrade.
fn refusal(result: Result<Client, tungstenite::Error>) -> (u16, String) {
    match result {
        Err(tungstenite::Error::Http(response)) => {
            let body = response.body().as_deref().unwrap_or_default();
            (
                response.status().as_u16(),
                String::from_utf8_lossy(body).into_owned(),
            )
        }
        Err(other) => panic!("expected an HTTP refusal, got {other}"),
        Ok(_) => panic!("expected an HTTP refusal, got a subscriber"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_over_its_limit_gets_429() {
    let binary = replaying("1s", &["--max-clients-per-ip", "2"]).await;
    let mut first = connect(binary.ws, TXS).await;
    let _second = connect(binary.ws, BLOCKS).await;
    let (status, body) = refusal(try_connect(binary.ws, TXS).await);
    assert_eq!(
        (status, body.as_str()),
        (429, "too many subscribers from this address\n")
    );
    assert_eq!(
        metric_of(binary.api, "planetmint_stream_refused_per_address_total").await,
        1
    );
    // The header is not believed from a client that is no trusted proxy.
    let (status, _) = refusal(connect_forwarded(binary.ws, TXS, "203.0.113.1").await);
    assert_eq!(status, 429, "X-Forwarded-For from an untrusted peer");
    first.close(None).await.expect("closing");
    assert_admitted_again(binary.ws, "the place of a client that left").await;
}

/// The binary with one subscriber per address, trusting `X-Forwarded-For` from `proxy`.
async fn one_per_address(proxy: &str) -> Binary {
    let flags = ["--max-clients-per-ip", "1", "--trust-forwarded-for", proxy];
    replaying("1s", &flags).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_for_counts_clients_only_behind_the_trusted_proxy() {
    let trusting = one_per_address("127.0.0.1").await;
    let _a = connect_forwarded(trusting.ws, TXS, "203.0.113.1")
        .await
        .expect("first client");
    let (status, _) = refusal(connect_forwarded(trusting.ws, TXS, "203.0.113.1").await);
    assert_eq!(status, 429, "the same client again behind the proxy");
    // What the client wrote before the proxy's entry is not what counts.
    let (status, _) =
        refusal(connect_forwarded(trusting.ws, TXS, "198.51.100.7, 203.0.113.1").await);
    assert_eq!(status, 429, "a forged entry left of the proxy's");
    let _b = connect_forwarded(trusting.ws, TXS, "203.0.113.2")
        .await
        .expect("another client behind the proxy has its own limit");

    let elsewhere = one_per_address("192.0.2.1").await;
    let _c = connect_forwarded(elsewhere.ws, TXS, "203.0.113.1")
        .await
        .expect("first client");
    let (status, _) = refusal(connect_forwarded(elsewhere.ws, TXS, "203.0.113.2").await);
    assert_eq!(
        status, 429,
        "X-Forwarded-For from a peer that is not the trusted proxy"
    );
}

/// Sends `messages` as fast as it can (stopping at the first error: the server may close
/// meanwhile), then reads until the close frame; returns its code and reason, and the
/// pongs that came before it.
async fn flood(
    client: &mut Client,
    messages: impl IntoIterator<Item = Message>,
) -> (u16, String, usize) {
    for message in messages {
        if client.feed(message).await.is_err() {
            break;
        }
    }
    let _ = client.flush().await;
    let mut pongs = 0;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match tokio::time::timeout_at(deadline, client.next()).await {
            Err(_) => panic!("no close frame within 10 s of the flood"),
            Ok(Some(Ok(Message::Close(Some(frame))))) => {
                return (
                    u16::from(frame.code),
                    frame.reason.as_str().to_owned(),
                    pongs,
                );
            }
            Ok(Some(Ok(Message::Pong(_)))) => pongs += 1,
            Ok(Some(Ok(_))) => {}
            Ok(other) => panic!("the flooder's connection ended without a close frame: {other:?}"),
        }
    }
}

/// A raw frame of a text message: the first (`first`) or a continuation, final or not.
fn fragment(payload: Vec<u8>, first: bool, last: bool) -> Message {
    let opcode = OpCode::Data(if first { Data::Text } else { Data::Continue });
    Message::Frame(Frame::message(payload, opcode, last))
}

/// Each flood against its own connection, the closes it gets, and the counters.
async fn floods(ws: SocketAddr) -> Vec<(&'static str, u16, String)> {
    let mut closes = Vec::new();
    let mut texts = connect(ws, BLOCKS).await;
    let (code, reason, _) = flood(&mut texts, (0..500).map(|_| Message::text("hello"))).await;
    closes.push(("text messages", code, reason));

    let mut pinger = connect(ws, BLOCKS).await;
    let pings = 500;
    let (code, reason, pongs) = flood(
        &mut pinger,
        (0..pings).map(|i: u32| Message::Ping(i.to_be_bytes().to_vec().into())),
    )
    .await;
    // The burst (20) and at most 10 s of the rate (20/s): never one pong a ping.
    assert!(
        pongs <= 20 + 20 * 10,
        "{pongs} pongs answered {pings} pings"
    );
    closes.push(("pings", code, reason));

    let mut bulky = connect(ws, BLOCKS).await;
    let big = || Message::binary(vec![0u8; 60 << 10]);
    let (code, reason, _) = flood(&mut bulky, (0..10).map(|_| big())).await;
    closes.push(("60 KiB messages", code, reason));

    // Three fragments of 30 KiB: each under the 64 KiB limit, the message over it.
    let mut fragmented = connect(ws, BLOCKS).await;
    let part = || vec![b'x'; 30 << 10];
    let parts = [
        fragment(part(), true, false),
        fragment(part(), false, false),
        fragment(part(), false, true),
    ];
    let (code, reason, _) = flood(&mut fragmented, parts).await;
    closes.push(("a fragmented message over 64 KiB", code, reason));

    // A message that never completes: empty continuations, six bytes each on the wire.
    let mut endless = connect(ws, BLOCKS).await;
    let frames = std::iter::once(fragment(b"x".to_vec(), true, false))
        .chain((0..60_000).map(|_| fragment(Vec::new(), false, false)));
    let (code, reason, _) = flood(&mut endless, frames).await;
    closes.push(("a message that never completes", code, reason));
    closes
}

const FLOOD_FLAGS: [&str; 4] = [
    "--max-client-messages-per-second",
    "20",
    "--max-client-bytes-per-second",
    "16384",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn floods_are_closed_with_1008_or_1009() {
    let binary = replaying("1s", &FLOOD_FLAGS).await;
    let closes = floods(binary.ws).await;
    let expected = [
        ("text messages", 1008, "too many messages"),
        ("pings", 1008, "too many messages"),
        ("60 KiB messages", 1008, "too many bytes"),
        ("a fragmented message over 64 KiB", 1009, "message too big"),
        ("a message that never completes", 1008, "too many bytes"),
    ];
    let got: Vec<(&str, u16, &str)> = closes
        .iter()
        .map(|(w, c, r)| (*w, *c, r.as_str()))
        .collect();
    assert_eq!(got, expected);
    let text = get_text(binary.api, "/metrics").await.1;
    for (name, count) in [
        ("planetmint_stream_message_rate_closed_total", 2),
        ("planetmint_stream_byte_rate_closed_total", 2),
        ("planetmint_stream_oversized_messages_total", 1),
    ] {
        assert_eq!(metric(&text, name), count, "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compression_is_never_negotiated() {
    let binary = replaying("1s", &[]).await;
    let mut request = ws_url(binary.ws, TXS)
        .into_client_request()
        .expect("request");
    request.headers_mut().insert(
        "sec-websocket-extensions",
        "permessage-deflate; client_max_window_bits"
            .parse()
            .expect("value"),
    );
    let tcp = TcpStream::connect(binary.ws).await.expect("connect");
    let (_client, response) = tokio_tungstenite::client_async(request, tcp)
        .await
        .expect("the upgrade itself succeeds");
    assert_eq!(response.status(), 101);
    assert!(
        response.headers().get("sec-websocket-extensions").is_none(),
        "the server accepted an extension: {:?}",
        response.headers()
    );
}

/// Through slow heads, connections over the pending cap, and every flood, a subscriber
/// that resumes from the first height gets every message of the chain, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_good_subscriber_gets_the_whole_chain_while_others_attack() {
    let flags = [
        &FLOOD_FLAGS[..],
        &[
            "--max-pending-connections",
            "16",
            "--request-head-timeout",
            "1s",
        ],
    ]
    .concat();
    let binary = replaying("20ms", &flags).await;
    let expected = expected_lines(CHAIN, "valid_transactions");
    let mut good = connect(binary.ws, &format!("{TXS}?from_height=1")).await;
    let reading =
        tokio::spawn(async move { collect_texts(&mut good, expected.len(), CHAIN_WITHIN).await });
    // Twice the pending cap: half closed at once, half at their deadline. The floods
    // follow, since their connections would be closed at once meanwhile too.
    let slow_heads = futures_util::future::join_all((0..32).map(|_| async {
        let mut tcp = TcpStream::connect(binary.ws).await.expect("connect");
        let _ = tcp.write_all(b"GET / HTTP/1.1\r\n").await;
        closed_within(&mut tcp, WITHIN).await
    }))
    .await;
    assert!(
        slow_heads.iter().all(|closed| *closed),
        "a slow head was never closed"
    );
    let closes = floods(binary.ws).await;
    assert!(
        closes
            .iter()
            .all(|(_, code, _)| [1008, 1009].contains(code)),
        "{closes:?}"
    );
    let got = reading.await.expect("reader");
    assert_no_diffs([diff_lines(
        "the good subscriber",
        &got,
        &expected_lines(CHAIN, "valid_transactions"),
    )]);
}

/// Writes a `GET path` (keep-alive) on `tcp` and reads until a whole response with an
/// empty or short body has come; false if the connection ended first.
async fn ask(tcp: &mut TcpStream, path: &str) -> bool {
    let request = format!("GET {path} HTTP/1.1\r\nHost: test\r\n\r\n");
    if tcp.write_all(request.as_bytes()).await.is_err() {
        return false;
    }
    let mut buffer = [0u8; 4096];
    matches!(timeout(WITHIN, tcp.read(&mut buffer)).await, Ok(Ok(n)) if n > 0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_http_phase_ends_at_its_deadline_however_the_client_talks() {
    let binary = replaying("1s", &["--request-head-timeout", "500ms"]).await;
    // An honest keep-alive connection left idle is closed at the head deadline, and that
    // is no refusal.
    let mut idle = TcpStream::connect(binary.api).await.expect("connect");
    assert!(ask(&mut idle, "/health").await, "no answer");
    assert!(closed_within(&mut idle, Duration::from_secs(5)).await);
    // One asking every 300 ms never misses a head deadline, but the whole phase ends after
    // three of them (so does a client pipelining requests and never reading the answers:
    // the deadline does not care what the connection waits for).
    let started = Instant::now();
    let mut chatty = TcpStream::connect(binary.api).await.expect("connect");
    while ask(&mut chatty, "/health").await {
        assert!(started.elapsed() < Duration::from_secs(10), "still served");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let held = started.elapsed();
    assert!(
        held >= Duration::from_millis(1_400),
        "closed after {held:?}"
    );
    assert_eq!(
        metric_of(binary.api, "planetmint_stream_request_head_timeouts_total").await,
        1,
        "the chatty connection only"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_holds_only_its_share_of_the_pending_cap() {
    let flags = [
        "--max-pending-connections",
        "8",
        "--max-pending-per-ip",
        "2",
        "--request-head-timeout",
        "60s",
    ];
    let binary = replaying("1s", &flags).await;
    let from = |local: &str| {
        let local: SocketAddr = format!("{local}:0").parse().expect("address");
        async move {
            let socket = tokio::net::TcpSocket::new_v4().expect("socket");
            socket.bind(local).expect("bind");
            socket.connect(binary.ws).await.expect("connect")
        }
    };
    let _holders = [from("127.0.0.1").await, from("127.0.0.1").await];
    let mut third = from("127.0.0.1").await;
    assert!(
        closed_within(&mut third, Duration::from_secs(10)).await,
        "a third pending connection of one address was not closed"
    );
    // Another address still has its own share.
    let mut other = from("127.0.0.2").await;
    assert!(!closed_within(&mut other, Duration::from_millis(300)).await);
    assert_eq!(
        metric_of(binary.api, "planetmint_stream_refused_pending_total").await,
        1
    );
}
