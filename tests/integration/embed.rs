//! The library embedded in an axum app: an app route and a plugin tool
//! answered by one server.

use std::path::PathBuf;

use axum::Router;
use axum::routing::get;
use corral::{CancellationToken, Config, CorralServer, HttpOptions, Runtime, ServerSettings};
use serde_json::json;

use crate::harness::example;
use crate::http::{request, tool_call_2026};

#[tokio::test(flavor = "multi_thread")]
async fn an_app_route_and_a_plugin_tool_on_one_server() {
    let runtime = Runtime::new().unwrap();
    let plugin: PathBuf = example("calculator-rust");
    let (catalog, errors) = corral::load(&runtime, &[plugin], &Config::default()).await;
    assert!(errors.is_empty(), "{errors:?}");
    let server = CorralServer::new(catalog, ServerSettings::default());
    let shutdown = CancellationToken::new();
    let app = Router::new()
        .route("/health", get(|| async { "ok" }))
        .merge(
            server
                .http_router(&HttpOptions::default(), shutdown.clone())
                .unwrap(),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let serving = tokio::spawn(async move { axum::serve(listener, app).await });

    let answers = tokio::task::spawn_blocking(move || {
        let health = request(&addr, "GET", "/health", &[], b"");
        // A stateless 2026-07-28 call: no session, metadata in the request.
        let call = tool_call_2026(&addr, "multiply", json!({"arguments": {"a": 6, "b": 7}}));
        (health, call)
    })
    .await
    .unwrap();
    let (health, call) = answers;
    assert_eq!(health.status, 200);
    assert_eq!(health.body, "ok");
    assert_eq!(
        call["result"]["structuredContent"]["result"], 42.0,
        "{call}"
    );
    shutdown.cancel();
    serving.abort();
}

#[tokio::test(flavor = "multi_thread")]
async fn replacing_the_catalog_announces_list_changed_and_serves_the_new_one() {
    use crate::http::{open_session, session_call, standalone_events};
    let runtime = Runtime::new().unwrap();
    let load = |plugin: PathBuf| {
        let runtime = runtime.clone();
        async move {
            corral::load(&runtime, &[plugin], &Config::default())
                .await
                .0
        }
    };
    let server = CorralServer::new(
        load(example("calculator-rust")).await,
        ServerSettings {
            list_changed: true,
            ..ServerSettings::default()
        },
    );
    let app = server
        .http_router(&HttpOptions::default(), CancellationToken::new())
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let serving = tokio::spawn(async move { axum::serve(listener, app).await });

    let (session, events) = {
        let addr = addr.clone();
        tokio::task::spawn_blocking(move || {
            let session = open_session(&addr);
            let events = standalone_events(&addr, &session, 1, "notifications/tools/list_changed");
            (session, events)
        })
        .await
        .unwrap()
    };
    server
        .replace_catalog(load(example("profile-rust")).await)
        .await;
    let changed = tokio::task::spawn_blocking(move || events.join().unwrap())
        .await
        .unwrap();
    assert_eq!(changed.len(), 1, "{changed:?}");

    let listed = tokio::task::spawn_blocking(move || {
        session_call(
            &addr,
            &session,
            json!({"jsonrpc": "2.0", "id": 4, "method": "resources/list"}),
        )
    })
    .await
    .unwrap();
    assert!(listed.body.contains("data://config"), "{}", listed.body);
    serving.abort();
}
