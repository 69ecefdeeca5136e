//! Durability across processes: a server killed with SIGKILL in the middle of a burst loses no
//! answered incident and duplicates none; servers started separately on one data directory play
//! the same simulated world.

mod common;

use std::{
    collections::{BTreeMap, HashMap},
    process::Command,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use common::{Running, bin};
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

fn incidents(data_dir: &std::path::Path) -> Vec<Value> {
    let out = Command::new(bin())
        .args([
            "incidents",
            "list",
            "--json",
            "--limit",
            "200",
            "--data-dir",
        ])
        .arg(data_dir)
        .env_remove("OPSMCP_DATABASE_URL")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_during_a_burst_of_creates_loses_and_duplicates_nothing_answered() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_str().unwrap().to_string();
    let mut server = Running::start_with_env(
        &["serve", "workflow", "--port", "0"],
        &["workflow"],
        &[("OPSMCP_DATA_DIR", &dir)],
    );
    let url = server.url("workflow").to_string();
    let answered: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let count = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    // 500 calls from 10 clients over 100 dedup keys, 5 calls per key.
    for c in 0..10 {
        let (url, answered, count) = (url.clone(), answered.clone(), count.clone());
        tasks.push(tokio::spawn(async move {
            let client = client(&url).await;
            let calls = (0..50).map(|i| {
                let key = format!("burst-{}", (c * 50 + i) % 100);
                let client = &client;
                let (answered, count) = (answered.clone(), count.clone());
                async move {
                    let args = json!({"title": format!("burst {key}"), "severity": "SEV3", "dedup_key": key});
                    let r = client
                        .call_tool(
                            CallToolRequestParams::new("create_incident")
                                .with_arguments(args.as_object().unwrap().clone()),
                        )
                        .await;
                    if let Ok(r) = r
                        && r.is_error != Some(true)
                        && let Some(s) = r.structured_content
                    {
                        let id = s["incident"]["id"].as_str().unwrap().to_string();
                        answered.lock().unwrap().push((key, id));
                        count.fetch_add(1, Ordering::SeqCst);
                    }
                }
            });
            futures::future::join_all(calls).await;
        }));
    }
    while count.load(Ordering::SeqCst) < 60 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.child.kill().unwrap(); // SIGKILL: no graceful anything
    server.child.wait().unwrap();
    for t in tasks {
        let _ = t.await;
    }
    let answered = answered.lock().unwrap().clone();
    assert!(answered.len() >= 60);

    // Restarted on the same data directory: every answered call's incident is there, once.
    let restarted = Running::start_with_env(
        &["serve", "workflow", "--port", "0"],
        &["workflow"],
        &[("OPSMCP_DATA_DIR", &dir)],
    );
    let stored = incidents(data.path());
    let mut per_key: HashMap<String, Vec<String>> = HashMap::new();
    for i in &stored {
        per_key
            .entry(i["dedup_key"].as_str().unwrap().to_string())
            .or_default()
            .push(i["id"].as_str().unwrap().to_string());
    }
    for (key, id) in &answered {
        assert_eq!(
            per_key.get(key),
            Some(&vec![id.clone()]),
            "{key}: {per_key:?}"
        );
    }
    assert!(
        per_key.values().all(|ids| ids.len() == 1),
        "a key has two open incidents"
    );
    drop(restarted);
}

async fn health(m: &RunningService<RoleClient, ()>) -> BTreeMap<String, String> {
    let r = m
        .call_tool(CallToolRequestParams::new("verify_health"))
        .await
        .unwrap();
    let s = r.structured_content.unwrap();
    s["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["service"].as_str().unwrap().to_string(),
                x["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn servers_started_separately_on_one_data_directory_play_one_world() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_str().unwrap().to_string();
    let scenario = [
        "--scenario",
        "db-connection-pool-exhaustion",
        "--effect-speed",
        "60",
    ];
    let mut args = vec![
        "serve",
        "workflow",
        "--port",
        "0",
        "--verify-timeout-s",
        "30",
    ];
    args.extend(scenario);
    let workflow = Running::start_with_env(&args, &["workflow"], &[("OPSMCP_DATA_DIR", &dir)]);
    let mut args = vec!["serve", "monitoring", "--port", "0"];
    args.extend(scenario);
    let monitoring = Running::start_with_env(&args, &["monitoring"], &[("OPSMCP_DATA_DIR", &dir)]);

    let m = client(monitoring.url("monitoring")).await;
    assert_eq!(health(&m).await["orders-db"], "unhealthy");

    // The fix goes through the other process; this one sees it take effect.
    let w = client(workflow.url("workflow")).await;
    let inc = w
        .call_tool(
            CallToolRequestParams::new("create_incident").with_arguments(
                json!({"title": "pool", "severity": "SEV2"})
                    .as_object()
                    .unwrap()
                    .clone(),
            ),
        )
        .await
        .unwrap()
        .structured_content
        .unwrap();
    let ran = w
        .call_tool(
            CallToolRequestParams::new("execute_remediation").with_arguments(
                json!({"incident_id": inc["incident"]["id"], "action": "increase-pool-size"})
                    .as_object()
                    .unwrap()
                    .clone(),
            ),
        )
        .await
        .unwrap()
        .structured_content
        .unwrap();
    assert_eq!(ran["remediation"]["status"], "succeeded", "{ran}");
    let mut tries = 0;
    while health(&m).await["orders-db"] != "healthy" {
        tries += 1;
        assert!(tries < 100, "the monitoring process never saw the fix");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    m.cancel().await.unwrap();
    w.cancel().await.unwrap();
}
