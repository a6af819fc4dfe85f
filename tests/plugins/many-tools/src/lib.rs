//! A plugin with 10,000 tools (`tool_0` ... `tool_9999`), for the listing
//! benchmark. Written against the WIT directly (world `tool-provider`),
//! without the SDK, since its tools are generated rather than declared.

wit_bindgen::generate!({
    path: "../../../wit",
    world: "corral:mcp/tool-provider",
});

use corral::mcp::types::{Content, Error, Input};
use exports::corral::mcp::tools::{Guest, Outcome, Tool, ToolResult};

/// How many tools this plugin lists.
const TOOLS: usize = 10_000;

struct ManyTools;

impl Guest for ManyTools {
    fn list_tools() -> Vec<Tool> {
        (0..TOOLS)
            .map(|i| Tool {
                name: format!("tool_{i}"),
                title: None,
                description: Some(format!("Tool number {i}: echoes its number.")),
                input_schema: r#"{"type":"object","properties":{"x":{"type":"number"}}}"#
                    .to_owned(),
                output_schema: None,
                annotations: None,
                tags: Vec::new(),
                icons: Vec::new(),
            })
            .collect()
    }

    fn call_tool(
        name: String,
        _arguments: String,
        _input: Option<Input>,
    ) -> Result<Outcome, Error> {
        let Some(number) = name.strip_prefix("tool_") else {
            return Err(Error::NotFound(format!("unknown tool `{name}`")));
        };
        Ok(Outcome::Complete(ToolResult {
            content: vec![Content::Text(number.to_owned())],
            structured: None,
            is_error: false,
        }))
    }
}

export!(ManyTools);
