//! Every tool's input and output schema made portable: standard JSON Schema 2020-12 that every
//! MCP client reads without a warning.
//!
//! rmcp generates the schemas with schemars and its own fixed settings, so no generator-level
//! setting of ours reaches them; the one place they can all be changed is the router, once,
//! when a server's tools are built ([`portable`]). What schemars writes and clients trip over:
//!
//! - `format: "uint64" | "uint32" | "uint" | "int64" | "double" | …` — not standard formats;
//!   Ajv (the TypeScript SDK, Inspector, Claude Code, mcp-remote) prints "unknown format
//!   ignored" for each. Non-standard formats are dropped; unsigned integers keep
//!   `minimum: 0`, which schemars already writes (it is ensured here too).
//! - type arrays such as `["string", "null"]` for `Option<T>` — legal, but generated models
//!   and form builders handle them poorly; they become
//!   `anyOf: [{type: "string", …}, {type: "null"}]`, the form pydantic and zod emit.
//! - the boolean schema `true` (`items: true` for a list of JSON values,
//!   `additionalProperties: true` for a JSON object) — it means "anything", exactly what the
//!   keyword's absence means, so the keyword is dropped. `additionalProperties: false` (unknown
//!   arguments refused) is kept: every client understands it and it is the contract.

use std::sync::Arc;

use rmcp::{handler::server::router::tool::ToolRouter, model::JsonObject};
use schemars::{
    Schema,
    transform::{Transform, transform_subschemas},
};
use serde_json::{Map, Value};

/// The formats of JSON Schema 2020-12 (§7.3), the only ones kept.
pub const STANDARD_FORMATS: &[&str] = &[
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

/// Formats schemars writes for unsigned integers: the value is at least 0.
const UNSIGNED_FORMATS: &[&str] = &["uint", "uint8", "uint16", "uint32", "uint64", "uint128"];

/// Keywords that describe a value rather than constrain it: they stay beside the `anyOf` a
/// type array becomes, everything else goes into its non-null branch.
const ANNOTATIONS: &[&str] = &[
    "title",
    "description",
    "default",
    "examples",
    "deprecated",
    "readOnly",
    "writeOnly",
    "$comment",
    "$schema",
    "$id",
    "$defs",
];

/// Makes every tool's schemas in `router` portable (see the module documentation).
pub fn portable<S>(mut router: ToolRouter<S>) -> ToolRouter<S> {
    for route in router.map.values_mut() {
        let tool = &mut route.attr;
        tool.input_schema = Arc::new(portable_object(&tool.input_schema));
        if let Some(output) = &tool.output_schema {
            tool.output_schema = Some(Arc::new(portable_object(output)));
        }
    }
    router
}

/// One schema object made portable.
pub fn portable_object(schema: &JsonObject) -> JsonObject {
    let mut schema = Schema::from(schema.clone());
    Portable.transform(&mut schema);
    match schema.to_value() {
        Value::Object(object) => object,
        // A root object stays an object: no rule below turns one into a boolean.
        _ => JsonObject::new(),
    }
}

/// The transform, applied to every subschema (depth first).
struct Portable;

impl Transform for Portable {
    fn transform(&mut self, schema: &mut Schema) {
        transform_subschemas(self, schema);
        let Some(object) = schema.as_object_mut() else {
            return;
        };
        drop_true_schemas(object);
        standard_format(object);
        split_type_array(object);
    }
}

/// `items: true`, `additionalProperties: true` and the like mean "anything": drop them.
fn drop_true_schemas(object: &mut Map<String, Value>) {
    for key in [
        "items",
        "additionalProperties",
        "unevaluatedProperties",
        "unevaluatedItems",
        "propertyNames",
        "contains",
    ] {
        if object.get(key) == Some(&Value::Bool(true)) {
            object.remove(key);
        }
    }
}

/// Drops a non-standard `format`, keeping `minimum: 0` for unsigned integers.
fn standard_format(object: &mut Map<String, Value>) {
    let Some(format) = object.get("format").and_then(Value::as_str) else {
        return;
    };
    if STANDARD_FORMATS.contains(&format) {
        return;
    }
    let unsigned = UNSIGNED_FORMATS.contains(&format);
    object.remove("format");
    if unsigned {
        let at_least_zero = object
            .get("minimum")
            .and_then(Value::as_f64)
            .is_some_and(|m| m >= 0.0);
        if !at_least_zero {
            object.insert("minimum".into(), Value::from(0));
        }
    }
}

/// `type: ["string", "null"]` becomes `anyOf: [{type: "string", …}, {type: "null"}]`, the
/// annotations staying outside; a type array without `null` becomes one branch per type.
fn split_type_array(object: &mut Map<String, Value>) {
    let Some(Value::Array(types)) = object.get("type") else {
        return;
    };
    let types: Vec<Value> = types.clone();
    if types.len() == 1 {
        if let Some(only) = types.into_iter().next() {
            object.insert("type".into(), only);
        }
        return;
    }
    object.remove("type");
    let (annotations, constraints): (Map<String, Value>, Map<String, Value>) =
        std::mem::take(object)
            .into_iter()
            .partition(|(k, _)| ANNOTATIONS.contains(&k.as_str()));
    let branches = types
        .into_iter()
        .map(|t| {
            let mut branch = Map::new();
            if t.as_str() != Some("null") {
                // Constraints of one type only bind values of that type, so each non-null
                // branch can carry them all.
                branch.extend(constraints.clone());
            }
            branch.insert("type".into(), t);
            Value::Object(branch)
        })
        .collect();
    *object = annotations;
    object.insert("anyOf".into(), Value::Array(branches));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn portable_value(v: Value) -> Value {
        let Value::Object(o) = v else { panic!() };
        Value::Object(portable_object(&o))
    }

    #[test]
    fn a_nullable_unsigned_integer_becomes_any_of_with_minimum_zero() {
        let out = portable_value(json!({
            "type": "object",
            "properties": {"n": {"description": "d", "type": ["integer", "null"], "format": "uint64", "minimum": 0}}
        }));
        assert_eq!(
            out["properties"]["n"],
            json!({"description": "d", "anyOf": [{"type": "integer", "minimum": 0}, {"type": "null"}]})
        );
    }

    #[test]
    fn signed_and_float_formats_are_dropped_standard_ones_kept() {
        let out = portable_value(json!({
            "type": "object",
            "$defs": {"X": {"type": "object", "properties": {
                "a": {"type": "integer", "format": "int64"},
                "b": {"type": "number", "format": "double"},
                "c": {"type": "string", "format": "date-time"},
                "d": {"type": "integer", "format": "uint32"}
            }}}
        }));
        let p = &out["$defs"]["X"]["properties"];
        assert_eq!(p["a"], json!({"type": "integer"}));
        assert_eq!(p["b"], json!({"type": "number"}));
        assert_eq!(p["c"], json!({"type": "string", "format": "date-time"}));
        assert_eq!(p["d"], json!({"type": "integer", "minimum": 0}));
    }

    #[test]
    fn true_schemas_are_dropped_false_additional_properties_kept() {
        let out = portable_value(json!({
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "list": {"type": "array", "items": true},
                "obj": {"type": ["object", "null"], "additionalProperties": true}
            }
        }));
        assert_eq!(out["additionalProperties"], json!(false));
        assert_eq!(out["properties"]["list"], json!({"type": "array"}));
        assert_eq!(
            out["properties"]["obj"],
            json!({"anyOf": [{"type": "object"}, {"type": "null"}]})
        );
    }
}
