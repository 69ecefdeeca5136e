//! The Messages API client: request mapping, the SSE event stream, the assembled turn.

use futures::{StreamExt, future::BoxFuture};
use serde_json::{Value, json};

use super::AnthropicConfig;
use crate::{
    providers::{
        Block, Message, Provider, ProviderError, Request, Role, StopReason, TextSink, ToolDef,
        Turn, Usage, http_client, parse_arguments, send_with_retry,
    },
    sse::SseParser,
};

const NAME: &str = "anthropic";
const VERSION: &str = "2023-06-01";

/// A client of Anthropic's Messages API, streaming.
#[derive(Debug, Clone)]
pub struct Anthropic {
    config: AnthropicConfig,
    http: reqwest::Client,
}

impl Anthropic {
    /// A client for `config`. Fails without an API key.
    pub fn new(config: AnthropicConfig) -> Result<Self, ProviderError> {
        config.key()?;
        Ok(Self {
            config,
            http: http_client(),
        })
    }

    fn url(&self) -> String {
        format!("{}/v1/messages", self.config.base_url.trim_end_matches('/'))
    }

    async fn run(&self, req: Request<'_>, on_text: TextSink<'_>) -> Result<Turn, ProviderError> {
        let url = self.url();
        let body = request_body(&self.config, req);
        let key = self.config.key()?.to_string();
        let response = send_with_retry(NAME, &self.config.retry, &url, hint, || {
            Ok(self
                .http
                .post(&url)
                .header("x-api-key", &key)
                .header("anthropic-version", VERSION)
                .header("accept", "text/event-stream")
                .json(&body))
        })
        .await?;

        let mut acc = Accumulator::default();
        let mut parser = SseParser::default();
        let mut stream = response.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| ProviderError::Protocol {
                provider: NAME,
                message: format!("the response stream broke: {e}"),
            })?;
            for ev in parser.push(&chunk) {
                acc.event(&ev.event, &ev.data, on_text)?;
            }
        }
        if let Some(ev) = parser.finish() {
            acc.event(&ev.event, &ev.data, on_text)?;
        }
        acc.finish()
    }
}

impl Provider for Anthropic {
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
        401 | 403 => "; check ANTHROPIC_API_KEY (set it to a valid key for this base URL)".into(),
        404 => "; check the model name and the base URL".into(),
        400 | 413 => "; the request was refused, the message says why".into(),
        _ => String::new(),
    }
}

/// The JSON body of a streamed Messages request.
pub(crate) fn request_body(config: &AnthropicConfig, req: Request<'_>) -> Value {
    let mut body = json!({
        "model": config.model,
        "max_tokens": config.max_tokens,
        "stream": true,
        "messages": req.messages.iter().map(message).collect::<Vec<_>>(),
    });
    if !req.system.is_empty() {
        body["system"] = json!(req.system);
    }
    if !req.tools.is_empty() {
        body["tools"] = Value::Array(req.tools.iter().map(tool).collect());
    }
    body
}

fn tool(t: &ToolDef) -> Value {
    json!({"name": t.name, "description": t.description, "input_schema": t.input_schema})
}

fn message(m: &Message) -> Value {
    let role = match m.role {
        Role::User => "user",
        Role::Assistant => "assistant",
    };
    let content: Vec<Value> = m
        .content
        .iter()
        .map(|b| match b {
            Block::Text { text } => json!({"type": "text", "text": text}),
            Block::ToolUse { id, name, input } => {
                json!({"type": "tool_use", "id": id, "name": name, "input": input})
            }
            Block::ToolResult {
                tool_use_id,
                content,
                is_error,
                ..
            } => json!({
                "type": "tool_result",
                "tool_use_id": tool_use_id,
                "content": content,
                "is_error": is_error,
            }),
        })
        .collect();
    json!({"role": role, "content": content})
}

/// A content block being streamed.
#[derive(Debug)]
enum Partial {
    Text(String),
    ToolUse {
        id: String,
        name: String,
        json: String,
    },
    /// Blocks we do not use (thinking, server tools): dropped.
    Other,
}

/// Builds the turn from the stream's events.
#[derive(Debug, Default)]
struct Accumulator {
    blocks: Vec<(u64, Partial)>,
    done: Vec<Block>,
    stop: Option<StopReason>,
    usage: Usage,
    stopped: bool,
}

fn protocol(message: impl Into<String>) -> ProviderError {
    ProviderError::Protocol {
        provider: NAME,
        message: message.into(),
    }
}

impl Accumulator {
    fn event(
        &mut self,
        event: &str,
        data: &str,
        on_text: TextSink<'_>,
    ) -> Result<(), ProviderError> {
        let v: Value = serde_json::from_str(data)
            .map_err(|e| protocol(format!("event {event} is not JSON ({e}): {data}")))?;
        let kind = v.get("type").and_then(Value::as_str).unwrap_or(event);
        match kind {
            "message_start" => {
                if let Some(u) = v.pointer("/message/usage") {
                    self.usage.input_tokens = num(u, "input_tokens");
                    self.usage.output_tokens = num(u, "output_tokens");
                }
            }
            "content_block_start" => {
                let index = num(&v, "index");
                let block = &v["content_block"];
                let partial = match block.get("type").and_then(Value::as_str) {
                    Some("text") => {
                        let text = block["text"].as_str().unwrap_or_default().to_string();
                        if !text.is_empty() {
                            on_text(&text);
                        }
                        Partial::Text(text)
                    }
                    Some("tool_use") => Partial::ToolUse {
                        id: str_field(block, "id")?,
                        name: str_field(block, "name")?,
                        json: String::new(),
                    },
                    _ => Partial::Other,
                };
                self.blocks.push((index, partial));
            }
            "content_block_delta" => {
                let index = num(&v, "index");
                let delta = &v["delta"];
                let Some((_, partial)) = self.blocks.iter_mut().find(|(i, _)| *i == index) else {
                    return Err(protocol(format!("delta for unknown block {index}")));
                };
                match (delta.get("type").and_then(Value::as_str), partial) {
                    (Some("text_delta"), Partial::Text(text)) => {
                        let piece = delta["text"].as_str().unwrap_or_default();
                        on_text(piece);
                        text.push_str(piece);
                    }
                    (Some("input_json_delta"), Partial::ToolUse { json, .. }) => {
                        json.push_str(delta["partial_json"].as_str().unwrap_or_default());
                    }
                    _ => {}
                }
            }
            "content_block_stop" => {
                let index = num(&v, "index");
                if let Some(pos) = self.blocks.iter().position(|(i, _)| *i == index) {
                    let (_, partial) = self.blocks.remove(pos);
                    match partial {
                        Partial::Text(text) => self.done.push(Block::Text { text }),
                        Partial::ToolUse { id, name, json } => self.done.push(Block::ToolUse {
                            id,
                            name,
                            input: parse_arguments(NAME, &json)?,
                        }),
                        Partial::Other => {}
                    }
                }
            }
            "message_delta" => {
                if let Some(r) = v.pointer("/delta/stop_reason").and_then(Value::as_str) {
                    self.stop = Some(stop_reason(r));
                }
                if let Some(u) = v.get("usage") {
                    if u.get("output_tokens").is_some() {
                        self.usage.output_tokens = num(u, "output_tokens");
                    }
                    if u.get("input_tokens").is_some() {
                        self.usage.input_tokens = num(u, "input_tokens");
                    }
                }
            }
            "message_stop" => self.stopped = true,
            "ping" => {}
            "error" => {
                let kind = v
                    .pointer("/error/type")
                    .and_then(Value::as_str)
                    .unwrap_or("error");
                let message = v
                    .pointer("/error/message")
                    .and_then(Value::as_str)
                    .unwrap_or("(no message)");
                return Err(protocol(format!(
                    "the API reported {kind} mid-stream: {message}"
                )));
            }
            other => tracing::debug!(event = other, "ignoring unknown Messages stream event"),
        }
        Ok(())
    }

    fn finish(self) -> Result<Turn, ProviderError> {
        if !self.stopped && self.stop.is_none() {
            return Err(protocol(
                "the stream ended before message_stop; the answer is incomplete",
            ));
        }
        Ok(Turn {
            content: self.done,
            stop_reason: self.stop.unwrap_or(StopReason::EndTurn),
            usage: self.usage,
        })
    }
}

fn num(v: &Value, key: &str) -> u64 {
    v.get(key).and_then(Value::as_u64).unwrap_or(0)
}

fn str_field(v: &Value, key: &str) -> Result<String, ProviderError> {
    v.get(key)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| protocol(format!("content block without {key}: {v}")))
}

fn stop_reason(s: &str) -> StopReason {
    match s {
        "end_turn" => StopReason::EndTurn,
        "tool_use" => StopReason::ToolUse,
        "max_tokens" => StopReason::MaxTokens,
        "stop_sequence" => StopReason::StopSequence,
        other => StopReason::Other(other.to_string()),
    }
}
