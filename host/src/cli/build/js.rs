//! `corral build app.js` (or `app.ts`): the JavaScript SDK, bundled with
//! esbuild (the plugin, the SDK and the packages it imports, such as zod,
//! from its `node_modules`) and built with ComponentizeJS (StarlingMonkey).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context;

use super::{BuildArgs, SdkFile, WORLD, sdk_dir, step, toolchain_cache, write};

/// The ComponentizeJS release the SDK is built and tested with.
const COMPONENTIZE_JS_VERSION: &str = "0.23.0";
/// The esbuild release that bundles a plugin.
const ESBUILD_VERSION: &str = "0.28.2";

/// The JavaScript SDK, as this binary was built with it (a unit test checks
/// the list against the directory).
pub(super) const SDK: &[SdkFile] = embed_sdk!("js":
    "src/component.js",
    "src/context.js",
    "src/index.js",
    "src/schema.js",
);

pub(super) fn build(
    args: &BuildArgs,
    source: &Path,
    scratch: &Path,
    output: &Path,
) -> anyhow::Result<()> {
    let sdk = sdk_dir(args.sdk.as_deref(), "src/index.js", SDK, scratch)?;
    let tools = js_tools()?;
    let bin = tools.join("node_modules/.bin");
    let entry = scratch.join("_corral_main.js");
    let source_text = serde_json::to_string(&source.to_string_lossy())?;
    write(
        &entry,
        &format!(
            "// Written by `corral build`: the plugin, then the SDK's WIT exports.\n\
             import {source_text};\n\
             export {{ tools, resources, prompts, completions, tasks }} from './sdk-component.js';\n"
        ),
    )?;
    // The entry imports the SDK's component module through a stable name,
    // wherever the SDK is.
    write(
        &scratch.join("sdk-component.js"),
        &format!(
            "export * from {};\n",
            serde_json::to_string(&sdk.join("src/component.js").to_string_lossy())?
        ),
    )?;
    let bundle = scratch.join("bundle.js");
    eprintln!("bundling {} with esbuild", source.display());
    step(
        Command::new(bin.join("esbuild"))
            .arg(&entry)
            .args([
                "--bundle",
                "--format=esm",
                "--platform=neutral",
                "--main-fields=module,main",
                "--log-level=warning",
                "--external:corral:mcp/*",
            ])
            .arg(format!(
                "--alias:corral-sdk={}",
                sdk.join("src/index.js").display()
            ))
            .arg(format!("--outfile={}", bundle.display())),
        &format!("esbuild bundling {}", source.display()),
    )?;
    eprintln!("building {} with ComponentizeJS", output.display());
    step(
        Command::new(bin.join("componentize-js"))
            .arg(&bundle)
            .arg("--wit")
            .arg(scratch.join("wit"))
            .args(["--world-name", WORLD, "--disable", "http", "fetch-event"])
            .arg("--out")
            .arg(output),
        &format!("ComponentizeJS building {}", source.display()),
    )
}

/// A directory whose `node_modules` has esbuild and ComponentizeJS:
/// `$CORRAL_JS_TOOLS`, else one in Corral's cache, installed with npm on
/// first use.
fn js_tools() -> anyhow::Result<PathBuf> {
    if let Some(dir) = std::env::var_os("CORRAL_JS_TOOLS") {
        return Ok(PathBuf::from(dir));
    }
    let dir = toolchain_cache(
        "CORRAL_JS_TOOLS to a directory with esbuild and componentize-js in node_modules",
    )?
    .join(format!(
        "js-build-{COMPONENTIZE_JS_VERSION}-{ESBUILD_VERSION}"
    ));
    let ready = dir.join("node_modules/.bin");
    if ready.join("componentize-js").exists() && ready.join("esbuild").exists() {
        return Ok(dir);
    }
    eprintln!(
        "installing ComponentizeJS {COMPONENTIZE_JS_VERSION} and esbuild {ESBUILD_VERSION} into {} (once)",
        dir.display()
    );
    write(&dir.join("package.json"), &package_json())?;
    step(
        Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&dir),
        "installing the JavaScript build tools with npm (needs Node.js 20+ and npm)",
    )
    .context("npm install")?;
    Ok(dir)
}

/// The npm project that holds the build tools.
fn package_json() -> String {
    format!(
        "{{\n  \"name\": \"corral-js-build\",\n  \"private\": true,\n  \"devDependencies\": {{\n    \"@bytecodealliance/componentize-js\": \"{COMPONENTIZE_JS_VERSION}\",\n    \"esbuild\": \"{ESBUILD_VERSION}\"\n  }}\n}}\n"
    )
}
