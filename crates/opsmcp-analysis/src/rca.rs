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
};

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
}

impl RootCause {
    /// Every type, in a fixed order.
    pub const ALL: [RootCause; 9] = [
        RootCause::ConnectionPoolExhaustion,
        RootCause::MemoryLeak,
        RootCause::BadDeploy,
        RootCause::DiskFull,
        RootCause::SlowDependency,
        RootCause::CertificateExpired,
        RootCause::RunawayJob,
        RootCause::CacheStampede,
        RootCause::BadConfigPush,
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
        }
    }

    /// Generic remediation names for this cause, best first. Domain knowledge, not answers:
    /// the action is still picked among what the world offers on the component.
    fn remedies(self, deployed_before: bool) -> &'static [&'static str] {
        match self {
            RootCause::ConnectionPoolExhaustion => {
                &["increase-pool-size", "scale", "kill-idle-connections"]
            }
            // A restart only buys time; undoing the version that brought the leak fixes it.
            RootCause::MemoryLeak if deployed_before => &["rollback", "restart"],
            RootCause::MemoryLeak => &["restart", "rollback"],
            RootCause::BadDeploy => &["rollback"],
            RootCause::DiskFull => &["clear-disk", "expand-disk", "rotate-logs"],
            RootCause::SlowDependency => {
                &["failover", "enable-circuit-breaker", "increase-timeout"]
            }
            RootCause::CertificateExpired => &["renew-certificate", "rotate-certificate"],
            RootCause::RunawayJob => &["disable-job", "kill-job", "pause-job"],
            // Flushing an emptied cache makes it worse: warm it, or hold the load back.
            RootCause::CacheStampede => &["warm-cache", "rate-limit", "enable-request-coalescing"],
            RootCause::BadConfigPush => &["revert-config", "rollback-config", "rollback"],
        }
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
    /// Share of belief among the hypotheses listed (they sum to about 1).
    pub confidence: f64,
    /// One sentence.
    pub summary: String,
    /// What supports it.
    pub evidence_for: Vec<Evidence>,
    /// What speaks against it.
    pub evidence_against: Vec<Evidence>,
    /// How the trouble travelled to the sick callers, `a → b → c` (a calls nothing sick).
    pub propagation_path: Vec<String>,
    /// The action to try, chosen among those the world offers on the component.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggested_action: Option<SuggestedAction>,
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

/// The analysis.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct RcaReport {
    /// The window analysed.
    pub window: Window,
    /// One paragraph: the top hypothesis and what to do.
    pub summary: String,
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

/// Per-service facts.
#[derive(Debug, Default, Clone)]
struct Facts {
    /// Service-level degradation: what callers feel (latency, errors, refused work, limits).
    service_level: f64,
    /// Resource pressure that callers do not necessarily feel.
    resource: f64,
    /// How much its logs changed.
    logs: f64,
    onset: Option<Timestamp>,
    sick: bool,
}

/// Ranks root-cause hypotheses for `request.window`.
pub async fn analyze(world: &dyn World, request: &RcaRequest) -> Result<RcaReport, AnalysisError> {
    let window = request.window;
    let services = world.services();
    let scan = metrics::scan(world, &window).await?;
    let logs = logs::analyze(world, &window, &LogQuery::default(), usize::MAX).await?;
    let events = world
        .events(window.from - CHANGE_LOOKBACK, window.to)
        .await?;
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

    fn series(&self, service: &str, signal: &str) -> Option<&SeriesChange> {
        self.scan.get(service, signal).filter(|s| s.anomalous_now)
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
    let mut f = Facts::default();
    let mut latency: f64 = 0.0;
    for c in inp.changes(service) {
        f.onset = match (f.onset, c.onset) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        match c.signal.as_str() {
            s if s.starts_with("latency") => latency = latency.max(c.magnitude),
            "error_rate" | "cache_hit_ratio" | "cert_days_left" => f.service_level += c.magnitude,
            "request_rate" if c.current < c.reference => f.service_level += c.magnitude,
            // A full disk fails writes: callers feel it. A pool at its maximum is pressure;
            // callers feel it only through latency and errors, which are counted above.
            "disk_used_percent" if c.limit.is_some() => f.service_level += c.magnitude,
            _ => f.resource += c.magnitude,
        }
    }
    f.service_level += latency;
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
    f.sick = f.service_level >= 0.4 || f.resource >= 0.8 || f.logs >= 1.0;
    f
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
        ],
        RootCause::MemoryLeak => &["oom", "out of memory", "gc pause", "heap", "memory"],
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
        ],
        RootCause::SlowDependency => &["slow", "timed out", "timeout", "took"],
        RootCause::CertificateExpired => &["certificate", "x509", "tls handshake", "ssl"],
        RootCause::RunawayJob => &["job", "cron", "reindex", "batch", "thread pool saturated"],
        RootCause::CacheStampede => &["cache miss", "miss for", "stampede", "concurrent loads"],
        RootCause::BadConfigPush => &["config", "invalid setting", "unknown option"],
    }
}

/// A telling log template: text, lines, error lines, an example, when first seen.
type Telling = (String, u64, u64, String, Option<String>);
/// A template matching a cause's words: text, lines, an example, when first seen.
type Hit = (String, u64, String, Option<String>);
/// A type of cause for a component: its score, evidence for and against.
type Typed = (RootCause, f64, Vec<Evidence>, Vec<Evidence>);

/// A sick service as a candidate component: score, evidence for and against, paths.
struct Candidate {
    name: String,
    score: f64,
    pro: Vec<Evidence>,
    con: Vec<Evidence>,
    paths: Vec<String>,
}

/// Templates of `service` that are new or bursting, with how many lines: what its logs say.
fn telling_templates(inp: &Inputs<'_>, service: &str) -> Vec<Telling> {
    let Some(l) = inp.logs_of(service) else {
        return Vec::new();
    };
    let mut out: Vec<Telling> = l
        .new_templates
        .iter()
        .map(|t| {
            (
                t.template.clone(),
                t.count,
                t.errors,
                t.example.clone(),
                t.first_seen.clone(),
            )
        })
        .collect();
    for b in &l.bursts {
        if !out.iter().any(|o| o.0 == b.template) {
            out.push((
                b.template.clone(),
                b.count,
                0,
                b.example.clone(),
                Some(b.bucket.clone()),
            ));
        }
    }
    out
}

fn keyword_hits(inp: &Inputs<'_>, service: &str, cause: RootCause) -> Vec<Hit> {
    telling_templates(inp, service)
        .into_iter()
        .filter(|t| {
            // The example line too: templates mask variable parts, and a header parser can
            // take the start of a message for a field (`FATAL: …`), so the words may be there
            // only.
            let text = format!("{} {}", t.0, t.3).to_lowercase();
            keywords(cause).iter().any(|k| text.contains(k))
        })
        .map(|t| (t.0, t.1, t.3, t.4))
        .collect()
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

/// Type scores of `component`, each with its evidence.
fn classify(inp: &Inputs<'_>, component: &str, f: &Facts) -> Vec<Typed> {
    let metric = |c: &SeriesChange| Evidence {
        kind: "metric",
        service: c.service.clone(),
        detail: describe(c),
        at: c.onset.map(at),
        example: None,
    };
    let event = |e: &WorldEvent, why: &str| Evidence {
        kind: "event",
        service: e.service.clone(),
        detail: format!("{} on {}: {}{why}", e.kind, e.service, e.detail),
        at: Some(at(e.at)),
        example: None,
    };
    let callers: Vec<String> = inp
        .callers(component)
        .into_iter()
        .filter(|(_, (hops, _))| *hops == 1)
        .map(|(n, _)| n)
        .collect();
    let specific = [
        "db_connections_in_use",
        "disk_used_percent",
        "cert_days_left",
        "cache_hit_ratio",
        "memory_percent",
        "cpu_percent",
    ]
    .iter()
    .any(|s| inp.series(component, s).is_some());
    let latency: Vec<&SeriesChange> = inp
        .changes(component)
        .filter(|c| c.signal.starts_with("latency"))
        .collect();
    let errors = inp.series(component, "error_rate");
    let mut out = Vec::new();
    for cause in RootCause::ALL {
        let mut score = 0.0;
        let mut pro: Vec<Evidence> = Vec::new();
        let mut con: Vec<Evidence> = Vec::new();
        let sig = |name: &str,
                   hit: f64,
                   miss_note: Option<&str>,
                   pro: &mut Vec<Evidence>,
                   con: &mut Vec<Evidence>|
         -> f64 {
            match inp.series(component, name) {
                Some(c) => {
                    pro.push(metric(c));
                    hit + if c.limit.is_some() { 1.0 } else { 0.0 }
                }
                None => {
                    if let Some(note) = miss_note
                        && inp.scan.get(component, name).is_some()
                    {
                        con.push(Evidence {
                            kind: "metric",
                            service: component.to_string(),
                            detail: format!("{name} is within its normal range{note}"),
                            at: None,
                            example: None,
                        });
                    }
                    0.0
                }
            }
        };
        match cause {
            RootCause::ConnectionPoolExhaustion => {
                score += match inp.series(component, "db_connections_in_use") {
                    // Callers wait for a connection: the component itself answers slowly.
                    Some(c) if c.limit.is_some() => {
                        pro.push(metric(c));
                        2.5 + if latency.is_empty() { 0.0 } else { 0.5 }
                    }
                    Some(c) => {
                        con.push(Evidence {
                            kind: "metric",
                            service: component.to_string(),
                            detail: format!(
                                "{}, but below its maximum: busy, not exhausted",
                                describe(c)
                            ),
                            at: None,
                            example: None,
                        });
                        0.5
                    }
                    None => 0.0,
                };
            }
            RootCause::MemoryLeak => {
                score += sig("memory_percent", 1.5, Some(""), &mut pro, &mut con);
            }
            RootCause::DiskFull => {
                score += sig("disk_used_percent", 2.0, Some(""), &mut pro, &mut con);
            }
            RootCause::CertificateExpired => {
                // Expired is a fact, not a matter of degree.
                if sig("cert_days_left", 0.0, Some(""), &mut pro, &mut con) > 0.0 || !pro.is_empty()
                {
                    score = 3.0;
                }
            }
            RootCause::CacheStampede => {
                score += sig("cache_hit_ratio", 2.0, Some(""), &mut pro, &mut con);
            }
            RootCause::RunawayJob => {
                let cpu = sig("cpu_percent", 1.0, Some(""), &mut pro, &mut con);
                score += cpu;
                let crons = changes_before(inp, component, "cron", f.onset);
                for e in &crons {
                    pro.push(event(e, " — a scheduled job started just before the onset"));
                }
                if !crons.is_empty() {
                    score += 1.5;
                }
                if cpu == 0.0 {
                    score *= 0.3;
                }
            }
            RootCause::SlowDependency => {
                if let Some(c) = latency.first() {
                    pro.extend(latency.iter().map(|c| metric(c)));
                    score += 1.0 + (c.magnitude / 3.0).min(0.5);
                    if inp.kind(component) == "external" {
                        score += 1.5;
                        pro.push(Evidence {
                            kind: "dependency",
                            service: component.to_string(),
                            detail: format!("{component} is an external service: its slowness is not ours to fix in code"),
                            at: None,
                            example: None,
                        });
                    }
                    if !specific {
                        score += 0.5;
                    }
                }
            }
            RootCause::BadDeploy => {
                let deploys = changes_before(inp, component, "deploy", f.onset);
                for e in &deploys {
                    pro.push(event(e, " — just before the onset"));
                }
                if deploys.is_empty() {
                    con.push(Evidence {
                        kind: "event",
                        service: component.to_string(),
                        detail: format!(
                            "no deploy of {component} in the {} minutes before the onset",
                            CHANGE_LEAD.as_mins()
                        ),
                        at: None,
                        example: None,
                    });
                } else {
                    score += 2.5;
                }
                if let Some(e) = errors {
                    pro.push(metric(e));
                    score += 0.5;
                }
            }
            RootCause::BadConfigPush => {
                let configs = changes_before(inp, component, "config", f.onset);
                for e in &configs {
                    pro.push(event(e, " — just before the onset"));
                }
                if !configs.is_empty() {
                    score += 2.0;
                    if errors.is_some() || !latency.is_empty() {
                        score += 0.5;
                    }
                }
            }
        }
        // What the logs say, on the component and (at half weight) on its callers.
        let mut words: f64 = 0.0;
        for (t, n, ex, first) in keyword_hits(inp, component, cause).into_iter().take(2) {
            words += 1.0;
            pro.push(Evidence {
                kind: "log",
                service: component.to_string(),
                detail: format!("{n} line(s) of a new or bursting template: {t}"),
                at: first,
                example: Some(ex),
            });
        }
        for caller in &callers {
            for (t, n, ex, first) in keyword_hits(inp, caller, cause).into_iter().take(1) {
                words += 0.5;
                pro.push(Evidence {
                    kind: "log",
                    service: caller.clone(),
                    detail: format!("{n} line(s) on caller {caller}: {t}"),
                    at: first,
                    example: Some(ex),
                });
            }
        }
        if score > 0.0 {
            score += words.min(1.5);
        } else {
            score += words.min(1.0) * 0.5;
        }
        out.push((cause, score, pro, con));
    }
    out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    out
}

/// The reasoning over gathered inputs; pure and deterministic.
fn reason(inp: &Inputs<'_>) -> RcaReport {
    let names: Vec<String> = inp.services.iter().map(|s| s.name.clone()).collect();
    let all: BTreeMap<String, Facts> = names.iter().map(|n| (n.clone(), facts(inp, n))).collect();
    let sick: BTreeSet<String> = all
        .iter()
        .filter(|(_, f)| f.sick)
        .map(|(n, _)| n.clone())
        .collect();
    let earliest = sick.iter().filter_map(|n| all[n].onset).min();
    let symptoms: BTreeSet<String> = names
        .iter()
        .filter(|n| {
            inp.symptoms
                .iter()
                .any(|s| s.to_lowercase().contains(n.as_str()))
        })
        .cloned()
        .collect();

    // Component scores.
    let mut scored: Vec<Candidate> = Vec::new();
    for name in &sick {
        let f = &all[name];
        let callers = inp.callers(name);
        let sick_callers: Vec<(&String, &(usize, String))> =
            callers.iter().filter(|(c, _)| sick.contains(*c)).collect();
        let mut pro = Vec::new();
        let mut con = Vec::new();
        let explains = if f.service_level >= 0.4 {
            sick_callers
                .iter()
                .map(|(_, (h, _))| 1.0 / *h as f64)
                .sum::<f64>()
        } else {
            if !sick_callers.is_empty() {
                con.push(Evidence {
                    kind: "dependency",
                    service: name.clone(),
                    detail: format!(
                        "{name} is busy but answers as usual (latency, errors and throughput normal), so it cannot explain its sick callers"
                    ),
                    at: None,
                    example: None,
                });
            }
            0.0
        };
        let culprit = inp.dependencies(name).into_iter().find(|d| {
            sick.contains(d)
                && all[d].service_level >= 0.4
                && match (all[d].onset, f.onset) {
                    (Some(a), Some(b)) => a <= b + SignedDuration::from_mins(2),
                    _ => true,
                }
        });
        let mut score = f.service_level + 0.5 * f.resource + f.logs + explains;
        if let Some(d) = &culprit {
            score *= 0.35;
            con.push(Evidence {
                kind: "dependency",
                service: name.clone(),
                detail: format!(
                    "{name} depends on {d}, which degraded {} — {name}'s trouble is explained by it",
                    all[d].onset.map(|t| format!("from {}", at(t))).unwrap_or_else(|| "as well".into())
                ),
                at: all[d].onset.map(at),
                example: None,
            });
        } else if !inp.deps(name).is_empty() {
            pro.push(Evidence {
                kind: "dependency",
                service: name.clone(),
                detail: format!(
                    "nothing {name} calls ({}) degraded before it",
                    inp.deps(name).join(", ")
                ),
                at: None,
                example: None,
            });
        }
        if earliest.is_some()
            && f.onset.is_some()
            && f.onset <= earliest.map(|e| e + SignedDuration::from_secs(60))
        {
            score += 0.5;
            pro.push(Evidence {
                kind: "metric",
                service: name.clone(),
                detail: format!("{name} was among the first services to go out of range"),
                at: f.onset.map(at),
                example: None,
            });
        }
        if symptoms
            .iter()
            .any(|s| s == name || callers.contains_key(s))
        {
            score += 0.5;
        }
        // Paths to every sick caller that is not on the way to another.
        let mut paths: Vec<String> = Vec::new();
        let leaves: Vec<&String> = sick_callers
            .iter()
            .map(|(c, _)| *c)
            .filter(|c| !sick_callers.iter().any(|(_, (_, via))| via == *c))
            .collect();
        // Only trouble callers feel travels: a busy service that answers as usual has no path.
        for leaf in leaves.into_iter().filter(|_| f.service_level >= 0.4) {
            let mut chain = vec![leaf.clone()];
            let mut cur = leaf.clone();
            while let Some((_, via)) = callers.get(&cur) {
                chain.push(via.clone());
                if via == name {
                    break;
                }
                cur = via.clone();
            }
            chain.reverse();
            paths.push(chain.join(" → "));
        }
        scored.push(Candidate {
            name: name.clone(),
            score,
            pro,
            con,
            paths,
        });
    }
    scored.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.name.cmp(&b.name))
    });

    let mut hyps: Vec<(f64, Hypothesis)> = Vec::new();
    for (i, c) in scored.iter().take(4).enumerate() {
        let (name, cscore, cpro, ccon, paths) = (&c.name, c.score, &c.pro, &c.con, &c.paths);
        let f = &all[name];
        let types = classify(inp, name, f);
        // The top component gets its runner-up type too, when there is a real one.
        let keep = if i == 0 { 2 } else { 1 };
        for (j, (cause, tscore, tpro, tcon)) in types.into_iter().take(keep).enumerate() {
            if j > 0 && tscore < 1.5 {
                continue;
            }
            let h = cscore * (0.5 + tscore / 4.0);
            let mut evidence_for = tpro;
            evidence_for.extend(metric_evidence(inp, name, &evidence_for));
            evidence_for.extend(cpro.iter().cloned());
            let mut evidence_against = tcon;
            evidence_against.extend(ccon.iter().cloned());
            hyps.push((
                h,
                hypothesis(
                    inp,
                    cause,
                    name,
                    paths.clone(),
                    evidence_for,
                    evidence_against,
                ),
            ));
        }
    }
    // Changes on services that are fine now: looked at, and why they are not the cause.
    for e in inp
        .events
        .iter()
        .filter(|e| e.at >= inp.window.from && (e.kind == "deploy" || e.kind == "config"))
        .filter(|e| !sick.contains(&e.service))
    {
        let cause = if e.kind == "deploy" {
            RootCause::BadDeploy
        } else {
            RootCause::BadConfigPush
        };
        if hyps
            .iter()
            .any(|(_, h)| h.component == e.service && h.root_cause == cause)
        {
            continue;
        }
        let mut against = vec![Evidence {
            kind: "metric",
            service: e.service.clone(),
            detail: format!("{} shows no signal out of its normal range now", e.service),
            at: None,
            example: None,
        }];
        if let Some(ended) = inp
            .scan
            .series
            .iter()
            .filter(|s| s.service == e.service)
            .filter_map(|s| s.excursion.map(|x| (s, x)))
            .next()
        {
            against.push(Evidence {
                kind: "metric",
                service: e.service.clone(),
                detail: format!(
                    "{} was out of range from {} to {} (peak {}) and recovered on its own",
                    ended.0.signal,
                    at(ended.1.0),
                    at(ended.1.1),
                    ended.0.peak
                ),
                at: Some(at(ended.1.0)),
                example: None,
            });
        }
        let pro = vec![Evidence {
            kind: "event",
            service: e.service.clone(),
            detail: format!("{} on {}: {}", e.kind, e.service, e.detail),
            at: Some(at(e.at)),
            example: None,
        }];
        hyps.push((
            0.3,
            hypothesis(inp, cause, &e.service, Vec::new(), pro, against),
        ));
    }
    hyps.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then_with(|| a.1.component.cmp(&b.1.component))
            .then(a.1.root_cause.cmp(&b.1.root_cause))
    });
    hyps.truncate(6);
    let total: f64 = hyps.iter().map(|h| h.0).sum();
    let hypotheses: Vec<Hypothesis> = hyps
        .into_iter()
        .enumerate()
        .map(|(i, (score, mut h))| {
            h.rank = i + 1;
            h.confidence = if total > 0.0 {
                (score / total * 100.0).round() / 100.0
            } else {
                0.0
            };
            h
        })
        .collect();

    let mut sick_services: Vec<SickService> = sick
        .iter()
        .map(|n| SickService {
            service: n.clone(),
            onset: all[n].onset.map(at),
            signals: inp.changes(n).map(describe).collect(),
            logs: inp.logs_of(n).and_then(|l| {
                (l.error_rate > l.baseline_error_rate + 0.005).then(|| {
                    format!(
                        "error share of log lines {:.1}% (was {:.1}%), {} new template(s)",
                        l.error_rate * 100.0,
                        l.baseline_error_rate * 100.0,
                        l.new_templates.len()
                    )
                })
            }),
        })
        .collect();
    sick_services.sort_by(|a, b| {
        a.onset
            .cmp(&b.onset)
            .then_with(|| a.service.cmp(&b.service))
    });
    let events = inp
        .events
        .iter()
        .filter(|e| e.at >= inp.window.from || (e.kind == "deploy" && sick.contains(&e.service)))
        .map(|e| Evidence {
            kind: "event",
            service: e.service.clone(),
            detail: format!("{}: {}", e.kind, e.detail),
            at: Some(at(e.at)),
            example: None,
        })
        .collect();
    let summary = match hypotheses.first() {
        Some(h) => format!(
            "Most likely {} on {} (confidence {:.0}%). {} Try: {}.",
            h.root_cause.as_str(),
            h.component,
            h.confidence * 100.0,
            h.summary,
            h.suggested_action
                .as_ref()
                .map(|a| format!("{} on {}", a.action, a.target))
                .unwrap_or_else(|| h.remediation.clone())
        ),
        None => format!(
            "No service is out of its normal range between {} and {}, and no change event stands out; widen the timeframe or check the services' own dashboards.",
            at(inp.window.from),
            at(inp.window.to)
        ),
    };
    RcaReport {
        window: inp.window,
        summary,
        sick_services,
        events,
        hypotheses,
    }
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
) -> Hypothesis {
    let deployed_before = inp
        .events
        .iter()
        .any(|e| e.service == component && e.kind == "deploy");
    let offered: Vec<&ActionInfo> = inp
        .actions
        .iter()
        .filter(|a| a.target == component)
        .collect();
    let remedies = cause.remedies(deployed_before);
    let chosen = remedies
        .iter()
        .find_map(|r| offered.iter().find(|a| a.name == *r))
        .or_else(|| {
            remedies.iter().find_map(|r| {
                offered
                    .iter()
                    .find(|a| a.name.contains(r) || r.contains(a.name.as_str()))
            })
        });
    let suggested_action = chosen.map(|a| SuggestedAction {
        action: a.name.clone(),
        target: a.target.clone(),
        description: a.description.clone(),
        risk: a.risk,
        needs_approval: a.needs_approval,
    });
    let remediation = match &suggested_action {
        Some(a) => format!("{} on {} ({})", a.action, a.target, cause.advice(component)),
        None => cause.advice(component),
    };
    let key_signal = match cause {
        RootCause::ConnectionPoolExhaustion => "db_connections_in_use falls below its maximum",
        RootCause::MemoryLeak => "memory_percent stops climbing and stays flat",
        RootCause::BadDeploy => "error_rate returns to its baseline",
        RootCause::DiskFull => "disk_used_percent drops and writes succeed",
        RootCause::SlowDependency => "latency returns to its baseline",
        RootCause::CertificateExpired => "cert_days_left is positive again and handshakes succeed",
        RootCause::RunawayJob => "cpu_percent drops back to its baseline",
        RootCause::CacheStampede => "cache_hit_ratio climbs back to its baseline",
        RootCause::BadConfigPush => "error_rate and latency return to their baselines",
    };
    let mut to_confirm = vec![format!(
        "after the remediation, on {component}: {key_signal} within a few minutes (get_system_metrics service={component})"
    )];
    if !propagation_path.is_empty() {
        to_confirm.push(format!(
            "the callers along {} recover with it, in that order (verify_health)",
            propagation_path.join("; ")
        ));
    }
    if let Some((t, _, _, _)) = keyword_hits(inp, component, cause).first() {
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
            format!(", felt by its callers ({})", propagation_path.join("; "))
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
        suggested_action,
        remediation,
        to_confirm,
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
