//! `[limits]`: the limits every call runs under, their defaults, and the
//! bounds a configured value must stay within.

use std::time::Duration;

/// Default fuel per call: about 200 ms of tight compiled loop.
pub const DEFAULT_FUEL: u64 = 2_000_000_000;
/// Default cap on a call's linear memory, summed over its memories. Fits a
/// Python component (baseline ~12 MiB) with room to work.
pub const DEFAULT_MEMORY: u64 = 64 * 1024 * 1024;
/// Default wall-clock deadline of a call.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default wall-clock deadline of a call that runs as an MCP task (it
/// replaces `timeout` for that call: a task does not hold a request open).
pub const DEFAULT_TASK_TIMEOUT: Duration = Duration::from_secs(600);
/// Default cap on the size of a call's answer (text, bytes and JSON).
pub const DEFAULT_MAX_OUTPUT: u64 = 1024 * 1024;
/// Default number of calls one plugin runs at once; more wait in a queue.
pub const DEFAULT_CONCURRENCY: usize = 32;
/// Default number of calls that may wait for a plugin that is at its
/// concurrency limit; more are refused as busy.
pub const DEFAULT_QUEUE: usize = 256;
/// The most linear memory any plugin may be configured with (the size of a
/// pooling-allocator memory slot).
pub const MAX_MEMORY_CEILING: u64 = 1024 * 1024 * 1024;
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
    /// Wall-clock time a call that runs as an MCP task may take (each run
    /// of the plugin; waiting for the client's input is not counted).
    pub task_timeout: Duration,
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
            task_timeout: DEFAULT_TASK_TIMEOUT,
            max_output: DEFAULT_MAX_OUTPUT,
            concurrency: DEFAULT_CONCURRENCY,
            queue: DEFAULT_QUEUE,
        }
    }
}
