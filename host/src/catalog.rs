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
use crate::uri_template::UriTemplate;

/// One served item and the plugin behind it.
#[derive(Debug, Clone)]
pub struct Served<T> {
    pub def: T,
    pub plugin: Arc<WasmPlugin>,
}

/// A served resource template, parsed.
#[derive(Debug, Clone)]
pub struct ServedTemplate {
    pub def: TemplateDef,
    pub template: UriTemplate,
    pub plugin: Arc<WasmPlugin>,
}

/// Where a resource URI leads.
#[derive(Debug, Clone)]
pub struct ResolvedResource<'a> {
    pub plugin: &'a Arc<WasmPlugin>,
    /// Template variables (empty for a concrete resource).
    pub params: Vec<(String, String)>,
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
                params: Vec::new(),
            });
        }
        self.templates
            .iter()
            .filter_map(|t| t.template.matches(uri).map(|params| (t, params)))
            .max_by_key(|(t, _)| t.template.specificity())
            .map(|(t, params)| ResolvedResource {
                plugin: &t.plugin,
                params,
            })
    }

    /// Add a plugin's offer. Refused whole, with a message naming both
    /// plugins, if any of its names is already served.
    pub fn add(&mut self, plugin: WasmPlugin) -> Result<(), LoadError> {
        let plugin = Arc::new(plugin);
        let listing = plugin.listing();
        let collision = |what: &str, name: &str, other: &WasmPlugin| LoadError::Collision {
            path: plugin.path().to_owned(),
            reason: format!(
                "{what} `{name}` is already served by plugin `{}` ({}); plugin `{}` is not loaded",
                other.name(),
                other.path().display(),
                plugin.name()
            ),
        };
        for t in &listing.tools {
            if let Some(s) = self.tools.get(&t.name) {
                return Err(collision("tool", &t.name, &s.plugin));
            }
        }
        for r in &listing.resources {
            if let Some(s) = self.resources.get(&r.uri) {
                return Err(collision("resource", &r.uri, &s.plugin));
            }
        }
        for t in &listing.templates {
            if let Some(s) = self.template(&t.uri_template) {
                return Err(collision("resource template", &t.uri_template, &s.plugin));
            }
        }
        for p in &listing.prompts {
            if let Some(s) = self.prompts.get(&p.name) {
                return Err(collision("prompt", &p.name, &s.plugin));
            }
        }
        let mut templates = Vec::with_capacity(listing.templates.len());
        for t in &listing.templates {
            let template =
                UriTemplate::parse(&t.uri_template).map_err(|reason| LoadError::BadListing {
                    path: plugin.path().to_owned(),
                    reason: format!("resource template `{}`: {reason}", t.uri_template),
                })?;
            templates.push(ServedTemplate {
                def: t.clone(),
                template,
                plugin: plugin.clone(),
            });
        }
        self.templates.extend(templates);
        fn served<T: Clone>(def: &T, plugin: &Arc<WasmPlugin>) -> Served<T> {
            Served {
                def: def.clone(),
                plugin: plugin.clone(),
            }
        }
        for t in &listing.tools {
            self.tools.insert(t.name.clone(), served(t, &plugin));
        }
        for r in &listing.resources {
            self.resources.insert(r.uri.clone(), served(r, &plugin));
        }
        for p in &listing.prompts {
            self.prompts.insert(p.name.clone(), served(p, &plugin));
        }
        self.plugins.push(plugin);
        Ok(())
    }
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

/// Load every plugin in `specs`. A plugin that fails to load is reported in
/// the returned errors; the others are served.
pub async fn load(runtime: &Runtime, specs: &[PluginConfig]) -> (Catalog, Vec<LoadError>) {
    let mut catalog = Catalog::default();
    let mut errors = Vec::new();
    for spec in specs {
        let loaded = WasmPlugin::load(runtime, spec).await;
        match loaded.and_then(|plugin| catalog.add(plugin)) {
            Ok(()) => {}
            Err(e) => errors.push(e),
        }
    }
    (catalog, errors)
}
