//! HTTP and TCP probes of the services a user lists in the config: is it up, how fast, what
//! did it answer.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::health::{Check, Status};

/// One probe from the config (`[[probes]]`): `kind = "http"` with `url` (and optionally
/// `expect_status`), or `kind = "tcp"` with `address`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ProbeSpec {
    /// The service this probe speaks for; probes of one service are reported together.
    pub service: String,
    /// `http` or `tcp`.
    pub kind: ProbeKind,
    /// For `http`: the URL to GET; healthy on a 2xx or 3xx, or on `expect_status`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// For `http`: the status that counts as healthy, if not any 2xx/3xx.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect_status: Option<u16>,
    /// For `tcp`: `host:port` to connect to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Give up after this many milliseconds (default 2000).
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// A response slower than this many milliseconds is degraded (default 1000).
    #[serde(default = "default_slow_ms")]
    pub slow_ms: u64,
}

/// How a probe reaches its service.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ProbeKind {
    /// An HTTP GET.
    Http,
    /// A TCP connect.
    Tcp,
}

/// A probe that cannot run as written.
#[derive(Debug, thiserror::Error)]
#[error("probe for service '{service}': {problem}")]
pub struct InvalidProbe {
    service: String,
    problem: &'static str,
}

fn default_timeout_ms() -> u64 {
    2000
}

fn default_slow_ms() -> u64 {
    1000
}

impl ProbeSpec {
    /// Checks that the probe names what its kind needs.
    pub fn validate(&self) -> Result<(), InvalidProbe> {
        let problem = match (self.kind, &self.url, &self.address) {
            (ProbeKind::Http, None, _) => "kind = \"http\" needs url = \"http://…\"",
            (ProbeKind::Http, Some(u), _)
                if !u.starts_with("http://") && !u.starts_with("https://") =>
            {
                "url must start with http:// or https://"
            }
            (ProbeKind::Tcp, _, None) => "kind = \"tcp\" needs address = \"host:port\"",
            _ => return Ok(()),
        };
        Err(InvalidProbe {
            service: self.service.clone(),
            problem,
        })
    }

    /// Runs the probe once and judges it.
    pub async fn run(&self, http: &reqwest::Client) -> Check {
        self.probe(http).await.check
    }

    /// Runs the probe once: the verdict, how it failed, and for HTTPS the certificate's days
    /// left.
    pub async fn probe(&self, http: &reqwest::Client) -> ProbeResult {
        let timeout = Duration::from_millis(self.timeout_ms);
        let started = Instant::now();
        let mut cert_days_left = None;
        let (name, outcome) = match (self.kind, &self.url, &self.address) {
            (ProbeKind::Http, Some(url), _) => {
                if let Some(rest) = url.strip_prefix("https://") {
                    cert_days_left = tls::days_left(rest, timeout).await;
                }
                let expect_status = &self.expect_status;
                let outcome = match http.get(url).timeout(timeout).send().await {
                    Ok(resp) => {
                        let code = resp.status().as_u16();
                        let good = match expect_status {
                            Some(expected) => code == *expected,
                            None => resp.status().is_success() || resp.status().is_redirection(),
                        };
                        if good {
                            Ok(format!("HTTP {code}"))
                        } else {
                            Err((Outcome::Status(code), format!("HTTP {code} from {url}")))
                        }
                    }
                    Err(e) if e.is_timeout() => Err((
                        Outcome::Timeout,
                        format!("no answer from {url} within {} ms", self.timeout_ms),
                    )),
                    Err(e) => {
                        let chain = error_chain(&e);
                        let kind = classify(&e, &chain);
                        Err((kind, format!("GET {url}: {}", kind.says(&chain))))
                    }
                };
                (format!("http {url}"), outcome)
            }
            (ProbeKind::Tcp, _, Some(address)) => {
                let connect = tokio::net::TcpStream::connect(address.as_str());
                let outcome = match tokio::time::timeout(timeout, connect).await {
                    Ok(Ok(_)) => Ok("connected".to_string()),
                    Ok(Err(e)) => Err((
                        classify(&e, &e.to_string()),
                        format!("connect to {address} failed: {e}"),
                    )),
                    Err(_) => Err((
                        Outcome::Timeout,
                        format!("no connection to {address} within {} ms", self.timeout_ms),
                    )),
                };
                (format!("tcp {address}"), outcome)
            }
            _ => (
                format!("{:?} probe", self.kind).to_lowercase(),
                Err((
                    Outcome::Other,
                    self.validate()
                        .err()
                        .map(|e| e.to_string())
                        .unwrap_or_default(),
                )),
            ),
        };
        let ms = (started.elapsed().as_secs_f64() * 1000.0 * 10.0).round() / 10.0;
        let (status, message, outcome) = match outcome {
            Ok(what) if ms > self.slow_ms as f64 => (
                Status::Degraded,
                format!("{what}, but slow: {ms} ms (slow above {} ms)", self.slow_ms),
                Outcome::Ok,
            ),
            Ok(what) => (Status::Healthy, format!("{what} in {ms} ms"), Outcome::Ok),
            Err((kind, why)) => (Status::Unhealthy, why, kind),
        };
        ProbeResult {
            check: Check {
                backlog: false,
                felt: true,
                name,
                status,
                value: ms,
                unit: "ms".into(),
                warning_at: Some(self.slow_ms as f64),
                critical_at: None,
                message,
            },
            outcome,
            cert_days_left,
        }
    }
}

/// One run of a probe.
#[derive(Debug, Clone)]
pub struct ProbeResult {
    /// The verdict, with the latency as its value.
    pub check: Check,
    /// How it ended.
    pub outcome: Outcome,
    /// For HTTPS: days until the served certificate expires (negative once it has).
    pub cert_days_left: Option<f64>,
}

/// How a probe ended: the kinds of failure an on-call engineer tells apart, because each
/// points somewhere else (nothing listening, overloaded, wrong answer, bad certificate, name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// It answered as expected.
    Ok,
    /// Nothing listens: the connection was refused or reset.
    Refused,
    /// No answer in time.
    Timeout,
    /// An HTTP answer with an unexpected status.
    Status(u16),
    /// The TLS handshake failed (expired, untrusted or mismatched certificate).
    Tls,
    /// The name did not resolve.
    Dns,
    /// Anything else.
    Other,
}

impl Outcome {
    /// Its name in evidence (`refused`, `timeout`, `http-503`, `tls`, `dns`).
    pub fn describe(self) -> String {
        match self {
            Outcome::Status(code) => format!("http-{code}"),
            other => serde_json::to_value(other)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
        }
    }
}

impl Outcome {
    /// A failure in the words an on-call engineer uses, the client's error chain kept only
    /// where no kind was recognised (its first links are the client's own wording, "error
    /// sending request for url", which says nothing).
    fn says(self, chain: &str) -> String {
        match self {
            Outcome::Refused => "connection refused: nothing listens there".into(),
            Outcome::Timeout => "no answer in time".into(),
            Outcome::Tls => format!("the TLS handshake failed ({})", causes(chain)),
            Outcome::Dns => format!("the name did not resolve ({})", causes(chain)),
            Outcome::Status(code) => format!("HTTP {code}"),
            Outcome::Ok | Outcome::Other => chain.to_string(),
        }
    }
}

/// An error chain without its first link, the client's own "could not send" wording.
fn causes(chain: &str) -> &str {
    chain.split_once(": ").map_or(chain, |(_, rest)| rest)
}

/// Every message of an error's source chain, so the underlying cause is shown.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

/// The kind of a connection failure, from the I/O error where there is one and the words of
/// the chain otherwise (TLS and resolver errors carry no I/O kind).
fn classify(e: &(dyn std::error::Error + 'static), chain: &str) -> Outcome {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind::*;
            match io.kind() {
                ConnectionRefused | ConnectionReset | ConnectionAborted => {
                    return Outcome::Refused;
                }
                TimedOut => return Outcome::Timeout,
                _ => {}
            }
        }
        source = s.source();
    }
    let lower = chain.to_ascii_lowercase();
    if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake") {
        Outcome::Tls
    } else if lower.contains("dns") || lower.contains("lookup") || lower.contains("resolve") {
        Outcome::Dns
    } else if lower.contains("refused") || lower.contains("reset by peer") {
        Outcome::Refused
    } else {
        Outcome::Other
    }
}

/// Reading the certificate an HTTPS endpoint serves, whether or not it is valid: an expired
/// one is exactly what a probe must report, with its date.
mod tls {
    use std::{sync::Arc, time::Duration};

    use rustls::{
        DigitallySignedStruct, SignatureScheme,
        client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier},
        pki_types::{CertificateDer, ServerName, UnixTime},
    };

    /// Days until the certificate served at `host[:port]/…` expires; `None` when no TLS
    /// handshake could be made in time.
    pub(super) async fn days_left(rest: &str, timeout: Duration) -> Option<f64> {
        let authority = rest.split(['/', '?', '#']).next()?;
        let authority = authority.rsplit('@').next()?;
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || authority.starts_with('[') => {
                (h.trim_matches(['[', ']']), p.parse().ok()?)
            }
            _ => (authority.trim_matches(['[', ']']), 443u16),
        };
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .ok()?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAny(provider)))
            .with_no_client_auth();
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let name = ServerName::try_from(host.to_string()).ok()?;
        let handshake = async {
            let tcp = tokio::net::TcpStream::connect((host, port)).await.ok()?;
            connector.connect(name, tcp).await.ok()
        };
        let stream = tokio::time::timeout(timeout, handshake).await.ok()??;
        let (_, session) = stream.get_ref();
        let leaf = session.peer_certificates()?.first()?;
        let (_, cert) = x509_parser::parse_x509_certificate(leaf.as_ref()).ok()?;
        let not_after = cert.validity().not_after.timestamp();
        let now = jiff::Timestamp::now().as_second();
        Some(((not_after - now) as f64 / 86_400.0 * 100.0).round() / 100.0)
    }

    /// Accepts any certificate: this connection only reads the certificate's dates and sends
    /// nothing.
    #[derive(Debug)]
    struct AcceptAny(Arc<rustls::crypto::CryptoProvider>);

    impl ServerCertVerifier for AcceptAny {
        fn verify_server_cert(
            &self,
            _end_entity: &CertificateDer<'_>,
            _intermediates: &[CertificateDer<'_>],
            _server_name: &ServerName<'_>,
            _ocsp_response: &[u8],
            _now: UnixTime,
        ) -> Result<ServerCertVerified, rustls::Error> {
            Ok(ServerCertVerified::assertion())
        }

        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls12_signature(
                message,
                cert,
                dss,
                &self.0.signature_verification_algorithms,
            )
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls13_signature(
                message,
                cert,
                dss,
                &self.0.signature_verification_algorithms,
            )
        }

        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.0.signature_verification_algorithms.supported_schemes()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probes_parse_from_toml() {
        #[derive(Debug, Deserialize)]
        struct Config {
            probes: Vec<ProbeSpec>,
        }
        let c: Config = toml_like(
            r#"{"probes":[{"service":"api","kind":"http","url":"http://127.0.0.1:1/health"},
                          {"service":"db","kind":"tcp","address":"127.0.0.1:5432","timeout_ms":500}]}"#,
        );
        assert_eq!(c.probes[1].timeout_ms, 500);
        assert_eq!(c.probes[0].kind, ProbeKind::Http);
        assert!(c.probes.iter().all(|p| p.validate().is_ok()));
        let typo: Result<Config, _> = serde_json::from_str(
            r#"{"probes":[{"service":"api","kind":"http","ulr":"http://x"}]}"#,
        );
        assert!(typo.unwrap_err().to_string().contains("ulr"));
        let missing: Config = toml_like(r#"{"probes":[{"service":"db","kind":"tcp"}]}"#);
        assert!(
            missing.probes[0]
                .validate()
                .unwrap_err()
                .to_string()
                .contains("address")
        );
    }

    fn toml_like<T: serde::de::DeserializeOwned>(json: &str) -> T {
        serde_json::from_str(json).unwrap()
    }

    #[tokio::test]
    async fn a_closed_port_is_unhealthy_and_an_open_one_healthy() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let open = listener.local_addr().unwrap().to_string();
        drop(listener);
        let closed = ProbeSpec {
            service: "x".into(),
            kind: ProbeKind::Tcp,
            url: None,
            expect_status: None,
            address: Some(open),
            timeout_ms: 500,
            slow_ms: 400,
        };
        let check = closed.run(&reqwest::Client::new()).await;
        assert_eq!(check.status, Status::Unhealthy, "{}", check.message);

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let up = ProbeSpec {
            address: Some(listener.local_addr().unwrap().to_string()),
            ..closed
        };
        let check = up.run(&reqwest::Client::new()).await;
        assert_ne!(check.status, Status::Unhealthy, "{}", check.message);
    }

    /// An HTTP probe of a port nothing listens on says so in plain words, not in the HTTP
    /// client's "error sending request for url".
    #[tokio::test]
    async fn a_dead_http_endpoint_reads_connection_refused() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/health", listener.local_addr().unwrap());
        drop(listener);
        let dead = ProbeSpec {
            service: "x".into(),
            kind: ProbeKind::Http,
            url: Some(url.clone()),
            expect_status: None,
            address: None,
            timeout_ms: 500,
            slow_ms: 400,
        };
        let result = dead.probe(&reqwest::Client::new()).await;
        assert_eq!(result.outcome, Outcome::Refused);
        assert_eq!(
            result.check.message,
            format!("GET {url}: connection refused: nothing listens there")
        );
    }
}
