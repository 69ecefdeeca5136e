//! The world opsmcp's tools read and act on.
//!
//! Today that is the live world: this host's vital signs ([`live::host`]), HTTP/TCP probes of
//! configured services ([`live::probes`]) and the verdicts over both ([`live::health`]).
//! Simulated incidents and further live sources (Prometheus, log files) join here behind the same
//! interfaces, so tools never know which world they talk to.
//!
//! This crate knows nothing of MCP, HTTP serving or the CLI.

pub mod live;
pub mod sim;
