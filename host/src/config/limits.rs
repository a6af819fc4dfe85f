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
    /// Calls of one plugin per period, over all clients (`None`: unlimited);
    /// past it a call is refused at once, naming the limit.
    pub rate: Option<Rate>,
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
            rate: None,
        }
    }
}

/// A token bucket: `count` requests (or calls) per `per`, with up to
/// `burst` at once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    /// Requests allowed per `per`.
    pub count: u32,
    /// The period `count` is over (a second, a minute or an hour).
    pub per: Duration,
    /// The bucket's size: requests that may come at once (default `count`).
    pub burst: u32,
}

impl Rate {
    /// `N/s`, `N/m` or `N/h`, N at least 1.
    pub(super) fn parse(text: &str) -> Result<Rate, String> {
        let fix = "write requests per period, e.g. \"10/s\", \"600/m\" or \"1000/h\"";
        let Some((count, unit)) = text.split_once('/') else {
            return Err(format!("{text:?} is not a rate; {fix}"));
        };
        let count: u32 = count
            .trim()
            .parse()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| {
                format!("{text:?}: `{count}` is not a whole number of at least 1; {fix}")
            })?;
        let per = match unit.trim() {
            "s" | "sec" | "second" => Duration::from_secs(1),
            "m" | "min" | "minute" => Duration::from_secs(60),
            "h" | "hour" => Duration::from_secs(3600),
            other => return Err(format!("{text:?}: `{other}` is not s, m or h; {fix}")),
        };
        Ok(Rate {
            count,
            per,
            burst: count,
        })
    }

    /// Tokens added per second.
    pub fn per_second(&self) -> f64 {
        f64::from(self.count) / self.per.as_secs_f64()
    }
}

impl std::fmt::Display for Rate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let unit = match self.per.as_secs() {
            1 => "s",
            60 => "m",
            _ => "h",
        };
        write!(f, "{}/{unit}", self.count)
    }
}
