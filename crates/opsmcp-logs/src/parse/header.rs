//! Free text with a leading header: `timestamp [level] [pid] [thread] [component:] message` in the
//! usual orders. Nothing is configured: tokens are classified by shape (time-like, level word,
//! `[bracketed]`, `program[pid]:`, identifier with digits) and the header ends after the
//! component, else after the level, else after the leading run of time-like and id-like columns.

use super::Level;

/// What the header parser found, as byte ranges into the line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Header {
    /// Where the message starts.
    pub msg_start: usize,
    /// The time-like tokens at the start (may be non-contiguous in odd formats; this is the first
    /// contiguous run).
    pub ts: Option<(usize, usize)>,
    /// The level word.
    pub level: Option<Level>,
    /// The component or program (without trailing `:` and `[pid]`).
    pub component: Option<(usize, usize)>,
}

const MAX_HEADER_TOKENS: usize = 14;

const MONTHS: [&[u8]; 12] = [
    b"jan", b"feb", b"mar", b"apr", b"may", b"jun", b"jul", b"aug", b"sep", b"oct", b"nov", b"dec",
];
const DAYS: [&[u8]; 7] = [b"mon", b"tue", b"wed", b"thu", b"fri", b"sat", b"sun"];

const fn pack3(m: &[u8]) -> u32 {
    (m[0] as u32) << 16 | (m[1] as u32) << 8 | m[2] as u32
}

/// `MONTHS` and `DAYS` as numbers (see [`is_calendar_word`]).
const CALENDAR: [u32; 19] = {
    let mut out = [0u32; 19];
    let mut i = 0;
    while i < 12 {
        out[i] = pack3(MONTHS[i]);
        i += 1;
    }
    while i < 19 {
        out[i] = pack3(DAYS[i - 12]);
        i += 1;
    }
    out
};

/// Month or weekday name (3 letters or full).
#[inline]
pub(crate) fn is_calendar_word(t: &[u8]) -> bool {
    if t.len() < 3 || t.len() > 9 {
        return false;
    }
    // The three-letter prefix, lower-cased, as one number compared with 19 numbers, and before
    // the scan of the whole word: this runs for nearly every header and message token.
    let p = pack3(&[
        t[0].to_ascii_lowercase(),
        t[1].to_ascii_lowercase(),
        t[2].to_ascii_lowercase(),
    ]);
    CALENDAR.contains(&p) && t.iter().all(u8::is_ascii_alphabetic)
}

/// Digits with time/date separators (`2015-10-18`, `18:01:47,978`, `1117838570`, `17/06/09`,
/// `2005-06-03-15.42.50.675872`, `2024-01-01T00:00:00Z`), or a month/weekday name.
pub(crate) fn is_time_like(t: &[u8]) -> bool {
    let t = t.strip_suffix(b",").unwrap_or(t);
    if t.is_empty() {
        return false;
    }
    if !t[0].is_ascii_digit() {
        return is_calendar_word(t);
    }
    let mut digits = 0;
    for &b in t {
        match b {
            b'0'..=b'9' => digits += 1,
            b'-' | b':' | b'.' | b'/' | b',' | b'+' | b'T' | b'Z' => {}
            _ => return false,
        }
    }
    digits > 0 && t[0].is_ascii_digit()
}

#[inline]
fn strip_brackets(t: &[u8]) -> &[u8] {
    let t = t.strip_suffix(b":").unwrap_or(t);
    if t.len() >= 2
        && matches!(
            (t[0], t[t.len() - 1]),
            (b'[', b']') | (b'<', b'>') | (b'(', b')')
        )
    {
        &t[1..t.len() - 1]
    } else {
        t
    }
}

/// A level word: `INFO`, `warn`, `[ERROR]`, `<E>`, `Info`; single letters only when `letters`.
#[inline]
pub(crate) fn level_of(t: &[u8], letters: bool) -> Option<Level> {
    let t = strip_brackets(t);
    if t.len() == 1 {
        if !letters {
            return None;
        }
        return match t[0] {
            b'V' | b'T' => Some(Level::Trace),
            b'D' => Some(Level::Debug),
            b'I' => Some(Level::Info),
            b'W' => Some(Level::Warn),
            b'E' => Some(Level::Error),
            b'F' | b'A' => Some(Level::Fatal),
            _ => None,
        };
    }
    Level::from_word(t)
}

/// `name:` with a letter, made of name characters (`org.apache.Foo:`, `sshd(pam_unix)[19939]:`).
#[inline]
fn is_component(t: &[u8]) -> bool {
    let Some(body) = t.strip_suffix(b":") else {
        return false;
    };
    let (any, all) = body.iter().fold((0u8, !0u8), |(any, all), &b| {
        let c = H_CLASS[b as usize];
        (any | c, all & c)
    });
    body.len() >= 2 && any & H_ALPHA != 0 && all & H_COMPONENT != 0
}

/// An id-like token: `-` or anything with a digit. (Decided from tokenizing bits in `Toks`;
/// this is the plain statement of it, checked against that in the tests.)
#[cfg(test)]
fn is_idish(t: &[u8]) -> bool {
    t == b"-" || t.iter().any(u8::is_ascii_digit)
}

fn is_dotted_ident(t: &[u8]) -> bool {
    t.len() >= 3
        && (t.contains(&b'.') || t.contains(&b'_'))
        && t[0].is_ascii_alphabetic()
        && t.iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

fn is_sep(t: &[u8]) -> bool {
    matches!(t, b"-" | b":" | b"|" | b"--" | b"::")
}

// Byte classes for header tokens, in one table: tokenizing ORs and ANDs them over each token
// while looking for its end, so classifying the token (time-like? id-like?) afterwards costs no
// second pass. Header parsing runs on every line, before masking.
const H_WS: u8 = 1;
const H_DIGIT: u8 = 2;
/// What a time-like token is made of (see [`is_time_like`]): digits and `-:./,+TZ`.
const H_TIME: u8 = 4;
const H_ALPHA: u8 = 8;
/// What a component name is made of (see [`is_component`]).
const H_COMPONENT: u8 = 16;

const H_CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        let mut c = 0;
        if b.is_ascii_whitespace() {
            c |= H_WS;
        }
        if b.is_ascii_digit() {
            c |= H_DIGIT | H_TIME;
        }
        if matches!(b, b'-' | b':' | b'.' | b'/' | b',' | b'+' | b'T' | b'Z') {
            c |= H_TIME;
        }
        if b.is_ascii_alphabetic() {
            c |= H_ALPHA;
        }
        if b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'.' | b'_' | b'-' | b'$' | b'/' | b'(' | b')' | b'[' | b']' | b'@' | b'#'
            )
        {
            c |= H_COMPONENT;
        }
        t[i] = c;
        i += 1;
    }
    t
};

/// Byte ranges of the first tokens of a line, in a fixed array: a header is a handful of tokens,
/// and a heap allocation per line showed in profiles.
pub struct Toks {
    r: [(usize, usize); MAX_HEADER_TOKENS],
    /// Per token, its class, worked out while tokenizing.
    class: [Class; MAX_HEADER_TOKENS],
    len: usize,
    /// Where tokenizing stopped, so [`Toks::extend`] can go on without starting over.
    next: usize,
}

impl Default for Toks {
    fn default() -> Self {
        Self::new()
    }
}

impl Toks {
    /// Empty token storage, to reuse across lines with [`parse_in`].
    pub fn new() -> Self {
        Toks {
            r: [(0, 0); MAX_HEADER_TOKENS],
            class: [Class {
                time: false,
                idish: false,
            }; MAX_HEADER_TOKENS],
            len: 0,
            next: 0,
        }
    }

    fn as_slice(&self) -> &[(usize, usize)] {
        &self.r[..self.len]
    }

    /// Tokenizes `line` further until `max` tokens (at most `MAX_HEADER_TOKENS`) or its end:
    /// whitespace separated, a `[` token runs to its `]`.
    #[inline]
    fn extend(&mut self, line: &[u8], max: usize) {
        let max = max.min(MAX_HEADER_TOKENS);
        if self.len < max {
            self.extend_slow(line, max);
        }
    }

    fn extend_slow(&mut self, line: &[u8], max: usize) {
        let n = line.len();
        let mut i = self.next;
        while self.len < max {
            while i < n && H_CLASS[line[i] as usize] & H_WS != 0 {
                i += 1;
            }
            if i >= n {
                break;
            }
            let s = i;
            let (mut any, mut all) = (0u8, !0u8);
            if line[i] == b'[' {
                if let Some(k) = memchr::memchr(b']', &line[i..]).filter(|&k| k < 80) {
                    i += k + 1;
                }
                while i < n && H_CLASS[line[i] as usize] & H_WS == 0 {
                    i += 1;
                }
                for &b in &line[s..i] {
                    any |= H_CLASS[b as usize];
                    all &= H_CLASS[b as usize];
                }
            } else {
                while i < n {
                    let c = H_CLASS[line[i] as usize];
                    if c & H_WS != 0 {
                        break;
                    }
                    any |= c;
                    all &= c;
                    i += 1;
                }
            }
            let t = &line[s..i];
            // The same answers as `is_time_like` and `is_idish`, from the bits gathered while
            // tokenizing: a token starting with a digit is time-like when all its bytes are time
            // characters (`,` is one, so a trailing comma changes nothing).
            let time = if t[0].is_ascii_digit() {
                all & H_TIME != 0
            } else {
                is_calendar_word(t.strip_suffix(b",").unwrap_or(t))
            };
            self.r[self.len] = (s, i);
            self.class[self.len] = Class {
                time,
                idish: t == b"-" || any & H_DIGIT != 0,
            };
            self.len += 1;
        }
        self.next = i;
    }
}

/// Parses the leading header of a free-text line. Returns `None` when the line does not start
/// like a header (with a time-like token, `-`, or a bracketed timestamp).
pub fn parse(line: &[u8]) -> Option<Header> {
    parse_with_columns(line, 0)
}

/// Whether a token is a numeric column value (time-like, or a signed number).
fn is_numeric_column(t: &[u8]) -> bool {
    is_time_like(t) || (t.len() > 1 && t[0] == b'-' && t[1..].iter().all(u8::is_ascii_digit))
}

/// Learns the stream's fixed leading columns: one past the last of the first 12 token positions
/// that is numeric (a time, date, epoch, id number) in nearly every sampled line. A header such
/// as `id node component state epoch flag message` then ends there even when its words look like
/// anything.
pub fn learn_columns<'s>(sample: impl IntoIterator<Item = &'s [u8]>) -> usize {
    const MAX: usize = 12;
    let mut numeric = [0usize; MAX];
    let mut lines = 0usize;
    for line in sample {
        let mut toks = Toks::new();
        toks.extend(line, MAX + 1);
        let toks = toks.as_slice();
        if toks.is_empty() {
            continue;
        }
        lines += 1;
        for (i, &(a, b)) in toks.iter().take(MAX).enumerate() {
            // The last token is message, whatever it looks like.
            if i + 1 < toks.len() && is_numeric_column(&line[a..b]) {
                numeric[i] += 1;
            }
        }
    }
    if lines < 5 {
        return 0;
    }
    (0..MAX)
        .rev()
        .find(|&i| numeric[i] * 100 >= lines * 95)
        .map_or(0, |i| i + 1)
}

/// Like [`parse`], with the stream's learned leading column count (see [`learn_columns`]): the
/// message never starts before the end of those columns.
pub fn parse_with_columns(line: &[u8], columns: usize) -> Option<Header> {
    parse_in(line, columns, &mut Toks::new())
}

/// [`parse_with_columns`] with token storage reused from line to line: setting up a fresh one
/// (a few hundred bytes) for every line was a measurable share of header parsing.
pub fn parse_in(line: &[u8], columns: usize, toks: &mut Toks) -> Option<Header> {
    toks.len = 0;
    toks.next = 0;
    // Tokenize the first few tokens only; most headers end well before the maximum.
    if let Some(h) = decide(line, toks, 8.max(columns + 1), columns) {
        return h;
    }
    decide(line, toks, MAX_HEADER_TOKENS, columns).flatten()
}

/// Token classes, computed once per token.
#[derive(Clone, Copy)]
struct Class {
    time: bool,
    idish: bool,
}

/// `Some(answer)` when the first `cap` tokens suffice to decide; `None` to look at more tokens.
///
/// The answer is defined over the first `cap` tokens of the line (fewer if it has fewer), but
/// they are cut out only as the decision reaches them: most headers are decided at their
/// component or level, a few tokens in, and tokenizing the rest showed in profiles. `has(i)`
/// below is "`i < toks.len()`" of the plain statement, tokenizing up to `i` on the way.
fn decide(line: &[u8], tk: &mut Toks, cap: usize, columns: usize) -> Option<Option<Header>> {
    let cap = cap.min(MAX_HEADER_TOKENS);
    let has = |tk: &mut Toks, i: usize| {
        if i >= cap {
            return false;
        }
        tk.extend(line, i + 1);
        i < tk.len
    };
    // Whether the tokens are all there is to look at: the line ended, or the maximum was
    // reached. Needs every token up to `cap`.
    let complete = |tk: &mut Toks| {
        tk.extend(line, cap);
        let toks = tk.as_slice();
        toks.len() < MAX_HEADER_TOKENS
            && toks
                .last()
                .is_none_or(|t| line[t.1..].iter().all(u8::is_ascii_whitespace))
            || toks.len() == MAX_HEADER_TOKENS
    };
    let tok = |tk: &Toks, i: usize| {
        let (a, b) = tk.r[i];
        &line[a..b]
    };
    if !has(tk, 0) {
        return Some(None);
    }
    let first = tok(tk, 0);
    let starts_ok = tk.class[0].time
        || first == b"-"
        || (first.starts_with(b"[") && is_time_like(strip_brackets(first)));
    if !starts_ok {
        return Some(None);
    }
    let mut h = Header::default();
    let min_start = if columns > 0 && has(tk, columns) {
        tk.r[columns].0
    } else if columns > 0 && !complete(tk) {
        return None;
    } else {
        0
    };
    // A token is last on the line when nothing but spaces follows it.
    let is_last = |tk: &Toks, i: usize| line[tk.r[i].1..].iter().all(u8::is_ascii_whitespace);
    // First run of time-like tokens.
    let mut k = 0;
    while has(tk, k) && (tk.class[k].time || (k == 0 && first.starts_with(b"["))) {
        k += 1;
    }
    if k > 0 {
        h.ts = Some((tk.r[0].0, tk.r[k - 1].1));
    }
    let mut level_end: Option<usize> = None;
    let mut words = 0;
    let mut prev_numeric = k > 0;
    let mut stopped = false;
    let mut i = 0;
    while has(tk, i) {
        let t = tok(tk, i);
        let class = tk.class[i];
        if i >= k && i >= 1 && is_component(t) && !is_last(tk, i) {
            let body = &t[..t.len() - 1];
            let name_end = body.iter().position(|&b| b == b'[').unwrap_or(body.len());
            h.component = Some((tk.r[i].0, tk.r[i].0 + name_end));
            h.msg_start = tk.r[i].1;
            return Some(Some(finish(line, h, min_start)));
        }
        if let Some(l) = level_of(t, prev_numeric && h.level.is_none()) {
            // A level word that ends the line is the message, not a level.
            if h.level.is_none() && !is_last(tk, i) {
                h.level = Some(l);
                level_end = Some(i);
            }
        } else if i >= k && !class.idish && !t.starts_with(b"[") && !class.time {
            words += 1;
            if words > 3 {
                stopped = true;
                break;
            }
        }
        prev_numeric = class.idish || class.time;
        i += 1;
    }
    if !stopped && !complete(tk) {
        return None;
    }
    if let Some(li) = level_end {
        let mut j = li + 1;
        // A thread in brackets, then separators, right after the level belong to the header.
        while has(tk, j) && (tok(tk, j).starts_with(b"[") || is_sep(tok(tk, j))) {
            j += 1;
        }
        let more = has(tk, j);
        if !more && !complete(tk) {
            return None;
        }
        h.msg_start = if more { tk.r[j].0 } else { line.len() };
        return Some(Some(finish(line, h, min_start)));
    }
    // No component, no level: the leading run of time-like, id-like and dotted columns.
    let mut j = 0;
    while has(tk, j) && (tk.class[j].time || tk.class[j].idish || is_dotted_ident(tok(tk, j))) {
        j += 1;
    }
    if !has(tk, j) {
        return if complete(tk) { Some(None) } else { None };
    }
    h.msg_start = tk.r[j].0;
    Some(Some(finish(line, h, min_start)))
}

fn finish(line: &[u8], mut h: Header, min_start: usize) -> Header {
    h.msg_start = h.msg_start.max(min_start);
    while h.msg_start < line.len() && line[h.msg_start].is_ascii_whitespace() {
        h.msg_start += 1;
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(line: &str) -> &str {
        let h = parse(line.as_bytes()).expect("header");
        &line[h.msg_start..]
    }

    #[test]
    fn finds_messages_in_usual_orders() {
        assert_eq!(
            msg("03-17 16:13:38.811  1702  2395 D WindowManager: printFreezing x"),
            "printFreezing x"
        );
        assert_eq!(
            msg("081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 for block"),
            "PacketResponder 1 for block"
        );
        assert_eq!(
            msg("2015-10-18 18:01:47,978 INFO [main] org.apache.hadoop.MRAppMaster: Created x"),
            "Created x"
        );
        assert_eq!(
            msg("Jun 14 15:16:01 combo sshd(pam_unix)[19939]: check pass; user unknown"),
            "check pass; user unknown"
        );
        assert_eq!(
            msg(
                "- 1117838570 2005.06.03 R02-M1-N0-C:J12-U11 2005-06-03-15.42.50.675872 R02-M1-N0-C:J12-U11 RAS KERNEL INFO instruction cache parity error corrected"
            ),
            "instruction cache parity error corrected"
        );
        assert_eq!(
            msg("2016-09-28 04:30:30, Info                  CBS    Loaded Servicing Stack"),
            "CBS    Loaded Servicing Stack"
        );
        assert_eq!(
            msg(
                "134681 node-246 unix.hw state_change.unavailable 1077804742 1 Component State Change: x"
            ),
            "Component State Change: x"
        );
        assert_eq!(
            msg("2024-01-02 10:00:00,123 - app.module - WARNING - disk almost full"),
            "disk almost full"
        );
    }

    #[test]
    fn extracts_level_and_component() {
        let line = "2015-10-18 18:01:47,978 WARN [main] org.apache.Foo: x";
        let h = parse(line.as_bytes()).expect("header");
        assert_eq!(h.level, Some(Level::Warn));
        let (a, b) = h.component.expect("component");
        assert_eq!(&line[a..b], "org.apache.Foo");
        let (a, b) = h.ts.expect("ts");
        assert_eq!(&line[a..b], "2015-10-18 18:01:47,978");
    }

    /// The fast header parser must find exactly what the plain one (`header_reference`) finds:
    /// the message, and so the template id, depends on it.
    fn same_as_reference(line: &[u8]) {
        for columns in 0..8 {
            assert_eq!(
                parse_with_columns(line, columns),
                super::super::header_reference::parse_with_columns(line, columns),
                "line {:?}, columns {columns}",
                String::from_utf8_lossy(line)
            );
        }
        for t in line.split(u8::is_ascii_whitespace) {
            assert_eq!(
                is_time_like(t),
                super::super::header_reference::is_time_like(t)
            );
            assert_eq!(
                is_calendar_word(t),
                super::super::header_reference::is_calendar_word(t)
            );
            let mut toks = Toks::new();
            toks.extend(t, 1);
            if toks.len == 1 && toks.r[0] == (0, t.len()) {
                assert_eq!(toks.class[0].time, is_time_like(t));
                assert_eq!(toks.class[0].idish, is_idish(t));
            }
        }
    }

    #[test]
    fn same_as_reference_on_loghub_lines() {
        let lines = crate::loghub_lines();
        for line in &lines {
            same_as_reference(line);
        }
        for sample in lines.chunks(200) {
            assert_eq!(
                learn_columns(sample.iter().map(Vec::as_slice)),
                super::super::header_reference::learn_columns(sample.iter().map(Vec::as_slice))
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn same_as_reference_on_header_like_text(
            s in "([-0-9A-Za-z:.,\\[\\]<>()=\"/_$@#|]{1,12}[ \t]{1,2}){0,16}"
        ) {
            same_as_reference(s.as_bytes());
        }

        #[test]
        fn same_as_reference_on_arbitrary_bytes(
            bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..160)
        ) {
            same_as_reference(&bytes);
        }
    }

    #[test]
    fn plain_text_has_no_header() {
        assert!(parse(b"hello world").is_none());
    }
}
