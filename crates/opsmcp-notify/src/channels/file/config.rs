//! `type = "file"`: one JSON line per notification in a local file.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Settings of a file channel.
///
/// ```toml
/// [notify.channels.audit-file]
/// type = "file"
/// path = "notifications.jsonl"     # relative to the data directory; this is the default
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// The file to append to, created with its directory if missing. Relative paths are inside
    /// the data directory; by default `<data_dir>/notifications.jsonl`.
    #[serde(default)]
    pub path: Option<PathBuf>,
}
