//! Root-cause analysis over every built-in scenario, through the `World` trait only: the top
//! hypothesis must name the scenario's truth (type, component, remediation) despite its red
//! herrings; a sweep over seeds and noise levels reports how robust that is.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use opsmcp_analysis::{
    Window,
    rca::{self, RcaRequest},
};
use opsmcp_world::{
    World,
    health::Thresholds,
    sim::{Scenario, SimWorld, SimulatedWorld, builtin},
};

/// The analysis, run as a tool would: the default window up to "now", over a world started
/// then. "Now" is fixed: the world's noise is keyed by time, and the analysis reads only the
/// window it is given, so a fixed clock makes every number here reproducible.
async fn top(scenario: Scenario, seed: u64) -> (String, String, Option<String>, rca::RcaReport) {
    let now: Timestamp = "2026-11-26T04:00:00Z".parse().unwrap();
    let world: Arc<dyn World> = Arc::new(SimulatedWorld::new(
        SimWorld::new(scenario, seed, now),
        Thresholds::default(),
    ));
    let request = RcaRequest {
        window: Window::ending(now, SignedDuration::from_mins(30)),
        symptoms: Vec::new(),
    };
    let report = rca::analyze(world.as_ref(), &request).await.unwrap();
    let h = report.hypotheses.first().expect("a hypothesis");
    (
        h.root_cause.as_str().to_string(),
        h.component.clone(),
        h.suggested_action
            .as_ref()
            .map(|a| format!("{}@{}", a.action, a.target)),
        report.clone(),
    )
}

/// Whether the top hypothesis matches the scenario's truth; the reason when not.
fn judge(
    s: &Scenario,
    got: &(String, String, Option<String>, rca::RcaReport),
) -> Result<(), String> {
    let want_type = serde_json::to_value(&s.truth.root_cause).unwrap();
    let fixes: Vec<String> = s
        .truth
        .remediation
        .iter()
        .map(|r| {
            let a = s.resolve_action(r).unwrap();
            format!("{}@{}", a.name, a.target)
        })
        .collect();
    let ok = want_type.as_str() == Some(got.0.as_str())
        && got.1 == s.truth.component
        && got.2.as_ref().is_some_and(|a| fixes.contains(a));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{}: got {} on {} ({:?}), want {} on {} ({fixes:?})\n{}",
            s.name,
            got.0,
            got.1,
            got.2,
            want_type,
            s.truth.component,
            serde_json::to_string_pretty(
                &got.3
                    .hypotheses
                    .iter()
                    .map(|h| (h.root_cause, &h.component, h.confidence))
                    .collect::<Vec<_>>()
            )
            .unwrap()
        ))
    }
}

#[tokio::test]
async fn the_top_hypothesis_is_the_truth_on_every_builtin_scenario() {
    let mut failures = Vec::new();
    for s in builtin::all().unwrap() {
        let got = top(s.clone(), 1).await;
        if let Err(why) = judge(&s, &got) {
            failures.push(why);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Seeds and noise levels perturbed: reports top-1 accuracy (run with `--nocapture` to see it).
#[tokio::test]
async fn accuracy_across_seeds_and_noise() {
    // A small sweep by default (debug builds mine logs slowly); OPSMCP_RCA_SEEDS=N sweeps seeds
    // 1..=N at the scenarios' own noise, 0.1 and 0.2 (or OPSMCP_RCA_NOISES=0.3,0.4).
    let (seeds, noises): (Vec<u64>, Vec<Option<f64>>) = match std::env::var("OPSMCP_RCA_SEEDS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        Some(n) => (
            (1..=n).collect(),
            std::env::var("OPSMCP_RCA_NOISES")
                .ok()
                .map_or(vec![None, Some(0.1), Some(0.2)], |v| {
                    v.split(',').map(|x| x.trim().parse().ok()).collect()
                }),
        ),
        None => (vec![2, 3], vec![Some(0.15)]),
    };
    let (mut right, mut total) = (0, 0);
    let mut misses = Vec::new();
    for s in builtin::all().unwrap() {
        for &seed in &seeds {
            for &noise in &noises {
                let mut s = s.clone();
                if let Some(n) = noise {
                    for svc in &mut s.services {
                        svc.noise = n;
                    }
                }
                let got = top(s.clone(), seed).await;
                total += 1;
                match judge(&s, &got) {
                    Ok(()) => right += 1,
                    Err(why) => misses.push(format!(
                        "seed {seed} noise {noise:?}: {}",
                        why.lines().next().unwrap_or_default()
                    )),
                }
            }
        }
    }
    let accuracy = right as f64 / total as f64;
    println!(
        "top-1 accuracy across seeds {seeds:?} and noise {noises:?}: {right}/{total} = {:.1}%",
        accuracy * 100.0
    );
    for m in &misses {
        println!("miss: {m}");
    }
    assert!(accuracy >= 0.9, "top-1 accuracy {accuracy}: {misses:#?}");
}

/// `OPSMCP_RCA_PRINT=<scenario> cargo test -p opsmcp-analysis --test scenarios print -- --nocapture`
/// prints the whole report for one scenario, to read what a caller gets (`OPSMCP_RCA_SEED` and
/// `OPSMCP_RCA_NOISE` perturb it as the sweep does).
#[tokio::test]
async fn print_a_report_when_asked() {
    let Ok(name) = std::env::var("OPSMCP_RCA_PRINT") else {
        return;
    };
    let env = |k: &str| std::env::var(k).ok().and_then(|v| v.parse().ok());
    let mut s = builtin::load(&name).unwrap();
    if let Some(noise) = env("OPSMCP_RCA_NOISE") {
        for svc in &mut s.services {
            svc.noise = noise;
        }
    }
    let got = top(s, env("OPSMCP_RCA_SEED").map_or(1, |n: f64| n as u64)).await;
    println!("{}", serde_json::to_string_pretty(&got.3).unwrap());
}

/// `OPSMCP_LOGS_PRINT=<scenario>`: the log analysis of the default window, as `analyze_logs`
/// computes it before cutting it to a budget.
#[tokio::test]
async fn print_the_log_analysis_when_asked() {
    let Ok(name) = std::env::var("OPSMCP_LOGS_PRINT") else {
        return;
    };
    let now = Timestamp::now();
    let world = SimulatedWorld::new(
        SimWorld::new(builtin::load(&name).unwrap(), 1, now),
        Thresholds::default(),
    );
    let report = opsmcp_analysis::logs::analyze(
        &world,
        &Window::ending(now, SignedDuration::from_mins(30)),
        &Default::default(),
        usize::MAX,
    )
    .await
    .unwrap();
    println!("{}", serde_json::to_string_pretty(&report).unwrap());
}
