//! Sending a plugin's allowed HTTP request to an address the host checked.
//!
//! An `allow_hosts` grant names hosts, but what a name resolves to is up to
//! whoever controls its DNS: a plugin allowed `*.example.com` could be sent
//! to 127.0.0.1 or to a cloud metadata address. So the host resolves the
//! name itself, refuses addresses in loopback, private, link-local, shared,
//! multicast, unspecified and metadata ranges unless the grant names that
//! very address, and connects to the address it checked (never resolving
//! again, so a DNS answer that changes in between does not matter).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use http_body_util::BodyExt;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody};

use crate::config::HostPattern;

/// How long a connection (TCP and TLS) may take when the plugin sets no
/// connect timeout of its own.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// Whether `ip` is an address on the public internet (not loopback,
/// private, link-local, shared, documentation, multicast, unspecified,
/// broadcast or a metadata endpoint).
pub(crate) fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local() // 169.254/16, metadata endpoints
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b)) // shared (CGNAT)
                || (a == 192 && b == 0) // IETF protocol assignments
                || (a == 198 && (b == 18 || b == 19)) // benchmarking
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local
                || (first & 0xffc0) == 0xfe80 // link-local
                || first == 0x2001 && v6.segments()[1] == 0xdb8 // documentation
                || (first == 0xfd00 && v6.segments()[1..4] == [0xec2, 0, 0])) // metadata
        }
    }
}

/// The first address `host:port` resolves to that the grant allows: a
/// public one, or one an IP pattern of `allow` names with this port.
async fn checked_address(
    host: &str,
    port: u16,
    allow: &[HostPattern],
) -> Result<SocketAddr, Error> {
    let named = |ip: IpAddr| {
        allow
            .iter()
            .any(|p| p.host().parse::<IpAddr>() == Ok(ip) && p.matches(&ip.to_string(), Some(port)))
    };
    if let Ok(ip) = host.parse::<IpAddr>() {
        // An address literal reached `allows` only by matching a pattern.
        return Ok(SocketAddr::new(ip, port));
    }
    let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|_| Error::DnsError {
            rcode: None,
            info_code: None,
        })?
        .collect();
    addresses
        .iter()
        .copied()
        .find(|a| is_public(a.ip()) || named(a.ip()))
        .ok_or_else(|| {
            tracing::warn!(
                host,
                ?addresses,
                "outgoing HTTP refused: the name resolves only to addresses outside the public internet, which the grant does not name"
            );
            Error::DestinationIpProhibited
        })
}

type Connection = Box<dyn Future<Output = Result<(), Error>> + Send>;

/// Send `request` (already allowed by the policy) to a checked address.
pub(crate) async fn send(
    mut request: http::Request<WasiBody>,
    options: Option<RequestOptions>,
    allow: &[HostPattern],
) -> Result<(http::Response<WasiBody>, Connection), Error> {
    let uri = request.uri().clone();
    let host = uri
        .host()
        .ok_or(Error::HttpRequestUriInvalid)?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let https = uri.scheme() == Some(&http::uri::Scheme::HTTPS);
    let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
    let connect_timeout = options
        .as_ref()
        .and_then(|o| o.connect_timeout)
        .unwrap_or(DEFAULT_CONNECT_TIMEOUT);
    let first_byte_timeout = options
        .as_ref()
        .and_then(|o| o.first_byte_timeout)
        .unwrap_or(DEFAULT_CONNECT_TIMEOUT);
    let address = checked_address(&host, port, allow).await?;
    let connect = async {
        let tcp = tokio::net::TcpStream::connect(address)
            .await
            .map_err(Error::Connect)?;
        let _ = tcp.set_nodelay(true);
        let io: Box<dyn Io> = if https {
            let roots = rustls::RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.into(),
            };
            let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::Tls(std::io::Error::other(e)))?
            .with_root_certificates(roots)
            .with_no_client_auth();
            let name = match host.parse::<IpAddr>() {
                Ok(ip) => rustls::pki_types::ServerName::from(ip),
                Err(_) => rustls::pki_types::ServerName::try_from(host.clone())?,
            };
            let tls = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config))
                .connect(name, tcp)
                .await
                .map_err(Error::Tls)?;
            Box::new(tls)
        } else {
            Box::new(tcp)
        };
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(io))
            .await
            .map_err(Error::from)
    };
    let (mut sender, connection) = tokio::time::timeout(connect_timeout, connect)
        .await
        .map_err(|_| Error::ConnectionTimeout)??;
    // The request line carries the path only (no proxy is addressed).
    *request.uri_mut() = http::Uri::builder()
        .path_and_query(uri.path_and_query().map_or("/", |p| p.as_str()))
        .build()
        .map_err(|_| Error::HttpRequestUriInvalid)?;
    let mut connection = Box::pin(connection);
    // Drive the connection while waiting for the response's head; if the
    // connection ends first, the answer is already there (or never comes).
    let mut connection_done = false;
    let response = {
        let answer = sender.send_request(request);
        tokio::pin!(answer);
        tokio::select! {
            response = &mut answer => response.map_err(Error::from)?,
            done = &mut connection => {
                connection_done = true;
                done.map_err(Error::from)?;
                answer.await.map_err(Error::from)?
            }
            () = tokio::time::sleep(first_byte_timeout) => return Err(Error::ConnectionReadTimeout),
        }
    };
    let response = response.map(|body| body.map_err(Error::from).boxed_unsync());
    let driver: Connection = Box::new(async move {
        if connection_done {
            return Ok(());
        }
        connection.await.map_err(Error::from)
    });
    Ok((response, driver))
}

trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin> Io for T {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_are_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fc00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "fd00:ec2::254",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in ["93.184.216.34", "1.1.1.1", "2606:4700::1111"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[tokio::test]
    async fn a_name_that_resolves_to_loopback_is_refused_unless_the_address_is_named() {
        let none: Vec<HostPattern> = Vec::new();
        assert!(matches!(
            checked_address("localhost", 8080, &none).await,
            Err(Error::DestinationIpProhibited)
        ));
        let named = vec![HostPattern::parse("127.0.0.1:8080").unwrap()];
        assert_eq!(
            checked_address("localhost", 8080, &named).await.unwrap(),
            "127.0.0.1:8080".parse().unwrap()
        );
        // Named with another port: still refused.
        assert!(checked_address("localhost", 9090, &named).await.is_err());
    }
}
