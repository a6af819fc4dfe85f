//! What is observed of one call, from start to end: its span (with the
//! client's W3C trace context when its request's `_meta` carries one), its
//! duration, what its provider used, and (with `[server.audit]`) who made
//! it with which arguments; at the end, the metrics, the span's fields, one
//! `call ended` event, one audit record and (while the web console
//! follows) one console event, all from the same values.

use std::sync::Arc;
use std::time::Instant;

use serde_json::{Map, Value, json};
use tracing::Span;
use tracing::field::Empty;

use super::console::Console;
use super::metrics::{CallOutcome, Metrics};
use crate::audit::AuditLog;
use crate::config::AuditSettings;
use crate::provider::Usage;

/// The target of every call's `call` span (what an exporter filters on).
pub const CALL_SPAN_TARGET: &str = module_path!();

/// Where finished calls are reported: the metrics, and the audit log if
/// there is one.
pub(crate) struct Observers {
    pub metrics: Metrics,
    pub audit: Option<AuditLog>,
    /// The web console's live feed.
    pub console: Console,
}

impl Observers {
    pub(crate) fn new(audit: Option<&AuditSettings>) -> Observers {
        Observers {
            metrics: Metrics::new(),
            audit: audit.map(AuditLog::open),
            console: Console::new(),
        }
    }
}

/// Who made a call, and in which trace.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Caller<'a> {
    /// Who its tasks belong to: `session N`, `principal KEY` or `client ADDRESS`.
    pub owner: &'a str,
    /// The verified token's subject, with `[server.auth]`.
    pub subject: Option<&'a str>,
    /// The client's W3C trace context.
    pub trace: Option<&'a TraceParent>,
}

/// A W3C `traceparent` (Trace Context level 1) sent in a request's
/// `_meta`: the caller's trace and span, so a call's span and log lines can
/// be joined to the client's trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TraceParent {
    /// 32 lowercase hex digits, not all zero.
    pub trace_id: String,
    /// The caller's span: 16 lowercase hex digits, not all zero.
    pub parent_id: String,
    /// The caller sampled the trace (flag bit 0).
    pub sampled: bool,
}

impl TraceParent {
    /// The `_meta` key W3C trace context travels under (as in HTTP).
    pub(crate) const META_KEY: &'static str = "traceparent";

    /// Parse `version-traceid-parentid-flags`; `None` for anything the
    /// spec says to ignore (a bad length, upper-case or non-hex digits, an
    /// all-zero id, version `ff`, extra fields in version `00`).
    pub(crate) fn parse(text: &str) -> Option<TraceParent> {
        let hex = |s: &str, len: usize| {
            s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        };
        let mut parts = text.split('-');
        let version = parts.next()?;
        let trace_id = parts.next()?;
        let parent_id = parts.next()?;
        let flags = parts.next()?;
        let later = parts.next().is_some();
        if !hex(version, 2) || version == "ff" || (version == "00" && later) {
            return None;
        }
        if !hex(trace_id, 32) || !hex(parent_id, 16) || !hex(flags, 2) {
            return None;
        }
        if trace_id.bytes().all(|b| b == b'0') || parent_id.bytes().all(|b| b == b'0') {
            return None;
        }
        let flags = u8::from_str_radix(flags, 16).ok()?;
        Some(TraceParent {
            trace_id: trace_id.to_owned(),
            parent_id: parent_id.to_owned(),
            sampled: flags & 1 == 1,
        })
    }
}

/// One call being observed. Dropped before [`end`](Self::end) (its
/// future was dropped: the client left, the server stopped), it ends as
/// `cancelled`.
pub(crate) struct Observed<'a> {
    observers: &'a Observers,
    kind: &'static str,
    provider: &'a str,
    name: &'a str,
    started: Instant,
    usage: Arc<Usage>,
    span: Span,
    /// The audit record so far, with the audit log on (taken at the end).
    audit: std::sync::Mutex<Option<Map<String, Value>>>,
    ended: std::sync::atomic::AtomicBool,
}

impl Drop for Observed<'_> {
    fn drop(&mut self) {
        if !*self.ended.get_mut() {
            self.end(CallOutcome::Cancelled, None);
        }
    }
}

impl<'a> Observed<'a> {
    /// Start observing the call of `kind` `name` served by `provider`,
    /// made by `caller`, whose context reports into `usage`. `arguments`
    /// are asked for only when the audit log is on: their values (`true`)
    /// or only their shape.
    pub(crate) fn start(
        observers: &'a Observers,
        (kind, provider, name): (&'static str, &'a str, &'a str),
        usage: &Arc<Usage>,
        caller: Caller<'_>,
        arguments: impl FnOnce(bool) -> Value,
    ) -> Observed<'a> {
        let span = tracing::debug_span!(
            "call",
            kind,
            plugin = provider,
            component = name,
            trace_id = Empty,
            parent_span_id = Empty,
            sampled = Empty,
            outcome = Empty,
            limit = Empty,
            duration_us = Empty,
            fuel = Empty,
            memory_peak = Empty,
        );
        if let Some(trace) = caller.trace {
            span.record("trace_id", trace.trace_id.as_str());
            span.record("parent_span_id", trace.parent_id.as_str());
            span.record("sampled", trace.sampled);
        }
        let audit = observers.audit.as_ref().map(|log| {
            let arguments = arguments(log.arguments);
            let mut record = Map::new();
            let mut who = json!({"owner": caller.owner});
            if let Some(subject) = caller.subject {
                who["subject"] = json!(subject);
            }
            record.insert("who".into(), who);
            record.insert("kind".into(), json!(kind));
            record.insert("plugin".into(), json!(provider));
            record.insert("name".into(), json!(name));
            record.insert("arguments".into(), arguments);
            if let Some(trace) = caller.trace {
                record.insert("trace_id".into(), json!(trace.trace_id));
            }
            record
        });
        Observed {
            observers,
            kind,
            provider,
            name,
            started: Instant::now(),
            usage: usage.clone(),
            span,
            audit: std::sync::Mutex::new(audit),
            ended: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// The call's span: what runs inside it is logged inside it.
    pub(crate) fn span(&self) -> &Span {
        &self.span
    }

    /// The call ended with `outcome` (stopped by `limit`, if one): count
    /// it, close its span with what it used, and write its audit record.
    pub(crate) fn end(&self, outcome: CallOutcome, limit: Option<&'static str>) {
        use std::sync::atomic::Ordering;
        if self.ended.swap(true, Ordering::Relaxed) {
            return;
        }
        let observers = self.observers;
        let took = self.started.elapsed();
        let usage = self.usage.get();
        let component = (self.kind, self.provider, self.name);
        observers
            .metrics
            .call(component, outcome, limit, took, usage);
        let duration_us = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        if observers.console.followed() {
            let (fuel, memory) = usage.unzip();
            // No caller and no trace id: a console may see the calls of
            // other principals to the components its view shows.
            let event = json!({
                "kind": self.kind, "plugin": self.provider, "name": self.name,
                "outcome": outcome.label(), "limit": limit, "duration_us": duration_us,
                "fuel": fuel, "memory_peak": memory,
            });
            observers
                .console
                .publish("call", Some((self.kind, self.name)), event);
        }
        let record = self.audit.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let (Some(log), Some(mut record)) = (&observers.audit, record) {
            record.insert("outcome".into(), json!(outcome.label()));
            if let Some(limit) = limit {
                record.insert("limit".into(), json!(limit));
            }
            record.insert("duration_us".into(), json!(duration_us));
            if let Some((fuel, memory)) = usage {
                record.insert("fuel".into(), json!(fuel));
                record.insert("memory_peak".into(), json!(memory));
            }
            let hosts = self.usage.hosts();
            if !hosts.allowed.is_empty() {
                record.insert("hosts".into(), json!(hosts.allowed));
            }
            if !hosts.denied.is_empty() {
                record.insert("hosts_denied".into(), json!(hosts.denied));
            }
            if hosts.unlisted > 0 {
                record.insert("hosts_not_listed".into(), json!(hosts.unlisted));
            }
            let files = self.usage.files();
            if !files.opened.is_empty() {
                record.insert("files".into(), json!(files.opened));
            }
            if !files.denied.is_empty() {
                record.insert("files_denied".into(), json!(files.denied));
            }
            if files.unlisted > 0 {
                record.insert("files_not_listed".into(), json!(files.unlisted));
            }
            log.record(record);
        }
        let span = &self.span;
        if span.is_disabled() {
            return;
        }
        span.record("outcome", outcome.label());
        if let Some(limit) = limit {
            span.record("limit", limit);
        }
        span.record("duration_us", duration_us);
        if let Some((fuel, memory)) = usage {
            span.record("fuel", fuel);
            span.record("memory_peak", memory);
        }
        span.in_scope(|| tracing::debug!("call ended"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparent_parses_as_w3c_says() {
        let good = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let parsed = TraceParent::parse(good).unwrap();
        assert_eq!(parsed.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(parsed.parent_id, "00f067aa0ba902b7");
        assert!(parsed.sampled);
        // A later version may add fields; version 00 may not.
        let later = "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-extra";
        assert!(!TraceParent::parse(later).unwrap().sampled);
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902bz-01",
        ] {
            assert_eq!(TraceParent::parse(bad), None, "{bad:?}");
        }
    }
}
