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
/// How the transport floor is named in the report.
pub const FLOOR: &str = "floor (axum, canned answer)";

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
async fn connection(
    url: String,
    bearer: Option<String>,
    stop: Arc<AtomicBool>,
    total: Arc<AtomicU64>,
) -> Vec<Duration> {
    let mut connection = Connection::open(&url).await.with_bearer(bearer);
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

/// The transport's floor on this machine: an axum server on its own
/// 2-thread runtime (as a server process would have) that answers each POST
/// at once with a canned `multiply` result: no MCP session, no sandbox.
/// Measured by the same client, it shows how much of a round trip is HTTP
/// itself, which no MCP server can go below.
struct Floor {
    port: u16,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Floor {
    fn start() -> Floor {
        use axum::http::{HeaderMap, StatusCode};
        use axum::response::IntoResponse;
        async fn answer(body: String) -> axum::response::Response {
            let request: serde_json::Value = serde_json::from_str(&body).unwrap();
            let Some(id) = request.get("id") else {
                return StatusCode::ACCEPTED.into_response();
            };
            let result = serde_json::json!({
                "jsonrpc": "2.0", "id": id,
                "result": {"content": [{"type": "text", "text": "42.0"}], "structuredContent": {"result": 42.0}}
            });
            let mut headers = HeaderMap::new();
            headers.insert("content-type", "application/json".parse().unwrap());
            headers.insert("mcp-session-id", "floor".parse().unwrap());
            (headers, result.to_string()).into_response()
        }
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                let listener = axum::serve::ListenerExt::tap_io(listener, |stream| {
                    let _ = stream.set_nodelay(true);
                });
                let app = axum::Router::new().route("/mcp", axum::routing::post(answer));
                axum::serve(listener, app)
                    .with_graceful_shutdown(async move {
                        let _ = stopped.await;
                    })
                    .await
                    .unwrap();
            });
        });
        Floor {
            port,
            stop: Some(stop),
            thread: Some(thread),
        }
    }
}

impl Drop for Floor {
    fn drop(&mut self) {
        let _ = self.stop.take().map(|stop| stop.send(()));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// How long after the heaviest run the server's RSS is read again.
const AFTER_LOAD: Duration = Duration::from_secs(2);

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

/// Where `load` sends its calls and how.
struct Target<'a> {
    /// Named in the rows (`Corral`, `FastMCP`).
    who: &'a str,
    url: &'a str,
    /// The server's process, whose RSS is sampled at 64 connections.
    pid: Option<u32>,
    /// A bearer token sent with every request.
    bearer: Option<&'a str>,
}

async fn load(report: &mut Report, target: Target<'_>, connections: &[usize], duration: Duration) {
    let Target {
        who,
        url,
        pid,
        bearer,
    } = target;
    for &conns in connections {
        let stop = Arc::new(AtomicBool::new(false));
        let total = Arc::new(AtomicU64::new(0));
        let sampler = pid
            .filter(|_| conns == 64)
            .map(|pid| sample_rss(pid, stop.clone()));
        let tasks: Vec<_> = (0..conns)
            .map(|_| {
                let bearer = bearer.map(str::to_owned);
                tokio::spawn(connection(
                    url.to_owned(),
                    bearer,
                    stop.clone(),
                    total.clone(),
                ))
            })
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
            // What the burst left behind: the connections are closed, the
            // sessions still open, and the allocator has had time to give
            // freed memory back.
            tokio::time::sleep(AFTER_LOAD).await;
            let pid = pid.unwrap_or_default();
            let after = (
                crate::coldstart::rss_kib(pid),
                crate::coldstart::anon_kib(pid),
            );
            report.row(
                "memory",
                &format!("RSS 2 s after the load: {who}"),
                &crate::coldstart::mib(after),
            );
        }
    }
}

/// The HS256 secret the JWT row's Corral checks tokens with.
const JWT_SECRET: &str = "corral-bench-secret-of-at-least-32-bytes";

/// A Corral config requiring HS256 bearer tokens; written under `dir`.
fn jwt_config(dir: &Path, calculator: &Path) -> std::path::PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join("jwt.toml");
    std::fs::write(
        &path,
        format!(
            "[server.auth]\nissuer = \"https://issuer.bench\"\naudience = \"https://mcp.bench/mcp\"\n\
             hs256_secret_env = \"CORRAL_BENCH_JWT_SECRET\"\nrequired_scopes = [\"mcp\"]\n\n\
             [plugins.calculator]\npath = \"{}\"\n",
            calculator.display()
        ),
    )
    .unwrap();
    path
}

/// An HS256 token the JWT row's Corral accepts, valid for a day.
fn jwt() -> String {
    use base64::Engine;
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 86_400;
    let claims = serde_json::json!({
        "iss": "https://issuer.bench", "aud": "https://mcp.bench/mcp",
        "sub": "bench", "scope": "mcp", "exp": exp,
    });
    let input = format!(
        "{}.{}",
        b64(br#"{"alg":"HS256","typ":"JWT"}"#),
        b64(claims.to_string().as_bytes())
    );
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, JWT_SECRET.as_bytes());
    let signature = ring::hmac::sign(&key, input.as_bytes());
    format!("{input}.{}", b64(signature.as_ref()))
}

/// Start Corral over HTTP on a free port with `args`; its URL.
fn corral_http(servers: &Servers, cache: &Path, args: &[&str]) -> (HttpChild, String) {
    let port = free_port();
    let port_text = port.to_string();
    let mut all = args.to_vec();
    all.extend([
        "--transport",
        "http",
        "--port",
        &port_text,
        "--max-sessions",
        "1024",
    ]);
    let mut cmd = servers.corral(&all, cache);
    cmd.env("CORRAL_BENCH_JWT_SECRET", JWT_SECRET);
    (start(cmd, port), format!("http://127.0.0.1:{port}/mcp"))
}

pub async fn run(scale: &Scale, servers: &Servers, cache: &Path, report: &mut Report) {
    let floor = Floor::start();
    let url = format!("http://127.0.0.1:{}/mcp", floor.port);
    let floor_target = Target {
        who: FLOOR,
        url: &url,
        pid: None,
        bearer: None,
    };
    load(report, floor_target, &CONNECTIONS, scale.http_for).await;
    drop(floor);
    let calculator = root().join("plugins/dist/calculator-rust.wasm");
    let (corral, url) = corral_http(servers, cache, &[calculator.to_str().unwrap()]);
    let target = Target {
        who: "Corral",
        url: &url,
        pid: Some(corral.0.id()),
        bearer: None,
    };
    load(report, target, &CONNECTIONS, scale.http_for).await;
    drop(corral);
    // The cost of bearer auth: every request's JWT is checked (signature
    // once, then from the verified-token cache; claims every time).
    let config = jwt_config(&cache.join("bench-jwt"), &calculator);
    let (corral, url) = corral_http(servers, cache, &["--config", config.to_str().unwrap()]);
    let token = jwt();
    let target = Target {
        who: "Corral, JWT auth",
        url: &url,
        pid: None,
        bearer: Some(&token),
    };
    load(report, target, &[16], scale.http_for).await;
    drop(corral);
    let port = free_port();
    let port_text = port.to_string();
    if let Some(cmd) = servers.fastmcp(&["--transport", "http", "--port", &port_text]) {
        let fastmcp = start(cmd, port);
        let url = format!("http://127.0.0.1:{port}/mcp");
        let target = Target {
            who: "FastMCP",
            url: &url,
            pid: Some(fastmcp.0.id()),
            bearer: None,
        };
        load(report, target, &CONNECTIONS, scale.http_for).await;
    }
}
