//! Parsing the arguments of tools (a JSON object), prompts and resource
//! templates (strings).

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::Error;
use crate::schema::{Schema, is_string_schema};

fn invalid(message: String) -> Error {
    Error::InvalidParams(message)
}

fn unknown_error(unknown: &[&str]) -> Error {
    let list = unknown
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if unknown.len() == 1 {
        invalid(format!("unknown argument {list}"))
    } else {
        invalid(format!("unknown arguments {list}"))
    }
}

fn missing(name: &str) -> Error {
    invalid(format!("missing required argument `{name}`"))
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A tool's arguments: a JSON object.
#[doc(hidden)]
#[derive(Debug)]
pub struct ToolArgs {
    map: Map<String, Value>,
}

impl ToolArgs {
    /// Parses `json` (empty text and `null` count as `{}`) and rejects names
    /// not in `known`.
    pub fn parse(json: &str, known: &[&str]) -> Result<Self, Error> {
        let json = json.trim();
        let value = if json.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(json)
                .map_err(|e| invalid(format!("arguments are not valid JSON: {e}")))?
        };
        let map = match value {
            Value::Object(map) => map,
            Value::Null => Map::new(),
            other => {
                return Err(invalid(format!(
                    "arguments must be a JSON object, not {}",
                    json_kind(&other)
                )));
            }
        };
        let unknown: Vec<&str> = map
            .keys()
            .map(String::as_str)
            .filter(|k| !known.contains(k))
            .collect();
        if !unknown.is_empty() {
            return Err(unknown_error(&unknown));
        }
        Ok(Self { map })
    }

    /// Takes argument `name`; missing is an error unless `T` is optional.
    pub fn take<T: DeserializeOwned + Schema>(&mut self, name: &str) -> Result<T, Error> {
        match self.map.remove(name) {
            Some(v) => from_value(name, v),
            None if T::OPTIONAL => from_value(name, Value::Null),
            None => Err(missing(name)),
        }
    }

    /// Takes argument `name`, or `default()` when it is missing.
    pub fn take_or<T: DeserializeOwned>(
        &mut self,
        name: &str,
        default: impl FnOnce() -> T,
    ) -> Result<T, Error> {
        match self.map.remove(name) {
            Some(v) => from_value(name, v),
            None => Ok(default()),
        }
    }
}

fn from_value<T: DeserializeOwned>(name: &str, v: Value) -> Result<T, Error> {
    serde_json::from_value(v).map_err(|e| invalid(format!("argument `{name}`: {e}")))
}

/// Parses a string argument: as it is for string types, otherwise as JSON
/// (falling back to the plain string, e.g. for string enums).
pub(crate) fn parse_str<T: DeserializeOwned + Schema>(s: &str) -> Result<T, String> {
    let as_string = || serde_json::from_value::<T>(Value::String(s.to_owned()));
    if is_string_schema(&T::schema()) {
        return as_string().map_err(|e| e.to_string());
    }
    match serde_json::from_str::<Value>(s) {
        Ok(v) => serde_json::from_value::<T>(v).or_else(|e| as_string().map_err(|_| e.to_string())),
        Err(_) => as_string().map_err(|e| e.to_string()),
    }
}

/// String arguments: a prompt's arguments or a template's variables.
#[doc(hidden)]
#[derive(Debug)]
pub struct StrArgs {
    items: Vec<(String, String)>,
}

impl StrArgs {
    /// Takes `items`, rejecting names not in `known`.
    pub fn new(items: Vec<(String, String)>, known: &[&str]) -> Result<Self, Error> {
        let unknown: Vec<&str> = items
            .iter()
            .map(|(k, _)| k.as_str())
            .filter(|k| !known.contains(k))
            .collect();
        if !unknown.is_empty() {
            return Err(unknown_error(&unknown));
        }
        Ok(Self { items })
    }

    /// Takes `items` as they are (resource template variables).
    pub fn lenient(items: Vec<(String, String)>) -> Self {
        Self { items }
    }

    fn remove(&mut self, name: &str) -> Option<String> {
        let i = self.items.iter().position(|(k, _)| k == name)?;
        Some(self.items.swap_remove(i).1)
    }

    /// Takes argument `name`; missing is an error unless `T` is optional.
    pub fn take<T: DeserializeOwned + Schema>(&mut self, name: &str) -> Result<T, Error> {
        match self.remove(name) {
            Some(s) => parse_str(&s).map_err(|e| invalid(format!("argument `{name}`: {e}"))),
            None if T::OPTIONAL => from_value(name, Value::Null),
            None => Err(missing(name)),
        }
    }

    /// Takes argument `name`, or `default()` when it is missing.
    pub fn take_or<T: DeserializeOwned + Schema>(
        &mut self,
        name: &str,
        default: impl FnOnce() -> T,
    ) -> Result<T, Error> {
        match self.remove(name) {
            Some(s) => parse_str(&s).map_err(|e| invalid(format!("argument `{name}`: {e}"))),
            None => Ok(default()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn msg(e: Error) -> String {
        match e {
            Error::InvalidParams(m) => m,
            other => panic!("expected invalid-params, got {other:?}"),
        }
    }

    #[test]
    fn tool_args() {
        let mut a = ToolArgs::parse(r#"{"a": 2, "b": 3.5}"#, &["a", "b", "c"]).unwrap();
        assert_eq!(a.take::<f64>("a").unwrap(), 2.0);
        assert_eq!(a.take::<f64>("b").unwrap(), 3.5);
        assert_eq!(a.take::<Option<String>>("c").unwrap(), None);
        let mut a = ToolArgs::parse("", &["limit"]).unwrap();
        assert_eq!(a.take_or::<u32>("limit", || 10).unwrap(), 10);
        let mut a = ToolArgs::parse("null", &["limit"]).unwrap();
        assert_eq!(a.take_or::<u32>("limit", || 10).unwrap(), 10);
    }

    #[test]
    fn tool_arg_errors() {
        let mut a = ToolArgs::parse(r#"{"a": 1, "b": "x"}"#, &["a", "b"]).unwrap();
        assert_eq!(a.take::<f64>("a").unwrap(), 1.0);
        assert_eq!(
            msg(a.take::<f64>("b").unwrap_err()),
            "argument `b`: invalid type: string \"x\", expected f64"
        );
        let mut a = ToolArgs::parse(r#"{"a": 1}"#, &["a", "b"]).unwrap();
        assert_eq!(
            msg(a.take::<f64>("b").unwrap_err()),
            "missing required argument `b`"
        );
        assert_eq!(
            msg(ToolArgs::parse(r#"{"a": 1, "z": 2}"#, &["a"]).unwrap_err()),
            "unknown argument `z`"
        );
        assert_eq!(
            msg(ToolArgs::parse(r#"{"y": 1, "z": 2}"#, &[]).unwrap_err()),
            "unknown arguments `y`, `z`"
        );
        assert_eq!(
            msg(ToolArgs::parse("[1]", &[]).unwrap_err()),
            "arguments must be a JSON object, not an array"
        );
        assert!(
            msg(ToolArgs::parse("{", &[]).unwrap_err()).starts_with("arguments are not valid JSON")
        );
        let mut a = ToolArgs::parse(r#"{"n": -1}"#, &["n"]).unwrap();
        assert_eq!(
            msg(a.take::<u32>("n").unwrap_err()),
            "argument `n`: invalid value: integer `-1`, expected u32"
        );
    }

    #[test]
    fn string_parsing() {
        assert_eq!(parse_str::<String>("123").unwrap(), "123");
        assert_eq!(parse_str::<String>("\"q\"").unwrap(), "\"q\"");
        assert_eq!(parse_str::<Option<String>>("x").unwrap(), Some("x".into()));
        assert_eq!(parse_str::<u32>("42").unwrap(), 42);
        assert_eq!(parse_str::<f64>("2.5").unwrap(), 2.5);
        assert!(parse_str::<bool>("true").unwrap());
        assert_eq!(
            parse_str::<Vec<f64>>("[1, 2, 3]").unwrap(),
            vec![1.0, 2.0, 3.0]
        );
        assert_eq!(
            parse_str::<Value>("hello").unwrap(),
            Value::String("hello".into())
        );
        assert_eq!(parse_str::<Value>("[1]").unwrap(), serde_json::json!([1]));
        assert_eq!(
            parse_str::<HashMap<String, u8>>(r#"{"a": 1}"#).unwrap()["a"],
            1
        );
        assert_eq!(
            parse_str::<u32>("abc").unwrap_err(),
            "invalid type: string \"abc\", expected u32"
        );
        assert_eq!(
            parse_str::<u32>("1.5").unwrap_err(),
            "invalid type: floating point `1.5`, expected u32"
        );
    }

    #[test]
    fn str_args() {
        let items = vec![("data".to_owned(), "[1, 2]".to_owned())];
        let mut a = StrArgs::new(items, &["data", "style"]).unwrap();
        assert_eq!(a.take::<Vec<f64>>("data").unwrap(), vec![1.0, 2.0]);
        assert_eq!(a.take::<Option<String>>("style").unwrap(), None);
        assert_eq!(a.take_or::<String>("style", || "x".into()).unwrap(), "x");
        assert_eq!(
            msg(a.take::<String>("style").unwrap_err()),
            "missing required argument `style`"
        );
        let items = vec![("n".to_owned(), "x".to_owned())];
        assert_eq!(
            msg(StrArgs::new(items.clone(), &["m"]).unwrap_err()),
            "unknown argument `n`"
        );
        let mut a = StrArgs::new(items, &["n"]).unwrap();
        assert_eq!(
            msg(a.take::<Vec<f64>>("n").unwrap_err()),
            "argument `n`: invalid type: string \"x\", expected a sequence"
        );
    }
}
