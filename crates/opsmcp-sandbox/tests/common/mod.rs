//! Shared by the sandbox test files: a workspace with a data file, a canary folder outside it
//! (a HOME-like `.ssh` key and a server config), snapshots of both taken around every run, and a
//! Python prelude whose `attempt` prints `ALLOWED label` or `DENIED label` for each hostile act.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use opsmcp_sandbox::{RunOutcome, RunRequest, Sandbox, SandboxError, SandboxLimits};

/// Printed by hostile scripts for each attempt.
pub const PRELUDE: &str = r#"
import sys, os
def attempt(label, fn):
    try:
        r = fn()
        print(f"ALLOWED {label} {r!r}"[:300], flush=True)
    except BaseException as e:
        print(f"DENIED {label} {type(e).__name__}: {e}", flush=True)
"#;

pub const SSH_SECRET: &str = "CANARY-SSH-PRIVATE-KEY-7f3a";
pub const CONFIG_SECRET: &str = "CANARY-DB-PASSWORD-91bc";

/// Runs and their checks take turns within a test binary, so that the checks see only their
/// own run.
pub static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A workspace (`scripts/`, `data/logs.json`) and a canary folder outside it.
pub struct Fixture {
    pub ws: tempfile::TempDir,
    pub canary: tempfile::TempDir,
    counter: std::cell::Cell<u32>,
}

/// What a path looked like: type and mode, size, content, mtime.
type Snapshot = BTreeMap<PathBuf, (u32, u64, u64, i64)>;

impl Fixture {
    pub fn new() -> Self {
        let ws = tempfile::tempdir().expect("workspace");
        let canary = tempfile::tempdir().expect("canary");
        // World-readable canaries: a denial must come from the sandbox, not from file modes.
        for d in [ws.path(), canary.path()] {
            std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        }
        std::fs::create_dir_all(ws.path().join("scripts")).expect("mkdir");
        std::fs::create_dir_all(ws.path().join("data")).expect("mkdir");
        std::fs::write(ws.path().join("data/logs.json"), logs_json()).expect("data");
        let ssh = canary.path().join("home/.ssh");
        std::fs::create_dir_all(&ssh).expect("mkdir");
        std::fs::write(ssh.join("id_ed25519"), SSH_SECRET).expect("ssh");
        std::fs::write(
            canary.path().join("server.toml"),
            format!("db_password = \"{CONFIG_SECRET}\"\n"),
        )
        .expect("config");
        for p in [canary.path().join("home"), ssh.clone()] {
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        }
        Fixture {
            ws,
            canary,
            counter: std::cell::Cell::new(0),
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.ws.path().join(rel)
    }

    /// Writes `scripts/<name>.py` (with the prelude) and returns its relative path.
    pub fn script(&self, name: &str, body: &str) -> String {
        let rel = format!("scripts/{name}.py");
        std::fs::write(self.path(&rel), format!("{PRELUDE}\n{body}")).expect("script");
        rel
    }

    fn next_output(&self) -> String {
        self.counter.set(self.counter.get() + 1);
        format!("out/run{}", self.counter.get())
    }

    fn snapshot(&self, exclude: &Path) -> (Snapshot, Snapshot) {
        (
            snapshot(self.ws.path(), exclude),
            snapshot(self.canary.path(), exclude),
        )
    }

    /// Runs `body` with default limits; asserts nothing outside the output folder changed.
    pub async fn run(&self, name: &str, body: &str) -> (RunOutcome, String) {
        self.run_with(name, body, SandboxLimits::default()).await
    }

    /// Runs `body` with `limits`; asserts nothing outside the output folder changed, and the
    /// after-run checks of [`Fixture::checked`]. Returns the outcome and the output folder
    /// (relative).
    pub async fn run_with(
        &self,
        name: &str,
        body: &str,
        limits: SandboxLimits,
    ) -> (RunOutcome, String) {
        let script = self.script(name, body);
        let out = self.next_output();
        let req = RunRequest {
            script,
            data: "data/logs.json".into(),
            output_dir: out.clone(),
            code: None,
        };
        let outcome = self
            .checked(req, limits)
            .await
            .unwrap_or_else(|e| panic!("run {name}: {e}"));
        (outcome, out)
    }

    /// Runs `req` and checks, after it:
    /// - nothing outside the output folder changed (workspace and canary snapshots);
    /// - the server (this process) is healthy: its rlimits, and every thread's nice value,
    ///   scheduling policy and priority, CPU affinity and I/O priority, are what they were;
    /// - no process is left: this process has no child or descendant (zombies included) that it
    ///   did not have before the run;
    /// - the run's resource use is within its limits ([`assert_within_limits`]);
    /// - a following run can start threads and processes.
    pub async fn checked(
        &self,
        req: RunRequest,
        limits: SandboxLimits,
    ) -> Result<RunOutcome, SandboxError> {
        let _serial = SERIAL.lock().await;
        let name = req.script.clone();
        let before = self.snapshot(&self.path("out"));
        let server = ServerState::capture();
        let kids = descendants();
        let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        let sandbox = Sandbox::new(self.ws.path().to_owned(), limits.clone()).rescan_every_run();
        let result = sandbox.run(req).await;
        let after = self.snapshot(&self.path("out"));
        assert_same(
            &before.0,
            &after.0,
            &format!("{name}: the workspace outside the output folder changed"),
        );
        assert_same(
            &before.1,
            &after.1,
            &format!("{name}: the canary folder changed"),
        );
        ServerState::capture().assert_same_as(&server, &name);
        assert_no_new_processes(&kids, &name);
        assert_eq!(
            std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default(),
            mounts,
            "{name}: the server's mount table changed"
        );
        assert_no_run_cgroups(&name);
        if let Ok(o) = &result {
            assert_within_limits(o, &limits, &name);
            self.follow_up_run(&name, &kids).await;
        }
        result
    }

    /// A trivial run after a hostile one: 8 threads and 4 processes must start.
    async fn follow_up_run(&self, after: &str, kids: &[i32]) {
        let body = r#"
import threading
ts = [threading.Thread(target=lambda: None) for _ in range(8)]
for t in ts: t.start()
for t in ts: t.join()
pids = []
for _ in range(4):
    pid = os.fork()
    if pid == 0:
        os._exit(7)
    pids.append(pid)
assert all(os.waitpid(p, 0)[1] >> 8 == 7 for p in pids)
print("FOLLOW-UP OK")
"#;
        let script = self.script("follow_up", body);
        let out = self.next_output();
        let sandbox =
            Sandbox::new(self.ws.path().to_owned(), SandboxLimits::default()).rescan_every_run();
        let o = sandbox
            .run(RunRequest {
                script,
                data: "data/logs.json".into(),
                output_dir: out,
                code: None,
            })
            .await
            .unwrap_or_else(|e| panic!("the run after {after} could not start: {e}"));
        assert!(
            o.exit_code == Some(0) && o.stdout.text.contains("FOLLOW-UP OK"),
            "the run after {after} could not start threads and processes: {o:?}"
        );
        assert_no_new_processes(kids, &format!("the run after {after}"));
    }

    /// Runs a request expected to be refused; asserts nothing was created or changed.
    pub async fn refused(&self, script: &str, data: &str, output_dir: &str) -> SandboxError {
        let before = self.snapshot(Path::new("/nonexistent"));
        let sandbox =
            Sandbox::new(self.ws.path().to_owned(), SandboxLimits::default()).rescan_every_run();
        let req = RunRequest {
            script: script.into(),
            data: data.into(),
            output_dir: output_dir.into(),
            code: None,
        };
        let _serial = SERIAL.lock().await;
        let err = sandbox
            .run(req)
            .await
            .expect_err("the request should be refused");
        let after = self.snapshot(Path::new("/nonexistent"));
        assert_same(
            &before.0,
            &after.0,
            &format!("a refused run changed the workspace ({err})"),
        );
        assert_same(
            &before.1,
            &after.1,
            "a refused run changed the canary folder",
        );
        err
    }
}

fn hash(bytes: &[u8]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut h);
    h.finish()
}

/// Asserts two snapshots are equal, naming the paths that differ.
fn assert_same(before: &Snapshot, after: &Snapshot, what: &str) {
    let mut diffs = Vec::new();
    for (p, v) in before {
        match after.get(p) {
            None => diffs.push(format!("removed {}", p.display())),
            Some(w) if w != v => diffs.push(format!("changed {}", p.display())),
            _ => {}
        }
    }
    for p in after.keys().filter(|p| !before.contains_key(*p)) {
        diffs.push(format!("created {}", p.display()));
    }
    assert!(diffs.is_empty(), "{what}: {diffs:?}");
}

fn snapshot(root: &Path, exclude: &Path) -> Snapshot {
    let mut map = BTreeMap::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.starts_with(exclude) {
                continue;
            }
            let Ok(m) = std::fs::symlink_metadata(&p) else {
                continue;
            };
            let content = if m.is_file() {
                hash(&std::fs::read(&p).unwrap_or_default())
            } else {
                0
            };
            map.insert(p.clone(), (m.mode(), m.len(), content, m.mtime()));
            if m.is_dir() {
                stack.push(p);
            }
        }
    }
    map
}

/// Deterministic log entries: (service, level) for 600 lines.
pub fn log_entries() -> Vec<(String, String)> {
    let services = ["checkout", "payments", "auth", "search", "inventory"];
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    (0..600)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let svc = services[(x % 5) as usize];
            let level = match (x >> 8) % 10 {
                0..=2 => "ERROR",
                3 => "WARN",
                _ => "INFO",
            };
            (svc.to_owned(), level.to_owned())
        })
        .collect()
}

pub fn logs_json() -> String {
    let v: Vec<serde_json::Value> = log_entries()
        .into_iter()
        .enumerate()
        .map(|(i, (s, l))| serde_json::json!({"ts": i, "service": s, "level": l, "msg": format!("event {i}")}))
        .collect();
    serde_json::to_string(&v).expect("json")
}

/// Whether `pid` is a live (non-zombie) process.
pub fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let state = stat
                .rfind(')')
                .and_then(|i| stat[i + 1..].split_whitespace().next().map(str::to_owned));
            !matches!(state.as_deref(), Some("Z") | Some("X") | None)
        }
        Err(_) => false,
    }
}

/// Asserts that every attempt was denied and that each label appears.
pub fn assert_denied(o: &RunOutcome, labels: &[&str]) {
    let out = &o.stdout.text;
    assert!(
        !out.contains("ALLOWED"),
        "something was allowed:\n{out}\nstderr:\n{}",
        o.stderr.text
    );
    for l in labels {
        assert!(
            out.contains(&format!("DENIED {l} ")),
            "no denial for {l}:\n{out}\nstderr:\n{}",
            o.stderr.text
        );
    }
}

/// Runs each attempt as a script of its own (after `setup`), asserting its denial and, through
/// `Fixture::run`, that nothing outside the output folder changed.
pub async fn each_denied(f: &Fixture, setup: &str, attempts: &str) -> Vec<String> {
    let mut outputs = Vec::new();
    for line in attempts
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("attempt("))
    {
        let label = line
            .trim_start_matches("attempt(\"")
            .split('"')
            .next()
            .unwrap_or("?")
            .to_owned();
        let (o, _) = f.run(&label, &format!("{setup}\n{line}\n")).await;
        assert_denied(&o, &[&label]);
        outputs.push(o.stdout.text);
    }
    assert!(!outputs.is_empty());
    outputs
}

/// How far over a limit a run may be seen, and why:
/// - CPU: the monitor samples every 50 ms, on up to every CPU of the machine, and the kernel's
///   accounting rounds to the tick: 400 ms;
/// - memory: a run is killed at the first sample over its limit, so what grew during the last
///   50 ms shows on top (the kernel's `RLIMIT_AS` still caps each process): forked children can
///   each take 150 MiB inside one sample — seen at 563 MiB with a 256 MiB limit on a loaded CI
///   machine — so 384 MiB.
pub const CPU_SLACK_MS: u64 = 400;
pub const MEMORY_SLACK_KB: u64 = 384 * 1024;

/// The run's resource use, as reported, is within its limits.
pub fn assert_within_limits(o: &RunOutcome, l: &SandboxLimits, name: &str) {
    let u = &o.usage;
    assert!(
        u.cpu_ms <= l.cpu_seconds * 1000 + CPU_SLACK_MS,
        "{name}: used {} ms of CPU with cpu_seconds = {}",
        u.cpu_ms,
        l.cpu_seconds
    );
    assert!(
        u.memory_peak_kb <= l.memory_mb * 1024 + MEMORY_SLACK_KB,
        "{name}: memory peaked at {} KiB with memory_mb = {}",
        u.memory_peak_kb,
        l.memory_mb
    );
    assert!(
        u.max_process_rss_kb <= l.memory_mb * 1024,
        "{name}: one process reached {} KiB with memory_mb = {}",
        u.max_process_rss_kb,
        l.memory_mb
    );
    assert!(
        u.output_bytes <= l.output_mb * 1024 * 1024 && u.output_files <= l.output_files + 1,
        "{name}: the output folder took {} bytes in {} inodes with output_mb = {}, output_files = {}",
        u.output_bytes,
        u.output_files,
        l.output_mb,
        l.output_files
    );
    let written: u64 = o.files_written.iter().map(|f| f.bytes).sum();
    assert!(
        written <= l.output_mb * 1024 * 1024,
        "{name}: {written} bytes were copied into the workspace with output_mb = {}",
        l.output_mb
    );
    assert!(
        o.files_written
            .iter()
            .all(|f| f.bytes <= l.max_file_mb * 1024 * 1024),
        "{name}: a file passed max_file_mb"
    );
}

/// The pids of this process's descendants (children of any of its threads, and theirs).
pub fn descendants() -> Vec<i32> {
    let me = std::process::id() as i32;
    let mut out: Vec<i32> = Vec::new();
    let mut queue = vec![me];
    while let Some(pid) = queue.pop() {
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
            continue;
        };
        for t in tasks.flatten() {
            let path = t.path().join("children");
            for c in std::fs::read_to_string(path)
                .unwrap_or_default()
                .split_whitespace()
                .filter_map(|c| c.parse::<i32>().ok())
            {
                if !out.contains(&c) {
                    out.push(c);
                    queue.push(c);
                }
            }
        }
    }
    out
}

/// No descendant of this process exists that was not there before (`before`), zombie or not.
pub fn assert_no_new_processes(before: &[i32], name: &str) {
    let left: Vec<String> = descendants()
        .into_iter()
        .filter(|p| !before.contains(p))
        .map(|p| {
            let stat = std::fs::read_to_string(format!("/proc/{p}/stat")).unwrap_or_default();
            format!("{p}: {}", stat.trim())
        })
        .collect();
    assert!(left.is_empty(), "{name}: processes left behind: {left:#?}");
}

/// What a hostile script could change in the server process with a process-directed call.
#[derive(Debug, PartialEq, Eq)]
pub struct ThreadState {
    /// nice, policy, rt priority (from `/proc/self/task/<tid>/stat`).
    pub sched: (i64, i64, i64),
    /// `sched_getaffinity`.
    pub affinity: Vec<u8>,
    /// `ioprio_get(IOPRIO_WHO_PROCESS, tid)`.
    pub ioprio: i64,
}

/// The server's (this process's) limits and each thread's scheduling state.
#[derive(Debug)]
pub struct ServerState {
    pub rlimits: Vec<(u64, u64)>,
    pub threads: BTreeMap<i32, ThreadState>,
}

impl ServerState {
    pub fn capture() -> Self {
        let rlimits = (0..16)
            .map(|r| {
                let mut lim = RLimit { cur: 0, max: 0 };
                // SAFETY: prlimit64 on ourselves with a pointer to a live struct.
                unsafe { prlimit64(0, r, std::ptr::null(), &mut lim) };
                (lim.cur, lim.max)
            })
            .collect();
        let mut threads = BTreeMap::new();
        for t in std::fs::read_dir("/proc/self/task")
            .expect("tasks")
            .flatten()
        {
            let Some(tid) = t.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
                continue;
            };
            if let Some(state) = thread_state(tid) {
                threads.insert(tid, state);
            }
        }
        ServerState { rlimits, threads }
    }

    /// Asserts nothing changed (threads that came or went in between are not compared).
    pub fn assert_same_as(&self, before: &ServerState, name: &str) {
        assert_eq!(
            self.rlimits, before.rlimits,
            "{name}: the server's rlimits changed"
        );
        for (tid, was) in &before.threads {
            if let Some(now) = self.threads.get(tid) {
                assert_eq!(now, was, "{name}: server thread {tid} was changed");
            }
        }
    }
}

/// Every thread id of this process.
pub fn server_threads() -> Vec<i32> {
    ServerState::capture().threads.into_keys().collect()
}

fn thread_state(tid: i32) -> Option<ThreadState> {
    let stat = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // Field n of stat is f[n - 3] here: nice (19), rt_priority (40), policy (41).
    let num = |n: usize| {
        f.get(n - 3)
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or(-1)
    };
    let mut mask = [0u8; 128];
    // SAFETY: sched_getaffinity into a live buffer of the given size.
    let r = unsafe { sched_getaffinity(tid, mask.len(), mask.as_mut_ptr()) };
    // SAFETY: ioprio_get has no pointer arguments.
    let ioprio = unsafe { syscall(IOPRIO_GET, 1i64, tid as i64) };
    Some(ThreadState {
        sched: (num(19), num(41), num(40)),
        affinity: if r == 0 { mask.to_vec() } else { Vec::new() },
        ioprio,
    })
}

#[repr(C)]
struct RLimit {
    cur: u64,
    max: u64,
}

#[cfg(target_arch = "x86_64")]
const IOPRIO_GET: i64 = 252;
#[cfg(target_arch = "aarch64")]
const IOPRIO_GET: i64 = 31;

unsafe extern "C" {
    fn prlimit64(pid: i32, resource: i32, new: *const RLimit, old: *mut RLimit) -> i32;
    fn sched_getaffinity(pid: i32, size: usize, mask: *mut u8) -> i32;
    fn syscall(nr: i64, ...) -> i64;
}

/// No cgroup of a run of this process is left (when runs get cgroups).
pub fn assert_no_run_cgroups(name: &str) {
    let layers = Sandbox::probe();
    let prefix = format!("opsmcp-run-{}-", std::process::id());
    for base in layers.cgroup.iter().chain(&layers.cgroup_v1) {
        let left: Vec<String> = std::fs::read_dir(base)
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n.starts_with(&prefix))
                    .collect()
            })
            .unwrap_or_default();
        assert!(
            left.is_empty(),
            "{name}: run cgroups left in {base}: {left:?}"
        );
    }
}

/// Set in a copy of a test binary re-run unprivileged.
pub const INNER: &str = "OPSMCP_SANDBOX_UNPRIVILEGED_RERUN";

/// Whether this is the unprivileged re-run.
pub fn inner() -> bool {
    std::env::var_os(INNER).is_some()
}

/// As root, copies this test binary to a world-readable folder (the build folder under `/root`
/// is not) and runs the tests matching `filters` again under `setpriv --reuid=UID --regid=UID
/// --clear-groups`, expecting `expected` of them to pass. Holds the run lock meanwhile, so that
/// no run of this process checks for leftovers while the re-run's processes exist.
pub fn rerun_unprivileged(uid: u32, filters: &[&str], expected: usize) {
    if inner() {
        return;
    }
    if !rustix::process::geteuid().is_root() {
        eprintln!("not root: the tests already ran unprivileged");
        return;
    }
    let setpriv = ["/usr/bin/setpriv", "/bin/setpriv"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("setpriv (util-linux) is needed to re-run the sandbox tests unprivileged");
    let _serial = SERIAL.blocking_lock();
    let exe = std::env::current_exe().expect("current exe");
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let copy = dir.path().join("unprivileged-tests");
    std::fs::copy(&exe, &copy).expect("copy test binary");
    std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let out = std::process::Command::new(setpriv)
        .args([
            format!("--reuid={uid}"),
            format!("--regid={uid}"),
            "--clear-groups".to_owned(),
            "--".to_owned(),
        ])
        .arg(&copy)
        .args(filters)
        .arg("--test-threads=1")
        .env(INNER, "1")
        .env("HOME", "/nonexistent")
        .env("TMPDIR", "/tmp")
        .current_dir("/")
        .output()
        .expect("run setpriv");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "unprivileged re-run failed:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains(&format!("test result: ok. {expected} passed")),
        "unexpected re-run result:\n{stdout}\n{stderr}"
    );
}
