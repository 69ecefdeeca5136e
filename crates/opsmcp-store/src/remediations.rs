//! Remediation records and approvals. A remediation row is written before the action runs
//! (with its idempotency key, so a repeat finds it instead of running the action twice) and
//! finished afterwards with the state before and after; every step is also on the incident's
//! timeline. What an action does and how health is judged is the caller's business.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::error::StoreError;
use crate::incidents::IncidentTx;
use crate::row::{RowExt, micros};
use crate::store::Store;

/// A remediation about to run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewRemediation {
    /// The incident it is for.
    pub incident_id: String,
    /// The action's name.
    pub action: String,
    /// The service it acts on.
    pub target: String,
    /// Its parameters.
    pub params: serde_json::Value,
    /// Check only.
    pub dry_run: bool,
    /// A repeat with this key returns the first run's record.
    pub idempotency_key: Option<String>,
    /// Who asked.
    pub requested_by: String,
    /// Health before it ran.
    pub before: serde_json::Value,
}

/// A remediation as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Remediation {
    /// Its number.
    pub id: i64,
    /// The incident.
    pub incident_id: String,
    /// The action.
    pub action: String,
    /// The service.
    pub target: String,
    /// Its parameters.
    pub params: serde_json::Value,
    /// Check only.
    pub dry_run: bool,
    /// The idempotency key it ran under.
    pub idempotency_key: Option<String>,
    /// `running`, `succeeded`, `failed`, `rolled_back`, `dry_run`.
    pub status: String,
    /// Who asked.
    pub requested_by: String,
    /// When it started.
    pub started_at: Timestamp,
    /// When it finished.
    pub finished_at: Option<Timestamp>,
    /// Health before.
    pub before: serde_json::Value,
    /// Health after.
    pub after: Option<serde_json::Value>,
    /// What running it did: output, verification, rollback.
    pub result: Option<serde_json::Value>,
}

/// A human's go-ahead for an action on an incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    /// The incident.
    pub incident_id: String,
    /// The action.
    pub action: String,
    /// The service, or `None` for the action on any service.
    pub target: Option<String>,
    /// Who approved.
    pub approved_by: String,
    /// When.
    pub approved_at: Timestamp,
}

const COLS: &str = "id, incident_id, action, target, params, dry_run, idempotency_key, status, \
                    requested_by, started_at, finished_at, before_state, after_state, result";

fn json_col(
    text: Option<String>,
    what: &'static str,
) -> Result<Option<serde_json::Value>, StoreError> {
    text.map(|t| {
        serde_json::from_str(&t).map_err(|e| StoreError::Corrupt {
            what,
            detail: e.to_string(),
        })
    })
    .transpose()
}

fn remediation_from_row<R: RowExt>(r: &R) -> Result<Remediation, StoreError> {
    Ok(Remediation {
        id: r.int("id")?,
        incident_id: r.text("incident_id")?,
        action: r.text("action")?,
        target: r.text("target")?,
        params: json_col(Some(r.text("params")?), "remediation params")?.unwrap_or_default(),
        dry_run: r.int("dry_run")? != 0,
        idempotency_key: r.opt_text("idempotency_key")?,
        status: r.text("status")?,
        requested_by: r.text("requested_by")?,
        started_at: r.ts("started_at")?,
        finished_at: r.opt_ts("finished_at")?,
        before: json_col(r.opt_text("before_state")?, "remediation before")?.unwrap_or_default(),
        after: json_col(r.opt_text("after_state")?, "remediation after")?,
        result: json_col(r.opt_text("result")?, "remediation result")?,
    })
}

impl Store {
    /// Records that `approved_by` approved `action` (on `target`, or on any service) for the
    /// incident, with a timeline entry. Only a pending request can be approved: one that
    /// `execute_remediation` held for approval on this incident (its `approval_requested`
    /// timeline entry), not approved yet, on an incident still open. Anything else — an action
    /// nobody asked for, a typo, a repeat, a resolved incident — is refused with
    /// [`StoreError::NotPending`], which names the pending requests.
    pub async fn approve(
        &self,
        incident_id: &str,
        action: &str,
        target: Option<&str>,
        approved_by: &str,
    ) -> Result<Approval, StoreError> {
        if action.trim().is_empty() {
            return Err(StoreError::Invalid {
                field: "action",
                message: "must not be empty; give the action's name, or name@service".into(),
            });
        }
        let now = self.now();
        write_tx!(self, |tx, pg| {
            let incident = tx.lock_incident(pg, incident_id).await?;
            let asked = match target {
                Some(t) => format!("{action}@{t}"),
                None => action.to_string(),
            };
            if !incident.status.is_open() {
                return Err(StoreError::NotPending {
                    incident_id: incident_id.to_string(),
                    message: format!(
                        "incident {incident_id} is {}: nothing runs on it any more, so there is \
                         nothing to approve; approvals are for open incidents with a pending \
                         request",
                        incident.status
                    ),
                    pending: Vec::new(),
                });
            }
            let mut requested: Vec<(String, String)> = Vec::new();
            let rows = sqlx::query(
                "SELECT body FROM timeline WHERE incident_id = $1 AND kind = 'approval_requested' \
                 ORDER BY seq",
            )
            .bind(incident_id)
            .fetch_all(&mut *tx)
            .await?;
            for r in &rows {
                let body = json_col(Some(r.text("body")?), "approval request")?.unwrap_or_default();
                if let (Some(a), Some(t)) = (body["action"].as_str(), body["target"].as_str())
                    && !requested.iter().any(|(ra, rt)| ra == a && rt == t)
                {
                    requested.push((a.to_string(), t.to_string()));
                }
            }
            let approved: Vec<(String, String)> =
                sqlx::query("SELECT action, target FROM approvals WHERE incident_id = $1")
                    .bind(incident_id)
                    .fetch_all(&mut *tx)
                    .await?
                    .iter()
                    .map(|r| Ok((r.text("action")?, r.text("target")?)))
                    .collect::<Result<_, StoreError>>()?;
            let covered = |a: &str, t: &str| {
                approved
                    .iter()
                    .any(|(aa, at)| aa == a && (at == t || at.is_empty()))
            };
            let pending: Vec<(String, String)> = requested
                .iter()
                .filter(|(a, t)| !covered(a, t))
                .cloned()
                .collect();
            let matches = |(a, t): &(String, String)| a == action && target.is_none_or(|x| x == t);
            if !pending.iter().any(matches) {
                let names: Vec<String> = pending.iter().map(|(a, t)| format!("{a}@{t}")).collect();
                let why = if requested.iter().any(matches) {
                    format!("{asked} is already approved on {incident_id}")
                } else {
                    format!("no approval request for {asked} is pending on {incident_id}")
                };
                let message = match names.first() {
                    Some(first) => format!(
                        "{why}; pending: {}. Approve one of them, e.g. `opsmcp incidents approve \
                         {incident_id} {first}`",
                        names.join(", ")
                    ),
                    None => format!(
                        "{why}; it has no pending request (one appears when execute_remediation \
                         holds an action that needs approval, with the command to approve it)"
                    ),
                };
                return Err(StoreError::NotPending {
                    incident_id: incident_id.to_string(),
                    message,
                    pending: names,
                });
            }
            let at = now.max(incident.updated_at);
            let inserted = sqlx::query(
                "INSERT INTO approvals (incident_id, action, target, approved_by, approved_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            )
            .bind(incident_id)
            .bind(action)
            .bind(target.unwrap_or(""))
            .bind(approved_by)
            .bind(micros(at))
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if inserted == 1 {
                tx.push_timeline(
                    incident_id,
                    at,
                    approved_by,
                    "approved",
                    &json!({ "action": action, "target": target }),
                )
                .await?;
            }
        });
        self.approval_for(incident_id, action, target.unwrap_or(""))
            .await?
            .ok_or_else(|| StoreError::Corrupt {
                what: "approval",
                detail: "written but not found".into(),
            })
    }

    /// The approval covering `action` on `target` for the incident: one for that service, or
    /// one for the action on any service.
    pub async fn approval_for(
        &self,
        incident_id: &str,
        action: &str,
        target: &str,
    ) -> Result<Option<Approval>, StoreError> {
        let found = read_tx!(self, |tx| {
            let row = sqlx::query(
                "SELECT incident_id, action, target, approved_by, approved_at FROM approvals \
                 WHERE incident_id = $1 AND action = $2 AND (target = $3 OR target = '') \
                 ORDER BY target DESC LIMIT 1",
            )
            .bind(incident_id)
            .bind(action)
            .bind(target)
            .fetch_optional(&mut *tx)
            .await?;
            match row {
                Some(r) => {
                    let t = r.text("target")?;
                    Some(Approval {
                        incident_id: r.text("incident_id")?,
                        action: r.text("action")?,
                        target: (!t.is_empty()).then_some(t),
                        approved_by: r.text("approved_by")?,
                        approved_at: r.ts("approved_at")?,
                    })
                }
                None => None,
            }
        });
        Ok(found)
    }

    /// Records a remediation as `running` (with a timeline entry) before it runs. When
    /// `new.idempotency_key` was used before, nothing is written and the earlier record comes
    /// back with `true`: the caller must not run the action again.
    pub async fn begin_remediation(
        &self,
        new: &NewRemediation,
    ) -> Result<(Remediation, bool), StoreError> {
        let now = self.now();
        let status = if new.dry_run { "dry_run" } else { "running" };
        let id = write_tx!(self, |tx, pg| {
            let incident = tx.lock_incident(pg, &new.incident_id).await?;
            let mut existing = None;
            if let Some(key) = &new.idempotency_key {
                existing = sqlx::query("SELECT id FROM remediations WHERE idempotency_key = $1")
                    .bind(key)
                    .fetch_optional(&mut *tx)
                    .await?
                    .map(|r| r.int("id"))
                    .transpose()?;
            }
            match existing {
                Some(id) => Err(id),
                None => {
                    let at = now.max(incident.updated_at);
                    let row = sqlx::query(
                        "INSERT INTO remediations (incident_id, action, target, params, dry_run, \
                         idempotency_key, status, requested_by, started_at, before_state) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
                    )
                    .bind(&new.incident_id)
                    .bind(&new.action)
                    .bind(&new.target)
                    .bind(new.params.to_string())
                    .bind(i64::from(new.dry_run))
                    .bind(&new.idempotency_key)
                    .bind(status)
                    .bind(&new.requested_by)
                    .bind(micros(at))
                    .bind(new.before.to_string())
                    .fetch_one(&mut *tx)
                    .await?;
                    let id = row.int("id")?;
                    tx.push_timeline(
                        &new.incident_id,
                        at,
                        &new.requested_by,
                        "remediation_started",
                        &json!({
                            "remediation": id, "action": new.action, "target": new.target,
                            "params": new.params, "dry_run": new.dry_run,
                        }),
                    )
                    .await?;
                    Ok(id)
                }
            }
        });
        match id {
            Ok(id) => Ok((self.remediation(id).await?, false)),
            Err(id) => Ok((self.remediation(id).await?, true)),
        }
    }

    /// Finishes a remediation: its status, the state after and what happened, with a timeline
    /// entry of `kind` carrying `result`.
    pub async fn finish_remediation(
        &self,
        id: i64,
        status: &str,
        after: &serde_json::Value,
        result: &serde_json::Value,
        actor: &str,
    ) -> Result<Remediation, StoreError> {
        let now = self.now();
        write_tx!(self, |tx, pg| {
            let row = sqlx::query("SELECT incident_id FROM remediations WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
            let Some(row) = row else {
                return Err(StoreError::Invalid {
                    field: "remediation",
                    message: format!("no remediation {id}"),
                });
            };
            let incident_id = row.text("incident_id")?;
            let incident = tx.lock_incident(pg, &incident_id).await?;
            let at = now.max(incident.updated_at);
            sqlx::query(
                "UPDATE remediations SET status = $2, finished_at = $3, after_state = $4, \
                 result = $5 WHERE id = $1",
            )
            .bind(id)
            .bind(status)
            .bind(micros(at))
            .bind(after.to_string())
            .bind(result.to_string())
            .execute(&mut *tx)
            .await?;
            tx.push_timeline(
                &incident_id,
                at,
                actor,
                "remediation_finished",
                &json!({ "remediation": id, "status": status, "result": result }),
            )
            .await?;
        });
        self.remediation(id).await
    }

    /// One remediation.
    pub async fn remediation(&self, id: i64) -> Result<Remediation, StoreError> {
        let found = read_tx!(self, |tx| {
            let sql = format!("SELECT {COLS} FROM remediations WHERE id = $1");
            let row = sqlx::query(&sql).bind(id).fetch_optional(&mut *tx).await?;
            row.as_ref().map(remediation_from_row).transpose()?
        });
        found.ok_or_else(|| StoreError::Invalid {
            field: "remediation",
            message: format!("no remediation {id}"),
        })
    }

    /// The incident's remediations, oldest first.
    pub async fn remediations_for(
        &self,
        incident_id: &str,
    ) -> Result<Vec<Remediation>, StoreError> {
        let all = read_tx!(self, |tx| {
            let sql = format!("SELECT {COLS} FROM remediations WHERE incident_id = $1 ORDER BY id");
            let rows = sqlx::query(&sql)
                .bind(incident_id)
                .fetch_all(&mut *tx)
                .await?;
            rows.iter()
                .map(remediation_from_row)
                .collect::<Result<Vec<_>, _>>()?
        });
        Ok(all)
    }
}
