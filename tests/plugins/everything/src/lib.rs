//! A plugin that exports tools, resources and prompts, for testing the host.

use corral_sdk::prelude::*;

/// Greets someone.
///
/// # Arguments
/// * `name` - Who to greet
/// * `greeting` - The greeting word
#[tool]
fn greet(name: String, #[default("Hello".to_string())] greeting: String) -> String {
    format!("{greeting}, {name}!")
}

/// Statistics of a list of numbers.
#[derive(Schema, Serialize, Deserialize)]
struct Stats {
    /// How many numbers
    count: usize,
    /// Their sum
    sum: f64,
    /// Their mean, absent for an empty list
    mean: Option<f64>,
}

/// Computes statistics of `numbers` (structured output).
///
/// # Arguments
/// * `numbers` - The numbers
#[tool(annotations(read_only = true))]
fn stats(numbers: Vec<f64>) -> Stats {
    let sum: f64 = numbers.iter().sum();
    let count = numbers.len();
    Stats {
        count,
        sum,
        mean: (count > 0).then(|| sum / count as f64),
    }
}

/// A 1x1 red pixel, as PNG.
const RED_PIXEL_PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00, 0x00, 0x90, 0x77, 0x53,
    0xde, 0x00, 0x00, 0x00, 0x0c, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0x00,
    0x00, 0x03, 0x01, 0x01, 0x00, 0xc9, 0xfe, 0x92, 0xef, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e,
    0x44, 0xae, 0x42, 0x60, 0x82,
];

/// Returns a 1x1 red PNG image.
#[tool(title = "Red pixel")]
fn red_pixel() -> ToolResult {
    ToolResult::new(vec![
        Content::image(RED_PIXEL_PNG, "image/png"),
        Content::text("a 1x1 red pixel"),
    ])
}

/// What this plugin is.
#[resource("memo://readme", name = "readme")]
fn readme() -> String {
    "This plugin exports tools, resources and prompts.".into()
}

/// A file, by name.
#[resource("files://{name}", mime_type = "text/plain")]
fn file(name: String) -> Result<String, ToolError> {
    if name == "missing" {
        return Err(ToolError::new("no such file: missing"));
    }
    Ok(format!("contents of {name}"))
}

/// A page of the docs, at any depth, in a language, with an optional line limit.
#[resource("docs://{+path}{?lang,limit}", mime_type = "text/plain")]
fn doc(path: String, #[default("en".to_owned())] lang: String, limit: Option<u32>) -> String {
    match limit {
        Some(n) => format!("{path} [{lang}] first {n} lines"),
        None => format!("{path} [{lang}]"),
    }
}

/// Asks for a code review.
///
/// # Arguments
/// * `code` - The code to review
/// * `language` - The programming language, if known
#[prompt(tags = ["code"])]
fn review_code(code: String, language: Option<String>) -> Vec<Message> {
    let language = language.as_deref().unwrap_or("unknown language");
    vec![
        Message::user(format!("Please review this {language} code:\n\n{code}")),
        Message::assistant("I'll review it for correctness and style."),
    ]
}

corral_sdk::export!(
    tools: [greet, stats, red_pixel],
    resources: [readme, file, doc],
    prompts: [review_code],
);
