//! The HTTP+SSE transport of MCP 2024-11-05, which rmcp no longer serves, bridged to the same
//! rmcp handler as `/mcp` so every tool is written once.
//!
//! `GET /sse` opens a session: its first event is `endpoint` with the URL to POST to
//! (`/messages?sessionId=<id>`), then every server message is an `event: message`.
//! `POST /messages` answers 202 and the reply travels on the stream; an unknown session is 404, a
//! body that is not JSON-RPC is 400. The session ends, and is forgotten, when the client
//! disconnects or the server shuts down.

use std::{
    collections::HashMap,
    convert::Infallible,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    extract::{Query, Request, State},
    response::{
        IntoResponse, Response,
        sse::{Event, KeepAlive, Sse},
    },
};
use futures::{Stream, StreamExt};
use http::StatusCode;
use rmcp::{
    ServerHandler, ServiceExt,
    model::{ClientJsonRpcMessage, GetExtensions, JsonRpcMessage, RequestId, ServerJsonRpcMessage},
};
use serde::Deserialize;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::{CancellationToken, PollSender};

use crate::{
    Caller,
    drain::{Drain, InFlight},
    error::json_error,
};

/// Messages buffered per direction per session before the sender waits.
const CHANNEL_DEPTH: usize = 64;

type Factory<H> = Arc<dyn Fn() -> H + Send + Sync>;

/// Everything `/sse` and `/messages` share.
pub(crate) struct SseState<H> {
    server: String,
    factory: Factory<H>,
    sessions: Mutex<HashMap<String, Session>>,
    keep_alive: Duration,
    /// Sessions held at once; more get 503.
    max_sessions: usize,
    /// A session with no message either way and nothing in flight for this long is ended.
    idle_timeout: Duration,
    stop: CancellationToken,
    force: CancellationToken,
    drain: Drain,
    /// Where a POST into another caller's session (403) is counted for the audit log.
    refusals: Option<Arc<crate::refusals::Refusals>>,
}

/// One open `/sse` stream: where its client's messages go, and its unanswered requests.
struct Session {
    to_server: mpsc::Sender<ClientJsonRpcMessage>,
    pending: Pending,
    /// Who opened it, when authenticated; only they may post to it (a session id seen in a
    /// log is not a key). Anonymous sessions (no auth configured) are not bound: a client's
    /// address may differ between its GET and its POSTs.
    owner: Option<String>,
    /// When a message last went either way.
    activity: Activity,
}

/// When a session last carried a message.
#[derive(Clone)]
struct Activity(Arc<Mutex<tokio::time::Instant>>);

impl Activity {
    fn new() -> Self {
        Self(Arc::new(Mutex::new(tokio::time::Instant::now())))
    }

    fn touch(&self) {
        if let Ok(mut last) = self.0.lock() {
            *last = tokio::time::Instant::now();
        }
    }

    fn last(&self) -> tokio::time::Instant {
        self.0
            .lock()
            .map(|l| *l)
            .unwrap_or_else(|_| tokio::time::Instant::now())
    }
}

/// Requests of one session that have not been answered yet; each holds a drain guard.
#[derive(Clone, Default)]
struct Pending(Arc<Mutex<HashMap<RequestId, InFlight>>>);

impl Pending {
    fn add(&self, id: RequestId, guard: InFlight) {
        if let Ok(mut map) = self.0.lock() {
            map.insert(id, guard);
        }
    }

    fn settle(&self, message: &ServerJsonRpcMessage) {
        let id = match message {
            JsonRpcMessage::Response(r) => Some(&r.id),
            JsonRpcMessage::Error(e) => e.id.as_ref(),
            _ => None,
        };
        if let (Some(id), Ok(mut map)) = (id, self.0.lock()) {
            map.remove(id);
        }
    }

    fn is_empty(&self) -> bool {
        self.0.lock().map(|m| m.is_empty()).unwrap_or(true)
    }
}

impl<H> SseState<H> {
    pub(crate) fn new(
        server: String,
        factory: Factory<H>,
        keep_alive: Duration,
        edge: &crate::EdgeLimits,
        stop: CancellationToken,
        force: CancellationToken,
        drain: Drain,
    ) -> Self {
        Self {
            refusals: None,
            server,
            factory,
            sessions: Mutex::new(HashMap::new()),
            keep_alive,
            max_sessions: edge.max_sse_sessions,
            idle_timeout: edge.sse_idle_timeout,
            stop,
            force,
            drain,
        }
    }

    /// Counts a POST into another caller's session for the audit log.
    pub(crate) fn with_refusals(mut self, refusals: Arc<crate::refusals::Refusals>) -> Self {
        self.refusals = Some(refusals);
        self
    }

    fn forget(&self, id: &str) {
        if let Ok(mut sessions) = self.sessions.lock() {
            sessions.remove(id);
        }
    }
}

/// Removes the session when its stream is dropped, i.e. when the client goes away.
struct Forget<H> {
    state: Arc<SseState<H>>,
    id: String,
}

impl<H> Drop for Forget<H> {
    fn drop(&mut self) {
        self.state.forget(&self.id);
        metrics::gauge!("opsmcp_sse_sessions", "server" => self.state.server.clone())
            .decrement(1.0);
        tracing::debug!(session = %self.id, "sse session closed");
    }
}

/// `GET /sse`.
pub(crate) async fn open<H>(State(state): State<Arc<SseState<H>>>, request: Request) -> Response
where
    H: ServerHandler + Send + 'static,
{
    if state.stop.is_cancelled() {
        return json_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the server is shutting down; reconnect to another replica or retry shortly",
        )
        .into_response();
    }
    let id = uuid::Uuid::new_v4().simple().to_string();
    let (to_server, from_client) = mpsc::channel(CHANNEL_DEPTH);
    let (to_client, from_server) = mpsc::channel(CHANNEL_DEPTH);
    let pending = Pending::default();
    let owner = Caller::of_request(&request).owner();
    let activity = Activity::new();
    {
        let Ok(mut sessions) = state.sessions.lock() else {
            return json_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the session table is unusable after a panic; restart the server",
            )
            .into_response();
        };
        if sessions.len() >= state.max_sessions {
            drop(sessions);
            metrics::counter!("opsmcp_sse_sessions_refused_total", "server" => state.server.clone())
                .increment(1);
            // Debug, not warn: a flood would flood the log too; the counter tells.
            tracing::debug!(server = %state.server, limit = state.max_sessions,
                "/sse session refused: at the session cap");
            let mut response = json_error(
                StatusCode::SERVICE_UNAVAILABLE,
                format!(
                    "the {} server holds its maximum of {} /sse sessions; close sessions you no \
                     longer use, use the stateless /mcp endpoint, or raise max_sse_sessions",
                    state.server, state.max_sessions
                ),
            )
            .into_response();
            response
                .headers_mut()
                .insert(http::header::RETRY_AFTER, http::HeaderValue::from(10u64));
            return response;
        }
        sessions.insert(
            id.clone(),
            Session {
                to_server,
                pending: pending.clone(),
                owner,
                activity: activity.clone(),
            },
        );
    }
    metrics::gauge!("opsmcp_sse_sessions", "server" => state.server.clone()).increment(1.0);

    let handler = (state.factory)();
    let ct = state.force.child_token();
    let session = id.clone();
    tokio::spawn(async move {
        let transport = (PollSender::new(to_client), ReceiverStream::new(from_client));
        match handler.serve_with_ct(transport, ct).await {
            Ok(running) => {
                let _ = running.waiting().await;
            }
            Err(error) => tracing::debug!(%session, %error, "sse session ended before starting"),
        }
    });
    tracing::debug!(session = %id, "sse session opened");

    let endpoint = Event::default()
        .event("endpoint")
        .data(format!("/messages?sessionId={id}"));
    let pump = Pump {
        from_server,
        pending,
        activity,
        idle_timeout: state.idle_timeout,
        server: state.server.clone(),
        stop: state.stop.clone(),
        force: state.force.clone(),
        _forget: Forget {
            state: state.clone(),
            id,
        },
    };
    let stream = futures::stream::once(async move { Ok(endpoint) }).chain(pump.into_stream());
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(state.keep_alive))
        .into_response()
}

/// Moves server messages onto one session's event stream.
struct Pump<H> {
    from_server: mpsc::Receiver<ServerJsonRpcMessage>,
    pending: Pending,
    activity: Activity,
    idle_timeout: Duration,
    server: String,
    stop: CancellationToken,
    force: CancellationToken,
    _forget: Forget<H>,
}

impl<H: Send + Sync + 'static> Pump<H> {
    fn into_stream(self) -> impl Stream<Item = Result<Event, Infallible>> + Send {
        futures::stream::unfold(self, |mut pump| async move {
            loop {
                // On shutdown, a session with nothing in flight ends now; one with calls in
                // flight ends after their answers are out (or when the grace period runs out).
                let draining = pump.stop.is_cancelled();
                if draining && pump.pending.is_empty() {
                    return None;
                }
                let expires = pump.activity.last() + pump.idle_timeout;
                let message = tokio::select! {
                    biased;
                    _ = pump.force.cancelled() => return None,
                    _ = pump.stop.cancelled(), if !draining => continue,
                    message = pump.from_server.recv() => message?,
                    _ = tokio::time::sleep_until(expires) => {
                        if !pump.pending.is_empty() {
                            // A call in flight is not idleness.
                            pump.activity.touch();
                            continue;
                        }
                        if pump.activity.last() + pump.idle_timeout > tokio::time::Instant::now() {
                            continue;
                        }
                        metrics::counter!("opsmcp_sse_sessions_expired_total",
                            "server" => pump.server.clone())
                        .increment(1);
                        tracing::debug!(idle = ?pump.idle_timeout, "sse session idle; ended");
                        return None;
                    }
                };
                pump.activity.touch();
                pump.pending.settle(&message);
                match serde_json::to_string(&message) {
                    Ok(data) => {
                        return Some((Ok(Event::default().event("message").data(data)), pump));
                    }
                    Err(error) => tracing::error!(%error, "could not encode a server message"),
                }
            }
        })
    }
}

/// Query of `POST /messages`; both spellings are in use.
#[derive(Deserialize)]
pub(crate) struct MessagesQuery {
    #[serde(rename = "sessionId")]
    session_id: Option<String>,
    #[serde(rename = "session_id")]
    session_id_snake: Option<String>,
}

/// `POST /messages?sessionId=…`.
pub(crate) async fn post<H>(
    State(state): State<Arc<SseState<H>>>,
    Query(query): Query<MessagesQuery>,
    request: Request,
) -> Response {
    let Some(id) = query.session_id.or(query.session_id_snake) else {
        return json_error(
            StatusCode::BAD_REQUEST,
            "missing sessionId: POST to the URL given by the `endpoint` event of GET /sse",
        )
        .into_response();
    };
    let session = state.sessions.lock().ok().and_then(|s| {
        s.get(&id).map(|s| {
            (
                s.to_server.clone(),
                s.pending.clone(),
                s.owner.clone(),
                s.activity.clone(),
            )
        })
    });
    let Some((to_server, pending, owner, activity)) = session else {
        return json_error(
            StatusCode::NOT_FOUND,
            format!(
                "unknown session '{id}': it ended or never existed; open a new one with GET /sse"
            ),
        )
        .into_response();
    };
    let caller = Caller::of_request(&request);
    if caller.owner() != owner {
        // An authorization refusal like the gate's: counted for the audit log the same way.
        if let Some(refusals) = &state.refusals {
            refusals.note(crate::refusals::Refused {
                kind: crate::RefusalKind::Forbidden,
                address: crate::refusals::client_address(&request),
                credential: caller.owner().as_deref(),
                route: "/messages",
                reason: "an /sse session that belongs to another caller",
                request_id: Some(&caller.request_id),
            });
        }
        return json_error(
            StatusCode::FORBIDDEN,
            format!(
                "session '{id}' belongs to another caller; open your own with GET /sse using \
                 the same credentials you post with"
            ),
        )
        .into_response();
    }
    let (parts, body) = request.into_parts();
    // The body limit layer outside has already bounded the size.
    let body = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(body) => body,
        Err(e) => {
            return json_error(
                StatusCode::BAD_REQUEST,
                format!("could not read the body: {e}"),
            )
            .into_response();
        }
    };
    let messages = match parse_messages(&body) {
        Ok(messages) => messages,
        Err(why) => return json_error(StatusCode::BAD_REQUEST, why).into_response(),
    };
    activity.touch();
    for mut message in messages {
        // As rmcp does for /mcp: the handler finds the HTTP request (and our Caller) here.
        if let JsonRpcMessage::Request(request) = &mut message {
            pending.add(request.id.clone(), state.drain.begin());
            request.request.extensions_mut().insert(parts.clone());
        }
        if to_server.send(message).await.is_err() {
            return json_error(
                StatusCode::NOT_FOUND,
                format!("session '{id}' has ended; open a new one with GET /sse"),
            )
            .into_response();
        }
    }
    (StatusCode::ACCEPTED, "Accepted").into_response()
}

/// One JSON-RPC message or a batch of them.
fn parse_messages(body: &[u8]) -> Result<Vec<ClientJsonRpcMessage>, String> {
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| format!("the body is not JSON ({e}); send one JSON-RPC 2.0 message"))?;
    let items = match value {
        serde_json::Value::Array(items) if !items.is_empty() => items,
        serde_json::Value::Array(_) => return Err("empty batch: send at least one message".into()),
        single => vec![single],
    };
    items
        .into_iter()
        .map(|item| {
            serde_json::from_value(item).map_err(|e| {
                format!(
                    "not a valid MCP JSON-RPC message ({e}); send \
                     {{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":{{}}}}"
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::parse_messages;

    #[test]
    fn bad_bodies_say_what_to_send() {
        assert!(
            parse_messages(b"not json")
                .unwrap_err()
                .contains("not JSON")
        );
        assert!(parse_messages(b"[]").unwrap_err().contains("empty batch"));
        assert!(
            parse_messages(br#"{"hello":1}"#)
                .unwrap_err()
                .contains("jsonrpc")
        );
        let ok = parse_messages(br#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#).unwrap();
        assert_eq!(ok.len(), 1);
    }
}
