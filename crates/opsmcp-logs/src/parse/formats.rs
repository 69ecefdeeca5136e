//! The structured formats: JSON lines, logfmt, syslog (RFC 5424 and RFC 3164) and common/combined
//! access logs. Each parser returns `None` when the line is not of its format, so they can be
//! tried in turn.

use std::borrow::Cow;

use super::{Format, Level, Record, header};

const TIME_KEYS: &[&str] = &[
    "timestamp",
    "@timestamp",
    "time",
    "ts",
    "t",
    "date",
    "datetime",
];
const LEVEL_KEYS: &[&str] = &[
    "level",
    "lvl",
    "severity",
    "loglevel",
    "log.level",
    "levelname",
];
const SERVICE_KEYS: &[&str] = &[
    "service",
    "service.name",
    "logger",
    "logger_name",
    "component",
    "app",
    "application",
    "module",
    "source",
];
const MSG_KEYS: &[&str] = &["msg", "message", "log", "text", "event", "body"];

fn pick<'v, V>(fields: &'v [(Cow<'_, str>, V)], keys: &[&str]) -> Option<(usize, &'v V)> {
    for k in keys {
        if let Some(i) = fields.iter().position(|(f, _)| f.eq_ignore_ascii_case(k)) {
            return Some((i, &fields[i].1));
        }
    }
    None
}

/// Fills time, level, service and message from the well-known keys; the rest stay in `fields`.
fn from_fields<'a>(format: Format, mut fields: Vec<(Cow<'a, str>, Cow<'a, str>)>) -> Record<'a> {
    let mut rec = Record::raw(format, Cow::Borrowed(""));
    if let Some((i, _)) = pick(&fields, TIME_KEYS) {
        rec.time_text = Some(fields.remove(i).1);
    }
    if let Some((i, v)) = pick(&fields, LEVEL_KEYS) {
        rec.level = Level::from_word(v.as_bytes());
        fields.remove(i);
    }
    if let Some((i, _)) = pick(&fields, SERVICE_KEYS) {
        rec.service = Some(fields.remove(i).1);
    }
    if let Some((i, _)) = pick(&fields, MSG_KEYS) {
        rec.message = fields.remove(i).1;
    } else {
        // No message key: the message is the shape of the record, `key=<value>` in order, so
        // records of one kind still form one template.
        let mut m = String::new();
        for (k, v) in &fields {
            if !m.is_empty() {
                m.push(' ');
            }
            m.push_str(k);
            m.push('=');
            m.push_str(v);
        }
        rec.message = Cow::Owned(m);
    }
    rec.fields = fields;
    rec
}

/// One JSON object per line.
pub fn json(line: &str) -> Option<Record<'_>> {
    let t = line.trim();
    if !t.starts_with('{') || !t.ends_with('}') {
        return None;
    }
    let v: serde_json::Map<String, serde_json::Value> = serde_json::from_str(t).ok()?;
    let mut fields: Vec<(Cow<str>, Cow<str>)> = Vec::with_capacity(v.len());
    flatten("", &v, &mut fields);
    Some(from_fields(Format::Json, fields))
}

fn flatten(
    prefix: &str,
    v: &serde_json::Map<String, serde_json::Value>,
    out: &mut Vec<(Cow<'static, str>, Cow<'static, str>)>,
) {
    for (k, val) in v {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match val {
            serde_json::Value::Object(m) if out.len() < 256 => flatten(&key, m, out),
            serde_json::Value::String(s) => out.push((key.into(), s.clone().into())),
            other => out.push((key.into(), other.to_string().into())),
        }
    }
}

/// `key=value key2="quoted value"` with at least two pairs, starting with a pair.
pub fn logfmt(line: &str) -> Option<Record<'_>> {
    let b = line.as_bytes();
    let mut fields: Vec<(Cow<str>, Cow<str>)> = Vec::new();
    let mut i = 0;
    let n = b.len();
    while i < n {
        while i < n && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= n {
            break;
        }
        let ks = i;
        while i < n && b[i] != b'=' && !b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= n || b[i] != b'=' || i == ks {
            return None;
        }
        let key = &line[ks..i];
        if !key
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-' | b'@'))
        {
            return None;
        }
        i += 1;
        let val: Cow<str> = if i < n && b[i] == b'"' {
            i += 1;
            let vs = i;
            let mut owned: Option<String> = None;
            while i < n && b[i] != b'"' {
                if b[i] == b'\\' && i + 1 < n {
                    let o = owned.get_or_insert_with(|| line[vs..i].to_string());
                    o.push(b[i + 1] as char);
                    i += 2;
                    continue;
                }
                if let Some(o) = owned.as_mut() {
                    let ch = line[i..].chars().next()?;
                    o.push(ch);
                    i += ch.len_utf8();
                    continue;
                }
                i += 1;
            }
            if i >= n {
                return None;
            }
            let v = owned.map(Cow::Owned).unwrap_or(Cow::Borrowed(&line[vs..i]));
            i += 1;
            v
        } else {
            let vs = i;
            while i < n && !b[i].is_ascii_whitespace() {
                i += 1;
            }
            Cow::Borrowed(&line[vs..i])
        };
        fields.push((Cow::Borrowed(key), val));
    }
    if fields.len() < 2 {
        return None;
    }
    Some(from_fields(Format::Logfmt, fields))
}

fn severity(pri: u32) -> Level {
    match pri % 8 {
        0..=2 => Level::Fatal,
        3 => Level::Error,
        4 => Level::Warn,
        5 => Level::Notice,
        6 => Level::Info,
        _ => Level::Debug,
    }
}

fn take_token(s: &str) -> Option<(&str, &str)> {
    let s = s.trim_start_matches(' ');
    if s.is_empty() {
        return None;
    }
    match s.find(' ') {
        Some(i) => Some((&s[..i], &s[i + 1..])),
        None => Some((s, "")),
    }
}

/// `<PRI>1 TIMESTAMP HOST APP PROCID MSGID [SD] MSG` (RFC 5424) or `<PRI>Mmm dd hh:mm:ss HOST
/// TAG[PID]: MSG` (RFC 3164); without `<PRI>`, the 3164 shape (`Jun 14 15:16:01 host sshd[1]:`).
pub fn syslog(line: &str) -> Option<Record<'_>> {
    let (pri, rest) = if let Some(r) = line.strip_prefix('<') {
        let end = r.find('>')?;
        let pri: u32 = r[..end].parse().ok()?;
        if pri > 191 {
            return None;
        }
        (Some(pri), &r[end + 1..])
    } else {
        (None, line)
    };
    if pri.is_some() && rest.starts_with("1 ") {
        let (ts, r) = take_token(&rest[2..])?;
        let (host, r) = take_token(r)?;
        let (app, r) = take_token(r)?;
        let (_procid, r) = take_token(r)?;
        let (_msgid, mut r) = take_token(r)?;
        let mut fields = Vec::new();
        if r.starts_with('[') {
            // Structured data: `[id k="v" ...][...]`; keep it whole as one field.
            let mut depth_end = 0;
            let mut in_q = false;
            let mut esc = false;
            for (i, c) in r.char_indices() {
                if esc {
                    esc = false;
                    continue;
                }
                match c {
                    '\\' => esc = true,
                    '"' => in_q = !in_q,
                    ']' if !in_q => {
                        depth_end = i + 1;
                        if !r[i + 1..].starts_with('[') {
                            break;
                        }
                    }
                    _ => {}
                }
            }
            fields.push((
                Cow::Borrowed("structured_data"),
                Cow::Borrowed(&r[..depth_end]),
            ));
            r = r[depth_end..].trim_start();
        } else if let Some(x) = r.strip_prefix("- ") {
            r = x;
        } else if r == "-" {
            r = "";
        }
        let r = r.strip_prefix('\u{feff}').unwrap_or(r);
        let mut rec = Record::raw(Format::Syslog5424, Cow::Borrowed(r));
        rec.time_text = (ts != "-").then_some(Cow::Borrowed(ts));
        rec.level = pri.map(severity);
        rec.service = (app != "-").then_some(Cow::Borrowed(app));
        if host != "-" {
            fields.push((Cow::Borrowed("host"), Cow::Borrowed(host)));
        }
        rec.fields = fields;
        return Some(rec);
    }
    // RFC 3164: `Mmm dd hh:mm:ss host tag[pid]: msg`.
    let (mon, r) = take_token(rest)?;
    if mon.len() != 3 || !header::is_calendar_word(mon.as_bytes()) {
        return None;
    }
    let (day, r) = take_token(r)?;
    if day.is_empty() || day.len() > 2 || !day.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let (time, r) = take_token(r)?;
    if time.len() < 8 || time.as_bytes()[2] != b':' {
        return None;
    }
    let ts_end = line.len() - r.len();
    let ts_start = line.len() - rest.len();
    let (host, r) = take_token(r)?;
    let (tag, msg) = match take_token(r) {
        Some((t, m)) if t.ends_with(':') && t.len() > 1 => (Some(&t[..t.len() - 1]), m),
        _ => (None, r),
    };
    let mut rec = Record::raw(Format::Syslog3164, Cow::Borrowed(msg.trim_start()));
    rec.time_text = Some(Cow::Borrowed(line[ts_start..ts_end].trim()));
    rec.level = pri.map(severity);
    let mut fields = vec![(Cow::Borrowed("host"), Cow::Borrowed(host))];
    if let Some(tag) = tag {
        let (name, pid) = match tag.find('[') {
            Some(i) => (&tag[..i], tag[i + 1..].strip_suffix(']')),
            None => (tag, None),
        };
        rec.service = Some(Cow::Borrowed(name));
        if let Some(pid) = pid {
            fields.push((Cow::Borrowed("pid"), Cow::Borrowed(pid)));
        }
    }
    rec.fields = fields;
    Some(rec)
}

/// Common and combined access logs:
/// `host ident user [10/Oct/2000:13:55:36 -0700] "GET /a HTTP/1.0" 200 2326 ["ref" "agent"]`.
/// The message is the quoted request line and the status (an access record, see
/// [`crate::mask`]); the level follows the status (5xx error, 4xx warning).
pub fn access(line: &str) -> Option<Record<'_>> {
    let (host, r) = take_token(line)?;
    let (ident, r) = take_token(r)?;
    let (user, r) = take_token(r)?;
    let r = r.trim_start().strip_prefix('[')?;
    let close = r.find(']')?;
    let ts = &r[..close];
    let r = r[close + 1..].trim_start().strip_prefix('"')?;
    let q = r.find('"')?;
    let request = &r[..q];
    let r = &r[q + 1..];
    let (status, r) = take_token(r)?;
    let code: u16 = status.parse().ok()?;
    if !(100..=599).contains(&code) {
        return None;
    }
    let (size, r) = take_token(r).unwrap_or(("-", ""));
    let mut rec = Record::raw(
        Format::Access,
        Cow::Owned(format!("\"{request}\" {status}")),
    );
    rec.time_text = Some(Cow::Borrowed(ts));
    rec.level = Some(match code {
        500..=599 => Level::Error,
        400..=499 => Level::Warn,
        _ => Level::Info,
    });
    let mut fields = vec![
        (Cow::Borrowed("client"), Cow::Borrowed(host)),
        (Cow::Borrowed("status"), Cow::Borrowed(status)),
        (Cow::Borrowed("bytes"), Cow::Borrowed(size)),
    ];
    if ident != "-" {
        fields.push((Cow::Borrowed("ident"), Cow::Borrowed(ident)));
    }
    if user != "-" {
        fields.push((Cow::Borrowed("user"), Cow::Borrowed(user)));
    }
    let mut parts = r.split('"').filter(|s| !s.trim().is_empty());
    if let Some(referer) = parts.next() {
        fields.push((Cow::Borrowed("referer"), Cow::Borrowed(referer)));
    }
    if let Some(agent) = parts.next() {
        fields.push((Cow::Borrowed("user_agent"), Cow::Borrowed(agent)));
    }
    rec.fields = fields;
    Some(rec)
}
