//! The run monitor: what the run as a whole uses, read from `/proc` every few tens of
//! milliseconds, where no cgroup controller does it in the kernel.
//!
//! Every process of a run descends from its PID 1 (the interpreter): orphans are re-parented to
//! it and `CLONE_PARENT` is denied, so walking `/proc/<pid>/task/<tid>/children` from it finds
//! them all. CPU time is the sum of `utime + stime + cutime + cstime` over the tree, read parents
//! first (a child reaped while the tree is read is then missed once rather than counted twice).
//! Memory is the sum of `RssAnon + RssShmem` (anonymous and shared memory, memfd and SysV shm
//! included, file pages excluded); when that sum passes the limit the proportional `Pss_Anon +
//! Pss_Shmem` from `smaps_rollup` decides, so pages shared after a fork are counted once.

use std::io::Read;

/// What the tree uses now.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Sample {
    /// CPU time of every process of the run so far (reaped ones included), microseconds.
    pub(crate) cpu_usec: u64,
    /// Anonymous + shared resident memory of the live processes, bytes (proportional when
    /// `proportional`).
    pub(crate) memory: u64,
    /// Live processes.
    pub(crate) processes: u64,
}

fn clk_tck() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 { t as u64 } else { 100 }
}

fn read_small(path: &str, buf: &mut Vec<u8>) -> bool {
    buf.clear();
    match std::fs::File::open(path) {
        Ok(mut f) => f.read_to_end(buf).is_ok(),
        Err(_) => false,
    }
}

/// The pids of `root` and every descendant, parents before children.
pub(crate) fn tree(root: i32) -> Vec<i32> {
    let mut out = vec![root];
    let mut i = 0;
    let mut buf = Vec::with_capacity(256);
    while i < out.len() && out.len() < 65536 {
        let pid = out[i];
        i += 1;
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
            continue;
        };
        for t in tasks.flatten() {
            let tid = t.file_name();
            let Some(tid) = tid.to_str() else { continue };
            if !read_small(&format!("/proc/{pid}/task/{tid}/children"), &mut buf) {
                continue;
            }
            for c in String::from_utf8_lossy(&buf).split_whitespace() {
                if let Ok(c) = c.parse::<i32>()
                    && !out.contains(&c)
                {
                    out.push(c);
                }
            }
        }
    }
    out
}

/// CPU ticks of one process: its own time and that of the children it reaped.
fn cpu_ticks(pid: i32, buf: &mut Vec<u8>) -> u64 {
    if !read_small(&format!("/proc/{pid}/stat"), buf) {
        return 0;
    }
    let s = String::from_utf8_lossy(buf);
    let Some(rest) = s.rfind(')').map(|i| &s[i + 1..]) else {
        return 0;
    };
    // After the command: state(3) ppid … utime(14) stime(15) cutime(16) cstime(17).
    rest.split_whitespace()
        .skip(11)
        .take(4)
        .filter_map(|f| f.parse::<i64>().ok())
        .map(|v| v.max(0) as u64)
        .sum()
}

fn status_kb(pid: i32, keys: &[&str], file: &str, buf: &mut Vec<u8>) -> u64 {
    if !read_small(&format!("/proc/{pid}/{file}"), buf) {
        return 0;
    }
    String::from_utf8_lossy(buf)
        .lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(':')?;
            keys.contains(&k.trim())
                .then(|| v.split_whitespace().next()?.parse::<u64>().ok())?
        })
        .sum()
}

/// Samples the tree under `root`. `memory` is only measured when `count_memory` (the root has
/// exec'd the interpreter: before that it is a copy of the server).
pub(crate) fn sample(root: i32, count_memory: bool, memory_limit: u64) -> Sample {
    let pids = tree(root);
    let mut buf = Vec::with_capacity(4096);
    let tck = clk_tck();
    let cpu_ticks: u64 = pids.iter().map(|&p| cpu_ticks(p, &mut buf)).sum();
    let mut memory = 0;
    if count_memory {
        memory = pids
            .iter()
            .map(|&p| status_kb(p, &["RssAnon", "RssShmem"], "status", &mut buf))
            .sum::<u64>()
            * 1024;
        if memory > memory_limit {
            memory = pids
                .iter()
                .map(|&p| status_kb(p, &["Pss_Anon", "Pss_Shmem"], "smaps_rollup", &mut buf))
                .sum::<u64>()
                * 1024;
        }
    }
    Sample {
        cpu_usec: cpu_ticks * 1_000_000 / tck,
        memory,
        processes: pids.len() as u64,
    }
}
