//! Text for people: numbers rounded to what the eye can use, cuts at word boundaries, table
//! cells that cannot break the table.

/// A number with as many digits as a reader can use: `98.80000305175781` → `98.8`,
/// `0.12724` → `0.127`, `1081.52` → `1082`.
pub fn num(v: f64) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    let a = v.abs();
    let decimals = if a >= 100.0 {
        0
    } else if a >= 10.0 {
        1
    } else if a >= 1.0 {
        2
    } else if a == 0.0 {
        0
    } else {
        // Three significant digits below one: 0.00213, 0.127.
        (2 - a.log10().floor() as i32).clamp(0, 9) as usize
    };
    let s = format!("{v:.decimals$}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    if s == "-0" { "0".into() } else { s }
}

/// Fraction digits from which a decimal is float noise, not a measured precision.
const NOISE_DIGITS: usize = 5;

/// `text` with every decimal that carries float noise (five or more fraction digits, as an
/// `f32` widened to `f64` prints) rounded by [`num`]. Text written by others (titles, health
/// messages) reaches the postmortem this way, so the noise is removed where it is shown.
pub fn tidy(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        let starts_number = b[i].is_ascii_digit()
            && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'.'));
        if !starts_number {
            let ch = text[i..].chars().next().unwrap_or(' ');
            out.push(ch);
            i += ch.len_utf8().max(1);
            continue;
        }
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i + 1 < b.len() && b[i] == b'.' && b[i + 1].is_ascii_digit() {
            let dot = i;
            i += 1;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            let fraction_digits = i - dot - 1;
            if fraction_digits >= NOISE_DIGITS
                && let Ok(v) = text[start..i].parse::<f64>()
            {
                out.push_str(&num(v));
                continue;
            }
        }
        out.push_str(&text[start..i]);
    }
    out
}

/// At most `max` characters of `text`, cut at a word boundary with `…` when cut — a reader
/// never sees half a word.
pub fn cut_words(text: &str, max: usize) -> String {
    let text = text.trim();
    if text.chars().count() <= max {
        return text.to_string();
    }
    let head: String = text.chars().take(max.saturating_sub(1)).collect();
    let kept = match head.rfind(char::is_whitespace) {
        Some(i) if i > head.len() / 2 => &head[..i],
        _ => head.as_str(),
    };
    format!(
        "{}…",
        kept.trim_end_matches(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | ':'))
    )
}

/// One Markdown table cell: one line, pipes escaped.
pub fn cell(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('|', "\\|")
}

/// `s` ending in a full stop.
pub fn sentence(s: &str) -> String {
    let t = s.trim();
    if t.is_empty() || t.ends_with(['.', '!', '?', '…']) {
        t.to_string()
    } else {
        format!("{t}.")
    }
}

/// "45 s", "2 min 17 s", "16 min", "1 h 12 min": seconds while they still matter.
pub fn span(secs: i64) -> String {
    let secs = secs.max(0);
    if secs < 60 {
        format!("{secs} s")
    } else if secs < 600 {
        match secs % 60 {
            0 => format!("{} min", secs / 60),
            s => format!("{} min {s} s", secs / 60),
        }
    } else if secs < 3600 {
        format!("{} min", (secs + 30) / 60)
    } else {
        let m = (secs + 30) / 60;
        format!("{} h {} min", m / 60, m % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_the_digits_that_matter() {
        assert_eq!(num(98.80000305175781), "98.8");
        assert_eq!(num(0.12724), "0.127");
        assert_eq!(num(0.002), "0.002");
        assert_eq!(num(1081.52), "1082");
        assert_eq!(num(47.5), "47.5");
        assert_eq!(num(2.0), "2");
        assert_eq!(num(0.0), "0");
    }

    #[test]
    fn noise_is_rounded_and_ordinary_numbers_are_left_alone() {
        assert_eq!(tidy("cpu 98.80000305175781% at"), "cpu 98.8% at");
        assert_eq!(
            tidy("error rate 0.1272 (v2.15.0) INC-0001"),
            "error rate 0.1272 (v2.15.0) INC-0001"
        );
        assert_eq!(tidy("→ 48.9 (×1.3)"), "→ 48.9 (×1.3)");
    }

    #[test]
    fn spans_keep_seconds_only_while_they_matter() {
        assert_eq!(span(45), "45 s");
        assert_eq!(span(137), "2 min 17 s");
        assert_eq!(span(120), "2 min");
        assert_eq!(span(16 * 60 + 20), "16 min");
        assert_eq!(span(72 * 60), "1 h 12 min");
    }

    #[test]
    fn cuts_fall_between_words() {
        let c = cut_words("latency p99 ms 492.8 is at or above the critical level", 30);
        assert!(c.ends_with('…'), "{c}");
        assert!(
            "latency p99 ms 492.8 is at or above".starts_with(c.trim_end_matches('…')),
            "{c}"
        );
        assert_eq!(cut_words("short", 30), "short");
    }
}
