//! Starting the confined child and watching it: the handshake that hands the server the run's
//! tmpfs, output caps, wall timeout, limits for the run as a whole (cgroup or run monitor),
//! killing the run's PID namespace and reaping.
//!
//! Not shared with the live world's runbook runner (`opsmcp-world/src/live/runbook.rs`): that
//! one runs an operator's own trusted program in a process group and only needs a timeout and
//! capped output; this one watches hostile code in its own namespaces, through a handshake,
//! with limits for the run as a whole. What they have in common (read two pipes up to a cap,
//! kill on a deadline) is a few lines; a shared supervisor would carry this one's weight into
//! every runbook call.

use std::io;
use std::os::fd::OwnedFd;
use std::time::Duration;

use tokio::io::unix::AsyncFd;
use tokio::net::unix::pipe::Receiver;

use crate::cgroup::RunCgroup;
use crate::confine::{ChildFds, ChildPlan, MSG_ERROR, MSG_GO, MSG_READY, STEPS, above_stdio};
use crate::{Captured, Layers, Limit, Prepared, RunUsage, SandboxError, SandboxLimits, monitor};

/// How often the run monitor samples.
const TICK: Duration = Duration::from_millis(50);
/// Longest wait for the child to reach the handshake.
const SETUP_TIMEOUT: Duration = Duration::from_secs(10);

/// What the supervisor saw.
pub(crate) struct Supervised {
    pub(crate) exit_code: Option<i32>,
    pub(crate) signal: Option<i32>,
    pub(crate) stdout: Captured,
    pub(crate) stderr: Captured,
    pub(crate) limit: Option<Limit>,
    pub(crate) usage: RunUsage,
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

fn pipe() -> Result<(OwnedFd, OwnedFd), SandboxError> {
    let (r, w) = io::pipe().map_err(SandboxError::io("creating a pipe"))?;
    let r = above_stdio(OwnedFd::from(r)).map_err(SandboxError::io("creating a pipe"))?;
    let w = above_stdio(OwnedFd::from(w)).map_err(SandboxError::io("creating a pipe"))?;
    Ok((r, w))
}

/// Messages from the child's report pipe.
#[derive(Default)]
struct Reports {
    bytes: Vec<u8>,
    eof: bool,
}

impl Reports {
    /// The tmpfs descriptor number, once the child said it is ready.
    fn ready(&self) -> Option<i32> {
        match self.bytes.as_slice() {
            [MSG_READY, a, b, c, d, ..] => Some(i32::from_le_bytes([*a, *b, *c, *d])),
            _ => None,
        }
    }

    /// A failed step, with its errno.
    fn error(&self) -> Option<(&'static str, i32)> {
        let mut rest = self.bytes.as_slice();
        loop {
            match rest {
                [MSG_READY, _, _, _, _, tail @ ..] => rest = tail,
                [MSG_ERROR, step, a, b, c, d, ..] => {
                    let step = STEPS
                        .get(usize::from(*step))
                        .copied()
                        .unwrap_or("unknown step");
                    return Some((step, i32::from_le_bytes([*a, *b, *c, *d])));
                }
                _ => return None,
            }
        }
    }

    /// Reads what is there without blocking.
    fn take(&mut self, rx: &Receiver) {
        let mut chunk = [0u8; 64];
        loop {
            match rx.try_read(&mut chunk) {
                Ok(0) => {
                    self.eof = true;
                    return;
                }
                Ok(n) => self.bytes.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return,
            }
        }
    }
}

/// Spawns the interpreter confined and supervises it to the end. Returns the outcome and the
/// run's tmpfs (to copy the output from).
pub(crate) async fn run(
    layers: &Layers,
    limits: &SandboxLimits,
    prepared: &Prepared,
) -> Result<(Supervised, OwnedFd), SandboxError> {
    let (out_r, out_w) = pipe()?;
    let (err_r, err_w) = pipe()?;
    let (report_r, report_w) = pipe()?;
    let (go_r, go_w) = pipe()?;
    let stdin = rustix::fs::open(
        "/dev/null",
        rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    )
    .map_err(|e| SandboxError::io("opening /dev/null")(e.into()))?;
    let stdin = above_stdio(stdin).map_err(SandboxError::io("opening /dev/null"))?;
    let cgroup = RunCgroup::create(crate::cgroup::base(), crate::cgroup::v1(), limits)
        .map_err(SandboxError::io("creating the run's cgroup"))?;
    let memory_in_kernel = cgroup.as_ref().is_some_and(|c| c.has_memory());
    let (pid, pidfd) = {
        let plan = ChildPlan::build(
            layers,
            limits,
            &ChildFds {
                stdin: &stdin,
                stdout: &out_w,
                stderr: &err_w,
                report: &report_w,
                go: &go_r,
                script: &prepared.script,
                data: &prepared.data,
                output: &prepared.output,
                cgroup_procs: cgroup
                    .as_ref()
                    .map(|c| c.procs().collect())
                    .unwrap_or_default(),
            },
            !memory_in_kernel,
        )?;
        plan.spawn().map_err(|source| SandboxError::Setup {
            step: "clone",
            source,
        })?
    };
    drop((out_w, err_w, report_w, go_r, stdin));
    // From here the child is always killed and reaped before returning.
    let mut guard = Reaper {
        pid,
        reaped: false,
        cgroup: cgroup.as_ref(),
    };
    // SAFETY: the pidfd is owned by the AsyncFd and neither closed nor replaced while registered.
    let pidfd = unsafe { AsyncFd::register(pidfd) }
        .map_err(|e| SandboxError::io("watching the child")(e.into()))?;
    let report =
        Receiver::from_owned_fd(report_r).map_err(SandboxError::io("watching the child"))?;
    let mut reports = Reports::default();

    // Handshake: the child made its tmpfs; take a descriptor on it, then let it go on.
    let ready = tokio::time::timeout(SETUP_TIMEOUT, async {
        loop {
            if reports.ready().is_some() || reports.error().is_some() || reports.eof {
                return;
            }
            tokio::select! {
                r = report.readable() => { if r.is_err() { reports.eof = true } else { reports.take(&report) } }
                _ = pidfd.readable() => { reports.take(&report); return; }
            }
        }
    })
    .await;
    let tmpfs = match (ready, reports.ready()) {
        (Ok(()), Some(fd)) => rustix::process::pidfd_getfd(
            pidfd.get_ref(),
            fd,
            rustix::process::PidfdGetfdFlags::empty(),
        )
        .map_err(|e| SandboxError::Setup {
            step: "pidfd_getfd on the run's tmpfs",
            source: e.into(),
        }),
        _ => Err(setup_failure(&mut guard, &pidfd, &report, &mut reports).await),
    };
    let tmpfs = match tmpfs {
        Ok(t) => t,
        Err(e) => {
            guard.kill();
            return Err(e);
        }
    };
    rustix::io::write(&go_w, &[MSG_GO]).map_err(|e| SandboxError::Setup {
        step: "handshake with the child",
        source: e.into(),
    })?;

    let mut out = Stream::new(out_r)?;
    let mut err = Stream::new(err_r)?;
    let cap = usize::try_from(limits.max_output_kb * 1024).unwrap_or(usize::MAX);
    let mut total = 0usize;
    let mut limit = None;
    let deadline = tokio::time::sleep(Duration::from_secs(limits.wall_seconds));
    tokio::pin!(deadline);
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let cpu_limit = limits.cpu_seconds * 1_000_000;
    let memory_limit = limits.memory_mb * 1024 * 1024;
    let mut usage = RunUsage::default();
    // The child is a copy of the server until it executes the interpreter (the report pipe,
    // close-on-exec, then reads EOF): its memory is not the script's before that.
    let mut executed = false;

    loop {
        tokio::select! {
            _ = pidfd.readable() => break,
            r = out.rx.readable(), if out.open => {
                if r.is_err() { out.open = false; } else if !out.take(&mut total, cap) { limit = Some(Limit::Output); break; }
            }
            r = err.rx.readable(), if err.open => {
                if r.is_err() { err.open = false; } else if !err.take(&mut total, cap) { limit = Some(Limit::Output); break; }
            }
            r = report.readable(), if !reports.eof => {
                if r.is_err() { reports.eof = true } else { reports.take(&report) }
                executed = reports.eof && reports.error().is_none();
            }
            _ = &mut deadline => { limit = Some(Limit::Wall); break; }
            _ = tick.tick() => {
                let s = monitor::sample(pid, executed && !memory_in_kernel, memory_limit);
                let cpu = cgroup.as_ref().and_then(|c| c.cpu_usec()).unwrap_or(s.cpu_usec);
                usage.cpu_ms = usage.cpu_ms.max(cpu / 1000);
                usage.memory_peak_kb = usage.memory_peak_kb.max(s.memory / 1024);
                usage.processes_peak = usage.processes_peak.max(s.processes);
                if cpu >= cpu_limit {
                    limit = Some(Limit::Cpu);
                    break;
                }
                // A v1 memory cgroup kills one process, not the run (no `memory.oom.group`):
                // the run as a whole ends at the first kill, as with v2.
                if s.memory > memory_limit || cgroup.as_ref().is_some_and(|c| c.oom_killed()) {
                    limit = Some(Limit::Memory);
                    break;
                }
            }
        }
    }

    // Killing PID 1 of the run's namespace kills every process in it; the kernel reaps them
    // all before the child's exit is reported.
    guard.kill();
    let _ = pidfd.readable().await;
    let (status, rusage) = guard.reap();
    reports.take(&report);
    if let Some((step, errno)) = reports.error() {
        tracing::error!(step, errno, "sandbox: child setup failed");
        return Err(SandboxError::Setup {
            step,
            source: io::Error::from_raw_os_error(errno),
        });
    }

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
            Err(_) => tracing::warn!("sandbox: output pipes still open after the run was killed"),
        }
    }

    let (exit_code, signal) = match status {
        Some(s) if libc::WIFEXITED(s) => (Some(libc::WEXITSTATUS(s)), None),
        Some(s) if libc::WIFSIGNALED(s) => (None, Some(libc::WTERMSIG(s))),
        _ => (None, None),
    };
    let rusage_ms =
        |t: libc::timeval| t.tv_sec.max(0) as u64 * 1000 + t.tv_usec.max(0) as u64 / 1000;
    usage.cpu_ms = usage
        .cpu_ms
        .max(rusage_ms(rusage.ru_utime) + rusage_ms(rusage.ru_stime));
    if let Some(c) = &cgroup {
        if let Some(us) = c.cpu_usec() {
            usage.cpu_ms = usage.cpu_ms.max(us / 1000);
        }
        if let Some(peak) = c.memory_peak() {
            usage.memory_peak_kb = usage.memory_peak_kb.max(peak / 1024);
        }
    }
    usage.max_process_rss_kb = rusage.ru_maxrss.max(0) as u64;
    let stdout = out.captured();
    let stderr = err.captured();
    if limit.is_none() {
        limit = infer_limit(limits, signal, usage.cpu_ms, &stderr.text, cgroup.as_ref());
    }
    drop(guard);
    drop(go_w);
    Ok((
        Supervised {
            exit_code,
            signal,
            stdout,
            stderr,
            limit,
            usage,
        },
        tmpfs,
    ))
}

/// The child stopped before the handshake: kill it, reap it and say why.
async fn setup_failure(
    guard: &mut Reaper<'_>,
    pidfd: &AsyncFd<OwnedFd>,
    report: &Receiver,
    reports: &mut Reports,
) -> SandboxError {
    guard.kill();
    let _ = pidfd.readable().await;
    let (status, _) = guard.reap();
    reports.take(report);
    if let Some((step, errno)) = reports.error() {
        tracing::error!(step, errno, "sandbox: child setup failed");
        return SandboxError::Setup {
            step,
            source: io::Error::from_raw_os_error(errno),
        };
    }
    SandboxError::Setup {
        step: "handshake with the child",
        source: io::Error::other(format!(
            "the child stopped before it was ready (wait status {status:?})"
        )),
    }
}

/// Which limit ended a run the supervisor did not stop itself. Memory and process limits show
/// only as Python exceptions (or in the cgroup's events), so they are read from stderr.
fn infer_limit(
    limits: &SandboxLimits,
    signal: Option<i32>,
    cpu_ms: u64,
    stderr: &str,
    cgroup: Option<&RunCgroup>,
) -> Option<Limit> {
    match signal {
        Some(libc::SIGXCPU) => return Some(Limit::Cpu),
        Some(libc::SIGKILL) if cpu_ms >= limits.cpu_seconds * 1000 => return Some(Limit::Cpu),
        Some(libc::SIGXFSZ) => return Some(Limit::FileSize),
        _ => {}
    }
    if cgroup.is_some_and(|c| c.oom_killed()) {
        return Some(Limit::Memory);
    }
    if stderr.contains("MemoryError") || stderr.contains("Cannot allocate memory") {
        Some(Limit::Memory)
    } else if stderr.contains("BlockingIOError")
        || stderr.contains("Resource temporarily unavailable")
        || stderr.contains("can't start new thread")
        || cgroup.is_some_and(|c| c.pids_max_hit())
    {
        Some(Limit::Processes)
    } else if stderr.contains("File too large") {
        Some(Limit::FileSize)
    } else {
        None
    }
}

/// Kills and reaps the child (PID 1 of the run) if the supervisor returns early.
struct Reaper<'a> {
    pid: libc::pid_t,
    reaped: bool,
    cgroup: Option<&'a RunCgroup>,
}

impl Reaper<'_> {
    fn kill(&self) {
        if !self.reaped {
            // SAFETY: kill(2) on our own, unreaped child: its pid cannot have been reused.
            unsafe { libc::kill(self.pid, libc::SIGKILL) };
        }
        if let Some(c) = self.cgroup {
            c.kill();
        }
    }

    fn reap(&mut self) -> (Option<libc::c_int>, libc::rusage) {
        let mut status: libc::c_int = 0;
        // SAFETY: an all-zero rusage is valid.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: wait4 on our own child with pointers to live locals.
        let r = unsafe { libc::wait4(self.pid, &mut status, libc::__WALL, &mut ru) };
        self.reaped = true;
        (if r == self.pid { Some(status) } else { None }, ru)
    }
}

impl Drop for Reaper<'_> {
    fn drop(&mut self) {
        if !self.reaped {
            self.kill();
            let _ = self.reap();
        }
    }
}
