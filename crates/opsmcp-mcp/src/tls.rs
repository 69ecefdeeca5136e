//! HTTPS: rustls with a certificate chain and key from PEM files, reloaded on SIGHUP or when
//! either file changes, without dropping a connection — connections made before a reload keep
//! the certificate they shook hands with; new ones get the new one. A reload that fails (a
//! half-written file, a key that does not match) keeps the certificate in use and logs why.

use std::{
    io,
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::{Arc, RwLock},
    time::{Duration, SystemTime},
};

use rustls::{
    ServerConfig,
    crypto::aws_lc_rs,
    pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject},
    server::{ClientHello, ResolvesServerCert},
    sign::CertifiedKey,
};
use tokio::{
    net::{TcpListener, TcpStream},
    sync::mpsc,
};
use tokio_rustls::{TlsAcceptor, server::TlsStream};
use tokio_util::sync::CancellationToken;

/// Where the certificate and key are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    /// PEM certificate chain, leaf first.
    pub cert: PathBuf,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// Why a certificate could not be loaded.
#[derive(Debug, thiserror::Error)]
#[error("TLS: {0}")]
pub struct TlsError(String);

/// How often the files' modification times are checked.
const WATCH_EVERY: Duration = Duration::from_secs(2);
/// A client that has not finished its handshake by then is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The certificate in use, swapped on reload.
#[derive(Debug)]
struct Reloading {
    settings: TlsSettings,
    current: RwLock<Arc<CertifiedKey>>,
}

impl ResolvesServerCert for Reloading {
    fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(match self.current.read() {
            Ok(c) => c.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        })
    }
}

impl Reloading {
    fn reload(&self) {
        match load(&self.settings) {
            Ok(key) => {
                let mut current = match self.current.write() {
                    Ok(c) => c,
                    Err(poisoned) => poisoned.into_inner(),
                };
                *current = Arc::new(key);
                tracing::info!(cert = %self.settings.cert.display(), "TLS certificate reloaded");
            }
            Err(e) => {
                tracing::error!(error = %e, "TLS reload failed; keeping the certificate in use")
            }
        }
    }
}

fn load(settings: &TlsSettings) -> Result<CertifiedKey, TlsError> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&settings.cert)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| {
            TlsError(format!(
                "cannot read certificates from {}: {e}; give a PEM file with the chain, leaf first",
                settings.cert.display()
            ))
        })?;
    if certs.is_empty() {
        return Err(TlsError(format!(
            "{} holds no PEM certificate",
            settings.cert.display()
        )));
    }
    let key = PrivateKeyDer::from_pem_file(&settings.key).map_err(|e| {
        TlsError(format!(
            "cannot read a private key from {}: {e}; give a PEM key (PKCS#8, PKCS#1 or SEC1)",
            settings.key.display()
        ))
    })?;
    let provider = aws_lc_rs::default_provider();
    let signing = provider.key_provider.load_private_key(key).map_err(|e| {
        TlsError(format!(
            "the key in {} is unusable: {e}",
            settings.key.display()
        ))
    })?;
    let certified = CertifiedKey::new(certs, signing);
    certified.keys_match().map_err(|e| {
        TlsError(format!(
            "the key in {} does not belong to the certificate in {}: {e}",
            settings.key.display(),
            settings.cert.display()
        ))
    })?;
    Ok(certified)
}

/// Loads the certificate and key once, to refuse a bad pair before any port is taken.
pub fn check(settings: &TlsSettings) -> Result<(), TlsError> {
    load(settings).map(|_| ())
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Accepts TCP connections and hands over those that finished a TLS handshake. Handshakes run
/// on their own tasks, so a slow client cannot hold up the others.
pub(crate) struct TlsListener {
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
}

impl TlsListener {
    /// Loads the certificate (failing now if it is unusable) and starts accepting on
    /// `listener` until `stop`; reloads on SIGHUP and on file changes.
    pub(crate) fn start(
        listener: TcpListener,
        settings: &TlsSettings,
        stop: CancellationToken,
    ) -> Result<Self, TlsError> {
        let resolver = Arc::new(Reloading {
            settings: settings.clone(),
            current: RwLock::new(Arc::new(load(settings)?)),
        });
        let mut config =
            ServerConfig::builder_with_provider(Arc::new(aws_lc_rs::default_provider()))
                .with_safe_default_protocol_versions()
                .map_err(|e| TlsError(e.to_string()))?
                .with_no_client_auth()
                .with_cert_resolver(resolver.clone());
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let local = listener.local_addr().map_err(|e| TlsError(e.to_string()))?;
        let (tx, ready) = mpsc::channel(64);

        tokio::spawn(watch(resolver, stop.clone()));
        tokio::spawn(async move {
            loop {
                let (tcp, peer) = tokio::select! {
                    _ = stop.cancelled() => return,
                    accepted = listener.accept() => match accepted {
                        Ok(a) => a,
                        Err(e) => {
                            // Out of file descriptors and the like: back off, as axum does.
                            tracing::warn!(error = %e, "accept failed");
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        }
                    },
                };
                let (acceptor, tx) = (acceptor.clone(), tx.clone());
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                        Ok(Ok(tls)) => {
                            let _ = tx.send((tls, peer)).await;
                        }
                        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                });
            }
        });
        Ok(Self { ready, local })
    }
}

/// Reloads on SIGHUP, and when the files' modification times change.
async fn watch(resolver: Arc<Reloading>, stop: CancellationToken) {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hup = signal(SignalKind::hangup()).ok();
    let stamp = |r: &Reloading| (modified(&r.settings.cert), modified(&r.settings.key));
    let mut seen = stamp(&resolver);
    let mut every = tokio::time::interval(WATCH_EVERY);
    loop {
        let hangup = async {
            match hup.as_mut() {
                Some(h) => h.recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = hangup => {
                seen = stamp(&resolver);
                resolver.reload();
            }
            _ = every.tick() => {
                let now = stamp(&resolver);
                if now != seen {
                    seen = now;
                    resolver.reload();
                }
            }
        }
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(ready) => ready,
            // The accept task ended (shutdown): no more connections.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(self.local)
    }
}
