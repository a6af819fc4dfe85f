//! `corral build app.py`: the Python SDK with componentize-py.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

use super::{BuildArgs, SdkFile, WORLD, sdk_dir, step, toolchain_cache, write};

/// The componentize-py release the SDK is built and tested with.
const COMPONENTIZE_PY_VERSION: &str = "0.25.1";

/// The component's main module: imports the plugin (which registers its
/// functions on a `FastMCP`) and the SDK's WIT exports.
const MAIN_MODULE: &str = "_corral_main";

/// The Python SDK, as this binary was built with it (a unit test checks the
/// list against the directory, so a new SDK file cannot be left out).
pub(super) const SDK: &[SdkFile] = embed_sdk!("python":
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

pub(super) fn build(
    args: &BuildArgs,
    source: &Path,
    scratch: &Path,
    output: &Path,
) -> anyhow::Result<()> {
    let module = source
        .file_stem()
        .and_then(|s| s.to_str())
        .filter(|s| is_identifier(s))
        .with_context(|| {
            format!(
                "{}: the file name must be a Python module name (letters, digits, _)",
                source.display()
            )
        })?;
    if module == MAIN_MODULE || module == "corral" || module == "pydantic" {
        bail!(
            "{}: rename the file; `{module}` is the name of a module the build provides",
            source.display()
        );
    }
    let source_dir = source
        .parent()
        .context("the plugin file has no directory")?;
    write(
        &scratch.join(format!("{MAIN_MODULE}.py")),
        &format!(
            "# Written by `corral build`: the plugin, then the SDK's WIT exports.\n\
             import {module}  # noqa: F401\n\
             from corral._component import Completions, Prompts, Resources, Tasks, Tools  # noqa: F401\n"
        ),
    )?;
    let sdk = sdk_dir(args.sdk.as_deref(), "corral/__init__.py", SDK, scratch)?;
    let componentize = componentize_py()?;
    let mut cmd = Command::new(&componentize);
    cmd.arg("-d")
        .arg(scratch.join("wit"))
        .args([
            "-w",
            &format!("corral:mcp/{WORLD}"),
            "componentize",
            MAIN_MODULE,
        ])
        .arg("-p")
        .arg(scratch)
        .arg("-p")
        .arg(source_dir);
    for path in &args.paths {
        cmd.arg("-p").arg(path);
    }
    cmd.arg("-p")
        .arg(sdk.join("shims"))
        .arg("-p")
        .arg(&sdk)
        .arg("-o")
        .arg(output);
    eprintln!("building {} with componentize-py", output.display());
    step(
        &mut cmd,
        &format!("componentize-py building {}", source.display()),
    )
}

/// componentize-py: `$COMPONENTIZE_PY`, else the one in Corral's build venv
/// (made on first use with `python3 -m venv` and pip).
fn componentize_py() -> anyhow::Result<PathBuf> {
    if let Some(path) = std::env::var_os("COMPONENTIZE_PY") {
        return Ok(PathBuf::from(path));
    }
    let venv = toolchain_cache("COMPONENTIZE_PY to a componentize-py executable")?
        .join(format!("componentize-py-{COMPONENTIZE_PY_VERSION}"));
    let exe = venv.join("bin").join("componentize-py");
    if exe.exists() {
        return Ok(exe);
    }
    eprintln!(
        "installing componentize-py {COMPONENTIZE_PY_VERSION} into {} (once)",
        venv.display()
    );
    step(
        Command::new("python3").arg("-m").arg("venv").arg(&venv),
        "creating the build venv (needs python3 with the venv module)",
    )?;
    step(
        Command::new(venv.join("bin").join("python")).args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            &format!("componentize-py=={COMPONENTIZE_PY_VERSION}"),
        ]),
        "installing componentize-py from PyPI",
    )?;
    Ok(exe)
}

fn is_identifier(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

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
