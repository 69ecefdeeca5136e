//! The audit log's key and anchor, both kept outside the database.
//!
//! - The key (32 random bytes, hex in a file, 0600) makes each link an HMAC-SHA256: whoever can
//!   write the database but not read the key cannot recompute the chain after an edit.
//! - The anchor is the chain's head (count and last link) as of the last audit write: written to
//!   the log and the `opsmcp_audit_entries` gauge on every batch, and to a small file beside the
//!   key (`audit.head`, replaced atomically, MAC'd with the key). Deleting entries from the end
//!   and rewinding the counter leaves a valid chain that ends before the anchor: verification
//!   reports it.
//!
//! Link format: a keyed link is `k1:` followed by the HMAC in hex; a link without the prefix is a
//! legacy plain SHA-256 link from before the key. A chain may start with legacy links and switch
//! to keyed ones once; never back.

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::error::StoreError;

/// The prefix of a keyed link.
pub(crate) const KEYED: &str = "k1:";

/// The anchor file's name, beside the key file.
pub const ANCHOR_FILE: &str = "audit.head";

/// Bytes of a generated key.
const KEY_BYTES: usize = 32;

/// The audit key and where its anchor lives. Never printed.
#[derive(Clone)]
pub struct AuditKey {
    mac: Hmac<Sha256>,
    anchor: Option<PathBuf>,
}

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditKey")
            .field("anchor", &self.anchor)
            .finish_non_exhaustive()
    }
}

fn key_error(path: &Path, detail: impl std::fmt::Display) -> StoreError {
    StoreError::AuditKey {
        path: path.display().to_string(),
        detail: detail.to_string(),
    }
}

impl AuditKey {
    /// A key from its bytes (at least 32), with its anchor file at `anchor` (none: no file).
    pub fn from_bytes(bytes: &[u8], anchor: Option<PathBuf>) -> Result<AuditKey, StoreError> {
        if bytes.len() < KEY_BYTES {
            return Err(StoreError::Invalid {
                field: "audit key",
                message: format!("{} bytes; use at least {KEY_BYTES}", bytes.len()),
            });
        }
        let mac = Hmac::<Sha256>::new_from_slice(bytes).map_err(|e| StoreError::Invalid {
            field: "audit key",
            message: e.to_string(),
        })?;
        Ok(AuditKey { mac, anchor })
    }

    /// Reads the key file at `path` (hex, at least 32 bytes); its anchor is `audit.head` beside it.
    pub fn load(path: &Path) -> Result<AuditKey, StoreError> {
        let text = std::fs::read_to_string(path).map_err(|e| key_error(path, e))?;
        let bytes = hex::decode(text.trim())
            .map_err(|e| key_error(path, format!("not hex ({e}); the file holds 64 hex digits")))?;
        AuditKey::from_bytes(&bytes, Some(anchor_beside(path)))
            .map_err(|e| key_error(path, e.to_string()))
    }

    /// [`AuditKey::load`], creating the file first when it does not exist: 32 random bytes,
    /// mode 0600, written to a temporary file and renamed into place (so a crash never leaves a
    /// half-written key, and two processes starting at once agree on one key). A missing folder
    /// is created 0700.
    pub fn load_or_create(path: &Path) -> Result<AuditKey, StoreError> {
        if !path.exists() {
            let mut bytes = [0u8; KEY_BYTES];
            getrandom::fill(&mut bytes).map_err(|e| key_error(path, e))?;
            let text = format!("{}\n", hex::encode(bytes));
            write_new(path, text.as_bytes()).map_err(|e| key_error(path, e))?;
            tracing::info!(path = %path.display(), "audit key created");
        }
        AuditKey::load(path)
    }

    /// The keyed link over `prev` and an entry's canonical form.
    pub(crate) fn link(&self, prev: &str, canonical: &str) -> String {
        let mut mac = self.mac.clone();
        mac.update(prev.as_bytes());
        mac.update(b"\n");
        mac.update(canonical.as_bytes());
        format!("{KEYED}{}", hex::encode(mac.finalize().into_bytes()))
    }

    fn anchor_mac(&self, a: &AnchorBody) -> String {
        let mut mac = self.mac.clone();
        mac.update(
            format!(
                "opsmcp-audit-anchor\n{}\n{}\n{}",
                a.count,
                a.head,
                a.keyed_since.unwrap_or(0)
            )
            .as_bytes(),
        );
        hex::encode(mac.finalize().into_bytes())
    }

    /// The anchor file's path, when there is one.
    pub fn anchor_path(&self) -> Option<&Path> {
        self.anchor.as_deref()
    }

    /// Reads the anchor file: `Ok(None)` when there is none (or no path), an error when it
    /// exists but cannot be read or does not carry this key's MAC.
    pub fn read_anchor(&self) -> Result<Option<Anchor>, StoreError> {
        let Some(path) = &self.anchor else {
            return Ok(None);
        };
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(key_error(path, e)),
        };
        let file: AnchorFile = serde_json::from_str(&text)
            .map_err(|e| key_error(path, format!("the anchor file is not valid: {e}")))?;
        if self.anchor_mac(&file.body) != file.mac {
            return Err(key_error(
                path,
                "the anchor file does not carry this key's MAC (edited, or another key)",
            ));
        }
        Ok(Some(Anchor {
            count: file.body.count,
            head: file.body.head,
            keyed_since: file.body.keyed_since,
        }))
    }

    fn write_anchor(&self, a: &AnchorBody) -> std::io::Result<()> {
        let Some(path) = &self.anchor else {
            return Ok(());
        };
        let file = AnchorFile {
            mac: self.anchor_mac(a),
            body: a.clone(),
        };
        let text = serde_json::to_vec(&file).map_err(std::io::Error::other)?;
        replace(path, &text)
    }
}

/// The chain's head as last recorded outside the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    /// How many entries the log had.
    pub count: i64,
    /// The link of entry `count`.
    pub head: String,
    /// The first keyed entry, when known.
    pub keyed_since: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct AnchorBody {
    count: i64,
    head: String,
    keyed_since: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize)]
struct AnchorFile {
    #[serde(flatten)]
    body: AnchorBody,
    mac: String,
}

/// `audit.head` beside the key file.
fn anchor_beside(key: &Path) -> PathBuf {
    key.with_file_name(ANCHOR_FILE)
}

/// At most one anchor file write per this long: the file is replaced off the request path, by
/// a thread of its own, with the newest head (a rename can cost the file system a flush).
const ANCHOR_FILE_EVERY: Duration = Duration::from_millis(100);

/// The key in use by a store, and the anchor it keeps up to date.
#[derive(Debug)]
pub(crate) struct Seal {
    pub(crate) key: AuditKey,
    shared: Arc<Shared>,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
}

#[derive(Debug)]
struct Shared {
    key: AuditKey,
    state: Mutex<State>,
    wake: Condvar,
    /// Held while the file is written, so writes land in order.
    writing: Mutex<()>,
}

#[derive(Debug, Default)]
struct State {
    /// The newest head this process knows of.
    latest: Option<AnchorBody>,
    /// The count of the head last written to the file.
    written: i64,
    closed: bool,
}

impl State {
    fn pending(&self) -> bool {
        self.latest.as_ref().is_some_and(|l| l.count > self.written)
    }
}

impl Shared {
    /// Writes the newest head to the file, unless it already holds it.
    fn write_latest(&self) {
        let Ok(_writing) = self.writing.lock() else {
            return;
        };
        let body = match self.state.lock() {
            Ok(s) if s.pending() => s.latest.clone(),
            _ => None,
        };
        let Some(body) = body else {
            return;
        };
        if let Err(e) = self.key.write_anchor(&body) {
            tracing::error!(error = %e, "the audit anchor file was not written");
        }
        if let Ok(mut s) = self.state.lock() {
            s.written = s.written.max(body.count);
        }
    }

    /// The writer thread: waits for a new head, writes it, rests, until closed.
    fn run(&self) {
        loop {
            {
                let Ok(mut s) = self.state.lock() else {
                    return;
                };
                while !s.pending() && !s.closed {
                    s = match self.wake.wait(s) {
                        Ok(s) => s,
                        Err(_) => return,
                    };
                }
                if s.closed {
                    return;
                }
            }
            self.write_latest();
            let until = Instant::now() + ANCHOR_FILE_EVERY;
            let Ok(mut s) = self.state.lock() else {
                return;
            };
            while !s.closed {
                let now = Instant::now();
                if now >= until {
                    break;
                }
                s = match self.wake.wait_timeout(s, until - now) {
                    Ok((s, _)) => s,
                    Err(_) => return,
                };
            }
        }
    }
}

impl Seal {
    pub(crate) fn new(key: AuditKey) -> Arc<Seal> {
        // Where keying began carries over from the anchor an earlier process left.
        let latest = match key.read_anchor() {
            Ok(a) => a.map(|a| AnchorBody {
                count: a.count,
                head: a.head,
                keyed_since: a.keyed_since,
            }),
            Err(e) => {
                tracing::warn!(error = %e, "the audit anchor cannot be read; a new one will be written");
                None
            }
        };
        let written = latest.as_ref().map_or(0, |l| l.count);
        let shared = Arc::new(Shared {
            key: key.clone(),
            state: Mutex::new(State {
                latest,
                written,
                closed: false,
            }),
            wake: Condvar::new(),
            writing: Mutex::new(()),
        });
        let writer = key.anchor.is_some().then(|| {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("audit-anchor".into())
                .spawn(move || shared.run())
        });
        let writer = match writer {
            Some(Ok(handle)) => Some(handle),
            Some(Err(e)) => {
                tracing::warn!(error = %e, "no audit anchor thread; the file is written inline");
                None
            }
            None => None,
        };
        Arc::new(Seal {
            key,
            shared,
            writer: Mutex::new(writer),
        })
    }

    /// Records a committed batch: entries `first..=last`, the last with link `head`. The log
    /// line and the gauge at once; the file soon after (at most every 100 ms), by the anchor
    /// thread. No fsync: the rename is atomic, and the log line is the copy that travels.
    pub(crate) fn anchor(&self, first: i64, last: i64, head: &str) {
        metrics::gauge!("opsmcp_audit_entries").set(last as f64);
        tracing::info!(target: "opsmcp::audit", count = last, head, "audit head");
        {
            let Ok(mut s) = self.shared.state.lock() else {
                return;
            };
            if s.latest.as_ref().is_some_and(|l| l.count >= last) {
                return;
            }
            let keyed_since = s
                .latest
                .as_ref()
                .and_then(|l| l.keyed_since)
                .unwrap_or(first)
                .min(first);
            s.latest = Some(AnchorBody {
                count: last,
                head: head.to_owned(),
                keyed_since: Some(keyed_since),
            });
        }
        let threaded = self.writer.lock().is_ok_and(|w| w.is_some());
        if threaded {
            self.shared.wake.notify_one();
        } else {
            self.shared.write_latest();
        }
    }

    /// Writes the newest head to the file now.
    pub(crate) fn flush(&self) {
        self.shared.write_latest();
    }
}

impl Drop for Seal {
    /// The last head reaches the file before the store goes away.
    fn drop(&mut self) {
        if let Ok(mut s) = self.shared.state.lock() {
            s.closed = true;
        }
        self.shared.wake.notify_all();
        if let Some(handle) = self.writer.get_mut().ok().and_then(Option::take) {
            let _ = handle.join();
        }
        self.shared.write_latest();
    }
}

/// Creates the folder of `path` (0700) when missing.
fn ensure_dir(path: &Path) -> std::io::Result<()> {
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
        && !dir.exists()
    {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
    }
    Ok(())
}

fn temp_beside(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        fastrand_suffix()
    ))
}

fn fastrand_suffix() -> u64 {
    let mut b = [0u8; 8];
    let _ = getrandom::fill(&mut b);
    u64::from_le_bytes(b)
}

fn write_temp(path: &Path, bytes: &[u8]) -> std::io::Result<PathBuf> {
    ensure_dir(path)?;
    let tmp = temp_beside(path);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)?;
    if let Err(e) = f.write_all(bytes) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    Ok(tmp)
}

/// Writes `bytes` to `path` (0600) by temp file and rename, replacing what was there.
fn replace(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = write_temp(path, bytes)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// Writes a new file at `path` (0600, synced) by temp file and hard link, so a file that
/// appeared meanwhile (another process's key) is kept, never replaced.
fn write_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = write_temp(path, bytes)?;
    let synced = std::fs::File::open(&tmp).and_then(|f| f.sync_all());
    let linked = synced.and_then(|()| std::fs::hard_link(&tmp, path));
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        other => other,
    }
}
