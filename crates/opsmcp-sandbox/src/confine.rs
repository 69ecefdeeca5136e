//! The child's confinement: everything that allocates is built here in the parent
//! ([`ChildPlan::build`]); [`ChildPlan::spawn`] clones the child into fresh namespaces and the
//! child ([`ChildPlan::child`]) makes only raw system calls on memory prepared beforehand, then
//! executes the interpreter.
//!
//! The child is made with a raw `clone` (not `fork`, so no `atfork` handler runs in a copy of a
//! multi-threaded server; not `Command`, which cannot create a PID namespace whose PID 1 is the
//! interpreter). For the same reason it calls the kernel directly (`syscall`) rather than glibc
//! wrappers that know about the server's other threads (`setresuid` would try to signal them).

use std::collections::BTreeMap;
use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use landlock::{
    ABI, Access, AccessFs, AccessNet, BitFlags, PathBeneath, PathFd, Ruleset, RulesetAttr,
    RulesetCreatedAttr, Scope,
};
use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule,
};

use crate::probe::PythonPaths;
use crate::{Layers, PYTHON, SandboxError, SandboxLimits};

/// The uid and gid the script runs as: nobody / nogroup (as root, for real; unprivileged, inside
/// the run's user namespace, mapped onto the server's own ids).
pub(crate) const SANDBOX_ID: u32 = 65534;

/// Hierarchies a run can have a cgroup in: v2, v1 `memory`, v1 `pids`.
pub(crate) const MAX_CGROUPS: usize = 3;

/// Steps of [`ChildPlan::child`], reported to the parent through the report pipe when one fails.
pub(crate) const STEPS: &[&str] = &[
    "close inherited descriptors",
    "standard streams",
    "signal mask",
    "write /proc/self/setgroups",
    "write /proc/self/uid_map",
    "write /proc/self/gid_map",
    "fchdir to the output folder in the workspace",
    "unshare(CLONE_NEWNS)",
    "make mounts private",
    "fsopen tmpfs",
    "fsconfig tmpfs",
    "fsmount tmpfs",
    "mount the tmpfs on the output folder",
    "join the run's cgroup",
    "handshake with the server",
    "setgroups",
    "setresgid",
    "setresuid",
    "prctl(PR_SET_PDEATHSIG)",
    "parent already gone",
    "fchdir to the output folder",
    "setrlimit",
    "prctl(PR_SET_NO_NEW_PRIVS)",
    "landlock_add_rule for the output folder",
    "landlock_restrict_self",
    "seccomp",
    "clear close-on-exec on the inputs",
    "execve /usr/bin/python3",
];

/// Messages on the report pipe: the child is ready for the handshake (with the number of its
/// tmpfs descriptor), or a step failed (with its index and errno).
pub(crate) const MSG_READY: u8 = b'R';
pub(crate) const MSG_ERROR: u8 = b'E';
/// The parent's answer on the go pipe.
pub(crate) const MSG_GO: u8 = b'G';

/// Run before the script, as `python3 -I -S -B -c BOOTSTRAP SCRIPT DATA`. `-S` (no `site`) drops
/// the `exit`/`quit` helpers scripts often call, so they are put back as `sys.exit`; the script
/// then runs as `__main__` (a real module, so `pickle` and `multiprocessing` find its classes)
/// with `sys.argv == [SCRIPT, DATA]` and `__file__ == SCRIPT`, as if run directly.
pub(crate) const BOOTSTRAP: &str = "import sys, builtins\n\
builtins.exit = builtins.quit = sys.exit\n\
del sys.argv[0]\n\
m = type(sys)('__main__')\n\
m.__file__ = sys.argv[0]\n\
m.__builtins__ = builtins\n\
sys.modules['__main__'] = m\n\
with open(sys.argv[0], 'rb') as f:\n    c = compile(f.read(), sys.argv[0], 'exec')\n\
del f, m.__builtins__\n\
exec(c, m.__dict__)\n";

/// Devices a script may use (not `/dev/zero`: a shared mapping of it is shared memory that no
/// process's resident set shows until touched).
const DEVICES: &[&str] = &["/dev/null", "/dev/urandom", "/dev/random"];

/// Syscalls answered with EPERM. Networking (`socket`, `socketpair`), kernel attack surface
/// (io_uring, bpf, perf, keyrings, modules, kexec), other processes' memory (ptrace,
/// process_vm_*, `pidfd_getfd`, `process_madvise`, `kcmp`), namespaces and mounts, leaving the
/// process group (setsid, setpgid), NUMA page moves, memory that outlives a process or hides from
/// the run's accounting (SysV shm and message queues, POSIX message queues, `memfd_secret`),
/// per-user kernel objects shared with the server's uid (inotify instances), and host-wide
/// settings.
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
        libc::SYS_pidfd_getfd,
        libc::SYS_process_madvise,
        libc::SYS_process_mrelease,
        libc::SYS_kcmp,
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
        libc::SYS_inotify_init1,
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
        libc::SYS_migrate_pages,
        libc::SYS_move_pages,
        libc::SYS_shmget,
        libc::SYS_msgget,
        libc::SYS_mq_open,
        libc::SYS_memfd_secret,
    ];
    #[cfg(target_arch = "x86_64")]
    v.extend([
        libc::SYS_iopl,
        libc::SYS_ioperm,
        libc::SYS_uselib,
        libc::SYS_inotify_init,
    ]);
    v
}

/// Flags `clone` may not carry: namespaces, and `CLONE_PARENT` (a child made a sibling of its
/// caller; for the interpreter, PID 1 of its namespace, the kernel refuses it anyway).
const CLONE_DENIED_FLAGS: &[u64] = &[
    libc::CLONE_NEWUSER as u64,
    libc::CLONE_NEWNS as u64,
    libc::CLONE_NEWPID as u64,
    libc::CLONE_NEWNET as u64,
    libc::CLONE_NEWUTS as u64,
    libc::CLONE_NEWIPC as u64,
    libc::CLONE_NEWCGROUP as u64,
    libc::CLONE_PARENT as u64,
];

fn cond(arg: u8, len: SeccompCmpArgLen, op: SeccompCmpOp, value: u64) -> SeccompCondition {
    // Only fails for an argument index above 5.
    SeccompCondition::new(arg, len, op, value).expect("argument index below 6")
}

fn rule(conds: Vec<SeccompCondition>) -> Result<SeccompRule, SandboxError> {
    SeccompRule::new(conds).map_err(seccomp_err)
}

/// Rules matching when argument `arg` has any of `bits` set (one rule per bit; rules are OR-ed).
fn bit_rules(arg: u8, bits: &[u64]) -> Result<Vec<SeccompRule>, SandboxError> {
    bits.iter()
        .map(|&bit| {
            rule(vec![cond(
                arg,
                SeccompCmpArgLen::Qword,
                SeccompCmpOp::MaskedEq(bit),
                bit,
            )])
        })
        .collect()
}

/// Rules matching when 32-bit argument `arg` is not 0 (a pid other than the caller's own).
fn nonzero(arg: u8) -> Result<SeccompRule, SandboxError> {
    rule(vec![cond(
        arg,
        SeccompCmpArgLen::Dword,
        SeccompCmpOp::Ne,
        0,
    )])
}

/// Process-directed calls that may only target the caller itself (pid 0): `prlimit64`,
/// `sched_set*`; `setpriority` and `ioprio_set` only for "this process" (not a process group or
/// a whole user, which would reach the server's uid or every `nobody` process).
fn self_only_rules() -> Result<Vec<(i64, Vec<SeccompRule>)>, SandboxError> {
    const PRIO_PROCESS: u64 = 0;
    const IOPRIO_WHO_PROCESS: u64 = 1;
    let which_not = |v: u64| rule(vec![cond(0, SeccompCmpArgLen::Dword, SeccompCmpOp::Ne, v)]);
    Ok(vec![
        (libc::SYS_prlimit64, vec![nonzero(0)?]),
        (libc::SYS_sched_setaffinity, vec![nonzero(0)?]),
        (libc::SYS_sched_setscheduler, vec![nonzero(0)?]),
        (libc::SYS_sched_setparam, vec![nonzero(0)?]),
        (libc::SYS_sched_setattr, vec![nonzero(0)?]),
        (
            libc::SYS_setpriority,
            vec![which_not(PRIO_PROCESS)?, nonzero(1)?],
        ),
        (
            libc::SYS_ioprio_set,
            vec![which_not(IOPRIO_WHO_PROCESS)?, nonzero(1)?],
        ),
    ])
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
///
/// `unaccounted`: no memory controller counts the run's memory, so the run monitor does, from
/// resident sets; memory it could not see is denied: `memfd_create` (pages written with `write`
/// are mapped by no one) and shared anonymous mappings (`mmap(MAP_SHARED | MAP_ANONYMOUS)`: a
/// child inheriting one holds its pages without them being in its resident set until it
/// touches them).
fn seccomp_programs(unaccounted: bool) -> Result<(BpfProgram, BpfProgram), SandboxError> {
    let arch = target_arch()?;
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> = denied_syscalls()
        .into_iter()
        .map(|nr| (nr, vec![]))
        .collect();
    if unaccounted {
        rules.insert(libc::SYS_memfd_create, vec![]);
        let bit = |b: libc::c_int| {
            cond(
                3,
                SeccompCmpArgLen::Dword,
                SeccompCmpOp::MaskedEq(b as u64),
                b as u64,
            )
        };
        rules.insert(
            libc::SYS_mmap,
            vec![rule(vec![bit(libc::MAP_SHARED), bit(libc::MAP_ANONYMOUS)])?],
        );
    }
    rules.insert(libc::SYS_clone, bit_rules(0, CLONE_DENIED_FLAGS)?);
    for (nr, r) in self_only_rules()? {
        rules.insert(nr, r);
    }
    // No setuid/setgid files: a file the script leaves behind must not run as its owner.
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

/// ABI 6 is the newest this code has been checked against (kernel 6.18 reports 7, whose only
/// addition is audit logging). On older kernels the crate's best-effort mode drops what the
/// kernel lacks; `Sandbox::ready` has already refused ABI 0.
const LANDLOCK_ABI: ABI = ABI::V6;

/// What the script may do in its output folder (its tmpfs): read, write, create and remove
/// files and folders; no symlinks, FIFOs, sockets, devices or execution. Masked to what this
/// kernel handles, since the rule is added in the child by a raw `landlock_add_rule`.
fn output_rights(kernel_abi: u32) -> u64 {
    let rights = AccessFs::from_read(LANDLOCK_ABI)
        | AccessFs::WriteFile
        | AccessFs::Truncate
        | AccessFs::MakeReg
        | AccessFs::MakeDir
        | AccessFs::RemoveFile
        | AccessFs::RemoveDir;
    let kernel = ABI::from(i32::try_from(kernel_abi).unwrap_or(i32::MAX));
    let handled: BitFlags<AccessFs> = AccessFs::from_all(kernel) & AccessFs::from_all(LANDLOCK_ABI);
    (rights & handled).bits()
}

/// The Landlock ruleset, without the output folder (the child adds it once its tmpfs exists):
/// read + execute on the interpreter, its standard library and shared libraries (not its site
/// folders), read/write on a few devices, nothing else on the filesystem; no TCP bind or connect
/// (ABI ≥ 4); no abstract UNIX sockets or signals beyond the sandbox (ABI ≥ 6). The inputs are
/// sealed memfds on the kernel's internal mount, which Landlock does not mediate.
fn landlock_ruleset(python: &PythonPaths) -> Result<OwnedFd, SandboxError> {
    let abi = LANDLOCK_ABI;
    let all_fs = AccessFs::from_all(abi);
    let read_exec = AccessFs::from_read(abi) | AccessFs::Execute;
    let file_rw = AccessFs::ReadFile | AccessFs::WriteFile;
    let mut ruleset = Ruleset::default()
        .handle_access(all_fs)
        .map_err(landlock_err)?
        .handle_access(AccessNet::from_all(abi))
        .map_err(landlock_err)?
        .scope(Scope::from_all(abi))
        .map_err(landlock_err)?
        .create()
        .map_err(landlock_err)?;
    for path in &python.read_exec {
        let Ok(fd) = PathFd::new(path) else { continue };
        let rights = if path.is_dir() {
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

/// `struct landlock_path_beneath_attr`.
#[repr(C, packed)]
struct PathBeneathAttr {
    allowed_access: u64,
    parent_fd: i32,
}

/// The descriptors the child keeps (all ≥ 3 and close-on-exec; the child makes the inputs
/// inheritable and moves the three streams to 0, 1 and 2).
pub(crate) struct ChildFds<'a> {
    pub(crate) stdin: &'a OwnedFd,
    pub(crate) stdout: &'a OwnedFd,
    pub(crate) stderr: &'a OwnedFd,
    pub(crate) report: &'a OwnedFd,
    pub(crate) go: &'a OwnedFd,
    pub(crate) script: &'a OwnedFd,
    pub(crate) data: &'a OwnedFd,
    pub(crate) output: &'a OwnedFd,
    /// One `cgroup.procs` per hierarchy the run has a cgroup in (at most [`MAX_CGROUPS`]).
    pub(crate) cgroup_procs: Vec<&'a OwnedFd>,
}

/// Everything the child needs, prepared before the clone.
pub(crate) struct ChildPlan {
    root: bool,
    clone_flags: u64,
    keep: Vec<RawFd>,
    stdin_fd: RawFd,
    stdout_fd: RawFd,
    stderr_fd: RawFd,
    report_fd: RawFd,
    go_fd: RawFd,
    script_fd: RawFd,
    data_fd: RawFd,
    output_fd: RawFd,
    cgroup_fds: [RawFd; MAX_CGROUPS],
    ruleset_fd: RawFd,
    out_rights: u64,
    rlimits: Vec<(libc::__rlimit_resource_t, libc::rlimit64)>,
    setgroups_path: CString,
    uid_map_path: CString,
    gid_map_path: CString,
    uid_map: Vec<u8>,
    gid_map: Vec<u8>,
    tmpfs_options: Vec<(CString, CString)>,
    deny: BpfProgram,
    nosys: BpfProgram,
    python: CString,
    _argv: Vec<CString>,
    argv: Vec<*const libc::c_char>,
    _envp: Vec<CString>,
    envp: Vec<*const libc::c_char>,
    // Owned descriptors kept alive until the plan is dropped (after the clone).
    _owned: Vec<OwnedFd>,
}

fn cstring(s: impl Into<Vec<u8>>) -> Result<CString, SandboxError> {
    CString::new(s).map_err(|e| SandboxError::Setup {
        step: "arguments",
        source: io::Error::other(e),
    })
}

/// A descriptor numbered 3 or more (so that moving the streams onto 0–2 cannot clobber it).
pub(crate) fn above_stdio(fd: OwnedFd) -> io::Result<OwnedFd> {
    if fd.as_raw_fd() > 2 {
        return Ok(fd);
    }
    Ok(rustix::io::fcntl_dupfd_cloexec(&fd, 3)?)
}

impl ChildPlan {
    /// Builds the plan.
    pub(crate) fn build(
        layers: &Layers,
        limits: &SandboxLimits,
        fds: &ChildFds<'_>,
        memory_unaccounted: bool,
    ) -> Result<Self, SandboxError> {
        let python_paths = crate::probe::python_paths().ok_or(SandboxError::Unavailable {
            reason: format!("the interpreter {PYTHON} did not report its standard library"),
        })?;
        let ruleset = above_stdio(landlock_ruleset(python_paths)?)
            .map_err(SandboxError::io("moving the Landlock ruleset"))?;
        let (deny, nosys) = seccomp_programs(memory_unaccounted)?;
        let mb = 1024 * 1024;
        let rl = |soft: u64, hard: u64| libc::rlimit64 {
            rlim_cur: soft,
            rlim_max: hard,
        };
        let rlimits = vec![
            (
                libc::RLIMIT_CPU,
                rl(limits.cpu_seconds, limits.cpu_seconds + 1),
            ),
            (
                libc::RLIMIT_AS,
                rl(limits.memory_mb * mb, limits.memory_mb * mb),
            ),
            (
                libc::RLIMIT_FSIZE,
                rl(limits.max_file_mb * mb, limits.max_file_mb * mb),
            ),
            (
                libc::RLIMIT_NOFILE,
                rl(limits.max_open_files, limits.max_open_files),
            ),
            (
                libc::RLIMIT_NPROC,
                rl(limits.max_processes, limits.max_processes),
            ),
            (libc::RLIMIT_CORE, rl(0, 0)),
            (libc::RLIMIT_MEMLOCK, rl(0, 0)),
            (libc::RLIMIT_MSGQUEUE, rl(0, 0)),
        ];
        let root = layers.running_as_root;
        let uid = rustix::process::getuid().as_raw();
        let gid = rustix::process::getgid().as_raw();
        let mut tmpfs_options = vec![
            (cstring("size")?, cstring(format!("{}m", limits.output_mb))?),
            // The root folder takes one inode.
            (
                cstring("nr_inodes")?,
                cstring((limits.output_files + 1).to_string())?,
            ),
            (cstring("mode")?, cstring("0700")?),
        ];
        if root {
            tmpfs_options.push((cstring("uid")?, cstring(SANDBOX_ID.to_string())?));
            tmpfs_options.push((cstring("gid")?, cstring(SANDBOX_ID.to_string())?));
        }
        let argv_owned: Vec<CString> = vec![
            cstring(PYTHON)?,
            cstring("-I")?,
            cstring("-S")?,
            cstring("-B")?,
            cstring("-c")?,
            cstring(BOOTSTRAP)?,
            cstring(format!("/dev/fd/{}", fds.script.as_raw_fd()))?,
            cstring(format!("/dev/fd/{}", fds.data.as_raw_fd()))?,
        ];
        let envp_owned: Vec<CString> = vec![
            cstring("PATH=/usr/bin:/bin")?,
            cstring("LANG=C.UTF-8")?,
            cstring("HOME=/nonexistent")?,
            cstring("TMPDIR=.")?,
        ];
        let ptrs = |v: &[CString]| -> Vec<*const libc::c_char> {
            v.iter()
                .map(|s| s.as_ptr())
                .chain(std::iter::once(std::ptr::null()))
                .collect()
        };
        let argv = ptrs(&argv_owned);
        let envp = ptrs(&envp_owned);
        if fds.cgroup_procs.len() > MAX_CGROUPS {
            return Err(SandboxError::Setup {
                step: "descriptors",
                source: io::Error::other("more cgroups for the run than hierarchies"),
            });
        }
        let mut cgroup_fds = [-1; MAX_CGROUPS];
        for (slot, f) in cgroup_fds.iter_mut().zip(&fds.cgroup_procs) {
            *slot = f.as_raw_fd();
        }
        let mut keep: Vec<RawFd> = [
            fds.stdin, fds.stdout, fds.stderr, fds.report, fds.go, fds.script, fds.data,
            fds.output, &ruleset,
        ]
        .iter()
        .map(|f| f.as_raw_fd())
        .chain(fds.cgroup_procs.iter().map(|f| f.as_raw_fd()))
        .collect();
        keep.sort_unstable();
        keep.dedup();
        if keep.first().is_some_and(|&f| f < 3) {
            return Err(SandboxError::Setup {
                step: "descriptors",
                source: io::Error::other("a descriptor for the child is below 3"),
            });
        }
        let mut clone_flags =
            (libc::CLONE_NEWPID | libc::CLONE_NEWNET | libc::CLONE_NEWIPC | libc::CLONE_PIDFD)
                as u64
                | libc::SIGCHLD as u64;
        if !root {
            clone_flags |= libc::CLONE_NEWUSER as u64;
        }
        Ok(ChildPlan {
            root,
            clone_flags,
            keep,
            stdin_fd: fds.stdin.as_raw_fd(),
            stdout_fd: fds.stdout.as_raw_fd(),
            stderr_fd: fds.stderr.as_raw_fd(),
            report_fd: fds.report.as_raw_fd(),
            go_fd: fds.go.as_raw_fd(),
            script_fd: fds.script.as_raw_fd(),
            data_fd: fds.data.as_raw_fd(),
            output_fd: fds.output.as_raw_fd(),
            cgroup_fds,
            ruleset_fd: ruleset.as_raw_fd(),
            out_rights: output_rights(layers.landlock_abi),
            rlimits,
            setgroups_path: cstring("/proc/self/setgroups")?,
            uid_map_path: cstring("/proc/self/uid_map")?,
            gid_map_path: cstring("/proc/self/gid_map")?,
            uid_map: format!("{SANDBOX_ID} {uid} 1\n").into_bytes(),
            gid_map: format!("{SANDBOX_ID} {gid} 1\n").into_bytes(),
            tmpfs_options,
            deny,
            nosys,
            python: cstring(PYTHON)?,
            _argv: argv_owned,
            argv,
            _envp: envp_owned,
            envp,
            _owned: vec![ruleset],
        })
    }

    /// Clones the child into its namespaces. Returns its pid and a pidfd on it.
    pub(crate) fn spawn(&self) -> io::Result<(libc::pid_t, OwnedFd)> {
        let mut pidfd: libc::c_int = -1;
        // SAFETY: a fork-like clone (no CLONE_VM, no new stack): the child continues on its own
        // copy of this stack and never returns from this branch (`child` ends in execve or
        // _exit). CLONE_PIDFD stores the pidfd at the parent_tid argument.
        let pid = unsafe {
            libc::syscall(
                libc::SYS_clone,
                self.clone_flags,
                0usize,
                &mut pidfd as *mut libc::c_int,
                0usize,
                0usize,
            )
        };
        if pid < 0 {
            return Err(io::Error::last_os_error());
        }
        if pid == 0 {
            // SAFETY: in the freshly cloned child, single-threaded, on prepared memory.
            unsafe { self.child() }
        }
        // SAFETY: the kernel gave us this new descriptor.
        let pidfd = unsafe { OwnedFd::from_raw_fd(pidfd) };
        Ok((pid as libc::pid_t, pidfd))
    }

    /// Runs in the child, PID 1 of its namespace, until `execve`.
    ///
    /// # Safety
    ///
    /// Only in the child of [`ChildPlan::spawn`]: it changes process-wide state, makes only raw
    /// system calls on memory prepared in `self`, allocates nothing and never returns.
    unsafe fn child(&self) -> ! {
        // SAFETY (whole body): raw system calls on descriptors and memory owned by `self`, which
        // the child has a private copy of; no allocation, no locks, no unwinding.
        unsafe {
            let report = self.report_fd;
            let fail = |name: &'static str| -> ! {
                let errno = *libc::__errno_location();
                let e = errno.to_le_bytes();
                let msg = [MSG_ERROR, step_of(name), e[0], e[1], e[2], e[3]];
                libc::syscall(libc::SYS_write, report, msg.as_ptr(), msg.len());
                libc::_exit(127)
            };
            let sys = |r: libc::c_long, name: &'static str| {
                if r < 0 {
                    fail(name)
                }
            };
            // 1. Only the descriptors prepared for the child stay open: nothing of the server
            //    (sockets, database, logs) survives in the run, even before exec.
            let mut next: u32 = 3;
            for &fd in &self.keep {
                let fd = fd as u32;
                if fd > next {
                    sys(
                        libc::syscall(libc::SYS_close_range, next, fd - 1, 0u32),
                        "close inherited descriptors",
                    );
                }
                next = fd + 1;
            }
            sys(
                libc::syscall(libc::SYS_close_range, next, u32::MAX, 0u32),
                "close inherited descriptors",
            );
            // 2. Standard streams: /dev/null, the two capture pipes.
            for (from, to) in [(self.stdin_fd, 0), (self.stdout_fd, 1), (self.stderr_fd, 2)] {
                sys(
                    libc::syscall(libc::SYS_dup3, from, to, 0),
                    "standard streams",
                );
            }
            // 3. No blocked signals; SIGPIPE back to its default (the server ignores it).
            let empty: u64 = 0;
            sys(
                libc::syscall(
                    libc::SYS_rt_sigprocmask,
                    libc::SIG_SETMASK,
                    &empty as *const u64,
                    std::ptr::null::<u64>(),
                    8usize,
                ),
                "signal mask",
            );
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
            // 4. Unprivileged: uid/gid 65534 inside the new user namespace is the server's own
            //    uid/gid outside (the only mapping an unprivileged process may write).
            if !self.root {
                if !write_file(&self.setgroups_path, b"deny") {
                    fail("write /proc/self/setgroups");
                }
                if !write_file(&self.uid_map_path, &self.uid_map) {
                    fail("write /proc/self/uid_map");
                }
                if !write_file(&self.gid_map_path, &self.gid_map) {
                    fail("write /proc/self/gid_map");
                }
            }
            // 5. A mount namespace of the run's own, entered with the workspace's output folder
            //    as the working directory: unshare carries the working directory into the new
            //    namespace (a descriptor opened before would still name the server's mount).
            //    Its mounts never propagate to the host's.
            sys(
                libc::syscall(libc::SYS_fchdir, self.output_fd),
                "fchdir to the output folder in the workspace",
            );
            sys(
                libc::syscall(libc::SYS_unshare, libc::CLONE_NEWNS),
                "unshare(CLONE_NEWNS)",
            );
            sys(
                libc::mount(
                    std::ptr::null(),
                    c"/".as_ptr(),
                    std::ptr::null(),
                    libc::MS_REC | libc::MS_PRIVATE,
                    std::ptr::null(),
                ) as libc::c_long,
                "make mounts private",
            );
            // 6. The output folder is a tmpfs of `output_mb` and `output_files`, mounted over the
            //    (empty) folder in the workspace, in this namespace only.
            const FSOPEN_CLOEXEC: u32 = 1;
            const FSCONFIG_SET_STRING: u32 = 1;
            const FSCONFIG_CMD_CREATE: u32 = 6;
            const FSMOUNT_CLOEXEC: u32 = 1;
            const MOUNT_ATTR_NOSUID: u32 = 0x2;
            const MOUNT_ATTR_NODEV: u32 = 0x4;
            const MOUNT_ATTR_NOEXEC: u32 = 0x8;
            const MOVE_MOUNT_F_EMPTY_PATH: u32 = 0x4;
            let fs = libc::syscall(libc::SYS_fsopen, c"tmpfs".as_ptr(), FSOPEN_CLOEXEC);
            sys(fs, "fsopen tmpfs");
            for (k, v) in &self.tmpfs_options {
                sys(
                    libc::syscall(
                        libc::SYS_fsconfig,
                        fs,
                        FSCONFIG_SET_STRING,
                        k.as_ptr(),
                        v.as_ptr(),
                        0,
                    ),
                    "fsconfig tmpfs",
                );
            }
            sys(
                libc::syscall(
                    libc::SYS_fsconfig,
                    fs,
                    FSCONFIG_CMD_CREATE,
                    std::ptr::null::<u8>(),
                    std::ptr::null::<u8>(),
                    0,
                ),
                "fsconfig tmpfs",
            );
            let mnt = libc::syscall(
                libc::SYS_fsmount,
                fs,
                FSMOUNT_CLOEXEC,
                MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
            );
            sys(mnt, "fsmount tmpfs");
            libc::syscall(libc::SYS_close, fs);
            sys(
                libc::syscall(
                    libc::SYS_move_mount,
                    mnt,
                    c"".as_ptr(),
                    libc::AT_FDCWD,
                    c".".as_ptr(),
                    MOVE_MOUNT_F_EMPTY_PATH,
                ),
                "mount the tmpfs on the output folder",
            );
            let mnt = mnt as i32;
            // 7. The run's cgroups, when there are any: everything the script starts is in them.
            for &fd in self.cgroup_fds.iter().filter(|&&fd| fd >= 0) {
                let zero = b"0";
                sys(
                    libc::syscall(libc::SYS_write, fd, zero.as_ptr(), 1usize),
                    "join the run's cgroup",
                );
                libc::syscall(libc::SYS_close, fd);
            }
            // 8. Handshake: the server takes a descriptor on the tmpfs (to copy the output out
            //    after the run), then says go. EOF instead means the server is gone.
            let m = mnt.to_le_bytes();
            let ready = [MSG_READY, m[0], m[1], m[2], m[3]];
            if libc::syscall(libc::SYS_write, report, ready.as_ptr(), ready.len()) != 5 {
                fail("handshake with the server");
            }
            let mut go = [0u8; 1];
            if libc::syscall(libc::SYS_read, self.go_fd, go.as_mut_ptr(), 1usize) != 1
                || go[0] != MSG_GO
            {
                fail("handshake with the server");
            }
            // 9. As root, drop to nobody: no capabilities, RLIMIT_NPROC applies, no
            //    setuid-root files. (Unprivileged, the uid is already 65534 in the namespace and
            //    the capabilities held there are lost at exec.)
            if self.root {
                let id = SANDBOX_ID;
                sys(
                    libc::syscall(libc::SYS_setgroups, 0usize, std::ptr::null::<u32>()),
                    "setgroups",
                );
                sys(libc::syscall(libc::SYS_setresgid, id, id, id), "setresgid");
                sys(libc::syscall(libc::SYS_setresuid, id, id, id), "setresuid");
            }
            // 10. Die with the server. Set after the uid drop, which clears it; the go pipe's
            //     write end is held by the server alone, so a hang-up means it is gone.
            sys(
                libc::syscall(
                    libc::SYS_prctl,
                    libc::PR_SET_PDEATHSIG,
                    libc::SIGKILL as libc::c_ulong,
                    0,
                    0,
                    0,
                ),
                "prctl(PR_SET_PDEATHSIG)",
            );
            let mut pfd = libc::pollfd {
                fd: self.go_fd,
                events: libc::POLLIN,
                revents: 0,
            };
            if libc::poll(&mut pfd, 1, 0) != 0 && pfd.revents & libc::POLLHUP != 0 {
                fail("parent already gone");
            }
            // 11. The working directory is the tmpfs (reached by descriptor, no path lookup).
            sys(
                libc::syscall(libc::SYS_fchdir, mnt),
                "fchdir to the output folder",
            );
            // 12. Resource limits, per process (the run as a whole is bounded by its cgroup or
            //     the run monitor).
            for (res, lim) in &self.rlimits {
                sys(
                    libc::syscall(
                        libc::SYS_prlimit64,
                        0,
                        *res,
                        lim as *const libc::rlimit64,
                        std::ptr::null::<libc::rlimit64>(),
                    ),
                    "setrlimit",
                );
            }
            // 13. No privilege gain through exec, required by Landlock and seccomp.
            sys(
                libc::syscall(libc::SYS_prctl, libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0),
                "prctl(PR_SET_NO_NEW_PRIVS)",
            );
            // 14. Landlock, with the tmpfs as the one writable folder.
            const LANDLOCK_RULE_PATH_BENEATH: u32 = 1;
            let attr = PathBeneathAttr {
                allowed_access: self.out_rights,
                parent_fd: mnt,
            };
            sys(
                libc::syscall(
                    libc::SYS_landlock_add_rule,
                    self.ruleset_fd,
                    LANDLOCK_RULE_PATH_BENEATH,
                    &attr as *const PathBeneathAttr,
                    0u32,
                ),
                "landlock_add_rule for the output folder",
            );
            sys(
                libc::syscall(libc::SYS_landlock_restrict_self, self.ruleset_fd, 0u32),
                "landlock_restrict_self",
            );
            // 15. Seccomp, last, so the calls above are not filtered.
            for prog in [&self.nosys, &self.deny] {
                let fprog = SockFprog {
                    len: prog.len() as libc::c_ushort,
                    filter: prog.as_ptr(),
                };
                const SECCOMP_SET_MODE_FILTER: libc::c_uint = 1;
                sys(
                    libc::syscall(
                        libc::SYS_seccomp,
                        SECCOMP_SET_MODE_FILTER,
                        0u32,
                        &fprog as *const SockFprog,
                    ),
                    "seccomp",
                );
            }
            // 16. The two inputs survive exec; every other descriptor closes at exec.
            for fd in [self.script_fd, self.data_fd] {
                sys(
                    libc::syscall(libc::SYS_fcntl, fd, libc::F_SETFD, 0),
                    "clear close-on-exec on the inputs",
                );
            }
            libc::syscall(
                libc::SYS_execve,
                self.python.as_ptr(),
                self.argv.as_ptr(),
                self.envp.as_ptr(),
            );
            fail("execve /usr/bin/python3")
        }
    }
}

/// The index of a step in [`STEPS`] (a plain comparison: no allocation in the child).
fn step_of(name: &str) -> u8 {
    STEPS
        .iter()
        .position(|s| *s == name)
        .map_or(u8::MAX, |i| i as u8)
}

/// open + write + close with raw calls.
unsafe fn write_file(path: &CStr, data: &[u8]) -> bool {
    // SAFETY: a NUL-terminated path and a live buffer.
    unsafe {
        let fd = libc::syscall(
            libc::SYS_openat,
            libc::AT_FDCWD,
            path.as_ptr(),
            libc::O_WRONLY | libc::O_CLOEXEC,
        );
        if fd < 0 {
            return false;
        }
        let n = libc::syscall(libc::SYS_write, fd, data.as_ptr(), data.len());
        libc::syscall(libc::SYS_close, fd);
        n == data.len() as libc::c_long
    }
}
