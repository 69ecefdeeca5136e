//! Prometheus over its HTTP API: instant and range queries, and PromQL templates per signal and
//! service from the config.
//!
//! Most production services already export their request rates, latencies and errors to
//! Prometheus, so the live world reads those signals there instead of measuring them again. The
//! config names each signal once as a PromQL template with a `{service}` placeholder; tools ask
//! for "error_rate of checkout" and never see PromQL.
//!
//! ```toml
//! [prometheus]
//! url = "http://127.0.0.1:9090"
//! timeout_ms = 5000
//! services = ["checkout", "payments"]
//!
//! [prometheus.signals]
//! error_rate = 'sum(rate(http_requests_total{service="{service}",code=~"5.."}[5m])) / sum(rate(http_requests_total{service="{service}"}[5m]))'
//! ```

use std::{collections::BTreeMap, time::Duration};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// The placeholder a signal template uses for the service name.
pub const SERVICE_PLACEHOLDER: &str = "{service}";

/// Prometheus answers at most this many points per series in a range query; asking for more is
/// refused before the request is sent, with a step that would fit.
pub const MAX_RANGE_POINTS: u64 = 11_000;

/// The `[prometheus]` section of the config: where Prometheus is and which signals to read.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PrometheusConfig {
    /// Base URL of Prometheus (`http://host:9090`, or with a path prefix behind a proxy).
    pub url: String,
    /// Give up on a query after this many milliseconds (default 5000).
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// The services the templates may be filled in with; any other name is refused.
    #[serde(default)]
    pub services: Vec<String>,
    /// Signal name → PromQL template containing `{service}`.
    #[serde(default)]
    pub signals: BTreeMap<String, String>,
}

fn default_timeout_ms() -> u64 {
    5000
}

/// Everything that can go wrong reading Prometheus, each saying what to check or change.
#[derive(Debug, thiserror::Error)]
pub enum PrometheusError {
    /// The `[prometheus]` section cannot work as written.
    #[error("[prometheus] config: {0}")]
    InvalidConfig(String),
    /// Nothing answered at the configured URL.
    #[error(
        "Prometheus at {url} is unreachable ({detail}); check that Prometheus is running and \
         listening there (try `curl {url}/-/ready`) and that `url` in [prometheus] is right"
    )]
    Unreachable {
        /// The base URL from the config.
        url: String,
        /// What the HTTP client reported.
        detail: String,
    },
    /// Prometheus did not answer in time.
    #[error(
        "Prometheus at {url} did not answer within {timeout_ms} ms; raise `timeout_ms` in \
         [prometheus] or ask for a shorter range or coarser step"
    )]
    Timeout {
        /// The base URL from the config.
        url: String,
        /// The configured timeout.
        timeout_ms: u64,
    },
    /// Prometheus refused or failed the query; `message` is Prometheus's own words.
    #[error("Prometheus rejected the query `{query}` ({error_type}): {message}")]
    Query {
        /// The PromQL sent.
        query: String,
        /// Prometheus's `errorType` (`bad_data`, `execution`, `timeout`, …).
        error_type: String,
        /// Prometheus's `error` text.
        message: String,
    },
    /// Something answered, but not with the Prometheus API.
    #[error(
        "{url} answered HTTP {status} with something that is not the Prometheus API ({detail}); \
         check that `url` in [prometheus] points at Prometheus itself, not at a proxy or login page"
    )]
    NotPrometheus {
        /// The base URL from the config.
        url: String,
        /// The HTTP status received.
        status: u16,
        /// Why the body could not be read.
        detail: String,
    },
    /// The signal is not in `[prometheus.signals]`.
    #[error("no signal '{signal}' in [prometheus.signals]; known signals: {known}")]
    UnknownSignal {
        /// The name asked for.
        signal: String,
        /// The configured names, comma-separated.
        known: String,
    },
    /// The service is not in `[prometheus] services`.
    #[error("service '{service}' is not in [prometheus] services; known services: {known}")]
    UnknownService {
        /// The name asked for.
        service: String,
        /// The configured names, comma-separated.
        known: String,
    },
    /// A range query that Prometheus would refuse or that makes no sense.
    #[error("range query: {0}")]
    InvalidRange(String),
}

impl PrometheusConfig {
    /// Checks everything that can be checked without asking Prometheus: the URL's scheme, a
    /// usable timeout, service names that cannot break out of a PromQL string, and templates
    /// that actually use `{service}`.
    pub fn validate(&self) -> Result<(), PrometheusError> {
        let bad = |m: String| Err(PrometheusError::InvalidConfig(m));
        if !self.url.starts_with("http://") && !self.url.starts_with("https://") {
            return bad(format!(
                "url = \"{}\" must start with http:// or https://",
                self.url
            ));
        }
        if reqwest::Url::parse(&self.url).is_err() {
            return bad(format!("url = \"{}\" is not a valid URL", self.url));
        }
        if self.timeout_ms == 0 {
            return bad("timeout_ms must be at least 1".into());
        }
        for service in &self.services {
            let ok = !service.is_empty()
                && service
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c));
            if !ok {
                return bad(format!(
                    "service name '{service}' may only contain letters, digits, '-', '_', '.' \
                     and ':' (it is pasted into PromQL strings)"
                ));
            }
        }
        for (signal, template) in &self.signals {
            if !template.contains(SERVICE_PLACEHOLDER) {
                return bad(format!(
                    "signal '{signal}' does not contain {SERVICE_PLACEHOLDER}, so it would give \
                     every service the same value; select the service, e.g. \
                     'up{{job=\"{SERVICE_PLACEHOLDER}\"}}'"
                ));
            }
        }
        Ok(())
    }
}

/// One value of a series at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Sample {
    /// When Prometheus evaluated the value (millisecond precision).
    pub at: Timestamp,
    /// The value; may be NaN or ±infinity, as PromQL allows.
    pub value: f64,
}

/// One series of an instant query: its labels and its value now (or at the time asked).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InstantSeries {
    /// The series' labels (`__name__` included when PromQL kept it); empty for a scalar.
    pub labels: BTreeMap<String, String>,
    /// The value.
    pub sample: Sample,
}

/// One series of a range query: its labels and its values, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RangeSeries {
    /// The series' labels.
    pub labels: BTreeMap<String, String>,
    /// The values at each step where the series had one, oldest first.
    pub samples: Vec<Sample>,
}

/// A Prometheus server, queried over its HTTP API.
///
/// Cheap to clone: the HTTP client is shared.
#[derive(Debug, Clone)]
pub struct PrometheusSource {
    config: PrometheusConfig,
    base: String,
    http: reqwest::Client,
}

impl PrometheusSource {
    /// Validates the config and prepares an HTTP client with its timeout. Does not contact
    /// Prometheus: a Prometheus that is down at start is reported by the first query.
    pub fn new(config: PrometheusConfig) -> Result<Self, PrometheusError> {
        config.validate()?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(config.timeout_ms))
            .build()
            .map_err(|e| PrometheusError::InvalidConfig(format!("HTTP client: {e}")))?;
        let base = config.url.trim_end_matches('/').to_string();
        Ok(Self { config, base, http })
    }

    /// The config this source was built from.
    pub fn config(&self) -> &PrometheusConfig {
        &self.config
    }

    /// The PromQL for `signal` of `service`, from the template in the config. Refuses names not
    /// in the config, listing the ones that are.
    pub fn signal_query(&self, signal: &str, service: &str) -> Result<String, PrometheusError> {
        let template =
            self.config
                .signals
                .get(signal)
                .ok_or_else(|| PrometheusError::UnknownSignal {
                    signal: signal.to_string(),
                    known: list(self.config.signals.keys()),
                })?;
        if !self.config.services.iter().any(|s| s == service) {
            return Err(PrometheusError::UnknownService {
                service: service.to_string(),
                known: list(self.config.services.iter()),
            });
        }
        Ok(template.replace(SERVICE_PLACEHOLDER, service))
    }

    /// `signal` of `service` now (or at `at`): the first series' value, which is the value for
    /// the aggregating templates signals are usually written as. `None` when Prometheus has no
    /// data for it.
    pub async fn signal_instant(
        &self,
        signal: &str,
        service: &str,
        at: Option<Timestamp>,
    ) -> Result<Option<Sample>, PrometheusError> {
        let query = self.signal_query(signal, service)?;
        Ok(self
            .instant(&query, at)
            .await?
            .and_then(|series| series.into_iter().next().map(|s| s.sample)))
    }

    /// `signal` of `service` over `[start, end]` every `step`: the first series' samples. `None`
    /// when Prometheus has no data for it.
    pub async fn signal_range(
        &self,
        signal: &str,
        service: &str,
        start: Timestamp,
        end: Timestamp,
        step: Duration,
    ) -> Result<Option<Vec<Sample>>, PrometheusError> {
        let query = self.signal_query(signal, service)?;
        Ok(self
            .range(&query, start, end, step)
            .await?
            .and_then(|series| series.into_iter().next().map(|s| s.samples)))
    }

    /// Runs a PromQL instant query (`/api/v1/query`) now or at `at`. A scalar result comes back
    /// as one series without labels. `None` when the result is empty.
    pub async fn instant(
        &self,
        query: &str,
        at: Option<Timestamp>,
    ) -> Result<Option<Vec<InstantSeries>>, PrometheusError> {
        let mut params = vec![("query", query.to_string())];
        if let Some(at) = at {
            params.push(("time", at.to_string()));
        }
        let data = self.call("/api/v1/query", query, &params).await?;
        let series = match data {
            ApiData::Vector(v) => v
                .into_iter()
                .map(|s| {
                    Ok(InstantSeries {
                        labels: s.metric,
                        sample: sample(s.value, query)?,
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
            ApiData::Scalar(v) => vec![InstantSeries {
                labels: BTreeMap::new(),
                sample: sample(v, query)?,
            }],
            ApiData::Matrix(_) => {
                return Err(not_a_number(
                    query,
                    "a range vector; use range() or wrap it in a function",
                ));
            }
            ApiData::String(_) => return Err(not_a_number(query, "a string")),
        };
        Ok((!series.is_empty()).then_some(series))
    }

    /// Runs a PromQL range query (`/api/v1/query_range`) over `[start, end]` every `step`.
    /// `None` when no series had a value in the range.
    pub async fn range(
        &self,
        query: &str,
        start: Timestamp,
        end: Timestamp,
        step: Duration,
    ) -> Result<Option<Vec<RangeSeries>>, PrometheusError> {
        if end < start {
            return Err(PrometheusError::InvalidRange(format!(
                "end {end} is before start {start}; swap them"
            )));
        }
        let step_ms = step.as_millis();
        if step_ms == 0 {
            return Err(PrometheusError::InvalidRange(
                "step must be at least 1 ms".into(),
            ));
        }
        let span_ms = u128::try_from(end.duration_since(start).as_millis()).unwrap_or(0);
        let points = span_ms / step_ms + 1;
        if points > u128::from(MAX_RANGE_POINTS) {
            let min_step_s = span_ms
                .div_ceil(u128::from(MAX_RANGE_POINTS - 1))
                .div_ceil(1000);
            return Err(PrometheusError::InvalidRange(format!(
                "{points} points per series is more than Prometheus's {MAX_RANGE_POINTS}; use a \
                 step of at least {min_step_s} s or a shorter range"
            )));
        }
        let params = [
            ("query", query.to_string()),
            ("start", start.to_string()),
            ("end", end.to_string()),
            ("step", format!("{}", step.as_secs_f64())),
        ];
        let data = self.call("/api/v1/query_range", query, &params).await?;
        let series = match data {
            ApiData::Matrix(m) => m
                .into_iter()
                .map(|s| {
                    Ok(RangeSeries {
                        labels: s.metric,
                        samples: s
                            .values
                            .into_iter()
                            .map(|v| sample(v, query))
                            .collect::<Result<_, _>>()?,
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
            _ => return Err(not_a_number(query, "something other than a matrix")),
        };
        let series: Vec<_> = series
            .into_iter()
            .filter(|s| !s.samples.is_empty())
            .collect();
        Ok((!series.is_empty()).then_some(series))
    }

    /// Sends one API request and turns every failure into an error that says what to check.
    async fn call(
        &self,
        path: &str,
        query: &str,
        params: &[(&str, String)],
    ) -> Result<ApiData, PrometheusError> {
        let mut url = reqwest::Url::parse(&format!("{}{path}", self.base))
            .map_err(|e| PrometheusError::InvalidConfig(format!("url: {e}")))?;
        url.query_pairs_mut()
            .extend_pairs(params.iter().map(|(k, v)| (*k, v.as_str())));
        let response = self.http.get(url).send().await.map_err(|e| {
            if e.is_timeout() {
                PrometheusError::Timeout {
                    url: self.base.clone(),
                    timeout_ms: self.config.timeout_ms,
                }
            } else {
                PrometheusError::Unreachable {
                    url: self.base.clone(),
                    detail: error_chain(&e),
                }
            }
        })?;
        let status = response.status().as_u16();
        let body = response.bytes().await.map_err(|e| {
            if e.is_timeout() {
                PrometheusError::Timeout {
                    url: self.base.clone(),
                    timeout_ms: self.config.timeout_ms,
                }
            } else {
                PrometheusError::Unreachable {
                    url: self.base.clone(),
                    detail: error_chain(&e),
                }
            }
        })?;
        let envelope: ApiResponse =
            serde_json::from_slice(&body).map_err(|e| PrometheusError::NotPrometheus {
                url: self.base.clone(),
                status,
                detail: format!("body is not Prometheus JSON: {e}"),
            })?;
        match envelope {
            ApiResponse {
                status: ApiStatus::Success,
                data: Some(data),
                ..
            } => Ok(data),
            ApiResponse {
                status: ApiStatus::Success,
                data: None,
                ..
            } => Err(PrometheusError::NotPrometheus {
                url: self.base.clone(),
                status,
                detail: "success without data".into(),
            }),
            ApiResponse {
                status: ApiStatus::Error,
                error_type,
                error,
                ..
            } => Err(PrometheusError::Query {
                query: query.to_string(),
                error_type: error_type.unwrap_or_else(|| format!("HTTP {status}")),
                message: error.unwrap_or_else(|| "(no message)".into()),
            }),
        }
    }
}

/// The names joined for an error message, or a hint when there are none.
fn list<'a>(names: impl Iterator<Item = &'a String>) -> String {
    let names: Vec<&str> = names.map(String::as_str).collect();
    if names.is_empty() {
        "none configured".into()
    } else {
        names.join(", ")
    }
}

/// The error with its causes: reqwest's top-level message alone ("error sending request") does
/// not say that the connection was refused.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn not_a_number(query: &str, what: &str) -> PrometheusError {
    PrometheusError::Query {
        query: query.to_string(),
        error_type: "unexpected_result".into(),
        message: format!("the query returned {what}, not numbers"),
    }
}

/// Turns Prometheus's `[<unix seconds>, "<value>"]` into a [`Sample`].
fn sample(raw: (f64, String), query: &str) -> Result<Sample, PrometheusError> {
    let (seconds, value) = raw;
    let bad = |what: String| PrometheusError::Query {
        query: query.to_string(),
        error_type: "unexpected_result".into(),
        message: what,
    };
    let at = Timestamp::from_millisecond((seconds * 1000.0).round() as i64)
        .map_err(|e| bad(format!("timestamp {seconds} is out of range: {e}")))?;
    let value = value
        .parse::<f64>()
        .map_err(|_| bad(format!("value '{value}' is not a number")))?;
    Ok(Sample { at, value })
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum ApiStatus {
    Success,
    Error,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApiResponse {
    status: ApiStatus,
    #[serde(default)]
    data: Option<ApiData>,
    #[serde(default)]
    error_type: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
#[serde(tag = "resultType", content = "result", rename_all = "lowercase")]
enum ApiData {
    Vector(Vec<ApiVectorSeries>),
    Matrix(Vec<ApiMatrixSeries>),
    Scalar((f64, String)),
    String(serde::de::IgnoredAny),
}

#[derive(Deserialize)]
struct ApiVectorSeries {
    #[serde(default)]
    metric: BTreeMap<String, String>,
    value: (f64, String),
}

#[derive(Deserialize)]
struct ApiMatrixSeries {
    #[serde(default)]
    metric: BTreeMap<String, String>,
    #[serde(default)]
    values: Vec<(f64, String)>,
}

#[cfg(test)]
mod tests {
    use std::{
        net::TcpListener,
        path::{Path, PathBuf},
        process::{Child, Command, Stdio},
    };

    use super::*;

    const PROMETHEUS: &str = "/usr/bin/prometheus";

    fn config(url: &str) -> PrometheusConfig {
        PrometheusConfig {
            url: url.to_string(),
            timeout_ms: 5000,
            services: vec!["prometheus".into()],
            signals: BTreeMap::from([
                ("up".into(), "up{job=\"{service}\"}".into()),
                (
                    "samples_scraped".into(),
                    "sum(scrape_samples_scraped{job=\"{service}\"})".into(),
                ),
            ]),
        }
    }

    #[test]
    fn config_parses_from_toml_and_refuses_typos_and_unsafe_names() {
        let parsed: PrometheusConfig = toml::from_str(
            r#"
            url = "http://127.0.0.1:9090/"
            services = ["checkout"]
            [signals]
            error_rate = 'sum(rate(http_requests_total{service="{service}",code=~"5.."}[5m])) / sum(rate(http_requests_total{service="{service}"}[5m]))'
            "#,
        )
        .unwrap();
        assert_eq!(parsed.timeout_ms, 5000);
        parsed.validate().unwrap();
        let source = PrometheusSource::new(parsed).unwrap();
        let query = source.signal_query("error_rate", "checkout").unwrap();
        assert!(
            query.contains(r#"service="checkout",code=~"5..""#),
            "{query}"
        );
        assert!(!query.contains(SERVICE_PLACEHOLDER));
        let unknown = source.signal_query("latency", "checkout").unwrap_err();
        assert!(unknown.to_string().contains("known signals: error_rate"));
        let unknown = source.signal_query("error_rate", "billing").unwrap_err();
        assert!(unknown.to_string().contains("known services: checkout"));

        let typo = toml::from_str::<PrometheusConfig>("url = \"http://x\"\ntimeout = 3");
        assert!(typo.unwrap_err().to_string().contains("timeout"));

        let mut injected = config("http://127.0.0.1:9090");
        injected.services.push("a\"} or vector(1) or {x=\"".into());
        assert!(
            injected
                .validate()
                .unwrap_err()
                .to_string()
                .contains("may only contain")
        );

        let mut constant = config("http://127.0.0.1:9090");
        constant.signals.insert("all".into(), "sum(up)".into());
        assert!(
            constant
                .validate()
                .unwrap_err()
                .to_string()
                .contains("{service}")
        );

        assert!(config("127.0.0.1:9090").validate().is_err());
    }

    #[test]
    fn sample_values_include_prometheus_special_floats() {
        for (text, check) in [
            ("NaN", f64::is_nan as fn(f64) -> bool),
            ("+Inf", |v: f64| v == f64::INFINITY),
            ("-Inf", |v: f64| v == f64::NEG_INFINITY),
            ("0.25", |v: f64| v == 0.25),
        ] {
            let s = sample((1_700_000_000.5, text.into()), "q").unwrap();
            assert!(check(s.value), "{text}");
            assert_eq!(s.at.as_millisecond(), 1_700_000_000_500);
        }
        assert!(sample((1.0, "many".into()), "q").is_err());
    }

    #[tokio::test]
    async fn an_unreachable_prometheus_names_the_url_and_what_to_check() {
        let port = free_port();
        let url = format!("http://127.0.0.1:{port}");
        let source = PrometheusSource::new(config(&url)).unwrap();
        let err = source.instant("up", None).await.unwrap_err();
        assert!(
            matches!(err, PrometheusError::Unreachable { .. }),
            "{err:?}"
        );
        let text = err.to_string();
        assert!(text.contains(&url), "{text}");
        assert!(text.contains("running"), "{text}");
    }

    #[test]
    fn a_range_too_fine_for_prometheus_is_refused_with_a_step_that_fits() {
        let source = PrometheusSource::new(config("http://127.0.0.1:1")).unwrap();
        let end = Timestamp::now();
        let start = end - jiff::SignedDuration::from_hours(24);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let err = runtime
            .block_on(source.range("up", start, end, Duration::from_secs(1)))
            .unwrap_err();
        assert!(err.to_string().contains("step of at least 8 s"), "{err}");
        let err = runtime
            .block_on(source.range("up", end, start, Duration::from_secs(60)))
            .unwrap_err();
        assert!(err.to_string().contains("before start"), "{err}");
    }

    /// The real thing: a Prometheus from the Debian package, on a loopback port, scraping itself
    /// every second; our source queries it as it would any production Prometheus.
    #[tokio::test]
    async fn queries_a_real_prometheus() {
        if !Path::new(PROMETHEUS).exists() {
            eprintln!("SKIPPED: install the Debian package prometheus to run this test");
            return;
        }
        let prom = RunningPrometheus::start();
        let source = PrometheusSource::new(config(&prom.url)).unwrap();

        // Wait until the first self-scrape is stored: `up` has a sample.
        let mut up = None;
        for _ in 0..120 {
            match source.instant("up", None).await {
                Ok(Some(series)) => {
                    up = Some(series);
                    break;
                }
                // Not listening yet, or listening but not ready (503).
                Ok(None)
                | Err(PrometheusError::Unreachable { .. })
                | Err(PrometheusError::NotPrometheus { status: 503, .. }) => {}
                Err(e) => panic!("{e}\n{}", prom.log()),
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        let up = up.unwrap_or_else(|| panic!("`up` never had a sample\n{}", prom.log()));
        assert_eq!(up.len(), 1);
        assert_eq!(
            up[0].labels.get("job").map(String::as_str),
            Some("prometheus")
        );
        assert_eq!(up[0].sample.value, 1.0);

        let build = source
            .instant("prometheus_build_info", None)
            .await
            .unwrap()
            .expect("prometheus_build_info has a sample once up has");
        let version = build[0].labels.get("version").cloned().unwrap_or_default();
        assert!(
            version.starts_with('2') || version.starts_with('3'),
            "{version}"
        );
        assert_eq!(build[0].sample.value, 1.0);

        // Through the config's templates.
        let sample = source
            .signal_instant("up", "prometheus", None)
            .await
            .unwrap()
            .expect("up for job=prometheus");
        assert_eq!(sample.value, 1.0);
        let scraped = source
            .signal_instant("samples_scraped", "prometheus", None)
            .await
            .unwrap()
            .expect("scrape_samples_scraped for job=prometheus");
        assert!(scraped.value > 0.0);

        // A range over the last minute, every second: every point is 1, oldest first.
        let end = Timestamp::now();
        let start = end - jiff::SignedDuration::from_secs(60);
        let range = source
            .range("up", start, end, Duration::from_secs(1))
            .await
            .unwrap()
            .expect("up over the last minute");
        assert_eq!(range.len(), 1);
        let samples = &range[0].samples;
        assert!(!samples.is_empty());
        assert!(samples.iter().all(|s| s.value == 1.0));
        assert!(samples.windows(2).all(|w| w[0].at < w[1].at));
        assert!(samples.iter().all(|s| s.at >= start && s.at <= end));
        let templated = source
            .signal_range("up", "prometheus", start, end, Duration::from_secs(5))
            .await
            .unwrap()
            .expect("templated range");
        assert!(templated.iter().all(|s| s.value == 1.0));

        // Empty results are None, not errors.
        assert_eq!(
            source.instant("up{job=\"nobody\"}", None).await.unwrap(),
            None
        );
        assert_eq!(
            source
                .range("up{job=\"nobody\"}", start, end, Duration::from_secs(5))
                .await
                .unwrap(),
            None
        );

        // A scalar is one series without labels.
        let scalar = source
            .instant("scalar(up) * 2", None)
            .await
            .unwrap()
            .unwrap();
        assert!(scalar[0].labels.is_empty());
        assert_eq!(scalar[0].sample.value, 2.0);

        // Bad PromQL: Prometheus's own message comes through.
        let err = source.instant("sum(up", None).await.unwrap_err();
        match &err {
            PrometheusError::Query {
                error_type,
                message,
                query,
            } => {
                assert_eq!(error_type, "bad_data");
                assert_eq!(query, "sum(up");
                assert!(message.contains("parse error"), "{message}");
            }
            other => panic!("expected a query error, got {other:?}"),
        }
        assert!(err.to_string().contains("sum(up"));

        // Something that answers but is not the API.
        let mut wrong = config(&format!("{}/not-prometheus", prom.url));
        wrong.timeout_ms = 5000;
        let err = PrometheusSource::new(wrong)
            .unwrap()
            .instant("up", None)
            .await
            .unwrap_err();
        assert!(
            matches!(err, PrometheusError::NotPrometheus { status: 404, .. }),
            "{err:?}"
        );
    }

    fn free_port() -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    }

    /// A Prometheus child process, killed and reaped when dropped so no test leaves one behind.
    struct RunningPrometheus {
        child: Child,
        url: String,
        log_path: PathBuf,
        _dir: tempfile::TempDir,
    }

    impl RunningPrometheus {
        fn start() -> Self {
            let dir = tempfile::tempdir().unwrap();
            let port = free_port();
            let config_path = dir.path().join("prometheus.yml");
            std::fs::write(
                &config_path,
                format!(
                    "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
                     scrape_configs:\n  - job_name: prometheus\n    static_configs:\n      \
                     - targets: ['127.0.0.1:{port}']\n"
                ),
            )
            .unwrap();
            let log_path = dir.path().join("prometheus.log");
            let log = std::fs::File::create(&log_path).unwrap();
            let child = Command::new(PROMETHEUS)
                .arg(format!("--config.file={}", config_path.display()))
                .arg(format!(
                    "--storage.tsdb.path={}",
                    dir.path().join("data").display()
                ))
                .arg(format!("--web.listen-address=127.0.0.1:{port}"))
                .stdin(Stdio::null())
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .spawn()
                .unwrap();
            Self {
                child,
                url: format!("http://127.0.0.1:{port}"),
                log_path,
                _dir: dir,
            }
        }

        fn log(&self) -> String {
            std::fs::read_to_string(&self.log_path).unwrap_or_default()
        }
    }

    impl Drop for RunningPrometheus {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
