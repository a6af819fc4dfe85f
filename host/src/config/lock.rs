//! `corral.lock`: the plugins added from registries, each pinned to the
//! digest it was verified at. Written by `corral add` and `corral update`
//! (TOML, tables sorted by name, one key per line, so diffs stay small);
//! read by every command that loads plugins, which refuses a locked plugin
//! whose file no longer has the locked digest.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::ConfigError;

/// The lock file's name, next to `corral.toml` (else in the working
/// directory).
pub const LOCK_FILE_NAME: &str = "corral.lock";
/// The lock format written; older or newer ones are refused by name.
const LOCK_VERSION: u32 = 1;

/// A parsed lock file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Lock {
    /// The lock file (its directory anchors the relative paths).
    pub file: PathBuf,
    /// Locked plugins, by name.
    pub plugins: BTreeMap<String, Locked>,
}

/// One locked plugin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Locked {
    /// Where it came from, with the tag as given (`oci://HOST/REPO:TAG`).
    pub reference: String,
    /// The manifest digest it was verified at (`sha256:…`).
    pub digest: String,
    /// The component file, relative to the lock's directory.
    pub path: String,
    /// The sha256 of the component file (hex), the manifest's layer digest.
    pub sha256: String,
    /// Who signed it: `key:sha256:<hex of the public key's SPKI>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signer: Option<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLock {
    version: u32,
    #[serde(default)]
    plugins: BTreeMap<String, Locked>,
}

impl Lock {
    /// An empty lock to be written at `file`.
    pub fn new(file: PathBuf) -> Lock {
        Lock {
            file,
            plugins: BTreeMap::new(),
        }
    }

    /// Read `file`; `Ok(None)` if it does not exist.
    pub fn read(file: &Path) -> Result<Option<Lock>, ConfigError> {
        let text = match std::fs::read_to_string(file) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(ConfigError::Read {
                    file: file.to_owned(),
                    source,
                });
            }
        };
        let invalid = |message: String| ConfigError::Invalid {
            file: file.to_owned(),
            line: None,
            key: "corral.lock".into(),
            message,
        };
        let raw: RawLock = toml::from_str(&text).map_err(|e| {
            invalid(format!(
                "{}; restore it from version control or run `corral update`",
                e.message()
            ))
        })?;
        if raw.version != LOCK_VERSION {
            return Err(invalid(format!(
                "lock format version {} is not the {LOCK_VERSION} this Corral reads",
                raw.version
            )));
        }
        for (name, locked) in &raw.plugins {
            if locked.sha256.len() != 64 || !locked.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(invalid(format!(
                    "plugins.{name}.sha256 is not 64 hex characters"
                )));
            }
            if Path::new(&locked.path).is_absolute()
                || locked.path.split(['/', '\\']).any(|c| c == "..")
            {
                return Err(invalid(format!(
                    "plugins.{name}.path {:?} must be relative to the lock's directory, without `..`",
                    locked.path
                )));
            }
        }
        Ok(Some(Lock {
            file: file.to_owned(),
            plugins: raw.plugins,
        }))
    }

    /// The lock's text, as [`write`](Self::write) saves it.
    pub fn to_text(&self) -> String {
        let raw = RawLock {
            version: LOCK_VERSION,
            plugins: self.plugins.clone(),
        };
        let body = toml::to_string(&raw).expect("a lock serializes");
        format!(
            "# Written by `corral add` and `corral update`: the plugins added from registries,\n# each pinned to the digest its signature was verified at. Commit it; do not edit it.\n{body}"
        )
    }

    /// Write the lock (through a temporary file and a rename).
    pub fn write(&self) -> std::io::Result<()> {
        let tmp = self.file.with_extension("lock.tmp");
        std::fs::write(&tmp, self.to_text())?;
        std::fs::rename(&tmp, &self.file)
    }

    /// The directory relative paths start from.
    pub fn dir(&self) -> &Path {
        match self.file.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        }
    }

    /// The locked entry for the plugin file `path`, with its name.
    pub fn entry_for(&self, path: &Path) -> Option<(&str, &Locked)> {
        let wanted = canonical(path);
        self.plugins
            .iter()
            .find(|(_, locked)| canonical(&self.dir().join(&locked.path)) == wanted)
            .map(|(name, locked)| (name.as_str(), locked))
    }
}

fn canonical(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_round_trip_sorted_and_refuse_escapes() {
        let dir = std::env::temp_dir().join(format!("corral-lock-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join(LOCK_FILE_NAME);
        let mut lock = Lock::new(file.clone());
        for name in ["zeta", "alpha"] {
            lock.plugins.insert(
                name.into(),
                Locked {
                    reference: format!("oci://127.0.0.1:5000/{name}:1"),
                    digest: format!("sha256:{}", "a".repeat(64)),
                    path: format!("plugins/{name}.wasm"),
                    sha256: "b".repeat(64),
                    signer: Some("key:sha256:c".into()),
                },
            );
        }
        lock.write().unwrap();
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(text.find("[plugins.alpha]").unwrap() < text.find("[plugins.zeta]").unwrap());
        assert_eq!(Lock::read(&file).unwrap().unwrap(), lock);
        std::fs::write(&file, text.replace("plugins/zeta.wasm", "../zeta.wasm")).unwrap();
        let error = Lock::read(&file).unwrap_err().to_string();
        assert!(error.contains("without `..`"), "{error}");
        assert!(Lock::read(&dir.join("missing.lock")).unwrap().is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
