//! Alertmanager intake: its webhook payload (version 4) turned into incidents. Firing alerts
//! open an incident or join the open one of their group (dedup key from the group key), each
//! alert on the timeline; when the group resolves, the incident is resolved.

use opsmcp_store::{NewIncident, Severity, Status, Store};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::WorkflowError;

/// Alertmanager's webhook body (`webhook_config`), the fields we use.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Payload {
    /// `4`.
    #[serde(default)]
    pub version: String,
    /// Identifies the alert group; stable while the group lives.
    pub group_key: String,
    /// `firing` or `resolved`.
    pub status: String,
    /// Labels common to every alert.
    #[serde(default)]
    pub common_labels: std::collections::BTreeMap<String, String>,
    /// Annotations common to every alert.
    #[serde(default)]
    pub common_annotations: std::collections::BTreeMap<String, String>,
    /// The alerts.
    #[serde(default)]
    pub alerts: Vec<Alert>,
}

/// One alert.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Alert {
    /// `firing` or `resolved`.
    pub status: String,
    /// Its labels (`alertname`, `severity`, `service`, `job`, …).
    #[serde(default)]
    pub labels: std::collections::BTreeMap<String, String>,
    /// Its annotations (`summary`, `description`).
    #[serde(default)]
    pub annotations: std::collections::BTreeMap<String, String>,
    /// Alertmanager's fingerprint of the label set.
    #[serde(default)]
    pub fingerprint: String,
    /// When it started firing.
    #[serde(default)]
    pub starts_at: String,
}

/// What the intake did.
#[derive(Debug, Clone, Serialize)]
pub struct Intake {
    /// The incident the group maps to, if any.
    pub incident_id: Option<String>,
    /// `opened`, `joined`, `resolved` or `ignored`.
    pub action: &'static str,
}

/// The actor written on the timeline.
const ACTOR: &str = "alertmanager";

/// Applies one webhook delivery to the store.
pub async fn intake(store: &Store, p: &Payload) -> Result<Intake, WorkflowError> {
    if p.group_key.trim().is_empty() {
        return Err(WorkflowError::BadRequest(
            "groupKey is empty; send Alertmanager's webhook payload (version 4)".into(),
        ));
    }
    let dedup_key = format!("alertmanager:{}", p.group_key);
    let label = |name: &str| {
        p.common_labels
            .get(name)
            .or_else(|| p.alerts.iter().find_map(|a| a.labels.get(name)))
            .cloned()
    };
    match p.status.as_str() {
        "firing" => {
            let title = p
                .common_annotations
                .get("summary")
                .cloned()
                .or_else(|| label("alertname"))
                .unwrap_or_else(|| "Alertmanager alert".into());
            let severity = label("severity")
                .and_then(|s| s.parse::<Severity>().ok())
                .unwrap_or(Severity::Sev3);
            let mut services: Vec<String> = p
                .alerts
                .iter()
                .filter_map(|a| a.labels.get("service").or_else(|| a.labels.get("job")))
                .cloned()
                .collect();
            services.sort();
            services.dedup();
            let (incident, joined) = store
                .create_incident(
                    NewIncident {
                        title,
                        severity,
                        description: p.common_annotations.get("description").cloned(),
                        services,
                        dedup_key: Some(dedup_key),
                    },
                    ACTOR,
                )
                .await?;
            for a in p.alerts.iter().filter(|a| a.status == "firing") {
                store
                    .add_timeline(
                        &incident.id,
                        ACTOR,
                        "alert_firing",
                        json!({ "alertname": a.labels.get("alertname"), "fingerprint": a.fingerprint,
                                "labels": a.labels, "starts_at": a.starts_at }),
                    )
                    .await?;
            }
            Ok(Intake {
                incident_id: Some(incident.id),
                action: if joined { "joined" } else { "opened" },
            })
        }
        "resolved" => {
            let Some(incident) = store.open_incident_by_dedup(&dedup_key).await? else {
                return Ok(Intake {
                    incident_id: None,
                    action: "ignored",
                });
            };
            store
                .add_timeline(
                    &incident.id,
                    ACTOR,
                    "alert_resolved",
                    json!({ "alerts": p.alerts.iter().map(|a| &a.fingerprint).collect::<Vec<_>>() }),
                )
                .await?;
            if incident.status.allowed_next().contains(&Status::Resolved) {
                store
                    .transition(
                        &incident.id,
                        Status::Resolved,
                        ACTOR,
                        Some("every alert of the group resolved"),
                    )
                    .await?;
            }
            Ok(Intake {
                incident_id: Some(incident.id),
                action: "resolved",
            })
        }
        other => Err(WorkflowError::BadRequest(format!(
            "status {other:?} is neither \"firing\" nor \"resolved\"; send Alertmanager's webhook \
             payload"
        ))),
    }
}
