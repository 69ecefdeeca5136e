//! How the analysis's cost grows with the world: `root_cause_analysis` and `analyze_logs` (the
//! domain functions the tools call, [`rca::analyze`] and [`logs::analyze`]) over generated
//! simulated worlds of N services and L log lines in the analysis window.
//!
//! A world is a scenario written as TOML by `opsmcp scenarios generate` ([`generate`], parsed by
//! [`Scenario::parse`]) and played by the simulator the servers use ([`SimulatedWorld`]):
//! N services in a layered call graph (APIs call workers, workers call databases), one
//! connection pool exhausted on a database, its callers failing with it, a harmless deploy and
//! a warning burst elsewhere as a red herring. The log rate is scaled so
//! the 30-minute window holds about L lines (the window before it, read as the baseline, as
//! many again).
//!
//! ```sh
//! cargo run --release -p opsmcp-analysis --example scale -- sweep \
//!     --services 10,50,100,200,500 --lines 10000,100000,1000000 --tools rca,logs,stream
//! cargo run --release -p opsmcp-analysis --example scale -- point --tool rca --services 100 --lines 1000000
//! ```
//!
//! `sweep` runs every point in a child process of its own (`point`), so one point's peak
//! memory (VmHWM from /proc/self/status) is not another's, and prints a Markdown table.
//! Tools: `rca` ([`rca::analyze`]), `logs` ([`logs::analyze`] with the tool's 48 KB budget),
//! `scan` (the metric scan alone, [`metrics::scan`]), `stream` (only reading the world's log
//! lines for the window and its baseline: what the simulator itself costs).

use std::{
    process::{Command, ExitCode, Stdio},
    time::{Duration, Instant},
};

use jiff::{SignedDuration, Timestamp};
use opsmcp_analysis::{
    Window,
    logs::{self, LogQuery},
    metrics,
    rca::{self, RcaRequest},
};
use opsmcp_world::{
    World,
    health::Thresholds,
    sim::{
        Scenario, SimWorld, SimulatedWorld,
        generate::{Generated, Spec, generate},
    },
};

/// The analysis window: the tools' default (the last 30 minutes).
const WINDOW_MIN: i64 = 30;
/// The budget `analyze_logs` cuts its answer to (as in the tool).
const LOGS_BUDGET: usize = 48 * 1024;
/// The seed of every world: the same N and L give the same bytes.
const SEED: u64 = 7;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("point") => point(&args[1..]),
        Some("sweep") => sweep(&args[1..]),
        Some("toml") => toml_of(&args[1..]),
        _ => Err(USAGE.to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("scale: {e}");
            ExitCode::FAILURE
        }
    }
}

const USAGE: &str = "usage: scale point --tool rca|logs|scan|stream --services N --lines L
       scale sweep [--services 10,50] [--lines 10000,100000] [--tools rca,logs] [--timeout SECS]
       scale toml --services N        (print the generated scenario)";

/// The value after `--name` in `args`.
fn flag<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

fn number(args: &[String], name: &str) -> Result<u64, String> {
    flag(args, name)
        .ok_or_else(|| format!("{name} is missing\n{USAGE}"))?
        .parse()
        .map_err(|e| format!("{name}: {e}"))
}

fn list(args: &[String], name: &str, default: &str) -> Vec<String> {
    flag(args, name)
        .unwrap_or(default)
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

fn toml_of(args: &[String]) -> Result<(), String> {
    let n = number(args, "--services")? as usize;
    print!("{}", world_of(n)?.toml);
    Ok(())
}

/// One point, measured in this process; prints one JSON line.
fn point(args: &[String]) -> Result<(), String> {
    let tool = flag(args, "--tool").ok_or(USAGE)?.to_string();
    let n = number(args, "--services")? as usize;
    let lines = number(args, "--lines")?;
    let world_def = world_of(n)?;
    let scenario = Scenario::parse(&world_def.toml, "generated").map_err(|e| e.to_string())?;
    let now = Timestamp::now();
    let rate = lines as f64 / (WINDOW_MIN as f64 * world_def.normal_per_minute);
    let sim = SimWorld::new(scenario, SEED, now).with_log_rate(rate);
    let world = SimulatedWorld::new(sim, Thresholds::default());
    let window = Window {
        from: now - SignedDuration::from_mins(WINDOW_MIN),
        to: now,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let rss_before = vm_kb("VmRSS");
    let started = Instant::now();
    let (answer, right, read) = runtime.block_on(run(&tool, &world, &window, &world_def))?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::json!({
            "tool": tool, "services": n, "lines": lines, "seconds": secs,
            "hwm_kb": vm_kb("VmHWM"), "rss_before_kb": rss_before,
            "answer": answer, "right": right, "read": read,
        })
    );
    Ok(())
}

/// Runs `tool` once: (what it answered, whether that is the injected fault, lines read).
async fn run(
    tool: &str,
    world: &dyn World,
    window: &Window,
    world_def: &Generated,
) -> Result<(String, Option<bool>, String), String> {
    match tool {
        "rca" => {
            let report = rca::analyze(
                world,
                &RcaRequest {
                    window: *window,
                    symptoms: Vec::new(),
                },
            )
            .await
            .map_err(|e| e.to_string())?;
            let c = &report.conclusion;
            let component = c.component.clone().unwrap_or_default();
            let right = component == world_def.component && c.root_cause == world_def.cause;
            Ok((
                format!("{} {component} ({:.2})", c.root_cause, c.confidence),
                Some(right),
                String::new(),
            ))
        }
        "logs" => {
            let report = logs::analyze(world, window, &LogQuery::default(), LOGS_BUDGET)
                .await
                .map_err(|e| e.to_string())?;
            // The service the tool puts first is the one whose logs changed most.
            let first = report
                .services
                .first()
                .map(|s| s.service.clone())
                .unwrap_or_default();
            let right = first == world_def.component;
            Ok((
                format!("first: {first}"),
                Some(right),
                format!("{} / {}", report.lines, report.baseline_lines),
            ))
        }
        "scan" => {
            let scan = metrics::scan(world, window)
                .await
                .map_err(|e| e.to_string())?;
            let now = scan.series.iter().filter(|s| s.anomalous_now).count();
            Ok((
                format!("{} series, {now} out of range", scan.series.len()),
                None,
                String::new(),
            ))
        }
        "stream" => {
            // What `logs::analyze` reads: the window and the one before it.
            let baseline = window.before(SignedDuration::from_mins(10));
            let stream = world
                .logs(baseline.from, window.to)
                .await
                .map_err(|e| e.to_string())?;
            let from = window.from;
            let (base, win) = tokio::task::spawn_blocking(move || {
                stream.fold((0u64, 0u64), |(b, w), l| {
                    if l.at >= from { (b, w + 1) } else { (b + 1, w) }
                })
            })
            .await
            .map_err(|e| e.to_string())?;
            Ok((String::new(), None, format!("{win} / {base}")))
        }
        other => Err(format!("no tool '{other}'\n{USAGE}")),
    }
}

/// `VmHWM` / `VmRSS` of this process in kB (0 where /proc is not there).
fn vm_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// Every point of the grid, each in a child process, as a Markdown table.
fn sweep(args: &[String]) -> Result<(), String> {
    let services = list(args, "--services", "10,50,100,200,500");
    let lines = list(args, "--lines", "10000,100000,1000000");
    let tools = list(args, "--tools", "rca,logs");
    let timeout = Duration::from_secs(
        flag(args, "--timeout")
            .and_then(|t| t.parse().ok())
            .unwrap_or(600),
    );
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    println!(
        "| tool | services | lines in window (target) | lines read (window / baseline) | seconds | peak RSS | answer | right |"
    );
    println!("|---|---:|---:|---:|---:|---:|---|---|");
    for tool in &tools {
        for n in &services {
            for l in &lines {
                let mut child = Command::new(&exe)
                    .args(["point", "--tool", tool, "--services", n, "--lines", l])
                    .stdout(Stdio::piped())
                    .spawn()
                    .map_err(|e| e.to_string())?;
                let started = Instant::now();
                let finished = loop {
                    match child.try_wait().map_err(|e| e.to_string())? {
                        Some(_) => break true,
                        None if started.elapsed() > timeout => {
                            // Past the time a point may take: the row says so, the sweep goes on.
                            let _ = child.kill();
                            let _ = child.wait();
                            break false;
                        }
                        None => std::thread::sleep(Duration::from_millis(20)),
                    }
                };
                if !finished {
                    println!(
                        "| {tool} | {n} | {l} | | > {} (stopped) | | | |",
                        timeout.as_secs()
                    );
                    continue;
                }
                let out = child.wait_with_output().map_err(|e| e.to_string())?.stdout;
                let v: serde_json::Value = serde_json::from_slice(&out)
                    .map_err(|e| format!("point {tool} {n} {l}: {e}"))?;
                let right = match v["right"].as_bool() {
                    Some(true) => "yes",
                    Some(false) => "**no**",
                    None => "",
                };
                println!(
                    "| {tool} | {n} | {l} | {} | {:.3} | {:.0} MB | {} | {right} |",
                    v["read"].as_str().unwrap_or(""),
                    v["seconds"].as_f64().unwrap_or(f64::NAN),
                    v["hwm_kb"].as_f64().unwrap_or(0.0) / 1024.0,
                    v["answer"].as_str().unwrap_or(""),
                );
            }
        }
    }
    Ok(())
}

/// The world of `n` services every point uses: one pool exhausted on a database, the same
/// seed, so the same N gives the same world.
fn world_of(n: usize) -> Result<Generated, String> {
    generate(&Spec {
        services: n,
        seed: SEED,
        fault: Some("connection-pool-exhaustion".to_string()),
    })
    .map_err(|e| e.to_string())
}
