//! `analyze_logs`: the log engine over the world's logs for a window, against the window
//! before it — error rate per service over time, top templates, new templates, bursts.

use opsmcp_analysis::logs::{self, LogQuery, LogReport, ServiceLogs};
use opsmcp_mcp::Caller;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Monitoring;
use crate::ToolError;

/// What the model reads about this tool.
pub const DESCRIPTION: &str = "Analyze logs: mines the watched services' logs over a window \
into templates and compares them with the window just before. Per service: error rate over \
time, the top templates, templates that are new since the baseline, and bursts, each with counts \
and an example line (secrets redacted). Call with no arguments for the last 30 minutes of every \
service; narrow with `timeframe` (\"15m\", \"2h\", \"last 30 minutes\", or an ISO-8601 range \
\"start/end\"), `incident_id` (the incident's window), `service_filter` and `query` (only lines \
containing that text).";

/// The answer is cut to stay within this many bytes of JSON.
const BUDGET_BYTES: usize = 48 * 1024;

/// Arguments; all optional.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// An incident id (`INC-0042`): its window, from 30 minutes before it was opened until it
    /// was resolved (or now). `timeframe` overrides the window when both are given.
    #[serde(default)]
    pub incident_id: Option<String>,
    /// `15m`, `2h`, `last 30 minutes`, or an ISO-8601 range `start/end`; at most 24 h. Default:
    /// the last 30 minutes.
    #[serde(default)]
    pub timeframe: Option<String>,
    /// One service, or several separated by commas. All when omitted.
    #[serde(default)]
    pub service_filter: Option<String>,
    /// Only lines containing this text (case-insensitive), 1 to 200 characters.
    #[serde(default)]
    pub query: Option<String>,
}

/// The analysis.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// One line for a human: lines read, the error rates that rose most, new templates.
    pub summary: String,
    /// The incident whose window was used, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incident_id: Option<String>,
    /// What the logs show.
    #[serde(flatten)]
    pub report: LogReport,
    /// Anything the caller should know about how the answer was read.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// Resolves the window and services, then runs the log analysis.
pub async fn run(ctx: &Monitoring, _caller: &Caller, args: Args) -> Result<Output, ToolError> {
    let world = ctx.world.as_ref();
    let services = match args.service_filter.as_deref().map(str::trim) {
        None | Some("") => Vec::new(),
        Some(list) => {
            let names: Vec<String> = list
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect();
            for n in &names {
                super::check_service(world, Some(n)).map_err(|_| ToolError::InvalidArgument {
                    argument: "service_filter",
                    problem: format!(
                        "no service '{n}' is watched; send one or more of: {} (comma-separated), \
                         or omit it for all",
                        super::service_names(world).join(", ")
                    ),
                })?;
            }
            names
        }
    };
    if let Some(q) = &args.query
        && (q.trim().is_empty() || q.chars().count() > 200)
    {
        return Err(ToolError::InvalidArgument {
            argument: "query",
            problem: "send 1 to 200 characters of text to look for, or omit it".into(),
        });
    }
    let scope = crate::scope::analysis(
        ctx.store.as_ref(),
        args.incident_id.as_deref(),
        args.timeframe.as_deref(),
    )
    .await?;
    let query = LogQuery {
        services,
        contains: args.query.map(|q| q.trim().to_string()),
    };
    let report = logs::analyze(world, &scope.window, &query, BUDGET_BYTES)
        .await
        .map_err(super::analysis_error)?;
    let mut notes = Vec::new();
    if !world.has_log_sources() {
        notes.push(crate::log_analytics::get_raw_logs::NO_LOG_SOURCE.to_string());
    }
    Ok(Output {
        summary: summary(&report),
        incident_id: args.incident_id,
        report,
        notes,
    })
}

/// Services named in the summary, the error rate that rose most first.
const SUMMARY_SERVICES: usize = 3;

/// Lines read, the services whose error rate rose most, and how many templates are new.
fn summary(report: &LogReport) -> String {
    let mut rose: Vec<&ServiceLogs> = report
        .services
        .iter()
        .filter(|s| s.error_rate > s.baseline_error_rate)
        .collect();
    rose.sort_by(|a, b| {
        (b.error_rate - b.baseline_error_rate).total_cmp(&(a.error_rate - a.baseline_error_rate))
    });
    let mut parts = vec![format!(
        "{} line(s) ({} in the window before)",
        report.lines, report.baseline_lines
    )];
    parts.push(if rose.is_empty() {
        "no error rate rose".to_string()
    } else {
        format!(
            "error rate up: {}",
            rose.iter()
                .take(SUMMARY_SERVICES)
                .map(|s| format!(
                    "{} {:.3} (before {:.3})",
                    s.service, s.error_rate, s.baseline_error_rate
                ))
                .collect::<Vec<_>>()
                .join(", ")
        )
    });
    let new: usize = report.services.iter().map(|s| s.new_templates.len()).sum();
    if new > 0 {
        parts.push(format!("{new} new template(s)"));
    }
    parts.join("; ")
}
