//! The log analytics server's MCP resources: the files of the analytics workspace — the logs
//! `get_raw_logs` fetched (`analytics://INC-0001/logs-1.json`), the scripts saved and what
//! their runs wrote (`analytics://INC-0001/out-2/result.json`). Files fetched for an incident
//! are under its id, so `analytics://INC-0001/` is what that incident produced.
//!
//! Like a tool, each request is one shape: the URI made a workspace path (the same
//! [`relative_path`] the tools use), one lookup in the [`super::Workspace`] (through its
//! no-symlink descriptors: scripts can plant links in their output folders), the contents. The
//! handler in `mod.rs` only routes here, checks the `analyze` scope (these are the raw logs
//! `get_raw_logs` is guarded by) and audits reads.

use std::io::Read;

use rmcp::model::{Resource, ResourceContents, ResourceTemplate};

use super::{
    LogAnalytics,
    workspace::{relative_path, split},
};
use crate::ResourceError;

/// The template: a path relative to the `analytics/` workspace (RFC 6570 reserved expansion,
/// so it may hold `/`).
pub const TEMPLATE: &str = "analytics://{+path}";
/// How many of the newest files `resources/list` shows.
pub const LISTED: usize = 50;
/// Entries looked at for a listing, at most.
const SCAN: usize = 20_000;
/// The largest file a read returns: a log file of 200 000 entries is tens of MB, which no
/// client wants in one message; `get_raw_logs` pages through it.
pub const MAX_BYTES: u64 = 1024 * 1024;

const SCHEME: &str = "analytics://";
const SHAPES: &str = "send analytics://PATH with PATH relative to the analytics/ workspace, \
such as analytics://INC-0001/logs-1.json or analytics://INC-0001/out-1/result.json; \
resources/list shows the newest files, completion/complete completes paths";

/// `analytics://PATH` as a checked workspace path.
pub fn parse(uri: &str) -> Result<String, ResourceError> {
    let rest = uri.strip_prefix(SCHEME).ok_or_else(|| {
        ResourceError::Malformed(format!(
            "resource URI {uri:?} is not an analytics:// URI; {SHAPES}"
        ))
    })?;
    relative_path("uri", rest)
        .map_err(|e| ResourceError::Malformed(format!("resource URI {uri:?}: {e}; {SHAPES}")))
}

/// `resources/templates/list`.
pub fn templates() -> Vec<ResourceTemplate> {
    vec![
        ResourceTemplate::new(TEMPLATE, "analytics-file")
            .with_title("Analytics workspace file")
            .with_description(
                "A file of the analytics/ workspace: logs fetched by get_raw_logs (under the \
                 incident's id when fetched for one), saved scripts, and what each run wrote \
                 in its out-N folder. At most 1 MiB per read; page larger log files with \
                 get_raw_logs' cursor.",
            ),
    ]
}

/// `resources/list`: the [`LISTED`] most recently written files.
pub async fn list(la: &LogAnalytics) -> Result<Vec<Resource>, ResourceError> {
    let workspace = la.workspace.clone();
    let paths = tokio::task::spawn_blocking(move || workspace.newest_files(LISTED, SCAN))
        .await
        .map_err(|e| ResourceError::Unavailable(format!("listing the workspace: {e}")))?
        .map_err(|e| ResourceError::Unavailable(format!("listing the workspace: {e}")))?;
    Ok(paths
        .into_iter()
        .map(|p| {
            let uri = format!("{SCHEME}{p}");
            let r = Resource::new(uri, p.clone());
            match mime(&p) {
                Some(m) => r.with_mime_type(m),
                None => r,
            }
        })
        .collect())
}

/// `resources/read` of `uri`.
pub async fn read(la: &LogAnalytics, uri: &str) -> Result<ResourceContents, ResourceError> {
    let path = parse(uri)?;
    let canonical = format!("{SCHEME}{path}");
    let workspace = la.workspace.clone();
    let shown = canonical.clone();
    let text = tokio::task::spawn_blocking(move || -> Result<String, ResourceError> {
        let file = workspace.open_file(&path).map_err(|e| {
            let errno = e.raw_os_error();
            if e.kind() == std::io::ErrorKind::NotFound
                || errno == Some(rustix::io::Errno::NOTDIR.raw_os_error())
            {
                ResourceError::NotFound(format!(
                    "{shown} does not exist; resources/list shows the newest files, and \
                     completion/complete completes paths"
                ))
            } else if errno == Some(rustix::io::Errno::LOOP.raw_os_error())
                || errno == Some(rustix::io::Errno::XDEV.raw_os_error())
            {
                ResourceError::Malformed(format!(
                    "{shown} is or passes through a symbolic link, which is never followed"
                ))
            } else {
                ResourceError::Unavailable(format!("opening {shown}: {e}"))
            }
        })?;
        let meta = file
            .metadata()
            .map_err(|e| ResourceError::Unavailable(format!("reading {shown}: {e}")))?;
        if !meta.is_file() {
            return Err(ResourceError::Malformed(format!(
                "{shown} is a folder; complete its path (completion/complete) to see its files"
            )));
        }
        if meta.len() > MAX_BYTES {
            return Err(ResourceError::TooLarge(format!(
                "{shown} is {} KiB, more than the {} KiB a resource read returns; page it with \
                 get_raw_logs (its next_cursor) or have a script summarise it",
                meta.len() / 1024,
                MAX_BYTES / 1024
            )));
        }
        let mut bytes = Vec::with_capacity(meta.len() as usize);
        file.take(MAX_BYTES)
            .read_to_end(&mut bytes)
            .map_err(|e| ResourceError::Unavailable(format!("reading {shown}: {e}")))?;
        String::from_utf8(bytes).map_err(|_| {
            ResourceError::Malformed(format!(
                "{shown} is not UTF-8 text; only text files are served as resources"
            ))
        })
    })
    .await
    .map_err(|e| ResourceError::Unavailable(format!("reading {canonical}: {e}")))??;
    let contents = ResourceContents::text(text, canonical.clone());
    Ok(match mime(&canonical) {
        Some(m) => contents.with_mime_type(m),
        None => contents,
    })
}

/// `completion/complete` of the template's `path`: the entries of the folder typed so far
/// whose names start with what follows its last `/`; folders end in `/`.
pub async fn complete(
    la: &LogAnalytics,
    template: &str,
    argument: &str,
    value: &str,
) -> Result<Vec<String>, ResourceError> {
    if template != TEMPLATE {
        return Err(ResourceError::Malformed(format!(
            "this server completes the variable of {TEMPLATE}, not of {template:?}"
        )));
    }
    if argument != "path" {
        return Err(ResourceError::Malformed(format!(
            "{TEMPLATE} has one variable, path, not {argument:?}"
        )));
    }
    let value = value.strip_prefix("analytics/").unwrap_or(value);
    let (dir, prefix) = split(value);
    let dir = if dir.is_empty() {
        String::new()
    } else {
        match relative_path("path", dir) {
            Ok(d) => d,
            // Nothing can complete a folder that cannot exist.
            Err(_) => return Ok(Vec::new()),
        }
    };
    let workspace = la.workspace.clone();
    let listing_of = dir.clone();
    let entries = tokio::task::spawn_blocking(move || workspace.entries(&listing_of))
        .await
        .map_err(|e| ResourceError::Unavailable(format!("listing the workspace: {e}")))?
        .unwrap_or_default();
    Ok(entries
        .into_iter()
        .filter(|(name, _)| name.starts_with(prefix))
        .take(rmcp::model::CompletionInfo::MAX_VALUES)
        .map(|(name, is_dir)| {
            let path = if dir.is_empty() {
                name
            } else {
                format!("{dir}/{name}")
            };
            if is_dir { format!("{path}/") } else { path }
        })
        .collect())
}

/// The MIME type a file's extension says, when it says one.
fn mime(path: &str) -> Option<&'static str> {
    let ext = path.rsplit_once('.').map(|(_, e)| e)?;
    Some(match ext {
        "json" => "application/json",
        "jsonl" | "ndjson" => "application/x-ndjson",
        "py" => "text/x-python",
        "csv" => "text/csv",
        "md" => "text/markdown",
        "svg" => "image/svg+xml",
        "txt" | "log" | "out" | "err" => "text/plain",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn uris_become_workspace_paths_and_others_say_what_to_send() {
        assert_eq!(
            parse("analytics://INC-0001/logs-1.json").unwrap(),
            "INC-0001/logs-1.json"
        );
        for bad in [
            "file:///etc/passwd",
            "analytics://../x",
            "analytics:///etc/passwd",
            "analytics://INC-0001/.logs-1.json.idx",
            "analytics://",
        ] {
            let e = parse(bad).unwrap_err().to_string();
            assert!(e.contains("analytics://INC-0001/logs-1.json"), "{bad}: {e}");
        }
    }
}
