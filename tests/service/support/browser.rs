//! A headless Chromium (Debian's `chromium`, which `.ci/run` installs) driven through its
//! DevTools protocol over a WebSocket: [`Browser::start`] runs it in its own process group
//! with a fresh profile and opens one page; then [`Browser::navigate`], [`Browser::eval`]
//! (a JavaScript expression's value), [`Browser::wait_until`] and [`Browser::screenshot`].
//! The browser reports what the page does as events; those named are kept
//! ([`Browser::events`]). Dropping it kills the process group.

use std::io::{BufRead as _, BufReader};
use std::os::unix::process::CommandExt as _;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine as _;
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::time::{Instant, sleep, timeout};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// The browser's width and height in CSS pixels: the page's screenshot is this size.
pub const VIEWPORT: (u32, u32) = (1100, 800);

/// Chromium's flags for a machine without a display, a sandbox or a network: without the
/// last five it stalls on start, reaching for servers it cannot reach.
const FLAGS: [&str; 8] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
];

/// What Chromium prints to standard error once its DevTools endpoint listens.
const LISTENING: &str = "DevTools listening on ";

/// How long a start, or one answer of the browser, may take (a bound for failures).
const ANSWER_WITHIN: Duration = Duration::from_secs(20);

/// How often [`Browser::wait_until`] asks the page again.
const POLL: Duration = Duration::from_millis(25);

/// A running Chromium with one page open.
pub struct Browser {
    child: Child,
    /// Its profile, removed on drop.
    _profile: tempfile::TempDir,
    devtools: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// The page's DevTools session.
    session: String,
    next_id: u64,
    /// The events of these names the browser has sent, in order.
    kept: Vec<&'static str>,
    pub events: Vec<Value>,
}

impl Browser {
    /// Starts Chromium and opens a blank page of [`VIEWPORT`]'s size; the browser sends the
    /// events named in `keep` (their domains enabled) to [`Browser::events`].
    pub async fn start(keep: &[&'static str]) -> Browser {
        let profile = tempfile::tempdir().expect("a profile directory");
        let mut child = Command::new("chromium")
            .args(FLAGS)
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("--remote-debugging-port=0")
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            // Its own group: Chromium runs a dozen processes, all killed with it.
            .process_group(0)
            .spawn()
            .expect("starting chromium (the Debian package `chromium`)");
        let url = devtools_url(child.stderr.take().expect("stderr")).await;
        let (devtools, _) = tokio_tungstenite::connect_async(&url)
            .await
            .unwrap_or_else(|e| panic!("connecting to {url}: {e}"));
        let mut browser = Browser {
            child,
            _profile: profile,
            devtools,
            session: String::new(),
            next_id: 0,
            kept: keep.to_vec(),
            events: Vec::new(),
        };
        let target = browser
            .call("Target.createTarget", json!({"url": "about:blank"}))
            .await;
        let attached = browser
            .call(
                "Target.attachToTarget",
                json!({"targetId": target["targetId"], "flatten": true}),
            )
            .await;
        browser.session = attached["sessionId"].as_str().expect("a session").into();
        let (width, height) = VIEWPORT;
        let metrics =
            json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false});
        browser
            .call("Emulation.setDeviceMetricsOverride", metrics)
            .await;
        for domain in keep.iter().filter_map(|event| event.split_once('.')) {
            browser
                .call(&format!("{}.enable", domain.0), json!({}))
                .await;
        }
        browser
    }

    /// Sends `method` (to the page, once there is one) and returns its result; panics on an
    /// error. Events that arrive meanwhile are kept if named.
    pub async fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut command = json!({"id": id, "method": method, "params": params});
        if !self.session.is_empty() {
            command["sessionId"] = json!(self.session);
        }
        self.devtools
            .send(Message::text(command.to_string()))
            .await
            .unwrap_or_else(|e| panic!("sending {method}: {e}"));
        let answer = timeout(ANSWER_WITHIN, async {
            loop {
                let message = self.devtools.next().await;
                let Some(Ok(Message::Text(text))) = message else {
                    panic!("the browser's DevTools socket ended: {message:?}");
                };
                let message: Value = serde_json::from_str(&text).expect("DevTools sends JSON");
                if message["id"] == id {
                    return message;
                }
                let event = message["method"].as_str().unwrap_or_default();
                if self.kept.contains(&event) {
                    self.events.push(message);
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("{method}: no answer within {ANSWER_WITHIN:?}"));
        if !answer["error"].is_null() {
            panic!("{method}: {}", answer["error"]);
        }
        answer["result"].clone()
    }

    /// Opens `url` in the page and waits for it to have loaded.
    pub async fn navigate(&mut self, url: &str) {
        self.call("Page.navigate", json!({"url": url})).await;
        self.wait_until("the page loads", "document.readyState === 'complete'")
            .await;
    }

    /// The value of the JavaScript `expression` in the page (a promise awaited); panics
    /// when it throws.
    pub async fn eval(&mut self, expression: &str) -> Value {
        let params = json!({"expression": expression, "returnByValue": true, "awaitPromise": true});
        let result = self.call("Runtime.evaluate", params).await;
        if let Some(exception) = result.get("exceptionDetails") {
            panic!("{expression} threw: {exception}");
        }
        result["result"]["value"].clone()
    }

    /// Waits (at most a minute) until `expression` is true in the page; panics with `what`
    /// otherwise.
    pub async fn wait_until(&mut self, what: &str, expression: &str) {
        let deadline = Instant::now() + super::WITHIN;
        while self.eval(expression).await != json!(true) {
            assert!(Instant::now() < deadline, "{what}: never ({expression})");
            sleep(POLL).await;
        }
    }

    /// The page as a PNG of [`VIEWPORT`]'s size.
    pub async fn screenshot(&mut self) -> Vec<u8> {
        let shot = self
            .call("Page.captureScreenshot", json!({"format": "png"}))
            .await;
        base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().expect("data"))
            .expect("base64")
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // The group Chromium leads (its id is Chromium's), so its helpers go too.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.wait();
    }
}

/// The DevTools WebSocket URL Chromium prints on its standard error; a thread keeps reading
/// it afterwards, so Chromium never blocks on a full pipe.
async fn devtools_url(stderr: std::process::ChildStderr) -> String {
    let (url_tx, url_rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let mut url_tx = Some(url_tx);
        let mut seen = Vec::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(url) = line.strip_prefix(LISTENING) {
                if let Some(tx) = url_tx.take() {
                    let _ = tx.send(Ok(url.trim().to_owned()));
                }
            } else if url_tx.is_some() {
                seen.push(line);
            }
        }
        if let Some(tx) = url_tx {
            let _ = tx.send(Err(seen));
        }
    });
    match timeout(ANSWER_WITHIN, url_rx).await {
        Ok(Ok(Ok(url))) => url,
        Ok(Ok(Err(lines))) => panic!("chromium ended before listening:\n{}", lines.join("\n")),
        Ok(Err(_)) => panic!("chromium's stderr reader ended"),
        Err(_) => panic!("chromium did not listen within {ANSWER_WITHIN:?}"),
    }
}
