//! Bearer auth (`[server.auth]`) against the real binary, with the official
//! Python SDK minting and presenting tokens (tests/interop/auth_client.py):
//! the auth matrix in both protocol eras, sessions bound to their token,
//! `DELETE` answered 200, key rotation picked up from a JWKS URL served
//! here, and the legacy SSE transport behind the same check.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::harness::{TempDir, eventually, example, python_client};
use crate::http::{HttpServer, request};

/// A JWKS served over loopback HTTP, whose document can be swapped, and
/// which counts the times it was fetched.
struct JwksServer {
    url: String,
    document: Arc<Mutex<Vec<u8>>>,
    fetches: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl JwksServer {
    fn start(document: Vec<u8>) -> JwksServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
        let document = Arc::new(Mutex::new(document));
        let fetches = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (served, counted, stopped) = (document.clone(), fetches.clone(), stop.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                    line.clear();
                }
                counted.fetch_add(1, Ordering::SeqCst);
                let body = served.lock().unwrap().clone();
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(&body);
            }
        });
        JwksServer {
            url,
            document,
            fetches,
            stop,
        }
    }
}

impl Drop for JwksServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = std::net::TcpStream::connect(
            self.url
                .trim_start_matches("http://")
                .split('/')
                .next()
                .unwrap(),
        );
    }
}

fn auth_config(dir: &std::path::Path, jwks: &str) -> String {
    let config = dir.join("corral.toml");
    std::fs::write(
        &config,
        format!(
            "[server.auth]\nissuer = \"https://issuer.test\"\naudience = \"https://mcp.test/mcp\"\njwks = \"{jwks}\"\nrequired_scopes = [\"mcp\"]\n"
        ),
    )
    .unwrap();
    config.to_str().unwrap().to_owned()
}

#[test]
fn bearer_auth_matrix_rotation_and_sessions_with_the_python_sdk() {
    let dir = TempDir::new("auth");
    let keys = dir.0.join("keys");
    let keys = keys.to_str().unwrap();
    python_client("auth_client.py", &["keys", keys]);
    let read = |name: &str| std::fs::read(dir.0.join("keys").join(name)).unwrap();
    let jwks = JwksServer::start(read("jwks.json"));
    let config = auth_config(&dir.0, &jwks.url);
    let plugin = example("calculator-rust");
    let server = HttpServer::start("http", &["--config", &config, plugin.to_str().unwrap()]);
    let url = server.url("/mcp");

    // Health and readiness need no token; ready once the plugins loaded.
    let health = request(&server.addr, "GET", "/healthz", &[], b"");
    assert_eq!((health.status, health.body.as_str()), (200, "ok"));
    eventually("/readyz to answer 200", || {
        let ready = request(&server.addr, "GET", "/readyz", &[], b"");
        assert!(matches!(ready.status, 200 | 503), "{}", ready.body);
        (ready.status == 200).then_some(())
    });

    python_client("auth_client.py", &["matrix", "--url", &url, "--keys", keys]);

    // Rotation: the issuer publishes a new set; tokens with made-up key ids
    // do not make the server fetch it more than once per JWKS_MIN_REFETCH.
    *jwks.document.lock().unwrap() = read("jwks-rotated.json");
    let before = jwks.fetches.load(Ordering::SeqCst);
    python_client(
        "auth_client.py",
        &["rotated", "--url", &url, "--keys", keys],
    );
    let fetched = jwks.fetches.load(Ordering::SeqCst) - before;
    assert!(
        (1..=8).contains(&fetched),
        "the JWKS was fetched {fetched} times for 30 unknown key ids and one rotation"
    );
    // No token ever reaches the log.
    let stderr = server.stderr.lock().unwrap().join("\n");
    assert!(!stderr.contains("eyJ"), "a token was logged:\n{stderr}");
    assert!(stderr.contains("refused a token"), "{stderr}");
}

#[test]
fn legacy_sse_behind_bearer_auth() {
    let dir = TempDir::new("auth-sse");
    let keys = dir.0.join("keys");
    let keys = keys.to_str().unwrap();
    python_client("auth_client.py", &["keys", keys]);
    let jwks_file = dir.0.join("keys/jwks.json");
    let config = auth_config(&dir.0, jwks_file.to_str().unwrap());
    let plugin = example("calculator-rust");
    let server = HttpServer::start("sse", &["--config", &config, plugin.to_str().unwrap()]);
    python_client(
        "auth_client.py",
        &["sse", "--sse", &server.url("/sse"), "--keys", keys],
    );
}

#[test]
fn token_views_and_rate_limits_with_hs256_and_static_tokens() {
    let dir = TempDir::new("auth-views");
    let plugin = |name: &str| example(name).to_str().unwrap().to_owned();
    let config = dir.0.join("corral.toml");
    std::fs::write(
        &config,
        format!(
            r#"[server.auth]
issuer = "https://issuer.test"
audience = "https://mcp.test/mcp"
hs256_secret_env = "CORRAL_TEST_JWT_SECRET"
required_scopes = ["mcp"]

[[server.auth.tokens]]
env = "CORRAL_TEST_CI_TOKEN"
subject = "ci"
scopes = ["mcp"]

[[server.auth.views]]
scope = "admin"

[[server.auth.views]]
claim = "groups"
value = "readers"
plugins = ["profile"]

[[server.auth.views]]
claim = "tier"
value = "metered"
exclude_tags = ["admin"]
rate = "5/s"

[[server.auth.views]]
exclude_tags = ["admin"]

[plugins.calc]
path = "{}"
tags = ["admin"]

[plugins.profile]
path = "{}"

[plugins.prompts]
path = "{}"
"#,
            plugin("calculator-rust"),
            plugin("profile-rust"),
            plugin("prompts-rust"),
        ),
    )
    .unwrap();
    let secret = "a-test-secret-at-least-32-bytes-long";
    let static_token = "static-ci-token-0123456789";
    let server = HttpServer::start_env(
        "http",
        &["--config", config.to_str().unwrap()],
        0,
        &[
            ("CORRAL_TEST_JWT_SECRET", secret),
            ("CORRAL_TEST_CI_TOKEN", static_token),
        ],
    );
    python_client(
        "auth_client.py",
        &[
            "views",
            "--url",
            &server.url("/mcp"),
            "--secret",
            secret,
            "--static-token",
            static_token,
        ],
    );
}

#[test]
fn without_auth_the_rate_limit_is_per_client_address() {
    let dir = TempDir::new("rate-addr");
    let config = dir.0.join("corral.toml");
    std::fs::write(&config, "[server.http]\nrate = \"3/m\"\n").unwrap();
    let plugin = example("calculator-rust");
    let server = HttpServer::start(
        "http",
        &[
            "--config",
            config.to_str().unwrap(),
            plugin.to_str().unwrap(),
        ],
    );
    let statuses: Vec<u16> = (0..5)
        .map(|_| {
            request(
                &server.addr,
                "GET",
                "/mcp",
                &[("accept", "text/event-stream")],
                b"",
            )
            .status
        })
        .collect();
    assert_eq!(&statuses[3..], [429, 429], "{statuses:?}");
    let refused = request(
        &server.addr,
        "GET",
        "/mcp",
        &[("accept", "text/event-stream")],
        b"",
    );
    assert_eq!(refused.status, 429);
    let retry: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    assert!(
        refused.body.contains("rate limit of 3/m"),
        "{}",
        refused.body
    );
    // Health checks are not limited.
    assert_eq!(
        request(&server.addr, "GET", "/healthz", &[], b"").status,
        200
    );
}
