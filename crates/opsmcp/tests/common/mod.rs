//! Starting the real `opsmcp` binary on ephemeral loopback ports, for end-to-end tests.

#![allow(dead_code)]

pub mod journal;
pub mod prometheus;

use std::{
    collections::HashMap,
    io::{BufRead, BufReader},
    os::unix::process::CommandExt,
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::Duration,
};

/// A child process of a test (a peer server, a service under watch), killed when dropped.
pub struct Killed(pub Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Killed {
    /// `bash -c script` in a process group of its own, quiet.
    pub fn script(script: &str) -> Self {
        Killed(
            Command::new("bash")
                .args(["-c", script])
                .process_group(0)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("bash starts"),
        )
    }
}

/// A loopback port free at the time of asking.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running `opsmcp` process; killed when dropped.
pub struct Running {
    pub child: Child,
    /// Server name → base URL (`http://127.0.0.1:PORT`).
    pub urls: HashMap<String, String>,
    stdout_rest: mpsc::Receiver<String>,
    /// The data directory (a fresh one unless the test gave `OPSMCP_DATA_DIR`).
    pub data_dir: PathBuf,
    _fresh: Option<tempfile::TempDir>,
}

impl Running {
    /// `opsmcp ARGS…` started, waiting until `servers` have printed their listening line.
    pub fn start(args: &[&str], servers: &[&str]) -> Self {
        Self::start_with_env(args, servers, &[])
    }

    pub fn start_with_env(args: &[&str], servers: &[&str], env: &[(&str, &str)]) -> Self {
        let mut cmd = Command::new(bin());
        cmd.args(args)
            .env_remove("OPSMCP_CONFIG")
            .env("OPSMCP_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (k, v) in env {
            cmd.env(k, v);
        }
        // Every run gets a data directory of its own unless the test shares one on purpose.
        let (data_dir, fresh) = match env.iter().find(|(k, _)| *k == "OPSMCP_DATA_DIR") {
            Some((_, dir)) => (PathBuf::from(dir), None),
            None => {
                let dir = tempfile::tempdir().expect("temp data dir");
                cmd.env("OPSMCP_DATA_DIR", dir.path());
                (dir.path().to_path_buf(), Some(dir))
            }
        };
        let mut child = cmd.spawn().expect("opsmcp starts");
        let stdout = child.stdout.take().expect("stdout piped");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        let mut urls = HashMap::new();
        while urls.len() < servers.len() {
            let line = rx
                .recv_timeout(Duration::from_secs(30))
                .expect("opsmcp printed its listening lines");
            // "opsmcp: NAME listening on http(s)://ADDR (/mcp, /sse, /health, /metrics)"
            if let Some(rest) = line.strip_prefix("opsmcp: ")
                && let Some((name, tail)) = rest.split_once(" listening on ")
            {
                let url = tail.split_whitespace().next().unwrap_or_default();
                urls.insert(name.to_string(), url.to_string());
            }
        }
        Running {
            child,
            urls,
            stdout_rest: rx,
            data_dir,
            _fresh: fresh,
        }
    }

    /// `opsmcp up` with every server on a free port, plus `extra` arguments.
    pub fn up(extra: &[&str]) -> Self {
        Self::up_with_env(extra, &[])
    }

    /// [`Running::up`] with environment variables.
    pub fn up_with_env(extra: &[&str], env: &[(&str, &str)]) -> Self {
        let mut args = UP_ON_FREE_PORTS.to_vec();
        args.extend_from_slice(extra);
        Self::start_with_env(&args, &ALL_SERVERS, env)
    }

    /// `opsmcp agent PROMPT` against these servers, recording its run in their data directory,
    /// as a user on the same machine would start it; its output once it ends.
    pub fn agent(&self, prompt: &str) -> std::process::Output {
        let port = |name: &str| self.url(name).rsplit(':').next().unwrap().to_string();
        Command::new(bin())
            .args(["agent", prompt])
            .env_remove("OPSMCP_CONFIG")
            .env("OPSMCP_MONITORING_PORT", port("monitoring"))
            .env("OPSMCP_WORKFLOW_PORT", port("workflow"))
            .env("OPSMCP_LOG_ANALYTICS_PORT", port("log-analytics"))
            .env("OPSMCP_DATA_DIR", &self.data_dir)
            .output()
            .expect("opsmcp agent runs")
    }

    pub fn url(&self, server: &str) -> &str {
        &self.urls[server]
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
    }

    /// Waits for exit (at most 30 s) and returns the exit code.
    pub fn wait(&mut self) -> Option<i32> {
        for _ in 0..300 {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("opsmcp did not exit within 30 s");
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `opsmcp up` with every server on a free port (add `--scenario …` and the like).
pub const UP_ON_FREE_PORTS: [&str; 7] = [
    "up",
    "--monitoring-port",
    "0",
    "--workflow-port",
    "0",
    "--log-analytics-port",
    "0",
];

/// The three servers, as `opsmcp up` names them in its listening lines.
pub const ALL_SERVERS: [&str; 3] = ["monitoring", "workflow", "log-analytics"];

/// A POST to `BASE/mcp` as a stateless 2025-11-25 client would send it (add the body, extra
/// headers, a bearer token).
pub fn post_mcp(base: &str) -> reqwest::blocking::RequestBuilder {
    reqwest::blocking::Client::new()
        .post(format!("{base}/mcp"))
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-11-25")
}

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_opsmcp"))
}

/// The workspace root (for test assets outside this crate).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Each line `r` gives, sent on a channel as it comes, and all of them (joined) at the end.
pub fn lines_of(
    r: impl std::io::Read + Send + 'static,
) -> (mpsc::Receiver<String>, std::thread::JoinHandle<String>) {
    let (tx, rx) = mpsc::channel();
    let all = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(r).lines().map_while(Result::ok) {
            all.push_str(&line);
            all.push('\n');
            let _ = tx.send(line);
        }
        all
    });
    (rx, all)
}

/// Everything `r` gives, read on a thread of its own.
pub fn read_all(mut r: impl std::io::Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut s = String::new();
        let _ = r.read_to_string(&mut s);
        s
    })
}

/// Waits for `child` to exit and returns its exit code; kills it and fails the test if it is
/// still running after `bound` — a hang becomes a failure. Not a speed check: the bound is
/// far above a normal run.
pub fn wait_bounded(child: &mut Child, bound: Duration) -> Option<i32> {
    let started = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status.code();
        }
        if started.elapsed() > bound {
            let _ = child.kill();
            let _ = child.wait();
            panic!("still running after {bound:?}: it hangs");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `opsmcp token create`: the token (stdout) and its config entry (stderr).
pub fn create_token(name: &str, scopes: &str) -> (String, String) {
    let out = std::process::Command::new(bin())
        .args(["token", "create", "--name", name, "--scopes", scopes])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let stderr = String::from_utf8(out.stderr).unwrap();
    let entry = stderr[stderr
        .find("[[auth.tokens]]")
        .expect("config entry printed")..]
        .split("\n\n")
        .next()
        .unwrap()
        .to_string();
    assert!(
        !entry.contains(&token),
        "the config entry must not hold the token"
    );
    (token, entry)
}

/// Opens a legacy `/sse` session on `base` with `token`: the live stream and the path its
/// `endpoint` event names for POSTs.
pub fn sse_session(base: &str, token: &str) -> (reqwest::blocking::Response, String) {
    let mut stream = reqwest::blocking::Client::new()
        .get(format!("{base}/sse"))
        .bearer_auth(token)
        .send()
        .unwrap();
    assert_eq!(stream.status(), 200);
    let mut first = vec![0u8; 256];
    let n = std::io::Read::read(&mut stream, &mut first).unwrap();
    let text = String::from_utf8_lossy(&first[..n]).to_string();
    let path = text
        .lines()
        .find_map(|l| l.strip_prefix("data: "))
        .expect("endpoint event")
        .trim()
        .to_string();
    (stream, path)
}
