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
const WS: u8 = 1;
const DIGIT: u8 = 2;
const HEX: u8 = 4;
/// `=` or `"`: the token has a value or a quoted part.
const SPECIAL: u8 = 8;
const COLON: u8 = 16;
const DELIM: u8 = 32;
/// Digits and the characters of numbers, dates and times: `-:./+_`.
const NUMLIKE: u8 = 64;
const QUOTE: u8 = 128;

const CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
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
        t[i] = c;
        i += 1;
    }
    t
};

#[inline]
fn class(b: u8) -> u8 {
    CLASS[b as usize]
}

/// The class bits of one token: `any` OR-ed over its bytes, `all` AND-ed.
#[derive(Clone, Copy)]
struct Classes {
    any: u8,
    all: u8,
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
    let n = msg.len();
    let mut i = *pos;
    while i < n && class(msg[i]) & WS != 0 {
        i += 1;
    }
    if i >= n {
        *pos = i;
        return None;
    }
    let start = i;
    let mut cl = Classes { any: 0, all: !0 };
    let mut quotes = 0usize;
    while i < n {
        let b = msg[i];
        let c = class(b);
        if c & (WS | QUOTE) != 0 {
            if c & QUOTE != 0 {
                quotes += 1;
            } else if !(quotes % 2 == 1 && memchr::memchr(b'"', &msg[i..]).is_some()) {
                // An unclosed quote swallows the space only if the quote closes later on the
                // line.
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

/// Splits `msg` into whitespace-separated tokens, keeping a double-quoted span that contains
/// spaces together as one token (`tag="View Lock"` is one value, not two words), and calls `f`
/// with each token.
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
        } else if (all_hex && tok.len() >= 8) || is_variable_word(tok, has_colon) {
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
        if class(b) & DELIM != 0 {
            if b == b'"' {
                in_quote = !in_quote;
            }
            out.push(b);
            last_var = false;
            i += 1;
            continue;
        }
        let start = i;
        let mut seg_any = 0u8;
        while i < n && class(tok[i]) & DELIM == 0 {
            seg_any |= class(tok[i]);
            i += 1;
        }
        let seg = &tok[start..i];
        if in_quote || seg_any & DIGIT != 0 || is_variable_word(seg, false) {
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
        && crate::parse::header::is_calendar_word(&w[..3])
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
pub fn signature(msg: &[u8], out: &mut Vec<u8>) {
    out.clear();
    let mut prev_var = false;
    let mut pos = 0;
    while let Some((tok, cl)) = next_token(msg, &mut pos) {
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
        mask_classified(tok, cl, out);
        // A run of variables is one variable: variable-length lists mine as one template.
        // (A slice pattern, not `== VAR`: this runs per token and the comparison of two
        // slices is a library call.)
        let from = if start > 0 { start + 1 } else { start };
        let is_var = matches!(&out[from..], [b'<', b'*', b'>']);
        if is_var && prev_var {
            out.truncate(start);
        }
        prev_var = is_var;
    }
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
        assert_eq!(sig("ws=null, uid=10037"), "ws=<*>, uid=<*>");
        assert_eq!(sig("tag=\"View Lock\", name=x"), "tag=<*>, name=<*>");
        assert_eq!(sig("id deadbeefcafe"), "id <*>");
        assert_eq!(sig("open /var/log/messages now"), "open <*> now");
        assert_eq!(sig("  spaced\tout  "), "spaced out");
        assert_eq!(sig("logname= uid=0 at ()"), "logname= uid=<*> at (<*>)");
        assert_eq!(sig("at Fri Jun 17 20:55:07 2005"), "at <*>");
        assert_eq!(sig("IRQs 1 2 3 4 done"), "IRQs <*> done");
        assert_eq!(sig("size 12 KB, free 3 B"), "size <*>, free <*>");
        assert_eq!(sig("ws=WorkSource{10113}, uid=1"), "ws=<*>, uid=<*>");
        assert_eq!(sig("Surface(name=Foo bar)"), "Surface(name=<*> bar)");
    }

    /// The fast signature must equal the plain one (`mask_reference`) byte for byte: template
    /// ids are hashes of signatures.
    fn same_as_reference(msg: &[u8]) {
        let mut fast = Vec::new();
        let mut plain = Vec::new();
        signature(msg, &mut fast);
        crate::mask_reference::signature(msg, &mut plain);
        assert_eq!(
            String::from_utf8_lossy(&fast),
            String::from_utf8_lossy(&plain),
            "message {:?}",
            String::from_utf8_lossy(msg)
        );
        let mut fast_toks = Vec::new();
        let mut plain_toks = Vec::new();
        for_each_token(msg, |t| fast_toks.push(t.to_vec()));
        crate::mask_reference::for_each_token(msg, |t| plain_toks.push(t.to_vec()));
        assert_eq!(fast_toks, plain_toks);
        for t in &fast_toks {
            let (mut a, mut b) = (Vec::new(), Vec::new());
            mask_token(t, &mut a);
            crate::mask_reference::mask_token(t, &mut b);
            assert_eq!(a, b);
        }
    }

    #[test]
    fn same_as_reference_on_loghub_lines() {
        for line in crate::loghub_lines() {
            same_as_reference(&line);
        }
    }

    proptest::proptest! {
        #[test]
        fn same_as_reference_on_arbitrary_bytes(
            bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..200)
        ) {
            same_as_reference(&bytes);
        }

        #[test]
        fn same_as_reference_on_log_like_text(
            s in "[-0-9a-hA-HxzZ:.,;=\"'()\\[\\]{}<>|/\\\\_ \t+%]{0,120}|([A-Za-z0-9=:,/\"]{1,8} ){0,12}(KB|ms|Jun|Mon,|//x|://)?"
        ) {
            same_as_reference(s.as_bytes());
        }
    }

    #[test]
    fn keeps_words() {
        assert_eq!(
            sig("session opened for user root"),
            "session opened for user root"
        );
    }
}
