//! The channel kinds, one folder each with the same shape: `config.rs` (the serde settings,
//! unknown fields refused), `mod.rs` (the [`Channel`](crate::Channel) implementation) and
//! `tests.rs` (what can be checked without a receiver; the end-to-end tests against real
//! receivers are in `tests/e2e`).

pub mod file;
pub(crate) mod http;
pub mod slack;
pub mod smtp;
pub mod webhook;
