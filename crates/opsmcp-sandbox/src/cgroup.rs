//! A cgroup v2 per run, where the host delegates a cgroup folder to the server.
//!
//! Where runs' cgroups go ([`base`]), probed once:
//! - the server's own cgroup when it is the root of its cgroup namespace (a VM, or a container
//!   with a private cgroup namespace and a writable `/sys/fs/cgroup`), or
//! - the parent of the server's cgroup when that parent belongs to the server's (non-root) user:
//!   systemd's `Delegate=yes` with `DelegateSubgroup=` puts the service in a leaf of a folder it
//!   owns.
//!
//! The `memory`, `pids` and `cpu` controllers are enabled in the base's `cgroup.subtree_control`
//! when the base offers them. Without any of them a run's cgroup still gives `cgroup.kill` and
//! the CPU time of the whole run (`cpu.stat` is always there). Each run's cgroup gets
//! `memory.max` (with `memory.swap.max = 0`; memfd, shmem and tmpfs pages are charged to it),
//! `pids.max`, and is removed when the run is over.

use std::io::{self, Write};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::SandboxLimits;

/// Where runs' cgroups are created, and the controllers they get.
#[derive(Debug, Clone)]
pub(crate) struct Base {
    pub(crate) dir: PathBuf,
    pub(crate) controllers: Vec<String>,
}

const PREFIX: &str = "opsmcp-run-";

/// The cgroup base for runs, probed once (`None`: no delegated cgroup v2).
pub(crate) fn base() -> Option<&'static Base> {
    static BASE: OnceLock<Option<Base>> = OnceLock::new();
    BASE.get_or_init(|| {
        let b = find_base();
        match &b {
            Some(b) => tracing::info!(dir = %b.dir.display(), controllers = ?b.controllers, "sandbox: runs get a cgroup v2 each"),
            None => tracing::info!("sandbox: no delegated cgroup v2; limits for the run as a whole come from the run monitor"),
        }
        b
    })
    .as_ref()
}

fn find_base() -> Option<Base> {
    let own = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let rel = own.lines().find_map(|l| l.strip_prefix("0::"))?.trim();
    let mount = cgroup2_mount()?;
    let own_dir = mount.join(rel.trim_start_matches('/'));
    let euid = rustix::process::geteuid().as_raw();
    let candidate = if rel == "/" {
        own_dir
    } else {
        use std::os::unix::fs::MetadataExt;
        let parent = own_dir.parent()?.to_owned();
        let meta = std::fs::metadata(&parent).ok()?;
        if euid == 0 || meta.uid() != euid {
            return None;
        }
        parent
    };
    if !writable(&candidate) || !writable(&candidate.join("cgroup.subtree_control")) {
        return None;
    }
    let available = read_words(&candidate.join("cgroup.controllers"));
    for c in ["memory", "pids", "cpu"] {
        if available.iter().any(|a| a == c) {
            let _ = std::fs::write(candidate.join("cgroup.subtree_control"), format!("+{c}"));
        }
    }
    let enabled = read_words(&candidate.join("cgroup.subtree_control"));
    let controllers: Vec<String> = ["memory", "pids", "cpu"]
        .into_iter()
        .filter(|c| enabled.iter().any(|e| e == c))
        .map(str::to_owned)
        .collect();
    // A test cgroup proves runs' cgroups can be made here; stale ones of dead servers go.
    remove_stale(&candidate);
    let probe = candidate.join(format!("{PREFIX}probe-{}", std::process::id()));
    if std::fs::create_dir(&probe).is_err() {
        return None;
    }
    let ok = probe.join("cgroup.procs").exists() && probe.join("cpu.stat").exists();
    let _ = std::fs::remove_dir(&probe);
    ok.then_some(Base {
        dir: candidate,
        controllers,
    })
}

fn cgroup2_mount() -> Option<PathBuf> {
    let info = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    info.lines().find_map(|l| {
        let (pre, post) = l.split_once(" - ")?;
        let fstype = post.split_whitespace().next()?;
        if fstype == "cgroup2" {
            pre.split_whitespace().nth(4).map(PathBuf::from)
        } else {
            None
        }
    })
}

fn writable(p: &Path) -> bool {
    rustix::fs::access(p, rustix::fs::Access::WRITE_OK).is_ok()
}

fn read_words(p: &Path) -> Vec<String> {
    std::fs::read_to_string(p)
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

/// Removes run cgroups left by server processes that are gone.
fn remove_stale(base: &Path) {
    let Ok(dir) = std::fs::read_dir(base) else {
        return;
    };
    for e in dir.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(PREFIX) else {
            continue;
        };
        let pid = rest
            .trim_start_matches("probe-")
            .split('-')
            .next()
            .and_then(|p| p.parse::<i32>().ok());
        if let Some(pid) = pid
            && !Path::new(&format!("/proc/{pid}")).exists()
        {
            let _ = kill_and_remove(&e.path());
        }
    }
}

fn kill_and_remove(dir: &Path) -> io::Result<()> {
    let _ = std::fs::write(dir.join("cgroup.kill"), "1");
    for _ in 0..100 {
        match std::fs::remove_dir(dir) {
            Ok(()) => return Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) => {
                std::thread::sleep(std::time::Duration::from_millis(10))
            }
            Err(e) => return Err(e),
        }
    }
    std::fs::remove_dir(dir)
}

/// One run's cgroup; removed on drop (after killing anything left in it).
pub(crate) struct RunCgroup {
    dir: PathBuf,
    /// `cgroup.procs`, opened for writing by the server: the child writes "0" to it to join.
    pub(crate) procs: OwnedFd,
    has_memory: bool,
}

impl RunCgroup {
    /// Creates the run's cgroup under `base` with the run's limits.
    pub(crate) fn create(base: &Base, limits: &SandboxLimits) -> io::Result<RunCgroup> {
        static N: AtomicU64 = AtomicU64::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let dir = base.dir.join(format!("{PREFIX}{}-{n}", std::process::id()));
        std::fs::create_dir(&dir)?;
        let cg = RunCgroup {
            procs: open_write(&dir.join("cgroup.procs"))?,
            has_memory: base.controllers.iter().any(|c| c == "memory"),
            dir,
        };
        let mb = 1024 * 1024;
        if cg.has_memory {
            cg.set("memory.max", &(limits.memory_mb * mb).to_string())?;
            // Absent when the kernel has no swap accounting; there is then no swap to use.
            let _ = cg.set("memory.swap.max", "0");
            let _ = cg.set("memory.oom.group", "1");
        }
        if base.controllers.iter().any(|c| c == "pids") {
            cg.set("pids.max", &limits.max_processes.to_string())?;
        }
        Ok(cg)
    }

    /// Whether the memory controller limits the run (memfd, shmem and tmpfs pages included).
    pub(crate) fn has_memory(&self) -> bool {
        self.has_memory
    }

    fn set(&self, file: &str, value: &str) -> io::Result<()> {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .open(self.dir.join(file))?;
        f.write_all(value.as_bytes())
    }

    fn read(&self, file: &str) -> String {
        std::fs::read_to_string(self.dir.join(file)).unwrap_or_default()
    }

    fn key(&self, file: &str, key: &str) -> Option<u64> {
        self.read(file).lines().find_map(|l| {
            let (k, v) = l.split_once(' ')?;
            (k == key).then(|| v.trim().parse().ok())?
        })
    }

    /// CPU time of every process the run ever had, in microseconds.
    pub(crate) fn cpu_usec(&self) -> Option<u64> {
        self.key("cpu.stat", "usage_usec")
    }

    /// Whether the kernel killed something in the run for memory.
    pub(crate) fn oom_killed(&self) -> bool {
        self.has_memory && self.key("memory.events", "oom_kill").unwrap_or(0) > 0
    }

    /// Peak memory of the run (`memory.peak`, kernel ≥ 5.19), bytes.
    pub(crate) fn memory_peak(&self) -> Option<u64> {
        if !self.has_memory {
            return None;
        }
        self.read("memory.peak").trim().parse().ok()
    }

    /// Whether a fork failed at `pids.max`.
    pub(crate) fn pids_max_hit(&self) -> bool {
        self.key("pids.events", "max").unwrap_or(0) > 0
    }

    /// Kills every process in the cgroup (`cgroup.kill`).
    pub(crate) fn kill(&self) {
        let _ = self.set("cgroup.kill", "1");
    }
}

impl Drop for RunCgroup {
    fn drop(&mut self) {
        if let Err(e) = kill_and_remove(&self.dir) {
            tracing::warn!(dir = %self.dir.display(), error = %e, "sandbox: could not remove a run's cgroup");
        }
    }
}

fn open_write(p: &Path) -> io::Result<OwnedFd> {
    crate::confine::above_stdio(rustix::fs::open(
        p,
        rustix::fs::OFlags::WRONLY | rustix::fs::OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    )?)
}
