//! Embedding Corral in an existing axum app: the MCP endpoint is mounted at
//! `/mcp` next to the app's own routes, on one server.
//!
//! ```sh
//! cargo xtask plugins
//! cargo run --release -p corral --example embed_axum -- plugins/dist
//! curl http://127.0.0.1:8000/health
//! ```

use std::path::PathBuf;

use axum::Router;
use axum::routing::get;
use corral::{CancellationToken, Config, CorralServer, HttpOptions, Runtime};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let plugins = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "plugins/dist".into());

    // Load the plugins and make the MCP server.
    let runtime = Runtime::new()?;
    let config = Config::default();
    let (catalog, errors) = corral::load(&runtime, &[PathBuf::from(plugins)], &config).await;
    for error in &errors {
        eprintln!("skipped: {error}");
    }
    let server = CorralServer::new(catalog, config.server);

    // The app: its own routes, plus MCP (with Corral's Host/Origin guard and
    // body limit applying to the MCP routes only).
    let shutdown = CancellationToken::new();
    let app = Router::new()
        .route("/health", get(|| async { "ok" }))
        .merge(server.http_router(&HttpOptions::default(), shutdown.clone())?);

    let listener = tokio::net::TcpListener::bind("127.0.0.1:8000").await?;
    eprintln!("app and MCP on http://{}", listener.local_addr()?);
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            let _ = tokio::signal::ctrl_c().await;
            shutdown.cancel();
        })
        .await?;
    Ok(())
}
