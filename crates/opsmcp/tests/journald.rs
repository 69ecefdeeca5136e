//! The `[[journald]]` source through the binary: `opsmcp config check` on real journal files,
//! and their entries in `get_raw_logs` on a live world. Needs the Debian package
//! systemd-journal-remote to write the journal files (`.ci/run` installs it); without it the
//! tests fail under CI and are skipped, loudly, elsewhere.

mod common;

use std::{path::Path, process::Command};

use common::{
    Running, bin,
    journal::{entry, tools_present, write_journal},
};
use rmcp::{ServiceExt, model::CallToolRequestParams, transport::StreamableHttpClientTransport};
use serde_json::{Value, json};

/// 2025-12-05T02:00:00Z.
const T0: i64 = 1_764_900_000;
const BOOT: &str = "1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b";

/// A journal of checkout.service, another unit and an OOM kill; returns its directory.
fn journal(dir: &Path) -> std::path::PathBuf {
    let unit = ("_SYSTEMD_UNIT", "checkout.service");
    write_journal(
        dir,
        &[
            entry(T0, BOOT, b"checkout started", &[unit, ("PRIORITY", "6")]),
            entry(
                T0 + 60,
                BOOT,
                b"payment gateway timeout after 5000 ms",
                &[unit, ("PRIORITY", "3")],
            ),
            entry(
                T0 + 90,
                BOOT,
                b"retrying \xff\xfe",
                &[unit, ("PRIORITY", "4")],
            ),
            entry(
                T0 + 100,
                BOOT,
                b"cron tick",
                &[("_SYSTEMD_UNIT", "cron.service"), ("PRIORITY", "6")],
            ),
            entry(
                T0 + 120,
                BOOT,
                b"Out of memory: Killed process 4242 (checkout) total-vm:912345kB",
                &[("_TRANSPORT", "kernel"), ("PRIORITY", "3")],
            ),
        ],
    )
}

fn config(dir: &Path, journal_dir: &Path, unit: &str) -> std::path::PathBuf {
    let path = dir.join("opsmcp.toml");
    let journal = journal_dir.display();
    std::fs::write(
        &path,
        format!(
            r#"
[[journald]]
service = "checkout"
unit = "{unit}"
directory = "{journal}"

[[journald]]
service = "kernel"
kernel = true
directory = "{journal}"
"#
        ),
    )
    .unwrap();
    path
}

fn config_check(config: &Path) -> (Option<i32>, String) {
    let out = Command::new(bin())
        .args(["config", "check", "--config", config.to_str().unwrap()])
        .env_remove("OPSMCP_CONFIG")
        .output()
        .unwrap();
    let table = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), table)
}

#[test]
fn config_check_reports_each_journal_source() {
    if !tools_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let journal_dir = journal(dir.path());

    let (code, table) = config_check(&config(dir.path(), &journal_dir, "checkout.service"));
    assert_eq!(code, Some(0), "{table}");
    assert!(
        table.contains("unit checkout.service has entries"),
        "{table}"
    );
    assert!(
        table.contains("last entry at 2025-12-05T02:02:00Z"),
        "{table}"
    );
    assert_eq!(
        table.lines().filter(|l| l.starts_with("journald ")).count(),
        2,
        "{table}"
    );

    // A unit that never logged, and a directory that is not there.
    let (code, table) = config_check(&config(dir.path(), &journal_dir, "chekout.service"));
    assert_eq!(code, Some(1), "{table}");
    assert!(
        table.contains("unit 'chekout.service' has no entries"),
        "{table}"
    );
    let missing = dir.path().join("gone");
    let (code, table) = config_check(&config(dir.path(), &missing, "checkout.service"));
    assert_eq!(code, Some(1), "{table}");
    assert_eq!(
        table.lines().filter(|l| l.contains(" FAIL ")).count(),
        2,
        "{table}"
    );
    assert!(
        table.contains(&format!("directory {}", missing.display())),
        "{table}"
    );

    // A bad match is refused when the settings are read, saying what to write.
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[[journald]]\nservice = \"x\"\nmatches = [\"comm=java\"]\n",
    )
    .unwrap();
    let (code, text) = config_check(&bad);
    assert_ne!(code, Some(0), "{text}");
    assert!(text.contains("write \"COMM=java\""), "{text}");
}

#[tokio::test]
async fn journal_entries_reach_get_raw_logs_on_a_live_world() {
    if !tools_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let journal_dir = journal(dir.path());
    let cfg = config(dir.path(), &journal_dir, "checkout.service");
    let server = Running::start(
        &[
            "serve",
            "log-analytics",
            "--port",
            "0",
            "--config",
            cfg.to_str().unwrap(),
        ],
        &["log-analytics"],
    );
    let transport =
        StreamableHttpClientTransport::from_uri(format!("{}/mcp", server.url("log-analytics")));
    let client = ().serve(transport).await.unwrap();
    let args = json!({"timeframe": "2025-12-05T01:59:00Z/2025-12-05T02:10:00Z"});
    let result = client
        .call_tool(
            CallToolRequestParams::new("get_raw_logs")
                .with_arguments(args.as_object().unwrap().clone()),
        )
        .await
        .unwrap();
    assert_ne!(result.is_error, Some(true), "{:?}", result.content);
    let logs = result.structured_content.unwrap();
    assert_eq!(logs["total_entries"], 4, "{logs}");
    let path = server
        .data_dir
        .join("analytics")
        .join(logs["log_data_path"].as_str().unwrap());
    let entries: Vec<Value> = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let seen: Vec<(&str, &str, &str, &str)> = entries
        .iter()
        .map(|e| {
            (
                e["at"].as_str().unwrap(),
                e["service"].as_str().unwrap(),
                e["level"].as_str().unwrap(),
                e["message"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (
                "2025-12-05T02:00:00Z",
                "checkout",
                "info",
                "checkout started"
            ),
            (
                "2025-12-05T02:01:00Z",
                "checkout",
                "error",
                "payment gateway timeout after 5000 ms"
            ),
            (
                "2025-12-05T02:01:30Z",
                "checkout",
                "warn",
                "retrying \u{fffd}\u{fffd}"
            ),
            (
                "2025-12-05T02:02:00Z",
                "kernel",
                "error",
                "Out of memory: Killed process 4242 (checkout) total-vm:912345kB"
            ),
        ]
    );

    // One service at a time, as the tools name them.
    let args = json!({"timeframe": "2025-12-05T01:59:00Z/2025-12-05T02:10:00Z",
                      "service_filter": "kernel"});
    let logs = client
        .call_tool(
            CallToolRequestParams::new("get_raw_logs")
                .with_arguments(args.as_object().unwrap().clone()),
        )
        .await
        .unwrap()
        .structured_content
        .unwrap();
    assert_eq!(logs["total_entries"], 1, "{logs}");
    client.cancel().await.unwrap();
}
