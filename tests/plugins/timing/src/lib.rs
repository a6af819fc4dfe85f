//! A plugin for testing timeouts, concurrency, logging and progress.

use std::path::Path;
use std::time::Duration;

use corral_sdk::prelude::*;

/// Reports progress 0 of `ms` (a sign that the call is running), sleeps
/// `ms` milliseconds, then returns `slow done`.
///
/// # Arguments
/// * `ms` - How long to sleep, in milliseconds
#[tool(task = "optional")]
fn slow(ms: u32) -> String {
    context::progress(0.0, Some(f64::from(ms)), Some("sleeping"));
    std::thread::sleep(Duration::from_millis(u64::from(ms)));
    "slow done".into()
}

/// Returns `fast done` at once.
#[tool]
fn fast() -> String {
    "fast done".into()
}

/// Logs `step i` (info) and reports progress `i` of `steps` for each step.
///
/// # Arguments
/// * `steps` - How many steps
#[tool]
fn log_and_progress(steps: u32) -> String {
    for i in 1..=steps {
        let message = format!("step {i}");
        context::info(&message);
        context::progress(f64::from(i), Some(f64::from(steps)), Some(&message));
    }
    "done".into()
}

/// Marks call `id` as started by creating the file `/sync/started-ID`, then
/// waits until the file `/sync/release` exists, and returns `released ID`.
/// A test sees which calls are in flight (the files) and decides when they
/// end, with no clock involved. Needs `/sync` granted read-write.
///
/// # Arguments
/// * `id` - Names this call's file
#[tool(task = "optional")]
fn hold(id: u32) -> Result<String, ToolError> {
    std::fs::write(format!("/sync/started-{id}"), b"")
        .map_err(|e| ToolError::new(format!("marking call {id} as started: {e}")))?;
    // Poll gently: a thousand calls may be holding at once.
    let mut pause = Duration::from_millis(2);
    while !Path::new("/sync/release").exists() {
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(100));
    }
    Ok(format!("released {id}"))
}

corral_sdk::export!(tools: [slow, fast, log_and_progress, hold]);
