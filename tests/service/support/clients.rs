//! Stream clients: a tokio-tungstenite one, reading frames under a deadline, and a raw one
//! written by hand that completes the handshake and then only reads (it never answers a
//! ping). In: the service's stream address and a path. Out: text frames, close codes, raw
//! frames; a client that gets nothing in time panics, except [`collect_texts`], which
//! returns what it got so the caller can report the difference.

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::StreamExt as _;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout, timeout_at};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::{self, Message};

pub type Client = WebSocketStream<TcpStream>;

pub fn ws_url(addr: SocketAddr, path: &str) -> String {
    format!("ws://{addr}{path}")
}

/// A WebSocket client of `path`, or the handshake's error (an HTTP refusal included).
pub async fn try_connect(addr: SocketAddr, path: &str) -> Result<Client, tungstenite::Error> {
    let attempt = async {
        let tcp = TcpStream::connect(addr).await?;
        let (client, _) = tokio_tungstenite::client_async(ws_url(addr, path), tcp).await?;
        Ok(client)
    };
    timeout(Duration::from_secs(5), attempt)
        .await
        .unwrap_or_else(|_| panic!("connecting to {}: no answer in 5 s", ws_url(addr, path)))
}

/// A WebSocket client of `path`; once this returns the server has subscribed it, so it
/// gets every block published from now on.
pub async fn connect(addr: SocketAddr, path: &str) -> Client {
    try_connect(addr, path)
        .await
        .unwrap_or_else(|e| panic!("connecting to {}: {e}", ws_url(addr, path)))
}

/// Reads text frames until there are `n`, `within` has passed, or the stream ends, and
/// returns them. Pings and pongs are skipped (the library answers pings as it reads).
pub async fn collect_texts<S>(
    client: &mut WebSocketStream<S>,
    n: usize,
    within: Duration,
) -> Vec<String>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let deadline = Instant::now() + within;
    let mut texts = Vec::with_capacity(n);
    while texts.len() < n {
        match timeout_at(deadline, client.next()).await {
            Err(_) => break,
            Ok(Some(Ok(Message::Text(text)))) => texts.push(text.as_str().to_owned()),
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => {}
            Ok(other) => panic!(
                "stream ended after {} text frames (wanted {n}): {other:?}",
                texts.len()
            ),
        }
    }
    texts
}

/// Reads until a close frame and returns its code and reason; text frames, pings and
/// pongs before it are skipped. Panics if the connection ends without a close frame or
/// nothing arrives `within`.
pub async fn expect_close(client: &mut Client, within: Duration) -> (u16, String) {
    let deadline = Instant::now() + within;
    let mut skipped = 0usize;
    loop {
        match timeout_at(deadline, client.next()).await {
            Err(_) => panic!("no close frame within {within:?} ({skipped} text frames before)"),
            Ok(Some(Ok(Message::Close(Some(frame))))) => {
                return (u16::from(frame.code), frame.reason.as_str().to_owned());
            }
            Ok(Some(Ok(Message::Close(None)))) => panic!("close frame without a code"),
            Ok(Some(Ok(Message::Text(_)))) => skipped += 1,
            Ok(Some(Ok(_))) => {}
            Ok(other) => panic!("connection ended without a close frame: {other:?}"),
        }
    }
}

/// Asserts nothing but pings and pongs arrives for `quiet`.
pub async fn assert_no_more_texts(client: &mut Client, what: &str, quiet: Duration) {
    let deadline = Instant::now() + quiet;
    loop {
        match timeout_at(deadline, client.next()).await {
            Err(_) => return,
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => {}
            Ok(other) => panic!("{what}: unexpected message after the expected ones: {other:?}"),
        }
    }
}

/// A WebSocket client written by hand: it completes the handshake and from then on only
/// reads, so it never answers a ping (the idle-timeout test needs a truly silent client).
pub struct RawClient {
    tcp: TcpStream,
    buffer: Vec<u8>,
}

/// One frame from the server (servers do not mask).
#[derive(Debug)]
pub struct RawFrame {
    pub opcode: u8,
    pub payload: Vec<u8>,
}

impl RawClient {
    pub async fn connect(addr: SocketAddr, path: &str) -> RawClient {
        let mut tcp = TcpStream::connect(addr).await.expect("raw client connect");
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        );
        tcp.write_all(request.as_bytes())
            .await
            .expect("raw client handshake");
        let mut client = RawClient {
            tcp,
            buffer: Vec::new(),
        };
        let head_end = loop {
            if let Some(end) = client.buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                break end + 4;
            }
            assert!(
                client.fill(Instant::now() + Duration::from_secs(5)).await,
                "raw client: connection closed during the handshake"
            );
        };
        let head = String::from_utf8_lossy(&client.buffer[..head_end]).into_owned();
        assert!(
            head.starts_with("HTTP/1.1 101"),
            "raw client: handshake refused: {head}"
        );
        client.buffer.drain(..head_end);
        client
    }

    /// The next frame, or `None` at the end of the connection. Panics after `deadline`.
    pub async fn next_frame(&mut self, deadline: Instant) -> Option<RawFrame> {
        loop {
            if let Some((frame, used)) = parse_frame(&self.buffer) {
                self.buffer.drain(..used);
                return Some(frame);
            }
            if !self.fill(deadline).await {
                assert!(
                    self.buffer.is_empty(),
                    "raw client: connection ended inside a frame"
                );
                return None;
            }
        }
    }

    /// Reads more bytes; false at the end of the connection (a reset counts as an end).
    async fn fill(&mut self, deadline: Instant) -> bool {
        let mut chunk = [0u8; 4096];
        match timeout_at(deadline, self.tcp.read(&mut chunk)).await {
            Err(_) => panic!("raw client: nothing from the server before the deadline"),
            Ok(Ok(0) | Err(_)) => false,
            Ok(Ok(n)) => {
                self.buffer.extend_from_slice(&chunk[..n]);
                true
            }
        }
    }
}

fn parse_frame(buffer: &[u8]) -> Option<(RawFrame, usize)> {
    let [first, second, ..] = *buffer else {
        return None;
    };
    assert_eq!(second & 0x80, 0, "raw client: the server masked a frame");
    let (length, mut at) = match second & 0x7f {
        126 => (
            u16::from_be_bytes(buffer.get(2..4)?.try_into().ok()?) as usize,
            4,
        ),
        127 => (
            u64::from_be_bytes(buffer.get(2..10)?.try_into().ok()?) as usize,
            10,
        ),
        short => (short as usize, 2),
    };
    let payload = buffer.get(at..at + length)?.to_vec();
    at += length;
    Some((
        RawFrame {
            opcode: first & 0x0f,
            payload,
        },
        at,
    ))
}
