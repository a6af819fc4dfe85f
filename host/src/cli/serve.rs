//! `corral serve` and `corral dev`: the flags, loading beside the
//! transport, and the hot-reload loop.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use corral::{
    Config, CorralServer, HostPattern, HttpOptions, HttpTransport, Limits, Loader, Runtime,
    RuntimeOptions,
};

use super::banner;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Transport {
    /// MCP over this process's stdin/stdout (for clients that spawn servers).
    Stdio,
    /// Streamable HTTP on one endpoint (both protocol eras).
    Http,
    /// The legacy HTTP+SSE transport (GET /sse, POST /messages), for old clients.
    Sse,
}

#[derive(Args)]
pub struct ServeArgs {
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
    /// Serve Prometheus metrics at /metrics on the HTTP listener.
    #[arg(long)]
    metrics: bool,
    /// Serve /metrics on a listener of its own, e.g. 127.0.0.1:9464 (with
    /// any transport, stdio included).
    #[arg(long)]
    metrics_addr: Option<std::net::SocketAddr>,
    /// Serve the web console at /ui on the HTTP listener (read-only).
    #[arg(long)]
    ui: bool,
    /// Let the web console call tools (implies --ui).
    #[arg(long)]
    ui_calls: bool,
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
    /// Memory all calls together may reserve, e.g. 8GiB (half the
    /// machine's memory); each call reserves its --memory from it.
    #[arg(long, value_parser = parse_size)]
    total_memory: Option<u64>,
    /// The largest plugin file loaded, e.g. 64MiB (256MiB).
    #[arg(long, value_parser = parse_size)]
    max_plugin_size: Option<u64>,
    /// Instructions (fuel) per call (2000000000).
    #[arg(long)]
    fuel: Option<u64>,
    /// Linear memory per call, e.g. 64MiB (64MiB).
    #[arg(long, value_parser = parse_size)]
    memory: Option<u64>,
    /// Wall-clock time per call, e.g. 10s or 500ms (10s).
    #[arg(long, value_parser = parse_duration)]
    timeout: Option<Duration>,
    /// Wall-clock time per call that runs as an MCP task, e.g. 30m (10m).
    #[arg(long, value_parser = parse_duration)]
    task_timeout: Option<Duration>,
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
        if let Some(task_timeout) = self.task_timeout {
            limits.task_timeout = task_timeout;
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

/// The config named by `--config`, else ./corral.toml if present, else
/// defaults; with the file it came from.
pub fn load_config(explicit: Option<&PathBuf>) -> anyhow::Result<(Config, Option<PathBuf>)> {
    let cwd = std::env::current_dir().context("reading the current directory")?;
    let (mut config, file) = match explicit {
        Some(path) => (Config::load(path)?, Some(path.clone())),
        None => match Config::discover(&cwd) {
            Some(path) => {
                tracing::info!("using {}", path.display());
                (Config::load(&path)?, Some(path))
            }
            None => (Config::default(), None),
        },
    };
    config.attach_lock(file.as_deref(), &cwd)?;
    Ok((config, file))
}

/// The defaults with `./corral.lock` (if any): what a command that reads no
/// config still honours.
pub fn lock_only() -> anyhow::Result<Config> {
    let cwd = std::env::current_dir().context("reading the current directory")?;
    let mut config = Config::default();
    config.attach_lock(None, &cwd)?;
    Ok(config)
}

/// `corral serve` (`dev: false`) and `corral dev` (`dev: true`, which
/// watches the plugin files and reloads what changes). Either way the
/// transport starts at once and plugins load beside it: clients can
/// initialize while large components compile, and their first list or call
/// waits for the catalog.
pub async fn serve(args: ServeArgs, dev: bool) -> anyhow::Result<()> {
    let (mut config, config_file) = load_config(args.config.as_ref())?;
    args.limits.apply(&mut config.limits)?;
    for plugin in &mut config.plugins {
        args.limits.apply(&mut plugin.limits)?;
    }
    let mut paths = args.paths.clone();
    if paths.is_empty()
        && config.plugins.is_empty()
        && config.plugin_dirs.is_empty()
        && config.upstreams.is_empty()
        && config.openapi.is_empty()
    {
        if !dev {
            bail!(
                "nothing to serve: give plugin directories or .wasm files, or a corral.toml with [plugins.NAME], [upstreams.NAME] or [openapi.NAME] tables or server.plugin_dirs"
            );
        }
        paths.push(PathBuf::from("."));
    }
    let mut options = RuntimeOptions::of(&config);
    if let Some(total_memory) = args.limits.total_memory {
        options.total_memory = total_memory;
    }
    if let Some(max_plugin_size) = args.limits.max_plugin_size {
        options.max_plugin_size = max_plugin_size;
    }
    let total_memory = options.total_memory;
    let runtime = Runtime::with_options(options)?;
    banner::line(&format!(
        "host memory budget: {} (total_memory), at most {} for one plugin's calls",
        corral::human_size(total_memory),
        corral::human_size(runtime.plugin_memory_share())
    ));
    settings(&args, &mut config, dev);
    let server = CorralServer::loading(config.server.clone());
    // A plugin or OpenAPI spec the config names explicitly must load: that
    // is an operator's mistake to fix, not a file to skip. In dev mode it is
    // only reported.
    let plugins = config
        .plugins
        .iter()
        .filter(|p| p.enabled)
        .map(|p| (format!("plugin `{}`", p.name), p.path.clone()));
    let specs = config.openapi.iter().filter(|api| api.enabled).map(|api| {
        (
            format!("OpenAPI spec `{}`", api.name),
            PathBuf::from(api.spec.to_string()),
        )
    });
    let configured: Vec<(String, PathBuf)> = plugins.chain(specs).collect();
    let http = http_options(&args, &config)?;
    let mut loader = Loader::new(runtime, paths, config);
    // Watch before the first scan, so that nothing written while plugins
    // load is missed.
    let files = dev
        .then(|| corral::FileWatch::start(&loader.watched_dirs()))
        .transpose()?;
    let installer = server.clone();
    let initial = async move {
        let started = Instant::now();
        let reload = loader.scan().await;
        banner::loaded(&reload, started.elapsed());
        let fatal: Vec<String> = reload
            .errors
            .iter()
            .filter_map(|error| {
                let (what, _) = configured.iter().find(|(_, path)| path == error.path())?;
                Some(format!(
                    "{what} of {} did not load: {error}",
                    config_file
                        .as_deref()
                        .map(|f| f.display().to_string())
                        .unwrap_or_else(|| "the config".into())
                ))
            })
            .collect();
        if !fatal.is_empty() && !dev {
            bail!("{}", fatal.join("\n"));
        }
        installer.replace_catalog(reload.catalog).await;
        Ok(loader)
    };
    let audited = server.clone();
    let serving = async move {
        let served = transport(audited.clone(), args.transport, http).await;
        // Waits (bounded) for the writer thread: off the async workers.
        let _ = tokio::task::spawn_blocking(move || audited.flush_audit()).await;
        served
    };
    tokio::pin!(serving);
    tokio::pin!(initial);
    let loader = tokio::select! {
        served = &mut serving => {
            // The client left (or the server stopped) while plugins were
            // still loading: finish the load anyway, so that a broken
            // configuration is still reported and fails the command.
            if !dev {
                (&mut initial).await?;
            }
            return served;
        }
        loaded = &mut initial => loaded?,
    };
    if files.is_none() && !loader.has_upstreams() {
        return serving.await;
    }
    tokio::select! {
        served = serving => served,
        () = corral::watch(server, loader, files) => Ok(()),
    }
}

/// The server settings: the config's `[server]`, with the command line's
/// flags over them.
fn settings(args: &ServeArgs, config: &mut Config, dev: bool) {
    let upstreams = !config.upstreams.is_empty();
    let server = &mut config.server;
    if let Some(name) = &args.name {
        server.name = name.clone();
    }
    if let Some(instructions) = &args.instructions {
        server.instructions = Some(instructions.clone());
    }
    server.mask_error_details |= args.mask_error_details;
    if let Some(page_size) = args.page_size {
        server.page_size = Some(page_size);
    }
    server
        .tags
        .include
        .extend(args.include_tags.iter().cloned());
    server
        .tags
        .exclude
        .extend(args.exclude_tags.iter().cloned());
    // Only `corral dev` and upstreams change the lists; advertising
    // listChanged without ever sending it would mislead clients.
    server.list_changed = dev || upstreams;
}

/// The HTTP settings: the config's, with the command line's flags over them.
fn http_options(args: &ServeArgs, config: &Config) -> anyhow::Result<HttpOptions> {
    let mut http = config.http.clone();
    http.transport = match args.transport {
        Transport::Sse => HttpTransport::Sse,
        _ => HttpTransport::Streamable,
    };
    if let Some(host) = &args.host {
        http.host = host.clone();
    }
    if let Some(port) = args.port {
        http.port = port;
    }
    if let Some(path) = &args.path {
        http.path = path.clone();
    }
    if let Some(max_sessions) = args.max_sessions {
        http.max_sessions = max_sessions;
    }
    if let Some(idle) = args.session_idle_timeout {
        http.session_idle = idle;
    }
    http.metrics |= args.metrics;
    http.ui |= args.ui || args.ui_calls;
    http.ui_calls |= args.ui_calls;
    if (args.ui || args.ui_calls) && matches!(args.transport, Transport::Stdio) {
        anyhow::bail!(
            "--ui serves the console on the HTTP listener: use it with --transport http or sse"
        );
    }
    if let Some(address) = args.metrics_addr {
        http.metrics_addr = Some(address);
    }
    for host in &args.allowed_hosts {
        let pattern = HostPattern::parse_allowed_host(host)
            .map_err(|e| anyhow::anyhow!("--allowed-host {e}"))?;
        http.allowed_hosts.push(pattern);
    }
    http.allowed_origins
        .extend(args.allowed_origins.iter().cloned());
    if let Some(max_body) = args.max_body {
        http.max_body = usize::try_from(max_body).context("--max-body is too large")?;
    }
    Ok(http)
}

/// Serve `server` over the chosen transport until the client leaves
/// (stdio) or a shutdown signal arrives (HTTP).
async fn transport(
    server: CorralServer,
    transport: Transport,
    http: HttpOptions,
) -> anyhow::Result<()> {
    if let Some(address) = http.metrics_addr {
        let metrics = server.clone();
        let options = http.clone();
        // Bound before MCP is served, so that a scraper never misses the
        // first calls; served until the process exits.
        let (bound, served) = tokio::sync::oneshot::channel();
        let serving = tokio::spawn(async move {
            let serving = metrics.serve_metrics(address, &options, shutdown_signal(), |at| {
                banner::line(&format!("metrics on http://{at}/metrics"));
                let _ = bound.send(());
            });
            serving.await
        });
        if served.await.is_err() {
            serving.await??;
        }
    }
    if transport == Transport::Stdio {
        banner::line("serving MCP over stdio");
        server.serve_stdio().await?;
        return Ok(());
    }
    let shown_path = http.entry_path().to_owned();
    server
        .serve_http(http, shutdown_signal(), |address| {
            banner::line(&format!("listening on http://{address}{shown_path}"));
        })
        .await?;
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
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
