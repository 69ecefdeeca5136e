//! A real Prometheus (the Debian package) on a free loopback port, for tests that read from it
//! or have it scrape our /metrics.

use std::{
    net::TcpListener,
    path::Path,
    process::{Child, Command, Stdio},
    time::Duration,
};

pub const PROMETHEUS: &str = "/usr/bin/prometheus";

/// A real Prometheus on a free loopback port, scraping itself every second; killed on drop.
pub struct Prometheus {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    _dir: tempfile::TempDir,
}

impl Prometheus {
    /// Prometheus scraping only itself.
    pub fn start() -> Option<Self> {
        Self::scraping(&[])
    }

    /// Prometheus scraping itself and `targets` (`host:port`, path /metrics) every second.
    pub fn scraping(targets: &[String]) -> Option<Self> {
        if !Path::new(PROMETHEUS).exists() {
            eprintln!(
                "SKIPPED: install the Debian package prometheus to run the live-source tests"
            );
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let config = dir.path().join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: prometheus\n    \
                 static_configs:\n      - targets: ['127.0.0.1:{port}']\n  - job_name: opsmcp\n    \
                 static_configs:\n      - targets: [{}]\n",
                targets
                    .iter()
                    .map(|t| format!("'{t}'"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
        .unwrap();
        let child = Command::new(PROMETHEUS)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let prom = Prometheus {
            child,
            url: format!("http://127.0.0.1:{port}"),
            _dir: dir,
        };
        // Wait until `up` has a sample: readiness alone does not mean a scrape has happened.
        for _ in 0..300 {
            let body = reqwest::blocking::get(format!("{}/api/v1/query?query=up", prom.url))
                .and_then(|r| r.text())
                .unwrap_or_default();
            if body.contains("\"value\"") {
                return Some(prom);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("Prometheus never had a sample of `up`");
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
