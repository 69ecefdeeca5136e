//! The scenario file: one simulated incident with a known root cause, written in TOML.
//!
//! `docs/scenarios.md` documents every field with a complete example; this module is the
//! reference and checks what that document promises (names resolve, numbers are in range).

use std::collections::BTreeMap;

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

/// How a service writes its log lines.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum LogFormat {
    /// One JSON object per line.
    Json,
    /// `key=value` pairs.
    Logfmt,
    /// `2026-11-26T03:38:15.123Z LEVEL message`.
    Text,
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

/// Where a placeholder's values come from.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(untagged)]
pub enum Param {
    /// One of these strings.
    OneOf(Vec<String>),
    /// A whole number in `[min, max]`.
    Range {
        /// Smallest value.
        min: i64,
        /// Largest value.
        max: i64,
    },
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
    /// `deploy`, `config`, `cron`, `scale`.
    pub kind: EventKind,
    /// Where.
    pub service: String,
    /// Minutes before the world starts.
    pub minutes_ago: f64,
    /// What happened (`v2.14.1 -> v2.15.0`, `pool_size 50 -> 20`).
    pub detail: String,
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
            problem,
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

    /// Services whose trouble `minutes_in` minutes after the world started is, by this
    /// scenario's own account, a story of its own: a red herring that runs its course whatever
    /// is done (not load the fault pushes), still going, on a service that neither is the
    /// fault's component nor calls it, directly or through others. Whoever judges recovery
    /// cannot ask a fix of the fault to end them.
    pub fn independent_trouble(&self, minutes_in: f64) -> Vec<String> {
        let mut touched = vec![self.fault.component.clone()];
        let mut i = 0;
        while i < touched.len() {
            let next: Vec<String> = self
                .dependents_of(&touched[i])
                .map(|s| s.name.clone())
                .filter(|n| !touched.contains(n))
                .collect();
            touched.extend(next);
            i += 1;
        }
        let mut out: Vec<String> = self
            .red_herrings
            .iter()
            .filter(|r| !r.follows_fault && r.duration_minutes - r.start_minutes_ago > minutes_in)
            .filter(|r| !touched.contains(&r.service))
            .map(|r| r.service.clone())
            .collect();
        out.sort();
        out.dedup();
        out
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
                check_template(t, &format!("service '{}' logs", s.name))?;
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
        for t in self.fault.logs.iter().chain(&self.fault.propagation.logs) {
            check_template(t, "fault logs")?;
        }
        for r in &self.red_herrings {
            known(&r.service, "red_herrings.service")?;
            for t in &r.logs {
                check_template(t, "red herring logs")?;
            }
        }
        for e in &self.events {
            known(&e.service, "events.service")?;
        }
        let mut action_keys = std::collections::BTreeSet::new();
        for a in &self.actions {
            known(&a.target, &format!("action '{}' target", a.name))?;
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
                Ok(a) if a.outcome == Outcome::Fixes => {}
                Ok(_) => {
                    return Err(format!(
                        "truth.remediation names '{r}', but that action's outcome is not \"fixes\""
                    ));
                }
                Err(why) => return Err(format!("truth.remediation: {why}")),
            }
        }
        Ok(())
    }
}

fn check_template(t: &LogTemplate, where_: &str) -> Result<(), String> {
    if t.per_minute < 0.0 || !t.per_minute.is_finite() {
        return Err(format!("{where_}: per_minute must be ≥ 0"));
    }
    let mut rest = t.message.as_str();
    while let Some(start) = rest.find('{') {
        let Some(len) = rest[start..].find('}') else {
            return Err(format!("{where_}: unclosed '{{' in \"{}\"", t.message));
        };
        let name = &rest[start + 1..start + len];
        if !t.params.contains_key(name) {
            return Err(format!(
                "{where_}: \"{}\" uses {{{name}}} but params has no '{name}'",
                t.message
            ));
        }
        rest = &rest[start + len + 1..];
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
