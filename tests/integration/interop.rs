//! Interop with the official Python MCP SDK (`mcp` on PyPI), over stdio,
//! in both its legacy (initialize) and default (2026-07-28) modes.

use std::process::Command;

use crate::harness::{corral, root};

fn python() -> std::path::PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| root().join("target"));
    let python = target.join("py-venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run `cargo xtask test`, which creates the venv",
        python.display()
    );
    python
}

fn run_client(mode: &str) {
    let corral_bin = corral().get_program().to_owned();
    let out = Command::new(python())
        .arg(root().join("tests/interop/mcp_client.py"))
        .args(["--mode", mode, "--"])
        .arg(corral_bin)
        .arg("serve")
        .arg(root().join("plugins/dist"))
        .env("CORRAL_CACHE_DIR", root().join("target").join("test-cache"))
        .output()
        .expect("running the Python MCP client");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "mcp client ({mode}) failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains(" passed, 0 failed"), "{stdout}");
}

#[test]
fn python_sdk_client_legacy_mode() {
    run_client("legacy");
}

#[test]
fn python_sdk_client_default_mode() {
    run_client("default");
}
