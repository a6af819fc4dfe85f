//! Hot reload: keep a served catalog in step with the plugin files on disk.
//!
//! [`watch`] runs a [`Loader`] scan when the directories a [`FileWatch`]
//! watches change, after writes have settled, and swaps each new catalog
//! into a [`CorralServer`]. A file that fails to load never replaces the
//! version already served (the loader keeps it).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use crate::loader::{Loaded, Loader};
use crate::transport::CorralServer;

/// How long the watched files must stay quiet before a scan: a compiler or
/// a copy writing a file in pieces is done before it is read.
pub const RELOAD_DEBOUNCE: Duration = Duration::from_millis(200);

/// Errors starting to watch.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WatchError {
    /// The file watcher could not be created, or could not watch a directory.
    #[error("cannot watch {path}: {source}")]
    Watch {
        /// The directory (empty when the watcher itself could not be created).
        path: PathBuf,
        /// The watcher's error.
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
    /// Resolves once a change was seen and no other followed for
    /// [`RELOAD_DEBOUNCE`] (a compiler or a copy has finished writing).
    async fn settled(&self) {
        self.changed.notified().await;
        loop {
            tokio::select! {
                _ = self.changed.notified() => continue,
                _ = tokio::time::sleep(RELOAD_DEBOUNCE) => return,
            }
        }
    }

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

/// Keep `server`'s catalog in step: whenever `.wasm` files in the watched
/// directories change (with `files`) and then stay quiet for
/// [`RELOAD_DEBOUNCE`], scan; whenever an upstream's listing changes,
/// rebuild. Runs until the future is dropped. Every outcome is logged: what
/// was added, changed or removed, and every file that failed (with its
/// previous version kept).
pub async fn watch(server: CorralServer, mut loader: Loader, files: Option<FileWatch>) {
    loop {
        let files_changed = async {
            match &files {
                Some(files) => files.settled().await,
                None => std::future::pending().await,
            }
        };
        let upstream = tokio::select! {
            () = files_changed => false,
            () = loader.upstream_changed() => true,
        };
        if upstream {
            let (catalog, errors) = loader.rebuild();
            for error in &errors {
                tracing::error!("{error}");
            }
            server.replace_catalog(catalog).await;
            continue;
        }
        let reload = loader.scan().await;
        report(&reload);
        if reload.changed_anything() {
            server.replace_catalog(reload.catalog).await;
        }
    }
}

fn is_wasm(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "wasm")
}

fn report(reload: &Loaded) {
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
