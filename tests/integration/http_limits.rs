//! HTTP bounds a remote client cannot stretch: connections, header time,
//! sessions per client, and log levels per session.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::json;

use crate::harness::{DEADLINE, TempDir, test_plugin};
use crate::http::{HttpServer, open_session, session_call, standalone_events};

/// `corral serve --transport http` with `[server.http]` settings.
fn http_server(plugin: &str, settings: &str) -> (TempDir, HttpServer) {
    let dir = TempDir::new("http-limits");
    let config = dir.0.join("corral.toml");
    std::fs::write(
        &config,
        format!(
            "[server.http]\n{settings}\n[plugins.p]\npath = \"{}\"\n",
            test_plugin(plugin).display()
        ),
    )
    .unwrap();
    let server = HttpServer::start("http", &["--config", config.to_str().unwrap()]);
    (dir, server)
}

/// A connection that sends half a request's headers and then nothing.
fn silent_connection(addr: &str) -> TcpStream {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .write_all(format!("POST /mcp HTTP/1.1\r\nHost: {addr}\r\nContent-Ty").as_bytes())
        .unwrap();
    stream
}

/// Whether the server closed `stream` (end of file) within the deadline.
fn closed_by_server(mut stream: TcpStream) -> bool {
    stream.set_read_timeout(Some(DEADLINE)).unwrap();
    let mut buf = [0u8; 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            // A 408 or similar before closing is fine too.
            Ok(_) => continue,
            Err(e) => return e.kind() == std::io::ErrorKind::ConnectionReset,
        }
    }
}

fn ping() -> serde_json::Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": "ping"})
}

/// Clients that never finish their headers are disconnected after
/// `header_timeout` (slowloris), so they cannot hold the connection slots:
/// with every slot taken by silent clients, a real request still gets in.
/// (Before: no header timeout, silent connections stayed open forever.)
#[test]
fn silent_connections_are_dropped_and_free_their_slots() {
    let (_dir, server) = http_server(
        "timing",
        "max_connections = 4\nheader_timeout = \"500ms\"\n",
    );
    let silent: Vec<TcpStream> = (0..4).map(|_| silent_connection(&server.addr)).collect();
    let session = open_session(&server.addr);
    assert!(!session.is_empty());
    for stream in silent {
        assert!(
            closed_by_server(stream),
            "a silent client was not disconnected"
        );
    }
}

/// Past `max_connections`, a new connection waits until one closes.
#[test]
fn connections_past_the_cap_wait_for_a_free_slot() {
    let (_dir, server) = http_server("timing", "max_connections = 2\nheader_timeout = \"60s\"\n");
    let first = silent_connection(&server.addr);
    let _second = silent_connection(&server.addr);
    // A third client is not served while both slots are held...
    let mut third = TcpStream::connect(&server.addr).unwrap();
    let body = ping().to_string();
    third
        .write_all(
            format!(
                "POST /mcp HTTP/1.1\r\nHost: {}\r\nAccept: application/json, text/event-stream\r\nContent-Type: application/json\r\nMcp-Protocol-Version: 2026-07-28\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
                server.addr,
                body.len()
            )
            .as_bytes(),
        )
        .unwrap();
    third
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut buf = [0u8; 64];
    assert!(
        third.read(&mut buf).is_err(),
        "answered while every connection slot was taken"
    );
    // ...and is, once one of them closes.
    drop(first);
    third.set_read_timeout(Some(DEADLINE)).unwrap();
    let mut answer = Vec::new();
    let _ = third.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 "), "{answer}");
}

/// Open a session from the loopback address `source` (127.0.0.2, ...): the
/// server tells clients apart by address.
fn open_session_from(source: &str, addr: &str) -> String {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut stream = runtime.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(format!("{source}:0").parse().unwrap()).unwrap();
        let stream = socket.connect(addr.parse().unwrap()).await.unwrap();
        stream.into_std().unwrap()
    });
    stream.set_nonblocking(false).unwrap();
    stream.set_read_timeout(Some(DEADLINE)).unwrap();
    let body = json!({
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": source, "version": "0"}}
    })
    .to_string();
    stream
        .write_all(
            format!(
                "POST /mcp HTTP/1.1\r\nHost: {addr}\r\nAccept: application/json, text/event-stream\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
            .as_bytes(),
        )
        .unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    answer
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("mcp-session-id")
                .then(|| value.trim().to_owned())
        })
        .unwrap_or_else(|| panic!("no session id in {answer}"))
}

/// At the session cap, the client holding the most sessions loses its own
/// oldest one; a stranger's session survives a flood from another client.
/// (Before: the least recently used session overall was closed, so any
/// client could evict everyone else.)
#[test]
fn a_session_flood_evicts_the_flooders_own_sessions() {
    let (_dir, server) = http_server("timing", "max_sessions = 4\n");
    let stranger = open_session_from("127.0.0.2", &server.addr);
    let flood: Vec<String> = (0..12)
        .map(|_| open_session_from("127.0.0.3", &server.addr))
        .collect();
    let alive = session_call(&server.addr, &stranger, ping());
    assert_eq!(
        alive.status, 200,
        "the stranger's session was evicted: {}",
        alive.body
    );
    let oldest = session_call(&server.addr, &flood[0], ping());
    assert_eq!(oldest.status, 404, "{}", oldest.body);
    let newest = session_call(&server.addr, &flood[11], ping());
    assert_eq!(newest.status, 200, "{}", newest.body);
}

/// `logging/setLevel` sets the level of the session that sent it only.
/// (Before: one client's setLevel silenced every other client.)
#[test]
fn log_levels_are_per_session() {
    let (_dir, server) = http_server("hostile", "");
    let quiet = open_session(&server.addr);
    let chatty = open_session(&server.addr);
    let set = session_call(
        &server.addr,
        &quiet,
        json!({"jsonrpc": "2.0", "id": 2, "method": "logging/setLevel", "params": {"level": "warning"}}),
    );
    assert_eq!(set.status, 200, "{}", set.body);
    let flood = |count: u32| {
        json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
               "params": {"name": "log_flood", "arguments": {"count": count, "kib": 0}}})
    };
    // Log messages travel on each session's GET stream.
    let chatty_logs = standalone_events(&server.addr, &chatty, 2, "notifications/message");
    session_call(&server.addr, &chatty, flood(2));
    let chatty_logs = chatty_logs.join().unwrap();
    assert_eq!(chatty_logs[0]["params"]["level"], "info", "{chatty_logs:?}");
    // The quiet session's first message is the warning about the 1,001st
    // message: the thousand info messages before it were filtered out.
    let quiet_logs = standalone_events(&server.addr, &quiet, 1, "notifications/message");
    session_call(&server.addr, &quiet, flood(1001));
    let quiet_logs = quiet_logs.join().unwrap();
    assert_eq!(
        quiet_logs[0]["params"]["level"], "warning",
        "{quiet_logs:?}"
    );
    assert!(
        quiet_logs[0]["params"]["data"]
            .as_str()
            .is_some_and(|d| d.contains("1 log messages were dropped")),
        "{quiet_logs:?}"
    );
}
