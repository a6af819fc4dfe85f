//! The benchmark suite: Corral and FastMCP side by side, in one run, with
//! one client. `cargo xtask bench` builds what it needs and runs it; it
//! prints a table and writes `target/bench/results.json`.
//!
//! Environment (set by the xtask):
//! - `CORRAL_BENCH_SMOKE=1`: tiny counts, to check that every part works.
//! - `CORRAL_BENCH_PYTHON`: a Python with fastmcp installed (FastMCP rows
//!   are skipped without it).
//! - `CORRAL_BENCH_ONLY=inprocess,stdio,http,proxy,tasks,coldstart,scale`: run only
//!   these parts (default: all).
//!
//! Every number is measured here, now; ratios compare rows from this run.

mod coldstart;
mod h1;
mod http;
mod inprocess;
mod proxy;
mod report;
mod scale;
mod stdio;
mod tasks;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

pub use report::{Report, Stats};

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

/// The sizes of one run.
#[derive(Clone, Copy)]
pub struct Scale {
    pub smoke: bool,
    /// In-process calls of the Rust plugin.
    pub calls: usize,
    /// Sequential stdio round trips.
    pub round_trips: usize,
    /// Pipelined stdio calls.
    pub pipelined: usize,
    /// How long each HTTP load runs.
    pub http_for: Duration,
    /// Plugin counts for the cold start and memory rows.
    pub plugin_counts: &'static [usize],
}

impl Scale {
    fn from_env() -> Self {
        if std::env::var_os("CORRAL_BENCH_SMOKE").is_some() {
            Scale {
                smoke: true,
                calls: 200,
                round_trips: 100,
                pipelined: 200,
                http_for: Duration::from_millis(300),
                plugin_counts: &[1, 10],
            }
        } else {
            Scale {
                smoke: false,
                calls: 10_000,
                round_trips: 5_000,
                pipelined: 20_000,
                http_for: Duration::from_secs(4),
                plugin_counts: &[1, 10, 100],
            }
        }
    }
}

/// How to start each server over stdio.
pub struct Servers {
    pub corral: PathBuf,
    pub python: Option<PathBuf>,
}

impl Servers {
    /// `corral serve ARGS` with the bench's quiet log level and `cache`.
    pub fn corral(&self, args: &[&str], cache: &Path) -> Command {
        let mut cmd = Command::new(&self.corral);
        cmd.arg("serve")
            .args(args)
            .args(["--log-level", "error"])
            .env("CORRAL_CACHE_DIR", cache);
        cmd
    }

    /// The FastMCP reference server with `args`, if Python is available.
    pub fn fastmcp(&self, args: &[&str]) -> Option<Command> {
        let python = self.python.as_ref()?;
        let mut cmd = Command::new(python);
        cmd.arg(root().join("bench/fastmcp_server.py"))
            .args(args)
            .env("FASTMCP_LOG_LEVEL", "ERROR");
        Some(cmd)
    }
}

/// The multiply call both servers answer.
pub const MULTIPLY: &str =
    r#""method":"tools/call","params":{"name":"multiply","arguments":{"a":6,"b":7}}"#;

fn main() {
    let scale = Scale::from_env();
    let servers = Servers {
        corral: std::env::var_os("CORRAL_BENCH_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_corral"))),
        python: std::env::var_os("CORRAL_BENCH_PYTHON").map(PathBuf::from),
    };
    let mut report = Report::new(scale.smoke);
    let cache = target_dir().join("bench/cache");
    let _ = std::fs::create_dir_all(&cache);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let only = std::env::var("CORRAL_BENCH_ONLY").unwrap_or_default();
    let wanted = |part: &str| only.is_empty() || only.split(',').any(|p| p.trim() == part);
    if wanted("inprocess") {
        rt.block_on(inprocess::run(&scale, &mut report));
    }
    if wanted("stdio") {
        stdio::run(&scale, &servers, &cache, &mut report);
    }
    if wanted("http") {
        rt.block_on(http::run(&scale, &servers, &cache, &mut report));
    }
    if wanted("proxy") {
        proxy::run(&scale, &servers, &cache, &mut report, &rt);
    }
    if wanted("tasks") {
        tasks::run(&scale, &servers, &cache, &mut report);
    }
    if wanted("coldstart") {
        coldstart::run(&scale, &servers, &mut report);
    }
    if wanted("scale") {
        scale::run(&scale, &servers, &cache, &mut report);
    }
    report.ratios();
    report.finish(&target_dir().join("bench/results.json"));
}
