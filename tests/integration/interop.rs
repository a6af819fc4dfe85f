//! Interop with the official Python MCP SDK (`mcp` on PyPI), over stdio,
//! in both its legacy (initialize) and default (2026-07-28) modes.

use crate::harness::{corral, python_client, root};

fn run_client(mode: &str) {
    let corral_bin = corral().get_program().to_owned();
    let dist = root().join("plugins/dist");
    python_client(
        "mcp_client.py",
        &[
            "--mode",
            mode,
            "--",
            corral_bin.to_str().unwrap(),
            "serve",
            dist.to_str().unwrap(),
        ],
    );
}

#[test]
fn python_sdk_client_legacy_mode() {
    run_client("legacy");
}

#[test]
fn python_sdk_client_default_mode() {
    run_client("default");
}
