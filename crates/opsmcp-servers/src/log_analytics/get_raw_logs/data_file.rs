//! The log data file: a JSON array with one entry a line, and its page index kept beside it, so
//! a later page seeks to its entries instead of parsing the whole file.

use std::{
    fs::File,
    io::{BufRead, BufReader, Seek, SeekFrom, Write},
    os::fd::OwnedFd,
};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::io_error;
use crate::{
    ToolError,
    log_analytics::workspace::{AtomicFile, Workspace, split},
};

/// One entry as written to the file and shown on a page.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Entry {
    /// When (RFC 3339, UTC).
    pub at: String,
    /// Which service.
    pub service: String,
    /// debug, info, warn, error or unknown.
    pub level: String,
    /// The line as written, secrets redacted.
    pub message: String,
}

/// Every this many entries the index records where the entry's line starts.
const INDEX_EVERY: u64 = 1024;

/// A data file's page index, kept beside it as `.{name}.idx`: its entry count and where every
/// [`INDEX_EVERY`]-th entry's line starts, so a cursor page seeks there and parses only its
/// own entries — never the whole file, whatever its size.
#[derive(Debug, Serialize, Deserialize)]
struct Index {
    total: u64,
    every: u64,
    offsets: Vec<u64>,
}

fn index_name(data_file: &str) -> String {
    format!(".{data_file}.idx")
}

fn write_index(dir: &OwnedFd, data_file: &str, index: &Index) -> std::io::Result<()> {
    let mut file = AtomicFile::create(dir)?;
    serde_json::to_writer(&mut file, index)?;
    file.commit(&index_name(data_file), true)
}

/// Whether a line holds an entry (without parsing it).
fn is_entry(line: &[u8]) -> bool {
    line.trim_ascii().first() == Some(&b'{')
}

/// One entry line of a data file (`{…}` or `{…},`), or `None` at the closing `]`.
fn parse_line(line: &[u8]) -> Option<Result<Entry, serde_json::Error>> {
    let line = line.trim_ascii();
    let line = line.strip_suffix(b",").unwrap_or(line);
    is_entry(line).then(|| serde_json::from_slice(line))
}

/// A new data file being written, entry by entry; nothing is visible in the workspace until
/// [`Writer::finish`].
pub(super) struct Writer {
    folder: String,
    dir: OwnedFd,
    file: AtomicFile,
    /// Bytes written so far.
    written: u64,
    /// Entries written so far.
    total: u64,
    /// Where every INDEX_EVERY-th entry's line starts, so a later page seeks there.
    checkpoints: Vec<u64>,
}

impl Writer {
    /// A new file in `folder` of the workspace (created if missing).
    pub(super) fn create(workspace: &Workspace, folder: &str) -> Result<Writer, ToolError> {
        let dir = workspace
            .open_dir(folder, true)
            .map_err(|e| io_error("cannot create the workspace folder", e))?;
        let mut file =
            AtomicFile::create(&dir).map_err(|e| io_error("cannot create the log data file", e))?;
        file.write_all(b"[").map_err(write_err)?;
        Ok(Writer {
            folder: folder.to_owned(),
            dir,
            file,
            written: 1,
            total: 0,
            checkpoints: Vec::new(),
        })
    }

    /// Entries written so far.
    pub(super) fn total(&self) -> u64 {
        self.total
    }

    /// Writes `entry` as the file's next line.
    pub(super) fn append(&mut self, entry: &Entry) -> Result<(), ToolError> {
        // One entry per line: `[`, then `\n{entry}` with a `,` before each newline but the
        // first, then `\n]`.
        let sep: &[u8] = if self.total > 0 { b",\n" } else { b"\n" };
        self.file.write_all(sep).map_err(write_err)?;
        self.written += sep.len() as u64;
        if self.total.is_multiple_of(INDEX_EVERY) {
            self.checkpoints.push(self.written);
        }
        let line = serde_json::to_vec(entry).map_err(write_err)?;
        self.file.write_all(&line).map_err(write_err)?;
        self.written += line.len() as u64;
        self.total += 1;
        Ok(())
    }

    /// Closes the array, gives the file the next free `logs-N.json` name in its folder and
    /// writes its index; the file's path relative to analytics/.
    pub(super) fn finish(mut self) -> Result<String, ToolError> {
        self.file.write_all(b"\n]\n").map_err(write_err)?;
        let name = self
            .file
            .commit_numbered("logs-", ".json")
            .map_err(|e| io_error("cannot save the log data file", e))?;
        // Without its index a file still pages (by scanning lines), so a failure here is said,
        // not fatal.
        if let Err(e) = write_index(
            &self.dir,
            &name,
            &Index {
                total: self.total,
                every: INDEX_EVERY,
                offsets: self.checkpoints,
            },
        ) {
            tracing::warn!(file = %name, error = %e, "get_raw_logs: no page index written; pages will scan the file");
        }
        Ok(if self.folder.is_empty() {
            name
        } else {
            format!("{}/{name}", self.folder)
        })
    }
}

fn write_err(e: impl std::fmt::Display) -> ToolError {
    io_error("cannot write the log data file", e)
}

/// A data file read back from an entry onwards; memory holds one line, whatever the file's
/// size.
pub(super) struct Reader {
    path: String,
    lines: BufReader<File>,
    line: Vec<u8>,
    index: Option<Index>,
    /// Entries passed so far.
    at: u64,
}

impl Reader {
    /// The data file at `path` (relative to analytics/) and its index, if it has a readable
    /// one.
    pub(super) fn open(workspace: &Workspace, path: &str) -> std::io::Result<Reader> {
        let file = workspace.open_file(path)?;
        let (dir, name) = split(path);
        let index: Option<Index> = workspace
            .open_file(&if dir.is_empty() {
                index_name(name)
            } else {
                format!("{dir}/{}", index_name(name))
            })
            .ok()
            .and_then(|f| serde_json::from_reader(BufReader::new(f)).ok())
            .filter(|i: &Index| i.every > 0);
        Ok(Reader {
            path: path.to_owned(),
            lines: BufReader::with_capacity(64 * 1024, file),
            line: Vec::new(),
            index,
            at: 0,
        })
    }

    /// Moves to entry `offset`; `false` when the file ends before it.
    pub(super) fn seek_entry(&mut self, offset: u64) -> Result<bool, ToolError> {
        // Start at the nearest indexed line at or before `offset` (after the `[` without one).
        let (at, start) = self
            .index
            .as_ref()
            .and_then(|i| {
                let k = offset / i.every;
                i.offsets.get(k as usize).map(|pos| (k * i.every, *pos))
            })
            .unwrap_or((0, 1));
        self.lines
            .seek(SeekFrom::Start(start))
            .map_err(|e| self.not_data(&e))?;
        self.at = at;
        // Skip to `offset` by counting entry lines, without parsing them.
        while self.at < offset {
            if self.next_line()? == 0 {
                return Ok(false);
            }
            if self.line.trim_ascii().is_empty() {
                continue; // the newline after `[`
            }
            if !is_entry(&self.line) {
                return Ok(false); // the closing `]`: `offset` is past the end
            }
            self.at += 1;
        }
        Ok(true)
    }

    /// The next entry, or `None` at the end of the array.
    pub(super) fn next_entry(&mut self) -> Result<Option<Entry>, ToolError> {
        loop {
            if self.next_line()? == 0 {
                return Ok(None);
            }
            if self.line.trim_ascii().is_empty() {
                continue;
            }
            return match parse_line(&self.line) {
                None => Ok(None),
                Some(entry) => {
                    self.at += 1;
                    entry.map(Some).map_err(|e| self.not_data(&e))
                }
            };
        }
    }

    /// Entries in the file: the index's count, or without one the rest counted (lines, not
    /// parsed).
    pub(super) fn total(mut self) -> Result<u64, ToolError> {
        if let Some(i) = &self.index {
            return Ok(i.total);
        }
        let mut total = self.at;
        while self.next_line()? > 0 {
            if is_entry(&self.line) {
                total += 1;
            }
        }
        Ok(total)
    }

    fn next_line(&mut self) -> Result<usize, ToolError> {
        self.line.clear();
        self.lines
            .read_until(b'\n', &mut self.line)
            .map_err(|e| self.not_data(&e))
    }

    fn not_data(&self, e: &dyn std::fmt::Display) -> ToolError {
        io_error(
            &format!("the file {} is not a log data file any more", self.path),
            e,
        )
    }
}
