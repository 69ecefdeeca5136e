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

fn opsmcp_bytes(args: &[&str], stdin: &[u8]) -> (i32, Vec<u8>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_opsmcp"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn opsmcp");
    let mut pipe = child.stdin.take().expect("stdin");
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = pipe.write_all(&data);
    });
    let out = child.wait_with_output().expect("wait");
    writer.join().expect("writer");
    (
        out.status.code().unwrap_or(-1),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn per_line_streams_the_same_ids_for_files_and_stdin_with_any_line_ending() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, ending) in [("lf", "\n"), ("crlf", "\r\n"), ("cr", "\r")] {
        let text = SSH.replace('\n', ending);
        let path = dir.path().join(format!("{name}.log"));
        std::fs::write(&path, &text).expect("write");
        let p = path.to_str().expect("path");
        let (code, out, err) = opsmcp(&["logs", "templates", "--per-line", p], None);
        assert_eq!(code, 0, "{name}: {err}");
        let ids: Vec<&str> = out.lines().collect();
        assert_eq!(ids.len(), 6, "{name}: {out}");
        assert!(ids[0] == ids[2] && ids[2] == ids[4], "{name}: {ids:?}");
        let (_, from_stdin, _) = opsmcp(&["logs", "templates", "--per-line", "-"], Some(&text));
        assert_eq!(from_stdin, out, "{name}: stdin and file differ");
        // Two files in one run: one id space, ids in input order.
        let (_, twice, _) = opsmcp(&["logs", "templates", "--per-line", p, p], None);
        assert_eq!(twice, format!("{out}{out}"), "{name}");
    }
}

#[test]
fn bad_inputs_get_clear_answers() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Binary: refused with a reason, unless asked.
    let bin = dir.path().join("core.bin");
    let bytes: Vec<u8> = (0u32..200_000)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&bin, &bytes).expect("write");
    let b = bin.to_str().expect("path");
    let (code, _, err) = opsmcp(&["logs", "templates", b], None);
    assert_eq!(code, 1);
    assert!(err.contains("looks like binary data"), "{err}");
    let (code, out, err) = opsmcp(&["logs", "templates", "--binary", "--json", b], None);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert!(v["lines"].as_u64().expect("lines") > 0);
    // Empty: zero lines, said so.
    let empty = dir.path().join("empty.log");
    std::fs::write(&empty, "").expect("write");
    let (code, out, err) = opsmcp(&["logs", "templates", empty.to_str().expect("p")], None);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("0 lines, 0 templates"), "{out}");
    assert!(err.contains("empty"), "{err}");
    let (code, out, _) = opsmcp(&["logs", "templates", "--per-line", "-"], Some(""));
    assert_eq!((code, out.as_str()), (0, ""));
    // A 10 MB line: one line, mined from its head, said so.
    let mut long = vec![b'x'; 10 << 20];
    for i in (0..long.len()).step_by(9) {
        long[i] = b' ';
    }
    long.extend_from_slice(b"\nafter the long line 1\n");
    let (code, out, err) = opsmcp_bytes(&["logs", "templates", "--per-line", "-"], &long);
    assert_eq!(code, 0, "{err}");
    assert_eq!(String::from_utf8_lossy(&out).lines().count(), 2);
    assert!(err.contains("longer than"), "{err}");
    // Invalid UTF-8: mined and counted.
    let (code, out, err) = opsmcp_bytes(
        &["logs", "templates", "--json", "-"],
        b"2024-01-02 10:00:00 INFO user \xff\xfe logged in\n2024-01-02 10:00:01 INFO ok\n",
    );
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_slice(&out).expect("json");
    assert_eq!(v["invalid_utf8_lines"], 1);
    assert!(err.contains("not valid UTF-8"), "{err}");
}

#[test]
fn a_file_that_changes_format_halfway_is_read_as_both() {
    let mut text = String::new();
    for i in 0..300 {
        text.push_str(&format!(
            "2024-01-02 10:{:02}:{:02},123 INFO [main] app.Api: served request {i} in {} ms\n",
            i / 60,
            i % 60,
            i % 50
        ));
    }
    for i in 0..300 {
        text.push_str(&format!(
            "Jan  2 11:{:02}:{:02} web01 sshd[{}]: Accepted publickey for deploy from 10.0.0.{} port {} ssh2\n",
            i / 60,
            i % 60,
            4000 + i,
            i % 250,
            40000 + i
        ));
    }
    let (code, out, err) = opsmcp(&["logs", "templates", "--json", "-"], Some(&text));
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["relearned"], 1);
    let templates: Vec<&str> = v["templates"]
        .as_array()
        .expect("templates")
        .iter()
        .map(|t| t["template"].as_str().expect("template"))
        .collect();
    assert_eq!(
        templates.len(),
        2,
        "timestamps or hosts leaked into templates: {templates:?}"
    );
}
