//! Shared by the sandbox test files: a workspace with a data file, a canary folder outside it
//! (a HOME-like `.ssh` key and a server config), snapshots of both taken around every run, and a
//! Python prelude whose `attempt` prints `ALLOWED label` or `DENIED label` for each hostile act.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use opsmcp_sandbox::{RunOutcome, RunRequest, Sandbox, SandboxError, SandboxLimits};

/// Printed by hostile scripts for each attempt.
pub const PRELUDE: &str = r#"
import sys, os
def attempt(label, fn):
    try:
        r = fn()
        print(f"ALLOWED {label} {r!r}"[:300], flush=True)
    except BaseException as e:
        print(f"DENIED {label} {type(e).__name__}: {e}", flush=True)
"#;

pub const SSH_SECRET: &str = "CANARY-SSH-PRIVATE-KEY-7f3a";
pub const CONFIG_SECRET: &str = "CANARY-DB-PASSWORD-91bc";

/// A workspace (`scripts/`, `data/logs.json`) and a canary folder outside it.
pub struct Fixture {
    pub ws: tempfile::TempDir,
    pub canary: tempfile::TempDir,
    counter: std::cell::Cell<u32>,
}

/// What a path looked like: type and mode, size, content, mtime.
type Snapshot = BTreeMap<PathBuf, (u32, u64, u64, i64)>;

impl Fixture {
    pub fn new() -> Self {
        let ws = tempfile::tempdir().expect("workspace");
        let canary = tempfile::tempdir().expect("canary");
        // World-readable canaries: a denial must come from the sandbox, not from file modes.
        for d in [ws.path(), canary.path()] {
            std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        }
        std::fs::create_dir_all(ws.path().join("scripts")).expect("mkdir");
        std::fs::create_dir_all(ws.path().join("data")).expect("mkdir");
        std::fs::write(ws.path().join("data/logs.json"), logs_json()).expect("data");
        let ssh = canary.path().join("home/.ssh");
        std::fs::create_dir_all(&ssh).expect("mkdir");
        std::fs::write(ssh.join("id_ed25519"), SSH_SECRET).expect("ssh");
        std::fs::write(
            canary.path().join("server.toml"),
            format!("db_password = \"{CONFIG_SECRET}\"\n"),
        )
        .expect("config");
        for p in [canary.path().join("home"), ssh.clone()] {
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        }
        Fixture {
            ws,
            canary,
            counter: std::cell::Cell::new(0),
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.ws.path().join(rel)
    }

    /// Writes `scripts/<name>.py` (with the prelude) and returns its relative path.
    pub fn script(&self, name: &str, body: &str) -> String {
        let rel = format!("scripts/{name}.py");
        std::fs::write(self.path(&rel), format!("{PRELUDE}\n{body}")).expect("script");
        rel
    }

    fn next_output(&self) -> String {
        self.counter.set(self.counter.get() + 1);
        format!("out/run{}", self.counter.get())
    }

    fn snapshot(&self, exclude: &Path) -> (Snapshot, Snapshot) {
        (
            snapshot(self.ws.path(), exclude),
            snapshot(self.canary.path(), exclude),
        )
    }

    /// Runs `body` with default limits; asserts nothing outside the output folder changed.
    pub async fn run(&self, name: &str, body: &str) -> (RunOutcome, String) {
        self.run_with(name, body, SandboxLimits::default()).await
    }

    /// Runs `body` with `limits`; asserts nothing outside the output folder changed. Returns the
    /// outcome and the output folder (relative).
    pub async fn run_with(
        &self,
        name: &str,
        body: &str,
        limits: SandboxLimits,
    ) -> (RunOutcome, String) {
        let script = self.script(name, body);
        let out = self.next_output();
        let before = self.snapshot(&self.path("out"));
        let sandbox = Sandbox::new(self.ws.path().to_owned(), limits);
        let req = RunRequest {
            script,
            data: "data/logs.json".into(),
            output_dir: out.clone(),
        };
        let outcome = sandbox
            .run(req)
            .await
            .unwrap_or_else(|e| panic!("run {name}: {e}"));
        let after = self.snapshot(&self.path("out"));
        assert_same(
            &before.0,
            &after.0,
            &format!("{name}: the workspace outside the output folder changed"),
        );
        assert_same(
            &before.1,
            &after.1,
            &format!("{name}: the canary folder changed"),
        );
        (outcome, out)
    }

    /// Runs a request expected to be refused; asserts nothing was created or changed.
    pub async fn refused(&self, script: &str, data: &str, output_dir: &str) -> SandboxError {
        let before = self.snapshot(Path::new("/nonexistent"));
        let sandbox = Sandbox::new(self.ws.path().to_owned(), SandboxLimits::default());
        let req = RunRequest {
            script: script.into(),
            data: data.into(),
            output_dir: output_dir.into(),
        };
        let err = sandbox
            .run(req)
            .await
            .expect_err("the request should be refused");
        let after = self.snapshot(Path::new("/nonexistent"));
        assert_same(
            &before.0,
            &after.0,
            &format!("a refused run changed the workspace ({err})"),
        );
        assert_same(
            &before.1,
            &after.1,
            "a refused run changed the canary folder",
        );
        err
    }
}

fn hash(bytes: &[u8]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut h);
    h.finish()
}

/// Asserts two snapshots are equal, naming the paths that differ.
fn assert_same(before: &Snapshot, after: &Snapshot, what: &str) {
    let mut diffs = Vec::new();
    for (p, v) in before {
        match after.get(p) {
            None => diffs.push(format!("removed {}", p.display())),
            Some(w) if w != v => diffs.push(format!("changed {}", p.display())),
            _ => {}
        }
    }
    for p in after.keys().filter(|p| !before.contains_key(*p)) {
        diffs.push(format!("created {}", p.display()));
    }
    assert!(diffs.is_empty(), "{what}: {diffs:?}");
}

fn snapshot(root: &Path, exclude: &Path) -> Snapshot {
    let mut map = BTreeMap::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.starts_with(exclude) {
                continue;
            }
            let Ok(m) = std::fs::symlink_metadata(&p) else {
                continue;
            };
            let content = if m.is_file() {
                hash(&std::fs::read(&p).unwrap_or_default())
            } else {
                0
            };
            map.insert(p.clone(), (m.mode(), m.len(), content, m.mtime()));
            if m.is_dir() {
                stack.push(p);
            }
        }
    }
    map
}

/// Deterministic log entries: (service, level) for 600 lines.
pub fn log_entries() -> Vec<(String, String)> {
    let services = ["checkout", "payments", "auth", "search", "inventory"];
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    (0..600)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let svc = services[(x % 5) as usize];
            let level = match (x >> 8) % 10 {
                0..=2 => "ERROR",
                3 => "WARN",
                _ => "INFO",
            };
            (svc.to_owned(), level.to_owned())
        })
        .collect()
}

pub fn logs_json() -> String {
    let v: Vec<serde_json::Value> = log_entries()
        .into_iter()
        .enumerate()
        .map(|(i, (s, l))| serde_json::json!({"ts": i, "service": s, "level": l, "msg": format!("event {i}")}))
        .collect();
    serde_json::to_string(&v).expect("json")
}

/// Whether `pid` is a live (non-zombie) process.
pub fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let state = stat
                .rfind(')')
                .and_then(|i| stat[i + 1..].split_whitespace().next().map(str::to_owned));
            !matches!(state.as_deref(), Some("Z") | Some("X") | None)
        }
        Err(_) => false,
    }
}

/// Asserts that every attempt was denied and that each label appears.
pub fn assert_denied(o: &RunOutcome, labels: &[&str]) {
    let out = &o.stdout.text;
    assert!(
        !out.contains("ALLOWED"),
        "something was allowed:\n{out}\nstderr:\n{}",
        o.stderr.text
    );
    for l in labels {
        assert!(
            out.contains(&format!("DENIED {l} ")),
            "no denial for {l}:\n{out}\nstderr:\n{}",
            o.stderr.text
        );
    }
}
