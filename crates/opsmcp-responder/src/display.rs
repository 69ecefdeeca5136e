//! Turning the loop's [`Event`]s into short lines for a terminal or a CI log: the tool called
//! with its arguments cut short, a one-line summary of each result, the brain's text.

use serde_json::Value;

use opsmcp_agent::{
    agent::{Event, NOT_RUN},
    providers::Block,
};

/// At most `max` characters of `s` on one line.
pub fn one_line(s: &str, max: usize) -> String {
    let flat: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        return flat;
    }
    let mut out: String = flat.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// `mcp__server__tool` → `server/tool`.
pub fn short_tool(name: &str) -> String {
    match name.strip_prefix("mcp__").and_then(|r| r.split_once("__")) {
        Some((server, tool)) => format!("{server}/{tool}"),
        None => name.to_string(),
    }
}

/// Arguments with long strings (a script's code) cut short.
pub fn short_args(input: &Value) -> String {
    let Some(map) = input.as_object() else {
        return one_line(&input.to_string(), 120);
    };
    let parts: Vec<String> = map
        .iter()
        .map(|(k, v)| {
            let shown = match v {
                Value::String(s) if s.len() > 60 || s.contains('\n') => {
                    format!("<{} lines>", s.lines().count())
                }
                Value::String(s) => format!("{s:?}"),
                other => one_line(&other.to_string(), 60),
            };
            format!("{k}={shown}")
        })
        .collect();
    one_line(&parts.join(" "), 160)
}

/// One line about a tool result: its status, outcome, summary or id, whichever it has.
pub fn result_summary(shown: &str) -> String {
    let Ok(v) = serde_json::from_str::<Value>(shown.trim()) else {
        // A JSON result cut to the budget no longer parses; its leading fields still tell.
        let found: Vec<String> = ["status", "log_data_path", "summary"]
            .iter()
            .filter_map(|k| string_field(shown, k).map(|v| format!("{k}={v}")))
            .collect();
        if shown.trim_start().starts_with('{') && !found.is_empty() {
            return one_line(&found.join(" "), 160);
        }
        return one_line(shown, 140);
    };
    let mut parts = Vec::new();
    for key in ["status", "outcome", "exit_code", "deduplicated"] {
        if let Some(x) = v.get(key).filter(|x| !x.is_null()) {
            parts.push(format!(
                "{key}={}",
                x.as_str().map_or(x.to_string(), str::to_string)
            ));
        }
    }
    if let Some(s) = v.pointer("/remediation/status").and_then(Value::as_str) {
        parts.push(format!("remediation={s}"));
    }
    if let Some(id) = v.pointer("/incident/id").and_then(Value::as_str) {
        parts.push(format!("incident={id}"));
    }
    for key in ["log_data_path", "path"] {
        if let Some(p) = v.get(key).and_then(Value::as_str) {
            parts.push(format!("{key}={p}"));
        }
    }
    if let Some(h) = v.get("hypotheses").and_then(Value::as_array) {
        parts.push(format!("{} hypotheses", h.len()));
    }
    if let Some(s) = v.get("summary").and_then(Value::as_str) {
        parts.push(s.to_string());
    }
    if parts.is_empty() {
        parts = facts(&v);
    }
    one_line(&parts.join(" "), 160)
}

/// What a result says when it has no summary of its own: each list's length, each number,
/// flag and short text, and a nested record's status — the facts, not the field names.
fn facts(v: &Value) -> Vec<String> {
    let Some(map) = v.as_object() else {
        return vec![one_line(&v.to_string(), 140)];
    };
    let mut facts = Vec::new();
    for (key, x) in map {
        match x {
            Value::Array(items) => facts.push(format!("{} {key}", items.len())),
            Value::Number(n) => facts.push(format!("{key}={n}")),
            Value::Bool(b) => facts.push(format!("{key}={b}")),
            Value::String(s) if s.chars().count() <= SHORT_TEXT => facts.push(format!("{key}={s}")),
            Value::Object(inner) => {
                if let Some(status) = inner.get("status").and_then(Value::as_str) {
                    facts.push(format!("{key}={status}"));
                }
            }
            _ => {}
        }
    }
    if facts.is_empty() {
        facts.push("(nothing to show)".into());
    }
    facts
}

/// A text at most this long is shown whole among a result's facts.
const SHORT_TEXT: usize = 40;

/// The value of the first `"key":"…"` in possibly cut JSON text.
fn string_field(text: &str, key: &str) -> Option<String> {
    let start = text.find(&format!("\"{key}\":\""))? + key.len() + 4;
    let rest = &text[start..];
    let mut end = None;
    let mut escaped = false;
    for (i, c) in rest.char_indices() {
        match c {
            '\\' if !escaped => escaped = true,
            '"' if !escaped => {
                end = Some(i);
                break;
            }
            _ => escaped = false,
        }
    }
    end.map(|e| rest[..e].to_string())
}

/// The lines to print for `event` (none for text deltas: the complete text comes with
/// [`Event::Assistant`]).
pub fn lines(event: &Event) -> Vec<String> {
    match event {
        Event::Started { brain, tools, .. } => {
            vec![format!("▶ {brain} with {} tools", tools.len())]
        }
        Event::TurnStarted { .. } | Event::TextDelta { .. } => Vec::new(),
        Event::Assistant { turn, content, .. } => content
            .iter()
            .filter_map(|b| match b {
                Block::Text { text } if !text.trim().is_empty() => Some(text),
                _ => None,
            })
            .flat_map(|t| {
                t.lines()
                    .map(|l| format!("[{turn:>2}] {l}"))
                    .collect::<Vec<_>>()
            })
            .collect(),
        Event::ToolCall {
            turn, name, input, ..
        } => vec![format!(
            "[{turn:>2}]   → {} {}",
            short_tool(name),
            short_args(input)
        )],
        Event::ToolDenied {
            turn, name, reason, ..
        } => {
            vec![format!(
                "[{turn:>2}]   ✗ {} denied: {}",
                short_tool(name),
                one_line(reason, 140)
            )]
        }
        // The denial's own line already said why; its "not run" result would repeat it.
        Event::ToolResult { shown, .. } if shown.starts_with(NOT_RUN) => Vec::new(),
        Event::ToolResult {
            turn,
            name,
            is_error,
            shown,
            ..
        } => vec![format!(
            "[{turn:>2}]   {} {} {}",
            if *is_error { "✗" } else { "←" },
            short_tool(name),
            result_summary(shown)
        )],
        Event::Finished { reason, turns, .. } => {
            vec![format!("■ finished after {turns} turns ({reason:?})")]
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn short_forms() {
        assert_eq!(
            short_tool("mcp__workflow__create_incident"),
            "workflow/create_incident"
        );
        assert_eq!(
            short_args(&json!({"code": "a\nb\nc", "log_data_path": "raw/x.json"})),
            "code=<3 lines> log_data_path=\"raw/x.json\""
        );
        assert_eq!(
            result_summary(
                &json!({"outcome": "ran", "remediation": {"status": "succeeded"}}).to_string()
            ),
            "outcome=ran remediation=succeeded"
        );
        assert_eq!(result_summary("plain words"), "plain words");
        // No summary: the facts, not the field names.
        assert_eq!(
            result_summary(
                &json!({"incidents": [], "next_cursor": null, "newly_queued": true,
                        "notification": {"status": "pending", "id": 1}, "lines": 12})
                .to_string()
            ),
            "0 incidents lines=12 newly_queued=true notification=pending"
        );
        assert_eq!(
            result_summary(r#"{"log_data_path":"INC-1/logs-1.json","lines":["a\"b", "#),
            "log_data_path=INC-1/logs-1.json"
        );
    }
}
