//! Turning one log line into a [`Record`]: format, timestamp, level, service and message.
//!
//! The format is detected per stream ([`detect`]) from a sample of lines and tried first for
//! every line; a line that does not fit falls back to per-line detection, and a line that fits
//! nothing is kept whole as [`Format::Raw`] (counted by the caller, never dropped).

pub mod formats;
pub mod header;
#[cfg(test)]
pub(crate) mod header_reference;
pub mod layout;
pub mod time;

use std::borrow::Cow;

use serde::Serialize;

pub use layout::Columns;
pub use time::{TimeDefaults, parse_timestamp};

/// Severity, normalized across formats (`WARNING`, `warn`, `W` and syslog 4 are all `Warn`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Finer than debug (`TRACE`, `VERBOSE`, `FINEST`).
    Trace,
    /// `DEBUG`, `FINE`.
    Debug,
    /// `INFO`, `INFORMATION`.
    Info,
    /// `NOTICE`.
    Notice,
    /// `WARN`, `WARNING`.
    Warn,
    /// `ERROR`, `ERR`, `SEVERE`.
    Error,
    /// `FATAL`, `CRITICAL`, `ALERT`, `EMERG`, `PANIC`.
    Fatal,
}

impl Level {
    /// Recognizes a level word in any case; `None` for anything else.
    #[inline]
    pub fn from_word(w: &[u8]) -> Option<Level> {
        if w.len() < 3 || w.len() > 11 {
            return None;
        }
        // Every level word starts with one of these letters; most tokens asked about (header
        // columns, component names, message words) do not, and leave before the upper-casing.
        if !matches!(
            w[0].to_ascii_uppercase(),
            b'T' | b'V' | b'F' | b'D' | b'I' | b'N' | b'W' | b'E' | b'S' | b'C' | b'A' | b'P'
        ) {
            return None;
        }
        let mut buf = [0u8; 11];
        for (d, s) in buf.iter_mut().zip(w) {
            *d = s.to_ascii_uppercase();
        }
        Some(match &buf[..w.len()] {
            // Four- and three-letter forms are how some loggers align their columns
            // (`ERRO[0005]`, `WRN`).
            b"TRACE" | b"VERBOSE" | b"FINEST" | b"FINER" | b"TRAC" | b"TRC" => Level::Trace,
            b"DEBUG" | b"DBG" | b"FINE" | b"DEBU" => Level::Debug,
            b"INFO" | b"INF" | b"INFORMATION" => Level::Info,
            b"NOTICE" => Level::Notice,
            b"WARN" | b"WARNING" | b"WRN" => Level::Warn,
            b"ERROR" | b"ERR" | b"SEVERE" | b"FAILURE" | b"ERRO" => Level::Error,
            b"FATAL" | b"CRIT" | b"CRITICAL" | b"ALERT" | b"EMERG" | b"EMERGENCY" | b"PANIC"
            | b"FATA" | b"PANI" | b"FTL" | b"PNC" => Level::Fatal,
            _ => return None,
        })
    }

    /// True for error and worse: what the error-rate series counts.
    pub fn is_error(self) -> bool {
        self >= Level::Error
    }

    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Trace => "trace",
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Notice => "notice",
            Level::Warn => "warn",
            Level::Error => "error",
            Level::Fatal => "fatal",
        }
    }
}

/// The shape a line was parsed as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// One JSON object per line.
    Json,
    /// `key=value` pairs.
    Logfmt,
    /// RFC 5424 syslog.
    Syslog5424,
    /// RFC 3164 (BSD) syslog, with or without `<PRI>`.
    Syslog3164,
    /// Common or combined access log.
    Access,
    /// Free text after a leading header (timestamp, level, pid, thread, component).
    Header,
    /// Nothing recognized: the whole line is the message.
    Raw,
}

impl Format {
    const DETECTABLE: [Format; 6] = [
        Format::Json,
        Format::Syslog5424,
        Format::Access,
        Format::Syslog3164,
        Format::Logfmt,
        Format::Header,
    ];
}

/// One parsed line. Text borrows from the line where it can.
#[derive(Debug, Clone, PartialEq)]
pub struct Record<'a> {
    /// How it was parsed.
    pub format: Format,
    /// The timestamp as written (parse it with [`Record::timestamp`]; mining does not need it,
    /// so it is not parsed eagerly).
    pub time_text: Option<Cow<'a, str>>,
    /// Severity.
    pub level: Option<Level>,
    /// Service, program or component.
    pub service: Option<Cow<'a, str>>,
    /// The message: what templates are mined from.
    pub message: Cow<'a, str>,
    /// Other fields of structured formats, in order.
    pub fields: Vec<(Cow<'a, str>, Cow<'a, str>)>,
}

impl<'a> Record<'a> {
    fn raw(format: Format, message: Cow<'a, str>) -> Self {
        Record {
            format,
            time_text: None,
            level: None,
            service: None,
            message,
            fields: Vec::new(),
        }
    }

    /// The timestamp, parsed with the given defaults for missing year and zone.
    pub fn timestamp(&self, d: &TimeDefaults) -> Option<jiff::Timestamp> {
        self.time_text
            .as_deref()
            .and_then(|t| parse_timestamp(t, d))
    }
}

#[inline]
fn parse_as<'a>(
    format: Format,
    line: &'a str,
    columns: usize,
    toks: &mut header::Toks,
) -> Option<Record<'a>> {
    match format {
        Format::Json => formats::json(line),
        Format::Logfmt => formats::logfmt(line),
        Format::Syslog5424 | Format::Syslog3164 => formats::syslog(line),
        Format::Access => formats::access(line),
        Format::Header => free_text(line, columns, toks),
        Format::Raw => Some(Record::raw(Format::Raw, Cow::Borrowed(line))),
    }
}

#[inline]
fn free_text<'a>(line: &'a str, columns: usize, toks: &mut header::Toks) -> Option<Record<'a>> {
    let h = header::parse_in(line.as_bytes(), columns, toks)?;
    let mut rec = Record::raw(Format::Header, Cow::Borrowed(&line[h.msg_start..]));
    rec.time_text = h.ts.map(|(a, b)| Cow::Borrowed(&line[a..b]));
    rec.level = h.level;
    rec.service = h.component.map(|(a, b)| Cow::Borrowed(&line[a..b]));
    Some(rec)
}

/// The format most of `sample` parses as (`Raw` when none fits), trying each line against every
/// format in turn (the per-line fallback's view; [`Parser::learn`] is what streams use).
pub fn detect<'s>(sample: impl IntoIterator<Item = &'s str>) -> Format {
    let mut votes = [0usize; 6];
    let mut toks = header::Toks::new();
    for line in sample {
        if line.trim().is_empty() {
            continue;
        }
        if let Some(i) = Format::DETECTABLE
            .iter()
            .position(|&f| parse_as(f, line, 0, &mut toks).is_some())
        {
            votes[i] += 1;
        }
    }
    match votes
        .iter()
        .enumerate()
        .max_by_key(|&(i, v)| (*v, usize::MAX - i))
    {
        Some((i, &v)) if v > 0 => Format::DETECTABLE[i],
        _ => Format::Raw,
    }
}

/// Record syntaxes recognized by their own grammar, before any header is learned: one JSON
/// object per line, RFC 5424 and `<PRI>`-prefixed RFC 3164 syslog, access logs, logfmt.
const RECORD_SYNTAXES: [Format; 5] = [
    Format::Json,
    Format::Syslog5424,
    Format::Syslog3164,
    Format::Access,
    Format::Logfmt,
];

/// Which record syntax a line is written in, if any (syslog only with its `<PRI>`; without
/// it, a syslog line is free text whose header is learned like any other).
fn record_syntax(line: &str) -> Option<Format> {
    let t = line.trim_start();
    let first = *t.as_bytes().first()?;
    if first == b'{' && formats::json(line).is_some() {
        return Some(Format::Json);
    }
    if first == b'<'
        && let Some(r) = formats::syslog(line)
    {
        return Some(r.format);
    }
    if formats::access(line).is_some() {
        return Some(Format::Access);
    }
    if formats::logfmt(line).is_some() {
        return Some(Format::Logfmt);
    }
    None
}

/// Scratch space reused from line to line by [`Parser::parse_in`].
#[derive(Default)]
pub struct Scratch {
    toks: header::Toks,
    cuts: layout::Cuts,
}

impl Scratch {
    /// Fresh scratch space.
    pub fn new() -> Self {
        Self::default()
    }
}

/// Parses lines of one stream with what was learned about it: its record syntax, or the header
/// columns of its free text ([`layout`]). A line that does not fit is parsed on its own (every
/// syntax in turn, then the shape-based header of [`header`], else the whole line).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parser {
    stream: Format,
    cols: Columns,
}

impl Parser {
    /// A parser for a stream known to be `stream` (see [`detect`]); free text (`Header`) is
    /// parsed line by line by shape, without learned columns.
    pub fn new(stream: Format) -> Self {
        Parser {
            stream,
            cols: Columns::NONE,
        }
    }

    /// Learns a stream's structure from a sample of its first lines: a record syntax when most
    /// lines are written in one, else the header columns of its free text ([`layout::learn`]);
    /// with no header found, lines are mined whole.
    pub fn learn(sample: &[&str]) -> Self {
        Self::learn_with(sample, layout::learn)
    }

    /// [`Parser::learn`] without finding where the timestamp is: enough to compare structures
    /// ([`Parser::same_shape`]).
    pub fn learn_shape(sample: &[&str]) -> Self {
        Self::learn_with(sample, layout::learn_shape)
    }

    /// Whether two parsers read lines the same way, up to what a smaller sample may not show
    /// (see [`Columns::same_shape`]).
    pub fn same_shape(&self, other: &Parser) -> bool {
        self.stream == other.stream && self.cols.same_shape(&other.cols)
    }

    fn learn_with(sample: &[&str], columns: fn(&[&[u8]]) -> Columns) -> Self {
        let mut votes = [0usize; RECORD_SYNTAXES.len()];
        let mut lines = 0usize;
        for l in sample {
            if l.trim().is_empty() {
                continue;
            }
            lines += 1;
            if let Some(f) = record_syntax(l.strip_suffix('\r').unwrap_or(l))
                && let Some(i) = RECORD_SYNTAXES.iter().position(|&x| x == f)
            {
                votes[i] += 1;
            }
        }
        if let Some((i, &v)) = votes
            .iter()
            .enumerate()
            .max_by_key(|&(i, v)| (*v, usize::MAX - i))
            && v > 0
            && v * 2 >= lines
        {
            return Parser::new(RECORD_SYNTAXES[i]);
        }
        let bytes: Vec<&[u8]> = sample
            .iter()
            .map(|l| l.strip_suffix('\r').unwrap_or(l).as_bytes())
            .collect();
        let cols = columns(&bytes);
        if cols.has_header() {
            Parser {
                stream: Format::Header,
                cols,
            }
        } else {
            Parser::new(Format::Raw)
        }
    }

    /// The stream's format.
    pub fn format(&self) -> Format {
        self.stream
    }

    /// The learned header columns (`Columns::NONE` unless the stream is free text with a header).
    pub fn columns(&self) -> &Columns {
        &self.cols
    }

    /// Parses one line (without its line ending). Never fails: unknown shapes are `Format::Raw`.
    #[inline]
    pub fn parse<'a>(&self, line: &'a str) -> Record<'a> {
        self.parse_in(line, &mut Scratch::new()).0
    }

    /// Share of the non-empty lines of `sample` that fit this parser's structure.
    pub fn fit(&self, sample: &[&str]) -> f64 {
        let mut scratch = Scratch::new();
        let (mut lines, mut ok) = (0usize, 0usize);
        for l in sample {
            if l.trim().is_empty() {
                continue;
            }
            lines += 1;
            ok += usize::from(self.fits(l, &mut scratch));
        }
        if lines == 0 {
            1.0
        } else {
            ok as f64 / lines as f64
        }
    }

    /// Whether one line fits the stream's structure (what [`Parser::parse_in`] answers, without
    /// parsing a line that does not fit on its own).
    pub fn fits(&self, line: &str, scratch: &mut Scratch) -> bool {
        let line = line.strip_suffix('\r').unwrap_or(line);
        match self.stream {
            Format::Header if self.cols.has_header() => self
                .cols
                .parse(line.as_bytes(), &mut scratch.cuts)
                .is_some(),
            Format::Raw => !starts_like_header(line.as_bytes()),
            f => parse_as(f, line, 0, &mut scratch.toks).is_some(),
        }
    }

    /// [`Parser::parse`] reusing scratch space from line to line; also says whether the line fit
    /// the stream's structure (a line that did not was parsed on its own).
    // Always inlined: returned from a call, the record (a dozen words) was written out and
    // copied again for every line.
    #[inline(always)]
    pub fn parse_in<'a>(&self, line: &'a str, scratch: &mut Scratch) -> (Record<'a>, bool) {
        let line = match line.as_bytes().last() {
            Some(b'\r') => &line[..line.len() - 1],
            _ => line,
        };
        match self.stream {
            Format::Header if self.cols.has_header() => {
                if let Some(h) = self.cols.parse(line.as_bytes(), &mut scratch.cuts) {
                    let mut rec = Record::raw(Format::Header, Cow::Borrowed(&line[h.msg_start..]));
                    rec.time_text = h.ts.map(|(a, b)| Cow::Borrowed(&line[a..b]));
                    rec.level = h.level;
                    rec.service = h.component.map(|(a, b)| Cow::Borrowed(&line[a..b]));
                    return (rec, true);
                }
            }
            Format::Raw => {
                // Lines of a stream without a header fit unless they start like one.
                let fits = !starts_like_header(line.as_bytes());
                return (Record::raw(Format::Raw, Cow::Borrowed(line)), fits);
            }
            f => {
                if let Some(r) = parse_as(f, line, 0, &mut scratch.toks) {
                    return (r, true);
                }
            }
        }
        (self.fallback(line, &mut scratch.toks), false)
    }

    /// A line that does not fit the stream: every syntax in turn, else the whole line.
    fn fallback<'a>(&self, line: &'a str, toks: &mut header::Toks) -> Record<'a> {
        for f in Format::DETECTABLE {
            if (f != self.stream || f == Format::Header)
                && let Some(r) = parse_as(f, line, 0, toks)
            {
                return r;
            }
        }
        Record::raw(Format::Raw, Cow::Borrowed(line))
    }
}

/// Whether a line opens with a timestamp-like token (a date, time, month or weekday name, or a
/// bracketed one): what makes a stream learned as headerless worth learning again.
fn starts_like_header(line: &[u8]) -> bool {
    let t = line.trim_ascii_start();
    let end = t
        .iter()
        .position(|b| b.is_ascii_whitespace())
        .unwrap_or(t.len());
    let first = &t[..end];
    matches!(
        layout::classify(first),
        layout::Class::Num | layout::Class::Cal | layout::Class::Klog
    ) && first.len() >= 5
        || first.starts_with(b"[") && first.iter().any(u8::is_ascii_digit) && first.len() >= 8
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(line: &str) -> Record<'_> {
        Parser::new(detect([line])).parse(line)
    }

    #[test]
    fn json_lines() {
        let r = p(
            r#"{"ts":"2024-01-02T03:04:05Z","level":"error","service":"api","msg":"db down","code":7,"ctx":{"id":"a"}}"#,
        );
        assert_eq!(r.format, Format::Json);
        assert_eq!(r.level, Some(Level::Error));
        assert_eq!(r.service.as_deref(), Some("api"));
        assert_eq!(r.message, "db down");
        assert_eq!(
            r.timestamp(&TimeDefaults::default()).map(|t| t.to_string()),
            Some("2024-01-02T03:04:05Z".into())
        );
        assert!(r.fields.iter().any(|(k, v)| k == "code" && v == "7"));
        assert!(r.fields.iter().any(|(k, v)| k == "ctx.id" && v == "a"));
    }

    #[test]
    fn logfmt_lines() {
        let r = p(r#"time=2024-01-02T03:04:05Z level=warn app=web msg="slow \"q\" done" dur=5ms"#);
        assert_eq!(r.format, Format::Logfmt);
        assert_eq!(r.level, Some(Level::Warn));
        assert_eq!(r.service.as_deref(), Some("web"));
        assert_eq!(r.message, "slow \"q\" done");
        assert_eq!(r.fields, vec![("dur".into(), "5ms".into())]);
    }

    #[test]
    fn syslog_5424() {
        let r = p(
            r#"<165>1 2003-10-11T22:14:15.003Z host.example.com evntslog - ID47 [exampleSDID@32473 iut="3"] An application event"#,
        );
        assert_eq!(r.format, Format::Syslog5424);
        assert_eq!(r.level, Some(Level::Notice));
        assert_eq!(r.service.as_deref(), Some("evntslog"));
        assert_eq!(r.message, "An application event");
        assert_eq!(r.time_text.as_deref(), Some("2003-10-11T22:14:15.003Z"));
    }

    #[test]
    fn syslog_3164() {
        let r =
            p("<34>Oct 11 22:14:15 mymachine su[230]: 'su root' failed for lonvick on /dev/pts/8");
        assert_eq!(r.format, Format::Syslog3164);
        assert_eq!(r.level, Some(Level::Fatal));
        assert_eq!(r.service.as_deref(), Some("su"));
        assert_eq!(r.message, "'su root' failed for lonvick on /dev/pts/8");
        assert!(r.fields.iter().any(|(k, v)| k == "pid" && v == "230"));
        let r = p("Jun 14 15:16:01 combo sshd(pam_unix)[19939]: check pass; user unknown");
        assert_eq!(r.format, Format::Syslog3164);
        assert_eq!(r.service.as_deref(), Some("sshd(pam_unix)"));
        assert_eq!(r.message, "check pass; user unknown");
    }

    #[test]
    fn access_logs() {
        let r = p(
            r#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 503 2326 "http://x/" "Mozilla/4.08""#,
        );
        assert_eq!(r.format, Format::Access);
        assert_eq!(r.level, Some(Level::Error));
        assert_eq!(r.message, "\"GET /apache_pb.gif HTTP/1.0\" 503");
        assert_eq!(
            r.timestamp(&TimeDefaults::default()).map(|t| t.to_string()),
            Some("2000-10-10T20:55:36Z".into())
        );
        assert!(
            r.fields
                .iter()
                .any(|(k, v)| k == "user_agent" && v == "Mozilla/4.08")
        );
    }

    #[test]
    fn header_lines() {
        let r = p("2015-10-18 18:01:47,978 INFO [main] org.apache.Foo: Created x");
        assert_eq!(r.format, Format::Header);
        assert_eq!(r.level, Some(Level::Info));
        assert_eq!(r.service.as_deref(), Some("org.apache.Foo"));
        assert_eq!(r.message, "Created x");
    }

    #[test]
    fn unparseable_lines_are_kept_raw() {
        let r = p("just some words");
        assert_eq!(r.format, Format::Raw);
        assert_eq!(r.message, "just some words");
        let r = p("");
        assert_eq!(r.format, Format::Raw);
    }

    #[test]
    fn stream_detection_prefers_the_majority() {
        let lines = ["a=1 b=2", "c=3 d=4", "{\"msg\":\"x\"}"];
        assert_eq!(detect(lines), Format::Logfmt);
    }

    proptest::proptest! {
        #[test]
        fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let line = String::from_utf8_lossy(&bytes);
            let parser = Parser::new(detect([line.as_ref()]));
            let r = parser.parse(&line);
            let _ = r.timestamp(&TimeDefaults::default());
            let mut sig = Vec::new();
            crate::mask::signature(r.message.as_bytes(), &mut sig);
        }

        #[test]
        fn never_panics_on_header_like_text(s in "[-0-9A-Za-z:.,\\[\\]<>= \"/]{0,120}") {
            let parser = Parser::new(Format::Header);
            let r = parser.parse(&s);
            let _ = r.timestamp(&TimeDefaults::default());
        }
    }
}
