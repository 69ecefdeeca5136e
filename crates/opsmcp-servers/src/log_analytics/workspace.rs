//! The analytics workspace (`<data_dir>/analytics/`): where fetched logs, model-written scripts
//! and their outputs live, and nowhere else.
//!
//! Callers name files relative to it. Every folder is opened beneath the workspace descriptor
//! with `openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)`, because sandboxed scripts can create
//! symbolic links in their output folders: a path through one must never lead a later write
//! outside. Files are written whole or not at all: a temporary file in the same folder, fsync,
//! then a rename.

use std::{
    io::{self, Write},
    os::fd::{AsFd, OwnedFd},
    path::{Path, PathBuf},
};

use rustix::fs::{AtFlags, Mode, OFlags, RenameFlags, ResolveFlags};

use crate::ToolError;

/// The workspace root.
#[derive(Debug, Clone)]
pub struct Workspace {
    root: PathBuf,
}

impl Workspace {
    /// `root` (created if missing, readable by the server's user only: logs are sensitive).
    pub fn create(root: PathBuf) -> io::Result<Workspace> {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&root)?;
        let meta = std::fs::symlink_metadata(&root)?;
        if !meta.is_dir() {
            return Err(io::Error::other(format!(
                "{} is not a folder; the analytics workspace must be one",
                root.display()
            )));
        }
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o700))?;
        Ok(Workspace { root })
    }

    /// The folder itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `relative` as an absolute path, for humans and local clients.
    pub fn absolute(&self, relative: &str) -> String {
        self.root.join(relative).display().to_string()
    }

    /// Opens (with `create`, making) folder `dir` — a path checked by [`relative_path`], or ""
    /// for the root — without following any symbolic link.
    pub fn open_dir(&self, dir: &str, create: bool) -> io::Result<OwnedFd> {
        let mut fd = rustix::fs::open(
            &self.root,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        for part in dir.split('/').filter(|p| !p.is_empty()) {
            if create {
                match rustix::fs::mkdirat(&fd, part, Mode::from_raw_mode(0o755)) {
                    Ok(()) | Err(rustix::io::Errno::EXIST) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            fd = beneath(&fd, part, OFlags::RDONLY | OFlags::DIRECTORY)?;
        }
        Ok(fd)
    }

    /// Opens file `path` (checked by [`relative_path`]) for reading, without following links.
    pub fn open_file(&self, path: &str) -> io::Result<std::fs::File> {
        let (dir, name) = split(path);
        let dirfd = self.open_dir(dir, false)?;
        Ok(beneath(&dirfd, name, OFlags::RDONLY)?.into())
    }

    /// The entries of folder `dir` (checked by [`relative_path`], or "" for the root): (name,
    /// is a folder), hidden names and symbolic links left out, sorted by name. Read through the
    /// same no-symlink descriptors as everything else, so a link a script planted cannot make
    /// this list a folder outside the workspace.
    pub fn entries(&self, dir: &str) -> io::Result<Vec<(String, bool)>> {
        let fd = self.open_dir(dir, false)?;
        let mut out = Vec::new();
        for entry in rustix::fs::Dir::read_from(&fd)? {
            let entry = entry?;
            let Ok(name) = entry.file_name().to_str() else {
                continue;
            };
            if name.starts_with('.') {
                continue;
            }
            match entry.file_type() {
                rustix::fs::FileType::Directory => out.push((name.to_string(), true)),
                rustix::fs::FileType::RegularFile => out.push((name.to_string(), false)),
                _ => {}
            }
        }
        out.sort();
        Ok(out)
    }

    /// The `limit` most recently modified files of the workspace (paths relative to it, newest
    /// first), looking at no more than `scan` entries: a listing stays cheap however many
    /// files scripts left behind. Hidden names and symbolic links are skipped.
    pub fn newest_files(&self, limit: usize, scan: usize) -> io::Result<Vec<String>> {
        let mut files = Vec::new();
        let mut folders = vec![String::new()];
        let mut seen = 0;
        'walk: while let Some(dir) = folders.pop() {
            let fd = self.open_dir(&dir, false)?;
            for (name, is_dir) in self.entries(&dir)? {
                seen += 1;
                if seen > scan {
                    break 'walk;
                }
                let path = if dir.is_empty() {
                    name.clone()
                } else {
                    format!("{dir}/{name}")
                };
                if is_dir {
                    folders.push(path);
                } else if let Ok(st) =
                    rustix::fs::statat(&fd, name.as_str(), AtFlags::SYMLINK_NOFOLLOW)
                {
                    files.push((st.st_mtime, path));
                }
            }
        }
        files.sort_by(|a, b| b.cmp(a));
        files.truncate(limit);
        Ok(files.into_iter().map(|(_, p)| p).collect())
    }

    /// The next free number `n` for names `{prefix}{n}{suffix}` in folder `dir`.
    pub fn next_number(dir: &OwnedFd, prefix: &str, suffix: &str) -> io::Result<u64> {
        let mut max = 0;
        for entry in rustix::fs::Dir::read_from(dir)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy();
            if let Some(n) = name
                .strip_prefix(prefix)
                .and_then(|r| r.strip_suffix(suffix))
                .and_then(|n| n.parse::<u64>().ok())
            {
                max = max.max(n);
            }
        }
        Ok(max + 1)
    }
}

fn beneath(dir: &OwnedFd, name: &str, flags: OFlags) -> io::Result<OwnedFd> {
    Ok(rustix::fs::openat2(
        dir,
        name,
        flags | OFlags::CLOEXEC | OFlags::NOFOLLOW,
        Mode::empty(),
        ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS,
    )?)
}

/// `("a/b", "c.py")` for `"a/b/c.py"`; `("", "c.py")` for `"c.py"`.
pub fn split(path: &str) -> (&str, &str) {
    path.rsplit_once('/').unwrap_or(("", path))
}

/// A caller's path made relative to the workspace: a leading `analytics/` (or `./`) is dropped;
/// absolute paths, `..`, empty parts, hidden names and odd characters are refused with what to
/// send instead.
pub fn relative_path(argument: &'static str, path: &str) -> Result<String, ToolError> {
    let bad = |problem: String| ToolError::InvalidArgument { argument, problem };
    let example = "send a path relative to the analytics/ workspace, such as \
                   \"INC-0001/errors.py\" or \"analytics/INC-0001/logs-1.json\"";
    if path.starts_with('/') {
        return Err(bad(format!(
            "{path:?} is absolute; files live only in the analytics/ workspace: {example}"
        )));
    }
    let mut rest = path.trim();
    while let Some(r) = rest.strip_prefix("./") {
        rest = r;
    }
    let rest = rest.strip_prefix("analytics/").unwrap_or(rest);
    if rest.is_empty() || rest.len() > 512 {
        return Err(bad(format!("{path:?} is empty or too long; {example}")));
    }
    let mut parts = Vec::new();
    for part in rest.split('/') {
        match part {
            "" | "." => continue,
            ".." => {
                return Err(bad(format!(
                    "{path:?} contains \"..\"; paths stay inside the analytics/ workspace: {example}"
                )));
            }
            p if p.starts_with('.') => {
                return Err(bad(format!(
                    "{path:?} has a hidden name ({p:?}); {example}"
                )));
            }
            p if !p
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')) =>
            {
                return Err(bad(format!(
                    "{path:?}: {p:?} has characters other than letters, digits, '-', '_' and \
                     '.'; {example}"
                )));
            }
            p => parts.push(p),
        }
    }
    if parts.is_empty() {
        return Err(bad(format!("{path:?} names no file; {example}")));
    }
    Ok(parts.join("/"))
}

/// A file being written in a folder of the workspace, invisible until [`AtomicFile::commit`];
/// dropped uncommitted, it is removed.
pub struct AtomicFile {
    dir: OwnedFd,
    temp: String,
    file: io::BufWriter<std::fs::File>,
    committed: bool,
}

impl AtomicFile {
    /// A temporary file in `dir`.
    pub fn create(dir: &OwnedFd) -> io::Result<AtomicFile> {
        let dir = dir.try_clone()?;
        // Unique per process and call; O_EXCL refuses a clash rather than sharing a file.
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let temp = format!(".tmp-{}-{n}", std::process::id());
        let fd = rustix::fs::openat(
            &dir,
            temp.as_str(),
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o644),
        )?;
        Ok(AtomicFile {
            dir,
            temp,
            file: io::BufWriter::with_capacity(256 * 1024, std::fs::File::from(fd)),
            committed: false,
        })
    }

    /// Flushes and fsyncs the content, then gives it `name`: replacing an existing file when
    /// `replace`, else failing with `AlreadyExists`.
    pub fn commit(&mut self, name: &str, replace: bool) -> io::Result<()> {
        self.file.flush()?;
        self.file.get_ref().sync_all()?;
        let flags = if replace {
            RenameFlags::empty()
        } else {
            RenameFlags::NOREPLACE
        };
        rustix::fs::renameat_with(&self.dir, self.temp.as_str(), &self.dir, name, flags)?;
        self.committed = true;
        // The rename is durable once the folder is.
        rustix::fs::fsync(&self.dir)?;
        Ok(())
    }

    /// Commits under the first free `{prefix}{n}{suffix}` and returns that name.
    pub fn commit_numbered(&mut self, prefix: &str, suffix: &str) -> io::Result<String> {
        let mut n = Workspace::next_number(&self.dir, prefix, suffix)?;
        // Another call may take the same number between the listing and the rename.
        for _ in 0..64 {
            let name = format!("{prefix}{n}{suffix}");
            match self.commit(&name, false) {
                Ok(()) => return Ok(name),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => n += 1,
                Err(e) => return Err(e),
            }
        }
        Err(io::Error::other("no free file number after 64 tries"))
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if !self.committed {
            let _ = rustix::fs::unlinkat(self.dir.as_fd(), self.temp.as_str(), AtFlags::empty());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_made_relative_or_refused() {
        let ok = |p: &str| relative_path("script_path", p).unwrap();
        assert_eq!(ok("INC-0001/errors.py"), "INC-0001/errors.py");
        assert_eq!(ok("analytics/INC-0001/errors.py"), "INC-0001/errors.py");
        assert_eq!(ok("./analytics//a/./b.py"), "a/b.py");
        for bad in [
            "/etc/passwd",
            "../x.py",
            "a/../../x.py",
            "",
            "analytics/",
            "a/.hidden.py",
            "a b.py",
            "a\0b",
        ] {
            let err = relative_path("script_path", bad).unwrap_err().to_string();
            assert!(err.contains("script_path"), "{err}");
            assert!(err.contains("analytics"), "{bad}: {err}");
        }
    }

    #[test]
    fn atomic_files_appear_whole_and_never_through_symlinks() {
        let tmp = tempfile::tempdir().unwrap();
        let ws = Workspace::create(tmp.path().join("analytics")).unwrap();
        let dir = ws.open_dir("INC-1", true).unwrap();
        let mut f = AtomicFile::create(&dir).unwrap();
        f.write_all(b"[]").unwrap();
        assert_eq!(f.commit_numbered("logs-", ".json").unwrap(), "logs-1.json");
        let mut g = AtomicFile::create(&dir).unwrap();
        g.write_all(b"[1]").unwrap();
        assert_eq!(g.commit_numbered("logs-", ".json").unwrap(), "logs-2.json");
        // An abandoned write leaves nothing behind.
        {
            let mut h = AtomicFile::create(&dir).unwrap();
            h.write_all(b"half").unwrap();
        }
        let names: Vec<_> = std::fs::read_dir(ws.root().join("INC-1"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
        // A symlink in the workspace is never followed.
        std::os::unix::fs::symlink(tmp.path(), ws.root().join("INC-1/escape")).unwrap();
        assert!(ws.open_dir("INC-1/escape", true).is_err());
        assert!(ws.open_file("INC-1/escape/analytics").is_err());
        assert_eq!(
            std::io::read_to_string(ws.open_file("INC-1/logs-2.json").unwrap()).unwrap(),
            "[1]"
        );
    }
}
