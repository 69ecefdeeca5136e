//! Fetching: a new selection read from the world into a new data file in one pass, counting
//! the summary and filling the first page as the lines go by.

use super::{
    LogAnalytics, Output, Page, Summary, Window,
    data_file::Writer,
    io_error,
    paging::{Pager, Shape, next_cursor},
    selection::{Filter, Selection},
    summary::Tally,
};
use crate::{ToolError, log_analytics::workspace::Workspace};

/// Entries written to one file at most; a wider window is cut there (and says so).
pub const MAX_ENTRIES: u64 = 200_000;

/// What an empty answer means when nothing is read at all.
pub const NO_LOG_SOURCE: &str = "no log source is configured, so no line was read (not the same \
as no errors): add [[log_files]] or [[journald]] entries to the config";

/// Reads `selection` into a new file and answers with its summary and first page.
pub(super) async fn fetch(
    la: &LogAnalytics,
    selection: Selection,
    shape: Shape,
) -> Result<Output, ToolError> {
    let Selection {
        from,
        to,
        folder,
        filter,
        mut notes,
    } = selection;
    let services = filter.services.clone();
    let stream = la
        .world
        .logs(from, to)
        .await
        .map_err(|e| ToolError::Unavailable(e.to_string()))?;
    let workspace = la.workspace.clone();
    let collected =
        tokio::task::spawn_blocking(move || collect(&workspace, &folder, stream, &filter, shape))
            .await
            .map_err(|e| io_error("reading the logs stopped", e))??;
    tracing::info!(
        path = %collected.path,
        entries = collected.total,
        truncated = collected.truncated,
        "get_raw_logs: wrote the result set"
    );
    if collected.truncated {
        notes.push(format!(
            "the window holds more than {MAX_ENTRIES} entries; the file stops there — narrow \
             timeframe, service_filter, level or query for the rest"
        ));
    }
    if !la.world.has_log_sources() {
        notes.push(NO_LOG_SOURCE.to_owned());
    } else if collected.total == 0 {
        notes.push(
            "no entry matched; widen timeframe, or drop level, query or service_filter".to_owned(),
        );
    }
    Ok(Output {
        log_data_path_absolute: la.workspace.absolute(&collected.path),
        next_cursor: next_cursor(&collected.path, collected.page.count, collected.total),
        log_data_path: collected.path,
        total_entries: collected.total,
        truncated: collected.truncated,
        window: Some(Window { from, to }),
        services: Some(services),
        summary: Some(collected.summary),
        page: collected.page,
        notes,
    })
}

struct Collected {
    path: String,
    total: u64,
    truncated: bool,
    summary: Summary,
    page: Page,
}

/// Streams the world's lines through the filter into a new file, counting as it goes.
/// Blocking: run it on a blocking thread.
fn collect(
    workspace: &Workspace,
    folder: &str,
    stream: opsmcp_world::LogStream,
    filter: &Filter,
    shape: Shape,
) -> Result<Collected, ToolError> {
    let mut file = Writer::create(workspace, folder)?;
    let mut tally = Tally::default();
    let mut pager = Pager::new(shape, 0);
    let mut truncated = false;
    for line in stream {
        let picked = filter.pick(line);
        if picked.redacted {
            tally.redacted();
        }
        let Some(entry) = picked.entry else {
            continue;
        };
        if file.total() == MAX_ENTRIES {
            truncated = true;
            break;
        }
        file.append(&entry)?;
        tally.count(&entry);
        pager.offer(entry);
    }
    let total = file.total();
    let summary = tally.finish();
    let path = file.finish()?;
    Ok(Collected {
        path,
        total,
        truncated,
        summary,
        page: pager.finish(),
    })
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;
    use opsmcp_world::LogEntry;

    use super::*;
    use crate::log_analytics::get_raw_logs::{Entry, Format};

    #[test]
    fn secrets_are_redacted_before_the_file_and_the_page() {
        let tmp = tempfile::tempdir().unwrap();
        let ws = Workspace::create(tmp.path().join("analytics")).unwrap();
        let at: Timestamp = "2026-11-26T10:00:00Z".parse().unwrap();
        let lines = [
            "login ok user=bob password=hunter2",
            "GET /v1 Authorization: Bearer sk_live_abcdef123456",
            "pool connect postgres://orders:Sup3rS3cret@orders-db:5432/orders",
            "s3 upload with AKIAIOSFODNN7EXAMPLE",
            "request completed status=200",
        ];
        let stream: opsmcp_world::LogStream =
            Box::new(lines.into_iter().enumerate().map(move |(i, text)| {
                LogEntry {
                    at: at
                        .checked_add(jiff::SignedDuration::from_secs(i as i64))
                        .unwrap(),
                    service: if i % 2 == 0 { "api" } else { "db" }.to_owned(),
                    level: "info".to_owned(),
                    text: text.to_owned(),
                }
            }));
        let filter = Filter {
            services: vec!["api".into(), "db".into()],
            min_level: None,
            query: None,
        };
        let shape = Shape::read(Some(100), Some(Format::Json)).unwrap();
        let got = collect(&ws, "INC-0001", stream, &filter, shape).unwrap();
        assert_eq!(got.path, "INC-0001/logs-1.json");
        assert_eq!(got.total, 5);
        assert_eq!(got.summary.redacted_lines, 4);
        let file = std::fs::read_to_string(ws.root().join(&got.path)).unwrap();
        let page = serde_json::to_string(&got.page.entries).unwrap();
        let templates = serde_json::to_string(&got.summary.top_templates).unwrap();
        for secret in [
            "hunter2",
            "sk_live_abcdef123456",
            "Sup3rS3cret",
            "AKIAIOSFODNN7EXAMPLE",
        ] {
            assert!(!file.contains(secret), "{secret} in the file: {file}");
            assert!(!page.contains(secret), "{secret} on the page");
            assert!(!templates.contains(secret), "{secret} in a template");
        }
        let parsed: Vec<Entry> = serde_json::from_str(&file).unwrap();
        assert_eq!(parsed.len(), 5);
        assert_eq!(parsed[4].message, "request completed status=200");
    }
}
