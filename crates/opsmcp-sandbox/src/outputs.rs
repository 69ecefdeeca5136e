//! Output folders: the marker that says a folder is a run's, the workspace quota, retention, and
//! copying what a run wrote in its tmpfs into its folder in the workspace.
//!
//! Every walk here goes by descriptor (`openat2` beneath the parent, no symlinks, no mount
//! crossing) and never follows a link. Sizes are counted in allocated blocks (`st_blocks`), not
//! in `st_size`, so sparse files and `fallocate(KEEP_SIZE)` reservations count for what they
//! take on disk.

use std::collections::HashSet;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::{Duration, SystemTime};

use rustix::fs::{AtFlags, FileType, Mode, OFlags, ResolveFlags};
use serde::Serialize;

/// The file the server writes into every output folder it creates. Folders holding it are runs'
/// outputs, which retention may remove; nothing else in the workspace is ever removed.
pub(crate) const MARKER: &str = ".opsmcp-run";

/// Deepest folder nesting walked, copied or removed.
const MAX_DEPTH: usize = 64;

fn beneath(dir: BorrowedFd<'_>, name: &std::ffi::OsStr) -> rustix::io::Result<OwnedFd> {
    rustix::fs::openat2(
        dir,
        name,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
        ResolveFlags::BENEATH
            | ResolveFlags::NO_SYMLINKS
            | ResolveFlags::NO_MAGICLINKS
            | ResolveFlags::NO_XDEV,
    )
}

/// Entries of a folder (without `.` and `..`).
fn entries(dir: BorrowedFd<'_>) -> Vec<std::ffi::OsString> {
    let Ok(reader) = rustix::fs::openat(
        dir,
        ".",
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    ) else {
        return Vec::new();
    };
    let Ok(d) = rustix::fs::Dir::new(reader) else {
        return Vec::new();
    };
    use std::os::unix::ffi::OsStrExt;
    d.flatten()
        .map(|e| std::ffi::OsStr::from_bytes(e.file_name().to_bytes()).to_owned())
        .filter(|n| n != "." && n != "..")
        .collect()
}

/// What the analytics workspace holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct WorkspaceUsage {
    /// Allocated bytes (`st_blocks × 512`) of everything in the workspace.
    pub bytes: u64,
    /// Files, folders and other entries.
    pub files: u64,
    /// Run output folders (holding the server's marker).
    pub output_folders: u64,
    /// Allocated bytes in run output folders.
    pub output_bytes: u64,
}

/// A run's output folder found by a walk.
#[derive(Debug, Clone)]
struct RunDir {
    /// Path components from the workspace.
    path: Vec<std::ffi::OsString>,
    /// When the marker was written.
    created: SystemTime,
    bytes: u64,
    files: u64,
}

/// What a walk of the workspace found, kept between runs (see [`Scans`]).
#[derive(Debug, Default)]
pub(crate) struct Scan {
    pub(crate) usage: WorkspaceUsage,
    runs: Vec<RunDir>,
}

fn walk(dir: BorrowedFd<'_>, path: &mut Vec<std::ffi::OsString>, depth: usize, w: &mut Scan) {
    if depth > MAX_DEPTH {
        return;
    }
    let names = entries(dir);
    let is_run = depth > 0
        && names.iter().any(|n| n == MARKER)
        && rustix::fs::statat(dir, MARKER, AtFlags::SYMLINK_NOFOLLOW)
            .is_ok_and(|st| FileType::from_raw_mode(st.st_mode) == FileType::RegularFile);
    let (bytes0, files0) = (w.usage.bytes, w.usage.files);
    for name in &names {
        let Ok(st) = rustix::fs::statat(dir, name.as_os_str(), AtFlags::SYMLINK_NOFOLLOW) else {
            continue;
        };
        w.usage.files += 1;
        w.usage.bytes += st.st_blocks.max(0) as u64 * 512;
        if FileType::from_raw_mode(st.st_mode) == FileType::Directory
            && let Ok(sub) = beneath(dir, name)
        {
            path.push(name.clone());
            walk(sub.as_fd(), path, depth + 1, w);
            path.pop();
        }
    }
    if is_run {
        let created = rustix::fs::statat(dir, MARKER, AtFlags::SYMLINK_NOFOLLOW)
            .map(|st| {
                SystemTime::UNIX_EPOCH
                    + Duration::new(st.st_mtime.max(0) as u64, st.st_mtime_nsec as u32)
            })
            .unwrap_or(SystemTime::UNIX_EPOCH);
        let (bytes, files) = (w.usage.bytes - bytes0, w.usage.files - files0);
        w.usage.output_folders += 1;
        w.usage.output_bytes += bytes;
        w.runs.push(RunDir {
            path: path.clone(),
            created,
            bytes,
            files,
        });
    }
}

/// Walks the workspace.
pub(crate) fn scan(ws: &OwnedFd) -> Scan {
    let mut w = Scan::default();
    walk(ws.as_fd(), &mut Vec::new(), 0, &mut w);
    w.runs.sort_by_key(|r| r.created);
    w
}

/// Removes run output folders older than `max_age`, then the oldest until those left hold at
/// most `max_bytes`, updating `scan`; returns how many were removed.
pub(crate) fn prune(ws: &OwnedFd, scan: &mut Scan, max_age: Duration, max_bytes: u64) -> u64 {
    let now = SystemTime::now();
    let mut removed = 0;
    let mut kept = Vec::with_capacity(scan.runs.len());
    for r in std::mem::take(&mut scan.runs) {
        let old = now.duration_since(r.created).unwrap_or_default() > max_age;
        if !old && scan.usage.output_bytes <= max_bytes {
            kept.push(r);
            continue;
        }
        if !remove_run(ws, &r.path) {
            kept.push(r);
            continue;
        }
        let u = &mut scan.usage;
        u.bytes = u.bytes.saturating_sub(r.bytes);
        // The folder itself goes too.
        u.files = u.files.saturating_sub(r.files + 1);
        u.output_bytes = u.output_bytes.saturating_sub(r.bytes);
        u.output_folders = u.output_folders.saturating_sub(1);
        removed += 1;
        tracing::info!(folder = ?r.path, bytes = r.bytes, old, "sandbox: removed an old run's output folder");
    }
    scan.runs = kept;
    removed
}

/// Adds a new run's output folder (`path` relative to the workspace) to `scan`.
pub(crate) fn record(scan: &mut Scan, path: &str, bytes: u64, files: u64) {
    let comps: Vec<std::ffi::OsString> = std::path::Path::new(path)
        .components()
        .filter_map(|c| match c {
            std::path::Component::Normal(s) => Some(s.to_owned()),
            _ => None,
        })
        .collect();
    let u = &mut scan.usage;
    u.bytes += bytes;
    u.files += files;
    u.output_bytes += bytes;
    match scan.runs.iter_mut().find(|r| r.path == comps) {
        Some(r) => {
            r.bytes += bytes;
            r.files += files;
        }
        None => {
            // The folder and its marker.
            u.files += 2;
            u.output_folders += 1;
            scan.runs.push(RunDir {
                path: comps,
                created: SystemTime::now(),
                bytes,
                files,
            });
        }
    }
}

fn remove_run(ws: &OwnedFd, path: &[std::ffi::OsString]) -> bool {
    let Some((last, parents)) = path.split_last() else {
        return false;
    };
    let mut dir = match ws.try_clone() {
        Ok(d) => d,
        Err(_) => return false,
    };
    for p in parents {
        match beneath(dir.as_fd(), p) {
            Ok(d) => dir = d,
            Err(_) => return false,
        }
    }
    remove_tree(dir.as_fd(), last, 0)
}

/// Removes `name` in `dir` and everything beneath it, never following a link.
fn remove_tree(dir: BorrowedFd<'_>, name: &std::ffi::OsStr, depth: usize) -> bool {
    if depth > MAX_DEPTH {
        return false;
    }
    if let Ok(sub) = beneath(dir, name) {
        for n in entries(sub.as_fd()) {
            let is_dir = rustix::fs::statat(sub.as_fd(), n.as_os_str(), AtFlags::SYMLINK_NOFOLLOW)
                .is_ok_and(|st| FileType::from_raw_mode(st.st_mode) == FileType::Directory);
            if is_dir {
                remove_tree(sub.as_fd(), &n, depth + 1);
            } else {
                let _ = rustix::fs::unlinkat(sub.as_fd(), n.as_os_str(), AtFlags::empty());
            }
        }
        rustix::fs::unlinkat(dir, name, AtFlags::REMOVEDIR).is_ok()
    } else {
        false
    }
}

/// Writes the marker into a new output folder.
pub(crate) fn mark(out: &OwnedFd) -> rustix::io::Result<()> {
    let fd = rustix::fs::openat(
        out,
        MARKER,
        OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o444),
    )?;
    drop(fd);
    Ok(())
}

/// What was copied out of a run's tmpfs.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Copied {
    pub(crate) files: u64,
    pub(crate) bytes: u64,
    /// Entries left behind: links, FIFOs, sockets, devices, extra names of a hard-linked file,
    /// unreadable files, or what passed the budget.
    pub(crate) skipped: u64,
}

struct Budget {
    bytes: u64,
    entries: u64,
    seen: HashSet<u64>,
    copied: Copied,
}

/// Copies regular files and folders from the run's tmpfs (`from`) into its output folder in the
/// workspace (`to`): at most `max_bytes` of content and `max_entries` entries, each inode once,
/// files 0644 and folders 0755 owned by the server, nothing else.
pub(crate) fn copy_out(from: &OwnedFd, to: &OwnedFd, max_bytes: u64, max_entries: u64) -> Copied {
    let mut b = Budget {
        bytes: max_bytes,
        entries: max_entries,
        seen: HashSet::new(),
        copied: Copied::default(),
    };
    copy_dir(from.as_fd(), to.as_fd(), 0, &mut b);
    b.copied
}

fn copy_dir(from: BorrowedFd<'_>, to: BorrowedFd<'_>, depth: usize, b: &mut Budget) {
    for name in entries(from) {
        if name == MARKER {
            b.copied.skipped += 1;
            continue;
        }
        if b.entries == 0 {
            b.copied.skipped += 1;
            continue;
        }
        let Ok(st) = rustix::fs::statat(from, name.as_os_str(), AtFlags::SYMLINK_NOFOLLOW) else {
            continue;
        };
        match FileType::from_raw_mode(st.st_mode) {
            FileType::Directory if depth < MAX_DEPTH => {
                // A folder the script made unreadable is its own; the server owns the tmpfs
                // (or, as root, overrides modes), so it makes it readable to copy it.
                let src = beneath(from, &name).or_else(|_| {
                    let _ = rustix::fs::chmodat(
                        from,
                        name.as_os_str(),
                        Mode::from_raw_mode(0o700),
                        AtFlags::empty(),
                    );
                    beneath(from, &name)
                });
                let Ok(src) = src else {
                    b.copied.skipped += 1;
                    continue;
                };
                if rustix::fs::mkdirat(to, name.as_os_str(), Mode::from_raw_mode(0o755)).is_err() {
                    b.copied.skipped += 1;
                    continue;
                }
                b.entries -= 1;
                let Ok(dst) = beneath(to, &name) else {
                    continue;
                };
                copy_dir(src.as_fd(), dst.as_fd(), depth + 1, b);
            }
            FileType::RegularFile => {
                let size = st.st_size.max(0) as u64;
                if !b.seen.insert(st.st_ino) || size > b.bytes {
                    b.copied.skipped += 1;
                    continue;
                }
                match copy_file(from, to, &name, size) {
                    Ok(n) => {
                        b.entries -= 1;
                        b.bytes -= n.min(b.bytes);
                        b.copied.files += 1;
                        b.copied.bytes += n;
                    }
                    Err(_) => b.copied.skipped += 1,
                }
            }
            _ => b.copied.skipped += 1,
        }
    }
}

fn copy_file(
    from: BorrowedFd<'_>,
    to: BorrowedFd<'_>,
    name: &std::ffi::OsStr,
    size: u64,
) -> std::io::Result<u64> {
    let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
    let src = rustix::fs::openat(from, name, flags, Mode::empty()).or_else(|_| {
        let _ = rustix::fs::chmodat(from, name, Mode::from_raw_mode(0o600), AtFlags::empty());
        rustix::fs::openat(from, name, flags, Mode::empty())
    })?;
    let dst = rustix::fs::openat(
        to,
        name,
        OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o644),
    )?;
    use std::io::Read;
    let mut src = std::fs::File::from(src).take(size);
    let mut dst = std::fs::File::from(dst);
    std::io::copy(&mut src, &mut dst)
}

/// Whether a run's tmpfs is full: (no blocks left, no inodes left).
pub(crate) fn full(tmpfs: &OwnedFd) -> (bool, bool, u64, u64) {
    match rustix::fs::fstatvfs(tmpfs) {
        Ok(s) => {
            let used_bytes = (s.f_blocks - s.f_bfree) * s.f_frsize;
            let used_files = s.f_files - s.f_ffree;
            (s.f_bfree == 0, s.f_ffree == 0, used_bytes, used_files)
        }
        Err(_) => (false, false, 0, 0),
    }
}
