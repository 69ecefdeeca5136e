//! World runs and their applied actions round-trip on both backends, kept apart per run.

#[macro_use]
mod common;

use jiff::Timestamp;
use opsmcp_store::{Store, WorldAction};

both_backends!(world_actions_round_trip, round_trip_test);
async fn round_trip_test(store: Store, _url: String) {
    let t0: Timestamp = "2026-11-26T10:00:00.123456Z".parse().expect("time");
    let action = |name: &str, secs: i64, rollback: bool| WorldAction {
        action: name.into(),
        target: "orders-db".into(),
        at: t0 + jiff::SignedDuration::from_secs(secs),
        rollback,
    };
    assert_eq!(
        store.latest_world_run("db-pool", 42).await.expect("none"),
        None
    );
    let first = store.start_world_run("db-pool", 42, t0).await.expect("run");
    assert_eq!(first.started_at, t0);
    let played = [
        action("increase_pool", 0, false),
        action("restart", 30, false),
        action("restart", 60, true),
    ];
    for a in &played {
        store.record_world_action(&first, a).await.expect("record");
    }
    let other_seed = store.start_world_run("db-pool", 7, t0).await.expect("run");
    store
        .record_world_action(&other_seed, &action("restart", 5, false))
        .await
        .expect("other seed");
    let big = store
        .start_world_run("db-pool", u64::MAX, t0)
        .await
        .expect("max seed");
    assert_eq!(
        store
            .latest_world_run("db-pool", u64::MAX)
            .await
            .expect("read"),
        Some(big.clone())
    );

    assert_eq!(store.world_actions(first.id).await.expect("read"), played);
    assert_eq!(
        store
            .world_actions(other_seed.id)
            .await
            .expect("read")
            .len(),
        1
    );
    assert!(store.world_actions(big.id).await.expect("read").is_empty());

    // A new run of the same scenario and seed starts clean and becomes the latest.
    let second = store.start_world_run("db-pool", 42, t0).await.expect("run");
    assert_ne!(second.id, first.id);
    assert_eq!(
        store.latest_world_run("db-pool", 42).await.expect("read"),
        Some(second.clone())
    );
    assert!(
        store
            .world_actions(second.id)
            .await
            .expect("read")
            .is_empty()
    );
}
