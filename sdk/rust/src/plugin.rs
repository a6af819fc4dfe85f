//! The glue between the attribute macros, `export!` and the WIT exports.
//! Nothing here is meant to be used by hand.

use crate::bindings::exports::corral::mcp::{completions, prompts, resources, tasks, tools};
use crate::output::{IntoMessages, IntoResourceContents, IntoToolResult};
use crate::{
    Annotations, Call, CompletionRef, Error, Input, Outcome, Prompt, PromptArgument, PromptResult,
    ResourceContents, ResourceInfo, ResourceTemplate, TaskSupport, Tool, ToolResult,
};

pub use crate::args::{StrArgs, ToolArgs};
pub use crate::schema::ObjectSchema;

/// A function marked `#[tool]`.
pub trait ToolHandler {
    /// The tool's name.
    const NAME: &'static str;
    /// Whether it may run as an MCP task (`#[tool(task = "...")]`).
    const TASK: TaskSupport = TaskSupport::Forbidden;
    /// The tool's description.
    fn definition() -> Tool;
    /// Runs the tool with its arguments as JSON text, within `call`.
    fn call_with(arguments: &str, call: &Call) -> Result<Outcome<ToolResult>, Error>;
    /// Runs the tool with its arguments as JSON text, without input from the
    /// client (a request for input is an `internal` error).
    fn call(arguments: &str) -> Result<ToolResult, Error> {
        Self::call_with(arguments, &Call::default())?.into_result()
    }
}

/// A function marked `#[resource]`.
pub trait ResourceHandler {
    /// The URI or URI template.
    const URI: &'static str;
    /// The template's variables (empty for a concrete resource).
    const VARIABLES: &'static [&'static str];
    /// The variables every matching URI binds (all but `{?query}` ones).
    const REQUIRED: &'static [&'static str];
    /// The resource's description (`uri` is the URI or the template).
    fn describe() -> ResourceDescriptor;
    /// Reads the resource within `call`; `params` holds the template's
    /// variables.
    fn read_with(
        uri: &str,
        params: StrArgs,
        call: &Call,
    ) -> Result<Outcome<Vec<ResourceContents>>, Error>;
    /// Reads the resource without input from the client.
    fn read(uri: &str, params: StrArgs) -> Result<Vec<ResourceContents>, Error> {
        Self::read_with(uri, params, &Call::default())?.into_result()
    }
}

/// A function marked `#[prompt]`.
pub trait PromptHandler {
    /// The prompt's name.
    const NAME: &'static str;
    /// The prompt's description.
    fn definition() -> Prompt;
    /// Renders the prompt within `call`.
    fn get_with(
        arguments: Vec<(String, String)>,
        call: &Call,
    ) -> Result<Outcome<PromptResult>, Error>;
    /// Renders the prompt without input from the client.
    fn get(arguments: Vec<(String, String)>) -> Result<PromptResult, Error> {
        Self::get_with(arguments, &Call::default())?.into_result()
    }
}

/// What a resource or template says about itself.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceDescriptor {
    pub name: &'static str,
    pub title: Option<&'static str>,
    pub description: Option<&'static str>,
    pub mime_type: Option<&'static str>,
    pub tags: &'static [&'static str],
}

/// Runs a tool: `(arguments, call)`.
pub type CallToolFn = fn(&str, &Call) -> Result<Outcome<ToolResult>, Error>;

/// One `#[tool]` in `export!`.
pub struct ToolEntry {
    pub name: &'static str,
    pub task: TaskSupport,
    pub definition: fn() -> Tool,
    pub call: CallToolFn,
}

impl ToolEntry {
    pub const fn of<T: ToolHandler>() -> Self {
        Self {
            name: T::NAME,
            task: T::TASK,
            definition: T::definition,
            call: T::call_with,
        }
    }
}

/// Reads a resource: `(uri, params, call)`.
pub type ReadResourceFn = fn(&str, StrArgs, &Call) -> Result<Outcome<Vec<ResourceContents>>, Error>;

/// One `#[resource]` in `export!`.
pub struct ResourceEntry {
    pub uri: &'static str,
    pub variables: &'static [&'static str],
    pub required: &'static [&'static str],
    pub describe: fn() -> ResourceDescriptor,
    pub read: ReadResourceFn,
}

impl ResourceEntry {
    pub const fn of<T: ResourceHandler>() -> Self {
        Self {
            uri: T::URI,
            variables: T::VARIABLES,
            required: T::REQUIRED,
            describe: T::describe,
            read: T::read_with,
        }
    }

    fn is_template(&self) -> bool {
        !self.variables.is_empty()
    }
}

/// Renders a prompt from its string arguments, within a call.
pub type GetPromptFn = fn(Vec<(String, String)>, &Call) -> Result<Outcome<PromptResult>, Error>;

/// One `#[prompt]` in `export!`.
pub struct PromptEntry {
    pub name: &'static str,
    pub definition: fn() -> Prompt,
    pub get: GetPromptFn,
}

impl PromptEntry {
    pub const fn of<T: PromptHandler>() -> Self {
        Self {
            name: T::NAME,
            definition: T::definition,
            get: T::get_with,
        }
    }
}

/// A completion function: `(reference, argument, value) -> suggestions`.
pub type CompleteFn = fn(&CompletionRef, &str, &str) -> Vec<String>;

/// What `export!` implements: the plugin's tables.
pub trait Plugin {
    const TOOLS: &'static [ToolEntry];
    const RESOURCES: &'static [ResourceEntry];
    const PROMPTS: &'static [PromptEntry];
    const COMPLETE: Option<CompleteFn> = None;
}

/// The plugin's tables (lets `export!` mark them used in native builds).
pub const fn tables<P: Plugin>() -> (
    &'static [ToolEntry],
    &'static [ResourceEntry],
    &'static [PromptEntry],
    Option<CompleteFn>,
) {
    (P::TOOLS, P::RESOURCES, P::PROMPTS, P::COMPLETE)
}

// ---------------------------------------------------------------------------
// Helpers the macros call

/// Annotations from `#[tool(annotations(...))]`.
pub const fn annotations(
    read_only: Option<bool>,
    destructive: Option<bool>,
    idempotent: Option<bool>,
    open_world: Option<bool>,
) -> Annotations {
    Annotations {
        read_only,
        destructive,
        idempotent,
        open_world,
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// Builds a tool's definition.
#[allow(clippy::too_many_arguments)]
pub fn tool<R: IntoToolResult>(
    name: &str,
    title: Option<&str>,
    description: Option<&str>,
    input_schema: serde_json::Value,
    annotations: Option<Annotations>,
    tags: &[&str],
) -> Tool {
    Tool {
        name: name.to_owned(),
        title: title.map(str::to_owned),
        description: description.map(str::to_owned),
        input_schema: input_schema.to_string(),
        output_schema: R::output_schema().map(|s| s.to_string()),
        annotations,
        tags: strings(tags),
        icons: Vec::new(),
    }
}

/// Converts a tool's return value.
pub fn tool_result<R: IntoToolResult>(value: R) -> Result<ToolResult, Error> {
    value.into_tool_result()
}

/// Converts a tool's return value, keeping a request for input.
pub fn tool_outcome<R: IntoToolResult>(value: R) -> Result<Outcome<ToolResult>, Error> {
    value.into_tool_outcome()
}

/// The media type of a resource: the attribute's, else the return type's.
pub fn mime_type<R: IntoResourceContents>(explicit: Option<&'static str>) -> Option<&'static str> {
    explicit.or_else(R::default_mime_type)
}

/// Converts a resource's return value.
pub fn resource_contents<R: IntoResourceContents>(
    value: R,
    uri: &str,
    mime_type: Option<&str>,
) -> Result<Vec<ResourceContents>, Error> {
    value.into_contents(uri, mime_type)
}

/// Converts a resource's return value, keeping a request for input.
pub fn resource_outcome<R: IntoResourceContents>(
    value: R,
    uri: &str,
    mime_type: Option<&str>,
) -> Result<Outcome<Vec<ResourceContents>>, Error> {
    value.into_contents_outcome(uri, mime_type)
}

/// One prompt argument.
pub fn prompt_argument(name: &str, description: Option<&str>, required: bool) -> PromptArgument {
    PromptArgument {
        name: name.to_owned(),
        description: description.map(str::to_owned),
        required,
    }
}

/// Builds a prompt's definition.
pub fn prompt(
    name: &str,
    title: Option<&str>,
    description: Option<&str>,
    arguments: Vec<PromptArgument>,
    tags: &[&str],
) -> Prompt {
    Prompt {
        name: name.to_owned(),
        title: title.map(str::to_owned),
        description: description.map(str::to_owned),
        arguments,
        tags: strings(tags),
        icons: Vec::new(),
    }
}

/// Converts a prompt's return value.
pub fn prompt_result<R: IntoMessages>(
    value: R,
    description: Option<&str>,
) -> Result<PromptResult, Error> {
    Ok(PromptResult {
        description: description.map(str::to_owned),
        messages: value.into_messages()?,
    })
}

/// Converts a prompt's return value, keeping a request for input.
pub fn prompt_outcome<R: IntoMessages>(
    value: R,
    description: Option<&str>,
) -> Result<Outcome<PromptResult>, Error> {
    Ok(value.into_messages_outcome()?.map(|messages| PromptResult {
        description: description.map(str::to_owned),
        messages,
    }))
}

// ---------------------------------------------------------------------------
// Dispatch

/// Lists the concrete resources.
pub fn list_resources(entries: &[ResourceEntry]) -> Vec<ResourceInfo> {
    entries
        .iter()
        .filter(|e| !e.is_template())
        .map(|e| {
            let d = (e.describe)();
            ResourceInfo {
                uri: e.uri.to_owned(),
                name: d.name.to_owned(),
                title: d.title.map(str::to_owned),
                description: d.description.map(str::to_owned),
                mime_type: d.mime_type.map(str::to_owned),
                size: None,
                tags: strings(d.tags),
                icons: Vec::new(),
            }
        })
        .collect()
}

/// Lists the resource templates.
pub fn list_templates(entries: &[ResourceEntry]) -> Vec<ResourceTemplate> {
    entries
        .iter()
        .filter(|e| e.is_template())
        .map(|e| {
            let d = (e.describe)();
            ResourceTemplate {
                uri_template: e.uri.to_owned(),
                name: d.name.to_owned(),
                title: d.title.map(str::to_owned),
                description: d.description.map(str::to_owned),
                mime_type: d.mime_type.map(str::to_owned),
                tags: strings(d.tags),
                icons: Vec::new(),
            }
        })
        .collect()
}

/// Whether `params` (what the host matched) fit `e`'s template: every
/// name is one of its variables and every required one is there.
fn fits(e: &ResourceEntry, params: &[(String, String)]) -> bool {
    params
        .iter()
        .all(|(k, _)| e.variables.contains(&k.as_str()))
        && e.required
            .iter()
            .all(|r| params.iter().any(|(k, _)| k == r))
}

/// Reads `uri`: a concrete resource by its URI, else the template that
/// matches it (preferring one whose variables are the `params` the host
/// matched), else the template whose variables are `params`.
pub fn read_resource(
    entries: &[ResourceEntry],
    uri: &str,
    params: Vec<(String, String)>,
    call: &Call,
) -> Result<Outcome<Vec<ResourceContents>>, Error> {
    if let Some(e) = entries.iter().find(|e| !e.is_template() && e.uri == uri) {
        return (e.read)(uri, StrArgs::lenient(Vec::new()), call);
    }
    let templates = || entries.iter().filter(|e| e.is_template());
    let matched: Vec<_> = templates()
        .filter_map(|e| {
            let template = corral_uri_template::UriTemplate::parse(e.uri).ok()?;
            template.matches(uri).map(|vars| (e, vars))
        })
        .collect();
    if let Some((e, vars)) = matched
        .iter()
        .find(|(e, _)| !params.is_empty() && fits(e, &params))
        .or_else(|| matched.first())
    {
        let vars = if !params.is_empty() && fits(e, &params) {
            params
        } else {
            vars.clone()
        };
        return (e.read)(uri, StrArgs::lenient(vars), call);
    }
    if !params.is_empty()
        && let Some(e) = templates().find(|e| fits(e, &params))
    {
        return (e.read)(uri, StrArgs::lenient(params), call);
    }
    Err(Error::NotFound(format!("unknown resource `{uri}`")))
}

/// Prints panics as one stderr line, `panicked at FILE:LINE:COL: MESSAGE`,
/// so that the host's "last stderr line" names the cause.
fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let message = info.payload_as_str().unwrap_or("(no message)");
            match info.location() {
                Some(at) => eprintln!("panicked at {at}: {message}"),
                None => eprintln!("panicked: {message}"),
            }
        }));
    });
}

impl<P: Plugin> tools::Guest for P {
    fn list_tools() -> Vec<Tool> {
        install_panic_hook();
        P::TOOLS.iter().map(|t| (t.definition)()).collect()
    }

    fn call_tool(
        name: String,
        arguments: String,
        input: Option<Input>,
    ) -> Result<tools::Outcome, Error> {
        install_panic_hook();
        let tool = P::TOOLS
            .iter()
            .find(|t| t.name == name)
            .ok_or_else(|| Error::NotFound(format!("unknown tool `{name}`")))?;
        Ok(match (tool.call)(&arguments, &Call::new(input))? {
            Outcome::Complete(result) => tools::Outcome::Complete(result),
            Outcome::NeedsInput(request) => tools::Outcome::NeedsInput(request),
        })
    }
}

impl<P: Plugin> resources::Guest for P {
    fn list_resources() -> Vec<ResourceInfo> {
        install_panic_hook();
        list_resources(P::RESOURCES)
    }

    fn list_templates() -> Vec<ResourceTemplate> {
        install_panic_hook();
        list_templates(P::RESOURCES)
    }

    fn read_resource(
        uri: String,
        params: Vec<(String, String)>,
        input: Option<Input>,
    ) -> Result<resources::ReadOutcome, Error> {
        install_panic_hook();
        Ok(
            match read_resource(P::RESOURCES, &uri, params, &Call::new(input))? {
                Outcome::Complete(contents) => resources::ReadOutcome::Complete(contents),
                Outcome::NeedsInput(request) => resources::ReadOutcome::NeedsInput(request),
            },
        )
    }
}

impl<P: Plugin> prompts::Guest for P {
    fn list_prompts() -> Vec<Prompt> {
        install_panic_hook();
        P::PROMPTS.iter().map(|p| (p.definition)()).collect()
    }

    fn get_prompt(
        name: String,
        arguments: Vec<(String, String)>,
        input: Option<Input>,
    ) -> Result<prompts::GetOutcome, Error> {
        install_panic_hook();
        let prompt = P::PROMPTS
            .iter()
            .find(|p| p.name == name)
            .ok_or_else(|| Error::NotFound(format!("unknown prompt `{name}`")))?;
        Ok(match (prompt.get)(arguments, &Call::new(input))? {
            Outcome::Complete(result) => prompts::GetOutcome::Complete(result),
            Outcome::NeedsInput(request) => prompts::GetOutcome::NeedsInput(request),
        })
    }
}

impl<P: Plugin> tasks::Guest for P {
    fn list_task_support() -> Vec<tasks::ToolTaskSupport> {
        P::TOOLS
            .iter()
            .filter(|t| t.task != TaskSupport::Forbidden)
            .map(|t| tasks::ToolTaskSupport {
                tool: t.name.to_owned(),
                support: t.task,
            })
            .collect()
    }
}

impl<P: Plugin> completions::Guest for P {
    fn complete(reference: CompletionRef, argument: String, value: String) -> Vec<String> {
        install_panic_hook();
        match P::COMPLETE {
            Some(f) => f(&reference, &argument, &value),
            None => Vec::new(),
        }
    }
}
