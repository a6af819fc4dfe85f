//! `corral dev`: plugins added, changed and removed on disk are picked up
//! while a client stays connected; a half-written file never replaces a
//! working version; a call in flight finishes on the version it started on.

use std::path::Path;

use serde_json::{Value, json};

use crate::harness::{Server, SyncDir, TempDir, corral, eventually, example, test_plugin, text};

fn dev(dir: &Path) -> Server {
    Server::start_command(
        "dev",
        &[dir.to_str().unwrap(), "--log-level", "info,corral=debug"],
        &[],
    )
}

/// Like `eventually`, but a timeout shows the server's stderr.
fn until<T>(server: &Server, what: &str, mut check: impl FnMut(&Server) -> Option<T>) -> T {
    let deadline = std::time::Instant::now() + crate::harness::DEADLINE;
    loop {
        if let Some(value) = check(server) {
            return value;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}; stderr:\n{}",
            server.stderr_text()
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

fn version(server: &mut Server) -> String {
    text(&server.call_tool("version", json!({}))).to_owned()
}

fn tool_names(server: &mut Server) -> Vec<String> {
    let list = server.request("tools/list", json!({}));
    list["result"]["tools"]
        .as_array()
        .unwrap_or_else(|| panic!("{list}"))
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect()
}

fn list_changed_count(server: &Server) -> usize {
    server.notification_count("notifications/tools/list_changed")
}

fn logged(server: &Server, what: &[&str]) -> bool {
    server
        .stderr
        .lock()
        .unwrap()
        .iter()
        .any(|l| what.iter().all(|w| l.contains(w)))
}

#[test]
fn added_changed_and_removed_plugins_reach_a_connected_client() {
    let dir = TempDir::new("dev-reload");
    let plugin = dir.0.join("versioned.wasm");
    std::fs::copy(test_plugin("versioned-v1"), &plugin).unwrap();
    let mut server = dev(&dir.0);
    assert_eq!(
        server.initialize_result["capabilities"]["tools"]["listChanged"], true,
        "{}",
        server.initialize_result
    );
    assert_eq!(version(&mut server), "1");

    // Added: a new file in the directory.
    std::fs::copy(example("calculator-rust"), dir.0.join("calculator.wasm")).unwrap();
    until(&server, "list_changed after an added plugin", |server| {
        (list_changed_count(server) >= 1).then_some(())
    });
    assert!(tool_names(&mut server).contains(&"multiply".to_owned()));
    let product = server.call_tool("multiply", json!({"a": 6, "b": 7}));
    assert_eq!(product["structuredContent"]["result"], 42.0);

    // Changed: the same file, rewritten with a new build.
    std::fs::write(&plugin, std::fs::read(test_plugin("versioned-v2")).unwrap()).unwrap();
    eventually("the new version to answer", || {
        (version(&mut server) == "2").then_some(())
    });

    // Removed.
    let before = list_changed_count(&server);
    std::fs::remove_file(dir.0.join("calculator.wasm")).unwrap();
    until(&server, "list_changed after a removed plugin", |server| {
        (list_changed_count(server) > before).then_some(())
    });
    assert!(!tool_names(&mut server).contains(&"multiply".to_owned()));
    let gone = server.request(
        "tools/call",
        json!({"name": "multiply", "arguments": {"a": 1, "b": 1}}),
    );
    assert!(gone.get("error").is_some(), "{gone}");
    assert_eq!(version(&mut server), "2");
}

#[test]
fn a_half_written_file_never_replaces_the_working_version() {
    let dir = TempDir::new("dev-truncated");
    let plugin = dir.0.join("versioned.wasm");
    std::fs::copy(test_plugin("versioned-v1"), &plugin).unwrap();
    let mut server = dev(&dir.0);
    assert_eq!(version(&mut server), "1");

    // A writer that stops half way (long enough for a reload to run).
    let v2 = std::fs::read(test_plugin("versioned-v2")).unwrap();
    let (head, tail) = v2.split_at(v2.len() / 2);
    std::fs::write(&plugin, head).unwrap();
    until(&server, "the half-written file to be refused", |server| {
        logged(server, &["reload:", "versioned.wasm", "invalid component"]).then_some(())
    });
    assert_eq!(version(&mut server), "1", "the old version keeps serving");
    assert!(!logged(&server, &["reload: reloaded"]));

    // The writer finishes.
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&plugin)
        .unwrap();
    std::io::Write::write_all(&mut file, tail).unwrap();
    drop(file);
    eventually("the complete file to load", || {
        (version(&mut server) == "2").then_some(())
    });

    // Garbage in a new file is reported and changes nothing.
    std::fs::write(dir.0.join("garbage.wasm"), b"not wasm at all").unwrap();
    until(&server, "the garbage file to be reported", |server| {
        logged(server, &["garbage.wasm", "not a WebAssembly file"]).then_some(())
    });
    assert_eq!(version(&mut server), "2");
}

#[test]
fn a_call_in_flight_during_a_swap_finishes_on_its_version() {
    let sync = SyncDir::new("dev-in-flight");
    let dir = sync.scratch().join("plugins");
    std::fs::create_dir(&dir).unwrap();
    let plugin = dir.join("versioned.wasm");
    std::fs::copy(test_plugin("versioned-v1"), &plugin).unwrap();
    let config = sync.config("versioned", &plugin, "");
    let mut server = Server::start_command(
        "dev",
        &["--config", &config, "--log-level", "info,corral=debug"],
        &[],
    );
    // A call that holds until the test releases it, so the swap happens
    // while it is in flight however long the new version takes to load.
    let id = server.send(
        "tools/call",
        json!({"name": "hold_version", "arguments": {"id": 1}}),
    );
    sync.await_started(1);
    std::fs::write(&plugin, std::fs::read(test_plugin("versioned-v2")).unwrap()).unwrap();
    eventually("the new version to answer", || {
        (version(&mut server) == "2").then_some(())
    });
    assert!(!server.has_response(id), "the held call ended early");
    sync.release();
    let answer: Value = server.wait(id);
    assert_eq!(answer["result"]["content"][0]["text"], "1", "{answer}");
    assert_eq!(version(&mut server), "2");
}

#[test]
fn the_compile_cache_makes_the_second_start_skip_compiling() {
    let cache = TempDir::new("fresh-cache");
    let start = || {
        let out = corral()
            .env("CORRAL_CACHE_DIR", &cache.0)
            .args(["serve"])
            .arg(example("calculator-rust"))
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let first = start();
    assert!(first.contains("compiled in"), "{first}");
    assert!(!first.contains("compile cache hit"), "{first}");
    let second = start();
    assert!(second.contains("compile cache hit"), "{second}");
    assert!(!second.contains("compiled in"), "{second}");
}

/// A start with a warm cache serves a plugin's listing without running the
/// plugin; the listing is made again when something it can read changes (an
/// environment value it is granted), and at every start for a plugin
/// granted a directory, whose contents may change.
#[test]
fn a_warm_cache_lists_a_plugin_without_running_it() {
    let cache = TempDir::new("listing-cache");
    let dir = TempDir::new("listing-config");
    std::fs::create_dir(dir.0.join("data")).unwrap();
    let plugin = test_plugin("hostile-listing");
    let config = dir.0.join("corral.toml");
    // The tools listed, and whether the plugin ran to list them.
    let start = |grants: &str, value: &str| -> (Vec<String>, bool) {
        std::fs::write(
            &config,
            format!(
                "[plugins.h]\npath = \"{}\"\nenv = [\"HOSTILE_LISTING\"]\n{grants}\n",
                plugin.display()
            ),
        )
        .unwrap();
        let cache = cache.0.to_str().unwrap();
        let mut server = Server::start_with(
            &["--config", config.to_str().unwrap()],
            &[("CORRAL_CACHE_DIR", cache), ("HOSTILE_LISTING", value)],
        );
        let list = server.request("tools/list", json!({}));
        let names = list["result"]["tools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|tool| tool["name"].as_str().unwrap().to_owned())
            .collect();
        // The banner follows the listing on stderr.
        server.await_stderr(" loaded in ");
        let ran = server.stderr_count("hostile-listing: listing tools") > 0;
        server.shutdown();
        (names, ran)
    };
    let names = |name: &str| vec![name.to_owned()];
    assert_eq!(start("", ""), (names("ok"), true), "a cold cache runs it");
    assert_eq!(start("", ""), (names("ok"), false), "a warm cache does not");
    assert_eq!(
        start("", "renamed"),
        (names("renamed"), true),
        "another environment value is listed again"
    );
    assert_eq!(start("", ""), (names("ok"), false), "both are kept");
    let dirs = "[plugins.h.dirs]\n\"/data\" = { host = \"data\" }";
    for _ in 0..2 {
        assert_eq!(
            start(dirs, ""),
            (names("ok"), true),
            "a plugin granted a directory is listed at every start"
        );
    }
}
