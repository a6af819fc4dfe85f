//! `corral new NAME --lang rust|python|js`: a plugin project with one tool,
//! one resource and one prompt, that builds with one command.
//!
//! The templates live in `host/templates/LANG/` and are compiled into the
//! binary; `__NAME__` and `__NAME_SNAKE__` in them become the plugin's name.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Lang {
    /// Rust with corral-sdk (cargo, wasm32-wasip2).
    Rust,
    /// Python with Corral's SDK (FastMCP's API), built by `corral build`.
    Python,
    /// JavaScript with Corral's SDK (FastMCP's TypeScript API), built by `corral build`.
    Js,
}

#[derive(Args)]
pub struct NewArgs {
    /// The plugin's name: lowercase letters, digits and `-`, starting with a
    /// letter (it is also the resource URI scheme and the package name).
    name: String,
    /// The language to write the plugin in.
    #[arg(long, value_enum, default_value = "rust")]
    lang: Lang,
    /// Where to create it [default: ./NAME].
    #[arg(long)]
    dir: Option<PathBuf>,
    /// (Rust) the corral-sdk to depend on: a path to its crate directory
    /// [default: the SDK of the Corral checkout this binary was built from,
    /// if it is still there].
    #[arg(long)]
    sdk: Option<PathBuf>,
}

/// One template file: its path in the project and its text.
type File = (&'static str, &'static str);

macro_rules! template {
    ($lang:literal: $($path:literal),* $(,)?) => {
        &[$(($path, include_str!(concat!("../../templates/", $lang, "/", $path)))),*]
    };
}

const RUST: &[File] = template!("rust":
    "Cargo.toml", ".cargo/config.toml", "src/lib.rs", "README.md", ".gitignore");
const PYTHON: &[File] = template!("python": "app.py", "README.md", ".gitignore");
const JS: &[File] = template!("js": "app.js", "package.json", "README.md", ".gitignore");

/// The SDK next to the sources this binary was built from.
const BUILT_SDK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../sdk/rust");

pub fn new(args: NewArgs) -> anyhow::Result<()> {
    check_name(&args.name)?;
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(&args.name));
    if dir.exists()
        && std::fs::read_dir(&dir)
            .with_context(|| format!("reading {}", dir.display()))?
            .next()
            .is_some()
    {
        bail!(
            "{} already exists and is not empty; choose another NAME or --dir",
            dir.display()
        );
    }
    let snake = args.name.replace('-', "_");
    let sdk = sdk_dependency(args.sdk.as_deref())?;
    let files = match args.lang {
        Lang::Rust => RUST,
        Lang::Python => PYTHON,
        Lang::Js => JS,
    };
    for (path, text) in files {
        let text = text
            .replace("__SDK_DEPENDENCY__", &sdk)
            .replace("__NAME_SNAKE__", &snake)
            .replace("__NAME__", &args.name);
        write(&dir.join(path), &text)?;
    }
    let shown = dir.display();
    let (build, wasm) = match args.lang {
        Lang::Rust => (
            "cargo build --release".to_owned(),
            "target/wasm32-wasip2/release".to_owned(),
        ),
        Lang::Python => (
            format!("corral build app.py -o {}.wasm", args.name),
            ".".to_owned(),
        ),
        Lang::Js => ("npm run build".to_owned(), ".".to_owned()),
    };
    println!("created {shown}: one tool (greet), one resource, one prompt");
    println!();
    println!("  cd {shown}");
    println!("  {build}");
    println!("  corral call {wasm} greet name=World");
    println!("  corral dev {wasm}        # serve, and reload on every build");
    Ok(())
}

fn check_name(name: &str) -> anyhow::Result<()> {
    let valid = name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.ends_with('-');
    if !valid {
        bail!(
            "`{name}` is not a plugin name: use lowercase letters, digits and `-`, starting with a letter (e.g. `weather-tools`)"
        );
    }
    Ok(())
}

/// The `corral-sdk = ...` line of a Rust project.
fn sdk_dependency(explicit: Option<&Path>) -> anyhow::Result<String> {
    let path = match explicit {
        Some(path) => {
            let path = path
                .canonicalize()
                .with_context(|| format!("--sdk {}", path.display()))?;
            if !path.join("Cargo.toml").exists() {
                bail!("--sdk {}: no Cargo.toml there", path.display());
            }
            path
        }
        None => match Path::new(BUILT_SDK).canonicalize() {
            Ok(path) => path,
            Err(_) => {
                eprintln!(
                    "note: no Corral checkout at {BUILT_SDK}; depending on corral-sdk 0.1 from crates.io (use --sdk PATH for a local one)"
                );
                return Ok("corral-sdk = \"0.1\"".to_owned());
            }
        },
    };
    let text = path
        .to_string_lossy()
        .replace('\\', "\\\\")
        .replace('"', "\\\"");
    Ok(format!("corral-sdk = {{ path = \"{text}\" }}"))
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

    #[test]
    fn names_must_work_as_scheme_crate_and_package() {
        for good in ["weather", "my-tools", "a1"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in ["", "1abc", "My", "a_b", "a-", "a b", "../x"] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }
}
