//! `corral call`, `corral list`, `corral read` and `corral prompt`: a small
//! MCP client over [`corral::client`].
//!
//! The target is a plugin directory or `.wasm` file (served in-process over
//! an in-memory pipe), an `http(s)://` URL (Streamable HTTP, or legacy
//! HTTP+SSE), or, after `--`, a command to spawn as a stdio server. Every
//! target is spoken to through the same MCP client, so what works here
//! works with any server.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Args;
use corral::client::{Client, ClientOptions, Handler, Target, wire};
use corral::{CallContext, CorralServer, LogLevel, Runtime, RuntimeOptions, printable};
use rmcp::ServiceExt;
use serde_json::{Map, Value};

/// The longest connecting or one request may take on the command line.
const CLI_TIMEOUT: Duration = Duration::from_secs(600);
/// The largest answer the command line accepts, in bytes of JSON.
const CLI_MAX_ANSWER: u64 = 256 * 1024 * 1024;

/// Where the server is: positionals first, then an optional `-- COMMAND`.
#[derive(Args)]
pub struct TargetArgs {
    /// The config for an in-process target (its limits, grants and mounts
    /// apply); with no TARGET, everything it names (plugins, plugin
    /// directories, upstreams, OpenAPI specs) is served in this process.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Print the server's answer as JSON instead of text.
    #[arg(long)]
    raw: bool,
    /// A stdio server to spawn: `-- COMMAND ARGS...` (replaces TARGET).
    #[arg(last = true)]
    command: Vec<String>,
}

/// `corral call`.
#[derive(Args)]
pub struct CallArgs {
    /// TARGET TOOL [key=value...], or TOOL [key=value...] with `-- COMMAND` or
    /// `--config` (which then serves everything the config names).
    /// Values are JSON when they parse as such (unless the tool's schema
    /// says the argument is a string), else strings.
    #[arg(required = true, num_args = 1..)]
    words: Vec<String>,
    /// All arguments as one JSON object; key=value pairs override it.
    #[arg(long, value_name = "ARGS")]
    json: Option<String>,
    #[command(flatten)]
    target: TargetArgs,
}

/// `corral list`.
#[derive(Args)]
pub struct ListArgs {
    /// TARGET (none with `-- COMMAND` or `--config`).
    words: Vec<String>,
    #[command(flatten)]
    target: TargetArgs,
}

/// `corral read`.
#[derive(Args)]
pub struct ReadArgs {
    /// TARGET URI, or URI with `-- COMMAND` or `--config`.
    #[arg(required = true, num_args = 1..)]
    words: Vec<String>,
    #[command(flatten)]
    target: TargetArgs,
}

/// `corral prompt`.
#[derive(Args)]
pub struct PromptArgs {
    /// TARGET PROMPT [key=value...], or PROMPT [key=value...] with `-- COMMAND`
    /// or `--config`.
    #[arg(required = true, num_args = 1..)]
    words: Vec<String>,
    #[command(flatten)]
    target: TargetArgs,
}

/// The client side: prints the server's log messages to stderr.
struct Cli;

impl Handler for Cli {
    fn log_level(&self) -> Option<LogLevel> {
        Some(LogLevel::Debug)
    }

    fn log(&self, level: LogLevel, logger: Option<&str>, data: &Value) {
        let data = match data {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let logger = logger.unwrap_or("server");
        eprintln!("[{}] {level:?}: {}", printable(logger), printable(&data));
    }
}

fn options() -> ClientOptions {
    let mut options = ClientOptions::new(CLI_TIMEOUT, CLI_MAX_ANSWER);
    // A task the server makes of a call is followed as long as a task may
    // run here.
    options.task_timeout = corral::DEFAULT_TASK_TIMEOUT;
    options
}

/// Connect to the target; returns the client and the remaining words.
async fn connect(words: &[String], target: &TargetArgs) -> anyhow::Result<(Client, Vec<String>)> {
    if let Some((program, args)) = target.command.split_first() {
        let mut command = tokio::process::Command::new(program);
        command.args(args);
        let client = Client::connect(Target::Command(command), Arc::new(Cli), options()).await?;
        return Ok((client, words.to_vec()));
    }
    // With --config and no TARGET, everything the config names (plugins,
    // plugin directories, upstreams, OpenAPI specs) is served in this process.
    let is_target = |word: &String| {
        word.starts_with("http://") || word.starts_with("https://") || Path::new(word).exists()
    };
    if target.config.is_some() && !words.first().is_some_and(is_target) {
        return Ok((
            in_process(None, target.config.as_ref()).await?,
            words.to_vec(),
        ));
    }
    let Some((place, rest)) = words.split_first() else {
        bail!(
            "give a TARGET (a plugin directory or file, or a URL), `--config corral.toml`, or `-- COMMAND ARGS`"
        );
    };
    let client = if place.starts_with("http://") || place.starts_with("https://") {
        let target = Target::Url {
            url: place.clone(),
            headers: Vec::new(),
        };
        Client::connect(target, Arc::new(Cli), options()).await?
    } else {
        in_process(Some(PathBuf::from(place)), target.config.as_ref()).await?
    };
    Ok((client, rest.to_vec()))
}

/// Serve the plugins at `path` (if given) and what `config` names in this
/// process, and connect to them through an in-memory pipe.
async fn in_process(path: Option<PathBuf>, config: Option<&PathBuf>) -> anyhow::Result<Client> {
    if let Some(path) = &path
        && !path.exists()
    {
        bail!(
            "{} does not exist (a TARGET is a plugin directory or .wasm file, an http(s):// URL, or `-- COMMAND`)",
            path.display()
        );
    }
    let (config, _) = match config {
        Some(_) => super::serve::load_config(config)?,
        None => (super::serve::lock_only()?, None),
    };
    let runtime = Runtime::with_options(RuntimeOptions::of(&config))?;
    let paths: Vec<PathBuf> = path.iter().cloned().collect();
    let (catalog, errors) = corral::load(&runtime, &paths, &config).await;
    for error in &errors {
        eprintln!("not loaded: {}", printable(&error.to_string()));
    }
    if catalog.providers().is_empty() {
        match &path {
            Some(path) => bail!("no plugin in {} loaded", path.display()),
            None => bail!("the config names no plugin, upstream or OpenAPI spec that loaded"),
        }
    }
    let server = CorralServer::new(catalog, config.server);
    let (server_end, client_end) = tokio::io::duplex(64 * 1024);
    tokio::spawn(async move {
        if let Ok(running) = server.serve(server_end).await {
            let _ = running.waiting().await;
        }
    });
    Ok(Client::connect_stream(client_end, Arc::new(Cli), options()).await?)
}

/// `key=value` words as JSON arguments, typed by the schema's properties.
fn arguments(
    words: &[String],
    json: Option<&str>,
    schema: Option<&Map<String, Value>>,
) -> anyhow::Result<Map<String, Value>> {
    let mut out = match json {
        Some(text) => match serde_json::from_str(text).context("--json is not valid JSON")? {
            Value::Object(map) => map,
            _ => bail!("--json must be a JSON object"),
        },
        None => Map::new(),
    };
    let properties = schema.and_then(|s| s.get("properties"));
    for (key, value) in pairs(words)? {
        let is_string = properties
            .and_then(|p| p.get(key))
            .and_then(|p| p.get("type"))
            .is_some_and(|t| t == "string");
        let value = if is_string {
            Value::String(value.to_owned())
        } else {
            serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_owned()))
        };
        out.insert(key.to_owned(), value);
    }
    Ok(out)
}

/// `key=value` words, split at the first `=`.
fn pairs(words: &[String]) -> anyhow::Result<Vec<(&str, &str)>> {
    words
        .iter()
        .map(|word| match word.split_once('=') {
            Some(pair) => Ok(pair),
            None => bail!("`{word}` is not key=value"),
        })
        .collect()
}

pub async fn call(args: CallArgs) -> anyhow::Result<()> {
    let (client, words) = connect(&args.words, &args.target).await?;
    let Some((tool, words)) = words.split_first() else {
        bail!("give the TOOL to call");
    };
    let tools = client.listing().await.context("listing tools")?.tools;
    let Some(def) = tools.iter().find(|t| t.name == tool.as_str()) else {
        let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
        bail!("no tool `{tool}`; the server has: {}", names.join(", "));
    };
    let arguments = arguments(words, args.json.as_deref(), Some(def.input_schema.as_ref()))?;
    let result = client
        .call_tool(tool, &arguments, &CallContext::default())
        .await
        .with_context(|| format!("calling `{tool}`"))?;
    client.close();
    let result = wire::tool_result(&result);
    let failed = result["isError"] == true;
    if args.target.raw {
        println!("{result:#}");
    } else {
        print_content(&result["content"], failed);
        if !failed
            && result["content"].as_array().is_none_or(|c| c.is_empty())
            && let Some(structured) = result.get("structuredContent")
        {
            println!("{structured:#}");
        }
    }
    if failed {
        bail!("the tool `{tool}` reported an error");
    }
    Ok(())
}

pub async fn list(args: ListArgs) -> anyhow::Result<()> {
    let (client, rest) = connect(&args.words, &args.target).await?;
    if !rest.is_empty() {
        bail!("unexpected arguments: {}", rest.join(" "));
    }
    let listing = client.listing().await.context("listing")?;
    client.close();
    if args.target.raw {
        println!("{:#}", wire::listing(&listing));
        return Ok(());
    }
    let line = |name: &str, about: Option<&str>| match about {
        Some(about) => println!("  {}  {}", printable(name), printable(first_line(about))),
        None => println!("  {}", printable(name)),
    };
    println!("tools ({}):", listing.tools.len());
    for t in &listing.tools {
        line(&t.name, t.description.as_deref());
    }
    println!("resources ({}):", listing.resources.len());
    for r in &listing.resources {
        line(&r.uri, r.description.as_deref().or(Some(&r.name)));
    }
    println!("resource templates ({}):", listing.templates.len());
    for t in &listing.templates {
        line(&t.uri_template, t.description.as_deref().or(Some(&t.name)));
    }
    println!("prompts ({}):", listing.prompts.len());
    for p in &listing.prompts {
        let arguments: Vec<String> = p
            .arguments
            .iter()
            .map(|a| match a.required {
                true => a.name.clone(),
                false => format!("[{}]", a.name),
            })
            .collect();
        let name = format!("{}({})", p.name, arguments.join(", "));
        line(&name, p.description.as_deref());
    }
    Ok(())
}

pub async fn read(args: ReadArgs) -> anyhow::Result<()> {
    let (client, words) = connect(&args.words, &args.target).await?;
    let [uri] = words.as_slice() else {
        bail!("give exactly one URI to read");
    };
    let contents = client
        .read_resource(uri, &CallContext::default())
        .await
        .with_context(|| format!("reading {uri}"))?;
    client.close();
    let result = wire::read_result(&contents);
    if args.target.raw {
        println!("{result:#}");
        return Ok(());
    }
    for contents in result["contents"].as_array().into_iter().flatten() {
        match (contents.get("text"), contents.get("blob")) {
            (Some(Value::String(text)), _) => println!("{}", printable(text)),
            (_, Some(Value::String(blob))) => eprintln!(
                "[{} blob, {} base64 characters; use --raw to see it]",
                contents["mimeType"].as_str().unwrap_or("binary"),
                blob.len()
            ),
            _ => println!("{contents}"),
        }
    }
    Ok(())
}

pub async fn prompt(args: PromptArgs) -> anyhow::Result<()> {
    let (client, words) = connect(&args.words, &args.target).await?;
    let Some((name, words)) = words.split_first() else {
        bail!("give the PROMPT to get");
    };
    // Prompt arguments are strings by definition.
    let arguments: Vec<(String, String)> = pairs(words)?
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let result = client
        .get_prompt(name, &arguments, &CallContext::default())
        .await
        .with_context(|| format!("getting prompt `{name}`"))?;
    client.close();
    let result = wire::prompt_result(&result);
    if args.target.raw {
        println!("{result:#}");
        return Ok(());
    }
    for message in result["messages"].as_array().into_iter().flatten() {
        println!("[{}]", message["role"].as_str().unwrap_or("?"));
        print_content(&Value::Array(vec![message["content"].clone()]), false);
    }
    Ok(())
}

/// Content blocks as text: text as it is, other blocks summarized.
fn print_content(content: &Value, to_stderr: bool) {
    for block in content.as_array().into_iter().flatten() {
        let text = match block["type"].as_str() {
            Some("text") => block["text"].as_str().unwrap_or_default().to_owned(),
            Some(kind @ ("image" | "audio")) => format!(
                "[{kind} {}, {} base64 characters]",
                block["mimeType"].as_str().unwrap_or("?"),
                block["data"].as_str().map_or(0, str::len)
            ),
            Some("resource_link") => format!("[link] {}", block["uri"].as_str().unwrap_or("?")),
            Some("resource") => match block["resource"].get("text") {
                Some(Value::String(text)) => text.clone(),
                _ => format!(
                    "[resource {}]",
                    block["resource"]["uri"].as_str().unwrap_or("?")
                ),
            },
            _ => block.to_string(),
        };
        let text = printable(&text);
        if to_stderr {
            eprintln!("{text}");
        } else {
            println!("{text}");
        }
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}
