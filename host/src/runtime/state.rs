//! The data a call's `Store` carries: WASI context, resource table, limiter
//! and the call's context.

use std::sync::Arc;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use super::http::HttpPolicy;
use super::limits::{
    CallLimiter, MAX_HTTP_FIELDS_BYTES, MAX_LOG_MESSAGES_PER_CALL, MAX_PROGRESS_PER_CALL,
    MAX_RESOURCES_PER_CALL,
};
use super::stdio::{GuestStdio, Stream};
use crate::config::{DirGrant, Grants};
use crate::provider::CallContext;

/// What one plugin's calls may reach beyond the default sandbox, prepared
/// once at load from its grants.
#[derive(Debug, Clone)]
pub(crate) struct Sandbox {
    dirs: Vec<OpenDir>,
    env: Vec<(String, String)>,
    http: HttpPolicy,
}

/// A granted directory, opened once at load. Every call is handed this very
/// directory (through `/proc/self/fd/N`, which names the open directory,
/// not a path), so replacing the granted path later (by a rename, or a
/// symlink another plugin with write access to the parent put there) does
/// not change what the plugin reaches.
#[derive(Debug, Clone)]
struct OpenDir {
    grant: DirGrant,
    /// Keeps the descriptor `by_fd` names open.
    _open: Arc<std::fs::File>,
    by_fd: std::path::PathBuf,
}

impl OpenDir {
    fn open(grant: &DirGrant) -> Result<Self, String> {
        use std::os::fd::AsRawFd;
        use std::os::unix::fs::OpenOptionsExt;
        let handle = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW)
            .open(&grant.host)
            .map_err(|e| {
                format!(
                    "cannot open the granted directory {} (for {}): {e}",
                    grant.host.display(),
                    grant.guest
                )
            })?;
        let by_fd = std::path::PathBuf::from(format!("/proc/self/fd/{}", handle.as_raw_fd()));
        Ok(Self {
            grant: grant.clone(),
            _open: Arc::new(handle),
            by_fd,
        })
    }
}

impl Sandbox {
    /// Granted directories are opened and environment variables read now,
    /// once: a call sees the directories and values there were when the
    /// plugin was loaded.
    pub(crate) fn new(plugin: Arc<str>, grants: &Grants) -> Result<Self, String> {
        let env = grants
            .env
            .iter()
            .filter_map(|name| std::env::var(name).ok().map(|value| (name.clone(), value)))
            .collect();
        Ok(Self {
            dirs: grants
                .dirs
                .iter()
                .map(OpenDir::open)
                .collect::<Result<_, _>>()?,
            env,
            http: HttpPolicy {
                plugin,
                allow: grants.allow_hosts.clone().into(),
                usage: Arc::default(),
            },
        })
    }

    /// All a guest can read besides its own code, clocks and randomness,
    /// when that is fixed at load: its environment variables. `None` when
    /// it may read directories or the network, which change under it.
    pub(crate) fn fixed_inputs(&self) -> Option<&[(String, String)]> {
        (self.dirs.is_empty() && self.http.allow.is_empty()).then_some(&self.env)
    }
}

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
    /// Progress notifications sent so far in this call.
    pub(crate) progress_sent: u32,
    /// Progress notifications dropped because the call sent too many.
    pub(crate) progress_dropped: u32,
    stdout: GuestStdio,
    stderr: GuestStdio,
    http: WasiHttpCtx,
    http_policy: HttpPolicy,
}

impl State {
    /// Default deny: clocks and random only. No filesystem, no environment,
    /// no arguments, no network (every socket address is refused and name
    /// lookups are off); stdin is closed; stdout and stderr go to the host log.
    /// Then the plugin's grants: preopened directories, named environment
    /// variables, outgoing HTTP to allowed hosts.
    pub(crate) fn new(
        plugin: Arc<str>,
        memory_cap: u64,
        call: CallContext,
        sandbox: &Sandbox,
    ) -> Result<Self, String> {
        let stdout = GuestStdio::new(plugin.clone(), Stream::Stdout);
        let stderr = GuestStdio::new(plugin.clone(), Stream::Stderr);
        let http_policy = HttpPolicy {
            usage: call.usage.clone(),
            ..sandbox.http.clone()
        };
        let mut builder = WasiCtx::builder();
        builder
            .stdout(stdout.clone())
            .stderr(stderr.clone())
            .allow_ip_name_lookup(false)
            .allow_tcp(false)
            .allow_udp(false);
        for (name, value) in &sandbox.env {
            builder.env(name, value);
        }
        for dir in &sandbox.dirs {
            let perms = if dir.grant.read_only {
                FsPerms::ReadOnly
            } else {
                FsPerms::ReadWrite
            };
            // The sandbox keeps the descriptor open for as long as the
            // plugin is loaded, so its number names the directory opened then.
            builder
                .preopened_dir(&dir.by_fd, &dir.grant.guest, perms)
                .map_err(|e| {
                    format!(
                        "cannot reopen the granted directory {} (for {}): {e:#}",
                        dir.grant.host.display(),
                        dir.grant.guest
                    )
                })?;
        }
        let wasi = builder.build();
        let mut table = ResourceTable::new();
        table.set_max_capacity(MAX_RESOURCES_PER_CALL);
        let mut http = WasiHttpCtx::new();
        http.set_field_size_limit(MAX_HTTP_FIELDS_BYTES);
        Ok(Self {
            wasi,
            table,
            limiter: CallLimiter::new(memory_cap),
            call,
            plugin,
            logs_sent: 0,
            logs_dropped: 0,
            progress_sent: 0,
            progress_dropped: 0,
            stdout,
            stderr,
            http,
            http_policy,
        })
    }

    /// Make a store kept from an earlier call ready for `call`: its
    /// per-call counters and budgets start again (fuel and the deadline are
    /// the store's, set by the caller).
    pub(crate) fn next_call(&mut self, call: CallContext) {
        self.http_policy.usage = call.usage.clone();
        self.call = call;
        self.logs_sent = 0;
        self.logs_dropped = 0;
        self.progress_sent = 0;
        self.progress_dropped = 0;
        self.limiter.next_call();
        self.table.set_max_capacity(MAX_RESOURCES_PER_CALL);
        self.http.set_field_size_limit(MAX_HTTP_FIELDS_BYTES);
        self.stdout.reset();
        self.stderr.reset();
    }

    /// Called on every WASI and `wasi:http` host call: once the call holds
    /// more than its `memory` limit (linear memory plus host-side bytes),
    /// the guest can create no more resources and no header grows, so
    /// whatever it tries next fails and the call ends naming the limit.
    pub(crate) fn enforce_memory_cap(&mut self) {
        if self.limiter.over_cap() {
            self.table.set_max_capacity(0);
            self.http.set_field_size_limit(0);
        }
    }

    /// Tell the server log and the client, once, how many of this call's
    /// log messages and progress notifications the per-call bounds dropped.
    pub(crate) fn report_drops(&self) {
        let drops = [
            (self.logs_dropped, "log messages", MAX_LOG_MESSAGES_PER_CALL),
            (
                self.progress_dropped,
                "progress notifications",
                MAX_PROGRESS_PER_CALL,
            ),
        ];
        for (dropped, what, limit) in drops {
            if dropped == 0 {
                continue;
            }
            let message = format!("{dropped} {what} were dropped (the limit is {limit} per call)");
            tracing::warn!(plugin = %self.plugin, "{message}");
            if let Some(observer) = &self.call.observer {
                observer.log(crate::model::LogLevel::Warning, &self.plugin, &message);
            }
        }
    }

    /// What the guest last wrote to stderr (a panic message, usually).
    pub(crate) fn last_stderr_line(&self) -> Option<String> {
        self.stderr.last_line()
    }
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        self.enforce_memory_cap();
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for State {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        self.enforce_memory_cap();
        WasiHttpCtxView {
            hooks: &mut self.http_policy,
            table: &mut self.table,
            ctx: &mut self.http,
        }
    }
}
