//! `POST /mcp` for clients that accept only JSON.
//!
//! The spec asks a client to accept both `application/json` and `text/event-stream`, and rmcp
//! refuses anything less with 406. curl-style and hand-written clients send `Accept: */*`,
//! `application/json` or nothing at all; they are answered here instead of refused: the
//! request reaches rmcp as if it accepted both, and an event-stream answer (legacy sessions
//! stream their answers) is read to its end and returned as the JSON-RPC response(s) it carried.
//! A client that accepts `text/event-stream` is left alone and keeps its stream.

use axum::{
    body::Body,
    extract::Request,
    middleware::Next,
    response::{IntoResponse, Response},
};
use http::{HeaderValue, Method, StatusCode, header};
use http_body_util::{BodyExt, Limited};
use serde_json::Value;

use crate::error::json_error;

/// What rmcp wants to see.
const BOTH: &str = "application/json, text/event-stream";

/// Largest event-stream answer turned into JSON (a tool result is far smaller).
const MAX_STREAM_BYTES: usize = 64 * 1024 * 1024;

/// Whether an `Accept` value takes JSON and whether it names the event stream.
fn accepts(accept: &str) -> (bool, bool) {
    let (mut json, mut sse) = (false, false);
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let refused = parts.any(|p| {
            p.trim()
                .strip_prefix("q=")
                .is_some_and(|q| q.trim().parse::<f32>().is_ok_and(|q| q <= 0.0))
        });
        if refused {
            continue;
        }
        match media.as_str() {
            "application/json" | "application/*" | "*/*" => json = true,
            "text/event-stream" => sse = true,
            _ => {}
        }
    }
    (json, sse)
}

/// Axum middleware on `/mcp`: JSON-only POSTs are answered with JSON (see the module doc).
pub(crate) async fn negotiate(mut request: Request, next: Next) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let values: Vec<&str> = request
        .headers()
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    // No Accept header at all means anything is accepted: JSON.
    let (json, sse) = if values.is_empty() {
        (true, false)
    } else {
        accepts(&values.join(","))
    };
    if sse || !json {
        // Both accepted: nothing to do. Neither JSON nor a stream: rmcp's 406 says what to send.
        return next.run(request).await;
    }
    request
        .headers_mut()
        .insert(header::ACCEPT, HeaderValue::from_static(BOTH));
    let response = next.run(request).await;
    let streamed = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    if !streamed {
        return response;
    }
    as_json(response).await
}

/// Reads an event-stream answer to its end and returns the JSON-RPC responses it carried.
async fn as_json(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = match Limited::new(body, MAX_STREAM_BYTES).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) => {
            return json_error(
                StatusCode::BAD_GATEWAY,
                format!(
                    "the answer could not be read as a stream ({e}); send \
                     `Accept: application/json, text/event-stream` to receive it as one"
                ),
            )
            .into_response();
        }
    };
    let responses = responses_in(&String::from_utf8_lossy(&bytes));
    let json = match responses.len() {
        0 => {
            return json_error(
                StatusCode::BAD_GATEWAY,
                "the server's answer carried no JSON-RPC response; send `Accept: \
                 application/json, text/event-stream` to receive its event stream",
            )
            .into_response();
        }
        1 => responses.into_iter().next().unwrap_or(Value::Null),
        _ => Value::Array(responses),
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.remove(header::CACHE_CONTROL);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Response::from_parts(parts, Body::from(json.to_string()))
}

/// The JSON-RPC responses (objects with an `id` and a `result` or `error`) among the `data`
/// of an event stream's events; requests and notifications the server sent along are dropped
/// (a JSON-only client cannot answer them).
fn responses_in(stream: &str) -> Vec<Value> {
    let mut found = Vec::new();
    let mut data = String::new();
    let mut flush = |data: &mut String| {
        if let Ok(v) = serde_json::from_str::<Value>(data) {
            let one = |v: &Value| {
                v.get("id").is_some() && (v.get("result").is_some() || v.get("error").is_some())
            };
            match v {
                Value::Array(items) => found.extend(items.into_iter().filter(|i| one(i))),
                v if one(&v) => found.push(v),
                _ => {}
            }
        }
        data.clear();
    };
    for line in stream.lines() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            flush(&mut data);
        } else if let Some(rest) = line.strip_prefix("data:") {
            if !data.is_empty() {
                data.push('\n');
            }
            data.push_str(rest.strip_prefix(' ').unwrap_or(rest));
        }
    }
    flush(&mut data);
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_values_are_read_as_media_ranges() {
        assert_eq!(accepts("*/*"), (true, false));
        assert_eq!(accepts("application/json"), (true, false));
        assert_eq!(accepts("Application/JSON; charset=utf-8"), (true, false));
        assert_eq!(accepts("application/json, text/event-stream"), (true, true));
        assert_eq!(accepts("text/event-stream"), (false, true));
        assert_eq!(accepts("text/html"), (false, false));
        assert_eq!(accepts("application/json;q=0, text/html"), (false, false));
    }

    #[test]
    fn responses_are_taken_from_the_stream_and_the_rest_dropped() {
        let stream = "id: 0\nretry: 3000\ndata:\n\n\
                      data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"}\n\n\
                      data: {\"jsonrpc\":\"2.0\",\"id\":1,\r\ndata: \"result\":{}}\r\n\r\n";
        assert_eq!(
            responses_in(stream),
            vec![serde_json::json!({"jsonrpc": "2.0", "id": 1, "result": {}})]
        );
    }
}
