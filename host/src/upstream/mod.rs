//! Upstream MCP servers as providers (`[upstreams.NAME]`): a command spoken
//! to over stdio, or a URL (Streamable HTTP, falling back to the legacy
//! HTTP+SSE transport, `sse`). Their tools, resources,
//! templates and prompts join the catalog like a plugin's (prefixes, tags,
//! collisions), and calls are forwarded with progress, cancellation, a
//! timeout, the output cap and input rounds (an upstream's `input_required`
//! becomes the call's own, so the call service asks the client in either
//! era).
//!
//! One connection per upstream, kept by a task that reconnects with
//! backoff ([`INITIAL_BACKOFF`] doubling to [`MAX_BACKOFF`]). While an
//! upstream is down it lists nothing, so its components leave the catalog
//! (the loader is told through [`Upstreams::changed`]) until it is back; a
//! call in flight when it dies fails naming the upstream. The upstream's own
//! `list_changed` notifications make it list again.
//!
//! A command upstream is a process the operator chose to trust: it is not
//! sandboxed (docs/SECURITY.md). It gets no environment but the variables
//! its config names.
//!
//! The connection itself is a [`Client`](crate::client::Client): the same
//! MCP client `corral call` uses.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use arc_swap::ArcSwap;
use serde_json::Value;
use tokio::sync::Notify;

use crate::client::{Answer, Capabilities, Client, ClientError, ClientOptions, Handler, Target};
use crate::config::{UpstreamConfig, UpstreamTarget};
use crate::error::{CallError, GuestError};
use crate::gate::Gate;
use crate::model::{
    Input, InputRequest, JsonObject, Listing, LogLevel, Outcome, PromptResult, ResourceContents,
    ToolResult,
};
use crate::provider::{CallContext, CallFuture, CompletionRef, Provider};

/// The first wait before reconnecting to an upstream that went away.
pub const INITIAL_BACKOFF: Duration = Duration::from_millis(500);
/// The longest wait between reconnection attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// How often a connected upstream that has been quiet is pinged, so that
/// one that went away unannounced (an HTTP server that died) leaves the
/// catalog without waiting for a call to fail.
pub const HEALTH_CHECK_INTERVAL: Duration = Duration::from_secs(15);
/// How deep command upstreams may nest: a Corral started as a command
/// upstream is told its depth ([`DEPTH_VARIABLE`]) and starts no command
/// upstream past this one. Without it, a command upstream that runs Corral
/// with a config naming itself (`corral.toml` is found in the directory it
/// runs in) would start copies of itself without end.
pub const MAX_UPSTREAM_DEPTH: u32 = 4;
/// The environment variable that carries the nesting depth to a command
/// upstream.
pub const DEPTH_VARIABLE: &str = "CORRAL_UPSTREAM_DEPTH";

/// How deep this process is in a chain of command upstreams (0: not started
/// as one).
fn own_depth() -> u32 {
    std::env::var(DEPTH_VARIABLE)
        .ok()
        .and_then(|d| d.parse().ok())
        .unwrap_or(0)
}

/// The upstreams of a config, and a signal for when any of them changed
/// what it lists (connected, went away, or announced list_changed).
pub struct Upstreams {
    upstreams: Vec<Arc<Upstream>>,
    changed: Arc<Notify>,
}

impl Upstreams {
    /// Start connecting to every enabled upstream in `configs`.
    pub fn start(configs: &[UpstreamConfig]) -> Self {
        let changed = Arc::new(Notify::new());
        let upstreams = configs
            .iter()
            .filter(|c| c.enabled)
            .map(|c| Arc::new(Upstream::start(c.clone(), changed.clone())))
            .collect();
        Self { upstreams, changed }
    }

    /// The upstreams, in config order.
    pub fn all(&self) -> &[Arc<Upstream>] {
        &self.upstreams
    }

    /// Wait until every upstream has made its first connection attempt
    /// (each bounded by its timeout), so the first catalog has what is up.
    pub async fn first_attempts(&self) {
        for upstream in &self.upstreams {
            let mut tried = upstream.shared.tried.subscribe();
            let _ = tried.wait_for(|t| *t).await;
        }
    }

    /// Resolves when an upstream's listing changed since the last call.
    pub async fn changed(&self) {
        self.changed.notified().await;
    }
}

/// One upstream MCP server, kept connected.
pub struct Upstream {
    config: UpstreamConfig,
    /// At most `concurrency` calls forwarded at once, `queue` waiting.
    gate: Gate,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upstream")
            .field("name", &self.config.name)
            .finish_non_exhaustive()
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        // Ends the session (a command's process is killed with it).
        self.task.abort();
        if let Some(client) = self.shared.client() {
            client.close();
        }
    }
}

struct Shared {
    name: String,
    /// What it lists now (empty while down).
    listing: ArcSwap<Listing>,
    /// The session, while connected.
    client: Mutex<Option<Arc<Client>>>,
    /// Told when the upstream announces list_changed.
    relist: Arc<Notify>,
    /// Told when a request found the connection broken.
    lost: Notify,
    /// The calls forwarded now.
    calls: Arc<InFlight>,
    /// Told when the listing changed (shared by all upstreams).
    changed: Arc<Notify>,
    /// True once the first connection attempt ended either way.
    tried: tokio::sync::watch::Sender<bool>,
}

impl Shared {
    fn install(&self, listing: Listing) {
        self.listing.store(Arc::new(listing));
        self.changed.notify_one();
    }

    fn client(&self) -> Option<Arc<Client>> {
        self.client
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn set_client(&self, client: Option<Arc<Client>>) {
        *self.client.lock().unwrap_or_else(|e| e.into_inner()) = client;
    }
}

impl Upstream {
    fn start(config: UpstreamConfig, changed: Arc<Notify>) -> Self {
        let shared = Arc::new(Shared {
            name: config.name.clone(),
            listing: ArcSwap::from_pointee(Listing::default()),
            client: Mutex::new(None),
            relist: Arc::new(Notify::new()),
            lost: Notify::new(),
            calls: Arc::new(InFlight::default()),
            changed,
            tried: tokio::sync::watch::Sender::new(false),
        });
        let task = tokio::spawn(maintain(shared.clone(), config.clone()));
        Self {
            gate: Gate::new(config.concurrency, config.queue, config.rate),
            config,
            shared,
            task,
        }
    }

    /// Its `[upstreams.NAME]` table.
    pub fn config(&self) -> &UpstreamConfig {
        &self.config
    }

    /// Whether it is connected now.
    pub fn is_up(&self) -> bool {
        self.shared.client().is_some()
    }

    fn unavailable(&self, reason: impl std::fmt::Display) -> CallError {
        CallError::Unavailable {
            kind: "upstream",
            provider: self.config.name.clone(),
            reason: reason.to_string(),
        }
    }

    /// Forward one request through the gate to the connected client; a
    /// broken connection marks the upstream down (it is reconnected).
    async fn forward<T>(
        &self,
        ctx: &CallContext,
        request: impl AsyncFnOnce(&Client) -> Result<T, ClientError>,
    ) -> Result<T, CallError> {
        let _permit = tokio::select! {
            permit = self.gate.admit("upstream", &self.config.name) => permit?,
            _ = ctx.cancel.cancelled() => return Err(CallError::Cancelled),
        };
        let client = self
            .shared
            .client()
            .ok_or_else(|| self.unavailable("it is not connected (reconnecting)"))?;
        let _call = self.shared.calls.enter(ctx);
        request(&client).await.map_err(|e| self.failure(e))
    }

    /// A client failure as the call's failure.
    fn failure(&self, error: ClientError) -> CallError {
        match error {
            ClientError::Closed(reason) => {
                self.shared.lost.notify_one();
                self.unavailable(format!("the connection closed: {reason}"))
            }
            ClientError::Timeout(timeout) => CallError::Timeout(timeout),
            ClientError::Cancelled => CallError::Cancelled,
            // An upstream's JSON-RPC error: its own words.
            ClientError::Server { code, message } => CallError::Guest(match code {
                -32602 => GuestError::InvalidParams(message),
                -32002 => GuestError::NotFound(message),
                _ => GuestError::Internal(message),
            }),
            ClientError::TooLarge { limit, actual } => CallError::Output { limit, actual },
            ClientError::Malformed(reason) => CallError::Malformed(reason),
            other => self.unavailable(other),
        }
    }
}

/// Keep the upstream connected: connect, list, serve calls until the
/// session ends, then reconnect after a growing pause.
async fn maintain(shared: Arc<Shared>, config: UpstreamConfig) {
    let mut backoff = INITIAL_BACKOFF;
    loop {
        match connect(&shared, &config).await {
            Ok(client) => {
                backoff = INITIAL_BACKOFF;
                let client = Arc::new(client);
                match client.listing().await {
                    Ok(listing) => {
                        tracing::info!(
                            upstream = %shared.name,
                            "connected: {} tools, {} resources, {} resource templates, {} prompts",
                            listing.tools.len(),
                            listing.resources.len(),
                            listing.templates.len(),
                            listing.prompts.len()
                        );
                        shared.set_client(Some(client.clone()));
                        shared.install(listing);
                    }
                    Err(e) => tracing::error!(upstream = %shared.name, "listing failed: {e}"),
                }
                shared.tried.send_replace(true);
                loop {
                    tokio::select! {
                        () = client.closed() => break,
                        () = shared.lost.notified() => break,
                        () = tokio::time::sleep(HEALTH_CHECK_INTERVAL) => {
                            if client.ping().await.is_err() {
                                break;
                            }
                        }
                        () = shared.relist.notified() => match client.listing().await {
                            Ok(listing) => shared.install(listing),
                            Err(e) => tracing::warn!(upstream = %shared.name, "listing again failed: {e}"),
                        },
                    }
                }
                shared.set_client(None);
                // Ends the session if it is still open (a command's process
                // is killed with it); calls in flight fail at once.
                client.close();
                shared.install(Listing::default());
                tracing::warn!(
                    upstream = %shared.name,
                    "disconnected; its components are not served until it is back (reconnecting in {backoff:?})"
                );
            }
            Err(e) => {
                shared.tried.send_replace(true);
                tracing::warn!(upstream = %shared.name, "cannot connect: {e} (retrying in {backoff:?})");
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

async fn connect(shared: &Arc<Shared>, config: &UpstreamConfig) -> Result<Client, String> {
    let target = match &config.target {
        UpstreamTarget::Command {
            program,
            args,
            env,
            dir,
        } => {
            let depth = own_depth() + 1;
            if depth > MAX_UPSTREAM_DEPTH {
                return Err(format!(
                    "not started: command upstreams nest {depth} deep, and at most {MAX_UPSTREAM_DEPTH} are allowed (upstream depth limit; does `{program}` start Corral with this same config?)"
                ));
            }
            let mut command = tokio::process::Command::new(program);
            command
                .args(args)
                .current_dir(dir)
                .env_clear()
                .env(DEPTH_VARIABLE, depth.to_string());
            for name in env {
                if let Some(value) = std::env::var_os(name) {
                    command.env(name, value);
                }
            }
            Target::Command(command)
        }
        UpstreamTarget::Url { url, headers } => Target::Url {
            url: url.clone(),
            headers: headers.clone(),
        },
    };
    let handler = Arc::new(UpstreamHandler {
        name: shared.name.clone(),
        relist: shared.relist.clone(),
        calls: shared.calls.clone(),
    });
    let options = ClientOptions::new(config.timeout, config.max_output);
    Client::connect(target, handler, options)
        .await
        .map_err(|e| e.to_string())
}

/// The calls forwarded to one upstream now, so that what it sends on its
/// own in the middle of a call (log messages, 2025-11-25 requests for
/// input, neither of which names its call) can reach the call's client
/// when there is exactly one.
#[derive(Default)]
struct InFlight {
    next: std::sync::atomic::AtomicU64,
    calls: Mutex<Vec<(u64, CallContext)>>,
}

impl InFlight {
    /// Count `ctx` in until the returned guard is dropped.
    fn enter(&self, ctx: &CallContext) -> Entered<'_> {
        let id = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.calls
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((id, ctx.clone()));
        Entered(self, id)
    }

    /// The one call in flight, or why there is not one.
    fn only(&self) -> Result<CallContext, &'static str> {
        let calls = self.calls.lock().unwrap_or_else(|e| e.into_inner());
        match &calls[..] {
            [(_, ctx)] => Ok(ctx.clone()),
            [] => Err("no call is in flight"),
            _ => {
                Err("several calls are in flight, and the request does not say which it belongs to")
            }
        }
    }
}

/// A call counted in [`InFlight`].
struct Entered<'a>(&'a InFlight, u64);

impl Drop for Entered<'_> {
    fn drop(&mut self) {
        self.0
            .calls
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|(id, _)| *id != self.1);
    }
}

/// What an upstream sends on its own: list changes make it list again; log
/// messages and 2025-11-25 requests for input go to the call in flight when
/// there is exactly one (else logs go to the host log and requests are
/// refused, naming why).
struct UpstreamHandler {
    name: String,
    relist: Arc<Notify>,
    calls: Arc<InFlight>,
}

impl Handler for UpstreamHandler {
    /// Elicitation, sampling and roots are declared so that an upstream may
    /// ask for them (mid-call or with `input_required`): the call service
    /// relays each to the client, or refuses when the client lacks it.
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            elicitation: true,
            sampling: true,
            roots: true,
        }
    }

    fn log_level(&self) -> Option<LogLevel> {
        Some(LogLevel::Info)
    }

    fn log(&self, level: LogLevel, _logger: Option<&str>, data: &Value) {
        let data = match data {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        match self.calls.only().ok().and_then(|ctx| ctx.observer) {
            Some(observer) => observer.log(level, &self.name, &data),
            None => {
                tracing::info!(upstream = %self.name, "{level:?}: {}", crate::units::printable(&data));
            }
        }
    }

    fn list_changed(&self) {
        self.relist.notify_one();
    }

    fn answer<'a>(&'a self, request: &'a InputRequest) -> Answer<'a> {
        let what = match request {
            InputRequest::Elicit { .. } => "elicitation",
            InputRequest::Sample { .. } => "sampling",
            _ => "roots",
        };
        let call = self.calls.only();
        Box::pin(async move {
            let ctx = call.map_err(|why| {
                format!("Corral relays {what} requests an upstream makes in the middle of a call only while one call is in flight: {why}")
            })?;
            let Some(asker) = ctx.asker else {
                return Err(format!(
                    "the client speaks 2026-07-28, which cannot be asked in the middle of a call; an upstream that speaks 2026-07-28 asks for {what} with input_required"
                ));
            };
            asker.ask(request.clone()).await.map_err(|e| e.to_string())
        })
    }
}

impl Provider for Upstream {
    fn kind(&self) -> &'static str {
        "upstream"
    }

    fn name(&self) -> &str {
        &self.config.name
    }

    fn origin(&self) -> String {
        self.config.target.to_string()
    }

    fn listing(&self) -> Arc<Listing> {
        self.shared.listing.load_full()
    }

    fn load(&self) -> crate::provider::Load {
        self.gate.load()
    }

    fn call_tool<'a>(
        &'a self,
        name: &'a str,
        arguments: &'a JsonObject,
        input: Option<&'a Input>,
        ctx: &'a CallContext,
    ) -> CallFuture<'a, Outcome<ToolResult>> {
        Box::pin(self.forward(ctx, async move |client| {
            client.call_tool_round(name, arguments, input, ctx).await
        }))
    }

    fn read_resource<'a>(
        &'a self,
        uri: &'a str,
        _params: &'a [(String, String)],
        input: Option<&'a Input>,
        ctx: &'a CallContext,
    ) -> CallFuture<'a, Outcome<Vec<ResourceContents>>> {
        Box::pin(self.forward(ctx, async move |client| {
            client.read_resource_round(uri, input, ctx).await
        }))
    }

    fn get_prompt<'a>(
        &'a self,
        name: &'a str,
        arguments: &'a [(String, String)],
        input: Option<&'a Input>,
        ctx: &'a CallContext,
    ) -> CallFuture<'a, Outcome<PromptResult>> {
        Box::pin(self.forward(ctx, async move |client| {
            client.get_prompt_round(name, arguments, input, ctx).await
        }))
    }

    fn complete<'a>(
        &'a self,
        reference: &'a CompletionRef,
        argument: &'a str,
        value: &'a str,
        ctx: &'a CallContext,
    ) -> CallFuture<'a, Vec<String>> {
        Box::pin(self.forward(ctx, async move |client| {
            client.complete(reference, argument, value, ctx).await
        }))
    }
}
