//! The page at `GET /streams` on the API port, in a real headless Chromium
//! ([`crate::support::browser`]) against a replayed chain: it shows exactly the messages
//! each stream sent, unfiltered and filtered (newest first, the list bounded), their count,
//! the height and the transactions per block; a bad query's reason before connecting, with
//! no socket opened; and the close code and reason when the service shuts down. All checked
//! against the reference files ([`crate::support::reference`]).
//!
//! `STREAM_PAGE_SCREENSHOT=1 cargo test --test service page` also writes the README's
//! screenshot, `docs/stream-page.png`.

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite;

use planetmint_stream::server::{Listeners, ServerSettings};

use crate::support::browser::Browser;
use crate::support::*;

/// What the page shows, read from its DOM.
#[derive(Debug, Deserialize)]
struct Shown {
    state: String,
    count: usize,
    height: String,
    close: String,
    refusal: Option<String>,
    /// The list's frames as sent, newest first.
    frames: Vec<String>,
    /// How many messages the list keeps.
    list_max: usize,
    /// The chart's bars: height, transactions.
    chart: Vec<(u64, u64)>,
}

const READ: &str = r##"(() => {
  const el = (id) => document.getElementById(id);
  const all = (selector) => [...document.querySelectorAll(selector)];
  return {
    state: el("state").dataset.state,
    count: Number(el("count").textContent),
    height: el("height").textContent,
    close: el("close").textContent,
    refusal: el("refusal").hidden ? null : el("refusal").textContent,
    frames: all("#messages .frame").map((frame) => frame.textContent),
    list_max: Number(el("list-max").textContent),
    chart: all("#chart rect").map((bar) => [Number(bar.dataset.height), Number(bar.dataset.transactions)]),
  };
})()"##;

/// How long the page must stay quiet after the expected messages: anything more the stream
/// sends by then has arrived.
const QUIET: Duration = Duration::from_millis(250);

/// The service replaying `chain`, advertising its own stream port, once every block is
/// stored.
async fn replayed(chain: &str) -> Service {
    let args = server_args();
    let listeners = Listeners::bind(&args).await.expect("binding the service");
    let ws = listeners.ws_addr().expect("ws address");
    let args = ServerSettings {
        advertised_ws_url: format!("ws://{ws}"),
        ..args
    };
    let service = Service::start_on(replay(chain).await, memory_store(), args, listeners);
    wait_for_height(service.api, chain_blocks(chain)).await;
    service
}

async fn read_page(browser: &mut Browser) -> Shown {
    serde_json::from_value(browser.eval(READ).await).expect("the page's state")
}

async fn wait_for_state(browser: &mut Browser, state: &str) {
    let expression = format!("document.getElementById('state').dataset.state === {state:?}");
    browser
        .wait_until(&format!("the page is {state}"), &expression)
        .await;
}

/// Types into the form as a person would: picks `stream` and fills `fields`, the rest left
/// blank.
async fn fill(browser: &mut Browser, stream: &str, fields: &[(&str, &str)]) {
    let script = format!(
        r#"(() => {{
          const form = document.getElementById("subscribe");
          form.reset();
          form.elements.stream.value = {stream};
          for (const [name, value] of {fields}) form.elements[name].value = value;
          form.dispatchEvent(new Event("input"));
        }})()"#,
        stream = json!(stream),
        fields = json!(fields),
    );
    browser.eval(&script).await;
}

async fn click(browser: &mut Browser, button: &str) {
    browser
        .eval(&format!("document.getElementById({button:?}).click()"))
        .await;
}

/// Connects to `stream` with `fields`, waits for `n` messages and a quiet moment; returns
/// what the page shows then (still connected).
async fn watch(browser: &mut Browser, stream: &str, fields: &[(&str, &str)], n: usize) -> Shown {
    fill(browser, stream, fields).await;
    click(browser, "connect").await;
    let arrived = format!("Number(document.getElementById('count').textContent) >= {n}");
    browser
        .wait_until(&format!("{n} messages of {stream}"), &arrived)
        .await;
    tokio::time::sleep(QUIET).await;
    let shown = read_page(browser).await;
    assert_eq!(shown.state, "open", "{stream}");
    assert_eq!(shown.count, n, "{stream}: messages counted");
    shown
}

/// Disconnects, as the button does.
async fn disconnect(browser: &mut Browser) {
    click(browser, "disconnect").await;
    wait_for_state(browser, "closed").await;
}

/// The page lists `expected` (the stream's frames, in order): the newest first, as many as
/// it keeps; shows the last height; and charts each height's transactions.
fn assert_shows(what: &str, shown: &Shown, expected: &[String], blocks: bool) {
    let newest: Vec<String> = expected
        .iter()
        .rev()
        .take(shown.list_max)
        .cloned()
        .collect();
    assert_no_diffs([diff_lines(what, &shown.frames, &newest)]);
    let last = heights(expected).last().copied().expect("messages");
    assert_eq!(shown.height, last.to_string(), "{what}: height");
    let mut chart: Vec<(u64, u64)> = Vec::new();
    for frame in expected {
        let frame: Value = serde_json::from_str(frame).expect("JSON");
        let height = frame["height"].as_u64().expect("a height");
        let transactions = match blocks {
            true => frame["transaction_ids"].as_array().expect("ids").len() as u64,
            false => 1,
        };
        match chart.last_mut() {
            Some((h, n)) if *h == height => *n += transactions,
            _ => chart.push((height, transactions)),
        }
    }
    assert_eq!(shown.chart, chart, "{what}: transactions per block");
}

/// `shown` with each listed frame read as JSON, passed through `normalize` and encoded again:
/// filtered block frames and refusals are compared as values, as the filter tests do.
fn as_values(shown: Shown, normalize: impl Fn(&Value) -> Value) -> Shown {
    let frames = shown
        .frames
        .iter()
        .map(|f| normalize(&serde_json::from_str(f).expect("frames are JSON")))
        .collect();
    Shown {
        frames: encoded(frames),
        ..shown
    }
}

fn encoded(values: Vec<Value>) -> Vec<String> {
    values.iter().map(Value::to_string).collect()
}

/// The page, on every stream, filtered or not, shows what the reference says each sends; a
/// bad query is explained before any socket opens; a shutdown's close is shown.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_shows_what_the_streams_send() {
    let reference = Reference::of(CHAIN);
    let service = replayed(CHAIN).await;
    let mut browser = Browser::start(&["Network.webSocketCreated"]).await;
    browser
        .navigate(&format!("http://{}/streams", service.api))
        .await;
    wait_for_state(&mut browser, "idle").await;
    bad_query_is_explained_without_a_socket(&mut browser, &service).await;
    everything_from_the_first_block(&mut browser, &reference).await;
    filtered_streams(&mut browser, &reference).await;

    // Live, until the service shuts down: the page shows its close.
    fill(&mut browser, "valid_blocks", &[]).await;
    click(&mut browser, "connect").await;
    wait_for_state(&mut browser, "open").await;
    service.shut_down().await;
    wait_for_state(&mut browser, "closed").await;
    let close = read_page(&mut browser).await.close;
    assert_eq!(close, "1001 server shutting down");
    let sockets = browser.events.len();
    assert_eq!(sockets, 5, "one socket per connect: {:?}", browser.events);
}

/// A bad query's reason shows as it is typed, and on Connect, where no socket opens: the
/// reason is the one the upgrade would have been refused with.
async fn bad_query_is_explained_without_a_socket(browser: &mut Browser, service: &Service) {
    let bad = [("operation", "BURN"), ("from_height", "1")];
    fill(browser, "valid_blocks", &bad).await;
    let explained = "!document.getElementById('refusal').hidden";
    browser
        .wait_until("the typed query's reason", explained)
        .await;
    click(browser, "connect").await;
    wait_for_state(browser, "refused").await;
    let shown = read_page(browser).await;
    assert!(browser.events.is_empty(), "sockets: {:?}", browser.events);
    let refused_queries = "planetmint_stream_refused_queries_total";
    assert_eq!(metric_of(service.api, refused_queries).await, 0);
    let upgrade = format!("{BLOCKS}?operation=BURN&from_height=1");
    let Err(tungstenite::Error::Http(response)) = try_connect(service.ws, &upgrade).await else {
        panic!("{upgrade} was not refused");
    };
    let body = String::from_utf8_lossy(response.body().as_deref().unwrap_or_default());
    let said = format!("{}: {}", response.status().as_u16(), body.trim_end());
    assert_eq!(shown.refusal.as_deref(), Some(said.as_str()), "the reason");
}

/// Every transaction from the first block: more than the list keeps. With
/// `STREAM_PAGE_SCREENSHOT` set, the page is then written to `docs/stream-page.png`.
async fn everything_from_the_first_block(browser: &mut Browser, reference: &Reference) {
    let expected = &reference.published_lines;
    let from_1 = [("from_height", "1")];
    let stream = "valid_transactions";
    let shown = watch(browser, stream, &from_1, expected.len()).await;
    assert!(expected.len() > shown.list_max, "the bound is not tested");
    assert_shows(stream, &shown, expected, false);
    assert_eq!(shown.refusal, None);
    if std::env::var_os("STREAM_PAGE_SCREENSHOT").is_some() {
        let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs");
        std::fs::create_dir_all(&docs).expect("docs/");
        let png = browser.screenshot().await;
        std::fs::write(docs.join("stream-page.png"), png).expect("writing the screenshot");
    }
    disconnect(browser).await;
}

/// The transfers, byte for byte; the blocks of a creator's key; the refusals.
async fn filtered_streams(browser: &mut Browser, reference: &Reference) {
    let transfers = Query {
        operation: vec!["transfer".into()],
        ..Query::default()
    };
    let expected = reference.transaction_lines(&transfers);
    let fields = [("operation", "transfer"), ("from_height", "1")];
    let shown = watch(browser, "valid_transactions", &fields, expected.len()).await;
    assert_shows(
        "valid_transactions?operation=transfer",
        &shown,
        &expected,
        false,
    );
    disconnect(browser).await;

    let creator = reference
        .published
        .iter()
        .find(|(_, body)| body["operation"] == "CREATE")
        .and_then(|(_, body)| keys(&body["outputs"], "public_keys").pop())
        .expect("a creation");
    let owned = Query {
        public_key: vec![creator.clone()],
        ..Query::default()
    };
    let expected = encoded(reference.blocks(&owned));
    let fields = [("public_key", creator.as_str()), ("from_height", "1")];
    let shown = watch(browser, "valid_blocks", &fields, expected.len()).await;
    let shown = as_values(shown, Value::clone);
    assert_shows("valid_blocks?public_key", &shown, &expected, true);
    disconnect(browser).await;

    let refusals = reference.refused.iter().map(without_body_and_message);
    let expected = encoded(refusals.collect());
    let fields = [("from_height", "1")];
    let shown = watch(browser, "refused_transactions", &fields, expected.len()).await;
    let shown = as_values(shown, without_body_and_message);
    assert_shows("refused_transactions", &shown, &expected, false);
    disconnect(browser).await;
}
