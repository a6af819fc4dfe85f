//! A JSON Web Key Set (RFC 7517) read from a file or fetched from a URL, and
//! kept fresh: refreshed when older than [`JWKS_REFRESH`], and when a token
//! names a key the set lacks (a rotation), at most once per
//! [`JWKS_MIN_REFETCH`], so tokens with made-up key ids cannot make the
//! server hammer the issuer.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;

use super::jwt::{Alg, VerifyingKey};
use crate::config::JwksSource;

/// Largest JWKS document read.
pub const MAX_JWKS_BYTES: usize = 256 * 1024;
/// Most keys kept from one JWKS (more are ignored, with a warning).
pub const MAX_JWKS_KEYS: usize = 64;
/// A key set older than this is fetched again (on the next request).
pub const JWKS_REFRESH: Duration = Duration::from_secs(600);
/// Least time between two fetches of the key set: a token naming an unknown
/// key makes it fetched again only this long after the last attempt.
pub const JWKS_MIN_REFETCH: Duration = Duration::from_secs(5);
/// How long fetching the key set may take.
pub const JWKS_TIMEOUT: Duration = Duration::from_secs(10);

/// One key of the set, as the server uses it.
pub(crate) struct Key {
    pub kid: Option<String>,
    /// The `alg` the JWK pins, if any.
    pub alg: Option<Alg>,
    pub key: VerifyingKey,
}

/// The JWK fields Corral reads.
#[derive(Deserialize)]
struct Jwk {
    kty: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    alg: Option<String>,
    #[serde(default, rename = "use")]
    use_: Option<String>,
    #[serde(default)]
    key_ops: Option<Vec<String>>,
    #[serde(default)]
    crv: Option<String>,
    #[serde(default)]
    n: Option<String>,
    #[serde(default)]
    e: Option<String>,
    #[serde(default)]
    x: Option<String>,
    #[serde(default)]
    y: Option<String>,
}

#[derive(Deserialize)]
struct Document {
    keys: Vec<serde_json::Value>,
}

fn b64(field: &Option<String>, name: &str) -> Result<Vec<u8>, String> {
    let text = field.as_deref().ok_or_else(|| format!("has no `{name}`"))?;
    URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .map_err(|_| format!("`{name}` is not base64url"))
}

fn key_of(jwk: &Jwk) -> Result<Key, String> {
    if jwk.use_.as_deref().is_some_and(|u| u != "sig") {
        return Err("is not a signing key (`use` is not \"sig\")".into());
    }
    if let Some(ops) = &jwk.key_ops
        && !ops.iter().any(|op| op == "verify")
    {
        return Err("`key_ops` does not allow \"verify\"".into());
    }
    let alg = match &jwk.alg {
        Some(name) => {
            Some(Alg::parse(name).ok_or_else(|| format!("algorithm {name:?} is not accepted"))?)
        }
        None => None,
    };
    let fixed = |name: &str, len: usize| -> Result<Vec<u8>, String> {
        let bytes = b64(if name == "x" { &jwk.x } else { &jwk.y }, name)?;
        if bytes.len() == len {
            Ok(bytes)
        } else {
            Err(format!("`{name}` is {} bytes, not {len}", bytes.len()))
        }
    };
    let key = match (jwk.kty.as_str(), jwk.crv.as_deref()) {
        ("RSA", _) => VerifyingKey::Rsa {
            n: b64(&jwk.n, "n")?,
            e: b64(&jwk.e, "e")?,
        },
        ("EC", Some(curve @ ("P-256" | "P-384"))) => {
            let len = if curve == "P-256" { 32 } else { 48 };
            let mut point = vec![4u8];
            point.extend(fixed("x", len)?);
            point.extend(fixed("y", len)?);
            if curve == "P-256" {
                VerifyingKey::P256(point)
            } else {
                VerifyingKey::P384(point)
            }
        }
        ("OKP", Some("Ed25519")) => VerifyingKey::Ed25519(fixed("x", 32)?),
        ("EC" | "OKP", curve) => return Err(format!("curve {curve:?} is not supported")),
        ("oct", _) => return Err("symmetric keys are not accepted from a JWKS".into()),
        (kty, _) => return Err(format!("key type {kty:?} is not supported")),
    };
    if let Some(alg) = alg
        && !key.accepts(alg)
    {
        return Err(format!("`alg` {alg:?} does not fit a {} key", jwk.kty));
    }
    Ok(Key {
        kid: jwk.kid.clone(),
        alg,
        key,
    })
}

/// The usable keys of a JWKS document; keys Corral cannot use are skipped
/// with a warning, and a set with none is an error.
pub(crate) fn parse(bytes: &[u8]) -> Result<Vec<Key>, String> {
    let document: Document = serde_json::from_slice(bytes)
        .map_err(|e| format!("not a JWKS (a JSON object with `keys`): {e}"))?;
    let mut keys = Vec::new();
    for (i, value) in document.keys.into_iter().enumerate() {
        if keys.len() == MAX_JWKS_KEYS {
            tracing::warn!(
                "the JWKS has more than {MAX_JWKS_KEYS} keys (MAX_JWKS_KEYS); ignoring the rest"
            );
            break;
        }
        let parsed = serde_json::from_value::<Jwk>(value)
            .map_err(|e| e.to_string())
            .and_then(|jwk| key_of(&jwk));
        match parsed {
            Ok(key) => keys.push(key),
            Err(why) => tracing::warn!("skipping JWKS key {i}: it {why}"),
        }
    }
    if keys.is_empty() {
        return Err("has no key Corral can verify with (RSA, EC P-256/P-384, Ed25519)".into());
    }
    Ok(keys)
}

/// The current keys and when they were fetched.
struct State {
    keys: Arc<Vec<Key>>,
    fetched: Option<Instant>,
    attempted: Option<Instant>,
}

/// A key set kept fresh from its source.
pub(crate) struct KeySet {
    source: JwksSource,
    client: reqwest::Client,
    state: RwLock<State>,
    /// Held while fetching, so concurrent requests fetch once.
    fetching: tokio::sync::Mutex<()>,
}

/// What a lookup found.
pub(crate) enum Lookup {
    /// These keys may have signed the token.
    Keys(Arc<Vec<Key>>),
    /// No key set could be read yet.
    Unavailable,
}

impl KeySet {
    /// A key set from `source`. A file is read now: one that cannot be
    /// read or holds no usable key is an error. A URL is fetched in the
    /// background (the issuer may be down while the server starts; it is
    /// tried again on requests, and tokens are refused until it answers).
    pub(crate) fn open(source: JwksSource) -> Result<Arc<KeySet>, String> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .timeout(JWKS_TIMEOUT)
            .redirect(reqwest::redirect::Policy::limited(3))
            .build()
            .map_err(|e| e.to_string())?;
        let (keys, fetched) = match &source {
            JwksSource::File(path) => {
                let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
                if bytes.len() > MAX_JWKS_BYTES {
                    return Err(too_large());
                }
                (parse(&bytes)?, Some(Instant::now()))
            }
            JwksSource::Url(_) => (Vec::new(), None),
        };
        let set = Arc::new(KeySet {
            source,
            client,
            state: RwLock::new(State {
                keys: Arc::new(keys),
                fetched,
                attempted: fetched,
            }),
            fetching: tokio::sync::Mutex::new(()),
        });
        if let (JwksSource::Url(url), Ok(runtime)) =
            (&set.source, tokio::runtime::Handle::try_current())
        {
            let (set, url) = (set.clone(), url.clone());
            runtime.spawn(async move {
                let _fetching = set.fetching.lock().await;
                if let Err(why) = set.refresh().await {
                    tracing::warn!("cannot fetch the JWKS from {url} yet: {why}; tokens are refused until it can be fetched");
                }
            });
        }
        Ok(set)
    }

    /// Keys that may have signed a token naming `kid`; fetches the set again
    /// when it is old, or lacks `kid` and was not fetched in the last
    /// [`JWKS_MIN_REFETCH`]. Returns whether the set changed too.
    pub(crate) async fn lookup(&self, kid: Option<&str>) -> (Lookup, bool) {
        let (keys, fetched, attempted) = self.snapshot();
        let known = kid.is_none_or(|kid| keys.iter().any(|k| k.kid.as_deref() == Some(kid)));
        let stale = fetched.is_none_or(|at| at.elapsed() >= JWKS_REFRESH);
        let may_refetch = attempted.is_none_or(|at| at.elapsed() >= JWKS_MIN_REFETCH);
        let mut changed = false;
        let keys = if (stale || !known) && may_refetch {
            let _fetching = self.fetching.lock().await;
            // Another request may have fetched it meanwhile.
            let (_, _, attempted) = self.snapshot();
            if attempted.is_none_or(|at| at.elapsed() >= JWKS_MIN_REFETCH) {
                match self.refresh().await {
                    Ok(true) => changed = true,
                    Ok(false) => {}
                    Err(why) => {
                        tracing::warn!("cannot refresh the JWKS from {}: {why}", self.source)
                    }
                }
            }
            self.snapshot().0
        } else {
            keys
        };
        if keys.is_empty() {
            (Lookup::Unavailable, changed)
        } else {
            (Lookup::Keys(keys), changed)
        }
    }

    fn snapshot(&self) -> (Arc<Vec<Key>>, Option<Instant>, Option<Instant>) {
        let state = self.state.read().unwrap_or_else(|e| e.into_inner());
        (state.keys.clone(), state.fetched, state.attempted)
    }

    /// Read the source and replace the keys; `Ok(true)` if they changed.
    async fn refresh(&self) -> Result<bool, String> {
        self.state
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .attempted = Some(Instant::now());
        let bytes = self.read().await?;
        let keys = parse(&bytes)?;
        let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
        let changed = !same_keys(&state.keys, &keys);
        if changed && state.fetched.is_some() {
            tracing::info!("the JWKS from {} changed: {} keys", self.source, keys.len());
        }
        state.keys = Arc::new(keys);
        state.fetched = Some(Instant::now());
        Ok(changed)
    }

    async fn read(&self) -> Result<Vec<u8>, String> {
        match &self.source {
            JwksSource::File(path) => {
                let bytes = tokio::fs::read(path).await.map_err(|e| e.to_string())?;
                if bytes.len() > MAX_JWKS_BYTES {
                    return Err(too_large());
                }
                Ok(bytes)
            }
            JwksSource::Url(url) => {
                let mut response = self
                    .client
                    .get(url)
                    .header("accept", "application/json")
                    .send()
                    .await
                    .map_err(|e| crate::error::chain(&e))?;
                if !response.status().is_success() {
                    return Err(format!("the issuer answered {}", response.status()));
                }
                let mut bytes = Vec::new();
                while let Some(chunk) = response.chunk().await.map_err(|e| e.to_string())? {
                    if bytes.len() + chunk.len() > MAX_JWKS_BYTES {
                        return Err(too_large());
                    }
                    bytes.extend_from_slice(&chunk);
                }
                Ok(bytes)
            }
        }
    }
}

fn too_large() -> String {
    format!("it is larger than {MAX_JWKS_BYTES} bytes (MAX_JWKS_BYTES)")
}

/// Whether two sets have the same key ids in the same order (enough to tell
/// a rotation; a changed key under the same id is still picked up).
fn same_keys(a: &[Key], b: &[Key]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.kid == y.kid)
}
