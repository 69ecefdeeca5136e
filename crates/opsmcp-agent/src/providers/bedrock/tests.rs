//! The Bedrock client against a **local stand-in for the Converse API**: an axum server on
//! loopback answering with the documented Converse JSON (a toolUse turn, a final text turn,
//! `{"message"}` error bodies, 429 `ThrottlingException` with `retry-after`). The test checks
//! the SigV4 `Authorization` header by computing the signature itself from the request it got
//! (canonical request, string to sign, HMAC chain), independently of the `aws-sigv4` crate.

use std::time::Duration;

use hmac::{Hmac, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::{AwsCredentials, Bedrock, BedrockConfig};
use crate::{
    providers::{
        Block, Message, Provider, ProviderError, Request, RetryPolicy, Role, StopReason, ToolDef,
    },
    script_server::{Recorded, ScriptServer, Scripted},
};

const MODEL: &str = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

fn config(base: &str) -> BedrockConfig {
    BedrockConfig {
        model_id: MODEL.into(),
        region: "us-east-1".into(),
        endpoint: Some(base.into()),
        max_tokens: 2048,
        retry: RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_secs(2),
        },
        credentials: Some(AwsCredentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: SECRET.into(),
            session_token: Some("session-token-example".into()),
        }),
    }
}

const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    let mut m = Hmac::<Sha256>::new_from_slice(key).unwrap();
    m.update(data.as_bytes());
    m.finalize().into_bytes().to_vec()
}

/// Recomputes the SigV4 signature of `req` from scratch and checks the Authorization header.
fn verify_sigv4(req: &Recorded) {
    let auth = req.header("authorization").expect("signed");
    let rest = auth
        .strip_prefix("AWS4-HMAC-SHA256 Credential=")
        .unwrap_or_else(|| panic!("algorithm: {auth}"));
    let (credential, rest) = rest.split_once(", SignedHeaders=").unwrap();
    let (signed_headers, signature) = rest.split_once(", Signature=").unwrap();
    let scope: Vec<&str> = credential.split('/').collect();
    assert_eq!(scope[0], "AKIDEXAMPLE");
    assert_eq!(&scope[2..], ["us-east-1", "bedrock", "aws4_request"]);
    assert_eq!(signature.len(), 64);
    let names: Vec<&str> = signed_headers.split(';').collect();
    for needed in ["content-type", "host", "x-amz-date", "x-amz-security-token"] {
        assert!(names.contains(&needed), "{needed} signed: {signed_headers}");
    }
    let amz_date = req.header("x-amz-date").unwrap();
    assert_eq!(&amz_date[..8], scope[1]);
    assert_eq!(
        req.header("x-amz-security-token").as_deref(),
        Some("session-token-example")
    );

    // Canonical URI: the path as sent, each segment URI-encoded once more (non-S3 services).
    let path = req.path.split('?').next().unwrap();
    let canonical_uri = path
        .split('/')
        .map(|seg| utf8_percent_encode(seg, UNRESERVED).to_string())
        .collect::<Vec<_>>()
        .join("/");
    let canonical_headers: String = names
        .iter()
        .map(|n| format!("{n}:{}\n", req.header(n).unwrap().trim()))
        .collect();
    let canonical_request = format!(
        "POST\n{canonical_uri}\n\n{canonical_headers}\n{signed_headers}\n{}",
        hex::encode(Sha256::digest(&req.body))
    );
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{}/us-east-1/bedrock/aws4_request\n{}",
        scope[1],
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    );
    let k_date = hmac(format!("AWS4{SECRET}").as_bytes(), scope[1]);
    let k_region = hmac(&k_date, "us-east-1");
    let k_service = hmac(&k_region, "bedrock");
    let k_signing = hmac(&k_service, "aws4_request");
    let expected = hex::encode(hmac(&k_signing, &string_to_sign));
    assert_eq!(
        signature, expected,
        "signature verifies; canonical request:\n{canonical_request}"
    );
}

/// A toolUse turn then a final text turn; the model id with its `:` works as given, the
/// requests are SigV4-signed and the signature verifies, tool definitions and toolResult
/// blocks are in Converse's shape.
#[tokio::test]
async fn tool_use_turn_then_final_text_signed() {
    let server = ScriptServer::start(vec![
        Scripted::json(
            200,
            json!({"output": {"message": {"role": "assistant", "content": [
                {"text": "Checking metrics."},
                {"toolUse": {"toolUseId": "tooluse_1", "name": "mcp__mon__get_metrics", "input": {"service": "api"}}}
            ]}}, "stopReason": "tool_use", "usage": {"inputTokens": 40, "outputTokens": 9, "totalTokens": 49},
            "metrics": {"latencyMs": 100}}),
        ),
        Scripted::json(
            200,
            json!({"output": {"message": {"role": "assistant", "content": [{"text": "Healthy."}]}},
            "stopReason": "end_turn", "usage": {"inputTokens": 60, "outputTokens": 3, "totalTokens": 63}}),
        ),
    ])
    .await;
    let client = Bedrock::new(config(&server.base)).unwrap();
    let tools = vec![ToolDef {
        name: "mcp__mon__get_metrics".into(),
        description: "Metrics".into(),
        input_schema: json!({"type": "object"}),
    }];
    let mut history = vec![Message::user("status?")];
    let mut streamed = String::new();
    let turn = client
        .complete(
            Request {
                system: "sys",
                messages: &history,
                tools: &tools,
            },
            &mut |t: &str| streamed.push_str(t),
        )
        .await
        .unwrap();
    assert_eq!(streamed, "Checking metrics.");
    assert_eq!(turn.stop_reason, StopReason::ToolUse);
    assert_eq!(turn.usage.input_tokens, 40);
    assert_eq!(turn.tool_calls()[0].input, json!({"service": "api"}));
    history.push(Message {
        role: Role::Assistant,
        content: turn.content,
    });
    history.push(Message {
        role: Role::User,
        content: vec![Block::ToolResult {
            tool_use_id: "tooluse_1".into(),
            content: "cpu 5%".into(),
            is_error: false,
            structured: None,
        }],
    });
    let turn = client
        .complete(
            Request {
                system: "sys",
                messages: &history,
                tools: &tools,
            },
            &mut |_: &str| {},
        )
        .await
        .unwrap();
    assert_eq!(turn.text(), "Healthy.");

    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    for r in &reqs {
        assert_eq!(
            r.path,
            "/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/converse"
        );
        verify_sigv4(r);
    }
    let body = reqs[0].json();
    assert_eq!(body["system"], json!([{"text": "sys"}]));
    assert_eq!(body["inferenceConfig"], json!({"maxTokens": 2048}));
    assert_eq!(
        body["toolConfig"],
        json!({"tools": [{"toolSpec": {"name": "mcp__mon__get_metrics", "description": "Metrics",
            "inputSchema": {"json": {"type": "object"}}}}]})
    );
    let second = reqs[1].json();
    assert_eq!(
        second["messages"][2],
        json!({"role": "user", "content": [{"toolResult": {"toolUseId": "tooluse_1",
            "content": [{"text": "cpu 5%"}], "status": "success"}}]})
    );
}

/// 429 ThrottlingException with retry-after, then success (signed afresh); then an error body.
#[tokio::test]
async fn throttled_then_success_then_error() {
    let server = ScriptServer::start(vec![
        Scripted::json(
            429,
            json!({"message": "Too many requests, please wait before trying again."}),
        )
        .header("x-amzn-errortype", "ThrottlingException")
        .header("retry-after", "1"),
        Scripted::json(
            200,
            json!({"output": {"message": {"role": "assistant", "content": [{"text": "ok"}]}},
                "stopReason": "end_turn", "usage": {"inputTokens": 1, "outputTokens": 1}}),
        ),
        Scripted::json(
            403,
            json!({"message": "You don't have access to the model with the specified model ID."}),
        )
        .header("x-amzn-errortype", "AccessDeniedException"),
    ])
    .await;
    let client = Bedrock::new(config(&server.base)).unwrap();
    let history = [Message::user("hi")];
    let req = Request {
        system: "",
        messages: &history,
        tools: &[],
    };
    let turn = client.complete(req, &mut |_: &str| {}).await.unwrap();
    assert_eq!(turn.text(), "ok");
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    verify_sigv4(&reqs[1]);
    assert!(reqs[0].json().get("toolConfig").is_none());

    let err = client.complete(req, &mut |_: &str| {}).await.unwrap_err();
    assert!(
        matches!(err, ProviderError::Status { status: 403, .. }),
        "{err}"
    );
    let text = err.to_string();
    assert!(text.contains("don't have access"), "{text}");
    assert!(text.contains("AWS_ACCESS_KEY_ID"), "{text}");
}

#[test]
fn default_endpoint_and_encoded_model_id() {
    let mut c = config("unused");
    c.endpoint = None;
    c.region = "eu-west-1".into();
    let client = Bedrock::new(c).unwrap();
    assert_eq!(
        client.url(),
        "https://bedrock-runtime.eu-west-1.amazonaws.com/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/converse"
    );
}

#[test]
fn endpoint_overrides_follow_the_aws_sdk_variables() {
    let env = |pairs: &'static [(&'static str, &'static str)]| {
        move |k: &str| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    };
    assert_eq!(BedrockConfig::endpoint_from_env(env(&[])), None);
    assert_eq!(
        BedrockConfig::endpoint_from_env(env(&[("AWS_ENDPOINT_URL", "http://proxy:1")])).as_deref(),
        Some("http://proxy:1")
    );
    // The service-specific variable wins over the global one.
    assert_eq!(
        BedrockConfig::endpoint_from_env(env(&[
            ("AWS_ENDPOINT_URL", "http://proxy:1"),
            ("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", "http://bedrock:2"),
        ]))
        .as_deref(),
        Some("http://bedrock:2")
    );
    assert_eq!(
        BedrockConfig::endpoint_from_env(env(&[
            ("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", "http://bedrock:2"),
            ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"),
        ])),
        None
    );
}
