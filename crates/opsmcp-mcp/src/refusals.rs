//! Requests refused at the door (401, 403, 429, and the Host/Origin guard's 403), tallied for
//! the audit log.
//!
//! A refusal costs the caller nothing, so one audit write per refusal would let anyone with a
//! bad token fill the disk or slow the audited tool path. Refusals are instead counted per
//! (kind, client address, credential, route) over a window and handed to a [`RefusalSink`] as
//! one [`Refusal`] per key when the window ends and when the host stops. The keys held are
//! capped; refusals past the cap are counted in one overflow tally per kind. What is written is
//! then bounded by the cap per window, whatever the request rate.
//!
//! This crate knows no store: the binary hands the host a sink (the audit writer).

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::{Arc, Mutex, MutexGuard},
    time::{Duration, SystemTime},
};

use futures::future::BoxFuture;

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RefusalKind {
    /// 401: no credential, or one that did not pass.
    Unauthorized,
    /// 403: the credential lacks the scope a tool or route needs.
    Forbidden,
    /// 403: a `Host` or `Origin` the guard does not accept (DNS rebinding, cross-origin).
    HostOrOrigin,
    /// 429: over a rate limit.
    RateLimited,
}

impl RefusalKind {
    /// The name recorded (the first word of the audit entry's outcome).
    pub fn as_str(self) -> &'static str {
        match self {
            RefusalKind::Unauthorized => "unauthorized",
            RefusalKind::Forbidden => "forbidden",
            RefusalKind::HostOrOrigin => "host_or_origin",
            RefusalKind::RateLimited => "rate_limited",
        }
    }

    /// The HTTP status the client got.
    pub fn status(self) -> u16 {
        match self {
            RefusalKind::Unauthorized => 401,
            RefusalKind::Forbidden | RefusalKind::HostOrOrigin => 403,
            RefusalKind::RateLimited => 429,
        }
    }
}

/// One window's refusals of one key (or, with `overflow`, of every key past the cap).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The server that refused.
    pub server: String,
    /// Why.
    pub kind: RefusalKind,
    /// The client's address, when known (`None` in the overflow tally).
    pub address: Option<IpAddr>,
    /// The caller's credential id (`token:NAME`, `oauth:SUB`) when it authenticated; never
    /// the secret. `None` for a 401 or the guard (no credential was accepted).
    pub credential: Option<String>,
    /// The route asked for (`/mcp`, `/sse`, `/messages`, a server route; `*` in the overflow
    /// tally).
    pub route: String,
    /// How many requests.
    pub count: u64,
    /// When the first and last of them came.
    pub first: SystemTime,
    /// See `first`.
    pub last: SystemTime,
    /// What the first of them was told (cut short).
    pub reason: String,
    /// The request id of the first of them, when it had one (the guard runs before ids are
    /// given).
    pub request_id: Option<String>,
    /// This tally holds the refusals of every key past the cap (of this kind).
    pub overflow: bool,
}

/// Where tallied refusals go: the binary wires the audit writer.
pub trait RefusalSink: Send + Sync {
    /// Records one window's refusals; resolves once they are written (or given up on), so the
    /// last window is on disk before the host's `serve` returns.
    fn record(&self, refusals: Vec<Refusal>) -> BoxFuture<'_, ()>;
}

/// Distinct keys held per window before refusals go to the overflow tally. With the window of
/// 10 s this bounds refusal entries at about 26 a second however many addresses flood.
pub(crate) const MAX_KEYS: usize = 256;

/// The route a request is counted under: its path, cut short. The guard and `protect` wrap
/// only the routes a server has (axum layers apply to matched routes), and the key cap bounds
/// the rest anyway.
pub(crate) fn route_of(request: &axum::extract::Request) -> &str {
    let path = request.uri().path();
    &path[..path.floor_char_boundary(MAX_ROUTE)]
}

/// The address a request came from, as the listener saw it (`None` when served without one,
/// in tests).
pub(crate) fn client_address(request: &axum::extract::Request) -> Option<std::net::IpAddr> {
    request
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip())
}

/// Longest route kept.
const MAX_ROUTE: usize = 100;

/// Longest reason kept (an invalid JWT's message can carry its `kid`).
const MAX_REASON: usize = 300;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    kind: RefusalKind,
    address: Option<IpAddr>,
    credential: Option<String>,
    route: String,
}

#[derive(Debug)]
struct Tally {
    count: u64,
    first: SystemTime,
    last: SystemTime,
    reason: String,
    request_id: Option<String>,
}

impl Tally {
    fn new(now: SystemTime, reason: &str, request_id: Option<&str>) -> Self {
        Self {
            count: 0,
            first: now,
            last: now,
            reason: reason[..reason.floor_char_boundary(MAX_REASON)].to_string(),
            request_id: request_id.map(str::to_string),
        }
    }
}

#[derive(Debug, Default)]
struct Window {
    keys: HashMap<Key, Tally>,
    overflow: HashMap<RefusalKind, Tally>,
}

/// One host's tallies; shared by the guard and the gate.
pub(crate) struct Refusals {
    server: String,
    cap: usize,
    window: Mutex<Window>,
    sink: Option<Arc<dyn RefusalSink>>,
}

/// What one refused request is counted under.
pub(crate) struct Refused<'a> {
    pub(crate) kind: RefusalKind,
    pub(crate) address: Option<IpAddr>,
    pub(crate) credential: Option<&'a str>,
    pub(crate) route: &'a str,
    pub(crate) reason: &'a str,
    pub(crate) request_id: Option<&'a str>,
}

impl Refusals {
    pub(crate) fn new(server: String, sink: Option<Arc<dyn RefusalSink>>, cap: usize) -> Self {
        Self {
            server,
            cap,
            window: Mutex::default(),
            sink,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Window> {
        // A panic while holding the lock leaves counts, not broken invariants: keep going.
        self.window.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Counts one refused request. Cheap: a hash lookup under a short lock, no I/O.
    pub(crate) fn note(&self, r: Refused<'_>) {
        if self.sink.is_none() {
            return;
        }
        let now = SystemTime::now();
        let key = Key {
            kind: r.kind,
            address: r.address,
            credential: r.credential.map(str::to_string),
            route: r.route.to_string(),
        };
        let mut window = self.lock();
        let tally = if window.keys.contains_key(&key) || window.keys.len() < self.cap {
            window
                .keys
                .entry(key)
                .or_insert_with(|| Tally::new(now, r.reason, r.request_id))
        } else {
            // Keys past the cap are not remembered (that is what the cap is for): only counted.
            window
                .overflow
                .entry(r.kind)
                .or_insert_with(|| Tally::new(now, r.reason, r.request_id))
        };
        tally.count += 1;
        tally.last = now;
    }

    /// Empties the window into the sink.
    pub(crate) async fn flush(&self) {
        let Some(sink) = &self.sink else { return };
        let window = std::mem::take(&mut *self.lock());
        let mut out: Vec<Refusal> = window
            .keys
            .into_iter()
            .map(|(k, t)| self.refusal(k, t, false))
            .chain(window.overflow.into_iter().map(|(kind, t)| {
                let key = Key {
                    kind,
                    address: None,
                    credential: None,
                    route: "*".into(),
                };
                self.refusal(key, t, true)
            }))
            .collect();
        if out.is_empty() {
            return;
        }
        out.sort_by_key(|r| r.first);
        sink.record(out).await;
    }

    fn refusal(&self, key: Key, t: Tally, overflow: bool) -> Refusal {
        Refusal {
            server: self.server.clone(),
            kind: key.kind,
            address: key.address,
            credential: key.credential,
            route: key.route,
            count: t.count,
            first: t.first,
            last: t.last,
            reason: t.reason,
            request_id: t.request_id,
            overflow,
        }
    }

    /// Flushes every `window` until `stop`; the host flushes once more after it stops.
    pub(crate) async fn run(
        self: Arc<Self>,
        window: Duration,
        stop: tokio_util::sync::CancellationToken,
    ) {
        if self.sink.is_none() {
            return;
        }
        // `interval` panics on a zero period, and a period past the clock's range overflows.
        let window = window.clamp(Duration::from_millis(100), Duration::from_secs(86_400));
        let mut every = tokio::time::interval(window);
        every.tick().await;
        loop {
            tokio::select! {
                _ = every.tick() => self.flush().await,
                _ = stop.cancelled() => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Collect(Mutex<Vec<Refusal>>);

    impl RefusalSink for Collect {
        fn record(&self, refusals: Vec<Refusal>) -> BoxFuture<'_, ()> {
            self.0.lock().unwrap().extend(refusals);
            Box::pin(async {})
        }
    }

    fn refused(kind: RefusalKind, address: IpAddr) -> Refused<'static> {
        Refused {
            kind,
            address: Some(address),
            credential: None,
            route: "/mcp",
            reason: "invalid token",
            request_id: Some("r1"),
        }
    }

    #[tokio::test]
    async fn refusals_are_tallied_per_key_and_capped() {
        let sink = Arc::new(Collect(Mutex::default()));
        let refusals = Refusals::new("monitoring".into(), Some(sink.clone()), 2);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        for _ in 0..500 {
            refusals.note(refused(RefusalKind::Unauthorized, a));
        }
        refusals.note(refused(RefusalKind::RateLimited, a));
        // Past the cap of two keys: three more addresses, counted as overflow.
        for i in 2..5u8 {
            for _ in 0..10 {
                refusals.note(refused(
                    RefusalKind::Unauthorized,
                    IpAddr::from([10, 0, 0, i]),
                ));
            }
        }
        refusals.flush().await;
        let got = std::mem::take(&mut *sink.0.lock().unwrap());
        assert_eq!(got.len(), 3, "{got:#?}");
        let count = |kind, overflow| {
            got.iter()
                .find(|r| r.kind == kind && r.overflow == overflow)
                .map(|r| r.count)
        };
        assert_eq!(count(RefusalKind::Unauthorized, false), Some(500));
        assert_eq!(count(RefusalKind::RateLimited, false), Some(1));
        assert_eq!(count(RefusalKind::Unauthorized, true), Some(30));
        // The window was emptied: a flush with nothing new writes nothing.
        refusals.flush().await;
        assert!(sink.0.lock().unwrap().is_empty());
    }
}
