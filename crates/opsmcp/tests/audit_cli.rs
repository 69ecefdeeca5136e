//! The keyed audit chain through the binary, on a real SQLite store written by `opsmcp up`:
//! a fresh store's files are private, `opsmcp audit verify` finds an entry edited with the plain
//! SHA-256 chain recomputed after it, entries deleted from the end with the counter rewound, and
//! a wrong key; each exits 1.

mod common;

use std::{
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    process::Command,
};

use common::Running;
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::Connection;

const CALLS: usize = 6;

/// `opsmcp ARGS… --data-dir DIR` → (exit code, stdout + stderr).
fn cli(data_dir: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(common::bin())
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("OPSMCP_CONFIG")
        .env_remove("OPSMCP_DATABASE_URL")
        .env_remove("OPSMCP_AUDIT_KEY_FILE")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr),
    )
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .permissions()
        .mode()
        & 0o777
}

/// A store with `CALLS` audited calls, written by a real server in a data directory it
/// created; checks the modes of what it created while it runs.
fn served_store() -> (tempfile::TempDir, PathBuf) {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let data_s = data.display().to_string();
    let server = Running::up_with_env(
        &["--scenario", "db-connection-pool-exhaustion"],
        &[("OPSMCP_DATA_DIR", &data_s)],
    );
    let monitoring = server.url("monitoring").to_string();
    for _ in 0..CALLS {
        // An unknown tool is not read-only: its entry is committed before the answer.
        let status = common::post_mcp(&monitoring)
            .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                          "params": {"name": "no_such_tool", "arguments": {"x": 1}}}))
            .send()
            .unwrap()
            .status();
        assert_eq!(status, 200);
    }
    // The anchor file follows the head within 100 ms.
    for _ in 0..50 {
        if data.join("audit.head").exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // Private files, while the server has the database (and its -wal/-shm) open.
    assert_eq!(mode(&data), 0o700, "data dir");
    for f in [
        "opsmcp.db",
        "opsmcp.db-wal",
        "opsmcp.db-shm",
        "audit.key",
        "audit.head",
    ] {
        assert_eq!(mode(&data.join(f)), 0o600, "{f}");
    }
    // The head is exported on /metrics as a count.
    let text = reqwest::blocking::get(format!("{monitoring}/metrics"))
        .unwrap()
        .text()
        .unwrap();
    let count = text.lines().find_map(|l| {
        l.strip_prefix("opsmcp_audit_entries ")?
            .trim()
            .parse::<f64>()
            .ok()
    });
    assert!(count.is_some_and(|c| c >= CALLS as f64), "{text}");
    server.terminate();
    let mut server = server;
    server.wait();
    (root, data)
}

async fn sqlite(data: &Path) -> sqlx::SqliteConnection {
    let url = format!("sqlite://{}", data.join("opsmcp.db").display());
    sqlx::SqliteConnection::connect(&url).await.unwrap()
}

/// What someone with write access to the database but not the key can do: edit entry `from`
/// and relink it and every later entry with the plain SHA-256 chain (the pre-key format).
async fn edit_and_relink(data: &Path, from: i64) {
    let url = format!("sqlite://{}", data.join("opsmcp.db").display());
    let store = opsmcp_store::Store::open(&url).await.unwrap();
    let entries = store.audit_entries(0, 10_000).await.unwrap();
    store.close().await;
    let mut conn = sqlite(data).await;
    let mut prev = entries
        .iter()
        .find(|e| e.seq == from - 1)
        .map_or_else(|| "0".repeat(64), |e| e.hash.clone());
    for e in entries.iter().filter(|e| e.seq >= from) {
        let outcome = if e.seq == from {
            "ok"
        } else {
            e.outcome.as_str()
        };
        let mut fields = vec![
            json!(e.seq),
            json!(e.at.as_microsecond()),
            json!(e.server),
            json!(e.tool),
            json!(e.caller),
            json!(e.arguments),
            json!(outcome),
            json!(e.duration_ms),
        ];
        if let Some(id) = &e.request_id {
            fields.push(json!(id));
        }
        let canonical = serde_json::Value::Array(fields).to_string();
        let mut h = Sha256::new();
        h.update(prev.as_bytes());
        h.update(b"\n");
        h.update(canonical.as_bytes());
        let hash = format!("{:x}", h.finalize());
        sqlx::query("UPDATE audit_log SET outcome = $1, prev_hash = $2, hash = $3 WHERE seq = $4")
            .bind(outcome)
            .bind(&prev)
            .bind(&hash)
            .bind(e.seq)
            .execute(&mut conn)
            .await
            .unwrap();
        prev = hash;
    }
}

/// Runs the async tampering helpers (the server part uses blocking HTTP, outside any runtime).
fn block<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

fn verify(data: &Path, extra: &[&str]) -> (i32, String) {
    let mut args = vec!["audit", "verify"];
    args.extend_from_slice(extra);
    cli(data, &args)
}

#[test]
fn an_edit_relinked_with_plain_sha256_is_detected() {
    let (_root, data) = served_store();
    let (code, out) = verify(&data, &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("intact"), "{out}");

    // From the middle: the keyed entries before it stop at an unkeyed one.
    block(edit_and_relink(&data, 3));
    let (code, out) = verify(&data, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("BROKEN at entry 3"), "{out}");
    assert!(out.contains("rewritten without the key"), "{out}");

    // The whole chain rewritten in the old format: the anchor says keying began at 1.
    block(edit_and_relink(&data, 1));
    let (code, out) = verify(&data, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("BROKEN at entry 1"), "{out}");
}

#[test]
fn entries_deleted_from_the_end_with_the_counter_rewound_are_detected() {
    let (_root, data) = served_store();
    let (last, keep) = block(async {
        let mut conn = sqlite(&data).await;
        let last: i64 = sqlx::query_scalar("SELECT MAX(seq) FROM audit_log")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        let keep = last - 2;
        for sql in [
            format!("DELETE FROM audit_log WHERE seq > {keep}"),
            format!("UPDATE counters SET value = {keep} WHERE name = 'audit'"),
        ] {
            sqlx::query(&sql).execute(&mut conn).await.unwrap();
        }
        conn.close().await.unwrap();
        (last, keep)
    });
    let (code, out) = verify(&data, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!("the log ends at {keep}, the anchor says {last}")),
        "{out}"
    );
}

#[test]
fn a_wrong_key_is_detected() {
    let (root, data) = served_store();
    let other = root.path().join("other.key");
    std::fs::write(&other, format!("{}\n", "ab".repeat(32))).unwrap();
    let other_s = other.display().to_string();
    let (code, out) = verify(&data, &["--audit-key-file", &other_s]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("BROKEN at entry 1"), "{out}");
    assert!(out.contains("not the one it was written with"), "{out}");
    // The right key, given explicitly, verifies.
    let key = data.join("audit.key").display().to_string();
    let (code, out) = verify(&data, &["--audit-key-file", &key]);
    assert_eq!(code, 0, "{out}");
    // No key at all: keyed entries cannot be checked, and that is not "intact".
    std::fs::rename(data.join("audit.key"), root.path().join("moved.key")).unwrap();
    let (code, out) = verify(&data, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("no audit key was given"), "{out}");
}

/// A data directory that already exists with other modes keeps them; what the store creates in
/// it is still private.
#[test]
fn an_existing_folder_keeps_its_mode_and_new_files_are_private() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    let (code, out) = verify(&data, &[]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(mode(&data), 0o755);
    assert_eq!(mode(&data.join("opsmcp.db")), 0o600);
}

/// `opsmcp ARGS… --data-dir DIR` as someone who may read the data directory but not write it:
/// the test's own user when it is not root (the modes bind it), else `nobody` (root ignores
/// them).
fn cli_as_reader(data_dir: &Path, args: &[&str]) -> (i32, String) {
    use std::os::unix::{fs::MetadataExt, process::CommandExt};
    let as_root = std::fs::metadata("/proc/self").unwrap().uid() == 0;
    // `nobody` may not reach the build's binary (a target folder under root's home is 0700):
    // it runs a copy in a folder it may enter.
    let copy = tempfile::tempdir().unwrap();
    let bin = if as_root {
        let to = copy.path().join("opsmcp");
        std::fs::copy(common::bin(), &to).unwrap();
        std::fs::set_permissions(copy.path(), PermissionsExt::from_mode(0o755)).unwrap();
        std::fs::set_permissions(&to, PermissionsExt::from_mode(0o755)).unwrap();
        to
    } else {
        common::bin()
    };
    let mut cmd = Command::new(bin);
    cmd.args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("OPSMCP_CONFIG")
        .env_remove("OPSMCP_DATABASE_URL")
        .env_remove("OPSMCP_AUDIT_KEY_FILE");
    if as_root {
        cmd.uid(65534).gid(65534);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr),
    )
}

/// What is in a folder: each name with its size and modification time.
fn listing(dir: &Path) -> Vec<(String, u64, std::time::SystemTime)> {
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let m = e.metadata().unwrap();
            (
                e.file_name().to_string_lossy().to_string(),
                m.len(),
                m.modified().unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

/// An auditor with read access only (files 0444 in a 0555 folder) verifies and lists the store
/// a server wrote, and leaves it as it was.
#[test]
fn a_read_only_store_can_be_verified_and_listed() {
    let (root, data) = served_store();
    // As a cleanly closed store is: every commit in the file, no -wal or -shm beside it. (The
    // server does not always remove them when it stops; with them there, a read-write open of
    // a read-only file happens to work too, so the case this test is about is made certain.)
    block(async {
        let mut conn = sqlite(&data).await;
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&mut conn)
            .await
            .unwrap();
        conn.close().await.unwrap();
    });
    for leftover in ["opsmcp.db-wal", "opsmcp.db-shm"] {
        let _ = std::fs::remove_file(data.join(leftover));
    }
    for entry in std::fs::read_dir(&data).unwrap() {
        std::fs::set_permissions(entry.unwrap().path(), PermissionsExt::from_mode(0o444)).unwrap();
    }
    std::fs::set_permissions(&data, PermissionsExt::from_mode(0o555)).unwrap();
    std::fs::set_permissions(root.path(), PermissionsExt::from_mode(0o755)).unwrap();
    let before = listing(&data);

    let (code, out) = cli_as_reader(&data, &["audit", "verify"]);
    assert_eq!(code, 0, "{out}\n{before:?}");
    assert!(out.contains(&format!("intact: {CALLS} entries")), "{out}");
    let (code, out) = cli_as_reader(&data, &["audit", "list", "--json"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out.lines().count(), CALLS, "{out}");
    let (code, out) = cli_as_reader(&data, &["incidents", "list"]);
    assert_eq!(code, 0, "{out}");

    // A file that is only read-only, in a folder the reader may write.
    std::fs::set_permissions(&data, PermissionsExt::from_mode(0o777)).unwrap();
    let (code, out) = cli_as_reader(&data, &["audit", "verify"]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = cli_as_reader(&data, &["incidents", "list", "--json"]);
    assert_eq!(code, 0, "{out}");

    std::fs::set_permissions(&data, PermissionsExt::from_mode(0o700)).unwrap();
    assert_eq!(listing(&data), before, "reading changed the store");
    // Writing still needs write access: refused, in one line.
    let (code, out) = cli_as_reader(&data, &["incidents", "approve", "INC-0001", "restart"]);
    assert_ne!(code, 0, "{out}");
}

/// `tools/call NAME ARGS` on a server, as a stateless client.
fn call_tool(base: &str, name: &str, arguments: serde_json::Value) {
    let status = common::post_mcp(base)
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                      "params": {"name": name, "arguments": arguments}}))
        .send()
        .unwrap()
        .status();
    assert_eq!(status, 200);
}

/// `audit list` has a header in text mode (none with --json), and narrows by tool, incident,
/// caller, outcome and time; a bad filter value is a usage error saying what is accepted.
#[test]
fn audit_list_has_a_header_and_filters() {
    let mut server = Running::up(&[]);
    let data = server.data_dir.clone();
    let workflow = server.url("workflow").to_string();
    call_tool(
        &workflow,
        "create_incident",
        json!({"title": "Checkout failing", "severity": "critical"}),
    );
    call_tool(
        &workflow,
        "get_incident",
        json!({"incident_id": "INC-0001"}),
    );
    call_tool(
        &workflow,
        "get_incident",
        json!({"incident_id": "INC-9999"}),
    );
    call_tool(server.url("monitoring"), "no_such_tool", json!({}));
    server.terminate();
    server.wait();

    let list = |extra: &[&str]| {
        let mut args = vec!["audit", "list"];
        args.extend_from_slice(extra);
        cli(&data, &args)
    };
    let (code, out) = list(&[]);
    assert_eq!(code, 0, "{out}");
    let header = out.lines().next().unwrap();
    for column in [
        "SEQ", "AT", "SERVER", "TOOL", "CALLER", "DURATION", "OUTCOME",
    ] {
        assert!(header.contains(column), "{out}");
    }
    assert_eq!(out.lines().count(), 5, "a header and four entries: {out}");
    let (_, out) = list(&["--json"]);
    let entries: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(entries.len(), 4, "{out}");

    // Each filter, as JSON lines: the tools of the entries that pass.
    let tools = |extra: &[&str]| -> Vec<String> {
        let mut args = vec!["--json"];
        args.extend_from_slice(extra);
        let (code, out) = list(&args);
        assert_eq!(code, 0, "{out}");
        out.lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["tool"].to_string())
            .map(|t| t.trim_matches('"').to_string())
            .collect()
    };
    assert_eq!(tools(&["--tool", "get_incident"]).len(), 2);
    assert_eq!(tools(&["--incident", "INC-0001"]), ["get_incident"]);
    assert_eq!(tools(&["--incident", "inc-9999"]), ["get_incident"]);
    assert_eq!(
        tools(&["--outcome", "ok"]),
        ["create_incident", "get_incident"]
    );
    assert_eq!(tools(&["--outcome", "error"]), ["get_incident"]);
    let caller = entries[0]["caller"].as_str().unwrap();
    assert_eq!(tools(&["--caller", caller]).len(), 4);
    assert!(tools(&["--caller", "token:someone-else"]).is_empty());
    assert_eq!(tools(&["--since", "1h"]).len(), 4);
    assert_eq!(tools(&["--since", "2000-01-01", "--until", "1h"]).len(), 0);
    assert_eq!(
        tools(&["--tool", "get_incident", "--outcome", "ok", "--limit", "1"]),
        ["get_incident"]
    );
    let (_, out) = list(&["--tool", "get_incidnet"]);
    assert!(
        out.starts_with("no audit entries match") && out.contains("get_incident"),
        "{out}"
    );

    // Bad values: exit 2, saying what is accepted.
    for (args, says) in [
        (&["--since", "yesterday"][..], "2h"),
        (&["--until", "2026-13-45"], "2026-12-06"),
        (&["--incident", "42"], "INC-0001"),
        (&["--outcome", "fine"], "rate_limited"),
        (&["--since", "1h", "--until", "2h"], "not before"),
    ] {
        let (code, out) = list(args);
        assert_eq!(code, 2, "{args:?}: {out}");
        assert!(out.contains(says), "{args:?}: {out}");
    }
}
