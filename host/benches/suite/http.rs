//! Streamable HTTP through the real processes: throughput and latency with
//! 1, 16 and 64 concurrent connections (one 2025-11-25 session each),
//! Corral and FastMCP; and the server's RSS under the heaviest load.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::h1::Connection;
use crate::{MULTIPLY, Report, Scale, Servers, Stats, root};

const SECTION: &str = "Streamable HTTP (real processes, `multiply`, one session per connection)";
const CONNECTIONS: [usize; 3] = [1, 16, 64];

struct HttpChild(Child);

impl Drop for HttpChild {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Start `cmd` and wait until it accepts connections on `port`.
fn start(mut cmd: Command, port: u16) -> HttpChild {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {cmd:?}: {e}"));
    let child = HttpChild(child);
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "{cmd:?} never listened on {port}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

fn body(id: u64, rest: &str) -> String {
    format!(r#"{{"jsonrpc":"2.0","id":{id},{rest}}}"#)
}

/// One connection: a session, then calls until `stop`; returns latencies.
async fn connection(url: String, stop: Arc<AtomicBool>, total: Arc<AtomicU64>) -> Vec<Duration> {
    let mut connection = Connection::open(&url).await;
    let init = connection
        .post(
            &body(
                0,
                r#""method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"bench","version":"0"}}"#,
            ),
            None,
        )
        .await;
    let session = init.session;
    connection
        .post(
            r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
            session.as_deref(),
        )
        .await;
    let mut samples = Vec::new();
    let mut id = 1;
    while !stop.load(Ordering::Relaxed) {
        let started = Instant::now();
        let answer = connection
            .post(&body(id, MULTIPLY), session.as_deref())
            .await;
        samples.push(started.elapsed());
        assert!(
            answer.body.contains("42"),
            "unexpected answer: {}",
            answer.body
        );
        total.fetch_add(1, Ordering::Relaxed);
        id += 1;
    }
    samples
}

/// Peak RSS of `pid` while `stop` is unset, sampled every 50 ms.
fn sample_rss(pid: u32, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<u64> {
    std::thread::spawn(move || {
        let mut peak = 0;
        while !stop.load(Ordering::Relaxed) {
            peak = peak.max(crate::coldstart::rss_kib(pid));
            std::thread::sleep(Duration::from_millis(50));
        }
        peak
    })
}

async fn load(report: &mut Report, who: &str, url: &str, pid: u32, duration: Duration) {
    for conns in CONNECTIONS {
        let stop = Arc::new(AtomicBool::new(false));
        let total = Arc::new(AtomicU64::new(0));
        let sampler = (conns == 64).then(|| sample_rss(pid, stop.clone()));
        let tasks: Vec<_> = (0..conns)
            .map(|_| tokio::spawn(connection(url.to_owned(), stop.clone(), total.clone())))
            .collect();
        // Warm up, then count only the measured window.
        tokio::time::sleep(duration / 4).await;
        let before = total.load(Ordering::Relaxed);
        let started = Instant::now();
        tokio::time::sleep(duration).await;
        let calls = total.load(Ordering::Relaxed) - before;
        let took = started.elapsed();
        stop.store(true, Ordering::Relaxed);
        let mut samples = Vec::new();
        for task in tasks {
            samples.extend(task.await.unwrap());
        }
        let stats = Stats::of(samples);
        report.row(
            SECTION,
            &format!("HTTP {conns} connection(s): {who}"),
            &[
                ("calls_per_s", calls as f64 / took.as_secs_f64()),
                ("p50_us", crate::report::us(stats.p50)),
                ("p99_us", crate::report::us(stats.p99)),
            ],
        );
        if let Some(sampler) = sampler {
            let peak = sampler.join().unwrap();
            report.row(
                "memory",
                &format!("RSS under load (64 HTTP connections): {who}"),
                &[("rss_mib", peak as f64 / 1024.0)],
            );
        }
    }
}

pub async fn run(scale: &Scale, servers: &Servers, cache: &Path, report: &mut Report) {
    let calculator = root().join("plugins/dist/calculator-rust.wasm");
    let port = free_port();
    let port_text = port.to_string();
    let corral = start(
        servers.corral(
            &[
                calculator.to_str().unwrap(),
                "--transport",
                "http",
                "--port",
                &port_text,
                "--max-sessions",
                "1024",
            ],
            cache,
        ),
        port,
    );
    let url = format!("http://127.0.0.1:{port}/mcp");
    load(report, "Corral", &url, corral.0.id(), scale.http_for).await;
    drop(corral);
    let port = free_port();
    let port_text = port.to_string();
    if let Some(cmd) = servers.fastmcp(&["--transport", "http", "--port", &port_text]) {
        let fastmcp = start(cmd, port);
        let url = format!("http://127.0.0.1:{port}/mcp");
        load(report, "FastMCP", &url, fastmcp.0.id(), scale.http_for).await;
    }
}
