//! Scoring a run against what was expected (a simulated scenario's ground truth): did the
//! agent name the right root cause and component, fix it with the right action, is the world
//! healthy afterwards, was a postmortem written and the team notified? Read from the run's
//! history, so it scores any brain alike.

use std::{path::Path, time::Duration};

use serde_json::{Value, json};

use opsmcp_agent::{
    mcp::Toolbox,
    providers::{Block, Message},
};

use crate::planner::read::{Health, ServiceVerdict};

/// What the right answer is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Expected {
    /// Root-cause type, kebab-case (`connection-pool-exhaustion`).
    pub root_cause: String,
    /// The service at fault.
    pub component: String,
    /// The actions that fix it: `name` or `name@target`.
    pub remediation: Vec<String>,
    /// The cause is one the analysis has rules for. When it is not, the right answer is to
    /// say "unknown" and run nothing (a correct abstention).
    pub known: bool,
    /// Actions that make the incident worse, `name@target`.
    pub worsening: Vec<String>,
}

/// How a run did.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Score {
    /// The incident was detected: `create_incident` answered without error.
    pub detected: bool,
    /// The concluded root cause names the expected type.
    pub root_cause: bool,
    /// … and the expected component.
    pub component: bool,
    /// An expected action ran and was not failed, rolled back or only pending.
    pub fixed: bool,
    /// Health was back at the end (as checked by the caller).
    pub recovered: bool,
    /// A postmortem was written: `document_resolution` answered without error (and, where
    /// the caller can see the servers' disk, the file is there: [`Score::confirm_postmortem`]).
    pub documented: bool,
    /// The postmortem's path, as `document_resolution` gave it.
    pub postmortem: Option<String>,
    /// The team was told: `notify_team` answered without error.
    pub notified: bool,
    /// Brain turns.
    pub turns: u32,
    /// Tool calls made.
    pub tool_calls: usize,
    /// What the run concluded (the documented root cause, else its final text).
    pub conclusion: String,
    /// Every remediation asked for, `name@target`.
    pub remediations: Vec<String>,
    /// Those that ran: not held for approval, denied, failed to start or a dry run.
    #[serde(default)]
    pub ran: Vec<String>,
    /// The run said it does not know the cause, and ran no remediation.
    pub abstained: bool,
    /// The cause is outside the analysis's rules (from [`Expected::known`]).
    pub abstention_expected: bool,
    /// The scenario offers no action that fixes it (its expected remediation is empty): the
    /// right end is the cause named and handed to a human, nothing run.
    #[serde(default)]
    pub no_fix_offered: bool,
    /// An expected fix was asked for and is held for a human's approval, not run.
    #[serde(default)]
    pub asked_approval_right: bool,
    /// Remediations run on a service that is not at fault and not an expected fix.
    pub innocent_actions: usize,
    /// Remediations run that make the incident worse.
    pub worsening_actions: usize,
    /// The analysis's top hypothesis: its confidence, and whether it names the expected kind
    /// and component.
    pub top_confidence: Option<f64>,
    /// … whether it was right.
    pub top_right: bool,
    /// The analysis's conclusion (`unknown` or a kind).
    pub analysis_conclusion: Option<String>,
}

impl Score {
    /// The one root cause the run concluded names the expected type and component.
    pub fn root_cause_top1(&self) -> bool {
        self.root_cause && self.component
    }

    /// Right for the incident: solved when its cause is one the rules know, a correct
    /// abstention when it is not.
    pub fn correct(&self) -> bool {
        if self.abstention_expected {
            self.correct_abstention()
        } else {
            self.solved()
        }
    }

    /// The cause is outside the rules and the run said so, ran nothing, and told the team.
    pub fn correct_abstention(&self) -> bool {
        self.abstention_expected && self.abstained && self.notified
    }

    /// A known cause with no fix on offer, named right (type and component), nothing run, and
    /// the team told: handed over as it should be. Counted apart from [`Score::correct`].
    pub fn handed_over(&self) -> bool {
        !self.abstention_expected
            && self.no_fix_offered
            && self.root_cause
            && self.component
            && self.ran.is_empty()
            && self.notified
    }

    /// The cause named right (type and component), an expected fix asked for and held for a
    /// human's approval, nothing run meanwhile, and the team told: the right end for a fix
    /// the scenario says needs approval, when the run has no approver. Counted apart from
    /// [`Score::correct`] (`--approve-requests` plays the approver and counts it solved).
    pub fn awaiting_approval(&self) -> bool {
        !self.abstention_expected
            && self.root_cause
            && self.component
            && self.asked_approval_right
            && self.ran.is_empty()
            && self.notified
    }

    /// A wrong cause stated with confidence 0.5 or more (by the analysis or the postmortem).
    pub fn confident_wrong(&self) -> bool {
        let stated = self
            .analysis_conclusion
            .as_deref()
            .is_some_and(|c| c != "unknown");
        stated && !self.top_right && self.top_confidence.is_some_and(|c| c >= 0.5)
    }

    /// Everything right: cause, component, fix, recovery, postmortem, notification.
    pub fn solved(&self) -> bool {
        !self.abstention_expected
            && self.root_cause
            && self.component
            && self.fixed
            && self.recovered
            && self.documented
            && self.notified
    }

    /// For servers whose disk the caller shares (started in-process): the postmortem counts
    /// only if its file exists under `postmortems_dir`, so a server that answered without
    /// writing it, or wrote it elsewhere, does not pass.
    pub fn confirm_postmortem(&mut self, postmortems_dir: &Path) {
        let canonical = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
        let dir = canonical(postmortems_dir);
        self.documented &= self.postmortem.as_deref().is_some_and(|p| {
            let p = Path::new(p);
            p.is_file() && canonical(p).starts_with(&dir)
        });
    }
}

/// Lowercase, every run of non-alphanumerics one `-`: `Connection pool exhaustion` and
/// `connection_pool-exhaustion` compare equal.
fn normalize(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    format!("-{}-", out.trim_matches('-'))
}

/// The tool name without its `mcp__<server>__` prefix.
fn bare(name: &str) -> &str {
    name.rsplit("__").next().unwrap_or(name)
}

/// Scores `history` (a run's conversation) against `expected`; `recovered` and `turns` come
/// from the caller, which checks health itself rather than trusting the run.
pub fn score(
    history: &[Message],
    final_text: &str,
    expected: &Expected,
    recovered: bool,
    turns: u32,
) -> Score {
    let mut calls: Vec<(&str, &str, &Value)> = Vec::new();
    let mut results: std::collections::HashMap<&str, (bool, Option<&Value>, &str)> =
        Default::default();
    for m in history {
        for b in &m.content {
            match b {
                Block::ToolUse { id, name, input } => calls.push((id, bare(name), input)),
                Block::ToolResult {
                    tool_use_id,
                    content,
                    is_error,
                    structured,
                } => {
                    results.insert(tool_use_id, (*is_error, structured.as_ref(), content));
                }
                Block::Text { .. } => {}
            }
        }
    }
    let conclusion = calls
        .iter()
        .rev()
        .find(|(_, n, _)| *n == "document_resolution")
        .and_then(|(_, _, input)| input.get("root_cause").and_then(Value::as_str))
        .unwrap_or(final_text)
        .to_string();
    let concluded = normalize(&conclusion);

    // A call's result as JSON, when it succeeded: structured content first (the text a
    // brain was shown may be cut to its budget).
    let succeeded = |id: &str| match results.get(id) {
        Some((false, structured, content)) => Some(
            structured
                .cloned()
                .or_else(|| serde_json::from_str(content).ok())
                .unwrap_or(Value::Null),
        ),
        _ => None,
    };
    let mut postmortem = None;
    let mut detected = false;
    let mut documented = false;
    let mut notified = false;
    for (id, name, _) in &calls {
        match *name {
            "create_incident" => detected |= succeeded(id).is_some(),
            "document_resolution" => {
                if let Some(v) = succeeded(id) {
                    documented = true;
                    postmortem = v
                        .get("path")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                        .or(postmortem);
                }
            }
            "notify_team" => notified |= succeeded(id).is_some(),
            _ => {}
        }
    }

    let mut remediations = Vec::new();
    let mut ran = Vec::new();
    let mut fixed = false;
    let mut asked_approval_right = false;
    let mut worsening_actions = 0;
    let mut innocent_actions = 0;
    for (id, name, input) in &calls {
        if *name != "execute_remediation" {
            continue;
        }
        let action = input.get("action").and_then(Value::as_str).unwrap_or("");
        let (name_part, target) = match action.split_once('@') {
            Some((n, t)) => (n, Some(t)),
            None => (action, input.get("target").and_then(Value::as_str)),
        };
        let label = match target {
            Some(t) => format!("{name_part}@{t}"),
            None => name_part.to_string(),
        };
        let expected_hit = expected
            .remediation
            .iter()
            .any(|e| match e.split_once('@') {
                Some((n, t)) => n == name_part && target.is_none_or(|x| x == t),
                None => e == name_part,
            });
        let answer = succeeded(id);
        asked_approval_right |= expected_hit
            && answer.as_ref().is_some_and(|v| {
                v.get("outcome").and_then(Value::as_str) == Some("pending_approval")
            });
        if answer.as_ref().is_some_and(|v| {
            v.get("outcome").and_then(Value::as_str) != Some("pending_approval")
                && input.get("dry_run").and_then(Value::as_bool) != Some(true)
        }) && !ran.contains(&label)
        {
            ran.push(label.clone());
        }
        let held = match answer {
            Some(v) => {
                let status = v
                    .pointer("/remediation/status")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                let outcome = v.get("outcome").and_then(Value::as_str).unwrap_or("");
                outcome != "pending_approval"
                    && !matches!(status, "failed" | "rolled_back" | "dry_run")
                    && input.get("dry_run").and_then(Value::as_bool) != Some(true)
            }
            _ => false,
        };
        fixed |= expected_hit && held;
        if expected
            .worsening
            .iter()
            .any(|w| w == &label || w.split('@').next() == Some(name_part) && target.is_none())
        {
            worsening_actions += 1;
        }
        if !expected_hit && target.is_some_and(|t| t != expected.component) {
            innocent_actions += 1;
        }
        remediations.push(label);
    }
    // The analysis's own answer, as root_cause_analysis gave it last.
    let rca = calls
        .iter()
        .rev()
        .filter(|(_, n, _)| *n == "root_cause_analysis")
        .find_map(|(id, _, _)| succeeded(id));
    let top = rca
        .as_ref()
        .and_then(|v| v.pointer("/hypotheses/0").cloned());
    let top_confidence = top
        .as_ref()
        .and_then(|h| h.get("confidence"))
        .and_then(Value::as_f64);
    let top_right = top.as_ref().is_some_and(|h| {
        h.get("root_cause").and_then(Value::as_str) == Some(expected.root_cause.as_str())
            && h.get("component").and_then(Value::as_str) == Some(expected.component.as_str())
    });
    let analysis_conclusion = rca
        .as_ref()
        .and_then(|v| v.pointer("/conclusion/root_cause"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let abstained = concluded.contains("-unknown-") && remediations.is_empty();
    Score {
        detected,
        root_cause: concluded.contains(&normalize(&expected.root_cause)),
        component: concluded.contains(&normalize(&expected.component)),
        fixed,
        recovered,
        documented,
        postmortem,
        notified,
        turns,
        tool_calls: calls.len(),
        conclusion,
        remediations,
        ran,
        abstained,
        abstention_expected: !expected.known,
        no_fix_offered: expected.remediation.is_empty(),
        asked_approval_right,
        innocent_actions,
        worsening_actions,
        top_confidence,
        top_right,
        analysis_conclusion,
    }
}

/// Checks health independently of the run (the scorer does not take the agent's word): a
/// `verify_health` call through the toolbox. Recovered means `component` is healthy (`None`
/// when the expected fix moves the callers off it and leaves it as it is: it is then excused)
/// and nothing is unhealthy but the services in `excused` (trouble of their own that the incident
/// did not cause and its fix cannot end) and those whose every failing check is one
/// `excused_signals` names for them (`(service, check name)`: a service with a story of its
/// own still moving that signal) — see [`recovered`]. `None` when no server offers the tool
/// or the call fails.
pub async fn check_recovered(
    toolbox: &Toolbox,
    component: Option<&str>,
    excused: &[String],
    excused_signals: &[(String, String)],
    timeout: Duration,
) -> Option<bool> {
    let name = toolbox
        .tools()
        .iter()
        .find(|t| t.tool == "verify_health")?
        .name
        .clone();
    let out = toolbox.call(&name, json!({}), timeout).await.ok()?;
    if out.is_error {
        return None;
    }
    let v = out
        .structured
        .or_else(|| serde_json::from_str(&out.text).ok())?;
    let health = Health::read(&v)?;
    Some(recovered(&health, component, excused, excused_signals))
}

/// [`check_recovered`]'s judgment of one `verify_health` answer. A service whose every
/// problem is a check `excused_signals` names for it (by the check's name, the words its
/// messages begin with: `cpu`, `error rate`) counts as well, the component too: a
/// story of its own (a nightly job's CPU on the same database) is not the fault's, and no fix
/// of the fault ends it.
pub fn recovered(
    health: &Health,
    component: Option<&str>,
    excused: &[String],
    excused_signals: &[(String, String)],
) -> bool {
    // A check's message begins with what it measured, the signal's words.
    let its_own = |s: &ServiceVerdict| {
        !s.problems.is_empty()
            && s.problems.iter().all(|p| {
                excused_signals
                    .iter()
                    .any(|(svc, check)| *svc == s.service && p.starts_with(check.as_str()))
            })
    };
    let component_ok = component.is_none_or(|component| {
        health
            .services
            .iter()
            .find(|s| s.service == component)
            .map_or(health.status == "healthy", |s| {
                s.status == "healthy" || its_own(s)
            })
    });
    let unhealthy = health.with_status("unhealthy");
    let others_ok = unhealthy
        .iter()
        .all(|s| excused.contains(&s.service) || its_own(s));
    component_ok && others_ok && (health.status != "unhealthy" || !unhealthy.is_empty())
}

fn mark(ok: bool) -> &'static str {
    if ok { "✓" } else { "✗" }
}

/// The score as lines for a terminal: one per criterion, then the counts and the verdict.
pub fn score_lines(score: &Score, expected: &Expected, seconds: f64) -> Vec<String> {
    let asked: Vec<&String> = score
        .remediations
        .iter()
        .filter(|r| !score.ran.contains(r))
        .collect();
    let mut ran = if score.ran.is_empty() {
        "none run".to_string()
    } else {
        format!("ran {}", score.ran.join(", "))
    };
    if !asked.is_empty() {
        let asked: Vec<&str> = asked.iter().map(|s| s.as_str()).collect();
        ran.push_str(&format!("; asked for, did not run: {}", asked.join(", ")));
    }
    vec![
        format!(
            "root cause   {} expected {} — concluded: {}",
            mark(score.root_cause),
            expected.root_cause,
            crate::display::one_line(&score.conclusion, 100)
        ),
        format!(
            "component    {} expected {}",
            mark(score.component),
            expected.component
        ),
        format!(
            "fixed        {} expected {} — {ran}",
            mark(score.fixed),
            expected.remediation.join(" or ")
        ),
        format!("recovered    {}", mark(score.recovered)),
        format!(
            "documented   {} {}",
            mark(score.documented),
            match (&score.postmortem, score.documented) {
                (Some(p), true) => format!("postmortem {p}"),
                (Some(p), false) => format!("postmortem {p} not found"),
                (None, _) => "no postmortem written".to_string(),
            }
        ),
        format!(
            "notified     {}",
            if score.notified {
                mark(true).to_string()
            } else {
                format!("{} the team was not notified", mark(false))
            }
        ),
        format!(
            "turns {} · tool calls {} · {seconds:.1} s",
            score.turns, score.tool_calls
        ),
        if score.solved() {
            "SOLVED".to_string()
        } else {
            "NOT SOLVED".to_string()
        },
    ]
}

/// One row of an evaluation.
#[derive(Debug, Clone)]
pub struct Row {
    /// Scenario name.
    pub scenario: String,
    /// Seed.
    pub seed: u64,
    /// The score, or why the run could not be scored.
    pub result: Result<Score, String>,
    /// Wall time.
    pub seconds: f64,
}

impl Row {
    /// The row as the eval JSON file holds it: each criterion by name (`detection` = an
    /// incident was created, `root_cause_top1` = the one concluded cause names the expected
    /// type and component, `remediation` = an expected action held, `verification` = the
    /// scorer's own health check passed), turns, tool calls, wall time, and the full score.
    /// A run that failed to complete has every criterion false and its `error`.
    pub fn record(&self) -> Value {
        let s = self.result.as_ref().ok();
        let flag = |f: fn(&Score) -> bool| s.is_some_and(f);
        json!({
            "scenario": self.scenario,
            "seed": self.seed,
            "solved": flag(Score::solved),
            "correct": flag(Score::correct),
            "correct_abstention": flag(Score::correct_abstention),
            "handed_over": flag(Score::handed_over),
            "awaiting_approval": flag(Score::awaiting_approval),
            "confident_wrong": flag(Score::confident_wrong),
            "innocent_actions": s.map(|s| s.innocent_actions),
            "worsening_actions": s.map(|s| s.worsening_actions),
            "top_confidence": s.and_then(|s| s.top_confidence),
            "detection": flag(|s| s.detected),
            "root_cause_top1": flag(Score::root_cause_top1),
            "remediation": flag(|s| s.fixed),
            "verification": flag(|s| s.recovered),
            "documented": flag(|s| s.documented),
            "notified": flag(|s| s.notified),
            "turns": s.map(|s| s.turns),
            "tool_calls": s.map(|s| s.tool_calls),
            "wall_seconds": self.seconds,
            "score": s,
            "error": self.result.as_ref().err(),
        })
    }
}

/// Fractions of runs that passed each criterion, over every run (a run that failed to
/// complete counts as failing all of them).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Summary {
    /// Runs in all.
    pub runs: usize,
    /// Runs that could not be scored (an error).
    pub errors: usize,
    /// Solved: every criterion of [`Score::solved`].
    pub solved: f64,
    /// Solved, or correctly abstained on a cause outside the rules ([`Score::correct`]).
    pub solved_or_abstained: f64,
    /// Runs that abstained (said "unknown", ran nothing).
    pub abstentions: usize,
    /// Runs that abstained where the cause was outside the rules.
    pub correct_abstentions: usize,
    /// Known causes with no fix on offer, named right with nothing run ([`Score::handed_over`]).
    pub handed_over: usize,
    /// Named right with an expected fix held for approval and nothing run
    /// ([`Score::awaiting_approval`]).
    pub awaiting_approval: usize,
    /// Remediations run on innocent services, over all runs.
    pub innocent_actions: usize,
    /// Remediations run that make the incident worse, over all runs.
    pub worsening_actions: usize,
    /// Runs whose analysis stated a wrong cause with confidence ≥ 0.5.
    pub confident_wrong: usize,
    /// Reliability of the analysis's top confidence: per bucket, runs and the fraction right.
    pub calibration: Vec<Bucket>,
    /// Expected calibration error over the buckets (weighted by runs).
    pub ece: f64,
    /// An incident was created.
    pub detection: f64,
    /// [`Score::root_cause_top1`].
    pub root_cause_top1: f64,
    /// An expected remediation held.
    pub remediation: f64,
    /// Health was back, by the scorer's check.
    pub verification: f64,
    /// A postmortem was written.
    pub documented: f64,
    /// The team was notified.
    pub notified: f64,
    /// Mean brain turns of the scored runs.
    pub mean_turns: f64,
    /// Mean tool calls of the scored runs.
    pub mean_tool_calls: f64,
    /// Wall time of all runs.
    pub wall_seconds: f64,
}

impl Summary {
    /// Summarizes `rows`.
    pub fn of(rows: &[Row]) -> Self {
        let n = rows.len().max(1) as f64;
        let scored: Vec<&Score> = rows.iter().filter_map(|r| r.result.as_ref().ok()).collect();
        let share = |f: &dyn Fn(&Score) -> bool| scored.iter().filter(|s| f(s)).count() as f64 / n;
        let mean = |f: &dyn Fn(&Score) -> f64| {
            if scored.is_empty() {
                0.0
            } else {
                scored.iter().map(|s| f(s)).sum::<f64>() / scored.len() as f64
            }
        };
        let (calibration, ece) = calibration(&scored);
        let count = |f: &dyn Fn(&Score) -> bool| scored.iter().filter(|s| f(s)).count();
        Self {
            runs: rows.len(),
            errors: rows.len() - scored.len(),
            solved: share(&Score::solved),
            solved_or_abstained: share(&Score::correct),
            abstentions: count(&|s| s.abstained),
            correct_abstentions: count(&Score::correct_abstention),
            handed_over: count(&Score::handed_over),
            awaiting_approval: count(&Score::awaiting_approval),
            innocent_actions: scored.iter().map(|s| s.innocent_actions).sum(),
            worsening_actions: scored.iter().map(|s| s.worsening_actions).sum(),
            confident_wrong: count(&Score::confident_wrong),
            calibration,
            ece,
            detection: share(&|s| s.detected),
            root_cause_top1: share(&Score::root_cause_top1),
            remediation: share(&|s| s.fixed),
            verification: share(&|s| s.recovered),
            documented: share(&|s| s.documented),
            notified: share(&|s| s.notified),
            mean_turns: mean(&|s| f64::from(s.turns)),
            mean_tool_calls: mean(&|s| s.tool_calls as f64),
            wall_seconds: rows.iter().map(|r| r.seconds).sum(),
        }
    }

    /// Each threshold not met, as `(flag, message)`; empty when all are.
    pub fn failures(&self, t: &Thresholds) -> Vec<String> {
        [
            ("--min-solved", "solved", self.solved, t.solved),
            (
                "--min-root-cause",
                "root cause right (top 1)",
                self.root_cause_top1,
                t.root_cause,
            ),
            (
                "--min-remediation",
                "remediation right",
                self.remediation,
                t.remediation,
            ),
            (
                "--min-recovered",
                "recovery verified",
                self.verification,
                t.recovered,
            ),
        ]
        .into_iter()
        // A small tolerance so that, say, 4/5 meets 0.8 despite float rounding.
        .filter(|(_, _, got, min)| got + 1e-9 < *min)
        .map(|(flag, what, got, min)| {
            format!(
                "{what}: {:.0}/{} runs ({got:.2}) is below {flag} {min}",
                got * self.runs as f64,
                self.runs
            )
        })
        .collect()
    }
}

/// One confidence bucket of the reliability table.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Bucket {
    /// Lower bound of the bucket (0.0, 0.2, …).
    pub from: f64,
    /// Upper bound.
    pub to: f64,
    /// Runs whose top hypothesis had a confidence in the bucket.
    pub runs: usize,
    /// Their mean confidence.
    pub mean_confidence: f64,
    /// The fraction whose top hypothesis was right.
    pub right: f64,
}

/// The reliability table (five buckets of 0.2) and its expected calibration error.
fn calibration(scored: &[&Score]) -> (Vec<Bucket>, f64) {
    let points: Vec<(f64, bool)> = scored
        .iter()
        .filter_map(|s| s.top_confidence.map(|c| (c.clamp(0.0, 1.0), s.top_right)))
        .collect();
    let mut buckets = Vec::new();
    let mut ece = 0.0;
    for i in 0..5 {
        let (from, to) = (i as f64 / 5.0, (i + 1) as f64 / 5.0);
        let inside: Vec<&(f64, bool)> = points
            .iter()
            .filter(|(c, _)| *c >= from && (*c < to || (i == 4 && *c <= to)))
            .collect();
        if inside.is_empty() {
            continue;
        }
        let n = inside.len() as f64;
        let mean = inside.iter().map(|p| p.0).sum::<f64>() / n;
        let right = inside.iter().filter(|p| p.1).count() as f64 / n;
        ece += n / points.len() as f64 * (mean - right).abs();
        buckets.push(Bucket {
            from,
            to,
            runs: inside.len(),
            mean_confidence: (mean * 100.0).round() / 100.0,
            right: (right * 100.0).round() / 100.0,
        });
    }
    (buckets, (ece * 1000.0).round() / 1000.0)
}

/// The least fraction of runs that must pass each criterion (0 = no requirement).
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct Thresholds {
    /// Solved.
    pub solved: f64,
    /// Root cause right (top 1).
    pub root_cause: f64,
    /// Remediation right.
    pub remediation: f64,
    /// Recovery verified.
    pub recovered: f64,
}

/// The evaluation table with its totals.
pub fn table(rows: &[Row]) -> String {
    let width = rows
        .iter()
        .map(|r| r.scenario.len())
        .max()
        .unwrap_or(8)
        .max(8);
    let mut out = format!(
        "{:<width$}  {:>4}  {:^6}  {:^5}  {:^9}  {:^5}  {:^9}  {:^10}  {:^8}  {:>5}  {:>5}  {:>7}\n",
        "scenario",
        "seed",
        "detect",
        "cause",
        "component",
        "fixed",
        "recovered",
        "documented",
        "notified",
        "turns",
        "calls",
        "seconds"
    );
    let (mut solved, mut det, mut cause, mut comp, mut fixed, mut rec, mut doc, mut told) =
        (0, 0, 0, 0, 0, 0, 0, 0);
    for r in rows {
        match &r.result {
            Ok(s) => {
                solved += usize::from(s.solved());
                det += usize::from(s.detected);
                cause += usize::from(s.root_cause);
                comp += usize::from(s.component);
                fixed += usize::from(s.fixed);
                rec += usize::from(s.recovered);
                doc += usize::from(s.documented);
                told += usize::from(s.notified);
                out.push_str(&format!(
                    "{:<width$}  {:>4}  {:^6}  {:^5}  {:^9}  {:^5}  {:^9}  {:^10}  {:^8}  {:>5}  {:>5}  {:>7.1}\n",
                    r.scenario,
                    r.seed,
                    mark(s.detected),
                    mark(s.root_cause),
                    mark(s.component),
                    mark(s.fixed),
                    mark(s.recovered),
                    mark(s.documented),
                    mark(s.notified),
                    s.turns,
                    s.tool_calls,
                    r.seconds
                ));
            }
            Err(e) => out.push_str(&format!(
                "{:<width$}  {:>4}  error: {}\n",
                r.scenario,
                r.seed,
                crate::display::one_line(e, 100)
            )),
        }
    }
    let n = rows.len();
    out.push_str(&format!(
        "total: {solved}/{n} solved · detected {det}/{n} · root cause {cause}/{n} · component {comp}/{n} · fixed {fixed}/{n} · recovered {rec}/{n} · documented {doc}/{n} · notified {told}/{n} · {:.1} s\n",
        rows.iter().map(|r| r.seconds).sum::<f64>()
    ));
    let sum = Summary::of(rows);
    out.push_str(&format!(
        "solved or correctly abstained {:.0}/{n} · abstentions {} ({} correct) · handed over right with no fix on offer {} · right fix awaiting approval {} · innocent actions {} · worsening actions {} · confident-wrong {} · ECE {:.3}\n",
        sum.solved_or_abstained * n as f64,
        sum.abstentions,
        sum.correct_abstentions,
        sum.handed_over,
        sum.awaiting_approval,
        sum.innocent_actions,
        sum.worsening_actions,
        sum.confident_wrong,
        sum.ece
    ));
    out.push_str("calibration (top hypothesis confidence → fraction right):");
    for b in &sum.calibration {
        out.push_str(&format!(
            " [{:.1}–{:.1}) {} run(s), mean {:.2}, right {:.2};",
            b.from, b.to, b.runs, b.mean_confidence, b.right
        ));
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use opsmcp_agent::providers::Role;

    fn health(services: Value) -> Health {
        let status = if services.to_string().contains("unhealthy") {
            "unhealthy"
        } else {
            "degraded"
        };
        Health::read(&json!({"status": status, "summary": "", "services": services})).unwrap()
    }

    #[test]
    fn a_component_left_only_with_a_story_of_its_own_has_recovered() {
        // The fix of a full disk ran; the nightly job's CPU on the same database goes on.
        let h = health(json!([
            {"service": "db", "status": "degraded", "checks": [
                {"status": "degraded", "message": "cpu 88.4% is at or above the warning level 85%"}]},
            {"service": "api", "status": "healthy", "checks": []}
        ]));
        let excused = vec![("db".to_string(), "cpu".to_string())];
        assert!(recovered(&h, Some("db"), &[], &excused));
        // Without that story, the component is not healthy: not recovered.
        assert!(!recovered(&h, Some("db"), &[], &[]));
        // A problem beside the excused one is still the fault's.
        let h = health(json!([
            {"service": "db", "status": "degraded", "checks": [
                {"status": "degraded", "message": "cpu 88.4% is at or above the warning level 85%"},
                {"status": "degraded", "message": "error rate 12% is at or above the warning level 5%"}]}
        ]));
        assert!(!recovered(&h, Some("db"), &[], &excused));
    }

    fn call(id: &str, name: &str, input: Value) -> Message {
        Message {
            role: Role::Assistant,
            content: vec![Block::ToolUse {
                id: id.into(),
                name: name.into(),
                input,
            }],
        }
    }

    fn result(id: &str, v: Value) -> Message {
        Message {
            role: Role::User,
            content: vec![Block::ToolResult {
                tool_use_id: id.into(),
                content: v.to_string(),
                is_error: false,
                structured: Some(v),
            }],
        }
    }

    #[test]
    fn scores_the_documented_cause_and_the_action_that_held() {
        let expected = Expected {
            root_cause: "connection-pool-exhaustion".into(),
            component: "orders-db".into(),
            remediation: vec!["increase-pool-size".into()],
            known: true,
            worsening: Vec::new(),
        };
        let history = vec![
            call(
                "1",
                "mcp__workflow__execute_remediation",
                json!({"action": "restart", "target": "checkout-api"}),
            ),
            result(
                "1",
                json!({"outcome": "ran", "remediation": {"status": "rolled_back"}}),
            ),
            call(
                "2",
                "mcp__workflow__execute_remediation",
                json!({"action": "increase-pool-size@orders-db"}),
            ),
            result(
                "2",
                json!({"outcome": "ran", "remediation": {"status": "succeeded"}}),
            ),
            call(
                "3",
                "mcp__workflow__document_resolution",
                json!({"root_cause": "Connection pool exhaustion in orders-db"}),
            ),
            result(
                "3",
                json!({"path": "/data/postmortems/INC-0001/postmortem.md", "status": "resolved"}),
            ),
            call(
                "4",
                "mcp__workflow__notify_team",
                json!({"message": "fixed"}),
            ),
            result("4", json!({"newly_queued": true})),
        ];
        let s = score(&history, "", &expected, true, 9);
        assert!(s.solved(), "{s:?}");
        assert_eq!(
            s.remediations,
            ["restart@checkout-api", "increase-pool-size@orders-db"]
        );
        assert_eq!(s.tool_calls, 4);
        assert_eq!(
            s.postmortem.as_deref(),
            Some("/data/postmortems/INC-0001/postmortem.md")
        );

        let wrong = score(&history[..2], "bad deploy of orders", &expected, false, 3);
        assert!(!wrong.root_cause && !wrong.component && !wrong.fixed && !wrong.solved());
        assert!(!wrong.documented && !wrong.notified);

        // Right cause and fix, but the team never heard of it.
        let silent = score(&history[..6], "", &expected, true, 7);
        assert!(silent.documented && !silent.notified && !silent.solved());

        // A failed notify_team does not count either.
        let mut failed = history.clone();
        failed[7] = Message {
            role: Role::User,
            content: vec![Block::ToolResult {
                tool_use_id: "4".into(),
                content: "unknown channel".into(),
                is_error: true,
                structured: None,
            }],
        };
        assert!(!score(&failed, "", &expected, true, 9).notified);
    }

    #[test]
    fn the_right_fix_held_for_approval_is_awaiting_approval_not_solved() {
        let expected = Expected {
            root_cause: "disk-full".into(),
            component: "mail-relay".into(),
            remediation: vec!["purge-deferred-queue".into()],
            known: true,
            worsening: Vec::new(),
        };
        let asked = |action: &str| {
            vec![
                call(
                    "1",
                    "mcp__workflow__execute_remediation",
                    json!({"action": action, "target": "mail-relay"}),
                ),
                result("1", json!({"outcome": "pending_approval"})),
                call(
                    "2",
                    "mcp__workflow__notify_team",
                    json!({"message": "awaiting approval"}),
                ),
                result("2", json!({"newly_queued": true})),
            ]
        };
        let concluded = "disk-full on mail-relay";
        let held = score(
            &asked("purge-deferred-queue"),
            concluded,
            &expected,
            false,
            8,
        );
        assert!(held.awaiting_approval() && !held.solved(), "{held:?}");
        assert!(held.ran.is_empty());
        let other = score(&asked("grow-relay-volume"), concluded, &expected, false, 8);
        assert!(!other.awaiting_approval(), "{other:?}");
    }

    #[test]
    fn a_postmortem_counts_only_when_its_file_is_there() {
        let dir = tempfile::tempdir().unwrap();
        let postmortems = dir.path().join("postmortems");
        let file = postmortems.join("INC-0001/postmortem.md");
        let history = vec![
            call(
                "1",
                "mcp__workflow__document_resolution",
                json!({"root_cause": "x"}),
            ),
            result("1", json!({"path": file.display().to_string()})),
        ];
        let expected = Expected {
            root_cause: "x".into(),
            component: "y".into(),
            remediation: Vec::new(),
            known: true,
            worsening: Vec::new(),
        };
        let mut missing = score(&history, "", &expected, true, 1);
        assert!(missing.documented);
        missing.confirm_postmortem(&postmortems);
        assert!(!missing.documented, "no file on disk");

        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, "# Postmortem").unwrap();
        let mut there = score(&history, "", &expected, true, 1);
        there.confirm_postmortem(&postmortems);
        assert!(there.documented);

        // The same file does not count for another data directory's postmortems.
        let mut elsewhere = score(&history, "", &expected, true, 1);
        elsewhere.confirm_postmortem(&dir.path().join("other/postmortems"));
        assert!(!elsewhere.documented);
    }

    fn sample(fixed: bool, recovered: bool) -> Score {
        Score {
            detected: true,
            root_cause: true,
            component: true,
            fixed,
            recovered,
            documented: true,
            postmortem: None,
            notified: true,
            turns: 10,
            tool_calls: 12,
            conclusion: String::new(),
            remediations: Vec::new(),
            ran: Vec::new(),
            abstained: false,
            abstention_expected: false,
            no_fix_offered: false,
            asked_approval_right: false,
            innocent_actions: 0,
            worsening_actions: 0,
            top_confidence: Some(if fixed { 0.8 } else { 0.3 }),
            top_right: fixed,
            analysis_conclusion: None,
        }
    }

    #[test]
    fn abstention_calibration_and_harm_are_counted() {
        let mut unknown = sample(false, false);
        unknown.abstention_expected = true;
        unknown.abstained = true;
        assert!(unknown.correct() && !unknown.solved());
        let mut wrong = sample(false, false);
        wrong.analysis_conclusion = Some("disk-full".into());
        wrong.top_confidence = Some(0.7);
        wrong.innocent_actions = 1;
        assert!(wrong.confident_wrong());
        let row = |s: Score| Row {
            scenario: "s".into(),
            seed: 1,
            result: Ok(s),
            seconds: 1.0,
        };
        // Nothing on offer fixes it: named right and nothing run is a right hand-over; a
        // restart that only masks is not.
        let mut handed = sample(false, false);
        handed.no_fix_offered = true;
        assert!(handed.handed_over());
        let mut masked = handed.clone();
        masked.ran = vec!["restart@svc".into()];
        assert!(!masked.handed_over());
        // The right fix held for approval, nothing run: awaiting approval; a useless action
        // run first spoils it.
        let mut held = sample(false, false);
        held.asked_approval_right = true;
        assert!(held.awaiting_approval() && !held.solved());
        let mut tried_first = held.clone();
        tried_first.ran = vec!["grow-volume@svc".into()];
        assert!(!tried_first.awaiting_approval());
        let summary = Summary::of(&[
            row(unknown),
            row(wrong),
            row(sample(true, true)),
            row(handed),
            row(masked),
            row(held),
            row(tried_first),
        ]);
        assert_eq!(summary.handed_over, 1);
        assert_eq!(summary.awaiting_approval, 1);
        assert_eq!(summary.correct_abstentions, 1);
        assert_eq!(summary.confident_wrong, 1);
        assert_eq!(summary.innocent_actions, 1);
        // 0.3 → wrong (0.3 off) ×5, 0.7 → wrong (0.7 off), 0.8 → right (0.2 off).
        assert!(
            (summary.ece - (0.3 * 5.0 + 0.7 + 0.2) / 7.0).abs() < 1e-3,
            "{}",
            summary.ece
        );
    }

    #[test]
    fn thresholds_name_each_criterion_below_its_minimum() {
        let row = |result: Result<Score, String>| Row {
            scenario: "s".into(),
            seed: 1,
            result,
            seconds: 2.0,
        };
        let rows = vec![
            row(Ok(sample(true, true))),
            row(Ok(sample(false, true))),
            row(Ok(sample(true, false))),
            row(Err("servers did not start".into())),
        ];
        let summary = Summary::of(&rows);
        assert_eq!(summary.runs, 4);
        assert_eq!(summary.errors, 1);
        assert_eq!(summary.solved, 0.25);
        assert_eq!(summary.root_cause_top1, 0.75);
        assert_eq!(summary.remediation, 0.5);
        assert_eq!(summary.verification, 0.5);
        assert_eq!(summary.mean_turns, 10.0);
        assert_eq!(summary.wall_seconds, 8.0);

        assert!(summary.failures(&Thresholds::default()).is_empty());
        let met = Thresholds {
            solved: 0.25,
            root_cause: 0.75,
            remediation: 0.5,
            recovered: 0.5,
        };
        assert!(
            summary.failures(&met).is_empty(),
            "exactly at the minimum passes"
        );
        let failed = summary.failures(&Thresholds {
            remediation: 0.6,
            recovered: 1.0,
            ..met
        });
        assert_eq!(failed.len(), 2, "{failed:?}");
        assert!(failed[0].contains("--min-remediation 0.6"), "{failed:?}");
        assert!(failed[0].contains("2/4 runs"), "{failed:?}");
        assert!(failed[1].contains("--min-recovered 1"), "{failed:?}");

        let record = rows[3].record();
        assert_eq!(record["detection"], false);
        assert_eq!(record["error"], "servers did not start");
        let record = rows[1].record();
        assert_eq!(record["root_cause_top1"], true);
        assert_eq!(record["remediation"], false);
        assert_eq!(record["tool_calls"], 12);
    }
}
