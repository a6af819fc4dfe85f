//! A plugin that tries to use capabilities, to test the host's grants.
//! Not an example: each tool attempts one capability and reports the error
//! text (prefixed with what it attempted) when the host denies it.

use std::net::{TcpStream, ToSocketAddrs};

use corral_sdk::prelude::*;
use wasip2::http::outgoing_handler;
use wasip2::http::types::{Fields, Method, OutgoingRequest, Scheme};
use wasip2::io::streams::StreamError;

/// The most body bytes `http_get` reads.
const MAX_BODY: usize = 64 * 1024;

/// Reads the file at `path` as UTF-8 text.
///
/// # Arguments
/// * `path` - The file to read
#[tool]
fn read_file(path: String) -> Result<String, ToolError> {
    std::fs::read_to_string(&path).map_err(|e| ToolError::new(format!("read {path}: {e}")))
}

/// Writes `contents` to the file at `path`, replacing it.
///
/// # Arguments
/// * `path` - The file to write
/// * `contents` - What to write
#[tool]
fn write_file(path: String, contents: String) -> Result<String, ToolError> {
    std::fs::write(&path, contents.as_bytes())
        .map_err(|e| ToolError::new(format!("write {path}: {e}")))?;
    Ok(format!("wrote {} bytes", contents.len()))
}

/// Lists the names in the directory at `path`, sorted.
///
/// # Arguments
/// * `path` - The directory to list
#[tool]
fn list_dir(path: String) -> Result<Vec<String>, ToolError> {
    let fail = |e: std::io::Error| ToolError::new(format!("list {path}: {e}"));
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&path).map_err(fail)? {
        names.push(
            entry
                .map_err(fail)?
                .file_name()
                .to_string_lossy()
                .into_owned(),
        );
    }
    names.sort();
    Ok(names)
}

/// Reads the environment variable `name`.
///
/// # Arguments
/// * `name` - The variable to read
#[tool]
fn read_env(name: String) -> Result<String, ToolError> {
    match std::env::var(&name) {
        Ok(value) => Ok(value),
        Err(std::env::VarError::NotPresent) => Err(ToolError::new(format!("env {name}: not set"))),
        Err(e) => Err(ToolError::new(format!("env {name}: {e}"))),
    }
}

/// Lists the names of all environment variables the plugin sees.
#[tool]
fn list_env() -> Vec<String> {
    let mut names: Vec<String> = std::env::vars_os()
        .map(|(name, _)| name.to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Sends a GET request to `url` through `wasi:http` and returns "STATUS BODY"
/// (at most 64 KiB of the body, as UTF-8).
///
/// # Arguments
/// * `url` - An `http://` or `https://` URL
#[tool]
fn http_get(url: String) -> Result<String, ToolError> {
    get(&url).map_err(|e| ToolError::new(format!("GET {url}: {e}")))
}

fn get(url: &str) -> Result<String, String> {
    let (scheme, rest) = if let Some(rest) = url.strip_prefix("http://") {
        (Scheme::Http, rest)
    } else if let Some(rest) = url.strip_prefix("https://") {
        (Scheme::Https, rest)
    } else {
        return Err("not an http:// or https:// URL".into());
    };
    let (authority, path) = match rest.find(['/', '?', '#']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let path = path.split('#').next().unwrap_or_default();
    let path = if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("/{path}")
    };

    let request = OutgoingRequest::new(Fields::new());
    request
        .set_method(&Method::Get)
        .map_err(|()| "invalid method")?;
    request
        .set_scheme(Some(&scheme))
        .map_err(|()| "invalid scheme")?;
    request
        .set_authority(Some(authority))
        .map_err(|()| format!("invalid authority {authority:?}"))?;
    request
        .set_path_with_query(Some(&path))
        .map_err(|()| format!("invalid path {path:?}"))?;

    let future = outgoing_handler::handle(request, None).map_err(|e| format!("{e:?}"))?;
    let pollable = future.subscribe();
    pollable.block();
    drop(pollable);
    let response = match future.get() {
        Some(Ok(Ok(response))) => response,
        Some(Ok(Err(e))) => return Err(format!("{e:?}")),
        Some(Err(())) => return Err("response already taken".into()),
        None => return Err("response not ready".into()),
    };
    drop(future);

    let status = response.status();
    let body = response.consume().map_err(|()| "body already taken")?;
    let stream = body.stream().map_err(|()| "body stream already taken")?;
    let mut bytes = Vec::new();
    while bytes.len() < MAX_BODY {
        let want = (MAX_BODY - bytes.len()) as u64;
        match stream.blocking_read(want) {
            Ok(chunk) => bytes.extend_from_slice(&chunk),
            Err(StreamError::Closed) => break,
            Err(StreamError::LastOperationFailed(e)) => {
                return Err(format!("reading body: {}", e.to_debug_string()));
            }
        }
    }
    drop(stream);
    drop(body);
    drop(response);
    Ok(format!("{status} {}", String::from_utf8_lossy(&bytes)))
}

/// Opens a TCP connection to `addr` (`host:port`); the host should refuse it.
///
/// # Arguments
/// * `addr` - Where to connect, as `host:port`
#[tool]
fn tcp_connect(addr: String) -> Result<String, ToolError> {
    match TcpStream::connect(&addr) {
        Ok(_) => Ok("connected".into()),
        Err(e) => Err(ToolError::new(format!("connect {addr}: {e}"))),
    }
}

/// Looks up `host` in DNS; the host should refuse it.
///
/// # Arguments
/// * `host` - The name to resolve
#[tool]
fn resolve(host: String) -> Result<String, ToolError> {
    let addrs = (host.as_str(), 0)
        .to_socket_addrs()
        .map_err(|e| ToolError::new(format!("resolve {host}: {e}")))?;
    let ips: Vec<String> = addrs.map(|a| a.ip().to_string()).collect();
    Ok(ips.join(", "))
}

corral_sdk::export!(tools: [
    read_file,
    write_file,
    list_dir,
    read_env,
    list_env,
    http_get,
    tcp_connect,
    resolve,
]);
