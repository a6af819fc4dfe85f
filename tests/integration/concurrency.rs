//! Calls run concurrently: a slow tool does not hold up a fast one, and
//! notifications from a plugin reach the client.

use serde_json::{Value, json};

use crate::harness::{Server, SyncDir, eventually, test_plugin, text};

/// The timing plugin with `/sync` granted (see [`SyncDir`]) and the TOML
/// lines `extra` in its table.
fn held_timing(sync: &SyncDir, extra: &str) -> Server {
    let config = sync.config("timing", &test_plugin("timing"), extra);
    Server::start(&["--config", &config])
}

/// Call `hold` with `id`; returns the request id.
fn hold(server: &mut Server, id: u32) -> u64 {
    server.send(
        "tools/call",
        json!({"name": "hold", "arguments": {"id": id}}),
    )
}

/// `answer` is the result of `hold(i)`, sent as request `ids[i]`.
fn assert_released(answer: &Value, ids: &[u64]) {
    let i: usize = text(&answer["result"])
        .strip_prefix("released ")
        .and_then(|i| i.parse().ok())
        .unwrap_or_else(|| panic!("not a released call: {answer}"));
    assert_eq!(answer["id"], ids[i], "{answer}");
}

#[test]
fn a_fast_call_overtakes_a_slow_one() {
    let sync = SyncDir::new("overtake");
    let mut server = held_timing(&sync, "");
    let held = hold(&mut server, 0);
    sync.await_started(1);
    // The held call cannot end before the release: `fast` must pass it.
    let fast = server.call_tool("fast", json!({}));
    assert_eq!(text(&fast), "fast done");
    assert!(!server.has_response(held), "the held call answered early");
    sync.release();
    assert_eq!(text(&server.wait(held)["result"]), "released 0");
    server.shutdown();
}

#[test]
fn many_calls_to_one_plugin_run_in_parallel() {
    let sync = SyncDir::new("parallel");
    let mut server = held_timing(&sync, "");
    let ids: Vec<u64> = (0..8).map(|i| hold(&mut server, i)).collect();
    // None can end before the release, so eight started means eight in
    // flight at once; calls run one after another never get there.
    sync.await_started(8);
    for &id in &ids {
        assert!(!server.has_response(id), "call {id} answered early");
    }
    sync.release();
    for (i, id) in ids.into_iter().enumerate() {
        assert_eq!(text(&server.wait(id)["result"]), format!("released {i}"));
    }
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
    let sync = SyncDir::new("busy");
    let mut server = held_timing(&sync, "limits = { concurrency = 4, queue = 10 }");
    let ids: Vec<u64> = (0..200).map(|i| hold(&mut server, i)).collect();
    // While the 4 running calls hold, 10 wait and the other 186 are
    // refused at once, each naming the limit.
    for _ in 0..186 {
        let refused = server.next_response();
        assert_eq!(
            text(&refused["result"]),
            "plugin `timing` is busy: 4 calls in flight and 10 waiting (concurrency limit)",
            "{refused}"
        );
        assert_eq!(refused["result"]["isError"], true, "{refused}");
    }
    sync.await_started(4);
    assert_eq!(sync.started(), 4, "only 4 calls may run at once");
    assert!(
        !ids.iter().any(|&id| server.has_response(id)),
        "a 187th call was answered before the release"
    );
    sync.release();
    for _ in 0..14 {
        assert_released(&server.next_response(), &ids);
    }
    assert_eq!(sync.started(), 14, "the 10 queued calls ran after the 4");
    let after = server.call_tool("fast", json!({}));
    assert_eq!(text(&after), "fast done");
}

/// More calls in flight than the process's instance pool holds
/// (`POOL_INSTANCES`, 1,000): exactly that many run, every other fails at
/// once naming the pool, and once they end the host serves again.
#[test]
fn calls_past_the_instance_pool_fail_naming_it() {
    const POOL: u32 = corral::POOL_INSTANCES;
    const CALLS: u32 = POOL + 100;
    let sync = SyncDir::new("pool");
    // Small calls, a large budget and no queue: only the pool stops them.
    let config = sync.config_with(
        "[limits]\ntotal_memory = \"16GiB\"\n",
        "timing",
        &test_plugin("timing"),
        &format!(
            "limits = {{ concurrency = {CALLS}, queue = 0, timeout = \"5m\", memory = \"4MiB\" }}"
        ),
    );
    let mut server = Server::start(&["--config", &config]);
    let ids: Vec<u64> = (0..CALLS).map(|i| hold(&mut server, i)).collect();
    for _ in POOL..CALLS {
        let refused = server.next_response();
        assert_eq!(refused["result"]["isError"], true, "{refused}");
        assert_eq!(text(&refused["result"]), POOL_FULL, "{refused}");
    }
    sync.await_started(POOL as usize);
    assert_eq!(sync.started(), POOL as usize);
    assert!(
        !ids.iter().any(|&id| server.has_response(id)),
        "a call was answered before the release"
    );
    sync.release();
    for _ in 0..POOL {
        assert_released(&server.next_response(), &ids);
    }
    let after = server.call_tool("fast", json!({}));
    assert_eq!(text(&after), "fast done");
}

/// What a call past the pool gets: the pool named, not a crash of the
/// plugin (it is not the plugin's doing).
const POOL_FULL: &str =
    "instance pool of 1000 is full: too many calls in flight across all plugins (pool limit)";

/// `[limits] rate`: a plugin's calls per period over all clients. Past the
/// burst a call is refused at once, naming the limit and when to retry;
/// the bucket refills at the rate.
#[test]
fn calls_past_a_plugins_rate_are_refused_until_it_refills() {
    let sync = SyncDir::new("rate");
    let mut server = held_timing(&sync, "limits = { rate = \"1/s\", burst = 2 }");
    for _ in 0..2 {
        assert_eq!(text(&server.call_tool("fast", json!({}))), "fast done");
    }
    let refused = server.call_tool("fast", json!({}));
    assert_eq!(refused["isError"], true, "{refused}");
    assert_eq!(
        text(&refused),
        "plugin `timing` is over its rate of 1/s (burst 2): try again in 1s (rate limit)"
    );
    eventually("the bucket to refill", || {
        let answer = server.call_tool("fast", json!({}));
        (text(&answer) == "fast done").then_some(())
    });
}
