//! Paths from a request, opened so that what was checked is what runs: `openat2` beneath the
//! workspace descriptor with no symlinks, no magic links and no mount crossing, then `fstat` on the
//! very descriptor that is handed on.

use std::os::fd::{AsFd, OwnedFd};
use std::path::{Component, Path};

use rustix::fs::{AtFlags, FileType, Mode, OFlags, ResolveFlags};
use rustix::io::Errno;

use crate::SandboxError;
use crate::error::SandboxError as E;

/// The resolve flags every lookup beneath the workspace uses.
fn resolve() -> ResolveFlags {
    ResolveFlags::BENEATH
        | ResolveFlags::NO_SYMLINKS
        | ResolveFlags::NO_MAGICLINKS
        | ResolveFlags::NO_XDEV
}

/// Checks a request path lexically: relative, no `..`, not empty, no NUL.
pub(crate) fn check_relative(field: &'static str, path: &str) -> Result<(), SandboxError> {
    let p = path.to_owned();
    if path.is_empty() {
        return Err(E::InvalidPath {
            field,
            path: p,
            why: "it is empty",
        });
    }
    if path.contains('\0') {
        return Err(E::InvalidPath {
            field,
            path: p,
            why: "it contains a NUL byte",
        });
    }
    let parsed = Path::new(path);
    if parsed.is_absolute() {
        return Err(E::AbsolutePath { field, path: p });
    }
    for c in parsed.components() {
        match c {
            Component::ParentDir => return Err(E::ParentComponent { field, path: p }),
            Component::Normal(_) | Component::CurDir => {}
            Component::RootDir | Component::Prefix(_) => {
                return Err(E::AbsolutePath { field, path: p });
            }
        }
    }
    if !parsed
        .components()
        .any(|c| matches!(c, Component::Normal(_)))
    {
        return Err(E::InvalidPath {
            field,
            path: p,
            why: "it names no file",
        });
    }
    Ok(())
}

fn map_open_error(field: &'static str, path: &str, e: Errno) -> SandboxError {
    let p = path.to_owned();
    match e {
        Errno::LOOP => E::Symlink { field, path: p },
        Errno::XDEV => E::OutsideWorkspace { field, path: p },
        Errno::NOENT => E::NotFound { field, path: p },
        Errno::NOTDIR => E::InvalidPath {
            field,
            path: p,
            why: "a folder on the way is a file",
        },
        Errno::ISDIR => E::NotRegularFile {
            field,
            path: p,
            kind: "folder",
        },
        other => E::Io {
            context: "opening a file in the analytics workspace",
            source: other.into(),
        },
    }
}

fn kind_name(t: FileType) -> &'static str {
    match t {
        FileType::RegularFile => "regular file",
        FileType::Directory => "folder",
        FileType::Symlink => "symbolic link",
        FileType::Fifo => "FIFO (named pipe)",
        FileType::Socket => "socket",
        FileType::CharacterDevice => "character device",
        FileType::BlockDevice => "block device",
        FileType::Unknown => "file of unknown type",
    }
}

/// Opens a regular file beneath the workspace with no second name and returns its descriptor.
pub(crate) fn open_input(
    workspace: &OwnedFd,
    field: &'static str,
    path: &str,
) -> Result<OwnedFd, SandboxError> {
    check_relative(field, path)?;
    // O_NONBLOCK so that a FIFO does not block the open; it is refused by fstat right after.
    let fd = rustix::fs::openat2(
        workspace,
        path,
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NOCTTY | OFlags::NONBLOCK,
        Mode::empty(),
        resolve(),
    )
    .map_err(|e| map_open_error(field, path, e))?;
    let st = rustix::fs::fstat(&fd).map_err(|e| E::Io {
        context: "fstat on an input file",
        source: e.into(),
    })?;
    let kind = FileType::from_raw_mode(st.st_mode);
    if kind != FileType::RegularFile {
        return Err(E::NotRegularFile {
            field,
            path: path.to_owned(),
            kind: kind_name(kind),
        });
    }
    #[allow(clippy::useless_conversion)]
    let links = u64::from(st.st_nlink);
    // A second name may be a file outside the workspace. No name left (0) is a file renamed
    // over after we opened it: what we hold is one whole version of it, nobody else's.
    if links > 1 {
        return Err(E::HardLinked {
            field,
            path: path.to_owned(),
            links,
        });
    }
    Ok(fd)
}

/// Copies a checked input into a sealed memfd: the child reopens it as `/dev/fd/N`, which works
/// after the uid drop whatever the original file's mode, and the seals make it read-only for good.
pub(crate) fn sealed_copy(src: OwnedFd, name: &str) -> Result<OwnedFd, SandboxError> {
    let mut from = std::fs::File::from(src);
    sealed(name, |to| {
        // The source was opened O_NONBLOCK for the FIFO check; regular files ignore it.
        // `io::copy` between two files moves the bytes in the kernel (copy_file_range).
        std::io::copy(&mut from, to).map(|_| ())
    })
}

/// A sealed memfd holding exactly `bytes` (a script sent with the call).
pub(crate) fn sealed_bytes(bytes: &[u8], name: &str) -> Result<OwnedFd, SandboxError> {
    use std::io::Write;
    sealed(name, |to| to.write_all(bytes))
}

fn sealed(
    name: &str,
    fill: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>,
) -> Result<OwnedFd, SandboxError> {
    use rustix::fs::{MemfdFlags, SealFlags};
    let memfd = rustix::fs::memfd_create(name, MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING)
        .map_err(|e| E::Io {
            context: "memfd_create for an input copy",
            source: e.into(),
        })?;
    let memfd = crate::confine::above_stdio(memfd)
        .map_err(SandboxError::io("memfd_create for an input copy"))?;
    let mut to = std::fs::File::from(memfd);
    fill(&mut to).map_err(SandboxError::io("copying an input file"))?;
    let memfd = OwnedFd::from(to);
    rustix::fs::fcntl_add_seals(
        &memfd,
        SealFlags::WRITE | SealFlags::GROW | SealFlags::SHRINK | SealFlags::SEAL,
    )
    .map_err(|e| E::Io {
        context: "sealing an input copy",
        source: e.into(),
    })?;
    Ok(memfd)
}

/// Creates the output folder beneath the workspace (its last component must be new; the folders
/// before it are created if missing), marks it as a run's (see [`crate::outputs::MARKER`]) and
/// returns a descriptor on it. The script never writes here: its writes go to a tmpfs mounted
/// over this folder in the run's namespace, copied here by the server afterwards.
pub(crate) fn create_output_dir(workspace: &OwnedFd, path: &str) -> Result<OwnedFd, SandboxError> {
    const FIELD: &str = "output_dir";
    check_relative(FIELD, path)?;
    let comps: Vec<&str> = Path::new(path)
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => s.to_str(),
            _ => None,
        })
        .collect();
    let mut dir: Option<OwnedFd> = None;
    for (i, comp) in comps.iter().enumerate() {
        let last = i + 1 == comps.len();
        let parent = dir.as_ref().map_or(workspace.as_fd(), |d| d.as_fd());
        match rustix::fs::mkdirat(parent, *comp, Mode::from_raw_mode(0o755)) {
            Ok(()) => {}
            Err(Errno::EXIST) if !last => {}
            Err(Errno::EXIST) => {
                return Err(E::OutputExists {
                    path: path.to_owned(),
                });
            }
            Err(e) => return Err(map_open_error(FIELD, path, e)),
        }
        let next = rustix::fs::openat2(
            parent,
            *comp,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
            resolve(),
        )
        .map_err(|e| match e {
            // O_DIRECTORY | O_NOFOLLOW on a symlink gives ENOTDIR rather than ELOOP.
            Errno::NOTDIR => match rustix::fs::statat(parent, *comp, AtFlags::SYMLINK_NOFOLLOW) {
                Ok(st) if FileType::from_raw_mode(st.st_mode) == FileType::Symlink => E::Symlink {
                    field: FIELD,
                    path: path.to_owned(),
                },
                _ => E::InvalidPath {
                    field: FIELD,
                    path: path.to_owned(),
                    why: "a part of it is a file, not a folder",
                },
            },
            other => map_open_error(FIELD, path, other),
        })?;
        dir = Some(next);
    }
    let dir = dir.ok_or(E::InvalidPath {
        field: FIELD,
        path: path.to_owned(),
        why: "it names no folder",
    })?;
    crate::outputs::mark(&dir).map_err(|e| E::Io {
        context: "marking the output folder",
        source: e.into(),
    })?;
    let dir =
        crate::confine::above_stdio(dir).map_err(SandboxError::io("opening the output folder"))?;
    Ok(dir)
}

/// A file the script left in its output folder.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct WrittenFile {
    /// Path relative to the workspace.
    pub path: String,
    /// Size in bytes.
    pub bytes: u64,
}

/// Most entries reported, so a script that creates millions of files cannot make the report huge.
const MAX_REPORTED: usize = 10_000;

/// Walks the output folder without following symlinks and lists the regular files in it.
pub(crate) fn walk_output(dir: &OwnedFd, prefix: &str) -> Vec<WrittenFile> {
    let mut out = Vec::new();
    walk(dir, prefix, 0, &mut out);
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

fn walk(dir: &OwnedFd, prefix: &str, depth: usize, out: &mut Vec<WrittenFile>) {
    if depth > 32 || out.len() >= MAX_REPORTED {
        return;
    }
    let Ok(reader) = rustix::fs::openat(
        dir,
        ".",
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    ) else {
        return;
    };
    let Ok(entries) = rustix::fs::Dir::new(reader) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == "." || name == ".." || (depth == 0 && name == crate::outputs::MARKER) {
            continue;
        }
        let Ok(st) = rustix::fs::statat(dir, entry.file_name(), AtFlags::SYMLINK_NOFOLLOW) else {
            continue;
        };
        let rel = format!("{prefix}/{name}");
        match FileType::from_raw_mode(st.st_mode) {
            FileType::RegularFile => {
                out.push(WrittenFile {
                    path: rel,
                    bytes: st.st_size.max(0) as u64,
                });
                if out.len() >= MAX_REPORTED {
                    return;
                }
            }
            FileType::Directory => {
                if let Ok(sub) = rustix::fs::openat2(
                    dir,
                    entry.file_name(),
                    OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                    Mode::empty(),
                    resolve(),
                ) {
                    walk(&sub, &rel, depth + 1, out);
                }
            }
            _ => {}
        }
    }
}
