//! How the analysis's cost grows with the world: `root_cause_analysis` and `analyze_logs` (the
//! domain functions the tools call, [`rca::analyze`] and [`logs::analyze`]) over generated
//! simulated worlds of N services and L log lines in the analysis window.
//!
//! A world is a scenario written as TOML (the same format as `scenarios/`, parsed by
//! [`Scenario::parse`]) and played by the simulator the servers use ([`SimulatedWorld`]):
//! N services in a layered call graph (APIs call workers, workers call databases), one
//! connection pool exhausted on a database in the middle of the graph, its callers failing with
//! it, a harmless deploy and a warning burst elsewhere as red herrings. The log rate is scaled so
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
    sim::{Scenario, SimWorld, SimulatedWorld},
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
    print!("{}", Generated::generate(n).toml);
    Ok(())
}

/// One point, measured in this process; prints one JSON line.
fn point(args: &[String]) -> Result<(), String> {
    let tool = flag(args, "--tool").ok_or(USAGE)?.to_string();
    let n = number(args, "--services")? as usize;
    let lines = number(args, "--lines")?;
    let world_def = Generated::generate(n);
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
            let right =
                component == world_def.fault && c.root_cause == "connection-pool-exhaustion";
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
            let right = first == world_def.fault;
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

/// A generated world: its scenario text, the component at fault and the normal log lines a
/// minute of all services together (before scaling).
struct Generated {
    toml: String,
    fault: String,
    normal_per_minute: f64,
}

/// splitmix64: a fixed sequence, so the same N always gives the same world.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn around(&mut self, v: f64) -> f64 {
        let f = 0.6 + (self.next() % 800) as f64 / 1000.0;
        (v * f * 10.0).round() / 10.0
    }
}

/// What a service is in the generated graph.
#[derive(Clone, Copy, PartialEq)]
enum Role {
    Api,
    Worker,
    Database,
}

impl Generated {
    /// N services: the first fifth APIs, the last fifth databases, workers between. Each
    /// non-database calls two or three services further down (within the next 20), so paths
    /// are a few hops long whatever N. The fault is a database called by at least one worker.
    fn generate(n: usize) -> Self {
        let n = n.max(4);
        let mut rng = Rng(n as u64);
        let role = |i: usize| {
            if i < n.div_ceil(5) {
                Role::Api
            } else if i >= n - n.div_ceil(5) {
                Role::Database
            } else {
                Role::Worker
            }
        };
        let name = |i: usize| match role(i) {
            Role::Api => format!("api-{i:03}"),
            Role::Worker => format!("worker-{i:03}"),
            Role::Database => format!("db-{i:03}"),
        };
        let first_db = n - n.div_ceil(5);
        // The database nearest the middle of the database tier.
        let fault = first_db + (n - first_db) / 2;
        let herring = n.div_ceil(5) / 2;
        let mut out = String::new();
        let mut normal = 0.0;
        out.push_str(&format!(
            "name = \"generated-{n}\"\nsummary = \"A generated world of {n} services\"\n\
             story = \"Callers of a database fail.\"\n\n"
        ));
        let mut callers_of_fault = Vec::new();
        for i in 0..n {
            let mut deps: Vec<usize> = Vec::new();
            if role(i) != Role::Database {
                let want = 2 + rng.below(2);
                let span = (n - i - 1).min(20);
                for _ in 0..want * 4 {
                    if deps.len() == want || span == 0 {
                        break;
                    }
                    let d = i + 1 + rng.below(span);
                    // APIs call workers or databases; nobody calls an API.
                    if role(d) != Role::Api && !deps.contains(&d) {
                        deps.push(d);
                    }
                }
            }
            // The last worker always calls the faulty database, so the fault has callers.
            if i == first_db - 1 && !deps.contains(&fault) {
                deps.push(fault);
            }
            if deps.contains(&fault) {
                callers_of_fault.push(name(i));
            }
            let deps: Vec<String> = deps.iter().map(|d| format!("\"{}\"", name(*d))).collect();
            let (kind, format, baseline, logs) = match role(i) {
                Role::Api => (
                    "api",
                    ["json", "logback", "zap", "pino"][i % 4],
                    format!(
                        "request_rate = {}, latency_p50_ms = {}, latency_p99_ms = {}, \
                         error_rate = 0.002, cpu_percent = {}, memory_percent = {}",
                        rng.around(150.0),
                        rng.around(40.0),
                        rng.around(180.0),
                        rng.around(35.0),
                        rng.around(50.0)
                    ),
                    vec![
                        (
                            "info",
                            240.0,
                            format!(
                                "request completed method={{method}} path=/v1/res{i}/{{id}} \
                                 status=200 duration_ms={{ms}}"
                            ),
                            "method = [\"GET\", \"POST\"], id = { min = 1, max = 99999 }, \
                             ms = { min = 3, max = 160 }",
                        ),
                        (
                            "debug",
                            30.0,
                            format!("cache lookup key=res{i}:{{user}} hit={{hit}}"),
                            "user = { min = 1000, max = 99999 }, hit = [\"true\", \"false\"]",
                        ),
                    ],
                ),
                Role::Worker => (
                    "worker",
                    ["logfmt", "python", "text"][i % 3],
                    format!(
                        "request_rate = {}, latency_p50_ms = {}, latency_p99_ms = {}, \
                         error_rate = 0.001, cpu_percent = {}, memory_percent = {}",
                        rng.around(80.0),
                        rng.around(20.0),
                        rng.around(90.0),
                        rng.around(30.0),
                        rng.around(45.0)
                    ),
                    vec![
                        (
                            "info",
                            120.0,
                            format!("job {{job}} of queue q{i} done in {{ms}} ms"),
                            "job = { min = 1, max = 999999 }, ms = { min = 2, max = 400 }",
                        ),
                        (
                            "debug",
                            20.0,
                            format!("polled q{i}: {{n}} messages"),
                            "n = { min = 0, max = 50 }",
                        ),
                    ],
                ),
                Role::Database => (
                    "database",
                    ["postgres", "mysql"][i % 2],
                    format!(
                        "request_rate = {}, latency_p50_ms = 2.0, latency_p99_ms = 12.0, \
                         error_rate = 0.0005, cpu_percent = {}, memory_percent = {}, \
                         db_connections_in_use = 38.0, db_connections_max = 50.0, \
                         disk_used_percent = {}",
                        rng.around(400.0),
                        rng.around(30.0),
                        rng.around(60.0),
                        rng.around(45.0)
                    ),
                    vec![
                        (
                            "info",
                            60.0,
                            "checkpoint complete: wrote {pages} buffers, {secs} s".to_string(),
                            "pages = { min = 100, max = 4000 }, secs = { min = 1, max = 9 }",
                        ),
                        (
                            "debug",
                            10.0,
                            format!("autovacuum: table t{i} scanned {{n}} pages"),
                            "n = { min = 1, max = 9000 }",
                        ),
                    ],
                ),
            };
            out.push_str(&format!(
                "[[services]]\nname = \"{}\"\nkind = \"{kind}\"\ndepends_on = [{}]\n\
                 log_format = \"{format}\"\nbaseline = {{ {baseline} }}\n\n",
                name(i),
                deps.join(", ")
            ));
            for (level, per_minute, message, params) in logs {
                normal += per_minute;
                out.push_str(&format!(
                    "[[services.logs]]\nlevel = \"{level}\"\nper_minute = {per_minute}\n\
                     message = '{message}'\nparams = {{ {params} }}\n\n"
                ));
            }
        }
        let fault_name = name(fault);
        let herring_name = name(herring);
        out.push_str(&format!(
            r#"[fault]
type = "connection-pool-exhaustion"
component = "{fault_name}"
onset_minutes_ago = 14
shape = "ramp"
ramp_minutes = 6
effects = {{ db_connections_in_use = {{ to = 50.0 }}, latency_p99_ms = {{ factor = 40.0 }}, latency_p50_ms = {{ factor = 15.0 }} }}

[[fault.logs]]
level = "error"
per_minute = 90
message = "FATAL: remaining connection slots are reserved for non-replication superuser connections (client {{ip}})"
params = {{ ip = ["10.0.3.11", "10.0.3.12", "10.0.3.13"] }}

[[fault.logs]]
level = "warn"
per_minute = 20
message = "connection held for {{secs}} s by application_name=report-job"
params = {{ secs = {{ min = 60, max = 900 }} }}

[fault.propagation]
latency_factor = 6.0
error_rate = 0.12

[[fault.propagation.logs]]
level = "error"
per_minute = 120
message = 'request failed status=503 error="timeout acquiring connection from pool after {{ms}} ms"'
params = {{ ms = {{ min = 5000, max = 5000 }} }}

[[red_herrings]]
service = "{herring_name}"
description = "A harmless deploy with a burst of cache-warming warnings"
start_minutes_ago = 35
duration_minutes = 4
effects = {{ cpu_percent = {{ factor = 1.6 }} }}

[[red_herrings.logs]]
level = "warn"
per_minute = 150
message = "cache cold for shard={{shard}}, warming"
params = {{ shard = {{ min = 1, max = 32 }} }}

[[events]]
kind = "deploy"
service = "{herring_name}"
minutes_ago = 35
detail = "v4.2.0 -> v4.3.0"

[[events]]
kind = "config"
service = "{fault_name}"
minutes_ago = 16
detail = "max_connections 100 -> 50 (capacity review)"

[[actions]]
name = "increase-pool-size"
target = "{fault_name}"
outcome = "fixes"
minutes_to_effect = 2

[[actions]]
name = "restart"
target = "{caller}"
outcome = "worsens"
minutes_to_effect = 2

[[actions]]
name = "rollback"
target = "{herring_name}"
outcome = "nothing"

[truth]
root_cause = "connection-pool-exhaustion"
component = "{fault_name}"
remediation = ["increase-pool-size"]
"#,
            caller = callers_of_fault
                .first()
                .cloned()
                .unwrap_or_else(|| name(0)),
        ));
        Self {
            toml: out,
            fault: fault_name,
            normal_per_minute: normal,
        }
    }
}
