//! The startup banner on stderr (never stdout: on stdio, stdout is the
//! protocol): what loaded, what each plugin serves, what failed, and where
//! the server listens. Shown when the log level lets `info` through.

use std::fmt::Write as _;
use std::io::Write as _;
use std::time::Duration;

use corral::{Catalog, Loaded, printable};

/// Whether banner lines are shown.
fn shown() -> bool {
    tracing::enabled!(target: "corral", tracing::Level::INFO)
}

/// One banner line.
pub fn line(text: &str) {
    if shown() {
        let _ = writeln!(std::io::stderr().lock(), "corral: {text}");
    }
}

/// The report of the first load.
pub fn loaded(reload: &Loaded, took: Duration) {
    if !shown() {
        return;
    }
    let catalog = &reload.catalog;
    let mut out = String::new();
    let count = |kind: &str| {
        catalog
            .providers()
            .iter()
            .filter(|p| p.kind() == kind)
            .count()
    };
    let mut providers = format!("{} plugin(s)", count("plugin"));
    for (kind, label) in [("upstream", "upstream(s)"), ("openapi", "OpenAPI spec(s)")] {
        match count(kind) {
            0 => {}
            n => providers.push_str(&format!(", {n} {label}")),
        }
    }
    let _ = writeln!(
        out,
        "corral {}: {providers} loaded in {}: {}, {} failed",
        env!("CARGO_PKG_VERSION"),
        corral::human_duration(took),
        counts(catalog, None),
        reload.errors.len(),
    );
    let width = catalog
        .providers()
        .iter()
        .map(|p| p.name().len())
        .max()
        .unwrap_or(0);
    for plugin in catalog.providers() {
        let _ = writeln!(
            out,
            "  {:<width$}  {}  ({})",
            plugin.name(),
            counts(catalog, Some(plugin.name())),
            printable(&plugin.origin()),
        );
    }
    for error in &reload.errors {
        let _ = writeln!(
            out,
            "  not loaded: {}",
            corral::printable(&error.to_string())
        );
    }
    let _ = std::io::stderr().lock().write_all(out.as_bytes());
}

/// "3 tools, 1 resource, ..." for the whole catalog or one plugin.
fn counts(catalog: &Catalog, plugin: Option<&str>) -> String {
    let of = |p: &str| plugin.is_none_or(|name| name == p);
    let tools = catalog.tools().filter(|s| of(s.provider.name())).count();
    let resources = catalog
        .resources()
        .filter(|s| of(s.provider.name()))
        .count();
    let templates = catalog
        .templates()
        .filter(|s| of(s.provider.name()))
        .count();
    let prompts = catalog.prompts().filter(|s| of(s.provider.name())).count();
    [
        (tools, "tool", "tools"),
        (resources, "resource", "resources"),
        (templates, "resource template", "resource templates"),
        (prompts, "prompt", "prompts"),
    ]
    .iter()
    // A plugin's line names only what it serves; the total names everything.
    .filter(|(n, ..)| plugin.is_none() || *n > 0)
    .map(|(n, one, many)| format!("{n} {}", if *n == 1 { one } else { many }))
    .collect::<Vec<_>>()
    .join(", ")
}
