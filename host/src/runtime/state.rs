//! The data a call's `Store` carries: WASI context, resource table, limiter
//! and the call's context.

use std::sync::Arc;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::CallContext;
use super::limits::CallLimiter;
use super::stdio::{GuestStdio, Stream};

/// Per-call store data. A fresh one for every call; nothing is shared between calls.
pub(crate) struct State {
    pub(crate) wasi: WasiCtx,
    pub(crate) table: ResourceTable,
    pub(crate) limiter: CallLimiter,
    pub(crate) call: CallContext,
    pub(crate) plugin: Arc<str>,
    /// Log messages sent so far in this call.
    pub(crate) logs_sent: u32,
    /// Log messages dropped because the call sent too many.
    pub(crate) logs_dropped: u32,
    stderr: GuestStdio,
}

impl State {
    /// Default deny: clocks and random only. No filesystem, no environment,
    /// no arguments, no network (every socket address is refused and name
    /// lookups are off); stdin is closed; stdout and stderr go to the host log.
    pub(crate) fn new(plugin: Arc<str>, memory_cap: u64, call: CallContext) -> Self {
        let stderr = GuestStdio::new(plugin.clone(), Stream::Stderr);
        let wasi = WasiCtx::builder()
            .stdout(GuestStdio::new(plugin.clone(), Stream::Stdout))
            .stderr(stderr.clone())
            .allow_ip_name_lookup(false)
            .allow_tcp(false)
            .allow_udp(false)
            .build();
        Self {
            wasi,
            table: ResourceTable::new(),
            limiter: CallLimiter::new(memory_cap),
            call,
            plugin,
            logs_sent: 0,
            logs_dropped: 0,
            stderr,
        }
    }

    /// What the guest last wrote to stderr (a panic message, usually).
    pub(crate) fn last_stderr_line(&self) -> Option<String> {
        self.stderr.last_line()
    }
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}
