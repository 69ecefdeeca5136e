//! Runs one script in the sandbox and prints the outcome as JSON:
//! `sandbox_run WORKSPACE SCRIPT DATA OUTPUT_DIR`.

use opsmcp_sandbox::{RunRequest, Sandbox, SandboxLimits};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 5 {
        eprintln!("usage: sandbox_run WORKSPACE SCRIPT DATA OUTPUT_DIR");
        std::process::exit(2);
    }
    println!(
        "{}",
        serde_json::to_string_pretty(&Sandbox::probe()).unwrap_or_default()
    );
    let sandbox = Sandbox::new(args[1].clone().into(), SandboxLimits::default());
    let req = RunRequest {
        script: args[2].clone(),
        data: args[3].clone(),
        output_dir: args[4].clone(),
        code: None,
    };
    match sandbox.run(req).await {
        Ok(o) => println!("{}", serde_json::to_string_pretty(&o).unwrap_or_default()),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
