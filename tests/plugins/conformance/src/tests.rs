//! The fixture's answers, run natively (tools that call the host's `context`
//! import — logging, progress, cancellation — only run inside a component).

use corral_sdk::__private::{PromptHandler, ResourceHandler, StrArgs, ToolHandler};
use corral_sdk::{InputRequest, ResourceBody, TaskSupport};

use super::*;

fn accept(content: Value) -> String {
    json!({"action": "accept", "content": content}).to_string()
}

fn sampled(text: &str) -> String {
    json!({"role": "assistant", "content": {"type": "text", "text": text}, "model": "test-model", "stopReason": "endTurn"})
        .to_string()
}

const ROOTS: &str = r#"{"roots":[{"uri":"file:///test/root","name":"Test Root"}]}"#;

fn run<T: ToolHandler>(call: &Call) -> Outcome<ToolResult> {
    T::call_with("{}", call).expect("no error")
}

fn ask<T: ToolHandler>(call: &Call) -> InputRequired {
    match run::<T>(call) {
        Outcome::NeedsInput(request) => request,
        Outcome::Complete(result) => panic!("expected input-required, got {result:?}"),
    }
}

fn text<T: ToolHandler>(call: &Call) -> String {
    match run::<T>(call) {
        Outcome::Complete(ToolResult { content, .. }) => match &content[..] {
            [Content::Text(t)] => t.clone(),
            other => panic!("expected one text block, got {other:?}"),
        },
        Outcome::NeedsInput(request) => panic!("expected a result, got {request:?}"),
    }
}

fn method(request: &InputRequest) -> &'static str {
    match request {
        InputRequest::Elicit(_) => "elicitation/create",
        InputRequest::Sample(_) => "sampling/createMessage",
        InputRequest::Roots => "roots/list",
    }
}

fn methods(request: &InputRequired) -> Vec<(&str, &'static str)> {
    request
        .requests
        .iter()
        .map(|(k, r)| (k.as_str(), method(r)))
        .collect()
}

#[test]
fn static_tools() {
    assert_eq!(
        text::<test_simple_text>(&Call::default()),
        "This is a simple text response for testing."
    );
    let Outcome::Complete(r) = run::<test_multiple_content_types>(&Call::default()) else {
        panic!()
    };
    assert!(matches!(
        &r.content[..],
        [Content::Text(_), Content::Image(_), Content::Embedded(_)]
    ));
    let Outcome::Complete(r) = run::<test_error_handling>(&Call::default()) else {
        panic!()
    };
    assert!(r.is_error);
    assert_eq!(
        r.content,
        vec![Content::text(
            "This tool intentionally returns an error for testing"
        )]
    );
    let Outcome::Complete(r) = run::<test_audio_content>(&Call::default()) else {
        panic!()
    };
    let Content::Audio(blob) = &r.content[0] else {
        panic!()
    };
    assert_eq!(blob.mime_type, "audio/wav");
    assert_eq!(&blob.data[..4], b"RIFF");
}

#[test]
fn json_schema_tool() {
    let d = json_schema_2020_12_tool::definition();
    let schema: Value = serde_json::from_str(&d.input_schema).unwrap();
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    assert_eq!(schema["$defs"]["address"]["$anchor"], "addressDef");
    assert_eq!(schema["additionalProperties"], false);
    assert!(schema["allOf"][0]["anyOf"].is_array());
    assert!(schema["if"].is_object() && schema["then"].is_object() && schema["else"].is_object());
    let r = json_schema_2020_12_tool::call(r#"{"name":"a","contactMethod":"email","email":"e"}"#)
        .unwrap();
    assert_eq!(
        r.content,
        vec![Content::text(
            r#"JSON Schema 2020-12 tool called with: {"contactMethod":"email","email":"e","name":"a"}"#
        )]
    );
    let d = test_custom_header::definition();
    let schema: Value = serde_json::from_str(&d.input_schema).unwrap();
    assert_eq!(schema["properties"]["region"]["x-mcp-header"], "Region");
}

#[test]
fn legacy_sampling_and_elicitation() {
    // `prompt` is required.
    assert!(test_sampling::call_with("{}", &Call::default()).is_err());
    let r2 = match test_sampling::call_with(r#"{"prompt":"Test prompt"}"#, &Call::default()) {
        Ok(Outcome::NeedsInput(r)) => r,
        other => panic!("{other:?}"),
    };
    let InputRequest::Sample(s) = &r2.requests[0].1 else {
        panic!()
    };
    assert_eq!(s.max_tokens, 100);
    assert_eq!(s.messages, vec![Message::user("Test prompt")]);
    let call = Call::answering([("sampling", sampled("This is a test response"))], None);
    let Ok(Outcome::Complete(r)) = test_sampling::call_with(r#"{"prompt":"p"}"#, &call) else {
        panic!()
    };
    assert_eq!(
        r.content,
        vec![Content::text("LLM response: This is a test response")]
    );

    let call = Call::answering(
        [(
            "elicitation",
            accept(json!({"username": "testuser", "email": "test@example.com"})),
        )],
        None,
    );
    let Ok(Outcome::Complete(r)) = test_elicitation::call_with(r#"{"message":"m"}"#, &call) else {
        panic!()
    };
    assert_eq!(
        r.content,
        vec![Content::text(
            r#"User response: action=accept, content={"email":"test@example.com","username":"testuser"}"#
        )]
    );

    let r = ask::<test_elicitation_sep1034_defaults>(&Call::default());
    let InputRequest::Elicit(e) = &r.requests[0].1 else {
        panic!()
    };
    let schema: Value = serde_json::from_str(&e.requested_schema).unwrap();
    assert_eq!(schema["properties"]["age"]["default"], 30);
    assert_eq!(schema["properties"]["score"]["default"], 95.5);
    assert_eq!(schema["properties"]["status"]["default"], "active");
    let r = ask::<test_elicitation_sep1330_enums>(&Call::default());
    let InputRequest::Elicit(e) = &r.requests[0].1 else {
        panic!()
    };
    let schema: Value = serde_json::from_str(&e.requested_schema).unwrap();
    assert_eq!(
        schema["properties"]["legacyEnum"]["enumNames"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let call = Call::answering([("enums", r#"{"action":"decline"}"#)], None);
    assert_eq!(
        text::<test_elicitation_sep1330_enums>(&call),
        "Elicitation completed: action=decline, content={}"
    );
}

#[test]
fn basic_input_required() {
    let r = ask::<test_input_required_result_elicitation>(&Call::default());
    assert_eq!(methods(&r), [("user_name", "elicitation/create")]);
    assert_eq!(r.state, None);
    let call = Call::answering([("user_name", accept(json!({"name": "Alice"})))], None);
    assert_eq!(
        text::<test_input_required_result_elicitation>(&call),
        "Hello, Alice!"
    );
    // missing-input-response, validate-input, ignore-extra-params
    let wrong = Call::answering([("wrong_key", accept(json!({"data": "wrong"})))], None);
    ask::<test_input_required_result_elicitation>(&wrong);
    let invalid = Call::answering([("user_name", "12345")], None);
    ask::<test_input_required_result_elicitation>(&invalid);
    let extra = Call::answering(
        [
            ("user_name", accept(json!({"name": "Alice"}))),
            ("unknown_extra_key", accept(json!({"foo": "bar"}))),
        ],
        None,
    );
    assert_eq!(
        text::<test_input_required_result_elicitation>(&extra),
        "Hello, Alice!"
    );

    let r = ask::<test_input_required_result_sampling>(&Call::default());
    assert_eq!(
        methods(&r),
        [("capital_question", "sampling/createMessage")]
    );
    let call = Call::answering(
        [(
            "capital_question",
            sampled("The capital of France is Paris."),
        )],
        None,
    );
    assert_eq!(
        text::<test_input_required_result_sampling>(&call),
        "Sampling result: The capital of France is Paris."
    );

    let r = ask::<test_input_required_result_list_roots>(&Call::default());
    assert_eq!(methods(&r), [("client_roots", "roots/list")]);
    let call = Call::answering([("client_roots", ROOTS)], None);
    assert_eq!(
        text::<test_input_required_result_list_roots>(&call),
        "Found 1 root(s)"
    );
}

#[test]
fn request_state_and_multiple_inputs() {
    let r = ask::<test_input_required_result_request_state>(&Call::default());
    assert_eq!(methods(&r), [("confirm", "elicitation/create")]);
    let state = r.state.clone().expect("requestState");
    let call = Call::answering([("confirm", accept(json!({"ok": true})))], Some(&state));
    assert_eq!(
        text::<test_input_required_result_request_state>(&call),
        "state-ok: requestState validated"
    );
    // Without the state it asks again.
    let call = Call::answering([("confirm", accept(json!({"ok": true})))], None);
    ask::<test_input_required_result_request_state>(&call);

    let r = ask::<test_input_required_result_multiple_inputs>(&Call::default());
    assert_eq!(
        methods(&r),
        [
            ("user_name", "elicitation/create"),
            ("greeting", "sampling/createMessage"),
            ("client_roots", "roots/list"),
        ]
    );
    let state = r.state.clone().expect("requestState");
    let call = Call::answering(
        [
            ("user_name", accept(json!({"name": "Alice"}))),
            ("greeting", sampled("Hello there!")),
            ("client_roots", ROOTS.to_owned()),
        ],
        Some(&state),
    );
    assert_eq!(
        text::<test_input_required_result_multiple_inputs>(&call),
        "Name: Alice; Greeting: Hello there!; Roots: 1"
    );
    let partial = Call::answering([("greeting", sampled("x"))], Some(&state));
    assert_eq!(
        ask::<test_input_required_result_multiple_inputs>(&partial)
            .keys()
            .count(),
        3
    );
}

#[test]
fn multi_round() {
    let r1 = ask::<test_input_required_result_multi_round>(&Call::default());
    assert_eq!(methods(&r1), [("step1", "elicitation/create")]);
    let s1 = r1.state.clone().unwrap();
    let c2 = Call::answering([("step1", accept(json!({"name": "Alice"})))], Some(&s1));
    let r2 = ask::<test_input_required_result_multi_round>(&c2);
    assert_eq!(methods(&r2), [("step2", "elicitation/create")]);
    let s2 = r2.state.clone().unwrap();
    assert_ne!(s1, s2);
    let c3 = Call::answering([("step2", accept(json!({"color": "blue"})))], Some(&s2));
    assert_eq!(
        text::<test_input_required_result_multi_round>(&c3),
        "Multi-round complete for Alice who likes blue"
    );
    // A round-2 state without its answer asks for step 2 again.
    let again = ask::<test_input_required_result_multi_round>(&Call::answering(
        Vec::<(String, String)>::new(),
        Some(&s2),
    ));
    assert_eq!(again.state.as_deref(), Some(s2.as_str()));
}

#[test]
fn tampered_state_and_capabilities() {
    let r = ask::<test_input_required_result_tampered_state>(&Call::default());
    let state = r.state.clone().unwrap();
    let ok = Call::answering([("confirm", accept(json!({"ok": true})))], Some(&state));
    assert_eq!(
        text::<test_input_required_result_tampered_state>(&ok),
        "integrity-ok: state verified"
    );
    let tampered = format!("{state}-TAMPERED");
    let bad = Call::answering([("confirm", accept(json!({"ok": true})))], Some(&tampered));
    assert!(matches!(
        test_input_required_result_tampered_state::call_with("{}", &bad),
        Err(Error::InvalidParams(_))
    ));

    let r = ask::<test_input_required_result_capabilities>(&Call::default());
    assert_eq!(
        methods(&r),
        [
            ("elicit_input", "elicitation/create"),
            ("sample_input", "sampling/createMessage"),
        ]
    );
    let call = Call::answering([("sample_input", sampled("s"))], r.state.as_deref());
    assert_eq!(
        text::<test_input_required_result_capabilities>(&call),
        "capabilities-ok: received sample_input"
    );

    let r = ask::<test_missing_capability>(&Call::default());
    assert_eq!(methods(&r), [("sample", "sampling/createMessage")]);
    let call = Call::answering([("sample", sampled("s"))], None);
    assert_eq!(text::<test_missing_capability>(&call), "Success");
}

#[test]
fn task_fixtures() {
    assert_eq!(
        greet::call(r#"{"name":"rt"}"#).unwrap(),
        ToolResult::text("Hello, rt!")
    );
    assert_eq!(slow_compute::TASK, TaskSupport::Optional);
    assert_eq!(failing_job::TASK, TaskSupport::Required);
    assert_eq!(greet::TASK, TaskSupport::Forbidden);
    assert!(matches!(
        protocol_error_job::call("{}"),
        Err(Error::Internal(_))
    ));
    let r = confirm_delete::call_with(r#"{"filename":"a.txt"}"#, &Call::default()).unwrap();
    assert!(matches!(r, Outcome::NeedsInput(_)));
    let call = Call::answering([("confirm", accept(json!({"confirm": true})))], None);
    assert_eq!(
        confirm_delete::call_with(r#"{"filename":"a.txt"}"#, &call).unwrap(),
        Outcome::Complete(ToolResult::text("Deleted a.txt"))
    );
    let r = ask::<multi_input>(&Call::default());
    assert_eq!(r.keys().collect::<Vec<_>>(), ["first", "second"]);
    let call = Call::answering([("user_name", accept(json!({"name": "Alice"})))], None);
    assert!(text::<test_tool_with_task>(&call).contains("Alice"));
}

#[test]
fn resources() {
    let read = |uri: &str, params: Vec<(String, String)>| {
        <P as corral_sdk::bindings::exports::corral::mcp::resources::Guest>::read_resource(
            uri.into(),
            params,
            None,
        )
    };
    use corral_sdk::bindings::exports::corral::mcp::resources::ReadOutcome;
    let Ok(ReadOutcome::Complete(c)) = read("test://template/123/data", vec![]) else {
        panic!()
    };
    assert_eq!(c[0].uri, "test://template/123/data");
    assert_eq!(c[0].mime_type.as_deref(), Some("application/json"));
    assert_eq!(
        c[0].body,
        ResourceBody::Text(r#"{"id":"123","templateTest":true,"data":"Data for ID: 123"}"#.into())
    );
    let Ok(ReadOutcome::Complete(c)) = read("test://static-binary", vec![]) else {
        panic!()
    };
    assert_eq!(c[0].body, ResourceBody::Blob(TEST_IMAGE_PNG.to_vec()));
    assert_eq!(c[0].mime_type.as_deref(), Some("image/png"));
    assert!(matches!(
        read(
            "test://nonexistent-resource-for-conformance-testing",
            vec![]
        ),
        Err(Error::NotFound(_))
    ));
    let list =
        <P as corral_sdk::bindings::exports::corral::mcp::resources::Guest>::list_resources();
    assert_eq!(list[0].uri, "test://static-text");
    assert_eq!(
        list[0].description.as_deref(),
        Some("A static text resource for testing")
    );
    let skill = list.iter().find(|r| r.uri.starts_with("skill://")).unwrap();
    let ResourceBody::Text(md) =
        &skill_manifest::read(&skill.uri, StrArgs::lenient(vec![])).unwrap()[0].body
    else {
        panic!()
    };
    assert!(md.contains(&format!("name: {}\n", skill.name)));
    assert!(md.contains(&format!(
        "description: {}\n",
        skill.description.as_deref().unwrap()
    )));
}

#[test]
fn prompts() {
    let r = test_prompt_with_arguments::get(vec![
        ("arg1".into(), "testValue1".into()),
        ("arg2".into(), "testValue2".into()),
    ])
    .unwrap();
    assert_eq!(
        r.messages,
        vec![Message::user(
            "Prompt with arguments: arg1='testValue1', arg2='testValue2'"
        )]
    );
    let d = test_prompt_with_arguments::definition();
    assert!(d.arguments.iter().all(|a| a.required));
    let r = test_prompt_with_embedded_resource::get(vec![(
        "resourceUri".into(),
        "test://example-resource".into(),
    )])
    .unwrap();
    let Content::Embedded(e) = &r.messages[0].content else {
        panic!()
    };
    assert_eq!(e.uri, "test://example-resource");
    let Ok(Outcome::NeedsInput(r)) =
        test_input_required_result_prompt::get_with(vec![], &Call::default())
    else {
        panic!()
    };
    assert_eq!(methods(&r), [("user_context", "elicitation/create")]);
    let call = Call::answering(
        [("user_context", accept(json!({"context": "test context"})))],
        None,
    );
    let Ok(Outcome::Complete(r)) = test_input_required_result_prompt::get_with(vec![], &call)
    else {
        panic!()
    };
    assert_eq!(
        r.messages,
        vec![Message::user("Prompt with context: test context")]
    );
    assert!(
        <P as corral_sdk::bindings::exports::corral::mcp::prompts::Guest>::list_prompts()
            .iter()
            .all(|p| p.description.is_some())
    );
}

#[test]
fn completions() {
    let prompt = CompletionRef::Prompt("test_prompt_with_arguments".into());
    assert_eq!(
        complete(&prompt, "arg1", "test"),
        ["testValue1", "testValue2"]
    );
    assert_eq!(complete(&prompt, "arg1", "par"), ["paris", "park", "party"]);
    let template = CompletionRef::Template("test://template/{id}/data".into());
    assert_eq!(complete(&template, "id", "12"), ["123"]);
    assert!(complete(&prompt, "other", "").is_empty());
}

#[test]
fn every_tool_is_described() {
    let tools = <P as corral_sdk::bindings::exports::corral::mcp::tools::Guest>::list_tools();
    assert_eq!(tools.len(), 35);
    for t in &tools {
        assert!(t.description.is_some(), "{} has no description", t.name);
        assert!(
            t.name.len() <= 64
                && t.name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_./-".contains(c)),
            "{}",
            t.name
        );
    }
}
