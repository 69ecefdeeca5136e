//! Reading back what [`crate::postmortem::document`] wrote: an incident's postmortem Markdown and
//! its SVG charts, from `<postmortems>/<incident id>/`. The workflow server serves them as MCP
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
