//! Legacy `/mcp` sessions (`Mcp-Session-Id`, on with `legacy_sessions`) belong to the
//! credential that opened them, as `/sse` sessions do: a session id seen in a log or a proxy
//! must not let another token (or no token) act inside someone else's session.
//!
//! The owner is recorded when rmcp answers an `initialize` with a new id, checked on every
//! later request naming the id, and forgotten when the session is deleted. An id with no
//! record is refused as unknown (fail closed): the client opens a new session, as it does after
//! any 404. At most [`MAX_SESSIONS`] records are kept; past that the oldest is forgotten.

use std::{collections::HashMap, sync::Arc, sync::Mutex, sync::MutexGuard};

use axum::{
    extract::{Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};
use http::{Method, StatusCode};

use crate::{
    Caller,
    error::json_error,
    refusals::{RefusalKind, Refusals, Refused},
};

/// Records kept before the oldest is forgotten (its session then has to be opened again).
pub(crate) const MAX_SESSIONS: usize = 4096;

const HEADER: &str = "mcp-session-id";

/// Who opened each live `/mcp` session.
pub(crate) struct Owners {
    records: Mutex<Records>,
    refusals: Arc<Refusals>,
}

#[derive(Default)]
struct Records {
    /// Session id → (owner, order of opening).
    by_id: HashMap<String, (Option<String>, u64)>,
    opened: u64,
}

impl Owners {
    pub(crate) fn new(refusals: Arc<Refusals>) -> Self {
        Self {
            records: Mutex::new(Records::default()),
            refusals,
        }
    }

    /// The records; a panic elsewhere while holding the lock leaves them usable.
    fn lock(&self) -> MutexGuard<'_, Records> {
        self.records.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn record(&self, id: String, owner: Option<String>) {
        let mut r = self.lock();
        if r.by_id.len() >= MAX_SESSIONS
            && let Some(oldest) = r
                .by_id
                .iter()
                .min_by_key(|(_, (_, n))| *n)
                .map(|(k, _)| k.clone())
        {
            r.by_id.remove(&oldest);
        }
        r.opened += 1;
        let n = r.opened;
        r.by_id.insert(id, (owner, n));
    }

    /// `Some(owner)` of a recorded session, `None` for an id never recorded (or forgotten).
    fn owner(&self, id: &str) -> Option<Option<String>> {
        self.lock().by_id.get(id).map(|(o, _)| o.clone())
    }

    fn forget(&self, id: &str) {
        self.lock().by_id.remove(id);
    }
}

/// Axum middleware on `/mcp` (inside the gate, which puts the [`Caller`] on the request).
pub(crate) async fn enforce(
    State(owners): State<Arc<Owners>>,
    request: Request,
    next: Next,
) -> Response {
    let caller = Caller::of_request(&request);
    let named = match request.headers().get(HEADER).map(|v| v.to_str()) {
        None => None,
        Some(Ok(id)) => Some(id.to_owned()),
        Some(Err(_)) => {
            return json_error(
                StatusCode::BAD_REQUEST,
                "the Mcp-Session-Id header is not valid text; send the id the server gave you",
            )
            .into_response();
        }
    };
    let Some(id) = named else {
        let response = next.run(request).await;
        if let Some(new) = response.headers().get(HEADER).and_then(|v| v.to_str().ok()) {
            owners.record(new.to_owned(), caller.owner());
        }
        return response;
    };
    match owners.owner(&id) {
        None => json_error(
            StatusCode::NOT_FOUND,
            format!(
                "unknown session '{id}': it ended or never existed; send initialize without \
                 Mcp-Session-Id to open a new one"
            ),
        )
        .into_response(),
        Some(owner) if owner != caller.owner() => {
            owners.refusals.note(Refused {
                kind: RefusalKind::Forbidden,
                address: crate::refusals::client_address(&request),
                credential: caller.owner().as_deref(),
                route: "/mcp",
                reason: "an /mcp session that belongs to another caller",
                request_id: Some(&caller.request_id),
            });
            json_error(
                StatusCode::FORBIDDEN,
                format!(
                    "session '{id}' belongs to another caller; open your own (initialize \
                     without Mcp-Session-Id) with the credentials you send"
                ),
            )
            .into_response()
        }
        Some(_) => {
            let delete = request.method() == Method::DELETE;
            let response = next.run(request).await;
            if delete && (response.status().is_success() || response.status() == 404) {
                owners.forget(&id);
            }
            response
        }
    }
}
