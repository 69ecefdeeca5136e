//! The audit trail of every tool call on every server: server, tool, caller (the authenticated
//! identity), request id, arguments with secrets redacted, outcome, duration — appended to the
//! store's hash-chained log. Requests the host refused at the door (401, 403, 429) come here
//! too, as the host's per-window tallies ([`RefusalSink`]).
//!
//! One writer task per process batches entries into one transaction (one fsync) so a burst of
//! read-only calls does not cost an fsync each. Calls that change something wait until their
//! entry is committed; read-only calls do not, so a crash can lose the last few milliseconds of
//! read-only entries but never the record of a change.
//!
//! Group commit: when a batch holds only read-only entries, the writer lingers [`LINGER`]
//! before writing it, so that under load one wake-up of the writer (and one transaction) carries
//! many calls instead of a few; queueing a read-only entry never wakes the writer while it
//! lingers or writes. An entry of a change ends the linger at once, so a change's answer waits
//! for its commit only, as before. What the linger costs: read-only entries reach the store up to
//! ~2 ms later (they are still written in call order, and an entry is queued before its call
//! answers).

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use opsmcp_mcp::{Caller, Refusal, RefusalSink, auth::Scope};
use opsmcp_store::{NewAuditEntry, Store};
use rmcp::{
    ErrorData, RoleServer,
    handler::server::{router::tool::ToolRouter, tool::ToolCallContext},
    model::{CallToolRequestParams, CallToolResponse},
    service::RequestContext,
};
use tokio::sync::{Notify, mpsc, oneshot};

/// Most entries in one batch.
const BATCH: usize = 256;

/// How long the writer gathers read-only entries before writing a batch (the timer's
/// granularity makes it 1–2 ms): long enough that at thousands of calls per second a batch holds
/// tens of entries, short enough to lose little on a crash. `OPSMCP_AUDIT_LINGER_US` overrides it
/// (0: no linger, each batch is what was queued when the writer woke), to measure what it buys.
const LINGER: Duration = Duration::from_millis(1);

fn linger() -> Duration {
    std::env::var("OPSMCP_AUDIT_LINGER_US")
        .ok()
        .and_then(|v| v.parse().ok())
        .map_or(LINGER, Duration::from_micros)
}

/// An entry, and who waits for its commit.
type Item = (NewAuditEntry, Option<oneshot::Sender<()>>);

/// Sends entries to the writer task.
#[derive(Debug, Clone)]
pub struct Audit {
    tx: Option<mpsc::Sender<Item>>,
    /// Ends the writer's linger: a change's entry is waited for.
    urgent: Arc<Notify>,
    server: &'static str,
}

impl Audit {
    /// No audit log (tests of one tool, tools with no store).
    pub fn off(server: &'static str) -> Self {
        Self {
            tx: None,
            urgent: Arc::new(Notify::new()),
            server,
        }
    }

    /// Starts the writer task on the current runtime.
    pub fn start(store: Store, server: &'static str) -> Self {
        let (tx, mut rx) = mpsc::channel::<Item>(BATCH * 16);
        let urgent = Arc::new(Notify::new());
        let wake = urgent.clone();
        let linger = linger();
        tokio::spawn(async move {
            let mut batch: Vec<Item> = Vec::with_capacity(BATCH);
            let mut entries = Vec::with_capacity(BATCH);
            let mut acks = Vec::new();
            while rx.recv_many(&mut batch, BATCH).await > 0 {
                if !linger.is_zero()
                    && batch.len() < BATCH
                    && batch.iter().all(|(_, ack)| ack.is_none())
                {
                    // Sleeping, not waiting on the queue, so senders do not wake this task.
                    tokio::select! {
                        () = tokio::time::sleep(linger) => {}
                        () = wake.notified() => {}
                    }
                    while batch.len() < BATCH {
                        match rx.try_recv() {
                            Ok(item) => batch.push(item),
                            Err(_) => break,
                        }
                    }
                }
                for (entry, ack) in batch.drain(..) {
                    entries.push(entry);
                    acks.extend(ack);
                }
                if let Err(e) = store.append_audit_entries(&entries).await {
                    tracing::error!(error = %e, lost = entries.len(), "audit entries not written");
                }
                entries.clear();
                for ack in acks.drain(..) {
                    let _ = ack.send(());
                }
            }
        });
        Self {
            tx: Some(tx),
            urgent,
            server,
        }
    }

    /// The same writer, for another server of this process.
    pub fn for_server(&self, server: &'static str) -> Self {
        Self {
            tx: self.tx.clone(),
            urgent: self.urgent.clone(),
            server,
        }
    }

    /// Runs `call` and records it; waits for the record to be committed when `changes` is set.
    pub async fn call<F>(
        &self,
        request: CallToolRequestParams,
        caller: &Caller,
        changes: bool,
        call: impl FnOnce(CallToolRequestParams) -> F,
    ) -> Result<CallToolResponse, ErrorData>
    where
        F: std::future::Future<Output = Result<CallToolResponse, ErrorData>>,
    {
        if self.tx.is_none() {
            return call(request).await;
        }
        let tool = request.name.to_string();
        let mut arguments =
            serde_json::Value::Object(request.arguments.clone().unwrap_or_default());
        redact(&mut arguments);
        let started = Instant::now();
        let result = call(request).await;
        let outcome = outcome(&result);
        self.record(tool, caller, arguments, outcome, started, changes)
            .await;
        result
    }

    /// Runs `read` of the resource `uri` and records it like a read-only tool call (tool
    /// `resources/read`, arguments `{"uri": …}`): a resource is data a tool would return, so who
    /// read which incident is in the same log. Listings and completions are not recorded, as
    /// `tools/list` is not.
    pub async fn read<T, F>(&self, uri: &str, caller: &Caller, read: F) -> Result<T, ErrorData>
    where
        F: std::future::Future<Output = Result<T, ErrorData>>,
    {
        if self.tx.is_none() {
            return read.await;
        }
        let started = Instant::now();
        let result = read.await;
        let outcome = match &result {
            Ok(_) => "ok".to_string(),
            Err(e) if e.message.starts_with("forbidden") => {
                format!("forbidden: {}", cut(&e.message, 300))
            }
            Err(e) => format!("error: {}", cut(&e.message, 300)),
        };
        self.record(
            "resources/read".to_string(),
            caller,
            serde_json::json!({ "uri": uri }),
            outcome,
            started,
            false,
        )
        .await;
        result
    }

    /// Queues one entry; waits for its commit when `changes` is set.
    async fn record(
        &self,
        tool: String,
        caller: &Caller,
        arguments: serde_json::Value,
        outcome: String,
        started: Instant,
        changes: bool,
    ) {
        let Some(tx) = &self.tx else { return };
        let entry = NewAuditEntry {
            server: self.server.to_string(),
            tool,
            caller: caller.identity.subject.clone(),
            arguments,
            outcome,
            duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            request_id: Some(caller.request_id.clone()),
        };
        if changes {
            let (ack, done) = oneshot::channel();
            if tx.send((entry, Some(ack))).await.is_ok() {
                self.urgent.notify_one();
                let _ = tokio::time::timeout(Duration::from_secs(30), done).await;
            }
        } else if tx.try_send((entry, None)).is_err() {
            tracing::warn!("audit queue full; a read-only call's entry was dropped");
        }
    }
}

/// Requests refused at the door, one entry per caller and route per window (the host tallies
/// them): tool `refused`, outcome `KIND: reason`, caller the credential id or
/// `unauthenticated@ADDRESS`, duration the span from the first to the last, arguments the
/// status, route, address, count, first and last time. Each window's entries are committed
/// before the next, and the last before the host's `serve` returns.
impl RefusalSink for Audit {
    fn record(&self, refusals: Vec<Refusal>) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let Some(tx) = &self.tx else { return };
            let mut acks = Vec::with_capacity(refusals.len());
            for r in refusals {
                let (ack, done) = oneshot::channel();
                if tx.send((refusal_entry(r), Some(ack))).await.is_err() {
                    tracing::warn!("audit writer gone; refusal entries dropped");
                    return;
                }
                acks.push(done);
            }
            self.urgent.notify_one();
            let all = futures::future::join_all(acks);
            if tokio::time::timeout(Duration::from_secs(30), all)
                .await
                .is_err()
            {
                tracing::warn!("refusal entries not committed within 30 s");
            }
        })
    }
}

fn refusal_entry(r: Refusal) -> NewAuditEntry {
    let time = |t: std::time::SystemTime| {
        jiff::Timestamp::try_from(t)
            .map_or_else(|_| serde_json::Value::Null, |t| t.to_string().into())
    };
    let caller = match (&r.credential, r.address, r.overflow) {
        (_, _, true) => "others".to_string(),
        (Some(credential), _, _) => credential.clone(),
        (None, Some(address), _) => format!("unauthenticated@{address}"),
        (None, None, _) => "unauthenticated".to_string(),
    };
    let span = r.last.duration_since(r.first).unwrap_or_default();
    NewAuditEntry {
        server: r.server,
        tool: "refused".to_string(),
        caller,
        arguments: serde_json::json!({
            "status": r.kind.status(),
            "route": r.route,
            "address": r.address.map(|a| a.to_string()),
            "credential": r.credential,
            "count": r.count,
            "first": time(r.first),
            "last": time(r.last),
            "overflow": r.overflow,
        }),
        outcome: format!("{}: {}", r.kind.as_str(), r.reason),
        duration_ms: u64::try_from(span.as_millis()).unwrap_or(u64::MAX),
        // The first refused request's id, to find it in the traces.
        request_id: r.request_id,
    }
}

/// A server's `call_tool`: routes through `router` within the host's bounds for the caller
/// (scope, concurrency, timeout) and records the call. Calls to tools not annotated read-only
/// wait for their entry to be committed.
pub async fn routed<S: Send + Sync + 'static>(
    audit: &Audit,
    server: &S,
    router: &ToolRouter<S>,
    request: CallToolRequestParams,
    context: RequestContext<RoleServer>,
) -> Result<CallToolResponse, ErrorData> {
    let changes = router
        .get(&request.name)
        .is_none_or(|t| t.annotations.as_ref().and_then(|a| a.read_only_hint) != Some(true));
    let caller = Caller::of(&context);
    let tool = request.name.to_string();
    // The audit wraps the host's bounds, so a call refused as forbidden or busy, or cut off
    // by the call timeout, leaves its entry like any other.
    audit
        .call(request, &caller, changes, |request| {
            caller.run(
                &tool,
                router.call(ToolCallContext::new(server, request, context)),
            )
        })
        .await
}

/// The caller of a resource request holds `scope`: resources are what tools return, so they
/// take the scope of the tool that returns the same data (`read` for incidents, `analyze` for
/// the raw logs of the analytics workspace; `admin` holds all). Checked here because the gate
/// only knows tools by name.
pub fn allowed(context: &RequestContext<RoleServer>, scope: Scope) -> Result<Caller, ErrorData> {
    let caller = Caller::of(context);
    if caller.identity.scopes.allows(scope) {
        return Ok(caller);
    }
    Err(ErrorData::invalid_request(
        format!(
            "forbidden: these resources need the '{scope}' scope and {} holds {}",
            caller.identity.subject,
            if caller.identity.scopes == Default::default() {
                "none".to_string()
            } else {
                caller.identity.scopes.to_string()
            }
        ),
        None,
    ))
}

/// The outcome an entry records, its first word the kind: `ok`, `error`, `busy`, `timeout`,
/// `forbidden` or `rejected` (refused before the tool ran, as bad input), then the message.
fn outcome(result: &Result<CallToolResponse, ErrorData>) -> String {
    match result {
        Ok(CallToolResponse::Complete(r)) if r.is_error == Some(true) => {
            let text = r
                .content
                .iter()
                .filter_map(|c| c.as_text().map(|t| t.text.as_str()))
                .collect::<Vec<_>>()
                .join(" ");
            let kind = if text.starts_with("busy:") {
                "busy"
            } else if text.starts_with("timed out:") {
                "timeout"
            } else {
                "error"
            };
            format!("{kind}: {}", cut(&text, 300))
        }
        Ok(_) => "ok".to_string(),
        Err(e) if e.message.starts_with("forbidden") => {
            format!("forbidden: {}", cut(&e.message, 300))
        }
        Err(e) => format!("rejected: {}", cut(&e.message, 300)),
    }
}

fn cut(s: &str, max: usize) -> &str {
    &s[..s.floor_char_boundary(max)]
}

/// Replaces values of keys that look secret, at any depth.
pub fn redact(value: &mut serde_json::Value) {
    const SECRET: [&str; 7] = [
        "password",
        "passwd",
        "secret",
        "token",
        "api_key",
        "apikey",
        "authorization",
    ];
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                let key = k.to_ascii_lowercase();
                if SECRET.iter().any(|s| key.contains(s)) {
                    *v = serde_json::Value::String("[redacted]".into());
                } else {
                    redact(v);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use opsmcp_mcp::Caller;
    use rmcp::{
        ErrorData,
        model::{CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock},
    };

    /// Every attempted call leaves an entry with its outcome, refusals included; a change's
    /// entry is committed before its answer.
    #[tokio::test]
    async fn refused_busy_and_timed_out_calls_are_audited() {
        let dir = tempfile::tempdir().unwrap();
        let store = opsmcp_store::Store::open(&format!("sqlite://{}/a.db", dir.path().display()))
            .await
            .unwrap();
        let audit = super::Audit::start(store.clone(), "workflow");
        let caller = Caller::local();
        let request = |tool: &str| {
            serde_json::from_value::<CallToolRequestParams>(
                serde_json::json!({"name": tool, "arguments": {"incident_id": "INC-1"}}),
            )
            .unwrap()
        };
        let refusal = |text: &str| {
            Ok(CallToolResponse::Complete(CallToolResult::error(vec![
                ContentBlock::text(text.to_string()),
            ])))
        };
        for (tool, answer) in [
            (
                "execute_remediation",
                refusal("busy: 8 calls of execute_remediation are already running"),
            ),
            (
                "execute_remediation",
                refusal("timed out: execute_remediation took longer than 600 s"),
            ),
            (
                "execute_remediation",
                Err(ErrorData::invalid_request(
                    "forbidden: execute_remediation needs 'remediate'",
                    None,
                )),
            ),
            ("notify_team", refusal("no such incident")),
        ] {
            let _ = audit
                .call(request(tool), &caller, true, |_| async move { answer })
                .await;
        }
        let kinds: Vec<String> = store
            .audit_entries(0, 100)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.outcome.split(':').next().unwrap_or_default().to_string())
            .collect();
        assert_eq!(kinds, ["busy", "timeout", "forbidden", "error"]);
    }

    /// A burst of read-only calls leaves one entry per call, in call order, on a valid chain,
    /// whether the writer takes it as full batches or gathers it in its linger; a change's entry
    /// (and so every entry queued before it) is in the store when the change's answer arrives.
    #[tokio::test]
    async fn a_burst_is_recorded_in_order_and_a_change_before_its_answer() {
        let dir = tempfile::tempdir().unwrap();
        let store = opsmcp_store::Store::open(&format!("sqlite://{}/a.db", dir.path().display()))
            .await
            .unwrap();
        let audit = super::Audit::start(store.clone(), "monitoring");
        let caller = Caller::local();
        let mut calls = 0;
        // 600 at once (more than a batch), then bursts of 3 that let the writer start lingering.
        for burst in [600, 3, 3, 3] {
            for _ in 0..burst {
                let request = serde_json::from_value::<CallToolRequestParams>(
                    serde_json::json!({"name": "get_system_metrics", "arguments": {"i": calls}}),
                )
                .unwrap();
                calls += 1;
                let answer = audit
                    .call(request, &caller, false, |_| async {
                        Ok(CallToolResponse::Complete(CallToolResult::success(vec![])))
                    })
                    .await;
                assert!(answer.is_ok());
            }
            tokio::task::yield_now().await;
            let change = serde_json::from_value::<CallToolRequestParams>(
                serde_json::json!({"name": "create_incident", "arguments": {"i": calls}}),
            )
            .unwrap();
            calls += 1;
            let _ = audit
                .call(change, &caller, true, |_| async {
                    Ok(CallToolResponse::Complete(CallToolResult::success(vec![])))
                })
                .await;
            let entries = store.audit_entries(0, 10_000).await.unwrap();
            let order: Vec<String> = entries.iter().map(|e| e.arguments.clone()).collect();
            let expected: Vec<String> = (0..calls)
                .map(|i| serde_json::json!({ "i": i }).to_string())
                .collect();
            assert_eq!(order, expected, "one entry per call, in call order");
        }
        assert_eq!(
            store.verify_audit().await.unwrap(),
            opsmcp_store::AuditVerdict::Intact {
                entries: calls,
                unkeyed: calls
            }
        );
    }

    #[test]
    fn secrets_are_redacted_at_any_depth() {
        let mut v = serde_json::json!({
            "message": "hi", "params": {"db_password": "x", "nested": [{"api_token": "y"}]},
            "Authorization": "Bearer z"
        });
        super::redact(&mut v);
        let s = v.to_string();
        assert!(
            !s.contains("\"x\"") && !s.contains("\"y\"") && !s.contains("Bearer"),
            "{s}"
        );
        assert!(s.contains("hi"));
    }
}
