//! # corral-sdk: Corral MCP plugins in Rust
//!
//! A Corral plugin is a WebAssembly component exporting the `corral:mcp`
//! world. With this crate you write plain functions, mark them, and list them
//! in one [`export!`]:
//!
//! ```
//! use corral_sdk::prelude::*;
//!
//! /// Multiply two numbers.
//! ///
//! /// # Arguments
//! /// * `a` - The first factor
//! /// * `b` - The second factor
//! #[tool]
//! fn multiply(a: f64, b: f64) -> f64 {
//!     a * b
//! }
//!
//! /// Divide `a` by `b`.
//! #[tool(tags = ["math"], annotations(read_only = true, idempotent = true))]
//! fn divide(a: f64, b: f64) -> Result<f64, ToolError> {
//!     if b == 0.0 {
//!         return Err(ToolError::new("Division by zero is not allowed"));
//!     }
//!     Ok(a / b)
//! }
//!
//! corral_sdk::export!(tools: [multiply, divide]);
//! ```
//!
//! Build it as a component: the crate is a `cdylib`, and
//! `cargo build --release --target wasm32-wasip2` writes
//! `target/wasm32-wasip2/release/<crate>.wasm`, ready for the host.
//!
//! ## Tools: `#[tool]`
//!
//! * The input schema comes from the parameters: each type implements
//!   [`Schema`] (numbers, `bool`, `String`, `Vec<T>`, `Option<T>`, maps with
//!   `String` keys, `serde_json::Value`, and your own types with
//!   `#[derive(Schema, Deserialize)]`). `Option<T>` parameters are optional;
//!   `#[default(EXPR)] limit: u32` gives a default.
//! * The doc comment is the description; the items of its `# Arguments`
//!   section (`` * `name` - text `` or `` - `name`: text ``) describe the
//!   parameters.
//! * Options: `name = "..."`, `title = "..."`, `description = "..."`,
//!   `tags = ["..."]`, `annotations(read_only, destructive, idempotent,
//!   open_world)` (each `= true/false`, bare means `true`).
//! * The return type implements [`IntoToolResult`]: `String` is text;
//!   numbers, `bool`, `Vec<T>`, maps and derived types are structured content
//!   (non-objects wrapped as `{"result": ...}`); [`ToolResult`] or
//!   `Vec<Content>` give full control; `Result<T, ToolError>` reports errors.
//! * Missing, mistyped and unknown arguments are `invalid-params` errors.
//!
//! ## Resources: `#[resource("uri", ...)]`
//!
//! ```
//! use corral_sdk::prelude::*;
//!
//! /// Application configuration.
//! #[resource("data://config", mime_type = "application/json")]
//! fn get_config() -> Value {
//!     json!({"theme": "dark", "version": "1.0"})
//! }
//!
//! /// A user's profile.
//! #[resource("users://{user_id}/profile")]
//! fn get_user_profile(user_id: u32) -> Value {
//!     json!({"id": user_id, "name": format!("User {user_id}"), "status": "active"})
//! }
//!
//! corral_sdk::export!(resources: [get_config, get_user_profile]);
//! ```
//!
//! A URI with `{var}` (or `{var*}`, which may span `/`) is a template; each
//! parameter must be one of its variables, parsed from the matched string.
//! Options: `name`, `title`, `description`, `mime_type`, `tags`. `String`
//! returns text, `Vec<u8>` a blob, JSON values and derived types JSON text.
//!
//! ## Prompts: `#[prompt]`
//!
//! ```
//! use corral_sdk::prelude::*;
//!
//! /// Creates a prompt asking for analysis of numerical data.
//! #[prompt]
//! fn analyze_data(data_points: Vec<f64>) -> String {
//!     let formatted = data_points.iter().map(|p| p.to_string()).collect::<Vec<_>>().join(", ");
//!     format!("Please analyze these data points: {formatted}")
//! }
//!
//! corral_sdk::export!(prompts: [analyze_data]);
//! ```
//!
//! Arguments arrive as strings: `String` parameters take them as they are,
//! others parse them as JSON (`"[1, 2, 3]"`). Return a `String` (one user
//! message), a [`Message`] or `Vec<Message>`. Options: `name`, `title`,
//! `description`, `tags`.
//!
//! ## `export!`
//!
//! `corral_sdk::export!(tools: [..], resources: [..], prompts: [..], completions: f);`
//! with every part optional (in this order). The component always exports all
//! four interfaces; the unused ones list nothing. `completions` names a
//! `fn(&CompletionRef, &str, &str) -> Vec<String>`.
//!
//! ## During a call
//!
//! [`context`] logs to the client, reports progress and tells whether the
//! call was cancelled.

extern crate self as corral_sdk;

#[allow(missing_docs, clippy::all)]
pub mod bindings {
    //! The raw WIT bindings (`corral:mcp/mcp-component`).
    wit_bindgen::generate!({
        path: "../../wit",
        world: "corral:mcp/mcp-component",
        pub_export_macro: true,
        export_macro_name: "__export_component",
        default_bindings_module: "corral_sdk::bindings",
        additional_derives: [PartialEq],
    });
}

mod args;
pub mod context;
mod output;
mod plugin;
mod schema;
pub mod template;

pub use bindings::corral::mcp::types::{
    Blob, Content, Error, Input, InputRequired, PromptMessage, ResourceBody, ResourceContents,
    ResourceLink, Role,
};
pub use bindings::exports::corral::mcp::completions::Reference as CompletionRef;
pub use bindings::exports::corral::mcp::prompts::{Prompt, PromptArgument, PromptResult};
pub use bindings::exports::corral::mcp::resources::{ResourceInfo, ResourceTemplate};
pub use bindings::exports::corral::mcp::tools::{Annotations, Tool, ToolResult};
pub use corral_sdk_macros::{Schema, prompt, resource, tool};
pub use output::{
    IntoError, IntoMessages, IntoResourceContents, IntoToolResult, Message, ToolError,
};
pub use schema::{Schema, StructuredOutput};
pub use serde;
pub use serde_json;

/// Everything a plugin usually needs: `use corral_sdk::prelude::*;`.
pub mod prelude {
    pub use crate::context;
    pub use crate::{
        Content, Error, Message, Schema, ToolError, ToolResult, prompt, resource, tool,
    };
    pub use serde::{Deserialize, Serialize};
    pub use serde_json::{Value, json};
}

#[doc(hidden)]
pub mod __private {
    pub use crate::plugin::*;
    pub use serde_json;
}

/// Exports the plugin: `export!(tools: [..], resources: [..], prompts: [..], completions: f)`.
///
/// Every part is optional but they come in this order. Use it once per
/// plugin, at the crate's top level.
#[macro_export]
macro_rules! export {
    (
        $(tools: [$($tool:path),* $(,)?] $(,)?)?
        $(resources: [$($resource:path),* $(,)?] $(,)?)?
        $(prompts: [$($prompt:path),* $(,)?] $(,)?)?
        $(completions: $complete:path $(,)?)?
    ) => {
        const _: () = {
            struct __CorralPlugin;

            impl $crate::__private::Plugin for __CorralPlugin {
                const TOOLS: &'static [$crate::__private::ToolEntry] = &[
                    $($($crate::__private::ToolEntry::of::<$tool>(),)*)?
                ];
                const RESOURCES: &'static [$crate::__private::ResourceEntry] = &[
                    $($($crate::__private::ResourceEntry::of::<$resource>(),)*)?
                ];
                const PROMPTS: &'static [$crate::__private::PromptEntry] = &[
                    $($($crate::__private::PromptEntry::of::<$prompt>(),)*)?
                ];
                $(
                    const COMPLETE: ::core::option::Option<$crate::__private::CompleteFn> =
                        ::core::option::Option::Some($complete);
                )?
            }

            // The C ABI exports exist only in the component (native linkers
            // reject their names); natively the tables are still checked.
            #[cfg(target_arch = "wasm32")]
            $crate::bindings::__export_component!(__CorralPlugin with_types_in $crate::bindings);

            // Keeps the handlers "used" in native builds too.
            let _ = $crate::__private::tables::<__CorralPlugin>();
        };
    };
}
