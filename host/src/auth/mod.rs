//! Bearer-token authentication, as an OAuth 2.1 resource server: a token is
//! verified (a JWT's signature and claims, or a static token's hash) and
//! becomes a [`Principal`] with its scopes. Knows no HTTP framework and no
//! MCP: the HTTP transport asks [`Authenticator::authenticate`] and turns a
//! [`Denial`] into a status and a `WWW-Authenticate` header.
//!
//! Verified tokens are cached (at most [`MAX_CACHED_TOKENS`], each until it
//! expires, all dropped when the key set changes), so a client sending the
//! same token on every request pays one signature check.

mod jwks;
mod jwt;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

pub use jwks::{JWKS_MIN_REFETCH, JWKS_REFRESH, JWKS_TIMEOUT, MAX_JWKS_BYTES, MAX_JWKS_KEYS};

use crate::config::{AuthSettings, JwtKeys, TokenView};

/// Longest token accepted, in bytes.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;
/// Most verified tokens remembered at once.
pub const MAX_CACHED_TOKENS: usize = 10_000;

/// Who a verified token speaks for.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    /// `sub` of a JWT (else `client_id`), or a static token's subject.
    pub subject: String,
    /// A name unique across issuers: `ISSUER#SUBJECT` for a JWT,
    /// `static#SUBJECT` for a static token. Sessions and tasks belong to it.
    pub key: String,
    /// The token's scopes.
    pub scopes: Vec<String>,
    /// A JWT's claims (empty for a static token).
    pub claims: Map<String, Value>,
    /// What it may see and do: the first `[[server.auth.views]]` whose
    /// condition it meets (`None`: no views are configured, everything).
    pub view: Option<Arc<TokenView>>,
    /// When the token expires, in seconds since the epoch (`None`: never).
    expires: Option<u64>,
}

impl Principal {
    /// Whether the token carries `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }
}

/// Why a request is not let in. Carries nothing of the token.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Denial {
    /// No token was sent.
    #[error("no bearer token")]
    Missing,
    /// The token is malformed, forged, expired or for someone else.
    #[error("{0}")]
    Invalid(String),
    /// The token is good but lacks scopes; they are listed.
    #[error("the token lacks the scope(s) {}", .0.join(" "))]
    InsufficientScope(Vec<String>),
    /// The issuer's keys could not be read, so no JWT can be checked.
    #[error("the issuer's signing keys cannot be fetched")]
    KeysUnavailable,
}

/// Why an [`Authenticator`] could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthSetupError {
    /// A variable the config names is not set (or empty).
    #[error("[server.auth]: the environment variable {0} is not set (or is empty)")]
    MissingEnv(String),
    /// The JWKS file could not be read or holds no usable key.
    #[error("[server.auth] jwks {source_name}: {message}")]
    Jwks {
        /// The file or URL.
        source_name: String,
        /// What is wrong.
        message: String,
    },
}

/// How JWTs are verified.
enum Keys {
    Secret(jwt::VerifyingKey),
    Set(Arc<jwks::KeySet>),
}

/// Verifies bearer tokens as `[server.auth]` says.
pub struct Authenticator {
    settings: AuthSettings,
    keys: Option<Keys>,
    /// sha256 of each static token, and who it is.
    statics: Vec<([u8; 32], Arc<Principal>)>,
    cache: Mutex<HashMap<[u8; 32], Arc<Principal>>>,
    views: Vec<Arc<TokenView>>,
    /// The view of a token that meets no view's condition.
    nothing: Arc<TokenView>,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("issuer", &self.settings.issuer)
            .field("static_tokens", &self.statics.len())
            .finish_non_exhaustive()
    }
}

fn env_secret(name: &str) -> Result<String, AuthSetupError> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| AuthSetupError::MissingEnv(name.to_owned()))
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Authenticator {
    /// Read the secrets the settings name from the environment and the key
    /// set from its file; a key set at a URL is fetched in the background
    /// (when called inside a tokio runtime) and on the first request.
    pub fn new(settings: &AuthSettings) -> Result<Authenticator, AuthSetupError> {
        let keys = match &settings.jwt {
            None => None,
            Some(JwtKeys::SecretEnv(name)) => Some(Keys::Secret(jwt::VerifyingKey::Hmac(
                env_secret(name)?.into_bytes(),
            ))),
            Some(JwtKeys::Jwks(source)) => Some(Keys::Set(
                jwks::KeySet::open(source.clone()).map_err(|message| AuthSetupError::Jwks {
                    source_name: source.to_string(),
                    message,
                })?,
            )),
        };
        let mut authenticator = Authenticator {
            settings: settings.clone(),
            keys,
            statics: Vec::new(),
            cache: Mutex::new(HashMap::new()),
            views: settings.views.iter().cloned().map(Arc::new).collect(),
            nothing: Arc::new(TokenView::nothing(settings.views.len())),
        };
        for token in &settings.tokens {
            let value = env_secret(&token.env)?;
            let claims = Map::new();
            let principal = Principal {
                subject: token.subject.clone(),
                key: format!("static#{}", token.subject),
                view: authenticator.view_of(&token.scopes, &claims),
                scopes: token.scopes.clone(),
                claims,
                expires: None,
            };
            authenticator
                .statics
                .push((Sha256::digest(value.as_bytes()).into(), Arc::new(principal)));
        }
        Ok(authenticator)
    }

    /// The first view whose condition a token with `scopes` and `claims`
    /// meets; with views configured and none met, the empty view.
    fn view_of(&self, scopes: &[String], claims: &Map<String, Value>) -> Option<Arc<TokenView>> {
        if self.views.is_empty() {
            return None;
        }
        let meets = |view: &TokenView| {
            view.scope.as_ref().is_none_or(|s| scopes.contains(s))
                && view
                    .claim
                    .as_ref()
                    .is_none_or(|(name, value)| match claims.get(name) {
                        Some(Value::String(s)) => s == value,
                        Some(Value::Array(list)) => list.iter().any(|v| v.as_str() == Some(value)),
                        _ => false,
                    })
        };
        Some(
            self.views
                .iter()
                .find(|v| meets(v))
                .unwrap_or(&self.nothing)
                .clone(),
        )
    }

    /// The settings it was made from.
    pub fn settings(&self) -> &AuthSettings {
        &self.settings
    }

    /// Who `token` speaks for, if it is valid and carries the required
    /// scopes.
    pub async fn authenticate(&self, token: &str) -> Result<Arc<Principal>, Denial> {
        let principal = self.verify(token).await?;
        let missing: Vec<String> = self
            .settings
            .required_scopes
            .iter()
            .filter(|s| !principal.has_scope(s))
            .cloned()
            .collect();
        if !missing.is_empty() {
            return Err(Denial::InsufficientScope(
                self.settings.required_scopes.clone(),
            ));
        }
        Ok(principal)
    }

    async fn verify(&self, token: &str) -> Result<Arc<Principal>, Denial> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(Denial::Invalid(format!(
                "the token is longer than {MAX_TOKEN_BYTES} bytes (MAX_TOKEN_BYTES)"
            )));
        }
        let hash: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        // Every static token is compared, each in constant time.
        let mut found = None;
        for (known, principal) in &self.statics {
            if digests_equal(known, &hash) {
                found = Some(principal.clone());
            }
        }
        if let Some(principal) = found {
            return Ok(principal);
        }
        if let Some(principal) = self.cached(&hash) {
            return Ok(principal);
        }
        let Some(keys) = &self.keys else {
            return Err(Denial::Invalid(
                "the token is not one this server knows".into(),
            ));
        };
        let unverified = jwt::decode(token)?;
        let (claims, key_set_changed) = match keys {
            Keys::Secret(key) => (unverified.verify(key), false),
            Keys::Set(set) => {
                let (lookup, changed) = set.lookup(unverified.kid.as_deref()).await;
                let jwks::Lookup::Keys(keys) = lookup else {
                    return Err(Denial::KeysUnavailable);
                };
                let claims = keys
                    .iter()
                    .filter(|k| unverified.kid.is_none() || k.kid == unverified.kid)
                    .filter(|k| k.alg.is_none_or(|alg| alg == unverified.alg))
                    .find_map(|k| unverified.verify(&k.key));
                (claims, changed)
            }
        };
        if key_set_changed {
            self.cache.lock().unwrap_or_else(|e| e.into_inner()).clear();
        }
        let Some(claims) = claims else {
            return Err(Denial::Invalid(
                "the token's signature does not verify with the issuer's keys".into(),
            ));
        };
        let issuer = self.settings.issuer.as_deref().unwrap_or_default();
        jwt::check_claims(
            &claims,
            &jwt::Expected {
                issuer,
                audience: self.settings.audience.as_deref().unwrap_or_default(),
                leeway: self.settings.leeway.as_secs(),
                now: now(),
            },
        )?;
        let subject = ["sub", "client_id"]
            .iter()
            .find_map(|name| claims.get(*name).and_then(Value::as_str))
            .unwrap_or("")
            .to_owned();
        let scopes = jwt::scopes(&claims);
        let principal = Arc::new(Principal {
            key: format!("{issuer}#{subject}"),
            subject,
            view: self.view_of(&scopes, &claims),
            scopes,
            expires: claims.get("exp").and_then(Value::as_f64).map(|e| e as u64),
            claims,
        });
        self.remember(hash, principal.clone());
        Ok(principal)
    }

    fn cached(&self, hash: &[u8; 32]) -> Option<Arc<Principal>> {
        let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        let principal = cache.get(hash)?;
        let leeway = self.settings.leeway.as_secs();
        principal
            .expires
            .is_none_or(|exp| exp + leeway > now())
            .then(|| principal.clone())
    }

    fn remember(&self, hash: [u8; 32], principal: Arc<Principal>) {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= MAX_CACHED_TOKENS {
            let now = now();
            cache.retain(|_, p| p.expires.is_none_or(|exp| exp > now));
            if cache.len() >= MAX_CACHED_TOKENS
                && let Some(soonest) = cache
                    .iter()
                    .min_by_key(|(_, p)| p.expires)
                    .map(|(hash, _)| *hash)
            {
                cache.remove(&soonest);
            }
        }
        cache.insert(hash, principal);
    }

    /// The RFC 9728 protected-resource metadata for `resource`.
    pub fn metadata(&self, resource: &str, name: &str) -> Value {
        let mut metadata = serde_json::json!({
            "resource": resource,
            "authorization_servers": self.settings.authorization_servers,
            "bearer_methods_supported": ["header"],
            "resource_name": name,
        });
        if !self.settings.required_scopes.is_empty() {
            metadata["scopes_supported"] = serde_json::json!(self.settings.required_scopes);
        }
        metadata
    }
}

/// Constant-time equality of two digests.
fn digests_equal(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests;
