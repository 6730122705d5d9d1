//! TLS on both listeners, with certificates made here: a client trusting the certificate
//! gets both streams over `wss://` and the API root over `https://`; a renewed certificate
//! is served to new connections while an established subscriber keeps receiving; a bad key
//! (missing, not PEM, another certificate's) is one line and exit status 2.

use std::ffi::OsStr;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout};
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_tungstenite::WebSocketStream;

use planetmint_stream::server::{RELOAD_POLL, ServerSettings, TlsSettings};

use crate::support::*;

type TlsClient = WebSocketStream<TlsStream<TcpStream>>;

/// A new self-signed certificate for `localhost`, written to `dir` as `cert.pem` and
/// `key.pem`; returns what a client must trust.
fn write_certificate(dir: &Path) -> CertificateDer<'static> {
    let made =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("a certificate");
    std::fs::write(dir.join("cert.pem"), made.cert.pem()).expect("writing the certificate");
    std::fs::write(dir.join("key.pem"), made.signing_key.serialize_pem()).expect("writing the key");
    made.cert.der().clone()
}

fn trusting(cert: &CertificateDer<'static>) -> TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.clone()).expect("a root");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    TlsConnector::from(Arc::new(config))
}

/// A `wss://` client of `path`, trusting only `cert`; the error when the handshake (TLS
/// or WebSocket) fails.
async fn try_wss(
    addr: SocketAddr,
    path: &str,
    cert: &CertificateDer<'static>,
) -> Result<TlsClient, String> {
    let attempt = async {
        let tcp = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
        let name = ServerName::try_from("localhost").expect("a name");
        let tls = trusting(cert)
            .connect(name, tcp)
            .await
            .map_err(|e| e.to_string())?;
        let url = format!("wss://localhost:{}{path}", addr.port());
        let (client, _) = tokio_tungstenite::client_async(url, tls)
            .await
            .map_err(|e| e.to_string())?;
        Ok(client)
    };
    timeout(Duration::from_secs(5), attempt)
        .await
        .unwrap_or_else(|_| panic!("connecting to {path} over TLS: no answer in 5 s"))
}

/// The API root over `https://`, trusting only `cert`.
async fn https_root(api: SocketAddr, cert: &CertificateDer<'static>) -> Value {
    let http = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_der(cert).expect("a root"))
        .resolve("localhost", api)
        .build()
        .expect("an HTTPS client");
    let response = timeout(
        Duration::from_secs(5),
        http.get(format!("https://localhost:{}/", api.port()))
            .send(),
    )
    .await
    .expect("GET / timed out")
    .expect("GET / over https");
    assert_eq!(response.status(), 200);
    serde_json::from_str(&response.text().await.expect("body")).expect("JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_streams_over_wss_and_a_renewed_certificate_keeps_subscribers() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let first = write_certificate(dir.path());
    let args = ServerSettings {
        tls: Some(TlsSettings {
            cert: dir.path().join("cert.pem"),
            key: dir.path().join("key.pem"),
        }),
        advertised_ws_url: "wss://localhost:9985".into(),
        ..server_args()
    };
    let (node, service) = node_and_service(CHAIN, args).await;
    let root = https_root(service.api, &first).await;
    assert!(
        root["api"]["v1"]["streams"]
            .as_str()
            .is_some_and(|url| url.starts_with("wss://")),
        "{root}"
    );
    assert!(
        TcpStream::connect(service.ws).await.is_ok()
            && try_connect(service.ws, BLOCKS).await.is_err(),
        "a plain ws:// client must not get a stream"
    );
    let mut blocks = try_wss(service.ws, BLOCKS, &first)
        .await
        .expect("wss:// blocks");
    let mut txs = try_wss(service.ws, TXS, &first)
        .await
        .expect("wss:// transactions");
    // Up to two blocks before the chains' big one: enough for transactions, and quick.
    let (start, renewal) = (node.current_height(), BEFORE_BIG - 2);
    node.produce_until(renewal);
    let got = collect_texts(&mut blocks, (renewal - start) as usize, WITHIN).await;
    assert_eq!(heights(&got), (start + 1..=renewal).collect::<Vec<_>>());
    let texts = collect_texts(&mut txs, 1, WITHIN).await;
    assert_eq!(texts.len(), 1, "no transaction frame over wss://");

    let renewed = write_certificate(dir.path());
    let deadline = Instant::now() + RELOAD_POLL * 5;
    let mut renewed_client = loop {
        match try_wss(service.ws, BLOCKS, &renewed).await {
            Ok(client) => break client,
            Err(error) => assert!(
                Instant::now() < deadline,
                "renewed certificate not served: {error}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(
        try_wss(service.ws, BLOCKS, &first).await.is_err(),
        "new connections still get the old certificate"
    );
    https_root(service.api, &renewed).await;
    node.produce_until(BEFORE_BIG);
    let after = [renewal + 1, BEFORE_BIG];
    let got = collect_texts(&mut blocks, 2, WITHIN).await;
    assert_eq!(heights(&got), after, "the established subscriber");
    let got = collect_texts(&mut renewed_client, 2, WITHIN).await;
    assert_eq!(heights(&got), after, "the new subscriber");
    service.shut_down().await;
}

/// A key that is missing, not PEM, or of another certificate: one line naming the file
/// and what is wrong, exit status 2, before anything is served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_key_exits_2_with_one_line() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let other = tempfile::tempdir().expect("a temporary directory");
    write_certificate(dir.path());
    write_certificate(other.path());
    let not_pem = dir.path().join("not.pem");
    std::fs::write(&not_pem, "not a key\n").expect("writing the file");
    let cert = dir.path().join("cert.pem");
    let cases = [
        (dir.path().join("missing.pem"), "No such file"),
        (not_pem, "not a PEM file"),
        (other.path().join("key.pem"), "does not fit"),
    ];
    for (key, says) in cases {
        let data = dir.path().join("data");
        let args = [
            OsStr::new("serve"),
            "--data-dir".as_ref(),
            data.as_os_str(),
            "--tls-cert".as_ref(),
            cert.as_os_str(),
            "--tls-key".as_ref(),
            key.as_os_str(),
        ];
        assert_refuses_file(args, &key, says).await;
    }
}
