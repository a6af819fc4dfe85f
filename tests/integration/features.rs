//! FastMCP-style server features: pagination and cancellation.

use serde_json::json;

use crate::harness::{Server, eventually, example, test_plugin, text};

#[test]
fn lists_are_paginated_with_opaque_cursors() {
    let calculator = example("calculator-rust");
    let everything = test_plugin("everything");
    let mut server = Server::start(&[
        calculator.to_str().unwrap(),
        everything.to_str().unwrap(),
        "--page-size",
        "2",
    ]);
    let mut names = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let params = match &cursor {
            Some(c) => json!({"cursor": c}),
            None => json!({}),
        };
        let page = server.request("tools/list", params);
        let tools = page["result"]["tools"].as_array().unwrap().clone();
        assert!(tools.len() <= 2, "{page}");
        names.extend(tools.iter().map(|t| t["name"].as_str().unwrap().to_owned()));
        pages += 1;
        match page["result"]["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(
        names,
        ["add", "multiply", "divide", "greet", "stats", "red_pixel"],
        "stable order, nothing lost or repeated"
    );
    let bad = server.request("tools/list", json!({"cursor": "not-a-cursor"}));
    assert_eq!(bad["error"]["code"], -32602, "{bad}");
}

#[test]
fn a_cancelled_call_is_interrupted_and_the_next_call_works() {
    let hostile = test_plugin("hostile");
    let mut server = Server::start(&[
        hostile.to_str().unwrap(),
        "--timeout",
        "60s",
        "--log-level",
        "info,corral=debug",
    ]);
    let id = server.send(
        "tools/call",
        json!({"name": "sleep_forever", "arguments": {}}),
    );
    eventually("the call to start", || {
        server
            .stderr_text()
            .contains("calling tool `sleep_forever`")
            .then_some(())
    });
    server.notify(
        "notifications/cancelled",
        json!({"requestId": id, "reason": "user gave up"}),
    );
    eventually("the guest to be interrupted", || {
        server
            .stderr_text()
            .contains("call cancelled")
            .then_some(())
    });
    let echo = server.call_tool("echo", json!({"message": "after"}));
    assert_eq!(text(&echo), "after");
    let pong = server.request("ping", json!({}));
    assert_eq!(pong["result"], json!({}));
    assert!(
        !server.has_response(id),
        "a cancelled call must not be answered"
    );
}

#[test]
fn arguments_are_validated_by_the_host_before_any_instance_exists() {
    let calculator = example("calculator-rust");
    let mut server = Server::start(&[
        calculator.to_str().unwrap(),
        "--log-level",
        "info,corral=debug",
    ]);
    let result = server.call_tool("multiply", json!({"a": "six", "c": 1}));
    assert_eq!(result["isError"], true, "{result}");
    let message = text(&result);
    // Every violation, each with its JSON pointer: wrong type, missing, extra.
    assert!(message.contains("/a: "), "{message}");
    assert!(
        message.contains("\"b\" is a required property"),
        "{message}"
    );
    assert!(
        message.contains("'c'") || message.contains("\"c\""),
        "{message}"
    );
    let ok = server.call_tool("multiply", json!({"a": 6, "b": 7}));
    assert_eq!(ok["structuredContent"]["result"], 42.0);
    // stderr can lag behind the answers: wait for the valid call's line.
    // Anything the invalid call logged came before it, so one line means
    // the plugin was called for the valid call only.
    server.await_stderr("calling tool `multiply`");
    assert_eq!(
        server.stderr_count("calling tool `multiply`"),
        1,
        "the plugin was called for invalid arguments:\n{}",
        server.stderr_text()
    );
}

/// The served view the Python SDK feature checks expect.
fn features_config(dir: &crate::harness::TempDir) -> String {
    // A second plugin from the timing plugin's code needs its own file.
    let waiter = dir.0.join("waiter.wasm");
    std::fs::copy(test_plugin("timing"), &waiter).unwrap();
    let config = format!(
        r#"
[server]
page_size = 2
exclude_tags = ["hidden"]
mask_error_details = true

[plugins.calc]
path = "{calc}"
prefix = "calc"

[plugins.everything]
path = "{everything}"
disabled_components = ["red_pixel"]

[plugins.hostile]
path = "{hostile}"
tags = ["hidden"]

[plugins.timing]
path = "{timing}"
limits = {{ timeout = "1s" }}

[plugins.profile]
path = "{profile}"
prefix = "prof"

# One call at a time and none waiting, so a call in flight is seen (the
# next is refused) and its end too (the next gets in): the cancellation check.
[plugins.waiter]
path = "{waiter}"
prefix = "w"
limits = {{ concurrency = 1, queue = 0, timeout = "10m" }}
"#,
        calc = example("calculator-rust").display(),
        everything = test_plugin("everything").display(),
        hostile = test_plugin("hostile").display(),
        timing = test_plugin("timing").display(),
        profile = example("profile-rust").display(),
        waiter = waiter.display(),
    );
    let path = dir.0.join("corral.toml");
    std::fs::write(&path, config).unwrap();
    path.to_str().unwrap().to_owned()
}

fn features_client(args: &[&str]) {
    crate::harness::python_client("features_client.py", args);
}

#[test]
fn python_sdk_sees_the_features_over_stdio() {
    let dir = crate::harness::TempDir::new("features-stdio");
    let config = features_config(&dir);
    let corral = env!("CARGO_BIN_EXE_corral");
    for mode in ["legacy", "default"] {
        features_client(&["--mode", mode, "--", corral, "serve", "--config", &config]);
    }
}

#[test]
fn python_sdk_sees_the_features_over_http() {
    let dir = crate::harness::TempDir::new("features-http");
    let config = features_config(&dir);
    let server = crate::http::HttpServer::start("http", &["--config", &config]);
    let url = server.url("/mcp");
    for mode in ["legacy", "default"] {
        features_client(&["--mode", mode, "--url", &url]);
    }
    let status = server.terminate();
    assert!(status.success(), "corral exited with {status}");
}
