//! Error types at the library boundary.
//!
//! Three kinds are kept apart:
//! - [`GuestError`]: what a plugin says went wrong (data, part of its answer);
//! - [`CallError`]: why the host could not get an answer from a plugin (a limit,
//!   a trap, a malformed answer) — shown to the client as a tool error;
//! - [`LoadError`]: why a plugin could not be loaded.
//!
//! Protocol errors (JSON-RPC errors to the client) are made in `protocol`.

use std::path::PathBuf;
use std::time::Duration;

use crate::config::ConfigError;

/// An error from a library below (wasmtime, tokio, rmcp), kept as the source.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// `error` and every cause under it, as `a: b: c`, for messages that are
/// shown as one line (the banner, the log, the CLI).
pub(crate) fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(next) = cause {
        let more = next.to_string();
        if !text.ends_with(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        cause = next.source();
    }
    text
}

/// A failure a plugin reports through the WIT `error` variant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GuestError {
    /// The arguments do not fit.
    #[error("invalid arguments: {0}")]
    InvalidParams(String),
    /// No such tool, resource or prompt.
    #[error("not found: {0}")]
    NotFound(String),
    /// A user-facing failure (FastMCP's ToolError); always shown.
    #[error("{0}")]
    ToolError(String),
    /// Anything else.
    #[error("internal plugin error: {0}")]
    Internal(String),
}

/// Why a call into a plugin produced no answer. Each names the cause.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum CallError {
    /// The plugin's own error.
    #[error(transparent)]
    Guest(#[from] GuestError),
    /// The fuel budget ran out.
    #[error("fuel limit of {0} instructions exhausted")]
    Fuel(u64),
    /// A memory.grow beyond the cap was refused, or the host memory the
    /// call held (resources, headers, buffers) went past it.
    #[error("memory limit of {} reached", crate::units::human_size(*.0))]
    Memory(u64),
    /// A `wasi:http` header set grew past its cap.
    #[error("HTTP fields limit of {} per header set exceeded", crate::units::human_size(*.0 as u64))]
    HttpFields(usize),
    /// No room in the host's memory budget within the call's timeout.
    #[error(
        "host memory budget of {} (total_memory) is in use: no room for this call's {} within its timeout of {}",
        crate::units::human_size(*.total),
        crate::units::human_size(*.memory),
        crate::units::human_duration(*.waited)
    )]
    Budget {
        /// The host memory budget, in bytes (`total_memory`).
        total: u64,
        /// The memory this call reserves, in bytes (the plugin's `memory` limit).
        memory: u64,
        /// How long the call waited for room (its timeout).
        waited: Duration,
    },
    /// The call held as many host resources (handles) as a call may.
    #[error("resource limit of {0} host handles per call reached")]
    Resources(usize),
    /// The wall-clock deadline passed.
    #[error("timeout of {} exceeded", crate::units::human_duration(*.0))]
    Timeout(Duration),
    /// A call running as an MCP task ran past the plugin's `task_timeout`.
    #[error("task_timeout of {} exceeded", crate::units::human_duration(*.0))]
    TaskTimeout(Duration),
    /// The answer was larger than allowed.
    #[error("output limit of {} exceeded (the answer was {})", crate::units::human_size(*.limit), crate::units::human_size(*.actual))]
    Output {
        /// The most bytes an answer may have (`max_output`).
        limit: u64,
        /// The size of the answer, in bytes.
        actual: u64,
    },
    /// The wasm call stack overflowed.
    #[error("stack limit of {} exceeded (stack overflow)", crate::units::human_size(*.0))]
    Stack(u64),
    /// Too many calls in flight for this plugin.
    #[error(
        "{kind} `{provider}` is busy: {limit} calls in flight and {queued} waiting (concurrency limit)"
    )]
    Busy {
        /// What kind of provider it is (`plugin`, `upstream`).
        kind: &'static str,
        /// The provider's name.
        provider: String,
        /// Calls it may run at once (`concurrency`).
        limit: usize,
        /// Calls that may wait for a turn (`queue`); all places were taken.
        queued: usize,
    },
    /// The provider's bucket of calls per period is empty.
    #[error(
        "{kind} `{provider}` is over its rate of {rate} (burst {}): try again in {}s (rate limit)",
        rate.burst,
        (retry_after.as_secs_f64().ceil() as u64).max(1)
    )]
    RateLimited {
        /// What kind of provider it is (`plugin`, `upstream`, `openapi`).
        kind: &'static str,
        /// The provider's name.
        provider: String,
        /// Its rate (`[limits] rate` and `burst`).
        rate: crate::config::Rate,
        /// How long until the next call would be admitted.
        retry_after: Duration,
    },
    /// Every instance slot of the process is in use.
    #[error(
        "instance pool of {0} is full: too many calls in flight across all plugins (pool limit)"
    )]
    Pool(u32),
    /// An upstream server or a REST API could not take the call (not
    /// connected, or the connection failed during it).
    #[error("{kind} `{provider}` is unavailable: {reason}")]
    Unavailable {
        /// What kind of provider it is (`upstream`, `openapi`).
        kind: &'static str,
        /// The upstream's or the OpenAPI spec's name.
        provider: String,
        /// What went wrong.
        reason: String,
    },
    /// The call was cancelled by the client.
    #[error("call cancelled")]
    Cancelled,
    /// The plugin trapped (panicked, hit `unreachable`, ...).
    #[error("plugin crashed: {0}")]
    Trap(String),
    /// The plugin answered something the host cannot use.
    #[error("plugin returned a malformed answer: {0}")]
    Malformed(String),
    /// The host failed to run the call (could not instantiate, ...).
    #[error("host failure: {0}")]
    Host(String),
}

impl CallError {
    /// The limit this error is a hit of, by its config name (`fuel`,
    /// `memory`, `timeout`, …); `None` when it is no limit.
    pub fn limit(&self) -> Option<&'static str> {
        Some(match self {
            CallError::Fuel(_) => "fuel",
            CallError::Memory(_) => "memory",
            CallError::HttpFields(_) => "http_fields",
            CallError::Budget { .. } => "total_memory",
            CallError::Resources(_) => "resources",
            CallError::Timeout(_) => "timeout",
            CallError::TaskTimeout(_) => "task_timeout",
            CallError::Output { .. } => "max_output",
            CallError::Stack(_) => "stack",
            CallError::Busy { .. } => "concurrency",
            CallError::RateLimited { .. } => "rate",
            CallError::Pool(_) => "pool",
            CallError::Guest(_)
            | CallError::Unavailable { .. }
            | CallError::Cancelled
            | CallError::Trap(_)
            | CallError::Malformed(_)
            | CallError::Host(_) => return None,
        })
    }

    /// Whether the client may see this error's details even when error
    /// masking is on (only the plugin's own user-facing messages).
    pub fn is_user_facing(&self) -> bool {
        matches!(
            self,
            CallError::Guest(GuestError::ToolError(_) | GuestError::InvalidParams(_))
        )
    }
}

/// Why a plugin could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The plugin file could not be read.
    #[error("{path}: cannot read: {source}")]
    Read {
        /// The plugin file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file does not have the `sha256` its config entry pins.
    #[error("{}: refused: {source}", path.display())]
    Pin {
        /// The plugin file.
        path: PathBuf,
        /// The digest mismatch ([`ConfigError::Digest`]).
        #[source]
        source: Box<ConfigError>,
    },
    /// The file is larger than `max_plugin_size`; it is not read.
    #[error("{}: the file is {}; plugin files of at most {} are loaded (max_plugin_size)", path.display(), crate::units::human_size(*.size), crate::units::human_size(*.max))]
    TooLarge {
        /// The plugin file.
        path: PathBuf,
        /// Its size, in bytes.
        size: u64,
        /// The largest size loaded, in bytes.
        max: u64,
    },
    /// The file does not start with the WebAssembly magic bytes.
    #[error("{path}: not a WebAssembly file")]
    NotWasm {
        /// The plugin file.
        path: PathBuf,
    },
    /// The file is a core module, not a component.
    #[error(
        "{path}: a core WebAssembly module, not a component; build it for wasm32-wasip2 or wrap it with `wasm-tools component new`"
    )]
    CoreModule {
        /// The plugin file.
        path: PathBuf,
    },
    /// The file's header names an unknown WebAssembly version or layer.
    #[error("{path}: invalid component: {reason}")]
    Invalid {
        /// The plugin file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The component failed to compile.
    #[error("{path}: invalid component: {}", chain(&**source))]
    Compile {
        /// The plugin file.
        path: PathBuf,
        /// The compiler's error.
        #[source]
        source: BoxError,
    },
    /// The component exports none of the `tools`, `resources` and `prompts`
    /// interfaces.
    #[error(
        "{path}: exports none of `corral:mcp/tools`, `corral:mcp/resources`, `corral:mcp/prompts` (it exports: {exports})"
    )]
    WrongWorld {
        /// The plugin file.
        path: PathBuf,
        /// What it exports instead, comma-separated (`nothing` if empty).
        exports: String,
    },
    /// The component imports something the host does not provide.
    #[error(
        "{path}: cannot link: {} (Corral provides WASI 0.2 — cli, clocks, random, io, filesystem, sockets — wasi:http and corral:mcp/context; no grant makes any other import available: rebuild the plugin without it)",
        chain(&**source)
    )]
    Link {
        /// The plugin file.
        path: PathBuf,
        /// The linker's error.
        #[source]
        source: BoxError,
    },
    /// An interface it exports does not have the types of the `corral:mcp`
    /// world.
    #[error("{path}: its exports do not match the corral:mcp world: {}", chain(&**source))]
    Exports {
        /// The plugin file.
        path: PathBuf,
        /// The type-check error.
        #[source]
        source: BoxError,
    },
    /// The sandbox its grants describe could not be set up (a granted
    /// directory could not be opened).
    #[error("{path}: {reason}")]
    Sandbox {
        /// The plugin file.
        path: PathBuf,
        /// Why, naming the directory.
        reason: String,
    },
    /// The call that asks the plugin what it offers failed.
    #[error("{path}: listing its {what} failed: {source}")]
    Listing {
        /// The plugin file.
        path: PathBuf,
        /// What was being listed.
        what: &'static str,
        /// Why the call failed.
        source: CallError,
    },
    /// What the provider offers breaks a bound, repeats a name or has an
    /// unusable schema or URI template.
    #[error("{path}: {reason}")]
    BadListing {
        /// Where the provider comes from (for a plugin, its file).
        path: PathBuf,
        /// What is wrong, naming the item.
        reason: String,
    },
    /// The plugin's memory limit is more than one plugin's share of the host
    /// memory budget, so no call of it could ever run.
    #[error("{}: its memory limit of {} is more than a plugin's share of the host memory budget ({} of {}); raise total_memory or lower memory", path.display(), crate::units::human_size(*.memory), crate::units::human_size(*.share), crate::units::human_size(*.total))]
    OverBudget {
        /// The plugin file.
        path: PathBuf,
        /// Its memory limit, in bytes.
        memory: u64,
        /// A plugin's share of the budget, in bytes.
        share: u64,
        /// The whole host memory budget, in bytes (`total_memory`).
        total: u64,
    },
    /// Something it serves clashes with what another provider already
    /// serves: a name, a URI, or a URI template matching the same URIs.
    #[error("{path}: {reason}")]
    Collision {
        /// Where the refused provider comes from (for a plugin, its file).
        path: PathBuf,
        /// What clashes, naming both providers.
        reason: String,
    },
    /// An OpenAPI spec could not be read, fetched, parsed or mapped.
    #[error("openapi.{name} ({}): {reason}", path.display())]
    Spec {
        /// Where the spec is (a file, or a URL).
        path: PathBuf,
        /// The `[openapi.NAME]` table.
        name: String,
        /// What went wrong, naming the operation when it is about one.
        reason: String,
    },
    /// A plugin directory could not be read.
    #[error("cannot read plugin directory {path}: {source}")]
    Dir {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

impl LoadError {
    /// The plugin file (or directory) the error is about.
    pub fn path(&self) -> &std::path::Path {
        match self {
            LoadError::Read { path, .. }
            | LoadError::Pin { path, .. }
            | LoadError::TooLarge { path, .. }
            | LoadError::NotWasm { path }
            | LoadError::CoreModule { path }
            | LoadError::Invalid { path, .. }
            | LoadError::Compile { path, .. }
            | LoadError::Sandbox { path, .. }
            | LoadError::Exports { path, .. }
            | LoadError::WrongWorld { path, .. }
            | LoadError::Link { path, .. }
            | LoadError::Listing { path, .. }
            | LoadError::BadListing { path, .. }
            | LoadError::OverBudget { path, .. }
            | LoadError::Collision { path, .. }
            | LoadError::Spec { path, .. }
            | LoadError::Dir { path, .. } => path,
        }
    }
}

/// Why the runtime could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RuntimeError {
    /// The WebAssembly engine could not be configured.
    #[error("cannot configure the WebAssembly engine ({what}): {}", chain(&**source))]
    Engine {
        /// The step that failed.
        what: &'static str,
        /// The engine's error.
        #[source]
        source: BoxError,
    },
}
