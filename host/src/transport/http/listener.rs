//! Accepting HTTP connections with bounds a remote client cannot stretch:
//! at most [`HttpOptions::max_connections`] open at once (past it, new
//! connections wait in the kernel's backlog until one closes), and a client
//! that does not finish sending a request's headers within
//! [`HttpOptions::header_timeout`] is disconnected, so slow or silent
//! connections (slowloris) cannot hold the server's slots.
//!
//! Each request runs with its client's address in [`CLIENT`], which the
//! session manager uses to evict an offender's own sessions at the cap.

use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use super::HttpOptions;

tokio::task_local! {
    /// The address of the client whose request is being handled.
    pub(crate) static CLIENT: IpAddr;
}

/// Serve `app` on `listener` until `shutdown` resolves; then stop accepting
/// and wait until every connection has finished its requests and closed.
pub(super) async fn serve(
    listener: TcpListener,
    app: Router,
    options: &HttpOptions,
    shutdown: impl Future<Output = ()>,
) {
    let slots = Arc::new(Semaphore::new(options.max_connections.max(1)));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let header_timeout = options.header_timeout;
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors, usually: wait rather than spin.
                    tracing::warn!("accepting a connection failed: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Answers are small and often streamed in pieces (SSE): without
        // TCP_NODELAY, Nagle's algorithm and delayed ACKs add ~40 ms to each.
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!("cannot set TCP_NODELAY: {e}");
        }
        let app = hyper_util::service::TowerToHyperService::new(app.clone());
        let client = peer.ip();
        let service = hyper::service::service_fn(move |request| {
            let app = app.clone();
            CLIENT.scope(client, async move {
                hyper::service::Service::call(&app, request).await
            })
        });
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(header_timeout)
            .serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(%peer, "connection ended: {e}");
            }
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}
