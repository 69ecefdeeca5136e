//! The door of every MCP route: a request id, authentication (401), rate limits (429), the
//! scope of each tool called in a POST body (403), then the [`Caller`] put into the request for
//! the tools. Refusals are HTTP statuses with the headers RFC 6750 and RFC 9728 ask for, and a
//! JSON body saying what to send instead. Each refusal is also counted for the audit log
//! ([`crate::refusals`]: tallied per caller and route, not written one by one).

use std::{
    borrow::Cow,
    collections::HashMap,
    net::IpAddr,
    num::NonZeroU32,
    sync::Arc,
    time::{Duration, Instant},
};

use axum::{
    body::Body,
    extract::{Request, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter, clock::Clock};
use serde::Deserialize;

use crate::{
    Caller,
    auth::{AuthError, AuthMethod, Authenticator, Identity, Scope},
    caller::{CallBounds, ToolMetrics},
    policy::ToolRules,
    refusals::{RefusalKind, Refusals, Refused, client_address},
};

/// Limits of one server. Zero turns a limit off.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Requests per minute per caller (token, or client address without auth) on the MCP
    /// routes.
    pub calls_per_minute: u32,
    /// Calls per minute per caller of expensive tools (scripts, root-cause analysis).
    pub expensive_per_minute: u32,
    /// Calls of one expensive tool running at once on this server.
    pub expensive_concurrency: usize,
    /// Longest a tool call may run, in seconds.
    pub call_timeout_s: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            calls_per_minute: 0,
            expensive_per_minute: 60,
            expensive_concurrency: 8,
            call_timeout_s: 600,
        }
    }
}

/// Header carrying the request id both ways.
pub const REQUEST_ID: &str = "x-request-id";

pub(crate) struct Gate {
    pub(crate) server: String,
    pub(crate) auth: Option<Authenticator>,
    pub(crate) rules: Arc<ToolRules>,
    pub(crate) bounds: Arc<CallBounds>,
    calls: Option<DefaultKeyedRateLimiter<String>>,
    expensive: Option<DefaultKeyedRateLimiter<String>>,
    /// `https` when served over TLS; for the resource URL.
    pub(crate) scheme: &'static str,
    /// Largest body read, in bytes.
    max_body: usize,
    /// Where refusals are counted for the audit log.
    pub(crate) refusals: Arc<Refusals>,
}

impl Gate {
    pub(crate) fn new(
        server: String,
        auth: Option<Authenticator>,
        rules: ToolRules,
        limits: &Limits,
        scheme: &'static str,
        max_body: usize,
        refusals: Arc<Refusals>,
    ) -> Self {
        let rules = Arc::new(rules);
        let concurrency: HashMap<String, (usize, Arc<tokio::sync::Semaphore>)> =
            if limits.expensive_concurrency == 0 {
                HashMap::new()
            } else {
                rules
                    .names()
                    .filter(|t| rules.get(t).expensive)
                    .map(|t| {
                        (
                            t.to_string(),
                            (
                                limits.expensive_concurrency,
                                Arc::new(tokio::sync::Semaphore::new(limits.expensive_concurrency)),
                            ),
                        )
                    })
                    .collect()
            };
        let limiter = |per_minute: u32| {
            NonZeroU32::new(per_minute).map(|n| RateLimiter::keyed(Quota::per_minute(n)))
        };
        Self {
            bounds: Arc::new(CallBounds {
                server: server.clone(),
                rules: rules.clone(),
                concurrency,
                timeout: (limits.call_timeout_s > 0)
                    .then(|| Duration::from_secs(limits.call_timeout_s)),
                metrics: rules
                    .names()
                    .map(|t| (t.to_string(), ToolMetrics::new(&server, t)))
                    .collect(),
            }),
            server,
            auth,
            rules,
            calls: limiter(limits.calls_per_minute),
            expensive: limiter(limits.expensive_per_minute),
            scheme,
            max_body,
            refusals,
        }
    }

    /// Forgets rate-limit state of callers not seen lately, so memory stays bounded.
    pub(crate) fn forget_idle(&self) {
        for limiter in [&self.calls, &self.expensive].into_iter().flatten() {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }

    /// This server's resource URL, as the client reached it.
    fn resource(&self, headers: &HeaderMap) -> String {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("localhost");
        format!("{}://{host}/mcp", self.scheme)
    }

    fn metadata_url(&self, headers: &HeaderMap) -> String {
        let resource = self.resource(headers);
        let base = resource.trim_end_matches("/mcp");
        format!("{base}/.well-known/oauth-protected-resource")
    }
}

/// The middleware.
pub(crate) async fn enforce(
    State(gate): State<Arc<Gate>>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let route = match request.uri().path() {
        "/mcp" => "/mcp",
        "/sse" => "/sse",
        "/messages" => "/messages",
        _ => "other",
    };
    let request_id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_string)
        // 128 bits from a thread-local generator: unique enough to find a request by, and no
        // system call per request (ids are not secrets).
        .unwrap_or_else(|| format!("{:032x}", fastrand::u128(..)));
    let span = tracing::info_span!("request", id = %request_id, server = %gate.server, route);
    let mut response =
        tracing::Instrument::instrument(admit(&gate, request, next, &request_id, route), span)
            .await;
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    let status = response.status().as_u16().to_string();
    metrics::counter!("opsmcp_http_requests_total",
        "server" => gate.server.clone(), "route" => route, "status" => status)
    .increment(1);
    metrics::histogram!("opsmcp_http_request_duration_seconds",
        "server" => gate.server.clone(), "route" => route)
    .record(started.elapsed().as_secs_f64());
    response
}

async fn admit(
    gate: &Gate,
    request: Request,
    next: Next,
    request_id: &str,
    route: &str,
) -> Response {
    let address = client_address(&request);
    // What a refusal of this request is counted under; the credential once it is known.
    let refused = |kind, credential: Option<&str>, reason: &str| {
        gate.refusals.note(Refused {
            kind,
            address,
            credential,
            route,
            reason,
            request_id: Some(request_id),
        });
    };
    let identity = match identify(gate, request.headers(), address).await {
        Ok(identity) => identity,
        Err(error) => {
            refused(RefusalKind::Unauthorized, None, &error.to_string());
            return unauthorized(gate, request.headers(), &error);
        }
    };
    let credential = identity.credential();
    let key = rate_key(&identity, address);
    if let Some(limiter) = &gate.calls
        && let Err(not_until) = limiter.check_key(&key)
    {
        let wait = not_until.wait_time_from(governor::clock::DefaultClock::default().now());
        refused(
            RefusalKind::RateLimited,
            credential,
            "over the 'calls' limit (calls_per_minute)",
        );
        return too_many(gate, "calls", wait, "requests");
    }

    // POST bodies are read whole here, so one past the limit is a 413 whether it came with a
    // Content-Length or chunked (rmcp would answer a chunked one with 500).
    let request = if request.method() == Method::POST {
        let (parts, body) = request.into_parts();
        let bytes = match axum::body::to_bytes(body, gate.max_body).await {
            Ok(b) => b,
            Err(e) if too_long(&e) => {
                return json_error(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!(
                        "the body is over the limit of {} bytes; send a smaller request \
                         (the limit is the max_body_bytes setting)",
                        gate.max_body
                    ),
                );
            }
            Err(e) => {
                return json_error(
                    StatusCode::BAD_REQUEST,
                    format!("could not read the request body: {e}"),
                );
            }
        };
        // Tool calls in the body: each needs its scope, and expensive ones their own limit.
        let peek = gate.auth.is_some() || gate.expensive.is_some();
        let tools = if peek {
            called_tools(&bytes)
        } else {
            Vec::new()
        };
        for tool in tools {
            let rule = gate.rules.get(&tool);
            if !identity.scopes.allows(rule.scope) {
                refused(
                    RefusalKind::Forbidden,
                    credential,
                    &format!("insufficient_scope: {tool} needs '{}'", rule.scope),
                );
                return forbidden(gate, &parts.headers, &identity, &tool, rule.scope);
            }
            if rule.expensive
                && let Some(limiter) = &gate.expensive
                && let Err(not_until) = limiter.check_key(&key)
            {
                let wait = not_until.wait_time_from(governor::clock::DefaultClock::default().now());
                refused(
                    RefusalKind::RateLimited,
                    credential,
                    &format!("over the 'expensive' limit (expensive_per_minute) calling {tool}"),
                );
                return too_many(gate, "expensive", wait, &format!("calls of {tool}"));
            }
        }
        Request::from_parts(parts, Body::from(bytes))
    } else {
        request
    };
    let mut request = request;
    request.extensions_mut().insert(Caller::new(
        identity,
        request_id.to_string(),
        gate.bounds.clone(),
    ));
    next.run(request).await
}

/// Whether reading a body failed because it was longer than allowed (here or by the body
/// limit layer outside).
fn too_long(error: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if e.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = e.source();
    }
    false
}

/// The server's own routes (the Alertmanager webhook): when auth is configured, a caller with
/// the `write` scope only (they change incidents); otherwise open, as on loopback.
pub(crate) async fn protect(
    State(gate): State<Arc<Gate>>,
    request: Request,
    next: Next,
) -> Response {
    let address = client_address(&request);
    let route = crate::refusals::route_of(&request).to_string();
    let identity = match identify(&gate, request.headers(), address).await {
        Ok(identity) => identity,
        Err(error) => {
            gate.refusals.note(Refused {
                kind: RefusalKind::Unauthorized,
                address,
                credential: None,
                route: &route,
                reason: &error.to_string(),
                request_id: None,
            });
            return unauthorized(&gate, request.headers(), &error);
        }
    };
    if !identity.scopes.allows(Scope::Write) {
        gate.refusals.note(Refused {
            kind: RefusalKind::Forbidden,
            address,
            credential: identity.credential(),
            route: &route,
            reason: "insufficient_scope: the route needs 'write'",
            request_id: None,
        });
        let path = request.uri().path().to_string();
        return forbidden(&gate, request.headers(), &identity, &path, Scope::Write);
    }
    next.run(request).await
}

/// Who sent the request with `headers`: its bearer credential's identity, or anonymous (with
/// every scope) when no auth is configured; why not (a 401) when the credential does not pass.
async fn identify(
    gate: &Gate,
    headers: &HeaderMap,
    address: Option<IpAddr>,
) -> Result<Identity, AuthError> {
    let Some(auth) = &gate.auth else {
        return Ok(Identity::anonymous(address));
    };
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    auth.authenticate(authorization, &gate.resource(headers))
        .await
}

/// Rate limits count per token or OAuth subject, else per client address.
fn rate_key(identity: &Identity, address: Option<IpAddr>) -> String {
    match identity.method {
        AuthMethod::None => address.map_or_else(|| "unknown".into(), |a| a.to_string()),
        _ => identity.subject.clone(),
    }
}

#[derive(Deserialize)]
struct Peek<'a> {
    #[serde(borrow)]
    method: Option<Cow<'a, str>>,
    #[serde(borrow)]
    params: Option<PeekParams<'a>>,
}

#[derive(Deserialize)]
struct PeekParams<'a> {
    #[serde(borrow)]
    name: Option<Cow<'a, str>>,
}

/// Names of the tools a JSON-RPC body (one message or a batch) calls. A body that does not
/// parse calls nothing here; the MCP layer answers it, and the tool-level check still applies.
fn called_tools(body: &[u8]) -> Vec<String> {
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    let messages: Vec<Peek> = match first {
        Some(b'[') => serde_json::from_slice(body).unwrap_or_default(),
        Some(b'{') => serde_json::from_slice::<Peek>(body)
            .map(|p| vec![p])
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    messages
        .into_iter()
        .filter(|m| m.method.as_deref() == Some("tools/call"))
        .filter_map(|m| m.params.and_then(|p| p.name).map(Cow::into_owned))
        .collect()
}

fn unauthorized(gate: &Gate, headers: &HeaderMap, error: &AuthError) -> Response {
    let reason = match error {
        AuthError::Missing => "missing",
        _ => "invalid",
    };
    metrics::counter!("opsmcp_auth_failures_total", "server" => gate.server.clone(), "reason" => reason)
        .increment(1);
    tracing::info!(%error, "request refused: 401");
    let metadata = gate.metadata_url(headers);
    let challenge = match error {
        // RFC 6750 §3.1: no error code when the request had no credentials.
        AuthError::Missing => format!("Bearer resource_metadata=\"{metadata}\""),
        other => format!(
            "Bearer error=\"invalid_token\", error_description=\"{}\", resource_metadata=\"{metadata}\"",
            other.to_string().replace(['"', '\\'], "'")
        ),
    };
    let mut response = json_error(
        StatusCode::UNAUTHORIZED,
        format!(
            "{error}. Send `Authorization: Bearer <token>` with an opsmcp API token or an OAuth \
             access token from the issuer named at {metadata}"
        ),
    );
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    response
}

fn forbidden(
    gate: &Gate,
    headers: &HeaderMap,
    identity: &Identity,
    tool: &str,
    scope: Scope,
) -> Response {
    metrics::counter!("opsmcp_auth_failures_total", "server" => gate.server.clone(), "reason" => "scope")
        .increment(1);
    tracing::info!(subject = %identity.subject, tool, %scope, "request refused: 403");
    let challenge = format!(
        "Bearer error=\"insufficient_scope\", scope=\"{scope}\", resource_metadata=\"{}\"",
        gate.metadata_url(headers)
    );
    let mut response = json_error(
        StatusCode::FORBIDDEN,
        format!(
            "insufficient_scope: {tool} needs the '{scope}' scope; {} holds '{}'. Use a token \
             with '{scope}' (opsmcp token create --scopes {scope},…)",
            identity.subject, identity.scopes
        ),
    );
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    response
}

fn too_many(gate: &Gate, limit: &'static str, wait: Duration, what: &str) -> Response {
    metrics::counter!("opsmcp_rate_limited_total", "server" => gate.server.clone(), "limit" => limit)
        .increment(1);
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let mut response = json_error(
        StatusCode::TOO_MANY_REQUESTS,
        format!(
            "rate limited: too many {what} from this caller (the '{limit}' limit); retry after \
             {seconds} s"
        ),
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
    response
}

fn json_error(status: StatusCode, message: String) -> Response {
    crate::error::json_error(status, message).into_response()
}

/// `GET /.well-known/oauth-protected-resource` (RFC 9728).
pub(crate) async fn resource_metadata(
    State(gate): State<Arc<Gate>>,
    headers: HeaderMap,
) -> Response {
    let mut doc = serde_json::json!({
        "resource": gate.resource(&headers),
        "bearer_methods_supported": ["header"],
        "scopes_supported": Scope::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        "resource_name": format!("opsmcp {}", gate.server),
    });
    if let Some(issuer) = gate.auth.as_ref().and_then(Authenticator::issuer) {
        doc["authorization_servers"] = serde_json::json!([issuer]);
    }
    axum::Json(doc).into_response()
}

#[cfg(test)]
mod tests {
    use super::called_tools;

    #[test]
    fn tool_names_are_found_in_single_and_batch_bodies() {
        let one = br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"execute_remediation","arguments":{"x":[1,2]}}}"#;
        assert_eq!(called_tools(one), ["execute_remediation"]);
        let batch = br#" [{"jsonrpc":"2.0","id":1,"method":"tools/list"},
            {"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"a\u0062c"}}]"#;
        assert_eq!(called_tools(batch), ["abc"]);
        assert!(called_tools(b"not json").is_empty());
        assert!(called_tools(br#"{"method":"tools/list"}"#).is_empty());
    }
}
