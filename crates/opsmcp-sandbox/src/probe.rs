//! What this kernel and this process allow: probed once and cached, shown in `/health`.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde::Serialize;

/// The confinement layers this machine supports, as probed at first use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Layers {
    /// Landlock ABI version (0: Landlock absent or disabled at boot). ≥1 is required; ≥4 adds
    /// TCP bind/connect rules; ≥6 adds scoping of abstract UNIX sockets and signals.
    pub landlock_abi: u32,
    /// Seccomp filters with `SECCOMP_RET_ERRNO` are available.
    pub seccomp: bool,
    /// The server runs as root: the script drops to uid/gid 65534 (nobody) and its namespaces
    /// are created directly; otherwise a user namespace owns them and maps uid/gid 65534 inside
    /// onto the server's own ids.
    pub running_as_root: bool,
    /// A fresh network namespace could be created for a child (as root: `CLONE_NEWNET`;
    /// otherwise: `CLONE_NEWUSER | CLONE_NEWNET`).
    pub network_namespace: bool,
    /// Fresh PID, IPC and mount namespaces could be created too: the script is PID 1 of a
    /// namespace of its own, sees and reaches no process outside the run, and when it exits the
    /// kernel kills and reaps everything the run started.
    pub pid_namespace: bool,
    /// A size- and inode-limited tmpfs could be made (`fsopen`/`fsmount`) and mounted over the
    /// output folder in the run's mount namespace: the run's disk quota.
    pub output_tmpfs: bool,
    /// The interpreter `/usr/bin/python3` exists and reported its standard library paths.
    pub python: bool,
    /// No `site-packages`/`dist-packages` folder lies beneath a path Landlock lets the script
    /// read, so the script can import the standard library and nothing else.
    pub python_stdlib_only: bool,
    /// A cgroup v2 folder under which each run gets a cgroup of its own, when the host delegates
    /// one (`None`: limits for the run as a whole are enforced by the run monitor instead).
    pub cgroup: Option<String>,
    /// The controllers enabled for the runs' cgroups (`memory`, `pids`, `cpu`); without a
    /// controller its limit falls back to the run monitor (memory) or `RLIMIT_NPROC` (pids).
    pub cgroup_controllers: Vec<String>,
    /// Controllers v2 does not offer for which each run gets a cgroup v1 (a hybrid host, server
    /// as root): `memory` (`memory.limit_in_bytes`), `pids`.
    pub cgroup_v1_controllers: Vec<String>,
    /// The v1 folders under which runs get those cgroups.
    pub cgroup_v1: Vec<String>,
}

impl Layers {
    /// Why a run must be refused on this machine, or `None` when every required layer is there.
    pub fn missing(&self) -> Option<String> {
        if self.landlock_abi == 0 {
            return Some(format!(
                "Landlock is not available on this kernel (ABI {})",
                self.landlock_abi
            ));
        }
        if !self.seccomp {
            return Some("seccomp filters are not available on this kernel".to_owned());
        }
        if !self.network_namespace {
            return Some(if self.running_as_root {
                "a network namespace cannot be created (unshare CLONE_NEWNET failed)".to_owned()
            } else {
                "a network namespace cannot be created without root (unprivileged user namespaces are disabled; \
                 run the server as root or allow user namespaces)"
                    .to_owned()
            });
        }
        if !self.pid_namespace {
            return Some(
                "PID, IPC and mount namespaces cannot be created for a script (unshare \
                 CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWNS failed), so a script could reach \
                 processes outside its run"
                    .to_owned(),
            );
        }
        if !self.output_tmpfs {
            return Some(
                "a private tmpfs cannot be mounted for the run's output folder (fsopen/fsmount \
                 of tmpfs failed; user namespaces may be restricted by an LSM), so the run's \
                 disk quota cannot hold"
                    .to_owned(),
            );
        }
        if !self.python {
            return Some(format!(
                "the interpreter {} does not exist or did not report its standard library",
                crate::PYTHON
            ));
        }
        None
    }

    /// The names of the layers a run gets on this machine, in the order they are applied.
    pub fn active(&self) -> Vec<String> {
        let mut v = vec![
            "pid-namespace".to_owned(),
            "ipc-namespace".to_owned(),
            "mount-namespace".to_owned(),
            "closed-fds".to_owned(),
        ];
        if self.running_as_root {
            v.push("netns".to_owned());
        } else {
            v.push("userns+netns".to_owned());
        }
        v.push("tmpfs-output-quota".to_owned());
        if self.cgroup.is_some() {
            v.push(format!("cgroup-v2[{}]", self.cgroup_controllers.join(",")));
        }
        if !self.cgroup_v1_controllers.is_empty() {
            v.push(format!(
                "cgroup-v1[{}]",
                self.cgroup_v1_controllers.join(",")
            ));
        }
        if !self.cgroup_controllers.iter().any(|c| c == "memory")
            && !self.cgroup_v1_controllers.iter().any(|c| c == "memory")
        {
            v.push("run-monitor[memory]".to_owned());
        }
        if self.cgroup.is_none() {
            v.push("run-monitor[cpu-time]".to_owned());
        }
        if self.running_as_root {
            v.push("uid-drop-65534".to_owned());
        } else {
            v.push("uid-65534-in-userns".to_owned());
        }
        v.push("pdeathsig".to_owned());
        v.push("rlimits".to_owned());
        v.push("no-new-privs".to_owned());
        v.push(format!("landlock-fs-abi{}", self.landlock_abi));
        if self.landlock_abi >= 4 {
            v.push("landlock-net-tcp".to_owned());
        }
        if self.landlock_abi >= 6 {
            v.push("landlock-scope".to_owned());
        }
        v.push("seccomp".to_owned());
        v.push("python-isolated-no-site".to_owned());
        if self.python_stdlib_only {
            v.push("python-stdlib-only".to_owned());
        }
        v
    }
}

/// Where the interpreter keeps what a script may load.
#[derive(Debug, Clone, Default)]
pub(crate) struct PythonPaths {
    /// Paths Landlock lets the script read and execute: the interpreter binary, the standard
    /// library (with `lib-dynload`), the shared libraries, the loader and a few data folders.
    pub(crate) read_exec: Vec<PathBuf>,
    /// `site-packages`/`dist-packages` folders that lie beneath one of `read_exec`.
    pub(crate) reachable_site_dirs: Vec<PathBuf>,
}

/// Probes the kernel once per process.
pub(crate) fn probe() -> &'static Layers {
    static LAYERS: OnceLock<Layers> = OnceLock::new();
    LAYERS.get_or_init(|| {
        let root = rustix::process::geteuid().is_root();
        let ns = namespaces_possible(root);
        let python = python_paths();
        let cgroup = crate::cgroup::base();
        let layers = Layers {
            landlock_abi: landlock_abi(),
            seccomp: seccomp_available(),
            running_as_root: root,
            network_namespace: ns >= NsProbe::Net,
            pid_namespace: ns >= NsProbe::PidIpcMount,
            output_tmpfs: ns >= NsProbe::Tmpfs,
            python: python.is_some(),
            python_stdlib_only: python
                .as_ref()
                .is_some_and(|p| p.reachable_site_dirs.is_empty()),
            cgroup: cgroup.map(|c| c.dir.display().to_string()),
            cgroup_controllers: cgroup.map(|c| c.controllers.clone()).unwrap_or_default(),
            cgroup_v1_controllers: crate::cgroup::v1().controllers(),
            cgroup_v1: crate::cgroup::v1().dirs(),
        };
        tracing::info!(?layers, "sandbox layers probed");
        layers
    })
}

/// The interpreter's paths, probed once (`None` when it cannot be run).
pub(crate) fn python_paths() -> Option<&'static PythonPaths> {
    static PATHS: OnceLock<Option<PythonPaths>> = OnceLock::new();
    PATHS.get_or_init(probe_python).as_ref()
}

/// `landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION)`: the ABI version, or an
/// error when Landlock is absent. Probed with the syscall, not securityfs, which may be unmounted.
fn landlock_abi() -> u32 {
    const LANDLOCK_CREATE_RULESET_VERSION: libc::c_uint = 1;
    // SAFETY: the documented probing form of the syscall: null attributes, size 0.
    let r = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<libc::c_void>(),
            0usize,
            LANDLOCK_CREATE_RULESET_VERSION,
        )
    };
    u32::try_from(r).unwrap_or(0)
}

/// `seccomp(SECCOMP_GET_ACTION_AVAIL, 0, &SECCOMP_RET_ERRNO)` succeeds where filters can return
/// an errno.
fn seccomp_available() -> bool {
    const SECCOMP_GET_ACTION_AVAIL: libc::c_uint = 2;
    const SECCOMP_RET_ERRNO: u32 = 0x0005_0000;
    let action: u32 = SECCOMP_RET_ERRNO;
    // SAFETY: passes a pointer to a live u32, as the call expects.
    let r = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            SECCOMP_GET_ACTION_AVAIL,
            0u32,
            &action as *const u32,
        )
    };
    r == 0
}

/// How far the namespace probe got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum NsProbe {
    Nothing,
    Net,
    PidIpcMount,
    Tmpfs,
}

/// Tries, in a throwaway child of `/bin/true`, what a run does: a network namespace (with a user
/// namespace when unprivileged), then PID, IPC and mount namespaces, then a private tmpfs. The
/// child exits with the number of the step that failed.
fn namespaces_possible(root: bool) -> NsProbe {
    use std::os::unix::process::CommandExt;
    let net = if root {
        libc::CLONE_NEWNET
    } else {
        libc::CLONE_NEWUSER | libc::CLONE_NEWNET
    };
    let rest = libc::CLONE_NEWPID | libc::CLONE_NEWIPC | libc::CLONE_NEWNS;
    let tmpfs = c"tmpfs";
    let slash = c"/";
    let size = c"size";
    let one_mb = c"1m";
    let mut cmd = std::process::Command::new("/bin/true");
    cmd.stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    // SAFETY: the closure only makes async-signal-safe system calls on data prepared before.
    unsafe {
        cmd.pre_exec(move || {
            if libc::unshare(net) != 0 {
                libc::_exit(11);
            }
            if libc::unshare(rest) != 0 {
                libc::_exit(12);
            }
            if libc::mount(
                std::ptr::null(),
                slash.as_ptr(),
                std::ptr::null(),
                libc::MS_REC | libc::MS_PRIVATE,
                std::ptr::null(),
            ) != 0
            {
                libc::_exit(13);
            }
            let fs = libc::syscall(libc::SYS_fsopen, tmpfs.as_ptr(), 1u32) as i32;
            if fs < 0 {
                libc::_exit(13);
            }
            const FSCONFIG_SET_STRING: u32 = 1;
            const FSCONFIG_CMD_CREATE: u32 = 6;
            if libc::syscall(
                libc::SYS_fsconfig,
                fs,
                FSCONFIG_SET_STRING,
                size.as_ptr(),
                one_mb.as_ptr(),
                0,
            ) != 0
                || libc::syscall(
                    libc::SYS_fsconfig,
                    fs,
                    FSCONFIG_CMD_CREATE,
                    std::ptr::null::<u8>(),
                    std::ptr::null::<u8>(),
                    0,
                ) != 0
                || libc::syscall(libc::SYS_fsmount, fs, 1u32, 0u32) < 0
            {
                libc::_exit(13);
            }
            Ok(())
        });
    }
    match cmd.status() {
        Ok(s) => match s.code() {
            Some(0) => NsProbe::Tmpfs,
            Some(11) => NsProbe::Nothing,
            Some(12) => NsProbe::Net,
            Some(13) => NsProbe::PidIpcMount,
            _ => NsProbe::Nothing,
        },
        Err(e) => {
            tracing::warn!(error = %e, "sandbox: namespace probe failed");
            NsProbe::Nothing
        }
    }
}

/// Asks the interpreter (unconfined, once) where its standard library, shared libraries and
/// site folders are, and derives what Landlock lets a script read.
fn probe_python() -> Option<PythonPaths> {
    const CODE: &str = "import os, sys, sysconfig, site\n\
        p = lambda k, v: v and print(k, os.path.realpath(v), sep='\\t')\n\
        p('exe', sys.executable)\n\
        [p('lib', sysconfig.get_path(k)) for k in ('stdlib', 'platstdlib')]\n\
        [p('lib', sysconfig.get_config_var(k)) for k in ('DESTSHARED', 'LIBDIR')]\n\
        [p('site', d) for d in site.getsitepackages()]\n\
        [p('site', sysconfig.get_path(k)) for k in ('purelib', 'platlib')]\n";
    let out = std::process::Command::new(crate::PYTHON)
        .args(["-I", "-S", "-B", "-c", CODE])
        .env_clear()
        .stdin(std::process::Stdio::null())
        .output();
    let out = match out {
        Ok(o) if o.status.success() => o,
        Ok(o) => {
            tracing::warn!(stderr = %String::from_utf8_lossy(&o.stderr), "sandbox: python probe failed");
            return None;
        }
        Err(e) => {
            tracing::warn!(error = %e, "sandbox: python probe failed");
            return None;
        }
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let mut read_exec: Vec<PathBuf> = Vec::new();
    let mut site: Vec<PathBuf> = Vec::new();
    for line in text.lines() {
        let Some((k, v)) = line.split_once('\t') else {
            continue;
        };
        match k {
            "exe" | "lib" => read_exec.push(PathBuf::from(v)),
            "site" => site.push(PathBuf::from(v)),
            _ => {}
        }
    }
    if !read_exec.iter().any(|p| p.is_file()) {
        return None;
    }
    // The ELF loader (its own folder), the loader cache, time zones and the C.UTF-8 locale.
    for extra in [
        "/lib64/ld-linux-x86-64.so.2",
        "/lib/ld-linux-aarch64.so.1",
        "/etc/ld.so.cache",
        "/usr/share/zoneinfo",
        "/usr/lib/locale",
    ] {
        if let Ok(real) = std::fs::canonicalize(extra) {
            let p = if extra.contains("ld-linux") {
                real.parent().map(Path::to_owned).unwrap_or(real)
            } else {
                real
            };
            read_exec.push(p);
        }
    }
    read_exec.retain(|p| p.exists());
    read_exec.sort();
    read_exec.dedup();
    let reachable_site_dirs: Vec<PathBuf> = site
        .into_iter()
        .filter(|s| s.exists() && read_exec.iter().any(|r| s.starts_with(r)))
        .collect();
    if !reachable_site_dirs.is_empty() {
        tracing::warn!(
            dirs = ?reachable_site_dirs,
            "sandbox: site-packages folders lie inside the standard library paths; scripts can \
             import what is installed there"
        );
    }
    Some(PythonPaths {
        read_exec,
        reachable_site_dirs,
    })
}
