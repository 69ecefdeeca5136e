//! Server configs in the shape of the Claude Agent SDK's `mcp_servers` and Claude Code's
//! `.mcp.json`: a map from name to `{type: "http" | "sse" | "stdio", ...}`, in JSON or TOML.

use std::{collections::BTreeMap, path::Path};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::McpError;

/// How to reach one MCP server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ServerConfig {
    /// Streamable HTTP (`/mcp`).
    #[serde(alias = "streamable-http", alias = "streamable_http")]
    Http {
        /// Endpoint, e.g. `http://127.0.0.1:9001/mcp`.
        url: String,
        /// Extra headers on every request (`Authorization`, ...).
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        headers: BTreeMap<String, String>,
    },
    /// The 2024-11-05 HTTP+SSE transport (`/sse`).
    Sse {
        /// The event-stream URL, e.g. `http://127.0.0.1:9001/sse`.
        url: String,
        /// Extra headers on every request.
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        headers: BTreeMap<String, String>,
    },
    /// A child process speaking JSON-RPC on stdin/stdout.
    Stdio {
        /// Program to run.
        command: String,
        /// Its arguments.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        args: Vec<String>,
        /// Extra environment variables.
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        env: BTreeMap<String, String>,
    },
}

impl ServerConfig {
    /// `http`, `sse` or `stdio`.
    pub fn transport(&self) -> &'static str {
        match self {
            ServerConfig::Http { .. } => "http",
            ServerConfig::Sse { .. } => "sse",
            ServerConfig::Stdio { .. } => "stdio",
        }
    }

    /// The URL or the command line, for messages.
    pub fn target(&self) -> String {
        match self {
            ServerConfig::Http { url, .. } | ServerConfig::Sse { url, .. } => url.clone(),
            ServerConfig::Stdio { command, args, .. } => std::iter::once(command.as_str())
                .chain(args.iter().map(String::as_str))
                .collect::<Vec<_>>()
                .join(" "),
        }
    }
}

/// Every configured server, by name (sorted, so tool order is stable).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct McpServersConfig(pub BTreeMap<String, ServerConfig>);

impl McpServersConfig {
    /// Parses JSON: either the bare map or `{"mcpServers": {...}}` (Claude Code's `.mcp.json`).
    /// An entry without `type` but with `command` is stdio, as in Claude's configs. As in
    /// Claude Code, `${VAR}` and `${VAR:-default}` in any string are replaced from the
    /// environment, so tokens stay out of the file.
    pub fn from_json(text: &str) -> Result<Self, McpError> {
        let v: Value = serde_json::from_str(text)
            .map_err(|e| McpError::Config(format!("not valid JSON: {e}")))?;
        Self::from_value(v)
    }

    /// Parses TOML: either a table of servers or one under `[mcp_servers]` / `[mcpServers]`,
    /// e.g. `[mcp_servers.monitoring] type = "http"  url = "http://127.0.0.1:9001/mcp"`.
    pub fn from_toml(text: &str) -> Result<Self, McpError> {
        let v: Value =
            toml::from_str(text).map_err(|e| McpError::Config(format!("not valid TOML: {e}")))?;
        Self::from_value(v)
    }

    /// Reads a `.json` or `.toml` file.
    pub fn from_path(path: &Path) -> Result<Self, McpError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| McpError::Config(format!("cannot read {}: {e}", path.display())))?;
        match path.extension().and_then(|e| e.to_str()) {
            Some("toml") => Self::from_toml(&text),
            _ => Self::from_json(&text),
        }
        .map_err(|e| McpError::Config(format!("{}: {e}", path.display())))
    }

    fn from_value(mut v: Value) -> Result<Self, McpError> {
        for key in ["mcpServers", "mcp_servers"] {
            if let Some(inner) = v.get_mut(key) {
                v = inner.take();
                break;
            }
        }
        let Value::Object(map) = v else {
            return Err(McpError::Config(
                "expected a table of servers: name -> {type, url | command, ...}".into(),
            ));
        };
        let mut out = BTreeMap::new();
        for (name, mut entry) in map {
            if let Value::Object(o) = &mut entry
                && !o.contains_key("type")
                && o.contains_key("command")
            {
                o.insert("type".into(), Value::String("stdio".into()));
            }
            expand_env(&mut entry)
                .map_err(|e| McpError::Config(format!("server `{name}`: {e}")))?;
            let server: ServerConfig = serde_json::from_value(entry).map_err(|e| {
                McpError::Config(format!(
                    "server `{name}`: {e} (expected type = \"http\" with url, \"sse\" with url, \
                     or \"stdio\" with command)"
                ))
            })?;
            out.insert(name, server);
        }
        Ok(Self(out))
    }
}

/// Replaces `${VAR}` / `${VAR:-default}` in every string of `v`.
fn expand_env(v: &mut Value) -> Result<(), String> {
    match v {
        Value::String(s) => *s = expand_str(s)?,
        Value::Array(a) => a.iter_mut().try_for_each(expand_env)?,
        Value::Object(o) => o.values_mut().try_for_each(expand_env)?,
        _ => {}
    }
    Ok(())
}

fn expand_str(s: &str) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| format!("unclosed `${{` in `{s}`"))?;
        let expr = &after[..end];
        let (var, default) = match expr.split_once(":-") {
            Some((v, d)) => (v, Some(d)),
            None => (expr, None),
        };
        match (std::env::var(var).ok().filter(|v| !v.is_empty()), default) {
            (Some(value), _) => out.push_str(&value),
            (None, Some(d)) => out.push_str(d),
            (None, None) => {
                return Err(format!(
                    "environment variable {var} is not set (used as ${{{var}}}; set it or \
                     write ${{{var}:-default}})"
                ));
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_shape_json_and_claude_code_shape() {
        let seed = r#"{
            "monitoring-analysis": {"type": "sse", "url": "http://127.0.0.1:9001/sse"},
            "workflow": {"type": "http", "url": "http://127.0.0.1:9002/mcp",
                         "headers": {"Authorization": "Bearer t"}},
            "local": {"command": "my-server", "args": ["--stdio"], "env": {"X": "1"}}
        }"#;
        let c = McpServersConfig::from_json(seed).unwrap();
        assert_eq!(c.0.len(), 3);
        assert_eq!(c.0["monitoring-analysis"].transport(), "sse");
        assert_eq!(
            c.0["workflow"],
            ServerConfig::Http {
                url: "http://127.0.0.1:9002/mcp".into(),
                headers: [("Authorization".to_string(), "Bearer t".to_string())].into(),
            }
        );
        assert_eq!(c.0["local"].target(), "my-server --stdio");
        let wrapped = format!(r#"{{"mcpServers": {seed}}}"#);
        assert_eq!(McpServersConfig::from_json(&wrapped).unwrap(), c);
    }

    #[test]
    fn env_expansion() {
        // PATH is set in any test environment; the other name is not.
        let path = std::env::var("PATH").unwrap();
        let c = McpServersConfig::from_json(
            r#"{"x": {"type": "http", "url": "http://${OPSMCP_TEST_UNSET_HOST:-127.0.0.1}:1/mcp",
                "headers": {"X-Path": "p=${PATH}"}}}"#,
        )
        .unwrap();
        assert_eq!(
            c.0["x"],
            ServerConfig::Http {
                url: "http://127.0.0.1:1/mcp".into(),
                headers: [("X-Path".to_string(), format!("p={path}"))].into(),
            }
        );
        let err = McpServersConfig::from_json(
            r#"{"x": {"type": "http", "url": "http://h/", "headers": {"Authorization": "Bearer ${OPSMCP_TEST_UNSET_TOKEN}"}}}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("OPSMCP_TEST_UNSET_TOKEN is not set"), "{err}");
    }

    #[test]
    fn toml_and_clear_errors() {
        let t = r#"
            [mcp_servers.monitoring]
            type = "http"
            url = "http://127.0.0.1:9001/mcp"
            [mcp_servers.fixture]
            type = "stdio"
            command = "fixture"
        "#;
        let c = McpServersConfig::from_toml(t).unwrap();
        assert_eq!(c.0["monitoring"].transport(), "http");
        assert_eq!(c.0["fixture"].transport(), "stdio");
        let err = McpServersConfig::from_json(r#"{"x": {"type": "websocket", "url": "ws://"}}"#)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("server `x`") && err.contains("websocket"),
            "{err}"
        );
        let err = McpServersConfig::from_json(r#"{"x": {"type": "http"}}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("url"), "{err}");
    }
}
