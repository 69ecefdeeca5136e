//! Applied world actions round-trip on both backends, kept apart per (scenario, seed).

#[macro_use]
mod common;

use jiff::Timestamp;
use opsmcp_store::{Store, WorldAction};

both_backends!(world_actions_round_trip, round_trip_test);
async fn round_trip_test(store: Store, _url: String) {
    let t0: Timestamp = "2026-11-26T10:00:00.123456Z".parse().expect("time");
    let action = |scenario: &str, seed: u64, name: &str, secs: i64| WorldAction {
        scenario: scenario.into(),
        seed,
        action: name.into(),
        target: "orders-db".into(),
        at: t0 + jiff::SignedDuration::from_secs(secs),
    };
    let run = [
        action("db-pool", 42, "increase_pool", 0),
        action("db-pool", 42, "restart", 30),
        action("db-pool", 42, "increase_pool", 60),
    ];
    for a in &run {
        store.record_world_action(a).await.expect("record");
    }
    store
        .record_world_action(&action("db-pool", 7, "restart", 5))
        .await
        .expect("other seed");
    store
        .record_world_action(&action("memory-leak", 42, "restart", 5))
        .await
        .expect("other scenario");
    let big = action("db-pool", u64::MAX, "restart", 1);
    store.record_world_action(&big).await.expect("max seed");

    assert_eq!(store.world_actions("db-pool", 42).await.expect("read"), run);
    assert_eq!(
        store
            .world_actions("db-pool", u64::MAX)
            .await
            .expect("read"),
        [big]
    );
    assert_eq!(
        store.world_actions("db-pool", 7).await.expect("read").len(),
        1
    );
    assert!(
        store
            .world_actions("nope", 42)
            .await
            .expect("read")
            .is_empty()
    );
}
