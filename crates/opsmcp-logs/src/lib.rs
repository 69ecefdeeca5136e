//! `opsmcp-logs`: the log engine. It turns log lines nobody configured into structure — parsed
//! records ([`parse`]), templates mined online with their variables masked ([`miner`], driven
//! over all cores by [`engine`]), statistics ([`stats`]) and ranked anomalies with evidence
//! ([`anomaly`]).
//!
//! It is pure: it reads bytes it is handed (`&[u8]` or any `Read`) and returns values. It must not
//! know about files, MCP, HTTP, servers, the CLI or where logs come from; callers own I/O policy.
//! Results never depend on the number of threads.

pub mod anomaly;
pub mod engine;
pub mod mask;
pub mod miner;
pub mod parse;
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
