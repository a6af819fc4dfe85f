//! Property tests standing in for fuzzing (cargo fuzz needs a nightly
//! toolchain, which CI does not have): random and mutated input at the
//! host's entry points never panics, and the server keeps answering.
//!
//! - config parsing: `Config::parse` on TOML built from the real keys with
//!   random values, and on arbitrary text;
//! - guest answers: random WIT outcomes through the size check and the
//!   conversion to the model and to MCP;
//! - JSON-RPC: random and mutated messages into a `CorralServer` over an
//!   in-memory pipe, each followed by a `ping` that must be answered.
//!
//! `PROPTEST_CASES` sets how many cases each runs (CI: the default below);
//! docs/SECURITY.md records the longest clean runs.

use std::path::Path;

use proptest::prelude::*;

use crate::bindings::corral::mcp::types as wit;
use crate::bindings::exports::corral::mcp::tools;
use crate::config::Config;
use crate::plugin::fuzzing::{convert_tool_outcome, wire_size};

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(256),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// A TOML value of any type, sometimes a plausible one.
fn toml_value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        "\"[0-9]{1,6}(MiB|KiB|GiB|ms|s|m|h|B|)\"",
        "\"[ -~]{0,12}\"",
        Just("true".to_owned()),
        Just("[]".to_owned()),
        Just("[\"a\", \"*.b\", \"127.0.0.1:8080\"]".to_owned()),
        Just("{ host = \"data\", mode = \"rw\" }".to_owned()),
        Just("1.5".to_owned()),
    ]
}

/// A line of config built from real keys (and a few wrong ones).
fn config_line() -> impl Strategy<Value = String> {
    let keys = prop::sample::select(vec![
        "[server]",
        "[server.http]",
        "[limits]",
        "[plugins.p]",
        "[plugins.p.limits]",
        "[plugins.p.dirs]",
        "[server.auth]",
        "[[server.auth.tokens]]",
        "issuer",
        "audience",
        "jwks",
        "hs256_secret_env",
        "required_scopes",
        "leeway",
        "scopes",
        "subject",
        "name",
        "path",
        "prefix",
        "fuel",
        "memory",
        "total_memory",
        "timeout",
        "max_output",
        "concurrency",
        "queue",
        "port",
        "host",
        "max_body",
        "max_sessions",
        "max_connections",
        "header_timeout",
        "allowed_hosts",
        "allowed_origins",
        "allow_hosts",
        "env",
        "sha256",
        "tags",
        "enabled",
        "instance_reuse",
        "plugin_dirs",
        "page_size",
        "\"/data\"",
        "colour",
    ]);
    (keys, toml_value()).prop_map(|(key, value)| {
        if key.starts_with('[') {
            key.to_owned()
        } else {
            format!("{key} = {value}")
        }
    })
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ -~\n\t\u{1b}é]{0,40}",
        Just(String::new()),
        Just("\"".repeat(3)),
    ]
}

fn content() -> impl Strategy<Value = wit::Content> {
    prop_oneof![
        text().prop_map(wit::Content::Text),
        (prop::collection::vec(any::<u8>(), 0..64), text())
            .prop_map(|(data, mime_type)| { wit::Content::Image(wit::Blob { data, mime_type }) }),
        (
            text(),
            text(),
            prop::option::of(text()),
            prop::option::of(text())
        )
            .prop_map(|(uri, name, description, mime_type)| {
                wit::Content::Link(wit::ResourceLink {
                    uri,
                    name,
                    description,
                    mime_type,
                })
            }),
        (text(), prop::option::of(text()), text()).prop_map(|(uri, mime_type, body)| {
            wit::Content::Embedded(wit::ResourceContents {
                uri,
                mime_type,
                body: wit::ResourceBody::Text(body),
            })
        }),
    ]
}

/// JSON-ish text: valid JSON sometimes, garbage otherwise.
fn json_text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("{}".to_owned()),
        Just("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\"}}}".to_owned()),
        Just("[1,2,3]".to_owned()),
        Just("{\"result\": 1e999}".to_owned()),
        text(),
    ]
}

fn tool_outcome() -> impl Strategy<Value = tools::Outcome> {
    prop_oneof![
        (
            prop::collection::vec(content(), 0..6),
            prop::option::of(json_text()),
            any::<bool>()
        )
            .prop_map(|(content, structured, is_error)| {
                tools::Outcome::Complete(tools::ToolResult {
                    content,
                    structured,
                    is_error,
                })
            }),
        (
            prop::collection::vec((text(), text(), json_text()), 0..4),
            prop::option::of(text())
        )
            .prop_map(|(requests, state)| {
                tools::Outcome::NeedsInput(wit::InputRequired {
                    requests: requests
                        .into_iter()
                        .map(|(key, message, schema)| {
                            (
                                key,
                                wit::InputRequest::Elicit(wit::ElicitRequest {
                                    message,
                                    requested_schema: schema,
                                }),
                            )
                        })
                        .collect(),
                    state,
                })
            }),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn config_parsing_never_panics(lines in prop::collection::vec(config_line(), 0..12)) {
        let _ = Config::parse(&lines.join("\n"), Path::new("/nonexistent/corral.toml"));
    }

    #[test]
    fn config_parsing_of_any_text_never_panics(text in "\\PC{0,200}") {
        let _ = Config::parse(&text, Path::new("/nonexistent/corral.toml"));
    }

    #[test]
    fn guest_answers_convert_or_fail_cleanly(outcome in tool_outcome()) {
        let _ = wire_size(&outcome);
        if let Ok(crate::model::Outcome::Complete(result)) = convert_tool_outcome(outcome) {
            let _ = crate::protocol::tool_result(&result);
        }
    }
}

/// One server for every JSON-RPC case: random messages, each followed by a
/// ping that must be answered.
mod json_rpc {
    use super::*;
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

    fn message() -> impl Strategy<Value = String> {
        let method = prop::sample::select(vec![
            "initialize",
            "tools/list",
            "tools/call",
            "resources/list",
            "resources/read",
            "resources/templates/list",
            "prompts/list",
            "prompts/get",
            "completion/complete",
            "logging/setLevel",
            "resources/subscribe",
            "notifications/cancelled",
            "server/discover",
            "nonsense/method",
        ]);
        let params = prop_oneof![
            Just("{}".to_owned()),
            Just("null".to_owned()),
            Just("[]".to_owned()),
            Just("{\"name\": \"x\", \"arguments\": {\"a\": [1, {}]}}".to_owned()),
            Just(format!("{{\"uri\": \"{}\"}}", "u".repeat(10_000))),
            Just("{\"level\": \"bogus\"}".to_owned()),
            Just("{\"cursor\": \"!!\"}".to_owned()),
            Just("{\"ref\": {\"type\": \"ref/prompt\", \"name\": 1}}".to_owned()),
            "\\PC{0,40}",
        ];
        let id = prop_oneof![
            Just("1".to_owned()),
            Just("\"s\"".to_owned()),
            Just("null".to_owned()),
            Just("1.5".to_owned()),
            Just("{}".to_owned()),
        ];
        prop_oneof![
            (method, params, id).prop_map(|(m, p, id)| {
                format!("{{\"jsonrpc\":\"2.0\",\"id\":{id},\"method\":\"{m}\",\"params\":{p}}}")
            }),
            "\\PC{0,80}".prop_map(|s| s.replace('\n', " ")),
            Just("{\"jsonrpc\":\"2.0\"}".to_owned()),
            Just("[]".to_owned()),
        ]
    }

    #[test]
    fn random_messages_never_stop_the_server() {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            let (client, server_end) = tokio::io::duplex(1 << 20);
            let (read, write) = tokio::io::split(server_end);
            let server = crate::transport::CorralServer::new(
                crate::catalog::Catalog::default(),
                crate::config::ServerSettings::default(),
            );
            let serving = tokio::spawn(async move {
                use rmcp::ServiceExt;
                if let Ok(running) = server.serve((read, write)).await {
                    let _ = running.waiting().await;
                }
            });
            let (client_read, mut client_write) = tokio::io::split(client);
            let mut lines = BufReader::new(client_read).lines();
            let init = r#"{"jsonrpc":"2.0","id":"init","method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"fuzz","version":"0"}}}"#;
            client_write.write_all(format!("{init}\n{{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}}\n").as_bytes()).await.unwrap();
            let mut runner = proptest::test_runner::TestRunner::new(config());
            let mut next_ping = 0u64;
            let (cases_tx, mut cases_rx) = tokio::sync::mpsc::unbounded_channel();
            // Draw the cases first (the runner is not async).
            runner
                .run(&message(), |m| {
                    cases_tx.send(m).unwrap();
                    Ok(())
                })
                .unwrap();
            drop(cases_tx);
            while let Some(case) = cases_rx.recv().await {
                next_ping += 1;
                let ping = format!("{{\"jsonrpc\":\"2.0\",\"id\":\"ping-{next_ping}\",\"method\":\"ping\"}}");
                client_write
                    .write_all(format!("{case}\n{ping}\n").as_bytes())
                    .await
                    .unwrap();
                let wanted = format!("\"ping-{next_ping}\"");
                let answered = tokio::time::timeout(std::time::Duration::from_secs(30), async {
                    while let Some(line) = lines.next_line().await.unwrap() {
                        if line.contains(&wanted) {
                            return true;
                        }
                    }
                    false
                })
                .await;
                assert_eq!(answered, Ok(true), "no answer to the ping after {case}");
            }
            assert_eq!(next_ping, u64::from(config().cases), "every case was sent");
            drop(client_write);
            serving.abort();
        });
    }
}
