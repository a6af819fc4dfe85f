//! Corral in front of other servers, over stdio: `multiply` through an
//! upstream (a Corral serving the calculator, started as a command
//! upstream) and through an OpenAPI spec (a local HTTP server that
//! multiplies), beside the floor of one direct HTTP request to that server.

use std::path::Path;
use std::time::Instant;

use crate::stdio::measure;
use crate::{Report, Scale, Servers, Stats, root, target_dir};

const SECTION: &str = "proxied (stdio, `multiply` through a provider)";

/// The spec of the local multiplying server.
const SPEC: &str = r#"{
  "openapi": "3.0.3",
  "info": {"title": "calc", "version": "1"},
  "paths": {"/multiply": {"post": {
    "operationId": "multiply",
    "requestBody": {"required": true, "content": {"application/json": {"schema": {
      "type": "object", "required": ["a", "b"],
      "properties": {"a": {"type": "number"}, "b": {"type": "number"}}}}}},
    "responses": {"200": {"description": "the product",
      "content": {"application/json": {"schema": {"type": "object"}}}}}}}}
}"#;

/// Start the multiplying server on 127.0.0.1; returns its address.
async fn multiplier() -> std::net::SocketAddr {
    async fn multiply(
        body: axum::body::Bytes,
    ) -> ([(axum::http::header::HeaderName, &'static str); 1], String) {
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        let a = body["a"].as_f64().unwrap_or(0.0);
        let b = body["b"].as_f64().unwrap_or(0.0);
        let answer = serde_json::json!({ "result": a * b }).to_string();
        (
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            answer,
        )
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().route("/multiply", axum::routing::post(multiply));
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

pub fn run(
    scale: &Scale,
    servers: &Servers,
    cache: &Path,
    report: &mut Report,
    rt: &tokio::runtime::Runtime,
) {
    let dir = target_dir().join("bench/proxy");
    std::fs::create_dir_all(&dir).unwrap();
    let calculator = root().join("plugins/dist/calculator-rust.wasm");
    let words = [
        servers.corral.to_str().unwrap(),
        "serve",
        calculator.to_str().unwrap(),
        "--log-level",
        "error",
    ];
    let quoted: Vec<String> = words.iter().map(|w| format!("{w:?}")).collect();
    let upstream = dir.join("upstream.toml");
    std::fs::write(
        &upstream,
        format!(
            "[upstreams.calc]\ncommand = [{}]\nenv = [\"CORRAL_CACHE_DIR\"]\n",
            quoted.join(", ")
        ),
    )
    .unwrap();
    let fewer = Scale {
        round_trips: (scale.round_trips / 2).max(50),
        pipelined: (scale.pipelined / 2).max(100),
        ..*scale
    };
    measure(
        report,
        SECTION,
        &fewer,
        "Corral → upstream Corral",
        servers.corral(&["--config", upstream.to_str().unwrap()], cache),
    );

    let addr = rt.block_on(multiplier());
    std::fs::write(dir.join("calc.json"), SPEC).unwrap();
    let openapi = dir.join("openapi.toml");
    std::fs::write(
        &openapi,
        format!("[openapi.calc]\nspec = \"calc.json\"\nbase_url = \"http://{addr}\"\n"),
    )
    .unwrap();
    measure(
        report,
        SECTION,
        &fewer,
        "Corral → OpenAPI",
        servers.corral(&["--config", openapi.to_str().unwrap()], cache),
    );

    // The floor: the same request straight to the server, one connection.
    let samples = rt.block_on(async {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::new();
        let url = format!("http://{addr}/multiply");
        let body = r#"{"a":6,"b":7}"#;
        let mut samples = Vec::with_capacity(fewer.round_trips);
        for i in 0..fewer.round_trips + 100 {
            let started = Instant::now();
            let answer = client
                .post(&url)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            assert!(answer.contains("42"), "{answer}");
            if i >= 100 {
                samples.push(started.elapsed());
            }
        }
        samples
    });
    report.latency(
        SECTION,
        "HTTP request straight to the server (floor)",
        fewer.round_trips,
        &Stats::of(samples),
    );
}
