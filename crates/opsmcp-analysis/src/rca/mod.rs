//! Root-cause analysis: metric change points, log anomalies, change events and the service
//! dependency graph, correlated into ranked hypotheses with evidence for and against, the path
//! the trouble took, the remediation to try and what would confirm it.
//!
//! How it reasons, in order:
//! 1. **Which services are sick now**: signals out of range at the end of the window
//!    ([`crate::metrics`]) and logs that changed against the window before ([`crate::logs`]).
//!    Excursions that already ended are remembered as evidence, not as candidates.
//! 2. **Which sick service explains the others**: trouble travels from a dependency to its
//!    callers, as latency, errors or refused requests. A service whose own service-level signals
//!    degraded explains its sick callers; a service with a sick dependency that degraded no later
//!    is itself explained and weighs little. A dependency that is merely busy (CPU, connections)
//!    but still answers as fast as usual explains nothing — that is how a loud victim is told
//!    from the cause.
//! 3. **What kind of cause**: the signals that moved on the component (a pool at its maximum,
//!    a disk full, a certificate expired, memory climbing, the cache hit ratio falling, CPU with
//!    a scheduled job), the words of its new and bursting log templates, and change events on it
//!    just before the onset (a deploy, a config push). Specific evidence beats a coincident
//!    change event, because changes are frequent and most are harmless.
//! 4. **What to do**: the generic remediation for that kind of cause, picked among the actions
//!    the world offers on that component; when none fits, what to do in words.
//!
//! Nothing here knows a scenario, a service name or an answer: only signal names, log words and
//! the graph. The result is deterministic for the same world state.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use jiff::{SignedDuration, Timestamp};
use opsmcp_world::{ActionInfo, Risk, ServiceInfo, World, WorldEvent};
use serde::Serialize;

use crate::{
    AnalysisError, Window,
    logs::{self, LogQuery, LogReport, ServiceLogs},
    metrics::{self, MetricScan, SeriesChange},
    signals::{self, SignalKind},
};

mod candidate;
mod remedy;
mod report;
mod rules;

/// The root-cause taxonomy, as kebab-case strings: every hypothesis is one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RootCause {
    /// A pool (DB connections, threads) is used up.
    ConnectionPoolExhaustion,
    /// Memory grows until the process is killed.
    MemoryLeak,
    /// A new version brought errors.
    BadDeploy,
    /// A disk filled up.
    DiskFull,
    /// A dependency became slow.
    SlowDependency,
    /// A certificate expired.
    CertificateExpired,
    /// A scheduled job eats the CPU.
    RunawayJob,
    /// A cache emptied and the load fell through to its backend.
    CacheStampede,
    /// A configuration change broke something.
    BadConfigPush,
    /// A service stopped: nothing answers, its processes are gone.
    ServiceDown,
    /// A service keeps dying and being restarted.
    CrashLoop,
}

impl RootCause {
    /// Every type, in a fixed order.
    pub const ALL: [RootCause; 11] = [
        RootCause::ConnectionPoolExhaustion,
        RootCause::MemoryLeak,
        RootCause::BadDeploy,
        RootCause::DiskFull,
        RootCause::SlowDependency,
        RootCause::CertificateExpired,
        RootCause::RunawayJob,
        RootCause::CacheStampede,
        RootCause::BadConfigPush,
        RootCause::ServiceDown,
        RootCause::CrashLoop,
    ];

    /// Its kebab-case name, as scenario files and tool outputs spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            RootCause::ConnectionPoolExhaustion => "connection-pool-exhaustion",
            RootCause::MemoryLeak => "memory-leak",
            RootCause::BadDeploy => "bad-deploy",
            RootCause::DiskFull => "disk-full",
            RootCause::SlowDependency => "slow-dependency",
            RootCause::CertificateExpired => "certificate-expired",
            RootCause::RunawayJob => "runaway-job",
            RootCause::CacheStampede => "cache-stampede",
            RootCause::BadConfigPush => "bad-config-push",
            RootCause::ServiceDown => "service-down",
            RootCause::CrashLoop => "crash-loop",
        }
    }

    /// The kind a kebab-case name means, if it is one the rules know.
    pub fn parse(name: &str) -> Option<RootCause> {
        RootCause::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// What to do, in words, when the world offers no fitting action.
    fn advice(self, component: &str) -> String {
        match self {
            RootCause::ConnectionPoolExhaustion => format!(
                "raise {component}'s connection limit or pool size, and find what holds connections"
            ),
            RootCause::MemoryLeak => format!(
                "restart {component} to buy time, then roll back or fix the version that leaks"
            ),
            RootCause::BadDeploy => format!("roll {component} back to its previous version"),
            RootCause::DiskFull => {
                format!("free space on {component} (rotate or delete logs) or grow the volume")
            }
            RootCause::SlowDependency => format!(
                "fail over from {component}, or cut its timeouts and open a circuit breaker"
            ),
            RootCause::CertificateExpired => {
                format!("renew {component}'s certificate and reload it")
            }
            RootCause::RunawayJob => format!("stop or reschedule the job running on {component}"),
            RootCause::CacheStampede => format!(
                "warm {component} and hold back the load on its backend; do not flush it again"
            ),
            RootCause::BadConfigPush => {
                format!("revert the last configuration change on {component}")
            }
            RootCause::ServiceDown => format!(
                "start {component} again, then find out why it stopped (its last log lines, the kernel log)"
            ),
            RootCause::CrashLoop => format!(
                "read {component}'s last lines before each exit; undo what changed, or stop the restarts while you do"
            ),
        }
    }
}

/// One piece of evidence.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema, PartialEq)]
pub struct Evidence {
    /// `metric`, `log`, `event` or `dependency`.
    pub kind: &'static str,
    /// The service it is about.
    pub service: String,
    /// What it shows, with the numbers.
    pub detail: String,
    /// When (onset of a change, time of an event, first line of a template).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    /// For log evidence: one line as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub example: Option<String>,
}

/// The remediation to try.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema, PartialEq)]
pub struct SuggestedAction {
    /// The action's name, as `execute_remediation` takes it.
    pub action: String,
    /// The service it acts on.
    pub target: String,
    /// What it does.
    pub description: String,
    /// How much harm it can do.
    pub risk: Risk,
    /// It moves the callers off the component rather than repairing it (a failover, a
    /// circuit broken, traffic switched away; or any action on a caller): after it, the
    /// callers should recover and the component may stay as it is, for a human to repair.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub routes_around: bool,
    /// It runs only after a human approved it.
    pub needs_approval: bool,
}

/// One hypothesis.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema, PartialEq)]
pub struct Hypothesis {
    /// 1 = most likely.
    pub rank: usize,
    /// The type of cause.
    pub root_cause: RootCause,
    /// The service at fault.
    pub component: String,
    /// How likely it is right, 0..1: from the absolute strength of its own evidence and how
    /// clearly its component is where the trouble began — not a share among hypotheses.
    /// Calibrated over the scenario runs (`opsmcp eval` prints the reliability table).
    pub confidence: f64,
    /// One sentence.
    pub summary: String,
    /// What supports it.
    pub evidence_for: Vec<Evidence>,
    /// What speaks against it.
    pub evidence_against: Vec<Evidence>,
    /// How the trouble travelled to the sick callers, `a → b → c` (a calls nothing sick).
    pub propagation_path: Vec<String>,
    /// The other sick services it accounts for, off those paths: what its load or its work
    /// swamped below it, and what waits on those. Its fix is judged on them too.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accounts_for: Vec<String>,
    /// The action to try, chosen among those the world offers on the component by what the
    /// action says it does; absent when the hypothesis has no evidence of its own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggested_action: Option<SuggestedAction>,
    /// Every offered action that fits, best first (the first is `suggested_action`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub candidate_actions: Vec<SuggestedAction>,
    /// What to do, in words (always present; the only guidance when no action fits).
    pub remediation: String,
    /// What would confirm the hypothesis.
    pub to_confirm: Vec<String>,
}

/// A service found out of its normal range now.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema, PartialEq)]
pub struct SickService {
    /// The service.
    pub service: String,
    /// Earliest onset among its signals still out of range.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub onset: Option<String>,
    /// The signals out of range, in words.
    pub signals: Vec<String>,
    /// Error-rate change in its logs, in words, when it changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logs: Option<String>,
}

/// What the analysis concludes: a kind of cause on a component, or `unknown`.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema, PartialEq)]
pub struct Conclusion {
    /// The kind of cause (kebab-case), or `unknown` when no hypothesis reaches
    /// [`CONFIDENCE_FLOOR`].
    pub root_cause: String,
    /// The service at fault (absent when unknown and nothing is sick).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub component: Option<String>,
    /// The top hypothesis's confidence.
    pub confidence: f64,
    /// What was checked.
    pub checked: Vec<String>,
    /// What to look at next, when unknown.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub next: Vec<String>,
}

/// Below this confidence the answer is `unknown`: no action is suggested on it, and the
/// agent says it does not know rather than act.
pub const CONFIDENCE_FLOOR: f64 = 0.5;

/// The analysis.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct RcaReport {
    /// The window analysed.
    pub window: Window,
    /// One paragraph: the conclusion and what to do.
    pub summary: String,
    /// The conclusion: the top hypothesis when it is likely enough, else `unknown`.
    pub conclusion: Conclusion,
    /// Services out of range now, earliest onset first.
    pub sick_services: Vec<SickService>,
    /// Change events in the window (and deploys on sick services in the week before).
    pub events: Vec<Evidence>,
    /// Hypotheses, most likely first.
    pub hypotheses: Vec<Hypothesis>,
}

/// What to analyse.
#[derive(Debug, Clone)]
pub struct RcaRequest {
    /// The window.
    pub window: Window,
    /// What was reported (`checkout 5xx`, `slow orders`); service names in it mark the
    /// symptoms the hypotheses must explain.
    pub symptoms: Vec<String>,
}

/// How far back deploys on a sick service are looked for: a leak ships days before it kills.
const CHANGE_LOOKBACK: SignedDuration = SignedDuration::from_hours(24 * 7);
/// A change this long before the onset (or up to 2 minutes after) can have caused it.
const CHANGE_LEAD: SignedDuration = SignedDuration::from_mins(20);

/// How far before the window the logs are read when trouble began before it.
const LOG_REACH: SignedDuration = SignedDuration::from_mins(30);
/// Lines can lead the first out-of-range metric point by a sample or two.
const LOG_LEAD: SignedDuration = SignedDuration::from_mins(2);

/// The window whose logs are read: `window`, begun earlier when trouble the metrics saw began
/// shortly before it (a page comes minutes after the onset, and the window starts from the
/// page). The logs' normal is the stretch just before what is read; left as it is, it would be
/// the trouble's first minutes, and the trouble's own lines would be nothing new. A service
/// whose trouble began longer ago than [`LOG_REACH`] is long-standing: where its later signals
/// crossed their lines says nothing of where its logs turned, and it does not move the window.
fn log_window(window: &Window, scan: &MetricScan) -> Window {
    let reach = window.from - LOG_REACH;
    let mut first: BTreeMap<&str, Timestamp> = BTreeMap::new();
    for s in scan.series.iter().filter(|s| s.anomalous_now) {
        if let Some(o) = s.onset {
            first
                .entry(s.service.as_str())
                .and_modify(|f| *f = (*f).min(o))
                .or_insert(o);
        }
    }
    let earliest = first
        .into_values()
        .filter(|o| *o >= reach && *o < window.from + LOG_LEAD)
        .min();
    match earliest {
        Some(onset) => Window {
            from: (onset - LOG_LEAD).clamp(reach, window.from),
            to: window.to,
        },
        None => *window,
    }
}

/// Per-service facts.
#[derive(Debug, Default, Clone)]
struct Facts {
    /// Service-level degradation: what callers feel (latency, errors, refused work, limits):
    /// `latency` plus `failing`.
    service_level: f64,
    /// How much slower it answers (the largest latency change).
    latency: f64,
    /// How much of its work fails: errors, a cache that stopped hitting, an expired
    /// certificate, a full disk.
    failing: f64,
    /// How much less work reaches it than usual, while what does reach it is answered as
    /// usual: a service starved by its callers says something is wrong above it, not in it.
    starved: f64,
    /// Resource pressure that callers do not necessarily feel.
    resource: f64,
    /// How much its logs changed.
    logs: f64,
    onset: Option<Timestamp>,
    sick: bool,
    /// Its throughput is well above normal: it is being sent more work than usual, so its
    /// trouble may be load pushed onto it by its callers (a cache that stopped hitting, a
    /// retry storm) rather than a cause.
    load: bool,
    /// When what it shows its own callers began: its latency, errors, availability or lost
    /// throughput. More work sent to it is no trouble a dependency could have passed up.
    trouble_onset: Option<Timestamp>,
    /// When it began to fail (errors, gone): a dependency that fails explains a caller's
    /// failures that began with its own, even when the caller was slower before for a
    /// reason of its own.
    failing_onset: Option<Timestamp>,
    /// Trouble of a kind only it can have: its cache stopped hitting, its certificate
    /// expired, its disk or another of its own limits is full. What it calls cannot make
    /// that happen.
    own_trouble: bool,
    /// Its own trouble is more than a cache that stopped hitting: a certificate expired, a
    /// disk or another limit of its own full. No amount of work sent to it does that.
    own_limit: bool,
    /// How fast it answers is measured at all: without it, failing is not known to be fast.
    latency_measured: bool,
    /// Its new or bursting log lines say calls timed out: its failures are slowness seen as
    /// errors, however fast its measured (successful) requests are.
    times_out: bool,
    /// Until when what callers feel of it kept getting worse (the last time its latency,
    /// errors or throughput went a tenth further out than ever): a dependency worsening for
    /// hours can make a caller sick long after its own onset.
    worsening_until: Option<Timestamp>,
    /// When a deploy or config change of its own landed just before its onset, one whose
    /// words name what moved on it (its new errors speak of what the change did).
    named_change: Option<Timestamp>,
}

/// Ranks root-cause hypotheses for `request.window`.
pub async fn analyze(world: &dyn World, request: &RcaRequest) -> Result<RcaReport, AnalysisError> {
    let window = request.window;
    let services = world.services();
    let scan = metrics::scan(world, &window).await?;
    let logs = logs::analyze(
        world,
        &log_window(&window, &scan),
        &LogQuery::default(),
        usize::MAX,
    )
    .await?;
    let events: Vec<WorldEvent> = world
        .events(window.from - CHANGE_LOOKBACK, window.to)
        .await?
        .into_iter()
        .map(by_class)
        .collect();
    let actions = world.actions();
    tracing::debug!(
        series = scan.series.len(),
        log_lines = logs.lines,
        events = events.len(),
        "root-cause analysis inputs"
    );
    Ok(reason(&Inputs {
        window,
        services: &services,
        scan: &scan,
        logs: &logs,
        events: &events,
        actions: &actions,
        symptoms: &request.symptoms,
    }))
}

/// `e` with its kind read as what the change did ([`WorldEvent::class`]): the rules speak
/// of deploys, settings, jobs and scaling, whatever a source calls them. The source's word
/// stays in front of the detail.
fn by_class(e: WorldEvent) -> WorldEvent {
    match e.class() {
        Some(class) if class != e.kind => WorldEvent {
            detail: format!("{}: {}", e.kind, e.detail),
            kind: class.to_string(),
            ..e
        },
        _ => e,
    }
}

struct Inputs<'a> {
    window: Window,
    services: &'a [ServiceInfo],
    scan: &'a MetricScan,
    logs: &'a LogReport,
    events: &'a [WorldEvent],
    actions: &'a [ActionInfo],
    symptoms: &'a [String],
}

impl Inputs<'_> {
    fn changes(&self, service: &str) -> impl Iterator<Item = &SeriesChange> {
        self.scan
            .series
            .iter()
            .filter(move |s| s.service == service && s.anomalous_now)
    }

    /// The out-of-range signals of `service` of one kind, whatever their names.
    fn of_kind(&self, service: &str, kind: SignalKind) -> Vec<&SeriesChange> {
        self.changes(service)
            .filter(|c| signals::kind(&c.signal) == kind)
            .collect()
    }

    /// A pool of `service` (connections, threads, clients) at its maximum.
    fn pool_at_max(&self, service: &str) -> bool {
        self.of_kind(service, SignalKind::PoolUsage)
            .iter()
            .any(|x| x.limit.is_some())
    }

    fn logs_of(&self, service: &str) -> Option<&ServiceLogs> {
        self.logs.services.iter().find(|s| s.service == service)
    }

    fn deps(&self, service: &str) -> &[String] {
        self.services
            .iter()
            .find(|s| s.name == service)
            .map_or(&[], |s| s.depends_on.as_slice())
    }

    fn kind(&self, service: &str) -> &str {
        self.services
            .iter()
            .find(|s| s.name == service)
            .map_or("", |s| s.kind.as_str())
    }

    /// Services that call `service`, directly or through others, with their hop count.
    fn callers(&self, service: &str) -> BTreeMap<String, (usize, String)> {
        let mut out: BTreeMap<String, (usize, String)> = BTreeMap::new();
        let mut queue = VecDeque::from([(service.to_string(), 0usize)]);
        while let Some((s, hops)) = queue.pop_front() {
            for caller in self.services.iter().filter(|x| x.depends_on.contains(&s)) {
                if caller.name != service && !out.contains_key(&caller.name) {
                    out.insert(caller.name.clone(), (hops + 1, s.clone()));
                    queue.push_back((caller.name.clone(), hops + 1));
                }
            }
        }
        out
    }

    /// Services `service` calls, directly or through others, stopping at those swamped by load
    /// (which are left out too): what lies below a swamped service suffers from the load, so it
    /// cannot be what made `service` sick.
    fn dependencies_before_load(
        &self,
        service: &str,
        facts: &BTreeMap<String, Facts>,
    ) -> BTreeSet<String> {
        let loaded = |s: &str| facts.get(s).is_some_and(|f| f.load);
        let mut out = BTreeSet::new();
        let mut queue: VecDeque<String> = self
            .deps(service)
            .iter()
            .filter(|d| !loaded(d))
            .cloned()
            .collect();
        while let Some(s) = queue.pop_front() {
            if s != service && out.insert(s.clone()) {
                queue.extend(self.deps(&s).iter().filter(|d| !loaded(d)).cloned());
            }
        }
        out
    }

    /// Services `service` calls, directly or through others.
    fn dependencies(&self, service: &str) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let mut queue: VecDeque<String> = self.deps(service).iter().cloned().collect();
        while let Some(s) = queue.pop_front() {
            if s != service && out.insert(s.clone()) {
                queue.extend(self.deps(&s).iter().cloned());
            }
        }
        out
    }
}

fn facts(inp: &Inputs<'_>, service: &str) -> Facts {
    let mut f = Facts {
        latency_measured: inp
            .scan
            .series
            .iter()
            .any(|s| s.service == service && signals::kind(&s.signal) == SignalKind::Latency),
        ..Facts::default()
    };
    let earliest = |a: Option<Timestamp>, b: Option<Timestamp>| match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    // When callers started to feel it: the onset of what they feel (latency, errors,
    // throughput) when there is one; a counter or a resource can wander earlier for reasons
    // of its own.
    let mut felt_onset = None;
    for c in inp.changes(service) {
        f.onset = earliest(f.onset, c.onset);
        if matches!(
            signals::kind(&c.signal),
            SignalKind::Latency
                | SignalKind::Errors
                | SignalKind::Throughput
                | SignalKind::Availability
        ) {
            felt_onset = earliest(felt_onset, c.onset);
            f.worsening_until = f.worsening_until.max(c.worsening_until);
        }
        if more_work(c) && c.current >= 2.0 * c.reference {
            f.load = true;
        }
        // An expired certificate fails every new handshake from the moment it expired, however
        // slowly the traffic it turns away falls off as pooled connections recycle.
        if signals::kind(&c.signal) == SignalKind::CertExpiry && c.limit.is_some() {
            felt_onset = earliest(felt_onset, c.onset);
            f.trouble_onset = earliest(f.trouble_onset, c.onset);
        }
        let more_work = more_work(c);
        if !more_work
            && matches!(
                signals::kind(&c.signal),
                SignalKind::Latency
                    | SignalKind::Errors
                    | SignalKind::Throughput
                    | SignalKind::Availability
            )
        {
            f.trouble_onset = earliest(f.trouble_onset, c.onset);
        }
        if matches!(
            signals::kind(&c.signal),
            SignalKind::Errors | SignalKind::Availability
        ) {
            f.failing_onset = earliest(f.failing_onset, c.onset);
        }
        let own_limit = signals::kind(&c.signal) == SignalKind::CertExpiry
            || (matches!(
                signals::kind(&c.signal),
                SignalKind::Disk | SignalKind::Other
            ) && c.limit.is_some());
        if own_limit || signals::kind(&c.signal) == SignalKind::CacheHit {
            f.own_trouble = true;
        }
        f.own_limit |= own_limit;
        match signals::kind(&c.signal) {
            SignalKind::Latency => f.latency = f.latency.max(c.magnitude),
            // A service that is gone fails everything sent to it. Trouble beneath it (packets
            // lost, a clock minutes off) fails its callers too: their calls time out, the
            // tokens it signs are refused.
            // A process that dies (a crash, an OOM kill) drops what it was serving and refuses
            // until it is back: callers feel each death, however quickly it is replaced.
            SignalKind::Errors
            | SignalKind::CacheHit
            | SignalKind::CertExpiry
            | SignalKind::Platform
            | SignalKind::Restarts
            | SignalKind::Availability => f.failing += c.magnitude,
            SignalKind::Throughput if c.current < c.reference => f.starved += c.magnitude,
            // A full disk fails writes: callers feel it. A pool at its maximum is pressure;
            // callers feel it only through latency and errors, which are counted above.
            SignalKind::Disk if c.limit.is_some() => f.failing += c.magnitude,
            // A quantity we know nothing else of, at the limit named after it (a table of
            // tracked connections full): what comes past it is refused, and its callers feel
            // that even where its own latency and errors never see it.
            SignalKind::Other if c.limit.is_some() => f.failing += c.magnitude,
            _ => f.resource += c.magnitude,
        }
    }
    // A pool whose own answer time nobody measures (a connection pooler, a proxy) still
    // shows what its clients feel: they wait in line for it.
    if !f.latency_measured {
        let waiting = inp
            .of_kind(service, SignalKind::PoolWaiting)
            .iter()
            .map(|c| c.magnitude)
            .fold(0.0f64, f64::max);
        f.latency = f.latency.max(waiting);
    }
    f.times_out = telling_templates(inp, service).iter().any(|t| {
        let text = t.text();
        TIMEOUT_WORDS.iter().any(|w| text.contains(w))
    });
    f.service_level = f.latency + f.failing;
    f.onset = felt_onset.or(f.onset);
    if let Some(l) = inp.logs_of(service) {
        let rise = (l.error_rate - l.baseline_error_rate).max(0.0);
        let loud_new = l
            .new_templates
            .iter()
            .filter(|t| t.errors > 0 || t.count >= 5)
            .count();
        f.logs = (rise * 5.0 + 0.3 * loud_new as f64 + 0.2 * l.bursts.len() as f64).min(2.0);
    }
    // Logs alone can tell: a world without metric history (a live host without Prometheus)
    // still has its error lines.
    f.sick = f.felt() || f.starved >= FELT || f.resource >= 0.8 || f.logs >= 1.0;
    f.named_change = ["deploy", "config"]
        .into_iter()
        .flat_map(|k| changes_before(inp, service, k, f.trouble_onset.or(f.onset)))
        .filter(|e| rules::names_what_moved(inp, service, e).is_some())
        .map(|e| e.at)
        .max();
    f
}

/// A template and its example line, lowercase: what the rules read of a line (see
/// [`Telling::text`] for why both).
fn template_text(template: &str, example: &str) -> String {
    format!("{template} {example}").to_lowercase()
}

/// What a log line says when a call waited past its deadline.
const TIMEOUT_WORDS: &[&str] = &[
    "timed out",
    "timeout",
    "time out",
    "deadline exceeded",
    "deadline_exceeded",
];

/// How soon after a scheduled run starts the store it floods shows it.
const FLOOD_LAG: SignedDuration = SignedDuration::from_mins(10);

/// How many times its usual work a caller sends when it surges.
const SURGE: f64 = 2.0;

/// Service-level degradation from which on callers feel a service's trouble.
const FELT: f64 = 0.4;

/// How long before a caller's trouble a dependency's may have begun and still be what
/// caused it: a caller that answered as usual for longer than this while the dependency was
/// already degraded was made sick by something else.
const DEPENDENCY_LEAD: SignedDuration = SignedDuration::from_mins(15);

/// How much later than its caller's a loaded dependency's trouble must begin to be read as
/// that caller's load arriving (two readings: one is jitter at a threshold).
/// How long a caller must have gone on as usual under a dependency's trouble before a change
/// of its own, for that change rather than the dependency to explain what followed.
const WEATHERED: SignedDuration = SignedDuration::from_mins(5);

const LOAD_LAG: SignedDuration = SignedDuration::from_secs(40);

impl Facts {
    /// Degraded at least as much as `other`, in the way it degraded: as much slower, or
    /// failing as much.
    fn worse_than(&self, other: &Facts) -> bool {
        (self.latency >= FELT && self.latency >= other.latency)
            || (self.failing >= FELT && self.failing >= other.failing)
    }

    fn felt(&self) -> bool {
        self.service_level >= FELT
    }

    /// Whether this service's trouble, as a dependency of `caller`, can be what `caller`
    /// shows: it is felt, it began with the caller's (not long before, not after), and it is
    /// of a kind that travels to what the caller shows — slowness alone makes callers slow
    /// (or time out, which they feel as slowness too), so it does not explain a caller that
    /// fails fast (and is measured to answer fast); nor a caller with trouble only it can
    /// have (its cache emptied, its disk full).
    fn transmits_to(&self, caller: &Facts) -> bool {
        let timed_with = |c: Option<Timestamp>| match (self.onset, c) {
            (Some(d), Some(c)) => {
                d <= c + SignedDuration::from_mins(2)
                    && (d + DEPENDENCY_LEAD >= c || self.worsening_until.is_some_and(|w| w >= c))
            }
            _ => true,
        };
        let timed = timed_with(caller.trouble_onset.or(caller.onset))
            || (self.failing >= FELT
                && caller.failing_onset.is_some()
                && timed_with(caller.failing_onset));
        // Failing while answering as fast as ever; a caller whose speed nobody measures
        // (a sync job that only counts its errors), or whose lines say its calls timed out
        // (the failed calls are the slow ones, and no latency counts them), is not.
        let fails_fast = caller.failing >= FELT
            && caller.latency < FELT
            && caller.latency_measured
            && !caller.times_out;
        // Sent more work than usual, and in trouble only well after its caller was: the
        // caller's trouble came first, and the work came down from it.
        let after_its_sender = self.load
            && matches!(
                (self.trouble_onset, caller.trouble_onset.or(caller.onset)),
                (Some(d), Some(c)) if d >= c + LOAD_LAG
            );
        // A cache in front of a dependency that fails for a reason of its own stops hitting
        // too: failed fetches are not stored, so keys that expire are never filled again.
        let its_cache_starved = !caller.own_limit && self.own_limit && self.failing >= FELT;
        // A caller whose calls time out while it is no slower (it gives up sooner: a timeout
        // cut short) is not explained by a dependency that is no slower either and fails
        // less than it does: errors from below come back as errors, not as timeouts.
        let cut_short = caller.times_out
            && caller.latency < FELT
            && self.latency < FELT
            && self.failing < caller.failing;
        // A caller that weathered this trouble for minutes, until a change of its own whose
        // words name what went wrong with it: the change explains it, not what was already
        // wrong below.
        let weathered = matches!(
            (self.onset, caller.named_change, caller.trouble_onset.or(caller.onset)),
            (Some(d), Some(change), Some(c))
                if change >= d + WEATHERED && c + SignedDuration::from_mins(1) >= change
        );
        self.felt()
            && timed
            && !cut_short
            && !weathered
            && !(fails_fast && self.failing < FELT)
            && (!caller.own_trouble || its_cache_starved)
            && !after_its_sender
    }
}

/// Words in log templates that point at a kind of cause.
fn keywords(cause: RootCause) -> &'static [&'static str] {
    match cause {
        RootCause::ConnectionPoolExhaustion => &[
            "connection slots",
            "too many connections",
            "connection pool",
            "acquiring connection",
            "pool exhausted",
            "remaining connection",
            "connection limit",
            "max_connections",
            "maxclients",
            "thread pool",
            "rejectedexecution",
            "rejected execution",
            "no available",
            "pool timeout",
            "waiting for a connection",
            "queue full",
            "all workers busy",
            "busy threads",
            "connection is not available",
            "query_wait_timeout",
            "no more connections",
            "too many clients",
            // Redis's refusal and Tomcat's connector at its bound.
            "max number of clients",
            "maximum number of threads",
        ],
        RootCause::MemoryLeak => &[
            "oom",
            "out of memory",
            "outofmemory",
            "gc pause",
            "gc overhead",
            "heap",
            "memory",
            "killed process",
        ],
        RootCause::BadDeploy => &[
            "exception",
            "panic",
            "traceback",
            "typeerror",
            "nullpointer",
            "undefined",
            "stack trace",
        ],
        RootCause::DiskFull => &[
            "no space left",
            "disk full",
            "enospc",
            "os error 28",
            "quota",
            "could not extend",
            "no space",
            "filesystem full",
            "inode",
        ],
        RootCause::SlowDependency => &["slow", "timed out", "timeout", "took"],
        RootCause::CertificateExpired => &[
            "certificate",
            "x509",
            "tls handshake",
            "ssl",
            "cert expired",
            "handshake failure",
        ],
        RootCause::RunawayJob => &["job", "cron", "reindex", "batch", "backfill"],
        RootCause::CacheStampede => &["cache miss", "miss for", "stampede", "concurrent loads"],
        RootCause::ServiceDown => &[
            "connection refused",
            "econnrefused",
            "connect: connection refused",
            "no route to host",
            "host unreachable",
            "service unavailable",
            "upstream connect error",
            "no healthy upstream",
            "connection reset",
        ],
        RootCause::CrashLoop => &[
            "segmentation fault",
            "segfault",
            "core dumped",
            "exited with",
            "exit code",
            "exit status",
            "restarting",
            "back-off",
            "backoff",
            "crashed",
            "fatal",
        ],
        RootCause::BadConfigPush => &[
            "config",
            "invalid setting",
            "unknown option",
            "invalid value",
            "failed to parse",
            "misconfigur",
        ],
    }
}

/// A telling log template: new in the window, or bursting.
struct Telling {
    template: String,
    lines: u64,
    example: String,
    /// When first seen, as written.
    first_seen: Option<String>,
    /// When first seen, read (unknown for a burst: only its peak minute is).
    first_at: Option<Timestamp>,
}

impl Telling {
    /// Its template and example line, lowercase: templates mask variable parts, and a header
    /// parser can take the start of a message for a field (`FATAL: …`), so the words may be
    /// in the example only.
    fn text(&self) -> String {
        template_text(&self.template, &self.example)
    }

    /// A single line, written more than a minute before `onset`: a change announcing itself
    /// before the trouble began. Trouble's own lines recur, and a service's metrics can lag
    /// its first lines by minutes, so a line that recurs is never taken for one.
    fn announced_before(&self, onset: Option<Timestamp>) -> bool {
        self.lines <= 1
            && matches!((self.first_at, onset), (Some(f), Some(o)) if f + SignedDuration::from_mins(1) < o)
    }
}

/// Templates of `service` that are new or bursting, with how many lines: what its logs say.
fn telling_templates(inp: &Inputs<'_>, service: &str) -> Vec<Telling> {
    let Some(l) = inp.logs_of(service) else {
        return Vec::new();
    };
    let mut out: Vec<Telling> = l
        .new_templates
        .iter()
        .map(|t| Telling {
            template: t.template.clone(),
            lines: t.count,
            example: t.example.clone(),
            first_seen: t.first_seen.clone(),
            first_at: t.first_at,
        })
        .collect();
    for b in &l.bursts {
        if !out.iter().any(|o| o.template == b.template) {
            out.push(Telling {
                template: b.template.clone(),
                lines: b.count,
                example: b.example.clone(),
                first_seen: Some(b.bucket.clone()),
                first_at: None,
            });
        }
    }
    out
}

fn keyword_hits(inp: &Inputs<'_>, service: &str, cause: RootCause) -> Vec<Telling> {
    telling_templates(inp, service)
        .into_iter()
        .filter(|t| {
            let text = t.text();
            keywords(cause).iter().any(|k| text.contains(k))
                || (cause == RootCause::ConnectionPoolExhaustion && says_pool_ran_out(&text))
        })
        .collect()
}

/// Whether `dep`'s trouble is `caller`'s change showing: it began with the caller's, is no
/// worse than the caller's, under a change on the caller that names what moved and none of
/// its own that does (a timeout cut short, a flag that sends other work down). What changed
/// comes first.
/// `named`: the services with a change just before their onset that names what moved
/// ([`changed_what_moved`]).
fn changed_first(
    all: &BTreeMap<String, Facts>,
    named: &BTreeSet<String>,
    caller: &str,
    dep: &str,
) -> bool {
    let (c, d) = (&all[caller], &all[dep]);
    matches!((d.onset, c.onset), (Some(a), Some(b)) if a + SignedDuration::from_mins(1) >= b)
        // A dependency worse off than its caller (failing more, or as much slower) is in
        // trouble of its own, whatever set it off.
        && !d.worse_than(c)
        && named.contains(caller)
        && !named.contains(dep)
}

/// Whether a deploy or config change on `service` just before `onset` names what moved on it.
fn changed_what_moved(inp: &Inputs<'_>, service: &str, onset: Option<Timestamp>) -> bool {
    ["deploy", "config"].iter().any(|k| {
        changes_before(inp, service, k, onset)
            .into_iter()
            .any(|e| rules::names_what_moved(inp, service, e).is_some())
    })
}

/// A line that says a pool ran out, however a client library words it ("could not obtain a
/// connection from the pool", "all pooled connections were in use"): a word of a pool and one
/// of getting nothing from it or waiting for it.
fn says_pool_ran_out(text: &str) -> bool {
    let words = signals::words(text);
    let has = |any: &[&str]| words.iter().any(|w| any.contains(&w.as_str()));
    has(&["pool", "pooled", "pools"])
        && has(&[
            "obtain",
            "acquire",
            "exhausted",
            "available",
            "use",
            "waiting",
            "wait",
            "timeout",
            "timed",
            "block",
        ])
}

/// Change events of `kind` on `service` from `CHANGE_LEAD` before `onset` to 2 min after.
fn changes_before<'e>(
    inp: &'e Inputs<'_>,
    service: &str,
    kind: &str,
    onset: Option<Timestamp>,
) -> Vec<&'e WorldEvent> {
    let Some(onset) = onset else {
        return Vec::new();
    };
    inp.events
        .iter()
        .filter(|e| e.service == service && e.kind == kind)
        .filter(|e| e.at >= onset - CHANGE_LEAD && e.at <= onset + SignedDuration::from_mins(2))
        .collect()
}

fn at(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn describe(c: &SeriesChange) -> String {
    let since = c
        .onset
        .map(|t| format!(" since {}", at(t)))
        .unwrap_or_default();
    let factor = if c.reference > 0.0 && c.current > 0.0 {
        let r = c.current / c.reference;
        if r >= 1.0 {
            format!(" (×{:.1})", r)
        } else {
            format!(" (×{:.2})", r)
        }
    } else {
        String::new()
    };
    let limit = c
        .limit
        .as_ref()
        .map(|l| format!("; {l}"))
        .unwrap_or_default();
    format!(
        "{} {} → {}{factor}{since}{limit}",
        c.signal, c.reference, c.current
    )
}

/// Whether `service` retries more than usual: a signal of its calls tried again, out of range
/// and up.
fn retries(inp: &Inputs<'_>, service: &str) -> bool {
    inp.changes(service)
        .any(|c| c.current > c.reference && signals::is_retry(&c.signal))
}

/// What every step of the reasoning reads: the inputs, each service's facts, which services
/// are sick, which changed just before their onset in a way that names what moved, and which
/// the report names.
struct Survey<'a> {
    inp: &'a Inputs<'a>,
    all: BTreeMap<String, Facts>,
    sick: BTreeSet<String>,
    /// Services with a change just before their onset that names what moved
    /// ([`changed_what_moved`]).
    named: BTreeSet<String>,
    /// Services the reported symptoms name.
    symptoms: BTreeSet<String>,
}

impl<'a> Survey<'a> {
    /// Step 1: the facts of every service, and which are sick.
    fn of(inp: &'a Inputs<'a>) -> Self {
        let names: Vec<String> = inp.services.iter().map(|s| s.name.clone()).collect();
        let mut all: BTreeMap<String, Facts> =
            names.iter().map(|n| (n.clone(), facts(inp, n))).collect();
        for n in echoed_load(inp, &names, &all) {
            if let Some(f) = all.get_mut(&n) {
                f.load = false;
            }
        }
        let named: BTreeSet<String> = names
            .iter()
            .filter(|n| changed_what_moved(inp, n, all[*n].onset))
            .cloned()
            .collect();
        let sick: BTreeSet<String> = all
            .iter()
            .filter(|(_, f)| f.sick)
            .map(|(n, _)| n.clone())
            .collect();
        for n in &sick {
            tracing::debug!(service = %n, facts = ?all[n], "sick service");
        }
        let symptoms: BTreeSet<String> = names
            .iter()
            .filter(|n| {
                inp.symptoms
                    .iter()
                    .any(|s| s.to_lowercase().contains(n.as_str()))
            })
            .cloned()
            .collect();
        Survey {
            inp,
            all,
            sick,
            named,
            symptoms,
        }
    }
}

/// Services sent more work than usual only as their own failures echoed back: their callers
/// retry them, and none of those callers was sent more work itself. No load from above made
/// them sick.
fn echoed_load(inp: &Inputs<'_>, names: &[String], all: &BTreeMap<String, Facts>) -> Vec<String> {
    names
        .iter()
        .filter(|n| all[*n].load)
        .filter(|n| {
            let callers: Vec<String> = inp
                .callers(n)
                .into_iter()
                .filter(|(_, (hops, _))| *hops == 1)
                .map(|(c, _)| c)
                .collect();
            !callers.is_empty()
                && callers.iter().any(|c| retries(inp, c))
                && callers.iter().all(|c| all.get(c).is_none_or(|f| !f.load))
        })
        .cloned()
        .collect()
}

/// The reasoning over gathered inputs, in the steps the module's header lists; pure and
/// deterministic.
fn reason(inp: &Inputs<'_>) -> RcaReport {
    let survey = Survey::of(inp);
    let scored = candidate::candidates(&survey);
    report::write(&survey, &scored)
}

/// Whether what fills the component's disks is inodes only: the files are too many, not too
/// big. node_exporter counts inodes as a filesystem's `files` (`node_filesystem_files_free`).
fn only_inodes(inp: &Inputs<'_>, component: &str) -> bool {
    let disks = inp.of_kind(component, SignalKind::Disk);
    !disks.is_empty()
        && disks.iter().all(|c| {
            let w = signals::words(&c.signal);
            let has = |any: &[&str]| w.iter().any(|x| any.contains(&x.as_str()));
            has(&["inodes", "inode"]) || (has(&["files"]) && !has(&["bytes", "size"]))
        })
}

/// A pool that filled slowly — its use or its waiters climbing for [`rules::LEAK_CLIMB`] or
/// more — after a release of its own service shortly before the climb began: what a release
/// that takes connections (or threads) and never gives them back draws. Load fills a pool as
/// fast as it arrives, and a pool sized too small is full from the start.
fn pool_leaks(inp: &Inputs<'_>, component: &str) -> bool {
    inp.changes(component)
        .filter(|c| {
            let kind = signals::kind(&c.signal);
            (kind == SignalKind::PoolUsage && c.limit.is_some()) || kind == SignalKind::PoolWaiting
        })
        .filter_map(|c| Some((c.onset?, c.worsening_until?)))
        .any(|(onset, until)| {
            until.duration_since(onset) >= rules::LEAK_CLIMB
                && !changes_before(inp, component, "deploy", Some(onset)).is_empty()
        })
}

/// The component's other out-of-range signals, not yet cited.
fn metric_evidence(inp: &Inputs<'_>, component: &str, cited: &[Evidence]) -> Vec<Evidence> {
    inp.changes(component)
        .map(|c| Evidence {
            kind: "metric",
            service: c.service.clone(),
            detail: describe(c),
            at: c.onset.map(at),
            example: None,
        })
        .filter(|e| !cited.iter().any(|c| c.detail == e.detail))
        .collect()
}

fn hypothesis(
    inp: &Inputs<'_>,
    cause: RootCause,
    component: &str,
    propagation_path: Vec<String>,
    evidence_for: Vec<Evidence>,
    evidence_against: Vec<Evidence>,
    own_evidence: bool,
) -> Hypothesis {
    let deployed_before = inp
        .events
        .iter()
        .any(|e| e.service == component && e.kind == "deploy");
    let mut fitting = if own_evidence {
        remedy::rank(cause, &[component], inp.actions)
    } else {
        Vec::new()
    };
    if cause == RootCause::ConnectionPoolExhaustion && own_evidence {
        // A caller that sends twice its usual work or more fills the pool: holding it back
        // comes first.
        let surging: Vec<String> = inp
            .callers(component)
            .into_iter()
            .filter(|(c, (hops, _))| {
                *hops == 1
                    && inp.changes(c).any(|s| {
                        signals::kind(&s.signal) == SignalKind::Throughput
                            && s.current >= SURGE * s.reference
                    })
            })
            .map(|(c, _)| c)
            .collect();
        let surging: Vec<&str> = surging.iter().map(String::as_str).collect();
        let held = remedy::hold_back(&surging, inp.actions);
        fitting.retain(|a| {
            !held
                .iter()
                .any(|h| h.name == a.name && h.target == a.target)
        });
        fitting.splice(0..0, held);
    }
    let undo = |a: &&ActionInfo| {
        signals::words(&a.name).iter().any(|w| {
            matches!(
                w.as_str(),
                "rollback" | "revert" | "previous" | "downgrade" | "pin" | "undo"
            )
        })
    };
    if cause == RootCause::MemoryLeak {
        // A restart only buys time; undoing the version that brought the leak fixes it.
        fitting.sort_by_key(|a| undo(a) != deployed_before);
    }
    if cause == RootCause::ConnectionPoolExhaustion && own_evidence && pool_leaks(inp, component) {
        // Connections taken and never given back: a bigger pool or a restart only fills
        // later; undoing the release that leaks them is the fix.
        let undoing: Vec<&ActionInfo> = inp
            .actions
            .iter()
            .filter(|a| a.target == component && undo(a))
            .collect();
        fitting.retain(|a| !undoing.iter().any(|u| u.name == a.name));
        fitting.splice(0..0, undoing);
    }
    if cause == RootCause::DiskFull && only_inodes(inp, component) {
        fitting.sort_by_key(|a| remedy::grows(a));
    }
    if cause == RootCause::DiskFull {
        // What grew by half again or more while the disk filled: not always out of range (an
        // unknown quantity must double for that), yet it names what holds the bytes.
        let fillers: Vec<String> = inp
            .scan
            .series
            .iter()
            .filter(|c| c.service == component && c.current >= GREW_BY_HALF * c.reference)
            .filter(|c| rules::explains_quantity(cause, c))
            .map(|c| c.signal.clone())
            .collect();
        tracing::debug!(component, ?fillers, "what filled the disk");
        fitting.sort_by_key(|a| remedy::about_the_filler(a, &fillers));
    }
    // Nothing to do on a dependency that is slow, gone or untrusted: route around it where it
    // is called.
    if own_evidence
        && fitting.is_empty()
        && matches!(
            cause,
            RootCause::SlowDependency | RootCause::ServiceDown | RootCause::CertificateExpired
        )
    {
        let callers: Vec<String> = inp
            .callers(component)
            .into_iter()
            .filter(|(_, (hops, _))| *hops == 1)
            .map(|(c, _)| c)
            .collect();
        let callers: Vec<&str> = callers.iter().map(String::as_str).collect();
        fitting = remedy::route_around(component, &callers, inp.actions);
    }
    let candidate_actions: Vec<SuggestedAction> = fitting
        .iter()
        .map(|a| SuggestedAction {
            action: a.name.clone(),
            target: a.target.clone(),
            description: a.description.clone(),
            risk: a.risk,
            // Nothing we run makes a slow dependency fast: every fix the kind's vocabulary
            // fits (fail over, switch, break the circuit, degrade) moves its callers off it.
            routes_around: cause == RootCause::SlowDependency || a.target != component,
            needs_approval: a.needs_approval,
        })
        .collect();
    let suggested_action = candidate_actions.first().cloned();
    let remediation = match &suggested_action {
        Some(a) => format!("{} on {} ({})", a.action, a.target, cause.advice(component)),
        None => cause.advice(component),
    };
    let key_signal = match cause {
        RootCause::ConnectionPoolExhaustion => "the pool's in-use count falls below its maximum",
        RootCause::MemoryLeak => "memory stops climbing and stays flat",
        RootCause::BadDeploy => "the error rate returns to its baseline",
        RootCause::DiskFull => "disk usage drops and writes succeed",
        RootCause::SlowDependency => "latency returns to its baseline",
        RootCause::CertificateExpired => {
            "the certificate's days left are positive again and handshakes succeed"
        }
        RootCause::RunawayJob => {
            "the job's load (CPU, I/O, connections) drops back to its baseline"
        }
        RootCause::CacheStampede => "the cache hit ratio climbs back to its baseline",
        RootCause::BadConfigPush => "error_rate and latency return to their baselines",
        RootCause::ServiceDown => "it answers its probes again and its processes run",
        RootCause::CrashLoop => "its processes stay up and restarts stop",
    };
    let mut to_confirm = vec![format!(
        "after the remediation, on {component}: {key_signal} within a few minutes (get_system_metrics service={component})"
    )];
    if !propagation_path.is_empty() {
        to_confirm.push(format!(
            "the callers along {} recover with it, in that order (verify_health)",
            paths_in_words(&propagation_path)
        ));
    }
    if let Some(Telling { template: t, .. }) = keyword_hits(inp, component, cause).first() {
        to_confirm.push(format!(
            "the log template \"{t}\" stops (analyze_logs service_filter={component})"
        ));
    }
    let summary = format!(
        "{} on {}{}.",
        cause.as_str(),
        component,
        if propagation_path.is_empty() {
            String::new()
        } else {
            format!(
                ", felt by its callers ({})",
                paths_in_words(&propagation_path)
            )
        }
    );
    Hypothesis {
        rank: 0,
        root_cause: cause,
        component: component.to_string(),
        confidence: 0.0,
        summary,
        evidence_for: evidence_for.into_iter().take(12).collect(),
        evidence_against: evidence_against.into_iter().take(8).collect(),
        propagation_path,
        accounts_for: Vec::new(),
        suggested_action,
        candidate_actions,
        remediation,
        to_confirm,
    }
}

/// Paths named in a hypothesis's sentences; the rest are counted (all are in
/// `propagation_path`), so a fault under a wide graph still reads as one sentence.
const PATHS_NAMED: usize = 3;

/// The first [`PATHS_NAMED`] paths, `; `-separated, and how many more there are.
fn paths_in_words(paths: &[String]) -> String {
    let named = paths[..paths.len().min(PATHS_NAMED)].join("; ");
    match paths.len().saturating_sub(PATHS_NAMED) {
        0 => named,
        more => format!("{named}; and {more} more"),
    }
}

/// Growth of a stored quantity that says it filled a disk, out of range or not.
const GREW_BY_HALF: f64 = 1.5;
/// Strength below which a hypothesis has no evidence of its own to act on.
const MIN_OWN_EVIDENCE: f64 = 1.0;
/// The conclusion when no hypothesis is likely enough.
pub const UNKNOWN: &str = "unknown";
/// Evidence strength at which the kind of cause is about 63 % likely on its own.
const STRENGTH_SCALE: f64 = 1.6;
/// How much a second kind well behind the first on the same component takes away (one as
/// strong takes half).
const RIVAL_WEIGHT: f64 = 0.5;

/// The probability that a hypothesis is right: the kind is right (saturating in the absolute
/// strength of its evidence, less when a rival kind is nearly as strong) and the component is
/// where the trouble began (against its strongest rival component: a lone sick service is
/// certain to be the one).
fn confidence(strength: f64, rival: f64, origin: f64) -> f64 {
    if strength <= 0.0 {
        return 0.0;
    }
    let kind = 1.0 - (-strength / STRENGTH_SCALE).exp();
    // A rival kind behind takes little; one all but as strong makes it a coin toss.
    let closeness = (rival.max(0.0) / strength).min(1.0).powi(16);
    let weight = RIVAL_WEIGHT + (1.0 - RIVAL_WEIGHT) * closeness;
    let dominance = strength / (strength + weight * rival.max(0.0));
    let p = kind * dominance * origin.clamp(0.0, 1.0);
    (p * 100.0).round() / 100.0
}

/// A throughput out of range above its normal: more work arriving than usual (a cache's
/// misses are not: they are lookups it always had, missing).
fn more_work(c: &SeriesChange) -> bool {
    signals::kind(&c.signal) == SignalKind::Throughput
        && c.current > c.reference
        && !signals::is_miss(&c.signal)
}

/// How much of what is abnormal on `component` the kind of cause accounts for: a hypothesis
/// that leaves a large anomaly unexplained (CPU steal under a "pool exhausted") is less
/// likely than its own evidence says. 1 when it explains everything, down to
/// `1 - UNEXPLAINED_WEIGHT` when it explains nothing.
fn accounted(inp: &Inputs<'_>, component: &str, cause: RootCause) -> f64 {
    let (mut explained, mut unexplained) = (0.0, 0.0);
    let storage_slow = cause == RootCause::SlowDependency
        && inp
            .changes(component)
            .any(|c| signals::is_storage_io(&c.signal));
    // More work arriving than usual uses more CPU, whatever else is wrong; so does a pool of
    // workers (threads, processes) all busy at its maximum — its units are what does the work,
    // where a pool of connections only waits.
    let busier = inp.changes(component).any(more_work)
        || (cause == RootCause::ConnectionPoolExhaustion
            && inp.changes(component).any(|c| {
                c.limit.is_some()
                    && signals::kind(&c.signal) == SignalKind::PoolUsage
                    && signals::is_worker_pool(&c.signal)
            }));
    for c in inp.changes(component) {
        let kind = signals::kind(&c.signal);
        if busier && kind == SignalKind::Cpu {
            explained += c.magnitude;
            continue;
        }
        // Symptoms (latency, errors, throughput, backlog) every kind explains: they would
        // only dilute the share.
        if rules::explains(RootCause::SlowDependency, kind)
            || (kind == SignalKind::Other && signals::is_health_verdict(&c.signal))
        {
            continue;
        }
        // A signal whose meaning is unknown counts half: it may be anything.
        let weight = if kind == SignalKind::Other { 0.5 } else { 1.0 };
        // Over slow storage, work waits: its I/O, the locks held while it does, the busy
        // threads and sessions piling up behind it.
        let waits_on_storage = storage_slow
            && matches!(
                kind,
                SignalKind::Io | SignalKind::PoolUsage | SignalKind::PoolWaiting
            );
        if rules::explains(cause, kind) || rules::explains_quantity(cause, c) || waits_on_storage {
            explained += c.magnitude;
        } else {
            unexplained += weight * c.magnitude;
        }
    }
    if explained + unexplained <= 0.0 {
        return 1.0;
    }
    1.0 - UNEXPLAINED_WEIGHT * unexplained / (explained + unexplained)
}

/// What a sick service counts for in a story's weight at the least: trouble callers do not
/// feel (a filling disk, a climbing heap) still counts.
const STORY_FLOOR: f64 = 0.5;
/// How much more a story weighs when it holds a service the report names.
const NAMED_STORY: f64 = 2.0;

/// What is left of a component's claim to be the origin when it answers as usual while other
/// services suffer.
const NOT_FELT: f64 = 0.5;

/// Temperature of the calibration in logit space, fitted once on the reliability table of
/// the built-in scenarios and the first held-out batch (the raw products above are too
/// timid at both ends: right 100 % at a raw 0.7, never at a raw 0.3). A monotone map
/// symmetric about 0.5, so it changes no decision at [`CONFIDENCE_FLOOR`], only what the
/// number means.
const CALIBRATION_SHARPNESS: f64 = 2.0;

/// The raw confidence mapped to a probability that is right about as often as it says.
fn calibrated(raw: f64) -> f64 {
    let p = raw.clamp(0.0, 1.0);
    let (a, b) = (
        p.powf(CALIBRATION_SHARPNESS),
        (1.0 - p).powf(CALIBRATION_SHARPNESS),
    );
    let q = if a + b > 0.0 { a / (a + b) } else { 0.0 };
    (q * 100.0).round() / 100.0
}

/// How much a hypothesis that explains none of the component's anomalies loses.
const UNEXPLAINED_WEIGHT: f64 = 0.8;

/// The conclusion: the top hypothesis when it reaches [`CONFIDENCE_FLOOR`], else `unknown`
/// with what was checked and what to look at next.
fn conclude(inp: &Inputs<'_>, hypotheses: &[Hypothesis], sick: &BTreeSet<String>) -> Conclusion {
    let mut checked = vec![
        format!(
            "{} signal series of {} services",
            inp.scan.series.len(),
            inp.services.len()
        ),
        format!("{} log lines", inp.logs.lines),
        format!("{} change events", inp.events.len()),
    ];
    if !sick.is_empty() {
        checked.push(format!(
            "out of range: {}",
            sick.iter().cloned().collect::<Vec<_>>().join(", ")
        ));
    }
    match hypotheses.first() {
        Some(h) if h.confidence >= CONFIDENCE_FLOOR => Conclusion {
            root_cause: h.root_cause.as_str().to_string(),
            component: Some(h.component.clone()),
            confidence: h.confidence,
            checked,
            next: Vec::new(),
        },
        top => {
            let mut next = Vec::new();
            if let Some(h) = top {
                checked.push(format!(
                    "best hypothesis {} on {} at {:.0}%",
                    h.root_cause.as_str(),
                    h.component,
                    h.confidence * 100.0
                ));
                next.push(format!(
                    "the raw logs of {} around its onset (get_raw_logs service_filter={})",
                    h.component, h.component
                ));
            }
            next.push(
                "what changed that no event records (network, DNS, clocks, the platform under the services)"
                    .into(),
            );
            next.push("the dashboards and owners of the services out of range".into());
            Conclusion {
                root_cause: UNKNOWN.to_string(),
                component: top.map(|h| h.component.clone()),
                confidence: top.map_or(0.0, |h| h.confidence),
                checked,
                next,
            }
        }
    }
}

/// Cuts evidence lists, then the least likely hypotheses, until `report` serializes within
/// `budget` bytes; the ranking and the top hypothesis stay.
pub fn fit(report: &mut RcaReport, budget: usize) {
    let size = |r: &RcaReport| serde_json::to_vec(r).map_or(usize::MAX, |v| v.len());
    for keep in [6usize, 3, 1] {
        if size(report) <= budget {
            return;
        }
        for h in &mut report.hypotheses {
            h.evidence_for.truncate(keep);
            h.evidence_against.truncate(keep);
        }
        report.events.truncate(keep * 3);
    }
    while report.hypotheses.len() > 1 && size(report) > budget {
        report.hypotheses.pop();
    }
}
