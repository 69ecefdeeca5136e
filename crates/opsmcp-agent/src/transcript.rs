//! A run's record on disk: `<dir>/<run id>/transcript.jsonl` (one JSON object per event, with a
//! timestamp) and `<dir>/<run id>/results/` (every tool result in full, whatever the model was
//! shown). Writes are small and synchronous, so a crash loses at most the line being written.

use std::{
    fs::File,
    io::Write,
    path::{Path, PathBuf},
    sync::atomic::{AtomicU32, Ordering},
};

use serde::Serialize;
use serde_json::Value;

static RUNS: AtomicU32 = AtomicU32::new(0);

/// `value` as one line of JSON with a `ts` field (UTC, RFC 3339) added to an object. Our
/// records serialize from plain data, so this cannot fail; a value that still would becomes
/// an `{"type":"unserializable"}` line rather than a lost one.
pub(crate) fn record(value: &impl Serialize) -> String {
    let mut v = serde_json::to_value(value)
        .unwrap_or_else(|e| serde_json::json!({"type": "unserializable", "error": e.to_string()}));
    if let Value::Object(map) = &mut v {
        map.insert(
            "ts".into(),
            Value::String(jiff::Timestamp::now().to_string()),
        );
    }
    v.to_string()
}

pub(crate) struct Transcript {
    dir: PathBuf,
    file: File,
}

impl Transcript {
    /// A new run directory under `root`, named by UTC time, process id and a counter.
    pub fn create(root: &Path) -> std::io::Result<Self> {
        let id = format!(
            "{}-{}-{}",
            jiff::Timestamp::now().strftime("%Y%m%dT%H%M%SZ"),
            std::process::id(),
            RUNS.fetch_add(1, Ordering::Relaxed)
        );
        let dir = root.join(id);
        std::fs::create_dir_all(dir.join("results"))?;
        let file = File::create(dir.join("transcript.jsonl"))?;
        Ok(Self { dir, file })
    }

    /// The run directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Appends `record` (see [`record`]) and a newline.
    pub fn write(&mut self, record: &impl Serialize) -> std::io::Result<()> {
        let mut line = self::record(record).into_bytes();
        line.push(b'\n');
        self.file.write_all(&line)?;
        self.file.flush()
    }

    /// Saves a full tool result and returns its path.
    pub fn save_result(
        &self,
        turn: u32,
        n: usize,
        tool: &str,
        text: &str,
    ) -> std::io::Result<PathBuf> {
        let path = self
            .dir
            .join("results")
            .join(format!("turn{turn:02}-{n}-{tool}.txt"));
        std::fs::write(&path, text)?;
        Ok(path)
    }
}
