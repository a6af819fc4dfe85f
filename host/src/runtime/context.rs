//! The host side of the `corral:mcp/context` interface: logging, progress and
//! cancellation for the call in progress.

use crate::bindings::corral::mcp::context::{Host, LogLevel as WitLevel};
use crate::model::LogLevel;

use super::limits::{MAX_LOG_MESSAGE_BYTES, MAX_LOG_MESSAGES_PER_CALL, MAX_PROGRESS_PER_CALL};
use super::state::State;
use crate::units::truncate;

impl Host for State {
    fn log(&mut self, level: WitLevel, message: String) -> wasmtime::Result<()> {
        if self.logs_sent >= MAX_LOG_MESSAGES_PER_CALL {
            self.logs_dropped += 1;
            return Ok(());
        }
        self.logs_sent += 1;
        let message = truncate(message, MAX_LOG_MESSAGE_BYTES);
        let level = convert_level(level);
        tracing::debug!(plugin = %self.plugin, ?level, "{message}");
        if let Some(observer) = &self.call.observer {
            observer.log(level, &self.plugin, &message);
        }
        Ok(())
    }

    fn progress(
        &mut self,
        progress: f64,
        total: Option<f64>,
        message: Option<String>,
    ) -> wasmtime::Result<()> {
        if !progress.is_finite() || total.is_some_and(|t| !t.is_finite()) {
            return Ok(());
        }
        if self.progress_sent >= MAX_PROGRESS_PER_CALL {
            self.progress_dropped += 1;
            return Ok(());
        }
        self.progress_sent += 1;
        if let Some(observer) = &self.call.observer {
            let message = message.map(|m| truncate(m, MAX_LOG_MESSAGE_BYTES));
            observer.progress(progress, total, message.as_deref());
        }
        Ok(())
    }

    fn cancelled(&mut self) -> wasmtime::Result<bool> {
        Ok(self.call.cancel.is_cancelled())
    }
}

fn convert_level(level: WitLevel) -> LogLevel {
    match level {
        WitLevel::Debug => LogLevel::Debug,
        WitLevel::Info => LogLevel::Info,
        WitLevel::Notice => LogLevel::Notice,
        WitLevel::Warning => LogLevel::Warning,
        WitLevel::Error => LogLevel::Error,
        WitLevel::Critical => LogLevel::Critical,
        WitLevel::Alert => LogLevel::Alert,
        WitLevel::Emergency => LogLevel::Emergency,
    }
}
