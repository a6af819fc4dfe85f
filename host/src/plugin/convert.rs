//! Conversion between the WIT bindings and the provider-neutral model, with
//! the checks a guest's answer must pass (schemas are JSON objects, ...).

use std::sync::Arc;

use serde_json::Value;

use crate::bindings::corral::mcp::types as wit;
use crate::bindings::exports::corral::mcp::{prompts, resources, tasks, tools};
use crate::error::GuestError;
use crate::model::*;

pub(crate) fn guest_error(error: wit::Error) -> GuestError {
    match error {
        wit::Error::InvalidParams(m) => GuestError::InvalidParams(m),
        wit::Error::NotFound(m) => GuestError::NotFound(m),
        wit::Error::ToolError(m) => GuestError::ToolError(m),
        wit::Error::Internal(m) => GuestError::Internal(m),
    }
}

fn icons(icons: Vec<wit::Icon>) -> Vec<Icon> {
    icons
        .into_iter()
        .map(|i| Icon {
            src: i.src,
            mime_type: i.mime_type,
            sizes: i.sizes,
        })
        .collect()
}

fn schema(what: &str, text: &str) -> Result<Arc<JsonObject>, String> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(Arc::new(map)),
        Ok(_) => Err(format!("{what} is not a JSON object")),
        Err(e) => Err(format!("{what} is not valid JSON: {e}")),
    }
}

/// The task support of each tool the `tasks` export names: every name must
/// be a listed tool, and named once.
pub(crate) fn task_support(
    entries: &[tasks::ToolTaskSupport],
    tools: &[tools::Tool],
) -> Result<std::collections::HashMap<String, TaskSupport>, String> {
    let mut support = std::collections::HashMap::with_capacity(entries.len());
    for entry in entries {
        if !tools.iter().any(|t| t.name == entry.tool) {
            return Err(format!(
                "gives the task support of `{}`, which is not one of its tools",
                crate::units::printable(&crate::units::truncate(entry.tool.clone(), 64))
            ));
        }
        let value = match entry.support {
            tasks::TaskSupport::Forbidden => TaskSupport::Forbidden,
            tasks::TaskSupport::Optional => TaskSupport::Optional,
            tasks::TaskSupport::Required => TaskSupport::Required,
        };
        if support.insert(entry.tool.clone(), value).is_some() {
            return Err(format!(
                "gives the task support of tool `{}` twice",
                entry.tool
            ));
        }
    }
    Ok(support)
}

pub(crate) fn tool(
    t: tools::Tool,
    support: &std::collections::HashMap<String, TaskSupport>,
) -> Result<ToolDef, String> {
    let input_schema = schema(&format!("tool `{}`: input schema", t.name), &t.input_schema)?;
    if input_schema.get("type").and_then(Value::as_str) != Some("object") {
        return Err(format!(
            "tool `{}`: input schema must have \"type\": \"object\"",
            t.name
        ));
    }
    let output_schema = t
        .output_schema
        .map(|s| schema(&format!("tool `{}`: output schema", t.name), &s))
        .transpose()?;
    Ok(ToolDef {
        input_schema,
        output_schema,
        title: t.title,
        description: t.description,
        annotations: t.annotations.map(|a| ToolAnnotations {
            read_only: a.read_only,
            destructive: a.destructive,
            idempotent: a.idempotent,
            open_world: a.open_world,
        }),
        tags: t.tags,
        icons: icons(t.icons),
        task_support: support.get(&t.name).copied().unwrap_or_default(),
        name: t.name,
    })
}

pub(crate) fn resource(r: resources::ResourceInfo) -> ResourceDef {
    ResourceDef {
        uri: r.uri,
        name: r.name,
        title: r.title,
        description: r.description,
        mime_type: r.mime_type,
        size: r.size,
        tags: r.tags,
        icons: icons(r.icons),
    }
}

pub(crate) fn template(t: resources::ResourceTemplate) -> TemplateDef {
    TemplateDef {
        uri_template: t.uri_template,
        name: t.name,
        title: t.title,
        description: t.description,
        mime_type: t.mime_type,
        tags: t.tags,
        icons: icons(t.icons),
    }
}

pub(crate) fn prompt(p: prompts::Prompt) -> PromptDef {
    PromptDef {
        name: p.name,
        title: p.title,
        description: p.description,
        arguments: p
            .arguments
            .into_iter()
            .map(|a| PromptArgument {
                name: a.name,
                description: a.description,
                required: a.required,
            })
            .collect(),
        tags: p.tags,
        icons: icons(p.icons),
    }
}

fn contents(c: wit::ResourceContents) -> ResourceContents {
    ResourceContents {
        uri: c.uri,
        mime_type: c.mime_type,
        body: match c.body {
            wit::ResourceBody::Text(t) => ResourceBody::Text(t),
            wit::ResourceBody::Blob(b) => ResourceBody::Blob(b),
        },
    }
}

fn content(c: wit::Content) -> Content {
    match c {
        wit::Content::Text(t) => Content::Text(t),
        wit::Content::Image(b) => Content::Image {
            data: b.data,
            mime_type: b.mime_type,
        },
        wit::Content::Audio(b) => Content::Audio {
            data: b.data,
            mime_type: b.mime_type,
        },
        wit::Content::Link(l) => Content::Link(ResourceLink {
            uri: l.uri,
            name: l.name,
            description: l.description,
            mime_type: l.mime_type,
        }),
        wit::Content::Embedded(c) => Content::Embedded(contents(c)),
    }
}

fn message(m: wit::PromptMessage) -> PromptMessage {
    PromptMessage {
        role: match m.role {
            wit::Role::User => Role::User,
            wit::Role::Assistant => Role::Assistant,
        },
        content: content(m.content),
    }
}

fn input_required(r: wit::InputRequired) -> Result<InputRequired, String> {
    let mut requests = Vec::with_capacity(r.requests.len());
    for (key, request) in r.requests {
        let request = match request {
            wit::InputRequest::Elicit(e) => InputRequest::Elicit {
                message: e.message,
                requested_schema: serde_json::from_str(&e.requested_schema)
                    .map_err(|e| format!("input request `{key}`: schema is not JSON: {e}"))?,
            },
            wit::InputRequest::Sample(s) => InputRequest::Sample {
                messages: s.messages.into_iter().map(message).collect(),
                max_tokens: s.max_tokens,
                system_prompt: s.system_prompt,
            },
            wit::InputRequest::Roots => InputRequest::Roots,
        };
        requests.push((key, request));
    }
    Ok(InputRequired {
        requests,
        state: r.state,
    })
}

pub(crate) fn input(i: &Input) -> wit::Input {
    wit::Input {
        responses: i
            .responses
            .iter()
            .map(|(k, v)| (k.clone(), v.to_string()))
            .collect(),
        state: i.state.clone(),
    }
}

pub(crate) fn tool_outcome(o: tools::Outcome) -> Result<Outcome<ToolResult>, String> {
    match o {
        tools::Outcome::Complete(r) => {
            let structured = r
                .structured
                .map(|s| {
                    serde_json::from_str::<Value>(&s)
                        .map_err(|e| format!("structured result is not valid JSON: {e}"))
                })
                .transpose()?;
            Ok(Outcome::Complete(ToolResult {
                content: r.content.into_iter().map(content).collect(),
                structured,
                is_error: r.is_error,
            }))
        }
        tools::Outcome::NeedsInput(r) => Ok(Outcome::NeedsInput(input_required(r)?)),
    }
}

pub(crate) fn read_outcome(
    o: resources::ReadOutcome,
) -> Result<Outcome<Vec<ResourceContents>>, String> {
    match o {
        resources::ReadOutcome::Complete(c) => {
            Ok(Outcome::Complete(c.into_iter().map(contents).collect()))
        }
        resources::ReadOutcome::NeedsInput(r) => Ok(Outcome::NeedsInput(input_required(r)?)),
    }
}

pub(crate) fn get_outcome(o: prompts::GetOutcome) -> Result<Outcome<PromptResult>, String> {
    match o {
        prompts::GetOutcome::Complete(r) => Ok(Outcome::Complete(PromptResult {
            description: r.description,
            messages: r.messages.into_iter().map(message).collect(),
        })),
        prompts::GetOutcome::NeedsInput(r) => Ok(Outcome::NeedsInput(input_required(r)?)),
    }
}
