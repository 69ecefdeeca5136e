//! What every server's rmcp handler shares: [`answer`], a tool's result as its `#[tool]` fn
//! returns it, and [`plumbing!`], the constructor and tool router of a handler.
//!
//! Each server's `ServerHandler` still spells out `call_tool` (one call to
//! [`crate::audit::routed`]) and `list_prompts`/`get_prompt` (one call each to
//! [`crate::prompts`]): `#[tool_handler]` looks for a `call_tool` among the impl's items before
//! any macro in it expands, so a generated one would be defined twice, and what is left to share
//! of the other two is their signatures.

use rmcp::Json;

use crate::ToolError;

/// A tool's result as its `#[tool]` fn returns it: the output as structured content, or the
/// error's message as a tool error the model reads and can act on.
///
/// The `#[tool]` fns write the type out, `Result<Json<Output>, String>`, rather than through an
/// alias: rmcp's macro finds a tool's output schema by reading that spelling.
pub fn answer<T>(result: Result<T, ToolError>) -> Result<Json<T>, String> {
    result.map(Json).map_err(|e| e.to_string())
}

/// The constructor and tool router of a server handler, alike on every server: `new(ctx, audit)`,
/// `all_tools()` (every tool, built once) and `with_tools(switches)`. The handler is a struct
/// `$server { ctx: Arc<$ctx>, audit: Audit, router: Arc<ToolRouter<Self>> }` with a
/// `#[tool_router]` impl.
///
/// A macro rather than a generic function: the router is cached in a `static`, which must be one
/// per server type, and a generic function has one `static` for all the types it serves.
macro_rules! plumbing {
    ($server:ident, $ctx:ty) => {
        impl $server {
            /// A handler over `ctx`, recording every call in `audit`.
            pub fn new(ctx: ::std::sync::Arc<$ctx>, audit: $crate::audit::Audit) -> Self {
                Self {
                    ctx,
                    audit,
                    router: Self::all_tools(),
                }
            }

            /// Every tool, built once: tool schemas are generated at the first use, not per
            /// request.
            fn all_tools()
            -> ::std::sync::Arc<::rmcp::handler::server::router::tool::ToolRouter<Self>> {
                static ROUTER: ::std::sync::OnceLock<
                    ::std::sync::Arc<::rmcp::handler::server::router::tool::ToolRouter<$server>>,
                > = ::std::sync::OnceLock::new();
                ROUTER
                    .get_or_init(|| {
                        ::std::sync::Arc::new($crate::schema::portable(Self::tool_router()))
                    })
                    .clone()
            }

            /// Offers only the tools `switches` allow; the others are neither listed nor
            /// callable.
            pub fn with_tools(mut self, switches: &::opsmcp_mcp::policy::ToolSwitches) -> Self {
                let mut router = $crate::schema::portable(Self::tool_router());
                switches.prune(&mut router);
                self.router = ::std::sync::Arc::new(router);
                self
            }
        }
    };
}

pub(crate) use plumbing;
