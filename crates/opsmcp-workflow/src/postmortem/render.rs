//! The Markdown: one function per section, each saying plainly what is not known.

use jiff::Timestamp;
use opsmcp_store::{Remediation, TimelineEntry};
use serde_json::Value;

use super::{
    Facts, peak,
    text::{cell, cut_words, num, sentence, span, tidy},
};

/// Characters kept of a free-text value in a timeline row (a note, a reason).
const ROW_TEXT: usize = 160;

/// The remediation that restored health: it succeeded, was not a dry run, and its
/// verification saw recovery.
pub(super) fn fix(remediations: &[Remediation]) -> Option<&Remediation> {
    remediations.iter().find(|r| {
        r.status == "succeeded"
            && !r.dry_run
            && r.result
                .as_ref()
                .and_then(|v| v.pointer("/verification/recovered"))
                .and_then(Value::as_bool)
                .unwrap_or(false)
    })
}

fn hms(t: Timestamp) -> String {
    t.strftime("%H:%M:%S").to_string()
}

fn mins_between(a: Timestamp, b: Timestamp) -> String {
    span(b.duration_since(a).as_secs())
}

/// The whole document.
pub(super) fn markdown(f: &Facts) -> String {
    let mut md = String::new();
    let incident = &f.detail.incident;
    md.push_str(&format!(
        "# Postmortem: {} — {}\n\n",
        incident.id,
        tidy(&incident.title)
    ));
    md.push_str(&header(f));
    for (title, body) in [
        ("Summary", summary(f)),
        ("Impact", impact(f)),
        ("Timeline (UTC)", timeline(f)),
        ("Root cause and evidence", root_cause(f)),
        ("Ruled out", ruled_out(f)),
        ("Contributing changes", changes(f)),
        ("Remediation and verification", remediation(f)),
        ("Action items", action_items(f)),
        ("Charts", charts(f)),
    ] {
        md.push_str(&format!("## {title}\n\n{}\n", body.trim_end()));
        md.push('\n');
    }
    md.truncate(md.trim_end().len());
    md.push('\n');
    md
}

fn header(f: &Facts) -> String {
    let i = &f.detail.incident;
    format!(
        "**Severity** {} · **Services** {} · **Opened** {} UTC · **Written** {} UTC\n\n",
        i.severity,
        if i.services.is_empty() {
            "none named".to_string()
        } else {
            i.services.join(", ")
        },
        i.created_at.strftime("%Y-%m-%d %H:%M:%S"),
        f.window.1.strftime("%Y-%m-%d %H:%M:%S"),
    )
}

fn summary(f: &Facts) -> String {
    format!(
        "{} {}\n",
        sentence(&tidy(&f.req.root_cause)),
        sentence(&tidy(&f.req.resolution))
    )
}

fn impact(f: &Facts) -> String {
    let i = &f.detail.incident;
    let mut out = String::new();
    let recovered = fix(f.remediations).and_then(|r| r.finished_at);
    match (f.req.onset, recovered) {
        (Some(onset), Some(done)) => out.push_str(&format!(
            "- **Duration:** {} — from the onset at {} to recovery verified at {}; detected {} \
             after the onset (incident opened {}).\n",
            mins_between(onset, done),
            hms(onset),
            hms(done),
            mins_between(onset, i.created_at),
            hms(i.created_at)
        )),
        (Some(onset), None) => out.push_str(&format!(
            "- **Duration:** from the onset at {} — recovery not verified by any remediation \
             on record (incident opened {}).\n",
            hms(onset),
            hms(i.created_at)
        )),
        (None, Some(done)) => out.push_str(&format!(
            "- **Duration:** onset unknown (the analysis gave none); opened {} and recovery \
             verified at {} ({}).\n",
            hms(i.created_at),
            hms(done),
            mins_between(i.created_at, done)
        )),
        (None, None) => out.push_str(&format!(
            "- **Duration:** unknown — no onset given and no verified recovery on record; \
             opened {}.\n",
            hms(i.created_at)
        )),
    }
    match &f.req.impact {
        Some(text) if !text.trim().is_empty() => {
            for l in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
                out.push_str(&format!("- {}\n", tidy(l.trim_start_matches("- "))));
            }
        }
        _ => out.push_str(&format!(
            "- Services affected: {}. Who else was affected (customers, requests lost) was \
             not reported.\n",
            if i.services.is_empty() {
                "none named".to_string()
            } else {
                i.services.join(", ")
            }
        )),
    }
    out
}

/// One row of the timeline table.
struct Row {
    at: Timestamp,
    what: String,
    source: String,
}

fn timeline(f: &Facts) -> String {
    let mut rows: Vec<Row> = Vec::new();
    let cited = |e: &opsmcp_world::WorldEvent| f.req.changes.iter().any(|c| same_change(c, e));
    if let Ok(events) = &f.events {
        for e in events {
            rows.push(Row {
                at: e.at,
                what: format!(
                    "{} on {}: {}{}",
                    e.kind,
                    e.service,
                    e.detail,
                    if cited(e) {
                        " — reported by the analysis"
                    } else {
                        ""
                    }
                ),
                source: "change log".into(),
            });
        }
    }
    for c in &f.req.changes {
        let on_log = f
            .events
            .as_ref()
            .is_ok_and(|events| events.iter().any(|e| same_change(c, e)));
        if let (Some(at), false) = (c.at, on_log) {
            rows.push(Row {
                at,
                what: format!(
                    "{}{}",
                    c.service
                        .as_ref()
                        .map(|s| format!("change on {s}: "))
                        .unwrap_or_else(|| "change: ".into()),
                    c.detail
                ),
                source: "analysis".into(),
            });
        }
    }
    if let Some(onset) = f.req.onset {
        rows.push(Row {
            at: onset,
            what: "Onset: the signals of the cause left their normal range".into(),
            source: "analysis".into(),
        });
    }
    for t in &f.detail.timeline {
        rows.push(Row {
            at: t.at,
            what: entry(t, f.remediations),
            source: format!("incident record ({})", t.actor),
        });
    }
    // Stable: the record's own order is kept among entries of the same second.
    rows.sort_by_key(|r| r.at);
    let mut out = String::from("| Time | What happened | Source |\n|---|---|---|\n");
    for r in rows {
        out.push_str(&format!(
            "| {} | {} | {} |\n",
            hms(r.at),
            cell(&tidy(&r.what)),
            cell(&r.source)
        ));
    }
    out
}

fn same_change(c: &super::Change, e: &opsmcp_world::WorldEvent) -> bool {
    let near =
        c.at.is_none_or(|at| at.duration_since(e.at).as_secs().abs() <= 1);
    let service = c.service.as_ref().is_none_or(|s| s == &e.service);
    let detail = c.detail.contains(&e.detail) || e.detail.contains(c.detail.trim());
    near && service && detail
}

fn s<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// A timeline entry in words, by its kind; an unknown kind as its plain fields.
fn entry(t: &TimelineEntry, remediations: &[Remediation]) -> String {
    let b = &t.body;
    let action_of = |v: &Value| {
        v.get("remediation")
            .and_then(Value::as_i64)
            .and_then(|id| remediations.iter().find(|r| r.id == id))
            .map(|r| format!("{}@{}", r.action, r.target))
    };
    match t.kind.as_str() {
        "created" => {
            let services: Vec<&str> = b
                .get("services")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            format!(
                "Incident opened ({}): {}{}",
                s(b, "severity").unwrap_or("severity not set"),
                s(b, "title").unwrap_or("untitled"),
                if services.is_empty() {
                    String::new()
                } else {
                    format!(" — services {}", services.join(", "))
                }
            )
        }
        "deduplicated" => "Reported again; joined to this incident".into(),
        "status_changed" => format!(
            "Status {} → {}{}",
            s(b, "from").unwrap_or("?"),
            s(b, "to").unwrap_or("?"),
            s(b, "note")
                .map(|n| format!(": {}", cut_words(n, ROW_TEXT)))
                .unwrap_or_default()
        ),
        "updated" => {
            let mut parts = Vec::new();
            for field in ["severity", "assignee"] {
                if let Some(c) = b.get(field) {
                    parts.push(format!(
                        "{field} {} → {}",
                        c.get("from").and_then(Value::as_str).unwrap_or("none"),
                        c.get("to").and_then(Value::as_str).unwrap_or("none")
                    ));
                }
            }
            if let Some(n) = s(b, "note") {
                parts.push(format!("note: {}", cut_words(n, ROW_TEXT)));
            }
            format!("Updated: {}", parts.join("; "))
        }
        "remediation_started" => format!(
            "Remediation started: {}@{}{}",
            s(b, "action").unwrap_or("?"),
            s(b, "target").unwrap_or("?"),
            if b.get("dry_run").and_then(Value::as_bool) == Some(true) {
                " (dry run)"
            } else {
                ""
            }
        ),
        "remediation_finished" => format!(
            "Remediation {}: {}{}",
            s(b, "status").unwrap_or("finished"),
            action_of(b).unwrap_or_else(|| "the action".into()),
            b.get("result")
                .and_then(|r| r.get("verification"))
                .map(|v| format!(" — {}", verification(v)))
                .unwrap_or_default()
        ),
        "approval_requested" => format!(
            "Approval requested: {} on {} (risk {})",
            s(b, "action").unwrap_or("?"),
            s(b, "target").unwrap_or("?"),
            s(b, "risk").unwrap_or("not stated")
        ),
        "approved" => format!(
            "Approved: {} on {}",
            s(b, "action").unwrap_or("?"),
            s(b, "target").unwrap_or("any service")
        ),
        "alert_firing" => format!("Alert firing: {}", s(b, "alertname").unwrap_or("an alert")),
        "alert_resolved" => "Alerts resolved".into(),
        "postmortem" => "Postmortem written".into(),
        other => {
            let fields: Vec<String> = b
                .as_object()
                .map(|m| {
                    m.iter()
                        .filter_map(|(k, v)| match v {
                            Value::String(x) => Some(format!("{k}: {}", cut_words(x, ROW_TEXT))),
                            Value::Number(n) => n.as_f64().map(|x| format!("{k}: {}", num(x))),
                            Value::Bool(x) => Some(format!("{k}: {x}")),
                            _ => None,
                        })
                        .collect()
                })
                .unwrap_or_default();
            let kind = other.replace('_', " ");
            if fields.is_empty() {
                kind
            } else {
                format!("{kind}: {}", fields.join("; "))
            }
        }
    }
}

/// A remediation's verification in words.
fn verification(v: &Value) -> String {
    let judged: Vec<&str> = v
        .get("judged")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let on = if judged.is_empty() {
        "health re-checked".to_string()
    } else {
        format!("health re-checked on {}", judged.join(", "))
    };
    let waited = v
        .get("waited_s")
        .and_then(Value::as_u64)
        .map(|w| format!(" after {w} s"))
        .unwrap_or_default();
    match v.get("recovered").and_then(Value::as_bool) {
        Some(true) => format!("{on}: recovered{waited}"),
        Some(false) => format!("{on}: not recovered{waited}"),
        None => format!("{on}: result not recorded"),
    }
}

fn root_cause(f: &Facts) -> String {
    let cause = tidy(f.req.root_cause.trim());
    let mut out = format!("{}\n\n", sentence(&cause));
    let evidence: Vec<String> = f
        .req
        .evidence
        .iter()
        .map(|e| tidy(e.trim()))
        .filter(|e| !e.is_empty() && *e != cause)
        .collect();
    if evidence.is_empty() {
        out.push_str("No evidence was given with the root cause.\n");
    } else {
        out.push_str("**Evidence**\n\n");
        for e in evidence {
            out.push_str(&format!("- {e}\n"));
        }
    }
    let signals: Vec<String> = f
        .charts
        .iter()
        .filter_map(|c| {
            let base = c.series.baseline?;
            let peak = peak(c.series)?;
            let last = c.series.points.last()?.1;
            Some(format!(
                "- {} {}: baseline {}, furthest from it {}, {} at the end of the window{}",
                c.series.service,
                c.series.signal,
                num(base),
                num(peak),
                num(last),
                c.threshold
                    .map(|t| format!("; unhealthy at {}", num(t)))
                    .unwrap_or_default()
            ))
        })
        .collect();
    if !signals.is_empty() {
        out.push_str("\n**Signals** (charted below)\n\n");
        out.push_str(&signals.join("\n"));
        out.push('\n');
    }
    out
}

fn ruled_out(f: &Facts) -> String {
    if f.req.ruled_out.is_empty() {
        return "No hypotheses were recorded as ruled out: none were passed to this postmortem.\n"
            .into();
    }
    let mut out = String::from("| Hypothesis | Why it is not the conclusion |\n|---|---|\n");
    for r in &f.req.ruled_out {
        out.push_str(&format!(
            "| {} | {} |\n",
            cell(&tidy(&r.hypothesis)),
            cell(&tidy(&r.reason))
        ));
    }
    out
}

fn changes(f: &Facts) -> String {
    let i = &f.detail.incident;
    let reference = f.req.onset.unwrap_or(i.created_at);
    let what = if f.req.onset.is_some() {
        "the onset"
    } else {
        "the incident was opened"
    };
    let when = |at: Option<Timestamp>| match at {
        Some(at) if at <= reference => format!(
            "{} — {} before {what}",
            hms(at),
            mins_between(at, reference)
        ),
        Some(at) => format!("{} — {} after {what}", hms(at), mins_between(reference, at)),
        None => "time not given".into(),
    };
    // A change can have contributed only if it came before the onset and touched a service
    // the incident involves; the others are listed apart, so a reader sees what was weighed.
    let involved = |c: &super::Change| {
        c.service
            .as_ref()
            .is_none_or(|s| i.services.contains(s) || f.req.signals.iter().any(|k| &k.service == s))
    };
    let before = |c: &super::Change| c.at.is_none_or(|at| at <= reference);
    let line = |c: &super::Change| {
        format!(
            "- {}{}: {}\n",
            when(c.at),
            c.service
                .as_ref()
                .map(|s| format!(" · {s}"))
                .unwrap_or_default(),
            tidy(&c.detail)
        )
    };
    let mut out = String::new();
    if f.req.changes.is_empty() {
        out.push_str("The analysis reported no change event for this incident.\n");
    } else {
        let groups: [(&str, Vec<&super::Change>); 3] = [
            (
                "Before the onset, on the services involved — the candidates:",
                f.req
                    .changes
                    .iter()
                    .filter(|c| before(c) && involved(c))
                    .collect(),
            ),
            (
                "On other services (no path to the affected ones was shown):",
                f.req
                    .changes
                    .iter()
                    .filter(|c| before(c) && !involved(c))
                    .collect(),
            ),
            (
                "After the onset (they cannot have started it):",
                f.req.changes.iter().filter(|c| !before(c)).collect(),
            ),
        ];
        if groups[0].1.is_empty() {
            out.push_str(
                "None of the changes the analysis reported came before the onset on the \
                 services involved.\n\n",
            );
        }
        for (title, list) in groups.iter().filter(|(_, l)| !l.is_empty()) {
            out.push_str(&format!("{title}\n\n"));
            for c in list {
                out.push_str(&line(c));
            }
            out.push('\n');
        }
    }
    match &f.events {
        Ok(events) => {
            let others: Vec<_> = events
                .iter()
                .filter(|e| !f.req.changes.iter().any(|c| same_change(c, e)))
                .collect();
            if !others.is_empty() {
                out.push_str(&format!(
                    "\nIn the change log between {} and {}, not among those the analysis \
                     reported:\n\n",
                    hms(f.window.0),
                    hms(f.window.1)
                ));
                for e in others {
                    out.push_str(&format!(
                        "- {} · {} · {}: {}\n",
                        when(Some(e.at)),
                        e.service,
                        e.kind,
                        tidy(&e.detail)
                    ));
                }
            } else if f.req.changes.is_empty() {
                out.push_str(&format!(
                    "The change log has no deploys, config changes or jobs between {} and {}.\n",
                    hms(f.window.0),
                    hms(f.window.1)
                ));
            }
        }
        Err(e) => out.push_str(&format!("\nThe change log could not be read: {e}\n")),
    }
    out
}

fn remediation(f: &Facts) -> String {
    let mut out = format!("{}\n\n", sentence(&tidy(f.req.resolution.trim())));
    if f.remediations.is_empty() {
        out.push_str("No remediation was run through the workflow server.\n");
        return out;
    }
    out.push_str("| Started | Action | By | Result | Verification |\n|---|---|---|---|---|\n");
    for r in f.remediations {
        let result = r.result.as_ref();
        let mut verified = result
            .and_then(|v| v.get("verification"))
            .map(verification)
            .unwrap_or_else(|| "not verified".into());
        if let Some(rb) = result.and_then(|v| v.get("rollback")) {
            verified.push_str(&match rb.get("succeeded").and_then(Value::as_bool) {
                Some(true) => "; rolled back".to_string(),
                Some(false) => "; rollback failed".to_string(),
                None => format!(
                    "; rollback failed: {}",
                    cut_words(s(rb, "error").unwrap_or("no detail"), ROW_TEXT)
                ),
            });
        }
        if let Some(e) = result.and_then(|v| s(v, "error")) {
            verified = format!("did not run: {}", cut_words(e, ROW_TEXT));
        }
        out.push_str(&format!(
            "| {} | {}@{}{} | {} | {} | {} |\n",
            hms(r.started_at),
            cell(&r.action),
            cell(&r.target),
            if r.dry_run { " (dry run)" } else { "" },
            cell(&r.requested_by),
            cell(&r.status),
            cell(&tidy(&verified))
        ));
    }
    out
}

fn action_items(f: &Facts) -> String {
    if f.req.action_items.is_empty() {
        return "None were given. Decide at least who owns an alert on the first signal that \
                moved, so the next occurrence pages earlier.\n"
            .into();
    }
    f.req
        .action_items
        .iter()
        .map(|a| format!("- [ ] {}\n", tidy(a.trim())))
        .collect()
}

fn charts(f: &Facts) -> String {
    if f.charts.is_empty() {
        return match &f.history_error {
            Some(e) => format!("No charts: the signal history could not be read ({e}).\n"),
            None => "No charts: no signal moved from its baseline in the window.\n".into(),
        };
    }
    let mut out = String::from(
        "Each chart runs from before the onset to the time of writing: the signal (blue), its \
         baseline (grey, dashed), the level at which its check turns unhealthy (red, dashed), \
         the onset (orange), the incident opened (purple) and the fix applied (green).\n\n",
    );
    for c in &f.charts {
        out.push_str(&format!(
            "**{} · {}**{}\n\n![{} {}]({})\n\n",
            c.series.service,
            c.series.signal,
            if c.decisive {
                " — named by the root-cause analysis as evidence"
            } else {
                " — moved far from its baseline"
            },
            c.series.service,
            c.series.signal,
            c.file
        ));
    }
    out
}
