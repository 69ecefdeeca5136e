//! `analyze_logs`: a window of the world's logs against the window just before it — per service
//! the error rate over time, the top templates, templates new since the baseline, and bursts,
//! each with counts and an example line — bounded by a byte budget.
//!
//! Each service gets its own run of the log engine: services write different formats, and the
//! engine learns one format per stream. Baseline and window are two segments of one run, so
//! template ids agree between them. Lines stream through in bounded memory on a blocking
//! thread (the world's log iterator blocks), which hands each service's lines to miner threads:
//! services are independent, so they are mined on every core while the lines are read.

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

/// Per-service state while lines stream by, on the reading thread; its engine is with a
/// [`Miner`].
struct Acc {
    /// The service's place in order of first appearance: which miner has its engine.
    id: usize,
    buf: Vec<u8>,
    baseline_closed: bool,
    counts: Counts,
    buckets: BTreeMap<i64, (u64, u64)>,
}

/// Line counts of one service.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
struct Counts {
    base_lines: u64,
    base_errors: u64,
    lines: u64,
    errors: u64,
    warnings: u64,
}

fn engine() -> Result<Engine, AnalysisError> {
    Engine::new(MineOptions {
        threads: 1,
        examples: 1,
        stats: Some(StatsOptions {
            bucket_secs: 60,
            top_k: 10,
            max_distinct: 100,
        }),
        ..MineOptions::default()
    })
    .map_err(|e| AnalysisError::Internal(e.to_string()))
}

impl Acc {
    fn flush(&mut self, mining: &mut Mining<'_>) -> Result<(), AnalysisError> {
        if self.buf.is_empty() {
            return Ok(());
        }
        // A service that filled one buffer will fill the next: it starts at full size.
        let buf = std::mem::replace(&mut self.buf, Vec::with_capacity(FLUSH_BYTES));
        mining.run(Job::Feed(self.id, buf))
    }

    fn close_baseline(&mut self, mining: &mut Mining<'_>) -> Result<(), AnalysisError> {
        if !self.baseline_closed {
            self.flush(mining)?;
            self.baseline_closed = true;
            mining.run(Job::CloseBaseline(self.id))?;
        }
        Ok(())
    }

    /// The last lines handed on, keeping no buffer: every service holds its state until the
    /// report is made.
    fn finish(&mut self, mining: &mut Mining<'_>) -> Result<(), AnalysisError> {
        self.close_baseline(mining)?;
        let buf = std::mem::take(&mut self.buf);
        if buf.is_empty() {
            return Ok(());
        }
        mining.run(Job::Feed(self.id, buf))
    }
}

/// What the reading thread asks of a service's engine, in the order it asks it.
enum Job {
    /// A service seen for the first time, and its engine.
    Open(usize, Box<Engine>),
    /// Lines of the service, whole, each ending in `\n`.
    Feed(usize, Vec<u8>),
    /// The baseline window ends here.
    CloseBaseline(usize),
}

/// The engines of the services given to one miner, each with its closed baseline. A service's
/// jobs all go to the same miner in the order they were made, so its engine sees its lines as
/// it would on one thread.
#[derive(Default)]
struct Miner {
    engines: BTreeMap<usize, (Engine, Option<Segment>)>,
}

/// Each service's results (baseline, window), by id.
type Mined = Vec<(usize, Vec<MineResult>)>;

impl Miner {
    fn run(&mut self, job: Job) {
        match job {
            Job::Open(id, engine) => {
                self.engines.insert(id, (*engine, None));
            }
            Job::Feed(id, buf) => {
                if let Some((engine, _)) = self.engines.get_mut(&id) {
                    engine.feed(&buf);
                }
            }
            Job::CloseBaseline(id) => {
                if let Some((engine, base @ None)) = self.engines.get_mut(&id) {
                    *base = Some(engine.checkpoint());
                }
            }
        }
    }

    fn finish(self) -> Mined {
        self.engines
            .into_iter()
            .map(|(id, (engine, base))| (id, engine.finish_segments(base.into_iter().collect())))
            .collect()
    }
}

/// Jobs in flight to one miner at most: 16 × [`FLUSH_BYTES`] = 1 MB; the reading thread waits
/// rather than buffer a slow miner's lines without bound.
const QUEUE_JOBS: usize = 16;

/// Where services' engines run: on the reading thread, or spread over miner threads (service
/// `id` on miner `id % n`), so that independent services are mined on every core while the
/// lines are still being read.
enum Mining<'scope> {
    Here(Miner),
    Threads(
        Vec<(
            std::sync::mpsc::SyncSender<Job>,
            std::thread::ScopedJoinHandle<'scope, Mined>,
        )>,
    ),
}

impl<'scope> Mining<'scope> {
    /// `miners` threads in `scope` (none, mining on the calling thread, when fewer than 2).
    fn start<'env>(scope: &'scope std::thread::Scope<'scope, 'env>, miners: usize) -> Self {
        if miners < 2 {
            return Self::Here(Miner::default());
        }
        Self::Threads(
            (0..miners)
                .map(|_| {
                    let (tx, rx) = std::sync::mpsc::sync_channel::<Job>(QUEUE_JOBS);
                    let handle = scope.spawn(move || {
                        let mut miner = Miner::default();
                        for job in rx {
                            miner.run(job);
                        }
                        miner.finish()
                    });
                    (tx, handle)
                })
                .collect(),
        )
    }

    fn run(&mut self, job: Job) -> Result<(), AnalysisError> {
        match self {
            Self::Here(miner) => {
                miner.run(job);
                Ok(())
            }
            Self::Threads(miners) => {
                let id = match &job {
                    Job::Open(id, _) | Job::Feed(id, _) | Job::CloseBaseline(id) => *id,
                };
                // Only a miner that panicked stops taking jobs; `finish` says so.
                miners[id % miners.len()]
                    .0
                    .send(job)
                    .map_err(|_| AnalysisError::Internal("a log miner stopped".into()))
            }
        }
    }

    /// Every service's results, by id, once every job is done.
    fn finish(self) -> Result<Mined, AnalysisError> {
        match self {
            Self::Here(miner) => Ok(miner.finish()),
            Self::Threads(miners) => {
                let mut out = Vec::new();
                let mut failed = false;
                // Every miner is joined, even after one failed: a scope panics on a panicked
                // thread left unjoined.
                for (tx, handle) in miners {
                    drop(tx);
                    match handle.join() {
                        Ok(mined) => out.extend(mined),
                        Err(_) => failed = true,
                    }
                }
                if failed {
                    return Err(AnalysisError::Internal("a log miner panicked".into()));
                }
                out.sort_by_key(|(id, _)| *id);
                Ok(out)
            }
        }
    }
}

/// Miner threads for an analysis: one per core, for the services are independent; none on one
/// core.
fn miners() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
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
    let bucket_s = bucket_s(&window);
    let gathered = gather(stream, window, query, bucket_s, miners())?;
    let buckets_in_window = window.length().as_secs().div_euclid(bucket_s).max(1);
    let mut services = Vec::new();
    let (mut lines, mut baseline_lines) = (0, 0);
    for g in gathered {
        let mut results = g.results.into_iter();
        let (Some(base), Some(win)) = (results.next(), results.next()) else {
            continue;
        };
        lines += g.counts.lines;
        baseline_lines += g.counts.base_lines;
        let over_time = (0..buckets_in_window)
            .map(|b| {
                let (n, e) = g.buckets.get(&b).copied().unwrap_or_default();
                Bucket {
                    start: window.from + SignedDuration::from_secs(b * bucket_s),
                    lines: n,
                    errors: e,
                    error_rate: rate(e, n),
                }
            })
            .collect();
        services.push(summarise(g.service, g.counts, &base, &win, over_time));
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

fn bucket_s(window: &Window) -> i64 {
    (window.length().as_secs() / 15).max(60) / 60 * 60
}

/// One service's lines, counted and mined.
#[derive(Debug)]
struct Gathered {
    service: String,
    counts: Counts,
    buckets: BTreeMap<i64, (u64, u64)>,
    /// Baseline, then window.
    results: Vec<MineResult>,
}

/// Reads `stream` once, counting each service's lines and handing them to its engine, on
/// `miners` threads (on this one when fewer than 2); by service name.
fn gather(
    stream: opsmcp_world::LogStream,
    window: Window,
    query: &LogQuery,
    bucket_s: i64,
    miners: usize,
) -> Result<Vec<Gathered>, AnalysisError> {
    std::thread::scope(|scope| {
        let mut mining = Mining::start(scope, miners);
        let read = read_into(stream, window, query, bucket_s, &mut mining);
        // Joined whatever the reading did, so no miner outlives it.
        let mined = mining.finish();
        let accs = read?;
        let mut mined = mined?.into_iter().peekable();
        let mut out = Vec::with_capacity(accs.len());
        for (service, acc) in accs {
            // `mined` is sorted by id, and every id was opened.
            let results = match mined.next_if(|(id, _)| *id == acc.id) {
                Some((_, results)) => results,
                None => Vec::new(),
            };
            out.push((acc.id, service, acc, results));
        }
        out.sort_by(|a, b| a.1.cmp(&b.1));
        Ok(out
            .into_iter()
            .map(|(_, service, acc, results)| Gathered {
                service,
                counts: acc.counts,
                buckets: acc.buckets,
                results,
            })
            .collect())
    })
}

/// The reading itself: every line counted and its bytes handed on; by id.
fn read_into(
    stream: opsmcp_world::LogStream,
    window: Window,
    query: &LogQuery,
    bucket_s: i64,
    mining: &mut Mining<'_>,
) -> Result<Vec<(String, Acc)>, AnalysisError> {
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
                acc.close_baseline(mining)?;
            }
        }
        let acc = match accs.get_mut(&service) {
            Some(a) => a,
            None => {
                let mut a = Acc {
                    id: accs.len(),
                    buf: Vec::new(),
                    baseline_closed: false,
                    counts: Counts::default(),
                    buckets: BTreeMap::new(),
                };
                mining.run(Job::Open(a.id, Box::new(engine()?)))?;
                if in_window {
                    a.close_baseline(mining)?;
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
            acc.flush(mining)?;
        }
        acc.buf.extend_from_slice(text.as_bytes());
        acc.buf.push(b'\n');
    }
    for acc in accs.values_mut() {
        acc.finish(mining)?;
    }
    let mut accs: Vec<(String, Acc)> = accs.into_iter().collect();
    accs.sort_by_key(|(_, acc)| acc.id);
    Ok(accs)
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

#[cfg(test)]
mod tests {
    use jiff::{SignedDuration, Timestamp};
    use opsmcp_world::{
        LogEntry, LogStream,
        sim::{
            Scenario, SimWorld,
            generate::{Spec, generate},
        },
    };

    use super::{FLUSH_BYTES, LogQuery, bucket_s, gather};
    use crate::Window;

    /// Services mined on several threads come out exactly as mined on one: the same templates
    /// with the same ids, counts, examples and statistics, the same line counts and buckets.
    #[test]
    fn mining_on_threads_gives_what_one_thread_gives() {
        let services = 12;
        let generated = generate(&Spec {
            services,
            seed: 3,
            fault: None,
        })
        .unwrap();
        let scenario = Scenario::parse(&generated.toml, "generated").unwrap();
        let now: Timestamp = "2026-12-07T12:00:00Z".parse().unwrap();
        let world = SimWorld::new(scenario, 7, now).with_log_rate(4.0);
        let window = Window::ending(now, SignedDuration::from_mins(10));
        let from = window.before(SignedDuration::from_mins(10)).from;
        // Written once (the simulator is the slow part unoptimised), read by every run.
        let lines: Vec<LogEntry> = world
            .logs(from, window.to)
            .map(|l| LogEntry {
                at: l.at,
                service: l.service,
                level: l.level.name().to_string(),
                text: l.text,
            })
            .collect();
        let bytes: usize = lines.iter().map(|l| l.text.len() + 1).sum();
        // Each service's buffer is handed on several times, on average.
        assert!(bytes > services * 3 * FLUSH_BYTES, "{bytes} bytes");
        let mine = |query: &LogQuery, miners: usize| {
            let stream: LogStream = Box::new(lines.clone().into_iter());
            let got = gather(stream, window, query, bucket_s(&window), miners);
            format!("{:#?}", got.unwrap())
        };
        let all = LogQuery::default();
        let one = mine(&all, 1);
        assert!(one.contains("templates"), "nothing was mined");
        for miners in [2, 3] {
            // Compared whole: every id, count, example and statistic.
            assert!(mine(&all, miners) == one, "{miners} miners differ from one");
        }
        // A filter leaves out services and lines of the ones kept: the same again.
        let errors = LogQuery {
            services: Vec::new(),
            contains: Some("error".into()),
        };
        assert!(mine(&errors, 2) == mine(&errors, 1));
    }
}
