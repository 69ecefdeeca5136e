//! Test-only MCP server implementing every fixture that the official MCP
//! conformance suite (`@modelcontextprotocol/conformance` 0.1.16) calls by
//! name: tools `test_*`, resources `test://...`, prompts `test_*_prompt`,
//! completion, logging and resource subscriptions.
//!
//! It is never shipped: it exists so that the conformance suite exercises
//! *our* hosting layer (`opsmcp-mcp`) with a handler that has everything the
//! suite asks for. See `tests/conformance/README.md` for the scenario list.
#![allow(deprecated)] // logging, sampling and resources/subscribe are legacy-era MCP features the suite still tests

use std::{
    collections::BTreeSet,
    sync::{Arc, Mutex},
    time::Duration,
};

use rmcp::{
    ErrorData as McpError, Peer, RoleServer, ServerHandler,
    handler::server::{
        router::{prompt::PromptRouter, tool::ToolRouter},
        wrapper::Parameters,
    },
    model::{
        CallToolResult, CompleteRequestParams, CompleteResult, CompletionInfo, ContentBlock,
        CreateMessageRequestParams, ElicitRequestParams, Implementation, JsonObject,
        ListResourceTemplatesResult, ListResourcesResult, LoggingLevel,
        LoggingMessageNotificationParam, PaginatedRequestParams, ProgressNotificationParam,
        PromptMessage, ReadResourceRequestParams, ReadResourceResponse, ReadResourceResult,
        Reference, RequestMetaObject, Resource, ResourceContents, ResourceTemplate, Role,
        SamplingMessage, ServerCapabilities, ServerConfig, SetLevelRequestParams,
        SubscribeRequestParams, UnsubscribeRequestParams,
    },
    prompt, prompt_handler, prompt_router,
    service::RequestContext,
    tool, tool_handler, tool_router,
};
use serde::Deserialize;
use serde_json::json;

/// 1x1 red pixel PNG.
pub const RED_PIXEL_PNG_BASE64: &str =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC";
/// 10 ms of a 440 Hz tone, 8 kHz 8-bit mono PCM WAV.
pub const TONE_WAV_BASE64: &str = "UklGRnQAAABXQVZFZm10IBAAAAABAAEAQB8AAEAfAAABAAgAZGF0YVAAAACAob/W4uLXwqSDYUIrHhwmO1h5m7rS4OPaxqqJZ0cvHxwkN1JzlbXP3+Pcy7CPbU0yIRwhMk1tj7DL3OPfz7WVc1I3JBwfL0dniarG2uPg0g==";

pub const STATIC_TEXT_URI: &str = "test://static-text";
pub const STATIC_TEXT: &str = "This is the content of the static text resource.";
pub const STATIC_BINARY_URI: &str = "test://static-binary";
pub const WATCHED_URI: &str = "test://watched-resource";
pub const TEMPLATE_URI: &str = "test://template/{id}/data";

/// Values offered by `completion/complete` for any prompt argument.
const COMPLETION_WORDS: &[&str] = &[
    "paris", "park", "party", "test", "testing", "tested", "value1", "value2",
];

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct SamplingArgs {
    /// The prompt to send to the LLM
    pub prompt: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct ElicitationArgs {
    /// The message to show the user
    pub message: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct PromptArgs {
    /// First test argument
    pub arg1: String,
    /// Second test argument
    pub arg2: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct EmbeddedResourcePromptArgs {
    /// URI of the resource to embed
    #[serde(rename = "resourceUri")]
    #[schemars(rename = "resourceUri")]
    pub resource_uri: String,
}

/// One instance per MCP session (or per request when the transport is stateless).
#[derive(Clone)]
pub struct FixtureServer {
    tool_router: ToolRouter<Self>,
    prompt_router: PromptRouter<Self>,
    /// Minimum level for `notifications/message`, set by `logging/setLevel`.
    log_level: Arc<Mutex<LoggingLevel>>,
    subscriptions: Arc<Mutex<BTreeSet<String>>>,
}

impl Default for FixtureServer {
    fn default() -> Self {
        Self::new()
    }
}

fn level_rank(level: LoggingLevel) -> u8 {
    match level {
        LoggingLevel::Debug => 0,
        LoggingLevel::Info => 1,
        LoggingLevel::Notice => 2,
        LoggingLevel::Warning => 3,
        LoggingLevel::Error => 4,
        LoggingLevel::Critical => 5,
        LoggingLevel::Alert => 6,
        LoggingLevel::Emergency => 7,
    }
}

fn internal(e: impl std::fmt::Display) -> McpError {
    McpError::internal_error(e.to_string(), None)
}

fn schema(value: serde_json::Value) -> Arc<JsonObject> {
    match value {
        serde_json::Value::Object(map) => Arc::new(map),
        _ => unreachable!("schemas are JSON objects"),
    }
}

fn json_schema_2020_12() -> Arc<JsonObject> {
    schema(json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "$defs": {
            "address": {
                "type": "object",
                "properties": {
                    "street": { "type": "string" },
                    "city": { "type": "string" }
                }
            }
        },
        "properties": {
            "name": { "type": "string" },
            "address": { "$ref": "#/$defs/address" }
        },
        "additionalProperties": false
    }))
}

/// `elicitation/create` params with a default for every primitive type (SEP-1034).
fn sep1034_elicitation() -> serde_json::Value {
    json!({
        "mode": "form",
        "message": "Please review and update the form fields with defaults",
        "requestedSchema": {
            "type": "object",
            "properties": {
                "name": { "type": "string", "description": "User name", "default": "John Doe" },
                "age": { "type": "integer", "description": "User age", "default": 30 },
                "score": { "type": "number", "description": "User score", "default": 95.5 },
                "status": {
                    "type": "string",
                    "description": "User status",
                    "enum": ["active", "inactive", "pending"],
                    "default": "active"
                },
                "verified": { "type": "boolean", "description": "Verification status", "default": true }
            },
            "required": []
        }
    })
}

/// `elicitation/create` params with all five enum schema shapes (SEP-1330).
fn sep1330_elicitation() -> serde_json::Value {
    json!({
        "mode": "form",
        "message": "Please select options from the enum fields",
        "requestedSchema": {
            "type": "object",
            "properties": {
                "untitledSingle": {
                    "type": "string",
                    "description": "Select one option",
                    "enum": ["option1", "option2", "option3"]
                },
                "titledSingle": {
                    "type": "string",
                    "description": "Select one option with titles",
                    "oneOf": [
                        { "const": "value1", "title": "First Option" },
                        { "const": "value2", "title": "Second Option" },
                        { "const": "value3", "title": "Third Option" }
                    ]
                },
                "legacyEnum": {
                    "type": "string",
                    "description": "Select one option (legacy)",
                    "enum": ["opt1", "opt2", "opt3"],
                    "enumNames": ["Option One", "Option Two", "Option Three"]
                },
                "untitledMulti": {
                    "type": "array",
                    "description": "Select multiple options",
                    "minItems": 1,
                    "maxItems": 3,
                    "items": { "type": "string", "enum": ["option1", "option2", "option3"] }
                },
                "titledMulti": {
                    "type": "array",
                    "description": "Select multiple options with titles",
                    "minItems": 1,
                    "maxItems": 3,
                    "items": {
                        "anyOf": [
                            { "const": "value1", "title": "First Choice" },
                            { "const": "value2", "title": "Second Choice" },
                            { "const": "value3", "title": "Third Choice" }
                        ]
                    }
                }
            },
            "required": []
        }
    })
}

impl FixtureServer {
    pub fn new() -> Self {
        Self {
            tool_router: Self::tool_router(),
            prompt_router: Self::prompt_router(),
            log_level: Arc::new(Mutex::new(LoggingLevel::Debug)),
            subscriptions: Arc::new(Mutex::new(BTreeSet::new())),
        }
    }

    async fn log(
        &self,
        peer: &Peer<RoleServer>,
        level: LoggingLevel,
        message: &str,
    ) -> Result<(), McpError> {
        let min = *self.log_level.lock().expect("log level lock");
        if level_rank(level) < level_rank(min) {
            return Ok(());
        }
        peer.notify_logging_message(
            LoggingMessageNotificationParam::new(level, json!(message))
                .with_logger("conformance-fixture"),
        )
        .await
        .map_err(internal)
    }

    /// Server-to-client requests need the client's declared capabilities. A stateless `/mcp`
    /// request has no `initialize` behind it, so the capabilities are unknown and an answer
    /// could not be routed back anyway: fail at once instead of waiting for the client's
    /// request timeout.
    fn require_client_capability(
        peer: &Peer<RoleServer>,
        what: &str,
        declared: impl Fn(&rmcp::model::ClientCapabilities) -> bool,
    ) -> Result<(), CallToolResult> {
        match peer.peer_info() {
            Some(info) if declared(&info.capabilities) => Ok(()),
            Some(_) => Err(CallToolResult::error(vec![ContentBlock::text(format!(
                "the client did not declare the {what} capability"
            ))])),
            None => Err(CallToolResult::error(vec![ContentBlock::text(format!(
                "{what} needs a session: this request carries no initialize handshake (stateless /mcp), so the client's capabilities are unknown and its answer could not be routed back"
            ))])),
        }
    }

    async fn elicit_raw(
        &self,
        peer: &Peer<RoleServer>,
        params: serde_json::Value,
    ) -> Result<CallToolResult, McpError> {
        if let Err(result) =
            Self::require_client_capability(peer, "elicitation", |c| c.elicitation.is_some())
        {
            return Ok(result);
        }
        let params: ElicitRequestParams = serde_json::from_value(params).map_err(internal)?;
        let result = peer.create_elicitation(params).await.map_err(internal)?;
        let content = result.content.unwrap_or(serde_json::Value::Null);
        Ok(CallToolResult::success(vec![ContentBlock::text(format!(
            "Elicitation completed: action={}, content={}",
            serde_json::to_value(&result.action)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            content
        ))]))
    }
}

#[tool_router]
impl FixtureServer {
    #[tool(description = "Returns a simple text response")]
    async fn test_simple_text(&self) -> CallToolResult {
        CallToolResult::success(vec![ContentBlock::text(
            "This is a simple text response for testing.",
        )])
    }

    #[tool(description = "Returns a 1x1 PNG image")]
    async fn test_image_content(&self) -> CallToolResult {
        CallToolResult::success(vec![ContentBlock::image(RED_PIXEL_PNG_BASE64, "image/png")])
    }

    #[tool(description = "Returns a short WAV audio clip")]
    async fn test_audio_content(&self) -> CallToolResult {
        CallToolResult::success(vec![ContentBlock::audio(TONE_WAV_BASE64, "audio/wav")])
    }

    #[tool(description = "Returns an embedded text resource")]
    async fn test_embedded_resource(&self) -> CallToolResult {
        CallToolResult::success(vec![ContentBlock::resource(
            ResourceContents::text(
                "This is an embedded resource content.",
                "test://embedded-resource",
            )
            .with_mime_type("text/plain"),
        )])
    }

    #[tool(description = "Returns text, image and embedded resource content")]
    async fn test_multiple_content_types(&self) -> CallToolResult {
        CallToolResult::success(vec![
            ContentBlock::text("Multiple content types test:"),
            ContentBlock::image(RED_PIXEL_PNG_BASE64, "image/png"),
            ContentBlock::resource(
                ResourceContents::text(
                    r#"{"test":"data","value":123}"#,
                    "test://mixed-content-resource",
                )
                .with_mime_type("application/json"),
            ),
        ])
    }

    #[tool(description = "Sends three info log notifications while it runs")]
    async fn test_tool_with_logging(
        &self,
        peer: Peer<RoleServer>,
    ) -> Result<CallToolResult, McpError> {
        self.log(&peer, LoggingLevel::Info, "Tool execution started")
            .await?;
        tokio::time::sleep(Duration::from_millis(50)).await;
        self.log(&peer, LoggingLevel::Info, "Tool processing data")
            .await?;
        tokio::time::sleep(Duration::from_millis(50)).await;
        self.log(&peer, LoggingLevel::Info, "Tool execution completed")
            .await?;
        Ok(CallToolResult::success(vec![ContentBlock::text(
            "Tool with logging executed successfully",
        )]))
    }

    #[tool(description = "Reports progress 0/100, 50/100, 100/100 when given a progress token")]
    async fn test_tool_with_progress(
        &self,
        peer: Peer<RoleServer>,
        meta: RequestMetaObject,
    ) -> Result<CallToolResult, McpError> {
        let token = meta.get_progress_token();
        for (i, progress) in [0.0, 50.0, 100.0].into_iter().enumerate() {
            if i > 0 {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            if let Some(token) = &token {
                peer.notify_progress(
                    ProgressNotificationParam::new(token.clone(), progress)
                        .with_total(100.0)
                        .with_message(format!("Completed step {}/3", i + 1)),
                )
                .await
                .map_err(internal)?;
            }
        }
        Ok(CallToolResult::success(vec![ContentBlock::text(
            "Tool with progress executed successfully",
        )]))
    }

    #[tool(description = "Always fails with isError: true")]
    async fn test_error_handling(&self) -> CallToolResult {
        CallToolResult::error(vec![ContentBlock::text(
            "This tool intentionally returns an error for testing",
        )])
    }

    #[tool(description = "Asks the client to sample an LLM completion for the prompt")]
    async fn test_sampling(
        &self,
        peer: Peer<RoleServer>,
        Parameters(SamplingArgs { prompt }): Parameters<SamplingArgs>,
    ) -> Result<CallToolResult, McpError> {
        if let Err(result) =
            Self::require_client_capability(&peer, "sampling", |c| c.sampling.is_some())
        {
            return Ok(result);
        }
        let result = peer
            .create_message(CreateMessageRequestParams::new(
                vec![SamplingMessage::user_text(prompt)],
                100,
            ))
            .await
            .map_err(internal)?;
        let text = result
            .message
            .content
            .into_vec()
            .into_iter()
            .filter_map(|block| serde_json::to_value(block).ok())
            .filter_map(|v| v.get("text").and_then(|t| t.as_str()).map(str::to_owned))
            .collect::<Vec<_>>()
            .join("\n");
        Ok(CallToolResult::success(vec![ContentBlock::text(format!(
            "LLM response: {text}"
        ))]))
    }

    #[tool(description = "Asks the client for a username and email (elicitation)")]
    async fn test_elicitation(
        &self,
        peer: Peer<RoleServer>,
        Parameters(ElicitationArgs { message }): Parameters<ElicitationArgs>,
    ) -> Result<CallToolResult, McpError> {
        let params = json!({
            "mode": "form",
            "message": message,
            "requestedSchema": {
                "type": "object",
                "properties": {
                    "username": { "type": "string", "description": "User's response" },
                    "email": { "type": "string", "description": "User's email address" }
                },
                "required": ["username", "email"]
            }
        });
        if let Err(result) =
            Self::require_client_capability(&peer, "elicitation", |c| c.elicitation.is_some())
        {
            return Ok(result);
        }
        let params: ElicitRequestParams = serde_json::from_value(params).map_err(internal)?;
        let result = peer.create_elicitation(params).await.map_err(internal)?;
        Ok(CallToolResult::success(vec![ContentBlock::text(format!(
            "User response: action={}, content={}",
            serde_json::to_value(&result.action).unwrap_or_default(),
            result.content.unwrap_or(serde_json::Value::Null)
        ))]))
    }

    #[tool(description = "Elicitation with defaults for every primitive type (SEP-1034)")]
    async fn test_elicitation_sep1034_defaults(
        &self,
        peer: Peer<RoleServer>,
    ) -> Result<CallToolResult, McpError> {
        self.elicit_raw(&peer, sep1034_elicitation()).await
    }

    #[tool(description = "Elicitation with all five enum schema variants (SEP-1330)")]
    async fn test_elicitation_sep1330_enums(
        &self,
        peer: Peer<RoleServer>,
    ) -> Result<CallToolResult, McpError> {
        self.elicit_raw(&peer, sep1330_elicitation()).await
    }

    #[tool(
        description = "Tool with JSON Schema 2020-12 features",
        input_schema = json_schema_2020_12()
    )]
    async fn json_schema_2020_12_tool(&self, args: JsonObject) -> CallToolResult {
        CallToolResult::success(vec![ContentBlock::text(format!(
            "JSON Schema 2020-12 tool called with: {}",
            serde_json::Value::Object(args)
        ))])
    }
}

#[prompt_router]
impl FixtureServer {
    #[prompt(
        name = "test_simple_prompt",
        description = "A simple prompt without arguments"
    )]
    async fn test_simple_prompt(&self) -> Vec<PromptMessage> {
        vec![PromptMessage::new_text(
            Role::User,
            "This is a simple prompt for testing.",
        )]
    }

    #[prompt(
        name = "test_prompt_with_arguments",
        description = "A prompt with two required arguments"
    )]
    async fn test_prompt_with_arguments(
        &self,
        Parameters(PromptArgs { arg1, arg2 }): Parameters<PromptArgs>,
    ) -> Vec<PromptMessage> {
        vec![PromptMessage::new_text(
            Role::User,
            format!("Prompt with arguments: arg1='{arg1}', arg2='{arg2}'"),
        )]
    }

    #[prompt(
        name = "test_prompt_with_embedded_resource",
        description = "A prompt that embeds the resource named by resourceUri"
    )]
    async fn test_prompt_with_embedded_resource(
        &self,
        Parameters(EmbeddedResourcePromptArgs { resource_uri }): Parameters<
            EmbeddedResourcePromptArgs,
        >,
    ) -> Vec<PromptMessage> {
        vec![
            PromptMessage::new(
                Role::User,
                ContentBlock::resource(
                    ResourceContents::text("Embedded resource content for testing.", resource_uri)
                        .with_mime_type("text/plain"),
                ),
            ),
            PromptMessage::new_text(Role::User, "Please process the embedded resource above."),
        ]
    }

    #[prompt(
        name = "test_prompt_with_image",
        description = "A prompt that contains an image"
    )]
    async fn test_prompt_with_image(&self) -> Vec<PromptMessage> {
        vec![
            PromptMessage::new(
                Role::User,
                ContentBlock::image(RED_PIXEL_PNG_BASE64, "image/png"),
            ),
            PromptMessage::new_text(Role::User, "Please analyze the image above."),
        ]
    }
}

fn template_contents(uri: &str) -> Option<ResourceContents> {
    let id = uri
        .strip_prefix("test://template/")?
        .strip_suffix("/data")?;
    if id.is_empty() || id.contains('/') {
        return None;
    }
    let text = json!({ "id": id, "templateTest": true, "data": format!("Data for ID: {id}") });
    Some(ResourceContents::text(text.to_string(), uri).with_mime_type("application/json"))
}

#[tool_handler(router = self.tool_router)]
#[prompt_handler(router = self.prompt_router)]
impl ServerHandler for FixtureServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_prompts()
                .enable_resources()
                .enable_resources_subscribe()
                .enable_logging()
                .enable_completions()
                .build(),
        )
        .with_server_info(Implementation::new(
            "opsmcp-conformance-fixture",
            env!("CARGO_PKG_VERSION"),
        ))
        .with_instructions("Test-only fixture server for the MCP conformance suite.")
    }

    async fn set_level(
        &self,
        request: SetLevelRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        *self.log_level.lock().expect("log level lock") = request.level;
        Ok(())
    }

    async fn complete(
        &self,
        request: CompleteRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CompleteResult, McpError> {
        let prefix = request.argument.value.to_lowercase();
        // The same word list serves every prompt argument and template variable.
        let _ = matches!(request.r#ref, Reference::Prompt(_) | Reference::Resource(_));
        let values: Vec<String> = COMPLETION_WORDS
            .iter()
            .filter(|w| w.starts_with(&prefix))
            .map(|w| w.to_string())
            .collect();
        let info = CompletionInfo::new(values).map_err(internal)?;
        Ok(CompleteResult::new(info))
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        Ok(ListResourcesResult::with_all_items(vec![
            Resource::new(STATIC_TEXT_URI, "static-text")
                .with_description("A static text resource")
                .with_mime_type("text/plain"),
            Resource::new(STATIC_BINARY_URI, "static-binary")
                .with_description("A static binary resource (1x1 PNG)")
                .with_mime_type("image/png"),
            Resource::new(WATCHED_URI, "watched-resource")
                .with_description("A resource that can be subscribed to")
                .with_mime_type("text/plain"),
        ]))
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, McpError> {
        Ok(ListResourceTemplatesResult::with_all_items(vec![
            ResourceTemplate::new(TEMPLATE_URI, "template-data")
                .with_description("A resource template with an {id} parameter")
                .with_mime_type("application/json"),
        ]))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        let uri = request.uri.as_str();
        let contents = match uri {
            STATIC_TEXT_URI => {
                ResourceContents::text(STATIC_TEXT, uri).with_mime_type("text/plain")
            }
            STATIC_BINARY_URI => {
                ResourceContents::blob(RED_PIXEL_PNG_BASE64, uri).with_mime_type("image/png")
            }
            WATCHED_URI => ResourceContents::text("Watched resource content.", uri)
                .with_mime_type("text/plain"),
            _ => template_contents(uri).ok_or_else(|| {
                McpError::resource_not_found(
                    format!("Resource not found: {uri}"),
                    Some(json!({ "uri": uri })),
                )
            })?,
        };
        Ok(ReadResourceResult::new(vec![contents]).into())
    }

    async fn subscribe(
        &self,
        request: SubscribeRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        self.subscriptions
            .lock()
            .expect("subscriptions lock")
            .insert(request.uri);
        Ok(())
    }

    async fn unsubscribe(
        &self,
        request: UnsubscribeRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        self.subscriptions
            .lock()
            .expect("subscriptions lock")
            .remove(&request.uri);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elicitation_params_are_valid_rmcp_requests() {
        for params in [sep1034_elicitation(), sep1330_elicitation()] {
            let parsed: ElicitRequestParams = serde_json::from_value(params.clone()).unwrap();
            // What goes on the wire keeps every field the suite checks.
            let wire = serde_json::to_value(&parsed).unwrap();
            assert_eq!(
                wire["requestedSchema"]["properties"],
                params["requestedSchema"]["properties"]
            );
        }
    }

    #[test]
    fn template_substitutes_the_id() {
        let contents = template_contents("test://template/123/data").unwrap();
        let text = serde_json::to_value(&contents).unwrap()["text"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(text.contains("\"id\":\"123\""), "{text}");
        assert!(template_contents("test://template//data").is_none());
        assert!(template_contents("test://template/1/2/data").is_none());
        assert!(template_contents("test://other").is_none());
    }

    #[test]
    fn lists_every_fixture_the_suite_calls() {
        let server = FixtureServer::new();
        let tools: Vec<String> = server
            .tool_router
            .list_all()
            .into_iter()
            .map(|t| t.name.to_string())
            .collect();
        for name in [
            "test_simple_text",
            "test_image_content",
            "test_audio_content",
            "test_embedded_resource",
            "test_multiple_content_types",
            "test_tool_with_logging",
            "test_tool_with_progress",
            "test_error_handling",
            "test_sampling",
            "test_elicitation",
            "test_elicitation_sep1034_defaults",
            "test_elicitation_sep1330_enums",
            "json_schema_2020_12_tool",
        ] {
            assert!(
                tools.iter().any(|t| t == name),
                "missing tool {name}: {tools:?}"
            );
        }
        let prompts: Vec<String> = server
            .prompt_router
            .list_all()
            .into_iter()
            .map(|p| p.name.to_string())
            .collect();
        for name in [
            "test_simple_prompt",
            "test_prompt_with_arguments",
            "test_prompt_with_embedded_resource",
            "test_prompt_with_image",
        ] {
            assert!(
                prompts.iter().any(|p| p == name),
                "missing prompt {name}: {prompts:?}"
            );
        }
        let schema = server
            .tool_router
            .get("json_schema_2020_12_tool")
            .unwrap()
            .input_schema
            .clone();
        assert_eq!(
            schema["$schema"],
            "https://json-schema.org/draft/2020-12/schema"
        );
        assert_eq!(schema["additionalProperties"], false);
    }
}
