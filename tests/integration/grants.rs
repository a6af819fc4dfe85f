//! Capability grants from corral.toml: each works when granted and stays
//! confined; everything not granted is denied.

use std::io::{Read, Write};
use std::net::TcpListener;

use serde_json::{Value, json};

use crate::harness::{Server, TempDir, corral, test_plugin, text};

/// A one-page HTTP server on 127.0.0.1 for the allowed-host test; answers
/// `count` requests, then stops.
pub fn local_http_server(count: usize) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(count) {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
            );
        }
    });
    port
}

struct Fixture {
    _dir: TempDir,
    root: std::path::PathBuf,
    server: Server,
    http_port: u16,
}

fn fixture() -> Fixture {
    let dir = TempDir::new("grants");
    let root = dir.0.clone();
    std::fs::create_dir_all(root.join("data/sub")).unwrap();
    std::fs::create_dir_all(root.join("scratch")).unwrap();
    std::fs::write(root.join("data/hello.txt"), "hello from data").unwrap();
    std::fs::write(root.join("secret.txt"), "outside every grant").unwrap();
    std::os::unix::fs::symlink(root.join("secret.txt"), root.join("data/link-out")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", root.join("data/passwd")).unwrap();
    let http_port = local_http_server(2);
    let config = format!(
        r#"
[plugins.grants]
path = "{plugin}"
env = ["CORRAL_TEST_GRANTED"]
allow_hosts = ["127.0.0.1:{http_port}"]

[plugins.grants.dirs]
"/data" = {{ host = "data", mode = "ro" }}
"/scratch" = {{ host = "scratch", mode = "rw" }}
"#,
        plugin = test_plugin("grants").display()
    );
    std::fs::write(root.join("corral.toml"), config).unwrap();
    let config_path = root.join("corral.toml");
    let server = Server::start_with(
        &["--config", config_path.to_str().unwrap()],
        &[
            ("CORRAL_TEST_GRANTED", "granted-value"),
            ("CORRAL_TEST_SECRET", "must-not-leak"),
        ],
    );
    Fixture {
        _dir: dir,
        root,
        server,
        http_port,
    }
}

fn denied(server: &mut Server, tool: &str, arguments: Value) -> String {
    let result = server.call_tool(tool, arguments.clone());
    assert_eq!(
        result["isError"], true,
        "{tool} {arguments} was allowed: {result}"
    );
    text(&result).to_owned()
}

#[test]
fn filesystem_grants_are_confined() {
    let mut fixture = fixture();
    let root = fixture.root.clone();
    let server = &mut fixture.server;
    let read = server.call_tool("read_file", json!({"path": "/data/hello.txt"}));
    assert_eq!(text(&read), "hello from data");

    // Outside every grant a path does not exist; through a grant, leaving
    // it (`..`, a symlink out) or writing a read-only one is refused.
    // (WASI's errno numbers: 44 = ENOENT, 63 = EPERM.)
    const ABSENT: &str = "No such file or directory (os error 44)";
    const REFUSED: &str = "Operation not permitted (os error 63)";
    let cases = [
        (
            "read_file",
            json!({"path": "/etc/passwd"}),
            "read /etc/passwd",
            ABSENT,
        ),
        (
            "read_file",
            json!({"path": "secret.txt"}),
            "read secret.txt",
            ABSENT,
        ),
        (
            "read_file",
            json!({"path": "/data/../secret.txt"}),
            "read /data/../secret.txt",
            REFUSED,
        ),
        (
            "read_file",
            json!({"path": "/data/../../../../etc/passwd"}),
            "read /data/../../../../etc/passwd",
            REFUSED,
        ),
        (
            "read_file",
            json!({"path": "/data/link-out"}),
            "read /data/link-out",
            REFUSED,
        ),
        (
            "read_file",
            json!({"path": "/data/passwd"}),
            "read /data/passwd",
            REFUSED,
        ),
        (
            "write_file",
            json!({"path": "/data/new.txt", "contents": "x"}),
            "write /data/new.txt",
            REFUSED,
        ),
    ];
    for (tool, arguments, attempt, reason) in cases {
        let message = denied(server, tool, arguments);
        assert_eq!(message, format!("{attempt}: {reason}"));
    }
    assert!(!root.join("data/new.txt").exists());

    let wrote = server.call_tool(
        "write_file",
        json!({"path": "/scratch/out.txt", "contents": "written by the plugin"}),
    );
    assert_eq!(text(&wrote), "wrote 21 bytes", "{wrote}");
    assert_eq!(
        std::fs::read_to_string(root.join("scratch/out.txt")).unwrap(),
        "written by the plugin"
    );
    let escaped = denied(
        server,
        "write_file",
        json!({"path": "/scratch/../escaped.txt", "contents": "x"}),
    );
    assert_eq!(escaped, format!("write /scratch/../escaped.txt: {REFUSED}"));
    assert!(!root.join("escaped.txt").exists());
}

#[test]
fn only_granted_environment_variables_are_visible() {
    let mut fixture = fixture();
    let server = &mut fixture.server;
    let granted = server.call_tool("read_env", json!({"name": "CORRAL_TEST_GRANTED"}));
    assert_eq!(text(&granted), "granted-value");
    let secret = denied(server, "read_env", json!({"name": "CORRAL_TEST_SECRET"}));
    assert!(secret.contains("not set"), "{secret}");
    let all = server.call_tool("list_env", json!({}));
    assert_eq!(
        all["structuredContent"]["result"],
        json!(["CORRAL_TEST_GRANTED"])
    );
}

#[test]
fn outgoing_http_reaches_only_allowed_hosts() {
    let mut fixture = fixture();
    let http_port = fixture.http_port;
    let server = &mut fixture.server;
    let allowed = server.call_tool(
        "http_get",
        json!({"url": format!("http://127.0.0.1:{http_port}/page")}),
    );
    assert_eq!(text(&allowed), "200 hello", "{allowed}");
    for url in [
        format!("http://127.0.0.1:{}/", http_port + 1),
        format!("http://localhost:{http_port}/"),
        "https://example.com/".to_owned(),
    ] {
        let message = denied(server, "http_get", json!({"url": url}));
        assert!(message.contains("HttpRequestDenied"), "{message}");
    }
    // The log line travels on stderr, which may arrive after the answer.
    crate::harness::eventually("the refusal to be logged", || {
        server
            .stderr_text()
            .contains("not in the plugin's allow_hosts grant")
            .then_some(())
    });
}

#[test]
fn sockets_and_dns_are_never_granted() {
    let mut fixture = fixture();
    let http_port = fixture.http_port;
    let server = &mut fixture.server;
    // A granted HTTP host is no socket grant: the address is refused (WASI's
    // errno 2 = EACCES), and so is every name lookup.
    let addr = format!("127.0.0.1:{http_port}");
    let connect = denied(server, "tcp_connect", json!({ "addr": addr }));
    assert_eq!(
        connect,
        format!("connect {addr}: Permission denied (os error 2)")
    );
    let resolve = denied(server, "resolve", json!({"host": "localhost"}));
    assert_eq!(
        resolve,
        "resolve localhost: failed to lookup address information: Non-recoverable error"
    );
}

#[test]
fn without_grants_nothing_is_reachable() {
    let plugin = test_plugin("grants");
    let mut server = Server::start(&[plugin.to_str().unwrap()]);
    let read = denied(&mut server, "read_file", json!({"path": "/data/hello.txt"}));
    assert_eq!(
        read,
        "read /data/hello.txt: No such file or directory (os error 44)"
    );
    let list = denied(&mut server, "list_dir", json!({"path": "/"}));
    assert_eq!(list, "list /: No such file or directory (os error 44)");
    let env = server.call_tool("list_env", json!({}));
    assert_eq!(env["structuredContent"]["result"], json!([]));
    let message = denied(
        &mut server,
        "http_get",
        json!({"url": "http://127.0.0.1:9/"}),
    );
    assert!(message.contains("HttpRequestDenied"), "{message}");
}

fn config_error(config: &str, expected: &[&str]) {
    let dir = TempDir::new("bad-config");
    let path = dir.0.join("corral.toml");
    std::fs::write(&path, config).unwrap();
    let out = corral()
        .args(["serve", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(!out.status.success(), "accepted:\n{config}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("corral.toml"), "names the file: {stderr}");
    for fragment in expected {
        assert!(
            stderr.contains(fragment),
            "expected {fragment:?} in: {stderr}"
        );
    }
}

#[test]
fn config_errors_name_the_file_key_and_fix() {
    let plugin = test_plugin("grants");
    let plugin = plugin.display();
    config_error("[server]\nnmae = \"x\"\n", &["nmae", "name"]);
    config_error(
        "[limits]\nmemory = \"64 parsecs\"\n",
        &["limits.memory", "MiB"],
    );
    config_error(
        "[plugins.p]\npath = \"missing.wasm\"\n",
        &["plugins.p.path", "missing.wasm"],
    );
    config_error(
        &format!(
            "[plugins.p]\npath = \"{plugin}\"\nsha256 = \"{}\"\n",
            "ab".repeat(32)
        ),
        &["sha256", "pinned", "plugins.p.sha256"],
    );
}

#[test]
fn inspect_shows_the_grants_a_plugin_has() {
    let fixture = fixture();
    let out = corral()
        .args(["inspect", "--json", "--config"])
        .arg(fixture.root.join("corral.toml"))
        .arg(test_plugin("grants"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let grants = &report["grants"];
    assert_eq!(grants["plugin"], "grants");
    assert_eq!(grants["env"], json!(["CORRAL_TEST_GRANTED"]));
    assert_eq!(
        grants["allow_hosts"],
        json!([format!("127.0.0.1:{}", fixture.http_port)])
    );
    let dirs: Vec<&str> = grants["dirs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["guest"].as_str().unwrap())
        .collect();
    assert_eq!(dirs, ["/data", "/scratch"]);
    let http_import = report["imports"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| {
            i["name"]
                .as_str()
                .unwrap()
                .starts_with("wasi:http/outgoing-handler")
        })
        .expect("the grants plugin imports wasi:http");
    assert!(
        http_import["policy"]
            .as_str()
            .unwrap()
            .contains("allow_hosts")
    );
}

/// A granted directory is opened once, at load: replacing its path later
/// (here with a symlink to a directory outside every grant, as a plugin
/// with write access to the parent could) changes nothing for the plugin.
#[test]
fn a_granted_directory_cannot_be_swapped_after_load() {
    let mut fixture = fixture();
    let root = fixture.root.clone();
    let server = &mut fixture.server;
    let before = server.call_tool("read_file", json!({"path": "/data/hello.txt"}));
    assert_eq!(text(&before), "hello from data");
    std::fs::create_dir(root.join("elsewhere")).unwrap();
    std::fs::write(root.join("elsewhere/hello.txt"), "swapped in").unwrap();
    std::fs::rename(root.join("data"), root.join("data-moved")).unwrap();
    std::os::unix::fs::symlink(root.join("elsewhere"), root.join("data")).unwrap();
    let after = server.call_tool("read_file", json!({"path": "/data/hello.txt"}));
    assert_eq!(text(&after), "hello from data", "{after}");
}

/// An allowed name is resolved by the host, and an address outside the
/// public internet is refused unless the grant names that address; a grant
/// without a port allows only the scheme's default port.
#[test]
fn allowed_names_resolving_to_private_addresses_are_refused() {
    let http_port = local_http_server(1);
    let dir = TempDir::new("resolve");
    let config = dir.0.join("corral.toml");
    let serve = |allow: &str| {
        std::fs::write(
            &config,
            format!(
                "[plugins.grants]\npath = \"{}\"\nallow_hosts = [{allow}]\n",
                test_plugin("grants").display()
            ),
        )
        .unwrap();
        Server::start(&["--config", config.to_str().unwrap()])
    };
    let url = json!({"url": format!("http://localhost:{http_port}/")});
    // `localhost` resolves to loopback, which the grant does not name.
    let mut server = serve(&format!("\"localhost:{http_port}\""));
    let message = denied(&mut server, "http_get", url.clone());
    assert!(message.contains("DestinationIpProhibited"), "{message}");
    // Without a port only port 80 is allowed.
    let mut server = serve("\"localhost\"");
    let message = denied(&mut server, "http_get", url.clone());
    assert!(message.contains("HttpRequestDenied"), "{message}");
    // Naming the address allows it.
    let mut server = serve(&format!(
        "\"localhost:{http_port}\", \"127.0.0.1:{http_port}\""
    ));
    let allowed = server.call_tool("http_get", url);
    assert_eq!(text(&allowed), "200 hello", "{allowed}");
}
