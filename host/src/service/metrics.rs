//! Prometheus metrics of the call service: every call of every kind counted
//! by provider, component and outcome, its duration, and the limits hit.
//! Label values a client or plugin chooses are bounded: past
//! [`MAX_METRIC_NAMES`] distinct components, new ones are counted as
//! `other`.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};

use crate::error::{CallError, GuestError};

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
    fn label(self) -> &'static str {
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
struct DurationLabels {
    plugin: String,
    kind: &'static str,
    name: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LimitLabels {
    plugin: String,
    limit: &'static str,
}

/// The registry and the metrics in it.
pub(crate) struct Metrics {
    registry: Registry,
    calls: Family<CallLabels, Counter>,
    durations: Family<DurationLabels, Histogram>,
    limits: Family<LimitLabels, Counter>,
    reloads: Counter,
    /// The component names labelled so far, by provider.
    names: Mutex<HashMap<String, HashSet<String>>>,
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
        let durations = Family::<DurationLabels, Histogram>::new_with_constructor(|| {
            // 100 µs to about 26 s.
            Histogram::new(exponential_buckets(0.0001, 2.0, 19))
        });
        registry.register_with_unit(
            "call_duration",
            "Call latency, input rounds with the client included",
            Unit::Seconds,
            durations.clone(),
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
        Metrics {
            registry,
            calls,
            durations,
            limits,
            reloads,
            names: Mutex::new(HashMap::new()),
            named: AtomicUsize::new(0),
        }
    }

    /// `name` if it may be a label value, else `other`. A name already
    /// seen costs no allocation to look up.
    fn bounded<'a>(&self, provider: &str, name: &'a str) -> &'a str {
        let mut names = self.names.lock().unwrap_or_else(|e| e.into_inner());
        if names.get(provider).is_some_and(|seen| seen.contains(name)) {
            return name;
        }
        if self.named.load(Ordering::Relaxed) >= MAX_METRIC_NAMES {
            return "other";
        }
        self.named.fetch_add(1, Ordering::Relaxed);
        names
            .entry(provider.to_owned())
            .or_default()
            .insert(name.to_owned());
        name
    }

    /// Count one call.
    pub(crate) fn call(
        &self,
        kind: &'static str,
        provider: &str,
        name: &str,
        outcome: CallOutcome,
        limit: Option<&'static str>,
        took: Duration,
    ) {
        let name = self.bounded(provider, name);
        self.calls
            .get_or_create(&CallLabels {
                plugin: provider.to_owned(),
                kind,
                name: name.to_owned(),
                outcome: outcome.label(),
            })
            .inc();
        self.durations
            .get_or_create(&DurationLabels {
                plugin: provider.to_owned(),
                kind,
                name: name.to_owned(),
            })
            .observe(took.as_secs_f64());
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

    /// Everything, in Prometheus's text format.
    pub(crate) fn render(&self) -> String {
        let mut text = String::new();
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_limits_and_the_name_cap_show_in_the_text() {
        let metrics = Metrics::new();
        let ms = Duration::from_millis(1);
        metrics.call("tool", "calc", "multiply", CallOutcome::Ok, None, ms);
        metrics.call("tool", "calc", "multiply", CallOutcome::Ok, None, ms);
        let fuel = CallError::Fuel(1);
        metrics.call(
            "tool",
            "calc",
            "spin",
            CallOutcome::of(&fuel),
            fuel.limit(),
            ms,
        );
        for i in 0..MAX_METRIC_NAMES + 5 {
            metrics.call("tool", "many", &format!("t{i}"), CallOutcome::Ok, None, ms);
        }
        let text = metrics.render();
        assert!(
            text.contains(
                r#"corral_calls_total{plugin="calc",kind="tool",name="multiply",outcome="ok"} 2"#
            ),
            "{text}"
        );
        assert!(
            text.contains(r#"corral_limit_hits_total{plugin="calc",limit="fuel"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(
                r#"corral_calls_total{plugin="many",kind="tool",name="other",outcome="ok"} 7"#
            ),
            "{text}"
        );
    }
}
