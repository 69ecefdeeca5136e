//! `opsmcp logs …`: the log engine (`opsmcp-logs`) for anyone holding a log file. Opening files
//! and printing are here; everything else is in the library.

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use opsmcp_logs::anomaly::{self, AnomalyOptions};
use opsmcp_logs::stats::StatsOptions;
use opsmcp_logs::{Engine, MineOptions, MineResult};

use crate::serve::Exit;

/// Work with log files: templates and anomalies, no format or regex to configure.
#[derive(Debug, Subcommand)]
pub enum LogsCommand {
    /// Mine templates (variables masked as <*>) with counts and examples. `-` reads stdin.
    Templates(TemplatesArgs),
    /// Rank what is anomalous in a window compared with a baseline: new templates, bursts, a
    /// rise in the error rate.
    Anomalies(AnomaliesArgs),
}

/// `opsmcp logs templates`.
#[derive(Debug, Args)]
pub struct TemplatesArgs {
    /// Log files, mined together as one run; `-` is standard input.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Print JSON (templates, formats, line counts) instead of a table.
    #[arg(long)]
    json: bool,
    /// Print only the template id of every input line, in order, one per line.
    #[arg(long, conflicts_with = "json")]
    per_line: bool,
    /// Worker threads (0 = all cores). The answer is the same for any number.
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Example lines kept per template.
    #[arg(long, default_value_t = 3)]
    examples: usize,
}

/// `opsmcp logs anomalies`.
#[derive(Debug, Args)]
pub struct AnomaliesArgs {
    /// The normal period; `-` is standard input.
    #[arg(long)]
    baseline: PathBuf,
    /// The period to judge; `-` is standard input.
    #[arg(long)]
    window: PathBuf,
    /// Print JSON instead of a list.
    #[arg(long)]
    json: bool,
    /// Width of the time buckets bursts are counted in, in seconds.
    #[arg(long, default_value_t = 60)]
    bucket_secs: i64,
    /// Worker threads (0 = all cores).
    #[arg(long, default_value_t = 0)]
    threads: usize,
}

/// Runs a `logs` subcommand.
pub fn run(cmd: LogsCommand) -> anyhow::Result<Exit> {
    let result = match cmd {
        LogsCommand::Templates(a) => templates(a),
        LogsCommand::Anomalies(a) => anomalies(a),
    };
    // `opsmcp logs templates big.log | head` is normal use, not an error.
    match result {
        Err(e)
            if e.downcast_ref::<io::Error>()
                .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe) =>
        {
            Ok(Exit::Ok)
        }
        other => other,
    }
}

fn open(path: &PathBuf) -> anyhow::Result<Box<dyn Read>> {
    if path.as_os_str() == "-" {
        return Ok(Box::new(io::stdin().lock()));
    }
    let f = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    Ok(Box::new(f))
}

fn feed(engine: &mut Engine, path: &PathBuf) -> anyhow::Result<()> {
    engine
        .feed_reader(open(path)?)
        .with_context(|| format!("reading {}", path.display()))
}

fn templates(a: TemplatesArgs) -> anyhow::Result<Exit> {
    let mut engine = Engine::new(MineOptions {
        threads: a.threads,
        per_line: a.per_line,
        examples: a.examples,
        ..MineOptions::default()
    })?;
    for f in &a.files {
        feed(&mut engine, f)?;
    }
    let r = engine.finish();
    let mut out = BufWriter::new(io::stdout().lock());
    if a.per_line {
        for id in &r.per_line {
            writeln!(out, "{id}")?;
        }
    } else if a.json {
        serde_json::to_writer_pretty(
            &mut out,
            &serde_json::json!({
                "lines": r.lines,
                "bytes": r.bytes,
                "formats": formats(&r),
                "templates": r.templates,
            }),
        )?;
        writeln!(out)?;
    } else {
        writeln!(
            out,
            "{} lines, {} templates ({})",
            r.lines,
            r.templates.len(),
            formats(&r)
                .iter()
                .map(|(f, n)| format!("{f}: {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        )?;
        for t in &r.templates {
            writeln!(out, "\n{:>10}  {}  {}", t.count, t.id, t.template)?;
            for ex in &t.examples {
                writeln!(out, "            e.g. {ex}")?;
            }
        }
    }
    out.flush()?;
    Ok(Exit::Ok)
}

/// Format names with line counts; `raw` counts lines that matched no format (kept whole).
fn formats(r: &MineResult) -> Vec<(String, u64)> {
    r.formats
        .iter()
        .map(|(f, n)| {
            let name = serde_json::to_value(f)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            (name, *n)
        })
        .collect()
}

fn anomalies(a: AnomaliesArgs) -> anyhow::Result<Exit> {
    if a.baseline.as_os_str() == "-" && a.window.as_os_str() == "-" {
        anyhow::bail!("only one of --baseline and --window can be `-` (standard input)");
    }
    let mut engine = Engine::new(MineOptions {
        threads: a.threads,
        stats: Some(StatsOptions {
            bucket_secs: a.bucket_secs.max(1),
            ..StatsOptions::default()
        }),
        ..MineOptions::default()
    })?;
    feed(&mut engine, &a.baseline)?;
    let base = engine.checkpoint();
    feed(&mut engine, &a.window)?;
    let mut results = engine.finish_segments(vec![base]);
    let (Some(window), Some(baseline)) = (results.pop(), results.pop()) else {
        anyhow::bail!("internal: expected a baseline and a window result");
    };
    let found = anomaly::detect(&baseline, &window, &AnomalyOptions::default());
    let mut out = BufWriter::new(io::stdout().lock());
    if a.json {
        serde_json::to_writer_pretty(
            &mut out,
            &serde_json::json!({
                "baseline_lines": baseline.lines,
                "window_lines": window.lines,
                "anomalies": found,
            }),
        )?;
        writeln!(out)?;
    } else if found.is_empty() {
        writeln!(
            out,
            "no anomalies ({} baseline lines, {} window lines)",
            baseline.lines, window.lines
        )?;
    } else {
        for (i, x) in found.iter().enumerate() {
            writeln!(out, "{:>3}. [{:.1}] {}", i + 1, x.score, x.summary)?;
            if let (Some(id), Some(t)) = (&x.template_id, &x.template) {
                writeln!(out, "     {id}  {t}")?;
            }
            for ex in &x.evidence.examples {
                writeln!(out, "     e.g. {ex}")?;
            }
        }
    }
    out.flush()?;
    Ok(Exit::Ok)
}
