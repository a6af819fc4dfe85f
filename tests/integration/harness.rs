//! Drives the real `corral` binary over real stdio pipes with JSON-RPC.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// How long any single answer may take before a test fails.
pub const DEADLINE: Duration = Duration::from_secs(60);

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

/// An example plugin built by `cargo xtask plugins`.
pub fn example(name: &str) -> PathBuf {
    built(root().join("plugins/dist").join(format!("{name}.wasm")))
}

/// A test plugin built by `cargo xtask test-plugins`.
pub fn test_plugin(name: &str) -> PathBuf {
    built(
        target_dir()
            .join("test-plugins")
            .join(format!("{name}.wasm")),
    )
}

fn built(path: PathBuf) -> PathBuf {
    assert!(
        path.exists(),
        "{} is missing: run `cargo xtask test` (or `cargo xtask plugins` and `cargo xtask test-plugins`)",
        path.display()
    );
    path
}

/// A scratch directory under target/ that is removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> Self {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = target_dir()
            .join("test-scratch")
            .join(format!("{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Run `tests/interop/SCRIPT ARGS` with the venv's Python (the official MCP
/// SDK) and the tests' compile cache; it must exit 0 and report
/// ` passed, 0 failed`.
pub fn python_client(script: &str, args: &[&str]) {
    let python = target_dir().join("py-venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run `cargo xtask test`, which creates the venv",
        python.display()
    );
    let out = Command::new(python)
        .arg(root().join("tests/interop").join(script))
        .args(args)
        .env("CORRAL_CACHE_DIR", target_dir().join("test-cache"))
        .output()
        .expect("running the Python MCP client");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains(" passed, 0 failed"),
        "{script} {args:?}:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The corral command with the test environment (a private compile cache).
pub fn corral() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_corral"));
    cmd.env("CORRAL_CACHE_DIR", target_dir().join("test-cache"));
    cmd.env_remove("RUST_LOG");
    cmd
}

/// A running `corral serve` with an initialized MCP session.
pub struct Server {
    child: Child,
    stdin: Option<ChildStdin>,
    responses: Receiver<Value>,
    pending: HashMap<u64, Value>,
    /// Every notification received so far, in order.
    pub notifications: Arc<Mutex<Vec<Value>>>,
    /// Every stderr line so far.
    pub stderr: Arc<Mutex<Vec<String>>>,
    /// The `initialize` result (after [`Server::start`]).
    pub initialize_result: Value,
    next_id: u64,
}

impl Server {
    /// Start `corral serve ARGS...` and initialize a 2025-11-25 session.
    pub fn start(args: &[&str]) -> Server {
        Server::start_with(args, &[])
    }

    /// Like [`Server::start`], with extra environment variables.
    pub fn start_with(args: &[&str], env: &[(&str, &str)]) -> Server {
        Server::start_command("serve", args, env)
    }

    /// Start `corral COMMAND ARGS...` (`serve` or `dev`) and initialize a
    /// 2025-11-25 session.
    pub fn start_command(command: &str, args: &[&str], env: &[(&str, &str)]) -> Server {
        let mut server = Server::spawn_with(command, args, env);
        let init = server.request(
            "initialize",
            json!({
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "corral-tests", "version": "0"}
            }),
        );
        assert_eq!(
            init["result"]["protocolVersion"], "2025-11-25",
            "initialize answered {init}"
        );
        server.initialize_result = init["result"].clone();
        server.notify("notifications/initialized", json!({}));
        server
    }

    /// Start `corral COMMAND ARGS...` without initializing.
    fn spawn_with(command: &str, args: &[&str], env: &[(&str, &str)]) -> Server {
        let mut child = corral()
            .arg(command)
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting corral");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, responses) = mpsc::channel();
        let notifications = Arc::new(Mutex::new(Vec::new()));
        let sink = notifications.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let message: Value = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("stdout carried a non-JSON line ({e}): {line}"));
                if message.get("id").is_some() && message.get("method").is_none() {
                    if tx.send(message).is_err() {
                        break;
                    }
                } else {
                    sink.lock().unwrap().push(message);
                }
            }
        });
        let stderr_lines = Arc::new(Mutex::new(Vec::new()));
        let sink = stderr_lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if std::env::var_os("CORRAL_TEST_STDERR").is_some() {
                    eprintln!("corral: {line}");
                }
                sink.lock().unwrap().push(line);
            }
        });
        Server {
            child,
            stdin: Some(stdin),
            responses,
            pending: HashMap::new(),
            notifications,
            stderr: stderr_lines,
            initialize_result: Value::Null,
            next_id: 1,
        }
    }

    pub fn send_raw(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin is open");
        writeln!(stdin, "{line}").expect("writing to corral");
        stdin.flush().unwrap();
    }

    /// Send a request; returns its id without waiting.
    pub fn send(&mut self, method: &str, params: Value) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        let message = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        self.send_raw(&message.to_string());
        id
    }

    pub fn notify(&mut self, method: &str, params: Value) {
        let message = json!({"jsonrpc": "2.0", "method": method, "params": params});
        self.send_raw(&message.to_string());
    }

    /// Wait for the response to `id`.
    pub fn wait(&mut self, id: u64) -> Value {
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Some(response) = self.pending.remove(&id) {
                return response;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.responses.recv_timeout(left) {
                Ok(response) => {
                    let rid = response["id"].as_u64().expect("numeric response id");
                    self.pending.insert(rid, response);
                }
                Err(RecvTimeoutError::Timeout) => panic!(
                    "no response to request {id} within {DEADLINE:?}; stderr:\n{}",
                    self.stderr_text()
                ),
                Err(RecvTimeoutError::Disconnected) => panic!(
                    "corral closed stdout before answering {id}; stderr:\n{}",
                    self.stderr_text()
                ),
            }
        }
    }

    /// Whether a response to `id` has arrived (without waiting).
    pub fn has_response(&mut self, id: u64) -> bool {
        while let Ok(response) = self.responses.try_recv() {
            let rid = response["id"].as_u64().expect("numeric response id");
            self.pending.insert(rid, response);
        }
        self.pending.contains_key(&id)
    }

    /// Wait for the next response of any id; returns it.
    pub fn next_response(&mut self) -> Value {
        match self.responses.recv_timeout(DEADLINE) {
            Ok(response) => response,
            Err(e) => panic!("no response ({e:?}); stderr:\n{}", self.stderr_text()),
        }
    }

    pub fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.send(method, params);
        self.wait(id)
    }

    /// `tools/call`; returns the `result` (panics on a JSON-RPC error).
    pub fn call_tool(&mut self, name: &str, arguments: Value) -> Value {
        let response = self.request("tools/call", json!({"name": name, "arguments": arguments}));
        response
            .get("result")
            .cloned()
            .unwrap_or_else(|| panic!("tools/call {name} failed: {response}"))
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn stderr_text(&self) -> String {
        self.stderr.lock().unwrap().join("\n")
    }

    /// Close stdin and wait for a clean exit.
    pub fn shutdown(mut self) {
        drop(self.stdin.take());
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "corral exited with {status}");
                return;
            }
            assert!(
                Instant::now() < deadline,
                "corral did not exit after stdin closed"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The text of a tool result's first content block.
pub fn text(result: &Value) -> &str {
    result["content"][0]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("no text content in {result}"))
}

/// Retry `check` until it returns `Some` or the deadline passes.
pub fn eventually<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + DEADLINE;
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The resident set size of process `pid`, in KiB (Linux).
pub fn rss_kib(pid: u32) -> u64 {
    status_kib(pid, "VmRSS:")
}

/// The highest resident set size process `pid` has had, in KiB (Linux):
/// catches a peak that is gone by the time a call returns.
pub fn peak_rss_kib(pid: u32) -> u64 {
    status_kib(pid, "VmHWM:")
}

fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap()
}
