//! Admission: how many calls one provider takes per period (`rate`,
//! `burst`), runs at once and lets wait (`concurrency`, `queue`), all
//! bounded; and the token bucket the HTTP transport's per-client limits
//! use too.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::{Semaphore, SemaphorePermit};

use crate::config::Rate;
use crate::error::CallError;

/// A token bucket filling at a [`Rate`] up to its `burst`.
#[derive(Debug)]
pub(crate) struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    /// A full bucket: a burst may come at once.
    pub(crate) fn full(rate: Rate, now: Instant) -> Bucket {
        Bucket {
            tokens: f64::from(rate.burst),
            at: now,
        }
    }

    /// Refill up to `now`; how long until a whole token if there is none.
    pub(crate) fn check(&mut self, rate: Rate, now: Instant) -> Result<(), Duration> {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * rate.per_second()).min(f64::from(rate.burst));
        self.at = now;
        if self.tokens >= 1.0 {
            Ok(())
        } else {
            Err(Duration::from_secs_f64(
                (1.0 - self.tokens) / rate.per_second(),
            ))
        }
    }

    /// Use one token (after a [`check`](Self::check) that passed).
    pub(crate) fn take(&mut self) {
        self.tokens -= 1.0;
    }

    /// Whether the bucket will be full by `now` (forgetting it loses nothing).
    pub(crate) fn is_full(&self, rate: Rate, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens + elapsed * rate.per_second() >= f64::from(rate.burst)
    }
}

/// Admission to a provider: at most `rate` calls per period, `limit` calls
/// in flight and `queue` waiting; past that a call is refused, naming the
/// limit.
pub(crate) struct Gate {
    permits: Semaphore,
    limit: usize,
    waiting: AtomicUsize,
    queue: usize,
    rate: Option<(Rate, Mutex<Bucket>)>,
}

impl Gate {
    pub(crate) fn new(limit: usize, queue: usize, rate: Option<Rate>) -> Self {
        Self {
            permits: Semaphore::new(limit.max(1)),
            limit: limit.max(1),
            waiting: AtomicUsize::new(0),
            queue,
            rate: rate.map(|rate| (rate, Mutex::new(Bucket::full(rate, Instant::now())))),
        }
    }

    /// Take a token of the rate, then wait for a slot; be refused when the
    /// bucket is empty or the queue is full. `kind` and `name` name the
    /// provider in the refusal (`plugin`, `weather`).
    pub(crate) async fn admit(
        &self,
        kind: &'static str,
        name: &str,
    ) -> Result<SemaphorePermit<'_>, CallError> {
        if let Some((rate, bucket)) = &self.rate {
            let mut bucket = bucket.lock().unwrap_or_else(|e| e.into_inner());
            if let Err(wait) = bucket.check(*rate, Instant::now()) {
                return Err(CallError::RateLimited {
                    kind,
                    provider: name.to_owned(),
                    rate: *rate,
                    retry_after: wait,
                });
            }
            bucket.take();
        }
        self.admit_unmetered(kind, name).await
    }

    /// Calls holding a slot and calls waiting for one.
    pub(crate) fn load(&self) -> crate::provider::Load {
        crate::provider::Load {
            in_flight: self.limit - self.permits.available_permits().min(self.limit),
            queued: self.waiting.load(Ordering::Relaxed).min(self.queue),
        }
    }

    /// Wait for a slot without taking a token of the rate: for the host's
    /// own calls (listing a plugin's exports), which no client made.
    pub(crate) async fn admit_unmetered(
        &self,
        kind: &'static str,
        name: &str,
    ) -> Result<SemaphorePermit<'_>, CallError> {
        if let Ok(permit) = self.permits.try_acquire() {
            return Ok(permit);
        }
        struct Waiting<'a>(&'a AtomicUsize);
        impl Drop for Waiting<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::Relaxed);
            }
        }
        let before = self.waiting.fetch_add(1, Ordering::Relaxed);
        let _waiting = Waiting(&self.waiting);
        if before >= self.queue {
            return Err(CallError::Busy {
                kind,
                provider: name.to_owned(),
                limit: self.limit,
                queued: self.queue,
            });
        }
        self.permits
            .acquire()
            .await
            .map_err(|_| CallError::Host(format!("{kind} `{name}` is shutting down")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn gate_bounds_the_queue() {
        let gate = Gate::new(1, 1, None);
        let first = gate.admit("plugin", "p").await.unwrap();
        let gate_ref = &gate;
        let second = async move { gate_ref.admit("plugin", "p").await.map(drop) };
        tokio::pin!(second);
        // The second waits in the queue; a third is refused as busy.
        assert!(futures_poll_once(second.as_mut()).await.is_none());
        let third = gate.admit("plugin", "p").await;
        assert!(matches!(third, Err(CallError::Busy { .. })));
        drop(first);
        assert!(second.await.is_ok());
    }

    #[tokio::test]
    async fn gate_refuses_past_the_rate_naming_it() {
        let rate = Rate {
            count: 2,
            per: Duration::from_secs(3600),
            burst: 2,
        };
        let gate = Gate::new(8, 8, Some(rate));
        drop(gate.admit("plugin", "p").await.unwrap());
        drop(gate.admit("plugin", "p").await.unwrap());
        let Err(refused) = gate.admit("plugin", "p").await else {
            panic!("a third call within the hour was admitted");
        };
        assert_eq!(
            refused.to_string(),
            "plugin `p` is over its rate of 2/h (burst 2): try again in 1800s (rate limit)"
        );
    }

    #[test]
    fn a_bucket_refills_at_its_rate_up_to_its_burst() {
        let rate = Rate {
            count: 10,
            per: Duration::from_secs(1),
            burst: 3,
        };
        let start = Instant::now();
        let mut bucket = Bucket::full(rate, start);
        for _ in 0..3 {
            bucket.check(rate, start).unwrap();
            bucket.take();
        }
        let wait = bucket.check(rate, start).unwrap_err();
        assert!((wait.as_secs_f64() - 0.1).abs() < 1e-6, "{wait:?}");
        assert!(
            bucket
                .check(rate, start + Duration::from_millis(100))
                .is_ok()
        );
        assert!(!bucket.is_full(rate, start + Duration::from_millis(100)));
        assert!(bucket.is_full(rate, start + Duration::from_secs(10)));
        bucket.check(rate, start + Duration::from_secs(10)).unwrap();
        assert_eq!(bucket.tokens, 3.0, "refilled past the burst");
    }

    async fn futures_poll_once<F: Future + Unpin>(mut f: F) -> Option<F::Output> {
        std::future::poll_fn(|cx| match std::pin::Pin::new(&mut f).poll(cx) {
            std::task::Poll::Ready(v) => std::task::Poll::Ready(Some(v)),
            std::task::Poll::Pending => std::task::Poll::Ready(None),
        })
        .await
    }
}
