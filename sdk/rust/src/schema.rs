//! JSON Schema for the Rust types a tool takes and returns.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde_json::{Map, Value, json};

/// A type with a JSON Schema.
///
/// Implemented for `bool`, every integer type (`"integer"`, unsigned ones with
/// `"minimum": 0`), `f32`/`f64` (`"number"`), `String`, `char`, `Vec<T>`,
/// sets, `Option<T>` (optional argument, nullable value), `HashMap`/`BTreeMap`
/// with `String` keys, `Box<T>` and `serde_json::Value` (any JSON). Derive it
/// for your own structs and unit-only enums with `#[derive(corral_sdk::Schema)]`.
pub trait Schema {
    /// The JSON Schema of the type.
    fn schema() -> Value;

    /// Whether an argument of this type may be left out (true for `Option`).
    const OPTIONAL: bool = false;
}

/// Marker for types returned from tools as structured content.
///
/// Values of these types are sent as JSON text and as structured content with
/// the type's schema as output schema. Objects (structs, maps) go as they are;
/// anything else is wrapped as `{"result": value}`. `#[derive(Schema)]`
/// implements it; `String` deliberately does not (it becomes plain text).
pub trait StructuredOutput: Schema {}

macro_rules! schema_for {
    ($($ty:ty => $schema:expr),* $(,)?) => {
        $(
            impl Schema for $ty {
                fn schema() -> Value {
                    $schema
                }
            }
        )*
    };
}

schema_for! {
    bool => json!({"type": "boolean"}),
    i8 => json!({"type": "integer"}),
    i16 => json!({"type": "integer"}),
    i32 => json!({"type": "integer"}),
    i64 => json!({"type": "integer"}),
    i128 => json!({"type": "integer"}),
    isize => json!({"type": "integer"}),
    u8 => json!({"type": "integer", "minimum": 0}),
    u16 => json!({"type": "integer", "minimum": 0}),
    u32 => json!({"type": "integer", "minimum": 0}),
    u64 => json!({"type": "integer", "minimum": 0}),
    u128 => json!({"type": "integer", "minimum": 0}),
    usize => json!({"type": "integer", "minimum": 0}),
    f32 => json!({"type": "number"}),
    f64 => json!({"type": "number"}),
    String => json!({"type": "string"}),
    char => json!({"type": "string", "minLength": 1, "maxLength": 1}),
    Value => json!({}),
}

macro_rules! structured {
    ($($ty:ty),* $(,)?) => {
        $(impl StructuredOutput for $ty {})*
    };
}

structured!(
    bool, i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize, f32, f64, char
);

impl<T: Schema> Schema for Vec<T> {
    fn schema() -> Value {
        json!({"type": "array", "items": T::schema()})
    }
}
impl<T: Schema> StructuredOutput for Vec<T> {}

impl<T: Schema, const N: usize> Schema for [T; N] {
    fn schema() -> Value {
        json!({"type": "array", "items": T::schema(), "minItems": N, "maxItems": N})
    }
}
impl<T: Schema, const N: usize> StructuredOutput for [T; N] {}

impl<T: Schema, S> Schema for HashSet<T, S> {
    fn schema() -> Value {
        json!({"type": "array", "items": T::schema(), "uniqueItems": true})
    }
}
impl<T: Schema, S> StructuredOutput for HashSet<T, S> {}

impl<T: Schema> Schema for BTreeSet<T> {
    fn schema() -> Value {
        json!({"type": "array", "items": T::schema(), "uniqueItems": true})
    }
}
impl<T: Schema> StructuredOutput for BTreeSet<T> {}

impl<T: Schema, S> Schema for HashMap<String, T, S> {
    fn schema() -> Value {
        json!({"type": "object", "additionalProperties": T::schema()})
    }
}
impl<T: Schema, S> StructuredOutput for HashMap<String, T, S> {}

impl<T: Schema> Schema for BTreeMap<String, T> {
    fn schema() -> Value {
        json!({"type": "object", "additionalProperties": T::schema()})
    }
}
impl<T: Schema> StructuredOutput for BTreeMap<String, T> {}

impl<T: Schema> Schema for Box<T> {
    fn schema() -> Value {
        T::schema()
    }
    const OPTIONAL: bool = T::OPTIONAL;
}
impl<T: StructuredOutput> StructuredOutput for Box<T> {}

impl<T: Schema> Schema for Option<T> {
    fn schema() -> Value {
        nullable(T::schema())
    }
    const OPTIONAL: bool = true;
}
impl<T: Schema> StructuredOutput for Option<T> {}

/// Makes a schema also accept `null`.
fn nullable(mut schema: Value) -> Value {
    let Some(obj) = schema.as_object_mut() else {
        return schema;
    };
    if obj.is_empty() {
        return schema; // `{}` accepts anything already
    }
    let has_enum = obj.contains_key("enum");
    match obj.get_mut("type") {
        Some(Value::String(t)) if !has_enum => {
            let t = std::mem::take(t);
            obj.insert("type".into(), json!([t, "null"]));
            schema
        }
        Some(Value::Array(types)) => {
            if !types.iter().any(|t| t == "null") {
                types.push("null".into());
            }
            schema
        }
        _ => json!({"anyOf": [schema, {"type": "null"}]}),
    }
}

/// Whether `schema` describes a JSON object (and nothing else).
pub(crate) fn is_object_schema(schema: &Value) -> bool {
    schema.get("type").and_then(Value::as_str) == Some("object")
}

/// Whether `schema` describes strings (possibly nullable).
pub(crate) fn is_string_schema(schema: &Value) -> bool {
    match schema.get("type") {
        Some(Value::String(t)) => t == "string",
        Some(Value::Array(ts)) => ts.iter().any(|t| t == "string"),
        _ => false,
    }
}

/// The output schema for a structured return type: objects as they are,
/// anything else wrapped under `result`.
pub(crate) fn output_schema(schema: Value) -> Value {
    if is_object_schema(&schema) {
        schema
    } else {
        json!({
            "type": "object",
            "properties": {"result": schema},
            "required": ["result"],
            "x-fastmcp-wrap-result": true,
        })
    }
}

/// Builds the schema of an object from its properties (used by the macros).
#[doc(hidden)]
#[derive(Debug, Default)]
pub struct ObjectSchema {
    properties: Map<String, Value>,
    required: Vec<Value>,
    description: Option<String>,
    closed: bool,
}

impl ObjectSchema {
    /// An empty object schema; `closed` adds `"additionalProperties": false`.
    pub fn new(closed: bool) -> Self {
        Self {
            closed,
            ..Self::default()
        }
    }

    /// Sets the object's description.
    pub fn description(&mut self, description: &str) -> &mut Self {
        self.description = Some(description.to_owned());
        self
    }

    /// Adds a property of type `T`, required unless `T` is optional.
    pub fn property<T: Schema>(&mut self, name: &str, description: Option<&str>) -> &mut Self {
        self.insert(name, T::schema(), description, None, !T::OPTIONAL)
    }

    /// Adds a property of type `T` that may be left out.
    pub fn optional_property<T: Schema>(
        &mut self,
        name: &str,
        description: Option<&str>,
    ) -> &mut Self {
        self.insert(name, T::schema(), description, None, false)
    }

    /// Adds a property of type `T` with a default value (never required).
    pub fn property_with_default<T: Schema + serde::Serialize>(
        &mut self,
        name: &str,
        description: Option<&str>,
        default: impl FnOnce() -> T,
    ) -> &mut Self {
        let default = serde_json::to_value(default()).ok();
        self.insert(name, T::schema(), description, default, false)
    }

    fn insert(
        &mut self,
        name: &str,
        mut schema: Value,
        description: Option<&str>,
        default: Option<Value>,
        required: bool,
    ) -> &mut Self {
        if let Value::Object(obj) = &mut schema {
            if let Some(d) = description {
                obj.insert("description".into(), d.into());
            }
            if let Some(d) = default {
                obj.insert("default".into(), d);
            }
        }
        self.properties.insert(name.to_owned(), schema);
        if required {
            self.required.push(name.into());
        }
        self
    }

    /// The finished schema.
    pub fn build(&mut self) -> Value {
        let mut obj = Map::new();
        obj.insert("type".into(), "object".into());
        if let Some(d) = self.description.take() {
            obj.insert("description".into(), d.into());
        }
        obj.insert(
            "properties".into(),
            Value::Object(std::mem::take(&mut self.properties)),
        );
        let required = std::mem::take(&mut self.required);
        if !required.is_empty() {
            obj.insert("required".into(), Value::Array(required));
        }
        if self.closed {
            obj.insert("additionalProperties".into(), false.into());
        }
        Value::Object(obj)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primitives() {
        assert_eq!(bool::schema(), json!({"type": "boolean"}));
        assert_eq!(i64::schema(), json!({"type": "integer"}));
        assert_eq!(u32::schema(), json!({"type": "integer", "minimum": 0}));
        assert_eq!(f64::schema(), json!({"type": "number"}));
        assert_eq!(String::schema(), json!({"type": "string"}));
        assert_eq!(Value::schema(), json!({}));
    }

    #[test]
    fn containers() {
        assert_eq!(
            Vec::<f64>::schema(),
            json!({"type": "array", "items": {"type": "number"}})
        );
        assert_eq!(
            HashMap::<String, bool>::schema(),
            json!({"type": "object", "additionalProperties": {"type": "boolean"}})
        );
        assert_eq!(
            BTreeMap::<String, Vec<String>>::schema(),
            json!({"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}})
        );
        assert_eq!(
            Option::<u8>::schema(),
            json!({"type": ["integer", "null"], "minimum": 0})
        );
        assert_eq!(Option::<Value>::schema(), json!({}));
        let optional = [
            Option::<u8>::OPTIONAL,
            u8::OPTIONAL,
            Vec::<u8>::OPTIONAL,
            Box::<Option<u8>>::OPTIONAL,
        ];
        assert_eq!(optional, [true, false, false, true]);
    }

    #[test]
    fn object_schema_builder() {
        let schema = ObjectSchema::new(true)
            .property::<f64>("a", Some("first"))
            .property::<Option<String>>("b", None)
            .property_with_default::<u32>("limit", Some("max"), || 10)
            .build();
        assert_eq!(
            schema,
            json!({
                "type": "object",
                "properties": {
                    "a": {"type": "number", "description": "first"},
                    "b": {"type": ["string", "null"]},
                    "limit": {"type": "integer", "minimum": 0, "description": "max", "default": 10},
                },
                "required": ["a"],
                "additionalProperties": false,
            })
        );
        assert_eq!(
            ObjectSchema::new(true).build(),
            json!({"type": "object", "properties": {}, "additionalProperties": false})
        );
    }

    #[test]
    fn wrapping() {
        assert_eq!(
            output_schema(f64::schema()),
            json!({
                "type": "object",
                "properties": {"result": {"type": "number"}},
                "required": ["result"],
                "x-fastmcp-wrap-result": true,
            })
        );
        let map = HashMap::<String, u8>::schema();
        assert_eq!(output_schema(map.clone()), map);
        assert!(is_string_schema(&Option::<String>::schema()));
        assert!(!is_string_schema(&Vec::<String>::schema()));
    }
}
