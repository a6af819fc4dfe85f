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
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

use crate::config::{AuditSettings, AuditTarget};

/// Records waiting to be written; past this, new ones are dropped (and the
/// number dropped is written once there is room).
pub const MAX_AUDIT_QUEUE: usize = 4096;
/// Bytes of records waiting to be written; past this, new ones are dropped
/// (and counted) as for [`MAX_AUDIT_QUEUE`].
pub const MAX_AUDIT_QUEUE_BYTES: usize = 16 * 1024 * 1024;
/// The longest audit line: a record whose arguments would make it longer
/// says how long they were instead.
pub const MAX_AUDIT_LINE: usize = 64 * 1024;
/// The deepest an argument's shape is described; deeper values are `…`.
pub const MAX_SHAPE_DEPTH: usize = 4;
/// The most keys (or array items) of one object described in a shape.
pub const MAX_SHAPE_KEYS: usize = 64;
/// The longest key kept in a shape; longer ones are cut (`…`).
pub const MAX_SHAPE_KEY_BYTES: usize = 128;
/// The longest a server waits at exit for its audit records to be written
/// ([`CorralServer::flush_audit`](crate::CorralServer::flush_audit)).
pub const AUDIT_FLUSH_WAIT: Duration = Duration::from_secs(5);

/// What the writer is sent.
enum Message {
    /// A line to write (with its newline).
    Line(String),
    /// Answer once every line sent before is written.
    Flush(std::sync::mpsc::Sender<()>),
}

/// The audit log of one server.
pub(crate) struct AuditLog {
    sender: SyncSender<Message>,
    /// Records lost since the last gap was written.
    dropped: Arc<AtomicU64>,
    /// Bytes of lines queued and not yet written.
    queued: Arc<AtomicUsize>,
    /// Argument values are logged, not only their shape.
    pub(crate) arguments: bool,
}

impl AuditLog {
    /// Start the writer of the log `settings` name. The writer opens the
    /// file at once (created 0600, appended to, never through a symlink)
    /// and says so if it cannot; while it cannot write, records are
    /// counted as lost, and it tries again with the next one.
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
        let queued = Arc::new(AtomicUsize::new(0));
        let (lost, pending) = (dropped.clone(), queued.clone());
        let writer = std::thread::Builder::new()
            .name("audit-log".into())
            .spawn(move || write_loop(sink, &receiver, &lost, &pending));
        if let Err(e) = &writer {
            tracing::error!("cannot start the audit log's writer: {e}");
        }
        AuditLog {
            sender,
            dropped,
            queued,
            arguments: settings.arguments,
        }
    }

    /// Wait (at most [`AUDIT_FLUSH_WAIT`]) until every record queued so far,
    /// and the count of those lost, is written: before the process exits.
    /// Blocks the thread.
    pub(crate) fn flush(&self) {
        let deadline = std::time::Instant::now() + AUDIT_FLUSH_WAIT;
        self.write_gap();
        let (done, written) = std::sync::mpsc::channel();
        let mut flush = Message::Flush(done);
        loop {
            match self.sender.try_send(flush) {
                Ok(()) => break,
                Err(TrySendError::Disconnected(_)) => return,
                Err(TrySendError::Full(back)) if std::time::Instant::now() < deadline => {
                    flush = back;
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(TrySendError::Full(_)) => {
                    tracing::warn!("audit records not written within {AUDIT_FLUSH_WAIT:?}");
                    return;
                }
            }
        }
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if written.recv_timeout(left).is_err() {
            tracing::warn!("audit records not written within {AUDIT_FLUSH_WAIT:?}");
        }
    }

    /// Queue `record` (an object), stamped with the time; dropped and
    /// counted if the queue is full. A line over [`MAX_AUDIT_LINE`] loses
    /// its arguments (their size is said instead).
    pub(crate) fn record(&self, mut record: Map<String, Value>) {
        self.write_gap();
        record.insert("time".into(), Value::String(now_rfc3339()));
        let mut line = Value::Object(record).to_string();
        if line.len() > MAX_AUDIT_LINE {
            let Ok(Value::Object(mut record)) = serde_json::from_str::<Value>(&line) else {
                return;
            };
            let size = record.get("arguments").map_or(0, |a| a.to_string().len());
            let omitted = format!("{size} bytes, over the audit line limit of {MAX_AUDIT_LINE}");
            record.insert("arguments".into(), json!({"omitted": omitted}));
            line = Value::Object(record).to_string();
        }
        line.push('\n');
        if !self.send(line) {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Queue a line reporting the records lost since the last report.
    fn write_gap(&self) {
        let dropped = self.dropped.swap(0, Ordering::Relaxed);
        if dropped == 0 {
            return;
        }
        let reason = "the audit queue was full, or the log could not be written";
        let mut gap =
            json!({"time": now_rfc3339(), "dropped": dropped, "reason": reason}).to_string();
        gap.push('\n');
        if !self.send(gap) {
            self.dropped.fetch_add(dropped, Ordering::Relaxed);
        }
    }

    /// Queue `line` if the queue has room for it.
    fn send(&self, line: String) -> bool {
        let size = line.len();
        if self.queued.fetch_add(size, Ordering::Relaxed) + size > MAX_AUDIT_QUEUE_BYTES {
            self.queued.fetch_sub(size, Ordering::Relaxed);
            return false;
        }
        // Full, or no writer.
        if self.sender.try_send(Message::Line(line)).is_err() {
            self.queued.fetch_sub(size, Ordering::Relaxed);
            return false;
        }
        true
    }
}

/// The shape of an object of arguments: its keys, with their shapes.
pub(crate) fn shape_object(fields: &Map<String, Value>) -> Value {
    shape_fields(fields, 0)
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
        Value::Object(fields) => shape_fields(fields, depth),
    }
}

fn shape_fields(fields: &Map<String, Value>, depth: usize) -> Value {
    let mut shaped = Map::new();
    for (key, value) in fields.iter().take(MAX_SHAPE_KEYS) {
        let key = match key.len() > MAX_SHAPE_KEY_BYTES {
            true => {
                let mut end = MAX_SHAPE_KEY_BYTES;
                while !key.is_char_boundary(end) {
                    end -= 1;
                }
                format!("{}…", &key[..end])
            }
            false => key.clone(),
        };
        shaped.insert(key, shape_at(value, depth + 1));
    }
    if fields.len() > MAX_SHAPE_KEYS {
        shaped.insert("…".into(), json!(fields.len() - MAX_SHAPE_KEYS));
    }
    Value::Object(shaped)
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

/// Open `path` to append, created 0600 (and made 0600 if it was not),
/// never through a symlink.
fn open_append(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
        let file = options.open(path)?;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        Ok(file)
    }
    #[cfg(not(unix))]
    options.open(path)
}

/// Write lines until every sender is gone; rotate a file that would grow
/// past its size: `audit.log` becomes `audit.log.1`, `.1` becomes `.2`, …,
/// and the oldest past `keep` is removed. A line that cannot be written is
/// counted in `lost`.
fn write_loop(
    mut sink: Sink,
    receiver: &Receiver<Message>,
    lost: &AtomicU64,
    queued: &AtomicUsize,
) {
    let mut failing = false;
    if let Sink::File { file, path, .. } = &mut sink {
        match open_append(path) {
            Ok(open) => *file = Some(open),
            Err(e) => {
                tracing::error!("cannot open the audit log {}: {e}", path.display());
                failing = true;
            }
        }
    }
    for message in receiver {
        let line = match message {
            Message::Line(line) => line,
            Message::Flush(done) => {
                let _ = done.send(());
                continue;
            }
        };
        queued.fetch_sub(line.len(), Ordering::Relaxed);
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
    rfc3339(since.as_secs(), since.subsec_millis())
}

/// `secs` after the Unix epoch (and `millis`) in RFC 3339, UTC.
fn rfc3339(secs: u64, millis: u32) -> String {
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
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60,
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
        let long_key = Map::from_iter([("k".repeat(1000), json!(1))]);
        let shaped = shape_object(&long_key);
        let key = shaped.as_object().unwrap().keys().next().unwrap();
        assert_eq!(key.len(), MAX_SHAPE_KEY_BYTES + "…".len());
    }

    #[test]
    fn dates_are_rfc3339() {
        assert_eq!(rfc3339(0, 0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(951_782_400, 7), "2000-02-29T00:00:00.007Z");
        assert_eq!(rfc3339(4_107_542_399, 999), "2100-02-28T23:59:59.999Z");
        assert_eq!(rfc3339(4_107_542_400, 0), "2100-03-01T00:00:00.000Z");
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("corral-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn numbers(text: &str) -> Vec<u64> {
        let lines = text
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap());
        lines.filter_map(|r| r["n"].as_u64()).collect()
    }

    #[test]
    fn a_file_rotates_past_its_size_keeping_the_newest() {
        let dir = scratch("audit-rotation");
        let path = dir.join("audit.log");
        let settings = |keep| AuditSettings {
            target: AuditTarget::File(path.clone()),
            max_size: 200,
            keep,
            arguments: false,
        };
        let log = AuditLog::open(&settings(2));
        for n in 0..20 {
            log.record(Map::from_iter([("n".to_owned(), json!(n))]));
        }
        log.flush();
        let read = |p: &Path| std::fs::read_to_string(p).unwrap();
        let rotated = |n: u32| dir.join(format!("audit.log.{n}"));
        let (newest, older, oldest) = (read(&path), read(&rotated(1)), read(&rotated(2)));
        assert!(
            numbers(&newest).ends_with(&[19]) && newest.len() <= 200,
            "{newest}"
        );
        assert!(older.len() <= 200 && oldest.len() <= 200);
        // Consecutive: nothing lost between the files, the oldest gone.
        let kept: Vec<u64> = [&oldest, &older, &newest]
            .iter()
            .flat_map(|t| numbers(t))
            .collect();
        assert!(
            kept[0] > 0 && kept.windows(2).all(|w| w[1] == w[0] + 1),
            "{kept:?}"
        );
        assert!(!rotated(3).exists());
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(&path).unwrap().permissions(),
        );
        assert_eq!(mode & 0o777, 0o600);
        drop(log);
        // keep = 0: the file starts again, nothing is kept beside it.
        std::fs::remove_dir_all(&dir).unwrap();
        std::fs::create_dir_all(&dir).unwrap();
        let log = AuditLog::open(&settings(0));
        for n in 0..20 {
            log.record(Map::from_iter([("n".to_owned(), json!(n))]));
        }
        log.flush();
        assert!(numbers(&read(&path)).ends_with(&[19]));
        assert!(!rotated(1).exists());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_full_queue_drops_counts_and_says_so_once_there_is_room() {
        // A writer that cannot keep up: records into a queue nobody reads.
        let (sender, receiver) = std::sync::mpsc::sync_channel(MAX_AUDIT_QUEUE);
        let log = AuditLog {
            sender,
            dropped: Arc::default(),
            queued: Arc::default(),
            arguments: false,
        };
        for n in 0..MAX_AUDIT_QUEUE + 3 {
            log.record(Map::from_iter([("n".to_owned(), json!(n))]));
        }
        assert_eq!(log.dropped.load(Ordering::Relaxed), 3);
        let lines: Vec<String> = receiver
            .try_iter()
            .map(|m| match m {
                Message::Line(line) => line,
                Message::Flush(_) => String::new(),
            })
            .collect();
        assert_eq!(lines.len(), MAX_AUDIT_QUEUE);
        assert_eq!(
            log.queued.load(Ordering::Relaxed),
            lines.iter().map(String::len).sum::<usize>()
        );
        // Room again: the next record is preceded by the count of those lost.
        log.queued.store(0, Ordering::Relaxed);
        log.record(Map::from_iter([("n".to_owned(), json!("next"))]));
        let gap: Value = match receiver.try_recv().unwrap() {
            Message::Line(line) => serde_json::from_str(&line).unwrap(),
            Message::Flush(_) => panic!("a flush"),
        };
        assert_eq!(gap["dropped"], 3, "{gap}");
    }

    #[test]
    fn a_record_over_the_line_limit_says_how_long_its_arguments_were() {
        let (sender, receiver) = std::sync::mpsc::sync_channel(4);
        let log = AuditLog {
            sender,
            dropped: Arc::default(),
            queued: Arc::default(),
            arguments: true,
        };
        let big = "x".repeat(MAX_AUDIT_LINE);
        log.record(Map::from_iter([(
            "arguments".to_owned(),
            json!({"text": big}),
        )]));
        let Message::Line(line) = receiver.try_recv().unwrap() else {
            panic!("a flush")
        };
        assert!(line.len() < 1024, "{line}");
        let record: Value = serde_json::from_str(&line).unwrap();
        let omitted = record["arguments"]["omitted"].as_str().unwrap();
        assert!(omitted.contains("over the audit line limit"), "{omitted}");
    }
}
