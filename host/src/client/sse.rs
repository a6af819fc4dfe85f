//! The legacy HTTP+SSE client transport (MCP 2024-11-05), for servers
//! that do not speak Streamable HTTP: `GET` the SSE URL, read the
//! `endpoint` event, `POST` every message there, read answers as `message`
//! events. rmcp 3 has no client for it, so this is Corral's own, and it is
//! bounded: one event is at most `max_event` bytes, and at most
//! [`SSE_CLIENT_QUEUE`] messages wait in each direction.

use std::time::Duration;

use futures::StreamExt;
use futures::channel::mpsc;
use rmcp::RoleClient;
use rmcp::service::{RxJsonRpcMessage, TxJsonRpcMessage};

/// Messages that may wait in each direction of a legacy HTTP+SSE client
/// connection.
pub const SSE_CLIENT_QUEUE: usize = 64;

/// The two ends rmcp takes as a transport.
pub(super) type Ends = (
    mpsc::Sender<TxJsonRpcMessage<RoleClient>>,
    mpsc::Receiver<RxJsonRpcMessage<RoleClient>>,
);

/// Open the SSE stream at `url` and wait (at most `timeout`) for the
/// endpoint to post to; then move messages both ways until either side ends.
pub(super) async fn connect(
    url: &str,
    headers: reqwest::header::HeaderMap,
    timeout: Duration,
    max_event: usize,
) -> Result<Ends, String> {
    let client = reqwest::Client::builder()
        .default_headers(headers)
        .connect_timeout(timeout)
        .build()
        .map_err(|e| format!("an HTTP client: {e}"))?;
    let base = reqwest::Url::parse(url).map_err(|e| format!("{url}: {e}"))?;
    let response = tokio::time::timeout(
        timeout,
        client
            .get(base.clone())
            .header(reqwest::header::ACCEPT, "text/event-stream")
            .send(),
    )
    .await
    .map_err(|_| format!("no answer to GET {url} within {timeout:?}"))?
    .map_err(|e| format!("GET {url}: {e}"))?;
    if !response.status().is_success() {
        return Err(format!("GET {url}: {}", response.status()));
    }
    let mut events = Events::new(response.bytes_stream().boxed(), max_event);
    let endpoint = tokio::time::timeout(timeout, async {
        loop {
            match events.next().await? {
                Ok((name, data)) if name == "endpoint" => return Some(Ok(data)),
                Ok(_) => continue,
                Err(e) => return Some(Err(e)),
            }
        }
    })
    .await
    .map_err(|_| format!("no endpoint event from {url} within {timeout:?}"))?
    .ok_or_else(|| format!("{url} closed the stream before its endpoint event"))??;
    let endpoint = base
        .join(endpoint.trim())
        .map_err(|e| format!("the endpoint `{endpoint}`: {e}"))?;
    if endpoint.origin() != base.origin() {
        return Err(format!(
            "the endpoint `{endpoint}` is on another origin than {url}; refused"
        ));
    }
    let (to_server, mut outgoing) = mpsc::channel::<TxJsonRpcMessage<RoleClient>>(SSE_CLIENT_QUEUE);
    let (mut incoming, from_server) = mpsc::channel(SSE_CLIENT_QUEUE);
    tokio::spawn(async move {
        while let Some(Ok((name, data))) = events.next().await {
            if name != "message" {
                continue;
            }
            match serde_json::from_str::<RxJsonRpcMessage<RoleClient>>(&data) {
                Ok(message) => {
                    if futures::SinkExt::send(&mut incoming, message)
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
                Err(e) => {
                    tracing::warn!("a legacy SSE server sent a message that is not JSON-RPC: {e}")
                }
            }
        }
    });
    tokio::spawn(async move {
        while let Some(message) = outgoing.next().await {
            let posted = client
                .post(endpoint.clone())
                .json(&message)
                .timeout(timeout)
                .send()
                .await;
            match posted {
                Ok(answer) if answer.status().is_success() => {}
                Ok(answer) => {
                    tracing::warn!("POST {endpoint}: {}", answer.status());
                    return;
                }
                Err(e) => {
                    tracing::warn!("POST {endpoint}: {e}");
                    return;
                }
            }
        }
    });
    Ok((to_server, from_server))
}

type Bytes = futures::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>;

/// Server-sent events from a byte stream: `(event name, data)`, the name
/// `message` when the event has none. An event longer than `max` bytes ends
/// the stream with an error.
struct Events {
    bytes: Bytes,
    buffer: Vec<u8>,
    max: usize,
}

impl Events {
    fn new(bytes: Bytes, max: usize) -> Self {
        Self {
            bytes,
            buffer: Vec::new(),
            max,
        }
    }

    async fn next(&mut self) -> Option<Result<(String, String), String>> {
        loop {
            if let Some(end) = event_end(&self.buffer) {
                let raw: Vec<u8> = self.buffer.drain(..end.1).collect();
                let text = String::from_utf8_lossy(&raw[..end.0]).into_owned();
                match parse_event(&text) {
                    Some(event) => return Some(Ok(event)),
                    None => continue,
                }
            }
            if self.buffer.len() > self.max {
                return Some(Err(format!(
                    "an event of more than {} bytes (max_output)",
                    self.max
                )));
            }
            match self.bytes.next().await? {
                Ok(chunk) => self.buffer.extend_from_slice(&chunk),
                Err(e) => return Some(Err(e.to_string())),
            }
        }
    }
}

/// Where the first event in `buffer` ends: (end of its text, end of its
/// blank-line separator).
fn event_end(buffer: &[u8]) -> Option<(usize, usize)> {
    let lf = buffer
        .windows(2)
        .position(|w| w == b"\n\n")
        .map(|i| (i, i + 2));
    let crlf = buffer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (i, i + 4));
    match (lf, crlf) {
        (Some(a), Some(b)) => Some(if a.0 < b.0 { a } else { b }),
        (a, b) => a.or(b),
    }
}

/// One event's `event:` name and `data:` lines (joined by newlines);
/// `None` for comments and events without data.
fn parse_event(text: &str) -> Option<(String, String)> {
    let mut name = String::from("message");
    let mut data: Vec<&str> = Vec::new();
    for line in text.lines() {
        if let Some(value) = line.strip_prefix("event:") {
            name = value.trim().to_owned();
        } else if let Some(value) = line.strip_prefix("data:") {
            data.push(value.strip_prefix(' ').unwrap_or(value));
        }
    }
    (!data.is_empty()).then(|| (name, data.join("\n")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_split_and_parse() {
        let text =
            "event: endpoint\ndata: /messages?sessionId=1\n\n: comment\n\ndata: {\"a\":1}\r\n\r\n";
        let (a, b) = event_end(text.as_bytes()).unwrap();
        assert_eq!(
            parse_event(&text[..a]),
            Some(("endpoint".into(), "/messages?sessionId=1".into()))
        );
        let rest = &text[b..];
        let (a, b2) = event_end(rest.as_bytes()).unwrap();
        assert_eq!(parse_event(&rest[..a]), None, "a comment");
        let last = &rest[b2..];
        let (a, _) = event_end(last.as_bytes()).unwrap();
        assert_eq!(
            parse_event(&last[..a]),
            Some(("message".into(), "{\"a\":1}".into()))
        );
    }

    #[tokio::test]
    async fn an_endless_event_is_refused_at_the_bound() {
        let chunks =
            futures::stream::iter((0..100).map(|_| Ok(bytes::Bytes::from(vec![b'x'; 1024]))));
        let mut events = Events::new(chunks.boxed(), 8 * 1024);
        let refused = events.next().await.unwrap().unwrap_err();
        assert!(refused.contains("8192 bytes"), "{refused}");
    }
}
