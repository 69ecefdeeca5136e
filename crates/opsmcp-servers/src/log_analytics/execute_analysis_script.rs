//! `execute_analysis_script`: runs a model-written Python script on a log data file, confined by
//! the kernel (`opsmcp-sandbox`), and reports what it printed and wrote.
//!
//! With `code`, the script is saved first (atomically, inside analytics/ only), so a client on
//! another machine — which cannot write into our workspace — can still run its analysis.

use std::io::Write;

use opsmcp_mcp::Caller;
use opsmcp_sandbox::{RunRequest, SandboxError};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{
    LogAnalytics,
    workspace::{AtomicFile, Workspace, relative_path, split},
};
use crate::ToolError;

/// What the model reads about this tool.
pub const DESCRIPTION: &str = "Run a Python analysis script on a log data file from \
get_raw_logs, confined by the kernel (no network, stdlib only, CPU/memory/time limits). Paths \
are relative to the analytics/ workspace (\"INC-0001/errors.py\"; a leading \"analytics/\" is \
accepted). Pass `code` to save the script to `script_path` first. The script gets the data file \
as sys.argv[1] (a JSON array of {at, service, level, message}) and runs in a new output folder \
(its cwd) next to the script; print results to stdout (JSON is easiest to read back). Returns \
exit status, stdout, stderr, duration, files written and any limit hit.";

/// Largest script accepted in `code`.
pub const MAX_CODE_BYTES: usize = 256 * 1024;
/// stdout and stderr shown, each; the rest is cut (write big results to files instead).
const MAX_SHOWN_BYTES: usize = 32 * 1024;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The script, relative to analytics/, ending in `.py` (`INC-0001/errors_by_service.py`).
    pub script_path: String,
    /// The `log_data_path` from get_raw_logs, relative to analytics/.
    pub log_data_path: String,
    /// Python source to save at `script_path` before running (replacing what is there).
    #[serde(default)]
    pub code: Option<String>,
}

/// A file the script wrote.
#[derive(Debug, Serialize, JsonSchema)]
pub struct File {
    /// Relative to analytics/.
    pub path: String,
    /// Size.
    pub bytes: u64,
}

/// What the run did.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// Exited 0 with no limit hit.
    pub succeeded: bool,
    /// Exit code, when it exited.
    pub exit_code: Option<i32>,
    /// Signal number, when it was killed.
    pub signal: Option<i32>,
    /// Standard output (first 32 KiB).
    pub stdout: String,
    /// stdout was longer than shown.
    pub stdout_truncated: bool,
    /// Standard error (first 32 KiB): the traceback when it failed.
    pub stderr: String,
    /// stderr was longer than shown.
    pub stderr_truncated: bool,
    /// Wall time in milliseconds.
    pub duration_ms: u64,
    /// The limit that ended it: cpu, wall, memory, processes, file_size, output, disk (the
    /// output folder's space) or files (its file count).
    pub limit_hit: Option<String>,
    /// The run's output folder (its cwd), relative to analytics/.
    pub output_dir: String,
    /// The same folder, absolute.
    pub output_dir_absolute: String,
    /// Files it wrote there.
    pub files_written: Vec<File>,
    /// The confinement layers that were active.
    pub sandbox_layers: Vec<String>,
    /// `code` was saved to `script_path`.
    pub script_saved: bool,
    /// The script, relative to analytics/.
    pub script_path: String,
}

/// Runs the tool.
pub async fn run(ctx: &LogAnalytics, _caller: &Caller, args: Args) -> Result<Output, ToolError> {
    let script = relative_path("script_path", &args.script_path)?;
    let data = relative_path("log_data_path", &args.log_data_path)?;
    if !script.ends_with(".py") {
        return Err(ToolError::InvalidArgument {
            argument: "script_path",
            problem: format!(
                "{:?} does not end in .py; send a Python file name such as \
                 \"INC-0001/errors.py\"",
                args.script_path
            ),
        });
    }
    // Refuse before writing anything: a saved script that can never run is clutter.
    ctx.sandbox.ready().map_err(|e| {
        ToolError::Unavailable(format!(
            "the analysis sandbox is not available on this server: {e}. Use the summary and \
             pages of get_raw_logs instead"
        ))
    })?;
    let saved = match &args.code {
        None => false,
        Some(code) => {
            if code.len() > MAX_CODE_BYTES {
                return Err(ToolError::InvalidArgument {
                    argument: "code",
                    problem: format!(
                        "{} bytes is more than {MAX_CODE_BYTES}; send a shorter script",
                        code.len()
                    ),
                });
            }
            let ws = ctx.workspace.clone();
            let (path, code) = (script.clone(), code.clone());
            tokio::task::spawn_blocking(move || save(&ws, &path, &code))
                .await
                .map_err(|e| ToolError::Unavailable(format!("saving the script stopped: {e}")))??;
            true
        }
    };

    let (dir, _) = split(&script);
    let mut attempt = 0;
    let outcome = loop {
        let output_dir = next_output_dir(&ctx.workspace, dir).await?;
        let request = RunRequest {
            script: script.clone(),
            data: data.clone(),
            output_dir: output_dir.clone(),
            // The bytes sent run, sealed at call time: a concurrent call saving another script
            // at the same path between the save above and the run cannot swap them.
            code: args.code.clone(),
        };
        match ctx.sandbox.run(request).await {
            // A concurrent call took the same folder name while this one waited for the
            // sandbox (runs take turns); take the next. Each waiting call can lose this way at
            // most once per call ahead of it.
            Err(SandboxError::OutputExists { .. }) if attempt < 64 => attempt += 1,
            Err(e) => return Err(sandbox_error(e)),
            Ok(outcome) => break (output_dir, outcome),
        }
    };
    let (output_dir, outcome) = outcome;
    let (stdout, stdout_cut) = cap(&outcome.stdout.text);
    let (stderr, stderr_cut) = cap(&outcome.stderr.text);
    let limit_hit = outcome.limit_hit.map(|l| {
        serde_json::to_value(l)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_else(|| format!("{l:?}"))
    });
    let succeeded = outcome.exit_code == Some(0) && limit_hit.is_none();
    metrics::counter!("opsmcp_sandbox_runs_total",
        "outcome" => if succeeded { "succeeded" } else { "failed" })
    .increment(1);
    if let Some(limit) = &limit_hit {
        metrics::counter!("opsmcp_sandbox_limit_hits_total", "limit" => limit.clone()).increment(1);
    }
    Ok(Output {
        succeeded,
        exit_code: outcome.exit_code,
        signal: outcome.signal,
        stdout,
        stdout_truncated: stdout_cut || outcome.stdout.truncated,
        stderr,
        stderr_truncated: stderr_cut || outcome.stderr.truncated,
        duration_ms: outcome.duration_ms,
        limit_hit,
        output_dir_absolute: ctx.workspace.absolute(&output_dir),
        output_dir,
        files_written: outcome
            .files_written
            .into_iter()
            .map(|f| File {
                path: f.path,
                bytes: f.bytes,
            })
            .collect(),
        sandbox_layers: outcome.layers,
        script_saved: saved,
        script_path: script,
    })
}

/// Writes `code` to `path` whole, never through a symbolic link, replacing a regular file there.
fn save(ws: &Workspace, path: &str, code: &str) -> Result<(), ToolError> {
    let fail = |e: std::io::Error| ToolError::InvalidArgument {
        argument: "script_path",
        problem: format!(
            "cannot save the script at {path:?} ({e}); send a path of a new or regular file in \
             the analytics/ workspace that passes through no symbolic link"
        ),
    };
    let (dir, name) = split(path);
    let dirfd = ws.open_dir(dir, true).map_err(fail)?;
    let mut file = AtomicFile::create(&dirfd).map_err(fail)?;
    file.write_all(code.as_bytes()).map_err(fail)?;
    file.commit(name, true).map_err(fail)?;
    tracing::info!(
        script = path,
        bytes = code.len(),
        "execute_analysis_script: saved the script"
    );
    Ok(())
}

/// `<dir>/out-<n>` with the first free `n`; the sandbox creates it.
async fn next_output_dir(ws: &Workspace, dir: &str) -> Result<String, ToolError> {
    let ws = ws.clone();
    let dir = dir.to_owned();
    tokio::task::spawn_blocking(move || {
        let fd = ws
            .open_dir(&dir, false)
            .map_err(|e| ToolError::InvalidArgument {
                argument: "script_path",
                problem: format!(
                    "the folder {dir:?} of the script cannot be opened ({e}); write the script \
                 first (or pass `code`), then send its path"
                ),
            })?;
        let n = next_free_number(&fd, "out-")
            .map_err(|e| ToolError::Unavailable(format!("cannot list {dir:?}: {e}")))?;
        Ok(if dir.is_empty() {
            format!("out-{n}")
        } else {
            format!("{dir}/out-{n}")
        })
    })
    .await
    .map_err(|e| ToolError::Unavailable(format!("choosing the output folder stopped: {e}")))?
}

/// The number after the highest `{prefix}<n>` in `dir`, or, when that would pass `u64::MAX` (a
/// folder named `out-18446744073709551615`), the smallest number not taken: never wraps, never
/// blocks.
fn next_free_number(dir: &std::os::fd::OwnedFd, prefix: &str) -> std::io::Result<u64> {
    let mut taken = std::collections::BTreeSet::new();
    for entry in rustix::fs::Dir::read_from(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy();
        if let Some(n) = name
            .strip_prefix(prefix)
            .and_then(|n| n.parse::<u64>().ok())
        {
            taken.insert(n);
        }
    }
    Ok(first_free(&taken))
}

fn first_free(taken: &std::collections::BTreeSet<u64>) -> u64 {
    match taken.last() {
        None => 1,
        Some(&max) => max.checked_add(1).unwrap_or_else(|| {
            // Some number from 1 to len + 1 is free.
            (1..).find(|n| !taken.contains(n)).unwrap_or(1)
        }),
    }
}

/// Path problems name the argument to fix; everything else is the server's.
fn sandbox_error(e: SandboxError) -> ToolError {
    let field = match &e {
        SandboxError::AbsolutePath { field, .. }
        | SandboxError::ParentComponent { field, .. }
        | SandboxError::InvalidPath { field, .. }
        | SandboxError::Symlink { field, .. }
        | SandboxError::OutsideWorkspace { field, .. }
        | SandboxError::HardLinked { field, .. }
        | SandboxError::NotRegularFile { field, .. }
        | SandboxError::NotFound { field, .. } => Some(*field),
        _ => None,
    };
    match field {
        Some("script") => ToolError::InvalidArgument {
            argument: "script_path",
            problem: e.to_string(),
        },
        Some("data") => ToolError::InvalidArgument {
            argument: "log_data_path",
            problem: e.to_string(),
        },
        _ => ToolError::Unavailable(format!("the analysis sandbox refused the run: {e}")),
    }
}

/// The first [`MAX_SHOWN_BYTES`] of `text`, cut at a character boundary.
fn cap(text: &str) -> (String, bool) {
    if text.len() <= MAX_SHOWN_BYTES {
        return (text.to_owned(), false);
    }
    let mut end = MAX_SHOWN_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    (text[..end].to_owned(), true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_is_capped_on_a_char_boundary() {
        let long = "é".repeat(MAX_SHOWN_BYTES);
        let (shown, cut) = cap(&long);
        assert!(cut && shown.len() <= MAX_SHOWN_BYTES && shown.len() > MAX_SHOWN_BYTES - 2);
        assert_eq!(cap("ok"), ("ok".to_owned(), false));
    }

    #[test]
    fn output_numbers_never_wrap_or_block() {
        let set = |v: &[u64]| {
            v.iter()
                .copied()
                .collect::<std::collections::BTreeSet<u64>>()
        };
        assert_eq!(first_free(&set(&[])), 1);
        assert_eq!(first_free(&set(&[1, 2, 7])), 8);
        assert_eq!(first_free(&set(&[u64::MAX])), 1);
        assert_eq!(first_free(&set(&[1, 2, u64::MAX])), 3);
        // On disk: a planted out-18446744073709551615 next to real outputs.
        let tmp = tempfile::tempdir().unwrap();
        let ws = Workspace::create(tmp.path().join("analytics")).unwrap();
        let dir = ws.open_dir("INC-1", true).unwrap();
        for name in ["out-1", "out-18446744073709551615", "out-x"] {
            std::fs::create_dir(ws.root().join("INC-1").join(name)).unwrap();
        }
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..3 {
            let n = next_free_number(&dir, "out-").unwrap();
            assert!(n < u64::MAX && seen.insert(n), "{n} {seen:?}");
            std::fs::create_dir(ws.root().join(format!("INC-1/out-{n}"))).unwrap();
        }
        assert_eq!(seen, [2, 3, 4].into_iter().collect());
    }

    #[test]
    fn path_errors_name_the_argument_to_fix() {
        let e = sandbox_error(SandboxError::NotFound {
            field: "data",
            path: "x.json".into(),
        });
        assert!(
            e.to_string()
                .starts_with("invalid argument `log_data_path`"),
            "{e}"
        );
    }
}
