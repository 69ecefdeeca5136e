//! What this kernel and this process allow: probed once and cached, shown in `/health`.

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
    /// The server runs as root: the child drops to uid/gid 65534 (nobody) and gets a new network
    /// namespace directly.
    pub running_as_root: bool,
    /// A fresh network namespace could be created for a child (as root: `CLONE_NEWNET`;
    /// otherwise: `CLONE_NEWUSER | CLONE_NEWNET`).
    pub network_namespace: bool,
    /// The interpreter `/usr/bin/python3` exists.
    pub python: bool,
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
        if !self.python {
            return Some(format!("the interpreter {} does not exist", crate::PYTHON));
        }
        None
    }

    /// The names of the layers a run gets on this machine, in the order they are applied.
    pub fn active(&self) -> Vec<String> {
        let mut v = vec![
            "process-group".to_owned(),
            "pdeathsig".to_owned(),
            "closed-fds".to_owned(),
        ];
        if self.running_as_root {
            v.push("netns".to_owned());
            v.push("uid-drop-65534".to_owned());
        } else {
            v.push("userns+netns".to_owned());
        }
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
        v.push("python-isolated".to_owned());
        v
    }
}

/// Probes the kernel once per process.
pub(crate) fn probe() -> &'static Layers {
    static LAYERS: OnceLock<Layers> = OnceLock::new();
    LAYERS.get_or_init(|| {
        let layers = Layers {
            landlock_abi: landlock_abi(),
            seccomp: seccomp_available(),
            running_as_root: rustix::process::geteuid().is_root(),
            network_namespace: netns_possible(),
            python: std::path::Path::new(crate::PYTHON).is_file(),
        };
        tracing::info!(?layers, "sandbox layers probed");
        layers
    })
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

/// Tries the same `unshare` a run does, in a throwaway child of `/bin/true`.
fn netns_possible() -> bool {
    use std::os::unix::process::CommandExt;
    let root = rustix::process::geteuid().is_root();
    let flags = if root {
        libc::CLONE_NEWNET
    } else {
        libc::CLONE_NEWUSER | libc::CLONE_NEWNET
    };
    let mut cmd = std::process::Command::new("/bin/true");
    cmd.stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    // SAFETY: the closure only makes one async-signal-safe syscall.
    unsafe {
        cmd.pre_exec(move || {
            if libc::unshare(flags) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    match cmd.status() {
        Ok(s) => s.success(),
        Err(e) => {
            tracing::warn!(error = %e, "sandbox: network namespace probe failed");
            false
        }
    }
}
