//! End-to-end: `opsmcp logs templates` and `opsmcp logs anomalies` on real files and stdin.

use std::io::Write;
use std::process::{Command, Stdio};

fn opsmcp(args: &[&str], stdin: Option<&str>) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_opsmcp"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn opsmcp");
    let mut pipe = child.stdin.take().expect("stdin");
    pipe.write_all(stdin.unwrap_or("").as_bytes())
        .expect("write stdin");
    drop(pipe);
    let out = child.wait_with_output().expect("wait");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const SSH: &str = "\
Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 173.234.31.186
Dec 10 06:55:48 LabSZ sshd[24200]: Failed password for invalid user webmaster from 173.234.31.186 port 38926 ssh2
Dec 10 07:07:38 LabSZ sshd[24206]: Invalid user test9 from 52.80.34.196
Dec 10 07:08:28 LabSZ sshd[24208]: Invalid user admin from 173.234.31.186
Dec 10 07:11:42 LabSZ sshd[24224]: Invalid user chen from 202.100.179.208
this line has no header at all
";

#[test]
fn templates_per_line_from_stdin() {
    let (code, out, err) = opsmcp(&["logs", "templates", "--per-line", "-"], Some(SSH));
    assert_eq!(code, 0, "{err}");
    let ids: Vec<&str> = out.lines().collect();
    assert_eq!(ids.len(), 6, "one id per line: {out}");
    // The four `Invalid user` lines share a template; the others have their own.
    assert!(
        ids[0] == ids[2] && ids[2] == ids[3] && ids[3] == ids[4],
        "{ids:?}"
    );
    assert_ne!(ids[0], ids[1]);
    assert_ne!(ids[0], ids[5]);
    assert!(ids.iter().all(|i| i.len() == 16));
}

#[test]
fn templates_json_from_files_counts_raw_lines() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = dir.path().join("a.log");
    std::fs::write(&a, SSH).expect("write");
    let (code, out, err) = opsmcp(
        &["logs", "templates", "--json", a.to_str().expect("path")],
        None,
    );
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["lines"], 6);
    let templates = v["templates"].as_array().expect("templates");
    let top = &templates[0];
    assert_eq!(top["template"], "Invalid user <*> from <*>");
    assert_eq!(top["count"], 4);
    assert_eq!(top["first_line"], 1);
    assert_eq!(top["first_seen"], "Dec 10 06:55:46");
    assert!(!top["examples"].as_array().expect("examples").is_empty());
    let formats = v["formats"].as_array().expect("formats");
    assert!(
        formats.iter().any(|f| f[0] == "raw" && f[1] == 1),
        "{formats:?}"
    );
    // Same answer on one thread.
    let (_, again, _) = opsmcp(
        &[
            "logs",
            "templates",
            "--json",
            "--threads",
            "1",
            a.to_str().expect("path"),
        ],
        None,
    );
    assert_eq!(again, out);
}

#[test]
fn templates_table_and_missing_file() {
    let (code, out, _) = opsmcp(&["logs", "templates", "-"], Some(SSH));
    assert_eq!(code, 0);
    assert!(out.starts_with("6 lines, "), "{out}");
    assert!(out.contains("Invalid user <*> from <*>"));
    let (code, _, err) = opsmcp(&["logs", "templates", "/nonexistent/x.log"], None);
    assert_eq!(code, 1);
    assert!(err.contains("opening /nonexistent/x.log"), "{err}");
}

fn minutes(from: i64, to: i64, extra: &dyn Fn(i64) -> String) -> String {
    let mut s = String::new();
    for m in from..to {
        for k in 0..20 {
            let ts = jiff_like(m * 60 + k * 3);
            s.push_str(&format!(
                "{ts} INFO [main] app.Api: served request {k} in {} ms\n",
                10 + k
            ));
            if k % 5 == 0 {
                s.push_str(&format!(
                    "{ts} DEBUG [main] app.Cache: cache hit ratio {k}\n"
                ));
            }
        }
        s.push_str(&extra(m));
    }
    s
}

/// `2024-01-01T00:00:00Z` plus `secs`, without a date library.
fn jiff_like(secs: i64) -> String {
    let (h, m, s) = (secs / 3600, (secs / 60) % 60, secs % 60);
    format!("2024-01-01T{h:02}:{m:02}:{s:02}Z")
}

#[test]
fn anomalies_rank_new_error_template_and_burst() {
    let dir = tempfile::tempdir().expect("tempdir");
    let base = dir.path().join("base.log");
    let win = dir.path().join("win.log");
    std::fs::write(&base, minutes(0, 60, &|_| String::new())).expect("write");
    std::fs::write(
        &win,
        minutes(60, 90, &|m| {
            let ts = jiff_like(m * 60 + 30);
            let mut s = String::new();
            if m == 70 {
                for i in 0..100 {
                    s.push_str(&format!(
                        "{ts} DEBUG [main] app.Cache: cache hit ratio {i}\n"
                    ));
                }
            }
            if m == 80 {
                s.push_str(&format!(
                    "{ts} ERROR [main] app.Db: connection pool exhausted, 0 of 50 free\n"
                ));
            }
            s
        }),
    )
    .expect("write");
    let (code, out, err) = opsmcp(
        &[
            "logs",
            "anomalies",
            "--json",
            "--baseline",
            base.to_str().expect("path"),
            "--window",
            win.to_str().expect("path"),
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    let a = v["anomalies"].as_array().expect("anomalies");
    assert_eq!(a.len(), 2, "{out}");
    assert!(a.iter().any(|x| {
        x["kind"] == "new_template"
            && x["template"]
                .as_str()
                .is_some_and(|t| t.contains("connection pool exhausted"))
    }));
    assert!(
        a.iter()
            .any(|x| x["kind"] == "burst" && x["template"] == "cache hit ratio <*>")
    );
    // A stationary window (from stdin) is quiet.
    let (code, out, err) = opsmcp(
        &[
            "logs",
            "anomalies",
            "--baseline",
            base.to_str().expect("path"),
            "--window",
            "-",
        ],
        Some(&minutes(60, 90, &|_| String::new())),
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("no anomalies"), "{out}");
}
