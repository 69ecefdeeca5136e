//! Runbook actions declared in the config: the only way the live world acts on a host.
//!
//! Remediation on a real system means running commands (`systemctl restart`, `kubectl rollout
//! undo`). Letting a model compose command lines would be a shell injection waiting to happen,
//! so an operator declares each action once — program, argument templates, typed parameters,
//! timeout — and a caller can only pick an action by name and fill in parameters that pass
//! their type. The program runs without a shell, each template becomes exactly one argument, in
//! a process group of its own that is killed whole on timeout. (The sandbox has its own
//! supervisor, `opsmcp-sandbox/src/supervise.rs`, for hostile scripts in namespaces with
//! per-run limits; an operator's declared program needs none of that, so the two are not
//! shared.)
//!
//! ```toml
//! [[runbook]]
//! name = "restart-service"
//! service = "checkout"
//! description = "Restart a systemd unit"
//! program = "/usr/bin/systemctl"
//! args = ["restart", "{unit}"]
//! dry_run_args = ["status", "{unit}"]
//! timeout_ms = 30000
//! params.unit = { type = "string", pattern = "^[a-z0-9-]+\\.service$" }
//! ```

use std::{
    collections::BTreeMap,
    os::unix::process::ExitStatusExt,
    path::PathBuf,
    process::Stdio,
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

use regex::Regex;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncReadExt};

/// Each of stdout and stderr is kept up to this many bytes; the rest is read and dropped so the
/// program never blocks on a full pipe.
pub const OUTPUT_CAP_BYTES: usize = 64 * 1024;

/// `PATH` for actions: the environment is cleared so the server's own variables (tokens,
/// proxies) never leak into an action; add what an action needs with `env`.
pub const ACTION_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// After the program exited or was killed, how long to wait for the output pipes to close
/// before giving up on them (a daemon it started, or a process that left the group, may hold
/// them).
const PIPE_GRACE: Duration = Duration::from_secs(2);

/// Parameter values as a caller sends them (JSON from a tool call).
pub type Params = BTreeMap<String, serde_json::Value>;

/// One `[[runbook]]` entry: an action the operator allows.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RunbookAction {
    /// The name callers use (`restart-service`).
    pub name: String,
    /// The service the action acts on; tools list actions per service.
    pub service: String,
    /// What the action does, for humans and models choosing it.
    #[serde(default)]
    pub description: String,
    /// Absolute path of the program; no `PATH` lookup, no shell.
    pub program: PathBuf,
    /// Argument templates; `{param}` is replaced by the parameter's value, and each template
    /// becomes exactly one argument whatever the value contains.
    #[serde(default)]
    pub args: Vec<String>,
    /// Arguments for a dry run (e.g. the program's own `--dry-run`). Without them a dry run only
    /// shows the command that would run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dry_run_args: Option<Vec<String>>,
    /// The parameters, by name; all are required.
    #[serde(default)]
    pub params: BTreeMap<String, ParamSpec>,
    /// Kill the action's whole process group after this many milliseconds (default 30000).
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// Environment variables for the program, besides `PATH` (the rest is cleared).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// `low`, `medium` (default) or `high`.
    #[serde(default)]
    pub risk: crate::world::Risk,
    /// It runs only after a human approved it (`opsmcp incidents approve`).
    #[serde(default)]
    pub needs_approval: bool,
    /// Another declared action, on the same service and with the same parameters, that undoes
    /// this one; run when health does not recover after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback: Option<String>,
}

fn default_timeout_ms() -> u64 {
    30_000
}

/// The type of a parameter, which every value must pass before anything runs.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum ParamSpec {
    /// A string the whole of which matches `pattern` (a regex; anchors are implied).
    String {
        /// The regex the entire value must match.
        pattern: String,
    },
    /// A whole number, optionally bounded (inclusive).
    Integer {
        /// Smallest allowed value.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min: Option<i64>,
        /// Largest allowed value.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max: Option<i64>,
    },
    /// One of a fixed list of strings.
    Enum {
        /// The allowed values.
        values: Vec<String>,
    },
}

impl ParamSpec {
    /// What the parameter accepts, in words, for error messages and tool descriptions.
    pub fn describe(&self) -> String {
        match self {
            ParamSpec::String { pattern } => format!("a string matching {pattern}"),
            ParamSpec::Integer { min, max } => match (min, max) {
                (Some(lo), Some(hi)) => format!("an integer from {lo} to {hi}"),
                (Some(lo), None) => format!("an integer of at least {lo}"),
                (None, Some(hi)) => format!("an integer of at most {hi}"),
                (None, None) => "an integer".into(),
            },
            ParamSpec::Enum { values } => format!("one of: {}", values.join(", ")),
        }
    }
}

/// Why an action cannot be declared, planned or started; each says what is allowed instead.
#[derive(Debug, thiserror::Error)]
pub enum RunbookError {
    /// The `[[runbook]]` entry cannot work as written.
    #[error("[[runbook]] action '{action}': {problem}")]
    InvalidConfig {
        /// The action's name.
        action: String,
        /// What is wrong and how to fix it.
        problem: String,
    },
    /// The name is not a declared action.
    #[error(
        "no runbook action named '{name}'; only actions declared in [[runbook]] can run, and \
         those are: {known}"
    )]
    UnknownAction {
        /// The name asked for.
        name: String,
        /// The declared names, comma-separated.
        known: String,
    },
    /// A parameter is missing, unexpected, or fails its type.
    #[error("runbook action '{action}', parameter '{param}': {problem}; allowed: {allowed}")]
    BadParameter {
        /// The action.
        action: String,
        /// The parameter.
        param: String,
        /// What is wrong with the value.
        problem: String,
        /// What the action accepts.
        allowed: String,
    },
    /// The program could not be started.
    #[error(
        "runbook action '{action}': cannot start {program}: {source}; check that the program \
         exists and that the user running opsmcp may execute it"
    )]
    Spawn {
        /// The action.
        action: String,
        /// The program path.
        program: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// Waiting for the program failed.
    #[error("runbook action '{action}': waiting for {program} failed: {source}")]
    Wait {
        /// The action.
        action: String,
        /// The program path.
        program: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

/// What running (or dry-running) an action did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunOutcome {
    /// The action.
    pub action: String,
    /// The service it acts on.
    pub service: String,
    /// The program.
    pub program: PathBuf,
    /// The arguments, after filling in the parameters.
    pub args: Vec<String>,
    /// This was a dry run.
    pub dry_run: bool,
    /// The program ran (false for a dry run of an action without `dry_run_args`).
    pub executed: bool,
    /// The exit code, if the program exited by itself.
    pub exit_code: Option<i32>,
    /// The signal that ended the program, if one did (9 after a timeout).
    pub signal: Option<i32>,
    /// The action was still running at its timeout and its process group was killed.
    pub timed_out: bool,
    /// Standard output (lossy UTF-8), at most [`OUTPUT_CAP_BYTES`].
    pub stdout: String,
    /// Standard output was longer and was cut.
    pub stdout_truncated: bool,
    /// Standard error (lossy UTF-8), at most [`OUTPUT_CAP_BYTES`].
    pub stderr: String,
    /// Standard error was longer and was cut.
    pub stderr_truncated: bool,
    /// Wall time from start to exit, in milliseconds.
    pub duration_ms: u64,
}

impl RunOutcome {
    /// The program ran, finished in time and exited 0.
    pub fn succeeded(&self) -> bool {
        self.executed && !self.timed_out && self.exit_code == Some(0)
    }
}

/// What an action would run: the result of every check, before anything runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan<'a> {
    /// The declared action.
    pub action: &'a RunbookAction,
    /// The arguments with the parameters filled in (the dry-run ones for a dry run that has
    /// them).
    pub args: Vec<String>,
    /// Whether running it starts the program (false for a dry run without `dry_run_args`).
    pub execute: bool,
}

/// The declared actions, checked once, ready to run.
#[derive(Debug, Clone)]
pub struct Runbook {
    actions: BTreeMap<String, Compiled>,
}

#[derive(Debug, Clone)]
struct Compiled {
    action: RunbookAction,
    /// Compiled, anchored patterns of the string parameters.
    patterns: BTreeMap<String, Regex>,
}

/// `{name}` in an argument template.
fn placeholder() -> &'static Regex {
    static PLACEHOLDER: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
    PLACEHOLDER.get_or_init(|| {
        Regex::new(r"\{([A-Za-z_][A-Za-z0-9_]*)\}").unwrap_or_else(|e| {
            // A constant pattern; this cannot fail, and a test proves it compiles.
            panic!("placeholder regex: {e}")
        })
    })
}

impl RunbookAction {
    /// Checks the action as written: an absolute program, a timeout, parameter types that make
    /// sense, and templates whose placeholders are all declared parameters (and parameters
    /// that some template uses).
    pub fn validate(&self) -> Result<(), RunbookError> {
        self.compile().map(|_| ())
    }

    fn compile(&self) -> Result<Compiled, RunbookError> {
        let bad = |problem: String| RunbookError::InvalidConfig {
            action: self.name.clone(),
            problem,
        };
        let name_ok = !self.name.is_empty()
            && self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
        if !name_ok {
            return Err(bad(
                "name must be non-empty letters, digits, '-', '_' or '.'".into(),
            ));
        }
        if self.service.trim().is_empty() {
            return Err(bad("service must not be empty".into()));
        }
        if !self.program.is_absolute() {
            return Err(bad(format!(
                "program = \"{}\" must be an absolute path (no PATH lookup is done)",
                self.program.display()
            )));
        }
        if self.timeout_ms == 0 {
            return Err(bad("timeout_ms must be at least 1".into()));
        }
        let mut patterns = BTreeMap::new();
        for (name, spec) in &self.params {
            if !placeholder().is_match(&format!("{{{name}}}")) {
                return Err(bad(format!(
                    "parameter name '{name}' must be letters, digits and '_', not starting with \
                     a digit"
                )));
            }
            match spec {
                ParamSpec::String { pattern } => {
                    let anchored = Regex::new(&format!("^(?:{pattern})$")).map_err(|e| {
                        bad(format!(
                            "parameter '{name}': pattern is not a valid regex: {e}"
                        ))
                    })?;
                    patterns.insert(name.clone(), anchored);
                }
                ParamSpec::Integer {
                    min: Some(lo),
                    max: Some(hi),
                } if lo > hi => {
                    return Err(bad(format!(
                        "parameter '{name}': min {lo} is greater than max {hi}"
                    )));
                }
                ParamSpec::Enum { values } if values.is_empty() => {
                    return Err(bad(format!(
                        "parameter '{name}': an enum needs at least one value"
                    )));
                }
                _ => {}
            }
        }
        let templates = self.args.iter().chain(self.dry_run_args.iter().flatten());
        let mut used = std::collections::BTreeSet::new();
        for template in templates {
            for found in placeholder().captures_iter(template) {
                let name = &found[1];
                if !self.params.contains_key(name) {
                    return Err(bad(format!(
                        "argument '{template}' uses {{{name}}}, which is not a declared \
                         parameter; declare it under params or remove it"
                    )));
                }
                used.insert(name.to_string());
            }
        }
        if let Some(unused) = self.params.keys().find(|p| !used.contains(*p)) {
            return Err(bad(format!(
                "parameter '{unused}' is declared but no argument uses {{{unused}}}"
            )));
        }
        Ok(Compiled {
            action: self.clone(),
            patterns,
        })
    }
}

impl Compiled {
    /// Checks every value against its type and returns each as the text to substitute.
    fn check(&self, params: &Params) -> Result<BTreeMap<String, String>, RunbookError> {
        let action = &self.action;
        let allowed = || {
            if action.params.is_empty() {
                "no parameters".to_string()
            } else {
                action
                    .params
                    .iter()
                    .map(|(n, s)| format!("{n} ({})", s.describe()))
                    .collect::<Vec<_>>()
                    .join("; ")
            }
        };
        let bad = |param: &str, problem: String, allowed: String| RunbookError::BadParameter {
            action: action.name.clone(),
            param: param.to_string(),
            problem,
            allowed,
        };
        if let Some(extra) = params.keys().find(|k| !action.params.contains_key(*k)) {
            return Err(bad(
                extra,
                "this action has no such parameter".into(),
                allowed(),
            ));
        }
        let mut values = BTreeMap::new();
        for (name, spec) in &action.params {
            let value = params.get(name).ok_or_else(|| {
                bad(
                    name,
                    "missing (all parameters are required)".into(),
                    allowed(),
                )
            })?;
            let text = match (spec, value) {
                (ParamSpec::String { .. }, serde_json::Value::String(s)) => {
                    let matches = self.patterns.get(name).is_some_and(|re| re.is_match(s));
                    if !matches {
                        return Err(bad(
                            name,
                            format!("{s:?} does not match the pattern"),
                            spec.describe(),
                        ));
                    }
                    s.clone()
                }
                (ParamSpec::Integer { min, max }, v) => {
                    let n = match v {
                        serde_json::Value::Number(n) => n.as_i64(),
                        serde_json::Value::String(s) => s.trim().parse::<i64>().ok(),
                        _ => None,
                    }
                    .ok_or_else(|| bad(name, format!("{v} is not an integer"), spec.describe()))?;
                    if min.is_some_and(|lo| n < lo) || max.is_some_and(|hi| n > hi) {
                        return Err(bad(name, format!("{n} is out of range"), spec.describe()));
                    }
                    n.to_string()
                }
                (ParamSpec::Enum { values }, serde_json::Value::String(s))
                    if values.contains(s) =>
                {
                    s.clone()
                }
                (ParamSpec::Enum { .. }, v) => {
                    return Err(bad(
                        name,
                        format!("{v} is not one of the values"),
                        spec.describe(),
                    ));
                }
                (ParamSpec::String { .. }, v) => {
                    return Err(bad(name, format!("{v} is not a string"), spec.describe()));
                }
            };
            values.insert(name.clone(), text);
        }
        Ok(values)
    }
}

/// Fills `{name}` placeholders in one pass, so a value that itself contains `{other}` is
/// passed on literally.
fn render(template: &str, values: &BTreeMap<String, String>) -> String {
    placeholder()
        .replace_all(template, |caps: &regex::Captures<'_>| {
            values.get(&caps[1]).cloned().unwrap_or_default()
        })
        .into_owned()
}

impl Runbook {
    /// Checks every action and refuses two with the same name.
    pub fn new(actions: Vec<RunbookAction>) -> Result<Self, RunbookError> {
        let mut compiled = BTreeMap::new();
        for action in actions {
            let name = action.name.clone();
            if compiled.insert(name.clone(), action.compile()?).is_some() {
                return Err(RunbookError::InvalidConfig {
                    action: name,
                    problem: "declared twice; names must be unique".into(),
                });
            }
        }
        for c in compiled.values() {
            if let Some(undo) = &c.action.rollback
                && !compiled.contains_key(undo)
            {
                return Err(RunbookError::InvalidConfig {
                    action: c.action.name.clone(),
                    problem: format!(
                        "rollback = \"{undo}\" is not a declared action; declare it in \
                         [[runbook]] or remove the rollback"
                    ),
                });
            }
        }
        Ok(Self { actions: compiled })
    }

    /// The declared actions, by name.
    pub fn actions(&self) -> impl Iterator<Item = &RunbookAction> {
        self.actions.values().map(|c| &c.action)
    }

    /// What `name` would run with `params`, after every check; nothing is run.
    pub fn plan(
        &self,
        name: &str,
        params: &Params,
        dry_run: bool,
    ) -> Result<Plan<'_>, RunbookError> {
        let compiled = self
            .actions
            .get(name)
            .ok_or_else(|| RunbookError::UnknownAction {
                name: name.to_string(),
                known: if self.actions.is_empty() {
                    "none are declared".into()
                } else {
                    self.actions.keys().cloned().collect::<Vec<_>>().join(", ")
                },
            })?;
        let values = compiled.check(params)?;
        let action = &compiled.action;
        let (templates, execute) = match (dry_run, &action.dry_run_args) {
            (true, Some(dry)) => (dry, true),
            (true, None) => (&action.args, false),
            (false, _) => (&action.args, true),
        };
        Ok(Plan {
            action,
            args: templates.iter().map(|t| render(t, &values)).collect(),
            execute,
        })
    }

    /// Runs action `name` with `params` (or dry-runs it): checks everything, starts the program
    /// without a shell in a new process group, captures its output, and kills the whole group
    /// if it outlives `timeout_ms` or if this future is dropped.
    ///
    /// A timeout or a non-zero exit is an outcome, not an error; errors are refusals (unknown
    /// action, bad parameter) and failures to start.
    pub async fn run(
        &self,
        name: &str,
        params: &Params,
        dry_run: bool,
    ) -> Result<RunOutcome, RunbookError> {
        let Plan {
            action,
            args,
            execute,
        } = self.plan(name, params, dry_run)?;
        let mut outcome = RunOutcome {
            action: action.name.clone(),
            service: action.service.clone(),
            program: action.program.clone(),
            args,
            dry_run,
            executed: false,
            exit_code: None,
            signal: None,
            timed_out: false,
            stdout: String::new(),
            stdout_truncated: false,
            stderr: String::new(),
            stderr_truncated: false,
            duration_ms: 0,
        };
        if !execute {
            // A dry run of an action without dry_run_args: say what would run.
            return Ok(outcome);
        }
        let spawn_error = |source| RunbookError::Spawn {
            action: action.name.clone(),
            program: action.program.clone(),
            source,
        };

        let mut command = tokio::process::Command::new(&action.program);
        command
            .args(&outcome.args)
            .env_clear()
            .env("PATH", ACTION_PATH)
            .envs(&action.env)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true);
        let started = Instant::now();
        let mut child = command.spawn().map_err(spawn_error)?;
        let mut group = GroupKiller::new(child.id());
        tracing::info!(
            action = %action.name,
            service = %action.service,
            program = %action.program.display(),
            args = ?outcome.args,
            dry_run,
            "runbook action started"
        );

        let out = Arc::new(Mutex::new(Captured::default()));
        let err = Arc::new(Mutex::new(Captured::default()));
        let mut out_task = child
            .stdout
            .take()
            .map(|p| tokio::spawn(capture(p, out.clone())));
        let mut err_task = child
            .stderr
            .take()
            .map(|p| tokio::spawn(capture(p, err.clone())));

        let deadline = tokio::time::Instant::now() + Duration::from_millis(action.timeout_ms);
        // The program's own exit ends the action: a daemon it started (a `start` action) may
        // keep the output pipes open, and is left running, its output read for a moment only.
        let finished = tokio::time::timeout_at(deadline, child.wait()).await;
        let status = match finished {
            Ok(status) => status,
            Err(_) => {
                outcome.timed_out = true;
                group.kill();
                // In case the group kill could not be sent, at least the program itself dies.
                let _ = child.start_kill();
                child.wait().await
            }
        }
        .map_err(|source| RunbookError::Wait {
            action: action.name.clone(),
            program: action.program.clone(),
            source,
        })?;
        group.disarm();
        outcome.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let _ = tokio::time::timeout(PIPE_GRACE, async {
            drain(&mut out_task).await;
            drain(&mut err_task).await;
        })
        .await;
        for task in [out_task, err_task].into_iter().flatten() {
            task.abort();
        }

        outcome.executed = true;
        outcome.exit_code = status.code();
        outcome.signal = status.signal();
        (outcome.stdout, outcome.stdout_truncated) = take(&out);
        (outcome.stderr, outcome.stderr_truncated) = take(&err);
        tracing::info!(
            action = %action.name,
            exit_code = ?outcome.exit_code,
            signal = ?outcome.signal,
            timed_out = outcome.timed_out,
            duration_ms = outcome.duration_ms,
            "runbook action finished"
        );
        Ok(outcome)
    }
}

/// Waits for a capture task to end, once: a finished task is removed so it is never polled
/// again.
async fn drain(task: &mut Option<tokio::task::JoinHandle<()>>) {
    if let Some(running) = task.as_mut() {
        let _ = running.await;
        *task = None;
    }
}

/// Output read so far from one pipe.
#[derive(Default)]
struct Captured {
    bytes: Vec<u8>,
    truncated: bool,
}

/// Reads a pipe to its end, keeping the first [`OUTPUT_CAP_BYTES`].
async fn capture(mut pipe: impl AsyncRead + Unpin, sink: Arc<Mutex<Captured>>) {
    let mut chunk = [0u8; 8192];
    loop {
        let n = match pipe.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let mut captured = sink.lock().unwrap_or_else(PoisonError::into_inner);
        let room = OUTPUT_CAP_BYTES.saturating_sub(captured.bytes.len());
        if n > room {
            captured.truncated = true;
        }
        captured.bytes.extend_from_slice(&chunk[..n.min(room)]);
    }
}

fn take(sink: &Mutex<Captured>) -> (String, bool) {
    let captured = sink.lock().unwrap_or_else(PoisonError::into_inner);
    (
        String::from_utf8_lossy(&captured.bytes).into_owned(),
        captured.truncated,
    )
}

/// Kills the action's process group when told to, or when dropped while armed (the caller gave
/// up on the run), so nothing an action started outlives it.
struct GroupKiller {
    group: Option<rustix::process::Pid>,
}

impl GroupKiller {
    fn new(pid: Option<u32>) -> Self {
        let group = pid
            .and_then(|p| i32::try_from(p).ok())
            .and_then(rustix::process::Pid::from_raw);
        Self { group }
    }

    fn kill(&mut self) {
        if let Some(group) = self.group
            && let Err(e) =
                rustix::process::kill_process_group(group, rustix::process::Signal::KILL)
        {
            tracing::debug!(
                group = group.as_raw_nonzero().get(),
                error = %e,
                "killing runbook process group"
            );
        }
    }

    fn disarm(&mut self) {
        self.group = None;
    }
}

impl Drop for GroupKiller {
    fn drop(&mut self) {
        self.kill();
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn action(name: &str, program: &str, args: &[&str]) -> RunbookAction {
        RunbookAction {
            name: name.into(),
            service: "api".into(),
            description: String::new(),
            program: program.into(),
            args: args.iter().map(|a| a.to_string()).collect(),
            dry_run_args: None,
            params: BTreeMap::new(),
            timeout_ms: 10_000,
            env: BTreeMap::new(),
            risk: Default::default(),
            needs_approval: false,
            rollback: None,
        }
    }

    fn slug() -> ParamSpec {
        ParamSpec::String {
            pattern: "^[a-z0-9-]+$".into(),
        }
    }

    fn greet() -> RunbookAction {
        let mut a = action("greet", "/bin/echo", &["hello", "{who}"]);
        a.params.insert("who".into(), slug());
        a.dry_run_args = Some(vec!["would greet".into(), "{who}".into()]);
        a
    }

    fn params(value: serde_json::Value) -> Params {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn actions_parse_from_toml_and_bad_declarations_are_refused() {
        let parsed: RunbookAction = toml::from_str(
            r#"
            name = "restart-service"
            service = "checkout"
            program = "/usr/bin/systemctl"
            args = ["restart", "{unit}"]
            params.unit = { type = "string", pattern = '^[a-z0-9-]+\.service$' }
            params.replicas = { type = "integer", min = 1, max = 10 }
            params.mode = { type = "enum", values = ["fast", "safe"] }
            dry_run_args = ["status", "{unit}", "--replicas={replicas}", "{mode}"]
            "#,
        )
        .unwrap();
        assert_eq!(parsed.timeout_ms, 30_000);
        parsed.validate().unwrap();

        let typo = toml::from_str::<RunbookAction>(
            "name = \"x\"\nservice = \"s\"\nprogram = \"/bin/true\"\ntimeout = 5",
        );
        assert!(typo.unwrap_err().to_string().contains("timeout"));
        let typo = toml::from_str::<RunbookAction>(
            "name = \"x\"\nservice = \"s\"\nprogram = \"/bin/true\"\nargs = [\"{n}\"]\n\
             params.n = { type = \"integer\", minimum = 1 }",
        );
        assert!(typo.unwrap_err().to_string().contains("minimum"));

        let relative = action("r", "echo", &[]);
        assert!(
            relative
                .validate()
                .unwrap_err()
                .to_string()
                .contains("absolute")
        );
        let undeclared = action("u", "/bin/echo", &["{who}"]);
        let err = undeclared.validate().unwrap_err().to_string();
        assert!(
            err.contains("{who}") && err.contains("not a declared"),
            "{err}"
        );
        let mut unused = action("n", "/bin/echo", &["hi"]);
        unused.params.insert("who".into(), slug());
        assert!(
            unused
                .validate()
                .unwrap_err()
                .to_string()
                .contains("no argument uses")
        );
        let mut bad_regex = action("b", "/bin/echo", &["{who}"]);
        bad_regex.params.insert(
            "who".into(),
            ParamSpec::String {
                pattern: "([a-z".into(),
            },
        );
        assert!(
            bad_regex
                .validate()
                .unwrap_err()
                .to_string()
                .contains("not a valid regex")
        );
        let err = Runbook::new(vec![greet(), greet()]).unwrap_err();
        assert!(err.to_string().contains("declared twice"));
    }

    #[tokio::test]
    async fn echo_runs_with_a_parameter_and_without_a_shell() {
        let mut raw = action("say", "/bin/echo", &["{text}"]);
        raw.params.insert(
            "text".into(),
            ParamSpec::String {
                pattern: ".+".into(),
            },
        );
        let runbook = Runbook::new(vec![greet(), raw]).unwrap();

        let out = runbook
            .run("greet", &params(json!({"who": "world"})), false)
            .await
            .unwrap();
        assert!(out.succeeded(), "{out:?}");
        assert_eq!(out.stdout, "hello world\n");
        assert_eq!(out.stderr, "");
        assert_eq!(out.args, ["hello", "world"]);
        assert_eq!(out.exit_code, Some(0));
        assert!(!out.dry_run && out.executed && !out.timed_out);

        // Shell syntax and other placeholders in a value are passed on literally, as one argument.
        let tricky = "$(id); echo {text} `x` > /tmp/x";
        let out = runbook
            .run("say", &params(json!({"text": tricky})), false)
            .await
            .unwrap();
        assert_eq!(out.stdout, format!("{tricky}\n"));
        assert_eq!(out.args, [tricky]);
    }

    #[tokio::test]
    async fn a_non_zero_exit_is_an_outcome_with_stderr() {
        let runbook = Runbook::new(vec![action("list", "/bin/ls", &["/no/such/dir"])]).unwrap();
        let out = runbook.run("list", &Params::new(), false).await.unwrap();
        assert!(!out.succeeded());
        assert_eq!(out.exit_code, Some(2));
        assert!(out.stderr.contains("/no/such/dir"), "{}", out.stderr);
    }

    #[tokio::test]
    async fn sleep_past_its_timeout_is_killed() {
        let mut nap = action("nap", "/bin/sleep", &["{seconds}"]);
        nap.params.insert(
            "seconds".into(),
            ParamSpec::Integer {
                min: Some(1),
                max: Some(3600),
            },
        );
        nap.timeout_ms = 200;
        let runbook = Runbook::new(vec![nap]).unwrap();
        let out = runbook
            .run("nap", &params(json!({"seconds": 300})), false)
            .await
            .unwrap();
        assert!(out.timed_out, "{out:?}");
        assert_eq!(out.signal, Some(9));
        assert_eq!(out.exit_code, None);
        assert!(!out.succeeded());
    }

    #[tokio::test]
    async fn a_timeout_kills_the_whole_process_group() {
        // The shell starts a grandchild, prints its pid, and waits; the kill must reach both.
        let mut spawner = action("spawner", "/bin/sh", &["-c", "sleep 300 & echo $!; wait"]);
        spawner.timeout_ms = 300;
        let runbook = Runbook::new(vec![spawner]).unwrap();
        let out = runbook.run("spawner", &Params::new(), false).await.unwrap();
        assert!(out.timed_out, "{out:?}");
        let grandchild: u32 = out.stdout.trim().parse().expect("the shell printed a pid");
        // The grandchild is gone or a zombie waiting for init to reap it; poll for the kill to land.
        let mut dead = false;
        for _ in 0..100 {
            let state = std::fs::read_to_string(format!("/proc/{grandchild}/stat"))
                .ok()
                .and_then(|s| s.rsplit_once(") ").map(|(_, rest)| rest.chars().next()));
            if matches!(state, None | Some(Some('Z' | 'X'))) {
                dead = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(dead, "grandchild {grandchild} survived the timeout");
    }

    #[tokio::test]
    async fn a_start_action_that_leaves_a_daemon_running_succeeds() {
        // The daemon keeps the output pipe open; the action is over when the program exits.
        let mut start = action(
            "start",
            "/bin/sh",
            &["-c", "sleep 30 & echo $!; echo started"],
        );
        start.timeout_ms = 10_000;
        let runbook = Runbook::new(vec![start]).unwrap();
        let out = runbook.run("start", &Params::new(), false).await.unwrap();
        assert!(out.succeeded() && !out.timed_out, "{out:?}");
        let daemon: i32 = out
            .stdout
            .lines()
            .next()
            .and_then(|l| l.trim().parse().ok())
            .expect("the shell printed a pid");
        assert!(
            std::path::Path::new(&format!("/proc/{daemon}")).exists(),
            "the daemon was killed"
        );
        let _ = std::process::Command::new("kill")
            .arg(daemon.to_string())
            .status();
    }

    #[tokio::test]
    async fn undeclared_actions_are_refused_with_the_declared_ones() {
        let runbook = Runbook::new(vec![greet()]).unwrap();
        let err = runbook
            .run("rm-everything", &Params::new(), false)
            .await
            .unwrap_err();
        assert!(matches!(err, RunbookError::UnknownAction { .. }), "{err:?}");
        let text = err.to_string();
        assert!(
            text.contains("rm-everything") && text.contains("greet"),
            "{text}"
        );
        let none = Runbook::new(Vec::new()).unwrap();
        let text = none
            .run("x", &Params::new(), false)
            .await
            .unwrap_err()
            .to_string();
        assert!(text.contains("none are declared"), "{text}");
    }

    #[tokio::test]
    async fn parameters_outside_their_type_are_refused_before_anything_runs() {
        let mut scale = action("scale", "/bin/echo", &["{replicas}", "{mode}"]);
        scale.params.insert(
            "replicas".into(),
            ParamSpec::Integer {
                min: Some(1),
                max: Some(10),
            },
        );
        scale.params.insert(
            "mode".into(),
            ParamSpec::Enum {
                values: vec!["fast".into(), "safe".into()],
            },
        );
        let runbook = Runbook::new(vec![greet(), scale]).unwrap();

        let err = runbook
            .run("greet", &params(json!({"who": ";rm -rf /"})), false)
            .await
            .unwrap_err();
        assert!(matches!(err, RunbookError::BadParameter { .. }), "{err:?}");
        let text = err.to_string();
        assert!(
            text.contains("who") && text.contains("^[a-z0-9-]+$") && text.contains(";rm -rf /"),
            "{text}"
        );
        // The pattern must match the whole value, not a part of it.
        assert!(
            runbook
                .run("greet", &params(json!({"who": "ok\nrm"})), false)
                .await
                .is_err()
        );

        for (bad, expect) in [
            (json!({"who": 7}), "not a string"),
            (json!({}), "missing"),
            (json!({"who": "x", "also": "y"}), "no such parameter"),
        ] {
            let text = runbook
                .run("greet", &params(bad), false)
                .await
                .unwrap_err()
                .to_string();
            assert!(text.contains(expect), "{text}");
        }
        for (bad, expect) in [
            (json!({"replicas": 11, "mode": "fast"}), "from 1 to 10"),
            (
                json!({"replicas": "3; ls", "mode": "fast"}),
                "not an integer",
            ),
            (json!({"replicas": 2, "mode": "yolo"}), "one of: fast, safe"),
        ] {
            let text = runbook
                .run("scale", &params(bad), false)
                .await
                .unwrap_err()
                .to_string();
            assert!(text.contains(expect), "{text}");
        }
        let ok = runbook
            .run(
                "scale",
                &params(json!({"replicas": "3", "mode": "safe"})),
                false,
            )
            .await
            .unwrap();
        assert_eq!(ok.stdout, "3 safe\n");
    }

    #[tokio::test]
    async fn a_dry_run_uses_the_dry_run_args_or_runs_nothing() {
        let mut no_dry = greet();
        no_dry.name = "greet-now".into();
        no_dry.dry_run_args = None;
        let runbook = Runbook::new(vec![greet(), no_dry]).unwrap();

        let out = runbook
            .run("greet", &params(json!({"who": "world"})), true)
            .await
            .unwrap();
        assert!(out.dry_run && out.executed && out.succeeded());
        assert_eq!(out.stdout, "would greet world\n");

        let out = runbook
            .run("greet-now", &params(json!({"who": "world"})), true)
            .await
            .unwrap();
        assert!(out.dry_run && !out.executed);
        assert_eq!(out.args, ["hello", "world"]);
        assert_eq!(out.stdout, "");

        // A dry run checks parameters like a real one.
        assert!(
            runbook
                .run("greet-now", &params(json!({"who": "a b"})), true)
                .await
                .is_err()
        );
    }

    #[tokio::test]
    async fn output_is_capped() {
        let mut zeros = action("zeros", "/usr/bin/head", &["-c", "{bytes}", "/dev/zero"]);
        zeros.params.insert(
            "bytes".into(),
            ParamSpec::Integer {
                min: Some(0),
                max: None,
            },
        );
        let runbook = Runbook::new(vec![zeros]).unwrap();
        let out = runbook
            .run("zeros", &params(json!({"bytes": 200_000})), false)
            .await
            .unwrap();
        assert!(out.succeeded(), "{out:?}");
        assert!(out.stdout_truncated);
        assert_eq!(out.stdout.len(), OUTPUT_CAP_BYTES);
        assert!(!out.stderr_truncated);
    }

    #[tokio::test]
    async fn a_missing_program_is_a_spawn_error_naming_it() {
        let runbook = Runbook::new(vec![action("ghost", "/nonexistent/bin/ghost", &[])]).unwrap();
        let err = runbook
            .run("ghost", &Params::new(), false)
            .await
            .unwrap_err();
        assert!(matches!(err, RunbookError::Spawn { .. }), "{err:?}");
        assert!(err.to_string().contains("/nonexistent/bin/ghost"));
    }

    #[test]
    fn values_are_substituted_in_one_pass() {
        let values = BTreeMap::from([
            ("a".to_string(), "{b}".to_string()),
            ("b".to_string(), "B".to_string()),
        ]);
        assert_eq!(render("--x={a}/{b}", &values), "--x={b}/B");
        assert_eq!(render("{not-a-param} {}", &values), "{not-a-param} {}");
    }
}
