//! Attacks on the host itself, from a plugin or a client, that do not touch
//! the guest's linear memory, fuel or clock: each fails with a named limit,
//! the host's memory stays bounded, and a normal call succeeds right after.

use std::process::Stdio;

use serde_json::{Value, json};

use crate::harness::{Server, TempDir, corral, example, peak_rss_kib, test_plugin, text};

/// The hostile plugin with a memory limit, a short deadline and a 1 MiB
/// output cap.
fn hostile_with(memory: &str) -> Server {
    let plugin = test_plugin("hostile");
    Server::start(&[
        plugin.to_str().unwrap(),
        "--memory",
        memory,
        "--timeout",
        "5s",
        "--max-output",
        "1MiB",
    ])
}

fn hostile() -> Server {
    hostile_with("32MiB")
}

fn still_serving(server: &mut Server) {
    let echo = server.call_tool("echo", json!({"message": "still here"}));
    assert_eq!(text(&echo), "still here", "{echo}");
}

/// Host-side resources a guest creates without growing its linear memory
/// are charged to its `memory` limit or capped in number: the call fails
/// naming the limit and the host's peak RSS grows by less than the limit
/// plus 8 MiB. (Before: the fields flood grew the host by gigabytes.)
#[test]
fn host_resources_a_guest_creates_are_bounded() {
    let mut server = hostile();
    still_serving(&mut server);
    let cases: &[(&str, Value, &str)] = &[
        (
            "fields_flood",
            json!({"kib": 60}),
            "memory limit of 32 MiB reached",
        ),
        (
            "request_flood",
            json!({}),
            "resource limit of 10000 host handles per call reached",
        ),
        (
            "pollable_flood",
            json!({}),
            "resource limit of 10000 host handles per call reached",
        ),
    ];
    for (tool, arguments, expected) in cases {
        let before = peak_rss_kib(server.pid());
        let result = server.call_tool(tool, arguments.clone());
        assert_eq!(result["isError"], true, "{tool}: {result}");
        assert!(
            text(&result).contains(expected),
            "{tool}: expected {expected:?}, got {result}"
        );
        let grown = peak_rss_kib(server.pid()).saturating_sub(before);
        assert!(
            grown < (32 + 8) * 1024,
            "{tool}: the host's peak RSS grew by {grown} KiB"
        );
        still_serving(&mut server);
    }
    // One header set over the fields cap ends the call on the spot.
    let result = server.call_tool("fields_flood", json!({"kib": 120}));
    assert_eq!(
        text(&result),
        "HTTP fields limit of 64 KiB per header set exceeded",
        "{result}"
    );
    still_serving(&mut server);
}

/// Everything a call returns counts against the output cap: a 30 MiB
/// elicitation message (before: forwarded to the client) and a flood of
/// empty items.
#[test]
fn the_output_cap_counts_everything_a_call_returns() {
    // Memory enough to build the answers, so only the output cap stops them.
    let mut server = hostile_with("256MiB");
    for (tool, arguments) in [
        ("huge_elicitation", json!({"mib": 30})),
        ("many_items", json!({"count": 100_000})),
    ] {
        let result = server.call_tool(tool, arguments);
        assert_eq!(result["isError"], true, "{tool}: {result}");
        assert!(
            text(&result).contains("output limit of 1 MiB exceeded"),
            "{tool}: {result}"
        );
        still_serving(&mut server);
    }
    let few = server.call_tool("many_items", json!({"count": 10}));
    assert_eq!(few["content"].as_array().map(Vec::len), Some(10), "{few}");
}

/// A call's log messages and progress notifications are bounded per call,
/// and what was dropped is reported once.
#[test]
fn log_and_progress_floods_are_cut_at_their_bounds() {
    let mut server = hostile();
    let result = server.call_tool("log_flood", json!({"count": 1500, "kib": 1}));
    assert_eq!(text(&result), "sent 1500");
    server.await_stderr("500 log messages were dropped (the limit is 1000 per call)");
    let logs = server.notification_count("notifications/message");
    assert!(logs <= 1001, "{logs} log notifications reached the client");

    let response = server.request(
        "tools/call",
        json!({"name": "progress_flood", "arguments": {"count": 1500}, "_meta": {"progressToken": "p"}}),
    );
    assert_eq!(text(&response["result"]), "sent 1500", "{response}");
    server.await_stderr("500 progress notifications were dropped (the limit is 1000 per call)");
    let progress = server.notification_count("notifications/progress");
    assert!(progress <= 1000, "{progress} progress notifications");
    still_serving(&mut server);
}

/// A URI over the length limit is refused before any matching, and a ping
/// sent behind it is answered; URIs under the limit that nearly match a
/// template are answered (not-found) too. Before: a 4 MiB URI took minutes
/// of quadratic matching on the async runtime and froze every session.
#[test]
fn long_uris_cost_nothing() {
    let mut server = Server::start(&[example("profile-rust").to_str().unwrap()]);
    let huge = format!("users://{}/profil", "4".repeat(4 << 20));
    let read = server.send("resources/read", json!({"uri": huge}));
    let ping = server.send("ping", json!({}));
    assert_eq!(server.wait(ping)["result"], json!({}));
    let answer = server.wait(read);
    let message = answer["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("at most 8192 are allowed (URI length limit)"),
        "{answer}"
    );
    let near = format!("users://{}/profil", "4".repeat(8000));
    let answer = server.request("resources/read", json!({"uri": near}));
    assert!(answer.get("error").is_some(), "{answer}");
    let read = server.request("resources/read", json!({"uri": "users://42/profile"}));
    assert!(read.get("result").is_some(), "{read}");
}

/// Arguments that violate their schema a million times cost one short error.
#[test]
fn a_flood_of_violations_costs_one_short_error() {
    let mut server = Server::start(&[test_plugin("everything").to_str().unwrap()]);
    let numbers: Vec<Value> = (0..1_000_000).map(|_| json!("x")).collect();
    let result = server.call_tool("stats", json!({ "numbers": numbers }));
    assert_eq!(result["isError"], true, "{result}");
    let message = text(&result);
    assert!(
        message.contains("and 999980 more (at most 20 are listed)"),
        "{}",
        &message[..message.len().min(2000)]
    );
    assert!(
        message.len() < 16 * 1024,
        "the error is {} bytes",
        message.len()
    );
}

/// Write a config serving `plugins` (name, path, extra TOML lines) and run
/// `corral serve --config` with `env`; it must stop with exit code 1 (a
/// plugin the config names failed to load). Returns stderr.
fn refused_at_load(plugins: &[(&str, &std::path::Path, &str)], env: &[(&str, &str)]) -> String {
    let dir = TempDir::new("refused");
    let config = dir.0.join("corral.toml");
    let mut text = String::new();
    for (name, path, extra) in plugins {
        text.push_str(&format!(
            "[plugins.{name}]\npath = \"{}\"\n{extra}\n",
            path.display()
        ));
    }
    std::fs::write(&config, text).unwrap();
    refused_at_load_with(&config, env)
}

/// `corral serve --config CONFIG` must stop with exit code 1; returns stderr.
fn refused_at_load_with(config: &std::path::Path, env: &[(&str, &str)]) -> String {
    let out = corral()
        .args(["serve", "--config", config.to_str().unwrap()])
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
        .wait_with_output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    stderr
}

/// What a plugin lists is bounded: each attack is refused at load, with
/// the bound named, and nothing it listed reaches a terminal unescaped.
#[test]
fn hostile_listings_are_refused_naming_the_bound() {
    let plugin = test_plugin("hostile-listing");
    let cases = [
        (
            "too-many",
            "lists 10001 tools, resources, templates and prompts; at most 10000 are allowed",
        ),
        ("long-name", "is 200 bytes; at most 128 are allowed"),
        ("bad-name", "contains the control character U+001B"),
        (
            "huge-description",
            "the description is 102400 bytes; at most 65536 are allowed",
        ),
        ("huge-schema", "bytes; at most 262144 are allowed"),
        (
            "escape",
            "the description contains the control character U+001B",
        ),
    ];
    for (attack, expected) in cases {
        let stderr = refused_at_load(
            &[("h", &plugin, "env = [\"HOSTILE_LISTING\"]")],
            &[("HOSTILE_LISTING", attack)],
        );
        assert!(stderr.contains(expected), "{attack}: {stderr}");
        assert!(!stderr.contains('\u{1b}'), "{attack}: raw escape on stderr");
    }
}

/// One plugin cannot take reads meant for another: a template or URI that
/// can match what another plugin serves is refused at load, naming both.
/// (Before: the last plugin loaded won, or a concrete URI beat a template.)
#[test]
fn a_plugin_cannot_shadow_another_plugins_resources() {
    let profile = example("profile-rust");
    let hostile = test_plugin("hostile-listing");
    for (attack, expected) in [
        (
            "shadow-template",
            "resource template `users://{uid}/{+rest}` overlaps the resource template `users://{user_id}/profile` (both match `users://",
        ),
        (
            "shadow-uri",
            "resource `users://42/profile` matches the resource template `users://{user_id}/profile`",
        ),
    ] {
        let stderr = refused_at_load(
            &[
                ("profile", &profile, ""),
                ("thief", &hostile, "env = [\"HOSTILE_LISTING\"]"),
            ],
            &[("HOSTILE_LISTING", attack)],
        );
        assert!(stderr.contains(expected), "{attack}: {stderr}");
        assert!(
            stderr.contains("plugin `profile`") && stderr.contains("plugin `thief`"),
            "{attack}: both plugins are named: {stderr}"
        );
    }
}

/// `corral inspect` checks the `sha256` pin and runs the plugin with no
/// grants at all (before: real grants, pin skipped).
#[test]
fn inspect_checks_the_pin_and_grants_nothing() {
    let plugin = test_plugin("hostile-listing");
    let dir = TempDir::new("inspect");
    let config = dir.0.join("corral.toml");
    let write = |extra: &str| {
        std::fs::write(
            &config,
            format!(
                "[plugins.h]\npath = \"{}\"\nenv = [\"HOSTILE_LISTING\"]\n{extra}",
                plugin.display()
            ),
        )
        .unwrap()
    };
    let inspect = || {
        corral()
            .args(["inspect", "--config", config.to_str().unwrap()])
            .arg(&plugin)
            .env("HOSTILE_LISTING", "escape")
            .output()
            .unwrap()
    };
    write("");
    let out = inspect();
    let stdout = String::from_utf8_lossy(&out.stdout);
    // With the env grant the plugin would list `escape`; without, `ok`.
    assert!(out.status.success(), "{out:?}");
    assert!(stdout.contains("  ok  An ordinary tool."), "{stdout}");
    assert!(
        stdout.contains("env   HOSTILE_LISTING"),
        "grants are shown: {stdout}"
    );

    write(&format!("sha256 = \"{}\"\n", "0".repeat(64)));
    let out = inspect();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a pin mismatch fails inspect");
    assert!(stderr.contains("sha256"), "{stderr}");
}

/// A plugin that trusts the state it is handed back relies on the host
/// alone: the state is encrypted (the client cannot read it), and it opens
/// only for the same tool with the same arguments. Tampered, replayed or
/// foreign states are refused with -32602 before the plugin runs.
#[test]
fn request_state_is_opaque_and_bound_to_the_call() {
    use crate::http::{HttpServer, tool_call_2026};
    let plugin = test_plugin("hostile");
    let server = HttpServer::start("http", &[plugin.to_str().unwrap()]);
    let call = |topic: &str, state: Option<&str>| -> Value {
        let mut params = json!({"arguments": {"topic": topic}});
        if let Some(state) = state {
            params["requestState"] = json!(state);
            params["inputResponses"] = json!({"name": {"action": "accept", "content": {}}});
        }
        let answer = tool_call_2026(&server.addr, "trusting_state", params);
        assert!(answer["id"] == 1, "no answer: {answer}");
        answer
    };
    let first = call("a", None);
    let state = first["result"]["requestState"]
        .as_str()
        .unwrap_or_else(|| panic!("no requestState in {first}"))
        .to_owned();
    assert!(!state.contains("secret"), "{state}");
    let decoded = state
        .split('.')
        .filter_map(|part| {
            use base64::Engine as _;
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(part)
                .ok()
        })
        .any(|bytes| bytes.windows(6).any(|w| w == b"secret"));
    assert!(!decoded, "the plugin's state is readable in {state}");

    let back = call("a", Some(&state));
    assert_eq!(text(&back["result"]), "state: secret-state", "{back}");

    let mut tampered = state.clone().into_bytes();
    let last = tampered.len() - 2;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    for (topic, state, why) in [
        ("b", state.as_str(), "replayed with other arguments"),
        ("a", tampered.as_str(), "tampered"),
        ("a", "c1.AAAA", "forged"),
    ] {
        let answer = call(topic, Some(state));
        assert_eq!(answer["error"]["code"], -32602, "{why}: {answer}");
        assert!(
            answer["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("requestState is invalid")),
            "{why}: {answer}"
        );
    }
}

/// Every call reserves its `memory` from the host budget first: past it a
/// call waits in its plugin's queue, then fails naming the budget, and gets
/// in once memory is given back.
#[test]
fn calls_reserve_their_memory_from_the_host_budget() {
    let sync = crate::harness::SyncDir::new("budget");
    let dir = sync.scratch();
    // Two holders (the same plugin twice) fill the 64 MiB budget, 32 MiB
    // each (a plugin's share is half of it); the waiter finds no room.
    let second = dir.join("timing-copy.wasm");
    std::fs::copy(test_plugin("timing"), &second).unwrap();
    let holder = |name: &str, path: &std::path::Path, prefix: &str| {
        format!(
            "[plugins.{name}]\npath = \"{}\"\n{prefix}dirs = {{ \"/sync\" = {{ host = \"{}\", mode = \"rw\" }} }}\n",
            path.display(),
            sync.path().display()
        )
    };
    let config = dir.join("corral.toml");
    std::fs::write(
        &config,
        format!(
            "[limits]\ntotal_memory = \"64MiB\"\nmemory = \"32MiB\"\ntimeout = \"60s\"\n\n{}{}[plugins.waiter]\npath = \"{}\"\nlimits = {{ timeout = \"1s\" }}\n",
            holder("a", &test_plugin("timing"), ""),
            holder("b", &second, "prefix = \"b\"\n"),
            test_plugin("hostile").display()
        ),
    )
    .unwrap();
    let mut server = Server::start(&["--config", config.to_str().unwrap()]);
    server.await_stderr(
        "host memory budget: 64 MiB (total_memory), at most 32 MiB for one plugin's calls",
    );
    let held = [
        server.send(
            "tools/call",
            json!({"name": "hold", "arguments": {"id": 1}}),
        ),
        server.send(
            "tools/call",
            json!({"name": "b_hold", "arguments": {"id": 2}}),
        ),
    ];
    sync.await_started(2);
    let blocked = server.call_tool("echo", json!({"message": "hi"}));
    assert_eq!(
        text(&blocked),
        "host memory budget of 64 MiB (total_memory) is in use: no room for this call's 32 MiB within its timeout of 1s",
        "{blocked}"
    );
    sync.release();
    for id in held {
        assert!(text(&server.wait(id)["result"]).starts_with("released"));
    }
    still_serving(&mut server);
}

/// A plugin whose one call could never fit its share of the budget is
/// refused at load, naming both numbers.
#[test]
fn a_plugin_larger_than_its_share_is_refused() {
    let dir = TempDir::new("over-budget");
    let config = dir.0.join("corral.toml");
    std::fs::write(
        &config,
        format!(
            "[limits]\ntotal_memory = \"64MiB\"\n\n[plugins.big]\npath = \"{}\"\nlimits = {{ memory = \"64MiB\" }}\n",
            test_plugin("timing").display()
        ),
    )
    .unwrap();
    let stderr = refused_at_load_with(&config, &[]);
    assert!(
        stderr.contains(
            "its memory limit of 64 MiB is more than a plugin's share of the host memory budget (32 MiB of 64 MiB)"
        ),
        "{stderr}"
    );
}

/// Thirty-two hostile calls at once, each flooding host memory: the host
/// keeps serving and its peak RSS stays within the budget.
#[test]
fn thirty_two_floods_at_once_stay_within_the_budget() {
    let plugin = test_plugin("hostile");
    let mut server = Server::start(&[
        plugin.to_str().unwrap(),
        "--memory",
        "32MiB",
        "--total-memory",
        "256MiB",
        "--timeout",
        "30s",
    ]);
    still_serving(&mut server);
    let before = peak_rss_kib(server.pid());
    let ids: Vec<u64> = (0..32)
        .map(|_| {
            server.send(
                "tools/call",
                json!({"name": "fields_flood", "arguments": {"kib": 60}}),
            )
        })
        .collect();
    for id in ids {
        let answer = server.wait(id);
        assert!(
            text(&answer["result"]).contains("memory limit of 32 MiB reached"),
            "{answer}"
        );
    }
    still_serving(&mut server);
    let grown = peak_rss_kib(server.pid()).saturating_sub(before);
    assert!(
        grown < 256 * 1024,
        "32 floods grew the host's peak RSS by {grown} KiB, past the 256 MiB budget"
    );
}

/// `corral dev` tries a file that failed to load again only when its
/// contents change: a later scan (another file added) does not retry it,
/// and reading files does not start scans of its own. (Before: the same
/// error every 200 ms, and a compile each time for a large component.)
#[test]
fn dev_does_not_retry_a_broken_file_until_it_changes() {
    let dir = TempDir::new("dev-broken");
    std::fs::copy(test_plugin("timing"), dir.0.join("a.wasm")).unwrap();
    let mut server = Server::start_command("dev", &[dir.0.to_str().unwrap()], &[]);
    still_listing(&mut server, "fast");
    std::fs::write(dir.0.join("broken.wasm"), b"\0asm\x0d\0\x01\0 half written").unwrap();
    server.await_stderr("broken.wasm");
    std::fs::copy(test_plugin("hostile-listing"), dir.0.join("b.wasm")).unwrap();
    server.await_stderr("reload: added");
    still_listing(&mut server, "ok");
    let errors = server
        .stderr_text()
        .lines()
        .filter(|l| l.contains("broken.wasm") && l.contains("ERROR"))
        .count();
    assert_eq!(errors, 1, "{}", server.stderr_text());
}

fn still_listing(server: &mut Server, tool: &str) {
    crate::harness::eventually("the tool to be listed", || {
        let tools = server.request("tools/list", json!({}));
        tools["result"]["tools"]
            .as_array()?
            .iter()
            .any(|t| t["name"] == tool)
            .then_some(())
    });
}

/// A plugin file over `max_plugin_size` is refused before it is read or
/// compiled (compile time grows with size).
#[test]
fn oversized_plugin_files_are_refused_before_compiling() {
    let dir = TempDir::new("max-size");
    let config = dir.0.join("corral.toml");
    std::fs::write(
        &config,
        format!(
            "[limits]\nmax_plugin_size = \"64KiB\"\n\n[plugins.big]\npath = \"{}\"\n",
            test_plugin("hostile").display()
        ),
    )
    .unwrap();
    let stderr = refused_at_load_with(&config, &[]);
    assert!(
        stderr.contains("plugin files of at most 64 KiB are loaded (max_plugin_size)"),
        "{stderr}"
    );
    assert!(!stderr.contains("compiled in"), "{stderr}");
}
