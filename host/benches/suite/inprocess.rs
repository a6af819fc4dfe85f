//! Sandbox overhead: instantiate + call + drop, in-process, no protocol;
//! and how fast a cancelled call returns.

use std::sync::Arc;
use std::time::{Duration, Instant};

use corral::{CallContext, JsonObject, Limits, PluginConfig, Provider, Runtime, WasmPlugin};

use crate::{Report, Scale, Stats, root, target_dir};

const SECTION: &str = "sandbox overhead (fresh instance per call, in-process)";

async fn load(runtime: &Runtime, path: std::path::PathBuf) -> Arc<WasmPlugin> {
    load_with(runtime, path, false).await
}

async fn load_with(runtime: &Runtime, path: std::path::PathBuf, reuse: bool) -> Arc<WasmPlugin> {
    let mut spec = PluginConfig::for_file(&path, Limits::default());
    spec.instance_reuse = reuse;
    Arc::new(
        WasmPlugin::load(runtime, &spec)
            .await
            .unwrap_or_else(|e| panic!("{e} (run `cargo xtask bench`, which builds it)")),
    )
}

async fn calls(plugin: &WasmPlugin, tool: &str, args: &str, n: usize) -> Stats {
    let ctx = CallContext::default();
    let args: JsonObject = serde_json::from_str(args).expect("arguments are a JSON object");
    let args = &args;
    for _ in 0..n.min(200) {
        plugin.call_tool(tool, args, None, &ctx).await.unwrap();
    }
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let started = Instant::now();
        let outcome = plugin.call_tool(tool, args, None, &ctx).await;
        samples.push(started.elapsed());
        outcome.unwrap();
    }
    Stats::of(samples)
}

/// Time from cancelling a running call to its return: a guest spinning in
/// compute (`spin`) and one blocked in a WASI sleep (`sleep_forever`).
async fn cancellation(plugin: &Arc<WasmPlugin>, tool: &str, n: usize) -> Stats {
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let ctx = CallContext::default();
        let cancel = ctx.cancel.clone();
        let (plugin, tool) = (plugin.clone(), tool.to_owned());
        let call = tokio::spawn(async move {
            plugin
                .call_tool(&tool, &JsonObject::new(), None, &ctx)
                .await
        });
        tokio::time::sleep(Duration::from_millis(30)).await;
        let cancelled_at = Instant::now();
        cancel.cancel();
        let outcome = call.await.expect("the call task");
        samples.push(cancelled_at.elapsed());
        assert!(outcome.is_err(), "a cancelled call must fail");
    }
    Stats::of(samples)
}

/// One tool per language, a fresh instance per call: (plugin under
/// `plugins/dist`, tool, arguments, row, whether the component is big).
const FRESH_INSTANCE_ROWS: &[(&str, &str, &str, &str, bool)] = &[
    (
        "calculator-rust.wasm",
        "multiply",
        FACTORS,
        "in-process: multiply (Rust)",
        false,
    ),
    (
        "c/calculator-c.wasm",
        "multiply",
        FACTORS,
        "in-process: multiply (C, 0.19 MB component)",
        false,
    ),
    (
        "stats-python.wasm",
        "mean",
        NUMBERS,
        "in-process: mean (Python, 18.5 MB component)",
        true,
    ),
    (
        "sdk/seed-python.wasm",
        "multiply",
        FACTORS,
        "in-process: multiply (Python SDK, 17.8 MB component)",
        true,
    ),
    (
        "sdk/seed-js.wasm",
        "multiply",
        FACTORS,
        "in-process: multiply (JavaScript SDK, 17.8 MB component)",
        true,
    ),
];
const FACTORS: &str = r#"{"a":6,"b":7}"#;
const NUMBERS: &str = r#"{"numbers":[1,2,3,4]}"#;

pub async fn run(scale: &Scale, report: &mut Report) {
    let runtime = Runtime::new().unwrap();
    let dist = root().join("plugins/dist");
    for (file, tool, arguments, row, big) in FRESH_INSTANCE_ROWS {
        let path = dist.join(file);
        if !path.exists() && file.starts_with("c/") {
            continue; // the C example exists where its toolchain built it (CI)
        }
        // A big component's call costs ~100 times a small one's: fewer calls.
        let n = if *big {
            (scale.calls / 10).max(50)
        } else {
            scale.calls
        };
        let plugin = load(&runtime, path).await;
        let s = calls(&plugin, tool, arguments, n).await;
        report.latency(SECTION, row, n, &s);
    }
    // The opt-in trade-off: one instance kept between calls.
    let calculator = load_with(&runtime, dist.join("calculator-rust.wasm"), true).await;
    let s = calls(&calculator, "multiply", FACTORS, scale.calls).await;
    report.latency(
        SECTION,
        "in-process: multiply (Rust), instance_reuse",
        scale.calls,
        &s,
    );
    let python = load_with(&runtime, dist.join("stats-python.wasm"), true).await;
    let s = calls(&python, "mean", NUMBERS, scale.calls).await;
    report.latency(
        SECTION,
        "in-process: mean (Python), instance_reuse",
        scale.calls,
        &s,
    );
    let hostile = load(&runtime, target_dir().join("test-plugins/hostile.wasm")).await;
    let n = if scale.smoke { 5 } else { 50 };
    let s = cancellation(&hostile, "spin", n).await;
    report.latency(SECTION, "cancel -> return: guest spinning", n, &s);
    let s = cancellation(&hostile, "sleep_forever", n).await;
    report.latency(SECTION, "cancel -> return: guest blocked in WASI", n, &s);
}
