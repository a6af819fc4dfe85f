//! The provider-neutral model of what a server serves: tools, resources,
//! resource templates and prompts, and what calling them returns.
//!
//! Providers (Wasm plugins today; upstream servers and OpenAPI specs later)
//! produce these types; `protocol` turns them into MCP messages. Nothing here
//! knows of wasmtime or of rmcp.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A JSON object, as JSON Schemas are.
pub type JsonObject = Map<String, Value>;

/// An icon a client may show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Icon {
    /// A URI: `https:` or a `data:` URI.
    pub src: String,
    /// The media type, when `src` does not make it obvious.
    pub mime_type: Option<String>,
    /// Sizes such as `48x48`, or `any` for scalable formats.
    pub sizes: Vec<String>,
}

/// Behaviour hints of a tool.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ToolAnnotations {
    /// The tool does not change its environment (`readOnlyHint`).
    pub read_only: Option<bool>,
    /// The tool may destroy or overwrite something (`destructiveHint`).
    pub destructive: Option<bool>,
    /// Calling it twice with the same arguments does no more than once
    /// (`idempotentHint`).
    pub idempotent: Option<bool>,
    /// The tool talks to the world outside the host (`openWorldHint`).
    pub open_world: Option<bool>,
}

/// A tool as served.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolDef {
    /// The name a client calls it by (with the mount prefix, once served).
    pub name: String,
    /// A human-friendly title.
    pub title: Option<String>,
    /// What the tool does, for the model.
    pub description: Option<String>,
    /// JSON Schema of the arguments (an object schema).
    pub input_schema: Arc<JsonObject>,
    /// JSON Schema of the structured result, if there is one.
    pub output_schema: Option<Arc<JsonObject>>,
    /// Behaviour hints.
    pub annotations: Option<ToolAnnotations>,
    /// Tags to filter on (`include_tags`, `exclude_tags`); sent in `_meta`.
    pub tags: Vec<String>,
    /// Icons for the client to show.
    pub icons: Vec<Icon>,
    /// Whether the tool may run as an MCP task.
    pub task_support: TaskSupport,
}

/// Whether a tool may run as an MCP task (a call that outlives its
/// request; the client polls for the result).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum TaskSupport {
    /// Never a task: the call answers within its request.
    #[default]
    Forbidden,
    /// A task when the client supports tasks and the call takes a while.
    Optional,
    /// Only for clients that support tasks; others get an error at once.
    Required,
}

/// A concrete resource as served.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceDef {
    /// Its URI, for example `data://config` (with the mount prefix, once
    /// served).
    pub uri: String,
    /// A short name.
    pub name: String,
    /// A human-friendly title.
    pub title: Option<String>,
    /// What it holds.
    pub description: Option<String>,
    /// The media type of its contents.
    pub mime_type: Option<String>,
    /// Its size in bytes, if known.
    pub size: Option<u64>,
    /// Tags to filter on (`include_tags`, `exclude_tags`); sent in `_meta`.
    pub tags: Vec<String>,
    /// Icons for the client to show.
    pub icons: Vec<Icon>,
}

/// A resource template as served.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplateDef {
    /// An RFC 6570 URI template, for example `users://{user_id}/profile`
    /// (with the mount prefix, once served).
    pub uri_template: String,
    /// A short name.
    pub name: String,
    /// A human-friendly title.
    pub title: Option<String>,
    /// What the resources hold.
    pub description: Option<String>,
    /// The media type of their contents.
    pub mime_type: Option<String>,
    /// Tags to filter on (`include_tags`, `exclude_tags`); sent in `_meta`.
    pub tags: Vec<String>,
    /// Icons for the client to show.
    pub icons: Vec<Icon>,
}

/// One argument of a prompt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PromptArgument {
    /// Its name.
    pub name: String,
    /// What to pass.
    pub description: Option<String>,
    /// Whether the prompt cannot be rendered without it.
    pub required: bool,
}

/// A prompt as served.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PromptDef {
    /// The name a client gets it by (with the mount prefix, once served).
    pub name: String,
    /// A human-friendly title.
    pub title: Option<String>,
    /// What it is for.
    pub description: Option<String>,
    /// The arguments it takes (all passed as strings).
    pub arguments: Vec<PromptArgument>,
    /// Tags to filter on (`include_tags`, `exclude_tags`); sent in `_meta`.
    pub tags: Vec<String>,
    /// Icons for the client to show.
    pub icons: Vec<Icon>,
}

/// The body of a resource.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ResourceBody {
    /// UTF-8 text.
    Text(String),
    /// Raw bytes (base64 on the MCP wire).
    Blob(Vec<u8>),
}

/// The contents of one resource.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceContents {
    /// The URI these contents belong to.
    pub uri: String,
    /// The media type of the contents.
    pub mime_type: Option<String>,
    /// The contents themselves.
    pub body: ResourceBody,
}

/// A pointer to a resource.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceLink {
    /// The resource's URI.
    pub uri: String,
    /// A short name for the resource.
    pub name: String,
    /// What the resource holds.
    pub description: Option<String>,
    /// The media type of the resource.
    pub mime_type: Option<String>,
}

/// One block of content.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Content {
    /// Plain text.
    Text(String),
    /// An image.
    Image {
        /// The raw bytes (base64 on the MCP wire).
        data: Vec<u8>,
        /// The media type, for example `image/png`.
        mime_type: String,
    },
    /// An audio clip.
    Audio {
        /// The raw bytes (base64 on the MCP wire).
        data: Vec<u8>,
        /// The media type, for example `audio/wav`.
        mime_type: String,
    },
    /// A link to a resource the client may read later.
    Link(ResourceLink),
    /// A resource embedded in full.
    Embedded(ResourceContents),
}

/// What a completed tool call returns.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolResult {
    /// The content blocks shown to the model.
    pub content: Vec<Content>,
    /// A JSON value matching the output schema, if any (`structuredContent`).
    pub structured: Option<Value>,
    /// The tool ran and failed; the content says why.
    pub is_error: bool,
}

impl ToolResult {
    /// A failed call whose only content is `message`.
    pub fn error(message: impl Into<String>) -> Self {
        Self {
            content: vec![Content::Text(message.into())],
            structured: None,
            is_error: true,
        }
    }
}

/// Who speaks a prompt message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Role {
    /// The human side of the conversation.
    User,
    /// The model side of the conversation.
    Assistant,
}

/// One message of a rendered prompt.
#[derive(Debug, Clone, PartialEq)]
pub struct PromptMessage {
    /// Who says it.
    pub role: Role,
    /// What is said.
    pub content: Content,
}

/// A rendered prompt.
#[derive(Debug, Clone, PartialEq)]
pub struct PromptResult {
    /// A description of this rendering.
    pub description: Option<String>,
    /// The messages.
    pub messages: Vec<PromptMessage>,
}

/// One thing a call asks the client for before it can complete.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum InputRequest {
    /// Ask the user for structured input (`elicitation/create`).
    Elicit {
        /// What to ask the user.
        message: String,
        /// A flat JSON Schema object describing the answer.
        requested_schema: Value,
    },
    /// Ask the client's model for a completion (`sampling/createMessage`).
    Sample {
        /// The conversation to complete.
        messages: Vec<PromptMessage>,
        /// The most tokens the answer may use.
        max_tokens: u32,
        /// An optional system prompt.
        system_prompt: Option<String>,
    },
    /// Ask for the client's roots (`roots/list`).
    Roots,
}

/// A call that needs the client's help before it can complete.
#[derive(Debug, Clone, PartialEq)]
pub struct InputRequired {
    /// The requests, each under a key of the provider's choosing.
    pub requests: Vec<(String, InputRequest)>,
    /// State to carry to the next round; opaque to the client (the host
    /// seals it) and handed back in [`Input::state`].
    pub state: Option<String>,
}

/// Answers to a previous round's requests.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Input {
    /// The client's answer to each request, by request key, as the MCP
    /// result JSON.
    pub responses: Vec<(String, Value)>,
    /// The `state` of the [`InputRequired`] this answers.
    pub state: Option<String>,
}

/// A call either completes or asks for input.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Outcome<T> {
    /// The call finished.
    Complete(T),
    /// The call needs answers from the client first.
    NeedsInput(InputRequired),
}

/// Severity of a log message from a plugin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub enum LogLevel {
    /// Detailed information for debugging.
    Debug,
    /// Ordinary progress.
    Info,
    /// Normal but significant.
    Notice,
    /// Something may be wrong.
    Warning,
    /// Something failed.
    Error,
    /// A critical condition.
    Critical,
    /// Action must be taken at once.
    Alert,
    /// The system is unusable.
    Emergency,
}

// Bounds on a listing: what a provider may offer (a plugin's listing is
// refused at load past one; an OpenAPI operation is left out).

/// Items (tools, resources, templates and prompts together) one provider may list.
pub const MAX_LISTED_ITEMS: usize = 10_000;
/// The longest name of a tool or prompt (bytes). Tool names use only
/// `A-Z a-z 0-9 _ . -`, as MCP recommends.
pub const MAX_NAME_BYTES: usize = 128;
/// The longest title, resource name, MIME type, tag or icon size (bytes).
pub const MAX_LABEL_BYTES: usize = 1024;
/// The longest description (bytes).
pub const MAX_DESCRIPTION_BYTES: usize = 64 * 1024;
/// The longest input or output schema (bytes of JSON).
pub const MAX_SCHEMA_BYTES: usize = 256 * 1024;
/// The longest resource URI, template or icon `src` (bytes).
pub const MAX_LISTED_URI_BYTES: usize = 8 * 1024;
/// Tags, icons or prompt arguments on one item.
pub const MAX_ITEM_ENTRIES: usize = 64;
/// The whole listing's text (bytes over every string it holds).
pub const MAX_LISTING_BYTES: usize = 32 * 1024 * 1024;

/// Everything one provider offers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Listing {
    /// Its tools.
    pub tools: Vec<ToolDef>,
    /// Its concrete resources.
    pub resources: Vec<ResourceDef>,
    /// Its resource templates.
    pub templates: Vec<TemplateDef>,
    /// Its prompts.
    pub prompts: Vec<PromptDef>,
}
