//! API tokens of our own: `opsmcp_` and 64 hex digits (256 random bits). The config holds only
//! their SHA-256, so a leaked config leaks no token; a plain hash suffices because the tokens
//! are random, not chosen by people. Lookups compare against every hash in constant time.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{AuthError, AuthMethod, Identity, Scope, Scopes};

/// Prefix of our tokens, so a leaked one is recognisable (secret scanners, logs).
pub const PREFIX: &str = "opsmcp_";

/// One token in the config.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenConfig {
    /// Who holds it; the audit log records `token:NAME`.
    pub name: String,
    /// `sha256:` and the token's SHA-256 in hex.
    pub hash: String,
    /// What it may do.
    pub scopes: Vec<Scope>,
}

/// The configured tokens, ready to check.
#[derive(Debug, Default)]
pub struct TokenSet {
    entries: Vec<([u8; 32], Identity)>,
}

impl TokenSet {
    /// Parses the hashes; names must be unique and hashes well formed.
    pub fn new(configs: &[TokenConfig]) -> Result<Self, AuthError> {
        let mut entries = Vec::with_capacity(configs.len());
        for c in configs {
            if c.name.trim().is_empty() {
                return Err(AuthError::Config(
                    "a token has an empty name: give each [[auth.tokens]] a name".into(),
                ));
            }
            if entries
                .iter()
                .any(|(_, id): &([u8; 32], Identity)| id.subject == format!("token:{}", c.name))
            {
                return Err(AuthError::Config(format!(
                    "two tokens are named '{}': names must be unique (they identify callers)",
                    c.name
                )));
            }
            if c.scopes.is_empty() {
                return Err(AuthError::Config(format!(
                    "token '{}' has no scopes: give it some of read, write, remediate, analyze, admin",
                    c.name
                )));
            }
            let hash = parse_hash(&c.hash).ok_or_else(|| {
                AuthError::Config(format!(
                    "token '{}': hash must be `sha256:` and 64 hex digits, as `opsmcp token \
                     create` prints (never put the token itself in the config)",
                    c.name
                ))
            })?;
            entries.push((
                hash,
                Identity {
                    subject: format!("token:{}", c.name),
                    scopes: c.scopes.iter().copied().collect::<Scopes>(),
                    method: AuthMethod::Token,
                },
            ));
        }
        Ok(Self { entries })
    }

    /// The identity of `token`, if it is one of ours. Every entry is compared, whatever matches,
    /// so the time taken does not tell which.
    pub fn find(&self, token: &str) -> Option<Identity> {
        let presented: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let mut found = None;
        for (hash, identity) in &self.entries {
            if bool::from(hash.ct_eq(&presented)) {
                found = Some(identity);
            }
        }
        found.cloned()
    }
}

fn parse_hash(s: &str) -> Option<[u8; 32]> {
    let hex_part = s.trim().strip_prefix("sha256:")?;
    let mut out = [0u8; 32];
    hex::decode_to_slice(hex_part, &mut out).ok()?;
    Some(out)
}

/// The config form of `token`'s hash: `sha256:…`.
pub fn hash(token: &str) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(token.as_bytes())))
}

/// A new random token and its hash.
pub fn generate() -> Result<(String, String), AuthError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| AuthError::Config(format!("no randomness from the OS: {e}")))?;
    let token = format!("{PREFIX}{}", hex::encode(bytes));
    let hashed = hash(&token);
    Ok((token, hashed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_token_is_found_by_its_hash_only() {
        let (token, hashed) = generate().unwrap();
        assert!(token.starts_with(PREFIX) && token.len() == PREFIX.len() + 64);
        let set = TokenSet::new(&[TokenConfig {
            name: "ci".into(),
            hash: hashed,
            scopes: vec![Scope::Read],
        }])
        .unwrap();
        let id = set.find(&token).unwrap();
        assert_eq!(id.subject, "token:ci");
        assert!(id.scopes.allows(Scope::Read) && !id.scopes.allows(Scope::Write));
        assert!(set.find(&format!("{token}x")).is_none());
        assert!(set.find("").is_none());
    }

    #[test]
    fn bad_configs_say_what_to_fix() {
        let bad = |name: &str, hash: &str, scopes: Vec<Scope>| {
            TokenSet::new(&[TokenConfig {
                name: name.into(),
                hash: hash.into(),
                scopes,
            }])
            .unwrap_err()
            .to_string()
        };
        assert!(bad("a", "opsmcp_plain", vec![Scope::Read]).contains("never put the token"));
        assert!(bad("a", &hash("x"), vec![]).contains("no scopes"));
        assert!(bad(" ", &hash("x"), vec![Scope::Read]).contains("empty name"));
        let dup = TokenConfig {
            name: "a".into(),
            hash: hash("x"),
            scopes: vec![Scope::Read],
        };
        let err = TokenSet::new(&[dup.clone(), dup]).unwrap_err().to_string();
        assert!(err.contains("unique"), "{err}");
    }
}
