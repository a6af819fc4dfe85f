//! The attribute macros and the dispatch, run natively.

use std::collections::HashMap;

use corral_sdk::__private::{
    Plugin, PromptEntry, PromptHandler, ResourceEntry, ResourceHandler, ToolEntry, ToolHandler,
};
use corral_sdk::bindings::exports::corral::mcp::{prompts, resources, tools};
use corral_sdk::prelude::*;
use corral_sdk::{ResourceBody, Role};

fn json_of(s: &str) -> Value {
    serde_json::from_str(s).unwrap()
}

fn invalid(e: Error) -> String {
    match e {
        Error::InvalidParams(m) => m,
        other => panic!("expected invalid-params, got {other:?}"),
    }
}

/// Multiply two numbers.
///
/// # Arguments
/// * `a` - The first factor
/// * `b` - The second factor
#[tool]
fn multiply(a: f64, b: f64) -> f64 {
    a * b
}

/// Divide `a` by `b`.
#[tool(tags = ["math"], annotations(read_only = true, idempotent = true))]
fn divide(a: f64, b: f64) -> Result<f64, ToolError> {
    if b == 0.0 {
        return Err(ToolError::new("Division by zero is not allowed"));
    }
    Ok(a / b)
}

/// Search things.
///
/// # Arguments
/// - `query`: What to look for
/// - `limit`: At most this many
#[tool(name = "find", title = "Find things")]
fn search(query: String, #[default(10)] limit: u32, tag: Option<String>) -> Vec<String> {
    (0..limit.min(3))
        .map(|i| format!("{query}-{i}-{}", tag.as_deref().unwrap_or("none")))
        .collect()
}

/// A point on a plane.
#[derive(Schema, Serialize, Deserialize, Debug, PartialEq)]
struct Point {
    /// Horizontal position
    x: f64,
    /// Vertical position
    y: f64,
    /// A name, if any
    label: Option<String>,
}

/// Colors.
#[derive(Schema, Serialize, Deserialize, Debug, Clone, Copy, PartialEq)]
#[serde(rename_all = "lowercase")]
enum Color {
    Red,
    Green,
}

#[tool(description = "Move a point")]
fn shift(p: Point, dx: f64, color: Color) -> Point {
    Point {
        x: p.x + dx,
        label: Some(format!("{color:?}")),
        ..p
    }
}

#[tool]
fn counts(words: Vec<String>) -> HashMap<String, usize> {
    let mut m = HashMap::new();
    for w in words {
        *m.entry(w).or_default() += 1;
    }
    m
}

#[tool]
fn hello() -> &'static str {
    "hello"
}

#[tool]
fn nothing() {}

#[tool]
fn picture() -> ToolResult {
    ToolResult::new(vec![Content::image(vec![1, 2, 3], "image/png")])
}

#[test]
fn tool_definitions() {
    let d = multiply::definition();
    assert_eq!(d.name, "multiply");
    assert_eq!(d.description.as_deref(), Some("Multiply two numbers."));
    assert_eq!(
        json_of(&d.input_schema),
        json!({
            "type": "object",
            "properties": {
                "a": {"type": "number", "description": "The first factor"},
                "b": {"type": "number", "description": "The second factor"},
            },
            "required": ["a", "b"],
            "additionalProperties": false,
        })
    );
    assert_eq!(
        json_of(d.output_schema.as_deref().unwrap()),
        json!({
            "type": "object",
            "properties": {"result": {"type": "number"}},
            "required": ["result"],
            "x-fastmcp-wrap-result": true,
        })
    );
    assert_eq!(d.annotations, None);
    assert!(d.tags.is_empty());

    let d = divide::definition();
    assert_eq!(d.tags, vec!["math".to_owned()]);
    let a = d.annotations.unwrap();
    assert_eq!(
        (a.read_only, a.destructive, a.idempotent, a.open_world),
        (Some(true), None, Some(true), None)
    );
    assert!(d.output_schema.is_some());

    let d = search::definition();
    assert_eq!(d.name, "find");
    assert_eq!(<search as ToolHandler>::NAME, "find");
    assert_eq!(d.title.as_deref(), Some("Find things"));
    assert_eq!(
        json_of(&d.input_schema),
        json!({
            "type": "object",
            "properties": {
                "query": {"type": "string", "description": "What to look for"},
                "limit": {"type": "integer", "minimum": 0, "description": "At most this many", "default": 10},
                "tag": {"type": ["string", "null"]},
            },
            "required": ["query"],
            "additionalProperties": false,
        })
    );

    let d = shift::definition();
    assert_eq!(d.description.as_deref(), Some("Move a point"));
    let schema = json_of(&d.input_schema);
    assert_eq!(
        schema["properties"]["p"],
        json!({
            "type": "object",
            "description": "A point on a plane.",
            "properties": {
                "x": {"type": "number", "description": "Horizontal position"},
                "y": {"type": "number", "description": "Vertical position"},
                "label": {"type": ["string", "null"], "description": "A name, if any"},
            },
            "required": ["x", "y"],
        })
    );
    assert_eq!(
        schema["properties"]["color"],
        json!({"type": "string", "description": "Colors.", "enum": ["red", "green"]})
    );
    // A struct is an object: its own schema is the output schema.
    assert_eq!(
        json_of(d.output_schema.as_deref().unwrap())["properties"]["x"]["type"],
        "number"
    );

    assert_eq!(hello::definition().output_schema, None);
    assert_eq!(nothing::definition().output_schema, None);
    assert_eq!(picture::definition().output_schema, None);
    assert_eq!(
        json_of(&hello::definition().input_schema),
        json!({"type": "object", "properties": {}, "additionalProperties": false})
    );
}

#[test]
fn tool_calls() {
    let r = multiply::call(r#"{"a": 2, "b": 3}"#).unwrap();
    assert_eq!(r.content, vec![Content::Text("6.0".into())]);
    assert_eq!(
        json_of(r.structured.as_deref().unwrap()),
        json!({"result": 6.0})
    );

    assert_eq!(
        divide::call(r#"{"a": 1, "b": 0}"#),
        Err(Error::ToolError("Division by zero is not allowed".into()))
    );
    assert_eq!(
        invalid(multiply::call(r#"{"a": 1, "b": "x"}"#).unwrap_err()),
        "argument `b`: invalid type: string \"x\", expected f64"
    );
    assert_eq!(
        invalid(multiply::call(r#"{"a": 1}"#).unwrap_err()),
        "missing required argument `b`"
    );
    assert_eq!(
        invalid(multiply::call(r#"{"a": 1, "b": 2, "c": 3}"#).unwrap_err()),
        "unknown argument `c`"
    );

    let r = search::call(r#"{"query": "q"}"#).unwrap();
    assert_eq!(
        json_of(r.structured.as_deref().unwrap()),
        json!({"result": ["q-0-none", "q-1-none", "q-2-none"]})
    );
    let r = search::call(r#"{"query": "q", "limit": 1, "tag": "t"}"#).unwrap();
    assert_eq!(
        json_of(r.structured.as_deref().unwrap()),
        json!({"result": ["q-0-t"]})
    );

    let r = shift::call(r#"{"p": {"x": 1, "y": 2}, "dx": 0.5, "color": "red"}"#).unwrap();
    assert_eq!(
        json_of(r.structured.as_deref().unwrap()),
        json!({"x": 1.5, "y": 2.0, "label": "Red"})
    );
    // Fields keep their declared order in the text.
    assert_eq!(
        r.content,
        vec![Content::Text(r#"{"x":1.5,"y":2.0,"label":"Red"}"#.into())]
    );
    assert_eq!(
        invalid(shift::call(r#"{"p": {"x": 1}, "dx": 0, "color": "red"}"#).unwrap_err()),
        "argument `p`: missing field `y`"
    );
    assert!(
        invalid(shift::call(r#"{"p": {"x": 1, "y": 1}, "dx": 0, "color": "blue"}"#).unwrap_err())
            .starts_with("argument `color`: unknown variant `blue`")
    );

    let r = counts::call(r#"{"words": ["a", "b", "a"]}"#).unwrap();
    assert_eq!(
        json_of(r.structured.as_deref().unwrap()),
        json!({"a": 2, "b": 1})
    );

    let r = hello::call("{}").unwrap();
    assert_eq!(r.content, vec![Content::Text("hello".into())]);
    assert_eq!(r.structured, None);
    assert!(nothing::call("").unwrap().content.is_empty());
    assert!(matches!(
        picture::call("{}").unwrap().content[0],
        Content::Image(_)
    ));
}

/// Application configuration.
#[resource("data://config", mime_type = "application/json")]
fn get_config() -> Value {
    json!({"theme": "dark", "version": "1.0"})
}

/// A user's profile.
#[resource("users://{user_id}/profile")]
fn get_user_profile(user_id: u32) -> Value {
    json!({"id": user_id, "name": format!("User {user_id}"), "status": "active"})
}

/// The readme.
#[resource("memo://readme", name = "readme", tags = ["docs"])]
fn readme() -> String {
    "Read me".into()
}

#[resource("files://{name}", title = "A file")]
fn file(name: String) -> Result<Vec<u8>, ToolError> {
    if name == "missing" {
        return Err(ToolError::new("no such file"));
    }
    Ok(name.into_bytes())
}

#[resource("points://{x}/{y}")]
fn point(x: f64, y: f64) -> Point {
    Point { x, y, label: None }
}

#[test]
fn resource_handlers() {
    assert_eq!(<get_config as ResourceHandler>::VARIABLES, &[] as &[&str]);
    assert_eq!(
        <get_user_profile as ResourceHandler>::VARIABLES,
        &["user_id"]
    );
    let d = get_config::describe();
    assert_eq!(d.name, "get_config");
    assert_eq!(d.description, Some("Application configuration."));
    assert_eq!(d.mime_type, Some("application/json"));
    assert_eq!(
        get_user_profile::describe().mime_type,
        Some("application/json")
    );
    assert_eq!(readme::describe().mime_type, Some("text/plain"));
    assert_eq!(readme::describe().name, "readme");
    assert_eq!(readme::describe().tags, &["docs"]);
    assert_eq!(file::describe().mime_type, Some("application/octet-stream"));
    assert_eq!(file::describe().title, Some("A file"));
}

/// Creates a prompt asking for analysis of numerical data.
///
/// # Arguments
/// * `data_points` - The numbers
#[prompt]
fn analyze_data(data_points: Vec<f64>) -> String {
    let formatted = data_points
        .iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    format!("Please analyze these data points: {formatted}")
}

#[prompt(name = "review", description = "Review code", tags = ["code"])]
fn review_code(code: String, language: Option<String>, #[default(1)] rounds: u8) -> Vec<Message> {
    vec![
        Message::user(format!(
            "Review this {} code ({rounds}): {code}",
            language.as_deref().unwrap_or("unknown")
        )),
        Message::assistant("Sure."),
    ]
}

#[test]
fn prompts() {
    let d = analyze_data::definition();
    assert_eq!(d.name, "analyze_data");
    assert_eq!(
        d.description.as_deref(),
        Some("Creates a prompt asking for analysis of numerical data.")
    );
    assert_eq!(d.arguments.len(), 1);
    assert_eq!(d.arguments[0].description.as_deref(), Some("The numbers"));
    assert!(d.arguments[0].required);

    let r = analyze_data::get(vec![("data_points".into(), "[1, 2, 3.5]".into())]).unwrap();
    assert_eq!(r.messages.len(), 1);
    assert_eq!(r.messages[0].role, Role::User);
    assert_eq!(
        r.messages[0].content,
        Content::Text("Please analyze these data points: 1, 2, 3.5".into())
    );
    assert_eq!(
        invalid(analyze_data::get(vec![("data_points".into(), "x".into())]).unwrap_err()),
        "argument `data_points`: invalid type: string \"x\", expected a sequence"
    );
    assert_eq!(
        invalid(analyze_data::get(vec![]).unwrap_err()),
        "missing required argument `data_points`"
    );

    let d = review_code::definition();
    assert_eq!(d.name, "review");
    assert_eq!(<review_code as PromptHandler>::NAME, "review");
    assert_eq!(d.tags, vec!["code".to_owned()]);
    let req: Vec<_> = d
        .arguments
        .iter()
        .map(|a| (a.name.as_str(), a.required))
        .collect();
    assert_eq!(
        req,
        [("code", true), ("language", false), ("rounds", false)]
    );
    let r = review_code::get(vec![("code".into(), "1 + 1".into())]).unwrap();
    assert_eq!(r.messages.len(), 2);
    assert_eq!(r.description.as_deref(), Some("Review code"));
    assert_eq!(
        r.messages[0].content,
        Content::Text("Review this unknown code (1): 1 + 1".into())
    );
    assert_eq!(r.messages[1].role, Role::Assistant);
}

struct TestPlugin;

impl Plugin for TestPlugin {
    const TOOLS: &'static [ToolEntry] = &[ToolEntry::of::<multiply>(), ToolEntry::of::<search>()];
    const RESOURCES: &'static [ResourceEntry] = &[
        ResourceEntry::of::<get_config>(),
        ResourceEntry::of::<get_user_profile>(),
        ResourceEntry::of::<readme>(),
        ResourceEntry::of::<file>(),
        ResourceEntry::of::<point>(),
    ];
    const PROMPTS: &'static [PromptEntry] = &[PromptEntry::of::<analyze_data>()];
}

fn body(contents: &[corral_sdk::ResourceContents]) -> &ResourceBody {
    assert_eq!(contents.len(), 1);
    &contents[0].body
}

fn read(uri: &str, params: &[(&str, &str)]) -> Result<Vec<corral_sdk::ResourceContents>, Error> {
    let params = params
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    match <TestPlugin as resources::Guest>::read_resource(uri.into(), params, None)? {
        resources::ReadOutcome::Complete(c) => Ok(c),
        resources::ReadOutcome::NeedsInput(_) => panic!("needs input"),
    }
}

#[test]
fn dispatch() {
    let tools = <TestPlugin as tools::Guest>::list_tools();
    assert_eq!(tools.len(), 2);
    assert_eq!(tools[1].name, "find");
    let out =
        <TestPlugin as tools::Guest>::call_tool("find".into(), r#"{"query":"x"}"#.into(), None);
    assert!(matches!(out, Ok(tools::Outcome::Complete(_))));
    assert!(matches!(
        <TestPlugin as tools::Guest>::call_tool("search".into(), "{}".into(), None),
        Err(Error::NotFound(_))
    ));

    let infos = <TestPlugin as resources::Guest>::list_resources();
    let uris: Vec<_> = infos.iter().map(|r| r.uri.as_str()).collect();
    assert_eq!(uris, ["data://config", "memo://readme"]);
    let templates = <TestPlugin as resources::Guest>::list_templates();
    let uris: Vec<_> = templates.iter().map(|r| r.uri_template.as_str()).collect();
    assert_eq!(
        uris,
        [
            "users://{user_id}/profile",
            "files://{name}",
            "points://{x}/{y}"
        ]
    );

    let c = read("data://config", &[]).unwrap();
    assert_eq!(c[0].mime_type.as_deref(), Some("application/json"));
    assert_eq!(c[0].uri, "data://config");
    let ResourceBody::Text(t) = body(&c) else {
        panic!()
    };
    assert_eq!(json_of(t), json!({"theme": "dark", "version": "1.0"}));

    // With the host's params, and without (the SDK matches the URI itself).
    for params in [&[("user_id", "42")][..], &[]] {
        let c = read("users://42/profile", params).unwrap();
        let ResourceBody::Text(t) = body(&c) else {
            panic!()
        };
        assert_eq!(
            json_of(t),
            json!({"id": 42, "name": "User 42", "status": "active"})
        );
    }
    assert_eq!(
        invalid(read("users://abc/profile", &[]).unwrap_err()),
        "argument `user_id`: invalid type: string \"abc\", expected u32"
    );
    let c = read("files://a%20b", &[]).unwrap();
    assert_eq!(body(&c), &ResourceBody::Blob(b"a b".to_vec()));
    assert_eq!(
        read("files://missing", &[]).unwrap_err(),
        Error::ToolError("no such file".into())
    );
    let c = read("points://1.5/2", &[]).unwrap();
    let ResourceBody::Text(t) = body(&c) else {
        panic!()
    };
    assert_eq!(json_of(t), json!({"x": 1.5, "y": 2.0, "label": null}));
    let c = read("memo://readme", &[]).unwrap();
    assert_eq!(body(&c), &ResourceBody::Text("Read me".into()));
    assert_eq!(c[0].mime_type.as_deref(), Some("text/plain"));
    assert!(matches!(read("nope://x", &[]), Err(Error::NotFound(_))));

    let prompts = <TestPlugin as prompts::Guest>::list_prompts();
    assert_eq!(prompts[0].name, "analyze_data");
    assert!(matches!(
        <TestPlugin as prompts::Guest>::get_prompt("other".into(), vec![], None),
        Err(Error::NotFound(_))
    ));
}

mod nested {
    use corral_sdk::prelude::*;

    /// Add.
    #[tool]
    pub fn add(a: f64, b: f64) -> f64 {
        a + b
    }
}

fn complete(reference: &corral_sdk::CompletionRef, argument: &str, value: &str) -> Vec<String> {
    match reference {
        corral_sdk::CompletionRef::Prompt(p)
            if p == "analyze_data" && argument == "data_points" =>
        {
            vec![format!("{value}[1, 2, 3]")]
        }
        _ => Vec::new(),
    }
}

// `export!` with module paths, trailing commas and a completion function.
corral_sdk::export!(
    tools: [multiply, nested::add,],
    resources: [get_config, get_user_profile],
    prompts: [analyze_data],
    completions: complete,
);

#[test]
fn completion_function() {
    let r = corral_sdk::CompletionRef::Prompt("analyze_data".into());
    assert_eq!(
        complete(&r, "data_points", ""),
        vec!["[1, 2, 3]".to_owned()]
    );
    assert_eq!(nested::add::definition().name, "add");
    assert_eq!(nested::add(1.0, 2.0), 3.0);
}
