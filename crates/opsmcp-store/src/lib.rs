//! `opsmcp-store`: the durable memory of the workflow server — incidents and their timelines,
//! the applied world actions a simulated world replays, the notification outbox, the
//! hash-chained audit log and the live world's history (samples and change events) — on SQLite (the embedded default, one file, WAL, `synchronous=FULL`)
//! or PostgreSQL (several replicas sharing one database).
//!
//! One [`Store`] hides the backend: callers never branch on it. The schema is the same on both
//! (`migrations/sqlite`, `migrations/postgres`, applied by [`Store::open`]), and every operation
//! is one transaction, so a failed call leaves nothing half-written. Operations that must not race
//! across processes (dedup on create, audit appends, outbox claims) are serialized by the database
//! itself — `BEGIN IMMEDIATE` on SQLite, row locks, advisory locks and `FOR UPDATE SKIP LOCKED` on
//! PostgreSQL — never by a lock inside this process, because two servers may share one database.
//!
//! # Severities
//!
//! Incidents carry PagerDuty-style severities SEV1 (worst) to SEV5. Monitoring words map onto
//! them, and [`Severity`] parses both forms (case-insensitive):
//!
//! | word       | severity |
//! |------------|----------|
//! | `critical` | SEV1     |
//! | `high`     | SEV2     |
//! | `warning`  | SEV3     |
//! | `low`      | SEV4     |
//! | `info`     | SEV5     |
//!
//! # Lifecycle
//!
//! `triggered → acknowledged → investigating → mitigated → resolved → closed`; skipping forward is
//! allowed (`triggered → resolved`), going back never; `cancelled` is reachable from any open
//! state (triggered to mitigated). See [`Status::allowed_next`].
//!
//! # What it must not know
//!
//! Nothing of MCP, tools or HTTP serving, nothing of the world's logic (what an action does, how
//! health is judged), nothing of how a notification is delivered. It stores what callers hand it;
//! redacting secrets from audit arguments is the caller's job.

#![warn(missing_docs)]

/// Runs `$body` inside one write transaction on whichever backend the store has, committing when
/// the body finishes and rolling back (by dropping the transaction) when it returns early with
/// `?`. The body is expanded once per backend, so the same query code serves both; `$pg` tells it
/// which dialect it is speaking where the two differ. On SQLite the transaction is `BEGIN
/// IMMEDIATE`, which takes the database's write lock up front: two writers — in this process or
/// another — queue instead of both reading and then one failing to upgrade.
/// Records a committed transaction's time in `opsmcp_store_transaction_duration_seconds`.
#[doc(hidden)]
pub fn observe(kind: &'static str, backend: &'static str, started: std::time::Instant) {
    metrics::histogram!("opsmcp_store_transaction_duration_seconds",
        "kind" => kind, "backend" => backend)
    .record(started.elapsed().as_secs_f64());
}

macro_rules! write_tx {
    ($store:expr, |$tx:ident, $pg:ident| $body:expr) => {
        match &$store.backend {
            $crate::store::Backend::Sqlite(pool) => {
                let started = std::time::Instant::now();
                let mut $tx = pool.begin_with("BEGIN IMMEDIATE").await?;
                #[allow(unused_variables)]
                let $pg = false;
                let out = $body;
                $tx.commit().await?;
                $crate::observe("write", "sqlite", started);
                out
            }
            $crate::store::Backend::Postgres(pool) => {
                let started = std::time::Instant::now();
                let mut $tx = pool.begin().await?;
                #[allow(unused_variables)]
                let $pg = true;
                let out = $body;
                $tx.commit().await?;
                $crate::observe("write", "postgres", started);
                out
            }
        }
    };
}

/// Like [`write_tx!`] for reads: one snapshot for the whole body (a deferred transaction on
/// SQLite, `REPEATABLE READ` on PostgreSQL), so an incident and its timeline agree.
macro_rules! read_tx {
    ($store:expr, |$tx:ident| $body:expr) => {
        match &$store.backend {
            $crate::store::Backend::Sqlite(pool) => {
                let started = std::time::Instant::now();
                let mut $tx = pool.begin().await?;
                let out = $body;
                $tx.commit().await?;
                $crate::observe("read", "sqlite", started);
                out
            }
            $crate::store::Backend::Postgres(pool) => {
                let started = std::time::Instant::now();
                let mut $tx = pool
                    .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .await?;
                let out = $body;
                $tx.commit().await?;
                $crate::observe("read", "postgres", started);
                out
            }
        }
    };
}

mod audit;
mod error;
mod history;
mod incidents;
mod model;
mod outbox;
mod remediations;
mod row;
mod seal;
mod store;
mod world;

pub use audit::{AuditEntry, AuditVerdict, NewAuditEntry};
pub use error::StoreError;
pub use history::{ChangeEvent, PruneReport, Retention, Sample};
pub use model::{
    Incident, IncidentDetail, IncidentFilter, NewIncident, Page, PageRequest, Severity, Status,
    TimelineEntry,
};
pub use outbox::{Notification, NotificationStatus};
pub use remediations::{Approval, NewRemediation, Remediation};
pub use seal::{ANCHOR_FILE, Anchor, AuditKey};
pub use store::{Clock, Store};
pub use world::{WorldAction, WorldRun};
