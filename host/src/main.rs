//! The `corral` command line.

mod cli;

/// Many small, short-lived allocations cross threads on every request;
/// mimalloc handles them with less contention than the system allocator.
/// The counting wrapper charges what a plugin makes the host allocate to
/// that call's `memory` limit.
#[global_allocator]
static ALLOCATOR: corral::CountingAllocator<mimalloc::MiMalloc> =
    corral::CountingAllocator(mimalloc::MiMalloc);

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use cli::serve::{ServeArgs, load_config};
use corral::Runtime;
use tracing_subscriber::EnvFilter;

/// Serve sandboxed WebAssembly plugins as MCP tools, resources and prompts.
#[derive(Parser)]
#[command(name = "corral", version, about, args_override_self = true)]
struct Cli {
    /// Log level for stderr (error, warn, info, debug, trace) or a tracing
    /// filter such as `corral=debug`. RUST_LOG wins when set. [default:
    /// info; warn for the client commands]
    #[arg(long, global = true)]
    log_level: Option<String>,
    /// How log lines on stderr look: `text`, or `json` (one object a line,
    /// with the fields of the spans it is in, e.g. a call's).
    #[arg(long, global = true, value_enum, default_value = "text")]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once; boxing would only add noise
enum Command {
    /// Serve the plugins in PATHs (directories of .wasm files, or files).
    Serve(ServeArgs),
    /// Serve like `serve`, and reload plugins whose files are added, changed
    /// or removed (default PATH: the current directory).
    Dev(ServeArgs),
    /// Show what a plugin exports, imports and serves, and its grants.
    Inspect {
        /// The plugin: a .wasm component, or a registry reference
        /// (oci://HOST/REPO:TAG), inspected without adding it.
        plugin: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        /// The config file; default: ./corral.toml if it exists.
        #[arg(long)]
        config: Option<PathBuf>,
        /// For a reference: the public key to verify its signature with.
        #[arg(long)]
        key: Option<PathBuf>,
        /// For a reference: plain HTTP to a registry not on this machine.
        #[arg(long)]
        insecure: bool,
    },
    /// Key pairs for signing plugins (cosign's formats).
    #[command(subcommand)]
    Keys(cli::keys::KeysCommand),
    /// Push a component to an OCI registry and sign it:
    /// `corral publish app.wasm oci://HOST/REPO:TAG --key corral.key`.
    Publish(cli::publish::PublishArgs),
    /// Add a plugin from an OCI registry, verified by its signature and
    /// locked by digest in corral.lock: `corral add oci://HOST/REPO:TAG --key corral.pub`.
    Add(cli::add::AddArgs),
    /// Resolve the tags of locked plugins again and show what changed
    /// (digest, signer, grant request) before taking it.
    Update(cli::add::UpdateArgs),
    /// Create a plugin project: one tool, one resource, one prompt.
    New(cli::new::NewArgs),
    /// Build a Python plugin written with the SDK (`from corral import
    /// FastMCP`) into a component: `corral build app.py -o app.wasm`.
    Build(cli::build::BuildArgs),
    /// Call a tool: `corral call TARGET TOOL [key=value...]`, where TARGET is
    /// a plugin directory or file, an http(s):// URL, or `-- COMMAND ARGS`.
    Call(cli::client::CallArgs),
    /// List a server's tools, resources, templates and prompts.
    List(cli::client::ListArgs),
    /// Read a resource: `corral read TARGET URI`.
    Read(cli::client::ReadArgs),
    /// Get a prompt: `corral prompt TARGET PROMPT [key=value...]`.
    Prompt(cli::client::PromptArgs),
    /// Print the version.
    Version,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

/// Logs on stderr at `level` in `format`, and the OTLP exporter if the
/// `OTEL_*` variables ask for one (its spans are filtered apart: a call's
/// span is exported whatever the log level).
fn init_logging(level: &str, format: LogFormat) -> anyhow::Result<Option<corral::OtlpExporter>> {
    use tracing_subscriber::Layer;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let filter = match std::env::var("RUST_LOG") {
        Ok(env) if !env.is_empty() => EnvFilter::try_new(env),
        // A bare level keeps rmcp's per-message chatter out of the way.
        _ if !level.contains('=') => EnvFilter::try_new(format!("{level},rmcp=warn")),
        _ => EnvFilter::try_new(level),
    }
    .with_context(|| format!("bad log level `{level}`"))?;
    let settings = corral::OtlpSettings::from_env()?;
    let (spans, exporter) = settings.map(corral::otlp).unzip();
    let logs = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(false);
    let logs = match format {
        LogFormat::Text => logs.boxed(),
        LogFormat::Json => logs.json().with_current_span(false).boxed(),
    };
    let calls = tracing_subscriber::filter::filter_fn(|m| {
        m.is_span() && m.name() == "call" && m.target() == corral::CALL_SPAN_TARGET
    });
    tracing_subscriber::registry()
        .with(logs.with_filter(filter))
        .with(spans.map(|layer| layer.with_filter(calls)))
        .init();
    Ok(exporter)
}

async fn inspect(plugin: PathBuf, json: bool, config: Option<PathBuf>) -> anyhow::Result<()> {
    let (config, _) = load_config(config.as_ref())?;
    let runtime = Runtime::with_options(corral::RuntimeOptions::of(&config))?;
    let canonical = plugin.canonicalize().unwrap_or_else(|_| plugin.clone());
    let entry = config.plugins.iter().find(|p| p.path == canonical);
    // Checked as a load checks it (the pin, corral.lock, require_signatures).
    let spec = corral::plugin_spec(&plugin, &config);
    let mut inspection = corral::inspect(&runtime, &plugin, Some(&spec)).await?;
    inspection.config = entry.cloned();
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
    let quiet = matches!(
        cli.command,
        Command::Call(_)
            | Command::List(_)
            | Command::Read(_)
            | Command::Prompt(_)
            | Command::Keys(_)
            | Command::Publish(_)
            | Command::Add(_)
            | Command::Update(_)
    );
    let level = cli
        .log_level
        .clone()
        .unwrap_or_else(|| if quiet { "warn" } else { "info" }.to_owned());
    let exporter = match init_logging(&level, cli.log_format) {
        Ok(exporter) => exporter,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(2);
        }
    };
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
            Command::Serve(args) => cli::serve::serve(args, false).await,
            Command::Dev(args) => cli::serve::serve(args, true).await,
            Command::Inspect {
                plugin,
                json,
                config,
                key,
                insecure,
            } => {
                if plugin.starts_with("oci://") {
                    cli::add::inspect_reference(&plugin, json, key, insecure).await
                } else {
                    inspect(PathBuf::from(plugin), json, config).await
                }
            }
            Command::Keys(command) => cli::keys::keys(command),
            Command::Publish(args) => cli::publish::publish(args).await,
            Command::Add(args) => cli::add::add(args).await,
            Command::Update(args) => cli::add::update(args).await,
            Command::New(args) => cli::new::new(args),
            Command::Build(args) => cli::build::build(args),
            Command::Call(args) => cli::client::call(args).await,
            Command::List(args) => cli::client::list(args).await,
            Command::Read(args) => cli::client::read(args).await,
            Command::Prompt(args) => cli::client::prompt(args).await,
            Command::Version => {
                println!("corral {}", env!("CARGO_PKG_VERSION"));
                Ok(())
            }
        }
    });
    // Do not wait for tokio's blocking stdin reader: it cannot be interrupted.
    runtime.shutdown_background();
    if let Some(exporter) = exporter {
        exporter.shutdown();
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
