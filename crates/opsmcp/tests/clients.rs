//! What MCP clients other than ours trip over, checked against the real servers over HTTP:
//! portable tool schemas (the TypeScript SDK, Inspector, Claude Code and fastmcp read them),
//! plain-JSON answers for clients that do not accept an event stream, and CORS for browser
//! clients on allowed origins.

mod common;

use common::{Running, post_mcp};
use serde_json::{Value, json};

/// The formats JSON Schema 2020-12 defines; anything else makes Ajv print a warning.
const STANDARD_FORMATS: &[&str] = &[
    "date-time",
    "date",
    "time",
    "duration",
    "email",
    "idn-email",
    "hostname",
    "idn-hostname",
    "ipv4",
    "ipv6",
    "uri",
    "uri-reference",
    "iri",
    "iri-reference",
    "uuid",
    "uri-template",
    "json-pointer",
    "relative-json-pointer",
    "regex",
];

/// Keywords whose value is one subschema.
const ONE_SUBSCHEMA: &[&str] = &[
    "items",
    "additionalProperties",
    "not",
    "contains",
    "propertyNames",
    "if",
    "then",
    "else",
    "unevaluatedProperties",
    "unevaluatedItems",
];

/// Walks `schema`, recording what is not portable at `path`.
fn walk(schema: &Value, path: &str, problems: &mut Vec<String>) {
    let Some(object) = schema.as_object() else {
        problems.push(format!("{path}: boolean schema {schema}"));
        return;
    };
    if let Some(format) = object.get("format").and_then(Value::as_str)
        && !STANDARD_FORMATS.contains(&format)
    {
        problems.push(format!("{path}: non-standard format {format:?}"));
    }
    if let Some(t) = object.get("type")
        && !t.is_string()
    {
        problems.push(format!("{path}: type is not one name: {t}"));
    }
    if let Some(props) = object.get("properties").and_then(Value::as_object) {
        for (name, prop) in props {
            let here = format!("{path}/properties/{name}");
            if name == "from" || name == "to" {
                problems.push(format!("{here}: window field named {name:?}"));
            }
            let typed = prop.as_object().is_some_and(|p| {
                ["type", "$ref", "anyOf", "oneOf", "allOf", "enum", "const"]
                    .iter()
                    .any(|k| p.contains_key(*k))
            });
            if !typed {
                problems.push(format!("{here}: untyped property {prop}"));
            }
            walk(prop, &here, problems);
        }
    }
    for key in ["$defs", "definitions", "patternProperties"] {
        if let Some(defs) = object.get(key).and_then(Value::as_object) {
            for (name, def) in defs {
                walk(def, &format!("{path}/{key}/{name}"), problems);
            }
        }
    }
    for key in ONE_SUBSCHEMA {
        match object.get(*key) {
            // `additionalProperties: false` (unknown arguments refused) is standard and read
            // by every client; it is the one boolean schema kept.
            Some(Value::Bool(false)) if *key == "additionalProperties" => {}
            Some(sub) => walk(sub, &format!("{path}/{key}"), problems),
            None => {}
        }
    }
    for key in ["anyOf", "oneOf", "allOf", "prefixItems"] {
        if let Some(list) = object.get(key).and_then(Value::as_array) {
            for (i, sub) in list.iter().enumerate() {
                walk(sub, &format!("{path}/{key}/{i}"), problems);
            }
        }
    }
}

/// `tools/list` of the server at `base`, as a JSON-accepting client gets it.
fn tools(base: &str) -> Vec<Value> {
    let body: Value = post_mcp(base)
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
        .send()
        .expect("tools/list sent")
        .json()
        .expect("tools/list answered with JSON");
    body["result"]["tools"]
        .as_array()
        .unwrap_or_else(|| panic!("no tools in {body}"))
        .clone()
}

#[test]
fn every_tool_schema_of_every_server_is_portable_json_schema() {
    let up = Running::up(&["--scenario", "db-connection-pool-exhaustion"]);
    let mut problems = Vec::new();
    let mut checked = 0;
    let mut windows = 0;
    for server in common::ALL_SERVERS {
        for tool in tools(up.url(server)) {
            let name = tool["name"].as_str().unwrap_or_default().to_string();
            for key in ["inputSchema", "outputSchema"] {
                if let Some(schema) = tool.get(key) {
                    walk(schema, &format!("{server}/{name}/{key}"), &mut problems);
                    checked += 1;
                    // The `{start, end}` window is there, under its new names.
                    let text = schema.to_string();
                    if text.contains("\"Window\"") {
                        windows += 1;
                        assert!(
                            text.contains("\"start\"") && text.contains("\"end\""),
                            "{text}"
                        );
                    }
                }
            }
        }
    }
    assert!(checked >= 20, "only {checked} schemas seen");
    assert!(
        windows >= 4,
        "the window object is in fewer schemas than expected: {windows}"
    );
    assert!(
        problems.is_empty(),
        "{} portability problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn the_window_of_an_analysis_is_written_start_end() {
    let up = Running::up(&["--scenario", "db-connection-pool-exhaustion"]);
    let body: Value = post_mcp(up.url("monitoring"))
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": "analyze_logs", "arguments": {"timeframe": "15m"}}}))
        .send()
        .expect("call sent")
        .json()
        .expect("JSON answer");
    let window = &body["result"]["structuredContent"]["window"];
    assert!(window["start"].is_string(), "{body}");
    assert!(window["end"].is_string(), "{body}");
    assert!(
        window.get("from").is_none() && window.get("to").is_none(),
        "{window}"
    );
}

/// A POST to `BASE/mcp` with the given `Accept` (none when `None`), nothing else preset.
fn post_accepting(base: &str, accept: Option<&str>) -> reqwest::blocking::RequestBuilder {
    let mut request = reqwest::blocking::Client::new()
        .post(format!("{base}/mcp"))
        .header("mcp-protocol-version", "2025-11-25");
    if let Some(accept) = accept {
        request = request.header("accept", accept);
    }
    request
}

fn content_type(response: &reqwest::blocking::Response) -> String {
    response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

#[test]
fn clients_accepting_only_json_are_answered_with_json() {
    let up = Running::up(&["--scenario", "db-connection-pool-exhaustion"]);
    for server in common::ALL_SERVERS {
        for accept in [Some("*/*"), Some("application/json"), None] {
            let response = post_accepting(up.url(server), accept)
                .json(&json!({"jsonrpc": "2.0", "id": 7, "method": "tools/list"}))
                .send()
                .expect("sent");
            assert_eq!(response.status(), 200, "{server} {accept:?}");
            assert!(
                content_type(&response).starts_with("application/json"),
                "{server} {accept:?}: {}",
                content_type(&response)
            );
            let body: Value = response.json().expect("a JSON body");
            assert_eq!(body["id"], 7, "{body}");
            assert!(!body["result"]["tools"].as_array().unwrap().is_empty());
        }
    }
    // Something that is neither JSON nor a stream is still refused, saying what to send.
    let refused = post_accepting(up.url("monitoring"), Some("text/html"))
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}))
        .send()
        .expect("sent");
    assert_eq!(refused.status(), 406);
    let text = refused.text().unwrap();
    assert!(text.contains("application/json"), "{text}");
}

#[test]
fn with_sessions_json_only_clients_get_json_and_stream_clients_keep_their_stream() {
    let up = Running::up(&[
        "--scenario",
        "db-connection-pool-exhaustion",
        "--legacy-sessions",
        "true",
    ]);
    let base = up.url("workflow");
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "curl", "version": "1"}}});

    // JSON only: the streamed answer comes back as one JSON body, the session id with it.
    let response = post_accepting(base, Some("*/*"))
        .json(&init)
        .send()
        .expect("sent");
    assert_eq!(response.status(), 200);
    assert!(content_type(&response).starts_with("application/json"));
    let session = response
        .headers()
        .get("mcp-session-id")
        .expect("a session id")
        .to_str()
        .unwrap()
        .to_string();
    let body: Value = response.json().unwrap();
    assert_eq!(body["id"], 1, "{body}");
    assert!(body["result"]["serverInfo"].is_object(), "{body}");
    let initialized = post_accepting(base, Some("application/json"))
        .header("mcp-session-id", &session)
        .json(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
        .send()
        .expect("sent");
    assert_eq!(initialized.status(), 202);
    let list = post_accepting(base, Some("application/json"))
        .header("mcp-session-id", &session)
        .json(&json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}))
        .send()
        .expect("sent");
    assert_eq!(list.status(), 200);
    assert!(content_type(&list).starts_with("application/json"));
    let body: Value = list.json().unwrap();
    assert_eq!(body["id"], 2, "{body}");
    assert!(!body["result"]["tools"].as_array().unwrap().is_empty());

    // Both accepted: the event stream, as before.
    let streamed = post_mcp(base).json(&init).send().expect("sent");
    assert_eq!(streamed.status(), 200);
    assert!(
        content_type(&streamed).starts_with("text/event-stream"),
        "{}",
        content_type(&streamed)
    );
}

fn preflight(base: &str, origin: &str) -> reqwest::blocking::Response {
    reqwest::blocking::Client::new()
        .request(reqwest::Method::OPTIONS, format!("{base}/mcp"))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-type, accept, authorization, mcp-session-id, mcp-protocol-version, last-event-id",
        )
        .send()
        .expect("preflight sent")
}

fn header(response: &reqwest::blocking::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase()
}

#[test]
fn browser_clients_on_allowed_origins_pass_preflight_and_others_are_refused() {
    let up = Running::up(&[
        "--scenario",
        "db-connection-pool-exhaustion",
        "--allowed-origin",
        "https://console.example.com",
    ]);
    for server in common::ALL_SERVERS {
        let base = up.url(server);
        for origin in ["http://localhost:6274", "https://console.example.com"] {
            let ok = preflight(base, origin);
            assert!(
                ok.status().is_success(),
                "{server} {origin}: {}",
                ok.status()
            );
            assert_eq!(header(&ok, "access-control-allow-origin"), origin);
            let allowed = header(&ok, "access-control-allow-headers");
            for h in [
                "content-type",
                "accept",
                "authorization",
                "mcp-session-id",
                "mcp-protocol-version",
                "last-event-id",
            ] {
                assert!(allowed.contains(h), "{server}: {h} not in {allowed}");
            }
            assert!(header(&ok, "access-control-allow-methods").contains("post"));
        }

        let evil = preflight(base, "https://evil.example.com");
        assert_eq!(evil.status(), 403, "{server}");
        assert!(evil.headers().get("access-control-allow-origin").is_none());
        let why = evil.text().unwrap();
        assert!(why.contains("allowed_origins"), "{why}");

        // The actual request names the origin and exposes the session id.
        let response = post_mcp(base)
            .header("origin", "https://console.example.com")
            .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}))
            .send()
            .expect("sent");
        assert_eq!(response.status(), 200);
        assert_eq!(
            header(&response, "access-control-allow-origin"),
            "https://console.example.com"
        );
        assert!(header(&response, "access-control-expose-headers").contains("mcp-session-id"));
    }
}
