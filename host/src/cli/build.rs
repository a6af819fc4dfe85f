//! `corral build app.py -o app.wasm`: a Python plugin written with Corral's
//! Python SDK (`from corral import FastMCP`), built into a component with
//! componentize-py in one command.
//!
//! The SDK and the WIT contract are compiled into this binary and written to
//! a scratch directory for each build, so the command works anywhere
//! (`--sdk PATH` builds against another copy of the SDK instead).
//! componentize-py comes from `$COMPONENTIZE_PY`, or from a venv that the
//! first build creates in Corral's cache directory.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use clap::Args;

/// The componentize-py release the SDK is built and tested with.
const COMPONENTIZE_PY_VERSION: &str = "0.25.1";

/// The world SDK plugins target: everything the host knows how to use.
const WORLD: &str = "corral:mcp/full";

/// The component's main module: imports the plugin (which registers its
/// functions on a `FastMCP`) and the SDK's WIT exports.
const MAIN_MODULE: &str = "_corral_main";

#[derive(Args)]
pub struct BuildArgs {
    /// The plugin's Python file (it makes a `FastMCP` and decorates its tools).
    file: PathBuf,
    /// Where to write the component [default: FILE with the extension .wasm].
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// More directories to import modules from (pure-Python packages the
    /// plugin uses); the plugin's own directory is always searched.
    #[arg(short = 'p', long = "path")]
    paths: Vec<PathBuf>,
    /// Build against this copy of the Python SDK (a directory holding the
    /// `corral` package) instead of the one inside this binary.
    #[arg(long)]
    sdk: Option<PathBuf>,
}

/// One embedded SDK file: its path under `sdk/python` and its text.
type SdkFile = (&'static str, &'static str);

macro_rules! sdk {
    ($($path:literal),* $(,)?) => {
        &[$(($path, include_str!(concat!("../../../sdk/python/", $path)))),*]
    };
}

/// The Python SDK, as this binary was built with it. A unit test checks the
/// list against the directory, so a new SDK file cannot be left out.
const SDK: &[SdkFile] = sdk!(
    "corral/__init__.py",
    "corral/_component.py",
    "corral/content.py",
    "corral/context.py",
    "corral/convert.py",
    "corral/docstrings.py",
    "corral/exceptions.py",
    "corral/fields.py",
    "corral/functions.py",
    "corral/prompts.py",
    "corral/schema.py",
    "corral/server.py",
    "corral/utilities/__init__.py",
    "corral/utilities/types.py",
    "shims/pydantic/__init__.py",
);

/// The WIT contract the component is built against.
const WIT: &str = include_str!("../../../wit/mcp.wit");

pub fn build(args: BuildArgs) -> anyhow::Result<()> {
    let file = &args.file;
    if file.extension().is_none_or(|e| e != "py") {
        bail!(
            "{}: expected the plugin's Python file (app.py)",
            file.display()
        );
    }
    let module = file
        .file_stem()
        .and_then(|s| s.to_str())
        .filter(|s| is_identifier(s))
        .with_context(|| {
            format!(
                "{}: the file name must be a Python module name (letters, digits, _)",
                file.display()
            )
        })?;
    if module == MAIN_MODULE || module == "corral" || module == "pydantic" {
        bail!(
            "{}: rename the file; `{module}` is the name of a module the build provides",
            file.display()
        );
    }
    let source_dir = file
        .canonicalize()
        .with_context(|| format!("reading {}", file.display()))?
        .parent()
        .map(Path::to_path_buf)
        .context("the plugin file has no directory")?;
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| file.with_extension("wasm"));

    let scratch = Scratch::new()?;
    let scratch_path = scratch.0.as_path();
    write(&scratch_path.join("wit/mcp.wit"), WIT)?;
    write(
        &scratch_path.join(format!("{MAIN_MODULE}.py")),
        &format!(
            "# Written by `corral build`: the plugin, then the SDK's WIT exports.\n\
             import {module}  # noqa: F401\n\
             from corral._component import Completions, Prompts, Resources, Tasks, Tools  # noqa: F401\n"
        ),
    )?;
    let sdk = match &args.sdk {
        Some(dir) => {
            let dir = dir
                .canonicalize()
                .with_context(|| format!("--sdk {}", dir.display()))?;
            if !dir.join("corral/__init__.py").exists() {
                bail!("--sdk {}: no corral/__init__.py there", dir.display());
            }
            dir
        }
        None => {
            let dir = scratch_path.join("sdk");
            for (path, text) in SDK {
                write(&dir.join(path), text)?;
            }
            dir
        }
    };

    let componentize = componentize_py()?;
    let mut cmd = Command::new(&componentize);
    cmd.arg("-d")
        .arg(scratch_path.join("wit"))
        .args(["-w", WORLD, "componentize", MAIN_MODULE])
        .arg("-p")
        .arg(scratch_path)
        .arg("-p")
        .arg(&source_dir);
    for path in &args.paths {
        cmd.arg("-p").arg(path);
    }
    cmd.arg("-p")
        .arg(sdk.join("shims"))
        .arg("-p")
        .arg(&sdk)
        .arg("-o")
        .arg(&output);
    // An error in the plugin is a Python traceback; componentize-py's own
    // Rust backtrace under it would only bury it.
    cmd.env("RUST_BACKTRACE", "0");
    eprintln!("building {} with componentize-py", output.display());
    let status = cmd
        .status()
        .with_context(|| format!("running {}", componentize.display()))?;
    if !status.success() {
        bail!(
            "componentize-py failed ({status}) building {}; its output above says why",
            file.display()
        );
    }
    let size = std::fs::metadata(&output)
        .with_context(|| format!("reading {}", output.display()))?
        .len();
    eprintln!("built {} ({})", output.display(), corral::human_size(size));
    Ok(())
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

/// componentize-py: `$COMPONENTIZE_PY`, else the one in Corral's build venv
/// (made on first use with `python3 -m venv` and pip).
fn componentize_py() -> anyhow::Result<PathBuf> {
    if let Some(path) = std::env::var_os("COMPONENTIZE_PY") {
        return Ok(PathBuf::from(path));
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .context("neither XDG_CACHE_HOME nor HOME is set: set COMPONENTIZE_PY to a componentize-py executable")?;
    let venv = base
        .join("corral")
        .join(format!("componentize-py-{COMPONENTIZE_PY_VERSION}"));
    let exe = venv.join("bin").join("componentize-py");
    if exe.exists() {
        return Ok(exe);
    }
    eprintln!(
        "installing componentize-py {COMPONENTIZE_PY_VERSION} into {} (once)",
        venv.display()
    );
    run(Command::new("python3").arg("-m").arg("venv").arg(&venv))
        .context("creating the build venv needs python3 with the venv module")?;
    run(Command::new(venv.join("bin").join("python")).args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        &format!("componentize-py=={COMPONENTIZE_PY_VERSION}"),
    ]))
    .context("installing componentize-py from PyPI")?;
    Ok(exe)
}

fn run(cmd: &mut Command) -> anyhow::Result<()> {
    let status = cmd
        .status()
        .with_context(|| format!("running {:?}", cmd.get_program()))?;
    if !status.success() {
        bail!("{:?} failed ({status})", cmd.get_program());
    }
    Ok(())
}

fn is_identifier(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `.py` file of `sdk/python` is embedded, and nothing else.
    #[test]
    fn the_embedded_sdk_is_the_whole_sdk() {
        fn walk(dir: &Path, root: &Path, out: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    if path
                        .file_name()
                        .is_some_and(|n| n != "__pycache__" && n != "tests")
                    {
                        walk(&path, root, out);
                    }
                } else if path.extension().is_some_and(|e| e == "py") {
                    let relative = path.strip_prefix(root).unwrap();
                    out.push(relative.to_string_lossy().into_owned());
                }
            }
        }
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sdk/python");
        let mut on_disk = Vec::new();
        walk(&root, &root, &mut on_disk);
        on_disk.sort();
        let mut embedded: Vec<String> = SDK.iter().map(|(p, _)| (*p).to_owned()).collect();
        embedded.sort();
        assert_eq!(embedded, on_disk);
    }

    #[test]
    fn module_names_are_python_identifiers() {
        for good in ["app", "_x", "server2", "my_tools"] {
            assert!(is_identifier(good), "{good}");
        }
        for bad in ["", "2app", "my-tools", "a.b", "é"] {
            assert!(!is_identifier(bad), "{bad}");
        }
    }
}
