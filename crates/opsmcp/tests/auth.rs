//! Authentication and authorization end to end: `opsmcp up` with API tokens made by
//! `opsmcp token create` and an OAuth issuer — a local HTTP server serving the JWKS of a real
//! Ed25519 key, whose JWTs the test signs — called over real HTTP. Also the refusals around
//! them: rate limits (429), tool switches, and a non-loopback bind without auth.

mod common;

use std::{
    process::{Command, Stdio},
    time::{SystemTime, UNIX_EPOCH},
};

use aws_lc_rs::{
    rand::SystemRandom,
    signature::{Ed25519KeyPair, KeyPair},
};
use base64::Engine;
use common::{Running, bin, create_token, sse_session};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::blocking::{Client, Response};
use serde_json::{Value, json};

/// A signing key and the JWKS that publishes it.
struct Key {
    pkcs8: Vec<u8>,
    jwk: Value,
}

fn key(kid: &str) -> Key {
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
    let x = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(pair.public_key().as_ref());
    Key {
        pkcs8: pkcs8.as_ref().to_vec(),
        jwk: json!({"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "alg": "EdDSA", "use": "sig"}),
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn jwt(key: &Key, kid: &str, claims: Value) -> String {
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(kid.to_string());
    jsonwebtoken::encode(&header, &claims, &EncodingKey::from_ed_der(&key.pkcs8)).unwrap()
}

/// The issuer: serves `jwks` at /jwks.json on a loopback port, on its own thread.
fn issuer(jwks: Value) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let app = axum::Router::new().route(
                "/jwks.json",
                axum::routing::get(move || {
                    let jwks = jwks.clone();
                    async move { axum::Json(jwks) }
                }),
            );
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    url
}

fn rpc(url: &str, bearer: Option<&str>, body: Value) -> Response {
    let mut request = common::post_mcp(url).json(&body);
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    request.send().unwrap()
}

fn call(url: &str, bearer: Option<&str>, tool: &str, arguments: Value) -> Response {
    rpc(
        url,
        bearer,
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
               "params": {"name": tool, "arguments": arguments}}),
    )
}

fn header(r: &Response, name: &str) -> String {
    r.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

#[test]
fn tokens_and_jwts_are_checked_scopes_enforced_and_callers_recorded() {
    let (reader, reader_entry) = create_token("reader", "read");
    let (oncall, oncall_entry) = create_token("oncall", "read,write");
    let signing = key("k1");
    let impostor = key("k1");
    let issuer = issuer(json!({"keys": [signing.jwk]}));
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("opsmcp.toml");
    std::fs::write(
        &config,
        format!(
            "{reader_entry}\n\n{oncall_entry}\n\n[auth.oauth]\nissuer = \"{issuer}\"\n\
             jwks_url = \"{issuer}/jwks.json\"\n"
        ),
    )
    .unwrap();
    let server = Running::up(&[
        "--scenario",
        "db-connection-pool-exhaustion",
        "--config",
        config.to_str().unwrap(),
    ]);
    let monitoring = server.url("monitoring").to_string();
    let workflow = server.url("workflow").to_string();

    // No token: 401 pointing at the protected-resource metadata, which names the issuer.
    let r = call(&monitoring, None, "get_system_metrics", json!({}));
    assert_eq!(r.status(), 401);
    let challenge = header(&r, "www-authenticate");
    let metadata_url = format!("{monitoring}/.well-known/oauth-protected-resource");
    assert_eq!(
        challenge,
        format!("Bearer resource_metadata=\"{metadata_url}\"")
    );
    assert!(r.text().unwrap().contains("Authorization: Bearer"));
    let metadata: Value = reqwest::blocking::get(&metadata_url)
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(metadata["resource"], format!("{monitoring}/mcp"));
    assert_eq!(metadata["authorization_servers"], json!([issuer]));
    assert!(
        metadata["scopes_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("remediate"))
    );

    // A token that is not ours.
    let r = call(
        &monitoring,
        Some("opsmcp_0000"),
        "get_system_metrics",
        json!({}),
    );
    assert_eq!(r.status(), 401);
    assert!(header(&r, "www-authenticate").contains("error=\"invalid_token\""));

    // The reader may read, and list execute_remediation, but not call it.
    let r = call(&monitoring, Some(&reader), "get_system_metrics", json!({}));
    assert_eq!(r.status(), 200);
    assert!(r.text().unwrap().contains("services"));
    let listed = rpc(
        &workflow,
        Some(&reader),
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
    )
    .text()
    .unwrap();
    assert!(listed.contains("\"execute_remediation\""), "{listed}");
    let r = call(
        &workflow,
        Some(&reader),
        "execute_remediation",
        json!({"action": "increase-pool-size", "target": "orders-db"}),
    );
    assert_eq!(r.status(), 403);
    assert!(
        header(&r, "www-authenticate")
            .starts_with("Bearer error=\"insufficient_scope\", scope=\"remediate\"")
    );
    let body = r.text().unwrap();
    assert!(body.contains("'remediate' scope"), "{body}");
    // … nor write.
    let incident =
        json!({"title": "orders API errors", "severity": "high", "services": ["orders-api"]});
    assert_eq!(
        call(
            &workflow,
            Some(&reader),
            "create_incident",
            incident.clone()
        )
        .status(),
        403
    );

    // oncall (read, write) opens an incident; the timeline names it.
    let r = call(&workflow, Some(&oncall), "create_incident", incident);
    assert_eq!(r.status(), 200);
    let created = r.text().unwrap();
    assert!(created.contains("INC-0001"), "{created}");
    let shown = call(
        &workflow,
        Some(&oncall),
        "get_incident",
        json!({"incident_id": "INC-0001"}),
    )
    .text()
    .unwrap();
    assert!(shown.contains("token:oncall"), "{shown}");

    // An OAuth access token for this server, with our scopes in `scope`.
    let claims = |aud: &str, exp: u64, scope: &str| json!({"iss": issuer, "sub": "alice", "aud": aud, "exp": exp, "iat": now(), "scope": scope});
    let alice = jwt(
        &signing,
        "k1",
        claims(&format!("{workflow}/mcp"), now() + 300, "read write"),
    );
    let r = common::post_mcp(&workflow)
        .header("x-request-id", "alice-req-1")
        .bearer_auth(&alice)
        .json(
            &json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {
            "name": "update_incident",
            "arguments": {"incident_id": "INC-0001", "status": "acknowledged"}}}),
        )
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "x-request-id"), "alice-req-1");
    assert!(!r.text().unwrap().contains("\"isError\":true"));
    // … but not remediate.
    assert_eq!(
        call(
            &workflow,
            Some(&alice),
            "execute_remediation",
            json!({"action": "increase-pool-size", "target": "orders-db"})
        )
        .status(),
        403
    );

    // Expired, signed by another key, for another audience, or not asymmetric: all 401.
    let refused = |token: &str, why: &str| {
        let r = call(&workflow, Some(token), "list_incidents", json!({}));
        assert_eq!(r.status(), 401, "{why}");
        let challenge = header(&r, "www-authenticate");
        assert!(challenge.contains("invalid_token"), "{why}: {challenge}");
        challenge
    };
    let expired = jwt(
        &signing,
        "k1",
        claims(&format!("{workflow}/mcp"), now() - 600, "read"),
    );
    assert!(refused(&expired, "expired").contains("expired"));
    let forged = jwt(
        &impostor,
        "k1",
        claims(&format!("{workflow}/mcp"), now() + 300, "admin"),
    );
    assert!(refused(&forged, "forged").contains("signature"));
    let elsewhere = jwt(
        &signing,
        "k1",
        claims("https://other.example.com/mcp", now() + 300, "admin"),
    );
    assert!(refused(&elsewhere, "audience").contains("audience"));
    let hmac = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims(&format!("{workflow}/mcp"), now() + 300, "admin"),
        &EncodingKey::from_secret(b"guessable"),
    )
    .unwrap();
    refused(&hmac, "HS256");

    // The Alertmanager webhook needs a token with `write`.
    let alert = json!({"version": "4", "groupKey": "{}:{alertname=\"X\"}", "status": "firing",
        "receiver": "opsmcp", "groupLabels": {"alertname": "X"}, "commonLabels": {},
        "commonAnnotations": {}, "externalURL": "http://am", "alerts": [{"status": "firing",
        "labels": {"alertname": "X", "service": "orders-db"}, "annotations": {},
        "startsAt": "2026-11-26T10:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "", "fingerprint": "abc"}]});
    let webhook = |token: Option<&str>| {
        let mut r = Client::new()
            .post(format!("{workflow}/webhooks/alertmanager"))
            .json(&alert);
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r.send().unwrap()
    };
    assert_eq!(webhook(None).status(), 401);
    assert_eq!(webhook(Some(&reader)).status(), 403);
    let r = webhook(Some(&oncall));
    assert_eq!(r.status(), 200, "{}", r.text().unwrap());

    // /sse: the token is needed to open a session, and only its opener may post to it.
    let no_token = Client::new()
        .get(format!("{monitoring}/sse"))
        .send()
        .unwrap();
    assert_eq!(no_token.status(), 401);
    let (stream, path) = sse_session(&monitoring, &reader);
    let ping = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"});
    let post = |token: &str| {
        Client::new()
            .post(format!("{monitoring}{path}"))
            .bearer_auth(token)
            .json(&ping)
            .send()
            .unwrap()
            .status()
    };
    assert_eq!(post(&oncall), 403, "another caller posted into the session");
    assert_eq!(post(&reader), 202);
    drop(stream);

    // The audit log names each caller, with the request id alice's client sent.
    let out = Command::new(bin())
        .args(["audit", "list", "--json"])
        .env("OPSMCP_DATA_DIR", &server.data_dir)
        .env_remove("OPSMCP_CONFIG")
        .stderr(Stdio::inherit())
        .output()
        .unwrap();
    let audit = String::from_utf8(out.stdout).unwrap();
    let entries: Vec<Value> = audit
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let by = |caller: &str, tool: &str| {
        entries
            .iter()
            .find(|e| e["caller"] == caller && e["tool"] == tool)
            .unwrap_or_else(|| panic!("no {tool} by {caller} in\n{audit}"))
    };
    by("token:reader", "get_system_metrics");
    by("token:oncall", "create_incident");
    assert_eq!(
        by("oauth:alice", "update_incident")["request_id"],
        "alice-req-1"
    );
    // Refused calls never reached a tool, so they are not tool calls in the log.
    assert!(
        !entries.iter().any(|e| e["tool"] == "execute_remediation"),
        "{audit}"
    );
}

#[test]
fn past_the_rate_limit_calls_get_429_with_retry_after() {
    let server = Running::start(
        &[
            "serve",
            "monitoring",
            "--port",
            "0",
            "--scenario",
            "db-connection-pool-exhaustion",
            "--calls-per-minute",
            "5",
        ],
        &["monitoring"],
    );
    let url = server.url("monitoring");
    // Under the limit, nothing is refused.
    for i in 0..5 {
        let r = call(url, None, "verify_health", json!({}));
        assert_eq!(r.status(), 200, "call {i}");
    }
    let r = call(url, None, "verify_health", json!({}));
    assert_eq!(r.status(), 429);
    let retry: u64 = header(&r, "retry-after").parse().unwrap();
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    assert!(r.text().unwrap().contains("retry after"));
}

#[test]
fn switched_off_tools_are_not_listed_nor_callable() {
    let list = |url: &str| -> Vec<String> {
        let body: Value = rpc(
            url,
            None,
            json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}),
        )
        .json()
        .unwrap();
        let mut names: Vec<String> = body["result"]["tools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_string())
            .collect();
        names.sort();
        names
    };
    let server = Running::start(
        &[
            "serve",
            "workflow",
            "--port",
            "0",
            "--disabled-tools",
            "execute_remediation,notify_team",
        ],
        &["workflow"],
    );
    let url = server.url("workflow");
    let names = list(url);
    assert!(names.contains(&"create_incident".to_string()), "{names:?}");
    assert!(!names.contains(&"execute_remediation".to_string()));
    assert!(!names.contains(&"notify_team".to_string()));
    let answer = call(
        url,
        None,
        "execute_remediation",
        json!({"action": "restart", "target": "x"}),
    )
    .text()
    .unwrap();
    assert!(answer.contains("\"error\""), "{answer}");
    drop(server);

    let server = Running::start(
        &["serve", "workflow", "--port", "0", "--read-only"],
        &["workflow"],
    );
    assert_eq!(
        list(server.url("workflow")),
        ["await_approval", "get_incident", "list_incidents"]
    );
    drop(server);

    // A typo is an error naming the tools, not a silently empty switch.
    let out = Command::new(bin())
        .args([
            "serve",
            "workflow",
            "--port",
            "0",
            "--disabled-tools",
            "execute_remedation",
        ])
        .env_remove("OPSMCP_CONFIG")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("unknown tool(s)") && stderr.contains("execute_remediation"),
        "{stderr}"
    );
}

#[test]
fn a_non_loopback_bind_without_auth_refuses_to_start_unless_told() {
    let data = tempfile::tempdir().unwrap();
    let out = Command::new(bin())
        .args(["serve", "monitoring", "--port", "0", "--bind", "0.0.0.0"])
        .env_remove("OPSMCP_CONFIG")
        .env("OPSMCP_DATA_DIR", data.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("refusing to serve on 0.0.0.0 without authentication")
            && stderr.contains("--insecure-no-auth"),
        "{stderr}"
    );
    let server = Running::start(
        &[
            "serve",
            "monitoring",
            "--port",
            "0",
            "--bind",
            "0.0.0.0",
            "--insecure-no-auth",
        ],
        &["monitoring"],
    );
    assert!(server.url("monitoring").starts_with("http://0.0.0.0:"));
}

#[test]
fn the_agent_reaches_servers_with_auth_through_opsmcp_token() {
    let (token, entry) = create_token("agent", "admin");
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("opsmcp.toml");
    std::fs::write(&config, entry).unwrap();
    let server = Running::up(&[
        "--scenario",
        "disk-full-log-volume",
        "--config",
        config.to_str().unwrap(),
    ]);
    let port = |name: &str| server.url(name).rsplit(':').next().unwrap().to_string();
    let agent = |token: Option<&str>| {
        let mut cmd = Command::new(bin());
        cmd.args([
            "agent",
            "Users report errors; look into it",
            "--max-turns",
            "2",
        ])
        .env_remove("OPSMCP_CONFIG")
        .env_remove("OPSMCP_TOKEN")
        .env("OPSMCP_MONITORING_PORT", port("monitoring"))
        .env("OPSMCP_WORKFLOW_PORT", port("workflow"))
        .env("OPSMCP_LOG_ANALYTICS_PORT", port("log-analytics"))
        .env("OPSMCP_DATA_DIR", dir.path());
        if let Some(t) = token {
            cmd.env("OPSMCP_TOKEN", t);
        }
        cmd.output().unwrap()
    };
    let refused = agent(None);
    assert_ne!(refused.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("set OPSMCP_TOKEN"), "{stderr}");
    let out = agent(Some(&token));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let context = format!("{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{context}");
    assert!(stdout.contains("→ monitoring/"), "{context}");
    // Only the steps: the transcript path carries the pid, which may hold "401" itself.
    let refused_step = stdout
        .lines()
        .filter(|l| l.starts_with('['))
        .any(|l| l.contains("401") || l.contains("Unauthorized") || l.contains("Auth required"));
    assert!(!refused_step, "{context}");
}
