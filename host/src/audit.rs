//! The audit log: one JSON line per call, written by a thread of its own to
//! stderr or to a file rotated by size. The queue to that thread is
//! bounded; a record that finds it full (or that cannot be written) is
//! dropped and counted, and the count is written to the log itself as soon
//! as there is room, so a gap is never silent.
//!
//! Knows no MCP: the call service hands it finished records.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

use crate::config::{AuditSettings, AuditTarget};

/// Records waiting to be written; past this, new ones are dropped (and the
/// number dropped is written once there is room).
pub const MAX_AUDIT_QUEUE: usize = 4096;
/// The deepest an argument's shape is described; deeper values are `…`.
pub const MAX_SHAPE_DEPTH: usize = 4;
/// The most keys (or array items) of one object described in a shape.
pub const MAX_SHAPE_KEYS: usize = 64;
/// The longest [`AuditLog::flush`] waits for the records queued before it.
pub const AUDIT_FLUSH_WAIT: Duration = Duration::from_secs(5);

/// What the writer is sent.
enum Message {
    /// A line to write.
    Record(Value),
    /// Answer once every record sent before is written.
    Flush(std::sync::mpsc::Sender<()>),
}

/// The audit log of one server.
pub(crate) struct AuditLog {
    sender: SyncSender<Message>,
    /// Records lost since the last gap was written.
    dropped: Arc<AtomicU64>,
    /// Argument values are logged, not only their shape.
    pub(crate) arguments: bool,
}

impl AuditLog {
    /// Start the writer of the log `settings` name. The file is opened by
    /// the writer (created 0600, appended to); while it cannot be written,
    /// records are counted as lost, and the writer tries again with the
    /// next one.
    pub(crate) fn open(settings: &AuditSettings) -> AuditLog {
        let sink = match &settings.target {
            AuditTarget::Stderr => Sink::Stderr,
            AuditTarget::File(path) => Sink::File {
                file: None,
                path: path.clone(),
                max_size: settings.max_size,
                keep: settings.keep,
            },
        };
        let (sender, receiver) = std::sync::mpsc::sync_channel(MAX_AUDIT_QUEUE);
        let dropped = Arc::new(AtomicU64::new(0));
        let lost = dropped.clone();
        let writer = std::thread::Builder::new()
            .name("audit-log".into())
            .spawn(move || write_loop(sink, &receiver, &lost));
        if let Err(e) = &writer {
            tracing::error!("cannot start the audit log's writer: {e}");
        }
        AuditLog {
            sender,
            dropped,
            arguments: settings.arguments,
        }
    }

    /// Wait (at most [`AUDIT_FLUSH_WAIT`]) until every record queued so far
    /// is written: before the process exits.
    pub(crate) fn flush(&self) {
        let (done, written) = std::sync::mpsc::channel();
        if self.sender.send(Message::Flush(done)).is_ok()
            && written.recv_timeout(AUDIT_FLUSH_WAIT).is_err()
        {
            tracing::warn!("audit records not written within {AUDIT_FLUSH_WAIT:?}");
        }
    }

    /// Queue `record` (an object), stamped with the time; dropped and
    /// counted if the queue is full.
    pub(crate) fn record(&self, mut record: Map<String, Value>) {
        let dropped = self.dropped.swap(0, Ordering::Relaxed);
        if dropped > 0 {
            let gap = json!({"time": now_rfc3339(), "dropped": dropped,
                "reason": format!("the audit queue ({MAX_AUDIT_QUEUE} records) was full")});
            if self.sender.try_send(Message::Record(gap)).is_err() {
                self.dropped.fetch_add(dropped, Ordering::Relaxed);
            }
        }
        let mut line = Map::new();
        line.insert("time".into(), Value::String(now_rfc3339()));
        line.append(&mut record);
        match self.sender.try_send(Message::Record(Value::Object(line))) {
            Ok(()) => {}
            // Full, or no writer.
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// The shape of a JSON value: its type, and for an object its keys with
/// their shapes (never a value).
pub(crate) fn shape(value: &Value) -> Value {
    shape_at(value, 0)
}

fn shape_at(value: &Value, depth: usize) -> Value {
    match value {
        Value::Null => "null".into(),
        Value::Bool(_) => "boolean".into(),
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer".into(),
        Value::Number(_) => "number".into(),
        Value::String(_) => "string".into(),
        Value::Array(_) | Value::Object(_) if depth >= MAX_SHAPE_DEPTH => "…".into(),
        Value::Array(items) => {
            let mut kinds: Vec<Value> = Vec::new();
            for item in items.iter().take(MAX_SHAPE_KEYS) {
                let kind = shape_at(item, depth + 1);
                if !kinds.contains(&kind) {
                    kinds.push(kind);
                }
            }
            json!({"array": kinds, "length": items.len()})
        }
        Value::Object(fields) => {
            let mut shaped = Map::new();
            for (key, value) in fields.iter().take(MAX_SHAPE_KEYS) {
                shaped.insert(key.clone(), shape_at(value, depth + 1));
            }
            if fields.len() > MAX_SHAPE_KEYS {
                shaped.insert("…".into(), json!(fields.len() - MAX_SHAPE_KEYS));
            }
            Value::Object(shaped)
        }
    }
}

enum Sink {
    Stderr,
    File {
        /// Open while it can be written.
        file: Option<File>,
        path: PathBuf,
        max_size: u64,
        keep: u32,
    },
}

impl Sink {
    /// Write one line, opening or rotating the file first if need be.
    fn write(&mut self, line: &[u8]) -> std::io::Result<()> {
        let Sink::File {
            file,
            path,
            max_size,
            keep,
        } = self
        else {
            return std::io::stderr().lock().write_all(line);
        };
        let open = match file {
            Some(open) => open,
            None => file.insert(open_append(path)?),
        };
        let size = open.metadata().map(|m| m.len()).unwrap_or(0);
        if size > 0 && size + line.len() as u64 > *max_size {
            *file = None;
            rotate(path, *keep)?;
            return self.write(line);
        }
        let written = open.write_all(line);
        if written.is_err() {
            *file = None;
        }
        written
    }
}

fn open_append(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// Write lines until every sender is gone; rotate a file that would grow
/// past its size: `audit.log` becomes `audit.log.1`, `.1` becomes `.2`, …,
/// and the oldest past `keep` is removed. A line that cannot be written is
/// counted in `lost`.
fn write_loop(mut sink: Sink, receiver: &Receiver<Message>, lost: &AtomicU64) {
    let mut failing = false;
    for message in receiver {
        let record = match message {
            Message::Record(record) => record,
            Message::Flush(done) => {
                let _ = done.send(());
                continue;
            }
        };
        let mut line = record.to_string();
        line.push('\n');
        match sink.write(line.as_bytes()) {
            Ok(()) if failing => {
                tracing::info!("the audit log is written again");
                failing = false;
            }
            Ok(()) => {}
            Err(e) => {
                lost.fetch_add(1, Ordering::Relaxed);
                if !failing {
                    tracing::error!("cannot write the audit log: {e}");
                    failing = true;
                }
            }
        }
    }
}

fn rotate(path: &Path, keep: u32) -> std::io::Result<()> {
    let numbered = |n: u32| {
        let mut name = path.as_os_str().to_owned();
        name.push(format!(".{n}"));
        PathBuf::from(name)
    };
    if keep == 0 {
        return std::fs::remove_file(path);
    }
    let _ = std::fs::remove_file(numbered(keep));
    for n in (1..keep).rev() {
        if numbered(n).exists() {
            std::fs::rename(numbered(n), numbered(n + 1))?;
        }
    }
    std::fs::rename(path, numbered(1))
}

/// Now in RFC 3339, UTC, to the millisecond.
fn now_rfc3339() -> String {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let secs = since.as_secs();
    let (days, rest) = ((secs / 86_400) as i64, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60,
        since.subsec_millis()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_name_types_and_keys_never_values() {
        let value = json!({"a": 6, "b": 7.5, "who": "alice", "tags": ["x", "y"],
            "deep": {"l2": {"l3": {"l4": {"l5": 1}}}}, "none": null, "ok": true});
        let shaped = shape(&value);
        assert_eq!(
            shaped,
            json!({"a": "integer", "b": "number", "who": "string",
                "tags": {"array": ["string"], "length": 2},
                "deep": {"l2": {"l3": {"l4": "…"}}}, "none": "null", "ok": "boolean"})
        );
        assert!(!shaped.to_string().contains("alice"));
        let wide: Map<String, Value> = (0..100).map(|i| (format!("k{i:03}"), json!(i))).collect();
        let shaped = shape(&Value::Object(wide));
        assert_eq!(shaped.as_object().unwrap().len(), MAX_SHAPE_KEYS + 1);
        assert_eq!(shaped["…"], 100 - MAX_SHAPE_KEYS);
    }

    #[test]
    fn the_date_is_rfc3339() {
        let now = now_rfc3339();
        assert_eq!(now.len(), 24, "{now}");
        assert!(
            now.starts_with("20") && now.ends_with('Z') && &now[10..11] == "T",
            "{now}"
        );
    }

    #[test]
    fn a_file_rotates_past_its_size_keeping_the_newest() {
        let dir = std::env::temp_dir().join(format!("corral-audit-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("audit.log");
        let settings = AuditSettings {
            target: AuditTarget::File(path.clone()),
            max_size: 200,
            keep: 2,
            arguments: false,
        };
        let log = AuditLog::open(&settings);
        for n in 0..20 {
            let mut record = Map::new();
            record.insert("n".into(), json!(n));
            log.record(record);
        }
        log.flush();
        let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
        let rotated = |n: u32| dir.join(format!("audit.log.{n}"));
        let newest = read(&path);
        assert!(
            newest.contains("\"n\":19") && newest.len() <= 200,
            "{newest}"
        );
        assert!(read(&rotated(1)).len() <= 200);
        assert!(!read(&rotated(2)).is_empty());
        assert!(!rotated(3).exists());
        assert!(
            !read(&rotated(2)).contains("\"n\":0}"),
            "the oldest were removed"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
