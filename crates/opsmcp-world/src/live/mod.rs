//! The live world: this host, and probes of the services listed in the config.

pub mod health;
pub mod host;
pub mod probes;
