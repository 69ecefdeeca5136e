//! How the command line reports an error: one line, `opsmcp: error: WHAT: WHY`, each cause said
//! once, with no Rust type names; then, when there is something to run or change, a `hint:`
//! line. Exit codes are the README's table (`EXIT_*`).

use std::io::IsTerminal;

/// Success.
pub const EXIT_OK: u8 = 0;
/// The command ran and the answer is "no", or it failed: a check found a problem (a server
/// down, a broken audit chain, a source that fails), something refused (an approval nobody
/// asked for), a store or server that cannot be reached, a bad settings file.
pub const EXIT_FAILED: u8 = 1;
/// Usage: an unknown command or flag, a flag's value that does not parse, a port taken (what
/// the user asked for cannot be had).
pub const EXIT_USAGE: u8 = 2;

/// What to do about an error, printed on its own `hint:` line. Attach it with
/// `.context(Hint(…))`: it is found at any depth and left out of the error's line.
#[derive(Debug)]
pub struct Hint(pub String);

impl std::fmt::Display for Hint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A command line that cannot be used as given, found after parsing (two flags that
/// contradict each other): exit 2, like the parser's own refusals.
#[derive(Debug)]
pub struct Usage(pub String);

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Usage {}

/// Whether stderr may carry colour: a terminal, and `NO_COLOR` unset or empty (no-color.org).
pub fn colour_on_stderr() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// The error's line (without the `opsmcp: error: ` prefix) and its hint, if any.
pub fn render(error: &anyhow::Error) -> (String, Option<String>) {
    let hint = error.downcast_ref::<Hint>().map(|h| h.0.clone());
    let mut said: Vec<String> = Vec::new();
    for cause in error.chain() {
        let text = tidy(&cause.to_string());
        if text.is_empty()
            || hint.as_deref() == Some(text.as_str())
            || said.iter().any(|s| s.contains(&text))
        {
            continue;
        }
        said.push(text);
    }
    (said.join(": "), hint)
}

/// Prints the error on stderr and says which exit code it calls for.
pub fn print(error: &anyhow::Error) -> u8 {
    let (line, hint) = render(error);
    eprintln!("opsmcp: error: {line}");
    if let Some(hint) = hint {
        eprintln!("hint: {hint}");
    }
    if error.downcast_ref::<crate::ports::PortTaken>().is_some()
        || error.downcast_ref::<Usage>().is_some()
    {
        EXIT_USAGE
    } else {
        EXIT_FAILED
    }
}

/// One line, without the Rust type names some libraries put in their messages
/// (`Transport [rmcp::transport::worker::WorkerTransport<…>] error: …`): a bracketed or
/// angle-bracketed part naming a path (`a::b`) is dropped; line breaks become spaces.
fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        let after = &rest[open..];
        match closing(after) {
            Some(end) if after[..end].contains("::") => {
                out.push_str(rest[..open].trim_end());
                rest = &after[end + 1..];
            }
            _ => {
                out.push_str(&rest[..=open]);
                rest = &rest[open + 1..];
            }
        }
    }
    out.push_str(rest);
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The index of the `]` closing the `[` `s` starts with, counting nested brackets.
fn closing(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in s.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names_and_repeats_are_dropped() {
        assert_eq!(
            tidy(
                "Send message error Transport [rmcp::transport::worker::WorkerTransport<rmcp::X<a::B>>] error: Auth required"
            ),
            "Send message error Transport error: Auth required"
        );
        assert_eq!(tidy("keys [a, b]\n  next"), "keys [a, b] next");
        let e = anyhow::anyhow!("(code: 8) readonly")
            .context("error returned from database: (code: 8) readonly")
            .context("database: error returned from database: (code: 8) readonly")
            .context(Hint("give it write access".into()))
            .context("cannot open the store");
        let (line, hint) = render(&e);
        assert_eq!(
            line,
            "cannot open the store: database: error returned from database: (code: 8) readonly"
        );
        assert_eq!(hint.as_deref(), Some("give it write access"));
    }
}
