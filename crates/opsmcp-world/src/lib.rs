//! The world opsmcp's tools read and act on, behind one interface ([`World`]).
//!
//! - [`live`]: this host's vital signs (sampled in the background), HTTP/TCP probes of the
//!   configured services, and further sources (Prometheus, log files, the systemd journal,
//!   runbook actions), each a component of one shape: its config, the source, its tests.
//! - [`sim`]: simulated incidents with known root causes, played out in real time from scenario
//!   files, deterministic for a seed.
//! - [`health`]: the verdicts over readings from either.
//! - [`signals`]: what a signal measures, from its name, whatever exporter wrote it — one
//!   meaning shared by the simulator, the health verdicts and the analysis.
//! - [`window`]: time windows and service filters as callers write them (`15m`, `check*`).
//!
//! Tools never know which world they talk to. This crate knows nothing of MCP, HTTP serving or
//! the CLI.

pub mod health;
pub mod live;
pub mod signals;
pub mod sim;
pub mod window;
mod world;

pub use world::{
    ActionInfo, ActionReport, ActionRequest, LogEntry, LogStream, Risk, ServiceInfo,
    ServiceReadings, SignalSeries, World, WorldError, WorldEvent, WorldInfo, change_class,
};
