//! Hostile plugins trip every limit; each error names its cause and the
//! host keeps serving.

use serde_json::{Value, json};

use crate::harness::{Server, peak_rss_kib, reset_peak_rss, rss_kib, test_plugin, text};

const LIMITS: &[&str] = &[
    "--fuel",
    "300000000",
    "--memory",
    "32MiB",
    "--timeout",
    "1500ms",
    "--max-output",
    "1MiB",
];

fn hostile_server(extra: &[&str]) -> Server {
    let hostile = test_plugin("hostile");
    let mut args = vec![hostile.to_str().unwrap().to_owned()];
    args.extend(LIMITS.iter().map(|s| s.to_string()));
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Server::start(&args)
}

/// Call `tool`, expect an error result containing `expected`, then check that
/// a normal call on the same server still works.
fn assert_contained(server: &mut Server, tool: &str, arguments: Value, expected: &str) {
    let result = server.call_tool(tool, arguments);
    assert_eq!(result["isError"], true, "{tool}: {result}");
    let message = text(&result);
    assert!(
        message.contains(expected),
        "{tool}: expected an error containing {expected:?}, got {message:?}"
    );
    let echo = server.call_tool("echo", json!({"message": "still here"}));
    assert_eq!(echo.get("isError"), None, "after {tool}: {echo}");
    assert_eq!(text(&echo), "still here");
}

#[test]
fn every_limit_is_named_and_the_host_keeps_serving() {
    let mut server = hostile_server(&[]);
    server.call_tool("echo", json!({"message": "warm up"}));
    let cases: &[(&str, Value, &str)] = &[
        (
            "spin",
            json!({}),
            "fuel limit of 300000000 instructions exhausted",
        ),
        ("memory_bomb", json!({}), "memory limit of 32 MiB reached"),
        ("sleep_forever", json!({}), "timeout of 1.5s exceeded"),
        (
            "huge_output",
            json!({"mib": 4}),
            "output limit of 1 MiB exceeded",
        ),
        ("panic", json!({}), "plugin crashed"),
        (
            "deep_recursion",
            json!({}),
            "stack limit of 1 MiB exceeded (stack overflow)",
        ),
    ];
    for (tool, arguments, expected) in cases {
        assert_contained(&mut server, tool, arguments.clone(), expected);
    }

    // Memory goes back: what a 32 MiB bomb makes resident while it runs
    // is given back when the call ends (most of it: a pool slot keeps a
    // little resident for the next call).
    let pid = server.pid();
    let before = rss_kib(pid);
    reset_peak_rss(pid);
    assert_contained(
        &mut server,
        "memory_bomb",
        json!({}),
        "memory limit of 32 MiB reached",
    );
    let bomb = peak_rss_kib(pid).saturating_sub(before);
    let kept = rss_kib(pid).saturating_sub(before);
    assert!(
        bomb >= 16 * 1024,
        "the bomb never made its memory resident (peak +{bomb} KiB)"
    );
    assert!(
        kept * 4 < bomb,
        "the bomb made {bomb} KiB resident and {kept} KiB stayed"
    );

    // And it levels off: what does stay (pool slots used, async stacks,
    // the allocator's caches) stops growing after a few rounds. Were a
    // bomb kept, every round would add one.
    let round = |server: &mut Server| {
        for (tool, arguments, expected) in cases {
            if *tool != "sleep_forever" {
                assert_contained(server, tool, arguments.clone(), expected);
            }
        }
        rss_kib(server.pid())
    };
    let settled = (0..3).map(|_| round(&mut server)).last().unwrap();
    let last = (0..5).map(|_| round(&mut server)).last().unwrap();
    assert!(
        last.saturating_sub(settled) < bomb,
        "RSS grew from {settled} KiB to {last} KiB over five more rounds, more than one bomb ({bomb} KiB)"
    );
    server.shutdown();
}

/// A slow client: a call's log and progress reports wait in a queue of
/// `MAX_QUEUED_NOTIFICATIONS` (256) while the client does not read; past
/// it they are dropped (each drop logged), never buffered without bound.
#[test]
fn notifications_past_the_queue_are_dropped() {
    const SENT: usize = 1000; // the per-call log bound: none dropped by it
    const KIB: usize = 15; // under the 16 KiB log message cap
    let hostile = test_plugin("hostile");
    let mut server = Server::start(&[
        hostile.to_str().unwrap(),
        "--log-level",
        "info,corral=debug",
    ]);
    server.pause_stdout();
    let id = server.send(
        "tools/call",
        json!({"name": "log_flood", "arguments": {"count": SENT, "kib": KIB}}),
    );
    // The plugin says on stderr when it has sent everything; until then
    // the client reads nothing.
    server.await_stderr("log_flood: sent 1000");
    server.resume_stdout();
    let answer = server.wait(id);
    assert_eq!(text(&answer["result"]), "sent 1000", "{answer}");
    // Every report reached the client or was dropped (one log line each).
    let received = server.notification_count("notifications/message");
    let dropped = crate::harness::eventually("every drop to be logged", || {
        let dropped = server.stderr_count(QUEUE_FULL);
        (received + dropped >= SENT).then_some(dropped)
    });
    assert_eq!(received + dropped, SENT);
    // What arrived is the queue plus what the pipes between the plugin
    // and the client held (corral's own, and at most 256 KiB in the OS).
    let queue = corral::MAX_QUEUED_NOTIFICATIONS;
    let in_pipes = (corral::STDIO_PIPE_BYTES + 256 * 1024) / (KIB * 1024);
    assert!(
        (queue..=queue + in_pipes).contains(&received),
        "{received} of {SENT} reports reached the client"
    );
    let echo = server.call_tool("echo", json!({"message": "ok"}));
    assert_eq!(text(&echo), "ok");
}

const QUEUE_FULL: &str = "notification queue full; a plugin report was dropped";

#[test]
fn a_panic_names_its_message() {
    let mut server = hostile_server(&[]);
    let result = server.call_tool("panic", json!({}));
    assert!(text(&result).contains("boom"), "{result}");
}

#[test]
fn a_loop_calling_host_imports_hits_the_deadline() {
    // With fuel to spare, only the wall clock can stop it.
    let mut server = hostile_server(&["--fuel", "100000000000000"]);
    assert_contained(
        &mut server,
        "spin_calls",
        json!({}),
        "timeout of 1.5s exceeded",
    );
}

#[test]
fn endless_stderr_is_bounded_in_the_host_log() {
    let mut server = hostile_server(&[]);
    let result = server.call_tool("stderr_flood", json!({}));
    assert_eq!(result["isError"], true, "{result}");
    let echo = server.call_tool("echo", json!({"message": "ok"}));
    assert_eq!(text(&echo), "ok");
    // The drop report travels on stderr, which may arrive after the answer.
    let stderr = crate::harness::eventually("the drop report", || {
        let text = server.stderr_text();
        text.contains("discarded").then_some(text)
    });
    // 64 KiB of guest output at most reaches the log, plus the host's own lines.
    assert!(
        stderr.len() < 200 * 1024,
        "stderr grew to {} bytes",
        stderr.len()
    );
    assert!(stderr.contains("discarded"), "the drop is reported");
}

#[test]
fn masking_hides_trap_details_but_keeps_tool_errors() {
    let mut server = hostile_server(&["--mask-error-details"]);
    let result = server.call_tool("panic", json!({}));
    assert_eq!(result["isError"], true);
    assert!(!text(&result).contains("boom"), "{result}");
    assert!(text(&result).contains("details are in the server log"));
    let echo = server.call_tool("echo", json!({"message": "visible"}));
    assert_eq!(text(&echo), "visible");
}

#[test]
fn a_hundred_mib_answer_is_refused_by_the_output_cap() {
    // Memory enough to build the answer, so only the output cap can stop it.
    let mut server = hostile_server(&["--memory", "512MiB"]);
    assert_contained(
        &mut server,
        "huge_output",
        json!({"mib": 100}),
        "output limit of 1 MiB exceeded (the answer was 100.0 MiB)",
    );
}

#[test]
fn instance_reuse_keeps_state_until_a_call_fails() {
    let dir = crate::harness::TempDir::new("reuse");
    let plugin = crate::harness::test_plugin("versioned-v1");
    let config = dir.0.join("corral.toml");
    let write = |reuse: bool| {
        std::fs::write(
            &config,
            format!(
                "[plugins.v]\npath = \"{}\"\ninstance_reuse = {reuse}\n\n[plugins.v.limits]\nconcurrency = 1\n",
                plugin.display()
            ),
        )
        .unwrap();
    };
    let count = |server: &mut Server| -> u64 {
        let result = server.call_tool("count", json!({}));
        result["structuredContent"]["result"]
            .as_u64()
            .unwrap_or_else(|| panic!("{result}"))
    };

    // Default: a fresh instance every call, so nothing is remembered.
    write(false);
    let mut server = Server::start(&["--config", config.to_str().unwrap()]);
    assert_eq!([count(&mut server), count(&mut server)], [1, 1]);
    drop(server);

    // Reuse: the same instance answers again, until a trap discards it.
    write(true);
    let mut server = Server::start(&["--config", config.to_str().unwrap()]);
    assert_eq!(
        [count(&mut server), count(&mut server), count(&mut server)],
        [1, 2, 3]
    );
    let boom = server.call_tool("boom", json!({}));
    assert_eq!(boom["isError"], true, "{boom}");
    assert_eq!(count(&mut server), 1, "a trapped instance is never reused");
}

/// A fresh instance per call leaves nothing for the next: a plugin hides a
/// canary everywhere its language can keep state (the places below; the
/// Python one also searches every object it can reach) and, in the next
/// call, searches for it. With `instance_reuse` the same search finds it,
/// which shows the search would see a leak.
#[test]
fn no_state_of_a_call_survives_into_the_next() {
    let cases: [(&str, &[&str]); 2] = [
        (
            "canary-python",
            &[
                "module global",
                "heap list",
                "environ",
                "sys.modules",
                "a bytes object",
            ],
        ),
        (
            "canary-js",
            &[
                "module variable",
                "typed-array heap",
                "globalThis",
                "class static",
                "closure",
                "Object.prototype",
            ],
        ),
    ];
    for (name, hiding_places) in cases {
        let dir = crate::harness::TempDir::new(name);
        let plugin = test_plugin(name);
        let config = dir.0.join("corral.toml");
        let places = |reuse: bool| -> Vec<Value> {
            std::fs::write(
                &config,
                format!(
                    "[plugins.c]\npath = \"{}\"\ninstance_reuse = {reuse}\n\n[plugins.c.limits]\nconcurrency = 1\nmemory = \"256MiB\"\n",
                    plugin.display()
                ),
            )
            .unwrap();
            let mut server = Server::start(&["--config", config.to_str().unwrap()]);
            let canary = json!({"canary": format!("canary-{}-{reuse}", std::process::id())});
            let left = server.call_tool("leave", canary.clone());
            assert_eq!(
                left["structuredContent"]["places"],
                json!(["left"]),
                "{name}: {left}"
            );
            let look = server.call_tool("look", canary);
            look["structuredContent"]["places"]
                .as_array()
                .unwrap_or_else(|| panic!("{name}: {look}"))
                .clone()
        };
        assert_eq!(
            places(false),
            Vec::<Value>::new(),
            "{name}: a fresh instance holds no canary"
        );
        let seen = places(true);
        for place in hiding_places {
            assert!(
                seen.contains(&json!(place)),
                "{name}: reuse keeps it in {place}: {seen:?}"
            );
        }
    }
}
