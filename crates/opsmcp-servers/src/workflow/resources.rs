//! The workflow server's MCP resources: incidents and what their resolution wrote.
//!
//! | URI | what | MIME |
//! |---|---|---|
//! | `incident://INC-0001` | the incident, timeline, remediations, notifications (what `get_incident` returns) | `application/json` |
//! | `incident://INC-0001/postmortem` | the postmortem `document_resolution` wrote | `text/markdown` |
//! | `incident://INC-0001/charts/NAME.svg` | one of its charts | `image/svg+xml` |
//!
//! Like a tool, each request is one shape: the URI parsed into [`IncidentUri`], one lookup in
//! the domain (the store, or [`opsmcp_workflow::written`] for the files), the contents. The
//! handler in `mod.rs` only routes here and audits reads.
//!
//! `resources/list` offers the newest [`LISTED`] incidents and what they have written, not all
//! of them: a store of years would make every client's list unbounded. Older ones are reached
//! by the templates, and `completion/complete` completes their ids by prefix.

use opsmcp_store::{IncidentFilter, PageRequest};
use opsmcp_workflow::written::Written;
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

const SCHEME: &str = "incident://";
const MARKDOWN: &str = "text/markdown";
const SVG: &str = "image/svg+xml";
const JSON: &str = "application/json";

/// What a client should send, said in every refusal of a URI.
const SHAPES: &str = "send incident://INC-0001 (the incident as JSON), \
incident://INC-0001/postmortem (its postmortem, Markdown) or incident://INC-0001/charts/NAME.svg \
(one of its charts); resources/list shows the newest incidents and what they have, \
resources/templates/list the URI templates";

/// A URI this server serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IncidentUri {
    /// `incident://ID`.
    Incident(String),
    /// `incident://ID/postmortem`.
    Postmortem(String),
    /// `incident://ID/charts/NAME`.
    Chart(String, String),
}

impl IncidentUri {
    /// Parses `uri`; anything else is refused with the shapes to send. Ids are upper-cased
    /// (the store makes them `INC-` and digits), since URI hosts are often lower-cased by the
    /// libraries clients build them with.
    pub fn parse(uri: &str) -> Result<Self, ResourceError> {
        let malformed =
            |why: &str| ResourceError::Malformed(format!("resource URI {uri:?} {why}; {SHAPES}"));
        let rest = uri
            .strip_prefix(SCHEME)
            .ok_or_else(|| malformed("is not an incident:// URI"))?;
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

    /// The URI again, in its canonical form.
    pub fn uri(&self) -> String {
        match self {
            Self::Incident(id) => format!("{SCHEME}{id}"),
            Self::Postmortem(id) => format!("{SCHEME}{id}/postmortem"),
            Self::Chart(id, name) => format!("{SCHEME}{id}/charts/{name}"),
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
            Resource::new(IncidentUri::Incident(id.clone()).uri(), id.clone())
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
                    IncidentUri::Postmortem(id.clone()).uri(),
                    format!("{id} postmortem"),
                )
                .with_title(format!("Postmortem of {id}"))
                .with_mime_type(MARKDOWN),
            );
        }
        for chart in charts {
            out.push(
                Resource::new(
                    IncidentUri::Chart(id.clone(), chart.clone()).uri(),
                    format!("{id} {chart}"),
                )
                .with_mime_type(SVG),
            );
        }
    }
    Ok(out)
}

/// `resources/read` of `uri`.
pub async fn read(ctx: &Workflow, uri: &str) -> Result<ResourceContents, ResourceError> {
    let parsed = IncidentUri::parse(uri)?;
    let canonical = parsed.uri();
    match parsed {
        IncidentUri::Incident(id) => {
            let record = get_incident::read(ctx, &id).await?;
            let json = serde_json::to_string_pretty(&record)
                .map_err(|e| ResourceError::Unavailable(format!("encoding {id}: {e}")))?;
            Ok(ResourceContents::text(json, canonical).with_mime_type(JSON))
        }
        IncidentUri::Postmortem(id) => {
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
        IncidentUri::Chart(id, name) => {
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
    }
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
    if ![INCIDENT, POSTMORTEM, CHART].contains(&template) {
        return Err(ResourceError::Malformed(format!(
            "this server completes the variables of {INCIDENT}, {POSTMORTEM} and {CHART}, \
             not of {template:?}"
        )));
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
        .map_err(|e| ResourceError::Unavailable(format!("reading postmortem files: {e}")))?
        .map_err(ResourceError::from)
}

#[cfg(test)]
mod tests {
    use super::IncidentUri;

    #[test]
    fn uris_parse_to_what_they_name_and_others_say_what_to_send() {
        assert_eq!(
            IncidentUri::parse("incident://inc-0001").unwrap(),
            IncidentUri::Incident("INC-0001".into())
        );
        assert_eq!(
            IncidentUri::parse("incident://INC-0001/postmortem").unwrap(),
            IncidentUri::Postmortem("INC-0001".into())
        );
        assert_eq!(
            IncidentUri::parse("incident://INC-0001/charts/a-b.svg").unwrap(),
            IncidentUri::Chart("INC-0001".into(), "a-b.svg".into())
        );
        for bad in [
            "INC-0001",
            "incident://",
            "incident://INC-0001/timeline",
            "incident://INC 1",
            "incident://INC-0001/charts/",
            "file:///etc/passwd",
        ] {
            let e = IncidentUri::parse(bad).unwrap_err().to_string();
            assert!(e.contains("incident://INC-0001/postmortem"), "{bad}: {e}");
        }
    }
}
