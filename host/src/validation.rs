//! Host-side validation of tool arguments and structured results against
//! the tool's JSON Schemas (draft 2020-12 unless the schema says otherwise),
//! before any instance is created. A tool's validators are compiled on its
//! first call and kept for the life of the catalog.

use serde_json::Value;

use crate::model::ToolDef;

/// The compiled schemas of one tool.
pub struct ToolSchemas {
    input: Option<jsonschema::Validator>,
    output: Option<jsonschema::Validator>,
}

impl ToolSchemas {
    /// Compile `tool`'s schemas. A schema that does not compile is logged and
    /// not enforced (the plugin still checks its own arguments).
    pub fn compile(tool: &ToolDef) -> Self {
        let compile = |what: &str, schema: &serde_json::Map<String, Value>| {
            jsonschema::validator_for(&Value::Object(schema.clone()))
                .inspect_err(|e| {
                    tracing::warn!(
                        tool = %tool.name,
                        "the {what} schema does not compile and is not enforced: {e}"
                    )
                })
                .ok()
        };
        Self {
            input: compile("input", &tool.input_schema),
            output: tool
                .output_schema
                .as_ref()
                .and_then(|s| compile("output", s)),
        }
    }

    /// Every way `arguments` violate the input schema, each with its JSON pointer.
    pub fn check_input(&self, arguments: &Value) -> Vec<String> {
        violations(self.input.as_ref(), arguments)
    }

    /// Every way a structured result violates the output schema.
    pub fn check_output(&self, structured: &Value) -> Vec<String> {
        violations(self.output.as_ref(), structured)
    }
}

/// Violations reported in one error; the rest are counted ("and N more").
pub const MAX_REPORTED_VIOLATIONS: usize = 20;
/// The longest violation message kept (it may quote the offending value).
pub const MAX_VIOLATION_BYTES: usize = 512;

/// The first [`MAX_REPORTED_VIOLATIONS`] violations, each cut to
/// [`MAX_VIOLATION_BYTES`], and a last line counting the others: a value
/// that violates its schema a million times costs one short error.
fn violations(validator: Option<&jsonschema::Validator>, value: &Value) -> Vec<String> {
    let Some(validator) = validator else {
        return Vec::new();
    };
    let mut errors = validator.iter_errors(value);
    let mut reported: Vec<String> = errors
        .by_ref()
        .take(MAX_REPORTED_VIOLATIONS)
        .map(|e| {
            let pointer = e.instance_path().to_string();
            let at = if pointer.is_empty() {
                "/".into()
            } else {
                pointer
            };
            crate::units::truncate(format!("{at}: {e}"), MAX_VIOLATION_BYTES)
        })
        .collect();
    let more = errors.count();
    if more > 0 {
        reported.push(format!(
            "and {more} more (at most {MAX_REPORTED_VIOLATIONS} are listed)"
        ));
    }
    reported
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_flood_of_violations_is_cut_to_twenty_and_counted() {
        let t = tool(
            json!({"type": "object", "properties": {"xs": {"type": "array", "items": {"type": "number"}}}}),
            None,
        );
        let schemas = ToolSchemas::compile(&t);
        let long = "s".repeat(10_000);
        let items: Vec<Value> = (0..5000).map(|_| json!(long)).collect();
        let found = schemas.check_input(&json!({ "xs": items }));
        assert_eq!(found.len(), MAX_REPORTED_VIOLATIONS + 1, "{found:?}");
        assert!(found[0].starts_with("/xs/0: "), "{}", found[0]);
        assert!(
            found[0].len() <= MAX_VIOLATION_BYTES + 3,
            "{}",
            found[0].len()
        );
        assert_eq!(found[20], "and 4980 more (at most 20 are listed)");
    }

    use std::sync::Arc;

    use serde_json::json;

    use super::*;

    fn tool(input: Value, output: Option<Value>) -> ToolDef {
        ToolDef {
            name: "t".into(),
            title: None,
            description: None,
            input_schema: Arc::new(input.as_object().unwrap().clone()),
            output_schema: output.map(|o| Arc::new(o.as_object().unwrap().clone())),
            annotations: None,
            tags: vec![],
            icons: vec![],
            task_support: Default::default(),
        }
    }

    #[test]
    fn every_violation_is_listed_with_its_pointer() {
        let schemas = ToolSchemas::compile(&tool(
            json!({
                "type": "object",
                "properties": {"a": {"type": "number"}, "b": {"type": "number"}},
                "required": ["a", "b"],
                "additionalProperties": false
            }),
            None,
        ));
        assert!(schemas.check_input(&json!({"a": 1, "b": 2})).is_empty());
        let errors = schemas.check_input(&json!({"a": "six", "c": 1}));
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(errors.iter().any(|e| e.starts_with("/a: ")), "{errors:?}");
        assert!(errors.iter().any(|e| e.contains("\"b\"")), "{errors:?}");
        assert!(
            errors
                .iter()
                .any(|e| e.contains("'c'") || e.contains("\"c\"")),
            "{errors:?}"
        );
    }

    #[test]
    fn structured_output_is_checked_against_the_output_schema() {
        let schemas = ToolSchemas::compile(&tool(
            json!({"type": "object"}),
            Some(
                json!({"type": "object", "properties": {"result": {"type": "number"}}, "required": ["result"]}),
            ),
        ));
        assert!(schemas.check_output(&json!({"result": 1.5})).is_empty());
        assert_eq!(schemas.check_output(&json!({"result": "x"})).len(), 1);
    }
}
