//! The variables of a resource URI template, checked at compile time.

/// The variable names in `template` (`{name}` or `{name*}`), in order.
pub fn variables(template: &str) -> Result<Vec<String>, String> {
    let mut vars: Vec<String> = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find(['{', '}']) {
        if rest[start..].starts_with('}') {
            return Err("unmatched `}` in URI template".into());
        }
        let after = &rest[start + 1..];
        let end = after
            .find('}')
            .ok_or_else(|| "unclosed `{` in URI template".to_owned())?;
        let expr = &after[..end];
        let name = expr.strip_suffix('*').unwrap_or(expr);
        if name.is_empty()
            || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            || name.starts_with(|c: char| c.is_ascii_digit())
        {
            return Err(format!(
                "unsupported URI template expression `{{{expr}}}`: use `{{name}}` or `{{name*}}`"
            ));
        }
        if vars.iter().any(|v| v == name) {
            return Err(format!("URI template variable `{name}` appears twice"));
        }
        vars.push(name.to_owned());
        rest = &after[end + 1..];
    }
    Ok(vars)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_variables() {
        assert_eq!(variables("data://config").unwrap(), Vec::<String>::new());
        assert_eq!(variables("users://{user_id}/profile").unwrap(), ["user_id"]);
        assert_eq!(variables("r://{a}/{path*}").unwrap(), ["a", "path"]);
    }

    #[test]
    fn rejects_bad_templates() {
        assert!(variables("a://{?q}").unwrap_err().contains("unsupported"));
        assert!(variables("a://{x,y}").unwrap_err().contains("unsupported"));
        assert!(variables("a://{}").unwrap_err().contains("unsupported"));
        assert!(variables("a://{x").unwrap_err().contains("unclosed"));
        assert!(variables("a://x}").unwrap_err().contains("unmatched"));
        assert!(variables("a://{x}/{x}").unwrap_err().contains("twice"));
    }
}
