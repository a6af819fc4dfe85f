//! What the host offers during a call: logging, progress and cancellation.
//!
//! These call the `context` import, so they only work inside a component
//! (natively they panic).

use crate::bindings::corral::mcp::context as host;
pub use crate::bindings::corral::mcp::context::LogLevel;

/// Sends a log message to the client (`notifications/message`) and the host log.
pub fn log(level: LogLevel, message: impl AsRef<str>) {
    host::log(level, message.as_ref());
}

/// Logs at `debug` level.
pub fn debug(message: impl AsRef<str>) {
    log(LogLevel::Debug, message);
}

/// Logs at `info` level.
pub fn info(message: impl AsRef<str>) {
    log(LogLevel::Info, message);
}

/// Logs at `notice` level.
pub fn notice(message: impl AsRef<str>) {
    log(LogLevel::Notice, message);
}

/// Logs at `warning` level.
pub fn warning(message: impl AsRef<str>) {
    log(LogLevel::Warning, message);
}

/// Logs at `error` level.
pub fn error(message: impl AsRef<str>) {
    log(LogLevel::Error, message);
}

/// Reports progress of the current call (`notifications/progress`); ignored
/// when the client did not ask for progress.
pub fn progress(progress: f64, total: Option<f64>, message: Option<&str>) {
    host::progress(progress, total, message);
}

/// Whether the client has cancelled the current call; long loops should
/// check it and stop early.
pub fn cancelled() -> bool {
    host::cancelled()
}
