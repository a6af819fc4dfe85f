//! Host patterns for `allow_hosts` and `server.http.allowed_hosts`: an exact
//! host (`api.weather.gov`, `127.0.0.1`, `[::1]`) or `*.suffix`, each with an
//! optional `:port`. No scheme, no path.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// A host an outgoing request (or an incoming `Host` header) may name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HostPattern {
    /// Lowercase; for a wildcard, the suffix after `*.`; IPv6 without brackets.
    host: String,
    wildcard: bool,
    port: Option<u16>,
}

impl HostPattern {
    /// Parse `host`, `*.suffix`, `[v6]`, each with an optional `:port`. The
    /// error says what is wrong and what is allowed.
    pub fn parse(text: &str) -> Result<Self, String> {
        const ALLOWED: &str = "allowed: an exact host (`api.example.com`), `*.example.com`, each with an optional `:port`";
        if text.is_empty() {
            return Err(format!("the host pattern is empty; {ALLOWED}"));
        }
        if let Some((scheme, rest)) = text.split_once("://") {
            let bare = rest.split('/').next().unwrap_or(rest);
            return Err(format!(
                "`{text}` has a scheme (`{scheme}://`); write the host alone, as `{bare}`"
            ));
        }
        if let Some(slash) = text.find('/') {
            return Err(format!(
                "`{text}` has a path; hosts are allowed, not URLs: write `{}`",
                &text[..slash]
            ));
        }
        if let Some(c) = text
            .chars()
            .find(|c| c.is_whitespace() || "@?#".contains(*c))
        {
            return Err(format!("`{text}` contains {c:?}; {ALLOWED}"));
        }
        let (host, port) = if let Some(rest) = text.strip_prefix('[') {
            let (inside, after) = rest
                .split_once(']')
                .ok_or_else(|| format!("`{text}` has `[` without `]`; write IPv6 as `[::1]`"))?;
            let ip: Ipv6Addr = inside
                .parse()
                .map_err(|_| format!("`{inside}` is not an IPv6 address"))?;
            let port = match after {
                "" => None,
                _ => Some(
                    after
                        .strip_prefix(':')
                        .ok_or_else(|| format!("`{text}`: after `]` only `:port` may follow"))?,
                ),
            };
            (ip.to_string(), port)
        } else {
            match text.rsplit_once(':') {
                Some((host, _)) if host.contains(':') => {
                    return Err(format!(
                        "`{text}`: write IPv6 addresses in brackets, as `[::1]` or `[::1]:8080`"
                    ));
                }
                Some((host, port)) => (host.to_ascii_lowercase(), Some(port)),
                None => (text.to_ascii_lowercase(), None),
            }
        };
        let port = match port {
            None => None,
            Some(p) => match p.parse::<u16>() {
                Ok(n) if n > 0 => Some(n),
                _ => {
                    return Err(format!(
                        "`{text}`: port `{p}` is not a number from 1 to 65535"
                    ));
                }
            },
        };
        let (host, wildcard) = match host.strip_prefix("*.") {
            Some(suffix) => (suffix.to_owned(), true),
            None => (host, false),
        };
        if host.contains('*') {
            return Err(format!(
                "`{text}`: `*` is only allowed as the whole first label, as in `*.example.com`"
            ));
        }
        let is_ip = host.parse::<Ipv4Addr>().is_ok() || host.parse::<Ipv6Addr>().is_ok();
        if wildcard && is_ip {
            return Err(format!(
                "`{text}`: `*.` needs a domain name after it, not an IP address"
            ));
        }
        if !is_ip && !is_host_name(&host) {
            return Err(format!(
                "`{text}`: `{host}` is not a host name (labels of letters, digits and `-`, separated by `.`); {ALLOWED}"
            ));
        }
        Ok(Self {
            host,
            wildcard,
            port,
        })
    }

    /// A `Host` header value the HTTP transports accept
    /// (`server.http.allowed_hosts`, `--allowed-host`): an exact host with an
    /// optional `:port`, IPv6 with or without brackets, no wildcard.
    pub fn parse_allowed_host(text: &str) -> Result<Self, String> {
        if let Ok(ip) = text.parse::<Ipv6Addr>() {
            return Self::parse(&format!("[{ip}]"));
        }
        let pattern = Self::parse(text)?;
        if pattern.wildcard {
            return Err(format!(
                "{text:?}: wildcards are not supported here; list each host name (with an optional `:port`)"
            ));
        }
        Ok(pattern)
    }

    /// Whether a request whose `Host` header (or URI authority) is
    /// `authority` (`name`, `name:port`, `[v6]:port`) is allowed.
    pub fn matches_authority(&self, authority: &str) -> bool {
        let (host, port) = match authority.strip_prefix('[') {
            Some(rest) => match rest.split_once(']') {
                Some((inside, "")) => (inside, None),
                Some((inside, after)) => match after.strip_prefix(':').map(str::parse::<u16>) {
                    Some(Ok(port)) => (inside, Some(port)),
                    _ => return false,
                },
                None => return false,
            },
            None => match authority.rsplit_once(':') {
                Some((name, port)) if !name.contains(':') => match port.parse::<u16>() {
                    Ok(port) => (name, Some(port)),
                    Err(_) => return false,
                },
                _ => (authority, None),
            },
        };
        self.matches(host, port)
    }

    /// Whether a request to `host` (a name, an IPv4 address, or an IPv6
    /// address with or without brackets) on `port` is allowed. `*.example.com`
    /// matches `api.example.com` and `a.b.example.com`, not `example.com`. A
    /// pattern with a port matches only that port (not `None`); one without
    /// matches any port.
    pub fn matches(&self, host: &str, port: Option<u16>) -> bool {
        if self.port.is_some() && port != self.port {
            return false;
        }
        let host = host.trim_end_matches('.');
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        let host = match host.parse::<Ipv6Addr>() {
            Ok(ip) => ip.to_string(),
            Err(_) => host.to_ascii_lowercase(),
        };
        if self.wildcard {
            host.len() > self.host.len() + 1
                && host.ends_with(&self.host)
                && host.as_bytes()[host.len() - self.host.len() - 1] == b'.'
        } else {
            host == self.host
        }
    }

    /// The host, or for `*.suffix` the suffix (lowercase; IPv6 unbracketed).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Whether this is a `*.suffix` pattern.
    pub fn is_wildcard(&self) -> bool {
        self.wildcard
    }

    /// The port it is limited to, if any.
    pub fn port(&self) -> Option<u16> {
        self.port
    }
}

impl FromStr for HostPattern {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::parse(s)
    }
}

impl fmt::Display for HostPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.wildcard {
            f.write_str("*.")?;
        }
        if self.host.contains(':') {
            write!(f, "[{}]", self.host)?;
        } else {
            f.write_str(&self.host)?;
        }
        if let Some(port) = self.port {
            write!(f, ":{port}")?;
        }
        Ok(())
    }
}

/// A DNS host name: dot-separated labels of 1..=63 letters, digits and `-`
/// (not at either end), 253 characters at most.
pub(super) fn is_host_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}
