//! `[openapi.NAME]`: a REST API described by an OpenAPI spec, served as
//! tools, resources and resource templates. The spec itself is read by the
//! loader (it may be a URL); the config only says where it is and how its
//! operations are mapped.

use std::path::PathBuf;
use std::time::Duration;

use super::raw::{RawOpenApi, RawRouteMap};
use super::resolve::{Resolver, Result, is_name};
use super::{Limits, Rate};

/// One `[openapi.NAME]` table.
#[derive(Clone, PartialEq)]
pub struct OpenApiConfig {
    /// The table's name (`petstore` in `[openapi.petstore]`).
    pub name: String,
    /// Where the spec is.
    pub spec: SpecSource,
    /// Where requests go: `base_url`, else the spec's first server.
    pub base_url: Option<String>,
    /// Prefix for the names of what it serves.
    pub prefix: Option<String>,
    /// Tags for `server.include_tags` / `server.exclude_tags`.
    pub tags: Vec<String>,
    /// `false`: configured but not served.
    pub enabled: bool,
    /// Tools, resources or templates of this API not to serve.
    pub disabled_components: Vec<String>,
    /// Headers sent with every request (`${VAR}` already replaced by the
    /// variable's value; never printed).
    pub headers: Vec<(String, String)>,
    /// The longest one request (or fetching the spec) may take.
    pub timeout: Duration,
    /// The largest answer accepted, in bytes of body.
    pub max_output: u64,
    /// Requests made at once (`[limits] concurrency`).
    pub concurrency: usize,
    /// Requests that may wait for a turn (`[limits] queue`).
    pub queue: usize,
    /// Requests per period (`[limits] rate`; `None`: unlimited).
    pub rate: Option<Rate>,
    /// How operations become components, first match wins; an operation no
    /// map matches is a tool.
    pub route_maps: Vec<RouteMap>,
}

/// Where an OpenAPI spec is read from.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum SpecSource {
    /// A file, absolute.
    File(PathBuf),
    /// An `http://` or `https://` URL, fetched when the config is loaded.
    Url(String),
}

impl std::fmt::Display for SpecSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SpecSource::File(path) => write!(f, "{}", path.display()),
            SpecSource::Url(url) => f.write_str(url),
        }
    }
}

/// One `[[openapi.NAME.route_maps]]` entry, as FastMCP writes route maps:
/// operations whose method, path and tags match become `mcp_type`.
#[derive(Debug, Clone, PartialEq)]
pub struct RouteMap {
    /// Upper-case HTTP methods; empty: any.
    pub methods: Vec<String>,
    /// Matched against the path as the spec writes it (`/pet/{petId}`).
    pub pattern: PathPattern,
    /// The operation must have every one of these tags.
    pub tags: Vec<String>,
    /// What a matching operation becomes.
    pub mcp_type: RouteKind,
    /// Tags added to the component it becomes.
    pub mcp_tags: Vec<String>,
}

impl RouteMap {
    /// Whether the operation `method path` with `tags` matches.
    pub fn matches(&self, method: &str, path: &str, tags: &[String]) -> bool {
        (self.methods.is_empty() || self.methods.iter().any(|m| m == method))
            && self.pattern.0.is_match(path)
            && self.tags.iter().all(|t| tags.contains(t))
    }
}

/// A regular expression over paths (the `regex` crate's syntax; unanchored
/// unless it says `^…$`).
#[derive(Debug, Clone)]
pub struct PathPattern(regex::Regex);

impl PathPattern {
    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl PartialEq for PathPattern {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

/// What an operation becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RouteKind {
    /// A tool taking the operation's parameters and body.
    Tool,
    /// A resource (a GET without parameters to fill in).
    Resource,
    /// A resource template, one variable per path parameter.
    ResourceTemplate,
    /// Not served.
    Exclude,
}

/// Header values may hold secrets: they are shown by name only.
impl std::fmt::Debug for OpenApiConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenApiConfig")
            .field("name", &self.name)
            .field("spec", &self.spec)
            .field("base_url", &self.base_url)
            .field("prefix", &self.prefix)
            .field("tags", &self.tags)
            .field("enabled", &self.enabled)
            .field("disabled_components", &self.disabled_components)
            .field(
                "headers",
                &self
                    .headers
                    .iter()
                    .map(|(name, _)| name)
                    .collect::<Vec<_>>(),
            )
            .field("timeout", &self.timeout)
            .field("max_output", &self.max_output)
            .field("concurrency", &self.concurrency)
            .field("queue", &self.queue)
            .field("rate", &self.rate)
            .field("route_maps", &self.route_maps)
            .finish()
    }
}

fn is_http_url(url: &str) -> bool {
    (url.starts_with("http://") || url.starts_with("https://"))
        && !url.contains(char::is_whitespace)
}

impl Resolver<'_> {
    pub(super) fn openapi(
        &self,
        name: &str,
        raw: &RawOpenApi,
        defaults: &Limits,
    ) -> Result<OpenApiConfig> {
        let at = ["openapi", name];
        let key = |field: &'static str| ["openapi", name, field];
        if !is_name(name) {
            return Err(self.invalid(
                &at,
                "OpenAPI names may use only letters, digits, `_` and `-`; rename the table",
            ));
        }
        let Some(spec) = &raw.spec else {
            return Err(self.invalid(
                &at,
                "has no `spec`; add `spec = \"openapi.json\"` (a file relative to the config, or an http(s) URL; JSON or YAML)",
            ));
        };
        let spec = if spec.starts_with("http://") || spec.starts_with("https://") {
            if !is_http_url(spec) {
                return Err(self.invalid(&key("spec"), format!("{spec:?} is not a URL")));
            }
            SpecSource::Url(spec.clone())
        } else {
            SpecSource::File(self.existing(&key("spec"), None, spec, false)?)
        };
        if let Some(url) = &raw.base_url
            && !is_http_url(url)
        {
            return Err(self.invalid(
                &key("base_url"),
                format!(
                    "{url:?} is not an http:// or https:// URL, e.g. \"https://api.example.com/v1\""
                ),
            ));
        }
        self.prefix(&key("prefix"), raw.prefix.as_deref())?;
        self.words(&key("tags"), &raw.tags)?;
        self.words(&key("disabled_components"), &raw.disabled_components)?;
        let headers = self.headers(&at, &raw.headers)?;
        let (timeout, max_output) =
            self.request_bounds(&at, raw.timeout.as_ref(), raw.max_output.as_ref(), defaults)?;
        let route_maps = raw
            .route_maps
            .iter()
            .enumerate()
            .map(|(i, map)| self.route_map(name, i, map))
            .collect::<Result<_>>()?;
        Ok(OpenApiConfig {
            name: name.to_owned(),
            spec,
            base_url: raw.base_url.clone(),
            prefix: raw.prefix.clone(),
            tags: raw.tags.clone(),
            enabled: raw.enabled.unwrap_or(true),
            disabled_components: raw.disabled_components.clone(),
            headers,
            timeout,
            max_output,
            concurrency: defaults.concurrency,
            queue: defaults.queue,
            rate: defaults.rate,
            route_maps,
        })
    }

    fn route_map(&self, name: &str, index: usize, raw: &RawRouteMap) -> Result<RouteMap> {
        let at = ["openapi", name, "route_maps"];
        let wrong = |message: String| self.invalid_item(&at, Some(index), message);
        const METHODS: [&str; 8] = [
            "GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE",
        ];
        let mut methods = Vec::new();
        for method in &raw.methods {
            if method == "*" {
                continue;
            }
            let upper = method.to_ascii_uppercase();
            if !METHODS.contains(&upper.as_str()) {
                return Err(wrong(format!(
                    "methods: {method:?} is not an HTTP method; use {} or \"*\"",
                    METHODS.join(", ")
                )));
            }
            methods.push(upper);
        }
        if raw.methods.iter().any(|m| m == "*") {
            methods.clear();
        }
        let pattern = raw.pattern.as_deref().unwrap_or(".*");
        let pattern = regex::Regex::new(pattern).map_err(|e| {
            wrong(format!(
                "pattern {pattern:?} is not a regular expression: {}",
                e.to_string()
                    .lines()
                    .last()
                    .unwrap_or_default()
                    .trim_start_matches("error: ")
            ))
        })?;
        let Some(mcp_type) = &raw.mcp_type else {
            return Err(wrong(
                "has no `mcp_type`; add `mcp_type = \"tool\"`, \"resource\", \"resource_template\" or \"exclude\"".into(),
            ));
        };
        let mcp_type = match mcp_type.to_ascii_lowercase().as_str() {
            "tool" => RouteKind::Tool,
            "resource" => RouteKind::Resource,
            "resource_template" => RouteKind::ResourceTemplate,
            "exclude" => RouteKind::Exclude,
            _ => {
                return Err(wrong(format!(
                    "mcp_type {mcp_type:?} is not one of \"tool\", \"resource\", \"resource_template\", \"exclude\""
                )));
            }
        };
        for (field, words) in [("tags", &raw.tags), ("mcp_tags", &raw.mcp_tags)] {
            if let Some(bad) = words.iter().find(|w| w.is_empty() || w.trim() != *w) {
                return Err(wrong(format!(
                    "{field}: {bad:?} is empty or has surrounding spaces"
                )));
            }
        }
        Ok(RouteMap {
            methods,
            pattern: PathPattern(pattern),
            tags: raw.tags.clone(),
            mcp_type,
            mcp_tags: raw.mcp_tags.clone(),
        })
    }
}
