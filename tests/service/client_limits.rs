//! What clients may do, and what happens when they overdo it: every subscriber is pinged;
//! a client that talks keeps its stream; a message over 64 KiB closes with 1009, silence
//! past the idle timeout with 1000, reading too slowly with 1008 (while a fast client on the
//! same stream keeps up); past `max_clients`, upgrades get 503.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use tokio::net::TcpSocket;
use tokio::time::{Instant, timeout};
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_util::sync::CancellationToken;

use planetmint_stream::chain::Height;
use planetmint_stream::hub::Hub;
use planetmint_stream::metrics::Metrics;
use planetmint_stream::server::{self, Listeners, ServerSettings};
use planetmint_stream::sessions::SessionSettings;
use planetmint_stream::validate::TxId;
use planetmint_stream::wire::EncodedBlock;
use planetmint_stream::wire::index::Tags;

use crate::support::*;

fn pinging_args(ping_ms: u64, idle_ms: u64) -> ServerSettings {
    ServerSettings {
        session: SessionSettings {
            ping_interval: Duration::from_millis(ping_ms),
            idle_timeout: Duration::from_millis(idle_ms),
            ..SessionSettings::DEFAULT
        },
        ..server_args()
    }
}

/// (c) The server pings every subscriber.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_pings_subscribers() {
    let node = TestNode::start(CHAINS[1]).await;
    let service = Service::follow(&node, pinging_args(200, 2_000)).await;
    let mut client = connect(service.ws, TXS).await;
    let started = Instant::now();
    let mut pings = 0;
    while pings < 3 {
        match timeout(Duration::from_secs(2), client.next()).await {
            Ok(Some(Ok(Message::Ping(_)))) => pings += 1,
            other => panic!("expected a ping, got {other:?}"),
        }
    }
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(500) && elapsed < Duration::from_secs(3),
        "3 pings 200 ms apart took {elapsed:?}"
    );
    service.shut_down().await;
}

/// (c) A client that talks (text messages, pings) keeps its stream and gets its pongs,
/// well past the idle timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chatty_client_keeps_its_stream() {
    let node = TestNode::start(CHAINS[1]).await;
    let service = Service::follow(&node, pinging_args(200, 1_000)).await;
    let mut client = connect(service.ws, BLOCKS).await;
    node.wait_for("the service to subscribe", |s| s.active == 1)
        .await;
    // 20 blocks 100 ms apart: twice the idle timeout (and before the chain's big block).
    const BLOCKS_WANTED: u64 = 20;
    let talk = async {
        let mut texts = Vec::new();
        let mut pongs = Vec::new();
        let mut sent_pings = 0u32;
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        while (texts.len() as u64) < BLOCKS_WANTED {
            tokio::select! {
                _ = tick.tick() => {
                    sent_pings += 1;
                    client.send(Message::text("hello")).await.expect("sending text");
                    client
                        .send(Message::Ping(sent_pings.to_be_bytes().to_vec().into()))
                        .await
                        .expect("sending ping");
                }
                message = client.next() => match message {
                    Some(Ok(Message::Text(text))) => texts.push(text.as_str().to_owned()),
                    Some(Ok(Message::Pong(payload))) => pongs.push(u32::from_be_bytes(payload[..].try_into().unwrap())),
                    Some(Ok(Message::Ping(_))) => {}
                    other => panic!("chatty client lost its stream: {other:?}"),
                },
            }
        }
        (texts, pongs, sent_pings)
    };
    let produce = node.produce_until_paced(BLOCKS_WANTED, Duration::from_millis(100));
    let ((texts, pongs, sent), ()) = timeout(Duration::from_secs(10), async {
        tokio::join!(talk, produce)
    })
    .await
    .expect("the chatty client did not get its blocks in time");
    assert_eq!(heights(&texts), (1..=BLOCKS_WANTED).collect::<Vec<_>>());
    // Every ping answered, in order (the last one may still be in flight).
    assert!(
        sent >= 15,
        "the test should have run well past the idle timeout"
    );
    assert!(
        pongs.len() as u32 >= sent - 1,
        "sent {sent} pings, got pongs {pongs:?}"
    );
    assert_eq!(pongs, (1..=pongs.len() as u32).collect::<Vec<_>>());
    service.shut_down().await;
}

/// (c) A client message over 64 KiB ends the session with 1009.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_client_message_closes_with_1009() {
    let node = TestNode::start(CHAINS[1]).await;
    let service = Service::follow(&node, server_args()).await;
    let mut client = connect(service.ws, TXS).await;
    client
        .send(Message::text("x".repeat(100 << 10)))
        .await
        .expect("sending 100 KiB");
    let (code, reason) = expect_close(&mut client, Duration::from_secs(5)).await;
    assert_eq!((code, reason.as_str()), (1009, "message too big"));
    service.shut_down().await;
}

/// (d) A client that never sends anything (not even a pong) is closed after the idle
/// timeout, having been pinged meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_client_is_closed_after_idle_timeout() {
    let node = TestNode::start(CHAINS[1]).await;
    let service = Service::follow(&node, pinging_args(200, 500)).await;
    let mut client = RawClient::connect(service.ws, TXS).await;
    let connected = Instant::now();
    let deadline = connected + Duration::from_secs(3);
    let mut pings = 0;
    let close = loop {
        match client.next_frame(deadline).await {
            Some(frame) if frame.opcode == 0x9 => pings += 1,
            Some(frame) if frame.opcode == 0x8 => break frame.payload,
            Some(frame) => panic!("unexpected frame {frame:?}"),
            None => panic!("connection ended without a close frame"),
        }
    };
    let elapsed = connected.elapsed();
    assert!(close.len() >= 2, "close frame without a code");
    let code = u16::from_be_bytes([close[0], close[1]]);
    assert_eq!(
        (code, String::from_utf8_lossy(&close[2..]).as_ref()),
        (1000, "idle timeout")
    );
    assert!(
        pings >= 2,
        "a silent client is still pinged (got {pings} pings)"
    );
    assert!(
        elapsed >= Duration::from_millis(450) && elapsed < Duration::from_secs(3),
        "closed {elapsed:?} after connecting; the idle timeout is 500 ms"
    );
    assert!(
        client
            .next_frame(Instant::now() + Duration::from_secs(2))
            .await
            .is_none(),
        "the server must hang up after its close frame"
    );
    service.shut_down().await;
}

/// (e) Past `max_clients`, upgrades get 503; a slot frees when a client leaves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_clients_refuses_with_503() {
    let node = TestNode::start(CHAINS[1]).await;
    let mut args = server_args();
    args.max_clients = 2;
    let service = Service::follow(&node, args).await;
    let mut first = connect(service.ws, TXS).await;
    let _second = connect(service.ws, BLOCKS).await;
    for path in [TXS, BLOCKS] {
        match try_connect(service.ws, path).await {
            Err(tungstenite::Error::Http(response)) => assert_eq!(response.status(), 503),
            Err(other) => panic!("third client: expected HTTP 503, got {other}"),
            Ok(_) => panic!("third client on {path} was accepted past max_clients = 2"),
        }
    }
    first.close(None).await.expect("closing the first client");
    // The server releases the slot when it sees the close; retry until it has.
    let admitted = timeout(Duration::from_secs(5), async {
        loop {
            match try_connect(service.ws, TXS).await {
                Ok(client) => return client,
                Err(tungstenite::Error::Http(response)) if response.status() == 503 => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(other) => panic!("reconnecting: {other}"),
            }
        }
    })
    .await;
    assert!(
        admitted.is_ok(),
        "the slot of a client that left was never freed"
    );
    service.shut_down().await;
}

/// A block of `transactions` published transactions of 20 asset ids each (~1.5 KB frames).
fn big_block(height: u64, transactions: usize) -> Arc<EncodedBlock> {
    let published = (0..transactions)
        .map(|i| {
            let id = TxId::of(format!("tx {height} {i}").as_bytes()).to_string();
            let tags = Tags {
                transaction_id: Some(id),
                asset_ids: (0..20)
                    .map(|k| format!("{height:016x}{i:016x}{k:032x}"))
                    .collect(),
                ..Tags::default()
            };
            (tags, "{}".to_owned())
        })
        .collect();
    let height = Height::new(height).expect("positive height");
    Arc::new(EncodedBlock::encode(
        height,
        &"ab".repeat(32),
        published,
        Vec::new(),
    ))
}

/// (g) A client that reads slowly is closed with 1008 "slow consumer" while a fast client
/// on the same stream gets every frame, in block order, on time.
///
/// The slow client reads one message every 20 ms while the blocks are published, then
/// reads as fast as it can until its close frame: what it reads first is what the kernel
/// had buffered for it (the server's send buffer autotunes up to `tcp_wmem` max, 4 MiB by
/// default; the listener caps it lower) before the server noticed it had fallen a whole
/// queue (one block) behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_consumer_is_closed_while_fast_client_keeps_up() {
    const BLOCKS_PUBLISHED: u64 = 10;
    const PER_BLOCK: usize = 500;
    let args = ServerSettings {
        subscriber_queue_blocks: 1,
        ..server_args()
    };
    let listeners = Listeners::bind(&args).await.expect("binding");
    let ws = listeners.ws_addr().expect("ws address");
    let metrics = Arc::new(Metrics::default());
    let hub = Hub::new(args.subscriber_queue_blocks, metrics.clone());
    let shutdown = CancellationToken::new();
    let server = tokio::spawn({
        let (hub, metrics, shutdown) = (hub.clone(), metrics.clone(), shutdown.clone());
        async move { server::serve(listeners, &args, hub, memory_store(), metrics, shutdown).await }
    });
    let blocks: Vec<Arc<EncodedBlock>> = (1..=BLOCKS_PUBLISHED)
        .map(|h| big_block(h, PER_BLOCK))
        .collect();

    let mut fast = connect(ws, TXS).await;
    let slow_socket = TcpSocket::new_v4().expect("socket");
    slow_socket.set_recv_buffer_size(4096).expect("SO_RCVBUF");
    let slow_tcp = slow_socket.connect(ws).await.expect("slow connect");
    let (mut slow, _) = tokio_tungstenite::client_async(ws_url(ws, TXS), slow_tcp)
        .await
        .expect("slow handshake");
    let publishing = CancellationToken::new();
    let slow_reader = tokio::spawn({
        let publishing = publishing.clone();
        async move {
            let mut read = 0usize;
            loop {
                if !publishing.is_cancelled() {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                match slow.next().await {
                    Some(Ok(Message::Close(Some(frame)))) => {
                        return Ok((
                            u16::from(frame.code),
                            frame.reason.as_str().to_owned(),
                            read,
                        ));
                    }
                    Some(Ok(Message::Text(_))) => read += 1,
                    Some(Ok(_)) => {}
                    other => {
                        return Err(format!(
                            "slow client ended without a close frame after {read} frames: {other:?}"
                        ));
                    }
                }
            }
        }
    });

    let mut worst = Duration::ZERO;
    for block in &blocks {
        let height = block.height;
        let expected: Vec<String> = block
            .published
            .iter()
            .map(|tx| tx.frame.as_str().to_owned())
            .collect();
        assert!(
            expected[0].len() > 1400,
            "frames should be big: {} bytes",
            expected[0].len()
        );
        let published = Instant::now();
        hub.publish(block.clone(), None);
        let got = collect_texts(&mut fast, PER_BLOCK, Duration::from_secs(5)).await;
        let took = published.elapsed();
        worst = worst.max(took);
        assert_no_diffs([diff_lines(
            &format!("fast client, block {height}"),
            &got,
            &expected,
        )]);
        assert!(
            took < Duration::from_secs(1),
            "the fast client got block {height} {took:?} after it was published"
        );
    }
    // Publishing is over: the slow client now drains what was buffered for it.
    publishing.cancel();
    let (code, reason, read) = timeout(Duration::from_secs(15), slow_reader)
        .await
        .expect("the slow client got no close frame within 15 s")
        .expect("slow reader task")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((code, reason.as_str()), (1008, "slow consumer"));
    assert!(
        read < BLOCKS_PUBLISHED as usize * PER_BLOCK,
        "the slow client read everything ({read} frames): it was not slow"
    );
    assert_eq!(
        metric(
            &metrics.render(),
            "planetmint_stream_slow_consumers_closed_total"
        ),
        1,
        "only the slow client is a slow consumer"
    );
    eprintln!(
        "slow consumer: read {read} frames before its close; fast client: worst block latency {worst:?}"
    );
    assert_no_more_texts(&mut fast, "fast client", Duration::from_millis(100)).await;
    shutdown.cancel();
    let (code, _) = expect_close(&mut fast, Duration::from_secs(5)).await;
    assert_eq!(code, 1001, "the fast client stays until shutdown");
    timeout(Duration::from_secs(5), server)
        .await
        .expect("server did not stop")
        .expect("server task")
        .expect("server");
}
