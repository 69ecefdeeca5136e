//! Fail closed: without Landlock the sandbox refuses to run anything and says why.

mod common;

use common::Fixture;
use opsmcp_sandbox::{RunRequest, Sandbox, SandboxError, SandboxLimits};

#[tokio::test]
async fn without_landlock_scripts_are_refused() {
    let f = Fixture::new();
    let script = f.script("marker", "open('RAN', 'w').write('x')\n");
    let sandbox =
        Sandbox::new(f.ws.path().to_owned(), SandboxLimits::default()).simulate_missing_landlock();
    let ready = sandbox
        .ready()
        .expect_err("ready must fail without Landlock");
    assert!(matches!(ready, SandboxError::Unavailable { .. }));
    let req = RunRequest {
        script,
        data: "data/logs.json".into(),
        output_dir: "out/refused".into(),
        code: None,
    };
    let err = sandbox.run(req).await.expect_err("must refuse");
    let msg = err.to_string();
    assert!(matches!(err, SandboxError::Unavailable { .. }), "{err:?}");
    assert!(
        msg.contains("Landlock is not available")
            && msg.contains("refused rather than run unconfined"),
        "{msg}"
    );
    assert!(
        !f.path("out/refused").exists(),
        "the output folder was created by a refused run"
    );
    assert!(!f.path("scripts/RAN").exists());
}

#[tokio::test]
async fn this_machine_has_every_layer() {
    let layers = Sandbox::probe();
    assert!(layers.landlock_abi >= 1, "{layers:?}");
    assert!(
        layers.seccomp && layers.network_namespace && layers.python,
        "{layers:?}"
    );
    let sandbox = Sandbox::new(std::env::temp_dir(), SandboxLimits::default());
    sandbox.ready().expect("ready");
}

#[test]
fn limits_have_bounds_and_defaults() {
    let d: SandboxLimits = serde_json::from_str("{}").expect("defaults");
    assert_eq!(d, SandboxLimits::default());
    assert_eq!(
        (d.cpu_seconds, d.wall_seconds, d.memory_mb, d.max_processes),
        (10, 30, 1024, 32)
    );
    assert_eq!(
        (d.max_file_mb, d.max_open_files, d.max_output_kb),
        (64, 256, 256)
    );
    let bad = SandboxLimits {
        wall_seconds: 0,
        ..SandboxLimits::default()
    };
    let msg = bad.validate().expect_err("0 s").to_string();
    assert!(
        msg.contains("wall_seconds") && msg.contains("use a value from 1"),
        "{msg}"
    );
    assert!(serde_json::from_str::<SandboxLimits>(r#"{"cpu": 3}"#).is_err());
}
