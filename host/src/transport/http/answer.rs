//! Quick answers as plain JSON.
//!
//! rmcp answers every request of a 2025 session with an SSE stream: a
//! priming event, the JSON-RPC response, then the end of the stream, sent as
//! at least two writes. Most calls finish in microseconds, so this layer
//! waits a little ([`JSON_ANSWER_WAIT`]) for the response: when the stream
//! holds nothing but the response (and events without data) and then ends,
//! the answer is sent as `application/json` in one write, which every
//! Streamable HTTP client accepts. Anything else (a notification or a
//! server request before the response, a slow call, a stream that does not
//! end) is streamed exactly as rmcp produced it, events already read first.
//! Cancellation is unchanged: a client that goes away drops the stream.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use futures::StreamExt;
use http_body_util::BodyExt;
use serde::de::IgnoredAny;

/// How long a POST's SSE answer may take to hold its response (and end)
/// and still be sent as plain JSON; slower answers are streamed as SSE, so
/// clients see the headers (and any progress) of a long call at once.
pub const JSON_ANSWER_WAIT: Duration = Duration::from_millis(200);

/// Turn a POST's SSE answer into JSON when it is one response, ready soon.
pub(super) async fn json_when_quick(request: Request, next: Next) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let response = next.run(request).await;
    let is_sse = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    if response.status() != StatusCode::OK || !is_sse {
        return response;
    }
    let (mut parts, mut body) = response.into_parts();
    let deadline = tokio::time::Instant::now() + JSON_ANSWER_WAIT;
    let mut read = Vec::new();
    let mut answer = None;
    loop {
        let frame = match tokio::time::timeout_at(deadline, body.frame()).await {
            Ok(Some(Ok(frame))) => frame,
            // Ended: a single response becomes JSON; anything else is sent as is.
            Ok(None) => break,
            Ok(Some(Err(_))) | Err(_) => return streamed(parts, read, body),
        };
        let Ok(data) = frame.into_data() else {
            return streamed(parts, read, body);
        };
        read.extend_from_slice(&data);
        match scan(&read) {
            Scan::Incomplete => {}
            Scan::Response(json) => answer = Some(json),
            Scan::Other => return streamed(parts, read, body),
        }
    }
    match answer {
        Some(json) => {
            parts.headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            parts.headers.remove(header::CACHE_CONTROL);
            parts.headers.remove("x-accel-buffering");
            Response::from_parts(parts, Body::from(json))
        }
        None => streamed(parts, read, Body::empty()),
    }
}

/// The events read so far, then the rest of the stream.
fn streamed(parts: axum::http::response::Parts, read: Vec<u8>, rest: Body) -> Response {
    let read = futures::stream::iter((!read.is_empty()).then(|| Ok(Bytes::from(read))));
    Response::from_parts(
        parts,
        Body::from_stream(read.chain(rest.into_data_stream())),
    )
}

#[derive(Debug, PartialEq)]
enum Scan {
    /// No event with data yet, or the last event is cut short.
    Incomplete,
    /// Exactly one event with data, a JSON-RPC response, and nothing after it.
    Response(String),
    /// Anything else: stream it.
    Other,
}

/// What the SSE text `read` holds so far.
fn scan(read: &[u8]) -> Scan {
    let Ok(text) = std::str::from_utf8(read) else {
        return Scan::Other;
    };
    let mut answer = None;
    let mut rest = text;
    while let Some(end) = rest.find("\n\n") {
        let event = &rest[..end];
        rest = &rest[end + 2..];
        let mut data: Option<String> = None;
        for line in event.lines() {
            let (field, value) = line.split_once(':').unwrap_or((line, ""));
            let value = value.strip_prefix(' ').unwrap_or(value);
            match field {
                "data" => match &mut data {
                    Some(data) => {
                        data.push('\n');
                        data.push_str(value);
                    }
                    None => data = Some(value.to_owned()),
                },
                // A named event is not a plain message.
                "event" => return Scan::Other,
                _ => {}
            }
        }
        match data {
            // Priming events (empty data) and comments carry no message.
            None => {}
            Some(data) if data.is_empty() => {}
            Some(_) if answer.is_some() => return Scan::Other,
            Some(data) if is_response(&data) => answer = Some(data),
            Some(_) => return Scan::Other,
        }
    }
    match answer {
        Some(_) if !rest.is_empty() => Scan::Other,
        Some(answer) => Scan::Response(answer),
        None => Scan::Incomplete,
    }
}

/// A JSON-RPC response or error (not a request or notification).
fn is_response(data: &str) -> bool {
    #[derive(serde::Deserialize)]
    struct Message {
        id: Option<IgnoredAny>,
        method: Option<IgnoredAny>,
        result: Option<IgnoredAny>,
        error: Option<IgnoredAny>,
    }
    serde_json::from_str::<Message>(data).is_ok_and(|m| {
        m.id.is_some() && m.method.is_none() && (m.result.is_some() || m.error.is_some())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const RESPONSE: &str = r#"{"jsonrpc":"2.0","id":1,"result":{}}"#;

    #[test]
    fn a_primed_response_is_one_answer() {
        let sse = format!("data: \nid: 0/1\nretry: 3000\n\ndata: {RESPONSE}\nid: 1/1\n\n");
        assert_eq!(scan(sse.as_bytes()), Scan::Response(RESPONSE.into()));
        let error = r#"{"jsonrpc":"2.0","id":1,"error":{"code":-32602,"message":"m"}}"#;
        assert_eq!(
            scan(format!(": ping\n\ndata:{error}\n\n").as_bytes()),
            Scan::Response(error.into())
        );
    }

    #[test]
    fn waits_for_a_whole_event() {
        assert_eq!(scan(b"data: \nid: 0/1\n\n"), Scan::Incomplete);
        assert_eq!(
            scan(format!("data: {RESPONSE}\n").as_bytes()),
            Scan::Incomplete
        );
    }

    #[test]
    fn anything_but_a_lone_response_is_streamed() {
        let notification = r#"{"jsonrpc":"2.0","method":"notifications/progress","params":{}}"#;
        let request = r#"{"jsonrpc":"2.0","id":"s1","method":"roots/list"}"#;
        for sse in [
            format!("data: {notification}\n\ndata: {RESPONSE}\n\n"),
            format!("data: {request}\n\n"),
            format!("data: {RESPONSE}\n\ndata: {RESPONSE}\n\n"),
            format!("data: {RESPONSE}\n\ndata: {{"),
            format!("event: custom\ndata: {RESPONSE}\n\n"),
            "data: not json\n\n".to_owned(),
        ] {
            assert_eq!(scan(sse.as_bytes()), Scan::Other, "{sse}");
        }
    }
}
