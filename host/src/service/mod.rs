//! The call service: everything between a transport and the providers.
//!
//! Every request a client can send passes here once, and every answer a
//! provider gives passes here once, whatever the transport: the lookup in
//! the catalog snapshot, argument validation before any provider runs,
//! input rounds in both protocol eras, the output-schema check, failure
//! kinds and masking, and the relay of log and progress reports. The rmcp
//! `ServerHandler` in `transport` only turns a request's context into an
//! [`Exchange`] and calls in here.
//!
//! The catalog sits behind an `ArcSwap`: a request works on the snapshot it
//! loaded when it started, and a reload swaps in a new one atomically.
#![allow(deprecated)] // rmcp marks logging as deprecated (SEP-2577); 2025-11-25 clients use it.

mod console;
mod input;
mod metrics;
mod notify;
mod observe;
mod tasks;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

use arc_swap::ArcSwap;
use rmcp::model::{
    CallToolResponse, CallToolResult, ClientCapabilities, CompleteResult, GetPromptResponse,
    GetTaskResult, InputRequiredResult, ProgressToken, Prompt, ReadResourceResponse, Reference,
    Resource, ResourceTemplate, Tool,
};
use rmcp::{ErrorData, Peer, RoleServer};
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::catalog::{Catalog, Served};
use crate::config::{ServerSettings, TokenView};
use crate::error::{CallError, GuestError};
use crate::model::{
    Input, JsonObject, Outcome, PromptResult, ResourceContents, TaskSupport, ToolResult,
};
use crate::protocol;
use crate::provider::{CallContext, CallFuture, CompletionRef, Provider};
use crate::validation::ToolSchemas;
use corral_uri_template::MAX_URI_BYTES;

pub(crate) use console::Following;
pub use console::{CONSOLE_QUEUE, MAX_CONSOLES};
use input::{Binding, InputError, StateSeal};
pub use input::{MAX_INPUT_ROUNDS, REQUEST_STATE_TTL};
use metrics::CallOutcome;
pub use metrics::MAX_METRIC_NAMES;
pub use notify::MAX_QUEUED_NOTIFICATIONS;
use notify::Notifier;
pub use observe::CALL_SPAN_TARGET;
pub(crate) use observe::TraceParent;
use observe::{Caller, Observed, Observers};
use tasks::{Early, Finish, Job, Started, Tasks};
pub use tasks::{
    MAX_TASK_RESULT_BYTES, MAX_TASKS, MAX_TASKS_PER_SESSION, TASK_POLL_INTERVAL, TASK_TTL,
};

/// One request's link to its client, as the transport adapter found it.
pub(crate) struct Exchange {
    /// The client's session: sends notifications and, for 2025-11-25
    /// clients, the host's own requests for input.
    pub peer: Peer<RoleServer>,
    /// Cancelled when the client cancels the request or leaves.
    pub cancel: CancellationToken,
    /// Where progress reports go, if the client asked for them.
    pub progress_token: Option<ProgressToken>,
    /// The lowest log level sent (`u8::MAX`: none).
    pub min_level: u8,
    /// 2026-07-28 or later: input rounds are stateless (`input_required`).
    pub modern: bool,
    /// What the client can answer (elicitation, sampling, roots).
    pub capabilities: Option<ClientCapabilities>,
    /// The HTTP session the request came in, if any (binds sealed states).
    pub session: Option<String>,
    /// Who the request's tasks belong to (see `CorralServer::owner`).
    pub owner: String,
    /// What the request's token may see (`None`: everything served).
    pub view: Option<Arc<TokenView>>,
    /// The client's W3C trace context, from the request's `_meta`.
    pub trace: Option<TraceParent>,
    /// The verified token's subject, with `[server.auth]`.
    pub subject: Option<String>,
}

impl Exchange {
    /// Who made the request, for the audit log.
    fn caller(&self) -> Caller<'_> {
        Caller {
            owner: &self.owner,
            subject: self.subject.as_deref(),
            trace: self.trace.as_ref(),
        }
    }

    /// Whether a component with `tags`, served by `provider`, is in the
    /// request's view: one that is not is unknown to it.
    fn shows(&self, tags: &[String], provider: &Arc<dyn Provider>) -> bool {
        self.view
            .as_ref()
            .is_none_or(|v| v.shows(tags, provider.name()))
    }
}

/// What a 2026-07-28 client sent back from an earlier `input_required`.
#[derive(Clone, Copy, Default)]
pub(crate) struct Returned<'a> {
    pub responses: Option<&'a BTreeMap<String, Value>>,
    pub state: Option<&'a str>,
}

/// Which served lists a new catalog changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Changes {
    pub tools: bool,
    pub prompts: bool,
    pub resources: bool,
}

/// The served view: the catalog and its listings in MCP form, made once per snapshot.
struct View {
    catalog: Arc<Catalog>,
    /// Each served tool's schemas, compiled on the tool's first call: a
    /// compiled validator costs tens of KiB, and most tools of a large
    /// catalog are never called by a given process.
    schemas: HashMap<String, OnceLock<ToolSchemas>>,
    /// Everything served.
    all: Arc<Lists>,
    /// What each token view (`[[server.auth.views]]`, by index) shows, made
    /// on its first use; as many entries as the config has views, plus one.
    by_token_view: Mutex<HashMap<usize, Arc<Lists>>>,
}

/// The listings in MCP form.
#[derive(PartialEq)]
struct Lists {
    tools: Vec<Tool>,
    resources: Vec<Resource>,
    templates: Vec<ResourceTemplate>,
    prompts: Vec<Prompt>,
}

impl Lists {
    /// What `catalog` serves to a token with `view` (`None`: everything).
    fn of(catalog: &Catalog, view: Option<&TokenView>) -> Lists {
        fn all<'a, D: 'a, T>(
            items: impl Iterator<Item = &'a Served<D>>,
            view: Option<&TokenView>,
            tags: fn(&D) -> &[String],
            convert: fn(&D) -> Result<T, ErrorData>,
        ) -> Vec<T> {
            items
                .filter(|s| view.is_none_or(|v| v.shows(tags(&s.def), s.provider.name())))
                .filter_map(|s| {
                    convert(&s.def)
                        .inspect_err(|e| tracing::error!("not listed: {}", e.message))
                        .ok()
                })
                .collect()
        }
        Lists {
            tools: all(catalog.tools(), view, |d| &d.tags, protocol::tool),
            resources: all(catalog.resources(), view, |d| &d.tags, protocol::resource),
            templates: all(catalog.templates(), view, |d| &d.tags, protocol::template),
            prompts: all(catalog.prompts(), view, |d| &d.tags, protocol::prompt),
        }
    }
}

impl View {
    fn new(catalog: Arc<Catalog>) -> Self {
        Self {
            schemas: catalog
                .tools()
                .map(|s| (s.def.name.clone(), OnceLock::new()))
                .collect(),
            all: Arc::new(Lists::of(&catalog, None)),
            by_token_view: Mutex::new(HashMap::new()),
            catalog,
        }
    }

    /// The listings a token with `view` sees.
    fn lists(&self, view: Option<&TokenView>) -> Arc<Lists> {
        let Some(view) = view else {
            return self.all.clone();
        };
        let mut made = self.by_token_view.lock().unwrap_or_else(|e| e.into_inner());
        made.entry(view.index)
            .or_insert_with(|| Arc::new(Lists::of(&self.catalog, Some(view))))
            .clone()
    }

    /// The compiled schemas of the served tool `name` (compiled now if this
    /// is its first call).
    fn schemas(&self, name: &str) -> Option<&ToolSchemas> {
        let slot = self.schemas.get(name)?;
        let served = self.catalog.tool(name)?;
        Some(slot.get_or_init(|| ToolSchemas::compile(&served.def)))
    }
}

/// One call on its way to a provider: who serves it and what a sealed
/// state for it is bound to.
struct Call<'a> {
    /// `tool`, `resource` or `prompt`, for the log.
    kind: &'static str,
    /// The name or URI as served.
    name: &'a str,
    provider: &'a dyn Provider,
    binding: Binding<'a>,
}

/// What a call asks of its provider, made again for every input round.
trait Invocation: Sync {
    type Output: Send;
    fn invoke<'a>(
        &'a self,
        provider: &'a dyn Provider,
        input: Option<&'a Input>,
        ctx: &'a CallContext,
    ) -> CallFuture<'a, Outcome<Self::Output>>;

    /// Whether an answer is an error result (a tool's `isError`), for the
    /// metrics.
    fn is_error(_output: &Self::Output) -> bool {
        false
    }

    /// The call's arguments for the audit log: their values, or only
    /// their shape.
    fn arguments(&self, values: bool) -> Value;
}

struct ToolCall<'a> {
    name: &'a str,
    arguments: &'a JsonObject,
}

impl Invocation for ToolCall<'_> {
    type Output = ToolResult;
    fn is_error(output: &ToolResult) -> bool {
        output.is_error
    }
    fn invoke<'a>(
        &'a self,
        provider: &'a dyn Provider,
        input: Option<&'a Input>,
        ctx: &'a CallContext,
    ) -> CallFuture<'a, Outcome<ToolResult>> {
        provider.call_tool(self.name, self.arguments, input, ctx)
    }
    fn arguments(&self, values: bool) -> Value {
        match values {
            true => Value::Object(self.arguments.clone()),
            false => crate::audit::shape_object(self.arguments),
        }
    }
}

struct ResourceRead<'a> {
    uri: &'a str,
    params: &'a [(String, String)],
}

impl Invocation for ResourceRead<'_> {
    type Output = Vec<ResourceContents>;
    fn invoke<'a>(
        &'a self,
        provider: &'a dyn Provider,
        input: Option<&'a Input>,
        ctx: &'a CallContext,
    ) -> CallFuture<'a, Outcome<Vec<ResourceContents>>> {
        provider.read_resource(self.uri, self.params, input, ctx)
    }
    fn arguments(&self, values: bool) -> Value {
        let params = self.params.iter();
        let params = params.map(|(k, v)| (k.clone(), Value::from(v.as_str())));
        let read = serde_json::json!({"uri": self.uri, "params": params.collect::<JsonObject>()});
        audited(read, values)
    }
}

struct PromptGet<'a> {
    name: &'a str,
    arguments: &'a [(String, String)],
}

impl Invocation for PromptGet<'_> {
    type Output = PromptResult;
    fn invoke<'a>(
        &'a self,
        provider: &'a dyn Provider,
        input: Option<&'a Input>,
        ctx: &'a CallContext,
    ) -> CallFuture<'a, Outcome<PromptResult>> {
        provider.get_prompt(self.name, self.arguments, input, ctx)
    }
    fn arguments(&self, values: bool) -> Value {
        let arguments = self.arguments.iter();
        let arguments = arguments.map(|(k, v)| (k.clone(), Value::from(v.as_str())));
        audited(Value::Object(arguments.collect()), values)
    }
}

/// `arguments` for the audit log: as they are, or only their shape.
fn audited(arguments: Value, values: bool) -> Value {
    match values {
        true => arguments,
        false => crate::audit::shape(&arguments),
    }
}

/// The call service. Cheap to share (`Arc`); see the module docs.
pub(crate) struct CallService {
    view: ArcSwap<View>,
    /// False while the first catalog is loading; requests that need the
    /// catalog wait for it, while `initialize` and `ping` are answered at once.
    ready: tokio::sync::watch::Sender<bool>,
    seal: StateSeal,
    settings: ServerSettings,
    tasks: Arc<Tasks>,
    observers: Arc<Observers>,
}

impl CallService {
    /// A service with no catalog yet: requests that need one wait for the
    /// first [`replace`](Self::replace).
    pub(crate) fn new(settings: ServerSettings) -> Self {
        let observers = Arc::new(Observers::new(settings.audit.as_ref()));
        Self {
            view: ArcSwap::from_pointee(View::new(Arc::new(Catalog::default()))),
            ready: tokio::sync::watch::Sender::new(false),
            seal: StateSeal::new(settings.request_state_key.as_ref()),
            settings,
            tasks: Arc::new(Tasks::new(observers.clone())),
            observers,
        }
    }

    pub(crate) fn settings(&self) -> &ServerSettings {
        &self.settings
    }

    /// The web console's live feed.
    pub(crate) fn console(&self) -> &console::Console {
        &self.observers.console
    }

    /// Record metrics from now on.
    pub(crate) fn record_metrics(&self) {
        self.observers.metrics.enable();
    }

    /// Wait until the audit records of calls so far are written.
    pub(crate) fn flush_audit(&self) {
        if let Some(audit) = &self.observers.audit {
            audit.flush();
        }
    }

    /// Count one HTTP answer.
    pub(crate) fn count_http(&self, status: u16) {
        self.observers.metrics.http(status);
    }

    /// The metrics, in Prometheus's text format, with `sessions` open by
    /// protocol version.
    pub(crate) fn metrics_text(&self, sessions: &[(String, usize)]) -> String {
        let catalog = self.catalog();
        let loads = (catalog.providers().iter()).map(|p| (p.name(), p.load()));
        self.observers.metrics.render(loads, sessions)
    }

    /// Whether the first catalog has been installed.
    pub(crate) fn is_ready(&self) -> bool {
        *self.ready.borrow()
    }

    /// The served view, once the first catalog is in.
    async fn view(&self) -> Arc<View> {
        if !self.is_ready() {
            let mut ready = self.ready.subscribe();
            // The sender lives as long as `self`, so this cannot fail.
            let _ = ready.wait_for(|r| *r).await;
        }
        self.view.load_full()
    }

    /// The catalog being served now.
    pub(crate) fn catalog(&self) -> Arc<Catalog> {
        self.view.load().catalog.clone()
    }

    /// Serve `catalog` from now on; calls in flight finish on the one they
    /// started with. The lists it changed, unless this is the first catalog
    /// (which releases the requests waiting for it).
    pub(crate) fn replace(&self, catalog: Catalog) -> Option<Changes> {
        let new = Arc::new(View::new(Arc::new(catalog)));
        let old = self.view.swap(new.clone());
        let was_ready = self.ready.send_replace(true);
        if was_ready {
            self.observers.metrics.reload();
        }
        let (old, new) = (&old.all, &new.all);
        // What changed is for each console to see in its own view.
        self.observers
            .console
            .publish("reload", None, serde_json::json!({}));
        was_ready.then(|| Changes {
            tools: old.tools != new.tools,
            prompts: old.prompts != new.prompts,
            resources: old.resources != new.resources || old.templates != new.templates,
        })
    }

    /// One page of the served tools from `cursor`, and the next cursor.
    pub(crate) async fn tools(
        &self,
        token_view: Option<&TokenView>,
        cursor: Option<String>,
    ) -> Result<(Vec<Tool>, Option<String>), ErrorData> {
        self.page(&self.view().await.lists(token_view).tools, cursor)
    }

    /// One page of the served concrete resources.
    pub(crate) async fn resources(
        &self,
        token_view: Option<&TokenView>,
        cursor: Option<String>,
    ) -> Result<(Vec<Resource>, Option<String>), ErrorData> {
        self.page(&self.view().await.lists(token_view).resources, cursor)
    }

    /// One page of the served resource templates.
    pub(crate) async fn templates(
        &self,
        token_view: Option<&TokenView>,
        cursor: Option<String>,
    ) -> Result<(Vec<ResourceTemplate>, Option<String>), ErrorData> {
        self.page(&self.view().await.lists(token_view).templates, cursor)
    }

    /// One page of the served prompts.
    pub(crate) async fn prompts(
        &self,
        token_view: Option<&TokenView>,
        cursor: Option<String>,
    ) -> Result<(Vec<Prompt>, Option<String>), ErrorData> {
        self.page(&self.view().await.lists(token_view).prompts, cursor)
    }

    /// A served tool's MCP description, if it is served now and in `view`.
    pub(crate) fn tool(&self, name: &str, view: Option<&TokenView>) -> Option<Tool> {
        self.view
            .load()
            .lists(view)
            .tools
            .iter()
            .find(|t| t.name == name)
            .cloned()
    }

    /// One page of `items` from `cursor`. Cursors are opaque to clients; a
    /// bad one is an invalid-params error.
    fn page<T: Clone>(
        &self,
        items: &[T],
        cursor: Option<String>,
    ) -> Result<(Vec<T>, Option<String>), ErrorData> {
        let Some(size) = self.settings.page_size else {
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
        self.settings.mask_error_details
    }

    /// `tools/call`: arguments checked against the input schema before any
    /// provider runs, the structured result against the output schema.
    pub(crate) async fn call_tool(
        &self,
        exchange: &Exchange,
        name: &str,
        arguments: Option<JsonObject>,
        returned: Returned<'_>,
    ) -> Result<CallToolResponse, ErrorData> {
        let view = self.view().await;
        let Some(served) = view
            .catalog
            .tool(name)
            .filter(|s| exchange.shows(&s.def.tags, &s.provider))
        else {
            return Err(ErrorData::invalid_params(
                format!("Unknown tool: {name}"),
                None,
            ));
        };
        let arguments = Value::Object(arguments.unwrap_or_default());
        let schemas = view.schemas(name);
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
        let declared = exchange
            .capabilities
            .as_ref()
            .is_some_and(|c| c.supports_tasks());
        match served.def.task_support {
            TaskSupport::Forbidden => {}
            TaskSupport::Required if !declared => {
                let mut error = ErrorData::missing_required_client_capability(
                    ClientCapabilities::builder().enable_tasks().build(),
                );
                error.message = format!(
                    "tool `{name}` runs only as a task: the client must declare the io.modelcontextprotocol/tasks extension"
                )
                .into();
                return Err(error);
            }
            _ if declared => {
                return self
                    .call_as_task(exchange, &view, name, arguments, returned)
                    .await;
            }
            _ => {}
        }
        let Value::Object(object) = &arguments else {
            unreachable!("built as an object above")
        };
        let call = Call {
            kind: "tool",
            name,
            provider: &*served.provider,
            binding: Binding::new(exchange, format!("tools/call {name}"), &arguments),
        };
        let invocation = ToolCall {
            name: &served.original,
            arguments: object,
        };
        self.run(
            exchange,
            call,
            returned,
            &invocation,
            |result| checked_tool_result(schemas, result).map(|r| r.map(Into::into)),
            |error| Ok(protocol::tool_failure(&error, self.mask())?.into()),
        )
        .await
    }

    /// A task-capable tool called by a client that supports tasks: the call
    /// runs as a task, and answers in its request if it ends (or, for a
    /// 2026-07-28 client, needs input) within `task_after`.
    async fn call_as_task(
        &self,
        exchange: &Exchange,
        view: &Arc<View>,
        name: &str,
        arguments: Value,
        returned: Returned<'_>,
    ) -> Result<CallToolResponse, ErrorData> {
        let binding = Binding::new(exchange, format!("tools/call {name}"), &arguments);
        let first = input::returned_input(&self.seal, &binding, returned)?;
        let Value::Object(object) = &arguments else {
            unreachable!("built as an object by call_tool")
        };
        let job = Job {
            view: view.clone(),
            name: name.to_owned(),
            arguments: object.clone(),
            first,
            capabilities: exchange.capabilities.clone(),
            mask: self.mask(),
            input_timeout: self.settings.task_input_timeout,
            trace: exchange.trace.clone(),
            owner: exchange.owner.clone(),
            subject: exchange.subject.clone(),
        };
        tracing::debug!("calling tool `{name}` as a task");
        match self
            .tasks
            .start(exchange, job, self.settings.task_after)
            .await?
        {
            Started::Task(task) => Ok(CallToolResponse::Task(*task)),
            Started::Early(Early::Input(required)) => {
                Ok(input::input_required(&self.seal, &binding, required)?.into())
            }
            Started::Early(Early::Finished(Finish::Answered(Ok(answer)))) => answer.map(Into::into),
            Started::Early(Early::Finished(Finish::Answered(Err(error)))) => {
                Ok(protocol::tool_failure(&error, self.mask())?.into())
            }
            Started::Early(Early::Finished(Finish::Protocol(error))) => Err(error),
            Started::Early(Early::Finished(Finish::Cancelled) | Early::Promoted) => {
                Err(ErrorData::internal_error("the call was cancelled", None))
            }
        }
    }

    /// `tasks/get`.
    pub(crate) fn get_task(
        &self,
        exchange: &Exchange,
        id: &str,
    ) -> Result<GetTaskResult, ErrorData> {
        self.tasks.get(exchange, id)
    }

    /// `tasks/update`.
    pub(crate) fn update_task(
        &self,
        exchange: &Exchange,
        id: &str,
        responses: BTreeMap<String, Value>,
    ) -> Result<(), ErrorData> {
        self.tasks.update(exchange, id, responses)
    }

    /// `tasks/cancel`.
    pub(crate) fn cancel_task(&self, exchange: &Exchange, id: &str) -> Result<(), ErrorData> {
        self.tasks.cancel(exchange, id)
    }

    /// `resources/read`: a concrete resource, else the most specific template.
    pub(crate) async fn read_resource(
        &self,
        exchange: &Exchange,
        uri: &str,
        returned: Returned<'_>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let view = self.view().await;
        if uri.len() > MAX_URI_BYTES {
            return Err(ErrorData::invalid_params(
                format!(
                    "the URI is {} bytes; at most {MAX_URI_BYTES} are allowed (URI length limit)",
                    uri.len()
                ),
                None,
            ));
        }
        let Some(resolved) = view
            .catalog
            .resolve_resource(uri)
            .filter(|r| exchange.shows(r.tags, r.provider))
        else {
            return Err(protocol::resource_not_found(uri.to_owned()));
        };
        // Named by the resource or template served: a template's values
        // are arguments (shaped in the audit log), not a name.
        let call = Call {
            kind: "resource",
            name: resolved.served,
            provider: &**resolved.provider,
            binding: Binding::new(exchange, format!("resources/read {uri}"), &Value::Null),
        };
        let invocation = ResourceRead {
            uri: &resolved.uri,
            params: &resolved.params,
        };
        self.run(
            exchange,
            call,
            returned,
            &invocation,
            |contents| Ok(protocol::read_result(&contents).map(Into::into)),
            |error| {
                Err(protocol::request_failure(
                    &error,
                    self.mask(),
                    protocol::resource_not_found,
                ))
            },
        )
        .await
    }

    /// `prompts/get`: required arguments checked before the provider runs.
    pub(crate) async fn get_prompt(
        &self,
        exchange: &Exchange,
        name: &str,
        arguments: Option<&JsonObject>,
        returned: Returned<'_>,
    ) -> Result<GetPromptResponse, ErrorData> {
        let view = self.view().await;
        let Some(served) = view
            .catalog
            .prompt(name)
            .filter(|s| exchange.shows(&s.def.tags, &s.provider))
        else {
            return Err(protocol::prompt_not_found(name.to_owned()));
        };
        let arguments = protocol::prompt_arguments(arguments);
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
        let bound = serde_json::to_value(&arguments).unwrap_or_default();
        let call = Call {
            kind: "prompt",
            name,
            provider: &*served.provider,
            binding: Binding::new(exchange, format!("prompts/get {name}"), &bound),
        };
        let invocation = PromptGet {
            name: &served.original,
            arguments: &arguments,
        };
        self.run(
            exchange,
            call,
            returned,
            &invocation,
            |result| Ok(protocol::prompt_result(&result).map(Into::into)),
            |error| {
                Err(protocol::request_failure(
                    &error,
                    self.mask(),
                    protocol::prompt_not_found,
                ))
            },
        )
        .await
    }

    /// `completion/complete` for a prompt's argument or a template's variable.
    pub(crate) async fn complete(
        &self,
        exchange: &Exchange,
        reference: &Reference,
        argument: &str,
        value: &str,
    ) -> Result<CompleteResult, ErrorData> {
        let view = self.view().await;
        let found = match reference {
            Reference::Prompt(p) => view
                .catalog
                .prompt(&p.name)
                .filter(|s| exchange.shows(&s.def.tags, &s.provider))
                .map(|s| (&s.provider, CompletionRef::Prompt(s.original.clone()))),
            Reference::Resource(r) => view
                .catalog
                .template(&r.uri)
                .filter(|s| exchange.shows(&s.def.tags, &s.provider))
                .map(|s| (&s.provider, CompletionRef::Template(s.original.clone()))),
            _ => None,
        };
        let Some((provider, reference)) = found else {
            return Err(ErrorData::invalid_params(
                "completion for an unknown prompt or resource template",
                None,
            ));
        };
        let (ctx, notifier) = Notifier::attach(exchange);
        let name = match &reference {
            CompletionRef::Prompt(name) | CompletionRef::Template(name) => name.as_str(),
        };
        let component = ("completion", provider.name(), name);
        let arguments = |values| audited(serde_json::json!({argument: value}), values);
        let observed = Observed::start(
            &self.observers,
            component,
            &ctx.usage,
            exchange.caller(),
            arguments,
        );
        let values = (provider.complete(&reference, argument, value, &ctx))
            .instrument(observed.span().clone())
            .await;
        drop(ctx);
        notifier.flush().await;
        let (outcome, limit) = match &values {
            Ok(_) => (CallOutcome::Ok, None),
            Err(error) => (CallOutcome::of(error), error.limit()),
        };
        observed.end(outcome, limit);
        match values {
            Ok(values) => Ok(protocol::completion(values)),
            Err(error) => {
                log_failure("completion", argument, provider.name(), &error);
                Err(protocol::request_failure(&error, self.mask(), |m| {
                    ErrorData::invalid_params(m, None)
                }))
            }
        }
    }

    /// The one call skeleton: open what a 2026-07-28 client returned, run
    /// the input rounds, relay the provider's reports (flushed before the
    /// answer), then answer: `complete` for a result (which may still fail
    /// it, e.g. on the output schema), `input_required` with a sealed state,
    /// a protocol error, or `failed` for a failure (logged by its kind).
    async fn run<I: Invocation, R: From<InputRequiredResult>>(
        &self,
        exchange: &Exchange,
        call: Call<'_>,
        returned: Returned<'_>,
        invocation: &I,
        complete: impl FnOnce(I::Output) -> Result<Result<R, ErrorData>, CallError>,
        failed: impl FnOnce(CallError) -> Result<R, ErrorData>,
    ) -> Result<R, ErrorData> {
        tracing::debug!(
            provider = call.provider.name(),
            "calling {} `{}`",
            call.kind,
            call.name
        );
        let first = input::returned_input(&self.seal, &call.binding, returned)?;
        let (ctx, notifier) = Notifier::attach(exchange);
        let component = (call.kind, call.provider.name(), call.name);
        let arguments = |values| invocation.arguments(values);
        let observed = Observed::start(
            &self.observers,
            component,
            &ctx.usage,
            exchange.caller(),
            arguments,
        );
        let outcome = input::run(exchange, first, invocation, call.provider, &ctx)
            .instrument(observed.span().clone())
            .await;
        drop(ctx);
        notifier.flush().await;
        let count = |outcome: CallOutcome, limit: Option<&'static str>| {
            observed.end(outcome, limit);
        };
        let error = match outcome {
            Ok(Outcome::Complete(value)) => {
                let counted = match I::is_error(&value) {
                    true => CallOutcome::ToolError,
                    false => CallOutcome::Ok,
                };
                match complete(value) {
                    Ok(answer) => {
                        count(counted, None);
                        return answer;
                    }
                    Err(error) => error,
                }
            }
            Ok(Outcome::NeedsInput(required)) => {
                count(CallOutcome::InputRequired, None);
                return Ok(input::input_required(&self.seal, &call.binding, required)?.into());
            }
            Err(InputError::Protocol(e)) => {
                count(CallOutcome::Error, None);
                return Err(e);
            }
            Err(InputError::Call(error)) => error,
        };
        count(CallOutcome::of(&error), error.limit());
        (observed.span())
            .in_scope(|| log_failure(call.kind, call.name, call.provider.name(), &error));
        failed(error)
    }
}

/// A tool's result in MCP's shape, once its structured part matches the
/// tool's output schema.
fn checked_tool_result(
    schemas: Option<&ToolSchemas>,
    result: ToolResult,
) -> Result<Result<CallToolResult, ErrorData>, CallError> {
    if let (Some(schemas), Some(structured), false) = (schemas, &result.structured, result.is_error)
    {
        let violations = schemas.check_output(structured);
        if !violations.is_empty() {
            return Err(CallError::Malformed(format!(
                "the structured result does not match the tool's output schema:\n- {}",
                violations.join("\n- ")
            )));
        }
    }
    Ok(protocol::tool_result(&result))
}

fn log_failure(kind: &str, name: &str, provider: &str, error: &CallError) {
    if error.is_user_facing() {
        tracing::debug!(provider, "{kind} `{name}` failed: {error}");
    } else {
        tracing::warn!(provider, "{kind} `{name}` failed: {error}");
    }
}
