//! Asking the client for input: elicitation, sampling and roots.
//!
//! Calls are stateless. A handler that needs something from the client
//! returns an [`InputRequired`] listing keyed requests (and, optionally, a
//! `state` string); the host asks the client and calls the handler again
//! with the answers. The handler sees them through the [`Call`] it takes as a
//! `ctx: &Call` parameter, so "use the answer if it is there, else ask for
//! it" is one line:
//!
//! ```
//! use corral_sdk::prelude::*;
//!
//! /// Greets the user by name.
//! #[tool]
//! fn greet(ctx: &Call) -> Result<String, InputRequired> {
//!     let answer = ctx.elicit(
//!         "user_name",
//!         "What is your name?",
//!         json!({"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}),
//!     )?;
//!     let name: String = answer.get("name").unwrap_or_else(|| "stranger".into());
//!     Ok(format!("Hello, {name}!"))
//! }
//! # corral_sdk::export!(tools: [greet]);
//! ```

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::output::{IntoError, IntoMessages, ToolError};
use crate::{ElicitRequest, Error, Input, InputRequest, InputRequired, SampleRequest};

// ---------------------------------------------------------------------------
// The call

/// What a handler knows about the call it runs in: the client's answers to
/// the previous round's requests and the state that round asked to carry.
///
/// Take it as a `ctx: &Call` parameter of a `#[tool]`, `#[resource]` or
/// `#[prompt]` function; it is not part of the input schema. On the first
/// round there is no input: every `response` is `None`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Call {
    input: Option<Input>,
}

impl Call {
    /// A call with the host's `input` (`None` on the first round).
    pub fn new(input: Option<Input>) -> Self {
        Self { input }
    }

    /// A call answering a previous round: `responses` as `(key, JSON text)`
    /// and the state it carried. Handy in tests.
    pub fn answering<K: Into<String>, J: Into<String>>(
        responses: impl IntoIterator<Item = (K, J)>,
        state: Option<&str>,
    ) -> Self {
        Self::new(Some(Input {
            responses: responses
                .into_iter()
                .map(|(k, j)| (k.into(), j.into()))
                .collect(),
            state: state.map(str::to_owned),
        }))
    }

    /// The host's input, if this call answers a previous round.
    pub fn input(&self) -> Option<&Input> {
        self.input.as_ref()
    }

    /// The `state` the previous round asked to carry (the host guarantees it
    /// is unchanged).
    pub fn state(&self) -> Option<&str> {
        self.input.as_ref()?.state.as_deref()
    }

    /// The state parsed as JSON into `T` (see [`InputRequired::state_json`]);
    /// `None` when there is none or it does not fit `T`.
    pub fn state_json<T: DeserializeOwned>(&self) -> Option<T> {
        serde_json::from_str(self.state()?).ok()
    }

    /// The keys the client answered.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.input
            .iter()
            .flat_map(|i| i.responses.iter().map(|(k, _)| k.as_str()))
    }

    /// Whether the client answered anything.
    pub fn has_responses(&self) -> bool {
        self.keys().next().is_some()
    }

    /// The client's answer to request `key`, as JSON text.
    pub fn response_json(&self, key: &str) -> Option<&str> {
        let input = self.input.as_ref()?;
        input
            .responses
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, json)| json.as_str())
    }

    /// The client's answer to request `key` parsed into `T` (for example
    /// [`ElicitResult`], [`SampleResult`] or [`RootsResult`]); `None` when
    /// it is missing or does not fit `T`, so that the handler asks again.
    pub fn response<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        serde_json::from_str(self.response_json(key)?).ok()
    }

    /// The user's answer to elicitation `key`, or the request asking for it:
    /// `let answer = ctx.elicit("k", "Your name?", schema)?;`.
    ///
    /// `schema` is the flat JSON Schema object the answer must fit.
    pub fn elicit(
        &self,
        key: &str,
        message: impl Into<String>,
        schema: Value,
    ) -> Result<ElicitResult, InputRequired> {
        self.response(key)
            .ok_or_else(|| InputRequired::new().elicit(key, message, schema))
    }

    /// The model's answer to sampling request `key`, or the request asking
    /// for it. `messages` is a `&str`/`String` (one user message), a
    /// [`Message`](crate::Message) or a `Vec` of them.
    pub fn sample(
        &self,
        key: &str,
        messages: impl IntoMessages,
        max_tokens: u32,
    ) -> Result<SampleResult, InputRequired> {
        self.response(key)
            .ok_or_else(|| InputRequired::new().sample(key, messages, max_tokens))
    }

    /// The client's roots (answer to request `key`), or the request asking
    /// for them.
    pub fn roots(&self, key: &str) -> Result<Vec<Root>, InputRequired> {
        self.response::<RootsResult>(key)
            .map(|r| r.roots)
            .ok_or_else(|| InputRequired::new().roots(key))
    }
}

// ---------------------------------------------------------------------------
// Building requests

impl Default for InputRequired {
    fn default() -> Self {
        Self::new()
    }
}

impl InputRequired {
    /// No requests yet; add them with [`elicit`](Self::elicit),
    /// [`sample`](Self::sample), [`roots`](Self::roots) or
    /// [`request`](Self::request).
    pub fn new() -> Self {
        InputRequired {
            requests: Vec::new(),
            state: None,
        }
    }

    /// Adds `request` under `key`, replacing a request with the same key.
    pub fn request(mut self, key: impl Into<String>, request: InputRequest) -> Self {
        let key = key.into();
        self.requests.retain(|(k, _)| *k != key);
        self.requests.push((key, request));
        self
    }

    /// Asks the user (`elicitation/create`); the answer is an
    /// [`ElicitResult`]. `schema` is a flat JSON Schema object.
    pub fn elicit(self, key: impl Into<String>, message: impl Into<String>, schema: Value) -> Self {
        self.request(
            key,
            InputRequest::Elicit(ElicitRequest {
                message: message.into(),
                requested_schema: schema.to_string(),
            }),
        )
    }

    /// Asks the client's model (`sampling/createMessage`); the answer is a
    /// [`SampleResult`]. `messages` is a `&str`/`String` (one user message),
    /// a [`Message`](crate::Message) or a `Vec` of them.
    pub fn sample(
        self,
        key: impl Into<String>,
        messages: impl IntoMessages,
        max_tokens: u32,
    ) -> Self {
        self.request(
            key,
            InputRequest::Sample(SampleRequest {
                messages: messages.into_messages().unwrap_or_default(),
                max_tokens,
                system_prompt: None,
            }),
        )
    }

    /// Asks for the client's roots (`roots/list`); the answer is a
    /// [`RootsResult`] (or use [`Call::roots`]).
    pub fn roots(self, key: impl Into<String>) -> Self {
        self.request(key, InputRequest::Roots)
    }

    /// Sets the state the next round receives as [`Call::state`]. The host
    /// keeps it from the client's tampering; keep it small.
    pub fn state(mut self, state: impl Into<String>) -> Self {
        self.state = Some(state.into());
        self
    }

    /// Sets the state to `value` as JSON (read it with [`Call::state_json`]).
    pub fn state_json(self, value: &impl Serialize) -> Self {
        match serde_json::to_string(value) {
            Ok(json) => self.state(json),
            Err(_) => self,
        }
    }

    /// Adds the requests of `other` (and its state, if it has one).
    pub fn and(mut self, other: InputRequired) -> Self {
        for (key, request) in other.requests {
            self = self.request(key, request);
        }
        if other.state.is_some() {
            self.state = other.state;
        }
        self
    }

    /// The keys of the requests.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.requests.iter().map(|(k, _)| k.as_str())
    }

    /// Whether there are no requests.
    pub fn is_empty(&self) -> bool {
        self.requests.is_empty()
    }
}

/// Combines several "answer or request" results, so that one round asks for
/// everything that is missing:
///
/// ```
/// # use corral_sdk::prelude::*;
/// # fn f(ctx: &Call) -> Result<String, InputRequired> {
/// let (answer, roots) = (
///     ctx.elicit("name", "Your name?", json!({"type": "object"})),
///     ctx.roots("roots"),
/// )
///     .gather()?;
/// # Ok(format!("{answer:?} {roots:?}"))
/// # }
/// ```
pub trait Gather {
    /// The answers, in order.
    type Output;

    /// All the answers, or one [`InputRequired`] with every missing request.
    fn gather(self) -> Result<Self::Output, InputRequired>;
}

macro_rules! gather_tuple {
    ($($t:ident $v:ident),+) => {
        impl<$($t),+> Gather for ($(Result<$t, InputRequired>,)+) {
            type Output = ($($t,)+);

            fn gather(self) -> Result<Self::Output, InputRequired> {
                let ($($v,)+) = self;
                let mut missing: Option<InputRequired> = None;
                $(
                    if let Err(ask) = &$v {
                        missing = Some(match missing.take() {
                            Some(m) => m.and(ask.clone()),
                            None => ask.clone(),
                        });
                    }
                )+
                if let Some(m) = missing {
                    return Err(m);
                }
                Ok(($($v.unwrap_or_else(|_| unreachable!()),)+))
            }
        }
    };
}

gather_tuple!(A a, B b);
gather_tuple!(A a, B b, C c);
gather_tuple!(A a, B b, C c, D d);
gather_tuple!(A a, B b, C c, D d, E e);
gather_tuple!(A a, B b, C c, D d, E e, F f);

// ---------------------------------------------------------------------------
// What handlers return

/// A handler's result, or a request for input first. A `#[tool]`,
/// `#[resource]` or `#[prompt]` may return `Outcome<T>` (as well as
/// `Result<T, InputRequired>` or `Result<T, Interrupt>`).
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome<T> {
    /// The call finished.
    Complete(T),
    /// The call needs answers from the client first.
    NeedsInput(InputRequired),
}

impl<T> From<InputRequired> for Outcome<T> {
    fn from(request: InputRequired) -> Self {
        Outcome::NeedsInput(request)
    }
}

impl<T> Outcome<T> {
    /// Maps the complete value.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Outcome<U> {
        match self {
            Outcome::Complete(t) => Outcome::Complete(f(t)),
            Outcome::NeedsInput(i) => Outcome::NeedsInput(i),
        }
    }

    /// The complete value; needing input is an `internal` error (for callers
    /// that cannot ask the client, such as plain unit tests).
    pub fn into_result(self) -> Result<T, Error> {
        match self {
            Outcome::Complete(t) => Ok(t),
            Outcome::NeedsInput(i) => Err(needs_input_error(&i)),
        }
    }
}

pub(crate) fn needs_input_error(request: &InputRequired) -> Error {
    let keys = request.keys().collect::<Vec<_>>().join(", ");
    Error::Internal(format!("the call needs input from the client ({keys})"))
}

/// Why a handler stopped early: it needs input, or it failed.
///
/// Return `Result<T, Interrupt>` from a handler that may do both; `?`
/// converts an [`InputRequired`], a [`ToolError`], an [`Error`], a message
/// and the error types [`ToolError`] converts from.
#[derive(Debug, Clone, PartialEq)]
pub enum Interrupt {
    /// Ask the client first.
    NeedsInput(InputRequired),
    /// The call failed.
    Failed(Error),
}

impl From<InputRequired> for Interrupt {
    fn from(request: InputRequired) -> Self {
        Interrupt::NeedsInput(request)
    }
}

impl From<Error> for Interrupt {
    fn from(error: Error) -> Self {
        Interrupt::Failed(error)
    }
}

impl From<ToolError> for Interrupt {
    fn from(error: ToolError) -> Self {
        Interrupt::Failed(error.into_error())
    }
}

impl From<String> for Interrupt {
    fn from(message: String) -> Self {
        Interrupt::Failed(Error::ToolError(message))
    }
}

impl From<&str> for Interrupt {
    fn from(message: &str) -> Self {
        Interrupt::Failed(Error::ToolError(message.to_owned()))
    }
}

macro_rules! interrupt_from {
    ($($ty:ty),* $(,)?) => {
        $(impl From<$ty> for Interrupt {
            fn from(e: $ty) -> Self {
                Interrupt::Failed(Error::ToolError(e.to_string()))
            }
        })*
    };
}

interrupt_from!(
    std::io::Error,
    std::fmt::Error,
    std::num::ParseIntError,
    std::num::ParseFloatError,
    std::str::ParseBoolError,
    std::str::Utf8Error,
    std::string::FromUtf8Error,
    serde_json::Error,
    Box<dyn std::error::Error>,
    Box<dyn std::error::Error + Send + Sync>,
);

/// The error half of a handler's `Result<T, E>`: every [`IntoError`] type
/// (a failure), [`InputRequired`] (ask first) and [`Interrupt`] (either).
pub trait IntoInterrupt {
    /// Converts the value.
    fn into_interrupt(self) -> Interrupt;
}

impl<E: IntoError> IntoInterrupt for E {
    fn into_interrupt(self) -> Interrupt {
        Interrupt::Failed(self.into_error())
    }
}

impl IntoInterrupt for InputRequired {
    fn into_interrupt(self) -> Interrupt {
        Interrupt::NeedsInput(self)
    }
}

impl IntoInterrupt for Interrupt {
    fn into_interrupt(self) -> Interrupt {
        self
    }
}

// ---------------------------------------------------------------------------
// The client's answers

/// What the user did with an elicitation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ElicitAction {
    /// The user submitted the form.
    Accept,
    /// The user declined to answer.
    Decline,
    /// The user dismissed the request.
    Cancel,
}

/// The answer to an elicitation (MCP `ElicitResult`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ElicitResult {
    /// What the user did.
    pub action: ElicitAction,
    /// The submitted values (when accepted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<Map<String, Value>>,
}

impl ElicitResult {
    /// Whether the user submitted the form.
    pub fn accepted(&self) -> bool {
        self.action == ElicitAction::Accept
    }

    /// Field `name` of the submitted values, if the user accepted and it
    /// fits `T`.
    pub fn get<T: DeserializeOwned>(&self, name: &str) -> Option<T> {
        if !self.accepted() {
            return None;
        }
        let value = self.content.as_ref()?.get(name)?;
        serde_json::from_value(value.clone()).ok()
    }

    /// The submitted values as `T` (for example a `#[derive(Deserialize)]`
    /// struct), if the user accepted and they fit.
    pub fn content_as<T: DeserializeOwned>(&self) -> Option<T> {
        if !self.accepted() {
            return None;
        }
        serde_json::from_value(Value::Object(self.content.clone()?)).ok()
    }
}

/// The answer to a sampling request (MCP `CreateMessageResult`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleResult {
    /// Who speaks (normally `assistant`).
    #[serde(default)]
    pub role: String,
    /// The content block (or blocks), as JSON.
    pub content: Value,
    /// The model that answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Why sampling stopped.
    #[serde(
        default,
        rename = "stopReason",
        skip_serializing_if = "Option::is_none"
    )]
    pub stop_reason: Option<String>,
}

impl SampleResult {
    /// The text of the answer: the text block, or the first text block of a
    /// list.
    pub fn text(&self) -> Option<&str> {
        fn text_of(block: &Value) -> Option<&str> {
            (block.get("type")?.as_str()? == "text")
                .then(|| block.get("text")?.as_str())
                .flatten()
        }
        match &self.content {
            Value::Array(blocks) => blocks.iter().find_map(text_of),
            block => text_of(block),
        }
    }
}

/// One of the client's roots.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Root {
    /// The root's URI (normally `file://`).
    pub uri: String,
    /// A name for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// The answer to a roots request (MCP `ListRootsResult`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootsResult {
    /// The roots.
    pub roots: Vec<Root>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Content, Message};
    use serde_json::json;

    fn elicit_answer(content: Value) -> String {
        json!({"action": "accept", "content": content}).to_string()
    }

    #[test]
    fn first_round_asks() {
        let call = Call::default();
        assert_eq!(call.input(), None);
        assert_eq!(call.state(), None);
        assert!(!call.has_responses());
        let ask = call
            .elicit("name", "Your name?", json!({"type": "object"}))
            .unwrap_err();
        assert_eq!(ask.keys().collect::<Vec<_>>(), ["name"]);
        assert_eq!(
            ask.requests[0].1,
            InputRequest::Elicit(ElicitRequest {
                message: "Your name?".into(),
                requested_schema: r#"{"type":"object"}"#.into(),
            })
        );
        assert_eq!(ask.state, None);
        let ask = call.sample("s", "Hi", 50).unwrap_err();
        let InputRequest::Sample(s) = &ask.requests[0].1 else {
            panic!("expected a sample request")
        };
        assert_eq!(s.messages, vec![Message::user("Hi")]);
        assert_eq!(s.max_tokens, 50);
        assert_eq!(
            call.roots("r").unwrap_err().requests,
            vec![("r".to_owned(), InputRequest::Roots)]
        );
    }

    #[test]
    fn later_rounds_answer() {
        let call = Call::answering(
            [
                ("name", elicit_answer(json!({"name": "Alice", "age": 3}))),
                (
                    "s",
                    json!({"role": "assistant", "content": {"type": "text", "text": "Paris"}, "model": "m", "stopReason": "endTurn"}).to_string(),
                ),
                ("r", json!({"roots": [{"uri": "file:///a", "name": "A"}, {"uri": "file:///b"}]}).to_string()),
            ],
            Some(r#"{"round":2}"#),
        );
        assert!(call.has_responses());
        assert_eq!(call.keys().collect::<Vec<_>>(), ["name", "s", "r"]);
        assert_eq!(call.state(), Some(r#"{"round":2}"#));
        assert_eq!(call.state_json::<Value>(), Some(json!({"round": 2})));
        let answer = call.elicit("name", "?", json!({})).unwrap();
        assert!(answer.accepted());
        assert_eq!(answer.get::<String>("name").as_deref(), Some("Alice"));
        assert_eq!(answer.get::<u8>("age"), Some(3));
        assert_eq!(answer.get::<u8>("name"), None);
        #[derive(Deserialize, Debug, PartialEq)]
        struct Person {
            name: String,
        }
        assert_eq!(
            answer.content_as::<Person>(),
            Some(Person {
                name: "Alice".into()
            })
        );
        let sampled = call.sample("s", "?", 10).unwrap();
        assert_eq!(sampled.text(), Some("Paris"));
        assert_eq!(sampled.model.as_deref(), Some("m"));
        assert_eq!(sampled.stop_reason.as_deref(), Some("endTurn"));
        let roots = call.roots("r").unwrap();
        assert_eq!(roots.len(), 2);
        assert_eq!(roots[1].name, None);
        // Keys the handler did not ask for are ignored; missing keys ask.
        assert!(call.elicit("other", "?", json!({})).is_err());
    }

    #[test]
    fn invalid_answers_ask_again() {
        let call = Call::answering([("name", "12345"), ("s", "null")], None);
        assert_eq!(call.response_json("name"), Some("12345"));
        assert!(call.response::<ElicitResult>("name").is_none());
        assert!(call.elicit("name", "?", json!({})).is_err());
        assert!(call.sample("s", "?", 1).is_err());
        let declined = Call::answering([("name", r#"{"action":"decline"}"#)], None);
        let answer = declined.elicit("name", "?", json!({})).unwrap();
        assert!(!answer.accepted());
        assert_eq!(answer.action, ElicitAction::Decline);
        assert_eq!(answer.get::<String>("name"), None);
        assert_eq!(answer.content_as::<Value>(), None);
    }

    #[test]
    fn sample_text_from_blocks() {
        let r: SampleResult = serde_json::from_value(json!({
            "content": [{"type": "image", "data": "", "mimeType": "image/png"}, {"type": "text", "text": "t"}]
        }))
        .unwrap();
        assert_eq!(r.text(), Some("t"));
        assert_eq!(r.role, "");
        let r: SampleResult =
            serde_json::from_value(json!({"content": {"type": "image"}})).unwrap();
        assert_eq!(r.text(), None);
    }

    #[test]
    fn building_requests() {
        let ask = InputRequired::new()
            .elicit("a", "A?", json!({}))
            .roots("b")
            .sample("c", vec![Message::user("q"), Message::assistant("a")], 5)
            .elicit("a", "A again?", json!({}))
            .state("s1");
        assert_eq!(ask.keys().collect::<Vec<_>>(), ["b", "c", "a"]);
        assert_eq!(ask.state.as_deref(), Some("s1"));
        let merged = ask.clone().and(InputRequired::new().roots("d"));
        assert_eq!(merged.keys().collect::<Vec<_>>(), ["b", "c", "a", "d"]);
        assert_eq!(merged.state.as_deref(), Some("s1"));
        let merged = ask.and(InputRequired::new().state("s2"));
        assert_eq!(merged.state.as_deref(), Some("s2"));
        assert!(InputRequired::default().is_empty());
        let ask = InputRequired::new().state_json(&json!({"round": 1}));
        assert_eq!(ask.state.as_deref(), Some(r#"{"round":1}"#));
        let InputRequest::Sample(s) = &InputRequired::new()
            .sample("k", Message::assistant(Content::text("x")), 1)
            .requests[0]
            .1
        else {
            panic!()
        };
        assert_eq!(s.messages.len(), 1);
    }

    #[test]
    fn gathering() {
        let call = Call::answering([("a", elicit_answer(json!({"x": 1})))], Some("st"));
        let got = (
            call.elicit("a", "?", json!({})),
            call.roots("b"),
            call.sample("c", "?", 1),
        )
            .gather();
        let ask = got.unwrap_err();
        assert_eq!(ask.keys().collect::<Vec<_>>(), ["b", "c"]);
        let call = Call::answering(
            [
                ("a", elicit_answer(json!({"x": 1}))),
                ("b", r#"{"roots": []}"#.to_owned()),
            ],
            None,
        );
        let (a, b) = (call.elicit("a", "?", json!({})), call.roots("b"))
            .gather()
            .unwrap();
        assert_eq!(a.get::<u8>("x"), Some(1));
        assert!(b.is_empty());
    }

    #[test]
    fn outcomes_and_interrupts() {
        let o: Outcome<u8> = InputRequired::new().roots("r").into();
        assert_eq!(
            o.clone().into_result(),
            Err(Error::Internal(
                "the call needs input from the client (r)".into()
            ))
        );
        assert_eq!(
            o.map(|x| x + 1),
            Outcome::NeedsInput(InputRequired::new().roots("r"))
        );
        assert_eq!(Outcome::Complete(1u8).map(|x| x + 1).into_result(), Ok(2));
        let i: Interrupt = "bad".into();
        assert_eq!(i, Interrupt::Failed(Error::ToolError("bad".into())));
        let i: Interrupt = ToolError::new("t").into();
        assert_eq!(i, Interrupt::Failed(Error::ToolError("t".into())));
        let i: Interrupt = "x".parse::<u8>().unwrap_err().into();
        assert!(matches!(i, Interrupt::Failed(Error::ToolError(_))));
        assert_eq!(
            Error::NotFound("n".into()).into_interrupt(),
            Interrupt::Failed(Error::NotFound("n".into()))
        );
        assert_eq!(
            InputRequired::new().into_interrupt(),
            Interrupt::NeedsInput(InputRequired::new())
        );
    }
}
