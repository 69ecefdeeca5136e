//! Hostile scripts: each asserts the denial and (through `Fixture::run`) that nothing outside the
//! output folder changed. Runs as whatever user runs the tests (root in CI); see
//! `unprivileged.rs` for the same checks with the server unprivileged.

mod common;

use std::io::ErrorKind;
use std::os::unix::fs::symlink;

use common::{CONFIG_SECRET, Fixture, SSH_SECRET, assert_denied, each_denied};
use opsmcp_sandbox::{Limit, SandboxError, SandboxLimits};

#[tokio::test]
async fn reading_secrets_outside_the_workspace_is_denied() {
    let f = Fixture::new();
    let ssh = f.canary.path().join("home/.ssh/id_ed25519");
    let cfg = f.canary.path().join("server.toml");
    let body = format!(
        r#"
attempt("shadow", lambda: open("/etc/shadow").read())
attempt("passwd", lambda: open("/etc/passwd").read())
attempt("ssh", lambda: open({ssh:?}).read())
attempt("ssh_listdir", lambda: os.listdir({home:?}))
attempt("config", lambda: open({cfg:?}).read())
attempt("environ", lambda: open("/proc/1/environ", "rb").read())
attempt("parent_environ", lambda: open(f"/proc/{{os.getppid()}}/environ", "rb").read())
attempt("self_fd_list", lambda: os.listdir("/proc/self/fd"))
attempt("workspace_list", lambda: os.listdir({ws:?}))
"#,
        home = f.canary.path().join("home/.ssh"),
        ws = f.ws.path(),
    );
    let outputs = each_denied(&f, "", &body).await;
    assert_eq!(outputs.len(), 9);
    assert!(
        outputs
            .iter()
            .all(|o| !o.contains(SSH_SECRET) && !o.contains(CONFIG_SECRET))
    );
}

#[tokio::test]
async fn writing_outside_the_output_folder_is_denied() {
    let f = Fixture::new();
    let tmp_target = format!("/tmp/opsmcp-sandbox-escape-{}", std::process::id());
    let body = format!(
        r#"
attempt("tmp", lambda: open({tmp:?}, "w").write("x"))
attempt("beside_script", lambda: open({beside:?}, "w").write("x"))
attempt("overwrite_script", lambda: open({script:?}, "a").write("x"))
attempt("overwrite_data", lambda: open({data:?}, "w").write("x"))
attempt("overwrite_data_fd", lambda: os.write(os.open(sys.argv[1], os.O_RDWR), b"x"))
attempt("overwrite_script_fd", lambda: os.write(os.open(sys.argv[0], os.O_RDWR), b"x"))
attempt("truncate_script_fd", lambda: os.truncate(sys.argv[0], 0))
attempt("canary", lambda: open({canary:?}, "w").write("x"))
attempt("symlink_out", lambda: os.symlink("/etc/shadow", "shadow_link"))
attempt("fifo", lambda: os.mkfifo("pipe"))
attempt("mkdir_up", lambda: os.mkdir("../escaped"))
attempt("rename_up", lambda: (open("moved", "w").close(), os.rename("moved", "../moved")))
attempt("chmod_ws", lambda: os.chmod({ws:?}, 0o777))
attempt("setuid_chmod", lambda: (open("s", "w").close(), os.chmod("s", 0o4755)))
attempt("setgid_create", lambda: os.open("g", os.O_CREAT | os.O_WRONLY, 0o2755))
"#,
        tmp = tmp_target,
        beside = f.path("scripts/evil.py"),
        script = f.path("scripts/overwrite_script.py"),
        data = f.path("data/logs.json"),
        canary = f.canary.path().join("server.toml"),
        ws = f.ws.path(),
    );
    assert_eq!(each_denied(&f, "", &body).await.len(), 15);
    assert!(!std::path::Path::new(&tmp_target).exists());
}

#[tokio::test]
async fn network_is_unreachable() {
    let f = Fixture::new();
    let tcp = std::net::TcpListener::bind("127.0.0.1:0").expect("tcp");
    tcp.set_nonblocking(true).expect("nonblocking");
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").expect("udp");
    udp.set_nonblocking(true).expect("nonblocking");
    let sock_path = f.canary.path().join("agent.sock");
    let unix = std::os::unix::net::UnixListener::bind(&sock_path).expect("unix");
    unix.set_nonblocking(true).expect("nonblocking");
    let abstract_name = format!("opsmcp-sandbox-test-{}", std::process::id());
    let abs_addr =
        <std::os::unix::net::SocketAddr as std::os::linux::net::SocketAddrExt>::from_abstract_name(
            abstract_name.as_bytes(),
        )
        .expect("abstract");
    let abs = std::os::unix::net::UnixListener::bind_addr(&abs_addr).expect("abstract bind");
    abs.set_nonblocking(true).expect("nonblocking");
    let body = format!(
        r#"
attempt("tcp", lambda: socket.create_connection(("127.0.0.1", {tport}), timeout=3))
attempt("udp", lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"leak", ("127.0.0.1", {uport})))
attempt("dns", lambda: socket.getaddrinfo("example.com", 443))
attempt("unix", lambda: unix({path:?}))
attempt("abstract", lambda: unix("\0{abstract_name}"))
attempt("socketpair", lambda: socket.socketpair())
attempt("bind", lambda: socket.create_server(("127.0.0.1", 0)))
attempt("http", lambda: urllib.request.urlopen("http://127.0.0.1:{tport}/", timeout=3).read())
"#,
        tport = tcp.local_addr().expect("addr").port(),
        uport = udp.local_addr().expect("addr").port(),
        path = sock_path,
    );
    let setup = r#"
import socket, urllib.request
def unix(addr):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(addr)
    return s.send(b"leak")
"#;
    assert_eq!(each_denied(&f, setup, &body).await.len(), 8);
    assert_eq!(
        tcp.accept().err().map(|e| e.kind()),
        Some(ErrorKind::WouldBlock),
        "the TCP listener got a connection"
    );
    let mut buf = [0u8; 16];
    assert_eq!(
        udp.recv(&mut buf).err().map(|e| e.kind()),
        Some(ErrorKind::WouldBlock),
        "a datagram arrived"
    );
    assert_eq!(
        unix.accept().err().map(|e| e.kind()),
        Some(ErrorKind::WouldBlock),
        "the UNIX listener got a connection"
    );
    assert_eq!(
        abs.accept().err().map(|e| e.kind()),
        Some(ErrorKind::WouldBlock),
        "the abstract listener got a connection"
    );
}

#[tokio::test]
async fn kernel_attack_surface_is_denied() {
    let f = Fixture::new();
    let setup = r#"
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
def call(name, *args):
    r = getattr(libc, name)(*args)
    if r == -1:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    return r
"#;
    // The server's real pid (the script's own parent pid is 0: it is PID 1 of its namespace).
    let setup = format!("{setup}\nSERVER = {}\n", std::process::id());
    let setup = setup.as_str();
    let body = r#"
attempt("ptrace_attach_parent", lambda: call("ptrace", 16, SERVER, None, None))
attempt("ptrace_traceme", lambda: call("ptrace", 0, 0, None, None))
attempt("mount", lambda: call("mount", b"none", b".", b"tmpfs", 0, None))
attempt("unshare_user", lambda: call("unshare", 0x10000000))
attempt("unshare_net", lambda: call("unshare", 0x40000000))
attempt("chroot", lambda: call("chroot", b"."))
attempt("setsid", lambda: os.setsid())
attempt("setpgid", lambda: os.setpgid(0, 0))
attempt("setuid_root", lambda: os.setuid(0))
attempt("signal_server", lambda: os.kill(SERVER, 0))
attempt("signal_everyone", lambda: os.kill(-1, 0))
attempt("bpf", lambda: call("syscall", 321, 0, None, 0))
attempt("io_uring", lambda: call("syscall", 425, 8, None))
attempt("keyctl", lambda: call("syscall", 250, 0, -3, 0))
attempt("clone_newuser", lambda: call("syscall", 56, 0x10000000 | 17, None, None, None, None))
"#;
    assert_eq!(each_denied(&f, setup, body).await.len(), 15);
}

#[tokio::test]
async fn only_standard_streams_and_the_inputs_are_open() {
    let f = Fixture::new();
    let body = r#"
open_fds = []
for fd in range(0, 4096):
    try:
        os.fstat(fd)
        open_fds.append(fd)
    except OSError:
        pass
inputs = sorted(int(p.rsplit("/", 1)[1]) for p in sys.argv[:2])
print("FDS", open_fds)
print("INPUTS", inputs)
assert open_fds == [0, 1, 2] + inputs, (open_fds, inputs)
print("OK")
"#;
    let (o, _) = f.run("fds", body).await;
    assert_eq!(
        o.exit_code,
        Some(0),
        "stdout:\n{}\nstderr:\n{}",
        o.stdout.text,
        o.stderr.text
    );
    assert!(o.stdout.text.contains("OK"));
}

#[tokio::test]
async fn a_planted_json_module_is_not_imported() {
    let f = Fixture::new();
    std::fs::write(
        f.path("scripts/json.py"),
        "raise SystemExit('PLANTED json.py WAS IMPORTED')\n",
    )
    .expect("plant");
    std::fs::write(
        f.path("json.py"),
        "raise SystemExit('PLANTED json.py WAS IMPORTED')\n",
    )
    .expect("plant");
    let body = r#"
open("csv.py", "w").write("raise SystemExit('PLANTED csv.py WAS IMPORTED')\n")
import json, csv
print("JSON", json.__file__)
print("CSV", csv.__file__)
print("PATH", sys.path)
print("FLAGS", sys.flags.isolated, sys.flags.dont_write_bytecode)
"#;
    let (o, _) = f.run("planted", body).await;
    assert_eq!(o.exit_code, Some(0), "stderr:\n{}", o.stderr.text);
    assert!(
        o.stdout.text.contains("JSON /usr/lib/python3"),
        "{}",
        o.stdout.text
    );
    assert!(
        o.stdout.text.contains("CSV /usr/lib/python3"),
        "{}",
        o.stdout.text
    );
    assert!(o.stdout.text.contains("FLAGS 1 1"), "{}", o.stdout.text);
    assert!(!o.stdout.text.contains("PLANTED"));
}

#[tokio::test]
async fn fork_bomb_hits_the_process_limit() {
    let f = Fixture::new();
    let limits = SandboxLimits {
        max_processes: 16,
        ..SandboxLimits::default()
    };
    let body = r#"
import time
kids = []
while True:
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        time.sleep(600)
        os._exit(0)
    kids.append(pid)
    print("KID", pid, flush=True)
"#;
    let (o, _) = f.run_with("forkbomb", body, limits).await;
    assert_eq!(
        o.limit_hit,
        Some(Limit::Processes),
        "stdout:\n{}\nstderr:\n{}",
        o.stdout.text,
        o.stderr.text
    );
    let kids: Vec<i32> = o
        .stdout
        .text
        .lines()
        .filter_map(|l| l.strip_prefix("KID "))
        .filter_map(|p| p.trim().parse().ok())
        .collect();
    assert!(
        !kids.is_empty() && kids.len() < 16,
        "{} children",
        kids.len()
    );
    // The pids are the run's namespace's; `Fixture::run` has checked that no process of the
    // run is left on the server.
}

#[tokio::test]
async fn cpu_spin_hits_the_cpu_limit() {
    let f = Fixture::new();
    let limits = SandboxLimits {
        cpu_seconds: 1,
        wall_seconds: 60,
        ..SandboxLimits::default()
    };
    let (o, _) = f.run_with("spin", "while True:\n    pass\n", limits).await;
    assert_eq!(o.limit_hit, Some(Limit::Cpu), "{o:?}");
    // SIGXCPU from RLIMIT_CPU, or SIGKILL from the run monitor, whichever comes first; the
    // interpreter is PID 1 of its namespace, which ignores SIGXCPU, so usually the monitor.
    assert!(matches!(o.signal, Some(SIGXCPU) | Some(9)), "{o:?}");
}

const SIGXCPU: i32 = 24;

#[tokio::test]
async fn memory_balloon_hits_the_memory_limit() {
    let f = Fixture::new();
    let limits = SandboxLimits {
        memory_mb: 256,
        ..SandboxLimits::default()
    };
    let (o, _) = f
        .run_with(
            "balloon",
            "b = bytearray(1024 * 1024 * 1024)\nprint('ALLOCATED')\n",
            limits,
        )
        .await;
    assert_eq!(o.limit_hit, Some(Limit::Memory), "{o:?}");
    assert!(!o.stdout.text.contains("ALLOCATED"));
}

#[tokio::test]
async fn output_flood_hits_the_output_cap() {
    let f = Fixture::new();
    let limits = SandboxLimits {
        max_output_kb: 16,
        ..SandboxLimits::default()
    };
    let (o, _) = f
        .run_with("flood", "while True:\n    print('x' * 1000)\n", limits)
        .await;
    assert_eq!(o.limit_hit, Some(Limit::Output), "{:?}", o.limit_hit);
    assert!(o.stdout.truncated);
    assert!(o.stdout.text.len() + o.stderr.text.len() <= 16 * 1024);
    assert_eq!(o.signal, Some(9));
}

#[tokio::test]
async fn endless_sleep_hits_the_wall_limit() {
    let f = Fixture::new();
    let limits = SandboxLimits {
        wall_seconds: 2,
        ..SandboxLimits::default()
    };
    let (o, _) = f
        .run_with("sleep", "import time\ntime.sleep(3600)\n", limits)
        .await;
    assert_eq!(o.limit_hit, Some(Limit::Wall), "{o:?}");
    assert_eq!(o.signal, Some(9));
}

#[tokio::test]
async fn big_file_hits_the_file_size_limit() {
    let f = Fixture::new();
    let limits = SandboxLimits {
        max_file_mb: 1,
        ..SandboxLimits::default()
    };
    let body = "attempt('big', lambda: open('big.bin', 'wb').write(b'x' * (2 * 1024 * 1024)))\n";
    let (o, out) = f.run_with("bigfile", body, limits).await;
    assert_eq!(o.limit_hit, Some(Limit::FileSize), "{o:?}");
    let big = o
        .files_written
        .iter()
        .find(|w| w.path == format!("{out}/big.bin"))
        .expect("big.bin listed");
    assert!(big.bytes <= 1024 * 1024);
}

#[tokio::test]
async fn a_double_forked_daemon_does_not_outlive_the_run() {
    let f = Fixture::new();
    let body = r#"
import time
if os.fork() == 0:
    attempt("setsid", lambda: os.setsid())
    if os.fork() == 0:
        with open("daemon.pid.tmp", "w") as fh:
            fh.write(str(os.getpid()))
        os.rename("daemon.pid.tmp", "daemon.pid")
        while True:
            time.sleep(1)
    os._exit(0)
for _ in range(200):
    if os.path.exists("daemon.pid"):
        break
    time.sleep(0.05)
print("PARENT EXITS", flush=True)
"#;
    let (o, out) = f.run("daemon", body).await;
    assert_denied(&o, &["setsid"]);
    assert_eq!(o.exit_code, Some(0), "stderr:\n{}", o.stderr.text);
    let pid: i32 = std::fs::read_to_string(f.path(&format!("{out}/daemon.pid")))
        .expect("the daemon wrote its pid")
        .trim()
        .parse()
        .expect("pid");
    // A pid of the run's namespace; `Fixture::run` has checked that no process of the run is
    // left on the server.
    assert!(pid > 1, "{pid}");
}

#[tokio::test]
async fn bad_paths_are_refused_with_a_clear_error_and_nothing_runs() {
    let f = Fixture::new();
    let good = f.script("good", "open('RAN', 'w').write('x')\n");
    let linked = f.script("linked", "open('RAN', 'w').write('x')\n");
    let data = "data/logs.json";
    symlink(f.path(&good), f.path("scripts/link.py")).expect("symlink");
    symlink(f.path("scripts"), f.path("scriptdir")).expect("symlink");
    symlink(f.path(data), f.path("data/link.json")).expect("symlink");
    symlink("/etc/passwd", f.path("data/passwd.json")).expect("symlink");
    std::fs::hard_link(f.path(&linked), f.path("scripts/hard.py")).expect("hard link");
    std::fs::write(f.path("data/twice.json"), "[]").expect("write");
    std::fs::hard_link(f.path("data/twice.json"), f.path("data/twice2.json")).expect("hard link");
    let fifo = std::ffi::CString::new(
        f.path("scripts/fifo.py")
            .into_os_string()
            .into_encoded_bytes(),
    )
    .expect("c");
    // SAFETY: a NUL-terminated path.
    assert_eq!(unsafe { libc_mkfifo(fifo.as_ptr(), 0o644) }, 0);
    let fifo_data = std::ffi::CString::new(
        f.path("data/fifo.json")
            .into_os_string()
            .into_encoded_bytes(),
    )
    .expect("c");
    // SAFETY: a NUL-terminated path.
    assert_eq!(unsafe { libc_mkfifo(fifo_data.as_ptr(), 0o644) }, 0);

    let cases: Vec<Case> = vec![
        (
            "scripts/link.py",
            data,
            "o1",
            |e| {
                matches!(
                    e,
                    SandboxError::Symlink {
                        field: "script",
                        ..
                    }
                )
            },
            "symbolic link",
        ),
        (
            "scriptdir/good.py",
            data,
            "o2",
            |e| {
                matches!(
                    e,
                    SandboxError::Symlink {
                        field: "script",
                        ..
                    }
                )
            },
            "symbolic link",
        ),
        (
            &good,
            "data/link.json",
            "o3",
            |e| matches!(e, SandboxError::Symlink { field: "data", .. }),
            "symbolic link",
        ),
        (
            &good,
            "data/passwd.json",
            "o4",
            |e| matches!(e, SandboxError::Symlink { field: "data", .. }),
            "symbolic link",
        ),
        (
            "scripts/hard.py",
            data,
            "o5",
            |e| {
                matches!(
                    e,
                    SandboxError::HardLinked {
                        field: "script",
                        links: 2,
                        ..
                    }
                )
            },
            "hard links",
        ),
        (
            &good,
            "data/twice.json",
            "o6",
            |e| matches!(e, SandboxError::HardLinked { field: "data", .. }),
            "hard links",
        ),
        (
            "scripts/fifo.py",
            data,
            "o7",
            |e| {
                matches!(
                    e,
                    SandboxError::NotRegularFile {
                        field: "script",
                        ..
                    }
                )
            },
            "FIFO",
        ),
        (
            &good,
            "data/fifo.json",
            "o8",
            |e| matches!(e, SandboxError::NotRegularFile { field: "data", .. }),
            "FIFO",
        ),
        (
            "../good.py",
            data,
            "o9",
            |e| {
                matches!(
                    e,
                    SandboxError::ParentComponent {
                        field: "script",
                        ..
                    }
                )
            },
            "\"..\"",
        ),
        (
            "scripts/../scripts/good.py",
            data,
            "o10",
            |e| matches!(e, SandboxError::ParentComponent { .. }),
            "\"..\"",
        ),
        (
            &good,
            "../../etc/passwd",
            "o11",
            |e| matches!(e, SandboxError::ParentComponent { field: "data", .. }),
            "\"..\"",
        ),
        (
            "/etc/passwd",
            data,
            "o12",
            |e| {
                matches!(
                    e,
                    SandboxError::AbsolutePath {
                        field: "script",
                        ..
                    }
                )
            },
            "absolute",
        ),
        (
            &good,
            "/etc/shadow",
            "o13",
            |e| matches!(e, SandboxError::AbsolutePath { field: "data", .. }),
            "absolute",
        ),
        (
            "scripts/missing.py",
            data,
            "o14",
            |e| {
                matches!(
                    e,
                    SandboxError::NotFound {
                        field: "script",
                        ..
                    }
                )
            },
            "does not exist",
        ),
        (
            &good,
            "data/missing.json",
            "o15",
            |e| matches!(e, SandboxError::NotFound { field: "data", .. }),
            "does not exist",
        ),
        (
            "scripts",
            data,
            "o16",
            |e| {
                matches!(
                    e,
                    SandboxError::NotRegularFile {
                        field: "script",
                        ..
                    }
                )
            },
            "folder",
        ),
        (
            &good,
            data,
            "../o17",
            |e| {
                matches!(
                    e,
                    SandboxError::ParentComponent {
                        field: "output_dir",
                        ..
                    }
                )
            },
            "\"..\"",
        ),
        (
            &good,
            data,
            "/tmp/o18",
            |e| {
                matches!(
                    e,
                    SandboxError::AbsolutePath {
                        field: "output_dir",
                        ..
                    }
                )
            },
            "absolute",
        ),
        (
            &good,
            data,
            "scripts",
            |e| matches!(e, SandboxError::OutputExists { .. }),
            "already exists",
        ),
        (
            &good,
            data,
            "scriptdir/o20",
            |e| {
                matches!(
                    e,
                    SandboxError::Symlink {
                        field: "output_dir",
                        ..
                    }
                )
            },
            "symbolic link",
        ),
        (
            "",
            data,
            "o21",
            |e| {
                matches!(
                    e,
                    SandboxError::InvalidPath {
                        field: "script",
                        ..
                    }
                )
            },
            "empty",
        ),
    ];
    for (script, data, out, check, words) in cases {
        let err = f.refused(script, data, out).await;
        assert!(check(&err), "({script}, {data}, {out}) gave {err:?}");
        let msg = err.to_string();
        assert!(
            msg.contains(words) && msg.contains("send"),
            "({script}, {data}, {out}): unclear message: {msg}"
        );
        assert!(
            !f.path(out).exists() || out == "scripts",
            "{out} was created by a refused run"
        );
    }
    assert!(!f.path("scripts/RAN").exists());
}

/// (script, data, output_dir, expected error, words the message must contain).
type Case<'a> = (
    &'a str,
    &'a str,
    &'a str,
    fn(&SandboxError) -> bool,
    &'a str,
);

unsafe extern "C" {
    #[link_name = "mkfifo"]
    fn libc_mkfifo(path: *const std::ffi::c_char, mode: u32) -> i32;
}
