//! The limits the host enforces inside a call (beyond the configured
//! [`Limits`](crate::config::Limits), whose defaults live with the config),
//! and the memory limiter that enforces the memory cap.
//!
//! Every limit is a named value; `docs/SECURITY.md` says what each one stops.

use std::sync::Arc;

use super::accounting::HostBytes;

/// How much of each pooled linear memory and table stays resident between
/// calls: the pages a call dirtied below this are restored in place
/// (PAGEMAP_SCAN finds them) rather than unmapped with `madvise`. Not a limit
/// on plugins; a tuning value.
pub const KEEP_RESIDENT: usize = 2 * 1024 * 1024;
/// The wasm call stack limit (engine-wide).
pub const WASM_STACK: usize = 1024 * 1024;
/// The most elements a table may grow to.
pub const MAX_TABLE_ELEMENTS: usize = 200_000;
/// Log messages one call may send; later ones are dropped (and counted).
pub const MAX_LOG_MESSAGES_PER_CALL: u32 = 1_000;
/// Progress notifications one call may send; later ones are dropped (and counted).
pub const MAX_PROGRESS_PER_CALL: u32 = 1_000;
/// The longest log message or stdout/stderr line kept; longer ones are cut.
pub const MAX_LOG_MESSAGE_BYTES: usize = 16 * 1024;
/// Bytes of stdout+stderr one call may write to the host log; the rest is
/// discarded (and counted).
pub const MAX_STDIO_BYTES_PER_CALL: usize = 64 * 1024;
/// Host resources (WASI and `wasi:http` handles: fields, requests, bodies,
/// streams, pollables, descriptors) one call may hold at once; creating one
/// more fails in the guest.
pub const MAX_RESOURCES_PER_CALL: usize = 10_000;
/// The most bytes one `wasi:http` `fields` (headers or trailers) may hold,
/// counted as wasmtime counts them (names, values and per-entry overhead).
pub const MAX_HTTP_FIELDS_BYTES: usize = 64 * 1024;
/// Enforces the memory cap of one call over its linear memories and the
/// host-side bytes it holds ([`HostBytes`]), and remembers whether it
/// refused anything, so that whatever the guest does next (abort, trap,
/// return an error) the host can name the limit.
#[derive(Debug)]
pub(crate) struct CallLimiter {
    cap: usize,
    in_use: usize,
    /// What the host holds for the call, counted by the allocator.
    pub(crate) host: Arc<HostBytes>,
    /// The total size a refused grow asked for, if one was refused.
    pub(crate) refused: Option<usize>,
}

impl CallLimiter {
    pub(crate) fn new(cap: u64) -> Self {
        Self {
            cap: usize::try_from(cap).unwrap_or(usize::MAX),
            in_use: 0,
            host: Arc::default(),
            refused: None,
        }
    }

    fn host_bytes(&self) -> usize {
        usize::try_from(self.host.get()).unwrap_or(usize::MAX)
    }

    /// Whether linear memory plus host-side bytes are over the cap; if so,
    /// the refusal is recorded.
    pub(crate) fn over_cap(&mut self) -> bool {
        let total = self.in_use.saturating_add(self.host_bytes());
        if total > self.cap {
            self.refused.get_or_insert(total);
            return true;
        }
        false
    }

    /// The bytes of linear memory the instance has now (the most it had:
    /// linear memory never shrinks).
    pub(crate) fn linear_memory(&self) -> usize {
        self.in_use
    }

    /// A new call on a kept instance: its host bytes are counted afresh.
    pub(crate) fn next_call(&mut self) {
        self.refused = None;
        self.host.reset();
    }
}

impl wasmtime::ResourceLimiter for CallLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let linear = self.in_use.saturating_sub(current).saturating_add(desired);
        let total = linear.saturating_add(self.host_bytes());
        if total > self.cap {
            self.refused = Some(total);
            return Ok(false);
        }
        self.in_use = linear;
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmtime::ResourceLimiter;

    #[test]
    fn limiter_counts_all_memories_and_remembers_refusal() {
        let mut limiter = CallLimiter::new(100);
        assert!(limiter.memory_growing(0, 60, None).unwrap());
        assert!(limiter.memory_growing(0, 30, None).unwrap());
        assert!(!limiter.memory_growing(30, 50, None).unwrap());
        assert_eq!(limiter.refused, Some(110));
        assert!(limiter.memory_growing(60, 70, None).unwrap());
    }

    #[test]
    fn host_bytes_count_against_the_same_cap() {
        let mut limiter = CallLimiter::new(100);
        assert!(limiter.memory_growing(0, 60, None).unwrap());
        assert!(!limiter.over_cap());
        limiter.host.add(50);
        assert!(limiter.over_cap());
        assert_eq!(limiter.refused, Some(110));
        assert!(!limiter.memory_growing(60, 61, None).unwrap());
    }
}
