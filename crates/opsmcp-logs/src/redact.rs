//! Secrets out of log lines before they leave: bearer and basic credentials, `Authorization`
//! headers, `password=` / `token=` / `api_key=`-style pairs (plain, quoted and JSON), AWS access
//! key ids, JWTs and passwords in connection strings (`postgres://user:pass@host`).
//!
//! Redaction keeps the shape of the line (the key, the user name, the quoting) so templates,
//! counts and greps still work; only the secret is replaced with [`REDACTED`]. It errs towards
//! redacting: a false positive costs a value in one line, a false negative leaks a credential.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::{Captures, Regex};

/// What a secret is replaced with.
pub const REDACTED: &str = "[REDACTED]";

struct Rules {
    /// `Authorization: <anything up to the end of the value>`.
    authorization: Regex,
    /// `Bearer <token>` / `Basic <b64>` anywhere.
    scheme: Regex,
    /// `<…password|secret|token|api_key…> [:=] <value>`.
    pair: Regex,
    /// `scheme://user:password@`.
    url_password: Regex,
    /// AWS access key ids.
    aws_key: Regex,
    /// Three base64url parts, the first a JSON header (`eyJ`).
    jwt: Regex,
}

static RULES: LazyLock<Rules> = LazyLock::new(|| {
    // The patterns are constants checked by the tests below; failing to compile one is a bug in
    // this file, not a runtime condition.
    let re = |p: &str| Regex::new(p).expect("redaction pattern compiles");
    Rules {
        authorization: re(r#"(?i)(\b(?:proxy-)?authorization["']?\s*[:=]\s*["']?)([^"'\r\n]+)"#),
        scheme: re(r"(?i)\b(bearer|basic)(\s+)([A-Za-z0-9._~+/=-]{6,})"),
        pair: re(
            r#"(?i)\b([\w.-]*?(?:passwd|password|passphrase|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|credentials?|session[_-]?id|cookie))(["']?\s*[:=]\s*)("[^"]*"|'[^']*'|[^\s,;&"'}\]]+)"#,
        ),
        url_password: re(r"\b([A-Za-z][A-Za-z0-9+.-]*://[^:/?#@\s]*:)([^@/?#\s]+)(@)"),
        aws_key: re(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16}\b"),
        jwt: re(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"),
    }
});

/// `line` with every secret replaced by [`REDACTED`]; borrowed when there was nothing to hide.
pub fn redact(line: &str) -> Cow<'_, str> {
    let r = &*RULES;
    let mut out = Cow::Borrowed(line);
    // Order matters: whole header values first, then schemes, so `Authorization: Bearer x`
    // becomes one redaction rather than two half ones.
    apply(&mut out, &r.authorization, |c| {
        format!("{}{REDACTED}", &c[1])
    });
    apply(&mut out, &r.scheme, |c| {
        if &c[3] == REDACTED {
            c[0].to_owned()
        } else {
            format!("{}{}{REDACTED}", &c[1], &c[2])
        }
    });
    apply(&mut out, &r.url_password, |c| {
        format!("{}{REDACTED}{}", &c[1], &c[3])
    });
    apply(&mut out, &r.pair, |c| {
        let value = &c[3];
        if value.contains(REDACTED) || value.is_empty() {
            return c[0].to_owned();
        }
        let q = if value.starts_with('"') {
            "\""
        } else if value.starts_with('\'') {
            "'"
        } else {
            ""
        };
        format!("{}{}{q}{REDACTED}{q}", &c[1], &c[2])
    });
    apply(&mut out, &r.aws_key, |_| REDACTED.to_owned());
    apply(&mut out, &r.jwt, |_| REDACTED.to_owned());
    out
}

fn apply(text: &mut Cow<'_, str>, re: &Regex, f: impl Fn(&Captures<'_>) -> String) {
    if let Cow::Owned(s) = re.replace_all(text, |c: &Captures<'_>| f(c)) {
        *text = Cow::Owned(s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hidden(line: &str, secret: &str) -> String {
        let out = redact(line).into_owned();
        assert!(!out.contains(secret), "{secret:?} leaked: {out}");
        assert!(out.contains(REDACTED), "{out}");
        out
    }

    #[test]
    fn clean_lines_are_untouched_and_borrowed() {
        for line in [
            "request completed method=POST path=/checkout status=200 duration_ms=123",
            "token issued client=web ttl=3600",
            "max_tokens=5 token_count=7",
            r#"{"level":"info","msg":"query served q_len=4","service":"search"}"#,
            "2026-11-26T05:35:12.652Z INFO [orders-db] checkpoint complete: wrote 1752 buffers",
            "connecting to postgres://orders-db:5432/orders",
        ] {
            assert!(matches!(redact(line), Cow::Borrowed(_)), "{line}");
        }
    }

    #[test]
    fn bearer_and_authorization_headers() {
        let out = hidden(
            "GET /api Authorization: Bearer abcDEF123456.xyz-_~+/= from 10.0.0.1",
            "abcDEF123456",
        );
        assert!(
            out.starts_with("GET /api Authorization: [REDACTED]"),
            "{out}"
        );
        hidden(r#"{"authorization":"Basic dXNlcjpwYXNz"}"#, "dXNlcjpwYXNz");
        let out = hidden(
            "upstream call with bearer s3cr3tT0ken failed",
            "s3cr3tT0ken",
        );
        assert_eq!(out, "upstream call with bearer [REDACTED] failed");
    }

    #[test]
    fn key_value_pairs_plain_quoted_and_json() {
        assert_eq!(
            redact("login user=bob password=hunter2 ok"),
            "login user=bob password=[REDACTED] ok"
        );
        assert_eq!(
            redact(r#"{"password":"hunter2","user":"bob"}"#),
            r#"{"password":"[REDACTED]","user":"bob"}"#
        );
        hidden("db_password: 'p@ss word'", "p@ss word");
        hidden("token=tok_live_12345&next=1", "tok_live_12345");
        hidden("X-Api-Key: 9f8e7d6c5b4a", "9f8e7d6c5b4a");
        hidden("api_key=AbC123 api-key=DeF456", "AbC123");
        hidden("apikey=zz9plural", "zz9plural");
        hidden("client_secret=shhh", "shhh");
        hidden(
            "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG",
            "wJalrXUtnFEMI",
        );
        hidden("access_token=ya29.A0ARrd", "ya29.A0ARrd");
        hidden("PASSWORD = topsecret", "topsecret");
    }

    #[test]
    fn aws_keys_and_jwts() {
        hidden(
            "using key AKIAIOSFODNN7EXAMPLE for s3",
            "AKIAIOSFODNN7EXAMPLE",
        );
        hidden(
            "session eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U ok",
            "eyJzdWIiOiIxMjM0NTY3ODkwIn0",
        );
    }

    #[test]
    fn connection_strings_keep_user_and_host() {
        assert_eq!(
            redact("pool connect postgres://orders:Sup3rS3cret@orders-db:5432/orders failed"),
            "pool connect postgres://orders:[REDACTED]@orders-db:5432/orders failed"
        );
        hidden("redis://:pa55@cache:6379/0", "pa55");
        hidden(
            "mongodb+srv://admin:hunter2@cluster0.example.net",
            "hunter2",
        );
    }

    #[test]
    fn several_secrets_in_one_line() {
        let out = redact(
            "retry password=a1 token=b2 Authorization: Bearer c3c3c3c3 url=mysql://u:d4@h/db",
        );
        for s in ["a1", "b2", "c3c3c3c3", "d4@"] {
            assert!(!out.contains(s), "{s} leaked: {out}");
        }
    }
}
