//! HTTPS through the binary: `serve --tls-cert --tls-key` with a self-signed certificate made
//! here (rcgen), then a new certificate swapped in and SIGHUP sent: new connections get the new
//! certificate, and an `/sse` stream opened before the reload keeps working on its old
//! connection.

mod common;

use std::{
    io::{BufRead, BufReader},
    path::Path,
    process::Command,
    time::Duration,
};

use common::{Running, bin};
use reqwest::blocking::Client;

/// A self-signed certificate for localhost: (certificate PEM, key PEM).
fn certificate() -> (String, String) {
    let rcgen::CertifiedKey { cert, signing_key } =
        rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    (cert.pem(), signing_key.serialize_pem())
}

/// Replaces `path` whole (a reader never sees half a file).
fn replace(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

fn trusting(cert_pem: &str) -> Client {
    Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(cert_pem.as_bytes()).unwrap()])
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

#[test]
fn https_serves_and_a_new_certificate_is_taken_without_dropping_connections() {
    let dir = tempfile::tempdir().unwrap();
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let (old_cert, old_key) = certificate();
    replace(&cert_path, &old_cert);
    replace(&key_path, &old_key);

    // A key that is not the certificate's is refused at start, before any port is taken.
    let (_, other_key) = certificate();
    let wrong = dir.path().join("wrong.pem");
    replace(&wrong, &other_key);
    let out = Command::new(bin())
        .args(["serve", "monitoring", "--port", "0", "--tls-cert"])
        .arg(&cert_path)
        .arg("--tls-key")
        .arg(&wrong)
        .env_remove("OPSMCP_CONFIG")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("does not belong to the certificate"),
        "{stderr}"
    );

    let server = Running::start(
        &[
            "serve",
            "monitoring",
            "--port",
            "0",
            "--scenario",
            "db-connection-pool-exhaustion",
            "--tls-cert",
            cert_path.to_str().unwrap(),
            "--tls-key",
            key_path.to_str().unwrap(),
        ],
        &["monitoring"],
    );
    let base = server
        .url("monitoring")
        .replace("https://127.0.0.1", "https://localhost");
    assert!(base.starts_with("https://localhost:"), "{base}");
    let old = trusting(&old_cert);
    assert_eq!(
        old.get(format!("{base}/health")).send().unwrap().status(),
        200
    );
    // Plain HTTP on the HTTPS port gets no answer.
    assert!(
        Client::new()
            .get(base.replace("https://", "http://") + "/health")
            .timeout(Duration::from_secs(5))
            .send()
            .is_err()
    );

    // An /sse stream opened before the reload, on the old certificate.
    let stream = old.get(format!("{base}/sse")).send().unwrap();
    let mut events = BufReader::new(stream);
    let mut endpoint = String::new();
    while !endpoint.starts_with("data: ") {
        endpoint.clear();
        events.read_line(&mut endpoint).unwrap();
    }
    let post_path = endpoint.trim_start_matches("data: ").trim().to_string();

    let (new_cert, new_key) = certificate();
    replace(&key_path, &new_key);
    replace(&cert_path, &new_cert);
    let status = Command::new("kill")
        .args(["-HUP", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());

    // New connections get the new certificate (waiting for the reload, not timing it).
    let new = trusting(&new_cert);
    let mut served = false;
    for _ in 0..100 {
        if new.get(format!("{base}/health")).send().is_ok() {
            served = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(served, "the new certificate was never served");
    let fresh_old = trusting(&old_cert);
    assert!(
        fresh_old.get(format!("{base}/health")).send().is_err(),
        "a new connection must not get the old certificate"
    );

    // The stream opened before the reload still carries answers.
    let r = new
        .post(format!("{base}{post_path}"))
        .json(
            &serde_json::json!({"jsonrpc": "2.0", "id": 7, "method": "initialize", "params": {
            "protocolVersion": "2024-11-05", "capabilities": {},
            "clientInfo": {"name": "tls-test", "version": "1"}}}),
        )
        .send()
        .unwrap();
    assert_eq!(r.status(), 202);
    let mut line = String::new();
    loop {
        line.clear();
        assert!(
            events.read_line(&mut line).unwrap() > 0,
            "the old stream ended"
        );
        if line.starts_with("data: ") && line.contains("\"id\":7") {
            break;
        }
    }
}
