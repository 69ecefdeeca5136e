//! Two workflow servers on one PostgreSQL, as replicas behind a load balancer would run:
//! concurrent creates with one dedup key give one incident, and each notification is delivered
//! once although both servers run a delivery worker. Runs when `OPSMCP_TEST_DATABASE_URL` names
//! a PostgreSQL database (`.ci/run` sets it); otherwise says it was skipped.

mod common;

use std::{process::Command, time::Duration};

use common::Running;
use rmcp::{
    RoleClient, ServiceExt, model::CallToolRequestParams, service::RunningService,
    transport::StreamableHttpClientTransport,
};
use serde_json::{Value, json};

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
    let Ok(base) = std::env::var("OPSMCP_TEST_DATABASE_URL") else {
        eprintln!("skipped: set OPSMCP_TEST_DATABASE_URL=postgres://… to run against PostgreSQL");
        return;
    };
    let schema = format!("opsmcp_replicas_{}", std::process::id());
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
