//! `/metrics` (`--metrics`): after a known sequence of calls the counters
//! say exactly what happened, and the latency histograms moved.

use serde_json::json;

use crate::harness::{example, test_plugin};
use crate::http::{HttpServer, open_session, request, session_call};

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
        "corral_catalog_reloads_total 0",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "no line {line:?} in:\n{text}"
        );
    }
    // The histogram moved: its sum is the time the two calls took.
    let sum = text
        .lines()
        .find_map(|l| {
            l.strip_prefix(
                r#"corral_call_duration_seconds_sum{plugin="calculator-rust",kind="tool",name="multiply"} "#,
            )
        })
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or_else(|| panic!("no duration sum in:\n{text}"));
    assert!(sum > 0.0, "{text}");
}

#[test]
fn metrics_are_off_unless_asked_for() {
    let server = HttpServer::start("http", &[example("calculator-rust").to_str().unwrap()]);
    let scraped = request(&server.addr, "GET", "/metrics", &[], b"");
    assert_eq!(scraped.status, 404, "{}", scraped.body);
}
