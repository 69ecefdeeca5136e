//! The workflow server's MCP resources: incidents, what their resolution wrote, and the agent
//! runs that worked them.
//!
//! | URI | what | MIME |
//! |---|---|---|
//! | `incident://INC-0001` | the incident, timeline, remediations, notifications (what `get_incident` returns) | `application/json` |
//! | `incident://INC-0001/postmortem` | the postmortem `document_resolution` wrote | `text/markdown` |
//! | `incident://INC-0001/charts/NAME.svg` | one of its charts | `image/svg+xml` |
//! | `run://RUN_ID` | an agent run's transcript, one JSON object per step (first 1 MiB) | `application/jsonl` |
//! | `run://RUN_ID/report` | a simulated incident's run: its score and the agent's summary | `text/markdown` |
//!
//! Runs are what `opsmcp agent`, `run-scenario` and `demo` recorded under the data directory's
//! `runs/`: an agent started with this server's data directory (the default for both) is
//! listed here; one elsewhere keeps its record where it ran.
//!
//! Like a tool, each request is one shape: the URI parsed into [`WorkflowUri`], one lookup in
//! the domain (the store, or [`opsmcp_workflow::written`] for the files), the contents. The
//! handler in `mod.rs` only routes here and audits reads.
//!
//! `resources/list` offers the newest [`LISTED`] incidents and what they have written, not all
//! of them: a store of years would make every client's list unbounded. Older ones are reached
//! by the templates, and `completion/complete` completes their ids by prefix.

use opsmcp_mcp::auth::Scope;
use opsmcp_store::{IncidentFilter, PageRequest};
use opsmcp_workflow::written::{Runs, Written};
use rmcp::model::{Resource, ResourceContents, ResourceTemplate};

use super::{Workflow, get_incident};
use crate::ResourceError;

/// How many of the newest incidents `resources/list` shows.
pub const LISTED: u32 = 50;

/// The incident template.
pub const INCIDENT: &str = "incident://{incident_id}";
/// The postmortem template.
pub const POSTMORTEM: &str = "incident://{incident_id}/postmortem";
/// The chart template.
pub const CHART: &str = "incident://{incident_id}/charts/{chart}";
/// The run transcript template.
pub const TRANSCRIPT: &str = "run://{run_id}";
/// The run report template.
pub const REPORT: &str = "run://{run_id}/report";

/// How many of the newest runs `resources/list` shows.
pub const RUNS_LISTED: usize = 20;
/// The most of a transcript one read returns (the rest stays on disk, named in the answer).
pub const TRANSCRIPT_BYTES: usize = 1024 * 1024;

const SCHEME: &str = "incident://";
const RUN_SCHEME: &str = "run://";
const JSONL: &str = "application/jsonl";
const MARKDOWN: &str = "text/markdown";
const SVG: &str = "image/svg+xml";
const JSON: &str = "application/json";

/// What a client should send, said in every refusal of a URI.
const SHAPES: &str = "send incident://INC-0001 (the incident as JSON), \
incident://INC-0001/postmortem (its postmortem, Markdown) or incident://INC-0001/charts/NAME.svg \
(one of its charts), run://RUN_ID (an agent run's transcript) or run://RUN_ID/report (its \
report); resources/list shows the newest incidents and runs and what they have, \
resources/templates/list the URI templates";

/// A URI this server serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkflowUri {
    /// `incident://ID`.
    Incident(String),
    /// `incident://ID/postmortem`.
    Postmortem(String),
    /// `incident://ID/charts/NAME`.
    Chart(String, String),
    /// `run://ID`: a run's transcript.
    Transcript(String),
    /// `run://ID/report`.
    Report(String),
}

impl WorkflowUri {
    /// Parses `uri`; anything else is refused with the shapes to send. Ids are upper-cased
    /// (the store makes them `INC-` and digits), since URI hosts are often lower-cased by the
    /// libraries clients build them with.
    pub fn parse(uri: &str) -> Result<Self, ResourceError> {
        let malformed =
            |why: &str| ResourceError::Malformed(format!("resource URI {uri:?} {why}; {SHAPES}"));
        if let Some(rest) = uri.strip_prefix(RUN_SCHEME) {
            let rest = rest.strip_suffix('/').unwrap_or(rest);
            return match rest.split('/').collect::<Vec<_>>()[..] {
                [""] => Err(malformed("names no run")),
                [id] => Ok(Self::Transcript(id.to_string())),
                [id, "report"] => Ok(Self::Report(id.to_string())),
                _ => Err(malformed("has a path this server does not serve")),
            };
        }
        let rest = uri
            .strip_prefix(SCHEME)
            .ok_or_else(|| malformed("is not an incident:// or run:// URI"))?;
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        let parts: Vec<&str> = rest.split('/').collect();
        let id = parts[0].to_ascii_uppercase();
        if id.is_empty() {
            return Err(malformed("names no incident"));
        }
        if !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(malformed(
                "has an incident id that is not one (ids look like INC-0042)",
            ));
        }
        match parts[1..] {
            [] => Ok(Self::Incident(id)),
            ["postmortem"] => Ok(Self::Postmortem(id)),
            ["charts", name] if !name.is_empty() => Ok(Self::Chart(id, name.to_string())),
            _ => Err(malformed("has a path this server does not serve")),
        }
    }

    /// The scope a caller needs to read it: a run's transcript holds what every tool returned,
    /// the raw log lines of `get_raw_logs` and script output among it, so it takes the scope
    /// of the tools that return those (`analyze`); the rest is the incident's record (`read`).
    pub fn scope(&self) -> Scope {
        match self {
            Self::Transcript(_) | Self::Report(_) => Scope::Analyze,
            _ => Scope::Read,
        }
    }

    /// The URI again, in its canonical form.
    pub fn uri(&self) -> String {
        match self {
            Self::Incident(id) => format!("{SCHEME}{id}"),
            Self::Postmortem(id) => format!("{SCHEME}{id}/postmortem"),
            Self::Chart(id, name) => format!("{SCHEME}{id}/charts/{name}"),
            Self::Transcript(id) => format!("{RUN_SCHEME}{id}"),
            Self::Report(id) => format!("{RUN_SCHEME}{id}/report"),
        }
    }
}

/// `resources/templates/list`.
pub fn templates() -> Vec<ResourceTemplate> {
    vec![
        ResourceTemplate::new(INCIDENT, "incident")
            .with_title("Incident")
            .with_description(
                "An incident with its timeline, remediations (state before and after) and \
                 notifications, as get_incident returns it.",
            )
            .with_mime_type(JSON),
        ResourceTemplate::new(POSTMORTEM, "postmortem")
            .with_title("Postmortem")
            .with_description(
                "The postmortem document_resolution wrote for the incident (Markdown); not \
                 found until it has been written.",
            )
            .with_mime_type(MARKDOWN),
        ResourceTemplate::new(CHART, "chart")
            .with_title("Postmortem chart")
            .with_description(
                "One SVG chart of the postmortem (a signal that moved around the incident); \
                 the postmortem links them by name.",
            )
            .with_mime_type(SVG),
        ResourceTemplate::new(TRANSCRIPT, "run-transcript")
            .with_title("Agent run transcript")
            .with_description(
                "What an agent run did, one JSON object per step (tool calls, results, the \
                 model's text), as opsmcp agent / run-scenario recorded it; the first 1 MiB.",
            )
            .with_mime_type(JSONL),
        ResourceTemplate::new(REPORT, "run-report")
            .with_title("Agent run report")
            .with_description(
                "The report of an agent run on a simulated incident (run-scenario, demo): its \
                 score against the known root cause and the agent's summary (Markdown); \
                 written when the run ends.",
            )
            .with_mime_type(MARKDOWN),
    ]
}

/// `resources/list`: the newest [`LISTED`] incidents, each with its postmortem and charts when
/// written.
pub async fn list(ctx: &Workflow) -> Result<Vec<Resource>, ResourceError> {
    let page = ctx
        .store
        .list_incidents(&IncidentFilter::default(), &PageRequest::first(LISTED))
        .await?;
    let written = Written::new(&ctx.postmortems);
    let ids: Vec<String> = page.items.iter().map(|i| i.id.clone()).collect();
    // The postmortem folders are on disk: read them off the async workers.
    let files = tokio::task::spawn_blocking(move || {
        ids.iter()
            .map(|id| {
                // One unreadable folder leaves that incident's files out of the listing rather
                // than failing it; a read of them says what is wrong.
                let warn = |e: opsmcp_workflow::WorkflowError| {
                    tracing::warn!(incident = %id, error = %e, "postmortem folder not listed");
                };
                let has_postmortem = written.has_postmortem(id).unwrap_or_else(|e| {
                    warn(e);
                    false
                });
                let charts = written.charts(id).unwrap_or_else(|e| {
                    warn(e);
                    Vec::new()
                });
                (has_postmortem, charts)
            })
            .collect::<Vec<_>>()
    })
    .await
    .map_err(|e| ResourceError::Unavailable(format!("reading postmortem folders: {e}")))?;
    let mut out = Vec::new();
    for (incident, (has_postmortem, charts)) in page.items.iter().zip(files) {
        let id = &incident.id;
        out.push(
            Resource::new(WorkflowUri::Incident(id.clone()).uri(), id.clone())
                .with_title(format!("{id}: {}", incident.title))
                .with_description(format!(
                    "{} {}, {}",
                    incident.severity,
                    incident.status,
                    if incident.services.is_empty() {
                        "no service named".to_string()
                    } else {
                        incident.services.join(", ")
                    }
                ))
                .with_mime_type(JSON),
        );
        if has_postmortem {
            out.push(
                Resource::new(
                    WorkflowUri::Postmortem(id.clone()).uri(),
                    format!("{id} postmortem"),
                )
                .with_title(format!("Postmortem of {id}"))
                .with_mime_type(MARKDOWN),
            );
        }
        for chart in charts {
            out.push(
                Resource::new(
                    WorkflowUri::Chart(id.clone(), chart.clone()).uri(),
                    format!("{id} {chart}"),
                )
                .with_mime_type(SVG),
            );
        }
    }
    let runs = Runs::new(&ctx.runs);
    // An unreadable runs folder leaves runs out of the listing; reading one says why.
    let newest = blocking(move || runs.newest(RUNS_LISTED))
        .await
        .unwrap_or_else(|e| {
            tracing::warn!(error = %e, "runs folder not listed");
            Vec::new()
        });
    for run in newest {
        if run.has_transcript {
            out.push(
                Resource::new(
                    WorkflowUri::Transcript(run.id.clone()).uri(),
                    format!("run {}", run.id),
                )
                .with_title(format!("Agent run {} (transcript)", run.id))
                .with_mime_type(JSONL),
            );
        }
        if run.has_report {
            out.push(
                Resource::new(
                    WorkflowUri::Report(run.id.clone()).uri(),
                    format!("run {} report", run.id),
                )
                .with_title(format!("Agent run {} (report)", run.id))
                .with_mime_type(MARKDOWN),
            );
        }
    }
    Ok(out)
}

/// `resources/read` of `uri`.
pub async fn read(ctx: &Workflow, uri: &str) -> Result<ResourceContents, ResourceError> {
    let parsed = WorkflowUri::parse(uri)?;
    let canonical = parsed.uri();
    match parsed {
        WorkflowUri::Incident(id) => {
            let record = get_incident::read(ctx, &id).await?;
            let json = serde_json::to_string_pretty(&record)
                .map_err(|e| ResourceError::Unavailable(format!("encoding {id}: {e}")))?;
            Ok(ResourceContents::text(json, canonical).with_mime_type(JSON))
        }
        WorkflowUri::Postmortem(id) => {
            // The incident first, so an unknown id says so rather than "no postmortem".
            ctx.store.get_incident(&id).await?;
            let written = Written::new(&ctx.postmortems);
            let text = blocking(move || written.postmortem(&id).map(|t| (id, t)))
                .await
                .and_then(|(id, text)| {
                    text.ok_or_else(|| {
                        ResourceError::NotFound(format!(
                            "{id} has no postmortem yet: document_resolution writes it (and \
                             resolves the incident); read incident://{id} for its record so far"
                        ))
                    })
                })?;
            Ok(ResourceContents::text(text, canonical).with_mime_type(MARKDOWN))
        }
        WorkflowUri::Chart(id, name) => {
            ctx.store.get_incident(&id).await?;
            let written = Written::new(&ctx.postmortems);
            let (svg, charts) = blocking(move || {
                let svg = written.chart(&id, &name)?;
                let charts = if svg.is_none() {
                    written.charts(&id)?
                } else {
                    Vec::new()
                };
                Ok((svg, charts))
            })
            .await?;
            let svg = svg.ok_or_else(|| {
                ResourceError::NotFound(if charts.is_empty() {
                    format!(
                        "{canonical} does not exist: the incident has no charts (they are \
                         drawn by document_resolution)"
                    )
                } else {
                    format!(
                        "{canonical} does not exist; the incident's charts are: {}",
                        charts.join(", ")
                    )
                })
            })?;
            Ok(ResourceContents::text(svg, canonical).with_mime_type(SVG))
        }
        WorkflowUri::Transcript(id) => {
            let runs = Runs::new(&ctx.runs);
            let path = runs.path_of(&id);
            let (text, cut) = blocking(move || runs.transcript(&id, TRANSCRIPT_BYTES))
                .await?
                .ok_or_else(|| no_run(&canonical))?;
            if cut {
                tracing::info!(uri = %canonical, path = %path.display(), "transcript cut at 1 MiB");
            }
            Ok(ResourceContents::text(text, canonical).with_mime_type(JSONL))
        }
        WorkflowUri::Report(id) => {
            let runs = Runs::new(&ctx.runs);
            let transcript = WorkflowUri::Transcript(id.clone()).uri();
            let report = blocking(move || {
                let report = runs.report(&id)?;
                let started = report.is_some() || runs.exists(&id)?;
                Ok((report, started))
            })
            .await?;
            match report {
                (Some(text), _) => {
                    Ok(ResourceContents::text(text, canonical).with_mime_type(MARKDOWN))
                }
                (None, true) => Err(ResourceError::NotFound(format!(
                    "{canonical} does not exist: only a run on a simulated incident writes a \
                     report (its score), when it ends; this run's steps are in {transcript}"
                ))),
                (None, false) => Err(no_run(&canonical)),
            }
        }
    }
}

/// A run URI naming no run recorded here.
fn no_run(uri: &str) -> ResourceError {
    ResourceError::NotFound(format!(
        "{uri} does not exist here: no such run under this server's data directory (runs of an \
         agent started with another --data-dir are recorded there); resources/list shows the \
         newest runs"
    ))
}

/// `completion/complete` for a template's variable: incident ids by prefix (newest first), or,
/// for `chart`, the charts of the incident already chosen (`context`).
pub async fn complete(
    ctx: &Workflow,
    template: &str,
    argument: &str,
    value: &str,
    chosen_incident: Option<&str>,
) -> Result<Vec<String>, ResourceError> {
    if ![INCIDENT, POSTMORTEM, CHART, TRANSCRIPT, REPORT].contains(&template) {
        return Err(ResourceError::Malformed(format!(
            "this server completes the variables of {INCIDENT}, {POSTMORTEM}, {CHART}, \
             {TRANSCRIPT} and {REPORT}, not of {template:?}"
        )));
    }
    if template == TRANSCRIPT || template == REPORT {
        if argument != "run_id" {
            return Err(ResourceError::Malformed(format!(
                "{template} has no variable {argument:?}; its variable is run_id"
            )));
        }
        let runs = Runs::new(&ctx.runs);
        let prefix = value.to_string();
        return blocking(move || {
            runs.ids_starting_with(&prefix, rmcp::model::CompletionInfo::MAX_VALUES)
        })
        .await;
    }
    match argument {
        "incident_id" => Ok(ctx
            .store
            .incident_ids_starting_with(value, rmcp::model::CompletionInfo::MAX_VALUES as u32)
            .await?),
        "chart" if template == CHART => {
            let Some(id) = chosen_incident else {
                return Ok(Vec::new());
            };
            let id = id.to_ascii_uppercase();
            let written = Written::new(&ctx.postmortems);
            let charts = blocking(move || written.charts(&id)).await?;
            Ok(charts
                .into_iter()
                .filter(|c| c.starts_with(value))
                .collect())
        }
        other => Err(ResourceError::Malformed(format!(
            "{template} has no variable {other:?}; its variables are: {}",
            if template == CHART {
                "incident_id, chart"
            } else {
                "incident_id"
            }
        ))),
    }
}

/// Runs a file lookup on the blocking pool.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, opsmcp_workflow::WorkflowError> + Send + 'static,
) -> Result<T, ResourceError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ResourceError::Unavailable(format!("reading written files: {e}")))?
        .map_err(ResourceError::from)
}

#[cfg(test)]
mod tests {
    use super::WorkflowUri;

    #[test]
    fn uris_parse_to_what_they_name_and_others_say_what_to_send() {
        assert_eq!(
            WorkflowUri::parse("incident://inc-0001").unwrap(),
            WorkflowUri::Incident("INC-0001".into())
        );
        assert_eq!(
            WorkflowUri::parse("incident://INC-0001/postmortem").unwrap(),
            WorkflowUri::Postmortem("INC-0001".into())
        );
        assert_eq!(
            WorkflowUri::parse("incident://INC-0001/charts/a-b.svg").unwrap(),
            WorkflowUri::Chart("INC-0001".into(), "a-b.svg".into())
        );
        assert_eq!(
            WorkflowUri::parse("run://20261206T175218Z-18852-0").unwrap(),
            WorkflowUri::Transcript("20261206T175218Z-18852-0".into())
        );
        assert_eq!(
            WorkflowUri::parse("run://20261206T175218Z-18852-0/report").unwrap(),
            WorkflowUri::Report("20261206T175218Z-18852-0".into())
        );
        for bad in [
            "run://",
            "run://x/transcript",
            "INC-0001",
            "incident://",
            "incident://INC-0001/timeline",
            "incident://INC 1",
            "incident://INC-0001/charts/",
            "file:///etc/passwd",
        ] {
            let e = WorkflowUri::parse(bad).unwrap_err().to_string();
            assert!(e.contains("incident://INC-0001/postmortem"), "{bad}: {e}");
        }
    }
}
