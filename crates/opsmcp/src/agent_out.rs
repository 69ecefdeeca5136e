//! Where the agent commands' output goes.
//!
//! - Plain (the default): each step as the lines of `opsmcp_agent::display` on stdout, the
//!   reader's other lines (data directory, report, score) on stdout too.
//! - `--json`: stdout carries only JSON, one object per line — every event exactly as the
//!   transcript records it (`Event::json_line`; text deltas included, so a model's text
//!   streams), then, for `run-scenario`/`demo`, a `{"type":"verdict",…}` object. The reader's
//!   lines go to stderr, so `opsmcp run-scenario X --json | jq` sees JSON alone.

use std::io::Write;

use opsmcp_agent::{Event, display};

/// The output of one agent command.
pub struct Output {
    json: bool,
}

impl Output {
    /// Plain lines, or NDJSON on stdout when `json` is set.
    pub fn new(json: bool) -> Self {
        Self { json }
    }

    /// A line for the reader: stdout, or stderr under `--json`.
    pub fn say(&mut self, line: &str) {
        if self.json {
            eprintln!("{line}");
        } else {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{line}");
            let _ = out.flush();
        }
    }

    /// One step as it happens, flushed so it shows at once.
    pub fn event(&mut self, e: &Event) {
        let mut out = std::io::stdout().lock();
        if self.json {
            let _ = writeln!(out, "{}", e.json_line());
        } else {
            for line in display::lines(e) {
                let _ = writeln!(out, "{line}");
            }
        }
        let _ = out.flush();
    }

    /// A record of our own on stdout under `--json` (nothing otherwise).
    pub fn record(&mut self, v: &serde_json::Value) {
        if self.json {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{v}");
            let _ = out.flush();
        }
    }
}
