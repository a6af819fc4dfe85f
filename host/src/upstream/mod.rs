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
#![allow(deprecated)] // rmcp marks logging as deprecated (SEP-2577); servers still send it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arc_swap::ArcSwap;
use rmcp::model::{
    CallToolRequest, CallToolRequestParams, ClientCapabilities, ClientConfig, ClientRequest,
    CompleteRequest, CompleteRequestParams, CreateMessageRequestParams, CreateMessageResult,
    ElicitRequestParams, ElicitResult, GetPromptRequest, GetPromptRequestParams, Implementation,
    ListRootsResult, LoggingMessageNotificationParam, NumberOrString, ProgressNotificationParam,
    ProgressToken, ProtocolVersion, ReadResourceRequest, ReadResourceRequestParams, ServerResult,
};
use rmcp::service::{
    NotificationContext, PeerRequestOptions, RequestContext, RoleClient, RunningService,
    ServiceError,
};
use rmcp::{ClientHandler, ClientLifecycleMode, ClientServiceExt, ErrorData, Peer};
use serde::Serialize;
use serde_json::Value;
use tokio::sync::Notify;

mod sse;

use crate::config::{UpstreamConfig, UpstreamTarget};
use crate::error::{CallError, GuestError};
use crate::gate::Gate;
use crate::model::{
    Input, JsonObject, Listing, Outcome, PromptResult, ResourceContents, ToolResult,
};
use crate::protocol::read;
use crate::provider::{CallContext, CallFuture, CallObserver, CompletionRef, Provider};

pub use sse::SSE_CLIENT_QUEUE;

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
    }
}

struct Shared {
    name: String,
    /// What it lists now (empty while down).
    listing: ArcSwap<Listing>,
    /// The session, while connected.
    peer: Mutex<Option<Peer<RoleClient>>>,
    /// Where each call's progress goes, by the progress token it was sent with.
    progress: Mutex<HashMap<String, Arc<dyn CallObserver>>>,
    /// Told when the upstream announces list_changed.
    relist: Notify,
    /// Told when a request found the connection broken.
    lost: Notify,
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
}

impl Upstream {
    fn start(config: UpstreamConfig, changed: Arc<Notify>) -> Self {
        let shared = Arc::new(Shared {
            name: config.name.clone(),
            listing: ArcSwap::from_pointee(Listing::default()),
            peer: Mutex::new(None),
            progress: Mutex::new(HashMap::new()),
            relist: Notify::new(),
            lost: Notify::new(),
            changed,
            tried: tokio::sync::watch::Sender::new(false),
        });
        let task = tokio::spawn(maintain(shared.clone(), config.clone()));
        Self {
            gate: Gate::new(config.concurrency, config.queue),
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
        self.peer().is_ok()
    }

    fn peer(&self) -> Result<Peer<RoleClient>, CallError> {
        self.shared
            .peer
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or_else(|| self.unavailable("it is not connected (reconnecting)"))
    }

    /// The connection broke: the upstream is marked down and reconnected.
    fn lost(&self, reason: impl std::fmt::Display) -> CallError {
        self.shared.lost.notify_one();
        self.unavailable(reason)
    }

    fn unavailable(&self, reason: impl std::fmt::Display) -> CallError {
        CallError::Unavailable {
            kind: "upstream",
            provider: self.config.name.clone(),
            reason: reason.to_string(),
        }
    }

    /// Route the progress of the request sent with `token` to the call's
    /// observer until the returned route is dropped.
    fn route(&self, ctx: &CallContext, token: &ProgressToken) -> Option<Route<'_>> {
        let key = token_key(token);
        ctx.observer.clone().map(|observer| {
            self.shared
                .progress
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(key.clone(), observer);
            Route(&self.shared, key)
        })
    }

    /// Send one request and wait for its answer under the call's timeout
    /// and cancellation, with its progress routed to the call; a cancelled
    /// or timed-out request is cancelled upstream too.
    async fn request(
        &self,
        ctx: &CallContext,
        request: ClientRequest,
    ) -> Result<ServerResult, CallError> {
        let _permit = tokio::select! {
            permit = self.gate.admit("upstream", &self.config.name) => permit?,
            _ = ctx.cancel.cancelled() => return Err(CallError::Cancelled),
        };
        let peer = self.peer()?;
        let mut handle = peer
            .send_cancellable_request(request, PeerRequestOptions::no_options())
            .await
            .map_err(|e| self.lost(e))?;
        let _route = self.route(ctx, &handle.progress_token);
        let timeout = self.config.timeout;
        let failure = tokio::select! {
            biased;
            _ = ctx.cancel.cancelled() => CallError::Cancelled,
            answer = tokio::time::timeout(timeout, &mut handle.rx) => match answer {
                Err(_) => CallError::Timeout(timeout),
                Ok(Err(_)) => return Err(self.lost("the connection closed during the call")),
                Ok(Ok(Ok(result))) => {
                    // rmcp hands notifications to spawned tasks: give the
                    // progress reports sent just before the answer a chance
                    // to reach the call before its route goes.
                    for _ in 0..4 {
                        tokio::task::yield_now().await;
                    }
                    return Ok(result);
                }
                Ok(Ok(Err(ServiceError::McpError(error)))) => return Err(upstream_error(error)),
                Ok(Ok(Err(e))) => return Err(self.lost(e)),
            },
        };
        let _ = handle.cancel(Some(failure.to_string())).await;
        Err(failure)
    }

    /// The answer as JSON, refused past the output cap.
    fn checked<T: Serialize>(&self, answer: &T) -> Result<Value, CallError> {
        let value = serde_json::to_value(answer)
            .map_err(|e| CallError::Malformed(format!("the upstream's answer: {e}")))?;
        let size = serde_json::to_vec(&value).map_or(u64::MAX, |v| v.len() as u64);
        if size > self.config.max_output {
            return Err(CallError::Output {
                limit: self.config.max_output,
                actual: size,
            });
        }
        Ok(value)
    }

    async fn tool(
        &self,
        name: &str,
        arguments: &JsonObject,
        input: Option<&Input>,
        ctx: &CallContext,
    ) -> Result<Outcome<ToolResult>, CallError> {
        let mut params = CallToolRequestParams::new(name.to_owned());
        params.arguments = Some(arguments.clone());
        returned(
            input,
            &mut params.input_responses,
            &mut params.request_state,
        );
        let request = ClientRequest::CallToolRequest(CallToolRequest::new(params));
        match self.request(ctx, request).await? {
            ServerResult::CallToolResult(result) => {
                let value = self.checked(&result)?;
                read::tool_result(&value)
                    .map(Outcome::Complete)
                    .map_err(CallError::Malformed)
            }
            ServerResult::InputRequiredResult(required) => self.needs_input(&required),
            _ => Err(CallError::Malformed(
                "the upstream answered a tool call with something else (a task?), which Corral does not relay".into(),
            )),
        }
    }

    async fn read(
        &self,
        uri: &str,
        input: Option<&Input>,
        ctx: &CallContext,
    ) -> Result<Outcome<Vec<ResourceContents>>, CallError> {
        let mut params = ReadResourceRequestParams::new(uri.to_owned());
        returned(
            input,
            &mut params.input_responses,
            &mut params.request_state,
        );
        let request = ClientRequest::ReadResourceRequest(ReadResourceRequest::new(params));
        match self.request(ctx, request).await? {
            ServerResult::ReadResourceResult(result) => {
                let value = self.checked(&result)?;
                read::read_result(&value)
                    .map(Outcome::Complete)
                    .map_err(CallError::Malformed)
            }
            ServerResult::InputRequiredResult(required) => self.needs_input(&required),
            _ => Err(CallError::Malformed(
                "the upstream answered a read with something else".into(),
            )),
        }
    }

    async fn prompt(
        &self,
        name: &str,
        arguments: &[(String, String)],
        input: Option<&Input>,
        ctx: &CallContext,
    ) -> Result<Outcome<PromptResult>, CallError> {
        let mut params = GetPromptRequestParams::new(name.to_owned());
        params.arguments = Some(
            arguments
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect(),
        );
        returned(
            input,
            &mut params.input_responses,
            &mut params.request_state,
        );
        let request = ClientRequest::GetPromptRequest(GetPromptRequest::new(params));
        match self.request(ctx, request).await? {
            ServerResult::GetPromptResult(result) => {
                let value = self.checked(&result)?;
                read::prompt_result(&value)
                    .map(Outcome::Complete)
                    .map_err(CallError::Malformed)
            }
            ServerResult::InputRequiredResult(required) => self.needs_input(&required),
            _ => Err(CallError::Malformed(
                "the upstream answered a prompt with something else".into(),
            )),
        }
    }

    async fn completions(
        &self,
        reference: &CompletionRef,
        argument: &str,
        value: &str,
        ctx: &CallContext,
    ) -> Result<Vec<String>, CallError> {
        let reference = match reference {
            CompletionRef::Prompt(name) => {
                serde_json::json!({ "type": "ref/prompt", "name": name })
            }
            CompletionRef::Template(uri) => {
                serde_json::json!({ "type": "ref/resource", "uri": uri })
            }
        };
        let params: CompleteRequestParams = serde_json::from_value(serde_json::json!({
            "ref": reference,
            "argument": { "name": argument, "value": value },
        }))
        .map_err(|e| CallError::Host(format!("a completion request: {e}")))?;
        let request = ClientRequest::CompleteRequest(CompleteRequest::new(params));
        let result = self.request(ctx, request).await?;
        let value = self.checked(&result)?;
        Ok(value
            .pointer("/completion/values")
            .and_then(Value::as_array)
            .map(|values| {
                values
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default())
    }

    fn needs_input<T>(&self, required: &impl Serialize) -> Result<Outcome<T>, CallError> {
        let value = self.checked(required)?;
        read::input_required(&value)
            .map(Outcome::NeedsInput)
            .map_err(CallError::Malformed)
    }
}

/// A progress token as a map key.
fn token_key(token: &ProgressToken) -> String {
    match &token.0 {
        NumberOrString::String(s) => format!("s:{s}"),
        NumberOrString::Number(n) => format!("n:{n}"),
    }
}

/// A call's progress route, removed when the call ends.
struct Route<'a>(&'a Shared, String);

impl Drop for Route<'_> {
    fn drop(&mut self) {
        self.0
            .progress
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.1);
    }
}

/// The answers a previous round collected, as the next request carries them.
fn returned(
    input: Option<&Input>,
    responses: &mut Option<rmcp::model::InputResponses>,
    state: &mut Option<String>,
) {
    let Some(input) = input else {
        return;
    };
    let map: serde_json::Map<String, Value> = input.responses.iter().cloned().collect();
    *responses = serde_json::from_value(Value::Object(map)).ok();
    state.clone_from(&input.state);
}

/// An upstream's JSON-RPC error as the call's failure: its own words.
fn upstream_error(error: ErrorData) -> CallError {
    let message = error.message.to_string();
    CallError::Guest(match error.code.0 {
        -32602 => GuestError::InvalidParams(message),
        -32002 => GuestError::NotFound(message),
        _ => GuestError::Internal(message),
    })
}

/// Keep the upstream connected: connect, list, serve calls until the
/// session ends, then reconnect after a growing pause.
async fn maintain(shared: Arc<Shared>, config: UpstreamConfig) {
    let mut backoff = INITIAL_BACKOFF;
    loop {
        match connect(&shared, &config).await {
            Ok(running) => {
                backoff = INITIAL_BACKOFF;
                let peer = running.peer().clone();
                match tokio::time::timeout(config.timeout, list(&peer)).await {
                    Ok(Ok(listing)) => {
                        tracing::info!(
                            upstream = %shared.name,
                            "connected: {} tools, {} resources, {} resource templates, {} prompts",
                            listing.tools.len(),
                            listing.resources.len(),
                            listing.templates.len(),
                            listing.prompts.len()
                        );
                        *shared.peer.lock().unwrap_or_else(|e| e.into_inner()) = Some(peer.clone());
                        shared.install(listing);
                    }
                    Ok(Err(e)) => tracing::error!(upstream = %shared.name, "listing failed: {e}"),
                    Err(_) => tracing::error!(upstream = %shared.name, "listing timed out"),
                }
                shared.tried.send_replace(true);
                let mut waiting = Box::pin(running.waiting());
                loop {
                    tokio::select! {
                        _ = &mut waiting => break,
                        () = shared.lost.notified() => break,
                        () = tokio::time::sleep(HEALTH_CHECK_INTERVAL) => {
                            let ping = peer.send_request(ClientRequest::PingRequest(Default::default()));
                            if !matches!(tokio::time::timeout(config.timeout, ping).await, Ok(Ok(_))) {
                                break;
                            }
                        }
                        () = shared.relist.notified() => {
                            match tokio::time::timeout(config.timeout, list(&peer)).await {
                                Ok(Ok(listing)) => shared.install(listing),
                                Ok(Err(e)) => tracing::warn!(upstream = %shared.name, "listing again failed: {e}"),
                                Err(_) => tracing::warn!(upstream = %shared.name, "listing again timed out"),
                            }
                        }
                    }
                }
                *shared.peer.lock().unwrap_or_else(|e| e.into_inner()) = None;
                // Ends the session if it is still open (a command's
                // process is killed with it).
                drop(waiting);
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

type Session = RunningService<RoleClient, Client>;

/// 2026-07-28 when the upstream speaks it (its input rounds are then
/// `input_required` answers, which the call service relays in both eras),
/// else the `initialize` handshake.
fn lifecycle() -> ClientLifecycleMode {
    ClientLifecycleMode::Auto {
        preferred_versions: vec![ProtocolVersion::V_2026_07_28],
        legacy_version: None,
    }
}

/// What an upstream in the 2025-11-25 style gets when it asks the client
/// something in the middle of a call: Corral cannot tell which call (and so
/// which client) the question belongs to.
fn not_relayed(what: &str) -> ErrorData {
    ErrorData::invalid_request(
        format!(
            "Corral does not relay {what} requests from an upstream in the middle of a call (2025-11-25 style); a 2026-07-28 upstream can ask with input_required"
        ),
        None,
    )
}

async fn connect(shared: &Arc<Shared>, config: &UpstreamConfig) -> Result<Session, String> {
    let client = Client {
        shared: shared.clone(),
    };
    let session = async {
        match &config.target {
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
                command.kill_on_drop(true);
                let transport = rmcp::transport::TokioChildProcess::new(command)
                    .map_err(|e| format!("cannot start `{program}`: {e}"))?;
                client
                    .serve_with_lifecycle(transport, lifecycle())
                    .await
                    .map_err(|e| e.to_string())
            }
            UpstreamTarget::Url { url, headers } => {
                // rustls needs one process-wide crypto provider; ring is the
                // one the rest of the host links.
                let _ = rustls::crypto::ring::default_provider().install_default();
                let mut header_map = http::HeaderMap::new();
                for (name, value) in headers {
                    let name = http::HeaderName::try_from(name.as_str())
                        .map_err(|e| format!("header `{name}`: {e}"))?;
                    let value = http::HeaderValue::try_from(value.as_str())
                        .map_err(|e| format!("header `{name}`: {e}"))?;
                    header_map.insert(name, value);
                }
                // Twice the output cap: an answer's JSON is checked against
                // the cap itself once it is read.
                let max_answer =
                    usize::try_from(config.max_output.saturating_mul(2)).unwrap_or(usize::MAX);
                let mut transport_config =
                    rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig::with_uri(
                        url.as_str(),
                    );
                transport_config.custom_headers = header_map
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                transport_config.max_json_response_size = max_answer;
                let transport =
                    rmcp::transport::StreamableHttpClientTransport::from_config(transport_config);
                let streamable = client
                    .serve_with_lifecycle(transport, lifecycle())
                    .await
                    .map_err(|e| e.to_string());
                match streamable {
                    Ok(session) => Ok(session),
                    // A server of the legacy HTTP+SSE transport (2024-11-05):
                    // GET the URL for the endpoint to post to.
                    Err(streamable) => {
                        let ends = sse::connect(url, header_map, config.timeout, max_answer)
                            .await
                            .map_err(|legacy| {
                                format!("Streamable HTTP: {streamable}; legacy HTTP+SSE: {legacy}")
                            })?;
                        let client = Client {
                            shared: shared.clone(),
                        };
                        client
                            .serve_with_lifecycle(ends, ClientLifecycleMode::Initialize)
                            .await
                            .map_err(|e| format!("legacy HTTP+SSE: {e}"))
                    }
                }
            }
        }
    };
    tokio::time::timeout(config.timeout, session)
        .await
        .map_err(|_| format!("no session within {:?} (timeout)", config.timeout))?
}

/// Everything the upstream offers, every page of it, in the model.
async fn list(peer: &Peer<RoleClient>) -> Result<Listing, String> {
    fn all<T: Serialize, D>(
        items: Vec<T>,
        read: fn(&Value) -> Result<D, String>,
    ) -> Result<Vec<D>, String> {
        items
            .iter()
            .map(|item| read(&serde_json::to_value(item).map_err(|e| e.to_string())?))
            .collect()
    }
    let capabilities = peer
        .peer_info()
        .map(|info| info.capabilities.clone())
        .unwrap_or_default();
    let mut listing = Listing::default();
    if capabilities.tools.is_some() {
        let tools = peer.list_all_tools().await.map_err(|e| e.to_string())?;
        listing.tools = all(tools, read::tool)?;
    }
    if capabilities.resources.is_some() {
        let resources = peer.list_all_resources().await.map_err(|e| e.to_string())?;
        listing.resources = all(resources, read::resource)?;
        let templates = peer
            .list_all_resource_templates()
            .await
            .map_err(|e| e.to_string())?;
        listing.templates = all(templates, read::template)?;
    }
    if capabilities.prompts.is_some() {
        let prompts = peer.list_all_prompts().await.map_err(|e| e.to_string())?;
        listing.prompts = all(prompts, read::prompt)?;
    }
    Ok(listing)
}

/// The client side of an upstream session: routes progress to the call it
/// belongs to, logs the upstream's log messages, and lists again on
/// list_changed.
struct Client {
    shared: Arc<Shared>,
}

impl ClientHandler for Client {
    /// Elicitation, sampling and roots are declared so that an upstream's
    /// `input_required` answers may ask for them: the call service relays
    /// each to the client, or refuses with -32021 when the client lacks it.
    fn get_info(&self) -> ClientConfig {
        ClientConfig::new(
            ClientCapabilities::builder()
                .enable_elicitation()
                .enable_sampling()
                .enable_roots()
                .build(),
            Implementation::new("corral", env!("CARGO_PKG_VERSION")),
        )
    }

    async fn create_elicitation(
        &self,
        _request: ElicitRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, ErrorData> {
        Err(not_relayed("elicitation"))
    }

    async fn create_message(
        &self,
        _params: CreateMessageRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<CreateMessageResult, ErrorData> {
        Err(not_relayed("sampling"))
    }

    async fn list_roots(
        &self,
        _context: RequestContext<RoleClient>,
    ) -> Result<ListRootsResult, ErrorData> {
        Err(not_relayed("roots"))
    }

    async fn on_progress(
        &self,
        params: ProgressNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        let token = token_key(&params.progress_token);
        let observer = self
            .shared
            .progress
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&token)
            .cloned();
        if let Some(observer) = observer {
            observer.progress(params.progress, params.total, params.message.as_deref());
        }
    }

    async fn on_logging_message(
        &self,
        params: LoggingMessageNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        let data = match &params.data {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        tracing::info!(upstream = %self.shared.name, "{:?}: {}", params.level, crate::units::printable(&data));
    }

    async fn on_tool_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.shared.relist.notify_one();
    }

    async fn on_prompt_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.shared.relist.notify_one();
    }

    async fn on_resource_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.shared.relist.notify_one();
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

    fn call_tool<'a>(
        &'a self,
        name: &'a str,
        arguments: &'a JsonObject,
        input: Option<&'a Input>,
        ctx: &'a CallContext,
    ) -> CallFuture<'a, Outcome<ToolResult>> {
        Box::pin(self.tool(name, arguments, input, ctx))
    }

    fn read_resource<'a>(
        &'a self,
        uri: &'a str,
        _params: &'a [(String, String)],
        input: Option<&'a Input>,
        ctx: &'a CallContext,
    ) -> CallFuture<'a, Outcome<Vec<ResourceContents>>> {
        Box::pin(self.read(uri, input, ctx))
    }

    fn get_prompt<'a>(
        &'a self,
        name: &'a str,
        arguments: &'a [(String, String)],
        input: Option<&'a Input>,
        ctx: &'a CallContext,
    ) -> CallFuture<'a, Outcome<PromptResult>> {
        Box::pin(self.prompt(name, arguments, input, ctx))
    }

    fn complete<'a>(
        &'a self,
        reference: &'a CompletionRef,
        argument: &'a str,
        value: &'a str,
        ctx: &'a CallContext,
    ) -> CallFuture<'a, Vec<String>> {
        Box::pin(self.completions(reference, argument, value, ctx))
    }
}
