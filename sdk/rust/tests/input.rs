//! Handlers that ask the client for input (`ctx: &Call`), run natively.

use corral_sdk::__private::{PromptHandler, ResourceHandler, StrArgs, ToolHandler};
use corral_sdk::bindings::exports::corral::mcp::{prompts, resources, tools};
use corral_sdk::prelude::*;
use corral_sdk::{Input, InputRequest, ResourceBody};

fn json_of(s: &str) -> Value {
    serde_json::from_str(s).unwrap()
}

fn name_schema() -> Value {
    json!({"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]})
}

fn accept(content: Value) -> String {
    json!({"action": "accept", "content": content}).to_string()
}

/// Greets the user, asking for their name first.
///
/// # Arguments
/// * `greeting` - The greeting word
#[tool]
fn greet(ctx: &Call, #[default("Hello".into())] greeting: String) -> Result<String, InputRequired> {
    let answer = ctx.elicit("user_name", "What is your name?", name_schema())?;
    let name: String = answer.get("name").unwrap_or_else(|| "stranger".into());
    Ok(format!("{greeting}, {name}!"))
}

/// Asks for everything at once, carrying state; fails on a bad state.
#[tool]
fn everything(ctx: &corral_sdk::Call) -> Result<String, Interrupt> {
    if let Some(state) = ctx.state()
        && state != "v1"
    {
        return Err(ToolError::new("bad state").into());
    }
    let (answer, sampled, roots) = (
        ctx.elicit("name", "Name?", name_schema()),
        ctx.sample("greeting", "Write a greeting", 50),
        ctx.roots("roots"),
    )
        .gather()
        .map_err(|ask| ask.state("v1"))?;
    Ok(format!(
        "{} / {} / {}",
        answer.get::<String>("name").unwrap_or_default(),
        sampled.text().unwrap_or_default(),
        roots.len()
    ))
}

/// Two rounds: the name, then the colour; the name travels in the state.
#[tool]
fn two_rounds(ctx: &Call) -> Outcome<String> {
    #[derive(Serialize, Deserialize)]
    struct State {
        name: String,
    }
    if let Some(State { name }) = ctx.state_json::<State>() {
        return match ctx.response::<ElicitResult>("colour") {
            Some(a) => Outcome::Complete(format!(
                "{name} likes {}",
                a.get::<String>("colour").unwrap_or_default()
            )),
            None => InputRequired::new()
                .elicit("colour", "Colour?", json!({"type": "object"}))
                .state_json(&State { name })
                .into(),
        };
    }
    match ctx.response::<ElicitResult>("name") {
        Some(a) => InputRequired::new()
            .elicit("colour", "Colour?", json!({"type": "object"}))
            .state_json(&State {
                name: a.get("name").unwrap_or_default(),
            })
            .into(),
        None => InputRequired::new()
            .elicit("name", "Name?", name_schema())
            .into(),
    }
}

/// A tool with a hand-written input schema.
#[tool(input_schema = json!({
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {"region": {"type": "string", "x-mcp-header": "Region"}},
    "required": ["region"],
}))]
fn raw_schema(region: String) -> String {
    format!("region {region}")
}

/// A secret, released once the user confirms.
#[resource("secret://{id}", mime_type = "text/plain")]
fn secret(id: String, ctx: &Call) -> Result<String, InputRequired> {
    let answer = ctx.elicit(
        "confirm",
        format!("Reveal {id}?"),
        json!({"type": "object"}),
    )?;
    Ok(if answer.accepted() {
        format!("secret {id}")
    } else {
        "withheld".into()
    })
}

/// A prompt built from the user's context.
///
/// # Arguments
/// * `topic` - What to talk about
#[prompt]
fn with_context(topic: String, ctx: &Call) -> Result<String, InputRequired> {
    let answer = ctx.elicit("context", "Context?", json!({"type": "object"}))?;
    Ok(format!(
        "{topic}: {}",
        answer.get::<String>("context").unwrap_or_default()
    ))
}

corral_sdk::export!(
    tools: [greet, everything, two_rounds, raw_schema],
    resources: [secret],
    prompts: [with_context],
);

struct P;
impl corral_sdk::__private::Plugin for P {
    const TOOLS: &'static [corral_sdk::__private::ToolEntry] = &[
        corral_sdk::__private::ToolEntry::of::<greet>(),
        corral_sdk::__private::ToolEntry::of::<two_rounds>(),
    ];
    const RESOURCES: &'static [corral_sdk::__private::ResourceEntry] =
        &[corral_sdk::__private::ResourceEntry::of::<secret>()];
    const PROMPTS: &'static [corral_sdk::__private::PromptEntry] =
        &[corral_sdk::__private::PromptEntry::of::<with_context>()];
}

fn needs(outcome: Outcome<impl std::fmt::Debug>) -> InputRequired {
    match outcome {
        Outcome::NeedsInput(i) => i,
        Outcome::Complete(c) => panic!("expected a request for input, got {c:?}"),
    }
}

#[test]
fn context_is_not_an_argument() {
    let d = greet::definition();
    assert_eq!(
        json_of(&d.input_schema),
        json!({
            "type": "object",
            "properties": {"greeting": {"type": "string", "description": "The greeting word", "default": "Hello"}},
            "additionalProperties": false,
        })
    );
    assert_eq!(d.output_schema, None);
    assert!(
        with_context::definition()
            .arguments
            .iter()
            .map(|a| a.name.as_str())
            .eq(["topic"])
    );
    assert_eq!(<secret as ResourceHandler>::VARIABLES, &["id"]);
    // `ctx` is not an argument a client may pass.
    assert!(matches!(
        greet::call_with(r#"{"ctx": 1}"#, &Call::default()),
        Err(Error::InvalidParams(_))
    ));
}

#[test]
fn tool_asks_then_completes() {
    let ask = needs(greet::call_with("{}", &Call::default()).unwrap());
    assert_eq!(ask.keys().collect::<Vec<_>>(), ["user_name"]);
    assert_eq!(ask.state, None);
    let InputRequest::Elicit(e) = &ask.requests[0].1 else {
        panic!("expected an elicitation")
    };
    assert_eq!(e.message, "What is your name?");
    assert_eq!(json_of(&e.requested_schema), name_schema());

    let call = Call::answering([("user_name", accept(json!({"name": "Alice"})))], None);
    let r = greet::call_with(r#"{"greeting": "Hi"}"#, &call)
        .unwrap()
        .into_result()
        .unwrap();
    assert_eq!(r, ToolResult::text("Hi, Alice!"));

    // Wrong keys or malformed answers ask again; extra keys are ignored.
    let wrong = Call::answering([("other", accept(json!({"name": "x"})))], None);
    needs(greet::call_with("{}", &wrong).unwrap());
    let malformed = Call::answering([("user_name", "12345")], None);
    needs(greet::call_with("{}", &malformed).unwrap());
    let extra = Call::answering(
        [
            ("user_name", accept(json!({"name": "Bo"}))),
            ("extra", accept(json!({"foo": 1}))),
        ],
        None,
    );
    assert!(matches!(
        greet::call_with("{}", &extra),
        Ok(Outcome::Complete(_))
    ));

    // Without a call (plain `call`), asking is an internal error.
    assert!(matches!(greet::call("{}"), Err(Error::Internal(_))));
}

#[test]
fn gathering_and_state() {
    let ask = needs(everything::call_with("{}", &Call::default()).unwrap());
    assert_eq!(
        ask.keys().collect::<Vec<_>>(),
        ["name", "greeting", "roots"]
    );
    assert_eq!(ask.state.as_deref(), Some("v1"));
    assert_eq!(ask.requests[2].1, InputRequest::Roots);

    let partial = Call::answering([("name", accept(json!({"name": "A"})))], Some("v1"));
    let ask = needs(everything::call_with("{}", &partial).unwrap());
    assert_eq!(ask.keys().collect::<Vec<_>>(), ["greeting", "roots"]);

    let all = Call::answering(
        [
            ("name", accept(json!({"name": "A"}))),
            (
                "greeting",
                json!({"role": "assistant", "content": {"type": "text", "text": "Hey"}, "model": "m"})
                    .to_string(),
            ),
            ("roots", json!({"roots": [{"uri": "file:///r"}]}).to_string()),
        ],
        Some("v1"),
    );
    assert_eq!(
        everything::call_with("{}", &all).unwrap(),
        Outcome::Complete(ToolResult::text("A / Hey / 1"))
    );
    let bad = Call::answering(Vec::<(String, String)>::new(), Some("v0"));
    assert_eq!(
        everything::call_with("{}", &bad),
        Err(Error::ToolError("bad state".into()))
    );
}

#[test]
fn several_rounds() {
    let r1 = needs(two_rounds::call_with("{}", &Call::default()).unwrap());
    assert_eq!(r1.keys().collect::<Vec<_>>(), ["name"]);
    assert_eq!(r1.state, None);
    let c2 = Call::answering([("name", accept(json!({"name": "Ann"})))], None);
    let r2 = needs(two_rounds::call_with("{}", &c2).unwrap());
    assert_eq!(r2.keys().collect::<Vec<_>>(), ["colour"]);
    assert_eq!(r2.state.as_deref(), Some(r#"{"name":"Ann"}"#));
    let c3 = Call::answering(
        [("colour", accept(json!({"colour": "blue"})))],
        r2.state.as_deref(),
    );
    assert_eq!(
        two_rounds::call_with("{}", &c3).unwrap(),
        Outcome::Complete(ToolResult::text("Ann likes blue"))
    );
}

#[test]
fn raw_input_schema() {
    let d = raw_schema::definition();
    let schema = json_of(&d.input_schema);
    assert_eq!(schema["properties"]["region"]["x-mcp-header"], "Region");
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    assert_eq!(
        raw_schema::call(r#"{"region": "eu"}"#).unwrap(),
        ToolResult::text("region eu")
    );
}

#[test]
fn resources_and_prompts_ask() {
    let ask = needs(
        secret::read_with(
            "secret://7",
            StrArgs::lenient(vec![("id".into(), "7".into())]),
            &Call::default(),
        )
        .unwrap(),
    );
    let InputRequest::Elicit(e) = &ask.requests[0].1 else {
        panic!()
    };
    assert_eq!(e.message, "Reveal 7?");
    let yes = Call::answering([("confirm", accept(json!({})))], None);
    let Outcome::Complete(c) = secret::read_with(
        "secret://7",
        StrArgs::lenient(vec![("id".into(), "7".into())]),
        &yes,
    )
    .unwrap() else {
        panic!()
    };
    assert_eq!(c[0].body, ResourceBody::Text("secret 7".into()));

    let args = || vec![("topic".to_owned(), "cats".to_owned())];
    needs(with_context::get_with(args(), &Call::default()).unwrap());
    let call = Call::answering([("context", accept(json!({"context": "indoor"})))], None);
    let Outcome::Complete(r) = with_context::get_with(args(), &call).unwrap() else {
        panic!()
    };
    assert_eq!(r.messages, vec![Message::user("cats: indoor")]);
    assert_eq!(
        r.description.as_deref(),
        Some("A prompt built from the user's context.")
    );
}

#[test]
fn dispatch_passes_input() {
    let out = <P as tools::Guest>::call_tool("greet".into(), "{}".into(), None).unwrap();
    let tools::Outcome::NeedsInput(ask) = out else {
        panic!()
    };
    assert_eq!(ask.keys().collect::<Vec<_>>(), ["user_name"]);
    let input = Input {
        responses: vec![("user_name".into(), accept(json!({"name": "Z"})))],
        state: None,
    };
    let out = <P as tools::Guest>::call_tool("greet".into(), "{}".into(), Some(input)).unwrap();
    assert_eq!(out, tools::Outcome::Complete(ToolResult::text("Hello, Z!")));

    let out = <P as resources::Guest>::read_resource("secret://x".into(), vec![], None).unwrap();
    assert!(matches!(out, resources::ReadOutcome::NeedsInput(_)));
    let input = Input {
        responses: vec![("confirm".into(), r#"{"action":"decline"}"#.into())],
        state: None,
    };
    let out =
        <P as resources::Guest>::read_resource("secret://x".into(), vec![], Some(input)).unwrap();
    let resources::ReadOutcome::Complete(c) = out else {
        panic!()
    };
    assert_eq!(c[0].body, ResourceBody::Text("withheld".into()));

    let out = <P as prompts::Guest>::get_prompt(
        "with_context".into(),
        vec![("topic".into(), "t".into())],
        None,
    )
    .unwrap();
    assert!(matches!(out, prompts::GetOutcome::NeedsInput(_)));
    assert_eq!(<with_context as PromptHandler>::NAME, "with_context");
    assert_eq!(<two_rounds as ToolHandler>::NAME, "two_rounds");
}
