//! What callers (often a model) write to say *when* and *which services*: `15m`, `last 2 hours`,
//! an ISO-8601 range; `checkout-api`, `checkout-api,payments`, `check*`. Parsed here once so every
//! tool accepts the same forms and refuses the rest with the same wording, which names a form
//! that works.

use jiff::{SignedDuration, Timestamp};

/// The longest window any tool accepts: a day. Longer windows are almost always a mistake (a
/// typo in a date), would stream millions of lines into a file or an analysis, and are more
/// than a tool answer can summarise usefully.
pub const MAX_WINDOW: SignedDuration = SignedDuration::from_hours(24);
/// The shortest: a minute (analyses bucket by the minute).
pub const MIN_WINDOW: SignedDuration = SignedDuration::from_secs(60);
/// The window every tool reads when given neither a timeframe nor an incident.
pub const DEFAULT_WINDOW: SignedDuration = SignedDuration::from_mins(30);
/// An incident's window starts this long before it was opened (the onset precedes the page)…
pub const INCIDENT_LEAD: SignedDuration = SignedDuration::from_mins(30);
/// … and ends this long after it was resolved (or now), so recovery is in view.
pub const INCIDENT_TAIL: SignedDuration = SignedDuration::from_mins(10);

/// The window of an incident opened at `opened` and resolved at `resolved` (if it was), as
/// every tool reads it: from [`INCIDENT_LEAD`] before it was opened to [`INCIDENT_TAIL`] after
/// it was resolved, never past `now`, at most [`MAX_WINDOW`] (the end kept) and at least five
/// minutes.
pub fn incident_window(
    opened: Timestamp,
    resolved: Option<Timestamp>,
    now: Timestamp,
) -> (Timestamp, Timestamp) {
    let end = resolved
        .map_or(now, |r| r.checked_add(INCIDENT_TAIL).unwrap_or(now))
        .min(now);
    let start = opened
        .checked_sub(INCIDENT_LEAD)
        .unwrap_or(opened)
        .min(end.checked_sub(SignedDuration::from_mins(5)).unwrap_or(end))
        .max(end.checked_sub(MAX_WINDOW).unwrap_or(end));
    (start, end)
}

/// Why a window or a service filter was refused; the message says what to send instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WindowError {
    /// The timeframe is in none of the accepted forms.
    #[error(
        "timeframe {text:?} is not understood ({why}); send a duration such as \"15m\", \"2h\" or \
         \"last 30 minutes\", or an ISO-8601 range such as \
         \"2026-11-26T10:00:00Z/2026-11-26T11:00:00Z\""
    )]
    BadTimeframe {
        /// The text as sent.
        text: String,
        /// What is wrong with it.
        why: String,
    },
    /// The service filter has characters no service name has, or is empty.
    #[error(
        "service_filter {text:?} is not usable ({why}); send a service name, a comma-separated \
         list (\"checkout-api,payments\") or a glob (\"check*\")"
    )]
    BadServiceFilter {
        /// The text as sent.
        text: String,
        /// What is wrong with it.
        why: String,
    },
    /// A name or pattern in the filter matches no service.
    #[error("service_filter {pattern:?} matches no service; known services: {known}")]
    NoSuchService {
        /// The name or pattern that matched nothing.
        pattern: String,
        /// The services there are, comma-separated.
        known: String,
    },
}

/// A time window given as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeframe;

impl Timeframe {
    /// `[from, to)` for `text`, relative to `now`:
    ///
    /// - a duration ending now: `15m`, `2h`, `1h30m`, `90 minutes`, `last 30 minutes`,
    ///   `past hour`, `last 2 days`;
    /// - an ISO-8601 range `START/END` of RFC 3339 timestamps, or `START/DURATION`
    ///   (`2026-11-26T10:00:00Z/PT30M`).
    ///
    /// The end is clamped to `now` (there are no logs from the future); a window that starts
    /// after `now`, is empty, or is longer than [`MAX_WINDOW`] is refused.
    pub fn parse(text: &str, now: Timestamp) -> Result<(Timestamp, Timestamp), WindowError> {
        let bad = |why: &str| WindowError::BadTimeframe {
            text: text.to_owned(),
            why: why.to_owned(),
        };
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(bad("it is empty"));
        }
        let (from, to) = if let Some((start, end)) = trimmed.split_once('/') {
            let from: Timestamp = start.trim().parse().map_err(|_| {
                bad("the start is not an RFC 3339 timestamp with a zone, like 2026-11-26T10:00:00Z")
            })?;
            let end = end.trim();
            let to = if end.is_empty() {
                // `START/`: up to now.
                now
            } else if end.starts_with(['P', 'p']) {
                let span: SignedDuration = end.parse().map_err(|_| {
                    bad("the end is neither a timestamp nor an ISO duration like PT30M")
                })?;
                from.checked_add(span)
                    .map_err(|_| bad("the end is out of range"))?
            } else {
                end.parse().map_err(|_| {
                    bad("the end is not an RFC 3339 timestamp with a zone, like 2026-11-26T11:00:00Z")
                })?
            };
            (from, to)
        } else {
            let length = parse_duration(trimmed).map_err(|why| bad(&why))?;
            let from = now
                .checked_sub(length)
                .map_err(|_| bad("it reaches too far back"))?;
            (from, now)
        };
        if to <= from {
            return Err(bad("the end is not after the start"));
        }
        if from >= now {
            return Err(bad("it starts in the future, where there are no logs yet"));
        }
        if to.duration_since(from) > MAX_WINDOW {
            return Err(bad("it is longer than 24 hours; narrow it"));
        }
        if to.min(now).duration_since(from) < MIN_WINDOW {
            return Err(bad("it is shorter than a minute"));
        }
        Ok((from, to.min(now)))
    }
}

/// `15m`, `2 hours`, `last 30 minutes`, `past hour`, `1h30m`, or an ISO duration (`PT15M`):
/// the one reading of a length of time, for windows and for "since" spans alike.
pub fn parse_duration(text: &str) -> Result<SignedDuration, String> {
    let lower = text.to_ascii_lowercase();
    let mut rest = lower.as_str();
    for prefix in ["last ", "past ", "the last ", "the past "] {
        if let Some(r) = rest.strip_prefix(prefix) {
            rest = r.trim_start();
        }
    }
    if rest.starts_with('p') {
        return rest
            .to_ascii_uppercase()
            .parse::<SignedDuration>()
            .map_err(|_| "not a valid ISO-8601 duration".to_owned())
            .and_then(|d| {
                if d.is_positive() {
                    Ok(d)
                } else {
                    Err("the duration must be positive".to_owned())
                }
            });
    }
    // "hour", "an hour", "a day": one of the unit.
    for article in ["an ", "a "] {
        if let Some(r) = rest.strip_prefix(article) {
            rest = r;
        }
    }
    let mut total = SignedDuration::ZERO;
    let mut chars = rest.trim().char_indices().peekable();
    let src = rest.trim();
    let mut any = false;
    while let Some(&(start, c)) = chars.peek() {
        if c.is_whitespace() || c == ',' {
            chars.next();
            continue;
        }
        // The number (absent before a bare unit: "hour").
        let mut end = start;
        while let Some(&(i, c)) = chars.peek() {
            if c.is_ascii_digit() || c == '.' {
                end = i + 1;
                chars.next();
            } else {
                break;
            }
        }
        // Whole or decimal (`1.5h`), in thousandths so the sum stays exact.
        let number: i64 = if end > start {
            let n: f64 = src[start..end]
                .parse()
                .map_err(|_| format!("{:?} is not a number", &src[start..end]))?;
            if !(n.is_finite() && n > 0.0 && n < 1e12) {
                return Err("the number is out of range".to_owned());
            }
            (n * 1000.0).round() as i64
        } else {
            1000
        };
        while matches!(chars.peek(), Some(&(_, c)) if c.is_whitespace()) {
            chars.next();
        }
        let unit_start = chars.peek().map_or(src.len(), |&(i, _)| i);
        let mut unit_end = unit_start;
        while let Some(&(i, c)) = chars.peek() {
            if c.is_ascii_alphabetic() {
                unit_end = i + 1;
                chars.next();
            } else {
                break;
            }
        }
        let unit = &src[unit_start..unit_end];
        let seconds: i64 = match unit {
            "s" | "sec" | "secs" | "second" | "seconds" => 1,
            "m" | "min" | "mins" | "minute" | "minutes" => 60,
            "h" | "hr" | "hrs" | "hour" | "hours" => 3600,
            "d" | "day" | "days" => 86_400,
            "" => return Err("a number needs a unit: s, m, h or d".to_owned()),
            other => return Err(format!("unknown unit {other:?}; use s, m, h or d")),
        };
        let part = number
            .checked_mul(seconds)
            .map(|ms| ms / 1000)
            .ok_or_else(|| "the number is too large".to_owned())?;
        total = total
            .checked_add(SignedDuration::from_secs(part))
            .ok_or_else(|| "the number is too large".to_owned())?;
        any = true;
    }
    if !any || total.is_zero() {
        return Err("no length of time was given".to_owned());
    }
    Ok(total)
}

/// Which services: names and globs (`*`, `?`), comma-separated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceFilter {
    patterns: Vec<String>,
}

impl ServiceFilter {
    /// Parses `checkout-api`, `checkout-api, payments` or `check*`. Names may hold letters,
    /// digits, `-`, `_`, `.`, `:` and `/`; patterns add `*` and `?`.
    pub fn parse(text: &str) -> Result<ServiceFilter, WindowError> {
        let bad = |why: String| WindowError::BadServiceFilter {
            text: text.to_owned(),
            why,
        };
        let mut patterns = Vec::new();
        for part in text.split(',') {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            if part.len() > 128 {
                return Err(bad("a name is longer than 128 characters".to_owned()));
            }
            if let Some(c) = part.chars().find(|c| {
                !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':' | '/' | '*' | '?'))
            }) {
                return Err(bad(format!("{c:?} appears in no service name")));
            }
            if !patterns.iter().any(|p| p == part) {
                patterns.push(part.to_owned());
            }
        }
        if patterns.is_empty() {
            return Err(bad("it names no service".to_owned()));
        }
        if patterns.len() > 64 {
            return Err(bad("more than 64 names".to_owned()));
        }
        Ok(ServiceFilter { patterns })
    }

    /// Whether `service` is selected.
    pub fn matches(&self, service: &str) -> bool {
        self.patterns.iter().any(|p| glob_match(p, service))
    }

    /// The services of `known` that are selected, in `known`'s order. Every name or pattern
    /// must select at least one service: a typo is an error, not an empty answer.
    pub fn select<'a>(&self, known: &'a [String]) -> Result<Vec<&'a str>, WindowError> {
        for p in &self.patterns {
            if !known.iter().any(|k| glob_match(p, k)) {
                return Err(WindowError::NoSuchService {
                    pattern: p.clone(),
                    known: known.join(", "),
                });
            }
        }
        Ok(known
            .iter()
            .filter(|k| self.matches(k))
            .map(String::as_str)
            .collect())
    }
}

/// `*` any run of characters, `?` one character, everything else itself (case-sensitive, as
/// service names are).
fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // Iterative matcher with one backtrack point: linear enough for names of ≤128 chars.
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-11-26T12:00:00Z".parse().unwrap()
    }

    fn window(text: &str) -> (String, String) {
        let (from, to) = Timeframe::parse(text, now()).unwrap();
        (from.to_string(), to.to_string())
    }

    #[test]
    fn short_durations_end_now() {
        assert_eq!(window("15m").0, "2026-11-26T11:45:00Z");
        assert_eq!(window("2h").0, "2026-11-26T10:00:00Z");
        assert_eq!(window("1h30m").0, "2026-11-26T10:30:00Z");
        assert_eq!(window("90s").0, "2026-11-26T11:58:30Z");
        assert_eq!(window("1d").0, "2026-11-25T12:00:00Z");
        assert_eq!(window("15m").1, "2026-11-26T12:00:00Z");
    }

    #[test]
    fn words_work_too() {
        assert_eq!(window("last 30 minutes").0, "2026-11-26T11:30:00Z");
        assert_eq!(window("Last 2 Hours").0, "2026-11-26T10:00:00Z");
        assert_eq!(window("past hour").0, "2026-11-26T11:00:00Z");
        assert_eq!(window("the last 45 mins").0, "2026-11-26T11:15:00Z");
        assert_eq!(window("PT20M").0, "2026-11-26T11:40:00Z");
    }

    #[test]
    fn iso_ranges() {
        assert_eq!(
            window("2026-11-26T10:00:00Z/2026-11-26T11:00:00Z"),
            (
                "2026-11-26T10:00:00Z".to_owned(),
                "2026-11-26T11:00:00Z".to_owned()
            )
        );
        assert_eq!(
            window("2026-11-26T10:00:00Z/PT30M").1,
            "2026-11-26T10:30:00Z"
        );
        // Offsets are honoured.
        assert_eq!(
            window("2026-11-26T11:00:00+01:00/2026-11-26T11:30:00Z").0,
            "2026-11-26T10:00:00Z"
        );
        // An end in the future is clamped to now.
        assert_eq!(
            window("2026-11-26T11:00:00Z/2026-11-26T13:00:00Z").1,
            "2026-11-26T12:00:00Z"
        );
    }

    #[test]
    fn bad_timeframes_say_what_to_send() {
        for bad in [
            "",
            "soon",
            "15",
            "15 fortnights",
            "0m",
            "10d",
            "2026-11-26T11:00:00Z/2026-11-26T10:00:00Z",
            "2026-11-27T11:00:00Z/2026-11-27T12:00:00Z",
            "yesterday/today",
            "2026-11-26 10:00/2026-11-26 11:00",
            "99999999999999999999h",
        ] {
            let err = Timeframe::parse(bad, now()).unwrap_err().to_string();
            assert!(err.contains("\"15m\""), "{bad}: {err}");
            assert!(err.contains("2026-11-26T10:00:00Z/"), "{bad}: {err}");
        }
        let err = Timeframe::parse("15 fortnights", now())
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown unit \"fortnights\""), "{err}");
    }

    fn known() -> Vec<String> {
        ["checkout-api", "checkout-worker", "payments", "orders-db"]
            .map(String::from)
            .to_vec()
    }

    #[test]
    fn names_lists_and_globs() {
        let k = known();
        let sel = |t: &str| ServiceFilter::parse(t).unwrap().select(&k).unwrap();
        assert_eq!(sel("payments"), ["payments"]);
        assert_eq!(sel("payments, orders-db"), ["payments", "orders-db"]);
        assert_eq!(sel("check*"), ["checkout-api", "checkout-worker"]);
        assert_eq!(sel("*-db,payments"), ["payments", "orders-db"]);
        assert_eq!(sel("checkout-???"), ["checkout-api"]);
        assert_eq!(sel("*"), k.iter().map(String::as_str).collect::<Vec<_>>());
    }

    #[test]
    fn bad_filters_name_the_known_services() {
        let err = ServiceFilter::parse("paymnts")
            .unwrap()
            .select(&known())
            .unwrap_err()
            .to_string();
        assert!(err.contains("\"paymnts\" matches no service"), "{err}");
        assert!(
            err.contains("checkout-api, checkout-worker, payments"),
            "{err}"
        );
        for bad in ["", " , ", "pay ments", "a;b", "$(rm)"] {
            let err = ServiceFilter::parse(bad).unwrap_err().to_string();
            assert!(err.contains("a glob (\"check*\")"), "{bad}: {err}");
        }
    }

    #[test]
    fn glob_edge_cases() {
        assert!(glob_match("a*b*c", "axxbyyc"));
        assert!(!glob_match("a*b*c", "axxbyy"));
        assert!(glob_match("**", ""));
        assert!(!glob_match("?", ""));
        assert!(glob_match("*api", "checkout-api"));
    }
}
