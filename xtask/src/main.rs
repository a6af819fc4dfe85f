//! Build orchestration: `cargo xtask <command>`.
//!
//! - `plugins`: build every example plugin into `plugins/dist/<name>.wasm`
//! - `test-plugins`: build the test plugins into `target/test-plugins/<name>.wasm`
//! - `demo`: build the examples and serve them over stdio
//! - `tidy [--no-doc]`: the rules no compiler checks (layering, file size,
//!   limits named in docs/SECURITY.md) and `cargo doc` with warnings denied
//! - `test`: everything CI checks: fmt, tidy, clippy (the host, and for
//!   `wasm32-wasip2` the SDK and every Rust plugin), plugins, unit +
//!   integration + interop + doc tests (`--locked`), every scenario of the
//!   official MCP conformance suite, and the benchmark suite in smoke mode
//! - `conformance`: the conformance suite alone
//! - `bench [--smoke]`: the benchmark suite, Corral and FastMCP side by side;
//!   prints a table and writes `target/bench/results.json`
//! - `link-order`: trace the functions `corral serve` runs to start and answer
//!   (valgrind) into `host/link-order.txt`, which lays out the binary's code
//!
//! Installs what it needs when missing: the `wasm32-wasip2` Rust target, a
//! Python venv in `target/py-venv` with componentize-py and the MCP SDK, and
//! the npm packages of the SDK, plugin and console tests.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, bail};

mod link_order;
mod tidy;

/// Rust example plugins in `plugins/` (crate name = directory name).
const RUST_EXAMPLES: &[&str] = &["calculator-rust", "profile-rust", "prompts-rust"];
/// Python example plugins in `plugins/`: (directory, WIT world).
const PYTHON_EXAMPLES: &[(&str, &str)] = &[("stats-python", "corral:mcp/tool-provider")];
/// Example plugins written with an SDK (`from corral import FastMCP`,
/// `import { FastMCP } from 'corral-sdk'`), as `DIR/FILE` under `plugins/`:
/// built by `corral build` into `plugins/dist/sdk/DIR.wasm` (apart from the
/// Rust examples, whose tools they share names with).
const SDK_EXAMPLES: &[&str] = &["seed-python/app.py", "seed-js/app.js"];
/// Test plugins written with an SDK, as `DIR/FILE` under `tests/plugins/`.
const SDK_TEST_PLUGINS: &[&str] = &["sdk-python/app.py", "sdk-js/app.ts", "canary-js/app.ts"];
/// Python test plugins in `tests/plugins/`: (directory, WIT world).
const PYTHON_TEST_PLUGINS: &[(&str, &str)] = &[("canary-python", "corral:mcp/tool-provider")];
/// Test plugins in `tests/plugins/` (crate name = directory name).
const TEST_PLUGINS: &[&str] = &[
    "hostile",
    "hostile-listing",
    "timing",
    "everything",
    "grants",
    "conformance",
    "many-tools",
    "contract-0-1-0",
];
const WASM_TARGET: &str = "wasm32-wasip2";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_owned()
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

fn run(cmd: &mut Command) -> anyhow::Result<()> {
    eprintln!("+ {cmd:?}");
    let status = cmd
        .current_dir(root())
        .status()
        .with_context(|| format!("cannot run {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed with {status}");
    }
    Ok(())
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

fn ensure_wasm_target() -> anyhow::Result<()> {
    let out = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .context("rustup is needed to install the wasm32-wasip2 target")?;
    if !String::from_utf8_lossy(&out.stdout)
        .lines()
        .any(|l| l.trim() == WASM_TARGET)
    {
        run(Command::new("rustup").args(["target", "add", WASM_TARGET]))?;
    }
    Ok(())
}

/// The Python venv with componentize-py and the MCP SDK, made on first use.
fn python_venv() -> anyhow::Result<PathBuf> {
    venv("py-venv", &root().join("tests/interop/requirements.txt"))
}

/// The venv with FastMCP (`target/bench-venv`), for `bench/fastmcp_server.py`.
fn fastmcp_venv() -> anyhow::Result<PathBuf> {
    venv("bench-venv", &root().join("bench/requirements.txt"))
}

/// A Python venv in `target/NAME` with `requirements` installed; remade
/// only when the requirements change.
fn venv(name: &str, requirements: &Path) -> anyhow::Result<PathBuf> {
    let venv = target_dir().join(name);
    let python = venv.join("bin").join("python");
    let stamp = venv.join(".corral-requirements");
    let wanted = std::fs::read_to_string(requirements)
        .with_context(|| format!("reading {}", requirements.display()))?;
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) && python.exists() {
        return Ok(python);
    }
    if !python.exists() {
        run(Command::new("python3").arg("-m").arg("venv").arg(&venv))?;
    }
    run(Command::new(&python).args(["-m", "pip", "install", "--quiet", "--upgrade", "pip"]))?;
    run(Command::new(&python)
        .args(["-m", "pip", "install", "--quiet", "-r"])
        .arg(requirements))?;
    std::fs::write(&stamp, wanted)?;
    Ok(python)
}

fn build_rust_plugins(crates: &[&str], out_dir: &Path) -> anyhow::Result<()> {
    build_rust_plugins_with(crates, out_dir, &[])
}

/// Build `crates` for the wasm target with extra environment variables
/// (which `env!`/`option_env!` in them may read) and copy them to `out_dir`.
fn build_rust_plugins_with(
    crates: &[&str],
    out_dir: &Path,
    env: &[(&str, &str)],
) -> anyhow::Result<()> {
    ensure_wasm_target()?;
    let mut cmd = cargo();
    cmd.args(["build", "--release", "--target", WASM_TARGET]);
    cmd.envs(env.iter().copied());
    for name in crates {
        cmd.args(["-p", name]);
    }
    run(&mut cmd)?;
    std::fs::create_dir_all(out_dir)?;
    for name in crates {
        let built = target_dir()
            .join(WASM_TARGET)
            .join("release")
            .join(format!("{}.wasm", name.replace('-', "_")));
        let dest = out_dir.join(format!("{name}.wasm"));
        std::fs::copy(&built, &dest)
            .with_context(|| format!("copying {} to {}", built.display(), dest.display()))?;
    }
    Ok(())
}

/// Build the Python `plugins` (directories under `sources`) with
/// componentize-py into `out_dir`, skipping those already newer than their
/// sources and the WIT.
fn build_python_plugins(
    plugins: &[(&str, &str)],
    sources: &Path,
    out_dir: &Path,
) -> anyhow::Result<()> {
    let python = python_venv()?;
    let componentize = python.with_file_name("componentize-py");
    std::fs::create_dir_all(out_dir)?;
    for (name, world) in plugins {
        let dest = out_dir.join(format!("{name}.wasm"));
        let source = sources.join(name);
        if is_newer(&dest, &[&source, &root().join("wit")]) {
            continue;
        }
        run(Command::new(&componentize)
            .args(["-d", "wit", "-w", world, "componentize", "app", "-p"])
            .arg(&source)
            .arg("-o")
            .arg(&dest))?;
    }
    Ok(())
}

/// Whether `file` exists and is newer than everything under `inputs`.
fn is_newer(file: &Path, inputs: &[&Path]) -> bool {
    fn newest(path: &Path) -> std::time::SystemTime {
        let own = path
            .metadata()
            .and_then(|m| m.modified())
            .unwrap_or(std::time::UNIX_EPOCH);
        let children = std::fs::read_dir(path)
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .filter(|e| e.file_name() != "__pycache__")
            .map(|e| newest(&e.path()));
        children.fold(own, std::cmp::max)
    }
    let Ok(built) = file.metadata().and_then(|m| m.modified()) else {
        return false;
    };
    inputs.iter().all(|input| newest(input) <= built)
}

fn plugins() -> anyhow::Result<()> {
    let dist = root().join("plugins/dist");
    build_rust_plugins(RUST_EXAMPLES, &dist)?;
    build_python_plugins(PYTHON_EXAMPLES, &root().join("plugins"), &dist)?;
    build_c_plugin(&dist.join("c"))?;
    for entry in std::fs::read_dir(&dist)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            continue;
        }
        eprintln!(
            "  {:<28} {:>10} bytes",
            entry.file_name().to_string_lossy(),
            entry.metadata()?.len()
        );
    }
    Ok(())
}

/// The C example, `plugins/calculator-c`: the seed's `multiply` against the
/// WIT alone, with bindings from `wit-bindgen c` (committed, for the frozen
/// world `corral:mcp/tool-provider`).
const C_EXAMPLE: &str = "calculator-c";

/// Build the C example into `out_dir` with Debian's clang, lld, wasi-libc and
/// wasm32 compiler-rt (a wasm32-wasi reactor), then make it a component with
/// wasm-tools (from the Python venv): embed the world, then adapt WASI
/// preview1 with the reactor adapter of wasmtime's release. Without that
/// toolchain it is skipped with a note, unless `CORRAL_REQUIRE_C=1` (CI
/// installs the toolchain and sets it) makes that an error.
fn build_c_plugin(out_dir: &Path) -> anyhow::Result<()> {
    let source = root().join("plugins").join(C_EXAMPLE);
    let dest = out_dir.join(format!("{C_EXAMPLE}.wasm"));
    if is_newer(&dest, &[&source, &root().join("wit")]) {
        return Ok(());
    }
    if let Some(missing) = missing_c_toolchain() {
        let hint = "apt-get install clang lld wasi-libc libclang-rt-14-dev-wasm32";
        if std::env::var_os("CORRAL_REQUIRE_C").is_some_and(|v| v == "1") {
            bail!("building plugins/{C_EXAMPLE}: {missing} ({hint})");
        }
        eprintln!("note: skipping plugins/{C_EXAMPLE}: {missing} ({hint})");
        return Ok(());
    }
    let work = target_dir().join("c-build");
    std::fs::create_dir_all(&work)?;
    std::fs::create_dir_all(out_dir)?;
    let core = work.join(format!("{C_EXAMPLE}.core.wasm"));
    run(Command::new("clang")
        .args(["--target=wasm32-wasi", "-O2", "-mexec-model=reactor"])
        .args(["-Wall", "-Wextra", "-Werror", "-o"])
        .arg(&core)
        .arg(source.join("calculator.c"))
        .arg(source.join("bindings/tool_provider.c")))?;
    let wasm_tools = python_venv()?.with_file_name("wasm-tools");
    let embedded = work.join(format!("{C_EXAMPLE}.embedded.wasm"));
    run(Command::new(&wasm_tools)
        .args(["component", "embed"])
        .arg(root().join("wit"))
        .args(["--world", "corral:mcp/tool-provider"])
        .arg(&core)
        .arg("-o")
        .arg(&embedded))?;
    let adapter = work.join("wasi_snapshot_preview1.reactor.wasm");
    std::fs::write(
        &adapter,
        wasi_preview1_component_adapter_provider::WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
    )?;
    run(Command::new(&wasm_tools)
        .args(["component", "new"])
        .arg(&embedded)
        .arg("--adapt")
        .arg(format!("wasi_snapshot_preview1={}", adapter.display()))
        .arg("-o")
        .arg(&dest))
}

/// What of the C toolchain is missing, if anything.
fn missing_c_toolchain() -> Option<String> {
    let query = |arg: &str| -> Option<PathBuf> {
        let out = Command::new("clang")
            .args(["--target=wasm32-wasi", arg])
            .output()
            .ok()?;
        let path = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        (out.status.success() && path.is_absolute() && path.exists()).then_some(path)
    };
    if Command::new("clang").arg("--version").output().is_err() {
        return Some("no clang".into());
    }
    if Command::new("wasm-ld").arg("--version").output().is_err() {
        return Some("no wasm-ld (lld)".into());
    }
    if query("-print-file-name=libc.a").is_none() {
        return Some("no wasi-libc for wasm32-wasi".into());
    }
    if query("-print-libgcc-file-name").is_none() {
        return Some("no compiler-rt builtins for wasm32".into());
    }
    None
}

/// Build the SDK `plugins` (`DIR/FILE` under `sources`) with `corral build`
/// into `out_dir` (the binary given, so that the SDKs inside it are this
/// checkout's), skipping those already newer than their sources, the SDK and
/// the WIT. A JavaScript plugin's npm dependencies are installed first; the
/// JavaScript build tools are installed by `corral build` itself, once, in
/// `target/build-cache`.
fn build_sdk_plugins(
    corral: &Path,
    plugins: &[&str],
    sources: &Path,
    out_dir: &Path,
) -> anyhow::Result<()> {
    let componentize = python_venv()?.with_file_name("componentize-py");
    std::fs::create_dir_all(out_dir)?;
    for plugin in plugins {
        let (dir, file) = plugin.split_once('/').expect("DIR/FILE");
        let source = sources.join(dir);
        let sdk = if file.ends_with(".py") {
            "sdk/python"
        } else {
            "sdk/js"
        };
        if sdk == "sdk/js" && source.join("package.json").exists() {
            npm_install(&source)?;
        }
        let dest = out_dir.join(format!("{dir}.wasm"));
        if is_newer(&dest, &[&source, &root().join(sdk), &root().join("wit")]) {
            continue;
        }
        run(Command::new(corral)
            .arg("build")
            .arg(source.join(file))
            .arg("-o")
            .arg(&dest)
            .env("COMPONENTIZE_PY", &componentize)
            .env("XDG_CACHE_HOME", target_dir().join("build-cache")))?;
    }
    Ok(())
}

/// `npm install` in `dir` unless its `node_modules` is newer than its
/// `package.json`.
fn npm_install(dir: &Path) -> anyhow::Result<()> {
    if is_newer(&dir.join("node_modules"), &[&dir.join("package.json")]) {
        return Ok(());
    }
    run(Command::new("npm")
        .args([
            "install",
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
            "--prefix",
        ])
        .arg(dir))
}

fn sdk_plugins(corral: &Path) -> anyhow::Result<()> {
    let dist = root().join("plugins/dist/sdk");
    build_sdk_plugins(corral, SDK_EXAMPLES, &root().join("plugins"), &dist)
}

fn test_plugins() -> anyhow::Result<()> {
    let out = target_dir().join("test-plugins");
    build_rust_plugins(TEST_PLUGINS, &out)?;
    build_python_plugins(PYTHON_TEST_PLUGINS, &root().join("tests/plugins"), &out)?;
    // Two builds of one crate for the hot-reload tests, told apart by the
    // version their tools report.
    for version in ["1", "2"] {
        build_rust_plugins_with(
            &["versioned"],
            &out,
            &[("CORRAL_TEST_PLUGIN_VERSION", version)],
        )?;
        std::fs::rename(
            out.join("versioned.wasm"),
            out.join(format!("versioned-v{version}.wasm")),
        )?;
    }
    Ok(())
}

fn corral_release() -> anyhow::Result<PathBuf> {
    run(cargo().args(["build", "--release", "-p", "corral"]))?;
    Ok(target_dir().join("release").join("corral"))
}

/// Compile the example plugins (and the Python test plugins) into the
/// tests' compile cache with `corral`,
/// so that no test waits for a cold compile of a large (Python) component
/// while a client times out on it. `corral` must be the binary the tests run
/// (the compile cache is keyed on the engine's build).
fn warm_test_cache(corral: &Path) -> anyhow::Result<()> {
    let cache = target_dir().join("test-cache");
    let mut large = Vec::new();
    for entry in std::fs::read_dir(root().join("plugins/dist"))? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "wasm") {
            large.push(path);
        }
    }
    for (name, _) in PYTHON_TEST_PLUGINS {
        large.push(target_dir().join(format!("test-plugins/{name}.wasm")));
    }
    for plugin in SDK_EXAMPLES {
        let dir = plugin.split('/').next().unwrap_or(plugin);
        large.push(root().join(format!("plugins/dist/sdk/{dir}.wasm")));
    }
    for plugin in SDK_TEST_PLUGINS {
        let dir = plugin.split('/').next().unwrap_or(plugin);
        large.push(target_dir().join(format!("test-plugins/{dir}.wasm")));
    }
    for path in large {
        run(Command::new(corral)
            .arg("inspect")
            .arg(&path)
            .env("CORRAL_CACHE_DIR", &cache)
            .stdout(std::process::Stdio::null()))?;
    }
    Ok(())
}

/// The official MCP conformance suite (needs Node 22, fetched by npx).
const CONFORMANCE: &str = "@modelcontextprotocol/conformance@0.2.0-alpha.12";
/// The conformance runs: (name, suite arguments). Every scenario of the
/// suite, each judged against the strict baseline, so that none can regress
/// unseen. (`--requirements` runs only what one spec revision requires and
/// ignores the scenarios it does not score.) `--suite all` runs the
/// scenarios of 2025-11-25 at that wire and the newer and extension ones at
/// 2026-07-28; the second run takes every scenario that applies to
/// 2026-07-28 at that wire. Together they cover both requirement sets.
const CONFORMANCE_RUNS: &[(&str, &[&str])] = &[
    ("all", &["--suite", "all"]),
    (
        "all-2026-07-28",
        &["--suite", "all", "--spec-version", "2026-07-28"],
    ),
];

/// Run the official conformance suite against `corral serve --transport http`
/// with the conformance fixture plugin: every scenario, at both wires, with
/// the strict expected-failures baseline.
fn conformance() -> anyhow::Result<()> {
    build_rust_plugins(&["conformance"], &target_dir().join("test-plugins"))?;
    run_conformance_to(&corral_release()?, None)
}

/// `conformance` of the pinned suite, on Node 22, through npx.
fn conformance_npx() -> Command {
    let mut npx = Command::new("npx");
    npx.args(["-y", "-p", "node@22", "-p", CONFORMANCE, "conformance"]);
    npx
}

/// Fetch what `run_conformance_to` runs with npx, ahead of time; a failure
/// here only means the run fetches it itself (and reports any error).
fn prefetch_conformance() {
    let fetched = conformance_npx()
        .arg("--help")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
    if !fetched.is_ok_and(|status| status.success()) {
        eprintln!("(could not fetch the conformance suite ahead of time; the run will)");
    }
}

/// Run the suite; the output of its runs goes to `out` when given,
/// else to this process's own.
fn run_conformance_to(corral: &Path, out: Option<std::fs::File>) -> anyhow::Result<()> {
    use std::io::{BufRead, BufReader};
    let mut server = Command::new(corral)
        .arg("serve")
        .arg(target_dir().join("test-plugins/conformance.wasm"))
        .args(["--transport", "http", "--port", "0"])
        .env("CORRAL_CACHE_DIR", target_dir().join("test-cache"))
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .context("starting corral")?;
    let stderr = server.stderr.take().expect("piped stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    let log_path = target_dir().join("conformance-server.log");
    std::thread::spawn(move || {
        let mut log = std::fs::File::create(log_path).ok();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("listening on ").nth(1) {
                let _ = tx.send(rest.trim().to_owned());
            }
            if let Some(log) = log.as_mut() {
                use std::io::Write;
                let _ = writeln!(log, "{line}");
            }
        }
    });
    let url = rx
        .recv_timeout(std::time::Duration::from_secs(120))
        .context("corral did not start listening")?;
    let result = (|| {
        for (name, selection) in CONFORMANCE_RUNS {
            let mut npx = conformance_npx();
            if let Some(out) = &out {
                npx.stdout(out.try_clone()?).stderr(out.try_clone()?);
            }
            run(npx
                .arg("server")
                .args(["--url", &url])
                .args(*selection)
                .arg("--expected-failures")
                .arg(root().join("tests/conformance/expected-failures.yml"))
                .arg("-o")
                .arg(target_dir().join("conformance").join(name)))?;
        }
        Ok(())
    })();
    let _ = server.kill();
    let _ = server.wait();
    result
}

fn demo() -> anyhow::Result<()> {
    plugins()?;
    let corral = corral_release()?;
    sdk_plugins(&corral)?;
    eprintln!(
        "\nServing plugins/dist over stdio. Connect an MCP client, or type JSON-RPC lines; Ctrl-D ends.\n"
    );
    run(Command::new(corral)
        .arg("serve")
        .arg(root().join("plugins/dist")))
}

fn test() -> anyhow::Result<()> {
    let started = Instant::now();
    // The Python venvs download and install while the Rust checks compile:
    // on a fresh machine that is minutes of waiting on the network saved.
    // They are joined before anything uses them (the Python plugins).
    let venvs = std::thread::spawn(|| -> anyhow::Result<()> {
        python_venv()?;
        // FastMCP's reference server: the benchmarks' baseline, and an
        // upstream the integration tests proxy.
        fastmcp_venv()?;
        // Node 22 and the conformance suite, into npx's cache (the run
        // itself comes much later and then only reads the cache).
        prefetch_conformance();
        // playwright-core, which drives Chromium in the console's test.
        npm_install(&root().join("tests/ui"))?;
        Ok(())
    });
    run(cargo().args(["fmt", "--all", "--", "--check"]))?;
    tidy::tidy(true)?;
    run(cargo().args([
        "clippy",
        "--locked",
        "--release",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    clippy_wasm()?;
    venvs
        .join()
        .map_err(|_| anyhow::anyhow!("making the Python venvs panicked"))??;
    sdk_tests()?;
    plugins()?;
    test_plugins()?;
    // Build the tests (and the corral binary they run) once, warm the compile
    // cache with that very binary, then test with it.
    run(cargo().args(["test", "--locked", "--release", "--workspace", "--no-run"]))?;
    let corral = target_dir().join("release").join("corral");
    sdk_plugins(&corral)?;
    build_sdk_plugins(
        &corral,
        SDK_TEST_PLUGINS,
        &root().join("tests/plugins"),
        &target_dir().join("test-plugins"),
    )?;
    warm_test_cache(&corral)?;
    // The tests' own compile cache, for the doc examples that load plugins.
    run(cargo()
        .args(["test", "--locked", "--release", "--workspace"])
        .env("CORRAL_CACHE_DIR", target_dir().join("test-cache")))?;
    // The conformance suite beside the benchmark smoke run: independent
    // (each starts its own servers on free ports), and neither is timed.
    // The suite's output goes to a log, printed once both are done.
    let log = target_dir().join("conformance-suite.log");
    let conformance = {
        let (corral, log) = (corral.clone(), log.clone());
        std::thread::spawn(move || -> anyhow::Result<()> {
            let out = std::fs::File::create(&log)
                .with_context(|| format!("cannot create {}", log.display()))?;
            run_conformance_to(&corral, Some(out))
        })
    };
    // The benchmark suite in smoke mode: only that every part still runs.
    let benched = bench(true, Some(&corral));
    let conformed = conformance
        .join()
        .map_err(|_| anyhow::anyhow!("the conformance run panicked"))?;
    eprintln!("\n--- the conformance suite ({}) ---", log.display());
    if let Ok(text) = std::fs::read_to_string(&log) {
        eprint!("{text}");
    }
    benched?;
    conformed?;
    eprintln!("all checks passed in {:.0?}", started.elapsed());
    Ok(())
}

/// The SDKs' own tests: Python under CPython with FastMCP beside it (the
/// parity test compares the two on the same file), JavaScript under Node
/// with zod.
fn sdk_tests() -> anyhow::Result<()> {
    run(Command::new(fastmcp_venv()?)
        .args(["-m", "unittest", "discover", "-s"])
        .arg(root().join("sdk/python/tests"))
        .env("PYTHONDONTWRITEBYTECODE", "1"))?;
    let js = root().join("sdk/js");
    npm_install(&js)?;
    run(Command::new("node").arg("--test").arg(js.join("test")))
}

/// Clippy for `wasm32-wasip2` on the guest side: the SDK (whose wasm-only
/// code the host-target clippy never sees) and every Rust plugin crate.
fn clippy_wasm() -> anyhow::Result<()> {
    ensure_wasm_target()?;
    let mut cmd = cargo();
    cmd.args(["clippy", "--locked", "--release", "--target", WASM_TARGET]);
    for name in ["corral-sdk"]
        .iter()
        .chain(RUST_EXAMPLES)
        .chain(TEST_PLUGINS)
        .chain(&["versioned"])
    {
        cmd.args(["-p", name]);
    }
    run(cmd.args(["--", "-D", "warnings"]))
}

/// The benchmark suite (`--smoke`: tiny counts, only checks it all works).
/// `corral`: a binary of this checkout to build the SDK examples with; the
/// release binary is built when there is none.
fn bench(smoke: bool, corral: Option<&Path>) -> anyhow::Result<()> {
    plugins()?;
    test_plugins()?;
    let built;
    let corral = match corral {
        Some(path) => path,
        None => {
            // The binary of the workspace test build, which the bench build
            // below shares every artifact with.
            run(cargo().args(["test", "--locked", "--release", "--workspace", "--no-run"]))?;
            built = target_dir().join("release").join("corral");
            &built
        }
    };
    sdk_plugins(corral)?;
    let python = fastmcp_venv()?;
    // `cargo test --release --workspace` of the bench target: the bench
    // profile would rebuild every dependency once more (same settings,
    // another directory), and `-p corral` would too (the workspace unifies
    // wasmtime's features differently), so it shares the test build's.
    let mut cmd = cargo();
    cmd.args([
        "test",
        "--locked",
        "--release",
        "--workspace",
        "--bench",
        "suite",
    ])
    .env("CORRAL_BENCH_PYTHON", python);
    if smoke {
        cmd.env("CORRAL_BENCH_SMOKE", "1");
    }
    run(&mut cmd)
}

fn main() -> anyhow::Result<()> {
    let command = std::env::args().nth(1).unwrap_or_default();
    let smoke = std::env::args().any(|a| a == "--smoke");
    let no_doc = std::env::args().any(|a| a == "--no-doc");
    match command.as_str() {
        "bench" => bench(smoke, None),
        "plugins" => plugins(),
        "test-plugins" => test_plugins(),
        "demo" => demo(),
        "tidy" => tidy::tidy(!no_doc),
        "test" => test(),
        "conformance" => conformance(),
        "link-order" => link_order::link_order(),
        _ => {
            eprintln!(
                "usage: cargo xtask <plugins|test-plugins|demo|tidy [--no-doc]|test|conformance|bench [--smoke]|link-order>\n\n\
                 plugins       build the example plugins into plugins/dist/\n\
                 test-plugins  build the test plugins into target/test-plugins/\n\
                 demo          build the examples and serve them over stdio\n\
                 tidy          layering, file sizes, limits named in docs/SECURITY.md,\n\
                               cargo doc with warnings denied (--no-doc: skip it)\n\
                 test          fmt, tidy, clippy, build plugins, run every test\n\
                 conformance   the official MCP conformance suite over HTTP\n\
                 bench         the benchmark suite, Corral and FastMCP side by side\n\
                               (--smoke: tiny counts, checks that it runs)\n\
                 link-order    trace what `corral serve` runs (valgrind) into\n\
                               host/link-order.txt, the binary's code layout"
            );
            std::process::exit(2);
        }
    }
}
