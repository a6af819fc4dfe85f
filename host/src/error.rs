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

/// A failure a plugin reports through the WIT `error` variant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
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
pub enum CallError {
    /// The plugin's own error.
    #[error(transparent)]
    Guest(#[from] GuestError),
    /// The fuel budget ran out.
    #[error("fuel limit of {0} instructions exhausted")]
    Fuel(u64),
    /// A memory.grow beyond the cap was refused, or the host memory the
    /// call held (resources, headers, buffers) went past it.
    #[error("memory limit of {} reached", crate::runtime::human_size(*.0))]
    Memory(u64),
    /// A `wasi:http` header set grew past its cap.
    #[error("HTTP fields limit of {} per header set exceeded", crate::runtime::human_size(*.0 as u64))]
    HttpFields(usize),
    /// No room in the host's memory budget within the call's timeout.
    #[error(
        "host memory budget of {} (total_memory) is in use: no room for this call's {} within its timeout of {}",
        crate::runtime::human_size(*.total),
        crate::runtime::human_size(*.memory),
        crate::runtime::human_duration(*.waited)
    )]
    Budget {
        total: u64,
        memory: u64,
        waited: Duration,
    },
    /// The call held as many host resources (handles) as a call may.
    #[error("resource limit of {0} host handles per call reached")]
    Resources(usize),
    /// The wall-clock deadline passed.
    #[error("timeout of {} exceeded", crate::runtime::human_duration(*.0))]
    Timeout(Duration),
    /// The answer was larger than allowed.
    #[error("output limit of {} exceeded (the answer was {})", crate::runtime::human_size(*.limit), crate::runtime::human_size(*.actual))]
    Output { limit: u64, actual: u64 },
    /// The wasm call stack overflowed.
    #[error("stack limit of {} exceeded (stack overflow)", crate::runtime::human_size(*.0))]
    Stack(u64),
    /// Too many calls in flight for this plugin.
    #[error(
        "plugin `{plugin}` is busy: {limit} calls in flight and {queued} waiting (concurrency limit)"
    )]
    Busy {
        plugin: String,
        limit: usize,
        queued: usize,
    },
    /// Every instance slot of the process is in use.
    #[error(
        "instance pool of {0} is full: too many calls in flight across all plugins (pool limit)"
    )]
    Pool(u32),
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
pub enum LoadError {
    #[error("{path}: cannot read: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: refused: {reason}", path.display())]
    Pin { path: PathBuf, reason: String },
    #[error("{}: the file is {}; plugin files of at most {} are loaded (max_plugin_size)", path.display(), crate::runtime::human_size(*.size), crate::runtime::human_size(*.max))]
    TooLarge { path: PathBuf, size: u64, max: u64 },
    #[error("{path}: not a WebAssembly file")]
    NotWasm { path: PathBuf },
    #[error(
        "{path}: a core WebAssembly module, not a component; build it for wasm32-wasip2 or wrap it with `wasm-tools component new`"
    )]
    CoreModule { path: PathBuf },
    #[error("{path}: invalid component: {reason}")]
    Invalid { path: PathBuf, reason: String },
    #[error(
        "{path}: exports none of `corral:mcp/tools`, `corral:mcp/resources`, `corral:mcp/prompts` (it exports: {exports})"
    )]
    WrongWorld { path: PathBuf, exports: String },
    #[error("{path}: cannot link: {reason}")]
    Link { path: PathBuf, reason: String },
    #[error("{path}: listing its {what} failed: {source}")]
    Listing {
        path: PathBuf,
        what: &'static str,
        source: CallError,
    },
    #[error("{path}: {reason}")]
    BadListing { path: PathBuf, reason: String },
    #[error("{}: its memory limit of {} is more than a plugin's share of the host memory budget ({} of {}); raise total_memory or lower memory", path.display(), crate::runtime::human_size(*.memory), crate::runtime::human_size(*.share), crate::runtime::human_size(*.total))]
    OverBudget {
        path: PathBuf,
        memory: u64,
        share: u64,
        total: u64,
    },
    #[error("{path}: {reason}")]
    Collision { path: PathBuf, reason: String },
    #[error("cannot read plugin directory {path}: {source}")]
    Dir {
        path: PathBuf,
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
            | LoadError::WrongWorld { path, .. }
            | LoadError::Link { path, .. }
            | LoadError::Listing { path, .. }
            | LoadError::BadListing { path, .. }
            | LoadError::OverBudget { path, .. }
            | LoadError::Collision { path, .. }
            | LoadError::Dir { path, .. } => path,
        }
    }
}

/// Why the runtime could not start.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("cannot configure the WebAssembly engine: {0}")]
    Engine(String),
}
