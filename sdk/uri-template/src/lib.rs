//! Matching URIs against RFC 6570 URI templates, the subset resource
//! templates use: `{var}` (one path segment), `{+var}` and `{var*}` (any
//! number of segments) and `{?a,b}` (optional query parameters).
//!
//! One implementation serves the host (which matches a read's URI to a
//! template), the guest SDK (which dispatches to the right handler) and the
//! SDK's macros (which check a template against the handler's parameters at
//! compile time), so the three never disagree about what a template means.
//!
//! ```
//! use corral_uri_template::UriTemplate;
//!
//! let t = UriTemplate::parse("docs://{lang}/{+path}{?version}").unwrap();
//! assert_eq!(
//!     t.matches("docs://en/guide/intro.md?version=2"),
//!     Some(vec![
//!         ("lang".to_owned(), "en".to_owned()),
//!         ("path".to_owned(), "guide/intro.md".to_owned()),
//!         ("version".to_owned(), "2".to_owned()),
//!     ])
//! );
//! let optional: Vec<_> = t.variables().filter(|v| v.optional).map(|v| v.name).collect();
//! assert_eq!(optional, ["version"]);
//! ```

/// One variable of a template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Variable<'a> {
    /// Its name.
    pub name: &'a str,
    /// Whether a matching URI may leave it out (a `{?...}` query parameter).
    pub optional: bool,
}

/// A parsed URI template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UriTemplate {
    source: String,
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    /// `{var}`: one or more characters, no `/`, `?` or `#`.
    Segment(String),
    /// `{+var}` or `{var*}`: one or more characters, `/` allowed.
    Path(String),
    /// `{?a,b}`: an optional query string carrying any of these names.
    Query(Vec<String>),
}

impl UriTemplate {
    /// Parse `source`; errors say what is wrong with it.
    pub fn parse(source: &str) -> Result<Self, String> {
        let mut parts = Vec::new();
        let mut rest = source;
        let mut names = Vec::new();
        while !rest.is_empty() {
            let Some(open) = rest.find('{') else {
                if rest.contains('}') {
                    return Err("unbalanced `}`".into());
                }
                parts.push(Part::Literal(rest.to_owned()));
                break;
            };
            if open > 0 {
                let literal = &rest[..open];
                if literal.contains('}') {
                    return Err("unbalanced `}`".into());
                }
                parts.push(Part::Literal(literal.to_owned()));
            }
            let close = rest[open..]
                .find('}')
                .map(|i| open + i)
                .ok_or("unclosed `{`")?;
            let expression = &rest[open + 1..close];
            let part = parse_expression(expression)?;
            if matches!(parts.last(), Some(Part::Segment(_) | Part::Path(_)))
                && !matches!(part, Part::Query(_))
            {
                return Err(format!(
                    "`{{{expression}}}` directly follows another variable; put a literal between them"
                ));
            }
            if matches!(parts.last(), Some(Part::Query(_))) {
                return Err("`{?...}` must come last".into());
            }
            match &part {
                Part::Segment(n) | Part::Path(n) => names.push(n.clone()),
                Part::Query(ns) => names.extend(ns.iter().cloned()),
                Part::Literal(_) => {}
            }
            parts.push(part);
            rest = &rest[close + 1..];
        }
        let mut sorted = names.clone();
        sorted.sort();
        if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
            return Err(format!("variable `{}` appears twice", w[0]));
        }
        if names.is_empty() {
            return Err("has no variables; make it a plain resource".into());
        }
        Ok(Self {
            source: source.to_owned(),
            parts,
        })
    }

    /// The template text.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// How specific the template is: more literal text is more specific,
    /// multi-segment variables are less. Higher wins when two match.
    pub fn specificity(&self) -> (usize, usize) {
        let literal = self
            .parts
            .iter()
            .map(|p| match p {
                Part::Literal(l) => l.len(),
                _ => 0,
            })
            .sum();
        let single = self
            .parts
            .iter()
            .filter(|p| matches!(p, Part::Segment(_)))
            .count();
        (literal, single)
    }

    /// The variables, in template order.
    pub fn variables(&self) -> impl Iterator<Item = Variable<'_>> {
        self.parts.iter().flat_map(|p| {
            let (names, optional) = match p {
                Part::Literal(_) => (&[][..], false),
                Part::Segment(n) | Part::Path(n) => (std::slice::from_ref(n), false),
                Part::Query(ns) => (&ns[..], true),
            };
            names.iter().map(move |n| Variable {
                name: n.as_str(),
                optional,
            })
        })
    }

    /// The variables `uri` binds, percent-decoded, or `None` if it does not match.
    pub fn matches(&self, uri: &str) -> Option<Vec<(String, String)>> {
        let mut bound = Vec::new();
        match_parts(&self.parts, uri, &mut bound).then_some(bound)
    }
}

fn parse_expression(expression: &str) -> Result<Part, String> {
    let valid = |name: &str| {
        !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
    };
    if let Some(names) = expression.strip_prefix('?') {
        let names: Vec<String> = names.split(',').map(str::to_owned).collect();
        if let Some(bad) = names.iter().find(|n| !valid(n)) {
            return Err(format!("bad variable name `{bad}`"));
        }
        return Ok(Part::Query(names));
    }
    let (name, path) = if let Some(n) = expression.strip_prefix('+') {
        (n, true)
    } else if let Some(n) = expression.strip_suffix('*') {
        (n, true)
    } else {
        (expression, false)
    };
    if !valid(name) {
        return Err(format!(
            "`{{{expression}}}` is not supported (use {{name}}, {{+name}}, {{name*}} or {{?a,b}})"
        ));
    }
    Ok(if path {
        Part::Path(name.to_owned())
    } else {
        Part::Segment(name.to_owned())
    })
}

fn match_parts(parts: &[Part], uri: &str, bound: &mut Vec<(String, String)>) -> bool {
    let Some((first, rest)) = parts.split_first() else {
        return uri.is_empty();
    };
    match first {
        Part::Literal(l) => uri
            .strip_prefix(l.as_str())
            .is_some_and(|tail| match_parts(rest, tail, bound)),
        Part::Segment(name) | Part::Path(name) => {
            let multi = matches!(first, Part::Path(_));
            let stop = uri
                .find(|c: char| c == '?' || c == '#' || (!multi && c == '/'))
                .unwrap_or(uri.len());
            // Try the longest value first, then shorter ones.
            for end in (1..=stop).rev() {
                if !uri.is_char_boundary(end) {
                    continue;
                }
                let Some(value) = percent_decode(&uri[..end]) else {
                    return false;
                };
                let mark = bound.len();
                bound.push((name.clone(), value));
                if match_parts(rest, &uri[end..], bound) {
                    return true;
                }
                bound.truncate(mark);
            }
            false
        }
        Part::Query(names) => {
            let query = match uri.strip_prefix('?') {
                Some(q) => q,
                None => return uri.is_empty(),
            };
            for pair in query.split('&').filter(|p| !p.is_empty()) {
                let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                let (Some(key), Some(value)) = (percent_decode(key), percent_decode(value)) else {
                    return false;
                };
                if names.contains(&key) {
                    bound.push((key, value));
                }
            }
            true
        }
    }
}

/// Decode `%XX` escapes; `None` if an escape is malformed or the result is not UTF-8.
pub fn percent_decode(text: &str) -> Option<String> {
    if !text.contains('%') {
        return Some(text.to_owned());
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bind(template: &str, uri: &str) -> Option<Vec<(String, String)>> {
        UriTemplate::parse(template).unwrap().matches(uri)
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn simple_variables_bind_one_segment() {
        assert_eq!(
            bind("users://{user_id}/profile", "users://42/profile"),
            Some(pairs(&[("user_id", "42")]))
        );
        assert_eq!(
            bind("users://{user_id}/profile", "users://4/2/profile"),
            None
        );
        assert_eq!(bind("users://{user_id}/profile", "users:///profile"), None);
        assert_eq!(
            bind("users://{user_id}/profile", "users://42/profile/x"),
            None
        );
    }

    #[test]
    fn values_are_percent_decoded() {
        assert_eq!(
            bind("files://{name}", "files://a%20b%2Fc"),
            Some(pairs(&[("name", "a b/c")]))
        );
        assert_eq!(bind("files://{name}", "files://bad%zz"), None);
    }

    #[test]
    fn multi_segment_variables() {
        assert_eq!(
            bind("docs://{+path}", "docs://a/b/c.md"),
            Some(pairs(&[("path", "a/b/c.md")]))
        );
        assert_eq!(
            bind("repo://{path*}/raw", "repo://src/lib.rs/raw"),
            Some(pairs(&[("path", "src/lib.rs")]))
        );
    }

    #[test]
    fn query_parameters_are_optional() {
        let t = "search://{q}{?limit,lang}";
        assert_eq!(bind(t, "search://rust"), Some(pairs(&[("q", "rust")])));
        assert_eq!(
            bind(t, "search://rust?limit=5&lang=en&other=1"),
            Some(pairs(&[("q", "rust"), ("limit", "5"), ("lang", "en")]))
        );
    }

    #[test]
    fn variables_say_which_are_optional() {
        let t = UriTemplate::parse("search://{q}/{+rest}{?limit,lang}").unwrap();
        let vars: Vec<_> = t.variables().map(|v| (v.name, v.optional)).collect();
        assert_eq!(
            vars,
            [
                ("q", false),
                ("rest", false),
                ("limit", true),
                ("lang", true)
            ]
        );
    }

    #[test]
    fn bad_templates_are_refused_with_a_reason() {
        assert!(
            UriTemplate::parse("x://{a}{b}")
                .unwrap_err()
                .contains("directly follows")
        );
        assert!(
            UriTemplate::parse("x://{a")
                .unwrap_err()
                .contains("unclosed")
        );
        assert!(
            UriTemplate::parse("x://{#a}")
                .unwrap_err()
                .contains("not supported")
        );
        assert!(
            UriTemplate::parse("x://{a}/{a}")
                .unwrap_err()
                .contains("twice")
        );
        assert!(
            UriTemplate::parse("x://plain")
                .unwrap_err()
                .contains("no variables")
        );
    }

    #[test]
    fn literal_text_makes_a_template_more_specific() {
        let general = UriTemplate::parse("users://{id}/{+rest}").unwrap();
        let specific = UriTemplate::parse("users://{id}/profile").unwrap();
        assert!(specific.specificity() > general.specificity());
    }
}
