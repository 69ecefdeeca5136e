//! The kernel's own memory accounting of a service: the memory cgroup its processes run in
//! (`/proc/<pid>/cgroup`, mapped to a directory through `/proc/self/mountinfo`), its working
//! set against its limit, and how many of its processes the kernel killed for memory.
//!
//! Why the kernel's counters rather than our own readings: a process that grows to its limit
//! in three seconds, is killed and started again lives and dies between two readings, and a
//! reading then sees only a young process with little memory. The kernel counts every OOM kill
//! (`memory.events` `oom_kill` in cgroup v2, `memory.oom_control` `oom_kill` in v1), so a
//! reading learns what happened since the one before, however short-lived the process.
//!
//! Both hierarchies are read: v1's `memory` controller where it is mounted (`memory.usage_in_bytes`,
//! `memory.stat` `hierarchical_memory_limit`), else v2 (`memory.current`, the lowest
//! `memory.max` of the cgroup and its ancestors). Nothing is ever written.

use std::{
    fs,
    path::{Path, PathBuf},
};

/// Memory limits at or above this are no limit (the kernel's "max" is 2^63 rounded to pages).
const UNLIMITED: u64 = 1 << 60;

/// Which hierarchy a cgroup directory belongs to: their files differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Hierarchy {
    /// cgroup v1, the `memory` controller's own mount.
    V1,
    /// cgroup v2, the unified hierarchy.
    V2,
}

/// A memory cgroup: its directory and its hierarchy.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct MemoryCgroup {
    /// Its directory under the mount (`/sys/fs/cgroup/memory/system.slice/x.service`).
    pub dir: PathBuf,
    /// v1 or v2.
    pub hierarchy: Hierarchy,
    /// Its path inside the hierarchy (`/system.slice/x.service`; `/` is the root).
    pub path: String,
}

/// One reading of a memory cgroup.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct MemoryReading {
    /// Memory in use less the inactive file cache (what the kernel reclaims first): the
    /// working set, as container runtimes report it.
    pub working_set_bytes: u64,
    /// The limit in force on it (its own or an ancestor's), if any.
    pub limit_bytes: Option<u64>,
    /// Processes of the cgroup the kernel killed for memory, since the cgroup was made.
    pub oom_kills: u64,
}

impl MemoryReading {
    /// The working set as a percentage of the limit, when there is one.
    pub fn used_percent(&self) -> Option<f64> {
        self.limit_bytes
            .filter(|l| *l > 0)
            .map(|l| self.working_set_bytes as f64 * 100.0 / l as f64)
    }
}

/// Where the memory hierarchies are mounted on this host, read once.
#[derive(Debug, Clone, Default)]
pub struct Mounts {
    /// v1 `memory` controller: (its root inside the hierarchy, its mount point).
    v1: Option<(String, PathBuf)>,
    /// v2: (its root inside the hierarchy, its mount point).
    v2: Option<(String, PathBuf)>,
}

impl Mounts {
    /// This host's mounts, from `/proc/self/mountinfo`.
    pub fn read() -> Self {
        fs::read_to_string("/proc/self/mountinfo")
            .map(|t| Self::parse(&t))
            .unwrap_or_default()
    }

    /// The mounts a `mountinfo` text lists: the first v1 mount carrying the `memory`
    /// controller, and the first v2 mount.
    pub fn parse(mountinfo: &str) -> Self {
        let mut out = Self::default();
        for line in mountinfo.lines() {
            // id parent major:minor root mount-point options [optional…] - fstype source super
            let Some((left, right)) = line.split_once(" - ") else {
                continue;
            };
            let left: Vec<&str> = left.split(' ').collect();
            let right: Vec<&str> = right.split(' ').collect();
            let (Some(root), Some(point), Some(fstype)) = (left.get(3), left.get(4), right.first())
            else {
                continue;
            };
            let entry = || (unescape(root), PathBuf::from(unescape(point)));
            match *fstype {
                "cgroup"
                    if out.v1.is_none()
                        && right
                            .get(2)
                            .is_some_and(|o| o.split(',').any(|x| x == "memory")) =>
                {
                    out.v1 = Some(entry());
                }
                "cgroup2" if out.v2.is_none() => out.v2 = Some(entry()),
                _ => {}
            }
        }
        out
    }

    /// The memory cgroup of process `pid`, if its memory is accounted anywhere we can read.
    pub fn of_pid(&self, pid: u32) -> Option<MemoryCgroup> {
        let text = fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
        self.of_cgroup_file(&text)
    }

    /// The memory cgroup a `/proc/<pid>/cgroup` text names: the v1 `memory` line where that
    /// controller is mounted, else the v2 line where the unified mount has the memory files.
    pub fn of_cgroup_file(&self, text: &str) -> Option<MemoryCgroup> {
        let mut v2_path = None;
        for line in text.lines() {
            let mut parts = line.splitn(3, ':');
            let (Some(_), Some(controllers), Some(path)) =
                (parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            if controllers.split(',').any(|c| c == "memory")
                && let Some((root, point)) = &self.v1
            {
                return Some(MemoryCgroup {
                    dir: under(point, root, path)?,
                    hierarchy: Hierarchy::V1,
                    path: path.to_string(),
                });
            }
            if controllers.is_empty() {
                v2_path = Some(path);
            }
        }
        let (root, point) = self.v2.as_ref()?;
        let path = v2_path?;
        let dir = under(point, root, path)?;
        // A unified mount without the memory controller (a hybrid host) accounts nothing.
        dir.join("memory.current").exists().then(|| MemoryCgroup {
            dir,
            hierarchy: Hierarchy::V2,
            path: path.to_string(),
        })
    }
}

impl MemoryCgroup {
    /// Whether this is the root of its hierarchy (every process not put elsewhere): nothing
    /// of one service's own.
    pub fn is_root(&self) -> bool {
        self.path == "/" || self.path.is_empty()
    }

    /// Reads it now; `None` when it is gone (or unreadable).
    pub fn read(&self) -> Option<MemoryReading> {
        match self.hierarchy {
            Hierarchy::V1 => read_v1(&self.dir),
            Hierarchy::V2 => read_v2(&self.dir),
        }
    }
}

fn read_v1(dir: &Path) -> Option<MemoryReading> {
    let usage = number(&dir.join("memory.usage_in_bytes"))?;
    let stat = fs::read_to_string(dir.join("memory.stat")).unwrap_or_default();
    // `hierarchical_memory_limit` is the lowest limit of the cgroup and its ancestors.
    let limit = field(&stat, "hierarchical_memory_limit")
        .or_else(|| number(&dir.join("memory.limit_in_bytes")));
    let inactive = field(&stat, "total_inactive_file").unwrap_or(0);
    let control = fs::read_to_string(dir.join("memory.oom_control")).unwrap_or_default();
    Some(MemoryReading {
        working_set_bytes: usage.saturating_sub(inactive),
        limit_bytes: limit.filter(|l| *l < UNLIMITED),
        oom_kills: field(&control, "oom_kill").unwrap_or(0),
    })
}

fn read_v2(dir: &Path) -> Option<MemoryReading> {
    let usage = number(&dir.join("memory.current"))?;
    let stat = fs::read_to_string(dir.join("memory.stat")).unwrap_or_default();
    let inactive = field(&stat, "inactive_file").unwrap_or(0);
    let events = fs::read_to_string(dir.join("memory.events")).unwrap_or_default();
    // The limit in force is the lowest `memory.max` up the tree; the walk stops where the
    // files stop (the mount's root has none).
    let mut limit: Option<u64> = None;
    let mut at = Some(dir);
    while let Some(d) = at {
        let Ok(text) = fs::read_to_string(d.join("memory.max")) else {
            break;
        };
        if let Ok(v) = text.trim().parse::<u64>() {
            limit = Some(limit.map_or(v, |l| l.min(v)));
        }
        at = d.parent();
    }
    Some(MemoryReading {
        working_set_bytes: usage.saturating_sub(inactive),
        limit_bytes: limit.filter(|l| *l < UNLIMITED),
        oom_kills: field(&events, "oom_kill").unwrap_or(0),
    })
}

/// The directory of hierarchy path `path` on a mount of hierarchy root `root`; `None` when the
/// path is outside what the mount shows (another cgroup namespace).
fn under(point: &Path, root: &str, path: &str) -> Option<PathBuf> {
    let rel = if root == "/" {
        path
    } else {
        path.strip_prefix(root)?
    };
    let rel = rel.trim_start_matches('/');
    // A path that climbs out (`/../x`, as a process in another namespace sees) is not ours.
    if rel.split('/').any(|c| c == "..") {
        return None;
    }
    Some(if rel.is_empty() {
        point.to_path_buf()
    } else {
        point.join(rel)
    })
}

/// `mountinfo` escapes spaces, tabs, newlines and backslashes as octal.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && let Ok(v) = u8::from_str_radix(&s[i + 1..i + 4], 8)
        {
            out.push(v as char);
            i += 4;
            continue;
        }
        out.push(b[i] as char);
        i += 1;
    }
    out
}

fn number(path: &Path) -> Option<u64> {
    fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// The value of `key` in a `key value` per line file (`memory.stat`, `memory.events`).
fn field(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(' ')?;
        (k == key).then(|| v.trim().parse().ok()).flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOUNTINFO: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";

    #[test]
    fn the_memory_line_of_a_process_is_found_on_its_mount() {
        let mounts = Mounts::parse(MOUNTINFO);
        let cg = mounts
            .of_cgroup_file("9:name=systemd:/\n4:memory:/jobs/a b\n1:cpu:/\n0::/\n")
            .unwrap();
        assert_eq!(cg.hierarchy, Hierarchy::V1);
        assert_eq!(cg.dir, PathBuf::from("/sys/fs/cgroup/memory/jobs/a b"));
        assert!(!cg.is_root());
        let root = mounts.of_cgroup_file("4:memory:/\n0::/\n").unwrap();
        assert!(root.is_root());
        // Outside what the mount shows: not ours to read.
        assert!(mounts.of_cgroup_file("4:memory:/../x\n").is_none());
    }

    #[test]
    fn a_namespaced_mount_root_is_taken_off_the_path() {
        let mounts = Mounts::parse("40 1 0:38 /kube/pod1 /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n");
        assert_eq!(
            under(Path::new("/sys/fs/cgroup"), "/kube/pod1", "/kube/pod1/app"),
            Some(PathBuf::from("/sys/fs/cgroup/app"))
        );
        assert!(under(Path::new("/sys/fs/cgroup"), "/kube/pod1", "/other").is_none());
        assert!(mounts.v1.is_none());
        assert_eq!(
            unescape("/mnt/with\\040space"),
            "/mnt/with space".to_string()
        );
    }

    /// The v2 files as the kernel writes them, in a directory tree of our own: the working
    /// set leaves the inactive file cache out, the limit is the lowest up the tree, OOM kills
    /// come from `memory.events`.
    #[test]
    fn a_v2_cgroup_is_read_from_its_files() {
        let tmp = tempfile::tempdir().unwrap();
        let parent = tmp.path().join("slice");
        let child = parent.join("svc");
        fs::create_dir_all(&child).unwrap();
        fs::write(parent.join("memory.max"), "104857600\n").unwrap();
        fs::write(child.join("memory.max"), "max\n").unwrap();
        fs::write(child.join("memory.current"), "62914560\n").unwrap();
        fs::write(
            child.join("memory.stat"),
            "anon 41943040\nfile 20971520\ninactive_file 10485760\n",
        )
        .unwrap();
        fs::write(
            child.join("memory.events"),
            "low 0\nhigh 0\nmax 12\noom 3\noom_kill 3\noom_group_kill 0\n",
        )
        .unwrap();
        let r = read_v2(&child).unwrap();
        assert_eq!(r.working_set_bytes, 52_428_800);
        assert_eq!(r.limit_bytes, Some(104_857_600));
        assert_eq!(r.oom_kills, 3);
        assert_eq!(r.used_percent(), Some(50.0));
        fs::write(parent.join("memory.max"), "max\n").unwrap();
        assert_eq!(read_v2(&child).unwrap().used_percent(), None);
    }
}
