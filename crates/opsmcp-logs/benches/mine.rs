//! Template-mining throughput on a big input, without the CLI around it, so the engine can be
//! timed (and profiled) after a quick `cargo bench -p opsmcp-logs --bench mine` instead of a full
//! release build of `opsmcp`. The input is the one `bench/logs/run.sh` makes (2M mixed Loghub
//! lines); run that script once first, or point `LOGS_BENCH_INPUT` at any log file.
//!
//! `LOGS_BENCH_THREADS` (default 1) and `LOGS_BENCH_RUNS` (default 3) set the thread count and
//! the number of timed runs, `LOGS_BENCH_CHUNK` the bytes per chunk; `LOGS_BENCH_PER_LINE=FILE` also writes every line's template id to
//! FILE, to check that an optimization left the answer unchanged (`cmp` it against the CLI's
//! `opsmcp logs templates --per-line`).

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use opsmcp_logs::{Engine, MineOptions};

fn env_usize(key: &str, default: usize) -> usize {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let input = std::env::var_os("LOGS_BENCH_INPUT").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../bench/results/logs-input.log"),
        PathBuf::from,
    );
    // `cargo bench` passes `--bench`; nothing else is accepted, and a missing input is not a
    // failure (CI runs `cargo bench --no-run` at most), just a hint.
    let Ok(bytes) = std::fs::read(&input) else {
        eprintln!(
            "no input at {}: run `bash bench/logs/run.sh` once, or set LOGS_BENCH_INPUT",
            input.display()
        );
        return Ok(());
    };
    let threads = env_usize("LOGS_BENCH_THREADS", 1);
    let runs = env_usize("LOGS_BENCH_RUNS", 3).max(1);
    let per_line = std::env::var_os("LOGS_BENCH_PER_LINE").map(PathBuf::from);
    let mut best = f64::INFINITY;
    let mut best_cpu = f64::INFINITY;
    for run in 0..runs {
        let c0 = thread_cpu_seconds();
        let t0 = Instant::now();
        let mut engine = Engine::new(MineOptions {
            threads,
            per_line: per_line.is_some(),
            chunk_bytes: env_usize("LOGS_BENCH_CHUNK", MineOptions::default().chunk_bytes),
            ..MineOptions::default()
        })?;
        // Fed through a reader in blocks, as the CLI does with a file.
        engine.feed_reader(bytes.as_slice())?;
        let r = engine.finish();
        let secs = t0.elapsed().as_secs_f64();
        let cpu = match (c0, thread_cpu_seconds()) {
            (Some(a), Some(b)) => b - a,
            _ => f64::NAN,
        };
        best = best.min(secs);
        best_cpu = best_cpu.min(cpu);
        eprintln!(
            "run {run}: {} lines, {} templates, {secs:.3} s, {cpu:.3} s on CPU",
            r.lines,
            r.templates.len()
        );
        if let (Some(path), 0) = (&per_line, run) {
            let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
            for id in &r.per_line {
                writeln!(out, "{id}")?;
            }
            out.flush()?;
        }
    }
    let lines = bytecount_lines(&bytes) as f64;
    println!(
        "threads {threads}: best of {runs}: {best:.3} s, {:.0} lines/s, {:.1} MB/s \
         (main thread on CPU: {best_cpu:.3} s)",
        lines / best,
        bytes.len() as f64 / 1e6 / best
    );
    Ok(())
}

/// CPU time of the calling thread (Linux `/proc/thread-self/schedstat`, nanoseconds): on a
/// shared machine the wall clock of one run varies by tens of percent with the neighbours' load,
/// the time actually spent running much less. `None` where it is not available.
fn thread_cpu_seconds() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: f64 = s.split_whitespace().next()?.parse().ok()?;
    Some(ns / 1e9)
}

fn bytecount_lines(bytes: &[u8]) -> usize {
    memchr::memchr_iter(b'\n', bytes).count() + usize::from(!bytes.ends_with(b"\n"))
}
