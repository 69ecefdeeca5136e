//! Incidents: opening (with dedup), reading, listing, the lifecycle, updates and the timeline.

use jiff::Timestamp;
use serde_json::json;

use crate::error::StoreError;
use crate::model::{
    Incident, IncidentDetail, IncidentFilter, NewIncident, Page, PageRequest, Severity, Status,
    TimelineEntry,
};
use crate::row::{RowExt, micros};
use crate::store::Store;

/// The columns every incident query reads, in the order [`incident_from_row`] expects by name.
const INCIDENT_COLS: &str = "id, num, title, description, severity, status, services, dedup_key, \
     assignee, created_at, updated_at, acknowledged_at, resolved_at, closed_at";

/// The statuses that count as open, as SQL. Must agree with [`Status::is_open`] and with the
/// partial unique index `incidents_open_dedup` in the migrations.
const OPEN_STATUSES_SQL: &str = "('triggered', 'acknowledged', 'investigating', 'mitigated')";

fn incident_from_row(row: &impl RowExt) -> Result<Incident, StoreError> {
    let services: Vec<String> =
        serde_json::from_str(&row.text("services")?).map_err(|e| StoreError::Corrupt {
            what: "incident services",
            detail: e.to_string(),
        })?;
    let severity = row
        .text("severity")?
        .parse::<Severity>()
        .map_err(|e| StoreError::Corrupt {
            what: "incident severity",
            detail: e.to_string(),
        })?;
    let status = row
        .text("status")?
        .parse::<Status>()
        .map_err(|e| StoreError::Corrupt {
            what: "incident status",
            detail: e.to_string(),
        })?;
    Ok(Incident {
        id: row.text("id")?,
        title: row.text("title")?,
        description: row.opt_text("description")?,
        severity,
        status,
        services,
        dedup_key: row.opt_text("dedup_key")?,
        assignee: row.opt_text("assignee")?,
        created_at: row.ts("created_at")?,
        updated_at: row.ts("updated_at")?,
        acknowledged_at: row.opt_ts("acknowledged_at")?,
        resolved_at: row.opt_ts("resolved_at")?,
        closed_at: row.opt_ts("closed_at")?,
    })
}

fn timeline_from_row(row: &impl RowExt) -> Result<TimelineEntry, StoreError> {
    Ok(TimelineEntry {
        incident_id: row.text("incident_id")?,
        seq: row.int("seq")?,
        at: row.ts("at")?,
        actor: row.text("actor")?,
        kind: row.text("kind")?,
        body: row.json("body")?,
    })
}

/// The incident statements several operations share, written once for both backends' open
/// transactions (see `impl_incident_tx!`).
pub(crate) trait IncidentTx {
    /// Reads an incident for changing it: on PostgreSQL the row stays locked until the
    /// transaction ends, so concurrent changes to one incident queue (SQLite's `BEGIN IMMEDIATE`
    /// already excludes other writers).
    async fn lock_incident(&mut self, pg: bool, id: &str) -> Result<Incident, StoreError>;

    /// Appends a timeline entry and moves the incident's `updated_at` to `at`. The entry's seq
    /// comes from the incident row, which also locks it on PostgreSQL.
    async fn push_timeline(
        &mut self,
        incident_id: &str,
        at: Timestamp,
        actor: &str,
        kind: &str,
        body: &serde_json::Value,
    ) -> Result<TimelineEntry, StoreError>;

    /// An incident and its timeline, or `None`.
    async fn incident_detail(&mut self, id: &str) -> Result<Option<IncidentDetail>, StoreError>;
}

macro_rules! impl_incident_tx {
    ($db:ty) => {
        impl IncidentTx for sqlx::Transaction<'static, $db> {
            async fn lock_incident(&mut self, pg: bool, id: &str) -> Result<Incident, StoreError> {
                let sql = format!(
                    "SELECT {INCIDENT_COLS} FROM incidents WHERE id = $1{}",
                    if pg { " FOR UPDATE" } else { "" }
                );
                let row = sqlx::query(&sql)
                    .bind(id)
                    .fetch_optional(&mut **self)
                    .await?;
                match row {
                    Some(row) => incident_from_row(&row),
                    None => Err(StoreError::UnknownIncident { id: id.to_owned() }),
                }
            }

            async fn push_timeline(
                &mut self,
                incident_id: &str,
                at: Timestamp,
                actor: &str,
                kind: &str,
                body: &serde_json::Value,
            ) -> Result<TimelineEntry, StoreError> {
                let seq_row = sqlx::query(
                    "UPDATE incidents SET last_seq = last_seq + 1, updated_at = $2 \
                     WHERE id = $1 RETURNING last_seq",
                )
                .bind(incident_id)
                .bind(micros(at))
                .fetch_optional(&mut **self)
                .await?;
                let Some(seq_row) = seq_row else {
                    return Err(StoreError::UnknownIncident {
                        id: incident_id.to_owned(),
                    });
                };
                let seq = seq_row.int("last_seq")?;
                sqlx::query(
                    "INSERT INTO timeline (incident_id, seq, at, actor, kind, body) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(incident_id)
                .bind(seq)
                .bind(micros(at))
                .bind(actor)
                .bind(kind)
                .bind(body.to_string())
                .execute(&mut **self)
                .await?;
                Ok(TimelineEntry {
                    incident_id: incident_id.to_owned(),
                    seq,
                    at,
                    actor: actor.to_owned(),
                    kind: kind.to_owned(),
                    body: body.clone(),
                })
            }

            async fn incident_detail(
                &mut self,
                id: &str,
            ) -> Result<Option<IncidentDetail>, StoreError> {
                let sql = format!("SELECT {INCIDENT_COLS} FROM incidents WHERE id = $1");
                let Some(row) = sqlx::query(&sql)
                    .bind(id)
                    .fetch_optional(&mut **self)
                    .await?
                else {
                    return Ok(None);
                };
                let incident = incident_from_row(&row)?;
                let rows = sqlx::query(
                    "SELECT incident_id, seq, at, actor, kind, body FROM timeline \
                     WHERE incident_id = $1 ORDER BY seq",
                )
                .bind(id)
                .fetch_all(&mut **self)
                .await?;
                let timeline = rows
                    .iter()
                    .map(timeline_from_row)
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Some(IncidentDetail { incident, timeline }))
            }
        }
    };
}

impl_incident_tx!(sqlx::Sqlite);
impl_incident_tx!(sqlx::Postgres);

/// Refuses empty or whitespace-only text where a value is required.
fn required(field: &'static str, value: &str) -> Result<(), StoreError> {
    if value.trim().is_empty() {
        return Err(StoreError::Invalid {
            field,
            message: "must not be empty".into(),
        });
    }
    Ok(())
}

impl Store {
    /// Opens an incident, or — when an open incident already has `new.dedup_key` — returns that
    /// one with `true` and records the repeat on its timeline as `deduplicated` (PagerDuty Events
    /// v2 semantics: repeats of one problem are one incident while it is open). Safe against
    /// concurrent callers in any number of processes: the dedup check and the insert happen
    /// under a lock on the key (PostgreSQL advisory lock; SQLite's single writer), and a partial
    /// unique index backs it up.
    pub async fn create_incident(
        &self,
        new: NewIncident,
        actor: &str,
    ) -> Result<(Incident, bool), StoreError> {
        required("title", &new.title)?;
        required("actor", actor)?;
        if let Some(key) = &new.dedup_key {
            required("dedup_key", key)?;
        }
        let mut services: Vec<String> = Vec::with_capacity(new.services.len());
        for s in &new.services {
            required("services", s)?;
            if !services.contains(s) {
                services.push(s.clone());
            }
        }
        let services_json = serde_json::to_string(&services).map_err(|e| StoreError::Invalid {
            field: "services",
            message: e.to_string(),
        })?;
        let now = self.now();
        let result = write_tx!(self, |tx, pg| {
            let mut existing = None;
            if let Some(key) = &new.dedup_key {
                if pg {
                    // Held to commit. Two keys sharing a hash only queue behind each other.
                    sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
                        .bind(format!("opsmcp-incident-dedup:{key}"))
                        .execute(&mut *tx)
                        .await?;
                }
                let sql = format!(
                    "SELECT {INCIDENT_COLS} FROM incidents \
                     WHERE dedup_key = $1 AND status IN {OPEN_STATUSES_SQL}"
                );
                if let Some(row) = sqlx::query(&sql).bind(key).fetch_optional(&mut *tx).await? {
                    existing = Some(incident_from_row(&row)?);
                }
            }
            match existing {
                Some(mut incident) => {
                    let at = now.max(incident.updated_at);
                    let body = json!({
                        "title": new.title,
                        "severity": new.severity,
                        "description": new.description,
                        "services": services,
                        "dedup_key": new.dedup_key,
                    });
                    tx.push_timeline(&incident.id, at, actor, "deduplicated", &body)
                        .await?;
                    incident.updated_at = at;
                    (incident, true)
                }
                None => {
                    let num_row = sqlx::query(
                        "UPDATE counters SET value = value + 1 WHERE name = 'incident' \
                         RETURNING value",
                    )
                    .fetch_one(&mut *tx)
                    .await?;
                    let num = num_row.int("value")?;
                    let id = format!("INC-{num:04}");
                    sqlx::query(
                        "INSERT INTO incidents (id, num, title, description, severity, status, \
                         services, dedup_key, created_at, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
                    )
                    .bind(&id)
                    .bind(num)
                    .bind(&new.title)
                    .bind(&new.description)
                    .bind(new.severity.as_str())
                    .bind(Status::Triggered.as_str())
                    .bind(&services_json)
                    .bind(&new.dedup_key)
                    .bind(micros(now))
                    .execute(&mut *tx)
                    .await?;
                    for service in &services {
                        sqlx::query(
                            "INSERT INTO incident_services (incident_id, service) VALUES ($1, $2)",
                        )
                        .bind(&id)
                        .bind(service)
                        .execute(&mut *tx)
                        .await?;
                    }
                    let body = json!({
                        "title": new.title,
                        "severity": new.severity,
                        "description": new.description,
                        "services": services,
                        "dedup_key": new.dedup_key,
                    });
                    tx.push_timeline(&id, now, actor, "created", &body).await?;
                    let incident = Incident {
                        id,
                        title: new.title.clone(),
                        description: new.description.clone(),
                        severity: new.severity,
                        status: Status::Triggered,
                        services: services.clone(),
                        dedup_key: new.dedup_key.clone(),
                        assignee: None,
                        created_at: now,
                        updated_at: now,
                        acknowledged_at: None,
                        resolved_at: None,
                        closed_at: None,
                    };
                    (incident, false)
                }
            }
        });
        if result.1 {
            tracing::info!(id = %result.0.id, "incident deduplicated");
        } else {
            tracing::info!(id = %result.0.id, severity = %result.0.severity, "incident opened");
        }
        Ok(result)
    }

    /// An incident with its whole timeline; an unknown id is an error that names it.
    pub async fn get_incident(&self, id: &str) -> Result<IncidentDetail, StoreError> {
        let detail = read_tx!(self, |tx| tx.incident_detail(id).await?);
        detail.ok_or_else(|| StoreError::UnknownIncident { id: id.to_owned() })
    }

    /// Up to `limit` incident ids starting with `prefix`, newest first: what a client
    /// completing an id (MCP `completion/complete`) offers. Ids are `INC-` and digits, so the
    /// prefix is matched upper-cased (`inc-00` finds `INC-0042`) and taken literally (`%` and
    /// `_` are not wildcards).
    pub async fn incident_ids_starting_with(
        &self,
        prefix: &str,
        limit: u32,
    ) -> Result<Vec<String>, StoreError> {
        let mut pattern = String::with_capacity(prefix.len() + 1);
        for c in prefix.trim().to_uppercase().chars() {
            if matches!(c, '%' | '_' | '\\') {
                pattern.push('\\');
            }
            pattern.push(c);
        }
        pattern.push('%');
        let limit = i64::from(limit.min(PageRequest::MAX_LIMIT));
        let ids = read_tx!(self, |tx| {
            sqlx::query_scalar::<_, String>(
                "SELECT id FROM incidents WHERE id LIKE $1 ESCAPE '\\' ORDER BY num DESC LIMIT $2",
            )
            .bind(&pattern)
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?
        });
        Ok(ids)
    }

    /// Incidents matching `filter`, newest first, one page at a time. The cursor is opaque to
    /// callers; pages stay stable while new incidents are opened (they sort before the cursor).
    pub async fn list_incidents(
        &self,
        filter: &IncidentFilter,
        page: &PageRequest,
    ) -> Result<Page<Incident>, StoreError> {
        if page.limit == 0 || page.limit > PageRequest::MAX_LIMIT {
            return Err(StoreError::Invalid {
                field: "limit",
                message: format!(
                    "{} is out of range; use 1 to {}",
                    page.limit,
                    PageRequest::MAX_LIMIT
                ),
            });
        }
        let cursor: Option<i64> = match &page.cursor {
            None => None,
            Some(c) => Some(c.parse::<i64>().map_err(|_| StoreError::Invalid {
                field: "cursor",
                message: format!(
                    "{c:?} is not a cursor this store handed out; pass a previous page's \
                     next_cursor, or none for the first page"
                ),
            })?),
        };
        let mut conditions: Vec<String> = Vec::new();
        let mut text_binds: Vec<String> = Vec::new();
        if let Some(status) = filter.status {
            text_binds.push(status.as_str().to_owned());
            conditions.push(format!("status = ${}", text_binds.len()));
        }
        if let Some(severity) = filter.severity {
            text_binds.push(severity.as_str().to_owned());
            conditions.push(format!("severity = ${}", text_binds.len()));
        }
        if let Some(service) = &filter.service {
            text_binds.push(service.clone());
            conditions.push(format!(
                "id IN (SELECT incident_id FROM incident_services WHERE service = ${})",
                text_binds.len()
            ));
        }
        let cursor_param = text_binds.len() + 1;
        if cursor.is_some() {
            conditions.push(format!("num < ${cursor_param}"));
        }
        let limit_param = cursor_param + 1;
        let where_sql = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        // One row more than asked tells whether there is a next page.
        let sql = format!(
            "SELECT {INCIDENT_COLS} FROM incidents {where_sql} ORDER BY num DESC LIMIT ${limit_param}"
        );
        let fetch = i64::from(page.limit) + 1;
        let cursor_value = cursor.unwrap_or(i64::MAX);
        let rows: Vec<(i64, Incident)> = read_tx!(self, |tx| {
            let mut query = sqlx::query(&sql);
            for b in &text_binds {
                query = query.bind(b);
            }
            let rows = query
                .bind(cursor_value)
                .bind(fetch)
                .fetch_all(&mut *tx)
                .await?;
            rows.iter()
                .map(|r| Ok((r.int("num")?, incident_from_row(r)?)))
                .collect::<Result<Vec<_>, StoreError>>()?
        });
        let more = rows.len() > page.limit as usize;
        let mut items: Vec<(i64, Incident)> = rows;
        items.truncate(page.limit as usize);
        let next_cursor = if more {
            items.last().map(|(num, _)| num.to_string())
        } else {
            None
        };
        Ok(Page {
            items: items.into_iter().map(|(_, i)| i).collect(),
            next_cursor,
        })
    }

    /// Moves an incident along its lifecycle (see [`Status::allowed_next`]); anything else is an
    /// error naming the allowed next states. Sets `acknowledged_at` when someone first takes it
    /// (acknowledged, investigating or mitigated), `resolved_at` on resolving (or closing
    /// without having resolved), `closed_at` on closing or cancelling. Every timestamp is at
    /// least the incident's previous `updated_at`, so they never run backwards even if the
    /// clock does.
    pub async fn transition(
        &self,
        id: &str,
        to: Status,
        actor: &str,
        note: Option<&str>,
    ) -> Result<Incident, StoreError> {
        required("actor", actor)?;
        let now = self.now();
        let incident = write_tx!(self, |tx, pg| {
            let mut incident = tx.lock_incident(pg, id).await?;
            let from = incident.status;
            let allowed = from.allowed_next();
            if !allowed.contains(&to) {
                return Err(StoreError::IllegalTransition {
                    id: id.to_owned(),
                    from,
                    to,
                    allowed,
                });
            }
            let at = now.max(incident.updated_at);
            if matches!(
                to,
                Status::Acknowledged | Status::Investigating | Status::Mitigated
            ) && incident.acknowledged_at.is_none()
            {
                incident.acknowledged_at = Some(at);
            }
            if matches!(to, Status::Resolved | Status::Closed) && incident.resolved_at.is_none() {
                incident.resolved_at = Some(at);
            }
            if matches!(to, Status::Closed | Status::Cancelled) {
                incident.closed_at = Some(at);
            }
            incident.status = to;
            incident.updated_at = at;
            sqlx::query(
                "UPDATE incidents SET status = $2, acknowledged_at = $3, resolved_at = $4, \
                 closed_at = $5 WHERE id = $1",
            )
            .bind(id)
            .bind(to.as_str())
            .bind(incident.acknowledged_at.map(micros))
            .bind(incident.resolved_at.map(micros))
            .bind(incident.closed_at.map(micros))
            .execute(&mut *tx)
            .await?;
            let body = json!({ "from": from, "to": to, "note": note });
            tx.push_timeline(id, at, actor, "status_changed", &body)
                .await?;
            incident
        });
        tracing::info!(id, status = %to, "incident status changed");
        Ok(incident)
    }

    /// Changes an incident's severity and/or assignee, and/or adds a note, as one `updated`
    /// timeline entry recording old and new values. At least one of the three must be given.
    pub async fn update(
        &self,
        id: &str,
        severity: Option<Severity>,
        assignee: Option<&str>,
        note: Option<&str>,
        actor: &str,
    ) -> Result<Incident, StoreError> {
        required("actor", actor)?;
        if severity.is_none() && assignee.is_none() && note.is_none() {
            return Err(StoreError::Invalid {
                field: "update",
                message: "nothing to change; give a severity, an assignee or a note".into(),
            });
        }
        if let Some(a) = assignee {
            required("assignee", a)?;
        }
        let now = self.now();
        let incident = write_tx!(self, |tx, pg| {
            let mut incident = tx.lock_incident(pg, id).await?;
            let at = now.max(incident.updated_at);
            let mut body = serde_json::Map::new();
            if let Some(sev) = severity {
                body.insert(
                    "severity".into(),
                    json!({ "from": incident.severity, "to": sev }),
                );
                incident.severity = sev;
            }
            if let Some(a) = assignee {
                body.insert(
                    "assignee".into(),
                    json!({ "from": incident.assignee, "to": a }),
                );
                incident.assignee = Some(a.to_owned());
            }
            if let Some(n) = note {
                body.insert("note".into(), json!(n));
            }
            incident.updated_at = at;
            sqlx::query("UPDATE incidents SET severity = $2, assignee = $3 WHERE id = $1")
                .bind(id)
                .bind(incident.severity.as_str())
                .bind(&incident.assignee)
                .execute(&mut *tx)
                .await?;
            tx.push_timeline(id, at, actor, "updated", &serde_json::Value::Object(body))
                .await?;
            incident
        });
        Ok(incident)
    }

    /// Adds an entry of the caller's own `kind` (a note, a remediation step, a notification
    /// sent…) to an incident's timeline.
    pub async fn add_timeline(
        &self,
        id: &str,
        actor: &str,
        kind: &str,
        body: serde_json::Value,
    ) -> Result<TimelineEntry, StoreError> {
        required("actor", actor)?;
        required("kind", kind)?;
        let now = self.now();
        let entry = write_tx!(self, |tx, pg| {
            let incident = tx.lock_incident(pg, id).await?;
            let at = now.max(incident.updated_at);
            tx.push_timeline(id, at, actor, kind, &body).await?
        });
        Ok(entry)
    }
}

impl Store {
    /// The open incident carrying `dedup_key`, if there is one (at most one can be open).
    pub async fn open_incident_by_dedup(
        &self,
        dedup_key: &str,
    ) -> Result<Option<Incident>, StoreError> {
        let found = read_tx!(self, |tx| {
            let sql = format!(
                "SELECT {INCIDENT_COLS} FROM incidents \
                 WHERE dedup_key = $1 AND status IN {OPEN_STATUSES_SQL}"
            );
            let row = sqlx::query(&sql)
                .bind(dedup_key)
                .fetch_optional(&mut *tx)
                .await?;
            row.as_ref().map(incident_from_row).transpose()?
        });
        Ok(found)
    }
}
