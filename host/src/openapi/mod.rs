//! REST APIs described by OpenAPI specs as providers (`[openapi.NAME]`).
//!
//! Every operation of the spec becomes a tool by default (as FastMCP does:
//! many clients use tools only); route maps turn operations into resources
//! (a GET with nothing to fill in), resource templates (one variable per
//! path parameter) or nothing. A tool's arguments are the operation's path,
//! query and header parameters and its body's fields; its answer is the
//! response body as text, with structured content when it is JSON, and an
//! error result (`isError`) with the status and an excerpt of the body when
//! the status is not 2xx.
//!
//! Requests go to the configured base URL only, redirects are not followed,
//! path parameters are percent-encoded and may not be `.` or `..`, and every
//! response is read up to the output cap; the spec itself is bounded by
//! [`MAX_SPEC_SIZE`].

use std::collections::HashMap;
use std::sync::Arc;

use base64::Engine as _;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};

mod spec;

use crate::config::{OpenApiConfig, RouteKind, SpecSource, sensitive_headers};
use crate::error::{CallError, GuestError, LoadError, chain};
use crate::gate::Gate;
use crate::model::{
    Content, Input, JsonObject, Listing, MAX_DESCRIPTION_BYTES, MAX_LISTED_ITEMS, MAX_SCHEMA_BYTES,
    Outcome, PromptResult, ResourceBody, ResourceContents, ResourceDef, TaskSupport, TemplateDef,
    ToolAnnotations, ToolDef, ToolResult,
};
use crate::provider::{CallContext, CallFuture, CompletionRef, Provider};
use spec::{BodyShape, Location, Operation};

/// The largest spec read, file or URL.
pub const MAX_SPEC_SIZE: u64 = 32 * 1024 * 1024;
/// How much of an error response's body an error result quotes.
pub const ERROR_EXCERPT: usize = 2048;

/// Characters a path parameter keeps as they are (RFC 3986's unreserved);
/// everything else, `/` and `?` included, is percent-encoded.
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// One OpenAPI spec, served.
pub struct OpenApi {
    config: OpenApiConfig,
    base_url: String,
    client: reqwest::Client,
    gate: Gate,
    listing: Arc<Listing>,
    /// What each served name (tool) or URI stem (`resource://NAME`) runs.
    operations: HashMap<String, Operation>,
}

impl std::fmt::Debug for OpenApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenApi")
            .field("name", &self.config.name)
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl OpenApi {
    /// Read the spec (fetching it when it is a URL) and map its operations.
    pub async fn load(config: &OpenApiConfig) -> Result<Self, LoadError> {
        let fail = |reason: String| LoadError::Spec {
            path: config.spec.to_string().into(),
            name: config.name.clone(),
            reason,
        };
        let client = http_client(config).map_err(|e| fail(format!("an HTTP client: {e}")))?;
        let text = read_spec(&client, config).await.map_err(fail)?;
        let document = spec::parse_document(&text).map_err(fail)?;
        let base_url = base_url(config, &document).map_err(fail)?;
        let operations = spec::operations(&document).map_err(fail)?;
        for reason in &operations.skipped {
            tracing::warn!(openapi = %config.name, "operation not served: {reason}");
        }
        let mut listing = Listing::default();
        let mut by_name = HashMap::new();
        for operation in operations.served {
            if let Err(bound) = within_bounds(&operation) {
                tracing::warn!(
                    openapi = %config.name,
                    "operation not served: {} {}: {bound}",
                    operation.method,
                    operation.path
                );
                continue;
            }
            if by_name.len() >= MAX_LISTED_ITEMS {
                return Err(fail(format!(
                    "it has more than {MAX_LISTED_ITEMS} operations to serve (the listing limit); exclude some with route maps"
                )));
            }
            let (kind, extra_tags) = config
                .route_maps
                .iter()
                .find(|m| m.matches(&operation.method, &operation.path, &operation.tags))
                .map_or((RouteKind::Tool, &[][..]), |m| {
                    (m.mcp_type, &m.mcp_tags[..])
                });
            let mut tags = operation.tags.clone();
            tags.extend(
                extra_tags
                    .iter()
                    .filter(|t| !operation.tags.contains(t))
                    .cloned(),
            );
            match kind {
                RouteKind::Exclude => continue,
                RouteKind::Tool => listing.tools.push(tool_def(&operation, tags)),
                RouteKind::Resource | RouteKind::ResourceTemplate => {
                    let def = resource_def(&operation, kind, tags).map_err(|e| {
                        fail(format!("{} {}: {e}", operation.method, operation.path))
                    })?;
                    match def {
                        Ok(resource) => listing.resources.push(resource),
                        Err(template) => listing.templates.push(template),
                    }
                }
            }
            by_name.insert(operation.name.clone(), operation);
        }
        Ok(Self {
            gate: Gate::new(config.concurrency, config.queue, config.rate),
            config: config.clone(),
            base_url,
            client,
            listing: Arc::new(listing),
            operations: by_name,
        })
    }

    /// Its `[openapi.NAME]` table.
    pub fn config(&self) -> &OpenApiConfig {
        &self.config
    }

    /// Send `operation` with `arguments` and read the answer (up to the
    /// output cap), under the call's cancellation, timeout and gate.
    async fn send(
        &self,
        operation: &Operation,
        arguments: &JsonObject,
        ctx: &CallContext,
    ) -> Result<Answer, CallError> {
        let request = self.request(operation, arguments)?;
        let _permit = tokio::select! {
            permit = self.gate.admit("openapi", &self.config.name) => permit?,
            _ = ctx.cancel.cancelled() => return Err(CallError::Cancelled),
        };
        let timeout = self.config.timeout;
        let exchange = async {
            let mut response = self
                .client
                .execute(request)
                .await
                .map_err(|e| self.unavailable(e))?;
            let limit = self.config.max_output;
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await.map_err(|e| self.unavailable(e))? {
                body.extend_from_slice(&chunk);
                if body.len() as u64 > limit {
                    let declared = response.content_length().unwrap_or(0);
                    return Err(CallError::Output {
                        limit,
                        actual: declared.max(body.len() as u64),
                    });
                }
            }
            let media_type = response
                .headers()
                .get(http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.split(';').next().unwrap_or(v).trim().to_ascii_lowercase());
            Ok(Answer {
                status: response.status(),
                media_type,
                body,
            })
        };
        tokio::select! {
            biased;
            _ = ctx.cancel.cancelled() => Err(CallError::Cancelled),
            answer = tokio::time::timeout(timeout, exchange) => {
                answer.unwrap_or(Err(CallError::Timeout(timeout)))
            }
        }
    }

    fn unavailable(&self, error: reqwest::Error) -> CallError {
        CallError::Unavailable {
            kind: "openapi",
            provider: self.config.name.clone(),
            reason: chain(&error),
        }
    }

    /// The HTTP request an operation's arguments make.
    fn request(
        &self,
        operation: &Operation,
        arguments: &JsonObject,
    ) -> Result<reqwest::Request, CallError> {
        let invalid = |m: String| CallError::Guest(GuestError::InvalidParams(m));
        let mut path = operation.path.clone();
        let mut query: Vec<(String, String)> = Vec::new();
        let mut headers = http::HeaderMap::new();
        for param in &operation.params {
            let Some(value) = arguments.get(&param.argument) else {
                if param.required {
                    return Err(invalid(format!("`{}` is required", param.argument)));
                }
                continue;
            };
            match param.location {
                Location::Path => {
                    let text = scalar(value);
                    if text == "." || text == ".." || text.is_empty() {
                        return Err(invalid(format!(
                            "`{}` may not be {text:?}: it is a path segment",
                            param.argument
                        )));
                    }
                    let encoded = utf8_percent_encode(&text, PATH_SEGMENT).to_string();
                    path = path.replace(&format!("{{{}}}", param.name), &encoded);
                }
                Location::Query => match value {
                    Value::Array(items) if param.explode => {
                        query.extend(items.iter().map(|v| (param.name.clone(), scalar(v))));
                    }
                    Value::Array(items) => {
                        let joined: Vec<String> = items.iter().map(scalar).collect();
                        query.push((param.name.clone(), joined.join(",")));
                    }
                    Value::Null => {}
                    other => query.push((param.name.clone(), scalar(other))),
                },
                Location::Header => {
                    let name = http::HeaderName::try_from(param.name.as_str())
                        .map_err(|e| invalid(format!("header `{}`: {e}", param.name)))?;
                    let value = http::HeaderValue::try_from(scalar(value))
                        .map_err(|e| invalid(format!("`{}`: {e}", param.argument)))?;
                    headers.insert(name, value);
                }
            }
        }
        let mut url = reqwest::Url::parse(&format!("{}{path}", self.base_url))
            .map_err(|e| CallError::Host(format!("the URL of {}: {e}", operation.path)))?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(&query);
        }
        let method = reqwest::Method::from_bytes(operation.method.as_bytes())
            .map_err(|e| CallError::Host(e.to_string()))?;
        let mut builder = self.client.request(method, url).headers(headers);
        if let Some(body) = &operation.body {
            let mut media_type = body.media_type.clone();
            let content = match &body.shape {
                BodyShape::JsonFields(fields) => {
                    let object: JsonObject = fields
                        .iter()
                        .filter_map(|f| arguments.get(f).map(|v| (f.clone(), v.clone())))
                        .collect();
                    (!object.is_empty()).then(|| Value::Object(object).to_string().into_bytes())
                }
                BodyShape::JsonWhole => arguments.get("body").map(|v| v.to_string().into_bytes()),
                BodyShape::FormFields(fields) => {
                    let mut form = url::form_urlencoded::Serializer::new(String::new());
                    let mut any = false;
                    for field in fields {
                        match arguments.get(field) {
                            Some(Value::Array(items)) => {
                                for item in items {
                                    form.append_pair(field, &scalar(item));
                                }
                            }
                            Some(value) => {
                                form.append_pair(field, &scalar(value));
                            }
                            None => continue,
                        }
                        any = true;
                    }
                    any.then(|| form.finish().into_bytes())
                }
                BodyShape::Raw => arguments.get("body").map(|v| scalar(v).into_bytes()),
                BodyShape::MultipartFields(fields) => {
                    let (boundary, form) = multipart(fields, arguments);
                    media_type = format!("multipart/form-data; boundary={boundary}");
                    form
                }
            };
            if let Some(content) = content {
                builder = builder
                    .header(http::header::CONTENT_TYPE, media_type)
                    .body(content);
            }
        }
        builder
            .build()
            .map_err(|e| CallError::Host(format!("a request for {}: {e}", operation.path)))
    }

    async fn tool(
        &self,
        name: &str,
        arguments: &JsonObject,
        ctx: &CallContext,
    ) -> Result<Outcome<ToolResult>, CallError> {
        let operation = self.operation(name)?;
        let answer = self.send(operation, arguments, ctx).await?;
        Ok(Outcome::Complete(answer.tool_result()))
    }

    async fn read(
        &self,
        uri: &str,
        params: &[(String, String)],
        ctx: &CallContext,
    ) -> Result<Outcome<Vec<ResourceContents>>, CallError> {
        let name = uri
            .strip_prefix("resource://")
            .map(|rest| rest.split('/').next().unwrap_or(rest))
            .unwrap_or_default();
        let operation = self.operation(name)?;
        let arguments: JsonObject = params
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        let answer = self.send(operation, &arguments, ctx).await?;
        if !answer.status.is_success() {
            let message = answer.error_text();
            return Err(CallError::Guest(
                if answer.status == http::StatusCode::NOT_FOUND {
                    GuestError::NotFound(message)
                } else {
                    GuestError::ToolError(message)
                },
            ));
        }
        let mime_type = answer
            .media_type
            .clone()
            .or_else(|| operation.response_type.clone());
        let body = match String::from_utf8(answer.body) {
            Ok(text) if mime_type.as_deref().is_none_or(is_textual) => ResourceBody::Text(text),
            Ok(text) => ResourceBody::Blob(text.into_bytes()),
            Err(e) => ResourceBody::Blob(e.into_bytes()),
        };
        Ok(Outcome::Complete(vec![ResourceContents {
            uri: uri.to_owned(),
            mime_type,
            body,
        }]))
    }

    fn operation(&self, name: &str) -> Result<&Operation, CallError> {
        self.operations
            .get(name)
            .ok_or_else(|| CallError::Guest(GuestError::NotFound(format!("no operation `{name}`"))))
    }
}

/// The listing bounds a plugin's items are held to, for one operation: its
/// input schema and its description (its name is at most 64 bytes).
fn within_bounds(operation: &Operation) -> Result<(), String> {
    let schema = serde_json::to_vec(&operation.input_schema).map_or(usize::MAX, |s| s.len());
    if schema > MAX_SCHEMA_BYTES {
        return Err(format!(
            "its input schema is {} of JSON, more than the {} a schema may have (MAX_SCHEMA_BYTES)",
            crate::units::human_size(schema as u64),
            crate::units::human_size(MAX_SCHEMA_BYTES as u64)
        ));
    }
    let description = operation.description.as_ref().map_or(0, String::len);
    if description > MAX_DESCRIPTION_BYTES {
        return Err(format!(
            "its description is {} long, more than {} (MAX_DESCRIPTION_BYTES)",
            crate::units::human_size(description as u64),
            crate::units::human_size(MAX_DESCRIPTION_BYTES as u64)
        ));
    }
    Ok(())
}

/// A response, read.
struct Answer {
    status: http::StatusCode,
    media_type: Option<String>,
    body: Vec<u8>,
}

impl Answer {
    /// `HTTP 404 Not Found: <the start of the body>`.
    fn error_text(&self) -> String {
        let text = String::from_utf8_lossy(&self.body);
        let mut end = text.len().min(ERROR_EXCERPT);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let more = if end < text.len() { "…" } else { "" };
        let excerpt = crate::units::printable(text[..end].trim());
        format!("HTTP {}: {excerpt}{more}", self.status)
    }

    fn tool_result(self) -> ToolResult {
        if !self.status.is_success() {
            return ToolResult {
                content: vec![Content::Text(self.error_text())],
                structured: None,
                is_error: true,
            };
        }
        let media = self.media_type.as_deref().unwrap_or("");
        let content = if media.starts_with("image/") {
            Content::Image {
                data: self.body,
                mime_type: media.to_owned(),
            }
        } else if media.starts_with("audio/") {
            Content::Audio {
                data: self.body,
                mime_type: media.to_owned(),
            }
        } else {
            match String::from_utf8(self.body) {
                Ok(text) => {
                    let structured = serde_json::from_str::<Value>(&text).ok().map(|v| match v {
                        Value::Object(_) => v,
                        other => json!({ "result": other }),
                    });
                    return ToolResult {
                        content: vec![Content::Text(text)],
                        structured,
                        is_error: false,
                    };
                }
                Err(e) => Content::Text(format!(
                    "({} bytes of {}, base64) {}",
                    e.as_bytes().len(),
                    if media.is_empty() {
                        "binary data"
                    } else {
                        media
                    },
                    base64::engine::general_purpose::STANDARD.encode(e.as_bytes())
                )),
            }
        };
        ToolResult {
            content: vec![content],
            structured: None,
            is_error: false,
        }
    }
}

fn is_textual(media_type: &str) -> bool {
    media_type.starts_with("text/")
        || media_type.ends_with("json")
        || media_type.ends_with("xml")
        || media_type.ends_with("yaml")
}

/// A `multipart/form-data` body of the `fields` present in `arguments`
/// (binary ones as files), and its boundary; `None` when none is present.
fn multipart(fields: &[(String, bool)], arguments: &JsonObject) -> (String, Option<Vec<u8>>) {
    let mut random = [0u8; 16];
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut random);
    let boundary: String = random.iter().map(|b| format!("{b:02x}")).collect();
    let boundary = format!("corral-{boundary}");
    let mut form = Vec::new();
    for (field, binary) in fields {
        let Some(value) = arguments.get(field) else {
            continue;
        };
        // Field names come from the spec; quotes and line breaks in them
        // would break the part's header.
        let name: String = field
            .chars()
            .map(|c| if c == '"' || c.is_control() { '_' } else { c })
            .collect();
        form.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        if *binary {
            form.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
            );
        } else {
            form.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
            );
        }
        form.extend_from_slice(scalar(value).as_bytes());
        form.extend_from_slice(b"\r\n");
    }
    if form.is_empty() {
        return (boundary, None);
    }
    form.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (boundary, Some(form))
}

/// A JSON value as one parameter value: strings as they are, the rest as
/// JSON text.
fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn tool_def(operation: &Operation, tags: Vec<String>) -> ToolDef {
    let method = operation.method.as_str();
    ToolDef {
        name: operation.name.clone(),
        title: None,
        description: operation.description.clone(),
        input_schema: Arc::new(operation.input_schema.clone()),
        output_schema: None,
        annotations: Some(ToolAnnotations {
            read_only: Some(matches!(method, "GET" | "HEAD" | "OPTIONS")),
            destructive: Some(method == "DELETE"),
            idempotent: Some(matches!(
                method,
                "GET" | "HEAD" | "OPTIONS" | "PUT" | "DELETE"
            )),
            open_world: Some(true),
        }),
        tags,
        icons: Vec::new(),
        task_support: TaskSupport::Forbidden,
    }
}

/// A resource (`resource://NAME`) or a template
/// (`resource://NAME/{a}/{b}`, one variable per path parameter).
fn resource_def(
    operation: &Operation,
    kind: RouteKind,
    tags: Vec<String>,
) -> Result<Result<ResourceDef, TemplateDef>, String> {
    if operation.method != "GET" {
        return Err(format!(
            "a route map makes it a {}, but only GET operations can be read; map it as a tool",
            kind_name(kind)
        ));
    }
    if let Some(param) = operation
        .params
        .iter()
        .find(|p| p.required && p.location != Location::Path)
    {
        return Err(format!(
            "a route map makes it a {}, but it requires the {} parameter `{}`, which a URI cannot carry; map it as a tool",
            kind_name(kind),
            match param.location {
                Location::Query => "query",
                _ => "header",
            },
            param.name
        ));
    }
    let path_params: Vec<&str> = operation
        .params
        .iter()
        .filter(|p| p.location == Location::Path)
        .map(|p| p.name.as_str())
        .collect();
    match (kind, path_params.is_empty()) {
        (RouteKind::Resource, true) => Ok(Ok(ResourceDef {
            uri: format!("resource://{}", operation.name),
            name: operation.name.clone(),
            title: None,
            description: operation.description.clone(),
            mime_type: operation.response_type.clone(),
            size: None,
            tags,
            icons: Vec::new(),
        })),
        (RouteKind::Resource, false) => Err(format!(
            "a route map makes it a resource, but its path has parameters ({}); map it as a resource_template",
            path_params.join(", ")
        )),
        (_, true) => Err(
            "a route map makes it a resource_template, but its path has no parameters; map it as a resource".into(),
        ),
        (_, false) => {
            let variables: Vec<String> = path_params.iter().map(|p| format!("{{{p}}}")).collect();
            Ok(Err(TemplateDef {
                uri_template: format!("resource://{}/{}", operation.name, variables.join("/")),
                name: operation.name.clone(),
                title: None,
                description: operation.description.clone(),
                mime_type: operation.response_type.clone(),
                tags,
                icons: Vec::new(),
            }))
        }
    }
}

fn kind_name(kind: RouteKind) -> &'static str {
    match kind {
        RouteKind::Resource => "resource",
        RouteKind::ResourceTemplate => "resource_template",
        _ => "tool",
    }
}

/// The client requests go out with: the config's headers, its timeout,
/// no redirects (a redirect could carry the headers elsewhere).
fn http_client(config: &OpenApiConfig) -> Result<reqwest::Client, String> {
    // rustls needs one process-wide crypto provider; ring is the one the
    // rest of the host links.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let headers = sensitive_headers(&config.headers)?;
    reqwest::Client::builder()
        .default_headers(headers)
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(config.timeout)
        .build()
        .map_err(|e| e.to_string())
}

/// The spec's text, at most [`MAX_SPEC_SIZE`] bytes.
async fn read_spec(client: &reqwest::Client, config: &OpenApiConfig) -> Result<String, String> {
    let too_large = |size: u64| {
        format!(
            "the spec is {}; specs of at most {} are read (MAX_SPEC_SIZE)",
            crate::units::human_size(size),
            crate::units::human_size(MAX_SPEC_SIZE)
        )
    };
    let bytes = match &config.spec {
        SpecSource::File(path) => {
            let size = tokio::fs::metadata(path)
                .await
                .map_err(|e| format!("cannot read: {e}"))?
                .len();
            if size > MAX_SPEC_SIZE {
                return Err(too_large(size));
            }
            tokio::fs::read(path)
                .await
                .map_err(|e| format!("cannot read: {e}"))?
        }
        SpecSource::Url(url) => {
            let fetch = async {
                let mut response = client
                    .get(url)
                    .send()
                    .await
                    .map_err(|e| format!("cannot fetch: {}", chain(&e)))?;
                if !response.status().is_success() {
                    return Err(format!("cannot fetch: HTTP {}", response.status()));
                }
                let mut body = Vec::new();
                while let Some(chunk) = response
                    .chunk()
                    .await
                    .map_err(|e| format!("cannot fetch: {}", chain(&e)))?
                {
                    body.extend_from_slice(&chunk);
                    if body.len() as u64 > MAX_SPEC_SIZE {
                        return Err(too_large(body.len() as u64));
                    }
                }
                Ok(body)
            };
            tokio::time::timeout(config.timeout, fetch)
                .await
                .map_err(|_| format!("cannot fetch within {:?} (timeout)", config.timeout))??
        }
    };
    String::from_utf8(bytes).map_err(|_| "the spec is not UTF-8 text".into())
}

/// `base_url`, else the spec's first server (relative to the spec's URL
/// when it was fetched), without a trailing `/`.
fn base_url(config: &OpenApiConfig, document: &Value) -> Result<String, String> {
    let url = match (&config.base_url, spec::server_url(document)) {
        (Some(url), _) => url.clone(),
        (None, Some(server)) if server.starts_with("http://") || server.starts_with("https://") => {
            server
        }
        (None, Some(server)) => match &config.spec {
            SpecSource::Url(spec_url) => reqwest::Url::parse(spec_url)
                .and_then(|base| base.join(&server))
                .map_err(|e| format!("the spec's server URL `{server}`: {e}"))?
                .to_string(),
            _ => {
                return Err(format!(
                    "the spec's server URL `{server}` is relative and the spec is a file; set `base_url`"
                ));
            }
        },
        (None, None) => return Err("the spec names no server; set `base_url`".into()),
    };
    reqwest::Url::parse(&url).map_err(|e| format!("the base URL `{url}`: {e}"))?;
    Ok(url.trim_end_matches('/').to_owned())
}

impl Provider for OpenApi {
    fn kind(&self) -> &'static str {
        "openapi"
    }

    fn name(&self) -> &str {
        &self.config.name
    }

    fn origin(&self) -> String {
        self.config.spec.to_string()
    }

    fn listing(&self) -> Arc<Listing> {
        self.listing.clone()
    }

    fn load(&self) -> crate::provider::Load {
        self.gate.load()
    }

    fn call_tool<'a>(
        &'a self,
        name: &'a str,
        arguments: &'a JsonObject,
        _input: Option<&'a Input>,
        ctx: &'a CallContext,
    ) -> CallFuture<'a, Outcome<ToolResult>> {
        Box::pin(self.tool(name, arguments, ctx))
    }

    fn read_resource<'a>(
        &'a self,
        uri: &'a str,
        params: &'a [(String, String)],
        _input: Option<&'a Input>,
        ctx: &'a CallContext,
    ) -> CallFuture<'a, Outcome<Vec<ResourceContents>>> {
        Box::pin(self.read(uri, params, ctx))
    }

    fn get_prompt<'a>(
        &'a self,
        name: &'a str,
        _arguments: &'a [(String, String)],
        _input: Option<&'a Input>,
        _ctx: &'a CallContext,
    ) -> CallFuture<'a, Outcome<PromptResult>> {
        Box::pin(async move {
            Err(CallError::Guest(GuestError::NotFound(format!(
                "no prompt `{name}`: an OpenAPI spec serves none"
            ))))
        })
    }

    fn complete<'a>(
        &'a self,
        _reference: &'a CompletionRef,
        _argument: &'a str,
        _value: &'a str,
        _ctx: &'a CallContext,
    ) -> CallFuture<'a, Vec<String>> {
        Box::pin(async { Ok(Vec::new()) })
    }
}
