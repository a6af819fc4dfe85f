//! The `corral` command line.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use corral::{
    Config, CorralServer, HttpOptions, HttpTransport, Limits, Runtime, ServerOptions, TagFilter,
};
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
    /// Show what a plugin exports, imports and serves, and its grants.
    Inspect {
        /// The plugin (.wasm component).
        plugin: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        /// The config file; default: ./corral.toml if it exists.
        #[arg(long)]
        config: Option<PathBuf>,
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
    /// Plugin directories or .wasm files (besides those the config lists).
    paths: Vec<PathBuf>,
    /// The config file; default: ./corral.toml if it exists.
    #[arg(long)]
    config: Option<PathBuf>,
    /// How clients connect.
    #[arg(long, value_enum, default_value = "stdio")]
    transport: Transport,
    /// Address to listen on (http and sse transports) [default: 127.0.0.1].
    #[arg(long)]
    host: Option<String>,
    /// Port to listen on; 0 picks a free port [default: 8000].
    #[arg(long)]
    port: Option<u16>,
    /// Path of the Streamable HTTP endpoint [default: /mcp].
    #[arg(long)]
    path: Option<String>,
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
    /// Server name reported to clients [default: corral].
    #[arg(long)]
    name: Option<String>,
    /// Instructions for the client's model.
    #[arg(long)]
    instructions: Option<String>,
    /// Hide internal error details (traps, host failures) from clients.
    #[arg(long)]
    mask_error_details: bool,
    /// List pages of at most N items (default: everything at once).
    #[arg(long)]
    page_size: Option<usize>,
    /// Serve only components with this tag (repeatable; any one suffices).
    #[arg(long = "include-tag")]
    include_tags: Vec<String>,
    /// Never serve components with this tag (repeatable; wins over include).
    #[arg(long = "exclude-tag")]
    exclude_tags: Vec<String>,
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
    /// Calls of one plugin waiting for a slot; more are refused as busy (256).
    #[arg(long)]
    queue: Option<usize>,
}

fn parse_size(text: &str) -> Result<u64, String> {
    corral::parse_size(text)
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    corral::parse_duration(text)
}

impl LimitArgs {
    /// Apply the flags given on the command line over `limits`.
    fn apply(&self, limits: &mut Limits) -> anyhow::Result<()> {
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
        if let Some(queue) = self.queue {
            limits.queue = queue;
        }
        Ok(())
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

/// The config named by `--config`, else ./corral.toml if present, else
/// defaults; with the file it came from.
fn load_config(explicit: Option<&PathBuf>) -> anyhow::Result<(Config, Option<PathBuf>)> {
    if let Some(path) = explicit {
        return Ok((Config::load(path)?, Some(path.clone())));
    }
    let cwd = std::env::current_dir().context("reading the current directory")?;
    match Config::discover(&cwd) {
        Some(path) => {
            tracing::info!("using {}", path.display());
            Ok((Config::load(&path)?, Some(path)))
        }
        None => Ok((Config::default(), None)),
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let (mut config, config_file) = load_config(args.config.as_ref())?;
    args.limits.apply(&mut config.limits)?;
    for plugin in &mut config.plugins {
        args.limits.apply(&mut plugin.limits)?;
    }
    if args.paths.is_empty() && config.plugins.is_empty() && config.plugin_dirs.is_empty() {
        bail!(
            "nothing to serve: give plugin directories or .wasm files, or a corral.toml with [plugins.NAME] tables or server.plugin_dirs"
        );
    }
    let runtime = Runtime::new()?;
    let started = std::time::Instant::now();
    let (specs, mut errors) = corral::plugin_specs(&args.paths, &config);
    let mut filter = TagFilter {
        include: config.server.include_tags.clone(),
        exclude: config.server.exclude_tags.clone(),
    };
    filter.include.extend(args.include_tags.iter().cloned());
    filter.exclude.extend(args.exclude_tags.iter().cloned());
    let (catalog, load_errors) = corral::load(&runtime, &specs, &filter).await;
    errors.extend(load_errors);
    // A plugin the config names explicitly must load: that is an operator's
    // mistake to fix, not a file to skip.
    let configured: Vec<(String, PathBuf)> = config
        .plugins
        .iter()
        .filter(|p| p.enabled)
        .map(|p| (p.name.clone(), p.path.clone()))
        .collect();
    let mut fatal = Vec::new();
    for error in &errors {
        match configured.iter().find(|(_, path)| path == error.path()) {
            Some((name, _)) => fatal.push(format!(
                "plugin `{name}` of {} did not load: {error}",
                config_file
                    .as_deref()
                    .map(|f| f.display().to_string())
                    .unwrap_or_else(|| "the config".into())
            )),
            None => tracing::error!("plugin not loaded: {error}"),
        }
    }
    if !fatal.is_empty() {
        bail!("{}", fatal.join("\n"));
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
    let defaults = ServerOptions::default();
    let options = ServerOptions {
        name: args
            .name
            .or(config.server.name.clone())
            .unwrap_or(defaults.name),
        version: config.server.version.clone().unwrap_or(defaults.version),
        title: config.server.title.clone(),
        website_url: config.server.website_url.clone(),
        icons: config.server.icons.clone(),
        instructions: args.instructions.or(config.server.instructions.clone()),
        mask_error_details: args.mask_error_details || config.server.mask_error_details,
        page_size: args.page_size.or(config.server.page_size),
        // `corral serve` never changes its lists (hot reload will).
        list_changed: false,
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
    let settings = config.http;
    let mut http = HttpOptions {
        transport,
        host: args.host.unwrap_or(settings.host),
        port: args.port.unwrap_or(settings.port),
        path: args.path.unwrap_or(settings.path),
        allowed_hosts: settings.allowed_hosts,
        allowed_origins: settings.allowed_origins,
        max_body: settings.max_body,
        max_sessions: args.max_sessions.unwrap_or(settings.max_sessions),
        session_idle: args
            .session_idle_timeout
            .unwrap_or(settings.session_idle_timeout),
    };
    http.allowed_hosts.extend(args.allowed_hosts);
    http.allowed_origins.extend(args.allowed_origins);
    if let Some(max_body) = args.max_body {
        http.max_body = usize::try_from(max_body).context("--max-body is too large")?;
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

async fn inspect(plugin: PathBuf, json: bool, config: Option<PathBuf>) -> anyhow::Result<()> {
    let (config, _) = load_config(config.as_ref())?;
    let canonical = plugin.canonicalize().unwrap_or_else(|_| plugin.clone());
    let entry = config.plugins.iter().find(|p| p.path == canonical);
    let runtime = Runtime::new()?;
    let inspection = corral::inspect(&runtime, &plugin, entry).await?;
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
            Command::Inspect {
                plugin,
                json,
                config,
            } => inspect(plugin, json, config).await,
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
