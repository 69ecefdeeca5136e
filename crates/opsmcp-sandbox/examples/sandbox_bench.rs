//! Cost per run of a trivial script: `sandbox_bench [RUNS] [FILES]` (default 20 runs, 0 files)
//! runs `print(1)` that many times in a fresh workspace holding FILES extra small files (the
//! workspace is walked before every run, for retention and the quota) and prints each run's
//! wall time (around `Sandbox::run`, so preparing, confining, running and collecting) and the
//! median, in milliseconds.

use std::time::Instant;

use opsmcp_sandbox::{RunRequest, Sandbox, SandboxLimits};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20);
    let files: usize = std::env::args()
        .nth(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(0);
    let ws = std::env::temp_dir().join(format!("opsmcp-sandbox-bench-{}", std::process::id()));
    std::fs::create_dir_all(ws.join("data")).expect("workspace");
    for i in 0..files {
        let dir = ws.join(format!("bulk/{}", i / 1000));
        std::fs::create_dir_all(&dir).expect("bulk");
        std::fs::write(dir.join(format!("{i}.json")), "[]").expect("bulk file");
    }
    std::fs::write(ws.join("trivial.py"), "print(1)\n").expect("script");
    std::fs::write(ws.join("data/logs.json"), "[]").expect("data");
    let sandbox = Sandbox::new(ws.clone(), SandboxLimits::default());
    let mut ms = Vec::with_capacity(runs);
    for i in 0..=runs {
        let req = RunRequest {
            script: "trivial.py".into(),
            data: "data/logs.json".into(),
            output_dir: format!("out-{i}"),
            code: None,
        };
        let t = Instant::now();
        let o = sandbox.run(req).await.expect("run");
        let took = t.elapsed().as_secs_f64() * 1000.0;
        assert_eq!(o.exit_code, Some(0), "{o:?}");
        assert_eq!(o.stdout.text.trim(), "1");
        // The first run pays for probing the kernel once per process; not counted.
        if i > 0 {
            ms.push(took);
        }
    }
    let _ = std::fs::remove_dir_all(&ws);
    let shown: Vec<String> = ms.iter().map(|m| format!("{m:.1}")).collect();
    ms.sort_by(|a, b| a.total_cmp(b));
    println!("runs: {}", shown.join(" "));
    println!(
        "median {:.1} ms, min {:.1} ms, max {:.1} ms over {} runs",
        ms[ms.len() / 2],
        ms[0],
        ms[ms.len() - 1],
        ms.len()
    );
}
