//! The transports: thin adapters from a client's connection to the
//! [call service](crate::service).
//!
//! [`CorralServer`] is the hand-written rmcp `ServerHandler`: each request
//! becomes an `Exchange` (the client's session, cancellation, progress
//! token, log level, era, capabilities) and goes to the call service, which
//! owns every policy. What is about the connection stays here: the
//! list_changed announcements to sessions and listen streams, per-session
//! log levels, and the transports themselves: stdio (`stdio`, with
//! `draining` for the end of input) and HTTP (`http`).
#![allow(deprecated)] // rmcp marks logging as deprecated (SEP-2577); 2025-11-25 clients use it.

mod draining;
pub(crate) mod http;
mod stdio;

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, Weak};

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CancelTaskParams, CompleteRequestParams,
    CompleteResult, GetPromptRequestParams, GetPromptResponse, GetTaskParams, GetTaskResult,
    Implementation, InitializeRequestParams, ListPromptsResult, ListResourceTemplatesResult,
    ListResourcesResult, ListToolsResult, PaginatedRequestParams, ProtocolVersion,
    ReadResourceRequestParams, ReadResourceResponse, ServerCapabilities, ServerConfig,
    SetLevelRequestParams, SubscribeRequestParams, SubscriptionFilter, Tool,
    UnsubscribeRequestParams, UpdateTaskParams,
};
use rmcp::service::{
    NotificationContext, RequestContext, RoleServer, SubscriptionContext, SubscriptionSink,
};
use rmcp::{ErrorData, Peer, ServerHandler, ServiceExt};

use crate::catalog::Catalog;
use crate::config::{ServerSettings, TokenView};
use crate::model::LogLevel;
use crate::protocol;
use crate::service::{CallService, Changes, Exchange, Returned, TraceParent};

pub use stdio::STDIO_PIPE_BYTES;

/// Most clients remembered for list_changed announcements; the oldest is
/// forgotten past it.
pub const MAX_LISTENERS: usize = 4096;

/// A client to tell about list changes.
#[derive(Clone)]
enum Listener {
    /// A 2025-11-25 session.
    Session(Peer<RoleServer>),
    /// A 2026-07-28 `subscriptions/listen` stream (it filters by itself),
    /// removed when the stream ends.
    Stream(u64, SubscriptionSink),
}

impl Listener {
    fn is_open(&self) -> bool {
        match self {
            Listener::Session(peer) => !peer.is_transport_closed(),
            Listener::Stream(..) => true,
        }
    }

    async fn announce(&self, changes: Changes) {
        let Changes {
            tools,
            prompts,
            resources,
        } = changes;
        match self {
            Listener::Session(peer) => {
                if tools {
                    let _ = peer.notify_tool_list_changed().await;
                }
                if prompts {
                    let _ = peer.notify_prompt_list_changed().await;
                }
                if resources {
                    let _ = peer.notify_resource_list_changed().await;
                }
            }
            Listener::Stream(_, sink) => {
                if tools {
                    let _ = sink.notify_tool_list_changed().await;
                }
                if prompts {
                    let _ = sink.notify_prompt_list_changed().await;
                }
                if resources {
                    let _ = sink.notify_resource_list_changed().await;
                }
            }
        }
    }
}

/// Why serving stopped with an error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The address could not be bound.
    #[error("cannot listen on {address}: {source}")]
    Listen {
        /// `host:port`.
        address: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The session did not initialize.
    #[error("the MCP session did not start: {0}")]
    Start(#[source] Box<rmcp::service::ServerInitializeError>),
    /// The session's task failed after it started.
    #[error("the MCP session failed: {0}")]
    Session(#[source] tokio::task::JoinError),
    /// `[server.auth]` could not be set up.
    #[error("cannot set up authentication: {0}")]
    Auth(#[source] crate::auth::AuthSetupError),
}

struct Shared {
    service: CallService,
    /// Who to tell when the served lists change: 2025-11-25 sessions and
    /// 2026-07-28 `subscriptions/listen` streams. Bounded; closed ones are
    /// pruned on every change and every new entry.
    listeners: Mutex<Vec<Listener>>,
    info: ServerConfig,
    /// The lowest level of provider log messages sent, per 2025-11-25
    /// session (`logging/setLevel`); a session that never set one gets
    /// everything. Entries of ended sessions are pruned on every change.
    session_levels: Mutex<Vec<(Weak<InitializeRequestParams>, u8)>>,
    /// A number per initialized session (stdio, legacy SSE, a Streamable
    /// HTTP session), for binding its tasks: held `Weak`s keep a dead
    /// session's address from being reused while its entry lives, and
    /// numbers are never given twice. Pruned of ended sessions on insert.
    session_numbers: Mutex<SessionNumbers>,
}

/// The numbers given to initialized sessions, by the address of their
/// `initialize` parameters.
#[derive(Default)]
struct SessionNumbers {
    known: std::collections::HashMap<usize, (Weak<InitializeRequestParams>, u64)>,
    last: u64,
}

/// An MCP server over a catalog of providers. Cheap to clone; clones share state.
#[derive(Clone)]
pub struct CorralServer {
    shared: Arc<Shared>,
    /// The verified principal of a legacy SSE session (whose requests
    /// carry no HTTP parts of their own), when auth is on.
    principal: Option<Arc<crate::auth::Principal>>,
}

impl CorralServer {
    /// Serve `catalog` as `settings` say.
    pub fn new(catalog: Catalog, settings: ServerSettings) -> Self {
        let server = Self::loading(settings);
        server.shared.service.replace(catalog);
        server
    }

    /// A server whose catalog is still being loaded: it can start serving
    /// at once (clients initialize and ping), and requests that need the
    /// catalog wait until the first [`replace_catalog`](Self::replace_catalog).
    /// Large plugins take seconds to compile; this keeps clients that probe
    /// the server with a short timeout from giving up.
    pub fn loading(settings: ServerSettings) -> Self {
        let mut capabilities = ServerCapabilities::builder()
            .enable_completions()
            .enable_logging()
            .enable_prompts()
            .enable_resources()
            .enable_resources_subscribe()
            .enable_tools()
            .enable_tasks()
            .build();
        if settings.list_changed {
            let changing = ServerCapabilities::builder()
                .enable_prompts()
                .enable_prompts_list_changed()
                .enable_resources()
                .enable_resources_list_changed()
                .enable_tools()
                .enable_tool_list_changed()
                .build();
            capabilities.prompts = changing.prompts;
            capabilities.tools = changing.tools;
            if let (Some(resources), Some(changed)) =
                (&mut capabilities.resources, changing.resources)
            {
                resources.list_changed = changed.list_changed;
            }
        }
        let mut implementation =
            Implementation::new(settings.name.clone(), settings.version.clone());
        if let Some(title) = &settings.title {
            implementation = implementation.with_title(title.clone());
        }
        if let Some(url) = &settings.website_url {
            implementation = implementation.with_website_url(url.clone());
        }
        if !settings.icons.is_empty() {
            implementation = implementation.with_icons(protocol::icons_of(&settings.icons));
        }
        let mut info = ServerConfig::new(capabilities).with_server_info(implementation);
        if let Some(instructions) = &settings.instructions {
            info = info.with_instructions(instructions.clone());
        }
        Self {
            principal: None,
            shared: Arc::new(Shared {
                service: CallService::new(settings),
                listeners: Mutex::new(Vec::new()),
                info,
                session_levels: Mutex::new(Vec::new()),
                session_numbers: Mutex::default(),
            }),
        }
    }

    /// The server's metrics in Prometheus's text format (what `/metrics`
    /// serves): calls by provider, kind, component and outcome, their
    /// durations, fuel and peak memory, limit hits, catalog reloads, calls
    /// in flight and queued, sessions by protocol version, HTTP answers by
    /// status.
    pub fn metrics_text(&self) -> String {
        let mut sessions: Vec<(String, usize)> = Vec::new();
        let listeners = self.shared.listeners.lock();
        let listeners = listeners.unwrap_or_else(|e| e.into_inner());
        for listener in listeners.iter().filter(|l| l.is_open()) {
            let Listener::Session(peer) = listener else {
                continue;
            };
            let Some(info) = peer.peer_info() else {
                continue;
            };
            let protocol = info.protocol_version.as_str();
            match sessions.iter_mut().find(|(p, _)| p == protocol) {
                Some((_, open)) => *open += 1,
                None => sessions.push((protocol.to_owned(), 1)),
            }
        }
        drop(listeners);
        self.shared.service.metrics_text(&sessions)
    }

    /// Wait (briefly) until the audit records of the calls made so far
    /// are written: call it before the process exits.
    pub fn flush_audit(&self) {
        self.shared.service.flush_audit();
    }

    /// Record metrics from now on: a router with `/metrics` and
    /// [`serve_metrics`](Self::serve_metrics) turn this on; an embedder
    /// that serves [`metrics_text`](Self::metrics_text) otherwise calls it.
    /// Until then nothing is recorded, and calls cost nothing more.
    pub fn record_metrics(&self) {
        self.shared.service.record_metrics();
    }

    /// Whether the first catalog has been installed.
    pub fn is_ready(&self) -> bool {
        self.shared.service.is_ready()
    }

    /// The catalog being served now.
    pub fn catalog(&self) -> Arc<Catalog> {
        self.shared.service.catalog()
    }

    /// Serve `catalog` from now on. Calls in flight finish on the catalog
    /// they started with; with [`ServerSettings::list_changed`] on,
    /// connected clients are told which lists changed
    /// (`notifications/*/list_changed`). The first call on a
    /// [`loading`](Self::loading) server releases the requests waiting for
    /// the catalog and announces nothing.
    pub async fn replace_catalog(&self, catalog: Catalog) {
        let Some(changes) = self.shared.service.replace(catalog) else {
            return;
        };
        if !self.shared.service.settings().list_changed {
            return;
        }
        let listeners: Vec<Listener> = {
            let mut listeners = self
                .shared
                .listeners
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            listeners.retain(Listener::is_open);
            listeners.clone()
        };
        for listener in listeners {
            listener.announce(changes).await;
        }
    }

    fn add_listener(&self, listener: Listener) {
        let mut listeners = self
            .shared
            .listeners
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        listeners.retain(Listener::is_open);
        if listeners.len() >= MAX_LISTENERS {
            listeners.remove(0);
        }
        listeners.push(listener);
    }

    /// Serve one client over this process's stdin and stdout until it leaves.
    pub async fn serve_stdio(self) -> Result<(), ServeError> {
        let (input, output, writer) = stdio::pipes();
        let transport = draining::Draining::new(
            rmcp::transport::async_rw::AsyncRwTransport::new_server(input, output),
        );
        let running = match self.serve(transport).await {
            Ok(running) => running,
            // The client left before starting a session: nothing went wrong.
            Err(rmcp::service::ServerInitializeError::ConnectionClosed(_)) => {
                tracing::info!("stdin closed before a session started");
                return Ok(());
            }
            Err(e) => return Err(ServeError::Start(Box::new(e))),
        };
        let ended = running.waiting().await.map_err(ServeError::Session);
        // The session's end dropped its stdout pipe: wait (briefly) for the
        // last answers to reach stdout before the process may exit.
        let flushed = tokio::task::spawn_blocking(move || writer.join());
        let _ = tokio::time::timeout(std::time::Duration::from_secs(5), flushed).await;
        ended?;
        Ok(())
    }

    /// The level `logging/setLevel` set for this session, if it did.
    fn session_level(&self, peer: &Peer<RoleServer>) -> u8 {
        let Some(info) = peer.peer_info() else {
            return LogLevel::Debug as u8;
        };
        let levels = self
            .shared
            .session_levels
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        levels
            .iter()
            .find(|(session, _)| std::ptr::eq(session.as_ptr(), Arc::as_ptr(&info)))
            .map_or(LogLevel::Debug as u8, |(_, level)| *level)
    }

    /// Who a request's tasks belong to: a 2025-11-25 request's initialized
    /// session (a number this server gave it); a stateless 2026-07-28
    /// request's verified token (its principal) or else its client address
    /// over HTTP, or the one client of a stdio connection. Never a header
    /// the client chose.
    fn owner(&self, context: &RequestContext<RoleServer>, modern: bool) -> String {
        if let (Some(info), false) = (context.peer.peer_info(), modern) {
            let mut numbers = self
                .shared
                .session_numbers
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            let key = Arc::as_ptr(&info) as usize;
            if let Some((_, n)) = numbers.known.get(&key) {
                return format!("session {n}");
            }
            numbers
                .known
                .retain(|_, (session, _)| session.strong_count() > 0);
            numbers.last += 1;
            let n = numbers.last;
            numbers.known.insert(key, (Arc::downgrade(&info), n));
            return format!("session {n}");
        }
        if let Some(principal) = self.principal(context) {
            return format!("principal {}", principal.key);
        }
        context
            .extensions
            .get::<::http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<http::ClientAddr>())
            .map_or_else(String::new, |addr| format!("client {}", addr.0))
    }

    /// This server for one legacy SSE session opened by `principal`.
    pub(crate) fn for_principal(&self, principal: Option<Arc<crate::auth::Principal>>) -> Self {
        Self {
            shared: self.shared.clone(),
            principal,
        }
    }

    /// The verified principal of a request: from its HTTP parts, else the
    /// session's.
    fn principal<'a>(
        &'a self,
        context: &'a RequestContext<RoleServer>,
    ) -> Option<&'a Arc<crate::auth::Principal>> {
        context
            .extensions
            .get::<::http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<Arc<crate::auth::Principal>>())
            .or(self.principal.as_ref())
    }

    /// What the request's token may see (`None`: everything).
    fn token_view(&self, context: &RequestContext<RoleServer>) -> Option<Arc<TokenView>> {
        self.principal(context).and_then(|p| p.view.clone())
    }

    /// The request's link to its client, for the call service.
    fn exchange(&self, context: &RequestContext<RoleServer>) -> Exchange {
        let modern = context
            .protocol_version()
            .is_some_and(|v| v.as_str() >= ProtocolVersion::V_2026_07_28.as_str());
        // 2026-07-28 requests carry their own log level, and get no log
        // messages without one; older sessions use logging/setLevel.
        let min_level = if modern {
            context
                .meta
                .log_level()
                .map(|level| protocol::log_level(level) as u8)
                .unwrap_or(u8::MAX)
        } else {
            self.session_level(&context.peer)
        };
        Exchange {
            peer: context.peer.clone(),
            cancel: context.ct.clone(),
            progress_token: context.meta.get_progress_token(),
            min_level,
            modern,
            capabilities: context.client_capabilities(),
            owner: self.owner(context, modern),
            view: self.token_view(context),
            session: context
                .extensions
                .get::<::http::request::Parts>()
                .and_then(|parts| parts.headers.get("mcp-session-id"))
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            subject: self.principal(context).map(|p| p.subject.clone()),
            trace: context
                .meta
                .get(TraceParent::META_KEY)
                .and_then(|v| v.as_str())
                .and_then(TraceParent::parse),
        }
    }
}

impl ServerHandler for CorralServer {
    fn get_info(&self) -> ServerConfig {
        self.shared.info.clone()
    }

    /// Sets the level for this client's session only.
    async fn set_level(
        &self,
        request: SetLevelRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        let level = protocol::log_level(request.level) as u8;
        let Some(info) = context.peer.peer_info() else {
            return Err(ErrorData::invalid_request(
                "logging/setLevel before initialize",
                None,
            ));
        };
        let mut levels = self
            .shared
            .session_levels
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        levels.retain(|(session, _)| session.strong_count() > 0);
        match levels
            .iter_mut()
            .find(|(session, _)| std::ptr::eq(session.as_ptr(), Arc::as_ptr(&info)))
        {
            Some((_, old)) => *old = level,
            None => levels.push((Arc::downgrade(&info), level)),
        }
        Ok(())
    }

    async fn complete(
        &self,
        request: CompleteRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CompleteResult, ErrorData> {
        let exchange = self.exchange(&context);
        self.shared
            .service
            .complete(
                &exchange,
                &request.r#ref,
                &request.argument.name,
                &request.argument.value,
            )
            .await
    }

    /// 2026-07-28 `subscriptions/listen`: every category the client asks
    /// for is accepted (the SDK narrows it to what is advertised). Served
    /// items only change when the catalog is replaced.
    fn accepted_subscription_filter(
        &self,
        requested: &SubscriptionFilter,
    ) -> Option<SubscriptionFilter> {
        Some(requested.clone())
    }

    /// Hold a 2026-07-28 listen stream open and announce list changes on it.
    async fn listen(&self, context: SubscriptionContext) -> Result<(), ErrorData> {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let key = NEXT.fetch_add(1, Ordering::Relaxed);
        self.add_listener(Listener::Stream(key, context.sink().clone()));
        context.cancelled().await;
        self.shared
            .listeners
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|l| !matches!(l, Listener::Stream(k, _) if *k == key));
        Ok(())
    }

    /// Remember a 2025-11-25 session for list_changed announcements.
    async fn on_initialized(&self, context: NotificationContext<RoleServer>) {
        self.add_listener(Listener::Session(context.peer));
    }

    /// Subscriptions are accepted; served resources only change when the
    /// catalog is replaced.
    async fn subscribe(
        &self,
        _request: SubscribeRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        Ok(())
    }

    async fn unsubscribe(
        &self,
        _request: UnsubscribeRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        Ok(())
    }

    async fn list_tools(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let (items, next) = self
            .shared
            .service
            .tools(self.token_view(&context).as_deref(), cursor(request))
            .await?;
        let mut result = ListToolsResult::with_all_items(items);
        result.next_cursor = next;
        Ok(result)
    }

    /// Called by rmcp's HTTP service outside any request context (to check
    /// `Mcp-Param-*` headers), so the token's view comes from the HTTP
    /// task's principal.
    fn get_tool(&self, name: &str) -> Option<Tool> {
        let view = http::current_principal().and_then(|p| p.view.clone());
        self.shared.service.tool(name, view.as_deref())
    }

    async fn call_tool(
        &self,
        mut request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let exchange = self.exchange(&context);
        let returned = Returned {
            responses: request.input_responses.as_ref(),
            state: request.request_state.as_deref(),
        };
        let arguments = request.arguments.take();
        self.shared
            .service
            .call_tool(&exchange, &request.name, arguments, returned)
            .await
    }

    /// Tasks extension: `tasks/get` (rmcp has checked that the client
    /// declared the extension).
    async fn get_task(
        &self,
        request: GetTaskParams,
        context: RequestContext<RoleServer>,
    ) -> Result<GetTaskResult, ErrorData> {
        let exchange = self.exchange(&context);
        self.shared.service.get_task(&exchange, &request.task_id)
    }

    /// Tasks extension: `tasks/update`, answers to a task's input requests.
    async fn update_task(
        &self,
        request: UpdateTaskParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        let exchange = self.exchange(&context);
        self.shared
            .service
            .update_task(&exchange, &request.task_id, request.input_responses)
    }

    /// Tasks extension: `tasks/cancel`.
    async fn cancel_task(
        &self,
        request: CancelTaskParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        let exchange = self.exchange(&context);
        self.shared.service.cancel_task(&exchange, &request.task_id)
    }

    async fn list_resources(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        let (items, next) = self
            .shared
            .service
            .resources(self.token_view(&context).as_deref(), cursor(request))
            .await?;
        let mut result = ListResourcesResult::with_all_items(items);
        result.next_cursor = next;
        Ok(result)
    }

    async fn list_resource_templates(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        let (items, next) = self
            .shared
            .service
            .templates(self.token_view(&context).as_deref(), cursor(request))
            .await?;
        let mut result = ListResourceTemplatesResult::with_all_items(items);
        result.next_cursor = next;
        Ok(result)
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let exchange = self.exchange(&context);
        let returned = Returned {
            responses: request.input_responses.as_ref(),
            state: request.request_state.as_deref(),
        };
        self.shared
            .service
            .read_resource(&exchange, &request.uri, returned)
            .await
    }

    async fn list_prompts(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        let (items, next) = self
            .shared
            .service
            .prompts(self.token_view(&context).as_deref(), cursor(request))
            .await?;
        let mut result = ListPromptsResult::with_all_items(items);
        result.next_cursor = next;
        Ok(result)
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        let exchange = self.exchange(&context);
        let returned = Returned {
            responses: request.input_responses.as_ref(),
            state: request.request_state.as_deref(),
        };
        self.shared
            .service
            .get_prompt(
                &exchange,
                &request.name,
                request.arguments.as_ref(),
                returned,
            )
            .await
    }
}

fn cursor(request: Option<PaginatedRequestParams>) -> Option<String> {
    request.and_then(|r| r.cursor)
}
