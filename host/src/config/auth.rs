//! `[server.auth]`: bearer authentication for the HTTP transports, as an
//! OAuth 2.1 resource server (MCP's authorization spec). Only what the file
//! says is checked here; secrets named by environment variables are read
//! when the server starts, never by the config.

use std::path::PathBuf;
use std::time::Duration;

use super::raw::{RawAuth, RawStaticToken};
use super::resolve::{Resolver, Result, is_env_name};

/// Default clock skew allowed when checking a token's `exp` and `nbf`.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(30);

/// How clients authenticate to the HTTP transports.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthSettings {
    /// The issuer a JWT's `iss` must equal; also the authorization server
    /// the protected-resource metadata names (unless
    /// `authorization_servers` is given).
    pub issuer: Option<String>,
    /// This server's resource URI (RFC 8707): a JWT's `aud` must contain it,
    /// and the protected-resource metadata names it as `resource`. Without
    /// it (static tokens only), the metadata uses the URL requested.
    pub audience: Option<String>,
    /// How JWTs are verified; `None`: only static tokens are accepted.
    pub jwt: Option<JwtKeys>,
    /// Scopes every token must carry (else 403 `insufficient_scope`).
    pub required_scopes: Vec<String>,
    /// Clock skew allowed for `exp` and `nbf`.
    pub leeway: Duration,
    /// Authorization servers the metadata names (default: the issuer).
    pub authorization_servers: Vec<String>,
    /// Opaque tokens given to clients by hand, each read from the
    /// environment when the server starts.
    pub tokens: Vec<StaticToken>,
}

/// Where the keys that sign JWTs come from.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum JwtKeys {
    /// A JSON Web Key Set (RS*, PS*, ES256/384, EdDSA).
    Jwks(JwksSource),
    /// An HMAC secret (HS256/384/512) read from this environment variable.
    SecretEnv(String),
}

/// Where a JWKS is read from.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum JwksSource {
    /// A file, absolute; re-read when a token names a key it lacks.
    File(PathBuf),
    /// An `https://` URL (or `http://` on a loopback address), fetched at
    /// start, refreshed when old and when a token names a key it lacks.
    Url(String),
}

impl std::fmt::Display for JwksSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JwksSource::File(path) => write!(f, "{}", path.display()),
            JwksSource::Url(url) => f.write_str(url),
        }
    }
}

/// One `[[server.auth.tokens]]` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct StaticToken {
    /// The environment variable holding the token.
    pub env: String,
    /// Who presents it (default: the variable's name).
    pub subject: String,
    /// The scopes it carries.
    pub scopes: Vec<String>,
}

/// Whether `url` is an `https://` URL, or an `http://` one whose host is a
/// loopback address or `localhost`.
fn is_trusted_url(url: &str) -> std::result::Result<(), String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("{url:?} is not a URL ({e})"))?;
    match parsed.scheme() {
        "https" => Ok(()),
        "http" => {
            let loopback = match parsed.host() {
                Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
                Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                None => false,
            };
            if loopback {
                Ok(())
            } else {
                Err(format!(
                    "{url:?} is plain http to a host that is not loopback; keys must come over https"
                ))
            }
        }
        other => Err(format!("{url:?}: `{other}` is not http or https")),
    }
}

fn is_scope(s: &str) -> bool {
    // RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
    !s.is_empty()
        && s.bytes()
            .all(|b| b == 0x21 || ((0x23..=0x7e).contains(&b) && b != 0x5c))
}

impl Resolver<'_> {
    pub(super) fn auth(&self, raw: &RawAuth) -> Result<AuthSettings> {
        let key = |field| ["server", "auth", field];
        let jwt = match (&raw.jwks, &raw.hs256_secret_env) {
            (Some(_), Some(_)) => {
                return Err(self.invalid(
                    &key("hs256_secret_env"),
                    "give either `jwks` or `hs256_secret_env`, not both",
                ));
            }
            (Some(jwks), None) => Some(JwtKeys::Jwks(
                if jwks.starts_with("http://") || jwks.starts_with("https://") {
                    is_trusted_url(jwks).map_err(|m| self.invalid(&key("jwks"), m))?;
                    JwksSource::Url(jwks.clone())
                } else {
                    JwksSource::File(self.existing(&key("jwks"), None, jwks, false)?)
                },
            )),
            (None, Some(env)) => {
                if !is_env_name(env) {
                    return Err(self.invalid(
                        &key("hs256_secret_env"),
                        format!("{env:?} is not an environment variable name, e.g. \"CORRAL_JWT_SECRET\""),
                    ));
                }
                Some(JwtKeys::SecretEnv(env.clone()))
            }
            (None, None) => None,
        };
        if jwt.is_none() && raw.tokens.is_empty() {
            return Err(self.invalid(
                &["server", "auth"],
                "accepts no token: add `jwks` (or `hs256_secret_env`) for JWTs, or `[[server.auth.tokens]]`",
            ));
        }
        for (field, value) in [("issuer", &raw.issuer), ("audience", &raw.audience)] {
            if let Some(value) = value {
                url::Url::parse(value).map_err(|e| {
                    self.invalid(
                        &key(field),
                        format!(
                            "{value:?} is not a URI ({e}), e.g. \"https://mcp.example.com/mcp\""
                        ),
                    )
                })?;
            } else if jwt.is_some() {
                let example = if field == "issuer" {
                    "\"https://auth.example.com\""
                } else {
                    "this server's URL, e.g. \"https://mcp.example.com/mcp\""
                };
                return Err(self.invalid(
                    &["server", "auth"],
                    format!("verifies JWTs, so it needs `{field}` ({example})"),
                ));
            }
        }
        for (i, scope) in raw.required_scopes.iter().enumerate() {
            if !is_scope(scope) {
                return Err(self.invalid_item(
                    &key("required_scopes"),
                    Some(i),
                    format!(
                        "{scope:?} is not a scope (printable ASCII without spaces, `\"` or `\\`)"
                    ),
                ));
            }
        }
        for (i, server) in raw.authorization_servers.iter().enumerate() {
            is_trusted_url(server)
                .map_err(|m| self.invalid_item(&key("authorization_servers"), Some(i), m))?;
        }
        let leeway = match &raw.leeway {
            Some(v) => self.duration(&key("leeway"), v, Duration::ZERO)?,
            None => DEFAULT_LEEWAY,
        };
        let tokens = raw
            .tokens
            .iter()
            .enumerate()
            .map(|(i, token)| self.static_token(i, token))
            .collect::<Result<Vec<_>>>()?;
        Ok(AuthSettings {
            authorization_servers: if raw.authorization_servers.is_empty() {
                raw.issuer.iter().cloned().collect()
            } else {
                raw.authorization_servers.clone()
            },
            issuer: raw.issuer.clone(),
            audience: raw.audience.clone(),
            jwt,
            required_scopes: raw.required_scopes.clone(),
            leeway,
            tokens,
        })
    }

    fn static_token(&self, i: usize, raw: &RawStaticToken) -> Result<StaticToken> {
        let key = ["server", "auth", "tokens"];
        let Some(env) = &raw.env else {
            return Err(self.invalid_item(
                &key,
                Some(i),
                "has no `env`: name the environment variable holding the token, e.g. env = \"CORRAL_TOKEN\"",
            ));
        };
        if !is_env_name(env) {
            return Err(self.invalid_item(
                &key,
                Some(i),
                format!("env {env:?} is not an environment variable name"),
            ));
        }
        if let Some(scope) = raw.scopes.iter().find(|s| !is_scope(s)) {
            return Err(self.invalid_item(&key, Some(i), format!("{scope:?} is not a scope")));
        }
        Ok(StaticToken {
            env: env.clone(),
            subject: raw.subject.clone().unwrap_or_else(|| env.clone()),
            scopes: raw.scopes.clone(),
        })
    }
}
