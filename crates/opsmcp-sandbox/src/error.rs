//! What can go wrong before, while or after a script runs, each worded so that the caller (often a
//! model) knows what to send instead.

use std::io;
use std::path::PathBuf;

/// Why a run was refused or could not be carried out. A script that runs and fails is not an
/// error: it is a [`crate::RunOutcome`] with its exit code, stderr and the limit it hit.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// The path was absolute.
    #[error(
        "{field} {path:?} is an absolute path; send a path relative to the analytics workspace, such as \"scripts/errors.py\""
    )]
    AbsolutePath {
        /// Which request field (`script`, `data`, `output_dir`).
        field: &'static str,
        /// The path as sent.
        path: String,
    },
    /// The path contained `..`.
    #[error(
        "{field} {path:?} contains \"..\"; send a path that stays inside the analytics workspace without going up, such as \"data/logs.json\""
    )]
    ParentComponent {
        /// Which request field.
        field: &'static str,
        /// The path as sent.
        path: String,
    },
    /// The path was empty, contained a NUL byte, or was otherwise not usable.
    #[error(
        "{field} {path:?} is not a usable path ({why}); send a relative file path inside the analytics workspace"
    )]
    InvalidPath {
        /// Which request field.
        field: &'static str,
        /// The path as sent.
        path: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// The path, or one of the folders on the way, is a symbolic link.
    #[error(
        "{field} {path:?} is or passes through a symbolic link, which the sandbox never follows; send the path of the real file inside the analytics workspace"
    )]
    Symlink {
        /// Which request field.
        field: &'static str,
        /// The path as sent.
        path: String,
    },
    /// The path resolves outside the workspace (another mount, or an escape).
    #[error(
        "{field} {path:?} resolves outside the analytics workspace; copy the file into the workspace and send its relative path"
    )]
    OutsideWorkspace {
        /// Which request field.
        field: &'static str,
        /// The path as sent.
        path: String,
    },
    /// The file has more than one hard link, so it may be the same file as one outside the workspace.
    #[error(
        "{field} {path:?} has {links} hard links; the sandbox only runs files with exactly one name, so write a fresh copy into the workspace and send its path"
    )]
    HardLinked {
        /// Which request field.
        field: &'static str,
        /// The path as sent.
        path: String,
        /// How many names the file has.
        links: u64,
    },
    /// Not a regular file (FIFO, device, socket, folder).
    #[error(
        "{field} {path:?} is a {kind}, not a regular file; send the path of a regular file in the analytics workspace"
    )]
    NotRegularFile {
        /// Which request field.
        field: &'static str,
        /// The path as sent.
        path: String,
        /// What it is instead.
        kind: &'static str,
    },
    /// Nothing at that path.
    #[error(
        "{field} {path:?} does not exist in the analytics workspace; write the file first, or send the path of an existing one"
    )]
    NotFound {
        /// Which request field.
        field: &'static str,
        /// The path as sent.
        path: String,
    },
    /// The output folder already exists; each run writes into a fresh one.
    #[error(
        "output_dir {path:?} already exists; send a new folder name (each run writes into a folder of its own)"
    )]
    OutputExists {
        /// The path as sent.
        path: String,
    },
    /// A limit in the settings is out of bounds.
    #[error(
        "sandbox setting {setting} = {value} is out of bounds; use a value from {min} to {max}"
    )]
    BadLimit {
        /// Which setting.
        setting: &'static str,
        /// The value given.
        value: u64,
        /// Smallest allowed.
        min: u64,
        /// Largest allowed.
        max: u64,
    },
    /// The workspace has no room for another run's output, even after retention.
    #[error(
        "the analytics workspace holds {used_mb} MiB in {used_files} entries, and a run needs room for {run_mb} MiB and {run_files} entries within the quota of {quota_mb} MiB and {quota_files} entries; delete files from the workspace (or let retention remove old output folders: keep_outputs_hours, keep_outputs_mb), or raise workspace_mb / workspace_files in [sandbox]"
    )]
    WorkspaceFull {
        /// Allocated MiB in the workspace.
        used_mb: u64,
        /// Entries in the workspace.
        used_files: u64,
        /// `workspace_mb`.
        quota_mb: u64,
        /// `workspace_files`.
        quota_files: u64,
        /// `output_mb`.
        run_mb: u64,
        /// `output_files`.
        run_files: u64,
    },
    /// A required confinement layer is missing: the run is refused rather than run unconfined.
    #[error("{reason}; analysis scripts are refused rather than run unconfined")]
    Unavailable {
        /// Which layer is missing and why.
        reason: String,
    },
    /// The workspace folder itself cannot be opened.
    #[error(
        "cannot open the analytics workspace {path}: {source}; check that the folder exists and is readable by the server"
    )]
    Workspace {
        /// The workspace path.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// Confining or starting the child failed.
    #[error("could not start the confined interpreter (step: {step}): {source}")]
    Setup {
        /// Which step failed (for example `landlock_restrict_self`).
        step: &'static str,
        /// The OS error.
        source: io::Error,
    },
    /// Any other I/O failure around the run.
    #[error("{context}: {source}")]
    Io {
        /// What the sandbox was doing.
        context: &'static str,
        /// The OS error.
        source: io::Error,
    },
}

impl SandboxError {
    pub(crate) fn io(context: &'static str) -> impl FnOnce(io::Error) -> SandboxError {
        move |source| SandboxError::Io { context, source }
    }
}
