//! `[server.http]`: where and how the HTTP transports listen, and the
//! defaults of the bounds they keep.

use std::time::Duration;

use super::{AuthSettings, HostPattern, Rate, RedisTarget};

/// Default largest request body.
pub const DEFAULT_MAX_BODY: usize = 4 * 1024 * 1024;
/// Default number of live sessions (Streamable HTTP and legacy SSE each).
pub const DEFAULT_MAX_SESSIONS: usize = 1000;
/// Default idle time after which a Streamable HTTP session is closed.
pub const DEFAULT_SESSION_IDLE: Duration = Duration::from_secs(300);
/// Default number of HTTP connections open at once; more wait to be accepted.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;
/// Default time a client has to send a request's headers before it is
/// disconnected (slow or silent clients cannot hold connections).
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// What one client may do over HTTP: a principal with `[server.auth]`, a
/// client address without.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ClientLimits {
    /// Requests per period (`None`: unlimited).
    pub rate: Option<Rate>,
    /// Requests in flight at once (`None`: unlimited).
    pub concurrency: Option<usize>,
}

/// Which HTTP transport to serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HttpTransport {
    /// Streamable HTTP at `path` (MCP 2025-03-26 and later, both eras).
    Streamable,
    /// Legacy HTTP+SSE: `GET /sse` and `POST /messages` (MCP 2024-11-05).
    Sse,
}

/// Where and how to listen.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpOptions {
    /// Which HTTP transport to serve (chosen on the command line, not in the
    /// file).
    pub transport: HttpTransport,
    /// Address to bind; loopback by default.
    pub host: String,
    /// Port to bind; 0 picks a free one (the log says which).
    pub port: u16,
    /// The Streamable HTTP endpoint path.
    pub path: String,
    /// Accepted `Host` header values (`name` or `name:port`).
    pub allowed_hosts: Vec<HostPattern>,
    /// Accepted `Origin` values (`scheme://host[:port|:*]`); requests without
    /// an Origin (non-browser clients) are accepted.
    pub allowed_origins: Vec<String>,
    /// Largest request body, in bytes.
    pub max_body: usize,
    /// Most live sessions; the least recently used is closed past it.
    pub max_sessions: usize,
    /// Idle time after which a session is closed.
    pub session_idle: Duration,
    /// Most connections open at once (`serve_http` only).
    pub max_connections: usize,
    /// Time to receive a request's headers (`serve_http` only).
    pub header_timeout: Duration,
    /// `[server.auth]`: bearer authentication; `None`: none.
    pub auth: Option<AuthSettings>,
    /// Per-client limits (`rate`, `burst`, `concurrency`); a view of
    /// `[server.auth]` may set its own.
    pub client_limits: ClientLimits,
    /// `[server.sessions] store`: where Streamable HTTP sessions are kept
    /// so that every process sharing it can continue them (`None`: in this
    /// process only).
    pub session_store: Option<RedisTarget>,
    /// `metrics`: serve Prometheus metrics at `/metrics` (off by default).
    pub metrics: bool,
    /// `metrics_addr`: serve `/metrics` on a listener of its own, with any
    /// transport (stdio included).
    pub metrics_addr: Option<std::net::SocketAddr>,
    /// `ui`: serve the web console at `/ui` (off by default).
    pub ui: bool,
    /// `ui_calls`: let the console call tools (through the MCP endpoint,
    /// as any client may); without it the console is read-only.
    pub ui_calls: bool,
}

impl Default for HttpOptions {
    fn default() -> Self {
        Self {
            transport: HttpTransport::Streamable,
            host: "127.0.0.1".into(),
            port: 8000,
            path: "/mcp".into(),
            allowed_hosts: ["localhost", "127.0.0.1", "[::1]"]
                .iter()
                .filter_map(|h| HostPattern::parse(h).ok())
                .collect(),
            allowed_origins: vec![
                "http://localhost:*".into(),
                "http://127.0.0.1:*".into(),
                "http://[::1]:*".into(),
                "https://localhost:*".into(),
                "https://127.0.0.1:*".into(),
                "https://[::1]:*".into(),
            ],
            max_body: DEFAULT_MAX_BODY,
            max_sessions: DEFAULT_MAX_SESSIONS,
            session_idle: DEFAULT_SESSION_IDLE,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            auth: None,
            client_limits: ClientLimits::default(),
            session_store: None,
            metrics: false,
            metrics_addr: None,
            ui: false,
            ui_calls: false,
        }
    }
}

impl HttpOptions {
    /// The path a client connects to: the Streamable HTTP endpoint, or
    /// `/sse` for the legacy transport.
    pub fn entry_path(&self) -> &str {
        match self.transport {
            HttpTransport::Streamable => &self.path,
            HttpTransport::Sse => "/sse",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::parse_in;
    use super::*;

    #[test]
    fn the_console_is_off_unless_asked_and_calls_imply_it() {
        let t = "http-ui";
        let off = parse_in(t, "[server.http]\n").unwrap();
        assert!(!off.http.ui && !off.http.ui_calls && !HttpOptions::default().ui);
        let read_only = parse_in(t, "[server.http]\nui = true\n").unwrap();
        assert!(read_only.http.ui && !read_only.http.ui_calls);
        let calls = parse_in(t, "[server.http]\nui_calls = true\n").unwrap();
        assert!(calls.http.ui && calls.http.ui_calls);
        let wrong = parse_in(t, "[server.http]\nui = \"yes\"\n").unwrap_err();
        assert!(wrong.to_string().contains("ui"), "{wrong}");
    }
}
