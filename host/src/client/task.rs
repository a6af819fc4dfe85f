//! Following a task a server made of a tool call (the MCP tasks extension,
//! which the client declares): polled to its end, its input requests
//! answered through the [`Handler`](super::Handler), cancelled on the server
//! when the call is or when it runs past the client's `task_timeout`.

use std::time::Duration;

use rmcp::model::{
    CancelTaskParams, CancelTaskRequest, ClientRequest, CreateTaskResult, GetTaskParams,
    GetTaskRequest, InputResponses, ServerResult, TaskPayload, UpdateTaskParams, UpdateTaskRequest,
};
use serde_json::Value;
use tokio::time::Instant;

use super::{Client, ClientError, MAX_ANSWERED_ROUNDS};
use crate::model::{Outcome, ToolResult};
use crate::protocol::read;
use crate::provider::CallContext;

/// The shortest pause between two polls, whatever the server suggests.
const MIN_POLL: Duration = Duration::from_millis(50);
/// The longest pause between two polls, whatever the server suggests.
const MAX_POLL: Duration = Duration::from_secs(5);

fn pause(suggested_ms: Option<u64>) -> Duration {
    suggested_ms
        .map_or(Duration::from_millis(500), Duration::from_millis)
        .clamp(MIN_POLL, MAX_POLL)
}

impl Client {
    /// The tool call the server turned into `created`, followed to its end.
    pub(super) async fn await_task(
        &self,
        created: CreateTaskResult,
        ctx: &CallContext,
    ) -> Result<Outcome<ToolResult>, ClientError> {
        let id = created.task.task_id.clone();
        let deadline = Instant::now() + self.options.task_timeout;
        let mut wait = pause(created.task.poll_interval_ms);
        let mut rounds = 0;
        let failure = loop {
            tokio::select! {
                biased;
                _ = ctx.cancel.cancelled() => break ClientError::Cancelled,
                _ = tokio::time::sleep_until((Instant::now() + wait).min(deadline)) => {}
            }
            if Instant::now() >= deadline {
                break ClientError::Timeout(self.options.task_timeout);
            }
            let get =
                ClientRequest::GetTaskRequest(GetTaskRequest::new(GetTaskParams::new(id.clone())));
            let task = match self.request(ctx, get).await {
                Ok(ServerResult::GetTaskResult(result)) => result.task,
                Ok(_) => {
                    break ClientError::Malformed(
                        "the server answered tasks/get with something else".into(),
                    );
                }
                Err(e) => break e,
            };
            wait = pause(task.task.poll_interval_ms);
            match task.payload {
                TaskPayload::Completed { result } => {
                    return self.read(&result, read::tool_result).map(Outcome::Complete);
                }
                TaskPayload::Failed { error } => {
                    return Err(ClientError::Server {
                        code: error
                            .get("code")
                            .and_then(Value::as_i64)
                            .and_then(|c| i32::try_from(c).ok())
                            .unwrap_or(-32603),
                        message: error
                            .get("message")
                            .and_then(Value::as_str)
                            .unwrap_or("the task failed")
                            .to_owned(),
                    });
                }
                TaskPayload::Cancelled => {
                    return Err(ClientError::Server {
                        code: -32603,
                        message: "the server cancelled the task".into(),
                    });
                }
                TaskPayload::InputRequired { input_requests } => {
                    rounds += 1;
                    if rounds > MAX_ANSWERED_ROUNDS {
                        break ClientError::TooManyRounds(MAX_ANSWERED_ROUNDS);
                    }
                    let responses = tokio::select! {
                        biased;
                        _ = ctx.cancel.cancelled() => break ClientError::Cancelled,
                        _ = tokio::time::sleep_until(deadline) => {
                            break ClientError::Timeout(self.options.task_timeout);
                        }
                        answered = self.answer_all(input_requests) => match answered {
                            Ok(responses) => responses,
                            Err(e) => break e,
                        },
                    };
                    let update = ClientRequest::UpdateTaskRequest(UpdateTaskRequest::new(
                        UpdateTaskParams::new(id.clone(), responses),
                    ));
                    if let Err(e) = self.request(ctx, update).await {
                        break e;
                    }
                    wait = MIN_POLL;
                }
                _ => {}
            }
        };
        // Stop it on the server too (best effort: the session may be gone).
        let cancel =
            ClientRequest::CancelTaskRequest(CancelTaskRequest::new(CancelTaskParams::new(id)));
        let _ = tokio::time::timeout(self.options.timeout, self.peer.send_request(cancel)).await;
        Err(failure)
    }

    /// The handler's answers to a task's input requests.
    async fn answer_all(
        &self,
        requests: rmcp::model::InputRequests,
    ) -> Result<InputResponses, ClientError> {
        let mut responses = InputResponses::new();
        for (key, request) in requests {
            let request = serde_json::to_value(&request)
                .map_err(|e| ClientError::Malformed(e.to_string()))?;
            let method = request
                .get("method")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let params = request.get("params").cloned().unwrap_or(Value::Null);
            let request = read::input_request(method, &params).map_err(ClientError::Malformed)?;
            let answer = self
                .shared
                .handler
                .answer(&request)
                .await
                .map_err(ClientError::Refused)?;
            responses.insert(key, answer);
        }
        Ok(responses)
    }
}
