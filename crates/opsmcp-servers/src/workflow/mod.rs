//! The workflow orchestration server (port 9002): incidents, remediation, postmortems,
//! notifications, and the Alertmanager webhook.
//!
//! Each tool lives in its own file with the same shape; this file only routes calls to them and
//! records each in the audit log. Incidents, their postmortems and charts are also MCP resources
//! (`resources.rs`: `incident://INC-0001…`, templates, completion of ids), and the phases that
//! change things (remediate, document, notify) and the whole responder prompt are its prompts
//! (`crate::prompts`).

pub mod alertmanager_webhook;
pub mod await_approval;
pub mod create_incident;
pub mod deploy_webhook;
pub mod document_resolution;
pub mod execute_remediation;
pub mod get_incident;
pub mod list_incidents;
pub mod notify_team;
pub mod resources;
pub mod update_incident;

use std::{path::PathBuf, sync::Arc};

use opsmcp_store::Store;
use opsmcp_workflow::remediate::Verify;
use opsmcp_world::World;
use rmcp::{
    ErrorData, Json, RoleServer, ServerHandler,
    handler::server::{router::tool::ToolRouter, wrapper::Parameters},
    model::{
        CallToolRequestParams, CallToolResponse, CompleteRequestParams, CompleteResult,
        CompletionInfo, GetPromptRequestParams, GetPromptResponse, Implementation,
        ListPromptsResult, ListResourceTemplatesResult, ListResourcesResult,
        PaginatedRequestParams, ReadResourceRequestParams, ReadResourceResponse,
        ReadResourceResult, Reference, ServerCapabilities, ServerConfig,
    },
    service::RequestContext,
    tool, tool_handler, tool_router,
};

use opsmcp_mcp::{Caller, auth::Scope, policy::ToolRules};

use crate::{audit::Audit, handler::answer};

/// What the workflow tools work with.
pub struct Workflow {
    /// Incidents, remediations, outbox, audit.
    pub store: Store,
    /// The world actions run on and health is read from.
    pub world: Arc<dyn World>,
    /// How long a remediation watches health recover.
    pub verify: Verify,
    /// Where postmortems are written.
    pub postmortems: PathBuf,
    /// Where agent runs record their transcripts and reports (served as resources).
    pub runs: PathBuf,
    /// Queues notifications for the delivery worker.
    pub notifier: opsmcp_notify::Notifier,
}

/// The rmcp handler; cloning it is an `Arc` clone.
#[derive(Clone)]
pub struct WorkflowServer {
    ctx: Arc<Workflow>,
    audit: Audit,
    router: Arc<ToolRouter<Self>>,
}

impl std::fmt::Debug for WorkflowServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkflowServer").finish_non_exhaustive()
    }
}

crate::handler::plumbing!(WorkflowServer, Workflow);

impl WorkflowServer {
    /// What the host needs to know of each tool: the scope it takes, and which are expensive.
    pub fn tool_rules() -> ToolRules {
        ToolRules::new(
            &Self::all_tools().list_all(),
            &[("execute_remediation", Scope::Remediate)],
            &[],
        )
    }
}

#[tool_router]
impl WorkflowServer {
    #[tool(description = create_incident::DESCRIPTION, annotations(read_only_hint = false, destructive_hint = false, idempotent_hint = false, open_world_hint = false))]
    async fn create_incident(
        &self,
        Parameters(args): Parameters<create_incident::Args>,
        context: RequestContext<RoleServer>,
    ) -> Result<Json<create_incident::Output>, String> {
        answer(create_incident::run(&self.ctx, &Caller::of(&context), args).await)
    }

    #[tool(description = get_incident::DESCRIPTION, annotations(read_only_hint = true, open_world_hint = false))]
    async fn get_incident(
        &self,
        Parameters(args): Parameters<get_incident::Args>,
        context: RequestContext<RoleServer>,
    ) -> Result<Json<get_incident::Output>, String> {
        answer(get_incident::run(&self.ctx, &Caller::of(&context), args).await)
    }

    #[tool(description = list_incidents::DESCRIPTION, annotations(read_only_hint = true, open_world_hint = false))]
    async fn list_incidents(
        &self,
        Parameters(args): Parameters<list_incidents::Args>,
        context: RequestContext<RoleServer>,
    ) -> Result<Json<list_incidents::Output>, String> {
        answer(list_incidents::run(&self.ctx, &Caller::of(&context), args).await)
    }

    #[tool(description = update_incident::DESCRIPTION, annotations(read_only_hint = false, destructive_hint = false, open_world_hint = false))]
    async fn update_incident(
        &self,
        Parameters(args): Parameters<update_incident::Args>,
        context: RequestContext<RoleServer>,
    ) -> Result<Json<update_incident::Output>, String> {
        answer(update_incident::run(&self.ctx, &Caller::of(&context), args).await)
    }

    #[tool(description = execute_remediation::DESCRIPTION, annotations(read_only_hint = false, destructive_hint = true, idempotent_hint = false, open_world_hint = true))]
    async fn execute_remediation(
        &self,
        Parameters(args): Parameters<execute_remediation::Args>,
        context: RequestContext<RoleServer>,
    ) -> Result<Json<execute_remediation::Output>, String> {
        answer(execute_remediation::run(&self.ctx, &Caller::of(&context), args).await)
    }

    #[tool(description = await_approval::DESCRIPTION, annotations(read_only_hint = true, open_world_hint = false))]
    async fn await_approval(
        &self,
        Parameters(args): Parameters<await_approval::Args>,
        context: RequestContext<RoleServer>,
    ) -> Result<Json<await_approval::Output>, String> {
        answer(await_approval::run(&self.ctx, &Caller::of(&context), args).await)
    }

    #[tool(description = document_resolution::DESCRIPTION, annotations(read_only_hint = false, destructive_hint = false, open_world_hint = false))]
    async fn document_resolution(
        &self,
        Parameters(args): Parameters<document_resolution::Args>,
        context: RequestContext<RoleServer>,
    ) -> Result<Json<document_resolution::Output>, String> {
        answer(document_resolution::run(&self.ctx, &Caller::of(&context), args).await)
    }

    #[tool(description = notify_team::DESCRIPTION, annotations(read_only_hint = false, destructive_hint = false, idempotent_hint = true, open_world_hint = true))]
    async fn notify_team(
        &self,
        Parameters(args): Parameters<notify_team::Args>,
        context: RequestContext<RoleServer>,
    ) -> Result<Json<notify_team::Output>, String> {
        answer(notify_team::run(&self.ctx, &Caller::of(&context), args).await)
    }
}

#[tool_handler(router = self.router)]
impl ServerHandler for WorkflowServer {
    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        crate::audit::routed(&self.audit, self, &self.router, request, context).await
    }

    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_resources()
                .enable_prompts()
                .enable_completions()
                .build(),
        )
        .with_server_info(Implementation::new(
            "opsmcp-workflow",
            env!("CARGO_PKG_VERSION"),
        ))
        .with_instructions(
            "Workflow orchestration for incident response: create_incident (with dedup \
             keys), get_incident, list_incidents, update_incident (lifecycle), \
             execute_remediation (approval, verification, rollback, idempotency keys), \
             await_approval (wait for a human to approve a held action), \
             document_resolution (postmortem with charts; resolves the incident) and \
             notify_team. Every call is recorded in a hash-chained audit log. Resources: \
             incident://INC-0001 (the incident as JSON), incident://INC-0001/postmortem \
             (Markdown) and incident://INC-0001/charts/NAME.svg; prompts: incident-response \
             (the whole responder prompt), remediate, document, notify.",
        )
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        crate::audit::allowed(&context, Scope::Read)?;
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
                let uri = resources::WorkflowUri::parse(&request.uri)?;
                crate::audit::allowed(&context, uri.scope())?;
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
        crate::audit::allowed(&context, Scope::Read)?;
        let values = match &request.r#ref {
            Reference::Resource(template) => {
                let chosen = request
                    .context
                    .as_ref()
                    .and_then(|c| c.get_argument("incident_id"));
                resources::complete(
                    &self.ctx,
                    &template.uri,
                    &request.argument.name,
                    &request.argument.value,
                    chosen.map(String::as_str),
                )
                .await?
            }
            // No prompt of this server takes an argument, and a reference of a kind added
            // later has nothing of ours to complete.
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
        Ok(crate::prompts::list(crate::prompts::WORKFLOW))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        Ok(crate::prompts::get(crate::prompts::WORKFLOW, &request.name)?.into())
    }
}
