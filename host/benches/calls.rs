//! Per-call cost of the sandbox, in-process and through the real binary over
//! stdio. Prints a table; run with `cargo bench -p corral --bench calls`.
//! Needs the example plugins: `cargo xtask plugins`.
//!
//! `CORRAL_BENCH_CALLS` sets the number of calls per row (default 10000).

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use corral::{CallContext, Limits, PluginConfig, Runtime, WasmPlugin};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

fn calls() -> usize {
    std::env::var("CORRAL_BENCH_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000)
}

struct Stats {
    p50: Duration,
    p99: Duration,
    mean: Duration,
}

fn stats(mut samples: Vec<Duration>) -> Stats {
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q) as usize];
    Stats {
        p50: at(0.5),
        p99: at(0.99),
        mean: samples.iter().sum::<Duration>() / samples.len() as u32,
    }
}

fn row(name: &str, n: usize, s: &Stats) {
    println!(
        "{name:<44} {n:>7} {:>10.1} {:>10.1} {:>10.1}",
        s.p50.as_secs_f64() * 1e6,
        s.p99.as_secs_f64() * 1e6,
        s.mean.as_secs_f64() * 1e6
    );
}

async fn in_process(runtime: &Runtime, plugin: &str, tool: &str, args: &str, n: usize) -> Stats {
    let path = root().join("plugins/dist").join(format!("{plugin}.wasm"));
    let spec = PluginConfig::for_file(&path, Limits::default());
    let plugin = WasmPlugin::load(runtime, &spec)
        .await
        .unwrap_or_else(|e| panic!("{e} (run `cargo xtask plugins`)"));
    let ctx = CallContext::default();
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
    stats(samples)
}

/// Time from cancelling a running call to its return, for a guest spinning in
/// compute (`spin`: stopped at the next epoch yield) and one blocked in a
/// WASI sleep (`sleep_forever`: its future is dropped).
async fn cancellation(runtime: &Runtime, tool: &str, n: usize) -> Stats {
    let path = root().join("target/test-plugins/hostile.wasm");
    let spec = PluginConfig::for_file(&path, Limits::default());
    let plugin = std::sync::Arc::new(
        WasmPlugin::load(runtime, &spec)
            .await
            .unwrap_or_else(|e| panic!("{e} (run `cargo xtask test-plugins`)")),
    );
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let ctx = CallContext::default();
        let cancel = ctx.cancel.clone();
        let (plugin, tool) = (plugin.clone(), tool.to_owned());
        // The call runs in its own task; the cancel comes from this one.
        let call = tokio::spawn(async move { plugin.call_tool(&tool, "{}", None, &ctx).await });
        tokio::time::sleep(Duration::from_millis(30)).await;
        let cancelled_at = Instant::now();
        cancel.cancel();
        let outcome = call.await.expect("the call task");
        samples.push(cancelled_at.elapsed());
        assert!(outcome.is_err(), "a cancelled call must fail");
    }
    stats(samples)
}

fn over_stdio(n: usize) -> Stats {
    let corral = root().join("target/release/corral");
    let mut child = Command::new(&corral)
        .arg("serve")
        .arg(root().join("plugins/dist/calculator-rust.wasm"))
        .arg("--log-level")
        .arg("warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {}: {e}", corral.display()));
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    let mut roundtrip = |message: &str| {
        writeln!(stdin, "{message}").unwrap();
        stdin.flush().unwrap();
        line.clear();
        stdout.read_line(&mut line).unwrap();
        assert!(line.contains("\"result\""), "{line}");
    };
    roundtrip(
        r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"bench","version":"0"}}}"#,
    );
    let mut samples = Vec::with_capacity(n);
    for i in 0..n {
        let message = format!(
            r#"{{"jsonrpc":"2.0","id":{},"method":"tools/call","params":{{"name":"multiply","arguments":{{"a":6,"b":7}}}}}}"#,
            i + 1
        );
        let started = Instant::now();
        roundtrip(&message);
        samples.push(started.elapsed());
    }
    drop(stdin);
    let _ = child.wait();
    stats(samples)
}

fn main() {
    let n = calls();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    println!(
        "{:<44} {:>7} {:>10} {:>10} {:>10}",
        "per call (fresh instance each)", "calls", "p50 µs", "p99 µs", "mean µs"
    );
    rt.block_on(async {
        let runtime = Runtime::new().unwrap();
        let s = in_process(
            &runtime,
            "calculator-rust",
            "multiply",
            r#"{"a":6,"b":7}"#,
            n,
        )
        .await;
        row("in-process: multiply (Rust)", n, &s);
        let python_calls = (n / 10).max(100);
        let s = in_process(
            &runtime,
            "stats-python",
            "mean",
            r#"{"numbers":[1,2,3,4]}"#,
            python_calls,
        )
        .await;
        row("in-process: mean (Python)", python_calls, &s);
        let s = cancellation(&runtime, "spin", 50).await;
        row("cancel -> return: spinning guest", 50, &s);
        let s = cancellation(&runtime, "sleep_forever", 50).await;
        row("cancel -> return: guest blocked in WASI", 50, &s);
    });
    let s = over_stdio(n);
    row("stdio round trip: multiply (real binary)", n, &s);
}
