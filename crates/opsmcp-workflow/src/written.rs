//! Reading back what [`crate::postmortem::document`] wrote: an incident's postmortem Markdown and
//! its SVG charts, from `<postmortems>/<incident id>/`; and what an agent run wrote ([`Runs`]):
//! its transcript and report, from `<runs>/<run id>/`. The workflow server serves them as MCP
//! resources; this module owns where they live so the server never builds a path itself.
//!
//! Every name is checked before it touches the file system: an incident id is letters, digits
//! and `-`/`_`, a chart name the same plus one `.svg` suffix. Nothing from a caller can climb
//! out of the folder, whatever the rest of the data directory holds.

use std::path::{Path, PathBuf};

use crate::WorkflowError;

/// The Markdown file in each incident's folder.
pub const POSTMORTEM_FILE: &str = "postmortem.md";

/// The postmortem folders under one directory (`<data_dir>/postmortems`).
#[derive(Debug, Clone)]
pub struct Written {
    dir: PathBuf,
}

impl Written {
    /// Postmortems under `dir`, as [`crate::postmortem::document`] was given it.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The incident's postmortem Markdown; `None` when none has been written yet.
    pub fn postmortem(&self, incident_id: &str) -> Result<Option<String>, WorkflowError> {
        let path = self.folder(incident_id)?.join(POSTMORTEM_FILE);
        read_if_there(&path).map(|bytes| bytes.map(|b| String::from_utf8_lossy(&b).into_owned()))
    }

    /// Whether the incident's postmortem has been written (a listing asks this of many
    /// incidents and needs no file's contents).
    pub fn has_postmortem(&self, incident_id: &str) -> Result<bool, WorkflowError> {
        let path = self.folder(incident_id)?.join(POSTMORTEM_FILE);
        match std::fs::metadata(&path) {
            Ok(meta) => Ok(meta.is_file()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(io(&path, e)),
        }
    }

    /// The names of the incident's charts (`<service>-<signal>.svg`), sorted; empty when there
    /// are none or no postmortem has been written.
    pub fn charts(&self, incident_id: &str) -> Result<Vec<String>, WorkflowError> {
        let folder = self.folder(incident_id)?;
        let entries = match std::fs::read_dir(&folder) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io(&folder, e)),
        };
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| io(&folder, e))?;
            // Temporary files of an atomic write start with a dot and are not charts yet.
            if let Some(name) = entry.file_name().to_str()
                && chart_name_ok(name)
                && entry.file_type().is_ok_and(|t| t.is_file())
            {
                names.push(name.to_string());
            }
        }
        names.sort();
        Ok(names)
    }

    /// One chart's SVG; `None` when the incident has no chart of that name.
    pub fn chart(&self, incident_id: &str, name: &str) -> Result<Option<String>, WorkflowError> {
        if !chart_name_ok(name) {
            return Err(WorkflowError::BadRequest(format!(
                "{name:?} is not a chart name: charts are named <service>-<signal>.svg \
                 (letters, digits, '-', '_', '.')"
            )));
        }
        let path = self.folder(incident_id)?.join(name);
        read_if_there(&path).map(|bytes| bytes.map(|b| String::from_utf8_lossy(&b).into_owned()))
    }

    fn folder(&self, incident_id: &str) -> Result<PathBuf, WorkflowError> {
        if !id_ok(incident_id) {
            return Err(WorkflowError::BadRequest(format!(
                "{incident_id:?} is not an incident id: ids look like INC-0042"
            )));
        }
        Ok(self.dir.join(incident_id))
    }
}

/// The transcript file in each run's folder (one JSON object per event).
pub const TRANSCRIPT_FILE: &str = "transcript.jsonl";
/// The report file in each run's folder (Markdown: the verdict and the steps).
pub const REPORT_FILE: &str = "report.md";

/// One agent run's folder, as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunEntry {
    /// The folder's name: when it started, the process and a counter
    /// (`20261206T175218Z-18852-0`), so names sort by start.
    pub id: String,
    /// Its transcript is there.
    pub has_transcript: bool,
    /// Its report is there (written when the run ends).
    pub has_report: bool,
}

/// The run folders under one directory (`<data_dir>/runs`), as `opsmcp agent`, `run-scenario`
/// and `demo` write them.
#[derive(Debug, Clone)]
pub struct Runs {
    dir: PathBuf,
}

impl Runs {
    /// Runs under `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The newest `limit` runs, newest first; none when no run has been recorded here.
    pub fn newest(&self, limit: usize) -> Result<Vec<RunEntry>, WorkflowError> {
        let mut ids = self.ids()?;
        ids.truncate(limit);
        Ok(ids
            .into_iter()
            .map(|id| {
                let folder = self.dir.join(&id);
                RunEntry {
                    has_transcript: folder.join(TRANSCRIPT_FILE).is_file(),
                    has_report: folder.join(REPORT_FILE).is_file(),
                    id,
                }
            })
            .collect())
    }

    /// The run ids starting with `prefix`, newest first, at most `limit`.
    pub fn ids_starting_with(
        &self,
        prefix: &str,
        limit: usize,
    ) -> Result<Vec<String>, WorkflowError> {
        Ok(self
            .ids()?
            .into_iter()
            .filter(|id| id.starts_with(prefix))
            .take(limit)
            .collect())
    }

    /// Every run folder's name, newest first (names begin with when the run started).
    fn ids(&self) -> Result<Vec<String>, WorkflowError> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io(&self.dir, e)),
        };
        let mut ids = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| io(&self.dir, e))?;
            if let Some(name) = entry.file_name().to_str()
                && id_ok(name)
                && entry.file_type().is_ok_and(|t| t.is_dir())
            {
                ids.push(name.to_string());
            }
        }
        ids.sort_unstable_by(|a, b| b.cmp(a));
        Ok(ids)
    }

    /// The run's transcript, at most `max_bytes` of it (cut at a line's end) and whether it
    /// was cut; `None` when there is no such run or it wrote no transcript. Only what is
    /// returned is read: a long run's transcript is not loaded whole to be cut.
    pub fn transcript(
        &self,
        run_id: &str,
        max_bytes: usize,
    ) -> Result<Option<(String, bool)>, WorkflowError> {
        use std::io::Read;
        let path = self.folder(run_id)?.join(TRANSCRIPT_FILE);
        let file = match std::fs::File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(&path, e)),
        };
        let mut bytes = Vec::new();
        file.take(max_bytes as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| io(&path, e))?;
        if bytes.len() <= max_bytes {
            return Ok(Some((String::from_utf8_lossy(&bytes).into_owned(), false)));
        }
        // Cut at the last whole line: a JSON-lines reader gets no half object.
        let end = bytes[..max_bytes]
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |i| i + 1);
        Ok(Some((
            String::from_utf8_lossy(&bytes[..end]).into_owned(),
            true,
        )))
    }

    /// The run's report; `None` when there is no such run or it has not ended yet.
    pub fn report(&self, run_id: &str) -> Result<Option<String>, WorkflowError> {
        let path = self.folder(run_id)?.join(REPORT_FILE);
        read_if_there(&path).map(|bytes| bytes.map(|b| String::from_utf8_lossy(&b).into_owned()))
    }

    /// Whether a run of that id was recorded here.
    pub fn exists(&self, run_id: &str) -> Result<bool, WorkflowError> {
        Ok(self.folder(run_id)?.is_dir())
    }

    /// Where the run's files are, to name in an answer.
    pub fn path_of(&self, run_id: &str) -> PathBuf {
        self.dir.join(run_id)
    }

    fn folder(&self, run_id: &str) -> Result<PathBuf, WorkflowError> {
        if !id_ok(run_id) {
            return Err(WorkflowError::BadRequest(format!(
                "{run_id:?} is not a run id: ids look like 20261206T175218Z-18852-0 \
                 (resources/list shows the newest runs)"
            )));
        }
        Ok(self.dir.join(run_id))
    }
}

fn id_ok(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn chart_name_ok(name: &str) -> bool {
    name.strip_suffix(".svg").is_some_and(|stem| {
        !stem.is_empty()
            && name.len() <= 255
            && !stem.starts_with('.')
            && !stem.contains("..")
            && stem
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    })
}

fn read_if_there(path: &Path) -> Result<Option<Vec<u8>>, WorkflowError> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io(path, e)),
    }
}

fn io(path: &Path, source: std::io::Error) -> WorkflowError {
    WorkflowError::Io {
        path: path.display().to_string(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs are listed newest first; a transcript over the budget is cut at a line's end;
    /// names that could leave the folder are refused.
    #[test]
    fn runs_are_listed_newest_first_and_read_within_a_budget() {
        let dir = tempfile::tempdir().unwrap();
        let runs = Runs::new(dir.path());
        assert!(runs.newest(10).unwrap().is_empty());
        for (id, report) in [
            ("20261206T100000Z-1-0", true),
            ("20261206T110000Z-2-0", false),
        ] {
            let folder = dir.path().join(id);
            std::fs::create_dir_all(&folder).unwrap();
            std::fs::write(folder.join(TRANSCRIPT_FILE), "{\"a\":1}\n{\"b\":2}\n").unwrap();
            if report {
                std::fs::write(folder.join(REPORT_FILE), "# report").unwrap();
            }
        }
        std::fs::write(dir.path().join("not-a-run.txt"), "").unwrap();
        let listed = runs.newest(10).unwrap();
        assert_eq!(
            listed.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
            ["20261206T110000Z-2-0", "20261206T100000Z-1-0"]
        );
        assert!(!listed[0].has_report && listed[1].has_report);
        assert_eq!(
            runs.transcript("20261206T100000Z-1-0", 10).unwrap(),
            Some(("{\"a\":1}\n".to_string(), true))
        );
        assert_eq!(
            runs.report("20261206T100000Z-1-0").unwrap().as_deref(),
            Some("# report")
        );
        assert_eq!(runs.report("20261206T110000Z-2-0").unwrap(), None);
        assert_eq!(
            runs.ids_starting_with("20261206T10", 5).unwrap(),
            ["20261206T100000Z-1-0"]
        );
        for id in ["", "..", "../x", "a/b", "a b"] {
            assert!(runs.transcript(id, 10).is_err(), "{id:?}");
        }
    }

    #[test]
    fn names_that_could_leave_the_folder_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let w = Written::new(dir.path());
        for id in ["", "..", "../x", "INC-1/..", "a b", "INC%2F"] {
            assert!(w.postmortem(id).is_err(), "{id:?}");
        }
        for name in [
            "../x.svg", ".svg", "..svg", "a/b.svg", "x.png", ".tmp.svg", "a..b.svg",
        ] {
            assert!(w.chart("INC-0001", name).is_err(), "{name:?}");
        }
    }

    #[test]
    fn what_is_there_is_read_and_what_is_not_is_none() {
        let dir = tempfile::tempdir().unwrap();
        let w = Written::new(dir.path());
        assert_eq!(w.postmortem("INC-0001").unwrap(), None);
        assert!(!w.has_postmortem("INC-0001").unwrap());
        assert!(w.charts("INC-0001").unwrap().is_empty());
        let folder = dir.path().join("INC-0001");
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join(POSTMORTEM_FILE), "# pm").unwrap();
        std::fs::write(folder.join("svc-latency_ms.svg"), "<svg/>").unwrap();
        std::fs::write(folder.join(".tmp-123.svg"), "half").unwrap();
        assert_eq!(w.postmortem("INC-0001").unwrap().as_deref(), Some("# pm"));
        assert!(w.has_postmortem("INC-0001").unwrap());
        assert_eq!(w.charts("INC-0001").unwrap(), ["svc-latency_ms.svg"]);
        assert_eq!(
            w.chart("INC-0001", "svc-latency_ms.svg")
                .unwrap()
                .as_deref(),
            Some("<svg/>")
        );
        assert_eq!(w.chart("INC-0001", "nope.svg").unwrap(), None);
    }
}
