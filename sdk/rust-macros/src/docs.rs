//! Doc comments: collecting them and splitting off the `# Arguments` section.

use syn::{Attribute, Expr, ExprLit, Lit, Meta};

/// The doc comment on `attrs`, one line per line, with the single space after
/// `///` removed; `None` when there is none.
pub fn doc_string(attrs: &[Attribute]) -> Option<String> {
    let mut lines = Vec::new();
    for attr in attrs {
        if !attr.path().is_ident("doc") {
            continue;
        }
        if let Meta::NameValue(nv) = &attr.meta
            && let Expr::Lit(ExprLit {
                lit: Lit::Str(s), ..
            }) = &nv.value
        {
            for line in s.value().split('\n') {
                lines.push(line.strip_prefix(' ').unwrap_or(line).trim_end().to_owned());
            }
        }
    }
    let doc = lines.join("\n");
    let doc = doc.trim_matches('\n');
    (!doc.trim().is_empty()).then(|| doc.to_owned())
}

/// A doc comment split into the description and the parameter descriptions
/// listed under `# Arguments` (also `# Args`, `# Parameters`, `# Params`).
#[derive(Debug, Default, PartialEq)]
pub struct Docs {
    pub description: Option<String>,
    pub arguments: Vec<(String, String)>,
}

impl Docs {
    pub fn argument(&self, name: &str) -> Option<&str> {
        self.arguments
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, d)| d.as_str())
    }
}

fn is_arguments_heading(title: &str) -> bool {
    matches!(
        title.to_ascii_lowercase().as_str(),
        "arguments" | "args" | "parameters" | "params"
    )
}

/// Parses one list item such as `` `name` - text `` or `` `name`: text ``.
fn parse_item(item: &str) -> Option<(String, String)> {
    let item = item.trim();
    let (name, rest) = if let Some(rest) = item.strip_prefix('`') {
        let end = rest.find('`')?;
        (&rest[..end], &rest[end + 1..])
    } else {
        let end = item
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(item.len());
        (&item[..end], &item[end..])
    };
    let name = name.trim().trim_start_matches("r#");
    if name.is_empty() {
        return None;
    }
    let rest = rest.trim_start();
    let rest = ["-", ":", "—", "–"]
        .iter()
        .find_map(|sep| rest.strip_prefix(sep))
        .unwrap_or(rest);
    Some((name.to_owned(), rest.trim().to_owned()))
}

/// Splits `doc` into the description and the `# Arguments` items.
pub fn split(doc: Option<&str>) -> Docs {
    let Some(doc) = doc else {
        return Docs::default();
    };
    let mut description = Vec::new();
    let mut arguments: Vec<(String, String)> = Vec::new();
    let mut in_arguments = false;
    let mut in_fence = false;
    for line in doc.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with("```") {
            in_fence = !in_fence;
        }
        if !in_fence && trimmed.starts_with('#') {
            let title = trimmed.trim_start_matches('#');
            if title.starts_with(' ') {
                in_arguments = is_arguments_heading(title.trim());
                if in_arguments {
                    continue;
                }
            }
        }
        if in_arguments {
            let item = trimmed
                .strip_prefix("* ")
                .or_else(|| trimmed.strip_prefix("- "));
            if let Some(item) = item {
                if let Some(arg) = parse_item(item) {
                    arguments.push(arg);
                }
            } else if !trimmed.is_empty()
                && let Some((_, text)) = arguments.last_mut()
            {
                if !text.is_empty() {
                    text.push(' ');
                }
                text.push_str(trimmed);
            }
            continue;
        }
        description.push(line);
    }
    // Trim blank lines at both ends and squeeze runs of blank lines.
    let mut out: Vec<&str> = Vec::new();
    for line in description {
        if line.trim().is_empty() && out.last().is_none_or(|l: &&str| l.trim().is_empty()) {
            continue;
        }
        out.push(line);
    }
    while out.last().is_some_and(|l| l.trim().is_empty()) {
        out.pop();
    }
    let description = out.join("\n");
    Docs {
        description: (!description.is_empty()).then_some(description),
        arguments,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(lines: &[&str]) -> Vec<Attribute> {
        lines
            .iter()
            .map(|l| syn::parse_quote!(#[doc = #l]))
            .collect()
    }

    #[test]
    fn collects_doc_attributes() {
        let a = attrs(&[" Multiply two numbers.", "", " # Arguments", " * `a` - x"]);
        assert_eq!(
            doc_string(&a).unwrap(),
            "Multiply two numbers.\n\n# Arguments\n* `a` - x"
        );
        assert_eq!(doc_string(&attrs(&[" ", ""])), None);
        let other: Vec<Attribute> = vec![syn::parse_quote!(#[inline])];
        assert_eq!(doc_string(&other), None);
    }

    #[test]
    fn splits_arguments() {
        let doc = "Multiply two numbers.\n\n# Arguments\n* `a` - The first factor\n* `b` - The second factor";
        let d = split(Some(doc));
        assert_eq!(d.description.as_deref(), Some("Multiply two numbers."));
        assert_eq!(
            d.arguments,
            vec![
                ("a".to_owned(), "The first factor".to_owned()),
                ("b".to_owned(), "The second factor".to_owned())
            ]
        );
        assert_eq!(d.argument("b"), Some("The second factor"));
        assert_eq!(d.argument("c"), None);
    }

    #[test]
    fn other_list_styles_and_sections() {
        let doc = "Search.\n\nLonger text.\n\n# Params\n- `query`: what to find,\n  continued here\n- limit: at most this many\n* `r#type` — kind\n\n# Errors\nWhen it fails.";
        let d = split(Some(doc));
        assert_eq!(
            d.description.as_deref(),
            Some("Search.\n\nLonger text.\n\n# Errors\nWhen it fails.")
        );
        assert_eq!(d.argument("query"), Some("what to find, continued here"));
        assert_eq!(d.argument("limit"), Some("at most this many"));
        assert_eq!(d.argument("type"), Some("kind"));
    }

    #[test]
    fn headings_in_code_blocks_are_not_sections() {
        let doc = "Run.\n\n```sh\n# Arguments\n```";
        let d = split(Some(doc));
        assert_eq!(d.description.as_deref(), Some(doc));
        assert!(d.arguments.is_empty());
        assert_eq!(split(None), Docs::default());
        let only_args = split(Some("# Arguments\n* `a` - x"));
        assert_eq!(only_args.description, None);
    }
}
