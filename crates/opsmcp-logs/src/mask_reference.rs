//! The plain implementation of masking that `mask` replaced with a faster one (byte-class
//! table, one pass per token). Kept for the tests only: `mask`'s tests check on random and real
//! messages that both produce exactly the same signature, so template ids cannot drift.

use crate::mask::VAR;

/// Bytes that split a token into segments; a segment is masked when it holds a digit.
#[inline]
fn is_delim(b: u8) -> bool {
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

/// Splits `msg` into whitespace-separated tokens, keeping a double-quoted span that contains
/// spaces together as one token (`tag="View Lock"` is one value, not two words), and calls `f`
/// with each token.
#[inline]
pub(crate) fn for_each_token(msg: &[u8], mut f: impl FnMut(&[u8])) {
    let n = msg.len();
    let mut i = 0;
    while i < n {
        while i < n && msg[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= n {
            break;
        }
        let start = i;
        let mut quotes = 0usize;
        while i < n {
            let b = msg[i];
            if b == b'"' {
                quotes += 1;
            } else if b.is_ascii_whitespace() {
                // An unclosed quote swallows the space, if the quote closes later on the line.
                if quotes % 2 == 1 && memchr::memchr(b'"', &msg[i..]).is_some() {
                    i += 1;
                    continue;
                }
                break;
            }
            i += 1;
        }
        f(&msg[start..i]);
    }
}

/// Appends the masked form of one token to `out`.
#[inline]
pub(crate) fn mask_token(tok: &[u8], out: &mut Vec<u8>) {
    // Fast path: a token with no digit, no delimiter-introduced value and no quote is a word.
    let mut has_digit = false;
    let mut has_special = false;
    let mut has_colon = false;
    let mut all_hex = true;
    for &b in tok {
        has_digit |= b.is_ascii_digit();
        has_special |= b == b'=' || b == b'"';
        has_colon |= b == b':';
        all_hex &= b.is_ascii_hexdigit();
    }
    if !has_digit && !has_special {
        if is_empty_group(tok) {
            out.push(tok[0]);
            out.extend_from_slice(VAR);
            out.extend_from_slice(&tok[1..]);
        } else if (all_hex && tok.len() >= 8) || is_variable_word(tok, has_colon) {
            out.extend_from_slice(VAR);
        } else {
            out.extend_from_slice(tok);
        }
        return;
    }
    // Numbers, dates and times (`20:55:07`, `2005-06-03`, `1.5`) are one variable.
    let body = tok.strip_suffix(b",").unwrap_or(tok);
    if has_digit
        && body
            .iter()
            .all(|&b| b.is_ascii_digit() || matches!(b, b'-' | b':' | b'.' | b'/' | b'+' | b'_'))
    {
        out.extend_from_slice(VAR);
        out.extend_from_slice(&tok[body.len()..]);
        return;
    }
    let mut i = 0;
    let n = tok.len();
    let mut in_quote = false;
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
            // An empty value stays empty: `rhost=` and `rhost=<*>` are told apart.
            if i > value_start {
                out.extend_from_slice(VAR);
                last_var = true;
            }
            continue;
        }
        if is_delim(b) {
            if b == b'"' {
                in_quote = !in_quote;
            }
            out.push(b);
            last_var = false;
            i += 1;
            continue;
        }
        let start = i;
        while i < n && !is_delim(tok[i]) {
            i += 1;
        }
        let seg = &tok[start..i];
        if in_quote || seg.iter().any(u8::is_ascii_digit) || is_variable_word(seg, false) {
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
#[inline]
fn is_variable_word(w: &[u8], may_be_url: bool) -> bool {
    if (w.len() == 3 || w.len() == 4 && w[3] == b',')
        && w[0].is_ascii_uppercase()
        && crate::parse::header_reference::is_calendar_word(&w[..3])
    {
        return true;
    }
    if w.len() >= 8 && w.iter().all(u8::is_ascii_hexdigit) && !may_be_url {
        return true;
    }
    if w.len() > 1 && (w[0] == b'/' || w.starts_with(b"\\\\")) && w[1..].contains(&b'/') {
        return true;
    }
    may_be_url && w.windows(3).any(|x| x == b"://")
}

/// Masks a whole message into `out` (cleared first): masked tokens separated by one space.
pub(crate) fn signature(msg: &[u8], out: &mut Vec<u8>) {
    out.clear();
    let mut prev_var = false;
    for_each_token(msg, |tok| {
        if prev_var && is_unit(tok) {
            if tok.ends_with(b",") {
                out.push(b',');
                prev_var = false;
            }
            return;
        }
        let start = out.len();
        if start > 0 {
            out.push(b' ');
        }
        mask_token(tok, out);
        // A run of variables is one variable: variable-length lists mine as one template.
        let is_var = &out[start..] == VAR || (start > 0 && &out[start + 1..] == VAR);
        if is_var && prev_var {
            out.truncate(start);
        }
        prev_var = is_var;
    });
}
