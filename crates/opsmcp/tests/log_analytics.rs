//! The log analytics server end to end: the real binary playing a simulated incident, called
//! with the rmcp client — fetch logs into the workspace, page through them, run a script on
//! them in the sandbox, and the bad inputs a model sends.

mod common;

use std::collections::BTreeMap;

use common::Running;
use rmcp::{
    RoleClient, ServiceExt,
    model::{CallToolRequestParams, CallToolResult, GetPromptRequestParams},
    service::RunningService,
    transport::StreamableHttpClientTransport,
};
use serde_json::{Value, json};

type Client = RunningService<RoleClient, ()>;

fn up() -> Running {
    Running::up(&["--scenario", "db-connection-pool-exhaustion"])
}

async fn connect(server: &Running) -> Client {
    let transport =
        StreamableHttpClientTransport::from_uri(format!("{}/mcp", server.url("log-analytics")));
    ().serve(transport).await.expect("client connects")
}

async fn call(client: &Client, tool: &'static str, args: Value) -> CallToolResult {
    client
        .call_tool(
            CallToolRequestParams::new(tool).with_arguments(args.as_object().unwrap().clone()),
        )
        .await
        .expect("the call is answered")
}

async fn ok(client: &Client, tool: &'static str, args: Value) -> Value {
    let result = call(client, tool, args.clone()).await;
    assert_ne!(
        result.is_error,
        Some(true),
        "{tool} {args}: {:?}",
        result.content
    );
    result.structured_content.expect("structured content")
}

/// The error text of a call that must fail.
async fn refused(client: &Client, tool: &'static str, args: Value) -> String {
    let result = call(client, tool, args.clone()).await;
    assert_eq!(result.is_error, Some(true), "{tool} {args} should fail");
    format!("{:?}", result.content)
}

fn read_entries(server: &Running, relative: &str) -> Vec<Value> {
    let path = server.data_dir.join("analytics").join(relative);
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
}

fn count_by(entries: &[Value], keep: impl Fn(&Value) -> bool) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for e in entries.iter().filter(|e| keep(e)) {
        *counts
            .entry(e["service"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    counts
}

#[tokio::test]
async fn fetch_page_and_analyse_a_simulated_incident() {
    let server = up();
    let client = connect(&server).await;

    // Tools, their annotations, and the skill as a prompt.
    let tools = client.list_all_tools().await.unwrap();
    let mut names: Vec<_> = tools.iter().map(|t| t.name.to_string()).collect();
    names.sort();
    assert_eq!(names, ["execute_analysis_script", "get_raw_logs"]);
    for tool in &tools {
        assert!(tool.output_schema.is_some(), "{}", tool.name);
        let a = tool.annotations.as_ref().expect("annotations");
        assert_eq!(a.read_only_hint, Some(false), "{} writes files", tool.name);
        assert_eq!(
            a.destructive_hint,
            Some(tool.name == "execute_analysis_script"),
            "{}",
            tool.name
        );
    }
    // The skill first; the investigate phase beside it (tests/resources.rs checks the texts).
    let prompts = client.list_all_prompts().await.unwrap();
    let names: Vec<&str> = prompts.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["log-analytics", "investigate"]);
    let prompt = client
        .get_prompt(GetPromptRequestParams::new("log-analytics"))
        .await
        .unwrap();
    let text = serde_json::to_string(&prompt.messages).unwrap();
    assert!(text.contains("name: log-analytics"), "{text}");
    assert!(text.contains("sys.argv[1]"), "{text}");

    // Thirty minutes of the incident: well over a thousand lines, written whole.
    let logs = ok(
        &client,
        "get_raw_logs",
        json!({"timeframe": "last 30 minutes"}),
    )
    .await;
    let total = logs["total_entries"].as_u64().unwrap();
    assert!(total >= 1000, "{total}");
    let path = logs["log_data_path"].as_str().unwrap().to_owned();
    assert!(
        path.starts_with("adhoc-") && path.ends_with("/logs-1.json"),
        "{path}"
    );
    assert_eq!(
        logs["log_data_path_absolute"].as_str().unwrap(),
        server
            .data_dir
            .join("analytics")
            .join(&path)
            .display()
            .to_string()
    );
    let entries = read_entries(&server, &path);
    assert_eq!(entries.len() as u64, total);
    for key in ["at", "service", "level", "message"] {
        assert!(entries[0][key].is_string(), "{key}: {}", entries[0]);
    }
    // The summary agrees with the file.
    let by_service: BTreeMap<String, u64> =
        serde_json::from_value(logs["summary"]["by_service"].clone()).unwrap();
    assert_eq!(by_service, count_by(&entries, |_| true));
    assert_eq!(by_service.len(), 4, "{by_service:?}");
    assert!(
        !logs["summary"]["top_templates"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(logs["summary"]["first_at"], entries[0]["at"]);

    // One page, within the byte budget, then the next one from the same file.
    let page = &logs["page"];
    let shown = page["entries"].as_array().unwrap();
    assert_eq!(page["count"].as_u64().unwrap(), shown.len() as u64);
    assert!(page["bytes"].as_u64().unwrap() <= 24 * 1024);
    assert!(serde_json::to_string(shown).unwrap().len() <= 24 * 1024 + 2);
    assert!((shown.len() as u64) < total);
    assert_eq!(shown[0], entries[0]);
    let cursor = logs["next_cursor"].as_str().unwrap().to_owned();
    let next = ok(
        &client,
        "get_raw_logs",
        json!({"cursor": cursor, "format": "csv", "limit": 5}),
    )
    .await;
    assert_eq!(next["page"]["offset"].as_u64().unwrap(), shown.len() as u64);
    assert_eq!(next["page"]["count"], 5);
    let csv = next["page"]["csv"].as_str().unwrap();
    assert!(csv.starts_with("at,service,level,message\n"), "{csv}");
    assert!(
        csv.contains(entries[shown.len()]["at"].as_str().unwrap()),
        "{csv}"
    );
    assert!(next.get("summary").is_none());

    // A script computes errors per service; it must agree with the test's own count.
    let code = r#"
import json, sys
from collections import Counter
entries = json.load(open(sys.argv[1]))
errors = Counter(e["service"] for e in entries if e["level"] == "error")
with open("errors.json", "w") as f:
    json.dump(errors, f)
print(json.dumps({"errors": errors, "total": len(entries)}, sort_keys=True))
"#;
    let folder = path.rsplit_once('/').unwrap().0;
    let run = ok(
        &client,
        "execute_analysis_script",
        json!({
            "script_path": format!("analytics/{folder}/errors.py"),
            "log_data_path": path,
            "code": code,
        }),
    )
    .await;
    assert_eq!(run["succeeded"], true, "{run}");
    assert_eq!(run["exit_code"], 0);
    assert_eq!(run["script_saved"], true);
    assert_eq!(run["output_dir"], format!("{folder}/out-1"));
    let answer: Value = serde_json::from_str(run["stdout"].as_str().unwrap()).unwrap();
    assert_eq!(answer["total"].as_u64().unwrap(), total);
    let errors: BTreeMap<String, u64> = serde_json::from_value(answer["errors"].clone()).unwrap();
    let expected = count_by(&entries, |e| e["level"] == "error");
    assert!(!expected.is_empty(), "the incident has errors");
    assert_eq!(errors, expected);
    let written = run["files_written"].as_array().unwrap();
    assert_eq!(written.len(), 1, "{run}");
    assert_eq!(written[0]["path"], format!("{folder}/out-1/errors.json"));
    assert!(
        run["sandbox_layers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l.as_str().unwrap().starts_with("landlock"))
    );
    // The saved script runs again without `code`, in a new output folder.
    let again = ok(
        &client,
        "execute_analysis_script",
        json!({"script_path": format!("{folder}/errors.py"), "log_data_path": path}),
    )
    .await;
    assert_eq!(again["output_dir"], format!("{folder}/out-2"));
    assert_eq!(again["stdout"], run["stdout"]);

    client.cancel().await.unwrap();
}

#[tokio::test]
async fn an_incident_selects_its_services_and_folder() {
    let server = up();
    // Open an incident in the server's own store, as the workflow server will.
    let store = opsmcp_store::Store::open(&format!(
        "sqlite://{}",
        server.data_dir.join("opsmcp.db").display()
    ))
    .await
    .unwrap();
    let (incident, _) = store
        .create_incident(
            opsmcp_store::NewIncident {
                title: "orders failing".into(),
                severity: opsmcp_store::Severity::Sev2,
                description: None,
                services: vec!["orders-db".into(), "checkout-api".into()],
                dedup_key: None,
            },
            "test",
        )
        .await
        .unwrap();
    let client = connect(&server).await;
    let logs = ok(
        &client,
        "get_raw_logs",
        json!({"incident_id": incident.id, "level": "warn"}),
    )
    .await;
    let path = logs["log_data_path"].as_str().unwrap();
    assert_eq!(path, format!("{}/logs-1.json", incident.id));
    assert_eq!(logs["services"], json!(["checkout-api", "orders-db"]));
    let entries = read_entries(&server, path);
    assert!(!entries.is_empty());
    assert!(entries.iter().all(|e| {
        ["checkout-api", "orders-db"].contains(&e["service"].as_str().unwrap())
            && ["warn", "error"].contains(&e["level"].as_str().unwrap())
    }));
    // A service filter narrows further; a query keeps matching lines only.
    let db = ok(
        &client,
        "get_raw_logs",
        json!({"incident_id": incident.id, "service_filter": "orders-*", "query": "/[Cc]onnection/"}),
    )
    .await;
    assert_eq!(db["log_data_path"], format!("{}/logs-2.json", incident.id));
    assert_eq!(db["services"], json!(["orders-db"]));
    assert!(db["total_entries"].as_u64().unwrap() > 0, "{db}");
    for e in read_entries(&server, db["log_data_path"].as_str().unwrap()) {
        assert!(e["message"].as_str().unwrap().contains("onnection"), "{e}");
    }
    client.cancel().await.unwrap();
    store.close().await;
}

#[tokio::test]
async fn bad_input_gets_a_clear_tool_error_and_writes_nothing_outside() {
    let server = up();
    let client = connect(&server).await;

    let e = refused(&client, "get_raw_logs", json!({"incident_id": "INC-9999"})).await;
    assert!(e.contains("INC-9999") && e.contains("INC-0042"), "{e}");
    let e = refused(&client, "get_raw_logs", json!({"incident_id": "../../etc"})).await;
    assert!(e.contains("ids look like INC-0042"), "{e}");
    let e = refused(&client, "get_raw_logs", json!({"timeframe": "since lunch"})).await;
    assert!(e.contains("timeframe") && e.contains("\\\"15m\\\""), "{e}");
    let e = refused(&client, "get_raw_logs", json!({"service_filter": "nope*"})).await;
    assert!(
        e.contains("known services") && e.contains("orders-db"),
        "{e}"
    );
    let e = refused(&client, "get_raw_logs", json!({"level": "loud"})).await;
    assert!(e.contains("debug, info, warn or error"), "{e}");
    let e = refused(&client, "get_raw_logs", json!({"cursor": "nonsense"})).await;
    assert!(e.contains("next_cursor"), "{e}");
    let e = refused(&client, "get_raw_logs", json!({"bogus": 1})).await;
    assert!(e.contains("bogus"), "{e}");

    let logs = ok(&client, "get_raw_logs", json!({"timeframe": "2m"})).await;
    let data = logs["log_data_path"].as_str().unwrap().to_owned();
    let code = "print('hi')";
    for (script, needle) in [
        ("/tmp/evil.py", "absolute"),
        ("../evil.py", "\\\"..\\\""),
        ("analytics/../../evil.py", "\\\"..\\\""),
        ("x/evil.sh", ".py"),
    ] {
        let e = refused(
            &client,
            "execute_analysis_script",
            json!({"script_path": script, "log_data_path": data, "code": code}),
        )
        .await;
        assert!(
            e.contains("script_path") && e.contains(needle),
            "{script}: {e}"
        );
    }
    for bad_data in ["/etc/passwd", "../opsmcp.db", "missing/logs-9.json"] {
        let e = refused(
            &client,
            "execute_analysis_script",
            json!({"script_path": "ok.py", "log_data_path": bad_data, "code": code}),
        )
        .await;
        assert!(e.contains("log_data_path"), "{bad_data}: {e}");
    }
    // Nothing was written outside the workspace.
    assert!(!server.data_dir.join("evil.py").exists());
    assert!(!std::path::Path::new("/tmp/evil.py").exists());

    // A failing script is a result, not an error: the traceback comes back.
    let run = ok(
        &client,
        "execute_analysis_script",
        json!({"script_path": "fail.py", "log_data_path": data, "code": "raise SystemExit('no luck')"}),
    )
    .await;
    assert_eq!(run["succeeded"], false);
    assert_eq!(run["exit_code"], 1);
    assert!(run["stderr"].as_str().unwrap().contains("no luck"), "{run}");
    // No network in the sandbox.
    let run = ok(
        &client,
        "execute_analysis_script",
        json!({"script_path": "net.py", "log_data_path": data,
               "code": "import socket\nsocket.create_connection(('127.0.0.1', 9))"}),
    )
    .await;
    assert_eq!(run["succeeded"], false, "{run}");
    client.cancel().await.unwrap();
}

/// Every page of a cursor walk, concatenated, in the file's order; and the total each says.
async fn walk(client: &Client, first_cursor: &str) -> (Vec<Value>, Vec<u64>) {
    let mut shown = Vec::new();
    let mut totals = Vec::new();
    let mut cursor = Some(first_cursor.to_owned());
    while let Some(c) = cursor {
        let page = ok(client, "get_raw_logs", json!({"cursor": c, "limit": 1000})).await;
        assert_eq!(
            page["page"]["offset"].as_u64().unwrap(),
            shown.len() as u64 + 1
        );
        shown.extend(page["page"]["entries"].as_array().unwrap().iter().cloned());
        totals.push(page["total_entries"].as_u64().unwrap());
        cursor = page["next_cursor"].as_str().map(str::to_owned);
    }
    (shown, totals)
}

#[tokio::test]
async fn cursor_pages_seek_through_the_index_and_agree_with_the_file() {
    // get_raw_logs counts as expensive (60 calls a minute by default); this walk makes more.
    let server = Running::up(&[
        "--scenario",
        "db-connection-pool-exhaustion",
        "--expensive-per-minute",
        "100000",
    ]);
    let client = connect(&server).await;
    let logs = ok(
        &client,
        "get_raw_logs",
        json!({"timeframe": "last 30 minutes", "limit": 1}),
    )
    .await;
    let path = logs["log_data_path"].as_str().unwrap().to_owned();
    let total = logs["total_entries"].as_u64().unwrap();
    let entries = read_entries(&server, &path);
    assert!(
        entries.len() > 2 * 1024,
        "the walk crosses index checkpoints: {}",
        entries.len()
    );
    // The index is written beside the file, hidden from a listing of data files.
    let (dir, name) = path.rsplit_once('/').unwrap();
    let index = server
        .data_dir
        .join("analytics")
        .join(dir)
        .join(format!(".{name}.idx"));
    assert!(index.exists(), "{}", index.display());

    let first = logs["next_cursor"].as_str().unwrap().to_owned();
    let (shown, totals) = walk(&client, &first).await;
    assert_eq!(shown.len() + 1, entries.len());
    assert_eq!(shown[..], entries[1..]);
    assert!(totals.iter().all(|t| *t == total), "{totals:?}");

    // A cursor into the middle of a block lands on the right entry.
    let mid = ok(
        &client,
        "get_raw_logs",
        json!({"cursor": format!("{path}#1500"), "limit": 3}),
    )
    .await;
    assert_eq!(mid["page"]["entries"][0], entries[1500]);

    // Without its index (a file from an older version) the same pages come back.
    std::fs::remove_file(&index).unwrap();
    let (again, totals) = walk(&client, &first).await;
    assert_eq!(again, shown);
    assert!(totals.iter().all(|t| *t == total), "{totals:?}");

    // Past the end is refused; at the end is an empty last page.
    let past = refused(
        &client,
        "get_raw_logs",
        json!({"cursor": format!("{path}#{}", total + 1)}),
    )
    .await;
    assert!(past.contains("is not a cursor"), "{past}");
    let end = ok(
        &client,
        "get_raw_logs",
        json!({"cursor": format!("{path}#{total}")}),
    )
    .await;
    assert_eq!(end["page"]["count"].as_u64(), Some(0));
    assert!(end["next_cursor"].is_null());
}

#[tokio::test]
async fn fetching_logs_counts_as_an_expensive_call() {
    let server = Running::up(&[
        "--scenario",
        "db-connection-pool-exhaustion",
        "--expensive-per-minute",
        "2",
    ]);
    let client = connect(&server).await;
    let fetch = || {
        client.call_tool(
            CallToolRequestParams::new("get_raw_logs")
                .with_arguments(json!({"limit": 1}).as_object().unwrap().clone()),
        )
    };
    assert!(fetch().await.is_ok());
    assert!(fetch().await.is_ok());
    let third = fetch().await;
    assert!(
        format!("{third:?}").contains("429"),
        "the third call in a minute is refused: {third:?}"
    );
}
