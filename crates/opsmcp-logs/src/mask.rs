//! Tokenizing a message and masking its variable parts into a *signature*: the message with every
//! number, hex string, address, identifier with digits, `key=value` value and quoted string replaced
//! by `<*>`. Two lines with the same signature always belong to the same template, which is what
//! lets the miner skip all similarity work for nearly every line (see `miner`).
//!
//! Masking is a pure function of the bytes of one message, so it runs on any thread.

/// The placeholder written for a masked variable, as it appears in templates.
pub const VAR: &[u8] = b"<*>";
// `signature` matches the placeholder as the pattern `[b'<', b'*', b'>']`.
const _: () = assert!(VAR.len() == 3 && VAR[0] == b'<' && VAR[1] == b'*' && VAR[2] == b'>');

/// Bytes that split a token into segments; a segment is masked when it holds a digit.
#[inline]
const fn is_delim(b: u8) -> bool {
    matches!(
        b,
        b'=' | b':'
            | b','
            | b';'
            | b'('
            | b')'
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'"'
            | b'<'
            | b'>'
            | b'|'
    )
}

// Byte classes, looked up in one table. Masking is the hottest loop of mining: one lookup per
// byte, OR-ed and AND-ed over a token while it is being cut out, answers every "does the token
// hold a digit / a `=` / only hex digits / only number characters" question without another
// pass over the token.
const WS: u16 = 1;
const DIGIT: u16 = 2;
const HEX: u16 = 4;
/// `=` or `"`: the token has a value or a quoted part.
const SPECIAL: u16 = 8;
const COLON: u16 = 16;
const DELIM: u16 = 32;
/// Digits and the characters of numbers, dates and times: `-:./+_`.
const NUMLIKE: u16 = 64;
const QUOTE: u16 = 128;
/// `/`: only a token holding one can be a path or a URL, so most words skip those checks.
const SLASH: u16 = 256;
/// `;`: a message with two may be a record of fields (see [`signature`]).
const SEMI: u16 = 512;

const CLASS: [u16; 256] = {
    let mut t = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        let mut c = 0;
        if b.is_ascii_whitespace() {
            c |= WS;
        }
        if b.is_ascii_digit() {
            c |= DIGIT | NUMLIKE;
        }
        if b.is_ascii_hexdigit() {
            c |= HEX;
        }
        if b == b'=' || b == b'"' {
            c |= SPECIAL;
        }
        if b == b':' {
            c |= COLON;
        }
        if is_delim(b) {
            c |= DELIM;
        }
        if matches!(b, b'-' | b':' | b'.' | b'/' | b'+' | b'_') {
            c |= NUMLIKE;
        }
        if b == b'"' {
            c |= QUOTE;
        }
        if b == b'/' {
            c |= SLASH;
        }
        if b == b';' {
            c |= SEMI;
        }
        t[i] = c;
        i += 1;
    }
    t
};

#[inline]
fn class(b: u8) -> u16 {
    CLASS[b as usize]
}

/// The class bits of one token: `any` OR-ed over its bytes, `all` AND-ed.
#[derive(Clone, Copy)]
struct Classes {
    any: u16,
    all: u16,
}

impl Classes {
    fn of(tok: &[u8]) -> Self {
        tok.iter()
            .fold(Classes { any: 0, all: !0 }, |c, &b| Classes {
                any: c.any | class(b),
                all: c.all & class(b),
            })
    }
}

/// Cuts the next token out of `msg` from `*pos` (see [`for_each_token`] for the rules), with
/// its class bits; `None` at the end.
#[inline]
fn next_token<'m>(msg: &'m [u8], pos: &mut usize) -> Option<(&'m [u8], Classes)> {
    next_token_after(msg, pos, false)
}

/// [`next_token`]; after a label (`request:`), a quoted value is one token even with spaces.
#[inline]
fn next_token_after<'m>(
    msg: &'m [u8],
    pos: &mut usize,
    after_label: bool,
) -> Option<(&'m [u8], Classes)> {
    let n = msg.len();
    // Most tokens hold no quote: cut by the plain loop, out of line (see [`cut_plain`]).
    let (start, cl) = cut_plain(msg, pos);
    if start >= n {
        return None;
    }
    if *pos >= n || msg[*pos] != b'"' {
        return Some((&msg[start..*pos], cl));
    }
    let mut i = start;
    let mut cl = Classes { any: 0, all: !0 };
    // Inside a quoted value (`key="…"`), spaces do not end the token; elsewhere a quote is just
    // a character, so a quoted sentence (`"GET /x HTTP/1.1"`) is mined word by word.
    let mut in_value =
        after_label && msg[start] == b'"' && closing_quote(&msg[start + 1..]).is_some();
    if in_value {
        let c = class(msg[start]);
        cl.any |= c;
        cl.all &= c;
        i += 1;
    }
    while i < n {
        let b = msg[i];
        let c = class(b);
        if c & (WS | QUOTE) != 0 {
            if c & QUOTE != 0 {
                if in_value {
                    if msg[i - 1] != b'\\' {
                        in_value = false;
                    }
                } else if i > start && msg[i - 1] == b'=' && closing_quote(&msg[i + 1..]).is_some()
                {
                    in_value = true;
                }
            } else if !in_value {
                break;
            }
        }
        cl.any |= c;
        cl.all &= c;
        i += 1;
    }
    *pos = i;
    Some((&msg[start..i], cl))
}

/// Skips the whitespace at `*pos` and cuts the token after it up to whitespace or a quote (or
/// the end), leaving `*pos` there; its start and class bits. Not inlined: inlined into
/// [`mask_words`], these two loops were compiled with a dozen derived counters kept in step,
/// several of them on the stack, for every byte.
#[inline(never)]
fn cut_plain(msg: &[u8], pos: &mut usize) -> (usize, Classes) {
    let n = msg.len();
    let mut i = *pos;
    while i < n && class(msg[i]) & WS != 0 {
        i += 1;
    }
    let start = i;
    let mut cl = Classes { any: 0, all: !0 };
    while i < n {
        let c = class(msg[i]);
        if c & (WS | QUOTE) != 0 {
            break;
        }
        cl.any |= c;
        cl.all &= c;
        i += 1;
    }
    *pos = i;
    (start, cl)
}

/// Where the quote closing a quoted value is in `rest` (the bytes after its opening quote),
/// skipping backslash-escaped quotes.
fn closing_quote(rest: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(k) = memchr::memchr(b'"', &rest[from..]) {
        let at = from + k;
        if at == 0 || rest[at - 1] != b'\\' {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// Splits `msg` into whitespace-separated tokens, keeping a quoted value that contains spaces
/// together as one token (`tag="View Lock"` is one value, not two words), and calls `f` with
/// each token.
#[inline]
pub fn for_each_token(msg: &[u8], mut f: impl FnMut(&[u8])) {
    let mut pos = 0;
    while let Some((tok, _)) = next_token(msg, &mut pos) {
        f(tok);
    }
}

/// Appends the masked form of one token to `out`.
#[inline]
pub fn mask_token(tok: &[u8], out: &mut Vec<u8>) {
    mask_classified(tok, Classes::of(tok), out);
}

/// [`mask_token`] with the token's class bits already known (from cutting it out).
#[inline]
fn mask_classified(tok: &[u8], cl: Classes, out: &mut Vec<u8>) {
    let has_digit = cl.any & DIGIT != 0;
    let has_special = cl.any & SPECIAL != 0;
    let has_colon = cl.any & COLON != 0;
    let all_hex = cl.all & HEX != 0;
    // Fast path: a token with no digit, no delimiter-introduced value and no quote is a word.
    if !has_digit && !has_special {
        if is_empty_group(tok) {
            out.push(tok[0]);
            out.extend_from_slice(VAR);
            out.extend_from_slice(&tok[1..]);
        } else if (all_hex && tok.len() >= 8)
            || is_variable_word_in(tok, has_colon, cl.any & SLASH != 0)
        {
            out.extend_from_slice(VAR);
        } else {
            out.extend_from_slice(tok);
        }
        return;
    }
    // Numbers, dates and times (`20:55:07`, `2005-06-03`, `1.5`) are one variable.
    let body = tok.strip_suffix(b",").unwrap_or(tok);
    let numeric = if body.len() == tok.len() {
        cl.all & NUMLIKE != 0
    } else {
        body.iter().all(|&b| class(b) & NUMLIKE != 0)
    };
    if has_digit && numeric {
        out.extend_from_slice(VAR);
        out.extend_from_slice(&tok[body.len()..]);
        return;
    }
    // A token without delimiters is one segment (see the loop below): decided from its class
    // bits, without cutting it again.
    if cl.any & DELIM == 0 {
        if has_digit || is_variable_word_in(tok, false, cl.any & SLASH != 0) {
            out.extend_from_slice(VAR);
        } else {
            out.extend_from_slice(tok);
        }
        return;
    }
    // A URL (`"http://10.0.0.5:8080/a?q=1",`) is one variable, whatever it holds.
    if has_colon
        && let Some(at) = scheme_at(tok)
        && !tok[..at].contains(&b'=')
    {
        let start = tok[..at]
            .iter()
            .rposition(|&b| !b.is_ascii_alphanumeric() && b != b'+' && b != b'-')
            .map_or(0, |p| p + 1);
        let end = tok
            .iter()
            .rposition(|&b| !matches!(b, b'"' | b'\'' | b',' | b';' | b')' | b']' | b'>'))
            .map_or(tok.len(), |p| p + 1)
            .max(at + 3);
        if start < at {
            out.extend_from_slice(&tok[..start]);
            out.extend_from_slice(VAR);
            out.extend_from_slice(&tok[end..]);
            return;
        }
    }
    let mut i = 0;
    let n = tok.len();
    // One `key=value` pair in the token (computed when a `=` is met).
    let mut single_pair: Option<bool> = None;
    let mut last_var = false;
    while i < n {
        let b = tok[i];
        if b == b'=' {
            // `key=value`: the whole value, brackets and all, is one variable; it ends at `,` or
            // `;` or at a closing bracket that it did not open.
            out.push(b);
            i += 1;
            let value_start = i;
            let mut depth = 0i32;
            let mut q = false;
            while i < n {
                match tok[i] {
                    b'"' => q = !q,
                    b'(' | b'[' | b'{' | b'<' if !q => depth += 1,
                    b')' | b']' | b'}' | b'>' if !q => {
                        depth -= 1;
                        if depth < 0 {
                            break;
                        }
                    }
                    b',' | b';' if !q && depth == 0 => break,
                    _ => {}
                }
                i += 1;
            }
            // An empty value stays empty: `rhost=` and `rhost=<*>` are told apart. A value that
            // is one plain word (`user=root`, `probeType="Readiness"`) in a token holding one
            // pair is kept: few-valued words often carry the meaning, and the miner makes the
            // position a variable once it has shown enough values (see `miner`).
            if i > value_start {
                let value = &tok[value_start..i];
                let single = *single_pair.get_or_insert_with(|| {
                    memchr::memchr(b'=', tok)
                        .is_some_and(|e| memchr::memchr(b'=', &tok[e + 1..]).is_none())
                });
                if single && is_plain_value(value) {
                    out.extend_from_slice(value);
                    last_var = false;
                } else if single && mask_object(value, out) {
                    last_var = false;
                } else {
                    out.extend_from_slice(VAR);
                    last_var = true;
                }
            }
            continue;
        }
        if class(b) & DELIM != 0 {
            out.push(b);
            last_var = false;
            i += 1;
            continue;
        }
        let start = i;
        let mut seg_any = 0u16;
        while i < n && class(tok[i]) & DELIM == 0 {
            seg_any |= class(tok[i]);
            i += 1;
        }
        let seg = &tok[start..i];
        if seg_any & DIGIT != 0
            || is_variable_word_in(seg, false, seg_any & SLASH != 0)
            || is_endpoint_host(seg, &tok[i..])
        {
            if !last_var {
                out.extend_from_slice(VAR);
            }
            last_var = true;
        } else {
            out.extend_from_slice(seg);
            last_var = false;
        }
    }
}

/// A host name of three or more labels followed by a numeric port (`db.eu.internal:5432`): an
/// endpoint, so the host is instance data like the port. (One dot could be a source location,
/// `main.go:42`.)
fn is_endpoint_host(seg: &[u8], rest: &[u8]) -> bool {
    let Some(port) = rest.strip_prefix(b":") else {
        return false;
    };
    let digits = port.iter().take_while(|b| b.is_ascii_digit()).count();
    (1..=5).contains(&digits)
        && port[digits..]
            .iter()
            .all(|b| matches!(b, b',' | b';' | b')' | b']' | b'.'))
        && seg.iter().filter(|&&b| b == b'.').count() >= 2
        && seg.first().is_some_and(u8::is_ascii_alphabetic)
        && seg
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}

/// Where `://` is in a token (short tokens: a `memchr` for `:` beats setting up a substring
/// search).
#[inline]
fn scheme_at(tok: &[u8]) -> Option<usize> {
    memchr::memchr_iter(b':', tok).find(|&i| tok[i + 1..].starts_with(b"//"))
}

/// A `key=value` value kept as a word: letters only (`root`, `"Readiness"`), optionally quoted,
/// and not a hex string; unquoted, also words joined by hyphens (`mode=read-only`,
/// `state=non-blocking`: a compound word). A quoted value with a hyphen (`"web-db"`) or any
/// other identifier-like value (`RILJ_ACK_WL`) is a variable: quoting marks a name.
pub(crate) fn is_plain_value(v: &[u8]) -> bool {
    let (v, quoted) = match v {
        [b'"', inner @ .., b'"'] => (inner, true),
        _ => (v, false),
    };
    (1..=32).contains(&v.len())
        && if quoted {
            v.iter().all(u8::is_ascii_alphabetic)
        } else {
            v.split(|&b| b == b'-')
                .all(|p| !p.is_empty() && p.iter().all(u8::is_ascii_alphabetic))
        }
        && !is_variable_word(v, false)
}

/// A value that is a flat JSON object (`{"id":"7f3a","kind":"Started","n":3}`): it holds its
/// own key/value pairs, so it is masked pair by pair: keys kept, a value that is one plain
/// word kept (it may say what happened), any other value a variable. False, writing nothing,
/// when the value is not such an object.
fn mask_object(v: &[u8], out: &mut Vec<u8>) -> bool {
    let Some(inner) = v.strip_prefix(b"{").and_then(|r| r.strip_suffix(b"}")) else {
        return false;
    };
    if inner.is_empty() || inner.iter().any(|b| matches!(b, b'{' | b'[' | b'\\')) {
        return false;
    }
    let mut pairs = Vec::new();
    let mut rest = inner;
    while !rest.is_empty() {
        // `"key":`
        let Some(k) = rest.strip_prefix(b"\"") else {
            return false;
        };
        let Some(ke) = memchr::memchr(b'"', k) else {
            return false;
        };
        let Some(after) = k[ke + 1..].strip_prefix(b":") else {
            return false;
        };
        let key = &rest[..ke + 3];
        // The value: a quoted string or a bare token, up to the next `,`.
        let (value, next) = if after.starts_with(b"\"") {
            match memchr::memchr(b'"', &after[1..]) {
                Some(e) => after.split_at(e + 2),
                None => return false,
            }
        } else {
            let e = memchr::memchr(b',', after).unwrap_or(after.len());
            after.split_at(e)
        };
        if value.is_empty() {
            return false;
        }
        pairs.push((key, value));
        rest = match next {
            [] => next,
            [b',', r @ ..] => r,
            _ => return false,
        };
    }
    out.push(b'{');
    for (n, (key, value)) in pairs.into_iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        out.extend_from_slice(key);
        if is_plain_value(value) {
            out.extend_from_slice(value);
        } else {
            let quoted = value.len() >= 2 && value.starts_with(b"\"");
            if quoted {
                out.push(b'"');
            }
            out.extend_from_slice(VAR);
            if quoted {
                out.push(b'"');
            }
        }
    }
    out.push(b'}');
    true
}

/// Unit words that belong to the number before them (`12 KB`, `5 ms`).
#[inline]
fn is_unit(w: &[u8]) -> bool {
    let w = w.strip_suffix(b",").unwrap_or(w);
    matches!(
        w,
        b"B" | b"KB"
            | b"MB"
            | b"GB"
            | b"TB"
            | b"KiB"
            | b"MiB"
            | b"GiB"
            | b"TiB"
            | b"kB"
            | b"bytes"
            | b"ms"
            | b"us"
            | b"ns"
            | b"s"
            | b"sec"
            | b"secs"
            | b"seconds"
            | b"minutes"
            | b"min"
            | b"mins"
            | b"hours"
            | b"h"
            | b"%"
    )
}

/// `()`, `[]`, `{}`, `""`: a variable that happened to be empty.
#[inline]
fn is_empty_group(w: &[u8]) -> bool {
    matches!(w, b"()" | b"[]" | b"{}" | b"\"\"" | b"''" | b"()," | b"[],")
}

/// Words without digits that are still variables: hex runs long enough to be ids, paths or
/// URLs (their parts are almost always instance data), and capitalized month and weekday names
/// (parts of dates written inside messages).
#[inline(always)]
fn is_variable_word(w: &[u8], may_be_url: bool) -> bool {
    is_variable_word_in(w, may_be_url, w.contains(&b'/'))
}

/// [`is_variable_word`], told whether `w` holds a `/` (known from cutting it out): paths and
/// URLs need one.
#[inline(always)]
fn is_variable_word_in(w: &[u8], may_be_url: bool, has_slash: bool) -> bool {
    if (w.len() == 3 || w.len() == 4 && w[3] == b',')
        && w[0].is_ascii_uppercase()
        && crate::parse::header::is_calendar_word(&w[..3])
    {
        return true;
    }
    if w.len() >= 8 && w.iter().all(u8::is_ascii_hexdigit) && !may_be_url {
        return true;
    }
    if !has_slash {
        return false;
    }
    if w.len() > 1
        && (w[0] == b'/' || w.starts_with(b"\\\\"))
        && w[1..].contains(&b'/')
        && w.iter().any(u8::is_ascii_alphanumeric)
    {
        return true;
    }
    // A relative path of three or more parts (`projects/acme/topics/orders`) is instance data
    // too; one slash (`pts/3`, `text/html`) is not enough to tell.
    if w.len() >= 5
        && w[0].is_ascii_alphanumeric()
        && w.iter().filter(|&&b| b == b'/').nth(1).is_some()
        && !w.windows(2).any(|x| x == b"//")
        && w.iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'.' | b'_' | b'-'))
    {
        return true;
    }
    may_be_url && w.windows(3).any(|x| x == b"://")
}

/// HTTP methods, as request lines start.
pub(crate) const METHODS: [&[u8]; 9] = [
    b"GET", b"POST", b"PUT", b"DELETE", b"PATCH", b"HEAD", b"OPTIONS", b"CONNECT", b"TRACE",
];

/// A quoted HTTP request line in `msg` (`"GET /a/b?c=1 HTTP/1.1"`): the byte ranges of the
/// method, the target and the protocol, and where the closing quote is.
fn find_request(msg: &[u8]) -> Option<[(usize, usize); 4]> {
    let mut from = 0;
    while let Some(k) = memchr::memchr(b'"', &msg[from..]) {
        let q = from + k;
        from = q + 1;
        let rest = &msg[q + 1..];
        let Some(sp) = memchr::memchr(b' ', rest) else {
            continue;
        };
        if !METHODS.contains(&&rest[..sp]) {
            continue;
        }
        // A request quoted as the value of a field (`request: "GET …"`, `req="GET …"`) is
        // one detail of some other event, not the record's own request.
        let before = msg[..q].trim_ascii_end();
        if before.ends_with(b":") || before.ends_with(b"=") {
            continue;
        }
        let Some(close) = memchr::memchr(b'"', &rest[sp + 1..]).map(|c| sp + 1 + c) else {
            continue;
        };
        let inner = &rest[sp + 1..close];
        let Some(sp2) = memchr::memrchr(b' ', inner) else {
            continue;
        };
        if !inner[sp2 + 1..].starts_with(b"HTTP/") || sp2 == 0 {
            continue;
        }
        let base = q + 1;
        return Some([
            (base, base + sp),
            (base + sp + 1, base + sp + 1 + sp2),
            (base + sp + 1 + sp2 + 1, base + close),
            (base + close, base + close + 1),
        ]);
    }
    None
}

/// An access-log record: a message holding a quoted HTTP request line. Its event is the
/// request: method, the target's skeleton (words kept; numbers, ids and query values masked)
/// and protocol; the fields around it (client, status, sizes, timings, agents) are attributes,
/// one variable for all of them on each side.
fn request_signature(msg: &[u8], r: [(usize, usize); 4], out: &mut Vec<u8>) {
    let [(ma, mb), (ta, tb), (pa, pb), (ca, _)] = r;
    if msg[..ma - 1].iter().any(|b| !b.is_ascii_whitespace()) {
        out.extend_from_slice(VAR);
        out.push(b' ');
    }
    out.push(b'"');
    out.extend_from_slice(&msg[ma..mb]);
    out.push(b' ');
    target_skeleton(&msg[ta..tb], out);
    out.push(b' ');
    out.extend_from_slice(&msg[pa..pb]);
    out.push(b'"');
    if msg[ca + 1..].iter().any(|b| !b.is_ascii_whitespace()) {
        out.push(b' ');
        out.extend_from_slice(VAR);
    }
}

/// A request target with its variable parts masked: in the path, every run of letters and
/// digits that holds a digit or is a long hex string; in the query, every value.
fn target_skeleton(t: &[u8], out: &mut Vec<u8>) {
    // An absolute target (`http://host:8080/a`): the host is where the request went, not
    // what it asked for.
    let t = match scheme_at(t) {
        Some(at) if t[..at].iter().all(u8::is_ascii_alphabetic) => {
            let rest = &t[at + 3..];
            let path_at = rest
                .iter()
                .position(|&b| b == b'/' || b == b'?')
                .unwrap_or(rest.len());
            out.extend_from_slice(&t[..at + 3]);
            out.extend_from_slice(VAR);
            &rest[path_at..]
        }
        _ => t,
    };
    let (path, query) = match memchr::memchr(b'?', t) {
        Some(q) => (&t[..q], Some(&t[q + 1..])),
        None => (t, None),
    };
    let mut i = 0;
    while i < path.len() {
        let b = path[i];
        // A file name carrying an id (`app.3f9c2b1d.js`, `report-2024.pdf`) is a file name,
        // all of it instance data but its extension.
        if b == b'/' {
            let end = memchr::memchr(b'/', &path[i + 1..]).map_or(path.len(), |e| i + 1 + e);
            if let Some(name) = file_name_with_id(&path[i + 1..end]) {
                out.push(b'/');
                out.extend_from_slice(VAR);
                out.extend_from_slice(name);
                i = end;
                continue;
            }
        }
        if !b.is_ascii_alphanumeric() {
            out.push(b);
            i += 1;
            continue;
        }
        let s = i;
        while i < path.len() && path[i].is_ascii_alphanumeric() {
            i += 1;
        }
        let run = &path[s..i];
        let variable = run.iter().any(u8::is_ascii_digit)
            || (run.len() >= 8 && run.iter().all(u8::is_ascii_hexdigit));
        if variable {
            if !out.ends_with(VAR) {
                out.extend_from_slice(VAR);
            }
        } else {
            out.extend_from_slice(run);
        }
    }
    if let Some(q) = query {
        out.push(b'?');
        for (k, pair) in q.split(|&b| b == b'&').enumerate() {
            if k > 0 {
                out.push(b'&');
            }
            match memchr::memchr(b'=', pair) {
                Some(e) => {
                    out.extend_from_slice(&pair[..=e]);
                    out.extend_from_slice(VAR);
                }
                None => out.extend_from_slice(VAR),
            }
        }
    }
}

/// The extension (`.js`) of a path segment that is a file name holding an id: a dot before a
/// short alphabetic extension, and a digit or a long hex run before it.
fn file_name_with_id(seg: &[u8]) -> Option<&[u8]> {
    let dot = memchr::memrchr(b'.', seg)?;
    let (stem, ext) = (&seg[..dot], &seg[dot..]);
    let has_id = stem.iter().any(u8::is_ascii_digit)
        || stem
            .split(|b| !b.is_ascii_alphanumeric())
            .any(|r| r.len() >= 8 && r.iter().all(u8::is_ascii_hexdigit));
    (has_id && (2..=6).contains(&ext.len()) && ext[1..].iter().all(u8::is_ascii_alphabetic))
        .then_some(ext)
}

/// Masks a whole message into `out` (cleared first): masked tokens separated by one space.
pub fn signature(msg: &[u8], out: &mut Vec<u8>) {
    out.clear();
    // Most messages hold neither a quote nor two `;`s, and are masked word by word. Masking
    // classifies every byte anyway, so it is done first and says whether the message was such
    // a one: no separate pass over the bytes to find out, and the rare others are masked again.
    if mask_words(msg, out, true) {
        return;
    }
    out.clear();
    let (quote, semis) = quotes_and_semis(msg);
    if quote && let Some(r) = find_request(msg) {
        request_signature(msg, r, out);
        return;
    }
    // A record of `;`-separated fields: the words before it, then its fields. It has two
    // separators at least, so a sentence with one `;` in it is not scanned for one.
    if semis >= 2
        && let Some(start) = record_start(msg)
    {
        mask_words(&msg[..start], out, false);
        mask_record(&msg[start..], out);
        return;
    }
    mask_words(msg, out, true);
}

/// Whether `msg` holds a quote, and how many `;`s. (A branch-free fold, which the compiler
/// vectorizes.)
fn quotes_and_semis(msg: &[u8]) -> (bool, u32) {
    msg.iter().fold((false, 0u32), |(q, s), &b| {
        (q | (b == b'"'), s + u32::from(b == b';'))
    })
}

/// Where a record of `;`-separated fields starts in `msg`: the start of the
/// whitespace-separated token before its first `;`. A record has at least three
/// fields, and only a `;` outside quotes and brackets separates them (`(Linux; Android 14)`
/// is a detail of one field, `if …; then …; fi` inside parentheses is a command).
fn record_start(msg: &[u8]) -> Option<usize> {
    let mut depth = 0i32;
    let mut quoted = false;
    let mut seps = 0;
    let mut first = None;
    for (i, &b) in msg.iter().enumerate() {
        match b {
            b'"' => quoted = !quoted,
            b'(' | b'[' | b'{' if !quoted => depth += 1,
            b')' | b']' | b'}' if !quoted => depth = (depth - 1).max(0),
            b';' if !quoted && depth == 0 => {
                seps += 1;
                first.get_or_insert(i);
                if seps == 2 {
                    break;
                }
            }
            _ => {}
        }
    }
    let first = first.filter(|_| seps == 2)?;
    // The field before the first separator: the token that ends there, or the one before a
    // separator standing alone (`a=1 ; b=2`).
    let end = msg[..first].trim_ascii_end().len();
    let start = memchr::memrchr2(b' ', b'\t', &msg[..end]).map_or(0, |s| s + 1);
    (end > start).then_some(start)
}

/// Masks a record of `;`-separated fields (see [`record_start`]): each field is one value,
/// spaces and all (`Disk /`, a plugin's output, `COMMAND=/bin/x restart y`), and each
/// separator a token of its own (the record's fixed structure, which anchors its template
/// however many fields vary). A field that is one word in capitals (`CRITICAL`, `SOFT`,
/// `ACK_PROBLEM`) is kept: records carry their states and kinds that way, and the miner
/// judges them as it judges any enumeration; a `key=…` field keeps its key. A `;` ending the
/// record ends its last field.
fn mask_record(rec: &[u8], out: &mut Vec<u8>) {
    let rec = rec.trim_ascii_end();
    let rec = rec.strip_suffix(b";").unwrap_or(rec);
    let mut depth = 0i32;
    let mut quoted = false;
    let mut from = 0;
    let mut fields: Vec<(usize, usize)> = Vec::new();
    for (i, &b) in rec.iter().enumerate() {
        match b {
            b'"' => quoted = !quoted,
            b'(' | b'[' | b'{' if !quoted => depth += 1,
            b')' | b']' | b'}' if !quoted => depth = (depth - 1).max(0),
            b';' if !quoted && depth == 0 => {
                fields.push((from, i));
                from = i + 1;
            }
            _ => {}
        }
    }
    let last = (from < rec.len()).then_some((from, rec.len()));
    for (k, (a, b)) in fields
        .iter()
        .copied()
        .map(Some)
        .chain([last])
        .flatten()
        .enumerate()
    {
        let f = rec[a..b].trim_ascii();
        let sep = k < fields.len();
        if !f.is_empty() && !out.is_empty() {
            out.push(b' ');
        }
        let caps = f.len() >= 2
            && f[0].is_ascii_uppercase()
            && f.iter()
                .all(|&b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
        let key = memchr::memchr(b'=', f).filter(|&e| {
            e > 0
                && f[..e]
                    .iter()
                    .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        });
        if caps {
            out.extend_from_slice(f);
        } else if let Some(e) = key {
            out.extend_from_slice(&f[..=e]);
            out.extend_from_slice(VAR);
        } else if !f.is_empty() {
            out.extend_from_slice(VAR);
        }
        if sep {
            if !out.is_empty() {
                out.push(b' ');
            }
            out.push(b';');
        }
    }
}

/// What joins the words of a parenthetical that closes a message, so that it is one token for
/// the miner: a name or a phrase of several words (`(Declarative: Checkout SCM)`), a command
/// line, a reason. Like any token, it becomes a variable once its position has shown enough
/// different values (three: it is not a plain word); templates show it as a space.
pub const GROUP_SPACE: u8 = 0x1f;

/// Where the `)` closing the parenthesis opened at `msg[at]` is, when it closes the message
/// (only `.`, `:`, `,`, `;`, `!` may follow) and the parenthesis holds words separated by
/// whitespace.
fn closing_group(msg: &[u8], at: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut spaced = false;
    for (i, &b) in msg.iter().enumerate().skip(at) {
        match b {
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    let rest_ok = msg[i + 1..].iter().all(|&c| {
                        c.is_ascii_whitespace() || matches!(c, b'.' | b':' | b',' | b';' | b'!')
                    });
                    return (spaced && rest_ok).then_some(i);
                }
            }
            b' ' | b'\t' => spaced = true,
            _ => {}
        }
    }
    None
}

/// Masks the words of `msg` (see [`signature`]), appending them to `out`; with `groups`, a
/// parenthetical closing `msg` is one token (see [`GROUP_SPACE`]). True when `msg` holds no
/// quote and fewer than two `;`s (so [`signature`] masks it as words and nothing else).
fn mask_words(msg: &[u8], out: &mut Vec<u8>, groups: bool) -> bool {
    // Class bits of every byte of every token, and the `;`s counted in tokens holding one:
    // together, every byte of `msg` that is not whitespace.
    let mut seen = 0u16;
    let mut semis = 0usize;
    let mut prev_var = false;
    let mut pos = 0;
    let mut after_label = false;
    let mut after_method = false;
    // (A parenthetical can close the message only when a `)` does.)
    let mut look_for_group = groups
        && msg.iter().rev().find(|&&c| {
            !(c.is_ascii_whitespace() || matches!(c, b'.' | b':' | b',' | b';' | b'!'))
        }) == Some(&b')');
    let mut prev_num = false;
    while let Some((tok, cl)) = next_token_after(msg, &mut pos, after_label) {
        seen |= cl.any;
        if cl.any & SEMI != 0 {
            semis += memchr::memchr_iter(b';', tok).count();
        }
        // A plain word (none of the bytes any rule below looks at, and not after a number,
        // where it may be a unit) is kept as it is, unless it may be a month or day name or a
        // long hex string: what the rules below come to, without going through them.
        if cl.any & (DIGIT | SPECIAL | SLASH | QUOTE | DELIM) == 0
            && !prev_var
            && tok.len() != 3
            && !(tok.len() >= 8 && cl.all & HEX != 0)
            && tok != b"''"
        {
            if !out.is_empty() {
                out.push(b' ');
            }
            out.extend_from_slice(tok);
            after_label = false;
            after_method = (4..=7).contains(&tok.len())
                && tok[0].is_ascii_uppercase()
                && METHODS.contains(&tok);
            prev_num = false;
            continue;
        }
        // A parenthetical closing the message (`… CMD (cd / && run-parts x)`, `{ (Build
        // stage)`): one unit, its words masked inside (see [`GROUP_SPACE`]). Masked to one
        // token (`( 3552 3534 3375 )` → `<*>`), it is no phrase: its words are mined as any.
        if look_for_group
            && tok[0] == b'('
            && let at = tok.as_ptr() as usize - msg.as_ptr() as usize
            && let Some(close) = closing_group(msg, at)
        {
            look_for_group = false;
            let mut inner = Vec::new();
            mask_words(&msg[at + 1..close], &mut inner, true);
            if inner.contains(&b' ') {
                if !out.is_empty() {
                    out.push(b' ');
                }
                out.push(b'(');
                out.extend(
                    inner
                        .iter()
                        .map(|&b| if b == b' ' { GROUP_SPACE } else { b }),
                );
                out.push(b')');
                out.extend_from_slice(msg[close + 1..].trim_ascii());
                // The tokens after this one were not cut: look at all of it.
                let (quote, semis) = quotes_and_semis(msg);
                return !quote && semis < 2;
            }
        }
        after_label = tok.len() > 1 && tok.ends_with(b":");
        // A quoted value after a label, with spaces inside, is one variable
        // (`request: "GET / HTTP/1.1"`).
        if tok.len() > 2
            && tok[0] == b'"'
            && tok.iter().any(u8::is_ascii_whitespace)
            && (tok.ends_with(b"\"") || tok.ends_with(b"\","))
        {
            if !prev_var {
                if !out.is_empty() {
                    out.push(b' ');
                }
                out.extend_from_slice(VAR);
                prev_var = true;
            }
            if tok.ends_with(b",") {
                out.push(b',');
                prev_var = false;
            }
            continue;
        }
        if prev_var && is_unit(tok) {
            if tok.ends_with(b",") {
                out.push(b',');
                prev_var = false;
            }
            continue;
        }
        let start = out.len();
        if start > 0 {
            out.push(b' ');
        }
        // A quoted path right after an HTTP method (`Started GET "/items/42"`) is a request
        // target like the one of a request line: its skeleton is what was asked for.
        let quoted_target = after_method
            && tok.len() > 3
            && tok.starts_with(b"\"/")
            && !tok.starts_with(b"\"//")
            && tok.ends_with(b"\"")
            && !tok[1..tok.len() - 1].contains(&b'"');
        // (Cheap tests first: this runs for every token.)
        after_method =
            (3..=7).contains(&tok.len()) && tok[0].is_ascii_uppercase() && METHODS.contains(&tok);
        if quoted_target {
            out.push(b'"');
            target_skeleton(&tok[1..tok.len() - 1], out);
            out.push(b'"');
            prev_var = false;
            continue;
        }
        mask_classified(tok, cl, out);
        // A run of variables is one variable: variable-length lists mine as one template.
        // (A slice pattern, not `== VAR`: this runs per token and the comparison of two
        // slices is a library call.)
        let from = if start > 0 { start + 1 } else { start };
        // A run is of one kind, though: a name with digits before a number, hex, a date or
        // an address (`user ec2-user 10.0.0.7`) is two values, as a plain name there would be.
        let is_var = matches!(&out[from..], [b'<', b'*', b'>']);
        let num = is_var
            && (cl.all & NUMLIKE != 0
                || cl.all & HEX != 0
                || ((tok.len() == 3 || tok.len() == 4 && tok[3] == b',')
                    && crate::parse::header::is_calendar_word(&tok[..3])));
        if is_var && prev_var && num == prev_num {
            out.truncate(start);
        }
        prev_var = is_var;
        prev_num = num;
    }
    seen & QUOTE == 0 && semis < 2
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig(s: &str) -> String {
        let mut out = Vec::new();
        signature(s.as_bytes(), &mut out);
        String::from_utf8(out).expect("utf8")
    }

    #[test]
    fn masks_numbers_ips_hex_and_values() {
        assert_eq!(
            sig("PacketResponder 1 for block blk_-69522 terminating"),
            "PacketResponder <*> for block <*> terminating"
        );
        assert_eq!(sig("from 173.234.31.186 port 22"), "from <*> port <*>");
        assert_eq!(sig("(HWID=1973)"), "(HWID=<*>)");
        assert_eq!(sig("ws=null, uid=10037"), "ws=null, uid=<*>");
        assert_eq!(sig("tag=\"View Lock\", name=x"), "tag=<*>, name=x");
        assert_eq!(sig("id deadbeefcafe"), "id <*>");
        assert_eq!(sig("open /var/log/messages now"), "open <*> now");
        assert_eq!(sig("  spaced\tout  "), "spaced out");
        assert_eq!(sig("logname= uid=0 at ()"), "logname= uid=<*> at (<*>)");
        assert_eq!(sig("at Fri Jun 17 20:55:07 2005"), "at <*>");
        assert_eq!(sig("IRQs 1 2 3 4 done"), "IRQs <*> done");
        assert_eq!(sig("size 12 KB, free 3 B"), "size <*>, free <*>");
        assert_eq!(sig("ws=WorkSource{10113}, uid=1"), "ws=<*>, uid=<*>");
        assert_eq!(sig("Surface(name=Foo bar)"), "Surface(name=Foo bar)");
    }

    #[test]
    fn a_record_of_semicolon_separated_fields_is_masked_field_by_field() {
        // Each field is one value, spaces and all; words in capitals (states, kinds) stay.
        assert_eq!(
            sig("PUMP ALERT: pump-7;Tank level east;LOW;FINAL;2;level 12 cm below mark"),
            "PUMP ALERT: <*> ; <*> ; LOW ; FINAL ; <*> ; <*>"
        );
        assert_eq!(
            sig("QUEUE_PURGE;orders-eu;Nightly cleanup;1700000000"),
            "QUEUE_PURGE ; <*> ; <*> ; <*>"
        );
        // `key=value` fields keep their keys; a value with spaces is one value.
        assert_eq!(
            sig("carol : TERM=tty1 ; CWD=/srv/www ; RUNAS=root ; CMD=/bin/tar czf /tmp/x.tgz ."),
            "carol : TERM=<*> ; CWD=<*> ; RUNAS=<*> ; CMD=<*>"
        );
        // A `;` ending the record ends its last field.
        assert_eq!(sig("CHECK: a;B OK - 3 files;"), "CHECK: <*> ; <*>");
        // One `;`, or `;` inside brackets or quotes, is no record.
        assert_eq!(sig("check pass; user unknown"), "check pass; user unknown");
        assert_eq!(
            sig("agent (X11; Linux; rv:1) done"),
            "agent (<*>; Linux; rv:<*>) done"
        );
    }

    #[test]
    fn a_run_of_variables_of_one_kind_is_one_variable() {
        assert_eq!(sig("IRQs 1 2 3 4 done"), "IRQs <*> done");
        assert_eq!(sig("nodes node-1 node-2 node-3 up"), "nodes <*> up");
        assert_eq!(sig("mask 00ff 1a2b 0000 set"), "mask <*> set");
        // A name with digits, then an address: two values, as `root 10.0.0.7` would be.
        assert_eq!(
            sig("bye user svc-2 10.0.0.7 port 22"),
            "bye user <*> <*> port <*>"
        );
    }

    #[test]
    fn a_parenthetical_closing_the_message_is_one_token() {
        let g = |s: &str| sig(s).replace(GROUP_SPACE as char, "_");
        assert_eq!(g("[Step] { (Warm up caches)"), "[Step] { (Warm_up_caches)");
        assert_eq!(
            g("(ops) RUN (   tar czf /srv/x.tgz /srv/x && echo ok)"),
            "(ops) RUN (tar_czf_<*>_&&_echo_ok)"
        );
        // Trailing punctuation may follow; its words are masked inside.
        assert_eq!(
            g("closed (peer reset after 30 s)."),
            "closed (peer_reset_after_<*>)."
        );
        // Not at the end, or one word, or masked to one token: words as usual.
        assert_eq!(g("ok (a b) then c"), "ok (a b) then c");
        assert_eq!(g("state (ready)"), "state (ready)");
        assert_eq!(g("speeds ( 3552 3534 3375 )"), "speeds ( <*> )");
        // A command inside is no record of fields, whatever its `;`s.
        assert_eq!(
            g("(ops) RUN (test -d x; then rm y; fi)"),
            "(ops) RUN (test_-d_x;_then_rm_y;_fi)"
        );
    }

    #[test]
    fn plain_word_values_are_kept_for_the_miner_to_judge() {
        assert_eq!(sig("rhost=10.0.0.1 user=root"), "rhost=<*> user=root");
        // A compound word is a word; quoted, a hyphenated value is a name.
        assert_eq!(sig("mode=read-only disk=sdb"), "mode=read-only disk=sdb");
        assert_eq!(sig(r#"host="web-db" x=-a"#), "host=<*> x=<*>");
        assert_eq!(
            sig(r#"probeType="Readiness" pod="default/web-1""#),
            r#"probeType="Readiness" pod=<*>"#
        );
        // Several pairs glued into one token: values are variables.
        assert_eq!(sig("ready=true,policy=3"), "ready=<*>,policy=<*>");
        // An escaped quote does not end a quoted value.
        assert_eq!(
            sig(r#"output="Get \"http://x\": refused" done"#),
            "output=<*> done"
        );
    }

    #[test]
    fn quoted_text_is_mined_word_by_word() {
        assert_eq!(
            sig(r#"relation "users" does not exist"#),
            r#"relation "users" does not exist"#
        );
        assert_eq!(sig(r#"said "hello 42 times""#), r#"said "hello <*> times""#);
        assert_eq!(
            sig(r#"upstream: "http://10.0.0.5:8080/a?q=1", host: x"#),
            r#"upstream: "<*>", host: x"#
        );
    }

    #[test]
    fn request_lines_make_access_records() {
        assert_eq!(
            sig(r#""GET /api/v1/orders/1234?limit=50&x HTTP/1.1" 200 512 "-" "curl/8.5.0""#),
            r#""GET /api/<*>/orders/<*>?limit=<*>&<*> HTTP/1.1" <*>"#
        );
        assert_eq!(
            sig(
                r#"10.0.0.1:5123 [04/Dec/2026:10:00:00.123] fe be/web-a 0/0/1 200 "POST /login HTTP/1.1""#
            ),
            r#"<*> "POST /login HTTP/1.1""#
        );
        assert_eq!(
            sig(r#""GET http://catalog.prod.svc:8080/v1/items?x=1 HTTP/1.1" from a"#),
            r#""GET http://<*>/<*>/items?x=<*> HTTP/1.1" <*>"#
        );
        assert_eq!(
            sig(r#""GET /static/js/main.4f3a2b1c.chunk.js HTTP/2.0""#),
            r#""GET /static/js/<*>.js HTTP/2.0""#,
            "a file name holding an id varies as a whole, but its extension"
        );
        assert_eq!(
            sig(r#""GET /img/logo.svg HTTP/2.0""#),
            r#""GET /img/logo.svg HTTP/2.0""#
        );
        assert_eq!(
            sig(r#""GET /files/q3-2025.pdf?dl=1 HTTP/1.1""#),
            r#""GET /files/<*>.pdf?dl=<*> HTTP/1.1""#
        );
        // Not a request line: mined as words.
        assert_eq!(sig(r#""- - -" 0 - 12"#), r#""- - -" <*> - <*>"#);
    }

    #[test]
    fn relative_paths_of_three_parts_are_variables() {
        assert_eq!(
            sig("pulled from stores/eu/queues/refunds-q now"),
            "pulled from <*> now"
        );
        // One slash says too little (`pts/3` has its digit anyway).
        assert_eq!(sig("sent as text/plain"), "sent as text/plain");
        assert_eq!(sig("and/or not"), "and/or not");
    }

    #[test]
    fn a_host_with_a_port_is_an_endpoint() {
        assert_eq!(
            sig("dialing cache.eu-1.corp.test:6380 now"),
            "dialing <*>:<*> now"
        );
        assert_eq!(sig("dialing cache.corp.test:6380,"), "dialing <*>:<*>,");
        // A source location keeps its file name; a label without a port is a word.
        assert_eq!(sig("at (Main.java:42)"), "at (Main.java:<*>)");
        assert_eq!(sig("via cache.corp.test now"), "via cache.corp.test now");
    }

    #[test]
    fn an_object_value_is_masked_pair_by_pair() {
        assert_eq!(
            sig(r#"change for job ev={"Id":"a81f-22","Kind":"Paused","At":1712}"#),
            r#"change for job ev={"Id":"<*>","Kind":"Paused","At":<*>}"#
        );
        // Not a flat object: one variable, as before.
        assert_eq!(sig(r#"x={"a":{"b":1}}"#), "x=<*>");
        assert_eq!(sig(r#"x={broken"#), "x=<*>");
    }

    #[test]
    fn a_quoted_path_after_a_method_is_a_request_target() {
        assert_eq!(
            sig(r#"Began PATCH "/carts/8812/lines" from <*>"#),
            r#"Began PATCH "/carts/<*>/lines" from <*>"#
        );
        assert_eq!(
            sig(r#"Began GET "/health" from <*>"#),
            r#"Began GET "/health" from <*>"#
        );
        // Not after a method: a quoted path is a value as usual.
        assert_eq!(sig(r#"wrote "/srv/a/9.txt" ok"#), r#"wrote "<*>" ok"#);
    }

    #[test]
    fn keeps_words() {
        assert_eq!(
            sig("session opened for user root"),
            "session opened for user root"
        );
    }

    proptest::proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let mut out = Vec::new();
            signature(&bytes, &mut out);
            let mut toks = 0;
            for_each_token(&bytes, |_| toks += 1);
        }

        #[test]
        fn never_panics_on_log_like_text(
            s in "[-0-9a-hA-HxzZ:.,;=\"'()\\[\\]{}<>|/\\\\_ \t+%?&]{0,120}|([A-Za-z0-9=:,/\"]{1,8} ){0,12}(KB|ms|Jun|Mon,|//x|://| HTTP/1.1\")?"
        ) {
            let mut out = Vec::new();
            signature(s.as_bytes(), &mut out);
        }
    }
}
