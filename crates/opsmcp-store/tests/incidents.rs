//! Incidents against both backends: dedup (also under 50 concurrent creates), the lifecycle,
//! timestamps that never run backwards, updates, the timeline, listing with filters and
//! pagination, and (SQLite) a commit surviving a reopen.

#[macro_use]
mod common;

use std::collections::HashSet;

use jiff::{SignedDuration, Timestamp};
use opsmcp_store::{IncidentFilter, NewIncident, PageRequest, Severity, Status, Store, StoreError};
use serde_json::json;

fn new(title: &str, dedup_key: Option<&str>) -> NewIncident {
    NewIncident {
        title: title.into(),
        severity: Severity::Sev2,
        description: Some("checkout p99 over 2 s".into()),
        services: vec!["checkout".into(), "payments".into()],
        dedup_key: dedup_key.map(Into::into),
    }
}

both_backends!(dedup_joins_open_incident, dedup_joins_open_incident_test);
async fn dedup_joins_open_incident_test(store: Store, _url: String) {
    let (first, dup) = store
        .create_incident(new("checkout slow", Some("checkout-latency")), "alice")
        .await
        .expect("create");
    assert!(!dup);
    assert_eq!(first.id, "INC-0001");
    assert_eq!(first.status, Status::Triggered);

    let (again, dup) = store
        .create_incident(new("checkout slow again", Some("checkout-latency")), "bob")
        .await
        .expect("create again");
    assert!(dup, "same open dedup key must join the incident");
    assert_eq!(again.id, first.id);
    assert_eq!(
        again.title, "checkout slow",
        "the original incident is returned"
    );

    let detail = store.get_incident(&first.id).await.expect("get");
    let kinds: Vec<&str> = detail.timeline.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["created", "deduplicated"]);
    assert_eq!(detail.timeline[1].actor, "bob");
    assert_eq!(detail.timeline[1].body["title"], "checkout slow again");
    assert_eq!(
        detail.timeline.iter().map(|e| e.seq).collect::<Vec<_>>(),
        [1, 2]
    );
    assert_eq!(detail.incident, again);

    // A different key, and no key at all, open new incidents.
    let (other, dup) = store
        .create_incident(new("db down", Some("db")), "alice")
        .await
        .expect("other key");
    assert!(!dup);
    assert_eq!(other.id, "INC-0002");
    let (plain, dup) = store
        .create_incident(new("no key", None), "alice")
        .await
        .expect("no key");
    assert!(!dup);
    assert_eq!(plain.id, "INC-0003");

    // Once resolved the key is free again: a repeat is a new incident (PagerDuty semantics).
    store
        .transition(&first.id, Status::Resolved, "alice", None)
        .await
        .expect("resolve");
    let (fresh, dup) = store
        .create_incident(
            new("checkout slow, again", Some("checkout-latency")),
            "carol",
        )
        .await
        .expect("after resolve");
    assert!(!dup);
    assert_ne!(fresh.id, first.id);
}

both_backends!(concurrent_creates_one_incident, concurrent_creates_test);
async fn concurrent_creates_test(store: Store, _url: String) {
    let mut tasks = Vec::new();
    for i in 0..50 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store
                .create_incident(new(&format!("burst {i}"), Some("burst-key")), "alert")
                .await
                .expect("concurrent create")
        }));
    }
    let mut ids = HashSet::new();
    let mut fresh = 0;
    for t in tasks {
        let (incident, dup) = t.await.expect("task");
        ids.insert(incident.id);
        if !dup {
            fresh += 1;
        }
    }
    assert_eq!(ids.len(), 1, "50 creates with one key gave {ids:?}");
    assert_eq!(fresh, 1, "exactly one create opened the incident");
    let page = store
        .list_incidents(&IncidentFilter::default(), &PageRequest::first(200))
        .await
        .expect("list");
    assert_eq!(page.items.len(), 1);
    let id = ids.into_iter().next().expect("one id");
    let detail = store.get_incident(&id).await.expect("get");
    assert_eq!(detail.timeline.len(), 50, "one created + 49 deduplicated");
    assert_eq!(
        detail
            .timeline
            .iter()
            .filter(|e| e.kind == "deduplicated")
            .count(),
        49
    );
}

both_backends!(lifecycle, lifecycle_test);
async fn lifecycle_test(store: Store, _url: String) {
    let (inc, _) = store
        .create_incident(new("disk full", None), "alice")
        .await
        .expect("create");

    let acked = store
        .transition(&inc.id, Status::Acknowledged, "alice", Some("on it"))
        .await
        .expect("ack");
    assert_eq!(acked.status, Status::Acknowledged);
    assert!(acked.acknowledged_at.is_some());

    // Skipping forward is allowed.
    let mitigated = store
        .transition(&inc.id, Status::Mitigated, "alice", None)
        .await
        .expect("skip to mitigated");
    assert_eq!(mitigated.acknowledged_at, acked.acknowledged_at);

    // Backwards is not, and the error names what is allowed.
    let err = store
        .transition(&inc.id, Status::Investigating, "alice", None)
        .await
        .expect_err("backwards");
    match &err {
        StoreError::IllegalTransition {
            from, to, allowed, ..
        } => {
            assert_eq!(*from, Status::Mitigated);
            assert_eq!(*to, Status::Investigating);
            assert_eq!(
                allowed,
                &[Status::Resolved, Status::Closed, Status::Cancelled]
            );
        }
        other => panic!("expected IllegalTransition, got {other:?}"),
    }
    let msg = err.to_string();
    assert!(
        msg.contains("resolved, closed, cancelled") && msg.contains(&inc.id),
        "{msg}"
    );
    // The refused call wrote nothing.
    let detail = store.get_incident(&inc.id).await.expect("get");
    assert_eq!(detail.incident.status, Status::Mitigated);
    assert_eq!(detail.timeline.len(), 3);

    let resolved = store
        .transition(&inc.id, Status::Resolved, "alice", None)
        .await
        .expect("resolve");
    assert!(resolved.resolved_at.is_some());
    let err = store
        .transition(&inc.id, Status::Cancelled, "alice", None)
        .await
        .expect_err("cancel after resolve");
    assert!(matches!(err, StoreError::IllegalTransition { .. }));
    let closed = store
        .transition(&inc.id, Status::Closed, "alice", Some("postmortem done"))
        .await
        .expect("close");
    assert!(closed.closed_at.is_some());
    let err = store
        .transition(&inc.id, Status::Resolved, "alice", None)
        .await
        .expect_err("closed is final");
    assert!(err.to_string().contains("closed is final"), "{err}");

    let detail = store.get_incident(&inc.id).await.expect("get");
    let changes: Vec<(String, String)> = detail
        .timeline
        .iter()
        .filter(|e| e.kind == "status_changed")
        .map(|e| {
            (
                e.body["from"].as_str().unwrap_or_default().to_owned(),
                e.body["to"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        changes,
        [
            ("triggered".to_owned(), "acknowledged".to_owned()),
            ("acknowledged".to_owned(), "mitigated".to_owned()),
            ("mitigated".to_owned(), "resolved".to_owned()),
            ("resolved".to_owned(), "closed".to_owned()),
        ]
    );
    assert_eq!(detail.timeline[1].body["note"], "on it");

    // Cancelling from an open state; triggered straight to resolved.
    let (b, _) = store
        .create_incident(new("false alarm", None), "alice")
        .await
        .expect("create");
    let cancelled = store
        .transition(&b.id, Status::Cancelled, "alice", None)
        .await
        .expect("cancel");
    assert!(cancelled.closed_at.is_some());
    assert!(cancelled.resolved_at.is_none());
    let (c, _) = store
        .create_incident(new("blip", None), "alice")
        .await
        .expect("create");
    let r = store
        .transition(&c.id, Status::Resolved, "alice", None)
        .await
        .expect("triggered to resolved");
    assert!(r.acknowledged_at.is_none());

    let err = store
        .transition("INC-9999", Status::Resolved, "alice", None)
        .await
        .expect_err("unknown");
    assert!(matches!(err, StoreError::UnknownIncident { .. }));
    assert!(err.to_string().contains("INC-9999"), "{err}");
}

both_backends!(timestamps_never_run_backwards, timestamps_test);
async fn timestamps_test(store: Store, _url: String) {
    let start: Timestamp = "2026-11-26T10:00:00Z".parse().expect("time");
    let clock = common::ManualClock::at(start);
    let store = store.with_clock(clock.clock());
    let (inc, _) = store
        .create_incident(new("clock test", None), "alice")
        .await
        .expect("create");
    assert_eq!(inc.created_at, start);

    clock.set(start + SignedDuration::from_mins(5));
    let acked = store
        .transition(&inc.id, Status::Acknowledged, "alice", None)
        .await
        .expect("ack");
    assert_eq!(
        acked.acknowledged_at,
        Some(start + SignedDuration::from_mins(5))
    );

    // The clock jumps back an hour (NTP, a VM resumed): nothing may go before what is stored.
    clock.set(start - SignedDuration::from_hours(1));
    let note = store
        .add_timeline(&inc.id, "bob", "note", json!({"text": "clock went back"}))
        .await
        .expect("note");
    let resolved = store
        .transition(&inc.id, Status::Resolved, "alice", None)
        .await
        .expect("resolve");
    let closed = store
        .transition(&inc.id, Status::Closed, "alice", None)
        .await
        .expect("close");

    let ack_at = acked.acknowledged_at.expect("ack time");
    assert!(note.at >= ack_at);
    let resolved_at = resolved.resolved_at.expect("resolved time");
    let closed_at = closed.closed_at.expect("closed time");
    assert!(inc.created_at <= ack_at);
    assert!(ack_at <= resolved_at);
    assert!(resolved_at <= closed_at);
    assert!(closed.updated_at >= closed_at);

    let detail = store.get_incident(&inc.id).await.expect("get");
    assert_eq!(detail.incident, closed);
    for pair in detail.timeline.windows(2) {
        assert!(
            pair[0].at <= pair[1].at,
            "timeline went backwards: {pair:?}"
        );
        assert_eq!(pair[0].seq + 1, pair[1].seq);
    }
}

both_backends!(update_and_timeline, update_test);
async fn update_test(store: Store, _url: String) {
    let (inc, _) = store
        .create_incident(new("queue backlog", None), "alice")
        .await
        .expect("create");
    let updated = store
        .update(
            &inc.id,
            Some(Severity::Sev1),
            Some("dave"),
            Some("paging dave"),
            "alice",
        )
        .await
        .expect("update");
    assert_eq!(updated.severity, Severity::Sev1);
    assert_eq!(updated.assignee.as_deref(), Some("dave"));

    let err = store
        .update(&inc.id, None, None, None, "alice")
        .await
        .expect_err("empty update");
    assert!(err.to_string().contains("nothing to change"), "{err}");
    let err = store
        .update("INC-0404", Some(Severity::Sev3), None, None, "alice")
        .await
        .expect_err("unknown");
    assert!(err.to_string().contains("INC-0404"), "{err}");

    let entry = store
        .add_timeline(
            &inc.id,
            "runbook",
            "remediation",
            json!({"action": "restart"}),
        )
        .await
        .expect("timeline");
    assert_eq!(entry.seq, 3);
    let err = store
        .add_timeline("INC-0404", "runbook", "note", json!({}))
        .await
        .expect_err("unknown");
    assert!(matches!(err, StoreError::UnknownIncident { ref id } if id == "INC-0404"));

    let detail = store.get_incident(&inc.id).await.expect("get");
    assert_eq!(detail.incident, {
        let mut i = updated.clone();
        i.updated_at = entry.at;
        i
    });
    let upd = &detail.timeline[1];
    assert_eq!(upd.kind, "updated");
    assert_eq!(upd.body["severity"], json!({"from": "SEV2", "to": "SEV1"}));
    assert_eq!(upd.body["assignee"], json!({"from": null, "to": "dave"}));
    assert_eq!(upd.body["note"], "paging dave");
    assert_eq!(detail.timeline[2].body, json!({"action": "restart"}));

    let err = store.get_incident("INC-0404").await.expect_err("unknown");
    assert!(err.to_string().contains("INC-0404"), "{err}");

    let err = store
        .create_incident(new("  ", None), "alice")
        .await
        .expect_err("empty title");
    assert!(err.to_string().contains("title"), "{err}");
}

both_backends!(list_filters_and_pages, list_test);
async fn list_test(store: Store, _url: String) {
    for i in 1..=25 {
        let services = if i % 2 == 0 {
            vec!["api".to_owned()]
        } else {
            vec!["db".to_owned(), "api".to_owned()]
        };
        let severity = if i % 5 == 0 {
            Severity::Sev1
        } else {
            Severity::Sev3
        };
        let (inc, _) = store
            .create_incident(
                NewIncident {
                    title: format!("incident {i}"),
                    severity,
                    description: None,
                    services,
                    dedup_key: None,
                },
                "alice",
            )
            .await
            .expect("create");
        if i % 3 == 0 {
            store
                .transition(&inc.id, Status::Resolved, "alice", None)
                .await
                .expect("resolve");
        }
    }

    // Pages of 10: 10, 10, 5, newest first, no overlap, no gap.
    let mut seen = Vec::new();
    let mut cursor = None;
    let mut sizes = Vec::new();
    loop {
        let page = store
            .list_incidents(
                &IncidentFilter::default(),
                &PageRequest {
                    limit: 10,
                    cursor: cursor.clone(),
                },
            )
            .await
            .expect("page");
        sizes.push(page.items.len());
        seen.extend(page.items.into_iter().map(|i| i.id));
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(sizes, [10, 10, 5]);
    let expected: Vec<String> = (1..=25).rev().map(|i| format!("INC-{i:04}")).collect();
    assert_eq!(seen, expected);

    // An exact multiple of the page size ends without an empty extra page.
    let page = store
        .list_incidents(&IncidentFilter::default(), &PageRequest::first(25))
        .await
        .expect("all");
    assert_eq!(page.items.len(), 25);
    assert!(page.next_cursor.is_none());

    let by = |status, severity, service: Option<&str>| IncidentFilter {
        status,
        severity,
        service: service.map(Into::into),
    };
    let count = |f: IncidentFilter| {
        let store = store.clone();
        async move {
            store
                .list_incidents(&f, &PageRequest::first(200))
                .await
                .expect("filtered")
                .items
        }
    };
    let resolved = count(by(Some(Status::Resolved), None, None)).await;
    assert_eq!(resolved.len(), 8);
    assert!(resolved.iter().all(|i| i.status == Status::Resolved));
    assert_eq!(count(by(None, Some(Severity::Sev1), None)).await.len(), 5);
    assert_eq!(count(by(None, None, Some("db"))).await.len(), 13);
    assert_eq!(count(by(None, None, Some("api"))).await.len(), 25);
    assert_eq!(count(by(None, None, Some("nope"))).await.len(), 0);
    // i odd (db), i % 5 == 0 (SEV1), not resolved: 5, 25 (15 is resolved).
    let combined = count(by(
        Some(Status::Triggered),
        Some(Severity::Sev1),
        Some("db"),
    ))
    .await;
    let ids: Vec<&str> = combined.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, ["INC-0025", "INC-0005"]);

    for bad in [0, 201] {
        let err = store
            .list_incidents(&IncidentFilter::default(), &PageRequest::first(bad))
            .await
            .expect_err("limit out of range");
        assert!(err.to_string().contains("1 to 200"), "{err}");
    }
    let err = store
        .list_incidents(
            &IncidentFilter::default(),
            &PageRequest {
                limit: 10,
                cursor: Some("garbage".into()),
            },
        )
        .await
        .expect_err("bad cursor");
    assert!(err.to_string().contains("cursor"), "{err}");
}

/// SQLite only: a commit is on disk when the call returns, and a reopened store sees it (and
/// keeps counting ids from where it was).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_commit_survives_reopen() {
    let db = common::sqlite();
    let path = db.sqlite_path().expect("sqlite path");
    let store = Store::open(&db.url).await.expect("open");
    let (inc, _) = store
        .create_incident(new("durable", Some("durable-key")), "alice")
        .await
        .expect("create");
    store
        .transition(&inc.id, Status::Acknowledged, "alice", None)
        .await
        .expect("ack");
    store.close().await;
    drop(store);
    assert!(path.exists(), "the database file is where the URL said");

    let reopened = Store::open(&db.url).await.expect("reopen");
    let detail = reopened.get_incident(&inc.id).await.expect("get");
    assert_eq!(detail.incident.status, Status::Acknowledged);
    assert_eq!(detail.timeline.len(), 2);
    let (again, dup) = reopened
        .create_incident(new("durable", Some("durable-key")), "bob")
        .await
        .expect("dedup after reopen");
    assert!(dup);
    assert_eq!(again.id, inc.id);
    let (next, _) = reopened
        .create_incident(new("next", None), "bob")
        .await
        .expect("next");
    assert_eq!(next.id, "INC-0002");

    reopened.close().await;

    // WAL is a property of the file; a fresh connection sees it.
    use sqlx::Connection;
    let mut raw = sqlx::SqliteConnection::connect(&db.url).await.expect("raw");
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut raw)
        .await
        .expect("journal mode");
    assert_eq!(mode, "wal");
}

#[tokio::test]
async fn unsupported_url_says_what_to_use() {
    let err = Store::open("mysql://root:secret@localhost/ops")
        .await
        .expect_err("mysql is not a backend");
    let msg = err.to_string();
    assert!(
        msg.contains("sqlite:///") && msg.contains("postgres://"),
        "{msg}"
    );
    assert!(
        !msg.contains("secret"),
        "the password must not be echoed: {msg}"
    );
}

#[test]
fn severity_parses_both_forms() {
    let cases = [
        ("critical", Severity::Sev1),
        ("SEV1", Severity::Sev1),
        ("High", Severity::Sev2),
        ("sev2", Severity::Sev2),
        ("warning", Severity::Sev3),
        ("low", Severity::Sev4),
        ("info", Severity::Sev5),
        ("SEV5", Severity::Sev5),
    ];
    for (text, sev) in cases {
        assert_eq!(text.parse::<Severity>().expect(text), sev);
    }
    let err = "urgent".parse::<Severity>().expect_err("unknown");
    assert!(err.to_string().contains("SEV1..SEV5"), "{err}");
    assert_eq!(Severity::Sev3.to_string(), "SEV3");
    assert_eq!(Severity::Sev3.word(), "warning");
    assert_eq!(
        "Resolved".parse::<Status>().expect("status"),
        Status::Resolved
    );
}

both_backends!(
    incident_ids_complete_by_prefix,
    incident_ids_complete_by_prefix_test
);
async fn incident_ids_complete_by_prefix_test(store: Store, _url: String) {
    for i in 0..12 {
        store
            .create_incident(new(&format!("incident {i}"), None), "alice")
            .await
            .expect("create");
    }
    let ids = |prefix: &'static str, limit: u32| {
        let store = store.clone();
        async move {
            store
                .incident_ids_starting_with(prefix, limit)
                .await
                .expect("complete")
        }
    };
    // Newest first, bounded, case-insensitive.
    assert_eq!(
        ids("INC-001", 100).await,
        ["INC-0012", "INC-0011", "INC-0010"]
    );
    assert_eq!(ids("inc-000", 2).await, ["INC-0009", "INC-0008"]);
    assert_eq!(ids("", 100).await.len(), 12);
    // Wildcards are taken literally: `_` and `%` match nothing in an id.
    assert!(ids("INC_", 100).await.is_empty());
    assert!(ids("%", 100).await.is_empty());
    assert!(ids("INC-9", 100).await.is_empty());
}
