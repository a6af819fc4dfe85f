//! The size of a guest's answer as it goes out on the wire, counted against
//! the call's output cap before the host converts (or forwards) any of it.
//!
//! Everything a call returns counts: content and structured results, the
//! text of errors, the requests it makes of the client (elicitation message
//! and schema, sampling messages), its sealed state, links' descriptions and
//! MIME types, and every item, empty or not ([`ITEM_BYTES`] each). Strings
//! count as JSON strings (quotes and escapes included), binary data as
//! base64.

use crate::bindings::corral::mcp::types as wit;
use crate::bindings::exports::corral::mcp::{prompts, resources, tools};

/// What one item (a content block, a message, a request, a list entry)
/// costs on the wire beyond its strings: braces, keys and separators.
pub const ITEM_BYTES: u64 = 32;

/// Bytes a value takes in the JSON the client receives (an upper estimate
/// for keys and punctuation, exact for strings and data).
pub(crate) trait WireSize {
    fn wire_size(&self) -> u64;
}

/// A JSON string: quotes, and escapes for `"`, `\` and control characters.
fn string(text: &str) -> u64 {
    let escapes: u64 = text
        .bytes()
        .map(|b| match b {
            b'"' | b'\\' => 1,
            0..0x20 => 5,
            _ => 0,
        })
        .sum();
    2 + text.len() as u64 + escapes
}

fn base64(data: &[u8]) -> u64 {
    2 + (data.len() as u64).div_ceil(3) * 4
}

impl WireSize for String {
    fn wire_size(&self) -> u64 {
        string(self)
    }
}

impl<T: WireSize> WireSize for Option<T> {
    fn wire_size(&self) -> u64 {
        self.as_ref().map_or(0, WireSize::wire_size)
    }
}

impl<T: WireSize> WireSize for Vec<T> {
    fn wire_size(&self) -> u64 {
        self.iter().map(|item| ITEM_BYTES + item.wire_size()).sum()
    }
}

impl<A: WireSize, B: WireSize> WireSize for (A, B) {
    fn wire_size(&self) -> u64 {
        self.0.wire_size() + self.1.wire_size()
    }
}

impl<T: WireSize, E: WireSize> WireSize for Result<T, E> {
    fn wire_size(&self) -> u64 {
        match self {
            Ok(value) => value.wire_size(),
            Err(error) => error.wire_size(),
        }
    }
}

impl WireSize for wit::Error {
    fn wire_size(&self) -> u64 {
        match self {
            wit::Error::InvalidParams(m)
            | wit::Error::NotFound(m)
            | wit::Error::ToolError(m)
            | wit::Error::Internal(m) => string(m),
        }
    }
}

impl WireSize for wit::ResourceContents {
    fn wire_size(&self) -> u64 {
        ITEM_BYTES
            + string(&self.uri)
            + self.mime_type.wire_size()
            + match &self.body {
                wit::ResourceBody::Text(t) => string(t),
                wit::ResourceBody::Blob(b) => base64(b),
            }
    }
}

impl WireSize for wit::Content {
    fn wire_size(&self) -> u64 {
        match self {
            wit::Content::Text(t) => string(t),
            wit::Content::Image(b) | wit::Content::Audio(b) => {
                base64(&b.data) + string(&b.mime_type)
            }
            wit::Content::Link(l) => {
                string(&l.uri)
                    + string(&l.name)
                    + l.description.wire_size()
                    + l.mime_type.wire_size()
            }
            wit::Content::Embedded(c) => c.wire_size(),
        }
    }
}

impl WireSize for wit::PromptMessage {
    fn wire_size(&self) -> u64 {
        self.content.wire_size()
    }
}

impl WireSize for wit::InputRequest {
    fn wire_size(&self) -> u64 {
        match self {
            wit::InputRequest::Elicit(e) => string(&e.message) + e.requested_schema.len() as u64,
            wit::InputRequest::Sample(s) => s.messages.wire_size() + s.system_prompt.wire_size(),
            wit::InputRequest::Roots => 0,
        }
    }
}

impl WireSize for wit::InputRequired {
    fn wire_size(&self) -> u64 {
        self.requests.wire_size() + self.state.wire_size()
    }
}

impl WireSize for tools::Outcome {
    fn wire_size(&self) -> u64 {
        match self {
            // Structured results are JSON already: their text is their size.
            tools::Outcome::Complete(r) => {
                r.content.wire_size() + r.structured.as_ref().map_or(0, |s| s.len() as u64)
            }
            tools::Outcome::NeedsInput(r) => r.wire_size(),
        }
    }
}

impl WireSize for resources::ReadOutcome {
    fn wire_size(&self) -> u64 {
        match self {
            resources::ReadOutcome::Complete(c) => c.wire_size(),
            resources::ReadOutcome::NeedsInput(r) => r.wire_size(),
        }
    }
}

impl WireSize for prompts::GetOutcome {
    fn wire_size(&self) -> u64 {
        match self {
            prompts::GetOutcome::Complete(r) => r.description.wire_size() + r.messages.wire_size(),
            prompts::GetOutcome::NeedsInput(r) => r.wire_size(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_count_as_json_and_data_as_base64() {
        assert_eq!(string("abc"), 5);
        assert_eq!(string("a\"b"), 6);
        assert_eq!(string("\u{1}"), 8);
        assert_eq!(base64(&[0; 3]), 6);
        assert_eq!(base64(&[0; 4]), 10);
    }

    #[test]
    fn everything_a_call_returns_counts() {
        let elicit = tools::Outcome::NeedsInput(wit::InputRequired {
            requests: vec![(
                "q".into(),
                wit::InputRequest::Elicit(wit::ElicitRequest {
                    message: "m".repeat(1000),
                    requested_schema: "{}".into(),
                }),
            )],
            state: None,
        });
        assert!(elicit.wire_size() > 1000);
        let empties = tools::Outcome::Complete(tools::ToolResult {
            content: vec![wit::Content::Text(String::new()); 1000],
            structured: None,
            is_error: false,
        });
        assert!(empties.wire_size() >= 1000 * ITEM_BYTES);
        let link = wit::Content::Link(wit::ResourceLink {
            uri: "u".into(),
            name: "n".into(),
            description: Some("d".repeat(500)),
            mime_type: Some("t".repeat(500)),
        });
        assert!(link.wire_size() > 1000);
        let error: Result<tools::Outcome, wit::Error> = Err(wit::Error::ToolError("e".repeat(99)));
        assert_eq!(error.wire_size(), 101);
    }
}
