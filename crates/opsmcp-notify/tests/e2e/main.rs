//! End-to-end tests of opsmcp-notify: real stores (SQLite, and PostgreSQL when
//! `OPSMCP_TEST_DATABASE_URL` is set), real receivers on loopback ports (an axum HTTP server
//! that records what it gets and can be switched down, an aiosmtpd SMTP server), real files.
//! No mocks, and no assertion on how fast anything happens: tests wait for a condition with a
//! generous deadline.

#[macro_use]
mod common;
mod receiver;

mod delivery;
mod file;
mod slack;
mod smtp;
mod webhook;
