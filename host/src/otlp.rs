//! An OpenTelemetry trace exporter: the `call` span of every call, sent as
//! OTLP over HTTP with JSON encoding (`/v1/traces`, which the OpenTelemetry
//! Collector, Jaeger, Tempo and others accept), configured by the standard
//! `OTEL_*` variables. Our own (a tracing layer and a batching thread over
//! the HTTP client we already link), so it costs no extra crates; the
//! queue between them is bounded and a full queue drops spans (counted,
//! and reported).
//!
//! Knows no MCP: it exports the spans named `call` with whatever fields
//! they carry (`trace_id`, `parent_span_id` and `sampled` join a span to
//! its caller's trace).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

/// The most spans `OTEL_BSP_MAX_QUEUE_SIZE` may hold waiting for export.
pub const MAX_SPAN_QUEUE: usize = 65_536;
/// The longest a process waits at exit for its last spans to be sent.
pub const OTLP_FLUSH_WAIT: Duration = Duration::from_secs(5);

/// The name of the spans exported.
const EXPORTED_SPAN: &str = "call";

/// A bad `OTEL_*` variable.
#[derive(Debug, thiserror::Error)]
#[error("{variable}: {message}")]
pub struct OtlpSettingError {
    /// The variable.
    pub variable: &'static str,
    /// What is wrong, and what is allowed.
    pub message: String,
}

/// Which traces are kept (`OTEL_TRACES_SAMPLER`, `OTEL_TRACES_SAMPLER_ARG`).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Sampler {
    AlwaysOn,
    AlwaysOff,
    /// Keep this share of traces, by their id.
    Ratio(f64),
    /// Follow the caller's `sampled` flag; a call with no caller's trace
    /// is sampled by the inner sampler.
    ParentBased(RootSampler),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum RootSampler {
    AlwaysOn,
    AlwaysOff,
    Ratio(f64),
}

/// Where and how spans are exported, from the `OTEL_*` variables.
#[derive(Clone)]
pub struct OtlpSettings {
    endpoint: String,
    headers: Vec<(String, String)>,
    resource: Vec<(String, String)>,
    timeout: Duration,
    delay: Duration,
    max_queue: usize,
    batch: usize,
    sampler: Sampler,
}

impl std::fmt::Debug for OtlpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Header values are credentials (API keys): never shown.
        let headers: Vec<&str> = self.headers.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("OtlpSettings")
            .field("endpoint", &shown(&self.endpoint))
            .field("headers", &headers)
            .field("resource", &self.resource)
            .field("sampler", &self.sampler)
            .finish_non_exhaustive()
    }
}

/// `url` without any `user:password@`, for logs.
fn shown(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            let host = authority
                .rsplit_once('@')
                .map_or(authority, |(_, host)| host);
            format!("{scheme}://{host}{path}")
        }
        None => url.to_owned(),
    }
}

impl OtlpSettings {
    /// The settings the environment asks for: `None` unless
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`
    /// is set (and `OTEL_TRACES_EXPORTER` is not `none`).
    pub fn from_env() -> Result<Option<OtlpSettings>, OtlpSettingError> {
        Self::from_vars(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
    }

    fn from_vars(
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<OtlpSettings>, OtlpSettingError> {
        let bad = |variable: &'static str, message: String| OtlpSettingError { variable, message };
        match var("OTEL_TRACES_EXPORTER").as_deref() {
            None | Some("otlp") => {}
            Some("none") => return Ok(None),
            Some(other) => {
                let message = format!("`{other}` is not supported: use `otlp` or `none`");
                return Err(bad("OTEL_TRACES_EXPORTER", message));
            }
        }
        let endpoint = match (
            var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
            var("OTEL_EXPORTER_OTLP_ENDPOINT"),
        ) {
            (Some(traces), _) => (traces, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
            (None, Some(base)) => (
                format!("{}/v1/traces", base.trim_end_matches('/')),
                "OTEL_EXPORTER_OTLP_ENDPOINT",
            ),
            (None, None) => return Ok(None),
        };
        let (endpoint, which) = endpoint;
        if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
            let message = format!("`{endpoint}` is not an http:// or https:// URL");
            return Err(bad(which, message));
        }
        // The traces' own variable wins over the general one.
        let protocol = [
            "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
            "OTEL_EXPORTER_OTLP_PROTOCOL",
        ]
        .into_iter()
        .find_map(|variable| var(variable).map(|value| (variable, value)));
        if let Some((variable, protocol)) = protocol.filter(|(_, p)| p != "http/json") {
            let message = format!(
                "`{protocol}` is not supported: corral exports OTLP as `http/json` (which collectors accept on the same port as http/protobuf); set OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=http/json"
            );
            return Err(bad(variable, message));
        }
        let pairs = |variable: &'static str| -> Result<Vec<(String, String)>, OtlpSettingError> {
            let Some(text) = var(variable) else {
                return Ok(Vec::new());
            };
            text.split(',')
                .filter(|pair| !pair.trim().is_empty())
                .map(|pair| {
                    let (key, value) = pair.split_once('=').ok_or_else(|| {
                        bad(
                            variable,
                            "expected key=value pairs separated by commas".into(),
                        )
                    })?;
                    Ok((key.trim().to_owned(), percent_decode(value.trim())))
                })
                .collect()
        };
        // The traces' own headers win over the general ones of the same name.
        let mut headers = pairs("OTEL_EXPORTER_OTLP_TRACES_HEADERS")?;
        for (name, value) in pairs("OTEL_EXPORTER_OTLP_HEADERS")? {
            if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(&name)) {
                headers.push((name, value));
            }
        }
        let mut resource = pairs("OTEL_RESOURCE_ATTRIBUTES")?;
        let named = resource.iter().find(|(key, _)| key == "service.name");
        let service = var("OTEL_SERVICE_NAME")
            .or_else(|| named.map(|(_, name)| name.clone()))
            .unwrap_or_else(|| "corral".into());
        resource.retain(|(key, _)| key != "service.name");
        resource.insert(0, ("service.name".into(), service));
        let number = |variable: &'static str, default: u64, least: u64| {
            let Some(text) = var(variable) else {
                return Ok(default);
            };
            match text.parse::<u64>() {
                Ok(n) if n >= least => Ok(n),
                _ => Err(bad(
                    variable,
                    format!("`{text}` is not a whole number ≥ {least}"),
                )),
            }
        };
        let timeout = match var("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT") {
            Some(_) => number("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", 10_000, 1)?,
            None => number("OTEL_EXPORTER_OTLP_TIMEOUT", 10_000, 1)?,
        };
        let max_queue = number("OTEL_BSP_MAX_QUEUE_SIZE", 2048, 1)?;
        if max_queue > MAX_SPAN_QUEUE as u64 {
            let message = format!("{max_queue} is over the most spans queued, {MAX_SPAN_QUEUE}");
            return Err(bad("OTEL_BSP_MAX_QUEUE_SIZE", message));
        }
        let batch = number("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", 512, 1)?.min(max_queue);
        Ok(Some(OtlpSettings {
            endpoint,
            headers,
            resource,
            timeout: Duration::from_millis(timeout),
            delay: Duration::from_millis(number("OTEL_BSP_SCHEDULE_DELAY", 5000, 1)?),
            max_queue: max_queue as usize,
            batch: batch as usize,
            sampler: sampler(var("OTEL_TRACES_SAMPLER"), var("OTEL_TRACES_SAMPLER_ARG"))
                .map_err(|message| bad("OTEL_TRACES_SAMPLER", message))?,
        }))
    }

    /// Where spans go.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }
}

fn sampler(name: Option<String>, arg: Option<String>) -> Result<Sampler, String> {
    let ratio = || -> Result<f64, String> {
        let Some(arg) = &arg else { return Ok(1.0) };
        match arg.parse::<f64>() {
            Ok(r) if (0.0..=1.0).contains(&r) => Ok(r),
            _ => Err(format!(
                "OTEL_TRACES_SAMPLER_ARG `{arg}` is not a ratio from 0 to 1"
            )),
        }
    };
    Ok(match name.as_deref().unwrap_or("parentbased_always_on") {
        "always_on" => Sampler::AlwaysOn,
        "always_off" => Sampler::AlwaysOff,
        "traceidratio" => Sampler::Ratio(ratio()?),
        "parentbased_always_on" => Sampler::ParentBased(RootSampler::AlwaysOn),
        "parentbased_always_off" => Sampler::ParentBased(RootSampler::AlwaysOff),
        "parentbased_traceidratio" => Sampler::ParentBased(RootSampler::Ratio(ratio()?)),
        other => {
            return Err(format!(
                "`{other}` is not supported: use always_on, always_off, traceidratio or parentbased_ with one of those"
            ));
        }
    })
}

/// `%XX` escapes decoded (W3C baggage encoding of header values).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A field value of a span.
#[derive(Debug, Clone, PartialEq)]
enum FieldValue {
    Text(String),
    Int(i64),
    Bool(bool),
}

/// A `call` span while it is open.
struct Open {
    start: SystemTime,
    fields: Vec<(&'static str, FieldValue)>,
}

impl Visit for Open {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.set(field, FieldValue::Text(value.to_owned()));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.set(
            field,
            FieldValue::Int(i64::try_from(value).unwrap_or(i64::MAX)),
        );
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.set(field, FieldValue::Int(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.set(field, FieldValue::Bool(value));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.set(field, FieldValue::Text(format!("{value:?}")));
    }
}

impl Open {
    fn set(&mut self, field: &Field, value: FieldValue) {
        match self
            .fields
            .iter_mut()
            .find(|(name, _)| *name == field.name())
        {
            Some((_, old)) => *old = value,
            None => self.fields.push((field.name(), value)),
        }
    }

    fn text(&self, name: &str) -> Option<&str> {
        self.fields.iter().find_map(|(n, v)| match v {
            FieldValue::Text(text) if *n == name => Some(text.as_str()),
            _ => None,
        })
    }

    fn flag(&self, name: &str) -> Option<bool> {
        self.fields.iter().find_map(|(n, v)| match v {
            FieldValue::Bool(flag) if *n == name => Some(*flag),
            _ => None,
        })
    }
}

/// A span ready to send, in OTLP's JSON shape.
type Finished = Value;

/// The spans waiting for the exporter: bounded; past the bound new spans
/// are dropped and counted.
struct Queue {
    spans: Mutex<(VecDeque<Finished>, bool)>,
    changed: Condvar,
    max: usize,
    dropped: AtomicU64,
}

impl Queue {
    fn push(&self, span: Finished) -> bool {
        let mut state = self.spans.lock().unwrap_or_else(|e| e.into_inner());
        if state.0.len() >= self.max {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        state.0.push_back(span);
        self.changed.notify_one();
        true
    }
}

/// The tracing layer that turns closed `call` spans into OTLP spans.
pub struct OtlpLayer {
    queue: Arc<Queue>,
    sampler: Sampler,
    random: ring::rand::SystemRandom,
}

/// The thread that sends batches; [`OtlpExporter::shutdown`] sends what is
/// left.
pub struct OtlpExporter {
    queue: Arc<Queue>,
    done: std::sync::mpsc::Receiver<()>,
}

/// The layer and the exporter thread for `settings`.
pub fn otlp(settings: OtlpSettings) -> (OtlpLayer, OtlpExporter) {
    let queue = Arc::new(Queue {
        spans: Mutex::new((VecDeque::new(), false)),
        changed: Condvar::new(),
        max: settings.max_queue,
        dropped: AtomicU64::new(0),
    });
    let (finished, done) = std::sync::mpsc::channel();
    let sending = queue.clone();
    let sampler = settings.sampler;
    std::thread::Builder::new()
        .name("otlp-export".into())
        .spawn(move || {
            export_loop(&settings, &sending);
            let _ = finished.send(());
        })
        .expect("starting the OTLP export thread");
    let layer = OtlpLayer {
        queue: queue.clone(),
        sampler,
        random: ring::rand::SystemRandom::new(),
    };
    (layer, OtlpExporter { queue, done })
}

impl OtlpExporter {
    /// Send what is queued and stop, waiting at most [`OTLP_FLUSH_WAIT`].
    pub fn shutdown(self) {
        {
            let mut state = self.queue.spans.lock().unwrap_or_else(|e| e.into_inner());
            state.1 = true;
            self.queue.changed.notify_one();
        }
        if self.done.recv_timeout(OTLP_FLUSH_WAIT).is_err() {
            eprintln!("warning: OTLP spans not sent within {OTLP_FLUSH_WAIT:?} of exit");
        }
    }
}

impl OtlpLayer {
    fn random_hex(&self, bytes: usize) -> String {
        let mut id = [0u8; 16];
        let id = &mut id[..bytes];
        loop {
            if ring::rand::SecureRandom::fill(&self.random, id).is_ok()
                && id.iter().any(|b| *b != 0)
            {
                break;
            }
        }
        id.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn sampled(&self, open: &Open, trace_id: &str) -> bool {
        let by_id = |ratio: f64| {
            let low = (trace_id.get(16..)).and_then(|low| u64::from_str_radix(low, 16).ok());
            let low = low.unwrap_or(0);
            (low as f64) < ratio * (u64::MAX as f64)
        };
        let root = |root: RootSampler| match root {
            RootSampler::AlwaysOn => true,
            RootSampler::AlwaysOff => false,
            RootSampler::Ratio(ratio) => by_id(ratio),
        };
        match self.sampler {
            Sampler::AlwaysOn => true,
            Sampler::AlwaysOff => false,
            Sampler::Ratio(ratio) => by_id(ratio),
            Sampler::ParentBased(inner) => match open.text("parent_span_id") {
                Some(_) => open.flag("sampled").unwrap_or(true),
                None => root(inner),
            },
        }
    }

    /// The OTLP JSON of a closed span.
    fn finish(&self, open: &Open) -> Option<Finished> {
        let trace_id = match open.text("trace_id") {
            Some(id) => id.to_owned(),
            None => self.random_hex(16),
        };
        if !self.sampled(open, &trace_id) {
            return None;
        }
        let nanos = |t: SystemTime| {
            let n = t.duration_since(UNIX_EPOCH).unwrap_or_default().as_nanos();
            n.to_string()
        };
        let attributes: Vec<Value> = open
            .fields
            .iter()
            .filter(|(name, _)| !matches!(*name, "trace_id" | "parent_span_id" | "sampled"))
            .map(|(name, value)| {
                let value = match value {
                    FieldValue::Text(text) => json!({"stringValue": text}),
                    FieldValue::Int(n) => json!({"intValue": n.to_string()}),
                    FieldValue::Bool(b) => json!({"boolValue": b}),
                };
                json!({"key": format!("corral.{name}"), "value": value})
            })
            .collect();
        let name = match (open.text("kind"), open.text("component")) {
            (Some(kind), Some(component)) => format!("{kind} {component}"),
            _ => EXPORTED_SPAN.to_owned(),
        };
        // ERROR for a tool error, a limit or a failure; otherwise unset
        // (as OpenTelemetry asks of instrumentation).
        let status = match open.text("outcome") {
            Some("ok" | "input_required" | "cancelled") | None => json!({}),
            Some(outcome) => json!({"code": 2, "message": outcome}),
        };
        let mut span = json!({
            "traceId": trace_id,
            "spanId": self.random_hex(8),
            "name": name,
            "kind": 2,
            "startTimeUnixNano": nanos(open.start),
            "endTimeUnixNano": nanos(SystemTime::now()),
            "attributes": attributes,
            "status": status,
        });
        if let Some(parent) = open.text("parent_span_id") {
            span["parentSpanId"] = json!(parent);
        }
        Some(span)
    }
}

impl<S> tracing_subscriber::Layer<S> for OtlpLayer
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if attrs.metadata().name() != EXPORTED_SPAN {
            return;
        }
        let Some(span) = ctx.span(id) else { return };
        let mut open = Open {
            start: SystemTime::now(),
            fields: Vec::new(),
        };
        attrs.record(&mut open);
        span.extensions_mut().insert(open);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        if let Some(open) = span.extensions_mut().get_mut::<Open>() {
            values.record(open);
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let Some(open) = span.extensions_mut().remove::<Open>() else {
            return;
        };
        if let Some(finished) = self.finish(&open) {
            self.queue.push(finished);
        }
    }
}

/// Send batches until shutdown, then what is left.
fn export_loop(settings: &OtlpSettings, queue: &Queue) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            tracing::error!("OTLP export cannot start: {e}");
            return;
        }
    };
    let client = match reqwest::Client::builder().timeout(settings.timeout).build() {
        Ok(client) => client,
        Err(e) => {
            tracing::error!("OTLP export cannot start: {e}");
            return;
        }
    };
    let resource: Vec<Value> = (settings.resource.iter())
        .map(|(key, value)| json!({"key": key, "value": {"stringValue": value}}))
        .collect();
    let mut failing = false;
    let mut reported_drops = 0;
    loop {
        let (batch, stopping) = {
            let mut state = queue.spans.lock().unwrap_or_else(|e| e.into_inner());
            let deadline = Instant::now() + settings.delay;
            while state.0.len() < settings.batch && !state.1 {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                state = (queue.changed.wait_timeout(state, left))
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
            let take = state.0.len().min(settings.batch);
            let batch: Vec<Finished> = state.0.drain(..take).collect();
            (batch, state.1 && state.0.is_empty())
        };
        let dropped = queue.dropped.load(Ordering::Relaxed);
        if dropped > reported_drops {
            tracing::warn!(
                "OTLP: {} span(s) dropped: the queue of {} (OTEL_BSP_MAX_QUEUE_SIZE) was full",
                dropped - reported_drops,
                settings.max_queue
            );
            reported_drops = dropped;
        }
        if !batch.is_empty() {
            let body = json!({"resourceSpans": [{
                "resource": {"attributes": resource},
                "scopeSpans": [{
                    "scope": {"name": "corral", "version": env!("CARGO_PKG_VERSION")},
                    "spans": batch,
                }],
            }]});
            let mut request = client.post(&settings.endpoint).json(&body);
            for (name, value) in &settings.headers {
                request = request.header(name, value);
            }
            let sent = runtime.block_on(async {
                let response = request.send().await?;
                response.error_for_status()
            });
            match sent {
                Ok(_) if failing => {
                    tracing::info!("OTLP export to {} works again", shown(&settings.endpoint));
                    failing = false;
                }
                Ok(_) => {}
                // Header values (API keys) and credentials in the URL are
                // never logged.
                Err(e) if !failing => {
                    let e = e.without_url();
                    tracing::warn!("OTLP export to {} failed: {e}", shown(&settings.endpoint));
                    failing = true;
                }
                Err(_) => {}
            }
        }
        if stopping {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(vars: &[(&str, &str)]) -> Result<Option<OtlpSettings>, OtlpSettingError> {
        OtlpSettings::from_vars(|name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn settings_follow_the_otel_variables() {
        assert!(settings(&[]).unwrap().is_none());
        let endpoint = ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318/");
        assert!(
            settings(&[endpoint, ("OTEL_TRACES_EXPORTER", "none")])
                .unwrap()
                .is_none()
        );
        let s = settings(&[
            endpoint,
            ("OTEL_EXPORTER_OTLP_HEADERS", "api-key=a%3Db, x = y"),
            ("OTEL_SERVICE_NAME", "edge"),
            ("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=prod"),
            ("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", "0.25"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(s.endpoint(), "http://127.0.0.1:4318/v1/traces");
        assert_eq!(
            s.headers,
            [("api-key".into(), "a=b".into()), ("x".into(), "y".into())]
        );
        assert_eq!(s.resource[0], ("service.name".into(), "edge".into()));
        assert_eq!(s.sampler, Sampler::ParentBased(RootSampler::Ratio(0.25)));
        assert_eq!((s.max_queue, s.batch), (2048, 512));
        let both = settings(&[
            endpoint,
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
            ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/json"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "k=general,other=1"),
            ("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "k=traces"),
            ("OTEL_RESOURCE_ATTRIBUTES", "service.name=from-resource"),
            ("OTEL_TRACES_SAMPLER", "parentbased_always_off"),
        ]);
        let both = both.unwrap().unwrap();
        assert_eq!(
            both.headers,
            [("k".into(), "traces".into()), ("other".into(), "1".into())]
        );
        assert_eq!(
            both.resource,
            [("service.name".into(), "from-resource".into())]
        );
        assert_eq!(both.sampler, Sampler::ParentBased(RootSampler::AlwaysOff));
        let secret = (
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "https://u:pw@c.example/v1/traces",
        );
        let shown = format!(
            "{:?}",
            settings(&[secret, ("OTEL_EXPORTER_OTLP_HEADERS", "k=key-value")])
                .unwrap()
                .unwrap()
        );
        assert!(
            !shown.contains("pw") && !shown.contains("key-value") && shown.contains("c.example"),
            "{shown}"
        );
        let traces = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "https://c.example/x");
        assert_eq!(
            settings(&[endpoint, traces]).unwrap().unwrap().endpoint(),
            "https://c.example/x"
        );
        for (vars, variable, needle) in [
            (
                vec![endpoint, ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")],
                "OTEL_EXPORTER_OTLP_PROTOCOL",
                "http/json",
            ),
            (
                vec![("OTEL_EXPORTER_OTLP_ENDPOINT", "127.0.0.1:4318")],
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                "http://",
            ),
            (
                vec![endpoint, ("OTEL_BSP_MAX_QUEUE_SIZE", "1000000")],
                "OTEL_BSP_MAX_QUEUE_SIZE",
                "65536",
            ),
            (
                vec![endpoint, ("OTEL_TRACES_SAMPLER", "sometimes")],
                "OTEL_TRACES_SAMPLER",
                "always_on",
            ),
            (
                vec![
                    endpoint,
                    ("OTEL_TRACES_SAMPLER", "traceidratio"),
                    ("OTEL_TRACES_SAMPLER_ARG", "2"),
                ],
                "OTEL_TRACES_SAMPLER",
                "0 to 1",
            ),
            (
                vec![endpoint, ("OTEL_EXPORTER_OTLP_HEADERS", "novalue")],
                "OTEL_EXPORTER_OTLP_HEADERS",
                "key=value",
            ),
        ] {
            let error = settings(&vars).unwrap_err();
            assert_eq!(error.variable, variable);
            assert!(error.to_string().contains(needle), "{error}");
        }
    }

    #[test]
    fn samplers_follow_the_parent_and_the_ratio() {
        let layer = |sampler| OtlpLayer {
            queue: Arc::new(Queue {
                spans: Mutex::new((VecDeque::new(), false)),
                changed: Condvar::new(),
                max: 1,
                dropped: AtomicU64::new(0),
            }),
            sampler,
            random: ring::rand::SystemRandom::new(),
        };
        let span = |parent: Option<bool>| {
            let mut fields = Vec::new();
            if let Some(sampled) = parent {
                fields.push((
                    "parent_span_id",
                    FieldValue::Text("00f067aa0ba902b7".into()),
                ));
                fields.push(("sampled", FieldValue::Bool(sampled)));
            }
            Open {
                start: SystemTime::now(),
                fields,
            }
        };
        let low = "4bf92f3577b34da60000000000000000";
        let high = "4bf92f3577b34da6ffffffffffffffff";
        let off = layer(Sampler::ParentBased(RootSampler::AlwaysOff));
        assert!(!off.sampled(&span(None), low));
        assert!(off.sampled(&span(Some(true)), low));
        let on = layer(Sampler::ParentBased(RootSampler::AlwaysOn));
        assert!(!on.sampled(&span(Some(false)), low) && on.sampled(&span(None), low));
        let half = layer(Sampler::Ratio(0.5));
        assert!(half.sampled(&span(Some(false)), low) && !half.sampled(&span(None), high));
        assert!(!layer(Sampler::Ratio(0.0)).sampled(&span(None), low));
        assert!(!layer(Sampler::AlwaysOff).sampled(&span(Some(true)), low));
        // A malformed id from another span cannot panic the layer.
        let _ = half.sampled(&span(None), "é");
    }

    #[test]
    fn a_full_queue_drops_and_counts() {
        let queue = Queue {
            spans: Mutex::new((VecDeque::new(), false)),
            changed: Condvar::new(),
            max: 2,
            dropped: AtomicU64::new(0),
        };
        assert!(queue.push(json!(1)) && queue.push(json!(2)));
        assert!(!queue.push(json!(3)));
        assert_eq!(queue.dropped.load(Ordering::Relaxed), 1);
    }
}
