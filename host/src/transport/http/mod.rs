//! MCP over HTTP: Streamable HTTP (one endpoint, both protocol eras, through
//! rmcp's tower service) and the legacy HTTP+SSE transport, behind a guard
//! that validates `Host` and `Origin` (DNS rebinding) and bounds bodies.

mod answer;
mod auth;
mod events;
mod limit;
mod listener;
mod metrics;
mod sessions;
mod sse;
mod store;
mod ui;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
use tokio_util::sync::CancellationToken;

pub use answer::JSON_ANSWER_WAIT;
pub(crate) use auth::current_principal;
pub use events::{
    COMPLETED_STREAM_TTL, MAX_RESUMED_STREAMS, MAX_STORED_EVENT, MAX_STORED_EVENTS,
    RESUME_POLL_INTERVAL,
};
pub use limit::MAX_LIMITED_CLIENTS;
use sessions::BoundedSessions;
pub use sse::SSE_QUEUE;

use crate::config::{HostPattern, HttpOptions, HttpTransport};
use crate::transport::{CorralServer, ServeError};

/// How long a shutdown waits for calls in flight before giving up on them.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

impl CorralServer {
    /// The Streamable HTTP endpoint as rmcp's tower service. Not public: it
    /// checks neither Host nor Origin (the guard of
    /// [`http_router`](Self::http_router) does), so it is only ever served
    /// behind that guard. Cancelling `shutdown` closes its sessions.
    fn mcp_service(
        &self,
        options: &HttpOptions,
        sessions: Arc<BoundedSessions>,
        shutdown: CancellationToken,
    ) -> StreamableHttpService<CorralServer, BoundedSessions> {
        // Host and Origin are checked once, by the guard in front of this
        // service (`http_router`), with the config's own patterns.
        let mut config = StreamableHttpServerConfig::default()
            .disable_allowed_hosts()
            .disable_allowed_origins()
            .with_max_request_body_bytes(options.max_body)
            .with_cancellation_token(shutdown);
        config.session_store = sessions.store();
        let server = self.clone();
        StreamableHttpService::new(move || Ok(server.clone()), sessions, config)
    }

    /// A router serving MCP as `options` say, behind the Host/Origin guard,
    /// the body limit and (with `options.auth`) bearer authentication, with
    /// `/healthz`, `/readyz` and, with auth, the RFC 9728 metadata beside
    /// it. Fails only when auth cannot be set up (a secret's variable is
    /// unset, the JWKS file is unreadable).
    pub fn http_router(
        &self,
        options: &HttpOptions,
        shutdown: CancellationToken,
    ) -> Result<Router, ServeError> {
        let mcp = match options.transport {
            HttpTransport::Streamable => {
                let state_key = self.shared.service.settings().request_state_key.as_ref();
                let store = options.session_store.clone().map(|target| {
                    let address = target.address.clone();
                    let idle = options.session_idle;
                    let store = Arc::new(store::RedisSessions::new(target.clone(), idle));
                    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                        let store = store.clone();
                        runtime.spawn(async move { store.check(&address).await });
                    }
                    if state_key.is_none() {
                        tracing::warn!(
                            "[server.sessions] store without request_state_key_env: event ids are tagged with this process's own key, so a stream resumes only here"
                        );
                    }
                    let events = events::RedisEvents::new(target, idle);
                    (store, events, events::EventTags::new(state_key))
                });
                let sessions = Arc::new(BoundedSessions::new(
                    options.max_sessions,
                    options.session_idle,
                    store,
                ));
                // One shared service: routed as a tower service it would be
                // cloned (its config's host and origin lists with it) for
                // every request.
                let service =
                    Arc::new(self.mcp_service(options, sessions.clone(), shutdown.clone()));
                let handle = move |request: Request| {
                    let (service, sessions) = (service.clone(), sessions.clone());
                    async move {
                        if request.method() == Method::DELETE {
                            let id = request
                                .headers()
                                .get("mcp-session-id")
                                .and_then(|v| v.to_str().ok())
                                .map(str::to_owned);
                            return close_session(&sessions, id).await;
                        }
                        service.handle(request).await.map(Body::new)
                    }
                };
                Router::new()
                    .route(&options.path, axum::routing::any(handle))
                    .layer(axum::middleware::from_fn(answer::json_when_quick))
            }
            HttpTransport::Sse => {
                if options.session_store.is_some() {
                    tracing::warn!(
                        "[server.sessions] store serves Streamable HTTP only: legacy SSE sessions stay in the process that opened them"
                    );
                }
                let state = Arc::new(sse::SseState::new(
                    self.clone(),
                    "/messages".into(),
                    options.max_sessions,
                    shutdown.clone(),
                ));
                Router::new()
                    .route("/sse", axum::routing::get(sse::open))
                    .route("/messages", axum::routing::post(sse::post))
                    .with_state(state)
            }
        };
        // The console's API shares MCP's auth and client limits; its page
        // (no data) is served beside them.
        let mcp = match options.ui {
            true => {
                let calls = options.ui_calls && options.transport == HttpTransport::Streamable;
                mcp.merge(ui::api_routes(self, &options.path, calls, shutdown.clone()))
            }
            false => mcp,
        };
        let view_limits = options.auth.as_ref().is_some_and(|auth| {
            auth.views
                .iter()
                .any(|v| v.limits != crate::config::ClientLimits::default())
        });
        let mcp = match limit::ClientGate::new(options.client_limits, view_limits) {
            Some(gate) => mcp.layer(axum::middleware::from_fn_with_state(
                Arc::new(gate),
                limit::limit_clients,
            )),
            None => mcp,
        };
        let mut router = Router::new();
        let mcp = match &options.auth {
            Some(settings) => {
                let authenticator =
                    crate::auth::Authenticator::new(settings).map_err(ServeError::Auth)?;
                let state = Arc::new(auth::AuthState::new(
                    Arc::new(authenticator),
                    options.entry_path(),
                    &self.shared.info.server_info.name,
                ));
                for path in state.metadata_paths() {
                    router = router.route(
                        &path,
                        axum::routing::get(auth::metadata).with_state(state.clone()),
                    );
                }
                mcp.layer(axum::middleware::from_fn_with_state(
                    state,
                    auth::require_token,
                ))
            }
            None => mcp,
        };
        if options.metrics {
            router = metrics::metrics_route(router, self);
        }
        if options.ui {
            router = router.merge(ui::page_routes());
        }
        let router = self.health_routes(router.merge(mcp));
        let router = router.layer(DefaultBodyLimit::max(options.max_body)).layer(
            axum::middleware::from_fn_with_state(Arc::new(Guard::new(options)), guard),
        );
        Ok(match options.metrics || options.metrics_addr.is_some() {
            true => router.layer(axum::middleware::from_fn_with_state(
                self.clone(),
                metrics::count_status,
            )),
            false => router,
        })
    }

    /// `router` with `/healthz` (always ok) and `/readyz` (ok once the
    /// first catalog is in).
    fn health_routes(&self, router: Router) -> Router {
        let ready = self.clone();
        router
            .route("/healthz", axum::routing::get(|| async { "ok" }))
            .route(
                "/readyz",
                axum::routing::get(move || {
                    let ready = ready.is_ready();
                    async move {
                        if ready {
                            (StatusCode::OK, "ready")
                        } else {
                            (StatusCode::SERVICE_UNAVAILABLE, "loading plugins")
                        }
                    }
                }),
            )
    }

    /// Listen and serve until `shutdown` resolves; then stop accepting, let
    /// calls in flight finish (for at most [`SHUTDOWN_GRACE`]) and return.
    /// `on_listening` is told the bound address.
    pub async fn serve_http(
        self,
        options: HttpOptions,
        shutdown: impl Future<Output = ()> + Send + 'static,
        on_listening: impl FnOnce(SocketAddr),
    ) -> Result<(), ServeError> {
        let listen_error = |source| ServeError::Listen {
            address: format!("{}:{}", options.host, options.port),
            source,
        };
        let listener = tokio::net::TcpListener::bind((options.host.as_str(), options.port))
            .await
            .map_err(listen_error)?;
        let address = listener.local_addr().map_err(listen_error)?;
        let sessions = CancellationToken::new();
        let in_flight = Arc::new(InFlight::default());
        let app = self.http_router(&options, sessions.clone())?.layer(
            axum::middleware::from_fn_with_state(in_flight.clone(), track),
        );
        on_listening(address);
        // On the signal: stop accepting at once; let requests in flight finish
        // (bounded), then close the sessions so their streams end.
        let closing = sessions.clone();
        let graceful = async move {
            shutdown.await;
            tracing::info!("shutting down: no new connections; waiting for calls in flight");
            tokio::spawn(async move {
                if tokio::time::timeout(SHUTDOWN_GRACE, in_flight.idle())
                    .await
                    .is_err()
                {
                    tracing::warn!("calls still running after {SHUTDOWN_GRACE:?}; stopping anyway");
                }
                closing.cancel();
            });
        };
        let serve = listener::serve(listener, app, &options, graceful);
        tokio::select! {
            () = serve => Ok(()),
            _ = async {
                sessions.cancelled().await;
                tokio::time::sleep(SHUTDOWN_GRACE).await;
            } => {
                tracing::warn!("connections still open {SHUTDOWN_GRACE:?} after the sessions closed; stopping anyway");
                Ok(())
            }
        }
    }
}

/// `DELETE` of a Streamable HTTP session: close it and answer 200 (rmcp
/// answers 202, which clients report as a failed termination). A session
/// that is not there for the requester is 404, as for any request.
async fn close_session(sessions: &BoundedSessions, id: Option<String>) -> Response {
    let Some(id) = id else {
        return (
            StatusCode::BAD_REQUEST,
            "Bad Request: Mcp-Session-Id is required",
        )
            .into_response();
    };
    if sessions.close_for_client(&id.into()).await {
        StatusCode::OK.into_response()
    } else {
        (
            StatusCode::NOT_FOUND,
            "Not Found: the session does not exist (or has ended)",
        )
            .into_response()
    }
}

/// Counts requests whose response has not been fully sent. Standalone GET
/// streams (which never end on their own) are not counted.
#[derive(Default)]
struct InFlight {
    running: AtomicUsize,
    changed: tokio::sync::Notify,
}

struct Running(Arc<InFlight>);

impl InFlight {
    async fn idle(&self) {
        loop {
            let changed = self.changed.notified();
            if self.running.load(Ordering::SeqCst) == 0 {
                return;
            }
            changed.await;
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.0.running.fetch_sub(1, Ordering::SeqCst);
        self.0.changed.notify_waiters();
    }
}

/// Hold a [`Running`] mark until the response body is fully sent (or dropped).
async fn track(State(in_flight): State<Arc<InFlight>>, request: Request, next: Next) -> Response {
    if request.method() == Method::GET {
        return next.run(request).await;
    }
    in_flight.running.fetch_add(1, Ordering::SeqCst);
    let mark = Running(in_flight);
    next.run(request)
        .await
        .map(|body| Body::new(Tracked { body, _mark: mark }))
}

/// A response body holding a mark (its request's [`Running`], a client's
/// place in flight) until it is sent or dropped; its size hint is the inner
/// body's, so a whole answer keeps its `Content-Length`.
struct Tracked<M> {
    body: Body,
    _mark: M,
}

impl<M: Send + Unpin + 'static> http_body::Body for Tracked<M> {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        std::pin::Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// The allow-lists for `Host` and `Origin`. Hosts are matched by the
/// [`HostPattern`]s the config validated: one parser, one matcher.
struct Guard {
    hosts: Vec<HostPattern>,
    origins: Vec<String>,
}

impl Guard {
    fn new(options: &HttpOptions) -> Self {
        Self {
            hosts: options.allowed_hosts.clone(),
            origins: options
                .allowed_origins
                .iter()
                .map(|o| o.to_ascii_lowercase())
                .collect(),
        }
    }

    fn host_allowed(&self, host: &str) -> bool {
        self.hosts
            .iter()
            .any(|allowed| allowed.matches_authority(host))
    }

    fn origin_allowed(&self, origin: &str) -> bool {
        let origin = origin.to_ascii_lowercase();
        self.origins.iter().any(|allowed| {
            if let Some(prefix) = allowed.strip_suffix(":*") {
                origin == prefix
                    || origin
                        .strip_prefix(prefix)
                        .and_then(|rest| rest.strip_prefix(':'))
                        .is_some_and(|port| {
                            !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit())
                        })
            } else {
                origin == *allowed
            }
        })
    }
}

async fn guard(State(guard): State<Arc<Guard>>, mut request: Request, next: Next) -> Response {
    // The client's address travels with the request, for what the call
    // service binds to a client without a session (its tasks).
    if let Ok(client) = listener::CLIENT.try_with(|c| *c) {
        request.extensions_mut().insert(ClientAddr(client));
    }
    let headers = request.headers();
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| request.uri().authority().map(|a| a.as_str()));
    match host {
        Some(host) if guard.host_allowed(host) => {}
        Some(host) => {
            tracing::warn!(host, "refused a request for a Host that is not allowed");
            return (
                StatusCode::FORBIDDEN,
                format!("Host `{host}` is not allowed (DNS rebinding protection); allow it with --allowed-host"),
            )
                .into_response();
        }
        None => return (StatusCode::BAD_REQUEST, "missing Host header").into_response(),
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("");
        if !guard.origin_allowed(origin) {
            tracing::warn!(
                origin,
                "refused a request from an Origin that is not allowed"
            );
            return (
                StatusCode::FORBIDDEN,
                format!("Origin `{origin}` is not allowed; allow it with --allowed-origin"),
            )
                .into_response();
        }
    }
    next.run(request).await
}

/// The address of the client that sent a request (in its extensions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ClientAddr(pub std::net::IpAddr);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_match_with_or_without_port() {
        let guard = Guard::new(&HttpOptions::default());
        assert!(guard.host_allowed("127.0.0.1:8000"));
        assert!(guard.host_allowed("LOCALHOST"));
        assert!(guard.host_allowed("[::1]:8000"));
        assert!(!guard.host_allowed("evil.example"));
        assert!(!guard.host_allowed("evil.example:8000"));
        assert!(!guard.host_allowed("localhost.evil.example"));
    }

    #[test]
    fn origins_match_scheme_host_and_port() {
        let guard = Guard::new(&HttpOptions::default());
        assert!(guard.origin_allowed("http://localhost:3000"));
        assert!(guard.origin_allowed("http://127.0.0.1"));
        assert!(!guard.origin_allowed("http://evil.example"));
        assert!(!guard.origin_allowed("http://localhost.evil.example"));
        assert!(!guard.origin_allowed("http://localhost:3000@evil.example"));
        assert!(!guard.origin_allowed("null"));
    }
}
