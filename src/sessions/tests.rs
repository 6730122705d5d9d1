//! The session driven over channels instead of a network socket: what a subscriber is sent,
//! and how its session ends, for the paths the cursor decides.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures_channel::mpsc as channel;
use tokio::task::JoinHandle;

use super::*;
use crate::filter::{self, QueryLimits};
use crate::hub::Hub;
use crate::validate::taint::Delta;
use crate::wire::index::Tags;

/// A socket made of two channels: what the test sends arrives as the client's messages, and
/// what the session sends comes out on `outgoing`.
struct ChannelSocket {
    incoming: channel::UnboundedReceiver<Result<Message, axum::Error>>,
    outgoing: channel::UnboundedSender<Message>,
}

impl Stream for ChannelSocket {
    type Item = Result<Message, axum::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.incoming.poll_next_unpin(cx)
    }
}

impl Sink<Message> for ChannelSocket {
    type Error = channel::SendError;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.outgoing.poll_ready_unpin(cx)
    }

    fn start_send(mut self: Pin<&mut Self>, item: Message) -> Result<(), Self::Error> {
        self.outgoing.start_send_unpin(item)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.outgoing.poll_flush_unpin(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.outgoing.poll_close_unpin(cx)
    }
}

/// A client's end of a session under test.
struct Client {
    says: channel::UnboundedSender<Result<Message, axum::Error>>,
    hears: channel::UnboundedReceiver<Message>,
    session: JoinHandle<()>,
}

impl Client {
    /// The next message the session sent, within a (virtual) minute.
    async fn next(&mut self) -> Message {
        tokio::time::timeout(Duration::from_secs(60), self.hears.next())
            .await
            .expect("a message in time")
            .expect("the session's socket open")
    }

    /// The heights of the next `n` text messages.
    async fn heights(&mut self, n: usize) -> Vec<u64> {
        let mut heights = Vec::new();
        while heights.len() < n {
            if let Message::Text(text) = self.next().await {
                let value: serde_json::Value = serde_json::from_str(&text).expect("JSON");
                heights.push(value["height"].as_u64().expect("height"));
            }
        }
        heights
    }

    /// The close frame the session ends with, skipping pings.
    async fn close(&mut self) -> (u16, String) {
        loop {
            match self.next().await {
                Message::Close(Some(frame)) => return (frame.code, frame.reason.to_string()),
                Message::Ping(_) => {}
                other => panic!("expected a close frame, got {other:?}"),
            }
        }
    }
}

const ALICE: &str = "3RUtgMVfFVoWvUPLorTTbS93V5FkrB43F1D5JNnKNW7R";
const BOB: &str = "C7yJPaDX4vhy9GF9LwuNNHwnkUawypowiWMQedtQ3HBZ";

/// One transaction, to Bob at odd heights and to Alice at even ones.
fn block(height: u64) -> Arc<EncodedBlock> {
    let id = format!("{height:064x}");
    let owner = if height % 2 == 1 { BOB } else { ALICE };
    let tags = Tags {
        transaction_id: Some(id.clone()),
        asset_ids: vec![id],
        public_keys: vec![owner.into()],
        ..Tags::default()
    };
    Arc::new(EncodedBlock::encode(
        Height::new(height).unwrap(),
        "hash",
        vec![(tags, "{}".into())],
        Vec::new(),
    ))
}

struct Setup {
    hub: Hub,
    store: Arc<Store>,
    metrics: Arc<Metrics>,
    shutdown: CancellationToken,
}

impl Setup {
    fn new(ring: usize) -> Self {
        let metrics = Arc::new(Metrics::default());
        Setup {
            hub: Hub::new(ring, metrics.clone()),
            store: Arc::new(Store::in_memory(1_000).unwrap()),
            metrics,
            shutdown: CancellationToken::new(),
        }
    }

    /// Stores, then publishes, as the pipeline does.
    fn publish(&self, heights: std::ops::RangeInclusive<u64>) {
        for height in heights {
            let block = block(height);
            self.store
                .append(std::slice::from_ref(&block), "hash", &Delta::default())
                .unwrap();
            self.hub.publish(block, None);
        }
    }

    fn connect(&self, from: Option<u64>, settings: SessionSettings) -> Client {
        let query = from.map(|height| format!("from_height={height}"));
        self.connect_with(query.as_deref(), settings)
    }

    /// A `valid_transactions` client whose request had `query`.
    fn connect_with(&self, query: Option<&str>, settings: SessionSettings) -> Client {
        let subscription =
            filter::parse(StreamKind::Transactions, query, &QueryLimits::default()).unwrap();
        let (says, incoming) = channel::unbounded();
        let (outgoing, hears) = channel::unbounded();
        let feed = Feed {
            stream: StreamKind::Transactions,
            live: self.hub.subscribe(),
            store: self.store.clone(),
            history_reads: Arc::new(Semaphore::new(HISTORY_READERS)),
            subscription,
        };
        let admission = Admission {
            client: Arc::new(Semaphore::new(1)).try_acquire_owned().unwrap(),
            filter_values: None,
            address: None,
        };
        let session = tokio::spawn(run(
            ChannelSocket { incoming, outgoing },
            feed,
            settings,
            self.shutdown.clone(),
            self.metrics.clone(),
            admission,
        ));
        Client {
            says,
            hears,
            session,
        }
    }
}

#[tokio::test]
async fn a_resuming_client_gets_history_then_live_exactly_once() {
    let setup = Setup::new(16);
    setup.publish(1..=3);
    let mut client = setup.connect(Some(2), SessionSettings::DEFAULT);
    // Published after the subscription: 4 is in the ring and the store both.
    setup.publish(4..=5);
    assert_eq!(client.heights(4).await, [2, 3, 4, 5]);
    setup.publish(6..=6);
    assert_eq!(client.heights(1).await, [6]);
    setup.shutdown.cancel();
    assert_eq!(client.close().await, (1001, "server shutting down".into()));
    client.session.await.unwrap();
}

#[tokio::test]
async fn a_filtered_resume_gets_only_its_matches_across_the_hand_over() {
    let setup = Setup::new(16);
    setup.publish(1..=4);
    let query = format!("from_height=2&public_key={BOB}");
    let mut client = setup.connect_with(Some(&query), SessionSettings::DEFAULT);
    setup.publish(5..=8);
    // Bob's are the odd heights: 3 from history, 5 and 7 from the ring or the store.
    assert_eq!(client.heights(3).await, [3, 5, 7]);
    setup.publish(9..=9);
    assert_eq!(client.heights(1).await, [9]);
    setup.shutdown.cancel();
    assert_eq!(client.close().await, (1001, "server shutting down".into()));
}

#[tokio::test]
async fn a_live_client_that_falls_a_ring_behind_is_a_slow_consumer() {
    let setup = Setup::new(2);
    let mut client = setup.connect(None, SessionSettings::DEFAULT);
    setup.publish(1..=1);
    assert_eq!(client.heights(1).await, [1]);
    // The session is not polled while these are published: the ring of 2 laps it.
    setup.publish(2..=5);
    assert_eq!(client.close().await, (1008, "slow consumer".into()));
    client.session.await.unwrap();
    assert_eq!(setup.metrics.snapshot().subscribers, 0);
}

#[tokio::test(start_paused = true)]
async fn a_silent_client_is_pinged_then_closed_and_a_talking_one_is_not() {
    let setup = Setup::new(4);
    let settings = SessionSettings {
        ping_interval: Duration::from_secs(1),
        idle_timeout: Duration::from_secs(3),
        ..SessionSettings::DEFAULT
    };
    let mut talking = setup.connect(None, settings);
    let mut silent = setup.connect(None, settings);
    for _ in 0..5 {
        assert!(matches!(talking.next().await, Message::Ping(_)));
        talking
            .says
            .unbounded_send(Ok(Message::Pong(Default::default())))
            .unwrap();
    }
    assert_eq!(silent.close().await, (1000, "idle timeout".into()));
    assert!(!talking.session.is_finished());
    drop(talking.says);
    talking.session.await.unwrap();
}

#[tokio::test]
async fn history_pruned_before_the_client_gets_there_expires() {
    let setup = Setup::new(16);
    let store = Arc::new(Store::in_memory(2).unwrap());
    let setup = Setup { store, ..setup };
    setup.publish(1..=5);
    let mut client = setup.connect(Some(1), SessionSettings::DEFAULT);
    assert_eq!(client.close().await, (1008, "history expired".into()));
    client.session.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_client_talking_faster_than_its_rate_is_closed_and_one_within_it_is_not() {
    let setup = Setup::new(4);
    let settings = SessionSettings {
        max_messages_per_second: 10,
        ..SessionSettings::DEFAULT
    };
    let steady = setup.connect(None, settings);
    let mut flooder = setup.connect(None, settings);
    for _ in 0..11 {
        flooder
            .says
            .unbounded_send(Ok(Message::Ping(Default::default())))
            .unwrap();
    }
    assert_eq!(flooder.close().await, (1008, "too many messages".into()));
    flooder.session.await.unwrap();
    // Ten a second, for a minute: always within the rate, the burst never touched twice.
    for _ in 0..600 {
        steady
            .says
            .unbounded_send(Ok(Message::Text("hi".into())))
            .unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!steady.session.is_finished());
    assert_eq!(setup.metrics.snapshot().subscribers, 1);
    drop(steady.says);
    steady.session.await.unwrap();
}
