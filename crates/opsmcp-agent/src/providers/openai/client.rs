//! The chat-completions client: request mapping, `data:` chunks with tool-call fragments, the
//! assembled turn.

use futures::{StreamExt, future::BoxFuture};
use serde_json::{Value, json};

use super::OpenAiConfig;
use crate::{
    providers::{
        Block, Message, Provider, ProviderError, Request, Role, StopReason, TextSink, Turn, Usage,
        http_client, parse_arguments, send_with_retry,
    },
    sse::SseParser,
};

const NAME: &str = "openai";

/// A client of an OpenAI-compatible chat-completions API, streaming.
#[derive(Debug, Clone)]
pub struct OpenAi {
    config: OpenAiConfig,
    http: reqwest::Client,
}

impl OpenAi {
    /// A client for `config`.
    pub fn new(config: OpenAiConfig) -> Self {
        Self {
            config,
            http: http_client(),
        }
    }

    fn url(&self) -> String {
        format!(
            "{}/chat/completions",
            self.config.base_url.trim_end_matches('/')
        )
    }

    async fn run(&self, req: Request<'_>, on_text: TextSink<'_>) -> Result<Turn, ProviderError> {
        let url = self.url();
        let body = request_body(&self.config, req);
        let response = send_with_retry(NAME, &self.config.retry, &url, hint, || {
            let mut b = self
                .http
                .post(&url)
                .header("accept", "text/event-stream")
                .json(&body);
            if let Some(key) = &self.config.api_key {
                b = b.bearer_auth(key);
            }
            Ok(b)
        })
        .await?;

        let mut acc = Accumulator::default();
        let mut parser = SseParser::default();
        let mut stream = response.bytes_stream();
        'read: while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| protocol(format!("the response stream broke: {e}")))?;
            for ev in parser.push(&chunk) {
                if acc.data(&ev.data, on_text)? {
                    break 'read;
                }
            }
        }
        if !acc.done
            && let Some(ev) = parser.finish()
        {
            acc.data(&ev.data, on_text)?;
        }
        acc.finish()
    }
}

impl Provider for OpenAi {
    fn name(&self) -> &str {
        NAME
    }

    fn model(&self) -> &str {
        &self.config.model
    }

    fn complete<'a>(
        &'a self,
        request: Request<'a>,
        on_text: TextSink<'a>,
    ) -> BoxFuture<'a, Result<Turn, ProviderError>> {
        Box::pin(self.run(request, on_text))
    }
}

fn hint(status: u16) -> String {
    match status {
        401 | 403 => "; check OPENAI_API_KEY (the key for this base URL)".into(),
        404 => {
            "; check the model name and the base URL (it should end in /v1 for most servers)".into()
        }
        400 | 422 => {
            "; the request was refused, the message says why (does the model support tools?)".into()
        }
        _ => String::new(),
    }
}

fn protocol(message: impl Into<String>) -> ProviderError {
    ProviderError::Protocol {
        provider: NAME,
        message: message.into(),
    }
}

/// The JSON body of a streamed chat-completions request.
pub(crate) fn request_body(config: &OpenAiConfig, req: Request<'_>) -> Value {
    let mut messages = Vec::new();
    if !req.system.is_empty() {
        messages.push(json!({"role": "system", "content": req.system}));
    }
    for m in req.messages {
        push_message(&mut messages, m);
    }
    let mut body = json!({"model": config.model, "stream": true, "messages": messages});
    if config.include_usage {
        body["stream_options"] = json!({"include_usage": true});
    }
    if let Some(max) = config.max_tokens {
        body["max_tokens"] = json!(max);
    }
    if !req.tools.is_empty() {
        body["tools"] = req
            .tools
            .iter()
            .map(|t| {
                json!({"type": "function", "function": {
                    "name": t.name, "description": t.description, "parameters": t.input_schema}})
            })
            .collect();
    }
    body
}

/// One of our messages as chat messages: an assistant message carries `tool_calls`; each tool
/// result becomes its own `tool` message; user text stays a `user` message.
fn push_message(out: &mut Vec<Value>, m: &Message) {
    match m.role {
        Role::Assistant => {
            let text: String = m
                .content
                .iter()
                .filter_map(|b| match b {
                    Block::Text { text } => Some(text.as_str()),
                    _ => None,
                })
                .collect();
            let calls: Vec<Value> = m
                .content
                .iter()
                .filter_map(|b| match b {
                    Block::ToolUse { id, name, input } => Some(json!({
                        "id": id, "type": "function",
                        "function": {"name": name, "arguments": input.to_string()}})),
                    _ => None,
                })
                .collect();
            let mut msg = json!({"role": "assistant", "content": if text.is_empty() { Value::Null } else { json!(text) }});
            if !calls.is_empty() {
                msg["tool_calls"] = Value::Array(calls);
            }
            out.push(msg);
        }
        Role::User => {
            let mut text = String::new();
            for b in &m.content {
                match b {
                    Block::Text { text: t } => text.push_str(t),
                    Block::ToolResult {
                        tool_use_id,
                        content,
                        is_error,
                        ..
                    } => {
                        let content = if *is_error {
                            format!("ERROR: {content}")
                        } else {
                            content.clone()
                        };
                        out.push(json!({"role": "tool", "tool_call_id": tool_use_id, "content": content}));
                    }
                    Block::ToolUse { .. } => {}
                }
            }
            if !text.is_empty() {
                out.push(json!({"role": "user", "content": text}));
            }
        }
    }
}

#[derive(Debug, Default)]
struct PartialCall {
    id: String,
    name: String,
    arguments: String,
}

#[derive(Debug, Default)]
struct Accumulator {
    text: String,
    calls: Vec<(u64, PartialCall)>,
    finish: Option<String>,
    usage: Usage,
    done: bool,
}

impl Accumulator {
    /// Takes one `data:` payload; true at `[DONE]`.
    fn data(&mut self, data: &str, on_text: TextSink<'_>) -> Result<bool, ProviderError> {
        let data = data.trim();
        if data == "[DONE]" {
            self.done = true;
            return Ok(true);
        }
        let v: Value = serde_json::from_str(data)
            .map_err(|e| protocol(format!("a stream chunk is not JSON ({e}): {data}")))?;
        if let Some(err) = v.get("error") {
            let message = err
                .get("message")
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| err.to_string());
            return Err(protocol(format!(
                "the API reported an error mid-stream: {message}"
            )));
        }
        if let Some(u) = v.get("usage").filter(|u| !u.is_null()) {
            self.usage.input_tokens = u["prompt_tokens"].as_u64().unwrap_or(0);
            self.usage.output_tokens = u["completion_tokens"].as_u64().unwrap_or(0);
        }
        let Some(choice) = v.get("choices").and_then(|c| c.get(0)) else {
            return Ok(false);
        };
        let delta = &choice["delta"];
        if let Some(t) = delta.get("content").and_then(Value::as_str)
            && !t.is_empty()
        {
            on_text(t);
            self.text.push_str(t);
        }
        if let Some(calls) = delta.get("tool_calls").and_then(Value::as_array) {
            for (pos, c) in calls.iter().enumerate() {
                let index = c.get("index").and_then(Value::as_u64).unwrap_or(pos as u64);
                let slot = match self.calls.iter().position(|(i, _)| *i == index) {
                    Some(p) => &mut self.calls[p].1,
                    None => {
                        self.calls.push((index, PartialCall::default()));
                        let last = self.calls.len() - 1;
                        &mut self.calls[last].1
                    }
                };
                if let Some(id) = c.get("id").and_then(Value::as_str) {
                    slot.id.push_str(id);
                }
                if let Some(f) = c.get("function") {
                    if let Some(n) = f.get("name").and_then(Value::as_str) {
                        slot.name.push_str(n);
                    }
                    if let Some(a) = f.get("arguments").and_then(Value::as_str) {
                        slot.arguments.push_str(a);
                    }
                }
            }
        }
        if let Some(r) = choice.get("finish_reason").and_then(Value::as_str) {
            self.finish = Some(r.to_string());
        }
        Ok(false)
    }

    fn finish(self) -> Result<Turn, ProviderError> {
        if !self.done && self.finish.is_none() {
            return Err(protocol(
                "the stream ended without a finish_reason or [DONE]; the answer is incomplete",
            ));
        }
        let mut content = Vec::new();
        if !self.text.is_empty() {
            content.push(Block::Text { text: self.text });
        }
        let mut calls = self.calls;
        calls.sort_by_key(|(i, _)| *i);
        for (n, (_, c)) in calls.into_iter().enumerate() {
            if c.name.is_empty() {
                return Err(protocol("a tool call without a function name"));
            }
            content.push(Block::ToolUse {
                // Some local servers send no id; make one so results can refer to it.
                id: if c.id.is_empty() {
                    format!("call_{n}")
                } else {
                    c.id
                },
                name: c.name,
                input: parse_arguments(NAME, &c.arguments)?,
            });
        }
        let has_calls = content.iter().any(|b| matches!(b, Block::ToolUse { .. }));
        let stop_reason = match self.finish.as_deref() {
            Some("tool_calls") | Some("function_call") => StopReason::ToolUse,
            Some("length") => StopReason::MaxTokens,
            Some("stop") if has_calls => StopReason::ToolUse,
            Some("stop") | None => StopReason::EndTurn,
            Some(other) => StopReason::Other(other.to_string()),
        };
        Ok(Turn {
            content,
            stop_reason,
            usage: self.usage,
        })
    }
}
