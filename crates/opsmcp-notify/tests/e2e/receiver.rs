//! A real HTTP receiver on a loopback port: records every request and answers as told —
//! accepting, 503, a 429 with `Retry-After` once, or a fixed refusal — and can stop listening
//! altogether and come back on the same port.

#![allow(dead_code)]

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// How the receiver answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// 200 `ok`.
    Accept,
    /// 503.
    Unavailable,
    /// 429 with `Retry-After: <secs>` once, then [`Mode::Accept`].
    RateLimitOnce {
        /// The `Retry-After` value.
        retry_after_secs: u64,
    },
    /// This status with this body, every time.
    Refuse(u16, &'static str),
    /// Accepts, but only once [`Receiver::release`] lets a request through: a send that stays
    /// in flight as long as the test wants.
    Hold,
}

/// One request as received, with the status it was answered with.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// When it arrived.
    pub at: Instant,
    /// Its path.
    pub path: String,
    /// Its headers.
    pub headers: HeaderMap,
    /// Its body, as received.
    pub body: Bytes,
    /// What we answered.
    pub status: u16,
}

impl Recorded {
    /// The idempotency key: the webhook header, or the JSON body's field, or the key in a Slack
    /// context block.
    pub fn key(&self) -> Option<String> {
        if let Some(k) = self.headers.get("x-opsmcp-idempotency-key") {
            return k.to_str().ok().map(String::from);
        }
        let v: serde_json::Value = serde_json::from_slice(&self.body).ok()?;
        if let Some(k) = v.get("idempotency_key").and_then(|k| k.as_str()) {
            return Some(k.to_string());
        }
        let blocks = v.get("blocks")?.as_array()?;
        let context = blocks.iter().find(|b| b["type"] == "context")?;
        let text = context["elements"][0]["text"].as_str()?;
        let start = text.find("key `")? + 5;
        let end = start + text[start..].find('`')?;
        Some(text[start..end].to_string())
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

struct Inner {
    mode: Mutex<Option<Mode>>,
    log: Mutex<Vec<Recorded>>,
    arrived: AtomicUsize,
    release: Semaphore,
}

type Server = (CancellationToken, JoinHandle<()>);

/// The receiver.
pub struct Receiver {
    addr: SocketAddr,
    inner: Arc<Inner>,
    server: tokio::sync::Mutex<Option<Server>>,
}

async fn handle(
    State(inner): State<Arc<Inner>>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    inner.arrived.fetch_add(1, Ordering::SeqCst);
    let mode = {
        let mut m = inner.mode.lock().expect("mode");
        let now = m.clone().unwrap_or(Mode::Accept);
        if matches!(now, Mode::RateLimitOnce { .. }) {
            *m = Some(Mode::Accept);
        }
        now
    };
    if mode == Mode::Hold {
        inner.release.acquire().await.expect("semaphore").forget();
    }
    let response = match &mode {
        Mode::Accept | Mode::Hold => (StatusCode::OK, "ok").into_response(),
        Mode::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "down for a test").into_response(),
        Mode::RateLimitOnce { retry_after_secs } => (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", retry_after_secs.to_string())],
            "rate_limited",
        )
            .into_response(),
        Mode::Refuse(status, body) => (
            StatusCode::from_u16(*status).expect("status"),
            body.to_string(),
        )
            .into_response(),
    };
    inner.log.lock().expect("log").push(Recorded {
        at: Instant::now(),
        path: uri.path().to_string(),
        headers,
        body,
        status: response.status().as_u16(),
    });
    response
}

impl Receiver {
    /// Listens on a free loopback port, accepting.
    pub async fn start() -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding the receiver");
        let addr = listener.local_addr().expect("address");
        let r = Receiver {
            addr,
            inner: Arc::new(Inner {
                mode: Mutex::new(None),
                log: Mutex::new(Vec::new()),
                arrived: AtomicUsize::new(0),
                release: Semaphore::new(0),
            }),
            server: tokio::sync::Mutex::new(None),
        };
        *r.server.lock().await = Some(r.serve(listener));
        r
    }

    fn serve(&self, listener: tokio::net::TcpListener) -> Server {
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(self.inner.clone());
        let stop = CancellationToken::new();
        let token = stop.clone();
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(token.cancelled_owned())
                .await
                .expect("receiver");
        });
        (stop, task)
    }

    /// Stops listening: connections are refused until [`Receiver::come_up`].
    pub async fn go_down(&self) {
        if let Some((stop, task)) = self.server.lock().await.take() {
            stop.cancel();
            task.await.expect("receiver task");
        }
    }

    /// Listens again, on the same port.
    pub async fn come_up(&self) {
        let mut server = self.server.lock().await;
        if server.is_none() {
            let listener = tokio::net::TcpListener::bind(self.addr)
                .await
                .expect("binding the receiver's port again");
            *server = Some(self.serve(listener));
        }
    }

    /// Answers as `mode` from now on.
    pub fn set_mode(&self, mode: Mode) {
        *self.inner.mode.lock().expect("mode") = Some(mode);
    }

    /// Requests that have arrived, answered or not.
    pub fn arrived(&self) -> usize {
        self.inner.arrived.load(Ordering::SeqCst)
    }

    /// Lets `n` held requests be answered.
    pub fn release(&self, n: usize) {
        self.inner.release.add_permits(n);
    }

    /// `http://127.0.0.1:PORT<path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.inner.log.lock().expect("log").clone()
    }

    /// How many 2xx answers each key got.
    pub fn accepted_per_key(&self) -> HashMap<String, usize> {
        let mut out = HashMap::new();
        for r in self.requests() {
            if (200..300).contains(&r.status) {
                *out.entry(r.key().expect("every request carries a key"))
                    .or_default() += 1;
            }
        }
        out
    }

    /// The distinct keys seen, whatever the answer — what a receiver has after deduplication.
    pub fn keys_seen(&self) -> HashSet<String> {
        self.requests().iter().filter_map(Recorded::key).collect()
    }
}
