//! MCP over loopback HTTP: Streamable HTTP and legacy SSE against the real
//! binary, with the official Python SDK and with raw requests.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{DEADLINE, corral, eventually, example, root, rss_kib, test_plugin};

/// A `corral serve --transport http|sse --port 0` and the address it bound.
pub struct HttpServer {
    child: Child,
    pub addr: String,
    pub stderr: Arc<Mutex<Vec<String>>>,
}

impl HttpServer {
    pub fn start(transport: &str, args: &[&str]) -> HttpServer {
        let mut child = corral()
            .arg("serve")
            .args(args)
            .args(["--transport", transport, "--port", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting corral");
        let stderr = child.stderr.take().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(rest) = line.split("listening on http://").nth(1) {
                    let addr = rest.split('/').next().unwrap().to_owned();
                    let _ = tx.send(addr);
                }
                sink.lock().unwrap().push(line);
            }
        });
        let addr = rx.recv_timeout(DEADLINE).unwrap_or_else(|_| {
            panic!(
                "corral did not report listening; stderr:\n{}",
                lines.lock().unwrap().join("\n")
            )
        });
        HttpServer {
            child,
            addr,
            stderr: lines,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Send SIGTERM and wait for the exit status.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = std::time::Instant::now() + DEADLINE;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "corral ignored SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A raw HTTP/1.1 response.
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The JSON-RPC messages in the body (plain JSON or SSE `data:` lines).
    pub fn messages(&self) -> Vec<Value> {
        if self.body.trim_start().starts_with('{') {
            return vec![serde_json::from_str(&self.body).unwrap()];
        }
        self.body
            .lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .filter_map(|d| serde_json::from_str(d.trim()).ok())
            .collect()
    }
}

/// One request over a fresh connection (`Connection: close`), read to the end.
pub fn request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Response {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(DEADLINE)).unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    // The server may answer (413) before reading a large body; ignore write errors.
    let _ = stream.write_all(body);
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"));
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_owned()
    };
    Response {
        status,
        headers,
        body,
    }
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if size == 0 || rest.len() < size {
            out.push_str(&rest[..size.min(rest.len())]);
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].strip_prefix("\r\n").unwrap_or(&rest[size..]);
    }
    out
}

const JSON_AND_SSE: (&str, &str) = ("Accept", "application/json, text/event-stream");
const CONTENT_JSON: (&str, &str) = ("Content-Type", "application/json");

fn initialize_body() -> Vec<u8> {
    json!({
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}
    })
    .to_string()
    .into_bytes()
}

/// Open a 2025-11-25 session; returns its id.
pub fn open_session(addr: &str) -> String {
    let response = request(
        addr,
        "POST",
        "/mcp",
        &[JSON_AND_SSE, CONTENT_JSON],
        &initialize_body(),
    );
    assert_eq!(response.status, 200, "{}", response.body);
    let id = response
        .header("mcp-session-id")
        .expect("a session id")
        .to_owned();
    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"}).to_string();
    let ack = request(
        addr,
        "POST",
        "/mcp",
        &[
            JSON_AND_SSE,
            CONTENT_JSON,
            ("Mcp-Session-Id", &id),
            ("Mcp-Protocol-Version", "2025-11-25"),
        ],
        initialized.as_bytes(),
    );
    assert_eq!(ack.status, 202, "{}", ack.body);
    id
}

pub fn session_call(addr: &str, session: &str, body: Value) -> Response {
    request(
        addr,
        "POST",
        "/mcp",
        &[
            JSON_AND_SSE,
            CONTENT_JSON,
            ("Mcp-Session-Id", session),
            ("Mcp-Protocol-Version", "2025-11-25"),
        ],
        body.to_string().as_bytes(),
    )
}

fn examples_dir() -> String {
    example("calculator-rust");
    root().join("plugins/dist").to_str().unwrap().to_owned()
}

#[test]
fn python_sdk_over_streamable_http_in_both_modes() {
    let server = HttpServer::start("http", &[&examples_dir()]);
    let url = server.url("/mcp");
    crate::harness::python_client("mcp_client.py", &["--mode", "legacy", "--url", &url]);
    crate::harness::python_client("mcp_client.py", &["--mode", "default", "--url", &url]);
}

#[test]
fn python_sdk_over_legacy_sse() {
    let server = HttpServer::start("sse", &[&examples_dir()]);
    crate::harness::python_client(
        "mcp_client.py",
        &["--mode", "legacy", "--sse", &server.url("/sse")],
    );
}

#[test]
fn foreign_origin_and_host_are_refused() {
    let calculator = example("calculator-rust");
    let server = HttpServer::start("http", &[calculator.to_str().unwrap()]);
    let evil = request(
        &server.addr,
        "POST",
        "/mcp",
        &[
            JSON_AND_SSE,
            CONTENT_JSON,
            ("Origin", "http://evil.example"),
        ],
        &initialize_body(),
    );
    assert_eq!(evil.status, 403, "{}", evil.body);
    assert!(evil.body.contains("evil.example"));
    let local = request(
        &server.addr,
        "POST",
        "/mcp",
        &[
            JSON_AND_SSE,
            CONTENT_JSON,
            ("Origin", "http://localhost:6274"),
        ],
        &initialize_body(),
    );
    assert_eq!(local.status, 200, "{}", local.body);

    // DNS rebinding: a request that names another host.
    let mut stream = TcpStream::connect(&server.addr).unwrap();
    stream
        .write_all(b"GET /mcp HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
}

#[test]
fn oversized_bodies_and_unknown_sessions_are_refused() {
    let calculator = example("calculator-rust");
    let server = HttpServer::start("http", &[calculator.to_str().unwrap()]);
    let huge = vec![b' '; 10 * 1024 * 1024];
    let refused = request(
        &server.addr,
        "POST",
        "/mcp",
        &[JSON_AND_SSE, CONTENT_JSON],
        &huge,
    );
    assert_eq!(refused.status, 413, "{}", refused.body);

    let unknown = session_call(
        &server.addr,
        "no-such-session",
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
    );
    assert_eq!(unknown.status, 404, "{}", unknown.body);

    // The server is still fine.
    let session = open_session(&server.addr);
    let tools = session_call(
        &server.addr,
        &session,
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
    );
    assert!(tools.body.contains("multiply"), "{}", tools.body);
}

#[test]
fn abandoned_sessions_never_pile_up() {
    let calculator = example("calculator-rust");
    let server = HttpServer::start(
        "http",
        &[calculator.to_str().unwrap(), "--max-sessions", "100"],
    );
    let first = open_session(&server.addr);
    let baseline = rss_kib(server.pid());
    for _ in 0..1000 {
        let response = request(
            &server.addr,
            "POST",
            "/mcp",
            &[JSON_AND_SSE, CONTENT_JSON],
            &initialize_body(),
        );
        assert_eq!(response.status, 200, "{}", response.body);
    }
    let after = rss_kib(server.pid());
    // 100 live sessions at most; 1,000 abandoned ones must not each keep memory.
    assert!(
        after < baseline + 64 * 1024,
        "RSS grew from {baseline} KiB to {after} KiB"
    );
    // The oldest session was closed to make room; a new one works.
    let evicted = session_call(
        &server.addr,
        &first,
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
    );
    assert_eq!(evicted.status, 404, "{}", evicted.body);
    let fresh = open_session(&server.addr);
    let call = session_call(
        &server.addr,
        &fresh,
        json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "multiply", "arguments": {"a": 3, "b": 4}}}),
    );
    let result = call.messages().into_iter().find(|m| m["id"] == 3).unwrap();
    assert_eq!(result["result"]["structuredContent"]["result"], 12.0);
}

#[test]
fn plugin_logs_and_progress_reach_an_http_client() {
    let timing = test_plugin("timing");
    let server = HttpServer::start("http", &[timing.to_str().unwrap()]);
    let session = open_session(&server.addr);
    // Log messages belong to no request: they travel on the session's GET stream.
    let logs = standalone_events(&server.addr, &session, 2, "notifications/message");
    let response = session_call(
        &server.addr,
        &session,
        json!({"jsonrpc": "2.0", "id": 5, "method": "tools/call",
               "params": {"name": "log_and_progress", "arguments": {"steps": 2}, "_meta": {"progressToken": 7}}}),
    );
    let messages = response.messages();
    let logs = logs.join().unwrap();
    assert_eq!(logs[0]["params"]["level"], "info", "{logs:?}");
    assert_eq!(logs[0]["params"]["logger"], "timing");
    assert_eq!(logs[1]["params"]["data"], "step 2");
    let progress: Vec<&Value> = messages
        .iter()
        .filter(|m| m["method"] == "notifications/progress")
        .collect();
    assert_eq!(progress.len(), 2, "{messages:?}");
    assert_eq!(progress[0]["params"]["progressToken"], 7);
    // Notifications come before the result on the response stream.
    let last = messages.last().unwrap();
    assert_eq!(last["id"], 5);
    assert_eq!(last["result"]["content"][0]["text"], "done");
}

/// Read the session's standalone GET stream until `count` messages with
/// `method` arrived; returns them.
pub fn standalone_events(
    addr: &str,
    session: &str,
    count: usize,
    method: &'static str,
) -> std::thread::JoinHandle<Vec<Value>> {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(DEADLINE)).unwrap();
    let head = format!(
        "GET /mcp HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\nMcp-Session-Id: {session}\r\nMcp-Protocol-Version: 2025-11-25\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).unwrap();
    let mut reader = BufReader::new(stream);
    // Wait for the response head, so the stream is open before the call starts.
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    assert!(line.starts_with("HTTP/1.1 200"), "GET stream: {line}");
    std::thread::spawn(move || {
        let mut found = Vec::new();
        for line in reader.lines() {
            let Ok(line) = line else { break };
            let Some(data) = line.split("data:").nth(1) else {
                continue;
            };
            let Ok(message) = serde_json::from_str::<Value>(data.trim()) else {
                continue;
            };
            if message["method"] == method {
                found.push(message);
                if found.len() == count {
                    break;
                }
            }
        }
        found
    })
}

#[test]
fn sigterm_lets_a_call_in_flight_finish() {
    let timing = test_plugin("timing");
    let server = HttpServer::start(
        "http",
        &[timing.to_str().unwrap(), "--log-level", "info,corral=debug"],
    );
    let session = open_session(&server.addr);
    let addr = server.addr.clone();
    let call = std::thread::spawn(move || {
        session_call(
            &addr,
            &session,
            json!({"jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": {"name": "slow", "arguments": {"ms": 1500}}}),
        )
    });
    // Wait until the call is running in the plugin, then ask the server to stop.
    let stderr = server.stderr.clone();
    crate::harness::eventually("the slow call to start", || {
        stderr
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains("calling tool `slow`"))
            .then_some(())
    });
    let status = server.terminate();
    let response = call.join().unwrap();
    let result = response.messages().into_iter().find(|m| m["id"] == 9);
    assert_eq!(
        result.map(|r| r["result"]["content"][0]["text"].clone()),
        Some(json!("slow done")),
        "{}",
        response.body
    );
    assert!(status.success(), "exit status {status}");
}

#[test]
fn closing_a_2026_stream_cancels_the_call() {
    let hostile = test_plugin("hostile");
    let server = HttpServer::start(
        "http",
        &[
            hostile.to_str().unwrap(),
            "--timeout",
            "60s",
            "--log-level",
            "info,corral=debug",
        ],
    );
    let body = json!({
        "jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {
            "name": "sleep_forever", "arguments": {},
            "_meta": {
                "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "0"},
                "io.modelcontextprotocol/clientCapabilities": {}
            }
        }
    })
    .to_string();
    let mut stream = TcpStream::connect(&server.addr).unwrap();
    let head = format!(
        "POST /mcp HTTP/1.1\r\nHost: {}\r\nAccept: application/json, text/event-stream\r\nContent-Type: application/json\r\nMcp-Protocol-Version: 2026-07-28\r\nMcp-Method: tools/call\r\nMcp-Name: sleep_forever\r\nContent-Length: {}\r\n\r\n{body}",
        server.addr,
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    let logged = |what: &str| {
        server
            .stderr
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains(what))
    };
    eventually("the call to start", || {
        logged("calling tool `sleep_forever`").then_some(())
    });
    assert!(!logged("call cancelled"));
    // The client gives up: in 2026-07-28 that is closing the response stream.
    drop(stream);
    eventually("the guest to be interrupted", || {
        logged("call cancelled").then_some(())
    });
}

/// A quick answer is one plain JSON body; an answer with progress before its
/// result, or one slower than `JSON_ANSWER_WAIT`, is an SSE stream, in order.
#[test]
fn quick_answers_are_json_and_the_rest_stream() {
    let timing = test_plugin("timing");
    let server = HttpServer::start("http", &[timing.to_str().unwrap()]);
    let session = open_session(&server.addr);
    let call = |id: u64, params: Value| {
        session_call(
            &server.addr,
            &session,
            json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": params}),
        )
    };

    let quick = call(2, json!({"name": "fast", "arguments": {}}));
    assert_eq!(quick.status, 200, "{}", quick.body);
    assert_eq!(quick.header("content-type"), Some("application/json"));
    assert!(quick.header("content-length").is_some(), "not chunked");
    let answer: Value = serde_json::from_str(&quick.body).unwrap();
    assert_eq!(answer["id"], 2);
    assert_eq!(answer["result"]["content"][0]["text"], "fast done");

    let missing = call(3, json!({"name": "no_such_tool", "arguments": {}}));
    assert_eq!(missing.header("content-type"), Some("application/json"));
    let answer: Value = serde_json::from_str(&missing.body).unwrap();
    assert!(answer["error"]["message"].is_string(), "{answer}");

    let progress = call(
        4,
        json!({"name": "log_and_progress", "arguments": {"steps": 2}, "_meta": {"progressToken": "p"}}),
    );
    assert_eq!(progress.header("content-type"), Some("text/event-stream"));
    let methods: Vec<Value> = progress
        .messages()
        .iter()
        .map(|m| m.get("method").cloned().unwrap_or(m["id"].clone()))
        .collect();
    assert_eq!(
        methods,
        [
            json!("notifications/progress"),
            json!("notifications/progress"),
            json!(4)
        ],
        "{}",
        progress.body
    );

    let slow = call(5, json!({"name": "slow", "arguments": {"ms": 600}}));
    assert_eq!(slow.header("content-type"), Some("text/event-stream"));
    let messages = slow.messages();
    assert_eq!(messages.len(), 1, "{}", slow.body);
    assert_eq!(messages[0]["result"]["content"][0]["text"], "slow done");
}
