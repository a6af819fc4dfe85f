//! A session manager for Streamable HTTP with a cap on live sessions.
//!
//! rmcp's `LocalSessionManager` closes a session after an idle timeout; this
//! wrapper also bounds how many exist at once. At the cap, the least recently
//! used session is closed to make room, so abandoned sessions can never pile
//! up, and a new client is always served.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use futures::Stream;
use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
use rmcp::transport::common::server_side_http::{ServerSseMessage, SessionId};
use rmcp::transport::streamable_http_server::session::SessionManager;
use rmcp::transport::streamable_http_server::session::local::{
    LocalSessionManager, LocalSessionManagerError, SessionConfig,
};

/// Session manager with an idle timeout and a maximum number of sessions.
#[derive(Debug)]
pub struct BoundedSessions {
    inner: LocalSessionManager,
    max: usize,
    last_used: Mutex<HashMap<SessionId, Instant>>,
}

impl BoundedSessions {
    /// At most `max` sessions, each closed after `idle` without a request.
    pub fn new(max: usize, idle: Duration) -> Self {
        let mut inner = LocalSessionManager::default();
        let mut config = SessionConfig::default();
        config.keep_alive = Some(idle);
        inner.session_config = config;
        Self {
            inner,
            max: max.max(1),
            last_used: Mutex::new(HashMap::new()),
        }
    }

    fn touch(&self, id: &SessionId) {
        let mut used = self.last_used.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(at) = used.get_mut(id) {
            *at = Instant::now();
        }
    }

    /// Sessions the inner manager still holds.
    async fn live(&self) -> Vec<SessionId> {
        self.inner.sessions.read().await.keys().cloned().collect()
    }

    /// Close least recently used sessions until there is room for one more.
    async fn make_room(&self) {
        let live = self.live().await;
        let victims: Vec<SessionId> = {
            let mut used = self.last_used.lock().unwrap_or_else(|e| e.into_inner());
            used.retain(|id, _| live.contains(id));
            if live.len() < self.max {
                return;
            }
            let mut by_age: Vec<(SessionId, Instant)> =
                used.iter().map(|(id, at)| (id.clone(), *at)).collect();
            by_age.sort_by_key(|(_, at)| *at);
            by_age
                .into_iter()
                .take(live.len() + 1 - self.max)
                .map(|(id, _)| id)
                .collect()
        };
        for id in victims {
            tracing::info!(session = %id, "session cap of {} reached; closing the least recently used session", self.max);
            self.last_used
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&id);
            let _ = self.inner.close_session(&id).await;
        }
    }

    /// How many sessions are open.
    pub async fn count(&self) -> usize {
        self.inner.sessions.read().await.len()
    }
}

impl SessionManager for BoundedSessions {
    type Error = LocalSessionManagerError;
    type Transport = <LocalSessionManager as SessionManager>::Transport;

    async fn create_session(&self) -> Result<(SessionId, Self::Transport), Self::Error> {
        self.make_room().await;
        let (id, transport) = self.inner.create_session().await?;
        self.last_used
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.clone(), Instant::now());
        Ok((id, transport))
    }

    async fn initialize_session(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<ServerJsonRpcMessage, Self::Error> {
        self.touch(id);
        self.inner.initialize_session(id, message).await
    }

    async fn has_session(&self, id: &SessionId) -> Result<bool, Self::Error> {
        self.inner.has_session(id).await
    }

    async fn close_session(&self, id: &SessionId) -> Result<(), Self::Error> {
        self.last_used
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
        self.inner.close_session(id).await
    }

    async fn create_stream(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        self.touch(id);
        self.inner.create_stream(id, message).await
    }

    async fn accept_message(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<(), Self::Error> {
        self.touch(id);
        self.inner.accept_message(id, message).await
    }

    async fn create_standalone_stream(
        &self,
        id: &SessionId,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        self.touch(id);
        self.inner.create_standalone_stream(id).await
    }

    async fn resume(
        &self,
        id: &SessionId,
        last_event_id: String,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        self.touch(id);
        self.inner.resume(id, last_event_id).await
    }
}
