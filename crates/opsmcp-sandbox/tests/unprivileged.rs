//! The same confinement with the server unprivileged. The tests below run as whoever runs the
//! suite; when that is root (CI), `reruns_this_file_as_an_unprivileged_user` also copies this test
//! binary to a world-readable folder (the build folder under `/root` is not) and runs these tests
//! again under `setpriv --reuid=65534 --regid=65534 --clear-groups`, where the child gets
//! a user namespace (and uid 65534 inside it) instead of the uid drop.

mod common;

use std::io::ErrorKind;

use common::{Fixture, INNER, SSH_SECRET, assert_denied, log_entries};
use opsmcp_sandbox::{Limit, Sandbox, SandboxLimits};

/// The tests of this file take turns: as root, the sandboxed children run as uid 65534 and share
/// its process count with the re-executed copy of this binary (also uid 65534), so a fork bomb
/// beside the re-run would see fewer free process slots.
static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// In the re-run, checks that it really is unprivileged and that the run used a user namespace.
fn check_mode(layers: &[String]) {
    if std::env::var_os(INNER).is_some() {
        assert!(
            !Sandbox::probe().running_as_root,
            "the re-run is still root"
        );
        assert!(layers.iter().any(|l| l == "userns+netns"), "{layers:?}");
        assert!(
            !layers.iter().any(|l| l.starts_with("uid-drop")),
            "{layers:?}"
        );
    }
}

#[tokio::test]
async fn unpriv_counts_match() {
    let _turn = TURN.lock().await;
    let f = Fixture::new();
    let body = r#"
import json, collections
entries = json.load(open(sys.argv[1]))
print(json.dumps(collections.Counter(e["service"] for e in entries if e["level"] == "ERROR")))
open("done.txt", "w").write("ok")
"#;
    let (o, out) = f.run("counts", body).await;
    check_mode(&o.layers);
    assert_eq!(o.exit_code, Some(0), "stderr:\n{}", o.stderr.text);
    let got: std::collections::BTreeMap<String, u64> =
        serde_json::from_str(o.stdout.text.trim()).expect("json");
    let mut want = std::collections::BTreeMap::new();
    for (s, l) in log_entries() {
        if l == "ERROR" {
            *want.entry(s).or_insert(0u64) += 1;
        }
    }
    assert_eq!(got, want);
    assert!(
        o.files_written
            .iter()
            .any(|w| w.path == format!("{out}/done.txt"))
    );
}

#[tokio::test]
async fn unpriv_secrets_and_writes_are_denied() {
    let _turn = TURN.lock().await;
    let f = Fixture::new();
    let body = format!(
        r#"
attempt("ssh", lambda: open({ssh:?}).read())
attempt("parent_environ", lambda: open(f"/proc/{{os.getppid()}}/environ", "rb").read())
attempt("tmp", lambda: open("/tmp/opsmcp-unpriv-escape", "w").write("x"))
attempt("beside_script", lambda: open({beside:?}, "w").write("x"))
attempt("signal_server", lambda: os.kill({server}, 0))
attempt("ptrace_parent", lambda: __import__("ctypes").CDLL(None, use_errno=True).ptrace(16, {server}, None, None) == 0 or (_ for _ in ()).throw(OSError("ptrace failed")))
"#,
        server = std::process::id(),
        ssh = f.canary.path().join("home/.ssh/id_ed25519"),
        beside = f.path("scripts/evil.py"),
    );
    let (o, _) = f.run("secrets", &body).await;
    check_mode(&o.layers);
    assert_denied(
        &o,
        &[
            "ssh",
            "parent_environ",
            "tmp",
            "beside_script",
            "signal_server",
            "ptrace_parent",
        ],
    );
    assert!(!o.stdout.text.contains(SSH_SECRET));
}

#[tokio::test]
async fn unpriv_network_is_unreachable() {
    let _turn = TURN.lock().await;
    let f = Fixture::new();
    let tcp = std::net::TcpListener::bind("127.0.0.1:0").expect("tcp");
    tcp.set_nonblocking(true).expect("nonblocking");
    let body = format!(
        "import socket\nattempt(\"tcp\", lambda: socket.create_connection((\"127.0.0.1\", {}), timeout=3))\n",
        tcp.local_addr().expect("addr").port()
    );
    let (o, _) = f.run("tcp", &body).await;
    check_mode(&o.layers);
    assert_denied(&o, &["tcp"]);
    assert_eq!(
        tcp.accept().err().map(|e| e.kind()),
        Some(ErrorKind::WouldBlock)
    );
}

#[tokio::test]
async fn unpriv_fork_bomb_is_contained() {
    let _turn = TURN.lock().await;
    let f = Fixture::new();
    let limits = SandboxLimits {
        max_processes: 16,
        ..SandboxLimits::default()
    };
    let body = r#"
import time
while True:
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        time.sleep(600)
        os._exit(0)
    print("KID", pid, flush=True)
"#;
    let (o, _) = f.run_with("forkbomb", body, limits).await;
    check_mode(&o.layers);
    assert_eq!(
        o.limit_hit,
        Some(Limit::Processes),
        "stderr:\n{}",
        o.stderr.text
    );
    // The pids printed are the run's namespace's; `Fixture::run` has checked that no process
    // of the run is left.
    assert!(o.stdout.text.contains("KID "));
}

#[tokio::test]
async fn unpriv_daemon_does_not_outlive_the_run() {
    let _turn = TURN.lock().await;
    let f = Fixture::new();
    let body = r#"
import time
if os.fork() == 0:
    attempt("setsid", lambda: os.setsid())
    if os.fork() == 0:
        open("daemon.pid.tmp", "w").write(str(os.getpid()))
        os.rename("daemon.pid.tmp", "daemon.pid")
        while True:
            time.sleep(1)
    os._exit(0)
for _ in range(200):
    if os.path.exists("daemon.pid"):
        break
    time.sleep(0.05)
"#;
    let (o, out) = f.run("daemon", body).await;
    check_mode(&o.layers);
    assert_denied(&o, &["setsid"]);
    let pid: i32 = std::fs::read_to_string(f.path(&format!("{out}/daemon.pid")))
        .expect("pid file")
        .trim()
        .parse()
        .expect("pid");
    assert!(pid > 1, "{pid}");
}

#[tokio::test]
async fn unpriv_only_standard_streams_and_inputs_are_open() {
    let _turn = TURN.lock().await;
    let f = Fixture::new();
    let body = r#"
def isopen(fd):
    try:
        os.fstat(fd)
        return True
    except OSError:
        return False
fds = [fd for fd in range(4096) if isopen(fd)]
inputs = sorted(int(p.rsplit("/", 1)[1]) for p in sys.argv[:2])
assert fds == [0, 1, 2] + inputs, (fds, inputs)
print("OK")
"#;
    let (o, _) = f.run("fds", body).await;
    check_mode(&o.layers);
    assert_eq!(o.exit_code, Some(0), "stderr:\n{}", o.stderr.text);
}

#[test]
fn reruns_this_file_as_an_unprivileged_user() {
    if std::env::var_os(INNER).is_some() {
        return;
    }
    let _turn = TURN.blocking_lock();
    common::rerun_unprivileged(65534, &["unpriv_"], 6);
}
