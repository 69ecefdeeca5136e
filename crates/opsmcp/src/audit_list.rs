//! `opsmcp audit list`: the audit log, oldest first, as a table with a header (or JSON lines),
//! narrowed by tool, incident, caller, outcome and time.

use jiff::Timestamp;
use opsmcp_store::{AuditEntry, Store};

use crate::serve::Exit;

/// The kind an entry's outcome starts with (`KIND` or `KIND: message`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutcomeKind {
    /// The call answered.
    #[value(name = "ok")]
    Ok,
    /// The tool answered with an error.
    #[value(name = "error")]
    Error,
    /// The tool was at its concurrency limit.
    #[value(name = "busy")]
    Busy,
    /// The call ran past its time limit.
    #[value(name = "timeout")]
    Timeout,
    /// A scope the caller lacks.
    #[value(name = "forbidden")]
    Forbidden,
    /// Refused before the tool ran, as bad input.
    #[value(name = "rejected")]
    Rejected,
    /// Refused requests: no or a bad credential.
    #[value(name = "unauthorized")]
    Unauthorized,
    /// Refused requests: a Host or Origin the guard refuses.
    #[value(name = "host_or_origin")]
    HostOrOrigin,
    /// Refused requests: a rate limit.
    #[value(name = "rate_limited")]
    RateLimited,
}

impl OutcomeKind {
    fn name(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Error => "error",
            Self::Busy => "busy",
            Self::Timeout => "timeout",
            Self::Forbidden => "forbidden",
            Self::Rejected => "rejected",
            Self::Unauthorized => "unauthorized",
            Self::HostOrOrigin => "host_or_origin",
            Self::RateLimited => "rate_limited",
        }
    }
}

/// Which entries `audit list` prints; every filter given must match.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct AuditFilter {
    /// Only calls of this tool (`refused` for refused requests, `resources/read` for reads).
    #[arg(long)]
    pub tool: Option<String>,
    /// Only entries whose arguments name this incident, e.g. INC-0001.
    #[arg(long, value_name = "ID", value_parser = parse_incident_id)]
    pub incident: Option<String>,
    /// Only this caller, as the log names it: token:NAME, oauth:SUBJECT,
    /// unauthenticated@ADDRESS.
    #[arg(long)]
    pub caller: Option<String>,
    /// Only this outcome.
    #[arg(long, value_enum)]
    pub outcome: Option<OutcomeKind>,
    /// Only entries at or after TIME: 2026-12-06T15:00:00Z, 2026-12-06 (UTC), or a span ago
    /// (90s, 30m, 2h, 7d).
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub since: Option<Timestamp>,
    /// Only entries before TIME (same forms as --since).
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub until: Option<Timestamp>,
}

impl AuditFilter {
    fn is_empty(&self) -> bool {
        self.tool.is_none()
            && self.incident.is_none()
            && self.caller.is_none()
            && self.outcome.is_none()
            && self.since.is_none()
            && self.until.is_none()
    }

    fn matches(&self, e: &AuditEntry) -> bool {
        self.tool.as_ref().is_none_or(|t| &e.tool == t)
            && self.caller.as_ref().is_none_or(|c| &e.caller == c)
            && self
                .outcome
                .is_none_or(|o| e.outcome.split(':').next().unwrap_or_default().trim() == o.name())
            && self.since.is_none_or(|t| e.at >= t)
            && self.until.is_none_or(|t| e.at < t)
            && self.incident.as_ref().is_none_or(|id| {
                serde_json::from_str::<serde_json::Value>(&e.arguments)
                    .is_ok_and(|args| names(&args, id))
            })
    }
}

/// Whether `value` holds the string `id` anywhere (an `incident_id`, or an id in a list).
fn names(value: &serde_json::Value, id: &str) -> bool {
    match value {
        serde_json::Value::String(s) => s.eq_ignore_ascii_case(id),
        serde_json::Value::Array(items) => items.iter().any(|v| names(v, id)),
        serde_json::Value::Object(map) => map.values().any(|v| names(v, id)),
        _ => false,
    }
}

/// An incident id: INC- and digits.
fn parse_incident_id(s: &str) -> Result<String, String> {
    let id = s.trim().to_ascii_uppercase();
    match id.strip_prefix("INC-") {
        Some(n) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => Ok(id),
        _ => Err("an incident id looks like INC-0001 (`opsmcp incidents list` shows them)".into()),
    }
}

/// A point in time: RFC 3339, a date (midnight UTC), or a span before now.
fn parse_time(s: &str) -> Result<Timestamp, String> {
    let s = s.trim();
    if let Ok(t) = s.parse::<Timestamp>() {
        return Ok(t);
    }
    if let Ok(d) = s.parse::<jiff::civil::Date>()
        && let Ok(t) = format!("{d}T00:00:00Z").parse::<Timestamp>()
    {
        return Ok(t);
    }
    if let Some(ago) = span_ago(s) {
        return Ok(ago);
    }
    Err(
        "use a time such as 2026-12-06T15:00:00Z, a date such as 2026-12-06 (UTC), or a span \
         ago such as 90s, 30m, 2h or 7d"
            .into(),
    )
}

/// A length of time (`90s`, `30m`, `2h`, `7d`, as timeframes are read) before now.
fn span_ago(s: &str) -> Option<Timestamp> {
    let length = opsmcp_world::window::parse_duration(s).ok()?;
    Timestamp::now().checked_sub(length).ok()
}

/// Pages read from the store while filtering.
const PAGE: i64 = 1000;

/// Prints the entries after seq `after` that pass `filter`, at most `limit`.
pub async fn run(
    store: &Store,
    after: i64,
    limit: i64,
    json: bool,
    filter: &AuditFilter,
) -> anyhow::Result<Exit> {
    if let (Some(since), Some(until)) = (filter.since, filter.until)
        && since >= until
    {
        return Err(crate::report::Usage(format!(
            "--since {since} is not before --until {until}: nothing could match"
        ))
        .into());
    }
    let limit = limit.clamp(1, 10_000);
    let mut shown = 0;
    let mut cursor = after;
    'pages: loop {
        let page = store
            .audit_entries(cursor, if filter.is_empty() { limit } else { PAGE })
            .await?;
        let Some(last) = page.last() else {
            break;
        };
        cursor = last.seq;
        let full = page.len() as i64 == if filter.is_empty() { limit } else { PAGE };
        for e in page.iter().filter(|e| filter.matches(e)) {
            if json {
                println!("{}", serde_json::to_string(e)?);
            } else {
                if shown == 0 {
                    println!(
                        "{:>6} {:<19} {:<14} {:<26} {:<12} {:>9}  {:<8} ARGUMENTS",
                        "SEQ", "AT (UTC)", "SERVER", "TOOL", "CALLER", "DURATION", "OUTCOME"
                    );
                }
                println!(
                    "{:>6} {} {:<14} {:<26} {:<12} {:>6} ms  {:<8} {}",
                    e.seq,
                    e.at.strftime("%Y-%m-%d %H:%M:%S"),
                    e.server,
                    e.tool,
                    e.caller,
                    e.duration_ms,
                    e.outcome,
                    e.arguments
                );
            }
            shown += 1;
            if shown >= limit {
                break 'pages;
            }
        }
        if !full || filter.is_empty() {
            break;
        }
    }
    if shown == 0 && !json {
        println!("{}", nothing_matches(filter));
    }
    Ok(Exit::Ok)
}

/// What an empty answer says: nothing logged, or nothing matching (and a tool name that no
/// server has, in case it is a typo).
fn nothing_matches(filter: &AuditFilter) -> String {
    if filter.is_empty() {
        return "no audit entries".into();
    }
    let mut line = "no audit entries match".to_string();
    if let Some(tool) = &filter.tool {
        let known = crate::serve::tool_names();
        if !known.contains(tool) && tool != "refused" && tool != "resources/read" {
            line.push_str(&format!(
                " (no server has a tool named `{tool}`; the tools are: {}, and `refused`, \
                 `resources/read`)",
                known.join(", ")
            ));
        }
    }
    line
}
