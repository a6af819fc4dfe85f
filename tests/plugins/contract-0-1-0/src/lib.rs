//! A plugin built against the first published contract, `corral:mcp@0.1.0`
//! (a frozen copy in `wit/`, world `tool-provider`): the host must keep
//! loading and calling components like it as the contract grows (see
//! `wit/README.md`). One tool, `echo`.

wit_bindgen::generate!({
    path: "wit",
    world: "corral:mcp/tool-provider",
});

use corral::mcp::context::{self, LogLevel};
use corral::mcp::types::{Content, Error, Input};
use exports::corral::mcp::tools::{Guest, Outcome, Tool, ToolResult};

struct Contract010;

impl Guest for Contract010 {
    fn list_tools() -> Vec<Tool> {
        vec![Tool {
            name: "echo".into(),
            title: None,
            description: Some("Echoes `text`, built against corral:mcp@0.1.0.".into()),
            input_schema:
                r#"{"type":"object","properties":{"text":{"type":"string"}},"required":["text"]}"#
                    .into(),
            output_schema: None,
            annotations: None,
            tags: Vec::new(),
            icons: Vec::new(),
        }]
    }

    fn call_tool(name: String, arguments: String, _input: Option<Input>) -> Result<Outcome, Error> {
        if name != "echo" {
            return Err(Error::NotFound(name));
        }
        context::log(LogLevel::Info, "echo called");
        let text = arguments
            .split("\"text\":\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or_default()
            .to_owned();
        Ok(Outcome::Complete(ToolResult {
            content: vec![Content::Text(format!("0.1.0 says: {text}"))],
            structured: None,
            is_error: false,
        }))
    }
}

export!(Contract010);
