//! Drives the real `corral` binary over real stdio pipes with JSON-RPC.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Condvar, Mutex};
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

pub fn target_dir() -> PathBuf {
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

/// A directory granted to a plugin as `/sync`, for the `hold` tools of the
/// timing and versioned plugins: each call marks itself started here (the
/// file `started-ID`) and returns once the file `release` exists. A test
/// sees which calls are in flight and ends them when it chooses, with no
/// clock involved.
pub struct SyncDir(TempDir);

impl SyncDir {
    pub fn new(name: &str) -> Self {
        let dir = TempDir::new(name);
        std::fs::create_dir(dir.0.join("sync")).unwrap();
        SyncDir(dir)
    }

    pub fn path(&self) -> PathBuf {
        self.0.0.join("sync")
    }

    /// A scratch directory beside the sync directory.
    pub fn scratch(&self) -> &Path {
        &self.0.0
    }

    /// Write a corral.toml that serves `plugin` as `[plugins.NAME]` with
    /// `/sync` granted read-write, plus the TOML lines `extra` (in the
    /// plugin's table); returns its path.
    pub fn config(&self, name: &str, plugin: &Path, extra: &str) -> String {
        self.config_with("", name, plugin, extra)
    }

    /// Like [`SyncDir::config`], with the TOML `preamble` (tables such as
    /// `[limits]`) first.
    pub fn config_with(&self, preamble: &str, name: &str, plugin: &Path, extra: &str) -> String {
        let path = self.0.0.join("corral.toml");
        let text = format!(
            "{preamble}\n[plugins.{name}]\npath = \"{}\"\n{extra}\n\n[plugins.{name}.dirs]\n\"/sync\" = {{ host = \"{}\", mode = \"rw\" }}\n",
            plugin.display(),
            self.path().display()
        );
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_owned()
    }

    /// How many calls have started.
    pub fn started(&self) -> usize {
        std::fs::read_dir(self.path())
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with("started-")
            })
            .count()
    }

    /// Wait until at least `n` calls have started.
    pub fn await_started(&self, n: usize) {
        eventually(&format!("{n} calls to start"), || {
            (self.started() >= n).then_some(())
        });
    }

    /// Let every call that holds (and every later one) return.
    pub fn release(&self) {
        std::fs::write(self.path().join("release"), b"").unwrap();
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

/// What the stdout reader sends: a response, or the first line that was
/// not JSON (after which it stops).
type StdoutMessage = Result<Value, String>;

/// A running `corral serve` with an initialized MCP session.
///
/// stdout must carry only JSON-RPC: the first line that is not JSON fails
/// the test at once. Every method that reads (`wait`, `next_response`,
/// `has_response`, `stderr_text`, `shutdown`) and dropping the server
/// panic with it, and `notifications` is poisoned, so reading it panics too.
pub struct Server {
    child: Child,
    stdin: Option<ChildStdin>,
    responses: Receiver<StdoutMessage>,
    pending: HashMap<u64, Value>,
    /// The first non-JSON line on stdout, if one came.
    bad_stdout: Arc<Mutex<Option<String>>>,
    /// Whether the stdout reader may read (see [`Server::pause_stdout`]).
    reading: Arc<(Mutex<bool>, Condvar)>,
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

    /// Start `corral serve ARGS...` in the directory `dir` (where it looks
    /// for a `corral.toml`) and initialize a 2025-11-25 session.
    pub fn start_in(dir: &Path, args: &[&str]) -> Server {
        let mut cmd = corral();
        cmd.current_dir(dir).arg("serve").args(args);
        Server::spawn(cmd).initialized()
    }

    /// Start `corral COMMAND ARGS...` (`serve` or `dev`) and initialize a
    /// 2025-11-25 session.
    pub fn start_command(command: &str, args: &[&str], env: &[(&str, &str)]) -> Server {
        let mut cmd = corral();
        cmd.arg(command).args(args).envs(env.iter().copied());
        Server::spawn(cmd).initialized()
    }

    /// Initialize a 2025-11-25 session.
    fn initialized(mut self) -> Server {
        let init = self.request(
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
        self.initialize_result = init["result"].clone();
        self.notify("notifications/initialized", json!({}));
        self
    }

    /// Spawn `cmd` (a corral command) with piped stdio and start reading.
    fn spawn(mut cmd: Command) -> Server {
        let mut child = cmd
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
        let bad_stdout = Arc::new(Mutex::new(None));
        let reading = Arc::new((Mutex::new(true), Condvar::new()));
        let sink = notifications.clone();
        let bad = bad_stdout.clone();
        let gate = reading.clone();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            loop {
                {
                    let (paused, wake) = &*gate;
                    let mut open = paused.lock().unwrap();
                    while !*open {
                        open = wake.wait(open).unwrap();
                    }
                }
                let Some(Ok(line)) = lines.next() else { break };
                match serde_json::from_str::<Value>(&line) {
                    Ok(message)
                        if message.get("id").is_some() && message.get("method").is_none() =>
                    {
                        if tx.send(Ok(message)).is_err() {
                            break;
                        }
                    }
                    Ok(message) => sink.lock().unwrap().push(message),
                    Err(e) => {
                        let report = format!("stdout carried a non-JSON line ({e}): {line}");
                        *bad.lock().unwrap() = Some(report.clone());
                        let _ = tx.send(Err(report.clone()));
                        // Panicking with the lock held poisons `notifications`:
                        // a test that reads them fails here too.
                        let _poisoned = sink.lock().unwrap();
                        panic!("{report}");
                    }
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
                sink.lock().unwrap_or_else(|e| e.into_inner()).push(line);
            }
        });
        Server {
            child,
            stdin: Some(stdin),
            responses,
            pending: HashMap::new(),
            bad_stdout,
            reading,
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

    /// Panic if stdout carried a line that is not JSON.
    fn check_stdout(&self) {
        if let Some(report) = self.bad_stdout.lock().unwrap().as_ref() {
            panic!("{report}; stderr:\n{}", self.stderr_lines());
        }
    }

    /// A response the reader sent, or the panic its bad line calls for.
    fn accept(&self, message: StdoutMessage) -> Value {
        message.unwrap_or_else(|report| panic!("{report}; stderr:\n{}", self.stderr_lines()))
    }

    /// Wait for the response to `id`.
    pub fn wait(&mut self, id: u64) -> Value {
        self.check_stdout();
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Some(response) = self.pending.remove(&id) {
                return response;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.responses.recv_timeout(left) {
                Ok(message) => {
                    let response = self.accept(message);
                    let rid = response["id"].as_u64().expect("numeric response id");
                    self.pending.insert(rid, response);
                }
                Err(RecvTimeoutError::Timeout) => panic!(
                    "no response to request {id} within {DEADLINE:?}; stderr:\n{}",
                    self.stderr_lines()
                ),
                Err(RecvTimeoutError::Disconnected) => panic!(
                    "corral closed stdout before answering {id}; stderr:\n{}",
                    self.stderr_lines()
                ),
            }
        }
    }

    /// Whether a response to `id` has arrived (without waiting).
    pub fn has_response(&mut self, id: u64) -> bool {
        self.check_stdout();
        while let Ok(message) = self.responses.try_recv() {
            let response = self.accept(message);
            let rid = response["id"].as_u64().expect("numeric response id");
            self.pending.insert(rid, response);
        }
        self.pending.contains_key(&id)
    }

    /// Wait for the next response of any id (one already received but not
    /// yet waited for comes first); returns it.
    pub fn next_response(&mut self) -> Value {
        self.check_stdout();
        if let Some(&id) = self.pending.keys().min() {
            return self.pending.remove(&id).unwrap();
        }
        match self.responses.recv_timeout(DEADLINE) {
            Ok(message) => self.accept(message),
            Err(e) => panic!("no response ({e:?}); stderr:\n{}", self.stderr_lines()),
        }
    }

    /// Stop reading stdout until [`Server::resume_stdout`]: the server's
    /// writes back up as they would behind a slow client. At most the line
    /// being read when this is called still arrives.
    pub fn pause_stdout(&self) {
        *self.reading.0.lock().unwrap() = false;
    }

    /// Read stdout again after [`Server::pause_stdout`].
    pub fn resume_stdout(&self) {
        let (open, wake) = &*self.reading;
        *open.lock().unwrap() = true;
        wake.notify_all();
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

    /// Everything on stderr so far (panics if stdout carried a non-JSON line).
    pub fn stderr_text(&self) -> String {
        self.check_stdout();
        self.stderr_lines()
    }

    fn stderr_lines(&self) -> String {
        self.stderr
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .join("\n")
    }

    /// How many notifications with `method` have arrived so far.
    pub fn notification_count(&self, method: &str) -> usize {
        let seen = self.notifications.lock().unwrap();
        seen.iter().filter(|n| n["method"] == method).count()
    }

    /// How many stderr lines so far contain `what`.
    pub fn stderr_count(&self, what: &str) -> usize {
        self.check_stdout();
        let lines = self.stderr.lock().unwrap_or_else(|e| e.into_inner());
        lines.iter().filter(|l| l.contains(what)).count()
    }

    /// Wait until a stderr line contains `what` (stderr can lag behind
    /// stdout); a timeout shows stderr.
    pub fn await_stderr(&self, what: &str) {
        let deadline = Instant::now() + DEADLINE;
        while self.stderr_count(what) == 0 {
            assert!(
                Instant::now() < deadline,
                "no stderr line contains {what:?} after {DEADLINE:?}; stderr:\n{}",
                self.stderr_lines()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Once corral has exited: read what is left on stdout, so that a bad
    /// last line fails the test too.
    fn read_to_end(&mut self) {
        self.resume_stdout();
        let deadline = Instant::now() + DEADLINE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.responses.recv_timeout(left) {
                Ok(message) => {
                    self.accept(message);
                }
                Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => panic!("stdout stayed open after corral exited"),
            }
        }
        self.check_stdout();
    }

    /// Close stdin and wait for a clean exit.
    pub fn shutdown(mut self) {
        self.check_stdout();
        drop(self.stdin.take());
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "corral exited with {status}");
                self.read_to_end();
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
        if !std::thread::panicking() {
            self.read_to_end();
        }
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

/// Reset the peak resident set size of process `pid` to its current RSS
/// (Linux), so that [`peak_rss_kib`] then shows the peak since this call.
pub fn reset_peak_rss(pid: u32) {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").unwrap();
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
