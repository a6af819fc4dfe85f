//! Bearer authentication in front of the MCP endpoints, as MCP's
//! authorization spec describes a resource server: RFC 9728 metadata at
//! `/.well-known/oauth-protected-resource[PATH]`, `401` with
//! `WWW-Authenticate: Bearer resource_metadata="…"` without a valid token,
//! `403` with `error="insufficient_scope"` and the scopes needed. A token in
//! the query string is refused, and tokens are never logged.
//!
//! A verified [`Principal`] travels with the request (its extensions, for
//! the call service) and in [`PRINCIPAL`] (for the session managers, which
//! bind each session to the principal that opened it).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::auth::{Authenticator, Denial, Principal};

/// The well-known path of RFC 9728 metadata.
const METADATA_PATH: &str = "/.well-known/oauth-protected-resource";

tokio::task_local! {
    /// The principal of the request being handled, when auth is on.
    pub(crate) static PRINCIPAL: Arc<Principal>;
}

/// The key of the principal whose request is being handled, if any.
pub(crate) fn current_owner() -> Option<String> {
    PRINCIPAL.try_with(|p| p.key.clone()).ok()
}

/// The principal whose request is being handled, if any.
pub(crate) fn current_principal() -> Option<Arc<Principal>> {
    PRINCIPAL.try_with(Arc::clone).ok()
}

/// What the auth middleware and the metadata route share.
pub(crate) struct AuthState {
    authenticator: Arc<Authenticator>,
    /// The path clients connect to (`/mcp`, or `/sse`).
    entry_path: String,
    /// `serverInfo.name`, as `resource_name`.
    name: String,
}

impl AuthState {
    pub(crate) fn new(authenticator: Arc<Authenticator>, entry_path: &str, name: &str) -> Self {
        Self {
            authenticator,
            entry_path: entry_path.to_owned(),
            name: name.to_owned(),
        }
    }

    /// The paths the metadata is served at: the bare well-known path and the
    /// one suffixed with the endpoint's path (RFC 9728 §3.1), and, when the
    /// configured resource URI has another path, that one too.
    pub(crate) fn metadata_paths(&self) -> Vec<String> {
        let mut paths = vec![
            METADATA_PATH.to_owned(),
            format!("{METADATA_PATH}{}", self.entry_path),
        ];
        if let Some(path) = self.resource_path()
            && !paths.contains(&path)
        {
            paths.push(path);
        }
        paths
    }

    /// The metadata path of the configured resource URI.
    fn resource_path(&self) -> Option<String> {
        let audience = self.authenticator.settings().audience.as_deref()?;
        let url = url::Url::parse(audience).ok()?;
        Some(format!(
            "{METADATA_PATH}{}",
            url.path().trim_end_matches('/')
        ))
    }

    /// This server's resource URI: the configured audience, else the URL the
    /// client asked for.
    fn resource(&self, headers: &HeaderMap) -> String {
        match &self.authenticator.settings().audience {
            Some(audience) => audience.clone(),
            None => format!("http://{}{}", host(headers), self.entry_path),
        }
    }

    /// Where the metadata of this resource is.
    fn metadata_url(&self, headers: &HeaderMap) -> String {
        let configured = self
            .authenticator
            .settings()
            .audience
            .as_deref()
            .and_then(|a| url::Url::parse(a).ok());
        match configured {
            Some(url) => format!(
                "{}{METADATA_PATH}{}",
                url.origin().ascii_serialization(),
                url.path().trim_end_matches('/')
            ),
            None => format!("http://{}{METADATA_PATH}{}", host(headers), self.entry_path),
        }
    }

    /// `WWW-Authenticate` for `denial`.
    fn challenge(&self, headers: &HeaderMap, denial: &Denial) -> String {
        let metadata = self.metadata_url(headers);
        let quoted = |s: &str| s.replace(['"', '\\'], "'");
        let scopes = self.authenticator.settings().required_scopes.join(" ");
        let scope = if scopes.is_empty() {
            String::new()
        } else {
            format!(", scope=\"{scopes}\"")
        };
        match denial {
            Denial::Missing => format!("Bearer resource_metadata=\"{metadata}\"{scope}"),
            Denial::InsufficientScope(needed) => format!(
                "Bearer error=\"insufficient_scope\", scope=\"{}\", resource_metadata=\"{metadata}\", error_description=\"the token lacks a required scope\"",
                needed.join(" ")
            ),
            other => format!(
                "Bearer error=\"invalid_token\", error_description=\"{}\", resource_metadata=\"{metadata}\"{scope}",
                quoted(&other.to_string())
            ),
        }
    }
}

fn host(headers: &HeaderMap) -> &str {
    headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost")
}

/// `GET /.well-known/oauth-protected-resource[PATH]`.
pub(crate) async fn metadata(State(state): State<Arc<AuthState>>, headers: HeaderMap) -> Response {
    let body = state
        .authenticator
        .metadata(&state.resource(&headers), &state.name);
    json(StatusCode::OK, &body, Some("max-age=3600"))
}

/// `value` as an `application/json` response.
fn json(status: StatusCode, value: &serde_json::Value, cache: Option<&'static str>) -> Response {
    let mut response = (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        value.to_string(),
    )
        .into_response();
    if let Some(cache) = cache {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    }
    response
}

/// A response refusing the request, with its challenge.
fn refuse(status: StatusCode, challenge: Option<String>, message: &str) -> Response {
    let body =
        serde_json::json!({"error": status.canonical_reason(), "error_description": message});
    let mut response = json(status, &body, None);
    if let Some(challenge) = challenge.and_then(|c| HeaderValue::try_from(c).ok()) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, challenge);
    }
    response
}

/// Let a request in only with a valid bearer token.
pub(crate) async fn require_token(
    State(state): State<Arc<AuthState>>,
    mut request: Request,
    next: Next,
) -> Response {
    let in_query = request.uri().query().is_some_and(|query| {
        url::form_urlencoded::parse(query.as_bytes()).any(|(k, _)| k == "access_token")
    });
    if in_query {
        tracing::warn!("refused a request with a token in its query string");
        return refuse(
            StatusCode::BAD_REQUEST,
            None,
            "tokens are not accepted in the query string (they end up in logs); send `Authorization: Bearer TOKEN`",
        );
    }
    let headers = request.headers();
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let (first, second) = (values.next(), values.next());
    if second.is_some() {
        return refuse(
            StatusCode::BAD_REQUEST,
            None,
            "more than one Authorization header",
        );
    }
    let token = first.and_then(|v| v.to_str().ok()).and_then(|v| {
        let (scheme, token) = v.split_once(' ')?;
        scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| token.trim())
            .filter(|t| !t.is_empty())
    });
    let denial = match token {
        None if first.is_some() => {
            Denial::Invalid("the Authorization header is not `Bearer TOKEN`".into())
        }
        None => Denial::Missing,
        Some(token) => match state.authenticator.authenticate(token).await {
            Ok(principal) => {
                request.extensions_mut().insert(principal.clone());
                return PRINCIPAL.scope(principal, next.run(request)).await;
            }
            Err(denial) => denial,
        },
    };
    let challenge = Some(state.challenge(request.headers(), &denial));
    match &denial {
        Denial::Missing => refuse(
            StatusCode::UNAUTHORIZED,
            challenge,
            "a bearer token is required",
        ),
        Denial::InsufficientScope(_) => {
            tracing::info!("refused a token: {denial}");
            refuse(StatusCode::FORBIDDEN, challenge, &denial.to_string())
        }
        Denial::KeysUnavailable => {
            tracing::warn!("refused a token: {denial}");
            let mut response = refuse(StatusCode::SERVICE_UNAVAILABLE, None, &denial.to_string());
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            response
        }
        _ => {
            tracing::info!("refused a token: {denial}");
            refuse(StatusCode::UNAUTHORIZED, challenge, &denial.to_string())
        }
    }
}
