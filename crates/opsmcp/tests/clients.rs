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
