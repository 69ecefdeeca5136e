//! Secrets never leave in analysis output: tokens, passwords, keys and credentials inside
//! connection strings are replaced before a log line is shown.

use std::sync::LazyLock;

use regex::Regex;

static PATTERNS: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
    [
        // key=value and "key": "value" forms of the usual secret names.
        (
            r#"(?i)((?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|auth)["']?\s*[:=]\s*["']?)[^\s"',&]+"#,
            "${1}[REDACTED]",
        ),
        // Authorization headers.
        (r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+", "${1}[REDACTED]"),
        // Credentials in URLs: scheme://user:pass@host.
        (r"([a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]+:)[^@\s]+@", "${1}[REDACTED]@"),
    ]
    .into_iter()
    .filter_map(|(p, r)| Regex::new(p).ok().map(|re| (re, r)))
    .collect()
});

/// `line` with secrets replaced by `[REDACTED]`, cut to `max_chars` characters.
pub(crate) fn line(line: &str, max_chars: usize) -> String {
    let mut out = line.to_string();
    for (re, with) in PATTERNS.iter() {
        if re.is_match(&out) {
            out = re.replace_all(&out, *with).into_owned();
        }
    }
    if out.chars().count() > max_chars {
        out = out.chars().take(max_chars).collect::<String>() + "…";
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn secrets_are_replaced() {
        let l = super::line(
            "connect postgres://app:hunter2@db:5432/x password=abc token: \"t0k\" Bearer xyz.abc",
            500,
        );
        assert!(
            !l.contains("hunter2") && !l.contains("abc ") && !l.contains("t0k"),
            "{l}"
        );
        assert!(!l.contains("xyz.abc"), "{l}");
        assert_eq!(super::line("plain", 3), "pla…");
    }
}
