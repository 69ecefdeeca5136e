//! Fuzzing the edge: generated hostile bodies sent over real HTTP to a real `opsmcp up`
//! (simulated incident, free loopback ports) on `POST /mcp` and on `POST /messages` of a real
//! `GET /sse` session: malformed JSON-RPC with every field missing or of the wrong type, any
//! JSON, random bytes, invalid UTF-8, cut-off messages, batches, unknown methods, deep nesting,
//! huge strings and arrays up to and past the body limit, sent with `Content-Length` or
//! chunked, with right and wrong headers.
//!
//! Properties, checked for every generated case:
//! - every request gets a complete answer: a proper HTTP error status (400, 404, 406, 413, 415,
//!   422) with a body, or 200/202 whose body (on `/mcp`) is a JSON-RPC response — an object or
//!   an array of them, each a `result` with an id or an `error` with an integer `code` and a
//!   `message`;
//! - a body is refused with 413 exactly when it is larger than the limit;
//! - the server stays healthy: `/health` answers 200 after every case; an `/sse` session
//!   survives every message, and every request it accepted is answered on the stream;
//! - `tools/call` with an argument of the wrong type (or an unknown argument), for every real
//!   tool of the three servers, is an error, never a result; with hostile values of the right
//!   types it is a result or a tool error that says something;
//! - at the end the process is alive and nothing on its stderr says "panicked".
//!
//! 64 cases per property by default (`PROPTEST_CASES` overrides; `PROPTEST_RNG_SEED` replays);
//! a failing case is shrunk and printed. The extremes (10 000 levels of nesting, a body of
//! exactly the limit and one byte more, invalid UTF-8) run every time in
//! `the_extremes_are_answered`. Two server bugs found here (a chunked body past the limit got 500
//! on `/mcp`; `/messages` stopped at axum's 2 MiB) are fixed and keep tests of their own.

mod common;

use std::{
    collections::{BTreeSet, HashSet},
    io::{BufRead, BufReader, Read, Write},
    net::TcpStream,
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex, mpsc},
    time::Duration,
};

use proptest::{
    prelude::*,
    test_runner::{Config, TestCaseError, TestRunner},
};
use reqwest::blocking::Client;
use serde_json::{Map, Value, json};

/// The body limit the servers are started with (the default, passed explicitly so the test does
/// not depend on the default).
const LIMIT: usize = 4 * 1024 * 1024;
/// A scenario keeps every answer independent of this machine.
const SCENARIO: &str = "db-connection-pool-exhaustion";
const SERVERS: [&str; 3] = ["monitoring", "workflow", "log-analytics"];
/// Hang guard for one HTTP exchange or one awaited SSE answer; not a performance bound.
const PATIENCE: Duration = Duration::from_secs(60);

// ---------------------------------------------------------------------------------------------
// The server under test

/// `opsmcp up` with its stderr kept, so a panic message cannot go unseen.
struct Server {
    child: Child,
    urls: Vec<(String, String)>,
    stderr: Arc<Mutex<String>>,
    _data: tempfile::TempDir,
}

impl Server {
    fn up() -> Self {
        Self::up_with(&[])
    }

    /// `opsmcp up` with `extra` flags.
    fn up_with(extra: &[&str]) -> Self {
        let data = tempfile::tempdir().expect("temp data dir");
        let limit = LIMIT.to_string();
        let mut child = Command::new(common::bin())
            .args([
                "up",
                "--scenario",
                SCENARIO,
                "--monitoring-port",
                "0",
                "--workflow-port",
                "0",
                "--log-analytics-port",
                "0",
                "--max-body-bytes",
                &limit,
                // A generated call that happens to run a remediation watches health this long.
                "--verify-timeout-s",
                "5",
            ])
            .args(extra)
            .env_remove("OPSMCP_CONFIG")
            .env("OPSMCP_LOG", "warn")
            .env("OPSMCP_DATA_DIR", data.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("opsmcp starts");
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = stderr.clone();
        let err = child.stderr.take().expect("stderr piped");
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                if let Ok(mut s) = sink.lock() {
                    s.push_str(&line);
                    s.push('\n');
                }
            }
        });
        let (tx, rx) = mpsc::channel();
        let out = child.stdout.take().expect("stdout piped");
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        let mut urls = Vec::new();
        while urls.len() < SERVERS.len() {
            let line = rx
                .recv_timeout(Duration::from_secs(30))
                .unwrap_or_else(|_| panic!("opsmcp did not start: {}", stderr.lock().unwrap()));
            // "opsmcp: NAME listening on http://ADDR (/mcp, /sse, /health)"
            if let Some((name, tail)) = line
                .strip_prefix("opsmcp: ")
                .and_then(|rest| rest.split_once(" listening on "))
            {
                let url = tail.split_whitespace().next().unwrap_or_default();
                urls.push((name.to_string(), url.to_string()));
            }
        }
        Server {
            child,
            urls,
            stderr,
            _data: data,
        }
    }

    fn url(&self, server: &str) -> &str {
        &self
            .urls
            .iter()
            .find(|(name, _)| name == server)
            .expect("server listed")
            .1
    }

    fn healthy(&self, http: &Client, server: &str) -> Result<(), TestCaseError> {
        let health = http
            .get(format!("{}/health", self.url(server)))
            .send()
            .map_err(|e| fail(format!("{server} /health did not answer: {e}")))?;
        prop_assert_eq!(
            health.status().as_u16(),
            200,
            "{} /health after the case",
            server
        );
        Ok(())
    }

    /// The end of every test: the process is alive and never panicked.
    fn finish(mut self) {
        let alive = self.child.try_wait().expect("try_wait").is_none();
        let stderr = self.stderr.lock().unwrap().clone();
        assert!(alive, "opsmcp exited during the test; stderr:\n{stderr}");
        assert!(
            !stderr.contains("panicked"),
            "opsmcp panicked; stderr:\n{stderr}"
        );
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn http() -> Client {
    Client::builder()
        .timeout(PATIENCE)
        .build()
        .expect("HTTP client")
}

fn runner() -> TestRunner {
    let mut config = Config {
        // Each case is a few HTTP exchanges; a failing one is printed, shrunk within bounds.
        failure_persistence: None,
        max_shrink_iters: 256,
        ..Config::default()
    };
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = 64;
    }
    TestRunner::new(config)
}

fn fail(message: impl Into<String>) -> TestCaseError {
    TestCaseError::fail(message.into())
}

/// Runs `runner` and turns a failure into a panic naming the minimal case.
fn check<S: Strategy>(
    name: &str,
    strategy: &S,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) where
    S::Value: std::fmt::Debug,
{
    if let Err(e) = runner().run(strategy, test) {
        panic!("{name}: {e}");
    }
}

// ---------------------------------------------------------------------------------------------
// What an answer must look like

/// One JSON-RPC message from the server: a response (`result`) or an error with an integer
/// code and a message; on a stream, a server notification is allowed too.
fn check_server_message(m: &Value, allow_notification: bool) -> Result<(), String> {
    let o = m.as_object().ok_or_else(|| format!("not an object: {m}"))?;
    if o.get("jsonrpc") != Some(&json!("2.0")) {
        return Err(format!("jsonrpc is not \"2.0\": {m}"));
    }
    if allow_notification && o.get("method").is_some_and(Value::is_string) && !o.contains_key("id")
    {
        return Ok(());
    }
    match (o.get("result"), o.get("error")) {
        (Some(_), None)
            if o.get("id")
                .is_some_and(|id| id.is_string() || id.is_i64() || id.is_u64()) =>
        {
            Ok(())
        }
        (None, Some(e)) => {
            let code_ok = e.get("code").is_some_and(|c| c.is_i64());
            let message_ok = e.get("message").is_some_and(Value::is_string);
            if code_ok && message_ok && o.contains_key("id") {
                Ok(())
            } else {
                Err(format!(
                    "error without an integer code, a message or an id: {m}"
                ))
            }
        }
        _ => Err(format!("neither a result with an id nor an error: {m}")),
    }
}

/// The body of a 200 from `/mcp`: JSON, or an SSE stream of JSON-RPC messages.
fn check_mcp_200(content_type: &str, body: &[u8]) -> Result<(), String> {
    let text = std::str::from_utf8(body).map_err(|e| format!("body is not UTF-8: {e}"))?;
    if content_type.starts_with("text/event-stream") {
        let mut seen = 0;
        for data in text.lines().filter_map(|l| l.strip_prefix("data:")) {
            let data = data.trim();
            if data.is_empty() {
                continue;
            }
            let v: Value =
                serde_json::from_str(data).map_err(|e| format!("SSE data is not JSON ({e})"))?;
            check_server_message(&v, true)?;
            seen += 1;
        }
        return if seen > 0 {
            Ok(())
        } else {
            Err("an SSE answer with no message".into())
        };
    }
    let v: Value = serde_json::from_str(text).map_err(|e| format!("body is not JSON ({e})"))?;
    match &v {
        Value::Array(items) if !items.is_empty() => items
            .iter()
            .try_for_each(|m| check_server_message(m, false)),
        _ => check_server_message(&v, false),
    }
}

const ERROR_STATUSES: [u16; 6] = [400, 404, 406, 413, 415, 422];

// ---------------------------------------------------------------------------------------------
// Generators

/// Methods the servers know, and a few they do not.
const METHODS: &[&str] = &[
    "initialize",
    "ping",
    "tools/list",
    "tools/call",
    "server/discover",
    "resources/list",
    "resources/read",
    "prompts/list",
    "prompts/get",
    "completion/complete",
    "logging/setLevel",
    "notifications/initialized",
    "notifications/progress",
    "nope/nothing",
    "",
];

/// Tool names of the three servers (and one that does not exist), for `tools/call` params.
const TOOL_NAMES: &[&str] = &[
    "get_system_metrics",
    "verify_health",
    "analyze_logs",
    "root_cause_analysis",
    "create_incident",
    "get_incident",
    "list_incidents",
    "update_incident",
    "execute_remediation",
    "await_approval",
    "document_resolution",
    "notify_team",
    "get_raw_logs",
    "execute_analysis_script",
    "no_such_tool",
];

/// Any JSON value, of any type, nested a few levels, with odd numbers and strings.
fn any_json() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("JSON has no NaN or infinity", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,24}".prop_map(Value::from),
        Just(json!("\u{0}\u{1b}[31m\u{202e}\u{fffd}")),
        (0usize..100_000).prop_map(|n| Value::from("x".repeat(n))),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(".{0,10}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
    .boxed()
}

/// What becomes of one field of a well-formed message: kept (most of the time, so that a good
/// share of messages gets past parsing into the handlers), removed, or replaced by anything.
fn mutation() -> BoxedStrategy<Option<Option<Value>>> {
    prop_oneof![
        8 => Just(None),
        1 => Just(Some(None)),
        2 => any_json().prop_map(|v| Some(Some(v))),
    ]
    .boxed()
}

/// Every argument name of the fourteen tools.
const ARGUMENT_NAMES: &[&str] = &[
    "incident_id",
    "timeframe",
    "service_filter",
    "query",
    "level",
    "limit",
    "cursor",
    "format",
    "sections",
    "metrics",
    "service",
    "symptoms",
    "title",
    "severity",
    "description",
    "services",
    "dedup_key",
    "action",
    "target",
    "parameters",
    "dry_run",
    "idempotency_key",
    "wait_s",
    "heals",
    "ask_approval",
    "root_cause",
    "resolution",
    "impact",
    "evidence",
    "action_items",
    "status",
    "assignee",
    "note",
    "channel",
    "message",
    "script_path",
    "log_data_path",
    "code",
];

/// Strings a careless or hostile caller puts in arguments: ids that do not exist, paths out of
/// the workspace, odd time windows, regexes, injections, control characters.
const HOSTILE_STRINGS: &[&str] = &[
    "",
    " ",
    "INC-0001",
    "INC-0000",
    "INC-99999999999999999999",
    "inc-1",
    "../../../etc/passwd",
    "/etc/shadow",
    "INC-0001/../../x.py",
    "x.py",
    "adhoc/logs-1.json",
    "/dev/zero",
    "15m",
    "0m",
    "-5m",
    "last 99999999999 years",
    "2026-01-01T00:00:00Z/2025-01-01T00:00:00Z",
    "/(a+)+$/",
    "/[/",
    "*",
    "orders-db,*,,",
    "%s%n%x",
    "\0",
    "SEV0",
    "SEV1",
    "critical",
    "checkout-api",
    "orders-db",
    "host",
    "csv",
    "error",
    "resolved",
    "restart@nope",
    "nope@orders-db",
    "Robert'); DROP TABLE incidents;--",
    "{{7*7}}",
    "${jndi:ldap://x/a}",
    "\u{202e}evil",
    "line\nbreak\r\n",
    "\u{0}\u{1}\u{7f}",
    "file",
    "oncall",
];

/// A value for a real argument name: a hostile string mostly, or anything.
fn argument_value() -> BoxedStrategy<Value> {
    prop_oneof![
        4 => prop::sample::select(HOSTILE_STRINGS).prop_map(Value::from),
        1 => prop::collection::vec(prop::sample::select(HOSTILE_STRINGS), 0..4)
            .prop_map(|v| json!(v)),
        1 => ".{0,40}".prop_map(Value::from),
        2 => any_json(),
    ]
    .boxed()
}

/// Arguments named as the tools name them, with values of any type.
fn arguments() -> BoxedStrategy<Value> {
    prop::collection::btree_map(prop::sample::select(ARGUMENT_NAMES), argument_value(), 0..4)
        .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect()))
        .boxed()
}

/// `tools/call` params: a real or unknown tool name (or not a string), and arguments of any
/// shape.
fn tool_call_params() -> BoxedStrategy<Value> {
    let name = prop::sample::select(TOOL_NAMES).prop_map(Value::from);
    (name, mutation(), arguments(), mutation())
        .prop_map(|(name, name_change, arguments, arguments_change)| {
            let mut p = Map::new();
            for (k, v) in [
                ("name", name_change.unwrap_or(Some(name))),
                ("arguments", arguments_change.unwrap_or(Some(arguments))),
            ] {
                if let Some(v) = v {
                    p.insert(k.into(), v);
                }
            }
            Value::Object(p)
        })
        .boxed()
}

/// A method with params that fit it.
fn method_and_params() -> BoxedStrategy<(Value, Option<Value>)> {
    let initialize = json!({"protocolVersion": "2025-11-25", "capabilities": {},
                            "clientInfo": {"name": "fuzz", "version": "0"}});
    prop_oneof![
        4 => tool_call_params().prop_map(|p| (json!("tools/call"), Some(p))),
        1 => Just((json!("initialize"), Some(initialize))),
        1 => Just((json!("prompts/get"), Some(json!({"name": "log-analytics", "arguments": {}})))),
        2 => (prop::sample::select(METHODS), any::<bool>())
            .prop_map(|(m, with)| (json!(m), with.then(|| json!({})))),
        1 => ".{0,20}".prop_map(|m| (json!(m), None)),
    ]
    .boxed()
}

/// A JSON-RPC message in which every field may be missing or of the wrong type.
fn message() -> BoxedStrategy<Value> {
    let id = prop_oneof![
        any::<i32>().prop_map(Value::from),
        "[a-z0-9-]{1,12}".prop_map(Value::from),
    ];
    (
        method_and_params(),
        id,
        [mutation(), mutation(), mutation(), mutation()],
    )
        .prop_map(|((method, params), id, changes)| {
            let mut m = Map::new();
            let good = [
                ("jsonrpc", Some(json!("2.0"))),
                ("id", Some(id)),
                ("method", Some(method)),
                ("params", params),
            ];
            for ((k, v), change) in good.into_iter().zip(changes) {
                if let Some(v) = change.unwrap_or(v) {
                    m.insert(k.into(), v);
                }
            }
            Value::Object(m)
        })
        .boxed()
}

/// `depth` levels of `[` or `{"a":` around a value, closed or left open.
fn nested(depth: usize, objects: bool, closed: bool) -> Vec<u8> {
    let (open, close) = if objects {
        (&b"{\"a\":"[..], &b"}"[..])
    } else {
        (&b"["[..], &b"]"[..])
    };
    let mut v = Vec::with_capacity(depth * (open.len() + close.len()) + 1);
    for _ in 0..depth {
        v.extend_from_slice(open);
    }
    v.push(b'1');
    if closed {
        for _ in 0..depth {
            v.extend_from_slice(close);
        }
    }
    v
}

/// A ping whose params carry `payload` (raw JSON), padded so the whole body is `len` bytes when
/// `len` allows.
fn wrapped(payload: &[u8], len: Option<usize>) -> Vec<u8> {
    let head = br#"{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":""#;
    let mid = br#"","x":"#;
    let tail = b"}}";
    let fixed = head.len() + mid.len() + payload.len() + tail.len();
    let pad = len.map_or(0, |l| l.saturating_sub(fixed));
    let mut v = Vec::with_capacity(fixed + pad);
    v.extend_from_slice(head);
    v.resize(v.len() + pad, b'p');
    v.extend_from_slice(mid);
    v.extend_from_slice(payload);
    v.extend_from_slice(tail);
    v
}

/// Body sizes around the limit, and below it.
fn huge_len() -> BoxedStrategy<usize> {
    prop_oneof![
        Just(LIMIT - 1),
        Just(LIMIT),
        Just(LIMIT + 1),
        Just(LIMIT + 64 * 1024),
        (LIMIT / 2)..(LIMIT + LIMIT / 4),
    ]
    .boxed()
}

/// Hostile bodies, as bytes.
fn body() -> BoxedStrategy<Vec<u8>> {
    let to_bytes = |v: &Value| serde_json::to_vec(v).expect("serializable");
    prop_oneof![
        // Malformed JSON-RPC: every field missing or of the wrong type.
        10 => message().prop_map(move |m| to_bytes(&m)),
        // Batches, empty ones included.
        1 => prop::collection::vec(message(), 0..5).prop_map(move |b| to_bytes(&Value::Array(b))),
        // Any JSON at all.
        1 => any_json().prop_map(move |v| to_bytes(&v)),
        // Random bytes: mostly not JSON, often not UTF-8.
        1 => prop::collection::vec(any::<u8>(), 0..512),
        // Invalid UTF-8 spliced into a message.
        1 => (message(), any::<prop::sample::Index>(), prop::sample::select(vec![
                vec![0xff], vec![0xc3], vec![0xed, 0xa0, 0x80], vec![0xf8, 0x88, 0x80, 0x80, 0x80],
                vec![0xc0, 0xaf],
            ]))
            .prop_map(move |(m, at, bad)| {
                let mut b = to_bytes(&m);
                let i = at.index(b.len() + 1);
                b.splice(i..i, bad);
                b
            }),
        // A message cut short.
        1 => (message(), any::<prop::sample::Index>()).prop_map(move |(m, at)| {
            let mut b = to_bytes(&m);
            b.truncate(at.index(b.len()));
            b
        }),
        // Deep nesting, alone or as a parameter, closed or not.
        1 => (1usize..=20_000, any::<bool>(), any::<bool>(), any::<bool>()).prop_map(
            |(depth, objects, closed, alone)| {
                let n = nested(depth, objects, closed);
                if alone { n } else { wrapped(&n, None) }
            }
        ),
        // Huge strings, up to and past the limit.
        1 => huge_len().prop_map(|len| wrapped(b"\"s\"", Some(len))),
        // Huge arrays of small numbers.
        1 => (1usize..(LIMIT / 2 + 16 * 1024)).prop_map(|n| {
            let mut arr = Vec::with_capacity(2 * n + 1);
            arr.push(b'[');
            for i in 0..n {
                if i > 0 {
                    arr.push(b',');
                }
                arr.push(b'0' + (i % 10) as u8);
            }
            arr.push(b']');
            wrapped(&arr, None)
        }),
    ]
    .boxed()
}

/// How a body is sent: with `Content-Length` or chunked (no length up front).
#[derive(Debug, Clone, Copy)]
enum Framing {
    Length,
    Chunked,
}

/// What came back for one raw POST.
#[derive(Debug)]
struct Answer {
    status: u16,
    content_type: String,
    body: Vec<u8>,
}

/// POSTs `body` to `url` + `path` over a TCP connection of its own, with exactly the given
/// headers and framing, and reads the whole answer.
///
/// Not reqwest: a server may answer early (413, 406, 415) without reading a body the client is
/// still sending, and close; reqwest then reports the write failure and drops the answer it had
/// already received. Here a writer thread sends while this thread reads, a failed write is
/// ignored, and the answer counts if it arrived complete.
fn raw_post(
    url: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    framing: Framing,
) -> Result<Answer, String> {
    let addr = url.strip_prefix("http://").ok_or("an http:// URL")?;
    let stream = TcpStream::connect(addr).map_err(|e| format!("connect {addr}: {e}"))?;
    stream
        .set_read_timeout(Some(PATIENCE))
        .map_err(|e| e.to_string())?;
    let mut head = format!("POST {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    match framing {
        Framing::Length => head.push_str(&format!("content-length: {}\r\n\r\n", body.len())),
        Framing::Chunked => head.push_str("transfer-encoding: chunked\r\n\r\n"),
    }
    let mut wire = head.into_bytes();
    match framing {
        Framing::Length => wire.extend_from_slice(body),
        Framing::Chunked => {
            for chunk in body.chunks(64 * 1024) {
                wire.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                wire.extend_from_slice(chunk);
                wire.extend_from_slice(b"\r\n");
            }
            wire.extend_from_slice(b"0\r\n\r\n");
        }
    }
    let mut writer = stream.try_clone().map_err(|e| e.to_string())?;
    let sender = std::thread::spawn(move || {
        // An early answer may close the connection under us; that is the server's right.
        let _ = writer.write_all(&wire);
    });
    let mut received = Vec::new();
    let mut reader = &stream;
    let mut buf = [0u8; 64 * 1024];
    let read_error = loop {
        match reader.read(&mut buf) {
            Ok(0) => break None,
            Ok(n) => received.extend_from_slice(&buf[..n]),
            Err(e) => break Some(e),
        }
    };
    let _ = stream.shutdown(std::net::Shutdown::Both);
    let _ = sender.join();
    parse_answer(&received).map_err(|why| {
        format!(
            "no complete answer ({why}; read ended with {read_error:?}); received {} bytes: {:?}",
            received.len(),
            String::from_utf8_lossy(&received[..received.len().min(300)])
        )
    })
}

/// An HTTP/1.1 response: status line, headers, and a body framed by `content-length`, chunked,
/// or the end of the connection.
fn parse_answer(raw: &[u8]) -> Result<Answer, String> {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("no end of headers")?;
    let head = std::str::from_utf8(&raw[..end]).map_err(|_| "headers are not UTF-8")?;
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or("no status line")?;
    let mut content_type = String::new();
    let mut length = None;
    let mut chunked = false;
    for line in lines {
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
        match k.as_str() {
            "content-type" => content_type = v.to_string(),
            "content-length" => length = v.parse::<usize>().ok(),
            "transfer-encoding" => chunked = v.eq_ignore_ascii_case("chunked"),
            _ => {}
        }
    }
    let rest = &raw[end + 4..];
    let body = if chunked {
        let mut body = Vec::new();
        let mut at = 0;
        loop {
            let line_end = rest[at..]
                .windows(2)
                .position(|w| w == b"\r\n")
                .ok_or("a chunk cut off")?;
            let size = std::str::from_utf8(&rest[at..at + line_end])
                .ok()
                .and_then(|s| usize::from_str_radix(s.split(';').next()?.trim(), 16).ok())
                .ok_or("a bad chunk size")?;
            at += line_end + 2;
            if size == 0 {
                break body;
            }
            let chunk = rest.get(at..at + size).ok_or("a chunk cut off")?;
            body.extend_from_slice(chunk);
            at += size + 2;
        }
    } else if let Some(n) = length {
        rest.get(..n)
            .ok_or("a body shorter than its content-length")?
            .to_vec()
    } else {
        rest.to_vec()
    };
    Ok(Answer {
        status,
        content_type,
        body,
    })
}

/// Which headers go with a `/mcp` POST: the right ones mostly, sometimes what a careless or
/// hostile client sends.
#[derive(Debug, Clone, Copy)]
enum Headers {
    Proper,
    NoAccept,
    JsonOnlyAccept,
    TextPlain,
    BadProtocolVersion,
    Modern,
}

fn headers() -> BoxedStrategy<Headers> {
    prop_oneof![
        8 => Just(Headers::Proper),
        1 => Just(Headers::NoAccept),
        1 => Just(Headers::JsonOnlyAccept),
        1 => Just(Headers::TextPlain),
        1 => Just(Headers::BadProtocolVersion),
        2 => Just(Headers::Modern),
    ]
    .boxed()
}

/// Sends one `/mcp` POST and checks the answer.
fn mcp_case(
    url: &str,
    body: &[u8],
    framing: Framing,
    headers: Headers,
) -> Result<(), TestCaseError> {
    const BOTH: &str = "application/json, text/event-stream";
    const JSON: &str = "application/json";
    let sent: &[(&str, &str)] = match headers {
        Headers::NoAccept => &[("content-type", JSON)],
        Headers::JsonOnlyAccept => &[("accept", JSON), ("content-type", JSON)],
        Headers::TextPlain => &[("accept", BOTH), ("content-type", "text/plain")],
        Headers::BadProtocolVersion => &[
            ("accept", BOTH),
            ("content-type", JSON),
            ("mcp-protocol-version", "1999-01-01"),
        ],
        Headers::Modern => &[
            ("accept", BOTH),
            ("content-type", JSON),
            ("mcp-protocol-version", "2026-07-28"),
        ],
        Headers::Proper => &[
            ("accept", BOTH),
            ("content-type", JSON),
            ("mcp-protocol-version", "2025-11-25"),
        ],
    };
    let answer = raw_post(url, "/mcp", sent, body, framing).map_err(fail)?;
    check_answer("/mcp", &answer, body.len())
}

/// The rules every answer of `/mcp` keeps.
fn check_answer(path: &str, answer: &Answer, sent: usize) -> Result<(), TestCaseError> {
    let (status, content_type, answer) = (answer.status, &answer.content_type, &answer.body[..]);
    let shown = String::from_utf8_lossy(&answer[..answer.len().min(300)]).into_owned();
    prop_assert_eq!(
        sent > LIMIT,
        status == 413,
        "{}: a body of {} bytes (limit {}) got {}: {}",
        path,
        sent,
        LIMIT,
        status,
        shown
    );
    match status {
        200 => check_mcp_200(content_type, answer)
            .map_err(|why| fail(format!("{path}: 200 that is not JSON-RPC: {why}: {shown}"))),
        202 => Ok(()),
        s if ERROR_STATUSES.contains(&s) => {
            prop_assert!(!answer.is_empty(), "{}: {} with an empty body", path, s);
            Ok(())
        }
        s => Err(fail(format!("{path}: unexpected status {s}: {shown}"))),
    }
}

// ---------------------------------------------------------------------------------------------
// The properties

#[test]
fn mcp_answers_every_hostile_body() {
    mcp_property(Server::up());
}

/// The same on `/mcp` with Mcp-Session-Id sessions on, where an `initialize` creates one.
#[test]
fn mcp_with_legacy_sessions_answers_every_hostile_body() {
    mcp_property(Server::up_with(&["--legacy-sessions", "true"]));
}

fn mcp_property(server: Server) {
    let http = http();
    let strategy = (
        prop::sample::select(SERVERS.to_vec()),
        body(),
        any::<bool>(),
        headers(),
    )
        .prop_map(|(server, body, chunked, headers)| {
            let framing = if chunked {
                Framing::Chunked
            } else {
                Framing::Length
            };
            (server, Shown(body), framing, headers)
        });
    check("POST /mcp", &strategy, |(name, body, framing, headers)| {
        mcp_case(server.url(name), &body.0, framing, headers)?;
        server.healthy(&http, name)
    });
    server.finish();
}

#[test]
fn sse_sessions_answer_and_survive_every_hostile_message() {
    let server = Server::up();
    let http = http();
    let base = server.url("monitoring").to_string();
    let session = Mutex::new(SseSession::open(&base));
    let strategy = (body(), any::<bool>()).prop_map(|(body, chunked)| {
        let framing = if chunked {
            Framing::Chunked
        } else {
            Framing::Length
        };
        (Shown(body), framing)
    });
    check("POST /messages", &strategy, |(body, framing)| {
        let mut session = session.lock().unwrap();
        let result = session.case(&body.0, framing);
        if result.is_err() {
            // A later case (or a shrink step) gets a live session again.
            *session = SseSession::open(&base);
        }
        result?;
        server.healthy(&http, "monitoring")
    });
    server.finish();
}

/// The fourteen tools of the three servers, with the argument types their schemas state.
fn list_tools(server: &Server, http: &Client) -> Vec<Arc<Tool>> {
    let mut tools = Vec::new();
    for name in SERVERS {
        let listed = rpc(
            http,
            server.url(name),
            json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}),
        );
        for tool in listed["result"]["tools"].as_array().expect("tools listed") {
            tools.push(Arc::new(Tool::new(name, tool)));
        }
    }
    assert_eq!(tools.len(), 14, "every tool of the three servers is fuzzed");
    for tool in &tools {
        assert!(
            !tool.fields.is_empty(),
            "{} has no argument whose type the schema states",
            tool.name
        );
    }
    tools
}

#[test]
fn tools_refuse_arguments_of_the_wrong_type() {
    let server = Server::up();
    let http = http();
    let tools = list_tools(&server, &http);
    let strategy = prop::sample::select(tools).prop_flat_map(|tool| {
        let n = tool.fields.len();
        (
            Just(tool),
            // Which arguments get a value of a wrong type (at least one, unless an unknown
            // argument is added instead), and which wrong type.
            prop::collection::vec((any::<bool>(), 0usize..WRONG.len()), n),
            any::<bool>(),
            ".{1,12}",
        )
    });
    check(
        "tools/call with wrong argument types",
        &strategy,
        |(tool, picks, unknown, extra_key)| {
            let mut args = Map::new();
            let mut wrong = Vec::new();
            for (field, (make_wrong, which)) in tool.fields.iter().zip(&picks) {
                if *make_wrong {
                    let candidates: Vec<_> =
                        WRONG.iter().filter(|(ty, _)| !field.admits(ty)).collect();
                    let (ty, value) = candidates[which % candidates.len()];
                    args.insert(field.name.clone(), value());
                    wrong.push(format!("{} as {ty}", field.name));
                } else if field.required {
                    args.insert(field.name.clone(), field.valid_value());
                }
            }
            let extra_key = format!("zz_{extra_key}");
            if unknown || wrong.is_empty() {
                args.insert(extra_key.clone(), json!(1));
                wrong.push(format!("unknown argument {extra_key:?}"));
            }
            let answer = rpc(
                &http,
                server.url(&tool.server),
                json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
                       "params": {"name": tool.name, "arguments": args}}),
            );
            check_server_message(&answer, false).map_err(fail)?;
            let refused =
                answer.get("error").is_some() || answer["result"]["isError"] == json!(true);
            prop_assert!(
                refused,
                "{}/{} accepted {:?}: {}",
                tool.server,
                tool.name,
                wrong,
                answer
            );
            server.healthy(&http, &tool.server)
        },
    );
    server.finish();
}

/// Arguments of the right types but hostile values (paths out of the workspace, odd windows,
/// regexes, huge or negative numbers, injections) reach the tools' own validation: the answer
/// is a result, or a tool error that says what is wrong, never a broken reply.
#[test]
fn tools_answer_hostile_values_of_the_right_type() {
    let server = Server::up();
    let http = http();
    let tools = list_tools(&server, &http);
    let strategy = prop::sample::select(tools).prop_flat_map(|tool| {
        let values: Vec<_> = tool
            .fields
            .iter()
            .map(|f| {
                let value = typed_value(&f.types);
                if f.required {
                    value.prop_map(Some).boxed()
                } else {
                    prop::option::of(value).boxed()
                }
            })
            .collect();
        (Just(tool), values)
    });
    check(
        "tools/call with hostile values",
        &strategy,
        |(tool, values)| {
            let args: Map<String, Value> = tool
                .fields
                .iter()
                .zip(values)
                .filter_map(|(f, v)| Some((f.name.clone(), v?)))
                .collect();
            let answer = rpc(
                &http,
                server.url(&tool.server),
                json!({"jsonrpc": "2.0", "id": 8, "method": "tools/call",
                       "params": {"name": tool.name, "arguments": args}}),
            );
            check_server_message(&answer, false).map_err(fail)?;
            if answer["result"]["isError"] == json!(true) {
                let said = answer["result"]["content"][0]["text"]
                    .as_str()
                    .unwrap_or("");
                prop_assert!(
                    !said.trim().is_empty(),
                    "{}/{}: a tool error that says nothing: {}",
                    tool.server,
                    tool.name,
                    answer
                );
            }
            server.healthy(&http, &tool.server)
        },
    );
    server.finish();
}

/// A value of one of `types`, hostile within its type.
fn typed_value(types: &BTreeSet<String>) -> BoxedStrategy<Value> {
    let strings = || {
        prop_oneof![
            3 => prop::sample::select(HOSTILE_STRINGS).prop_map(String::from),
            1 => ".{0,64}",
            1 => (0usize..20_000).prop_map(|n| "a".repeat(n)),
        ]
    };
    let mut options: Vec<BoxedStrategy<Value>> = Vec::new();
    for ty in types {
        options.push(match ty.as_str() {
            "string" => strings().prop_map(Value::from).boxed(),
            "integer" => prop_oneof![
                any::<i64>().prop_map(Value::from),
                any::<u64>().prop_map(Value::from),
                (-2i64..300).prop_map(Value::from),
            ]
            .boxed(),
            "number" => any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::from)
                .boxed(),
            "boolean" => any::<bool>().prop_map(Value::from).boxed(),
            "array" => prop::collection::vec(strings(), 0..6)
                .prop_map(|v| json!(v))
                .boxed(),
            "object" => prop::collection::btree_map(strings(), strings(), 0..4)
                .prop_map(|m| json!(m))
                .boxed(),
            _ => Just(Value::Null).boxed(),
        });
    }
    prop::strategy::Union::new(options).boxed()
}

/// Runs every time, whatever the generators draw: the extremes the brief names.
#[test]
fn the_extremes_are_answered() {
    let server = Server::up();
    let http = http();
    let url = server.url("monitoring").to_string();
    let mut session = SseSession::open(&url);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("10 000 levels of [", nested(10_000, false, true)),
        ("10 000 levels of {", nested(10_000, true, true)),
        ("10 000 unclosed [", nested(10_000, false, false)),
        (
            "10 000 levels of [ in params",
            wrapped(&nested(10_000, false, true), None),
        ),
        ("a body of exactly the limit", wrapped(b"1", Some(LIMIT))),
        ("one byte past the limit", wrapped(b"1", Some(LIMIT + 1))),
        ("invalid UTF-8 in a string", wrapped(b"\"\xff\xfe\"", None)),
        ("a lone surrogate escape", wrapped(br#""\ud800""#, None)),
        ("empty body", Vec::new()),
        ("empty batch", b"[]".to_vec()),
        ("null", b"null".to_vec()),
    ];
    for (what, body) in &cases {
        for framing in [Framing::Length, Framing::Chunked] {
            mcp_case(&url, body, framing, Headers::Proper)
                .unwrap_or_else(|e| panic!("/mcp, {what}, {framing:?}: {e}"));
            session
                .case(body, framing)
                .unwrap_or_else(|e| panic!("/messages, {what}, {framing:?}: {e}"));
            server
                .healthy(&http, "monitoring")
                .unwrap_or_else(|e| panic!("after {what}: {e}"));
        }
    }
    server.finish();
}

/// A chunked body (no `Content-Length`) past the limit is 413 on `/mcp`, as with a length: the
/// gate reads POST bodies whole (rmcp used to answer the read error with 500).
#[test]
fn chunked_body_past_the_limit_is_413_on_mcp() {
    let server = Server::up();
    let body = wrapped(b"1", Some(LIMIT + 1));
    mcp_case(
        server.url("monitoring"),
        &body,
        Framing::Chunked,
        Headers::Proper,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    server.finish();
}

/// `POST /messages` takes bodies up to `max_body_bytes`, not axum's default 2 MiB (the host
/// lifts `DefaultBodyLimit` for every route, the Alertmanager webhook's too).
#[test]
fn messages_accepts_bodies_up_to_the_limit() {
    let server = Server::up();
    let mut session = SseSession::open(server.url("monitoring"));
    session
        .case(&wrapped(b"1", Some(LIMIT)), Framing::Length)
        .unwrap_or_else(|e| panic!("{e}"));
    server.finish();
}

// ---------------------------------------------------------------------------------------------
// Tools and their argument types, from the servers' own schemas

/// A JSON type's name and a value of it.
type Typed = (&'static str, fn() -> Value);

/// The JSON types a wrong value may have, with a value of each.
const WRONG: [Typed; 7] = [
    ("null", || Value::Null),
    ("boolean", || json!(true)),
    ("integer", || json!(3)),
    ("number", || json!(1.5)),
    ("string", || json!("wrong")),
    ("array", || json!(["wrong"])),
    ("object", || json!({"wrong": 1})),
];

#[derive(Debug)]
struct Tool {
    server: String,
    name: String,
    fields: Vec<Field>,
}

#[derive(Debug)]
struct Field {
    name: String,
    required: bool,
    /// The JSON types the schema admits.
    types: BTreeSet<String>,
}

impl Field {
    fn admits(&self, ty: &str) -> bool {
        self.types.contains(ty) || (ty == "integer" && self.types.contains("number"))
    }

    /// A value of an admitted type, for required arguments that are not the ones made wrong.
    fn valid_value(&self) -> Value {
        for ty in ["string", "array", "object", "integer", "boolean"] {
            if self.admits(ty) {
                return match ty {
                    "string" => json!("INC-0001"),
                    "array" => json!([]),
                    "object" => json!({}),
                    "integer" => json!(1),
                    _ => json!(false),
                };
            }
        }
        Value::Null
    }
}

impl Tool {
    fn new(server: &str, tool: &Value) -> Self {
        let schema = &tool["inputSchema"];
        let required: HashSet<&str> = schema["required"]
            .as_array()
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut fields = Vec::new();
        for (name, prop) in schema["properties"].as_object().into_iter().flatten() {
            // An argument whose types cannot be read from the schema is left alone.
            if let Some(types) = admitted_types(prop, schema, 0) {
                fields.push(Field {
                    name: name.clone(),
                    required: required.contains(name.as_str()),
                    types,
                });
            }
        }
        Tool {
            server: server.to_string(),
            name: tool["name"].as_str().unwrap_or_default().to_string(),
            fields,
        }
    }
}

/// The JSON types a (sub)schema admits: `type`, `$ref` into `$defs`, `anyOf`/`oneOf`, `const`.
fn admitted_types(schema: &Value, root: &Value, depth: usize) -> Option<BTreeSet<String>> {
    if depth > 8 {
        return None;
    }
    if let Some(ty) = schema.get("type") {
        return match ty {
            Value::String(s) => Some(BTreeSet::from([s.clone()])),
            Value::Array(list) => Some(
                list.iter()
                    .filter_map(Value::as_str)
                    .map(String::from)
                    .collect(),
            ),
            _ => None,
        };
    }
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let def = r.strip_prefix("#/$defs/")?;
        return admitted_types(&root["$defs"][def], root, depth + 1);
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(options) = schema.get(key).and_then(Value::as_array) {
            let mut all = BTreeSet::new();
            for option in options {
                all.extend(admitted_types(option, root, depth + 1)?);
            }
            return Some(all);
        }
    }
    if let Some(c) = schema.get("const") {
        return Some(BTreeSet::from([json_type(c).to_string()]));
    }
    None
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// One well-formed request to `/mcp`, its JSON answer.
fn rpc(http: &Client, url: &str, request: Value) -> Value {
    let resp = http
        .post(format!("{url}/mcp"))
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-11-25")
        .json(&request)
        .send()
        .expect("/mcp answers");
    let status = resp.status();
    let text = resp.text().expect("/mcp answer body");
    assert_eq!(status, 200, "{request} got {status}: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{request}: not JSON ({e}): {text}"))
}

// ---------------------------------------------------------------------------------------------
// An /sse session

/// An open `GET /sse` stream, initialized, with its events read on a thread of their own.
struct SseSession {
    base: String,
    endpoint: String,
    events: mpsc::Receiver<(String, String)>,
    probes: u64,
}

impl SseSession {
    fn open(base: &str) -> Self {
        // The stream lives as long as the session: no overall timeout on this client.
        let stream = Client::builder()
            .timeout(None)
            .build()
            .expect("client")
            .get(format!("{base}/sse"))
            .send()
            .expect("GET /sse");
        assert_eq!(stream.status(), 200);
        let (tx, events) = mpsc::channel();
        std::thread::spawn(move || {
            let (mut event, mut data) = (String::from("message"), String::new());
            for line in BufReader::new(stream).lines() {
                let Ok(line) = line else { return };
                if line.is_empty() {
                    if !data.is_empty() && tx.send((event.clone(), data.clone())).is_err() {
                        return;
                    }
                    event = "message".into();
                    data.clear();
                } else if let Some(e) = line.strip_prefix("event:") {
                    event = e.trim().to_string();
                } else if let Some(d) = line.strip_prefix("data:") {
                    if !data.is_empty() {
                        data.push('\n');
                    }
                    data.push_str(d.trim_start());
                }
            }
        });
        let (event, endpoint) = events.recv_timeout(PATIENCE).expect("the endpoint event");
        assert_eq!(event, "endpoint");
        let mut session = SseSession {
            base: base.to_string(),
            endpoint,
            events,
            probes: 0,
        };
        session
            .case(
                br#"{"jsonrpc":"2.0","id":"init","method":"initialize","params":{"protocolVersion":"2024-11-05","capabilities":{},"clientInfo":{"name":"edge-fuzz","version":"0"}}}"#,
                Framing::Length,
            )
            .expect("initialize answered");
        session
            .case(
                br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
                Framing::Length,
            )
            .expect("initialized accepted");
        session
    }

    /// POSTs `body`, checks the answer, then waits on the stream for the answer to every
    /// request in it and to a ping sent after it, so a session that died is noticed at once.
    fn case(&mut self, body: &[u8], framing: Framing) -> Result<(), TestCaseError> {
        let status = self.post(body, framing)?;
        let mut waiting: HashSet<String> = if status == 202 {
            request_ids(body)
        } else {
            HashSet::new()
        };
        self.probes += 1;
        let probe = format!("probe-{}", self.probes);
        let ping = json!({"jsonrpc": "2.0", "id": probe, "method": "ping"});
        let ping_status = self.post(ping.to_string().as_bytes(), Framing::Length)?;
        prop_assert_eq!(ping_status, 202, "the probe ping after the case");
        waiting.insert(json!(probe).to_string());
        while !waiting.is_empty() {
            let (event, data) = self.events.recv_timeout(PATIENCE).map_err(|e| {
                fail(format!(
                    "the /sse stream ended or went silent ({e}) with {waiting:?} unanswered"
                ))
            })?;
            prop_assert_eq!(&event, "message", "event {}: {}", event, data);
            let message: Value = serde_json::from_str(&data)
                .map_err(|e| fail(format!("stream data is not JSON ({e}): {data}")))?;
            check_server_message(&message, true)
                .map_err(|why| fail(format!("on the stream: {why}")))?;
            if let Some(id) = message.get("id") {
                waiting.remove(&id.to_string());
            }
        }
        Ok(())
    }

    fn post(&self, body: &[u8], framing: Framing) -> Result<u16, TestCaseError> {
        let Answer {
            status,
            body: answer,
            ..
        } = raw_post(
            &self.base,
            &self.endpoint,
            &[("content-type", "application/json")],
            body,
            framing,
        )
        .map_err(|why| fail(format!("/messages: {why}")))?;
        let shown = String::from_utf8_lossy(&answer[..answer.len().min(300)]).into_owned();
        prop_assert_eq!(
            body.len() > LIMIT,
            status == 413,
            "/messages: a body of {} bytes (limit {}) got {}: {}",
            body.len(),
            LIMIT,
            status,
            shown
        );
        // 404 would mean the session is gone, which is a failure here: it was open.
        prop_assert!(
            [202, 400, 413].contains(&status),
            "/messages answered {}: {}",
            status,
            shown
        );
        prop_assert!(
            !answer.is_empty(),
            "/messages answered {} with an empty body",
            status
        );
        Ok(status)
    }
}

/// The ids of the requests (messages with a method and an id) in an accepted body, as JSON
/// text, since `1` and `"1"` are different ids.
fn request_ids(body: &[u8]) -> HashSet<String> {
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return HashSet::new();
    };
    let items = match value {
        Value::Array(items) => items,
        single => vec![single],
    };
    items
        .iter()
        .filter(|m| m.get("method").is_some())
        .filter_map(|m| m.get("id"))
        .map(Value::to_string)
        .collect()
}

/// A body shown by its length and start, not as a few million numbers.
#[derive(Clone)]
struct Shown(Vec<u8>);

impl std::fmt::Debug for Shown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Escaped bytes, so invalid UTF-8 shows exactly.
        const SHOW: usize = 2000;
        let cut = self.0.len().min(SHOW);
        write!(
            f,
            "{} bytes: b\"{}\"{}",
            self.0.len(),
            self.0[..cut].escape_ascii(),
            if self.0.len() > SHOW { "…" } else { "" }
        )
    }
}
