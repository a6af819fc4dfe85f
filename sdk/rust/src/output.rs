//! Turning what a plugin function returns into WIT results.

use std::any::Any;
use std::fmt;

use serde::Serialize;
use serde_json::Value;

use crate::input::{Interrupt, IntoInterrupt, Outcome};
use crate::schema::{StructuredOutput, is_object_schema, output_schema};
use crate::{
    Blob, Content, Error, PromptMessage, ResourceBody, ResourceContents, Role, ToolResult,
};

/// A user-facing failure, always shown to the client (FastMCP's `ToolError`).
///
/// Return `Err(ToolError::new("..."))` from a tool, resource or prompt; the
/// client sees the message. `?` converts from `String`, `&str` and common
/// error types.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ToolError(pub String);

impl ToolError {
    /// A tool error with `message`.
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ToolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ToolError {}

impl From<String> for ToolError {
    fn from(message: String) -> Self {
        Self(message)
    }
}

impl From<&str> for ToolError {
    fn from(message: &str) -> Self {
        Self(message.to_owned())
    }
}

macro_rules! tool_error_from {
    ($($ty:ty),* $(,)?) => {
        $(impl From<$ty> for ToolError {
            fn from(e: $ty) -> Self {
                Self(e.to_string())
            }
        })*
    };
}

tool_error_from!(
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

/// Errors a plugin function may return in `Result<T, E>`.
///
/// [`ToolError`], `String` and `&str` become `tool-error` (shown to the
/// client); an [`Error`] is passed on as it is.
pub trait IntoError {
    /// The WIT error.
    fn into_error(self) -> Error;
}

impl IntoError for ToolError {
    fn into_error(self) -> Error {
        Error::ToolError(self.0)
    }
}

impl IntoError for Error {
    fn into_error(self) -> Error {
        self
    }
}

impl IntoError for String {
    fn into_error(self) -> Error {
        Error::ToolError(self)
    }
}

impl IntoError for &str {
    fn into_error(self) -> Error {
        Error::ToolError(self.to_owned())
    }
}

fn internal(e: impl fmt::Display) -> Error {
    Error::Internal(e.to_string())
}

// ---------------------------------------------------------------------------
// Content, tool results and messages

impl Content {
    /// Text content.
    pub fn text(text: impl Into<String>) -> Self {
        Content::Text(text.into())
    }

    /// An image, e.g. `Content::image(png_bytes, "image/png")`.
    pub fn image(data: impl Into<Vec<u8>>, mime_type: impl Into<String>) -> Self {
        Content::Image(Blob {
            data: data.into(),
            mime_type: mime_type.into(),
        })
    }

    /// An audio clip, e.g. `Content::audio(wav_bytes, "audio/wav")`.
    pub fn audio(data: impl Into<Vec<u8>>, mime_type: impl Into<String>) -> Self {
        Content::Audio(Blob {
            data: data.into(),
            mime_type: mime_type.into(),
        })
    }

    /// A link to a resource the client may read.
    pub fn link(uri: impl Into<String>, name: impl Into<String>) -> Self {
        Content::Link(crate::ResourceLink {
            uri: uri.into(),
            name: name.into(),
            description: None,
            mime_type: None,
        })
    }

    /// A resource embedded as text.
    pub fn embedded_text(
        uri: impl Into<String>,
        mime_type: Option<&str>,
        text: impl Into<String>,
    ) -> Self {
        Content::Embedded(ResourceContents {
            uri: uri.into(),
            mime_type: mime_type.map(str::to_owned),
            body: ResourceBody::Text(text.into()),
        })
    }
}

impl From<String> for Content {
    fn from(text: String) -> Self {
        Content::Text(text)
    }
}

impl From<&str> for Content {
    fn from(text: &str) -> Self {
        Content::Text(text.to_owned())
    }
}

impl ToolResult {
    /// A result with these content blocks.
    pub fn new(content: impl Into<Vec<Content>>) -> Self {
        ToolResult {
            content: content.into(),
            structured: None,
            is_error: false,
        }
    }

    /// A result with one text block.
    pub fn text(text: impl Into<String>) -> Self {
        Self::new(vec![Content::text(text)])
    }

    /// A failed result whose text says why (`is-error` set; the host still
    /// treats the call as completed).
    pub fn error(text: impl Into<String>) -> Self {
        ToolResult {
            is_error: true,
            ..Self::text(text)
        }
    }

    /// Adds structured content (should match the tool's output schema).
    pub fn with_structured(mut self, value: &impl Serialize) -> Self {
        self.structured = serde_json::to_string(value).ok();
        self
    }
}

/// A prompt message (`Message::user("...")`, `Message::assistant("...")`).
pub type Message = PromptMessage;

impl PromptMessage {
    /// A message from the user.
    pub fn user(content: impl Into<Content>) -> Self {
        PromptMessage {
            role: Role::User,
            content: content.into(),
        }
    }

    /// A message from the assistant.
    pub fn assistant(content: impl Into<Content>) -> Self {
        PromptMessage {
            role: Role::Assistant,
            content: content.into(),
        }
    }
}

// ---------------------------------------------------------------------------
// Tool return values

/// What a tool may return.
///
/// * `String`, `&str`: one text block, no structured content.
/// * numbers, `bool`, `Vec<T>`, maps, `Option<T>` and `#[derive(Schema)]`
///   types ([`StructuredOutput`]): the JSON text plus structured content with
///   an output schema; non-objects are wrapped as `{"result": value}`.
/// * `serde_json::Value`: the JSON text; objects also as structured content.
/// * [`ToolResult`], `Vec<Content>`, [`Content`]: as they are.
/// * `()`: no content.
/// * `Result<T, E>` with `E:` [`IntoInterrupt`] (an [`IntoError`] type,
///   [`InputRequired`](crate::InputRequired) or [`Interrupt`]): `Ok` as `T`,
///   `Err` as an error or a request for input.
/// * [`Outcome<T>`]: `T`, or a request for input.
pub trait IntoToolResult {
    /// The output schema, if the result is structured.
    fn output_schema() -> Option<Value> {
        None
    }

    /// Converts the value; a request for input is an `internal` error here.
    fn into_tool_result(self) -> Result<ToolResult, Error>;

    /// Converts the value, keeping a request for input.
    fn into_tool_outcome(self) -> Result<Outcome<ToolResult>, Error>
    where
        Self: Sized,
    {
        self.into_tool_result().map(Outcome::Complete)
    }
}

impl<T: StructuredOutput + Serialize> IntoToolResult for T {
    fn output_schema() -> Option<Value> {
        Some(output_schema(T::schema()))
    }

    fn into_tool_result(self) -> Result<ToolResult, Error> {
        // Serialized directly (not through `Value`) to keep the field order.
        let text = serde_json::to_string(&self).map_err(internal)?;
        let structured = if is_object_schema(&T::schema()) {
            text.clone()
        } else {
            format!("{{\"result\":{text}}}")
        };
        Ok(ToolResult {
            content: vec![Content::Text(text)],
            structured: Some(structured),
            is_error: false,
        })
    }
}

impl IntoToolResult for Value {
    fn into_tool_result(self) -> Result<ToolResult, Error> {
        let text = serde_json::to_string(&self).map_err(internal)?;
        let structured = self.is_object().then(|| text.clone());
        Ok(ToolResult {
            content: vec![Content::Text(text)],
            structured,
            is_error: false,
        })
    }
}

impl IntoToolResult for String {
    fn into_tool_result(self) -> Result<ToolResult, Error> {
        Ok(ToolResult::text(self))
    }
}

impl IntoToolResult for &str {
    fn into_tool_result(self) -> Result<ToolResult, Error> {
        Ok(ToolResult::text(self))
    }
}

impl IntoToolResult for () {
    fn into_tool_result(self) -> Result<ToolResult, Error> {
        Ok(ToolResult::new(Vec::new()))
    }
}

impl IntoToolResult for ToolResult {
    fn into_tool_result(self) -> Result<ToolResult, Error> {
        Ok(self)
    }
}

impl IntoToolResult for Content {
    fn into_tool_result(self) -> Result<ToolResult, Error> {
        Ok(ToolResult::new(vec![self]))
    }
}

impl IntoToolResult for Vec<Content> {
    fn into_tool_result(self) -> Result<ToolResult, Error> {
        Ok(ToolResult::new(self))
    }
}

/// The error of a `Result` whose error half may ask for input.
fn stopped<T>(e: impl IntoInterrupt) -> Result<Outcome<T>, Error> {
    match e.into_interrupt() {
        Interrupt::NeedsInput(request) => Ok(Outcome::NeedsInput(request)),
        Interrupt::Failed(error) => Err(error),
    }
}

impl<T: IntoToolResult, E: IntoInterrupt> IntoToolResult for Result<T, E> {
    fn output_schema() -> Option<Value> {
        T::output_schema()
    }

    fn into_tool_result(self) -> Result<ToolResult, Error> {
        self.into_tool_outcome()?.into_result()
    }

    fn into_tool_outcome(self) -> Result<Outcome<ToolResult>, Error> {
        match self {
            Ok(t) => t.into_tool_outcome(),
            Err(e) => stopped(e),
        }
    }
}

impl<T: IntoToolResult> IntoToolResult for Outcome<T> {
    fn output_schema() -> Option<Value> {
        T::output_schema()
    }

    fn into_tool_result(self) -> Result<ToolResult, Error> {
        self.into_tool_outcome()?.into_result()
    }

    fn into_tool_outcome(self) -> Result<Outcome<ToolResult>, Error> {
        match self {
            Outcome::Complete(t) => t.into_tool_outcome(),
            Outcome::NeedsInput(request) => Ok(Outcome::NeedsInput(request)),
        }
    }
}

// ---------------------------------------------------------------------------
// Resource return values

const JSON_MIME: &str = "application/json";

/// What a resource may return.
///
/// * `String`, `&str`: text (`text/plain` unless the resource says otherwise).
/// * `Vec<u8>`: a blob (`application/octet-stream` unless said otherwise).
/// * `serde_json::Value`, `#[derive(Schema)]` types and other
///   [`StructuredOutput`] types: JSON text (`application/json`).
/// * [`ResourceContents`], `Vec<ResourceContents>`: as they are.
/// * `Result<T, E>` with `E:` [`IntoInterrupt`], [`Outcome<T>`].
pub trait IntoResourceContents {
    /// The media type used when the resource does not name one.
    fn default_mime_type() -> Option<&'static str> {
        None
    }

    /// Converts the value; `mime_type` is the resource's media type. A
    /// request for input is an `internal` error here.
    fn into_contents(
        self,
        uri: &str,
        mime_type: Option<&str>,
    ) -> Result<Vec<ResourceContents>, Error>;

    /// Converts the value, keeping a request for input.
    fn into_contents_outcome(
        self,
        uri: &str,
        mime_type: Option<&str>,
    ) -> Result<Outcome<Vec<ResourceContents>>, Error>
    where
        Self: Sized,
    {
        self.into_contents(uri, mime_type).map(Outcome::Complete)
    }
}

fn one(uri: &str, mime_type: Option<&str>, body: ResourceBody) -> Vec<ResourceContents> {
    vec![ResourceContents {
        uri: uri.to_owned(),
        mime_type: mime_type.map(str::to_owned),
        body,
    }]
}

impl IntoResourceContents for String {
    fn default_mime_type() -> Option<&'static str> {
        Some("text/plain")
    }

    fn into_contents(
        self,
        uri: &str,
        mime_type: Option<&str>,
    ) -> Result<Vec<ResourceContents>, Error> {
        Ok(one(uri, mime_type, ResourceBody::Text(self)))
    }
}

impl IntoResourceContents for &str {
    fn default_mime_type() -> Option<&'static str> {
        Some("text/plain")
    }

    fn into_contents(
        self,
        uri: &str,
        mime_type: Option<&str>,
    ) -> Result<Vec<ResourceContents>, Error> {
        Ok(one(uri, mime_type, ResourceBody::Text(self.to_owned())))
    }
}

impl IntoResourceContents for Value {
    fn default_mime_type() -> Option<&'static str> {
        Some(JSON_MIME)
    }

    fn into_contents(
        self,
        uri: &str,
        mime_type: Option<&str>,
    ) -> Result<Vec<ResourceContents>, Error> {
        let text = serde_json::to_string(&self).map_err(internal)?;
        Ok(one(uri, mime_type, ResourceBody::Text(text)))
    }
}

/// `Vec<u8>` is a blob; every other structured type is JSON.
impl<T: StructuredOutput + Serialize + 'static> IntoResourceContents for T {
    fn default_mime_type() -> Option<&'static str> {
        if std::any::TypeId::of::<T>() == std::any::TypeId::of::<Vec<u8>>() {
            Some("application/octet-stream")
        } else {
            Some(JSON_MIME)
        }
    }

    fn into_contents(
        self,
        uri: &str,
        mime_type: Option<&str>,
    ) -> Result<Vec<ResourceContents>, Error> {
        let boxed: Box<dyn Any> = Box::new(self);
        match boxed.downcast::<Vec<u8>>() {
            Ok(bytes) => Ok(one(uri, mime_type, ResourceBody::Blob(*bytes))),
            Err(boxed) => {
                let value = boxed.downcast::<T>().expect("type checked above");
                let text = serde_json::to_string(&*value).map_err(internal)?;
                Ok(one(uri, mime_type, ResourceBody::Text(text)))
            }
        }
    }
}

impl IntoResourceContents for ResourceContents {
    fn into_contents(self, _: &str, _: Option<&str>) -> Result<Vec<ResourceContents>, Error> {
        Ok(vec![self])
    }
}

impl IntoResourceContents for Vec<ResourceContents> {
    fn into_contents(self, _: &str, _: Option<&str>) -> Result<Vec<ResourceContents>, Error> {
        Ok(self)
    }
}

impl<T: IntoResourceContents, E: IntoInterrupt> IntoResourceContents for Result<T, E> {
    fn default_mime_type() -> Option<&'static str> {
        T::default_mime_type()
    }

    fn into_contents(
        self,
        uri: &str,
        mime_type: Option<&str>,
    ) -> Result<Vec<ResourceContents>, Error> {
        self.into_contents_outcome(uri, mime_type)?.into_result()
    }

    fn into_contents_outcome(
        self,
        uri: &str,
        mime_type: Option<&str>,
    ) -> Result<Outcome<Vec<ResourceContents>>, Error> {
        match self {
            Ok(t) => t.into_contents_outcome(uri, mime_type),
            Err(e) => stopped(e),
        }
    }
}

impl<T: IntoResourceContents> IntoResourceContents for Outcome<T> {
    fn default_mime_type() -> Option<&'static str> {
        T::default_mime_type()
    }

    fn into_contents(
        self,
        uri: &str,
        mime_type: Option<&str>,
    ) -> Result<Vec<ResourceContents>, Error> {
        self.into_contents_outcome(uri, mime_type)?.into_result()
    }

    fn into_contents_outcome(
        self,
        uri: &str,
        mime_type: Option<&str>,
    ) -> Result<Outcome<Vec<ResourceContents>>, Error> {
        match self {
            Outcome::Complete(t) => t.into_contents_outcome(uri, mime_type),
            Outcome::NeedsInput(request) => Ok(Outcome::NeedsInput(request)),
        }
    }
}

// ---------------------------------------------------------------------------
// Prompt return values

/// What a prompt may return: `String`/`&str` (one user message), a
/// [`Message`], `Vec<Message>`, `Result<T, E>` with `E:` [`IntoInterrupt`],
/// or [`Outcome<T>`].
pub trait IntoMessages {
    /// Converts the value; a request for input is an `internal` error here.
    fn into_messages(self) -> Result<Vec<PromptMessage>, Error>;

    /// Converts the value, keeping a request for input.
    fn into_messages_outcome(self) -> Result<Outcome<Vec<PromptMessage>>, Error>
    where
        Self: Sized,
    {
        self.into_messages().map(Outcome::Complete)
    }
}

impl IntoMessages for String {
    fn into_messages(self) -> Result<Vec<PromptMessage>, Error> {
        Ok(vec![Message::user(self)])
    }
}

impl IntoMessages for &str {
    fn into_messages(self) -> Result<Vec<PromptMessage>, Error> {
        Ok(vec![Message::user(self)])
    }
}

impl IntoMessages for PromptMessage {
    fn into_messages(self) -> Result<Vec<PromptMessage>, Error> {
        Ok(vec![self])
    }
}

impl IntoMessages for Vec<PromptMessage> {
    fn into_messages(self) -> Result<Vec<PromptMessage>, Error> {
        Ok(self)
    }
}

impl<T: IntoMessages, E: IntoInterrupt> IntoMessages for Result<T, E> {
    fn into_messages(self) -> Result<Vec<PromptMessage>, Error> {
        self.into_messages_outcome()?.into_result()
    }

    fn into_messages_outcome(self) -> Result<Outcome<Vec<PromptMessage>>, Error> {
        match self {
            Ok(t) => t.into_messages_outcome(),
            Err(e) => stopped(e),
        }
    }
}

impl<T: IntoMessages> IntoMessages for Outcome<T> {
    fn into_messages(self) -> Result<Vec<PromptMessage>, Error> {
        self.into_messages_outcome()?.into_result()
    }

    fn into_messages_outcome(self) -> Result<Outcome<Vec<PromptMessage>>, Error> {
        match self {
            Outcome::Complete(t) => t.into_messages_outcome(),
            Outcome::NeedsInput(request) => Ok(Outcome::NeedsInput(request)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::BTreeMap;

    fn parse(s: &Option<String>) -> Value {
        serde_json::from_str(s.as_deref().expect("structured")).unwrap()
    }

    #[test]
    fn text_results() {
        let r = "hi".to_owned().into_tool_result().unwrap();
        assert_eq!(r.content, vec![Content::Text("hi".into())]);
        assert_eq!(r.structured, None);
        assert!(!r.is_error);
        assert_eq!(String::output_schema(), None);
        assert_eq!(<&str>::output_schema(), None);
    }

    #[test]
    fn wrapped_results() {
        let r = 6.0f64.into_tool_result().unwrap();
        assert_eq!(r.content, vec![Content::Text("6.0".into())]);
        assert_eq!(parse(&r.structured), json!({"result": 6.0}));
        assert_eq!(
            f64::output_schema().unwrap(),
            json!({
                "type": "object",
                "properties": {"result": {"type": "number"}},
                "required": ["result"],
                "x-fastmcp-wrap-result": true,
            })
        );
        let r = vec!["a".to_owned()].into_tool_result().unwrap();
        assert_eq!(parse(&r.structured), json!({"result": ["a"]}));
    }

    #[test]
    fn object_results() {
        let mut m = BTreeMap::new();
        m.insert("k".to_owned(), 1u8);
        let r = m.into_tool_result().unwrap();
        assert_eq!(parse(&r.structured), json!({"k": 1}));
        assert_eq!(
            BTreeMap::<String, u8>::output_schema().unwrap(),
            json!({"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}})
        );
        let r = json!({"a": 1}).into_tool_result().unwrap();
        assert_eq!(parse(&r.structured), json!({"a": 1}));
        let r = json!([1]).into_tool_result().unwrap();
        assert_eq!(r.structured, None);
        assert_eq!(Value::output_schema(), None);
    }

    #[test]
    fn result_errors() {
        let r: Result<f64, ToolError> = Err(ToolError::new("nope"));
        assert_eq!(r.into_tool_result(), Err(Error::ToolError("nope".into())));
        let r: Result<f64, Error> = Err(Error::InvalidParams("bad".into()));
        assert_eq!(
            r.into_tool_result(),
            Err(Error::InvalidParams("bad".into()))
        );
        assert!(Result::<f64, ToolError>::output_schema().is_some());
        let e: ToolError = "x".parse::<i32>().unwrap_err().into();
        assert_eq!(e.message(), "invalid digit found in string");
    }

    #[test]
    fn resource_contents() {
        let c = "hello"
            .to_owned()
            .into_contents("a://b", Some("text/plain"))
            .unwrap();
        assert_eq!(c[0].body, ResourceBody::Text("hello".into()));
        assert_eq!(c[0].mime_type.as_deref(), Some("text/plain"));
        let c = vec![1u8, 2].into_contents("a://b", None).unwrap();
        assert_eq!(c[0].body, ResourceBody::Blob(vec![1, 2]));
        assert_eq!(
            Vec::<u8>::default_mime_type(),
            Some("application/octet-stream")
        );
        assert_eq!(Vec::<u32>::default_mime_type(), Some("application/json"));
        let c = vec![1u32, 2].into_contents("a://b", None).unwrap();
        assert_eq!(c[0].body, ResourceBody::Text("[1,2]".into()));
        let c = json!({"a": 1}).into_contents("a://b", None).unwrap();
        assert_eq!(c[0].body, ResourceBody::Text(r#"{"a":1}"#.into()));
    }

    #[test]
    fn input_requests() {
        use crate::InputRequired;
        let ask = || InputRequired::new().roots("r");
        let r: Result<String, InputRequired> = Err(ask());
        assert_eq!(
            r.clone().into_tool_outcome(),
            Ok(Outcome::NeedsInput(ask()))
        );
        assert!(matches!(r.into_tool_result(), Err(Error::Internal(_))));
        let r: Result<String, Interrupt> = Err(Interrupt::Failed(Error::NotFound("x".into())));
        assert_eq!(r.into_tool_outcome(), Err(Error::NotFound("x".into())));
        let r: Result<String, Interrupt> = Ok("hi".into());
        assert_eq!(
            r.into_tool_outcome(),
            Ok(Outcome::Complete(ToolResult::text("hi")))
        );
        assert_eq!(
            Result::<f64, InputRequired>::output_schema(),
            f64::output_schema()
        );
        assert_eq!(Outcome::<f64>::output_schema(), f64::output_schema());
        let o: Outcome<String> = ask().into();
        assert_eq!(o.into_tool_outcome(), Ok(Outcome::NeedsInput(ask())));
        let o = Outcome::Complete("x");
        assert_eq!(o.into_tool_result(), Ok(ToolResult::text("x")));
        // A plain value never asks.
        assert_eq!(
            "x".into_tool_outcome(),
            Ok(Outcome::Complete(ToolResult::text("x")))
        );

        let r: Result<String, InputRequired> = Err(ask());
        assert_eq!(
            r.into_contents_outcome("a://b", None),
            Ok(Outcome::NeedsInput(ask()))
        );
        let o: Outcome<String> = Outcome::Complete("t".into());
        assert_eq!(
            o.into_contents_outcome("a://b", None)
                .unwrap()
                .into_result()
                .unwrap()[0]
                .body,
            ResourceBody::Text("t".into())
        );
        assert_eq!(
            Outcome::<Vec<u8>>::default_mime_type(),
            Some("application/octet-stream")
        );
        assert!(matches!(
            Outcome::<String>::NeedsInput(ask()).into_contents("a://b", None),
            Err(Error::Internal(_))
        ));

        let r: Result<String, InputRequired> = Err(ask());
        assert_eq!(r.into_messages_outcome(), Ok(Outcome::NeedsInput(ask())));
        let r: Result<String, Interrupt> = Err("no".into());
        assert_eq!(r.into_messages(), Err(Error::ToolError("no".into())));
        let o: Outcome<&str> = Outcome::Complete("m");
        assert_eq!(o.into_messages(), Ok(vec![Message::user("m")]));
        assert_eq!(
            Outcome::<&str>::NeedsInput(ask()).into_messages_outcome(),
            Ok(Outcome::NeedsInput(ask()))
        );
    }

    #[test]
    fn messages() {
        let m = "hi".into_messages().unwrap();
        assert_eq!(m, vec![Message::user("hi")]);
        assert_eq!(m[0].role, Role::User);
        let m = vec![Message::user("q"), Message::assistant("a")]
            .into_messages()
            .unwrap();
        assert_eq!(m[1].role, Role::Assistant);
        let r: Result<String, ToolError> = Err("bad".into());
        assert_eq!(r.into_messages(), Err(Error::ToolError("bad".into())));
    }
}
