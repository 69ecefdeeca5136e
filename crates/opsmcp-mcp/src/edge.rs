//! The connection edge: what a connection may hold before it has sent a request, and how many
//! a server and one client address may hold at once.
//!
//! Connections are served with hyper's HTTP/1 builder (not `axum::serve`, which sets no
//! header-read timeout): a client must send a whole request head within
//! [`EdgeLimits::header_read_timeout`] of the server starting to wait for one — a fresh
//! connection, or a keep-alive one between requests — or it is closed (slowloris).
//!
//! Every accepted connection takes a slot: at most [`EdgeLimits::max_connections`] per server
//! and [`EdgeLimits::max_connections_per_address`] per client IP. A connection over either cap
//! is not closed blindly: it takes one of a small reserve of *limited* slots ([`RESERVE`] per
//! server, [`RESERVE_PER_ADDRESS`] per address), where `GET /health` is answered and anything
//! else gets `503` with `Retry-After` and a body naming the setting to raise; a limited
//! connection is never kept alive and has a short header-read timeout. So a load balancer's
//! health check still answers when the server is full (even from an address that is at its own
//! cap), one address cannot fill the reserve, and a client that is refused learns why. When the
//! reserve is full too, the connection is closed at once. Every refusal is counted in
//! `opsmcp_connections_refused_total{server, reason}`.

use std::{
    collections::HashMap,
    convert::Infallible,
    net::{IpAddr, SocketAddr},
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{Router, body::Body, extract::ConnectInfo};
use http::{Request, Response, StatusCode, header};
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    server::graceful::GracefulShutdown,
};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

/// Limited slots per server, for connections over a cap (they may only ask for `/health`).
pub const RESERVE: usize = 32;
/// Limited slots one client address may hold at once.
pub const RESERVE_PER_ADDRESS: usize = 2;
/// Header-read timeout of a limited connection (or the normal one, when shorter).
const LIMITED_HEADER_TIMEOUT: Duration = Duration::from_secs(2);
/// What a refused client is told to wait, in seconds.
const RETRY_AFTER_S: u64 = 5;

/// Connection and `/sse` limits of one server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EdgeLimits {
    /// A request head must arrive within this long of the server waiting for one (a new
    /// connection, or a keep-alive one between requests); otherwise the connection is closed.
    pub header_read_timeout: Duration,
    /// A connection on which no byte has moved either way for this long, while no request is
    /// in a handler, is closed: a client that stopped reading a response it asked for.
    /// Streams stay alive through their keep-alive comments, so keep it above `sse_keep_alive`.
    pub idle_timeout: Duration,
    /// Connections one server holds at once (not counting the reserve for `/health`).
    pub max_connections: usize,
    /// Connections one client IP address holds at once.
    pub max_connections_per_address: usize,
    /// `/sse` sessions one server holds at once; more get 503.
    pub max_sse_sessions: usize,
    /// An `/sse` session with no message either way (and no call in flight) for this long is
    /// ended; the client reconnects with `GET /sse`.
    pub sse_idle_timeout: Duration,
}

impl Default for EdgeLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(120),
            max_connections: 1024,
            max_connections_per_address: 64,
            max_sse_sessions: 256,
            sse_idle_timeout: Duration::from_secs(600),
        }
    }
}

/// Why a connection did not get a normal slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Over {
    Total,
    PerAddress,
}

impl Over {
    fn label(self) -> &'static str {
        match self {
            Over::Total => "total",
            Over::PerAddress => "per_address",
        }
    }
}

#[derive(Default)]
struct Counts {
    total: usize,
    reserve: usize,
    /// Per address: (normal slots, limited slots).
    per_address: HashMap<IpAddr, (usize, usize)>,
}

/// Slot accounting of one server.
pub(crate) struct Admission {
    server: String,
    max_total: usize,
    max_per_address: usize,
    counts: Mutex<Counts>,
}

/// A held slot; dropping it frees the slot.
pub(crate) struct Slot {
    admission: Arc<Admission>,
    ip: IpAddr,
    limited: bool,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let Ok(mut counts) = self.admission.counts.lock() else {
            return;
        };
        if self.limited {
            counts.reserve = counts.reserve.saturating_sub(1);
        } else {
            counts.total = counts.total.saturating_sub(1);
        }
        if let Some(entry) = counts.per_address.get_mut(&self.ip) {
            if self.limited {
                entry.1 = entry.1.saturating_sub(1);
            } else {
                entry.0 = entry.0.saturating_sub(1);
            }
            if *entry == (0, 0) {
                counts.per_address.remove(&self.ip);
            }
        }
        metrics::gauge!("opsmcp_connections_open", "server" => self.admission.server.clone())
            .decrement(1.0);
    }
}

/// What a new connection gets.
enum Ticket {
    Normal(Slot),
    Limited(Slot, Over),
    Refused(Over),
}

impl Admission {
    pub(crate) fn new(server: String, limits: &EdgeLimits) -> Arc<Self> {
        Arc::new(Self {
            server,
            max_total: limits.max_connections,
            max_per_address: limits.max_connections_per_address,
            counts: Mutex::new(Counts::default()),
        })
    }

    fn admit(self: &Arc<Self>, ip: IpAddr) -> Ticket {
        let mut counts = match self.counts.lock() {
            Ok(c) => c,
            Err(poisoned) => poisoned.into_inner(),
        };
        let total = counts.total;
        let reserve = counts.reserve;
        let entry = counts.per_address.entry(ip).or_insert((0, 0));
        let over = if total >= self.max_total {
            Some(Over::Total)
        } else if entry.0 >= self.max_per_address {
            Some(Over::PerAddress)
        } else {
            None
        };
        let ticket = match over {
            None => {
                entry.0 += 1;
                counts.total += 1;
                Ticket::Normal(self.slot(ip, false))
            }
            Some(over) if reserve < RESERVE && entry.1 < RESERVE_PER_ADDRESS => {
                entry.1 += 1;
                counts.reserve += 1;
                Ticket::Limited(self.slot(ip, true), over)
            }
            Some(over) => {
                if *entry == (0, 0) {
                    counts.per_address.remove(&ip);
                }
                Ticket::Refused(over)
            }
        };
        if !matches!(ticket, Ticket::Refused(_)) {
            metrics::gauge!("opsmcp_connections_open", "server" => self.server.clone())
                .increment(1.0);
        }
        ticket
    }

    fn slot(self: &Arc<Self>, ip: IpAddr, limited: bool) -> Slot {
        Slot {
            admission: self.clone(),
            ip,
            limited,
        }
    }

    fn refused(&self, over: Over) {
        metrics::counter!("opsmcp_connections_refused_total",
            "server" => self.server.clone(), "reason" => over.label())
        .increment(1);
    }

    /// The answer to a request on a limited connection that is not `GET /health`.
    fn busy(&self, over: Over) -> Response<Body> {
        let message = match over {
            Over::Total => format!(
                "the {} server holds its maximum of {} connections; retry shortly, or raise \
                 max_connections",
                self.server, self.max_total
            ),
            Over::PerAddress => format!(
                "your address holds the maximum of {} connections to the {} server; close idle \
                 connections or reuse one (keep-alive), or raise max_connections_per_address",
                self.max_per_address, self.server
            ),
        };
        let body = serde_json::json!({ "error": message }).to_string();
        let mut response = Response::new(Body::from(body));
        *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        headers.insert(header::RETRY_AFTER, http::HeaderValue::from(RETRY_AFTER_S));
        headers.insert(header::CONNECTION, http::HeaderValue::from_static("close"));
        response
    }
}

/// Warns when the process's open-file limit is below what the caps let connections hold, in
/// which case accept fails with EMFILE before the cap is reached (and `/health` with it).
pub(crate) fn check_fd_limit(server: &str, limits: &EdgeLimits) {
    let Some(soft) = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3).map(str::to_string))
        })
        .and_then(|v| v.parse::<usize>().ok())
    else {
        return;
    };
    // Room for the store, log files and the other servers' listeners.
    let needed = limits.max_connections + RESERVE + 64;
    if soft < needed {
        tracing::warn!(
            server,
            open_file_limit = soft,
            max_connections = limits.max_connections,
            "the open-file limit is below max_connections + {RESERVE} reserve + 64: connections \
             would fail at the fd limit before the cap; raise LimitNOFILE / ulimit -n (each \
             server of the process needs its share) or lower max_connections"
        );
    }
}

/// Serves `listener` until `stop`, then stops accepting, asks every connection to close after
/// its current request, and returns when all have (the host bounds that wait).
pub(crate) async fn serve<L>(
    mut listener: L,
    router: Router,
    admission: Arc<Admission>,
    limits: EdgeLimits,
    stop: CancellationToken,
) where
    L: axum::serve::Listener<Addr = SocketAddr>,
    L::Io: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let graceful = GracefulShutdown::new();
    loop {
        let (io, peer) = tokio::select! {
            _ = stop.cancelled() => break,
            // The listener backs off on accept errors itself (out of file descriptors…).
            accepted = listener.accept() => accepted,
        };
        let (slot, limited) = match admission.admit(peer.ip()) {
            Ticket::Normal(slot) => (slot, None),
            Ticket::Limited(slot, over) => {
                admission.refused(over);
                (slot, Some(over))
            }
            Ticket::Refused(over) => {
                admission.refused(over);
                tracing::debug!(%peer, reason = over.label(), "connection refused: reserve full");
                drop(io);
                continue;
            }
        };
        let watch = Watch::new();
        let io = Watched {
            inner: io,
            watch: watch.clone(),
        };
        let router = router.clone();
        let admission_for_service = admission.clone();
        let handling = watch.clone();
        let service =
            hyper::service::service_fn(move |mut request: Request<hyper::body::Incoming>| {
                let router = router.clone();
                let admission = admission_for_service.clone();
                let busy = handling.busy();
                async move {
                    let _busy = busy;
                    if let Some(over) = limited
                        && !(request.method() == http::Method::GET
                            && request.uri().path() == "/health")
                    {
                        return Ok::<_, Infallible>(admission.busy(over));
                    }
                    request.extensions_mut().insert(ConnectInfo(peer));
                    router.oneshot(request.map(Body::new)).await
                }
            });
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder.timer(TokioTimer::new());
        match limited {
            None => {
                builder.header_read_timeout(limits.header_read_timeout);
            }
            Some(_) => {
                builder
                    .header_read_timeout(limits.header_read_timeout.min(LIMITED_HEADER_TIMEOUT))
                    .keep_alive(false);
            }
        }
        let connection = graceful.watch(builder.serve_connection(TokioIo::new(io), service));
        let idle = limits.idle_timeout;
        let server = admission.server.clone();
        tokio::spawn(async move {
            let _slot = slot;
            tokio::select! {
                result = connection => if let Err(error) = result {
                    tracing::debug!(%peer, %error, "connection ended with an error");
                },
                _ = watch.stalled(idle) => {
                    metrics::counter!("opsmcp_connections_idle_closed_total", "server" => server)
                        .increment(1);
                    tracing::debug!(%peer, ?idle, "connection idle; closed");
                }
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// When bytes last moved on a connection, and how many of its requests are in a handler.
#[derive(Clone)]
struct Watch(Arc<WatchState>);

struct WatchState {
    last: Mutex<tokio::time::Instant>,
    busy: std::sync::atomic::AtomicUsize,
}

/// A request in a handler; the connection is not idle meanwhile.
struct Busy(Watch);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0
            .0
            .busy
            .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
        self.0.touch();
    }
}

impl Watch {
    fn new() -> Self {
        Self(Arc::new(WatchState {
            last: Mutex::new(tokio::time::Instant::now()),
            busy: std::sync::atomic::AtomicUsize::new(0),
        }))
    }

    fn touch(&self) {
        if let Ok(mut last) = self.0.last.lock() {
            *last = tokio::time::Instant::now();
        }
    }

    fn busy(&self) -> Busy {
        self.0
            .busy
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Busy(self.clone())
    }

    /// Resolves once nothing has moved for `idle` with no request in a handler.
    async fn stalled(&self, idle: Duration) {
        loop {
            let last = self
                .0
                .last
                .lock()
                .map(|l| *l)
                .unwrap_or_else(|_| tokio::time::Instant::now());
            let deadline = last + idle;
            if tokio::time::Instant::now() >= deadline {
                if self.0.busy.load(std::sync::atomic::Ordering::Relaxed) == 0 {
                    return;
                }
                self.touch();
                continue;
            }
            tokio::time::sleep_until(deadline).await;
        }
    }
}

/// A connection's I/O, noting when bytes move.
struct Watched<I> {
    inner: I,
    watch: Watch,
}

impl<I: AsyncRead + Unpin> AsyncRead for Watched<I> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = std::pin::Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.watch.touch();
        }
        polled
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for Watched<I> {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let polled = std::pin::Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(polled, std::task::Poll::Ready(Ok(n)) if n > 0) {
            self.watch.touch();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let polled = std::pin::Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, std::task::Poll::Ready(Ok(n)) if n > 0) {
            self.watch.touch();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
