//! `get_raw_logs`: every log line of an incident (or a timeframe) written whole to one JSON file
//! in the analytics workspace, for scripts; the caller gets the file's path, a summary and one
//! page of lines cut by size, not count, so a reply never floods the model's context.

use std::{
    collections::BTreeMap,
    io::{BufRead, BufReader, Seek, SeekFrom, Write},
};

use jiff::Timestamp;
use opsmcp_logs::{Engine, MineOptions, redact::redact};
use opsmcp_store::StoreError;
use opsmcp_world::{
    LogEntry,
    window::{DEFAULT_WINDOW, ServiceFilter, Timeframe, incident_window},
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{
    LogAnalytics,
    workspace::{AtomicFile, Workspace, relative_path, split},
};
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

/// Entries written to one file at most; a wider window is cut there (and says so).
pub const MAX_ENTRIES: u64 = 200_000;
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

/// Arguments; all optional.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// An incident id (`INC-0042`): its services and its window (30 minutes before it was
    /// opened until 10 minutes after it was resolved, or now). Files go to analytics/<id>/.
    #[serde(default)]
    pub incident_id: Option<String>,
    /// `15m`, `2h`, `last 30 minutes`, or an ISO-8601 range `START/END`. Overrides the
    /// incident's window. Default: the last 15 minutes.
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

/// The window read, written `{start, end}` (`from` is a keyword in Python; clients that
/// generate models from the output schema fail on it). Reading it back accepts the old names.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct Window {
    /// Start, inclusive (RFC 3339).
    #[serde(rename = "start", alias = "from")]
    pub from: String,
    /// End, exclusive (RFC 3339).
    #[serde(rename = "end", alias = "to")]
    pub to: String,
}

/// A message template and how often it occurred.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TemplateCount {
    /// The service that wrote it.
    pub service: String,
    /// The message with its variables as `<*>`.
    pub template: String,
    /// Lines.
    pub count: u64,
    /// One line of it.
    pub example: String,
}

/// What the file holds.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Summary {
    /// Entries per service.
    pub by_service: BTreeMap<String, u64>,
    /// Entries per level.
    pub by_level: BTreeMap<String, u64>,
    /// Entries per service and level.
    pub by_service_level: BTreeMap<String, BTreeMap<String, u64>>,
    /// The first entry's time.
    pub first_at: Option<String>,
    /// The last entry's time.
    pub last_at: Option<String>,
    /// The most frequent templates (at most 10).
    pub top_templates: Vec<TemplateCount>,
    /// Lines in which a secret was redacted.
    pub redacted_lines: u64,
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

/// What an empty answer means when nothing is read at all.
pub const NO_LOG_SOURCE: &str = "no log source is configured, so no line was read (not the same \
as no errors): add [[log_files]] or [[journald]] entries to the config";

fn invalid(argument: &'static str, problem: impl Into<String>) -> ToolError {
    ToolError::InvalidArgument {
        argument,
        problem: problem.into(),
    }
}

fn io_error(what: &str, e: impl std::fmt::Display) -> ToolError {
    ToolError::Unavailable(format!("{what}: {e}"))
}

/// Levels in order of severity; `None` for a level outside the order (`unknown`).
fn rank(level: &str) -> Option<u8> {
    match level.to_ascii_lowercase().as_str() {
        "trace" | "debug" => Some(0),
        "info" | "notice" => Some(1),
        "warn" | "warning" => Some(2),
        "error" | "err" | "fatal" | "critical" | "crit" => Some(3),
        _ => None,
    }
}

/// The `query` argument as a matcher.
fn matcher(query: &str) -> Result<regex::Regex, ToolError> {
    if query.len() > 512 {
        return Err(invalid(
            "query",
            "longer than 512 characters; send a shorter one",
        ));
    }
    let (pattern, literal) = match query.strip_prefix('/').and_then(|q| q.strip_suffix('/')) {
        Some(re) if !re.is_empty() => (re.to_owned(), false),
        _ => (regex::escape(query), true),
    };
    regex::RegexBuilder::new(&pattern)
        .case_insensitive(literal)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| {
            invalid(
                "query",
                format!(
                    "{query:?} is not a valid /regex/ ({e}); send plain text to match as a \
                     substring, or fix the pattern"
                ),
            )
        })
}

/// Runs the tool.
pub async fn run(la: &LogAnalytics, args: Args) -> Result<Output, ToolError> {
    let limit = args.limit.unwrap_or(200);
    if !(1..=1000).contains(&limit) {
        return Err(invalid(
            "limit",
            format!("{limit} is out of range; send 1 to 1000 (default 200)"),
        ));
    }
    let format = args.format.unwrap_or_default();
    if let Some(cursor) = &args.cursor {
        if args.incident_id.is_some()
            || args.timeframe.is_some()
            || args.service_filter.is_some()
            || args.level.is_some()
            || args.query.is_some()
        {
            return Err(invalid(
                "cursor",
                "a cursor continues an earlier answer with that answer's selection; send it \
                 with only limit and format, or drop it to make a new selection",
            ));
        }
        return next_page(la, cursor, limit as usize, format).await;
    }

    let min_level = match &args.level {
        None => None,
        Some(l) => Some(rank(l).ok_or_else(|| {
            invalid(
                "level",
                format!("{l:?} is not a level; send debug, info, warn or error"),
            )
        })?),
    };
    let query = args.query.as_deref().map(matcher).transpose()?;

    let now = Timestamp::now();
    let mut notes = Vec::new();
    let incident = match &args.incident_id {
        None => None,
        Some(id) => Some(load_incident(la, id).await?),
    };
    let (from, to) = match (&args.timeframe, &incident) {
        (Some(t), _) => {
            Timeframe::parse(t, now).map_err(|e| invalid("timeframe", e.to_string()))?
        }
        (None, Some(inc)) => incident_window(inc.created_at, inc.resolved_at, now),
        (None, None) => (now.checked_sub(DEFAULT_WINDOW).unwrap_or(now), now),
    };

    let known: Vec<String> = la.world.services().into_iter().map(|s| s.name).collect();
    let services: Vec<String> = match (&args.service_filter, &incident) {
        (Some(f), _) => ServiceFilter::parse(f)
            .and_then(|f| {
                f.select(&known)
                    .map(|s| s.into_iter().map(str::to_owned).collect())
            })
            .map_err(|e| invalid("service_filter", e.to_string()))?,
        (None, Some(inc)) => {
            let ours: Vec<String> = known
                .iter()
                .filter(|k| inc.services.contains(k))
                .cloned()
                .collect();
            if ours.is_empty() {
                notes.push(format!(
                    "incident {} names no service this world watches ({}); all services were \
                     read",
                    inc.id,
                    if inc.services.is_empty() {
                        "none given".to_owned()
                    } else {
                        inc.services.join(", ")
                    }
                ));
                known.clone()
            } else {
                ours
            }
        }
        (None, None) => known.clone(),
    };

    let folder = match &incident {
        Some(inc) => inc.id.clone(),
        None => format!("adhoc-{}", now.strftime("%Y%m%dT%H%M%SZ")),
    };
    let stream = la
        .world
        .logs(from, to)
        .await
        .map_err(|e| ToolError::Unavailable(e.to_string()))?;
    let workspace = la.workspace.clone();
    let selection = Selection {
        services: services.clone(),
        min_level,
        query,
        limit: limit as usize,
        format,
    };
    let collected =
        tokio::task::spawn_blocking(move || collect(&workspace, &folder, stream, selection))
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
    let next_cursor = (collected.page.count < collected.total)
        .then(|| format!("{}#{}", collected.path, collected.page.count));
    Ok(Output {
        log_data_path_absolute: la.workspace.absolute(&collected.path),
        log_data_path: collected.path,
        total_entries: collected.total,
        truncated: collected.truncated,
        window: Some(Window {
            from: from.to_string(),
            to: to.to_string(),
        }),
        services: Some(services),
        summary: Some(collected.summary),
        page: collected.page,
        next_cursor,
        notes,
    })
}

/// The incident, with an id checked before it is used as a folder name.
async fn load_incident(la: &LogAnalytics, id: &str) -> Result<opsmcp_store::Incident, ToolError> {
    let well_formed = !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !well_formed {
        return Err(invalid(
            "incident_id",
            format!(
                "{id:?} is not an incident id; ids look like INC-0042 (letters, digits, '-'), \
                 or omit incident_id and send a timeframe"
            ),
        ));
    }
    match la.store.get_incident(id).await {
        Ok(detail) => Ok(detail.incident),
        Err(e @ StoreError::UnknownIncident { .. }) => Err(invalid(
            "incident_id",
            format!("{e}; or omit incident_id and send a timeframe"),
        )),
        Err(e) => Err(ToolError::Unavailable(format!(
            "the incident store cannot be read: {e}"
        ))),
    }
}

struct Selection {
    services: Vec<String>,
    min_level: Option<u8>,
    query: Option<regex::Regex>,
    limit: usize,
    format: Format,
}

struct Collected {
    path: String,
    total: u64,
    truncated: bool,
    summary: Summary,
    page: Page,
}

/// Streams the world's lines through the selection into a new file, counting as it goes.
/// Blocking: run it on a blocking thread.
fn collect(
    workspace: &Workspace,
    folder: &str,
    stream: opsmcp_world::LogStream,
    sel: Selection,
) -> Result<Collected, ToolError> {
    let dir = workspace
        .open_dir(folder, true)
        .map_err(|e| io_error("cannot create the workspace folder", e))?;
    let mut file =
        AtomicFile::create(&dir).map_err(|e| io_error("cannot create the log data file", e))?;
    let write_err = |e| io_error("cannot write the log data file", e);
    file.write_all(b"[").map_err(write_err)?;
    // Where every INDEX_EVERY-th entry's line starts, so a later page seeks there.
    let mut written = 1u64;
    let mut checkpoints = Vec::new();

    let mut total = 0u64;
    let mut truncated = false;
    let mut redacted_lines = 0u64;
    let mut by_service: BTreeMap<String, u64> = BTreeMap::new();
    let mut by_level: BTreeMap<String, u64> = BTreeMap::new();
    let mut by_service_level: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    let mut first_at = None;
    let mut last_at = None;
    // Per service, because services log in different formats and the miner detects one format
    // per stream.
    let mut texts: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut pager = Pager::new(sel.limit, sel.format, 0);

    for LogEntry {
        at,
        service,
        level,
        text,
    } in stream
    {
        if !sel.services.contains(&service) {
            continue;
        }
        if let Some(min) = sel.min_level
            && rank(&level).is_none_or(|r| r < min)
        {
            continue;
        }
        let message = redact(&text);
        if matches!(message, std::borrow::Cow::Owned(_)) {
            redacted_lines += 1;
        }
        if let Some(q) = &sel.query
            && !q.is_match(&message)
        {
            continue;
        }
        if total == MAX_ENTRIES {
            truncated = true;
            break;
        }
        let entry = Entry {
            at: at.to_string(),
            service,
            level,
            message: message.into_owned(),
        };
        // One entry per line: `[`, then `\n{entry}` with a `,` before each newline but the
        // first, then `\n]`.
        let sep: &[u8] = if total > 0 { b",\n" } else { b"\n" };
        file.write_all(sep).map_err(write_err)?;
        written += sep.len() as u64;
        if total.is_multiple_of(INDEX_EVERY) {
            checkpoints.push(written);
        }
        let line = serde_json::to_vec(&entry)
            .map_err(|e| io_error("cannot write the log data file", e))?;
        file.write_all(&line).map_err(write_err)?;
        written += line.len() as u64;
        total += 1;
        *by_service.entry(entry.service.clone()).or_default() += 1;
        *by_level.entry(entry.level.clone()).or_default() += 1;
        *by_service_level
            .entry(entry.service.clone())
            .or_default()
            .entry(entry.level.clone())
            .or_default() += 1;
        if first_at.is_none() {
            first_at = Some(entry.at.clone());
        }
        let buf = texts.entry(entry.service.clone()).or_default();
        buf.extend_from_slice(entry.message.as_bytes());
        buf.push(b'\n');
        last_at = Some(entry.at.clone());
        pager.offer(entry);
    }
    file.write_all(b"\n]\n").map_err(write_err)?;
    let top_templates = mine(texts);
    let name = file
        .commit_numbered("logs-", ".json")
        .map_err(|e| io_error("cannot save the log data file", e))?;
    // Without its index a file still pages (by scanning lines), so a failure here is said, not
    // fatal.
    if let Err(e) = write_index(
        &dir,
        &name,
        &Index {
            total,
            every: INDEX_EVERY,
            offsets: checkpoints,
        },
    ) {
        tracing::warn!(file = %name, error = %e, "get_raw_logs: no page index written; pages will scan the file");
    }
    let path = if folder.is_empty() {
        name
    } else {
        format!("{folder}/{name}")
    };
    Ok(Collected {
        path,
        total,
        truncated,
        summary: Summary {
            by_service,
            by_level,
            by_service_level,
            first_at,
            last_at,
            top_templates,
            redacted_lines,
        },
        page: pager.finish(),
    })
}

/// The ten most frequent templates over all services.
fn mine(texts: BTreeMap<String, Vec<u8>>) -> Vec<TemplateCount> {
    let mut all = Vec::new();
    for (service, text) in texts {
        // One thread: the server shares its cores with every other request.
        let opts = MineOptions {
            threads: 1,
            examples: 1,
            ..MineOptions::default()
        };
        let Ok(mut engine) = Engine::new(opts) else {
            continue;
        };
        engine.feed(&text);
        engine.end_stream();
        for t in engine.finish().templates.into_iter().take(10) {
            all.push(TemplateCount {
                service: service.clone(),
                template: t.template,
                count: t.count,
                example: t.examples.into_iter().next().unwrap_or_default(),
            });
        }
    }
    all.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| a.template.cmp(&b.template))
    });
    all.truncate(10);
    all
}

/// Builds one page under the byte budget.
struct Pager {
    limit: usize,
    format: Format,
    offset: u64,
    bytes: usize,
    full: bool,
    entries: Vec<Entry>,
    csv: String,
}

impl Pager {
    fn new(limit: usize, format: Format, offset: u64) -> Self {
        let csv = match format {
            Format::Csv => "at,service,level,message\n".to_owned(),
            Format::Json => String::new(),
        };
        Pager {
            limit,
            format,
            offset,
            bytes: csv.len(),
            full: false,
            entries: Vec::new(),
            csv,
        }
    }

    /// Takes `entry` if it fits; once one does not, the page is closed (entries stay in order).
    fn offer(&mut self, mut entry: Entry) {
        if self.full || self.entries.len() >= self.limit {
            self.full = true;
            return;
        }
        if entry.message.chars().count() > PAGE_TEXT_CHARS {
            let cut: String = entry.message.chars().take(PAGE_TEXT_CHARS).collect();
            entry.message = format!("{cut}… (cut here; whole in the file)");
        }
        let rendered = match self.format {
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
        if self.format == Format::Csv {
            self.csv.push_str(&rendered);
            self.csv.push('\n');
        }
        self.entries.push(entry);
    }

    fn finish(self) -> Page {
        let count = self.entries.len() as u64;
        let (entries, csv) = match self.format {
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

fn write_index(dir: &std::os::fd::OwnedFd, data_file: &str, index: &Index) -> std::io::Result<()> {
    let mut file = AtomicFile::create(dir)?;
    serde_json::to_writer(&mut file, index)?;
    file.commit(&index_name(data_file), true)
}

/// One entry line of a data file (`{…}` or `{…},`), or `None` at the closing `]`.
fn parse_line(line: &[u8]) -> Option<Result<Entry, serde_json::Error>> {
    let line = line.trim_ascii();
    let line = line.strip_suffix(b",").unwrap_or(line);
    is_entry(line).then(|| serde_json::from_slice(line))
}

/// The page at entry `offset` of the data file at `path`, and the file's entry count; `None`
/// when `offset` is past the end. Memory holds one page, whatever the file's size.
fn read_page(
    workspace: &Workspace,
    path: &str,
    offset: u64,
    limit: usize,
    format: Format,
) -> Result<(Option<Page>, u64), ToolError> {
    let cannot_open = |e: std::io::Error| {
        invalid(
            "cursor",
            format!(
                "the file {path} of this cursor cannot be opened ({e}); fetch the logs again \
                 without a cursor"
            ),
        )
    };
    let not_data = |e: &dyn std::fmt::Display| {
        io_error(
            &format!("the file {path} is not a log data file any more"),
            e,
        )
    };
    let mut file = workspace.open_file(path).map_err(cannot_open)?;
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
    // Start at the nearest indexed line at or before `offset` (after the `[` without one).
    let (mut at, start) = index
        .as_ref()
        .and_then(|i| {
            let k = offset / i.every;
            i.offsets.get(k as usize).map(|pos| (k * i.every, *pos))
        })
        .unwrap_or((0, 1));
    file.seek(SeekFrom::Start(start))
        .map_err(|e| not_data(&e))?;
    let mut reader = BufReader::with_capacity(64 * 1024, file);
    let mut line = Vec::new();
    let next_line = |reader: &mut BufReader<std::fs::File>, line: &mut Vec<u8>| {
        line.clear();
        reader.read_until(b'\n', line)
    };
    // Skip to `offset` by counting entry lines, without parsing them.
    while at < offset {
        if next_line(&mut reader, &mut line).map_err(|e| not_data(&e))? == 0 {
            return Ok((None, at));
        }
        if line.trim_ascii().is_empty() {
            continue; // the newline after `[`
        }
        if !is_entry(&line) {
            return Ok((None, at)); // the closing `]`: `offset` is past the end
        }
        at += 1;
    }
    let mut pager = Pager::new(limit, format, offset);
    let mut seen = offset;
    loop {
        if next_line(&mut reader, &mut line).map_err(|e| not_data(&e))? == 0 {
            break;
        }
        if line.trim_ascii().is_empty() {
            continue;
        }
        match parse_line(&line) {
            None => break,
            Some(entry) => {
                seen += 1;
                pager.offer(entry.map_err(|e| not_data(&e))?);
                if pager.full {
                    break;
                }
            }
        }
    }
    let total = match &index {
        Some(i) => i.total,
        // Without an index, the rest is counted (lines, not parsed).
        None => {
            let mut total = seen;
            while next_line(&mut reader, &mut line).map_err(|e| not_data(&e))? > 0 {
                if is_entry(&line) {
                    total += 1;
                }
            }
            total
        }
    };
    Ok((Some(pager.finish()), total))
}

/// Whether a line holds an entry (without parsing it).
fn is_entry(line: &[u8]) -> bool {
    line.trim_ascii().first() == Some(&b'{')
}

/// The page after `cursor` (`<file>#<offset>`), read back from the file.
async fn next_page(
    la: &LogAnalytics,
    cursor: &str,
    limit: usize,
    format: Format,
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
    let (page, total) = tokio::task::spawn_blocking(move || {
        read_page(&workspace, &file_path, offset, limit, format)
    })
    .await
    .map_err(|e| io_error("reading the log data file stopped", e))??;
    let page = page.ok_or_else(bad)?;
    let next = offset + page.count;
    Ok(Output {
        log_data_path_absolute: la.workspace.absolute(&path),
        next_cursor: (next < total).then(|| format!("{path}#{next}")),
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

    #[test]
    fn pages_are_cut_by_bytes_not_count() {
        let mut p = Pager::new(1000, Format::Json, 0);
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
        let mut p = Pager::new(10, Format::Json, 0);
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

    #[test]
    fn queries_are_substrings_or_regexes() {
        assert!(matcher("TIMEOUT").unwrap().is_match("db timeout after 5s"));
        assert!(
            matcher("a.b").unwrap().is_match("a.b") && !matcher("a.b").unwrap().is_match("axb")
        );
        assert!(matcher("/status=5\\d\\d/").unwrap().is_match("status=503"));
        let err = matcher("/(unclosed/").unwrap_err().to_string();
        assert!(err.contains("send plain text"), "{err}");
    }

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
        let sel = Selection {
            services: vec!["api".into(), "db".into()],
            min_level: None,
            query: None,
            limit: 100,
            format: Format::Json,
        };
        let got = collect(&ws, "INC-0001", stream, sel).unwrap();
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
