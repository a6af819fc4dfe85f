//! The load generator's HTTP/1.1 client: one kept-alive TCP connection,
//! requests written and answers read in the calling task, buffers reused.
//!
//! On 2 cores the client and the server share the CPU, so the client should
//! cost as little as it can (as `wrk` does): a general client with a
//! connection task and a pool spends CPU the server could use, and a pool
//! may open a second connection while the first is being returned to it.
//! The same client measures Corral and FastMCP.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub struct Connection {
    stream: TcpStream,
    authority: String,
    path: String,
    request: Vec<u8>,
    read: Vec<u8>,
    /// Sent as `Authorization: Bearer …` with every request.
    bearer: Option<String>,
}

/// An answer: the session id it carries, and its body (chunks joined).
pub struct Answer {
    pub session: Option<String>,
    pub body: String,
}

impl Connection {
    /// Connect to `http://authority/path`.
    pub async fn open(url: &str) -> Connection {
        let rest = url.strip_prefix("http://").expect("an http:// URL");
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let stream = TcpStream::connect(authority).await.unwrap();
        stream.set_nodelay(true).unwrap();
        Connection {
            stream,
            authority: authority.to_owned(),
            path: if path.is_empty() { "/" } else { path }.to_owned(),
            request: Vec::with_capacity(1024),
            read: Vec::with_capacity(16 * 1024),
            bearer: None,
        }
    }

    /// Send `token` as a bearer token with every request.
    pub fn with_bearer(mut self, token: Option<String>) -> Connection {
        self.bearer = token;
        self
    }

    /// POST a JSON-RPC `payload` as a 2025-11-25 client; read the whole answer.
    pub async fn post(&mut self, payload: &str, session: Option<&str>) -> Answer {
        use std::io::Write;
        self.request.clear();
        write!(
            self.request,
            "POST {} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
             Accept: application/json, text/event-stream\r\nMCP-Protocol-Version: 2025-11-25\r\n",
            self.path, self.authority
        )
        .unwrap();
        if let Some(session) = session {
            write!(self.request, "Mcp-Session-Id: {session}\r\n").unwrap();
        }
        if let Some(token) = &self.bearer {
            write!(self.request, "Authorization: Bearer {token}\r\n").unwrap();
        }
        write!(
            self.request,
            "Content-Length: {}\r\n\r\n{payload}",
            payload.len()
        )
        .unwrap();
        self.stream.write_all(&self.request).await.unwrap();
        self.read_answer().await
    }

    async fn fill(&mut self) {
        let mut chunk = [0u8; 16 * 1024];
        let n = self.stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "the server closed the connection");
        self.read.extend_from_slice(&chunk[..n]);
    }

    async fn read_answer(&mut self) -> Answer {
        let (head_len, status, session, length, chunked) = loop {
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut response = httparse::Response::new(&mut headers);
            if let httparse::Status::Complete(head_len) = response.parse(&self.read).unwrap() {
                let header = |name: &str| {
                    response
                        .headers
                        .iter()
                        .find(|h| h.name.eq_ignore_ascii_case(name))
                        .map(|h| String::from_utf8_lossy(h.value).into_owned())
                };
                let length = header("content-length").map(|v| v.parse::<usize>().unwrap());
                let chunked = header("transfer-encoding").is_some_and(|v| v.contains("chunked"));
                break (
                    head_len,
                    response.code.unwrap(),
                    header("mcp-session-id"),
                    length,
                    chunked,
                );
            }
            self.fill().await;
        };
        assert!((200..300).contains(&status), "HTTP status {status}");
        self.read.drain(..head_len);
        let body = if chunked {
            self.read_chunked().await
        } else {
            let length = length.expect("Content-Length or chunked");
            while self.read.len() < length {
                self.fill().await;
            }
            self.read.drain(..length).collect()
        };
        Answer {
            session,
            body: String::from_utf8(body).unwrap(),
        }
    }

    async fn read_chunked(&mut self) -> Vec<u8> {
        let mut body = Vec::new();
        loop {
            let line_end = loop {
                if let Some(i) = self.read.windows(2).position(|w| w == b"\r\n") {
                    break i;
                }
                self.fill().await;
            };
            let size = std::str::from_utf8(&self.read[..line_end]).unwrap();
            let size = usize::from_str_radix(size.split(';').next().unwrap().trim(), 16).unwrap();
            // The chunk, then its CRLF (the last chunk is followed by an empty trailer line).
            while self.read.len() < line_end + 2 + size + 2 {
                self.fill().await;
            }
            body.extend_from_slice(&self.read[line_end + 2..line_end + 2 + size]);
            self.read.drain(..line_end + 2 + size + 2);
            if size == 0 {
                return body;
            }
        }
    }
}
