//! The window an analysis reads ([`Window`]), from a timeframe as people and models write it
//! (`15m`, `2h`, `last 30 minutes`, `past hour`, an ISO-8601 range) or from an incident. The
//! parsing, the default, the maximum and the incident's window have one home,
//! `opsmcp_world::window`, shared by every tool.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

pub use opsmcp_world::window::{DEFAULT_WINDOW, MAX_WINDOW};
use opsmcp_world::window::{Timeframe, WindowError};

/// A half-open span of time `[from, to)`, written `{start, end}`: `from` is a keyword in
/// Python, and clients that generate models from a tool's output schema (fastmcp 2.x) fail
/// on it. Reading it back accepts the old names too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Window {
    /// Start (inclusive, RFC 3339).
    #[serde(rename = "start", alias = "from")]
    #[schemars(with = "String")]
    pub from: Timestamp,
    /// End (exclusive, RFC 3339).
    #[serde(rename = "end", alias = "to")]
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

/// A timeframe that could not be read; the message says what to send instead.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct TimeframeError(#[from] pub WindowError);

/// Reads `input` as a window ending at `now` (durations) or as an explicit range, with the one
/// parser every tool uses ([`opsmcp_world::window::Timeframe`]); `None` or an empty string
/// gives `default` up to `now`.
pub fn parse(
    input: Option<&str>,
    now: Timestamp,
    default: SignedDuration,
) -> Result<Window, TimeframeError> {
    match input.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(Window::ending(now, default)),
        Some(text) => {
            let (from, to) = Timeframe::parse(text, now)?;
            Ok(Window { from, to })
        }
    }
}

/// The window of an incident (see [`opsmcp_world::window::incident_window`]).
pub fn incident(opened: Timestamp, resolved: Option<Timestamp>, now: Timestamp) -> Window {
    let (from, to) = opsmcp_world::window::incident_window(opened, resolved, now);
    Window { from, to }
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

    #[test]
    fn an_incident_is_read_from_before_it_opened_to_after_it_resolved() {
        let opened: Timestamp = "2026-11-26T03:00:00Z".parse().unwrap();
        let w = incident(opened, Some("2026-11-26T03:20:00Z".parse().unwrap()), now());
        assert_eq!(w.from.to_string(), "2026-11-26T02:30:00Z");
        assert_eq!(w.to.to_string(), "2026-11-26T03:30:00Z");
        let open = incident(opened, None, now());
        assert_eq!(open.to, now());
    }

    #[test]
    fn a_window_is_written_start_end_and_read_back_under_either_name() {
        let w = Window::ending(now(), SignedDuration::from_mins(15));
        let written = serde_json::to_value(w).unwrap();
        assert_eq!(
            written,
            serde_json::json!({"start": "2026-11-26T03:45:00Z", "end": "2026-11-26T04:00:00Z"})
        );
        let old: Window = serde_json::from_value(
            serde_json::json!({"from": "2026-11-26T03:45:00Z", "to": "2026-11-26T04:00:00Z"}),
        )
        .unwrap();
        assert_eq!(old, w);
        assert_eq!(serde_json::from_value::<Window>(written).unwrap(), w);
    }
}
