//! The web console at `/ui` (`[server.http] ui`, `--ui`): three embedded
//! files (no CDN) and two API routes.
//!
//! - `/ui/`, `/ui/app.js`, `/ui/app.css`: the page. They hold no data, so
//!   they are served without a token; a strict Content-Security-Policy
//!   allows only these files and requests to this origin.
//! - `/ui/api/catalog`: providers (limits, grants, digest, signer) and what
//!   they serve, with schemas, as the token's view shows them.
//! - `/ui/api/events`: the live feed (SSE): calls as they end, reloads.
//!
//! The API routes sit behind the same guard, auth and client limits as
//! MCP. The page calls tools through the MCP endpoint itself, as a
//! 2026-07-28 client, only when `ui_calls` allows it; without it the
//! console is read-only.

use std::convert::Infallible;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;

use crate::CorralServer;

/// How often an idle event stream sends a comment, so that proxies keep it.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

const INDEX: &str = include_str!("../../../ui/index.html");
const SCRIPT: &str = include_str!("../../../ui/app.js");
const STYLE: &str = include_str!("../../../ui/app.css");

/// Only this origin's own files and requests; no inline code, no frames.
const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; \
    frame-ancestors 'none'";

/// What the console's routes share.
#[derive(Clone)]
struct ConsoleState {
    server: CorralServer,
    /// The MCP endpoint the page calls tools through.
    mcp_path: String,
    calls: bool,
    shutdown: CancellationToken,
}

/// The page's files (no token needed: they hold no data).
pub(super) fn page_routes() -> Router {
    Router::new()
        .route(
            "/ui",
            axum::routing::get(|| async { Redirect::permanent("/ui/") }),
        )
        .route(
            "/ui/",
            axum::routing::get(|| async { file("text/html; charset=utf-8", INDEX) }),
        )
        .route(
            "/ui/app.js",
            axum::routing::get(|| async { file("text/javascript; charset=utf-8", SCRIPT) }),
        )
        .route(
            "/ui/app.css",
            axum::routing::get(|| async { file("text/css; charset=utf-8", STYLE) }),
        )
}

/// The API routes, to be put behind auth and the client limits.
pub(super) fn api_routes(
    server: &CorralServer,
    mcp_path: &str,
    calls: bool,
    shutdown: CancellationToken,
) -> Router {
    let state = ConsoleState {
        server: server.clone(),
        mcp_path: mcp_path.to_owned(),
        calls,
        shutdown,
    };
    Router::new()
        .route("/ui/api/catalog", axum::routing::get(catalog))
        .route("/ui/api/events", axum::routing::get(events))
        .with_state(state)
}

fn secured(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn file(content_type: &'static str, text: &'static str) -> Response {
    secured(([(header::CONTENT_TYPE, content_type)], text).into_response())
}

async fn catalog(axum::extract::State(state): axum::extract::State<ConsoleState>) -> Response {
    let view = super::current_principal().and_then(|p| p.view.clone());
    let service = &state.server.shared.service;
    let mut body = service.console_catalog(view.as_deref()).await;
    let info = &state.server.shared.info.server_info;
    body["server"] = json!({"name": info.name, "version": info.version});
    body["mcp_path"] = json!(state.mcp_path);
    body["calls"] = json!(state.calls);
    secured(
        (
            [(header::CONTENT_TYPE, "application/json")],
            body.to_string(),
        )
            .into_response(),
    )
}

async fn events(axum::extract::State(state): axum::extract::State<ConsoleState>) -> Response {
    let Some(following) = state.server.shared.service.console().follow() else {
        let message = format!(
            "{} consoles already follow the live feed (MAX_CONSOLES)",
            crate::MAX_CONSOLES
        );
        return secured((StatusCode::SERVICE_UNAVAILABLE, message).into_response());
    };
    // What this console may see: the calls to components its token's view
    // shows.
    let view = super::current_principal().and_then(|p| p.view.clone());
    let feed = Feed {
        following,
        shutdown: state.shutdown.clone(),
        server: state.server.clone(),
        view,
    };
    let stream = futures::stream::unfold(feed, |mut feed| async move {
        let frame = feed.next_frame().await?;
        Some((Ok::<_, Infallible>(Bytes::from(frame)), feed))
    });
    // A first comment, so that the client sees the stream open at once.
    let opened = futures::stream::once(async { Ok(Bytes::from_static(b": following\n\n")) });
    use futures::StreamExt;
    let body = Body::from_stream(opened.chain(stream));
    secured(([(header::CONTENT_TYPE, "text/event-stream")], body).into_response())
}

/// One console's live feed.
struct Feed {
    following: crate::service::Following,
    shutdown: CancellationToken,
    server: CorralServer,
    view: Option<std::sync::Arc<crate::config::TokenView>>,
}

impl Feed {
    /// The next SSE frame: an event this console may see, a note of the
    /// events it missed, or a keep-alive comment; `None` at shutdown.
    async fn next_frame(&mut self) -> Option<String> {
        loop {
            let received = tokio::select! {
                _ = self.shutdown.cancelled() => return None,
                received = tokio::time::timeout(KEEP_ALIVE, self.following.events.recv()) => received,
            };
            return Some(match received {
                Err(_) => ": keep-alive\n\n".to_owned(),
                Ok(Ok(event)) => {
                    if let Some((kind, name)) = &event.component {
                        let service = &self.server.shared.service;
                        if !service.in_view(self.view.as_deref(), kind, name) {
                            continue;
                        }
                    }
                    format!("event: {}\ndata: {}\n\n", event.kind, event.json)
                }
                Ok(Err(RecvError::Lagged(missed))) => {
                    format!("event: lagged\ndata: {}\n\n", json!({"missed": missed}))
                }
                Ok(Err(RecvError::Closed)) => return None,
            });
        }
    }
}
