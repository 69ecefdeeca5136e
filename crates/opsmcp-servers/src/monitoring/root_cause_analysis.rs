//! `root_cause_analysis`: metric change points, log anomalies, change events and the dependency
//! graph, correlated into ranked hypotheses with evidence and the remediation to try.

use opsmcp_analysis::rca::{self, RcaReport, RcaRequest};
use opsmcp_mcp::Caller;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Monitoring;
use crate::ToolError;

/// What the model reads about this tool.
pub const DESCRIPTION: &str = "Root cause analysis: correlates which signals left their normal \
range and when, what changed in the logs, change events (deploys, config pushes, cron jobs) and \
the service dependency graph into ranked hypotheses. Each has a root-cause type \
(connection-pool-exhaustion, memory-leak, bad-deploy, disk-full, slow-dependency, \
certificate-expired, runaway-job, cache-stampede, bad-config-push), the component, a \
confidence, evidence for and against with numbers and times, the propagation path through \
dependencies, the remediation action to try (one the world offers on that component, for \
execute_remediation) and what would confirm it. Call with no arguments for the last 30 minutes; \
pass `incident_id` for an incident's window, `timeframe` (\"15m\", \"2h\", ISO \"start/end\"), \
and `symptoms` (what was reported) to focus it.";

/// The answer is cut to stay within this many bytes of JSON.
const BUDGET_BYTES: usize = 48 * 1024;

/// What was reported: one text or several.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Symptoms {
    /// One description.
    One(String),
    /// Several.
    Many(Vec<String>),
}

/// Arguments; all optional.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// An incident id (`INC-0042`): its window, and its affected services as symptoms.
    #[serde(default)]
    pub incident_id: Option<String>,
    /// `15m`, `2h`, `last 30 minutes`, or an ISO-8601 range `start/end`; at most 24 h. Default:
    /// the last 30 minutes (or the incident's window).
    #[serde(default)]
    pub timeframe: Option<String>,
    /// What was reported ("checkout-api 5xx above 5%", "slow orders"); services named here
    /// are the symptoms hypotheses must explain. At most 20, each at most 500 characters.
    #[serde(default)]
    pub symptoms: Option<Symptoms>,
}

/// The hypotheses.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// The incident whose window was used, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incident_id: Option<String>,
    /// The analysis.
    #[serde(flatten)]
    pub report: RcaReport,
}

/// Resolves the window and symptoms, then runs the analysis.
pub async fn run(ctx: &Monitoring, _caller: &Caller, args: Args) -> Result<Output, ToolError> {
    let mut symptoms = match args.symptoms {
        None => Vec::new(),
        Some(Symptoms::One(s)) => vec![s],
        Some(Symptoms::Many(v)) => v,
    };
    if symptoms.len() > 20 || symptoms.iter().any(|s| s.chars().count() > 500) {
        return Err(ToolError::InvalidArgument {
            argument: "symptoms",
            problem: "send at most 20 descriptions of at most 500 characters each".into(),
        });
    }
    let scope = crate::scope::analysis(
        ctx.store.as_ref(),
        args.incident_id.as_deref(),
        args.timeframe.as_deref(),
    )
    .await?;
    symptoms.extend(scope.services);
    let mut report = rca::analyze(
        ctx.world.as_ref(),
        &RcaRequest {
            window: scope.window,
            symptoms,
        },
    )
    .await
    .map_err(super::analysis_error)?;
    rca::fit(&mut report, BUDGET_BYTES);
    Ok(Output {
        incident_id: args.incident_id,
        report,
    })
}
