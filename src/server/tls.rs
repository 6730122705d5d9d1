//! TLS on both listeners: the certificate and key files, and their reload.
//!
//! In: [`TlsSettings`] (two PEM files), the shutdown token. Out: a [`Tls`] (loaded at bind
//! time, so a bad file is refused before anything is served) whose acceptor the accept
//! loops handshake with (under their deadline, see `accept`), and [`Tls::watch`], which
//! reloads the files when they change: new connections get the new certificate,
//! established ones keep theirs.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use rustls::ServerConfig;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::{self, PemObject as _};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

/// How often the files are checked for a change. Renewal tools replace certificates days
/// before they expire, so seconds of delay cost nothing, and a `stat` of two files every
/// few seconds costs nothing either (unlike a file-watching dependency).
pub const RELOAD_POLL: Duration = Duration::from_secs(2);

/// Where the certificate chain and its private key are (PEM).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    pub cert: PathBuf,
    pub key: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error("{path} is not a PEM file of what it should hold: {source}")]
    Pem { path: PathBuf, source: pem::Error },
    #[error("{0} holds no certificate")]
    NoCertificate(PathBuf),
    #[error("the key {key} does not fit the certificate {cert}: {source}")]
    Key {
        cert: PathBuf,
        key: PathBuf,
        source: rustls::Error,
    },
}

/// The certificate served now, and what serves it.
pub struct Tls {
    pub acceptor: TlsAcceptor,
    certificates: Arc<Certificates>,
    /// The files as they were when read: a change after that is reloaded.
    loaded: Stamp,
}

impl Tls {
    /// Reads both files; the error says which is wrong and how.
    pub async fn load(settings: &TlsSettings) -> Result<Self, TlsError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let (key, loaded) = read_key(settings, &provider).await?;
        let certificates = Arc::new(Certificates {
            settings: settings.clone(),
            provider: provider.clone(),
            current: RwLock::new(Arc::new(key)),
        });
        let config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("the ring provider supports the default protocol versions")
            .with_no_client_auth()
            .with_cert_resolver(certificates.clone());
        Ok(Tls {
            acceptor: TlsAcceptor::from(Arc::new(config)),
            certificates,
            loaded,
        })
    }

    /// Reloads the files whenever they change, until `shutdown`. A change that cannot be
    /// loaded (a half-written file, a key for another certificate) is logged and the
    /// current certificate kept; the next change is tried again.
    pub async fn watch(self, shutdown: CancellationToken) {
        let certificates = self.certificates;
        let mut seen = self.loaded;
        let mut poll = tokio::time::interval(RELOAD_POLL);
        poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                _ = poll.tick() => {}
            }
            let now = stamp(&certificates.settings).await;
            if now == seen {
                continue;
            }
            seen = now;
            match read_key(&certificates.settings, &certificates.provider).await {
                Ok((key, _)) => {
                    *certificates.current.write().expect("never poisoned") = Arc::new(key);
                    info!(cert = %certificates.settings.cert.display(), "TLS certificate reloaded");
                }
                Err(error) => {
                    warn!(%error, "TLS certificate not reloaded; serving the previous one")
                }
            }
        }
    }
}

/// The files' modification times and lengths: what changes when either is rewritten.
type Stamp = [Option<(SystemTime, u64)>; 2];

async fn stamp(settings: &TlsSettings) -> Stamp {
    let of = |path: &Path| {
        let path = path.to_owned();
        async move {
            let meta = tokio::fs::metadata(path).await.ok()?;
            Some((meta.modified().ok()?, meta.len()))
        }
    };
    [of(&settings.cert).await, of(&settings.key).await]
}

async fn read_key(
    settings: &TlsSettings,
    provider: &CryptoProvider,
) -> Result<(CertifiedKey, Stamp), TlsError> {
    let before = stamp(settings).await;
    let (cert_pem, key_pem) = (read(&settings.cert).await?, read(&settings.key).await?);
    let pem_error = |path: &PathBuf| {
        let path = path.clone();
        move |source| TlsError::Pem { path, source }
    };
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(pem_error(&settings.cert))?;
    if chain.is_empty() {
        return Err(TlsError::NoCertificate(settings.cert.clone()));
    }
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(pem_error(&settings.key))?;
    let certified =
        CertifiedKey::from_der(chain, key, provider).map_err(|source| TlsError::Key {
            cert: settings.cert.clone(),
            key: settings.key.clone(),
            source,
        })?;
    Ok((certified, before))
}

async fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    tokio::fs::read(path)
        .await
        .map_err(|source| TlsError::Read {
            path: path.to_owned(),
            source,
        })
}

/// What every handshake is answered with: the certificate loaded last.
#[derive(Debug)]
struct Certificates {
    settings: TlsSettings,
    provider: Arc<CryptoProvider>,
    current: RwLock<Arc<CertifiedKey>>,
}

impl ResolvesServerCert for Certificates {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current.read().expect("never poisoned").clone())
    }
}
