//! `opsmcp logs …`: the log engine (`opsmcp-logs`) for anyone holding a log file. Opening files
//! and printing are here; everything else is in the library.

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Read, Seek, Write};
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use opsmcp_logs::anomaly::{self, AnomalyOptions};
use opsmcp_logs::engine::looks_binary;
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
    /// Mine files that look binary (NUL bytes, mostly control characters) instead of refusing.
    #[arg(long)]
    binary: bool,
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

/// Bytes looked at to tell a text log from binary data.
const SNIFF_BYTES: usize = 64 * 1024;
/// Inputs at least this big show progress on a terminal.
const PROGRESS_BYTES: u64 = 64 << 20;

/// One input, opened: a file, or standard input copied to a temporary file when it must be
/// read twice (`--per-line`).
enum Input {
    File(PathBuf, File),
    Stdin,
    Spooled(tempfile::NamedTempFile),
}

impl Input {
    fn open(path: &PathBuf, twice: bool) -> anyhow::Result<Input> {
        if path.as_os_str() == "-" {
            if !twice {
                return Ok(Input::Stdin);
            }
            // Read twice in bounded memory: copy standard input to a temporary file first.
            let mut tmp = tempfile::NamedTempFile::new().context("temporary file for stdin")?;
            io::copy(&mut io::stdin().lock(), tmp.as_file_mut()).context("reading stdin")?;
            return Ok(Input::Spooled(tmp));
        }
        let f = File::open(path).with_context(|| format!("opening {}", path.display()))?;
        Ok(Input::File(path.clone(), f))
    }

    fn name(&self) -> String {
        match self {
            Input::File(p, _) => p.display().to_string(),
            Input::Stdin | Input::Spooled(_) => "standard input".into(),
        }
    }

    /// A reader from the start (again), with progress on a terminal for big files, and the
    /// input's first bytes for [`looks_binary`] (stdin is judged on the fly).
    fn reader(&mut self, what: &str) -> anyhow::Result<(Box<dyn Read + '_>, Vec<u8>)> {
        let file = match self {
            Input::Stdin => return Ok((Box::new(io::stdin().lock()), Vec::new())),
            Input::File(_, f) => f,
            Input::Spooled(t) => t.as_file_mut(),
        };
        file.rewind()?;
        let mut head = vec![0u8; SNIFF_BYTES];
        let n = read_full(file, &mut head)?;
        head.truncate(n);
        file.rewind()?;
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        let file: &File = file;
        if len >= PROGRESS_BYTES && io::stderr().is_terminal() {
            let bar = ProgressBar::new(len);
            if let Ok(style) = ProgressStyle::with_template(
                "{msg} {bar:30.cyan} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            ) {
                bar.set_style(style);
            }
            bar.set_message(what.to_owned());
            return Ok((Box::new(Progress(bar.wrap_read(file))), head));
        }
        Ok((Box::new(file), head))
    }
}

/// A progress-wrapped reader that clears its bar when done.
struct Progress<R: Read>(indicatif::ProgressBarIter<R>);

impl<R: Read> Read for Progress<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl<R: Read> Drop for Progress<R> {
    fn drop(&mut self) {
        self.0.progress.finish_and_clear();
    }
}

fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Refuses an input that looks binary, unless told to mine it anyway.
fn check_text(name: &str, head: &[u8], allow: bool) -> anyhow::Result<()> {
    if !allow && looks_binary(head) {
        anyhow::bail!(
            "{name} looks like binary data (NUL bytes or mostly control characters), not a text \
             log; pass --binary to mine it anyway"
        );
    }
    Ok(())
}

fn feed(engine: &mut Engine, input: &mut Input, allow_binary: bool) -> anyhow::Result<()> {
    let name = input.name();
    let (r, head) = input.reader(&format!("mining {name}"))?;
    check_text(&name, &head, allow_binary)?;
    engine
        .feed_reader(r)
        .with_context(|| format!("reading {name}"))
}

fn templates(a: TemplatesArgs) -> anyhow::Result<Exit> {
    let mut engine = Engine::new(MineOptions {
        threads: a.threads,
        examples: a.examples,
        ..MineOptions::default()
    })?;
    let mut inputs = a
        .files
        .iter()
        .map(|f| Input::open(f, a.per_line))
        .collect::<anyhow::Result<Vec<_>>>()?;
    for input in &mut inputs {
        feed(&mut engine, input, a.binary)?;
    }
    let mut out = BufWriter::new(io::stdout().lock());
    if a.per_line {
        // A second pass gives every line its final template id as it goes: nothing is held
        // per line, whatever the input's size.
        let (r, mut assigner) = engine.into_assigner();
        for input in &mut inputs {
            let name = input.name();
            let (reader, _) = input.reader(&format!("assigning {name}"))?;
            assigner
                .assign_reader(reader, |id| writeln!(out, "{id}"))
                .with_context(|| format!("reading {name} again"))?;
        }
        notes(&r);
        out.flush()?;
        return Ok(Exit::Ok);
    }
    let r = engine.finish();
    notes(&r);
    if a.json {
        serde_json::to_writer_pretty(
            &mut out,
            &serde_json::json!({
                "lines": r.lines,
                "bytes": r.bytes,
                "formats": formats(&r),
                "invalid_utf8_lines": r.invalid_utf8_lines,
                "truncated_lines": r.truncated_lines,
                "relearned": r.relearned,
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

/// What the user should know about the input, on stderr (stdout stays the answer).
fn notes(r: &MineResult) {
    if r.lines == 0 {
        eprintln!("note: the input is empty (0 lines)");
    }
    if r.invalid_utf8_lines > 0 {
        eprintln!(
            "note: {} lines were not valid UTF-8; mined with the bad bytes replaced",
            r.invalid_utf8_lines
        );
    }
    if r.truncated_lines > 0 {
        eprintln!(
            "note: {} lines were longer than {} KB; mined from their first {} KB",
            r.truncated_lines,
            opsmcp_logs::engine::MAX_LINE_BYTES / 1024,
            opsmcp_logs::engine::MAX_LINE_BYTES / 1024
        );
    }
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
        return Err(crate::report::Usage(
            "only one of --baseline and --window can be `-` (standard input)".into(),
        )
        .into());
    }
    let mut engine = Engine::new(MineOptions {
        threads: a.threads,
        stats: Some(StatsOptions {
            bucket_secs: a.bucket_secs.max(1),
            ..StatsOptions::default()
        }),
        ..MineOptions::default()
    })?;
    feed(&mut engine, &mut Input::open(&a.baseline, false)?, false)?;
    let base = engine.checkpoint();
    feed(&mut engine, &mut Input::open(&a.window, false)?, false)?;
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
