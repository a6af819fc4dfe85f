//! A plugin built twice by `cargo xtask test-plugins`, as `versioned-v1.wasm`
//! and `versioned-v2.wasm` (`CORRAL_TEST_PLUGIN_VERSION` at build time), so
//! the hot-reload tests can replace one version by the other. `count` shows
//! whether an instance outlived a call (`instance_reuse`).

use corral_sdk::prelude::*;

const VERSION: &str = match option_env!("CORRAL_TEST_PLUGIN_VERSION") {
    Some(v) => v,
    None => "1",
};

/// The version of this build.
#[tool]
fn version() -> String {
    VERSION.to_owned()
}

/// Marks call `id` as started by creating `/sync/started-ID`, waits until
/// `/sync/release` exists, then returns the version of this build: a call
/// that stays in flight until the test ends it. Needs `/sync` granted
/// read-write.
///
/// # Arguments
/// * `id` - Names this call's file
#[tool]
fn hold_version(id: u32) -> Result<String, ToolError> {
    std::fs::write(format!("/sync/started-{id}"), b"")
        .map_err(|e| ToolError::new(format!("marking call {id} as started: {e}")))?;
    while !std::path::Path::new("/sync/release").exists() {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    Ok(VERSION.to_owned())
}

/// Calls this instance has answered (1 on a fresh instance; more only when
/// the host reuses instances).
#[tool]
fn count() -> u32 {
    static CALLS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1
}

/// Traps (a panic), so that the host must discard this instance.
#[tool]
fn boom() -> String {
    panic!("boom")
}

corral_sdk::export!(tools: [version, hold_version, count, boom]);
