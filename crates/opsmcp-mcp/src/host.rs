//! One port, one handler: `/mcp`, `/sse`, `/messages`, `/health`, and the shutdown sequence.

use std::{sync::Arc, time::Instant};

use axum::{Router, middleware, routing::get, routing::post};
use rmcp::{
    ServerHandler,
    transport::streamable_http_server::{
        StreamableHttpServerConfig, StreamableHttpService, session::local::LocalSessionManager,
    },
};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower_http::limit::RequestBodyLimitLayer;

use crate::{
    HealthCheck, HostError, HostSettings, accept,
    auth::Authenticator,
    cors,
    drain::{self, Drain},
    gate::{self, Gate},
    guard::{self, Guard, OriginPolicy},
    health::{self, HealthState},
    owners::{self, Owners},
    refusals::{self, RefusalSink, Refusals},
    sse::{self, SseState},
};

/// An MCP server ready to be put on a port: settings, a handler factory, health checks.
///
/// The factory is called once per stateless request, per legacy session and per `/sse` session,
/// so a handler should be cheap to make (share state behind an `Arc`).
pub struct McpHost<H> {
    settings: HostSettings,
    factory: Arc<dyn Fn() -> H + Send + Sync>,
    checks: Vec<Arc<dyn HealthCheck>>,
    extra: Option<Router>,
    refusals: Option<Arc<dyn RefusalSink>>,
}

impl<H> McpHost<H>
where
    H: ServerHandler + Send + 'static,
{
    /// A host for the handlers `factory` makes.
    pub fn new(settings: HostSettings, factory: impl Fn() -> H + Send + Sync + 'static) -> Self {
        Self {
            settings,
            factory: Arc::new(factory),
            checks: Vec::new(),
            extra: None,
            refusals: None,
        }
    }

    /// Where requests refused at the door (401, 403, 429) go, tallied per caller and route
    /// over `refusal_window` (the audit log). Without one they are only traced and counted in
    /// metrics.
    pub fn with_refusals(mut self, sink: impl RefusalSink + 'static) -> Self {
        self.refusals = Some(Arc::new(sink));
        self
    }

    /// Adds a check that `/health` runs.
    pub fn with_check(mut self, check: impl HealthCheck + 'static) -> Self {
        self.checks.push(Arc::new(check));
        self
    }

    /// Adds routes of the server's own beside the MCP ones (the workflow server's Alertmanager
    /// webhook). They get the body limit and the Host/Origin guard (they change state, so a
    /// DNS-rebinding page must not reach them; machines send an allowed Host and no Origin);
    /// with auth configured they need a token with the `write` scope.
    pub fn with_routes(mut self, routes: Router) -> Self {
        self.extra = Some(match self.extra.take() {
            Some(r) => r.merge(routes),
            None => routes,
        });
        self
    }

    /// The routes, wired to `stop` (stop taking work) and `force` (end what is left).
    fn router(
        &self,
        stop: &CancellationToken,
        force: &CancellationToken,
        drain: &Drain,
        gate: &Arc<Gate>,
    ) -> Router {
        let s = &self.settings;
        let policy = Arc::new(OriginPolicy::new(&s.allowed_hosts, &s.allowed_origins));
        let guard = Guard {
            policy: policy.clone(),
            refusals: gate.refusals.clone(),
        };

        let factory = self.factory.clone();
        // Host/Origin checks are ours (guard.rs) for every route, so rmcp's are turned off.
        let config = StreamableHttpServerConfig::default()
            .disable_allowed_hosts()
            .disable_allowed_origins()
            .with_legacy_session_mode(s.legacy_sessions)
            .with_json_response(!s.legacy_sessions)
            .with_sse_keep_alive(Some(s.sse_keep_alive))
            .with_max_request_body_bytes(s.max_body_bytes)
            .with_cancellation_token(force.clone());
        let streamable = StreamableHttpService::new(
            move || Ok(factory()),
            Arc::new(LocalSessionManager::default()),
            config,
        );

        let sse_state = Arc::new(
            SseState::new(
                s.server_name.clone(),
                self.factory.clone(),
                s.sse_keep_alive,
                &s.edge,
                stop.clone(),
                force.clone(),
                drain.clone(),
            )
            .with_refusals(gate.refusals.clone()),
        );
        let sse_routes = Router::new()
            .route("/sse", get(sse::open::<H>))
            .route("/messages", post(sse::post::<H>))
            .with_state(sse_state);

        let mut mcp = Router::new().nest_service("/mcp", streamable);
        if s.legacy_sessions {
            let owners = Arc::new(Owners::new(gate.refusals.clone()));
            mcp = mcp.layer(middleware::from_fn_with_state(owners, owners::enforce));
        }
        let mcp_routes = mcp
            .layer(middleware::from_fn(accept::negotiate))
            .merge(sse_routes)
            .layer(middleware::from_fn_with_state(
                drain.clone(),
                drain::track_posts,
            ))
            .layer(middleware::from_fn_with_state(gate.clone(), gate::enforce))
            // Preflights are answered before the gate (they carry no credentials), and only
            // for origins the guard let through.
            .layer(cors::layer(policy.clone()))
            .layer(middleware::from_fn_with_state(
                guard.clone(),
                guard::enforce,
            ));
        // RFC 9728: at the root, and with the MCP endpoint's path appended, as clients try both.
        let metadata_routes = Router::new()
            .route(
                "/.well-known/oauth-protected-resource",
                get(gate::resource_metadata),
            )
            .route(
                "/.well-known/oauth-protected-resource/mcp",
                get(gate::resource_metadata),
            )
            .with_state(gate.clone());

        let protocol_versions = (self.factory)()
            .supported_protocol_versions()
            .iter()
            .map(|v| v.to_string())
            .collect();
        let health_state = HealthState {
            server: s.server_name.clone(),
            version: s.version.clone(),
            started: Instant::now(),
            protocol_versions,
            checks: Arc::new(self.checks.clone()),
            stop: stop.clone(),
        };
        let health_routes = Router::new()
            .route("/health", get(health::health))
            .with_state(health_state);

        // Probes and scrapers send any Host (a pod's address); a browser's foreign Origin is
        // still refused.
        let open_routes = health_routes
            .route("/metrics", get(crate::metrics::render))
            .layer(middleware::from_fn_with_state(
                guard.clone(),
                guard::enforce_origin,
            ));
        let mut all = mcp_routes.merge(open_routes).merge(metadata_routes);
        if let Some(extra) = &self.extra {
            all = all.merge(
                extra
                    .clone()
                    .layer(middleware::from_fn_with_state(gate.clone(), gate::protect))
                    .layer(middleware::from_fn_with_state(guard, guard::enforce)),
            );
        }
        // axum's extractors (the webhook's JSON) would otherwise stop at their own 2 MiB.
        all.layer(axum::extract::DefaultBodyLimit::max(s.max_body_bytes))
            .layer(RequestBodyLimitLayer::new(s.max_body_bytes))
    }

    /// Serves on `listener` until `stop` is cancelled, then shuts down gracefully: stops
    /// accepting connections, lets calls in flight finish within the grace period, ends the
    /// remaining streams and returns.
    pub async fn serve(
        self,
        listener: TcpListener,
        stop: CancellationToken,
    ) -> Result<(), HostError> {
        let force = CancellationToken::new();
        let drain = Drain::default();
        let name = self.settings.server_name.clone();
        // Installs the process's registry before the first request is counted.
        crate::metrics::handle();
        let auth = if self.settings.auth.enabled() {
            Some(
                Authenticator::new(&self.settings.auth).map_err(|source| HostError::Auth {
                    server: name.clone(),
                    source,
                })?,
            )
        } else {
            None
        };
        let refusals = Arc::new(Refusals::new(
            name.clone(),
            self.refusals.clone(),
            refusals::MAX_KEYS,
        ));
        let gate = Arc::new(Gate::new(
            name.clone(),
            auth,
            self.settings.tools.clone(),
            &self.settings.limits,
            if self.settings.tls.is_some() {
                "https"
            } else {
                "http"
            },
            self.settings.max_body_bytes,
            refusals.clone(),
        ));
        let router = self.router(&stop, &force, &drain, &gate);
        let grace = self.settings.shutdown_grace;

        // Rate-limit state of callers gone quiet is dropped every minute.
        let forget = {
            let (gate, stop) = (gate.clone(), stop.clone());
            tokio::spawn(async move {
                let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
                loop {
                    tokio::select! {
                        _ = every.tick() => gate.forget_idle(),
                        _ = stop.cancelled() => return,
                    }
                }
            })
        };
        crate::edge::check_fd_limit(&name, &self.settings.edge);
        let admission = crate::edge::Admission::new(name.clone(), &self.settings.edge);
        let edge = self.settings.edge.clone();
        let accepting = stop.clone();
        let mut server = match &self.settings.tls {
            None => tokio::spawn(async move {
                crate::edge::serve(listener, router, admission, edge, accepting).await;
                Ok::<(), std::io::Error>(())
            }),
            Some(tls) => {
                let listener = crate::tls::TlsListener::start(listener, tls, stop.clone())
                    .map_err(|source| HostError::Tls {
                        server: name.clone(),
                        source,
                    })?;
                tokio::spawn(async move {
                    crate::edge::serve(listener, router, admission, edge, accepting).await;
                    Ok::<(), std::io::Error>(())
                })
            }
        };
        let _forget = AbortOnDrop(forget);
        // Its own token: the server can also end without `stop` (a listener error).
        let tally_stop = stop.child_token();
        let tally = tokio::spawn(
            refusals
                .clone()
                .run(self.settings.refusal_window, tally_stop.clone()),
        );
        let result = run_until_done(&name, &mut server, grace, &stop, &force, &drain).await;
        // The last window's refusals, those of the shutdown included, are written before
        // `serve` returns (the process exits after it). A window being written is let finish.
        tally_stop.cancel();
        let _ = tally.await;
        refusals.flush().await;
        result
    }
}

/// Serves until `stop`, then shuts down within the grace period.
async fn run_until_done(
    name: &str,
    server: &mut tokio::task::JoinHandle<std::io::Result<()>>,
    grace: std::time::Duration,
    stop: &CancellationToken,
    force: &CancellationToken,
    drain: &Drain,
) -> Result<(), HostError> {
    tokio::select! {
        result = &mut *server => return finished(name, result),
        _ = stop.cancelled() => {}
    }
    tracing::info!(server = %name, in_flight = drain.count(), "shutting down");
    if tokio::time::timeout(grace, drain.idle()).await.is_err() {
        tracing::warn!(server = %name, in_flight = drain.count(), ?grace,
                "grace period over; ending calls still in flight");
    }
    force.cancel();
    // Streams end on `force`; connections then close. Bound the wait anyway.
    match tokio::time::timeout(std::time::Duration::from_secs(2), &mut *server).await {
        Ok(result) => finished(name, result),
        Err(_) => {
            server.abort();
            Ok(())
        }
    }
}

fn finished(
    name: &str,
    result: Result<std::io::Result<()>, tokio::task::JoinError>,
) -> Result<(), HostError> {
    match result {
        Ok(Ok(())) => Ok(()),
        Ok(Err(source)) => Err(HostError::Serve {
            server: name.to_string(),
            source,
        }),
        Err(join) => Err(HostError::Serve {
            server: name.to_string(),
            source: std::io::Error::other(join.to_string()),
        }),
    }
}

/// Aborts a helper task when the host returns.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
