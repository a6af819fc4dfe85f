//! The MCP server: a hand-written rmcp `ServerHandler` over the catalog.
//!
//! The catalog sits behind an `ArcSwap`: a request works on the snapshot it
//! loaded when it started, and a reload swaps in a new one atomically.
#![allow(deprecated)] // rmcp marks logging as deprecated (SEP-2577); 2025-11-25 clients use it.

mod draining;
mod input;
mod stdio;

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, Weak};

use arc_swap::ArcSwap;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CompleteRequestParams, CompleteResult,
    GetPromptRequestParams, GetPromptResponse, Implementation, InitializeRequestParams,
    InputRequiredResult, ListPromptsResult, ListResourceTemplatesResult, ListResourcesResult,
    ListToolsResult, LoggingMessageNotificationParam, PaginatedRequestParams,
    ProgressNotificationParam, ProgressToken, Prompt, ReadResourceRequestParams,
    ReadResourceResponse, Reference, Resource, ResourceTemplate, ServerCapabilities, ServerConfig,
    SetLevelRequestParams, SubscribeRequestParams, SubscriptionFilter, Tool,
    UnsubscribeRequestParams,
};
use rmcp::service::{
    NotificationContext, RequestContext, RoleServer, SubscriptionContext, SubscriptionSink,
};
use rmcp::{ErrorData, Peer, ServerHandler, ServiceExt};
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::catalog::Catalog;
use crate::error::{CallError, GuestError};
use crate::model::{LogLevel, Outcome};
use crate::plugin::CompletionRef;
use crate::validation::ToolSchemas;
use corral_uri_template::MAX_URI_BYTES;

use crate::protocol;
use crate::runtime::{CallContext, CallObserver};
use input::{InputError, StateSeal};
pub use input::{MAX_INPUT_ROUNDS, REQUEST_STATE_TTL};
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

    async fn announce(&self, tools: bool, prompts: bool, resources: bool) {
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

/// Notifications one call may have queued for the client before more are dropped.
pub const MAX_QUEUED_NOTIFICATIONS: usize = 256;

/// What the server says about itself, and how it treats errors.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// `serverInfo.name`.
    pub name: String,
    /// `serverInfo.version`.
    pub version: String,
    /// `serverInfo.title`.
    pub title: Option<String>,
    /// `serverInfo.websiteUrl`.
    pub website_url: Option<String>,
    /// `serverInfo.icons`.
    pub icons: Vec<crate::model::Icon>,
    /// Instructions for the client's model.
    pub instructions: Option<String>,
    /// Hide internal error details (traps, host failures) from clients.
    pub mask_error_details: bool,
    /// List pages of at most this many items (`None`: everything at once).
    pub page_size: Option<usize>,
    /// Advertise `listChanged` and announce changes made with
    /// [`CorralServer::replace_catalog`]. Off when the served lists never
    /// change (a server advertises only what it does).
    pub list_changed: bool,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            name: "corral".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            title: None,
            website_url: None,
            icons: Vec::new(),
            instructions: None,
            mask_error_details: false,
            page_size: None,
            list_changed: false,
        }
    }
}

/// Why serving stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("the MCP session did not start: {0}")]
    Start(String),
    #[error("the MCP session failed: {0}")]
    Session(String),
}

/// The served view: the catalog and its listings in MCP form, made once per snapshot.
struct View {
    catalog: Arc<Catalog>,
    /// Compiled schemas, by served tool name.
    schemas: HashMap<String, ToolSchemas>,
    tools: Vec<Tool>,
    resources: Vec<Resource>,
    templates: Vec<ResourceTemplate>,
    prompts: Vec<Prompt>,
}

impl View {
    fn new(catalog: Arc<Catalog>) -> Self {
        fn all<'a, D: 'a, T>(
            items: impl Iterator<Item = &'a D>,
            convert: fn(&D) -> Result<T, ErrorData>,
        ) -> Vec<T> {
            items
                .filter_map(|d| {
                    convert(d)
                        .inspect_err(|e| tracing::error!("not listed: {}", e.message))
                        .ok()
                })
                .collect()
        }
        Self {
            schemas: catalog
                .tools()
                .map(|s| (s.def.name.clone(), ToolSchemas::compile(&s.def)))
                .collect(),
            tools: all(catalog.tools().map(|s| &s.def), protocol::tool),
            resources: all(catalog.resources().map(|s| &s.def), protocol::resource),
            templates: all(catalog.templates().map(|s| &s.def), protocol::template),
            prompts: all(catalog.prompts().map(|s| &s.def), protocol::prompt),
            catalog,
        }
    }
}

struct Shared {
    view: ArcSwap<View>,
    /// False while the first catalog is loading; requests that need the
    /// catalog wait for it, while `initialize` and `ping` are answered at once.
    ready: tokio::sync::watch::Sender<bool>,
    /// Who to tell when the served lists change: 2025-11-25 sessions and
    /// 2026-07-28 `subscriptions/listen` streams. Bounded; closed ones are
    /// pruned on every change and every new entry.
    listeners: Mutex<Vec<Listener>>,
    seal: StateSeal,
    options: ServerOptions,
    info: ServerConfig,
    /// The lowest level of plugin log messages sent, per 2025-11-25
    /// session (`logging/setLevel`); a session that never set one gets
    /// everything. Entries of ended sessions are pruned on every change.
    session_levels: Mutex<Vec<(Weak<InitializeRequestParams>, u8)>>,
}

/// An MCP server over a catalog of plugins. Cheap to clone; clones share state.
#[derive(Clone)]
pub struct CorralServer {
    shared: Arc<Shared>,
}

impl CorralServer {
    /// Serve `catalog` with `options`.
    pub fn new(catalog: Catalog, options: ServerOptions) -> Self {
        let server = Self::loading(options);
        server
            .shared
            .view
            .store(Arc::new(View::new(Arc::new(catalog))));
        server.shared.ready.send_replace(true);
        server
    }

    /// A server whose catalog is still being loaded: it can start serving
    /// at once (clients initialize and ping), and requests that need the
    /// catalog wait until the first [`replace_catalog`](Self::replace_catalog).
    /// Large plugins take seconds to compile; this keeps clients that probe
    /// the server with a short timeout from giving up.
    pub fn loading(options: ServerOptions) -> Self {
        let mut capabilities = ServerCapabilities::builder()
            .enable_completions()
            .enable_logging()
            .enable_prompts()
            .enable_resources()
            .enable_resources_subscribe()
            .enable_tools()
            .build();
        if options.list_changed {
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
        let mut implementation = Implementation::new(options.name.clone(), options.version.clone());
        if let Some(title) = &options.title {
            implementation = implementation.with_title(title.clone());
        }
        if let Some(url) = &options.website_url {
            implementation = implementation.with_website_url(url.clone());
        }
        if !options.icons.is_empty() {
            implementation = implementation.with_icons(protocol::icons_of(&options.icons));
        }
        let mut info = ServerConfig::new(capabilities).with_server_info(implementation);
        if let Some(instructions) = &options.instructions {
            info = info.with_instructions(instructions.clone());
        }
        Self {
            shared: Arc::new(Shared {
                view: ArcSwap::from_pointee(View::new(Arc::new(Catalog::default()))),
                ready: tokio::sync::watch::Sender::new(false),
                listeners: Mutex::new(Vec::new()),
                seal: StateSeal::new(),
                options,
                info,
                session_levels: Mutex::new(Vec::new()),
            }),
        }
    }

    /// Whether the first catalog has been installed.
    pub fn is_ready(&self) -> bool {
        *self.shared.ready.borrow()
    }

    /// The served view, once the first catalog is in.
    async fn view(&self) -> Arc<View> {
        if !self.is_ready() {
            let mut ready = self.shared.ready.subscribe();
            // The sender lives as long as `self`, so this cannot fail.
            let _ = ready.wait_for(|r| *r).await;
        }
        self.shared.view.load_full()
    }

    /// The catalog being served now.
    pub fn catalog(&self) -> Arc<Catalog> {
        self.shared.view.load().catalog.clone()
    }

    /// Serve `catalog` from now on. Calls in flight finish on the catalog
    /// they started with; with [`ServerOptions::list_changed`] on, connected
    /// clients are told which lists changed (`notifications/*/list_changed`).
    /// The first call on a [`loading`](Self::loading) server releases the
    /// requests waiting for the catalog and announces nothing.
    pub async fn replace_catalog(&self, catalog: Catalog) {
        let new = View::new(Arc::new(catalog));
        let old = self.shared.view.swap(Arc::new(new));
        let was_ready = self.shared.ready.send_replace(true);
        if !was_ready || !self.shared.options.list_changed {
            return;
        }
        let new = self.shared.view.load();
        let tools = old.tools != new.tools;
        let prompts = old.prompts != new.prompts;
        let resources = old.resources != new.resources || old.templates != new.templates;
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
            listener.announce(tools, prompts, resources).await;
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
            Err(e) => return Err(ServeError::Start(format!("{e:#}"))),
        };
        let ended = running
            .waiting()
            .await
            .map_err(|e| ServeError::Session(format!("{e:#}")));
        // The session's end dropped its stdout pipe: wait (briefly) for the
        // last answers to reach stdout before the process may exit.
        let flushed = tokio::task::spawn_blocking(move || writer.join());
        let _ = tokio::time::timeout(std::time::Duration::from_secs(5), flushed).await;
        ended?;
        Ok(())
    }

    /// The response to a call that may have needed input: its result, an
    /// `input_required` answer (2026-07-28, its state sealed for `binding`),
    /// or its failure.
    fn answer<T, R: From<InputRequiredResult>>(
        &self,
        binding: &input::Binding<'_>,
        outcome: Result<Outcome<T>, InputError>,
        complete: impl FnOnce(T) -> Result<R, ErrorData>,
        failed: impl FnOnce(CallError) -> Result<R, ErrorData>,
    ) -> Result<R, ErrorData> {
        match outcome {
            Ok(Outcome::Complete(value)) => complete(value),
            Ok(Outcome::NeedsInput(required)) => {
                Ok(input::input_required(&self.shared.seal, binding, required)?.into())
            }
            Err(InputError::Protocol(e)) => Err(e),
            Err(InputError::Call(error)) => failed(error),
        }
    }

    /// One page of `items` from the request's cursor: the items and the
    /// cursor of the next page, if there is one. Cursors are opaque to
    /// clients; a bad one is an invalid-params error.
    fn page<T: Clone>(
        &self,
        items: &[T],
        request: Option<PaginatedRequestParams>,
    ) -> Result<(Vec<T>, Option<String>), ErrorData> {
        let cursor = request.and_then(|r| r.cursor);
        let Some(size) = self.shared.options.page_size else {
            return Ok((items.to_vec(), None));
        };
        let start = match cursor {
            None => 0,
            Some(cursor) => protocol::decode_cursor(&cursor)
                .filter(|start| *start <= items.len())
                .ok_or_else(|| {
                    ErrorData::invalid_params(format!("invalid cursor `{cursor}`"), None)
                })?,
        };
        let end = (start + size.max(1)).min(items.len());
        let next = (end < items.len()).then(|| protocol::encode_cursor(end));
        Ok((items[start..end].to_vec(), next))
    }

    fn mask(&self) -> bool {
        self.shared.options.mask_error_details
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

    fn call_context(&self, context: &RequestContext<RoleServer>) -> (CallContext, Arc<Notifier>) {
        // 2026-07-28 requests carry their own log level, and get no log
        // messages without one; older sessions use logging/setLevel.
        let min_level = if input::is_modern(context) {
            context
                .meta
                .log_level()
                .map(|level| protocol::log_level(level) as u8)
                .unwrap_or(u8::MAX)
        } else {
            self.session_level(&context.peer)
        };
        let notifier = Arc::new(Notifier {
            peer: context.peer.clone(),
            progress_token: context.meta.get_progress_token(),
            min_level,
            queue: Mutex::new(None),
            dropped: std::sync::atomic::AtomicUsize::new(0),
        });
        let call = CallContext {
            cancel: context.ct.clone(),
            observer: Some(notifier.clone()),
        };
        (call, notifier)
    }
}

fn log_failure(kind: &str, name: &str, plugin: &str, error: &CallError) {
    if error.is_user_facing() {
        tracing::debug!(plugin, "{kind} `{name}` failed: {error}");
    } else {
        tracing::warn!(plugin, "{kind} `{name}` failed: {error}");
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
        let view = self.view().await;
        let (plugin, reference) = match &request.r#ref {
            Reference::Prompt(p) => match view.catalog.prompt(&p.name) {
                Some(s) => (Some(&s.plugin), CompletionRef::Prompt(s.original.clone())),
                None => (None, CompletionRef::Prompt(p.name.clone())),
            },
            Reference::Resource(r) => match view.catalog.template(&r.uri) {
                Some(t) => (Some(&t.plugin), CompletionRef::Template(t.original.clone())),
                None => (None, CompletionRef::Template(r.uri.clone())),
            },
            _ => (None, CompletionRef::Prompt(String::new())),
        };
        let Some(plugin) = plugin else {
            return Err(ErrorData::invalid_params(
                "completion for an unknown prompt or resource template",
                None,
            ));
        };
        let (call, notifier) = self.call_context(&context);
        let values = plugin
            .complete(
                &reference,
                &request.argument.name,
                &request.argument.value,
                &call,
            )
            .await;
        drop(call);
        notifier.flush().await;
        match values {
            Ok(values) => Ok(protocol::completion(values)),
            Err(error) => {
                log_failure("completion", &request.argument.name, plugin.name(), &error);
                Err(protocol::request_failure(&error, self.mask(), |m| {
                    ErrorData::invalid_params(m, None)
                }))
            }
        }
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
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let view = self.view().await;
        let (items, next) = self.page(&view.tools, request)?;
        let mut result = ListToolsResult::with_all_items(items);
        result.next_cursor = next;
        Ok(result)
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.shared
            .view
            .load()
            .tools
            .iter()
            .find(|t| t.name == name)
            .cloned()
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let view = self.view().await;
        let name = request.name.as_ref();
        let Some(served) = view.catalog.tool(name) else {
            return Err(ErrorData::invalid_params(
                format!("Unknown tool: {name}"),
                None,
            ));
        };
        let arguments = Value::Object(request.arguments.clone().unwrap_or_default());
        let schemas = view.schemas.get(name);
        // Arguments are checked before any instance exists.
        let violations = schemas
            .map(|s| s.check_input(&arguments))
            .unwrap_or_default();
        if !violations.is_empty() {
            let error = CallError::Guest(GuestError::InvalidParams(format!(
                "tool `{name}`:\n- {}",
                violations.join("\n- ")
            )));
            return Ok(protocol::tool_failure(&error, self.mask())?.into());
        }
        let arguments = arguments.to_string();
        tracing::debug!(plugin = served.plugin.name(), "calling tool `{name}`");
        let (call, notifier) = self.call_context(&context);
        let target = input::Binding::new(&context, format!("tools/call {name}"), &arguments);
        let first = input::returned_input(
            &self.shared.seal,
            &target,
            request.input_responses.as_ref(),
            request.request_state.as_deref(),
        )?;
        let (plugin, original) = (&served.plugin, served.original.as_str());
        let outcome = input::run(&context, first, |input| {
            let (arguments, call) = (&arguments, &call);
            Box::pin(async move {
                plugin
                    .call_tool(original, arguments, input.as_ref(), call)
                    .await
            })
        })
        .await;
        drop(call);
        notifier.flush().await;
        let failed = |error: CallError| {
            log_failure("tool", name, plugin.name(), &error);
            Ok(protocol::tool_failure(&error, self.mask())?.into())
        };
        self.answer(
            &target,
            outcome,
            |result| {
                // A structured result must match the declared output schema.
                if let (Some(schemas), Some(structured), false) =
                    (schemas, &result.structured, result.is_error)
                {
                    let violations = schemas.check_output(structured);
                    if !violations.is_empty() {
                        return failed(CallError::Malformed(format!(
                            "the structured result does not match the tool's output schema:\n- {}",
                            violations.join("\n- ")
                        )));
                    }
                }
                Ok(protocol::tool_result(&result)?.into())
            },
            failed,
        )
    }

    async fn list_resources(
        &self,
        request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        let view = self.view().await;
        let (items, next) = self.page(&view.resources, request)?;
        let mut result = ListResourcesResult::with_all_items(items);
        result.next_cursor = next;
        Ok(result)
    }

    async fn list_resource_templates(
        &self,
        request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        let view = self.view().await;
        let (items, next) = self.page(&view.templates, request)?;
        let mut result = ListResourceTemplatesResult::with_all_items(items);
        result.next_cursor = next;
        Ok(result)
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let view = self.view().await;
        let uri = request.uri.as_str();
        if uri.len() > MAX_URI_BYTES {
            return Err(ErrorData::invalid_params(
                format!(
                    "the URI is {} bytes; at most {MAX_URI_BYTES} are allowed (URI length limit)",
                    uri.len()
                ),
                None,
            ));
        }
        let Some(resolved) = view.catalog.resolve_resource(uri) else {
            return Err(protocol::resource_not_found(uri.to_owned()));
        };
        let (call, notifier) = self.call_context(&context);
        let target = input::Binding::new(&context, format!("resources/read {uri}"), "");
        let first = input::returned_input(
            &self.shared.seal,
            &target,
            request.input_responses.as_ref(),
            request.request_state.as_deref(),
        )?;
        let (plugin, params, original) = (resolved.plugin, &resolved.params, &resolved.uri);
        let outcome = input::run(&context, first, |input| {
            let call = &call;
            Box::pin(async move {
                plugin
                    .read_resource(original, params, input.as_ref(), call)
                    .await
            })
        })
        .await;
        drop(call);
        notifier.flush().await;
        self.answer(
            &target,
            outcome,
            |contents| Ok(protocol::read_result(&contents)?.into()),
            |error| {
                log_failure("resource", uri, plugin.name(), &error);
                Err(protocol::request_failure(
                    &error,
                    self.mask(),
                    protocol::resource_not_found,
                ))
            },
        )
    }

    async fn list_prompts(
        &self,
        request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        let view = self.view().await;
        let (items, next) = self.page(&view.prompts, request)?;
        let mut result = ListPromptsResult::with_all_items(items);
        result.next_cursor = next;
        Ok(result)
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        let view = self.view().await;
        let name = request.name.as_str();
        let Some(served) = view.catalog.prompt(name) else {
            return Err(protocol::prompt_not_found(name.to_owned()));
        };
        let arguments = protocol::prompt_arguments(request.arguments.as_ref());
        if let Some(missing) = served
            .def
            .arguments
            .iter()
            .find(|a| a.required && !arguments.iter().any(|(k, _)| *k == a.name))
        {
            return Err(ErrorData::invalid_params(
                format!("prompt `{name}` requires the argument `{}`", missing.name),
                None,
            ));
        }
        let (call, notifier) = self.call_context(&context);
        let arguments_json = serde_json::to_string(&arguments).unwrap_or_default();
        let target = input::Binding::new(&context, format!("prompts/get {name}"), &arguments_json);
        let first = input::returned_input(
            &self.shared.seal,
            &target,
            request.input_responses.as_ref(),
            request.request_state.as_deref(),
        )?;
        let (plugin, original) = (&served.plugin, served.original.as_str());
        let outcome = input::run(&context, first, |input| {
            let (arguments, call) = (&arguments, &call);
            Box::pin(async move {
                plugin
                    .get_prompt(original, arguments, input.as_ref(), call)
                    .await
            })
        })
        .await;
        drop(call);
        notifier.flush().await;
        self.answer(
            &target,
            outcome,
            |result| Ok(protocol::prompt_result(&result)?.into()),
            |error| {
                log_failure("prompt", name, plugin.name(), &error);
                Err(protocol::request_failure(
                    &error,
                    self.mask(),
                    protocol::prompt_not_found,
                ))
            },
        )
    }
}

enum Notification {
    Log(LoggingMessageNotificationParam),
    Progress(ProgressNotificationParam),
}

/// Relays one call's log and progress reports to the client, in order, through
/// a bounded queue (reports past [`MAX_QUEUED_NOTIFICATIONS`] are dropped).
/// The relay task starts on the first report.
struct Notifier {
    peer: Peer<RoleServer>,
    progress_token: Option<ProgressToken>,
    min_level: u8,
    queue: Mutex<Option<(mpsc::Sender<Notification>, JoinHandle<()>)>>,
    /// Reports dropped because the queue was full.
    dropped: std::sync::atomic::AtomicUsize,
}

impl Notifier {
    fn send(&self, notification: Notification) {
        let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        let (sender, _) = queue.get_or_insert_with(|| {
            let (sender, mut receiver) = mpsc::channel(MAX_QUEUED_NOTIFICATIONS);
            let peer = self.peer.clone();
            let relay = tokio::spawn(async move {
                while let Some(notification) = receiver.recv().await {
                    let sent = match notification {
                        Notification::Log(n) => peer.notify_logging_message(n).await,
                        Notification::Progress(n) => peer.notify_progress(n).await,
                    };
                    if sent.is_err() {
                        break;
                    }
                }
            });
            (sender, relay)
        });
        if sender.try_send(notification).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            tracing::debug!("notification queue full; a plugin report was dropped");
        }
    }

    /// Wait until every queued report has been handed to the transport, so
    /// they reach the client before the call's result.
    async fn flush(&self) {
        let dropped = self.dropped.load(Ordering::Relaxed);
        if dropped > 0 {
            tracing::warn!(
                "{dropped} notifications for a slow client were dropped (the queue holds {MAX_QUEUED_NOTIFICATIONS} per call)"
            );
        }
        let queued = self.queue.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some((sender, relay)) = queued {
            drop(sender);
            let _ = relay.await;
        }
    }
}

impl CallObserver for Notifier {
    fn log(&self, level: LogLevel, plugin: &str, message: &str) {
        if (level as u8) < self.min_level {
            return;
        }
        let mut param =
            LoggingMessageNotificationParam::new(protocol::logging_level(level), message.into());
        param.logger = Some(plugin.to_owned());
        self.send(Notification::Log(param));
    }

    fn progress(&self, progress: f64, total: Option<f64>, message: Option<&str>) {
        let Some(token) = &self.progress_token else {
            return;
        };
        let mut param = ProgressNotificationParam::new(token.clone(), progress);
        param.total = total;
        param.message = message.map(str::to_owned);
        self.send(Notification::Progress(param));
    }
}
