//! MCP resources and prompts end to end: the real binary (`opsmcp up` on a simulated incident),
//! called with the rmcp client as any MCP client would. The workflow server's incidents,
//! postmortems, charts and agent runs are resources with templates and completion of ids; every server
//! serves the phases that use its tools as prompts; `opsmcp prompts export` writes the same
//! texts to files.

mod common;

use std::{path::Path, process::Command, time::Duration};

use common::{Running, bin, workspace_root};
use rmcp::{
    RoleClient, ServiceError, ServiceExt,
    model::{
        ArgumentInfo, CallToolRequestParams, CompleteRequestParams, CompletionContext,
        GetPromptRequestParams, ReadResourceRequestParams, Reference, ResourceContents,
    },
    service::RunningService,
    transport::StreamableHttpClientTransport,
};
use serde_json::{Value, json};

type Client = RunningService<RoleClient, ()>;

async fn client(server: &Running, name: &str) -> Client {
    let transport = StreamableHttpClientTransport::from_uri(format!("{}/mcp", server.url(name)));
    ().serve(transport).await.unwrap()
}

fn up() -> Running {
    Running::up(&[
        "--scenario",
        "db-connection-pool-exhaustion",
        "--effect-speed",
        "60",
        "--verify-timeout-s",
        "60",
    ])
}

async fn call(c: &Client, tool: &str, args: Value) -> Value {
    let r = c
        .call_tool(
            CallToolRequestParams::new(tool.to_string())
                .with_arguments(args.as_object().unwrap().clone()),
        )
        .await
        .unwrap();
    assert_ne!(r.is_error, Some(true), "{tool}: {:?}", r.content);
    r.structured_content.expect("structured content")
}

/// The one content of `uri`: (MIME type, text).
async fn read(c: &Client, uri: &str) -> (String, String) {
    let r = c
        .read_resource(ReadResourceRequestParams::new(uri))
        .await
        .unwrap_or_else(|e| panic!("reading {uri}: {e}"));
    assert_eq!(r.contents.len(), 1, "{uri}: {r:?}");
    match &r.contents[0] {
        ResourceContents::TextResourceContents {
            mime_type, text, ..
        } => (mime_type.clone().unwrap_or_default(), text.clone()),
        other => panic!("{uri}: not text: {other:?}"),
    }
}

/// The JSON-RPC error reading `uri` gets: (code, message).
async fn read_error(c: &Client, uri: &str) -> (i32, String) {
    match c.read_resource(ReadResourceRequestParams::new(uri)).await {
        Err(ServiceError::McpError(e)) => (e.code.0, e.message.to_string()),
        other => panic!("{uri}: expected an MCP error, got {other:?}"),
    }
}

async fn complete(
    c: &Client,
    template: &str,
    arg: &str,
    value: &str,
    ctx: &[(&str, &str)],
) -> Vec<String> {
    let mut params = CompleteRequestParams::new(
        Reference::for_resource(template),
        ArgumentInfo::new(arg, value),
    );
    if !ctx.is_empty() {
        params.context = Some(CompletionContext::with_arguments(
            ctx.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        ));
    }
    c.complete(params).await.unwrap().completion.values
}

async fn uris(c: &Client) -> Vec<String> {
    c.list_all_resources()
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.uri)
        .collect()
}

fn cli(data_dir: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(bin())
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("OPSMCP_CONFIG")
        .env_remove("OPSMCP_DATABASE_URL")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr),
    )
}

/// The audit entries of `resources/read` on the workflow server: (uri, outcome). Read-only
/// entries are committed in the writer's next batch, not before the answer, so this asks until
/// `want` entries are there (or gives the last answer after 10 s).
fn audited_reads(data_dir: &Path, want: usize) -> Vec<(String, String)> {
    let mut last = Vec::new();
    for _ in 0..100 {
        let (_, out) = cli(data_dir, &["audit", "list", "--json", "--limit", "1000"]);
        last = out
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|e| e["server"] == "workflow" && e["tool"] == "resources/read")
            .map(|e| {
                // The arguments are kept as the JSON text that was hashed into the chain.
                let args: Value =
                    serde_json::from_str(e["arguments"].as_str().unwrap_or("{}")).unwrap();
                (
                    args["uri"].as_str().unwrap_or_default().to_string(),
                    e["outcome"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        if last.len() >= want {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    last
}

#[tokio::test]
async fn incidents_postmortems_and_charts_are_resources_with_templates_and_completion() {
    let server = up();
    let c = client(&server, "workflow").await;
    let caps = c.peer_info().unwrap().capabilities.clone();
    assert!(
        caps.resources.is_some() && caps.completions.is_some() && caps.prompts.is_some(),
        "{caps:?}"
    );

    let templates: Vec<String> = c
        .list_resource_templates(None)
        .await
        .unwrap()
        .resource_templates
        .into_iter()
        .map(|t| t.uri_template)
        .collect();
    assert_eq!(
        templates,
        [
            "incident://{incident_id}",
            "incident://{incident_id}/postmortem",
            "incident://{incident_id}/charts/{chart}",
            "run://{run_id}",
            "run://{run_id}/report",
        ]
    );
    assert!(uris(&c).await.is_empty(), "no incident yet");

    // Two incidents opened through the tool; both are listed, newest first.
    let first = call(
        &c,
        "create_incident",
        json!({"title": "Checkout failing", "severity": "critical",
               "services": ["orders-db", "checkout-api"], "dedup_key": "a"}),
    )
    .await;
    let id = first["incident"]["id"].as_str().unwrap().to_string();
    assert_eq!(id, "INC-0001");
    call(
        &c,
        "create_incident",
        json!({"title": "Slow search", "severity": "low", "dedup_key": "b"}),
    )
    .await;
    assert_eq!(
        uris(&c).await,
        ["incident://INC-0002", "incident://INC-0001"]
    );

    // An incident reads as the JSON get_incident returns; a lower-cased id finds it too.
    let (mime, text) = read(&c, "incident://INC-0001").await;
    assert_eq!(mime, "application/json");
    let record: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(record["incident"]["incident"]["id"], "INC-0001", "{record}");
    assert_eq!(record["incident"]["incident"]["title"], "Checkout failing");
    assert!(record["remediations"].is_array() && record["notifications"].is_array());
    let (_, lower) = read(&c, "incident://inc-0002").await;
    assert!(lower.contains("Slow search"), "{lower}");

    // Ids complete by prefix, newest first, whatever the case.
    assert_eq!(
        complete(
            &c,
            "incident://{incident_id}",
            "incident_id",
            "INC-000",
            &[]
        )
        .await,
        ["INC-0002", "INC-0001"]
    );
    assert_eq!(
        complete(
            &c,
            "incident://{incident_id}/postmortem",
            "incident_id",
            "inc-0001",
            &[]
        )
        .await,
        ["INC-0001"]
    );
    assert!(
        complete(&c, "incident://{incident_id}", "incident_id", "INC-9", &[])
            .await
            .is_empty()
    );

    // Wrong URIs: what was wrong and what to send.
    let (code, msg) = read_error(&c, "file:///etc/passwd").await;
    assert_eq!(code, -32602, "{msg}");
    assert!(
        msg.contains("incident://INC-0001/postmortem") && msg.contains("resources/list"),
        "{msg}"
    );
    let (code, msg) = read_error(&c, "incident://INC-0001/timeline").await;
    assert_eq!(code, -32602, "{msg}");
    assert!(msg.contains("does not serve"), "{msg}");
    let (code, msg) = read_error(&c, "incident://INC-0009").await;
    assert_eq!(code, -32002, "{msg}");
    assert!(
        msg.contains("INC-0009") && msg.contains("list_incidents"),
        "{msg}"
    );
    let (code, msg) = read_error(&c, "incident://INC-0001/postmortem").await;
    assert_eq!(code, -32002, "{msg}");
    assert!(
        msg.contains("no postmortem yet") && msg.contains("document_resolution"),
        "{msg}"
    );
    let (code, msg) = read_error(&c, "incident://INC-0001/charts/..%2Fx.svg").await;
    assert_eq!(code, -32602, "{msg}");

    // Once documented, the postmortem and its charts are resources too.
    let pm = call(
        &c,
        "document_resolution",
        json!({"incident_id": id,
               "root_cause": "orders-db connection pool exhausted after pool_size was lowered",
               "resolution": "increased the pool size"}),
    )
    .await;
    let (mime, md) = read(&c, "incident://INC-0001/postmortem").await;
    assert_eq!(mime, "text/markdown");
    assert_eq!(md, pm["markdown"].as_str().unwrap());
    let charts: Vec<String> = pm["charts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            Path::new(p.as_str().unwrap())
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert!(!charts.is_empty(), "{pm}");
    let listed = uris(&c).await;
    assert!(
        listed.contains(&"incident://INC-0001/postmortem".to_string()),
        "{listed:?}"
    );
    assert!(
        !listed.contains(&"incident://INC-0002/postmortem".to_string()),
        "{listed:?}"
    );
    for chart in &charts {
        let uri = format!("incident://INC-0001/charts/{chart}");
        assert!(listed.contains(&uri), "{uri} not in {listed:?}");
        let (mime, svg) = read(&c, &uri).await;
        assert_eq!(mime, "image/svg+xml");
        assert!(svg.contains("<svg"), "{uri}");
    }
    let first_chart = &charts[0];
    assert!(
        complete(
            &c,
            "incident://{incident_id}/charts/{chart}",
            "chart",
            &first_chart[..3],
            &[("incident_id", "INC-0001")]
        )
        .await
        .contains(first_chart)
    );
    let (code, msg) = read_error(&c, "incident://INC-0001/charts/nope.svg").await;
    assert_eq!(code, -32002, "{msg}");
    assert!(msg.contains(first_chart.as_str()), "{msg}");

    // Every read is in the audit log, refusals included, like a read-only tool call.
    let reads = audited_reads(&server.data_dir, 12);
    assert!(
        reads.contains(&("incident://INC-0001".into(), "ok".into())),
        "{reads:?}"
    );
    assert!(
        reads
            .iter()
            .any(|(uri, outcome)| uri == "incident://INC-0009" && outcome.starts_with("error:")),
        "{reads:?}"
    );
    c.cancel().await.unwrap();
}

/// Each phase is a prompt on the server whose tools it uses, with the text the agent follows.
#[tokio::test]
async fn every_server_serves_the_phases_that_use_its_tools_as_prompts() {
    let server = up();
    let phase = |name: &str| {
        std::fs::read_to_string(workspace_root().join(format!("prompts/phases/{name}.md"))).unwrap()
    };
    let skill =
        std::fs::read_to_string(workspace_root().join("skills/log-analytics/SKILL.md")).unwrap();
    let responder = opsmcp_responder::prompts::Prompts::builtin().system_prompt();
    let expected: [(&str, Vec<(&str, String)>); 3] = [
        (
            "monitoring",
            vec![
                ("detect", phase("detect")),
                ("root-cause", phase("root-cause")),
                ("verify", phase("verify")),
            ],
        ),
        (
            "log-analytics",
            vec![
                ("log-analytics", skill),
                ("investigate", phase("investigate")),
            ],
        ),
        (
            "workflow",
            vec![
                ("incident-response", responder),
                ("remediate", phase("remediate")),
                ("document", phase("document")),
                ("notify", phase("notify")),
            ],
        ),
    ];
    for (name, prompts) in expected {
        let c = client(&server, name).await;
        assert!(
            c.peer_info().unwrap().capabilities.prompts.is_some(),
            "{name}"
        );
        let listed: Vec<String> = c
            .list_all_prompts()
            .await
            .unwrap()
            .into_iter()
            .map(|p| {
                assert!(p.description.is_some(), "{name}/{}", p.name);
                p.name
            })
            .collect();
        assert_eq!(
            listed,
            prompts
                .iter()
                .map(|(p, _)| p.to_string())
                .collect::<Vec<_>>(),
            "{name}"
        );
        for (prompt, text) in &prompts {
            let got = c
                .get_prompt(GetPromptRequestParams::new(*prompt))
                .await
                .unwrap();
            let sent = serde_json::to_value(&got.messages).unwrap();
            assert_eq!(sent[0]["role"], "user", "{name}/{prompt}");
            assert_eq!(sent[0]["content"]["text"], text.as_str(), "{name}/{prompt}");
        }
        match c.get_prompt(GetPromptRequestParams::new("nope")).await {
            Err(ServiceError::McpError(e)) => {
                assert_eq!(e.code.0, -32602);
                assert!(e.message.contains(prompts[0].0), "{}", e.message);
            }
            other => panic!("{name}: expected an error, got {other:?}"),
        }
        c.cancel().await.unwrap();
    }
}

#[test]
fn prompts_export_writes_the_builtin_prompts_and_keeps_edits() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("prompts");
    let export = |extra: &[&str]| {
        let out = Command::new(bin())
            .args(["prompts", "export"])
            .arg(&out_dir)
            .args(extra)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let (code, stdout, stderr) = export(&[]);
    assert_eq!(code, Some(0), "{stderr}");
    let mut files = vec!["system.md".to_string()];
    files.extend(
        opsmcp_responder::prompts::PHASES
            .iter()
            .map(|p| format!("phases/{p}.md")),
    );
    for f in &files {
        assert_eq!(
            std::fs::read_to_string(out_dir.join(f)).unwrap(),
            std::fs::read_to_string(workspace_root().join("prompts").join(f)).unwrap(),
            "{f}"
        );
        assert!(
            stdout.contains(&out_dir.join(f).display().to_string()),
            "{stdout}"
        );
    }
    // What `opsmcp agent --prompts DIR` reads back is what is built in.
    assert_eq!(
        opsmcp_responder::prompts::Prompts::load(&out_dir).unwrap(),
        opsmcp_responder::prompts::Prompts::builtin()
    );

    // An edit survives a second export unless --force is given.
    std::fs::write(out_dir.join("system.md"), "edited").unwrap();
    let (code, _, stderr) = export(&[]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("system.md") && stderr.contains("--force"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(out_dir.join("system.md")).unwrap(),
        "edited"
    );
    let (code, _, stderr) = export(&["--force"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_ne!(
        std::fs::read_to_string(out_dir.join("system.md")).unwrap(),
        "edited"
    );
}

/// An agent run against the servers is a resource of the workflow server: its transcript and
/// report are listed, read and their ids completed; a run that is not there says where runs are.
#[tokio::test]
async fn agent_runs_are_resources_of_the_workflow_server() {
    let server = up();
    let out = server.agent("checkout is failing; find out why");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run_id = std::fs::read_dir(server.data_dir.join("runs"))
        .unwrap()
        .flatten()
        .next()
        .expect("the run's folder")
        .file_name()
        .into_string()
        .unwrap();

    // A scored run on a simulated incident, recorded under the same data directory.
    let scored = tempfile::tempdir().unwrap();
    let status = Command::new(bin())
        .args([
            "run-scenario",
            "db-connection-pool-exhaustion",
            "--data-dir",
        ])
        .arg(scored.path())
        .env_remove("OPSMCP_CONFIG")
        .output()
        .unwrap()
        .status;
    assert!(status.success());
    let scored_id = std::fs::read_dir(scored.path().join("runs"))
        .unwrap()
        .flatten()
        .next()
        .unwrap()
        .file_name()
        .into_string()
        .unwrap();
    std::fs::rename(
        scored.path().join("runs").join(&scored_id),
        server.data_dir.join("runs").join(&scored_id),
    )
    .unwrap();

    let c = client(&server, "workflow").await;
    let listed = uris(&c).await;
    let transcript = format!("run://{run_id}");
    let report = format!("run://{scored_id}/report");
    assert!(
        listed.contains(&transcript) && listed.contains(&report),
        "{listed:?}"
    );
    let (mime, text) = read(&c, &transcript).await;
    assert_eq!(mime, "application/jsonl");
    let steps: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        steps
            .iter()
            .any(|s| s.to_string().contains("create_incident")),
        "{text}"
    );
    let (mime, text) = read(&c, &report).await;
    assert_eq!(mime, "text/markdown");
    assert!(text.contains("SOLVED"), "{text}");
    // The agent's own run has no score, so no report; it says where its steps are.
    let (code, message) = read_error(&c, &format!("run://{run_id}/report")).await;
    assert_eq!(code, -32002, "{message}");
    assert!(message.contains(&transcript), "{message}");
    let unique = &run_id[..run_id.rfind('-').unwrap()];
    assert_eq!(
        complete(&c, "run://{run_id}", "run_id", unique, &[]).await,
        std::slice::from_ref(&run_id)
    );
    assert_eq!(
        complete(&c, "run://{run_id}/report", "run_id", "2", &[]).await,
        [scored_id.clone(), run_id.clone()],
        "newest first"
    );
    let (code, message) = read_error(&c, "run://20000101T000000Z-1-0").await;
    assert_eq!(code, -32002, "{message}");
    assert!(message.contains("data directory"), "{message}");
    let (_, message) = read_error(&c, "run://..").await;
    assert!(message.contains("not a run id"), "{message}");
    let (_, message) = read_error(&c, "run://../etc").await;
    assert!(message.contains("does not serve"), "{message}");
}

/// The analytics workspace's files are the log-analytics server's resources: what
/// `get_raw_logs` fetched is listed, read, and its path completed; nothing leaves the workspace.
#[tokio::test]
async fn analytics_workspace_files_are_resources_of_the_log_analytics_server() {
    let server = up();
    let c = client(&server, "log-analytics").await;
    let caps = c.peer_info().unwrap().capabilities.clone();
    assert!(
        caps.resources.is_some() && caps.completions.is_some(),
        "{caps:?}"
    );
    let templates: Vec<String> = c
        .list_resource_templates(None)
        .await
        .unwrap()
        .resource_templates
        .into_iter()
        .map(|t| t.uri_template)
        .collect();
    assert_eq!(templates, ["analytics://{+path}"]);

    // Errors only: a whole half hour of JSON lines is MBs, past what one read returns.
    let logs = call(
        &c,
        "get_raw_logs",
        json!({"timeframe": "last 30 minutes", "level": "error"}),
    )
    .await;
    let path = logs["log_data_path"].as_str().unwrap().to_string();
    let uri = format!("analytics://{path}");
    assert!(uris(&c).await.contains(&uri), "{uri}");
    let (mime, text) = read(&c, &uri).await;
    assert_eq!(mime, "application/json");
    let entries: Vec<Value> = serde_json::from_str(&text).unwrap();
    assert!(!entries.is_empty());

    // Paths complete folder by folder.
    let (folder, _) = path.split_once('/').unwrap();
    let t = "analytics://{+path}";
    assert!(
        complete(&c, t, "path", &folder[..3], &[])
            .await
            .contains(&format!("{folder}/")),
    );
    assert_eq!(
        complete(&c, t, "path", &format!("{folder}/lo"), &[]).await,
        std::slice::from_ref(&path)
    );

    // Out of bounds, hidden, missing, linked, too big: each says what is wrong.
    let root = server.data_dir.join("analytics");
    std::fs::write(root.join("big.txt"), vec![b'x'; 2 * 1024 * 1024]).unwrap();
    std::os::unix::fs::symlink("/etc/hostname", root.join("link.txt")).unwrap();
    for (bad, code, says) in [
        (
            "analytics://../opsmcp.db",
            -32602,
            "analytics://INC-0001/logs-1.json",
        ),
        ("incident://INC-0001", -32602, "not an analytics:// URI"),
        (
            &format!("analytics://{folder}/.logs-1.json.idx") as &str,
            -32602,
            "hidden",
        ),
        ("analytics://nope/logs-1.json", -32002, "does not exist"),
        ("analytics://link.txt", -32602, "symbolic link"),
        ("analytics://big.txt", -32602, "get_raw_logs"),
    ] {
        let (got, msg) = read_error(&c, bad).await;
        assert_eq!(got, code, "{bad}: {msg}");
        assert!(msg.contains(says), "{bad}: {msg}");
    }
    assert!(!uris(&c).await.iter().any(|u| u.contains("link.txt")));

    // Reads are audited on this server too.
    let mut audited = false;
    for _ in 0..100 {
        let (_, out) = cli(
            &server.data_dir,
            &["audit", "list", "--json", "--limit", "1000"],
        );
        audited = out
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .any(|e| {
                e["server"] == "log-analytics"
                    && e["tool"] == "resources/read"
                    && e["arguments"].as_str().is_some_and(|a| a.contains(&path))
            });
        if audited {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(audited, "no audit entry for reading {uri}");
    c.cancel().await.unwrap();
}

/// `opsmcp token create`: the token and its config entry.
fn token(name: &str, scopes: &str) -> (String, String) {
    let out = Command::new(bin())
        .args(["token", "create", "--name", name, "--scopes", scopes])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8(out.stderr).unwrap();
    let entry = stderr[stderr.find("[[auth.tokens]]").expect("config entry")..]
        .split("\n\n")
        .next()
        .unwrap()
        .to_string();
    (
        String::from_utf8(out.stdout).unwrap().trim().to_string(),
        entry,
    )
}

/// Resources take the scope of the tool that returns the same data: incidents `read` (as
/// `get_incident`), the analytics workspace's raw logs and agent runs' transcripts `analyze`
/// (as `get_raw_logs`).
#[test]
fn resources_take_the_scope_of_the_tool_returning_the_same_data() {
    let (reader, reader_entry) = token("reader", "read");
    let (analyst, analyst_entry) = token("analyst", "read,analyze");
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("opsmcp.toml");
    std::fs::write(&config, format!("{reader_entry}\n\n{analyst_entry}\n")).unwrap();
    let server = Running::up(&[
        "--scenario",
        "db-connection-pool-exhaustion",
        "--config",
        config.to_str().unwrap(),
    ]);
    let rpc = |name: &str, token: &str, method: &str, params: Value| -> Value {
        let r = common::post_mcp(server.url(name))
            .bearer_auth(token)
            .json(&json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}))
            .send()
            .unwrap();
        assert_eq!(r.status(), 200, "{name} {method}");
        r.json().unwrap()
    };
    let read = |name: &str, token: &str, uri: &str| {
        let answer = rpc(name, token, "resources/read", json!({"uri": uri}));
        answer["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    // The reader reaches incidents (an unknown one is not found, not forbidden)…
    let e = read("workflow", &reader, "incident://INC-0042");
    assert!(e.contains("unknown incident id"), "{e}");
    // … but not the raw logs, listed, read or completed.
    let e = read("log-analytics", &reader, "analytics://INC-0001/logs-1.json");
    assert!(e.starts_with("forbidden") && e.contains("'analyze'"), "{e}");
    let listed = rpc("log-analytics", &reader, "resources/list", json!({}));
    assert!(
        listed["error"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("forbidden")),
        "{listed}"
    );
    let completed = rpc(
        "log-analytics",
        &reader,
        "completion/complete",
        json!({"ref": {"type": "ref/resource", "uri": "analytics://{+path}"},
               "argument": {"name": "path", "value": ""}}),
    );
    assert!(
        completed["error"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("forbidden")),
        "{completed}"
    );
    // Nor a run's transcript, which holds what get_raw_logs returned.
    let e = read("workflow", &reader, "run://20261206T000000Z-1-0");
    assert!(e.starts_with("forbidden") && e.contains("'analyze'"), "{e}");
    // The analyst may.
    let e = read(
        "log-analytics",
        &analyst,
        "analytics://INC-0001/logs-1.json",
    );
    assert!(e.contains("does not exist"), "{e}");
    let e = read("workflow", &analyst, "run://20261206T000000Z-1-0");
    assert!(e.contains("does not exist"), "{e}");
    let listed = rpc("log-analytics", &analyst, "resources/list", json!({}));
    assert!(listed["result"]["resources"].is_array(), "{listed}");
}
