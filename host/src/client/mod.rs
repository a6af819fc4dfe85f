//! `corral::client`: an MCP client in the model's terms, for any server
//! Corral can reach: a command over stdio, a URL (Streamable HTTP, falling
//! back to the legacy HTTP+SSE transport), or an in-process byte stream.
//!
//! It lists, calls tools, reads resources, gets prompts and completes, with
//! a timeout and cancellation per request (a cancelled or timed-out request
//! is cancelled on the server too), progress routed to the request's
//! [`CallObserver`](crate::CallObserver), answers refused past a size cap, and a [`Handler`] for
//! what the server sends on its own: log messages, list changes, and
//! requests for input (elicitation, sampling, roots), whether the server
//! asks in the middle of a call (2025-11-25) or answers `input_required`
//! (2026-07-28; [`Client::call_tool`] and the other whole-call methods
//! answer up to [`MAX_ANSWERED_ROUNDS`] rounds through the handler).
//!
//! A tool call the server turns into a task (the MCP tasks extension, which
//! the client declares) is followed to its end (`client/task.rs`).
//!
//! `corral call`/`list`/`read`/`prompt` and the upstream provider use it.
#![allow(deprecated)] // rmcp marks logging as deprecated (SEP-2577); servers still send it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use rmcp::model::{
    CallToolRequest, CallToolRequestParams, ClientCapabilities, ClientConfig, ClientRequest,
    CompleteRequest, CompleteRequestParams, CreateMessageRequestParams, CreateMessageResult,
    ElicitRequestParams, ElicitResult, GetPromptRequest, GetPromptRequestParams, Implementation,
    ListRootsResult, LoggingMessageNotificationParam, ProgressNotificationParam, ProgressToken,
    ProtocolVersion, ReadResourceRequest, ReadResourceRequestParams, RequestMetaObject,
    ServerResult,
};
use rmcp::service::{
    NotificationContext, PeerRequestOptions, RequestContext, RoleClient, RunningService,
    ServiceError,
};
use rmcp::{ClientHandler as RmcpHandler, ClientLifecycleMode, ClientServiceExt, ErrorData, Peer};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

mod sse;

use crate::config::{DEFAULT_MAX_OUTPUT, DEFAULT_TASK_TIMEOUT, DEFAULT_TIMEOUT, sensitive_headers};
use crate::model::{
    Input, InputRequest, JsonObject, Listing, LogLevel, Outcome, PromptResult, ResourceContents,
    ToolResult,
};
use crate::protocol::{self, read};
use crate::provider::{CallContext, CompletionRef};

pub use sse::SSE_CLIENT_QUEUE;
mod progress;
mod task;

/// How many `input_required` rounds [`Client::call_tool`] (and the other
/// whole-call methods) answer for one call before giving up on a server
/// that keeps asking.
pub const MAX_ANSWERED_ROUNDS: usize = 8;

/// Where the server is.
#[non_exhaustive]
pub enum Target {
    /// A command spoken to over its stdin and stdout; its environment,
    /// directory and arguments are the caller's to set. It is killed when
    /// the client is dropped.
    Command(tokio::process::Command),
    /// An `http://` or `https://` URL: Streamable HTTP, or the legacy
    /// HTTP+SSE transport when that fails.
    Url {
        /// The endpoint.
        url: String,
        /// Headers sent with every request (secrets, such as a bearer token).
        headers: Vec<(String, String)>,
    },
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Command(command) => {
                write!(f, "{}", command.as_std().get_program().to_string_lossy())
            }
            Target::Url { url, .. } => f.write_str(url),
        }
    }
}

/// How a client connects and what it accepts.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ClientOptions {
    /// The longest connecting, listing or one request may take.
    pub timeout: Duration,
    /// The largest answer accepted, in bytes of JSON.
    pub max_answer: u64,
    /// The longest a tool call the server turned into a task is followed
    /// (each poll is a request under `timeout`); then it is cancelled.
    pub task_timeout: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            timeout: DEFAULT_TIMEOUT,
            max_answer: DEFAULT_MAX_OUTPUT,
            task_timeout: DEFAULT_TASK_TIMEOUT,
        }
    }
}

impl ClientOptions {
    /// Options with this timeout and answer cap; a task is followed for at
    /// most the same timeout (a proxy's call stays bounded by its own).
    pub fn new(timeout: Duration, max_answer: u64) -> Self {
        Self {
            timeout,
            max_answer,
            task_timeout: timeout,
        }
    }
}

/// What the client tells the server it can answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// `elicitation/create`: ask the user.
    pub elicitation: bool,
    /// `sampling/createMessage`: ask the client's model.
    pub sampling: bool,
    /// `roots/list`: the client's roots.
    pub roots: bool,
}

/// The future a [`Handler`] answers with.
pub type Answer<'a> = Pin<Box<dyn Future<Output = Result<Value, String>> + Send + 'a>>;

/// What a client does with what the server sends on its own. Every method
/// has a default: log messages and list changes are ignored, and requests
/// for input are refused.
pub trait Handler: Send + Sync + 'static {
    /// What the client declares it can answer.
    fn capabilities(&self) -> Capabilities {
        Capabilities::default()
    }

    /// The least severe log messages the client wants with each request
    /// (2026-07-28 servers send none unless asked; older sessions get the
    /// server's default). `None`: none asked for.
    fn log_level(&self) -> Option<LogLevel> {
        None
    }

    /// A log message from the server.
    fn log(&self, level: LogLevel, logger: Option<&str>, data: &Value) {
        let _ = (level, logger, data);
    }

    /// The server's tools, resources or prompts changed.
    fn list_changed(&self) {}

    /// Answer a request for input with its MCP result JSON (an
    /// `ElicitResult`, a `CreateMessageResult` or a `ListRootsResult`), or
    /// refuse it with a reason.
    fn answer<'a>(&'a self, request: &'a InputRequest) -> Answer<'a> {
        let _ = request;
        Box::pin(async { Err("this client answers no requests for input".to_owned()) })
    }
}

/// The handler that answers nothing and ignores everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoHandler;

impl Handler for NoHandler {}

/// Why a client request failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// No session could be started.
    #[error("cannot connect to {target}: {reason}")]
    Connect {
        /// The command or URL.
        target: String,
        /// Why.
        reason: String,
    },
    /// The connection is gone (or broke during the request).
    #[error("the connection closed: {0}")]
    Closed(String),
    /// The request took longer than the client's timeout.
    #[error("no answer within {} (timeout)", crate::units::human_duration(*.0))]
    Timeout(Duration),
    /// The request was cancelled by the caller.
    #[error("cancelled")]
    Cancelled,
    /// The server answered with a JSON-RPC error.
    #[error("the server refused: {message} ({code})")]
    Server {
        /// The JSON-RPC error code.
        code: i32,
        /// The server's message.
        message: String,
    },
    /// The answer was larger than the client accepts.
    #[error("the answer was {} of JSON, more than the {} accepted", crate::units::human_size(*.actual), crate::units::human_size(*.limit))]
    TooLarge {
        /// The cap, in bytes.
        limit: u64,
        /// The answer's size, in bytes.
        actual: u64,
    },
    /// The answer could not be read.
    #[error("a malformed answer: {0}")]
    Malformed(String),
    /// The server asked for input that the handler would not give.
    #[error("the server asked for input this client does not give: {0}")]
    Refused(String),
    /// The server kept asking for input.
    #[error("the server asked for input more than {0} times for one call")]
    TooManyRounds(usize),
}

/// What the rmcp session shares with the client.
struct Shared {
    handler: Arc<dyn Handler>,
    /// Where each request's progress goes, by its progress token.
    progress: progress::ProgressRoutes,
}

impl Shared {
    fn new(handler: Arc<dyn Handler>) -> Arc<Self> {
        Arc::new(Self {
            handler,
            progress: progress::ProgressRoutes::default(),
        })
    }
}

/// A connected MCP client. Dropping it ends the session (a command's
/// process is killed with it).
pub struct Client {
    peer: Peer<RoleClient>,
    shared: Arc<Shared>,
    options: ClientOptions,
    closed: tokio::sync::watch::Receiver<bool>,
    stop: tokio_util::sync::CancellationToken,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// 2026-07-28 when the server speaks it (its input rounds are then
/// `input_required` answers), else the `initialize` handshake.
fn lifecycle() -> ClientLifecycleMode {
    ClientLifecycleMode::Auto {
        preferred_versions: vec![ProtocolVersion::V_2026_07_28],
        legacy_version: None,
    }
}

impl Client {
    /// Connect to `target` and start a session, within `options.timeout`.
    pub async fn connect(
        target: Target,
        handler: Arc<dyn Handler>,
        options: ClientOptions,
    ) -> Result<Self, ClientError> {
        let name = target.to_string();
        let shared = Shared::new(handler);
        let bridge = {
            let shared = shared.clone();
            move || Bridge {
                shared: shared.clone(),
            }
        };
        let timeout = options.timeout;
        let max_answer = options.max_answer;
        let session = async move {
            match target {
                Target::Command(mut command) => {
                    command.kill_on_drop(true);
                    let program = command
                        .as_std()
                        .get_program()
                        .to_string_lossy()
                        .into_owned();
                    let transport = rmcp::transport::TokioChildProcess::new(command)
                        .map_err(|e| format!("cannot start `{program}`: {e}"))?;
                    bridge()
                        .serve_with_lifecycle(transport, lifecycle())
                        .await
                        .map_err(|e| e.to_string())
                }
                Target::Url { url, headers } => {
                    // rustls needs one process-wide crypto provider; ring is
                    // the one the rest of the host links.
                    let _ = rustls::crypto::ring::default_provider().install_default();
                    let header_map = sensitive_headers(&headers)?;
                    // Twice the cap: an answer's JSON is checked against the
                    // cap itself once it is read.
                    let max_answer =
                        usize::try_from(max_answer.saturating_mul(2)).unwrap_or(usize::MAX);
                    let mut config =
                        rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig::with_uri(
                            url.as_str(),
                        );
                    config.custom_headers = header_map
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect();
                    config.max_json_response_size = max_answer;
                    let transport =
                        rmcp::transport::StreamableHttpClientTransport::from_config(config);
                    match bridge().serve_with_lifecycle(transport, lifecycle()).await {
                        Ok(session) => Ok(session),
                        // A server of the legacy HTTP+SSE transport
                        // (2024-11-05): GET the URL for the endpoint to post to.
                        Err(streamable) => {
                            let ends = sse::connect(&url, header_map, timeout, max_answer)
                                .await
                                .map_err(|legacy| {
                                    format!(
                                        "Streamable HTTP: {streamable}; legacy HTTP+SSE: {legacy}"
                                    )
                                })?;
                            bridge()
                                .serve_with_lifecycle(ends, ClientLifecycleMode::Initialize)
                                .await
                                .map_err(|e| format!("legacy HTTP+SSE: {e}"))
                        }
                    }
                }
            }
        };
        Self::established(&name, session, shared, options).await
    }

    /// Start a session with a server at the other end of `stream` (an
    /// in-process server over [`tokio::io::duplex`]).
    pub async fn connect_stream(
        stream: tokio::io::DuplexStream,
        handler: Arc<dyn Handler>,
        options: ClientOptions,
    ) -> Result<Self, ClientError> {
        let shared = Shared::new(handler);
        let bridge = Bridge {
            shared: shared.clone(),
        };
        let session = async {
            bridge
                .serve_with_lifecycle(stream, lifecycle())
                .await
                .map_err(|e| e.to_string())
        };
        Self::established("an in-process server", session, shared, options).await
    }

    /// The client once `session` (the handshake) has finished, within the
    /// timeout; a failure names `target`.
    async fn established(
        target: &str,
        session: impl Future<Output = Result<RunningService<RoleClient, Bridge>, String>>,
        shared: Arc<Shared>,
        options: ClientOptions,
    ) -> Result<Self, ClientError> {
        let fail = |reason: String| ClientError::Connect {
            target: target.to_owned(),
            reason,
        };
        let timeout = options.timeout;
        let running = tokio::time::timeout(timeout, session)
            .await
            .map_err(|_| fail(format!("no session within {timeout:?} (timeout)")))?
            .map_err(fail)?;
        Ok(Self::started(running, shared, options))
    }

    fn started(
        running: RunningService<RoleClient, Bridge>,
        shared: Arc<Shared>,
        options: ClientOptions,
    ) -> Self {
        let peer = running.peer().clone();
        let (tell, closed) = tokio::sync::watch::channel(false);
        let stop = tokio_util::sync::CancellationToken::new();
        let stopped = stop.clone();
        tokio::spawn(async move {
            let cancel = running.cancellation_token();
            tokio::select! {
                _ = running.waiting() => {}
                () = stopped.cancelled() => cancel.cancel(),
            }
            tell.send_replace(true);
        });
        Self {
            peer,
            shared,
            options,
            closed,
            stop,
        }
    }

    /// End the session now (a command's process is killed); requests in
    /// flight fail as closed.
    pub fn close(&self) {
        self.stop.cancel();
    }

    /// Resolves when the session has ended.
    pub async fn closed(&self) {
        let mut closed = self.closed.clone();
        let _ = closed.wait_for(|c| *c).await;
    }

    /// The server's `serverInfo` and `instructions`, as it sent them.
    pub fn server_info(&self) -> Option<Value> {
        self.peer
            .peer_info()
            .and_then(|info| serde_json::to_value(&*info).ok())
    }

    /// A ping, within the timeout.
    pub async fn ping(&self) -> Result<(), ClientError> {
        let ping = self
            .peer
            .send_request(ClientRequest::PingRequest(Default::default()));
        match tokio::time::timeout(self.options.timeout, ping).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(ClientError::Closed(e.to_string())),
            Err(_) => Err(ClientError::Timeout(self.options.timeout)),
        }
    }

    /// Everything the server offers, every page of it (each kind only when
    /// the server declares it).
    pub async fn listing(&self) -> Result<Listing, ClientError> {
        fn all<T: Serialize, D>(
            items: Vec<T>,
            read: fn(&Value) -> Result<D, String>,
        ) -> Result<Vec<D>, ClientError> {
            items
                .iter()
                .map(|item| {
                    let value = serde_json::to_value(item)
                        .map_err(|e| ClientError::Malformed(e.to_string()))?;
                    read(&value).map_err(ClientError::Malformed)
                })
                .collect()
        }
        let failed = |e: ServiceError| match e {
            ServiceError::McpError(e) => ClientError::Server {
                code: e.code.0,
                message: e.message.to_string(),
            },
            other => ClientError::Closed(other.to_string()),
        };
        let capabilities = self
            .peer
            .peer_info()
            .map(|info| info.capabilities.clone())
            .unwrap_or_default();
        let peer = &self.peer;
        let list = async {
            let mut listing = Listing::default();
            if capabilities.tools.is_some() {
                listing.tools = all(peer.list_all_tools().await.map_err(failed)?, read::tool)?;
            }
            if capabilities.resources.is_some() {
                listing.resources = all(
                    peer.list_all_resources().await.map_err(failed)?,
                    read::resource,
                )?;
                listing.templates = all(
                    peer.list_all_resource_templates().await.map_err(failed)?,
                    read::template,
                )?;
            }
            if capabilities.prompts.is_some() {
                listing.prompts =
                    all(peer.list_all_prompts().await.map_err(failed)?, read::prompt)?;
            }
            Ok(listing)
        };
        tokio::time::timeout(self.options.timeout, list)
            .await
            .map_err(|_| ClientError::Timeout(self.options.timeout))?
    }

    /// Call the tool `name`, answering the server's requests for input
    /// through the handler.
    pub async fn call_tool(
        &self,
        name: &str,
        arguments: &JsonObject,
        ctx: &CallContext,
    ) -> Result<ToolResult, ClientError> {
        self.answered(async |input| self.call_tool_round(name, arguments, input, ctx).await)
            .await
    }

    /// Read `uri`, answering the server's requests for input.
    pub async fn read_resource(
        &self,
        uri: &str,
        ctx: &CallContext,
    ) -> Result<Vec<ResourceContents>, ClientError> {
        self.answered(async |input| self.read_resource_round(uri, input, ctx).await)
            .await
    }

    /// Get the prompt `name`, answering the server's requests for input.
    pub async fn get_prompt(
        &self,
        name: &str,
        arguments: &[(String, String)],
        ctx: &CallContext,
    ) -> Result<PromptResult, ClientError> {
        self.answered(async |input| self.get_prompt_round(name, arguments, input, ctx).await)
            .await
    }

    /// One round of a tool call: its result, or what the server asks for
    /// (`input` carries the answers to the previous round).
    pub async fn call_tool_round(
        &self,
        name: &str,
        arguments: &JsonObject,
        input: Option<&Input>,
        ctx: &CallContext,
    ) -> Result<Outcome<ToolResult>, ClientError> {
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
                self.read(&result, read::tool_result).map(Outcome::Complete)
            }
            ServerResult::InputRequiredResult(required) => self.needs_input(&required),
            ServerResult::CreateTaskResult(task) => self.await_task(task, ctx).await,
            _ => Err(ClientError::Malformed(
                "the server answered a tool call with something else".into(),
            )),
        }
    }

    /// One round of a resource read.
    pub async fn read_resource_round(
        &self,
        uri: &str,
        input: Option<&Input>,
        ctx: &CallContext,
    ) -> Result<Outcome<Vec<ResourceContents>>, ClientError> {
        let mut params = ReadResourceRequestParams::new(uri.to_owned());
        returned(
            input,
            &mut params.input_responses,
            &mut params.request_state,
        );
        let request = ClientRequest::ReadResourceRequest(ReadResourceRequest::new(params));
        match self.request(ctx, request).await? {
            ServerResult::ReadResourceResult(result) => {
                self.read(&result, read::read_result).map(Outcome::Complete)
            }
            ServerResult::InputRequiredResult(required) => self.needs_input(&required),
            _ => Err(ClientError::Malformed(
                "the server answered a read with something else".into(),
            )),
        }
    }

    /// One round of getting a prompt.
    pub async fn get_prompt_round(
        &self,
        name: &str,
        arguments: &[(String, String)],
        input: Option<&Input>,
        ctx: &CallContext,
    ) -> Result<Outcome<PromptResult>, ClientError> {
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
            ServerResult::GetPromptResult(result) => self
                .read(&result, read::prompt_result)
                .map(Outcome::Complete),
            ServerResult::InputRequiredResult(required) => self.needs_input(&required),
            _ => Err(ClientError::Malformed(
                "the server answered a prompt with something else".into(),
            )),
        }
    }

    /// Suggested values for `argument` of `reference`, which starts as
    /// `value`.
    pub async fn complete(
        &self,
        reference: &CompletionRef,
        argument: &str,
        value: &str,
        ctx: &CallContext,
    ) -> Result<Vec<String>, ClientError> {
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
        .map_err(|e| ClientError::Malformed(format!("a completion request: {e}")))?;
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

    /// Run rounds until one completes, answering each round's requests
    /// through the handler.
    async fn answered<T>(
        &self,
        mut round: impl AsyncFnMut(Option<&Input>) -> Result<Outcome<T>, ClientError>,
    ) -> Result<T, ClientError> {
        let mut input: Option<Input> = None;
        for _ in 0..=MAX_ANSWERED_ROUNDS {
            let required = match round(input.as_ref()).await? {
                Outcome::Complete(done) => return Ok(done),
                Outcome::NeedsInput(required) => required,
            };
            let mut responses = Vec::with_capacity(required.requests.len());
            for (key, request) in &required.requests {
                let answer = self
                    .shared
                    .handler
                    .answer(request)
                    .await
                    .map_err(ClientError::Refused)?;
                responses.push((key.clone(), answer));
            }
            input = Some(Input {
                responses,
                state: required.state,
            });
        }
        Err(ClientError::TooManyRounds(MAX_ANSWERED_ROUNDS))
    }

    /// Send one request and wait for its answer under the timeout and the
    /// call's cancellation, with its progress routed to the call; a
    /// cancelled or timed-out request is cancelled on the server too.
    async fn request(
        &self,
        ctx: &CallContext,
        request: ClientRequest,
    ) -> Result<ServerResult, ClientError> {
        let mut options = PeerRequestOptions::no_options();
        if let Some(level) = self.shared.handler.log_level() {
            let mut meta = RequestMetaObject::new();
            meta.set_log_level(protocol::logging_level(level));
            options = options.with_meta(meta);
        }
        let mut handle = self
            .peer
            .send_cancellable_request(request, options)
            .await
            .map_err(|e| ClientError::Closed(e.to_string()))?;
        let _route = self.route(ctx, &handle.progress_token);
        let timeout = self.options.timeout;
        let failure = tokio::select! {
            biased;
            _ = ctx.cancel.cancelled() => ClientError::Cancelled,
            answer = tokio::time::timeout(timeout, &mut handle.rx) => match answer {
                Err(_) => ClientError::Timeout(timeout),
                Ok(Err(_)) => return Err(ClientError::Closed("during the request".into())),
                Ok(Ok(Ok(result))) => {
                    // rmcp hands notifications to spawned tasks: give the
                    // progress reports sent just before the answer a chance
                    // to reach the call before its route goes.
                    for _ in 0..4 {
                        tokio::task::yield_now().await;
                    }
                    return Ok(result);
                }
                Ok(Ok(Err(ServiceError::McpError(error)))) => {
                    return Err(ClientError::Server {
                        code: error.code.0,
                        message: error.message.to_string(),
                    });
                }
                Ok(Ok(Err(e))) => return Err(ClientError::Closed(e.to_string())),
            },
        };
        let _ = handle.cancel(Some(failure.to_string())).await;
        Err(failure)
    }

    /// Route the progress of the request sent with `token` to the call's
    /// observer until the returned route is dropped.
    fn route(&self, ctx: &CallContext, token: &ProgressToken) -> Option<progress::Route<'_>> {
        let observer = ctx.observer.clone()?;
        Some(self.shared.progress.route(token, observer))
    }

    /// The answer as JSON, refused past the size cap.
    fn checked<T: Serialize>(&self, answer: &T) -> Result<Value, ClientError> {
        let value =
            serde_json::to_value(answer).map_err(|e| ClientError::Malformed(e.to_string()))?;
        let size = serde_json::to_vec(&value).map_or(u64::MAX, |v| v.len() as u64);
        if size > self.options.max_answer {
            return Err(ClientError::TooLarge {
                limit: self.options.max_answer,
                actual: size,
            });
        }
        Ok(value)
    }

    fn read<T: Serialize, D>(
        &self,
        answer: &T,
        read: fn(&Value) -> Result<D, String>,
    ) -> Result<D, ClientError> {
        read(&self.checked(answer)?).map_err(ClientError::Malformed)
    }

    fn needs_input<T>(&self, required: &impl Serialize) -> Result<Outcome<T>, ClientError> {
        self.read(required, read::input_required)
            .map(Outcome::NeedsInput)
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

/// The rmcp side of a session: hands what the server sends on its own to
/// the [`Handler`], and progress to the request it belongs to.
struct Bridge {
    shared: Arc<Shared>,
}

impl Bridge {
    /// A request the server sent in the middle of a call (2025-11-25),
    /// answered by the handler.
    async fn ask<P: Serialize, R: DeserializeOwned>(
        &self,
        method: &str,
        params: &P,
    ) -> Result<R, ErrorData> {
        let params = serde_json::to_value(params)
            .map_err(|e| ErrorData::invalid_params(e.to_string(), None))?;
        let request =
            read::input_request(method, &params).map_err(|e| ErrorData::invalid_params(e, None))?;
        let answer = self
            .shared
            .handler
            .answer(&request)
            .await
            .map_err(|reason| ErrorData::invalid_request(reason, None))?;
        serde_json::from_value(answer).map_err(|e| {
            ErrorData::internal_error(format!("the client's answer to {method}: {e}"), None)
        })
    }
}

impl RmcpHandler for Bridge {
    fn get_info(&self) -> ClientConfig {
        let wanted = self.shared.handler.capabilities();
        let mut capabilities = ClientCapabilities::default();
        if wanted.elicitation {
            capabilities = ClientCapabilities::builder().enable_elicitation().build();
        }
        if wanted.sampling {
            capabilities.sampling = ClientCapabilities::builder()
                .enable_sampling()
                .build()
                .sampling;
        }
        if wanted.roots {
            capabilities.roots = ClientCapabilities::builder().enable_roots().build().roots;
        }
        // A tool call the server makes a task is followed to its end.
        capabilities.extensions = ClientCapabilities::builder()
            .enable_tasks()
            .build()
            .extensions;
        ClientConfig::new(
            capabilities,
            Implementation::new("corral", env!("CARGO_PKG_VERSION")),
        )
    }

    async fn create_elicitation(
        &self,
        request: ElicitRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, ErrorData> {
        self.ask("elicitation/create", &request).await
    }

    async fn create_message(
        &self,
        params: CreateMessageRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<CreateMessageResult, ErrorData> {
        self.ask("sampling/createMessage", &params).await
    }

    async fn list_roots(
        &self,
        _context: RequestContext<RoleClient>,
    ) -> Result<ListRootsResult, ErrorData> {
        self.ask("roots/list", &serde_json::json!({})).await
    }

    async fn on_progress(
        &self,
        params: ProgressNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        self.shared.progress.deliver(params);
    }

    async fn on_logging_message(
        &self,
        params: LoggingMessageNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        self.shared.handler.log(
            protocol::log_level(params.level),
            params.logger.as_deref(),
            &params.data,
        );
    }

    async fn on_tool_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.shared.handler.list_changed();
    }

    async fn on_prompt_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.shared.handler.list_changed();
    }

    async fn on_resource_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.shared.handler.list_changed();
    }
}

/// The model's answers in MCP's wire shape (JSON), as a server sends them:
/// for printing them as they came (`corral call --raw`).
pub mod wire {
    use serde_json::Value;

    use crate::model::{Listing, PromptResult, ResourceContents, ToolResult};
    use crate::protocol;

    fn json<T: serde::Serialize>(value: Result<T, rmcp::ErrorData>) -> Value {
        value
            .ok()
            .and_then(|v| serde_json::to_value(v).ok())
            .unwrap_or(Value::Null)
    }

    /// A `tools/call` result.
    pub fn tool_result(result: &ToolResult) -> Value {
        json(protocol::tool_result(result))
    }

    /// A `resources/read` result.
    pub fn read_result(contents: &[ResourceContents]) -> Value {
        json(protocol::read_result(contents))
    }

    /// A `prompts/get` result.
    pub fn prompt_result(result: &PromptResult) -> Value {
        json(protocol::prompt_result(result))
    }

    /// Every list at once: `{tools, resources, resourceTemplates, prompts}`.
    pub fn listing(listing: &Listing) -> Value {
        let all = |items: Vec<Value>| Value::Array(items);
        serde_json::json!({
            "tools": all(listing.tools.iter().map(|t| json(protocol::tool(t))).collect()),
            "resources": all(listing.resources.iter().map(|r| json(protocol::resource(r))).collect()),
            "resourceTemplates": all(listing.templates.iter().map(|t| json(protocol::template(t))).collect()),
            "prompts": all(listing.prompts.iter().map(|p| json(protocol::prompt(p))).collect()),
        })
    }
}
