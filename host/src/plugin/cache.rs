//! The on-disk compile cache: compiled components keyed by the sha256 of the
//! `.wasm` file and the engine's compatibility hash, so an unchanged plugin is
//! not compiled again after a restart.
//!
//! An entry is `<key>.cwasm` plus `<key>.sha256` holding the digest of the
//! `.cwasm`. An entry whose digest does not match (truncated, corrupt,
//! tampered) or that wasmtime refuses (another engine, another version) is
//! ignored and rebuilt, never trusted.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

/// Where the cache lives: `$CORRAL_CACHE_DIR`, else `$XDG_CACHE_HOME/corral`,
/// else `~/.cache/corral`. `None` turns caching off (`CORRAL_CACHE_DIR=off`).
pub(crate) fn default_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("CORRAL_CACHE_DIR") {
        return (dir != "off").then(|| PathBuf::from(dir));
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME") {
        return Some(PathBuf::from(dir).join("corral"));
    }
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache").join("corral"))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The cache key for a `.wasm` file whose sha256 is `digest`, compiled by
/// `engine`.
pub(crate) fn key(engine: &Engine, digest: &[u8; 32]) -> String {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    env!("CARGO_PKG_VERSION").hash(&mut hasher);
    format!("{}-{:016x}", hex(digest), hasher.finish())
}

/// A cached compilation of `key`, if a sound one exists.
pub(crate) fn load(dir: &Path, engine: &Engine, key: &str) -> Option<Component> {
    let code = std::fs::read(dir.join(format!("{key}.cwasm"))).ok()?;
    let recorded = std::fs::read_to_string(dir.join(format!("{key}.sha256"))).ok()?;
    if hex(&Sha256::digest(&code)) != recorded.trim() {
        tracing::warn!(key, "compile cache entry is corrupt; recompiling");
        return None;
    }
    // SAFETY: the bytes are exactly what `Component::serialize` wrote for this
    // engine configuration (the digest above proves they were not altered
    // since), and wasmtime checks the engine compatibility header itself.
    match unsafe { Component::deserialize(engine, &code) } {
        Ok(component) => Some(component),
        Err(e) => {
            tracing::warn!(key, "compile cache entry refused ({e:#}); recompiling");
            None
        }
    }
}

/// Store `component` under `key`. Failures are logged, not fatal.
pub(crate) fn store(dir: &Path, key: &str, component: &Component) {
    let result = (|| -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        let code = component
            .serialize()
            .map_err(|e| std::io::Error::other(format!("{e:#}")))?;
        let digest = hex(&Sha256::digest(&code));
        // Write to temporary names and rename, so readers never see half an entry.
        let unique = format!("{}-{:?}", std::process::id(), std::thread::current().id());
        let tmp_code = dir.join(format!("{key}.cwasm.{unique}.tmp"));
        let tmp_digest = dir.join(format!("{key}.sha256.{unique}.tmp"));
        std::fs::write(&tmp_code, &code)?;
        std::fs::write(&tmp_digest, &digest)?;
        std::fs::rename(&tmp_code, dir.join(format!("{key}.cwasm")))?;
        std::fs::rename(&tmp_digest, dir.join(format!("{key}.sha256")))?;
        Ok(())
    })();
    if let Err(e) = result {
        tracing::warn!("cannot write the compile cache in {}: {e}", dir.display());
    }
}
