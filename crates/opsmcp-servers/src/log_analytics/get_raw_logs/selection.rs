//! Selection: which services, lines and time window a call reads — the arguments read into a
//! window, a folder and a per-line filter, and that filter applied to each line of the world.

use std::borrow::Cow;

use jiff::Timestamp;
use opsmcp_logs::redact::redact;
use opsmcp_world::{LogEntry, window::ServiceFilter};

use super::{Args, Entry, LogAnalytics, invalid};
use crate::ToolError;

/// What a new call reads.
pub(super) struct Selection {
    /// Start, inclusive.
    pub(super) from: Timestamp,
    /// End, exclusive.
    pub(super) to: Timestamp,
    /// The folder under analytics/ the file goes to: the incident's id, or `adhoc-<time>`.
    pub(super) folder: String,
    /// Which lines of the window are kept.
    pub(super) filter: Filter,
    /// How the arguments were read, for the answer's notes.
    pub(super) notes: Vec<String>,
}

/// Which lines of the window are kept; moved to the blocking thread that reads them.
pub(super) struct Filter {
    /// Services read, in the world's order.
    pub(super) services: Vec<String>,
    /// The lowest level kept (a [`rank`]); lines of unknown level fail it.
    pub(super) min_level: Option<u8>,
    /// Matched against the redacted message.
    pub(super) query: Option<regex::Regex>,
}

/// What the filter made of one line.
pub(super) struct Picked {
    /// The line as an entry, secrets redacted; `None` when it is not selected.
    pub(super) entry: Option<Entry>,
    /// A secret was redacted from it (counted even when `query` then drops it).
    pub(super) redacted: bool,
}

impl Filter {
    /// Service and level first, so lines that cannot be kept are never redacted; `query` is
    /// matched against the redacted text, so it cannot find a secret.
    pub(super) fn pick(&self, line: LogEntry) -> Picked {
        let dropped = Picked {
            entry: None,
            redacted: false,
        };
        let LogEntry {
            at,
            service,
            level,
            text,
        } = line;
        if !self.services.contains(&service) {
            return dropped;
        }
        if let Some(min) = self.min_level
            && rank(&level).is_none_or(|r| r < min)
        {
            return dropped;
        }
        let message = redact(&text);
        let redacted = matches!(message, Cow::Owned(_));
        if let Some(q) = &self.query
            && !q.is_match(&message)
        {
            return Picked {
                entry: None,
                redacted,
            };
        }
        Picked {
            entry: Some(Entry {
                at: at.to_string(),
                service,
                level,
                message: message.into_owned(),
            }),
            redacted,
        }
    }
}

/// A cursor continues an earlier answer's selection, so any selecting argument beside it is
/// refused rather than silently ignored.
pub(super) fn refuse_beside_cursor(args: &Args) -> Result<(), ToolError> {
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
    Ok(())
}

/// Reads the selecting arguments: the window, the services, the level and query, the folder.
pub(super) async fn choose(la: &LogAnalytics, args: &Args) -> Result<Selection, ToolError> {
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
        Some(id) => Some(crate::scope::incident(&la.store, id).await?),
    };
    let window = crate::scope::window(args.timeframe.as_deref(), incident.as_ref(), now)?;

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
    Ok(Selection {
        from: window.from,
        to: window.to,
        folder,
        filter: Filter {
            services,
            min_level,
            query,
        },
        notes,
    })
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
