//! CORS for browser-based MCP clients on allowed origins.
//!
//! The origins are the Host/Origin guard's ([`OriginPolicy`]): loopback ones and those listed
//! in `allowed_origins`. The guard runs first and refuses any other origin with 403, so a
//! disallowed origin never gets a CORS header; an allowed one gets its preflight (`OPTIONS`)
//! answered here, before authentication (a preflight carries no credentials), and every answer
//! names it in `Access-Control-Allow-Origin` and exposes the headers a client must read.

use std::{sync::Arc, time::Duration};

use http::{HeaderName, Method};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::guard::OriginPolicy;

/// Request headers MCP clients send (streamable HTTP, both eras, and auth).
const ALLOWED_HEADERS: [&str; 9] = [
    "content-type",
    "accept",
    "authorization",
    "mcp-session-id",
    "mcp-protocol-version",
    "last-event-id",
    "mcp-method",
    "mcp-name",
    "x-request-id",
];

/// Response headers a browser client must be able to read.
const EXPOSED_HEADERS: [&str; 5] = [
    "mcp-session-id",
    "mcp-protocol-version",
    "www-authenticate",
    "retry-after",
    "x-request-id",
];

/// The CORS layer for the MCP routes, allowing exactly the origins `policy` allows.
pub(crate) fn layer(policy: Arc<OriginPolicy>) -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(move |origin, _| {
            origin
                .to_str()
                .is_ok_and(|origin| policy.origin_allowed(origin))
        }))
        .allow_methods([Method::GET, Method::POST, Method::DELETE, Method::OPTIONS])
        .allow_headers(ALLOWED_HEADERS.map(HeaderName::from_static))
        .expose_headers(EXPOSED_HEADERS.map(HeaderName::from_static))
        .max_age(Duration::from_secs(600))
}
