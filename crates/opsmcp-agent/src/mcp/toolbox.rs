//! Every configured server's tools in one place, under provider-safe names, and calls routed
//! back to the server that owns each tool.

use std::{
    collections::{BTreeMap, HashMap},
    time::Duration,
};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use rmcp::{
    RoleClient, ServiceExt,
    model::{CallToolRequestParams, ClientCapabilities, ClientConfig, Implementation},
    service::{RunningService, ServiceError},
    transport::{
        StreamableHttpClientTransport, TokioChildProcess,
        streamable_http_client::{StreamableHttpClientTransportConfig, StreamableHttpError},
    },
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::io::AsyncBufReadExt;

use super::{LegacySseTransport, McpError, McpServersConfig, ServerConfig};
use crate::providers::ToolDef;

/// A tool as the toolbox offers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolInfo {
    /// Provider-safe name, `mcp__<server>__<tool>` sanitized to `^[a-zA-Z0-9_-]{1,64}$` and
    /// unique within the toolbox.
    pub name: String,
    /// Configured server name.
    pub server: String,
    /// The tool's own name on its server.
    pub tool: String,
    /// Human title, when the server gives one.
    pub title: Option<String>,
    /// What it does.
    pub description: String,
    /// JSON Schema of the arguments.
    pub input_schema: Value,
    /// JSON Schema of `structuredContent`, when declared.
    pub output_schema: Option<Value>,
    /// `annotations.readOnlyHint` as sent (the spec's default when absent is `false`).
    pub read_only_hint: Option<bool>,
    /// `annotations.destructiveHint` as sent (the spec's default when absent is `true`).
    pub destructive_hint: Option<bool>,
}

impl ToolInfo {
    /// Declared read-only (`readOnlyHint: true`).
    pub fn is_read_only(&self) -> bool {
        self.read_only_hint == Some(true)
    }

    /// May change or destroy something, by the spec's defaults: not read-only, and not
    /// declared `destructiveHint: false`. A tool without annotations counts as destructive.
    pub fn is_destructive(&self) -> bool {
        !self.is_read_only() && self.destructive_hint != Some(false)
    }

    /// The definition handed to a model.
    pub fn to_def(&self) -> ToolDef {
        ToolDef {
            name: self.name.clone(),
            description: self.description.clone(),
            input_schema: self.input_schema.clone(),
        }
    }
}

/// A tool call's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolOutput {
    /// Text content blocks joined by newlines (other content types described in brackets);
    /// when there is no text, the JSON of `structuredContent`.
    pub text: String,
    /// `structuredContent`, when sent.
    pub structured: Option<Value>,
    /// `isError`: the tool ran and reports a failure.
    pub is_error: bool,
}

/// The provider-safe name of `tool` on `server`: `mcp__<server>__<tool>`, every character
/// outside `[a-zA-Z0-9_-]` replaced by `_`, and names longer than 64 characters cut and given
/// a hash of the full name so that they stay distinct.
pub fn exposed_name(server: &str, tool: &str) -> String {
    let raw = format!("mcp__{server}__{tool}");
    let clean: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if clean.len() <= 64 {
        return clean;
    }
    format!("{}_{:08x}", &clean[..55], fnv(raw.as_bytes()))
}

fn fnv(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(*b)).wrapping_mul(0x0100_0193)
    })
}

/// Makes `name` unique among `taken` by a `_2`, `_3`, … suffix (cutting to stay within 64).
fn dedupe(name: String, taken: &HashMap<String, usize>) -> String {
    if !taken.contains_key(&name) {
        return name;
    }
    (2..)
        .map(|n| {
            let suffix = format!("_{n}");
            let keep = name.len().min(64 - suffix.len());
            format!("{}{suffix}", &name[..keep])
        })
        .find(|candidate| !taken.contains_key(candidate))
        .unwrap_or(name)
}

type Client = RunningService<RoleClient, ClientConfig>;

/// Connections to every configured MCP server and the union of their tools.
pub struct Toolbox {
    clients: BTreeMap<String, Client>,
    /// Each server's transport and URL or command, for errors that name it.
    endpoints: BTreeMap<String, (&'static str, String)>,
    tools: Vec<ToolInfo>,
    index: HashMap<String, usize>,
}

impl std::fmt::Debug for Toolbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Toolbox")
            .field("servers", &self.clients.keys().collect::<Vec<_>>())
            .field("tools", &self.index.keys().collect::<Vec<_>>())
            .finish()
    }
}

fn client_config() -> ClientConfig {
    ClientConfig::new(
        ClientCapabilities::default(),
        Implementation::new("opsmcp-agent", env!("CARGO_PKG_VERSION")),
    )
}

fn header_map(server: &str, headers: &BTreeMap<String, String>) -> Result<HeaderMap, McpError> {
    let mut map = HeaderMap::new();
    for (k, v) in headers {
        let name = HeaderName::from_bytes(k.as_bytes())
            .map_err(|e| McpError::Config(format!("server `{server}`: header `{k}`: {e}")))?;
        let value = HeaderValue::from_str(v)
            .map_err(|e| McpError::Config(format!("server `{server}`: header `{k}` value: {e}")))?;
        map.insert(name, value);
    }
    Ok(map)
}

/// Connects to one server and runs the initialize handshake.
async fn connect_one(
    name: &str,
    config: &ServerConfig,
    timeout: Duration,
) -> Result<Client, McpError> {
    let fail = |message: String| McpError::Connect {
        server: name.to_string(),
        transport: config.transport(),
        target: config.target(),
        message,
    };
    let handshake = async {
        match config {
            ServerConfig::Http { url, headers } => {
                let http = reqwest::Client::builder()
                    .default_headers(header_map(name, headers)?)
                    .connect_timeout(timeout)
                    .build()
                    .map_err(|e| fail(e.to_string()))?;
                let transport = StreamableHttpClientTransport::with_client(
                    http.clone(),
                    StreamableHttpClientTransportConfig::with_uri(url.as_str()),
                );
                match client_config().serve(transport).await {
                    Ok(client) => Ok(client),
                    // rmcp's error names its own types; a plain request says what the network
                    // said (connection refused, no such host), when that is the trouble.
                    Err(e) => Err(fail(match http.get(url.as_str()).send().await {
                        Err(net) => root_cause(&net),
                        Ok(_) => root_cause(&e),
                    })),
                }
            }
            ServerConfig::Sse { url, headers } => {
                let transport =
                    LegacySseTransport::connect(url, header_map(name, headers)?, timeout)
                        .await
                        .map_err(|e| fail(e.to_string()))?;
                client_config()
                    .serve(transport)
                    .await
                    .map_err(|e| fail(e.to_string()))
            }
            ServerConfig::Stdio { command, args, env } => {
                let mut cmd = tokio::process::Command::new(command);
                cmd.args(args).envs(env);
                let (transport, stderr) = TokioChildProcess::builder(cmd)
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .map_err(|e| fail(format!("cannot start: {e}")))?;
                if let Some(stderr) = stderr {
                    let server = name.to_string();
                    tokio::spawn(async move {
                        let mut lines = tokio::io::BufReader::new(stderr).lines();
                        while let Ok(Some(line)) = lines.next_line().await {
                            tracing::debug!(server = %server, "stderr: {line}");
                        }
                    });
                }
                client_config()
                    .serve(transport)
                    .await
                    .map_err(|e| fail(e.to_string()))
            }
        }
    };
    tokio::time::timeout(timeout, handshake)
        .await
        .map_err(|_| fail(format!("no answer to initialize within {timeout:?}")))?
}

impl Toolbox {
    /// Connects to every server in `config` (at the same time, each within `timeout`) and
    /// lists their tools. Fails if any server fails, naming it.
    pub async fn connect(config: &McpServersConfig, timeout: Duration) -> Result<Self, McpError> {
        let connecting = config.0.iter().map(|(name, server)| async move {
            let client = connect_one(name, server, timeout).await?;
            let tools = tokio::time::timeout(timeout, client.list_all_tools())
                .await
                .map_err(|_| McpError::ListTools {
                    server: name.clone(),
                    message: format!("no answer within {timeout:?}"),
                })?
                .map_err(|e| McpError::ListTools {
                    server: name.clone(),
                    message: e.to_string(),
                })?;
            tracing::info!(server = %name, transport = server.transport(), tools = tools.len(),
                "MCP server connected");
            Ok::<_, McpError>((name.clone(), client, tools))
        });
        let connected = futures::future::join_all(connecting).await;

        let mut toolbox = Toolbox {
            clients: BTreeMap::new(),
            endpoints: config
                .0
                .iter()
                .map(|(name, c)| (name.clone(), (c.transport(), c.target())))
                .collect(),
            tools: Vec::new(),
            index: HashMap::new(),
        };
        for result in connected {
            let (server, client, tools) = result?;
            for t in tools {
                let name = dedupe(exposed_name(&server, &t.name), &toolbox.index);
                let annotations = t.annotations.as_ref();
                let info = ToolInfo {
                    name: name.clone(),
                    server: server.clone(),
                    tool: t.name.to_string(),
                    title: t
                        .title
                        .clone()
                        .or_else(|| annotations.and_then(|a| a.title.clone())),
                    description: t.description.as_deref().unwrap_or_default().to_string(),
                    input_schema: Value::Object((*t.input_schema).clone()),
                    output_schema: t
                        .output_schema
                        .as_ref()
                        .map(|s| Value::Object((**s).clone())),
                    read_only_hint: annotations.and_then(|a| a.read_only_hint),
                    destructive_hint: annotations.and_then(|a| a.destructive_hint),
                };
                toolbox.index.insert(name, toolbox.tools.len());
                toolbox.tools.push(info);
            }
            toolbox.clients.insert(server, client);
        }
        Ok(toolbox)
    }

    /// Every tool, grouped by server (servers by name), each server's in its own order.
    pub fn tools(&self) -> &[ToolInfo] {
        &self.tools
    }

    /// The tool offered as `name`.
    pub fn get(&self, name: &str) -> Option<&ToolInfo> {
        self.index.get(name).map(|&i| &self.tools[i])
    }

    /// The connected servers' names.
    pub fn servers(&self) -> impl Iterator<Item = &str> {
        self.clients.keys().map(String::as_str)
    }

    /// Calls the tool offered as `name` with `args` (a JSON object, or null for none) and
    /// waits at most `timeout`. A tool that reports failure is `Ok` with `is_error`.
    pub async fn call(
        &self,
        name: &str,
        args: Value,
        timeout: Duration,
    ) -> Result<ToolOutput, McpError> {
        let info = self
            .get(name)
            .ok_or_else(|| McpError::UnknownTool(name.to_string()))?;
        let client = self
            .clients
            .get(&info.server)
            .ok_or_else(|| McpError::UnknownTool(name.to_string()))?;
        let call_error = |message: String| McpError::Call {
            server: info.server.clone(),
            tool: info.tool.clone(),
            message,
        };
        let mut params = CallToolRequestParams::new(info.tool.clone());
        match args {
            Value::Object(map) => params = params.with_arguments(map),
            Value::Null => {}
            other => {
                return Err(call_error(format!(
                    "arguments must be a JSON object, got {other}"
                )));
            }
        }
        let result = tokio::time::timeout(timeout, client.call_tool(params))
            .await
            .map_err(|_| McpError::Timeout {
                server: info.server.clone(),
                tool: info.tool.clone(),
                timeout,
            })?
            .map_err(|e| match e {
                // The transport could not send, or has ended: the server is gone, which the
                // caller must tell from a request the server refused.
                ServiceError::TransportSend(cause) if connection_lost(&cause) => {
                    self.disconnected(info, root_cause(&cause))
                }
                ServiceError::TransportSend(cause) => call_error(root_cause(&cause)),
                ServiceError::TransportClosed => {
                    self.disconnected(info, "the connection closed".to_string())
                }
                other => call_error(other.to_string()),
            })?;
        let v = serde_json::to_value(&result).map_err(|e| call_error(e.to_string()))?;
        Ok(output(&v))
    }

    fn disconnected(&self, info: &ToolInfo, message: String) -> McpError {
        let (transport, target) = self
            .endpoints
            .get(&info.server)
            .cloned()
            .unwrap_or(("?", String::new()));
        McpError::Disconnected {
            server: info.server.clone(),
            transport,
            target,
            tool: info.tool.clone(),
            message,
        }
    }

    /// Closes every connection (stdio children are stopped).
    pub async fn close(self) {
        for (name, client) in self.clients {
            if let Err(e) = client.cancel().await {
                tracing::debug!(server = %name, error = %e, "closing MCP connection");
            }
        }
    }
}

/// A transport error and its causes, outermost first. rmcp's streamable HTTP error keeps
/// reqwest's error without exposing it as a `source`, so the walk opens it itself.
fn causes<'a>(
    e: &'a (dyn std::error::Error + 'static),
) -> Vec<&'a (dyn std::error::Error + 'static)> {
    let mut out = Vec::new();
    let mut next = Some(e);
    while let Some(c) = next {
        out.push(c);
        next = match c.downcast_ref::<StreamableHttpError<reqwest::Error>>() {
            Some(StreamableHttpError::Client(r)) => Some(r as &(dyn std::error::Error + 'static)),
            _ => c.source(),
        };
    }
    out
}

/// Whether a transport error means the server cannot be reached any more (refused, reset,
/// closed, a broken pipe to a stdio child) rather than an answer it gave (an HTTP error
/// status, a bad content type), which leaves the server usable.
fn connection_lost(e: &(dyn std::error::Error + 'static)) -> bool {
    use std::io::ErrorKind::*;
    causes(e).into_iter().any(|c| {
        if let Some(r) = c.downcast_ref::<reqwest::Error>() {
            return r.is_connect() || r.is_request() || r.is_body();
        }
        if let Some(io) = c.downcast_ref::<std::io::Error>() {
            return matches!(
                io.kind(),
                ConnectionRefused
                    | ConnectionReset
                    | ConnectionAborted
                    | BrokenPipe
                    | NotConnected
                    | UnexpectedEof
            );
        }
        matches!(
            c.downcast_ref::<StreamableHttpError<reqwest::Error>>(),
            Some(
                StreamableHttpError::UnexpectedEndOfStream
                    | StreamableHttpError::TransportChannelClosed
            )
        )
    })
}

/// The innermost cause of a transport error (`Connection refused (os error 111)`): the
/// outer layers name rmcp's and reqwest's internals, which tell a reader nothing.
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    causes(e)
        .last()
        .map_or_else(|| e.to_string(), |c| c.to_string())
}

/// A `CallToolResult` (as JSON, so every content type is handled alike) as a [`ToolOutput`].
fn output(v: &Value) -> ToolOutput {
    let mut parts = Vec::new();
    for c in v
        .get("content")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        match c.get("type").and_then(Value::as_str) {
            Some("text") => parts.push(c["text"].as_str().unwrap_or_default().to_string()),
            Some("resource") => match c.pointer("/resource/text").and_then(Value::as_str) {
                Some(text) => parts.push(text.to_string()),
                None => parts.push(format!(
                    "[resource {}]",
                    c.pointer("/resource/uri")
                        .and_then(Value::as_str)
                        .unwrap_or("?")
                )),
            },
            Some(kind) => parts.push(format!(
                "[{kind} {}]",
                c.get("mimeType").and_then(Value::as_str).unwrap_or("")
            )),
            None => {}
        }
    }
    let structured = v.get("structuredContent").cloned();
    let text = match (&structured, parts.is_empty()) {
        (Some(s), true) => s.to_string(),
        _ => parts.join("\n"),
    };
    ToolOutput {
        text,
        structured,
        is_error: v.get("isError").and_then(Value::as_bool).unwrap_or(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_provider_safe_and_unique() {
        assert_eq!(
            exposed_name("monitoring", "get_system_metrics"),
            "mcp__monitoring__get_system_metrics"
        );
        assert_eq!(
            exposed_name("log analytics", "a.b/c"),
            "mcp__log_analytics__a_b_c"
        );
        let long = exposed_name("server", &"x".repeat(100));
        assert_eq!(long.len(), 64);
        assert_ne!(long, exposed_name("server", &"x".repeat(101)));
        let re = |s: &str| {
            !s.is_empty()
                && s.len() <= 64
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        };
        assert!(re(&long));
        let mut taken = HashMap::new();
        taken.insert("mcp__a__b_c".to_string(), 0);
        assert_eq!(dedupe(exposed_name("a", "b.c"), &taken), "mcp__a__b_c_2");
        taken.insert("mcp__a__b_c_2".to_string(), 1);
        assert_eq!(dedupe("mcp__a__b_c".to_string(), &taken), "mcp__a__b_c_3");
        let full = "y".repeat(64);
        taken.insert(full.clone(), 2);
        assert_eq!(dedupe(full, &taken).len(), 64);
    }

    #[test]
    fn destructive_rule_follows_spec_defaults() {
        let mut t = ToolInfo {
            name: "n".into(),
            server: "s".into(),
            tool: "t".into(),
            title: None,
            description: String::new(),
            input_schema: serde_json::json!({"type": "object"}),
            output_schema: None,
            read_only_hint: None,
            destructive_hint: None,
        };
        assert!(t.is_destructive(), "unannotated counts as destructive");
        t.destructive_hint = Some(false);
        assert!(!t.is_destructive() && !t.is_read_only(), "additive");
        t.read_only_hint = Some(true);
        t.destructive_hint = Some(true);
        assert!(!t.is_destructive() && t.is_read_only(), "read-only wins");
    }

    #[test]
    fn output_prefers_text_then_structured() {
        let o = output(
            &serde_json::json!({"content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}],
            "structuredContent": {"x": 1}, "isError": true}),
        );
        assert_eq!(o.text, "a\nb");
        assert!(o.is_error);
        let o = output(&serde_json::json!({"content": [], "structuredContent": {"x": 1}}));
        assert_eq!(o.text, r#"{"x":1}"#);
    }
}
