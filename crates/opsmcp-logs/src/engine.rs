//! The streaming pipeline: bytes in, templates (and statistics) out, on all cores.
//!
//! Input is cut into chunks of whole lines. Each chunk is parsed and masked on any thread
//! (`rayon`), producing its *distinct* signatures in first-occurrence order plus per-signature
//! counts. The chunks are then folded into the [`Miner`] strictly in input order, so the miner
//! sees new signatures in exactly the order a single thread would: the answer does not depend on
//! the number of threads. Memory is bounded by the chunks in flight, the templates and the
//! signature cache, not by the input size (except with `per_line`, which keeps 4 bytes a line).

use std::borrow::Cow;
use std::io::Read;

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use crate::LogError;
use crate::mask;
use crate::miner::{Miner, TemplateIdx};
use crate::parse::{Format, Level, Parser, TimeDefaults};
use crate::stats::{ChunkStats, Stats, StatsOptions, StatsReport};

/// How to mine.
#[derive(Debug, Clone)]
pub struct MineOptions {
    /// Worker threads; 0 means all cores, 1 means the calling thread only.
    pub threads: usize,
    /// Keep the template of every line, in order (4 bytes a line).
    pub per_line: bool,
    /// Example lines kept per template.
    pub examples: usize,
    /// Bytes per chunk handed to a worker.
    pub chunk_bytes: usize,
    /// Skip header/format parsing: every line is a bare message (e.g. an extracted `Content`).
    pub messages_only: bool,
    /// Collect statistics (time buckets, levels, services, fields); needs timestamps parsed.
    pub stats: Option<StatsOptions>,
    /// Missing year and zone for timestamps.
    pub time_defaults: TimeDefaults,
}

impl Default for MineOptions {
    fn default() -> Self {
        MineOptions {
            threads: 0,
            per_line: false,
            examples: 3,
            chunk_bytes: 1 << 20,
            messages_only: false,
            stats: None,
            time_defaults: TimeDefaults::default(),
        }
    }
}

/// One template as reported.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TemplateInfo {
    /// Stable id (16 hex digits): a hash of the masked message that first created the template,
    /// the same across runs and thread counts.
    pub id: String,
    /// The template, variables as `<*>`.
    pub template: String,
    /// Lines in this template.
    pub count: u64,
    /// 1-based line number of the first and last line (over all inputs of the run).
    pub first_line: u64,
    /// See `first_line`.
    pub last_line: u64,
    /// Timestamps of the first and last line, when they had one.
    pub first_seen: Option<String>,
    /// See `first_seen`.
    pub last_seen: Option<String>,
    /// The first few lines, as read.
    pub examples: Vec<String>,
}

#[derive(Debug, Clone, Default)]
struct Acc {
    count: u64,
    first_line: u64,
    last_line: u64,
    first_seen: Option<String>,
    last_seen: Option<String>,
    examples: Vec<String>,
}

/// One signature's lines within a chunk. Text (examples, timestamps) is kept as byte ranges into
/// the chunk and copied out only when folding needs it: most chunk-local examples and timestamps
/// are thrown away by the fold, and copying them for every distinct signature of every chunk
/// was a large share of allocations.
#[derive(Debug, Clone, Copy)]
struct LocalAcc {
    count: u64,
    first_line: u64,
    last_line: u64,
    first_ts: TsAt,
    last_ts: TsAt,
    /// Examples, as a list linked through `ChunkOut::examples` (`NO_EXAMPLE` ends it).
    ex_head: u32,
    ex_tail: u32,
    ex_len: u32,
}

const NO_EXAMPLE: u32 = u32::MAX;

/// An example line (byte range in the chunk) and the next example of the same signature.
#[derive(Debug, Clone, Copy)]
struct Example {
    start: usize,
    end: usize,
    next: u32,
}

/// What one chunk produced, before folding.
#[derive(Debug, Default)]
struct ChunkOut {
    arena: Vec<u8>,
    sigs: Vec<(u32, u32)>,
    acc: Vec<LocalAcc>,
    examples: Vec<Example>,
    lines: u64,
    per_line: Vec<u32>,
    formats: FxHashMap<Format, u64>,
    stats: Option<ChunkStats>,
}

/// The running state of a mining run; feed it bytes, then [`Engine::finish`].
#[derive(Debug)]
pub struct Engine {
    opts: MineOptions,
    parser: Option<Parser>,
    miner: Miner,
    acc: FxHashMap<TemplateIdx, Acc>,
    per_line: Vec<TemplateIdx>,
    lines: u64,
    bytes: u64,
    formats: FxHashMap<Format, u64>,
    stats: Option<Stats>,
    pool: Option<rayon::ThreadPool>,
    carry: Vec<u8>,
}

/// The result of a run.
#[derive(Debug)]
pub struct MineResult {
    /// Templates, most frequent first (ties by id).
    pub templates: Vec<TemplateInfo>,
    /// Template id of every line, in order (only with `per_line`).
    pub per_line: Vec<String>,
    /// Lines read.
    pub lines: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Lines per detected format; `Raw` lines matched no format and were kept whole.
    pub formats: Vec<(Format, u64)>,
    /// Statistics, when asked for.
    pub stats: Option<StatsReport>,
}

impl Engine {
    /// A new run.
    pub fn new(opts: MineOptions) -> Result<Self, LogError> {
        let pool = if opts.threads == 1 {
            None
        } else {
            Some(
                rayon::ThreadPoolBuilder::new()
                    .num_threads(opts.threads)
                    .build()
                    .map_err(|e| LogError::Threads(e.to_string()))?,
            )
        };
        let stats = opts.stats.clone().map(Stats::new);
        Ok(Engine {
            opts,
            parser: None,
            miner: Miner::new(),
            acc: FxHashMap::default(),
            per_line: Vec::new(),
            lines: 0,
            bytes: 0,
            formats: FxHashMap::default(),
            stats,
            pool,
            carry: Vec::new(),
        })
    }

    /// Reads a whole stream in bounded memory.
    pub fn feed_reader(&mut self, mut r: impl Read) -> Result<(), LogError> {
        let threads = self.pool.as_ref().map_or(1, |p| p.current_num_threads());
        let block = self.opts.chunk_bytes.max(4096) * threads * 2;
        let mut buf = vec![0u8; block];
        loop {
            let mut filled = 0;
            while filled < buf.len() {
                match r.read(&mut buf[filled..]) {
                    Ok(0) => break,
                    Ok(k) => filled += k,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(LogError::Io(e)),
                }
            }
            if filled == 0 {
                break;
            }
            self.feed(&buf[..filled]);
            if filled < buf.len() {
                break;
            }
        }
        self.end_stream();
        Ok(())
    }

    /// Feeds bytes; a trailing partial line is kept until the next call or [`Engine::end_stream`].
    pub fn feed(&mut self, bytes: &[u8]) {
        if !self.carry.is_empty() {
            match memchr::memchr(b'\n', bytes) {
                Some(i) => {
                    let mut first = std::mem::take(&mut self.carry);
                    first.extend_from_slice(&bytes[..=i]);
                    self.feed_whole(&first);
                    self.feed(&bytes[i + 1..]);
                }
                None => self.carry.extend_from_slice(bytes),
            }
            return;
        }
        match memchr::memrchr(b'\n', bytes) {
            Some(i) => {
                self.feed_whole(&bytes[..=i]);
                self.carry.extend_from_slice(&bytes[i + 1..]);
            }
            None => self.carry.extend_from_slice(bytes),
        }
    }

    /// Ends one input: a last line without a newline is processed, and the next input's format
    /// is detected afresh.
    pub fn end_stream(&mut self) {
        if !self.carry.is_empty() {
            let last = std::mem::take(&mut self.carry);
            self.feed_whole(&last);
        }
        self.parser = None;
    }

    fn feed_whole(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        if self.parser.is_none() {
            let sample: Vec<String> = bytes
                .split(|&b| b == b'\n')
                .take(200)
                .map(|l| String::from_utf8_lossy(l).into_owned())
                .collect();
            let sample: Vec<&str> = sample.iter().map(String::as_str).collect();
            self.parser = Some(if self.opts.messages_only {
                Parser::new(Format::Raw)
            } else {
                Parser::learn(&sample)
            });
        }
        let chunks = split_chunks(bytes, self.opts.chunk_bytes.max(1));
        // A copy of the options, so the fold below can borrow `self` mutably while the context
        // (which the fold needs to re-read timestamps) borrows them; once per block, not per line.
        let opts = self.opts.clone();
        let ctx = Ctx {
            parser: self.parser.unwrap_or(Parser::new(Format::Raw)),
            opts: &opts,
        };
        let outs: Vec<ChunkOut> = match &self.pool {
            Some(pool) => pool.install(|| chunks.par_iter().map(|c| ctx.chunk(c)).collect()),
            None => chunks.iter().map(|c| ctx.chunk(c)).collect(),
        };
        // The chunks' text is still here, so the fold can copy out what it keeps.
        for (out, chunk) in outs.into_iter().zip(&chunks) {
            self.fold(out, chunk, &ctx);
        }
        self.bytes += bytes.len() as u64;
    }

    fn fold(&mut self, out: ChunkOut, chunk: &[u8], ctx: &Ctx<'_>) {
        let base = self.lines;
        let mut local_to_t: Vec<TemplateIdx> = Vec::with_capacity(out.sigs.len());
        for (i, &(a, b)) in out.sigs.iter().enumerate() {
            let sig = &out.arena[a as usize..b as usize];
            let t = self.miner.add(sig);
            local_to_t.push(t);
            let src = &out.acc[i];
            let e = self.acc.entry(t).or_default();
            if e.count == 0 {
                e.first_line = base + src.first_line;
                e.first_seen = ctx.ts_text(chunk, src.first_ts).map(Cow::into_owned);
            }
            e.count += src.count;
            e.last_line = base + src.last_line;
            if let Some(ts) = ctx.ts_text(chunk, src.last_ts) {
                // Overwritten once per chunk: reuse the buffer.
                match &mut e.last_seen {
                    Some(last) => {
                        last.clear();
                        last.push_str(&ts);
                    }
                    None => e.last_seen = Some(ts.into_owned()),
                }
            }
            let mut x = src.ex_head;
            while x != NO_EXAMPLE && e.examples.len() < self.opts.examples {
                let ex = out.examples[x as usize];
                e.examples
                    .push(String::from_utf8_lossy(&chunk[ex.start..ex.end]).into_owned());
                x = ex.next;
            }
        }
        if self.opts.per_line {
            self.per_line
                .extend(out.per_line.iter().map(|&l| local_to_t[l as usize]));
        }
        for (f, n) in out.formats {
            *self.formats.entry(f).or_default() += n;
        }
        if let (Some(stats), Some(cs)) = (self.stats.as_mut(), out.stats) {
            stats.fold(cs, |l| local_to_t[l as usize]);
        }
        self.lines += out.lines;
    }

    /// The miner, for resolving template indices (e.g. from statistics).
    pub fn miner(&self) -> &Miner {
        &self.miner
    }

    /// Closes the current segment (e.g. a baseline) and starts a new one (e.g. a window) that
    /// keeps mining with the same templates, so template ids agree across segments. Line numbers
    /// restart at 1. Pass the segments to [`Engine::finish_segments`].
    pub fn checkpoint(&mut self) -> Segment {
        self.end_stream();
        Segment {
            acc: std::mem::take(&mut self.acc),
            per_line: std::mem::take(&mut self.per_line),
            lines: std::mem::take(&mut self.lines),
            bytes: std::mem::take(&mut self.bytes),
            formats: std::mem::take(&mut self.formats),
            stats: self.stats.as_mut().map(|st| {
                let fresh = Stats::new(self.opts.stats.clone().unwrap_or_default());
                std::mem::replace(st, fresh)
            }),
        }
    }

    /// Finishes the run: templates merged during the run are combined under the survivor.
    pub fn finish(mut self) -> MineResult {
        let seg = self.checkpoint();
        self.report(seg)
    }

    /// Finishes a run cut into segments with [`Engine::checkpoint`] (the part after the last
    /// checkpoint is the last result).
    pub fn finish_segments(mut self, mut segments: Vec<Segment>) -> Vec<MineResult> {
        let last = self.checkpoint();
        segments.push(last);
        segments.into_iter().map(|s| self.report(s)).collect()
    }

    fn report(&self, seg: Segment) -> MineResult {
        let miner = &self.miner;
        let mut merged: FxHashMap<TemplateIdx, Acc> = FxHashMap::default();
        let mut keys: Vec<TemplateIdx> = seg.acc.keys().copied().collect();
        // Fold in order of first line, so examples and first-seen come from the earliest lines.
        keys.sort_by_key(|t| (seg.acc[t].first_line, *t));
        for t in keys {
            let src = &seg.acc[&t];
            let e = merged.entry(miner.resolve(t)).or_default();
            if e.count == 0 {
                e.first_line = src.first_line;
                e.first_seen.clone_from(&src.first_seen);
                e.last_line = src.last_line;
                e.last_seen.clone_from(&src.last_seen);
            } else if src.last_line > e.last_line {
                e.last_line = src.last_line;
                e.last_seen.clone_from(&src.last_seen);
            }
            e.count += src.count;
            for ex in &src.examples {
                if e.examples.len() < self.opts.examples {
                    e.examples.push(ex.clone());
                }
            }
        }
        let mut templates: Vec<TemplateInfo> = merged
            .into_iter()
            .map(|(t, a)| TemplateInfo {
                id: format!("{:016x}", miner.id(t)),
                template: miner.text(t),
                count: a.count,
                first_line: a.first_line,
                last_line: a.last_line,
                first_seen: a.first_seen,
                last_seen: a.last_seen,
                examples: a.examples,
            })
            .collect();
        templates.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.id.cmp(&b.id)));
        let per_line = seg
            .per_line
            .iter()
            .map(|&t| format!("{:016x}", miner.id(t)))
            .collect();
        let mut formats: Vec<(Format, u64)> = seg.formats.into_iter().collect();
        formats.sort_by_key(|&(f, n)| (std::cmp::Reverse(n), f as u8));
        MineResult {
            templates,
            per_line,
            lines: seg.lines,
            bytes: seg.bytes,
            formats,
            stats: seg.stats.map(|s| s.finish(miner)),
        }
    }
}

/// Part of a run closed by [`Engine::checkpoint`], resolved by [`Engine::finish_segments`].
#[derive(Debug)]
pub struct Segment {
    acc: FxHashMap<TemplateIdx, Acc>,
    per_line: Vec<TemplateIdx>,
    lines: u64,
    bytes: u64,
    formats: FxHashMap<Format, u64>,
    stats: Option<Stats>,
}

struct Ctx<'o> {
    parser: Parser,
    opts: &'o MineOptions,
}

/// Where the timestamp of a line is in its chunk, so `first_seen` and `last_seen` can be filled
/// in without keeping a copy per signature, nor parsing the line again.
#[derive(Debug, Clone, Copy)]
enum TsAt {
    /// The line had no timestamp.
    None,
    /// Byte range in the chunk (the line was valid UTF-8 and the timestamp borrowed from it).
    At(usize, usize),
    /// The timestamp was rewritten by the parser (or the line was not valid UTF-8): parse the
    /// line `(start, end)` again.
    Reparse(usize, usize),
}

/// Line counts per format in one chunk: an array indexed by `Format as usize`, because a hash
/// map entry per line was measurable.
const FORMATS: [Format; 7] = [
    Format::Json,
    Format::Logfmt,
    Format::Syslog5424,
    Format::Syslog3164,
    Format::Access,
    Format::Header,
    Format::Raw,
];

impl Ctx<'_> {
    /// The text of a timestamp recorded by [`Ctx::chunk`] in `chunk`.
    fn ts_text<'c>(&self, chunk: &'c [u8], at: TsAt) -> Option<Cow<'c, str>> {
        match at {
            TsAt::None => None,
            TsAt::At(s, e) => Some(String::from_utf8_lossy(&chunk[s..e])),
            TsAt::Reparse(s, e) => {
                let text = String::from_utf8_lossy(&chunk[s..e]);
                let rec = self.parser.parse(&text);
                rec.time_text.as_deref().map(|t| Cow::Owned(t.to_owned()))
            }
        }
    }

    fn chunk(&self, bytes: &[u8]) -> ChunkOut {
        let mut out = ChunkOut::default();
        let mut local: FxHashMap<Box<[u8]>, u32> = FxHashMap::default();
        let mut sig = Vec::with_capacity(256);
        let mut chunk_stats = self.opts.stats.as_ref().map(ChunkStats::new);
        let mut format_counts = [0u64; FORMATS.len()];
        let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
        // Validating UTF-8 once for the whole chunk is much cheaper than once per line; slicing
        // the validated text at `\n` (ASCII, so always a char boundary) then needs no check.
        // Only a chunk holding invalid bytes falls back to per-line lossy conversion, which
        // replaces those bytes exactly as before.
        let body_text = std::str::from_utf8(body).ok();
        let mut line_no: u64 = 0;
        let mut toks = crate::parse::header::Toks::new();
        let mut pos = 0usize;
        while pos <= body.len() {
            let end = memchr::memchr(b'\n', &body[pos..]).map_or(body.len(), |i| pos + i);
            let raw = &body[pos..end];
            let line_start = pos;
            pos = end + 1;
            line_no += 1;
            let text: Cow<'_, str> = match body_text {
                Some(t) => Cow::Borrowed(&t[line_start..end]),
                None => String::from_utf8_lossy(raw),
            };
            let rec = if self.opts.messages_only {
                None
            } else {
                Some(self.parser.parse_in(&text, &mut toks))
            };
            let msg: &str = match &rec {
                Some(r) => &r.message,
                None => text.strip_suffix('\r').unwrap_or(&text),
            };
            mask::signature(msg.as_bytes(), &mut sig);
            let time_text = rec.as_ref().and_then(|r| r.time_text.as_ref());
            let ts_at = match (time_text, &text) {
                (None, _) => TsAt::None,
                (Some(Cow::Borrowed(t)), Cow::Borrowed(line)) => {
                    // The timestamp is a slice of the line: find where, by address.
                    let off = (t.as_ptr() as usize).wrapping_sub(line.as_ptr() as usize);
                    if off <= line.len() && off + t.len() <= line.len() {
                        TsAt::At(line_start + off, line_start + off + t.len())
                    } else {
                        TsAt::Reparse(line_start, end)
                    }
                }
                (Some(_), _) => TsAt::Reparse(line_start, end),
            };
            let li = match local.get(sig.as_slice()) {
                Some(&i) => i,
                None => {
                    let i = out.sigs.len() as u32;
                    let a = out.arena.len() as u32;
                    out.arena.extend_from_slice(&sig);
                    out.sigs.push((a, out.arena.len() as u32));
                    local.insert(sig.as_slice().into(), i);
                    out.acc.push(LocalAcc {
                        count: 0,
                        first_line: line_no,
                        last_line: line_no,
                        first_ts: ts_at,
                        last_ts: ts_at,
                        ex_head: NO_EXAMPLE,
                        ex_tail: NO_EXAMPLE,
                        ex_len: 0,
                    });
                    i
                }
            };
            let a = &mut out.acc[li as usize];
            a.count += 1;
            a.last_line = line_no;
            a.last_ts = ts_at;
            if (a.ex_len as usize) < self.opts.examples {
                let x = out.examples.len() as u32;
                out.examples.push(Example {
                    start: line_start,
                    end,
                    next: NO_EXAMPLE,
                });
                if a.ex_tail == NO_EXAMPLE {
                    a.ex_head = x;
                } else {
                    out.examples[a.ex_tail as usize].next = x;
                }
                a.ex_tail = x;
                a.ex_len += 1;
            }
            if self.opts.per_line {
                out.per_line.push(li);
            }
            let format = rec.as_ref().map_or(Format::Raw, |r| r.format);
            format_counts[format as usize] += 1;
            if let (Some(cs), Some(r)) = (chunk_stats.as_mut(), rec.as_ref()) {
                let ts = r.timestamp(&self.opts.time_defaults);
                let level: Option<Level> = r.level;
                cs.add(li, ts, level, r.service.as_deref(), &r.fields);
            }
        }
        for (f, n) in FORMATS.into_iter().zip(format_counts) {
            if n > 0 {
                out.formats.insert(f, n);
            }
        }
        out.lines = line_no;
        out.stats = chunk_stats;
        out
    }
}

fn split_chunks(bytes: &[u8], target: usize) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < bytes.len() {
        let mut end = (start + target).min(bytes.len());
        if end < bytes.len() {
            end = match memchr::memchr(b'\n', &bytes[end..]) {
                Some(i) => end + i + 1,
                None => bytes.len(),
            };
        }
        out.push(&bytes[start..end]);
        start = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_counts_are_indexed_by_discriminant() {
        for (i, f) in FORMATS.into_iter().enumerate() {
            assert_eq!(f as usize, i, "{f:?}");
        }
    }

    #[test]
    fn examples_and_times_survive_chunking() {
        // Tiny chunks: every signature spans many chunks, so examples, first and last seen are
        // put together by the fold from byte ranges of different chunks.
        let text = "2024-01-02 10:00:00,001 INFO [main] a.B: started worker 1\n\
                    2024-01-02 10:00:01,002 INFO [main] a.B: started worker 2\n\
                    2024-01-02 10:00:02,003 INFO [main] a.B: started worker 3\n\
                    2024-01-02 10:00:03,004 INFO [main] a.B: started worker 4\n";
        let mine = |chunk_bytes| {
            let mut e = Engine::new(MineOptions {
                threads: 1,
                chunk_bytes,
                examples: 2,
                ..MineOptions::default()
            })
            .expect("engine");
            e.feed(text.as_bytes());
            e.end_stream();
            e.finish().templates
        };
        for t in [mine(1), mine(1 << 20)] {
            assert_eq!(t.len(), 1);
            assert_eq!(t[0].count, 4);
            assert_eq!(t[0].first_seen.as_deref(), Some("2024-01-02 10:00:00,001"));
            assert_eq!(t[0].last_seen.as_deref(), Some("2024-01-02 10:00:03,004"));
            assert_eq!(t[0].examples.len(), 2);
            assert!(t[0].examples[1].ends_with("worker 2"));
        }
    }
}
