//! The live world: this host, and the sources listed in the config, each a component of one
//! shape (its config, the source, its tests).

pub mod cgroups;
pub mod files;
pub mod history;
pub mod host;
pub mod journald;
pub mod measure;
pub mod packages;
pub mod postgres;
pub mod probes;
pub mod prometheus;
pub mod runbook;
pub mod services;
pub mod world;
