//! Log files per service: the files a service writes, with their rotated siblings, read as raw
//! lines that say which file they came from.
//!
//! On a real host the logs of the last hours are spread over `app.log`, `app.log.1` and
//! `app.log.2.gz`; an investigation needs them in order, oldest first, without the caller
//! knowing about logrotate. A cursor (byte offset and inode per live file) lets a caller tail:
//! the next read returns only what was written since, and follows the file across a rotation.
//!
//! This source does not parse lines; detecting JSON lines, logfmt or text per file is
//! `opsmcp-logs`' job. It streams: one line is held in memory at a time (at most
//! `max_line_bytes`), whatever the size of the files.
//!
//! ```toml
//! [[log_files]]
//! service = "checkout"
//! globs = ["/var/log/checkout/*.log"]
//! ```

use std::{
    collections::{BTreeMap, VecDeque},
    fs::File,
    io::{self, BufRead, BufReader, Seek, SeekFrom},
    os::unix::fs::MetadataExt,
    path::{Component, Path, PathBuf},
    sync::Arc,
};

use serde::{Deserialize, Serialize};

/// One `[[log_files]]` entry: where a service's log files are.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LogFileSpec {
    /// The service these files belong to.
    pub service: String,
    /// Glob patterns of the live files (`/var/log/app/*.log`); each must match at least one
    /// file, so a typo is reported instead of silently reading nothing.
    pub globs: Vec<String>,
    /// Also read rotated siblings of each live file (`app.log.1`, `app.log.2.gz`, …), oldest
    /// first (default true).
    #[serde(default = "default_true")]
    pub rotated: bool,
    /// Longer lines are cut to this many bytes (default 1 MiB), which bounds memory.
    #[serde(default = "default_max_line_bytes")]
    pub max_line_bytes: usize,
}

fn default_true() -> bool {
    true
}

fn default_max_line_bytes() -> usize {
    1024 * 1024
}

/// What can go wrong finding or reading a service's log files, each saying what to check.
#[derive(Debug, thiserror::Error)]
pub enum LogFileError {
    /// The `[[log_files]]` entry cannot work as written.
    #[error("[[log_files]] for service '{service}': {problem}")]
    InvalidConfig {
        /// The service of the entry.
        service: String,
        /// What is wrong and how to fix it.
        problem: String,
    },
    /// The directory part of a glob does not exist.
    #[error(
        "log files for service '{service}': directory {dir} (from glob '{glob}') does not exist; \
         fix the glob in [[log_files]] or check that the service runs on this host"
    )]
    MissingDirectory {
        /// The service of the entry.
        service: String,
        /// The glob as configured.
        glob: String,
        /// Its directory part.
        dir: PathBuf,
    },
    /// A glob matches no file.
    #[error(
        "log files for service '{service}': glob '{glob}' matches no file; check the pattern \
         and that the service writes its logs there"
    )]
    NoMatch {
        /// The service of the entry.
        service: String,
        /// The glob as configured.
        glob: String,
    },
    /// A file or directory could not be read.
    #[error(
        "log files for service '{service}': cannot read {path}: {source}; check that it exists \
         and that the user running opsmcp may read it"
    )]
    Read {
        /// The service of the entry.
        service: String,
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
}

impl LogFileSpec {
    /// Checks that the entry names a service, has globs, and that each glob is a valid pattern.
    pub fn validate(&self) -> Result<(), LogFileError> {
        let bad = |problem: String| {
            Err(LogFileError::InvalidConfig {
                service: self.service.clone(),
                problem,
            })
        };
        if self.service.trim().is_empty() {
            return bad("service must not be empty".into());
        }
        if self.globs.is_empty() {
            return bad(
                "globs is empty; list the live log files, e.g. [\"/var/log/app/*.log\"]".into(),
            );
        }
        for g in &self.globs {
            if let Err(e) = glob::Pattern::new(g) {
                return bad(format!("glob '{g}' is not a valid pattern: {e}"));
            }
        }
        if self.max_line_bytes == 0 {
            return bad("max_line_bytes must be at least 1".into());
        }
        Ok(())
    }
}

/// Where a previous read stopped in one live file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilePosition {
    /// Bytes read so far (always at the start of a line).
    pub offset: u64,
    /// The file's inode then: a different inode now means the file was rotated away.
    pub inode: u64,
}

/// Where to resume: a position per live file. Serializable so a caller can keep it across
/// restarts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// Live file → position reached.
    pub files: BTreeMap<PathBuf, FilePosition>,
}

impl Cursor {
    /// The byte offset reached in `path`, if it was read.
    pub fn offset(&self, path: &Path) -> Option<u64> {
        self.files.get(path).map(|p| p.offset)
    }
}

/// One raw line and the file it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// The file (shared by all its lines).
    pub path: Arc<Path>,
    /// The line without its line ending; invalid UTF-8 is replaced with U+FFFD.
    pub line: String,
    /// The line was longer than `max_line_bytes` and was cut.
    pub truncated: bool,
}

/// A service's log files, as the config describes them.
#[derive(Debug, Clone)]
pub struct LogFileSource {
    spec: LogFileSpec,
}

/// How a matched file takes part in reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Role {
    /// `app.log.gz`: compressed without a number; read whole, before numbered siblings.
    Archive,
    /// `app.log.N` or `app.log.N.gz`; higher N is older. Stored reversed so sorting puts the
    /// oldest first.
    Rotated(std::cmp::Reverse<u64>),
    /// The file being written.
    Live,
}

/// One file to read, and from where.
#[derive(Debug)]
struct Planned {
    path: PathBuf,
    compressed: bool,
    from: u64,
    /// For the live file: its inode, so the cursor can record it.
    live_inode: Option<u64>,
}

impl LogFileSource {
    /// Validates the entry. Files are looked up on each read, so new and rotated files are seen.
    pub fn new(spec: LogFileSpec) -> Result<Self, LogFileError> {
        spec.validate()?;
        Ok(Self { spec })
    }

    /// The entry this source was built from.
    pub fn spec(&self) -> &LogFileSpec {
        &self.spec
    }

    /// A cursor at the end of every live file now: reading from it yields only what is
    /// written afterwards (a tail that starts now, without reading what is there).
    pub fn end_cursor(&self) -> Result<Cursor, LogFileError> {
        let mut cursor = Cursor::default();
        for pattern in &self.spec.globs {
            let Ok(paths) = glob::glob(pattern) else {
                continue;
            };
            for path in paths.flatten() {
                if classify(&path).1 != Role::Live {
                    continue;
                }
                let Ok(meta) = std::fs::metadata(&path) else {
                    continue;
                };
                if meta.is_file() {
                    cursor.files.insert(
                        path,
                        FilePosition {
                            offset: meta.len(),
                            inode: meta.ino(),
                        },
                    );
                }
            }
        }
        Ok(cursor)
    }

    /// Finds the files now and returns their lines as a stream, oldest first.
    ///
    /// With an empty cursor everything is read: rotated siblings, then each live file from the
    /// start. With a cursor from an earlier read, each live file continues from its offset; if it
    /// was rotated since (new inode) the rest of the old file is read from its rotated name first,
    /// and if it was truncated it is read from the start. A last line without a newline in a live
    /// file is left for the next read, since the writer may be in the middle of it.
    ///
    /// Reading blocks; call it from `spawn_blocking` in async code.
    pub fn read(&self, cursor: &Cursor) -> Result<LogLines, LogFileError> {
        let mut groups: BTreeMap<PathBuf, BTreeMap<Role, (PathBuf, bool)>> = BTreeMap::new();
        for pattern in &self.spec.globs {
            let dir = glob_directory(pattern);
            if !dir.is_dir() {
                return Err(LogFileError::MissingDirectory {
                    service: self.spec.service.clone(),
                    glob: pattern.clone(),
                    dir,
                });
            }
            let paths = glob::glob(pattern).map_err(|e| LogFileError::InvalidConfig {
                service: self.spec.service.clone(),
                problem: format!("glob '{pattern}' is not a valid pattern: {e}"),
            })?;
            let mut matched = false;
            for entry in paths {
                let path = entry.map_err(|e| {
                    let path = e.path().to_path_buf();
                    self.read_error(path, e.into())
                })?;
                if !path.is_file() {
                    continue;
                }
                matched = true;
                let (base, role, compressed) = classify(&path);
                groups
                    .entry(base)
                    .or_default()
                    .insert(role, (path, compressed));
            }
            if !matched {
                return Err(LogFileError::NoMatch {
                    service: self.spec.service.clone(),
                    glob: pattern.clone(),
                });
            }
        }

        let mut plan = VecDeque::new();
        for (base, mut members) in groups {
            if self.spec.rotated && members.contains_key(&Role::Live) {
                self.add_rotated_siblings(&base, &mut members)?;
            }
            let Some((live, _)) = members.get(&Role::Live).cloned() else {
                plan.extend(members.into_values().map(|(path, compressed)| Planned {
                    path,
                    compressed,
                    from: 0,
                    live_inode: None,
                }));
                continue;
            };
            let meta = std::fs::metadata(&live).map_err(|e| self.read_error(live.clone(), e))?;
            let (inode, len) = (meta.ino(), meta.len());
            let live_from = match cursor.files.get(&live) {
                None => {
                    plan.extend(members.iter().filter(|(r, _)| **r != Role::Live).map(
                        |(_, (path, compressed))| Planned {
                            path: path.clone(),
                            compressed: *compressed,
                            from: 0,
                            live_inode: None,
                        },
                    ));
                    0
                }
                Some(pos) if pos.inode == inode => {
                    if len >= pos.offset {
                        pos.offset
                    } else {
                        0
                    }
                }
                Some(pos) => {
                    // Rotated since the last read: finish the old file under its new name.
                    let old = members.iter().find(|(role, (path, compressed))| {
                        **role != Role::Live
                            && !compressed
                            && std::fs::metadata(path).is_ok_and(|m| m.ino() == pos.inode)
                    });
                    match old {
                        Some((_, (path, _))) => plan.push_back(Planned {
                            path: path.clone(),
                            compressed: false,
                            from: pos.offset,
                            live_inode: None,
                        }),
                        None => tracing::warn!(
                            service = %self.spec.service,
                            file = %live.display(),
                            "log file was rotated and its old content is no longer readable uncompressed; \
                             lines written between the last read and the rotation are skipped"
                        ),
                    }
                    0
                }
            };
            plan.push_back(Planned {
                path: live,
                compressed: false,
                from: live_from,
                live_inode: Some(inode),
            });
        }
        Ok(LogLines {
            service: self.spec.service.clone(),
            max_line_bytes: self.spec.max_line_bytes,
            plan,
            current: None,
            cursor: Cursor::default(),
            buf: Vec::new(),
        })
    }

    /// Adds `base.N` and `base.N.gz` from `base`'s directory.
    fn add_rotated_siblings(
        &self,
        base: &Path,
        members: &mut BTreeMap<Role, (PathBuf, bool)>,
    ) -> Result<(), LogFileError> {
        let dir = base.parent().unwrap_or(Path::new("."));
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        let entries = std::fs::read_dir(dir).map_err(|e| self.read_error(dir.to_path_buf(), e))?;
        for entry in entries {
            let entry = entry.map_err(|e| self.read_error(dir.to_path_buf(), e))?;
            let path = dir.join(entry.file_name());
            let (sibling_base, role, compressed) = classify(&path);
            if sibling_base.file_name() == base.file_name()
                && matches!(role, Role::Rotated(_))
                && path.is_file()
            {
                members.entry(role).or_insert((path, compressed));
            }
        }
        Ok(())
    }

    fn read_error(&self, path: PathBuf, source: io::Error) -> LogFileError {
        LogFileError::Read {
            service: self.spec.service.clone(),
            path,
            source,
        }
    }
}

/// The directory part of a glob: the components before the first one with a wildcard.
fn glob_directory(pattern: &str) -> PathBuf {
    let path = Path::new(pattern);
    let mut dir = PathBuf::new();
    let components: Vec<Component> = path.components().collect();
    for (i, component) in components.iter().enumerate() {
        let text = component.as_os_str().to_string_lossy();
        if text.contains(['*', '?', '[']) || i + 1 == components.len() {
            break;
        }
        dir.push(component);
    }
    if dir.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        dir
    }
}

/// The live file a path belongs to, its role, and whether it is gzip-compressed.
fn classify(path: &Path) -> (PathBuf, Role, bool) {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (stem, compressed) = match name.strip_suffix(".gz") {
        Some(stem) => (stem, true),
        None => (name.as_str(), false),
    };
    let rotation = stem
        .rsplit_once('.')
        .filter(|(head, n)| {
            !head.is_empty() && !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())
        })
        .and_then(|(head, n)| n.parse::<u64>().ok().map(|n| (head, n)));
    let (base_name, role) = match (rotation, compressed) {
        (Some((head, n)), _) => (head, Role::Rotated(std::cmp::Reverse(n))),
        (None, true) => (stem, Role::Archive),
        (None, false) => (stem, Role::Live),
    };
    (path.with_file_name(base_name), role, compressed)
}

/// The lines of a service's log files, oldest first; see [`LogFileSource::read`].
///
/// An unreadable file yields one error and reading goes on with the next file.
pub struct LogLines {
    service: String,
    max_line_bytes: usize,
    plan: VecDeque<Planned>,
    current: Option<Open>,
    cursor: Cursor,
    buf: Vec<u8>,
}

struct Open {
    path: Arc<Path>,
    reader: Box<dyn BufRead + Send>,
    compressed: bool,
    live_inode: Option<u64>,
    offset: u64,
}

impl std::fmt::Debug for LogLines {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogLines")
            .field("service", &self.service)
            .field("current", &self.current.as_ref().map(|o| &o.path))
            .field("remaining_files", &self.plan.len())
            .field("cursor", &self.cursor)
            .finish()
    }
}

impl LogLines {
    /// Where the next read should resume: complete once the stream is exhausted; before that,
    /// the position after the last line yielded.
    pub fn cursor(&self) -> &Cursor {
        &self.cursor
    }

    /// Consumes the stream, returning the cursor.
    pub fn into_cursor(self) -> Cursor {
        self.cursor
    }

    fn open(&mut self, planned: Planned) -> Result<Open, LogFileError> {
        let read_error = |source| LogFileError::Read {
            service: self.service.clone(),
            path: planned.path.clone(),
            source,
        };
        let mut file = File::open(&planned.path).map_err(read_error)?;
        let reader: Box<dyn BufRead + Send> = if planned.compressed {
            Box::new(BufReader::new(flate2::read::MultiGzDecoder::new(file)))
        } else {
            if planned.from > 0 {
                file.seek(SeekFrom::Start(planned.from))
                    .map_err(read_error)?;
            }
            Box::new(BufReader::with_capacity(64 * 1024, file))
        };
        if let Some(inode) = planned.live_inode {
            self.cursor.files.insert(
                planned.path.clone(),
                FilePosition {
                    offset: planned.from,
                    inode,
                },
            );
        }
        Ok(Open {
            path: Arc::from(planned.path.as_path()),
            reader,
            compressed: planned.compressed,
            live_inode: planned.live_inode,
            offset: planned.from,
        })
    }
}

impl Iterator for LogLines {
    type Item = Result<LogLine, LogFileError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let mut open = match self.current.take() {
                Some(open) => open,
                None => {
                    let planned = self.plan.pop_front()?;
                    match self.open(planned) {
                        Ok(open) => open,
                        Err(e) => return Some(Err(e)),
                    }
                }
            };
            self.buf.clear();
            let read = read_line(&mut open.reader, &mut self.buf, self.max_line_bytes);
            let (consumed, newline, truncated) = match read {
                Ok(r) => r,
                Err(source) => {
                    let what = if open.compressed { "gzip data" } else { "file" };
                    return Some(Err(LogFileError::Read {
                        service: self.service.clone(),
                        path: open.path.to_path_buf(),
                        source: io::Error::new(source.kind(), format!("{what}: {source}")),
                    }));
                }
            };
            // End of file, or a live file's unfinished last line: next file.
            if consumed == 0 || (!newline && open.live_inode.is_some()) {
                continue;
            }
            open.offset += consumed as u64;
            if let Some(inode) = open.live_inode {
                self.cursor.files.insert(
                    open.path.to_path_buf(),
                    FilePosition {
                        offset: open.offset,
                        inode,
                    },
                );
            }
            if self.buf.last() == Some(&b'\r') {
                self.buf.pop();
            }
            let line = LogLine {
                path: open.path.clone(),
                line: String::from_utf8_lossy(&self.buf).into_owned(),
                truncated,
            };
            self.current = Some(open);
            return Some(Ok(line));
        }
    }
}

/// Reads one line into `buf` (without the `\n`), keeping at most `max` bytes of it and
/// skipping the rest. Returns the bytes consumed, whether a newline ended the line, and whether
/// it was cut.
fn read_line(
    reader: &mut dyn BufRead,
    buf: &mut Vec<u8>,
    max: usize,
) -> io::Result<(usize, bool, bool)> {
    let mut consumed = 0;
    let mut truncated = false;
    loop {
        let available = match reader.fill_buf() {
            Ok(a) => a,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok((consumed, false, truncated));
        }
        let (chunk, used, newline) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (&available[..i], i + 1, true),
            None => (available, available.len(), false),
        };
        let room = max.saturating_sub(buf.len());
        if chunk.len() > room {
            truncated = true;
        }
        buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
        reader.consume(used);
        consumed += used;
        if newline {
            return Ok((consumed, true, truncated));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn spec(service: &str, globs: &[String]) -> LogFileSpec {
        LogFileSpec {
            service: service.into(),
            globs: globs.to_vec(),
            rotated: true,
            max_line_bytes: default_max_line_bytes(),
        }
    }

    fn write_gz(path: &Path, text: &str) {
        let file = File::create(path).unwrap();
        let mut gz = flate2::write::GzEncoder::new(file, flate2::Compression::default());
        gz.write_all(text.as_bytes()).unwrap();
        gz.finish().unwrap();
    }

    fn append(path: &Path, text: &str) {
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
            .unwrap();
        f.write_all(text.as_bytes()).unwrap();
    }

    /// Lines with the file name they came from.
    fn collect(lines: &mut LogLines) -> Vec<(String, String)> {
        lines
            .by_ref()
            .map(|l| {
                let l = l.unwrap();
                let name = l.path.file_name().unwrap().to_string_lossy().into_owned();
                (name, l.line)
            })
            .collect()
    }

    fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
        expected
            .iter()
            .map(|(f, l)| (f.to_string(), l.to_string()))
            .collect()
    }

    #[test]
    fn spec_parses_from_toml_and_checks_its_globs() {
        let parsed: LogFileSpec =
            toml::from_str("service = \"api\"\nglobs = [\"/var/log/api/*.log\"]").unwrap();
        assert!(parsed.rotated);
        parsed.validate().unwrap();
        let typo = toml::from_str::<LogFileSpec>("service = \"api\"\nglob = [\"/x\"]");
        assert!(typo.unwrap_err().to_string().contains("glob"));
        let err = LogFileSource::new(spec("api", &["/var/log/[.log".into()])).unwrap_err();
        assert!(err.to_string().contains("/var/log/[.log"), "{err}");
        let err = LogFileSource::new(spec("api", &[])).unwrap_err();
        assert!(err.to_string().contains("globs is empty"), "{err}");
    }

    #[test]
    fn rotated_and_gzipped_files_come_oldest_first_with_their_origin() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        write_gz(&d.join("app.log.3.gz"), "one\ntwo\n");
        write_gz(&d.join("app.log.2.gz"), "three\n");
        std::fs::write(d.join("app.log.1"), "four\r\n").unwrap();
        std::fs::write(d.join("app.log"), "five\nsix\n").unwrap();
        std::fs::write(d.join("other.txt"), "not matched\n").unwrap();
        std::fs::write(d.join("app.log.old"), "not a rotation\n").unwrap();
        let expected = pairs(&[
            ("app.log.3.gz", "one"),
            ("app.log.3.gz", "two"),
            ("app.log.2.gz", "three"),
            ("app.log.1", "four"),
            ("app.log", "five"),
            ("app.log", "six"),
        ]);

        let source = LogFileSource::new(spec("api", &[format!("{}/*.log", d.display())])).unwrap();
        let mut lines = source.read(&Cursor::default()).unwrap();
        assert_eq!(collect(&mut lines), expected);
        assert_eq!(lines.cursor().offset(&d.join("app.log")), Some(9));

        // A glob that also matches the rotated files reads each file once, in the same order.
        let wide = LogFileSource::new(spec("api", &[format!("{}/app.log*", d.display())])).unwrap();
        let mut lines = wide.read(&Cursor::default()).unwrap();
        let mut got = collect(&mut lines);
        got.retain(|(f, _)| f != "app.log.old");
        assert_eq!(got, expected);

        // Without rotated siblings: only the live file.
        let mut live_only = spec("api", &[format!("{}/*.log", d.display())]);
        live_only.rotated = false;
        let mut lines = LogFileSource::new(live_only)
            .unwrap()
            .read(&Cursor::default())
            .unwrap();
        assert_eq!(
            collect(&mut lines),
            pairs(&[("app.log", "five"), ("app.log", "six")])
        );
    }

    #[test]
    fn a_cursor_tails_the_live_file_across_partial_lines_rotation_and_truncation() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let live = d.join("app.log");
        std::fs::write(d.join("app.log.1"), "old\n").unwrap();
        std::fs::write(&live, "one\n").unwrap();
        let source = LogFileSource::new(spec("api", &[format!("{}/*.log", d.display())])).unwrap();

        let mut lines = source.read(&Cursor::default()).unwrap();
        assert_eq!(
            collect(&mut lines),
            pairs(&[("app.log.1", "old"), ("app.log", "one")])
        );
        let cursor = lines.into_cursor();
        assert_eq!(cursor.offset(&live), Some(4));

        // Nothing new: nothing read, cursor unchanged.
        let mut lines = source.read(&cursor).unwrap();
        assert!(collect(&mut lines).is_empty());
        assert_eq!(lines.cursor(), &cursor);

        // New lines, the last one unfinished: only the finished one, and the offset stops
        // before the unfinished one.
        append(&live, "two\nthr");
        let mut lines = source.read(&cursor).unwrap();
        assert_eq!(collect(&mut lines), pairs(&[("app.log", "two")]));
        let cursor = lines.into_cursor();
        assert_eq!(cursor.offset(&live), Some(8));
        append(&live, "ee\n");
        let mut lines = source.read(&cursor).unwrap();
        assert_eq!(collect(&mut lines), pairs(&[("app.log", "three")]));
        let cursor = lines.into_cursor();

        // logrotate (rename): the rest of the old file is read from app.log.1, then the new one.
        append(&live, "four\n");
        std::fs::rename(d.join("app.log.1"), d.join("app.log.2")).unwrap();
        std::fs::rename(&live, d.join("app.log.1")).unwrap();
        std::fs::write(&live, "five\n").unwrap();
        let mut lines = source.read(&cursor).unwrap();
        assert_eq!(
            collect(&mut lines),
            pairs(&[("app.log.1", "four"), ("app.log", "five")])
        );
        let cursor = lines.into_cursor();
        assert_eq!(cursor.offset(&live), Some(5));

        // copytruncate: the file shrank, so it is read from the start.
        std::fs::write(&live, "six\n").unwrap();
        let mut lines = source.read(&cursor).unwrap();
        assert_eq!(collect(&mut lines), pairs(&[("app.log", "six")]));
    }

    #[test]
    fn long_lines_are_cut_and_bad_utf8_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("svc.log");
        let mut content = vec![b'x'; 10_000];
        content.extend_from_slice(b"\nok \xff\n");
        std::fs::write(&path, &content).unwrap();
        let mut s = spec("svc", &[path.display().to_string()]);
        s.max_line_bytes = 100;
        let lines: Vec<LogLine> = LogFileSource::new(s)
            .unwrap()
            .read(&Cursor::default())
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].line.len(), 100);
        assert!(lines[0].truncated);
        assert_eq!(lines[1].line, "ok \u{fffd}");
        assert!(!lines[1].truncated);
    }

    #[test]
    fn a_glob_matching_nothing_is_an_error_naming_the_glob() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("app.txt"), "x\n").unwrap();
        let glob = format!("{}/*.log", dir.path().display());
        let err = LogFileSource::new(spec("api", std::slice::from_ref(&glob)))
            .unwrap()
            .read(&Cursor::default())
            .unwrap_err();
        assert!(matches!(err, LogFileError::NoMatch { .. }), "{err:?}");
        let text = err.to_string();
        assert!(text.contains(&glob) && text.contains("api"), "{text}");
    }

    #[test]
    fn a_missing_directory_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope");
        let glob = format!("{}/*.log", missing.display());
        let err = LogFileSource::new(spec("api", std::slice::from_ref(&glob)))
            .unwrap()
            .read(&Cursor::default())
            .unwrap_err();
        match &err {
            LogFileError::MissingDirectory { dir, .. } => assert_eq!(dir, &missing),
            other => panic!("expected MissingDirectory, got {other:?}"),
        }
        let text = err.to_string();
        assert!(text.contains(&missing.display().to_string()) && text.contains(&glob));
    }

    #[test]
    fn corrupt_gzip_is_reported_and_reading_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("app.log.1.gz"), b"not gzip at all").unwrap();
        std::fs::write(d.join("app.log"), "fine\n").unwrap();
        let items: Vec<_> = LogFileSource::new(spec("api", &[format!("{}/*.log", d.display())]))
            .unwrap()
            .read(&Cursor::default())
            .unwrap()
            .collect();
        assert_eq!(items.len(), 2);
        let err = items[0].as_ref().unwrap_err().to_string();
        assert!(
            err.contains("app.log.1.gz") && err.contains("gzip"),
            "{err}"
        );
        assert_eq!(items[1].as_ref().unwrap().line, "fine");
    }
}
