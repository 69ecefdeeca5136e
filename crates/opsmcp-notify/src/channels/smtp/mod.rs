//! Email over SMTP with `lettre`: one plain-text message per notification to every configured
//! recipient.
//!
//! The subject is the notification's headline (`[SEV2] INC-0042: first line`). The
//! `Message-ID` is derived from the idempotency key (`<opsmcp.<32 hex of SHA-256(key)>@<the
//! sender's domain>>`), so every attempt at one notification carries the same id: a repeat of
//! an at-least-once delivery is recognizable, and mail systems that drop duplicate ids drop it.
//! The key itself is in an `X-Opsmcp-Idempotency-Key` header and the message's last line.
//!
//! `tls = "starttls"` (the default) refuses to go on without STARTTLS, and `tls = "tls"` speaks
//! TLS from the first byte; the server's certificate is checked against the system's roots
//! (rustls with the platform verifier) plus the CAs in `ca_file`. Credentials are sent only
//! after that, or in plain text with `tls = "none"`, which is for a relay on this host.
//!
//! A permanent SMTP reply (5xx: unknown mailbox, relaying denied, authentication refused,
//! STARTTLS required) fails the notification at once; anything else (4xx, no connection, an
//! untrusted certificate, no answer within `timeout_ms`) is retried. The whole conversation is
//! bounded by `timeout_ms`: lettre's own timeout does not cover waiting for a reply.

mod config;
#[cfg(test)]
mod tests;

use std::time::Duration;

use futures::future::BoxFuture;
use lettre::message::Mailbox;
use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sha2::{Digest, Sha256};

pub use config::{SmtpConfig, SmtpTls};

use crate::channel::Channel;
use crate::error::{DeliveryError, NotifyError};
use crate::notification::Notification;

/// An email channel.
pub struct SmtpChannel {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    to: Vec<Mailbox>,
    target: String,
    timeout: Duration,
}

/// The `X-Opsmcp-Idempotency-Key` header.
#[derive(Debug, Clone)]
struct IdempotencyKey(String);

impl Header for IdempotencyKey {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("X-Opsmcp-Idempotency-Key")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(IdempotencyKey(s.to_string()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// The `Message-ID` for a notification with `key` sent from `from`.
pub fn message_id(key: &str, from: &Mailbox) -> String {
    let digest = Sha256::digest(key.as_bytes());
    format!(
        "<opsmcp.{}@{}>",
        hex::encode(&digest[..16]),
        from.email.domain()
    )
}

impl SmtpChannel {
    /// Builds the channel called `name` from its settings. Nothing is connected yet: each send
    /// opens its own connection, so a server restart between notifications costs nothing.
    pub fn new(name: &str, config: &SmtpConfig) -> Result<SmtpChannel, NotifyError> {
        let bad = |message: String| NotifyError::Config {
            channel: name.to_string(),
            message,
        };
        let parse = |field: &str, s: &str| -> Result<Mailbox, NotifyError> {
            s.parse::<Mailbox>().map_err(|e| {
                bad(format!(
                    "{field} {s:?} is not an address ({e}); write addr@example.com or \
                     Name <addr@example.com>"
                ))
            })
        };
        let from = parse("from", &config.from)?;
        if config.to.is_empty() {
            return Err(bad("to is empty; list at least one recipient".into()));
        }
        let to = config
            .to
            .iter()
            .map(|s| parse("to", s))
            .collect::<Result<Vec<_>, _>>()?;
        if config.host.trim().is_empty() {
            return Err(bad("host is empty; name the SMTP server".into()));
        }
        let port = config.port.unwrap_or(config.tls.default_port());
        let tls_parameters = || -> Result<TlsParameters, NotifyError> {
            let mut params = TlsParameters::builder(config.host.clone());
            if let Some(path) = &config.ca_file {
                let pem = std::fs::read(path)
                    .map_err(|e| bad(format!("reading ca_file {}: {e}", path.display())))?;
                let cert = Certificate::from_pem(&pem).map_err(|e| {
                    bad(format!(
                        "ca_file {} is not PEM certificates: {e}",
                        path.display()
                    ))
                })?;
                params = params.add_root_certificate(cert);
            }
            params
                .build_rustls()
                .map_err(|e| bad(format!("setting up TLS: {e}")))
        };
        if config.ca_file.is_some() && config.tls == SmtpTls::None {
            return Err(bad("ca_file needs tls = \"starttls\" or \"tls\"".into()));
        }
        let builder = match config.tls {
            SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host),
            SmtpTls::Starttls => {
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host)
                    .tls(Tls::Required(tls_parameters()?))
            }
            SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host)
                .tls(Tls::Wrapper(tls_parameters()?)),
        };
        let timeout = Duration::from_millis(config.timeout_ms.max(1));
        let mut builder = builder.port(port).timeout(Some(timeout));
        match (&config.username, &config.password) {
            (Some(user), Some(pass)) => {
                builder =
                    builder.credentials(Credentials::new(user.clone(), pass.expose().to_string()));
            }
            (None, None) => {}
            _ => return Err(bad("set both username and password, or neither".into())),
        }
        Ok(SmtpChannel {
            transport: builder.build(),
            from,
            to,
            target: format!("smtp://{}:{port}", config.host),
            timeout,
        })
    }

    /// The message sent for `n`.
    pub fn message(&self, n: &Notification) -> Result<Message, DeliveryError> {
        let mut builder = Message::builder()
            .from(self.from.clone())
            .subject(n.headline())
            .message_id(Some(message_id(&n.idempotency_key, &self.from)))
            .header(IdempotencyKey(n.idempotency_key.clone()))
            .header(ContentType::TEXT_PLAIN)
            .date_now();
        for to in &self.to {
            builder = builder.to(to.clone());
        }
        let mut body = n.message.clone();
        body.push_str("\n\n--\n");
        if let Some(sev) = n.severity {
            body.push_str(&format!("severity: {sev} ({})\n", sev.word()));
        }
        if let Some(inc) = &n.incident_id {
            body.push_str(&format!("incident: {inc}\n"));
        }
        body.push_str(&format!("notification key: {}\n", n.idempotency_key));
        builder
            .body(body)
            .map_err(|e| DeliveryError::permanent(format!("building the message: {e}")))
    }
}

impl Channel for SmtpChannel {
    fn kind(&self) -> &'static str {
        "smtp"
    }

    fn target(&self) -> String {
        self.target.clone()
    }

    fn send<'a>(&'a self, n: &'a Notification) -> BoxFuture<'a, Result<(), DeliveryError>> {
        Box::pin(async move {
            let message = self.message(n)?;
            // lettre's own timeout bounds connecting and each write, not the wait for a reply:
            // a server that never answers AUTH would hold the send until it hangs up.
            match tokio::time::timeout(self.timeout, self.transport.send(message)).await {
                Ok(Ok(_)) => Ok(()),
                Ok(Err(e)) if e.is_permanent() => {
                    Err(DeliveryError::permanent(format!("{}: {e}", self.target)))
                }
                Ok(Err(e)) => Err(DeliveryError::retryable(format!("{}: {e}", self.target))),
                Err(_) => Err(DeliveryError::retryable(format!(
                    "{}: no answer within {} ms",
                    self.target,
                    self.timeout.as_millis()
                ))),
            }
        })
    }
}
