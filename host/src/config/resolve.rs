//! Phase 2: raw → [`Config`]. Fills in defaults, converts units, resolves
//! paths against the config file's directory and checks everything, naming
//! the file, line and dotted key in every error.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::host_pattern::is_host_name;
use super::raw::{Num, RawConfig, RawDir, RawHttp, RawLimits, RawPlugin, RawServer, RawUpstream};

use super::limits::{EPOCH_TICK, Limits, MAX_MEMORY_CEILING};
use super::{
    Config, ConfigError, DirGrant, Grants, HostPattern, HttpOptions, PluginConfig, ServerSettings,
    TagFilter, UpstreamConfig, UpstreamTarget,
};
use crate::units::{parse_duration, parse_size};

pub(super) fn parse(text: &str, file: &Path) -> Result<Config> {
    let locator = Locator { text, root: None };
    let doc = DeTable::parse(text).map_err(|e| locator.parse_error(file, &e))?;
    let locator = Locator {
        text,
        root: Some(doc.get_ref().clone()),
    };
    let raw = RawConfig::deserialize(toml::de::Deserializer::from(doc))
        .map_err(|e| locator.parse_error(file, &e))?;
    let base = match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let base = std::path::absolute(&base).unwrap_or(base);
    Resolver {
        file,
        base,
        locator,
    }
    .config(raw)
}

/// Finds lines and keys in the parsed document.
struct Locator<'a> {
    text: &'a str,
    root: Option<DeTable<'a>>,
}

impl Locator<'_> {
    fn line_column(&self, offset: usize) -> (usize, usize) {
        let mut end = offset.min(self.text.len());
        while !self.text.is_char_boundary(end) {
            end -= 1;
        }
        let before = &self.text[..end];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
        (line, column)
    }

    fn parse_error(&self, file: &Path, error: &toml::de::Error) -> ConfigError {
        let offset = error.span().map_or(0, |span| span.start);
        let (line, column) = self.line_column(offset);
        let key = self.root.as_ref().and_then(|root| {
            let mut best = None;
            key_at(root, offset, &mut Vec::new(), &mut best);
            best.map(|(_, path)| render_key(&path))
        });
        let message = match &self.root {
            None => format!("invalid TOML: {}", error.message().trim_end()),
            Some(_) => error.message().trim_end().to_owned(),
        };
        ConfigError::Parse {
            file: file.to_path_buf(),
            line,
            column,
            key,
            message,
        }
    }

    /// The line of the deepest key of `path` present in the file, or of item
    /// `index` of the array there.
    fn line_of(&self, path: &[&str], index: Option<usize>) -> Option<usize> {
        let mut table = self.root.as_ref()?;
        let mut offset = None;
        for (depth, segment) in path.iter().enumerate() {
            let Some((key, value)) = table.get_key_value(*segment) else {
                break;
            };
            offset = Some(key.span().start);
            match value.get_ref() {
                DeValue::Table(inner) => table = inner,
                DeValue::Array(items) if depth + 1 == path.len() => {
                    if let Some(item) = index.and_then(|i| items.get(i)) {
                        offset = Some(item.span().start);
                    }
                    break;
                }
                _ => break,
            }
        }
        offset.map(|o| self.line_column(o).0)
    }

    /// Names of the entries of the table at `key`, in the file's order.
    fn order(&self, key: &str) -> Vec<String> {
        let Some(DeValue::Table(table)) = self
            .root
            .as_ref()
            .and_then(|root| root.get(key))
            .map(Spanned::get_ref)
        else {
            return Vec::new();
        };
        let mut keys: Vec<_> = table.keys().collect();
        keys.sort_by_key(|k| k.span().start);
        keys.into_iter().map(|k| k.get_ref().to_string()).collect()
    }
}

/// The deepest key path whose key (preferred) or value span holds `offset`.
fn key_at(
    table: &DeTable<'_>,
    offset: usize,
    path: &mut Vec<String>,
    best: &mut Option<(bool, Vec<String>)>,
) {
    for (key, value) in table.iter() {
        path.push(key.get_ref().to_string());
        let on_key = key.span().contains(&offset);
        let in_value = value.span().contains(&offset);
        if on_key || in_value {
            let better = match best {
                None => true,
                Some((best_on_key, best_path)) => {
                    (on_key && !*best_on_key)
                        || (on_key == *best_on_key && path.len() > best_path.len())
                }
            };
            if better {
                *best = Some((on_key, path.clone()));
            }
        }
        match value.get_ref() {
            DeValue::Table(inner) => key_at(inner, offset, path, best),
            DeValue::Array(items) => {
                for item in items.iter() {
                    if let DeValue::Table(inner) = item.get_ref() {
                        key_at(inner, offset, path, best);
                    }
                }
            }
            _ => {}
        }
        path.pop();
    }
}

/// `plugins.weather.dirs."/data".mode`: bare segments where TOML allows.
fn render_key<S: AsRef<str>>(path: &[S]) -> String {
    path.iter()
        .map(|s| {
            let s = s.as_ref();
            if is_name(s) {
                s.to_owned()
            } else {
                format!("{s:?}")
            }
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// `[A-Za-z0-9_-]+`: plugin names, prefixes, bare TOML keys.
pub(super) fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Whether `s` is an environment variable name (letters, digits, `_`, not
/// starting with a digit).
pub(crate) fn is_env_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `Bearer ${TOKEN}` with the variable's value in place; an unset variable
/// is an error naming it.
fn expand_env(text: &str) -> std::result::Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            return Err(format!("`${{` without `}}` in {text:?}; write `${{NAME}}`"));
        };
        let name = &after[..end];
        if !is_env_name(name) {
            return Err(format!(
                "`${{{name}}}` is not an environment variable reference; write `${{NAME}}`"
            ));
        }
        match std::env::var(name) {
            Ok(value) => out.push_str(&value),
            Err(_) => {
                return Err(format!(
                    "uses the environment variable `{name}`, which is not set; set it before starting Corral"
                ));
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

pub(super) struct Resolver<'a> {
    file: &'a Path,
    pub(super) base: PathBuf,
    locator: Locator<'a>,
}

pub(super) type Result<T> = std::result::Result<T, ConfigError>;

impl Resolver<'_> {
    pub(super) fn invalid(&self, key: &[&str], message: impl Into<String>) -> ConfigError {
        self.invalid_item(key, None, message)
    }

    pub(super) fn invalid_item(
        &self,
        key: &[&str],
        index: Option<usize>,
        message: impl Into<String>,
    ) -> ConfigError {
        ConfigError::Invalid {
            file: self.file.to_path_buf(),
            line: self.locator.line_of(key, index),
            key: render_key(key),
            message: message.into(),
        }
    }

    fn config(&self, raw: RawConfig) -> Result<Config> {
        let mut server = self.server(&raw.server)?;
        let mut http = self.http(&raw.server.http)?;
        http.auth = raw.server.auth.as_ref().map(|a| self.auth(a)).transpose()?;
        (http.session_store, server.request_state_key) = self.sessions(&raw.server.sessions)?;
        let plugin_dirs = raw
            .server
            .plugin_dirs
            .iter()
            .enumerate()
            .map(|(i, dir)| self.existing(&["server", "plugin_dirs"], Some(i), dir, true))
            .collect::<Result<_>>()?;
        let limits = self.limits(&Limits::default(), &raw.limits, &["limits"])?;
        let total_memory = raw
            .limits
            .total_memory
            .as_ref()
            .map(|v| self.size(&["limits", "total_memory"], v, 1))
            .transpose()?;
        let max_plugin_size = raw
            .limits
            .max_plugin_size
            .as_ref()
            .map(|v| self.size(&["limits", "max_plugin_size"], v, 8))
            .transpose()?;
        let mut by_name = raw.plugins;
        let mut plugins = Vec::with_capacity(by_name.len());
        let mut seen: HashMap<PathBuf, String> = HashMap::new();
        for name in self.locator.order("plugins") {
            let Some(raw) = by_name.remove(&name) else {
                continue;
            };
            let plugin = self.plugin(&name, &raw, &limits)?;
            if let Some(first) = seen.insert(plugin.path.clone(), name.clone()) {
                return Err(self.invalid(
                    &["plugins", &name, "path"],
                    format!(
                        "{} is already served by `plugins.{first}`; serve each file once (remove one of the two tables)",
                        plugin.path.display()
                    ),
                ));
            }
            plugins.push(plugin);
        }
        let mut by_name = raw.upstreams;
        let mut upstreams = Vec::with_capacity(by_name.len());
        for name in self.locator.order("upstreams") {
            let Some(raw) = by_name.remove(&name) else {
                continue;
            };
            if plugins.iter().any(|p| p.name == name) {
                return Err(self.invalid(
                    &["upstreams", &name],
                    format!("`{name}` is also the name of `plugins.{name}`; give every plugin and upstream its own name"),
                ));
            }
            upstreams.push(self.upstream(&name, &raw, &limits)?);
        }
        let mut by_name = raw.openapi;
        let mut openapi = Vec::with_capacity(by_name.len());
        for name in self.locator.order("openapi") {
            let Some(raw) = by_name.remove(&name) else {
                continue;
            };
            let taken = if plugins.iter().any(|p| p.name == name) {
                Some("plugins")
            } else if upstreams.iter().any(|u| u.name == name) {
                Some("upstreams")
            } else {
                None
            };
            if let Some(table) = taken {
                return Err(self.invalid(
                    &["openapi", &name],
                    format!("`{name}` is also the name of `{table}.{name}`; give every plugin, upstream and OpenAPI spec its own name"),
                ));
            }
            openapi.push(self.openapi(&name, &raw, &limits)?);
        }
        Ok(Config {
            server,
            http,
            limits,
            total_memory,
            max_plugin_size,
            plugin_dirs,
            plugins,
            upstreams,
            openapi,
            lock: None,
        })
    }

    fn server(&self, raw: &RawServer) -> Result<ServerSettings> {
        if raw.name.as_deref().is_some_and(|n| n.trim().is_empty()) {
            return Err(self.invalid(
                &["server", "name"],
                "is empty; give the server a name, or leave the key out for the default",
            ));
        }
        self.words(&["server", "include_tags"], &raw.include_tags)?;
        self.words(&["server", "exclude_tags"], &raw.exclude_tags)?;
        let page_size = raw
            .page_size
            .as_ref()
            .map(|v| self.count(&["server", "page_size"], v, 1))
            .transpose()?;
        let defaults = ServerSettings::default();
        let task_after = match &raw.task_after {
            Some(v) => self.duration(&["server", "task_after"], v, Duration::ZERO)?,
            None => defaults.task_after,
        };
        let task_input_timeout = match &raw.task_input_timeout {
            Some(v) => self.duration(&["server", "task_input_timeout"], v, EPOCH_TICK)?,
            None => defaults.task_input_timeout,
        };
        Ok(ServerSettings {
            name: raw.name.clone().unwrap_or(defaults.name),
            title: raw.title.clone(),
            version: raw.version.clone().unwrap_or(defaults.version),
            website_url: raw.website_url.clone(),
            icons: raw
                .icons
                .iter()
                .map(|i| crate::model::Icon {
                    src: i.src.clone(),
                    mime_type: i.mime_type.clone(),
                    sizes: i.sizes.clone(),
                })
                .collect(),
            instructions: raw.instructions.clone(),
            mask_error_details: raw.mask_error_details,
            tags: TagFilter {
                include: raw.include_tags.clone(),
                exclude: raw.exclude_tags.clone(),
            },
            page_size: page_size.map(to_usize),
            task_after,
            task_input_timeout,
            require_signatures: raw.require_signatures,
            request_state_key: None,
            list_changed: false,
            audit: raw.audit.as_ref().map(|a| self.audit(a)).transpose()?,
        })
    }

    fn http(&self, raw: &RawHttp) -> Result<HttpOptions> {
        let mut http = HttpOptions::default();
        let key = |field| ["server", "http", field];
        if let Some(host) = &raw.host {
            if host.parse::<IpAddr>().is_err() && !is_host_name(host) {
                return Err(self.invalid(
                    &key("host"),
                    format!("{host:?} is neither an IP address nor a host name; use e.g. \"127.0.0.1\", \"0.0.0.0\" or \"localhost\""),
                ));
            }
            http.host = host.clone();
        }
        if let Some(port) = &raw.port {
            let n = self.count(&key("port"), port, 0)?;
            http.port = u16::try_from(n).map_err(|_| {
                self.invalid(
                    &key("port"),
                    format!("{n} is not a port; use 0 to 65535 (0 picks a free port)"),
                )
            })?;
        }
        if let Some(path) = &raw.path {
            if !path.starts_with('/')
                || path.contains(|c: char| c.is_whitespace() || c == '?' || c == '#')
            {
                return Err(self.invalid(
                    &key("path"),
                    format!("{path:?} is not a URL path; it must start with `/` and have no spaces, `?` or `#`, e.g. \"/mcp\""),
                ));
            }
            http.path = path.clone();
        }
        if let Some(hosts) = &raw.allowed_hosts {
            http.allowed_hosts = hosts
                .iter()
                .enumerate()
                .map(|(i, host)| {
                    HostPattern::parse_allowed_host(host)
                        .map_err(|m| self.invalid_item(&key("allowed_hosts"), Some(i), m))
                })
                .collect::<Result<_>>()?;
        }
        if let Some(origins) = &raw.allowed_origins {
            for (i, origin) in origins.iter().enumerate() {
                check_origin(origin)
                    .map_err(|m| self.invalid_item(&key("allowed_origins"), Some(i), m))?;
            }
            http.allowed_origins = origins.clone();
        }
        if let Some(v) = &raw.max_body {
            http.max_body = to_usize(self.size(&key("max_body"), v, 1)?);
        }
        if let Some(v) = &raw.session_idle_timeout {
            http.session_idle =
                self.duration(&key("session_idle_timeout"), v, Duration::from_secs(1))?;
        }
        if let Some(v) = &raw.max_sessions {
            http.max_sessions = to_usize(self.count(&key("max_sessions"), v, 1)?);
        }
        if let Some(v) = &raw.max_connections {
            http.max_connections = to_usize(self.count(&key("max_connections"), v, 1)?);
        }
        if let Some(v) = &raw.header_timeout {
            http.header_timeout =
                self.duration(&key("header_timeout"), v, Duration::from_millis(100))?;
        }
        http.metrics = raw.metrics;
        (http.ui, http.ui_calls) = (raw.ui || raw.ui_calls, raw.ui_calls);
        if let Some(address) = &raw.metrics_addr {
            let parsed = address.parse().map_err(|_| {
                self.invalid(
                    &key("metrics_addr"),
                    format!("`{address}` is not an IP address and port, e.g. \"127.0.0.1:9464\""),
                )
            })?;
            http.metrics_addr = Some(parsed);
        }
        http.client_limits = self.client_limits(
            &["server", "http"],
            None,
            (&raw.rate, &raw.burst, &raw.concurrency),
        )?;
        Ok(http)
    }

    /// `base` overridden by what `raw` sets; `at` is the table's key.
    fn limits(&self, base: &Limits, raw: &RawLimits, at: &[&str]) -> Result<Limits> {
        let key = |field: &'static str| [at, &[field][..]].concat();
        if at != ["limits"] {
            for (field, set) in [
                ("total_memory", raw.total_memory.is_some()),
                ("max_plugin_size", raw.max_plugin_size.is_some()),
            ] {
                if set {
                    return Err(self.invalid(
                        &key(field),
                        format!("{field} is a setting of the whole process: set it in the top-level [limits] table"),
                    ));
                }
            }
        }
        let mut limits = base.clone();
        if let Some(v) = &raw.fuel {
            limits.fuel = self.count(&key("fuel"), v, 1)?;
        }
        if let Some(v) = &raw.memory {
            let memory = self.size(&key("memory"), v, 1)?;
            if memory > MAX_MEMORY_CEILING {
                return Err(self.invalid(
                    &key("memory"),
                    format!(
                        "{v} is above the ceiling of {} (the size of a memory slot); use at most \"{}\"",
                        crate::units::human_size(MAX_MEMORY_CEILING),
                        crate::units::human_size(MAX_MEMORY_CEILING).replace(' ', "")
                    ),
                ));
            }
            limits.memory = memory;
        }
        if let Some(v) = &raw.timeout {
            limits.timeout = self.duration(&key("timeout"), v, EPOCH_TICK)?;
        }
        if let Some(v) = &raw.task_timeout {
            limits.task_timeout = self.duration(&key("task_timeout"), v, EPOCH_TICK)?;
        }
        if let Some(v) = &raw.max_output {
            limits.max_output = self.size(&key("max_output"), v, 1)?;
        }
        if let Some(v) = &raw.concurrency {
            limits.concurrency = to_usize(self.count(&key("concurrency"), v, 1)?);
        }
        if let Some(v) = &raw.queue {
            limits.queue = to_usize(self.count(&key("queue"), v, 0)?);
        }
        match (&raw.rate, &raw.burst, &mut limits.rate) {
            // `burst` alone resizes the bucket of the inherited rate.
            (None, Some(burst), Some(inherited)) => {
                let n = self.count(&key("burst"), burst, 1)?;
                inherited.burst = u32::try_from(n).unwrap_or(u32::MAX);
            }
            (None, None, _) => {}
            (rate, burst, _) => limits.rate = self.rate(at, None, rate, burst)?,
        }
        Ok(limits)
    }

    fn plugin(&self, name: &str, raw: &RawPlugin, defaults: &Limits) -> Result<PluginConfig> {
        let at = ["plugins", name];
        let key = |field: &'static str| ["plugins", name, field];
        if !is_name(name) {
            return Err(self.invalid(
                &at,
                "plugin names may use only letters, digits, `_` and `-`; rename the table",
            ));
        }
        let Some(path) = &raw.path else {
            return Err(self.invalid(
                &at,
                "has no `path`; add `path = \"plugins/NAME.wasm\"` (relative to the config file's directory)",
            ));
        };
        let path = self.existing(&key("path"), None, path, false)?;
        self.prefix(&key("prefix"), raw.prefix.as_deref())?;
        self.words(&key("tags"), &raw.tags)?;
        self.words(&key("disabled_components"), &raw.disabled_components)?;
        for (i, var) in raw.env.iter().enumerate() {
            if !is_env_name(var) {
                return Err(self.invalid_item(
                    &key("env"),
                    Some(i),
                    format!("{var:?} is not an environment variable name; use letters, digits and `_`, not starting with a digit (e.g. \"WEATHER_API_KEY\")"),
                ));
            }
        }
        let dirs = raw
            .dirs
            .iter()
            .map(|(guest, dir)| self.dir(name, guest, dir))
            .collect::<Result<_>>()?;
        let sha256 = raw
            .sha256
            .as_ref()
            .map(|pin| {
                parse_sha256(pin).ok_or_else(|| {
                    self.invalid(
                        &key("sha256"),
                        format!("{pin:?} is not a sha256 digest; write 64 hex characters, as printed by `sha256sum {}`", path.display()),
                    )
                })
            })
            .transpose()?;
        Ok(PluginConfig {
            name: name.to_owned(),
            prefix: raw.prefix.clone(),
            tags: raw.tags.clone(),
            enabled: raw.enabled.unwrap_or(true),
            disabled_components: raw.disabled_components.clone(),
            instance_reuse: raw.instance_reuse,
            limits: self.limits(defaults, &raw.limits, &["plugins", name, "limits"])?,
            grants: Grants {
                dirs,
                env: raw.env.clone(),
                allow_hosts: self.host_patterns(&key("allow_hosts"), &raw.allow_hosts)?,
            },
            sha256,
            locked: None,
            require_signed: false,
            path,
        })
    }

    fn upstream(&self, name: &str, raw: &RawUpstream, defaults: &Limits) -> Result<UpstreamConfig> {
        let at = ["upstreams", name];
        let key = |field: &'static str| ["upstreams", name, field];
        if !is_name(name) {
            return Err(self.invalid(
                &at,
                "upstream names may use only letters, digits, `_` and `-`; rename the table",
            ));
        }
        let target = match (&raw.command, &raw.url) {
            (Some(_), Some(_)) => {
                return Err(self.invalid(
                    &at,
                    "has both `command` and `url`; an upstream is either a command (stdio) or a URL (Streamable HTTP)",
                ));
            }
            (None, None) => {
                return Err(self.invalid(
                    &at,
                    "has neither `command` nor `url`; add `command = [\"python\", \"server.py\"]` or `url = \"https://example.com/mcp\"`",
                ));
            }
            (Some(command), None) => {
                let Some((program, args)) = command.split_first() else {
                    return Err(self.invalid(
                        &key("command"),
                        "is empty; write the program and its arguments, e.g. [\"python\", \"server.py\"]",
                    ));
                };
                if !raw.headers.is_empty() {
                    return Err(self.invalid(
                        &key("headers"),
                        "are sent over HTTP only; a command upstream takes `env` instead",
                    ));
                }
                for (i, var) in raw.env.iter().enumerate() {
                    if !is_env_name(var) {
                        return Err(self.invalid_item(
                            &key("env"),
                            Some(i),
                            format!("{var:?} is not an environment variable name; use letters, digits and `_`, not starting with a digit (e.g. \"PATH\")"),
                        ));
                    }
                }
                UpstreamTarget::Command {
                    program: program.clone(),
                    args: args.to_vec(),
                    env: raw.env.clone(),
                    dir: self.base.clone(),
                }
            }
            (None, Some(url)) => {
                if !(url.starts_with("http://") || url.starts_with("https://"))
                    || url.contains(char::is_whitespace)
                {
                    return Err(self.invalid(
                        &key("url"),
                        format!("{url:?} is not an http:// or https:// URL, e.g. \"https://example.com/mcp\""),
                    ));
                }
                if !raw.env.is_empty() {
                    return Err(self.invalid(
                        &key("env"),
                        "is passed to commands only; a URL upstream takes `headers` instead",
                    ));
                }
                let headers = self.headers(&at, &raw.headers)?;
                UpstreamTarget::Url {
                    url: url.clone(),
                    headers,
                }
            }
        };
        self.prefix(&key("prefix"), raw.prefix.as_deref())?;
        self.words(&key("tags"), &raw.tags)?;
        self.words(&key("disabled_components"), &raw.disabled_components)?;
        let (timeout, max_output) =
            self.request_bounds(&at, raw.timeout.as_ref(), raw.max_output.as_ref(), defaults)?;
        Ok(UpstreamConfig {
            name: name.to_owned(),
            target,
            prefix: raw.prefix.clone(),
            tags: raw.tags.clone(),
            enabled: raw.enabled.unwrap_or(true),
            disabled_components: raw.disabled_components.clone(),
            timeout,
            max_output,
            concurrency: defaults.concurrency,
            queue: defaults.queue,
            rate: defaults.rate,
        })
    }

    fn dir(&self, plugin: &str, guest: &str, raw: &RawDir) -> Result<DirGrant> {
        let at = ["plugins", plugin, "dirs", guest];
        let guest_ok = guest.starts_with('/')
            && !guest.contains(['\\', '\0'])
            && Path::new(guest)
                .components()
                .all(|c| matches!(c, Component::RootDir | Component::Normal(_)));
        if !guest_ok {
            return Err(self.invalid(
                &at,
                format!("{guest:?} is not an absolute guest path; write it as the plugin sees it, starting with `/` and without `.` or `..` (e.g. \"/data\")"),
            ));
        }
        let Some(host) = &raw.host else {
            return Err(self.invalid(
                &at,
                "has no `host`; add `host = \"./data\"`, the directory to grant (relative to the config file's directory)",
            ));
        };
        let host_key = [&at[..], &["host"]].concat();
        let host = self.existing(&host_key, None, host, true)?;
        let read_only = match raw.mode.as_deref() {
            None | Some("ro") => true,
            Some("rw") => false,
            Some(other) => {
                return Err(self.invalid(
                    &[&at[..], &["mode"]].concat(),
                    format!("{other:?} is not a mode; use \"ro\" (read-only, the default) or \"rw\" (read-write)"),
                ));
            }
        };
        let guest = match guest.trim_end_matches('/') {
            "" => "/".to_owned(),
            trimmed => trimmed.to_owned(),
        };
        Ok(DirGrant {
            guest,
            host,
            read_only,
        })
    }

    /// `text` resolved against the config file's directory; it must exist and
    /// be a directory (`dir`) or a file. Returns it canonical.
    pub(super) fn existing(
        &self,
        key: &[&str],
        index: Option<usize>,
        text: &str,
        dir: bool,
    ) -> Result<PathBuf> {
        let what = if dir { "directory" } else { "file" };
        if text.is_empty() {
            return Err(self.invalid_item(key, index, format!("is empty; name a {what}")));
        }
        let joined = self.base.join(text);
        let relative = if Path::new(text).is_absolute() {
            String::new()
        } else {
            format!(
                "; relative paths start from {}, the config file's directory",
                self.base.display()
            )
        };
        let canonical = match joined.canonicalize() {
            Ok(path) => path,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Err(self.invalid_item(
                    key,
                    index,
                    format!(
                        "{text:?} does not exist (looked for {}{relative})",
                        joined.display()
                    ),
                ));
            }
            Err(error) => {
                return Err(self.invalid_item(
                    key,
                    index,
                    format!(
                        "{text:?}: cannot use {}: {error}{relative}",
                        joined.display()
                    ),
                ));
            }
        };
        if canonical.is_dir() != dir {
            let fix = if dir {
                "name a directory".to_owned()
            } else {
                "name a .wasm file (list directories in `server.plugin_dirs`)".to_owned()
            };
            return Err(self.invalid_item(
                key,
                index,
                format!("{text:?} ({}) is not a {what}; {fix}", canonical.display()),
            ));
        }
        Ok(canonical)
    }

    /// A mount prefix: `[A-Za-z0-9_-]+`.
    pub(super) fn prefix(&self, key: &[&str], prefix: Option<&str>) -> Result<()> {
        match prefix {
            Some(prefix) if !is_name(prefix) => Err(self.invalid(
                key,
                format!("{prefix:?} is not a prefix; use only letters, digits, `_` and `-` (e.g. \"weather\")"),
            )),
            _ => Ok(()),
        }
    }

    /// `headers = { NAME = "value with ${VAR}" }` under `at`, variables
    /// replaced.
    pub(super) fn headers(
        &self,
        at: &[&str],
        raw: &std::collections::BTreeMap<String, String>,
    ) -> Result<Vec<(String, String)>> {
        raw.iter()
            .map(|(header, value)| {
                let mut key = at.to_vec();
                key.extend(["headers", header.as_str()]);
                if header.is_empty()
                    || !header
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-')
                {
                    return Err(self.invalid(
                        &key,
                        format!("{header:?} is not a header name; use letters, digits and `-`"),
                    ));
                }
                let value = expand_env(value).map_err(|m| self.invalid(&key, m))?;
                Ok((header.clone(), value))
            })
            .collect()
    }

    /// A forwarded request's `timeout` and `max_output` under `at`, else
    /// the `[limits]` defaults (upstreams and OpenAPI specs).
    pub(super) fn request_bounds(
        &self,
        at: &[&str],
        timeout: Option<&Num>,
        max_output: Option<&Num>,
        defaults: &Limits,
    ) -> Result<(Duration, u64)> {
        let key = |field: &'static str| [at, &[field][..]].concat();
        let timeout = match timeout {
            Some(v) => self.duration(&key("timeout"), v, Duration::from_millis(10))?,
            None => defaults.timeout,
        };
        let max_output = match max_output {
            Some(v) => self.size(&key("max_output"), v, 1)?,
            None => defaults.max_output,
        };
        Ok((timeout, max_output))
    }

    fn host_patterns(&self, key: &[&str], patterns: &[String]) -> Result<Vec<HostPattern>> {
        patterns
            .iter()
            .enumerate()
            .map(|(i, p)| HostPattern::parse(p).map_err(|m| self.invalid_item(key, Some(i), m)))
            .collect()
    }

    /// Tags and component names: non-empty, no surrounding spaces.
    pub(super) fn words(&self, key: &[&str], words: &[String]) -> Result<()> {
        match words.iter().position(|w| w.is_empty() || w.trim() != w) {
            Some(i) => Err(self.invalid_item(
                key,
                Some(i),
                format!(
                    "{:?} is empty or has surrounding spaces; remove it or trim it",
                    words[i]
                ),
            )),
            None => Ok(()),
        }
    }

    /// A whole number, at least `min`.
    pub(super) fn count(&self, key: &[&str], value: &Num, min: u64) -> Result<u64> {
        let fix = format!("write a whole number of at least {min}, without quotes");
        match value {
            Num::Int(n) if u64::try_from(*n).is_ok_and(|n| n >= min) => Ok(*n as u64),
            Num::Int(n) => Err(self.invalid(key, format!("{n} is too small; {fix}"))),
            Num::Float(_) => Err(self.invalid(key, format!("{value} is not whole; {fix}"))),
            Num::Text(_) => Err(self.invalid(key, format!("{value} is a string; {fix}"))),
        }
    }

    /// A size in bytes (a number, or a string with a unit), at least `min`.
    pub(super) fn size(&self, key: &[&str], value: &Num, min: u64) -> Result<u64> {
        let fix = "use a size such as \"64MiB\", \"512KiB\" or a number of bytes";
        let bytes = match value {
            Num::Int(n) => u64::try_from(*n)
                .map_err(|_| self.invalid(key, format!("{n} is negative; {fix}")))?,
            Num::Float(_) => {
                return Err(self.invalid(
                    key,
                    format!("{value} is not a whole number of bytes; {fix}"),
                ));
            }
            Num::Text(text) => parse_size(text).map_err(|m| self.invalid(key, m))?,
        };
        if bytes < min {
            return Err(self.invalid(
                key,
                format!("{value} is too small; {fix} of at least {min}"),
            ));
        }
        Ok(bytes)
    }

    /// A duration with a unit, at least `min`.
    pub(super) fn duration(&self, key: &[&str], value: &Num, min: Duration) -> Result<Duration> {
        let duration = match value {
            Num::Text(text) => parse_duration(text).map_err(|m| self.invalid(key, m))?,
            Num::Int(_) | Num::Float(_) => {
                return Err(self.invalid(
                    key,
                    format!("{value} has no unit; write a string with one, e.g. \"{value}s\" (units: ms, s, m, h)"),
                ));
            }
        };
        if duration < min {
            return Err(self.invalid(
                key,
                format!(
                    "{value} is too short; use at least {}",
                    crate::units::human_duration(min)
                ),
            ));
        }
        Ok(duration)
    }
}

/// `scheme://host[:port]` with `port` a number or `*`, or `null`.
fn check_origin(origin: &str) -> std::result::Result<(), String> {
    if origin == "null" {
        return Ok(());
    }
    let fix = "write `scheme://host` with an optional `:port` or `:*`, e.g. \"http://localhost:*\"";
    let Some((scheme, rest)) = origin.split_once("://") else {
        return Err(format!("{origin:?} has no scheme; {fix}"));
    };
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    if !scheme_ok {
        return Err(format!("{origin:?}: `{scheme}` is not a scheme; {fix}"));
    }
    if rest.contains('/') {
        return Err(format!("{origin:?} has a path; an origin has none: {fix}"));
    }
    match HostPattern::parse(rest.strip_suffix(":*").unwrap_or(rest)) {
        Ok(pattern) if pattern.is_wildcard() => Err(format!(
            "{origin:?}: wildcard hosts are not supported in origins; list each origin"
        )),
        Ok(_) => Ok(()),
        Err(m) => Err(format!("{origin:?} is not an origin ({m}); {fix}")),
    }
}

/// 64 hex characters as 32 bytes.
pub(crate) fn parse_sha256(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}
