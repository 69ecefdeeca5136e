//! The one interface every tool uses: a live system and a simulated incident look the same
//! through it.

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use futures::future::BoxFuture;
use jiff::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{
    health::{Reading, ServiceHealth},
    live::host::HostSnapshot,
};

/// Which world a server talks to, for humans and for `/health`; tools must not branch on it.
#[derive(Debug, Clone, Serialize, JsonSchema, PartialEq)]
pub struct WorldInfo {
    /// `live` or `simulated`.
    pub kind: &'static str,
    /// The host name (live) or the scenario name (simulated).
    pub name: String,
}

/// A service the world knows.
#[derive(Debug, Clone, Serialize, JsonSchema, PartialEq)]
pub struct ServiceInfo {
    /// Its name.
    pub name: String,
    /// `api`, `worker`, `database`, `cache`, `queue`, `external`, `host`, `probed`.
    pub kind: String,
    /// Services it calls.
    pub depends_on: Vec<String>,
}

/// A service's readings now.
#[derive(Debug, Clone, Serialize, JsonSchema, PartialEq)]
pub struct ServiceReadings {
    /// The service.
    pub service: String,
    /// Its kind.
    pub kind: String,
    /// Each signal, current and baseline.
    pub readings: Vec<Reading>,
}

/// One signal of one service over a window, beside its baseline.
#[derive(Debug, Clone, Serialize, JsonSchema, PartialEq)]
pub struct SignalSeries {
    /// The service.
    pub service: String,
    /// The signal (`error_rate`, `latency_p99_ms`, …).
    pub signal: String,
    /// Its normal value, when the world knows one.
    pub baseline: Option<f64>,
    /// `(time, value)` at each step, oldest first.
    #[schemars(with = "Vec<(String, f64)>")]
    pub points: Vec<(Timestamp, f64)>,
}

/// One log line of one service.
#[derive(Debug, Clone, Serialize, JsonSchema, PartialEq)]
pub struct LogEntry {
    /// When it was written (the line's own timestamp).
    #[schemars(with = "String")]
    pub at: Timestamp,
    /// Which service wrote it.
    pub service: String,
    /// `debug`, `info`, `warn`, `error`, or `unknown` when the line does not say.
    pub level: String,
    /// The line as written.
    pub text: String,
}

/// The world's log lines over a window, in time order, produced as they are read: a window of
/// millions of lines is never held whole.
pub type LogStream = Box<dyn Iterator<Item = LogEntry> + Send>;

/// A change in the system: a deploy, a config push, a cron run, scaling, or a remediation
/// applied through us.
#[derive(Debug, Clone, Serialize, JsonSchema, PartialEq)]
pub struct WorldEvent {
    /// When.
    #[schemars(with = "String")]
    pub at: Timestamp,
    /// As its source wrote it: `deploy`, `config`, `cron`, `scale`, `flag`, `remediation`, …;
    /// [`WorldEvent::class`] says what it did.
    pub kind: String,
    /// Where.
    pub service: String,
    /// What happened (`v2.14.1 -> v2.15.0`).
    pub detail: String,
}

impl WorldEvent {
    /// What the change did, whatever word its source used for its kind (a webhook's
    /// `feature_flag`, a scenario's `maintenance`): `deploy` (new code), `config` (new
    /// settings: flags, certificates, routes, a failover, a schema), `cron` (a job run:
    /// maintenance, a backfill, a batch) or `scale` (capacity); `None` for what is no change
    /// of ours (a vendor's status notice, a remediation) or a word not known here. Settings
    /// words are read first: a `flag rollout` is a flag.
    pub fn class(&self) -> Option<&'static str> {
        change_class(&self.kind)
    }
}

/// [`WorldEvent::class`] of a kind word.
pub fn change_class(kind: &str) -> Option<&'static str> {
    const CLASSES: &[(&str, &[&str])] = &[
        (
            "config",
            &[
                "config",
                "configuration",
                "setting",
                "settings",
                "flag",
                "flags",
                "toggle",
                "secret",
                "certificate",
                "cert",
                "dns",
                "route",
                "routing",
                "failover",
                "switchover",
                "migration",
                "schema",
                "policy",
                "firewall",
            ],
        ),
        (
            "deploy",
            &[
                "deploy",
                "deployment",
                "release",
                "rollout",
                "upgrade",
                "version",
                "image",
                "build",
                "hotfix",
                "patch",
                "package",
                "canary",
            ],
        ),
        (
            "cron",
            &[
                "cron",
                "job",
                "batch",
                "maintenance",
                "backfill",
                "reindex",
                "task",
            ],
        ),
        (
            "scale",
            &[
                "scale",
                "scaling",
                "autoscale",
                "autoscaling",
                "capacity",
                "resize",
                "replicas",
            ],
        ),
    ];
    let words = crate::signals::words(kind);
    CLASSES
        .iter()
        .find(|(_, said)| words.iter().any(|w| said.contains(&w.as_str())))
        .map(|(class, _)| *class)
}

/// How much harm an action can do if it is the wrong one.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum Risk {
    /// Safe to try.
    Low,
    /// Disturbs the service for a moment (a restart, a scale-out).
    #[default]
    Medium,
    /// Can lose data or take a service down (a failover, clearing a disk).
    High,
}

/// A remediation action the world offers.
#[derive(Debug, Clone, Serialize, JsonSchema, PartialEq)]
pub struct ActionInfo {
    /// Its name (`restart`, `increase-pool-size`).
    pub name: String,
    /// The service it acts on.
    pub target: String,
    /// What it does.
    pub description: String,
    /// How much harm it can do.
    pub risk: Risk,
    /// It runs only after a human approved it.
    pub needs_approval: bool,
    /// What undoes it, if anything does.
    pub rollback: Option<String>,
    /// Parameter name → what it accepts; all are required.
    pub params: BTreeMap<String, String>,
}

/// What to run.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionRequest {
    /// The action's name.
    pub action: String,
    /// The service it acts on.
    pub target: String,
    /// Its parameters.
    pub params: BTreeMap<String, serde_json::Value>,
    /// Check and show, do not change anything.
    pub dry_run: bool,
}

/// What running an action did.
#[derive(Debug, Clone, Serialize, JsonSchema, PartialEq)]
pub struct ActionReport {
    /// The action.
    pub action: String,
    /// The service it acted on.
    pub target: String,
    /// Nothing was changed.
    pub dry_run: bool,
    /// When it ran.
    #[schemars(with = "String")]
    pub at: Timestamp,
    /// It ran to completion (for a program: exit status 0 within its timeout).
    pub succeeded: bool,
    /// What it printed or what the world says it did.
    pub output: String,
}

/// Why the world could not answer or act.
#[derive(Debug, thiserror::Error)]
pub enum WorldError {
    /// A source is unreachable or unreadable; the message says which and what to check.
    #[error("{0}")]
    Unavailable(String),
    /// The action, its target or its parameters are not what the world offers; the message
    /// lists what is.
    #[error("{0}")]
    BadAction(String),
}

/// What the tools read; implemented by the live world and the simulated one.
pub trait World: Send + Sync {
    /// Which world this is.
    fn info(&self) -> WorldInfo;

    /// The services it watches.
    fn services(&self) -> Vec<ServiceInfo>;

    /// Every service's signals now, beside their baselines.
    fn readings(&self) -> BoxFuture<'_, Result<Vec<ServiceReadings>, WorldError>>;

    /// This machine's own vital signs, where the world is this machine.
    fn host(&self) -> BoxFuture<'_, Result<Option<Arc<HostSnapshot>>, WorldError>>;

    /// Every service judged healthy, degraded or unhealthy, with the numbers behind it.
    fn health(&self) -> BoxFuture<'_, Result<Vec<ServiceHealth>, WorldError>>;

    /// Every signal of every service from `from` to `to`, one point per `step`.
    fn history(
        &self,
        from: Timestamp,
        to: Timestamp,
        step: Duration,
    ) -> BoxFuture<'_, Result<Vec<SignalSeries>, WorldError>>;

    /// Every service's log lines from `from` (inclusive) to `to` (exclusive), in time order.
    /// Reading them is blocking work: iterate on a blocking thread.
    fn logs(&self, from: Timestamp, to: Timestamp) -> BoxFuture<'_, Result<LogStream, WorldError>>;

    /// Whether there is anywhere to read logs from: a live host with no `[[log_files]]` or
    /// `[[journald]]` has none, and "no lines" must not read as "no errors".
    fn has_log_sources(&self) -> bool {
        true
    }

    /// Changes in the system from `from` to `to`, oldest first.
    fn events(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> BoxFuture<'_, Result<Vec<WorldEvent>, WorldError>>;

    /// The remediation actions this world offers.
    fn actions(&self) -> Vec<ActionInfo>;

    /// Runs (or dry-runs) an action; only actions from [`World::actions`] run.
    fn apply(&self, request: ActionRequest) -> BoxFuture<'_, Result<ActionReport, WorldError>>;

    /// Undoes an action applied earlier, where it declares a rollback.
    fn rollback(
        &self,
        action: &str,
        target: &str,
    ) -> BoxFuture<'_, Result<ActionReport, WorldError>>;
}

#[cfg(test)]
mod tests {
    use super::change_class;

    #[test]
    fn a_change_kind_is_read_by_what_it_did() {
        for (kind, class) in [
            ("deploy", Some("deploy")),
            ("Release", Some("deploy")),
            ("feature_flag", Some("config")),
            ("flag-rollout", Some("config")),
            ("certificate", Some("config")),
            ("failover", Some("config")),
            ("maintenance", Some("cron")),
            ("batch job", Some("cron")),
            ("capacity", Some("scale")),
            ("vendor", None),
            ("remediation", None),
            ("", None),
        ] {
            assert_eq!(change_class(kind), class, "{kind}");
        }
    }
}
