//! MCP tasks (the `io.modelcontextprotocol/tasks` extension, SEP-2663):
//! tool calls that outlive their request.
//!
//! A call to a tool whose plugin declares task support, from a client that
//! declared the extension, runs in the background from the start. If it
//! answers within `[server] task_after`, the answer goes back in the
//! request as for any call (a 2026-07-28 client's `input_required` too);
//! otherwise the client gets a task at once and polls `tasks/get`, answers
//! input requests with `tasks/update` (within `task_input_timeout`), and
//! may `tasks/cancel`. Each run of
//! the plugin is an ordinary call (fresh instance, fuel, memory, output
//! cap) under `task_timeout` instead of `timeout`; waiting for the client's
//! answers holds no instance.
//!
//! Tasks are kept for [`TASK_TTL`] after they are created, bounded in
//! number per session and per process and in the bytes of their results
//! (see [`store`]). A task id is 256 random bits, and a task is bound to the
//! session that made it: to any other it is unknown.

mod store;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use rmcp::model::{
    CallToolResult, ClientCapabilities, CreateTaskResult, DetailedTask, GetTaskResult,
    ServerNotification, Task, TaskPayload, TaskStatus, TaskStatusNotificationParams,
};
use rmcp::{ErrorData, Peer, RoleServer};
use serde_json::Value;
use tokio::sync::{Notify, mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::metrics::CallOutcome;
use crate::error::CallError;
use crate::model::{Input, InputRequired, JsonObject, LogLevel, Outcome};
use crate::protocol;
use crate::provider::{CallContext, CallObserver};
use tracing::Instrument;

use super::{Exchange, Invocation, ToolCall, View};
pub use store::{MAX_TASK_RESULT_BYTES, MAX_TASKS, MAX_TASKS_PER_SESSION};
use store::{MemoryTasks, TaskRecord, TaskState, TaskStore};

/// How long a task and its result are kept after it is created (`ttlMs`).
pub const TASK_TTL: Duration = Duration::from_secs(3600);
/// How often a client is asked to poll a task (`pollIntervalMs`).
pub const TASK_POLL_INTERVAL: Duration = Duration::from_millis(500);
/// Status notifications one task may have queued for a slow client.
const TASK_NOTIFICATIONS: usize = 8;

/// One task's status notifications, sent in order to a 2025-11-25 session.
fn status_relay(peer: Peer<RoleServer>) -> mpsc::Sender<DetailedTask> {
    let (sender, mut receiver) = mpsc::channel::<DetailedTask>(TASK_NOTIFICATIONS);
    tokio::spawn(async move {
        while let Some(task) = receiver.recv().await {
            let notification = ServerNotification::TaskStatusNotification(
                rmcp::model::Notification::new(TaskStatusNotificationParams::new(task)),
            );
            if peer.send_notification(notification).await.is_err() {
                break;
            }
        }
    });
    sender
}

/// How a task's call ended.
pub(super) enum Finish {
    /// The provider answered (its output checked), or failed.
    Answered(Result<Result<CallToolResult, ErrorData>, CallError>),
    /// A JSON-RPC error for the client (an input request it cannot answer).
    Protocol(ErrorData),
    /// The client cancelled it.
    Cancelled,
}

/// What the request that started a task learns while it waits.
pub(super) enum Early {
    /// The call ended in time: answer it in the request.
    Finished(Finish),
    /// A 2026-07-28 client: the call needs input; answer `input_required`.
    Input(InputRequired),
    /// It is a task now.
    Promoted,
}

/// How the request that started a task is answered.
pub(super) enum Started {
    /// With what the call came to within the wait.
    Early(Early),
    /// With the task.
    Task(Box<CreateTaskResult>),
}

/// Whether the request that started a task still waits for an early answer.
enum Phase {
    Waiting(oneshot::Sender<Early>),
    Promoted,
}

/// What only the process running a task holds: its cancellation, and the
/// answers to its input requests as they arrive.
struct Control {
    cancel: CancellationToken,
    input: Mutex<Answers>,
    answered: Notify,
    phase: Mutex<Phase>,
    /// A 2025-11-25 session's status notifications, sent in order by one
    /// relay task per task (at most `TASK_NOTIFICATIONS` queued).
    relay: Option<mpsc::Sender<DetailedTask>>,
}

#[derive(Default)]
struct Answers {
    pending: BTreeSet<String>,
    received: BTreeMap<String, Value>,
}

/// What a task runs: a tool call, owned.
pub(super) struct Job {
    pub view: Arc<View>,
    /// The tool's served name.
    pub name: String,
    /// Its arguments, checked against its input schema.
    pub arguments: JsonObject,
    /// What a 2026-07-28 client returned from an earlier `input_required`.
    pub first: Option<Input>,
    pub capabilities: Option<ClientCapabilities>,
    pub mask: bool,
    /// How long it waits for answers to its input requests
    /// (`task_input_timeout`).
    pub input_timeout: Duration,
    /// The client's W3C trace context, from the request's `_meta`.
    pub trace: Option<super::TraceParent>,
    /// Who the task belongs to, and its token's subject (for the audit log).
    pub owner: String,
    pub subject: Option<String>,
}

/// The tasks of this server.
pub(crate) struct Tasks {
    observers: Arc<super::Observers>,
    store: Arc<dyn TaskStore>,
    controls: Mutex<HashMap<String, Arc<Control>>>,
    random: ring::rand::SystemRandom,
}

impl Tasks {
    pub(crate) fn new(observers: Arc<super::Observers>) -> Self {
        Self {
            observers,
            store: Arc::new(MemoryTasks::default()),
            controls: Mutex::new(HashMap::new()),
            random: ring::rand::SystemRandom::new(),
        }
    }

    fn controls(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Control>>> {
        self.controls.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn control(&self, id: &str) -> Option<Arc<Control>> {
        self.controls().get(id).cloned()
    }

    /// Forget expired tasks, stopping those still running.
    fn purge(&self) {
        for id in self.store.purge(SystemTime::now()) {
            if let Some(control) = self.controls().remove(&id) {
                control.cancel.cancel();
            }
        }
    }

    fn forget(&self, id: &str) {
        self.store.remove(id);
        self.controls().remove(id);
    }

    /// Start `job` as a task of `exchange`'s client and answer the request:
    /// early (the call's own answer) if it ends within `wait`, else with
    /// the task.
    pub(super) async fn start(
        self: &Arc<Self>,
        exchange: &Exchange,
        job: Job,
        wait: Duration,
    ) -> Result<Started, ErrorData> {
        use ring::rand::SecureRandom;
        self.purge();
        let mut bytes = [0u8; 32];
        self.random
            .fill(&mut bytes)
            .map_err(|_| ErrorData::internal_error("no randomness for a task id", None))?;
        let id: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let owner = exchange.owner.clone();
        let record = store::new_record(id.clone(), owner, TASK_TTL);
        let created = wire_task(&record);
        self.store
            .insert(record)
            .map_err(|store::Full(message)| ErrorData::invalid_request(message, None))?;
        let (sender, mut early) = oneshot::channel();
        let control = Arc::new(Control {
            cancel: CancellationToken::new(),
            input: Mutex::default(),
            answered: Notify::new(),
            phase: Mutex::new(if wait.is_zero() {
                Phase::Promoted
            } else {
                Phase::Waiting(sender)
            }),
            relay: (!exchange.modern).then(|| status_relay(exchange.peer.clone())),
        });
        self.controls().insert(id.clone(), control.clone());
        let modern = exchange.modern;
        tokio::spawn(self.clone().run(id.clone(), job, control.clone(), modern));
        if wait.is_zero() {
            return Ok(Started::Task(Box::new(CreateTaskResult::new(created))));
        }
        tokio::select! {
            sent = &mut early => Ok(answer(sent, created)),
            _ = tokio::time::sleep(wait) => {
                let promoted = {
                    let mut phase = control.phase.lock().unwrap_or_else(|e| e.into_inner());
                    match *phase {
                        Phase::Waiting(_) => {
                            *phase = Phase::Promoted;
                            true
                        }
                        Phase::Promoted => false,
                    }
                };
                if promoted {
                    return Ok(Started::Task(Box::new(CreateTaskResult::new(created))));
                }
                // The task ended just before the clock ran out: its answer
                // is on the way.
                Ok(answer(early.await, created))
            }
            _ = exchange.cancel.cancelled() => {
                control.cancel.cancel();
                self.forget(&id);
                Err(ErrorData::internal_error("the request was cancelled", None))
            }
        }
    }

    /// Run a task's call, round by round, to its end.
    async fn run(self: Arc<Self>, id: String, job: Job, control: Arc<Control>, modern: bool) {
        let mut guard = Unfinished {
            tasks: self.clone(),
            id: id.clone(),
            armed: true,
        };
        let finish = self.rounds(&id, &job, &control, modern).await;
        guard.armed = false;
        let Some(finish) = finish else {
            // Handed to the request as `input_required`: nothing to keep.
            self.forget(&id);
            return;
        };
        let waiting = {
            let mut phase = control.phase.lock().unwrap_or_else(|e| e.into_inner());
            match std::mem::replace(&mut *phase, Phase::Promoted) {
                Phase::Waiting(sender) => Some(sender),
                Phase::Promoted => None,
            }
        };
        if let Some(sender) = waiting {
            // The request still waits: it answers, the task was never seen.
            let _ = sender.send(Early::Finished(finish));
            self.forget(&id);
            return;
        }
        let state = end_state(finish, job.mask);
        self.set(&id, &control, |t| {
            if !t.state.is_terminal() {
                t.state = state.clone();
            }
        });
        self.controls().remove(&id);
    }

    /// The rounds of one task: the call, and again with the client's
    /// answers while it needs input. `None` when the input request went to
    /// the waiting request instead. Counted (metrics, audit log) by how it
    /// ended, whichever way that was.
    async fn rounds(&self, id: &str, job: &Job, control: &Control, modern: bool) -> Option<Finish> {
        let Some(served) = job.view.catalog.tool(&job.name) else {
            return Some(Finish::Protocol(ErrorData::invalid_params(
                format!("Unknown tool: {}", job.name),
                None,
            )));
        };
        let ctx = CallContext {
            cancel: control.cancel.clone(),
            observer: Some(Arc::new(Progress {
                store: self.store.clone(),
                id: id.to_owned(),
            })),
            asker: None,
            as_task: true,
            usage: Arc::default(),
        };
        let component = ("tool", served.provider.name(), job.name.as_str());
        let caller = super::Caller {
            owner: &job.owner,
            subject: job.subject.as_deref(),
            trace: job.trace.as_ref(),
        };
        let arguments = |values: bool| match values {
            true => serde_json::Value::Object(job.arguments.clone()),
            false => crate::audit::shape_object(&job.arguments),
        };
        let observed =
            super::Observed::start(&self.observers, component, &ctx.usage, caller, arguments);
        let finish = self
            .run_rounds(id, job, control, modern, served, &ctx)
            .instrument(observed.span().clone())
            .await;
        let (outcome, limit) = match &finish {
            None => (CallOutcome::InputRequired, None),
            Some(Finish::Answered(Ok(Ok(result)))) if result.is_error == Some(true) => {
                (CallOutcome::ToolError, None)
            }
            Some(Finish::Answered(Ok(Ok(_)))) => (CallOutcome::Ok, None),
            Some(Finish::Answered(Ok(Err(_))) | Finish::Protocol(_)) => (CallOutcome::Error, None),
            Some(Finish::Answered(Err(error))) => (CallOutcome::of(error), error.limit()),
            Some(Finish::Cancelled) => (CallOutcome::Cancelled, None),
        };
        observed.end(outcome, limit);
        finish
    }

    /// The rounds themselves, for [`rounds`](Self::rounds).
    async fn run_rounds(
        &self,
        id: &str,
        job: &Job,
        control: &Control,
        modern: bool,
        served: &crate::catalog::Served<crate::model::ToolDef>,
        ctx: &CallContext,
    ) -> Option<Finish> {
        let invocation = ToolCall {
            name: &served.original,
            arguments: &job.arguments,
        };
        let schemas = job.view.schemas(&job.name);
        let mut input = job.first.clone();
        for _ in 0..super::MAX_INPUT_ROUNDS {
            let required = match invocation
                .invoke(&*served.provider, input.as_ref(), ctx)
                .await
            {
                Ok(Outcome::Complete(result)) => {
                    return Some(Finish::Answered(super::checked_tool_result(
                        schemas, result,
                    )));
                }
                Err(_) if control.cancel.is_cancelled() => return Some(Finish::Cancelled),
                Err(error) => {
                    super::log_failure("tool", &job.name, served.provider.name(), &error);
                    return Some(Finish::Answered(Err(error)));
                }
                Ok(Outcome::NeedsInput(required)) => {
                    match super::input::supported(required, job.capabilities.as_ref()) {
                        Ok(required) => required,
                        Err(error) => return Some(Finish::Protocol(error)),
                    }
                }
            };
            let required = {
                let mut phase = control.phase.lock().unwrap_or_else(|e| e.into_inner());
                match std::mem::replace(&mut *phase, Phase::Promoted) {
                    // A 2026-07-28 client still waiting in its request gets
                    // `input_required` there, as from any call.
                    Phase::Waiting(sender) if modern => {
                        let _ = sender.send(Early::Input(required));
                        return None;
                    }
                    Phase::Waiting(sender) => {
                        let _ = sender.send(Early::Promoted);
                        required
                    }
                    Phase::Promoted => required,
                }
            };
            let answers = match self.ask(id, control, &required, job.input_timeout).await {
                Ok(answers) => answers,
                Err(finish) => return Some(finish.unwrap_or(Finish::Cancelled)),
            };
            input = Some(Input {
                responses: answers.into_iter().collect(),
                state: required.state,
            });
        }
        Some(Finish::Answered(Err(CallError::Host(format!(
            "the plugin asked for client input more than {} times",
            super::MAX_INPUT_ROUNDS
        )))))
    }

    /// Show `required` as the task's input requests and wait until every
    /// one is answered. `Err` ends the task: cancelled or expired (`None`),
    /// or how it failed.
    async fn ask(
        &self,
        id: &str,
        control: &Control,
        required: &InputRequired,
        timeout: Duration,
    ) -> Result<BTreeMap<String, Value>, Option<Finish>> {
        let mut requests = JsonObject::new();
        for (key, request) in &required.requests {
            let request = protocol::input_request(request)
                .ok()
                .and_then(|r| serde_json::to_value(r).ok())
                .ok_or_else(|| {
                    Some(Finish::Answered(Err(CallError::Malformed(format!(
                        "the plugin's input request `{key}` cannot be sent"
                    )))))
                })?;
            requests.insert(key.clone(), request);
        }
        {
            // The pending keys and the shown requests change together, under
            // the input lock, as `update` changes them.
            let mut input = control.input.lock().unwrap_or_else(|e| e.into_inner());
            input.pending = requests.keys().cloned().collect();
            input.received.clear();
            self.set(id, control, |t| {
                if !t.state.is_terminal() {
                    t.state = TaskState::InputRequired(requests.clone());
                }
            })
            .ok_or(None)?;
        }
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = control.answered.notified();
            {
                let mut input = control.input.lock().unwrap_or_else(|e| e.into_inner());
                if input.pending.is_empty() {
                    return Ok(std::mem::take(&mut input.received));
                }
            }
            tokio::select! {
                _ = notified => {}
                _ = control.cancel.cancelled() => return Err(None),
                _ = tokio::time::sleep_until(deadline) => {
                    return Err(Some(Finish::Answered(Err(CallError::Host(format!(
                        "the client did not answer the task's input requests within {} (task_input_timeout)",
                        crate::units::human_duration(timeout)
                    ))))));
                }
            }
        }
    }

    /// Change the task `id`; a 2025-11-25 session is told of a new status,
    /// in order, through the task's bounded relay.
    fn set(
        &self,
        id: &str,
        control: &Control,
        mut change: impl FnMut(&mut TaskRecord),
    ) -> Option<TaskRecord> {
        let mut changed = false;
        let record = self.store.update(id, &mut |t| {
            let before = t.state.clone();
            change(t);
            if t.state != before {
                t.updated = SystemTime::now();
                changed = true;
            }
        })?;
        if let (Some(relay), true) = (&control.relay, changed)
            && let Ok(detailed) = detailed(&record)
            && relay.try_send(detailed).is_err()
        {
            tracing::debug!("a task status notification was dropped (the client is slow)");
        }
        Some(record)
    }

    /// `tasks/get`.
    pub(crate) fn get(&self, exchange: &Exchange, id: &str) -> Result<GetTaskResult, ErrorData> {
        self.purge();
        let record = self.find(exchange, id)?;
        Ok(GetTaskResult::new(detailed(&record)?))
    }

    /// `tasks/update`: answers to the task's input requests. Keys it does
    /// not wait for are ignored; the task resumes once all are answered.
    pub(crate) fn update(
        &self,
        exchange: &Exchange,
        id: &str,
        responses: BTreeMap<String, Value>,
    ) -> Result<(), ErrorData> {
        self.find(exchange, id)?;
        let Some(control) = self.control(id) else {
            return Ok(());
        };
        // Under the input lock, so that the shown requests and the pending
        // keys change together (`ask` sets both under it too).
        let mut input = control.input.lock().unwrap_or_else(|e| e.into_inner());
        let mut answered = false;
        for (key, value) in responses {
            if input.pending.remove(&key) {
                input.received.insert(key, value);
                answered = true;
            }
        }
        if !answered {
            return Ok(());
        }
        // Answered requests leave `inputRequests` at once; the task is
        // working again when none remain.
        let remaining = &input.pending;
        self.set(id, &control, |t| {
            if let TaskState::InputRequired(requests) = &mut t.state {
                requests.retain(|key, _| remaining.contains(key));
                if requests.is_empty() {
                    t.state = TaskState::Working;
                }
            }
        });
        if input.pending.is_empty() {
            control.answered.notify_one();
        }
        Ok(())
    }

    /// `tasks/cancel`: a running task stops (its guest is interrupted) and
    /// is `cancelled` from now on; a finished one stays as it is.
    pub(crate) fn cancel(&self, exchange: &Exchange, id: &str) -> Result<(), ErrorData> {
        let record = self.find(exchange, id)?;
        if record.state.is_terminal() {
            return Ok(());
        }
        if let Some(control) = self.control(id) {
            control.cancel.cancel();
            self.set(id, &control, |t| {
                if !t.state.is_terminal() {
                    t.state = TaskState::Cancelled;
                }
            });
        }
        Ok(())
    }

    fn find(&self, exchange: &Exchange, id: &str) -> Result<TaskRecord, ErrorData> {
        self.store.get(&exchange.owner, id).ok_or_else(|| {
            ErrorData::invalid_params(
                format!(
                    "unknown task `{}` (it never existed, expired, or belongs to another session)",
                    crate::units::printable(&crate::units::truncate(id.to_owned(), 80))
                ),
                None,
            )
        })
    }
}

/// Fails a task whose runner ended without finishing it (a panic in the
/// host), so that it never shows `working` until it expires.
struct Unfinished {
    tasks: Arc<Tasks>,
    id: String,
    armed: bool,
}

impl Drop for Unfinished {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let mut error = JsonObject::new();
        error.insert("code".into(), (-32603).into());
        error.insert(
            "message".into(),
            "the host failed while running the task".into(),
        );
        self.tasks.store.update(&self.id, &mut |t| {
            if !t.state.is_terminal() {
                t.state = TaskState::Failed(error.clone());
                t.updated = SystemTime::now();
            }
        });
        self.tasks.controls().remove(&self.id);
    }
}

/// A task's progress reports become its status message; its log messages
/// reach the host log only.
struct Progress {
    store: Arc<dyn TaskStore>,
    id: String,
}

impl CallObserver for Progress {
    fn log(&self, _level: LogLevel, _provider: &str, _message: &str) {}

    fn progress(&self, progress: f64, total: Option<f64>, message: Option<&str>) {
        let mut text = match total {
            Some(total) => format!("{progress}/{total}"),
            None => format!("{progress}"),
        };
        if let Some(message) = message {
            text.push_str(": ");
            text.push_str(message);
        }
        let text = crate::units::truncate(text, 512);
        self.store.update(&self.id, &mut |t| {
            t.message = Some(text.clone());
            t.updated = SystemTime::now();
        });
    }
}

/// The request's answer from what the task sent it.
fn answer(early: Result<Early, oneshot::error::RecvError>, created: Task) -> Started {
    match early {
        Ok(Early::Promoted) | Err(_) => Started::Task(Box::new(CreateTaskResult::new(created))),
        Ok(early) => Started::Early(early),
    }
}

/// How a task that ended looks to `tasks/get`: a tool's own error is a
/// completed task with an `isError` result; a host failure (a trap, a
/// limit) or a protocol error is a failed task with the JSON-RPC error.
fn end_state(finish: Finish, mask: bool) -> TaskState {
    let error_object = |error: ErrorData| match serde_json::to_value(error) {
        Ok(Value::Object(o)) => TaskState::Failed(o),
        _ => TaskState::Failed(JsonObject::new()),
    };
    let result_object = |result: CallToolResult| match serde_json::to_value(result) {
        Ok(Value::Object(o)) => TaskState::Completed(o),
        _ => TaskState::Failed(JsonObject::new()),
    };
    match finish {
        Finish::Cancelled => TaskState::Cancelled,
        Finish::Protocol(error) => error_object(error),
        Finish::Answered(Ok(Ok(result))) => result_object(result),
        Finish::Answered(Ok(Err(error))) => error_object(error),
        Finish::Answered(Err(error)) if error.is_user_facing() => {
            match protocol::tool_failure(&error, mask) {
                Ok(result) => result_object(result),
                Err(error) => error_object(error),
            }
        }
        Finish::Answered(Err(error)) => {
            error_object(protocol::request_failure(&error, mask, |m| {
                ErrorData::invalid_params(m, None)
            }))
        }
    }
}

fn timestamp(time: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(time).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The task's metadata in MCP's shape.
fn wire_task(record: &TaskRecord) -> Task {
    let status = match record.state {
        TaskState::Working => TaskStatus::Working,
        TaskState::InputRequired(_) => TaskStatus::InputRequired,
        TaskState::Completed(_) => TaskStatus::Completed,
        TaskState::Failed(_) => TaskStatus::Failed,
        TaskState::Cancelled => TaskStatus::Cancelled,
    };
    let mut task = Task::new(
        record.id.clone(),
        status,
        timestamp(record.created),
        timestamp(record.updated),
    )
    .with_ttl_ms(TASK_TTL.as_millis() as u64)
    .with_poll_interval_ms(TASK_POLL_INTERVAL.as_millis() as u64);
    if let Some(message) = &record.message {
        task = task.with_status_message(message.clone());
    }
    task
}

/// The task with what its state carries, as `tasks/get` shows it.
fn detailed(record: &TaskRecord) -> Result<DetailedTask, ErrorData> {
    let payload = match &record.state {
        TaskState::Working => TaskPayload::Working,
        TaskState::Cancelled => TaskPayload::Cancelled,
        TaskState::Completed(result) => TaskPayload::Completed {
            result: result.clone(),
        },
        TaskState::Failed(error) => TaskPayload::Failed {
            error: error.clone(),
        },
        TaskState::InputRequired(requests) => TaskPayload::InputRequired {
            input_requests: serde_json::from_value(Value::Object(requests.clone())).map_err(
                |e| ErrorData::internal_error(format!("a task's input requests: {e}"), None),
            )?,
        },
    };
    Ok(DetailedTask::new(wire_task(record), payload))
}
