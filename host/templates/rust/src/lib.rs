//! __NAME__: a Corral plugin written in Rust with `corral-sdk`.
//!
//! One tool (`greet`), one resource (`__NAME__://about`) and one prompt
//! (`review`). The SDK derives each tool's input schema from its signature
//! and the `# Arguments` section of its doc comment. Every call runs in a
//! fresh sandboxed instance: keep no state between calls.

use corral_sdk::prelude::*;

/// Say hello to someone.
///
/// # Arguments
/// * `name` - Who to greet
#[tool]
fn greet(name: String) -> String {
    format!("Hello, {name}!")
}

/// What this plugin is.
#[resource("__NAME__://about", mime_type = "text/plain")]
fn about() -> String {
    "__NAME__ is a Corral plugin written in Rust.".to_owned()
}

/// A code review request.
///
/// # Arguments
/// * `code` - The code to review
#[prompt]
fn review(code: String) -> String {
    format!("Please review this code:\n\n{code}")
}

corral_sdk::export!(
    tools: [greet],
    resources: [about],
    prompts: [review],
);
