//! MCP over stdio through the real processes: sequential round trips and
//! pipelined throughput (64 calls in flight), Corral and FastMCP.

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{MULTIPLY, Report, Scale, Servers, Stats, root};

const SECTION: &str = "stdio (real processes, `multiply`)";
const IN_FLIGHT: usize = 64;

/// An initialized MCP session with a child process over its stdio.
pub struct StdioSession {
    child: Child,
    stdin: Option<BufWriter<ChildStdin>>,
    stdout: BufReader<ChildStdout>,
    next_id: u64,
}

impl StdioSession {
    /// Spawn `cmd` and initialize a 2025-11-25 session.
    pub fn start(mut cmd: Command) -> Self {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {cmd:?}: {e}"));
        let stdin = BufWriter::new(child.stdin.take().unwrap());
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let mut session = StdioSession {
            child,
            stdin: Some(stdin),
            stdout,
            next_id: 1,
        };
        session.request(
            r#""method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"bench","version":"0"}}"#,
        );
        session.send_line(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
        session
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    fn send_line(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().unwrap();
        stdin.write_all(line.as_bytes()).unwrap();
        stdin.write_all(b"\n").unwrap();
        stdin.flush().unwrap();
    }

    /// Send `{"jsonrpc":"2.0","id":N,BODY}` and wait for its answer (lines
    /// that are notifications are skipped). Panics on a JSON-RPC error or an
    /// answer to another request.
    pub fn request(&mut self, body: &str) -> String {
        let id = self.next_id;
        self.next_id += 1;
        self.send_line(&format!(r#"{{"jsonrpc":"2.0","id":{id},{body}}}"#));
        let mut line = String::new();
        loop {
            line.clear();
            let n = self.stdout.read_line(&mut line).unwrap();
            assert!(n > 0, "the server closed stdout");
            // A notification (a task's status carries its result too).
            if line.starts_with(r#"{"jsonrpc":"2.0","method""#) {
                continue;
            }
            if line.contains(r#""result""#) || line.contains(r#""error""#) {
                assert!(!line.contains(r#""error""#), "error answer: {line}");
                assert_eq!(
                    answer_id(&line),
                    Some(id),
                    "answer to another request: {line}"
                );
                return line;
            }
        }
    }

    /// `warm_up` untimed calls of `body`, then `n` timed round trips, each
    /// answer checked with `expected`.
    pub fn round_trips(
        &mut self,
        body: &str,
        warm_up: usize,
        n: usize,
        expected: fn(&str) -> bool,
    ) -> Stats {
        for _ in 0..warm_up {
            self.request(body);
        }
        let mut samples = Vec::with_capacity(n);
        for _ in 0..n {
            let started = Instant::now();
            let answer = self.request(body);
            samples.push(started.elapsed());
            assert!(expected(&answer), "unexpected answer: {answer}");
        }
        Stats::of(samples)
    }

    /// Send `n` requests of `body` with at most `window` unanswered, each
    /// answer checked with `expected`; the time from the first send to the
    /// last answer.
    pub fn pipelined(
        &mut self,
        body: &str,
        n: usize,
        window: usize,
        expected: fn(&str) -> bool,
    ) -> Duration {
        let (tokens, take) = std::sync::mpsc::sync_channel::<()>(window);
        for _ in 0..window {
            tokens.send(()).unwrap();
        }
        let mut stdin = self.stdin.take().unwrap();
        let first_id = self.next_id;
        self.next_id += n as u64;
        let body = body.to_owned();
        let started = Instant::now();
        let writer = std::thread::spawn(move || {
            for i in 0..n as u64 {
                take.recv().unwrap();
                let id = first_id + i;
                writeln!(stdin, r#"{{"jsonrpc":"2.0","id":{id},{body}}}"#).unwrap();
                stdin.flush().unwrap();
            }
            stdin
        });
        let mut line = String::new();
        let mut answered = 0;
        // Every request is answered once, with the expected result: a cheap
        // check of each line (a substring and the id), not a JSON parse.
        let mut seen = vec![false; n];
        while answered < n {
            line.clear();
            let read = self.stdout.read_line(&mut line).unwrap();
            assert!(read > 0, "the server closed stdout");
            if line.contains(r#""result""#) {
                assert!(expected(&line), "unexpected answer: {line}");
                let slot = answer_id(&line)
                    .and_then(|id| id.checked_sub(first_id))
                    .and_then(|i| seen.get_mut(i as usize))
                    .unwrap_or_else(|| panic!("answer to no request sent: {line}"));
                assert!(!*slot, "answered twice: {line}");
                *slot = true;
                answered += 1;
                let _ = tokens.try_send(());
            } else {
                assert!(!line.contains(r#""error""#), "error answer: {line}");
            }
        }
        let took = started.elapsed();
        self.stdin = Some(writer.join().unwrap());
        took
    }

    /// Close stdin and wait for the process to exit.
    pub fn stop(mut self) {
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for StdioSession {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The id of a JSON-RPC answer line (`"id":N`), without parsing the JSON.
fn answer_id(line: &str) -> Option<u64> {
    let rest = line.split_once(r#""id":"#)?.1.trim_start();
    let digits = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    rest[..digits].parse().ok()
}

/// Whether a line answers `multiply` 6 × 7 (`"result":42` or `42.0` in the
/// structured content).
fn is_product(line: &str) -> bool {
    line.contains(r#""result":42"#) && !line.contains(r#""isError":true"#)
}

/// Sequential round trips and pipelined calls of `multiply` through `cmd`,
/// as rows of `section`.
pub fn measure(report: &mut Report, section: &'static str, scale: &Scale, who: &str, cmd: Command) {
    let mut session = StdioSession::start(cmd);
    let n = scale.round_trips;
    let stats = session.round_trips(MULTIPLY, n.min(200), n, is_product);
    report.latency(section, &format!("stdio sequential: {who}"), n, &stats);
    let n = scale.pipelined;
    let took = session.pipelined(MULTIPLY, n, IN_FLIGHT, is_product);
    report.row(
        section,
        &format!("stdio pipelined ({IN_FLIGHT} in flight): {who}"),
        &[
            ("n", n as f64),
            ("calls_per_s", n as f64 / took.as_secs_f64()),
        ],
    );
    session.stop();
}

/// The Python tool both servers have: `mean` of four numbers.
const MEAN: &str =
    r#""method":"tools/call","params":{"name":"mean","arguments":{"numbers":[1,2,3,4]}}"#;

/// Whether a line answers `mean` of 1, 2, 3, 4 (`"result":2.5`).
fn is_mean(line: &str) -> bool {
    line.contains(r#""result":2.5"#) && !line.contains(r#""isError":true"#)
}

/// Sequential round trips of a tool of a big component (Python, or
/// JavaScript) through `cmd`: Corral's plugin (a fresh instance per call)
/// or the same tool in FastMCP. `tool` names the row; `request` and `answered` are the call and
/// the check of its answer.
fn python_round_trips(
    report: &mut Report,
    scale: &Scale,
    tool: &str,
    (request, answered): (&str, fn(&str) -> bool),
    who: &str,
    cmd: Command,
) {
    let mut session = StdioSession::start(cmd);
    let n = (scale.round_trips / 5).max(50);
    let stats = session.round_trips(request, n.min(100), n, answered);
    report.latency(
        PYTHON_SECTION,
        &format!("stdio sequential, {tool}: {who}"),
        n,
        &stats,
    );
    session.stop();
}

const PYTHON_SECTION: &str = "stdio (real processes, Python and JavaScript tools)";

pub fn run(scale: &Scale, servers: &Servers, cache: &Path, report: &mut Report) {
    let stats = root().join("plugins/dist/stats-python.wasm");
    let mean = (MEAN, is_mean as fn(&str) -> bool);
    python_round_trips(
        report,
        scale,
        "Python `mean`",
        mean,
        "Corral",
        servers.corral(&[stats.to_str().unwrap()], cache),
    );
    if let Some(cmd) = servers.fastmcp(&[]) {
        python_round_trips(report, scale, "Python `mean`", mean, "FastMCP", cmd);
    }
    // The seed's multiply written with the Python SDK, against FastMCP's.
    let seed = root().join("plugins/dist/sdk/seed-python.wasm");
    let multiply = (MULTIPLY, is_product as fn(&str) -> bool);
    python_round_trips(
        report,
        scale,
        "Python SDK `multiply`",
        multiply,
        "Corral",
        servers.corral(&[seed.to_str().unwrap()], cache),
    );
    if let Some(cmd) = servers.fastmcp(&[]) {
        python_round_trips(
            report,
            scale,
            "Python SDK `multiply`",
            multiply,
            "FastMCP",
            cmd,
        );
    }
    let seed = root().join("plugins/dist/sdk/seed-js.wasm");
    python_round_trips(
        report,
        scale,
        "JavaScript SDK `multiply`",
        multiply,
        "Corral",
        servers.corral(&[seed.to_str().unwrap()], cache),
    );
    let calculator = root().join("plugins/dist/calculator-rust.wasm");
    measure(
        report,
        SECTION,
        scale,
        "Corral",
        servers.corral(&[calculator.to_str().unwrap()], cache),
    );
    // The same with metrics recorded (and served on a listener of their
    // own): what counting every call costs.
    let metrics = [
        calculator.to_str().unwrap(),
        "--metrics-addr",
        "127.0.0.1:0",
    ];
    measure(
        report,
        SECTION,
        scale,
        "Corral, metrics on",
        servers.corral(&metrics, cache),
    );
    if let Some(cmd) = servers.fastmcp(&[]) {
        // FastMCP is slower per call: fewer calls keep the run short.
        let fewer = Scale {
            round_trips: (scale.round_trips / 5).max(50),
            pipelined: (scale.pipelined / 10).max(100),
            ..*scale
        };
        measure(report, SECTION, &fewer, "FastMCP", cmd);
    }
}
