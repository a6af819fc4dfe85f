//! `corral build FILE -o plugin.wasm`: a plugin written with one of Corral's
//! SDKs, built into a component in one command.
//!
//! - `app.py`: the Python SDK (`from corral import FastMCP`), with
//!   componentize-py (`python.rs`);
//! - `app.js` / `app.ts`: the JavaScript SDK (`import { FastMCP } from
//!   'corral-sdk'`), bundled with esbuild and built with ComponentizeJS
//!   (`js.rs`).
//!
//! Each SDK and the WIT contract are compiled into this binary and written
//! to a scratch directory for each build, so the command works anywhere
//! (`--sdk PATH` builds against another copy of the SDK instead). The
//! toolchains come from an environment variable, or from a cache directory
//! that the first build fills (a venv, an npm project).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use clap::Args;

/// An SDK's files, embedded: `embed_sdk!("python": "corral/__init__.py", ...)`
/// gives each path under `sdk/python` with its text.
macro_rules! embed_sdk {
    ($dir:literal: $($path:literal),* $(,)?) => {
        &[$(($path, include_str!(concat!("../../../../sdk/", $dir, "/", $path)))),*]
    };
}

mod js;
mod python;

#[derive(Args)]
pub struct BuildArgs {
    /// The plugin's source: a Python file (`app.py`) or a JavaScript or
    /// TypeScript module (`app.js`, `app.ts`) that makes a `FastMCP` and
    /// registers its tools.
    file: PathBuf,
    /// Where to write the component [default: FILE with the extension .wasm].
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// (Python) more directories to import modules from (pure-Python
    /// packages the plugin uses); the plugin's own directory is always
    /// searched. JavaScript resolves packages from `node_modules` as usual.
    #[arg(short = 'p', long = "path")]
    paths: Vec<PathBuf>,
    /// Build against this copy of the SDK (for Python a directory holding
    /// the `corral` package, for JavaScript one holding `src/index.js`)
    /// instead of the one inside this binary.
    #[arg(long)]
    sdk: Option<PathBuf>,
}

/// The WIT world SDK plugins target: everything the host knows how to use.
const WORLD: &str = "full";

/// The WIT contract the component is built against.
const WIT: &str = include_str!("../../../../wit/mcp.wit");

/// One embedded SDK file: its path in the SDK's directory and its text.
type SdkFile = (&'static str, &'static str);

pub fn build(args: BuildArgs) -> anyhow::Result<()> {
    let file = &args.file;
    let extension = file.extension().and_then(|e| e.to_str()).unwrap_or("");
    let source = file
        .canonicalize()
        .with_context(|| format!("reading {}", file.display()))?;
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| file.with_extension("wasm"));
    let scratch = Scratch::new()?;
    write(&scratch.0.join("wit/mcp.wit"), WIT)?;
    match extension {
        "py" => python::build(&args, &source, &scratch.0, &output)?,
        "js" | "mjs" | "ts" | "mts" => js::build(&args, &source, &scratch.0, &output)?,
        _ => bail!(
            "{}: expected the plugin's source, a Python file (app.py) or a JavaScript or TypeScript module (app.js, app.ts)",
            file.display()
        ),
    }
    let size = std::fs::metadata(&output)
        .with_context(|| format!("reading {}", output.display()))?
        .len();
    eprintln!("built {} ({})", output.display(), corral::human_size(size));
    Ok(())
}

/// The SDK to build against: `--sdk` (checked to hold `marker`), else the
/// embedded `files` written under `scratch/sdk`.
fn sdk_dir(
    explicit: Option<&Path>,
    marker: &str,
    files: &[SdkFile],
    scratch: &Path,
) -> anyhow::Result<PathBuf> {
    match explicit {
        Some(dir) => {
            let dir = dir
                .canonicalize()
                .with_context(|| format!("--sdk {}", dir.display()))?;
            if !dir.join(marker).exists() {
                bail!("--sdk {}: no {marker} there", dir.display());
            }
            Ok(dir)
        }
        None => {
            let dir = scratch.join("sdk");
            for (path, text) in files {
                write(&dir.join(path), text)?;
            }
            Ok(dir)
        }
    }
}

/// Corral's directory for build toolchains: `$XDG_CACHE_HOME/corral`, else
/// `~/.cache/corral`.
fn toolchain_cache(env_hint: &str) -> anyhow::Result<PathBuf> {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .map(|base| base.join("corral"))
        .with_context(|| format!("neither XDG_CACHE_HOME nor HOME is set: set {env_hint}"))
}

/// Run a toolchain step; its own output explains a failure.
fn step(cmd: &mut Command, what: &str) -> anyhow::Result<()> {
    // An error in the plugin is the toolchain's message; a Rust backtrace
    // under it (componentize-py's) would only bury it.
    cmd.env("RUST_BACKTRACE", "0");
    let status = cmd
        .status()
        .with_context(|| format!("running {:?}", cmd.get_program()))?;
    if !status.success() {
        bail!("{what} failed ({status}); its output above says why");
    }
    Ok(())
}

fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

/// A directory for one build's generated files, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> anyhow::Result<Self> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let dir = std::env::temp_dir().join(format!("corral-build-{}-{nanos}", std::process::id()));
        std::fs::create_dir(&dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(Self(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every source file of an SDK directory (`.py` or `.js` under `under`),
    /// as paths relative to `root`.
    pub fn files_on_disk(root: &Path, extension: &str) -> Vec<String> {
        fn walk(dir: &Path, root: &Path, extension: &str, out: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                if path.is_dir() {
                    if !["__pycache__", "tests", "test", "node_modules"].contains(&name.as_str()) {
                        walk(&path, root, extension, out);
                    }
                } else if path.extension().is_some_and(|e| e == extension) {
                    let relative = path.strip_prefix(root).unwrap();
                    out.push(relative.to_string_lossy().into_owned());
                }
            }
        }
        let mut out = Vec::new();
        walk(root, root, extension, &mut out);
        out.sort();
        out
    }

    pub fn embedded(files: &[SdkFile]) -> Vec<String> {
        let mut out: Vec<String> = files.iter().map(|(p, _)| (*p).to_owned()).collect();
        out.sort();
        out
    }

    #[test]
    fn the_embedded_sdks_are_the_whole_sdks() {
        let sdk = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sdk");
        assert_eq!(
            embedded(python::SDK),
            files_on_disk(&sdk.join("python"), "py")
        );
        assert_eq!(embedded(js::SDK), files_on_disk(&sdk.join("js"), "js"));
    }
}
