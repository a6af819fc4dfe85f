//! # Corral: an MCP server host for sandboxed WebAssembly plugins
//!
//! Corral loads WebAssembly components that implement the `corral:mcp` WIT
//! world and serves their tools, resources, resource templates and prompts
//! to MCP clients. Every call runs in a fresh instance with fuel, memory,
//! wall-clock and output limits, and no ambient authority: no filesystem,
//! environment or network unless granted.
//!
//! The pieces, in the order a request meets them:
//!
//! - [`CorralServer`]: the MCP server (rmcp) over stdio or HTTP, a thin
//!   adapter over the call service (validation, input rounds, output
//!   checks, masking);
//! - [`Catalog`]: what is served and by which [`Provider`], built by
//!   [`load`] or a [`Loader`];
//! - [`WasmPlugin`]: one compiled, pre-linked component, a [`Provider`];
//!   [`Upstream`] (an MCP server) and [`OpenApi`] (a REST API) are the others;
//! - [`Runtime`]: the engine, the linker and the per-call sandbox, with [`Limits`].
//!
//! ## Serving a directory of plugins over stdio
//!
//! ```no_run
//! use std::path::PathBuf;
//!
//! use corral::{Config, CorralServer, Runtime};
//!
//! #[tokio::main]
//! async fn main() -> anyhow::Result<()> {
//!     let runtime = Runtime::new()?;
//!     // Every .wasm in the directory, with default limits and no grants.
//!     let config = Config::default();
//!     let (catalog, errors) = corral::load(&runtime, &[PathBuf::from("plugins/dist")], &config).await;
//!     for error in &errors {
//!         eprintln!("skipped: {error}");
//!     }
//!     CorralServer::new(catalog, config.server)
//!         .serve_stdio()
//!         .await?;
//!     Ok(())
//! }
//! ```
//!
//! (That one serves until stdin closes, so it is only compiled here; the
//! next one runs as a test, against the example built by `cargo xtask
//! plugins`.)
//!
//! ## Calling a plugin directly, as a provider
//!
//! ```
//! use corral::{CallContext, Limits, Outcome, PluginConfig, Provider, Runtime, WasmPlugin};
//!
//! # #[tokio::main]
//! # async fn main() -> anyhow::Result<()> {
//! # std::env::set_current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))?;
//! let runtime = Runtime::new()?;
//! let spec = PluginConfig::for_file("plugins/dist/calculator-rust.wasm".as_ref(), Limits::default());
//! let plugin = WasmPlugin::load(&runtime, &spec).await?;
//! let arguments = serde_json::from_str(r#"{"a": 6, "b": 7}"#)?;
//! let outcome = plugin
//!     .call_tool("multiply", &arguments, None, &CallContext::default())
//!     .await?;
//! if let Outcome::Complete(result) = outcome {
//!     println!("{:?}", result.structured); // Some({"result": 42.0})
//! #   assert_eq!(result.structured, Some(serde_json::json!({"result": 42.0})));
//! # } else {
//! #   panic!("multiply asked for input");
//! }
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

mod audit;
mod auth;
mod bindings;
mod catalog;
pub mod client;
mod config;
pub mod distribution;
mod error;
#[cfg(test)]
mod fuzz_tests;
mod gate;
mod inspect;
mod loader;
mod model;
mod openapi;
mod otlp;
mod plugin;
mod protocol;
mod provider;
mod redis;
mod reload;
mod runtime;
mod service;
mod transport;
mod units;
mod upstream;
mod validation;

pub use audit::{
    AUDIT_FLUSH_WAIT, MAX_AUDIT_LINE, MAX_AUDIT_QUEUE, MAX_AUDIT_QUEUE_BYTES, MAX_SHAPE_DEPTH,
    MAX_SHAPE_KEY_BYTES, MAX_SHAPE_KEYS,
};
pub use auth::{
    AuthSetupError, Authenticator, Denial, JWKS_MIN_REFETCH, JWKS_REFRESH, JWKS_TIMEOUT,
    MAX_CACHED_TOKENS, MAX_JWKS_BYTES, MAX_JWKS_KEYS, MAX_TOKEN_BYTES, Principal,
};
pub use catalog::{Catalog, Mount, ResolvedResource, Served, prefix_uri, unprefix_uri};
pub use config::{
    AuditSettings, AuditTarget, AuthSettings, CONFIG_FILE_NAME, Config, ConfigError,
    DEFAULT_AUDIT_KEEP, DEFAULT_AUDIT_MAX_SIZE, DEFAULT_CONCURRENCY, DEFAULT_FUEL,
    DEFAULT_HEADER_TIMEOUT, DEFAULT_LEEWAY, DEFAULT_MAX_BODY, DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAX_OUTPUT, DEFAULT_MAX_SESSIONS, DEFAULT_MEMORY, DEFAULT_QUEUE, DEFAULT_SESSION_IDLE,
    DEFAULT_TASK_AFTER, DEFAULT_TASK_INPUT_TIMEOUT, DEFAULT_TASK_TIMEOUT, DEFAULT_TIMEOUT,
    DirGrant, EPOCH_TICK, Grants, HostPattern, HttpOptions, HttpTransport, JwksSource, JwtKeys,
    LOCK_FILE_NAME, Limits, Lock, Locked, LockedFile, MAX_MEMORY_CEILING, MIN_STATE_SECRET,
    OpenApiConfig, PathPattern, PluginConfig, RedisTarget, RouteKind, RouteMap, ServerSettings,
    SpecSource, StateKey, StaticToken, TagFilter, UpstreamConfig, UpstreamTarget,
};
pub use corral_uri_template::UriTemplate;
pub use error::{CallError, GuestError, LoadError, RuntimeError};
pub use inspect::{ImportPolicy, Inspection, import_policy, inspect};
pub use loader::{Loaded, Loader, PARALLEL_LOADS, load, plugin_spec};
pub use model::{
    Content, Icon, Input, InputRequest, InputRequired, JsonObject, Listing, LogLevel,
    MAX_DESCRIPTION_BYTES, MAX_ITEM_ENTRIES, MAX_LABEL_BYTES, MAX_LISTED_ITEMS,
    MAX_LISTED_URI_BYTES, MAX_LISTING_BYTES, MAX_NAME_BYTES, MAX_SCHEMA_BYTES, Outcome,
    PromptArgument, PromptDef, PromptMessage, PromptResult, ResourceBody, ResourceContents,
    ResourceDef, ResourceLink, Role, TaskSupport, TemplateDef, ToolAnnotations, ToolDef,
    ToolResult,
};
pub use openapi::{ERROR_EXCERPT, MAX_SPEC_SIZE, OpenApi};
pub use otlp::{
    MAX_SPAN_QUEUE, OTLP_FLUSH_WAIT, OtlpExporter, OtlpLayer, OtlpSettingError, OtlpSettings, otlp,
};
pub use plugin::{ITEM_BYTES, PROGRESS_MIN_BYTES, WasmPlugin};
pub use provider::{
    CallContext, CallFuture, CallObserver, CompletionRef, Files, Hosts, InputAsker, Load,
    MAX_AUDITED_FILES, MAX_AUDITED_HOSTS, MAX_AUDITED_NAME, Provider, Usage,
};
pub use redis::{MAX_REDIS_REPLY, REDIS_TIMEOUT, RedisError};
pub use reload::{FileWatch, RELOAD_DEBOUNCE, WatchError, watch};
pub use runtime::limits::{
    MAX_HTTP_FIELDS_BYTES, MAX_LOG_MESSAGE_BYTES, MAX_LOG_MESSAGES_PER_CALL, MAX_PROGRESS_PER_CALL,
    MAX_RESOURCES_PER_CALL, MAX_STDIO_BYTES_PER_CALL, MAX_TABLE_ELEMENTS, WASM_STACK,
};
pub use runtime::{
    CountingAllocator, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_PLUGIN_SIZE,
    DEFAULT_TOTAL_MEMORY_PERCENT, HostBytes, PLUGIN_SHARE_PERCENT, POOL_INSTANCES, Runtime,
    RuntimeOptions, accounting_installed, default_total_memory,
};
pub use service::{
    CALL_SPAN_TARGET, CONSOLE_QUEUE, MAX_CONSOLES, MAX_INPUT_ROUNDS, MAX_METRIC_NAMES,
    MAX_QUEUED_NOTIFICATIONS, MAX_TASK_RESULT_BYTES, MAX_TASKS, MAX_TASKS_PER_SESSION,
    REQUEST_STATE_TTL, TASK_POLL_INTERVAL, TASK_TTL,
};
pub use tokio_util::sync::CancellationToken;
pub use transport::http::{
    COMPLETED_STREAM_TTL, JSON_ANSWER_WAIT, MAX_LIMITED_CLIENTS, MAX_RESUMED_STREAMS,
    MAX_STORED_EVENT, MAX_STORED_EVENTS, RESUME_POLL_INTERVAL, SHUTDOWN_GRACE, SSE_QUEUE,
};
pub use transport::{CorralServer, MAX_LISTENERS, STDIO_PIPE_BYTES, ServeError};
pub use units::{human_duration, human_size, parse_duration, parse_size, printable};
pub use upstream::{
    DEPTH_VARIABLE, HEALTH_CHECK_INTERVAL, INITIAL_BACKOFF, MAX_BACKOFF, MAX_UPSTREAM_DEPTH,
    Upstream,
};
pub use validation::{MAX_REPORTED_VIOLATIONS, MAX_VIOLATION_BYTES};
