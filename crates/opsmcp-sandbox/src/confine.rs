//! The child's confinement: everything that allocates is built here in the parent
//! ([`ChildPlan::build`]); [`ChildPlan::apply`] runs in the forked child before `execve` and
//! makes only async-signal-safe system calls on memory prepared beforehand.

use std::collections::BTreeMap;
use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use landlock::{
    ABI, Access, AccessFs, AccessNet, PathBeneath, PathFd, Ruleset, RulesetAttr,
    RulesetCreatedAttr, Scope,
};
use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule,
};

use crate::{Layers, SandboxError, SandboxLimits};

/// The uid and gid a root server hands the script (nobody / nogroup).
pub(crate) const SANDBOX_ID: u32 = 65534;

/// Steps of [`ChildPlan::apply`], reported to the parent through a pipe when one fails.
pub(crate) const STEPS: &[&str] = &[
    "setsid",
    "prctl(PR_SET_PDEATHSIG)",
    "parent already gone",
    "close_range",
    "unshare",
    "write /proc/self/setgroups",
    "write /proc/self/uid_map",
    "write /proc/self/gid_map",
    "setgroups",
    "setresgid",
    "setresuid",
    "fchdir to the output folder",
    "setrlimit",
    "prctl(PR_SET_NO_NEW_PRIVS)",
    "landlock_restrict_self",
    "seccomp",
    "clear close-on-exec on the inputs",
];

fn step(name: &str) -> u8 {
    STEPS
        .iter()
        .position(|s| *s == name)
        .map_or(u8::MAX, |i| i as u8)
}

/// System paths the interpreter reads and maps: its binary, the stdlib, shared libraries and the
/// loader cache. Missing ones (no `/lib64` on some architectures) are skipped.
const READ_EXEC_PATHS: &[&str] = &["/usr", "/lib", "/lib64", "/etc/ld.so.cache"];
/// Devices a script may use.
const DEVICES: &[&str] = &["/dev/null", "/dev/zero", "/dev/urandom", "/dev/random"];

/// Syscalls answered with EPERM. Networking (`socket`, `socketpair`), kernel attack surface
/// (io_uring, bpf, perf, keyrings, modules, kexec), other processes' memory (ptrace,
/// process_vm_*), namespaces and mounts, leaving the process group (setsid, setpgid — so a
/// double-forked daemon stays in the group that is killed), and host-wide settings.
fn denied_syscalls() -> Vec<i64> {
    let mut v: Vec<i64> = vec![
        libc::SYS_socket,
        libc::SYS_socketpair,
        libc::SYS_io_uring_setup,
        libc::SYS_io_uring_enter,
        libc::SYS_io_uring_register,
        libc::SYS_ptrace,
        libc::SYS_process_vm_readv,
        libc::SYS_process_vm_writev,
        libc::SYS_mount,
        libc::SYS_umount2,
        libc::SYS_pivot_root,
        libc::SYS_chroot,
        libc::SYS_unshare,
        libc::SYS_setns,
        libc::SYS_bpf,
        libc::SYS_perf_event_open,
        libc::SYS_keyctl,
        libc::SYS_add_key,
        libc::SYS_request_key,
        libc::SYS_kexec_load,
        libc::SYS_kexec_file_load,
        libc::SYS_init_module,
        libc::SYS_finit_module,
        libc::SYS_delete_module,
        libc::SYS_swapon,
        libc::SYS_swapoff,
        libc::SYS_reboot,
        libc::SYS_acct,
        libc::SYS_userfaultfd,
        libc::SYS_open_by_handle_at,
        libc::SYS_name_to_handle_at,
        libc::SYS_fanotify_init,
        libc::SYS_open_tree,
        libc::SYS_move_mount,
        libc::SYS_fsopen,
        libc::SYS_fsconfig,
        libc::SYS_fsmount,
        libc::SYS_fspick,
        libc::SYS_mount_setattr,
        libc::SYS_quotactl,
        libc::SYS_syslog,
        libc::SYS_settimeofday,
        libc::SYS_clock_settime,
        libc::SYS_clock_adjtime,
        libc::SYS_adjtimex,
        libc::SYS_sethostname,
        libc::SYS_setdomainname,
        libc::SYS_vhangup,
        libc::SYS_setsid,
        libc::SYS_setpgid,
    ];
    #[cfg(target_arch = "x86_64")]
    v.extend([libc::SYS_iopl, libc::SYS_ioperm, libc::SYS_uselib]);
    v
}

/// Namespace flags `clone` may not carry.
const CLONE_NS_FLAGS: &[u64] = &[
    libc::CLONE_NEWUSER as u64,
    libc::CLONE_NEWNS as u64,
    libc::CLONE_NEWPID as u64,
    libc::CLONE_NEWNET as u64,
    libc::CLONE_NEWUTS as u64,
    libc::CLONE_NEWIPC as u64,
    libc::CLONE_NEWCGROUP as u64,
];

/// Rules matching when argument `arg` has any of `bits` set (one rule per bit; rules are OR-ed).
fn bit_rules(arg: u8, bits: &[u64]) -> Result<Vec<SeccompRule>, SandboxError> {
    bits.iter()
        .map(|&bit| {
            let cond = SeccompCondition::new(
                arg,
                SeccompCmpArgLen::Qword,
                SeccompCmpOp::MaskedEq(bit),
                bit,
            )
            .map_err(seccomp_err)?;
            SeccompRule::new(vec![cond]).map_err(seccomp_err)
        })
        .collect()
}

/// Syscalls that set a file mode, with the index of the mode argument.
fn mode_syscalls() -> Vec<(i64, u8)> {
    let mut v = vec![
        (libc::SYS_fchmod, 1),
        (libc::SYS_fchmodat, 2),
        (libc::SYS_openat, 3),
        (libc::SYS_mkdirat, 2),
        (libc::SYS_mknodat, 3),
    ];
    #[cfg(target_arch = "x86_64")]
    v.extend([
        (libc::SYS_chmod, 1),
        (libc::SYS_open, 2),
        (libc::SYS_creat, 1),
        (libc::SYS_mkdir, 1),
        (libc::SYS_mknod, 1),
        (libc::SYS_fchmodat2, 2),
    ]);
    v
}

fn target_arch() -> Result<seccompiler::TargetArch, SandboxError> {
    #[cfg(target_arch = "x86_64")]
    return Ok(seccompiler::TargetArch::x86_64);
    #[cfg(target_arch = "aarch64")]
    return Ok(seccompiler::TargetArch::aarch64);
    #[allow(unreachable_code)]
    Err(SandboxError::Unavailable {
        reason: "seccomp filters are only built for x86_64 and aarch64".to_owned(),
    })
}

fn seccomp_err(e: seccompiler::BackendError) -> SandboxError {
    SandboxError::Setup {
        step: "building the seccomp filter",
        source: io::Error::other(e.to_string()),
    }
}

/// Two filters: the deny list (EPERM), and `clone3` → ENOSYS so that glibc falls back to `clone`
/// (whose flags a classic BPF filter can inspect) and Python threads still start.
fn seccomp_programs() -> Result<(BpfProgram, BpfProgram), SandboxError> {
    let arch = target_arch()?;
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> = denied_syscalls()
        .into_iter()
        .map(|nr| (nr, vec![]))
        .collect();
    rules.insert(libc::SYS_clone, bit_rules(0, CLONE_NS_FLAGS)?);
    // No setuid/setgid files: a file the script leaves behind must not run as its owner (the
    // server's own user, when the server is unprivileged).
    let suid = &[libc::S_ISUID as u64, libc::S_ISGID as u64];
    for (nr, mode_arg) in mode_syscalls() {
        rules.insert(nr, bit_rules(mode_arg, suid)?);
    }
    let deny = SeccompFilter::new(
        rules,
        SeccompAction::Allow,
        SeccompAction::Errno(libc::EPERM as u32),
        arch,
    )
    .map_err(seccomp_err)?;
    // openat2 too: its mode sits in a struct BPF cannot read; libc falls back to openat.
    let clone3: BTreeMap<i64, Vec<SeccompRule>> =
        [(libc::SYS_clone3, vec![]), (libc::SYS_openat2, vec![])]
            .into_iter()
            .collect();
    let nosys = SeccompFilter::new(
        clone3,
        SeccompAction::Allow,
        SeccompAction::Errno(libc::ENOSYS as u32),
        arch,
    )
    .map_err(seccomp_err)?;
    let deny: BpfProgram = deny
        .try_into()
        .map_err(|e: seccompiler::BackendError| seccomp_err(e))?;
    let nosys: BpfProgram = nosys
        .try_into()
        .map_err(|e: seccompiler::BackendError| seccomp_err(e))?;
    Ok((deny, nosys))
}

fn landlock_err(e: landlock::RulesetError) -> SandboxError {
    SandboxError::Setup {
        step: "building the Landlock ruleset",
        source: io::Error::other(e.to_string()),
    }
}

/// The Landlock ruleset: read + execute on the interpreter's tree, read/write on a few devices,
/// read/write/create/remove in the output folder, nothing else on the filesystem; no TCP bind or
/// connect (ABI ≥ 4); no abstract UNIX sockets or signals beyond the sandbox (ABI ≥ 6). The
/// inputs are sealed memfds on the kernel's internal mount, which Landlock does not mediate.
fn landlock_ruleset(output: &OwnedFd) -> Result<OwnedFd, SandboxError> {
    // ABI 6 is the newest this code has been checked against (kernel 6.18 reports 7, whose only
    // addition is audit logging). On older kernels the crate's best-effort mode drops what the
    // kernel lacks; `Sandbox::ready` has already refused ABI 0.
    let abi = ABI::V6;
    let all_fs = AccessFs::from_all(abi);
    let read_exec = AccessFs::from_read(abi) | AccessFs::Execute;
    let file_rw = AccessFs::ReadFile | AccessFs::WriteFile;
    let out_rights = AccessFs::from_read(abi)
        | AccessFs::WriteFile
        | AccessFs::Truncate
        | AccessFs::MakeReg
        | AccessFs::MakeDir
        | AccessFs::RemoveFile
        | AccessFs::RemoveDir;
    let mut ruleset = Ruleset::default()
        .handle_access(all_fs)
        .map_err(landlock_err)?
        .handle_access(AccessNet::from_all(abi))
        .map_err(landlock_err)?
        .scope(Scope::from_all(abi))
        .map_err(landlock_err)?
        .create()
        .map_err(landlock_err)?;
    for path in READ_EXEC_PATHS {
        let Ok(fd) = PathFd::new(path) else { continue };
        let is_dir = std::fs::metadata(path).map(|m| m.is_dir()).unwrap_or(false);
        let rights = if is_dir {
            read_exec
        } else {
            read_exec & AccessFs::from_file(abi)
        };
        ruleset = ruleset
            .add_rule(PathBeneath::new(fd, rights))
            .map_err(landlock_err)?;
    }
    for path in DEVICES {
        let Ok(fd) = PathFd::new(path) else { continue };
        ruleset = ruleset
            .add_rule(PathBeneath::new(fd, file_rw))
            .map_err(landlock_err)?;
    }
    ruleset = ruleset
        .add_rule(PathBeneath::new(output, out_rights))
        .map_err(landlock_err)?;
    let fd: Option<OwnedFd> = ruleset.into();
    fd.ok_or_else(|| SandboxError::Unavailable {
        reason: "Landlock refused to create a ruleset on this kernel".to_owned(),
    })
}

/// `struct sock_fprog`.
#[repr(C)]
struct SockFprog {
    len: libc::c_ushort,
    filter: *const seccompiler::sock_filter,
}

/// Everything the child needs, prepared before the fork.
pub(crate) struct ChildPlan {
    parent_pid: libc::pid_t,
    root: bool,
    script_fd: RawFd,
    data_fd: RawFd,
    output_fd: RawFd,
    ruleset_fd: RawFd,
    report_fd: RawFd,
    rlimits: Vec<(libc::__rlimit_resource_t, libc::rlim_t, libc::rlim_t)>,
    setgroups_path: CString,
    uid_map_path: CString,
    gid_map_path: CString,
    uid_map: Vec<u8>,
    gid_map: Vec<u8>,
    deny: BpfProgram,
    nosys: BpfProgram,
    // Owned descriptors kept alive until the plan is dropped (after the spawn).
    _owned: Vec<OwnedFd>,
}

impl ChildPlan {
    /// Builds the plan. `script` and `data` are the sealed memfds, `output` the output folder,
    /// `report` the write end of the step-report pipe.
    pub(crate) fn build(
        layers: &Layers,
        limits: &SandboxLimits,
        script: &OwnedFd,
        data: &OwnedFd,
        output: &OwnedFd,
        report: &OwnedFd,
    ) -> Result<Self, SandboxError> {
        let ruleset = landlock_ruleset(output)?;
        let (deny, nosys) = seccomp_programs()?;
        let mb = 1024 * 1024;
        let rlimits = vec![
            (libc::RLIMIT_CPU, limits.cpu_seconds, limits.cpu_seconds + 1),
            (
                libc::RLIMIT_AS,
                limits.memory_mb * mb,
                limits.memory_mb * mb,
            ),
            (
                libc::RLIMIT_FSIZE,
                limits.max_file_mb * mb,
                limits.max_file_mb * mb,
            ),
            (
                libc::RLIMIT_NOFILE,
                limits.max_open_files,
                limits.max_open_files,
            ),
            (
                libc::RLIMIT_NPROC,
                limits.max_processes,
                limits.max_processes,
            ),
            (libc::RLIMIT_CORE, 0, 0),
        ];
        let uid = rustix::process::getuid().as_raw();
        let gid = rustix::process::getgid().as_raw();
        let cstr = |s: &str| {
            CString::new(s).map_err(|e| SandboxError::Setup {
                step: "paths",
                source: io::Error::other(e),
            })
        };
        Ok(ChildPlan {
            parent_pid: rustix::process::getpid().as_raw_nonzero().get(),
            root: layers.running_as_root,
            script_fd: script.as_raw_fd(),
            data_fd: data.as_raw_fd(),
            output_fd: output.as_raw_fd(),
            ruleset_fd: ruleset.as_raw_fd(),
            report_fd: report.as_raw_fd(),
            rlimits,
            setgroups_path: cstr("/proc/self/setgroups")?,
            uid_map_path: cstr("/proc/self/uid_map")?,
            gid_map_path: cstr("/proc/self/gid_map")?,
            uid_map: format!("{uid} {uid} 1\n").into_bytes(),
            gid_map: format!("{gid} {gid} 1\n").into_bytes(),
            deny,
            nosys,
            _owned: vec![ruleset],
        })
    }

    /// The descriptor numbers the child's argv names (`/dev/fd/N`).
    pub(crate) fn input_fds(&self) -> (RawFd, RawFd) {
        (self.script_fd, self.data_fd)
    }

    /// Runs in the child between `fork` and `execve`.
    ///
    /// # Safety
    ///
    /// Must only be called from a `pre_exec` hook: it changes process-wide state and makes only
    /// async-signal-safe calls, allocating nothing.
    pub(crate) unsafe fn apply(&self) -> io::Result<()> {
        // SAFETY (whole body): plain system calls on descriptors and memory owned by `self`,
        // which outlives the fork; no allocation, no locks.
        unsafe {
            let fail = |name: &str| -> io::Error {
                let err = io::Error::last_os_error();
                let b = [step(name)];
                libc::write(self.report_fd, b.as_ptr().cast(), 1);
                err
            };
            // 1. Own process group and session: the parent kills the group as a whole.
            if libc::setsid() < 0 {
                return Err(fail("setsid"));
            }
            // 2. Die with the server.
            if libc::prctl(
                libc::PR_SET_PDEATHSIG,
                libc::SIGKILL as libc::c_ulong,
                0,
                0,
                0,
            ) != 0
            {
                return Err(fail("prctl(PR_SET_PDEATHSIG)"));
            }
            if libc::getppid() != self.parent_pid {
                return Err(fail("parent already gone"));
            }
            // 3. Every inherited descriptor from 3 up closes at exec; the two inputs are made
            //    inheritable again below, after the ruleset descriptor has been used.
            if libc::syscall(
                libc::SYS_close_range,
                3u32,
                u32::MAX,
                libc::CLOSE_RANGE_CLOEXEC,
            ) != 0
            {
                return Err(fail("close_range"));
            }
            // 4. A network namespace with nothing in it but a down loopback.
            let flags = if self.root {
                libc::CLONE_NEWNET
            } else {
                libc::CLONE_NEWUSER | libc::CLONE_NEWNET
            };
            if libc::unshare(flags) != 0 {
                return Err(fail("unshare"));
            }
            if self.root {
                // 5a. Drop to nobody: no capabilities, RLIMIT_NPROC applies, no setuid-root files.
                if libc::setgroups(0, std::ptr::null()) != 0 {
                    return Err(fail("setgroups"));
                }
                let id = SANDBOX_ID;
                if libc::setresgid(id, id, id) != 0 {
                    return Err(fail("setresgid"));
                }
                if libc::setresuid(id, id, id) != 0 {
                    return Err(fail("setresuid"));
                }
            } else {
                // 5b. Map our own ids into the new user namespace so files can be created (an
                //     unmapped fsuid gets EOVERFLOW); capabilities there are lost at exec.
                if !write_file(&self.setgroups_path, b"deny") {
                    return Err(fail("write /proc/self/setgroups"));
                }
                if !write_file(&self.uid_map_path, &self.uid_map) {
                    return Err(fail("write /proc/self/uid_map"));
                }
                if !write_file(&self.gid_map_path, &self.gid_map) {
                    return Err(fail("write /proc/self/gid_map"));
                }
            }
            // 6. The working directory is the output folder, by descriptor (no path lookup).
            if libc::fchdir(self.output_fd) != 0 {
                return Err(fail("fchdir to the output folder"));
            }
            // 7. Resource limits (after the user namespace, whose process count starts at 0).
            for &(res, soft, hard) in &self.rlimits {
                let lim = libc::rlimit {
                    rlim_cur: soft,
                    rlim_max: hard,
                };
                if libc::setrlimit(res, &lim) != 0 {
                    return Err(fail("setrlimit"));
                }
            }
            // 8. No privilege gain through exec, required by Landlock and seccomp.
            if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
                return Err(fail("prctl(PR_SET_NO_NEW_PRIVS)"));
            }
            // 9. Landlock.
            if libc::syscall(libc::SYS_landlock_restrict_self, self.ruleset_fd, 0u32) != 0 {
                return Err(fail("landlock_restrict_self"));
            }
            // 10. Seccomp, last, so the calls above are not filtered.
            for prog in [&self.nosys, &self.deny] {
                let fprog = SockFprog {
                    len: prog.len() as libc::c_ushort,
                    filter: prog.as_ptr(),
                };
                const SECCOMP_SET_MODE_FILTER: libc::c_uint = 1;
                if libc::syscall(
                    libc::SYS_seccomp,
                    SECCOMP_SET_MODE_FILTER,
                    0u32,
                    &fprog as *const SockFprog,
                ) != 0
                {
                    return Err(fail("seccomp"));
                }
            }
            // 11. The two inputs survive exec.
            for fd in [self.script_fd, self.data_fd] {
                if libc::fcntl(fd, libc::F_SETFD, 0) != 0 {
                    return Err(fail("clear close-on-exec on the inputs"));
                }
            }
            Ok(())
        }
    }
}

/// open + write + close, async-signal-safe.
unsafe fn write_file(path: &CString, data: &[u8]) -> bool {
    // SAFETY: a NUL-terminated path and a live buffer.
    unsafe {
        let fd = libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
        if fd < 0 {
            return false;
        }
        let n = libc::write(fd, data.as_ptr().cast(), data.len());
        libc::close(fd);
        n == data.len() as isize
    }
}
