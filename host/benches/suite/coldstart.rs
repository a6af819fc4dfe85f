//! Cold start (process start to the first successful tools/list) and idle
//! memory, with 1, 10 and 100 plugins, with and without the compile cache;
//! the same for FastMCP.
//!
//! The plugins are copies of the calculator, each made unique by a custom
//! section (so each has its own compile-cache entry) and mounted with its
//! own prefix (so their tools do not collide).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::stdio::StdioSession;
use crate::{Report, Scale, Servers, root, target_dir};

const SECTION: &str = "cold start (process start to first tools/list answer)";

/// Resident set size of `pid` in KiB (0 if unknown).
pub fn rss_kib(pid: u32) -> u64 {
    status_kib(pid, "VmRSS:")
}

/// The anonymous part of `pid`'s RSS in KiB: the rest is file-backed (the
/// binary, mapped compile-cache entries), shared with the page cache and
/// with other processes that map the same files.
pub fn anon_kib(pid: u32) -> u64 {
    status_kib(pid, "RssAnon:")
}

fn status_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(field))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn leb128(mut n: usize, out: &mut Vec<u8>) {
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// `wasm` with a custom section carrying `tag` appended.
fn unique(wasm: &[u8], tag: usize) -> Vec<u8> {
    let name = b"corral-bench";
    let payload = tag.to_le_bytes();
    let mut section = Vec::new();
    leb128(name.len(), &mut section);
    section.extend_from_slice(name);
    section.extend_from_slice(&payload);
    let mut out = wasm.to_vec();
    out.push(0);
    leb128(section.len(), &mut out);
    out.extend_from_slice(&section);
    out
}

/// A directory with `n` unique calculators and a config mounting each
/// with its own prefix; returns the config file.
fn prepare(n: usize) -> PathBuf {
    let dir = target_dir().join(format!("bench/plugins-{n}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let wasm = std::fs::read(root().join("plugins/dist/calculator-rust.wasm")).unwrap();
    let mut config = String::new();
    for i in 0..n {
        let file = dir.join(format!("calc{i}.wasm"));
        std::fs::write(&file, unique(&wasm, i)).unwrap();
        config.push_str(&format!(
            "[plugins.calc{i}]\npath = \"{}\"\nprefix = \"c{i}\"\n\n",
            file.display()
        ));
    }
    let path = dir.join("corral.toml");
    std::fs::write(&path, config).unwrap();
    path
}

/// Spawn, initialize, list; the time to the answer, the answer's tool count
/// and the process's RSS and anonymous RSS (KiB) once it has answered.
fn start_to_list(cmd: Command) -> (Duration, usize, (u64, u64)) {
    let started = Instant::now();
    let mut session = StdioSession::start(cmd);
    let list = session.request(r#""method":"tools/list","params":{}"#);
    let took = started.elapsed();
    let tools = list.matches(r#""inputSchema""#).count();
    let rss = (rss_kib(session.pid()), anon_kib(session.pid()));
    session.stop();
    (took, tools, rss)
}

/// The memory row's columns for `(rss, anonymous)` in KiB.
pub fn mib((rss, anon): (u64, u64)) -> [(&'static str, f64); 2] {
    [
        ("rss_mib", rss as f64 / 1024.0),
        ("anon_mib", anon as f64 / 1024.0),
    ]
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

pub fn run(scale: &Scale, servers: &Servers, report: &mut Report) {
    for &n in scale.plugin_counts {
        let config = prepare(n);
        let config = config.to_str().unwrap();
        let cache = target_dir().join(format!("bench/cache-{n}"));
        let _ = std::fs::remove_dir_all(&cache);
        let runs = if n >= 100 || scale.smoke { 1 } else { 3 };
        // Without the cache: every plugin is compiled.
        let mut cold = Vec::new();
        for _ in 0..runs {
            let (took, tools, _) =
                start_to_list(servers.corral(&["--config", config], Path::new("off")));
            assert_eq!(tools, 3 * n, "every plugin's tools are listed");
            cold.push(took);
        }
        // Fill the cache, then measure with it.
        start_to_list(servers.corral(&["--config", config], &cache));
        let mut warm = Vec::new();
        let mut rss = (0, 0);
        for _ in 0..3 {
            let (took, tools, kib) = start_to_list(servers.corral(&["--config", config], &cache));
            assert_eq!(tools, 3 * n);
            warm.push(took);
            rss = kib;
        }
        report.row(
            SECTION,
            &format!("cold start, no cache: Corral, {n} plugin(s)"),
            &[("ms", crate::report::ms(median(cold)))],
        );
        report.row(
            SECTION,
            &format!("cold start, cached: Corral, {n} plugin(s)"),
            &[("ms", crate::report::ms(median(warm)))],
        );
        report.row(
            "memory",
            &format!("RSS idle: Corral, {n} plugin(s)"),
            &mib(rss),
        );
    }
    if let Some(_cmd) = servers.fastmcp(&[]) {
        let mut times = Vec::new();
        let mut rss = (0, 0);
        for _ in 0..3 {
            let (took, tools, kib) = start_to_list(servers.fastmcp(&[]).unwrap());
            assert!(tools >= 6, "FastMCP lists its tools");
            times.push(took);
            rss = kib;
        }
        report.row(
            SECTION,
            "cold start: FastMCP",
            &[("ms", crate::report::ms(median(times)))],
        );
        report.row("memory", "RSS idle: FastMCP", &mib(rss));
    }
}
