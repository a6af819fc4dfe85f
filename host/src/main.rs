//! The `corral` command line.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use corral::{CorralServer, HttpOptions, HttpTransport, Limits, Runtime, ServerOptions};
use tracing_subscriber::EnvFilter;

/// Serve sandboxed WebAssembly plugins as MCP tools, resources and prompts.
#[derive(Parser)]
#[command(name = "corral", version, about, args_override_self = true)]
struct Cli {
    /// Log level for stderr (error, warn, info, debug, trace) or a tracing
    /// filter such as `corral=debug`. RUST_LOG wins when set.
    #[arg(long, global = true, default_value = "info")]
    log_level: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once; boxing would only add noise
enum Command {
    /// Serve the plugins in PATHs (directories of .wasm files, or files).
    Serve(ServeArgs),
    /// Show what a plugin exports, imports and serves.
    Inspect {
        /// The plugin (.wasm component).
        plugin: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Print the version.
    Version,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Transport {
    /// MCP over this process's stdin/stdout (for clients that spawn servers).
    Stdio,
    /// Streamable HTTP on one endpoint (both protocol eras).
    Http,
    /// The legacy HTTP+SSE transport (GET /sse, POST /messages), for old clients.
    Sse,
}

#[derive(Args)]
struct ServeArgs {
    /// Plugin directories or .wasm files.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// How clients connect.
    #[arg(long, value_enum, default_value = "stdio")]
    transport: Transport,
    /// Address to listen on (http and sse transports).
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port to listen on; 0 picks a free port (http and sse transports).
    #[arg(long, default_value_t = 8000)]
    port: u16,
    /// Path of the Streamable HTTP endpoint.
    #[arg(long, default_value = "/mcp")]
    path: String,
    /// A Host header value to accept besides the loopback names (repeatable).
    #[arg(long = "allowed-host")]
    allowed_hosts: Vec<String>,
    /// A browser Origin to accept besides loopback ones, e.g.
    /// https://app.example.com:443 or http://localhost:* (repeatable).
    #[arg(long = "allowed-origin")]
    allowed_origins: Vec<String>,
    /// Largest request body, e.g. 4MiB.
    #[arg(long, value_parser = parse_size)]
    max_body: Option<u64>,
    /// Most live HTTP sessions; past it the least recently used is closed.
    #[arg(long)]
    max_sessions: Option<usize>,
    /// Idle time after which an HTTP session is closed, e.g. 5m.
    #[arg(long, value_parser = parse_duration)]
    session_idle_timeout: Option<Duration>,
    /// Server name reported to clients.
    #[arg(long, default_value = "corral")]
    name: String,
    /// Instructions for the client's model.
    #[arg(long)]
    instructions: Option<String>,
    /// Hide internal error details (traps, host failures) from clients.
    #[arg(long)]
    mask_error_details: bool,
    #[command(flatten)]
    limits: LimitArgs,
}

/// Limits for every call (defaults in parentheses).
#[derive(Args)]
struct LimitArgs {
    /// Instructions (fuel) per call (2000000000).
    #[arg(long)]
    fuel: Option<u64>,
    /// Linear memory per call, e.g. 64MiB (64MiB).
    #[arg(long, value_parser = parse_size)]
    memory: Option<u64>,
    /// Wall-clock time per call, e.g. 10s or 500ms (10s).
    #[arg(long, value_parser = parse_duration)]
    timeout: Option<Duration>,
    /// Size of a call's answer, e.g. 1MiB (1MiB).
    #[arg(long, value_parser = parse_size)]
    max_output: Option<u64>,
    /// Calls of one plugin in flight at once (32).
    #[arg(long)]
    concurrency: Option<usize>,
}

fn parse_size(text: &str) -> Result<u64, String> {
    corral::parse_size(text)
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    corral::parse_duration(text)
}

impl LimitArgs {
    fn resolve(&self) -> anyhow::Result<Limits> {
        let mut limits = Limits::default();
        if let Some(fuel) = self.fuel {
            limits.fuel = fuel;
        }
        if let Some(memory) = self.memory {
            if memory > corral::MAX_MEMORY_CEILING {
                bail!(
                    "--memory {} is above the ceiling of {}",
                    corral::human_size(memory),
                    corral::human_size(corral::MAX_MEMORY_CEILING)
                );
            }
            limits.memory = memory;
        }
        if let Some(timeout) = self.timeout {
            limits.timeout = timeout;
        }
        if let Some(max_output) = self.max_output {
            limits.max_output = max_output;
        }
        if let Some(concurrency) = self.concurrency {
            if concurrency == 0 {
                bail!("--concurrency must be at least 1");
            }
            limits.concurrency = concurrency;
        }
        Ok(limits)
    }
}

fn init_logging(level: &str) -> anyhow::Result<()> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(env) if !env.is_empty() => EnvFilter::try_new(env),
        _ => EnvFilter::try_new(level),
    }
    .with_context(|| format!("bad log level `{level}`"))?;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
    Ok(())
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let limits = args.limits.resolve()?;
    let runtime = Runtime::new()?;
    let started = std::time::Instant::now();
    let (catalog, errors) = corral::load(&runtime, &args.paths, &limits).await;
    for error in &errors {
        tracing::error!("plugin not loaded: {error}");
    }
    let plugins = catalog.plugins().len();
    tracing::info!(
        "corral {}: {plugins} plugin(s) loaded in {:.0?}: {} tools, {} resources, {} resource templates, {} prompts; {} failed",
        env!("CARGO_PKG_VERSION"),
        started.elapsed(),
        catalog.tools().count(),
        catalog.resources().count(),
        catalog.templates().count(),
        catalog.prompts().count(),
        errors.len(),
    );
    let options = ServerOptions {
        name: args.name,
        instructions: args.instructions,
        mask_error_details: args.mask_error_details,
        ..ServerOptions::default()
    };
    let server = CorralServer::new(catalog, options);
    let transport = match args.transport {
        Transport::Stdio => {
            tracing::info!("serving over stdio");
            server.serve_stdio().await?;
            return Ok(());
        }
        Transport::Http => HttpTransport::Streamable,
        Transport::Sse => HttpTransport::Sse,
    };
    let mut http = HttpOptions {
        transport,
        host: args.host,
        port: args.port,
        path: args.path,
        ..HttpOptions::default()
    };
    http.allowed_hosts.extend(args.allowed_hosts);
    http.allowed_origins.extend(args.allowed_origins);
    if let Some(max_body) = args.max_body {
        http.max_body = usize::try_from(max_body).context("--max-body is too large")?;
    }
    if let Some(max_sessions) = args.max_sessions {
        http.max_sessions = max_sessions;
    }
    if let Some(idle) = args.session_idle_timeout {
        http.session_idle = idle;
    }
    let shown_path = match transport {
        HttpTransport::Streamable => http.path.clone(),
        HttpTransport::Sse => "/sse".into(),
    };
    server
        .serve_http(http, shutdown_signal(), |address| {
            tracing::info!("listening on http://{address}{shown_path}");
        })
        .await?;
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = interrupt => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(_) => {
                let _ = interrupt.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

async fn inspect(plugin: PathBuf, json: bool) -> anyhow::Result<()> {
    let runtime = Runtime::new()?;
    let inspection = corral::inspect(&runtime, &plugin).await?;
    if json {
        println!("{:#}", inspection.to_json());
    } else {
        print!("{}", inspection.to_text());
    }
    if let Err(e) = &inspection.listing {
        bail!("{e}");
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(e) = init_logging(&cli.log_level) {
        eprintln!("error: {e:#}");
        return ExitCode::from(2);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => serve(args).await,
            Command::Inspect { plugin, json } => inspect(plugin, json).await,
            Command::Version => {
                println!("corral {}", env!("CARGO_PKG_VERSION"));
                Ok(())
            }
        }
    });
    // Do not wait for tokio's blocking stdin reader: it cannot be interrupted.
    runtime.shutdown_background();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
