//! The catalog: every tool, resource, template and prompt being served, and
//! which plugin serves it. Immutable once built; a reload builds a new one.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use indexmap::IndexMap;

use crate::config::{Config, PluginConfig};
use crate::error::LoadError;
use crate::model::{PromptDef, ResourceDef, TemplateDef, ToolDef};
use crate::plugin::WasmPlugin;
use crate::runtime::Runtime;
use corral_uri_template::UriTemplate;

/// One served item and the plugin behind it.
#[derive(Debug, Clone)]
pub struct Served<T> {
    /// As served: prefixed name or URI, tags merged with the plugin's config tags.
    pub def: T,
    /// The name (or URI) the plugin itself knows it by.
    pub original: String,
    pub plugin: Arc<WasmPlugin>,
}

/// A served resource template, parsed.
#[derive(Debug, Clone)]
pub struct ServedTemplate {
    pub def: TemplateDef,
    pub template: UriTemplate,
    /// The template as the plugin itself knows it.
    pub original: String,
    /// The prefix the plugin is mounted with, if any.
    pub prefix: Option<String>,
    pub plugin: Arc<WasmPlugin>,
}

/// Where a resource URI leads.
#[derive(Debug, Clone)]
pub struct ResolvedResource<'a> {
    pub plugin: &'a Arc<WasmPlugin>,
    /// The URI as the plugin knows it (without the mount prefix).
    pub uri: String,
    /// Template variables (empty for a concrete resource).
    pub params: Vec<(String, String)>,
}

/// Which components are served, by tag. Exclude wins over include; an empty
/// include list includes everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TagFilter {
    pub include: Vec<String>,
    pub exclude: Vec<String>,
}

impl TagFilter {
    /// Whether a component with `tags` is served.
    pub fn allows(&self, tags: &[String]) -> bool {
        !tags.iter().any(|t| self.exclude.contains(t))
            && (self.include.is_empty() || tags.iter().any(|t| self.include.contains(t)))
    }
}

/// How one plugin is mounted: from its config entry.
#[derive(Debug, Clone, Default)]
pub struct Mount {
    /// `weather` serves `get_forecast` as `weather_get_forecast` and
    /// `data://config` as `data://weather/config` (FastMCP's convention).
    pub prefix: Option<String>,
    /// Tags added to every component of the plugin.
    pub tags: Vec<String>,
    /// Components (by the plugin's own names or URIs) not served.
    pub disabled: Vec<String>,
}

impl Mount {
    /// The mount a plugin's config entry describes.
    pub fn of(spec: &PluginConfig) -> Self {
        Self {
            prefix: spec.prefix.clone(),
            tags: spec.tags.clone(),
            disabled: spec.disabled_components.clone(),
        }
    }

    fn name(&self, name: &str) -> String {
        match &self.prefix {
            Some(prefix) => format!("{prefix}_{name}"),
            None => name.to_owned(),
        }
    }

    fn uri(&self, uri: &str) -> String {
        match &self.prefix {
            Some(prefix) => prefix_uri(uri, prefix),
            None => uri.to_owned(),
        }
    }

    fn tags(&self, own: &[String]) -> Vec<String> {
        let mut tags = own.to_vec();
        for tag in &self.tags {
            if !tags.contains(tag) {
                tags.push(tag.clone());
            }
        }
        tags
    }
}

/// `data://config` mounted at `weather` is `data://weather/config`.
pub fn prefix_uri(uri: &str, prefix: &str) -> String {
    match uri.split_once("://") {
        Some((scheme, rest)) => format!("{scheme}://{prefix}/{rest}"),
        None => format!("{prefix}/{uri}"),
    }
}

/// The inverse of [`prefix_uri`]: `None` if `uri` is not under `prefix`.
pub fn unprefix_uri(uri: &str, prefix: &str) -> Option<String> {
    match uri.split_once("://") {
        Some((scheme, rest)) => rest
            .strip_prefix(prefix)
            .and_then(|r| r.strip_prefix('/'))
            .map(|r| format!("{scheme}://{r}")),
        None => uri
            .strip_prefix(prefix)
            .and_then(|r| r.strip_prefix('/'))
            .map(str::to_owned),
    }
}

/// Everything being served. Lists keep the order plugins were added in.
#[derive(Debug, Default)]
pub struct Catalog {
    plugins: Vec<Arc<WasmPlugin>>,
    tools: IndexMap<String, Served<ToolDef>>,
    resources: IndexMap<String, Served<ResourceDef>>,
    templates: Vec<ServedTemplate>,
    prompts: IndexMap<String, Served<PromptDef>>,
}

impl Catalog {
    /// The plugins, in load order.
    pub fn plugins(&self) -> &[Arc<WasmPlugin>] {
        &self.plugins
    }

    pub fn tools(&self) -> impl Iterator<Item = &Served<ToolDef>> {
        self.tools.values()
    }

    pub fn resources(&self) -> impl Iterator<Item = &Served<ResourceDef>> {
        self.resources.values()
    }

    pub fn templates(&self) -> impl Iterator<Item = &ServedTemplate> {
        self.templates.iter()
    }

    pub fn prompts(&self) -> impl Iterator<Item = &Served<PromptDef>> {
        self.prompts.values()
    }

    pub fn tool(&self, name: &str) -> Option<&Served<ToolDef>> {
        self.tools.get(name)
    }

    pub fn prompt(&self, name: &str) -> Option<&Served<PromptDef>> {
        self.prompts.get(name)
    }

    pub fn template(&self, uri_template: &str) -> Option<&ServedTemplate> {
        self.templates
            .iter()
            .find(|t| t.def.uri_template == uri_template)
    }

    /// A concrete resource wins; otherwise the most specific matching template.
    pub fn resolve_resource(&self, uri: &str) -> Option<ResolvedResource<'_>> {
        if let Some(served) = self.resources.get(uri) {
            return Some(ResolvedResource {
                plugin: &served.plugin,
                uri: served.original.clone(),
                params: Vec::new(),
            });
        }
        self.templates
            .iter()
            .filter_map(|t| t.template.matches(uri).map(|params| (t, params)))
            .max_by_key(|(t, _)| t.template.specificity())
            .and_then(|(t, params)| {
                let uri = match &t.prefix {
                    Some(prefix) => unprefix_uri(uri, prefix)?,
                    None => uri.to_owned(),
                };
                Some(ResolvedResource {
                    plugin: &t.plugin,
                    uri,
                    params,
                })
            })
    }

    /// Add a plugin's offer, mounted as `mount` says and filtered by
    /// `filter` (a filtered-out component is simply not served). Refused
    /// whole, with a message naming both plugins, if any served name is
    /// already taken.
    pub fn add(
        &mut self,
        plugin: impl Into<Arc<WasmPlugin>>,
        mount: &Mount,
        filter: &TagFilter,
    ) -> Result<(), LoadError> {
        let plugin: Arc<WasmPlugin> = plugin.into();
        let listing = plugin.listing();
        let wanted = |original: &str, tags: &[String]| {
            !mount.disabled.iter().any(|d| d == original) && filter.allows(tags)
        };
        let mut tools = Vec::new();
        for t in &listing.tools {
            let tags = mount.tags(&t.tags);
            if wanted(&t.name, &tags) {
                let def = ToolDef {
                    name: mount.name(&t.name),
                    tags,
                    ..t.clone()
                };
                tools.push(Served {
                    def,
                    original: t.name.clone(),
                    plugin: plugin.clone(),
                });
            }
        }
        let mut resources = Vec::new();
        for r in &listing.resources {
            let tags = mount.tags(&r.tags);
            if wanted(&r.uri, &tags) {
                let def = ResourceDef {
                    uri: mount.uri(&r.uri),
                    tags,
                    ..r.clone()
                };
                resources.push(Served {
                    def,
                    original: r.uri.clone(),
                    plugin: plugin.clone(),
                });
            }
        }
        let mut templates = Vec::new();
        for t in &listing.templates {
            let tags = mount.tags(&t.tags);
            if !wanted(&t.uri_template, &tags) {
                continue;
            }
            let uri_template = mount.uri(&t.uri_template);
            let template =
                UriTemplate::parse(&uri_template).map_err(|reason| LoadError::BadListing {
                    path: plugin.path().to_owned(),
                    reason: format!("resource template `{uri_template}`: {reason}"),
                })?;
            templates.push(ServedTemplate {
                def: TemplateDef {
                    uri_template,
                    tags,
                    ..t.clone()
                },
                template,
                original: t.uri_template.clone(),
                prefix: mount.prefix.clone(),
                plugin: plugin.clone(),
            });
        }
        let mut prompts = Vec::new();
        for p in &listing.prompts {
            let tags = mount.tags(&p.tags);
            if wanted(&p.name, &tags) {
                let def = PromptDef {
                    name: mount.name(&p.name),
                    tags,
                    ..p.clone()
                };
                prompts.push(Served {
                    def,
                    original: p.name.clone(),
                    plugin: plugin.clone(),
                });
            }
        }

        let collision = |what: &str, name: &str, other: &WasmPlugin| LoadError::Collision {
            path: plugin.path().to_owned(),
            reason: format!(
                "{what} `{name}` is already served by plugin `{}` ({}); plugin `{}` is not loaded (give one of them a prefix)",
                other.name(),
                other.path().display(),
                plugin.name()
            ),
        };
        for t in &tools {
            if let Some(s) = self.tools.get(&t.def.name) {
                return Err(collision("tool", &t.def.name, &s.plugin));
            }
        }
        for r in &resources {
            if let Some(s) = self.resources.get(&r.def.uri) {
                return Err(collision("resource", &r.def.uri, &s.plugin));
            }
        }
        for t in &templates {
            if let Some(s) = self.template(&t.def.uri_template) {
                return Err(collision(
                    "resource template",
                    &t.def.uri_template,
                    &s.plugin,
                ));
            }
        }
        // No plugin may answer reads meant for another: a URI one serves
        // must not match another's template, and two plugins' templates
        // must not both match any URI.
        let shadows = |what: String, other: &WasmPlugin| LoadError::Collision {
            path: plugin.path().to_owned(),
            reason: format!(
                "{what}, which plugin `{}` ({}) serves; plugin `{}` is not loaded (give one of them a prefix)",
                other.name(),
                other.path().display(),
                plugin.name()
            ),
        };
        for r in &resources {
            if let Some(s) = self
                .templates
                .iter()
                .find(|s| s.template.matches_raw(&r.def.uri))
            {
                return Err(shadows(
                    format!(
                        "resource `{}` matches the resource template `{}`",
                        r.def.uri, s.def.uri_template
                    ),
                    &s.plugin,
                ));
            }
        }
        for t in &templates {
            if let Some(s) = self
                .resources
                .values()
                .find(|s| t.template.matches_raw(&s.def.uri))
            {
                return Err(shadows(
                    format!(
                        "resource template `{}` matches the resource `{}`",
                        t.def.uri_template, s.def.uri
                    ),
                    &s.plugin,
                ));
            }
            for s in &self.templates {
                // Literal text before the first variable rules most pairs
                // out cheaply; the exact check explores both automata.
                let (a, b) = (literal_prefix(&t.template), literal_prefix(&s.template));
                if !(a.starts_with(b) || b.starts_with(a)) {
                    continue;
                }
                if let Some(example) = t.template.overlap_example(&s.template) {
                    return Err(shadows(
                        format!(
                            "resource template `{}` overlaps the resource template `{}` (both match `{example}`)",
                            t.def.uri_template, s.def.uri_template
                        ),
                        &s.plugin,
                    ));
                }
            }
        }
        for p in &prompts {
            if let Some(s) = self.prompts.get(&p.def.name) {
                return Err(collision("prompt", &p.def.name, &s.plugin));
            }
        }
        for t in tools {
            self.tools.insert(t.def.name.clone(), t);
        }
        for r in resources {
            self.resources.insert(r.def.uri.clone(), r);
        }
        self.templates.extend(templates);
        for p in prompts {
            self.prompts.insert(p.def.name.clone(), p);
        }
        self.plugins.push(plugin);
        Ok(())
    }
}

/// The literal text every URI a template matches starts with.
fn literal_prefix(template: &UriTemplate) -> &str {
    let text = template.as_str();
    &text[..text.find('{').unwrap_or(text.len())]
}

/// The `.wasm` files of a directory, sorted by name.
pub fn plugin_files(dir: &Path) -> Result<Vec<PathBuf>, LoadError> {
    let entries = std::fs::read_dir(dir).map_err(|source| LoadError::Dir {
        path: dir.to_owned(),
        source,
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "wasm"))
        .collect();
    files.sort();
    Ok(files)
}

/// What to load: the plugins `config` lists (enabled ones), then every
/// `.wasm` file in `paths` and in `config.plugin_dirs` (directories, or files)
/// that no entry names, with the default limits and no grants. A directory
/// that cannot be read is reported.
pub fn plugin_specs(paths: &[PathBuf], config: &Config) -> (Vec<PluginConfig>, Vec<LoadError>) {
    let mut specs: Vec<PluginConfig> = Vec::new();
    let mut errors = Vec::new();
    let mut configured = Vec::new();
    for plugin in &config.plugins {
        configured.push(canonical(&plugin.path));
        if plugin.enabled {
            specs.push(plugin.clone());
        } else {
            tracing::info!(plugin = %plugin.name, "disabled in the config; not loaded");
        }
    }
    let mut files = Vec::new();
    for path in paths.iter().chain(&config.plugin_dirs) {
        if path.is_dir() {
            match plugin_files(path) {
                Ok(found) => files.extend(found),
                Err(e) => errors.push(e),
            }
        } else {
            files.push(path.clone());
        }
    }
    for file in files {
        let key = canonical(&file);
        if configured.contains(&key) {
            continue;
        }
        configured.push(key);
        specs.push(PluginConfig::for_file(&file, config.limits.clone()));
    }
    (specs, errors)
}

fn canonical(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_owned())
}

/// How many plugins [`load`] loads at once.
pub const PARALLEL_LOADS: usize = 8;

/// Load every plugin in `specs`, mounted as their config says and filtered
/// by `filter`. A plugin that fails to load is reported in the returned
/// errors; the others are served.
pub async fn load(
    runtime: &Runtime,
    specs: &[PluginConfig],
    filter: &TagFilter,
) -> (Catalog, Vec<LoadError>) {
    use futures::StreamExt;
    let mut catalog = Catalog::default();
    let mut errors = Vec::new();
    // Load several at once (compiling and cache reads run on blocking
    // threads), but add them in spec order so collisions resolve the same
    // way every time.
    let mut loaded = futures::stream::iter(specs)
        .map(|spec| async move { (spec, WasmPlugin::load(runtime, spec).await) })
        .buffered(PARALLEL_LOADS);
    while let Some((spec, plugin)) = loaded.next().await {
        match plugin.and_then(|plugin| catalog.add(plugin, &Mount::of(spec), filter)) {
            Ok(()) => {}
            Err(e) => errors.push(e),
        }
    }
    (catalog, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exclude_wins_over_include() {
        let tags = |t: &[&str]| t.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let filter = TagFilter {
            include: tags(&["public"]),
            exclude: tags(&["deprecated"]),
        };
        assert!(filter.allows(&tags(&["public", "math"])));
        assert!(!filter.allows(&tags(&["public", "deprecated"])));
        assert!(!filter.allows(&tags(&["math"])));
        assert!(!filter.allows(&[]));
        assert!(TagFilter::default().allows(&[]));
    }

    #[test]
    fn prefixes_go_after_the_scheme() {
        assert_eq!(
            prefix_uri("data://config", "weather"),
            "data://weather/config"
        );
        assert_eq!(
            unprefix_uri("data://weather/config", "weather").as_deref(),
            Some("data://config")
        );
        assert_eq!(unprefix_uri("data://other/config", "weather"), None);
        assert_eq!(prefix_uri("urn:x", "w"), "w/urn:x");
        assert_eq!(unprefix_uri("w/urn:x", "w").as_deref(), Some("urn:x"));
    }
}
