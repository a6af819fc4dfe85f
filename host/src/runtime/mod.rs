//! The WebAssembly runtime: one engine for the process, a linker with the
//! host's imports, and the per-call sandbox settings.
//!
//! Every call runs in a fresh `Store` and a fresh instance made from a
//! pre-linked `InstancePre`, with fuel, a memory cap, an epoch-driven
//! wall-clock deadline and an output cap. The pooling allocator keeps
//! instantiation cheap and returns memory to a clean state after each call.

mod accounting;
mod budget;
mod context;
mod files;
mod http;
pub(crate) mod limits;
mod outgoing;
pub(crate) mod state;
mod stdio;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use wasmtime::component::{HasSelf, Linker};
use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::config::EPOCH_TICK;
use crate::error::RuntimeError;

pub(crate) use accounting::Charged;
pub use accounting::{CountingAllocator, HostBytes, accounting_installed};
pub use budget::{DEFAULT_TOTAL_MEMORY_PERCENT, PLUGIN_SHARE_PERCENT, default_total_memory};
pub(crate) use budget::{MemoryBudget, PluginShare, Reservation};
pub use outgoing::DEFAULT_CONNECT_TIMEOUT;
pub(crate) use state::{Sandbox, State};

/// Most component instances alive at once in the process (the pool size).
pub const POOL_INSTANCES: u32 = 1000;

/// The pool size this build uses: [`POOL_INSTANCES`], except in a binary
/// built with `CORRAL_LINK_ORDER_TRACE` set, which `cargo xtask link-order`
/// runs under valgrind to see which functions start-up and a first call run
/// (valgrind cannot reserve the address space of the full pool). Only the
/// number differs, so that binary's symbols are the normal build's.
fn pool_instances() -> u32 {
    match option_env!("CORRAL_LINK_ORDER_TRACE") {
        Some(_) => 1,
        None => POOL_INSTANCES,
    }
}

/// The process-wide WebAssembly engine and linker. Cheap to clone.
#[derive(Clone)]
pub struct Runtime {
    inner: Arc<Inner>,
}

struct Inner {
    engine: Engine,
    linker: Linker<State>,
    budget: MemoryBudget,
    max_plugin_size: u64,
    ticker_stop: Arc<AtomicBool>,
}

/// The largest plugin file loaded by default: compile time grows with the
/// size, so this also bounds how long one plugin can keep a core compiling.
pub const DEFAULT_MAX_PLUGIN_SIZE: u64 = 256 * 1024 * 1024;

/// Settings of the whole process (`[limits]` keys that are not per call).
#[derive(Debug, Clone, PartialEq)]
pub struct RuntimeOptions {
    /// The memory budget every call reserves its `memory` from.
    pub total_memory: u64,
    /// The largest plugin file that is read and compiled.
    pub max_plugin_size: u64,
}

impl Default for RuntimeOptions {
    fn default() -> Self {
        Self {
            total_memory: default_total_memory(),
            max_plugin_size: DEFAULT_MAX_PLUGIN_SIZE,
        }
    }
}

impl RuntimeOptions {
    /// What `config` asks for (`[limits] total_memory`, `max_plugin_size`),
    /// the defaults elsewhere.
    pub fn of(config: &crate::config::Config) -> Self {
        let defaults = Self::default();
        Self {
            total_memory: config.total_memory.unwrap_or(defaults.total_memory),
            max_plugin_size: config.max_plugin_size.unwrap_or(defaults.max_plugin_size),
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.ticker_stop.store(true, Ordering::Relaxed);
    }
}

impl Runtime {
    /// An engine with fuel metering, epoch interruption and the pooling
    /// allocator, and a linker with WASI and WASI HTTP (default deny) and
    /// `corral:mcp/context`, with the default [`RuntimeOptions`].
    pub fn new() -> Result<Self, RuntimeError> {
        Self::with_options(RuntimeOptions::default())
    }

    /// [`Runtime::new`] with process-wide `options`.
    pub fn with_options(options: RuntimeOptions) -> Result<Self, RuntimeError> {
        let failed = |what| {
            move |e: wasmtime::Error| RuntimeError::Engine {
                what,
                source: e.into(),
            }
        };
        let engine = Engine::new(&engine_config()).map_err(failed("creating the engine"))?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(failed("linking WASI"))?;
        files::note_opened_files(&mut linker).map_err(failed("noting opened files"))?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)
            .map_err(failed("linking WASI HTTP"))?;
        crate::bindings::corral::mcp::context::add_to_linker::<State, HasSelf<State>>(
            &mut linker,
            |state| state,
        )
        .map_err(failed("linking corral:mcp/context"))?;
        let ticker_stop = Arc::new(AtomicBool::new(false));
        spawn_epoch_ticker(engine.clone(), ticker_stop.clone());
        Ok(Self {
            inner: Arc::new(Inner {
                engine,
                linker,
                budget: MemoryBudget::new(options.total_memory),
                max_plugin_size: options.max_plugin_size,
                ticker_stop,
            }),
        })
    }

    pub(crate) fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    pub(crate) fn linker(&self) -> &Linker<State> {
        &self.inner.linker
    }

    /// The largest plugin file this runtime reads, in bytes.
    pub fn max_plugin_size(&self) -> u64 {
        self.inner.max_plugin_size
    }

    /// The memory budget all calls share, in bytes.
    pub fn total_memory(&self) -> u64 {
        self.inner.budget.total()
    }

    /// The most one plugin's calls may reserve at once, in bytes.
    pub fn plugin_memory_share(&self) -> u64 {
        self.inner.budget.plugin_share()
    }

    /// A new plugin's allowance within the budget.
    pub(crate) fn plugin_share(&self) -> PluginShare {
        self.inner.budget.share()
    }
}

fn engine_config() -> Config {
    let mut pool = PoolingAllocationConfig::default();
    let instances = pool_instances();
    pool.total_component_instances(instances)
        .total_core_instances(instances * 4)
        .total_memories(instances * 2)
        .total_tables(instances * 4)
        .total_stacks(instances)
        .max_core_instances_per_component(64)
        .max_memories_per_component(8)
        .max_tables_per_component(32)
        .max_memories_per_module(2)
        .max_tables_per_module(8)
        .table_elements(limits::MAX_TABLE_ELEMENTS)
        .max_component_instance_size(8 << 20)
        .max_core_instance_size(4 << 20)
        .max_memory_size(crate::config::MAX_MEMORY_CEILING as usize)
        // Reset a used slot by rewriting only the pages the call dirtied
        // (found with Linux's PAGEMAP_SCAN) instead of `madvise`: no page
        // faults on the next call, and no TLB shootdowns across threads.
        .pagemap_scan(Enabled::Auto)
        .linear_memory_keep_resident(limits::KEEP_RESIDENT)
        .table_keep_resident(limits::KEEP_RESIDENT);

    let mut config = Config::new();
    config
        .wasm_component_model(true)
        .consume_fuel(true)
        .epoch_interruption(true)
        .max_wasm_stack(limits::WASM_STACK)
        // No `.eh_frame` for guest code: wasmtime unwinds guest frames
        // itself, and without it a plugin's load reads (and keeps
        // resident) less of its compile-cache entry and registers nothing.
        .native_unwind_info(false)
        .async_stack_size(limits::WASM_STACK + (1 << 20))
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    config
}

/// Advance the engine's epoch every [`EPOCH_TICK`] so that running
/// guests reach their yield points and deadlines.
fn spawn_epoch_ticker(engine: Engine, stop: Arc<AtomicBool>) {
    std::thread::Builder::new()
        .name("corral-epoch".into())
        .spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(EPOCH_TICK);
                engine.increment_epoch();
            }
        })
        .expect("spawning the epoch thread");
}
