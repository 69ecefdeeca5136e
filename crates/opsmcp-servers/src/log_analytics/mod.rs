//! The log analytics server (port 9003): raw logs into the analytics workspace, and model-written
//! Python run over them in the kernel sandbox. It also serves the `log-analytics` skill and the
//! investigate phase as MCP prompts (`crate::prompts`), so any client learns the fetch → script
//! → run → read loop from the server itself, and the workspace's files as MCP resources
//! (`resources.rs`: `analytics://PATH`).
//!
//! Each tool lives in its own file with the same shape; this file only routes calls to them.

pub mod execute_analysis_script;
pub mod get_raw_logs;
pub mod resources;
pub mod workspace;

use std::{path::PathBuf, sync::Arc};

use futures::future::BoxFuture;
use opsmcp_mcp::{Caller, CheckResult, HealthCheck, auth::Scope, policy::ToolRules};
use opsmcp_sandbox::{Sandbox, SandboxLimits};
use opsmcp_store::Store;
use opsmcp_world::World;
use rmcp::{
    ErrorData, Json, RoleServer, ServerHandler,
    handler::server::{router::tool::ToolRouter, wrapper::Parameters},
    model::{
        CompleteRequestParams, CompleteResult, CompletionInfo, GetPromptRequestParams,
        GetPromptResponse, Implementation, ListPromptsResult, ListResourceTemplatesResult,
        ListResourcesResult, PaginatedRequestParams, ReadResourceRequestParams,
        ReadResourceResponse, ReadResourceResult, Reference, ServerCapabilities, ServerConfig,
    },
    service::RequestContext,
    tool, tool_handler, tool_router,
};

use workspace::Workspace;

use crate::handler::answer;

/// What the tools work with.
pub struct LogAnalytics {
    /// Where logs come from, live or simulated.
    pub world: Arc<dyn World>,
    /// Incidents (their services and time windows).
    pub store: Store,
    /// `<data_dir>/analytics/`.
    pub workspace: Workspace,
    /// Runs scripts.
    pub sandbox: Sandbox,
}

impl LogAnalytics {
    /// Tools over `world` and `store`, keeping files in `<data_dir>/analytics/` (created here)
    /// and running scripts under `limits`.
    pub fn new(
        world: Arc<dyn World>,
        store: Store,
        data_dir: PathBuf,
        limits: SandboxLimits,
    ) -> std::io::Result<Self> {
        let workspace = Workspace::create(data_dir.join("analytics"))?;
        let sandbox = Sandbox::new(workspace.root().to_owned(), limits);
        Ok(LogAnalytics {
            world,
            store,
            workspace,
            sandbox,
        })
    }

    /// The `/health` check for this server's sandbox.
    pub fn sandbox_check(&self) -> SandboxCheck {
        SandboxCheck {
            sandbox: self.sandbox.clone(),
        }
    }
}

/// The rmcp handler; cloning it is an `Arc` clone, so one per request is cheap.
#[derive(Clone)]
pub struct LogAnalyticsServer {
    ctx: Arc<LogAnalytics>,
    audit: crate::audit::Audit,
    router: Arc<ToolRouter<Self>>,
}

impl std::fmt::Debug for LogAnalyticsServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogAnalyticsServer")
            .field("world", &self.ctx.world.info())
            .field("workspace", &self.ctx.workspace.root())
            .finish()
    }
}

crate::handler::plumbing!(LogAnalyticsServer, LogAnalytics);

impl LogAnalyticsServer {
    /// What the host needs to know of each tool: the scope it takes, and which are expensive.
    pub fn tool_rules() -> ToolRules {
        ToolRules::new(
            &Self::all_tools().list_all(),
            &[
                // Both are the analysis workflow: fetching logs into the workspace, and running
                // model-written code over them in the sandbox.
                ("get_raw_logs", Scope::Analyze),
                ("execute_analysis_script", Scope::Analyze),
            ],
            // Both read or write a whole window of logs: a week of them is tens of MB.
            &["get_raw_logs", "execute_analysis_script"],
        )
    }
}

#[tool_router]
impl LogAnalyticsServer {
    // Not read-only: it writes the data file into the workspace. Not destructive: it only ever
    // adds a new file.
    #[tool(description = get_raw_logs::DESCRIPTION, annotations(read_only_hint = false, destructive_hint = false, idempotent_hint = false, open_world_hint = false))]
    async fn get_raw_logs(
        &self,
        Parameters(args): Parameters<get_raw_logs::Args>,
        context: RequestContext<RoleServer>,
    ) -> Result<Json<get_raw_logs::Output>, String> {
        answer(get_raw_logs::run(&self.ctx, &Caller::of(&context), args).await)
    }

    // Destructive: `code` replaces the script at `script_path`.
    #[tool(description = execute_analysis_script::DESCRIPTION, annotations(read_only_hint = false, destructive_hint = true, idempotent_hint = false, open_world_hint = false))]
    async fn execute_analysis_script(
        &self,
        Parameters(args): Parameters<execute_analysis_script::Args>,
        context: RequestContext<RoleServer>,
    ) -> Result<Json<execute_analysis_script::Output>, String> {
        answer(execute_analysis_script::run(&self.ctx, &Caller::of(&context), args).await)
    }
}

#[tool_handler(router = self.router)]
impl ServerHandler for LogAnalyticsServer {
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
                .enable_resources()
                .enable_completions()
                .build(),
        )
        .with_server_info(Implementation::new(
            "opsmcp-log-analytics",
            env!("CARGO_PKG_VERSION"),
        ))
        .with_instructions(
            "Log analytics for incident response. get_raw_logs writes an incident's (or a \
             timeframe's) log entries to a JSON file in the analytics/ workspace and returns \
             its path, a summary and a first page; execute_analysis_script runs a Python script \
             (pass it as `code`) on that file in a kernel sandbox. The prompt `log-analytics` \
             explains the loop and the script contract; `investigate` is that phase of \
             working an incident. The workspace's files are resources: \
             analytics://INC-0001/logs-1.json (relative to analytics/).",
        )
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        crate::audit::allowed(&context, Scope::Analyze)?;
        Ok(ListResourcesResult::with_all_items(
            resources::list(&self.ctx).await?,
        ))
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        Ok(ListResourceTemplatesResult::with_all_items(
            resources::templates(),
        ))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let caller = Caller::of(&context);
        self.audit
            .read(&request.uri, &caller, async {
                crate::audit::allowed(&context, Scope::Analyze)?;
                let contents = resources::read(&self.ctx, &request.uri).await?;
                Ok(ReadResourceResult::new(vec![contents]).into())
            })
            .await
    }

    async fn complete(
        &self,
        request: CompleteRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CompleteResult, ErrorData> {
        crate::audit::allowed(&context, Scope::Analyze)?;
        let values = match &request.r#ref {
            Reference::Resource(template) => {
                resources::complete(
                    &self.ctx,
                    &template.uri,
                    &request.argument.name,
                    &request.argument.value,
                )
                .await?
            }
            // No prompt of this server takes an argument.
            _ => Vec::new(),
        };
        let info = CompletionInfo::new(values).map_err(|e| ErrorData::internal_error(e, None))?;
        Ok(CompleteResult::new(info))
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        Ok(crate::prompts::list(crate::prompts::LOG_ANALYTICS))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        Ok(crate::prompts::get(crate::prompts::LOG_ANALYTICS, &request.name)?.into())
    }
}

/// `/health` check: scripts can run, and under which layers.
pub struct SandboxCheck {
    sandbox: Sandbox,
}

impl HealthCheck for SandboxCheck {
    fn name(&self) -> &str {
        "sandbox"
    }

    fn check(&self) -> BoxFuture<'_, CheckResult> {
        Box::pin(async move {
            match self.sandbox.ready() {
                Ok(()) => {
                    let sandbox = self.sandbox.clone();
                    let usage = tokio::task::spawn_blocking(move || sandbox.workspace_usage())
                        .await
                        .ok()
                        .and_then(Result::ok);
                    let l = self.sandbox.limits();
                    CheckResult::ok(serde_json::json!({
                        "layers": Sandbox::probe().active(),
                        "cgroup": Sandbox::probe().cgroup,
                        "cgroup_v1": Sandbox::probe().cgroup_v1,
                        "workspace": {
                            "used_bytes": usage.as_ref().map(|u| u.bytes),
                            "used_files": usage.as_ref().map(|u| u.files),
                            "output_folders": usage.as_ref().map(|u| u.output_folders),
                            "output_bytes": usage.as_ref().map(|u| u.output_bytes),
                            "quota_mb": l.workspace_mb,
                            "quota_files": l.workspace_files,
                            "keep_outputs_hours": l.keep_outputs_hours,
                            "keep_outputs_mb": l.keep_outputs_mb,
                        },
                    }))
                }
                Err(e) => CheckResult::failing(format!(
                    "{e}; execute_analysis_script is refused until this is fixed (get_raw_logs \
                     still works)"
                )),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opsmcp_world::sim::{SimWorld, SimulatedWorld, builtin};

    async fn tools(tmp: &std::path::Path) -> LogAnalytics {
        let scenario = builtin::load("db-connection-pool-exhaustion").unwrap();
        let world = SimulatedWorld::new(
            SimWorld::new(scenario, 1, jiff::Timestamp::now()),
            Default::default(),
        );
        let store = Store::open(&format!("sqlite://{}", tmp.join("opsmcp.db").display()))
            .await
            .unwrap();
        LogAnalytics::new(
            Arc::new(world),
            store,
            tmp.to_owned(),
            SandboxLimits::default(),
        )
        .unwrap()
    }

    #[tokio::test]
    async fn without_landlock_health_fails_and_scripts_are_refused_with_the_reason() {
        let tmp = tempfile::tempdir().unwrap();
        let mut la = tools(tmp.path()).await;
        la.sandbox = la.sandbox.clone().simulate_missing_landlock();
        let health = la.sandbox_check().check().await;
        assert!(!health.healthy);
        assert!(
            health.detail.to_string().contains("Landlock"),
            "{}",
            health.detail
        );

        let logs = get_raw_logs::run(&la, &Caller::local(), get_raw_logs::Args::default())
            .await
            .expect("fetching logs needs no sandbox");
        let err = execute_analysis_script::run(
            &la,
            &Caller::local(),
            execute_analysis_script::Args {
                script_path: "a.py".into(),
                log_data_path: logs.log_data_path,
                code: Some("print(1)".into()),
            },
        )
        .await
        .unwrap_err()
        .to_string();
        assert!(err.contains("Landlock") && err.contains("refused"), "{err}");
        // Nothing was saved for a run that cannot happen.
        assert!(!tmp.path().join("analytics/a.py").exists());
    }

    /// F7 of issue 18: concurrent calls saving their own `code` at the same `script_path` each
    /// run the code they sent, never another call's saved over it in between.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_calls_with_code_at_one_path_each_run_their_own() {
        let tmp = tempfile::tempdir().unwrap();
        let la = Arc::new(tools(tmp.path()).await);
        if la.sandbox.ready().is_err() {
            eprintln!("no sandbox on this machine: {:?}", la.sandbox.ready());
            return;
        }
        let logs = get_raw_logs::run(&la, &Caller::local(), get_raw_logs::Args::default())
            .await
            .expect("logs");
        let calls: Vec<_> = (0..6)
            .map(|i| {
                let la = la.clone();
                let data = logs.log_data_path.clone();
                tokio::spawn(async move {
                    let out = execute_analysis_script::run(
                        &la,
                        &Caller::local(),
                        execute_analysis_script::Args {
                            script_path: "INC-race/shared.py".into(),
                            log_data_path: data,
                            code: Some(format!("print('TOKEN {i}')\n")),
                        },
                    )
                    .await
                    .expect("run");
                    (i, out)
                })
            })
            .collect();
        for call in calls {
            let (i, out) = call.await.unwrap();
            assert!(out.succeeded, "{out:?}");
            assert_eq!(
                out.stdout,
                format!("TOKEN {i}\n"),
                "call {i} ran another's code"
            );
        }
    }
}
