//! Resumable response streams shared by several processes: rmcp's
//! `EventStore` on Redis, used with `[server.sessions] store`.
//!
//! Every SSE event of a 2025-11-25 session (progress, requests to the
//! client, the response) is appended to a Redis stream named after its SSE
//! stream before it is sent: one round trip per event. (A priming event
//! holds nothing to replay and is not stored: its id stands for the start.) A client that lost its
//! connection sends `Last-Event-ID` to any process; that process replays
//! what followed from Redis and keeps following the stream (polling) until
//! the response arrives, so a call that still runs on the process the
//! client left reaches it all the same.
//!
//! Event ids are `<sse stream>/<redis entry id>.<tag>`, where the tag is a
//! MAC over the session id and the rest, keyed from the shared
//! `request_state_key_env` secret: a client can resume only the streams of
//! its own session (which the session check has tied to its principal), on
//! any process that has the same secret.
//!
//! Bounded: each stream keeps its last [`MAX_STORED_EVENTS`] events and
//! lives for the session idle timeout after its last event, or for
//! [`COMPLETED_STREAM_TTL`] once its response is stored; an event larger
//! than [`MAX_STORED_EVENT`] is sent but not stored. At most
//! [`MAX_RESUMED_STREAMS`] resumed streams follow the store at once, on a
//! connection of their own, so that they never hold up the events being
//! stored. A store that fails is left alone for a while: events keep
//! flowing, unstored.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rmcp::model::ServerJsonRpcMessage;
use rmcp::transport::common::server_side_http::ServerSseMessage;
use rmcp::transport::streamable_http_server::session::store::{
    EventId, EventStore, EventStoreError, EventStream,
};
use serde::{Deserialize, Serialize};

use crate::config::{RedisTarget, StateKey};
use crate::redis::{Redis, Reply};

/// The most events one SSE stream keeps in the store (older ones go).
pub const MAX_STORED_EVENTS: usize = 128;
/// The largest event stored (its JSON), in bytes; a larger one is sent but
/// cannot be replayed.
pub const MAX_STORED_EVENT: usize = 4 * 1024 * 1024;
/// How often a resumed stream looks for new events.
pub const RESUME_POLL_INTERVAL: Duration = Duration::from_millis(100);
/// How long a request's stream stays in the store once its response is
/// there (time enough for a client to come back for it).
pub const COMPLETED_STREAM_TTL: Duration = Duration::from_secs(60);
/// Resumed streams following the store at once, in this process.
pub const MAX_RESUMED_STREAMS: usize = 64;

/// The prefix of every event stream's key.
const KEY_PREFIX: &str = "corral:events:";
/// How long the store is left alone after it failed.
const STORE_BACKOFF: Duration = Duration::from_secs(5);
/// The entry id of an event that could not be stored.
const UNSTORED: &str = "unstored";
/// The entry id of a priming event: before any entry Redis makes.
const BEFORE_ALL: &str = "0-1";
/// The longest SSE stream name accepted in an event id.
const MAX_STREAM_NAME: usize = 128;

/// One stored event.
#[derive(Serialize, Deserialize)]
struct Stored {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    message: Option<Arc<ServerJsonRpcMessage>>,
    /// The retry hint, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retry_ms: Option<u64>,
}

/// The event store on Redis.
#[derive(Debug)]
pub(super) struct RedisEvents {
    /// Where events are stored, one at a time.
    redis: Redis,
    /// What resumed streams read from.
    reader: Arc<Redis>,
    /// Resumed streams following now.
    following: Arc<AtomicUsize>,
    /// How long a stream lives after its last event (the session idle
    /// timeout), and how long a resumed stream waits for a new one.
    idle: Duration,
    /// Until when the store is left alone after a failure.
    backoff: Mutex<Option<Instant>>,
}

impl RedisEvents {
    pub(super) fn new(target: RedisTarget, idle: Duration) -> RedisEvents {
        // Connections of their own (the sessions' commands do not wait
        // behind events, nor events behind readers), with replies as large
        // as the largest event.
        let client = |target| {
            Redis::with_max_reply(target, MAX_STORED_EVENT + 64 * 1024, "MAX_STORED_EVENT")
        };
        RedisEvents {
            redis: client(target.clone()),
            reader: Arc::new(client(target)),
            following: Arc::default(),
            idle,
            backoff: Mutex::new(None),
        }
    }

    fn key(stream: &str) -> Vec<u8> {
        format!("{KEY_PREFIX}{stream}").into_bytes()
    }

    fn backing_off(&self) -> bool {
        let mut until = self.backoff.lock().unwrap_or_else(|e| e.into_inner());
        match *until {
            Some(at) if Instant::now() < at => true,
            Some(_) => {
                *until = None;
                false
            }
            None => false,
        }
    }

    fn back_off(&self, error: &dyn std::fmt::Display) {
        let mut until = self.backoff.lock().unwrap_or_else(|e| e.into_inner());
        if until.is_none() {
            tracing::warn!(
                "storing a stream event: {error}; events are not stored (and cannot be resumed on another process) for {}",
                crate::units::human_duration(STORE_BACKOFF)
            );
        }
        *until = Some(Instant::now() + STORE_BACKOFF);
    }
}

#[async_trait::async_trait]
impl EventStore for RedisEvents {
    /// Never fails: an event the store cannot take is sent all the same,
    /// with an id that cannot be resumed.
    async fn store_event(
        &self,
        stream_id: &str,
        event: &ServerSseMessage,
    ) -> Result<EventId, EventStoreError> {
        let unstored = || format!("{stream_id}/{UNSTORED}");
        if event.message.is_none() {
            // A priming event (a retry hint) carries nothing to replay: its
            // id stands before every entry of the stream, so resuming from
            // it replays them all, and it costs no round trip.
            return Ok(format!("{stream_id}/{BEFORE_ALL}"));
        }
        let stored = Stored {
            message: event.message.clone(),
            retry_ms: event.retry.map(|r| r.as_millis() as u64),
        };
        let mut json = serde_json::to_vec(&stored)?;
        if json.len() > MAX_STORED_EVENT {
            tracing::debug!(
                stream = stream_id,
                "an event of {} is not stored (MAX_STORED_EVENT)",
                crate::units::human_size(json.len() as u64)
            );
            // A response too large to keep is replaced, for a client that
            // comes back for it, by an error saying so: its stream ends
            // there instead of waiting for an answer that never comes.
            match event.message.as_deref().and_then(too_large_to_replay) {
                Some(stand_in) => json = serde_json::to_vec(&stand_in)?,
                None => return Ok(unstored()),
            }
        }
        if stream_id.len() > MAX_STREAM_NAME || self.backing_off() {
            return Ok(unstored());
        }
        let key = Self::key(stream_id);
        let max = MAX_STORED_EVENTS.to_string();
        let last = event.message.as_deref().is_some_and(|m| {
            matches!(
                m,
                ServerJsonRpcMessage::Response(_) | ServerJsonRpcMessage::Error(_)
            )
        });
        let ttl = if last {
            COMPLETED_STREAM_TTL
        } else {
            self.idle
        };
        let ttl = ttl.as_secs().max(1).to_string();
        let replies = self
            .redis
            .pipeline(&[
                &[b"XADD", &key, b"MAXLEN", max.as_bytes(), b"*", b"e", &json],
                &[b"EXPIRE", &key, ttl.as_bytes()],
            ])
            .await;
        match replies.as_deref() {
            Ok([Reply::Text(entry), ..]) => {
                Ok(format!("{stream_id}/{}", String::from_utf8_lossy(entry)))
            }
            Ok(other) => {
                self.back_off(&format!("unexpected reply {other:?}"));
                Ok(unstored())
            }
            Err(e) => {
                self.back_off(e);
                Ok(unstored())
            }
        }
    }

    /// The events after `last_event_id` (an id without its tag), then the
    /// ones still to come, until the stream's response has been sent, or
    /// nothing came for the idle timeout.
    async fn replay_events_after(
        &self,
        last_event_id: &str,
    ) -> Result<EventStream, EventStoreError> {
        let (stream, entry) = parse_event_id(last_event_id)
            .ok_or_else(|| format!("`{last_event_id}` is not an event id of this server"))?;
        let taken = self
            .following
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                (n < MAX_RESUMED_STREAMS).then_some(n + 1)
            });
        if taken.is_err() {
            return Err(format!(
                "{MAX_RESUMED_STREAMS} resumed streams already follow the store (MAX_RESUMED_STREAMS)"
            )
            .into());
        }
        let follow = Follow {
            _slot: FollowSlot(self.following.clone()),
            redis: self.reader.clone(),
            key: Self::key(stream),
            stream: stream.to_owned(),
            after: entry.to_owned(),
            idle: self.idle,
            last_new: Instant::now(),
            done: false,
            seen: false,
        };
        Ok(Box::pin(futures::stream::unfold(follow, Follow::next)))
    }
}

/// A resumed stream's place among the [`MAX_RESUMED_STREAMS`].
struct FollowSlot(Arc<AtomicUsize>);

impl Drop for FollowSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A resumed stream being read from the store.
struct Follow {
    _slot: FollowSlot,
    redis: Arc<Redis>,
    key: Vec<u8>,
    stream: String,
    /// The entry last sent.
    after: String,
    idle: Duration,
    last_new: Instant,
    /// The response has been sent.
    done: bool,
    /// An entry has been read.
    seen: bool,
}

impl Follow {
    /// The next event, waiting for it if need be.
    async fn next(mut self) -> Option<(ServerSseMessage, Follow)> {
        if self.done {
            return None;
        }
        loop {
            let start = format!("({}", self.after);
            let replies = self
                .redis
                .pipeline(&[
                    &[b"XRANGE", &self.key, start.as_bytes(), b"+", b"COUNT", b"1"],
                    &[b"EXISTS", &self.key],
                ])
                .await;
            let reply = replies.map(|mut replies| {
                let exists = replies.pop();
                (replies.pop(), exists)
            });
            match reply {
                // Gone after it was read from (expired): nothing more
                // will come. (Not there yet is another matter: a call
                // that has sent nothing but its priming event.)
                Ok((_, Some(Reply::Int(0)))) if self.seen => return None,
                Ok((Some(Reply::Array(entries)), _)) if !entries.is_empty() => {
                    let (entry, event) = parse_entry(&entries[0])?;
                    self.after = entry;
                    self.last_new = Instant::now();
                    self.seen = true;
                    let Some(event) = event else { continue };
                    let mut sent = ServerSseMessage::default();
                    sent.event_id = Some(format!("{}/{}", self.stream, self.after));
                    sent.retry = event.retry_ms.map(Duration::from_millis);
                    if let Some(message) = event.message {
                        // A request's stream ends with its response.
                        self.done = matches!(
                            *message,
                            ServerJsonRpcMessage::Response(_) | ServerJsonRpcMessage::Error(_)
                        );
                        sent.message = Some(message);
                    }
                    return Some((sent, self));
                }
                Ok(_) => {}
                Err(e) => tracing::debug!(stream = %self.stream, "reading resumed events: {e}"),
            }
            if self.last_new.elapsed() >= self.idle {
                return None;
            }
            tokio::time::sleep(RESUME_POLL_INTERVAL).await;
        }
    }
}

/// What a client that resumes gets in place of `message`, a response
/// larger than [`MAX_STORED_EVENT`]: an error to the same request.
/// (`None` for anything else, which is simply not stored.)
fn too_large_to_replay(message: &ServerJsonRpcMessage) -> Option<Stored> {
    if !matches!(message, ServerJsonRpcMessage::Response(_)) {
        return None;
    }
    let id = serde_json::to_value(message).ok()?.get("id")?.clone();
    let error = serde_json::json!({
        "jsonrpc": "2.0",
        "id": id,
        "error": {
            "code": -32603,
            "message": format!(
                "the answer was larger than {} (MAX_STORED_EVENT) and was not kept for resumption; make the request again",
                crate::units::human_size(MAX_STORED_EVENT as u64)
            ),
        },
    });
    Some(Stored {
        message: Some(Arc::new(serde_json::from_value(error).ok()?)),
        retry_ms: None,
    })
}

/// An XRANGE entry: its id, and its event (`None` if it does not parse).
fn parse_entry(entry: &Reply) -> Option<(String, Option<Stored>)> {
    let Reply::Array(parts) = entry else {
        return None;
    };
    let [Reply::Text(id), Reply::Array(fields)] = parts.as_slice() else {
        return None;
    };
    let id = String::from_utf8(id.clone()).ok()?;
    let event = match fields.as_slice() {
        [Reply::Text(_), Reply::Text(json)] => serde_json::from_slice(json).ok(),
        _ => None,
    };
    Some((id, event))
}

/// `<stream>/<entry>` with an entry id Redis made (`<ms>-<seq>`).
fn parse_event_id(id: &str) -> Option<(&str, &str)> {
    let (stream, entry) = id.rsplit_once('/')?;
    let (ms, seq) = entry.split_once('-')?;
    let digits = |s: &str| !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit());
    let named = !stream.is_empty()
        && stream.len() <= MAX_STREAM_NAME
        && stream
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b':');
    (named && digits(ms) && digits(seq)).then_some((stream, entry))
}

/// Tags event ids with the session they belong to.
#[derive(Debug)]
pub(super) struct EventTags {
    key: ring::hmac::Key,
}

/// The bytes of a tag (as hex, twice as many characters).
const TAG_BYTES: usize = 16;

impl EventTags {
    /// Tags keyed from `shared` (the same in every process that has the
    /// same secret), else from a random key of this process's own.
    pub(super) fn new(shared: Option<&StateKey>) -> EventTags {
        use ring::rand::SecureRandom;
        let secret = match shared {
            Some(shared) => shared.0,
            None => {
                let mut key = [0u8; 32];
                ring::rand::SystemRandom::new()
                    .fill(&mut key)
                    .expect("the operating system provides random bytes");
                key
            }
        };
        // A key of its own, derived from the secret (which also seals
        // request states).
        let derived = ring::hmac::sign(
            &ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &secret),
            b"corral: event ids",
        );
        EventTags {
            key: ring::hmac::Key::new(ring::hmac::HMAC_SHA256, derived.as_ref()),
        }
    }

    fn tag(&self, session: &str, id: &str) -> String {
        let mut context = ring::hmac::Context::with_key(&self.key);
        context.update(session.as_bytes());
        context.update(b"\n");
        context.update(id.as_bytes());
        let tag = context.sign();
        crate::config::hex(&tag.as_ref()[..TAG_BYTES])
    }

    /// `event`'s id, tagged for `session`.
    pub(super) fn sign(&self, session: &str, mut event: ServerSseMessage) -> ServerSseMessage {
        if let Some(id) = event.event_id.take() {
            let tag = self.tag(session, &id);
            event.event_id = Some(format!("{id}.{tag}"));
        }
        event
    }

    /// The id inside `tagged` if it was tagged for `session`.
    pub(super) fn verify<'a>(&self, session: &str, tagged: &'a str) -> Option<&'a str> {
        let (id, tag) = tagged.rsplit_once('.')?;
        let expected = self.tag(session, id);
        ring::constant_time::verify_slices_are_equal(expected.as_bytes(), tag.as_bytes())
            .ok()
            .map(|()| id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_ids_are_parsed_strictly() {
        let stream = "4c0e5a7e-1b2c-4d3e-8f90-a1b2c3d4e5f6";
        let id = format!("{stream}/1733333333333-0");
        assert_eq!(parse_event_id(&id), Some((stream, "1733333333333-0")));
        assert_eq!(
            parse_event_id("abc:common/1-2"),
            Some(("abc:common", "1-2"))
        );
        for bad in [
            "1-2",
            "/1-2",
            "s/1",
            "s/1-",
            "s/-1",
            "s/1-2x",
            "s/unstored",
            "s s/1-2",
            "s*/1-2",
            "s/+",
        ] {
            assert_eq!(parse_event_id(bad), None, "{bad}");
        }
        let long = format!("{}/1-2", "a".repeat(MAX_STREAM_NAME + 1));
        assert_eq!(parse_event_id(&long), None);
    }

    #[test]
    fn a_tag_holds_for_its_session_only() {
        let tags = EventTags::new(Some(&StateKey([7; 32])));
        let event = ServerSseMessage::priming("s/1-0", Duration::from_secs(3));
        let signed = tags.sign("session-a", event);
        let id = signed.event_id.unwrap();
        assert_eq!(tags.verify("session-a", &id), Some("s/1-0"));
        assert_eq!(tags.verify("session-b", &id), None);
        // Another id under the same tag, or a changed tag, is refused.
        let (_, tag) = id.rsplit_once('.').unwrap();
        assert_eq!(tags.verify("session-a", &format!("s/2-0.{tag}")), None);
        assert_eq!(tags.verify("session-a", "s/1-0"), None);
        assert_eq!(tags.verify("session-a", &format!("{}0", id)), None);
        // Processes with the same secret agree; with another, they do not.
        let same = EventTags::new(Some(&StateKey([7; 32])));
        assert_eq!(same.verify("session-a", &id), Some("s/1-0"));
        let other = EventTags::new(Some(&StateKey([8; 32])));
        assert_eq!(other.verify("session-a", &id), None);
        assert_eq!(EventTags::new(None).verify("session-a", &id), None);
    }

    fn log_event(bytes: usize) -> ServerSseMessage {
        let message: ServerJsonRpcMessage = serde_json::from_value(serde_json::json!({
            "jsonrpc": "2.0", "method": "notifications/message",
            "params": {"level": "info", "data": "x".repeat(bytes)}
        }))
        .unwrap();
        ServerSseMessage::from_message(message)
    }

    #[tokio::test]
    async fn events_the_store_cannot_take_are_sent_unstored() {
        // Nothing listens on port 1.
        let target = RedisTarget::parse("redis://127.0.0.1:1").unwrap();
        let events = RedisEvents::new(target, Duration::from_secs(60));
        // Too large: not even tried.
        let id = events
            .store_event("s", &log_event(MAX_STORED_EVENT))
            .await
            .unwrap();
        assert_eq!(id, "s/unstored");
        assert!(!events.backing_off());
        // The store fails: unstored, and left alone for a while.
        let id = events.store_event("s", &log_event(10)).await.unwrap();
        assert_eq!(id, "s/unstored");
        assert!(events.backing_off());
        // An unstored id cannot be resumed.
        assert!(events.replay_events_after(&id).await.is_err());
    }

    #[test]
    fn a_response_too_large_to_keep_is_replayed_as_an_error() {
        let response: ServerJsonRpcMessage = serde_json::from_value(serde_json::json!({
            "jsonrpc": "2.0", "id": 7, "result": {"content": [{"type": "text", "text": "x"}]}
        }))
        .unwrap();
        let stand_in = too_large_to_replay(&response).unwrap();
        let replayed = serde_json::to_value(stand_in.message.unwrap()).unwrap();
        assert_eq!(replayed["id"], 7);
        let message = replayed["error"]["message"].as_str().unwrap();
        assert!(message.contains("(MAX_STORED_EVENT)"), "{message}");
        let notification = log_event(10).message.unwrap();
        assert!(too_large_to_replay(&notification).is_none());
    }

    #[tokio::test]
    async fn resumed_streams_are_capped() {
        let target = RedisTarget::parse("redis://127.0.0.1:1").unwrap();
        let events = RedisEvents::new(target, Duration::from_secs(60));
        let mut streams = Vec::new();
        for _ in 0..MAX_RESUMED_STREAMS {
            streams.push(events.replay_events_after("s/1-0").await.unwrap());
        }
        let refused = events.replay_events_after("s/1-0").await.err().unwrap();
        assert!(
            refused.to_string().contains("(MAX_RESUMED_STREAMS)"),
            "{refused}"
        );
        drop(streams.pop());
        assert!(events.replay_events_after("s/1-0").await.is_ok());
    }
}
