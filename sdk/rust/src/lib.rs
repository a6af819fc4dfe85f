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
//!   open_world)` (each `= true/false`, bare means `true`), and
//!   `input_schema = EXPR` (a `serde_json::Value` replacing the generated
//!   schema, for keywords the parameters cannot express; arguments are still
//!   read by parameter name, so keep the two in step), and `task =
//!   "optional"` or `"required"` (the tool may run as an MCP task: a client
//!   that supports tasks gets a task id for a call that takes a while and
//!   polls for the result; `"required"` refuses clients that do not support
//!   tasks; the default is `"forbidden"`). A task's call is an ordinary call
//!   under the plugin's `task_timeout` instead of its `timeout`.
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
//!     json!({"theme": "dark", "version": "1.0", "features": ["analytics", "reporting"]})
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
//! A URI with variables is a template: `{var}` binds one path segment,
//! `{+var}` or `{var*}` any number of them, and `{?a,b}` optional query
//! parameters. Each function parameter must be one of its variables, parsed
//! from the matched string; a query variable's parameter must be an
//! `Option` or have a `#[default(...)]`, since a URI may leave it out:
//!
//! ```
//! use corral_sdk::prelude::*;
//!
//! /// A file of the docs, optionally in one language.
//! #[resource("docs://{+path}{?lang}")]
//! fn doc(path: String, #[default("en".to_owned())] lang: String) -> String {
//!     format!("{path} in {lang}")
//! }
//!
//! corral_sdk::export!(resources: [doc]);
//! ```
//!
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
//! ## Asking the client: elicitation, sampling, roots
//!
//! Calls are stateless, so a handler does not wait for the client: it
//! returns a request for input, and the host calls it again with the
//! answers. Give the function a `ctx: &Call` parameter (it is not an
//! argument and not in the schema) and return `Result<T, InputRequired>`:
//! [`Call::elicit`], [`Call::sample`] and [`Call::roots`] give the answer if
//! the client sent it, else the request asking for it, so `?` does the rest.
//!
//! ```
//! use corral_sdk::prelude::*;
//!
//! /// Books a table, asking who for and checking the client's roots.
//! #[tool]
//! fn book(ctx: &Call, seats: u8) -> Result<String, Interrupt> {
//!     if seats == 0 {
//!         return Err(ToolError::new("at least one seat").into());
//!     }
//!     // Everything missing is asked for in one round.
//!     let (who, roots) = (
//!         ctx.elicit("who", "Whose name is the booking in?",
//!             json!({"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]})),
//!         ctx.roots("roots"),
//!     )
//!         .gather()?;
//!     let Some(name) = who.get::<String>("name") else {
//!         return Ok("Booking cancelled.".into()); // declined or cancelled
//!     };
//!     Ok(format!("{seats} seats for {name} ({} roots)", roots.len()))
//! }
//!
//! /// Summarises `text` with the client's model.
//! #[tool]
//! fn summarise(ctx: &Call, text: String) -> Result<String, InputRequired> {
//!     let answer = ctx.sample("summary", format!("Summarise: {text}"), 200)?;
//!     Ok(answer.text().unwrap_or("(no text)").to_owned())
//! }
//!
//! corral_sdk::export!(tools: [book, summarise]);
//! ```
//!
//! * The answers: [`ElicitResult`] (`accepted()`, `get::<T>("field")`,
//!   `content_as::<T>()`), [`SampleResult`] (`text()`), [`Root`]s.
//!   [`Call::response`] parses any answer by key; a missing or malformed
//!   answer is `None`, so the handler simply asks again.
//! * Build requests by hand with [`InputRequired::new`]`().elicit(..)
//!   .sample(..).roots(..).state(..)`; several at once go out in one round.
//! * Later rounds get only the answers to the latest round's requests. To
//!   remember earlier answers, put them in the `state`
//!   ([`InputRequired::state`], [`InputRequired::state_json`]) and read it
//!   back with [`Call::state`] / [`Call::state_json`]; the host protects it
//!   from tampering.
//! * Return types: `Result<T, InputRequired>`, `Result<T, Interrupt>` (may
//!   also fail; `?` converts [`ToolError`], [`Error`], messages) or
//!   [`Outcome<T>`]. Resources and prompts take `ctx: &Call` the same way.
//! * In unit tests, call the handler's `call_with(args, &call)` (or
//!   `read_with` / `get_with`) with [`Call::default`] or [`Call::answering`].
//!
//! ## `export!`
//!
//! `corral_sdk::export!(tools: [..], resources: [..], prompts: [..], completions: f);`
//! with every part optional (in this order). The component always exports all
//! four interfaces; the unused ones list nothing. `completions` names a
//! `fn(&CompletionRef, &str, &str) -> Vec<String>` (reference, argument
//! name, partial value) returning suggestions for `completion/complete`:
//!
//! ```
//! use corral_sdk::CompletionRef;
//! use corral_sdk::prelude::*;
//!
//! /// Plans a trip.
//! #[prompt]
//! fn trip(city: String) -> String {
//!     format!("Plan a trip to {city}")
//! }
//!
//! fn complete(reference: &CompletionRef, argument: &str, value: &str) -> Vec<String> {
//!     match (reference, argument) {
//!         (CompletionRef::Prompt(p), "city") if p == "trip" => ["Paris", "Porto", "Prague"]
//!             .into_iter()
//!             .filter(|c| c.to_lowercase().starts_with(&value.to_lowercase()))
//!             .map(String::from)
//!             .collect(),
//!         _ => Vec::new(),
//!     }
//! }
//!
//! corral_sdk::export!(prompts: [trip], completions: complete);
//! ```
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
        world: "corral:mcp/full",
        pub_export_macro: true,
        export_macro_name: "__export_component",
        default_bindings_module: "corral_sdk::bindings",
        additional_derives: [PartialEq],
    });
}

mod args;
pub mod context;
pub mod input;
mod output;
mod plugin;
mod schema;
/// URI template parsing and matching, shared with the host.
pub use corral_uri_template as template;

pub use bindings::corral::mcp::types::{
    Blob, Content, ElicitRequest, Error, Input, InputRequest, InputRequired, PromptMessage,
    ResourceBody, ResourceContents, ResourceLink, Role, SampleRequest,
};
pub use bindings::exports::corral::mcp::completions::Reference as CompletionRef;
pub use bindings::exports::corral::mcp::prompts::{Prompt, PromptArgument, PromptResult};
pub use bindings::exports::corral::mcp::resources::{ResourceInfo, ResourceTemplate};
pub use bindings::exports::corral::mcp::tasks::TaskSupport;
pub use bindings::exports::corral::mcp::tools::{Annotations, Tool, ToolResult};
pub use corral_sdk_macros::{Schema, prompt, resource, tool};
pub use input::{
    Call, ElicitAction, ElicitResult, Gather, Interrupt, IntoInterrupt, Outcome, Root, RootsResult,
    SampleResult,
};
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
        Call, Content, ElicitResult, Error, Gather, InputRequired, Interrupt, Message, Outcome,
        SampleResult, Schema, ToolError, ToolResult, prompt, resource, tool,
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
/// `completions` names a `fn(&CompletionRef, &str, &str) -> Vec<String>`.
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
