//! DNS-rebinding guard: `Host` and `Origin` validation for every MCP route.
//!
//! `/health` and `/metrics` answer any `Host` (orchestrator probes and scrapers send the pod's
//! address), but not a foreign `Origin`: a page in a browser must not read them either.
//!
//! rmcp checks `Host` on `/mcp` but not `Origin` unless told to, and knows nothing of `/sse`. One
//! policy here covers `/mcp`, `/sse` and `/messages` alike, so the rmcp check is switched off
//! rather than kept as a second, differently worded copy.

use std::sync::Arc;

use axum::{
    extract::{Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};
use http::{HeaderMap, StatusCode, header};

use crate::{
    error::json_error,
    refusals::{RefusalKind, Refusals, Refused},
};

const LOOPBACK_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// The accepted `Host` and `Origin` values: loopback always, plus what settings add.
#[derive(Debug, Clone)]
pub struct OriginPolicy {
    hosts: Vec<String>,
    origins: Vec<String>,
}

impl OriginPolicy {
    /// Loopback plus the given extra hosts (`name` or `name:port`) and origins
    /// (`scheme://name[:port]`).
    pub fn new(extra_hosts: &[String], extra_origins: &[String]) -> Self {
        Self {
            hosts: extra_hosts.iter().map(|h| h.to_ascii_lowercase()).collect(),
            origins: extra_origins
                .iter()
                .map(|o| o.trim_end_matches('/').to_ascii_lowercase())
                .collect(),
        }
    }

    /// Why a request must be refused, if it must.
    pub fn check(&self, headers: &HeaderMap) -> Result<(), String> {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .ok_or_else(|| "the request has no readable Host header".to_string())?;
        if !self.host_allowed(host) {
            return Err(format!(
                "Host '{host}' is not allowed (DNS-rebinding protection); connect through \
                 localhost, or add this name to allowed_hosts (--allowed-host, OPSMCP_ALLOWED_HOSTS)"
            ));
        }
        self.check_origin(headers)
    }

    /// Why a request must be refused for its `Origin` alone, if it must (any `Host` passes).
    pub fn check_origin(&self, headers: &HeaderMap) -> Result<(), String> {
        if let Some(origin) = headers.get(header::ORIGIN) {
            let origin = origin
                .to_str()
                .map_err(|_| "the Origin header is not valid text".to_string())?;
            if !self.origin_allowed(origin) {
                return Err(format!(
                    "Origin '{origin}' is not allowed (cross-origin protection); if this web app is \
                     yours, add it to allowed_origins (--allowed-origin, OPSMCP_ALLOWED_ORIGINS)"
                ));
            }
        }
        Ok(())
    }

    fn host_allowed(&self, host: &str) -> bool {
        let host = host.to_ascii_lowercase();
        let name = host_name(&host);
        LOOPBACK_HOSTS.contains(&name) || self.hosts.iter().any(|h| *h == host || h == name)
    }

    pub(crate) fn origin_allowed(&self, origin: &str) -> bool {
        let origin = origin.trim_end_matches('/').to_ascii_lowercase();
        if self.origins.contains(&origin) {
            return true;
        }
        let Some((scheme, authority)) = origin.split_once("://") else {
            return false; // "null" and other opaque origins are only allowed when listed.
        };
        matches!(scheme, "http" | "https") && LOOPBACK_HOSTS.contains(&host_name(authority))
    }
}

/// The name part of `name`, `name:port`, `[v6]` or `[v6]:port`.
fn host_name(authority: &str) -> &str {
    if let Some(rest) = authority.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match authority.rsplit_once(':') {
        // A bare IPv6 address has several colons and no brackets: keep it whole.
        Some((name, port)) if !name.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => {
            name
        }
        _ => authority,
    }
}

/// The guard's state: the policy, and where its refusals are counted for the audit log.
#[derive(Clone)]
pub(crate) struct Guard {
    pub(crate) policy: Arc<OriginPolicy>,
    pub(crate) refusals: Arc<Refusals>,
}

/// Axum middleware applying the policy; 403 with a JSON body that says what to change.
pub(crate) async fn enforce(State(guard): State<Guard>, request: Request, next: Next) -> Response {
    let verdict = guard.policy.check(request.headers());
    refuse_or_run(&guard, verdict, request, next).await
}

/// Axum middleware for the open routes (`/health`, `/metrics`): any `Host`, no foreign `Origin`.
pub(crate) async fn enforce_origin(
    State(guard): State<Guard>,
    request: Request,
    next: Next,
) -> Response {
    let verdict = guard.policy.check_origin(request.headers());
    refuse_or_run(&guard, verdict, request, next).await
}

async fn refuse_or_run(
    guard: &Guard,
    verdict: Result<(), String>,
    request: Request,
    next: Next,
) -> Response {
    match verdict {
        Ok(()) => next.run(request).await,
        Err(why) => {
            tracing::warn!(uri = %request.uri(), reason = %why, "refused request");
            guard.refusals.note(Refused {
                kind: RefusalKind::HostOrOrigin,
                address: crate::refusals::client_address(&request),
                credential: None,
                route: crate::refusals::route_of(&request),
                reason: &why,
                request_id: None,
            });
            json_error(StatusCode::FORBIDDEN, why).into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(host: &str, origin: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, host.parse().unwrap());
        if let Some(o) = origin {
            h.insert(header::ORIGIN, o.parse().unwrap());
        }
        h
    }

    #[test]
    fn loopback_hosts_pass_with_and_without_ports() {
        let p = OriginPolicy::new(&[], &[]);
        for host in [
            "localhost",
            "127.0.0.1:9001",
            "[::1]:9001",
            "LOCALHOST:1",
            "::1",
        ] {
            assert!(p.check(&headers(host, None)).is_ok(), "{host}");
        }
    }

    #[test]
    fn foreign_hosts_are_refused_unless_listed() {
        let p = OriginPolicy::new(&["mcp.example.com".into(), "10.0.0.5:9001".into()], &[]);
        assert!(p.check(&headers("evil.example.com", None)).is_err());
        assert!(p.check(&headers("mcp.example.com:443", None)).is_ok());
        assert!(p.check(&headers("10.0.0.5:9001", None)).is_ok());
        assert!(p.check(&headers("10.0.0.5:9002", None)).is_err());
    }

    #[test]
    fn origins_must_be_loopback_or_listed() {
        let p = OriginPolicy::new(&[], &["https://inspector.example.com".into()]);
        assert!(
            p.check(&headers("localhost", Some("http://localhost:6274")))
                .is_ok()
        );
        assert!(
            p.check(&headers("localhost", Some("http://127.0.0.1")))
                .is_ok()
        );
        assert!(
            p.check(&headers(
                "localhost",
                Some("https://inspector.example.com/")
            ))
            .is_ok()
        );
        let err = p
            .check(&headers("localhost", Some("http://evil.example.com")))
            .unwrap_err();
        assert!(err.contains("allowed_origins"), "{err}");
        assert!(p.check(&headers("localhost", Some("null"))).is_err());
        assert!(
            p.check(&headers("localhost", Some("http://localhost.evil.com")))
                .is_err()
        );
    }
}
