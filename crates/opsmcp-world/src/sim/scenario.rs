//! The scenario file: one simulated incident with a known root cause, written in TOML.
//!
//! `docs/scenarios.md` documents every field with a complete example; this module is the
//! reference and checks what that document promises (names resolve, numbers are in range).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// A whole scenario.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Kebab-case name (`db-connection-pool-exhaustion`).
    pub name: String,
    /// One line for `opsmcp scenarios list`.
    pub summary: String,
    /// What the on-call engineer sees when paged; never the answer.
    pub story: String,
    /// The services and how they depend on each other.
    pub services: Vec<Service>,
    /// The one injected fault.
    pub fault: Fault,
    /// Things that look wrong but are not the cause.
    #[serde(default)]
    pub red_herrings: Vec<RedHerring>,
    /// Deploys, config pushes, cron runs and scaling around the incident.
    #[serde(default)]
    pub events: Vec<Event>,
    /// Remediation actions the world offers, right and wrong.
    pub actions: Vec<Action>,
    /// The answer, for scoring: root-cause type, component, the action(s) that fix it.
    pub truth: Truth,
}

/// What a service is; decides which kind-specific signals make sense.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum ServiceKind {
    /// Serves requests.
    Api,
    /// Consumes jobs.
    Worker,
    /// A database.
    Database,
    /// A cache.
    Cache,
    /// A queue or broker.
    Queue,
    /// Something outside our control (a payment provider).
    External,
}

/// How a service writes its log lines: one of three generic formats, or the native style of a
/// server or runtime, with its own header and timestamp (`docs/scenarios.md` shows a line of
/// each).
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum LogFormat {
    /// One JSON object per line.
    Json,
    /// `key=value` pairs.
    Logfmt,
    /// `2026-11-26T03:38:15.123Z LEVEL message`.
    Text,
    /// nginx's combined access log; a message that is not a quoted request line goes to the
    /// error log's format, as nginx would write it.
    NginxAccess,
    /// nginx's error log: `2026/12/06 01:02:03 [error] 31#31: *5 message`.
    NginxError,
    /// Envoy's default access log for request lines, its application log otherwise.
    Envoy,
    /// PostgreSQL with `log_line_prefix = '%m [%p] '`.
    Postgres,
    /// MySQL 8's error log.
    Mysql,
    /// Redis: `1234:M 06 Dec 2026 01:02:03.123 # message`.
    Redis,
    /// Spring Boot's logback pattern (JVM services).
    Logback,
    /// Go zap's production JSON encoder.
    Zap,
    /// Python's logging with `%(asctime)s - %(name)s - %(levelname)s - %(message)s`.
    Python,
    /// Node pino's JSON.
    Pino,
    /// RFC 3164 (BSD) syslog.
    Syslog,
}

/// One service.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Service {
    /// Kebab-case name.
    pub name: String,
    /// What it is.
    pub kind: ServiceKind,
    /// Services it calls; their trouble becomes its trouble.
    #[serde(default)]
    pub depends_on: Vec<String>,
    /// How its logs look.
    pub log_format: LogFormat,
    /// Normal values of its signals (`request_rate`, `latency_p50_ms`, `latency_p99_ms`,
    /// `error_rate`, `cpu_percent`, `memory_percent`, plus kind-specific ones such as
    /// `db_connections_in_use`, `db_connections_max`, `cache_hit_ratio`, `queue_depth`,
    /// `disk_used_percent`, `cert_days_left`).
    pub baseline: BTreeMap<String, f64>,
    /// Relative noise on every signal (0.05 = ±5 %).
    #[serde(default = "default_noise")]
    pub noise: f64,
    /// Its normal log traffic.
    #[serde(default)]
    pub logs: Vec<LogTemplate>,
    /// Named values its lines quote as `{name}` (a version, a config value) when the template
    /// has no param of that name: what they are before any event; events and actions with
    /// `sets` change them from their time on.
    #[serde(default)]
    pub state: BTreeMap<String, ParamValue>,
}

fn default_noise() -> f64 {
    0.05
}

/// A log message a service writes at a steady rate.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LogTemplate {
    /// `debug`, `info`, `warn`, `error`.
    pub level: Level,
    /// Lines per minute.
    pub per_minute: f64,
    /// The message with `{param}` placeholders.
    pub message: String,
    /// Values for each placeholder.
    #[serde(default)]
    pub params: BTreeMap<String, Param>,
    /// On `[[fault.propagation.logs]]` only: the dependents that write this line (a JDBC
    /// timeout only in the JVM caller, a 504 only at the gateway). Absent: every dependent.
    /// Spanned, so a wrong name is reported with its line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub services: Option<toml::Spanned<Vec<toml::Spanned<String>>>>,
    /// Written once when the fault, its propagation or the red herring begins, instead of
    /// `per_minute` lines a minute (a deploy's "starting", a failover's "promoted").
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub once: bool,
    /// On the fault's lines (its own, its propagation's and its victims'): written from this
    /// many minutes after onset (the OOM kills a leak ends in, the timeouts that come once a
    /// queue has filled).
    #[serde(default)]
    pub delay_minutes: f64,
}

impl LogTemplate {
    /// Whether `service`, a dependent of the faulty component, writes this propagation line.
    pub fn written_by(&self, service: &str) -> bool {
        self.services
            .as_ref()
            .is_none_or(|s| s.get_ref().iter().any(|n| n.get_ref() == service))
    }
}

/// Log level.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Debug.
    Debug,
    /// Info.
    Info,
    /// Warning.
    Warn,
    /// Error.
    Error,
}

impl Level {
    /// Its name as the scenario spells it, lowercase.
    pub fn name(self) -> &'static str {
        match self {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }
}

/// Where a placeholder's values come from.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(untagged)]
pub enum Param {
    /// One of these values (strings or numbers).
    OneOf(Vec<ParamValue>),
    /// A whole number in `[min, max]`.
    Range {
        /// Smallest value.
        min: i64,
        /// Largest value.
        max: i64,
    },
    /// Always this value.
    One(ParamValue),
}

/// A placeholder value as TOML wrote it: a string, or a number written as TOML reads it.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(untagged)]
pub enum ParamValue {
    /// Written as is.
    Text(String),
    /// `5432`.
    Int(i64),
    /// `0.25` (`1.0` stays `1.0`).
    Float(f64),
    /// `{ path = "/pay", status = 502 }`: values chosen together, quoted as `{name.path}`.
    Fields(BTreeMap<String, ParamValue>),
}

impl ParamValue {
    /// The value of `field` when this is a table of fields.
    pub fn field(&self, field: &str) -> Option<&ParamValue> {
        match self {
            ParamValue::Fields(f) => f.get(field),
            _ => None,
        }
    }
}

impl std::fmt::Display for ParamValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParamValue::Text(s) => f.write_str(s),
            ParamValue::Int(n) => write!(f, "{n}"),
            // Debug keeps the decimal point a TOML float was written with (`1.0`, not `1`).
            ParamValue::Float(x) => write!(f, "{x:?}"),
            // Quoted whole only by mistake (validation refuses it): the fields, as TOML.
            ParamValue::Fields(fields) => {
                let parts: Vec<String> = fields.iter().map(|(k, v)| format!("{k} = {v}")).collect();
                write!(f, "{{ {} }}", parts.join(", "))
            }
        }
    }
}

/// How a fault's effect grows after onset.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Shape {
    /// All at once at onset.
    Step,
    /// Linearly over `ramp_minutes`.
    Ramp,
}

/// The injected fault.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    /// Its type: any kebab-case cause. The simulator does not interpret it; the analysis has
    /// rules for some kinds and must say "unknown" for the others.
    #[serde(rename = "type")]
    pub kind: String,
    /// The service at fault.
    pub component: String,
    /// How many minutes before the world starts it began.
    pub onset_minutes_ago: f64,
    /// Step or ramp.
    pub shape: Shape,
    /// Minutes the ramp takes (ramp only).
    #[serde(default)]
    pub ramp_minutes: f64,
    /// Signal changes at full strength on the component.
    pub effects: BTreeMap<String, Effect>,
    /// Log lines the fault adds on the component (at full strength).
    #[serde(default)]
    pub logs: Vec<LogTemplate>,
    /// How it reaches the services that depend on the component.
    #[serde(default)]
    pub propagation: Propagation,
    /// Services it hurts that do not call the component: tenants of the same host, volume or
    /// database, consumers of what it produces, producers into it.
    #[serde(default)]
    pub victims: Vec<Victim>,
}

/// A service the fault hurts by a relationship other than a call. Its effects and lines follow
/// the fault's strength: they begin with it and end with its fix.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Victim {
    /// Which service.
    pub service: String,
    /// How the fault reaches it.
    pub relation: Relation,
    /// Signal changes at the fault's full strength.
    #[serde(default)]
    pub effects: BTreeMap<String, Effect>,
    /// Lines it writes while it suffers.
    #[serde(default)]
    pub logs: Vec<LogTemplate>,
}

/// How a fault reaches a service that does not call its component.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Relation {
    /// Shares a host, volume, database or other resource with the component.
    Tenant,
    /// Reads what the component produces (a queue's consumer, a replica).
    Consumer,
    /// Writes into the component (a queue whose consumers are gone backs up its producers).
    Producer,
}

/// A change to one signal.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Effect {
    /// Multiply the baseline by this.
    #[serde(default)]
    pub factor: Option<f64>,
    /// Move towards this value.
    #[serde(default)]
    pub to: Option<f64>,
    /// On a fault's effect: it begins this many minutes after the fault's onset.
    #[serde(default)]
    pub delay_minutes: f64,
    /// On a fault's effect: its own growth instead of the fault's (a certificate's expiry is a
    /// step; the errors it causes ramp as clients reconnect).
    #[serde(default)]
    pub shape: Option<Shape>,
    /// With `shape = "ramp"`: minutes to full strength (default: the fault's).
    #[serde(default)]
    pub ramp_minutes: Option<f64>,
    /// On a fault's effect: once at full strength it fades back over this many minutes while
    /// the fault stays (a retry storm that settles).
    #[serde(default)]
    pub decay_minutes: Option<f64>,
}

impl Effect {
    /// It has timing of its own (only fault effects may).
    pub fn timed(&self) -> bool {
        self.delay_minutes != 0.0
            || self.shape.is_some()
            || self.ramp_minutes.is_some()
            || self.decay_minutes.is_some()
    }
}

/// What dependents suffer at full strength, per hop (halved at each further hop).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct Propagation {
    /// Latency multiplier on direct dependents.
    #[serde(default)]
    pub latency_factor: Option<f64>,
    /// Error rate added on direct dependents.
    #[serde(default)]
    pub error_rate: Option<f64>,
    /// Log lines direct dependents write (timeouts, retries).
    #[serde(default)]
    pub logs: Vec<LogTemplate>,
}

/// Something that looks wrong but is not the cause.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RedHerring {
    /// The service it shows on.
    pub service: String,
    /// What it is, for the documentation of the scenario.
    pub description: String,
    /// Minutes before the world starts it began.
    pub start_minutes_ago: f64,
    /// How long it lasts, in minutes.
    pub duration_minutes: f64,
    /// It is load the fault pushes somewhere else (a database swamped by a cache stampede): its
    /// effects and logs rise and fall with the fault's strength, so they end when the fault is
    /// fixed. It is still not the cause. Default false: it runs its course whatever is done.
    #[serde(default)]
    pub follows_fault: bool,
    /// Signal changes while it lasts.
    #[serde(default)]
    pub effects: BTreeMap<String, Effect>,
    /// Log lines while it lasts.
    #[serde(default)]
    pub logs: Vec<LogTemplate>,
}

/// A change in the system.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Event {
    /// `deploy`, `config`, `cron`, `scale`, `flag`, `failover`, `maintenance`,
    /// `certificate`, `capacity`, `vendor`, `manual`.
    pub kind: EventKind,
    /// Where.
    pub service: String,
    /// Minutes before the world starts.
    pub minutes_ago: f64,
    /// What happened (`v2.14.1 -> v2.15.0`, `pool_size 50 -> 20`).
    pub detail: String,
    /// Values of the service's `state` from this event on (`version = "2.15.0"`).
    #[serde(default)]
    pub sets: BTreeMap<String, ParamValue>,
}

/// Kinds of change event.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    /// A new version.
    Deploy,
    /// A configuration push.
    Config,
    /// A scheduled job run.
    Cron,
    /// Instances added or removed.
    Scale,
    /// A feature flag turned on or off, or its rollout changed.
    Flag,
    /// Traffic or a role moved to another copy (a database failover, a region switch).
    Failover,
    /// A maintenance task started by hand or by a window (a vacuum, a rebalance, a reindex).
    Maintenance,
    /// A certificate renewed, replaced or re-chained.
    Certificate,
    /// Capacity changed other than by instances (a volume, a quota, an instance type).
    Capacity,
    /// A vendor's status notice about its own service: not a change of ours.
    Vendor,
    /// Something an operator did by hand.
    Manual,
    // The words a deploy webhook or a change feed uses for the same changes, so that a file
    // can say what its incident's feed said; the analysis reads each by its class (see
    // `docs/scenarios.md`, "Change events").
    /// A new version, as a feed names it.
    Release,
    /// A new version rolled out.
    Rollout,
    /// Software upgraded.
    Upgrade,
    /// A new image.
    Image,
    /// An urgent fix shipped.
    Hotfix,
    /// A package installed or updated.
    Package,
    /// A secret or key rotated.
    Secret,
    /// A DNS record changed.
    Dns,
    /// A route changed.
    Route,
    /// A schema migration.
    Migration,
    /// A schema change.
    Schema,
    /// A policy changed (a queue's, a bucket's, a firewall's).
    Policy,
    /// A job run.
    Job,
    /// A batch run.
    Batch,
    /// A backfill run.
    Backfill,
    /// A reindex run.
    Reindex,
    /// A task run.
    Task,
    /// Instances added or removed by an autoscaler.
    Autoscale,
    /// A resource resized.
    Resize,
    /// Replicas changed.
    Replicas,
}

/// A remediation the world offers.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Action {
    /// `restart`, `rollback`, `scale`, `increase-pool-size`, `clear-disk`, `renew-certificate`,
    /// `failover`, `disable-job`, `flush-cache`, `revert-config`.
    pub name: String,
    /// The service it acts on.
    pub target: String,
    /// What it does to the world.
    pub outcome: Outcome,
    /// Minutes until the outcome is complete.
    #[serde(default = "default_minutes_to_effect")]
    pub minutes_to_effect: f64,
    /// What it does, as the operator sees it (never whether it is the fix).
    #[serde(default)]
    pub description: String,
    /// `low`, `medium` (default) or `high`.
    #[serde(default)]
    pub risk: crate::world::Risk,
    /// It runs only after a human approved it (`opsmcp incidents approve`).
    #[serde(default)]
    pub needs_approval: bool,
    /// It can be undone (default true); a rollback ends its effect from then on.
    #[serde(default = "default_true")]
    pub reversible: bool,
    /// Values of the target's `state` once it has taken effect (a rollback's `version`),
    /// until it is undone.
    #[serde(default)]
    pub sets: BTreeMap<String, ParamValue>,
}

fn default_true() -> bool {
    true
}

fn default_minutes_to_effect() -> f64 {
    2.0
}

/// What an action does.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Removes the fault: the world recovers.
    Fixes,
    /// Changes nothing.
    Nothing,
    /// Relieves the symptoms for a while, then the fault returns.
    Masks,
    /// Makes things worse (a restart that drops in-flight work).
    Worsens,
    /// Moves the callers off the fault's component (a failover to a standby, a circuit
    /// broken, traffic switched away): the callers recover, the component stays as it is.
    Reroutes,
}

impl Outcome {
    /// It ends the incident's impact: it fixes the fault, or moves the callers off it.
    pub fn ends_the_impact(self) -> bool {
        matches!(self, Outcome::Fixes | Outcome::Reroutes)
    }
}

/// The ground truth.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Truth {
    /// Root-cause type, kebab-case (= `fault.type`).
    pub root_cause: String,
    /// The service at fault.
    pub component: String,
    /// The action(s) that fix it: `name`, or `name@target` when the name is not unique.
    pub remediation: Vec<String>,
}

/// A scenario that does not hold together.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// Not valid TOML, or a field is wrong; the message has the line and field.
    #[error("{origin}: {message}")]
    Parse {
        /// File or built-in name.
        origin: String,
        /// What the parser said, with line and column.
        message: String,
    },
    /// Parsed, but names or numbers do not fit.
    #[error("{origin}: {problem}")]
    Invalid {
        /// File or built-in name.
        origin: String,
        /// What is wrong and how to fix it.
        problem: String,
    },
}

impl Scenario {
    /// Parses and checks a scenario; `origin` names it in errors (a file path).
    pub fn parse(text: &str, origin: &str) -> Result<Self, ScenarioError> {
        let scenario: Scenario = toml::from_str(text).map_err(|e| ScenarioError::Parse {
            origin: origin.to_string(),
            message: e.to_string(),
        })?;
        scenario.check().map_err(|problem| ScenarioError::Invalid {
            origin: origin.to_string(),
            problem: match line_of_quoted_message(text, &problem) {
                Some(line) => format!("line {line}: {problem}"),
                None => problem,
            },
        })?;
        scenario
            .check_addressed()
            .map_err(|(problem, at)| ScenarioError::Invalid {
                origin: origin.to_string(),
                problem: format!("line {}: {problem}", line_of(text, at)),
            })?;
        Ok(scenario)
    }

    /// A service by name.
    pub fn service(&self, name: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.name == name)
    }

    /// The action an entry of `truth.remediation` means: `name`, or `name@target` when several
    /// services offer an action of that name.
    pub fn resolve_action(&self, entry: &str) -> Result<&Action, String> {
        let (name, target) = match entry.split_once('@') {
            Some((n, t)) => (n, Some(t)),
            None => (entry, None),
        };
        let found: Vec<&Action> = self
            .actions
            .iter()
            .filter(|a| a.name == name && target.is_none_or(|t| a.target == t))
            .collect();
        match found.as_slice() {
            [one] => Ok(one),
            [] => Err(format!("no action '{entry}' in [[actions]]")),
            _ => Err(format!(
                "'{entry}' is offered on several services; write it as name@target"
            )),
        }
    }

    /// Services that call `name` directly.
    pub fn dependents_of<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Service> + 'a {
        self.services
            .iter()
            .filter(move |s| s.depends_on.iter().any(|d| d == name))
    }

    /// The expected fixes move the callers off the fault's component and leave it as it is
    /// (every `truth.remediation` action `reroutes`): recovery is the callers', not its.
    pub fn fix_leaves_the_component(&self) -> bool {
        !self.truth.remediation.is_empty()
            && self.truth.remediation.iter().all(|r| {
                self.resolve_action(r)
                    .is_ok_and(|a| a.outcome == Outcome::Reroutes)
            })
    }

    /// Services whose trouble `minutes_in` minutes after the world started is, by this
    /// scenario's own account, a story of its own: a red herring that runs its course whatever
    /// is done (not load the fault pushes), still going, on a service that neither is the
    /// fault's component nor calls it, directly or through others. Whoever judges recovery
    /// cannot ask a fix of the fault to end them.
    pub fn independent_trouble(&self, minutes_in: f64) -> Vec<String> {
        let component = self.fault.component.as_str();
        let reached = self.dependents_through(component);
        let out: BTreeSet<&str> = self
            .ongoing_independent(minutes_in)
            .map(|r| r.service.as_str())
            .filter(|s| *s != component && !reached.contains(s))
            .collect();
        out.into_iter().map(str::to_string).collect()
    }

    /// The signals, service by service, that an independent red herring (one that runs its
    /// course whatever is done, not load the fault pushes) is still moving `minutes_in`
    /// minutes after the world started, on any service, the fault's callers and its
    /// component included (but not a signal the fault moves there too): a fix of the fault
    /// leaves them out of range, and whoever judges recovery excuses those signals, not the
    /// service's others.
    pub fn independent_signals(&self, minutes_in: f64) -> Vec<(String, String)> {
        let fault = &self.fault;
        let out: BTreeSet<(&str, &str)> = self
            .ongoing_independent(minutes_in)
            .flat_map(|r| r.effects.keys().map(|k| (r.service.as_str(), k.as_str())))
            .filter(|(s, k)| *s != fault.component || !fault.effects.contains_key(*k))
            .collect();
        out.into_iter()
            .map(|(s, k)| (s.to_string(), k.to_string()))
            .collect()
    }

    /// The red herrings that run their course whatever is done (not load the fault pushes),
    /// still going `minutes_in` minutes after the world started.
    fn ongoing_independent(&self, minutes_in: f64) -> impl Iterator<Item = &RedHerring> {
        self.red_herrings.iter().filter(move |r| {
            !r.follows_fault && r.duration_minutes - r.start_minutes_ago > minutes_in
        })
    }

    fn check(&self) -> Result<(), String> {
        let kebab = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        };
        if !kebab(&self.name) {
            return Err(format!(
                "name '{}' must be kebab-case (lowercase letters, digits, dashes)",
                self.name
            ));
        }
        if self.services.is_empty() {
            return Err("[[services]] is empty; describe at least the faulty service".into());
        }
        let mut seen = std::collections::BTreeSet::new();
        for s in &self.services {
            if !kebab(&s.name) {
                return Err(format!("service name '{}' must be kebab-case", s.name));
            }
            if !seen.insert(s.name.as_str()) {
                return Err(format!("service '{}' is described twice", s.name));
            }
            if !(0.0..=1.0).contains(&s.noise) {
                return Err(format!(
                    "service '{}': noise {} must be between 0 and 1 (0.05 = ±5 %)",
                    s.name, s.noise
                ));
            }
            for (signal, value) in &s.baseline {
                if !value.is_finite() || *value < 0.0 {
                    return Err(format!(
                        "service '{}': baseline.{signal} = {value} must be a finite number ≥ 0",
                        s.name
                    ));
                }
            }
            for t in &s.logs {
                let where_ = format!("service '{}' logs", s.name);
                check_template(t, &where_, &|k| s.state.contains_key(k))?;
                if t.once {
                    return Err(format!(
                        "{where_}: \"{}\" has once = true, which is for [[fault.logs]], \
                         [[fault.propagation.logs]] and red-herring lines (written when they \
                         begin); normal traffic is written per_minute, so remove once",
                        t.message
                    ));
                }
                not_addressed(t, &where_)?;
                not_delayed(t, &where_)?;
            }
        }
        let known = |name: &str, what: &str| {
            if seen.contains(name) {
                Ok(())
            } else {
                Err(format!(
                    "{what} names service '{name}', which is not in [[services]] (known: {})",
                    seen.iter().copied().collect::<Vec<_>>().join(", ")
                ))
            }
        };
        for s in &self.services {
            for d in &s.depends_on {
                known(d, &format!("service '{}' depends_on", s.name))?;
            }
        }
        let has_state = |service: &str, key: &str| {
            self.service(service)
                .is_some_and(|s| s.state.contains_key(key))
        };
        known(&self.fault.component, "fault.component")?;
        if self.fault.onset_minutes_ago <= 0.0 {
            return Err("fault.onset_minutes_ago must be > 0: the incident is in progress when the world starts".into());
        }
        if self.fault.shape == Shape::Ramp && self.fault.ramp_minutes <= 0.0 {
            return Err("fault.shape = \"ramp\" needs ramp_minutes > 0".into());
        }
        if self.fault.effects.is_empty() {
            return Err("fault.effects is empty; a fault must change at least one signal".into());
        }
        for (signal, e) in self
            .fault
            .effects
            .iter()
            .chain(self.red_herrings.iter().flat_map(|r| r.effects.iter()))
        {
            if e.factor.is_some() == e.to.is_some() {
                return Err(format!(
                    "effect on '{signal}' must have exactly one of factor = N or to = N"
                ));
            }
        }
        for v in &self.fault.victims {
            known(&v.service, "fault.victims.service")?;
            if v.service == self.fault.component {
                return Err(format!(
                    "fault.victims names '{}', the fault's own component; its signals belong in \
                     fault.effects",
                    v.service
                ));
            }
            if v.effects.is_empty() && v.logs.is_empty() {
                return Err(format!(
                    "fault.victims '{}' has neither effects nor logs; say how it suffers",
                    v.service
                ));
            }
            for (signal, e) in &v.effects {
                if e.factor.is_some() == e.to.is_some() {
                    return Err(format!(
                        "fault.victims '{}': effect on '{signal}' must have exactly one of \
                         factor = N or to = N",
                        v.service
                    ));
                }
                check_timing(signal, e, &self.fault)?;
            }
            let where_ = format!("fault.victims '{}' logs", v.service);
            for t in &v.logs {
                check_template(t, &where_, &|k| has_state(&v.service, k))?;
                not_addressed(t, &where_)?;
            }
        }
        for r in &self.red_herrings {
            if let Some((signal, _)) = r.effects.iter().find(|(_, e)| e.timed()) {
                return Err(format!(
                    "red herring on '{}': the effect on '{signal}' has delay_minutes, shape, \
                     ramp_minutes or decay_minutes, which only fault effects take; give the red \
                     herring its own start_minutes_ago and duration_minutes instead",
                    r.service
                ));
            }
        }
        for (signal, e) in &self.fault.effects {
            check_timing(signal, e, &self.fault)?;
        }
        for t in &self.fault.logs {
            check_template(t, "fault logs", &|k| has_state(&self.fault.component, k))?;
        }
        let dependents = self.dependents_through(&self.fault.component);
        for t in &self.fault.propagation.logs {
            // A state value is quoted by each service that writes the line: all must have it.
            let writers: Vec<&str> = match &t.services {
                // A name that is no dependent is reported below, with its line.
                Some(named) => named
                    .get_ref()
                    .iter()
                    .map(|n| n.get_ref().as_str())
                    .filter(|n| self.service(n).is_some())
                    .collect(),
                None => dependents.iter().copied().collect(),
            };
            check_template(t, "fault propagation logs", &|k| {
                writers.iter().all(|w| has_state(w, k))
            })?;
        }
        for t in &self.fault.logs {
            not_addressed(t, "fault logs")?;
        }
        for r in &self.red_herrings {
            known(&r.service, "red_herrings.service")?;
            for t in &r.logs {
                check_template(t, "red herring logs", &|k| has_state(&r.service, k))?;
                not_addressed(t, "red herring logs")?;
                not_delayed(t, "red herring logs")?;
            }
        }
        let settable = |service: &str, sets: &BTreeMap<String, ParamValue>, what: &str| match sets
            .keys()
            .find(|k| !has_state(service, k))
        {
            None => Ok(()),
            Some(k) => Err(format!(
                "{what} sets {k}, but service '{service}' has no state.{k}; add \
                     state = {{ {k} = \"…\" }} to the service, with its value before any change"
            )),
        };
        for e in &self.events {
            known(&e.service, "events.service")?;
            settable(&e.service, &e.sets, &format!("the {:?} event", e.detail))?;
        }
        let mut action_keys = std::collections::BTreeSet::new();
        for a in &self.actions {
            known(&a.target, &format!("action '{}' target", a.name))?;
            settable(&a.target, &a.sets, &format!("action '{}'", a.name))?;
            if !action_keys.insert((a.name.as_str(), a.target.as_str())) {
                return Err(format!(
                    "action '{}' on '{}' is declared twice",
                    a.name, a.target
                ));
            }
        }
        known(&self.truth.component, "truth.component")?;
        if self.truth.component != self.fault.component || self.truth.root_cause != self.fault.kind
        {
            return Err("truth must name the fault's type and component".into());
        }
        if !kebab(&self.fault.kind) {
            return Err(format!(
                "fault.type '{}' must be kebab-case (lowercase letters, digits, dashes), like \
                 'connection-pool-exhaustion' or a cause of your own such as 'clock-skew'",
                self.fault.kind
            ));
        }
        // An empty truth.remediation is allowed: no offered action fixes the fault, and the
        // right response is to say so and hand over, not to act.
        for r in &self.truth.remediation {
            match self.resolve_action(r) {
                Ok(a) if a.outcome.ends_the_impact() => {}
                Ok(_) => {
                    return Err(format!(
                        "truth.remediation names '{r}', but that action's outcome is neither \
                         \"fixes\" nor \"reroutes\""
                    ));
                }
                Err(why) => return Err(format!("truth.remediation: {why}")),
            }
        }
        Ok(())
    }

    /// Every service that depends on `component`, directly or through others.
    pub fn dependents_through<'a>(&'a self, component: &'a str) -> BTreeSet<&'a str> {
        let mut found = BTreeSet::new();
        let mut frontier = vec![component];
        while let Some(c) = frontier.pop() {
            for s in self.dependents_of(c) {
                if s.name != component && found.insert(s.name.as_str()) {
                    frontier.push(&s.name);
                }
            }
        }
        found
    }

    /// `services` on propagation lines names dependents of the faulty component; the error
    /// carries the byte offset of the name, for its line.
    fn check_addressed(&self) -> Result<(), (String, usize)> {
        let component = &self.fault.component;
        let dependents = self.dependents_through(component);
        let listed = || dependents.iter().copied().collect::<Vec<_>>().join(", ");
        for (i, t) in self.fault.propagation.logs.iter().enumerate() {
            let field = format!("fault.propagation.logs[{i}].services");
            let Some(services) = &t.services else {
                continue;
            };
            if services.get_ref().is_empty() {
                return Err((
                    format!(
                        "{field} = [] names no service; name the dependents that write this line, \
                         or remove the key to have every dependent write it"
                    ),
                    services.span().start,
                ));
            }
            for name in services.get_ref() {
                let n = name.get_ref().as_str();
                if dependents.contains(n) {
                    continue;
                }
                let why = if self.service(n).is_none() {
                    "which is not in [[services]]"
                } else if n == component {
                    "the faulty component itself (its own lines go in [[fault.logs]])"
                } else {
                    "which does not depend on it, directly or through others, so the fault \
                     never reaches it"
                };
                let choices = if dependents.is_empty() {
                    format!("no service depends on '{component}'; add it to a caller's depends_on")
                } else {
                    format!("write one of its dependents: {}", listed())
                };
                return Err((
                    format!("{field} names '{n}' for the fault on '{component}', {why}; {choices}"),
                    name.span().start,
                ));
            }
        }
        Ok(())
    }
}

/// The line of the template a problem is about: a template's problem quotes its message, and
/// the file is read again (only on error) for where that `message = ...` was written. `None`
/// when the problem quotes no message, or one written on several lines of the file.
fn line_of_quoted_message(text: &str, problem: &str) -> Option<usize> {
    use toml::de::{DeTable, DeValue};
    fn messages(table: &DeTable, found: &mut Vec<(String, usize)>) {
        for (key, value) in table {
            match value.get_ref() {
                DeValue::String(s) if key.get_ref() == "message" => {
                    found.push((s.to_string(), value.span().start));
                }
                DeValue::Table(t) => messages(t, found),
                DeValue::Array(items) => {
                    for item in items {
                        if let DeValue::Table(t) = item.get_ref() {
                            messages(t, found);
                        }
                    }
                }
                _ => {}
            }
        }
    }
    let root = DeTable::parse(text).ok()?;
    let mut found = Vec::new();
    messages(root.get_ref(), &mut found);
    let mut lines: Vec<usize> = found
        .iter()
        .filter(|(m, _)| problem.contains(&format!("\"{m}\"")))
        .map(|(_, at)| line_of(text, *at))
        .collect();
    lines.dedup();
    match lines.as_slice() {
        [one] => Some(*one),
        _ => None,
    }
}

/// 1-based line of a byte offset.
fn line_of(text: &str, at: usize) -> usize {
    text.get(..at).unwrap_or(text).matches('\n').count() + 1
}

/// `services` is for propagation lines only: elsewhere the writer is already known.
/// A line that is none of the fault's takes no `delay_minutes`.
fn not_delayed(t: &LogTemplate, where_: &str) -> Result<(), String> {
    if t.delay_minutes == 0.0 {
        return Ok(());
    }
    Err(format!(
        "{where_}: \"{}\" has delay_minutes, which only the fault's lines take ([[fault.logs]], \
         [[fault.propagation.logs]], victims' logs); a red herring's lines begin with it: give it \
         its own start_minutes_ago instead",
        t.message
    ))
}

fn not_addressed(t: &LogTemplate, where_: &str) -> Result<(), String> {
    if t.services.is_none() {
        return Ok(());
    }
    Err(format!(
        "{where_}: \"{}\" has services = [...], which only [[fault.propagation.logs]] take (to \
         say which dependents write a line); these lines are written by their own service, so \
         remove services",
        t.message
    ))
}

/// Checks the timing of one of the fault's effects (its own or a victim's).
fn check_timing(signal: &str, e: &Effect, fault: &Fault) -> Result<(), String> {
    let ramp = e.ramp_minutes.unwrap_or(fault.ramp_minutes);
    let ramps = e.shape.unwrap_or(fault.shape) == Shape::Ramp;
    let bad = if !(e.delay_minutes >= 0.0 && e.delay_minutes.is_finite()) {
        Some("delay_minutes must be a number of minutes ≥ 0")
    } else if ramps && !(ramp > 0.0 && ramp.is_finite()) {
        Some("a ramp needs ramp_minutes > 0 (on the effect or the fault)")
    } else if e.decay_minutes.is_some_and(|d| !(d > 0.0 && d.is_finite())) {
        Some("decay_minutes must be > 0")
    } else {
        None
    };
    match bad {
        Some(bad) => Err(format!("fault effect on '{signal}': {bad}")),
        None => Ok(()),
    }
}

/// Checks one template; `state` says whether a placeholder without a param is a state value
/// of the service(s) that write it.
fn check_template(
    t: &LogTemplate,
    where_: &str,
    state: &dyn Fn(&str) -> bool,
) -> Result<(), String> {
    if t.per_minute < 0.0 || !t.per_minute.is_finite() {
        return Err(format!("{where_}: per_minute must be ≥ 0"));
    }
    if t.delay_minutes < 0.0 || !t.delay_minutes.is_finite() {
        return Err(format!(
            "{where_}: \"{}\" has delay_minutes {}; write a number of minutes ≥ 0",
            t.message, t.delay_minutes
        ));
    }
    let mut problem = None;
    let walked = walk(&t.message, |piece| {
        let Piece::Hole(name) = piece else { return };
        if problem.is_some() || name == TRACE_ID || state(name) {
            return;
        }
        if let Some(p) = t.params.get(name) {
            if p.has_fields() {
                problem = Some(format!(
                    "{where_}: \"{}\" uses {{{name}}}, but params.{name} holds tables of values \
                     chosen together; quote one of them as {{{name}.FIELD}}",
                    t.message
                ));
            }
            return;
        }
        if let Some((param, field)) = name.split_once('.')
            && let Some(p) = t.params.get(param)
        {
            if !p.every_value_has(field) {
                problem = Some(format!(
                    "{where_}: \"{}\" uses {{{name}}}, but not every value of params.{param} is \
                     a table with a '{field}' (write params.{param} = [{{ {field} = …, … }}, …])",
                    t.message
                ));
            }
            return;
        }
        problem = match TimeFormat::of(name) {
            Some(Ok(_)) => None,
            Some(Err(format)) => Some(format!(
                "{where_}: \"{}\" uses {{{name}}}, but '{format}' is no time format; write {}",
                t.message,
                TimeFormat::CHOICES
            )),
            None => Some(format!(
                "{where_}: \"{}\" uses {{{name}}} but params has no '{name}', nor has the \
                 service that writes it a state.{name} (a literal brace is written {{{{ or }}}})",
                t.message
            )),
        };
    });
    if walked.is_err() {
        return Err(format!(
            "{where_}: unclosed '{{' in \"{}\" (a literal brace is written {{{{)",
            t.message
        ));
    }
    if let Some(problem) = problem {
        return Err(problem);
    }
    for (name, p) in &t.params {
        match p {
            Param::OneOf(v) if v.is_empty() => {
                return Err(format!("{where_}: params.{name} is an empty list"));
            }
            Param::Range { min, max } if min > max => {
                return Err(format!("{where_}: params.{name} has min > max"));
            }
            _ => {}
        }
    }
    Ok(())
}

/// The built-in `{trace_id}` placeholder: a W3C trace id (32 hex digits) of a request in
/// flight that second, the same for every service that quotes one then, so a caller's line and
/// the failing component's can share a request.
pub(crate) const TRACE_ID: &str = "trace_id";

impl Param {
    /// Some value is a table of fields.
    fn has_fields(&self) -> bool {
        match self {
            Param::OneOf(values) => values.iter().any(|v| matches!(v, ParamValue::Fields(_))),
            Param::One(v) => matches!(v, ParamValue::Fields(_)),
            Param::Range { .. } => false,
        }
    }

    /// Every value is a table with `field`.
    fn every_value_has(&self, field: &str) -> bool {
        match self {
            Param::OneOf(values) => values.iter().all(|v| v.field(field).is_some()),
            Param::One(v) => v.field(field).is_some(),
            Param::Range { .. } => false,
        }
    }
}

/// One piece of a template's message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Piece<'a> {
    /// Literal text; an escaped brace is a piece of its own.
    Text(&'a str),
    /// A placeholder: the text between its braces.
    Hole(&'a str),
}

/// Hands `f` the pieces of `message` in order: `{name}` placeholders and literal text, where
/// `{{` and `}}` are literal braces. A lone `}` is literal too, as it always was. Err: the byte
/// offset of a `{` that is never closed.
pub(crate) fn walk<'a>(message: &'a str, mut f: impl FnMut(Piece<'a>)) -> Result<(), usize> {
    let bytes = message.as_bytes();
    let (mut i, mut text) = (0, 0);
    let flush = |from: usize, to: usize, f: &mut dyn FnMut(Piece<'a>)| {
        if to > from {
            f(Piece::Text(&message[from..to]));
        }
    };
    while i < bytes.len() {
        match (bytes[i], bytes.get(i + 1)) {
            (b'{', Some(b'{')) | (b'}', Some(b'}')) => {
                // Keep the first brace of the pair, drop the second.
                flush(text, i + 1, &mut f);
                i += 2;
                text = i;
            }
            (b'{', _) => {
                flush(text, i, &mut f);
                let Some(len) = message[i..].find('}') else {
                    return Err(i);
                };
                f(Piece::Hole(&message[i + 1..i + len]));
                i += len + 1;
                text = i;
            }
            _ => i += 1,
        }
    }
    flush(text, bytes.len(), &mut f);
    Ok(())
}

/// The built-in `{ts}` placeholder: the line's own time, in a named format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimeFormat {
    /// `{ts}`: `2026-12-06T01:02:03.123Z`.
    Rfc3339,
    /// `{ts:epoch}`: `1796605323`.
    Epoch,
    /// `{ts:epoch_ms}`: `1796605323123`.
    EpochMs,
    /// `{ts:clf}`: `06/Dec/2026:01:02:03 +0000`, as access logs write it.
    Clf,
}

impl TimeFormat {
    const CHOICES: &str = "{ts} (2026-12-06T01:02:03.123Z), {ts:epoch}, {ts:epoch_ms} or {ts:clf} \
                           (06/Dec/2026:01:02:03 +0000)";

    /// `None`: not a time placeholder; `Some(Err(format))`: `ts:` with an unknown format.
    pub(crate) fn of(name: &str) -> Option<Result<TimeFormat, &str>> {
        if name == "ts" {
            return Some(Ok(TimeFormat::Rfc3339));
        }
        let format = name.strip_prefix("ts:")?;
        Some(match format {
            "rfc3339" => Ok(TimeFormat::Rfc3339),
            "epoch" => Ok(TimeFormat::Epoch),
            "epoch_ms" => Ok(TimeFormat::EpochMs),
            "clf" => Ok(TimeFormat::Clf),
            other => Err(other),
        })
    }
}
