//! Prometheus metrics of the call service: every call of every kind counted
//! by provider, component and outcome, its duration, the fuel and memory it
//! used, and the limits hit; how busy each provider is, the sessions open
//! and the HTTP answers given. Nothing is recorded until something serves
//! the metrics ([`Metrics::enable`]). Label values a client or plugin
//! chooses are bounded: past [`MAX_METRIC_NAMES`] distinct components, new
//! ones are counted as `other`, and HTTP statuses are the few there are.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};

use crate::error::{CallError, GuestError};
use crate::provider::Load;

/// The most distinct (provider, component) pairs labelled by name; later
/// ones are labelled `other`.
pub const MAX_METRIC_NAMES: usize = 1000;

/// How a call ended, as the `outcome` label says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CallOutcome {
    /// Answered.
    Ok,
    /// The tool answered with an error result (`isError`).
    ToolError,
    /// The provider asked the client for input (a 2026-07-28 round).
    InputRequired,
    /// Stopped by a limit (also counted in `corral_limit_hits_total`).
    Limit,
    /// Cancelled by the client.
    Cancelled,
    /// Any other failure: a crash, a malformed answer, the host.
    Error,
}

impl CallOutcome {
    pub(crate) fn label(self) -> &'static str {
        match self {
            CallOutcome::Ok => "ok",
            CallOutcome::ToolError => "tool_error",
            CallOutcome::InputRequired => "input_required",
            CallOutcome::Limit => "limit",
            CallOutcome::Cancelled => "cancelled",
            CallOutcome::Error => "error",
        }
    }

    /// The outcome of a call that failed with `error`.
    pub(crate) fn of(error: &CallError) -> CallOutcome {
        match error {
            _ if error.limit().is_some() => CallOutcome::Limit,
            CallError::Cancelled => CallOutcome::Cancelled,
            CallError::Guest(GuestError::ToolError(_)) => CallOutcome::ToolError,
            _ => CallOutcome::Error,
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    plugin: String,
    kind: &'static str,
    name: String,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ComponentLabels {
    plugin: String,
    kind: &'static str,
    name: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LimitLabels {
    plugin: String,
    limit: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProviderLabels {
    plugin: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SessionLabels {
    protocol: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    status: u16,
}

/// The series of one (provider, kind, component), made once and kept, so
/// that counting a call allocates nothing.
struct Component {
    labels: ComponentLabels,
    /// By [`CallOutcome`], made when first used.
    outcomes: [OnceLock<Counter>; 6],
    duration: Histogram,
    /// Made for the first call its provider measured.
    usage: OnceLock<(Histogram, Histogram)>,
}

/// Components by provider, then by name (one per kind).
type Components = HashMap<String, HashMap<String, Vec<Arc<Component>>>>;

/// The registry and the metrics in it.
pub(crate) struct Metrics {
    /// Whether anything is recorded (set once the metrics are served).
    enabled: AtomicBool,
    registry: Registry,
    calls: Family<CallLabels, Counter>,
    durations: Family<ComponentLabels, Histogram>,
    fuel: Family<ComponentLabels, Histogram>,
    memory: Family<ComponentLabels, Histogram>,
    limits: Family<LimitLabels, Counter>,
    reloads: Counter,
    in_flight: Family<ProviderLabels, Gauge>,
    queued: Family<ProviderLabels, Gauge>,
    sessions: Family<SessionLabels, Gauge>,
    http: Family<StatusLabels, Counter>,
    /// Held while the gauges are set and the text rendered.
    rendering: Mutex<()>,
    /// The components labelled so far, by provider and name.
    names: Mutex<Components>,
    /// How many there are (at most `MAX_METRIC_NAMES`).
    named: AtomicUsize,
}

impl Metrics {
    pub(crate) fn new() -> Metrics {
        let mut registry = Registry::with_prefix("corral");
        let calls = Family::<CallLabels, Counter>::default();
        registry.register(
            "calls",
            "Calls by provider, kind, component and outcome",
            calls.clone(),
        );
        let durations = Family::<ComponentLabels, Histogram>::new_with_constructor(|| {
            // 100 µs to about 26 s.
            Histogram::new(exponential_buckets(0.0001, 2.0, 19))
        });
        registry.register_with_unit(
            "call_duration",
            "Call latency, input rounds with the client included",
            Unit::Seconds,
            durations.clone(),
        );
        let fuel = Family::<ComponentLabels, Histogram>::new_with_constructor(|| {
            // 1,000 to about 4 billion instructions.
            Histogram::new(exponential_buckets(1000.0, 4.0, 12))
        });
        registry.register(
            "call_fuel",
            "Fuel (wasm instructions) a call used, input rounds summed (Wasm plugins)",
            fuel.clone(),
        );
        let memory = Family::<ComponentLabels, Histogram>::new_with_constructor(|| {
            // 64 KiB (one wasm page) to 4 GiB.
            Histogram::new(exponential_buckets(65536.0, 2.0, 17))
        });
        registry.register_with_unit(
            "call_memory_peak",
            "The most linear memory a call's sandbox had (Wasm plugins)",
            Unit::Bytes,
            memory.clone(),
        );
        let limits = Family::<LimitLabels, Counter>::default();
        registry.register(
            "limit_hits",
            "Calls stopped by a limit, by provider and limit",
            limits.clone(),
        );
        let reloads = Counter::default();
        registry.register(
            "catalog_reloads",
            "Catalogs installed after the first (hot reload, upstream list changes)",
            reloads.clone(),
        );
        let in_flight = Family::<ProviderLabels, Gauge>::default();
        registry.register(
            "calls_in_flight",
            "Calls running now, by provider (for a Wasm plugin, one sandbox instance each)",
            in_flight.clone(),
        );
        let queued = Family::<ProviderLabels, Gauge>::default();
        registry.register(
            "calls_queued",
            "Calls waiting for a slot of their provider's concurrency",
            queued.clone(),
        );
        let sessions = Family::<SessionLabels, Gauge>::default();
        registry.register(
            "sessions",
            "Initialized sessions open now, by negotiated protocol version (2026-07-28 requests are stateless and hold none)",
            sessions.clone(),
        );
        let http = Family::<StatusLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by status",
            http.clone(),
        );
        Metrics {
            enabled: AtomicBool::new(false),
            registry,
            calls,
            durations,
            fuel,
            memory,
            limits,
            reloads,
            in_flight,
            queued,
            sessions,
            http,
            rendering: Mutex::new(()),
            names: Mutex::new(HashMap::new()),
            named: AtomicUsize::new(0),
        }
    }

    /// The series of `kind` `name` of `provider`, or of `other` once
    /// [`MAX_METRIC_NAMES`] names are labelled. One already seen costs no
    /// allocation to look up.
    fn component(&self, kind: &'static str, provider: &str, name: &str) -> Arc<Component> {
        let mut names = self.names.lock().unwrap_or_else(|e| e.into_inner());
        let known = |names: &Components, name: &str| {
            let kinds = names.get(provider)?.get(name)?;
            Some(kinds.iter().find(|c| c.labels.kind == kind).cloned())
        };
        let (name, kinds) = match known(&names, name) {
            Some(Some(component)) => return component,
            Some(None) => (name, true),
            None if self.named.load(Ordering::Relaxed) < MAX_METRIC_NAMES => (name, false),
            None => match known(&names, "other") {
                Some(Some(component)) => return component,
                seen => ("other", seen.is_some()),
            },
        };
        if !kinds {
            self.named.fetch_add(1, Ordering::Relaxed);
        }
        let labels = ComponentLabels {
            plugin: provider.to_owned(),
            kind,
            name: name.to_owned(),
        };
        let component = Arc::new(Component {
            duration: self.durations.get_or_create(&labels).clone(),
            labels,
            outcomes: Default::default(),
            usage: OnceLock::new(),
        });
        (names.entry(provider.to_owned()).or_default())
            .entry(name.to_owned())
            .or_default()
            .push(component.clone());
        component
    }

    /// Record from now on.
    pub(crate) fn enable(&self) {
        self.enabled.store(true, Ordering::Relaxed);
    }

    fn enabled(&self) -> bool {
        self.enabled.load(Ordering::Relaxed)
    }

    /// Count one call that took `took` and used `usage` (fuel, peak
    /// memory) if its provider measures that.
    pub(crate) fn call(
        &self,
        (kind, provider, name): (&'static str, &str, &str),
        outcome: CallOutcome,
        limit: Option<&'static str>,
        took: Duration,
        usage: Option<(u64, u64)>,
    ) {
        if !self.enabled() {
            return;
        }
        let component = self.component(kind, provider, name);
        let labels = &component.labels;
        component.outcomes[outcome as usize]
            .get_or_init(|| {
                let calls = CallLabels {
                    plugin: labels.plugin.clone(),
                    kind,
                    name: labels.name.clone(),
                    outcome: outcome.label(),
                };
                self.calls.get_or_create(&calls).clone()
            })
            .inc();
        component.duration.observe(took.as_secs_f64());
        if let Some((fuel, memory)) = usage {
            let (fuel_used, memory_peak) = component.usage.get_or_init(|| {
                let fuel = self.fuel.get_or_create(labels).clone();
                (fuel, self.memory.get_or_create(labels).clone())
            });
            fuel_used.observe(fuel as f64);
            memory_peak.observe(memory as f64);
        }
        if let Some(limit) = limit {
            self.limits
                .get_or_create(&LimitLabels {
                    plugin: provider.to_owned(),
                    limit,
                })
                .inc();
        }
    }

    /// Count one catalog installed after the first.
    pub(crate) fn reload(&self) {
        self.reloads.inc();
    }

    /// Count one HTTP answer.
    pub(crate) fn http(&self, status: u16) {
        if self.enabled() {
            self.http.get_or_create(&StatusLabels { status }).inc();
        }
    }

    /// Everything, in Prometheus's text format, with the gauges set to
    /// `loads` (by provider) and `sessions` (by protocol version).
    pub(crate) fn render<'a>(
        &self,
        loads: impl Iterator<Item = (&'a str, Load)>,
        sessions: &[(String, usize)],
    ) -> String {
        let _rendering = self.rendering.lock().unwrap_or_else(|e| e.into_inner());
        self.in_flight.clear();
        self.queued.clear();
        for (plugin, load) in loads {
            let labels = ProviderLabels {
                plugin: plugin.to_owned(),
            };
            let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
            self.in_flight
                .get_or_create(&labels)
                .set(count(load.in_flight));
            self.queued.get_or_create(&labels).set(count(load.queued));
        }
        self.sessions.clear();
        for (protocol, open) in sessions {
            let labels = SessionLabels {
                protocol: protocol.clone(),
            };
            (self.sessions.get_or_create(&labels)).set(i64::try_from(*open).unwrap_or(i64::MAX));
        }
        let mut text = String::new();
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_usage_limits_gauges_and_the_name_cap_show_in_the_text() {
        let metrics = Metrics::new();
        let ms = Duration::from_millis(1);
        let used = Some((6000, 1 << 20));
        metrics.call(
            ("tool", "calc", "multiply"),
            CallOutcome::Ok,
            None,
            ms,
            used,
        );
        assert!(
            !metrics
                .render(std::iter::empty(), &[])
                .contains("corral_calls_total{"),
            "nothing is recorded before the metrics are served"
        );
        metrics.enable();
        metrics.call(
            ("tool", "calc", "multiply"),
            CallOutcome::Ok,
            None,
            ms,
            used,
        );
        metrics.call(
            ("tool", "calc", "multiply"),
            CallOutcome::Ok,
            None,
            ms,
            used,
        );
        let fuel = CallError::Fuel(1);
        let (outcome, limit) = (CallOutcome::of(&fuel), fuel.limit());
        metrics.call(("tool", "calc", "spin"), outcome, limit, ms, used);
        for i in 0..MAX_METRIC_NAMES + 5 {
            let name = format!("t{i}");
            metrics.call(("tool", "many", &name), CallOutcome::Ok, None, ms, None);
        }
        metrics.http(404);
        let load = Load {
            in_flight: 3,
            queued: 1,
        };
        let sessions = [("2025-11-25".to_owned(), 2)];
        let text = metrics.render([("calc", load)].into_iter(), &sessions);
        for line in [
            r#"corral_calls_total{plugin="calc",kind="tool",name="multiply",outcome="ok"} 2"#,
            r#"corral_limit_hits_total{plugin="calc",limit="fuel"} 1"#,
            r#"corral_calls_total{plugin="many",kind="tool",name="other",outcome="ok"} 7"#,
            r#"corral_call_fuel_sum{plugin="calc",kind="tool",name="multiply"} 12000.0"#,
            r#"corral_call_memory_peak_bytes_sum{plugin="calc",kind="tool",name="multiply"} 2097152.0"#,
            r#"corral_calls_in_flight{plugin="calc"} 3"#,
            r#"corral_calls_queued{plugin="calc"} 1"#,
            r#"corral_sessions{protocol="2025-11-25"} 2"#,
            r#"corral_http_requests_total{status="404"} 1"#,
        ] {
            assert!(text.contains(line), "{line} missing from\n{text}");
        }
        assert!(
            !text.contains(r#"corral_call_fuel_count{plugin="many""#),
            "{text}"
        );
    }
}
