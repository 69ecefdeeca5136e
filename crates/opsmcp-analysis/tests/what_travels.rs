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

async fn analyze(file: &str, seed: u64) -> RcaReport {
    let path = format!("{}/tests/fixtures/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    let scenario = Scenario::parse(&text, &path).unwrap();
    let now: Timestamp = "2026-11-26T04:00:00Z".parse().unwrap();
    let world: Arc<dyn World> = Arc::new(SimulatedWorld::new(
        SimWorld::new(scenario, seed, now),
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
