//! `get_raw_logs`: every log line of an incident (or a timeframe) written whole to one JSON file
//! in the analytics workspace, for scripts; the caller gets the file's path, a summary and one
//! page of lines cut by size, not count, so a reply never floods the model's context.
//!
//! This file is the tool's shape; how it works lives beside it, one concern a file:
//! `selection.rs` (which services, lines and window a call reads), `fetch.rs` (a selection read
//! into a new file), `data_file.rs` (the file's layout and its page index), `summary.rs` (counts
//! and mined templates of what was read) and `paging.rs` (pages, limits and cursors).

mod data_file;
mod fetch;
mod paging;
mod selection;
mod summary;

use opsmcp_mcp::Caller;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use data_file::Entry;
pub use fetch::{MAX_ENTRIES, NO_LOG_SOURCE};
pub use opsmcp_analysis::Window;
pub use paging::{Format, PAGE_BUDGET, Page};
pub use summary::{Summary, TemplateCount};

use super::LogAnalytics;
use crate::ToolError;

/// What the model reads about this tool.
pub const DESCRIPTION: &str = "Fetch raw log entries (1000+ when the window has them) for \
analysis. Writes the full result set to a JSON file in the analytics/ workspace (`log_data_path`, \
an array of {at, service, level, message}) for execute_analysis_script, and returns a summary \
(counts by service and level, time span, top message templates) plus one page of entries. \
Select by `incident_id` (its services and time window), `timeframe` (\"15m\", \"last 2 hours\", \
\"2026-11-26T10:00:00Z/2026-11-26T11:00:00Z\"; default the last 30 minutes) and \
`service_filter` (a name, a comma list or a glob like \"check*\"); narrow with `level` (minimum) \
and `query`. Page on with `cursor`. Secrets (tokens, passwords, keys) are redacted.";

/// Arguments; all optional.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// An incident id (`INC-0042`): its services and its window (30 minutes before it was
    /// opened until 10 minutes after it was resolved, or now). Files go to analytics/<id>/.
    #[serde(default)]
    pub incident_id: Option<String>,
    /// `15m`, `2h`, `last 30 minutes`, or an ISO-8601 range `START/END`. Overrides the
    /// incident's window. Default: the last 30 minutes.
    #[serde(default)]
    pub timeframe: Option<String>,
    /// A service, a comma list (`checkout-api,payments`) or a glob (`check*`). Overrides the
    /// incident's services. Default: all.
    #[serde(default)]
    pub service_filter: Option<String>,
    /// Minimum level: debug, info, warn or error. Lines of unknown level are kept only without
    /// it.
    #[serde(default)]
    pub level: Option<String>,
    /// Keep lines containing this text (case-insensitive), or matching `/regex/`.
    #[serde(default)]
    pub query: Option<String>,
    /// Most entries on the returned page, 1 to 1000 (default 200); a page is also cut at 24 KiB.
    #[serde(default)]
    pub limit: Option<u32>,
    /// `next_cursor` of an earlier answer: the next page of the same file. Send only with
    /// `limit` and `format`.
    #[serde(default)]
    pub cursor: Option<String>,
    /// `json` (default) or `csv`, for the page; the file is always JSON.
    #[serde(default)]
    pub format: Option<Format>,
}

/// The answer.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// The file, relative to analytics/: pass it to execute_analysis_script.
    pub log_data_path: String,
    /// The same file, absolute.
    pub log_data_path_absolute: String,
    /// Entries in the file.
    pub total_entries: u64,
    /// The window had more than the file holds (200000); narrow it to see the rest.
    pub truncated: bool,
    /// The window read (absent when paging with a cursor).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window: Option<Window>,
    /// Services read (absent when paging with a cursor).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub services: Option<Vec<String>>,
    /// Counts, span and templates (absent when paging with a cursor).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<Summary>,
    /// One page of entries.
    pub page: Page,
    /// Send it as `cursor` for the next page; absent on the last.
    pub next_cursor: Option<String>,
    /// Anything the caller should know about how the request was read.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// Runs the tool: the next page of an earlier answer's file for a cursor, else a new selection
/// read into a new file.
pub async fn run(ctx: &LogAnalytics, _caller: &Caller, args: Args) -> Result<Output, ToolError> {
    let shape = paging::Shape::read(args.limit, args.format)?;
    match &args.cursor {
        Some(cursor) => {
            selection::refuse_beside_cursor(&args)?;
            paging::next_page(ctx, cursor, shape).await
        }
        None => fetch::fetch(ctx, selection::choose(ctx, &args).await?, shape).await,
    }
}

/// An argument that cannot be read, with what to send instead.
fn invalid(argument: &'static str, problem: impl Into<String>) -> ToolError {
    ToolError::InvalidArgument {
        argument,
        problem: problem.into(),
    }
}

/// Our side failing (the workspace, a worker thread), not the request: worth a retry.
fn io_error(what: &str, e: impl std::fmt::Display) -> ToolError {
    ToolError::Unavailable(format!("{what}: {e}"))
}
