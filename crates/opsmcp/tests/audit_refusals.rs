//! Requests refused at the door — 401 (no or a bad token), 403 (a scope the token lacks, a
//! foreign Host), 429 (over the rate limit) — reach the audit log through the real servers,
//! tallied per caller and route rather than one entry each: a flood of bad tokens is a handful
//! of entries whose counts add up, and the chain stays intact.

mod common;

use std::{
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use common::{Running, bin, create_token, sse_session};
use reqwest::blocking::Client;
use serde_json::{Value, json};

/// `opsmcp audit ARGS…` on the server's data directory → (exit code, stdout).
fn audit(server: &Running, args: &[&str]) -> (i32, String) {
    let out = Command::new(bin())
        .arg("audit")
        .args(args)
        .env("OPSMCP_DATA_DIR", &server.data_dir)
        .env_remove("OPSMCP_CONFIG")
        .env_remove("OPSMCP_DATABASE_URL")
        .env_remove("OPSMCP_AUDIT_KEY_FILE")
        .stderr(Stdio::inherit())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
    )
}

/// The refusal entries of `audit list --json`.
fn refusals(server: &Running) -> Vec<Value> {
    let (code, out) = audit(server, &["list", "--json", "--limit", "10000"]);
    assert_eq!(code, 0, "{out}");
    out.lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|e| e["tool"] == "refused")
        .collect()
}

/// What the entries of one outcome kind count, and how many entries they are.
fn tally(entries: &[Value], kind: &str) -> (u64, usize) {
    let of_kind: Vec<&Value> = entries
        .iter()
        .filter(|e| {
            e["outcome"]
                .as_str()
                .is_some_and(|o| o.starts_with(&format!("{kind}:")))
        })
        .collect();
    let count = of_kind
        .iter()
        .map(|e| {
            let args: Value = serde_json::from_str(e["arguments"].as_str().unwrap()).unwrap();
            args["count"].as_u64().unwrap()
        })
        .sum();
    (count, of_kind.len())
}

/// A POST to `BASE/mcp` on `client` (kept-alive connections), as `common::post_mcp` sends it.
fn post(client: &Client, base: &str) -> reqwest::blocking::RequestBuilder {
    client
        .post(format!("{base}/mcp"))
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-11-25")
}

fn call(client: &Client, url: &str, bearer: &str, tool: &str) -> u16 {
    post(client, url)
        .bearer_auth(bearer)
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                      "params": {"name": tool, "arguments": {}}}))
        .send()
        .unwrap_or_else(|e| panic!("{tool}: {e}"))
        .status()
        .as_u16()
}

/// A `tools/list` with a bearer token no server knows: refused with 401.
fn bad_token(client: &Client, url: &str, token: &str) {
    let status = post(client, url)
        .bearer_auth(token)
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
        .send()
        .unwrap()
        .status();
    assert_eq!(status, 401);
}

#[test]
fn refusals_are_audited_as_tallies_and_a_flood_stays_a_handful_of_entries() {
    const FLOOD: u64 = 2000;
    let (reader, entry) = create_token("reader", "read");
    let (oncall, oncall_entry) = create_token("oncall", "read,write");
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("opsmcp.toml");
    std::fs::write(&config, format!("{entry}\n\n{oncall_entry}\n")).unwrap();
    let mut server = Running::up(&[
        "--scenario",
        "db-connection-pool-exhaustion",
        "--config",
        config.to_str().unwrap(),
        "--calls-per-minute",
        "8",
    ]);
    let monitoring = server.url("monitoring").to_string();
    let workflow = server.url("workflow").to_string();
    let client = Client::new();

    // A flood of bad tokens from four threads; every one is refused.
    let started = Instant::now();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let url = monitoring.clone();
            std::thread::spawn(move || {
                let client = Client::new();
                for i in 0..FLOOD / 4 {
                    bad_token(&client, &url, &format!("opsmcp_bad_{t}_{i}"));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    eprintln!("{FLOOD} bad-token requests in {:?}", started.elapsed());

    // 403: a read token calling a write tool, three times.
    for _ in 0..3 {
        assert_eq!(call(&client, &workflow, &reader, "create_incident"), 403);
    }
    // 403: the webhook needs 'write'.
    let status = client
        .post(format!("{workflow}/webhooks/alertmanager"))
        .bearer_auth(&reader)
        .json(&json!({}))
        .send()
        .unwrap()
        .status();
    assert_eq!(status, 403);
    // 403: posting into another caller's /sse session, twice.
    let (stream, path) = sse_session(&workflow, &reader);
    for _ in 0..2 {
        let status = client
            .post(format!("{workflow}{path}"))
            .bearer_auth(&oncall)
            .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}))
            .send()
            .unwrap()
            .status();
        assert_eq!(status, 403);
    }
    drop(stream);
    // 429: past 8 calls a minute on monitoring.
    let limited = (0..12)
        .map(|_| call(&client, &monitoring, &reader, "verify_health"))
        .filter(|s| *s == 429)
        .count() as u64;
    assert_eq!(limited, 4);
    // 403 from the guard: a foreign Host, twice.
    for _ in 0..2 {
        let status = post(&client, &monitoring)
            .header("Host", "evil.example.com")
            .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
            .send()
            .unwrap()
            .status();
        assert_eq!(status, 403);
    }

    // The window (10 s) ends while the server runs: the tallies are written without a stop.
    let deadline = Instant::now() + Duration::from_secs(30);
    while tally(&refusals(&server), "unauthorized").0 < FLOOD {
        assert!(Instant::now() < deadline, "{:#?}", refusals(&server));
        std::thread::sleep(Duration::from_millis(500));
    }

    // A few more after the window, written at shutdown.
    for i in 0..5 {
        bad_token(&client, &monitoring, &format!("late_{i}"));
    }
    server.terminate();
    assert_eq!(server.wait(), Some(0));

    let entries = refusals(&server);
    let dump = serde_json::to_string_pretty(&entries).unwrap();
    let (count, n) = tally(&entries, "unauthorized");
    assert_eq!(count, FLOOD + 5, "{dump}");
    // One key (this address, no credential, /mcp): one entry per window it spanned.
    assert!(n <= 4, "{n} entries for {count} refusals:\n{dump}");
    // create_incident, the webhook and the session are three routes: three entries.
    assert_eq!(tally(&entries, "forbidden"), (3 + 1 + 2, 3), "{dump}");
    assert_eq!(tally(&entries, "rate_limited"), (limited, 1), "{dump}");
    assert_eq!(tally(&entries, "host_or_origin"), (2, 1), "{dump}");
    assert!(entries.len() <= 10, "{dump}");

    // Who and where: the refused credential is named, never a secret; addresses for the rest.
    let forbidden = |route: &str| {
        entries
            .iter()
            .find(|e| {
                e["outcome"].as_str().unwrap().starts_with("forbidden:")
                    && e["arguments"]
                        .as_str()
                        .unwrap()
                        .contains(&format!("\"route\":\"{route}\""))
            })
            .unwrap_or_else(|| panic!("no 403 on {route}:\n{dump}"))
    };
    let scope = forbidden("/mcp");
    assert_eq!(scope["server"], "workflow");
    assert_eq!(scope["caller"], "token:reader");
    assert!(
        scope["outcome"]
            .as_str()
            .unwrap()
            .contains("create_incident")
    );
    assert_eq!(
        forbidden("/webhooks/alertmanager")["caller"],
        "token:reader"
    );
    assert_eq!(forbidden("/messages")["caller"], "token:oncall");
    let limited_entry = entries
        .iter()
        .find(|e| e["outcome"].as_str().unwrap().starts_with("rate_limited:"))
        .unwrap();
    assert_eq!(limited_entry["caller"], "token:reader");
    let unauthorized = entries
        .iter()
        .find(|e| e["outcome"].as_str().unwrap().starts_with("unauthorized:"))
        .unwrap();
    assert_eq!(unauthorized["caller"], "unauthenticated@127.0.0.1");
    assert_eq!(unauthorized["server"], "monitoring");
    let args: Value = serde_json::from_str(unauthorized["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(args["status"], 401);
    assert_eq!(args["route"], "/mcp");
    assert!(args["first"].as_str().unwrap() <= args["last"].as_str().unwrap());
    assert!(
        !dump.contains("opsmcp_bad_") && !dump.contains(&reader) && !dump.contains(&oncall),
        "{dump}"
    );

    // The same keyed chain as every other entry.
    let (code, out) = audit(&server, &["verify"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("audit log intact"), "{out}");
}

/// Refusals from more clients than the 256 keys a window holds: the first 256 addresses get an
/// entry each, the rest are counted in one overflow entry, and nothing is lost.
#[test]
fn past_256_keys_refusals_are_counted_in_one_overflow_entry() {
    const ADDRESSES: u64 = 300;
    let (_, entry) = create_token("reader", "read");
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("opsmcp.toml");
    std::fs::write(&config, format!("{entry}\n")).unwrap();
    // One window for the whole test: everything is written at shutdown.
    let mut server = Running::start(
        &[
            "serve",
            "monitoring",
            "--port",
            "0",
            "--scenario",
            "db-connection-pool-exhaustion",
            "--config",
            config.to_str().unwrap(),
            "--refusal-window-s",
            "600",
        ],
        &["monitoring"],
    );
    let monitoring = server.url("monitoring").to_string();
    // Loopback is all of 127.0.0.0/8: each client its own source address.
    for i in 0..ADDRESSES {
        let source = std::net::Ipv4Addr::new(127, 0, 1 + (i / 250) as u8, 1 + (i % 250) as u8);
        let client = Client::builder()
            .local_address(std::net::IpAddr::V4(source))
            .build()
            .unwrap();
        bad_token(&client, &monitoring, "not-a-token");
    }
    assert!(
        refusals(&server).is_empty(),
        "written before the window ended"
    );
    server.terminate();
    assert_eq!(server.wait(), Some(0));

    let entries = refusals(&server);
    let dump = serde_json::to_string_pretty(&entries).unwrap();
    assert_eq!(tally(&entries, "unauthorized"), (ADDRESSES, 257), "{dump}");
    let overflow: Vec<&Value> = entries.iter().filter(|e| e["caller"] == "others").collect();
    assert_eq!(overflow.len(), 1, "{dump}");
    let args: Value = serde_json::from_str(overflow[0]["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(args["count"], ADDRESSES - 256);
    assert_eq!(args["overflow"], true);
    assert_eq!(args["route"], "*");
    let (code, out) = audit(&server, &["verify"]);
    assert_eq!(code, 0, "{out}");
}
