//! `opsmcp-logs`: the log engine. It turns log lines nobody configured into structure — each
//! stream's structure learned from its own lines ([`parse`]: record syntaxes such as JSON lines,
//! logfmt, syslog and access logs by their grammar; for free text, which leading columns are the
//! header, judged by how each token position varies, in [`parse::layout`]), templates mined
//! online with their variables masked ([`mask`], [`miner`], driven over all cores by
//! [`engine`]), statistics ([`stats`]) and ranked anomalies with evidence ([`anomaly`]); and
//! secrets masked out of lines before they are shown ([`redact`]).
//!
//! Any line ending is a line ending, invalid UTF-8 is mined lossily and counted, over-long lines
//! are mined from their head, and memory stays bounded whatever comes in. Template ids are a
//! hash of the template text, the same in every run, file and window.
//!
//! It is pure: it reads bytes it is handed (`&[u8]` or any `Read`) and returns values. It must not
//! know about files, MCP, HTTP, servers, the CLI or where logs come from; callers own I/O policy.
//! Results never depend on the number of threads.

pub mod anomaly;
pub mod engine;
pub mod mask;
pub mod miner;
pub mod parse;
pub mod redact;
pub mod stats;

pub use engine::{Engine, MineOptions, MineResult, TemplateInfo};
pub use parse::{Format, Level, Parser, Record, TimeDefaults};

/// What can go wrong in the log engine.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// Reading the input failed.
    #[error("reading log input: {0}")]
    Io(#[from] std::io::Error),
    /// The worker thread pool could not be started.
    #[error("starting worker threads: {0}")]
    Threads(String),
}

/// The raw lines of the Loghub-2k sample (`OPSMCP_LOGHUB_DIR`, default `../shared/data/loghub-2k`
/// next to the repository), for tests that compare implementations on real logs; empty when the
/// data is not there.
#[cfg(test)]
pub(crate) fn loghub_lines() -> Vec<Vec<u8>> {
    let dir = std::env::var_os("OPSMCP_LOGHUB_DIR").map_or_else(
        || std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/loghub-2k"),
        std::path::PathBuf::from,
    );
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return out;
    };
    let mut dirs: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    dirs.sort();
    for d in dirs {
        let Some(name) = d.file_name().and_then(|n| n.to_str()).map(str::to_owned) else {
            continue;
        };
        if let Ok(bytes) = std::fs::read(d.join(format!("{name}_2k.log"))) {
            out.extend(bytes.split(|&b| b == b'\n').map(<[u8]>::to_vec));
        }
    }
    out
}
