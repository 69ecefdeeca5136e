//! The systemd journal as a log source: a unit's messages, entries matching journal fields, or
//! the kernel's messages (the OOM killer, hung tasks, disk errors), read with the real
//! `journalctl` over a time window.
//!
//! Each read runs `journalctl --output=json` once (twice with `kernel` beside a unit or
//! matches) and parses its output line by line, so memory stays bounded by one line and
//! [`MAX_ENTRIES`] entries, whatever the size of the journal. `directory` / `file` read journal
//! files copied from another host (or written by tests) instead of this host's journal.
//!
//! ```toml
//! [[journald]]
//! service = "checkout"
//! unit = "checkout.service"
//!
//! [[journald]]
//! service = "kernel"
//! kernel = true
//! ```

use std::{
    io::{self, BufRead, BufReader, Read},
    path::{Path, PathBuf},
    process::{Child, ChildStdout, Command, ExitStatus, Stdio},
    sync::mpsc,
    thread::JoinHandle,
    time::Duration,
};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::world::{LogEntry, ServiceInfo};

/// Entries one read returns at most; reading stops there and a warning says so.
pub const MAX_ENTRIES: usize = 200_000;
/// Longest JSON line read from `journalctl`; a longer entry is skipped (and counted).
const MAX_LINE_BYTES: usize = 8 * 1024 * 1024;
/// How long one journalctl run may take before it is stopped (a huge journal, a hung mount).
pub const RUN_TIMEOUT: Duration = Duration::from_secs(120);
/// Bytes of `journalctl`'s stderr kept for an error message.
const MAX_STDERR_BYTES: usize = 8 * 1024;
/// The match that selects kernel messages. Not `-k`: that implies `-b` (this boot only), which
/// would hide the OOM kill or panic that preceded the last reboot.
const KERNEL_MATCH: &str = "_TRANSPORT=kernel";
/// What journalctl prints (exit status 0) to a user who may read only their own journal.
const NOT_SEEING_OTHERS: &str = "not seeing messages from other users and the system";

/// One `[[journald]]` entry: which journal entries are a service's logs.
///
/// `unit` and `matches` narrow together (journalctl's rules: different fields must all match,
/// repeats of one field are alternatives); `kernel = true` adds the kernel's messages to them.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct JournaldSpec {
    /// The service these entries belong to.
    pub service: String,
    /// A systemd unit (`checkout.service`; `checkout` means `checkout.service`), as
    /// `journalctl -u` reads it: its own output and systemd's messages about it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Journal field matches, `FIELD=value` (`SYSLOG_IDENTIFIER=nginx`, `_COMM=java`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub matches: Vec<String>,
    /// Also the kernel's messages (`_TRANSPORT=kernel`), from every boot in the window.
    #[serde(default)]
    pub kernel: bool,
    /// Read the journal files in this directory instead of this host's journal
    /// (`journalctl --directory`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub directory: Option<PathBuf>,
    /// Read this one journal file instead of this host's journal (`journalctl --file`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
}

/// What can go wrong reading the journal, each saying what to check.
#[derive(Debug, thiserror::Error)]
pub enum JournaldError {
    /// The `[[journald]]` entry cannot work as written.
    #[error("[[journald]] for service '{service}': {problem}")]
    InvalidConfig {
        /// The service of the entry.
        service: String,
        /// What is wrong and what to write instead.
        problem: String,
    },
    /// `journalctl` could not be started.
    #[error(
        "journald for service '{service}': cannot run {program}: {source}; install systemd \
         (`apt-get install systemd`), which provides journalctl"
    )]
    NotInstalled {
        /// The service of the entry.
        service: String,
        /// The program that was run.
        program: PathBuf,
        /// Why it could not be started.
        source: io::Error,
    },
    /// The configured `directory` or `file` is missing or unreadable.
    #[error(
        "journald for service '{service}': {what} {path}: {source}; fix `{what}` in [[journald]] \
         or check that the user running opsmcp may read it"
    )]
    Path {
        /// The service of the entry.
        service: String,
        /// `directory` or `file`.
        what: &'static str,
        /// The path as configured.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// journalctl ran but may not read the journal.
    #[error(
        "journald for service '{service}': journalctl may not read the journal ({detail}); add \
         the user running opsmcp to group systemd-journal (or adm), or check the permissions of \
         the journal files"
    )]
    PermissionDenied {
        /// The service of the entry.
        service: String,
        /// What journalctl said.
        detail: String,
    },
    /// journalctl failed.
    #[error(
        "journald for service '{service}': `{command}` failed ({status}): {stderr}; check the \
         journal's permissions and the `directory`/`file` path"
    )]
    Failed {
        /// The service of the entry.
        service: String,
        /// The command line.
        command: String,
        /// Its exit status.
        status: String,
        /// What it printed on stderr (the start of it).
        stderr: String,
    },
    /// journalctl ran too long and was stopped.
    #[error(
        "journald for service '{service}': journalctl ran longer than {after:?} and was stopped; \
         narrow the time window or the selection (unit, matches), or check the journal's storage"
    )]
    TimedOut {
        /// The service of the entry.
        service: String,
        /// The time it was given.
        after: Duration,
    },
    /// Reading journalctl's output failed.
    #[error("journald for service '{service}': reading journalctl's output: {source}")]
    Read {
        /// The service of the entry.
        service: String,
        /// The I/O error.
        source: io::Error,
    },
}

impl JournaldSpec {
    /// Checks that the entry names a service and selects something, and that each match is a
    /// `FIELD=value` of an uppercase journal field.
    pub fn validate(&self) -> Result<(), JournaldError> {
        let bad = |problem: String| {
            Err(JournaldError::InvalidConfig {
                service: self.service.clone(),
                problem,
            })
        };
        if self.service.trim().is_empty() {
            return bad("service must not be empty".into());
        }
        if self.unit.is_none() && self.matches.is_empty() && !self.kernel {
            return bad(
                "nothing selected; give unit = \"app.service\", matches = [\"SYSLOG_IDENTIFIER=app\"] \
                 or kernel = true"
                    .into(),
            );
        }
        if let Some(unit) = &self.unit {
            if unit.trim().is_empty() {
                return bad(
                    "unit is empty; name a systemd unit, e.g. unit = \"app.service\"".into(),
                );
            }
            if let Some((field, value)) = unit.split_once('=') {
                return bad(format!(
                    "unit '{unit}' is a field match; write matches = [\"{field}={value}\"], or \
                     unit = \"{value}\""
                ));
            }
            if unit.chars().any(|c| c.is_whitespace() || c.is_control()) || unit.starts_with('-') {
                return bad(format!(
                    "unit '{unit}' is not a unit name; write e.g. unit = \"app.service\""
                ));
            }
        }
        for m in &self.matches {
            if let Err(problem) = check_match(m) {
                return bad(problem);
            }
        }
        if self.directory.is_some() && self.file.is_some() {
            return bad(
                "give directory (a folder of journal files) or file (one .journal file), not both"
                    .into(),
            );
        }
        Ok(())
    }
}

/// Why `m` is not a `FIELD=value` match journalctl takes, with what to write instead.
fn check_match(m: &str) -> Result<(), String> {
    if m == "+" {
        return Err(
            "'+' (OR) is not supported in matches; write another [[journald]] entry with the same \
             service instead"
                .into(),
        );
    }
    let Some((field, value)) = m.split_once('=') else {
        return Err(format!(
            "match '{m}' is not FIELD=value; write e.g. \"SYSLOG_IDENTIFIER={m}\" or \
             \"_SYSTEMD_UNIT={m}.service\""
        ));
    };
    if field.is_empty() {
        return Err(format!(
            "match '{m}' has no field name; write e.g. \"SYSLOG_IDENTIFIER{m}\""
        ));
    }
    if field.starts_with("__") {
        return Err(format!(
            "match '{m}': fields starting with __ ({field}) are entry addresses, not matchable; \
             narrow by unit, SYSLOG_IDENTIFIER or _PID instead"
        ));
    }
    let valid = field.len() <= 64
        && !field.as_bytes()[0].is_ascii_digit()
        && field
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
    if !valid {
        let upper: String = field
            .chars()
            .map(|c| match c {
                'a'..='z' => c.to_ascii_uppercase(),
                'A'..='Z' | '0'..='9' | '_' => c,
                _ => '_',
            })
            .collect();
        return Err(format!(
            "match '{m}': field names are uppercase journal fields (A-Z, 0-9, _, at most 64); \
             write \"{upper}={value}\""
        ));
    }
    Ok(())
}

/// Which entries one journalctl run selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Query {
    /// The unit and the matches.
    Selected,
    /// The kernel's messages.
    Kernel,
}

/// A service's journal entries, as the config describes them.
#[derive(Debug, Clone)]
pub struct JournaldSource {
    spec: JournaldSpec,
    program: PathBuf,
    max_entries: usize,
    timeout: Duration,
}

/// One journalctl process: its output, what it says on stderr (read on a thread), and a
/// watchdog that kills it at the deadline.
struct Run {
    child: Child,
    stderr: JoinHandle<String>,
    stop_watchdog: mpsc::Sender<()>,
    watchdog: JoinHandle<bool>,
}

impl Run {
    fn stdout(&mut self) -> ChildStdout {
        self.child.stdout.take().expect("stdout is piped")
    }
}

impl JournaldSource {
    /// Validates the entry; the journal is read on each [`JournaldSource::read`].
    pub fn new(spec: JournaldSpec) -> Result<Self, JournaldError> {
        spec.validate()?;
        Ok(Self {
            spec,
            program: PathBuf::from("journalctl"),
            max_entries: MAX_ENTRIES,
            timeout: RUN_TIMEOUT,
        })
    }

    /// Run this program instead of `journalctl` from `PATH`.
    pub fn with_journalctl(mut self, program: impl Into<PathBuf>) -> Self {
        self.program = program.into();
        self
    }

    /// Stop a journalctl run after this long instead of [`RUN_TIMEOUT`].
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Return at most this many entries per read instead of [`MAX_ENTRIES`].
    pub fn with_max_entries(mut self, max: usize) -> Self {
        self.max_entries = max;
        self
    }

    /// The entry this source was built from.
    pub fn spec(&self) -> &JournaldSpec {
        &self.spec
    }

    /// The entries from `from` (inclusive) to `to` (exclusive), oldest first, at most
    /// [`MAX_ENTRIES`] (journalctl's output is cut there, oldest first; a warning says when the
    /// window had more).
    ///
    /// Runs journalctl and waits for it; call it from `spawn_blocking` in async code.
    pub fn read(&self, from: Timestamp, to: Timestamp) -> Result<Vec<LogEntry>, JournaldError> {
        self.check_paths()?;
        let mut out = Vec::new();
        let mut truncated = false;
        if self.spec.unit.is_some() || !self.spec.matches.is_empty() {
            truncated |= self.run_query(Query::Selected, from, to, &mut out)?;
        }
        if self.spec.kernel && !truncated {
            truncated |= self.run_query(Query::Kernel, from, to, &mut out)?;
        }
        out.sort_by_key(|e| e.at);
        if truncated {
            out.truncate(self.max_entries);
            tracing::warn!(
                service = %self.spec.service,
                max_entries = self.max_entries,
                until = %out.last().map_or(from, |e| e.at),
                "journal window has more entries than the cap; reading stopped there, narrow the \
                 window to see the rest"
            );
        }
        Ok(out)
    }

    /// Tries the entry once for `opsmcp config check`: journalctl runs, the journal (or the
    /// configured directory/file) is readable, the unit has entries in it. Returns what it
    /// found.
    pub fn check(&self) -> Result<String, JournaldError> {
        self.check_paths()?;
        let mut found = Vec::new();
        if let Some(unit) = &self.spec.unit {
            let name = mangle_unit(unit);
            if name.contains(['*', '?', '[']) {
                found.push(format!("unit pattern '{name}'"));
            } else {
                let (mut known, mut any) = (false, false);
                for field in ["_SYSTEMD_UNIT", "UNIT"] {
                    let mut args = self.journal();
                    args.push(format!("--field={field}"));
                    let values = self.capture(&args)?;
                    any |= !values.trim().is_empty();
                    known |= values.lines().any(|v| v == name);
                }
                if !known {
                    let problem = if any {
                        format!(
                            "unit '{name}' has no entries in the journal; check the name \
                             (`journalctl --field=_SYSTEMD_UNIT` lists the units that logged)"
                        )
                    } else {
                        format!(
                            "unit '{name}' has no entries: the journal has none from any unit; \
                             check that systemd-journald runs here (or the `directory`/`file` \
                             path) and that the user running opsmcp may read the journal (group \
                             systemd-journal)"
                        )
                    };
                    return Err(JournaldError::InvalidConfig {
                        service: self.spec.service.clone(),
                        problem,
                    });
                }
                found.push(format!("unit {name} has entries"));
            }
        }
        let query = if self.spec.unit.is_some() || !self.spec.matches.is_empty() {
            Query::Selected
        } else {
            Query::Kernel
        };
        let mut args = vec!["--output=json".to_string(), "--lines=1".to_string()];
        args.extend(self.selection(query));
        let last = self.capture(&args)?;
        let last = last.lines().next().and_then(parse_line);
        found.push(match last {
            Some(p) => format!("journal readable, last entry at {}", p.at),
            None => "journal readable, no matching entries yet".into(),
        });
        Ok(found.join("; "))
    }

    /// `directory` / `file` exist and are readable, so a typo is named as such rather than as
    /// journalctl's "No such file".
    fn check_paths(&self) -> Result<(), JournaldError> {
        let path_error = |what, path: &Path, source| JournaldError::Path {
            service: self.spec.service.clone(),
            what,
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = &self.spec.directory {
            std::fs::read_dir(dir).map_err(|e| path_error("directory", dir, e))?;
        }
        if let Some(file) = &self.spec.file {
            std::fs::File::open(file).map_err(|e| path_error("file", file, e))?;
        }
        Ok(())
    }

    /// The arguments choosing the journal and the entries of `query`.
    fn selection(&self, query: Query) -> Vec<String> {
        let mut args = self.journal();
        match query {
            Query::Selected => {
                if let Some(unit) = &self.spec.unit {
                    args.push(format!("--unit={unit}"));
                }
                if !self.spec.matches.is_empty() {
                    args.push("--".into());
                    args.extend(self.spec.matches.iter().cloned());
                }
            }
            Query::Kernel => args.extend(["--".to_string(), KERNEL_MATCH.to_string()]),
        }
        args
    }

    /// The arguments choosing the journal: this host's, or the configured directory or file.
    fn journal(&self) -> Vec<String> {
        let mut args = Vec::new();
        if let Some(dir) = &self.spec.directory {
            args.push(format!("--directory={}", dir.display()));
        }
        if let Some(file) = &self.spec.file {
            args.push(format!("--file={}", file.display()));
        }
        args
    }

    fn command(&self, args: &[String]) -> Command {
        let mut cmd = Command::new(&self.program);
        // `--quiet` is not given: its hint about unreadable journals is how a missing group is
        // recognised.
        cmd.arg("--no-pager")
            .args(args)
            .env("SYSTEMD_COLORS", "0")
            .env_remove("SYSTEMD_PAGER")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    fn spawn(&self, args: &[String]) -> Result<Run, JournaldError> {
        let mut child =
            self.command(args)
                .spawn()
                .map_err(|source| JournaldError::NotInstalled {
                    service: self.spec.service.clone(),
                    program: self.program.clone(),
                    source,
                })?;
        let stderr = child.stderr.take().expect("stderr is piped");
        let stderr = std::thread::spawn(move || read_bounded(stderr, MAX_STDERR_BYTES));
        // Killed by pid: safe, since the child is reaped only after the watchdog has finished.
        let pid = rustix::process::Pid::from_raw(child.id() as i32);
        let (stop_watchdog, stopped) = mpsc::channel::<()>();
        let timeout = self.timeout;
        let watchdog = std::thread::spawn(move || match stopped.recv_timeout(timeout) {
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if let Some(pid) = pid {
                    let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
                }
                true
            }
            _ => false,
        });
        Ok(Run {
            child,
            stderr,
            stop_watchdog,
            watchdog,
        })
    }

    /// Waits for the run to end (killing it first with `kill`): its exit status and stderr, or
    /// the timeout that stopped it.
    fn finish(&self, run: Run, kill: bool) -> Result<(ExitStatus, String), JournaldError> {
        let Run {
            mut child,
            stderr,
            stop_watchdog,
            watchdog,
        } = run;
        let _ = stop_watchdog.send(());
        let timed_out = watchdog.join().unwrap_or(false);
        if kill {
            let _ = child.kill();
        }
        let status = child.wait().map_err(|source| self.read_error(source))?;
        let stderr = stderr.join().unwrap_or_default();
        if timed_out {
            return Err(JournaldError::TimedOut {
                service: self.spec.service.clone(),
                after: self.timeout,
            });
        }
        Ok((status, stderr))
    }

    /// Runs journalctl with `args` and returns its (small) output, or why it failed.
    fn capture(&self, args: &[String]) -> Result<String, JournaldError> {
        let mut run = self.spawn(args)?;
        let out = read_bounded(run.stdout(), MAX_LINE_BYTES);
        let (status, stderr) = self.finish(run, false)?;
        self.judge(args, status, &stderr)?;
        Ok(out)
    }

    /// An error for a failed run or a journal this user may not read.
    fn judge(
        &self,
        args: &[String],
        status: ExitStatus,
        stderr: &str,
    ) -> Result<(), JournaldError> {
        let stderr = stderr.trim();
        if stderr.contains(NOT_SEEING_OTHERS) || stderr.contains("insufficient permissions") {
            return Err(JournaldError::PermissionDenied {
                service: self.spec.service.clone(),
                detail: stderr.lines().next().unwrap_or_default().to_string(),
            });
        }
        if !status.success() {
            return Err(JournaldError::Failed {
                service: self.spec.service.clone(),
                command: format!("{} {}", self.program.display(), args.join(" ")),
                status: status.to_string(),
                stderr: if stderr.is_empty() {
                    "no message".into()
                } else {
                    stderr.to_string()
                },
            });
        }
        Ok(())
    }

    /// One journalctl run over the window, its entries appended to `out`. Returns whether it
    /// stopped at the cap.
    fn run_query(
        &self,
        query: Query,
        from: Timestamp,
        to: Timestamp,
        out: &mut Vec<LogEntry>,
    ) -> Result<bool, JournaldError> {
        let mut args = vec![
            "--output=json".to_string(),
            // Without it, fields over 4096 bytes come out as null.
            "--all".to_string(),
            "--output-fields=MESSAGE,PRIORITY,_TRANSPORT".to_string(),
            format!("--since={}", at_arg(from)),
            // Inclusive in journalctl; the exclusive end is applied per entry.
            format!("--until={}", at_arg(to)),
        ];
        args.extend(self.selection(query));
        let mut run = self.spawn(&args)?;
        let mut stdout = BufReader::with_capacity(64 * 1024, run.stdout());
        let mut buf = Vec::new();
        let (mut truncated, mut oversized, mut unparsed) = (false, 0usize, 0usize);
        loop {
            buf.clear();
            let (consumed, cut) = match read_line(&mut stdout, &mut buf, MAX_LINE_BYTES) {
                Ok(r) => r,
                Err(source) => {
                    self.finish(run, true)?;
                    return Err(self.read_error(source));
                }
            };
            if consumed == 0 {
                break;
            }
            if cut {
                oversized += 1;
                continue;
            }
            if buf.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let Some(parsed) = parse_line_bytes(&buf) else {
                unparsed += 1;
                continue;
            };
            // With `kernel` as well, kernel messages come from their own query only.
            if query == Query::Selected && self.spec.kernel && parsed.kernel {
                continue;
            }
            if parsed.at < from || parsed.at >= to {
                continue;
            }
            let Some(text) = parsed.text else { continue };
            if out.len() >= self.max_entries {
                truncated = true;
                break;
            }
            out.push(LogEntry {
                at: parsed.at,
                service: self.spec.service.clone(),
                level: parsed.level.into(),
                text,
            });
        }
        drop(stdout);
        let (status, stderr) = self.finish(run, truncated)?;
        if !truncated {
            self.judge(&args, status, &stderr)?;
        }
        if oversized + unparsed > 0 {
            tracing::warn!(
                service = %self.spec.service,
                oversized,
                unparsed,
                "journal entries skipped: longer than {MAX_LINE_BYTES} bytes or not journalctl JSON"
            );
        }
        Ok(truncated)
    }

    fn read_error(&self, source: io::Error) -> JournaldError {
        JournaldError::Read {
            service: self.spec.service.clone(),
            source,
        }
    }
}

/// Each source's entries over the window, oldest first; a source that cannot be read is
/// skipped with a warning naming it (the others still answer).
pub fn read_all(sources: &[JournaldSource], from: Timestamp, to: Timestamp) -> Vec<LogEntry> {
    let mut out = Vec::new();
    for source in sources {
        match source.read(from, to) {
            Ok(entries) => out.extend(entries),
            Err(e) => {
                tracing::warn!(service = %source.spec().service, error = %e, "journal unreadable")
            }
        }
    }
    out.sort_by_key(|e| e.at);
    out
}

/// The services of `sources`, each once, for [`crate::World::services`].
pub fn services(sources: &[JournaldSource]) -> Vec<ServiceInfo> {
    let mut out: Vec<ServiceInfo> = Vec::new();
    for s in sources {
        if !out.iter().any(|i| i.name == s.spec.service) {
            out.push(ServiceInfo {
                name: s.spec.service.clone(),
                kind: "journald".into(),
                depends_on: Vec::new(),
            });
        }
    }
    out
}

/// `@SECONDS.MICROS`, the form journalctl's `--since`/`--until` take for an exact instant.
fn at_arg(t: Timestamp) -> String {
    let us = t.as_microsecond();
    format!(
        "@{}.{:06}",
        us.div_euclid(1_000_000),
        us.rem_euclid(1_000_000)
    )
}

/// A unit name as `journalctl -u` completes it: `app` → `app.service`.
fn mangle_unit(unit: &str) -> String {
    if unit.contains('.') || unit.contains(['*', '?', '[']) {
        unit.to_string()
    } else {
        format!("{unit}.service")
    }
}

/// One journal entry as far as a log line needs it.
#[derive(Debug, PartialEq)]
struct Parsed {
    at: Timestamp,
    /// The message; `None` when the entry has none (or journalctl left it out as null).
    text: Option<String>,
    level: &'static str,
    kernel: bool,
}

fn parse_line(line: &str) -> Option<Parsed> {
    parse_line_bytes(line.as_bytes())
}

/// One line of `journalctl --output=json`; `None` when it is not an entry with a time.
fn parse_line_bytes(line: &[u8]) -> Option<Parsed> {
    #[derive(Deserialize)]
    struct Raw {
        #[serde(rename = "MESSAGE", default)]
        message: Value,
        #[serde(rename = "PRIORITY", default)]
        priority: Value,
        #[serde(rename = "_TRANSPORT", default)]
        transport: Value,
        #[serde(rename = "__REALTIME_TIMESTAMP", default)]
        realtime: Value,
    }
    let raw: Raw = serde_json::from_slice(line).ok()?;
    let micros: i64 = field_text(&raw.realtime)?.trim().parse().ok()?;
    Some(Parsed {
        at: Timestamp::from_microsecond(micros).ok()?,
        text: field_text(&raw.message),
        level: level(field_text(&raw.priority).as_deref()),
        kernel: field_text(&raw.transport).as_deref() == Some("kernel"),
    })
}

/// A field's value as journalctl writes it in JSON: a string; an array of bytes when it is not
/// valid UTF-8 (decoded lossily); an array of those when the entry repeats the field (joined by
/// newlines); null when it was too large to print.
fn field_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Array(items) if items.iter().all(Value::is_number) => {
            let bytes: Vec<u8> = items
                .iter()
                .map(|b| {
                    b.as_u64()
                        .and_then(|b| u8::try_from(b).ok())
                        .unwrap_or(b'?')
                })
                .collect();
            Some(String::from_utf8_lossy(&bytes).into_owned())
        }
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().filter_map(field_text).collect();
            (!parts.is_empty()).then(|| parts.join("\n"))
        }
        _ => None,
    }
}

/// The syslog priority as a level: 0-3 error, 4 warn, 5-6 info, 7 debug.
fn level(priority: Option<&str>) -> &'static str {
    match priority.map(str::trim) {
        Some("0" | "1" | "2" | "3") => "error",
        Some("4") => "warn",
        Some("5" | "6") => "info",
        Some("7") => "debug",
        _ => "unknown",
    }
}

/// Reads at most `max` bytes of `r` (lossily as text), then drains the rest so the writer does
/// not block.
fn read_bounded(r: impl Read, max: usize) -> String {
    let mut r = r;
    let mut kept = Vec::new();
    let _ = r.by_ref().take(max as u64).read_to_end(&mut kept);
    let _ = io::copy(&mut r, &mut io::sink());
    String::from_utf8_lossy(&kept).into_owned()
}

/// Reads one line into `buf` (without the `\n`), keeping at most `max` bytes and skipping the
/// rest. Returns the bytes consumed and whether the line was cut.
fn read_line(
    reader: &mut impl BufRead,
    buf: &mut Vec<u8>,
    max: usize,
) -> io::Result<(usize, bool)> {
    let (mut consumed, mut cut) = (0, false);
    loop {
        let available = match reader.fill_buf() {
            Ok(a) => a,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok((consumed, cut));
        }
        let (chunk, used, newline) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (&available[..i], i + 1, true),
            None => (available, available.len(), false),
        };
        let room = max.saturating_sub(buf.len());
        cut |= chunk.len() > room;
        buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
        reader.consume(used);
        consumed += used;
        if newline {
            return Ok((consumed, cut));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    /// The converter from the journal export format to journal files, from the Debian package
    /// systemd-journal-remote.
    const JOURNAL_REMOTE: &str = "/lib/systemd/systemd-journal-remote";

    /// 2025-12-05T02:00:00Z.
    const T0: i64 = 1_764_900_000;
    const BOOT_OLD: &str = "0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a";
    const BOOT: &str = "1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b";

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_second(T0 + secs).unwrap()
    }

    /// Whether the journal tools are here. Without them the tests fail when `CI` is set (and
    /// say what to install); on a developer machine they are skipped, loudly.
    fn tools_present() -> bool {
        let missing: Vec<&str> = [
            (JOURNAL_REMOTE, "systemd-journal-remote"),
            ("/usr/bin/journalctl", "systemd"),
        ]
        .into_iter()
        .filter(|(path, _)| !Path::new(path).exists())
        .map(|(_, package)| package)
        .collect();
        if missing.is_empty() {
            return true;
        }
        let message = format!(
            "the journald tests need real journal files: install the Debian package(s) {} \
             (`apt-get install -y {}`; .ci/run does)",
            missing.join(", "),
            missing.join(" ")
        );
        if std::env::var_os("CI").is_some() {
            panic!("{message}");
        }
        eprintln!("\n!!!!!!!! SKIPPED: {message} !!!!!!!!\n");
        false
    }

    /// One entry's fields, in order.
    type Fields = Vec<(String, Vec<u8>)>;

    /// Entries in the journal export format: `FIELD=value` lines, or for a value that is not
    /// UTF-8 (or has a newline) `FIELD\n`, its length as 64-bit little endian, the bytes and a
    /// newline; a blank line after each entry.
    fn export(entries: &[Fields]) -> Vec<u8> {
        let mut out = Vec::new();
        for (i, fields) in entries.iter().enumerate() {
            for (name, value) in fields {
                if std::str::from_utf8(value).is_ok() && !value.contains(&b'\n') {
                    out.extend_from_slice(format!("{name}=").as_bytes());
                    out.extend_from_slice(value);
                } else {
                    out.extend_from_slice(format!("{name}\n").as_bytes());
                    out.extend_from_slice(&(value.len() as u64).to_le_bytes());
                    out.extend_from_slice(value);
                }
                out.push(b'\n');
            }
            out.extend_from_slice(format!("__CURSOR=s=0;i={}\n\n", i + 1).as_bytes());
        }
        out
    }

    /// A journal entry at `T0 + secs` of `boot`, with `more` fields.
    fn entry(secs: i64, boot: &str, message: &[u8], more: &[(&str, &str)]) -> Fields {
        let mut fields: Fields = vec![
            (
                "__REALTIME_TIMESTAMP".into(),
                ((T0 + secs) * 1_000_000).to_string().into_bytes(),
            ),
            (
                "__MONOTONIC_TIMESTAMP".into(),
                ((secs + 1000) * 1_000_000).to_string().into_bytes(),
            ),
            ("_BOOT_ID".into(), boot.as_bytes().to_vec()),
            ("MESSAGE".into(), message.to_vec()),
        ];
        fields.extend(
            more.iter()
                .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec())),
        );
        fields
    }

    /// Writes `entries` as a real journal file, `<dir>/journal/remote.journal`, with
    /// systemd-journal-remote.
    fn write_journal(dir: &Path, entries: &[Fields]) -> PathBuf {
        let export_path = dir.join("entries.export");
        std::fs::File::create(&export_path)
            .unwrap()
            .write_all(&export(entries))
            .unwrap();
        let journal_dir = dir.join("journal");
        std::fs::create_dir_all(&journal_dir).unwrap();
        let file = journal_dir.join("remote.journal");
        let out = Command::new(JOURNAL_REMOTE)
            .arg(format!("--output={}", file.display()))
            .arg(&export_path)
            .output()
            .unwrap();
        assert!(
            out.status.success() && file.exists(),
            "systemd-journal-remote: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        file
    }

    /// A journal of two services and the kernel over two boots; its directory stays while the
    /// returned guard lives.
    fn sample_journal() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let app = [("_SYSTEMD_UNIT", "app.service"), ("_TRANSPORT", "stdout")];
        let file = write_journal(
            dir.path(),
            &[
                entry(
                    -100,
                    BOOT_OLD,
                    b"Out of memory: Killed process 999 (app) total-vm:812345kB",
                    &[("_TRANSPORT", "kernel"), ("PRIORITY", "3")],
                ),
                entry(0, BOOT, b"app started", &[app[0], app[1], ("PRIORITY", "6")]),
                entry(
                    10,
                    BOOT,
                    b"db timeout after 5s",
                    &[app[0], app[1], ("PRIORITY", "3"), ("SYSLOG_IDENTIFIER", "app")],
                ),
                entry(20, BOOT, b"slow query", &[app[0], app[1], ("PRIORITY", "4")]),
                entry(30, BOOT, b"cache detail", &[app[0], app[1], ("PRIORITY", "7")]),
                entry(40, BOOT, b"raw \xff\xfe bytes", &[app[0], app[1]]),
                entry(
                    50,
                    BOOT,
                    b"other says hi",
                    &[
                        ("_SYSTEMD_UNIT", "other.service"),
                        ("SYSLOG_IDENTIFIER", "other"),
                        ("PRIORITY", "5"),
                    ],
                ),
                entry(
                    60,
                    BOOT,
                    b"Out of memory: Killed process 4242 (app) total-vm:912345kB, anon-rss:812000kB",
                    &[("_TRANSPORT", "kernel"), ("PRIORITY", "3")],
                ),
                entry(70, BOOT, b"panic: disk gone", &[app[0], app[1], ("PRIORITY", "0")]),
            ],
        );
        (dir, file)
    }

    fn spec(service: &str, journal: &Path) -> JournaldSpec {
        JournaldSpec {
            service: service.into(),
            directory: Some(journal.parent().unwrap().to_path_buf()),
            ..Default::default()
        }
    }

    fn read(spec: JournaldSpec, from: i64, to: i64) -> Vec<LogEntry> {
        JournaldSource::new(spec)
            .unwrap()
            .read(at(from), at(to))
            .unwrap()
    }

    fn texts(entries: &[LogEntry]) -> Vec<&str> {
        entries.iter().map(|e| e.text.as_str()).collect()
    }

    #[test]
    fn spec_parses_from_toml_and_refusals_say_what_to_write() {
        let parsed: JournaldSpec =
            toml::from_str("service = \"api\"\nunit = \"api.service\"\nmatches = [\"_COMM=java\"]")
                .unwrap();
        assert!(!parsed.kernel);
        parsed.validate().unwrap();
        let typo = toml::from_str::<JournaldSpec>("service = \"api\"\nunits = [\"x\"]");
        assert!(typo.unwrap_err().to_string().contains("units"));

        let refused = |spec: JournaldSpec| JournaldSource::new(spec).unwrap_err().to_string();
        let base = JournaldSpec {
            service: "api".into(),
            ..Default::default()
        };
        let err = refused(base.clone());
        assert!(
            err.contains("kernel = true") && err.contains("api"),
            "{err}"
        );
        let with = |m: &str| JournaldSpec {
            matches: vec![m.into()],
            ..base.clone()
        };
        let err = refused(with("syslog_identifier=nginx"));
        assert!(err.contains("write \"SYSLOG_IDENTIFIER=nginx\""), "{err}");
        let err = refused(with("nginx"));
        assert!(err.contains("not FIELD=value"), "{err}");
        let err = refused(with("__CURSOR=x"));
        assert!(err.contains("not matchable"), "{err}");
        let err = refused(with("+"));
        assert!(err.contains("another [[journald]]"), "{err}");
        let err = refused(JournaldSpec {
            unit: Some("_SYSTEMD_UNIT=a.service".into()),
            ..base.clone()
        });
        assert!(
            err.contains("matches = [\"_SYSTEMD_UNIT=a.service\"]"),
            "{err}"
        );
        let err = refused(JournaldSpec {
            kernel: true,
            directory: Some("/a".into()),
            file: Some("/a/b.journal".into()),
            ..base.clone()
        });
        assert!(err.contains("not both"), "{err}");
        JournaldSource::new(JournaldSpec {
            kernel: true,
            ..base
        })
        .unwrap();
    }

    #[test]
    fn json_lines_become_entries_whatever_form_the_message_takes() {
        let p = parse_line(
            r#"{"__REALTIME_TIMESTAMP":"1764900000123456","MESSAGE":"hi","PRIORITY":"4"}"#,
        )
        .unwrap();
        assert_eq!(
            p.at,
            Timestamp::from_microsecond(1_764_900_000_123_456).unwrap()
        );
        assert_eq!((p.text.as_deref(), p.level), (Some("hi"), "warn"));
        let p = parse_line(r#"{"__REALTIME_TIMESTAMP":"1","MESSAGE":[104,105,255]}"#).unwrap();
        assert_eq!(
            (p.text.as_deref(), p.level),
            (Some("hi\u{fffd}"), "unknown")
        );
        let p = parse_line(r#"{"__REALTIME_TIMESTAMP":"1","MESSAGE":["a",[98]]}"#).unwrap();
        assert_eq!(p.text.as_deref(), Some("a\nb"));
        let p = parse_line(r#"{"__REALTIME_TIMESTAMP":"1","MESSAGE":null}"#).unwrap();
        assert_eq!(p.text, None);
        assert!(parse_line(r#"{"MESSAGE":"no time"}"#).is_none());
        assert!(parse_line("-- No entries --").is_none());
        let levels: Vec<&str> = ["0", "1", "2", "3", "4", "5", "6", "7", "8"]
            .iter()
            .map(|p| level(Some(p)))
            .collect();
        assert_eq!(
            levels,
            [
                "error", "error", "error", "error", "warn", "info", "info", "debug", "unknown"
            ]
        );
        assert_eq!(
            at_arg(Timestamp::from_microsecond(1_500_000).unwrap()),
            "@1.500000"
        );
    }

    #[test]
    fn a_unit_gives_its_entries_in_order_with_levels_from_priority() {
        if !tools_present() {
            return;
        }
        let (_dir, file) = sample_journal();
        let entries = read(
            JournaldSpec {
                unit: Some("app.service".into()),
                ..spec("app", &file)
            },
            -1000,
            1000,
        );
        assert_eq!(
            texts(&entries),
            [
                "app started",
                "db timeout after 5s",
                "slow query",
                "cache detail",
                "raw \u{fffd}\u{fffd} bytes",
                "panic: disk gone"
            ]
        );
        let levels: Vec<&str> = entries.iter().map(|e| e.level.as_str()).collect();
        assert_eq!(
            levels,
            ["info", "error", "warn", "debug", "unknown", "error"]
        );
        assert!(entries.iter().all(|e| e.service == "app"));
        assert_eq!(entries[0].at, at(0));
        // `app` means app.service, as with journalctl -u.
        let short = read(
            JournaldSpec {
                unit: Some("app".into()),
                ..spec("app", &file)
            },
            -1000,
            1000,
        );
        assert_eq!(short, entries);
    }

    #[test]
    fn matches_select_and_narrow_a_unit() {
        if !tools_present() {
            return;
        }
        let (_dir, file) = sample_journal();
        let other = read(
            JournaldSpec {
                matches: vec!["SYSLOG_IDENTIFIER=other".into()],
                ..spec("other", &file)
            },
            -1000,
            1000,
        );
        assert_eq!(texts(&other), ["other says hi"]);
        assert_eq!(other[0].level, "info");
        let errors = read(
            JournaldSpec {
                unit: Some("app.service".into()),
                matches: vec!["PRIORITY=3".into(), "PRIORITY=0".into()],
                ..spec("app", &file)
            },
            -1000,
            1000,
        );
        assert_eq!(texts(&errors), ["db timeout after 5s", "panic: disk gone"]);
    }

    #[test]
    fn kernel_messages_come_from_every_boot_and_join_a_unit_in_time_order() {
        if !tools_present() {
            return;
        }
        let (_dir, file) = sample_journal();
        let kernel = read(
            JournaldSpec {
                kernel: true,
                ..spec("kernel", &file)
            },
            -1000,
            1000,
        );
        assert_eq!(kernel.len(), 2, "{kernel:?}");
        assert!(kernel[0].text.contains("Killed process 999"));
        assert_eq!(
            kernel[1].text,
            "Out of memory: Killed process 4242 (app) total-vm:912345kB, anon-rss:812000kB"
        );
        assert!(kernel.iter().all(|e| e.level == "error"));

        let both = read(
            JournaldSpec {
                unit: Some("app.service".into()),
                kernel: true,
                ..spec("app", &file)
            },
            45,
            1000,
        );
        assert_eq!(
            texts(&both),
            [
                "Out of memory: Killed process 4242 (app) total-vm:912345kB, anon-rss:812000kB",
                "panic: disk gone"
            ]
        );
    }

    #[test]
    fn the_window_includes_its_start_and_excludes_its_end() {
        if !tools_present() {
            return;
        }
        let (_dir, file) = sample_journal();
        let app = JournaldSpec {
            unit: Some("app.service".into()),
            ..spec("app", &file)
        };
        assert_eq!(
            texts(&read(app.clone(), 10, 30)),
            ["db timeout after 5s", "slow query"]
        );
        let source = JournaldSource::new(app.clone()).unwrap();
        let half = Timestamp::from_microsecond((T0 + 10) * 1_000_000 + 1).unwrap();
        let entries = source.read(half, at(21)).unwrap();
        assert_eq!(texts(&entries), ["slow query"]);
        assert!(read(app.clone(), 1000, 2000).is_empty());

        // The same through `file`, and cut at a cap.
        let by_file = JournaldSpec {
            directory: None,
            file: Some(file.clone()),
            ..app
        };
        let capped = JournaldSource::new(by_file)
            .unwrap()
            .with_max_entries(2)
            .read(at(-1000), at(1000))
            .unwrap();
        assert_eq!(texts(&capped), ["app started", "db timeout after 5s"]);
    }

    #[test]
    fn a_missing_directory_or_journalctl_is_an_error_saying_what_to_fix() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope");
        let err = JournaldSource::new(JournaldSpec {
            service: "app".into(),
            unit: Some("app.service".into()),
            directory: Some(missing.clone()),
            ..Default::default()
        })
        .unwrap()
        .read(at(0), at(10))
        .unwrap_err();
        assert!(
            matches!(
                err,
                JournaldError::Path {
                    what: "directory",
                    ..
                }
            ),
            "{err:?}"
        );
        let text = err.to_string();
        assert!(
            text.contains(&missing.display().to_string()) && text.contains("fix `directory`"),
            "{text}"
        );

        let err = JournaldSource::new(JournaldSpec {
            service: "app".into(),
            kernel: true,
            directory: Some(dir.path().to_path_buf()),
            ..Default::default()
        })
        .unwrap()
        .with_journalctl(dir.path().join("no-journalctl"))
        .read(at(0), at(10))
        .unwrap_err();
        assert!(matches!(err, JournaldError::NotInstalled { .. }), "{err:?}");
        assert!(err.to_string().contains("apt-get install systemd"), "{err}");
    }

    #[test]
    fn a_journalctl_that_hangs_is_stopped_at_the_timeout() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("journalctl");
        std::fs::write(&script, "#!/bin/sh\nexec sleep 30\n").unwrap();
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let started = std::time::Instant::now();
        let err = JournaldSource::new(JournaldSpec {
            service: "app".into(),
            kernel: true,
            ..Default::default()
        })
        .unwrap()
        .with_journalctl(&script)
        .with_timeout(Duration::from_millis(300))
        .read(at(0), at(10))
        .unwrap_err();
        assert!(matches!(err, JournaldError::TimedOut { .. }), "{err:?}");
        assert!(err.to_string().contains("narrow the time window"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn a_failing_journalctl_is_reported_with_what_it_said() {
        if !tools_present() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let not_a_journal = dir.path().join("x.journal");
        std::fs::write(&not_a_journal, b"not a journal").unwrap();
        let source = JournaldSource::new(JournaldSpec {
            service: "app".into(),
            kernel: true,
            file: Some(not_a_journal.clone()),
            ..Default::default()
        })
        .unwrap();
        match source.read(at(0), at(10)) {
            // journalctl 252 skips a corrupt file and finds nothing; later versions refuse it.
            Ok(entries) => assert!(entries.is_empty()),
            Err(e) => assert!(matches!(e, JournaldError::Failed { .. }), "{e:?}"),
        }
    }

    #[test]
    fn check_names_the_unit_and_the_last_entry() {
        if !tools_present() {
            return;
        }
        let (_dir, file) = sample_journal();
        let found = JournaldSource::new(JournaldSpec {
            unit: Some("app".into()),
            ..spec("app", &file)
        })
        .unwrap()
        .check()
        .unwrap();
        assert!(found.contains("unit app.service has entries"), "{found}");
        assert!(
            found.contains("last entry at 2025-12-05T02:01:10Z"),
            "{found}"
        );
        let err = JournaldSource::new(JournaldSpec {
            unit: Some("typo.service".into()),
            ..spec("app", &file)
        })
        .unwrap()
        .check()
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("unit 'typo.service' has no entries"),
            "{err}"
        );
        let empty = tempfile::tempdir().unwrap();
        let err = JournaldSource::new(JournaldSpec {
            service: "app".into(),
            unit: Some("app.service".into()),
            directory: Some(empty.path().to_path_buf()),
            ..Default::default()
        })
        .unwrap()
        .check()
        .unwrap_err();
        assert!(err.to_string().contains("none from any unit"), "{err}");
    }
}
