//! The seam between the call service and whatever serves: a [`Provider`]
//! says what it offers and answers calls for it.
//!
//! [`WasmPlugin`](crate::WasmPlugin) is one; upstream MCP servers and
//! OpenAPI specs are the next. The catalog mounts every provider the same
//! way (prefixes, tags, collisions), and the call service treats every call
//! the same way (validation, input rounds, output checks, masking), so a
//! provider only answers in the model's terms. Nothing here knows of
//! wasmtime or of rmcp.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use tokio_util::sync::CancellationToken;

use crate::error::CallError;
use crate::model::{
    Input, InputRequest, JsonObject, Listing, LogLevel, Outcome, PromptResult, ResourceContents,
    ToolResult,
};

/// Receives what a provider reports during a call (log messages, progress).
/// Implementations must not block: a plugin calls them from inside the guest.
pub trait CallObserver: Send + Sync {
    /// A log message from the provider named `provider`.
    fn log(&self, level: LogLevel, provider: &str, message: &str);
    /// A progress report.
    fn progress(&self, progress: f64, total: Option<f64>, message: Option<&str>);
}

/// Asks the call's client for input while the call runs: what a 2025-11-25
/// client can be asked. A 2026-07-28 client cannot be asked in the middle
/// of a call (a provider returns [`Outcome::NeedsInput`] instead), so a call
/// of one has no asker.
pub trait InputAsker: Send + Sync {
    /// The client's answer to `request`, as the MCP result JSON.
    fn ask(&self, request: InputRequest) -> CallFuture<'_, serde_json::Value>;
}

/// What a provider knows about one call: how it is cancelled, where its
/// notifications go, and how its client can be asked for input.
#[derive(Clone, Default)]
pub struct CallContext {
    /// Cancelled when the client gives up on the call.
    pub cancel: CancellationToken,
    /// Where log and progress reports go, if anywhere.
    pub observer: Option<Arc<dyn CallObserver>>,
    /// Asks the client for input in the middle of the call, when its
    /// protocol era allows that.
    pub asker: Option<Arc<dyn InputAsker>>,
    /// The call runs as an MCP task: the provider's task wall clock (a
    /// plugin's `task_timeout`) applies instead of its per-call timeout.
    pub as_task: bool,
    /// What the call used, as far as its provider measures it.
    pub usage: Arc<Usage>,
}

/// What one call used, summed over its input rounds: reported by
/// providers that meter their calls (a Wasm plugin's fuel and linear
/// memory), read by the call service for metrics and logs.
#[derive(Debug, Default)]
pub struct Usage {
    fuel: AtomicU64,
    memory: AtomicU64,
    metered: AtomicBool,
    /// Hosts the call asked for, the first [`MAX_AUDITED_HOSTS`] distinct ones.
    hosts: std::sync::Mutex<Hosts>,
    /// Files the call opened or was refused, the first [`MAX_AUDITED_FILES`].
    files: std::sync::Mutex<Files>,
}

/// The files (paths as the plugin named them, relative to the granted
/// directory it opened them from) a call opened, by access.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Files {
    /// Opened: `read PATH` or `write PATH` (write access, or created or
    /// truncated).
    pub opened: Vec<String>,
    /// Refused (outside its grants, or a write to a read-only grant), as
    /// `read PATH` or `write PATH`.
    pub denied: Vec<String>,
    /// Opens past [`MAX_AUDITED_FILES`] distinct ones, counted (not told
    /// apart).
    pub unlisted: u32,
}

/// The most distinct file opens one call's audit record lists; more are
/// counted.
pub const MAX_AUDITED_FILES: usize = 16;

/// The longest host or path an audit record lists, in bytes; a longer one
/// is cut and ends with `…`.
pub const MAX_AUDITED_NAME: usize = 256;

/// Note `item` in `yes` (allowed) or `no`, once, within `cap` in all;
/// past it, count it in `unlisted`. A long item is cut.
fn note(
    (yes, no, unlisted): (&mut Vec<String>, &mut Vec<String>, &mut u32),
    mut item: String,
    allowed: bool,
    cap: usize,
) {
    if item.len() > MAX_AUDITED_NAME {
        let mut end = MAX_AUDITED_NAME;
        while !item.is_char_boundary(end) {
            end -= 1;
        }
        item.truncate(end);
        item.push('…');
    }
    if yes.contains(&item) || no.contains(&item) {
        return;
    }
    if yes.len() + no.len() >= cap {
        *unlisted = unlisted.saturating_add(1);
    } else if allowed {
        yes.push(item);
    } else {
        no.push(item);
    }
}

/// The hosts (`name:port`) a call sent HTTP requests to.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Hosts {
    /// Allowed by its grant (and then sent, if the name resolved to an
    /// address the grant allows).
    pub allowed: Vec<String>,
    /// Refused: not in its grant.
    pub denied: Vec<String>,
    /// Requests past [`MAX_AUDITED_HOSTS`] distinct hosts, counted (not
    /// told apart).
    pub unlisted: u32,
}

/// The most distinct hosts one call's audit record lists; more are counted.
pub const MAX_AUDITED_HOSTS: usize = 16;

impl Usage {
    /// A guest run of the call took `fuel` and ended with `memory` bytes of
    /// linear memory (which never shrinks while an instance lives).
    pub fn record(&self, fuel: u64, memory: u64) {
        self.fuel.fetch_add(fuel, Ordering::Relaxed);
        self.memory.fetch_max(memory, Ordering::Relaxed);
        self.metered.store(true, Ordering::Relaxed);
    }

    /// The call sent a request to `host` (`name:port`), which its grant
    /// `allowed` or not.
    pub fn contacted(&self, host: &str, allowed: bool) {
        let host = host.to_ascii_lowercase();
        let mut hosts = self.hosts.lock().unwrap_or_else(|e| e.into_inner());
        let Hosts {
            allowed: yes,
            denied: no,
            unlisted,
        } = &mut *hosts;
        note((yes, no, unlisted), host, allowed, MAX_AUDITED_HOSTS);
    }

    /// The hosts the call sent requests to.
    pub fn hosts(&self) -> Hosts {
        self.hosts.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The call opened `path` (for writing, if `write`), or was refused.
    pub fn opened(&self, path: &str, write: bool, allowed: bool) {
        let access = if write { "write" } else { "read" };
        let mut files = self.files.lock().unwrap_or_else(|e| e.into_inner());
        let Files {
            opened,
            denied,
            unlisted,
        } = &mut *files;
        note(
            (opened, denied, unlisted),
            format!("{access} {path}"),
            allowed,
            MAX_AUDITED_FILES,
        );
    }

    /// The files the call opened.
    pub fn files(&self) -> Files {
        self.files.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Fuel used and the largest linear memory, if the provider reported
    /// any (upstreams and OpenAPI specs do not).
    pub fn get(&self) -> Option<(u64, u64)> {
        self.metered.load(Ordering::Relaxed).then(|| {
            (
                self.fuel.load(Ordering::Relaxed),
                self.memory.load(Ordering::Relaxed),
            )
        })
    }
}

/// How busy a provider is right now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Load {
    /// Calls running.
    pub in_flight: usize,
    /// Calls waiting for a slot.
    pub queued: usize,
}

/// What a completion request refers to, by the provider's own names.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CompletionRef {
    /// An argument of the prompt of this name.
    Prompt(String),
    /// A variable of the resource template of this text.
    Template(String),
}

/// The future a provider's call returns.
pub type CallFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, CallError>> + Send + 'a>>;

/// Something that serves tools, resources, resource templates and prompts.
///
/// Names and URIs are the provider's own: the catalog removes mount
/// prefixes before a call reaches the provider. Arguments reach a tool
/// already checked against its input schema.
pub trait Provider: Send + Sync + std::fmt::Debug {
    /// What kind of provider this is, for messages (`plugin`).
    fn kind(&self) -> &'static str;
    /// Its name (a plugin's `[plugins.NAME]` or file stem).
    fn name(&self) -> &str;
    /// Where it comes from, for messages: a file, a command or a URL.
    fn origin(&self) -> String;
    /// What it offers.
    fn listing(&self) -> Arc<Listing>;
    /// How many of its calls run and wait now (for metrics).
    fn load(&self) -> Load {
        Load::default()
    }
    /// What an operator wants to know of it beyond its name and origin
    /// (a plugin's limits, grants, digest and signer), as JSON for the
    /// web console; `null` when there is nothing more.
    fn describe(&self) -> serde_json::Value {
        serde_json::Value::Null
    }
    /// Call the tool `name`.
    fn call_tool<'a>(
        &'a self,
        name: &'a str,
        arguments: &'a JsonObject,
        input: Option<&'a Input>,
        ctx: &'a CallContext,
    ) -> CallFuture<'a, Outcome<ToolResult>>;
    /// Read `uri`; `params` are the template variables the host matched
    /// (empty for a concrete resource).
    fn read_resource<'a>(
        &'a self,
        uri: &'a str,
        params: &'a [(String, String)],
        input: Option<&'a Input>,
        ctx: &'a CallContext,
    ) -> CallFuture<'a, Outcome<Vec<ResourceContents>>>;
    /// Render the prompt `name`.
    fn get_prompt<'a>(
        &'a self,
        name: &'a str,
        arguments: &'a [(String, String)],
        input: Option<&'a Input>,
        ctx: &'a CallContext,
    ) -> CallFuture<'a, Outcome<PromptResult>>;
    /// Suggest values for `argument` of `reference`, which starts as `value`.
    fn complete<'a>(
        &'a self,
        reference: &'a CompletionRef,
        argument: &'a str,
        value: &'a str,
        ctx: &'a CallContext,
    ) -> CallFuture<'a, Vec<String>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_files_are_listed_once_up_to_their_caps() {
        let usage = Usage::default();
        for i in 0..MAX_AUDITED_HOSTS + 5 {
            usage.contacted(&format!("Host{i}.example:443"), i % 2 == 0);
            usage.contacted(&format!("host{i}.example:443"), i % 2 == 0);
        }
        let hosts = usage.hosts();
        assert_eq!(hosts.allowed.len() + hosts.denied.len(), MAX_AUDITED_HOSTS);
        assert_eq!(hosts.allowed[0], "host0.example:443");
        // Past the cap requests are counted, not told apart.
        assert_eq!(hosts.unlisted, 10);

        usage.opened("a.txt", false, true);
        usage.opened("a.txt", false, true);
        usage.opened("a.txt", true, true);
        usage.opened("../b", false, false);
        for i in 0..MAX_AUDITED_FILES {
            usage.opened(&format!("f{i}"), false, true);
        }
        let files = usage.files();
        assert_eq!(&files.opened[..2], ["read a.txt", "write a.txt"]);
        assert_eq!(files.denied, ["read ../b"]);
        assert_eq!(files.opened.len() + files.denied.len(), MAX_AUDITED_FILES);
        assert_eq!(files.unlisted, 3);

        // A plugin cannot make its record large with long names.
        let usage = Usage::default();
        usage.opened(&"é".repeat(100_000), true, false);
        usage.contacted(&"h".repeat(100_000), true);
        let denied = &usage.files().denied[0];
        assert!(denied.len() <= MAX_AUDITED_NAME + 3 && denied.ends_with('…'));
        assert!(denied.starts_with("write éé"));
        assert_eq!(usage.hosts().allowed[0].len(), MAX_AUDITED_NAME + 3);
    }
}
