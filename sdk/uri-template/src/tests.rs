use super::*;
use proptest::prelude::*;

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

// ---- The matcher as it was, kept as an oracle ----

type Decode = fn(&str) -> Option<String>;

fn raw(text: &str) -> Option<String> {
    Some(text.to_owned())
}

/// The backtracking matcher this crate had before matching was made linear
/// (quadratic to exponential, so only for short URIs). `value` and `query`
/// decode variable values and query parameters: with [`percent_decode`] for
/// both it is exactly the old matcher.
fn oracle(
    parts: &[Part],
    uri: &str,
    bound: &mut Vec<(String, String)>,
    value: Decode,
    query_decode: Decode,
) -> bool {
    let Some((first, rest)) = parts.split_first() else {
        return uri.is_empty();
    };
    match first {
        Part::Literal(l) => uri
            .strip_prefix(l.as_str())
            .is_some_and(|tail| oracle(rest, tail, bound, value, query_decode)),
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
                let Some(decoded) = value(&uri[..end]) else {
                    return false;
                };
                let mark = bound.len();
                bound.push((name.clone(), decoded));
                if oracle(rest, &uri[end..], bound, value, query_decode) {
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
                let (Some(key), Some(value)) = (query_decode(key), query_decode(value)) else {
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

/// What the old matcher answers.
fn old_matches(t: &UriTemplate, uri: &str) -> Option<Vec<(String, String)>> {
    let mut bound = Vec::new();
    oracle(&t.parts, uri, &mut bound, percent_decode, percent_decode).then_some(bound)
}

/// The old search on raw values, then each value decoded once: what
/// `matches` is documented to do.
fn split_then_decode(t: &UriTemplate, uri: &str) -> Option<Vec<(String, String)>> {
    let mut bound = Vec::new();
    if !oracle(&t.parts, uri, &mut bound, raw, percent_decode) {
        return None;
    }
    let vars = t
        .parts
        .iter()
        .filter(|p| matches!(p, Part::Segment(_) | Part::Path(_)))
        .count();
    for (_, v) in &mut bound[..vars] {
        *v = percent_decode(v)?;
    }
    Some(bound)
}

fn old_matches_raw(t: &UriTemplate, uri: &str) -> bool {
    oracle(&t.parts, uri, &mut Vec::new(), raw, raw)
}

fn t(source: &str) -> UriTemplate {
    UriTemplate::parse(source).unwrap()
}

// ---- Matching ----

#[test]
fn matching_table() {
    type Row = (
        &'static str,
        &'static str,
        Option<&'static [(&'static str, &'static str)]>,
    );
    let rows: &[Row] = &[
        // The longest value that lets the rest match.
        (
            "x://{+a}/{+b}",
            "x://p/q/r",
            Some(&[("a", "p/q"), ("b", "r")]),
        ),
        ("a://{x}.json", "a://v.1.json", Some(&[("x", "v.1")])),
        ("x://{a}é{b}", "x://ééé", Some(&[("a", "é"), ("b", "é")])),
        ("x://{+a}/end", "x://p//end", Some(&[("a", "p/")])),
        ("x://{+a}/end", "x:///end", None),
        ("x://{a}#{b}", "x://p#q", Some(&[("a", "p"), ("b", "q")])),
        ("x://{a}", "x://p#q", None),
        ("{a}://{+b}", "s://h/p", Some(&[("a", "s"), ("b", "h/p")])),
        // Query strings.
        ("s://{q}{?a}", "s://x?", Some(&[("q", "x")])),
        ("s://{q}{?a}", "s://x?&&a", Some(&[("q", "x"), ("a", "")])),
        (
            "s://{q}{?a}",
            "s://x?a=%41&a=2",
            Some(&[("q", "x"), ("a", "A"), ("a", "2")]),
        ),
        (
            "s://{q}{?a}",
            "s://x?a=1#f",
            Some(&[("q", "x"), ("a", "1#f")]),
        ),
        ("s://{q}{?a}", "s://x?a=1&b=%zz", None),
        (
            "s://{q}{?a}",
            "s://x?%61=1",
            Some(&[("q", "x"), ("a", "1")]),
        ),
        ("s://{q}{?a}", "s://x#f", None),
        (
            "s://{+q}?{?a}",
            "s://x??a=1",
            Some(&[("q", "x"), ("a", "1")]),
        ),
        // Decoding comes after the split, and a bad value means no match.
        (
            "x://{a}-{b}",
            "x://p-q%41",
            Some(&[("a", "p"), ("b", "qA")]),
        ),
        ("x://{a}", "x://%C3%A9", Some(&[("a", "é")])),
        ("x://{a}", "x://%C3", None),
        ("x://{a}", "x://%+1", None),
        ("x://{a}%{b}", "x://p%q", Some(&[("a", "p"), ("b", "q")])),
        (
            "x://{a}/{b}",
            "x://%2F/%2f",
            Some(&[("a", "/"), ("b", "/")]),
        ),
        ("x://{a}", "x://a%2", None),
    ];
    for (template, uri, want) in rows {
        let want = want.map(pairs);
        assert_eq!(t(template).matches(uri), want, "{template} against {uri}");
        assert_eq!(
            split_then_decode(&t(template), uri),
            want,
            "{template} against {uri}"
        );
    }
}

#[test]
fn decoding_after_the_split_differs_from_the_old_matcher_only_on_bad_escapes() {
    // The old matcher decoded each candidate value and gave up on the first
    // that did not decode, even when a shorter one would have matched.
    let rows = [
        ("x://{a}-{b}", "x://p-q%41"),
        ("x://{a}%{b}", "x://p%q"),
        ("x://{+a}/{b}", "x://p/q%2F"),
    ];
    for (template, uri) in rows {
        let template = t(template);
        assert_eq!(old_matches(&template, uri), None, "{uri}");
        assert!(template.matches(uri).is_some(), "{uri}");
    }
}

#[test]
fn matching_is_linear() {
    // (template, URI, whether it matches): the URIs are MAX_URI_BYTES long.
    let long = |head: &str, middle: &str, tail: &str| {
        let room = MAX_URI_BYTES - head.len() - tail.len();
        let (count, pad) = (room / middle.len(), room % middle.len());
        format!("{head}{}{}{tail}", "a".repeat(pad), middle.repeat(count))
    };
    let rows = [
        (
            "users://{user_id}/profile",
            long("users://", "a", "/profile"),
            true,
        ),
        (
            "users://{user_id}/profile",
            long("users://", "a", "/profil"),
            false,
        ),
        (
            "users://{user_id}/profile",
            long("users://", "%2", "/profile"),
            false,
        ),
        ("x://{+a}/{+b}/end", long("x://", "/a", "/en"), false),
        ("x://{+a}/{+b}/end", long("x://", "/", "/enx"), false),
        ("x://{+a}/{+b}/end", long("x://", "/a", "/end"), true),
        ("x://{+a}/{+b}/end{?q}", long("x://", "/a", "/end?"), true),
    ];
    for (template, uri, matches) in rows {
        assert_eq!(uri.len(), MAX_URI_BYTES);
        let template = t(template);
        STEPS.with(|s| s.set(0));
        assert_eq!(template.matches(&uri).is_some(), matches, "{template:?}");
        let steps = STEPS.with(|s| s.get());
        let cells = (template.parts.len() as u64 + 1) * (uri.len() as u64 + 1);
        assert!(steps <= 2 * cells, "{template:?}: {steps} steps");
    }
    let found = t("x://{+a}/{+b}/end").matches(&long("x://", "/a", "/end"));
    let found = found.unwrap();
    assert_eq!(found[1], ("b".to_owned(), "a".to_owned()));
    assert_eq!(
        found[0].1.len(),
        MAX_URI_BYTES - "x://".len() - "/a/end".len()
    );
}

// ---- Limits ----

#[test]
fn limits() {
    let users = t("users://{user_id}/profile");
    let at_limit = format!("users://{}/profile", "a".repeat(MAX_URI_BYTES - 16));
    assert_eq!(at_limit.len(), MAX_URI_BYTES);
    assert!(users.matches(&at_limit).is_some());
    let over = format!("users://{}/profile", "a".repeat(MAX_URI_BYTES - 15));
    assert_eq!(users.matches(&over), None);
    assert!(users.matches_raw(&over));

    let template = format!("x://{{a}}/{}", "b".repeat(MAX_TEMPLATE_BYTES - 8));
    assert_eq!(template.len(), MAX_TEMPLATE_BYTES);
    assert!(UriTemplate::parse(&template).is_ok());
    let err = UriTemplate::parse(&format!("{template}b")).unwrap_err();
    assert_eq!(err, "is 1025 bytes long; at most 1024 are allowed");

    assert!(UriTemplate::parse("x://{+a}/{b*}/{c}").is_ok());
    let err = UriTemplate::parse("x://{+a}/{b*}/{+c}").unwrap_err();
    assert_eq!(
        err,
        "has 3 multi-segment variables ({+x} / {x*}); at most 2 are allowed"
    );
}

// ---- Overlaps ----

#[test]
fn overlaps_table() {
    let rows = [
        ("users://{id}/profile", "users://{uid}/profile", true),
        ("users://{id}/profile", "users://{id}/{+rest}", true),
        ("users://{id}/profile", "users://{+p}", true),
        ("users://{id}/profile", "users://{id}/settings", false),
        ("users://{id}/profile", "docs://{x}", false),
        ("a://{x}{?q}", "a://{x}/y", false),
        ("a://{x}.json", "a://data.{ext}", true),
        ("a://{x}{?q}", "a://{x}?y#z", true),
        ("a://{x}{?q}", "a://{x}#z", false),
        ("a://{x}{?q}", "a://{+x}", true),
        ("a://{x}/{y}", "a://{x}", false),
        ("a://{+x}/b", "a://c/{+y}", true),
        ("{s}://é", "x://{+p}", true),
        ("{s}://é", "x://{+p}/", false),
        ("{s}://é", "x:/{+p}", true),
    ];
    for (a, b, want) in rows {
        let (ta, tb) = (t(a), t(b));
        assert_eq!(ta.overlaps(&tb), want, "{a} and {b}");
        assert_eq!(tb.overlaps(&ta), want, "{b} and {a}");
        if let Some(example) = ta.overlap_example(&tb) {
            assert!(
                ta.matches_raw(&example) && tb.matches_raw(&example),
                "{example}"
            );
        }
    }
    let example = |a: &str, b: &str| t(a).overlap_example(&t(b));
    assert_eq!(
        example("users://{id}/profile", "users://{id}/{+rest}").as_deref(),
        Some("users://x/profile")
    );
    assert_eq!(
        example("a://{x}.json", "a://data.{ext}").as_deref(),
        Some("a://data.json")
    );
}

#[test]
fn raw_matching_ignores_decoding() {
    let files = t("files://{name}{?v}");
    for uri in ["files://bad%zz", "files://a?v=%", "files://%C3"] {
        assert!(
            files.matches_raw(uri) && files.matches(uri).is_none(),
            "{uri}"
        );
    }
    assert!(!files.matches_raw("files://a/b"));
    assert!(files.matches_raw("files://a?b#c"));
}

// ---- Properties ----

/// What random templates and URIs are made of: few characters, each of them
/// special somewhere.
const CHARS: &[&str] = &["a", "b", "/", "?", "#", "%", "=", "&", "2", "0", "é"];
/// For overlaps, where fewer characters make common URIs likelier.
const FEW_CHARS: &[&str] = &["a", "/", "?", "#", "é"];
/// For the exhaustive check of overlaps: `x` stands for every character
/// that is not in a template's literals and not `/`, `?` or `#`.
const LITERAL_CHARS: &[&str] = &["a", "/", "?", "#"];
const SHORT_URI_CHARS: &[char] = &['a', '/', '?', '#', 'x'];

fn text(alphabet: &'static [&'static str], len: std::ops::Range<usize>) -> BoxedStrategy<String> {
    prop::collection::vec(prop::sample::select(alphabet), len)
        .prop_map(|v| v.concat())
        .boxed()
}

/// Templates of up to three variables of any kind, literals of one or two
/// characters between them, and maybe a query part.
fn template(alphabet: &'static [&'static str]) -> impl Strategy<Value = UriTemplate> {
    template_of(alphabet, 0..4, 1..3)
}

fn template_of(
    alphabet: &'static [&'static str],
    variables: std::ops::Range<usize>,
    literal: std::ops::Range<usize>,
) -> impl Strategy<Value = UriTemplate> {
    let variable = (0..3u8, text(alphabet, literal.clone()));
    let query = prop::sample::select(&["", "", "{?a}", "{?a,b}"][..]);
    let head = text(alphabet, 0..literal.end);
    (
        head,
        prop::collection::vec(variable, variables),
        any::<bool>(),
        query,
    )
        .prop_filter_map("a valid template", |(head, variables, tail, query)| {
            let mut source = head;
            for (k, (kind, literal)) in variables.iter().enumerate() {
                source += &match kind {
                    0 => format!("{{v{k}}}"),
                    1 => format!("{{+v{k}}}"),
                    _ => format!("{{v{k}*}}"),
                };
                if k + 1 < variables.len() || tail {
                    source += literal;
                }
            }
            UriTemplate::parse(&(source + query)).ok()
        })
}

/// A URI shaped like `template`, its variables filled from `fills` (which
/// may hold characters a variable does not allow).
fn instantiate(template: &UriTemplate, fills: &[String], query: &str) -> String {
    let mut fills = fills.iter().cycle();
    let mut uri = String::new();
    for part in &template.parts {
        match part {
            Part::Literal(l) => uri += l,
            Part::Segment(_) | Part::Path(_) => uri += fills.next().map_or("x", |f| f),
            Part::Query(_) => uri += query,
        }
    }
    uri
}

fn uris(alphabet: &'static [&'static str]) -> impl Strategy<Value = (Vec<String>, String, String)> {
    let query = prop_oneof![
        Just(String::new()),
        text(alphabet, 0..6).prop_map(|q| format!("?{q}"))
    ];
    (
        prop::collection::vec(text(alphabet, 1..4), 4),
        query,
        text(alphabet, 0..12),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn matches_like_the_old_matcher(t in template(CHARS), (fills, query, random) in uris(CHARS)) {
        for uri in [instantiate(&t, &fills, &query), random] {
            let new = t.matches(&uri);
            prop_assert_eq!(&new, &split_then_decode(&t, &uri), "{:?} {}", t, uri);
            prop_assert_eq!(t.matches_raw(&uri), old_matches_raw(&t, &uri));
            let old = old_matches(&t, &uri);
            if !uri.contains('%') || (new.is_some() && old.is_some()) {
                prop_assert_eq!(new, old);
            }
        }
    }

    #[test]
    fn overlaps_finds_every_common_uri(
        a in template(FEW_CHARS),
        b in template(FEW_CHARS),
        (fills, query, random) in uris(FEW_CHARS),
    ) {
        let overlaps = a.overlaps(&b);
        prop_assert_eq!(overlaps, b.overlaps(&a));
        prop_assert!(a.overlaps(&a));
        if let Some(example) = a.overlap_example(&b) {
            prop_assert!(a.matches_raw(&example) && b.matches_raw(&example), "{}", example);
        }
        for uri in [instantiate(&a, &fills, &query), instantiate(&b, &fills, &query), random] {
            if a.matches_raw(&uri) && b.matches_raw(&uri) {
                prop_assert!(overlaps, "{:?} and {:?} both match {}", a, b, uri);
            }
        }
    }
}

/// Every string of at most five of [`SHORT_URI_CHARS`].
fn short_uris() -> &'static [String] {
    static URIS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    URIS.get_or_init(|| {
        let mut all = vec![String::new()];
        let mut last = all.clone();
        for _ in 0..5 {
            last = last
                .iter()
                .flat_map(|u| SHORT_URI_CHARS.iter().map(move |c| format!("{u}{c}")))
                .collect();
            all.extend(last.iter().cloned());
        }
        all
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Short templates over few characters, against every URI of up to five
    /// characters (which stand for all of them): when `overlaps` says no,
    /// no such URI matches both.
    #[test]
    fn overlaps_is_exact_on_short_uris(
        a in template_of(LITERAL_CHARS, 0..3, 1..2),
        b in template_of(LITERAL_CHARS, 0..3, 1..2),
    ) {
        if !a.overlaps(&b) {
            for uri in short_uris() {
                prop_assert!(!(a.matches_raw(uri) && b.matches_raw(uri)), "{:?} and {:?} both match {}", a, b, uri);
            }
        }
    }
}
