//! The Python and JavaScript SDKs through the real binary. The FastMCP seed
//! file with only its import changed (`plugins/seed-python`, built by
//! `corral build`) passes the seed checks of the official Python client and
//! lists and answers what FastMCP itself does for the same file; the Python
//! SDK's context, errors and types reach a client in both protocol eras. The
//! JavaScript port of the seed (`plugins/seed-js`, FastMCP-TS style) passes
//! the same checks. And a plugin in C (`plugins/calculator-c`), written
//! against the WIT alone, serves `multiply`.

use serde_json::{Value, json};

use crate::harness::{
    Server, TempDir, corral, example, python_client, root, target_dir, test_plugin, text,
};
use crate::http::HttpServer;

fn seed() -> String {
    example("sdk/seed-python").to_str().unwrap().to_owned()
}

fn seed_js() -> String {
    example("sdk/seed-js").to_str().unwrap().to_owned()
}

fn corral_bin() -> String {
    corral().get_program().to_str().unwrap().to_owned()
}

/// The seed checks of `mcp_client.py` against `plugin`, over stdio and
/// over Streamable HTTP, in both protocol eras.
fn passes_the_seed_checks(plugin: &str) {
    let seed_tools = ["--tools", "multiply,divide"];
    for mode in ["legacy", "default"] {
        let mut args = vec!["--mode", mode];
        args.extend(seed_tools);
        let corral = corral_bin();
        args.extend(["--", &corral, "serve", plugin]);
        python_client("mcp_client.py", &args);
    }
    let server = HttpServer::start("http", &[plugin]);
    let url = server.url("/mcp");
    for mode in ["legacy", "default"] {
        let mut args = vec!["--mode", mode];
        args.extend(seed_tools);
        args.extend(["--url", &url]);
        python_client("mcp_client.py", &args);
    }
    let status = server.terminate();
    assert!(status.success(), "corral exited with {status}");
}

#[test]
fn the_python_seed_passes_the_seed_checks_over_stdio_and_http() {
    passes_the_seed_checks(&seed());
}

#[test]
fn the_javascript_seed_passes_the_seed_checks_over_stdio_and_http() {
    passes_the_seed_checks(&seed_js());
}

/// The acceptance check of the SDK: the same file, served by Corral (built
/// with `corral build`) and by FastMCP (its import changed back), lists the
/// same tools, resources, templates and prompts field by field, and answers
/// the seed's calls with the same content.
#[test]
fn the_python_seed_lists_and_answers_what_fastmcp_does_for_the_same_file() {
    let dir = TempDir::new("python-seed-fastmcp");
    let source = std::fs::read_to_string(root().join("plugins/seed-python/app.py")).unwrap();
    assert!(source.contains("from corral import FastMCP"), "{source}");
    let fastmcp_file = dir.0.join("app.py");
    std::fs::write(&fastmcp_file, source.replace("from corral", "from fastmcp")).unwrap();
    let fastmcp_python = target_dir().join("bench-venv/bin/python");
    let a = serde_json::to_string(&[corral_bin(), "serve".into(), seed()]).unwrap();
    let b = serde_json::to_string(&[
        fastmcp_python.to_str().unwrap(),
        fastmcp_file.to_str().unwrap(),
    ])
    .unwrap();
    python_client(
        "compare_servers.py",
        &[
            "--a",
            &a,
            "--b",
            &b,
            "--call",
            r#"["tool", "multiply", {"a": 6, "b": 7}]"#,
            "--call",
            r#"["tool", "divide", {"a": 1, "b": 4}]"#,
            "--call",
            r#"["tool", "divide", {"a": 1, "b": 0}]"#,
            "--call",
            r#"["resource", "data://config"]"#,
            "--call",
            r#"["resource", "users://42/profile"]"#,
            "--call",
            r#"["prompt", "analyze_data", {"data_points": "[1.5, 2.5, 3]"}]"#,
        ],
    );
}

/// The SDKs' context (logs, progress, asking the user twice), errors and
/// types, through the official client in both protocol eras: the same
/// checks for `tests/plugins/sdk-python` and for `tests/plugins/sdk-js`
/// (TypeScript).
#[test]
fn the_sdk_context_errors_and_types_reach_a_client_in_both_eras() {
    for name in ["sdk-python", "sdk-js"] {
        let plugin = test_plugin(name);
        for mode in ["legacy", "2026-07-28"] {
            python_client(
                "sdk_client.py",
                &[
                    "--mode",
                    mode,
                    "--",
                    &corral_bin(),
                    "serve",
                    plugin.to_str().unwrap(),
                ],
            );
        }
    }
}

/// `@mcp.tool(task=True)` (Python) and `task: true` (JavaScript) declare a
/// tool task-capable (`optional`).
#[test]
fn a_tool_declared_with_task_true_may_run_as_a_task() {
    for name in ["sdk-python", "sdk-js"] {
        let plugin = test_plugin(name);
        let out = corral()
            .args(["inspect", "--json", plugin.to_str().unwrap()])
            .output()
            .unwrap();
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        let task = |tool: &str| {
            report["serves"]["tools"]
                .as_array()
                .unwrap()
                .iter()
                .find(|t| t["name"] == tool)
                .map(|t| t["task"].clone())
                .unwrap_or_else(|| panic!("no tool {tool} in {report}"))
        };
        assert_eq!(task("slow_sum"), "optional", "{name}");
        assert_eq!(task("order"), "forbidden", "{name}");
    }
}

/// A mistake in a plugin (a signature the SDK cannot describe) fails the
/// build with the SDK's message, naming the tool and the parameter.
#[test]
fn corral_build_refuses_a_signature_it_cannot_describe() {
    let dir = TempDir::new("python-build-error");
    let file = dir.0.join("app.py");
    std::fs::write(
        &file,
        "from corral import FastMCP\nmcp = FastMCP('x')\n\n@mcp.tool\ndef total(*values: float) -> float:\n    return sum(values)\n",
    )
    .unwrap();
    let componentize = target_dir().join("py-venv/bin/componentize-py");
    let out = corral()
        .arg("build")
        .arg(&file)
        .env("COMPONENTIZE_PY", &componentize)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("tool 'total': *args and **kwargs are not supported (parameter 'values')"),
        "{stderr}"
    );
    assert!(!dir.0.join("app.wasm").exists());
}

/// A language with no SDK: `plugins/calculator-c`, C against bindings that
/// `wit-bindgen c` generates from the WIT, built by xtask with clang and
/// wasi-libc. Where that toolchain is missing xtask skips the plugin and this
/// test says so; CI installs it and sets `CORRAL_REQUIRE_C=1`, which makes a
/// missing plugin a failure.
#[test]
fn a_c_plugin_built_from_the_wit_alone_serves_multiply() {
    let plugin = root().join("plugins/dist/c/calculator-c.wasm");
    if !plugin.exists() {
        assert!(
            std::env::var_os("CORRAL_REQUIRE_C").is_none_or(|v| v != "1"),
            "{} is missing: run `cargo xtask plugins` with clang, lld and wasi-libc installed",
            plugin.display()
        );
        eprintln!("skipped: no C toolchain, so no {}", plugin.display());
        return;
    }
    let mut server = Server::start(&[plugin.to_str().unwrap()]);
    let list = server.request("tools/list", json!({}));
    let multiply = &list["result"]["tools"][0];
    assert_eq!(multiply["name"], "multiply", "{list}");
    assert_eq!(multiply["inputSchema"]["required"], json!(["a", "b"]));
    assert_eq!(multiply["outputSchema"]["x-fastmcp-wrap-result"], true);
    assert_eq!(multiply["annotations"]["readOnlyHint"], true);

    let product = server.call_tool("multiply", json!({"a": 6, "b": 7}));
    assert_eq!(text(&product), "42");
    assert_eq!(product["structuredContent"]["result"].as_f64(), Some(42.0));
    let inexact = server.call_tool("multiply", json!({"a": 0.1, "b": 3}));
    assert_eq!(text(&inexact), "0.30000000000000004");
    assert_eq!(server.notification_count("notifications/message"), 2);

    // The host checks arguments against the plugin's schema before the call.
    let refused = server.call_tool("multiply", json!({"a": "x", "b": 1}));
    assert_eq!(refused["isError"], true, "{refused}");
    assert!(text(&refused).contains("/a"), "{refused}");
    server.shutdown();
}

/// The JavaScript SDK runs each tool's call path before the build's snapshot
/// (so that a fresh instance does not compile it again), but never the tool:
/// a tool that counts its runs in module state answers 1 on every call, each
/// in a fresh instance of the snapshot.
#[test]
fn the_javascript_sdk_compiles_its_call_path_without_running_a_tool() {
    let plugin = test_plugin("sdk-js");
    let mut server = Server::start(&[plugin.to_str().unwrap()]);
    for arguments in [json!({}), json!({"step": 1}), json!({})] {
        let result = server.call_tool("runs", arguments);
        assert_eq!(text(&result), "1", "{result}");
    }
}
