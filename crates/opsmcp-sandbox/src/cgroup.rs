//! A cgroup per run, where the host delegates one to the server: cgroup v2, and on a hybrid host
//! (v2 mounted beside v1 hierarchies, the v1 ones holding the controllers) the v1 `memory` and
//! `pids` hierarchies for what v2 does not offer.
//!
//! Where runs' v2 cgroups go ([`base`]), probed once:
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
//!
//! Where v2 lacks `memory` or `pids` and the server runs as root, the run also gets a cgroup
//! in that controller's v1 hierarchy ([`v1`]), beneath the server's own cgroup there:
//! `memory.limit_in_bytes` (memfd, shmem and tmpfs pages are charged to it as in v2; v1 has no
//! `memory.oom.group`, so the supervisor ends the whole run at the first OOM kill it reads in
//! `memory.oom_control`) and `pids.max`. Unprivileged, v1 is not used: joining a v1 cgroup
//! from inside the run's user namespace is not something a delegation can grant reliably.

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
    runs_can_go_under(&candidate, "cpu.stat").then_some(Base {
        dir: candidate,
        controllers,
    })
}

/// Whether a cgroup made under `dir` (removed again) has `cgroup.procs` and `file`: a test
/// cgroup proves runs' cgroups can be made there.
fn runs_can_go_under(dir: &Path, file: &str) -> bool {
    let probe = dir.join(format!("{PREFIX}probe-{}", std::process::id()));
    if std::fs::create_dir(&probe).is_err() {
        return false;
    }
    let ok = probe.join("cgroup.procs").exists() && probe.join(file).exists();
    let _ = std::fs::remove_dir(&probe);
    ok
}

/// Where the first mount that `wanted(fstype, super options, root within the filesystem)`
/// accepts is mounted, from `/proc/self/mountinfo`.
fn mount_point(wanted: impl Fn(&str, &str, &str) -> bool) -> Option<PathBuf> {
    let info = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    info.lines().find_map(|l| {
        let (pre, post) = l.split_once(" - ")?;
        let mut pre = pre.split_whitespace();
        let (root, point) = (pre.nth(3)?, pre.next()?);
        let mut post = post.split_whitespace();
        let (fstype, options) = (post.next()?, post.nth(1).unwrap_or(""));
        wanted(fstype, options, root).then(|| PathBuf::from(point))
    })
}

fn cgroup2_mount() -> Option<PathBuf> {
    mount_point(|fstype, _, _| fstype == "cgroup2")
}

/// The cgroup v1 folders where runs get a `memory` or `pids` cgroup, for the controllers the v2
/// base does not offer (root only).
#[derive(Debug, Clone, Default)]
pub(crate) struct V1 {
    pub(crate) memory: Option<PathBuf>,
    pub(crate) pids: Option<PathBuf>,
}

impl V1 {
    /// The v1 controllers runs get, by name.
    pub(crate) fn controllers(&self) -> Vec<String> {
        [("memory", &self.memory), ("pids", &self.pids)]
            .into_iter()
            .filter(|(_, d)| d.is_some())
            .map(|(c, _)| c.to_owned())
            .collect()
    }

    /// The folders runs' v1 cgroups go in.
    pub(crate) fn dirs(&self) -> Vec<String> {
        [&self.memory, &self.pids]
            .into_iter()
            .flatten()
            .map(|d| d.display().to_string())
            .collect()
    }
}

/// The v1 hierarchies for runs, probed once.
pub(crate) fn v1() -> &'static V1 {
    static V1_BASE: OnceLock<V1> = OnceLock::new();
    V1_BASE.get_or_init(|| {
        let v2 = base().map(|b| b.controllers.as_slice()).unwrap_or_default();
        let missing = |c: &str| !v2.iter().any(|e| e == c);
        let found = V1 {
            memory: missing("memory").then(|| find_v1("memory")).flatten(),
            pids: missing("pids").then(|| find_v1("pids")).flatten(),
        };
        if found.memory.is_some() || found.pids.is_some() {
            tracing::info!(memory = ?found.memory, pids = ?found.pids, "sandbox: runs also get a cgroup v1 each");
        }
        found
    })
}

/// The server's own cgroup in the v1 hierarchy of `controller`, when runs can be put beneath it.
fn find_v1(controller: &str) -> Option<PathBuf> {
    if !rustix::process::geteuid().is_root() {
        return None;
    }
    let own = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let rel = own.lines().find_map(|l| {
        let mut parts = l.splitn(3, ':');
        let (_, list, path) = (parts.next()?, parts.next()?, parts.next()?);
        list.split(',').any(|c| c == controller).then_some(path)
    })?;
    // Only a mount of the hierarchy's root: `rel` is relative to it.
    let mount = mount_point(|fstype, options, root| {
        fstype == "cgroup" && root == "/" && options.split(',').any(|o| o == controller)
    })?;
    let dir = mount.join(rel.trim().trim_start_matches('/'));
    if !writable(&dir) {
        return None;
    }
    remove_stale(&dir);
    let limit = if controller == "memory" {
        "memory.limit_in_bytes"
    } else {
        "pids.max"
    };
    runs_can_go_under(&dir, limit).then_some(dir)
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

/// One folder of a run in one hierarchy; killed and removed on drop.
struct Group {
    dir: PathBuf,
    /// `cgroup.procs`, opened for writing by the server: the child writes "0" to it to join.
    procs: OwnedFd,
}

impl Group {
    fn create(under: &Path) -> io::Result<Group> {
        static N: AtomicU64 = AtomicU64::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let dir = under.join(format!("{PREFIX}{}-{n}", std::process::id()));
        std::fs::create_dir(&dir)?;
        match open_write(&dir.join("cgroup.procs")) {
            Ok(procs) => Ok(Group { dir, procs }),
            Err(e) => {
                let _ = std::fs::remove_dir(&dir);
                Err(e)
            }
        }
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

    /// The number after `key ` in a flat keyed file (`cpu.stat`, `memory.events`, …).
    fn key(&self, file: &str, key: &str) -> Option<u64> {
        self.read(file).lines().find_map(|l| {
            let (k, v) = l.split_once(' ')?;
            (k == key).then(|| v.trim().parse().ok())?
        })
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        if let Err(e) = kill_and_remove(&self.dir) {
            tracing::warn!(dir = %self.dir.display(), error = %e, "sandbox: could not remove a run's cgroup");
        }
    }
}

/// One run's cgroups: its v2 cgroup and, on a hybrid host, its v1 `memory` and `pids` ones.
pub(crate) struct RunCgroup {
    v2: Option<Group>,
    v2_memory: bool,
    v2_pids: bool,
    memory_v1: Option<Group>,
    pids_v1: Option<Group>,
}

impl RunCgroup {
    /// Creates the run's cgroups with the run's limits (`None`: the host delegates none).
    pub(crate) fn create(
        base: Option<&Base>,
        v1: &V1,
        limits: &SandboxLimits,
    ) -> io::Result<Option<RunCgroup>> {
        let has = |c: &str| base.is_some_and(|b| b.controllers.iter().any(|e| e == c));
        let bytes = (limits.memory_mb * 1024 * 1024).to_string();
        let cg = RunCgroup {
            v2: base.map(|b| Group::create(&b.dir)).transpose()?,
            v2_memory: has("memory"),
            v2_pids: has("pids"),
            memory_v1: v1.memory.as_deref().map(Group::create).transpose()?,
            pids_v1: v1.pids.as_deref().map(Group::create).transpose()?,
        };
        if let Some(g) = cg.v2.as_ref() {
            if cg.v2_memory {
                g.set("memory.max", &bytes)?;
                // Absent when the kernel has no swap accounting; there is then no swap to use.
                let _ = g.set("memory.swap.max", "0");
                let _ = g.set("memory.oom.group", "1");
            }
            if cg.v2_pids {
                g.set("pids.max", &limits.max_processes.to_string())?;
            }
        }
        if let Some(g) = &cg.memory_v1 {
            g.set("memory.limit_in_bytes", &bytes)?;
            // Memory plus swap no higher than memory: no swap. Absent without swap accounting.
            let _ = g.set("memory.memsw.limit_in_bytes", &bytes);
        }
        if let Some(g) = &cg.pids_v1 {
            g.set("pids.max", &limits.max_processes.to_string())?;
        }
        let any = cg.v2.is_some() || cg.memory_v1.is_some() || cg.pids_v1.is_some();
        Ok(any.then_some(cg))
    }

    /// The `cgroup.procs` descriptors the child writes "0" to, one per hierarchy.
    pub(crate) fn procs(&self) -> impl Iterator<Item = &OwnedFd> {
        [&self.v2, &self.memory_v1, &self.pids_v1]
            .into_iter()
            .flatten()
            .map(|g| &g.procs)
    }

    /// Whether the memory controller limits the run (memfd, shmem and tmpfs pages included).
    pub(crate) fn has_memory(&self) -> bool {
        self.v2_memory || self.memory_v1.is_some()
    }

    /// CPU time of every process the run ever had, in microseconds (v2 only).
    pub(crate) fn cpu_usec(&self) -> Option<u64> {
        self.v2.as_ref()?.key("cpu.stat", "usage_usec")
    }

    /// Whether the kernel killed something in the run for memory.
    pub(crate) fn oom_killed(&self) -> bool {
        let v2 = self.v2_memory
            && self
                .v2
                .as_ref()
                .and_then(|g| g.key("memory.events", "oom_kill"))
                .unwrap_or(0)
                > 0;
        let v1 = self
            .memory_v1
            .as_ref()
            .and_then(|g| g.key("memory.oom_control", "oom_kill"))
            .unwrap_or(0)
            > 0;
        v2 || v1
    }

    /// Peak memory of the run (`memory.peak`, kernel ≥ 5.19; v1 `memory.max_usage_in_bytes`).
    pub(crate) fn memory_peak(&self) -> Option<u64> {
        if let Some(g) = self.v2.as_ref().filter(|_| self.v2_memory) {
            return g.read("memory.peak").trim().parse().ok();
        }
        let g = self.memory_v1.as_ref()?;
        g.read("memory.max_usage_in_bytes").trim().parse().ok()
    }

    /// Whether a fork failed at `pids.max`.
    pub(crate) fn pids_max_hit(&self) -> bool {
        let hit = |g: Option<&Group>| g.and_then(|g| g.key("pids.events", "max")).unwrap_or(0) > 0;
        hit(self.v2.as_ref().filter(|_| self.v2_pids)) || hit(self.pids_v1.as_ref())
    }

    /// Kills every process in the run's v2 cgroup (`cgroup.kill`; v1 has none, and the PID
    /// namespace ends the run's processes with PID 1 anyway).
    pub(crate) fn kill(&self) {
        if let Some(g) = &self.v2 {
            let _ = g.set("cgroup.kill", "1");
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
