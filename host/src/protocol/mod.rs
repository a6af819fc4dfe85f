//! Conversion between the model and MCP messages (rmcp types). No I/O, and
//! nothing here knows of wasmtime.
//!
//! Items are written in MCP's wire shape and read back into rmcp's types, so
//! the wire format is spelled out here once and rmcp's constructors (which
//! change between its minor versions) are not relied upon.
#![allow(deprecated)] // rmcp marks logging as deprecated (SEP-2577); 2025-11-25 clients use it.

pub(crate) mod read;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use rmcp::ErrorData;
use rmcp::model::{
    CallToolResult, CompleteResult, CompletionInfo, CreateMessageRequestParams,
    ElicitRequestParams, GetPromptResult, InputRequest as McpInputRequest, LoggingLevel, Prompt,
    ReadResourceResult, Resource, ResourceTemplate, Tool,
};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use crate::error::{CallError, GuestError};
use crate::model::{
    Content, Icon, InputRequest, LogLevel, PromptDef, PromptMessage, PromptResult, ResourceBody,
    ResourceContents, ResourceDef, Role, TemplateDef, ToolDef, ToolResult,
};

/// The message a masked internal error shows.
pub const MASKED_ERROR: &str =
    "Internal error while running the tool; details are in the server log";

fn decode<T: DeserializeOwned>(what: &str, value: Value) -> Result<T, ErrorData> {
    serde_json::from_value(value)
        .map_err(|e| ErrorData::internal_error(format!("cannot express {what} in MCP: {e}"), None))
}

/// Insert `value` under `key` unless it is `None` / empty.
fn put(object: &mut Map<String, Value>, key: &str, value: impl Into<Option<Value>>) {
    if let Some(value) = value.into() {
        object.insert(key.to_owned(), value);
    }
}

fn opt_str(value: &Option<String>) -> Option<Value> {
    value.as_ref().map(|s| Value::String(s.clone()))
}

fn icons(icons: &[Icon]) -> Option<Value> {
    (!icons.is_empty()).then(|| {
        icons
            .iter()
            .map(|i| {
                let mut o = Map::new();
                o.insert("src".into(), i.src.clone().into());
                put(&mut o, "mimeType", opt_str(&i.mime_type));
                if !i.sizes.is_empty() {
                    o.insert("sizes".into(), i.sizes.clone().into());
                }
                Value::Object(o)
            })
            .collect()
    })
}

/// Icons in rmcp's form (for the server's own `serverInfo.icons`).
pub fn icons_of(list: &[Icon]) -> Vec<rmcp::model::Icon> {
    icons(list)
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default()
}

/// Tags travel in `_meta`, as FastMCP does (`_meta.fastmcp.tags`).
fn tags_meta(tags: &[String]) -> Option<Value> {
    (!tags.is_empty()).then(|| json!({ "corral": { "tags": tags } }))
}

fn describe(
    object: &mut Map<String, Value>,
    title: &Option<String>,
    description: &Option<String>,
    item_icons: &[Icon],
    tags: &[String],
) {
    put(object, "title", opt_str(title));
    put(object, "description", opt_str(description));
    put(object, "icons", icons(item_icons));
    put(object, "_meta", tags_meta(tags));
}

/// A tool definition as MCP lists it.
pub fn tool(def: &ToolDef) -> Result<Tool, ErrorData> {
    let mut o = Map::new();
    o.insert("name".into(), def.name.clone().into());
    o.insert(
        "inputSchema".into(),
        Value::Object((*def.input_schema).clone()),
    );
    if let Some(schema) = &def.output_schema {
        o.insert("outputSchema".into(), Value::Object((**schema).clone()));
    }
    if let Some(a) = &def.annotations {
        let mut hints = Map::new();
        put(&mut hints, "readOnlyHint", a.read_only.map(Value::Bool));
        put(
            &mut hints,
            "destructiveHint",
            a.destructive.map(Value::Bool),
        );
        put(&mut hints, "idempotentHint", a.idempotent.map(Value::Bool));
        put(&mut hints, "openWorldHint", a.open_world.map(Value::Bool));
        o.insert("annotations".into(), Value::Object(hints));
    }
    describe(&mut o, &def.title, &def.description, &def.icons, &def.tags);
    decode("a tool", Value::Object(o))
}

/// A concrete resource as MCP lists it.
pub fn resource(def: &ResourceDef) -> Result<Resource, ErrorData> {
    let mut o = Map::new();
    o.insert("uri".into(), def.uri.clone().into());
    o.insert("name".into(), def.name.clone().into());
    put(&mut o, "mimeType", opt_str(&def.mime_type));
    put(&mut o, "size", def.size.map(Value::from));
    describe(&mut o, &def.title, &def.description, &def.icons, &def.tags);
    decode("a resource", Value::Object(o))
}

/// A resource template as MCP lists it.
pub fn template(def: &TemplateDef) -> Result<ResourceTemplate, ErrorData> {
    let mut o = Map::new();
    o.insert("uriTemplate".into(), def.uri_template.clone().into());
    o.insert("name".into(), def.name.clone().into());
    put(&mut o, "mimeType", opt_str(&def.mime_type));
    describe(&mut o, &def.title, &def.description, &def.icons, &def.tags);
    decode("a resource template", Value::Object(o))
}

/// A prompt as MCP lists it.
pub fn prompt(def: &PromptDef) -> Result<Prompt, ErrorData> {
    let mut o = Map::new();
    o.insert("name".into(), def.name.clone().into());
    let arguments: Vec<Value> = def
        .arguments
        .iter()
        .map(|a| {
            let mut arg = Map::new();
            arg.insert("name".into(), a.name.clone().into());
            put(&mut arg, "description", opt_str(&a.description));
            arg.insert("required".into(), a.required.into());
            Value::Object(arg)
        })
        .collect();
    o.insert("arguments".into(), arguments.into());
    describe(&mut o, &def.title, &def.description, &def.icons, &def.tags);
    decode("a prompt", Value::Object(o))
}

fn contents_json(c: &ResourceContents) -> Value {
    let mut o = Map::new();
    o.insert("uri".into(), c.uri.clone().into());
    put(&mut o, "mimeType", opt_str(&c.mime_type));
    match &c.body {
        ResourceBody::Text(t) => o.insert("text".into(), t.clone().into()),
        ResourceBody::Blob(b) => o.insert("blob".into(), BASE64.encode(b).into()),
    };
    Value::Object(o)
}

fn content_json(c: &Content) -> Value {
    match c {
        Content::Text(text) => json!({ "type": "text", "text": text }),
        Content::Image { data, mime_type } => {
            json!({ "type": "image", "data": BASE64.encode(data), "mimeType": mime_type })
        }
        Content::Audio { data, mime_type } => {
            json!({ "type": "audio", "data": BASE64.encode(data), "mimeType": mime_type })
        }
        Content::Link(l) => {
            let mut o = Map::new();
            o.insert("type".into(), "resource_link".into());
            o.insert("uri".into(), l.uri.clone().into());
            o.insert("name".into(), l.name.clone().into());
            put(&mut o, "description", opt_str(&l.description));
            put(&mut o, "mimeType", opt_str(&l.mime_type));
            Value::Object(o)
        }
        Content::Embedded(c) => json!({ "type": "resource", "resource": contents_json(c) }),
    }
}

/// A completed tool call.
pub fn tool_result(result: &ToolResult) -> Result<CallToolResult, ErrorData> {
    let mut o = Map::new();
    o.insert("resultType".into(), "complete".into());
    o.insert(
        "content".into(),
        result.content.iter().map(content_json).collect(),
    );
    put(&mut o, "structuredContent", result.structured.clone());
    if result.is_error {
        o.insert("isError".into(), true.into());
    }
    decode("a tool result", Value::Object(o))
}

/// A completed resource read.
pub fn read_result(contents: &[ResourceContents]) -> Result<ReadResourceResult, ErrorData> {
    let contents: Vec<Value> = contents.iter().map(contents_json).collect();
    decode(
        "resource contents",
        json!({ "resultType": "complete", "contents": contents }),
    )
}

/// A rendered prompt.
pub fn prompt_result(result: &PromptResult) -> Result<GetPromptResult, ErrorData> {
    let messages: Vec<Value> = result
        .messages
        .iter()
        .map(|m| json!({ "role": role(m.role), "content": content_json(&m.content) }))
        .collect();
    let mut o = Map::new();
    o.insert("resultType".into(), "complete".into());
    put(&mut o, "description", opt_str(&result.description));
    o.insert("messages".into(), messages.into());
    decode("a prompt result", Value::Object(o))
}

/// How a failed tool call reaches the client.
///
/// Tool failures are results with `isError` (so the model can read them),
/// except an unknown tool, which is a protocol error. With masking on, only
/// user-facing messages (ToolError, invalid arguments) keep their text.
pub fn tool_failure(error: &CallError, mask: bool) -> Result<CallToolResult, ErrorData> {
    if let CallError::Guest(GuestError::NotFound(what)) = error {
        return Err(ErrorData::invalid_params(
            format!("Unknown tool: {what}"),
            None,
        ));
    }
    let text = if mask && !error.is_user_facing() {
        MASKED_ERROR.to_owned()
    } else {
        error.to_string()
    };
    tool_result(&ToolResult::error(text))
}

/// How a failed resource read or prompt render reaches the client: a
/// JSON-RPC error.
pub fn request_failure(
    error: &CallError,
    mask: bool,
    not_found: fn(String) -> ErrorData,
) -> ErrorData {
    match error {
        CallError::Guest(GuestError::NotFound(what)) => not_found(what.clone()),
        CallError::Guest(GuestError::InvalidParams(m)) => {
            ErrorData::invalid_params(m.clone(), None)
        }
        CallError::Guest(GuestError::ToolError(m)) => ErrorData::internal_error(m.clone(), None),
        other if mask => {
            let _ = other;
            ErrorData::internal_error(MASKED_ERROR, None)
        }
        other => ErrorData::internal_error(other.to_string(), None),
    }
}

/// A resource URI that nothing serves.
pub fn resource_not_found(uri: String) -> ErrorData {
    ErrorData::resource_not_found(
        format!("Resource not found: {uri}"),
        Some(json!({ "uri": uri })),
    )
}

fn role(role: Role) -> &'static str {
    match role {
        Role::User => "user",
        Role::Assistant => "assistant",
    }
}

/// An `elicitation/create` request (form mode) for a plugin's elicit request.
pub fn elicit_params(message: &str, schema: &Value) -> Result<ElicitRequestParams, String> {
    serde_json::from_value(json!({
        "mode": "form",
        "message": message,
        "requestedSchema": schema,
    }))
    .map_err(|e| format!("the plugin's elicitation schema is not one MCP accepts: {e}"))
}

/// A `sampling/createMessage` request for a plugin's sample request.
pub fn sampling_params(
    messages: &[PromptMessage],
    max_tokens: u32,
    system_prompt: Option<&str>,
) -> Result<CreateMessageRequestParams, String> {
    let messages: Vec<Value> = messages
        .iter()
        .map(|m| json!({ "role": role(m.role), "content": content_json(&m.content) }))
        .collect();
    let mut o = Map::new();
    o.insert("messages".into(), messages.into());
    o.insert("maxTokens".into(), max_tokens.into());
    if let Some(system) = system_prompt {
        o.insert("systemPrompt".into(), system.into());
    }
    serde_json::from_value(Value::Object(o))
        .map_err(|e| format!("the plugin's sampling request is not one MCP accepts: {e}"))
}

/// A completion answer: at most 100 values, with the total and whether
/// there were more.
pub fn completion(mut values: Vec<String>) -> CompleteResult {
    let total = values.len();
    values.truncate(CompletionInfo::MAX_VALUES);
    let more = total > values.len();
    let info = CompletionInfo::with_pagination(values, u32::try_from(total).ok(), more)
        .unwrap_or_default();
    CompleteResult::new(info)
}

/// One entry of an `input_required` result's `inputRequests` (2026-07-28).
pub fn input_request(request: &InputRequest) -> Result<McpInputRequest, String> {
    let (method, params) = match request {
        InputRequest::Elicit {
            message,
            requested_schema,
        } => (
            "elicitation/create",
            json!({ "mode": "form", "message": message, "requestedSchema": requested_schema }),
        ),
        InputRequest::Sample {
            messages,
            max_tokens,
            system_prompt,
        } => (
            "sampling/createMessage",
            serde_json::to_value(sampling_params(
                messages,
                *max_tokens,
                system_prompt.as_deref(),
            )?)
            .map_err(|e| e.to_string())?,
        ),
        InputRequest::Roots => ("roots/list", json!({})),
    };
    serde_json::from_value(json!({ "method": method, "params": params }))
        .map_err(|e| format!("the plugin's input request is not one MCP accepts: {e}"))
}

/// An opaque list cursor for the item at `offset`.
pub fn encode_cursor(offset: usize) -> String {
    BASE64.encode(format!("corral:{offset}"))
}

/// The offset a cursor made by [`encode_cursor`] stands for.
pub fn decode_cursor(cursor: &str) -> Option<usize> {
    let bytes = BASE64.decode(cursor).ok()?;
    std::str::from_utf8(&bytes)
        .ok()?
        .strip_prefix("corral:")?
        .parse()
        .ok()
}

/// A prompt name that nothing serves.
pub fn prompt_not_found(name: String) -> ErrorData {
    ErrorData::invalid_params(format!("Unknown prompt: {name}"), None)
}

/// MCP's logging level for a plugin's.
pub fn logging_level(level: LogLevel) -> LoggingLevel {
    match level {
        LogLevel::Debug => LoggingLevel::Debug,
        LogLevel::Info => LoggingLevel::Info,
        LogLevel::Notice => LoggingLevel::Notice,
        LogLevel::Warning => LoggingLevel::Warning,
        LogLevel::Error => LoggingLevel::Error,
        LogLevel::Critical => LoggingLevel::Critical,
        LogLevel::Alert => LoggingLevel::Alert,
        LogLevel::Emergency => LoggingLevel::Emergency,
    }
}

/// A plugin's level for MCP's.
pub fn log_level(level: LoggingLevel) -> LogLevel {
    match level {
        LoggingLevel::Debug => LogLevel::Debug,
        LoggingLevel::Info => LogLevel::Info,
        LoggingLevel::Notice => LogLevel::Notice,
        LoggingLevel::Warning => LogLevel::Warning,
        LoggingLevel::Error => LogLevel::Error,
        LoggingLevel::Critical => LogLevel::Critical,
        LoggingLevel::Alert => LogLevel::Alert,
        LoggingLevel::Emergency => LogLevel::Emergency,
    }
}

/// Prompt arguments as the plugin takes them: strings. Non-string JSON
/// values (a client sending a number) are passed as their JSON text.
pub fn prompt_arguments(arguments: Option<&Map<String, Value>>) -> Vec<(String, String)> {
    arguments
        .into_iter()
        .flatten()
        .map(|(k, v)| {
            let v = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (k.clone(), v)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ToolAnnotations;
    use std::sync::Arc;

    fn wire<T: serde::Serialize>(value: &T) -> Value {
        serde_json::to_value(value).unwrap()
    }

    #[test]
    fn tools_are_listed_in_mcp_shape() {
        let def = ToolDef {
            name: "multiply".into(),
            title: None,
            description: Some("Multiply two numbers.".into()),
            input_schema: Arc::new(
                json!({"type": "object", "properties": {"a": {"type": "number"}}})
                    .as_object()
                    .unwrap()
                    .clone(),
            ),
            output_schema: None,
            annotations: Some(ToolAnnotations {
                read_only: Some(true),
                ..Default::default()
            }),
            tags: vec!["math".into()],
            icons: vec![],
            task_support: Default::default(),
        };
        let listed = wire(&tool(&def).unwrap());
        assert_eq!(listed["name"], "multiply");
        assert_eq!(listed["inputSchema"]["properties"]["a"]["type"], "number");
        assert_eq!(listed["annotations"]["readOnlyHint"], true);
        assert_eq!(listed["_meta"]["corral"]["tags"], json!(["math"]));
        assert!(listed.get("outputSchema").is_none());
    }

    #[test]
    fn binary_content_is_base64() {
        let result = ToolResult {
            content: vec![Content::Image {
                data: vec![1, 2, 3],
                mime_type: "image/png".into(),
            }],
            structured: Some(json!({"result": 1})),
            is_error: false,
        };
        let sent = wire(&tool_result(&result).unwrap());
        assert_eq!(sent["content"][0]["data"], "AQID");
        assert_eq!(sent["structuredContent"]["result"], 1);
        assert!(sent.get("isError").is_none());
    }

    #[test]
    fn masking_hides_internal_details_but_not_tool_errors() {
        let trap = CallError::Trap("wasm trap: unreachable".into());
        let shown = wire(&tool_failure(&trap, false).unwrap());
        assert!(
            shown["content"][0]["text"]
                .as_str()
                .unwrap()
                .contains("unreachable")
        );
        let masked = wire(&tool_failure(&trap, true).unwrap());
        assert_eq!(masked["content"][0]["text"], MASKED_ERROR);
        assert_eq!(masked["isError"], true);
        let user = CallError::Guest(GuestError::ToolError("Division by zero".into()));
        let kept = wire(&tool_failure(&user, true).unwrap());
        assert_eq!(kept["content"][0]["text"], "Division by zero");
    }
}
