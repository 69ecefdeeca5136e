//! `opsmcp-sandbox`: runs a model-written Python analysis script confined by the kernel, so that
//! what the script may do is decided by namespaces, Landlock, seccomp, a tmpfs quota, a cgroup or
//! the run monitor, and rlimits rather than by a prompt.
//!
//! A [`Sandbox`] is given the analytics workspace (a folder the server owns) and
//! [`SandboxLimits`]. [`Sandbox::run`] takes a [`RunRequest`] — a script (a path, or the code
//! itself), a data file and a fresh output folder, all relative to the workspace — and returns a
//! [`RunOutcome`]: exit code or signal, capped stdout/stderr, the files written, which limit, if
//! any, ended the run, and what the run used ([`RunUsage`]).
//!
//! # How a run is confined, and why
//!
//! **Inputs are sealed at call time.** With `code`, exactly those bytes go into a sealed memfd
//! (no write, grow, shrink or seal changes). Otherwise the parent opens the script, and always
//! the data, with `openat2` beneath the workspace descriptor (`RESOLVE_BENEATH |
//! RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV`, `O_NOFOLLOW`, `O_NONBLOCK` so
//! a FIFO cannot hang the open), checks with `fstat` on that very descriptor that it is a
//! regular file with one hard link, and copies it into a sealed memfd. What was sent or checked
//! is what runs: a file renamed over the path afterwards changes nothing, and the script cannot
//! change its copy. The interpreter runs as `/usr/bin/python3 -I -S -B -c BOOTSTRAP /dev/fd/S
//! /dev/fd/D`: `sys.argv == ["/dev/fd/S", "/dev/fd/D"]`, so `json.load(open(sys.argv[1]))`
//! works. `-I` (no environment variables, no user site, script folder and cwd not on
//! `sys.path`) means a `json.py` planted anywhere cannot shadow the stdlib; `-S` imports no
//! `site`, so no `site-packages`, no `.pth` file runs, and Landlock does not let the script read
//! the site folders either (the paths come from asking the interpreter once, unconfined): the
//! standard library is all it can import. The bootstrap gives back `exit`/`quit` (which `site`
//! defines) as `sys.exit` and runs the script as a real `__main__` module.
//!
//! **The output folder is a tmpfs.** The parent creates the folder in the workspace (with a
//! marker file saying it is a run's); the child mounts a tmpfs of `output_mb` and `output_files`
//! inodes over it in the run's own mount namespace. Every write of the script lands there:
//! bytes and inodes are limited by the kernel, counted in allocated pages (so `fallocate` and
//! sparse files count), and nothing the script does touches the workspace. After the run the
//! server copies regular files and folders out (each inode once, within the same budget, 0644
//! and 0755, owned by the server; links, FIFOs and the like stay behind) and the tmpfs is gone.
//!
//! **Everything that allocates is built before the clone**; the child is made by a raw `clone`
//! (`CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC`, and `CLONE_NEWUSER` when the server is not
//! root; `CLONE_PIDFD`), not `fork`, so no `atfork` handler of the multi-threaded server runs,
//! and makes only raw system calls, in this order, until `execve`:
//!
//! | layer | why |
//! |---|---|
//! | PID namespace (the interpreter is PID 1) | the script sees and names no process outside its run: no `kill`, `prlimit`, `setpriority`, `sched_setaffinity`, `ioprio_set` or `pidfd_open` can reach the server or another `nobody`; orphans are re-parented to PID 1, and when PID 1 ends the kernel kills and reaps everything of the run (no zombie, no daemon left) |
//! | IPC namespace | no SysV or POSIX IPC object outlives the run or is shared with another |
//! | network namespace | only a down loopback: nothing to reach even if a socket were created |
//! | user namespace (server unprivileged) | owns the other namespaces; uid/gid 65534 inside are the server's own ids outside (the only mapping an unprivileged process may write): the script holds no capability outside, and every process-directed call is kept inside by the PID namespace, seccomp and Landlock |
//! | only prepared descriptors (`close_range` on the gaps) | no server descriptor (database, sockets, log files) survives into the run, even before exec; 0, 1, 2 become /dev/null and the two capture pipes |
//! | mount namespace, private | entered with the output folder as cwd, so the tmpfs is mounted over it in the run's view only; nothing propagates to the host |
//! | tmpfs `size=output_mb,nr_inodes=output_files`, `nosuid,nodev,noexec` | the run's disk quota, exact and kernel-enforced; nothing executable or device-like can be made there |
//! | the run's cgroup (where delegated) | the child joins it before anything runs: `memory.max` (memfd, shmem, tmpfs pages included), `pids.max`, `cpu.stat` for the run's CPU time, `cgroup.kill`; on a hybrid host, as root, also a v1 `memory` cgroup (`memory.limit_in_bytes`; the first OOM kill ends the whole run) and a v1 `pids` cgroup for what v2 lacks |
//! | handshake | the server takes a descriptor on the tmpfs (`pidfd_getfd`) to copy the output out after the run, then lets the child go on |
//! | uid/gid drop to 65534 (root only) | no capabilities, `RLIMIT_NPROC` applies, no setuid-root files |
//! | `PR_SET_PDEATHSIG(SIGKILL)` | the run dies with the server; set after the uid drop, which clears it, and followed by a check that the server's end of the handshake pipe is still open |
//! | `fchdir(tmpfs)` | the script's cwd is its output folder, a real path (`getcwd` and `tempfile` work) |
//! | rlimits CPU, AS, FSIZE, NOFILE, NPROC, CORE=0, MEMLOCK=0, MSGQUEUE=0 | per process: CPU spin, memory balloon, huge files, descriptor exhaustion, fork bomb (the run as a whole: cgroup or run monitor) |
//! | `PR_SET_NO_NEW_PRIVS` | no privilege gain through exec; required by the two layers below |
//! | Landlock (fs; TCP on ABI ≥ 4; scopes on ABI ≥ 6) | read+exec only the interpreter, its standard library, the shared libraries, the loader, `ld.so.cache`, time zones and locales (not `site-packages`); read/write `/dev/null`, `/dev/urandom`, `/dev/random`; read/write/create/remove only in the tmpfs (no symlinks, FIFOs, sockets, devices or exec); no TCP bind/connect; no abstract UNIX sockets or signals beyond the sandbox |
//! | seccomp (two filters) | EPERM for `socket`, `socketpair`, io_uring, `ptrace`, `process_vm_*`, `pidfd_getfd`, `process_madvise`, `kcmp`, mounts, `unshare`, `setns`, `clone` with namespace flags or `CLONE_PARENT`, `bpf`, `perf_event_open`, keyrings, modules, kexec, `setsid`/`setpgid`, `migrate_pages`/`move_pages`, SysV `shmget`/`msgget`, `mq_open`, `memfd_secret`, inotify, setuid/setgid mode bits in `chmod`/`open`/`mkdir`/`mknod`, host settings; `prlimit64`, `sched_setaffinity`/`setscheduler`/`setparam`/`setattr` only on pid 0 (itself), `setpriority` and `ioprio_set` only for "this process" (never a process group or a whole uid, which is the server's or every `nobody`'s); without a memory controller also `memfd_create` and `mmap(MAP_SHARED \| MAP_ANONYMOUS)`, memory no resident set shows; ENOSYS for `clone3` and `openat2`, so glibc falls back to `clone` and `openat`, whose arguments BPF can inspect, and threads work |
//!
//! **The parent** reads stdout and stderr concurrently up to `max_output_kb` together, waits on
//! the pidfd, and every 50 ms samples the run (the run monitor, `/proc`): CPU time of the whole
//! tree (`utime + stime + cutime + cstime`, parents first; or the cgroup's `cpu.stat`) and,
//! without a memory controller, its anonymous + shared resident memory (`RssAnon + RssShmem`,
//! proportional `Pss` when over the limit), so that `cpu_seconds` and `memory_mb` hold for the
//! run as a whole, not per process. On wall timeout, output cap, a run limit or the script's
//! exit it kills PID 1 (and the cgroup); the kernel has killed and reaped every process of the
//! run by the time PID 1's exit is reported, and the parent reaps PID 1 (whose rusage then
//! covers the whole tree). Then it copies the output out, says whether the tmpfs was full
//! ([`Limit::Disk`], [`Limit::Files`]) and removes the run's cgroup.
//!
//! **Retention and the workspace quota**: before a run, output folders (those with the marker,
//! nothing else) older than `keep_outputs_hours` are removed, then the oldest until they hold at
//! most `keep_outputs_mb`; a run is refused ([`SandboxError::WorkspaceFull`]) when the workspace
//! plus `output_mb`/`output_files` would pass `workspace_mb`/`workspace_files`. The workspace is
//! walked (allocated blocks, entries) at most every 30 s; in between each run's output is added
//! to the last walk's figures, and figures that would refuse a run are walked again first.
//!
//! **Fail closed**: without Landlock (ABI 0), seccomp, the namespaces, the tmpfs or the
//! interpreter, [`Sandbox::ready`] and [`Sandbox::run`] refuse with a message saying which layer
//! is missing. [`Sandbox::probe`] says which layers this machine has, for `/health`; a missing
//! cgroup is not a refusal: the run monitor and the denials above stand in for it.
//!
//! Runs in one process are serialized: as root they all run as uid 65534 and share its process
//! count.
//!
//! # Tests, and what each proves
//!
//! Every hostile script runs through the real sandbox as a script of its own, and
//! `Fixture::checked` checks after every run: nothing outside its output folder changed (the
//! workspace and a canary folder holding a HOME-like `.ssh` key and a server config, all
//! world-readable so that only the sandbox can be what denies, are snapshotted before and
//! after); the server (the test process) is healthy: its rlimits and every thread's nice value,
//! scheduling policy and priority, CPU affinity and I/O priority are unchanged; no process or
//! zombie of the run is left (no new descendant of the test process); its mount table is
//! unchanged and no run cgroup is left; the run's usage is within its limits (CPU within 400 ms
//! and memory within one 50 ms sample of growth of the limit, each process's resident set, the
//! tmpfs and the copy within theirs); and a following run starts 8 threads and 4 processes.
//!
//! | test (`tests/…`) | proves |
//! |---|---|
//! | `hostile::reading_secrets_…` | `/etc/shadow`, `/etc/passwd`, the `.ssh` key, the server config, `/proc/1/environ`, the server's own environ, listing the workspace: all unreadable (Landlock) and never echoed |
//! | `hostile::writing_outside_…` | no write to `/tmp`, beside the script, over the script or data (by path or through `/dev/fd/N`: sealed), the canary; no symlink, FIFO, `..` mkdir or rename out of the output folder, no chmod of the workspace, no setuid/setgid file |
//! | `hostile::network_is_unreachable` | TCP to a listener the test owns, UDP, DNS, a UNIX socket by path and an abstract one, `socketpair`, bind, HTTP: all fail, and the test's listeners never see a connection or datagram |
//! | `hostile::kernel_attack_surface_…` | ptrace (attach to the server, traceme), mount, unshare (user, net), chroot, setsid, setpgid, setuid(0), signalling the server or everyone (`kill(-1)`), bpf, io_uring, keyctl, `clone(CLONE_NEWUSER)`: all refused |
//! | `hostile::fork_bomb_…`, `cpu_spin_…`, `memory_balloon_…`, `output_flood_…`, `endless_sleep_…`, `big_file_…` | each resource limit stops its attack and is reported as `limit_hit` |
//! | `hostile::a_double_forked_daemon_…` | a daemon that forks twice (and tries `setsid`) is gone when `run` returns |
//! | `hostile::only_standard_streams_…` | the script sees descriptors 0, 1, 2 and its two inputs, nothing of the server's |
//! | `hostile::a_planted_json_module_…` | `json.py`/`csv.py` beside the script, in the workspace or written into the cwd are never imported (`-I`) |
//! | `hostile::bad_paths_…` | symlink (file and folder on the way), hard link, FIFO, folder, `..`, absolute, empty and missing paths for script, data and output folder each give their own error saying what to send, and nothing runs or is created |
//! | `hardening::f1_process_directed_calls_…` | F1: `prlimit` (set and read), `setpriority` (the server, its threads, its uid, uid 65534, the process group), `sched_setaffinity`/`setscheduler`/`setparam`/`setattr`, `ioprio_set` (process, user, group), `migrate_pages`, `move_pages`, `kill`, `pidfd_open` on the server's pid and every thread, and a sweep of every pid from 2 to 32767: each refused, the server unchanged |
//! | `hardening::f1_a_script_may_still_tune_itself` | the same calls on itself (pid 0) still work; the script is PID 1 with uid/gid 65534 |
//! | `hardening::f1_other_processes_of_the_same_uid_…` | a detached victim of the script's uid (`nobody` as root; the server's uid unprivileged) cannot be reniced, pinned, limited, signalled or opened, and is unchanged; seen from outside, the script runs in a PID namespace of its own as uid 65534 (root) or as the server's uid, 65534 only inside its user namespace (unprivileged) |
//! | `hardening::f2_clone_parent_…`, `f2_zombies_and_orphans_…` | F2: `clone(CLONE_PARENT)` refused in the script and in its child; five runs leaving orphans, unreaped children and a daemon leave nothing on the server, and a run after them forks 12 processes |
//! | `hardening::f2_a_run_dies_with_its_server` | a server killed with SIGKILL mid-run takes the script and its child with it (this test fails with the parent-death signal set before the uid drop, as it was) |
//! | `hardening::f3_memfd_…`, `f3_shared_memory_…` | F3: without a memory controller, `memfd_create`, `memfd_secret`, `shmget`, `msgget`, shared anonymous and shared `/dev/zero` mappings are refused (private mappings work); with one (v2, or v1 as root on a hybrid host: the root run takes this branch here and the uid-4242 re-run the other), the cgroup counts 16 memfds of 32 MiB each, every one under `RLIMIT_FSIZE`, and ends the run |
//! | `hardening::f3_memory_of_forked_children_…` | four children of 150 MiB with `memory_mb = 256` (each under `RLIMIT_AS`) end the run for memory |
//! | `hardening::f3_cpu_time_of_all_processes_…` | four spinning processes with `cpu_seconds = 2` are stopped at about 2 CPU-seconds in all, not 8 |
//! | `hardening::f3_writes_stop_…`, `f3_files_stop_…`, `f3_fallocate_…`, `f3_hard_links_…` | 1 GiB of writes stops at `output_mb` (`limit_hit = disk`), 200 000 files at `output_files` (`files`); `fallocate` of 2 GiB is refused and a `KEEP_SIZE` reservation of 24 MiB with size 0 counts 24 MiB; a 20 MiB file with 200 hard links is copied out once |
//! | `hardening::f3_retention_…`, `f3_a_full_workspace_…`, `f3_the_quota_counts_…` | old and excess output folders are removed oldest first and a folder without the marker never; a workspace over its quota (bytes or entries) refuses the run and creates nothing; between walks, runs' outputs count, and room made meanwhile is seen before refusing |
//! | `hardening::f7_…` | F7: `code` runs whatever the file at the path holds; with a file renamed over the path hundreds of times meanwhile, each run runs its own code, and a named script one whole version; the script cannot write, truncate or unseal its copies |
//! | `hardening::small_only_the_standard_library_…` | `sys.path` holds only the standard library, `site` is not imported, a module installed in a site folder cannot be imported, not even after `site.main()` and adding the folder to `sys.path`; json, csv, statistics, numbers and `exit()` work |
//! | `positive::*` | `json.load(open(sys.argv[1]))`, csv, statistics, collections, re, 4 threads, sqlite3 in memory and on file, tempfile, nested folders all work; error counts per service equal the test's own; a failing script is an outcome with its traceback, not an error |
//! | `refusal::without_landlock_…` | with Landlock reported missing, `ready` and `run` refuse with "Landlock is not available … refused rather than run unconfined" and create nothing |
//! | `unprivileged::*`, `hardening::reruns_…` | with the *server* unprivileged: as root, each file copies its test binary and runs its tests again under `setpriv` (`unprivileged.rs` as uid 65534, `hardening.rs` as uid 4242, an id of no account), where the child gets a user namespace instead of the uid drop |
//!
//! # What it must not know
//!
//! Nothing of MCP, tools, models or incidents: it runs one script on one data file in one folder.
//! Choosing the script, the workspace layout and what to do with the output is the caller's job.

#![warn(missing_docs)]

mod cgroup;
mod confine;
mod error;
mod monitor;
mod outputs;
mod paths;
mod probe;
mod supervise;

use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

pub use error::SandboxError;
pub use outputs::WorkspaceUsage;
pub use paths::WrittenFile;
pub use probe::Layers;

/// The interpreter every script runs under.
pub const PYTHON: &str = "/usr/bin/python3";

/// Resource limits for one run, and the workspace's quota and retention. Every field has a
/// default; unknown fields are refused.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct SandboxLimits {
    /// CPU time of the run as a whole (every process it starts), seconds: its cgroup's
    /// `cpu.stat` or the run monitor kills the run past it; `RLIMIT_CPU` also stops any single
    /// process there. Default 10.
    pub cpu_seconds: u64,
    /// Wall-clock time before the run is killed. Default 30.
    pub wall_seconds: u64,
    /// Memory of the run as a whole in MiB: the cgroup's `memory.max` (memfd, shmem and tmpfs
    /// pages included) or, without a memory controller, the run monitor's sum of anonymous and
    /// shared memory; also each process's address space (`RLIMIT_AS`). Default 1024.
    pub memory_mb: u64,
    /// Processes and threads (`pids.max` of the run's cgroup, and `RLIMIT_NPROC`). Default 32.
    pub max_processes: u64,
    /// Largest file the script may write (`RLIMIT_FSIZE`), MiB. Default 64.
    pub max_file_mb: u64,
    /// Open descriptors (`RLIMIT_NOFILE`). Default 256.
    pub max_open_files: u64,
    /// stdout and stderr together, KiB; beyond it the run is killed. Default 256.
    pub max_output_kb: u64,
    /// Everything the run writes in its output folder together, MiB (the size of its tmpfs:
    /// allocated blocks, so `fallocate` and sparse files count). Default 128.
    pub output_mb: u64,
    /// Files and folders the run may create in its output folder (inodes of its tmpfs; each
    /// hard link counts). Default 10000.
    pub output_files: u64,
    /// The whole analytics workspace, MiB of allocated blocks: a run is refused when what is
    /// there plus `output_mb` would pass it (after retention). Default 4096.
    pub workspace_mb: u64,
    /// Entries in the whole analytics workspace: a run is refused when what is there plus
    /// `output_files` would pass it (after retention). Default 200000.
    pub workspace_files: u64,
    /// Run output folders older than this are removed before each run, hours. Default 168.
    pub keep_outputs_hours: u64,
    /// Run output folders together are kept under this, MiB; the oldest go first. Default 1024.
    pub keep_outputs_mb: u64,
}

impl Default for SandboxLimits {
    fn default() -> Self {
        SandboxLimits {
            cpu_seconds: 10,
            wall_seconds: 30,
            memory_mb: 1024,
            max_processes: 32,
            max_file_mb: 64,
            max_open_files: 256,
            max_output_kb: 256,
            output_mb: 128,
            output_files: 10_000,
            workspace_mb: 4096,
            workspace_files: 200_000,
            keep_outputs_hours: 168,
            keep_outputs_mb: 1024,
        }
    }
}

impl SandboxLimits {
    /// Checks every limit against sane bounds.
    pub fn validate(&self) -> Result<(), SandboxError> {
        let check = |setting: &'static str, value: u64, min: u64, max: u64| {
            if (min..=max).contains(&value) {
                Ok(())
            } else {
                Err(SandboxError::BadLimit {
                    setting,
                    value,
                    min,
                    max,
                })
            }
        };
        check("cpu_seconds", self.cpu_seconds, 1, 3600)?;
        check("wall_seconds", self.wall_seconds, 1, 3600)?;
        check("memory_mb", self.memory_mb, 64, 65536)?;
        check("max_processes", self.max_processes, 1, 4096)?;
        check("max_file_mb", self.max_file_mb, 1, 65536)?;
        check("max_open_files", self.max_open_files, 16, 65536)?;
        check("max_output_kb", self.max_output_kb, 1, 65536)?;
        check("output_mb", self.output_mb, 1, 65536)?;
        check("output_files", self.output_files, 16, 10_000_000)?;
        // The workspace must have room for at least one run's output.
        check("workspace_mb", self.workspace_mb, self.output_mb, 1 << 24)?;
        check(
            "workspace_files",
            self.workspace_files,
            self.output_files,
            1_000_000_000,
        )?;
        check("keep_outputs_hours", self.keep_outputs_hours, 1, 87_600)?;
        check("keep_outputs_mb", self.keep_outputs_mb, 1, 1 << 24)?;
        Ok(())
    }
}

/// One script to run.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RunRequest {
    /// The Python script, relative to the workspace (with `code`, only its name).
    pub script: String,
    /// The data file, relative to the workspace; the script finds it as `sys.argv[1]`.
    pub data: String,
    /// A new folder, relative to the workspace, created for the run; the script's cwd.
    pub output_dir: String,
    /// The script's source as the caller sent it. When given, exactly these bytes run (sealed in
    /// a memfd at call time), whatever happens to the file at `script` meanwhile; otherwise the
    /// file at `script` is opened, checked and sealed at call time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

/// Captured output of one stream.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Captured {
    /// The text (invalid UTF-8 replaced).
    pub text: String,
    /// Whether output was cut at the cap.
    pub truncated: bool,
}

/// The limit that ended a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Limit {
    /// CPU time of the run (`SIGXCPU`, or killed after using it all).
    Cpu,
    /// Wall-clock time; the run was killed.
    Wall,
    /// Memory: Python reported `MemoryError`, the run's cgroup killed for memory, or the run
    /// monitor saw the run's memory pass the limit and killed it.
    Memory,
    /// Process count: a fork or thread start failed with EAGAIN.
    Processes,
    /// File size: `SIGXFSZ` or a file at the size limit.
    FileSize,
    /// Output cap; the run was killed.
    Output,
    /// The output folder's space (`output_mb`) is used up.
    Disk,
    /// The output folder's file count (`output_files`) is used up.
    Files,
}

/// What a run used (all its processes together).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RunUsage {
    /// CPU time, milliseconds (cgroup `cpu.stat`, or the children's rusage and the run monitor).
    pub cpu_ms: u64,
    /// Highest memory of the run seen: the cgroup's `memory.peak`, or the run monitor's highest
    /// sample (every 50 ms) of anonymous + shared memory; KiB.
    pub memory_peak_kb: u64,
    /// Largest resident set of any single process (`ru_maxrss`), KiB.
    pub max_process_rss_kb: u64,
    /// Most processes seen at once by the run monitor.
    pub processes_peak: u64,
    /// Bytes allocated in the output folder's tmpfs at the end.
    pub output_bytes: u64,
    /// Inodes used in the output folder's tmpfs at the end (its root folder included).
    pub output_files: u64,
    /// Entries of the tmpfs not copied into the workspace (links, FIFOs, extra names of a file,
    /// unreadable files).
    pub output_skipped: u64,
}

/// What a run did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunOutcome {
    /// Exit code when the script exited.
    pub exit_code: Option<i32>,
    /// Signal number when it was killed.
    pub signal: Option<i32>,
    /// Standard output.
    pub stdout: Captured,
    /// Standard error.
    pub stderr: Captured,
    /// Wall time of the run in milliseconds.
    pub duration_ms: u64,
    /// Regular files in the output folder afterwards, paths relative to the workspace.
    pub files_written: Vec<WrittenFile>,
    /// The limit that ended the run, if one did.
    pub limit_hit: Option<Limit>,
    /// What the run used.
    pub usage: RunUsage,
    /// The confinement layers that were active.
    pub layers: Vec<String>,
}

/// Runs analysis scripts from one workspace under one set of limits.
#[derive(Debug, Clone)]
pub struct Sandbox {
    workspace: PathBuf,
    limits: SandboxLimits,
    simulate_no_landlock: bool,
    rescan: Duration,
}

/// How long a walk of the workspace (for retention and the quota) is trusted: a walk costs
/// about 2 µs per entry, so a run walks at most once in this time, and adds its own output to
/// the last walk's figures in between. A run the figures would refuse walks again first.
const RESCAN: Duration = Duration::from_secs(30);

/// The last walk of each workspace.
static SCANS: std::sync::Mutex<
    Option<std::collections::HashMap<PathBuf, (Instant, outputs::Scan)>>,
> = std::sync::Mutex::new(None);

/// One run at a time per process (as root they share uid 65534 and its process count).
static RUN_LOCK: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);

impl Sandbox {
    /// A sandbox over `workspace` (the analytics folder; script, data and output paths are
    /// relative to it).
    pub fn new(workspace: PathBuf, limits: SandboxLimits) -> Self {
        Sandbox {
            workspace,
            limits,
            simulate_no_landlock: false,
            rescan: RESCAN,
        }
    }

    /// **Test only**: walk the workspace before every run (retention and the quota then see
    /// changes made outside the sandbox at once).
    #[doc(hidden)]
    pub fn rescan_every_run(mut self) -> Self {
        self.rescan = Duration::ZERO;
        self
    }

    /// **Test only**: behave as if the kernel had no Landlock, to check that runs are refused.
    #[doc(hidden)]
    pub fn simulate_missing_landlock(mut self) -> Self {
        self.simulate_no_landlock = true;
        self
    }

    /// Which layers this machine supports (probed once per process).
    pub fn probe() -> Layers {
        probe::probe().clone()
    }

    fn layers(&self) -> Layers {
        let mut l = Self::probe();
        if self.simulate_no_landlock {
            l.landlock_abi = 0;
        }
        l
    }

    /// The limits runs get.
    pub fn limits(&self) -> &SandboxLimits {
        &self.limits
    }

    /// `Ok` when every required layer is available; otherwise why scripts are refused.
    pub fn ready(&self) -> Result<(), SandboxError> {
        match self.layers().missing() {
            None => Ok(()),
            Some(reason) => Err(SandboxError::Unavailable { reason }),
        }
    }

    /// What the workspace holds now (a walk of it; blocking, call it off the async threads).
    pub fn workspace_usage(&self) -> Result<WorkspaceUsage, SandboxError> {
        let scan = outputs::scan(&open_workspace(&self.workspace)?);
        let usage = scan.usage.clone();
        let mut scans = SCANS.lock().unwrap_or_else(|e| e.into_inner());
        scans
            .get_or_insert_with(Default::default)
            .insert(self.workspace.clone(), (Instant::now(), scan));
        Ok(usage)
    }

    /// Runs one script confined. Bad paths, a full workspace and missing layers are errors
    /// (nothing runs); a script that fails or hits a limit is an `Ok` outcome saying so.
    pub async fn run(&self, req: RunRequest) -> Result<RunOutcome, SandboxError> {
        self.limits.validate()?;
        self.ready()?;
        let layers = self.layers();
        // Validate every path before creating anything.
        paths::check_relative("script", &req.script)?;
        paths::check_relative("data", &req.data)?;
        paths::check_relative("output_dir", &req.output_dir)?;
        let _permit = RUN_LOCK
            .acquire()
            .await
            .map_err(|_| SandboxError::Unavailable {
                reason: "the sandbox is shutting down".to_owned(),
            })?;
        let prepared = {
            let ws = self.workspace.clone();
            let req = req.clone();
            let limits = self.limits.clone();
            let rescan = self.rescan;
            tokio::task::spawn_blocking(move || prepare(&ws, &req, &limits, rescan))
                .await
                .map_err(|e| SandboxError::Io {
                    context: "preparing the run",
                    source: std::io::Error::other(e),
                })??
        };
        let started = Instant::now();
        tracing::info!(script = %req.script, data = %req.data, output = %req.output_dir, inline = req.code.is_some(), "sandbox: running script");
        let (outcome, tmpfs) = supervise::run(&layers, &self.limits, &prepared).await?;
        let mut usage = outcome.usage;
        let (disk_full, files_full, used_bytes, used_files) = outputs::full(&tmpfs);
        usage.output_bytes = used_bytes;
        usage.output_files = used_files;
        // Copy what the run wrote from its tmpfs into its folder in the workspace.
        let output = prepared.output;
        let (copied, output) = {
            let max_bytes = self.limits.output_mb * 1024 * 1024;
            let max_entries = self.limits.output_files;
            tokio::task::spawn_blocking(move || {
                let c = outputs::copy_out(&tmpfs, &output, max_bytes, max_entries);
                (c, output)
            })
            .await
            .map_err(|e| SandboxError::Io {
                context: "copying the run's output",
                source: std::io::Error::other(e),
            })?
        };
        usage.output_skipped = copied.skipped;
        {
            let mut scans = SCANS.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((_, scan)) = scans
                .get_or_insert_with(Default::default)
                .get_mut(&self.workspace)
            {
                // The tmpfs's blocks stand for the copies' (both count whole pages/blocks).
                outputs::record(scan, &req.output_dir, used_bytes, copied.files);
            }
        }
        let files_written = paths::walk_output(&output, req.output_dir.trim_end_matches('/'));
        let limit_hit = outcome
            .limit
            .or_else(|| {
                let max = self.limits.max_file_mb * 1024 * 1024;
                files_written
                    .iter()
                    .any(|f| f.bytes >= max)
                    .then_some(Limit::FileSize)
            })
            .or(disk_full.then_some(Limit::Disk))
            .or(files_full.then_some(Limit::Files));
        let result = RunOutcome {
            exit_code: outcome.exit_code,
            signal: outcome.signal,
            stdout: outcome.stdout,
            stderr: outcome.stderr,
            duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            files_written,
            limit_hit,
            usage,
            layers: layers.active(),
        };
        tracing::info!(exit = ?result.exit_code, signal = ?result.signal, limit = ?result.limit_hit, ms = result.duration_ms, usage = ?result.usage, "sandbox: script finished");
        Ok(result)
    }
}

/// The opened, checked inputs and the output folder.
pub(crate) struct Prepared {
    pub(crate) script: OwnedFd,
    pub(crate) data: OwnedFd,
    pub(crate) output: OwnedFd,
}

fn open_workspace(workspace: &std::path::Path) -> Result<OwnedFd, SandboxError> {
    use rustix::fs::{Mode, OFlags};
    rustix::fs::open(
        workspace,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| SandboxError::Workspace {
        path: workspace.to_owned(),
        source: e.into(),
    })
}

fn prepare(
    workspace: &std::path::Path,
    req: &RunRequest,
    limits: &SandboxLimits,
    rescan: Duration,
) -> Result<Prepared, SandboxError> {
    let ws = open_workspace(workspace)?;
    let script = match &req.code {
        Some(code) => paths::sealed_bytes(code.as_bytes(), "script")?,
        None => paths::sealed_copy(paths::open_input(&ws, "script", &req.script)?, "script")?,
    };
    let data = paths::sealed_copy(paths::open_input(&ws, "data", &req.data)?, "data")?;
    // Retention, then the quota: room for one more run's output.
    let mb = 1024 * 1024;
    let max_age = Duration::from_secs(limits.keep_outputs_hours * 3600);
    let over = |u: &WorkspaceUsage| {
        // The new folder and its marker take two entries.
        u.bytes + limits.output_mb * mb > limits.workspace_mb * mb
            || u.files + limits.output_files + 2 > limits.workspace_files
    };
    let mut scans = SCANS.lock().unwrap_or_else(|e| e.into_inner());
    let scans = scans.get_or_insert_with(Default::default);
    let fresh = |scans: &mut std::collections::HashMap<PathBuf, (Instant, outputs::Scan)>| {
        scans.insert(workspace.to_owned(), (Instant::now(), outputs::scan(&ws)));
    };
    let mut walked_now = false;
    match scans.get(workspace) {
        Some((at, _)) if at.elapsed() < rescan => {}
        _ => {
            fresh(scans);
            walked_now = true;
        }
    }
    loop {
        let (_, scan) = scans.get_mut(workspace).expect("scanned above");
        let removed = outputs::prune(&ws, scan, max_age, limits.keep_outputs_mb * mb);
        if removed > 0 {
            tracing::info!(removed, usage = ?scan.usage, "sandbox: retention removed old output folders");
        }
        if !over(&scan.usage) {
            break;
        }
        if walked_now {
            let u = &scan.usage;
            return Err(SandboxError::WorkspaceFull {
                used_mb: u.bytes.div_ceil(mb),
                used_files: u.files,
                quota_mb: limits.workspace_mb,
                quota_files: limits.workspace_files,
                run_mb: limits.output_mb,
                run_files: limits.output_files,
            });
        }
        // The figures may be old: files may have gone since. Walk again before refusing.
        fresh(scans);
        walked_now = true;
    }
    let output = paths::create_output_dir(&ws, &req.output_dir)?;
    if let Some((_, scan)) = scans.get_mut(workspace) {
        outputs::record(scan, &req.output_dir, 0, 0);
    }
    Ok(Prepared {
        script,
        data,
        output,
    })
}
