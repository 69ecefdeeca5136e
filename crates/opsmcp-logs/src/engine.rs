//! The streaming pipeline: bytes in, templates (and statistics) out, on all cores.
//!
//! Bytes are buffered and cut into lines at any line ending (`\n`, `\r\n` or a lone `\r`); a
//! line longer than [`MAX_LINE_BYTES`] is mined from its first bytes only, and the rest of it is
//! never held. Each stream's structure is learned from its first [`SAMPLE_LINES`] lines
//! ([`Parser::learn`]) and kept while lines fit it; a run of [`MISFIT_RUN`] lines in a row that
//! do not fit makes the engine learn again from there (a file that changes format halfway), and
//! the new structure is taken when it fits those lines better.
//!
//! Complete lines are cut into chunks. Each chunk is parsed and masked on any thread (`rayon`),
//! producing its *distinct* signatures in first-occurrence order plus per-signature counts. The
//! chunks are then folded into the [`Miner`] strictly in input order, so the miner sees new
//! signatures in exactly the order a single thread would. Where learning happens is a function
//! of the lines alone (a misfit run is followed past the end of a chunk, and lines whose fate
//! needs lines not yet read wait for them), so the answer depends neither on the number of
//! threads nor on how the input was cut into reads. Memory is bounded by the buffer, the chunks
//! in flight, the templates and the signature cache, not by the input size (except with
//! `per_line`, which keeps 4 bytes a line; [`Engine::into_assigner`] streams the same ids in a
//! second pass instead).

use std::borrow::Cow;
use std::io::Read;

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use crate::LogError;
use crate::mask;
use crate::miner::{Miner, TemplateIdx};
use crate::parse::{Format, Level, Parser, Record, Scratch, TimeDefaults};
use crate::stats::{ChunkStats, Stats, StatsOptions, StatsReport};

/// Lines a stream's structure is learned from.
pub const SAMPLE_LINES: usize = 200;
/// Lines in a row that must not fit the stream's structure before it is learned again.
pub const MISFIT_RUN: usize = 16;
/// Bytes of a line that are mined; the rest of a longer line is skipped (and counted).
pub const MAX_LINE_BYTES: usize = 64 * 1024;
/// Structures remembered per run to try before learning anew, and the lines they are tried on.
const RECENT_STRUCTURES: usize = 16;
const RECENT_PROBE: usize = 32;
/// Bytes validated as UTF-8 at a time.
const UTF8_STRETCH: usize = 64 * 1024;
/// Bytes of an example line kept.
const MAX_EXAMPLE_BYTES: usize = 2048;

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
            chunk_bytes: 256 << 10,
            messages_only: false,
            stats: None,
            time_defaults: TimeDefaults::default(),
        }
    }
}

/// One template as reported.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TemplateInfo {
    /// Stable id (16 hex digits): a hash of the template's text, so the same template has the
    /// same id in every run, file and window (see [`crate::miner::template_id`]).
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
    /// The first few lines, as read (cut at 2 KB).
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
/// the buffer and copied out only when folding needs it: most chunk-local examples and
/// timestamps are thrown away by the fold.
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

/// An example line (byte range in the buffer) and the next example of the same signature.
#[derive(Debug, Clone, Copy)]
struct Example {
    start: usize,
    end: usize,
    next: u32,
}

/// Where a chunk stopped early, as a byte offset into the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// A run of misfits starts here: learn again from here.
    Relearn(usize),
    /// A run of misfits starts here and reaches the end of what has been read: wait for more.
    Wait(usize),
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
    formats: [u64; FORMATS.len()],
    invalid_utf8: u64,
    truncated: u64,
    stats: Option<ChunkStats>,
    stop: Option<Stop>,
}

/// Mining, or (after a mining run) assigning lines to the templates found.
#[derive(Debug)]
enum Mode {
    Mine,
    /// Template id of every line since the last drain.
    Assign(Vec<u64>),
}

/// The running state of a mining run; feed it bytes, then [`Engine::finish`].
#[derive(Debug)]
pub struct Engine {
    opts: MineOptions,
    mode: Mode,
    /// The current stream's parser; `None` until learned.
    parser: Option<Parser>,
    /// The parser of the previous stream, reused by the next one when it fits as well.
    prev_parser: Option<Parser>,
    /// Structures learned before in this run, most recent first: tried before learning anew.
    recent: Vec<Parser>,
    /// Misfits starting before this global byte offset do not trigger learning (set after a
    /// learning that kept the structure, so the same run does not trigger it again).
    quiet_until: u64,
    miner: Miner,
    acc: FxHashMap<TemplateIdx, Acc>,
    per_line: Vec<TemplateIdx>,
    lines: u64,
    bytes: u64,
    formats: FxHashMap<Format, u64>,
    invalid_utf8: u64,
    truncated: u64,
    relearned: u64,
    stats: Option<Stats>,
    pool: Option<rayon::ThreadPool>,
    /// Bytes read but not yet mined (at most a partial line, or lines waiting for the lines that
    /// decide their structure).
    buf: Vec<u8>,
    /// Bytes of `buf` that hold input (the rest is room for the next read).
    filled: usize,
    /// Global offset of `buf[0]` within the current stream.
    buf_offset: u64,
    /// Inside a line longer than `MAX_LINE_BYTES` whose head was mined: drop bytes to its end.
    skipping: bool,
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
    /// Lines per detected format; `Raw` lines had no header (or fit none) and were mined whole.
    pub formats: Vec<(Format, u64)>,
    /// Lines that were not valid UTF-8 (mined with the bad bytes replaced by U+FFFD).
    pub invalid_utf8_lines: u64,
    /// Lines longer than [`MAX_LINE_BYTES`], mined from their first bytes.
    pub truncated_lines: u64,
    /// Times a stream's structure was learned again because its lines stopped fitting.
    pub relearned: u64,
    /// Statistics, when asked for.
    pub stats: Option<StatsReport>,
}

/// Whether bytes read from the start of an input look like binary data rather than text: a NUL
/// byte, or more than one byte in ten a control character other than tab, line endings and form
/// feed. Callers decide what to do (the CLI refuses such a file unless told otherwise).
pub fn looks_binary(prefix: &[u8]) -> bool {
    if prefix.is_empty() {
        return false;
    }
    if memchr::memchr(0, prefix).is_some() {
        return true;
    }
    let control = prefix
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c | 0x1b))
        .count();
    control * 10 > prefix.len()
}

/// The end (exclusive) of the last complete line in `buf[from..]`: after a `\n`, or after a
/// `\r` that is followed by something other than `\n` (a `\r` at the very end may be the first
/// half of a `\r\n`, so that line is not complete yet). `from` when there is none.
fn complete_end(buf: &[u8], from: usize) -> usize {
    let mut end = buf.len();
    while end > from {
        match memchr::memrchr2(b'\n', b'\r', &buf[from..end]) {
            None => return from,
            Some(i) => {
                let at = from + i;
                if buf[at] == b'\n' || at + 1 < buf.len() {
                    return at + 1;
                }
                end = at;
            }
        }
    }
    from
}

/// The next line of `buf[pos..end]`: its end and where the line after it starts.
#[inline]
fn next_line(buf: &[u8], pos: usize, end: usize) -> (usize, usize) {
    match memchr::memchr2(b'\n', b'\r', &buf[pos..end]) {
        Some(i) => {
            let e = pos + i;
            let next = if buf[e] == b'\r' && e + 1 < end && buf[e + 1] == b'\n' {
                e + 2
            } else {
                e + 1
            };
            (e, next)
        }
        None => (end, end),
    }
}

/// Where the `count`-th line from `pos` ends (or `end`), and how many lines there were.
fn take_lines(buf: &[u8], pos: usize, end: usize, count: usize) -> (usize, usize) {
    let mut p = pos;
    let mut k = 0;
    while p < end && k < count {
        p = next_line(buf, p, end).1;
        k += 1;
    }
    (p, k)
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
            mode: Mode::Mine,
            parser: None,
            prev_parser: None,
            recent: Vec::new(),
            quiet_until: 0,
            miner: Miner::new(),
            acc: FxHashMap::default(),
            per_line: Vec::new(),
            lines: 0,
            bytes: 0,
            formats: FxHashMap::default(),
            invalid_utf8: 0,
            truncated: 0,
            relearned: 0,
            stats,
            pool,
            buf: Vec::new(),
            filled: 0,
            buf_offset: 0,
            skipping: false,
        })
    }

    /// Bytes read at a time by [`Engine::feed_reader`]: a fixed size (not a function of the
    /// thread count, though the answer would not depend on it either).
    fn block_bytes(&self) -> usize {
        (self.opts.chunk_bytes.max(4096) * 8).min(64 << 20)
    }

    /// Reads a whole stream in bounded memory, then ends it ([`Engine::end_stream`]).
    pub fn feed_reader(&mut self, mut r: impl Read) -> Result<(), LogError> {
        loop {
            let eof = self.read_block(&mut r)?;
            self.process(false);
            if eof {
                break;
            }
        }
        self.end_stream();
        Ok(())
    }

    /// Reads up to a block into the buffer (whose bytes past `filled` stay allocated and
    /// initialized from read to read, so nothing is zeroed again); true at the end of input.
    fn read_block(&mut self, r: &mut impl Read) -> Result<bool, LogError> {
        let want = self.filled + self.block_bytes();
        if self.buf.len() < want {
            self.buf.resize(want, 0);
        }
        let start = self.filled;
        while self.filled < want {
            match r.read(&mut self.buf[self.filled..want]) {
                Ok(0) => {
                    self.bytes += (self.filled - start) as u64;
                    return Ok(true);
                }
                Ok(k) => self.filled += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.bytes += (self.filled - start) as u64;
                    return Err(LogError::Io(e));
                }
            }
        }
        self.bytes += (self.filled - start) as u64;
        Ok(false)
    }

    /// Feeds bytes; a trailing partial line is kept until the next call or [`Engine::end_stream`].
    pub fn feed(&mut self, bytes: &[u8]) {
        self.bytes += bytes.len() as u64;
        let want = self.filled + bytes.len();
        if self.buf.len() < want {
            self.buf.resize(want, 0);
        }
        self.buf[self.filled..want].copy_from_slice(bytes);
        self.filled = want;
        self.process(false);
    }

    /// Ends one input: a last line without a line ending is processed, and the next input's
    /// structure is learned afresh (the previous one is kept when it fits the new input as
    /// well, so a baseline and a window of one source share their parsing).
    pub fn end_stream(&mut self) {
        self.process(true);
        self.filled = 0;
        if self.buf.len() > 2 * self.block_bytes() + MAX_LINE_BYTES {
            // A large `feed` grew it: give the memory back.
            self.buf = Vec::new();
        }
        self.buf_offset = 0;
        self.skipping = false;
        self.quiet_until = 0;
        if let Some(p) = self.parser.take() {
            self.prev_parser = Some(p);
        }
    }

    /// Mines every complete line of the buffer that can be decided now (all of it when `last`).
    fn process(&mut self, last: bool) {
        let mut whole = std::mem::take(&mut self.buf);
        let filled = self.filled;
        let buf = &whole[..filled];
        let mut pos = 0usize;
        loop {
            if self.skipping {
                match memchr::memchr2(b'\n', b'\r', &buf[pos..]) {
                    Some(i) => {
                        let (_, next) = next_line(buf, pos + i, buf.len());
                        // A `\r` at the very end may be half of a `\r\n`: wait for the next byte.
                        if buf[pos + i] == b'\r' && pos + i + 1 == buf.len() && !last {
                            pos += i;
                            break;
                        }
                        pos = next;
                        self.skipping = false;
                    }
                    None => {
                        pos = buf.len();
                        break;
                    }
                }
            }
            let mut end = if last {
                buf.len()
            } else {
                complete_end(buf, pos)
            };
            // A partial line over the limit follows: nothing read later changes the lines
            // before it, and its head is mined now (the rest is skipped as it arrives).
            let long_tail = !last && buf.len() - end > MAX_LINE_BYTES;
            let forced = long_tail && end == pos;
            if forced {
                end = pos + MAX_LINE_BYTES;
            }
            if end <= pos {
                break;
            }
            let settled = last || long_tail;
            if self.parser.is_none() {
                let (sample_end, count) = take_lines(buf, pos, end, SAMPLE_LINES);
                if count < SAMPLE_LINES && !settled {
                    break;
                }
                self.learn(buf, pos, sample_end);
            }
            match self.run(buf, pos, end, settled) {
                Some(Stop::Relearn(at)) => {
                    pos = at;
                    let (sample_end, count) = take_lines(buf, pos, end, SAMPLE_LINES);
                    if count < SAMPLE_LINES && !settled {
                        // Learn when the sample is complete; the run's lines wait, and the next
                        // call meets the same run again.
                        break;
                    }
                    self.learn(buf, pos, sample_end);
                }
                Some(Stop::Wait(at)) => {
                    pos = at;
                    break;
                }
                None => {
                    pos = end;
                    if forced {
                        self.skipping = true;
                        if !matches!(self.mode, Mode::Assign(_)) {
                            self.truncated += 1;
                        }
                    }
                    if pos >= buf.len() {
                        break;
                    }
                }
            }
        }
        whole.copy_within(pos..filled, 0);
        self.filled = filled - pos;
        self.buf_offset += pos as u64;
        self.buf = whole;
    }

    /// Learns the structure from the lines of `buf[a..b]`, at the start of a stream or where its
    /// lines stopped fitting.
    fn learn(&mut self, buf: &[u8], a: usize, b: usize) {
        if self.opts.messages_only {
            self.parser = Some(Parser::new(Format::Raw));
            return;
        }
        let text_of =
            |s: usize, e: usize| String::from_utf8_lossy(&buf[s..e.min(s + MAX_LINE_BYTES)]);
        // A structure this run has met before that fits the new lines all but perfectly is
        // taken without learning (streams that alternate between a few formats, like several
        // files concatenated, switch back and forth cheaply).
        if !self.recent.is_empty() {
            let mut probe: Vec<Cow<'_, str>> = Vec::with_capacity(RECENT_PROBE);
            let mut p = a;
            while p < b && probe.len() < RECENT_PROBE {
                let (e, next) = next_line(buf, p, b);
                let t = text_of(p, e);
                if !t.trim().is_empty() {
                    probe.push(t);
                }
                p = next;
            }
            let probe: Vec<&str> = probe.iter().map(|t| t.as_ref()).collect();
            if probe.len() == RECENT_PROBE {
                let shape = Parser::learn_shape(&probe);
                let mut scratch = Scratch::new();
                let known = self.recent.iter().position(|p| {
                    Some(*p) != self.parser
                        && p.same_shape(&shape)
                        && probe.iter().filter(|l| !p.fits(l, &mut scratch)).count() <= 1
                });
                if let Some(i) = known {
                    let p = self.recent.remove(i);
                    self.recent.insert(0, p);
                    if self.parser.is_some() {
                        self.relearned += 1;
                    }
                    self.parser = Some(p);
                    return;
                }
            }
        }
        let mut texts: Vec<Cow<'_, str>> = Vec::new();
        let mut p = a;
        while p < b {
            let (e, next) = next_line(buf, p, b);
            texts.push(text_of(p, e));
            p = next;
        }
        let sample: Vec<&str> = texts.iter().map(|t| t.as_ref()).collect();
        let fresh = Parser::learn(&sample);
        let chosen = match self.parser {
            None => match self.prev_parser {
                Some(prev) if prev != fresh && prev.fit(&sample) >= fresh.fit(&sample) => prev,
                _ => fresh,
            },
            Some(old) => {
                let (fo, ff) = (old.fit(&sample), fresh.fit(&sample));
                if old != fresh && ff > fo + 0.1 {
                    self.relearned += 1;
                    fresh
                } else {
                    // The structure stays: these lines are odd ones (a stack trace, a burst of
                    // another format), not a new format. Do not ask again for them.
                    self.quiet_until = self.buf_offset + b as u64;
                    old
                }
            }
        };
        self.recent.retain(|p| *p != chosen);
        self.recent.insert(0, chosen);
        self.recent.truncate(RECENT_STRUCTURES);
        self.parser = Some(chosen);
    }

    /// Mines the complete lines of `buf[a..b]` with the current parser, until a misfit run says
    /// to learn again (or to wait for more input).
    fn run(&mut self, buf: &[u8], a: usize, b: usize, last: bool) -> Option<Stop> {
        let chunks = split_chunks(buf, a, b, self.opts.chunk_bytes.max(1));
        // A copy of the options, so the fold below can borrow `self` mutably while the context
        // borrows them; once per block, not per line.
        let opts = self.opts.clone();
        let quiet = (self.quiet_until.saturating_sub(self.buf_offset)).min(usize::MAX as u64);
        let ctx = Ctx {
            parser: self.parser.unwrap_or(Parser::new(Format::Raw)),
            opts: &opts,
            buf,
            window_end: b,
            last,
            quiet_until: quiet as usize,
            stopped_at: std::sync::atomic::AtomicUsize::new(usize::MAX),
        };
        // In waves of one chunk per thread, so a chunk that says to learn again wastes at most
        // the rest of its wave.
        let wave = self
            .pool
            .as_ref()
            .map_or(1, |p| p.current_num_threads())
            .max(1);
        for group in chunks.chunks(wave) {
            let outs: Vec<ChunkOut> = match &self.pool {
                Some(pool) if group.len() > 1 => {
                    pool.install(|| group.par_iter().map(|&(s, e)| ctx.chunk(s, e)).collect())
                }
                _ => group.iter().map(|&(s, e)| ctx.chunk(s, e)).collect(),
            };
            for out in outs {
                let stop = out.stop;
                self.fold(out, &ctx);
                if stop.is_some() {
                    return stop;
                }
            }
        }
        None
    }

    fn fold(&mut self, out: ChunkOut, ctx: &Ctx<'_>) {
        let base = self.lines;
        let mut local_to_t: Vec<TemplateIdx> = Vec::with_capacity(out.sigs.len());
        if let Mode::Assign(ids) = &mut self.mode {
            for &(a, b) in &out.sigs {
                let sig = &out.arena[a as usize..b as usize];
                local_to_t.push(self.miner.lookup(sig).unwrap_or(TemplateIdx::MAX));
            }
            let miner = &self.miner;
            ids.extend(out.per_line.iter().map(|&l| {
                let t = local_to_t[l as usize];
                if t == TemplateIdx::MAX {
                    let (a, b) = out.sigs[l as usize];
                    crate::miner::template_id(&out.arena[a as usize..b as usize])
                } else {
                    miner.id(t)
                }
            }));
            self.lines += out.lines;
            return;
        }
        for (i, &(a, b)) in out.sigs.iter().enumerate() {
            let sig = &out.arena[a as usize..b as usize];
            let t = self.miner.add(sig);
            local_to_t.push(t);
            let src = &out.acc[i];
            let e = self.acc.entry(t).or_default();
            if e.count == 0 {
                e.first_line = base + src.first_line;
                e.first_seen = ctx.ts_text(src.first_ts).map(Cow::into_owned);
            }
            e.count += src.count;
            e.last_line = base + src.last_line;
            if let Some(ts) = ctx.ts_text(src.last_ts) {
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
                let end = ex.end.min(ex.start + MAX_EXAMPLE_BYTES);
                e.examples
                    .push(String::from_utf8_lossy(&ctx.buf[ex.start..end]).into_owned());
                x = ex.next;
            }
        }
        if self.opts.per_line {
            self.per_line
                .extend(out.per_line.iter().map(|&l| local_to_t[l as usize]));
        }
        for (f, n) in FORMATS.into_iter().zip(out.formats) {
            if n > 0 {
                *self.formats.entry(f).or_default() += n;
            }
        }
        self.invalid_utf8 += out.invalid_utf8;
        self.truncated += out.truncated;
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
            invalid_utf8: std::mem::take(&mut self.invalid_utf8),
            truncated: std::mem::take(&mut self.truncated),
            relearned: std::mem::take(&mut self.relearned),
            stats: self.stats.as_mut().map(|st| {
                let fresh = Stats::new(self.opts.stats.clone().unwrap_or_default());
                std::mem::replace(st, fresh)
            }),
        }
    }

    /// Finishes the run: templates merged during the run are combined under the survivor.
    pub fn finish(mut self) -> MineResult {
        let seg = self.checkpoint();
        self.miner.settle();
        self.report(seg)
    }

    /// Finishes a run cut into segments with [`Engine::checkpoint`] (the part after the last
    /// checkpoint is the last result).
    pub fn finish_segments(mut self, mut segments: Vec<Segment>) -> Vec<MineResult> {
        let last = self.checkpoint();
        segments.push(last);
        self.miner.settle();
        segments.into_iter().map(|s| self.report(s)).collect()
    }

    /// Finishes the run like [`Engine::finish`] (without `per_line`), and returns an
    /// [`Assigner`] that reads the same input again and gives every line's template id in
    /// order, holding nothing per line: the per-line answer of a multi-gigabyte file in bounded
    /// memory.
    pub fn into_assigner(mut self) -> (MineResult, Assigner) {
        let seg = self.checkpoint();
        self.miner.settle();
        let result = self.report(seg);
        self.mode = Mode::Assign(Vec::new());
        self.opts.per_line = true;
        self.opts.stats = None;
        self.opts.examples = 0;
        self.prev_parser = None;
        (result, Assigner { engine: self })
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
        let mut ids: FxHashMap<TemplateIdx, String> = FxHashMap::default();
        let mut id_of = |t: TemplateIdx| -> String {
            let r = miner.resolve(t);
            ids.entry(r)
                .or_insert_with(|| format!("{:016x}", miner.id(r)))
                .clone()
        };
        let mut templates: Vec<TemplateInfo> = merged
            .into_iter()
            .map(|(t, a)| TemplateInfo {
                id: id_of(t),
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
        let per_line = seg.per_line.iter().map(|&t| id_of(t)).collect();
        let mut formats: Vec<(Format, u64)> = seg.formats.into_iter().collect();
        formats.sort_by_key(|&(f, n)| (std::cmp::Reverse(n), f as u8));
        MineResult {
            templates,
            per_line,
            lines: seg.lines,
            bytes: seg.bytes,
            formats,
            invalid_utf8_lines: seg.invalid_utf8,
            truncated_lines: seg.truncated,
            relearned: seg.relearned,
            stats: seg.stats.map(|s| s.finish(miner)),
        }
    }
}

impl Engine {
    /// Hands the ids assigned so far to `out` and forgets them.
    fn emit_assigned(
        &mut self,
        out: &mut impl FnMut(&str) -> std::io::Result<()>,
    ) -> Result<(), LogError> {
        if let Mode::Assign(ids) = &mut self.mode {
            let mut text = [0u8; 16];
            let res = ids.iter().try_for_each(|&id| out(hex16(id, &mut text)));
            ids.clear();
            res?;
        }
        Ok(())
    }
}

/// The second pass of a run (see [`Engine::into_assigner`]): the same input again, each line's
/// template id out in order.
#[derive(Debug)]
pub struct Assigner {
    engine: Engine,
}

impl Assigner {
    /// Reads one input (the same inputs, in the same order, as the mining run) and calls `out`
    /// with every line's template id (16 hex digits), in order.
    pub fn assign_reader(
        &mut self,
        r: impl Read,
        mut out: impl FnMut(&str) -> std::io::Result<()>,
    ) -> Result<(), LogError> {
        // Read block by block, handing the ids out after each, so nothing accumulates.
        let e = &mut self.engine;
        let mut r = r;
        loop {
            let eof = e.read_block(&mut r)?;
            e.process(false);
            e.emit_assigned(&mut out)?;
            if eof {
                break;
            }
        }
        e.end_stream();
        e.emit_assigned(&mut out)
    }

    /// Lines assigned so far.
    pub fn lines(&self) -> u64 {
        self.engine.lines
    }
}

fn hex16(v: u64, out: &mut [u8; 16]) -> &str {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for (i, o) in out.iter_mut().enumerate() {
        *o = HEX[((v >> (60 - 4 * i)) & 0xf) as usize];
    }
    std::str::from_utf8(out).unwrap_or_default()
}

/// Part of a run closed by [`Engine::checkpoint`], resolved by [`Engine::finish_segments`].
#[derive(Debug)]
pub struct Segment {
    acc: FxHashMap<TemplateIdx, Acc>,
    per_line: Vec<TemplateIdx>,
    lines: u64,
    bytes: u64,
    formats: FxHashMap<Format, u64>,
    invalid_utf8: u64,
    truncated: u64,
    relearned: u64,
    stats: Option<Stats>,
}

struct Ctx<'o> {
    parser: Parser,
    opts: &'o MineOptions,
    buf: &'o [u8],
    /// End of the lines that have been read (a misfit run is followed up to here).
    window_end: usize,
    /// Nothing follows `window_end` in this stream.
    last: bool,
    /// Misfits of lines starting before this offset do not count.
    quiet_until: usize,
    /// The earliest offset where a chunk of the current wave stopped: chunks after it will be
    /// discarded, so they give up early.
    stopped_at: std::sync::atomic::AtomicUsize,
}

/// Where the timestamp of a line is in the buffer, so `first_seen` and `last_seen` can be filled
/// in without keeping a copy per signature, nor parsing the line again.
#[derive(Debug, Clone, Copy)]
enum TsAt {
    /// The line had no timestamp.
    None,
    /// Byte range in the buffer (the line was valid UTF-8 and the timestamp borrowed from it).
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

/// One line as the chunk loop sees it.
struct LineText<'b> {
    text: Cow<'b, str>,
    /// Bytes of the line that were mined (`end - start` unless cut at `MAX_LINE_BYTES`).
    end: usize,
    invalid: bool,
    truncated: bool,
}

impl Ctx<'_> {
    /// The text of a timestamp recorded by [`Ctx::chunk`].
    fn ts_text(&self, at: TsAt) -> Option<Cow<'_, str>> {
        match at {
            TsAt::None => None,
            TsAt::At(s, e) => Some(String::from_utf8_lossy(&self.buf[s..e])),
            TsAt::Reparse(s, e) => {
                let text = String::from_utf8_lossy(&self.buf[s..e]);
                let rec = self.parser.parse(&text);
                rec.time_text.as_deref().map(|t| Cow::Owned(t.to_owned()))
            }
        }
    }

    /// The text of the line `buf[s..e]`, borrowing from `valid` (the chunk, when all of it is
    /// valid UTF-8 and starts at `base`) where it can.
    #[inline]
    fn line_text<'b>(
        &'b self,
        valid: Option<&'b str>,
        base: usize,
        s: usize,
        e: usize,
    ) -> LineText<'b> {
        let cut = e - s > MAX_LINE_BYTES;
        let end = if cut { s + MAX_LINE_BYTES } else { e };
        match valid {
            Some(t) if !cut => LineText {
                text: Cow::Borrowed(&t[s - base..e - base]),
                end,
                invalid: false,
                truncated: false,
            },
            _ => {
                let raw = &self.buf[s..end];
                let invalid = std::str::from_utf8(raw).is_err();
                LineText {
                    text: String::from_utf8_lossy(raw),
                    end,
                    // A cut through a multi-byte character is the cut's doing, not the line's.
                    invalid: invalid && (!cut || std::str::from_utf8(&self.buf[s..e]).is_err()),
                    truncated: cut,
                }
            }
        }
    }

    /// Whether the line at `s..e` fits the parser (for following a misfit run past a chunk).
    fn fits(&self, s: usize, e: usize, scratch: &mut Scratch) -> bool {
        let end = e.min(s + MAX_LINE_BYTES);
        let text = String::from_utf8_lossy(&self.buf[s..end]);
        if text.trim().is_empty() {
            return true;
        }
        self.parser.parse_in(&text, scratch).1
    }

    /// Mines the lines of `buf[a..b]`. Stops early (see [`Stop`]) where a run of misfits
    /// starts that reaches [`MISFIT_RUN`] lines, following it past `b` when needed. Misfits
    /// wait (unmined) until a fitting line shows the run is over, so no line is mined twice nor
    /// mined and then taken back.
    fn chunk(&self, a: usize, b: usize) -> ChunkOut {
        let mut st = ChunkState {
            out: ChunkOut::default(),
            local: FxHashMap::default(),
            sig: Vec::with_capacity(256),
            stats: self.opts.stats.as_ref().map(ChunkStats::new),
            line_no: 0,
        };
        // Validating UTF-8 once per stretch of lines is much cheaper than once per line;
        // slicing the validated text at line ends (ASCII, so always a char boundary) then needs
        // no check. Only a stretch holding invalid bytes falls back to per-line lossy
        // conversion. (Stretches, not the whole chunk: a chunk that stops early to learn again
        // would validate bytes it never mines.)
        let mut valid: Option<&str> = None;
        let (mut seg_start, mut seg_end) = (a, a);
        let mut scratch = Scratch::new();
        let watch = !self.opts.messages_only;
        let mut pending: Vec<(usize, usize)> = Vec::new();
        let mut pos = a;
        let mut since_check = 0u32;
        while pos < b {
            since_check += 1;
            if since_check >= 256 {
                since_check = 0;
                if self.stopped_at.load(std::sync::atomic::Ordering::Relaxed) < a {
                    // An earlier chunk of this wave stopped: this one will be thrown away.
                    return st.finish();
                }
            }
            let (end, next) = next_line(self.buf, pos, b);
            let s = pos;
            pos = next;
            if end > seg_end {
                seg_start = s;
                seg_end = next_line(self.buf, (s + UTF8_STRETCH).min(b), b)
                    .1
                    .max(next);
                valid = std::str::from_utf8(&self.buf[seg_start..seg_end]).ok();
            }
            let lt = self.line_text(valid, seg_start, s, end);
            if !watch {
                self.mine_line(&mut st, s, &lt, None);
                continue;
            }
            let (rec, fits) = self.parser.parse_in(&lt.text, &mut scratch);
            if !fits && s >= self.quiet_until && !lt.text.trim().is_empty() {
                pending.push((s, end));
                if pending.len() >= MISFIT_RUN {
                    st.out.stop = Some(Stop::Relearn(pending[0].0));
                    self.stopped_at
                        .fetch_min(pending[0].0, std::sync::atomic::Ordering::Relaxed);
                    return st.finish();
                }
                continue;
            }
            self.flush(&mut st, &mut pending, &mut scratch);
            self.mine_line(&mut st, s, &lt, Some(&rec));
        }
        if !pending.is_empty() {
            // A run open at the end of the chunk: follow it into the lines after.
            let mut run = pending.len();
            let mut p = b;
            let mut broken = false;
            while p < self.window_end && run < MISFIT_RUN {
                let (e, next) = next_line(self.buf, p, self.window_end);
                if p < self.quiet_until || self.fits(p, e, &mut scratch) {
                    broken = true;
                    break;
                }
                run += 1;
                p = next;
            }
            if run >= MISFIT_RUN {
                st.out.stop = Some(Stop::Relearn(pending[0].0));
                return st.finish();
            }
            if !broken && !self.last {
                st.out.stop = Some(Stop::Wait(pending[0].0));
                return st.finish();
            }
            self.flush(&mut st, &mut pending, &mut scratch);
        }
        st.finish()
    }

    /// Mines the misfit lines held back in `pending` (validated line by line: they are few).
    fn flush(&self, st: &mut ChunkState, pending: &mut Vec<(usize, usize)>, scratch: &mut Scratch) {
        for &(s, e) in pending.iter() {
            let lt = self.line_text(None, s, s, e);
            let (rec, _) = self.parser.parse_in(&lt.text, scratch);
            self.mine_line(st, s, &lt, Some(&rec));
        }
        pending.clear();
    }

    /// Mines one line (`rec` is its parse; `None` when only messages are mined).
    #[inline]
    fn mine_line(
        &self,
        st: &mut ChunkState,
        line_start: usize,
        lt: &LineText<'_>,
        rec: Option<&Record<'_>>,
    ) {
        let out = &mut st.out;
        st.line_no += 1;
        let line_no = st.line_no;
        out.invalid_utf8 += u64::from(lt.invalid);
        out.truncated += u64::from(lt.truncated);
        let text = &lt.text;
        let msg: &str = match rec {
            Some(r) => &r.message,
            None => text.strip_suffix('\r').unwrap_or(text),
        };
        let sig = &mut st.sig;
        mask::signature(msg.as_bytes(), sig);
        let time_text = rec.and_then(|r| r.time_text.as_ref());
        let ts_at = match (time_text, text) {
            (None, _) => TsAt::None,
            (Some(Cow::Borrowed(t)), Cow::Borrowed(line)) => {
                // The timestamp is a slice of the line: find where, by address.
                let off = (t.as_ptr() as usize).wrapping_sub(line.as_ptr() as usize);
                if off <= line.len() && off + t.len() <= line.len() {
                    TsAt::At(line_start + off, line_start + off + t.len())
                } else {
                    TsAt::Reparse(line_start, lt.end)
                }
            }
            (Some(_), _) => TsAt::Reparse(line_start, lt.end),
        };
        let li = match st.local.get(sig.as_slice()) {
            Some(&i) => i,
            None => {
                let i = out.sigs.len() as u32;
                let s = out.arena.len() as u32;
                out.arena.extend_from_slice(sig);
                out.sigs.push((s, out.arena.len() as u32));
                st.local.insert(sig.as_slice().into(), i);
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
        let acc = &mut out.acc[li as usize];
        acc.count += 1;
        acc.last_line = line_no;
        acc.last_ts = ts_at;
        if (acc.ex_len as usize) < self.opts.examples {
            let x = out.examples.len() as u32;
            out.examples.push(Example {
                start: line_start,
                end: lt.end,
                next: NO_EXAMPLE,
            });
            if acc.ex_tail == NO_EXAMPLE {
                acc.ex_head = x;
            } else {
                out.examples[acc.ex_tail as usize].next = x;
            }
            acc.ex_tail = x;
            acc.ex_len += 1;
        }
        if self.opts.per_line {
            out.per_line.push(li);
        }
        let format = rec.map_or(Format::Raw, |r| r.format);
        out.formats[format as usize] += 1;
        if let (Some(cs), Some(r)) = (st.stats.as_mut(), rec) {
            let ts = r.timestamp(&self.opts.time_defaults);
            let level: Option<Level> = r.level;
            cs.add(li, ts, level, r.service.as_deref(), &r.fields);
        }
    }
}

/// A chunk being mined.
struct ChunkState {
    out: ChunkOut,
    local: FxHashMap<Box<[u8]>, u32>,
    sig: Vec<u8>,
    stats: Option<ChunkStats>,
    line_no: u64,
}

impl ChunkState {
    fn finish(mut self) -> ChunkOut {
        self.out.lines = self.line_no;
        self.out.stats = self.stats;
        self.out
    }
}

/// Cuts `buf[a..b]` into ranges of about `target` bytes ending at line ends.
fn split_chunks(buf: &[u8], a: usize, b: usize, target: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = a;
    while start < b {
        let mut end = (start + target).min(b);
        if end < b {
            // Through the next line ending (`\r\n` kept together).
            end = next_line(buf, end, b).1;
        }
        out.push((start, end));
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

    fn mine_with(text: &[u8], chunk_bytes: usize, feed_bytes: usize, threads: usize) -> MineResult {
        let mut e = Engine::new(MineOptions {
            threads,
            chunk_bytes,
            per_line: true,
            examples: 2,
            ..MineOptions::default()
        })
        .expect("engine");
        for piece in text.chunks(feed_bytes.max(1)) {
            e.feed(piece);
        }
        e.end_stream();
        e.finish()
    }

    #[test]
    fn examples_and_times_survive_chunking() {
        // Tiny chunks: every signature spans many chunks, so examples, first and last seen are
        // put together by the fold from byte ranges of different chunks.
        let text = "2024-01-02 10:00:00,001 INFO [main] a.B: started worker 1\n\
                    2024-01-02 10:00:01,002 INFO [main] a.B: started worker 2\n\
                    2024-01-02 10:00:02,003 INFO [main] a.B: started worker 3\n\
                    2024-01-02 10:00:03,004 INFO [main] a.B: started worker 4\n";
        for t in [
            mine_with(text.as_bytes(), 1, 1 << 20, 1).templates,
            mine_with(text.as_bytes(), 1 << 20, 1 << 20, 1).templates,
        ] {
            assert_eq!(t.len(), 1);
            assert_eq!(t[0].count, 4);
            assert_eq!(t[0].template, "started worker <*>");
            assert_eq!(t[0].first_seen.as_deref(), Some("2024-01-02 10:00:00,001"));
            assert_eq!(t[0].last_seen.as_deref(), Some("2024-01-02 10:00:03,004"));
            assert_eq!(t[0].examples.len(), 2);
            assert!(t[0].examples[1].ends_with("worker 2"));
        }
    }

    #[test]
    fn line_endings_are_all_line_endings() {
        let lf = "a 1\nb 2\nc 3\n";
        for text in [
            lf.to_owned(),
            lf.replace('\n', "\r\n"),
            lf.replace('\n', "\r"),
        ] {
            for feed in [1, 2, 3, 1000] {
                let r = mine_with(text.as_bytes(), 2, feed, 1);
                assert_eq!(r.lines, 3, "{text:?} fed {feed} at a time");
                let t: Vec<&str> = r.templates.iter().map(|t| t.template.as_str()).collect();
                assert!(t.contains(&"a <*>") && t.contains(&"c <*>"), "{t:?}");
            }
        }
    }

    #[test]
    fn answers_do_not_depend_on_reads_chunks_or_threads() {
        let mut text = String::new();
        for i in 0..300 {
            text.push_str(&format!(
                "2024-01-02 10:00:{:02},001 INFO [main] a.B: step {i} done\n",
                i % 60
            ));
        }
        for i in 0..300 {
            text.push_str(&format!(
                "Jun 14 15:16:{:02} host sshd[{i}]: accepted key for user{}\n",
                i % 60,
                i % 7
            ));
            if i % 50 == 0 {
                text.push_str("\tat some.Trace(Trace.java:1)\n");
            }
        }
        let want = mine_with(text.as_bytes(), 1 << 20, 1 << 20, 1);
        assert!(want.relearned >= 1);
        for (chunk, feed, threads) in [(64, 7, 1), (1000, 333, 2), (1 << 20, 1, 1), (10, 4096, 2)] {
            let got = mine_with(text.as_bytes(), chunk, feed, threads);
            assert_eq!(
                got.per_line, want.per_line,
                "chunk {chunk}, feed {feed}, threads {threads}"
            );
        }
    }

    /// A reader of `total` bytes made on the fly by `f(offset)`, so tests can feed gigabytes
    /// without holding them.
    struct Generated<F: FnMut(u64) -> u8> {
        total: u64,
        at: u64,
        f: F,
    }

    impl<F: FnMut(u64) -> u8> Read for Generated<F> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = (buf.len() as u64).min(self.total - self.at) as usize;
            for b in &mut buf[..n] {
                *b = (self.f)(self.at);
                self.at += 1;
            }
            Ok(n)
        }
    }

    fn engine(per_line: bool) -> Engine {
        Engine::new(MineOptions {
            threads: 1,
            per_line,
            ..MineOptions::default()
        })
        .expect("engine")
    }

    #[test]
    fn an_empty_input_is_zero_lines() {
        let mut e = engine(true);
        e.feed_reader(&b""[..]).expect("read");
        let r = e.finish();
        assert_eq!((r.lines, r.templates.len(), r.per_line.len()), (0, 0, 0));
    }

    #[test]
    fn a_ten_megabyte_line_is_mined_from_its_head_in_bounded_memory() {
        let total = 10 << 20;
        let mut e = engine(true);
        e.feed_reader(Generated {
            total,
            at: 0,
            f: |i| {
                if i % 7 == 6 {
                    b' '
                } else {
                    b'a' + (i % 26) as u8
                }
            },
        })
        .expect("read");
        // Never more than a block, a line's head and some slack in memory.
        assert!(
            e.buf.len() <= e.block_bytes() + 2 * MAX_LINE_BYTES,
            "{}",
            e.buf.len()
        );
        let r = e.finish();
        assert_eq!((r.lines, r.truncated_lines), (1, 1));
        assert_eq!(r.templates[0].examples[0].len(), MAX_EXAMPLE_BYTES);
        // The same through `feed` in small pieces.
        let mut e = engine(true);
        let line: Vec<u8> = (0..total).map(|i| b'a' + (i % 26) as u8).collect();
        for piece in line.chunks(1 << 16) {
            e.feed(piece);
            assert!(e.filled <= 2 * MAX_LINE_BYTES + (1 << 16));
        }
        e.feed(b"\nnext line 1\n");
        let r = e.finish();
        assert_eq!((r.lines, r.truncated_lines), (2, 1));
    }

    #[test]
    fn binary_input_is_said_and_mined_without_panic_in_bounded_memory() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let bytes: Vec<u8> = (0..(4 << 20))
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        assert!(looks_binary(&bytes[..65536]));
        assert!(!looks_binary(b"2024-01-02 10:00:00 INFO fine\n"));
        let mut e = engine(false);
        e.feed_reader(bytes.as_slice()).expect("read");
        let r = e.finish();
        assert!(r.lines > 0);
        assert!(r.invalid_utf8_lines > 0);
    }

    #[test]
    fn a_format_change_halfway_is_learned_again() {
        let mut text = String::new();
        for i in 0..300 {
            text.push_str(&format!(
                "2024-01-02 10:{:02}:{:02},123 INFO [main] app.Api: served request {i} in {} ms\n",
                i / 60,
                i % 60,
                i % 50
            ));
        }
        for i in 0..300 {
            text.push_str(&format!(
                "{{\"ts\":\"2024-01-02T11:00:{:02}Z\",\"level\":\"warn\",\"msg\":\"slow query\",\"ms\":{i}}}\n",
                i % 60
            ));
        }
        let mut e = engine(true);
        e.feed_reader(text.as_bytes()).expect("read");
        let r = e.finish();
        assert_eq!(r.relearned, 1);
        assert!(r.formats.contains(&(Format::Json, 300)), "{:?}", r.formats);
        let t: Vec<&str> = r.templates.iter().map(|t| t.template.as_str()).collect();
        assert_eq!(t.len(), 2, "{t:?}");
        assert!(t.contains(&"served request <*> in <*>") && t.contains(&"slow query"));
    }

    #[test]
    fn invalid_utf8_lines_are_mined_lossily_and_counted() {
        let mut e = engine(true);
        e.feed(b"2024-01-02 10:00:00 INFO user \xff\xfe logged in\n2024-01-02 10:00:01 INFO ok\n");
        let r = e.finish();
        assert_eq!((r.lines, r.invalid_utf8_lines), (2, 1));
    }

    #[test]
    fn ids_are_the_same_across_runs_files_and_windows() {
        let a = "2024-01-02 10:00:00,001 INFO [main] a.B: started worker 1\n\
                 2024-01-02 10:00:01,001 WARN [main] a.B: disk 91% full on /data\n";
        let b = "Jan  2 10:00:00 host app[1]: started worker 7\n";
        let mine = |text: &str| {
            let mut e = engine(false);
            e.feed(text.as_bytes());
            e.finish().templates
        };
        let id_of = |ts: &[TemplateInfo], t: &str| {
            ts.iter()
                .find(|x| x.template == t)
                .map(|x| x.id.clone())
                .expect("template")
        };
        let one = mine(a);
        let two = mine(b);
        let id = id_of(&one, "started worker <*>");
        assert_eq!(id, id_of(&two, "started worker <*>"));
        assert_eq!(
            id,
            format!("{:016x}", crate::miner::template_id(b"started worker <*>"))
        );
        // A baseline and a window of the same traffic: one id space, nothing new.
        let mut e = engine(false);
        e.feed(a.as_bytes());
        let base = e.checkpoint();
        e.feed(a.as_bytes());
        let r = e.finish_segments(vec![base]);
        let ids = |r: &MineResult| {
            let mut v: Vec<String> = r.templates.iter().map(|t| t.id.clone()).collect();
            v.sort();
            v
        };
        assert_eq!(ids(&r[0]), ids(&r[1]));
    }

    #[test]
    fn the_second_pass_gives_the_ids_of_the_first() {
        let mut text = String::new();
        for i in 0..2000 {
            text.push_str(&format!(
                "2024-01-02 10:00:{:02},001 INFO [w-{}] a.B: job {} took {} ms for user{}\r\n",
                i % 60,
                i % 3,
                i,
                i % 97,
                i % 5
            ));
            if i % 400 == 0 {
                text.push_str("Jan  2 10:00:00 host app[1]: a syslog line in between\r\n");
            }
        }
        let mut e = Engine::new(MineOptions {
            threads: 2,
            per_line: true,
            chunk_bytes: 4096,
            ..MineOptions::default()
        })
        .expect("engine");
        e.feed_reader(text.as_bytes()).expect("read");
        let want = e.finish().per_line;
        let mut e = Engine::new(MineOptions {
            threads: 2,
            chunk_bytes: 4096,
            ..MineOptions::default()
        })
        .expect("engine");
        e.feed_reader(text.as_bytes()).expect("read");
        let (r, mut assigner) = e.into_assigner();
        assert!(r.per_line.is_empty());
        let mut got = Vec::new();
        assigner
            .assign_reader(text.as_bytes(), |id| {
                got.push(id.to_owned());
                Ok(())
            })
            .expect("assign");
        assert_eq!(got, want);
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_in_any_pieces_are_mined_the_same(
            bytes in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::num::u8::ANY,
                    proptest::strategy::Just(b'\n'),
                    proptest::strategy::Just(b'\r'),
                    proptest::strategy::Just(b' '),
                ],
                0..3000,
            ),
            piece in 1usize..700,
        ) {
            let whole = mine_with(&bytes, 512, bytes.len().max(1), 1);
            let cut = mine_with(&bytes, 512, piece, 2);
            proptest::prop_assert_eq!(whole.per_line, cut.per_line);
            proptest::prop_assert_eq!(whole.lines, cut.lines);
        }
    }
}
