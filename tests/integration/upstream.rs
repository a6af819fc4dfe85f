//! Upstream MCP servers: Corral serving the components of other MCP servers
//! (`[upstreams.NAME]`): FastMCP's reference server and Corral itself, over
//! stdio and Streamable HTTP, with prefixes, tag filters, progress,
//! cancellation, and an upstream that dies and comes back.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::harness::{
    Server, TempDir, corral, eventually, example, python_client, root, target_dir, test_plugin,
    text,
};
use crate::http::HttpServer;

/// Write `text` as `corral.toml` in `dir`; returns its path.
fn config(dir: &Path, text: &str) -> String {
    let path = dir.join("corral.toml");
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

/// A TOML array of strings.
fn toml_list(words: &[&str]) -> String {
    let quoted: Vec<String> = words.iter().map(|w| format!("{w:?}")).collect();
    format!("[{}]", quoted.join(", "))
}

/// `corral serve ARGS` as a command upstream's `command`, with the tests'
/// compile cache passed through and an empty config of its own (so that it
/// never finds the outer one).
pub(crate) fn corral_command(dir: &Path, args: &[&str]) -> String {
    let inner = dir.join("inner.toml");
    std::fs::write(&inner, "[server]\nname = \"inner\"\n").unwrap();
    let program = corral().get_program().to_str().unwrap().to_owned();
    let mut words = vec![
        program.as_str(),
        "serve",
        "--config",
        inner.to_str().unwrap(),
    ];
    words.extend(args);
    format!(
        "command = {}\nenv = [\"CORRAL_CACHE_DIR\"]\n",
        toml_list(&words)
    )
}

/// The hostile test plugin behind a Corral command upstream, with a long
/// timeout (for `sleep_forever`) and its debug log on the outer's stderr.
fn hostile_command(dir: &Path) -> String {
    let hostile = test_plugin("hostile");
    corral_command(
        dir,
        &[
            hostile.to_str().unwrap(),
            "--timeout",
            "60s",
            "--log-level",
            "info,corral=debug",
        ],
    )
}

fn names(list: &Value, key: &str) -> Vec<String> {
    list["result"][key]
        .as_array()
        .unwrap_or_else(|| panic!("no {key} in {list}"))
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect()
}

/// The interop `script` against `corral serve --config file` over stdio,
/// once in each of `modes`.
fn python_through_corral(script: &str, modes: &[&str], file: &str) {
    let corral_bin = corral().get_program().to_owned();
    for mode in modes {
        python_client(
            script,
            &[
                "--mode",
                mode,
                "--",
                corral_bin.to_str().unwrap(),
                "serve",
                "--config",
                file,
            ],
        );
    }
}

fn fastmcp_python() -> PathBuf {
    let python = target_dir().join("bench-venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run `cargo xtask test`, which creates the FastMCP venv",
        python.display()
    );
    python
}

/// The official Python client calls FastMCP's reference server through
/// Corral, in both protocol eras, with the seed workload's checks.
#[test]
fn fastmcp_reference_server_through_corral_passes_the_python_sdk_checks() {
    let dir = TempDir::new("upstream-fastmcp");
    let server = root().join("bench/fastmcp_server.py");
    let file = config(
        &dir.0,
        &format!(
            "[upstreams.fastmcp]\ncommand = {}\n",
            toml_list(&[fastmcp_python().to_str().unwrap(), server.to_str().unwrap()])
        ),
    );
    python_through_corral("mcp_client.py", &["legacy", "default"], &file);
}

/// A stdio-only server (Corral over stdio) offered over Streamable HTTP.
#[test]
fn a_stdio_server_is_bridged_to_http_and_passes_the_python_sdk_checks() {
    let dir = TempDir::new("upstream-bridge");
    let dist = root().join("plugins/dist");
    let file = config(
        &dir.0,
        &format!(
            "[upstreams.seed]\n{}",
            corral_command(&dir.0, &[dist.to_str().unwrap()])
        ),
    );
    let http = HttpServer::start("http", &["--config", &file]);
    http.await_stderr("upstream=seed");
    python_client("mcp_client.py", &["--url", &http.url("/mcp")]);
}

/// Corral over HTTP as an upstream of Corral: mounted under a prefix, its
/// components tagged, a tag filter applied, every kind forwarded.
#[test]
fn an_http_upstream_is_mounted_with_a_prefix_and_filtered_by_tags() {
    let inner = HttpServer::start("http", &[test_plugin("everything").to_str().unwrap()]);
    let dir = TempDir::new("upstream-http");
    let file = config(
        &dir.0,
        &format!(
            "[server]\nexclude_tags = [\"code\"]\n\n[upstreams.inner]\nurl = \"{}\"\nprefix = \"inner\"\ntags = [\"remote\"]\n",
            inner.url("/mcp")
        ),
    );
    let mut outer = Server::start(&["--config", &file]);
    let tools = outer.request("tools/list", json!({}));
    assert_eq!(
        names(&tools, "tools"),
        ["inner_greet", "inner_stats", "inner_red_pixel"],
        "{tools}"
    );
    assert!(
        tools["result"]["tools"][0]["_meta"]["corral"]["tags"]
            .as_array()
            .unwrap()
            .contains(&json!("remote")),
        "{tools}"
    );
    // The prompt is tagged `code`: filtered out, so exactly unknown.
    let prompts = outer.request("prompts/list", json!({}));
    assert!(names(&prompts, "prompts").is_empty(), "{prompts}");
    let greeting = outer.call_tool("inner_greet", json!({"name": "Ann"}));
    assert_eq!(text(&greeting), "Hello, Ann!");
    let stats = outer.call_tool("inner_stats", json!({"numbers": [1, 2, 3]}));
    assert_eq!(stats["structuredContent"]["sum"], 6.0, "{stats}");
    let image = outer.call_tool("inner_red_pixel", json!({}));
    assert_eq!(image["content"][0]["type"], "image", "{image}");
    let readme = outer.request("resources/read", json!({"uri": "memo://inner/readme"}));
    assert_eq!(
        readme["result"]["contents"][0]["uri"], "memo://readme",
        "{readme}"
    );
    let doc = outer.request(
        "resources/read",
        json!({"uri": "docs://inner/guide/intro?lang=fr"}),
    );
    assert_eq!(
        doc["result"]["contents"][0]["text"], "guide/intro [fr]",
        "{doc}"
    );
    // The upstream's own errors reach the client as its errors.
    let missing = outer.request("resources/read", json!({"uri": "files://inner/missing"}));
    assert!(
        missing["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("no such file")),
        "{missing}"
    );
}

/// Progress crosses the proxy; a cancelled call is cancelled upstream.
#[test]
fn progress_and_cancellation_cross_the_proxy() {
    let dir = TempDir::new("upstream-progress");
    let conformance = test_plugin("conformance");
    let file = config(
        &dir.0,
        &format!(
            "[upstreams.fixture]\n{}\n[upstreams.hostile]\n{}",
            corral_command(&dir.0, &[conformance.to_str().unwrap()]),
            hostile_command(&dir.0),
        ),
    );
    let mut outer = Server::start(&["--config", &file]);
    let id = outer.send(
        "tools/call",
        json!({"name": "test_tool_with_progress", "arguments": {}, "_meta": {"progressToken": "p1"}}),
    );
    let done = outer.wait(id);
    assert!(done["result"]["isError"].is_null(), "{done}");
    // Three reports; the last comes with the answer and may be lost
    // (rmcp hands notifications to spawned tasks), the others cannot.
    let progress = outer.notification_count("notifications/progress");
    assert!(progress >= 2, "{progress} progress notifications relayed");

    let id = outer.send(
        "tools/call",
        json!({"name": "sleep_forever", "arguments": {}}),
    );
    outer.await_stderr("calling tool `sleep_forever`");
    outer.notify(
        "notifications/cancelled",
        json!({"requestId": id, "reason": "user gave up"}),
    );
    // The inner Corral (its stderr is the outer's) interrupts the guest.
    outer.await_stderr("call cancelled");
    let echo = outer.call_tool("echo", json!({"message": "after"}));
    assert_eq!(text(&echo), "after");
}

/// An upstream that dies mid-call fails that call with a clear error, its
/// components leave the lists (list_changed), and it comes back.
#[test]
fn an_upstream_that_dies_fails_its_call_and_comes_back() {
    let hostile = test_plugin("hostile");
    let args = [
        hostile.to_str().unwrap(),
        "--timeout",
        "60s",
        "--log-level",
        "info,corral=debug",
    ];
    let inner = HttpServer::start("http", &args);
    let port = inner.port();
    let dir = TempDir::new("upstream-dies");
    let file = config(
        &dir.0,
        &format!("[upstreams.inner]\nurl = \"{}\"\n", inner.url("/mcp")),
    );
    let mut outer = Server::start(&["--config", &file]);
    assert!(names(&outer.request("tools/list", json!({})), "tools").contains(&"echo".to_owned()));
    let id = outer.send(
        "tools/call",
        json!({"name": "sleep_forever", "arguments": {}}),
    );
    inner.await_stderr("calling tool `sleep_forever`");
    drop(inner);
    let failed = outer.wait(id);
    let message = failed["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("{failed}"));
    assert!(
        message.contains("upstream `inner` is unavailable"),
        "{failed}"
    );
    eventually("the upstream's tools to leave the list", || {
        names(&outer.request("tools/list", json!({})), "tools")
            .is_empty()
            .then_some(())
    });
    // The catalog is swapped first, then clients are told.
    let changed = eventually("list_changed when it left", || {
        let n = outer.notification_count("notifications/tools/list_changed");
        (n >= 1).then_some(n)
    });
    let _back = HttpServer::start_on("http", &args, port);
    eventually("the upstream's tools to come back", || {
        names(&outer.request("tools/list", json!({})), "tools")
            .contains(&"echo".to_owned())
            .then_some(())
    });
    eventually("list_changed when it came back", || {
        (outer.notification_count("notifications/tools/list_changed") > changed).then_some(())
    });
    let echo = outer.call_tool("echo", json!({"message": "back"}));
    assert_eq!(text(&echo), "back");
}

/// A command upstream that starts Corral with the config that names it
/// would nest without end: the depth limit stops it, naming the limit.
#[test]
fn an_upstream_that_starts_itself_stops_at_the_depth_limit() {
    let dir = TempDir::new("upstream-loop");
    let program = corral().get_program().to_str().unwrap().to_owned();
    // The inner Corral finds this same corral.toml in its directory.
    config(
        &dir.0,
        &format!(
            "[upstreams.again]\ncommand = {}\nenv = [\"CORRAL_CACHE_DIR\"]\n",
            toml_list(&[&program, "serve"])
        ),
    );
    let calculator = example("calculator-rust");
    let mut outer = Server::start_in(&dir.0, &[calculator.to_str().unwrap()]);
    outer.await_stderr("upstream depth limit");
    let tools = names(&outer.request("tools/list", json!({})), "tools");
    assert!(tools.contains(&"multiply".to_owned()), "{tools:?}");
}

/// A 2026-07-28 stateless call over HTTP to a tool of an upstream that asks
/// for input: the upstream's `input_required` comes back sealed, and the
/// client's answer reaches the upstream on the next round.
#[test]
fn an_upstreams_input_rounds_reach_the_client() {
    let dir = TempDir::new("upstream-input");
    let conformance = test_plugin("conformance");
    let file = config(
        &dir.0,
        &format!(
            "[upstreams.fixture]\n{}",
            corral_command(&dir.0, &[conformance.to_str().unwrap()])
        ),
    );
    let outer = HttpServer::start("http", &["--config", &file]);
    outer.await_stderr("upstream=fixture");
    let call = |extra: Value| {
        let mut params = json!({"arguments": {}});
        params
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let answer = crate::http::tool_call_2026(
            &outer.addr,
            "test_input_required_result_elicitation",
            params,
        );
        assert!(answer["id"] == 1, "no answer: {answer}");
        answer
    };
    let first = call(json!({}));
    let result = &first["result"];
    assert_eq!(result["resultType"], "input_required", "{first}");
    let request = &result["inputRequests"]["user_name"];
    assert_eq!(request["method"], "elicitation/create", "{first}");
    let state = result["requestState"].as_str().expect("a sealed state");
    let second = call(json!({
        "inputResponses": {"user_name": {"action": "accept", "content": {"name": "Ada"}}},
        "requestState": state
    }));
    assert_eq!(
        second["result"]["content"][0]["text"], "Hello, Ada!",
        "{second}"
    );
}

/// A server of the legacy HTTP+SSE transport: Streamable HTTP fails, and
/// Corral falls back to `GET` the URL for its endpoint.
#[test]
fn a_legacy_sse_upstream_is_reached_by_falling_back() {
    let inner = HttpServer::start("sse", &[test_plugin("everything").to_str().unwrap()]);
    let dir = TempDir::new("upstream-sse");
    let file = config(
        &dir.0,
        &format!(
            "[upstreams.old]\nurl = \"{}\"\nprefix = \"old\"\n",
            inner.url("/sse")
        ),
    );
    let mut outer = Server::start(&["--config", &file]);
    let tools = names(&outer.request("tools/list", json!({})), "tools");
    assert!(tools.contains(&"old_greet".to_owned()), "{tools:?}");
    let greeting = outer.call_tool("old_greet", json!({"name": "Bo", "greeting": "Hi"}));
    assert_eq!(text(&greeting), "Hi, Bo!");
    let readme = outer.request("resources/read", json!({"uri": "memo://old/readme"}));
    assert!(
        readme["result"]["contents"][0]["text"]
            .as_str()
            .is_some_and(|t| t.contains("exports tools")),
        "{readme}"
    );
}

/// Calls forwarded to one upstream are bounded like a plugin's: past
/// `concurrency` in flight and `queue` waiting, a call is refused as busy.
#[test]
fn calls_to_an_upstream_are_bounded_by_concurrency_and_queue() {
    let dir = TempDir::new("upstream-busy");
    let file = config(
        &dir.0,
        &format!(
            "[limits]\nconcurrency = 1\nqueue = 0\n\n[upstreams.inner]\n{}",
            hostile_command(&dir.0)
        ),
    );
    let mut outer = Server::start(&["--config", &file]);
    let held = outer.send(
        "tools/call",
        json!({"name": "sleep_forever", "arguments": {}}),
    );
    outer.await_stderr("calling tool `sleep_forever`");
    let refused = outer.call_tool("echo", json!({"message": "second"}));
    assert_eq!(
        text(&refused),
        "upstream `inner` is busy: 1 calls in flight and 0 waiting (concurrency limit)",
        "{refused}"
    );
    outer.notify(
        "notifications/cancelled",
        json!({"requestId": held, "reason": "done"}),
    );
    eventually("the slot to be free again", || {
        let echo = outer.call_tool("echo", json!({"message": "after"}));
        (text(&echo) == "after").then_some(())
    });
}

/// A 2025-11-25 upstream (here a Corral reached over legacy HTTP+SSE) asks
/// for input in the middle of a call and logs: with one call in flight,
/// both reach the official Python client through the proxy; a 2026-07-28
/// client, which cannot be asked mid-call, gets a call error saying so.
#[test]
fn an_old_upstreams_mid_call_requests_and_logs_reach_the_client() {
    let inner = HttpServer::start("sse", &[test_plugin("conformance").to_str().unwrap()]);
    let dir = TempDir::new("upstream-relay");
    let file = config(
        &dir.0,
        &format!(
            "[upstreams.old]\nurl = \"{}\"\nprefix = \"old\"\n",
            inner.url("/sse")
        ),
    );
    python_through_corral("relay_client.py", &["legacy", "2026-07-28"], &file);
}

/// An upstream that keeps asking for input in the middle of one call (a
/// FastMCP server over legacy HTTP+SSE, so 2025-11-25 style) gets eight
/// answers from the client, and the ninth ask fails the call naming the
/// input round limit.
#[test]
fn an_upstream_that_keeps_asking_stops_at_the_input_round_limit() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let mut nagger = std::process::Command::new(fastmcp_python())
        .arg(root().join("tests/interop/nagging_server.py"))
        .arg(port.to_string())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    eventually("the nagging server to listen", || {
        std::net::TcpStream::connect(("127.0.0.1", port)).ok()
    });
    let dir = TempDir::new("upstream-nag");
    let file = config(
        &dir.0,
        &format!("[upstreams.nag]\nurl = \"http://127.0.0.1:{port}/sse\"\nprefix = \"nag\"\n"),
    );
    let corral_bin = corral().get_program().to_owned();
    python_client(
        "relay_client.py",
        &[
            "--nag",
            "--",
            corral_bin.to_str().unwrap(),
            "serve",
            "--config",
            &file,
        ],
    );
    let _ = nagger.kill();
    let _ = nagger.wait();
}
