//! The loop: a [`Brain`] proposes a turn, the [`Toolbox`] runs its tool calls under a
//! [`Permission`] mode, the results go back, until the brain stops or `max_turns` is reached.
//!
//! A brain is anything that, given the system prompt, the history and the tools on offer,
//! returns the next assistant [`Turn`]: [`ProviderBrain`] asks a model through a
//! [`Provider`]; a deterministic planner implements the same trait and reads the tool
//! results (including `structuredContent`, kept in [`Block::ToolResult::structured`]) from the
//! history.
//!
//! Each tool result is shown to the brain truncated to `result_budget_bytes`, with a note that
//! gives the path of the full result on disk; every step is an [`Event`] handed to the caller
//! (the CLI prints them) and a line of the run's JSON-lines transcript.
//!
//! Permission rule (MCP annotations are hints, so the defaults are cautious):
//! - a tool is **read-only** when it declares `readOnlyHint: true`;
//! - a tool is **destructive** unless it is read-only or declares `destructiveHint: false` — a
//!   tool without annotations counts as destructive, as the spec's defaults say.
//!
//! [`Permission::ReadOnly`] offers only read-only tools (so neither destructive nor additive
//! tools such as "create an incident") and refuses calls to any other; [`Permission::Ask`]
//! offers every tool and asks the [`Approver`] before each destructive call;
//! [`Permission::Bypass`] runs everything, as the seed's `bypassPermissions` did.

use std::{io::IsTerminal, path::PathBuf, sync::Arc, time::Duration};

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{
    mcp::{McpError, ToolInfo, Toolbox},
    providers::{
        Block, Message, Provider, ProviderError, Request, Role, StopReason, TextSink, ToolCall,
        ToolDef, Turn, Usage,
    },
    transcript::Transcript,
};

/// What a brain is given for its next turn.
#[derive(Debug, Clone, Copy)]
pub struct BrainInput<'a> {
    /// The system prompt.
    pub system: &'a str,
    /// The conversation so far (the first message is the user's prompt).
    pub history: &'a [Message],
    /// The tools on offer under the permission mode.
    pub tools: &'a [ToolDef],
}

/// Whatever decides the next step: a model, or a deterministic planner.
pub trait Brain: Send {
    /// Name for events and the transcript (`anthropic:claude-…`, `planner`).
    fn name(&self) -> String;
    /// The next assistant turn. Text may be streamed through `on_text` as it is produced.
    fn next<'a>(
        &'a mut self,
        input: BrainInput<'a>,
        on_text: TextSink<'a>,
    ) -> BoxFuture<'a, Result<Turn, AgentError>>;
}

/// A brain that asks a model.
pub struct ProviderBrain {
    provider: Arc<dyn Provider>,
}

impl ProviderBrain {
    /// A brain backed by `provider`.
    pub fn new(provider: Arc<dyn Provider>) -> Self {
        Self { provider }
    }
}

impl Brain for ProviderBrain {
    fn name(&self) -> String {
        format!("{}:{}", self.provider.name(), self.provider.model())
    }

    fn next<'a>(
        &'a mut self,
        input: BrainInput<'a>,
        on_text: TextSink<'a>,
    ) -> BoxFuture<'a, Result<Turn, AgentError>> {
        Box::pin(async move {
            let request = Request {
                system: input.system,
                messages: input.history,
                tools: input.tools,
            };
            Ok(self.provider.complete(request, on_text).await?)
        })
    }
}

/// Which tool calls run without asking. See the module docs for the rule.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Everything runs (the seed's `bypassPermissions`).
    #[default]
    Bypass,
    /// Destructive calls need the approver's yes.
    Ask,
    /// Only read-only tools are offered or run.
    ReadOnly,
}

/// Decides whether a destructive call may run under [`Permission::Ask`].
pub trait Approver: Send + Sync {
    /// `Ok(true)` to run, `Ok(false)` when refused, `Err(why)` when no one can be asked.
    fn approve<'a>(
        &'a self,
        tool: &'a ToolInfo,
        input: &'a Value,
    ) -> BoxFuture<'a, Result<bool, String>>;
}

/// Asks `y/N` on the terminal (stderr for the question, stdin for the answer); refuses when
/// stdin is not a terminal.
#[derive(Debug, Clone, Copy, Default)]
pub struct TerminalApprover;

impl Approver for TerminalApprover {
    fn approve<'a>(
        &'a self,
        tool: &'a ToolInfo,
        input: &'a Value,
    ) -> BoxFuture<'a, Result<bool, String>> {
        Box::pin(async move {
            if !std::io::stdin().is_terminal() {
                return Err(
                    "stdin is not a terminal, so no one can approve it; use permission mode \
                     `bypass` to allow destructive tools, or `read-only` to offer only read-only \
                     ones"
                        .to_string(),
                );
            }
            let question = format!("{}Run it? [y/N] ", question(tool, input));
            tokio::task::spawn_blocking(move || {
                use std::io::Write;
                let mut err = std::io::stderr();
                let _ = write!(err, "{question}");
                let _ = err.flush();
                let mut line = String::new();
                match std::io::stdin().read_line(&mut line) {
                    Ok(_) => Ok(matches!(
                        line.trim().to_ascii_lowercase().as_str(),
                        "y" | "yes"
                    )),
                    Err(e) => Err(format!("cannot read the answer: {e}")),
                }
            })
            .await
            .map_err(|e| e.to_string())?
        })
    }
}

/// How the result of a call that was not run begins (refused by the operator, not offered in
/// read-only mode, no one to ask): a brain can tell "not run" from "ran and failed".
pub const NOT_RUN: &str = "Not run: ";

/// Lines of a multi-line argument (a script) shown in an approval question; the rest is
/// counted, not shown, so a long script does not scroll the question away.
const QUESTION_LINES: usize = 40;
/// Characters of a one-line argument shown in an approval question.
const QUESTION_CHARS: usize = 300;

/// What the operator reads before a destructive call: the tool, its description's first
/// sentence, then each argument on a line of its own — a text of several lines (a script) as
/// its lines, indented, a list as its items — so a decision does not mean reading escaped JSON.
pub fn question(tool: &ToolInfo, input: &Value) -> String {
    let mut q = format!(
        "The agent wants to run `{}` on `{}`",
        tool.tool, tool.server
    );
    let what = tool.description.split(". ").next().unwrap_or("").trim();
    if !what.is_empty() {
        q.push_str(&format!(" ({})", what.trim_end_matches('.')));
    }
    q.push_str(".\n");
    let fields: Vec<(&String, &Value)> = match input {
        Value::Object(map) => map.iter().collect(),
        _ => Vec::new(),
    };
    if fields.is_empty() && !input.is_null() && input != &Value::Object(Default::default()) {
        q.push_str(&format!("  {}\n", clip(&input.to_string())));
    }
    for (key, value) in fields {
        match value {
            Value::String(s) if s.contains('\n') => {
                let lines: Vec<&str> = s.lines().collect();
                q.push_str(&format!("  {key}: ({} lines)\n", lines.len()));
                for line in lines.iter().take(QUESTION_LINES) {
                    q.push_str(&format!("    | {line}\n"));
                }
                if lines.len() > QUESTION_LINES {
                    q.push_str(&format!(
                        "    | … {} more lines\n",
                        lines.len() - QUESTION_LINES
                    ));
                }
            }
            Value::String(s) => {
                q.push_str(&format!("  {key}: {}\n", clip(s)));
            }
            Value::Array(items) if items.iter().all(|i| !i.is_object() && !i.is_array()) => {
                let items: Vec<String> = items
                    .iter()
                    .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string))
                    .collect();
                q.push_str(&format!("  {key}: {}\n", clip(&items.join(", "))));
            }
            other => {
                q.push_str(&format!("  {key}: {}\n", clip(&other.to_string())));
            }
        }
    }
    q
}

/// Why a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// The brain answered without tool calls.
    Stopped,
    /// `max_turns` brain turns were used up.
    MaxTurns,
    /// An MCP server stopped answering (see [`AgentError::ServerLost`]).
    ServerLost,
}

/// One step of a run, for the caller to show and for the transcript.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// The run begins.
    Started {
        /// Who decides.
        brain: String,
        /// The user's prompt.
        prompt: String,
        /// Tools on offer.
        tools: Vec<String>,
        /// Permission mode.
        permission: Permission,
        /// The run directory, when a transcript is written.
        transcript: Option<PathBuf>,
    },
    /// A brain turn begins (1-based).
    TurnStarted {
        /// Turn number.
        turn: u32,
    },
    /// Text as it streams (not written to the transcript; see [`Event::Assistant`]).
    TextDelta {
        /// The piece.
        text: String,
    },
    /// The brain's complete turn.
    Assistant {
        /// Turn number.
        turn: u32,
        /// Text and tool calls.
        content: Vec<Block>,
        /// Why it stopped.
        stop_reason: StopReason,
        /// Tokens.
        usage: Usage,
    },
    /// A tool is about to be called.
    ToolCall {
        /// Turn number.
        turn: u32,
        /// Call id.
        id: String,
        /// Offered name.
        name: String,
        /// Arguments.
        input: Value,
    },
    /// A tool call was not run.
    ToolDenied {
        /// Turn number.
        turn: u32,
        /// Call id.
        id: String,
        /// Offered name.
        name: String,
        /// Why.
        reason: String,
    },
    /// A tool call's result.
    ToolResult {
        /// Turn number.
        turn: u32,
        /// Call id.
        id: String,
        /// Offered name.
        name: String,
        /// The call failed (tool error, timeout, denial).
        is_error: bool,
        /// Size of the full result text.
        bytes: usize,
        /// Whether the brain was shown less than all of it.
        truncated: bool,
        /// Where the full result is, when a transcript is written.
        full_result: Option<PathBuf>,
        /// What the brain was shown.
        shown: String,
        /// How long the call took, from the permission check to its answer.
        #[serde(default)]
        duration_ms: u64,
    },
    /// The run ended.
    Finished {
        /// Why.
        reason: FinishReason,
        /// Brain turns used.
        turns: u32,
        /// Tokens, all turns.
        usage: Usage,
        /// The last turn's text.
        final_text: String,
    },
}

impl Event {
    /// The event as one line of JSON (no newline), exactly as the transcript records it: the
    /// event's fields under its `type`, plus a `ts` timestamp. `--json` output uses the same.
    pub fn json_line(&self) -> String {
        crate::transcript::record(self)
    }
}

/// What a run produced.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// Why it ended.
    pub reason: FinishReason,
    /// Brain turns used.
    pub turns: u32,
    /// The last turn's text.
    pub final_text: String,
    /// Tokens, all turns.
    pub usage: Usage,
    /// The whole conversation.
    pub history: Vec<Message>,
    /// The run directory, when a transcript was written.
    pub transcript: Option<PathBuf>,
}

/// A run that could not go on.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// The model call failed.
    #[error(transparent)]
    Provider(#[from] ProviderError),
    /// A non-model brain failed.
    #[error("{brain}: {message}")]
    Brain {
        /// Brain name.
        brain: String,
        /// What went wrong.
        message: String,
    },
    /// An MCP server the run was using stopped answering (it exited, was killed, or its
    /// connection closed). The run ends there rather than going on without it: the brain
    /// cannot finish the job without those tools, and a run that carried on would report a
    /// lifecycle it did not complete. The transcript up to the failed call is kept.
    #[error("{error}; the run stopped there{}", match transcript {
        Some(dir) => format!(" (transcript: {})", dir.display()),
        None => String::new(),
    })]
    ServerLost {
        /// What failed, naming the server (in the message already, so not a `source`).
        /// Boxed: it is large, and every `Result` of the loop carries this type.
        error: Box<crate::mcp::McpError>,
        /// The run directory, when a transcript was written.
        transcript: Option<PathBuf>,
    },
    /// The transcript could not be written.
    #[error("transcript {path}: {source}")]
    Transcript {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// An agent: a brain, the tools, and the rules of the run.
pub struct Agent {
    /// Decides each turn.
    pub brain: Box<dyn Brain>,
    /// The MCP tools.
    pub toolbox: Arc<Toolbox>,
    /// System prompt.
    pub system_prompt: String,
    /// Brain turns at most (default 20, as in the seed).
    pub max_turns: u32,
    /// Which calls run without asking (default [`Permission::Bypass`]).
    pub permission: Permission,
    /// Each tool call's time limit (default 120 s).
    pub per_call_timeout: Duration,
    /// Bytes of each tool result shown to the brain (default 16 KiB).
    pub result_budget_bytes: usize,
    /// Where run directories go; `None` writes no transcript.
    pub transcript_dir: Option<PathBuf>,
    /// Who approves destructive calls under [`Permission::Ask`] (default the terminal).
    pub approver: Arc<dyn Approver>,
}

/// Hands `event` to the caller and appends it to the transcript.
fn emit(
    on_event: &mut (dyn FnMut(&Event) + Send),
    event: Event,
    transcript: &mut Option<Transcript>,
) -> Result<(), AgentError> {
    on_event(&event);
    if let Some(t) = transcript.as_mut() {
        t.write(&event).map_err(|source| AgentError::Transcript {
            path: t.dir().join("transcript.jsonl"),
            source,
        })?;
    }
    Ok(())
}

/// What the brain is shown of a result `text`: all of it within `budget` bytes, else its head
/// and where the whole is (`full_result`); and whether it was cut.
fn shown(text: &str, budget: usize, full_result: Option<&std::path::Path>) -> (String, bool) {
    let head = truncate(text, budget);
    if head.len() == text.len() {
        return (text.to_string(), false);
    }
    let whereabouts = match full_result {
        Some(p) => format!("the full result is in {}", p.display()),
        None => "the full result was not saved".to_string(),
    };
    (
        format!(
            "{head}\n\n[truncated: {} of {} bytes shown; {whereabouts}]",
            head.len(),
            text.len()
        ),
        true,
    )
}

/// A one-line argument as an approval question shows it: cut, and marked when cut.
fn clip(text: &str) -> String {
    let cut = truncate(text, QUESTION_CHARS);
    if cut.len() < text.len() {
        format!("{cut}…")
    } else {
        cut.to_string()
    }
}

/// Cuts `text` to at most `budget` bytes on a character boundary.
fn truncate(text: &str, budget: usize) -> &str {
    if text.len() <= budget {
        return text;
    }
    let mut end = budget;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

impl Agent {
    /// An agent with the defaults: 20 turns, bypass, 120 s per call, 16 KiB per result, no
    /// transcript.
    pub fn new(
        brain: Box<dyn Brain>,
        toolbox: Arc<Toolbox>,
        system_prompt: impl Into<String>,
    ) -> Self {
        Self {
            brain,
            toolbox,
            system_prompt: system_prompt.into(),
            max_turns: 20,
            permission: Permission::Bypass,
            per_call_timeout: Duration::from_secs(120),
            result_budget_bytes: 16 * 1024,
            transcript_dir: None,
            approver: Arc::new(TerminalApprover),
        }
    }

    /// The tools offered under the permission mode.
    pub fn offered_tools(&self) -> Vec<&ToolInfo> {
        self.toolbox
            .tools()
            .iter()
            .filter(|t| self.permission != Permission::ReadOnly || t.is_read_only())
            .collect()
    }

    /// Works on `prompt` until the brain stops or `max_turns` is reached, handing every step
    /// to `on_event`.
    pub async fn run(
        &mut self,
        prompt: &str,
        on_event: &mut (dyn FnMut(&Event) + Send),
    ) -> Result<RunOutcome, AgentError> {
        let offered = self.offered_tools();
        let defs: Vec<ToolDef> = offered.iter().map(|t| t.to_def()).collect();
        let offered_names: Vec<String> = offered.iter().map(|t| t.name.clone()).collect();

        let mut transcript = match &self.transcript_dir {
            Some(root) => {
                Some(
                    Transcript::create(root).map_err(|source| AgentError::Transcript {
                        path: root.clone(),
                        source,
                    })?,
                )
            }
            None => None,
        };

        let run_dir = transcript.as_ref().map(|t| t.dir().to_path_buf());
        emit(
            on_event,
            Event::Started {
                brain: self.brain.name(),
                prompt: prompt.to_string(),
                tools: offered_names.clone(),
                permission: self.permission,
                transcript: run_dir.clone(),
            },
            &mut transcript,
        )?;

        let mut history = vec![Message::user(prompt)];
        let mut usage = Usage::default();
        let mut final_text = String::new();
        let mut reason = FinishReason::MaxTurns;
        let mut turns = 0;
        let mut lost = None;

        'turns: while turns < self.max_turns {
            turns += 1;
            emit(
                on_event,
                Event::TurnStarted { turn: turns },
                &mut transcript,
            )?;
            let turn = {
                let mut on_text = |t: &str| {
                    on_event(&Event::TextDelta {
                        text: t.to_string(),
                    })
                };
                self.brain
                    .next(
                        BrainInput {
                            system: &self.system_prompt,
                            history: &history,
                            tools: &defs,
                        },
                        &mut on_text,
                    )
                    .await?
            };
            usage.add(turn.usage);
            final_text = turn.text();
            let calls = turn.tool_calls();
            emit(
                on_event,
                Event::Assistant {
                    turn: turns,
                    content: turn.content.clone(),
                    stop_reason: turn.stop_reason.clone(),
                    usage: turn.usage,
                },
                &mut transcript,
            )?;
            history.push(Message {
                role: Role::Assistant,
                content: turn.content,
            });
            if calls.is_empty() {
                reason = FinishReason::Stopped;
                break;
            }

            let mut results = Vec::new();
            for (n, call) in calls.into_iter().enumerate() {
                let (result, disconnected) = self
                    .call_one(
                        turns,
                        n + 1,
                        call,
                        &offered_names,
                        on_event,
                        &mut transcript,
                    )
                    .await?;
                results.push(result);
                if let Some(e) = disconnected {
                    lost = Some(e);
                    // The failed call is recorded; nothing after it can run.
                    history.push(Message {
                        role: Role::User,
                        content: results,
                    });
                    reason = FinishReason::ServerLost;
                    break 'turns;
                }
            }
            history.push(Message {
                role: Role::User,
                content: results,
            });
        }

        emit(
            on_event,
            Event::Finished {
                reason,
                turns,
                usage,
                final_text: final_text.clone(),
            },
            &mut transcript,
        )?;
        if let Some(error) = lost {
            return Err(AgentError::ServerLost {
                error: Box::new(error),
                transcript: run_dir,
            });
        }
        Ok(RunOutcome {
            reason,
            turns,
            final_text,
            usage,
            history,
            transcript: run_dir,
        })
    }

    /// Runs one tool call the brain asked for in `turn` (the `n`th of that turn), if it is
    /// permitted: its result for the brain, and the error when the server was lost doing it.
    async fn call_one(
        &self,
        turn: u32,
        n: usize,
        call: ToolCall,
        offered_names: &[String],
        on_event: &mut (dyn FnMut(&Event) + Send),
        transcript: &mut Option<Transcript>,
    ) -> Result<(Block, Option<McpError>), AgentError> {
        emit(
            on_event,
            Event::ToolCall {
                turn,
                id: call.id.clone(),
                name: call.name.clone(),
                input: call.input.clone(),
            },
            transcript,
        )?;
        let started = std::time::Instant::now();
        let mut lost = None;
        let (text, structured, is_error) =
            match self.permit(&call.name, &call.input, offered_names).await {
                Err(reason) => {
                    emit(
                        on_event,
                        Event::ToolDenied {
                            turn,
                            id: call.id.clone(),
                            name: call.name.clone(),
                            reason: reason.clone(),
                        },
                        transcript,
                    )?;
                    (format!("{NOT_RUN}{reason}"), None, true)
                }
                Ok(()) => match self
                    .toolbox
                    .call(&call.name, call.input.clone(), self.per_call_timeout)
                    .await
                {
                    Ok(out) => (out.text, out.structured, out.is_error),
                    Err(e @ McpError::Disconnected { .. }) => {
                        let text = format!("The call failed: {e}");
                        lost = Some(e);
                        (text, None, true)
                    }
                    Err(e) => (format!("The call failed: {e}"), None, true),
                },
            };
        let duration_ms = started.elapsed().as_millis() as u64;
        let full_result = match transcript.as_ref() {
            Some(t) => Some(
                t.save_result(turn, n, &call.name, &text)
                    .map_err(|source| AgentError::Transcript {
                        path: t.dir().join("results"),
                        source,
                    })?,
            ),
            None => None,
        };
        let (shown, truncated) = shown(&text, self.result_budget_bytes, full_result.as_deref());
        emit(
            on_event,
            Event::ToolResult {
                turn,
                id: call.id.clone(),
                name: call.name.clone(),
                is_error,
                bytes: text.len(),
                truncated,
                full_result,
                shown: shown.clone(),
                duration_ms,
            },
            transcript,
        )?;
        let result = Block::ToolResult {
            tool_use_id: call.id,
            content: shown,
            is_error,
            structured,
        };
        Ok((result, lost))
    }

    /// Whether the call may run; `Err(reason)` for the brain when not.
    async fn permit(&self, name: &str, input: &Value, offered: &[String]) -> Result<(), String> {
        let Some(tool) = self.toolbox.get(name) else {
            return Err(format!("there is no tool named `{name}`"));
        };
        if !offered.iter().any(|o| o == name) {
            return Err(format!(
                "`{name}` is not offered in read-only mode (it is not annotated readOnlyHint: true)"
            ));
        }
        if self.permission == Permission::Ask && tool.is_destructive() {
            let shown = format!("{}/{}", tool.server, tool.tool);
            return match self.approver.approve(tool, input).await {
                Ok(true) => Ok(()),
                Ok(false) => Err(format!("the operator refused `{shown}`")),
                Err(why) => Err(format!(
                    "`{shown}` changes things and needs approval, but {why}"
                )),
            };
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{question, truncate};
    use crate::ToolInfo;
    use serde_json::json;

    /// A script shows as its lines and a list as its items, not as escaped JSON; a long script
    /// shows its first lines and counts the rest.
    #[test]
    fn an_approval_question_shows_arguments_as_a_human_reads_them() {
        let tool = ToolInfo {
            name: "mcp__logs__run_script".into(),
            server: "logs".into(),
            tool: "run_script".into(),
            title: None,
            description: "Runs a Python script in a sandbox. It can read the workspace.".into(),
            input_schema: json!({}),
            output_schema: None,
            read_only_hint: None,
            destructive_hint: None,
        };
        let script: String = (1..=50).map(|i| format!("print(\"line {i}\")\n")).collect();
        let q = question(
            &tool,
            &json!({"script": script, "heals": ["api", "db"], "dry_run": false}),
        );
        assert!(
            q.starts_with(
                "The agent wants to run `run_script` on `logs` (Runs a Python script in a sandbox)."
            ),
            "{q}"
        );
        assert!(
            q.contains("  script: (50 lines)\n    | print(\"line 1\")\n"),
            "{q}"
        );
        assert!(
            q.contains("    | print(\"line 40\")\n    | … 10 more lines\n"),
            "{q}"
        );
        assert!(!q.contains("line 41"), "{q}");
        assert!(q.contains("  heals: api, db\n"), "{q}");
        assert!(q.contains("  dry_run: false\n"), "{q}");
        assert!(!q.contains("\\n"), "no escaped newlines: {q}");
        let long = "x".repeat(1000);
        let q = question(&tool, &json!({ "reason": long }));
        assert!(
            q.contains(&format!("  reason: {}…\n", "x".repeat(300))),
            "{q}"
        );
    }

    #[test]
    fn truncation_respects_char_boundaries() {
        assert_eq!(truncate("abc", 10), "abc");
        assert_eq!(truncate("abcdef", 3), "abc");
        assert_eq!(truncate("aé", 2), "a");
    }
}
