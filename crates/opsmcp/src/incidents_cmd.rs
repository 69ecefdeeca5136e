//! `opsmcp incidents list|show|approve` and `opsmcp audit verify`: the store from a terminal,
//! for the humans who approve actions and check the record.

use anyhow::Context;
use clap::Subcommand;
use opsmcp_store::{IncidentFilter, PageRequest, Store};

use crate::{config::Settings, serve::Exit};

/// What to do with incidents.
#[derive(Debug, Subcommand)]
pub enum IncidentsCommand {
    /// The latest incidents (newest first).
    List {
        /// Only this status (triggered, acknowledged, investigating, mitigated, resolved,
        /// closed, cancelled).
        #[arg(long)]
        status: Option<String>,
        /// How many.
        #[arg(long, default_value_t = 20)]
        limit: u32,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        overrides: crate::config::StoreArgs,
    },
    /// One incident: its timeline, remediations and notifications.
    Show {
        /// The id, e.g. INC-0001.
        id: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        overrides: crate::config::StoreArgs,
    },
    /// Approve a remediation action that needs a human's go-ahead. Only a pending request can
    /// be approved: one execute_remediation held on an open incident (its answer and the
    /// incident's timeline give the command); anything else exits 1 naming the pending ones.
    /// Approving runs nothing itself: an agent waiting on the request (await_approval) runs it
    /// through the same verify and rollback loop; with none waiting, call execute_remediation
    /// again with the same action.
    Approve {
        /// The incident, e.g. INC-0001.
        id: String,
        /// The action, `name@service` (or `name` for it on any service).
        action: String,
        /// Who approves (default: $USER).
        #[arg(long, env = "USER", default_value = "operator")]
        by: String,
        #[command(flatten)]
        overrides: crate::config::StoreArgs,
    },
}

/// Audit log commands.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Print the log, oldest first, from entry `--after`: every entry, or those matching the
    /// filters (all of them).
    List {
        /// Entries after this seq.
        #[arg(long, default_value_t = 0)]
        after: i64,
        /// How many.
        #[arg(long, default_value_t = 100)]
        limit: i64,
        /// Print JSON lines (no header).
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        filter: crate::audit_list::AuditFilter,
        #[command(flatten)]
        overrides: crate::config::StoreArgs,
    },
    /// Check the chain: reports the first entry that was edited or removed, with the audit key
    /// (keyed links) and its anchor (entries deleted from the end); exits 1 when broken.
    Verify {
        #[command(flatten)]
        overrides: crate::config::StoreArgs,
    },
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

async fn open(settings: &Settings) -> anyhow::Result<Store> {
    Store::open(&settings.database_url).await.with_context(|| {
        format!(
            "cannot open the store at {}; check --database-url / --data-dir",
            crate::serve::redact_url(&settings.database_url)
        )
    })
}

/// The store for a command that only reads (list, show, audit): opened read-only, so whoever
/// may read the database but not write it (an auditor; a 0444 file, a read-only folder) can.
/// A SQLite store that does not exist yet is created as any command creates it.
async fn open_to_read(settings: &Settings) -> anyhow::Result<Store> {
    let url = &settings.database_url;
    let exists = match sqlite_file(url) {
        Some(path) => path.exists(),
        None => !url.starts_with("sqlite:"),
    };
    if !exists {
        return open(settings).await;
    }
    Store::open_read_only(url).await.with_context(|| {
        format!(
            "cannot read the store at {}; check --database-url / --data-dir",
            crate::serve::redact_url(url)
        )
    })
}

/// The file of a `sqlite:` URL; none for an in-memory database or another backend.
fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then(|| path.into())
}

/// Runs an incidents command.
pub fn run(cmd: IncidentsCommand, m: &clap::ArgMatches) -> anyhow::Result<Exit> {
    let m = m.subcommand().map(|(_, m)| m).unwrap_or(m);
    runtime()?.block_on(async move {
        match cmd {
            IncidentsCommand::List {
                status,
                limit,
                json,
                overrides,
            } => {
                let store = open_to_read(&Settings::resolve(&overrides.overrides(), m)?).await?;
                let filter = IncidentFilter {
                    status: status.as_deref().map(str::parse).transpose()?,
                    ..Default::default()
                };
                let page = store
                    .list_incidents(&filter, &PageRequest::first(limit))
                    .await?;
                if json {
                    println!("{}", serde_json::to_string_pretty(&page.items)?);
                } else if page.items.is_empty() {
                    println!("no incidents");
                } else {
                    println!(
                        "{:<10} {:<5} {:<14} {:<20} TITLE",
                        "ID", "SEV", "STATUS", "OPENED"
                    );
                    for i in &page.items {
                        println!(
                            "{:<10} {:<5} {:<14} {:<20} {}",
                            i.id,
                            i.severity.to_string(),
                            i.status.to_string(),
                            i.created_at.strftime("%Y-%m-%d %H:%M:%S").to_string(),
                            i.title
                        );
                    }
                }
                Ok(Exit::Ok)
            }
            IncidentsCommand::Show {
                id,
                json,
                overrides,
            } => {
                let store = open_to_read(&Settings::resolve(&overrides.overrides(), m)?).await?;
                let detail = store.get_incident(&id).await?;
                let remediations = store.remediations_for(&id).await?;
                let notifications = store.notifications_for_incident(&id).await?;
                if json {
                    println!(
                        "{}",
                        serde_json::to_string_pretty(&serde_json::json!({
                            "incident": detail, "remediations": remediations,
                            "notifications": notifications,
                        }))?
                    );
                    return Ok(Exit::Ok);
                }
                let i = &detail.incident;
                println!("{} [{}] {} — {}", i.id, i.severity, i.status, i.title);
                if !i.services.is_empty() {
                    println!("services: {}", i.services.join(", "));
                }
                println!("\ntimeline:");
                for t in &detail.timeline {
                    println!(
                        "  {}  {:<14} {:<22} {}",
                        t.at.strftime("%H:%M:%S"),
                        t.actor,
                        t.kind,
                        t.body
                    );
                }
                if !remediations.is_empty() {
                    println!("\nremediations:");
                    for r in &remediations {
                        println!("  #{} {}@{}: {}", r.id, r.action, r.target, r.status);
                    }
                }
                if !notifications.is_empty() {
                    println!("\nnotifications:");
                    for n in &notifications {
                        println!(
                            "  #{} via {}: {:?} after {} attempt(s){}",
                            n.id,
                            n.channel,
                            n.status,
                            n.attempts,
                            n.last_error
                                .as_ref()
                                .map(|e| format!(" (last error: {e})"))
                                .unwrap_or_default()
                        );
                    }
                }
                Ok(Exit::Ok)
            }
            IncidentsCommand::Approve {
                id,
                action,
                by,
                overrides,
            } => {
                let store = open(&Settings::resolve(&overrides.overrides(), m)?).await?;
                let (name, target) = match action.split_once('@') {
                    Some((n, t)) => (n.to_string(), Some(t.to_string())),
                    None => (action.clone(), None),
                };
                let a = store.approve(&id, &name, target.as_deref(), &by).await?;
                let what = format!(
                    "{}{}",
                    a.action,
                    a.target.map(|t| format!("@{t}")).unwrap_or_default()
                );
                println!(
                    "approved {what} on {} by {} at {}",
                    a.incident_id, a.approved_by, a.approved_at
                );
                // Approving runs nothing: say who will.
                println!(
                    "nothing ran yet: an agent waiting on this request runs it now; with none \
                     waiting, call execute_remediation again with action {what} on {}",
                    a.incident_id
                );
                Ok(Exit::Ok)
            }
        }
    })
}

/// Runs an audit command.
pub fn run_audit(cmd: AuditCommand, m: &clap::ArgMatches) -> anyhow::Result<Exit> {
    let m = m.subcommand().map(|(_, m)| m).unwrap_or(m);
    let overrides = match cmd {
        AuditCommand::Verify { overrides } => overrides,
        AuditCommand::List {
            after,
            limit,
            json,
            filter,
            overrides,
        } => {
            return runtime()?.block_on(async move {
                let store = open_to_read(&Settings::resolve(&overrides.overrides(), m)?).await?;
                crate::audit_list::run(&store, after, limit, json, &filter).await
            });
        }
    };
    runtime()?.block_on(async move {
        let settings = Settings::resolve(&overrides.overrides(), m)?;
        let mut store = open_to_read(&settings).await?;
        let key = settings.audit_key_to_verify()?;
        let keyed = key.is_some();
        if let Some(key) = key {
            store = store.with_audit_key(key);
        }
        let verdict = store.verify_audit().await?;
        Ok(match verdict {
            opsmcp_store::AuditVerdict::Intact { entries, unkeyed } => {
                println!("audit log intact: {entries} entries, every hash matches");
                if unkeyed > 0 && unkeyed < entries {
                    println!(
                        "entries 1 to {unkeyed} predate the audit key (plain SHA-256 links); \
                         the rest are keyed"
                    );
                } else if unkeyed > 0 {
                    println!(
                        "no entry is keyed (plain SHA-256 links){}",
                        if keyed { "" } else { "; no audit key found" }
                    );
                }
                Exit::Ok
            }
            opsmcp_store::AuditVerdict::Broken { seq, reason } => {
                println!("audit log BROKEN at entry {seq}: {reason}");
                Exit::Failed
            }
        })
    })
}
