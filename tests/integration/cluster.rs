//! Several Corral processes behind a real nginx (round robin, no session
//! affinity) sharing a real Redis (`[server.sessions] store`) and a
//! request-state key (`request_state_key_env`): a 2025-11-25 session opened
//! on one process continues on the other, also after the first is killed
//! mid-run; 2026-07-28 calls never fail; a `requestState` sealed by one
//! process opens on the other.
//!
//! Without `redis-server` and `nginx` installed these tests are skipped,
//! unless `CORRAL_REQUIRE_CLUSTER=1` (CI sets it), which makes that a
//! failure.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use serde_json::json;

use crate::harness::{TempDir, eventually, example, python_client, test_plugin, text};
use crate::http::{
    HttpServer, Started, open_session, open_session_with, request, session_call, session_start,
    start_request, tool_call_2026,
};

/// A daemon started for one test, killed when it ends.
struct Daemon {
    child: Child,
    port: u16,
    _dir: TempDir,
}

impl Daemon {
    /// Start `command` (quiet) as the daemon listening on `port`.
    fn spawn(mut command: Command, port: u16, dir: TempDir) -> Daemon {
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {command:?}: {e}"));
        Daemon {
            child,
            port,
            _dir: dir,
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port()
}

/// Whether `program` is installed; if not, skip (or fail under
/// `CORRAL_REQUIRE_CLUSTER`).
fn installed(program: &str) -> bool {
    if Path::new(program).exists() {
        return true;
    }
    assert!(
        std::env::var_os("CORRAL_REQUIRE_CLUSTER").is_none(),
        "CORRAL_REQUIRE_CLUSTER is set but {program} is not installed (apt install redis-server nginx)"
    );
    eprintln!("skipped: {program} is not installed");
    false
}

/// A Redis on a free loopback port, keeping nothing on disk.
fn redis() -> Option<Daemon> {
    let program = "/usr/bin/redis-server";
    if !installed(program) {
        return None;
    }
    let dir = TempDir::new("redis");
    let port = free_port();
    let mut command = Command::new(program);
    command
        .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
        .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
        .arg("--dir")
        .arg(&dir.0);
    let daemon = Daemon::spawn(command, port, dir);
    eventually("redis to answer PING", || {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
        stream.write_all(b"PING\r\n").ok()?;
        let mut answer = [0u8; 7];
        stream.read_exact(&mut answer).ok()?;
        (&answer == b"+PONG\r\n").then_some(())
    });
    Some(daemon)
}

/// nginx on a free loopback port, spreading requests over `upstreams`
/// (`host:port`) in turn; a request whose upstream fails (refused, or
/// closed mid-answer) is passed to the next one. A response that stays
/// silent for `read_timeout` (nginx's syntax) is cut.
fn nginx(upstreams: &[&str], read_timeout: &str) -> Option<Daemon> {
    let program = "/usr/sbin/nginx";
    if !installed(program) {
        return None;
    }
    let dir = TempDir::new("nginx");
    let port = free_port();
    let servers: String = upstreams
        .iter()
        .map(|u| format!("    server {u} max_fails=1 fail_timeout=60s;\n"))
        .collect();
    let d = dir.0.display();
    let config = format!(
        r#"worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 512; }}
http {{
  access_log off;
  client_body_temp_path {d}/body;
  proxy_temp_path {d}/proxy;
  fastcgi_temp_path {d}/fastcgi;
  uwsgi_temp_path {d}/uwsgi;
  scgi_temp_path {d}/scgi;
  upstream corral {{
{servers}    keepalive 16;
  }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://corral;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_buffering off;
      proxy_read_timeout {read_timeout};
      proxy_next_upstream error timeout non_idempotent;
    }}
  }}
}}
"#
    );
    let file = dir.0.join("nginx.conf");
    std::fs::write(&file, config).unwrap();
    let mut command = Command::new(program);
    command
        .arg("-p")
        .arg(&dir.0)
        .arg("-c")
        .arg(&file)
        .args(["-g", "daemon off;"]);
    let daemon = Daemon::spawn(command, port, dir);
    eventually("nginx to listen", || {
        TcpStream::connect(("127.0.0.1", port)).ok()
    });
    Some(daemon)
}

/// Static bearer tokens of two principals (`tokens_config`).
const ALICE: &str = "alice-static-token-0123456789";
const BOB: &str = "bob-static-token-0123456789";

/// The key every process seals `requestState` with.
const STATE_SECRET: &str = "a-shared-state-secret-of-32-bytes-or-more";

/// Two Corral processes sharing the Redis at `redis_port`, with the TOML
/// tables `extra` first in their config.
fn two_corrals(dir: &TempDir, redis_port: u16, extra: &str) -> (HttpServer, HttpServer) {
    let config = dir.0.join("corral.toml");
    std::fs::write(
        &config,
        format!(
            "{extra}\n[server.sessions]\nstore = \"redis://127.0.0.1:{redis_port}/0\"\nrequest_state_key_env = \"CORRAL_TEST_STATE_KEY\"\n\n\
             [plugins.calc]\npath = \"{}\"\n\n[plugins.hostile]\npath = \"{}\"\n",
            example("calculator-rust").display(),
            test_plugin("hostile").display(),
        ),
    )
    .unwrap();
    let start = || {
        HttpServer::start_env(
            "http",
            &["--config", config.to_str().unwrap()],
            0,
            &[
                ("CORRAL_TEST_STATE_KEY", STATE_SECRET),
                ("CORRAL_TEST_ALICE", ALICE),
                ("CORRAL_TEST_BOB", BOB),
            ],
        )
    };
    (start(), start())
}

/// `multiply` in the 2025 session `session`; its answer's text, or what
/// went wrong.
fn multiply_in(addr: &str, session: &str, id: u64) -> Result<(), String> {
    let body = json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
        "params": {"name": "multiply", "arguments": {"a": 6, "b": 7}}});
    let response = session_call(addr, session, body);
    let answer = response.messages().into_iter().find(|m| m["id"] == id);
    match answer {
        Some(answer) if text(&answer["result"]).starts_with("42") => Ok(()),
        _ => Err(format!("{}: {}", response.status, response.body)),
    }
}

#[test]
fn sessions_continue_on_another_process_when_one_dies_behind_nginx() {
    let Some(redis) = redis() else { return };
    let dir = TempDir::new("cluster");
    let (first, second) = two_corrals(&dir, redis.port, "");
    let Some(nginx) = nginx(&[&first.addr, &second.addr], "1h") else {
        return;
    };
    let front = format!("127.0.0.1:{}", nginx.port);

    // Round robin: each session's requests alternate between the two, so
    // every session is continued by a process that did not open it.
    let sessions: Vec<String> = (0..4).map(|_| open_session(&front)).collect();
    for (i, session) in sessions.iter().enumerate() {
        for id in 0..2 {
            multiply_in(&front, session, 10 + id)
                .unwrap_or_else(|e| panic!("session {i} before the kill: {e}"));
        }
    }

    // A load of both eras; one process is killed while it runs.
    let stop = Arc::new(AtomicBool::new(false));
    let calls = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for session in sessions.clone() {
        let (front, stop, calls) = (front.clone(), stop.clone(), calls.clone());
        workers.push(std::thread::spawn(move || {
            let mut failures = Vec::new();
            let mut id = 100;
            while !stop.load(Ordering::Relaxed) {
                if let Err(e) = multiply_in(&front, &session, id) {
                    failures.push(format!("2025 session {session}: {e}"));
                }
                calls.fetch_add(1, Ordering::Relaxed);
                id += 1;
            }
            failures
        }));
    }
    for _ in 0..4 {
        let (front, stop, calls) = (front.clone(), stop.clone(), calls.clone());
        workers.push(std::thread::spawn(move || {
            let mut failures = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let answer =
                    tool_call_2026(&front, "multiply", json!({"arguments": {"a": 6, "b": 7}}));
                if !text(&answer["result"]).starts_with("42") {
                    failures.push(format!("2026 call: {answer}"));
                }
                calls.fetch_add(1, Ordering::Relaxed);
            }
            failures
        }));
    }
    eventually("500 calls before the kill", || {
        (calls.load(Ordering::Relaxed) >= 500).then_some(())
    });
    first.signal("KILL");
    let at_kill = calls.load(Ordering::Relaxed);
    eventually("1000 calls after the kill", || {
        (calls.load(Ordering::Relaxed) >= at_kill + 1000).then_some(())
    });
    stop.store(true, Ordering::Relaxed);
    let failures: Vec<String> = workers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    assert!(
        failures.is_empty(),
        "{} failed calls: {failures:#?}",
        failures.len()
    );

    second.await_stderr("sessions are shared through the store at 127.0.0.1:");
    // The survivor continued a session from the store (the line is written
    // before the answer, but read from its stderr by another thread).
    second.await_stderr("session continued from the shared store");
    // Every session lives on, now on the survivor alone.
    for session in &sessions {
        multiply_in(&second.addr, session, 9999).unwrap();
    }
    // Closed through nginx, a session is gone from the store too.
    let closed = request(
        &front,
        "DELETE",
        "/mcp",
        &[("Mcp-Session-Id", &sessions[0])],
        b"",
    );
    assert_eq!(closed.status, 200, "{}", closed.body);
    let after = multiply_in(&second.addr, &sessions[0], 10_000).unwrap_err();
    assert!(after.starts_with("404"), "{after}");
    drop(nginx);
}

#[test]
fn a_request_state_sealed_by_one_process_opens_on_another() {
    let Some(redis) = redis() else { return };
    let dir = TempDir::new("cluster-state");
    let (first, second) = two_corrals(&dir, redis.port, "");
    let asked = tool_call_2026(
        &first.addr,
        "trusting_state",
        json!({"arguments": {"topic": "a"}}),
    );
    let state = asked["result"]["requestState"]
        .as_str()
        .unwrap_or_else(|| panic!("no requestState in {asked}"));
    let mut params = json!({"arguments": {"topic": "a"}, "requestState": state});
    params["inputResponses"] = json!({"name": {"action": "accept", "content": {}}});
    let answered = tool_call_2026(&second.addr, "trusting_state", params);
    assert_eq!(
        text(&answered["result"]),
        "state: secret-state",
        "{answered}"
    );
}

/// A `GET` resuming session `session`'s stream after `last_event_id`.
fn resume(addr: &str, session: &str, last_event_id: &str) -> Started {
    start_request(
        addr,
        "GET",
        "/mcp",
        &[
            ("Accept", "text/event-stream"),
            ("Mcp-Session-Id", session),
            ("Mcp-Protocol-Version", "2025-11-25"),
            ("Last-Event-ID", last_event_id),
        ],
        b"",
    )
}

/// A response stream cut on one process resumes on the other: there,
/// `Last-Event-ID` replays what the client missed (the question the first
/// process asked) and follows the stream until the call, still running on
/// the first process, answers. An event id resumes nothing in another
/// session, nor once changed.
#[test]
fn a_cut_response_stream_resumes_on_another_process() {
    let Some(redis) = redis() else { return };
    let dir = TempDir::new("cluster-resume");
    let (first, second) = two_corrals(&dir, redis.port, "");
    let session = open_session_with(&first.addr, json!({"elicitation": {}}));
    let call = json!({"jsonrpc": "2.0", "id": 5, "method": "tools/call",
        "params": {"name": "trusting_state", "arguments": {"topic": "a"}}});
    let mut cut = session_start(&first.addr, &session, call);
    assert_eq!(cut.status, 200);
    let priming = cut.next_event().expect("a priming event");
    let priming = priming.id.expect("the priming event has an id");
    let question = cut.next_event().expect("the question");
    let asked = question.data.expect("the question's JSON");
    assert_eq!(asked["method"], "elicitation/create", "{asked}");
    drop(cut);

    // Another session of the same client gets nothing from that id, nor
    // does this one from a changed id.
    let stranger = open_session(&second.addr);
    let mut foreign = resume(&second.addr, &stranger, &priming);
    assert!(foreign.next_event().is_none());
    let mut forged = priming.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == '0' { '1' } else { '0' });
    assert!(
        resume(&second.addr, &session, &forged)
            .next_event()
            .is_none()
    );
    second.await_stderr("is not an event of this session");

    let mut resumed = resume(&second.addr, &session, &priming);
    assert_eq!(resumed.status, 200);
    let replayed = resumed.next_event().expect("the question, replayed");
    assert_eq!(replayed.data.as_ref(), Some(&asked));
    assert_eq!(replayed.id, question.id);
    // The answer goes to the process that asked (where the call waits).
    let answer = json!({"jsonrpc": "2.0", "id": asked["id"],
        "result": {"action": "accept", "content": {"name": "Ada"}}});
    let accepted = request(
        &first.addr,
        "POST",
        "/mcp",
        &[
            ("Accept", "application/json, text/event-stream"),
            ("Content-Type", "application/json"),
            ("Mcp-Session-Id", &session),
            ("Mcp-Protocol-Version", "2025-11-25"),
        ],
        answer.to_string().as_bytes(),
    );
    assert_eq!(accepted.status, 202, "{}", accepted.body);
    let result = resumed.next_event().expect("the call's result, followed");
    let result = result.data.expect("the result's JSON");
    assert_eq!(result["id"], 5, "{result}");
    assert_eq!(text(&result["result"]), "state: secret-state", "{result}");
    assert!(
        resumed.next_event().is_none(),
        "the stream ends with its response"
    );
}

/// `redis-cli` against the Redis on `port`: its output.
fn redis_cli(port: u16, args: &[&str]) -> String {
    let out = Command::new("/usr/bin/redis-cli")
        .args(["-p", &port.to_string()])
        .args(args)
        .output()
        .expect("redis-cli runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// With the store on, a standalone (GET) stream that reconnects with the
/// id of its priming event (rmcp's `0`, stored nowhere) is open again, not
/// refused.
#[test]
fn a_standalone_stream_reconnects_with_the_store_on() {
    let Some(redis) = redis() else { return };
    let dir = TempDir::new("cluster-standalone");
    let (first, _second) = two_corrals(&dir, redis.port, "");
    let session = open_session(&first.addr);
    let mut opened = start_request(
        &first.addr,
        "GET",
        "/mcp",
        &[
            ("Accept", "text/event-stream"),
            ("Mcp-Session-Id", &session),
            ("Mcp-Protocol-Version", "2025-11-25"),
        ],
        b"",
    );
    assert_eq!(opened.status, 200);
    let priming = opened
        .next_event()
        .and_then(|e| e.id)
        .expect("a priming event");
    assert_eq!(priming, "0");
    drop(opened);
    let mut again = resume(&first.addr, &session, &priming);
    assert_eq!(again.status, 200);
    assert!(
        again.still_open(std::time::Duration::from_millis(500)),
        "the reconnected stream ended at once"
    );
    assert!(!first.logged("is not an event of this session"));
}

/// A stream keeps its last `MAX_STORED_EVENTS` (128) events in the store:
/// resuming a longer one (up to 600 progress notifications, as many as the
/// notification queue lets through, then the response) from its priming
/// event gets the last 128, the response last.
#[test]
fn a_stream_keeps_its_last_events_in_the_store() {
    let Some(redis) = redis() else { return };
    let dir = TempDir::new("cluster-trim");
    let (first, second) = two_corrals(&dir, redis.port, "");
    let session = open_session(&first.addr);
    let call = json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
        "params": {"name": "progress_flood", "arguments": {"count": 600},
            "_meta": {"progressToken": "p"}}});
    let mut cut = session_start(&first.addr, &session, call);
    let priming = cut
        .next_event()
        .and_then(|e| e.id)
        .expect("a priming event");
    drop(cut);
    let stream = priming.rsplit_once('/').unwrap().0;
    let key = format!("corral:events:{stream}");
    eventually("the call to end", || {
        let last = redis_cli(redis.port, &["XREVRANGE", &key, "+", "-", "COUNT", "1"]);
        last.contains("sent 600").then_some(())
    });
    assert_eq!(redis_cli(redis.port, &["XLEN", &key]).trim(), "128");
    // Complete: kept for COMPLETED_STREAM_TTL (60 s), not the idle timeout.
    let ttl: u64 = redis_cli(redis.port, &["TTL", &key])
        .trim()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&ttl), "{ttl}");
    assert!(
        priming.contains("/0-1."),
        "a priming event is not stored: {priming}"
    );

    let mut resumed = resume(&second.addr, &session, &priming);
    let mut events = Vec::new();
    while let Some(event) = resumed.next_event() {
        events.push(
            event
                .data
                .expect("every event stored after the priming one has data"),
        );
    }
    assert_eq!(events.len(), 128);
    let (response, progress) = events.split_last().unwrap();
    assert_eq!(text(&response["result"]), "sent 600", "{response}");
    let first_kept = progress[0]["params"]["progress"].as_f64().unwrap();
    assert!(first_kept > 0.0, "the oldest events went");
    for (i, event) in progress.iter().enumerate() {
        assert_eq!(event["method"], "notifications/progress", "{event}");
        assert!(event["params"]["progress"].as_f64().unwrap() >= first_kept + i as f64);
    }
}

/// The official Python SDK, both eras, through nginx: the clients keep
/// their sessions and their calls succeed after one process is killed.
#[test]
fn the_python_sdk_goes_on_through_nginx_when_a_process_dies() {
    let Some(redis) = redis() else { return };
    let dir = TempDir::new("cluster-python");
    let (first, second) = two_corrals(&dir, redis.port, "");
    let Some(nginx) = nginx(&[&first.addr, &second.addr], "1h") else {
        return;
    };
    let url = format!("http://127.0.0.1:{}/mcp", nginx.port);
    python_client(
        "cluster_client.py",
        &["--url", &url, "--kill", &first.pid().to_string()],
    );
    drop(second);
}

/// The official Python SDK resumes a response stream that nginx cut, on
/// whichever process nginx picks, and gets the call's answer.
#[test]
fn the_python_sdk_resumes_a_cut_stream_through_nginx() {
    let Some(redis) = redis() else { return };
    let dir = TempDir::new("cluster-python-resume");
    let (first, second) = two_corrals(&dir, redis.port, "[limits]\ntimeout = \"3s\"\n");
    let Some(nginx) = nginx(&[&first.addr, &second.addr], "1s") else {
        return;
    };
    let url = format!("http://127.0.0.1:{}/mcp", nginx.port);
    python_client("cluster_client.py", &["--url", &url, "--resume"]);
}

/// A session held by both processes and closed on one ends on the other
/// too, once that one next renews the session's entry (a quarter of the
/// idle timeout after the last renewal).
#[test]
fn a_session_closed_on_one_process_ends_on_the_other() {
    let Some(redis) = redis() else { return };
    let dir = TempDir::new("cluster-close");
    let (first, second) = two_corrals(
        &dir,
        redis.port,
        "[server.http]\nsession_idle_timeout = \"4s\"\n",
    );
    let session = open_session(&first.addr);
    multiply_in(&second.addr, &session, 1).unwrap();
    let closed = request(
        &first.addr,
        "DELETE",
        "/mcp",
        &[("Mcp-Session-Id", &session)],
        b"",
    );
    assert_eq!(closed.status, 200, "{}", closed.body);
    let mut id = 2;
    let refused = eventually("the other process to end the session", || {
        id += 1;
        multiply_in(&second.addr, &session, id).err()
    });
    assert!(refused.starts_with("404"), "{refused}");
    second.await_stderr("session closed elsewhere");
}

/// A store that does not answer is named at startup; the process still
/// serves, its sessions its own.
#[test]
fn a_store_that_does_not_answer_is_reported_and_sessions_stay_local() {
    let dir = TempDir::new("cluster-down");
    let closed = free_port();
    let (server, _other) = two_corrals(&dir, closed, "");
    server.await_stderr("the session store does not answer");
    let session = open_session(&server.addr);
    multiply_in(&server.addr, &session, 1).unwrap();
}

/// With `[server.auth]`, a session belongs to its principal on every
/// process: the same token continues it on the other process, another
/// token gets 404 there as on the first.
#[test]
fn a_session_continues_elsewhere_only_for_its_principal() {
    let Some(redis) = redis() else { return };
    let dir = TempDir::new("cluster-auth");
    let tokens = "[server.auth]\n\
        [[server.auth.tokens]]\nenv = \"CORRAL_TEST_ALICE\"\nsubject = \"alice\"\n\
        [[server.auth.tokens]]\nenv = \"CORRAL_TEST_BOB\"\nsubject = \"bob\"\n";
    let (first, second) = two_corrals(&dir, redis.port, tokens);
    let post = |addr: &str, token: &str, session: Option<&str>, body: serde_json::Value| {
        let bearer = format!("Bearer {token}");
        let mut headers = vec![
            ("Accept", "application/json, text/event-stream"),
            ("Content-Type", "application/json"),
            ("Authorization", bearer.as_str()),
        ];
        if let Some(session) = session {
            headers.extend([
                ("Mcp-Session-Id", session),
                ("Mcp-Protocol-Version", "2025-11-25"),
            ]);
        }
        request(addr, "POST", "/mcp", &headers, body.to_string().as_bytes())
    };
    let opened = post(
        &first.addr,
        ALICE,
        None,
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": {"name": "t", "version": "0"}}}),
    );
    assert_eq!(opened.status, 200, "{}", opened.body);
    let session = opened.header("mcp-session-id").unwrap().to_owned();
    let multiply = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": "multiply", "arguments": {"a": 6, "b": 7}}});
    // Bob first, so that the other process has not restored it yet.
    let stolen = post(&second.addr, BOB, Some(&session), multiply.clone());
    assert_eq!(stolen.status, 404, "{}", stolen.body);
    let continued = post(&second.addr, ALICE, Some(&session), multiply.clone());
    assert_eq!(continued.status, 200, "{}", continued.body);
    let answer = continued
        .messages()
        .into_iter()
        .find(|m| m["id"] == 2)
        .unwrap();
    assert!(text(&answer["result"]).starts_with("42"), "{answer}");
    let stolen = post(&second.addr, BOB, Some(&session), multiply);
    assert_eq!(stolen.status, 404, "{}", stolen.body);
}
