//! The host side of `wasi:http/outgoing-handler`: outgoing HTTP, allowed
//! only to the hosts a plugin's `allow_hosts` grant names. Everything else
//! is refused with `HTTP-request-denied` before any connection is made; an
//! allowed name is resolved and checked by [`super::outgoing`].

use std::sync::Arc;

use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

use crate::config::HostPattern;
use crate::provider::Usage;

type Sent = Box<
    dyn Future<
            Output = Result<
                (
                    http::Response<WasiBody>,
                    Box<dyn Future<Output = Result<(), Error>> + Send>,
                ),
                Error,
            >,
        > + Send,
>;

/// Which hosts one plugin may reach over HTTP.
#[derive(Debug, Clone)]
pub(crate) struct HttpPolicy {
    pub(crate) plugin: Arc<str>,
    pub(crate) allow: Arc<[HostPattern]>,
    /// The current call's usage: the hosts it contacts are noted there.
    pub(crate) usage: Arc<Usage>,
}

impl HttpPolicy {
    /// A pattern with a port allows that port; one without allows only the
    /// scheme's default port (443 for https, 80 for http).
    /// A URL with userinfo (`user@host`) is refused whatever the host.
    fn allows(&self, uri: &http::Uri) -> bool {
        let Some(host) = uri.host() else {
            return false;
        };
        if uri.authority().is_some_and(|a| a.as_str().contains('@')) {
            return false;
        }
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let default_port = match uri.scheme_str() {
            Some("https") => 443,
            Some("http") => 80,
            _ => return false,
        };
        let port = uri.port_u16().unwrap_or(default_port);
        self.allow
            .iter()
            .any(|p| p.matches(host, Some(port)) && (p.port().is_some() || port == default_port))
    }
}

impl WasiHttpHooks for HttpPolicy {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: Box<dyn Future<Output = Result<(), Error>> + Send>,
    ) -> Sent {
        drop(fut);
        let allowed = self.allows(request.uri());
        if let Some(host) = request.uri().host() {
            let https = request.uri().scheme_str() == Some("https");
            let port = (request.uri().port_u16()).unwrap_or(if https { 443 } else { 80 });
            self.usage.contacted(&format!("{host}:{port}"), allowed);
        }
        if !allowed {
            tracing::warn!(
                plugin = %self.plugin,
                uri = %request.uri(),
                "outgoing HTTP refused: the host is not in the plugin's allow_hosts grant"
            );
            return Box::new(async { Err(Error::HttpRequestDenied) });
        }
        tracing::debug!(plugin = %self.plugin, uri = %request.uri(), "outgoing HTTP");
        let allow = self.allow.clone();
        Box::new(async move { super::outgoing::send(request, options, &allow).await })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(patterns: &[&str]) -> HttpPolicy {
        HttpPolicy {
            usage: Arc::default(),
            plugin: "p".into(),
            allow: patterns
                .iter()
                .map(|p| HostPattern::parse(p).unwrap())
                .collect(),
        }
    }

    #[test]
    fn only_listed_hosts_and_ports_are_allowed() {
        let p = policy(&["api.weather.gov", "*.example.com", "127.0.0.1:8080"]);
        let allows = |uri: &str| p.allows(&uri.parse().unwrap());
        assert!(allows("https://api.weather.gov/points"));
        assert!(allows("https://sub.example.com/"));
        assert!(!allows("https://example.com/"));
        assert!(allows("http://127.0.0.1:8080/x"));
        assert!(!allows("http://127.0.0.1:8081/x"));
        assert!(!allows("http://localhost:8080/x"));
        assert!(!allows("https://evil.example/"));
        // Without a port in the grant, only the scheme's default port.
        assert!(allows("http://api.weather.gov/"));
        assert!(allows("https://api.weather.gov:443/"));
        assert!(!allows("https://api.weather.gov:8443/"));
        assert!(!allows("http://sub.example.com:6379/"));
        let local = policy(&["localhost"]);
        assert!(local.allows(&"http://localhost/".parse().unwrap()));
        assert!(!local.allows(&"http://localhost:5432/".parse().unwrap()));
        assert!(!local.allows(&"http://user@localhost/".parse().unwrap()));
        assert!(!allows("https://api.weather.gov@evil.example/"));
        assert!(!allows("ftp://api.weather.gov/"));
        assert!(!policy(&[]).allows(&"https://api.weather.gov/".parse().unwrap()));
    }
}
