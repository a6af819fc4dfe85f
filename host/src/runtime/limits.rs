//! The per-call limits and the memory limiter that enforces the memory cap.
//!
//! Every limit is a named value with a default here; `docs/SECURITY.md`
//! says what each one stops.

use std::sync::Arc;
use std::time::Duration;

use super::accounting::HostBytes;

/// Default fuel per call: about 200 ms of tight compiled loop.
pub const DEFAULT_FUEL: u64 = 2_000_000_000;
/// Default cap on a call's linear memory, summed over its memories. Fits a
/// Python component (baseline ~12 MiB) with room to work.
pub const DEFAULT_MEMORY: u64 = 64 * 1024 * 1024;
/// Default wall-clock deadline of a call.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default cap on the size of a call's answer (text, bytes and JSON).
pub const DEFAULT_MAX_OUTPUT: u64 = 1024 * 1024;
/// Default number of calls one plugin runs at once; more wait in a queue.
pub const DEFAULT_CONCURRENCY: usize = 32;
/// Default number of calls that may wait for a plugin that is at its
/// concurrency limit; more are refused as busy.
pub const DEFAULT_QUEUE: usize = 256;
/// How much of each pooled linear memory and table stays resident between
/// calls: the pages a call dirtied below this are restored in place
/// (PAGEMAP_SCAN finds them) rather than unmapped with `madvise`. Not a limit
/// on plugins; a tuning value.
pub const KEEP_RESIDENT: usize = 2 * 1024 * 1024;
/// The wasm call stack limit (engine-wide).
pub const WASM_STACK: usize = 1024 * 1024;
/// The most linear memory any plugin may be configured with (the size of a
/// pooling-allocator memory slot).
pub const MAX_MEMORY_CEILING: u64 = 1024 * 1024 * 1024;
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
/// How often the epoch ticks: the granularity of deadlines and cancellation.
pub const EPOCH_TICK: Duration = Duration::from_millis(5);

/// The limits one call runs under.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Instructions (wasmtime fuel) a call may use.
    pub fuel: u64,
    /// Bytes of linear memory a call may use, over all its memories.
    pub memory: u64,
    /// Wall-clock time a call may take, instantiation included.
    pub timeout: Duration,
    /// Bytes of answer a call may return.
    pub max_output: u64,
    /// Calls of one plugin in flight at once.
    pub concurrency: usize,
    /// Calls of one plugin waiting for a free slot.
    pub queue: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            fuel: DEFAULT_FUEL,
            memory: DEFAULT_MEMORY,
            timeout: DEFAULT_TIMEOUT,
            max_output: DEFAULT_MAX_OUTPUT,
            concurrency: DEFAULT_CONCURRENCY,
            queue: DEFAULT_QUEUE,
        }
    }
}

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

/// `1048576` → `1 MiB`; exact units where they fit, bytes otherwise.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
    for (size, unit) in UNITS {
        if bytes >= size && bytes.is_multiple_of(size) {
            return format!("{} {unit}", bytes / size);
        }
    }
    for (size, unit) in UNITS {
        if bytes >= size {
            return format!("{:.1} {unit}", bytes as f64 / size as f64);
        }
    }
    format!("{bytes} bytes")
}

/// `Duration::from_millis(1500)` → `1.5s`.
pub fn human_duration(duration: Duration) -> String {
    let ms = duration.as_millis();
    if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else if ms >= 1000 {
        format!("{}s", duration.as_secs_f64())
    } else {
        format!("{ms}ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmtime::ResourceLimiter;

    #[test]
    fn sizes_read_naturally() {
        assert_eq!(human_size(64 * 1024 * 1024), "64 MiB");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(12), "12 bytes");
        assert_eq!(human_duration(Duration::from_secs(10)), "10s");
        assert_eq!(human_duration(Duration::from_millis(1500)), "1.5s");
        assert_eq!(human_duration(Duration::from_millis(250)), "250ms");
    }

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
