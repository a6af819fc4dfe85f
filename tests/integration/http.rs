//! MCP over loopback HTTP: Streamable HTTP and legacy SSE against the real
//! binary, with the official Python SDK and with raw requests.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::harness::{DEADLINE, SyncDir, corral, eventually, example, root, rss_kib, test_plugin};

/// A `corral serve --transport http|sse --port 0` and the address it bound.
pub struct HttpServer {
    child: Child,
    pub addr: String,
    pub stderr: Arc<Mutex<Vec<String>>>,
}

impl HttpServer {
    pub fn start(transport: &str, args: &[&str]) -> HttpServer {
        HttpServer::start_on(transport, args, 0)
    }

    /// [`HttpServer::start`] on `port` (0: a free one).
    pub fn start_on(transport: &str, args: &[&str], port: u16) -> HttpServer {
        HttpServer::start_env(transport, args, port, &[])
    }

    /// [`HttpServer::start_on`] with variables `env` set for corral.
    pub fn start_env(
        transport: &str,
        args: &[&str],
        port: u16,
        env: &[(&str, &str)],
    ) -> HttpServer {
        let mut child = corral()
            .arg("serve")
            .args(args)
            .args(["--transport", transport, "--port", &port.to_string()])
            .envs(env.iter().copied())
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

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.addr.rsplit(':').next().unwrap().parse().unwrap()
    }

    /// Whether a stderr line so far contains `what`.
    pub fn logged(&self, what: &str) -> bool {
        self.stderr.lock().unwrap().iter().any(|l| l.contains(what))
    }

    /// Wait until a stderr line contains `what`; a timeout shows stderr.
    pub fn await_stderr(&self, what: &str) {
        let deadline = std::time::Instant::now() + DEADLINE;
        while !self.logged(what) {
            assert!(
                std::time::Instant::now() < deadline,
                "no stderr line contains {what:?}; stderr:\n{}",
                self.stderr.lock().unwrap().join("\n")
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Send signal `name` (`TERM`, `INT`) to corral.
    pub fn signal(&self, name: &str) {
        let sent = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success(), "kill -{name} failed");
    }

    /// Wait for corral to exit; returns its status.
    pub fn wait_exit(mut self) -> std::process::ExitStatus {
        let deadline = std::time::Instant::now() + DEADLINE;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "corral did not exit; stderr:\n{}",
                self.stderr.lock().unwrap().join("\n")
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Send SIGTERM and wait for the exit status.
    pub fn terminate(self) -> std::process::ExitStatus {
        self.signal("TERM");
        self.wait_exit()
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
        header(&self.headers, name)
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
    start_request(addr, method, path, headers, body).finish()
}

/// A request whose response head has arrived; the body is read by
/// [`Started::finish`]. The head is the server's decision: a JSON answer
/// or a stream.
pub struct Started {
    reader: BufReader<TcpStream>,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// Body bytes read (and de-chunked) but not yet taken as events.
    pending: Vec<u8>,
}

/// One server-sent event: its id, kind and JSON data (any may be absent).
#[derive(Debug, Default)]
pub struct SseEvent {
    pub id: Option<String>,
    pub kind: Option<String>,
    pub data: Option<Value>,
}

/// Send one request over a fresh connection (`Connection: close`) and read
/// the head of its response.
pub fn start_request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Started {
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
    let mut reader = BufReader::new(stream);
    let mut lines = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            break;
        }
        let line = line.trim_end_matches(['\r', '\n']).to_owned();
        if line.is_empty() {
            break;
        }
        lines.push(line);
    }
    let status = lines
        .first()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {lines:?}"));
    let headers = lines[1..]
        .iter()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Started {
        reader,
        status,
        headers,
        pending: Vec::new(),
    }
}

impl Started {
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }

    /// The next event of a streamed (SSE) body with an id or data (not a
    /// keep-alive), or `None` when the body ends.
    pub fn next_event(&mut self) -> Option<SseEvent> {
        let chunked = self
            .header("transfer-encoding")
            .is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
        loop {
            if let Some(end) = self.pending.windows(2).position(|w| w == b"\n\n") {
                let raw: Vec<u8> = self.pending.drain(..end + 2).collect();
                let mut event = SseEvent::default();
                for line in String::from_utf8_lossy(&raw).lines() {
                    if let Some(id) = line.strip_prefix("id:") {
                        event.id = Some(id.trim().to_owned());
                    } else if let Some(kind) = line.strip_prefix("event:") {
                        event.kind = Some(kind.trim().to_owned());
                    } else if let Some(data) = line.strip_prefix("data:") {
                        event.data = serde_json::from_str(data.trim()).ok();
                    }
                }
                if event.id.is_some() || event.data.is_some() {
                    return Some(event);
                }
                continue;
            }
            if chunked {
                let mut size = String::new();
                if self.reader.read_line(&mut size).ok()? == 0 {
                    return None;
                }
                let size = usize::from_str_radix(size.trim(), 16).ok()?;
                if size == 0 {
                    return None;
                }
                let mut chunk = vec![0; size + 2];
                self.reader.read_exact(&mut chunk).ok()?;
                self.pending.extend_from_slice(&chunk[..size]);
            } else {
                let mut buf = [0; 4096];
                let n = self.reader.read(&mut buf).ok()?;
                if n == 0 {
                    return None;
                }
                self.pending.extend_from_slice(&buf[..n]);
            }
        }
    }

    /// Whether the body is still open after `wait` (data arriving counts as
    /// open; its end as closed).
    pub fn still_open(&mut self, wait: std::time::Duration) -> bool {
        if !self.pending.is_empty() {
            return true;
        }
        self.reader.get_ref().set_read_timeout(Some(wait)).unwrap();
        let open = match self.reader.fill_buf() {
            Ok(data) => !data.is_empty(),
            Err(e) => matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ),
        };
        self.reader
            .get_ref()
            .set_read_timeout(Some(DEADLINE))
            .unwrap();
        open
    }

    /// Read the body to the end.
    pub fn finish(mut self) -> Response {
        let mut raw = Vec::new();
        let _ = self.reader.read_to_end(&mut raw);
        let body = String::from_utf8_lossy(&raw).into_owned();
        let body = if self
            .header("transfer-encoding")
            .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
        {
            dechunk(&body)
        } else {
            body
        };
        Response {
            status: self.status,
            headers: self.headers,
            body,
        }
    }
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
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

/// One 2026-07-28 `tools/call` of `name` (no session) with `params` (its
/// arguments, and `requestState` or `inputResponses` when answering); the
/// client declares elicitation. Returns the JSON-RPC answer, or the status
/// and body when there is none.
pub fn tool_call_2026(addr: &str, name: &str, mut params: Value) -> Value {
    params["name"] = json!(name);
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "0"},
        "io.modelcontextprotocol/clientCapabilities": {"elicitation": {}}
    });
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params});
    let response = request(
        addr,
        "POST",
        "/mcp",
        &[
            JSON_AND_SSE,
            CONTENT_JSON,
            ("Mcp-Protocol-Version", "2026-07-28"),
            ("Mcp-Method", "tools/call"),
            ("Mcp-Name", name),
        ],
        body.to_string().as_bytes(),
    );
    response
        .messages()
        .into_iter()
        .find(|m| m["id"] == 1)
        .unwrap_or_else(|| json!({"status": response.status, "body": response.body}))
}

/// Open a 2025-11-25 session; returns its id.
pub fn open_session(addr: &str) -> String {
    open_session_with(addr, json!({}))
}

/// Open a 2025-11-25 session of a client with `capabilities`; returns its id.
pub fn open_session_with(addr: &str, capabilities: Value) -> String {
    let initialize = json!({
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": capabilities,
            "clientInfo": {"name": "t", "version": "0"}}
    });
    let response = request(
        addr,
        "POST",
        "/mcp",
        &[JSON_AND_SSE, CONTENT_JSON],
        initialize.to_string().as_bytes(),
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
    session_start(addr, session, body).finish()
}

/// Like [`session_call`], returning once the response head has arrived.
pub fn session_start(addr: &str, session: &str, body: Value) -> Started {
    start_request(
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
    let status = server.terminate();
    assert!(status.success(), "corral exited with {status}");
}

#[test]
fn python_sdk_over_legacy_sse() {
    let server = HttpServer::start("sse", &[&examples_dir()]);
    crate::harness::python_client(
        "mcp_client.py",
        &["--mode", "legacy", "--sse", &server.url("/sse")],
    );
    let status = server.terminate();
    assert!(status.success(), "corral exited with {status}");
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
    let pid = server.pid();
    // 1,000 sessions opened and abandoned, 100 at a time.
    let mut rss = vec![rss_kib(pid)];
    for _ in 0..10 {
        for _ in 0..100 {
            let response = request(
                &server.addr,
                "POST",
                "/mcp",
                &[JSON_AND_SSE, CONTENT_JSON],
                &initialize_body(),
            );
            assert_eq!(response.status, 200, "{}", response.body);
        }
        rss.push(rss_kib(pid));
    }
    // The first 100 are live at once and cost what they cost; after that
    // each new one closes the oldest, so RSS levels off: the last 500 add
    // less than half what the first 100 did. (Were abandoned sessions
    // kept, each 100 would add as much as the first.)
    let (first_batch, last_half) = (
        rss[1].saturating_sub(rss[0]),
        rss[10].saturating_sub(rss[5]),
    );
    assert!(
        last_half < first_batch / 2,
        "RSS after each 100 sessions (KiB): {rss:?}"
    );
    // At most 100 live: each of the other 901 was closed to make room.
    let closed = |server: &HttpServer| {
        server
            .stderr
            .lock()
            .unwrap()
            .iter()
            .filter(|l| {
                l.contains("session cap of 100 reached; closing the least recently used session")
            })
            .count()
    };
    eventually("901 sessions to be closed", || {
        (closed(&server) >= 901).then_some(())
    });
    assert_eq!(closed(&server), 901);
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

/// Sessions opened at the same moment by many clients all work: making
/// room for one never forgets another opened meanwhile (which answered
/// that one's next request 404, seen with 64 benchmark connections).
#[test]
fn sessions_opened_at_once_all_answer() {
    let calculator = example("calculator-rust");
    let server = HttpServer::start("http", &[calculator.to_str().unwrap()]);
    let addr = server.addr.clone();
    for round in 0..4 {
        let clients: Vec<_> = (0..32)
            .map(|i| {
                let addr = addr.clone();
                std::thread::spawn(move || {
                    let session = open_session(&addr);
                    let call = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                        "params": {"name": "multiply", "arguments": {"a": round, "b": i}}});
                    let answer = session_call(&addr, &session, call);
                    assert_eq!(
                        answer.status, 200,
                        "round {round}, client {i}: {}",
                        answer.body
                    );
                    let result = answer.messages().into_iter().find(|m| m["id"] == 2);
                    let product =
                        result.map(|r| r["result"]["structuredContent"]["result"].clone());
                    assert_eq!(
                        product,
                        Some(json!(f64::from(round * i))),
                        "{}",
                        answer.body
                    );
                })
            })
            .collect();
        for client in clients {
            client.join().unwrap();
        }
    }
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
    let sync = SyncDir::new("sigterm");
    let config = sync.config("timing", &test_plugin("timing"), "");
    let server = HttpServer::start("http", &["--config", &config]);
    let session = open_session(&server.addr);
    let addr = server.addr.clone();
    let call = std::thread::spawn(move || {
        session_call(
            &addr,
            &session,
            json!({"jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": {"name": "hold", "arguments": {"id": 9}}}),
        )
    });
    // The call is running in the plugin and cannot end before the release.
    sync.await_started(1);
    server.signal("TERM");
    server.await_stderr("shutting down: no new connections; waiting for calls in flight");
    assert!(!call.is_finished(), "the call in flight was cut off");
    sync.release();
    let response = call.join().unwrap();
    let result = response.messages().into_iter().find(|m| m["id"] == 9);
    assert_eq!(
        result.map(|r| r["result"]["content"][0]["text"].clone()),
        Some(json!("released 9")),
        "{}",
        response.body
    );
    let status = server.wait_exit();
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
    server.await_stderr("calling tool `sleep_forever`");
    assert!(!server.logged("call cancelled"));
    // The client gives up: in 2026-07-28 that is closing the response stream.
    drop(stream);
    server.await_stderr("call cancelled");
}

/// A quick answer is one plain JSON body; an answer with progress before its
/// result, or one slower than `JSON_ANSWER_WAIT`, is an SSE stream, in order.
#[test]
fn quick_answers_are_json_and_the_rest_stream() {
    let sync = SyncDir::new("json-window");
    let config = sync.config("timing", &test_plugin("timing"), "");
    let server = HttpServer::start("http", &["--config", &config]);
    let session = open_session(&server.addr);
    let call = |id: u64, params: Value| {
        session_call(
            &server.addr,
            &session,
            json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": params}),
        )
    };

    // An answer the client had back within the window was ready within it
    // on the server too, so it must be JSON. (Slower round trips, on a busy
    // machine, prove nothing either way and are tried again.)
    for (params, pointer, expected) in [
        (
            json!({"name": "fast", "arguments": {}}),
            "/result/content/0/text",
            json!("fast done"),
        ),
        (
            json!({"name": "no_such_tool", "arguments": {}}),
            "/error/code",
            json!(-32602),
        ),
    ] {
        let quick = eventually("an answer within the JSON window", || {
            let sent = Instant::now();
            let response = call(2, params.clone());
            (sent.elapsed() < corral::JSON_ANSWER_WAIT).then_some(response)
        });
        assert_eq!(quick.status, 200, "{}", quick.body);
        assert_eq!(quick.header("content-type"), Some("application/json"));
        assert!(quick.header("content-length").is_some(), "not chunked");
        let answer: Value = serde_json::from_str(&quick.body)
            .unwrap_or_else(|e| panic!("not one JSON body ({e}): {}", quick.body));
        assert_eq!(answer["id"], 2);
        assert_eq!(answer.pointer(pointer), Some(&expected), "{answer}");
    }

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

    // A call held past the window: the server starts a stream (the head
    // arrives) while the call is still in flight, then sends its result.
    let held = session_start(
        &server.addr,
        &session,
        json!({"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": {"name": "hold", "arguments": {"id": 5}}}),
    );
    assert_eq!(held.status, 200);
    assert_eq!(held.header("content-type"), Some("text/event-stream"));
    assert_eq!(sync.started(), 1);
    sync.release();
    let slow = held.finish();
    let messages = slow.messages();
    assert_eq!(messages.len(), 1, "{}", slow.body);
    assert_eq!(messages[0]["result"]["content"][0]["text"], "released 5");
}
