//! What a plugin file exports, what it imports, and which of its imports the
//! sandbox grants by default.

use std::path::Path;

use serde_json::{Value, json};

use crate::config::Limits;
use crate::config::{Grants, PluginConfig};
use crate::error::LoadError;
use crate::model::{Listing, TaskSupport};
use crate::plugin::{WasmPlugin, compile};
use crate::provider::Provider;
use crate::runtime::Runtime;
use crate::units::printable;

/// How the host treats one import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportPolicy {
    /// The import's name, e.g. `wasi:filesystem/types@0.2.6`.
    pub name: String,
    /// What the plugin gets, in a few words.
    pub policy: &'static str,
}

/// The result of inspecting a plugin.
#[derive(Debug)]
pub struct Inspection {
    /// Its config entry (`[plugins.NAME]`), if the config has one.
    pub config: Option<PluginConfig>,
    /// Every export of the component.
    pub exports: Vec<String>,
    /// Every import, with how the sandbox treats it.
    pub imports: Vec<ImportPolicy>,
    /// What it serves, if it loads.
    pub listing: Result<Listing, LoadError>,
    /// The size of the file in bytes.
    pub size: u64,
}

/// The sandbox's default answer to an import.
pub fn import_policy(name: &str) -> &'static str {
    let interface = name.split('@').next().unwrap_or(name);
    match interface {
        "corral:mcp/context" => "provided: log, progress, cancellation",
        "corral:mcp/types" => "provided: type definitions only",
        "wasi:clocks/wall-clock" | "wasi:clocks/monotonic-clock" => "provided",
        "wasi:random/random" | "wasi:random/insecure" | "wasi:random/insecure-seed" => "provided",
        "wasi:io/error" | "wasi:io/poll" | "wasi:io/streams" => "provided",
        "wasi:cli/stdout" | "wasi:cli/stderr" => "provided: captured into the host log",
        "wasi:cli/stdin" => "provided: always empty",
        "wasi:cli/environment" => "provided: no arguments; variables only by an `env` grant",
        "wasi:cli/exit" => "provided: ends the call with an error",
        "wasi:cli/terminal-input"
        | "wasi:cli/terminal-output"
        | "wasi:cli/terminal-stdin"
        | "wasi:cli/terminal-stdout"
        | "wasi:cli/terminal-stderr" => "provided: never a terminal",
        "wasi:filesystem/types" | "wasi:filesystem/preopens" => {
            "linked; directories only by a `dirs` grant"
        }
        i if i.starts_with("wasi:sockets/") => "linked, but every address and lookup is refused",
        i if i.starts_with("wasi:http/") => {
            "linked, but only hosts in an allow_hosts grant are reachable"
        }
        _ => "unknown: the plugin will not load",
    }
}

/// Inspect the plugin at `path`; `config` is its config entry, if any: its
/// `sha256` pin is checked and its grants are shown, but the plugin is
/// listed with no grants at all (inspecting never hands a plugin what its
/// config grants).
pub async fn inspect(
    runtime: &Runtime,
    path: &Path,
    config: Option<&PluginConfig>,
) -> Result<Inspection, LoadError> {
    let mut spec = config
        .cloned()
        .unwrap_or_else(|| PluginConfig::for_file(path, Limits::default()));
    spec.grants = Grants::default();
    let component = compile(runtime, path, config).await?;
    let ty = component.component_type();
    let exports = ty
        .exports(runtime.engine())
        .map(|(n, _)| n.to_owned())
        .collect();
    let imports = ty
        .imports(runtime.engine())
        .map(|(n, _)| ImportPolicy {
            name: n.to_owned(),
            policy: import_policy(n),
        })
        .collect();
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let listing = WasmPlugin::from_component(runtime, &spec, component)
        .await
        .map(|p| Listing::clone(&p.listing()));
    Ok(Inspection {
        config: config.cloned(),
        exports,
        imports,
        listing,
        size,
    })
}

impl Inspection {
    /// The inspection as JSON (for `corral inspect --json`).
    pub fn to_json(&self) -> Value {
        let listing = match &self.listing {
            Ok(l) => json!({
                "tools": l.tools.iter().map(|t| json!({"name": t.name, "description": t.description, "tags": t.tags, "task": task_support(t.task_support)})).collect::<Vec<_>>(),
                "resources": l.resources.iter().map(|r| json!({"uri": r.uri, "name": r.name})).collect::<Vec<_>>(),
                "resource_templates": l.templates.iter().map(|t| json!({"uri_template": t.uri_template, "name": t.name})).collect::<Vec<_>>(),
                "prompts": l.prompts.iter().map(|p| json!({"name": p.name, "arguments": p.arguments.iter().map(|a| &a.name).collect::<Vec<_>>()})).collect::<Vec<_>>(),
            }),
            Err(e) => json!({ "error": e.to_string() }),
        };
        let grants = self.config.as_ref().map(|c| {
            json!({
                "plugin": c.name,
                "dirs": c.grants.dirs.iter().map(|d| json!({"guest": d.guest, "host": d.host, "read_only": d.read_only})).collect::<Vec<_>>(),
                "env": c.grants.env,
                "allow_hosts": c.grants.allow_hosts.iter().map(|h| h.to_string()).collect::<Vec<_>>(),
            })
        });
        json!({
            "size": self.size,
            "grants": grants,
            "exports": self.exports,
            "imports": self.imports.iter().map(|i| json!({"name": i.name, "policy": i.policy})).collect::<Vec<_>>(),
            "serves": listing,
        })
    }

    /// The inspection as text for a person.
    pub fn to_text(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        let _ = writeln!(out, "size: {}", crate::units::human_size(self.size));
        let _ = writeln!(out, "exports:");
        for e in &self.exports {
            let _ = writeln!(out, "  {}", printable(e));
        }
        let _ = writeln!(out, "imports:");
        for i in &self.imports {
            let _ = writeln!(out, "  {:<40} {}", printable(&i.name), i.policy);
        }
        let _ = writeln!(out, "grants:");
        match &self.config {
            None => {
                let _ = writeln!(
                    out,
                    "  none (no [plugins.NAME] entry for this file in the config)"
                );
            }
            Some(c) => {
                let _ = writeln!(out, "  from [plugins.{}]", c.name);
                for d in &c.grants.dirs {
                    let mode = if d.read_only { "ro" } else { "rw" };
                    let _ = writeln!(out, "  dir   {} = {} ({mode})", d.guest, d.host.display());
                }
                for e in &c.grants.env {
                    let _ = writeln!(out, "  env   {e}");
                }
                for h in &c.grants.allow_hosts {
                    let _ = writeln!(out, "  http  {h}");
                }
                if c.grants.dirs.is_empty()
                    && c.grants.env.is_empty()
                    && c.grants.allow_hosts.is_empty()
                {
                    let _ = writeln!(out, "  none");
                }
            }
        }
        match &self.listing {
            Ok(l) => {
                let _ = writeln!(out, "tools:");
                for t in &l.tools {
                    let task = match t.task_support {
                        TaskSupport::Forbidden => String::new(),
                        support => format!("  (task: {})", task_support(support)),
                    };
                    let _ = writeln!(
                        out,
                        "  {}  {}{task}",
                        printable(&t.name),
                        printable(t.description.as_deref().unwrap_or(""))
                    );
                }
                let _ = writeln!(out, "resources:");
                for r in &l.resources {
                    let _ = writeln!(out, "  {}", printable(&r.uri));
                }
                for t in &l.templates {
                    let _ = writeln!(out, "  {} (template)", printable(&t.uri_template));
                }
                let _ = writeln!(out, "prompts:");
                for p in &l.prompts {
                    let _ = writeln!(out, "  {}", printable(&p.name));
                }
            }
            Err(e) => {
                let _ = writeln!(out, "does not load: {}", printable(&e.to_string()));
            }
        }
        out
    }
}

/// A tool's task support as MCP spells it.
fn task_support(support: TaskSupport) -> &'static str {
    match support {
        TaskSupport::Optional => "optional",
        TaskSupport::Required => "required",
        _ => "forbidden",
    }
}
