//! The plain implementation of header parsing that `header` replaced with a faster one
//! (tokens classified while cut out, and cut out only as far as the decision needs). Kept for
//! the tests only: `header`'s tests check on random and real lines that both find exactly the same
//! header, so messages, and so template ids, cannot drift.

use super::Level;
use super::header::Header;

const MAX_HEADER_TOKENS: usize = 14;

const MONTHS: [&[u8]; 12] = [
    b"jan", b"feb", b"mar", b"apr", b"may", b"jun", b"jul", b"aug", b"sep", b"oct", b"nov", b"dec",
];
const DAYS: [&[u8]; 7] = [b"mon", b"tue", b"wed", b"thu", b"fri", b"sat", b"sun"];

/// Month or weekday name (3 letters or full).
pub(crate) fn is_calendar_word(t: &[u8]) -> bool {
    if t.len() < 3 || t.len() > 9 || !t.iter().all(u8::is_ascii_alphabetic) {
        return false;
    }
    let p = [
        t[0].to_ascii_lowercase(),
        t[1].to_ascii_lowercase(),
        t[2].to_ascii_lowercase(),
    ];
    MONTHS.iter().chain(DAYS.iter()).any(|m| **m == p)
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

fn is_component(t: &[u8]) -> bool {
    let Some(body) = t.strip_suffix(b":") else {
        return false;
    };
    body.len() >= 2
        && body.iter().any(u8::is_ascii_alphabetic)
        && body.iter().all(|&b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'.' | b'_' | b'-' | b'$' | b'/' | b'(' | b')' | b'[' | b']' | b'@' | b'#'
                )
        })
}

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

/// Byte ranges of the first tokens of `line` (whitespace separated; a `[` token runs to its `]`).
fn tokens(line: &[u8], max: usize, out: &mut Vec<(usize, usize)>) {
    out.clear();
    let n = line.len();
    let mut i = 0;
    while out.len() < max {
        while i < n && line[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= n {
            break;
        }
        let s = i;
        if line[i] == b'[' {
            match memchr::memchr(b']', &line[i..]) {
                Some(k) if k < 80 => {
                    i += k + 1;
                    while i < n && !line[i].is_ascii_whitespace() {
                        i += 1;
                    }
                }
                _ => {
                    while i < n && !line[i].is_ascii_whitespace() {
                        i += 1;
                    }
                }
            }
        } else {
            while i < n && !line[i].is_ascii_whitespace() {
                i += 1;
            }
        }
        out.push((s, i));
    }
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
    let mut toks = Vec::with_capacity(MAX);
    for line in sample {
        tokens(line, MAX + 1, &mut toks);
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
    // Tokenize the first few tokens only; most headers end well before the maximum.
    let mut toks = Vec::with_capacity(MAX_HEADER_TOKENS);
    tokens(line, 8.max(columns + 1).min(MAX_HEADER_TOKENS), &mut toks);
    if let Some(h) = decide(line, &toks, columns) {
        return h;
    }
    tokens(line, MAX_HEADER_TOKENS, &mut toks);
    decide(line, &toks, columns).flatten()
}

/// Token classes, computed once per token.
#[derive(Clone, Copy)]
struct Class {
    time: bool,
    idish: bool,
}

/// `Some(answer)` when the tokens seen suffice to decide; `None` to look at more tokens.
fn decide(line: &[u8], toks: &[(usize, usize)], columns: usize) -> Option<Option<Header>> {
    let complete = toks.len() < MAX_HEADER_TOKENS
        && toks
            .last()
            .is_none_or(|t| line[t.1..].iter().all(u8::is_ascii_whitespace))
        || toks.len() == MAX_HEADER_TOKENS;
    let tok = |i: usize| &line[toks[i].0..toks[i].1];
    if toks.is_empty() {
        return Some(None);
    }
    let first = tok(0);
    let starts_ok = is_time_like(first)
        || first == b"-"
        || (first.starts_with(b"[") && is_time_like(strip_brackets(first)));
    if !starts_ok {
        return Some(None);
    }
    let classes: Vec<Class> = (0..toks.len())
        .map(|i| {
            let t = tok(i);
            Class {
                time: is_time_like(t),
                idish: is_idish(t),
            }
        })
        .collect();
    let mut h = Header::default();
    let min_start = if columns > 0 && columns < toks.len() {
        toks[columns].0
    } else if columns > 0 && !complete {
        return None;
    } else {
        0
    };
    // A token is last on the line when nothing but spaces follows it.
    let is_last = |i: usize| line[toks[i].1..].iter().all(u8::is_ascii_whitespace);
    // First run of time-like tokens.
    let mut k = 0;
    while k < toks.len() && (classes[k].time || (k == 0 && first.starts_with(b"["))) {
        k += 1;
    }
    if k > 0 {
        h.ts = Some((toks[0].0, toks[k - 1].1));
    }
    let mut level_end: Option<usize> = None;
    let mut words = 0;
    let mut prev_numeric = k > 0;
    let mut stopped = false;
    for i in 0..toks.len() {
        let t = tok(i);
        if i >= k && i >= 1 && is_component(t) && !is_last(i) {
            let body = &t[..t.len() - 1];
            let name_end = body.iter().position(|&b| b == b'[').unwrap_or(body.len());
            h.component = Some((toks[i].0, toks[i].0 + name_end));
            h.msg_start = toks[i].1;
            return Some(Some(finish(line, h, min_start)));
        }
        if let Some(l) = level_of(t, prev_numeric && h.level.is_none()) {
            // A level word that ends the line is the message, not a level.
            if h.level.is_none() && !is_last(i) {
                h.level = Some(l);
                level_end = Some(i);
            }
        } else if i >= k && !classes[i].idish && !t.starts_with(b"[") && !classes[i].time {
            words += 1;
            if words > 3 {
                stopped = true;
                break;
            }
        }
        prev_numeric = classes[i].idish || classes[i].time;
    }
    if !stopped && !complete {
        return None;
    }
    if let Some(li) = level_end {
        let mut j = li + 1;
        // A thread in brackets, then separators, right after the level belong to the header.
        while j < toks.len() && (tok(j).starts_with(b"[") || is_sep(tok(j))) {
            j += 1;
        }
        if j == toks.len() && !complete {
            return None;
        }
        h.msg_start = if j < toks.len() {
            toks[j].0
        } else {
            line.len()
        };
        return Some(Some(finish(line, h, min_start)));
    }
    // No component, no level: the leading run of time-like, id-like and dotted columns.
    let mut j = 0;
    while j < toks.len() && (classes[j].time || classes[j].idish || is_dotted_ident(tok(j))) {
        j += 1;
    }
    if j == toks.len() {
        return if complete { Some(None) } else { None };
    }
    h.msg_start = toks[j].0;
    Some(Some(finish(line, h, min_start)))
}

fn finish(line: &[u8], mut h: Header, min_start: usize) -> Header {
    h.msg_start = h.msg_start.max(min_start);
    while h.msg_start < line.len() && line[h.msg_start].is_ascii_whitespace() {
        h.msg_start += 1;
    }
    h
}
