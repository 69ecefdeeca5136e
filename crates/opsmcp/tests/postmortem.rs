//! The postmortem as a reader gets it: written by the planner at the end of a simulated
//! incident (`run-scenario`), and by `document_resolution` called over MCP with and without
//! what the analysis found. Checked as a lead would read it: the sections, a timeline table
//! without JSON, whole sentences, rounded numbers, what was ruled out, the change before the
//! onset, and charts that run past the fix with their markers.

mod common;

use std::{path::Path, process::Command};

use common::{Running, bin};
use rmcp::{
    RoleClient, ServiceExt,
    model::{CallToolRequestParams, CallToolResult},
    service::RunningService,
    transport::StreamableHttpClientTransport,
};
use serde_json::{Value, json};

const SECTIONS: [&str; 9] = [
    "## Summary",
    "## Impact",
    "## Timeline (UTC)",
    "## Root cause and evidence",
    "## Ruled out",
    "## Contributing changes",
    "## Remediation and verification",
    "## Action items",
    "## Charts",
];

/// The body of section `title` (up to the next `## `).
fn section<'a>(md: &'a str, title: &str) -> &'a str {
    let start = md
        .find(title)
        .unwrap_or_else(|| panic!("no {title}:\n{md}"));
    let body = &md[start + title.len()..];
    &body[..body.find("\n## ").unwrap_or(body.len())]
}

/// A decimal with five or more fraction digits: float noise.
fn float_noise(text: &str) -> Option<String> {
    let b = text.as_bytes();
    (0..b.len()).find_map(|i| {
        let digits = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        (b[i] == b'.' && i > 0 && b[i - 1].is_ascii_digit() && digits >= 5)
            .then(|| text[i.saturating_sub(6)..(i + 1 + digits).min(text.len())].to_string())
    })
}

/// Checks every property a hand-over needs that does not depend on who wrote the analysis.
fn readable(md: &str) {
    for s in SECTIONS {
        assert!(md.contains(s), "{s} missing:\n{md}");
    }
    assert_eq!(float_noise(md), None, "float noise:\n{md}");
    let timeline = section(md, "## Timeline (UTC)");
    assert!(
        timeline.contains("| Time | What happened | Source |"),
        "{timeline}"
    );
    let rows: Vec<&str> = timeline.lines().filter(|l| l.starts_with("| ")).collect();
    assert!(rows.len() >= 2, "{timeline}");
    for row in &rows {
        assert!(!row.contains(['{', '}']), "JSON in the timeline: {row}");
        assert!(!row.contains('…'), "a row cut short: {row}");
        assert_eq!(row.matches(" | ").count(), 2, "not three cells: {row}");
    }
    assert!(!section(md, "## Impact").contains('…'), "{md}");
}

/// `YYYY-MM-DD HH:MM:SS` after `label ` in an SVG's description: compares in time order,
/// across midnight too.
fn desc_time(svg: &str, label: &str) -> String {
    let desc = &svg[svg.find("<desc>").expect("a <desc>")..svg.find("</desc>").unwrap()];
    let at = desc
        .find(&format!("{label} "))
        .unwrap_or_else(|| panic!("no {label} in {desc}"));
    desc[at + label.len() + 1..at + label.len() + 20].to_string()
}

/// A chart that marks baseline, threshold, onset, opening and fix, and runs past the fix.
fn marked_through_recovery(svg: &str) {
    for label in [
        "baseline",
        "threshold (critical)",
        "onset",
        "incident opened",
        "fix applied",
    ] {
        assert!(svg.contains(label), "no {label} in the legend:\n{svg}");
    }
    let fix = desc_time(svg, "fix");
    let end = desc_time(svg, "to");
    assert!(
        end > fix,
        "the chart ends at {end}, before the fix at {fix}"
    );
    assert!(desc_time(svg, "onset") < fix);
}

#[test]
fn the_planners_postmortem_reads_as_a_handover() {
    let data = tempfile::tempdir().unwrap();
    let out = Command::new(bin())
        .args([
            "run-scenario",
            "db-connection-pool-exhaustion",
            "--data-dir",
        ])
        .arg(data.path())
        .env_remove("OPSMCP_CONFIG")
        .env_remove("OPSMCP_SCENARIO")
        .current_dir(data.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let folder = data.path().join("postmortems/INC-0001");
    let md = std::fs::read_to_string(folder.join("postmortem.md")).unwrap();
    readable(&md);
    let timeline = section(&md, "## Timeline (UTC)");
    for event in [
        "config on orders-db",
        "Onset",
        "Incident opened",
        "Remediation succeeded",
    ] {
        assert!(timeline.contains(event), "no {event}:\n{timeline}");
    }

    // The cause is said once, with the analysis's evidence.
    let cause = section(&md, "## Root cause and evidence");
    let first = cause.trim().lines().next().unwrap();
    assert_eq!(
        first.matches("connection-pool-exhaustion").count(),
        1,
        "{first}"
    );
    assert!(cause.contains("db_connections_in_use 38"), "{cause}");
    // The analysis's rejected hypothesis, with its reason.
    let ruled = section(&md, "## Ruled out");
    assert!(
        ruled.contains("| slow-dependency in checkout-api |") && ruled.contains("explained by it"),
        "{ruled}"
    );
    // The config change before the onset.
    let changes = section(&md, "## Contributing changes");
    assert!(
        changes.contains("the candidates:\n\n- ")
            && changes.contains("before the onset · orders-db: config: max_connections 100 -> 50"),
        "{changes}"
    );
    let fixed = section(&md, "## Remediation and verification");
    assert!(
        fixed.contains("increase-pool-size@orders-db") && fixed.contains("recovered after"),
        "{fixed}"
    );
    // The decisive signal is the first chart, and every chart runs through the fix.
    let charts = section(&md, "## Charts");
    let first_chart = charts.find("](").map(|i| &charts[i + 2..]).unwrap();
    assert!(
        first_chart.starts_with("orders-db-db_connections_in_use.svg"),
        "{charts}"
    );
    for name in charts
        .split("](")
        .skip(1)
        .map(|s| &s[..s.find(')').unwrap()])
    {
        let svg = std::fs::read_to_string(folder.join(name)).unwrap();
        marked_through_recovery(&svg);
    }
}

async fn call(c: &RunningService<RoleClient, ()>, tool: &str, args: Value) -> CallToolResult {
    c.call_tool(
        CallToolRequestParams::new(tool.to_string())
            .with_arguments(args.as_object().unwrap().clone()),
    )
    .await
    .unwrap()
}

fn ok(r: &CallToolResult) -> Value {
    assert_ne!(r.is_error, Some(true), "{:?}", r.content);
    r.structured_content.clone().expect("structured content")
}

async fn open(c: &RunningService<RoleClient, ()>, key: &str) -> String {
    let opened = ok(&call(
        c,
        "create_incident",
        json!({"title": "checkout cpu 98.80000305175781%", "severity": "SEV2",
               "services": ["orders-db", "checkout-api"], "dedup_key": key}),
    )
    .await);
    opened["incident"]["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn document_resolution_renders_what_it_is_given_and_says_what_it_was_not() {
    let args = [
        "up",
        "--scenario",
        "db-connection-pool-exhaustion",
        "--effect-speed",
        "60",
        "--verify-timeout-s",
        "60",
        "--monitoring-port",
        "0",
        "--workflow-port",
        "0",
        "--log-analytics-port",
        "0",
    ];
    let server = Running::start(&args, &["monitoring", "workflow", "log-analytics"]);
    let transport =
        StreamableHttpClientTransport::from_uri(format!("{}/mcp", server.url("workflow")));
    let c = ().serve(transport).await.unwrap();

    // Given everything the analysis found.
    let id = open(&c, "full").await;
    let ran = ok(&call(
        &c,
        "execute_remediation",
        json!({"incident_id": id, "action": "increase-pool-size", "target": "orders-db"}),
    )
    .await);
    assert_eq!(ran["remediation"]["status"], "succeeded", "{ran}");
    let onset = (jiff::Timestamp::now() - jiff::SignedDuration::from_mins(10)).to_string();
    let pm = ok(&call(
        &c,
        "document_resolution",
        json!({
            "incident_id": id,
            "root_cause": "connection-pool-exhaustion on orders-db",
            "resolution": "raised the pool size",
            "evidence": ["db_connections_in_use 38 → 48.9 of a maximum of 50"],
            "onset": onset,
            "ruled_out": [{"hypothesis": "bad-deploy in checkout-api",
                           "reason": "no deploy of checkout-api in the window"}],
            "contributing_changes": [{"service": "orders-db",
                                      "detail": "config: max_connections 100 -> 50"}],
            "key_signals": [{"service": "orders-db", "signal": "db_connections_in_use"}],
        }),
    )
    .await);
    let md = pm["markdown"].as_str().unwrap();
    readable(md);
    assert!(md.contains("checkout cpu 98.8%"), "{md}");
    assert!(
        section(md, "## Ruled out").contains("| bad-deploy in checkout-api | no deploy"),
        "{md}"
    );
    assert!(
        section(md, "## Contributing changes").contains("max_connections 100 -> 50"),
        "{md}"
    );
    let charts: Vec<&str> = pm["charts"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        section(md, "## Charts").find("orders-db-db_connections_in_use.svg")
            < section(md, "## Charts").find("checkout-api"),
        "{md}"
    );
    let decisive = charts
        .iter()
        .find(|p| p.ends_with("orders-db-db_connections_in_use.svg"))
        .expect("the key signal is charted");
    marked_through_recovery(&std::fs::read_to_string(decisive).unwrap());

    // An older caller's arguments: still accepted; what was not said is called unknown.
    let id = open(&c, "bare").await;
    let pm = ok(&call(
        &c,
        "document_resolution",
        json!({"incident_id": id, "root_cause": "unknown", "resolution": "none yet"}),
    )
    .await);
    let md = pm["markdown"].as_str().unwrap();
    readable(md);
    assert!(
        md.contains("onset unknown") || md.contains("Duration:** unknown"),
        "{md}"
    );
    assert!(
        md.contains("No hypotheses were recorded as ruled out"),
        "{md}"
    );
    assert!(
        section(md, "## Contributing changes").contains("The analysis reported no change event"),
        "{md}"
    );
    assert!(
        section(md, "## Remediation and verification").contains("No remediation was run"),
        "{md}"
    );
    assert!(Path::new(pm["path"].as_str().unwrap()).exists());
}
