//! The variables of a resource URI template, checked at compile time with
//! the same parser the host matches URIs with.

use corral_uri_template::UriTemplate;

/// A template variable: its name and whether a URI may leave it out.
#[derive(Debug)]
pub struct Variable {
    pub name: String,
    pub optional: bool,
}

/// The variables of `uri`, in order; none for a fixed URI (no `{`).
pub fn variables(uri: &str) -> Result<Vec<Variable>, String> {
    if !uri.contains(['{', '}']) {
        return Ok(Vec::new());
    }
    let template = UriTemplate::parse(uri).map_err(|e| format!("bad URI template: {e}"))?;
    Ok(template
        .variables()
        .map(|v| Variable {
            name: v.name.to_owned(),
            optional: v.optional,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(uri: &str) -> Vec<(String, bool)> {
        variables(uri)
            .unwrap()
            .into_iter()
            .map(|v| (v.name, v.optional))
            .collect()
    }

    #[test]
    fn finds_variables() {
        assert!(names("data://config").is_empty());
        assert_eq!(
            names("users://{user_id}/profile"),
            [("user_id".into(), false)]
        );
        assert_eq!(
            names("r://{a}/{path*}"),
            [("a".into(), false), ("path".into(), false)]
        );
        assert_eq!(
            names("docs://{+path}{?lang,v}"),
            [
                ("path".into(), false),
                ("lang".into(), true),
                ("v".into(), true)
            ]
        );
    }

    #[test]
    fn rejects_bad_templates() {
        assert!(
            variables("a://{x,y}")
                .unwrap_err()
                .contains("not supported")
        );
        assert!(variables("a://{}").unwrap_err().contains("not supported"));
        assert!(variables("a://{x").unwrap_err().contains("unclosed"));
        assert!(variables("a://x}").unwrap_err().contains("unbalanced"));
        assert!(variables("a://{x}/{x}").unwrap_err().contains("twice"));
    }
}
