//! NATS JetStream for the export tests: a real `nats-server` ([`NatsServer`]: Debian's
//! package, on a free loopback port with a temporary store directory, killed by its process
//! id and restarted on the same port and store), what a consumer reads back from a stream
//! ([`stream_messages`], every message in sequence order), and what the export's stream must
//! hold, laid out from the reference files alone ([`expected_export`]: per block, its
//! transaction messages, its refused messages, then its block message, each with the
//! subject and headers the interface gives). [`assert_export`] compares the two message for
//! message and reports every difference at once.

use std::fs::File;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::jetstream;
use async_nats::jetstream::stream::{Config, RetentionPolicy, StorageType, Stream};
use serde_json::Value;
use serde_json::value::RawValue;
use tempfile::TempDir;
use tokio::time::{Instant, timeout};

use super::expected::{assert_no_diffs, diff_lines, expected_lines};
use super::reference::{Reference, without_body_and_message};
use super::{CHAIN, WITHIN};

/// Debian's `nats-server` (2.9), which the CI image installs.
const NATS_SERVER: &str = "/usr/sbin/nats-server";
/// A (re)started server recovers its store before it accepts clients: a bound for
/// failures, not an expected duration.
const STARTS_WITHIN: Duration = Duration::from_secs(10);
/// The stream the export writes when `--nats-stream` is not given.
pub const DEFAULT_STREAM: &str = "PLANETMINT";
/// The duplicate window the interface gives the stream the export creates.
const DUPLICATE_WINDOW: Duration = Duration::from_secs(120);
/// How a transaction message carries its body: the frame's last member.
const BODY_MEMBER: &str = ",\"transaction\":";

/// A `nats-server` with JetStream, killed when dropped.
pub struct NatsServer {
    port: u16,
    dir: TempDir,
    child: Option<Child>,
}

impl NatsServer {
    /// A server on a free loopback port with an empty store, once it accepts connections.
    pub async fn start() -> NatsServer {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let mut server = NatsServer {
            port,
            dir: tempfile::tempdir().expect("a temporary directory"),
            child: None,
        };
        server.spawn().await;
        server
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// SIGKILL, by the process id: no goodbye to clients, no flush.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("killing nats-server");
            child.wait().expect("reaping nats-server");
        }
    }

    /// Kills the server if it runs, and starts it again on the same port and store.
    pub async fn restart(&mut self) {
        self.kill();
        self.spawn().await;
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("nats-server.log")
    }

    async fn spawn(&mut self) {
        let log = File::options()
            .create(true)
            .append(true)
            .open(self.log_path())
            .expect("the server's log file");
        let child = Command::new(NATS_SERVER)
            .arg("-js")
            .arg("-sd")
            .arg(self.dir.path().join("store"))
            .args(["-a", "127.0.0.1", "-p", &self.port.to_string()])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("the log file"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {NATS_SERVER}: {e}"));
        self.child = Some(child);
        let deadline = Instant::now() + STARTS_WITHIN;
        while tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .is_err()
        {
            let exited = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            assert!(
                exited.is_none() && Instant::now() < deadline,
                "nats-server on port {} did not accept connections (exit {exited:?}):\n{}",
                self.port,
                std::fs::read_to_string(self.log_path()).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A JetStream context on the server at `url`.
pub async fn jetstream(url: &str) -> jetstream::Context {
    let client = timeout(Duration::from_secs(5), async_nats::connect(url))
        .await
        .unwrap_or_else(|_| panic!("connecting to {url}: no answer in 5 s"))
        .unwrap_or_else(|e| panic!("connecting to {url}: {e}"));
    jetstream::new(client)
}

/// The stream `name` on the server at `url`.
pub async fn stream(url: &str, name: &str) -> Stream {
    jetstream(url)
        .await
        .get_stream(name)
        .await
        .unwrap_or_else(|e| panic!("stream {name}: {e}"))
}

/// One message of a stream, with the headers the export sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exported {
    pub subject: String,
    pub msg_id: Option<String>,
    pub height: Option<String>,
    pub index: Option<String>,
    pub app_hash: Option<String>,
    pub payload: String,
}

impl Exported {
    /// `transactions`, `refused` or `blocks`: the subject's next-to-last token.
    pub fn kind(&self) -> &str {
        self.subject.rsplit('.').nth(1).unwrap_or_default()
    }

    /// The height in the subject.
    pub fn block_height(&self) -> u64 {
        let last = self.subject.rsplit('.').next().unwrap_or_default();
        last.parse()
            .unwrap_or_else(|_| panic!("no height in subject {}", self.subject))
    }

    /// The message as one line that compares as the interface requires: subject and
    /// headers as stored; transaction and block payloads byte for byte, except that a body
    /// compares as the JSON value it is (the reference spells bodies as Python does); a
    /// refused payload without its `message` (the reference has no wording) and body.
    fn line(&self) -> String {
        let payload = match self.kind() {
            "refused" => without_body_and_message(&json(&self.payload)).to_string(),
            "transactions" => match self.payload.split_once(BODY_MEMBER) {
                Some((frame, body)) => {
                    let body = body.strip_suffix('}').unwrap_or(body);
                    format!("{frame}{BODY_MEMBER}{}}}", json(body))
                }
                None => self.payload.clone(),
            },
            _ => self.payload.clone(),
        };
        format!(
            "{} id={:?} height={:?} index={:?} app_hash={:?} {payload}",
            self.subject, self.msg_id, self.height, self.index, self.app_hash
        )
    }

    fn of(message: jetstream::message::StreamMessage) -> Exported {
        let header = |name: &str| message.headers.get(name).map(ToString::to_string);
        Exported {
            subject: message.subject.to_string(),
            msg_id: header("Nats-Msg-Id"),
            height: header("Planetmint-Height"),
            index: header("Planetmint-Index"),
            app_hash: header("Planetmint-App-Hash"),
            payload: String::from_utf8(message.payload.to_vec()).expect("UTF-8 payload"),
        }
    }
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// Every message of the stream `name` at `url`, in sequence order. A stream with a gap
/// (a deleted message) panics: the export never deletes.
pub async fn stream_messages(url: &str, name: &str) -> Vec<Exported> {
    let reading = async {
        let mut stream = stream(url, name).await;
        let state = stream.info().await.expect("stream info").state.clone();
        if state.messages == 0 {
            return Vec::new();
        }
        let sequences = state.first_sequence..=state.last_sequence;
        assert_eq!(
            state.messages,
            sequences.clone().count() as u64,
            "stream {name} has gaps: {state:?}"
        );
        let mut messages = Vec::with_capacity(state.messages as usize);
        for sequence in sequences {
            let message = stream
                .get_raw_message(sequence)
                .await
                .unwrap_or_else(|e| panic!("stream {name}, message {sequence}: {e}"));
            messages.push(Exported::of(message));
        }
        messages
    };
    timeout(WITHIN, reading)
        .await
        .unwrap_or_else(|_| panic!("reading stream {name} took over {WITHIN:?}"))
}

/// The chain id `chain`'s node reports (its status line), as a subject token: `.`, `*`,
/// `>` and whitespace replaced by `_`.
pub fn subject_chain(chain: &str) -> String {
    let path = planetmint_test_node::chain_path(chain);
    let text = std::fs::read_to_string(&path).expect("the chain file");
    let status = json(text.lines().next().expect("a status line"));
    let id = status["status"]["result"]["node_info"]["network"]
        .as_str()
        .expect("the chain id");
    id.chars()
        .map(|c| match c {
            '.' | '*' | '>' => '_',
            c if c.is_whitespace() => '_',
            c => c,
        })
        .collect()
}

/// What the export's stream must hold for the whole of `chain`, from the reference files:
/// per block, its transaction messages (with the reference body when `bodies`), its refused
/// messages (without the wording of their `message`, which the reference lacks), then its
/// block message.
pub fn expected_export(chain: &str, bodies: bool) -> Vec<Exported> {
    let token = subject_chain(chain);
    let reference = Reference::of(chain);
    let block_lines = expected_lines(chain, "valid_blocks");
    let spelled_bodies = bodies_as_spelled(chain);
    let mut messages = Vec::new();
    for (block_line, block) in block_lines.iter().zip(&reference.blocks) {
        let height = block["height"].as_u64().expect("a height");
        let message = |kind: &str, index: Option<usize>, payload: String| Exported {
            subject: format!("planetmint.{token}.{kind}.{height}"),
            msg_id: Some(match index {
                Some(index) => format!("{token}:{height}:{kind}:{index}"),
                None => format!("{token}:{height}:{kind}"),
            }),
            height: Some(height.to_string()),
            index: index.map(|index| index.to_string()),
            app_hash: index
                .is_none()
                .then(|| block["hash"].as_str().expect("a hash").into()),
            payload,
        };
        let transactions = reference
            .published_lines
            .iter()
            .zip(&reference.published)
            .zip(&spelled_bodies)
            .filter(|((_, (frame, _)), _)| frame["height"] == height);
        for (index, ((line, _), body)) in transactions.enumerate() {
            let payload = match (bodies, line.strip_suffix('}')) {
                (true, Some(frame)) => format!("{frame}{BODY_MEMBER}{body}}}"),
                _ => line.clone(),
            };
            messages.push(message("transactions", Some(index), payload));
        }
        let refused = reference.refused.iter().filter(|r| r["height"] == height);
        for (index, line) in refused.enumerate() {
            let payload = without_body_and_message(line).to_string();
            messages.push(message("refused", Some(index), payload));
        }
        messages.push(message("blocks", None, block_line.clone()));
    }
    messages
}

/// Each body of `<chain>.bodies.jsonl` as the file spells it. Bodies compare as the values
/// they parse to ([`Exported::line`]), so both sides must be parsed once from their text:
/// a float printed back from a parsed value may parse to another (serde_json's float
/// parsing is fast, not exact: 2**70 printed and read again is one unit off).
fn bodies_as_spelled(chain: &str) -> Vec<String> {
    #[derive(serde::Deserialize)]
    struct Line<'a> {
        #[serde(borrow)]
        transaction: &'a RawValue,
    }
    expected_lines(chain, "bodies")
        .iter()
        .map(|line| {
            let line: Line = serde_json::from_str(line).expect("a bodies line");
            line.transaction.get().to_owned()
        })
        .collect()
}

/// [`expected_export`] of the blocks up to `last_height` only.
pub fn expected_export_until(chain: &str, bodies: bool, last_height: u64) -> Vec<Exported> {
    let mut messages = expected_export(chain, bodies);
    messages.retain(|message| message.block_height() <= last_height);
    messages
}

/// Asserts `got` is `expected` message for message (see [`Exported::line`]), and that every
/// refused message says why in a `message`; reports every difference at once.
pub fn assert_export(what: &str, got: &[Exported], expected: &[Exported]) {
    let lines = |messages: &[Exported]| messages.iter().map(Exported::line).collect::<Vec<_>>();
    let silent: Vec<&str> = got
        .iter()
        .filter(|m| m.kind() == "refused")
        .filter(|m| {
            json(&m.payload)["message"]
                .as_str()
                .is_none_or(str::is_empty)
        })
        .map(|m| m.payload.as_str())
        .collect();
    let silent = (!silent.is_empty())
        .then(|| format!("{what}: refused messages without a message: {silent:?}"));
    assert_no_diffs([diff_lines(what, &lines(got), &lines(expected)), silent]);
}

/// The settings the interface gives the stream the export creates for `chain`.
pub fn export_config(chain: &str) -> Config {
    Config {
        name: DEFAULT_STREAM.into(),
        subjects: vec![format!("planetmint.{}.>", subject_chain(chain))],
        storage: StorageType::File,
        retention: RetentionPolicy::Limits,
        duplicate_window: DUPLICATE_WINDOW,
        max_message_size: -1,
        num_replicas: 1,
        ..Config::default()
    }
}

/// Publishes `messages` as the export does (subjects, headers, payloads), each
/// acknowledged, into a new stream with the settings the export creates for [`CHAIN`].
pub async fn publish_as_the_export(url: &str, messages: &[Exported]) {
    let js = jetstream(url).await;
    js.create_stream(export_config(CHAIN))
        .await
        .expect("creating the stream");
    for message in messages {
        let mut headers = HeaderMap::new();
        let named = [
            ("Nats-Msg-Id", &message.msg_id),
            ("Planetmint-Height", &message.height),
            ("Planetmint-Index", &message.index),
            ("Planetmint-App-Hash", &message.app_hash),
        ];
        for (name, value) in named {
            if let Some(value) = value {
                headers.insert(name, value.as_str());
            }
        }
        let payload = message.payload.clone().into();
        js.publish_with_headers(message.subject.clone(), headers, payload)
            .await
            .expect("publishing")
            .await
            .expect("an acknowledgement");
    }
}

/// The helpers agree with each other, whatever the export does: the expected export, with
/// bodies and with a wording in each refusal, published and read back, compares equal; a
/// body spelled differently compares equal, a message with a header changed does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_published_by_hand_reads_back_as_expected() {
    let nats = NatsServer::start().await;
    let mut expected = expected_export(CHAIN, true);
    for message in expected.iter_mut().filter(|m| m.kind() == "refused") {
        let mut frame = json(&message.payload);
        frame["message"] = "why".into();
        message.payload = frame.to_string();
    }
    publish_as_the_export(&nats.url(), &expected).await;
    let got = stream_messages(&nats.url(), DEFAULT_STREAM).await;
    assert_export("published by hand", &got, &expected);
    let respelled: Vec<Exported> = got
        .iter()
        .map(|m| Exported {
            payload: m.payload.replace(BODY_MEMBER, &format!("{BODY_MEMBER} ")),
            ..m.clone()
        })
        .collect();
    assert_export("bodies respelled", &respelled, &expected);
    let mut changed = got.clone();
    let numbered = changed.iter_mut().find(|m| m.index.is_some());
    numbered.expect("a numbered message").index = Some("9".into());
    let caught = std::panic::catch_unwind(|| assert_export("changed", &changed, &expected));
    assert!(caught.is_err(), "a changed header compares equal");
}
