//! Where tasks are kept: [`TaskStore`], and [`MemoryTasks`], the store of
//! one process. A store shared by several processes (Redis) implements the
//! same trait; what only the process running a task can hold (its
//! cancellation, its waiting for input) stays outside the store.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use crate::model::JsonObject;

/// Tasks one process keeps at once (running or holding a result). At the
/// cap the oldest finished task is forgotten to make room; only when every
/// task is unfinished is a new one refused.
pub const MAX_TASKS: usize = 1024;
/// Tasks one session (or, without sessions, the one client) keeps at once;
/// at the cap its oldest finished task makes room, as for [`MAX_TASKS`].
pub const MAX_TASKS_PER_SESSION: usize = 64;
/// Bytes of results (their JSON) the tasks of one process hold at once; a
/// result that does not fit fails its task, naming this limit.
pub const MAX_TASK_RESULT_BYTES: usize = 256 * 1024 * 1024;

/// Where a task is in its life, with what that state carries (as MCP's
/// wire JSON, so a shared store can keep it as it is).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum TaskState {
    /// Running, or about to.
    Working,
    /// Waiting for the client's answers to these requests (`inputRequests`).
    InputRequired(JsonObject),
    /// Finished with this result (`isError` results included).
    Completed(JsonObject),
    /// Failed with this JSON-RPC error.
    Failed(JsonObject),
    /// Cancelled by the client.
    Cancelled,
}

impl TaskState {
    pub(crate) fn is_terminal(&self) -> bool {
        matches!(
            self,
            TaskState::Completed(_) | TaskState::Failed(_) | TaskState::Cancelled
        )
    }

    /// The bytes this state holds, counted against [`MAX_TASK_RESULT_BYTES`].
    fn bytes(&self) -> usize {
        match self {
            TaskState::InputRequired(o) | TaskState::Completed(o) | TaskState::Failed(o) => {
                serde_json::to_vec(o).map_or(0, |v| v.len())
            }
            TaskState::Working | TaskState::Cancelled => 0,
        }
    }
}

/// One task as a client sees it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TaskRecord {
    /// Unguessable: 256 random bits.
    pub id: String,
    /// Who may see it: the session that made it (empty: no session).
    pub owner: String,
    pub created: SystemTime,
    pub updated: SystemTime,
    /// Forgotten after this (the creation time plus the task TTL).
    pub expires: SystemTime,
    pub state: TaskState,
    /// The latest progress message, if any.
    pub message: Option<String>,
}

/// Why a task could not be created.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Full(pub String);

/// Keeps tasks. Every method is quick (no I/O that can wait on a client).
pub(crate) trait TaskStore: Send + Sync {
    /// Keep a new task. At a cap ([`MAX_TASKS`], [`MAX_TASKS_PER_SESSION`])
    /// the oldest finished task under it is forgotten; if none is finished,
    /// the task is refused and the error names the cap.
    fn insert(&self, task: TaskRecord) -> Result<(), Full>;
    /// The task `id`, if `owner` made it and it has not expired.
    fn get(&self, owner: &str, id: &str) -> Option<TaskRecord>;
    /// Apply `change` to the task `id` and return it as changed; `None` if
    /// it is gone. A state whose bytes do not fit [`MAX_TASK_RESULT_BYTES`]
    /// becomes a failure that names the limit.
    fn update(&self, id: &str, change: &mut dyn FnMut(&mut TaskRecord)) -> Option<TaskRecord>;
    /// Forget the task `id`.
    fn remove(&self, id: &str);
    /// Forget every task that expired by `now`; their ids.
    fn purge(&self, now: SystemTime) -> Vec<String>;
}

/// The tasks of this process, in memory.
#[derive(Default)]
pub(crate) struct MemoryTasks {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    tasks: HashMap<String, (TaskRecord, usize)>,
    bytes: usize,
}

impl Inner {
    /// Forget the oldest finished task (of `owner`, if given); whether
    /// there was one.
    fn forget_oldest_finished(&mut self, owner: Option<&str>) -> bool {
        let oldest = self
            .tasks
            .values()
            .filter(|(t, _)| t.state.is_terminal() && owner.is_none_or(|o| t.owner == o))
            .min_by_key(|(t, _)| t.updated)
            .map(|(t, _)| t.id.clone());
        let Some(id) = oldest else {
            return false;
        };
        if let Some((_, bytes)) = self.tasks.remove(&id) {
            self.bytes -= bytes;
        }
        true
    }
}

impl MemoryTasks {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl TaskStore for MemoryTasks {
    fn insert(&self, task: TaskRecord) -> Result<(), Full> {
        let mut inner = self.lock();
        let owned = inner
            .tasks
            .values()
            .filter(|(t, _)| t.owner == task.owner)
            .count();
        if owned >= MAX_TASKS_PER_SESSION && !inner.forget_oldest_finished(Some(&task.owner)) {
            return Err(Full(format!(
                "this session has {MAX_TASKS_PER_SESSION} unfinished tasks, its limit (MAX_TASKS_PER_SESSION); wait for some to finish or cancel them"
            )));
        }
        if inner.tasks.len() >= MAX_TASKS && !inner.forget_oldest_finished(None) {
            return Err(Full(format!(
                "this server has {MAX_TASKS} unfinished tasks, its limit (MAX_TASKS); try again when some have finished"
            )));
        }
        inner.tasks.insert(task.id.clone(), (task, 0));
        Ok(())
    }

    fn get(&self, owner: &str, id: &str) -> Option<TaskRecord> {
        let inner = self.lock();
        let (task, _) = inner.tasks.get(id)?;
        (task.owner == owner && task.expires > SystemTime::now()).then(|| task.clone())
    }

    fn update(&self, id: &str, change: &mut dyn FnMut(&mut TaskRecord)) -> Option<TaskRecord> {
        let mut inner = self.lock();
        let held = inner.bytes;
        let (task, bytes) = inner.tasks.get_mut(id)?;
        let before = *bytes;
        change(task);
        let mut after = task.state.bytes();
        if held - before + after > MAX_TASK_RESULT_BYTES {
            task.state = TaskState::Failed(too_large(after));
            after = task.state.bytes();
        }
        *bytes = after;
        let task = task.clone();
        inner.bytes = held - before + after;
        Some(task)
    }

    fn remove(&self, id: &str) {
        let mut inner = self.lock();
        if let Some((_, bytes)) = inner.tasks.remove(id) {
            inner.bytes -= bytes;
        }
    }

    fn purge(&self, now: SystemTime) -> Vec<String> {
        let mut inner = self.lock();
        let expired: Vec<String> = inner
            .tasks
            .values()
            .filter(|(t, _)| t.expires <= now)
            .map(|(t, _)| t.id.clone())
            .collect();
        for id in &expired {
            if let Some((_, bytes)) = inner.tasks.remove(id) {
                inner.bytes -= bytes;
            }
        }
        expired
    }
}

/// The error of a task whose result does not fit the store.
fn too_large(bytes: usize) -> JsonObject {
    let message = format!(
        "the task's result of {} does not fit: the tasks of this server hold at most {} of results (MAX_TASK_RESULT_BYTES)",
        crate::units::human_size(bytes as u64),
        crate::units::human_size(MAX_TASK_RESULT_BYTES as u64)
    );
    let mut error = JsonObject::new();
    error.insert("code".into(), (-32603).into());
    error.insert("message".into(), message.into());
    error
}

/// A new task's record: `ttl` from now.
pub(crate) fn new_record(id: String, owner: String, ttl: Duration) -> TaskRecord {
    let now = SystemTime::now();
    TaskRecord {
        id,
        owner,
        created: now,
        updated: now,
        expires: now + ttl,
        state: TaskState::Working,
        message: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, owner: &str) -> TaskRecord {
        new_record(id.into(), owner.into(), Duration::from_secs(60))
    }

    #[test]
    fn a_task_is_seen_only_by_its_owner() {
        let store = MemoryTasks::default();
        store.insert(record("a", "session-1")).unwrap();
        assert!(store.get("session-1", "a").is_some());
        assert!(store.get("session-2", "a").is_none());
        assert!(store.get("", "a").is_none());
    }

    #[test]
    fn the_caps_name_themselves_and_finished_tasks_make_room() {
        let store = MemoryTasks::default();
        for i in 0..MAX_TASKS_PER_SESSION {
            store.insert(record(&format!("s{i}"), "one")).unwrap();
        }
        let Full(message) = store.insert(record("over", "one")).unwrap_err();
        assert!(message.contains("MAX_TASKS_PER_SESSION"), "{message}");
        // Finishing the newest one lets the next task take its place.
        let newest = format!("s{}", MAX_TASKS_PER_SESSION - 1);
        store.update(&newest, &mut |t| t.state = TaskState::Cancelled);
        store.insert(record("over", "one")).unwrap();
        assert!(store.get("one", &newest).is_none());
        assert!(store.get("one", "s0").is_some(), "unfinished tasks stay");
        // Other sessions still have room, up to the process cap.
        let mut i = 0;
        let error = loop {
            match store.insert(record(&format!("o{i}"), &format!("owner{}", i / 32))) {
                Ok(()) => i += 1,
                Err(Full(message)) => break message,
            }
        };
        assert_eq!(store.lock().tasks.len(), MAX_TASKS);
        assert!(error.contains("(MAX_TASKS)"), "{error}");
        // At the process cap too, a finished task anywhere makes room.
        store.update("o0", &mut |t| t.state = TaskState::Cancelled);
        store.insert(record("last", "owner-last")).unwrap();
        assert!(store.get("owner0", "o0").is_none());
    }

    #[test]
    fn expired_tasks_are_purged_and_unseen() {
        let store = MemoryTasks::default();
        let mut old = record("old", "");
        old.expires = SystemTime::now() - Duration::from_secs(1);
        store.insert(old).unwrap();
        store.insert(record("new", "")).unwrap();
        assert!(store.get("", "old").is_none());
        assert_eq!(store.purge(SystemTime::now()), vec!["old".to_string()]);
        assert!(store.get("", "new").is_some());
    }

    #[test]
    fn results_past_the_byte_cap_fail_their_task() {
        let store = MemoryTasks::default();
        store.insert(record("big", "")).unwrap();
        store.insert(record("small", "")).unwrap();
        let mut big = JsonObject::new();
        big.insert("text".into(), "x".repeat(MAX_TASK_RESULT_BYTES).into());
        let changed = store
            .update("big", &mut |t| t.state = TaskState::Completed(big.clone()))
            .unwrap();
        let TaskState::Failed(error) = changed.state else {
            panic!("a result over the cap must fail its task");
        };
        assert!(
            error["message"]
                .as_str()
                .unwrap()
                .contains("MAX_TASK_RESULT_BYTES")
        );
        let mut small = JsonObject::new();
        small.insert("text".into(), "ok".into());
        let changed = store
            .update("small", &mut |t| {
                t.state = TaskState::Completed(small.clone())
            })
            .unwrap();
        assert_eq!(changed.state, TaskState::Completed(small));
        store.remove("small");
        store.remove("big");
        assert_eq!(store.lock().bytes, 0);
    }
}
