//! MCP tasks (the `io.modelcontextprotocol/tasks` extension) against the real
//! binary: hostile tools run as tasks are contained like calls, tasks are
//! bounded per session and forgotten tasks make room, another HTTP session
//! cannot see a task, a plugin built against the first contract still loads,
//! and the official Python SDK drives tasks end to end.

use serde_json::{Value, json};

use crate::harness::{
    Server, SyncDir, TempDir, corral, eventually, python_client, rss_kib, target_dir, test_plugin,
    text,
};
use crate::http::{HttpServer, open_session, session_call};
use crate::upstream::corral_command;

/// What a request carries to use the tasks extension without declaring it
/// at `initialize` (per-request client capabilities).
pub fn tasks_meta() -> Value {
    json!({"io.modelcontextprotocol/clientCapabilities": {
        "extensions": {"io.modelcontextprotocol/tasks": {}}
    }})
}

/// The id of the task a `tools/call` answer created.
pub fn task_id(created: &Value) -> String {
    created["result"]["taskId"]
        .as_str()
        .unwrap_or_else(|| panic!("a task: {created}"))
        .to_owned()
}

/// Call `tool` as a task; its id.
pub fn start_task(server: &mut Server, tool: &str, arguments: Value) -> String {
    let answer = server.request(
        "tools/call",
        json!({"name": tool, "arguments": arguments, "_meta": tasks_meta()}),
    );
    let result = &answer["result"];
    assert_eq!(result["resultType"], "task", "{tool}: {answer}");
    assert_eq!(result["status"], "working", "{tool}: {answer}");
    task_id(&answer)
}

pub fn task_request(server: &mut Server, method: &str, id: &str) -> Value {
    server.request(method, json!({"taskId": id, "_meta": tasks_meta()}))
}

/// Poll `tasks/get` until the task ends; the task.
pub fn finished(server: &mut Server, id: &str) -> Value {
    eventually(&format!("task {id} to end"), || {
        let task = task_request(server, "tasks/get", id)["result"].clone();
        matches!(
            task["status"].as_str(),
            Some("completed" | "failed" | "cancelled")
        )
        .then_some(task)
    })
}

/// A corral.toml serving the timing plugin (with `dir` as `/sync`) where
/// every task-capable call becomes a task at once, plus `preamble` and
/// the plugin's `limits` (TOML lines).
fn timing_config(dir: &SyncDir, preamble: &str, limits: &str) -> String {
    dir.config_with(
        &format!("[server]\ntask_after = \"0s\"\n\n{preamble}"),
        "timing",
        &test_plugin("timing"),
        &format!("[plugins.timing.limits]\n{limits}"),
    )
}

#[test]
fn hostile_tools_run_as_tasks_are_contained_like_calls() {
    let dir = SyncDir::new("tasks-hostile");
    let config = dir.config_with(
        "[server]\ntask_after = \"0s\"\n\n[limits]\nfuel = 300000000\nmemory = \"32MiB\"\ntask_timeout = \"1500ms\"\nmax_output = \"1MiB\"",
        "hostile",
        &test_plugin("hostile"),
        "",
    );
    let mut server = Server::start(&["serve", "--config", &config]);
    let cases: &[(&str, Value, &str)] = &[
        (
            "spin",
            json!({}),
            "fuel limit of 300000000 instructions exhausted",
        ),
        ("memory_bomb", json!({}), "memory limit of 32 MiB reached"),
        ("sleep_forever", json!({}), "task_timeout of 1.5s exceeded"),
        (
            "huge_output",
            json!({"mib": 4}),
            "output limit of 1 MiB exceeded",
        ),
        ("panic", json!({}), "plugin crashed"),
    ];
    let mut before = 0;
    for round in 0..4 {
        // The first round warms the pool, the code and the allocator up.
        if round == 1 {
            before = rss_kib(server.pid());
        }
        for (tool, arguments, expected) in cases {
            let id = start_task(&mut server, tool, arguments.clone());
            let task = finished(&mut server, &id);
            assert_eq!(task["status"], "failed", "{tool}: {task}");
            let message = task["error"]["message"].as_str().unwrap_or_default();
            assert!(
                message.contains(expected),
                "{tool}: expected an error containing {expected:?}, got {task}"
            );
            assert!(task.get("result").is_none(), "{tool}: {task}");
            // The host keeps serving, tasks and calls alike.
            let echo = server.call_tool("echo", json!({"message": "still here"}));
            assert_eq!(text(&echo), "still here", "after {tool}");
        }
    }
    // Fifteen more contained tasks leave the server's memory where it was
    // (each guest's memory went back to the pool; failures keep only their
    // text).
    let after = rss_kib(server.pid());
    assert!(
        after < before + 32 * 1024,
        "RSS grew from {before} KiB to {after} KiB over 15 hostile tasks"
    );
    // A tool that does not declare task support answers in its request even
    // when the client supports tasks.
    let plain = server.request(
        "tools/call",
        json!({"name": "echo", "arguments": {"message": "sync"}, "_meta": tasks_meta()}),
    );
    assert_eq!(text(&plain["result"]), "sync", "{plain}");
}

#[test]
fn tasks_per_session_are_capped_and_finished_ones_make_room() {
    let dir = SyncDir::new("tasks-cap");
    let config = timing_config(&dir, "", "concurrency = 64\nqueue = 0");
    let mut server = Server::start(&["serve", "--config", &config]);
    let cap = corral::MAX_TASKS_PER_SESSION;
    let before = rss_kib(server.pid());
    let ids: Vec<String> = (0..cap)
        .map(|i| start_task(&mut server, "hold", json!({"id": i})))
        .collect();
    dir.await_started(cap);
    // One more unfinished task than the cap: refused, naming the limit.
    let refused = server.request(
        "tools/call",
        json!({"name": "hold", "arguments": {"id": 999}, "_meta": tasks_meta()}),
    );
    let message = refused["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("MAX_TASKS_PER_SESSION"),
        "the task over the cap: {refused}"
    );
    // A cancelled task is finished: the next task takes its place.
    let ack = task_request(&mut server, "tasks/cancel", &ids[0]);
    assert_eq!(ack["result"]["resultType"], "complete", "{ack}");
    assert_eq!(finished(&mut server, &ids[0])["status"], "cancelled");
    let next = start_task(&mut server, "slow", json!({"ms": 1}));
    assert_eq!(finished(&mut server, &next)["status"], "completed");
    let forgotten = task_request(&mut server, "tasks/get", &ids[0]);
    assert_eq!(forgotten["error"]["code"], -32602, "{forgotten}");
    // Cancelling the rest interrupts their guests: the plugin's 64 slots are
    // free again (a held guest would keep its slot until released).
    for id in &ids[1..] {
        task_request(&mut server, "tasks/cancel", id);
    }
    for id in &ids[1..] {
        assert_eq!(finished(&mut server, id)["status"], "cancelled");
    }
    // A 2025-11-25 session is told of each change (`notifications/tasks`):
    // at least one cancellation per task.
    eventually("a status notification per cancelled task", || {
        (server.notification_count("notifications/tasks") >= cap).then_some(())
    });
    let fast = eventually("the slots to be free", || {
        let result = server.call_tool("fast", json!({}));
        (result.get("isError").is_none()).then_some(result)
    });
    assert_eq!(text(&fast), "fast done");
    assert!(!dir.path().join("release").exists());
    let after = rss_kib(server.pid());
    assert!(
        after < before + 128 * 1024,
        "RSS grew from {before} KiB to {after} KiB over {cap} held tasks"
    );
}

#[test]
fn another_session_cannot_see_a_task() {
    let dir = SyncDir::new("tasks-sessions");
    let config = timing_config(&dir, "", "");
    let server = HttpServer::start("http", &["--config", &config]);
    let (owner, other) = (open_session(&server.addr), open_session(&server.addr));
    let rpc = |session: &str, id: u64, method: &str, params: Value| -> Value {
        let response = session_call(
            &server.addr,
            session,
            json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}),
        );
        assert_eq!(response.status, 200, "{method}: {}", response.body);
        response.messages().pop().expect("an answer")
    };
    let created = rpc(
        &owner,
        2,
        "tools/call",
        json!({"name": "hold", "arguments": {"id": 1}, "_meta": tasks_meta()}),
    );
    let id = task_id(&created);
    assert_eq!(id.len(), 64, "256 random bits, hex: {id}");
    let task_params = json!({"taskId": id, "_meta": tasks_meta()});
    // The other session: unknown, exactly like an id that never existed.
    let never = rpc(
        &other,
        3,
        "tasks/get",
        json!({"taskId": "0".repeat(64), "_meta": tasks_meta()}),
    );
    for (n, method) in ["tasks/get", "tasks/cancel"].into_iter().enumerate() {
        let answer = rpc(&other, 4 + n as u64, method, task_params.clone());
        assert_eq!(answer["error"]["code"], -32602, "{method}: {answer}");
        assert_eq!(
            answer["error"]["message"]
                .as_str()
                .map(|m| m.replace(&id, "ID")),
            never["error"]["message"]
                .as_str()
                .map(|m| m.replace(&"0".repeat(64), "ID")),
            "{method} must not tell a foreign task from a missing one"
        );
    }
    let update = rpc(
        &other,
        6,
        "tasks/update",
        json!({"taskId": id, "inputResponses": {}, "_meta": tasks_meta()}),
    );
    assert_eq!(update["error"]["code"], -32602, "{update}");
    // The owner still sees it working (the cancel above did nothing), then done.
    let seen = rpc(&owner, 7, "tasks/get", task_params.clone());
    assert_eq!(seen["result"]["status"], "working", "{seen}");
    dir.release();
    let done = eventually("the task to complete", || {
        let task = rpc(&owner, 8, "tasks/get", task_params.clone());
        (task["result"]["status"] == "completed").then_some(task)
    });
    assert_eq!(
        done["result"]["result"]["content"][0]["text"], "released 1",
        "{done}"
    );
}

#[test]
fn a_plugin_built_against_contract_0_1_0_still_loads() {
    let plugin = test_plugin("contract-0-1-0");
    let mut server = Server::start(&["serve", plugin.to_str().unwrap()]);
    let tools = server.request("tools/list", json!({}));
    assert_eq!(tools["result"]["tools"][0]["name"], "echo", "{tools}");
    let result = server.call_tool("echo", json!({"text": "hello"}));
    assert_eq!(text(&result), "0.1.0 says: hello", "{result}");
    // Without the `tasks` export its tools answer in their request, whatever
    // the client supports.
    let plain = server.request(
        "tools/call",
        json!({"name": "echo", "arguments": {"text": "sync"}, "_meta": tasks_meta()}),
    );
    assert_eq!(text(&plain["result"]), "0.1.0 says: sync", "{plain}");
}

#[test]
fn python_sdk_drives_tasks() {
    let dir = SyncDir::new("tasks-python");
    let config = timing_config(
        &dir,
        "[limits]\ntask_timeout = \"2s\"",
        "concurrency = 1\nqueue = 0",
    );
    let corral = env!("CARGO_BIN_EXE_corral");
    let stderr = target_dir().join("tasks-python-server.log");
    python_client(
        "tasks_client.py",
        &[
            dir.path().to_str().unwrap(),
            "--server-stderr",
            stderr.to_str().unwrap(),
            "--",
            corral,
            "serve",
            "--config",
            &config,
        ],
    );
}

#[test]
fn the_corral_client_follows_tasks_directly_and_through_an_upstream() {
    let conformance = test_plugin("conformance");
    let wasm = conformance.to_str().unwrap();
    let call = |args: &[&str]| {
        let out = corral().args(args).output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // A task-capable call that takes a second becomes a task (past the
    // default task_after), which the client follows to its result.
    let (code, stdout, stderr) = call(&["call", wasm, "slow_compute", "seconds=1"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stdout.trim(), "slow_compute: computed after 1 second(s)");
    // `corral inspect` says which tools may run as tasks.
    let out = corral().args(["inspect", "--json", wasm]).output().unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let task_of = |name: &str| {
        report["serves"]["tools"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .map(|t| t["task"].clone())
    };
    assert_eq!(task_of("slow_compute"), Some(json!("optional")));
    assert_eq!(task_of("failing_job"), Some(json!("required")));
    assert_eq!(task_of("greet"), Some(json!("forbidden")));
    // A tool that runs only as a task: the client declares the extension.
    let (code, stdout, stderr) = call(&["call", wasm, "failing_job"]);
    assert_eq!(code, Some(1), "a tool error exits 1: {stdout}");
    assert!(stderr.contains("the job failed (on purpose)"), "{stderr}");
    // Through a Corral upstream: the proxy's client follows the inner
    // server's task, and the outer client gets an ordinary answer.
    let dir = TempDir::new("tasks-upstream");
    let config = dir.0.join("corral.toml");
    std::fs::write(
        &config,
        format!("[upstreams.inner]\n{}", corral_command(&dir.0, &[wasm])),
    )
    .unwrap();
    let config = config.to_str().unwrap();
    let (code, stdout, stderr) = call(&["call", "--config", config, "failing_job"]);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stderr.contains("the job failed (on purpose)"), "{stderr}");
    let (code, stdout, stderr) = call(&[
        "call",
        "--config",
        config,
        "slow_compute",
        "seconds=0.5",
        "label=proxied",
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stdout.trim(), "proxied: computed after 0.5 second(s)");
}

/// One stateless 2026-07-28 request to `addr` from the loopback address
/// `source` (127.0.0.x); its JSON-RPC answer.
fn stateless_from(addr: &str, source: &str, method: &str, name: &str, mut params: Value) -> Value {
    use std::io::{Read, Write};
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "0"},
        "io.modelcontextprotocol/clientCapabilities": {
            "extensions": {"io.modelcontextprotocol/tasks": {}}
        }
    });
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let stream = runtime.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(format!("{source}:0").parse().unwrap()).unwrap();
        socket.connect(addr.parse().unwrap()).await.unwrap()
    });
    let mut stream = stream.into_std().unwrap();
    stream.set_nonblocking(false).unwrap();
    let request = format!(
        "POST /mcp HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nAccept: application/json, text/event-stream\r\nContent-Type: application/json\r\nMcp-Protocol-Version: 2026-07-28\r\nMcp-Method: {method}\r\nMcp-Name: {name}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let json = answer
        .lines()
        .map(|l| l.strip_prefix("data:").unwrap_or(l).trim())
        .find(|l| l.starts_with('{') && l.contains("\"jsonrpc\""))
        .unwrap_or_else(|| panic!("no JSON-RPC answer in {answer}"));
    serde_json::from_str(json).unwrap()
}

#[test]
fn without_a_session_a_task_belongs_to_the_client_address() {
    let dir = SyncDir::new("tasks-stateless");
    let config = timing_config(&dir, "", "");
    let server = HttpServer::start("http", &["--config", &config]);
    let created = stateless_from(
        &server.addr,
        "127.0.0.1",
        "tools/call",
        "hold",
        json!({"name": "hold", "arguments": {"id": 1}}),
    );
    let id = task_id(&created);
    // The task method `method` on it, sent from `source`.
    let on_task = |source: &str, method: &str| {
        stateless_from(&server.addr, source, method, &id, json!({"taskId": id}))
    };
    // From another client address: unknown, as for an id that never existed.
    let foreign = on_task("127.0.0.2", "tasks/get");
    assert_eq!(foreign["error"]["code"], -32602, "{foreign}");
    let cancel = on_task("127.0.0.2", "tasks/cancel");
    assert_eq!(cancel["error"]["code"], -32602, "{cancel}");
    let own = on_task("127.0.0.1", "tasks/get");
    assert_eq!(own["result"]["status"], "working", "{own}");
    dir.release();
    let done = eventually("the task to complete", || {
        let task = on_task("127.0.0.1", "tasks/get");
        (task["result"]["status"] == "completed").then_some(task)
    });
    assert_eq!(done["result"]["result"]["content"][0]["text"], "released 1");
}

#[test]
fn a_task_waits_for_input_only_until_task_input_timeout() {
    let dir = TempDir::new("tasks-input");
    let config = dir.0.join("corral.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\ntask_after = \"0s\"\ntask_input_timeout = \"300ms\"\n\n[plugins.c]\npath = \"{}\"\n",
            test_plugin("conformance").display()
        ),
    )
    .unwrap();
    let mut server = Server::start(&["serve", "--config", config.to_str().unwrap()]);
    let meta = json!({"io.modelcontextprotocol/clientCapabilities": {
        "elicitation": {},
        "extensions": {"io.modelcontextprotocol/tasks": {}}
    }});
    let created = server.request(
        "tools/call",
        json!({"name": "confirm_delete", "arguments": {"filename": "a.txt"}, "_meta": meta}),
    );
    let id = task_id(&created);
    let get = |server: &mut Server| {
        server.request("tasks/get", json!({"taskId": id, "_meta": meta}))["result"].clone()
    };
    let asking = eventually("the task to ask", || {
        let task = get(&mut server);
        (task["status"] != "working").then_some(task)
    });
    assert_eq!(asking["status"], "input_required", "{asking}");
    assert_eq!(
        asking["inputRequests"]["confirm"]["method"], "elicitation/create",
        "{asking}"
    );
    // Nobody answers: the task fails, naming the limit.
    let failed = eventually("the task to give up", || {
        let task = get(&mut server);
        (task["status"] == "failed").then_some(task)
    });
    let message = failed["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("within 300ms (task_input_timeout)"),
        "{failed}"
    );
}
