//! The legacy HTTP+SSE transport (MCP 2024-11-05) for old clients:
//! `GET /sse` opens an event stream whose first event, `endpoint`, names the
//! URL to POST messages to (`/messages?sessionId=...`); the server's messages
//! come back as `message` events on the stream.
//!
//! Bounded: at most `max_sessions` streams (the oldest is closed to make
//! room), and a per-session queue in each direction.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::{Stream, StreamExt};
use rmcp::ServiceExt;
use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
use serde::Deserialize;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::transport::CorralServer;

/// Messages queued per session and direction before the sender waits.
pub const SSE_QUEUE: usize = 64;

struct Session {
    inbound: mpsc::Sender<ClientJsonRpcMessage>,
    /// The principal that opened it (when auth is on); only it may post.
    owner: Option<String>,
    closed: CancellationToken,
    opened: Instant,
}

/// The live legacy SSE sessions.
pub(crate) struct SseState {
    server: CorralServer,
    messages_path: String,
    max_sessions: usize,
    sessions: Mutex<HashMap<String, Session>>,
    /// Cancelled when the server shuts down: every stream ends.
    shutdown: CancellationToken,
}

impl SseState {
    pub(crate) fn new(
        server: CorralServer,
        messages_path: String,
        max_sessions: usize,
        shutdown: CancellationToken,
    ) -> Self {
        Self {
            server,
            messages_path,
            max_sessions: max_sessions.max(1),
            sessions: Mutex::new(HashMap::new()),
            shutdown,
        }
    }

    fn register(&self, id: String, session: Session) {
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        while sessions.len() >= self.max_sessions {
            let Some(oldest) = sessions
                .iter()
                .min_by_key(|(_, s)| s.opened)
                .map(|(id, _)| id.clone())
            else {
                break;
            };
            tracing::info!(session = %oldest, "SSE session cap of {} reached; closing the oldest", self.max_sessions);
            if let Some(old) = sessions.remove(&oldest) {
                old.closed.cancel();
            }
        }
        sessions.insert(id, session);
    }

    fn remove(&self, id: &str) {
        self.sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
    }
}

/// Removes the session when its event stream is dropped (the client left).
struct Registration {
    state: Arc<SseState>,
    id: String,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.state.remove(&self.id);
    }
}

/// `GET /sse`: open a session and stream its messages.
pub(crate) async fn open(
    State(state): State<Arc<SseState>>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let id = rmcp::transport::common::server_side_http::session_id().to_string();
    let (inbound_tx, inbound_rx) = mpsc::channel::<ClientJsonRpcMessage>(SSE_QUEUE);
    let (outbound_tx, outbound_rx) = mpsc::channel::<ServerJsonRpcMessage>(SSE_QUEUE);
    let closed = state.shutdown.child_token();
    state.register(
        id.clone(),
        Session {
            inbound: inbound_tx,
            owner: super::auth::current_owner(),
            closed: closed.clone(),
            opened: Instant::now(),
        },
    );

    let sink = Box::pin(futures::sink::unfold(
        outbound_tx,
        |tx, message: ServerJsonRpcMessage| async move {
            tx.send(message)
                .await
                .map_err(|_| std::io::Error::other("the SSE client is gone"))?;
            Ok::<_, std::io::Error>(tx)
        },
    ));
    let stream = Box::pin(futures::stream::unfold(inbound_rx, |mut rx| async move {
        rx.recv().await.map(|message| (message, rx))
    }));
    let server = state.server.for_principal(super::auth::current_principal());
    let session_closed = closed.clone();
    tokio::spawn(async move {
        match server.serve_with_ct((sink, stream), session_closed).await {
            Ok(running) => {
                let _ = running.waiting().await;
            }
            Err(e) => tracing::debug!("SSE session ended before initializing: {e}"),
        }
    });

    let endpoint = format!("{}?sessionId={id}", state.messages_path);
    let registration = Registration {
        state: state.clone(),
        id,
    };
    let first = futures::stream::once(async move {
        Ok::<_, Infallible>(Event::default().event("endpoint").data(endpoint))
    });
    let messages = futures::stream::unfold(
        (outbound_rx, registration, closed),
        |(mut rx, registration, closed)| async move {
            let message = tokio::select! {
                message = rx.recv() => message?,
                _ = closed.cancelled() => return None,
            };
            let data = serde_json::to_string(&message).ok()?;
            Some((
                Ok(Event::default().event("message").data(data)),
                (rx, registration, closed),
            ))
        },
    );
    Sse::new(first.chain(messages)).keep_alive(KeepAlive::default())
}

#[derive(Deserialize)]
pub(crate) struct SessionQuery {
    #[serde(rename = "sessionId")]
    session_id: String,
}

/// `POST /messages?sessionId=...`: one JSON-RPC message into the session.
pub(crate) async fn post(
    State(state): State<Arc<SseState>>,
    Query(query): Query<SessionQuery>,
    body: Bytes,
) -> Response {
    let inbound = state
        .sessions
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&query.session_id)
        .filter(|s| s.owner == super::auth::current_owner())
        .map(|s| s.inbound.clone());
    let Some(inbound) = inbound else {
        return (StatusCode::NOT_FOUND, "unknown or closed session").into_response();
    };
    let message: ClientJsonRpcMessage = match serde_json::from_slice(&body) {
        Ok(message) => message,
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                format!("not a JSON-RPC message: {e}"),
            )
                .into_response();
        }
    };
    match inbound.send(message).await {
        Ok(()) => StatusCode::ACCEPTED.into_response(),
        Err(_) => (StatusCode::NOT_FOUND, "the session has closed").into_response(),
    }
}
