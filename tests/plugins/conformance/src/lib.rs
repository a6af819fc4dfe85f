//! The fixture for the official MCP conformance suite
//! (`@modelcontextprotocol/conformance`, server scenarios): every tool,
//! resource, template and prompt the scenarios call, with the names, texts
//! and data they expect. See `SCENARIOS.md` next to this crate for which
//! scenario uses what, and which ones test the host rather than the plugin.

use std::time::{Duration, Instant};

use corral_sdk::prelude::*;
use corral_sdk::{CompletionRef, Error, Root, serde_json};

/// The suite's 1x1 PNG (`iVBORw0KGgo...ErkJggg==`).
const TEST_IMAGE_PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0xfc, 0xcf, 0xc0, 0xf0,
    0x1f, 0x00, 0x05, 0x05, 0x02, 0x00, 0x5f, 0xc8, 0xf1, 0xd2, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

/// The suite's minimal WAV (`UklGRiYAAABXQVZF...ZGF0YQIAAAA=`), byte for byte.
const TEST_AUDIO_WAV: &[u8] = &[
    0x52, 0x49, 0x46, 0x46, 0x26, 0x00, 0x00, 0x00, 0x57, 0x41, 0x56, 0x45, 0x66, 0x6d, 0x74, 0x20,
    0x10, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x40, 0x1f, 0x00, 0x00, 0x00, 0x7d, 0x00, 0x00,
    0x02, 0x00, 0x10, 0x00, 0x64, 0x61, 0x74, 0x61, 0x02, 0x00, 0x00, 0x00,
];

/// How long the task fixtures work before they ask or answer: past the
/// host's default `task_after` (250 ms), so they become tasks.
const TASK_WORK_MS: u64 = 500;

fn sleep_ms(ms: u64) {
    std::thread::sleep(Duration::from_millis(ms));
}

/// `{"type":"object","properties":{<field>:{"type":<ty>}},"required":[<field>]}`.
fn one_field(field: &str, ty: &str) -> Value {
    json!({"type": "object", "properties": {field: {"type": ty}}, "required": [field]})
}

/// How the reference server prints an elicitation answer.
fn describe_answer(answer: &ElicitResult) -> String {
    let action = serde_json::to_value(answer.action).unwrap_or_default();
    let content = answer.content.clone().unwrap_or_default();
    format!(
        "action={}, content={}",
        action.as_str().unwrap_or("unknown"),
        Value::Object(content)
    )
}

// ===========================================================================
// Tools: 2025-06-18 / 2025-11-25 scenarios

/// Tests simple text content response
#[tool]
fn test_simple_text() -> String {
    "This is a simple text response for testing.".into()
}

/// Tests image content response
#[tool]
fn test_image_content() -> Content {
    Content::image(TEST_IMAGE_PNG, "image/png")
}

/// Tests audio content response
#[tool]
fn test_audio_content() -> Content {
    Content::audio(TEST_AUDIO_WAV, "audio/wav")
}

/// Tests embedded resource content response
#[tool]
fn test_embedded_resource() -> Content {
    Content::embedded_text(
        "test://embedded-resource",
        Some("text/plain"),
        "This is an embedded resource content.",
    )
}

/// Tests response with multiple content types (text, image, resource)
#[tool]
fn test_multiple_content_types() -> Vec<Content> {
    vec![
        Content::text("Multiple content types test:"),
        Content::image(TEST_IMAGE_PNG, "image/png"),
        Content::embedded_text(
            "test://mixed-content-resource",
            Some("application/json"),
            r#"{"test":"data","value":123}"#,
        ),
    ]
}

/// Tests tool that emits log messages during execution
#[tool]
fn test_tool_with_logging() -> String {
    context::info("Tool execution started");
    sleep_ms(50);
    context::info("Tool processing data");
    sleep_ms(50);
    context::info("Tool execution completed");
    "Tool with logging executed successfully".into()
}

/// Tests tool that reports progress notifications
#[tool]
fn test_tool_with_progress() -> String {
    for (i, step) in [0.0, 50.0, 100.0].into_iter().enumerate() {
        if i > 0 {
            sleep_ms(50);
        }
        let message = format!("Completed step {step} of 100");
        context::progress(step, Some(100.0), Some(&message));
    }
    "Tool with progress executed successfully".into()
}

/// Tests error response handling
#[tool]
fn test_error_handling() -> ToolResult {
    ToolResult::error("This tool intentionally returns an error for testing")
}

/// Tests SSE stream disconnection and client reconnection (SEP-1699). Server will close the stream mid-call and send the result after client reconnects.
#[tool]
fn test_reconnection() -> String {
    // Longer than the host's JSON window (200 ms), so that the answer is
    // an SSE stream and the scenario's checks apply (with a quick JSON
    // answer it checks nothing); the host closes the stream, and this gives
    // the client time to reconnect before the result is sent.
    sleep_ms(500);
    "Reconnection test completed successfully. If you received this, the client properly reconnected after stream closure.".into()
}

/// Tests server-initiated sampling (LLM completion request)
///
/// # Arguments
/// * `prompt` - The prompt to send to the LLM
#[tool]
fn test_sampling(ctx: &Call, prompt: String) -> Result<String, InputRequired> {
    let answer = ctx.sample("sampling", prompt, 100)?;
    Ok(format!(
        "LLM response: {}",
        answer.text().unwrap_or("No response")
    ))
}

/// Tests server-initiated elicitation (user input request)
///
/// # Arguments
/// * `message` - The message to show the user
#[tool]
fn test_elicitation(ctx: &Call, message: String) -> Result<String, InputRequired> {
    let schema = json!({
        "type": "object",
        "properties": {
            "username": {"type": "string", "description": "User's response"},
            "email": {"type": "string", "description": "User's email address"},
        },
        "required": ["username", "email"],
    });
    let answer = ctx.elicit("elicitation", message, schema)?;
    Ok(format!("User response: {}", describe_answer(&answer)))
}

/// Tests elicitation with default values per SEP-1034
#[tool]
fn test_elicitation_sep1034_defaults(ctx: &Call) -> Result<String, InputRequired> {
    let schema = json!({
        "type": "object",
        "properties": {
            "name": {"type": "string", "description": "User name", "default": "John Doe"},
            "age": {"type": "integer", "description": "User age", "default": 30},
            "score": {"type": "number", "description": "User score", "default": 95.5},
            "status": {
                "type": "string",
                "description": "User status",
                "enum": ["active", "inactive", "pending"],
                "default": "active",
            },
            "verified": {"type": "boolean", "description": "Verification status", "default": true},
        },
        "required": [],
    });
    let answer = ctx.elicit(
        "defaults",
        "Please review and update the form fields with defaults",
        schema,
    )?;
    Ok(format!(
        "Elicitation completed: {}",
        describe_answer(&answer)
    ))
}

/// Tests elicitation with enum schema improvements per SEP-1330
#[tool]
fn test_elicitation_sep1330_enums(ctx: &Call) -> Result<String, InputRequired> {
    let schema = json!({
        "type": "object",
        "properties": {
            "untitledSingle": {
                "type": "string",
                "description": "Select one option",
                "enum": ["option1", "option2", "option3"],
            },
            "titledSingle": {
                "type": "string",
                "description": "Select one option with titles",
                "oneOf": [
                    {"const": "value1", "title": "First Option"},
                    {"const": "value2", "title": "Second Option"},
                    {"const": "value3", "title": "Third Option"},
                ],
            },
            "legacyEnum": {
                "type": "string",
                "description": "Select one option (legacy)",
                "enum": ["opt1", "opt2", "opt3"],
                "enumNames": ["Option One", "Option Two", "Option Three"],
            },
            "untitledMulti": {
                "type": "array",
                "description": "Select multiple options",
                "minItems": 1,
                "maxItems": 3,
                "items": {"type": "string", "enum": ["option1", "option2", "option3"]},
            },
            "titledMulti": {
                "type": "array",
                "description": "Select multiple options with titles",
                "minItems": 1,
                "maxItems": 3,
                "items": {
                    "anyOf": [
                        {"const": "value1", "title": "First Choice"},
                        {"const": "value2", "title": "Second Choice"},
                        {"const": "value3", "title": "Third Choice"},
                    ],
                },
            },
        },
        "required": [],
    });
    let answer = ctx.elicit(
        "enums",
        "Please select options from the enum fields",
        schema,
    )?;
    Ok(format!(
        "Elicitation completed: {}",
        describe_answer(&answer)
    ))
}

/// Tool with JSON Schema 2020-12 features for conformance testing (SEP-1613)
#[allow(non_snake_case)] // `contactMethod` is the suite's name
#[tool(input_schema = json!({
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "$defs": {
        "address": {
            "$anchor": "addressDef",
            "type": "object",
            "properties": {"street": {"type": "string"}, "city": {"type": "string"}},
        },
    },
    "properties": {
        "name": {"type": "string"},
        "address": {"$ref": "#/$defs/address"},
        "contactMethod": {"type": "string", "enum": ["phone", "email"]},
        "phone": {"type": "string"},
        "email": {"type": "string"},
    },
    "allOf": [{"anyOf": [{"required": ["phone"]}, {"required": ["email"]}]}],
    "if": {"properties": {"contactMethod": {"const": "phone"}}, "required": ["contactMethod"]},
    "then": {"required": ["phone"]},
    "else": {"required": ["email"]},
    "additionalProperties": false,
}))]
fn json_schema_2020_12_tool(
    name: Option<String>,
    address: Option<Value>,
    contactMethod: Option<String>,
    phone: Option<String>,
    email: Option<String>,
) -> String {
    let mut args = serde_json::Map::new();
    for (key, value) in [
        ("name", name.map(Value::from)),
        ("address", address),
        ("contactMethod", contactMethod.map(Value::from)),
        ("phone", phone.map(Value::from)),
        ("email", email.map(Value::from)),
    ] {
        if let Some(value) = value {
            args.insert(key.into(), value);
        }
    }
    format!(
        "JSON Schema 2020-12 tool called with: {}",
        Value::Object(args)
    )
}

// ===========================================================================
// Tools: 2026-07-28 scenarios (SEP-2322 input required, SEP-2575 stateless)

/// MRTR: returns InputRequiredResult with elicitation request
#[tool]
fn test_input_required_result_elicitation(ctx: &Call) -> Result<String, InputRequired> {
    let answer = ctx.elicit(
        "user_name",
        "What is your name?",
        one_field("name", "string"),
    )?;
    let name = answer
        .get::<String>("name")
        .unwrap_or_else(|| "unknown".into());
    Ok(format!("Hello, {name}!"))
}

/// MRTR: returns InputRequiredResult with sampling request
#[tool]
fn test_input_required_result_sampling(ctx: &Call) -> Result<String, InputRequired> {
    let answer = ctx.sample("capital_question", "What is the capital of France?", 100)?;
    Ok(format!(
        "Sampling result: {}",
        answer.text().unwrap_or("no response")
    ))
}

/// MRTR: returns InputRequiredResult with roots/list request
#[tool]
fn test_input_required_result_list_roots(ctx: &Call) -> Result<String, InputRequired> {
    let roots = ctx.roots("client_roots")?;
    Ok(format!("Found {} root(s)", roots.len()))
}

/// The `kind` of a fixture's request state.
#[derive(Serialize, Deserialize)]
struct Kind {
    kind: String,
}

fn has_kind(ctx: &Call, kind: &str) -> bool {
    ctx.state_json::<Kind>().is_some_and(|s| s.kind == kind)
}

fn kind_state(request: InputRequired, kind: &str) -> InputRequired {
    request.state_json(&Kind { kind: kind.into() })
}

/// MRTR: returns InputRequiredResult with requestState
#[tool]
fn test_input_required_result_request_state(ctx: &Call) -> Result<String, InputRequired> {
    let confirmed = ctx
        .response::<ElicitResult>("confirm")
        .and_then(|a| a.get::<bool>("ok"));
    if has_kind(ctx, "request-state") && confirmed == Some(true) {
        return Ok("state-ok: requestState validated".into());
    }
    Err(kind_state(
        InputRequired::new().elicit("confirm", "Please confirm", one_field("ok", "boolean")),
        "request-state",
    ))
}

/// MRTR: returns InputRequiredResult with multiple input requests
#[tool]
fn test_input_required_result_multiple_inputs(ctx: &Call) -> Result<String, InputRequired> {
    let asked = (
        ctx.elicit(
            "user_name",
            "What is your name?",
            one_field("name", "string"),
        ),
        ctx.sample("greeting", "Generate a greeting", 50),
        ctx.roots("client_roots"),
    );
    let restart = || {
        kind_state(
            InputRequired::new()
                .elicit(
                    "user_name",
                    "What is your name?",
                    one_field("name", "string"),
                )
                .sample("greeting", "Generate a greeting", 50)
                .roots("client_roots"),
            "multiple-inputs",
        )
    };
    if !has_kind(ctx, "multiple-inputs") {
        return Err(restart());
    }
    let (answer, greeting, roots): (ElicitResult, SampleResult, Vec<Root>) =
        asked.gather().map_err(|_| restart())?;
    Ok(format!(
        "Name: {}; Greeting: {}; Roots: {}",
        answer
            .get::<String>("name")
            .unwrap_or_else(|| "unknown".into()),
        greeting.text().unwrap_or("Hello there!"),
        roots.len()
    ))
}

/// The state of `test_input_required_result_multi_round`.
#[derive(Serialize, Deserialize)]
struct Round {
    round: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
}

/// MRTR: multi-round InputRequiredResult workflow
#[tool]
fn test_input_required_result_multi_round(ctx: &Call) -> Result<String, InputRequired> {
    let step1 = || {
        InputRequired::new()
            .elicit(
                "step1",
                "Step 1: What is your name?",
                one_field("name", "string"),
            )
            .state_json(&Round {
                round: 1,
                name: None,
            })
    };
    let step2 = |name: String| {
        InputRequired::new()
            .elicit(
                "step2",
                "Step 2: What is your favorite color?",
                one_field("color", "string"),
            )
            .state_json(&Round {
                round: 2,
                name: Some(name),
            })
    };
    match ctx.state_json::<Round>() {
        Some(Round { round: 1, .. }) => match ctx.response::<ElicitResult>("step1") {
            Some(answer) => Err(step2(
                answer
                    .get::<String>("name")
                    .unwrap_or_else(|| "unknown".into()),
            )),
            None => Err(step1()),
        },
        Some(Round {
            round: 2,
            name: Some(name),
        }) => {
            let answer = ctx
                .response::<ElicitResult>("step2")
                .ok_or_else(|| step2(name.clone()))?;
            let color = answer
                .get::<String>("color")
                .unwrap_or_else(|| "unknown".into());
            Ok(format!("Multi-round complete for {name} who likes {color}"))
        }
        _ => Err(step1()),
    }
}

/// MRTR: HMAC-signed requestState integrity test
#[tool]
fn test_input_required_result_tampered_state(ctx: &Call) -> Result<String, Interrupt> {
    let ask = || {
        kind_state(
            InputRequired::new().elicit("confirm", "Please confirm", one_field("ok", "boolean")),
            "tamper-test",
        )
    };
    match ctx.state() {
        // The host protects the state; this is a second line of defence.
        Some(_) if !has_kind(ctx, "tamper-test") => {
            Err(Error::InvalidParams("requestState integrity check failed".into()).into())
        }
        Some(_) if ctx.response::<ElicitResult>("confirm").is_some() => {
            Ok("integrity-ok: state verified".into())
        }
        _ => Err(ask().into()),
    }
}

/// MRTR: respects client capabilities in inputRequests
#[tool]
fn test_input_required_result_capabilities(ctx: &Call) -> Result<String, InputRequired> {
    // The plugin cannot see the client's capabilities: it asks for both, and
    // the host leaves out what the client did not declare.
    if ctx.has_responses() {
        let keys: Vec<&str> = ctx.keys().collect();
        return Ok(format!("capabilities-ok: received {}", keys.join(",")));
    }
    Err(kind_state(
        InputRequired::new()
            .elicit(
                "elicit_input",
                "Elicitation input",
                one_field("value", "string"),
            )
            .sample("sample_input", "Sample request", 50),
        "capabilities-test",
    ))
}

/// Test tool requiring sampling
#[tool]
fn test_missing_capability(ctx: &Call) -> Result<String, InputRequired> {
    // Needs sampling: a client that did not declare it gets -32021 from the
    // host.
    ctx.sample("sample", "Sample request", 50)?;
    Ok("Success".into())
}

/// Diagnostic tool validating response progress streams
#[tool]
fn test_streaming_elicitation(ctx: &Call) -> Result<String, InputRequired> {
    context::progress(50.0, Some(100.0), Some("Streaming"));
    // On the 2026-07-28 wire the host must answer with an input-required
    // result, never a server-to-client request on the response stream.
    ctx.elicit(
        "stream_confirm",
        "Continue streaming?",
        one_field("ok", "boolean"),
    )?;
    Ok("Streaming complete".into())
}

/// Diagnostic logging validator tool
#[tool]
fn test_logging_tool() -> String {
    // The host drops it unless the request set `_meta.../logLevel`.
    context::info("Diagnostic trace logging activated");
    "Logging evaluated".into()
}

/// Mutates the tool list (the host emits notifications/tools/list_changed)
#[tool]
fn test_trigger_tool_change() -> String {
    "Mutation triggered".into()
}

/// Mutates the prompt list (the host emits notifications/prompts/list_changed)
#[tool]
fn test_trigger_prompt_change() -> String {
    "Mutation triggered".into()
}

/// Echoes a parameter the client also sends as the Mcp-Param-Region header (SEP-2243)
///
/// # Arguments
/// * `region` - Any text; mirrored in the `Mcp-Param-Region` header
#[tool(input_schema = json!({
    "type": "object",
    "properties": {
        "region": {
            "type": "string",
            "description": "Any text; mirrored in the Mcp-Param-Region header",
            "x-mcp-header": "Region",
        },
    },
    "required": ["region"],
    "additionalProperties": false,
}))]
fn test_custom_header(region: String) -> String {
    format!("Region: {region}")
}

// ===========================================================================
// Tools: SEP-2663 tasks extension. The host answers a task-capable call in
// its request when it ends (or, at 2026-07-28, asks for input) within
// `[server] task_after` (250 ms by default), else with a task: the tools the
// suite expects to become tasks work for longer than that first.

/// Greets `name` (sync-only)
///
/// # Arguments
/// * `name` - Who to greet
#[tool]
fn greet(name: String) -> String {
    format!("Hello, {name}!")
}

/// Sleeps `seconds` seconds (stopping early when cancelled), then returns a result
///
/// # Arguments
/// * `seconds` - How long to work
/// * `label` - A label echoed in the result
#[tool(task = "optional")]
fn slow_compute(seconds: f64, label: Option<String>) -> ToolResult {
    let label = label.unwrap_or_else(|| "slow_compute".into());
    let start = Instant::now();
    let total = Duration::from_secs_f64(seconds.clamp(0.0, 3600.0));
    while start.elapsed() < total {
        if context::cancelled() {
            return ToolResult::error(format!("{label}: cancelled"));
        }
        sleep_ms(50);
    }
    ToolResult::text(format!("{label}: computed after {seconds} second(s)"))
}

/// Always fails with a tool execution error after about a second
#[tool(task = "required")]
fn failing_job() -> ToolResult {
    sleep_ms(1000);
    ToolResult::error("failing_job: the job failed (on purpose)")
}

/// Works for half a second, then fails with a protocol-level (internal) error
#[tool(task = "required")]
fn protocol_error_job() -> Result<String, Error> {
    sleep_ms(TASK_WORK_MS);
    Err(Error::Internal(
        "protocol_error_job: internal failure (on purpose)".into(),
    ))
}

/// Looks `filename` up (half a second), then asks the user to confirm deleting it
///
/// # Arguments
/// * `filename` - The file to delete
#[tool(task = "optional")]
fn confirm_delete(ctx: &Call, filename: String) -> Result<String, InputRequired> {
    sleep_ms(TASK_WORK_MS);
    let answer = ctx.elicit(
        "confirm",
        format!("Delete {filename}?"),
        one_field("confirm", "boolean"),
    )?;
    Ok(if answer.get::<bool>("confirm") == Some(true) {
        format!("Deleted {filename}")
    } else {
        format!("Kept {filename}")
    })
}

/// Works for half a second, then asks two questions at once
#[tool(task = "optional")]
fn multi_input(ctx: &Call) -> Result<String, InputRequired> {
    sleep_ms(TASK_WORK_MS);
    let (first, second) = (
        ctx.elicit("first", "First value?", one_field("value", "string")),
        ctx.elicit("second", "Second value?", one_field("value", "string")),
    )
        .gather()?;
    let value = |a: &ElicitResult| a.get::<String>("value").unwrap_or_default();
    Ok(format!(
        "first={}, second={}",
        value(&first),
        value(&second)
    ))
}

/// Asks for the user's name (at once, in the request), then works for half a
/// second (so it finishes as a task)
#[tool(task = "required")]
fn test_tool_with_task(ctx: &Call) -> Result<String, InputRequired> {
    let answer = ctx.elicit(
        "user_name",
        "What is your name?",
        one_field("name", "string"),
    )?;
    sleep_ms(TASK_WORK_MS);
    let name = answer
        .get::<String>("name")
        .unwrap_or_else(|| "unknown".into());
    Ok(format!("Task complete for user_name={name}"))
}

// ===========================================================================
// Resources

/// A static text resource for testing
#[resource(
    "test://static-text",
    name = "static-text",
    title = "Static Text Resource",
    mime_type = "text/plain"
)]
fn static_text() -> String {
    "This is the content of the static text resource.".into()
}

/// A static binary resource (image) for testing
#[resource(
    "test://static-binary",
    name = "static-binary",
    title = "Static Binary Resource",
    mime_type = "image/png"
)]
fn static_binary() -> Vec<u8> {
    TEST_IMAGE_PNG.to_vec()
}

/// A resource template with parameter substitution
#[resource(
    "test://template/{id}/data",
    name = "template",
    title = "Resource Template",
    mime_type = "application/json"
)]
fn template(id: String) -> Result<String, ToolError> {
    #[derive(Serialize)]
    struct Data {
        id: String,
        #[serde(rename = "templateTest")]
        template_test: bool,
        data: String,
    }
    let data = format!("Data for ID: {id}");
    Ok(serde_json::to_string(&Data {
        id,
        template_test: true,
        data,
    })?)
}

/// A resource that auto-updates every 3 seconds
#[resource(
    "test://watched-resource",
    name = "watched-resource",
    title = "Watched Resource",
    mime_type = "text/plain"
)]
fn watched_resource() -> String {
    "Watched resource content".into()
}

/// Describes the Corral conformance fixture.
#[resource(
    "skill://conformance-fixture/SKILL.md",
    name = "conformance-fixture",
    mime_type = "text/markdown"
)]
fn skill_manifest() -> String {
    "---\nname: conformance-fixture\ndescription: Describes the Corral conformance fixture.\n---\n\n\
     # Conformance fixture\n\nThe tools, resources and prompts the MCP conformance suite calls.\n"
        .into()
}

// ===========================================================================
// Prompts

/// A simple prompt without arguments
#[prompt(title = "Simple Test Prompt")]
fn test_simple_prompt() -> String {
    "This is a simple prompt for testing.".into()
}

/// A prompt with required arguments
///
/// # Arguments
/// * `arg1` - First test argument
/// * `arg2` - Second test argument
#[prompt(title = "Prompt With Arguments")]
fn test_prompt_with_arguments(arg1: String, arg2: String) -> String {
    format!("Prompt with arguments: arg1='{arg1}', arg2='{arg2}'")
}

/// A prompt that includes an embedded resource
///
/// # Arguments
/// * `resourceUri` - URI of the resource to embed
#[allow(non_snake_case)] // `resourceUri` is the suite's name
#[prompt(title = "Prompt With Embedded Resource")]
fn test_prompt_with_embedded_resource(resourceUri: String) -> Vec<Message> {
    vec![
        Message::user(Content::embedded_text(
            resourceUri,
            Some("text/plain"),
            "Embedded resource content for testing.",
        )),
        Message::user("Please process the embedded resource above."),
    ]
}

/// A prompt that includes image content
#[prompt(title = "Prompt With Image")]
fn test_prompt_with_image() -> Vec<Message> {
    vec![
        Message::user(Content::image(TEST_IMAGE_PNG, "image/png")),
        Message::user("Please analyze the image above."),
    ]
}

/// MRTR: prompt that requires elicitation input
#[prompt]
fn test_input_required_result_prompt(ctx: &Call) -> Result<String, InputRequired> {
    let answer = ctx.elicit(
        "user_context",
        "What context should the prompt use?",
        one_field("context", "string"),
    )?;
    let context = answer
        .get::<String>("context")
        .unwrap_or_else(|| "unknown".into());
    Ok(format!("Prompt with context: {context}"))
}

// ===========================================================================
// Completions

fn complete(reference: &CompletionRef, argument: &str, value: &str) -> Vec<String> {
    let candidates: &[&str] = match (reference, argument) {
        (CompletionRef::Prompt(p), "arg1" | "arg2") if p == "test_prompt_with_arguments" => {
            &["paris", "park", "party", "testValue1", "testValue2"]
        }
        (CompletionRef::Prompt(p), "resourceUri") if p == "test_prompt_with_embedded_resource" => {
            &[
                "test://static-text",
                "test://static-binary",
                "test://watched-resource",
            ]
        }
        (CompletionRef::Template(t), "id") if t == "test://template/{id}/data" => {
            &["1", "2", "3", "123"]
        }
        _ => &[],
    };
    let value = value.to_lowercase();
    candidates
        .iter()
        .filter(|c| c.to_lowercase().starts_with(&value))
        .map(|c| (*c).to_owned())
        .collect()
}

/// `export!`s the plugin and, for the native tests, names the same tables
/// as `P`.
macro_rules! fixture {
    (
        tools: [$($tool:ident),* $(,)?],
        resources: [$($resource:ident),* $(,)?],
        prompts: [$($prompt:ident),* $(,)?],
        completions: $complete:ident $(,)?
    ) => {
        corral_sdk::export!(
            tools: [$($tool),*],
            resources: [$($resource),*],
            prompts: [$($prompt),*],
            completions: $complete,
        );

        #[cfg(test)]
        struct P;

        #[cfg(test)]
        impl corral_sdk::__private::Plugin for P {
            const TOOLS: &'static [corral_sdk::__private::ToolEntry] =
                &[$(corral_sdk::__private::ToolEntry::of::<$tool>()),*];
            const RESOURCES: &'static [corral_sdk::__private::ResourceEntry] =
                &[$(corral_sdk::__private::ResourceEntry::of::<$resource>()),*];
            const PROMPTS: &'static [corral_sdk::__private::PromptEntry] =
                &[$(corral_sdk::__private::PromptEntry::of::<$prompt>()),*];
        }
    };
}

fixture!(
    tools: [
        test_simple_text,
        test_image_content,
        test_audio_content,
        test_embedded_resource,
        test_multiple_content_types,
        test_tool_with_logging,
        test_tool_with_progress,
        test_error_handling,
        test_reconnection,
        test_sampling,
        test_elicitation,
        test_elicitation_sep1034_defaults,
        test_elicitation_sep1330_enums,
        json_schema_2020_12_tool,
        test_input_required_result_elicitation,
        test_input_required_result_sampling,
        test_input_required_result_list_roots,
        test_input_required_result_request_state,
        test_input_required_result_multiple_inputs,
        test_input_required_result_multi_round,
        test_input_required_result_tampered_state,
        test_input_required_result_capabilities,
        test_missing_capability,
        test_streaming_elicitation,
        test_logging_tool,
        test_trigger_tool_change,
        test_trigger_prompt_change,
        test_custom_header,
        greet,
        slow_compute,
        failing_job,
        protocol_error_job,
        confirm_delete,
        multi_input,
        test_tool_with_task,
    ],
    resources: [static_text, static_binary, template, watched_resource, skill_manifest],
    prompts: [
        test_simple_prompt,
        test_prompt_with_arguments,
        test_prompt_with_embedded_resource,
        test_prompt_with_image,
        test_input_required_result_prompt,
    ],
    completions: complete,
);

#[cfg(test)]
mod tests;
