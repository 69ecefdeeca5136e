//! A JSON-lines file: one line per notification, appended and fsync'd before the send counts as
//! delivered. It is the default channel when nothing is configured, so a laptop or a test run
//! keeps every notification without any receiver, and a useful audit trail beside real
//! channels.
//!
//! ```text
//! {"idempotency_key":"INC-0042-opened","channel":"file","incident_id":"INC-0042","severity":"SEV2","message":"…","created_at":"2026-11-26T10:00:00Z","written_at":"2026-11-26T10:00:00.0123Z"}
//! ```
//!
//! # No line twice
//!
//! A worker that crashes after writing a line but before the store records the delivery sends
//! the notification again. The file itself is the record of what was written, so the channel
//! dedupes against it: it keeps the set of idempotency keys in the file (read once, then only
//! what was appended since, by this or any other process), and a key already there counts as
//! delivered without writing. Each send takes an exclusive `flock` on the file around "read
//! what is new, check, append, fsync", so two processes sharing the file cannot both append one
//! key. A line torn by a crash mid-write (no trailing newline) is ended with a newline and
//! ignored; its notification is written again whole. The index costs memory in proportion to
//! the keys in the file; if the file is truncated or replaced (rotation), the index starts
//! over from the new file, and only keys still in it are deduped.

mod config;
#[cfg(test)]
mod tests;

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;
use serde::Serialize;

pub use config::FileConfig;

use crate::channel::Channel;
use crate::config::FALLBACK_FILE;
use crate::error::{DeliveryError, NotifyError};
use crate::notification::Notification;

/// One line of the file.
#[derive(Debug, Serialize)]
struct Line<'a> {
    idempotency_key: &'a str,
    channel: &'a str,
    incident_id: Option<&'a str>,
    severity: Option<&'a str>,
    message: &'a str,
    created_at: String,
    written_at: String,
}

/// The keys known to be in the file, and how far it has been read.
#[derive(Debug, Default)]
struct Index {
    keys: HashSet<String>,
    scanned: u64,
}

/// A JSON-lines file channel.
pub struct FileChannel {
    path: PathBuf,
    index: Arc<Mutex<Index>>,
}

impl FileChannel {
    /// Builds the channel called `name`; relative paths are resolved against `data_dir`.
    /// Nothing is opened until the first send.
    pub fn new(
        name: &str,
        config: &FileConfig,
        data_dir: &Path,
    ) -> Result<FileChannel, NotifyError> {
        let path = match &config.path {
            Some(p) if p.as_os_str().is_empty() => {
                return Err(NotifyError::Config {
                    channel: name.to_string(),
                    message: "path is empty; name a file or leave path out".into(),
                });
            }
            Some(p) if p.is_relative() => data_dir.join(p),
            Some(p) => p.clone(),
            None => data_dir.join(FALLBACK_FILE),
        };
        Ok(FileChannel {
            path,
            index: Arc::new(Mutex::new(Index::default())),
        })
    }

    /// The file written to.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Channel for FileChannel {
    fn kind(&self) -> &'static str {
        "file"
    }

    fn target(&self) -> String {
        self.path.display().to_string()
    }

    fn send<'a>(&'a self, n: &'a Notification) -> BoxFuture<'a, Result<(), DeliveryError>> {
        Box::pin(async move {
            let line = Line {
                idempotency_key: &n.idempotency_key,
                channel: &n.channel,
                incident_id: n.incident_id.as_deref(),
                severity: n.severity.map(|s| s.as_str()),
                message: &n.message,
                created_at: n.created_at.to_string(),
                written_at: jiff::Timestamp::now().to_string(),
            };
            let mut bytes = serde_json::to_vec(&line)
                .map_err(|e| DeliveryError::permanent(format!("encoding the line: {e}")))?;
            bytes.push(b'\n');
            let key = n.idempotency_key.clone();
            let path = self.path.clone();
            let index = self.index.clone();
            let written =
                tokio::task::spawn_blocking(move || append_once(&path, &index, &key, &bytes))
                    .await
                    .map_err(|e| DeliveryError::retryable(format!("file writer task: {e}")))?;
            match written {
                Ok(true) => Ok(()),
                Ok(false) => {
                    tracing::info!(
                        key = %n.idempotency_key, path = %self.path.display(),
                        "already in the file; not written again"
                    );
                    Ok(())
                }
                Err(e) => Err(DeliveryError::retryable(format!(
                    "{}: {e}",
                    self.path.display()
                ))),
            }
        })
    }
}

/// Appends `line` unless `key` is already in the file. Returns whether it wrote.
fn append_once(path: &Path, index: &Mutex<Index>, key: &str, line: &[u8]) -> std::io::Result<bool> {
    let mut index = index
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let created = !path.exists();
    if created
        && let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir)?;
    }
    let mut file = OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(path)?;
    // Released when `file` is dropped.
    rustix::fs::flock(&file, rustix::fs::FlockOperation::LockExclusive)?;
    let len = file.metadata()?.len();
    if len < index.scanned {
        // Truncated or replaced: what we knew no longer describes this file.
        *index = Index::default();
    }
    catch_up(&mut file, &mut index, len)?;
    if index.keys.contains(key) {
        return Ok(false);
    }
    if ends_mid_line(&mut file, len)? {
        // A write torn by a crash: end it, so our line stands on its own.
        file.write_all(b"\n")?;
    }
    file.write_all(line)?;
    file.sync_all()?;
    if created && let Some(dir) = path.parent() {
        // The file's directory entry must survive a power cut too.
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        File::open(dir)?.sync_all()?;
    }
    index.keys.insert(key.to_string());
    index.scanned = file.metadata()?.len();
    Ok(true)
}

/// Whether the file's last byte is not a newline.
fn ends_mid_line(file: &mut File, len: u64) -> std::io::Result<bool> {
    if len == 0 {
        return Ok(false);
    }
    file.seek(SeekFrom::Start(len - 1))?;
    let mut last = [0u8; 1];
    file.read_exact(&mut last)?;
    Ok(last[0] != b'\n')
}

/// Reads the keys of the complete lines appended since the last look.
fn catch_up(file: &mut File, index: &mut Index, len: u64) -> std::io::Result<()> {
    if len == index.scanned {
        return Ok(());
    }
    file.seek(SeekFrom::Start(index.scanned))?;
    let mut buf = Vec::new();
    Read::take(&mut *file, len - index.scanned).read_to_end(&mut buf)?;
    let complete = buf.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    for line in buf[..complete].split(|b| *b == b'\n') {
        if line.is_empty() {
            continue;
        }
        match serde_json::from_slice::<serde_json::Value>(line) {
            Ok(v) => {
                if let Some(k) = v.get("idempotency_key").and_then(|k| k.as_str()) {
                    index.keys.insert(k.to_string());
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "skipping an unreadable line in the notifications file")
            }
        }
    }
    // A torn tail is skipped for good: a newline is written after it before the next line.
    index.scanned = len;
    Ok(())
}
