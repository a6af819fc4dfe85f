//! `corral.toml`: the server's configuration, read in two phases like Spin's
//! manifest → locked app.
//!
//! 1. **Raw** (`raw`): serde structs that mirror the file, with
//!    `deny_unknown_fields` at every level, so a misspelt key is an error
//!    that lists the keys allowed there.
//! 2. **Resolved** (`resolve`): [`Config`], with defaults filled in, human
//!    units (`64MiB`, `10s`) turned into numbers, relative paths made absolute
//!    against the config file's directory and everything a user can get wrong
//!    checked. Each error names the file, the line, the dotted key
//!    (`plugins.weather.limits.memory`) and what is allowed.
//!
//! Limits cascade: [`Limits::default`] ← `[limits]` ← `[plugins.X].limits`.

mod audit;
mod auth;
mod host_pattern;
mod http;
mod limits;
mod lock;
mod openapi;
mod raw;
mod resolve;
mod sessions;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::model::Icon;

pub use audit::{AuditSettings, AuditTarget, DEFAULT_AUDIT_KEEP, DEFAULT_AUDIT_MAX_SIZE};
pub use auth::{AuthSettings, DEFAULT_LEEWAY, JwksSource, JwtKeys, StaticToken, TokenView};
pub use host_pattern::HostPattern;
pub use http::{
    ClientLimits, DEFAULT_HEADER_TIMEOUT, DEFAULT_MAX_BODY, DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAX_SESSIONS, DEFAULT_SESSION_IDLE, HttpOptions, HttpTransport,
};
pub use limits::{
    DEFAULT_CONCURRENCY, DEFAULT_FUEL, DEFAULT_MAX_OUTPUT, DEFAULT_MEMORY, DEFAULT_QUEUE,
    DEFAULT_TASK_TIMEOUT, DEFAULT_TIMEOUT, EPOCH_TICK, Limits, MAX_MEMORY_CEILING, Rate,
};
pub use lock::{LOCK_FILE_NAME, Lock, Locked};
pub use openapi::{OpenApiConfig, PathPattern, RouteKind, RouteMap, SpecSource};
pub(crate) use resolve::{is_env_name, parse_sha256};
pub use sessions::{MIN_STATE_SECRET, RedisTarget, StateKey};

/// The file name [`Config::discover`] looks for.
pub const CONFIG_FILE_NAME: &str = "corral.toml";
/// Default of `[server] task_after`: a task-capable call that has not
/// answered within this long becomes a task (for clients that support
/// tasks); a faster one answers in its request, as any call does.
pub const DEFAULT_TASK_AFTER: Duration = Duration::from_millis(250);
/// Default of `[server] task_input_timeout`: how long a task waits for the
/// client's answers to its input requests before it fails (it holds no
/// instance meanwhile, only its record).
pub const DEFAULT_TASK_INPUT_TIMEOUT: Duration = Duration::from_secs(600);
/// The whole configuration, resolved and checked.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Config {
    /// `[server]`, without its `http` table.
    pub server: ServerSettings,
    /// `[server.http]` (the transport itself is chosen on the command line).
    pub http: HttpOptions,
    /// `[limits]` over [`Limits::default`]: the limits of plugins that do not
    /// set their own, including those found in `plugin_dirs`.
    pub limits: Limits,
    /// `[limits] total_memory`: the host memory budget all calls share
    /// (`None`: half the memory of the machine or cgroup).
    pub total_memory: Option<u64>,
    /// `[limits] max_plugin_size`: the largest plugin file loaded (`None`:
    /// 256 MiB).
    pub max_plugin_size: Option<u64>,
    /// `server.plugin_dirs`, absolute: every `.wasm` in them is served with
    /// the defaults (no grants, `limits`).
    pub plugin_dirs: Vec<PathBuf>,
    /// `[plugins.*]`, in the order they appear in the file.
    pub plugins: Vec<PluginConfig>,
    /// `[upstreams.*]`, in the order they appear in the file.
    pub upstreams: Vec<UpstreamConfig>,
    /// `[openapi.*]`, in the order they appear in the file.
    pub openapi: Vec<OpenApiConfig>,
    /// `corral.lock`, if there is one (see [`Config::attach_lock`]).
    pub lock: Option<Lock>,
}

/// `[server]`, with the command line's flags over it: what the server says
/// about itself and how it serves. The one settings struct of the server;
/// [`CorralServer`](crate::CorralServer) takes it as it is.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerSettings {
    /// `serverInfo.name` (default: `corral`).
    pub name: String,
    /// `serverInfo.title`.
    pub title: Option<String>,
    /// `serverInfo.version` (default: Corral's version).
    pub version: String,
    /// `serverInfo.websiteUrl`.
    pub website_url: Option<String>,
    /// `serverInfo.icons`.
    pub icons: Vec<Icon>,
    /// Instructions for the client's model.
    pub instructions: Option<String>,
    /// Hide internal error details (traps, host failures) from clients.
    pub mask_error_details: bool,
    /// Which components are served, by tag (`include_tags`, `exclude_tags`).
    pub tags: TagFilter,
    /// Items per page of list results; `None`: unpaginated.
    pub page_size: Option<usize>,
    /// How long a call to a task-capable tool may run within its request
    /// before the client gets a task for it instead (when the client
    /// supports tasks); zero makes every such call a task at once.
    pub task_after: Duration,
    /// How long a task waits for the client's answers to its input requests.
    pub task_input_timeout: Duration,
    /// Refuse every plugin that is not in `corral.lock` with a verified
    /// signer.
    pub require_signatures: bool,
    /// `[server.sessions] request_state_key_env`: the key that seals
    /// `requestState`, shared by the processes that have the same secret
    /// (`None`: a random key of this process's own).
    pub request_state_key: Option<StateKey>,
    /// Advertise `listChanged` and announce changes made with
    /// [`CorralServer::replace_catalog`](crate::CorralServer::replace_catalog).
    /// Not a key of the file: on when the served lists can change
    /// (`corral dev`), because a server advertises only what it does.
    pub list_changed: bool,
    /// `[server.audit]`: the audit log (`None`: none).
    pub audit: Option<AuditSettings>,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            name: "corral".into(),
            title: None,
            version: env!("CARGO_PKG_VERSION").into(),
            website_url: None,
            icons: Vec::new(),
            instructions: None,
            mask_error_details: false,
            tags: TagFilter::default(),
            page_size: None,
            task_after: DEFAULT_TASK_AFTER,
            task_input_timeout: DEFAULT_TASK_INPUT_TIMEOUT,
            require_signatures: false,
            request_state_key: None,
            list_changed: false,
            audit: None,
        }
    }
}

/// Which components are served, by tag. Exclude wins over include; an empty
/// include list includes everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TagFilter {
    /// Serve only components with at least one of these tags (empty: all).
    pub include: Vec<String>,
    /// Never serve components with any of these tags.
    pub exclude: Vec<String>,
}

impl TagFilter {
    /// Whether a component with `tags` is served.
    pub fn allows(&self, tags: &[String]) -> bool {
        !tags.iter().any(|t| self.exclude.contains(t))
            && (self.include.is_empty() || tags.iter().any(|t| self.include.contains(t)))
    }
}

/// One `[plugins.NAME]` table.
#[derive(Debug, Clone, PartialEq)]
pub struct PluginConfig {
    /// The table's name (`weather` in `[plugins.weather]`).
    pub name: String,
    /// The component file, absolute and canonical.
    pub path: PathBuf,
    /// Prefix for the names of what it serves.
    pub prefix: Option<String>,
    /// Tags for `server.include_tags` / `server.exclude_tags`.
    pub tags: Vec<String>,
    /// `false`: configured but not served.
    pub enabled: bool,
    /// Tools, resources or prompts of this plugin not to serve.
    pub disabled_components: Vec<String>,
    /// Keep instances between calls instead of a fresh one per call: much
    /// faster for large components (Python, JS), but a plugin's memory and
    /// WASI state then outlive a call and are seen by the next caller.
    pub instance_reuse: bool,
    /// Defaults ← `[limits]` ← this plugin's `limits`.
    pub limits: Limits,
    /// What the sandbox lets it reach.
    pub grants: Grants,
    /// The pinned sha256 of the file, if any.
    pub sha256: Option<[u8; 32]>,
    /// What `corral.lock` says of this file: set by the loader, not a key
    /// of the config.
    pub locked: Option<LockedFile>,
    /// Refuse the file unless it is locked with a signer (`[server]
    /// require_signatures`, applied by the loader).
    pub require_signed: bool,
}

/// A plugin file's entry in `corral.lock`, as the loader checks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockedFile {
    /// The entry's name in the lock.
    pub name: String,
    /// Where it came from.
    pub reference: String,
    /// The locked sha256 of the file.
    pub sha256: [u8; 32],
    /// Who signed it, if anyone was verified.
    pub signer: Option<String>,
}

/// One `[upstreams.NAME]` table: an MCP server whose tools, resources,
/// templates and prompts are served as if they were a plugin's.
#[derive(Clone, PartialEq)]
pub struct UpstreamConfig {
    /// The table's name (`search` in `[upstreams.search]`).
    pub name: String,
    /// How to reach it.
    pub target: UpstreamTarget,
    /// Prefix for the names of what it serves.
    pub prefix: Option<String>,
    /// Tags for `server.include_tags` / `server.exclude_tags`.
    pub tags: Vec<String>,
    /// `false`: configured but not connected to.
    pub enabled: bool,
    /// Tools, resources or prompts of this upstream not to serve.
    pub disabled_components: Vec<String>,
    /// The longest a connection, a listing or one forwarded request may take.
    pub timeout: Duration,
    /// The largest answer accepted from it, in bytes of JSON.
    pub max_output: u64,
    /// Calls forwarded to it at once (`[limits] concurrency`).
    pub concurrency: usize,
    /// Calls that may wait for a turn; more are refused as busy
    /// (`[limits] queue`).
    pub queue: usize,
    /// Calls forwarded to it per period (`[limits] rate`; `None`:
    /// unlimited).
    pub rate: Option<Rate>,
}

/// Where an upstream is.
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub enum UpstreamTarget {
    /// A command spoken to over its stdin and stdout.
    Command {
        /// The program (looked up in `PATH` when it has no `/`).
        program: String,
        /// Its arguments.
        args: Vec<String>,
        /// Names of the host environment variables it gets; nothing else
        /// is inherited.
        env: Vec<String>,
        /// The directory it runs in: the config file's.
        dir: PathBuf,
    },
    /// A Streamable HTTP endpoint.
    Url {
        /// `http://` or `https://`.
        url: String,
        /// Headers sent with every request (`${VAR}` already replaced by the
        /// variable's value; never printed).
        headers: Vec<(String, String)>,
    },
}

impl std::fmt::Display for UpstreamTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UpstreamTarget::Command { program, args, .. } => {
                write!(f, "{program}")?;
                for arg in args {
                    write!(f, " {arg}")?;
                }
                Ok(())
            }
            UpstreamTarget::Url { url, .. } => f.write_str(url),
        }
    }
}

/// Headers from the config (`headers = { NAME = "..." }` of an upstream or
/// an OpenAPI spec) as requests carry them, every value marked sensitive so
/// that HTTP clients never print it.
pub(crate) fn sensitive_headers(headers: &[(String, String)]) -> Result<::http::HeaderMap, String> {
    let mut map = ::http::HeaderMap::new();
    for (name, value) in headers {
        let name = ::http::HeaderName::try_from(name.as_str())
            .map_err(|e| format!("header `{name}`: {e}"))?;
        let mut value = ::http::HeaderValue::try_from(value.as_str())
            .map_err(|e| format!("header `{name}`: {e}"))?;
        value.set_sensitive(true);
        map.insert(name, value);
    }
    Ok(map)
}

/// Header values may hold secrets: they are shown by name only.
impl std::fmt::Debug for UpstreamTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UpstreamTarget::Command {
                program,
                args,
                env,
                dir,
            } => f
                .debug_struct("Command")
                .field("program", program)
                .field("args", args)
                .field("env", env)
                .field("dir", dir)
                .finish(),
            UpstreamTarget::Url { url, headers } => f
                .debug_struct("Url")
                .field("url", url)
                .field(
                    "headers",
                    &headers.iter().map(|(name, _)| name).collect::<Vec<_>>(),
                )
                .finish(),
        }
    }
}

impl std::fmt::Debug for UpstreamConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamConfig")
            .field("name", &self.name)
            .field("target", &self.target)
            .field("prefix", &self.prefix)
            .field("tags", &self.tags)
            .field("enabled", &self.enabled)
            .field("disabled_components", &self.disabled_components)
            .field("timeout", &self.timeout)
            .field("max_output", &self.max_output)
            .field("concurrency", &self.concurrency)
            .field("queue", &self.queue)
            .field("rate", &self.rate)
            .finish()
    }
}

/// What a plugin is granted beyond the default sandbox.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Grants {
    /// Preopened directories, sorted by guest path.
    pub dirs: Vec<DirGrant>,
    /// Names of host environment variables passed through.
    pub env: Vec<String>,
    /// Hosts outgoing HTTP may reach.
    pub allow_hosts: Vec<HostPattern>,
}

/// A preopened directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirGrant {
    /// Where the guest sees it: absolute, no `..`.
    pub guest: String,
    /// The host directory, absolute and canonical.
    pub host: PathBuf,
    /// `mode = "ro"` (the default) rather than `"rw"`.
    pub read_only: bool,
}

/// Why `corral.toml` could not be used. Each names the file and, where there
/// is one, the line and the dotted key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{}: cannot read the config file: {source}", file.display())]
    Read {
        /// The config file.
        file: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Not TOML, or not the shape of a `corral.toml` (unknown key, wrong type).
    #[error(
        "{}:{line}:{column}: {}{message}",
        file.display(),
        key.as_ref().map(|k| format!("{k}: ")).unwrap_or_default()
    )]
    Parse {
        /// The config file.
        file: PathBuf,
        /// 1-based.
        line: usize,
        /// 1-based, in characters.
        column: usize,
        /// The dotted key the error is at, when it is at one.
        key: Option<String>,
        /// What is wrong, as the TOML parser or deserializer says it.
        message: String,
    },
    /// Well-formed but not acceptable; `message` says what is allowed.
    #[error(
        "{}{}: {key}: {message}",
        file.display(),
        line.map(|l| format!(":{l}")).unwrap_or_default()
    )]
    Invalid {
        /// The config file.
        file: PathBuf,
        /// 1-based line of the key, when known.
        line: Option<usize>,
        /// Dotted path, e.g. `plugins.weather.limits.memory`.
        key: String,
        /// What is wrong and what is allowed.
        message: String,
    },
    /// A plugin file does not have the pinned digest.
    #[error(
        "plugin `{plugin}` ({}) has sha256 {actual} but is pinned to {expected}; if this build is trusted, set `plugins.{plugin}.sha256 = \"{actual}\"` in the config, otherwise restore the pinned file",
        path.display()
    )]
    Digest {
        /// The plugin's name (its `[plugins.NAME]` table).
        plugin: String,
        /// The plugin file.
        path: PathBuf,
        /// The pinned sha256, in hex.
        expected: String,
        /// The file's sha256, in hex.
        actual: String,
    },
    /// A plugin file does not have the digest `corral.lock` locks it to.
    #[error(
        "plugin `{plugin}` ({}) has sha256 {actual} but corral.lock locks it to {expected} ({reference}); refusing it. Run `corral update {plugin}` to fetch and verify the locked reference again, or remove its entry from corral.lock",
        path.display()
    )]
    LockedDigest {
        /// The plugin's name in the lock.
        plugin: String,
        /// The plugin file.
        path: PathBuf,
        /// Where the locked version came from.
        reference: String,
        /// The locked sha256, in hex.
        expected: String,
        /// The file's sha256, in hex.
        actual: String,
    },
    /// `require_signatures` is on and the plugin is not locked with a signer.
    #[error(
        "plugin `{plugin}` ({}) is not in corral.lock with a verified signature, and [server] require_signatures = true; add it with `corral add oci://… --key KEY.pub`",
        path.display()
    )]
    Unsigned {
        /// The plugin's name.
        plugin: String,
        /// The plugin file.
        path: PathBuf,
    },
}

impl Config {
    /// Read and resolve a config file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            file: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Resolve config text; `file` names it in errors and relative paths are
    /// resolved against its directory.
    pub fn parse(text: &str, file: &Path) -> Result<Config, ConfigError> {
        resolve::parse(text, file)
    }

    /// Read `corral.lock` into [`Config::lock`]: the one next to
    /// `config_file` if it is given, else the one in `cwd`. No lock is no
    /// error; a lock that does not parse is.
    pub fn attach_lock(
        &mut self,
        config_file: Option<&Path>,
        cwd: &Path,
    ) -> Result<(), ConfigError> {
        let dir = config_file
            .and_then(Path::parent)
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(cwd);
        self.lock = Lock::read(&dir.join(LOCK_FILE_NAME))?;
        Ok(())
    }

    /// `corral.toml` in `cwd`, if there is one.
    pub fn discover(cwd: &Path) -> Option<PathBuf> {
        let candidate = cwd.join(CONFIG_FILE_NAME);
        candidate.is_file().then_some(candidate)
    }
}

impl PluginConfig {
    /// A plugin file with no config entry: named after its file stem, the
    /// given limits, no prefix, no tags, no grants, no pin.
    pub fn for_file(path: &Path, limits: Limits) -> Self {
        Self {
            name: path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "plugin".into()),
            path: path.to_owned(),
            prefix: None,
            tags: Vec::new(),
            enabled: true,
            disabled_components: Vec::new(),
            instance_reuse: false,
            limits,
            grants: Grants::default(),
            sha256: None,
            locked: None,
            require_signed: false,
        }
    }

    /// Check `bytes` (the plugin file's content) against the `sha256` pin;
    /// always passes without a pin.
    pub fn verify_sha256(&self, bytes: &[u8]) -> Result<(), ConfigError> {
        if self.sha256.is_none() {
            return Ok(());
        }
        self.verify_digest(&Sha256::digest(bytes).into())
    }

    /// [`PluginConfig::verify_sha256`] for a file whose sha256 is `actual`;
    /// also checks `corral.lock`'s digest and `require_signatures`.
    pub fn verify_digest(&self, actual: &[u8; 32]) -> Result<(), ConfigError> {
        if let Some(expected) = self.sha256
            && *actual != expected
        {
            return Err(ConfigError::Digest {
                plugin: self.name.clone(),
                path: self.path.clone(),
                expected: hex(&expected),
                actual: hex(actual),
            });
        }
        if let Some(locked) = &self.locked
            && *actual != locked.sha256
        {
            return Err(ConfigError::LockedDigest {
                plugin: locked.name.clone(),
                path: self.path.clone(),
                reference: locked.reference.clone(),
                expected: hex(&locked.sha256),
                actual: hex(actual),
            });
        }
        if self.require_signed && self.locked.as_ref().is_none_or(|l| l.signer.is_none()) {
            return Err(ConfigError::Unsigned {
                plugin: self.name.clone(),
                path: self.path.clone(),
            });
        }
        Ok(())
    }
}

/// Lowercase hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
