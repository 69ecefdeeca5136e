//! OAuth 2.1 resource server: JWT access tokens checked against the issuer's JWKS — signature,
//! expiry, issuer and audience (this server's URL unless the config lists audiences) — and
//! their `scope`/`scp` claim mapped to our scopes.
//!
//! Keys are fetched on first use, again when a token names a key we do not have (the issuer
//! rotated) but at most every 30 seconds, and every 10 minutes regardless. Only asymmetric
//! algorithms are accepted: a shared-secret (HS*) token can never pass, whatever its header says.

use std::{
    sync::{Arc, RwLock},
    time::{Duration, Instant},
};

use jsonwebtoken::{
    Algorithm, DecodingKey, Validation, decode, decode_header,
    jwk::{Jwk, JwkSet},
};
use serde::{Deserialize, Serialize};

use super::{AuthError, AuthMethod, Identity, Scope, Scopes};

/// Refetch the keys at least this often.
const KEYS_MAX_AGE: Duration = Duration::from_secs(600);
/// … and at most this often when a token names an unknown key.
const REFETCH_MIN_INTERVAL: Duration = Duration::from_secs(30);

/// The `[auth.oauth]` settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuthConfig {
    /// The authorization server's issuer identifier, exactly as in its tokens' `iss`.
    pub issuer: String,
    /// Where its keys are (default `ISSUER/.well-known/jwks.json`).
    #[serde(default)]
    pub jwks_url: Option<String>,
    /// Accepted `aud` values (default: this server's URL, `…/mcp` or without the path).
    #[serde(default)]
    pub audience: Vec<String>,
    /// Prefix of our scopes in the token's `scope` claim, e.g. `opsmcp:` for `opsmcp:read`.
    #[serde(default)]
    pub scope_prefix: String,
    /// Clock skew allowed on `exp` and `nbf`, in seconds.
    #[serde(default = "default_leeway")]
    pub leeway_s: u64,
}

fn default_leeway() -> u64 {
    30
}

/// The claims we read.
#[derive(Debug, Deserialize)]
struct Claims {
    sub: Option<String>,
    client_id: Option<String>,
    azp: Option<String>,
    scope: Option<String>,
    scp: Option<ScpClaim>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum ScpClaim {
    One(String),
    Many(Vec<String>),
}

struct Keys {
    set: Arc<JwkSet>,
    fetched: Option<Instant>,
}

/// Validates JWTs from one issuer.
pub struct OAuthValidator {
    config: OAuthConfig,
    jwks_url: String,
    http: reqwest::Client,
    keys: RwLock<Keys>,
    refresh: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for OAuthValidator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthValidator")
            .field("issuer", &self.config.issuer)
            .field("jwks_url", &self.jwks_url)
            .finish_non_exhaustive()
    }
}

impl OAuthValidator {
    /// A validator for `config`; keys are fetched on first use.
    pub fn new(config: OAuthConfig) -> Result<Self, AuthError> {
        if !(config.issuer.starts_with("https://") || config.issuer.starts_with("http://")) {
            return Err(AuthError::Config(format!(
                "oauth.issuer '{}' must be the issuer's URL, e.g. https://auth.example.com",
                config.issuer
            )));
        }
        let jwks_url = config.jwks_url.clone().unwrap_or_else(|| {
            format!(
                "{}/.well-known/jwks.json",
                config.issuer.trim_end_matches('/')
            )
        });
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| AuthError::Config(format!("cannot build an HTTP client: {e}")))?;
        Ok(Self {
            config,
            jwks_url,
            http,
            keys: RwLock::new(Keys {
                set: Arc::new(JwkSet { keys: Vec::new() }),
                fetched: None,
            }),
            refresh: tokio::sync::Mutex::new(()),
        })
    }

    /// The issuer, as configured.
    pub fn issuer(&self) -> &str {
        &self.config.issuer
    }

    /// Who `token` says the caller is, if the issuer signed it for `resource` and it is current.
    pub async fn validate(&self, token: &str, resource: &str) -> Result<Identity, AuthError> {
        let header =
            decode_header(token).map_err(|e| AuthError::Invalid(format!("not a JWT: {e}")))?;
        if !is_asymmetric(header.alg) {
            return Err(AuthError::Invalid(format!(
                "algorithm {:?} is not accepted; the issuer must sign with RS*, PS*, ES* or EdDSA",
                header.alg
            )));
        }
        let jwk = self.key_for(header.kid.as_deref()).await?;
        // A key that names its algorithm is used with that one only (`KeyAlgorithm` and
        // `Algorithm` share the names of the signing algorithms).
        if let Some(alg) = jwk
            .common
            .key_algorithm
            .and_then(|a| format!("{a:?}").parse::<Algorithm>().ok())
            && alg != header.alg
        {
            return Err(AuthError::Invalid(format!(
                "token signed with {:?} but its key is for {alg:?}",
                header.alg
            )));
        }
        let key = DecodingKey::from_jwk(&jwk)
            .map_err(|e| AuthError::Invalid(format!("the issuer's key is unusable: {e}")))?;
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.config.issuer]);
        let audience = if self.config.audience.is_empty() {
            let base = resource.trim_end_matches("/mcp").to_string();
            vec![resource.to_string(), base.clone(), format!("{base}/")]
        } else {
            self.config.audience.clone()
        };
        validation.set_audience(&audience);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.leeway = self.config.leeway_s;
        validation.validate_nbf = true;
        let data = decode::<Claims>(token, &key, &validation).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind as K;
            AuthError::Invalid(match e.kind() {
                K::ExpiredSignature => "the token has expired; get a new one".to_string(),
                K::InvalidAudience => format!(
                    "the token is for another audience; ask the issuer for one whose `aud` is \
                     {}",
                    audience[0]
                ),
                K::InvalidIssuer => format!(
                    "the token was issued by another issuer; expected {}",
                    self.config.issuer
                ),
                K::InvalidSignature => "the signature does not verify".to_string(),
                K::ImmatureSignature => "the token is not valid yet (nbf)".to_string(),
                other => format!("{other:?}"),
            })
        })?;
        let claims = data.claims;
        let granted = claims
            .scope
            .iter()
            .flat_map(|s| s.split_whitespace().map(str::to_string))
            .chain(match claims.scp {
                Some(ScpClaim::One(s)) => s.split_whitespace().map(str::to_string).collect(),
                Some(ScpClaim::Many(v)) => v,
                None => Vec::new(),
            })
            .filter_map(|s| {
                s.strip_prefix(self.config.scope_prefix.as_str())
                    .and_then(|rest| rest.parse::<Scope>().ok())
            })
            .collect::<Scopes>();
        let subject = claims
            .sub
            .or(claims.client_id)
            .or(claims.azp)
            .ok_or_else(|| AuthError::Invalid("the token names no subject (sub)".into()))?;
        Ok(Identity {
            subject: format!("oauth:{subject}"),
            scopes: granted,
            method: AuthMethod::OAuth,
        })
    }

    /// The key `kid` names (or the only key, when the token names none).
    async fn key_for(&self, kid: Option<&str>) -> Result<Jwk, AuthError> {
        let pick = |set: &JwkSet| match kid {
            Some(kid) => set.find(kid).cloned(),
            None if set.keys.len() == 1 => set.keys.first().cloned(),
            None => None,
        };
        let (set, fetched) = self.snapshot();
        let stale = fetched.is_none_or(|t| t.elapsed() > KEYS_MAX_AGE);
        if !stale && let Some(jwk) = pick(&set) {
            return Ok(jwk);
        }
        let _one_at_a_time = self.refresh.lock().await;
        // Another caller may have refreshed while this one waited.
        let (set, fetched) = self.snapshot();
        let may_fetch = fetched.is_none_or(|t| t.elapsed() > REFETCH_MIN_INTERVAL);
        let set = if may_fetch {
            match self.fetch().await {
                Ok(set) => set,
                // Keep using the keys we have if the issuer is briefly unreachable.
                Err(e) if !set.keys.is_empty() => {
                    tracing::warn!(error = %e, "JWKS refresh failed; using the keys we have");
                    set
                }
                Err(e) => return Err(e),
            }
        } else {
            set
        };
        pick(&set).ok_or_else(|| {
            AuthError::Invalid(match kid {
                Some(kid) => format!("no key '{kid}' at {}", self.jwks_url),
                None => "the token names no key (kid) and the issuer has several".into(),
            })
        })
    }

    fn snapshot(&self) -> (Arc<JwkSet>, Option<Instant>) {
        match self.keys.read() {
            Ok(k) => (k.set.clone(), k.fetched),
            Err(poisoned) => {
                let k = poisoned.into_inner();
                (k.set.clone(), k.fetched)
            }
        }
    }

    async fn fetch(&self) -> Result<Arc<JwkSet>, AuthError> {
        let err = |message: String| AuthError::Jwks {
            url: self.jwks_url.clone(),
            message,
        };
        let response = self
            .http
            .get(&self.jwks_url)
            .send()
            .await
            .map_err(|e| err(e.to_string()))?;
        if !response.status().is_success() {
            return Err(err(format!("HTTP {}", response.status())));
        }
        let set: JwkSet = response
            .json()
            .await
            .map_err(|e| err(format!("not a JWK set: {e}")))?;
        let set = Arc::new(set);
        let mut keys = match self.keys.write() {
            Ok(k) => k,
            Err(poisoned) => poisoned.into_inner(),
        };
        keys.set = set.clone();
        keys.fetched = Some(Instant::now());
        Ok(set)
    }
}

fn is_asymmetric(alg: Algorithm) -> bool {
    use Algorithm::*;
    matches!(
        alg,
        RS256 | RS384 | RS512 | PS256 | PS384 | PS512 | ES256 | ES384 | EdDSA
    )
}
