//! Who is calling, and what may they do.
//!
//! Two kinds of credentials, both sent as `Authorization: Bearer …`:
//! - API tokens of our own ([`tokens`]): random strings whose SHA-256 is in the config, each
//!   with a name and scopes.
//! - OAuth 2.1 access tokens ([`oauth`]): JWTs from an authorization server, checked against its
//!   JWKS, as the MCP authorization spec asks of a resource server.
//!
//! A request that passes carries an [`Identity`] in its extensions; the tools see it through
//! [`crate::Caller`]. Without auth configured every caller is anonymous with every scope, which
//! the binary allows only on loopback.

pub mod oauth;
pub mod tokens;

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

pub use oauth::{OAuthConfig, OAuthValidator};
pub use tokens::{TokenConfig, TokenSet};

/// What a caller may do. A tool needs one scope; `admin` includes all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Tools annotated read-only: metrics, health, logs, incidents read back.
    Read,
    /// Changes to incidents, postmortems and notifications.
    Write,
    /// `execute_remediation`: changes to the system itself.
    Remediate,
    /// `execute_analysis_script`: running model-written code in the sandbox.
    Analyze,
    /// Everything.
    Admin,
}

impl Scope {
    /// Every scope, in order.
    pub const ALL: [Scope; 5] = [
        Scope::Read,
        Scope::Write,
        Scope::Remediate,
        Scope::Analyze,
        Scope::Admin,
    ];

    /// The name used in configs, tokens and error messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
            Scope::Remediate => "remediate",
            Scope::Analyze => "analyze",
            Scope::Admin => "admin",
        }
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scope::ALL
            .into_iter()
            .find(|scope| scope.as_str() == s)
            .ok_or_else(|| {
                format!("unknown scope '{s}': use read, write, remediate, analyze or admin")
            })
    }
}

/// A set of scopes (a bit set: checked on every call).
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct Scopes(u8);

impl Scopes {
    /// Every scope.
    pub fn all() -> Self {
        Scope::ALL.into_iter().collect()
    }

    /// Whether a caller holding these may use something that needs `scope`.
    pub fn allows(self, scope: Scope) -> bool {
        self.0 & (scope.bit() | Scope::Admin.bit()) != 0
    }

    /// The scopes held, in order.
    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL
            .into_iter()
            .filter(move |s| self.0 & s.bit() != 0)
    }
}

impl FromIterator<Scope> for Scopes {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        Scopes(iter.into_iter().fold(0, |acc, s| acc | s.bit()))
    }
}

impl fmt::Debug for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.iter().map(Scope::as_str).collect();
        f.write_str(&names.join(" "))
    }
}

/// How a caller proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// No auth configured (loopback use).
    None,
    /// One of our API tokens.
    Token,
    /// An OAuth access token (JWT).
    OAuth,
}

/// A caller that passed authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// Who, as recorded in the audit log and incident timelines: `token:NAME`, `oauth:SUB`,
    /// or `anonymous@ADDRESS` without auth.
    pub subject: String,
    /// What they may do.
    pub scopes: Scopes,
    /// How they proved it.
    pub method: AuthMethod,
}

impl Identity {
    /// A caller on a server without auth: every scope.
    pub fn anonymous(address: Option<std::net::IpAddr>) -> Self {
        Self {
            subject: match address {
                Some(ip) => format!("anonymous@{ip}"),
                None => "anonymous".to_string(),
            },
            scopes: Scopes::all(),
            method: AuthMethod::None,
        }
    }

    /// The credential it proved, by name (the token's or OAuth subject's, never the secret):
    /// what refusals are counted under and sessions belong to. `None` without auth.
    pub fn credential(&self) -> Option<&str> {
        (self.method != AuthMethod::None).then_some(self.subject.as_str())
    }
}

/// Why a credential was refused.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The config is wrong (at start).
    #[error("auth config: {0}")]
    Config(String),
    /// No `Authorization: Bearer` header.
    #[error("no bearer token: send `Authorization: Bearer <token>`")]
    Missing,
    /// A token that is not ours and not a valid JWT from the configured issuer.
    #[error("invalid token: {0}")]
    Invalid(String),
    /// The issuer's keys could not be fetched.
    #[error("cannot fetch the issuer's keys from {url}: {message}")]
    Jwks {
        /// The JWKS URL.
        url: String,
        /// What went wrong.
        message: String,
    },
}

/// Auth of one server: our tokens and, optionally, an OAuth issuer.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// API tokens (`opsmcp token create` prints an entry).
    #[serde(default)]
    pub tokens: Vec<TokenConfig>,
    /// An OAuth 2.1 authorization server whose JWT access tokens are accepted.
    #[serde(default)]
    pub oauth: Option<OAuthConfig>,
}

impl AuthConfig {
    /// Whether any credential is configured (if not, the server runs without auth).
    pub fn enabled(&self) -> bool {
        !self.tokens.is_empty() || self.oauth.is_some()
    }
}

/// Checks bearer credentials against our tokens, then the OAuth issuer.
#[derive(Debug)]
pub struct Authenticator {
    tokens: TokenSet,
    oauth: Option<OAuthValidator>,
}

impl Authenticator {
    /// Builds the checker; fails on a malformed token hash or OAuth setting.
    pub fn new(config: &AuthConfig) -> Result<Self, AuthError> {
        Ok(Self {
            tokens: TokenSet::new(&config.tokens)?,
            oauth: config.oauth.clone().map(OAuthValidator::new).transpose()?,
        })
    }

    /// The OAuth issuer, for the protected-resource metadata.
    pub fn issuer(&self) -> Option<&str> {
        self.oauth.as_ref().map(|o| o.issuer())
    }

    /// Who sent `authorization` (the header's value), with `resource` this server's URL (the
    /// audience a JWT must name unless the config lists audiences).
    pub async fn authenticate(
        &self,
        authorization: Option<&str>,
        resource: &str,
    ) -> Result<Identity, AuthError> {
        let token = authorization
            .and_then(|h| {
                let (scheme, token) = h.trim().split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            })
            .filter(|t| !t.is_empty())
            .ok_or(AuthError::Missing)?;
        if let Some(identity) = self.tokens.find(token) {
            return Ok(identity);
        }
        match &self.oauth {
            Some(oauth) if token.matches('.').count() == 2 => oauth.validate(token, resource).await,
            _ => Err(AuthError::Invalid(
                "not a configured API token (create one with `opsmcp token create`)".into(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_allows_everything_and_others_only_themselves() {
        let admin: Scopes = [Scope::Admin].into_iter().collect();
        assert!(Scope::ALL.iter().all(|s| admin.allows(*s)));
        let reader: Scopes = [Scope::Read, Scope::Write].into_iter().collect();
        assert!(reader.allows(Scope::Read) && reader.allows(Scope::Write));
        assert!(!reader.allows(Scope::Remediate) && !reader.allows(Scope::Admin));
        assert_eq!(reader.to_string(), "read write");
        assert!("remediate".parse::<Scope>().is_ok());
        assert!(
            "root"
                .parse::<Scope>()
                .unwrap_err()
                .contains("use read, write")
        );
    }
}
