use jiff::{SignedDuration, Timestamp};

use super::{SimWorld, builtin, scenario::Level};

fn start() -> Timestamp {
    "2026-11-26T04:00:00Z".parse().unwrap()
}

fn world(name: &str, seed: u64) -> SimWorld {
    SimWorld::new(builtin::load(name).unwrap(), seed, start())
}

fn mins(m: i64) -> SignedDuration {
    SignedDuration::from_mins(m)
}

#[test]
fn every_builtin_scenario_is_valid() {
    let all = builtin::all().unwrap();
    assert_eq!(all.len(), builtin::BUILTIN.len());
    for s in all {
        assert!(s.name.chars().all(|c| c.is_ascii_lowercase() || c == '-'));
    }
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let a = world("db-connection-pool-exhaustion", 7);
    let b = world("db-connection-pool-exhaustion", 7);
    let c = world("db-connection-pool-exhaustion", 8);
    let window = (start() - mins(20), start());
    let logs = |w: &SimWorld| {
        w.logs(window.0, window.1)
            .map(|l| l.text)
            .collect::<Vec<_>>()
    };
    assert_eq!(logs(&a), logs(&b));
    assert_ne!(logs(&a), logs(&c));
    assert_eq!(
        a.signals("checkout-api", start()),
        b.signals("checkout-api", start())
    );
    assert_ne!(
        a.signals("checkout-api", start()),
        c.signals("checkout-api", start())
    );
}

#[test]
fn the_same_seed_started_later_plays_the_same_incident() {
    // An evaluation run twice must see the same world: noise follows time since the start.
    let later = start() + SignedDuration::from_secs(86_400 + 37);
    let a = world("db-connection-pool-exhaustion", 7);
    let b = SimWorld::new(
        builtin::load("db-connection-pool-exhaustion").unwrap(),
        7,
        later,
    );
    let shift = later - start();
    for m in [0, 3, 11, 19] {
        let at = start() - mins(m);
        assert_eq!(
            a.signals("checkout-api", at),
            b.signals("checkout-api", at + shift),
            "{m} min before the start"
        );
    }
    let bodies = |w: &SimWorld, from: Timestamp| {
        w.logs(from - mins(5), from)
            .map(|l| (l.service, l.level, (l.at - from).as_millis()))
            .collect::<Vec<_>>()
    };
    assert_eq!(bodies(&a, start()), bodies(&b, later));
}

#[test]
fn the_fault_shows_after_onset_and_not_before() {
    let w = world("db-connection-pool-exhaustion", 1);
    let before = w.signals("orders-db", w.onset() - mins(5)).unwrap();
    let after = w.signals("orders-db", start()).unwrap();
    assert!(before["db_connections_in_use"] < 45.0, "{before:?}");
    assert!(after["db_connections_in_use"] >= 47.0, "{after:?}");
    assert!(after["latency_p99_ms"] > 10.0 * before["latency_p99_ms"]);
    // It propagates to the caller, and not to unrelated services.
    let api_before = w.signals("checkout-api", w.onset() - mins(5)).unwrap();
    let api_after = w.signals("checkout-api", start()).unwrap();
    assert!(api_after["error_rate"] > 0.05 && api_before["error_rate"] < 0.01);
    let search = w.signals("search", start()).unwrap();
    assert!(search["error_rate"] < 0.01);

    let errors = |from, to| {
        w.logs(from, to)
            .filter(|l| l.level == Level::Error && l.service == "orders-db")
            .count()
    };
    assert_eq!(errors(w.onset() - mins(10), w.onset()), 0);
    assert!(errors(start() - mins(5), start()) > 100);
}

#[test]
fn the_incident_window_has_over_a_thousand_lines_in_three_formats() {
    let w = world("db-connection-pool-exhaustion", 1);
    let lines: Vec<_> = w.logs(w.onset(), start()).collect();
    assert!(lines.len() > 1000, "{}", lines.len());
    assert!(
        lines.windows(2).all(|p| p[0].at <= p[1].at),
        "lines are in time order"
    );
    let sample = |svc: &str| {
        lines
            .iter()
            .find(|l| l.service == svc)
            .unwrap()
            .text
            .clone()
    };
    assert!(sample("checkout-api").starts_with('{'));
    assert!(sample("payments").starts_with("ts="));
    // The database writes PostgreSQL's own header.
    assert!(
        sample("orders-db").starts_with("2026-11-26 0") && sample("orders-db").contains(" UTC ["),
        "{}",
        sample("orders-db")
    );
}

#[test]
fn the_right_action_recovers_the_world_and_wrong_ones_do_not() {
    let later = start() + mins(10);
    let mut fixed = world("db-connection-pool-exhaustion", 1);
    fixed
        .apply("increase-pool-size", "orders-db", start())
        .unwrap();
    assert_eq!(fixed.fault_strength(later), 0.0);
    assert!(fixed.signals("checkout-api", later).unwrap()["error_rate"] < 0.01);

    let mut wrong = world("db-connection-pool-exhaustion", 1);
    wrong.apply("rollback", "search", start()).unwrap();
    assert_eq!(wrong.fault_strength(later), 1.0);
    assert!(wrong.signals("checkout-api", later).unwrap()["error_rate"] > 0.05);

    let mut worse = world("db-connection-pool-exhaustion", 1);
    worse.apply("restart", "checkout-api", start()).unwrap();
    let during = start() + mins(1);
    assert!(worse.signals("checkout-api", during).unwrap()["error_rate"] > 0.3);

    let err = worse
        .apply("reboot", "orders-db", start())
        .unwrap_err()
        .to_string();
    assert!(err.contains("increase-pool-size@orders-db"), "{err}");
}

/// An action that moves the callers off the faulty service (`reroutes`): the callers' errors
/// and the lines they write about it end; the service itself stays as slow as it was.
#[test]
fn a_reroute_heals_the_callers_and_leaves_the_component_as_it_is() {
    let text = include_str!(
        "../../../opsmcp-analysis/tests/fixtures/failover-moves-callers-off-a-slow-service.toml"
    );
    let scenario = super::scenario::Scenario::parse(text, "fixture").unwrap();
    let fresh = || SimWorld::new(scenario.clone(), 1, start());
    let later = start() + mins(10);
    let untouched = fresh();
    let mut rerouted = fresh();
    rerouted
        .apply("failover-listings", "listings", start() + mins(1))
        .unwrap();
    let caller = |w: &SimWorld| w.signals("storefront", later).unwrap()["error_rate"];
    let own = |w: &SimWorld| w.signals("listings", later).unwrap()["latency_p50_ms"];
    assert!(caller(&untouched) > 0.05, "{}", caller(&untouched));
    assert!(caller(&rerouted) < 0.01, "{}", caller(&rerouted));
    assert!(own(&rerouted) > 10.0 * 12.0, "{}", own(&rerouted));
    assert_eq!(rerouted.fault_strength(later), 1.0);
    let timeouts = |w: &SimWorld| {
        w.logs(later - mins(1), later)
            .filter(|l| l.text.contains("timed out"))
            .count()
    };
    assert!(timeouts(&untouched) > 0);
    assert_eq!(timeouts(&rerouted), 0);
    assert!(scenario.fix_leaves_the_component());

    // Load the fault pushes onto a caller (its retries) ends when the caller is moved off.
    let retries = format!(
        "{text}\n[[red_herrings]]\nservice = \"storefront\"\ndescription = \"retries\"\n\
         start_minutes_ago = 8\nduration_minutes = 120\nfollows_fault = true\n\
         effects = {{ request_rate = {{ factor = 3.0 }} }}\n"
    );
    let scenario = super::scenario::Scenario::parse(&retries, "fixture").unwrap();
    let untouched = SimWorld::new(scenario.clone(), 1, start());
    let mut rerouted = SimWorld::new(scenario, 1, start());
    rerouted
        .apply("failover-listings", "listings", start() + mins(1))
        .unwrap();
    let rate = |w: &SimWorld| w.signals("storefront", later).unwrap()["request_rate"];
    assert!(rate(&untouched) > 2.0 * 400.0, "{}", rate(&untouched));
    assert!(rate(&rerouted) < 1.3 * 400.0, "{}", rate(&rerouted));
}

#[test]
fn worlds_replaying_the_same_actions_agree() {
    let mut a = world("db-connection-pool-exhaustion", 3);
    a.apply("increase-pool-size", "orders-db", start()).unwrap();
    let b = world("db-connection-pool-exhaustion", 3).with_applied(a.applied().to_vec());
    let t = start() + mins(1);
    assert_eq!(a.signals("orders-db", t), b.signals("orders-db", t));
}

#[test]
fn bad_scenarios_say_where_and_what() {
    let text = builtin::BUILTIN[0].1;
    let typo = text.replacen("log_format = \"json\"", "log_fromat = \"json\"", 1);
    let err = super::Scenario::parse(&typo, "my.toml")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("my.toml") && err.contains("log_fromat") && err.contains("line"),
        "{err}"
    );

    let dangling = text.replacen("component = \"orders-db\"", "component = \"orders\"", 1);
    let err = super::Scenario::parse(&dangling, "my.toml")
        .unwrap_err()
        .to_string();
    assert!(err.contains("'orders'") && err.contains("known:"), "{err}");

    let err = builtin::load("no-such-incident").unwrap_err().to_string();
    assert!(err.contains("db-connection-pool-exhaustion"), "{err}");
}

#[test]
fn the_example_in_docs_scenarios_md_is_valid() {
    let doc = include_str!("../../../../docs/scenarios.md");
    let example = doc
        .find("## A complete example")
        .expect("the example's section");
    let start =
        example + doc[example..].find("```toml\n").expect("a toml block") + "```toml\n".len();
    let end = start + doc[start..].find("```").expect("the block ends");
    let s = super::Scenario::parse(&doc[start..end], "docs/scenarios.md").unwrap();
    assert_eq!(s.name, "db-connection-pool-exhaustion");
}

/// The promises every built-in scenario keeps, checked the same way for all of them.
#[test]
fn every_builtin_shows_its_fault_only_after_onset_and_recovers_only_when_fixed() {
    let all = builtin::all().unwrap();
    let causes: std::collections::BTreeSet<_> =
        all.iter().map(|s| s.truth.root_cause.clone()).collect();
    assert!(
        causes.len() >= 8,
        "each built-in scenario has its own root cause: {causes:?}"
    );
    for scenario in all {
        let name = scenario.name.clone();
        assert!(!scenario.red_herrings.is_empty(), "{name}: no red herring");
        let w = SimWorld::new(scenario.clone(), 11, start());
        let fault = &scenario.fault;
        let before = w.signals(&fault.component, w.onset() - mins(3)).unwrap();
        let during = w.signals(&fault.component, start()).unwrap();
        let moved = fault.effects.keys().any(|signal| {
            let (b, d) = (before[signal], during[signal]);
            (d - b).abs() > 0.3 * b.max(0.01)
        });
        assert!(
            moved,
            "{name}: no effect visible on {}: {before:?} -> {during:?}",
            fault.component
        );

        // Fault log lines appear after onset and never before.
        let fault_lines = |from, to| {
            w.logs(from, to)
                .filter(|l| {
                    l.service == fault.component
                        && fault.logs.iter().any(|t| {
                            let head = t.message.split('{').next().unwrap_or_default();
                            l.text.contains(head.trim())
                        })
                })
                .count()
        };
        assert_eq!(fault_lines(w.onset() - mins(10), w.onset()), 0, "{name}");
        assert!(fault_lines(start() - mins(3), start()) > 0, "{name}");
        let volume = w.logs(w.onset(), start()).count();
        assert!(
            volume >= 1000,
            "{name}: only {volume} lines in the incident window"
        );

        let later = start() + mins(20);
        for fix in &scenario.truth.remediation {
            let action = scenario.resolve_action(fix).unwrap();
            let mut fixed = w.clone();
            fixed.apply(&action.name, &action.target, start()).unwrap();
            assert_eq!(
                fixed.fault_strength(later),
                0.0,
                "{name}: {fix} does not fix it"
            );
            let after = fixed.signals(&fault.component, later).unwrap();
            for signal in fault.effects.keys() {
                let base = scenario.service(&fault.component).unwrap().baseline[signal];
                // A renewed certificate counts down from its new lifetime.
                let renewed = crate::signals::kind(signal)
                    == crate::signals::SignalKind::CertExpiry
                    && after[signal] >= base;
                assert!(
                    renewed || (after[signal] - base).abs() <= 0.15 * base.max(0.01),
                    "{name}: {signal} did not recover: {} vs baseline {base}",
                    after[signal]
                );
            }
        }
        for action in scenario
            .actions
            .iter()
            .filter(|a| a.outcome != super::scenario::Outcome::Fixes)
        {
            let mut tried = w.clone();
            tried.apply(&action.name, &action.target, start()).unwrap();
            assert!(
                tried.fault_strength(later + mins(20)) > 0.9,
                "{name}: {}@{} should not fix it",
                action.name,
                action.target
            );
        }
    }
}

/// The simulated world through the [`World`](crate::World) interface, as the tools see it: two
/// worlds sharing one journal (the store, in the servers) agree after a remediation, and a
/// rollback ends the fix.
mod through_the_world_trait {
    use std::sync::{Arc, Mutex};

    use futures::future::BoxFuture;
    use jiff::Timestamp;

    use crate::{
        ActionRequest, World, WorldError,
        health::{Status, Thresholds},
        sim::{Applied, Journal, SimWorld, SimulatedWorld, builtin},
    };

    /// A journal in memory: what the store does for separate processes, for one test.
    #[derive(Debug, Default)]
    struct Shared(Mutex<Vec<Applied>>);

    impl Journal for Shared {
        fn load(&self) -> BoxFuture<'_, Result<Vec<Applied>, WorldError>> {
            Box::pin(async move { Ok(self.0.lock().unwrap().clone()) })
        }
        fn record(&self, applied: Applied) -> BoxFuture<'_, Result<(), WorldError>> {
            Box::pin(async move {
                self.0.lock().unwrap().push(applied);
                Ok(())
            })
        }
    }

    fn played(journal: &Arc<Shared>, started: Timestamp) -> SimulatedWorld {
        let scenario = builtin::load("db-connection-pool-exhaustion").unwrap();
        SimulatedWorld::new(SimWorld::new(scenario, 1, started), Thresholds::default())
            .with_journal(journal.clone())
    }

    fn request(action: &str, target: &str) -> ActionRequest {
        ActionRequest {
            action: action.into(),
            target: target.into(),
            params: Default::default(),
            dry_run: false,
        }
    }

    async fn worst(world: &SimulatedWorld) -> Status {
        let health = world.health().await.unwrap();
        health.iter().map(|s| s.status).max().unwrap()
    }

    #[tokio::test]
    async fn two_worlds_on_one_journal_agree_and_a_rollback_undoes_the_fix() {
        // Started long enough ago that the fix (2 min to effect) is complete "now": the fix is
        // applied with a time in the past through the journal, as another process would.
        let started = Timestamp::now() - jiff::SignedDuration::from_mins(30);
        let journal = Arc::new(Shared::default());
        let a = played(&journal, started);
        let b = played(&journal, started);
        assert_eq!(worst(&a).await, Status::Unhealthy);
        assert_eq!(worst(&b).await, Status::Unhealthy);

        let err = a.apply(request("nope", "orders-db")).await.unwrap_err();
        assert!(
            err.to_string().contains("increase-pool-size@orders-db"),
            "{err}"
        );
        let dry = ActionRequest {
            dry_run: true,
            ..request("increase-pool-size", "orders-db")
        };
        assert!(a.apply(dry).await.unwrap().dry_run);
        assert!(
            journal.0.lock().unwrap().is_empty(),
            "a dry run changes nothing"
        );

        a.apply(request("increase-pool-size", "orders-db"))
            .await
            .unwrap();
        // Move the recorded time back so the effect is complete now (2 minutes to effect).
        journal.0.lock().unwrap()[0].at = Timestamp::now() - jiff::SignedDuration::from_mins(5);
        let c = played(&journal, started);
        assert_eq!(worst(&c).await, Status::Healthy, "{:?}", c.health().await);

        let events = c
            .events(
                started - jiff::SignedDuration::from_hours(2),
                Timestamp::now(),
            )
            .await
            .unwrap();
        assert!(events.iter().any(|e| e.kind == "remediation"));
        assert!(
            events
                .iter()
                .any(|e| e.kind == "deploy" || e.kind == "config")
        );

        c.rollback("increase-pool-size", "orders-db").await.unwrap();
        journal.0.lock().unwrap()[1].at = Timestamp::now() - jiff::SignedDuration::from_mins(1);
        let d = played(&journal, started);
        assert_eq!(worst(&d).await, Status::Unhealthy);
        assert!(d.rollback("increase-pool-size", "orders-db").await.is_err());
    }

    #[tokio::test]
    async fn history_and_logs_show_the_fault_after_onset() {
        // A fixed start: history and logs take explicit windows, so this is deterministic.
        let started: Timestamp = "2026-11-26T04:00:00Z".parse().unwrap();
        let w = played(&Arc::new(Shared::default()), started);
        let onset = started - jiff::SignedDuration::from_mins(14);
        let series = w
            .history(
                started - jiff::SignedDuration::from_mins(40),
                started,
                std::time::Duration::from_secs(60),
            )
            .await
            .unwrap();
        let pool = series
            .iter()
            .find(|s| s.service == "orders-db" && s.signal == "db_connections_in_use")
            .unwrap();
        let before: Vec<f64> = pool
            .points
            .iter()
            .filter(|(t, _)| *t < onset)
            .map(|p| p.1)
            .collect();
        let after = pool.points.last().unwrap().1;
        assert!(
            before.iter().all(|v| *v * 1.15 < after),
            "{before:?} vs {after}"
        );

        let logs: Vec<_> = w
            .logs(started - jiff::SignedDuration::from_mins(15), started)
            .await
            .unwrap()
            .collect();
        assert!(logs.len() > 1000);
        assert!(logs.windows(2).all(|p| p[0].at <= p[1].at));
        assert!(
            logs.iter()
                .any(|l| l.level == "error" && l.service == "orders-db")
        );
    }
}

#[test]
fn effect_speed_shortens_only_the_actions_timing() {
    // increase-pool-size takes 2 minutes as written: half done after one.
    let one_min = start() + mins(1);
    let mut slow = world("db-connection-pool-exhaustion", 1);
    slow.apply("increase-pool-size", "orders-db", start())
        .unwrap();
    assert!(slow.fault_strength(one_min) > 0.4);

    // At 20x it is complete after 6 seconds.
    let mut fast = world("db-connection-pool-exhaustion", 1).with_effect_speed(20.0);
    fast.apply("increase-pool-size", "orders-db", start())
        .unwrap();
    assert_eq!(
        fast.fault_strength(start() + SignedDuration::from_secs(6)),
        0.0
    );

    // The restart's disruption is shortened the same way; the fault itself is unchanged.
    let mut worse = world("db-connection-pool-exhaustion", 1).with_effect_speed(20.0);
    worse.apply("restart", "checkout-api", start()).unwrap();
    assert!(
        worse
            .signals("checkout-api", start() + SignedDuration::from_secs(3))
            .unwrap()["error_rate"]
            > 0.3
    );
    assert!(worse.signals("checkout-api", one_min).unwrap()["error_rate"] < 0.3);
    assert_eq!(
        worse.fault_strength(one_min),
        world("db-connection-pool-exhaustion", 1).fault_strength(one_min)
    );

    // Nonsense factors mean "as written".
    let odd = world("db-connection-pool-exhaustion", 1).with_effect_speed(0.0);
    assert_eq!(
        odd.fault_strength(one_min),
        world("db-connection-pool-exhaustion", 1).fault_strength(one_min)
    );
}

#[test]
fn trouble_of_its_own_is_excused_only_off_the_faults_path_and_while_it_lasts() {
    let text = r#"
name = "excused"
summary = "s"
story = "s"

[[services]]
name = "web"
kind = "api"
depends_on = ["db"]
log_format = "json"
baseline = { request_rate = 10.0 }

[[services]]
name = "db"
kind = "database"
log_format = "json"
baseline = { request_rate = 10.0 }

[[services]]
name = "etl"
kind = "worker"
log_format = "json"
baseline = { cpu_percent = 10.0 }

[[services]]
name = "spare"
kind = "database"
log_format = "json"
baseline = { cpu_percent = 10.0 }

[fault]
type = "slow-dependency"
component = "db"
onset_minutes_ago = 10
shape = "step"
effects = { request_rate = { factor = 0.5 } }

# Ongoing, on a service off the fault's path: excused.
[[red_herrings]]
service = "etl"
description = "a nightly batch"
start_minutes_ago = 30
duration_minutes = 90

# Ongoing, but on a caller of the fault: its health is the fix's to restore.
[[red_herrings]]
service = "web"
description = "a caller's own noise"
start_minutes_ago = 30
duration_minutes = 90

# Over within five minutes of the start.
[[red_herrings]]
service = "spare"
description = "a short blip"
start_minutes_ago = 30
duration_minutes = 35

[[actions]]
name = "fix"
target = "db"
outcome = "fixes"
minutes_to_effect = 1

[truth]
root_cause = "slow-dependency"
component = "db"
remediation = ["fix"]
"#;
    let s = super::scenario::Scenario::parse(text, "excused.toml").unwrap();
    assert_eq!(s.independent_trouble(1.0), vec!["etl", "spare"]);
    assert_eq!(s.independent_trouble(6.0), vec!["etl"]);
    assert!(s.independent_trouble(61.0).is_empty());
}

/// A small scenario around `body` (services, fault, red herrings, extra actions): the usual
/// header, and a `fix` on the fault's `component` that the truth names.
fn small(body: &str, cause: &str, component: &str) -> super::scenario::Scenario {
    small_parsed(body, cause, component).unwrap()
}

/// [`small`], refused or not: what validation says of `body`.
fn small_parsed(body: &str, cause: &str, component: &str) -> Result<super::Scenario, String> {
    let text = format!(
        "name = \"small\"\nsummary = \"s\"\nstory = \"s\"\n{body}\n\
         [[actions]]\nname = \"fix\"\ntarget = \"{component}\"\noutcome = \"fixes\"\n\
         minutes_to_effect = 1\n\n\
         [truth]\nroot_cause = \"{cause}\"\ncomponent = \"{component}\"\nremediation = [\"fix\"]\n"
    );
    super::scenario::Scenario::parse(&text, "small.toml").map_err(|e| e.to_string())
}

#[test]
fn renewing_an_expired_certificate_leaves_a_fresh_one_not_the_old_countdown() {
    // The writer's baseline is the certificate as it stood before the story: hours left.
    let body = r#"
[[services]]
name = "origin"
kind = "api"
log_format = "json"
baseline = { request_rate = 10.0, error_rate = 0.001, cert_days_left = 0.4 }

[fault]
type = "certificate-expired"
component = "origin"
onset_minutes_ago = 10
shape = "step"
effects = { cert_days_left = { to = -0.1 }, error_rate = { to = 0.9 } }

[[actions]]
name = "reload"
target = "origin"
outcome = "nothing"
minutes_to_effect = 1
"#;
    let s = small(body, "certificate-expired", "origin");
    let later = start() + mins(5);
    let mut fixed = SimWorld::new(s.clone(), 1, start());
    fixed.apply("fix", "origin", start()).unwrap();
    let days = fixed.signals("origin", later).unwrap()["cert_days_left"];
    assert!(
        days >= 89.0,
        "a renewed certificate has its lifetime ahead: {days}"
    );
    let mut wrong = SimWorld::new(s, 1, start());
    wrong.apply("reload", "origin", start()).unwrap();
    assert!(wrong.signals("origin", later).unwrap()["cert_days_left"] <= 0.0);
}

#[test]
fn propagated_errors_are_written_in_the_callers_own_unit() {
    let body = r#"
[[services]]
name = "web"
kind = "api"
depends_on = ["db"]
log_format = "json"
baseline = { request_rate = 10.0, http_5xx_percent = 0.2, success_ratio = 0.999 }

[[services]]
name = "db"
kind = "database"
log_format = "json"
baseline = { request_rate = 10.0, error_rate = 0.001 }

[fault]
type = "slow-dependency"
component = "db"
onset_minutes_ago = 10
shape = "step"
effects = { error_rate = { to = 0.5 } }

[fault.propagation]
error_rate = 0.3
"#;
    let s = small(body, "slow-dependency", "db");
    let w = SimWorld::new(s, 1, start());
    let web = w.signals("web", start()).unwrap();
    // 30 % of its work failing reads 30 on a percent, 0.3 off a share of one.
    assert!(web["http_5xx_percent"] > 20.0, "{web:?}");
    assert!(web["success_ratio"] < 0.8, "{web:?}");
}

#[test]
fn the_signals_an_independent_story_moves_are_excused_on_any_service_while_it_lasts() {
    let body = r#"
[[services]]
name = "worker"
kind = "worker"
depends_on = ["store"]
log_format = "json"
baseline = { request_rate = 10.0, queue_depth = 10.0, error_rate = 0.001 }

[[services]]
name = "store"
kind = "database"
log_format = "json"
baseline = { request_rate = 10.0, error_rate = 0.001 }

[fault]
type = "connection-pool-exhaustion"
component = "store"
onset_minutes_ago = 10
shape = "step"
effects = { error_rate = { to = 0.5 } }

# A campaign of its own fills the worker's queue, whatever is done about the store.
[[red_herrings]]
service = "worker"
description = "a campaign"
start_minutes_ago = 30
duration_minutes = 90
effects = { queue_depth = { factor = 30.0 } }

# The worker's errors follow the fault: not excused.
[[red_herrings]]
service = "worker"
description = "errors from the store"
start_minutes_ago = 10
duration_minutes = 60
follows_fault = true
effects = { error_rate = { to = 0.2 } }
"#;
    let s = small(body, "connection-pool-exhaustion", "store");
    let want = vec![("worker".to_string(), "queue_depth".to_string())];
    assert_eq!(s.independent_signals(1.0), want);
    assert!(s.independent_signals(61.0).is_empty());
    assert!(
        s.independent_trouble(1.0).is_empty(),
        "the worker calls the fault's component: only its signal is excused"
    );
    // On the component itself: the story's own signal is excused, not one the fault moves.
    let on_component = body.to_string()
        + "\n[[red_herrings]]\nservice = \"store\"\ndescription = \"a nightly extract\"\n\
           start_minutes_ago = 30\nduration_minutes = 90\n\
           effects = { cpu_percent = { to = 90.0 }, error_rate = { to = 0.01 } }\n";
    let on_component = on_component.replace(
        "baseline = { request_rate = 10.0, error_rate = 0.001 }\n\n[fault]",
        "baseline = { request_rate = 10.0, error_rate = 0.001, cpu_percent = 20.0 }\n\n[fault]",
    );
    let s = small(&on_component, "connection-pool-exhaustion", "store");
    assert_eq!(
        s.independent_signals(1.0),
        vec![
            ("store".to_string(), "cpu_percent".to_string()),
            ("worker".to_string(), "queue_depth".to_string())
        ]
    );
}

/// Lines of `service` holding `message` in the five minutes from `from`.
fn lines_in_five(w: &SimWorld, service: &str, message: &str, from: Timestamp) -> f64 {
    w.logs(from, from + mins(5))
        .filter(|l| l.service == service && l.text.contains(message))
        .count() as f64
}

/// A service whose work fails writes fewer of its routine lines: they thin by the share
/// failing beyond normal (half, here), while its warnings keep their rate and a healthy
/// neighbour is untouched.
#[test]
fn routine_lines_thin_out_as_a_services_work_fails() {
    let body = r#"
[[services]]
name = "web"
kind = "api"
depends_on = ["db"]
log_format = "json"
baseline = { request_rate = 10.0, http_5xx_percent = 0.0 }
logs = [
  { level = "info", per_minute = 600, message = "GET /items 200" },
  { level = "warn", per_minute = 120, message = "slow request" },
]

[[services]]
name = "db"
kind = "database"
log_format = "json"
baseline = { request_rate = 10.0, error_rate = 0.0 }
logs = [{ level = "info", per_minute = 600, message = "checkpoint complete" }]

[[services]]
name = "cron"
kind = "worker"
log_format = "json"
baseline = { request_rate = 1.0, error_rate = 0.0 }
logs = [{ level = "info", per_minute = 600, message = "tick" }]

[fault]
type = "slow-dependency"
component = "db"
onset_minutes_ago = 30
shape = "step"
effects = { latency_ms = { factor = 3.0 } }

[fault.propagation]
error_rate = 0.5
"#;
    let s = small(body, "slow-dependency", "db");
    let w = SimWorld::new(s, 1, start());
    let before = start() - mins(40);
    let during = start() - mins(10);
    let ratio = lines_in_five(&w, "web", "GET /items", during)
        / lines_in_five(&w, "web", "GET /items", before);
    assert!(
        (0.4..0.6).contains(&ratio),
        "routine lines at {ratio} of normal"
    );
    let warn = lines_in_five(&w, "web", "slow request", during)
        / lines_in_five(&w, "web", "slow request", before);
    assert!((0.9..1.1).contains(&warn), "warnings at {warn} of normal");
    let tick =
        lines_in_five(&w, "cron", "tick", during) / lines_in_five(&w, "cron", "tick", before);
    assert!(
        (0.9..1.1).contains(&tick),
        "a healthy service at {tick} of normal"
    );
}

/// Work that stops arriving is not logged as done either: a service whose requests fall to a
/// fifth writes a fifth of its routine lines, one whose requests double writes no more, and
/// its warnings keep their rate.
#[test]
fn routine_lines_follow_the_work_that_reaches_a_service_when_it_falls() {
    let body = r#"
[[services]]
name = "edge"
kind = "api"
depends_on = ["api"]
log_format = "json"
baseline = { request_rate = 10.0, error_rate = 0.0 }
logs = [{ level = "info", per_minute = 600, message = "GET / 200" }]

[[services]]
name = "api"
kind = "api"
log_format = "json"
baseline = { request_rate = 10.0, error_rate = 0.0, queue_depth = 1.0 }
logs = [
  { level = "info", per_minute = 600, message = "order accepted" },
  { level = "warn", per_minute = 120, message = "retrying payment" },
]

[fault]
type = "bad-config-push"
component = "api"
onset_minutes_ago = 30
shape = "step"
effects = { request_rate = { factor = 0.2 } }

[[red_herrings]]
service = "edge"
description = "a campaign doubles the traffic"
start_minutes_ago = 30
duration_minutes = 60
follows_fault = false
effects = { request_rate = { factor = 2.0 } }
"#;
    let s = small(body, "bad-config-push", "api");
    let w = SimWorld::new(s, 1, start());
    let before = start() - mins(40);
    let during = start() - mins(10);
    let ratio = |service: &str, message: &str| {
        lines_in_five(&w, service, message, during) / lines_in_five(&w, service, message, before)
    };
    let accepted = ratio("api", "order accepted");
    assert!(
        (0.15..0.3).contains(&accepted),
        "routine lines at {accepted} of normal"
    );
    let warn = ratio("api", "retrying payment");
    assert!((0.9..1.1).contains(&warn), "warnings at {warn} of normal");
    let edge = ratio("edge", "GET / 200");
    assert!(
        (0.9..1.1).contains(&edge),
        "more work, as many lines: {edge}"
    );
}

/// Hops to the fault as the graph was walked before they were worked out once per world: down
/// from `service`, shortest path first.
fn hops_walked(s: &super::Scenario, service: &str) -> Option<u32> {
    let target = &s.fault.component;
    let mut frontier = vec![service];
    let mut seen = vec![service];
    for hop in 1..=s.services.len() as u32 {
        let mut next = Vec::new();
        for x in frontier {
            for d in s.service(x).map(|x| x.depends_on.as_slice()).unwrap_or(&[]) {
                if d == target {
                    return Some(hop);
                }
                if !seen.contains(&d.as_str()) {
                    seen.push(d);
                    next.push(d.as_str());
                }
            }
        }
        frontier = next;
    }
    None
}

#[test]
fn hops_to_the_fault_are_the_shortest_walk_down_the_graph() {
    let mut scenarios = builtin::all().unwrap();
    // A diamond and a cycle through the component, which no built-in scenario has.
    let mut s = builtin::load("db-connection-pool-exhaustion").unwrap();
    s.services[0].depends_on.push("search".into());
    s.services[3].depends_on.push("orders-db".into());
    s.services[1].depends_on.push("checkout-api".into());
    scenarios.push(s);
    for s in scenarios {
        let w = SimWorld::new(s.clone(), 1, start());
        for svc in &s.services {
            assert_eq!(
                w.hops_from_fault(&svc.name),
                hops_walked(&s, &svc.name),
                "{} in {}",
                svc.name,
                s.name
            );
        }
    }
}

#[test]
fn a_deploy_changes_the_version_a_service_writes_and_a_rollback_brings_the_old_one_back() {
    let body = r#"
[[services]]
name = "web"
kind = "api"
depends_on = ["cart"]
log_format = "json"
baseline = { request_rate = 10.0, error_rate = 0.001 }
state = { version = "3.7.4" }
logs = [{ level = "info", per_minute = 600, message = "web/{version} served {n} items", params = { n = { min = 1, max = 9 } } }]

[[services]]
name = "cart"
kind = "api"
log_format = "logback"
baseline = { request_rate = 10.0, error_rate = 0.001 }
state = { version = "1.2.0", pool = 20 }
logs = [{ level = "info", per_minute = 600, message = "cart {version} up, pool={pool}" }]

[fault]
type = "bad-deploy"
component = "cart"
onset_minutes_ago = 10
shape = "step"
effects = { error_rate = { to = 0.3 } }

[[fault.logs]]
level = "error"
per_minute = 60
message = "cart {version} failed"

[fault.propagation]
error_rate = 0.1

[[fault.propagation.logs]]
level = "error"
per_minute = 60
message = "web/{version}: upstream cart returned 500"

[[events]]
kind = "deploy"
service = "cart"
minutes_ago = 10
detail = "1.2.0 -> 1.3.0"
sets = { version = "1.3.0" }

[[events]]
kind = "config"
service = "cart"
minutes_ago = 30
detail = "pool 20 -> 40"
sets = { pool = 40 }

[[actions]]
name = "rollback"
target = "cart"
outcome = "nothing"
minutes_to_effect = 2
sets = { version = "1.2.0" }
"#;
    let s = small(body, "bad-deploy", "cart");
    let mut w = SimWorld::new(s, 1, start());
    let lines = |w: &SimWorld, from: Timestamp, service: &str| {
        w.logs(from, from + mins(1))
            .filter(|l| l.service == service)
            .map(|l| l.text)
            .collect::<Vec<_>>()
    };
    let all = |lines: &[String], needle: &str| lines.iter().all(|l| l.contains(needle));
    let before = lines(&w, start() - mins(40), "cart");
    assert!(!before.is_empty() && all(&before, "cart 1.2.0 up, pool=20"));
    // The config's value from its time on; the deploy's version from the deploy on.
    let between = lines(&w, start() - mins(20), "cart");
    assert!(all(&between, "cart 1.2.0 up, pool=40"), "{between:?}");
    let after = lines(&w, start() - mins(5), "cart");
    assert!(after.iter().any(|l| l.contains("cart 1.3.0 failed")));
    assert!(
        after
            .iter()
            .all(|l| l.contains("cart 1.3.0") && !l.contains("1.2.0"))
    );
    // Each writer of a propagation line quotes its own state.
    let web = lines(&w, start() - mins(5), "web");
    assert!(web.iter().any(|l| l.contains("web/3.7.4: upstream cart")));
    // A rollback's value once it has taken effect, until it is undone.
    w.apply("rollback", "cart", start()).unwrap();
    assert!(all(&lines(&w, start() + mins(3), "cart"), "cart 1.2.0"));
    assert!(
        all(&lines(&w, start(), "cart"), "cart 1.3.0"),
        "not before its effect"
    );
    w.undo("rollback", "cart", start() + mins(6)).unwrap();
    assert!(all(&lines(&w, start() + mins(7), "cart"), "cart 1.3.0"));
}

#[test]
fn a_state_value_nobody_declared_is_refused_with_what_to_write() {
    let err = |extra: &str| {
        let body = format!(
            "[[services]]\nname = \"cart\"\nkind = \"api\"\nlog_format = \"json\"\n\
             baseline = {{ error_rate = 0.001 }}\n{extra}\n\n\
             [fault]\ntype = \"bad-deploy\"\ncomponent = \"cart\"\nonset_minutes_ago = 10\n\
             shape = \"step\"\neffects = {{ error_rate = {{ to = 0.3 }} }}\n"
        );
        small_parsed(&body, "bad-deploy", "cart").expect_err("refused")
    };
    let e = err("logs = [{ level = \"info\", per_minute = 1, message = \"cart {version}\" }]");
    assert!(e.contains("state.version"), "{e}");
    let e = err(
        "\n[[events]]\nkind = \"deploy\"\nservice = \"cart\"\nminutes_ago = 5\ndetail = \"x\"\nsets = { version = \"2\" }",
    );
    assert!(
        e.contains("sets version") && e.contains("state = { version"),
        "{e}"
    );
}

#[test]
fn a_feeds_word_for_a_change_is_a_kind_and_an_unknown_word_is_refused_with_the_kinds() {
    let with = |kind: &str| {
        let body = format!(
            "[[services]]\nname = \"cart\"\nkind = \"api\"\nlog_format = \"json\"\n\
             baseline = {{ error_rate = 0.001 }}\n\n\
             [[events]]\nkind = \"{kind}\"\nservice = \"cart\"\nminutes_ago = 5\n\
             detail = \"rotated the payment key\"\n\n\
             [fault]\ntype = \"bad-config-push\"\ncomponent = \"cart\"\n\
             onset_minutes_ago = 10\nshape = \"step\"\neffects = {{ error_rate = {{ to = 0.3 }} }}\n"
        );
        small_parsed(&body, "bad-config-push", "cart")
    };
    for kind in ["secret", "migration", "backfill", "release", "autoscale"] {
        let s = with(kind).unwrap_or_else(|e| panic!("{kind}: {e}"));
        let written = serde_json::to_value(s.events[0].kind).expect("a kind serializes");
        assert_eq!(written, kind, "the tools show the kind as written");
    }
    let e = with("rotation").expect_err("refused");
    assert!(e.contains("rotation") && e.contains("secret"), "{e}");
}

#[test]
fn each_effect_can_have_its_own_delay_shape_and_decay() {
    let body = r#"
[[services]]
name = "edge"
kind = "api"
log_format = "json"
baseline = { request_rate = 100.0, error_rate = 0.0, cert_days_left = 1.0, latency_p99_ms = 100.0 }
noise = 0.0

[fault]
type = "certificate-expired"
component = "edge"
onset_minutes_ago = 30
shape = "step"
effects = { cert_days_left = { to = -1.0 }, error_rate = { to = 0.5, shape = "ramp", ramp_minutes = 10, delay_minutes = 2 }, latency_p99_ms = { factor = 5.0, decay_minutes = 10 } }
"#;
    let s = small(body, "certificate-expired", "edge");
    let w = SimWorld::new(s, 1, start());
    let at = |m: i64| w.signals("edge", w.onset() + mins(m)).unwrap();
    // The expiry is a step; its errors wait two minutes, then ramp over ten.
    assert_eq!(at(1)["cert_days_left"], 0.0);
    assert_eq!(at(1)["error_rate"], 0.0);
    let mid = at(7)["error_rate"];
    assert!((0.2..0.3).contains(&mid), "half way up the ramp: {mid}");
    assert!((at(15)["error_rate"] - 0.5).abs() < 1e-9);
    // The latency spike fades while the fault stays.
    assert!((at(0)["latency_p99_ms"] - 500.0).abs() < 1.0);
    let fading = at(5)["latency_p99_ms"];
    assert!((250.0..350.0).contains(&fading), "half faded: {fading}");
    assert!((at(12)["latency_p99_ms"] - 100.0).abs() < 1.0);
    assert_eq!(at(12)["cert_days_left"], 0.0, "the fault itself stays");
    // A fix ends every effect, timed or not.
    let mut fixed = SimWorld::new(small(body, "certificate-expired", "edge"), 1, start());
    fixed.apply("fix", "edge", start()).unwrap();
    let after = fixed.signals("edge", start() + mins(3)).unwrap();
    assert!(after["error_rate"] < 0.01, "{after:?}");
}

#[test]
fn callers_feel_the_components_own_trouble_when_its_effects_keep_their_own_time() {
    // A disk that fills for an hour fails writes only once it is full: its callers must not
    // fail while it still answers.
    let body = r#"
[[services]]
name = "web"
kind = "api"
depends_on = ["store"]
log_format = "json"
baseline = { request_rate = 10.0, error_rate = 0.0 }
noise = 0.0

[[services]]
name = "store"
kind = "api"
log_format = "logfmt"
baseline = { request_rate = 10.0, error_rate = 0.0, disk_used_percent = 60.0 }
noise = 0.0

[fault]
type = "disk-full"
component = "store"
onset_minutes_ago = 90
shape = "ramp"
ramp_minutes = 60
effects = { disk_used_percent = { to = 100.0 }, error_rate = { to = 0.9, delay_minutes = 60, shape = "step" } }

[fault.propagation]
error_rate = 0.3

[[fault.propagation.logs]]
level = "error"
per_minute = 60
message = "store answered 500"
"#;
    let w = SimWorld::new(small(body, "disk-full", "store"), 1, start());
    let web = |m: i64| w.signals("web", w.onset() + mins(m)).unwrap()["error_rate"];
    assert_eq!(web(30), 0.0, "the disk is filling, nothing fails yet");
    assert!((web(61) - 0.3).abs() < 1e-9, "{}", web(61));
    let lines = |from: i64, to: i64| {
        w.logs(w.onset() + mins(from), w.onset() + mins(to))
            .filter(|l| l.text.contains("store answered 500"))
            .count()
    };
    assert_eq!(lines(0, 59), 0);
    assert!(lines(61, 70) > 0);
    // Without timing of their own, callers follow the fault's ramp as before.
    let plain = body.replace(", delay_minutes = 60, shape = \"step\"", "");
    let w = SimWorld::new(small(&plain, "disk-full", "store"), 1, start());
    let half = w.signals("web", w.onset() + mins(30)).unwrap()["error_rate"];
    assert!((half - 0.15).abs() < 1e-6, "{half}");
}

#[test]
fn more_work_reaching_the_component_is_not_what_its_callers_feel() {
    // A pool that runs out when ten times the requests arrive: the requests come from the
    // callers, who feel only the slowness that follows a minute later.
    let body = r#"
[[services]]
name = "web"
kind = "api"
depends_on = ["pool"]
log_format = "json"
baseline = { request_rate = 10.0, latency_p99_ms = 100.0 }
noise = 0.0

[[services]]
name = "pool"
kind = "api"
log_format = "logfmt"
baseline = { request_rate = 10.0, latency_p99_ms = 100.0 }
noise = 0.0

[fault]
type = "connection-pool-exhaustion"
component = "pool"
onset_minutes_ago = 10
shape = "step"
effects = { request_rate = { to = 100.0 }, latency_p99_ms = { to = 5000.0, delay_minutes = 2 } }

[fault.propagation]
latency_factor = 4.0
"#;
    let w = SimWorld::new(
        small(body, "connection-pool-exhaustion", "pool"),
        1,
        start(),
    );
    let web = |m: f64| {
        let at = w.onset() + SignedDuration::from_secs_f64(m * 60.0);
        w.signals("web", at).unwrap()["latency_p99_ms"]
    };
    assert_eq!(web(1.0), 100.0, "the requests arrive, nothing is slow yet");
    assert!((web(3.0) - 400.0).abs() < 1e-6, "{}", web(3.0));
    // Throughput the component loses is felt: its callers' calls are not served.
    let lost = body.replace(
        "request_rate = { to = 100.0 }",
        "request_rate = { to = 1.0 }",
    );
    let w = SimWorld::new(
        small(&lost, "connection-pool-exhaustion", "pool"),
        1,
        start(),
    );
    let early = w.signals("web", w.onset() + mins(1)).unwrap()["latency_p99_ms"];
    assert!((early - 400.0).abs() < 1e-6, "{early}");
}

#[test]
fn timing_on_a_red_herrings_effect_is_refused_with_what_to_write_instead() {
    let body = r#"
[[services]]
name = "a"
kind = "api"
log_format = "json"
baseline = { error_rate = 0.001, cpu_percent = 10.0 }

[fault]
type = "bad-deploy"
component = "a"
onset_minutes_ago = 10
shape = "step"
effects = { error_rate = { to = 0.3 } }

[[red_herrings]]
service = "a"
description = "d"
start_minutes_ago = 20
duration_minutes = 5
effects = { cpu_percent = { factor = 2.0, delay_minutes = 3 } }
"#;
    let e = small_parsed(body, "bad-deploy", "a").expect_err("refused");
    assert!(
        e.contains("only fault effects") && e.contains("start_minutes_ago"),
        "{e}"
    );
}

#[test]
fn values_chosen_together_agree_and_a_trace_id_is_shared_along_a_requests_path() {
    let body = r#"
[[services]]
name = "web"
kind = "api"
depends_on = ["pay"]
log_format = "json"
baseline = { request_rate = 10.0, error_rate = 0.001 }
logs = [{ level = "info", per_minute = 600, message = "{req.method} {req.path} {req.status}", params = { req = [{ method = "POST", path = "/pay", status = 201 }, { method = "GET", path = "/cart", status = 200 }] } }]

[[services]]
name = "pay"
kind = "api"
log_format = "logfmt"
baseline = { request_rate = 10.0, error_rate = 0.001 }

[fault]
type = "bad-deploy"
component = "pay"
onset_minutes_ago = 10
shape = "step"
effects = { error_rate = { to = 0.5 } }

[[fault.logs]]
level = "error"
per_minute = 600
message = "charge failed trace_id={trace_id}"

[fault.propagation]
error_rate = 0.2

[[fault.propagation.logs]]
level = "error"
per_minute = 300
message = "upstream pay failed trace_id={trace_id}"
"#;
    let s = small(body, "bad-deploy", "pay");
    let w = SimWorld::new(s, 1, start());
    let lines: Vec<_> = w.logs(start() - mins(2), start()).collect();
    let routine: Vec<&str> = lines
        .iter()
        .filter(|l| l.service == "web" && !l.text.contains("trace_id"))
        .map(|l| l.text.as_str())
        .collect();
    assert!(!routine.is_empty());
    for l in &routine {
        assert!(
            l.contains("POST /pay 201") || l.contains("GET /cart 200"),
            "values chosen together: {l}"
        );
    }
    let trace = |text: &str| -> Option<String> {
        let id: String = text.split("trace_id=").nth(1)?.chars().take(32).collect();
        assert!(
            id.len() == 32 && id.chars().all(|c| c.is_ascii_hexdigit()),
            "{id}"
        );
        Some(id)
    };
    let at_pay: std::collections::BTreeSet<(i64, String)> = lines
        .iter()
        .filter(|l| l.service == "pay")
        .filter_map(|l| Some((l.at.as_second(), trace(&l.text)?)))
        .collect();
    let at_web: Vec<(i64, String)> = lines
        .iter()
        .filter(|l| l.service == "web")
        .filter_map(|l| Some((l.at.as_second(), trace(&l.text)?)))
        .collect();
    assert!(at_web.len() > 100, "{}", at_web.len());
    let shared = at_web.iter().filter(|t| at_pay.contains(t)).count();
    assert!(
        shared * 2 > at_web.len(),
        "most caller lines share a request with the component: {shared} of {}",
        at_web.len()
    );
    let ids: std::collections::BTreeSet<&String> = at_pay.iter().map(|(_, id)| id).collect();
    assert!(ids.len() > 100, "ids vary second to second: {}", ids.len());
}

#[test]
fn a_table_param_is_quoted_by_its_fields_or_refused() {
    let parse = |message: &str| {
        let body = format!(
            "[[services]]\nname = \"a\"\nkind = \"api\"\nlog_format = \"json\"\n\
             baseline = {{ error_rate = 0.001 }}\n\
             logs = [{{ level = \"info\", per_minute = 1, message = \"{message}\", \
             params = {{ req = [{{ path = \"/a\", status = 200 }}] }} }}]\n\n\
             [fault]\ntype = \"bad-deploy\"\ncomponent = \"a\"\nonset_minutes_ago = 10\n\
             shape = \"step\"\neffects = {{ error_rate = {{ to = 0.3 }} }}\n"
        );
        small_parsed(&body, "bad-deploy", "a")
    };
    assert!(parse("{req.path} {req.status}").is_ok());
    let e = parse("{req}").expect_err("refused");
    assert!(e.contains("{req.FIELD}"), "{e}");
    let e = parse("{req.verb}").expect_err("refused");
    assert!(e.contains("'verb'"), "{e}");
}

#[test]
fn a_tenant_that_never_calls_the_fault_suffers_with_it_and_recovers_with_its_fix() {
    let body = r#"
[[services]]
name = "reports"
kind = "worker"
log_format = "python"
baseline = { cpu_percent = 20.0, latency_p99_ms = 200.0, error_rate = 0.0 }
noise = 0.0

[[services]]
name = "search"
kind = "api"
log_format = "json"
baseline = { cpu_percent = 30.0, latency_p99_ms = 80.0 }
noise = 0.0

[[services]]
name = "bystander"
kind = "api"
log_format = "json"
baseline = { latency_p99_ms = 50.0 }
noise = 0.0

[fault]
type = "runaway-job"
component = "reports"
onset_minutes_ago = 20
shape = "step"
effects = { cpu_percent = { to = 99.0 } }

[[fault.victims]]
service = "search"
relation = "tenant"
effects = { latency_p99_ms = { factor = 4.0 } }
logs = [{ level = "warn", per_minute = 60, message = "query took {ms} ms (host cpu contention)", params = { ms = { min = 300, max = 900 } } }]
"#;
    let s = small(body, "runaway-job", "reports");
    let mut w = SimWorld::new(s.clone(), 1, start());
    let p99 = |w: &SimWorld, at: Timestamp| w.signals("search", at).unwrap()["latency_p99_ms"];
    assert!((p99(&w, w.onset() - mins(5)) - 80.0).abs() < 1.0);
    assert!(
        (p99(&w, start()) - 320.0).abs() < 1.0,
        "{}",
        p99(&w, start())
    );
    let contention = |w: &SimWorld, from: Timestamp| {
        w.logs(from, from + mins(1))
            .filter(|l| l.service == "search" && l.text.contains("cpu contention"))
            .count()
    };
    assert_eq!(contention(&w, w.onset() - mins(3)), 0);
    assert!(contention(&w, start() - mins(2)) > 30);
    let bystander = w.signals("bystander", start()).unwrap()["latency_p99_ms"];
    assert!((bystander - 50.0).abs() < 1.0, "not a victim: {bystander}");
    w.apply("fix", "reports", start()).unwrap();
    assert!((p99(&w, start() + mins(2)) - 80.0).abs() < 1.0);
    assert_eq!(contention(&w, start() + mins(2)), 0);

    let bad = |victims: &str| {
        let before = body.split("[[fault.victims]]").next().unwrap();
        small_parsed(&format!("{before}\n{victims}"), "runaway-job", "reports")
            .expect_err("refused")
    };
    let e = bad(
        "[[fault.victims]]\nservice = \"reports\"\nrelation = \"tenant\"\neffects = { cpu_percent = { factor = 2.0 } }",
    );
    assert!(e.contains("fault.effects"), "{e}");
    let e = bad(
        "[[fault.victims]]\nservice = \"search\"\nrelation = \"neighbour\"\neffects = { cpu_percent = { factor = 2.0 } }",
    );
    assert!(e.contains("tenant") && e.contains("consumer"), "{e}");
    let e = bad("[[fault.victims]]\nservice = \"search\"\nrelation = \"tenant\"");
    assert!(e.contains("neither effects nor logs"), "{e}");
}

#[test]
fn a_fault_line_with_a_delay_begins_that_long_after_onset() {
    let body = r#"
[[services]]
name = "tiles"
kind = "worker"
log_format = "json"
baseline = { memory_percent = 40.0 }

[fault]
type = "memory-leak"
component = "tiles"
onset_minutes_ago = 30
shape = "ramp"
ramp_minutes = 25
effects = { memory_percent = { to = 97.0 } }

[[fault.logs]]
level = "warn"
per_minute = 60
message = "heap growing"

[[fault.logs]]
level = "error"
per_minute = 60
message = "OOMKilled"
delay_minutes = 20

[[fault.logs]]
level = "error"
per_minute = 0
once = true
message = "first restart"
delay_minutes = 20
"#;
    let w = SimWorld::new(small(body, "memory-leak", "tiles"), 1, start());
    let count = |from: Timestamp, minutes: i64, message: &str| {
        w.logs(from, from + mins(minutes))
            .filter(|l| l.text.contains(message))
            .count()
    };
    assert!(count(w.onset() + mins(5), 10, "heap growing") > 0);
    assert_eq!(count(w.onset(), 20, "OOMKilled"), 0);
    assert!(count(w.onset() + mins(20), 5, "OOMKilled") > 0);
    assert_eq!(count(w.onset() - mins(5), 40, "first restart"), 1);
    assert_eq!(count(w.onset() + mins(20), 1, "first restart"), 1);

    let herring = body.to_string()
        + "\n[[red_herrings]]\nservice = \"tiles\"\ndescription = \"d\"\nstart_minutes_ago = 5\n\
           duration_minutes = 2\nlogs = [{ level = \"warn\", per_minute = 1, message = \"x\", delay_minutes = 1 }]\n";
    let e = small_parsed(&herring, "memory-leak", "tiles").expect_err("refused");
    assert!(e.contains("only the fault's lines"), "{e}");
}
