//! Loading: one pipeline from files to a catalog, for `serve`, `dev`,
//! `call` and embedders.
//!
//! Find ([`plugin_specs`]: the config's plugins, then every `.wasm` in the
//! directories given) → read and hash ([`PluginFile`]: refused past
//! `max_plugin_size`, checked against a `sha256` pin) → compile or take from
//! the compile cache → link and list ([`WasmPlugin`]) → mount into a new
//! [`Catalog`]. A [`Loader`] remembers each plugin it loaded with the
//! sha256 of its file, so a later [`scan`](Loader::scan) loads only what is
//! new or changed, and keeps the version already served when a new file
//! fails (the invariant hot reload relies on).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures::StreamExt;
use indexmap::IndexMap;

use crate::catalog::{Catalog, Mount};
use crate::config::{Config, LockedFile, PluginConfig, SpecSource};
use crate::error::LoadError;
use crate::openapi::OpenApi;
use crate::plugin::{PluginFile, WasmPlugin};
use crate::runtime::Runtime;
use crate::upstream::Upstreams;

/// One loaded plugin and the file contents it came from.
struct Kept {
    digest: [u8; 32],
    plugin: Arc<WasmPlugin>,
}

/// What one scan found and the catalog it built.
#[derive(Debug, Default)]
pub struct Loaded {
    /// The catalog to serve now.
    pub catalog: Catalog,
    /// Plugins loaded for the first time, by file.
    pub added: Vec<PathBuf>,
    /// Plugins whose file changed and whose new version replaced the old.
    pub changed: Vec<PathBuf>,
    /// Plugins whose file is gone.
    pub removed: Vec<PathBuf>,
    /// Files that failed to load or to mount. A file already served keeps
    /// its previous version.
    pub errors: Vec<LoadError>,
}

impl Loaded {
    /// Whether the served plugins differ from before the scan.
    pub fn changed_anything(&self) -> bool {
        !(self.added.is_empty() && self.changed.is_empty() && self.removed.is_empty())
    }
}

/// Loads plugins from paths and a config, and reloads what changed; keeps
/// the config's upstream servers connected.
pub struct Loader {
    runtime: Runtime,
    paths: Vec<PathBuf>,
    config: Config,
    upstreams: Upstreams,
    /// The OpenAPI specs of the last scan that read, by name, in config
    /// order.
    apis: IndexMap<String, Arc<OpenApi>>,
    /// Whether the first scan waited for the upstreams' first connections.
    waited: bool,
    /// How each plugin of the last scan is mounted, in order, by file.
    mounted: Vec<(Mount, PathBuf)>,
    loaded: HashMap<PathBuf, Kept>,
    /// The digest of each file whose last load failed: it is tried again
    /// only when its contents change (a large component that fails late
    /// would otherwise be compiled on every scan).
    failed: HashMap<PathBuf, [u8; 32]>,
}

impl Loader {
    /// A loader for the plugins in `paths` (directories or files) and
    /// those `config` names, served as `config.server.tags` filters.
    /// Nothing is loaded until the first [`scan`](Self::scan).
    /// Upstreams start connecting at once (in the background).
    pub fn new(runtime: Runtime, paths: Vec<PathBuf>, config: Config) -> Self {
        Self {
            runtime,
            paths,
            upstreams: Upstreams::start(&config.upstreams),
            apis: IndexMap::new(),
            waited: false,
            mounted: Vec::new(),
            config,
            loaded: HashMap::new(),
            failed: HashMap::new(),
        }
    }

    /// The directories to watch: every plugin directory, and the directory
    /// of every plugin file (files are often replaced by a rename).
    pub fn watched_dirs(&self) -> Vec<PathBuf> {
        let mut dirs: Vec<PathBuf> = Vec::new();
        let specs = self
            .config
            .openapi
            .iter()
            .filter_map(|api| match &api.spec {
                SpecSource::File(path) => Some(path.clone()),
                _ => None,
            });
        let files = self
            .config
            .plugins
            .iter()
            .map(|p| p.path.clone())
            .chain(specs);
        for path in self
            .paths
            .iter()
            .chain(&self.config.plugin_dirs)
            .cloned()
            .chain(files)
        {
            let dir = if path.is_dir() {
                path
            } else {
                match path.parent() {
                    Some(p) if p.as_os_str().is_empty() => PathBuf::from("."),
                    Some(p) => p.to_owned(),
                    None => continue,
                }
            };
            let dir = dir.canonicalize().unwrap_or(dir);
            if !dirs.contains(&dir) {
                dirs.push(dir);
            }
        }
        dirs
    }

    /// List the plugin files again, load what is new or changed, forget
    /// what is gone, and build the catalog to serve.
    pub async fn scan(&mut self) -> Loaded {
        let (specs, mut errors) = plugin_specs(&self.paths, &self.config);
        let mut reload = Loaded::default();
        let keep: Vec<PathBuf> = specs.iter().map(|spec| key_of(&spec.path)).collect();
        // Read, hash and (when new or changed) load several files at once,
        // so at most PARALLEL_LOADS files are in memory; compiling and cache
        // reads run on blocking threads. Results are taken in order.
        let (runtime, loaded, failed) = (&self.runtime, &self.loaded, &self.failed);
        let mut results = futures::stream::iter(specs.iter().zip(&keep))
            .map(|(spec, key)| async move {
                let file = PluginFile::read(&spec.path, runtime.max_plugin_size())
                    .await
                    .map_err(|e| (None, e))?;
                let digest = file.digest;
                if loaded.get(key).is_some_and(|l| l.digest == digest)
                    || failed.get(key) == Some(&digest)
                {
                    return Ok(None);
                }
                let plugin = WasmPlugin::load_file(runtime, spec, file)
                    .await
                    .map_err(|e| (Some((key, digest)), e))?;
                Ok(Some((spec, key, digest, Arc::new(plugin))))
            })
            .buffered(PARALLEL_LOADS);
        let mut fresh = Vec::new();
        let mut new_failures = Vec::new();
        while let Some(result) = results.next().await {
            match result {
                Ok(Some(loaded)) => fresh.push(loaded),
                Ok(None) => {}
                Err((failure, e)) => {
                    new_failures.extend(failure);
                    errors.push(e);
                }
            }
        }
        drop(results);
        for (key, digest) in new_failures {
            self.failed.insert(key.clone(), digest);
        }
        self.failed.retain(|key, _| keep.contains(key));
        for (spec, key, digest, plugin) in fresh {
            self.failed.remove(key);
            match self.loaded.insert(key.clone(), Kept { digest, plugin }) {
                Some(_) => reload.changed.push(spec.path.clone()),
                None => reload.added.push(spec.path.clone()),
            }
        }
        let gone: Vec<PathBuf> = self
            .loaded
            .keys()
            .filter(|k| !keep.contains(k))
            .cloned()
            .collect();
        for key in gone {
            self.loaded.remove(&key);
            reload.removed.push(key);
        }
        self.mounted = specs
            .iter()
            .zip(keep)
            .map(|(spec, key)| {
                let mount = Mount::new(
                    spec.prefix.as_deref(),
                    &spec.tags,
                    &spec.disabled_components,
                );
                (mount, key)
            })
            .collect();
        self.read_specs(&mut errors).await;
        if !self.waited {
            // The first catalog has what is up: each upstream's first
            // connection attempt is bounded by its timeout.
            self.upstreams.first_attempts().await;
            self.waited = true;
        }
        let (catalog, mount_errors) = self.rebuild();
        reload.catalog = catalog;
        errors.extend(mount_errors);
        reload.errors = errors;
        reload
    }

    /// Read the enabled OpenAPI specs: a file on every scan (it may have
    /// been edited), a URL until it has been fetched once. A spec that
    /// fails keeps the version read before, if any.
    async fn read_specs(&mut self, errors: &mut Vec<LoadError>) {
        let apis = &self.apis;
        let due: Vec<_> = self
            .config
            .openapi
            .iter()
            .filter(|api| api.enabled)
            .filter(|api| matches!(api.spec, SpecSource::File(_)) || !apis.contains_key(&api.name))
            .collect();
        let read = futures::future::join_all(due.iter().map(|api| OpenApi::load(api))).await;
        for (config, result) in due.into_iter().zip(read) {
            match result {
                Ok(api) => {
                    self.apis.insert(config.name.clone(), Arc::new(api));
                }
                Err(e) => errors.push(e),
            }
        }
    }

    /// A new catalog from the plugins of the last scan (files are not read
    /// again) and what each upstream lists now, with the errors of
    /// mounting them. Plugins come first, then upstreams, then OpenAPI
    /// specs, each in config order.
    pub fn rebuild(&self) -> (Catalog, Vec<LoadError>) {
        let mut catalog = Catalog::default();
        let mut errors = Vec::new();
        let filter = &self.config.server.tags;
        for (mount, key) in &self.mounted {
            if let Some(loaded) = self.loaded.get(key)
                && let Err(e) = catalog.add(loaded.plugin.clone(), mount, filter)
            {
                errors.push(e);
            }
        }
        for upstream in self.upstreams.all() {
            let config = upstream.config();
            let mount = Mount::new(
                config.prefix.as_deref(),
                &config.tags,
                &config.disabled_components,
            );
            if let Err(e) = catalog.add(upstream.clone(), &mount, filter) {
                errors.push(e);
            }
        }
        for api in self.apis.values() {
            let config = api.config();
            let mount = Mount::new(
                config.prefix.as_deref(),
                &config.tags,
                &config.disabled_components,
            );
            if let Err(e) = catalog.add(api.clone(), &mount, filter) {
                errors.push(e);
            }
        }
        (catalog, errors)
    }

    /// Resolves when an upstream's listing changed (it connected, went
    /// away, or announced list_changed): time to [`rebuild`](Self::rebuild).
    pub async fn upstream_changed(&self) {
        self.upstreams.changed().await;
    }

    /// Whether any upstream is configured (its lists can change at any time).
    pub fn has_upstreams(&self) -> bool {
        !self.upstreams.all().is_empty()
    }
}

fn key_of(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_owned())
}

/// The `.wasm` files of a directory, sorted by name.
pub(crate) fn plugin_files(dir: &Path) -> Result<Vec<PathBuf>, LoadError> {
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
pub(crate) fn plugin_specs(
    paths: &[PathBuf],
    config: &Config,
) -> (Vec<PluginConfig>, Vec<LoadError>) {
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
    for spec in &mut specs {
        apply_lock(spec, config);
    }
    (specs, errors)
}

/// Mark `spec` with what `config`'s lock says of its file, and whether
/// an unlocked file is refused.
fn apply_lock(spec: &mut PluginConfig, config: &Config) {
    spec.require_signed = config.server.require_signatures;
    spec.locked = config.lock.as_ref().and_then(|lock| {
        let (name, locked) = lock.entry_for(&spec.path)?;
        Some(LockedFile {
            name: name.to_owned(),
            reference: locked.reference.clone(),
            sha256: crate::config::parse_sha256(&locked.sha256)?,
            signer: locked.signer.clone(),
        })
    });
}

/// How the plugin file at `path` is loaded under `config`: its config
/// entry, else the defaults; with the lock's digest and
/// `require_signatures` applied, as [`load`] checks them.
pub fn plugin_spec(path: &Path, config: &Config) -> PluginConfig {
    let key = canonical(path);
    let mut spec = config
        .plugins
        .iter()
        .find(|p| canonical(&p.path) == key)
        .cloned()
        .unwrap_or_else(|| PluginConfig::for_file(path, config.limits.clone()));
    apply_lock(&mut spec, config);
    spec
}

fn canonical(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_owned())
}

/// How many plugins [`load`] loads at once. Each load reads, hashes and
/// deserializes (or compiles) on a blocking thread, and each such thread's
/// allocator keeps pages of what it built; compiling already uses every
/// core. With 8 at once, 50 small plugins idled with 22–26 MiB of anonymous
/// memory; with 2, 14 MiB, and started as fast from a warm cache.
pub const PARALLEL_LOADS: usize = 2;

/// Load the plugins in `paths` (directories or `.wasm` files) and those
/// `config` names, mounted and filtered as it says: one [`Loader`] scan. A
/// plugin that fails to load is reported in the returned errors; the
/// others are served.
pub async fn load(
    runtime: &Runtime,
    paths: &[PathBuf],
    config: &Config,
) -> (Catalog, Vec<LoadError>) {
    let mut loader = Loader::new(runtime.clone(), paths.to_vec(), config.clone());
    let loaded = loader.scan().await;
    (loaded.catalog, loaded.errors)
}
