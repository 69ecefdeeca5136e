//! The live world: this host, the probed services and the Prometheus-watched services of the
//! config, behind [`World`].

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use futures::future::BoxFuture;
use jiff::{SignedDuration, Timestamp};

use super::{
    files::LogFileSource,
    history::{self, HistoryBook, Sample},
    host::HostMonitor,
    journald::{self, JournaldSource},
    measure::{self, Tracker},
    packages::PackageLog,
    postgres::{Discovery, PostgresSource},
    probes::{ProbeKind, ProbeSpec},
    prometheus::PrometheusSource,
    runbook::{RunOutcome, Runbook},
    services::{HOST, ServiceMap},
};
use crate::{
    health::{Check, Reading, ServiceHealth, Status, Thresholds, judge_host, judge_readings},
    live::host::HostSnapshot,
    world::{
        ActionInfo, ActionReport, ActionRequest, LogEntry, LogStream, ServiceInfo, ServiceReadings,
        SignalSeries, World, WorldError, WorldEvent, WorldInfo,
    },
};

/// This machine, the services it probes and those a Prometheus watches.
#[derive(Debug)]
pub struct LiveWorld {
    name: String,
    host: HostMonitor,
    thresholds: Thresholds,
    probes: Vec<ProbeSpec>,
    http: reqwest::Client,
    prometheus: Option<PrometheusSource>,
    log_files: Vec<LogFileSource>,
    journald: Vec<JournaldSource>,
    runbook: Option<Runbook>,
    /// (service, signal) → baseline, and when it was computed.
    baselines: Mutex<Option<Baselines>>,
    /// The declared services (`[[services]]`).
    map: ServiceMap,
    /// Where sampled readings and seen changes are kept; without one the world knows only
    /// the present.
    book: Option<Arc<dyn HistoryBook>>,
    /// What one reading carries to the next (restarts, file contents).
    tracker: Mutex<Tracker>,
    /// The latest reading of every service, and when it was taken.
    latest: Mutex<Option<(Instant, Arc<Vec<Sample>>)>>,
    /// Each log file source's tail (by its index): where the last reading stopped, and how
    /// its lines are read.
    tails: Arc<Mutex<BTreeMap<usize, Tail>>>,
    /// The last read of the sampled baselines, and when.
    sampled: Mutex<Option<(Instant, Arc<SampledRead>)>>,
    /// Directories a service's error lines named (`No space left on device path=/data/…`):
    /// where it writes, learned from what it says.
    learned_paths: Arc<Mutex<BTreeMap<String, BTreeSet<std::path::PathBuf>>>>,
    /// PostgreSQL servers read for their connections (`[[postgres]]`).
    postgres: Vec<Arc<PostgresSource>>,
    /// The package manager's log: installs, upgrades and removals as change events.
    packages: Option<Arc<PackageLog>>,
    /// Whether a TCP probe's address that answers as PostgreSQL is read like a configured
    /// `[[postgres]]` source (`discover_postgres`, on by default).
    discover_postgres: bool,
    /// TCP probe address → what answers there: PostgreSQL servers found this way are read
    /// like configured ones.
    found: tokio::sync::Mutex<BTreeMap<String, Found>>,
    /// Service → the last reading error of its PostgreSQL source, so a server that stays
    /// away is warned of once, not at every reading.
    pg_errors: Mutex<BTreeMap<String, String>>,
}

/// What a TCP probe's address turned out to be.
#[derive(Debug, Clone)]
enum Found {
    Postgres(Arc<PostgresSource>),
    /// Something else, or a PostgreSQL whose login with the defaults was refused.
    Not,
}

/// At most this many directories are learned per service.
const MAX_LEARNED_PATHS: usize = 16;

/// Where a log source's last reading stopped, and the parser learned from its lines.
#[derive(Debug, Clone)]
struct Tail {
    cursor: super::files::Cursor,
    parser: Option<opsmcp_logs::Parser>,
    /// Lines and error lines read since the last ratio was given, and since when.
    pending: (u64, u64),
    since: Option<Timestamp>,
}

/// Fewer new lines than this in a reading make no error ratio: two lines are no share.
const MIN_LINES_FOR_RATIO: u64 = 5;

type Baselines = (Instant, BTreeMap<(String, String), f64>);

/// How long a computed baseline is reused: it averages an hour, so a minute changes little.
const BASELINE_TTL: Duration = Duration::from_secs(60);

/// How old the latest reading may be for a history that ends now.
const FRESH: Duration = Duration::from_secs(2);

/// The (service, signal) → baseline of sampled signals.
type SampledBaselines = BTreeMap<(String, String), f64>;

/// Baselines of the sampled signals, and the last value of each.
type SampledRead = (SampledBaselines, Vec<Sample>);

/// How long a read of the sampled baselines is reused.
const SAMPLED_TTL: Duration = Duration::from_secs(10);

/// How long the last value of a signal missing from the latest reading still answers.
const LAST_VALUE_KEPT: SignedDuration = SignedDuration::from_secs(60);

/// How long the latest reading answers for the present.
const LATEST_TTL: Duration = Duration::from_secs(15);

impl LiveWorld {
    /// The live world over a running host sampler and the configured probes.
    pub fn new(
        host: HostMonitor,
        thresholds: Thresholds,
        probes: Vec<ProbeSpec>,
        http: reqwest::Client,
    ) -> Self {
        Self {
            name: sysinfo::System::host_name().unwrap_or_else(|_| "this host".into()),
            host,
            thresholds,
            probes,
            http,
            prometheus: None,
            log_files: Vec::new(),
            journald: Vec::new(),
            runbook: None,
            baselines: Mutex::new(None),
            map: ServiceMap::default(),
            book: None,
            tracker: Mutex::new(Tracker::default()),
            latest: Mutex::new(None),
            tails: Arc::new(Mutex::new(BTreeMap::new())),
            learned_paths: Arc::new(Mutex::new(BTreeMap::new())),
            sampled: Mutex::new(None),
            postgres: Vec::new(),
            packages: None,
            discover_postgres: true,
            found: tokio::sync::Mutex::new(BTreeMap::new()),
            pg_errors: Mutex::new(BTreeMap::new()),
        }
    }

    /// Also know these services, their dependencies, processes and files (`[[services]]`).
    pub fn with_services(mut self, map: ServiceMap) -> Self {
        self.map = map;
        self
    }

    /// Also read these PostgreSQL servers' connections (`[[postgres]]`).
    pub fn with_postgres(mut self, sources: Vec<PostgresSource>) -> Self {
        self.postgres = sources.into_iter().map(Arc::new).collect();
        self
    }

    /// Whether a TCP probe whose address answers as PostgreSQL is read for its connections
    /// with libpq's defaults (on unless turned off): off, only `[[postgres]]` entries are
    /// read, and nothing logs in to a server no one configured.
    pub fn with_postgres_discovery(mut self, on: bool) -> Self {
        self.discover_postgres = on;
        self
    }

    /// Also read the package manager's log for changes (`[packages]`).
    pub fn with_packages(mut self, log: PackageLog) -> Self {
        self.packages = Some(Arc::new(log));
        self
    }

    /// Keep sampled readings and seen changes in this book ([`LiveWorld::sample`] writes it).
    pub fn with_history(mut self, book: Arc<dyn HistoryBook>) -> Self {
        self.book = Some(book);
        self
    }

    /// Reads every service now and keeps the reading (and any change seen) in the history
    /// book; the server calls this every sampling interval. Returns the samples.
    pub async fn sample(&self) -> Result<Arc<Vec<Sample>>, WorldError> {
        let snapshot = self.snapshot().await?;
        // The logs first: the directories their error lines name are measured in this reading.
        let logged = self.log_samples().await;
        let probes = futures::future::join_all(
            self.probes
                .iter()
                .map(|p| async { (p.service.clone(), p.probe(&self.http).await) }),
        )
        .await;
        let paths = self.service_paths();
        let measured = match self.tracker.lock() {
            Ok(mut t) => t.measure(Timestamp::now(), &snapshot, &self.map, &probes, &paths),
            Err(_) => {
                return Err(WorldError::Unavailable(
                    "the live sampler's state was poisoned by a panic; restart the server".into(),
                ));
            }
        };
        let mut samples = measured.samples;
        samples.extend(logged);
        samples.extend(self.postgres_samples().await);
        let samples = Arc::new(samples);
        if let Some(book) = &self.book {
            if let Err(e) = book.record(samples.as_ref().clone()).await {
                tracing::warn!(error = %e, "cannot keep the sampled readings");
            }
            for change in measured.changes {
                tracing::info!(service = %change.service, detail = %change.detail, "change seen");
                if let Err(e) = book.record_change(change, "file-watch").await {
                    tracing::warn!(error = %e, "cannot keep a seen change");
                }
            }
        }
        if let Ok(mut latest) = self.latest.lock() {
            *latest = Some((Instant::now(), samples.clone()));
        }
        Ok(samples)
    }

    /// Each log-file service's share of error lines among the lines written since the last
    /// reading (`log_error_ratio`): on a host without request metrics, the error rate its logs
    /// tell. The first reading only finds where the files end.
    async fn log_samples(&self) -> Vec<Sample> {
        let sources = self.log_files.clone();
        let tails = self.tails.clone();
        let learned = self.learned_paths.clone();
        let read = tokio::task::spawn_blocking(move || {
            let now = Timestamp::now();
            let Ok(mut tails) = tails.lock() else {
                return Vec::new();
            };
            let mut counts: BTreeMap<String, (u64, u64)> = BTreeMap::new();
            for (i, source) in sources.iter().enumerate() {
                let Some(tail) = tails.get_mut(&i) else {
                    if let Ok(cursor) = source.end_cursor() {
                        tails.insert(
                            i,
                            Tail {
                                cursor,
                                parser: None,
                                pending: (0, 0),
                                since: None,
                            },
                        );
                    }
                    continue;
                };
                let Ok(mut lines) = source.read(&tail.cursor) else {
                    continue;
                };
                let fresh: Vec<String> = lines
                    .by_ref()
                    .filter_map(|l| l.ok())
                    .map(|l| l.line)
                    .collect();
                tail.cursor = lines.into_cursor();
                if fresh.is_empty() {
                    // A quiet log wrote no error either: its share is 0, so a log that is
                    // usually silent has a baseline when it starts shouting.
                    if tail.pending.0 == 0 {
                        counts.entry(source.spec().service.clone()).or_default();
                    }
                    continue;
                }
                let parser = *tail.parser.get_or_insert_with(|| {
                    let sample: Vec<&str> = fresh.iter().take(200).map(String::as_str).collect();
                    opsmcp_logs::Parser::learn(&sample)
                });
                for line in &fresh {
                    tail.pending.0 += 1;
                    if level_of(&parser.parse(line), line).is_some_and(|l| {
                        matches!(l, opsmcp_logs::Level::Error | opsmcp_logs::Level::Fatal)
                    }) {
                        tail.pending.1 += 1;
                        if let Ok(mut learned) = learned.lock() {
                            let dirs = learned.entry(source.spec().service.clone()).or_default();
                            for dir in named_directories(line) {
                                if dirs.len() < MAX_LEARNED_PATHS {
                                    dirs.insert(dir);
                                }
                            }
                        }
                    }
                }
                let since = *tail.since.get_or_insert(now);
                // A share of a handful of lines is noise: lines are gathered over readings
                // until there are enough, or for a minute. A handful without an error is as
                // calm as silence and says 0 at once, so a log that writes a line now and then
                // has a baseline when it starts failing.
                if tail.pending.0 >= MIN_LINES_FOR_RATIO
                    || tail.pending.1 == 0
                    || now - LAST_VALUE_KEPT >= since
                {
                    let entry = counts.entry(source.spec().service.clone()).or_default();
                    entry.0 += tail.pending.0;
                    entry.1 += tail.pending.1;
                    tail.pending = (0, 0);
                    tail.since = None;
                }
            }
            counts
                .into_iter()
                .map(|(service, (lines, errors))| Sample {
                    at: now,
                    service,
                    signal: "log_error_ratio".into(),
                    value: if lines == 0 {
                        0.0
                    } else {
                        round3(errors as f64 / lines as f64)
                    },
                })
                .collect()
        })
        .await;
        read.unwrap_or_default()
    }

    /// Every PostgreSQL source's connections now: the configured ones, and (unless discovery
    /// is off) the servers that answer at a TCP probe's address of a service without one.
    async fn postgres_samples(&self) -> Vec<Sample> {
        let mut sources = self.postgres.clone();
        if self.discover_postgres {
            let mut found = self.found.lock().await;
            for probe in self.probes.iter().filter(|p| p.kind == ProbeKind::Tcp) {
                let Some(address) = &probe.address else {
                    continue;
                };
                if self.postgres.iter().any(|s| s.service() == probe.service) {
                    continue;
                }
                if !found.contains_key(address) {
                    let timeout = Duration::from_millis(probe.timeout_ms);
                    match PostgresSource::discover(&probe.service, address, timeout).await {
                        Discovery::Postgres(Some(source)) => {
                            found.insert(address.clone(), Found::Postgres(Arc::from(source)));
                        }
                        Discovery::Postgres(None) | Discovery::Other => {
                            found.insert(address.clone(), Found::Not);
                        }
                        Discovery::Unreachable => {}
                    }
                }
                if let Some(Found::Postgres(source)) = found.get(address) {
                    sources.push(source.clone());
                }
            }
        }
        let now = Timestamp::now();
        let reads = futures::future::join_all(sources.iter().map(|s| s.read(now))).await;
        let mut out = Vec::new();
        for (source, read) in sources.iter().zip(reads) {
            let service = source.service().to_string();
            match read {
                Ok(samples) => {
                    if let Ok(mut errors) = self.pg_errors.lock() {
                        errors.remove(&service);
                    }
                    out.extend(samples);
                }
                Err(e) if source.discovered() && e.login_refused() => {
                    tracing::warn!(
                        service,
                        error = %e,
                        "PostgreSQL refused the default login; add a [[postgres]] entry with \
                         service = \"{service}\" and a url with its user and password to read \
                         its connections"
                    );
                    let mut found = self.found.lock().await;
                    for f in found.values_mut() {
                        if matches!(f, Found::Postgres(s) if Arc::ptr_eq(s, source)) {
                            *f = Found::Not;
                        }
                    }
                }
                Err(e) => {
                    let text = e.to_string();
                    let new = self
                        .pg_errors
                        .lock()
                        .map(|mut errors| {
                            errors.insert(service.clone(), text.clone()) != Some(text)
                        })
                        .unwrap_or(true);
                    if new {
                        tracing::warn!(service, error = %e, "PostgreSQL connections unread");
                    }
                }
            }
        }
        out
    }

    /// The latest reading, taken now when there is none recent (no sampler running).
    async fn current(&self) -> Result<Arc<Vec<Sample>>, WorldError> {
        let fresh = self
            .latest
            .lock()
            .ok()
            .and_then(|l| l.clone())
            .filter(|(at, _)| at.elapsed() < LATEST_TTL)
            .map(|(_, s)| s);
        match fresh {
            Some(s) => Ok(s),
            None => self.sample().await,
        }
    }

    /// Each service's paths on disk: its data paths, the directories of its log files and
    /// those its error lines named.
    fn service_paths(&self) -> BTreeMap<String, Vec<std::path::PathBuf>> {
        let mut paths: BTreeMap<String, Vec<std::path::PathBuf>> = BTreeMap::new();
        if let Ok(learned) = self.learned_paths.lock() {
            for (service, dirs) in learned.iter() {
                paths
                    .entry(service.clone())
                    .or_default()
                    .extend(dirs.iter().cloned());
            }
        }
        for spec in self.map.specs() {
            paths
                .entry(spec.name.clone())
                .or_default()
                .extend(spec.data_paths.iter().cloned());
        }
        for source in &self.log_files {
            let spec = source.spec();
            for glob in &spec.globs {
                // The fixed part of the glob: the directory the files are written to.
                let fixed: std::path::PathBuf = std::path::Path::new(glob)
                    .components()
                    .take_while(|c| !c.as_os_str().to_string_lossy().contains(['*', '?', '[']))
                    .collect();
                let dir = if fixed.as_os_str() == glob.as_str() {
                    fixed.parent().map(|p| p.to_path_buf()).unwrap_or(fixed)
                } else {
                    fixed
                };
                paths.entry(spec.service.clone()).or_default().push(dir);
            }
        }
        paths
    }

    /// Baselines of the sampled signals, from the book.
    /// Baselines and last values of the sampled signals, read from the book at most every
    /// [`SAMPLED_TTL`]: an hour of every series is too much to read on every call.
    async fn sampled_baselines(&self) -> Arc<SampledRead> {
        if let Ok(cached) = self.sampled.lock()
            && let Some((at, read)) = cached.as_ref()
            && at.elapsed() < SAMPLED_TTL
        {
            return read.clone();
        }
        let read = Arc::new(self.read_sampled_baselines().await);
        if let Ok(mut cached) = self.sampled.lock() {
            *cached = Some((Instant::now(), read.clone()));
        }
        read
    }

    async fn read_sampled_baselines(&self) -> SampledRead {
        let Some(book) = &self.book else {
            return Default::default();
        };
        let now = Timestamp::now();
        let samples = match book.samples(now - history::BASELINE_LOOKBACK, now).await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the sampled history");
                return Default::default();
            }
        };
        let mut grouped: BTreeMap<(String, String), Vec<(Timestamp, f64)>> = BTreeMap::new();
        for s in samples {
            grouped
                .entry((s.service, s.signal))
                .or_default()
                .push((s.at, s.value));
        }
        // Signals not read at every reading (a log error share needs enough lines) keep their
        // last value for a while.
        let recent = now - LAST_VALUE_KEPT;
        let last: Vec<Sample> = grouped
            .iter()
            .filter_map(|((service, signal), points)| {
                let (at, value) = points.iter().max_by_key(|p| p.0)?;
                (*at >= recent).then(|| Sample {
                    at: *at,
                    service: service.clone(),
                    signal: signal.clone(),
                    value: *value,
                })
            })
            .collect();
        let baselines = grouped
            .into_iter()
            .filter_map(|(key, points)| history::baseline(&key.1, &points, now).map(|b| (key, b)))
            .collect();
        (baselines, last)
    }

    /// Also read these services' log files (`[[log_files]]`).
    pub fn with_log_files(mut self, sources: Vec<LogFileSource>) -> Self {
        self.log_files = sources;
        self
    }

    /// Also read these services' journal entries (`[[journald]]`).
    pub fn with_journald(mut self, sources: Vec<JournaldSource>) -> Self {
        self.journald = sources;
        self
    }

    /// Offer these remediation actions (`[[runbook]]`).
    pub fn with_runbook(mut self, runbook: Runbook) -> Self {
        self.runbook = Some(runbook);
        self
    }

    fn runbook(&self) -> Result<&Runbook, WorldError> {
        self.runbook.as_ref().ok_or_else(|| {
            WorldError::BadAction(
                "no remediation actions are declared on this system; add [[runbook]] entries to \
                 the config"
                    .into(),
            )
        })
    }

    /// Also watch the services of a Prometheus (`[prometheus]` in the config).
    pub fn with_prometheus(mut self, source: PrometheusSource) -> Self {
        self.prometheus = Some(source);
        self
    }

    /// Each Prometheus-watched service's signals now, beside their baselines: the average over
    /// the hour that ended 15 minutes ago, so an incident in progress does not pull its own
    /// baseline along.
    async fn prometheus_readings(
        &self,
        prom: &PrometheusSource,
    ) -> Result<Vec<ServiceReadings>, WorldError> {
        let config = prom.config();
        let pairs: Vec<(&String, &String)> = config
            .services
            .iter()
            .flat_map(|svc| config.signals.keys().map(move |sig| (svc, sig)))
            .collect();
        let now = futures::future::join_all(
            pairs
                .iter()
                .map(|(svc, sig)| prom.signal_instant(sig, svc, None)),
        )
        .await;
        let baselines = self.baselines(prom, &pairs).await;
        let mut out: Vec<ServiceReadings> = config
            .services
            .iter()
            .map(|svc| ServiceReadings {
                service: svc.clone(),
                kind: "prometheus".into(),
                readings: Vec::new(),
            })
            .collect();
        for ((svc, sig), current) in pairs.iter().zip(now) {
            let current = current.map_err(|e| WorldError::Unavailable(e.to_string()))?;
            let Some(sample) = current else { continue };
            let baseline = baselines.get(&((*svc).clone(), (*sig).clone())).copied();
            if let Some(entry) = out.iter_mut().find(|s| &s.service == *svc) {
                entry
                    .readings
                    .push(Reading::new((*sig).clone(), round3(sample.value), baseline));
            }
        }
        Ok(out)
    }

    async fn baselines(
        &self,
        prom: &PrometheusSource,
        pairs: &[(&String, &String)],
    ) -> BTreeMap<(String, String), f64> {
        if let Ok(cached) = self.baselines.lock()
            && let Some((at, map)) = cached.as_ref()
            && at.elapsed() < BASELINE_TTL
        {
            return map.clone();
        }
        let end = Timestamp::now() - SignedDuration::from_mins(15);
        let start = end - SignedDuration::from_hours(1);
        let ranges =
            futures::future::join_all(pairs.iter().map(|(svc, sig)| {
                prom.signal_range(sig, svc, start, end, Duration::from_secs(60))
            }))
            .await;
        let mut map = BTreeMap::new();
        for ((svc, sig), range) in pairs.iter().zip(ranges) {
            let samples: Vec<f64> = range
                .ok()
                .flatten()
                .unwrap_or_default()
                .into_iter()
                .map(|s| s.value)
                .filter(|v| v.is_finite())
                .collect();
            if !samples.is_empty() {
                let mean = samples.iter().sum::<f64>() / samples.len() as f64;
                map.insert(((*svc).clone(), (*sig).clone()), round3(mean));
            }
        }
        if let Ok(mut cached) = self.baselines.lock() {
            *cached = Some((Instant::now(), map.clone()));
        }
        map
    }

    fn prometheus_watches(&self, service: &str) -> bool {
        self.prometheus
            .as_ref()
            .is_some_and(|p| p.config().services.iter().any(|s| s == service))
    }

    fn probed_services(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for p in &self.probes {
            if !names.contains(&p.service.as_str()) {
                names.push(&p.service);
            }
        }
        names
    }

    async fn snapshot(&self) -> Result<Arc<HostSnapshot>, WorldError> {
        self.host
            .snapshot()
            .await
            .map_err(|e| WorldError::Unavailable(e.to_string()))
    }
}

impl World for LiveWorld {
    fn info(&self) -> WorldInfo {
        WorldInfo {
            kind: "live",
            name: self.name.clone(),
        }
    }

    fn services(&self) -> Vec<ServiceInfo> {
        // Every name any source uses is a service; a declaration adds its dependencies.
        let mut out: Vec<ServiceInfo> = Vec::new();
        let mut add = |name: &str, kind: &str| {
            if !out.iter().any(|s| s.name == name) {
                out.push(ServiceInfo {
                    name: name.to_string(),
                    kind: kind.to_string(),
                    depends_on: self
                        .map
                        .spec(name)
                        .map(|s| s.depends_on.clone())
                        .unwrap_or_default(),
                });
            }
        };
        add(HOST, "host");
        for spec in self.map.specs() {
            add(&spec.name, "service");
        }
        for name in self.probed_services() {
            add(name, "probed");
        }
        for source in &self.log_files {
            add(&source.spec().service, "logs");
        }
        for info in journald::services(&self.journald) {
            add(&info.name, "journald");
        }
        for source in &self.postgres {
            add(source.service(), "postgres");
        }
        if let Some(p) = &self.prometheus {
            for name in &p.config().services {
                add(name, "prometheus");
            }
        }
        if let Some(r) = &self.runbook {
            for a in r.actions() {
                add(&a.service, "service");
            }
        }
        for spec in self.map.specs() {
            for dep in &spec.depends_on {
                add(dep, "service");
            }
        }
        out
    }

    fn readings(&self) -> BoxFuture<'_, Result<Vec<ServiceReadings>, WorldError>> {
        Box::pin(async move {
            let samples = self.current().await?;
            let read = self.sampled_baselines().await;
            let (baselines, last) = (&read.0, &read.1);
            let mut all: Vec<ServiceReadings> = Vec::new();
            let missing = last.iter().filter(|l| {
                !samples
                    .iter()
                    .any(|s| s.service == l.service && s.signal == l.signal)
            });
            for s in samples.iter().chain(missing) {
                let reading = Reading::new(
                    s.signal.clone(),
                    s.value,
                    baselines
                        .get(&(s.service.clone(), s.signal.clone()))
                        .copied(),
                );
                match all.iter_mut().find(|r| r.service == s.service) {
                    Some(r) => r.readings.push(reading),
                    None => all.push(ServiceReadings {
                        service: s.service.clone(),
                        kind: if s.service == HOST { "host" } else { "service" }.into(),
                        readings: vec![reading],
                    }),
                }
            }
            // An unreachable Prometheus costs its services, not the whole answer; `health` says why.
            if let Some(prom) = &self.prometheus {
                match self.prometheus_readings(prom).await {
                    Ok(services) => all.extend(services),
                    Err(e) => tracing::warn!(error = %e, "prometheus readings unavailable"),
                }
            }
            Ok(all)
        })
    }

    fn host(&self) -> BoxFuture<'_, Result<Option<Arc<HostSnapshot>>, WorldError>> {
        Box::pin(async move { self.snapshot().await.map(Some) })
    }

    fn health(&self) -> BoxFuture<'_, Result<Vec<ServiceHealth>, WorldError>> {
        Box::pin(async move {
            let snapshot = self.snapshot().await?;
            let mut services = vec![judge_host(&snapshot, &self.thresholds)];
            let results = futures::future::join_all(
                self.probes
                    .iter()
                    .map(|p| async { (p.service.as_str(), p.run(&self.http).await) }),
            )
            .await;
            for name in self.probed_services() {
                let checks = results
                    .iter()
                    .filter(|(s, _)| *s == name)
                    .map(|(_, c)| c.clone())
                    .collect();
                services.push(ServiceHealth::new(name, checks));
            }
            // Services with processes or disks of their own: judged on those readings.
            let readings = self.readings().await?;
            for r in readings.iter().filter(|r| r.service != HOST) {
                let own: Vec<Reading> = r
                    .readings
                    .iter()
                    .filter(|x| !x.signal.starts_with("probe_"))
                    .cloned()
                    .collect();
                if own.is_empty() || self.prometheus_watches(&r.service) {
                    continue;
                }
                let mut judged = judge_readings(&r.service, &own, &self.thresholds);
                let (last_restart, last_oom_kill) = self
                    .tracker
                    .lock()
                    .ok()
                    .map(|t| (t.last_restart(&r.service), t.last_oom_kill(&r.service)))
                    .unwrap_or_default();
                judged.checks.extend(restart_check(&own, last_restart));
                judged.checks.extend(oom_check(&own, last_oom_kill));
                match services.iter_mut().find(|s| s.service == r.service) {
                    Some(existing) => {
                        let mut checks = std::mem::take(&mut existing.checks);
                        checks.extend(judged.checks);
                        *existing = ServiceHealth::new(r.service.clone(), checks);
                    }
                    None => services.push(ServiceHealth::new(r.service.clone(), judged.checks)),
                }
            }
            if let Some(prom) = &self.prometheus {
                match self.prometheus_readings(prom).await {
                    Ok(watched) => services.extend(
                        watched
                            .iter()
                            .map(|s| judge_readings(&s.service, &s.readings, &self.thresholds)),
                    ),
                    Err(e) => services.extend(prom.config().services.iter().map(|name| {
                        ServiceHealth::new(
                            name.clone(),
                            vec![Check {
                                backlog: false,
                                felt: false,
                                name: "prometheus".into(),
                                status: Status::Unhealthy,
                                value: 0.0,
                                unit: String::new(),
                                warning_at: None,
                                critical_at: None,
                                message: format!("no readings: {e}"),
                            }],
                        )
                    })),
                }
            }
            Ok(services)
        })
    }

    fn history(
        &self,
        from: Timestamp,
        to: Timestamp,
        step: Duration,
    ) -> BoxFuture<'_, Result<Vec<SignalSeries>, WorldError>> {
        Box::pin(async move {
            let mut out = Vec::new();
            if let Some(book) = &self.book {
                // The present is part of the history asked for: a reading older than a moment
                // is taken again (and kept), so an outage of seconds shows.
                let stale = self
                    .latest
                    .lock()
                    .ok()
                    .and_then(|l| l.as_ref().map(|(at, _)| at.elapsed()))
                    .is_none_or(|age| age > FRESH);
                if stale && to >= Timestamp::now() - SignedDuration::from_secs(1) {
                    self.sample().await?;
                }
                // Reach back far enough to read each signal's baseline as well.
                let now = Timestamp::now().min(to);
                let reach = (now - history::BASELINE_LOOKBACK).min(from);
                let samples = book
                    .samples(reach, to)
                    .await
                    .map_err(|e| WorldError::Unavailable(format!("cannot read history: {e}")))?;
                let window: Vec<Sample> =
                    samples.iter().filter(|s| s.at >= from).cloned().collect();
                out.extend(history::series(&window, &samples, from, step, now));
            }
            let Some(prom) = &self.prometheus else {
                return Ok(out);
            };
            let config = prom.config();
            let pairs: Vec<(&String, &String)> = config
                .services
                .iter()
                .flat_map(|svc| config.signals.keys().map(move |sig| (svc, sig)))
                .collect();
            let ranges = futures::future::join_all(
                pairs
                    .iter()
                    .map(|(svc, sig)| prom.signal_range(sig, svc, from, to, step)),
            )
            .await;
            let baselines = self.baselines(prom, &pairs).await;
            for ((svc, sig), range) in pairs.iter().zip(ranges) {
                let samples = range
                    .map_err(|e| WorldError::Unavailable(e.to_string()))?
                    .unwrap_or_default();
                out.push(SignalSeries {
                    service: (*svc).clone(),
                    signal: (*sig).clone(),
                    baseline: baselines.get(&((*svc).clone(), (*sig).clone())).copied(),
                    points: samples
                        .into_iter()
                        .map(|s| (s.at, round3(s.value)))
                        .collect(),
                });
            }
            Ok(out)
        })
    }

    fn has_log_sources(&self) -> bool {
        !self.log_files.is_empty() || !self.journald.is_empty()
    }

    fn logs(&self, from: Timestamp, to: Timestamp) -> BoxFuture<'_, Result<LogStream, WorldError>> {
        let sources = self.log_files.clone();
        let journal = self.journald.clone();
        Box::pin(async move {
            let entries = tokio::task::spawn_blocking(move || {
                let mut entries = read_log_files(&sources, from, to);
                entries.extend(journald::read_all(&journal, from, to));
                entries.sort_by_key(|e| e.at);
                entries
            })
            .await
            .map_err(|e| WorldError::Unavailable(format!("reading log files failed: {e}")))?;
            Ok(Box::new(entries.into_iter()) as LogStream)
        })
    }

    fn events(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> BoxFuture<'_, Result<Vec<WorldEvent>, WorldError>> {
        // Changes seen on the system (config files edited, deploys announced) and those the
        // package manager logged; remediations are on the incident's timeline.
        Box::pin(async move {
            let mut events = match &self.book {
                Some(book) => book
                    .changes(from, to)
                    .await
                    .map_err(|e| WorldError::Unavailable(format!("cannot read changes: {e}")))?,
                None => Vec::new(),
            };
            if let Some(packages) = self.packages.clone() {
                // Without a reading of the processes every package change is the host's; the
                // changes themselves are still told.
                let processes = match self.snapshot().await {
                    Ok(s) => s.all_processes.clone(),
                    Err(e) => {
                        tracing::warn!(error = %e, "package changes told without their services");
                        Arc::default()
                    }
                };
                let map = self.map.clone();
                let logged = tokio::task::spawn_blocking(move || {
                    packages.events(from, to, &map, &processes)
                })
                .await
                .map_err(|e| {
                    WorldError::Unavailable(format!("reading package changes failed: {e}"))
                })?;
                if !logged.is_empty() {
                    events.extend(logged);
                    events.sort_by_key(|e| e.at);
                }
            }
            Ok(events)
        })
    }

    fn actions(&self) -> Vec<ActionInfo> {
        let Some(runbook) = &self.runbook else {
            return Vec::new();
        };
        runbook
            .actions()
            .map(|a| ActionInfo {
                name: a.name.clone(),
                target: a.service.clone(),
                description: a.description.clone(),
                risk: a.risk,
                needs_approval: a.needs_approval,
                rollback: a.rollback.clone(),
                params: a
                    .params
                    .iter()
                    .map(|(k, v)| (k.clone(), v.describe()))
                    .collect(),
            })
            .collect()
    }

    fn apply(&self, request: ActionRequest) -> BoxFuture<'_, Result<ActionReport, WorldError>> {
        Box::pin(async move {
            let runbook = self.runbook()?;
            let declared = runbook.actions().find(|a| a.name == request.action);
            if let Some(a) = declared
                && a.service != request.target
            {
                return Err(WorldError::BadAction(format!(
                    "action '{}' acts on service '{}', not '{}'",
                    a.name, a.service, request.target
                )));
            }
            let outcome = runbook
                .run(&request.action, &request.params, request.dry_run)
                .await
                .map_err(|e| WorldError::BadAction(e.to_string()))?;
            Ok(report(outcome))
        })
    }

    fn rollback(
        &self,
        action: &str,
        target: &str,
    ) -> BoxFuture<'_, Result<ActionReport, WorldError>> {
        let (action, target) = (action.to_string(), target.to_string());
        Box::pin(async move {
            let runbook = self.runbook()?;
            let undo = runbook
                .actions()
                .find(|a| a.name == action && a.service == target)
                .and_then(|a| a.rollback.clone())
                .ok_or_else(|| {
                    WorldError::BadAction(format!(
                        "action '{action}' on '{target}' declares no rollback; nothing was changed"
                    ))
                })?;
            let outcome = runbook
                .run(&undo, &Default::default(), false)
                .await
                .map_err(|e| WorldError::BadAction(e.to_string()))?;
            Ok(report(outcome))
        })
    }
}

/// A service whose processes keep being replaced: three restarts within the restart memory are
/// a crash loop, two a warning — while it still restarts (the last one under
/// [`STILL_RESTARTING`] ago); once restarts stop, as after a fix whose own restart is one, it is
/// healthy again without waiting for the memory to pass.
fn restart_check(readings: &[Reading], last: Option<Timestamp>) -> Option<Check> {
    let r = readings.iter().find(|r| r.signal == "restarts")?;
    let within = measure::RESTART_MEMORY.as_mins();
    let still = last.is_some_and(|t| Timestamp::now() - STILL_RESTARTING < t);
    let (status, message) = if r.current >= 3.0 && still {
        (
            Status::Unhealthy,
            format!("{} restarts in {within} min: a crash loop", r.current),
        )
    } else if r.current >= 2.0 && still {
        (
            Status::Degraded,
            format!("{} restarts in {within} min", r.current),
        )
    } else {
        (
            Status::Healthy,
            format!(
                "{} restarts in {within} min, none in the last {} s",
                r.current,
                STILL_RESTARTING.as_secs()
            ),
        )
    };
    Some(Check {
        backlog: false,
        felt: false,
        name: "restarts".into(),
        status,
        value: r.current,
        unit: String::new(),
        warning_at: Some(2.0),
        critical_at: Some(3.0),
        message,
    })
}

/// A service whose processes the kernel kills for memory: any kill within the restart memory
/// is trouble while kills go on (the last under [`STILL_RESTARTING`] ago) — a process killed
/// at its limit every few seconds may look young and small at every reading, but the kernel
/// counted each kill. Once they stop, as after a fix, it is healthy again.
fn oom_check(readings: &[Reading], last: Option<Timestamp>) -> Option<Check> {
    let r = readings.iter().find(|r| r.signal == "oom_kills")?;
    let within = measure::RESTART_MEMORY.as_mins();
    let still = last.is_some_and(|t| Timestamp::now() - STILL_RESTARTING < t);
    let (status, message) = if r.current >= 1.0 && still {
        (
            Status::Unhealthy,
            format!(
                "{} of its processes killed by the kernel for memory (OOM) in {within} min",
                r.current
            ),
        )
    } else {
        (
            Status::Healthy,
            format!(
                "{} OOM kills in {within} min, none in the last {} s",
                r.current,
                STILL_RESTARTING.as_secs()
            ),
        )
    };
    Some(Check {
        backlog: false,
        felt: false,
        name: "oom kills".into(),
        status,
        value: r.current,
        unit: String::new(),
        warning_at: None,
        critical_at: Some(1.0),
        message,
    })
}

/// How recent a restart must be for a service to count as still restarting.
const STILL_RESTARTING: SignedDuration = SignedDuration::from_secs(20);

/// A runbook outcome as the world reports it.
fn report(outcome: RunOutcome) -> ActionReport {
    let succeeded = outcome.succeeded() || (outcome.dry_run && !outcome.executed);
    let mut output = format!("{} {}", outcome.program.display(), outcome.args.join(" "));
    if outcome.dry_run && !outcome.executed {
        output = format!("dry run: would run {output}");
    } else {
        output = format!(
            "ran {output}: exit {}{}\n{}{}",
            outcome
                .exit_code
                .map_or_else(|| "none".to_string(), |c| c.to_string()),
            if outcome.timed_out {
                " (timed out)"
            } else {
                ""
            },
            outcome.stdout,
            outcome.stderr
        );
    }
    ActionReport {
        action: outcome.action,
        target: outcome.service,
        dry_run: outcome.dry_run,
        at: Timestamp::now(),
        succeeded,
        output,
    }
}

fn read_log_files(sources: &[LogFileSource], from: Timestamp, to: Timestamp) -> Vec<LogEntry> {
    let defaults = opsmcp_logs::TimeDefaults {
        year: jiff::tz::TimeZone::UTC.to_datetime(from).year(),
        zone: jiff::tz::TimeZone::UTC,
    };
    let mut out = Vec::new();
    for source in sources {
        let lines = match source.read(&Default::default()) {
            Ok(lines) => lines,
            Err(e) => {
                tracing::warn!(service = %source.spec().service, error = %e, "log files unreadable");
                continue;
            }
        };
        let lines: Vec<String> = lines.filter_map(|l| l.ok()).map(|l| l.line).collect();
        let sample: Vec<&str> = lines.iter().take(200).map(String::as_str).collect();
        let parser = learn_timed(&sample, &defaults);
        // A line without a time of its own continues the event before it (a traceback, a
        // stack trace): it goes with that line, or nowhere when that line is out of the window.
        let mut last_in_window = false;
        for line in &lines {
            let record = parser.parse(line);
            let Some(at) = record.timestamp(&defaults) else {
                if last_in_window
                    && let Some(prev) = out.last_mut()
                    && continues(prev)
                {
                    prev.text.push('\n');
                    prev.text.push_str(line);
                }
                continue;
            };
            last_in_window = at >= from && at < to;
            if !last_in_window {
                continue;
            }
            out.push(LogEntry {
                at,
                service: source.spec().service.clone(),
                level: level_of(&record, line)
                    .map_or("unknown", |l| l.as_str())
                    .to_ascii_lowercase(),
                text: line.to_string(),
            });
        }
    }
    out.sort_by_key(|e| e.at);
    out
}

/// The existing directories of the absolute paths a line names (`path=/data/spool/x.csv`,
/// `open("/var/lib/app/db"): …`): the nearest existing ancestor of each, pseudo file systems
/// left out.
fn named_directories(line: &str) -> Vec<std::path::PathBuf> {
    line.split(|c: char| c.is_whitespace() || matches!(c, '=' | '"' | '\'' | '(' | ')' | ',' | ';'))
        .filter(|t| t.starts_with('/') && t.len() > 1)
        .filter(|t| {
            !["/proc", "/sys", "/dev", "/run"]
                .iter()
                .any(|p| t.starts_with(p))
        })
        .filter_map(|t| {
            let mut p = std::path::Path::new(t.trim_end_matches([':', '.']));
            while !p.is_dir() {
                p = p.parent()?;
            }
            (p != std::path::Path::new("/")).then(|| p.to_path_buf())
        })
        .take(4)
        .collect()
}

/// A line's level: the parser's, else the first level word among its first words
/// (`… [pid] user@db FATAL:  …`, where the columns before it come and go).
fn level_of(record: &opsmcp_logs::Record<'_>, line: &str) -> Option<opsmcp_logs::Level> {
    record.level.or_else(|| {
        line.split_whitespace().take(LEVEL_WORDS).find_map(|w| {
            let w = w.trim_matches(|c: char| !c.is_ascii_alphabetic());
            opsmcp_logs::Level::from_word(w.as_bytes())
        })
    })
}

/// How far into a line a level word is looked for when the header does not say.
const LEVEL_WORDS: usize = 6;

/// The most a multi-line event grows by its continuation lines.
const MAX_EVENT_BYTES: usize = 16 * 1024;

fn continues(entry: &LogEntry) -> bool {
    entry.text.len() < MAX_EVENT_BYTES
}

/// A parser that finds the time in as many sampled lines as it can. Learned from the whole
/// sample first; when continuation lines (tracebacks, stack traces) outnumber the lines that
/// start an event, learned again from the lines whose first word has a digit or a bracket,
/// where a timestamp can be, and kept if it reads more times.
fn learn_timed(sample: &[&str], defaults: &opsmcp_logs::TimeDefaults) -> opsmcp_logs::Parser {
    let timed = |p: &opsmcp_logs::Parser| {
        sample
            .iter()
            .filter(|l| p.parse(l).timestamp(defaults).is_some())
            .count()
    };
    let whole = opsmcp_logs::Parser::learn(sample);
    let read = timed(&whole);
    if read * 2 >= sample.len() {
        return whole;
    }
    let starts: Vec<&str> = sample
        .iter()
        .copied()
        .filter(|l| {
            l.split_whitespace()
                .next()
                .is_some_and(|w| w.starts_with('[') || w.bytes().any(|b| b.is_ascii_digit()))
        })
        .collect();
    if starts.is_empty() {
        return whole;
    }
    let narrow = opsmcp_logs::Parser::learn(&starts);
    if timed(&narrow) > read { narrow } else { whole }
}

fn round3(x: f64) -> f64 {
    if x.is_finite() {
        (x * 1000.0).round() / 1000.0
    } else {
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::files::LogFileSpec;

    #[test]
    fn an_error_line_names_where_the_service_writes() {
        let dir = tempfile::tempdir().unwrap();
        let spool = dir.path().join("spool");
        std::fs::create_dir(&spool).unwrap();
        let line = format!(
            "ERROR failed to persist order: [Errno 28] No space left on device path={}/o-17.json",
            spool.display()
        );
        assert_eq!(named_directories(&line), vec![spool.clone()]);
        assert!(named_directories("ERROR read /proc/self/status: denied").is_empty());
        assert!(named_directories("ERROR GET /api/orders 500").is_empty());
    }

    #[test]
    fn a_level_after_columns_that_come_and_go_is_found() {
        let line = "2026-12-05 04:04:35.185 UTC [21712] app@test FATAL:  too many connections for role \"app\"";
        let parser = opsmcp_logs::Parser::learn(&[line]);
        assert_eq!(
            level_of(&parser.parse(line), line),
            Some(opsmcp_logs::Level::Fatal)
        );
        let plain = "checkpoint complete: wrote 3 buffers";
        assert_eq!(level_of(&parser.parse(plain), plain), None);
    }

    /// A crash-looping Python service: timestamped lines between tracebacks.
    #[test]
    fn lines_between_tracebacks_are_read_and_the_traceback_goes_with_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let start = Timestamp::now() - SignedDuration::from_mins(10);
        let mut text = String::new();
        for i in 0..60 {
            let t = start + SignedDuration::from_secs(i * 10);
            text.push_str(&format!(
                "{t} INFO  [supervisor] starting inventory (attempt {i})\n"
            ));
            text.push_str("Traceback (most recent call last):\n");
            text.push_str("  File \"/srv/app.py\", line 12, in <module>\n    main()\n");
            text.push_str("KeyError: 'INVENTORY_DB_URL'\n");
            text.push_str(&format!("{t} ERROR [supervisor] exited with status 1\n"));
        }
        std::fs::write(dir.path().join("a.log"), text).unwrap();
        let source = LogFileSource::new(LogFileSpec {
            service: "inventory".into(),
            globs: vec![format!("{}/a.log", dir.path().display())],
            rotated: false,
            max_line_bytes: 4096,
        })
        .unwrap();
        let entries = read_log_files(&[source], start, Timestamp::now());
        let errors = entries.iter().filter(|e| e.level == "error").count();
        assert_eq!(errors, 60, "{:?}", entries.first());
        assert!(
            entries.iter().any(|e| e.text.contains("KeyError")),
            "the traceback is kept with the line before it"
        );
    }
}
