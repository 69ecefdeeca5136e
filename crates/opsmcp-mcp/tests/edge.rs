//! Edge limits over real TCP against a real host: header-read and idle timeouts, the total and
//! per-address connection caps with `/health` still answering, and the `/sse` session cap with
//! idle expiry.

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use futures::StreamExt;
use opsmcp_mcp::{HostSettings, McpHost};
use rmcp::ServerHandler;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};
use tokio_util::sync::CancellationToken;

#[derive(Clone)]
struct Empty;

impl ServerHandler for Empty {}

struct Server {
    addr: SocketAddr,
    stop: CancellationToken,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl Server {
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

async fn start(tune: impl FnOnce(&mut HostSettings)) -> Server {
    let mut settings = HostSettings::new("edge", "0.0.0-test");
    settings.sse_keep_alive = Duration::from_millis(200);
    tune(&mut settings);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = CancellationToken::new();
    tokio::spawn(McpHost::new(settings, || Empty).serve(listener, stop.clone()));
    Server { addr, stop }
}

/// Reads until the server closes the connection, or `limit` passes (then `None`).
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> Option<String> {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(String::from_utf8_lossy(&seen).into_owned()),
            Ok(Ok(n)) => seen.extend_from_slice(&buf[..n]),
        }
    }
}

/// One request on a new connection, `Connection: close`; the whole answer.
async fn request(addr: SocketAddr, method: &str, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json, \
         text/event-stream\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    read_until_closed(&mut stream, Duration::from_secs(5))
        .await
        .expect("the server answers and closes within 5 s")
}

/// Opens a connection that sends nothing, and checks the server keeps it.
async fn idle_connection(addr: SocketAddr) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let mut byte = [0u8; 1];
    assert!(
        tokio::time::timeout(Duration::from_millis(100), stream.read(&mut byte))
            .await
            .is_err(),
        "an idle connection under the cap is kept open"
    );
    stream
}

#[tokio::test]
async fn a_slowloris_client_is_cut_after_the_header_read_timeout() {
    let server = start(|s| s.edge.header_read_timeout = Duration::from_secs(1)).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let started = Instant::now();
    stream.write_all(b"GET /health HTTP/1.1\r\n").await.unwrap();
    // One header byte every 100 ms, never the blank line that ends the head.
    let drip = async {
        for byte in b"X-Slow: ".iter().cycle() {
            if stream.write_all(&[*byte]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(4), drip).await;
    let elapsed = started.elapsed();
    assert!(
        elapsed < Duration::from_secs(3),
        "the connection was still open after {elapsed:?} with a 1 s header-read timeout"
    );
    assert!(
        elapsed >= Duration::from_millis(900),
        "cut too early: {elapsed:?}"
    );
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_cut_too() {
    let server = start(|s| s.edge.header_read_timeout = Duration::from_secs(1)).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let started = Instant::now();
    assert!(
        read_until_closed(&mut stream, Duration::from_secs(3))
            .await
            .is_some(),
        "a silent connection outlived a 1 s header-read timeout by 2 s"
    );
    assert!(started.elapsed() >= Duration::from_millis(900));
}

#[tokio::test]
async fn a_connection_moving_no_bytes_is_closed_after_the_idle_timeout() {
    let server = start(|s| {
        s.edge.header_read_timeout = Duration::from_secs(30);
        s.edge.idle_timeout = Duration::from_secs(1);
    })
    .await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let started = Instant::now();
    assert!(
        read_until_closed(&mut stream, Duration::from_secs(3))
            .await
            .is_some(),
        "an idle connection outlived a 1 s idle timeout by 2 s"
    );
    assert!(started.elapsed() >= Duration::from_millis(900));
}

#[tokio::test]
async fn over_the_per_address_cap_only_health_answers() {
    let server = start(|s| {
        s.edge.max_connections_per_address = 4;
        s.edge.header_read_timeout = Duration::from_secs(30);
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(idle_connection(server.addr).await);
    }
    // The fifth connection from this address is refused with a reason…
    let refused = request(server.addr, "POST", "/mcp").await;
    assert!(refused.starts_with("HTTP/1.1 503"), "{refused}");
    assert!(
        refused.to_lowercase().contains("retry-after: 5"),
        "{refused}"
    );
    assert!(
        refused.contains("max_connections_per_address"),
        "the refusal names the setting: {refused}"
    );
    // …while /health still answers.
    let health = request(server.addr, "GET", "/health").await;
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    // Only /health: /metrics waits for a normal slot.
    let metrics = request(server.addr, "GET", "/metrics").await;
    assert!(metrics.starts_with("HTTP/1.1 503"), "{metrics}");

    // Freeing a slot lets a normal request through again.
    drop(held.pop());
    let mut ok = String::new();
    for _ in 0..50 {
        ok = request(server.addr, "POST", "/mcp").await;
        if !ok.starts_with("HTTP/1.1 503") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!ok.starts_with("HTTP/1.1 503"), "{ok}");
    let metrics = request(server.addr, "GET", "/metrics").await;
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("opsmcp_connections_refused_total")
                && l.contains("server=\"edge\"")
                && l.contains("reason=\"per_address\"")),
        "refusals are counted in /metrics: {metrics}"
    );
    drop(held);
}

#[tokio::test]
async fn over_the_total_cap_only_health_answers_and_the_reserve_is_bounded() {
    let server = start(|s| {
        s.edge.max_connections = 3;
        s.edge.max_connections_per_address = 3;
        s.edge.header_read_timeout = Duration::from_secs(30);
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(idle_connection(server.addr).await);
    }
    let refused = request(server.addr, "GET", "/sse").await;
    assert!(refused.starts_with("HTTP/1.1 503"), "{refused}");
    assert!(refused.contains("max_connections"), "{refused}");
    let health = request(server.addr, "GET", "/health").await;
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");

    // One address holds at most two reserve slots; a third connection is closed at once.
    let mut reserve = Vec::new();
    for _ in 0..2 {
        reserve.push(TcpStream::connect(server.addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut third = TcpStream::connect(server.addr).await.unwrap();
    assert!(
        read_until_closed(&mut third, Duration::from_secs(1))
            .await
            .is_some(),
        "a connection over the cap and the reserve is closed at once"
    );
    drop((held, reserve));
}

/// Opens `GET /sse`: the status, and the body stream when it is 200.
async fn open_sse(
    client: &reqwest::Client,
    server: &Server,
) -> (reqwest::StatusCode, reqwest::Response) {
    let response = client
        .get(server.url("/sse"))
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    (response.status(), response)
}

#[tokio::test]
async fn sse_sessions_over_the_cap_are_refused_and_gone_clients_free_their_slot() {
    let server = start(|s| s.edge.max_sse_sessions = 2).await;
    let client = reqwest::Client::new();
    let (first, first_stream) = open_sse(&client, &server).await;
    let (second, _second_stream) = open_sse(&client, &server).await;
    assert_eq!((first.as_u16(), second.as_u16()), (200, 200));
    let (third, refused) = open_sse(&client, &server).await;
    assert_eq!(third, 503);
    assert!(refused.headers().contains_key("retry-after"));
    let body = refused.text().await.unwrap();
    assert!(body.contains("max_sse_sessions"), "{body}");

    // The first client goes away; its session ends and a new one fits.
    drop(first_stream);
    let mut status = reqwest::StatusCode::SERVICE_UNAVAILABLE;
    let mut kept = Vec::new();
    for _ in 0..50 {
        let (s, stream) = open_sse(&client, &server).await;
        status = s;
        if s == 200 {
            kept.push(stream);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        status, 200,
        "a gone client's session was not ended within 5 s"
    );
}

#[tokio::test]
async fn idle_sse_sessions_expire() {
    let server = start(|s| s.edge.sse_idle_timeout = Duration::from_secs(1)).await;
    let client = reqwest::Client::new();
    let (status, response) = open_sse(&client, &server).await;
    assert_eq!(status, 200);
    let started = Instant::now();
    let mut body = response.bytes_stream();
    let mut text = String::new();
    let ended = tokio::time::timeout(Duration::from_secs(4), async {
        while let Some(chunk) = body.next().await {
            match chunk {
                Ok(bytes) => text.push_str(&String::from_utf8_lossy(&bytes)),
                Err(_) => break,
            }
        }
    })
    .await;
    assert!(
        ended.is_ok(),
        "an idle /sse session outlived a 1 s idle timeout by 3 s"
    );
    assert!(started.elapsed() >= Duration::from_millis(900));
    // Keep-alive comments flowed meanwhile and did not count as activity.
    assert!(text.contains("endpoint"), "{text}");
    let endpoint = text
        .lines()
        .find_map(|l| l.strip_prefix("data: "))
        .expect("endpoint event")
        .to_string();
    let gone = client
        .post(server.url(&endpoint))
        .header("content-type", "application/json")
        .body(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 404, "the expired session is forgotten");
}
