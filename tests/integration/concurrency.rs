//! Calls run concurrently: a slow tool does not hold up a fast one, and
//! notifications from a plugin reach the client.

use serde_json::json;

use crate::harness::{Server, eventually, test_plugin, text};

#[test]
fn a_fast_call_overtakes_a_slow_one() {
    let timing = test_plugin("timing");
    let mut server = Server::start(&[timing.to_str().unwrap()]);
    let slow = server.send(
        "tools/call",
        json!({"name": "slow", "arguments": {"ms": 1500}}),
    );
    let fast = server.send("tools/call", json!({"name": "fast", "arguments": {}}));
    let first = server.next_response();
    assert_eq!(
        first["id"], fast,
        "the fast call should answer first: {first}"
    );
    assert_eq!(text(&first["result"]), "fast done");
    let second = server.wait(slow);
    assert_eq!(text(&second["result"]), "slow done");
    server.shutdown();
}

#[test]
fn many_calls_to_one_plugin_run_in_parallel() {
    let timing = test_plugin("timing");
    let mut server = Server::start(&[timing.to_str().unwrap()]);
    let started = std::time::Instant::now();
    let ids: Vec<u64> = (0..8)
        .map(|_| {
            server.send(
                "tools/call",
                json!({"name": "slow", "arguments": {"ms": 1000}}),
            )
        })
        .collect();
    for id in ids {
        let response = server.wait(id);
        assert_eq!(text(&response["result"]), "slow done");
    }
    // Eight sequential calls would take 8 s; in parallel they overlap.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(6),
        "calls did not overlap: {:?}",
        started.elapsed()
    );
}

#[test]
fn plugin_logs_and_progress_reach_the_client() {
    let timing = test_plugin("timing");
    let mut server = Server::start(&[timing.to_str().unwrap()]);
    let id = server.send(
        "tools/call",
        json!({"name": "log_and_progress", "arguments": {"steps": 3}, "_meta": {"progressToken": "tok-1"}}),
    );
    let response = server.wait(id);
    assert_eq!(text(&response["result"]), "done");
    let notifications = eventually("three progress notifications", || {
        let seen = server.notifications.lock().unwrap().clone();
        let progress = seen
            .iter()
            .filter(|n| n["method"] == "notifications/progress")
            .count();
        (progress == 3).then_some(seen)
    });
    let logs: Vec<_> = notifications
        .iter()
        .filter(|n| n["method"] == "notifications/message")
        .collect();
    assert_eq!(logs.len(), 3, "{notifications:?}");
    assert_eq!(logs[0]["params"]["level"], "info");
    assert_eq!(logs[0]["params"]["logger"], "timing");
    assert!(logs[0]["params"]["data"].as_str().unwrap().contains("step"));
    let progress: Vec<_> = notifications
        .iter()
        .filter(|n| n["method"] == "notifications/progress")
        .collect();
    assert_eq!(progress[0]["params"]["progressToken"], "tok-1");
    assert_eq!(progress[2]["params"]["progress"], 3.0);
    assert_eq!(progress[2]["params"]["total"], 3.0);
}

/// Send `n` calls to `slow` at once; returns how many succeeded and the
/// texts of the failures.
fn flood(server: &mut Server, n: usize, ms: u32) -> (usize, Vec<String>) {
    let ids: Vec<u64> = (0..n)
        .map(|_| {
            server.send(
                "tools/call",
                json!({"name": "slow", "arguments": {"ms": ms}}),
            )
        })
        .collect();
    let mut ok = 0;
    let mut failures = Vec::new();
    for id in ids {
        let response = server.wait(id);
        let result = &response["result"];
        if result.get("isError").is_none() && text(result) == "slow done" {
            ok += 1;
        } else {
            failures.push(text(result).to_owned());
        }
    }
    (ok, failures)
}

#[test]
fn two_hundred_calls_to_a_plugin_limited_to_four_all_complete() {
    let timing = test_plugin("timing");
    let mut server = Server::start(&[timing.to_str().unwrap(), "--concurrency", "4"]);
    let (ok, failures) = flood(&mut server, 200, 20);
    assert_eq!(ok, 200, "{failures:?}");
    let echo = server.call_tool("fast", json!({}));
    assert_eq!(text(&echo), "fast done");
}

#[test]
fn calls_past_the_queue_are_refused_as_busy() {
    let timing = test_plugin("timing");
    let mut server = Server::start(&[
        timing.to_str().unwrap(),
        "--concurrency",
        "4",
        "--queue",
        "10",
    ]);
    let (ok, failures) = flood(&mut server, 200, 200);
    // Every call is answered: at least the 4 running and 10 queued succeed,
    // the rest are refused with a message naming the limit.
    assert_eq!(ok + failures.len(), 200);
    assert!(ok >= 14, "only {ok} succeeded");
    assert!(!failures.is_empty(), "nothing was refused");
    for failure in &failures {
        assert!(
            failure.contains("busy") && failure.contains("concurrency limit"),
            "{failure}"
        );
    }
    let after = server.call_tool("fast", json!({}));
    assert_eq!(text(&after), "fast done");
}
