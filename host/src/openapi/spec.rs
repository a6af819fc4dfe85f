//! An OpenAPI 3.0 or 3.1 document (JSON or YAML) read into [`Operation`]s:
//! one per method and path, with a name, a description, its parameters,
//! its request body and the JSON Schema of its arguments.
//!
//! `$ref`s are local only (`#/…`): a component schema becomes an entry of
//! the input schema's `$defs` (so recursive schemas stay finite), anything
//! else a ref points to (parameters, request bodies) is inlined. OpenAPI
//! 3.0's dialect (`nullable`, boolean `exclusiveMinimum`) is turned into
//! JSON Schema 2020-12, the dialect the call service validates with.

use std::collections::{BTreeMap, HashSet};

use serde_json::{Map, Value, json};

use crate::model::JsonObject;

/// The longest chain of `$ref`s followed to reach one object.
const MAX_REF_CHAIN: usize = 32;
/// How deep a schema may nest (past this it is refused, not walked).
const MAX_SCHEMA_DEPTH: usize = 64;
/// The longest name an operation gets (MCP tool names: at most 128).
const MAX_NAME: usize = 64;

/// The HTTP methods an OpenAPI path item may hold, as the spec writes them.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Where a parameter goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Location {
    Path,
    Query,
    Header,
}

impl Location {
    fn as_str(self) -> &'static str {
        match self {
            Location::Path => "path",
            Location::Query => "query",
            Location::Header => "header",
        }
    }
}

/// One parameter of an operation.
#[derive(Debug, Clone)]
pub(crate) struct Param {
    /// Its name in the request.
    pub name: String,
    /// Its name among the tool's arguments (`name`, or `name__query` when
    /// a body property has the same name).
    pub argument: String,
    pub location: Location,
    pub required: bool,
    /// Query arrays: `a=1&a=2` (true, OpenAPI's default) or `a=1,2`.
    pub explode: bool,
}

/// How the request body is sent.
#[derive(Debug, Clone)]
pub(crate) enum BodyShape {
    /// A JSON object whose properties are arguments of their own.
    JsonFields(Vec<String>),
    /// A JSON value given whole as the `body` argument.
    JsonWhole,
    /// A form (`application/x-www-form-urlencoded`) of these arguments.
    FormFields(Vec<String>),
    /// A `multipart/form-data` form of these arguments; those the schema
    /// marks `format: binary` are sent as files.
    MultipartFields(Vec<(String, bool)>),
    /// Text sent as it is, given as the `body` argument.
    Raw,
}

/// The request body of an operation.
#[derive(Debug, Clone)]
pub(crate) struct Body {
    /// The media type it is sent as.
    pub media_type: String,
    pub shape: BodyShape,
}

/// One operation of the spec.
#[derive(Debug, Clone)]
pub(crate) struct Operation {
    /// `GET`, `POST`, ….
    pub method: String,
    /// As the spec writes it: `/pet/{petId}`.
    pub path: String,
    /// Its component name: the sanitized `operationId`, else method and path.
    pub name: String,
    pub description: Option<String>,
    /// The operation's tags in the spec.
    pub tags: Vec<String>,
    pub params: Vec<Param>,
    pub body: Option<Body>,
    /// The JSON Schema of its arguments.
    pub input_schema: JsonObject,
    /// The media type of its first success response, if it says.
    pub response_type: Option<String>,
}

/// Parse a spec's text: JSON when it starts with `{`, else YAML.
pub(crate) fn parse_document(text: &str) -> Result<Value, String> {
    let document: Value = if text.trim_start().starts_with('{') {
        serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?
    } else {
        serde_norway::from_str(text).map_err(|e| format!("not valid YAML or JSON: {e}"))?
    };
    let version = document.get("openapi").and_then(Value::as_str);
    match version {
        Some(v) if v.starts_with("3.0") || v.starts_with("3.1") => Ok(document),
        Some(v) => Err(format!(
            "OpenAPI {v} is not supported; Corral reads OpenAPI 3.0 and 3.1"
        )),
        None if document.get("swagger").is_some() => Err(
            "a Swagger 2.0 document; Corral reads OpenAPI 3.0 and 3.1 (convert it, e.g. with swagger2openapi)"
                .into(),
        ),
        None => Err("has no `openapi` version field; is it an OpenAPI document?".into()),
    }
}

/// The first server's URL, its variables replaced by their defaults.
pub(crate) fn server_url(document: &Value) -> Option<String> {
    let server = document.get("servers")?.as_array()?.first()?;
    let mut url = server.get("url")?.as_str()?.to_owned();
    if let Some(variables) = server.get("variables").and_then(Value::as_object) {
        for (name, variable) in variables {
            if let Some(default) = variable.get("default").and_then(Value::as_str) {
                url = url.replace(&format!("{{{name}}}"), default);
            }
        }
    }
    Some(url)
}

/// The operations of a spec, and why any were left out.
#[derive(Debug, Default)]
pub(crate) struct Operations {
    /// Sorted by path (then method), with unique names.
    pub served: Vec<Operation>,
    /// `METHOD /path: reason` for each operation that cannot be served.
    pub skipped: Vec<String>,
}

/// Every operation of `document`. One that cannot be served (an external
/// `$ref`, a body Corral cannot send) is skipped with its reason; the
/// document as a whole fails only when its `paths` do.
pub(crate) fn operations(document: &Value) -> Result<Operations, String> {
    let paths = match document.get("paths") {
        Some(Value::Object(paths)) => paths,
        None => return Ok(Operations::default()),
        Some(_) => return Err("`paths` is not an object".into()),
    };
    let mut taken = HashSet::new();
    let mut out = Operations::default();
    for (path, item) in paths {
        let item = match follow(document, item, path) {
            Ok(item) => item,
            Err(e) => {
                out.skipped.push(format!("{path}: {e}"));
                continue;
            }
        };
        let shared = item.get("parameters");
        for method in METHODS {
            let Some(operation) = item.get(method) else {
                continue;
            };
            let at = format!("{} {path}", method.to_ascii_uppercase());
            match read_operation(document, method, path, operation, shared, &mut taken) {
                Ok(operation) => out.served.push(operation),
                Err(e) => out.skipped.push(format!("{at}: {e}")),
            }
        }
    }
    Ok(out)
}

/// Follow `$ref`s (local ones only) until an object without one.
fn follow<'a>(document: &'a Value, mut value: &'a Value, at: &str) -> Result<&'a Value, String> {
    for _ in 0..MAX_REF_CHAIN {
        let Some(reference) = value.get("$ref").and_then(Value::as_str) else {
            return Ok(value);
        };
        value = pointer(document, reference)?;
    }
    Err(format!(
        "{at}: more than {MAX_REF_CHAIN} `$ref`s in a chain"
    ))
}

/// What a local `$ref` (`#/components/…`) points to.
fn pointer<'a>(document: &'a Value, reference: &str) -> Result<&'a Value, String> {
    let Some(fragment) = reference.strip_prefix('#') else {
        return Err(format!(
            "`$ref: {reference}` points outside the document; only local references (`#/…`) are followed"
        ));
    };
    let decoded = percent_encoding::percent_decode_str(fragment).decode_utf8_lossy();
    document
        .pointer(&decoded)
        .ok_or_else(|| format!("`$ref: {reference}` points to nothing"))
}

fn read_operation(
    document: &Value,
    method: &str,
    path: &str,
    operation: &Value,
    shared: Option<&Value>,
    taken: &mut HashSet<String>,
) -> Result<Operation, String> {
    let mut defs = Defs::new(document);
    // Operation parameters override path-level ones of the same name and place.
    let mut raw_params: Vec<&Value> = Vec::new();
    for list in [shared, operation.get("parameters")].into_iter().flatten() {
        let Some(list) = list.as_array() else {
            return Err("`parameters` is not a list".into());
        };
        for param in list {
            let param = follow(document, param, "a parameter")?;
            let key = |p: &Value| (p.get("name").cloned(), p.get("in").cloned());
            raw_params.retain(|p| key(p) != key(param));
            raw_params.push(param);
        }
    }
    let mut properties = Map::new();
    let mut required = Vec::new();
    let mut params = Vec::new();
    for param in raw_params {
        let name = param
            .get("name")
            .and_then(Value::as_str)
            .ok_or("a parameter has no `name`")?;
        let location = match param.get("in").and_then(Value::as_str) {
            Some("path") => Location::Path,
            Some("query") => Location::Query,
            Some("header") => Location::Header,
            // Cookies are the client's state, not a tool argument.
            Some("cookie") => continue,
            other => return Err(format!("parameter `{name}` is in {other:?}")),
        };
        let is_required =
            location == Location::Path || param.get("required") == Some(&Value::Bool(true));
        let schema = param
            .get("schema")
            .or_else(|| {
                param
                    .get("content")
                    .and_then(Value::as_object)
                    .and_then(|c| c.values().next())
                    .and_then(|m| m.get("schema"))
            })
            .cloned()
            .unwrap_or_else(|| json!({}));
        let mut schema = defs.convert(&schema, 0)?;
        describe(&mut schema, param.get("description"));
        let explode = param
            .get("explode")
            .and_then(Value::as_bool)
            .unwrap_or(param.get("style").is_none_or(|s| s == "form"));
        params.push(Param {
            name: name.to_owned(),
            argument: name.to_owned(),
            location,
            required: is_required,
            explode,
        });
        properties.insert(name.to_owned(), schema);
        if is_required {
            required.push(name.to_owned());
        }
    }
    let body = match operation.get("requestBody") {
        Some(body) => {
            let body = follow(document, body, "the request body")?;
            read_body(body, &mut defs, &mut params, &mut properties, &mut required)?
        }
        None => None,
    };
    let mut input_schema = Map::new();
    input_schema.insert("type".into(), json!("object"));
    input_schema.insert("properties".into(), Value::Object(properties));
    if !required.is_empty() {
        input_schema.insert("required".into(), json!(required));
    }
    if !defs.done.is_empty() {
        input_schema.insert(
            "$defs".into(),
            Value::Object(defs.done.into_iter().collect()),
        );
    }
    let tags = operation
        .get("tags")
        .and_then(Value::as_array)
        .map(|t| {
            t.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let text = |key: &str| {
        operation
            .get(key)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    let description = match (text("summary"), text("description")) {
        (Some(summary), Some(description)) if description.starts_with(summary) => {
            Some(description.to_owned())
        }
        (Some(summary), Some(description)) => Some(format!("{summary}\n\n{description}")),
        (one, other) => one.or(other).map(str::to_owned),
    };
    let base = match text("operationId") {
        Some(id) => sanitize(id),
        None => sanitize(&format!("{method}_{path}")),
    };
    let mut name = base.clone();
    let mut n = 2;
    while !taken.insert(name.clone()) {
        name = format!("{base}_{n}");
        n += 1;
    }
    Ok(Operation {
        method: method.to_ascii_uppercase(),
        path: path.to_owned(),
        name,
        description,
        tags,
        params,
        body,
        input_schema,
        response_type: response_type(document, operation),
    })
}

/// The request body's arguments: a JSON or form object's properties become
/// arguments of their own (a parameter of the same name is then renamed
/// `name__query` and so on, as FastMCP does); any other body is `body`.
fn read_body(
    body: &Value,
    defs: &mut Defs<'_>,
    params: &mut [Param],
    properties: &mut Map<String, Value>,
    required: &mut Vec<String>,
) -> Result<Option<Body>, String> {
    let Some(content) = body.get("content").and_then(Value::as_object) else {
        return Ok(None);
    };
    let is_json = |m: &str| m == "application/json" || m.ends_with("+json");
    let media_type = content
        .keys()
        .find(|m| is_json(m))
        .or_else(|| content.keys().find(|m| *m == "application/x-www-form-urlencoded"))
        .or_else(|| content.keys().find(|m| *m == "multipart/form-data"))
        .or_else(|| content.keys().find(|m| !m.starts_with("multipart/")))
        .ok_or("its request body is of a multipart type other than multipart/form-data, which Corral does not send")?
        .clone();
    let body_required = body.get("required") == Some(&Value::Bool(true));
    let schema = content[&media_type]
        .get("schema")
        .cloned()
        .unwrap_or_else(|| json!({}));
    let converted = defs.convert(&schema, 0)?;
    let fields = defs.object_properties(&converted);
    let is_form = media_type == "application/x-www-form-urlencoded";
    let is_multipart = media_type == "multipart/form-data";
    if is_multipart && fields.is_none() {
        return Err(
            "its multipart/form-data body has no object schema to make arguments of".into(),
        );
    }
    let shape = match fields {
        Some((fields, field_required)) if is_json(&media_type) || is_form || is_multipart => {
            let mut names = Vec::new();
            for (field, field_schema) in fields {
                if let Some(param) = params.iter_mut().find(|p| p.argument == field) {
                    let renamed = format!("{}__{}", param.name, param.location.as_str());
                    if let Some(schema) = properties.remove(&param.argument) {
                        properties.insert(renamed.clone(), schema);
                    }
                    for r in required.iter_mut().filter(|r| **r == param.argument) {
                        r.clone_from(&renamed);
                    }
                    param.argument = renamed;
                }
                if body_required && field_required.contains(&field) {
                    required.push(field.clone());
                }
                let binary = field_schema.get("format").is_some_and(|f| f == "binary");
                properties.insert(field.clone(), field_schema);
                names.push((field, binary));
            }
            if is_multipart {
                BodyShape::MultipartFields(names)
            } else if is_form {
                BodyShape::FormFields(names.into_iter().map(|(name, _)| name).collect())
            } else {
                BodyShape::JsonFields(names.into_iter().map(|(name, _)| name).collect())
            }
        }
        _ => {
            let mut schema = converted;
            if !is_json(&media_type) && schema.as_object().is_none_or(|o| !o.contains_key("type")) {
                schema = json!({ "type": "string" });
            }
            describe(&mut schema, body.get("description"));
            properties.insert("body".into(), schema);
            if body_required {
                required.push("body".into());
            }
            if is_json(&media_type) {
                BodyShape::JsonWhole
            } else {
                BodyShape::Raw
            }
        }
    };
    Ok(Some(Body { media_type, shape }))
}

/// The media type of the first 2xx (else `default`) response with content.
fn response_type(document: &Value, operation: &Value) -> Option<String> {
    let responses = operation.get("responses")?.as_object()?;
    let mut codes: Vec<&String> = responses.keys().filter(|c| c.starts_with('2')).collect();
    codes.sort();
    codes.extend(responses.keys().filter(|c| *c == "default"));
    codes.into_iter().find_map(|code| {
        let response = follow(document, &responses[code], code).ok()?;
        let content = response.get("content")?.as_object()?;
        let json = content
            .keys()
            .find(|m| *m == "application/json" || m.ends_with("+json"));
        json.or_else(|| content.keys().next()).cloned()
    })
}

/// Add `description` to a schema that has none.
fn describe(schema: &mut Value, description: Option<&Value>) {
    if let (Some(object), Some(Value::String(text))) = (schema.as_object_mut(), description)
        && !object.contains_key("description")
    {
        object.insert("description".into(), Value::String(text.clone()));
    }
}

/// `[A-Za-z0-9_.-]`, at most [`MAX_NAME`] characters, runs of anything else
/// as one `_`.
fn sanitize(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || "_.-".contains(c) {
            out.push(c);
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    let out = out.trim_matches('_');
    let out: String = out.chars().take(MAX_NAME).collect();
    if out.is_empty() {
        "operation".into()
    } else {
        out
    }
}

/// An object schema's properties (name, schema) and its required names.
type ObjectFields = (Vec<(String, Value)>, Vec<String>);

/// Schemas converted into JSON Schema 2020-12, component schemas collected
/// under `$defs`.
struct Defs<'a> {
    document: &'a Value,
    done: BTreeMap<String, Value>,
}

/// Keywords whose value is a schema.
const SCHEMA_KEYWORDS: [&str; 11] = [
    "items",
    "additionalProperties",
    "not",
    "if",
    "then",
    "else",
    "contains",
    "propertyNames",
    "unevaluatedProperties",
    "unevaluatedItems",
    "additionalItems",
];
/// Keywords whose value is a list of schemas.
const SCHEMA_LIST_KEYWORDS: [&str; 4] = ["allOf", "anyOf", "oneOf", "prefixItems"];
/// Keywords whose value maps names to schemas.
const SCHEMA_MAP_KEYWORDS: [&str; 3] = ["properties", "patternProperties", "dependentSchemas"];
/// OpenAPI's own keywords, which JSON Schema does not know.
const OPENAPI_ONLY: [&str; 4] = ["discriminator", "xml", "externalDocs", "example"];

impl<'a> Defs<'a> {
    fn new(document: &'a Value) -> Self {
        Self {
            document,
            done: BTreeMap::new(),
        }
    }

    fn convert(&mut self, schema: &Value, depth: usize) -> Result<Value, String> {
        if depth > MAX_SCHEMA_DEPTH {
            return Err(format!("a schema nests more than {MAX_SCHEMA_DEPTH} deep"));
        }
        let Some(object) = schema.as_object() else {
            return Ok(schema.clone());
        };
        if let Some(reference) = object.get("$ref").and_then(Value::as_str) {
            if let Some(name) = reference.strip_prefix("#/components/schemas/") {
                let key = sanitize(name);
                if !self.done.contains_key(&key) {
                    // A placeholder first, so a schema that refers to itself ends.
                    self.done.insert(key.clone(), json!({}));
                    let target = pointer(self.document, reference)?.clone();
                    let converted = self.convert(&target, depth + 1)?;
                    self.done.insert(key.clone(), converted);
                }
                return Ok(json!({ "$ref": format!("#/$defs/{key}") }));
            }
            let target = follow(self.document, schema, "a schema")?.clone();
            return self.convert(&target, depth + 1);
        }
        let mut out = Map::new();
        for (key, value) in object {
            let converted = if SCHEMA_KEYWORDS.contains(&key.as_str()) && value.is_object() {
                self.convert(value, depth + 1)?
            } else if SCHEMA_LIST_KEYWORDS.contains(&key.as_str()) && value.is_array() {
                let items = value.as_array().into_iter().flatten();
                Value::Array(
                    items
                        .map(|item| self.convert(item, depth + 1))
                        .collect::<Result<_, _>>()?,
                )
            } else if SCHEMA_MAP_KEYWORDS.contains(&key.as_str()) && value.is_object() {
                let entries = value.as_object().into_iter().flatten();
                Value::Object(
                    entries
                        .map(|(k, v)| Ok((k.clone(), self.convert(v, depth + 1)?)))
                        .collect::<Result<_, String>>()?,
                )
            } else if OPENAPI_ONLY.contains(&key.as_str()) || key == "nullable" {
                continue;
            } else {
                value.clone()
            };
            out.insert(key.clone(), converted);
        }
        // OpenAPI 3.0: `nullable: true` is a type that also allows null.
        if object.get("nullable") == Some(&Value::Bool(true))
            && let Some(Value::String(kind)) = out.get("type").cloned()
        {
            out.insert("type".into(), json!([kind, "null"]));
        }
        // OpenAPI 3.0: boolean exclusive bounds qualify minimum/maximum.
        for (exclusive, bound) in [
            ("exclusiveMinimum", "minimum"),
            ("exclusiveMaximum", "maximum"),
        ] {
            if let Some(Value::Bool(on)) = out.get(exclusive).cloned() {
                out.remove(exclusive);
                if on && let Some(value) = out.remove(bound) {
                    out.insert(exclusive.into(), value);
                }
            }
        }
        Ok(Value::Object(out))
    }

    /// A converted schema's properties and required names, when it is a
    /// plain object schema (directly or through one `$defs` reference).
    fn object_properties(&self, schema: &Value) -> Option<ObjectFields> {
        let resolved = match schema.get("$ref").and_then(Value::as_str) {
            Some(reference) => self.done.get(reference.strip_prefix("#/$defs/")?)?,
            None => schema,
        };
        let properties = resolved.get("properties")?.as_object()?;
        if ["allOf", "anyOf", "oneOf"]
            .iter()
            .any(|k| resolved.get(*k).is_some())
        {
            return None;
        }
        let required = resolved
            .get("required")
            .and_then(Value::as_array)
            .map(|r| {
                r.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        Some((
            properties
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            required,
        ))
    }
}

#[cfg(test)]
mod tests;
