//! The planner: a deterministic brain that works an incident through MCP tool calls
//! only, the default when no model is configured.
//!
//! It follows the incident lifecycle — detect, open, investigate, analyze, find the root
//! cause, remediate, verify, document, notify — and decides each step from the structured
//! results of the previous ones (read from the history, as a model would read them):
//!
//! 1. `verify_health` + `get_system_metrics`: what is unhealthy, and how badly;
//! 2. `create_incident`: title from what is unhealthy, severity from how many services are
//!    unhealthy or degraded, those services, a dedup key;
//! 3. `analyze_logs` + `get_raw_logs` for the incident;
//! 4. `execute_analysis_script`: a Python (stdlib) script of its own, kept in `analytics/`,
//!    counting errors per service and the top error messages of the raw logs;
//! 5. `root_cause_analysis`: ranked hypotheses, each with suggested actions;
//! 6. `execute_remediation` with the best hypothesis's action, then `verify_health`; when
//!    health does not recover (or the remediation came back failed or rolled back), the next
//!    hypothesis's action, and so on;
//! 7. `document_resolution` with root cause, resolution and evidence (RCA and the script's
//!    output), `notify_team` with the summary, and a final text summary.
//!
//! It knows the tools' contracts (names, arguments, the shape of their results, read
//! defensively by [`read`]) and nothing of any scenario: every decision comes from a tool
//! output. A tool no connected server offers is skipped with a note. It names tools by their
//! MCP name and finds them among the offered ones whatever the server is called
//! (`mcp__<server>__<tool>`).

pub mod read;

use std::{collections::HashMap, time::Duration};

use futures::future::BoxFuture;
use serde_json::{Value, json};

use opsmcp_agent::{
    agent::{AgentError, Brain, BrainInput, NOT_RUN},
    providers::{Block, Role, StopReason, TextSink, ToolDef, Turn, Usage},
};

use self::read::{
    ActionRef, CONFIDENCE_FLOOR, FailingCheck, Health, Hypothesis, RemediationResult,
    ServiceVerdict, find_str, line, number,
};

/// The analysis script the planner runs on the raw logs.
pub const ANALYSIS_SCRIPT: &str = include_str!("analysis.py");

/// Turns kept at the end of the budget for documenting, notifying and the summary.
const RESERVED_TURNS: u32 = 3;
/// Analysis script runs at most: the first, and one retry with the other path convention.
const SCRIPT_ATTEMPTS: u32 = 2;
/// Hypotheses listed when the analysis answers.
const HYPOTHESES_SHOWN: usize = 3;
/// Evidence lines quoted in a remediation's `reason`.
const REASON_EVIDENCE: usize = 3;
/// Characters kept of the incident report in the incident's description.
const REPORT_CHARS: usize = 600;
/// Characters kept of a remediation's `reason`.
const REASON_CHARS: usize = 600;
/// Characters kept of the findings noted on an incident left open.
const NOTE_CHARS: usize = 4000;

/// Characters kept of the postmortem's root cause and impact: one paragraph each, whatever the
/// incident's size (the postmortem refuses an item of over 2,000 characters).
const ITEM_CHARS: usize = 1500;

/// Hypotheses listed as ruled out, at most.
const RULED_OUT_SHOWN: usize = 5;
/// Characters kept of why a hypothesis was ruled out.
const RULED_OUT_CHARS: usize = 600;
/// Change events passed to the postmortem, at most.
const CHANGES_SHOWN: usize = 10;

/// Characters kept of a tool's error message.
const TOOL_ERROR_CHARS: usize = 300;
/// Characters kept of the metrics summary (it goes into the incident's description).
const METRICS_SUMMARY_CHARS: usize = 200;
/// Characters kept of the log analysis's one-line summary.
const LOG_SUMMARY_CHARS: usize = 300;
/// Characters kept of a failed script's stderr.
const SCRIPT_STDERR_CHARS: usize = 200;

/// Knobs of the planner.
#[derive(Debug, Clone)]
pub struct PlannerConfig {
    /// Pause before checking health again when a remediation may still be taking effect.
    pub recheck_delay: Duration,
    /// Health re-checks after one remediation before trying the next action.
    pub max_rechecks: u32,
    /// Remediations tried at most.
    pub max_remediations: usize,
    /// The run's turn limit: the planner keeps the last turns for documenting, notifying and
    /// its summary.
    pub turn_budget: u32,
    /// How long to wait, in all, for a human to approve an action held for approval before
    /// documenting it as awaiting approval. Zero: do not wait.
    pub approval_wait: Duration,
}

impl Default for PlannerConfig {
    fn default() -> Self {
        Self {
            recheck_delay: Duration::from_secs(5),
            max_rechecks: 2,
            max_remediations: 3,
            turn_budget: 20,
            approval_wait: Duration::ZERO,
        }
    }
}

/// Where the planner is in the lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Detect,
    Open,
    Investigate,
    Analyze,
    RootCause,
    Remediate,
    AwaitApproval,
    Verify,
    Document,
    Notify,
    Done,
}

/// What a call was for, so its result is read the right way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    InitialHealth,
    Health,
    Metrics,
    OpenIncidents,
    CreateIncident,
    AnalyzeLogs,
    RawLogs,
    Script,
    Rca,
    Remediation,
    Approval,
    Document,
    Escalate,
    Notify,
}

/// One remediation tried.
#[derive(Debug, Clone)]
struct Attempt {
    /// What it is judged on: the services the diagnosis says it heals.
    heals: Vec<String>,
    action: ActionRef,
    /// Index of the hypothesis it came from.
    hypothesis: usize,
    /// What execute_remediation said (`None` until it answered).
    result: Option<RemediationResult>,
    /// The call itself failed.
    error: Option<String>,
    /// Health recovered after it.
    recovered: bool,
}

impl Attempt {
    /// Why it was not run at all (refused by the operator, not offered), if it was not.
    fn not_run(&self) -> Option<&str> {
        self.error.as_deref()?.strip_prefix(NOT_RUN)
    }
}

/// Everything learned so far.
#[derive(Debug, Default)]
struct State {
    phase: Option<Phase>,
    pending: HashMap<String, Purpose>,
    notes: Vec<String>,
    report: String,
    /// Incidents still open when the run began: (id, services).
    open_incidents: Vec<(String, Vec<String>)>,
    /// Nothing was unhealthy at detection: the run only looked.
    quiet: bool,
    initial: Option<Health>,
    latest: Option<Health>,
    metrics_summary: Option<String>,
    severity: String,
    incident_id: Option<String>,
    log_summary: Option<String>,
    log_data_path: Option<String>,
    script_attempts: u32,
    script_error: Option<String>,
    script_output: Option<Value>,
    hypotheses: Vec<Hypothesis>,
    /// The analysis said it does not know (its conclusion is `unknown`).
    unknown: bool,
    /// What the analysis checked, in words, for an unknown cause.
    checked: Vec<String>,
    /// The change events the analysis reported in the incident's window, as it gave them.
    changes: Vec<Value>,
    /// When each sick service left its normal range, as the analysis found it: (service,
    /// RFC 3339 time).
    onsets: Vec<(String, String)>,
    rca_done: bool,
    attempts: Vec<Attempt>,
    rechecks: u32,
    recheck_wait: bool,
    pending_approval: Option<String>,
    /// Seconds waited so far for approvals.
    approval_waited: f64,
    postmortem: Option<String>,
    notified: bool,
    /// Unhealthy at detection and still, outside what the acted-on diagnosis explains.
    left_unhealthy: Vec<String>,
}

/// The deterministic planner. See the module docs.
#[derive(Debug, Default)]
pub struct Planner {
    config: PlannerConfig,
    state: State,
}

impl Planner {
    /// A planner with `config`.
    pub fn new(config: PlannerConfig) -> Self {
        Self {
            config,
            state: State::default(),
        }
    }
}

impl Brain for Planner {
    fn name(&self) -> String {
        "planner".into()
    }

    fn next<'a>(
        &'a mut self,
        input: BrainInput<'a>,
        on_text: TextSink<'a>,
    ) -> BoxFuture<'a, Result<Turn, AgentError>> {
        Box::pin(async move {
            let turns_used = input
                .history
                .iter()
                .filter(|m| m.role == Role::Assistant)
                .count() as u32;
            if self.state.phase.is_none() {
                self.state.report = first_text(input.history);
            }
            self.absorb(input.history);
            let (text, calls) = self.plan(input.tools, turns_used + 1);
            if self.state.recheck_wait && calls.iter().any(|c| matches!(c, Block::ToolUse { .. })) {
                // The action may still be taking effect: give it a moment before looking again.
                self.state.recheck_wait = false;
                tokio::time::sleep(self.config.recheck_delay).await;
            }
            if !text.is_empty() {
                on_text(&text);
            }
            let mut content = Vec::new();
            if !text.is_empty() {
                content.push(Block::Text { text });
            }
            let stop_reason = if calls.is_empty() {
                StopReason::EndTurn
            } else {
                StopReason::ToolUse
            };
            content.extend(calls);
            Ok(Turn {
                content,
                stop_reason,
                usage: Usage::default(),
            })
        })
    }
}

/// The user's prompt (the incident report).
fn first_text(history: &[opsmcp_agent::providers::Message]) -> String {
    history
        .first()
        .map(|m| {
            m.content
                .iter()
                .filter_map(|b| match b {
                    Block::Text { text } => Some(text.as_str()),
                    _ => None,
                })
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

/// The offered name of MCP tool `tool`, on whichever server offers it.
fn offered(tools: &[ToolDef], tool: &str) -> Option<String> {
    let suffix = format!("__{tool}");
    tools
        .iter()
        .find(|t| t.name == tool || t.name.ends_with(&suffix))
        .map(|t| t.name.clone())
}

/// A tool result as JSON: its structured content, else its text when that is JSON, else the
/// leading fields of JSON text cut to the result budget (what a model API is sent carries no
/// structured content, and a long result arrives cut).
fn result_json(content: &str, structured: &Option<Value>) -> Option<Value> {
    structured
        .clone()
        .or_else(|| serde_json::from_str(content.trim()).ok())
        .or_else(|| read::leading_fields(content))
}

/// At most `max` characters, cut between words when there is a space in the second half.
fn cut_words(text: &str, max: usize) -> String {
    let text = text.trim();
    if text.chars().count() <= max {
        return text.to_string();
    }
    let head: String = text.chars().take(max.saturating_sub(1)).collect();
    let kept = match head.rfind(char::is_whitespace) {
        Some(i) if i > head.len() / 2 => &head[..i],
        _ => head.as_str(),
    };
    format!("{}…", kept.trim_end_matches([' ', ',', ';', ':']))
}

fn cut(text: &str, max: usize) -> String {
    let text = text.trim();
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut s: String = text.chars().take(max.saturating_sub(1)).collect();
    s.push('…');
    s
}

impl Planner {
    fn phase(&self) -> Phase {
        self.state.phase.unwrap_or(Phase::Detect)
    }

    /// Reads the results of the calls made last turn.
    fn absorb(&mut self, history: &[opsmcp_agent::providers::Message]) {
        let Some(last) = history.last().filter(|m| m.role == Role::User) else {
            return;
        };
        for block in &last.content {
            let Block::ToolResult {
                tool_use_id,
                content,
                is_error,
                structured,
            } = block
            else {
                continue;
            };
            let Some(purpose) = self.state.pending.remove(tool_use_id) else {
                continue;
            };
            let value = result_json(content, structured);
            let error = is_error.then(|| cut(content, TOOL_ERROR_CHARS));
            self.read_result(purpose, value, error);
        }
    }

    /// Reads one result by what its call was for.
    fn read_result(&mut self, purpose: Purpose, value: Option<Value>, error: Option<String>) {
        let max_rechecks = self.config.max_rechecks;
        let st = &mut self.state;
        let v = value.unwrap_or(Value::Null);
        match purpose {
            Purpose::InitialHealth => match error {
                Some(e) => st.notes.push(format!("verify_health failed: {e}")),
                None => st.initial = Health::read(&v),
            },
            Purpose::Health => read_health(st, &v, error, max_rechecks),
            Purpose::Metrics => match error {
                Some(e) => st.notes.push(format!("get_system_metrics failed: {e}")),
                None => {
                    st.metrics_summary =
                        find_str(&v, &["summary"]).map(|s| cut(s, METRICS_SUMMARY_CHARS));
                }
            },
            Purpose::OpenIncidents => {
                if error.is_none() {
                    st.open_incidents = open_incidents(&v);
                }
            }
            Purpose::CreateIncident => match error {
                Some(e) => st.notes.push(format!("create_incident failed: {e}")),
                None => read_incident(st, &v),
            },
            Purpose::AnalyzeLogs => match error {
                Some(e) => st.notes.push(format!("analyze_logs failed: {e}")),
                None => st.log_summary = log_summary(&v),
            },
            Purpose::RawLogs => match error {
                Some(e) => st.notes.push(format!("get_raw_logs failed: {e}")),
                None => {
                    st.log_data_path =
                        find_str(&v, &["log_data_path", "data_path", "path"]).map(str::to_string);
                }
            },
            Purpose::Script => read_script(st, &v, error),
            Purpose::Rca => {
                st.rca_done = true;
                match error {
                    Some(e) => st.notes.push(format!("root_cause_analysis failed: {e}")),
                    None => read_rca(st, &v),
                }
            }
            Purpose::Remediation => read_remediation(st, &v, error),
            Purpose::Approval => read_approval(st, &v, error),
            Purpose::Document => match error {
                Some(e) => st.notes.push(format!("document_resolution failed: {e}")),
                None => {
                    st.postmortem =
                        find_str(&v, &["path", "postmortem_path", "file"]).map(str::to_string)
                }
            },
            Purpose::Escalate => {
                if let Some(e) = error {
                    st.notes.push(format!("update_incident failed: {e}"));
                }
            }
            Purpose::Notify => match error {
                Some(e) => st.notes.push(format!("notify_team failed: {e}")),
                None => st.notified = true,
            },
        }
    }

    /// The next turn: its text and tool calls (none when done). Phases that cannot act (a tool
    /// not offered, nothing to try) move on within the same turn.
    fn plan(&mut self, tools: &[ToolDef], turn: u32) -> (String, Vec<Block>) {
        let mut out = TurnPlan {
            turn,
            says: std::mem::take(&mut self.state.notes),
            calls: Vec::new(),
        };
        let late = turn + RESERVED_TURNS > self.config.turn_budget;
        loop {
            let step = match self.phase() {
                Phase::Detect => self.detect(tools, &mut out),
                Phase::Open => self.open(tools, &mut out),
                Phase::Investigate => self.investigate(tools, &mut out),
                Phase::Analyze => self.analyze(tools, &mut out),
                Phase::RootCause => self.root_cause(tools, &mut out),
                Phase::Remediate => self.remediate(tools, late, &mut out),
                Phase::AwaitApproval => self.await_approval(tools, late, &mut out),
                Phase::Verify => self.verify(tools, late, &mut out),
                Phase::Document if fix(&self.state).is_none() => self.escalate(tools, &mut out),
                Phase::Document => self.document(tools, &mut out),
                Phase::Notify => self.notify(tools, &mut out),
                Phase::Done => {
                    out.say(summary(&self.state));
                    Step::EndTurn
                }
            };
            if step == Step::EndTurn {
                break;
            }
        }
        (out.says.join("\n"), out.calls)
    }

    /// Health and metrics: what is unhealthy, and how badly.
    fn detect(&mut self, tools: &[ToolDef], out: &mut TurnPlan) -> Step {
        let st = &mut self.state;
        st.phase = Some(Phase::Open);
        let health = offered(tools, "verify_health");
        let metrics = offered(tools, "get_system_metrics");
        if health.is_none() {
            out.say(skip("verify_health", "health is unknown"));
        }
        if metrics.is_none() {
            out.say(skip("get_system_metrics", "no metrics"));
        }
        if health.is_none() && metrics.is_none() {
            return Step::Next;
        }
        out.say("Detect: checking the health of every service and the metrics.");
        if let Some(t) = health {
            out.call(st, t, json!({}), Purpose::InitialHealth);
        }
        if let Some(t) = metrics {
            out.call(st, t, json!({}), Purpose::Metrics);
        }
        // An episode already being worked is joined, not opened again.
        if let Some(t) = offered(tools, "list_incidents") {
            out.call(st, t, json!({"limit": 50}), Purpose::OpenIncidents);
        }
        Step::EndTurn
    }

    /// Opens the incident: title, severity and services from the health at detection.
    fn open(&mut self, tools: &[ToolDef], out: &mut TurnPlan) -> Step {
        let st = &mut self.state;
        st.phase = Some(Phase::Investigate);
        let (mut title, severity, services) = describe(st.initial.as_ref());
        st.severity = severity.clone();
        let mut services = services;
        if st.initial.is_some() && services.is_empty() {
            // Asking is not an incident: nothing is opened or sent until something is sick.
            // The services the report names are looked at first, read-only.
            let named = named_services(st);
            let rca = offered(tools, "root_cause_analysis");
            match (&rca, st.rca_done) {
                (Some(t), false) if !named.is_empty() => {
                    out.say(format!(
                        "Every check passes now; looking at {} read-only before opening anything.",
                        named.join(", ")
                    ));
                    st.phase = Some(Phase::Open);
                    out.call(
                        st,
                        t.clone(),
                        json!({ "symptoms": cut(&st.report, 500) }),
                        Purpose::Rca,
                    );
                    return Step::EndTurn;
                }
                _ => {}
            }
            match st.hypotheses.first().filter(|h| h.likely() && !st.unknown) {
                Some(h) => {
                    // The history shows what the checks of this moment do not.
                    out.say(format!(
                        "Every check passes now, but the history shows {}: opening an incident.",
                        h.headline()
                    ));
                    services = named;
                    if let Some(c) = &h.component
                        && !services.contains(c)
                    {
                        services.insert(0, c.clone());
                    }
                    title = cut(&format!("{}: {}", services.join(", "), h.headline()), 140);
                    st.rca_done = false;
                    st.hypotheses.clear();
                }
                None => {
                    st.quiet = true;
                    st.phase = Some(Phase::Done);
                    let mut said = "Nothing is unhealthy or degraded: no incident opened, nobody \
                                    notified."
                        .to_string();
                    if st.rca_done {
                        said.push_str(&format!(" {}.", not_established(st)));
                    } else {
                        said.push_str(
                            " Name a service or a symptom to look closer, or run again when a \
                             check fails.",
                        );
                    }
                    out.say(said);
                    return Step::Next;
                }
            }
        }
        // The machine itself is where everything runs: its trouble is context in the
        // description, not a service of the incident, unless it is all that is sick — so a CPU
        // spike from other work neither splits the episode nor holds verification back.
        if services.iter().any(|s| s != "host") {
            services.retain(|s| s != "host");
        }
        let own: Vec<&String> = services.iter().filter(|s| s.as_str() != "host").collect();
        if let Some((id, shared)) = st.open_incidents.iter().find_map(|(id, theirs)| {
            let shared: Vec<&str> = own
                .iter()
                .filter(|s| theirs.contains(s))
                .map(|s| s.as_str())
                .collect();
            (!shared.is_empty()).then(|| (id.clone(), shared.join(", ")))
        }) {
            out.say(format!(
                "Joining {id}: it is still open for the same services ({shared}); one episode is \
                 one incident."
            ));
            st.incident_id = Some(id);
            return Step::Next;
        }
        let Some(t) = offered(tools, "create_incident") else {
            out.say(skip("create_incident", "working without an incident id"));
            return Step::Next;
        };
        let description = incident_description(st);
        out.say(format!("Open: {title} ({severity})."));
        let dedup_key = dedup_key(&services);
        out.call(
            st,
            t,
            json!({
                "title": title,
                "severity": severity,
                "description": description.trim(),
                "services": services,
                "dedup_key": dedup_key,
            }),
            Purpose::CreateIncident,
        );
        Step::EndTurn
    }

    /// The incident's log patterns and its raw logs (for the script).
    fn investigate(&mut self, tools: &[ToolDef], out: &mut TurnPlan) -> Step {
        let st = &mut self.state;
        st.phase = Some(Phase::Analyze);
        let args = incident_args(st);
        let analyze = offered(tools, "analyze_logs");
        let raw = offered(tools, "get_raw_logs");
        if analyze.is_none() {
            out.say(skip("analyze_logs", "no log summary"));
        }
        if raw.is_none() {
            out.say(skip("get_raw_logs", "no raw logs to analyze"));
        }
        if analyze.is_none() && raw.is_none() {
            return Step::Next;
        }
        out.say("Investigate: the incident's log patterns and its raw logs.");
        if let Some(t) = analyze {
            out.call(st, t, args.clone(), Purpose::AnalyzeLogs);
        }
        if let Some(t) = raw {
            out.call(st, t, args, Purpose::RawLogs);
        }
        Step::EndTurn
    }

    /// Runs the planner's own analysis script on the raw logs; stays in this phase for one
    /// retry with the other path convention when the first attempt is refused.
    fn analyze(&mut self, tools: &[ToolDef], out: &mut TurnPlan) -> Step {
        let st = &mut self.state;
        if st.script_attempts == 0
            && let Some(summary) = &st.log_summary
        {
            out.say(format!("Log patterns: {summary}."));
        }
        let Some(data) = st.log_data_path.clone() else {
            st.phase = Some(Phase::RootCause);
            return Step::Next;
        };
        let Some(t) = offered(tools, "execute_analysis_script") else {
            st.phase = Some(Phase::RootCause);
            out.say(skip("execute_analysis_script", "no script analysis"));
            return Step::Next;
        };
        let ran = st.script_attempts > 0 && st.script_error.is_none();
        if ran || st.script_attempts >= SCRIPT_ATTEMPTS {
            if let Some(e) = &st.script_error {
                out.say(format!("The analysis script did not run: {e}"));
            }
            st.phase = Some(Phase::RootCause);
            return Step::Next;
        }
        st.script_attempts += 1;
        let retry = st.script_attempts > 1;
        let script_path = script_path(
            &data,
            st.incident_id.as_deref().unwrap_or("incident"),
            retry,
        );
        out.say(format!(
            "Analyze: running {script_path} on {data} (error counts per service, top error messages)."
        ));
        out.call(
            st,
            t,
            json!({
                "script_path": script_path,
                "log_data_path": data,
                "code": ANALYSIS_SCRIPT,
            }),
            Purpose::Script,
        );
        Step::EndTurn
    }

    /// Says what the script found, then asks for ranked hypotheses.
    fn root_cause(&mut self, tools: &[ToolDef], out: &mut TurnPlan) -> Step {
        let st = &mut self.state;
        if let Some(found) = &st.script_output {
            out.say(format!(
                "Log analysis: {}",
                script_findings(found).join("; ")
            ));
        }
        st.phase = Some(Phase::Remediate);
        let Some(t) = offered(tools, "root_cause_analysis") else {
            out.say(skip(
                "root_cause_analysis",
                "no hypotheses, so no remediation to choose",
            ));
            return Step::Next;
        };
        out.say("Root cause: asking for ranked hypotheses.");
        let mut args = incident_args(st);
        // The services the report names are the symptoms to explain, beside the incident's.
        if !st.report.trim().is_empty() {
            args["symptoms"] = json!(cut(&st.report, 500));
        }
        out.call(st, t, args, Purpose::Rca);
        Step::EndTurn
    }

    /// Runs the best action not tried yet, or moves on to documenting when there is none, the
    /// budget is used up or nothing can run it.
    fn remediate(&mut self, tools: &[ToolDef], late: bool, out: &mut TurnPlan) -> Step {
        report_progress(&self.state, out);
        let st = &self.state;
        let (next, held) = next_action(&st.hypotheses, &st.attempts, st.unknown);
        if st.attempts.is_empty() {
            out.says.extend(held);
        }
        let Some((hypothesis, action)) = next else {
            if let Some(why) = nothing_to_try(st) {
                out.say(why);
            }
            self.state.phase = Some(Phase::Document);
            return Step::Next;
        };
        let (t, incident) = match self.remediation_tool(tools, late, &action) {
            Ok(found) => found,
            Err(why) => {
                out.say(why);
                self.state.phase = Some(Phase::Document);
                return Step::Next;
            }
        };
        let st = &mut self.state;
        let h = &st.hypotheses[hypothesis];
        out.say(format!(
            "Remediate: {} for {}.",
            action.label(),
            h.headline()
        ));
        let mut args = remediation_args(&incident, &action, h);
        // Where the diagnosis says the action heals, when the tool can be told: a sick
        // service outside it (a backlog of its own) does not roll back a right fix.
        let takes_heals = tools
            .iter()
            .find(|d| d.name == t)
            .is_some_and(|d| d.input_schema["properties"].get("heals").is_some());
        let heals = heals(h, &action);
        if takes_heals && !heals.is_empty() {
            args["heals"] = json!(heals);
        }
        st.attempts.push(Attempt {
            heals,
            action,
            hypothesis,
            result: None,
            error: None,
            recovered: false,
        });
        st.phase = Some(Phase::Verify);
        out.call(st, t, args, Purpose::Remediation);
        Step::EndTurn
    }

    /// The remediation tool and the incident to run `action` under, or why it cannot run.
    fn remediation_tool(
        &self,
        tools: &[ToolDef],
        late: bool,
        action: &ActionRef,
    ) -> Result<(String, String), String> {
        if late || self.state.attempts.len() >= self.config.max_remediations {
            return Err(format!(
                "Not trying {}: the remediation budget is used up.",
                action.label()
            ));
        }
        let Some(t) = offered(tools, "execute_remediation") else {
            return Err(skip(
                "execute_remediation",
                "nothing can be fixed from here",
            ));
        };
        let Some(incident) = self.state.incident_id.clone() else {
            return Err(format!(
                "Not running {}: execute_remediation needs an incident, and none was opened.",
                action.label()
            ));
        };
        Ok((t, incident))
    }

    /// An action is held for approval: wait for a human (as long as configured, in calls short
    /// enough for any connection), else document it as awaiting approval.
    fn await_approval(&mut self, tools: &[ToolDef], late: bool, out: &mut TurnPlan) -> Step {
        let remaining = self.config.approval_wait.as_secs_f64() - self.state.approval_waited;
        let st = &mut self.state;
        let held = st.attempts.last().map(|a| a.action.clone());
        let (Some(t), Some(incident), Some(action)) = (
            offered(tools, "await_approval"),
            st.incident_id.clone(),
            held,
        ) else {
            st.phase = Some(Phase::Document);
            return Step::Next;
        };
        if late || remaining < 1.0 {
            st.phase = Some(Phase::Document);
            return Step::Next;
        }
        let how = st
            .attempts
            .last()
            .and_then(|a| a.result.as_ref()?.approve_with.as_deref())
            .map(|a| format!("; approve with `{a}`"))
            .unwrap_or_default();
        out.say(format!(
            "Waiting for a human to approve {} (up to {:.0} s more){how}.",
            action.label(),
            remaining
        ));
        let wait_s = remaining.min(60.0).floor() as u64;
        out.call(
            st,
            t,
            json!({ "incident_id": incident, "action": action.label(), "wait_s": wait_s }),
            Purpose::Approval,
        );
        Step::EndTurn
    }

    /// Checks health after a remediation (again, while it may still be taking effect).
    fn verify(&mut self, tools: &[ToolDef], late: bool, out: &mut TurnPlan) -> Step {
        let st = &mut self.state;
        let Some(t) = offered(tools, "verify_health") else {
            return trust_the_workflow(st, out);
        };
        if late {
            out.say("Out of turns for further checks.");
            st.phase = Some(Phase::Document);
            return Step::Next;
        }
        out.say(if st.rechecks == 0 {
            "Verify: is everything that was sick healthy again?".to_string()
        } else {
            format!(
                "Not recovered yet; checking again (re-check {} of {}).",
                st.rechecks, self.config.max_rechecks
            )
        });
        out.call(st, t, json!({}), Purpose::Health);
        Step::EndTurn
    }

    /// Not fixed: document_resolution would resolve the incident, so the findings go on its
    /// timeline instead and it stays open for a human.
    fn escalate(&mut self, tools: &[ToolDef], out: &mut TurnPlan) -> Step {
        let st = &mut self.state;
        st.phase = Some(Phase::Notify);
        let Some(incident) = st.incident_id.clone() else {
            return Step::Next;
        };
        let Some(t) = offered(tools, "update_incident") else {
            out.say(skip("update_incident", "the findings are only in this run"));
            return Step::Next;
        };
        let doc = documentation(st);
        out.say("Not resolved: noting the findings on the incident, which stays open.");
        let mut note = format!(
            "{} Root cause: {}.",
            doc.resolution,
            doc.root_cause.trim_end_matches('.')
        );
        if !doc.evidence.is_empty() {
            note.push_str(&format!(" Evidence: {}", doc.evidence.join("; ")));
        }
        out.call(
            st,
            t,
            json!({ "incident_id": incident, "note": cut(&note, NOTE_CHARS) }),
            Purpose::Escalate,
        );
        Step::EndTurn
    }

    /// Fixed: the postmortem with root cause, resolution and evidence (this resolves it).
    fn document(&mut self, tools: &[ToolDef], out: &mut TurnPlan) -> Step {
        let st = &mut self.state;
        st.phase = Some(Phase::Notify);
        let Some(t) = offered(tools, "document_resolution") else {
            out.say(skip("document_resolution", "no postmortem written"));
            return Step::Next;
        };
        let Some(incident) = st.incident_id.clone() else {
            out.say("Not documenting: no incident was opened.");
            return Step::Next;
        };
        out.say("Document: root cause, resolution and evidence.");
        let doc = documentation(st);
        let mut args = json!({
            "incident_id": incident,
            "root_cause": doc.root_cause,
            "resolution": doc.resolution,
            "impact": impact(st),
            "evidence": doc.evidence,
            "action_items": doc.action_items,
            "ruled_out": ruled_out(st),
            "contributing_changes": contributing_changes(st),
            "key_signals": key_signals(st),
        });
        if let Some(onset) = onset(st) {
            args["onset"] = json!(onset);
        }
        out.call(st, t, args, Purpose::Document);
        Step::EndTurn
    }

    /// Tells the team the outcome.
    fn notify(&mut self, tools: &[ToolDef], out: &mut TurnPlan) -> Step {
        let st = &mut self.state;
        st.phase = Some(Phase::Done);
        let Some(t) = offered(tools, "notify_team") else {
            out.say(skip("notify_team", "the team was not notified"));
            return Step::Next;
        };
        let mut args = json!({ "message": notification(st) });
        if let Some(id) = &st.incident_id {
            args["incident_id"] = json!(id);
        }
        if !st.severity.is_empty() {
            args["severity"] = json!(st.severity);
        }
        out.say("Notify: telling the team.");
        out.call(st, t, args, Purpose::Notify);
        Step::EndTurn
    }
}

/// What a phase's step did to the turn being planned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// The phase moved on without a call: plan the next phase in this same turn.
    Next,
    /// The turn is complete: calls were made, or the run is over.
    EndTurn,
}

/// The turn being planned: what the planner says and the calls it makes.
struct TurnPlan {
    turn: u32,
    says: Vec<String>,
    calls: Vec<Block>,
}

impl TurnPlan {
    fn say(&mut self, text: impl Into<String>) {
        self.says.push(text.into());
    }

    /// Calls `name`, remembering what for so its result is read the right way.
    fn call(&mut self, st: &mut State, name: String, input: Value, purpose: Purpose) {
        let id = format!("planner-{}-{}", self.turn, st.pending.len() + 1);
        st.pending.insert(id.clone(), purpose);
        self.calls.push(Block::ToolUse { id, name, input });
    }
}

/// The incident's description: the report, the health at detection and the metrics.
fn incident_description(st: &State) -> String {
    let mut description = String::new();
    if !st.report.trim().is_empty() {
        description.push_str(&format!("Reported: {}\n\n", cut(&st.report, REPORT_CHARS)));
    }
    if let Some(h) = &st.initial {
        description.push_str(&format!("Health at detection: {}", h.summary));
    }
    if let Some(m) = &st.metrics_summary {
        description.push_str(&format!("\nMetrics: {m}"));
    }
    description
}

/// Services of the health report whose names the report (the user's prompt) mentions.
fn named_services(st: &State) -> Vec<String> {
    let report = st.report.to_lowercase();
    let Some(h) = st.initial.as_ref() else {
        return Vec::new();
    };
    h.services
        .iter()
        .map(|s| s.service.clone())
        .filter(|name| name != "host" && mentions(&report, &name.to_lowercase()))
        .collect()
}

/// Whether `text` names `name` as a word (`imgproc`, not `imgprocessor`).
fn mentions(text: &str, name: &str) -> bool {
    let word = |c: char| c.is_alphanumeric() || c == '-' || c == '_';
    text.match_indices(name).any(|(i, m)| {
        let before = text[..i].chars().next_back();
        let after = text[i + m.len()..].chars().next();
        !before.is_some_and(word) && !after.is_some_and(word)
    })
}

/// Incidents not yet resolved, closed or cancelled, with their services, from
/// `list_incidents`.
fn open_incidents(v: &Value) -> Vec<(String, Vec<String>)> {
    let Some(list) = v.get("incidents").and_then(Value::as_array) else {
        return Vec::new();
    };
    list.iter()
        .filter(|i| {
            !matches!(
                i.get("status").and_then(Value::as_str),
                Some("resolved" | "closed" | "cancelled")
            )
        })
        .filter_map(|i| {
            let id = i.get("id").and_then(Value::as_str)?.to_string();
            let services = i
                .get("services")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            Some((id, services))
        })
        .collect()
}

/// The same sick services give the same key, so a second run joins the open incident.
fn dedup_key(services: &[String]) -> String {
    format!(
        "planner:{}",
        if services.is_empty() {
            "reported".to_string()
        } else {
            services.join("+")
        }
    )
}

/// On entering the remediation phase: the hypotheses (first time), and why the last attempt
/// did not fix it (afterwards).
fn report_progress(st: &State, out: &mut TurnPlan) {
    if st.rca_done && st.attempts.is_empty() {
        if st.hypotheses.is_empty() {
            out.say("The root cause analysis gave no hypotheses.");
        } else {
            let list: Vec<String> = st
                .hypotheses
                .iter()
                .take(HYPOTHESES_SHOWN)
                .map(|h| match h.confidence {
                    Some(c) => format!("{} ({c:.2})", h.headline()),
                    None => h.headline(),
                })
                .collect();
            out.say(format!("Hypotheses: {}.", list.join(", ")));
        }
    }
    if let Some(last) = st.attempts.last()
        && let Some(why) = attempt_failure(last)
    {
        out.say(match last.not_run() {
            Some(why) => format!("{} was not run: {why}.", last.action.label()),
            None => format!("{} did not fix it: {why}.", last.action.label()),
        });
    }
}

/// Why there is no action to run, when there is something to say about it.
fn nothing_to_try(st: &State) -> Option<String> {
    if st.unknown && st.attempts.is_empty() {
        Some(
            "The cause is not established (no hypothesis is likely enough): running nothing, handing over with what was checked."
                .into(),
        )
    } else if !st.hypotheses.is_empty() {
        Some("No further suggested action to try.".into())
    } else {
        None
    }
}

/// execute_remediation's arguments: the action, an idempotency key, and a `reason` (the
/// diagnosis and its evidence) that an approval request shows.
fn remediation_args(incident: &str, action: &ActionRef, h: &Hypothesis) -> Value {
    let mut args = json!({
        "incident_id": incident,
        "action": action.name,
        "idempotency_key": format!("{incident}:{}", action.label()),
    });
    if let Some(target) = &action.target {
        args["target"] = json!(target);
    }
    if action.risky && !action.gated {
        args["ask_approval"] = json!(true);
    }
    args["reason"] = json!(cut(
        &format!(
            "{}{}; {}evidence: {}",
            h.headline(),
            h.confidence
                .map(|c| format!(" (confidence {c:.2})"))
                .unwrap_or_default(),
            action
                .about
                .as_ref()
                .map(|a| format!("the action: {a}; "))
                .unwrap_or_default(),
            h.evidence
                .iter()
                .take(REASON_EVIDENCE)
                .cloned()
                .collect::<Vec<_>>()
                .join("; ")
        ),
        REASON_CHARS
    ));
    args
}

/// Without a health check, trust the workflow's own verification of the last remediation.
fn trust_the_workflow(st: &mut State, out: &mut TurnPlan) -> Step {
    let trusted = st.attempts.last_mut().is_some_and(|a| {
        a.recovered = a
            .result
            .as_ref()
            .is_some_and(|r| r.recovered == Some(true) || r.status == "succeeded");
        a.recovered
    });
    out.say(skip(
        "verify_health",
        "relying on the remediation's own verification",
    ));
    st.phase = Some(if trusted {
        Phase::Document
    } else {
        Phase::Remediate
    });
    Step::Next
}

/// A health check after a remediation decides what is next: document when health is back,
/// look again while the action may still be taking effect, else try the next action.
fn read_health(st: &mut State, v: &Value, error: Option<String>, max_rechecks: u32) {
    if let Some(e) = &error {
        st.notes.push(format!("verify_health failed: {e}"));
    }
    let health = error.is_none().then(|| Health::read(v)).flatten();
    st.latest = health.clone();
    let claims = st
        .attempts
        .last()
        .map(|a| a.heals.clone())
        .unwrap_or_default();
    let recovered = health
        .as_ref()
        .is_some_and(|h| recovered(st.initial.as_ref(), h, &claims));
    st.left_unhealthy = match (&health, recovered) {
        (Some(h), true) => h
            .with_status("unhealthy")
            .iter()
            .map(|s| s.service.clone())
            .collect(),
        _ => Vec::new(),
    };
    if let Some(a) = st.attempts.last_mut() {
        a.recovered = recovered;
    }
    // When the workflow already watched health recover, one disagreeing look is
    // checked once more; otherwise the action may still be taking effect.
    let workflow_saw_recovery = st
        .attempts
        .last()
        .and_then(|a| a.result.as_ref())
        .is_some_and(|r| r.recovered == Some(true) || r.status == "succeeded");
    let allowed = if workflow_saw_recovery {
        max_rechecks.min(1)
    } else {
        max_rechecks
    };
    // The component acted on answering again but not yet itself (degraded): a fix that takes
    // minutes is still taking effect, so it is looked at once more before it is called done.
    let component = st
        .attempts
        .last()
        .and_then(|a| st.hypotheses[a.hypothesis].component.clone());
    let settling = recovered
        && health.as_ref().is_some_and(|h| {
            h.services
                .iter()
                .any(|s| Some(&s.service) == component.as_ref() && s.status == "degraded")
        });
    st.phase = Some(if recovered && !(settling && st.rechecks < allowed) {
        Phase::Document
    } else if st.rechecks < allowed {
        st.rechecks += 1;
        st.recheck_wait = true;
        Phase::Verify
    } else {
        Phase::Remediate
    });
}

/// The incident's id, and a note when it was already open.
fn read_incident(st: &mut State, v: &Value) {
    st.incident_id = v
        .pointer("/incident/id")
        .and_then(Value::as_str)
        .or_else(|| find_str(v, &["incident_id", "id"]))
        .map(str::to_string);
    if v.get("deduplicated").and_then(Value::as_bool) == Some(true) {
        st.notes.push(format!(
            "the incident was already open ({}); working on it",
            st.incident_id.as_deref().unwrap_or("?")
        ));
    }
}

/// One line of what the log analysis found: its summary, else the error rates that rose,
/// else its first finding.
fn log_summary(v: &Value) -> Option<String> {
    find_str(v, &["summary", "headline"])
        .map(|s| cut(s, LOG_SUMMARY_CHARS))
        .or_else(|| error_rates(v))
        .or_else(|| {
            read::find(v, &["anomalies", "findings", "patterns"])
                .and_then(Value::as_array)
                .and_then(|a| a.first())
                .map(|f| cut(&line(f), LOG_SUMMARY_CHARS))
        })
}

/// The script's JSON output, or why it did not give one.
fn read_script(st: &mut State, v: &Value, error: Option<String>) {
    if let Some(e) = error {
        if let Some(why) = e.strip_prefix(NOT_RUN) {
            // Refused or not offered: another path would be asked for again, to the same no.
            st.script_attempts = SCRIPT_ATTEMPTS;
            st.script_error = Some(why.to_string());
        } else {
            st.script_error = Some(e);
        }
        return;
    }
    let exit = v.get("exit_code").and_then(Value::as_i64);
    let stdout = v.get("stdout").and_then(Value::as_str).unwrap_or("");
    match (exit, serde_json::from_str::<Value>(stdout.trim())) {
        (Some(0) | None, Ok(out)) if out.is_object() => {
            st.script_output = Some(out);
            st.script_error = None;
        }
        _ => {
            let stderr = v.get("stderr").and_then(Value::as_str).unwrap_or("");
            st.script_error = Some(format!(
                "exit {}: {}",
                exit.map_or("?".to_string(), |c| c.to_string()),
                cut(stderr, SCRIPT_STDERR_CHARS)
            ));
        }
    }
}

/// The ranked hypotheses, whether the analysis said it does not know, and what it checked.
fn read_rca(st: &mut State, v: &Value) {
    st.hypotheses = Hypothesis::read_all(v);
    let conclusion = v.get("conclusion");
    st.unknown = conclusion
        .and_then(|c| c.get("root_cause"))
        .and_then(Value::as_str)
        == Some("unknown")
        || (!st.hypotheses.is_empty() && st.hypotheses.iter().all(|h| !h.likely()));
    st.checked = conclusion
        .and_then(|c| c.get("checked"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    st.changes = v
        .get("events")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    st.onsets = v
        .get("sick_services")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| {
            Some((
                s.get("service")?.as_str()?.to_string(),
                s.get("onset")?.as_str()?.to_string(),
            ))
        })
        .collect();
}

/// A remediation's answer decides what is next: document when it awaits approval, try the
/// next action when it failed or did not hold, else verify.
fn read_remediation(st: &mut State, v: &Value, error: Option<String>) {
    st.rechecks = 0;
    let Some(attempt) = st.attempts.last_mut() else {
        return;
    };
    if let Some(e) = error {
        attempt.error = Some(e);
        st.phase = Some(Phase::Remediate);
        return;
    }
    let result = RemediationResult::read(v);
    st.phase = Some(if result.pending_approval() {
        st.pending_approval = Some(
            result
                .approve_with
                .clone()
                .unwrap_or_else(|| "an operator's approval".into()),
        );
        Phase::AwaitApproval
    } else if result.did_not_hold() {
        Phase::Remediate
    } else {
        Phase::Verify
    });
    attempt.result = Some(result);
}

/// The wait for an approval: approved runs the held action again (it runs now), still pending
/// waits again while the budget lasts, anything else documents it as awaiting approval.
fn read_approval(st: &mut State, v: &Value, error: Option<String>) {
    if let Some(e) = error {
        st.notes.push(format!("await_approval failed: {e}"));
        st.phase = Some(Phase::Document);
        return;
    }
    match find_str(v, &["status"]) {
        Some("approved") => {
            let by = find_str(v, &["approved_by"]).unwrap_or("a human");
            if let Some(held) = st.attempts.pop() {
                st.notes.push(format!(
                    "{} was approved by {by}: running it.",
                    held.action.label()
                ));
            }
            st.pending_approval = None;
            st.phase = Some(Phase::Remediate);
        }
        Some("pending") => {
            st.approval_waited += v
                .get("waited_s")
                .and_then(Value::as_f64)
                .unwrap_or(1.0)
                .max(1.0);
            st.phase = Some(Phase::AwaitApproval);
        }
        _ => st.phase = Some(Phase::Document),
    }
}

fn skip(tool: &str, consequence: &str) -> String {
    format!("Skipping {tool}: no connected server offers it ({consequence}).")
}

/// Arguments naming the incident, when there is one.
fn incident_args(st: &State) -> Value {
    match &st.incident_id {
        Some(id) => json!({ "incident_id": id }),
        None => json!({}),
    }
}

/// Title, severity and services of the incident, from the health at detection.
fn describe(health: Option<&Health>) -> (String, String, Vec<String>) {
    let Some(h) = health else {
        return (
            "Reported incident (health unknown)".into(),
            "SEV3".into(),
            Vec::new(),
        );
    };
    let unhealthy = h.with_status("unhealthy").len();
    let degraded = h.services.len() - h.with_status("healthy").len() - unhealthy;
    // How bad: several services down is a major outage; one down is high; only degraded
    // ones are a warning.
    let severity = match (unhealthy, degraded) {
        (3.., _) => "SEV1",
        (1.., _) => "SEV2",
        (0, 1..) => "SEV3",
        _ if h.status == "unhealthy" => "SEV2",
        _ if h.status == "degraded" => "SEV3",
        _ => "SEV4",
    }
    .to_string();
    let sick = h.sick();
    let services: Vec<String> = sick.iter().map(|s| s.service.clone()).collect();
    let title = match sick.first() {
        None => "Reported incident: no failing health check".to_string(),
        Some(first) => {
            let names = if services.len() > 3 {
                format!(
                    "{} and {} more",
                    services[..3].join(", "),
                    services.len() - 3
                )
            } else {
                services.join(", ")
            };
            let worst = if unhealthy > 0 {
                "unhealthy"
            } else {
                "degraded"
            };
            match first.problems.first() {
                Some(p) => cut(&format!("{names} {worst}: {} {p}", first.service), 140),
                None => format!("{names} {worst}"),
            }
        }
    };
    (title, severity, services)
}

/// The services an action on a hypothesis heals: its component and where its trouble
/// reaches — or, for an action that routes the callers around the component, only the
/// callers it reaches (the component is left as it is, for a human to repair).
fn heals(h: &Hypothesis, action: &ActionRef) -> Vec<String> {
    let callers: Vec<String> = h
        .reaches
        .iter()
        .filter(|r| Some(*r) != h.component.as_ref())
        .cloned()
        .collect();
    if action.routes_around && !callers.is_empty() {
        return callers;
    }
    h.component.iter().cloned().chain(callers).collect()
}

/// Health is back: the services that were unhealthy at detection (or, when none was, those
/// degraded) are healthy, and nothing is unhealthy now. When the diagnosis acted on
/// (`claims`: its component and where its trouble reaches) covers some of those, it is judged
/// on what it covers: a service outside it, unhealthy at detection or only since (a host
/// busy with other work, a backlog of its own), is another story — it need not heal, and is
/// reported as left unhealthy. A service that answers again, its other troubles of detection
/// gone and only held-over checks left out of range ([`held_over`]), is well.
fn recovered(initial: Option<&Health>, now: &Health, claims: &[String]) -> bool {
    let was_unhealthy: Vec<&str> = initial
        .map(|h| {
            h.with_status("unhealthy")
                .iter()
                .map(|s| s.service.as_str())
                .collect()
        })
        .unwrap_or_default();
    let claimed_sick = was_unhealthy.iter().any(|s| claims.iter().any(|c| c == s));
    let another_story = |name: &str| claimed_sick && !claims.iter().any(|c| c == name);
    let only_held_over_left = |s: &ServiceVerdict| {
        initial
            .and_then(|h| h.services.iter().find(|b| b.service == s.service))
            .is_some_and(|b| held_over(b, s))
    };
    let well = |s: &ServiceVerdict| s.status == "healthy" || only_held_over_left(s);
    if now
        .services
        .iter()
        .any(|s| s.status == "unhealthy" && !another_story(&s.service) && !only_held_over_left(s))
        || (now.status == "unhealthy" && (!claimed_sick || now.services.is_empty()))
    {
        return false;
    }
    let focus: Vec<&str> = match initial {
        Some(h) => {
            let unhealthy = h.with_status("unhealthy");
            let set = if unhealthy.is_empty() {
                h.sick()
            } else {
                unhealthy
            };
            set.iter()
                .map(|s| s.service.as_str())
                .filter(|s| !another_story(s))
                .collect()
        }
        None => Vec::new(),
    };
    if focus.is_empty() {
        return now.status == "healthy";
    }
    focus.iter().all(|name| {
        now.services
            .iter()
            .find(|s| s.service == *name)
            .map_or(now.status == "healthy", well)
    })
}

/// Whether what is still out of range on a service (`now`) is only held over from detection
/// (`before`), while something else of then healed: work queued while it could not work (a
/// backlog drains at its consumers' pace after the fix), or a standing warning of its own,
/// out of range at detection and no worse now, of a kind its callers do not feel (a
/// certificate's days left) — older than the action, which neither caused nor was meant to
/// heal it.
fn held_over(before: &ServiceVerdict, now: &ServiceVerdict) -> bool {
    let rank = |status: &str| match status {
        "unhealthy" => 2,
        "degraded" => 1,
        _ => 0,
    };
    let same = |a: &FailingCheck, b: &FailingCheck| a.name.is_some() && a.name == b.name;
    let held = |c: &FailingCheck| {
        c.backlog
            || (c.status == "degraded"
                && !c.felt
                && before
                    .failing
                    .iter()
                    .any(|b| same(b, c) && rank(&b.status) >= rank(&c.status)))
    };
    let healed_other = before
        .failing
        .iter()
        .any(|b| !b.backlog && !now.failing.iter().any(|c| same(b, c)));
    !now.failing.is_empty() && healed_other && now.failing.iter().all(held)
}

/// Where the script goes: beside the log data, in the same convention (relative to
/// `analytics/`, or with the `analytics/` prefix when the data path has it); `other` flips the
/// convention, for the retry.
fn script_path(log_data_path: &str, incident: &str, other: bool) -> String {
    let prefixed = log_data_path.starts_with("analytics/");
    let name: String = incident
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let rel = format!("scripts/planner-{name}-errors.py");
    if prefixed != other {
        format!("analytics/{rel}")
    } else {
        rel
    }
}

/// The script's findings as short lines.
fn script_findings(out: &Value) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(map) = out.get("errors_by_service").and_then(Value::as_object) {
        let mut counts: Vec<(&String, f64)> = map
            .iter()
            .filter_map(|(k, v)| number(v).map(|n| (k, n)))
            .collect();
        counts.sort_by(|a, b| b.1.total_cmp(&a.1));
        if !counts.is_empty() {
            let parts: Vec<String> = counts
                .iter()
                .take(4)
                .map(|(s, n)| format!("{s} {n}"))
                .collect();
            lines.push(format!(
                "errors per service in {} entries: {}",
                out.get("entries").map_or("?".into(), |e| e.to_string()),
                parts.join(", ")
            ));
        }
    }
    if let Some(top) = out.get("top_errors").and_then(Value::as_array) {
        for e in top.iter().take(3) {
            lines.push(format!(
                "top error ({}x) {}: {}",
                e.get("count").map_or("?".into(), |c| c.to_string()),
                e.get("service").and_then(Value::as_str).unwrap_or("?"),
                cut(e.get("message").and_then(Value::as_str).unwrap_or(""), 160)
            ));
        }
    }
    if lines.is_empty() {
        lines.push("no errors found in the raw logs".into());
    }
    lines
}

/// The services whose error rate rose most over the window before, from an analyze_logs
/// result listing `services: [{service, error_rate, baseline_error_rate}]`.
fn error_rates(v: &Value) -> Option<String> {
    let services = v.get("services")?.as_array()?;
    let mut rates: Vec<(String, f64, Option<f64>)> = services
        .iter()
        .filter_map(|s| {
            let name = read::str_at(s, &["service", "name"])?.to_string();
            let rate = s.get("error_rate").and_then(number)?;
            let before = s.get("baseline_error_rate").and_then(number);
            Some((name, rate, before))
        })
        .filter(|(_, rate, before)| *rate > before.unwrap_or(0.0))
        .collect();
    rates.sort_by(|a, b| (b.1 - b.2.unwrap_or(0.0)).total_cmp(&(a.1 - a.2.unwrap_or(0.0))));
    let parts: Vec<String> = rates
        .iter()
        .take(3)
        .map(|(name, rate, before)| match before {
            Some(b) => format!("{name} error rate {rate:.3} (before: {b:.3})"),
            None => format!("{name} error rate {rate:.3}"),
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// Why an attempt did not fix it, if it did not.
fn attempt_failure(a: &Attempt) -> Option<String> {
    if a.recovered {
        return None;
    }
    if let Some(why) = a.not_run() {
        return Some(format!("it was not run ({why})"));
    }
    if let Some(e) = &a.error {
        return Some(format!("the call failed ({e})"));
    }
    match &a.result {
        None => None,
        Some(r) if r.pending_approval() => None,
        Some(r) if r.did_not_hold() => Some(format!(
            "the remediation came back {}",
            if r.status.is_empty() {
                "without recovery"
            } else {
                &r.status
            }
        )),
        Some(_) => Some("health did not recover".into()),
    }
}

/// The best action not tried yet, in hypothesis order, among hypotheses likely enough to act
/// on. An action held for approval is asked for on a likely one: a human decides, shown its
/// risk, the evidence, the confidence and the undo. A `high`-risk action is never run
/// unattended — operators mark the actions that can hurt (a rollback past a migration, a
/// failover) as high-risk — and is asked for only on a strong hypothesis: nobody is asked to
/// take a risk on a diagnosis that is merely likely. The actions passed over for risk come
/// back as the second value, to be said.
fn next_action(
    hypotheses: &[Hypothesis],
    tried: &[Attempt],
    unknown: bool,
) -> (Option<(usize, ActionRef)>, Vec<String>) {
    let mut held = Vec::new();
    if unknown {
        return (None, held);
    }
    for (i, h) in hypotheses.iter().enumerate().filter(|(_, h)| h.likely()) {
        for a in h
            .actions
            .iter()
            .filter(|a| !tried.iter().any(|t| t.action.label() == a.label()))
        {
            if a.risky && !a.gated && !h.strong() {
                held.push(format!(
                    "Not asking for {}: it is high-risk, and {} is not certain enough ({})",
                    a.label(),
                    h.headline(),
                    h.confidence.map_or("?".into(), |c| format!("{c:.2}"))
                ));
                continue;
            }
            return (Some((i, a.clone())), held);
        }
    }
    (None, held)
}

struct Documentation {
    root_cause: String,
    resolution: String,
    evidence: Vec<String>,
    action_items: Vec<String>,
}

/// The attempt that fixed it, if any.
fn fix(st: &State) -> Option<&Attempt> {
    st.attempts.iter().find(|a| a.recovered)
}

/// The component the fix moved its callers off and left unhealthy, if it did.
fn routed_around(st: &State) -> Option<&String> {
    let a = fix(st).filter(|a| a.action.routes_around)?;
    let component = st.hypotheses[a.hypothesis].component.as_ref()?;
    st.left_unhealthy.contains(component).then_some(component)
}

/// The hypothesis the run stands by: the one whose action fixed it, else the top one when it
/// is likely enough; `None` when the cause is not established.
///
/// A fix from a lower hypothesis on another component does not overwrite a top diagnosis the
/// evidence still supports: an action on a caller can relieve symptoms without touching the
/// cause, so the top hypothesis stays the diagnosis and the fix is reported as what helped.
fn conclusion(st: &State) -> Option<&Hypothesis> {
    let top = st.hypotheses.first().filter(|h| h.likely() && !st.unknown);
    match fix(st) {
        Some(a) => {
            let fixed_by = st.hypotheses.get(a.hypothesis);
            match (top, fixed_by) {
                (Some(t), Some(f)) if t.component != f.component && t.strong() => Some(t),
                (_, f) => f.or(top),
            }
        }
        None => top,
    }
}

/// What the run says of a cause it did not establish: what was checked, and the best guess
/// with its confidence.
fn not_established(st: &State) -> String {
    let mut out = "Unknown: the cause is not established".to_string();
    match st.hypotheses.first() {
        Some(h) => out.push_str(&format!(
            " (the best hypothesis, {}, is at {} — below what is needed to act)",
            h.headline(),
            h.confidence.map_or("?".into(), |c| format!("{c:.2}"))
        )),
        None => out.push_str(" (the root cause analysis gave no hypothesis)"),
    }
    if !st.checked.is_empty() {
        out.push_str(&format!(". Checked: {}", st.checked.join("; ")));
    }
    out
}

/// The hypothesis in one phrase: its summary when that already names the cause and the
/// component (so the cause is not said twice), else `TYPE in COMPONENT: summary`.
fn explained(h: &Hypothesis) -> String {
    let summary = h
        .summary
        .as_deref()
        .map(|s| s.trim().trim_end_matches('.'))
        .filter(|s| !s.is_empty() && *s != h.root_cause);
    match summary {
        Some(s)
            if s.contains(&h.root_cause)
                && h.component.as_deref().is_none_or(|c| s.contains(c)) =>
        {
            s.to_string()
        }
        Some(s) => format!("{}: {s}", h.headline()),
        None => h.headline(),
    }
}

/// The hypotheses the run did not stand by, each with why: the analysis's evidence against
/// it, a fix of its own that did not restore health, or — when neither — that it was ranked
/// lower and not tested. Nothing is said to be disproved that was not.
fn ruled_out(st: &State) -> Vec<Value> {
    let chosen = conclusion(st);
    let fixed = fix(st).is_some();
    st.hypotheses
        .iter()
        .enumerate()
        .filter(|(_, h)| chosen.is_none_or(|c| c.headline() != h.headline()))
        .take(RULED_OUT_SHOWN)
        .map(|(i, h)| {
            let confidence = h
                .confidence
                .map(|c| format!("confidence {c:.2}"))
                .unwrap_or_else(|| "no confidence given".into());
            let tried: Vec<String> = st
                .attempts
                .iter()
                .filter(|a| a.hypothesis == i && !a.recovered)
                .map(|a| match (a.not_run(), attempt_failure(a)) {
                    (Some(_), _) => format!("{} was not run", a.action.label()),
                    (None, Some(why)) => {
                        format!("{} was tried and did not fix it ({why})", a.action.label())
                    }
                    (None, None) => format!("{} was tried and did not fix it", a.action.label()),
                })
                .collect();
            let reason = if !h.evidence_against.is_empty() {
                cut_words(
                    &format!(
                        "{confidence}; evidence against: {}",
                        h.evidence_against.join("; ")
                    ),
                    RULED_OUT_CHARS,
                )
            } else if !tried.is_empty() {
                format!("{confidence}; {}", tried.join("; "))
            } else if !h.likely() {
                format!("{confidence}, below the {CONFIDENCE_FLOOR:.1} needed to act on it")
            } else if fixed {
                format!(
                    "{confidence}, ranked below the cause; not disproved — no evidence against \
                     it was found, and it was not tested because the fix for the cause restored \
                     health"
                )
            } else {
                format!("{confidence}; not tested")
            };
            json!({ "hypothesis": h.headline(), "reason": reason })
        })
        .collect()
}

/// When the incident began: the onset of the concluded component — an unrelated service
/// that wandered earlier is not this incident's start — else the earliest of the incident's
/// own services, else the earliest of all. The analysis writes UTC RFC 3339, so the leading
/// date-time compares as text.
fn onset(st: &State) -> Option<String> {
    let earliest = |among: &dyn Fn(&str) -> bool| {
        st.onsets
            .iter()
            .filter(|(s, _)| among(s))
            .map(|(_, t)| t)
            .min_by_key(|t| t.get(..19).unwrap_or(t).to_string())
            .cloned()
    };
    let component = conclusion(st).and_then(|h| h.component.clone());
    component
        .and_then(|c| earliest(&|s| s == c))
        .or_else(|| {
            let own: Vec<&str> = st
                .initial
                .as_ref()
                .map(|h| h.sick().iter().map(|v| v.service.as_str()).collect())
                .unwrap_or_default();
            earliest(&|s| own.contains(&s))
        })
        .or_else(|| earliest(&|_| true))
}

/// The change events the analysis returned, as `{at, service, detail}`.
fn contributing_changes(st: &State) -> Vec<Value> {
    st.changes
        .iter()
        .filter_map(|e| {
            let detail = find_str(e, &["detail", "description", "summary"])?;
            let mut c = json!({ "detail": detail });
            if let Some(at) = find_str(e, &["at", "time", "timestamp"]) {
                c["at"] = json!(at);
            }
            if let Some(s) = find_str(e, &["service", "component"]) {
                c["service"] = json!(s);
            }
            Some(c)
        })
        .take(CHANGES_SHOWN)
        .collect()
}

/// The signals the concluded hypothesis's metric evidence names, decisive first.
fn key_signals(st: &State) -> Vec<Value> {
    conclusion(st)
        .map(|h| {
            h.signals
                .iter()
                .take(2)
                .map(|(service, signal)| json!({ "service": service, "signal": signal }))
                .collect()
        })
        .unwrap_or_default()
}

fn documentation(st: &State) -> Documentation {
    let fixed = fix(st);
    let root_cause = match (conclusion(st), fixed) {
        (Some(h), Some(_)) => explained(h),
        (Some(h), None) => format!("Suspected, not confirmed by a fix: {}", explained(h)),
        (None, _) => not_established(st),
    };
    let root_cause = cut_words(&root_cause, ITEM_CHARS);
    let mut resolution = Vec::new();
    for a in &st.attempts {
        let status = a
            .result
            .as_ref()
            .map(|r| {
                if r.status.is_empty() {
                    r.outcome.clone()
                } else {
                    r.status.clone()
                }
            })
            .unwrap_or_else(|| "failed".into());
        resolution.push(match (a.recovered, attempt_failure(a)) {
            (true, _) if a.action.routes_around => format!(
                "{} ({status}); verify_health confirmed its callers recovered",
                a.action.label()
            ),
            (true, _) => format!(
                "{} ({status}); verify_health confirmed recovery",
                a.action.label()
            ),
            (false, Some(why)) => format!("{}: {why}", a.action.label()),
            (false, None) => format!("{} ({status})", a.action.label()),
        });
    }
    if let Some(approve) = &st.pending_approval {
        resolution.push(format!("awaiting approval: {approve}"));
    }
    let resolution = if resolution.is_empty() {
        "No remediation was run; escalated to the on-call team.".to_string()
    } else if fixed.is_some() {
        format!("Resolved. {}.", resolution.join("; "))
    } else {
        format!("Not resolved yet. {}.", resolution.join("; "))
    };

    let mut evidence = Vec::new();
    if let Some(h) = conclusion(st) {
        evidence.extend(h.evidence.iter().take(6).map(|e| cut_words(e, 300)));
    }
    if let Some(out) = &st.script_output {
        evidence.extend(
            script_findings(out)
                .into_iter()
                .map(|l| format!("log analysis script: {l}")),
        );
    }
    if let Some(s) = &st.log_summary {
        evidence.push(format!("analyze_logs: {s}"));
    }
    // Health at detection is the impact and health afterwards the verification: each has
    // its own section, so neither is repeated here.

    let mut action_items = Vec::new();
    if let Some(h) = conclusion(st) {
        let component = h.component.as_deref().unwrap_or("the affected service");
        // The signals the analysis names on the component are what an alert should watch.
        let watched: Vec<&str> = h
            .signals
            .iter()
            .filter(|(s, _)| s == component)
            .map(|(_, signal)| signal.as_str())
            .take(2)
            .collect();
        let onset = onset(st);
        action_items.push(match (watched.as_slice(), onset.as_deref()) {
            ([], _) => format!(
                "Alert on the early signs of {} in {component} before customers notice",
                h.root_cause
            ),
            (signals, Some(at)) => format!(
                "Alert on {component}'s {} leaving {} normal range ({} did at {} UTC)",
                signals.join(" and "),
                if signals.len() > 1 { "their" } else { "its" },
                if signals.len() > 1 { "they" } else { "it" },
                at.get(11..16).unwrap_or(at)
            ),
            (signals, None) => format!(
                "Alert on {component}'s {} leaving {} normal range",
                signals.join(" and "),
                if signals.len() > 1 { "their" } else { "its" },
            ),
        });
        let routed = routed_around(st);
        if let Some(component) = routed {
            action_items.push(format!(
                "Repair {component} itself: the fix moved its callers off it, and it is still \
                 unhealthy"
            ));
        }
        let others: Vec<&String> = st
            .left_unhealthy
            .iter()
            .filter(|s| Some(*s) != routed)
            .collect();
        if !others.is_empty() {
            action_items.push(format!(
                "Look at {}: still unhealthy after the fix, not explained by {}",
                others
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                h.headline()
            ));
        }
        // Only a change before the onset on a service involved can have started it.
        let involved: Vec<&str> = st
            .initial
            .as_ref()
            .map(|h| h.sick().iter().map(|v| v.service.as_str()).collect())
            .unwrap_or_default();
        let linked: Vec<Value> = contributing_changes(st)
            .into_iter()
            .filter(|c| {
                let service = c.get("service").and_then(Value::as_str);
                let at = c.get("at").and_then(Value::as_str);
                service.is_none_or(|s| s == component || involved.contains(&s))
                    && match (at, &onset) {
                        (Some(at), Some(o)) => at.get(..19) <= o.get(..19),
                        _ => true,
                    }
            })
            .collect();
        if linked.is_empty() {
            action_items.push(format!(
                "Review {component}'s limits and recent changes (deploys, config, jobs)"
            ));
        } else {
            let listed: Vec<String> = linked
                .iter()
                .filter_map(|c| {
                    let detail = c.get("detail").and_then(Value::as_str)?;
                    Some(match c.get("service").and_then(Value::as_str) {
                        Some(s) => format!("{detail} on {s}"),
                        None => detail.to_string(),
                    })
                })
                .collect();
            action_items.push(format!(
                "Review the changes made just before the onset and whether each should stay: {}",
                listed.join("; ")
            ));
        }
    }
    if let Some(a) = fixed {
        action_items.push(format!(
            "Keep {} in the runbook for this symptom",
            a.action.label()
        ));
    }
    for a in st.attempts.iter().filter(|a| !a.recovered) {
        action_items.push(format!(
            "{} did not help here: revisit when the runbook suggests it",
            a.action.label()
        ));
    }
    Documentation {
        root_cause,
        resolution,
        evidence,
        action_items,
    }
}

/// Who was affected, from the health at detection: one line per sick service with every
/// failing check, whole.
/// Each service unhealthy at detection with its problems, a line each, as many as fit in
/// [`ITEM_CHARS`]; the others by name.
fn impact(st: &State) -> String {
    let lines: Vec<String> = match &st.initial {
        Some(h) if !h.sick().is_empty() => h
            .sick()
            .iter()
            .map(|s| {
                let own = format!("{}: ", s.service);
                let problems: Vec<&str> = s
                    .problems
                    .iter()
                    .map(|p| p.strip_prefix(&own).unwrap_or(p))
                    .collect();
                if problems.is_empty() {
                    format!("{} {} at detection", s.service, s.status)
                } else {
                    format!(
                        "{} {} at detection: {}",
                        s.service,
                        s.status,
                        problems.join("; ")
                    )
                }
            })
            .collect(),
        _ => return "No failing health check at detection.".into(),
    };
    let mut out = String::new();
    let mut shown = 0;
    for line in &lines {
        if !out.is_empty() && out.len() + line.len() > ITEM_CHARS {
            break;
        }
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&cut_words(line, ITEM_CHARS / 2));
        shown += 1;
    }
    if shown < lines.len() {
        let rest: Vec<&str> = lines[shown..]
            .iter()
            .filter_map(|l| l.split(' ').next())
            .collect();
        out.push_str(&format!(
            "\n{} more unhealthy at detection: {}",
            rest.len(),
            cut_words(&rest.join(", "), ITEM_CHARS / 4)
        ));
    }
    out
}

fn outcome_word(st: &State) -> &'static str {
    if fix(st).is_some() {
        "resolved"
    } else if st.pending_approval.is_some() {
        "awaiting approval"
    } else if conclusion(st).is_none() && st.attempts.is_empty() {
        "investigating, cause not yet known — needs a human"
    } else {
        "NOT resolved, needs a human"
    }
}

fn notification(st: &State) -> String {
    let id = st.incident_id.as_deref().unwrap_or("Incident");
    let cause = match conclusion(st) {
        Some(h) => h.headline(),
        None => not_established(st),
    };
    let mut msg = format!("{id} {}: {cause}.", outcome_word(st));
    if let Some(a) = fix(st) {
        msg.push_str(&format!(" Fixed by {}; health verified.", a.action.label()));
    } else if let Some(approve) = &st.pending_approval {
        msg.push_str(&format!(" Approve with: {approve}."));
    }
    if fix(st).is_some() && !st.left_unhealthy.is_empty() {
        msg.push_str(&format!(
            " Still unhealthy, not explained by this cause: {} — needs a look.",
            st.left_unhealthy.join(", ")
        ));
    }
    if let Some(p) = &st.postmortem {
        msg.push_str(&format!(" Postmortem: {p}"));
    }
    msg
}

fn summary(st: &State) -> String {
    if st.quiet {
        return "Summary: every check passed — nothing to work on.".to_string();
    }
    let mut out = vec![format!(
        "Summary: {} — {}.",
        st.incident_id
            .as_deref()
            .unwrap_or("incident without an id"),
        outcome_word(st)
    )];
    match conclusion(st) {
        Some(h) => out.push(format!(
            "Root cause: {} (component {}{}).",
            h.root_cause,
            h.component.as_deref().unwrap_or("unknown"),
            h.confidence
                .map(|c| format!(", confidence {c:.2}"))
                .unwrap_or_default()
        )),
        None => out.push("Root cause: unknown.".into()),
    }
    for a in &st.attempts {
        out.push(match (a.recovered, attempt_failure(a)) {
            (true, _) if a.action.routes_around => {
                format!("Remediation: {} — its callers recovered.", a.action.label())
            }
            (true, _) => format!("Remediation: {} — health recovered.", a.action.label()),
            (false, Some(why)) => match a.not_run() {
                Some(refused) => format!("Did not run {}: {refused}.", a.action.label()),
                None => format!("Tried {}: {why}.", a.action.label()),
            },
            (false, None) if a.result.as_ref().is_some_and(|r| r.pending_approval()) => {
                format!("Asked approval for {}: not run.", a.action.label())
            }
            (false, None) => format!("Tried {}.", a.action.label()),
        });
    }
    if st.attempts.is_empty() {
        out.push("Remediation: none run.".into());
    }
    let routed = routed_around(st);
    if let Some(component) = routed {
        out.push(format!(
            "Still unhealthy: {component}, which the fix moved its callers off — it needs a \
             repair by a human."
        ));
    }
    let others: Vec<&str> = st
        .left_unhealthy
        .iter()
        .filter(|s| Some(*s) != routed)
        .map(String::as_str)
        .collect();
    if st.attempts.iter().any(|a| a.recovered) && !others.is_empty() {
        out.push(format!(
            "Still unhealthy, outside what the cause explains: {} — needs a human.",
            others.join(", ")
        ));
    }
    if let Some(p) = &st.postmortem {
        out.push(format!("Postmortem: {p}."));
    }
    out.push(if st.notified {
        "The team was notified.".into()
    } else {
        "The team was not notified.".into()
    });
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn health(v: Value) -> Health {
        Health::read(&v).unwrap()
    }

    fn hypothesis(confidence: f64, actions: Vec<ActionRef>) -> Hypothesis {
        Hypothesis {
            root_cause: "bad-deploy".into(),
            component: Some("api".into()),
            confidence: Some(confidence),
            summary: None,
            evidence: Vec::new(),
            evidence_against: Vec::new(),
            signals: Vec::new(),
            actions,
            reaches: Vec::new(),
        }
    }

    fn action(name: &str, risky: bool, gated: bool) -> ActionRef {
        ActionRef {
            name: name.into(),
            target: Some("api".into()),
            risky,
            gated,
            about: None,
            routes_around: false,
        }
    }

    /// An action that routes the callers around a slow component is judged on the callers;
    /// one that repairs it, on the component and the callers.
    #[test]
    fn a_route_around_heals_the_callers_and_a_repair_the_component_too() {
        let mut h = hypothesis(0.8, Vec::new());
        h.reaches = vec!["api".into(), "web".into(), "mobile".into()];
        let repair = action("restart-api", false, false);
        assert_eq!(heals(&h, &repair), ["api", "web", "mobile"]);
        let failover = ActionRef {
            routes_around: true,
            ..action("failover-api", false, false)
        };
        assert_eq!(heals(&h, &failover), ["web", "mobile"]);
        // Nobody calls it: there is nothing to route around, so the component is judged.
        h.reaches.clear();
        assert_eq!(heals(&h, &failover), ["api"]);
    }

    /// A suspected cause whose summary already names it is said once, and the incident note
    /// ends each sentence once.
    #[test]
    fn a_suspected_cause_is_said_once() {
        let mut h = hypothesis(0.8, Vec::new());
        h.summary = Some("bad-deploy on api, felt by its callers (api → web).".into());
        let st = State {
            hypotheses: vec![h],
            ..State::default()
        };
        assert_eq!(
            documentation(&st).root_cause,
            "Suspected, not confirmed by a fix: bad-deploy on api, felt by its callers (api → web)"
        );
    }

    #[test]
    fn a_high_risk_action_is_asked_for_never_run_unattended() {
        let pick = |confidence: f64, a: ActionRef| {
            next_action(&[hypothesis(confidence, vec![a])], &[], false)
                .0
                .map(|(_, a)| a.name)
        };
        let asks = |a: ActionRef| {
            let h = hypothesis(0.9, vec![a.clone()]);
            remediation_args("INC-0001", &a, &h)
                .get("ask_approval")
                .and_then(Value::as_bool)
                .unwrap_or(false)
        };
        let (strong, likely, weak) = (0.9, 0.6, 0.3);
        // An ordinary or approval-held action on a likely hypothesis; nothing on a weak one.
        for gated in [false, true] {
            assert_eq!(
                pick(likely, action("restart", false, gated)).as_deref(),
                Some("restart")
            );
            assert_eq!(pick(weak, action("restart", false, gated)), None);
        }
        assert!(!asks(action("restart", false, false)));
        // High risk and held for approval anyway: the server holds it; asked on a likely one.
        assert_eq!(
            pick(likely, action("failover", true, true)).as_deref(),
            Some("failover")
        );
        assert!(!asks(action("failover", true, true)));
        // High risk, not held: asked for — never run — and only on a strong hypothesis.
        assert_eq!(pick(likely, action("failover", true, false)), None);
        assert_eq!(
            pick(strong, action("failover", true, false)).as_deref(),
            Some("failover")
        );
        assert!(asks(action("failover", true, false)));
        let (_, held) = next_action(
            &[hypothesis(likely, vec![action("failover", true, false)])],
            &[],
            false,
        );
        assert!(held[0].contains("high-risk"), "{held:?}");
    }

    #[test]
    fn severity_and_title_follow_the_health() {
        let h = health(json!({"status": "unhealthy", "services": [
            {"service": "api", "status": "unhealthy",
             "checks": [{"status": "unhealthy", "message": "error_rate 60x baseline"}]},
            {"service": "db", "status": "degraded", "checks": []},
            {"service": "web", "status": "healthy", "checks": []}]}));
        let (title, sev, services) = describe(Some(&h));
        assert_eq!(sev, "SEV2");
        assert_eq!(services, ["api", "db"]);
        assert_eq!(title, "api, db unhealthy: api error_rate 60x baseline");
        let (_, sev, _) = describe(Some(&health(json!({"status": "degraded", "services": [
            {"service": "db", "status": "degraded"}]}))));
        assert_eq!(sev, "SEV3");
    }

    #[test]
    fn a_service_is_named_as_a_word() {
        assert!(mentions("imgproc keeps dying", "imgproc"));
        assert!(mentions("is shop-web down?", "shop-web"));
        assert!(!mentions("imgprocessor keeps dying", "imgproc"));
        assert!(!mentions("the shop-web-v2 canary", "shop-web"));
        assert!(!mentions("web is slow", "shop-web"));
    }

    #[test]
    fn recovery_is_judged_on_what_was_unhealthy() {
        let before = health(json!({"status": "unhealthy", "services": [
            {"service": "api", "status": "unhealthy"},
            {"service": "search", "status": "degraded"}]}));
        let after = health(json!({"status": "degraded", "services": [
            {"service": "api", "status": "healthy"},
            {"service": "search", "status": "degraded"}]}));
        assert!(
            recovered(Some(&before), &after, &[]),
            "a degraded bystander does not count"
        );
        let worse = health(json!({"status": "unhealthy", "services": [
            {"service": "api", "status": "healthy"},
            {"service": "db", "status": "unhealthy"}]}));
        assert!(
            !recovered(Some(&before), &worse, &[]),
            "without a diagnosis, what was well and broke counts"
        );
        assert!(
            !recovered(Some(&before), &worse, &["api".into(), "db".into()]),
            "what was well and broke on the diagnosis's path counts"
        );
        assert!(
            recovered(Some(&before), &worse, &["api".into()]),
            "what broke since, outside the diagnosis (a host busy with other work), is another \
             story: reported, not a failed fix"
        );
    }

    #[test]
    fn a_sick_service_outside_the_diagnosis_is_another_story() {
        let before = health(json!({"status": "unhealthy", "services": [
            {"service": "api", "status": "unhealthy"},
            {"service": "queue", "status": "unhealthy"}]}));
        let after = health(json!({"status": "unhealthy", "services": [
            {"service": "api", "status": "healthy"},
            {"service": "queue", "status": "unhealthy"}]}));
        assert!(!recovered(Some(&before), &after, &[]));
        assert!(recovered(
            Some(&before),
            &after,
            &["cache".into(), "api".into()]
        ));
        assert!(
            !recovered(Some(&before), &after, &["cache".into()]),
            "a claim of nothing that was sick credits nothing"
        );
    }

    #[test]
    fn a_worker_that_answers_again_with_only_its_queue_left_has_recovered() {
        let before = health(json!({"status": "unhealthy", "services": [
            {"service": "store", "status": "unhealthy", "checks": [
                {"status": "unhealthy", "message": "error rate 0.3"}]},
            {"service": "worker", "status": "unhealthy", "checks": [
                {"status": "unhealthy", "message": "error rate 0.2"},
                {"status": "unhealthy", "message": "queue depth 9000", "backlog": true}]}]}));
        let after = health(json!({"status": "unhealthy", "services": [
            {"service": "store", "status": "healthy", "checks": [
                {"status": "healthy", "message": "error rate 0.001"}]},
            {"service": "worker", "status": "unhealthy", "checks": [
                {"status": "healthy", "message": "error rate 0.001"},
                {"status": "unhealthy", "message": "queue depth 8500", "backlog": true}]}]}));
        assert!(recovered(
            Some(&before),
            &after,
            &["store".into(), "worker".into()]
        ));
        // Its errors still there: not recovered.
        let failing = health(json!({"status": "unhealthy", "services": [
            {"service": "store", "status": "healthy"},
            {"service": "worker", "status": "unhealthy", "checks": [
                {"status": "unhealthy", "message": "error rate 0.2"},
                {"status": "unhealthy", "message": "queue depth 8500", "backlog": true}]}]}));
        assert!(!recovered(
            Some(&before),
            &failing,
            &["store".into(), "worker".into()]
        ));
        // A queue that was all that was wrong, still full: nothing healed.
        let stalled = health(json!({"status": "unhealthy", "services": [
            {"service": "worker", "status": "unhealthy", "checks": [
                {"status": "unhealthy", "message": "consumer lag 9000", "backlog": true}]}]}));
        assert!(!recovered(Some(&stalled), &stalled, &["worker".into()]));
    }

    #[test]
    fn a_standing_warning_older_than_the_fix_does_not_count_against_it() {
        let before = health(json!({"status": "unhealthy", "services": [
            {"service": "engine", "status": "unhealthy", "checks": [
                {"name": "error rate", "status": "unhealthy", "message": "error rate 0.2", "felt": true}]},
            {"service": "partner-edge", "status": "unhealthy", "checks": [
                {"name": "error rate", "status": "unhealthy", "message": "error rate 0.07", "felt": true},
                {"name": "certificate days left", "status": "degraded", "message": "6 days left"}]}]}));
        let after = health(json!({"status": "degraded", "services": [
            {"service": "engine", "status": "healthy"},
            {"service": "partner-edge", "status": "degraded", "checks": [
                {"name": "error rate", "status": "healthy", "message": "error rate 0.002", "felt": true},
                {"name": "certificate days left", "status": "degraded", "message": "6 days left"}]}]}));
        let claims = ["engine".to_string(), "partner-edge".to_string()];
        assert!(recovered(Some(&before), &after, &claims));
        // What callers feel, still out of range since detection: not recovered.
        let slow_before = health(json!({"status": "unhealthy", "services": [
            {"service": "engine", "status": "unhealthy"},
            {"service": "partner-edge", "status": "unhealthy", "checks": [
                {"name": "error rate", "status": "unhealthy", "message": "error rate 0.07", "felt": true},
                {"name": "latency p99 ms", "status": "degraded", "message": "p99 900", "felt": true}]}]}));
        let slow = health(json!({"status": "degraded", "services": [
            {"service": "engine", "status": "healthy"},
            {"service": "partner-edge", "status": "degraded", "checks": [
                {"name": "latency p99 ms", "status": "degraded", "message": "p99 800", "felt": true}]}]}));
        assert!(!recovered(Some(&slow_before), &slow, &claims));
        // A warning new since detection: not held over.
        let new_warning = health(json!({"status": "degraded", "services": [
            {"service": "engine", "status": "healthy"},
            {"service": "partner-edge", "status": "degraded", "checks": [
                {"name": "disk used percent", "status": "degraded", "message": "disk 88%"}]}]}));
        assert!(!recovered(Some(&before), &new_warning, &claims));
    }

    #[test]
    fn script_paths_follow_the_data_convention() {
        assert_eq!(
            script_path("raw/INC-0001.json", "INC-0001", false),
            "scripts/planner-INC-0001-errors.py"
        );
        assert_eq!(
            script_path("analytics/raw/x.json", "INC 1", false),
            "analytics/scripts/planner-INC_1-errors.py"
        );
        assert_eq!(
            script_path("raw/x.json", "INC-1", true),
            "analytics/scripts/planner-INC-1-errors.py"
        );
    }
}
