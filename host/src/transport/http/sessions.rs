//! A session manager for Streamable HTTP with a cap on live sessions.
//!
//! rmcp's `LocalSessionManager` closes a session after an idle timeout; this
//! wrapper also bounds how many exist at once. At the cap, a session is
//! closed to make room, so abandoned sessions can never pile up and a new
//! client is always served: the least recently used session of the client
//! (by address) that holds the most sessions, so a client that opens
//! sessions in a loop evicts its own, not a stranger's.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::{Stream, StreamExt};
use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
use rmcp::transport::common::server_side_http::{ServerSseMessage, SessionId};
use rmcp::transport::streamable_http_server::session::local::{
    LocalSessionManager, LocalSessionManagerError, SessionConfig, SessionError,
};
use rmcp::transport::streamable_http_server::session::{RestoreOutcome, SessionManager};

use super::events::{EventTags, RedisEvents};
use super::store::RedisSessions;

/// The id rmcp gives the priming event of a standalone (GET) stream when
/// the session manager keeps no event store of its own.
const STANDALONE_PRIMING_ID: &str = "0";

/// Session manager with an idle timeout and a maximum number of sessions.
#[derive(Debug)]
pub struct BoundedSessions {
    inner: LocalSessionManager,
    max: usize,
    idle: Duration,
    last_used: Mutex<HashMap<SessionId, Used>>,
    /// The store several processes share (`[server.sessions] store`).
    store: Option<Arc<RedisSessions>>,
    /// Sessions whose store entry was found gone: closed at their next
    /// request (at most one entry per live session).
    gone: Arc<Mutex<HashSet<SessionId>>>,
    /// With a store, events are kept there too, their ids tagged with the
    /// session they belong to.
    tags: Option<Arc<EventTags>>,
}

/// When a session was last used, by which client (if known), and which
/// principal opened it (when auth is on).
#[derive(Debug, Clone)]
struct Used {
    at: Instant,
    client: Option<IpAddr>,
    owner: Option<String>,
    /// When the store's entry was last given a new lease.
    refreshed: Instant,
}

impl Used {
    fn now(client: Option<IpAddr>) -> Used {
        let now = Instant::now();
        Used {
            at: now,
            client,
            owner: super::auth::current_owner(),
            refreshed: now,
        }
    }
}

impl BoundedSessions {
    /// At most `max` sessions, each closed after `idle` without a request;
    /// kept in `store` too when several processes share one, with their
    /// response streams in `events` (event ids tagged by `tags`).
    pub(super) fn new(
        max: usize,
        idle: Duration,
        store: Option<(Arc<RedisSessions>, RedisEvents, EventTags)>,
    ) -> Self {
        let (store, events, tags) = match store {
            Some((store, events, tags)) => (Some(store), Some(events), Some(Arc::new(tags))),
            None => (None, None, None),
        };
        let mut inner = LocalSessionManager::default();
        if let Some(events) = events {
            inner = inner.with_event_store(Arc::new(events));
        }
        let mut config = SessionConfig::default();
        config.keep_alive = Some(idle);
        inner.session_config = config;
        Self {
            inner,
            max: max.max(1),
            idle,
            last_used: Mutex::new(HashMap::new()),
            store,
            gone: Arc::default(),
            tags,
        }
    }

    /// `stream` with its event ids tagged for session `id` (with a store).
    fn tagged(
        &self,
        id: &SessionId,
        stream: impl Stream<Item = ServerSseMessage> + Send + Sync + 'static,
    ) -> impl Stream<Item = ServerSseMessage> + Send + Sync + 'static {
        let (tags, id) = (self.tags.clone(), id.clone());
        stream.map(move |event| match &tags {
            Some(tags) => tags.sign(&id, event),
            None => event,
        })
    }

    /// The shared store, as rmcp's service takes it.
    pub(super) fn store(
        &self,
    ) -> Option<Arc<dyn rmcp::transport::streamable_http_server::session::store::SessionStore>>
    {
        self.store.clone().map(|s| s as _)
    }

    /// Mark session `id` used; with a store, renew its entry's lease once
    /// a quarter of the idle timeout has passed (in the background).
    fn touch(&self, id: &SessionId) {
        let now = Instant::now();
        let renew = {
            let mut used = self.last_used.lock().unwrap_or_else(|e| e.into_inner());
            let Some(used) = used.get_mut(id) else {
                return;
            };
            used.at = now;
            let due = self.store.is_some() && now.duration_since(used.refreshed) > self.idle / 4;
            if due {
                used.refreshed = now;
            }
            due
        };
        if let (true, Some(store)) = (renew, &self.store) {
            let (store, gone, id) = (store.clone(), self.gone.clone(), id.clone());
            tokio::spawn(async move {
                if !store.refresh(&id).await {
                    gone.lock().unwrap_or_else(|e| e.into_inner()).insert(id);
                }
            });
        }
    }

    /// Close session `id` for the client's `DELETE`, if it is there for the
    /// requester (here, or in the shared store); returns whether it was.
    pub(super) async fn close_for_client(&self, id: &SessionId) -> bool {
        if matches!(self.has_session(id).await, Ok(true)) {
            let _ = self.close_session(id).await;
            if let Some(store) = &self.store {
                store.close(id).await;
            }
            return true;
        }
        match &self.store {
            Some(store) => store.close(id).await,
            None => false,
        }
    }

    /// Sessions the inner manager still holds.
    async fn live(&self) -> HashSet<SessionId> {
        self.inner.sessions.read().await.keys().cloned().collect()
    }

    /// Close sessions until there is room for one more for `client`: each
    /// time the least recently used session of the client holding the most
    /// (the requester first on a tie).
    async fn make_room(&self, client: Option<IpAddr>) {
        let listed = Instant::now();
        let live = self.live().await;
        let victims: Vec<SessionId> = {
            let mut used = self.last_used.lock().unwrap_or_else(|e| e.into_inner());
            forget_closed(&mut used, &live, listed);
            self.gone
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .retain(|id| live.contains(id));
            if live.len() < self.max {
                return;
            }
            let mut left: HashMap<SessionId, Used> = used.clone();
            let mut victims = Vec::new();
            for _ in 0..(live.len() + 1 - self.max) {
                let mut counts: HashMap<Option<IpAddr>, usize> = HashMap::new();
                for u in left.values() {
                    *counts.entry(u.client).or_default() += 1;
                }
                let Some(offender) = counts
                    .iter()
                    .max_by_key(|(c, n)| (**n, **c == client))
                    .map(|(c, _)| *c)
                else {
                    break;
                };
                let Some(oldest) = left
                    .iter()
                    .filter(|(_, u)| u.client == offender)
                    .min_by_key(|(_, u)| u.at)
                    .map(|(id, _)| id.clone())
                else {
                    break;
                };
                left.remove(&oldest);
                victims.push(oldest);
            }
            victims
        };
        for id in victims {
            tracing::info!(session = %id, "session cap of {} reached; closing the least recently used session of the client with the most sessions", self.max);
            self.last_used
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&id);
            let _ = self.inner.close_session(&id).await;
        }
    }
}

impl SessionManager for BoundedSessions {
    type Error = LocalSessionManagerError;
    type Transport = <LocalSessionManager as SessionManager>::Transport;

    async fn create_session(&self) -> Result<(SessionId, Self::Transport), Self::Error> {
        let client = super::listener::CLIENT.try_with(|c| *c).ok();
        self.make_room(client).await;
        let (id, transport) = self.inner.create_session().await?;
        self.last_used
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.clone(), Used::now(client));
        Ok((id, transport))
    }

    /// A session another process opened, continued here (rmcp replays its
    /// `initialize` from the store, which checked the principal); it counts
    /// against the cap like any other.
    async fn restore_session(
        &self,
        id: SessionId,
    ) -> Result<RestoreOutcome<Self::Transport>, Self::Error> {
        let client = super::listener::CLIENT.try_with(|c| *c).ok();
        self.make_room(client).await;
        let outcome = self.inner.restore_session(id.clone()).await?;
        if matches!(outcome, RestoreOutcome::Restored(_)) {
            tracing::info!(session = %id, "session continued from the shared store");
            self.last_used
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(id, Used::now(client));
        }
        Ok(outcome)
    }

    async fn initialize_session(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<ServerJsonRpcMessage, Self::Error> {
        self.touch(id);
        self.inner.initialize_session(id, message).await
    }

    /// A session opened by another principal is not there for this one
    /// (it gets 404, as for a session that never existed).
    async fn has_session(&self, id: &SessionId) -> Result<bool, Self::Error> {
        let gone = self
            .gone
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
        if gone {
            tracing::info!(session = %id, "session closed elsewhere (its store entry is gone); closing it here");
            let _ = self.close_session(id).await;
            return Ok(false);
        }
        let owner = super::auth::current_owner();
        let same_owner = self
            .last_used
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .is_some_and(|used| used.owner == owner);
        Ok(same_owner && self.inner.has_session(id).await?)
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
        let stream = self.inner.create_stream(id, message).await?;
        Ok(self.tagged(id, stream))
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
        let stream = self.inner.create_standalone_stream(id).await?;
        Ok(self.tagged(id, stream))
    }

    async fn resume(
        &self,
        id: &SessionId,
        last_event_id: String,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        self.touch(id);
        if self.tags.is_some() && last_event_id == STANDALONE_PRIMING_ID {
            // rmcp's own priming event of a standalone stream (stored
            // nowhere): the client reconnects it, to follow from now on.
            let stream = self.inner.create_standalone_stream(id).await?;
            return Ok(self.tagged(id, stream).left_stream());
        }
        let last_event_id = match &self.tags {
            // Only an event this session was sent (on any process with
            // the same secret) is resumed.
            Some(tags) => match tags.verify(id, &last_event_id) {
                Some(id) => id.to_owned(),
                None => {
                    tracing::info!(session = %id, "a Last-Event-ID that is not an event of this session (or one sent by a process with another request_state_key_env)");
                    return Err(SessionError::InvalidEventId.into());
                }
            },
            None => last_event_id,
        };
        let stream = self.inner.resume(id, last_event_id).await?;
        Ok(self.tagged(id, stream).right_stream())
    }
}

/// Forget the sessions the inner manager no longer holds (`live`, listed
/// at `listed`), but not one opened since: it is missing from the list
/// only because the list is older than it, and forgetting it would answer
/// its next request 404 (as when many clients open sessions at once).
fn forget_closed(used: &mut HashMap<SessionId, Used>, live: &HashSet<SessionId>, listed: Instant) {
    used.retain(|id, u| live.contains(id) || u.at >= listed);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_opened_while_the_live_ones_were_listed_is_kept() {
        let id = |s: &str| SessionId::from(s);
        let listed = Instant::now();
        let at = |at| Used {
            at,
            ..Used::now(None)
        };
        let before = at(listed - Duration::from_secs(1));
        let live: HashSet<SessionId> = [id("live")].into();
        let mut used: HashMap<SessionId, Used> = [
            (id("live"), before.clone()),
            (id("closed"), before),
            (id("opened since"), at(listed + Duration::from_millis(1))),
        ]
        .into();
        forget_closed(&mut used, &live, listed);
        let mut kept: Vec<&str> = used.keys().map(|k| &**k).collect();
        kept.sort();
        assert_eq!(kept, ["live", "opened since"]);
    }
}
