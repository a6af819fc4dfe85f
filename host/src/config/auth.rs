//! `[server.auth]`: bearer authentication for the HTTP transports, as an
//! OAuth 2.1 resource server (MCP's authorization spec). Only what the file
//! says is checked here; secrets named by environment variables are read
//! when the server starts, never by the config.

use std::path::PathBuf;
use std::time::Duration;

use super::raw::{Num, RawAuth, RawStaticToken, RawView};
use super::resolve::{Resolver, Result, is_env_name};
use super::{ClientLimits, Rate, TagFilter};

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
    /// `[[server.auth.views]]`, in file order: the first whose condition a
    /// token meets decides what it sees. With views, a token that meets
    /// none sees nothing; without, every token sees everything.
    pub views: Vec<TokenView>,
}

/// One `[[server.auth.views]]`: which tokens it is for, what they see, and
/// their limits.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TokenView {
    /// Its place in the file (0-based); a view no token met is `views.len()`.
    pub index: usize,
    /// Tokens carrying this scope (with `claim`, both must hold).
    pub scope: Option<String>,
    /// Tokens whose claim NAME equals VALUE, or is a list holding it.
    pub claim: Option<(String, String)>,
    /// Which components they see, by tag (on top of the server's filter).
    pub tags: TagFilter,
    /// Only these providers (`[plugins.NAME]`, upstream or OpenAPI names);
    /// `None`: all.
    pub plugins: Option<Vec<String>>,
    /// Their limits, in place of `[server.http]`'s.
    pub limits: ClientLimits,
}

impl TokenView {
    /// The view of a token that meets no view's condition: nothing.
    pub fn nothing(index: usize) -> TokenView {
        TokenView {
            index,
            plugins: Some(Vec::new()),
            ..TokenView::default()
        }
    }

    /// Whether a component with `tags`, served by `provider`, is in view.
    pub fn shows(&self, tags: &[String], provider: &str) -> bool {
        self.tags.allows(tags)
            && self
                .plugins
                .as_ref()
                .is_none_or(|names| names.iter().any(|n| n == provider))
    }
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
            views: raw
                .views
                .iter()
                .enumerate()
                .map(|(i, view)| self.view(i, view))
                .collect::<Result<_>>()?,
        })
    }

    fn view(&self, index: usize, raw: &RawView) -> Result<TokenView> {
        let at = ["server", "auth", "views"];
        let invalid = |m: String| self.invalid_item(&at, Some(index), m);
        if let Some(scope) = raw.scope.as_deref().filter(|s| !is_scope(s)) {
            return Err(invalid(format!("scope {scope:?} is not a scope")));
        }
        let claim = match (&raw.claim, &raw.value) {
            (Some(name), Some(value)) => Some((name.clone(), value.clone())),
            (None, None) => None,
            _ => {
                return Err(invalid(
                    "give `claim` and `value` together (the claim NAME must equal or contain VALUE)"
                        .into(),
                ));
            }
        };
        self.words(&at, &raw.include_tags)?;
        self.words(&at, &raw.exclude_tags)?;
        Ok(TokenView {
            index,
            scope: raw.scope.clone(),
            claim,
            tags: TagFilter {
                include: raw.include_tags.clone(),
                exclude: raw.exclude_tags.clone(),
            },
            plugins: raw.plugins.clone(),
            limits: self.client_limits(
                &at,
                Some(index),
                (&raw.rate, &raw.burst, &raw.concurrency),
            )?,
        })
    }

    /// `rate`, `burst` and `concurrency` of a table.
    pub(super) fn client_limits(
        &self,
        at: &[&str],
        index: Option<usize>,
        (rate, burst, concurrency): (&Option<Num>, &Option<Num>, &Option<Num>),
    ) -> Result<ClientLimits> {
        let rate = self.rate(at, index, rate, burst)?;
        let concurrency = match concurrency {
            Some(v) => {
                let key: Vec<&str> = at.iter().copied().chain(["concurrency"]).collect();
                Some(usize::try_from(self.count(&key, v, 1)?).unwrap_or(usize::MAX))
            }
            None => None,
        };
        Ok(ClientLimits { rate, concurrency })
    }

    /// `rate` and its `burst` in the table at `at` (item `index` of an
    /// array of tables).
    pub(super) fn rate(
        &self,
        at: &[&str],
        index: Option<usize>,
        rate: &Option<Num>,
        burst: &Option<Num>,
    ) -> Result<Option<Rate>> {
        let invalid = |field: &str, m: String| {
            let key: Vec<&str> = at.iter().copied().chain([field]).collect();
            match index {
                Some(i) => self.invalid_item(at, Some(i), format!("{field}: {m}")),
                None => self.invalid(&key, m),
            }
        };
        let rate = match rate {
            None => None,
            Some(Num::Text(text)) => Some(Rate::parse(text).map_err(|m| invalid("rate", m))?),
            Some(other) => {
                return Err(invalid(
                    "rate",
                    format!("{other} is not a rate; write e.g. \"10/s\", \"600/m\" or \"1000/h\""),
                ));
            }
        };
        Ok(match (rate, burst) {
            (Some(mut rate), Some(burst)) => {
                let key: Vec<&str> = at.iter().copied().chain(["burst"]).collect();
                let n = self.count(&key, burst, 1)?;
                rate.burst = u32::try_from(n).unwrap_or(u32::MAX);
                Some(rate)
            }
            (None, Some(_)) => return Err(invalid("burst", "is set without a `rate`".into())),
            (rate, None) => rate,
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
