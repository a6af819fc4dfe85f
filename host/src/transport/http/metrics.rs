//! Prometheus metrics over HTTP: `GET /metrics` on the MCP listener or on
//! a listener of its own (`metrics_addr`, for stdio deployments), and the
//! count of HTTP answers by status.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;

use super::{Guard, guard, listener};
use crate::config::HttpOptions;
use crate::transport::{CorralServer, ServeError};

/// The content type of the metrics text.
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

impl CorralServer {
    /// Serve `/metrics` (with `/healthz` and `/readyz`) alone on `address`,
    /// behind the same Host/Origin guard as MCP (the hosts and origins of
    /// `options`), until `shutdown` resolves. `on_listening` is told the
    /// bound address. Metrics are recorded from now on.
    pub async fn serve_metrics(
        self,
        address: SocketAddr,
        options: &HttpOptions,
        shutdown: impl Future<Output = ()> + Send + 'static,
        on_listening: impl FnOnce(SocketAddr),
    ) -> Result<(), ServeError> {
        let listen_error = |source| ServeError::Listen {
            address: address.to_string(),
            source,
        };
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .map_err(listen_error)?;
        let bound = listener.local_addr().map_err(listen_error)?;
        let router = self.health_routes(metrics_route(Router::new(), &self));
        let app = router.layer(axum::middleware::from_fn_with_state(
            Arc::new(Guard::new(options)),
            guard,
        ));
        on_listening(bound);
        listener::serve(listener, app, options, shutdown).await;
        Ok(())
    }
}

/// `router` with `GET /metrics` serving `server`'s metrics, which are
/// recorded from now on.
pub(super) fn metrics_route(router: Router, server: &CorralServer) -> Router {
    server.record_metrics();
    let server = server.clone();
    router.route(
        "/metrics",
        axum::routing::get(move || {
            let text = server.metrics_text();
            async move { ([(header::CONTENT_TYPE, OPENMETRICS)], text) }
        }),
    )
}

/// Count every answer by its status (the outermost layer: refusals by the
/// guard, the body limit, auth and the rate limits count too).
pub(super) async fn count_status(
    State(server): State<CorralServer>,
    request: Request,
    next: Next,
) -> Response {
    let response = next.run(request).await;
    server.shared.service.count_http(response.status().as_u16());
    response
}
