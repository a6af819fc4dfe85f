//! A WebAssembly plugin: compiled once, pre-linked once, and instantiated
//! afresh for every call inside the sandbox the runtime sets up.

mod cache;
mod convert;
mod file;
mod metadata;
mod progress;
mod wire_size;

pub(crate) use file::PluginFile;
pub use progress::PROGRESS_MIN_BYTES;
pub use wire_size::ITEM_BYTES;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::SemaphorePermit;
use wasmtime::component::{Component, Instance, InstancePre, ResourceTableError};
use wasmtime::{Store, UpdateDeadline};
use wasmtime_wasi_http::FieldMapError;

use crate::bindings::exports::corral::mcp::{completions, prompts, resources, tasks, tools};
use crate::config::Limits;
use crate::config::PluginConfig;
use crate::error::{CallError, LoadError};
use crate::gate::Gate;
use crate::model::{
    Input, JsonObject, Listing, Outcome, PromptResult, ResourceContents, ToolResult,
};
use crate::provider::{CallContext, CallFuture, CompletionRef, Provider};
use crate::runtime::limits::{MAX_HTTP_FIELDS_BYTES, MAX_RESOURCES_PER_CALL, WASM_STACK};
use crate::runtime::{Charged, HostBytes, PluginShare, Reservation, Runtime, Sandbox, State};

use metadata::RawListing;
use wire_size::WireSize;

/// The exported interfaces the host knows, by their instance names. A
/// lookup finds any semver-compatible version (a 0.1.0 component's
/// `tools@0.1.0` for `tools@0.1.1`), so components built against an older
/// 0.1.x contract load unchanged.
const TOOLS: &str = "corral:mcp/tools@0.1.1";
const RESOURCES: &str = "corral:mcp/resources@0.1.1";
const PROMPTS: &str = "corral:mcp/prompts@0.1.1";
const COMPLETIONS: &str = "corral:mcp/completions@0.1.1";
const TASKS: &str = "corral:mcp/tasks@0.1.1";

struct Exports {
    tools: Option<tools::GuestIndices>,
    resources: Option<resources::GuestIndices>,
    prompts: Option<prompts::GuestIndices>,
    completions: Option<completions::GuestIndices>,
    tasks: Option<tasks::GuestIndices>,
}

/// A loaded plugin.
pub struct WasmPlugin {
    name: Arc<str>,
    path: PathBuf,
    pre: InstancePre<State>,
    exports: Exports,
    limits: Limits,
    sandbox: Sandbox,
    gate: Gate,
    /// This plugin's allowance in the host memory budget.
    share: PluginShare,
    listing: Arc<Listing>,
    /// Its limits, grants and provenance, for [`Provider::describe`].
    description: serde_json::Value,
    /// With `instance_reuse`: instances whose last call ended cleanly,
    /// waiting for the next (at most `limits.concurrency`).
    idle: Option<std::sync::Mutex<Vec<Lease>>>,
}

/// A store for one call, and its instance once there is one (a reused
/// store comes with the instance it already has).
struct Lease {
    store: Store<State>,
    instance: Option<wasmtime::component::Instance>,
}

impl Lease {
    /// The account the call's host-side allocations are charged to.
    fn account(&self) -> Arc<HostBytes> {
        self.store.data().limiter.host.clone()
    }

    async fn instance(
        &mut self,
        pre: &InstancePre<State>,
    ) -> wasmtime::Result<wasmtime::component::Instance> {
        if let Some(instance) = self.instance {
            return Ok(instance);
        }
        let instance = pre.instantiate_async(&mut self.store).await?;
        self.instance = Some(instance);
        Ok(instance)
    }
}

impl std::fmt::Debug for WasmPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WasmPlugin")
            .field("name", &self.name)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// The kind of file, from its first eight bytes.
fn check_header(path: &Path, bytes: &[u8]) -> Result<(), LoadError> {
    match bytes.get(..8) {
        Some([0, b'a', b's', b'm', 0x0d, 0, 1, 0]) => Ok(()),
        Some([0, b'a', b's', b'm', 1, 0, 0, 0]) => Err(LoadError::CoreModule {
            path: path.to_owned(),
        }),
        Some([0, b'a', b's', b'm', ..]) => Err(LoadError::Invalid {
            path: path.to_owned(),
            reason: "unknown WebAssembly version or layer".into(),
        }),
        _ => Err(LoadError::NotWasm {
            path: path.to_owned(),
        }),
    }
}

/// Compile a component in a blocking thread (large components take
/// seconds), or take it from the compile cache. With a `spec` whose
/// `sha256` is pinned, anything else is refused before it is compiled.
pub(crate) async fn compile(
    runtime: &Runtime,
    path: &Path,
    spec: Option<&PluginConfig>,
) -> Result<Component, LoadError> {
    let file = PluginFile::read(path, runtime.max_plugin_size()).await?;
    compile_file(runtime, path, spec, file).await
}

/// [`compile`] for a file already read.
async fn compile_file(
    runtime: &Runtime,
    path: &Path,
    spec: Option<&PluginConfig>,
    PluginFile { bytes, digest }: PluginFile,
) -> Result<Component, LoadError> {
    if let Some(spec) = spec {
        spec.verify_digest(&digest).map_err(|e| LoadError::Pin {
            path: path.to_owned(),
            source: Box::new(e),
        })?;
    }
    check_header(path, &bytes)?;
    let engine = runtime.engine().clone();
    let cache_dir = cache::default_dir();
    let shown = path.display().to_string();
    tokio::task::spawn_blocking(move || {
        let key = cache::key(&engine, &digest);
        if let Some(dir) = &cache_dir
            && let Some(component) = cache::load(dir, &engine, &key)
        {
            tracing::info!(plugin = %shown, "compile cache hit");
            return Ok(component);
        }
        let started = std::time::Instant::now();
        let file = std::path::Path::new(&shown)
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_else(|| shown.clone());
        let progress = progress::Compiling::start(&file, bytes.len());
        let component = Component::new(&engine, &*bytes);
        drop(progress);
        let component = component?;
        tracing::info!(plugin = %shown, "compiled in {:.0?}", started.elapsed());
        if let Some(dir) = &cache_dir {
            cache::store(dir, &key, &component);
        }
        Ok::<_, wasmtime::Error>(component)
    })
    .await
    .map_err(|e| LoadError::Compile {
        path: path.to_owned(),
        source: e.into(),
    })?
    .map_err(|e| LoadError::Compile {
        path: path.to_owned(),
        source: e.into(),
    })
}

impl WasmPlugin {
    /// Compile, link and list the plugin `spec` describes (its file, limits
    /// and grants; [`PluginConfig::for_file`] gives the defaults).
    pub async fn load(runtime: &Runtime, spec: &PluginConfig) -> Result<Self, LoadError> {
        let file = PluginFile::read(&spec.path, runtime.max_plugin_size()).await?;
        Self::load_file(runtime, spec, file).await
    }

    /// [`WasmPlugin::load`] from the file's bytes, already read.
    pub(crate) async fn load_file(
        runtime: &Runtime,
        spec: &PluginConfig,
        file: PluginFile,
    ) -> Result<Self, LoadError> {
        let digest = file.digest;
        let component = compile_file(runtime, &spec.path, Some(spec), file).await?;
        let mut plugin = Self::link(runtime, spec, component)?;
        let kept = cache::default_dir().and_then(|dir| {
            let inputs = plugin.sandbox.fixed_inputs();
            cache::ListingEntry::new(&dir, runtime.engine(), &digest, &plugin.limits, inputs)
        });
        plugin.listing = match kept.as_ref().and_then(|entry| entry.load()) {
            Some(listing) => {
                check_listing(&listing).map_err(|reason| LoadError::BadListing {
                    path: spec.path.clone(),
                    reason,
                })?;
                tracing::debug!(plugin = %spec.name, "listing kept in the compile cache");
                Arc::new(listing)
            }
            None => {
                let listing = plugin.list(&spec.path).await?;
                if let Some(entry) = &kept {
                    entry.store(&listing);
                }
                Arc::new(listing)
            }
        };
        plugin.description["digest"] =
            serde_json::json!(format!("sha256:{}", crate::config::hex(&digest)));
        Ok(plugin)
    }

    /// Link and list an already compiled component.
    pub(crate) async fn from_component(
        runtime: &Runtime,
        spec: &PluginConfig,
        component: Component,
    ) -> Result<Self, LoadError> {
        let mut plugin = Self::link(runtime, spec, component)?;
        plugin.listing = Arc::new(plugin.list(&spec.path).await?);
        Ok(plugin)
    }

    /// Link an already compiled component, its listing still empty.
    fn link(
        runtime: &Runtime,
        spec: &PluginConfig,
        component: Component,
    ) -> Result<Self, LoadError> {
        let path = spec.path.as_path();
        let limits = spec.limits.clone();
        let link_error = |e: wasmtime::Error| LoadError::Link {
            path: path.to_owned(),
            source: e.into(),
        };
        let pre = runtime
            .linker()
            .instantiate_pre(&component)
            .map_err(link_error)?;
        let exports_error = |e: wasmtime::Error| LoadError::Exports {
            path: path.to_owned(),
            source: e.into(),
        };
        let has = |name: &str| component.get_export_index(None, name).is_some();
        let exports = Exports {
            tools: has(TOOLS)
                .then(|| tools::GuestIndices::new(&pre))
                .transpose()
                .map_err(exports_error)?,
            resources: has(RESOURCES)
                .then(|| resources::GuestIndices::new(&pre))
                .transpose()
                .map_err(exports_error)?,
            prompts: has(PROMPTS)
                .then(|| prompts::GuestIndices::new(&pre))
                .transpose()
                .map_err(exports_error)?,
            completions: has(COMPLETIONS)
                .then(|| completions::GuestIndices::new(&pre))
                .transpose()
                .map_err(exports_error)?,
            tasks: has(TASKS)
                .then(|| tasks::GuestIndices::new(&pre))
                .transpose()
                .map_err(exports_error)?,
        };
        if exports.tools.is_none() && exports.resources.is_none() && exports.prompts.is_none() {
            let names: Vec<String> = component
                .component_type()
                .exports(runtime.engine())
                .map(|(name, _)| name.to_string())
                .collect();
            return Err(LoadError::WrongWorld {
                path: path.to_owned(),
                exports: if names.is_empty() {
                    "nothing".into()
                } else {
                    names.join(", ")
                },
            });
        }
        let share = runtime.plugin_share();
        if !share.fits(limits.memory) {
            let (plugin_share, total) = share.sizes();
            return Err(LoadError::OverBudget {
                path: path.to_owned(),
                memory: limits.memory,
                share: plugin_share,
                total,
            });
        }
        let name: Arc<str> = spec.name.as_str().into();
        let description = describe(spec);
        Ok(WasmPlugin {
            share,
            sandbox: Sandbox::new(name.clone(), &spec.grants).map_err(|reason| {
                LoadError::Sandbox {
                    path: path.to_owned(),
                    reason,
                }
            })?,
            gate: Gate::new(limits.concurrency, limits.queue, limits.rate),
            name,
            path: path.to_owned(),
            pre,
            exports,
            limits,
            listing: Arc::default(),
            description,
            idle: spec
                .instance_reuse
                .then(|| std::sync::Mutex::new(Vec::new())),
        })
    }

    /// The file it was loaded from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The limits its calls run under.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Which of the known interfaces it exports.
    pub fn exported_interfaces(&self) -> Vec<&'static str> {
        let e = &self.exports;
        [
            (e.tools.is_some(), TOOLS),
            (e.resources.is_some(), RESOURCES),
            (e.prompts.is_some(), PROMPTS),
            (e.completions.is_some(), COMPLETIONS),
            (e.tasks.is_some(), TASKS),
        ]
        .into_iter()
        .filter_map(|(present, name)| present.then_some(name))
        .collect()
    }

    /// Ask the plugin what it offers, in one sandboxed instance.
    async fn list(&self, path: &Path) -> Result<Listing, LoadError> {
        let ctx = CallContext::default();
        let listing_error = |what, source| LoadError::Listing {
            path: path.to_owned(),
            what,
            source,
        };
        let (_permit, mut lease) = self
            .begin(&ctx, false)
            .await
            .map_err(|e| listing_error("exports", e))?;
        let exports = &self.exports;
        let answer = guard(&ctx, self.clock(&ctx), lease.account(), async {
            let instance = lease.instance(&self.pre).await?;
            let store = &mut lease.store;
            let mut raw = RawListing::default();
            if let Some(indices) = &exports.tools {
                let guest = indices.load(&mut *store, &instance)?;
                raw.tools = guest.call_list_tools(&mut *store).await?;
            }
            if let Some(indices) = &exports.resources {
                let guest = indices.load(&mut *store, &instance)?;
                raw.resources = guest.call_list_resources(&mut *store).await?;
                raw.templates = guest.call_list_templates(&mut *store).await?;
            }
            if let Some(indices) = &exports.prompts {
                let guest = indices.load(&mut *store, &instance)?;
                raw.prompts = guest.call_list_prompts(&mut *store).await?;
            }
            if let Some(indices) = &exports.tasks {
                let guest = indices.load(&mut *store, &instance)?;
                raw.tasks = guest.call_list_task_support(&mut *store).await?;
            }
            Ok(raw)
        })
        .await;
        let raw = self
            .finish(lease, answer)
            .map_err(|e| listing_error("exports", e))?;
        let bad = |reason: String| LoadError::BadListing {
            path: path.to_owned(),
            reason,
        };
        metadata::check(&raw).map_err(bad)?;
        let support = convert::task_support(&raw.tasks, &raw.tools).map_err(bad)?;
        let listing = Listing {
            tools: raw
                .tools
                .into_iter()
                .map(|tool| convert::tool(tool, &support))
                .collect::<Result<_, _>>()
                .map_err(bad)?,
            resources: raw.resources.into_iter().map(convert::resource).collect(),
            templates: raw.templates.into_iter().map(convert::template).collect(),
            prompts: raw.prompts.into_iter().map(convert::prompt).collect(),
        };
        check_listing(&listing).map_err(bad)?;
        Ok(listing)
    }

    /// One guest call, made the same way for every kind: admitted (queue,
    /// memory budget), in a fresh or kept instance, under the call's
    /// deadline and cancellation, its failure named, its answer's size
    /// checked against the output cap before anything of it is converted.
    async fn run<T: WireSize>(
        &self,
        ctx: &CallContext,
        call: impl AsyncFnOnce(&mut Store<State>, Instance) -> wasmtime::Result<T>,
    ) -> Result<T, CallError> {
        let (_permit, mut lease) = self.begin(ctx, true).await?;
        let answer = guard(ctx, self.clock(ctx), lease.account(), async {
            let instance = lease.instance(&self.pre).await?;
            call(&mut lease.store, instance).await
        })
        .await;
        let answer = self.finish(lease, answer)?;
        self.check_output(answer.wire_size())?;
        Ok(answer)
    }

    async fn guest_tool(
        &self,
        name: &str,
        arguments: &JsonObject,
        input: Option<&Input>,
        ctx: &CallContext,
    ) -> Result<Outcome<ToolResult>, CallError> {
        let indices = self
            .exports
            .tools
            .as_ref()
            .ok_or_else(|| self.lacks(TOOLS))?;
        let input = input.map(convert::input);
        // The one serialization of the arguments on their way in.
        let arguments = serde_json::to_string(arguments)
            .map_err(|e| CallError::Host(format!("serializing the arguments: {e}")))?;
        let answer = self
            .run(ctx, async |store, instance| {
                let guest = indices.load(&mut *store, &instance)?;
                guest
                    .call_call_tool(store, name, &arguments, input.as_ref())
                    .await
            })
            .await?;
        let outcome = answer.map_err(convert::guest_error)?;
        convert::tool_outcome(outcome).map_err(CallError::Malformed)
    }

    async fn guest_read(
        &self,
        uri: &str,
        params: &[(String, String)],
        input: Option<&Input>,
        ctx: &CallContext,
    ) -> Result<Outcome<Vec<ResourceContents>>, CallError> {
        let indices = self
            .exports
            .resources
            .as_ref()
            .ok_or_else(|| self.lacks(RESOURCES))?;
        let input = input.map(convert::input);
        let answer = self
            .run(ctx, async |store, instance| {
                let guest = indices.load(&mut *store, &instance)?;
                guest
                    .call_read_resource(store, uri, params, input.as_ref())
                    .await
            })
            .await?;
        let outcome = answer.map_err(convert::guest_error)?;
        convert::read_outcome(outcome).map_err(CallError::Malformed)
    }

    async fn guest_prompt(
        &self,
        name: &str,
        arguments: &[(String, String)],
        input: Option<&Input>,
        ctx: &CallContext,
    ) -> Result<Outcome<PromptResult>, CallError> {
        let indices = self
            .exports
            .prompts
            .as_ref()
            .ok_or_else(|| self.lacks(PROMPTS))?;
        let input = input.map(convert::input);
        let answer = self
            .run(ctx, async |store, instance| {
                let guest = indices.load(&mut *store, &instance)?;
                guest
                    .call_get_prompt(store, name, arguments, input.as_ref())
                    .await
            })
            .await?;
        let outcome = answer.map_err(convert::guest_error)?;
        convert::get_outcome(outcome).map_err(CallError::Malformed)
    }

    /// Empty when the plugin does not export `completions`.
    async fn guest_complete(
        &self,
        reference: &CompletionRef,
        argument: &str,
        value: &str,
        ctx: &CallContext,
    ) -> Result<Vec<String>, CallError> {
        let Some(indices) = &self.exports.completions else {
            return Ok(Vec::new());
        };
        let reference = match reference {
            CompletionRef::Prompt(p) => completions::Reference::Prompt(p.clone()),
            CompletionRef::Template(t) => completions::Reference::Template(t.clone()),
        };
        self.run(ctx, async |store, instance| {
            let guest = indices.load(&mut *store, &instance)?;
            guest
                .call_complete(store, &reference, argument, value)
                .await
        })
        .await
    }

    fn lacks(&self, interface: &str) -> CallError {
        CallError::Host(format!(
            "plugin `{}` does not export `{interface}`",
            self.name
        ))
    }

    /// Wait for a free slot (bounded queue; cancellable), then make a fresh
    /// store with this plugin's limits (or, with `instance_reuse`, take an
    /// idle one and start its per-call limits again). A `metered` call
    /// takes a token of the plugin's `rate`; the host's own do not.
    async fn begin(
        &self,
        ctx: &CallContext,
        metered: bool,
    ) -> Result<(Admission<'_>, Lease), CallError> {
        let admit = async {
            if metered {
                self.gate.admit("plugin", &self.name).await
            } else {
                self.gate.admit_unmetered("plugin", &self.name).await
            }
        };
        let permit = tokio::select! {
            permit = admit => permit?,
            _ = ctx.cancel.cancelled() => return Err(CallError::Cancelled),
        };
        let admission = Admission {
            _permit: permit,
            _memory: self.reserve(ctx).await?,
        };
        let reused = self
            .idle
            .as_ref()
            .and_then(|idle| idle.lock().unwrap_or_else(|e| e.into_inner()).pop());
        let mut lease = match reused {
            Some(mut lease) => {
                lease.store.data_mut().next_call(ctx.clone());
                lease
            }
            None => {
                let state = State::new(
                    self.name.clone(),
                    self.limits.memory,
                    ctx.clone(),
                    &self.sandbox,
                )
                .map_err(CallError::Host)?;
                let mut store = Store::new(self.pre.engine(), state);
                store.limiter(|state| &mut state.limiter);
                // Every tick: yield to the executor, and stop a call that
                // holds more host memory than its limit allows.
                store.epoch_deadline_callback(|mut store| {
                    if store.data_mut().limiter.over_cap() {
                        return Ok(UpdateDeadline::Interrupt);
                    }
                    Ok(UpdateDeadline::Yield(1))
                });
                Lease {
                    store,
                    instance: None,
                }
            }
        };
        let store = &mut lease.store;
        store
            .set_fuel(self.limits.fuel)
            .map_err(|e| CallError::Host(format!("setting fuel: {e:#}")))?;
        store.set_epoch_deadline(1);
        Ok((admission, lease))
    }

    /// Reserve the call's `memory` from the host memory budget, waiting in
    /// the plugin's queue for at most the call's timeout.
    async fn reserve(&self, ctx: &CallContext) -> Result<Reservation<'_>, CallError> {
        let memory = self.limits.memory;
        if let Some(reservation) = self.share.try_reserve(memory) {
            return Ok(reservation);
        }
        let timeout = self.clock(ctx).duration();
        let over = || CallError::Budget {
            total: self.share.sizes().1,
            memory,
            waited: timeout,
        };
        tokio::select! {
            biased;
            _ = ctx.cancel.cancelled() => Err(CallError::Cancelled),
            reserved = tokio::time::timeout(timeout, self.share.reserve(memory)) => {
                reserved.ok().flatten().ok_or_else(over)
            }
        }
    }

    /// The wall clock `ctx` runs under: `timeout`, or `task_timeout` for a
    /// call that runs as a task.
    fn clock(&self, ctx: &CallContext) -> Clock {
        if ctx.as_task {
            Clock::Task(self.limits.task_timeout)
        } else {
            Clock::Call(self.limits.timeout)
        }
    }

    /// Turn what the guest call produced into the answer or a named error.
    /// With `instance_reuse`, an instance whose call ended cleanly goes
    /// back to the idle list; after a trap, a limit, a timeout or a
    /// cancellation it is dropped, and the next call starts afresh.
    fn finish<T>(
        &self,
        lease: Lease,
        answer: Result<wasmtime::Result<T>, CallError>,
    ) -> Result<T, CallError> {
        let store = &lease.store;
        store.data().report_drops();
        let fuel = self.limits.fuel - store.get_fuel().unwrap_or(0).min(self.limits.fuel);
        let memory = store.data().limiter.linear_memory();
        store.data().call.usage.record(fuel, memory as u64);
        let error = match answer? {
            Ok(value) => {
                if let Some(idle) = &self.idle {
                    let mut idle = idle.lock().unwrap_or_else(|e| e.into_inner());
                    if idle.len() < self.limits.concurrency {
                        idle.push(lease);
                    }
                }
                return Ok(value);
            }
            Err(error) => error,
        };
        let store = &lease.store;
        if store.data().limiter.refused.is_some() {
            return Err(CallError::Memory(self.limits.memory));
        }
        if error
            .downcast_ref::<wasmtime::PoolConcurrencyLimitError>()
            .is_some()
        {
            return Err(CallError::Pool(crate::runtime::POOL_INSTANCES));
        }
        if let Some(ResourceTableError::Full) = error.downcast_ref::<ResourceTableError>() {
            return Err(CallError::Resources(MAX_RESOURCES_PER_CALL));
        }
        if let Some(FieldMapError::TotalSizeTooBig) = error.downcast_ref::<FieldMapError>() {
            return Err(CallError::HttpFields(MAX_HTTP_FIELDS_BYTES));
        }
        if let Some(trap) = error.downcast_ref::<wasmtime::Trap>() {
            match trap {
                wasmtime::Trap::OutOfFuel => return Err(CallError::Fuel(self.limits.fuel)),
                wasmtime::Trap::Interrupt => return Err(CallError::Timeout(self.limits.timeout)),
                wasmtime::Trap::StackOverflow => return Err(CallError::Stack(WASM_STACK as u64)),
                _ => {}
            }
        }
        let mut detail = match error.downcast_ref::<wasmtime::Trap>() {
            Some(trap) => format!("wasm trap: {trap}"),
            None => format!("{error:#}"),
        };
        if let Some(line) = store.data().last_stderr_line() {
            detail.push_str(&format!(" (last stderr line: {line})"));
        }
        tracing::warn!(plugin = %self.name, "call failed: {error:#}");
        Err(CallError::Trap(detail))
    }

    fn check_output(&self, size: u64) -> Result<(), CallError> {
        if size > self.limits.max_output {
            return Err(CallError::Output {
                limit: self.limits.max_output,
                actual: size,
            });
        }
        Ok(())
    }
}

impl Provider for WasmPlugin {
    fn kind(&self) -> &'static str {
        "plugin"
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn origin(&self) -> String {
        self.path.display().to_string()
    }

    fn listing(&self) -> Arc<Listing> {
        self.listing.clone()
    }

    fn describe(&self) -> serde_json::Value {
        self.description.clone()
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
        Box::pin(self.guest_tool(name, arguments, input, ctx))
    }

    fn read_resource<'a>(
        &'a self,
        uri: &'a str,
        params: &'a [(String, String)],
        input: Option<&'a Input>,
        ctx: &'a CallContext,
    ) -> CallFuture<'a, Outcome<Vec<ResourceContents>>> {
        Box::pin(self.guest_read(uri, params, input, ctx))
    }

    fn get_prompt<'a>(
        &'a self,
        name: &'a str,
        arguments: &'a [(String, String)],
        input: Option<&'a Input>,
        ctx: &'a CallContext,
    ) -> CallFuture<'a, Outcome<PromptResult>> {
        Box::pin(self.guest_prompt(name, arguments, input, ctx))
    }

    fn complete<'a>(
        &'a self,
        reference: &'a CompletionRef,
        argument: &'a str,
        value: &'a str,
        ctx: &'a CallContext,
    ) -> CallFuture<'a, Vec<String>> {
        Box::pin(self.guest_complete(reference, argument, value, ctx))
    }
}

/// Names must be non-empty and unique within the plugin.
fn check_listing(listing: &Listing) -> Result<(), String> {
    fn unique<'a>(what: &str, names: impl Iterator<Item = &'a str>) -> Result<(), String> {
        let mut seen = std::collections::HashSet::new();
        for name in names {
            if name.is_empty() {
                return Err(format!("a {what} has an empty name"));
            }
            if !seen.insert(name) {
                return Err(format!("two {what}s are named `{name}`"));
            }
        }
        Ok(())
    }
    unique("tool", listing.tools.iter().map(|t| t.name.as_str()))?;
    unique("resource", listing.resources.iter().map(|r| r.uri.as_str()))?;
    unique(
        "resource template",
        listing.templates.iter().map(|t| t.uri_template.as_str()),
    )?;
    unique("prompt", listing.prompts.iter().map(|p| p.name.as_str()))?;
    for template in &listing.templates {
        corral_uri_template::UriTemplate::parse(&template.uri_template)
            .map_err(|e| format!("resource template `{}`: {e}", template.uri_template))?;
    }
    Ok(())
}

/// The conversions of guest answers, for the property tests in `fuzz_tests`.
#[cfg(test)]
pub(crate) mod fuzzing {
    use super::*;

    pub(crate) fn wire_size(outcome: &tools::Outcome) -> u64 {
        WireSize::wire_size(outcome)
    }

    pub(crate) fn convert_tool_outcome(
        outcome: tools::Outcome,
    ) -> Result<Outcome<ToolResult>, String> {
        convert::tool_outcome(outcome)
    }
}

/// The wall clock of one guest call, and the limit it names when it runs out.
#[derive(Clone, Copy)]
enum Clock {
    /// An ordinary call: `timeout`.
    Call(Duration),
    /// A call that runs as an MCP task: `task_timeout`.
    Task(Duration),
}

impl Clock {
    fn duration(self) -> Duration {
        match self {
            Clock::Call(d) | Clock::Task(d) => d,
        }
    }

    fn exceeded(self) -> CallError {
        match self {
            Clock::Call(d) => CallError::Timeout(d),
            Clock::Task(d) => CallError::TaskTimeout(d),
        }
    }
}

/// Run a guest future under the call's deadline and cancellation.
/// Host allocations made while the guest runs are charged to the call.
async fn guard<T>(
    ctx: &CallContext,
    clock: Clock,
    account: Arc<HostBytes>,
    call: impl Future<Output = wasmtime::Result<T>>,
) -> Result<wasmtime::Result<T>, CallError> {
    let call = Charged::new(account, call);
    tokio::select! {
        biased;
        _ = ctx.cancel.cancelled() => Err(CallError::Cancelled),
        answer = tokio::time::timeout(clock.duration(), call) => answer.map_err(|_| clock.exceeded()),
    }
}

/// A call's right to run: its slot in the plugin's concurrency and its
/// memory reserved from the budget, both given back when dropped.
struct Admission<'a> {
    _permit: SemaphorePermit<'a>,
    _memory: Reservation<'a>,
}

/// What the console shows of a plugin loaded from `spec`: its limits, its
/// grants, and where its file came from (a lock's reference and signer).
fn describe(spec: &PluginConfig) -> serde_json::Value {
    let limits = &spec.limits;
    let grants = &spec.grants;
    let dirs = grants.dirs.iter().map(|d| {
        let access = if d.read_only {
            "read-only"
        } else {
            "read-write"
        };
        format!("dir {} = {} ({access})", d.guest, d.host.display())
    });
    let env = grants.env.iter().map(|name| format!("env {name}"));
    let hosts = grants.allow_hosts.iter().map(|h| format!("http {h}"));
    let locked = spec.locked.as_ref();
    serde_json::json!({
        "limits": {
            "fuel": limits.fuel,
            "memory": limits.memory,
            "timeout_ms": limits.timeout.as_millis() as u64,
            "task_timeout_ms": limits.task_timeout.as_millis() as u64,
            "max_output": limits.max_output,
            "concurrency": limits.concurrency,
            "queue": limits.queue,
            "rate": limits.rate.as_ref().map(ToString::to_string),
        },
        "grants": dirs.chain(env).chain(hosts).collect::<Vec<_>>(),
        "reference": locked.map(|l| l.reference.as_str()),
        "signer": locked.and_then(|l| l.signer.as_deref()),
        "instance_reuse": spec.instance_reuse,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_tells_component_from_core_module_and_junk() {
        let p = Path::new("x.wasm");
        assert!(check_header(p, b"\0asm\x0d\0\x01\0rest").is_ok());
        assert!(matches!(
            check_header(p, b"\0asm\x01\0\0\0"),
            Err(LoadError::CoreModule { .. })
        ));
        assert!(matches!(
            check_header(p, b"hello world"),
            Err(LoadError::NotWasm { .. })
        ));
        assert!(matches!(
            check_header(p, b"\0a"),
            Err(LoadError::NotWasm { .. })
        ));
    }
}
