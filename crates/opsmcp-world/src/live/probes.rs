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
        let timeout = Duration::from_millis(self.timeout_ms);
        let started = Instant::now();
        let (name, outcome) = match (self.kind, &self.url, &self.address) {
            (ProbeKind::Http, Some(url), _) => {
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
                            Err(format!("HTTP {code} from {url}"))
                        }
                    }
                    Err(e) if e.is_timeout() => Err(format!(
                        "no answer from {url} within {} ms",
                        self.timeout_ms
                    )),
                    Err(e) => Err(format!("GET {url} failed: {e}")),
                };
                (format!("http {url}"), outcome)
            }
            (ProbeKind::Tcp, _, Some(address)) => {
                let connect = tokio::net::TcpStream::connect(address.as_str());
                let outcome = match tokio::time::timeout(timeout, connect).await {
                    Ok(Ok(_)) => Ok("connected".to_string()),
                    Ok(Err(e)) => Err(format!("connect to {address} failed: {e}")),
                    Err(_) => Err(format!(
                        "no connection to {address} within {} ms",
                        self.timeout_ms
                    )),
                };
                (format!("tcp {address}"), outcome)
            }
            _ => (
                format!("{:?} probe", self.kind).to_lowercase(),
                Err(self
                    .validate()
                    .err()
                    .map(|e| e.to_string())
                    .unwrap_or_default()),
            ),
        };
        let ms = (started.elapsed().as_secs_f64() * 1000.0 * 10.0).round() / 10.0;
        let (status, message) = match outcome {
            Ok(what) if ms > self.slow_ms as f64 => (
                Status::Degraded,
                format!("{what}, but slow: {ms} ms (slow above {} ms)", self.slow_ms),
            ),
            Ok(what) => (Status::Healthy, format!("{what} in {ms} ms")),
            Err(why) => (Status::Unhealthy, why),
        };
        Check {
            name,
            status,
            value: ms,
            unit: "ms".into(),
            warning_at: Some(self.slow_ms as f64),
            critical_at: None,
            message,
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
}
