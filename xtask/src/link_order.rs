//! `cargo xtask link-order`: write `host/link-order.txt`, the functions that
//! `corral serve` runs to start, list a plugin and answer a first call, over
//! stdio and over HTTP, as valgrind's callgrind saw them. `host/build.rs`
//! hands the file to the linker, which puts those functions first and
//! together, so that an idle server keeps little of its code resident.
//!
//! Symbol names carry hashes that depend on each crate's features, and the
//! two builds people run differ in them (`cargo build -p corral`, what `cargo
//! xtask demo` serves; the workspace's test build, what the tests and the
//! bench run), so both are traced and the file holds the union. Run it again
//! after changing dependencies or features; a stale file costs only layout.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, bail};

use crate::{cargo, root, run, target_dir};

/// The builds to trace: what each is, and the cargo arguments that make it.
const BUILDS: &[(&str, &[&str])] = &[
    (
        "cargo build -p corral",
        &["build", "--locked", "--release", "-p", "corral"],
    ),
    (
        "the workspace test build",
        &["test", "--locked", "--release", "--workspace", "--no-run"],
    ),
];

pub fn link_order() -> anyhow::Result<()> {
    Command::new("valgrind")
        .arg("--version")
        .output()
        .context("`cargo xtask link-order` traces with valgrind (Debian package valgrind)")?;
    let dist = root().join("plugins/dist");
    crate::build_rust_plugins(&["calculator-rust"], &dist)?;
    let work = target_dir().join("link-order");
    let _ = std::fs::remove_dir_all(&work);
    // The calculator alone in a plugin directory, and a config naming two
    // copies of it (what loading several plugins runs; a file is served once).
    let plugins = work.join("plugins");
    std::fs::create_dir_all(&plugins)?;
    std::fs::copy(
        dist.join("calculator-rust.wasm"),
        plugins.join("calculator.wasm"),
    )?;
    let config = work.join("corral.toml");
    let mut toml = "[server]\nname = \"link-order\"\n\n[limits]\ntimeout = \"5s\"\n".to_owned();
    for prefix in ["calc", "second"] {
        let copy = work.join(format!("{prefix}.wasm"));
        std::fs::copy(dist.join("calculator-rust.wasm"), &copy)?;
        toml += &format!("\n[plugins.{prefix}]\npath = {copy:?}\nprefix = \"{prefix}\"\n");
    }
    std::fs::write(&config, toml)?;
    // Per phase (start-up and a listing, a call, HTTP), each build's names.
    let mut phases: Vec<Vec<String>> = Vec::new();
    for (index, (what, args)) in BUILDS.iter().enumerate() {
        eprintln!("tracing {what}");
        // A pool of one instance (valgrind cannot reserve the whole pool);
        // everything else, symbol names included, is the normal build's.
        run(cargo().args(*args).env("CORRAL_LINK_ORDER_TRACE", "1"))?;
        let binary = work.join(format!("corral-{index}"));
        std::fs::copy(target_dir().join("release/corral"), &binary)?;
        let traces = trace(
            &binary,
            &plugins,
            &config,
            &work.join(format!("cache-{index}")),
        )?;
        phases.resize_with(traces.len(), Vec::new);
        for (phase, file) in phases.iter_mut().zip(&traces) {
            phase.extend(executed(file, &binary)?);
        }
    }
    // What an idle server ran first, then what a call adds, then HTTP: each
    // phase's code lies together, and an idle server touches only the first.
    let mut seen = std::collections::HashSet::new();
    let symbols: Vec<String> = phases
        .into_iter()
        .flatten()
        .filter(|symbol| seen.insert(symbol.clone()))
        .collect();
    if symbols.len() < 1000 {
        bail!(
            "only {} functions traced: did the traces run?",
            symbols.len()
        );
    }
    let out = root().join("host/link-order.txt");
    let header = "# The corral binary's code layout, for lld's --symbol-ordering-file (host/build.rs).\n\
                  # Written by `cargo xtask link-order` from callgrind traces: do not edit.\n";
    std::fs::write(&out, format!("{header}{}\n", symbols.join("\n")))?;
    eprintln!("wrote {} symbols to {}", symbols.len(), out.display());
    // Leave the normal builds behind (the trace builds' pool is one instance).
    for (_, args) in BUILDS {
        run(cargo().args(*args))?;
    }
    Ok(())
}

/// The stdio session traced (its first three messages are the listing
/// phase's): each request is answered before the next.
const STDIO_SESSION: &[&str] = &[
    r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"link-order","version":"1"}}}"#,
    r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
    r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#,
    r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"multiply","arguments":{"a":6,"b":7}}}"#,
];

/// Callgrind traces of `binary` serving the calculator, one per phase: a listing
/// over stdio, a listing and a call over stdio, the same over HTTP.
fn trace(
    binary: &Path,
    plugins: &Path,
    config: &Path,
    cache: &Path,
) -> anyhow::Result<Vec<PathBuf>> {
    let out = |name: &str| PathBuf::from(format!("{}-{name}.out", cache.display()));
    let callgrind = |file: &Path| -> Vec<String> {
        vec![
            "--tool=callgrind".into(),
            "--demangle=no".into(),
            format!("--callgrind-out-file={}", file.display()),
        ]
    };
    let client = |args: &[&str]| {
        let mut cmd = Command::new(binary);
        cmd.args(args).env("CORRAL_CACHE_DIR", cache);
        cmd
    };
    let plugins = plugins.to_str().context("plugin path is not UTF-8")?;
    let config = config.to_str().context("config path is not UTF-8")?;
    let stdio = |tool: &[String], serve: &[&str], session: &[&str]| -> anyhow::Result<()> {
        let mut server = Command::new("valgrind")
            .args(tool)
            .arg(binary)
            .arg("serve")
            .args(serve)
            .env("CORRAL_CACHE_DIR", cache)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .context("cannot start valgrind")?;
        let mut input = server.stdin.take().expect("piped");
        let mut answers = BufReader::new(server.stdout.take().expect("piped")).lines();
        for message in session {
            writeln!(input, "{message}")?;
            input.flush()?;
            if message.contains("\"id\"") && answers.next().transpose()?.is_none() {
                bail!("the traced stdio server ended early");
            }
        }
        drop(input);
        let status = server.wait()?;
        if !status.success() {
            bail!("the traced stdio server exited with {status}");
        }
        Ok(())
    };
    // Over stdio: a session that lists (the plugins named by the config),
    // then one that lists and calls (the plugin found in a directory).
    let sessions = [
        ("stdio-list", &["--config", config][..], &STDIO_SESSION[..3]),
        ("stdio-call", &[plugins][..], STDIO_SESSION),
    ];
    // Each run once under valgrind untraced first (its emulated CPU makes
    // another compile-cache key), so that the traces load the plugins from
    // the cache as a server does after its first start.
    for (_, serve, session) in sessions {
        stdio(&["--tool=none".into()], serve, session)?;
    }
    let mut files = Vec::new();
    for (name, serve, session) in sessions {
        let file = out(name);
        stdio(&callgrind(&file), serve, session)?;
        files.push(file);
    }
    let file = out("http");
    let mut server = Command::new("valgrind")
        .args(callgrind(&file))
        .arg(binary)
        .args([
            "serve",
            "--transport",
            "http",
            "--port",
            "0",
            "--config",
            config,
        ])
        .env("CORRAL_CACHE_DIR", cache)
        .stderr(Stdio::piped())
        .spawn()
        .context("cannot start valgrind")?;
    let mut lines = BufReader::new(server.stderr.take().expect("piped")).lines();
    let url = loop {
        let Some(line) = lines.next().transpose()? else {
            bail!("the traced server ended before it listened");
        };
        if let Some(at) = line.find("listening on ") {
            break line[at + "listening on ".len()..].trim().to_owned();
        }
    };
    // Drain stderr so that the server never blocks writing to it.
    let drain = std::thread::spawn(move || lines.for_each(drop));
    let served = run(&mut client(&["call", &url, "calc_multiply", "a=6", "b=7"]))
        .and_then(|()| run(&mut client(&["list", &url])));
    // SIGINT: a graceful shutdown, after which callgrind writes its trace.
    run(Command::new("kill").args(["-INT", &server.id().to_string()]))?;
    let status = server.wait()?;
    drain.join().expect("stderr drain");
    served?;
    if !status.success() {
        bail!("the traced HTTP server exited with {status}");
    }
    files.push(file);
    Ok(files)
}

/// The mangled names of the functions of `binary` that a callgrind trace
/// saw run, hottest first.
fn executed(trace: &Path, binary: &Path) -> anyhow::Result<Vec<String>> {
    let out = Command::new("callgrind_annotate")
        .arg("--threshold=100")
        .arg(trace)
        .output()
        .context("cannot run callgrind_annotate (it comes with valgrind)")?;
    if !out.status.success() {
        bail!("callgrind_annotate failed on {}", trace.display());
    }
    let object = format!(" [{}]", binary.display());
    let mut names = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        // "  1,234 ( 0.01%)  file:symbol [object]"
        let Some(rest) = line.strip_suffix(&object) else {
            continue;
        };
        let Some((_, symbol)) = rest.split_once(':') else {
            continue;
        };
        // Recursion levels are shown as `symbol'2`; the rest are not names
        // the linker knows (addresses without a symbol, valgrind's own).
        let symbol = symbol.split('\'').next().unwrap_or_default().trim();
        if symbol.starts_with("0x") || symbol.starts_with('(') || symbol.is_empty() {
            continue;
        }
        names.push(symbol.to_owned());
    }
    Ok(names)
}
