//! Paging: how much of a data file one answer shows (a page cut by count and by bytes, as JSON
//! or CSV), and the cursor that continues from it by reading the file back.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Entry, LogAnalytics, Output, data_file::Reader, invalid, io_error};
use crate::{
    ToolError,
    log_analytics::workspace::{Workspace, relative_path, split},
};

/// Bytes of entries on one returned page.
pub const PAGE_BUDGET: usize = 24 * 1024;
/// Longest message shown on a page (the file has it whole).
const PAGE_TEXT_CHARS: usize = 2048;

/// How the page is returned.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// `page.entries`: objects.
    #[default]
    Json,
    /// `page.csv`: `at,service,level,message` with a header line.
    Csv,
}

/// One page of entries.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Page {
    /// Index of its first entry in the file.
    pub offset: u64,
    /// Entries on it.
    pub count: u64,
    /// Bytes of entries (at most 24 KiB, or one entry).
    pub bytes: u64,
    /// The entries (format json); long messages are cut here, not in the file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entries: Option<Vec<Entry>>,
    /// The entries (format csv).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csv: Option<String>,
}

/// What a page may hold and how it is written, from `limit` and `format`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Shape {
    limit: usize,
    format: Format,
}

impl Shape {
    /// The arguments checked; the defaults filled in.
    pub(super) fn read(limit: Option<u32>, format: Option<Format>) -> Result<Shape, ToolError> {
        let limit = limit.unwrap_or(200);
        if !(1..=1000).contains(&limit) {
            return Err(invalid(
                "limit",
                format!("{limit} is out of range; send 1 to 1000 (default 200)"),
            ));
        }
        Ok(Shape {
            limit: limit as usize,
            format: format.unwrap_or_default(),
        })
    }
}

/// The cursor of the page after one ending before entry `next`; `None` after the last.
pub(super) fn next_cursor(path: &str, next: u64, total: u64) -> Option<String> {
    (next < total).then(|| format!("{path}#{next}"))
}

/// Builds one page under the byte budget.
pub(super) struct Pager {
    shape: Shape,
    offset: u64,
    bytes: usize,
    full: bool,
    entries: Vec<Entry>,
    csv: String,
}

impl Pager {
    /// An empty page starting at entry `offset` of its file.
    pub(super) fn new(shape: Shape, offset: u64) -> Self {
        let csv = match shape.format {
            Format::Csv => "at,service,level,message\n".to_owned(),
            Format::Json => String::new(),
        };
        Pager {
            shape,
            offset,
            bytes: csv.len(),
            full: false,
            entries: Vec::new(),
            csv,
        }
    }

    /// Whether the page is closed: offering more is pointless.
    pub(super) fn full(&self) -> bool {
        self.full
    }

    /// Takes `entry` if it fits; once one does not, the page is closed (entries stay in order).
    pub(super) fn offer(&mut self, mut entry: Entry) {
        if self.full || self.entries.len() >= self.shape.limit {
            self.full = true;
            return;
        }
        if entry.message.chars().count() > PAGE_TEXT_CHARS {
            let cut: String = entry.message.chars().take(PAGE_TEXT_CHARS).collect();
            entry.message = format!("{cut}… (cut here; whole in the file)");
        }
        let rendered = match self.shape.format {
            Format::Json => serde_json::to_string(&entry).unwrap_or_default(),
            Format::Csv => csv_row(&entry),
        };
        let cost = rendered.len() + 1;
        // The first entry always goes in, so a page is never empty while entries remain.
        if !self.entries.is_empty() && self.bytes + cost > PAGE_BUDGET {
            self.full = true;
            return;
        }
        self.bytes += cost;
        if self.shape.format == Format::Csv {
            self.csv.push_str(&rendered);
            self.csv.push('\n');
        }
        self.entries.push(entry);
    }

    /// The page as answered: entries or CSV, by format.
    pub(super) fn finish(self) -> Page {
        let count = self.entries.len() as u64;
        let (entries, csv) = match self.shape.format {
            Format::Json => (Some(self.entries), None),
            Format::Csv => (None, Some(self.csv)),
        };
        Page {
            offset: self.offset,
            count,
            bytes: self.bytes as u64,
            entries,
            csv,
        }
    }
}

fn csv_row(e: &Entry) -> String {
    let field = |s: &str| {
        if s.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_owned()
        }
    };
    format!(
        "{},{},{},{}",
        field(&e.at),
        field(&e.service),
        field(&e.level),
        field(&e.message)
    )
}

/// The page after `cursor` (`<file>#<offset>`), read back from the file.
pub(super) async fn next_page(
    la: &LogAnalytics,
    cursor: &str,
    shape: Shape,
) -> Result<Output, ToolError> {
    let bad = || {
        invalid(
            "cursor",
            format!(
                "{cursor:?} is not a cursor from get_raw_logs; send the next_cursor of an \
                 earlier answer unchanged, or omit it"
            ),
        )
    };
    let (path, offset) = cursor.rsplit_once('#').ok_or_else(bad)?;
    let offset: u64 = offset.parse().map_err(|_| bad())?;
    let path = relative_path("cursor", path)?;
    let name = split(&path).1;
    let numbered = name
        .strip_prefix("logs-")
        .and_then(|n| n.strip_suffix(".json"))
        .is_some_and(|n| n.parse::<u64>().is_ok());
    if !numbered {
        return Err(bad());
    }
    let workspace = la.workspace.clone();
    let file_path = path.clone();
    let read =
        tokio::task::spawn_blocking(move || read_page(&workspace, &file_path, offset, shape))
            .await
            .map_err(|e| io_error("reading the log data file stopped", e))??;
    let (page, total) = read.ok_or_else(bad)?;
    Ok(Output {
        log_data_path_absolute: la.workspace.absolute(&path),
        next_cursor: next_cursor(&path, offset + page.count, total),
        log_data_path: path,
        total_entries: total,
        truncated: false,
        window: None,
        services: None,
        summary: None,
        page,
        notes: Vec::new(),
    })
}

/// The page at entry `offset` of the data file at `path`, and the file's entry count; `None`
/// when `offset` is past the end. Memory holds one page, whatever the file's size.
fn read_page(
    workspace: &Workspace,
    path: &str,
    offset: u64,
    shape: Shape,
) -> Result<Option<(Page, u64)>, ToolError> {
    let mut file = Reader::open(workspace, path).map_err(|e| {
        invalid(
            "cursor",
            format!(
                "the file {path} of this cursor cannot be opened ({e}); fetch the logs again \
                 without a cursor"
            ),
        )
    })?;
    if !file.seek_entry(offset)? {
        return Ok(None);
    }
    let mut pager = Pager::new(shape, offset);
    while let Some(entry) = file.next_entry()? {
        pager.offer(entry);
        if pager.full() {
            break;
        }
    }
    Ok(Some((pager.finish(), file.total()?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(i: usize, len: usize) -> Entry {
        Entry {
            at: format!("2026-11-26T10:00:{:02}Z", i % 60),
            service: "svc".into(),
            level: "info".into(),
            message: "x".repeat(len),
        }
    }

    fn shape(limit: usize) -> Shape {
        Shape {
            limit,
            format: Format::Json,
        }
    }

    #[test]
    fn pages_are_cut_by_bytes_not_count() {
        let mut p = Pager::new(shape(1000), 0);
        for i in 0..500 {
            p.offer(entry(i, 200));
        }
        let page = p.finish();
        assert!(page.bytes as usize <= PAGE_BUDGET, "{}", page.bytes);
        assert!(page.count > 50 && page.count < 200, "{}", page.count);
        let shown = serde_json::to_string(&page.entries).unwrap();
        assert!(shown.len() <= PAGE_BUDGET + 2, "{}", shown.len());
    }

    #[test]
    fn long_lines_are_cut_on_the_page_so_others_still_fit() {
        let mut p = Pager::new(shape(10), 0);
        p.offer(entry(0, 100_000));
        p.offer(entry(1, 10));
        let page = p.finish();
        assert_eq!(page.count, 2);
        assert!(page.bytes as usize <= PAGE_BUDGET);
        assert!(page.entries.unwrap()[0].message.contains("cut here"));
    }

    #[test]
    fn csv_quotes_what_needs_it() {
        let mut e = entry(0, 0);
        e.message = "a, \"b\"\nc".into();
        assert_eq!(
            csv_row(&e),
            "2026-11-26T10:00:00Z,svc,info,\"a, \"\"b\"\"\nc\""
        );
    }
}
