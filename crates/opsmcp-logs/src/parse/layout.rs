//! Learning a stream's header from its lines: which leading columns are the header and where the
//! message starts, without a list of known formats.
//!
//! A line's first tokens are cut (whitespace separated; `[…]` is one token even with spaces
//! inside, and `][` splits) and each token gets a *class* from its shape alone: a number or date
//! or time piece (`2024-01-02`, `10:15:30,123`, `081109`, `1700000000.5`, `+0000`), a month or
//! weekday name, a level word (`INFO`, `[warn]`, `Warning:`), a single level letter (`I`, `W,`),
//! a letter with a month and day (`I1204`, as glog/klog write it), a bracketed field (`[main]`,
//! `<0.12.0>`), a `key=value` pair, a separator (`-`, `|`, `--`, `*`), a tag (`sshd[42]:`,
//! `org.foo.Bar:`, `LOG:`), a word with digits (`node-12`), or a word.
//!
//! Over a sample of the stream's lines, each column position is then judged by how its tokens
//! vary: a position that holds a *typed* token (any class above but words and tags) in nearly
//! every line is a header column; words between header columns (a host, a component, a category)
//! are header columns too; the header ends at the last typed column, or through the first
//! position that holds a tag in most lines. After a level column at most one word may separate
//! typed columns (a message starts soon after its level). Each header column remembers which
//! classes it took in the sample, so a line that does not fit (a stack trace, another format) is
//! recognized and parsed on its own. When nothing qualifies, there is no header and the whole
//! line is the message.
//!
//! Nothing here names a format: syslog (`Jun 14 15:16:01 host tag[pid]:`), log4j/logback
//! (`2024-01-02 10:15:30,123 INFO [main] a.b.C: msg`), Python (`… - name - LEVEL - msg`), glog
//! (`I1204 10:15:30.123456 42 file.go:12] msg`), Android, Windows, HPC-style numeric columns and
//! the rest come out of the same column statistics.

use super::Level;

/// Token positions looked at.
pub const MAX_COLS: usize = 16;

/// Share of sample lines a position must be typed in (and present in) to be a header column.
const TYPED_SHARE: f64 = 0.9;
/// Share of sample lines whose token at a position is a tag for the header to end there.
const TAG_SHARE: f64 = 0.6;
/// Share of a column's tokens that must be level words for it to be the level column.
const LEVEL_SHARE: f64 = 0.8;
/// A class seen in at least this share of a column's tokens is accepted there in other lines.
const ACCEPT_SHARE: f64 = 0.02;
/// Untyped columns allowed between two typed ones (before a level column / after it).
const MAX_GAP: usize = 3;
const MAX_GAP_AFTER_LEVEL: usize = 1;
/// Bytes a `[` token may span to its `]`.
const MAX_BRACKET: usize = 128;

/// Token classes (one per token; the first that applies in this order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Class {
    /// Level letter with month and day: `I1204`.
    Klog = 0,
    /// Digits with date/time/number separators: `2024-01-02`, `10:15:30,123`, `+0000`.
    Num,
    /// Month or weekday name.
    Cal,
    /// Level word, possibly bracketed or with a trailing `:`/`,`.
    Level,
    /// A single level letter (`I`, `W,`, `E/`).
    Letter,
    /// `[…]`, `<…>`, `(…)`.
    Bracket,
    /// `key=value`.
    Kv,
    /// A source location: `main.go:42`, `server/conn.go:118`, `App.java:507`.
    Loc,
    /// Punctuation only (`-`, `|`, `--`, `*`).
    Sep,
    /// Ends with `:` (`sshd[42]:`, `a.b.C:`), or with `]` without an opening one (`file.go:12]`).
    Tag,
    /// A word with a digit (`node-12`, `host3`).
    IdWord,
    /// Anything else.
    Word,
}

const N_CLASSES: usize = 12;
const ALL: u16 = (1 << N_CLASSES) - 1;

impl Class {
    const fn bit(self) -> u16 {
        1 << self as u8
    }
    /// Typed classes make header columns by themselves.
    const fn typed(self) -> bool {
        !matches!(self, Class::Tag | Class::IdWord | Class::Word)
    }
}

const MONTHS: [&[u8; 3]; 12] = [
    b"jan", b"feb", b"mar", b"apr", b"may", b"jun", b"jul", b"aug", b"sep", b"oct", b"nov", b"dec",
];
const DAYS: [&[u8; 3]; 7] = [b"mon", b"tue", b"wed", b"thu", b"fri", b"sat", b"sun"];

const fn pack3(a: u8, b: u8, c: u8) -> u32 {
    (a as u32) << 16 | (b as u32) << 8 | c as u32
}

/// `MONTHS` and `DAYS` as numbers (see [`is_calendar`]).
const CALENDAR: [u32; 19] = {
    let mut out = [0u32; 19];
    let mut i = 0;
    while i < 19 {
        let m = if i < 12 { MONTHS[i] } else { DAYS[i - 12] };
        out[i] = pack3(m[0], m[1], m[2]);
        i += 1;
    }
    out
};

/// Month or weekday name, three letters or in full (`Jan`, `january`, `Tue,`).
fn is_calendar(t: &[u8]) -> bool {
    let t = t
        .strip_suffix(b",")
        .or_else(|| t.strip_suffix(b"."))
        .unwrap_or(t);
    if t.len() < 3 || t.len() > 9 {
        return false;
    }
    // The three-letter prefix, lower-cased, as one number compared with 19 numbers.
    let p = pack3(
        t[0].to_ascii_lowercase(),
        t[1].to_ascii_lowercase(),
        t[2].to_ascii_lowercase(),
    );
    if !CALENDAR.contains(&p) || !t.iter().all(u8::is_ascii_alphabetic) {
        return false;
    }
    if t.len() == 3 {
        return true;
    }
    // A full name: the known ones only, so `Sunny` or `Maybe` are not dates.
    const FULL: [&[u8]; 19] = [
        b"january",
        b"february",
        b"march",
        b"april",
        b"may",
        b"june",
        b"july",
        b"august",
        b"september",
        b"october",
        b"november",
        b"december",
        b"monday",
        b"tuesday",
        b"wednesday",
        b"thursday",
        b"friday",
        b"saturday",
        b"sunday",
    ];
    let sept = t.len() == 4 && t.eq_ignore_ascii_case(b"sept");
    sept || FULL.iter().any(|f| t.eq_ignore_ascii_case(f))
}

/// Level letters as single-letter levels write them.
fn letter_level(b: u8) -> Option<Level> {
    match b {
        b'V' | b'T' => Some(Level::Trace),
        b'D' => Some(Level::Debug),
        b'I' => Some(Level::Info),
        b'N' => Some(Level::Notice),
        b'W' => Some(Level::Warn),
        b'E' => Some(Level::Error),
        b'F' | b'A' | b'C' => Some(Level::Fatal),
        _ => None,
    }
}

/// Strips one pair of enclosing brackets and trailing `:`/`,` (`[INFO]`, `<warn>:`, `(E)`).
fn strip_decor(t: &[u8]) -> &[u8] {
    let t = t
        .strip_suffix(b":")
        .or_else(|| t.strip_suffix(b","))
        .unwrap_or(t);
    if t.len() >= 2
        && matches!(
            (t[0], t[t.len() - 1]),
            (b'[', b']') | (b'<', b'>') | (b'(', b')') | (b'{', b'}')
        )
    {
        t[1..t.len() - 1].trim_ascii()
    } else {
        t
    }
}

/// The level a token names: a level word (decorated or not, `INFO[0000]`), or a level letter
/// when `letters`, or the letter of a `I1204` token.
pub fn level_of(t: &[u8], letters: bool) -> Option<Level> {
    let s = strip_decor(t);
    if s.len() == 1 {
        return if letters { letter_level(s[0]) } else { None };
    }
    if let Some(l) = Level::from_word(s) {
        return Some(l);
    }
    // `INFO[0000]`, `WARN[0001]`: a level glued to a bracket.
    if let Some(i) = s.iter().position(|&b| b == b'[')
        && i >= 3
        && s.ends_with(b"]")
    {
        return Level::from_word(&s[..i]);
    }
    if is_klog(t) {
        return letter_level(t[0]);
    }
    None
}

/// `I1204`: a level letter, then month and day.
fn is_klog(t: &[u8]) -> bool {
    t.len() == 5
        && letter_level(t[0]).is_some()
        && t[1..].iter().all(u8::is_ascii_digit)
        && matches!(t[1..3], [b'0', b'1'..=b'9'] | [b'1', b'0'..=b'2'])
}

// Byte bits OR-ed over a token while it is cut, so classifying it needs no second pass for
// the common answers (a number, a word without digits).
const B_DIGIT: u8 = 1;
const B_ALPHA: u8 = 2;
const B_EQ: u8 = 4;
const B_LBRACKET: u8 = 8;
/// Not punctuation.
const B_NONPUNCT: u8 = 16;
/// Not a character of numbers, dates and times (digits and `-:./,+TZ`).
const B_NOTTIME: u8 = 32;
/// A space or a tab: where a token ends. In the table so the cutting loop tests one bit of the
/// byte it looks up anyway, instead of comparing the byte again.
const B_WS: u8 = 64;

const BITS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        let mut c = 0;
        if b.is_ascii_digit() {
            c |= B_DIGIT;
        }
        if b.is_ascii_alphabetic() {
            c |= B_ALPHA;
        }
        if b == b'=' {
            c |= B_EQ;
        }
        if b == b'[' {
            c |= B_LBRACKET;
        }
        if !b.is_ascii_punctuation() {
            c |= B_NONPUNCT;
        }
        if !(b.is_ascii_digit()
            || matches!(b, b'-' | b':' | b'.' | b'/' | b',' | b'+' | b'T' | b'Z'))
        {
            c |= B_NOTTIME;
        }
        if b == b' ' || b == b'\t' {
            c |= B_WS;
        }
        t[i] = c;
        i += 1;
    }
    t
};

fn bits_of(t: &[u8]) -> u8 {
    t.iter().fold(0, |a, &b| a | BITS[b as usize])
}

/// The class of one token.
pub fn classify(t: &[u8]) -> Class {
    classify_bits(t, bits_of(t))
}

/// [`classify`] with the token's byte bits already known.
#[inline]
fn classify_bits(t: &[u8], bits: u8) -> Class {
    let Some(&first) = t.first() else {
        return Class::Word;
    };
    let last = t[t.len() - 1];
    if first.is_ascii_digit() {
        if bits & B_NOTTIME == 0 {
            return Class::Num;
        }
    } else if first == b'+' || first == b'-' {
        if t.len() > 1 && t[1].is_ascii_digit() && bits & B_NOTTIME == 0 {
            return Class::Num;
        }
    } else if first.is_ascii_alphabetic() {
        if bits & B_DIGIT != 0 {
            if is_klog(t) {
                return Class::Klog;
            }
            if bits & B_LBRACKET != 0 && level_of(t, false).is_some() {
                return Class::Level;
            }
        } else {
            if t.len() <= 2 {
                if letter_level(first).is_some() && (t.len() == 1 || b",/:".contains(&last)) {
                    return Class::Letter;
                }
            } else {
                if is_calendar(t) {
                    return Class::Cal;
                }
                if level_of(t, false).is_some() {
                    return Class::Level;
                }
            }
        }
    }
    if matches!(first, b'[' | b'<' | b'(' | b'{') {
        let s = t.strip_suffix(b":").unwrap_or(t);
        let close = s[s.len() - 1];
        if s.len() >= 2
            && matches!(
                (first, close),
                (b'[', b']') | (b'<', b'>') | (b'(', b')') | (b'{', b'}')
            )
        {
            if bits & B_DIGIT == 0 && level_of(t, true).is_some() {
                return Class::Level;
            }
            return Class::Bracket;
        }
    }
    if bits & B_NONPUNCT == 0 && t.len() <= 3 {
        return Class::Sep;
    }
    if bits & B_EQ != 0
        && let Some(eq) = memchr::memchr(b'=', t)
        && eq > 0
        && t[..eq]
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b'@'))
    {
        return Class::Kv;
    }
    if (last == b':' && t.len() >= 2 && t[t.len() - 2] != b':')
        || (last == b']' && !t.contains(&b'['))
    {
        return Class::Tag;
    }
    if bits & B_DIGIT != 0 {
        if is_location(t) {
            return Class::Loc;
        }
        return Class::IdWord;
    }
    Class::Word
}

/// `name.ext:line` (with a path before it or not): where a logger says a line was logged.
fn is_location(t: &[u8]) -> bool {
    let Some(colon) = memchr::memrchr(b':', t) else {
        return false;
    };
    let (file, line) = (&t[..colon], &t[colon + 1..]);
    if line.is_empty() || line.len() > 6 || !line.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let Some(dot) = memchr::memrchr(b'.', file) else {
        return false;
    };
    let ext = &file[dot + 1..];
    dot > 0
        && (1..=5).contains(&ext.len())
        && ext.iter().all(u8::is_ascii_alphabetic)
        && file[..dot]
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'/' | b'.' | b'$'))
}

/// The first tokens of a line, cut as far as asked.
#[derive(Debug, Clone)]
pub struct Cuts {
    r: [(u32, u32); MAX_COLS],
    bits: [u8; MAX_COLS],
    len: usize,
    next: usize,
    done: bool,
}

impl Default for Cuts {
    fn default() -> Self {
        Self::new()
    }
}

impl Cuts {
    /// Empty, to reuse from line to line.
    pub fn new() -> Self {
        Cuts {
            r: [(0, 0); MAX_COLS],
            bits: [0; MAX_COLS],
            len: 0,
            next: 0,
            done: false,
        }
    }

    fn reset(&mut self) {
        self.len = 0;
        self.next = 0;
        self.done = false;
    }

    /// Byte range of token `i` (which must have been cut).
    fn at(&self, i: usize) -> (usize, usize) {
        let (a, b) = self.r[i];
        (a as usize, b as usize)
    }

    /// The class of token `i` (which must have been cut).
    #[inline]
    fn class(&self, line: &[u8], i: usize) -> Class {
        let (a, b) = self.at(i);
        classify_bits(&line[a..b], self.bits[i])
    }

    /// Cuts tokens of `line` until there are `want` (at most [`MAX_COLS`]) or the line ends.
    #[inline]
    fn cut(&mut self, line: &[u8], want: usize) {
        let want = want.min(MAX_COLS);
        // One loop over the tokens with its counters in registers (a call per token spent a
        // fifth of the cutting time saving, loading and storing them).
        let (mut len, mut next) = (self.len, self.next);
        while len < want && !self.done {
            match cut_token(line, next) {
                Some((s, e, bits)) => {
                    self.r[len] = (s as u32, e as u32);
                    self.bits[len] = bits;
                    len += 1;
                    next = e;
                }
                None => {
                    self.done = true;
                    next = line.len();
                }
            }
        }
        self.len = len;
        self.next = next;
    }
}

/// The token of `line` after the whitespace at `from`: its start, end and byte bits; `None` at
/// the end of the line.
#[inline(always)]
fn cut_token(line: &[u8], from: usize) -> Option<(usize, usize, u8)> {
    let n = line.len();
    let mut i = from;
    while i < n && BITS[line[i] as usize] & B_WS != 0 {
        i += 1;
    }
    if i >= n {
        return None;
    }
    let s = i;
    let mut bits = 0u8;
    match line[i] {
        b'[' => {
            let lim = (i + MAX_BRACKET).min(n);
            match memchr::memchr(b']', &line[i..lim]) {
                Some(k) => {
                    i += k + 1;
                    // `[a]:` or `[a]-x` stay one token; `][` starts the next one.
                    while i < n && !matches!(line[i], b' ' | b'\t' | b'[') {
                        i += 1;
                    }
                    bits = bits_of(&line[s..i]);
                }
                None => i = plain_end(line, i, &mut bits),
            }
        }
        b'<' => {
            // `<34>` (a syslog priority) is a token of its own even when glued to the next.
            let lim = (i + 5).min(n);
            match memchr::memchr(b'>', &line[i..lim]) {
                Some(k) if k > 1 && line[i + 1..i + k].iter().all(u8::is_ascii_digit) => {
                    i += k + 1;
                    bits = bits_of(&line[s..i]);
                }
                _ => i = plain_end(line, i, &mut bits),
            }
        }
        _ => i = plain_end(line, i, &mut bits),
    }
    Some((s, i, bits))
}

#[inline]
fn plain_end(line: &[u8], i: usize, bits: &mut u8) -> usize {
    let mut acc = 0u8;
    let mut end = line.len();
    for (k, &b) in line[i..].iter().enumerate() {
        let c = BITS[b as usize];
        if c & B_WS != 0 {
            end = i + k;
            break;
        }
        acc |= c;
    }
    *bits = acc;
    end
}

/// A learned header: the columns every fitting line starts with, and what they hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Columns {
    /// Classes accepted per header column (bit per [`Class`]).
    accept: [u16; MAX_COLS],
    /// Number of header columns.
    n: u8,
    /// The token right after the header columns ends the header when it is a tag.
    tag: bool,
    /// The column holding the level (`u8::MAX`: none), and whether it is a letter column.
    level: u8,
    letters: bool,
    /// The timestamp's columns `[a, b)` (`a == b`: none).
    time: (u8, u8),
}

/// What the header of one line holds, as byte ranges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parsed {
    /// Where the message starts.
    pub msg_start: usize,
    /// The timestamp.
    pub ts: Option<(usize, usize)>,
    /// The level.
    pub level: Option<Level>,
    /// The component (a tag without its `:` and `[pid]`).
    pub component: Option<(usize, usize)>,
}

impl Columns {
    /// No header: every line is all message.
    pub const NONE: Columns = Columns {
        accept: [ALL; MAX_COLS],
        n: 0,
        tag: false,
        level: u8::MAX,
        letters: false,
        time: (0, 0),
    };

    /// Whether there is a header at all.
    pub fn has_header(&self) -> bool {
        self.n > 0 || self.tag
    }

    /// Number of fixed header columns (and whether a tag may follow them).
    pub fn shape(&self) -> (usize, bool) {
        (self.n as usize, self.tag)
    }

    /// Parses one line; `None` when it does not fit the header (too few tokens, or a column
    /// holding a class it never held in the sample).
    #[inline]
    pub fn parse(&self, line: &[u8], cuts: &mut Cuts) -> Option<Parsed> {
        cuts.reset();
        let n = self.n as usize;
        cuts.cut(line, n + self.tag as usize);
        if cuts.len < n {
            return None;
        }
        let level_col = self.level as usize;
        let mut level = None;
        for p in 0..n {
            let acc = self.accept[p];
            if p == level_col {
                let (a, b) = cuts.at(p);
                let t = &line[a..b];
                level = level_of(t, self.letters);
                if level.is_some() {
                    let class = if is_klog(t) {
                        Class::Klog
                    } else if strip_decor(t).len() == 1 {
                        Class::Letter
                    } else {
                        Class::Level
                    };
                    if acc & class.bit() != 0 {
                        continue;
                    }
                }
            }
            if acc != ALL && acc & cuts.class(line, p).bit() == 0 {
                return None;
            }
        }
        // The message starts after the header's last token (and its spaces).
        let after = |i: usize| {
            let mut k = cuts.at(i).1;
            while k < line.len() && matches!(line[k], b' ' | b'\t') {
                k += 1;
            }
            k
        };
        let mut out = Parsed {
            msg_start: if n > 0 { after(n - 1) } else { 0 },
            ts: None,
            level,
            component: None,
        };
        if self.tag && cuts.len > n && after(n) < line.len() {
            let (a, b) = cuts.at(n);
            let t = &line[a..b];
            match cuts.class(line, n) {
                Class::Tag => {
                    if t.ends_with(b":") {
                        let body = &t[..t.len() - 1];
                        let name_end = memchr::memchr(b'[', body).unwrap_or(body.len());
                        out.component = Some((a, a + name_end));
                    }
                    out.msg_start = after(n);
                }
                // `ERROR:` where tags stand: the level.
                Class::Level if t.ends_with(b":") => {
                    out.level = out.level.or(level_of(t, false));
                    out.msg_start = after(n);
                }
                _ => {}
            }
        }
        let (ta, tb) = (self.time.0 as usize, self.time.1 as usize);
        if ta < tb && tb <= n {
            out.ts = Some((cuts.at(ta).0, cuts.at(tb - 1).1));
        }
        Some(out)
    }

    /// Share of the non-empty lines of `sample` that fit.
    pub fn fit(&self, sample: &[&[u8]]) -> f64 {
        let mut cuts = Cuts::new();
        let (mut lines, mut ok) = (0usize, 0usize);
        for l in sample {
            if l.trim_ascii().is_empty() {
                continue;
            }
            lines += 1;
            ok += usize::from(self.parse(l, &mut cuts).is_some());
        }
        if lines == 0 {
            1.0
        } else {
            ok as f64 / lines as f64
        }
    }
}

/// Per-position counts over a sample.
struct PosStats {
    /// Lines where the position holds a token that is not the line's last.
    present: usize,
    class: [usize; N_CLASSES],
    /// Tokens that are level words (or letters), and which levels they named (bit per level).
    level: usize,
    levels: u8,
    /// Tags, and level words that end with `:` (`ERROR:`), which read as tags only right
    /// after typed columns (see [`learn_shape`]).
    tagish: usize,
    level_colon: usize,
    /// Tokens opening a quotation.
    quoted: usize,
}

/// Learns the header of a stream from a sample of its lines (see the module docs).
pub fn learn(sample: &[&[u8]]) -> Columns {
    let mut cols = learn_shape(sample);
    if cols.n > 0 {
        cols.time = learn_time(sample, &cols);
    }
    cols
}

impl Columns {
    /// Whether two learned headers have the same columns, level and tag (accepted classes and
    /// the timestamp's extent aside, which a smaller sample may see less of).
    pub fn same_shape(&self, other: &Columns) -> bool {
        (self.n, self.tag, self.level) == (other.n, other.tag, other.level)
    }
}

/// [`learn`] without finding the timestamp.
pub fn learn_shape(sample: &[&[u8]]) -> Columns {
    // Lines are cut lazily, one position at a time: the walk below usually stops a few
    // positions in, and learning runs again whenever a stream changes format.
    let lines_of: Vec<&[u8]> = sample
        .iter()
        .copied()
        .filter(|l| !l.trim_ascii().is_empty())
        .collect();
    let lines = lines_of.len();
    if lines == 0 {
        return Columns::NONE;
    }
    let mut all_cuts: Vec<Cuts> = vec![Cuts::new(); lines];
    let mut stats: Vec<PosStats> = Vec::with_capacity(MAX_COLS);
    let mut stat_at = |p: usize, stats: &mut Vec<PosStats>| {
        while stats.len() <= p {
            let q = stats.len();
            let mut st = PosStats {
                present: 0,
                class: [0; N_CLASSES],
                level: 0,
                levels: 0,
                tagish: 0,
                level_colon: 0,
                quoted: 0,
            };
            for (l, cuts) in lines_of.iter().zip(all_cuts.iter_mut()) {
                // Present: the token exists and is not the line's last.
                cuts.cut(l, q + 2);
                if cuts.len < q + 2 {
                    continue;
                }
                let (a, b) = cuts.at(q);
                let t = &l[a..b];
                let c = cuts.class(l, q);
                st.present += 1;
                st.class[c as usize] += 1;
                if let Some(lv) = level_of(t, c == Class::Letter) {
                    st.level += 1;
                    st.levels |= 1 << lv as u8;
                }
                if c == Class::Tag {
                    st.tagish += 1;
                } else if c == Class::Level && t.ends_with(b":") {
                    st.level_colon += 1;
                }
                if t[0] == b'"' {
                    st.quoted += 1;
                }
            }
            stats.push(st);
        }
    };
    let share = |k: usize| k as f64 / lines as f64;
    // "Nearly every line": 90 %, or all lines but one in a small sample (one odd line among
    // six must not hide a header).
    let need = ((lines as f64 * TYPED_SHARE).ceil() as usize)
        .min(if lines >= 5 { lines - 1 } else { lines })
        .max(1);
    let most = |k: usize| k >= need;
    // Typed tokens that make a header column by themselves: all typed classes but separators
    // (a `-` may be a placeholder inside a record as well as a delimiter), and, once the header
    // has a level column, no further level words (a header has one level; a level word after
    // it opens the message: `ERROR Error while …`).
    let strong = |st: &PosStats, seen_level: bool| -> usize {
        st.class
            .iter()
            .enumerate()
            .filter(|&(c, _)| {
                let c = CLASSES[c];
                c.typed()
                    && c != Class::Sep
                    && !(seen_level && matches!(c, Class::Level | Class::Letter))
            })
            .map(|(_, &k)| k)
            .sum()
    };
    let mut n = 0usize;
    let mut tag = false;
    let mut gap = 0usize;
    let mut seen_level = false;
    for p in 0..MAX_COLS - 1 {
        stat_at(p, &mut stats);
        let st = &stats[p];
        // A header holds no quotations: where lines quote something, the message has begun.
        if !most(st.present) || share(st.quoted) >= 0.5 {
            break;
        }
        // A level word with a colon ends a header as its tag (`[123] LOG:`) only right after
        // typed columns: after a word it is the message's own label (`SERVICE ALERT: …`,
        // `Upload ERROR: …`), the way a level opens a sentence.
        let tagish = st.tagish + if gap == 0 { st.level_colon } else { 0 };
        if p >= 1 && share(tagish) >= TAG_SHARE {
            n = p;
            tag = true;
            break;
        }
        if most(strong(st, seen_level)) {
            n = p + 1;
            gap = 0;
            if share(st.level) >= LEVEL_SHARE * TYPED_SHARE {
                seen_level = true;
            }
        } else if most(st.class[Class::Sep as usize]) {
            // A separator right after the header's columns, or after one word following them
            // (`logger - message`, `logger : message`), ends the header there.
            if gap <= 1 {
                n = p + 1;
                gap = 0;
            }
        } else {
            gap += 1;
            if gap
                > if seen_level {
                    MAX_GAP_AFTER_LEVEL
                } else {
                    MAX_GAP
                }
            {
                break;
            }
        }
    }
    if n == 0 && !tag {
        return Columns::NONE;
    }
    if !tag && n > 0 {
        // A record of positional fields, not a header and a message: most lines leave at most
        // one token after the "header". Then only its leading time columns are a header, and
        // the fields are mined with the rest.
        stat_at(n, &mut stats);
        if share(stats[n].present) < 0.5 {
            let time =
                Class::Num.bit() | Class::Cal.bit() | Class::Klog.bit() | Class::Bracket.bit();
            let mut k = 0;
            while k < n
                && stats[k]
                    .class
                    .iter()
                    .enumerate()
                    .filter(|&(c, _)| time & (1 << c) != 0)
                    .map(|(_, &x)| x)
                    .sum::<usize>()
                    >= need
            {
                k += 1;
            }
            n = k;
            if n == 0 {
                return Columns::NONE;
            }
        }
    }
    let mut cols = Columns {
        n: n as u8,
        tag,
        ..Columns::NONE
    };
    for (p, st) in stats.iter().enumerate().take(n) {
        if most(
            st.present
                - st.class[Class::Tag as usize]
                - st.class[Class::IdWord as usize]
                - st.class[Class::Word as usize],
        ) {
            // A class one line alone shows is that line's oddity, not the column's.
            let min = ((st.present as f64 * ACCEPT_SHARE).ceil() as usize)
                .max(if st.present >= 5 { 2 } else { 1 });
            let mut acc = 0u16;
            for (c, &k) in st.class.iter().enumerate() {
                if k >= min {
                    acc |= 1 << c;
                }
            }
            cols.accept[p] = acc;
        }
        let letters = st.class[Class::Letter as usize] + st.class[Class::Klog as usize]
            > st.class[Class::Level as usize];
        if cols.level == u8::MAX
            && st.present > 0
            && st.level as f64 >= LEVEL_SHARE * st.present as f64
            // Single letters name a level only in a column that shows two levels at least
            // (`F` alone may be a flag).
            && (!letters || st.levels.count_ones() >= 2)
        {
            cols.level = p as u8;
            cols.letters = letters;
        }
    }
    cols
}

const CLASSES: [Class; N_CLASSES] = [
    Class::Klog,
    Class::Num,
    Class::Cal,
    Class::Level,
    Class::Letter,
    Class::Bracket,
    Class::Kv,
    Class::Loc,
    Class::Sep,
    Class::Tag,
    Class::IdWord,
    Class::Word,
];

/// The first run of header columns that reads as a timestamp in most of the sample.
fn learn_time(sample: &[&[u8]], cols: &Columns) -> (u8, u8) {
    let n = cols.n as usize;
    // A column is time-like when it accepts time classes only (untyped columns accept all).
    let timeish = Class::Klog.bit() | Class::Num.bit() | Class::Cal.bit() | Class::Bracket.bit();
    let dominant_timeish = |p: usize| cols.accept[p] != ALL && cols.accept[p] & !timeish == 0;
    let probe: Vec<&[u8]> = sample
        .iter()
        .copied()
        .filter(|l| !l.trim_ascii().is_empty())
        .take(16)
        .collect();
    if probe.is_empty() {
        return (0, 0);
    }
    let defaults = super::TimeDefaults::default();
    let mut cuts = Cuts::new();
    for s in 0..n {
        if !dominant_timeish(s) {
            continue;
        }
        let mut e_max = s;
        while e_max < n && e_max < s + 6 && dominant_timeish(e_max) {
            e_max += 1;
        }
        // Per length, the instants the run reads as on the probe lines; the longest run that
        // reads as a timestamp on most lines sets the answer, and the shortest run giving the
        // same instants is the timestamp (a pid after the time changes nothing and is left out;
        // a year after `Jun 14 15:16:01` changes the year and is kept).
        let read = |e: usize, cuts: &mut Cuts| -> (usize, Vec<Option<jiff::Timestamp>>) {
            let mut ok = 0;
            let mut out = Vec::with_capacity(probe.len());
            for l in &probe {
                cuts.reset();
                cuts.cut(l, e);
                if cuts.len < e {
                    out.push(None);
                    continue;
                }
                let text = String::from_utf8_lossy(&l[cuts.at(s).0..cuts.at(e - 1).1]);
                let t = super::parse_timestamp(&text, &defaults);
                ok += usize::from(t.is_some());
                out.push(t);
            }
            (ok, out)
        };
        for e in (s + 1..=e_max).rev() {
            let (ok, want) = read(e, &mut cuts);
            if ok * 2 > probe.len() {
                let best = (s + 1..e)
                    .find(|&shorter| read(shorter, &mut cuts).1 == want)
                    .unwrap_or(e);
                return (s as u8, best as u8);
            }
        }
    }
    (0, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Learns from `lines` and returns each line's message.
    fn messages<'a>(lines: &[&'a str]) -> Vec<&'a str> {
        let sample: Vec<&[u8]> = lines.iter().map(|l| l.as_bytes()).collect();
        let cols = learn(&sample);
        let mut cuts = Cuts::new();
        lines
            .iter()
            .map(|l| match cols.parse(l.as_bytes(), &mut cuts) {
                Some(p) => &l[p.msg_start..],
                None => "<misfit>",
            })
            .collect()
    }

    #[test]
    fn classes_by_shape() {
        for (t, c) in [
            ("2024-01-02T10:15:30.123Z", Class::Num),
            ("10:15:30,123", Class::Num),
            ("+0000", Class::Num),
            ("04:30:30,", Class::Num),
            ("Jun", Class::Cal),
            ("Tue,", Class::Cal),
            ("I1204", Class::Klog),
            ("INFO", Class::Level),
            ("[warn]", Class::Level),
            ("<E>", Class::Level),
            ("INFO[0000]", Class::Level),
            ("W", Class::Letter),
            ("I,", Class::Letter),
            ("[main]", Class::Bracket),
            ("<34>", Class::Bracket),
            ("level=info", Class::Kv),
            ("-", Class::Sep),
            ("|", Class::Sep),
            ("sshd[42]:", Class::Tag),
            ("main.go:12]", Class::Tag),
            ("node-12", Class::IdWord),
            ("server/main.go:42", Class::Loc),
            ("App.java:507", Class::Loc),
            ("10.0.0.1:80", Class::Num),
            ("hello", Class::Word),
        ] {
            assert_eq!(classify(t.as_bytes()), c, "{t}");
        }
    }

    #[test]
    fn headers_of_common_shapes() {
        let m = messages(&[
            "Jun 14 15:16:01 combo sshd(pam_unix)[19939]: check pass; user unknown",
            "Jun 14 15:16:02 combo su[20]: session opened",
            "Jun  4 15:16:02 other kernel: Linux version 2.6",
        ]);
        assert_eq!(
            m,
            [
                "check pass; user unknown",
                "session opened",
                "Linux version 2.6"
            ]
        );
        let m = messages(&[
            "I1204 10:15:30.123456   12345 main.go:42] Starting server on :8080",
            "W1204 10:15:31.000001   12345 reflector.go:324] watch closed",
        ]);
        assert_eq!(m, ["Starting server on :8080", "watch closed"]);
        let m = messages(&[
            "2024-01-02 10:15:30,123 - app.db - INFO - connected to primary",
            "2024-01-02 10:15:31,001 - app.web - WARNING - slow request",
        ]);
        assert_eq!(m, ["connected to primary", "slow request"]);
        let m = messages(&[
            "[2024-01-02 10:15:30,123] INFO Starting the server (a.b.Server)",
            "[2024-01-02 10:15:31,123] WARN Retrying the thing (a.b.Client)",
        ]);
        assert_eq!(
            m,
            [
                "Starting the server (a.b.Server)",
                "Retrying the thing (a.b.Client)"
            ]
        );
    }

    #[test]
    fn a_level_word_after_a_word_labels_the_message() {
        // `ALERT:` reads as a level with a colon; right after the typed columns it would be
        // the header's tag (`[42] LOG:`), but after a word it labels the message.
        let m = messages(&[
            "[1000000001] PUMP ALERT: p-1;LOW;3",
            "[1000000002] PUMP ALERT: p-2;HIGH;1",
            "[1000000003] VALVE ALERT: v-9;STUCK;2",
            "[1000000004] PUMP NOTICE: p-1;cleared",
            "[1000000005] VALVE ALERT: v-2;OPEN;1",
        ]);
        assert_eq!(m[0], "PUMP ALERT: p-1;LOW;3");
        assert_eq!(m[3], "PUMP NOTICE: p-1;cleared");
        let m = messages(&[
            "2024-01-02 10:15:30.123 UTC [42] LOG:  checkpoint starting",
            "2024-01-02 10:15:31.123 UTC [42] ERROR:  relation missing",
            "2024-01-02 10:15:32.123 UTC [43] LOG:  checkpoint complete",
        ]);
        assert_eq!(
            m,
            [
                "checkpoint starting",
                "relation missing",
                "checkpoint complete"
            ]
        );
    }

    #[test]
    fn no_header_means_whole_line() {
        let lines = ["hello there world", "another plain line", "and one more"];
        let sample: Vec<&[u8]> = lines.iter().map(|l| l.as_bytes()).collect();
        assert!(!learn(&sample).has_header());
    }

    proptest::proptest! {
        #[test]
        fn learning_and_parsing_never_panic(
            lines in proptest::collection::vec(
                "([-0-9A-Za-z:.,\\[\\]<>(){}=\"/_$@#|*]{1,14}[ \t]{1,3}){0,18}",
                1..12,
            ),
            raw in proptest::collection::vec(proptest::num::u8::ANY, 0..200),
        ) {
            let sample: Vec<&[u8]> = lines.iter().map(|l| l.as_bytes()).collect();
            let cols = learn(&sample);
            let mut cuts = Cuts::new();
            for l in &sample {
                if let Some(p) = cols.parse(l, &mut cuts) {
                    proptest::prop_assert!(p.msg_start <= l.len());
                }
            }
            let _ = cols.parse(&raw, &mut cuts);
            let _ = learn(&[raw.as_slice()]);
        }
    }
}
