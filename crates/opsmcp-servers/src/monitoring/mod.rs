//! The monitoring & analysis server (port 9001): metrics, logs, root causes and health of what
//! is watched.
//!
//! Each tool lives in its own file with the same shape; this file only routes calls to them. The
//! phases worked with these tools (detect, root-cause, verify) are its prompts
//! (`crate::prompts`).

pub mod analyze_logs;
pub mod get_system_metrics;
pub mod root_cause_analysis;
pub mod verify_health;

use std::{sync::Arc, time::Duration};

use futures::future::BoxFuture;
use opsmcp_analysis::AnalysisError;
use opsmcp_mcp::{Caller, CheckResult, HealthCheck, policy::ToolRules};
use opsmcp_store::Store;
use opsmcp_world::{World, live::host::HostMonitor};
use rmcp::{
    ErrorData, Json, RoleServer, ServerHandler,
    handler::server::{router::tool::ToolRouter, wrapper::Parameters},
    model::{
        GetPromptRequestParams, GetPromptResponse, Implementation, ListPromptsResult,
        PaginatedRequestParams, ServerCapabilities, ServerConfig,
    },
    service::RequestContext,
    tool, tool_handler, tool_router,
};

use crate::handler::answer;

/// What the monitoring tools work with.
pub struct Monitoring {
    /// What is watched: a world, live or simulated; the tools cannot tell which.
    pub world: Arc<dyn World>,
    /// Incidents, to turn an incident id into a window (none: tools refuse `incident_id` and
    /// say what to send instead).
    pub store: Option<Store>,
}

/// The rmcp handler; cloning it is an `Arc` clone, so one per request is cheap.
#[derive(Clone)]
pub struct MonitoringServer {
    ctx: Arc<Monitoring>,
    audit: crate::audit::Audit,
    router: Arc<ToolRouter<Self>>,
}

/// An analysis failure as the caller sees it.
fn analysis_error(e: AnalysisError) -> crate::ToolError {
    match e {
        AnalysisError::Invalid(problem) => crate::ToolError::InvalidArgument {
            argument: "arguments",
            problem,
        },
        other => crate::ToolError::Unavailable(other.to_string()),
    }
}

/// The names of the services the world watches.
fn service_names(world: &dyn World) -> Vec<String> {
    world.services().into_iter().map(|s| s.name).collect()
}

impl std::fmt::Debug for MonitoringServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MonitoringServer")
            .field("world", &self.ctx.world.info())
            .finish()
    }
}

crate::handler::plumbing!(MonitoringServer, Monitoring);

impl MonitoringServer {
    /// What the host needs to know of each tool: the scope it takes, and which are expensive.
    pub fn tool_rules() -> ToolRules {
        ToolRules::new(&Self::all_tools().list_all(), &[], &["root_cause_analysis"])
    }
}

#[tool_router]
impl MonitoringServer {
    #[tool(description = get_system_metrics::DESCRIPTION, annotations(read_only_hint = true, open_world_hint = false))]
    async fn get_system_metrics(
        &self,
        Parameters(args): Parameters<get_system_metrics::Args>,
        context: RequestContext<RoleServer>,
    ) -> Result<Json<get_system_metrics::Output>, String> {
        answer(get_system_metrics::run(&self.ctx, &Caller::of(&context), args).await)
    }

    #[tool(description = analyze_logs::DESCRIPTION, annotations(read_only_hint = true, open_world_hint = false))]
    async fn analyze_logs(
        &self,
        Parameters(args): Parameters<analyze_logs::Args>,
        context: RequestContext<RoleServer>,
    ) -> Result<Json<analyze_logs::Output>, String> {
        answer(analyze_logs::run(&self.ctx, &Caller::of(&context), args).await)
    }

    #[tool(description = root_cause_analysis::DESCRIPTION, annotations(read_only_hint = true, open_world_hint = false))]
    async fn root_cause_analysis(
        &self,
        Parameters(args): Parameters<root_cause_analysis::Args>,
        context: RequestContext<RoleServer>,
    ) -> Result<Json<root_cause_analysis::Output>, String> {
        answer(root_cause_analysis::run(&self.ctx, &Caller::of(&context), args).await)
    }

    #[tool(description = verify_health::DESCRIPTION, annotations(read_only_hint = true, open_world_hint = true))]
    async fn verify_health(
        &self,
        Parameters(args): Parameters<verify_health::Args>,
        context: RequestContext<RoleServer>,
    ) -> Result<Json<verify_health::Output>, String> {
        answer(verify_health::run(&self.ctx, &Caller::of(&context), args).await)
    }
}

#[tool_handler(router = self.router)]
impl ServerHandler for MonitoringServer {
    async fn call_tool(
        &self,
        request: rmcp::model::CallToolRequestParams,
        context: rmcp::service::RequestContext<rmcp::RoleServer>,
    ) -> Result<rmcp::model::CallToolResponse, rmcp::ErrorData> {
        crate::audit::routed(&self.audit, self, &self.router, request, context).await
    }

    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_prompts()
                .build(),
        )
        .with_server_info(Implementation::new(
            "opsmcp-monitoring",
            env!("CARGO_PKG_VERSION"),
        ))
        .with_instructions(
            "Monitoring & analysis for incident response. get_system_metrics returns every \
                 watched service's signals beside their baselines (and, on a live system, this \
                 host's CPU, load, memory, swap, disks, network and top processes); \
                 analyze_logs mines the logs of a window against the window before it; \
                 root_cause_analysis ranks root-cause hypotheses with evidence and the \
                 remediation to try; verify_health judges each service healthy, degraded or \
                 unhealthy with the numbers behind the verdict. All work with no arguments. \
                 Prompts: detect, root-cause and verify, the phases of working an incident \
                 that use these tools.",
        )
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        Ok(crate::prompts::list(crate::prompts::MONITORING))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        Ok(crate::prompts::get(crate::prompts::MONITORING, &request.name)?.into())
    }
}

/// Refuses a `service` argument the world does not watch, listing the ones it does.
fn check_service(world: &dyn World, service: Option<&str>) -> Result<(), crate::ToolError> {
    let Some(wanted) = service else { return Ok(()) };
    let known = service_names(world);
    if known.iter().any(|k| k == wanted) {
        return Ok(());
    }
    Err(crate::ToolError::InvalidArgument {
        argument: "service",
        problem: format!(
            "no service '{wanted}' is watched; send one of: {}, or omit it for all",
            known.join(", ")
        ),
    })
}

/// `/health` check: the host sampler is producing readings.
pub struct SamplerCheck {
    /// The sampler to watch.
    pub host: HostMonitor,
    /// Oldest acceptable reading.
    pub max_age: Duration,
}

impl HealthCheck for SamplerCheck {
    fn name(&self) -> &str {
        "host_sampler"
    }

    fn check(&self) -> BoxFuture<'_, CheckResult> {
        Box::pin(async move {
            if let Some(why) = self.host.failure() {
                return CheckResult::failing(format!("the host sampler stopped: {why}"));
            }
            match self.host.age() {
                // Tools wait for the first reading, so a starting server is healthy.
                None => CheckResult::ok("first reading in progress"),
                Some(age) if age <= self.max_age => {
                    CheckResult::ok(format!("last reading {} ms ago", age.as_millis()))
                }
                Some(age) => CheckResult::failing(format!(
                    "the last host reading is {} s old (expected every {} s or less); the \
                     sampler thread is stuck or starved",
                    age.as_secs(),
                    self.max_age.as_secs()
                )),
            }
        })
    }
}
