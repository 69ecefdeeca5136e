//! Model providers: one folder per API, each with its config, its client and its tests, all
//! behind [`Provider`].
//!
//! The conversation model here is provider-neutral and close to Anthropic's: a [`Message`] is a
//! role and [`Block`]s (text, tool use, tool result). Each provider maps it to its wire format
//! and maps the answer back to a [`Turn`]. Text is streamed through a callback as it arrives
//! (Bedrock's Converse is called without streaming and delivers its text in one piece).

use std::time::Duration;

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub mod anthropic;
pub mod bedrock;
pub mod openai;
mod retry;

pub use retry::RetryPolicy;
pub(crate) use retry::send_with_retry;

/// Who said a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The user, and the tool results sent back on the user's side.
    User,
    /// The model (or whatever brain plays its part).
    Assistant,
}

/// One piece of a message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Block {
    /// Plain text.
    Text {
        /// The text.
        text: String,
    },
    /// The assistant asks for a tool call.
    ToolUse {
        /// Id that the matching [`Block::ToolResult`] refers to.
        id: String,
        /// The tool's (provider-safe) name.
        name: String,
        /// The arguments, a JSON object.
        input: Value,
    },
    /// The answer to a tool call, sent on the user's side.
    ToolResult {
        /// The [`Block::ToolUse`] id this answers.
        tool_use_id: String,
        /// What the model sees (possibly truncated to the result budget).
        content: String,
        /// Whether the call failed (a tool error, a timeout, a denial).
        is_error: bool,
        /// The tool's `structuredContent`, kept for brains that read structure (a
        /// deterministic planner); never sent to a model API.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        structured: Option<Value>,
    },
}

/// One message of the conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// Who said it.
    pub role: Role,
    /// What was said.
    pub content: Vec<Block>,
}

impl Message {
    /// A user message with one text block.
    pub fn user(text: impl Into<String>) -> Self {
        Self {
            role: Role::User,
            content: vec![Block::Text { text: text.into() }],
        }
    }
}

/// A tool as offered to a model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolDef {
    /// Provider-safe name (`^[a-zA-Z0-9_-]{1,64}$`).
    pub name: String,
    /// What the tool does, for the model.
    pub description: String,
    /// JSON Schema of the arguments (an object schema).
    pub input_schema: Value,
}

/// Why the model stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// It finished its answer.
    EndTurn,
    /// It wants tool results.
    ToolUse,
    /// It ran out of output tokens.
    MaxTokens,
    /// A stop sequence matched.
    StopSequence,
    /// Something else, as the provider named it.
    Other(String),
}

/// Tokens used by one model call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Prompt tokens.
    pub input_tokens: u64,
    /// Completion tokens.
    pub output_tokens: u64,
}

impl Usage {
    /// Adds another call's usage to this one.
    pub fn add(&mut self, other: Usage) {
        self.input_tokens += other.input_tokens;
        self.output_tokens += other.output_tokens;
    }
}

/// A tool call the assistant asked for, taken out of a [`Turn`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    /// Id to answer with.
    pub id: String,
    /// Tool name as offered.
    pub name: String,
    /// Arguments.
    pub input: Value,
}

/// One assistant turn: what it said and which tools it wants called.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Turn {
    /// Text and tool-use blocks, in the order the model produced them.
    pub content: Vec<Block>,
    /// Why it stopped.
    pub stop_reason: StopReason,
    /// Tokens used.
    pub usage: Usage,
}

impl Turn {
    /// All text blocks joined.
    pub fn text(&self) -> String {
        self.content
            .iter()
            .filter_map(|b| match b {
                Block::Text { text } => Some(text.as_str()),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join("")
    }

    /// The tool calls, in order.
    pub fn tool_calls(&self) -> Vec<ToolCall> {
        self.content
            .iter()
            .filter_map(|b| match b {
                Block::ToolUse { id, name, input } => Some(ToolCall {
                    id: id.clone(),
                    name: name.clone(),
                    input: input.clone(),
                }),
                _ => None,
            })
            .collect()
    }
}

/// What a provider is asked: the system prompt, the history so far and the tools on offer.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// System prompt.
    pub system: &'a str,
    /// The conversation so far; the last message is the user's (a prompt or tool results).
    pub messages: &'a [Message],
    /// Tools the model may call.
    pub tools: &'a [ToolDef],
}

/// Callback that receives text as the model produces it.
pub type TextSink<'a> = &'a mut (dyn FnMut(&str) + Send);

/// A model API that, given a conversation, answers with the assistant's next turn.
///
/// Implementations stream text through `on_text` as it arrives and return the complete turn.
pub trait Provider: Send + Sync {
    /// Short name for messages and transcripts (`anthropic`, `openai`, `bedrock`).
    fn name(&self) -> &str;
    /// The model asked.
    fn model(&self) -> &str;
    /// The assistant's next turn.
    fn complete<'a>(
        &'a self,
        request: Request<'a>,
        on_text: TextSink<'a>,
    ) -> BoxFuture<'a, Result<Turn, ProviderError>>;
}

/// A model call that failed, with what to check.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// Missing or unusable configuration.
    #[error("{provider}: {message}")]
    Config {
        /// Provider name.
        provider: &'static str,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// The HTTP request did not get an answer.
    #[error("{provider}: cannot reach {url}: {source}; check the base URL and the network")]
    Connect {
        /// Provider name.
        provider: &'static str,
        /// What was asked.
        url: String,
        /// Why.
        #[source]
        source: reqwest::Error,
    },
    /// The API answered with an error status.
    #[error("{provider}: HTTP {status} from {url}: {message}{hint}")]
    Status {
        /// Provider name.
        provider: &'static str,
        /// What was asked.
        url: String,
        /// HTTP status.
        status: u16,
        /// The provider's own error message (or the start of the body).
        message: String,
        /// What to check, starting with `; ` (empty when there is nothing to add).
        hint: String,
    },
    /// Still overloaded or rate limited after the last attempt.
    #[error(
        "{provider}: HTTP {status} from {url} after {attempts} attempts: {message}; the API is rate limiting or overloaded, try again later or lower the request rate"
    )]
    Exhausted {
        /// Provider name.
        provider: &'static str,
        /// What was asked.
        url: String,
        /// The last status.
        status: u16,
        /// Attempts made.
        attempts: u32,
        /// The provider's last error message.
        message: String,
    },
    /// The answer (or the stream) did not make sense, or the API reported an error mid-stream.
    #[error("{provider}: {message}")]
    Protocol {
        /// Provider name.
        provider: &'static str,
        /// What went wrong.
        message: String,
    },
}

/// Pulls a human message out of an error body in any of the providers' shapes:
/// `{"error": {"message"}}` (Anthropic, OpenAI), `{"message"}` / `{"Message"}` (Bedrock), else
/// the start of the body.
pub(crate) fn error_message(body: &str) -> String {
    if let Ok(v) = serde_json::from_str::<Value>(body) {
        let found = v
            .pointer("/error/message")
            .or_else(|| v.get("message"))
            .or_else(|| v.get("Message"))
            .or_else(|| v.get("error"));
        if let Some(m) = found {
            return match m {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
        }
    }
    let trimmed = body.trim();
    if trimmed.is_empty() {
        "(empty body)".to_string()
    } else {
        trimmed.chars().take(500).collect()
    }
}

/// Every provider's HTTP client: no overall timeout (a streamed answer may take minutes), a
/// connect timeout so an unreachable base URL fails fast.
pub(crate) fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(15))
        .build()
        .unwrap_or_else(|_| reqwest::Client::new())
}

/// Parses a tool call's accumulated argument text; empty means no arguments.
pub(crate) fn parse_arguments(provider: &'static str, raw: &str) -> Result<Value, ProviderError> {
    if raw.trim().is_empty() {
        return Ok(Value::Object(Default::default()));
    }
    serde_json::from_str(raw).map_err(|e| ProviderError::Protocol {
        provider,
        message: format!("tool arguments are not JSON ({e}): {raw}"),
    })
}
