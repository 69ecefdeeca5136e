//! A real Alertmanager (Debian package `prometheus-alertmanager`) posting to the workflow
//! server's webhook opens an incident for a firing alert and resolves it when the alert ends.
//! Skipped with a message when the binary is missing, except in CI, where it must run.

mod common;

use std::{
    process::{Command, Stdio},
    time::Duration,
};

use common::{Killed, Running, bin, free_port};
use serde_json::{Value, json};

const ALERTMANAGER: &str = "/usr/bin/prometheus-alertmanager";

fn incidents(data_dir: &std::path::Path) -> Vec<Value> {
    let out = Command::new(bin())
        .args(["incidents", "list", "--json", "--data-dir"])
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

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..240 {
        if done() {
            return;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    panic!("gave up waiting for {what}");
}

#[test]
fn a_dns_rebinding_page_cannot_reach_the_webhook() {
    let server = Running::start(&["serve", "workflow", "--port", "0"], &["workflow"]);
    let hook = format!("{}/webhooks/alertmanager", server.url("workflow"));
    let alert = json!({
        "version": "4", "status": "firing", "receiver": "opsmcp", "groupKey": "{}:{}",
        "alerts": [{"status": "firing", "labels": {"alertname": "HighErrorRate", "service": "web"},
                    "annotations": {}, "startsAt": "2026-12-05T00:00:00Z",
                    "endsAt": "0001-01-01T00:00:00Z", "fingerprint": "abc"}]
    });
    let http = reqwest::blocking::Client::new();
    for (header, value) in [
        ("Host", "evil.example.com"),
        ("Origin", "https://evil.example.com"),
    ] {
        let refused = http
            .post(&hook)
            .header(header, value)
            .json(&alert)
            .send()
            .unwrap();
        assert_eq!(refused.status(), 403, "{header}: {value}");
        assert!(refused.text().unwrap().contains("not allowed"));
    }
    // The same alert through the allowed Host is taken.
    let taken = http.post(&hook).json(&alert).send().unwrap();
    assert!(taken.status().is_success(), "{}", taken.status());
}

#[test]
fn a_real_alertmanager_opens_and_resolves_an_incident() {
    if !std::path::Path::new(ALERTMANAGER).exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "{ALERTMANAGER} is missing; .ci/run installs prometheus-alertmanager"
        );
        eprintln!(
            "skipped: {ALERTMANAGER} is not installed (apt-get install prometheus-alertmanager)"
        );
        return;
    }
    let server = Running::start(&["serve", "workflow", "--port", "0"], &["workflow"]);
    let hook = format!("{}/webhooks/alertmanager", server.url("workflow"));

    // Bad payloads get a clear 400.
    let bad = reqwest::blocking::Client::new()
        .post(&hook)
        .json(&json!({"nope": 1}))
        .send()
        .unwrap();
    assert_eq!(bad.status(), 400);
    assert!(
        bad.text()
            .unwrap()
            .contains("Alertmanager's webhook payload")
    );

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("alertmanager.yml");
    std::fs::write(
        &config,
        format!(
            "route:\n  receiver: opsmcp\n  group_by: ['alertname']\n  group_wait: 1s\n  \
             group_interval: 1s\n  repeat_interval: 1h\nreceivers:\n- name: opsmcp\n  \
             webhook_configs:\n  - url: {hook}\n    send_resolved: true\n"
        ),
    )
    .unwrap();
    let port = free_port();
    let _am = Killed(
        Command::new(ALERTMANAGER)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--cluster.listen-address=")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let api = format!("http://127.0.0.1:{port}/api/v2/alerts");
    let http = reqwest::blocking::Client::new();
    let alert = |ends: jiff::Timestamp| {
        json!([{
            "labels": {"alertname": "OrdersDbPoolExhausted", "severity": "critical", "service": "orders-db"},
            "annotations": {"summary": "orders-db connection pool exhausted"},
            "startsAt": (jiff::Timestamp::now() - jiff::SignedDuration::from_mins(1)).to_string(),
            "endsAt": ends.to_string(),
        }])
    };
    wait_for("Alertmanager to take alerts", || {
        http.post(&api)
            .json(&alert(
                jiff::Timestamp::now() + jiff::SignedDuration::from_hours(1),
            ))
            .send()
            .is_ok_and(|r| r.status().is_success())
    });
    wait_for("the incident to open", || {
        !incidents(&server.data_dir).is_empty()
    });
    let opened = incidents(&server.data_dir);
    assert_eq!(opened.len(), 1, "{opened:?}");
    assert_eq!(opened[0]["title"], "orders-db connection pool exhausted");
    assert_eq!(opened[0]["severity"], "SEV1");
    assert_eq!(opened[0]["services"], json!(["orders-db"]));

    let resolved = http
        .post(&api)
        .json(&alert(jiff::Timestamp::now()))
        .send()
        .unwrap();
    assert!(resolved.status().is_success());
    wait_for("the incident to resolve", || {
        incidents(&server.data_dir)
            .first()
            .is_some_and(|i| i["status"] == "resolved")
    });
    assert_eq!(
        incidents(&server.data_dir).len(),
        1,
        "repeats joined the one incident"
    );
}
