//! Sessions shared by several processes (`[server.sessions] store`): rmcp's
//! `SessionStore` on Redis. A process that meets a session id it does not
//! hold loads the session's `initialize` from here and replays it, so a
//! client whose process died continues on another without noticing.
//!
//! An entry holds the client's initialize parameters and the principal
//! that opened the session (a session is not there for anyone else, on any
//! process). It lives for the session's idle timeout, refreshed while the
//! session is used, and goes when the client closes the session.

use std::time::Duration;

use rmcp::transport::streamable_http_server::session::store::{
    SessionState, SessionStore, SessionStoreError,
};
use serde::{Deserialize, Serialize};

use crate::config::RedisTarget;
use crate::redis::{Redis, Reply};

/// The prefix of every key Corral writes.
const KEY_PREFIX: &str = "corral:session:";

/// What one entry holds.
#[derive(Serialize, Deserialize)]
struct Stored {
    /// The principal that opened the session (`None` without auth).
    owner: Option<String>,
    state: SessionState,
}

/// The session store on Redis.
#[derive(Debug)]
pub(super) struct RedisSessions {
    redis: Redis,
    /// How long an unused entry lives (the session idle timeout).
    ttl: Duration,
}

impl RedisSessions {
    pub(super) fn new(target: RedisTarget, ttl: Duration) -> RedisSessions {
        RedisSessions {
            redis: Redis::new(target),
            ttl,
        }
    }

    fn key(id: &str) -> Vec<u8> {
        format!("{KEY_PREFIX}{id}").into_bytes()
    }

    fn ttl_secs(&self) -> Vec<u8> {
        self.ttl.as_secs().max(1).to_string().into_bytes()
    }

    /// Say in the log whether the store answers (at startup: sessions are
    /// still served without it, but only by the process that opened them).
    pub(super) async fn check(&self, target: &str) {
        match self.redis.command(&[b"PING"]).await {
            Ok(_) => tracing::info!("sessions are shared through the store at {target}"),
            Err(e) => tracing::warn!(
                "the session store does not answer ({e}); until it does, a session is served only by the process that opened it"
            ),
        }
    }

    /// Keep the entry of a session in use for another idle timeout; false
    /// when the entry is gone (the session was closed through another
    /// process, or it expired there).
    pub(super) async fn refresh(&self, id: &str) -> bool {
        let ttl = self.ttl_secs();
        match self.redis.command(&[b"EXPIRE", &Self::key(id), &ttl]).await {
            Ok(reply) => reply != Reply::Int(0),
            Err(e) => {
                tracing::warn!(session = id, "refreshing the session in the store: {e}");
                true
            }
        }
    }

    /// The entry of session `id` if the current principal opened it.
    async fn owned(&self, id: &str) -> Result<Option<SessionState>, SessionStoreError> {
        let ttl = self.ttl_secs();
        let reply = self
            .redis
            .command(&[b"GETEX", &Self::key(id), b"EX", &ttl])
            .await?;
        let Reply::Text(json) = reply else {
            return Ok(None);
        };
        let stored: Stored = serde_json::from_slice(&json)?;
        Ok((stored.owner == super::auth::current_owner()).then_some(stored.state))
    }

    /// Delete session `id` if the current principal opened it; whether it
    /// was there for them.
    pub(super) async fn close(&self, id: &str) -> bool {
        match self.owned(id).await {
            Ok(Some(_)) => self.delete(id).await.is_ok(),
            Ok(None) => false,
            Err(e) => {
                tracing::warn!(session = id, "closing the session in the store: {e}");
                false
            }
        }
    }
}

#[async_trait::async_trait]
impl SessionStore for RedisSessions {
    async fn load(&self, id: &str) -> Result<Option<SessionState>, SessionStoreError> {
        self.owned(id).await
    }

    async fn store(&self, id: &str, state: &SessionState) -> Result<(), SessionStoreError> {
        let stored = Stored {
            owner: super::auth::current_owner(),
            state: state.clone(),
        };
        let json = serde_json::to_vec(&stored)?;
        let ttl = self.ttl_secs();
        self.redis
            .command(&[b"SET", &Self::key(id), &json, b"EX", &ttl])
            .await?;
        Ok(())
    }

    async fn delete(&self, id: &str) -> Result<(), SessionStoreError> {
        self.redis.command(&[b"DEL", &Self::key(id)]).await?;
        Ok(())
    }
}
