//! Timeframes as people and models write them: `15m`, `2h`, `last 30 minutes`, `past hour`, or
//! an ISO-8601 range `start/end`. Every analysis reads one [`Window`].

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

/// The longest window an analysis reads: log windows are generated or read whole, and a day
/// is already more than a tool answer can summarise usefully.
pub const MAX_WINDOW: SignedDuration = SignedDuration::from_hours(24);

/// A half-open span of time `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Window {
    /// Start (inclusive).
    #[schemars(with = "String")]
    pub from: Timestamp,
    /// End (exclusive).
    #[schemars(with = "String")]
    pub to: Timestamp,
}

impl Window {
    /// The `length` up to `to`.
    pub fn ending(to: Timestamp, length: SignedDuration) -> Self {
        Self {
            from: to - length,
            to,
        }
    }

    /// Its length.
    pub fn length(&self) -> SignedDuration {
        self.to.duration_since(self.from)
    }

    /// The window of the same length just before this one (at least `min`): what "normal"
    /// looked like.
    pub fn before(&self, min: SignedDuration) -> Self {
        let len = self.length().max(min);
        Self {
            from: self.from - len,
            to: self.from,
        }
    }
}

/// A timeframe that could not be read; the message lists what is accepted.
#[derive(Debug, thiserror::Error)]
#[error(
    "cannot read timeframe {input:?}: {problem}; send a duration such as \"15m\", \"2h\", \
     \"last 30 minutes\", or an ISO-8601 range \"2026-11-26T03:00:00Z/2026-11-26T04:00:00Z\" \
     (at most 24 h)"
)]
pub struct TimeframeError {
    /// What was sent.
    pub input: String,
    /// What is wrong with it.
    pub problem: String,
}

/// Reads `input` as a window ending at `now` (durations) or as an explicit range; `None` or an
/// empty string gives `default` up to `now`.
pub fn parse(
    input: Option<&str>,
    now: Timestamp,
    default: SignedDuration,
) -> Result<Window, TimeframeError> {
    let err = |problem: &str| TimeframeError {
        input: input.unwrap_or_default().to_string(),
        problem: problem.to_string(),
    };
    let text = input.map(str::trim).unwrap_or_default();
    if text.is_empty() {
        return Ok(Window::ending(now, default));
    }
    let window = if let Some((a, b)) = text.split_once('/') {
        let from: Timestamp = a
            .trim()
            .parse()
            .map_err(|e| err(&format!("the start {a:?} is not an RFC 3339 time ({e})")))?;
        let to: Timestamp = if b.trim().is_empty() {
            now
        } else {
            b.trim()
                .parse()
                .map_err(|e| err(&format!("the end {b:?} is not an RFC 3339 time ({e})")))?
        };
        if to <= from {
            return Err(err("the end is not after the start"));
        }
        Window { from, to }
    } else {
        Window::ending(now, duration(text).map_err(|p| err(&p))?)
    };
    if window.length() > MAX_WINDOW {
        return Err(err("the window is longer than 24 h"));
    }
    if window.length() < SignedDuration::from_secs(60) {
        return Err(err("the window is shorter than a minute"));
    }
    Ok(window)
}

/// `15m`, `2h`, `90 minutes`, `last 30 minutes`, `past hour`, `1d`.
fn duration(text: &str) -> Result<SignedDuration, String> {
    let lower = text.to_ascii_lowercase();
    let mut rest = lower.trim();
    for prefix in ["last", "past", "previous", "the"] {
        if let Some(r) = rest.strip_prefix(prefix) {
            rest = r.trim_start();
        }
    }
    let split = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    let (number, unit) = rest.split_at(split);
    let amount: f64 = if number.is_empty() {
        1.0 // "past hour"
    } else {
        number
            .parse()
            .map_err(|_| format!("{number:?} is not a number"))?
    };
    let seconds = match unit.trim() {
        "s" | "sec" | "secs" | "second" | "seconds" => 1.0,
        "m" | "min" | "mins" | "minute" | "minutes" => 60.0,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3600.0,
        "d" | "day" | "days" => 86_400.0,
        "" => return Err("the number has no unit (s, m, h or d)".into()),
        other => return Err(format!("unknown unit {other:?}")),
    };
    if !(amount.is_finite() && amount > 0.0) {
        return Err("the duration must be positive".into());
    }
    Ok(SignedDuration::from_secs_f64(amount * seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-11-26T04:00:00Z".parse().unwrap()
    }

    fn len(s: &str) -> i64 {
        parse(Some(s), now(), SignedDuration::from_mins(30))
            .unwrap()
            .length()
            .as_secs()
    }

    #[test]
    fn durations_in_the_usual_spellings() {
        assert_eq!(len("15m"), 900);
        assert_eq!(len("2h"), 7200);
        assert_eq!(len("last 30 minutes"), 1800);
        assert_eq!(len("past hour"), 3600);
        assert_eq!(len("Last 2 Hours"), 7200);
        assert_eq!(len("1.5h"), 5400);
        let w = parse(None, now(), SignedDuration::from_mins(30)).unwrap();
        assert_eq!((w.to, w.length().as_secs()), (now(), 1800));
    }

    #[test]
    fn iso_ranges() {
        let w = parse(
            Some("2026-11-26T03:00:00Z/2026-11-26T03:45:00Z"),
            now(),
            SignedDuration::from_mins(30),
        )
        .unwrap();
        assert_eq!(w.length().as_secs(), 2700);
        let open = parse(Some("2026-11-26T03:00:00Z/"), now(), SignedDuration::ZERO).unwrap();
        assert_eq!(open.to, now());
    }

    #[test]
    fn clear_errors() {
        for bad in [
            "soon",
            "15",
            "3w",
            "2026-11-26T05:00:00Z/2026-11-26T04:00:00Z",
            "3d",
            "10s",
        ] {
            let e = parse(Some(bad), now(), SignedDuration::from_mins(30)).unwrap_err();
            assert!(e.to_string().contains("send a duration"), "{e}");
        }
    }
}
