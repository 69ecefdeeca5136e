//! `opsmcp scenarios list|show|validate` through the binary.

mod common;

use std::process::Command;

use common::{bin, workspace_root};
use serde_json::Value;

fn opsmcp(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(bin()).args(args).output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn list_names_every_builtin_scenario() {
    let (code, stdout, _) = opsmcp(&["scenarios", "list", "--json"]);
    assert_eq!(code, Some(0));
    let list: Vec<Value> = serde_json::from_str(&stdout).unwrap();
    let names: Vec<&str> = list.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert!(
        names.contains(&"db-connection-pool-exhaustion"),
        "{names:?}"
    );
    assert!(
        list.iter()
            .all(|s| !s["services"].as_array().unwrap().is_empty())
    );
}

#[test]
fn show_keeps_the_answer_until_asked() {
    let (code, stdout, _) = opsmcp(&[
        "scenarios",
        "show",
        "db-connection-pool-exhaustion",
        "--json",
    ]);
    assert_eq!(code, Some(0));
    let story: Value = serde_json::from_str(&stdout).unwrap();
    assert!(story.get("truth").is_none());
    assert!(
        !stdout.contains("root_cause"),
        "the root cause leaked: {stdout}"
    );
    let (_, revealed, _) = opsmcp(&[
        "scenarios",
        "show",
        "db-connection-pool-exhaustion",
        "--json",
        "--reveal",
    ]);
    let revealed: Value = serde_json::from_str(&revealed).unwrap();
    assert_eq!(revealed["truth"]["component"], "orders-db");
    assert_eq!(revealed["truth"]["remediation"][0], "increase-pool-size");
}

#[test]
fn validate_accepts_a_good_file_and_points_at_a_bad_one() {
    let good = workspace_root().join("scenarios/db-connection-pool-exhaustion.toml");
    let (code, stdout, _) = opsmcp(&["scenarios", "validate", good.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{stdout}");
    assert!(stdout.contains("valid scenario"));

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    let text = std::fs::read_to_string(&good).unwrap().replacen(
        "per_minute = 240",
        "per_minute = \"lots\"",
        1,
    );
    std::fs::write(&bad, text).unwrap();
    let (code, _, stderr) = opsmcp(&["scenarios", "validate", bad.to_str().unwrap()]);
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("bad.toml") && stderr.contains("line"),
        "{stderr}"
    );

    let (code, _, stderr) = opsmcp(&["scenarios", "show", "no-such-incident"]);
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("built-in scenarios: db-connection-pool-exhaustion"),
        "{stderr}"
    );
}

#[test]
fn generated_logs_are_byte_identical_for_a_seed_and_differ_across_seeds() {
    let logs = |seed: &str| {
        let (code, stdout, stderr) = opsmcp(&[
            "scenarios",
            "logs",
            "disk-full-log-volume",
            "--minutes",
            "10",
            "--seed",
            seed,
            "--until",
            "2026-11-26T04:00:00Z",
        ]);
        assert_eq!(code, Some(0), "{stderr}");
        stdout
    };
    let a = logs("5");
    assert!(a.lines().count() > 1000, "{}", a.lines().count());
    assert_eq!(a, logs("5"));
    assert_ne!(a, logs("6"));
    assert!(a.contains("No space left on device"));
    let (_, fast, _) = opsmcp(&[
        "scenarios",
        "logs",
        "disk-full-log-volume",
        "--minutes",
        "10",
        "--rate",
        "10",
        "--until",
        "2026-11-26T04:00:00Z",
    ]);
    let ratio = fast.lines().count() as f64 / a.lines().count() as f64;
    assert!(
        (8.0..12.0).contains(&ratio),
        "--rate 10 gave {ratio}x the lines"
    );
}

#[test]
fn validate_names_the_log_styles_there_are_when_one_is_misspelled() {
    let good = workspace_root().join("scenarios/db-connection-pool-exhaustion.toml");
    let text = std::fs::read_to_string(&good).unwrap();
    assert!(text.contains("log_format = \"postgres\""), "{text}");
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("styles.toml");
    std::fs::write(
        &bad,
        text.replacen(
            "log_format = \"postgres\"",
            "log_format = \"postgresql\"",
            1,
        ),
    )
    .unwrap();
    let (code, _, stderr) = opsmcp(&["scenarios", "validate", bad.to_str().unwrap()]);
    assert_eq!(code, Some(1));
    let line = 1 + text
        .lines()
        .position(|l| l.starts_with("log_format = \"postgres\""))
        .unwrap();
    assert!(
        stderr.contains("styles.toml")
            && stderr.contains(&format!("line {line}"))
            && stderr.contains("`postgresql`")
            && [
                "`json`",
                "`nginx-access`",
                "`postgres`",
                "`zap`",
                "`syslog`"
            ]
            .iter()
            .all(|v| stderr.contains(v)),
        "{stderr}"
    );
}

#[test]
fn generate_writes_a_world_that_validates_and_reveals_its_own_truth() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("world.toml");
    let generate = [
        "scenarios",
        "generate",
        "--services",
        "30",
        "--seed",
        "5",
        "--fault",
        "disk-full",
    ];
    let (code, toml, stderr) = opsmcp(&generate);
    assert_eq!(code, Some(0), "{stderr}");
    std::fs::write(&file, &toml).unwrap();
    let path = file.to_str().unwrap();
    let (code, stdout, stderr) = opsmcp(&["scenarios", "validate", path]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("30 services"), "{stdout}");
    let (_, revealed, _) = opsmcp(&["scenarios", "show", path, "--json", "--reveal"]);
    let revealed: Value = serde_json::from_str(&revealed).unwrap();
    assert_eq!(revealed["truth"]["root_cause"], "disk-full");
    assert_eq!(revealed["truth"]["remediation"][0], "clear-disk");

    // The same arguments write the same file.
    let (_, again, _) = opsmcp(&generate);
    assert_eq!(toml, again);

    let (code, _, stderr) = opsmcp(&["scenarios", "generate", "--fault", "gremlins"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("gremlins") && stderr.contains("memory-leak"),
        "{stderr}"
    );
    let (code, _, stderr) = opsmcp(&["scenarios", "generate", "--services", "2"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("--services"), "{stderr}");
}
