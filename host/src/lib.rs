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
//! - [`CorralServer`]: the MCP server (rmcp), over stdio today;
//! - [`Catalog`]: what is served and by which plugin, built by [`load`];
//! - [`WasmPlugin`]: one compiled, pre-linked component;
//! - [`Runtime`]: the engine, the linker and the per-call sandbox, with [`Limits`].
//!
//! ## Serving a directory of plugins over stdio
//!
//! ```no_run
//! use std::path::PathBuf;
//!
//! use corral::{Config, CorralServer, Runtime, ServerOptions};
//!
//! #[tokio::main]
//! async fn main() -> anyhow::Result<()> {
//!     let runtime = Runtime::new()?;
//!     // Every .wasm in the directory, with default limits and no grants.
//!     let (specs, _) = corral::plugin_specs(&[PathBuf::from("plugins/dist")], &Config::default());
//!     let (catalog, errors) = corral::load(&runtime, &specs, &Default::default()).await;
//!     for error in &errors {
//!         eprintln!("skipped: {error}");
//!     }
//!     CorralServer::new(catalog, ServerOptions::default())
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
//! ## Calling a plugin directly
//!
//! ```
//! use corral::{CallContext, Limits, Outcome, PluginConfig, Runtime, WasmPlugin};
//!
//! # #[tokio::main]
//! # async fn main() -> anyhow::Result<()> {
//! # std::env::set_current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))?;
//! let runtime = Runtime::new()?;
//! let spec = PluginConfig::for_file("plugins/dist/calculator-rust.wasm".as_ref(), Limits::default());
//! let plugin = WasmPlugin::load(&runtime, &spec).await?;
//! let outcome = plugin
//!     .call_tool("multiply", r#"{"a": 6, "b": 7}"#, None, &CallContext::default())
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

mod bindings;
mod catalog;
mod config;
mod error;
#[cfg(test)]
mod fuzz_tests;
mod http;
mod inspect;
mod model;
mod plugin;
mod protocol;
mod reload;
mod runtime;
mod server;
mod units;
mod validation;

pub use catalog::{
    Catalog, Mount, PARALLEL_LOADS, ResolvedResource, Served, ServedTemplate, TagFilter, load,
    plugin_files, plugin_specs, prefix_uri, unprefix_uri,
};
pub use config::{
    CONFIG_FILE_NAME, Config, ConfigError, DirGrant, Grants, HostPattern, PluginConfig,
    ServerSettings,
};
pub use corral_uri_template::UriTemplate;
pub use error::{CallError, GuestError, LoadError, RuntimeError};
pub use http::{
    BoundedSessions, DEFAULT_HEADER_TIMEOUT, DEFAULT_MAX_BODY, DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAX_SESSIONS, DEFAULT_SESSION_IDLE, HttpOptions, HttpTransport, JSON_ANSWER_WAIT,
    SHUTDOWN_GRACE, SSE_QUEUE,
};
pub use inspect::{ImportPolicy, Inspection, import_policy, inspect};
pub use model::{
    Content, Icon, Input, InputRequest, InputRequired, JsonObject, Listing, LogLevel, Outcome,
    PromptArgument, PromptDef, PromptMessage, PromptResult, ResourceBody, ResourceContents,
    ResourceDef, ResourceLink, Role, TemplateDef, ToolAnnotations, ToolDef, ToolResult,
};
pub use plugin::{
    CompletionRef, ITEM_BYTES, MAX_DESCRIPTION_BYTES, MAX_ITEM_ENTRIES, MAX_LABEL_BYTES,
    MAX_LISTED_ITEMS, MAX_LISTED_URI_BYTES, MAX_LISTING_BYTES, MAX_NAME_BYTES, MAX_SCHEMA_BYTES,
    PROGRESS_MIN_BYTES, WasmPlugin,
};
pub use reload::{FileWatch, RELOAD_DEBOUNCE, Reload, Reloader, WatchError, watch};
pub use runtime::limits::{
    DEFAULT_CONCURRENCY, DEFAULT_FUEL, DEFAULT_MAX_OUTPUT, DEFAULT_MEMORY, DEFAULT_QUEUE,
    DEFAULT_TIMEOUT, EPOCH_TICK, MAX_HTTP_FIELDS_BYTES, MAX_LOG_MESSAGE_BYTES,
    MAX_LOG_MESSAGES_PER_CALL, MAX_MEMORY_CEILING, MAX_PROGRESS_PER_CALL, MAX_RESOURCES_PER_CALL,
    MAX_STDIO_BYTES_PER_CALL, MAX_TABLE_ELEMENTS, WASM_STACK,
};
pub use runtime::{
    CallContext, CallObserver, CountingAllocator, DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_TOTAL_MEMORY_PERCENT, HostBytes, Limits, PLUGIN_SHARE_PERCENT, POOL_INSTANCES, Runtime,
    accounting_installed, default_total_memory, human_duration, human_size,
};
pub use server::{
    CorralServer, MAX_INPUT_ROUNDS, MAX_LISTENERS, MAX_QUEUED_NOTIFICATIONS, REQUEST_STATE_TTL,
    STDIO_PIPE_BYTES, ServeError, ServerOptions,
};
pub use tokio_util::sync::CancellationToken;
pub use units::{parse_duration, parse_size, printable};
pub use validation::{MAX_REPORTED_VIOLATIONS, MAX_VIOLATION_BYTES};
