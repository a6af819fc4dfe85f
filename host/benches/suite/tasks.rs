//! MCP tasks over stdio, on the conformance fixture's task-capable
//! `slow_compute` with 0 seconds of work: the same call from a client
//! without the tasks extension, from one with it (answered in the request,
//! within `task_after`), and as a task at once (`task_after = "0s"`: created,
//! then polled with `tasks/get` until it is done).

use std::path::Path;
use std::time::Instant;

use crate::stdio::StdioSession;
use crate::{Report, Scale, Servers, Stats, target_dir};

const SECTION: &str = "tasks (stdio, `slow_compute` with 0 s of work)";

/// Per-request client capabilities with the tasks extension.
const META: &str = r#""_meta":{"io.modelcontextprotocol/clientCapabilities":{"extensions":{"io.modelcontextprotocol/tasks":{}}}}"#;

fn call(meta: bool) -> String {
    format!(
        r#""method":"tools/call","params":{{"name":"slow_compute","arguments":{{"seconds":0}}{}}}"#,
        if meta {
            format!(",{META}")
        } else {
            String::new()
        }
    )
}

/// `n` sequential runs of `round` after a warm-up, as one latency row.
fn sequential(
    report: &mut Report,
    scale: &Scale,
    who: &str,
    session: &mut StdioSession,
    mut round: impl FnMut(&mut StdioSession),
) {
    for _ in 0..scale.round_trips.min(100) {
        round(session);
    }
    let mut samples = Vec::with_capacity(scale.round_trips);
    for _ in 0..scale.round_trips {
        let started = Instant::now();
        round(session);
        samples.push(started.elapsed());
    }
    report.latency(SECTION, who, scale.round_trips, &Stats::of(samples));
}

/// Create a task and poll it until it is done.
fn as_task(session: &mut StdioSession) {
    let created: serde_json::Value = serde_json::from_str(&session.request(&call(true))).unwrap();
    let id = created["result"]["taskId"]
        .as_str()
        .unwrap_or_else(|| panic!("a task: {created}"))
        .to_owned();
    loop {
        let got = session.request(&format!(
            r#""method":"tasks/get","params":{{"taskId":"{id}",{META}}}"#
        ));
        if got.contains(r#""status":"completed""#) {
            return;
        }
        assert!(got.contains(r#""status":"working""#), "tasks/get: {got}");
    }
}

pub fn run(scale: &Scale, servers: &Servers, cache: &Path, report: &mut Report) {
    let fixture = target_dir().join("test-plugins/conformance.wasm");
    let fixture = fixture.to_str().unwrap();
    let mut session = StdioSession::start(servers.corral(&[fixture], cache));
    let plain = call(false);
    sequential(report, scale, "without the extension", &mut session, |s| {
        assert!(s.request(&plain).contains("computed after 0"));
    });
    let with_meta = call(true);
    sequential(
        report,
        scale,
        "with the extension, answered in the request",
        &mut session,
        |s| assert!(s.request(&with_meta).contains("computed after 0")),
    );
    session.stop();

    let dir = target_dir().join("bench/tasks");
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("corral.toml");
    std::fs::write(
        &config,
        format!("[server]\ntask_after = \"0s\"\n\n[plugins.conformance]\npath = {fixture:?}\n"),
    )
    .unwrap();
    let mut session =
        StdioSession::start(servers.corral(&["--config", config.to_str().unwrap()], cache));
    sequential(
        report,
        scale,
        "as a task: created, then polled until done",
        &mut session,
        as_task,
    );
    session.stop();
}
