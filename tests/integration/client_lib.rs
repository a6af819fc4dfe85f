//! `corral::client` as a library: Corral over stdio as the server (so the
//! 2026-07-28 era), its input rounds answered by a [`Handler`], progress
//! routed to the call's observer, log messages to the handler, and the
//! failures a caller can meet named.

use std::sync::{Arc, Mutex};

use corral::client::{Answer, Capabilities, Client, ClientError, ClientOptions, Handler, Target};
use corral::{CallContext, CallObserver, CancellationToken, Content, InputRequest, LogLevel};
use serde_json::{Value, json};

use crate::harness::{corral, eventually, test_plugin};

/// Answers elicitation and sampling, refuses roots, and records what it saw.
#[derive(Default)]
struct Recorder {
    logs: Mutex<Vec<String>>,
    asked: Mutex<Vec<String>>,
}

impl Handler for Recorder {
    fn capabilities(&self) -> Capabilities {
        Capabilities {
            elicitation: true,
            sampling: true,
            roots: false,
        }
    }

    fn log_level(&self) -> Option<LogLevel> {
        Some(LogLevel::Info)
    }

    fn log(&self, _level: LogLevel, _logger: Option<&str>, data: &Value) {
        let text = data
            .as_str()
            .map_or_else(|| data.to_string(), str::to_owned);
        self.logs.lock().unwrap().push(text);
    }

    fn answer<'a>(&'a self, request: &'a InputRequest) -> Answer<'a> {
        let answer = match request {
            InputRequest::Elicit { message, .. } => {
                self.asked.lock().unwrap().push(message.clone());
                Ok(
                    json!({"action": "accept", "content": {"username": "ann", "email": "ann@example.com"}}),
                )
            }
            InputRequest::Sample { .. } => Ok(json!({
                "role": "assistant",
                "content": {"type": "text", "text": "forty-two"},
                "model": "test-model"
            })),
            _ => Err("no roots here".to_owned()),
        };
        Box::pin(async move { answer })
    }
}

/// Progress values as they arrive.
#[derive(Default)]
struct Progress(Mutex<Vec<f64>>);

impl CallObserver for Progress {
    fn log(&self, _level: LogLevel, _provider: &str, _message: &str) {}
    fn progress(&self, progress: f64, _total: Option<f64>, _message: Option<&str>) {
        self.0.lock().unwrap().push(progress);
    }
}

fn arguments(value: Value) -> corral::JsonObject {
    value.as_object().cloned().unwrap_or_default()
}

fn first_text(content: &[Content]) -> &str {
    match content.first() {
        Some(Content::Text(text)) => text,
        other => panic!("a text block expected, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_client_library_answers_input_and_routes_progress_and_logs() {
    let plugin = test_plugin("conformance");
    let mut command = tokio::process::Command::from(corral());
    command.args(["serve", plugin.to_str().unwrap()]);
    let recorder = Arc::new(Recorder::default());
    let client = Client::connect(
        Target::Command(command),
        recorder.clone(),
        ClientOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(
        client.server_info().unwrap()["serverInfo"]["name"],
        "corral"
    );
    let listing = client.listing().await.unwrap();
    assert!(listing.tools.iter().any(|t| t.name == "test_elicitation"));
    assert!(!listing.prompts.is_empty());

    // Input rounds are answered through the handler.
    let none = CallContext::default();
    let elicited = client
        .call_tool(
            "test_elicitation",
            &arguments(json!({"message": "Who are you?"})),
            &none,
        )
        .await
        .unwrap();
    assert_eq!(
        first_text(&elicited.content),
        r#"User response: action=accept, content={"email":"ann@example.com","username":"ann"}"#
    );
    assert_eq!(*recorder.asked.lock().unwrap(), ["Who are you?"]);
    let sampled = client
        .call_tool(
            "test_sampling",
            &arguments(json!({"prompt": "6 x 7?"})),
            &none,
        )
        .await
        .unwrap();
    assert_eq!(first_text(&sampled.content), "LLM response: forty-two");

    // Progress goes to the call's observer, log messages to the handler.
    let progress = Arc::new(Progress::default());
    let observed = CallContext {
        observer: Some(progress.clone()),
        ..CallContext::default()
    };
    client
        .call_tool("test_tool_with_progress", &arguments(json!({})), &observed)
        .await
        .unwrap();
    let seen = progress.0.lock().unwrap().clone();
    assert!(seen.len() >= 2 && seen[0] == 0.0, "{seen:?}");
    client
        .call_tool("test_tool_with_logging", &arguments(json!({})), &none)
        .await
        .unwrap();
    eventually("the tool's log messages", || {
        let logs = recorder.logs.lock().unwrap();
        logs.iter()
            .any(|l| l.contains("Tool execution completed"))
            .then_some(())
    });

    // Failures are named: the server's own error, a cancelled call, and a
    // closed session.
    let unknown = client
        .call_tool("no_such_tool", &arguments(json!({})), &none)
        .await
        .unwrap_err();
    assert!(
        matches!(&unknown, ClientError::Server { message, .. } if message.contains("no_such_tool")),
        "{unknown:?}"
    );
    let cancel = CancellationToken::new();
    cancel.cancel();
    let cancelled = CallContext {
        cancel,
        ..CallContext::default()
    };
    let gave_up = client
        .call_tool("test_reconnection", &arguments(json!({})), &cancelled)
        .await
        .unwrap_err();
    assert_eq!(gave_up, ClientError::Cancelled);
    client.close();
    client.closed().await;
    let after = client.listing().await.unwrap_err();
    assert!(matches!(after, ClientError::Closed(_)), "{after:?}");
}
