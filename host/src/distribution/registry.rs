//! A small client of the OCI distribution API: what `publish`, `add`,
//! `update` and `inspect` need (manifests and blobs, read and pushed), with
//! the registry's token flow and the credentials every OCI client reads.

use std::sync::Mutex;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use reqwest::header::{
    ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue, LOCATION, WWW_AUTHENTICATE,
};
use reqwest::{Method, StatusCode};
use sha2::{Digest, Sha256};

use super::credentials::{self, Credentials};
use super::reference::Reference;
use super::{DistributionError, MAX_MANIFEST_BYTES};

/// The longest one registry request may take, the body included.
pub const REGISTRY_TIMEOUT: Duration = Duration::from_secs(120);
/// The largest token response read from a registry's auth service.
const MAX_TOKEN_BYTES: usize = 64 * 1024;

/// The manifest media types asked for (OCI first).
pub(crate) const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const ACCEPT_MANIFESTS: &str = "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json;q=0.9";

/// One repository of one registry.
pub struct Registry {
    http: reqwest::Client,
    base: String,
    reference: Reference,
    /// The Docker config's login for this registry, looked up (and a
    /// credential helper run) only when the registry first asks for one.
    credentials: std::sync::OnceLock<Option<Credentials>>,
    /// `pull` or `pull,push`: the scope asked of the token service.
    actions: &'static str,
    /// The `Authorization` value that worked last.
    authorization: Mutex<Option<HeaderValue>>,
}

/// A manifest as fetched: its bytes and the sha256 digest of those bytes.
pub struct Fetched {
    pub digest: String,
    pub bytes: Vec<u8>,
}

impl Registry {
    /// A client for `reference`'s repository. Plain HTTP only for a
    /// loopback registry or with `insecure`; `push` asks for push rights.
    pub fn new(
        reference: &Reference,
        insecure: bool,
        push: bool,
    ) -> Result<Registry, DistributionError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let scheme = if insecure || reference.is_loopback() {
            "http"
        } else {
            "https"
        };
        let http = reqwest::Client::builder()
            .timeout(REGISTRY_TIMEOUT)
            .connect_timeout(Duration::from_secs(15))
            .redirect(reqwest::redirect::Policy::limited(5))
            .user_agent(concat!("corral/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| DistributionError::Registry {
                registry: reference.registry.clone(),
                why: e.to_string(),
            })?;
        Ok(Registry {
            http,
            base: format!("{scheme}://{}", reference.registry),
            credentials: std::sync::OnceLock::new(),
            reference: reference.clone(),
            actions: if push { "pull,push" } else { "pull" },
            authorization: Mutex::new(None),
        })
    }

    fn credentials(&self) -> &Option<Credentials> {
        self.credentials
            .get_or_init(|| credentials::find(&self.reference.registry))
    }

    fn url(&self, rest: &str) -> String {
        format!("{}/v2/{}/{rest}", self.base, self.reference.repository)
    }

    fn fail(&self, why: impl Into<String>) -> DistributionError {
        DistributionError::Registry {
            registry: self.reference.registry.clone(),
            why: why.into(),
        }
    }

    /// Send a request built by `build`; on a 401, answer the registry's
    /// challenge once and send it again.
    async fn send(
        &self,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, DistributionError> {
        let mut challenged = false;
        loop {
            let mut request = build(&self.http);
            let authorization = self
                .authorization
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone();
            if let Some(value) = authorization {
                request = request.header(AUTHORIZATION, value);
            }
            let response = request
                .send()
                .await
                .map_err(|e| self.fail(crate::error::chain(&e)))?;
            if response.status() != StatusCode::UNAUTHORIZED || challenged {
                if response.status() == StatusCode::UNAUTHORIZED {
                    return Err(self.fail(format!(
                        "the registry refused the credentials{} (HTTP 401); log in with `docker login {}` or a credential helper",
                        if self.credentials().is_some() { " found in the Docker config" } else { "" },
                        self.reference.registry
                    )));
                }
                return Ok(response);
            }
            challenged = true;
            let challenge = response
                .headers()
                .get(WWW_AUTHENTICATE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            let value = self.answer(&challenge).await?;
            *self.authorization.lock().unwrap_or_else(|e| e.into_inner()) = Some(value);
        }
    }

    /// The `Authorization` value for a `WWW-Authenticate` challenge.
    async fn answer(&self, challenge: &str) -> Result<HeaderValue, DistributionError> {
        let (scheme, params) = challenge.split_once(' ').unwrap_or((challenge, ""));
        let header = |text: String| {
            let mut value =
                HeaderValue::from_str(&text).map_err(|_| self.fail("unusable credentials"))?;
            value.set_sensitive(true);
            Ok(value)
        };
        if scheme.eq_ignore_ascii_case("basic") {
            return match self.credentials() {
                Some(Credentials::Basic { username, password }) => {
                    header(format!("Basic {}", STANDARD.encode(format!("{username}:{password}"))))
                }
                _ => Err(self.fail(format!(
                    "the registry asks for a login (HTTP 401); log in with `docker login {}` or a credential helper",
                    self.reference.registry
                ))),
            };
        }
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(self.fail(format!(
                "unsupported authentication challenge {challenge:?}"
            )));
        }
        let params = challenge_params(params);
        let get = |key: &str| {
            params
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v.as_str())
        };
        let realm = get("realm")
            .ok_or_else(|| self.fail("the registry's Bearer challenge names no realm"))?;
        let realm_url =
            url::Url::parse(realm).map_err(|_| self.fail(format!("bad token realm {realm:?}")))?;
        // Credentials go to a token service only over TLS (or on this machine).
        let safe_realm = realm_url.scheme() == "https"
            || realm_url.host_str().is_some_and(|h| {
                h == "localhost"
                    || h.trim_matches(['[', ']'])
                        .parse::<std::net::IpAddr>()
                        .is_ok_and(|ip| ip.is_loopback())
            });
        let scope = format!("repository:{}:{}", self.reference.repository, self.actions);
        let mut query: Vec<(&str, String)> = vec![("scope", scope.clone())];
        if let Some(service) = get("service") {
            query.push(("service", service.to_owned()));
        }
        let credentials = self.credentials().as_ref().filter(|_| safe_realm);
        let request = match credentials {
            Some(Credentials::IdentityToken(token)) => {
                let mut form = url::form_urlencoded::Serializer::new(String::new());
                form.append_pair("grant_type", "refresh_token")
                    .append_pair("refresh_token", token)
                    .append_pair("client_id", "corral");
                for (key, value) in &query {
                    form.append_pair(key, value);
                }
                self.http
                    .post(realm_url)
                    .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(form.finish())
            }
            other => {
                let mut url = realm_url;
                for (key, value) in &query {
                    url.query_pairs_mut().append_pair(key, value);
                }
                match other {
                    Some(Credentials::Basic { username, password }) => {
                        self.http.get(url).basic_auth(username, Some(password))
                    }
                    _ => self.http.get(url),
                }
            }
        };
        let response = request
            .send()
            .await
            .map_err(|e| self.fail(format!("token service: {}", crate::error::chain(&e))))?;
        if !response.status().is_success() {
            return Err(self.fail(format!(
                "the token service refused {scope} (HTTP {}); log in with `docker login {}`",
                response.status().as_u16(),
                self.reference.registry
            )));
        }
        let body = read_capped(response, MAX_TOKEN_BYTES, "token response")
            .await
            .map_err(|why| self.fail(why))?;
        #[derive(serde::Deserialize)]
        struct Token {
            token: Option<String>,
            access_token: Option<String>,
        }
        let token: Token = serde_json::from_slice(&body)
            .map_err(|_| self.fail("the token service's answer is not JSON"))?;
        let token = token
            .token
            .or(token.access_token)
            .ok_or_else(|| self.fail("the token service's answer has no token"))?;
        header(format!("Bearer {token}"))
    }

    /// The manifest at `target` (a tag or digest), or `None` if there is none.
    pub async fn manifest(&self, target: &str) -> Result<Option<Fetched>, DistributionError> {
        let url = self.url(&format!("manifests/{target}"));
        let response = self
            .send(|http| http.get(&url).header(ACCEPT, ACCEPT_MANIFESTS))
            .await?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !response.status().is_success() {
            return Err(self.fail(format!(
                "manifest {target}: HTTP {}",
                response.status().as_u16()
            )));
        }
        let bytes = read_capped(response, MAX_MANIFEST_BYTES as usize, "manifest")
            .await
            .map_err(|why| self.fail(why))?;
        let digest = sha256_digest(&bytes);
        if target.starts_with("sha256:") && digest != target {
            return Err(DistributionError::DigestMismatch {
                what: format!("the manifest {target}"),
                expected: target.to_owned(),
                actual: digest,
            });
        }
        Ok(Some(Fetched { digest, bytes }))
    }

    /// The blob `digest`, at most `max` bytes, checked against its digest.
    pub async fn blob(
        &self,
        digest: &str,
        max: u64,
        what: &str,
    ) -> Result<Vec<u8>, DistributionError> {
        let url = self.url(&format!("blobs/{digest}"));
        let response = self.send(|http| http.get(&url)).await?;
        if !response.status().is_success() {
            return Err(self.fail(format!(
                "{what} {digest}: HTTP {}",
                response.status().as_u16()
            )));
        }
        let bytes = read_capped(response, max as usize, what)
            .await
            .map_err(|why| self.fail(why))?;
        let actual = sha256_digest(&bytes);
        if actual != digest {
            return Err(DistributionError::DigestMismatch {
                what: what.to_owned(),
                expected: digest.to_owned(),
                actual,
            });
        }
        Ok(bytes)
    }

    /// Upload `bytes` as a blob (skipped if the registry has it); its digest.
    pub async fn push_blob(&self, bytes: &[u8]) -> Result<String, DistributionError> {
        let digest = sha256_digest(bytes);
        let url = self.url(&format!("blobs/{digest}"));
        let head = self.send(|http| http.head(&url)).await?;
        if head.status().is_success() {
            return Ok(digest);
        }
        let start = self.url("blobs/uploads/");
        let response = self
            .send(|http| http.post(&start).header(reqwest::header::CONTENT_LENGTH, 0))
            .await?;
        if response.status() != StatusCode::ACCEPTED {
            return Err(self.fail(format!(
                "starting an upload: HTTP {}",
                response.status().as_u16()
            )));
        }
        let location = response
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| self.fail("the upload has no Location"))?;
        let mut upload = url::Url::parse(&self.base)
            .and_then(|base| base.join(location))
            .map_err(|_| self.fail(format!("bad upload Location {location:?}")))?;
        upload.query_pairs_mut().append_pair("digest", &digest);
        let body = bytes.to_vec();
        let response = self
            .send(|http| {
                http.request(Method::PUT, upload.clone())
                    .header(CONTENT_TYPE, "application/octet-stream")
                    .body(body.clone())
            })
            .await?;
        if response.status() != StatusCode::CREATED {
            return Err(self.fail(format!(
                "uploading blob {digest}: HTTP {}",
                response.status().as_u16()
            )));
        }
        Ok(digest)
    }

    /// Put a manifest under `target` (a tag or its digest); its digest.
    pub async fn push_manifest(
        &self,
        target: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> Result<String, DistributionError> {
        let url = self.url(&format!("manifests/{target}"));
        let body = bytes.to_vec();
        let response = self
            .send(|http| {
                http.put(&url)
                    .header(CONTENT_TYPE, media_type)
                    .body(body.clone())
            })
            .await?;
        if response.status() != StatusCode::CREATED {
            let status = response.status().as_u16();
            let text = read_capped(response, 4096, "error")
                .await
                .unwrap_or_default();
            return Err(self.fail(format!(
                "putting manifest {target}: HTTP {status} {}",
                crate::units::printable(&String::from_utf8_lossy(&text))
            )));
        }
        Ok(sha256_digest(bytes))
    }
}

/// `sha256:<hex>` of `bytes`.
pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", crate::config::hex(&Sha256::digest(bytes)))
}

/// A response body of at most `max` bytes.
async fn read_capped(
    mut response: reqwest::Response,
    max: usize,
    what: &str,
) -> Result<Vec<u8>, String> {
    if let Some(length) = response.content_length()
        && length > max as u64
    {
        return Err(format!(
            "the {what} is {}; at most {} is read",
            crate::units::human_size(length),
            crate::units::human_size(max as u64)
        ));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| crate::error::chain(&e))?
    {
        if body.len() + chunk.len() > max {
            return Err(format!(
                "the {what} is larger than the {} read",
                crate::units::human_size(max as u64)
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// `key="value", key=value` pairs of a challenge (quoted values may hold commas).
fn challenge_params(text: &str) -> Vec<(String, String)> {
    let mut params = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        let Some((key, after)) = rest.split_once('=') else {
            break;
        };
        let key = key.trim().trim_start_matches(',').trim().to_owned();
        let after = after.trim_start();
        let (value, next) = if let Some(quoted) = after.strip_prefix('"') {
            match quoted.find('"') {
                Some(end) => (quoted[..end].to_owned(), &quoted[end + 1..]),
                None => (quoted.to_owned(), ""),
            }
        } else {
            match after.find(',') {
                Some(end) => (after[..end].trim().to_owned(), &after[end..]),
                None => (after.trim().to_owned(), ""),
            }
        };
        params.push((key, value));
        rest = next.trim_start().trim_start_matches(',').trim_start();
    }
    params
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_parse_with_commas_in_quotes() {
        let params = challenge_params(
            r#"realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:a/b:pull,push""#,
        );
        assert_eq!(
            params,
            vec![
                ("realm".into(), "https://auth.docker.io/token".into()),
                ("service".into(), "registry.docker.io".into()),
                ("scope".into(), "repository:a/b:pull,push".into()),
            ]
        );
        assert_eq!(challenge_params("realm=x, service=y").len(), 2);
    }
}
