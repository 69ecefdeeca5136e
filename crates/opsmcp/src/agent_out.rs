//! Where the agent commands' output goes.
//!
//! - Plain (piped, or `NO_COLOR` set): each step as the lines of `opsmcp_responder::display` on
//!   stdout, the reader's other lines (data directory, report, score) on stdout too. Scripts
//!   and tests read these lines, so they never change with the terminal.
//! - On a terminal (stdout and stderr both terminals, `NO_COLOR` unset, `TERM` not `dumb`): the
//!   same lines in colour (tool calls, results, errors, ✓/✗), each tool result with its
//!   duration, and a spinner on stderr while the model thinks or a tool runs (with the
//!   model's text as it streams).
//! - `--json`: stdout carries only JSON, one object per line — every event exactly as the
//!   transcript records it (`Event::json_line`; text deltas included, so a model's text
//!   streams), then, for `run-scenario`/`demo`, a `{"type":"verdict",…}` object. The reader's
//!   lines go to stderr, so `opsmcp run-scenario X --json | jq` sees JSON alone.

use std::{
    io::{IsTerminal, Write},
    time::Duration,
};

use console::Style;
use indicatif::{ProgressBar, ProgressStyle};
use opsmcp_agent::Event;
use opsmcp_responder::display;

/// The output of one agent command.
pub struct Output {
    json: bool,
    tty: Option<Tty>,
}

/// Terminal state: the styles and the spinner, if one is showing.
struct Tty {
    spinner: Option<ProgressBar>,
    /// The turn's streamed text so far, shown beside the spinner.
    streamed: String,
    /// Under `--permission ask` the y/N question is asked on stderr while a tool waits, so
    /// no spinner may draw over it then.
    tool_spinner: bool,
}

/// Whether to decorate: both streams are terminals (the spinner is on stderr, the lines on
/// stdout), `NO_COLOR` is unset or empty (no-color.org), and the terminal is not `dumb`.
fn decorate() -> bool {
    std::io::stdout().is_terminal()
        && std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::env::var("TERM").map_or(true, |t| t != "dumb")
}

impl Output {
    /// Plain lines (decorated on a terminal), or NDJSON on stdout when `json` is set.
    /// `asks` says the run may ask y/N on the terminal before a tool call.
    pub fn new(json: bool, asks: bool) -> Self {
        let tty = (!json && decorate()).then(|| Tty {
            spinner: None,
            streamed: String::new(),
            tool_spinner: !asks,
        });
        Self { json, tty }
    }

    /// A line for the reader: stdout, or stderr under `--json`.
    pub fn say(&mut self, line: &str) {
        if self.json {
            eprintln!("{line}");
            return;
        }
        let line = match &mut self.tty {
            Some(tty) => {
                tty.stop();
                paint_marks(line)
            }
            None => line.to_string(),
        };
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }

    /// One step as it happens, flushed so it shows at once.
    pub fn event(&mut self, e: &Event) {
        if self.json {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{}", e.json_line());
            let _ = out.flush();
            return;
        }
        let Some(tty) = &mut self.tty else {
            let mut out = std::io::stdout().lock();
            for line in display::lines(e) {
                let _ = writeln!(out, "{line}");
            }
            let _ = out.flush();
            return;
        };
        if let Event::TextDelta { text } = e {
            // Only the spinner changes: the whole text is printed with the turn.
            tty.streamed.push_str(text);
            let tail = tail(&tty.streamed, 70);
            if let Some(s) = &tty.spinner {
                s.set_message(format!("thinking… {tail}"));
            }
            return;
        }
        tty.stop();
        {
            let mut out = std::io::stdout().lock();
            for line in styled(e) {
                let _ = writeln!(out, "{line}");
            }
            let _ = out.flush();
        }
        match e {
            Event::TurnStarted { turn } => {
                tty.streamed.clear();
                tty.spin(format!("thinking (turn {turn})…"));
            }
            Event::ToolCall { name, .. } if tty.tool_spinner => {
                tty.spin(format!("waiting for {}…", display::short_tool(name)));
            }
            _ => {}
        }
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

impl Drop for Output {
    fn drop(&mut self) {
        if let Some(tty) = &mut self.tty {
            tty.stop();
        }
    }
}

impl Tty {
    fn spin(&mut self, message: String) {
        let spinner = ProgressBar::new_spinner();
        if let Ok(style) = ProgressStyle::with_template("{spinner:.cyan} {msg:.dim} {elapsed:.dim}")
        {
            spinner.set_style(style);
        }
        spinner.set_message(message);
        spinner.enable_steady_tick(Duration::from_millis(100));
        self.spinner = Some(spinner);
    }

    fn stop(&mut self) {
        if let Some(s) = self.spinner.take() {
            s.finish_and_clear();
        }
    }
}

/// The last `max` characters of `s` on one line.
fn tail(s: &str, max: usize) -> String {
    let flat = display::one_line(s, usize::MAX);
    let n = flat.chars().count();
    flat.chars().skip(n.saturating_sub(max)).collect()
}

/// A style applied whatever console's own detection says: [`decorate`] decided already.
fn st() -> Style {
    Style::new().force_styling(true)
}

/// ✓ green, ✗ red, and a verdict line in bold.
fn paint_marks(line: &str) -> String {
    let (ok, bad) = (st().green(), st().red());
    match line {
        "SOLVED" => return ok.bold().apply_to(line).to_string(),
        "NOT SOLVED" => return bad.bold().apply_to(line).to_string(),
        _ => {}
    }
    line.replace('✓', &ok.apply_to('✓').to_string())
        .replace('✗', &bad.apply_to('✗').to_string())
}

/// The event's lines in colour: the same words as [`display::lines`], plus each result's
/// duration.
fn styled(e: &Event) -> Vec<String> {
    let dim = st().dim();
    let tool = st().cyan().bold();
    match e {
        Event::ToolCall {
            turn, name, input, ..
        } => vec![format!(
            "{} {} {}",
            dim.apply_to(format!("[{turn:>2}]   →")),
            tool.apply_to(display::short_tool(name)),
            dim.apply_to(display::short_args(input))
        )],
        Event::ToolResult {
            turn,
            name,
            is_error,
            shown,
            duration_ms,
            ..
        } => {
            let (mark, style) = if *is_error {
                ("✗", st().red())
            } else {
                ("←", st().green())
            };
            vec![format!(
                "{} {} {} {}",
                dim.apply_to(format!("[{turn:>2}]  ")),
                style.apply_to(format!("{mark} {}", display::short_tool(name))),
                if *is_error {
                    st().red().apply_to(display::result_summary(shown))
                } else {
                    st().apply_to(display::result_summary(shown))
                },
                dim.apply_to(format!("({:.1} s)", *duration_ms as f64 / 1000.0))
            )]
        }
        Event::ToolDenied { .. } => display::lines(e)
            .into_iter()
            .map(|l| st().yellow().apply_to(l).to_string())
            .collect(),
        Event::Started { .. } | Event::Finished { .. } => display::lines(e)
            .into_iter()
            .map(|l| st().bold().apply_to(l).to_string())
            .collect(),
        _ => display::lines(e),
    }
}
