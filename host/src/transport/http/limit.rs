//! Per-client limits on the MCP routes: a token bucket (`rate`, `burst`)
//! and a cap on requests in flight (`concurrency`), for each principal when
//! `[server.auth]` is on, else for each client address. A view of
//! `[server.auth]` may set its own. Past a limit the request gets **429**
//! with `Retry-After`, naming the limit. At most [`MAX_LIMITED_CLIENTS`]
//! clients are tracked: at the cap, idle ones (a full bucket, nothing in
//! flight) are forgotten, which loses nothing, then the least recently seen.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{ClientAddr, Tracked};
use crate::auth::Principal;
use crate::config::{ClientLimits, Rate};
use crate::gate::Bucket;

/// Most clients whose buckets and requests in flight are tracked at once.
pub const MAX_LIMITED_CLIENTS: usize = 10_000;

struct Client {
    /// The rate its bucket fills at (its view's, or the default).
    rate: Option<Rate>,
    bucket: Option<Bucket>,
    seen: Instant,
    in_flight: usize,
}

/// The buckets and counts of every client seen.
pub(crate) struct ClientGate {
    defaults: ClientLimits,
    clients: Mutex<HashMap<String, Client>>,
}

/// Why a request was refused, and when to try again (seconds).
struct Refusal {
    message: String,
    retry_after: u64,
}

/// A request in flight; dropping it (when its response body is done)
/// frees its place.
pub(crate) struct InFlight {
    gate: Arc<ClientGate>,
    key: String,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut clients = self.gate.clients.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(client) = clients.get_mut(&self.key) {
            client.in_flight = client.in_flight.saturating_sub(1);
        }
    }
}

impl ClientGate {
    /// `None` when neither `[server.http]` nor any view sets a limit (the
    /// gate then costs nothing).
    pub(crate) fn new(defaults: ClientLimits, any_view_limits: bool) -> Option<ClientGate> {
        (defaults != ClientLimits::default() || any_view_limits).then(|| ClientGate {
            defaults,
            clients: Mutex::new(HashMap::new()),
        })
    }

    /// Take one token from `key`'s bucket and, if `counted`, a place in
    /// flight.
    fn admit(&self, key: &str, limits: ClientLimits, counted: bool) -> Result<bool, Refusal> {
        let now = Instant::now();
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        if !clients.contains_key(key) && clients.len() >= MAX_LIMITED_CLIENTS {
            make_room(&mut clients, now);
        }
        let client = clients.entry(key.to_owned()).or_insert(Client {
            rate: limits.rate,
            bucket: None,
            seen: now,
            in_flight: 0,
        });
        client.rate = limits.rate;
        client.seen = now;
        let mut bucket = limits.rate.map(|rate| {
            (
                rate,
                client.bucket.get_or_insert_with(|| Bucket::full(rate, now)),
            )
        });
        if let Some((rate, bucket)) = &mut bucket
            && let Err(wait) = bucket.check(*rate, now)
        {
            return Err(Refusal {
                message: format!(
                    "rate limit of {rate} (burst {}) for this client reached",
                    rate.burst
                ),
                retry_after: wait.as_secs_f64().ceil().max(1.0) as u64,
            });
        }
        if counted && let Some(max) = limits.concurrency {
            if client.in_flight >= max {
                return Err(Refusal {
                    message: format!(
                        "concurrency limit of {max} requests in flight for this client reached"
                    ),
                    retry_after: 1,
                });
            }
            client.in_flight += 1;
        }
        if let Some((_, bucket)) = bucket {
            bucket.take();
        }
        Ok(counted && limits.concurrency.is_some())
    }
}

/// Forget idle clients (full bucket, nothing in flight); if none is idle,
/// the least recently seen with nothing in flight.
fn make_room(clients: &mut HashMap<String, Client>, now: Instant) {
    let full = |c: &Client| match (c.rate, &c.bucket) {
        (Some(rate), Some(bucket)) => bucket.is_full(rate, now),
        _ => true,
    };
    clients.retain(|_, c| c.in_flight > 0 || !full(c));
    if clients.len() >= MAX_LIMITED_CLIENTS
        && let Some(oldest) = clients
            .iter()
            .filter(|(_, c)| c.in_flight == 0)
            .min_by_key(|(_, c)| c.seen)
            .map(|(k, _)| k.clone())
    {
        clients.remove(&oldest);
    }
}

/// Refuse a request past its client's limits with 429.
pub(crate) async fn limit_clients(
    State(gate): State<Arc<ClientGate>>,
    request: Request,
    next: Next,
) -> Response {
    let principal = request.extensions().get::<Arc<Principal>>();
    let key = match (principal, request.extensions().get::<ClientAddr>()) {
        (Some(p), _) => format!("principal {}", p.key),
        (None, Some(addr)) => format!("client {}", addr.0),
        (None, None) => "client ?".to_owned(),
    };
    let view = principal.and_then(|p| p.view.as_ref()).map(|v| v.limits);
    let limits = ClientLimits {
        rate: view.and_then(|v| v.rate).or(gate.defaults.rate),
        concurrency: view
            .and_then(|v| v.concurrency)
            .or(gate.defaults.concurrency),
    };
    // A standalone GET stream stays open for the session's life: it takes
    // a token but no place in flight.
    let counted = request.method() != Method::GET;
    match gate.admit(&key, limits, counted) {
        Ok(false) => next.run(request).await,
        Ok(true) => {
            let mark = InFlight {
                gate: gate.clone(),
                key,
            };
            next.run(request)
                .await
                .map(|body| Body::new(Tracked { body, _mark: mark }))
        }
        Err(refusal) => {
            tracing::info!(client = %key, "{}", refusal.message);
            let body = serde_json::json!({
                "error": "Too Many Requests",
                "error_description": refusal.message,
            });
            let mut response = (
                StatusCode::TOO_MANY_REQUESTS,
                [(header::CONTENT_TYPE, "application/json")],
                body.to_string(),
            )
                .into_response();
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(refusal.retry_after));
            response
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn rate(count: u32, burst: u32) -> Rate {
        Rate {
            count,
            per: Duration::from_secs(60),
            burst,
        }
    }

    #[test]
    fn buckets_are_per_client_and_name_the_limit() {
        let limits = ClientLimits {
            rate: Some(rate(2, 2)),
            concurrency: None,
        };
        let gate = ClientGate::new(limits, false).unwrap();
        assert!(gate.admit("a", limits, true).is_ok());
        assert!(gate.admit("a", limits, true).is_ok());
        let refusal = gate.admit("a", limits, true).err().unwrap();
        assert!(
            refusal.message.contains("rate limit of 2/m (burst 2)"),
            "{}",
            refusal.message
        );
        // One token comes back every 30 s.
        assert!(
            (29..=30).contains(&refusal.retry_after),
            "{}",
            refusal.retry_after
        );
        assert!(
            gate.admit("b", limits, true).is_ok(),
            "another client has its own bucket"
        );
    }

    #[test]
    fn places_in_flight_come_back_when_a_request_ends() {
        let limits = ClientLimits {
            rate: None,
            concurrency: Some(1),
        };
        let gate = Arc::new(ClientGate::new(limits, false).unwrap());
        assert!(matches!(gate.admit("a", limits, true), Ok(true)));
        let held = InFlight {
            gate: gate.clone(),
            key: "a".into(),
        };
        let refusal = gate.admit("a", limits, true).err().unwrap();
        assert!(
            refusal.message.contains("concurrency limit of 1"),
            "{}",
            refusal.message
        );
        // A standalone stream takes no place.
        assert!(matches!(gate.admit("a", limits, false), Ok(false)));
        drop(held);
        assert!(gate.admit("a", limits, true).is_ok());
    }

    #[test]
    fn the_table_of_clients_stays_bounded() {
        let limits = ClientLimits {
            rate: Some(rate(1, 1)),
            concurrency: None,
        };
        let gate = ClientGate::new(limits, false).unwrap();
        for i in 0..MAX_LIMITED_CLIENTS + 500 {
            let _ = gate.admit(&format!("client {i}"), limits, true);
        }
        let clients = gate.clients.lock().unwrap();
        assert!(clients.len() <= MAX_LIMITED_CLIENTS, "{}", clients.len());
        assert!(clients.contains_key(&format!("client {}", MAX_LIMITED_CLIENTS + 499)));
    }

    #[test]
    fn no_limits_no_gate() {
        assert!(ClientGate::new(ClientLimits::default(), false).is_none());
        assert!(ClientGate::new(ClientLimits::default(), true).is_some());
    }
}
