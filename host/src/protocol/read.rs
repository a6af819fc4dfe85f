//! MCP wire shapes → the model: what an upstream MCP server lists and
//! answers, read from its JSON (so rmcp's Rust types, which change between
//! versions, are not relied upon). Every function says what was wrong with
//! an answer it cannot use; unknown fields are ignored, as MCP asks.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Map, Value};

use crate::model::{
    Content, Icon, InputRequest, InputRequired, JsonObject, PromptArgument, PromptDef,
    PromptMessage, PromptResult, ResourceBody, ResourceContents, ResourceDef, ResourceLink, Role,
    TaskSupport, TemplateDef, ToolAnnotations, ToolDef, ToolResult,
};

type Result<T> = std::result::Result<T, String>;

fn object<'a>(value: &'a Value, what: &str) -> Result<&'a Map<String, Value>> {
    value
        .as_object()
        .ok_or_else(|| format!("{what} is not a JSON object"))
}

fn string(o: &Map<String, Value>, key: &str, what: &str) -> Result<String> {
    match o.get(key) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(format!("{what}: `{key}` is not a string")),
        None => Err(format!("{what} has no `{key}`")),
    }
}

fn optional_string(o: &Map<String, Value>, key: &str) -> Option<String> {
    o.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn bytes(o: &Map<String, Value>, key: &str, what: &str) -> Result<Vec<u8>> {
    BASE64
        .decode(string(o, key, what)?)
        .map_err(|e| format!("{what}: `{key}` is not base64: {e}"))
}

fn icons(o: &Map<String, Value>) -> Vec<Icon> {
    let Some(Value::Array(list)) = o.get("icons") else {
        return Vec::new();
    };
    list.iter()
        .filter_map(Value::as_object)
        .filter_map(|i| {
            Some(Icon {
                src: optional_string(i, "src")?,
                mime_type: optional_string(i, "mimeType"),
                sizes: match i.get("sizes") {
                    Some(Value::Array(sizes)) => sizes
                        .iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect(),
                    _ => Vec::new(),
                },
            })
        })
        .collect()
}

/// Tags as Corral (`_meta.corral.tags`) or FastMCP (`_meta._fastmcp.tags`)
/// lists them.
fn tags(o: &Map<String, Value>) -> Vec<String> {
    let meta = o.get("_meta");
    ["/corral/tags", "/_fastmcp/tags"]
        .iter()
        .find_map(|pointer| meta.and_then(|m| m.pointer(pointer)))
        .and_then(Value::as_array)
        .map(|tags| {
            tags.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn schema(value: Option<&Value>, what: &str) -> Result<Option<JsonObject>> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(o)) => Ok(Some(o.clone())),
        Some(_) => Err(format!("{what}: the schema is not a JSON object")),
    }
}

/// A tool as a server lists it.
pub fn tool(value: &Value) -> Result<ToolDef> {
    let o = object(value, "a tool")?;
    let name = string(o, "name", "a tool")?;
    let what = format!("tool `{name}`");
    let input_schema = schema(o.get("inputSchema"), &what)?
        .ok_or_else(|| format!("{what} has no `inputSchema`"))?;
    let output_schema = schema(o.get("outputSchema"), &what)?;
    let annotations = o.get("annotations").and_then(Value::as_object).map(|a| {
        let hint = |key: &str| a.get(key).and_then(Value::as_bool);
        ToolAnnotations {
            read_only: hint("readOnlyHint"),
            destructive: hint("destructiveHint"),
            idempotent: hint("idempotentHint"),
            open_world: hint("openWorldHint"),
        }
    });
    Ok(ToolDef {
        title: optional_string(o, "title").or_else(|| {
            o.get("annotations")?
                .get("title")?
                .as_str()
                .map(str::to_owned)
        }),
        description: optional_string(o, "description"),
        input_schema: input_schema.into(),
        output_schema: output_schema.map(Into::into),
        annotations,
        tags: tags(o),
        icons: icons(o),
        // An upstream's own tasks are not relayed: its tools answer within
        // their request (see docs/ARCHITECTURE.md).
        task_support: TaskSupport::Forbidden,
        name,
    })
}

/// A concrete resource as a server lists it.
pub fn resource(value: &Value) -> Result<ResourceDef> {
    let o = object(value, "a resource")?;
    let uri = string(o, "uri", "a resource")?;
    Ok(ResourceDef {
        name: optional_string(o, "name").unwrap_or_else(|| uri.clone()),
        title: optional_string(o, "title"),
        description: optional_string(o, "description"),
        mime_type: optional_string(o, "mimeType"),
        size: o.get("size").and_then(Value::as_u64),
        tags: tags(o),
        icons: icons(o),
        uri,
    })
}

/// A resource template as a server lists it.
pub fn template(value: &Value) -> Result<TemplateDef> {
    let o = object(value, "a resource template")?;
    let uri_template = string(o, "uriTemplate", "a resource template")?;
    Ok(TemplateDef {
        name: optional_string(o, "name").unwrap_or_else(|| uri_template.clone()),
        title: optional_string(o, "title"),
        description: optional_string(o, "description"),
        mime_type: optional_string(o, "mimeType"),
        tags: tags(o),
        icons: icons(o),
        uri_template,
    })
}

/// A prompt as a server lists it.
pub fn prompt(value: &Value) -> Result<PromptDef> {
    let o = object(value, "a prompt")?;
    let name = string(o, "name", "a prompt")?;
    let arguments = match o.get("arguments") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(list)) => list
            .iter()
            .map(|a| {
                let a = object(a, "a prompt argument")?;
                Ok(PromptArgument {
                    name: string(a, "name", "a prompt argument")?,
                    description: optional_string(a, "description"),
                    required: a.get("required").and_then(Value::as_bool).unwrap_or(false),
                })
            })
            .collect::<Result<_>>()?,
        Some(_) => return Err(format!("prompt `{name}`: `arguments` is not a list")),
    };
    Ok(PromptDef {
        title: optional_string(o, "title"),
        description: optional_string(o, "description"),
        arguments,
        tags: tags(o),
        icons: icons(o),
        name,
    })
}

/// The contents of one resource.
pub fn contents(value: &Value) -> Result<ResourceContents> {
    let o = object(value, "resource contents")?;
    let body = match (o.get("text"), o.get("blob")) {
        (Some(Value::String(text)), _) => ResourceBody::Text(text.clone()),
        (_, Some(_)) => ResourceBody::Blob(bytes(o, "blob", "resource contents")?),
        _ => return Err("resource contents have neither `text` nor `blob`".into()),
    };
    Ok(ResourceContents {
        uri: string(o, "uri", "resource contents")?,
        mime_type: optional_string(o, "mimeType"),
        body,
    })
}

/// One block of content.
pub fn content(value: &Value) -> Result<Content> {
    let o = object(value, "a content block")?;
    let kind = string(o, "type", "a content block")?;
    Ok(match kind.as_str() {
        "text" => Content::Text(string(o, "text", "a text block")?),
        "image" => Content::Image {
            data: bytes(o, "data", "an image block")?,
            mime_type: string(o, "mimeType", "an image block")?,
        },
        "audio" => Content::Audio {
            data: bytes(o, "data", "an audio block")?,
            mime_type: string(o, "mimeType", "an audio block")?,
        },
        "resource_link" => Content::Link(ResourceLink {
            uri: string(o, "uri", "a resource link")?,
            name: string(o, "name", "a resource link")?,
            description: optional_string(o, "description"),
            mime_type: optional_string(o, "mimeType"),
        }),
        "resource" => Content::Embedded(contents(
            o.get("resource")
                .ok_or("an embedded resource has no `resource`")?,
        )?),
        other => return Err(format!("unknown content type `{other}`")),
    })
}

fn content_list(o: &Map<String, Value>, what: &str) -> Result<Vec<Content>> {
    match o.get("content") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(list)) => list.iter().map(content).collect(),
        Some(_) => Err(format!("{what}: `content` is not a list")),
    }
}

/// A completed tool call.
pub fn tool_result(value: &Value) -> Result<ToolResult> {
    let o = object(value, "a tool result")?;
    Ok(ToolResult {
        content: content_list(o, "a tool result")?,
        structured: o.get("structuredContent").cloned(),
        is_error: o.get("isError").and_then(Value::as_bool).unwrap_or(false),
    })
}

/// A completed resource read.
pub fn read_result(value: &Value) -> Result<Vec<ResourceContents>> {
    let o = object(value, "a read result")?;
    match o.get("contents") {
        Some(Value::Array(list)) => list.iter().map(contents).collect(),
        _ => Err("a read result has no `contents` list".into()),
    }
}

/// A rendered prompt.
pub fn prompt_result(value: &Value) -> Result<PromptResult> {
    let o = object(value, "a prompt result")?;
    let messages = match o.get("messages") {
        Some(Value::Array(list)) => list.iter().map(message).collect::<Result<_>>()?,
        _ => return Err("a prompt result has no `messages` list".into()),
    };
    Ok(PromptResult {
        description: optional_string(o, "description"),
        messages,
    })
}

fn message(value: &Value) -> Result<PromptMessage> {
    let m = object(value, "a message")?;
    let role = match string(m, "role", "a message")?.as_str() {
        "user" => Role::User,
        "assistant" => Role::Assistant,
        other => return Err(format!("unknown role `{other}`")),
    };
    let content = match m.get("content") {
        // Sampling messages may hold a list; the model keeps one block.
        Some(Value::Array(list)) => content(list.first().ok_or("a message has empty content")?)?,
        Some(one) => content(one)?,
        None => return Err("a message has no content".into()),
    };
    Ok(PromptMessage { role, content })
}

/// One request for input by its method and params, as a server sends it
/// in the middle of a call (2025-11-25) or inside `input_required`.
pub fn input_request(method: &str, params: &Value) -> Result<InputRequest> {
    let empty = Map::new();
    let params = params.as_object().unwrap_or(&empty);
    Ok(match method {
        "elicitation/create" => InputRequest::Elicit {
            message: string(params, "message", "an elicitation request")?,
            requested_schema: params
                .get("requestedSchema")
                .cloned()
                .unwrap_or_else(|| serde_json::json!({"type": "object"})),
        },
        "sampling/createMessage" => InputRequest::Sample {
            messages: match params.get("messages") {
                Some(Value::Array(list)) => list.iter().map(message).collect::<Result<_>>()?,
                _ => return Err("a sampling request has no `messages` list".into()),
            },
            max_tokens: params
                .get("maxTokens")
                .and_then(Value::as_u64)
                .and_then(|n| u32::try_from(n).ok())
                .ok_or("a sampling request has no valid `maxTokens`")?,
            system_prompt: optional_string(params, "systemPrompt"),
        },
        "roots/list" => InputRequest::Roots,
        other => return Err(format!("unknown input request `{other}`")),
    })
}

/// An `input_required` answer (2026-07-28): what the server asks the
/// client for, and the state it wants back.
pub fn input_required(value: &Value) -> Result<InputRequired> {
    let o = object(value, "an input_required answer")?;
    let mut requests = Vec::new();
    if let Some(Value::Object(map)) = o.get("inputRequests") {
        for (key, request) in map {
            let r = object(request, "an input request")?;
            let method = string(r, "method", "an input request")?;
            let empty = Value::Object(Map::new());
            let request = input_request(&method, r.get("params").unwrap_or(&empty))?;
            requests.push((key.clone(), request));
        }
    }
    Ok(InputRequired {
        requests,
        state: optional_string(o, "requestState"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// What the host writes, it reads back the same (the upstream of one
    /// Corral can be another).
    #[test]
    fn written_items_read_back_equal() {
        let def = ToolDef {
            name: "t".into(),
            title: Some("T".into()),
            description: Some("d".into()),
            input_schema: json!({"type": "object"})
                .as_object()
                .unwrap()
                .clone()
                .into(),
            output_schema: None,
            annotations: Some(ToolAnnotations {
                read_only: Some(true),
                ..Default::default()
            }),
            tags: vec!["math".into()],
            icons: vec![],
            task_support: Default::default(),
        };
        let wire = serde_json::to_value(super::super::tool(&def).unwrap()).unwrap();
        assert_eq!(tool(&wire).unwrap(), def);
        let result = ToolResult {
            content: vec![
                Content::Text("hi".into()),
                Content::Image {
                    data: vec![1, 2, 3],
                    mime_type: "image/png".into(),
                },
            ],
            structured: Some(json!({"a": 1})),
            is_error: false,
        };
        let wire = serde_json::to_value(super::super::tool_result(&result).unwrap()).unwrap();
        assert_eq!(tool_result(&wire).unwrap(), result);
    }

    #[test]
    fn bad_answers_say_what_is_wrong() {
        assert!(
            tool(&json!({"name": "t"}))
                .unwrap_err()
                .contains("inputSchema")
        );
        assert!(
            content(&json!({"type": "image", "data": "!!", "mimeType": "x"}))
                .unwrap_err()
                .contains("base64")
        );
        assert!(
            content(&json!({"type": "video"}))
                .unwrap_err()
                .contains("video")
        );
    }
}
