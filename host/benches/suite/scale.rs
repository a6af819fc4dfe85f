//! Listing 10,000 tools over stdio, in one answer and in pages of 100.

use std::path::Path;
use std::time::Instant;

use crate::stdio::StdioSession;
use crate::{Report, Scale, Servers, Stats, target_dir};

const SECTION: &str = "scale (10,000 tools in one plugin, over stdio)";
const PAGE: usize = 100;

pub fn run(scale: &Scale, servers: &Servers, cache: &Path, report: &mut Report) {
    let plugin = target_dir().join("test-plugins/many-tools.wasm");
    let plugin = plugin.to_str().unwrap();
    let reps = if scale.smoke { 3 } else { 30 };

    let mut session = StdioSession::start(servers.corral(&[plugin], cache));
    let mut samples = Vec::new();
    let mut bytes = 0;
    for _ in 0..reps {
        let started = Instant::now();
        let list = session.request(r#""method":"tools/list","params":{}"#);
        samples.push(started.elapsed());
        assert_eq!(list.matches(r#""inputSchema""#).count(), 10_000);
        bytes = list.len();
    }
    session.stop();
    let s = Stats::of(samples);
    report.row(
        SECTION,
        "tools/list, unpaginated: Corral",
        &[
            ("n", reps as f64),
            ("p50_ms", crate::report::ms(s.p50)),
            ("p99_ms", crate::report::ms(s.p99)),
            ("answer_kib", bytes as f64 / 1024.0),
        ],
    );

    let page = PAGE.to_string();
    let mut session = StdioSession::start(servers.corral(&[plugin, "--page-size", &page], cache));
    let mut walks = Vec::new();
    let mut page_times = Vec::new();
    for _ in 0..reps.min(10) {
        let started = Instant::now();
        let mut cursor: Option<String> = None;
        let mut seen = 0;
        loop {
            let params = match &cursor {
                Some(c) => format!(r#"{{"cursor":"{c}"}}"#),
                None => "{}".to_owned(),
            };
            let page_started = Instant::now();
            let list = session.request(&format!(r#""method":"tools/list","params":{params}"#));
            page_times.push(page_started.elapsed());
            seen += list.matches(r#""inputSchema""#).count();
            cursor = list
                .split(r#""nextCursor":""#)
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .map(str::to_owned);
            if cursor.is_none() {
                break;
            }
        }
        assert_eq!(seen, 10_000, "the pages cover every tool");
        walks.push(started.elapsed());
    }
    session.stop();
    let walk = Stats::of(walks);
    let one = Stats::of(page_times);
    report.row(
        SECTION,
        "tools/list, pages of 100: Corral",
        &[
            ("page_p50_us", crate::report::us(one.p50)),
            ("page_p99_us", crate::report::us(one.p99)),
            ("all_100_pages_ms", crate::report::ms(walk.p50)),
        ],
    );
}
