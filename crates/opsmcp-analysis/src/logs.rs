//! `analyze_logs`: a window of the world's logs against the window just before it — per service
//! the error rate over time, the top templates, templates new since the baseline, and bursts,
//! each with counts and an example line — bounded by a byte budget.
//!
//! Each service gets its own run of the log engine: services write different formats, and the
//! engine learns one format per stream. Baseline and window are two segments of one run, so
//! template ids agree between them. Lines stream through in bounded memory on a blocking
//! thread (the world's log iterator blocks).

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use opsmcp_logs::{
    Engine, MineOptions, MineResult,
    anomaly::{self, AnomalyOptions, Kind},
    engine::Segment,
    stats::StatsOptions,
};
use opsmcp_world::{LogEntry, World};
use serde::Serialize;

use crate::{AnalysisError, Window};

/// Bytes of a service's lines kept before they are handed to its engine. Every service holds
/// up to this much twice (here and in its engine's buffer), so it sets what a world of many
/// services costs: at 256 KB (its buffer doubling past that) 500 services took ~375 MB.
const FLUSH_BYTES: usize = 64 * 1024;
/// Characters of an example line shown.
const EXAMPLE_CHARS: usize = 300;

/// What to analyse.
#[derive(Debug, Clone, Default)]
pub struct LogQuery {
    /// Only these services (all when empty).
    pub services: Vec<String>,
    /// Only lines containing this text, case-insensitive.
    pub contains: Option<String>,
}

/// The analysis of a window.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct LogReport {
    /// The window analysed.
    pub window: Window,
    /// The window it is compared with (the same length just before).
    pub baseline_window: Window,
    /// Lines in the window (after filters).
    pub lines: u64,
    /// Lines in the baseline window (after filters).
    pub baseline_lines: u64,
    /// Seconds per bucket of `error_rate_over_time`.
    pub bucket_s: i64,
    /// Each service, the most changed first (error-rate rise, then new and bursting templates).
    pub services: Vec<ServiceLogs>,
    /// Lists were cut (or services left out) to stay within the size budget.
    pub truncated: bool,
}

/// One service's logs in the window.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ServiceLogs {
    /// The service.
    pub service: String,
    /// Lines in the window.
    pub lines: u64,
    /// Lines at error level.
    pub errors: u64,
    /// Lines at warning level.
    pub warnings: u64,
    /// `errors / lines` in the window.
    pub error_rate: f64,
    /// `errors / lines` in the baseline window.
    pub baseline_error_rate: f64,
    /// Lines and errors per bucket, oldest first.
    pub error_rate_over_time: Vec<Bucket>,
    /// The most frequent templates in the window.
    pub top_templates: Vec<TemplateCount>,
    /// Templates never seen in the baseline window.
    pub new_templates: Vec<TemplateCount>,
    /// Templates whose count in one minute stands far above their baseline.
    pub bursts: Vec<Burst>,
}

/// One time bucket.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema, PartialEq)]
pub struct Bucket {
    /// Start (RFC 3339).
    #[schemars(with = "String")]
    pub start: Timestamp,
    /// Lines.
    pub lines: u64,
    /// Error lines.
    pub errors: u64,
    /// `errors / lines`.
    pub error_rate: f64,
}

/// A template with its counts.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema, PartialEq)]
pub struct TemplateCount {
    /// The template, variables as `<*>`.
    pub template: String,
    /// Lines in the window.
    pub count: u64,
    /// Of those, at error level.
    pub errors: u64,
    /// Lines in the baseline window.
    pub baseline_count: u64,
    /// First line in the window with it (RFC 3339), when timed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<String>,
    /// The start of the first minute with a line of it, as the engine read the lines' times:
    /// `first_seen` is the text as written, in whatever format the log uses.
    #[serde(skip)]
    #[schemars(skip)]
    pub first_at: Option<Timestamp>,
    /// One line as written (secrets redacted).
    pub example: String,
}

/// A burst of one template.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema, PartialEq)]
pub struct Burst {
    /// The template.
    pub template: String,
    /// The minute it peaked (RFC 3339).
    pub bucket: String,
    /// Lines in that minute.
    pub count: u64,
    /// Median lines per minute in the baseline.
    pub baseline_median: f64,
    /// Robust z-score of the peak.
    pub z: f64,
    /// One line as written (secrets redacted).
    pub example: String,
}

/// Per-service state while lines stream by.
struct Acc {
    engine: Engine,
    buf: Vec<u8>,
    baseline: Option<Segment>,
    counts: Counts,
    buckets: BTreeMap<i64, (u64, u64)>,
}

/// Line counts of one service.
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    base_lines: u64,
    base_errors: u64,
    lines: u64,
    errors: u64,
    warnings: u64,
}

impl Acc {
    fn new() -> Result<Self, AnalysisError> {
        let engine = Engine::new(MineOptions {
            threads: 1,
            examples: 1,
            stats: Some(StatsOptions {
                bucket_secs: 60,
                top_k: 10,
                max_distinct: 100,
            }),
            ..MineOptions::default()
        })
        .map_err(|e| AnalysisError::Internal(e.to_string()))?;
        Ok(Self {
            engine,
            buf: Vec::new(),
            baseline: None,
            counts: Counts::default(),
            buckets: BTreeMap::new(),
        })
    }

    fn flush(&mut self) {
        if !self.buf.is_empty() {
            self.engine.feed(&self.buf);
            self.buf.clear();
        }
    }

    fn close_baseline(&mut self) {
        if self.baseline.is_none() {
            self.flush();
            self.baseline = Some(self.engine.checkpoint());
        }
    }
}

/// Analyses the logs of `window` against the window before it, keeping the serialized report
/// within `budget_bytes`.
pub async fn analyze(
    world: &dyn World,
    window: &Window,
    query: &LogQuery,
    budget_bytes: usize,
) -> Result<LogReport, AnalysisError> {
    let baseline = window.before(SignedDuration::from_mins(10));
    let stream = world.logs(baseline.from, window.to).await?;
    let (window, query) = (*window, query.clone());
    let mut report = tokio::task::spawn_blocking(move || read(stream, baseline, window, &query))
        .await
        .map_err(|e| AnalysisError::Internal(e.to_string()))??;
    fit(&mut report, budget_bytes);
    Ok(report)
}

fn read(
    stream: opsmcp_world::LogStream,
    baseline: Window,
    window: Window,
    query: &LogQuery,
) -> Result<LogReport, AnalysisError> {
    let bucket_s = (window.length().as_secs() / 15).max(60) / 60 * 60;
    let needle = query.contains.as_ref().map(|q| q.to_lowercase());
    let mut accs: BTreeMap<String, Acc> = BTreeMap::new();
    let mut in_window = false;
    for LogEntry {
        at,
        service,
        level,
        text,
    } in stream
    {
        if !query.services.is_empty() && !query.services.contains(&service) {
            continue;
        }
        if let Some(n) = &needle
            && !text.to_lowercase().contains(n.as_str())
        {
            continue;
        }
        if !in_window && at >= window.from {
            in_window = true;
            for acc in accs.values_mut() {
                acc.close_baseline();
            }
        }
        let acc = match accs.get_mut(&service) {
            Some(a) => a,
            None => {
                let mut a = Acc::new()?;
                if in_window {
                    a.close_baseline();
                }
                accs.entry(service.clone()).or_insert(a)
            }
        };
        let error = level == "error";
        if in_window {
            acc.counts.lines += 1;
            acc.counts.errors += u64::from(error);
            acc.counts.warnings += u64::from(level == "warn");
            let b = (at.as_second() - window.from.as_second()).div_euclid(bucket_s);
            let cell = acc.buckets.entry(b).or_default();
            cell.0 += 1;
            cell.1 += u64::from(error);
        } else {
            acc.counts.base_lines += 1;
            acc.counts.base_errors += u64::from(error);
        }
        // Handed on before it would pass the bound, so the buffer never grows past it (a
        // `Vec` past its capacity doubles).
        if acc.buf.len() + text.len() + 1 > FLUSH_BYTES {
            acc.flush();
        }
        acc.buf.extend_from_slice(text.as_bytes());
        acc.buf.push(b'\n');
    }
    let buckets_in_window = window.length().as_secs().div_euclid(bucket_s).max(1);
    let mut services = Vec::new();
    let (mut lines, mut baseline_lines) = (0, 0);
    for (service, mut acc) in accs {
        acc.close_baseline();
        acc.flush();
        let base_seg = acc.baseline.take().into_iter().collect();
        let mut results = acc.engine.finish_segments(base_seg).into_iter();
        let (Some(base), Some(win)) = (results.next(), results.next()) else {
            continue;
        };
        lines += acc.counts.lines;
        baseline_lines += acc.counts.base_lines;
        let over_time = (0..buckets_in_window)
            .map(|b| {
                let (n, e) = acc.buckets.get(&b).copied().unwrap_or_default();
                Bucket {
                    start: window.from + SignedDuration::from_secs(b * bucket_s),
                    lines: n,
                    errors: e,
                    error_rate: rate(e, n),
                }
            })
            .collect();
        services.push(summarise(service, acc.counts, &base, &win, over_time));
    }
    services.sort_by(|a, b| {
        change_score(b)
            .total_cmp(&change_score(a))
            .then_with(|| a.service.cmp(&b.service))
    });
    Ok(LogReport {
        window,
        baseline_window: baseline,
        lines,
        baseline_lines,
        bucket_s,
        services,
        truncated: false,
    })
}

fn summarise(
    service: String,
    acc: Counts,
    base: &MineResult,
    win: &MineResult,
    error_rate_over_time: Vec<Bucket>,
) -> ServiceLogs {
    let base_counts: BTreeMap<&str, u64> = base
        .templates
        .iter()
        .map(|t| (t.id.as_str(), t.count))
        .collect();
    let errors_of = |id: &str| -> u64 {
        win.stats
            .as_ref()
            .and_then(|s| s.template_series.get(id))
            .map_or(0, |v| v.iter().map(|c| c.2).sum())
    };
    let count = |t: &opsmcp_logs::TemplateInfo| TemplateCount {
        template: t.template.clone(),
        count: t.count,
        errors: errors_of(&t.id),
        baseline_count: base_counts.get(t.id.as_str()).copied().unwrap_or(0),
        first_seen: t.first_seen.clone(),
        // The engine files untimed lines under `i64::MIN`.
        first_at: win
            .stats
            .as_ref()
            .and_then(|s| s.template_series.get(&t.id))
            .and_then(|v| {
                v.iter()
                    .filter(|c| c.1 > 0 && c.0 != i64::MIN)
                    .map(|c| c.0)
                    .min()
            })
            .and_then(|s| Timestamp::from_second(s).ok()),
        example: t.examples.first().map(|e| shown(e)).unwrap_or_default(),
    };
    let top_templates = win.templates.iter().take(10).map(count).collect();
    let mut new_templates: Vec<TemplateCount> = win
        .templates
        .iter()
        .filter(|t| !base_counts.contains_key(t.id.as_str()))
        .map(count)
        .collect();
    new_templates.sort_by(|a, b| {
        (b.errors, b.count)
            .cmp(&(a.errors, a.count))
            .then_with(|| a.template.cmp(&b.template))
    });
    let bursts = anomaly::detect(base, win, &AnomalyOptions::default())
        .into_iter()
        .filter(|a| a.kind == Kind::Burst)
        .map(|a| Burst {
            template: a.template.unwrap_or_default(),
            bucket: a.evidence.bucket.unwrap_or_default(),
            count: a.evidence.bucket_count.unwrap_or_default(),
            baseline_median: a.evidence.baseline_median.unwrap_or_default(),
            z: (a.evidence.z.unwrap_or_default() * 10.0).round() / 10.0,
            example: a
                .evidence
                .examples
                .first()
                .map(|e| shown(e))
                .unwrap_or_default(),
        })
        .collect();
    ServiceLogs {
        service,
        lines: acc.lines,
        errors: acc.errors,
        warnings: acc.warnings,
        error_rate: rate(acc.errors, acc.lines),
        baseline_error_rate: rate(acc.base_errors, acc.base_lines),
        error_rate_over_time,
        top_templates,
        new_templates,
        bursts,
    }
}

fn rate(errors: u64, lines: u64) -> f64 {
    if lines == 0 {
        0.0
    } else {
        (errors as f64 / lines as f64 * 10_000.0).round() / 10_000.0
    }
}

/// How much a service's logs changed: what sorts the report.
fn change_score(s: &ServiceLogs) -> f64 {
    (s.error_rate - s.baseline_error_rate).max(0.0) * 100.0
        + s.new_templates.len() as f64
        + s.bursts.len() as f64
}

/// Cuts lists, then services, until the report serializes within `budget` bytes.
fn fit(report: &mut LogReport, budget: usize) {
    let size = |r: &LogReport| serde_json::to_vec(r).map_or(usize::MAX, |v| v.len());
    if size(report) <= budget {
        return;
    }
    report.truncated = true;
    for keep in [5usize, 3, 1] {
        for s in &mut report.services {
            s.top_templates.truncate(keep);
            s.new_templates.truncate(keep);
            s.bursts.truncate(keep);
        }
        if size(report) <= budget {
            return;
        }
    }
    for s in &mut report.services {
        // The latest buckets are where an incident shows.
        let n = s.error_rate_over_time.len();
        if n > 5 {
            s.error_rate_over_time.drain(..n - 5);
        }
    }
    while report.services.len() > 1 && size(report) > budget {
        report.services.pop();
    }
}

/// A log line as the analysis shows it: secrets redacted by the log engine's one redactor (the
/// same rules `get_raw_logs` applies), then cut to [`EXAMPLE_CHARS`] characters by taking out
/// its middle: the head says when and where, and the end of a long line is where a nested
/// exception says what actually went wrong ("… Column 'x' cannot be null").
fn shown(line: &str) -> String {
    let clean = opsmcp_logs::redact::redact(line);
    let n = clean.chars().count();
    if n > EXAMPLE_CHARS {
        let head = EXAMPLE_CHARS / 2;
        let tail = EXAMPLE_CHARS - head;
        let start: String = clean.chars().take(head).collect();
        let end: String = clean.chars().skip(n - tail).collect();
        format!("{start} … {end}")
    } else {
        clean.into_owned()
    }
}
