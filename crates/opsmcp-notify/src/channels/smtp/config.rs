//! `type = "smtp"`: email through an SMTP server.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::config::Secret;

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain text: only for a relay on this host or a test server.
    None,
    /// Connect in plain text, then upgrade with `STARTTLS`; refuse to go on without it. The
    /// usual submission setup (port 587).
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
}

impl SmtpTls {
    /// The usual port for this mode.
    pub fn default_port(self) -> u16 {
        match self {
            SmtpTls::None => 25,
            SmtpTls::Starttls => 587,
            SmtpTls::Tls => 465,
        }
    }
}

/// Settings of an email channel.
///
/// ```toml
/// [notify.channels.oncall-mail]
/// type = "smtp"
/// host = "smtp.example.com"
/// port = 587                       # default: 25, 587 or 465 by `tls`
/// tls = "starttls"                 # "none" | "starttls" (default) | "tls"
/// from = "opsmcp <opsmcp@example.com>"
/// to = ["oncall@example.com", "Team Lead <lead@example.com>"]
/// username = "opsmcp"              # optional, with password
/// password = "…"
/// ca_file = "/etc/opsmcp/internal-ca.pem"   # optional: trust an internal CA too
/// timeout_ms = 10000
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    /// The server's host name (also the name its TLS certificate must carry).
    pub host: String,
    /// The server's port; by default the usual one for `tls`.
    #[serde(default)]
    pub port: Option<u16>,
    /// How the connection is protected.
    #[serde(default)]
    pub tls: SmtpTls,
    /// The sender, `addr@example.com` or `Name <addr@example.com>`.
    pub from: String,
    /// The recipients, at least one, in the same forms.
    pub to: Vec<String>,
    /// The login, if the server wants one.
    #[serde(default)]
    pub username: Option<String>,
    /// The password for `username`.
    #[serde(default)]
    pub password: Option<Secret>,
    /// A PEM file of CA certificates to trust besides the system's, for a server whose
    /// certificate an internal CA issued. Read when the channel is built.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// How long one conversation with the server may take. Default 10 000 ms.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
}

fn default_timeout_ms() -> u64 {
    10_000
}
