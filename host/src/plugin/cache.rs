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

use crate::config::{Limits, hex};
use crate::model::{Listing, MAX_LISTING_BYTES};
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

/// The cache key for a `.wasm` file whose sha256 is `digest`, compiled by
/// `engine`.
pub(crate) fn key(engine: &Engine, digest: &[u8; 32]) -> String {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    env!("CARGO_PKG_VERSION").hash(&mut hasher);
    format!("{}-{:016x}", hex(digest), hasher.finish())
}

/// Why a cache directory or entry is not trusted, if it is not: it must be
/// this user's, and writable by nobody else.
fn untrusted(metadata: &std::fs::Metadata) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if metadata.uid() != me {
        return Some(format!("owned by uid {}, not {me}", metadata.uid()));
    }
    if metadata.mode() & 0o022 != 0 {
        return Some(format!(
            "writable by group or others (mode {:o})",
            metadata.mode() & 0o7777
        ));
    }
    None
}

/// The cache directory, created 0700 if missing; `None` (with a warning)
/// when it exists but is not trusted.
pub(crate) fn trusted_dir(dir: &Path) -> Option<&Path> {
    use std::os::unix::fs::DirBuilderExt;
    if let Err(e) = std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
    {
        tracing::warn!("compile cache off: cannot create {}: {e}", dir.display());
        return None;
    }
    let metadata = match std::fs::symlink_metadata(dir) {
        Ok(m) if m.is_dir() => m,
        Ok(_) => {
            tracing::warn!("compile cache off: {} is not a directory", dir.display());
            return None;
        }
        Err(e) => {
            tracing::warn!("compile cache off: {}: {e}", dir.display());
            return None;
        }
    };
    if let Some(why) = untrusted(&metadata) {
        tracing::warn!(
            "compile cache off: {} is {why}; its code would run outside the sandbox",
            dir.display()
        );
        return None;
    }
    Some(dir)
}

/// Open a cache file without following symlinks; `None` if it is missing,
/// not a regular file, or not trusted.
fn open_entry(path: &Path) -> Option<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .ok()?;
    let metadata = file.metadata().ok()?;
    if !metadata.is_file() {
        return None;
    }
    if let Some(why) = untrusted(&metadata) {
        tracing::warn!("compile cache entry {} refused: {why}", path.display());
        return None;
    }
    Some(file)
}

/// A cache file's bytes (see [`open_entry`]).
fn read_entry(path: &Path) -> Option<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    open_entry(path)?.read_to_end(&mut bytes).ok()?;
    Some(bytes)
}

/// A cache file's SHA-256 in hex (see [`open_entry`]), read in chunks: an
/// entry is mapped afterwards, so it is never held whole in the heap.
fn digest_entry(path: &Path) -> Option<String> {
    use std::io::Read;
    let mut file = open_entry(path)?;
    let mut hasher = Sha256::new();
    let mut chunk = vec![0; 64 * 1024];
    loop {
        match file.read(&mut chunk) {
            Ok(0) => return Some(hex(&hasher.finalize())),
            Ok(n) => hasher.update(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
}

/// The size of the writes that make a cache file. The page cache keeps a
/// file in folios as large as the writes that filled it, and a fault on a
/// mapped file maps the whole folio around it (Linux 6.18, ext4): an entry
/// written in one piece became resident whole when wasmtime read its header
/// (about 1 MiB a small plugin), one written in pieces of this size only
/// around the places read. The fault-around window is 64 KiB too.
const WRITE_PIECE: usize = 64 * 1024;

/// Write a new file exclusively (never through a symlink or over an
/// existing file), readable by this user only, in [`WRITE_PIECE`]s.
fn write_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)?;
    for piece in bytes.chunks(WRITE_PIECE) {
        file.write_all(piece)?;
    }
    file.sync_data()
}

/// A cached compilation of `key`, if a sound one exists.
///
/// The entry is checked (a regular file of this user's, not behind a
/// symlink, whose digest matches the one recorded beside it) and then
/// mapped, not copied: its code and its memory images stay file-backed
/// pages, shared with the page cache and read in only where they are used,
/// rather than a private copy of the whole entry per plugin.
pub(crate) fn load(dir: &Path, engine: &Engine, key: &str) -> Option<Component> {
    let dir = trusted_dir(dir)?;
    let path = dir.join(format!("{key}.cwasm"));
    let digest = digest_entry(&path)?;
    let recorded = read_entry(&dir.join(format!("{key}.sha256")))?;
    let recorded = String::from_utf8(recorded).ok()?;
    if digest != recorded.trim() {
        tracing::warn!(key, "compile cache entry is corrupt; recompiling");
        return None;
    }
    // SAFETY: the file holds exactly what `Component::serialize` wrote for
    // this engine configuration (the digest above proves it was not altered
    // since; only this user can write in the trusted directory, and entries
    // are only ever written whole under a temporary name and renamed into
    // place, never rewritten, so the mapped file cannot change under us), and
    // wasmtime checks the engine compatibility header itself.
    match unsafe { Component::deserialize_file(engine, &path) } {
        Ok(component) => Some(component),
        Err(e) => {
            tracing::warn!(key, "compile cache entry refused ({e:#}); recompiling");
            None
        }
    }
}

/// Store `component` under `key`. Failures are logged, not fatal.
pub(crate) fn store(dir: &Path, key: &str, component: &Component) {
    let Some(dir) = trusted_dir(dir) else {
        return;
    };
    let result = (|| -> std::io::Result<()> {
        let code = component
            .serialize()
            .map_err(|e| std::io::Error::other(format!("{e:#}")))?;
        let digest = hex(&Sha256::digest(&code));
        // Write to temporary names and rename, so readers never see half an entry.
        let unique = unique();
        let tmp_code = dir.join(format!("{key}.cwasm.{unique}.tmp"));
        let tmp_digest = dir.join(format!("{key}.sha256.{unique}.tmp"));
        write_new(&tmp_code, &code)?;
        write_new(&tmp_digest, digest.as_bytes())?;
        std::fs::rename(&tmp_code, dir.join(format!("{key}.cwasm")))?;
        std::fs::rename(&tmp_digest, dir.join(format!("{key}.sha256")))?;
        Ok(())
    })();
    if let Err(e) = result {
        tracing::warn!("cannot write the compile cache in {}: {e}", dir.display());
    }
}

/// The most bytes a kept listing may take: its strings (bounded by
/// [`MAX_LISTING_BYTES`]) written as JSON, where escaping can double them.
const MAX_LISTING_ENTRY_BYTES: u64 = 2 * MAX_LISTING_BYTES as u64 + 1024 * 1024;

/// Where a plugin's listing is kept beside its compiled code, so that a
/// start with a warm cache serves the plugin without instantiating it (no
/// code or memory image of an idle plugin is touched).
///
/// Kept only when the listing is a function of what the key covers: the
/// component, the limits it ran under and the values of its environment
/// variables. A plugin granted directories or hosts may list what it reads
/// there, so it is listed at every load. (A listing that varies with the
/// clock or randomness is kept as it first came out.)
pub(crate) struct ListingEntry {
    path: PathBuf,
}

impl ListingEntry {
    /// The entry in `dir` for the component whose `.wasm` digest is
    /// `digest`, run under `limits` seeing `inputs`
    /// ([`Sandbox::fixed_inputs`]); `None` when there is nothing to key it by.
    ///
    /// [`Sandbox::fixed_inputs`]: crate::runtime::Sandbox::fixed_inputs
    pub(crate) fn new(
        dir: &Path,
        engine: &Engine,
        digest: &[u8; 32],
        limits: &Limits,
        inputs: Option<&[(String, String)]>,
    ) -> Option<Self> {
        let inputs = inputs?;
        let mut hasher = Sha256::new();
        let mut field = |bytes: &[u8]| {
            hasher.update((bytes.len() as u64).to_le_bytes());
            hasher.update(bytes);
        };
        field(format!("{limits:?}").as_bytes());
        for (name, value) in inputs {
            field(name.as_bytes());
            field(value.as_bytes());
        }
        let inputs = hex(&hasher.finalize()[..8]);
        Some(Self {
            path: dir.join(format!("{}-{inputs}.listing", key(engine, digest))),
        })
    }

    /// The kept listing, if there is a sound one.
    pub(crate) fn load(&self) -> Option<Listing> {
        use std::io::Read;
        trusted_dir(self.path.parent()?)?;
        let mut bytes = Vec::new();
        open_entry(&self.path)?
            .take(MAX_LISTING_ENTRY_BYTES)
            .read_to_end(&mut bytes)
            .ok()?;
        serde_json::from_slice(&bytes)
            .inspect_err(
                |e| tracing::warn!(entry = %self.path.display(), "kept listing refused: {e}"),
            )
            .ok()
    }

    /// Keep `listing`. Failures are logged, not fatal.
    pub(crate) fn store(&self, listing: &Listing) {
        let Some(dir) = self.path.parent().and_then(trusted_dir) else {
            return;
        };
        let result = serde_json::to_vec(listing)
            .map_err(std::io::Error::other)
            .and_then(|json| {
                let tmp = self.path.with_extension(format!("{}.tmp", unique()));
                write_new(&tmp, &json)?;
                std::fs::rename(&tmp, &self.path)
            });
        if let Err(e) = result {
            tracing::warn!("cannot write the compile cache in {}: {e}", dir.display());
        }
    }
}

/// A suffix no other writer uses at the same time (readers never see a
/// file until it is whole and renamed into place).
fn unique() -> String {
    format!("{}-{:?}", std::process::id(), std::thread::current().id())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;
    use std::sync::Arc;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("corral-cache-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn a_file_written_in_pieces_is_whole() {
        let dir = scratch("pieces");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("entry");
        let bytes: Vec<u8> = (0..3 * WRITE_PIECE + 17).map(|i| (i % 251) as u8).collect();
        write_new(&path, &bytes).unwrap();
        assert_eq!(
            std::fs::read(&path).unwrap(),
            bytes,
            "every piece, the last one short"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_directory_is_private_and_a_shared_one_is_refused() {
        let dir = scratch("mode");
        assert!(trusted_dir(&dir).is_some());
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        assert!(
            trusted_dir(&dir).is_none(),
            "a world-writable cache is refused"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn entries_writable_by_others_or_behind_symlinks_are_not_read() {
        let dir = scratch("entries");
        trusted_dir(&dir).unwrap();
        let entry = dir.join("k.cwasm");
        write_new(&entry, b"code").unwrap();
        assert_eq!(read_entry(&entry).as_deref(), Some(&b"code"[..]));
        assert!(
            write_new(&entry, b"again").is_err(),
            "never over an existing file"
        );
        std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(0o666)).unwrap();
        assert_eq!(read_entry(&entry), None);
        let link = dir.join("link.cwasm");
        std::os::unix::fs::symlink(&entry, &link).unwrap();
        assert_eq!(read_entry(&link), None);
        assert!(write_new(&link, b"x").is_err(), "never through a symlink");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_kept_listing_is_keyed_by_what_the_plugin_can_read() {
        let dir = scratch("listing");
        let runtime = crate::Runtime::new().unwrap();
        let engine = runtime.engine();
        let limits = Limits::default();
        let env = |value: &str| vec![("NAME".to_owned(), value.to_owned())];
        let entry = |digest: u8, limits: &Limits, inputs: &[(String, String)]| {
            ListingEntry::new(&dir, engine, &[digest; 32], limits, Some(inputs)).unwrap()
        };
        let listing = Listing {
            tools: vec![crate::model::ToolDef {
                name: "t".into(),
                title: None,
                description: Some("kept".into()),
                input_schema: Arc::default(),
                output_schema: None,
                annotations: None,
                tags: vec!["a".into()],
                icons: Vec::new(),
                task_support: crate::model::TaskSupport::Optional,
            }],
            ..Listing::default()
        };
        let kept = entry(1, &limits, &env("a"));
        assert_eq!(kept.load(), None, "nothing kept yet");
        kept.store(&listing);
        assert_eq!(kept.load(), Some(listing), "kept whole");
        let mut other_limits = limits.clone();
        other_limits.fuel += 1;
        for (what, other) in [
            ("another component", entry(2, &limits, &env("a"))),
            ("another value", entry(1, &limits, &env("b"))),
            ("other limits", entry(1, &other_limits, &env("a"))),
        ] {
            assert_eq!(other.load(), None, "{what}");
        }
        assert!(
            ListingEntry::new(&dir, engine, &[1; 32], &limits, None).is_none(),
            "a plugin that reads directories or the network is not kept"
        );
        std::fs::write(&kept.path, b"{\"tools\": [").unwrap();
        assert_eq!(kept.load(), None, "a broken entry is listed again");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_stored_entry_loads_and_an_altered_one_is_refused() {
        let dir = scratch("load");
        let runtime = crate::Runtime::new().unwrap();
        let engine = runtime.engine();
        // The smallest component: the header alone.
        let component = Component::new(engine, b"\0asm\x0d\0\x01\0").unwrap();
        store(&dir, "k", &component);
        assert!(load(&dir, engine, "k").is_some(), "the stored entry maps");
        let entry = dir.join("k.cwasm");
        let mut code = std::fs::read(&entry).unwrap();
        let last = code.len() - 1;
        code[last] ^= 1;
        std::fs::remove_file(&entry).unwrap();
        write_new(&entry, &code).unwrap();
        assert!(
            load(&dir, engine, "k").is_none(),
            "an entry that no longer has its recorded digest is not mapped"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
