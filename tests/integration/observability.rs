//! What an operator sees of calls. `/metrics` (`--metrics`,
//! `--metrics-addr`): after a known sequence of calls the counters say
//! exactly what happened, the latency, fuel and memory histograms moved,
//! and the gauges show calls in flight and queued and the sessions open.
//! Logs (`--log-format json`) and OTLP export (`OTEL_*`): a span per call
//! with what it used, joined to the client's W3C trace context. The audit
//! log (`[server.audit]`): a line per call, who and what, never argument
//! values unless asked.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use crate::harness::{Server, TempDir, eventually, example, test_plugin};
use crate::http::{HttpServer, open_session, request, session_call};

/// The value of the sample `name{labels}` in `text`, if there is one.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.parse().ok())
}

#[test]
fn metrics_count_calls_outcomes_and_limit_hits() {
    let (calc, hostile) = (example("calculator-rust"), test_plugin("hostile"));
    let server = HttpServer::start(
        "http",
        &[
            calc.to_str().unwrap(),
            hostile.to_str().unwrap(),
            "--fuel",
            "300000000",
            "--memory",
            "32MiB",
            "--metrics",
        ],
    );
    let session = open_session(&server.addr);
    let calls = [
        ("multiply", json!({"a": 6, "b": 7})),
        ("multiply", json!({"a": 2, "b": 3})),
        ("divide", json!({"a": 1, "b": 0})),
        ("spin", json!({})),
        ("memory_bomb", json!({})),
    ];
    for (id, (name, arguments)) in calls.into_iter().enumerate() {
        let body = json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
            "params": {"name": name, "arguments": arguments}});
        let answer = session_call(&server.addr, &session, body);
        assert_eq!(answer.status, 200, "{name}: {}", answer.body);
    }
    let unknown = request(&server.addr, "GET", "/no-such-path", &[], b"");
    assert_eq!(unknown.status, 404);
    let scraped = request(&server.addr, "GET", "/metrics", &[], b"");
    assert_eq!(scraped.status, 200, "{}", scraped.body);
    let text = scraped.body;
    for line in [
        r#"corral_calls_total{plugin="calculator-rust",kind="tool",name="multiply",outcome="ok"} 2"#,
        r#"corral_calls_total{plugin="calculator-rust",kind="tool",name="divide",outcome="tool_error"} 1"#,
        r#"corral_calls_total{plugin="hostile",kind="tool",name="spin",outcome="limit"} 1"#,
        r#"corral_calls_total{plugin="hostile",kind="tool",name="memory_bomb",outcome="limit"} 1"#,
        r#"corral_limit_hits_total{plugin="hostile",limit="fuel"} 1"#,
        r#"corral_limit_hits_total{plugin="hostile",limit="memory"} 1"#,
        r#"corral_call_duration_seconds_count{plugin="calculator-rust",kind="tool",name="multiply"} 2"#,
        r#"corral_call_fuel_count{plugin="calculator-rust",kind="tool",name="multiply"} 2"#,
        // A call stopped by the fuel limit used all of it.
        r#"corral_call_fuel_sum{plugin="hostile",kind="tool",name="spin"} 300000000.0"#,
        "corral_catalog_reloads_total 0",
        r#"corral_calls_in_flight{plugin="hostile"} 0"#,
        r#"corral_calls_queued{plugin="calculator-rust"} 0"#,
        r#"corral_sessions{protocol="2025-11-25"} 1"#,
        r#"corral_http_requests_total{status="404"} 1"#,
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "no line {line:?} in:\n{text}"
        );
    }
    // The histograms moved: the time the two calls took, the fuel and
    // memory they used; the memory bomb's sandbox ended below its cap.
    let multiply = r#"{plugin="calculator-rust",kind="tool",name="multiply"}"#;
    for (histogram, above) in [
        ("corral_call_duration_seconds_sum", 0.0),
        ("corral_call_fuel_sum", 0.0),
        ("corral_call_memory_peak_bytes_sum", 65536.0),
    ] {
        let sum = sample(&text, &format!("{histogram}{multiply}"))
            .unwrap_or_else(|| panic!("no {histogram} in:\n{text}"));
        assert!(sum > above, "{histogram}: {sum}\n{text}");
    }
    let bomb =
        r#"corral_call_memory_peak_bytes_sum{plugin="hostile",kind="tool",name="memory_bomb"}"#;
    let peak = sample(&text, bomb).unwrap_or_else(|| panic!("no {bomb} in:\n{text}"));
    assert!(peak > 1_048_576.0 && peak <= 32.0 * 1_048_576.0, "{peak}");
    // Answers are counted by status: the session's and the unknown path's.
    let ok = sample(&text, r#"corral_http_requests_total{status="200"}"#).unwrap_or(0.0);
    assert!(ok >= 6.0, "{text}");
}

/// A stdio server serves its metrics on a listener of its own, behind the
/// Host guard; the gauges show a call running, one queued behind it, and
/// the session; both are counted as cancelled once the client gives up.
#[test]
fn stdio_serves_metrics_on_their_own_address() {
    let hostile = test_plugin("hostile");
    let mut server = Server::start(&[
        hostile.to_str().unwrap(),
        "--metrics-addr",
        "127.0.0.1:0",
        "--concurrency",
        "1",
    ]);
    server.await_stderr("metrics on http://");
    let stderr = server.stderr_text();
    let addr = stderr
        .split("metrics on http://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap()
        .to_owned();
    let scrape = || {
        let scraped = request(&addr, "GET", "/metrics", &[], b"");
        assert_eq!(scraped.status, 200, "{}", scraped.body);
        scraped.body
    };
    let sleep = json!({"name": "sleep_forever", "arguments": {}});
    let running = server.send("tools/call", sleep.clone());
    let waiting = server.send("tools/call", sleep);
    let text = eventually("a call in flight and one queued", || {
        let text = scrape();
        let busy = text.contains(r#"corral_calls_in_flight{plugin="hostile"} 1"#)
            && text.contains(r#"corral_calls_queued{plugin="hostile"} 1"#);
        busy.then_some(text)
    });
    assert!(
        text.contains(r#"corral_sessions{protocol="2025-11-25"} 1"#),
        "{text}"
    );
    for id in [waiting, running] {
        server.notify("notifications/cancelled", json!({"requestId": id}));
    }
    let cancelled = r#"corral_calls_total{plugin="hostile",kind="tool",name="sleep_forever",outcome="cancelled"}"#;
    let text = eventually("both calls counted as cancelled", || {
        let text = scrape();
        (sample(&text, cancelled) == Some(2.0)).then_some(text)
    });
    assert!(
        text.contains(r#"corral_calls_in_flight{plugin="hostile"} 0"#),
        "{text}"
    );
    // DNS rebinding: the metrics listener checks Host like the MCP one.
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
    server.shutdown();
}

#[test]
fn metrics_are_off_unless_asked_for() {
    let server = HttpServer::start("http", &[example("calculator-rust").to_str().unwrap()]);
    let scraped = request(&server.addr, "GET", "/metrics", &[], b"");
    assert_eq!(scraped.status, 404, "{}", scraped.body);
}

/// With JSON logs at debug level, each call ends with one `call ended` line
/// whose span carries the plugin, component, outcome, duration, fuel and
/// peak memory, and the trace id and parent span a client sent in `_meta`;
/// a malformed `traceparent` is ignored.
#[test]
fn json_logs_carry_a_span_per_call_with_the_clients_trace() {
    let calc = example("calculator-rust");
    let mut server = Server::start(&[
        calc.to_str().unwrap(),
        "--log-format",
        "json",
        "--log-level",
        "corral=debug",
    ]);
    let traced = json!({"name": "multiply", "arguments": {"a": 6, "b": 7},
        "_meta": {"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}});
    let untraced = json!({"name": "divide", "arguments": {"a": 1, "b": 0},
        "_meta": {"traceparent": "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"}});
    server.request("tools/call", traced);
    server.request("tools/call", untraced);
    let ended = |component: &str| {
        eventually("a `call ended` line", || {
            let stderr = server.stderr_text();
            stderr.lines().find_map(|line| {
                let entry: serde_json::Value = serde_json::from_str(line).ok()?;
                let span = entry["spans"].as_array()?.last()?.clone();
                (entry["fields"]["message"] == "call ended" && span["component"] == component)
                    .then_some(span)
            })
        })
    };
    let multiply = ended("multiply");
    assert_eq!(multiply["name"], "call", "{multiply}");
    assert_eq!(multiply["plugin"], "calculator-rust", "{multiply}");
    assert_eq!(multiply["kind"], "tool", "{multiply}");
    assert_eq!(multiply["outcome"], "ok", "{multiply}");
    assert_eq!(multiply["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(multiply["parent_span_id"], "00f067aa0ba902b7");
    for used in ["fuel", "memory_peak", "duration_us"] {
        assert!(
            multiply[used].as_u64().is_some_and(|n| n > 0),
            "{used}: {multiply}"
        );
    }
    let divide = ended("divide");
    assert_eq!(divide["outcome"], "tool_error", "{divide}");
    assert!(divide.get("trace_id").is_none(), "{divide}");
    server.shutdown();
}

/// What a collector received: a request's line, headers and JSON body.
type Received = (String, Vec<String>, Value);

/// An OTLP/HTTP collector on a free loopback port.
struct Collector {
    addr: String,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Collector {
    fn start() -> Collector {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let received = Arc::new(Mutex::new(Vec::new()));
        let sink = received.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let mut reader = BufReader::new(stream);
                let mut head = Vec::new();
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    head.push(line.trim_end().to_owned());
                }
                let length = head
                    .iter()
                    .find_map(|h| {
                        h.to_ascii_lowercase()
                            .strip_prefix("content-length: ")?
                            .parse()
                            .ok()
                    })
                    .unwrap_or(0);
                let mut body = vec![0; length];
                if reader.read_exact(&mut body).is_err() {
                    continue;
                }
                let path = head.first().cloned().unwrap_or_default();
                let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
                sink.lock().unwrap().push((path, head, body));
                let _ = reader.get_mut().write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
                );
            }
        });
        Collector { addr, received }
    }
}

/// With `OTEL_EXPORTER_OTLP_ENDPOINT` set, every sampled call is sent to
/// the collector as an OTLP span: named by kind and component, with what
/// it used as attributes, in the client's trace under the client's span
/// (or a trace of its own), the outcome as its status, the operator's
/// headers and service name. A call whose caller did not sample its trace
/// is not sent. Spans still queued are sent when the server exits (the
/// batch delay here is a minute).
#[test]
fn calls_are_exported_as_otlp_spans_in_the_clients_trace() {
    let collector = Collector::start();
    let endpoint = format!("http://{}", collector.addr);
    let calc = example("calculator-rust");
    let mut server = Server::start_with(
        &[calc.to_str().unwrap()],
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
            ("OTEL_EXPORTER_OTLP_HEADERS", "x-api-key=s%3Dcret"),
            ("OTEL_SERVICE_NAME", "corral-test"),
            ("OTEL_BSP_SCHEDULE_DELAY", "60000"),
        ],
    );
    let traceparent = |trace: &str, flags: &str| format!("00-{trace}-00f067aa0ba902b7-{flags}");
    let sampled = traceparent("4bf92f3577b34da6a3ce929d0e0e4736", "01");
    let unsampled = traceparent("11111111111111111111111111111111", "00");
    for (name, meta) in [
        ("multiply", json!({"traceparent": sampled})),
        ("divide", json!({})),
        ("add", json!({"traceparent": unsampled})),
    ] {
        let (a, b) = (6, if name == "divide" { 0 } else { 7 });
        server.request(
            "tools/call",
            json!({"name": name, "arguments": {"a": a, "b": b}, "_meta": meta}),
        );
    }
    server.shutdown();
    let received = collector.received.lock().unwrap().clone();
    assert!(!received.is_empty(), "nothing was exported");
    let mut spans = Vec::new();
    for (path, head, body) in &received {
        assert!(path.starts_with("POST /v1/traces "), "{path}");
        assert!(head.iter().any(|h| h == "x-api-key: s=cret"), "{head:?}");
        let resource = &body["resourceSpans"][0];
        let service = &resource["resource"]["attributes"][0];
        assert_eq!(service["key"], "service.name", "{body}");
        assert_eq!(service["value"]["stringValue"], "corral-test", "{body}");
        for scope in resource["scopeSpans"].as_array().unwrap() {
            spans.extend(scope["spans"].as_array().unwrap().iter().cloned());
        }
    }
    let names: Vec<&str> = spans.iter().filter_map(|s| s["name"].as_str()).collect();
    assert_eq!(names, ["tool multiply", "tool divide"], "{spans:#?}");
    let attribute = |span: &Value, key: &str| {
        span["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["key"] == key)
            .map(|a| a["value"].clone())
            .unwrap_or(Value::Null)
    };
    let multiply = &spans[0];
    assert_eq!(multiply["traceId"], "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(multiply["parentSpanId"], "00f067aa0ba902b7");
    assert!(
        multiply["status"].get("code").is_none(),
        "unset, as OTel asks: {multiply}"
    );
    assert_eq!(
        attribute(multiply, "corral.plugin")["stringValue"],
        "calculator-rust"
    );
    assert_eq!(attribute(multiply, "corral.outcome")["stringValue"], "ok");
    for used in ["corral.fuel", "corral.memory_peak", "corral.duration_us"] {
        let n: u64 = attribute(multiply, used)["intValue"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(n > 0, "{used}: {multiply}");
    }
    let start: u128 = multiply["startTimeUnixNano"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let end: u128 = multiply["endTimeUnixNano"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(end > start, "{multiply}");
    let divide = &spans[1];
    let trace = divide["traceId"].as_str().unwrap();
    assert!(
        trace.len() == 32 && trace != "4bf92f3577b34da6a3ce929d0e0e4736",
        "{divide}"
    );
    assert!(divide.get("parentSpanId").is_none(), "{divide}");
    assert_eq!(divide["status"]["code"], 2, "{divide}");
    assert_eq!(divide["status"]["message"], "tool_error", "{divide}");
}

/// With `[server.audit]`, every call is one JSON line in a 0600 file: who
/// made it (the session), what it called, the shape of its arguments (keys
/// and types, never values), its outcome and the limit it hit, the fuel and
/// memory it used, and the hosts and files it reached through its grants
/// (and those it was refused). With
/// `audit_arguments = true` (here to stderr) the values are logged too.
#[test]
fn the_audit_log_has_a_line_per_call_with_argument_shapes_and_hosts() {
    let dir = TempDir::new("audit");
    std::fs::create_dir_all(dir.0.join("data")).unwrap();
    std::fs::write(dir.0.join("data/hello.txt"), "hello").unwrap();
    let port = crate::grants::local_http_server(1);
    let config = format!(
        r#"
[server]
task_after = "0s"

[server.audit]
file = "audit.log"

[plugins.profile]
path = "{profile}"

[plugins.calc]
path = "{calc}"

[plugins.grants]
path = "{grants}"
allow_hosts = ["127.0.0.1:{port}"]

[plugins.grants.dirs]
"/data" = {{ host = "data", mode = "ro" }}

[plugins.hostile]
path = "{hostile}"
limits = {{ fuel = 300000000 }}
"#,
        calc = example("calculator-rust").display(),
        grants = test_plugin("grants").display(),
        hostile = test_plugin("hostile").display(),
        profile = example("profile-rust").display(),
    );
    let config_path = dir.0.join("corral.toml");
    std::fs::write(&config_path, config).unwrap();
    let mut server = Server::start(&["--config", config_path.to_str().unwrap()]);
    let traced = json!({"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"});
    server.request(
        "tools/call",
        json!({"name": "multiply", "arguments": {"a": 6, "b": 7.5}, "_meta": traced}),
    );
    let url = format!("http://127.0.0.1:{port}/canary-path");
    let fetched = server.call_tool("http_get", json!({"url": url}));
    assert_eq!(crate::harness::text(&fetched), "200 hello", "{fetched}");
    let read = server.call_tool("read_file", json!({"path": "/data/hello.txt"}));
    assert_eq!(crate::harness::text(&read), "hello", "{read}");
    for (tool, arguments) in [
        ("read_file", json!({"path": "/data/../outside.txt"})),
        (
            "write_file",
            json!({"path": "/data/new.txt", "contents": "x"}),
        ),
    ] {
        let refused = server.call_tool(tool, arguments);
        assert_eq!(refused["isError"], true, "{refused}");
    }
    // A templated resource: named by its template, its values only shaped.
    let read = server.request(
        "resources/read",
        json!({"uri": "users://3141592653/profile"}),
    );
    assert!(read.get("result").is_some(), "{read}");
    // Run as a task, to its fuel limit.
    let task = crate::tasks::start_task(&mut server, "spin", json!({}));
    let ended = crate::tasks::finished(&mut server, &task);
    assert_eq!(ended["status"], "failed", "{ended}");
    server.shutdown();

    let path = dir.0.join("audit.log");
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&path).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);
    let text = std::fs::read_to_string(&path).unwrap();
    for canary in ["canary-path", "3141592653"] {
        assert!(
            !text.contains(canary),
            "an argument value was logged:\n{text}"
        );
    }
    let records: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let names: Vec<&str> = records.iter().filter_map(|r| r["name"].as_str()).collect();
    assert_eq!(
        names,
        [
            "multiply",
            "http_get",
            "read_file",
            "read_file",
            "write_file",
            "users://{user_id}/profile",
            "spin"
        ],
        "{text}"
    );
    let multiply = &records[0];
    assert!(
        multiply["who"]["owner"]
            .as_str()
            .unwrap()
            .starts_with("session "),
        "{multiply}"
    );
    assert_eq!(multiply["plugin"], "calc");
    assert_eq!(multiply["kind"], "tool");
    assert_eq!(
        multiply["arguments"],
        json!({"a": "integer", "b": "number"})
    );
    assert_eq!(multiply["outcome"], "ok");
    assert_eq!(multiply["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
    assert!(multiply["fuel"].as_u64().unwrap() > 0, "{multiply}");
    assert!(multiply["memory_peak"].as_u64().unwrap() > 0, "{multiply}");
    assert!(
        multiply["time"].as_str().unwrap().ends_with('Z'),
        "{multiply}"
    );
    let fetch = &records[1];
    assert_eq!(
        fetch["hosts"],
        json!([format!("127.0.0.1:{port}")]),
        "{fetch}"
    );
    assert_eq!(fetch["arguments"], json!({"url": "string"}));
    assert_eq!(
        records[2]["files"],
        json!(["read hello.txt"]),
        "{}",
        records[2]
    );
    assert_eq!(
        records[3]["files_denied"],
        json!(["read ../outside.txt"]),
        "{}",
        records[3]
    );
    assert_eq!(
        records[4]["files_denied"],
        json!(["write new.txt"]),
        "{}",
        records[4]
    );
    assert!(records[2].get("files_denied").is_none() && records[3].get("files").is_none());
    let profile = &records[5];
    assert_eq!(profile["kind"], "resource");
    let shape = json!({"uri": "string", "params": {"user_id": "string"}});
    assert_eq!(profile["arguments"], shape, "{profile}");
    let spin = &records[6];
    assert_eq!(
        (&spin["outcome"], &spin["limit"]),
        (&json!("limit"), &json!("fuel"))
    );
    assert_eq!(spin["fuel"], 300_000_000, "{spin}");

    // To stderr, with argument values.
    let config = format!(
        "[server.audit]\nfile = \"stderr\"\naudit_arguments = true\n\n[plugins.calc]\npath = \"{}\"\n",
        example("calculator-rust").display()
    );
    std::fs::write(&config_path, config).unwrap();
    let mut server = Server::start(&["--config", config_path.to_str().unwrap()]);
    server.call_tool("multiply", json!({"a": 6, "b": 7}));
    let record = eventually("the audit line on stderr", || {
        let stderr = server.stderr_text();
        stderr.lines().find_map(|line| {
            let record: Value = serde_json::from_str(line).ok()?;
            (record["name"] == "multiply").then_some(record)
        })
    });
    assert_eq!(record["arguments"], json!({"a": 6, "b": 7}), "{record}");
    server.shutdown();
}
