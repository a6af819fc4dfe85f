//! The command line: version and inspect.

use serde_json::Value;

use crate::harness::{TempDir, corral, example};

#[test]
fn version_prints_the_crate_version() {
    let out = corral().arg("version").output().unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        stdout.trim(),
        format!("corral {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn inspect_shows_exports_imports_and_contents() {
    let plugin = example("calculator-rust");
    let out = corral()
        .args(["inspect", "--json"])
        .arg(&plugin)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let exports: Vec<&str> = report["exports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert!(exports.contains(&"corral:mcp/tools@0.1.1"), "{exports:?}");
    assert!(exports.contains(&"corral:mcp/tasks@0.1.1"), "{exports:?}");
    let imports = report["imports"].as_array().unwrap();
    assert!(
        !imports.is_empty(),
        "a Rust wasip2 plugin imports some of WASI"
    );
    for import in imports {
        let policy = import["policy"].as_str().unwrap();
        assert!(!policy.starts_with("unknown"), "{import}");
    }
    let tools: Vec<&str> = report["serves"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(tools.contains(&"multiply") && tools.contains(&"divide"));

    let text = corral().arg("inspect").arg(&plugin).output().unwrap();
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.contains("multiply"), "{text}");
}

#[test]
fn inspect_of_a_non_plugin_fails_with_the_reason() {
    let dir = TempDir::new("inspect-junk");
    let junk = dir.0.join("junk.wasm");
    std::fs::write(&junk, b"junk").unwrap();
    let out = corral().arg("inspect").arg(&junk).output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("junk.wasm") && stderr.contains("not a WebAssembly file"),
        "{stderr}"
    );
}

#[test]
fn serve_with_nothing_to_serve_explains_what_to_give() {
    // Run where there is no corral.toml to discover.
    let dir = TempDir::new("empty-cwd");
    let out = corral().arg("serve").current_dir(&dir.0).output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("nothing to serve") && stderr.contains("corral.toml"),
        "{stderr}"
    );
}

#[test]
fn a_client_that_leaves_before_initializing_ends_serve_cleanly() {
    let out = corral()
        .arg("serve")
        .arg(example("calculator-rust"))
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("stdin closed before a session started"),
        "{stderr}"
    );
    assert!(
        out.stdout.is_empty(),
        "stdout carries only protocol messages"
    );
}
