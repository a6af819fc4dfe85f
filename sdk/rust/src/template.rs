//! Matching URIs against simple RFC 6570 templates.
//!
//! Supported: `{name}` (one or more characters other than `/`) and `{name*}`
//! (one or more of any character). Matched values are percent-decoded.

enum Part<'a> {
    Literal(&'a str),
    Var { name: &'a str, explode: bool },
}

fn parse(template: &str) -> Option<Vec<Part<'_>>> {
    let mut parts = Vec::new();
    let mut rest = template;
    while !rest.is_empty() {
        match rest.find('{') {
            Some(0) => {
                let end = rest.find('}')?;
                let inner = &rest[1..end];
                let (name, explode) = match inner.strip_suffix('*') {
                    Some(name) => (name, true),
                    None => (inner, false),
                };
                if name.is_empty() {
                    return None;
                }
                parts.push(Part::Var { name, explode });
                rest = &rest[end + 1..];
            }
            Some(i) => {
                parts.push(Part::Literal(&rest[..i]));
                rest = &rest[i..];
            }
            None => {
                parts.push(Part::Literal(rest));
                rest = "";
            }
        }
    }
    Some(parts)
}

/// The variable names of `template`, in order.
pub fn variables(template: &str) -> Vec<&str> {
    parse(template)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|p| match p {
            Part::Var { name, .. } => Some(name),
            Part::Literal(_) => None,
        })
        .collect()
}

/// Matches `uri` against `template`; on success, the variables' values
/// (percent-decoded), in template order.
pub fn match_uri(template: &str, uri: &str) -> Option<Vec<(String, String)>> {
    let parts = parse(template)?;
    let mut out = Vec::new();
    if match_parts(&parts, uri, &mut out) {
        out.reverse();
        Some(out)
    } else {
        None
    }
}

/// Greedy matching with backtracking; pushes values in reverse order.
fn match_parts(parts: &[Part<'_>], uri: &str, out: &mut Vec<(String, String)>) -> bool {
    let Some((first, rest)) = parts.split_first() else {
        return uri.is_empty();
    };
    match first {
        Part::Literal(lit) => uri
            .strip_prefix(lit)
            .is_some_and(|tail| match_parts(rest, tail, out)),
        Part::Var { name, explode } => {
            let max = if *explode {
                uri.len()
            } else {
                uri.find('/').unwrap_or(uri.len())
            };
            let ends = uri[..max]
                .char_indices()
                .map(|(i, c)| i + c.len_utf8())
                .collect::<Vec<_>>();
            for &end in ends.iter().rev() {
                if match_parts(rest, &uri[end..], out) {
                    out.push(((*name).to_owned(), percent_decode(&uri[..end])));
                    return true;
                }
            }
            false
        }
    }
}

fn percent_decode(s: &str) -> String {
    if !s.contains('%') {
        return s.to_owned();
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Some(b) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Option<Vec<(String, String)>> {
        Some(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn simple() {
        let t = "users://{user_id}/profile";
        assert_eq!(variables(t), vec!["user_id"]);
        assert_eq!(
            match_uri(t, "users://42/profile"),
            vars(&[("user_id", "42")])
        );
        assert_eq!(match_uri(t, "users:///profile"), None);
        assert_eq!(match_uri(t, "users://4/2/profile"), None);
        assert_eq!(match_uri(t, "users://42/profile/x"), None);
        assert_eq!(match_uri(t, "other://42/profile"), None);
    }

    #[test]
    fn several_and_explode() {
        let t = "repo://{owner}/{name}/files/{path*}";
        assert_eq!(variables(t), vec!["owner", "name", "path"]);
        assert_eq!(
            match_uri(t, "repo://me/corral/files/src/lib.rs"),
            vars(&[("owner", "me"), ("name", "corral"), ("path", "src/lib.rs")])
        );
        assert_eq!(
            match_uri("files://{name}", "files://a%20b.txt"),
            vars(&[("name", "a b.txt")])
        );
        assert_eq!(
            match_uri("w://{a}.{b}", "w://x.y.z"),
            vars(&[("a", "x.y"), ("b", "z")])
        );
        assert_eq!(match_uri("data://config", "data://config"), vars(&[]));
        assert_eq!(
            match_uri("files://{name}", "files://é"),
            vars(&[("name", "é")])
        );
    }

    #[test]
    fn decoding() {
        assert_eq!(percent_decode("a%2Fb"), "a/b");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
        assert_eq!(percent_decode("%C3%A9"), "é");
    }
}
