//! Collecting, printing and saving the numbers.

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

/// Latency percentiles of a set of samples.
#[derive(Clone, Copy)]
pub struct Stats {
    pub p50: Duration,
    pub p99: Duration,
    pub mean: Duration,
}

impl Stats {
    pub fn of(mut samples: Vec<Duration>) -> Stats {
        assert!(!samples.is_empty(), "no samples");
        samples.sort();
        let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
        Stats {
            p50: at(0.5),
            p99: at(0.99),
            mean: samples.iter().sum::<Duration>() / samples.len() as u32,
        }
    }
}

pub fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

struct Row {
    section: &'static str,
    name: String,
    values: Vec<(&'static str, f64)>,
}

/// A comparison of the same measure on both servers.
struct Ratio {
    what: String,
    corral: f64,
    fastmcp: f64,
    /// Whether a larger value is better (throughput) or worse (latency).
    larger_is_better: bool,
}

/// A target from the benchmark issue, checked against this run.
struct Target {
    what: String,
    measured: f64,
    goal: f64,
    /// `true`: measured must be ≥ goal; `false`: measured must be ≤ goal.
    at_least: bool,
    unit: &'static str,
}

pub struct Report {
    smoke: bool,
    rows: Vec<Row>,
    ratios: Vec<Ratio>,
    targets: Vec<Target>,
}

impl Report {
    pub fn new(smoke: bool) -> Self {
        println!(
            "Corral benchmark suite{} on {} CPU(s)",
            if smoke {
                " (smoke mode: counts too small to mean anything)"
            } else {
                ""
            },
            std::thread::available_parallelism().map_or(0, |n| n.get())
        );
        Report {
            smoke,
            rows: Vec::new(),
            ratios: Vec::new(),
            targets: Vec::new(),
        }
    }

    /// Record one row (the tables are printed, grouped, at the end).
    pub fn row(&mut self, section: &'static str, name: &str, values: &[(&'static str, f64)]) {
        eprintln!("  measured: {name}: {}", cells(values));
        self.rows.push(Row {
            section,
            name: name.to_owned(),
            values: values.to_vec(),
        });
    }

    /// Record a latency row from `stats`.
    pub fn latency(&mut self, section: &'static str, name: &str, n: usize, stats: &Stats) {
        self.row(
            section,
            name,
            &[
                ("n", n as f64),
                ("p50_us", us(stats.p50)),
                ("p99_us", us(stats.p99)),
                ("mean_us", us(stats.mean)),
            ],
        );
    }

    /// The value `key` of the row `name`, if it was measured.
    pub fn value(&self, name: &str, key: &str) -> Option<f64> {
        self.rows
            .iter()
            .find(|r| r.name == name)?
            .values
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| *v)
    }

    /// Compare `key` of the Corral row and the FastMCP row.
    pub fn compare(&mut self, what: &str, corral: &str, fastmcp: &str, key: &str, larger: bool) {
        if let (Some(c), Some(f)) = (self.value(corral, key), self.value(fastmcp, key)) {
            self.ratios.push(Ratio {
                what: what.to_owned(),
                corral: c,
                fastmcp: f,
                larger_is_better: larger,
            });
        }
    }

    /// Check `key` of row `name` against a goal.
    pub fn target(
        &mut self,
        what: &'static str,
        name: &str,
        key: &str,
        goal: f64,
        at_least: bool,
        unit: &'static str,
    ) {
        if let Some(measured) = self.value(name, key) {
            self.targets.push(Target {
                what: what.to_owned(),
                measured,
                goal,
                at_least,
                unit,
            });
        }
    }

    /// A target on the share of throughput (`calls_per_s`) the row
    /// `rows.1` loses against the row `rows.0` of the same run, in percent.
    fn loss_target(&mut self, what: &str, rows: (&str, &str), goal: f64) {
        let plain = self.value(rows.0, "calls_per_s");
        let variant = self.value(rows.1, "calls_per_s");
        if let (Some(plain), Some(variant)) = (plain, variant) {
            self.targets.push(Target {
                what: what.into(),
                measured: (1.0 - variant / plain) * 100.0,
                goal,
                at_least: false,
                unit: "%",
            });
        }
    }

    /// A target on `row.0`'s `key` divided by `over.0`'s, times `scale`.
    fn ratio_target(
        &mut self,
        what: &str,
        row: (&str, &str),
        over: (&str, &str),
        scale: f64,
        (goal, at_least, unit): (f64, bool, &'static str),
    ) {
        if let (Some(a), Some(b)) = (self.value(row.0, row.1), self.value(over.0, over.1)) {
            self.targets.push(Target {
                what: what.into(),
                measured: a / b * scale,
                goal,
                at_least,
                unit,
            });
        }
    }

    /// The performance issue's second round: big components, idle memory
    /// and HTTP against its floor.
    fn round_two_targets(&mut self) {
        self.target(
            "sandbox overhead, JavaScript SDK multiply, median",
            "in-process: multiply (JavaScript SDK, 17.8 MB component)",
            "p50_us",
            300.0,
            false,
            "µs",
        );
        self.target(
            "RSS idle, 1 Rust plugin",
            "RSS idle: Corral, 1 plugin(s)",
            "rss_mib",
            15.0,
            false,
            "MiB",
        );
        let (one, ten) = (
            self.value("RSS idle: Corral, 1 plugin(s)", "rss_mib"),
            self.value("RSS idle: Corral, 10 plugin(s)", "rss_mib"),
        );
        if let (Some(one), Some(ten)) = (one, ten) {
            self.targets.push(Target {
                what: "RSS idle, each further plugin".into(),
                measured: (ten - one) / 9.0,
                goal: 1.0,
                at_least: false,
                unit: "MiB",
            });
        }
        use crate::http::FLOOR;
        self.ratio_target(
            "HTTP round trip, 1 connection, ÷ the floor's",
            ("HTTP 1 connection(s): Corral", "p50_us"),
            (&format!("HTTP 1 connection(s): {FLOOR}"), "p50_us"),
            1.0,
            (2.0, false, "×"),
        );
        self.ratio_target(
            "HTTP throughput, 16 connections, share of the floor's",
            ("HTTP 16 connection(s): Corral", "calls_per_s"),
            (&format!("HTTP 16 connection(s): {FLOOR}"), "calls_per_s"),
            100.0,
            (40.0, true, "%"),
        );
    }

    /// Add the comparisons and targets of the issue.
    pub fn ratios(&mut self) {
        let pairs: [(&str, &str, &str, &str, bool); 10] = [
            (
                "stdio round trip p50",
                "stdio sequential: Corral",
                "stdio sequential: FastMCP",
                "p50_us",
                false,
            ),
            (
                "stdio round trip p50, Python `mean`",
                "stdio sequential, Python `mean`: Corral",
                "stdio sequential, Python `mean`: FastMCP",
                "p50_us",
                false,
            ),
            (
                "stdio round trip p50, Python SDK `multiply`",
                "stdio sequential, Python SDK `multiply`: Corral",
                "stdio sequential, Python SDK `multiply`: FastMCP",
                "p50_us",
                false,
            ),
            (
                "stdio round trip p50, JavaScript SDK `multiply` (FastMCP: the Python SDK's)",
                "stdio sequential, JavaScript SDK `multiply`: Corral",
                "stdio sequential, Python SDK `multiply`: FastMCP",
                "p50_us",
                false,
            ),
            (
                "stdio pipelined throughput",
                "stdio pipelined (64 in flight): Corral",
                "stdio pipelined (64 in flight): FastMCP",
                "calls_per_s",
                true,
            ),
            (
                "HTTP throughput, 1 connection",
                "HTTP 1 connection(s): Corral",
                "HTTP 1 connection(s): FastMCP",
                "calls_per_s",
                true,
            ),
            (
                "HTTP throughput, 16 connections",
                "HTTP 16 connection(s): Corral",
                "HTTP 16 connection(s): FastMCP",
                "calls_per_s",
                true,
            ),
            (
                "HTTP throughput, 64 connections",
                "HTTP 64 connection(s): Corral",
                "HTTP 64 connection(s): FastMCP",
                "calls_per_s",
                true,
            ),
            (
                "cold start to first tools/list",
                "cold start, cached: Corral, 1 plugin(s)",
                "cold start: FastMCP",
                "ms",
                false,
            ),
            (
                "RSS idle",
                "RSS idle: Corral, 1 plugin(s)",
                "RSS idle: FastMCP",
                "rss_mib",
                false,
            ),
        ];
        for (what, c, f, key, larger) in pairs {
            self.compare(what, c, f, key, larger);
        }
        self.target(
            "sandbox overhead, Rust multiply, median",
            "in-process: multiply (Rust)",
            "p50_us",
            25.0,
            false,
            "µs",
        );
        self.target(
            "sandbox overhead, Python mean, median",
            "in-process: mean (Python, 18.5 MB component)",
            "p50_us",
            300.0,
            false,
            "µs",
        );
        let python = self
            .ratios
            .iter()
            .find(|r| r.what == "stdio round trip p50, Python `mean`")
            .map(|r| r.fastmcp / r.corral);
        if let Some(ratio) = python {
            self.targets.push(Target {
                what: "stdio round trip, Python `mean`, FastMCP's ÷ Corral's".into(),
                measured: ratio,
                goal: 3.0,
                at_least: true,
                unit: "×",
            });
        }
        self.loss_target(
            "throughput lost to JWT auth, 16 connections",
            (
                "HTTP 16 connection(s): Corral",
                "HTTP 16 connection(s): Corral, JWT auth",
            ),
            10.0,
        );
        self.loss_target(
            "stdio pipelined throughput lost to metrics",
            (
                "stdio pipelined (64 in flight): Corral",
                "stdio pipelined (64 in flight): Corral, metrics on",
            ),
            5.0,
        );
        self.target(
            "cold start with 100 cached plugins",
            "cold start, cached: Corral, 100 plugin(s)",
            "ms",
            300.0,
            false,
            "ms",
        );
        self.round_two_targets();
        let throughput: Vec<(f64, String)> = self
            .ratios
            .iter()
            .filter(|r| r.larger_is_better && r.what.contains("throughput"))
            .map(|r| (r.corral / r.fastmcp, r.what.clone()))
            .collect();
        for (ratio, what) in throughput {
            self.targets.push(Target {
                what,
                measured: ratio,
                goal: 30.0,
                at_least: true,
                unit: "× FastMCP",
            });
        }
    }

    /// Print the tables, comparisons and targets, and write the JSON file.
    pub fn finish(&self, path: &Path) {
        let mut sections: Vec<&'static str> = Vec::new();
        for r in &self.rows {
            if !sections.contains(&r.section) {
                sections.push(r.section);
            }
        }
        for section in sections {
            println!("\n## {section}\n");
            for r in self.rows.iter().filter(|r| r.section == section) {
                println!("  {:<48} {}", r.name, cells(&r.values));
            }
        }
        if !self.ratios.is_empty() {
            println!("\n## Corral vs FastMCP (same run, same client)\n");
            for r in &self.ratios {
                // How many times better Corral is; below 1, it is worse.
                let factor = if r.larger_is_better {
                    r.corral / r.fastmcp
                } else {
                    r.fastmcp / r.corral
                };
                let verdict = match (factor >= 1.0, r.larger_is_better) {
                    (true, true) => format!("Corral is {factor:.1}× higher (better)"),
                    (true, false) => format!("Corral is {factor:.1}× lower (better)"),
                    (false, true) => format!("Corral is {:.1}× lower (worse)", 1.0 / factor),
                    (false, false) => format!("Corral is {:.1}× higher (worse)", 1.0 / factor),
                };
                println!(
                    "  {:<36} Corral {:>12}  FastMCP {:>12}  {verdict}",
                    r.what,
                    pretty(r.corral),
                    pretty(r.fastmcp),
                );
            }
        }
        if !self.targets.is_empty() {
            println!("\n## Targets\n");
            for t in &self.targets {
                let met = if t.at_least {
                    t.measured >= t.goal
                } else {
                    t.measured <= t.goal
                };
                println!(
                    "  {:<44} {} {} (goal {} {}) {}",
                    t.what,
                    pretty(t.measured),
                    t.unit,
                    if t.at_least { "≥" } else { "≤" },
                    pretty(t.goal),
                    if self.smoke {
                        "(smoke: not meaningful)"
                    } else if met {
                        "met"
                    } else {
                        "NOT met"
                    }
                );
            }
        }
        let json = json!({
            "smoke": self.smoke,
            "cpus": std::thread::available_parallelism().map_or(0, |n| n.get()),
            "rows": self.rows.iter().map(|r| {
                let mut values = serde_json::Map::new();
                for (k, v) in &r.values {
                    values.insert((*k).to_owned(), json!(v));
                }
                json!({"section": r.section, "name": r.name, "values": Value::Object(values)})
            }).collect::<Vec<_>>(),
            "ratios": self.ratios.iter().map(|r| json!({
                "what": r.what, "corral": r.corral, "fastmcp": r.fastmcp,
                "larger_is_better": r.larger_is_better,
            })).collect::<Vec<_>>(),
            "targets": self.targets.iter().map(|t| json!({
                "what": t.what, "measured": t.measured, "goal": t.goal,
                "at_least": t.at_least, "unit": t.unit,
            })).collect::<Vec<_>>(),
        });
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).unwrap();
        }
        std::fs::write(path, format!("{json:#}\n")).unwrap();
        println!("\nwrote {}", path.display());
    }
}

fn cells(values: &[(&'static str, f64)]) -> String {
    values
        .iter()
        .map(|(k, v)| format!("{k} {}", pretty(*v)))
        .collect::<Vec<_>>()
        .join("  ")
}

fn pretty(v: f64) -> String {
    if (v.fract() == 0.0 && v.abs() < 1e12) || v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}
