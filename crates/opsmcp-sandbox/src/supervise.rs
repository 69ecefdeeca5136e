//! Starting the confined child and watching it: output caps, wall timeout, killing the whole
//! process group and reaping.

use std::io::{self, Read};
use std::os::fd::OwnedFd;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::Duration;

use tokio::io::unix::AsyncFd;
use tokio::net::unix::pipe::Receiver;

use crate::confine::{ChildPlan, STEPS};
use crate::{Captured, Layers, Limit, PYTHON, Prepared, SandboxError, SandboxLimits};

/// What the supervisor saw.
pub(crate) struct Supervised {
    pub(crate) exit_code: Option<i32>,
    pub(crate) signal: Option<i32>,
    pub(crate) stdout: Captured,
    pub(crate) stderr: Captured,
    pub(crate) limit: Option<Limit>,
}

/// One output stream, read until EOF or the shared cap.
struct Stream {
    rx: Receiver,
    buf: Vec<u8>,
    open: bool,
    truncated: bool,
}

impl Stream {
    fn new(fd: OwnedFd) -> Result<Self, SandboxError> {
        let rx = Receiver::from_owned_fd(fd)
            .map_err(SandboxError::io("watching the script's output"))?;
        Ok(Stream {
            rx,
            buf: Vec::new(),
            open: true,
            truncated: false,
        })
    }

    /// Reads what is available; returns false when the shared cap was exceeded.
    fn take(&mut self, total: &mut usize, cap: usize) -> bool {
        let mut chunk = [0u8; 16 * 1024];
        loop {
            match self.rx.try_read(&mut chunk) {
                Ok(0) => {
                    self.open = false;
                    return true;
                }
                Ok(n) => {
                    let room = cap.saturating_sub(*total);
                    let keep = n.min(room);
                    self.buf.extend_from_slice(&chunk[..keep]);
                    *total += keep;
                    if keep < n {
                        self.truncated = true;
                        return false;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => {
                    self.open = false;
                    return true;
                }
            }
        }
    }

    fn captured(self) -> Captured {
        Captured {
            text: String::from_utf8_lossy(&self.buf).into_owned(),
            truncated: self.truncated,
        }
    }
}

/// Spawns the interpreter confined and supervises it to the end.
pub(crate) async fn run(
    layers: &Layers,
    limits: &SandboxLimits,
    prepared: &Prepared,
) -> Result<Supervised, SandboxError> {
    let (mut report_r, report_w) =
        io::pipe().map_err(SandboxError::io("creating the setup report pipe"))?;
    let report_w = OwnedFd::from(report_w);
    let plan = ChildPlan::build(
        layers,
        limits,
        &prepared.script,
        &prepared.data,
        &prepared.output,
        &report_w,
    )?;
    let (script_fd, data_fd) = plan.input_fds();

    let mut cmd = Command::new(PYTHON);
    cmd.args([
        "-I",
        "-B",
        &format!("/dev/fd/{script_fd}"),
        &format!("/dev/fd/{data_fd}"),
    ])
    .env_clear()
    .env("PATH", "/usr/bin:/bin")
    .env("LANG", "C.UTF-8")
    .env("HOME", "/nonexistent")
    .env("TMPDIR", ".")
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    // SAFETY: `apply` makes only async-signal-safe system calls on memory prepared in `plan`.
    unsafe {
        cmd.pre_exec(move || plan.apply());
    }
    // Spawned on this (async) thread, never a blocking-pool thread: PR_SET_PDEATHSIG fires when
    // the spawning *thread* exits.
    let spawned = cmd.spawn();
    drop(cmd);
    drop(report_w);
    let mut child = match spawned {
        Ok(c) => c,
        Err(source) => {
            let mut b = [0u8; 1];
            let step = match report_r.read(&mut b) {
                Ok(1) => STEPS
                    .get(usize::from(b[0]))
                    .copied()
                    .unwrap_or("unknown step"),
                _ => "execve /usr/bin/python3",
            };
            tracing::error!(step, error = %source, "sandbox: child setup failed");
            return Err(SandboxError::Setup { step, source });
        }
    };
    let pid = child.id() as libc::pid_t;
    let stdout = child.stdout.take().map(OwnedFd::from);
    let stderr = child.stderr.take().map(OwnedFd::from);
    // From here the child is always killed and reaped before returning.
    let mut guard = Reaper { pid, reaped: false };

    let pidfd = rustix::process::pidfd_open(
        rustix::process::Pid::from_raw(pid).ok_or(SandboxError::Io {
            context: "the child has no pid",
            source: io::Error::from(io::ErrorKind::InvalidData),
        })?,
        rustix::process::PidfdFlags::empty(),
    )
    .map_err(|e| SandboxError::Io {
        context: "pidfd_open on the child",
        source: e.into(),
    })?;
    // SAFETY: the pidfd is owned by the AsyncFd and neither closed nor replaced while registered.
    let pidfd = unsafe { AsyncFd::register(pidfd) }
        .map_err(|e| SandboxError::io("watching the child")(e.into()))?;

    let (Some(stdout), Some(stderr)) = (stdout, stderr) else {
        return Err(SandboxError::Io {
            context: "the child has no output pipes",
            source: io::ErrorKind::BrokenPipe.into(),
        });
    };
    let mut out = Stream::new(stdout)?;
    let mut err = Stream::new(stderr)?;
    let cap = usize::try_from(limits.max_output_kb * 1024).unwrap_or(usize::MAX);
    let mut total = 0usize;
    let mut limit = None;
    let deadline = tokio::time::sleep(Duration::from_secs(limits.wall_seconds));
    tokio::pin!(deadline);

    loop {
        tokio::select! {
            _ = pidfd.readable() => break,
            r = out.rx.readable(), if out.open => {
                if r.is_err() { out.open = false; } else if !out.take(&mut total, cap) { limit = Some(Limit::Output); break; }
            }
            r = err.rx.readable(), if err.open => {
                if r.is_err() { err.open = false; } else if !err.take(&mut total, cap) { limit = Some(Limit::Output); break; }
            }
            _ = &mut deadline => { limit = Some(Limit::Wall); break; }
        }
    }

    // Kill every member of the group while the (unreaped) leader pins the group id.
    kill_group(pid).await;
    let _ = pidfd.readable().await;
    let (status, rusage) = guard.reap();

    // Everyone who could write is gone: drain what is left in the pipes.
    if limit != Some(Limit::Output) {
        let drain = async {
            while out.open || err.open {
                tokio::select! {
                    r = out.rx.readable(), if out.open => {
                        if r.is_err() || !out.take(&mut total, cap) { out.open = false; if out.truncated { return true; } }
                    }
                    r = err.rx.readable(), if err.open => {
                        if r.is_err() || !err.take(&mut total, cap) { err.open = false; if err.truncated { return true; } }
                    }
                }
            }
            false
        };
        match tokio::time::timeout(Duration::from_secs(2), drain).await {
            Ok(true) => limit = Some(Limit::Output),
            Ok(false) => {}
            Err(_) => tracing::warn!(
                "sandbox: output pipes still open after the process group was killed"
            ),
        }
    }

    let (exit_code, signal) = match status {
        Some(s) if libc::WIFEXITED(s) => (Some(libc::WEXITSTATUS(s)), None),
        Some(s) if libc::WIFSIGNALED(s) => (None, Some(libc::WTERMSIG(s))),
        _ => (None, None),
    };
    let stdout = out.captured();
    let stderr = err.captured();
    if limit.is_none() {
        limit = infer_limit(limits, signal, &rusage, &stderr.text);
    }
    Ok(Supervised {
        exit_code,
        signal,
        stdout,
        stderr,
        limit,
    })
}

/// Which limit ended a run the supervisor did not stop itself. Memory and process limits show
/// only as Python exceptions, so they are read from stderr.
fn infer_limit(
    limits: &SandboxLimits,
    signal: Option<i32>,
    ru: &libc::rusage,
    stderr: &str,
) -> Option<Limit> {
    let cpu = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) as u64;
    match signal {
        Some(libc::SIGXCPU) => return Some(Limit::Cpu),
        Some(libc::SIGKILL) if cpu >= limits.cpu_seconds => return Some(Limit::Cpu),
        Some(libc::SIGXFSZ) => return Some(Limit::FileSize),
        _ => {}
    }
    if stderr.contains("MemoryError") || stderr.contains("Cannot allocate memory") {
        Some(Limit::Memory)
    } else if stderr.contains("BlockingIOError")
        || stderr.contains("Resource temporarily unavailable")
        || stderr.contains("can't start new thread")
    {
        Some(Limit::Processes)
    } else if stderr.contains("File too large") {
        Some(Limit::FileSize)
    } else {
        None
    }
}

/// Sends SIGKILL to the group until no member but the (dead, unreaped) leader is left.
async fn kill_group(pgid: libc::pid_t) {
    for _ in 0..1000 {
        // SAFETY: kill(2) on our own child's process group.
        unsafe { libc::kill(-pgid, libc::SIGKILL) };
        if !group_has_others(pgid) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tracing::warn!(
        pgid,
        "sandbox: members of the script's process group survived SIGKILL"
    );
}

/// Whether a live process other than the leader is in group `pgid` (from `/proc/*/stat`).
fn group_has_others(pgid: libc::pid_t) -> bool {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return false;
    };
    for entry in dir.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|s| s.parse::<libc::pid_t>().ok()) else {
            continue;
        };
        if pid == pgid {
            continue;
        }
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
            continue;
        };
        let mut fields = rest.split_whitespace();
        let state = fields.next().unwrap_or("Z");
        let _ppid = fields.next();
        let pgrp = fields.next().and_then(|s| s.parse::<libc::pid_t>().ok());
        if pgrp == Some(pgid) && state != "Z" && state != "X" {
            return true;
        }
    }
    false
}

/// Reaps the child, killing its group first if the supervisor returns early.
struct Reaper {
    pid: libc::pid_t,
    reaped: bool,
}

impl Reaper {
    fn reap(&mut self) -> (Option<libc::c_int>, libc::rusage) {
        let mut status: libc::c_int = 0;
        // SAFETY: an all-zero rusage is valid.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: wait4 on our own child with pointers to live locals.
        let r = unsafe { libc::wait4(self.pid, &mut status, 0, &mut ru) };
        self.reaped = true;
        (if r == self.pid { Some(status) } else { None }, ru)
    }
}

impl Drop for Reaper {
    fn drop(&mut self) {
        if !self.reaped {
            // SAFETY: our own child's group; the leader is not reaped yet, so the id is ours.
            unsafe { libc::kill(-self.pid, libc::SIGKILL) };
            let _ = self.reap();
        }
    }
}
