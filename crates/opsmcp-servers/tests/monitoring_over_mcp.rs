//! The monitoring server's analysis tools over MCP, against every built-in scenario: the server
//! runs in-process on an ephemeral loopback port over a simulated world, and an rmcp client
//! calls it as any MCP client would.
//!
//! For each scenario: `root_cause_analysis` with no arguments must put the truth first (type,
//! component and an action that fixes it) despite the red herrings; `verify_health` must report
//! the component unhealthy before the fix, healthy once the right remediation has taken effect,
//! and still unhealthy after a wrong one. Remediations are replayed with a time in the past (as
//! the store does for another process), so the test never waits for the world to change.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use opsmcp_mcp::{HostSettings, McpHost};
use opsmcp_servers::{
    audit::Audit,
    monitoring::{Monitoring, MonitoringServer},
};
use opsmcp_store::{NewIncident, Severity, Store};
use opsmcp_world::{
    World,
    health::Thresholds,
    sim::{Applied, Scenario, SimWorld, SimulatedWorld, builtin, scenario::Outcome},
};
use rmcp::{
    ServiceExt,
    model::{CallToolRequestParams, CallToolResult},
    service::RunningService,
    transport::StreamableHttpClientTransport,
};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

/// A monitoring server over `world` on 127.0.0.1:0, and a connected client.
struct Served {
    client: RunningService<rmcp::RoleClient, ()>,
    stop: CancellationToken,
}

impl Served {
    async fn start(world: Arc<dyn World>, store: Option<Store>) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = CancellationToken::new();
        let handler = MonitoringServer::new(
            Arc::new(Monitoring { world, store }),
            Audit::off("monitoring"),
        );
        let host = McpHost::new(HostSettings::new("monitoring", "test"), move || {
            handler.clone()
        });
        tokio::spawn(host.serve(listener, stop.clone()));
        let transport = StreamableHttpClientTransport::from_uri(format!("http://{addr}/mcp"));
        let client = ().serve(transport).await.unwrap();
        Self { client, stop }
    }

    async fn call(&self, tool: &str, args: Value) -> CallToolResult {
        let mut params = CallToolRequestParams::new(tool.to_string());
        if let Value::Object(map) = args {
            params = params.with_arguments(map);
        }
        self.client.call_tool(params).await.unwrap()
    }

    async fn structured(&self, tool: &str, args: Value) -> Value {
        let result = self.call(tool, args).await;
        assert_ne!(result.is_error, Some(true), "{tool}: {result:?}");
        result.structured_content.expect("structured content")
    }

    async fn stop(self) {
        self.client.cancel().await.unwrap();
        self.stop.cancel();
    }
}

fn world(scenario: &Scenario, started: Timestamp, applied: Vec<Applied>) -> Arc<dyn World> {
    Arc::new(SimulatedWorld::new(
        SimWorld::new(scenario.clone(), 1, started).with_applied(applied),
        Thresholds::default(),
    ))
}

/// `name@target` of every action that fixes the fault.
fn fixes(s: &Scenario) -> Vec<(String, String)> {
    s.truth
        .remediation
        .iter()
        .map(|r| {
            let a = s.resolve_action(r).unwrap();
            (a.name.clone(), a.target.clone())
        })
        .collect()
}

async fn component_status(server: &Served, component: &str) -> String {
    let h = server
        .structured("verify_health", json!({"service": component}))
        .await;
    h["status"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn root_cause_and_recovery_on_every_builtin_scenario() {
    let mut failures = Vec::new();
    for s in builtin::all().unwrap() {
        let now = Timestamp::now();
        let want_type = serde_json::to_value(&s.truth.root_cause).unwrap();
        let right = fixes(&s);

        // Before any fix: the analysis, and the component is sick.
        let server = Served::start(world(&s, now, Vec::new()), None).await;
        let rca = server.structured("root_cause_analysis", json!({})).await;
        let top = &rca["hypotheses"][0];
        let action = (
            top["suggested_action"]["action"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            top["suggested_action"]["target"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        );
        if top["root_cause"] != want_type
            || top["component"] != s.truth.component.as_str()
            || !right.contains(&action)
        {
            failures.push(format!(
                "{}: top hypothesis {} on {} with {:?}; want {} on {} with {:?}",
                s.name,
                top["root_cause"],
                top["component"],
                action,
                want_type,
                s.truth.component,
                right
            ));
        }
        assert!(
            !top["evidence_for"].as_array().unwrap().is_empty(),
            "{}",
            s.name
        );
        assert!(
            !top["to_confirm"].as_array().unwrap().is_empty(),
            "{}",
            s.name
        );
        let before = component_status(&server, &s.truth.component).await;
        if before != "unhealthy" {
            failures.push(format!(
                "{}: {} is {before} before the fix",
                s.name, s.truth.component
            ));
        }
        server.stop().await;

        // The right fix, applied long enough ago to have taken effect.
        let applied_at = now - SignedDuration::from_mins(6);
        let fixed = vec![Applied {
            action: right[0].0.clone(),
            target: right[0].1.clone(),
            at: applied_at,
            rollback: false,
        }];
        let server = Served::start(world(&s, now, fixed), None).await;
        let after = component_status(&server, &s.truth.component).await;
        if after != "healthy" {
            failures.push(format!(
                "{}: {} is {after} after {:?}",
                s.name, s.truth.component, right[0]
            ));
        }
        server.stop().await;

        // A wrong one (an action that changes nothing, or failing that one that makes it worse).
        let wrong = s
            .actions
            .iter()
            .find(|a| a.outcome == Outcome::Nothing)
            .or_else(|| s.actions.iter().find(|a| a.outcome == Outcome::Worsens))
            .expect("every scenario offers a wrong action");
        let server = Served::start(
            world(
                &s,
                now,
                vec![Applied {
                    action: wrong.name.clone(),
                    target: wrong.target.clone(),
                    at: applied_at,
                    rollback: false,
                }],
            ),
            None,
        )
        .await;
        let after_wrong = component_status(&server, &s.truth.component).await;
        if after_wrong != "unhealthy" {
            failures.push(format!(
                "{}: {} is {after_wrong} after the wrong {}@{}",
                s.name, s.truth.component, wrong.name, wrong.target
            ));
        }
        server.stop().await;
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn analyze_logs_and_metrics_narrow_and_explain_bad_input() {
    let s = builtin::load("db-connection-pool-exhaustion").unwrap();
    let server = Served::start(world(&s, Timestamp::now(), Vec::new()), None).await;

    let all = server.structured("analyze_logs", json!({})).await;
    assert!(all["lines"].as_u64().unwrap() > 1000, "{all}");
    let services = all["services"].as_array().unwrap();
    assert!(services.len() >= 3);
    // The sickest logs first: errors rose there, with new templates and an example line.
    let first = &services[0];
    assert!(first["error_rate"].as_f64().unwrap() > first["baseline_error_rate"].as_f64().unwrap());
    assert!(!first["new_templates"].as_array().unwrap().is_empty());
    assert!(!first["error_rate_over_time"].as_array().unwrap().is_empty());
    assert!(serde_json::to_vec(&all).unwrap().len() <= 48 * 1024 + 1024);

    let one = server
        .structured(
            "analyze_logs",
            json!({"service_filter": "orders-db", "timeframe": "15m", "query": "connection"}),
        )
        .await;
    let svcs = one["services"].as_array().unwrap();
    assert_eq!(svcs.len(), 1);
    assert_eq!(svcs[0]["service"], "orders-db");

    for (tool, args, says) in [
        (
            "analyze_logs",
            json!({"timeframe": "yesterday-ish"}),
            "send a duration",
        ),
        (
            "analyze_logs",
            json!({"service_filter": "nope"}),
            "orders-db",
        ),
        (
            "root_cause_analysis",
            json!({"incident_id": "INC-0001"}),
            "no incident store",
        ),
        (
            "get_system_metrics",
            json!({"metrics": ["nope"]}),
            "error_rate",
        ),
    ] {
        let r = server.call(tool, args).await;
        assert_eq!(r.is_error, Some(true), "{tool}");
        let text = format!("{:?}", r.content);
        assert!(text.contains(says), "{tool}: {text}");
    }

    let m = server
        .structured(
            "get_system_metrics",
            json!({"service": "orders-db", "metrics": ["db_connections_in_use"], "timeframe": "30m"}),
        )
        .await;
    let readings = m["services"][0]["readings"].as_array().unwrap();
    assert_eq!(readings.len(), 1);
    assert!(readings[0]["baseline"].as_f64().is_some());
    let changes = m["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0]["anomalous_now"], true, "{m}");
    assert!(changes[0]["onset"].is_string());
    server.stop().await;
}

#[tokio::test]
async fn an_incident_id_gives_the_window_and_unknown_ids_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("store.db").display());
    let store = Store::open(&url).await.unwrap();
    let (incident, _) = store
        .create_incident(
            NewIncident {
                title: "checkout 5xx".into(),
                severity: Severity::Sev2,
                description: None,
                services: vec!["checkout-api".into()],
                dedup_key: None,
            },
            "test",
        )
        .await
        .unwrap();
    let s = builtin::load("db-connection-pool-exhaustion").unwrap();
    let server = Served::start(world(&s, Timestamp::now(), Vec::new()), Some(store)).await;

    let rca = server
        .structured("root_cause_analysis", json!({"incident_id": incident.id}))
        .await;
    assert_eq!(rca["incident_id"], incident.id.as_str());
    assert_eq!(rca["hypotheses"][0]["component"], "orders-db", "{rca}");
    let from: Timestamp = rca["window"]["start"].as_str().unwrap().parse().unwrap();
    assert!(from <= incident.created_at - SignedDuration::from_mins(29));

    let bad = server
        .call("analyze_logs", json!({"incident_id": "INC-9999"}))
        .await;
    assert_eq!(bad.is_error, Some(true));
    assert!(format!("{:?}", bad.content).contains("INC-9999"));
    server.stop().await;
}

/// Secrets of every kind the redactor knows never leave in the log text the analysis tools
/// show (examples of new and bursting templates, evidence lines).
#[tokio::test]
async fn secrets_in_log_lines_never_leave_through_the_analysis_tools() {
    // (kind, as written in the line, the secret part that must not be seen)
    let secrets = [
        (
            "jwt",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJib2IifQ.c2lnbmF0dXJlMTIzNDU2",
            "c2lnbmF0dXJlMTIzNDU2",
        ),
        ("aws", "AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE"),
        (
            "basic",
            "Basic dXNlcjpodW50ZXIyaHVudGVy",
            "dXNlcjpodW50ZXIyaHVudGVy",
        ),
        (
            "bearer",
            "Bearer tok_live_abcdef123456",
            "tok_live_abcdef123456",
        ),
        ("password", "password=hunter2hunter2", "hunter2hunter2"),
        ("url", "postgres://app:s3cretpw@db:5432/orders", "s3cretpw"),
    ];
    let mut s = builtin::all()
        .unwrap()
        .into_iter()
        .find(|s| s.name == "db-connection-pool-exhaustion")
        .unwrap();
    // One line carrying every kind, so whichever example a tool picks shows all of them; it
    // names a pool, so the root-cause analysis cites it as evidence.
    let all: Vec<&str> = secrets.iter().map(|(_, written, _)| *written).collect();
    let mut text = String::from("fault = { logs = [");
    text.push_str(&format!(
        "{{ level = \"error\", per_minute = 120.0, message = \"auth failure: timeout acquiring connection from pool with {} from {{ip}}\", params = {{ ip = [\"10.0.0.1\", \"10.0.0.2\"] }} }},",
        all.join(" ")
    ));
    text.push_str("] }");
    #[derive(serde::Deserialize)]
    struct Extra {
        fault: ExtraFault,
    }
    #[derive(serde::Deserialize)]
    struct ExtraFault {
        logs: Vec<opsmcp_world::sim::scenario::LogTemplate>,
    }
    let extra: Extra = toml::from_str(&text).unwrap();
    s.fault.logs.extend(extra.fault.logs);
    let now = Timestamp::now();
    let server = Served::start(world(&s, now, Vec::new()), None).await;
    for (tool, args) in [
        ("analyze_logs", json!({})),
        ("analyze_logs", json!({"service_filter": s.fault.component})),
        ("root_cause_analysis", json!({})),
    ] {
        let shown = server.call(tool, args.clone()).await;
        let text = serde_json::to_string(&shown).unwrap();
        assert!(
            text.contains("auth failure"),
            "{tool} {args}: the lines are not shown at all"
        );
        for (kind, _, bare) in &secrets {
            assert!(
                !text.contains(bare),
                "{tool} {args}: the {kind} secret {bare:?} left in\n{text}"
            );
        }
    }
    server.stop().await;
}
