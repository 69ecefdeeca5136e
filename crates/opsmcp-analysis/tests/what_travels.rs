//! What a dependency's trouble can explain in its callers: only trouble that began with
//! theirs and is of a kind that travels. A service starved of traffic by its callers is not
//! what hurts them, and a dependency that was already slow long before its callers began to
//! fail fast is not why they fail — even when a change landed on it or it is the loudest
//! signal. Each case is a small scenario in `fixtures/`, played by the simulator and read
//! through the `World` trait, as the tools read it.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use opsmcp_analysis::{
    Window,
    rca::{self, CONFIDENCE_FLOOR, RcaReport, RcaRequest},
};
use opsmcp_world::{
    World,
    health::Thresholds,
    sim::{Scenario, SimWorld, SimulatedWorld},
};

fn fixture(file: &str) -> Scenario {
    let path = format!("{}/tests/fixtures/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    Scenario::parse(&text, &path).unwrap()
}

async fn analyze(file: &str, seed: u64) -> RcaReport {
    play(fixture(file), seed).await
}

async fn play(scenario: Scenario, seed: u64) -> RcaReport {
    play_at(scenario, seed, SignedDuration::ZERO).await
}

/// The analysis run `later` after the world's start: what it finds must not hang on which
/// second that is.
async fn play_at(scenario: Scenario, seed: u64, later: SignedDuration) -> RcaReport {
    let start: Timestamp = "2026-11-26T04:00:00Z".parse().unwrap();
    let now = start + later;
    let world: Arc<dyn World> = Arc::new(SimulatedWorld::new(
        SimWorld::new(scenario, seed, start),
        Thresholds::default(),
    ));
    let request = RcaRequest {
        window: Window::ending(now, SignedDuration::from_mins(30)),
        symptoms: Vec::new(),
    };
    rca::analyze(world.as_ref(), &request).await.unwrap()
}

fn top(r: &RcaReport) -> (&str, &str, f64) {
    let h = r.hypotheses.first().expect("a hypothesis");
    (h.root_cause.as_str(), h.component.as_str(), h.confidence)
}

#[tokio::test]
async fn a_backend_starved_by_its_caller_is_not_the_cause_even_right_after_its_deploy() {
    for seed in 1..=3 {
        let r = analyze("starved-backend-behind-edge-config.toml", seed).await;
        let (kind, component, _) = top(&r);
        assert_eq!(
            (kind, component),
            ("bad-config-push", "edge"),
            "seed {seed}: {}",
            r.summary
        );
        let deploy = r
            .hypotheses
            .iter()
            .find(|h| h.component == "orders")
            .expect("the backend's deploy is looked at");
        assert!(
            deploy.confidence < CONFIDENCE_FLOOR,
            "seed {seed}: a deploy on a service whose only change is less traffic is not acted on ({})",
            deploy.confidence
        );
        assert!(
            deploy
                .evidence_against
                .iter()
                .any(|e| e.detail.contains("traffic")),
            "seed {seed}: says why: {:?}",
            deploy.evidence_against
        );
    }
}

#[tokio::test]
async fn a_dependency_slow_long_before_its_callers_failed_fast_does_not_explain_them() {
    for seed in 1..=3 {
        let r = analyze("old-vendor-slowness-and-a-fresh-deploy.toml", seed).await;
        let (kind, component, confidence) = top(&r);
        assert_eq!(
            (kind, component),
            ("bad-deploy", "rules"),
            "seed {seed}: {}",
            r.summary
        );
        assert!(confidence >= CONFIDENCE_FLOOR, "seed {seed}: {}", r.summary);
        assert!(
            r.hypotheses
                .iter()
                .filter(|h| h.component == "vendor")
                .all(|h| h.confidence < CONFIDENCE_FLOOR),
            "seed {seed}: the vendor's old slowness is not acted on: {}",
            r.summary
        );
    }
}

/// The top hypothesis names the truth, sure enough to act on, on seeds 1..=3.
async fn sure_and_right(file: &str, want: (&str, &str)) {
    for seed in 1..=3 {
        let r = analyze(file, seed).await;
        let (kind, component, confidence) = top(&r);
        assert_eq!((kind, component), want, "seed {seed}: {}", r.summary);
        assert!(
            confidence >= CONFIDENCE_FLOOR,
            "seed {seed}: sure enough to act: {}",
            r.summary
        );
    }
}

#[tokio::test]
async fn load_the_victims_push_onto_their_other_dependencies_is_accounted_for() {
    sure_and_right(
        "cache-at-maxclients-pushes-fallback-load-on-db.toml",
        ("connection-pool-exhaustion", "kv"),
    )
    .await;
}

#[tokio::test]
async fn older_unrelated_slowdowns_alongside_change_neither_the_answer_nor_its_confidence() {
    let file = "threads-exhausted-beside-an-older-unrelated-slowdown.toml";
    sure_and_right(file, ("connection-pool-exhaustion", "pricer")).await;
    // The same incident without the two unrelated services that were slow before it.
    let unrelated = ["batch", "reports"];
    let mut alone = fixture(file);
    alone
        .services
        .retain(|s| !unrelated.contains(&s.name.as_str()));
    alone
        .red_herrings
        .retain(|r| !unrelated.contains(&r.service.as_str()));
    alone
        .actions
        .retain(|a| !unrelated.contains(&a.target.as_str()));
    for seed in 1..=3 {
        let with = play(fixture(file), seed).await;
        let without = play(alone.clone(), seed).await;
        assert_eq!(top(&with).0, top(&without).0, "seed {seed}");
        assert_eq!(top(&with).1, top(&without).1, "seed {seed}");
        assert!(
            (top(&with).2 - top(&without).2).abs() <= 0.05,
            "seed {seed}: {} alongside older unrelated trouble, {} alone",
            top(&with).2,
            top(&without).2
        );
    }
}

#[tokio::test]
async fn a_pool_full_of_callers_waiting_on_a_much_slower_database_is_a_symptom() {
    let file = "pool-fills-waiting-on-a-locked-table.toml";
    sure_and_right(file, ("runaway-job", "stock-db")).await;
    for seed in 1..=3 {
        let r = analyze(file, seed).await;
        assert!(
            r.hypotheses
                .iter()
                .filter(|h| h.component == "allocator")
                .all(|h| h.confidence < CONFIDENCE_FLOOR),
            "seed {seed}: the caller's full pool is not acted on: {}",
            r.summary
        );
    }
}

#[tokio::test]
async fn inodes_exhausted_are_freed_not_grown() {
    let text = std::fs::read_to_string(format!(
        "{}/tests/fixtures/inodes-filled-by-scratch-files.toml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    // node_exporter's name for the same count: a filesystem's `files`.
    let files = text.replace(
        "scratch_inodes_used_percent",
        "node_filesystem_files_used_percent",
    );
    let as_files = Scenario::parse(&files, "files.toml").unwrap();
    let forms = [fixture("inodes-filled-by-scratch-files.toml"), as_files];
    for (scenario, seed) in forms
        .iter()
        .flat_map(|s| (1..=2).map(move |seed| (s, seed)))
    {
        let r = play(scenario.clone(), seed).await;
        let h = r.hypotheses.first().expect("a hypothesis");
        assert_eq!(
            (h.root_cause.as_str(), h.component.as_str()),
            ("disk-full", "worker"),
            "seed {seed}: {}",
            r.summary
        );
        let first = h.suggested_action.as_ref().expect("an action");
        assert_eq!(
            first.action, "purge-temp-files",
            "seed {seed}: with only the inodes exhausted, freeing files comes before a bigger volume"
        );
    }
}

#[tokio::test]
async fn a_dependency_throttled_when_its_allowance_ran_out_is_the_slow_one() {
    // Its credits spent to nothing are why it is slow, not another story beside it; and a
    // caller that only counts its errors may be timing out on it.
    for seed in 1..=3 {
        let r = analyze(
            "shared-volume-throttled-when-its-credits-ran-out.toml",
            seed,
        )
        .await;
        let (kind, component, confidence) = top(&r);
        assert_eq!(
            (kind, component),
            ("slow-dependency", "share"),
            "seed {seed}: {}",
            r.summary
        );
        assert!(confidence >= CONFIDENCE_FLOOR, "seed {seed}: {confidence}");
        for h in r.hypotheses.iter().filter(|h| h.component == "sync") {
            assert!(
                h.evidence_against
                    .iter()
                    .any(|e| e.detail.contains("share")),
                "seed {seed}: {:?}",
                h.evidence_against
            );
        }
    }
}

#[tokio::test]
async fn a_disk_jittering_about_its_line_reads_full_whenever_it_is_asked() {
    // Sample noise either side of the full line is not the disk emptying: a level is read
    // over minutes, so the answer does not depend on the second of the asking.
    for seed in 1..=2 {
        for later in (0..60).step_by(10) {
            let r = play_at(
                fixture("store-full-just-past-its-line.toml"),
                seed,
                SignedDuration::from_secs(later),
            )
            .await;
            let (kind, component, confidence) = top(&r);
            assert_eq!(
                (kind, component),
                ("disk-full", "store"),
                "seed {seed}, {later} s later: {}",
                r.summary
            );
            assert!(
                confidence >= CONFIDENCE_FLOOR,
                "seed {seed}, {later} s later: {confidence}"
            );
        }
    }
}

#[tokio::test]
async fn a_change_is_a_bystander_when_the_network_beneath_the_service_fails() {
    for renamed in [None, Some("node_netstat_Tcp_RetransSegs")] {
        let mut scenario = fixture("partition-after-a-harmless-config-change.toml");
        if let Some(name) = renamed {
            // The same fault, as another exporter names the signal.
            let text = std::fs::read_to_string(format!(
                "{}/tests/fixtures/partition-after-a-harmless-config-change.toml",
                env!("CARGO_MANIFEST_DIR")
            ))
            .unwrap()
            .replace("tcp_retransmits_per_s", name);
            scenario = Scenario::parse(&text, "renamed").unwrap();
        }
        for seed in 1..=3 {
            let r = play(scenario.clone(), seed).await;
            assert!(
                r.hypotheses.iter().all(|h| h.confidence < CONFIDENCE_FLOOR),
                "{renamed:?} seed {seed}: a logging change is not why packets are lost, and \
                 nothing we know explains lost packets: {}",
                r.summary
            );
            if let Some(push) = r
                .hypotheses
                .iter()
                .find(|h| h.root_cause.as_str() == "bad-config-push")
            {
                assert!(
                    push.evidence_against
                        .iter()
                        .any(|e| e.detail.contains("beneath")),
                    "{renamed:?} seed {seed}: says why: {:?}",
                    push.evidence_against
                );
            }
        }
    }
}

#[tokio::test]
async fn a_clock_off_beneath_a_dependency_explains_its_callers_failing() {
    for seed in 1..=3 {
        let r = analyze("clock-off-under-a-token-issuer.toml", seed).await;
        assert!(
            r.hypotheses.iter().all(|h| h.confidence < CONFIDENCE_FLOOR),
            "seed {seed}: the caller's deploy is not why the issuer's clock is off: {}",
            r.summary
        );
        if let Some(deploy) = r.hypotheses.iter().find(|h| h.component == "game") {
            assert!(
                deploy
                    .evidence_against
                    .iter()
                    .any(|e| e.detail.contains("depends on issuer")),
                "seed {seed}: says why: {:?}",
                deploy.evidence_against
            );
        }
    }
}

#[tokio::test]
async fn a_callers_own_surge_the_store_never_saw_is_no_rival_to_the_stores_job() {
    sure_and_right(
        "job-on-a-store-beside-a-callers-own-surge.toml",
        ("runaway-job", "store"),
    )
    .await;
}

#[tokio::test]
async fn a_vendor_that_calls_us_is_not_confidently_the_slow_one_and_a_table_at_its_limit_is_news() {
    for seed in 1..=3 {
        let r = analyze("edge-vendor-times-out-on-a-full-table-below.toml", seed).await;
        assert!(
            r.hypotheses
                .iter()
                .all(|h| h.component != "edge" || h.confidence < CONFIDENCE_FLOOR),
            "seed {seed}: the edge's slowness is what it calls: {}",
            r.summary
        );
        let gateway = r.sick_services.iter().find(|s| s.service == "gateway");
        assert!(
            gateway.is_some_and(|g| g.signals.iter().any(|s| s.contains("of its limit"))),
            "seed {seed}: a table at its limit is out of range: {:?}",
            r.sick_services
        );
    }
}

#[tokio::test]
async fn a_disk_filled_behind_a_held_position_is_freed_by_releasing_the_position() {
    let file = "store-disk-filled-by-a-stuck-consumer-position.toml";
    sure_and_right(file, ("disk-full", "store")).await;
    for seed in 1..=3 {
        let r = analyze(file, seed).await;
        let h = &r.hypotheses[0];
        let offered: Vec<&str> = h
            .candidate_actions
            .iter()
            .map(|a| a.action.as_str())
            .collect();
        assert_eq!(
            offered.first(),
            Some(&"drop-stale-capture-position"),
            "seed {seed}: what holds the bytes goes first: {offered:?}"
        );
        assert!(
            !offered.contains(&"delete-old-log-segments"),
            "seed {seed}: never delete the write-ahead log by hand: {offered:?}"
        );
    }
}

#[tokio::test]
async fn a_cache_restarted_empty_explains_its_emptiness_and_the_database_behind_it() {
    sure_and_right("cache-restarted-empty.toml", ("cache-stampede", "kv")).await;
    let r = analyze("cache-restarted-empty.toml", 1).await;
    assert_eq!(
        r.hypotheses[0]
            .suggested_action
            .as_ref()
            .map(|a| a.action.as_str()),
        Some("run-cache-warmer"),
        "a warmer warms: {:?}",
        r.hypotheses[0].candidate_actions
    );
}

#[tokio::test]
async fn failures_that_began_with_a_failing_cache_are_its_whatever_else_slowed_the_caller() {
    sure_and_right(
        "settings-push-fills-a-cache-beside-a-busy-worker.toml",
        ("bad-config-push", "kv"),
    )
    .await;
}

#[tokio::test]
async fn a_vendor_throttling_below_cannot_empty_the_cache_above_it() {
    sure_and_right(
        "cache-emptied-above-a-throttling-vendor.toml",
        ("cache-stampede", "kv"),
    )
    .await;
}

#[tokio::test]
async fn of_two_changes_on_one_service_the_one_that_names_what_moved_is_the_cause() {
    for (file, cause, component, fix, rival) in [
        (
            "limiter-rule-pushed-minutes-after-a-routine-deploy.toml",
            "bad-config-push",
            "router",
            "revert-limiter-policy",
            "bad-deploy",
        ),
        (
            "codec-release-beside-a-routine-setting.toml",
            "bad-deploy",
            "orders",
            "rollback-orders",
            "bad-config-push",
        ),
    ] {
        for r in acted_on(file, cause, component, Some((fix, component))).await {
            let other = r
                .hypotheses
                .iter()
                .find(|o| o.root_cause.as_str() == rival)
                .expect("the other change is looked at");
            assert!(
                other.confidence < CONFIDENCE_FLOOR,
                "{file}: the change that names nothing of what moved is not acted on ({})",
                other.confidence
            );
        }
    }
}

#[tokio::test]
async fn a_link_whose_largest_packet_was_cut_under_a_maintenance_notice_is_unknown_not_a_config_push()
 {
    for seed in 1..=3 {
        let r = analyze("failover-link-cuts-the-largest-packet.toml", seed).await;
        let (_, component, confidence) = top(&r);
        assert_eq!(component, "uplink", "seed {seed}: {}", r.summary);
        assert!(
            confidence < CONFIDENCE_FLOOR,
            "seed {seed}: the network beneath the link moved, which no kind we know names: {}",
            r.summary
        );
        assert!(
            r.hypotheses
                .iter()
                .flat_map(|h| &h.evidence_for)
                .any(|e| e.detail.contains("interface_mtu_bytes")),
            "seed {seed}: the cut is shown: {}",
            r.summary
        );
    }
}

/// Over seeds 1–3: the top hypothesis is `kind` on `component`, at or above the floor, with
/// `action` (name, target) suggested when one is given. The reports, for further checks.
async fn acted_on(
    file: &str,
    kind: &str,
    component: &str,
    action: Option<(&str, &str)>,
) -> Vec<RcaReport> {
    let mut out = Vec::new();
    for seed in 1..=3 {
        let r = analyze(file, seed).await;
        let h = &r.hypotheses[0];
        assert_eq!(
            (h.root_cause.as_str(), h.component.as_str()),
            (kind, component),
            "{file} seed {seed}: {}",
            r.summary
        );
        assert!(
            h.confidence >= CONFIDENCE_FLOOR,
            "{file} seed {seed}: {}",
            r.summary
        );
        if let Some(expected) = action {
            assert_eq!(
                h.suggested_action
                    .as_ref()
                    .map(|a| (a.action.as_str(), a.target.as_str())),
                Some(expected),
                "{file} seed {seed}: {}",
                r.summary
            );
        }
        out.push(r);
    }
    out
}

#[tokio::test]
async fn a_job_that_began_hours_before_the_page_is_found_where_its_onset_is() {
    let file = "job-began-hours-before-the-page.toml";
    for r in acted_on(
        file,
        "runaway-job",
        "search",
        Some(("stop-catalog-export", "search")),
    )
    .await
    {
        let onset = r
            .sick_services
            .iter()
            .find(|s| s.service == "search")
            .and_then(|s| s.onset.clone());
        assert!(
            onset.as_deref().is_some_and(|o| o < "2026-11-26T01:00:00Z"),
            "the onset is four hours back, not at the first point read: {onset:?}"
        );
    }
}

#[tokio::test]
async fn a_backend_straining_since_the_cache_in_front_emptied_is_its_victim_counted_or_not() {
    // The store is no rival origin: the cache is acted on.
    let file = "cache-emptied-backend-strains-uncounted.toml";
    acted_on(
        file,
        "cache-stampede",
        "kv-cache",
        Some(("warm-hot-keys", "kv-cache")),
    )
    .await;
}

#[tokio::test]
async fn a_pool_filled_by_one_callers_surge_is_freed_by_holding_that_caller_back() {
    let file = "pool-filled-by-a-callers-surge.toml";
    let fix = Some(("cap-importer-workers", "importer"));
    acted_on(file, "connection-pool-exhaustion", "orders-db", fix).await;
}

#[tokio::test]
async fn a_database_whose_volume_waits_with_nothing_else_to_blame_is_a_slow_dependency() {
    let file = "volume-under-a-database-slows.toml";
    let fix = Some(("failover-accounts-db", "accounts-db"));
    acted_on(file, "slow-dependency", "accounts-db", fix).await;
}

#[tokio::test]
async fn a_flag_that_sends_four_times_the_work_below_is_the_cause_not_what_slowed_under_it() {
    let file = "flag-fans-out-to-a-shared-store.toml";
    let fix = Some(("flag-off-live-embedding", "front"));
    for r in acted_on(file, "bad-config-push", "front", fix).await {
        assert!(
            r.hypotheses[1..]
                .iter()
                .all(|o| o.confidence < CONFIDENCE_FLOOR),
            "what slowed under the load is not acted on: {}",
            r.summary
        );
    }
}

#[tokio::test]
async fn credits_spent_beneath_a_database_are_not_the_setting_changed_a_quarter_hour_before() {
    for seed in 1..=3 {
        let r = analyze("credits-spent-beneath-a-routine-setting.toml", seed).await;
        let (_, component, confidence) = top(&r);
        assert_eq!(component, "studies-db", "seed {seed}: {}", r.summary);
        assert!(
            confidence < CONFIDENCE_FLOOR,
            "seed {seed}: a throttle beneath, outside the taxonomy, is unknown: {}",
            r.summary
        );
    }
}

#[tokio::test]
async fn a_leak_worsening_for_hours_is_felt_late_by_its_caller_and_a_fresh_unrelated_deploy_is_another_story()
 {
    let file = "leak-for-hours-beside-a-fresh-unrelated-deploy.toml";
    let fix = Some(("rollback-renderer", "renderer"));
    for r in acted_on(file, "memory-leak", "renderer", fix).await {
        assert!(
            r.hypotheses[0]
                .propagation_path
                .iter()
                .any(|p| p.contains("edge")),
            "the edge's errors, which began long after the leak, are the leak's: {}",
            r.summary
        );
    }
}

#[tokio::test]
async fn a_caller_whose_lines_say_its_calls_timed_out_is_not_failing_fast() {
    let file = "vendor-slow-caller-counts-timeouts-as-errors.toml";
    let fix = Some(("serve-cached-stock", "shop"));
    acted_on(file, "slow-dependency", "stock-vendor", fix).await;
}

#[tokio::test]
async fn a_replica_behind_on_a_slow_disk_is_storage_trouble_whole() {
    // Its lag, its running threads and its device's await are storage trouble showing, not
    // anomalies left unexplained.
    let file = "replica-lags-on-a-slow-disk.toml";
    let fix = Some(("drain-replica-b", "replica-b"));
    acted_on(file, "slow-dependency", "replica-b", fix).await;
}

#[tokio::test]
async fn a_dump_that_evicts_a_stores_cache_is_the_job() {
    let file = "dump-reads-a-store-through-its-cache.toml";
    let fix = Some(("suspend-dump", "docstore"));
    acted_on(file, "runaway-job", "docstore", fix).await;
}

#[tokio::test]
async fn a_backend_that_fails_only_with_its_changed_proxy_does_not_explain_it() {
    let file = "proxy-timeout-cut-short.toml";
    let fix = Some(("revert-proxy-settings", "front-proxy"));
    acted_on(file, "bad-config-push", "front-proxy", fix).await;
}

#[tokio::test]
async fn a_purge_that_emptied_a_cache_sets_off_a_stampede_and_undoing_it_refills_nothing() {
    let file = "purge-empties-an-edge-cache.toml";
    let fix = Some(("shield-and-serve-stale", "edge-cache"));
    acted_on(file, "cache-stampede", "edge-cache", fix).await;
}

#[tokio::test]
async fn bytes_buffered_with_no_capacity_known_are_not_a_full_disk() {
    let file = "index-full-shipper-buffers-grow.toml";
    let fix = Some(("delete-old-indices", "search-index"));
    acted_on(file, "disk-full", "search-index", fix).await;
}

#[tokio::test]
async fn a_pool_run_out_under_work_a_schedule_only_queued_is_the_pool_in_its_own_words() {
    let file = "pool-runs-out-under-queued-month-end-work.toml";
    let fix = Some(("match-pool-to-threads", "statement-worker"));
    for r in acted_on(file, "connection-pool-exhaustion", "statement-worker", fix).await {
        // The client library's own wording of a pool that ran out counts as the pool's words.
        assert!(
            r.hypotheses[0]
                .evidence_for
                .iter()
                .any(|e| e.kind == "log" && e.detail.contains("could not obtain a connection")),
            "{:?}",
            r.hypotheses[0].evidence_for
        );
    }
}

#[tokio::test]
async fn a_store_failing_worse_than_its_changed_caller_is_in_trouble_of_its_own() {
    // The caller's change set it off, and names what moved; the store throttling one hot key
    // fails far more than the caller: its own trouble, outside the taxonomy — nothing sure.
    for seed in 1..=3 {
        let r = analyze(
            "store-throttles-one-hot-key-under-a-new-write-pattern.toml",
            seed,
        )
        .await;
        assert!(
            r.hypotheses.iter().all(|h| h.confidence < CONFIDENCE_FLOOR),
            "seed {seed}: {}",
            r.summary
        );
    }
}

#[tokio::test]
async fn a_store_sent_a_jobs_work_is_its_victim_not_its_callers_cause() {
    // The store's request rate rose with the job and its latency only after the renderer's:
    // the renderer is not the store's victim.
    let file = "job-floods-a-shared-store-below-it.toml";
    let fix = Some(("stop-thumbnail-regen", "render-svc"));
    acted_on(file, "runaway-job", "render-svc", fix).await;
}

/// The top hypothesis of `file` on seeds 1 to 3 is `kind` on `component`, at `at_least`.
async fn found(file: &str, kind: &str, component: &str, at_least: f64) {
    for seed in 1..=3 {
        let r = analyze(file, seed).await;
        let (k, c, p) = top(&r);
        assert_eq!((k, c), (kind, component), "seed {seed}: {}", r.summary);
        assert!(
            p >= at_least,
            "seed {seed}: {p} < {at_least}: {}",
            r.summary
        );
    }
}

#[tokio::test]
async fn an_edge_cache_in_front_of_an_origin_with_an_expired_certificate_is_its_victim() {
    // Failed pulls are not stored: the edge's hit ratio sinks because the origin fails, and
    // the origin's expired certificate is no load the edge sent it.
    found(
        "edge-cache-misses-over-an-expired-origin-cert.toml",
        "certificate-expired",
        "origin",
        0.8,
    )
    .await;
}

#[tokio::test]
async fn a_leak_that_climbed_for_hours_explains_callers_that_felt_it_late() {
    // The callers' trouble began a quarter of an hour after the leak's, while it kept getting
    // worse: how long it worsened is read from its onset, hours back, not from the window.
    found(
        "leak-climbing-since-long-before-the-page.toml",
        "memory-leak",
        "pricer",
        CONFIDENCE_FLOOR,
    )
    .await;
}

#[tokio::test]
async fn a_volume_reported_as_a_fraction_of_one_is_full_at_one() {
    found(
        "volume-fill-reported-as-a-fraction.toml",
        "disk-full",
        "ledger",
        0.8,
    )
    .await;
}

#[tokio::test]
async fn a_stores_verdict_on_its_own_health_does_not_dilute_why_it_is_unwell() {
    found(
        "store-full-says-its-health-is-not-green.toml",
        "disk-full",
        "search-store",
        0.8,
    )
    .await;
}

#[tokio::test]
async fn requests_counted_over_a_limit_are_refused_work_not_a_bound() {
    found(
        "limiter-counts-what-it-turns-away.toml",
        "bad-config-push",
        "limiter",
        0.8,
    )
    .await;
}

#[tokio::test]
async fn a_job_a_quiet_runner_starts_in_a_store_is_the_stores_runaway_job() {
    found(
        "maintenance-job-asks-the-store-to-compact.toml",
        "runaway-job",
        "index",
        CONFIDENCE_FLOOR,
    )
    .await;
}

#[tokio::test]
async fn a_share_of_work_that_succeeded_falling_is_failure() {
    found(
        "release-cuts-a-success-share.toml",
        "bad-deploy",
        "payments",
        0.8,
    )
    .await;
}

#[tokio::test]
async fn a_separate_older_story_on_an_unlinked_service_is_no_origin_of_this_incident() {
    let file = "threads-run-out-beside-a-separate-older-job-on-an-unlinked-store.toml";
    sure_and_right(file, ("connection-pool-exhaustion", "booking-api")).await;
    for seed in 1..=3 {
        let r = analyze(file, seed).await;
        for h in r
            .hypotheses
            .iter()
            .filter(|h| h.component == "reporting-store")
        {
            assert!(
                h.confidence < CONFIDENCE_FLOOR,
                "seed {seed}: the export nothing calls explains none of what was reported: {} {}",
                h.root_cause.as_str(),
                h.confidence
            );
        }
    }
}

#[tokio::test]
async fn a_setting_that_names_its_broker_and_what_moved_is_the_cause_beside_a_routine_release() {
    acted_on(
        "consumer-settings-name-its-broker-beside-a-routine-release.toml",
        "bad-config-push",
        "ingest-worker",
        Some(("revert-ingest-values", "ingest-worker")),
    )
    .await;
}

#[tokio::test]
async fn two_changes_within_minutes_that_name_nothing_are_not_told_apart() {
    let mut scenario = fixture("consumer-settings-name-its-broker-beside-a-routine-release.toml");
    for e in scenario
        .events
        .iter_mut()
        .filter(|e| e.kind == opsmcp_world::sim::scenario::EventKind::Config)
    {
        e.detail = "values refresh (ticket OPS-1)".into();
    }
    for seed in 1..=3 {
        let r = play(scenario.clone(), seed).await;
        assert!(
            top(&r).2 < CONFIDENCE_FLOOR,
            "seed {seed}: a release and a settings push in one minute, neither naming what \
             moved: {}",
            r.summary
        );
    }
}

#[tokio::test]
async fn a_pooler_whose_clients_wait_in_line_is_felt_by_them_though_its_own_time_is_unmeasured() {
    acted_on(
        "pooler-makes-its-clients-wait-under-an-older-release.toml",
        "connection-pool-exhaustion",
        "orders-pooler",
        Some(("raise-pooler-size", "orders-pooler")),
    )
    .await;
}

#[tokio::test]
async fn a_scheduled_run_that_floods_a_store_others_use_is_the_cause_though_it_answers_nobody() {
    acted_on(
        "scheduled-scan-floods-a-store-an-api-shares.toml",
        "runaway-job",
        "audit-scan",
        Some(("stop-audit-scan", "audit-scan")),
    )
    .await;
}

#[tokio::test]
async fn a_scheduled_run_that_only_slows_a_store_nobody_waits_on_is_not_what_users_feel() {
    for seed in 1..=3 {
        let r = analyze(
            "nightly-dump-lags-a-replica-beside-a-full-primary.toml",
            seed,
        )
        .await;
        assert_eq!(top(&r).1, "primary", "seed {seed}: {}", r.summary);
        for h in r.hypotheses.iter().filter(|h| h.component == "dumper") {
            assert!(
                h.confidence < CONFIDENCE_FLOOR,
                "seed {seed}: the dump lags a replica nobody's answer waits on: {}",
                h.confidence
            );
        }
    }
}

#[tokio::test]
async fn a_purge_the_cache_logs_empties_it_and_undoing_settings_refills_nothing() {
    // The cache logs the purge it accepted, so the change names what moved: it is a purge
    // still, and the stampede is what to work on.
    let file = "purge-the-cache-logs-empties-it.toml";
    let fix = Some(("shield-and-serve-stale", "edge-cache"));
    acted_on(file, "cache-stampede", "edge-cache", fix).await;
}

#[tokio::test]
async fn a_store_slow_alone_at_the_bottom_is_a_slow_dependency_routed_around() {
    // Nothing of its own saturated, nothing changed on it or its callers, it calls nothing:
    // its provider's trouble. More capacity is an amount of nothing it lacks.
    let file = "store-slow-alone-at-the-bottom.toml";
    let fix = Some(("shift-reads-to-other-region", "kv-store"));
    acted_on(file, "slow-dependency", "kv-store", fix).await;
}

#[tokio::test]
async fn retries_echoing_a_services_failures_are_no_load_sent_from_above() {
    // The token service's extra work is its callers' retries; the settings change on the
    // gateway a minute before names nothing that moved: nothing sure.
    for seed in 1..=3 {
        let r = analyze("retries-echo-a-blip-into-a-storm.toml", seed).await;
        assert!(
            r.hypotheses.iter().all(|h| h.confidence < CONFIDENCE_FLOOR),
            "seed {seed}: {}",
            r.summary
        );
    }
}

#[tokio::test]
async fn memory_still_climbing_hours_after_a_release_is_a_leak_not_the_release() {
    sure_and_right(
        "leak-ramps-for-hours-after-a-release.toml",
        ("memory-leak", "render-worker"),
    )
    .await;
}

#[tokio::test]
async fn a_certificate_flag_that_turned_to_one_is_an_expired_certificate() {
    sure_and_right(
        "client-certificate-flag-turns-to-one.toml",
        ("certificate-expired", "settlement-client"),
    )
    .await;
}

#[tokio::test]
async fn requests_queued_on_a_stores_devices_make_it_the_slow_one() {
    sure_and_right(
        "store-devices-queue-up.toml",
        ("slow-dependency", "kv-store"),
    )
    .await;
}

#[tokio::test]
async fn a_release_whose_queries_scan_a_shared_store_is_the_cause_of_all_it_slows() {
    sure_and_right(
        "release-makes-queries-scan.toml",
        ("bad-deploy", "reviews-api"),
    )
    .await;
}

#[tokio::test]
async fn a_disk_that_runs_near_full_is_judged_by_the_room_it_has_left() {
    sure_and_right(
        "search-disk-past-its-watermark.toml",
        ("disk-full", "search-cluster"),
    )
    .await;
}

#[tokio::test]
async fn a_release_whose_retries_bury_its_broker_is_the_cause_and_the_broker_its_victim() {
    let file = "release-retries-flood-its-broker.toml";
    sure_and_right(file, ("bad-deploy", "dispatcher")).await;
    // The broker and the other publisher waiting on it are the release's to heal: its fix is
    // judged on them.
    let r = analyze(file, 1).await;
    let top = &r.hypotheses[0];
    for victim in ["event-bus", "orders-api"] {
        assert!(
            top.accounts_for.iter().any(|x| x == victim),
            "{victim} in {:?}",
            top.accounts_for
        );
    }
}

#[tokio::test]
async fn a_caller_that_weathered_a_slow_vendor_until_its_own_release_is_the_release() {
    // The vendor was slow for ten minutes while the service went on as usual; the service's
    // trouble began with its own release, whose words the end of its long exception lines
    // name. Before: the vendor, 0.98, and a failover on it.
    let file = "release-after-a-vendor-was-already-slow.toml";
    for r in acted_on(
        file,
        "bad-deploy",
        "booking-api",
        Some(("rollback-booking-api", "booking-api")),
    )
    .await
    {
        assert!(
            r.hypotheses
                .iter()
                .filter(|h| h.component == "rates-vendor")
                .all(|h| h.confidence < 0.5),
            "{file}: {}",
            r.summary
        );
    }
}

/// A change is read by what it did, not by the word its source used: a settings push written
/// as a flag change, and a scheduled run written as maintenance, give the same answer, with
/// the same confidence.
#[tokio::test]
async fn a_change_is_read_by_what_it_did_whatever_its_kind_is_called() {
    use opsmcp_world::sim::scenario::EventKind;
    for (file, from, to) in [
        (
            "consumer-settings-name-its-broker-beside-a-routine-release.toml",
            EventKind::Config,
            EventKind::Flag,
        ),
        (
            "scheduled-scan-floods-a-store-an-api-shares.toml",
            EventKind::Cron,
            EventKind::Maintenance,
        ),
        // A feed's words, written in a file.
        (
            "consumer-settings-name-its-broker-beside-a-routine-release.toml",
            EventKind::Config,
            EventKind::Secret,
        ),
        (
            "scheduled-scan-floods-a-store-an-api-shares.toml",
            EventKind::Cron,
            EventKind::Backfill,
        ),
    ] {
        let original = fixture(file);
        let mut renamed = original.clone();
        for e in renamed.events.iter_mut().filter(|e| e.kind == from) {
            e.kind = to;
        }
        assert_ne!(original, renamed, "{file} has a {from:?} event to rename");
        for seed in 1..=2 {
            let (a, b) = (
                play(original.clone(), seed).await,
                play(renamed.clone(), seed).await,
            );
            let (ka, ca, pa) = top(&a);
            let (kb, cb, pb) = top(&b);
            assert_eq!((ka, ca), (kb, cb), "{file} seed {seed}: {from:?} → {to:?}");
            assert!((pa - pb).abs() < 1e-9, "{file} seed {seed}: {pa} → {pb}");
        }
    }
}

/// A pool that filled slowly for most of an hour after its service's release is exhausted,
/// and the release is what leaks: undoing it comes first, not a bigger pool (which only fills
/// later). Without the release, the same slow fill is a pool to enlarge.
#[tokio::test]
async fn a_pool_a_release_leaks_into_is_fixed_by_undoing_the_release() {
    let file = "release-leaks-pool-connections-slowly.toml";
    sure_and_right(file, ("connection-pool-exhaustion", "quotes-svc")).await;
    let first = |r: &RcaReport| {
        r.hypotheses[0]
            .suggested_action
            .as_ref()
            .map(|a| a.action.clone())
            .unwrap_or_default()
    };
    for seed in 1..=2 {
        let r = analyze(file, seed).await;
        assert_eq!(
            first(&r),
            "rollback-quotes-svc",
            "seed {seed}: {}",
            r.summary
        );
    }
    let mut unreleased = fixture(file);
    unreleased.events.clear();
    let r = play(unreleased, 1).await;
    assert_eq!(top(&r).0, "connection-pool-exhaustion", "{}", r.summary);
    assert_eq!(first(&r), "raise-quotes-pool-to-80", "{}", r.summary);
}

/// Workers lost with the nodes they ran on: the pool's ceiling fell with a capacity change and
/// every remaining worker is busy (burning CPU, as workers do). The pool is too small for the
/// work — sure enough to add capacity back.
#[tokio::test]
async fn a_pool_shrunk_by_lost_capacity_is_the_cause_and_capacity_the_fix() {
    let file = "workers-lost-with-their-nodes-shrink-the-pool.toml";
    sure_and_right(file, ("connection-pool-exhaustion", "render-pool")).await;
    let r = analyze(file, 1).await;
    assert_eq!(
        r.hypotheses[0]
            .suggested_action
            .as_ref()
            .map(|a| a.action.as_str()),
        Some("add-on-demand-render-nodes"),
        "{}",
        r.summary
    );
}

/// A vendor that lost a good part of what it serves (its registered devices fell by half) is
/// broken inside, not merely slow: no sure "slow dependency", so nothing is run on it. The same
/// vendor keeping what it serves, only slower and failing some calls, is slow.
#[tokio::test]
async fn a_vendor_that_lost_what_it_serves_is_not_called_slow_with_confidence() {
    let file = "vendor-loses-what-it-serves.toml";
    for seed in 1..=2 {
        let r = analyze(file, seed).await;
        let (_, _, confidence) = top(&r);
        assert!(confidence < CONFIDENCE_FLOOR, "seed {seed}: {}", r.summary);
    }
    let mut kept = fixture(file);
    kept.fault.effects.remove("devices_registered");
    let r = play(kept, 1).await;
    let (kind, component, confidence) = top(&r);
    assert_eq!(
        (kind, component),
        ("slow-dependency", "push-provider"),
        "{}",
        r.summary
    );
    assert!(confidence >= CONFIDENCE_FLOOR, "{}", r.summary);
}

#[tokio::test]
async fn a_store_swamped_by_the_misses_of_a_cache_beside_it_is_its_victim() {
    let file = "cache-misses-counted-beside-a-store.toml";
    sure_and_right(file, ("cache-stampede", "session-kv")).await;
    // Its own full pool is no second answer to act on: the work filling it is the misses.
    for seed in 1..=3 {
        let r = analyze(file, seed).await;
        for h in r.hypotheses.iter().filter(|h| h.component == "orders-sql") {
            assert!(
                h.confidence < CONFIDENCE_FLOOR,
                "seed {seed}: {} on the store at {}: {}",
                h.root_cause.as_str(),
                h.confidence,
                r.summary
            );
        }
    }
}

#[tokio::test]
async fn a_run_the_services_own_log_says_started_is_a_scheduled_run() {
    let file = "job-started-inside-the-service.toml";
    sure_and_right(file, ("runaway-job", "ranking-svc")).await;
    let r = analyze(file, 1).await;
    let h = &r.hypotheses[0];
    assert!(
        h.evidence_for
            .iter()
            .any(|e| e.kind == "log" && e.detail.contains("a run started")),
        "the start line is the evidence of the run: {:?}",
        h.evidence_for
    );
    assert!(
        !h.evidence_against
            .iter()
            .any(|e| e.detail.contains("no scheduled job started")),
        "{:?}",
        h.evidence_against
    );
}

#[tokio::test]
async fn a_caller_that_names_the_call_that_failed_it_is_not_claimed_by_its_other_dependency() {
    let file = "caller-names-the-call-that-failed-it.toml";
    sure_and_right(file, ("cache-stampede", "segment-cache")).await;
    for seed in 1..=3 {
        let r = analyze(file, seed).await;
        let relay: Vec<_> = r
            .hypotheses
            .iter()
            .filter(|h| h.component == "mail-relay")
            .collect();
        for h in relay {
            assert!(
                !h.propagation_path
                    .iter()
                    .chain(&h.accounts_for)
                    .any(|s| s.contains("dispatcher")),
                "seed {seed}: the dispatcher's lines say audience-api failed it: {:?}",
                h.propagation_path
            );
        }
    }
}

#[tokio::test]
async fn a_certificate_that_expired_before_the_window_is_read_against_the_logs_from_before() {
    // The logs' normal is read from before the expiry, so the refused handshakes are news.
    sure_and_right(
        "certificate-expired-before-the-window.toml",
        ("certificate-expired", "pricing-svc"),
    )
    .await;
}

#[tokio::test]
async fn a_store_failing_for_a_reason_its_own_lines_state_is_not_confidently_slow() {
    for seed in 1..=3 {
        let r = analyze("store-fails-queries-for-a-reason-it-states.toml", seed).await;
        let (kind, component, confidence) = top(&r);
        assert!(
            confidence < CONFIDENCE_FLOOR,
            "seed {seed}: {kind} on {component} at {confidence}: its own errors say why, and \
             no rule reads that reason: {}",
            r.summary
        );
    }
}

#[tokio::test]
async fn a_topics_lag_that_grew_after_its_consumer_fell_ill_is_the_consumers_story() {
    sure_and_right(
        "consumer-leaks-behind-its-topic.toml",
        ("memory-leak", "invoice-mailer"),
    )
    .await;
}

#[tokio::test]
async fn memory_that_filled_behind_work_waiting_and_held_level_is_not_confidently_a_leak() {
    for seed in 1..=3 {
        let r = analyze("store-heap-fills-behind-its-queued-searches.toml", seed).await;
        let (kind, component, confidence) = top(&r);
        assert!(
            kind != "memory-leak" || confidence < CONFIDENCE_FLOOR,
            "seed {seed}: {kind} on {component} at {confidence}: the heap rose after the \
             searches queued and has held level since: {}",
            r.summary
        );
    }
}

#[tokio::test]
async fn a_counter_of_refusals_named_after_the_limit_is_errors_not_the_pools_bound() {
    sure_and_right(
        "server-at-max-connections-counts-its-refusals.toml",
        ("connection-pool-exhaustion", "booking-mysql"),
    )
    .await;
}

#[tokio::test]
async fn a_pool_overrun_by_more_requests_is_the_pools_not_its_callers() {
    sure_and_right(
        "pool-overrun-when-ten-times-the-requests-arrive.toml",
        ("connection-pool-exhaustion", "seats-svc"),
    )
    .await;
}
