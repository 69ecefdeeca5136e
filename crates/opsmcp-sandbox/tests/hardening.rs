//! Hostile scripts for the findings of issue 18, a category each (`f1_` same-uid reach, `f2_`
//! the run's process tree, `f3_` limits of the run as a whole, `f7_` sealed content, `small_`
//! stdlib only). Every script runs through the real sandbox via `Fixture`, which checks after
//! each run that the server (this process) is unchanged, that nothing of the run is left, that
//! its usage is within its limits, that nothing outside its folder changed and that a following
//! run starts threads and processes.
//!
//! As root (CI) `reruns_this_file_as_an_unprivileged_user` runs these tests again as uid 4242
//! under `setpriv`: the server unprivileged, the script in a user namespace.

mod common;

use std::time::{Duration, SystemTime};

use common::{Fixture, ServerState, assert_denied, each_denied, inner, server_threads};
use opsmcp_sandbox::{Limit, RunRequest, Sandbox, SandboxError, SandboxLimits};

/// The uid the unprivileged re-run uses: none of root, nobody or any account.
const RERUN_UID: u32 = 4242;

/// Python helpers: raw syscalls by number (numbers from this build's libc), and `every`, which
/// applies an attempt to many targets and succeeds if any target was reached.
fn setup() -> String {
    format!(
        r#"
import ctypes, resource, signal, mmap
libc = ctypes.CDLL(None, use_errno=True)
def sc(nr, *args):
    r = libc.syscall(ctypes.c_long(nr), *[ctypes.c_long(a) for a in args])
    if r == -1:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return r
def every(targets, fn):
    hit, err = [], None
    for t in targets:
        try:
            fn(t)
            hit.append(t)
        except OSError as e:
            err = e
    if hit:
        return hit
    raise err or PermissionError("no target")
SERVER = {server}
SERVER_UID = {uid}
TIDS = {tids:?}
SYS_IOPRIO_SET = {ioprio_set}
SYS_MIGRATE_PAGES = {migrate_pages}
SYS_MOVE_PAGES = {move_pages}
SYS_SCHED_SETATTR = {sched_setattr}
SYS_CLONE = {clone}
SYS_SHMGET = {shmget}
SYS_MSGGET = {msgget}
SYS_FALLOCATE = {fallocate}
IDLE_IO = 3 << 13
"#,
        server = std::process::id(),
        uid = rustix::process::getuid().as_raw(),
        tids = server_threads(),
        ioprio_set = libc::SYS_ioprio_set,
        migrate_pages = libc::SYS_migrate_pages,
        move_pages = libc::SYS_move_pages,
        sched_setattr = libc::SYS_sched_setattr,
        clone = libc::SYS_clone,
        shmget = libc::SYS_shmget,
        msgget = libc::SYS_msgget,
        fallocate = libc::SYS_fallocate,
    )
}

// ---------------------------------------------------------------------------------------------
// F1: a script can reach no process outside its run, with any process-directed call.

#[tokio::test]
async fn f1_process_directed_calls_cannot_reach_the_server() {
    let f = Fixture::new();
    let before = ServerState::capture();
    let attempts = r#"
attempt("prlimit_server", lambda: resource.prlimit(SERVER, resource.RLIMIT_CPU, (0, 1)))
attempt("prlimit_read_server", lambda: resource.prlimit(SERVER, resource.RLIMIT_NOFILE))
attempt("prlimit_server_threads", lambda: every(TIDS, lambda t: resource.prlimit(t, resource.RLIMIT_NOFILE, (3, 3))))
attempt("renice_server", lambda: os.setpriority(os.PRIO_PROCESS, SERVER, 19))
attempt("renice_server_threads", lambda: every(TIDS, lambda t: os.setpriority(os.PRIO_PROCESS, t, 19)))
attempt("renice_own_user", lambda: os.setpriority(os.PRIO_USER, 0, 19))
attempt("renice_server_user", lambda: os.setpriority(os.PRIO_USER, SERVER_UID, 19))
attempt("renice_nobody", lambda: os.setpriority(os.PRIO_USER, 65534, 19))
attempt("renice_group", lambda: os.setpriority(os.PRIO_PGRP, 0, 19))
attempt("pin_server", lambda: os.sched_setaffinity(SERVER, {0}))
attempt("pin_server_threads", lambda: every(TIDS, lambda t: os.sched_setaffinity(t, {0})))
attempt("idle_server", lambda: os.sched_setscheduler(SERVER, os.SCHED_IDLE, os.sched_param(0)))
attempt("idle_server_threads", lambda: every(TIDS, lambda t: os.sched_setscheduler(t, os.SCHED_IDLE, os.sched_param(0))))
attempt("sched_param_server", lambda: os.sched_setparam(SERVER, os.sched_param(0)))
attempt("sched_setattr_server", lambda: sc(SYS_SCHED_SETATTR, SERVER, ctypes.addressof(ctypes.create_string_buffer((56).to_bytes(4, "little") + (5).to_bytes(4, "little"), 56)), 0))
attempt("ioprio_server", lambda: sc(SYS_IOPRIO_SET, 1, SERVER, IDLE_IO))
attempt("ioprio_server_threads", lambda: every(TIDS, lambda t: sc(SYS_IOPRIO_SET, 1, t, IDLE_IO)))
attempt("ioprio_own_user", lambda: sc(SYS_IOPRIO_SET, 3, 0, IDLE_IO))
attempt("ioprio_server_user", lambda: sc(SYS_IOPRIO_SET, 3, SERVER_UID, IDLE_IO))
attempt("ioprio_group", lambda: sc(SYS_IOPRIO_SET, 2, 0, IDLE_IO))
attempt("migrate_pages_server", lambda: sc(SYS_MIGRATE_PAGES, SERVER, 64, ctypes.addressof(ctypes.c_ulong(1)), ctypes.addressof(ctypes.c_ulong(1))))
attempt("move_pages_server", lambda: sc(SYS_MOVE_PAGES, SERVER, 0, 0, 0, 0, 0))
attempt("kill_server", lambda: os.kill(SERVER, signal.SIGKILL))
attempt("kill_server_threads", lambda: every(TIDS, lambda t: os.kill(t, signal.SIGSTOP)))
attempt("pidfd_server", lambda: os.pidfd_open(SERVER))
attempt("sweep_every_pid", lambda: every(range(2, 32768), lambda p: (os.kill(p, 0), resource.prlimit(p, resource.RLIMIT_NOFILE))))
"#;
    assert_eq!(each_denied(&f, &setup(), attempts).await.len(), 26);
    // `Fixture` compared after each run; compare the first and the last state too.
    ServerState::capture().assert_same_as(&before, "all F1 attempts");
}

#[tokio::test]
async fn f1_a_script_may_still_tune_itself() {
    let f = Fixture::new();
    let body = r#"
os.setpriority(os.PRIO_PROCESS, 0, 5)
assert os.getpriority(os.PRIO_PROCESS, 0) == 5
resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
assert resource.prlimit(0, resource.RLIMIT_NOFILE) == (64, 64)
os.sched_setaffinity(0, {0})
assert os.sched_getaffinity(0) == {0}
sc(SYS_IOPRIO_SET, 1, 0, IDLE_IO)
print("OWN OK", os.getpid(), os.getuid(), os.getgid())
"#;
    let (o, _) = f.run("own", &format!("{}\n{body}", setup())).await;
    assert_eq!(o.exit_code, Some(0), "{o:?}");
    // PID 1 of its own namespace, uid and gid 65534 there.
    assert!(
        o.stdout.text.contains("OWN OK 1 65534 65534"),
        "{}",
        o.stdout.text
    );
}

/// As root: the script runs as uid 65534 in a PID namespace of its own, and cannot reach another
/// `nobody` process. Unprivileged: the script's uid is the server's own in the kernel (only a
/// subordinate uid range could change that) but 65534 in its user namespace, and it cannot
/// reach another process of the server's uid. Seen from outside, while the script runs.
#[tokio::test]
async fn f1_other_processes_of_the_same_uid_are_unreachable() {
    let f = Fixture::new();
    let root = rustix::process::geteuid().is_root();
    // A detached victim (its shell exits, init adopts it), so that it is no descendant of this
    // process for the leftover checks of runs of other tests; started under the run lock.
    let v: i32 = {
        let _serial = common::SERIAL.lock().await;
        let mut cmd = if root {
            let mut c = std::process::Command::new("/usr/bin/setpriv");
            c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"]);
            c.arg("/bin/sh");
            c
        } else {
            std::process::Command::new("/bin/sh")
        };
        let out = cmd
            .args(["-c", "/bin/sleep 120 >/dev/null 2>&1 </dev/null & echo $!"])
            .output()
            .expect("victim");
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .expect("victim pid")
    };
    std::thread::sleep(Duration::from_millis(200));
    let victim_state = |pid: i32| {
        let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).expect("limits");
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
        let uid = status
            .lines()
            .find(|l| l.starts_with("Uid:"))
            .unwrap_or("")
            .to_owned();
        let cpus = status
            .lines()
            .find(|l| l.starts_with("Cpus_allowed_list:"))
            .unwrap_or("")
            .to_owned();
        let f: Vec<String> = stat[stat.rfind(')').unwrap() + 1..]
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        (limits, f[16].clone(), f[38].clone(), uid, cpus)
    };
    let before = victim_state(v);
    let victim_uid = if root {
        65534
    } else {
        rustix::process::getuid().as_raw()
    };
    let body = format!(
        r#"{setup}
V = {v}
VUID = {victim_uid}
print("ME", os.getpid(), os.getuid(), flush=True)
attempt("prlimit_victim", lambda: resource.prlimit(V, resource.RLIMIT_NOFILE, (3, 3)))
attempt("renice_victim", lambda: os.setpriority(os.PRIO_PROCESS, V, 19))
attempt("renice_victims_user", lambda: os.setpriority(os.PRIO_USER, VUID, 19))
attempt("pin_victim", lambda: os.sched_setaffinity(V, {{0}}))
attempt("idle_victim", lambda: os.sched_setscheduler(V, os.SCHED_IDLE, os.sched_param(0)))
attempt("ioprio_victim", lambda: sc(SYS_IOPRIO_SET, 1, V, IDLE_IO))
attempt("ioprio_victims_user", lambda: sc(SYS_IOPRIO_SET, 3, VUID, IDLE_IO))
attempt("kill_victim", lambda: os.kill(V, signal.SIGKILL))
attempt("pidfd_victim", lambda: os.pidfd_open(V))
import time
time.sleep(1.5)
"#,
        setup = setup(),
    );
    // While the script sleeps, look at it from outside: its kernel uid and its pid namespace.
    let seen = async {
        for _ in 0..100 {
            tokio::time::sleep(Duration::from_millis(50)).await;
            for p in common::descendants() {
                let Ok(status) = std::fs::read_to_string(format!("/proc/{p}/status")) else {
                    continue;
                };
                let nspid = status
                    .lines()
                    .find(|l| l.starts_with("NSpid:"))
                    .unwrap_or("");
                let name = status
                    .lines()
                    .find(|l| l.starts_with("Name:"))
                    .unwrap_or("");
                // PID 1 of a namespace, once it runs the interpreter (before, it is still being
                // confined).
                if nspid.split_whitespace().nth(2) == Some("1") && name.ends_with("python3") {
                    let uid = status.lines().find(|l| l.starts_with("Uid:")).unwrap_or("");
                    return Some((nspid.to_owned(), uid.to_owned()));
                }
            }
        }
        None
    };
    let ((o, _), seen) = tokio::join!(f.run("victim", &body), seen);
    assert_denied(
        &o,
        &[
            "prlimit_victim",
            "renice_victim",
            "renice_victims_user",
            "pin_victim",
            "idle_victim",
            "ioprio_victim",
            "ioprio_victims_user",
            "kill_victim",
            "pidfd_victim",
        ],
    );
    assert!(o.stdout.text.contains("ME 1 65534"), "{}", o.stdout.text);
    let (nspid, uid) = seen.expect("the script was seen running in a PID namespace of its own");
    let kernel_uid: u32 = uid
        .split_whitespace()
        .nth(1)
        .and_then(|u| u.parse().ok())
        .expect("uid");
    if root {
        assert_eq!(kernel_uid, 65534, "{uid}");
    } else {
        // The kernel identity is the server's own: what the PID namespace, seccomp and Landlock
        // make unusable (this test), and what only a subordinate uid range would change.
        assert_eq!(kernel_uid, rustix::process::getuid().as_raw(), "{uid}");
    }
    eprintln!("script seen from outside: {nspid}; {uid}");
    assert!(common::alive(v), "the victim was killed");
    assert_eq!(victim_state(v), before, "the victim was changed");
    // SAFETY: kill(2) on the victim this test started.
    unsafe { libc::kill(v, libc::SIGKILL) };
}

// ---------------------------------------------------------------------------------------------
// F2: the run's whole process tree is reaped; nothing is re-parented onto the server.

#[tokio::test]
async fn f2_clone_parent_is_denied_in_the_script_and_its_children() {
    let f = Fixture::new();
    let body = format!(
        r#"{setup}
CLONE_PARENT = {clone_parent}
def clone_parent():
    r = sc(SYS_CLONE, CLONE_PARENT | signal.SIGCHLD, 0, 0, 0, 0)
    if r == 0:
        os._exit(0)
    return r
attempt("clone_parent", clone_parent)
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    os.close(r)
    try:
        clone_parent()
        os.write(w, b"ALLOWED")
    except OSError as e:
        os.write(w, f"DENIED {{e}}".encode())
    os._exit(0)
os.close(w)
print("CHILD", os.read(r, 200).decode(), flush=True)
os.waitpid(pid, 0)
"#,
        setup = setup(),
        clone_parent = libc::CLONE_PARENT,
    );
    let (o, _) = f.run("clone_parent", &body).await;
    assert_denied(&o, &["clone_parent"]);
    assert!(o.stdout.text.contains("CHILD DENIED"), "{}", o.stdout.text);
}

#[tokio::test]
async fn f2_zombies_and_orphans_never_reach_the_server() {
    let f = Fixture::new();
    // Orphans (their parent exits first), children never waited for, a daemon that outlives its
    // parent, and the script exiting while all of them are there.
    let body = r#"
import time
for i in range(10):
    if os.fork() == 0:
        if os.fork() == 0:
            time.sleep(0.1)
            os._exit(0)
        os._exit(0)
for i in range(10):
    if os.fork() == 0:
        os._exit(0)
if os.fork() == 0:
    if os.fork() == 0:
        time.sleep(3600)
    os._exit(0)
time.sleep(0.5)
print("LEAVING", flush=True)
"#;
    let limits = SandboxLimits {
        max_processes: 64,
        ..SandboxLimits::default()
    };
    // Several times: as root the zombies of one run used to count against uid 65534's process
    // limit in every later run.
    for i in 0..5 {
        let (o, _) = f
            .run_with(&format!("zombies{i}"), body, limits.clone())
            .await;
        assert_eq!(o.exit_code, Some(0), "{o:?}");
    }
    // A run after them still forks as many processes as its limit allows.
    let body = r#"
pids = []
for _ in range(12):
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    pids.append(pid)
for p in pids:
    os.waitpid(p, 0)
print("FORKED", len(pids))
"#;
    let limits = SandboxLimits {
        max_processes: 16,
        ..SandboxLimits::default()
    };
    let (o, _) = f.run_with("after_zombies", body, limits).await;
    assert!(o.stdout.text.contains("FORKED 12"), "{o:?}");
}

/// Set in a copy of this test binary that plays a server killed in the middle of a run.
const DYING_SERVER: &str = "OPSMCP_SANDBOX_DYING_SERVER";

/// Not a test of its own: the server of `f2_a_run_dies_with_its_server`, which runs a script
/// that would sleep for an hour.
#[tokio::test]
async fn helper_server_that_dies() {
    let Some(ws) = std::env::var_os(DYING_SERVER) else {
        return;
    };
    let sandbox = Sandbox::new(ws.into(), SandboxLimits::default());
    let _ = sandbox
        .run(RunRequest {
            script: "sleep.py".into(),
            data: "data.json".into(),
            output_dir: "out".into(),
            code: Some(
                "import os, time\nif os.fork() == 0:\n    time.sleep(3600)\ntime.sleep(3600)\n"
                    .into(),
            ),
        })
        .await;
}

/// The server is killed (SIGKILL, no cleanup) while its script runs: the script and its child
/// die with it (the parent-death signal on PID 1 of the run, set after the uid drop, which
/// clears it), nothing is left.
#[tokio::test]
async fn f2_a_run_dies_with_its_server() {
    let _serial = common::SERIAL.lock().await;
    let ws = tempfile::tempdir().expect("ws");
    std::fs::write(ws.path().join("data.json"), "[]").expect("data");
    let mut server = std::process::Command::new(std::env::current_exe().expect("exe"))
        .args(["--exact", "helper_server_that_dies", "--test-threads=1"])
        .env(DYING_SERVER, ws.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("server");
    // Wait for the script (PID 1 of a namespace, running the interpreter) and its child.
    let mut run = Vec::new();
    for _ in 0..200 {
        tokio::time::sleep(Duration::from_millis(25)).await;
        run = common::descendants()
            .into_iter()
            .filter(|p| {
                let status =
                    std::fs::read_to_string(format!("/proc/{p}/status")).unwrap_or_default();
                status
                    .lines()
                    .any(|l| l.starts_with("NSpid:") && l.split_whitespace().count() == 3)
                    && status
                        .lines()
                        .any(|l| l.starts_with("Name:") && l.ends_with("python3"))
            })
            .collect();
        if run.len() == 2 {
            break;
        }
    }
    assert_eq!(run.len(), 2, "the script and its child never ran");
    server.kill().expect("kill the server");
    server.wait().expect("reap the server");
    let gone = |p: &i32| {
        std::fs::read_to_string(format!("/proc/{p}/stat"))
            .map(|s| s[s.rfind(')').unwrap_or(0)..].starts_with(") Z"))
            .unwrap_or(true)
    };
    for _ in 0..100 {
        if run.iter().all(gone) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(run.iter().all(gone), "the run outlived its server: {run:?}");
}

// ---------------------------------------------------------------------------------------------
// F3: limits hold for the run as a whole.

fn monitored_memory() -> bool {
    Sandbox::probe()
        .active()
        .iter()
        .any(|l| l == "run-monitor[memory]")
}

#[tokio::test]
async fn f3_memfd_is_denied_without_a_memory_controller() {
    let f = Fixture::new();
    let limits = SandboxLimits {
        memory_mb: 256,
        ..SandboxLimits::default()
    };
    let body = r#"
def fill():
    # Many memfds, each under RLIMIT_FSIZE (a memfd is a file): 512 MiB together.
    fds = []
    for _ in range(16):
        fd = os.memfd_create("hoard")
        for _ in range(32):
            os.write(fd, b"x" * (1024 * 1024))
        fds.append(fd)
    return fds
attempt("memfd", fill)
attempt("memfd_secret", lambda: sc(447, 0))
attempt("shmget", lambda: sc(SYS_SHMGET, 0, 512 * 1024 * 1024, 0o1600))
attempt("msgget", lambda: sc(SYS_MSGGET, 0, 0o1600))
"#;
    let (o, _) = f
        .run_with("memfd", &format!("{}\n{body}", setup()), limits)
        .await;
    if monitored_memory() {
        assert_denied(&o, &["memfd", "memfd_secret", "shmget", "msgget"]);
    } else {
        // With a memory controller, memfd pages are charged to the run's cgroup.
        assert_eq!(o.limit_hit, Some(Limit::Memory), "{o:?}");
    }
}

#[tokio::test]
async fn f3_memory_of_forked_children_counts_for_the_run() {
    let f = Fixture::new();
    let limits = SandboxLimits {
        memory_mb: 256,
        ..SandboxLimits::default()
    };
    // Four children of 150 MiB each: each under RLIMIT_AS, 600 MiB together.
    let body = r#"
import time
for i in range(4):
    if os.fork() == 0:
        hoard = b"x" * (150 * 1024 * 1024)
        print("CHILD HOLDS", i, flush=True)
        time.sleep(30)
        os._exit(0)
time.sleep(30)
"#;
    let (o, _) = f.run_with("forked_memory", body, limits).await;
    assert_eq!(o.limit_hit, Some(Limit::Memory), "{o:?}");
    assert_eq!(o.signal, Some(9), "{o:?}");
    eprintln!("forked memory: {:?}", o.usage);
}

#[tokio::test]
async fn f3_shared_memory_passed_to_children_counts_for_the_run() {
    let f = Fixture::new();
    let limits = SandboxLimits {
        memory_mb: 256,
        ..SandboxLimits::default()
    };
    // Shared anonymous mappings, filled, handed to a child each and unmapped by the parent: no
    // process holds more than 120 MiB of address space, the children 480 MiB together, and a
    // child's resident set shows none of it until it touches the pages.
    let body = r#"
import time, mmap
def hoard():
    for i in range(4):
        m = mmap.mmap(-1, 120 * 1024 * 1024, flags=mmap.MAP_SHARED)
        chunk = b"y" * (1024 * 1024)
        for off in range(0, 120 * 1024 * 1024, len(chunk)):
            m[off:off + len(chunk)] = chunk
        if os.fork() == 0:
            time.sleep(30)
            os._exit(0)
        m.close()
    time.sleep(30)
attempt("shared_anonymous", hoard)
attempt("shared_dev_zero", lambda: mmap.mmap(os.open("/dev/zero", os.O_RDWR), 120 * 1024 * 1024, flags=mmap.MAP_SHARED))
m = mmap.mmap(-1, 1024 * 1024, flags=mmap.MAP_PRIVATE)
m[:5] = b"fine!"
print("PRIVATE", m[:5], flush=True)
"#;
    let (o, _) = f.run_with("shared_memory", body, limits).await;
    if monitored_memory() {
        // The run monitor counts resident sets, so what it cannot see is denied.
        assert_denied(&o, &["shared_anonymous", "shared_dev_zero"]);
        assert!(o.stdout.text.contains("PRIVATE b'fine!'"), "{o:?}");
    } else {
        assert_eq!(o.limit_hit, Some(Limit::Memory), "{o:?}");
    }
}

#[tokio::test]
async fn f3_cpu_time_of_all_processes_counts_for_the_run() {
    let f = Fixture::new();
    let limits = SandboxLimits {
        cpu_seconds: 2,
        wall_seconds: 60,
        ..SandboxLimits::default()
    };
    // Four spinning processes: each would stay under RLIMIT_CPU until 2 s, 8 s together.
    let body = r#"
for i in range(3):
    if os.fork() == 0:
        break
while True:
    pass
"#;
    let (o, _) = f.run_with("cpu4", body, limits).await;
    assert_eq!(o.limit_hit, Some(Limit::Cpu), "{o:?}");
    assert!(o.usage.cpu_ms >= 2000, "{:?}", o.usage);
    eprintln!("four spinning processes: {:?}", o.usage);
}

#[tokio::test]
async fn f3_writes_stop_at_the_output_quota() {
    let f = Fixture::new();
    let limits = SandboxLimits {
        output_mb: 32,
        ..SandboxLimits::default()
    };
    let body = r#"
n = 0
try:
    for i in range(1024):
        with open(f"f{i}", "wb") as fh:
            fh.write(b"x" * (1024 * 1024))
        n += 1
except OSError as e:
    print("STOPPED", n, e.errno, flush=True)
"#;
    let (o, out) = f.run_with("disk", body, limits).await;
    assert_eq!(o.limit_hit, Some(Limit::Disk), "{o:?}");
    assert!(o.stdout.text.contains("STOPPED"), "{}", o.stdout.text);
    let copied: u64 = o.files_written.iter().map(|w| w.bytes).sum();
    assert!(copied <= 32 * 1024 * 1024, "{copied}");
    assert!(
        dir_bytes(&f.path(&out)) <= 32 * 1024 * 1024 + 64 * 1024,
        "the output folder in the workspace is larger than the quota"
    );
}

#[tokio::test]
async fn f3_fallocate_counts_allocated_blocks_not_sizes() {
    let f = Fixture::new();
    let limits = SandboxLimits {
        output_mb: 32,
        ..SandboxLimits::default()
    };
    let body = r#"
fd = os.open("reserved", os.O_CREAT | os.O_WRONLY, 0o644)
attempt("fallocate_keep_size_2g", lambda: sc(SYS_FALLOCATE, fd, 1, 0, 2 << 30))
attempt("posix_fallocate_2g", lambda: os.posix_fallocate(fd, 0, 2 << 30))
sc(SYS_FALLOCATE, fd, 1, 0, 24 << 20)
st = os.fstat(fd)
print("SIZE", st.st_size, "BLOCKS", st.st_blocks * 512, flush=True)
attempt("fallocate_past_quota", lambda: sc(SYS_FALLOCATE, os.open("more", os.O_CREAT | os.O_WRONLY, 0o644), 1, 0, 16 << 20))
"#;
    let (o, _) = f
        .run_with("fallocate", &format!("{}\n{body}", setup()), limits)
        .await;
    assert_denied(
        &o,
        &[
            "fallocate_keep_size_2g",
            "posix_fallocate_2g",
            "fallocate_past_quota",
        ],
    );
    // A size of 0 with 24 MiB reserved: the quota counts the 24 MiB.
    assert!(
        o.stdout.text.contains("SIZE 0 BLOCKS 25165824"),
        "{}",
        o.stdout.text
    );
    assert!(o.usage.output_bytes >= 24 << 20, "{:?}", o.usage);
}

#[tokio::test]
async fn f3_files_stop_at_the_inode_quota() {
    let f = Fixture::new();
    let limits = SandboxLimits {
        output_files: 1000,
        ..SandboxLimits::default()
    };
    let body = r#"
n = 0
try:
    os.mkdir("many")
    for i in range(200000):
        open(f"many/{i}", "w").close()
        n += 1
except OSError as e:
    print("STOPPED", n, e.errno, flush=True)
"#;
    let (o, _) = f.run_with("inodes", body, limits).await;
    assert_eq!(o.limit_hit, Some(Limit::Files), "{o:?}");
    // 1001 inodes: the root folder, "many", and 999 files.
    assert!(
        o.stdout.text.contains("STOPPED 999 28"),
        "{}",
        o.stdout.text
    );
    assert!(o.files_written.len() <= 1000, "{}", o.files_written.len());
}

#[tokio::test]
async fn f3_hard_links_are_copied_out_once() {
    let f = Fixture::new();
    let limits = SandboxLimits {
        output_mb: 32,
        ..SandboxLimits::default()
    };
    let body = r#"
with open("big", "wb") as fh:
    fh.write(b"z" * (20 * 1024 * 1024))
for i in range(200):
    os.link("big", f"link{i}")
print("LINKED", flush=True)
"#;
    let (o, _) = f.run_with("links", body, limits).await;
    assert!(o.stdout.text.contains("LINKED"), "{o:?}");
    let copied: u64 = o.files_written.iter().map(|w| w.bytes).sum();
    assert_eq!(copied, 20 * 1024 * 1024, "{:?}", o.files_written.len());
    assert!(o.usage.output_skipped >= 200, "{:?}", o.usage);
}

fn dir_bytes(p: &std::path::Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let mut total = 0;
    for e in std::fs::read_dir(p).into_iter().flatten().flatten() {
        let m = e.metadata().expect("meta");
        total += m.blocks() * 512;
        if m.is_dir() {
            total += dir_bytes(&e.path());
        }
    }
    total
}

/// Sets the creation time of an output folder (its marker's mtime) in the past.
fn age(folder: &std::path::Path, days: u64) {
    let then = SystemTime::now() - Duration::from_secs(days * 86400);
    let marker = std::fs::File::open(folder.join(".opsmcp-run")).expect("marker");
    marker.set_modified(then).expect("set mtime");
}

#[tokio::test]
async fn f3_retention_removes_old_and_excess_output_folders_only() {
    let f = Fixture::new();
    let body = "open('out.bin', 'wb').write(b'r' * (600 * 1024))\n";
    let mut outs = Vec::new();
    for i in 0..4 {
        let (o, out) = f.run(&format!("keep{i}"), body).await;
        assert_eq!(o.exit_code, Some(0), "{o:?}");
        outs.push(f.path(&out));
    }
    // A folder without the marker, even an old one, is never the sandbox's to remove.
    let manual = f.path("out/manual");
    std::fs::create_dir_all(&manual).expect("mkdir");
    std::fs::write(manual.join("notes.txt"), "keep me").expect("write");
    age(&outs[0], 30);
    // Age: older than a day goes.
    let limits = SandboxLimits {
        keep_outputs_hours: 24,
        ..SandboxLimits::default()
    };
    let (o, _) = f.run_with("age", "print('ok')\n", limits).await;
    assert_eq!(o.exit_code, Some(0));
    assert!(!outs[0].exists(), "a 30-day-old output folder was kept");
    assert!(outs[1].exists() && outs[2].exists() && outs[3].exists());
    // Size: the oldest go until the rest holds at most 1 MiB.
    let limits = SandboxLimits {
        keep_outputs_mb: 1,
        ..SandboxLimits::default()
    };
    let (o, _) = f.run_with("size", "print('ok')\n", limits).await;
    assert_eq!(o.exit_code, Some(0));
    assert!(!outs[1].exists() && !outs[2].exists(), "old folders kept");
    assert!(outs[3].exists(), "the newest folder went");
    assert!(
        manual.join("notes.txt").exists(),
        "a folder not a run's was removed"
    );
    let usage = Sandbox::new(f.ws.path().to_owned(), SandboxLimits::default())
        .workspace_usage()
        .expect("usage");
    assert!(usage.output_bytes <= 1024 * 1024, "{usage:?}");
}

#[tokio::test]
async fn f3_a_full_workspace_refuses_runs_and_creates_nothing() {
    let f = Fixture::new();
    std::fs::write(f.path("data/big.bin"), vec![7u8; 3 * 1024 * 1024]).expect("write");
    let script = f.script("quota", "open('RAN', 'w').write('x')\n");
    for (limits, what) in [
        (
            SandboxLimits {
                output_mb: 2,
                workspace_mb: 4,
                ..SandboxLimits::default()
            },
            "MiB",
        ),
        (
            SandboxLimits {
                output_files: 16,
                workspace_files: 20,
                ..SandboxLimits::default()
            },
            "entries",
        ),
    ] {
        let err = f
            .checked(
                RunRequest {
                    script: script.clone(),
                    data: "data/logs.json".into(),
                    output_dir: "out/over-quota".into(),
                    code: None,
                },
                limits,
            )
            .await
            .expect_err("a full workspace must refuse the run");
        assert!(matches!(err, SandboxError::WorkspaceFull { .. }), "{err:?}");
        let msg = err.to_string();
        assert!(
            msg.contains(what) && msg.contains("workspace_mb") && msg.contains("delete"),
            "{msg}"
        );
        assert!(!f.path("out/over-quota").exists());
    }
}

/// Between walks of the workspace (at most one per 30 s) each run's output is added to the last
/// walk's figures; figures that would refuse a run are checked by walking again first.
#[tokio::test]
async fn f3_the_quota_counts_outputs_between_walks_and_rewalks_before_refusing() {
    let f = Fixture::new();
    let limits = SandboxLimits {
        output_mb: 2,
        workspace_mb: 8,
        ..SandboxLimits::default()
    };
    // Not `Fixture::checked`, which walks before every run: the sandbox as the server has it
    // (under the run lock all the same, for the leftover checks of other tests).
    let _serial = common::SERIAL.lock().await;
    let sandbox = Sandbox::new(f.ws.path().to_owned(), limits);
    let script = f.script("fill", "open('f.bin', 'wb').write(b'q' * (1536 * 1024))\n");
    let run = |i: usize| {
        sandbox.run(RunRequest {
            script: script.clone(),
            data: "data/logs.json".into(),
            output_dir: format!("out/fill{i}"),
            code: None,
        })
    };
    let mut done = 0;
    let err = loop {
        match run(done).await {
            Ok(o) => {
                assert_eq!(o.exit_code, Some(0), "{o:?}");
                done += 1;
                assert!(done < 10, "the quota never refused a run");
            }
            Err(e) => break e,
        }
    };
    assert!(matches!(err, SandboxError::WorkspaceFull { .. }), "{err:?}");
    // 1.5 MiB each, 2 MiB of room needed, 8 MiB in all: four runs fit.
    assert_eq!(done, 4);
    // Room made outside the sandbox is seen at once: the stale figures are walked again.
    std::fs::remove_dir_all(f.path("out/fill0")).expect("rm");
    std::fs::remove_dir_all(f.path("out/fill1")).expect("rm");
    let o = run(10).await.expect("room was made");
    assert_eq!(o.exit_code, Some(0), "{o:?}");
}

// ---------------------------------------------------------------------------------------------
// F7: what runs is what the caller sent or named at call time.

#[tokio::test]
async fn f7_inline_code_runs_whatever_the_file_holds() {
    let f = Fixture::new();
    let path = f.script("inline", "print('ON DISK')\n");
    let o = f
        .checked(
            RunRequest {
                script: path,
                data: "data/logs.json".into(),
                output_dir: "out/inline".into(),
                code: Some("print('SENT')\n".into()),
            },
            SandboxLimits::default(),
        )
        .await
        .expect("run");
    assert_eq!(o.stdout.text, "SENT\n", "{o:?}");
}

#[tokio::test]
async fn f7_a_concurrent_rename_over_the_script_cannot_swap_it() {
    let f = Fixture::new();
    // Under out/, which the fixture's before/after snapshots leave out: the swapping below is
    // the test's own change to the workspace.
    let path = "out/racer/race.py".to_owned();
    let target = f.path(&path);
    std::fs::create_dir_all(target.parent().expect("dir")).expect("mkdir");
    std::fs::write(&target, "print('SWAPPED')\n").expect("write");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    // Another caller saving its own script at the same path, as fast as it can (write a
    // temporary file, rename it over), for as long as the runs last.
    let swapper = {
        let stop = stop.clone();
        let dir = target.parent().expect("dir").to_owned();
        std::thread::spawn(move || {
            let mut n = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let tmp = dir.join(format!(".swap-{n}"));
                std::fs::write(&tmp, format!("print('SWAPPED {n}')\n")).expect("write");
                std::fs::rename(&tmp, &target).expect("rename");
                n += 1;
            }
            n
        })
    };
    for i in 0..10 {
        let o = f
            .checked(
                RunRequest {
                    script: path.clone(),
                    data: "data/logs.json".into(),
                    output_dir: format!("out/race{i}"),
                    code: Some(format!(
                        "import sys, time\ntime.sleep(0.05)\nprint(open(sys.argv[0]).read().count('MINE'), 'MINE {i}')\n"
                    )),
                },
                SandboxLimits::default(),
            )
            .await
            .expect("run");
        assert_eq!(o.stdout.text, format!("2 MINE {i}\n"), "{o:?}");
    }
    // A named script is sealed when the call opens it: it sees one whole version, and re-reading
    // its own file later gives the same bytes, whatever was renamed over the path meanwhile.
    for i in 0..5 {
        let o = f
            .checked(
                RunRequest {
                    script: path.clone(),
                    data: "data/logs.json".into(),
                    output_dir: format!("out/named{i}"),
                    code: None,
                },
                SandboxLimits::default(),
            )
            .await
            .expect("run");
        assert!(
            o.stdout.text.starts_with("SWAPPED") && o.stdout.text.lines().count() == 1,
            "{o:?}"
        );
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let swaps = swapper.join().expect("swapper");
    assert!(swaps > 10, "only {swaps} swaps happened");
}

#[tokio::test]
async fn f7_the_running_script_cannot_change_its_own_sealed_copy() {
    let f = Fixture::new();
    let body = r#"
import fcntl
attempt("write_self", lambda: os.write(os.open(sys.argv[0], os.O_WRONLY), b"x"))
attempt("truncate_self", lambda: os.truncate(sys.argv[0], 0))
attempt("unseal_self", lambda: fcntl.fcntl(os.open(sys.argv[0], os.O_RDONLY), 1033, 0x1))
attempt("write_data", lambda: os.write(os.open(sys.argv[1], os.O_WRONLY), b"x"))
"#;
    let (o, _) = f.run("sealed", body).await;
    assert_denied(
        &o,
        &["write_self", "truncate_self", "unseal_self", "write_data"],
    );
}

// ---------------------------------------------------------------------------------------------
// Small: "stdlib only" is true.

/// A top-level module installed in one of the host interpreter's site folders, if any.
fn a_site_module() -> Option<(String, String)> {
    let out = std::process::Command::new(opsmcp_sandbox::PYTHON)
        .args([
            "-I",
            "-c",
            "import site, os\nfor d in site.getsitepackages():\n  if os.path.isdir(d):\n    for n in sorted(os.listdir(d)):\n      p = os.path.join(d, n)\n      if n.isidentifier() and os.path.isfile(os.path.join(p, '__init__.py')):\n        print(n, d); raise SystemExit\n",
        ])
        .output()
        .ok()?;
    let line = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let (name, dir) = line.split_once(' ')?;
    Some((name.to_owned(), dir.to_owned()))
}

#[tokio::test]
async fn small_only_the_standard_library_is_importable() {
    let f = Fixture::new();
    let site = a_site_module();
    eprintln!("site module on this host: {site:?}");
    let (module, dir) = site.unwrap_or(("yaml".into(), "/usr/lib/python3/dist-packages".into()));
    let body = format!(
        r#"
import json, csv, statistics, numbers, io, collections
print("FLAGS", sys.flags.isolated, sys.flags.no_site, "site" in sys.modules, flush=True)
print("PATH", sys.path, flush=True)
assert all(p.startswith(sys.base_prefix) for p in sys.path), sys.path
rows = list(csv.reader(io.StringIO("a,1\nb,2\n")))
assert statistics.mean(int(r[1]) for r in rows) == 1.5
assert isinstance(3, numbers.Integral) and json.loads(json.dumps({{"k": [1]}})) == {{"k": [1]}}
attempt("import_site_module", lambda: __import__({module:?}))
def with_site():
    import site
    site.main()
    sys.path.append({dir:?})
    return __import__({module:?})
attempt("site_main_then_import", with_site)
attempt("list_site_dir", lambda: os.listdir({dir:?}))
exit(0)
"#
    );
    let (o, _) = f.run("stdlib", &body).await;
    assert_eq!(o.exit_code, Some(0), "{o:?}");
    assert!(
        o.stdout.text.contains("FLAGS 1 1 False"),
        "{}",
        o.stdout.text
    );
    assert_denied(
        &o,
        &[
            "import_site_module",
            "site_main_then_import",
            "list_site_dir",
        ],
    );
    assert!(
        o.layers.iter().any(|l| l == "python-stdlib-only"),
        "{:?}",
        o.layers
    );
}

#[test]
fn reruns_this_file_as_an_unprivileged_user() {
    if inner() {
        return;
    }
    common::rerun_unprivileged(RERUN_UID, &["f1_", "f2_", "f3_", "f7_", "small_"], 21);
}
