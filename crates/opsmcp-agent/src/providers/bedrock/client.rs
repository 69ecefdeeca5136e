//! The Converse client: request mapping, SigV4 signing, the answer as a turn.

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::{
    http_request::{SignableBody, SignableRequest, SigningSettings, sign},
    sign::v4,
};
use futures::future::BoxFuture;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};

use super::{AwsCredentials, BedrockConfig};
use crate::providers::{
    Block, Message, Provider, ProviderError, Request, Role, StopReason, TextSink, Turn, Usage,
    http_client, send_with_retry,
};

const NAME: &str = "bedrock";

/// Characters left as they are in a path segment: RFC 3986 unreserved. Everything else —
/// the `:` of `...-v1:0` included — is percent-encoded, as the AWS SDKs do; SigV4 then encodes
/// the encoded path once more for the canonical request (`%3A` → `%253A`).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A client of Bedrock's Converse API.
#[derive(Debug, Clone)]
pub struct Bedrock {
    config: BedrockConfig,
    credentials: AwsCredentials,
    http: reqwest::Client,
}

impl Bedrock {
    /// A client for `config`. Fails without credentials.
    pub fn new(config: BedrockConfig) -> Result<Self, ProviderError> {
        let credentials = match &config.credentials {
            Some(c) => c.clone(),
            None => AwsCredentials::from_env()?,
        };
        Ok(Self {
            config,
            credentials,
            http: http_client(),
        })
    }

    /// The Converse URL, the model id percent-encoded as one path segment.
    pub fn url(&self) -> String {
        format!(
            "{}/model/{}/converse",
            self.config.endpoint(),
            utf8_percent_encode(&self.config.model_id, SEGMENT)
        )
    }

    /// Signs a POST of `body` to `url` at `time`: the headers to add (`authorization`,
    /// `x-amz-date`, and `x-amz-security-token` with temporary credentials).
    fn sign(
        &self,
        url: &str,
        body: &[u8],
        time: SystemTime,
    ) -> Result<Vec<(String, String)>, ProviderError> {
        let c = &self.credentials;
        let identity = Credentials::new(
            &c.access_key_id,
            &c.secret_access_key,
            c.session_token.clone(),
            None,
            "environment",
        )
        .into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.config.region)
            .name("bedrock")
            .time(time)
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| signing(e.to_string()))?
            .into();
        let request = SignableRequest::new(
            "POST",
            url,
            [("content-type", "application/json")].into_iter(),
            SignableBody::Bytes(body),
        )
        .map_err(|e| signing(e.to_string()))?;
        let (instructions, _) = sign(request, &params)
            .map_err(|e| signing(e.to_string()))?
            .into_parts();
        Ok(instructions
            .headers()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect())
    }

    async fn run(&self, req: Request<'_>, on_text: TextSink<'_>) -> Result<Turn, ProviderError> {
        let url = self.url();
        let body = serde_json::to_vec(&request_body(&self.config, req)).map_err(|e| {
            ProviderError::Protocol {
                provider: NAME,
                message: format!("cannot encode the request: {e}"),
            }
        })?;
        let response = send_with_retry(NAME, &self.config.retry, &url, hint, || {
            let mut b = self
                .http
                .post(&url)
                .header("content-type", "application/json")
                .header("accept", "application/json")
                .body(body.clone());
            for (k, v) in self.sign(&url, &body, SystemTime::now())? {
                b = b.header(k, v);
            }
            Ok(b)
        })
        .await?;
        let answer: Value = response.json().await.map_err(|e| ProviderError::Protocol {
            provider: NAME,
            message: format!("the answer is not JSON: {e}"),
        })?;
        let turn = parse_answer(&answer)?;
        let text = turn.text();
        if !text.is_empty() {
            on_text(&text);
        }
        Ok(turn)
    }
}

impl Provider for Bedrock {
    fn name(&self) -> &str {
        NAME
    }

    fn model(&self) -> &str {
        &self.config.model_id
    }

    fn complete<'a>(
        &'a self,
        request: Request<'a>,
        on_text: TextSink<'a>,
    ) -> BoxFuture<'a, Result<Turn, ProviderError>> {
        Box::pin(self.run(request, on_text))
    }
}

fn signing(message: String) -> ProviderError {
    ProviderError::Config {
        provider: NAME,
        message: format!("cannot sign the request: {message}"),
    }
}

fn hint(status: u16) -> String {
    match status {
        403 => "; check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, that they \
                allow bedrock:InvokeModel, and that AWS_REGION is where the model is enabled"
            .into(),
        404 => {
            "; check the model id and AWS_REGION (cross-region ids start with `us.`, `eu.`)".into()
        }
        400 => "; the request was refused, the message says why (is model access granted in \
                the Bedrock console?)"
            .into(),
        _ => String::new(),
    }
}

/// The Converse request body.
pub(crate) fn request_body(config: &BedrockConfig, req: Request<'_>) -> Value {
    let mut body = json!({
        "messages": req.messages.iter().map(message).collect::<Vec<_>>(),
        "inferenceConfig": {"maxTokens": config.max_tokens},
    });
    if !req.system.is_empty() {
        body["system"] = json!([{"text": req.system}]);
    }
    if !req.tools.is_empty() {
        body["toolConfig"] = json!({"tools": req.tools.iter().map(|t| json!({"toolSpec": {
            "name": t.name, "description": t.description, "inputSchema": {"json": t.input_schema}}}))
            .collect::<Vec<_>>()});
    }
    body
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
            Block::Text { text } => json!({"text": text}),
            Block::ToolUse { id, name, input } => {
                json!({"toolUse": {"toolUseId": id, "name": name, "input": input}})
            }
            Block::ToolResult {
                tool_use_id,
                content,
                is_error,
                ..
            } => json!({"toolResult": {
                "toolUseId": tool_use_id,
                "content": [{"text": content}],
                "status": if *is_error { "error" } else { "success" },
            }}),
        })
        .collect();
    json!({"role": role, "content": content})
}

/// The Converse answer as a turn.
pub(crate) fn parse_answer(v: &Value) -> Result<Turn, ProviderError> {
    let blocks = v
        .pointer("/output/message/content")
        .and_then(Value::as_array)
        .ok_or_else(|| ProviderError::Protocol {
            provider: NAME,
            message: format!("no output.message.content in the answer: {v}"),
        })?;
    let mut content = Vec::new();
    for b in blocks {
        if let Some(text) = b.get("text").and_then(Value::as_str) {
            content.push(Block::Text {
                text: text.to_string(),
            });
        } else if let Some(t) = b.get("toolUse") {
            let field = |k: &str| {
                t.get(k)
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .ok_or_else(|| ProviderError::Protocol {
                        provider: NAME,
                        message: format!("toolUse without {k}: {t}"),
                    })
            };
            content.push(Block::ToolUse {
                id: field("toolUseId")?,
                name: field("name")?,
                input: t.get("input").cloned().unwrap_or_else(|| json!({})),
            });
        }
    }
    let stop_reason = match v.get("stopReason").and_then(Value::as_str) {
        Some("end_turn") | None => StopReason::EndTurn,
        Some("tool_use") => StopReason::ToolUse,
        Some("max_tokens") => StopReason::MaxTokens,
        Some("stop_sequence") => StopReason::StopSequence,
        Some(other) => StopReason::Other(other.to_string()),
    };
    let usage = Usage {
        input_tokens: v
            .pointer("/usage/inputTokens")
            .and_then(Value::as_u64)
            .unwrap_or(0),
        output_tokens: v
            .pointer("/usage/outputTokens")
            .and_then(Value::as_u64)
            .unwrap_or(0),
    };
    Ok(Turn {
        content,
        stop_reason,
        usage,
    })
}
