//! Admission: how many calls one provider runs at once and how many may
//! wait, both bounded (`concurrency`, `queue`).

use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::{Semaphore, SemaphorePermit};

use crate::error::CallError;

/// Admission to a provider: at most `limit` calls in flight and `queue`
/// waiting; past that a call is refused as busy, naming the limit.
pub(crate) struct Gate {
    permits: Semaphore,
    limit: usize,
    waiting: AtomicUsize,
    queue: usize,
}

impl Gate {
    pub(crate) fn new(limit: usize, queue: usize) -> Self {
        Self {
            permits: Semaphore::new(limit.max(1)),
            limit: limit.max(1),
            waiting: AtomicUsize::new(0),
            queue,
        }
    }

    /// Wait for a slot, or be refused when the queue is full. `kind` and
    /// `name` name the provider in the refusal (`plugin`, `weather`).
    pub(crate) async fn admit(
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
        let gate = Gate::new(1, 1);
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

    async fn futures_poll_once<F: Future + Unpin>(mut f: F) -> Option<F::Output> {
        std::future::poll_fn(|cx| match std::pin::Pin::new(&mut f).poll(cx) {
            std::task::Poll::Ready(v) => std::task::Poll::Ready(Some(v)),
            std::task::Poll::Pending => std::task::Poll::Ready(None),
        })
        .await
    }
}
