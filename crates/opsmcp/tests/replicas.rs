//! Two workflow servers on one PostgreSQL, as replicas behind a load balancer would run:
//! concurrent creates with one dedup key give one incident, and each notification is delivered
//! once although both servers run a delivery worker. Runs when `OPSMCP_TEST_DATABASE_URL` names
//! a PostgreSQL database (`.ci/run` sets it); otherwise says it was skipped.

mod common;

use std::{process::Command, time::Duration};

use common::{Running, sse_session};
use rmcp::{
    RoleClient, ServiceExt, model::CallToolRequestParams, service::RunningService,
    transport::StreamableHttpClientTransport,
};
use serde_json::{Value, json};

/// A fresh schema in the test database: (database URL, schema, URL with that search path), or
/// None (and a message) when no PostgreSQL is configured.
fn fresh_schema(name: &str) -> Option<(String, String, String)> {
    let Ok(base) = std::env::var("OPSMCP_TEST_DATABASE_URL") else {
        eprintln!("skipped: set OPSMCP_TEST_DATABASE_URL=postgres://… to run against PostgreSQL");
        return None;
    };
    let schema = format!("opsmcp_{name}_{}", std::process::id());
    let made = Command::new("psql")
        .args([
            &base,
            "-q",
            "-c",
            &format!("DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"),
        ])
        .status()
        .unwrap();
    assert!(made.success(), "psql could not create the test schema");
    let sep = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
    Some((base, schema, url))
}

async fn client(url: &str) -> RunningService<RoleClient, ()> {
    ().serve(StreamableHttpClientTransport::from_uri(format!(
        "{url}/mcp"
    )))
    .await
    .unwrap()
}

async fn call(c: &RunningService<RoleClient, ()>, tool: &str, args: Value) -> Value {
    let r = c
        .call_tool(
            CallToolRequestParams::new(tool.to_string())
                .with_arguments(args.as_object().unwrap().clone()),
        )
        .await
        .unwrap();
    assert_ne!(r.is_error, Some(true), "{:?}", r.content);
    r.structured_content.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_workflow_servers_on_one_postgres_agree() {
    let Some((base, schema, url)) = fresh_schema("replicas") else {
        return;
    };

    // Both replicas share the database; each has its own data directory, so the file channel is
    // pointed at one shared path for the test to read.
    let shared = tempfile::tempdir().unwrap();
    let file = shared.path().join("notifications.jsonl");
    let config = shared.path().join("opsmcp.toml");
    std::fs::write(
        &config,
        format!(
            "[notify.channels.ops]\ntype = \"file\"\npath = \"{}\"\n",
            file.display()
        ),
    )
    .unwrap();
    let env = [
        ("OPSMCP_DATABASE_URL", url.as_str()),
        ("OPSMCP_CONFIG", config.to_str().unwrap()),
    ];
    let a = Running::start_with_env(&["serve", "workflow", "--port", "0"], &["workflow"], &env);
    let b = Running::start_with_env(&["serve", "workflow", "--port", "0"], &["workflow"], &env);
    let (ca, cb) = (
        client(a.url("workflow")).await,
        client(b.url("workflow")).await,
    );

    let open = json!({"title": "api down", "severity": "SEV1", "dedup_key": "api-down"});
    let calls = (0..20).map(|i| {
        let c = if i % 2 == 0 { &ca } else { &cb };
        let open = open.clone();
        async move { call(c, "create_incident", open).await }
    });
    let results = futures::future::join_all(calls).await;
    let ids: std::collections::BTreeSet<_> = results
        .iter()
        .map(|r| r["incident"]["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert_eq!(
        results
            .iter()
            .filter(|r| r["deduplicated"] == false)
            .count(),
        1
    );
    let id = ids.into_iter().next().unwrap();

    for i in 0..30 {
        let c = if i % 2 == 0 { &ca } else { &cb };
        call(
            c,
            "notify_team",
            json!({"message": format!("update {i}"), "incident_id": id}),
        )
        .await;
    }
    let mut tries = 0;
    loop {
        let lines = std::fs::read_to_string(&file).unwrap_or_default();
        let count = lines.lines().count();
        if count >= 30 {
            let keys: std::collections::BTreeSet<_> = lines
                .lines()
                .map(|l| serde_json::from_str::<Value>(l).unwrap()["idempotency_key"].to_string())
                .collect();
            assert_eq!(keys.len(), 30, "a notification was written twice:\n{lines}");
            assert_eq!(count, 30, "{lines}");
            break;
        }
        tries += 1;
        assert!(tries < 300, "only {count} of 30 notifications delivered");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let got = call(&ca, "get_incident", json!({"incident_id": id})).await;
    let delivered = got["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["status"] == "delivered")
        .count();
    assert_eq!(delivered, 30, "{got}");
    ca.cancel().await.unwrap();
    cb.cancel().await.unwrap();
    let _ = Command::new("psql")
        .args([&base, "-q", "-c", &format!("DROP SCHEMA {schema} CASCADE")])
        .status();
}

/// Two `opsmcp up` instances on one PostgreSQL, with the same token config, behind a
/// round-robin "load balancer" (the client alternates every request): an incident is worked
/// end to end with no stickiness on `/mcp` — opened on one, remediated on the other, verified
/// and documented across both. `/sse` is the exception: a session lives in the instance that
/// opened it, so a POST routed to the other gets 404 (README: sticky routing for `/sse`).
#[test]
fn a_round_robin_client_works_an_incident_across_two_instances() {
    let Some((base, schema, url)) = fresh_schema("round_robin") else {
        return;
    };
    let out = Command::new(common::bin())
        .args([
            "token",
            "create",
            "--name",
            "agent",
            "--scopes",
            "read,write,remediate",
        ])
        .output()
        .unwrap();
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let entry = String::from_utf8(out.stderr).unwrap();
    let entry = &entry[entry.find("[[auth.tokens]]").unwrap()..];
    let shared = tempfile::tempdir().unwrap();
    let config = shared.path().join("opsmcp.toml");
    std::fs::write(&config, entry.split("\n\n").next().unwrap()).unwrap();
    let env = [
        ("OPSMCP_DATABASE_URL", url.as_str()),
        ("OPSMCP_CONFIG", config.to_str().unwrap()),
        ("OPSMCP_SCENARIO", "db-connection-pool-exhaustion"),
        ("OPSMCP_EFFECT_SPEED", "100"),
        ("OPSMCP_VERIFY_TIMEOUT_S", "60"),
    ];
    let a = Running::up_with_env(&[], &env);
    let b = Running::up_with_env(&[], &env);
    let instances = [&a, &b];
    let mut turn = 0usize;
    let http = reqwest::blocking::Client::new();
    let mut call = |server: &str, tool: &str, arguments: Value| -> Value {
        let instance = instances[turn % 2];
        turn += 1;
        let r = common::post_mcp(instance.url(server))
            .bearer_auth(&token)
            .json(
                &json!({"jsonrpc": "2.0", "id": turn, "method": "tools/call",
                          "params": {"name": tool, "arguments": arguments}}),
            )
            .send()
            .unwrap();
        assert_eq!(r.status(), 200, "{tool} on instance {}", turn % 2);
        let body: Value = r.json().unwrap();
        assert_ne!(body["result"]["isError"], true, "{tool}: {body}");
        body["result"]["structuredContent"].clone()
    };

    let health = call(
        "monitoring",
        "verify_health",
        json!({"service": "orders-db"}),
    );
    assert_ne!(health["status"], "healthy", "{health}");
    let opened = call(
        "workflow",
        "create_incident",
        json!({"title": "orders failing", "severity": "SEV2", "services": ["orders-db"]}),
    );
    let id = opened["incident"]["id"].as_str().unwrap().to_string();
    let fixed = call(
        "workflow",
        "execute_remediation",
        json!({"incident_id": id, "action": "increase-pool-size", "target": "orders-db"}),
    );
    assert_eq!(fixed["remediation"]["status"], "succeeded", "{fixed}");
    // The other instance sees the fix: the simulated world is shared through the store.
    let health = call(
        "monitoring",
        "verify_health",
        json!({"service": "orders-db"}),
    );
    assert_eq!(health["status"], "healthy", "{health}");
    let shown = call("workflow", "get_incident", json!({"incident_id": id}));
    assert_eq!(
        shown["incident"]["incident"]["status"], "mitigated",
        "{shown}"
    );
    assert!(shown.to_string().contains("token:agent"), "{shown}");

    // /sse: the session is in A; a POST routed to B does not find it.
    let (_session, path) = sse_session(a.url("monitoring"), &token);
    let r = http
        .post(format!("{}{path}", b.url("monitoring")))
        .bearer_auth(&token)
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}))
        .send()
        .unwrap();
    assert_eq!(r.status(), 404);
    let _ = Command::new("psql")
        .args([&base, "-q", "-c", &format!("DROP SCHEMA {schema} CASCADE")])
        .status();
}
