//! The provider-neutral model of what a server serves: tools, resources,
//! resource templates and prompts, and what calling them returns.
//!
//! Providers (Wasm plugins today; upstream servers and OpenAPI specs later)
//! produce these types; `protocol` turns them into MCP messages. Nothing here
//! knows of wasmtime or of rmcp.

use std::sync::Arc;

use serde_json::{Map, Value};

/// A JSON object, as JSON Schemas are.
pub type JsonObject = Map<String, Value>;

/// An icon a client may show.
#[derive(Debug, Clone, PartialEq)]
pub struct Icon {
    pub src: String,
    pub mime_type: Option<String>,
    pub sizes: Vec<String>,
}

/// Behaviour hints of a tool.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ToolAnnotations {
    pub read_only: Option<bool>,
    pub destructive: Option<bool>,
    pub idempotent: Option<bool>,
    pub open_world: Option<bool>,
}

/// A tool as served.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolDef {
    pub name: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub input_schema: Arc<JsonObject>,
    pub output_schema: Option<Arc<JsonObject>>,
    pub annotations: Option<ToolAnnotations>,
    pub tags: Vec<String>,
    pub icons: Vec<Icon>,
}

/// A concrete resource as served.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceDef {
    pub uri: String,
    pub name: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub mime_type: Option<String>,
    pub size: Option<u64>,
    pub tags: Vec<String>,
    pub icons: Vec<Icon>,
}

/// A resource template as served.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateDef {
    pub uri_template: String,
    pub name: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub mime_type: Option<String>,
    pub tags: Vec<String>,
    pub icons: Vec<Icon>,
}

/// One argument of a prompt.
#[derive(Debug, Clone, PartialEq)]
pub struct PromptArgument {
    pub name: String,
    pub description: Option<String>,
    pub required: bool,
}

/// A prompt as served.
#[derive(Debug, Clone, PartialEq)]
pub struct PromptDef {
    pub name: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub arguments: Vec<PromptArgument>,
    pub tags: Vec<String>,
    pub icons: Vec<Icon>,
}

/// The body of a resource.
#[derive(Debug, Clone, PartialEq)]
pub enum ResourceBody {
    Text(String),
    Blob(Vec<u8>),
}

/// The contents of one resource.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceContents {
    pub uri: String,
    pub mime_type: Option<String>,
    pub body: ResourceBody,
}

/// A pointer to a resource.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceLink {
    pub uri: String,
    pub name: String,
    pub description: Option<String>,
    pub mime_type: Option<String>,
}

/// One block of content.
#[derive(Debug, Clone, PartialEq)]
pub enum Content {
    Text(String),
    Image { data: Vec<u8>, mime_type: String },
    Audio { data: Vec<u8>, mime_type: String },
    Link(ResourceLink),
    Embedded(ResourceContents),
}

/// What a completed tool call returns.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolResult {
    pub content: Vec<Content>,
    pub structured: Option<Value>,
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
pub enum Role {
    User,
    Assistant,
}

/// One message of a rendered prompt.
#[derive(Debug, Clone, PartialEq)]
pub struct PromptMessage {
    pub role: Role,
    pub content: Content,
}

/// A rendered prompt.
#[derive(Debug, Clone, PartialEq)]
pub struct PromptResult {
    pub description: Option<String>,
    pub messages: Vec<PromptMessage>,
}

/// One thing a call asks the client for before it can complete.
#[derive(Debug, Clone, PartialEq)]
pub enum InputRequest {
    Elicit {
        message: String,
        requested_schema: Value,
    },
    Sample {
        messages: Vec<PromptMessage>,
        max_tokens: u32,
        system_prompt: Option<String>,
    },
    Roots,
}

/// A call that needs the client's help before it can complete.
#[derive(Debug, Clone, PartialEq)]
pub struct InputRequired {
    pub requests: Vec<(String, InputRequest)>,
    pub state: Option<String>,
}

/// Answers to a previous round's requests.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Input {
    pub responses: Vec<(String, Value)>,
    pub state: Option<String>,
}

/// A call either completes or asks for input.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome<T> {
    Complete(T),
    NeedsInput(InputRequired),
}

/// Severity of a log message from a plugin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Debug,
    Info,
    Notice,
    Warning,
    Error,
    Critical,
    Alert,
    Emergency,
}

/// Everything one provider offers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Listing {
    pub tools: Vec<ToolDef>,
    pub resources: Vec<ResourceDef>,
    pub templates: Vec<TemplateDef>,
    pub prompts: Vec<PromptDef>,
}
