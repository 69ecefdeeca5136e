//! The caller of one tool call, as the tools see it: who (for the audit log and the incident
//! timeline), the request id, and the per-tool bounds the host enforces around the call.

use std::{collections::HashMap, sync::Arc, time::Duration, time::Instant};

use rmcp::{
    ErrorData, RoleServer,
    model::{CallToolResponse, CallToolResult, ContentBlock},
    service::RequestContext,
};
use tokio::sync::Semaphore;

use crate::{auth::Identity, policy::ToolRules};

/// Who is calling, put into each request's extensions by the host.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The authenticated (or anonymous) caller.
    pub identity: Identity,
    /// The request id, also sent back in `x-request-id`.
    pub request_id: String,
    bounds: Option<Arc<CallBounds>>,
}

/// Bounds on tool calls of one server.
#[derive(Debug)]
pub(crate) struct CallBounds {
    pub(crate) server: String,
    pub(crate) rules: Arc<ToolRules>,
    /// Permits per tool (tools without an entry are not bounded).
    pub(crate) concurrency: HashMap<String, (usize, Arc<Semaphore>)>,
    pub(crate) timeout: Option<Duration>,
    /// Metric handles per tool.
    pub(crate) metrics: HashMap<String, ToolMetrics>,
}

impl Caller {
    pub(crate) fn new(identity: Identity, request_id: String, bounds: Arc<CallBounds>) -> Self {
        Self {
            identity,
            request_id,
            bounds: Some(bounds),
        }
    }

    /// A call that did not come through the host (stdio, a test calling the handler): anonymous
    /// and unbounded.
    pub fn local() -> Self {
        Self {
            identity: Identity::anonymous(None),
            request_id: uuid::Uuid::new_v4().simple().to_string(),
            bounds: None,
        }
    }

    /// The caller the gate put on `request` (anonymous when served without the gate, in tests).
    pub(crate) fn of_request(request: &axum::extract::Request) -> Self {
        request
            .extensions()
            .get::<Caller>()
            .cloned()
            .unwrap_or_else(Caller::local)
    }

    /// Who owns what this caller opens (a session): the authenticated subject, `None` when
    /// anonymous.
    pub(crate) fn owner(&self) -> Option<String> {
        self.identity.credential().map(str::to_owned)
    }

    /// The caller of the request `context` belongs to.
    pub fn of(context: &RequestContext<RoleServer>) -> Self {
        context
            .extensions
            .get::<http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<Caller>().cloned())
            .unwrap_or_else(Self::local)
    }

    /// Runs `call` of `tool` within the host's bounds: the caller's scope (checked again here,
    /// whatever the transport), the tool's concurrency limit and the call timeout; counts it in
    /// the metrics.
    pub async fn run<F>(&self, tool: &str, call: F) -> Result<CallToolResponse, ErrorData>
    where
        F: Future<Output = Result<CallToolResponse, ErrorData>>,
    {
        let Some(bounds) = &self.bounds else {
            return call.await;
        };
        let unlisted;
        let m = match bounds.metrics.get(tool) {
            Some(m) => m,
            None => {
                unlisted = ToolMetrics::new(&bounds.server, tool);
                &unlisted
            }
        };
        let count = |outcome: Outcome| m.calls[outcome as usize].increment(1);
        let scope = bounds.rules.get(tool).scope;
        if !self.identity.scopes.allows(scope) {
            count(Outcome::Forbidden);
            return Err(ErrorData::invalid_request(
                format!(
                    "forbidden: {tool} needs the '{scope}' scope and {} holds {}",
                    self.identity.subject,
                    if self.identity.scopes == Default::default() {
                        "none".to_string()
                    } else {
                        self.identity.scopes.to_string()
                    }
                ),
                None,
            ));
        }
        let _permit = match bounds.concurrency.get(tool) {
            Some((limit, gate)) => match gate.clone().try_acquire_owned() {
                Ok(permit) => Some(permit),
                Err(_) => {
                    count(Outcome::Busy);
                    return Ok(refusal(format!(
                        "busy: {limit} calls of {tool} are already running on this server; \
                         retry when one finishes"
                    )));
                }
            },
            None => None,
        };
        let in_flight = &m.in_flight;
        in_flight.increment(1.0);
        let started = Instant::now();
        let result = match bounds.timeout {
            Some(limit) => match tokio::time::timeout(limit, call).await {
                Ok(result) => result,
                Err(_) => {
                    in_flight.decrement(1.0);
                    count(Outcome::Timeout);
                    return Ok(refusal(format!(
                        "timed out: {tool} took longer than the server's call timeout of {} s; \
                         narrow the request (a shorter timeframe, fewer services) or raise \
                         call_timeout_s",
                        limit.as_secs()
                    )));
                }
            },
            None => call.await,
        };
        in_flight.decrement(1.0);
        m.duration.record(started.elapsed().as_secs_f64());
        count(match &result {
            Ok(CallToolResponse::Complete(r)) if r.is_error == Some(true) => Outcome::Error,
            Ok(_) => Outcome::Ok,
            Err(_) => Outcome::Rejected,
        });
        result
    }
}

/// How a call ended, as the `outcome` label says.
#[derive(Debug, Clone, Copy)]
enum Outcome {
    Ok,
    Error,
    Rejected,
    Forbidden,
    Busy,
    Timeout,
}

impl Outcome {
    const ALL: [Outcome; 6] = [
        Outcome::Ok,
        Outcome::Error,
        Outcome::Rejected,
        Outcome::Forbidden,
        Outcome::Busy,
        Outcome::Timeout,
    ];

    fn label(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Error => "error",
            Outcome::Rejected => "rejected",
            Outcome::Forbidden => "forbidden",
            Outcome::Busy => "busy",
            Outcome::Timeout => "timeout",
        }
    }
}

/// One tool's metric handles, registered once: the macros would build the labels and look
/// them up in the registry on every call.
#[derive(Debug)]
pub(crate) struct ToolMetrics {
    calls: [metrics::Counter; 6],
    in_flight: metrics::Gauge,
    duration: metrics::Histogram,
}

impl ToolMetrics {
    pub(crate) fn new(server: &str, tool: &str) -> Self {
        let labels = |outcome: Outcome| {
            [
                ("server", server.to_string()),
                ("tool", tool.to_string()),
                ("outcome", outcome.label().to_string()),
            ]
        };
        let pair = [("server", server.to_string()), ("tool", tool.to_string())];
        Self {
            calls: Outcome::ALL.map(|o| metrics::counter!("opsmcp_tool_calls_total", &labels(o))),
            in_flight: metrics::gauge!("opsmcp_tool_calls_in_flight", &pair),
            duration: metrics::histogram!("opsmcp_tool_call_duration_seconds", &pair),
        }
    }
}

/// A tool result that says why the call did not run (the model can read it and adapt).
fn refusal(message: String) -> CallToolResponse {
    CallToolResponse::Complete(CallToolResult::error(vec![ContentBlock::text(message)]))
}
