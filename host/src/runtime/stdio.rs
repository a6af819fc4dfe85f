//! A guest's stdout and stderr, captured into the host log line by line.
//!
//! Bounded: lines are cut at [`MAX_LOG_MESSAGE_BYTES`] and one call may write
//! at most [`MAX_STDIO_BYTES_PER_CALL`] bytes to the log; the rest is counted
//! and dropped, so a guest that floods stderr costs the host nothing more.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};

use super::limits::{MAX_LOG_MESSAGE_BYTES, MAX_STDIO_BYTES_PER_CALL};

/// Which stream a line came from.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Stream {
    Stdout,
    Stderr,
}

#[derive(Debug, Default)]
struct Inner {
    line: Vec<u8>,
    logged: usize,
    dropped: usize,
    last_line: Option<String>,
}

/// The capture of one stream of one call.
#[derive(Debug, Clone)]
pub(crate) struct GuestStdio {
    plugin: Arc<str>,
    stream: Stream,
    inner: Arc<Mutex<Inner>>,
}

impl GuestStdio {
    pub(crate) fn new(plugin: Arc<str>, stream: Stream) -> Self {
        Self {
            plugin,
            stream,
            inner: Arc::default(),
        }
    }

    fn write(&self, mut bytes: &[u8]) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let budget = MAX_STDIO_BYTES_PER_CALL.saturating_sub(inner.logged);
        if bytes.len() > budget {
            inner.dropped += bytes.len() - budget;
            bytes = &bytes[..budget];
        }
        inner.logged += bytes.len();
        for chunk in bytes.split_inclusive(|b| *b == b'\n') {
            let room = MAX_LOG_MESSAGE_BYTES.saturating_sub(inner.line.len());
            let (keep, _) = chunk.split_at(chunk.len().min(room));
            inner.line.extend_from_slice(keep);
            if chunk.ends_with(b"\n") {
                let line = std::mem::take(&mut inner.line);
                inner.last_line = Some(self.emit(&line));
            }
        }
    }

    fn emit(&self, line: &[u8]) -> String {
        let text = String::from_utf8_lossy(line);
        let text = text.trim_end_matches(['\n', '\r']);
        match self.stream {
            Stream::Stdout => tracing::info!(plugin = %self.plugin, "stdout: {text}"),
            Stream::Stderr => tracing::warn!(plugin = %self.plugin, "stderr: {text}"),
        }
        text.to_owned()
    }

    /// Start a new call's budget (an instance reused across calls).
    pub(crate) fn reset(&self) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if inner.dropped > 0 {
            tracing::warn!(
                plugin = %self.plugin,
                dropped_bytes = inner.dropped,
                "guest stdout/stderr over the per-call budget of {MAX_STDIO_BYTES_PER_CALL} bytes was discarded"
            );
        }
        inner.logged = 0;
        inner.dropped = 0;
        inner.last_line = None;
    }

    /// The last complete line written, or the unterminated rest.
    pub(crate) fn last_line(&self) -> Option<String> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if !inner.line.is_empty() {
            return Some(String::from_utf8_lossy(&inner.line).trim_end().to_owned());
        }
        inner.last_line.clone()
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        if !self.line.is_empty() {
            let text = String::from_utf8_lossy(&self.line);
            tracing::info!("guest output (unterminated): {text}");
        }
        if self.dropped > 0 {
            tracing::warn!(
                dropped_bytes = self.dropped,
                "guest stdout/stderr over the per-call budget of {MAX_STDIO_BYTES_PER_CALL} bytes was discarded"
            );
        }
    }
}

impl IsTerminal for GuestStdio {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for GuestStdio {
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }

    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for GuestStdio {
    async fn ready(&mut self) {}
}

impl OutputStream for GuestStdio {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        GuestStdio::write(self, &bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(64 * 1024)
    }
}

impl tokio::io::AsyncWrite for GuestStdio {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        GuestStdio::write(&self, buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
