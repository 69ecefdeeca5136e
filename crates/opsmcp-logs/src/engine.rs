//! The streaming pipeline: bytes in, templates (and statistics) out, on all cores.
//!
//! Input is cut into chunks of whole lines. Each chunk is parsed and masked on any thread
//! (`rayon`), producing its *distinct* signatures in first-occurrence order plus per-signature
//! counts. The chunks are then folded into the [`Miner`] strictly in input order, so the miner
//! sees new signatures in exactly the order a single thread would: the answer does not depend on
//! the number of threads. Memory is bounded by the chunks in flight, the templates and the
//! signature cache, not by the input size (except with `per_line`, which keeps 4 bytes a line).

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

/// What one chunk produced, before folding.
#[derive(Debug, Default)]
struct ChunkOut {
    arena: Vec<u8>,
    sigs: Vec<(u32, u32)>,
    acc: Vec<Acc>,
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
        let ctx = Ctx {
            parser: self.parser.unwrap_or(Parser::new(Format::Raw)),
            opts: &self.opts,
        };
        let outs: Vec<ChunkOut> = match &self.pool {
            Some(pool) => pool.install(|| chunks.par_iter().map(|c| ctx.chunk(c)).collect()),
            None => chunks.iter().map(|c| ctx.chunk(c)).collect(),
        };
        for out in outs {
            self.fold(out);
        }
        self.bytes += bytes.len() as u64;
    }

    fn fold(&mut self, out: ChunkOut) {
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
                e.first_seen.clone_from(&src.first_seen);
            }
            e.count += src.count;
            e.last_line = base + src.last_line;
            if src.last_seen.is_some() {
                e.last_seen.clone_from(&src.last_seen);
            }
            for ex in &src.examples {
                if e.examples.len() < self.opts.examples {
                    e.examples.push(ex.clone());
                }
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

impl Ctx<'_> {
    fn chunk(&self, bytes: &[u8]) -> ChunkOut {
        let mut out = ChunkOut::default();
        let mut local: FxHashMap<Box<[u8]>, u32> = FxHashMap::default();
        let mut sig = Vec::with_capacity(256);
        let mut chunk_stats = self.opts.stats.as_ref().map(ChunkStats::new);
        let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
        let mut line_no: u64 = 0;
        let mut last_ranges: Vec<(usize, usize)> = Vec::new();
        let mut pos = 0usize;
        while pos <= body.len() {
            let end = memchr::memchr(b'\n', &body[pos..]).map_or(body.len(), |i| pos + i);
            let raw = &body[pos..end];
            let range = (pos, end);
            pos = end + 1;
            line_no += 1;
            let text = String::from_utf8_lossy(raw);
            let rec = if self.opts.messages_only {
                None
            } else {
                Some(self.parser.parse(&text))
            };
            let msg: &str = match &rec {
                Some(r) => &r.message,
                None => text.strip_suffix('\r').unwrap_or(&text),
            };
            mask::signature(msg.as_bytes(), &mut sig);
            let li = match local.get(sig.as_slice()) {
                Some(&i) => i,
                None => {
                    let i = out.sigs.len() as u32;
                    let a = out.arena.len() as u32;
                    out.arena.extend_from_slice(&sig);
                    out.sigs.push((a, out.arena.len() as u32));
                    local.insert(sig.as_slice().into(), i);
                    out.acc.push(Acc {
                        first_line: line_no,
                        ..Acc::default()
                    });
                    last_ranges.push(range);
                    i
                }
            };
            let a = &mut out.acc[li as usize];
            a.count += 1;
            a.last_line = line_no;
            if a.count == 1 {
                a.first_seen = rec
                    .as_ref()
                    .and_then(|r| r.time_text.as_deref())
                    .map(str::to_owned);
            }
            last_ranges[li as usize] = range;
            if a.examples.len() < self.opts.examples {
                a.examples.push(text.clone().into_owned());
            }
            if self.opts.per_line {
                out.per_line.push(li);
            }
            let format = rec.as_ref().map_or(Format::Raw, |r| r.format);
            *out.formats.entry(format).or_default() += 1;
            if let (Some(cs), Some(r)) = (chunk_stats.as_mut(), rec.as_ref()) {
                let ts = r.timestamp(&self.opts.time_defaults);
                let level: Option<Level> = r.level;
                cs.add(li, ts, level, r.service.as_deref(), &r.fields);
            }
        }
        if !self.opts.messages_only {
            for (a, &(s, e)) in out.acc.iter_mut().zip(&last_ranges) {
                let text = String::from_utf8_lossy(&body[s..e]);
                let rec = self.parser.parse(&text);
                a.last_seen = rec.time_text.as_deref().map(str::to_owned);
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
