//! A plugin for testing timeouts, concurrency, logging and progress.

use std::time::Duration;

use corral_sdk::prelude::*;

/// Sleeps `ms` milliseconds, then returns `slow done`.
///
/// # Arguments
/// * `ms` - How long to sleep, in milliseconds
#[tool]
fn slow(ms: u32) -> String {
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

corral_sdk::export!(tools: [slow, fast, log_and_progress]);
