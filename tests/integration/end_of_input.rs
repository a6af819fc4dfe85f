//! Requests piped into `corral serve` followed by the end of input are all
//! answered before the process exits, each within its own limits.

use std::io::{Read, Write};
use std::process::Stdio;

use serde_json::{Value, json};

use crate::harness::{corral, test_plugin};

/// Write `lines` to `corral serve ARGS`, close its stdin, and collect every
/// message it writes until it exits (which it must, with status 0).
fn pipe_through(args: &[&str], lines: &[Value]) -> Vec<Value> {
    let mut child = corral()
        .arg("serve")
        .args(args)
        .env("CORRAL_CACHE_DIR", "off")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    for line in lines {
        writeln!(stdin, "{line}").unwrap();
    }
    drop(stdin);
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "corral exited with {}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn initialize(capabilities: Value) -> [Value; 2] {
    [
        json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": capabilities,
            "clientInfo": {"name": "pipe", "version": "0"}}}),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    ]
}

fn answer(messages: &[Value], id: u64) -> &Value {
    messages
        .iter()
        .find(|m| m["id"] == id && m.get("method").is_none())
        .unwrap_or_else(|| panic!("no answer to {id} in {messages:?}"))
}

/// A list that waits for plugins to compile (no cache) and a call that
/// outlasts rmcp's own 5 s drain are both answered (before: only
/// `initialize` was, and the call was cancelled).
#[test]
fn every_request_read_is_answered_before_exit() {
    let timing = test_plugin("timing");
    let [init, initialized] = initialize(json!({}));
    let messages = pipe_through(
        &[timing.to_str().unwrap()],
        &[
            init,
            initialized,
            json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}),
            json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                   "params": {"name": "slow", "arguments": {"ms": 6000}}}),
            json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
                   "params": {"name": "fast", "arguments": {}}}),
        ],
    );
    assert!(answer(&messages, 0)["result"]["serverInfo"].is_object());
    assert!(answer(&messages, 1)["result"]["tools"].is_array());
    assert_eq!(
        answer(&messages, 2)["result"]["content"][0]["text"],
        "slow done"
    );
    assert_eq!(
        answer(&messages, 3)["result"]["content"][0]["text"],
        "fast done"
    );
}

/// A request the client cancelled is not waited for, and a call that asks
/// the client for input after its input ended fails instead of waiting
/// forever: the process still exits.
#[test]
fn cancelled_requests_and_unanswerable_questions_do_not_hold_the_exit() {
    let hostile = test_plugin("hostile");
    let [init, initialized] = initialize(json!({"elicitation": {}}));
    let messages = pipe_through(
        &[hostile.to_str().unwrap(), "--timeout", "60s"],
        &[
            init,
            initialized,
            json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                   "params": {"name": "sleep_forever", "arguments": {}}}),
            json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
                   "params": {"requestId": 1, "reason": "changed my mind"}}),
            json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                   "params": {"name": "trusting_state", "arguments": {"topic": "t"}}}),
        ],
    );
    assert!(
        !messages
            .iter()
            .any(|m| m["id"] == 1 && m.get("method").is_none()),
        "a cancelled request gets no answer: {messages:?}"
    );
    let asked = answer(&messages, 2);
    let text = asked["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_default();
    assert!(text.contains("the client closed its input"), "{asked}");
}
