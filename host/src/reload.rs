//! Hot reload: keep a served catalog in step with the plugin files on disk.
//!
//! A [`Reloader`] remembers every plugin it loaded with the sha256 of its
//! file. Each [`scan`](Reloader::scan) lists the plugin files again, loads
//! the new and changed ones beside the old, and builds a new [`Catalog`]:
//! a file that fails to load (half written, invalid, wrong world) never
//! replaces the version already served. [`watch`] runs scans when the
//! directories a [`FileWatch`] watches change, after writes have settled,
//! and swaps each new catalog into a [`CorralServer`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use futures::StreamExt;

use crate::catalog::{Catalog, Mount, PARALLEL_LOADS, TagFilter, plugin_specs};
use crate::config::Config;
use crate::error::LoadError;
use crate::plugin::{PluginFile, WasmPlugin};
use crate::runtime::Runtime;
use crate::server::CorralServer;

/// How long the watched files must stay quiet before a scan: a compiler or
/// a copy writing a file in pieces is done before it is read.
pub const RELOAD_DEBOUNCE: Duration = Duration::from_millis(200);

/// One loaded plugin and the file contents it came from.
struct Loaded {
    digest: [u8; 32],
    plugin: Arc<WasmPlugin>,
}

/// What one scan found and the catalog it built.
#[derive(Debug, Default)]
pub struct Reload {
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

impl Reload {
    /// Whether the served plugins differ from before the scan.
    pub fn changed_anything(&self) -> bool {
        !(self.added.is_empty() && self.changed.is_empty() && self.removed.is_empty())
    }
}

/// Loads plugins from paths and a config, and reloads what changed.
pub struct Reloader {
    runtime: Runtime,
    paths: Vec<PathBuf>,
    config: Config,
    filter: TagFilter,
    loaded: HashMap<PathBuf, Loaded>,
    /// The digest of each file whose last load failed: it is tried again
    /// only when its contents change (a large component that fails late
    /// would otherwise be compiled on every scan).
    failed: HashMap<PathBuf, [u8; 32]>,
}

impl Reloader {
    /// A reloader for the plugins in `paths` (directories or files) and
    /// those `config` names, filtered by `filter`. Nothing is loaded until
    /// the first [`scan`](Self::scan).
    pub fn new(runtime: Runtime, paths: Vec<PathBuf>, config: Config, filter: TagFilter) -> Self {
        Self {
            runtime,
            paths,
            config,
            filter,
            loaded: HashMap::new(),
            failed: HashMap::new(),
        }
    }

    /// The directories to watch: every plugin directory, and the directory
    /// of every plugin file (files are often replaced by a rename).
    pub fn watched_dirs(&self) -> Vec<PathBuf> {
        let mut dirs: Vec<PathBuf> = Vec::new();
        let files = self.config.plugins.iter().map(|p| p.path.clone());
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
    pub async fn scan(&mut self) -> Reload {
        let (specs, mut errors) = plugin_specs(&self.paths, &self.config);
        let mut reload = Reload::default();
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
            match self.loaded.insert(key.clone(), Loaded { digest, plugin }) {
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
        for (spec, key) in specs.iter().zip(&keep) {
            if let Some(loaded) = self.loaded.get(key)
                && let Err(e) =
                    reload
                        .catalog
                        .add(loaded.plugin.clone(), &Mount::of(spec), &self.filter)
            {
                errors.push(e);
            }
        }
        reload.errors = errors;
        reload
    }
}

fn key_of(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_owned())
}

/// Errors starting to watch.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error("cannot watch {path}: {source}")]
    Watch {
        path: PathBuf,
        #[source]
        source: notify::Error,
    },
}

/// A watch on plugin directories: remembers that a `.wasm` file there
/// changed until [`watch`] looks. Start it before the first scan, so that
/// nothing written while plugins load is missed.
pub struct FileWatch {
    _watcher: notify::RecommendedWatcher,
    changed: Arc<Notify>,
}

impl FileWatch {
    /// Watch `dirs` (not recursively).
    pub fn start(dirs: &[PathBuf]) -> Result<Self, WatchError> {
        use notify::Watcher;
        let changed = Arc::new(Notify::new());
        let signal = changed.clone();
        let mut watcher =
            notify::recommended_watcher(move |event: notify::Result<notify::Event>| match event {
                // Reading a file (as a scan does) is an access event: only
                // writes, creations, renames and removals start a scan.
                Ok(event) if !event.kind.is_access() && event.paths.iter().any(|p| is_wasm(p)) => {
                    signal.notify_one()
                }
                Ok(_) => {}
                Err(e) => tracing::warn!("file watcher: {e}"),
            })
            .map_err(|source| WatchError::Watch {
                path: PathBuf::new(),
                source,
            })?;
        for dir in dirs {
            watcher
                .watch(dir, notify::RecursiveMode::NonRecursive)
                .map_err(|source| WatchError::Watch {
                    path: dir.clone(),
                    source,
                })?;
            tracing::info!("watching {}", dir.display());
        }
        Ok(Self {
            _watcher: watcher,
            changed,
        })
    }
}

/// Whenever `.wasm` files in the watched directories change and then stay
/// quiet for [`RELOAD_DEBOUNCE`], scan and serve the new catalog. Runs until
/// the future is dropped. Every outcome is logged: what was added, changed
/// or removed, and every file that failed (with its previous version kept).
pub async fn watch(server: CorralServer, mut reloader: Reloader, files: FileWatch) {
    let changed = &files.changed;
    loop {
        changed.notified().await;
        // Debounce: wait until no event arrived for a whole quiet period.
        loop {
            tokio::select! {
                _ = changed.notified() => continue,
                _ = tokio::time::sleep(RELOAD_DEBOUNCE) => break,
            }
        }
        let reload = reloader.scan().await;
        report(&reload);
        if reload.changed_anything() {
            server.replace_catalog(reload.catalog).await;
        }
    }
}

fn is_wasm(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "wasm")
}

fn report(reload: &Reload) {
    for path in &reload.added {
        tracing::info!("reload: added {}", path.display());
    }
    for path in &reload.changed {
        tracing::info!("reload: reloaded {}", path.display());
    }
    for path in &reload.removed {
        tracing::info!("reload: removed {}", path.display());
    }
    for error in &reload.errors {
        tracing::error!(
            "reload: {error} (a version already served keeps serving until this file loads)"
        );
    }
}
