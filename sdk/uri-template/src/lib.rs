//! Matching URIs against RFC 6570 URI templates, the subset resource
//! templates use: literal text, `{var}` (one or more characters other than
//! `/`, `?` and `#`), `{+var}` and `{var*}` (one or more characters other than
//! `?` and `#`, so any number of segments) and a final `{?a,b}` (an optional
//! query string, of which the declared parameters are bound).
//!
//! One implementation serves the host (which matches a read's URI to a
//! template), the guest SDK (which dispatches to the right handler) and the
//! SDK's macros (which check a template against the handler's parameters at
//! compile time), so the three never disagree about what a template means.
//!
//! The host matches URIs that clients send, so matching is bounded: a URI
//! longer than [`MAX_URI_BYTES`] never matches, templates are at most
//! [`MAX_TEMPLATE_BYTES`] long with at most [`MAX_MULTI_SEGMENT_VARIABLES`]
//! `{+var}`/`{var*}`, and [`UriTemplate::matches`] runs in time proportional
//! to the URI's length times the template's (no backtracking). Where the split
//! of a URI between variables is ambiguous, each variable takes the longest
//! value that lets the rest match.
//!
//! [`UriTemplate::overlaps`] tells whether two templates match some URI in
//! common, so that the host can keep one plugin from shadowing another's
//! resources.
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
//!
//! let other = UriTemplate::parse("docs://{lang}/{page}").unwrap();
//! assert_eq!(t.overlap_example(&other).as_deref(), Some("docs://x/x"));
//! ```

use std::collections::VecDeque;

/// The longest URI, in bytes, that [`UriTemplate::matches`] looks at: it
/// returns `None` for a longer one without reading it. The host refuses such
/// a URI with an error naming this limit before it gets to matching.
pub const MAX_URI_BYTES: usize = 8 * 1024;

/// The longest template, in bytes, that [`UriTemplate::parse`] accepts.
pub const MAX_TEMPLATE_BYTES: usize = 1024;

/// How many multi-segment variables (`{+var}` or `{var*}`) a template may
/// have. Matching no longer depends on it for speed, but every such variable
/// makes a template claim a larger share of the URI space (see
/// [`UriTemplate::overlaps`]) and its split more ambiguous; two cover the
/// uses we know of (a path, or a prefix and a path around a fixed segment).
pub const MAX_MULTI_SEGMENT_VARIABLES: usize = 2;

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
    /// Parse `source`; errors say what is wrong with it. A template longer
    /// than [`MAX_TEMPLATE_BYTES`] or with more than
    /// [`MAX_MULTI_SEGMENT_VARIABLES`] `{+var}`/`{var*}` is refused with an
    /// error that names the limit.
    pub fn parse(source: &str) -> Result<Self, String> {
        if source.len() > MAX_TEMPLATE_BYTES {
            return Err(format!(
                "is {} bytes long; at most {MAX_TEMPLATE_BYTES} are allowed",
                source.len()
            ));
        }
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
        let multi = parts.iter().filter(|p| matches!(p, Part::Path(_))).count();
        if multi > MAX_MULTI_SEGMENT_VARIABLES {
            return Err(format!(
                "has {multi} multi-segment variables ({{+x}} / {{x*}}); \
                 at most {MAX_MULTI_SEGMENT_VARIABLES} are allowed"
            ));
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

    /// The variables `uri` binds, percent-decoded, or `None` if it does not
    /// match.
    ///
    /// Where the split is ambiguous, each variable takes the longest value
    /// that lets the rest of the template match (`{+a}/{+b}` binds `a/b` and
    /// `c` in `a/b/c`). The split is decided on the raw URI; then each value
    /// is percent-decoded once, and if one holds a malformed escape (`%` not
    /// followed by two hex digits) or does not decode to UTF-8, the URI does
    /// not match: no other split is tried. Query parameters are split on `&`
    /// and `=`, names and values percent-decoded (a malformed escape in any
    /// parameter, declared or not, means no match), and the declared ones
    /// bound in URI order.
    ///
    /// A URI longer than [`MAX_URI_BYTES`] does not match, unread. Otherwise
    /// the time is proportional to the URI's length times the template's.
    pub fn matches(&self, uri: &str) -> Option<Vec<(String, String)>> {
        if uri.len() > MAX_URI_BYTES {
            return None;
        }
        let mut table = Table::new(self.parts.len() + 1, uri.len() + 1);
        if !feasible(&self.parts, uri.as_bytes(), |i, row| table.store(i, row)) {
            return None;
        }
        bind(&self.parts, uri, &table)
    }

    /// Whether `uri` has the template's shape, decoding nothing: true
    /// whenever [`matches`](Self::matches) is `Some`, and also when it is
    /// `None` only because a value or a query parameter does not
    /// percent-decode or the URI is longer than [`MAX_URI_BYTES`].
    ///
    /// This is the test for collisions between a fixed resource URI and a
    /// template. It has no length limit: time is proportional to the URI's
    /// length times the template's, memory to the URI's length.
    pub fn matches_raw(&self, uri: &str) -> bool {
        feasible(&self.parts, uri.as_bytes(), |_, _| {})
    }

    /// Whether some URI matches both templates, in the sense of
    /// [`matches_raw`](Self::matches_raw) (where a `{?...}` part is nothing,
    /// or `?` and then anything). This is exact, so it is never false when a
    /// URI exists that [`matches`](Self::matches) both; it may be true when
    /// every common URI fails to percent-decode, or is longer than
    /// [`MAX_URI_BYTES`]. Symmetric.
    pub fn overlaps(&self, other: &UriTemplate) -> bool {
        self.overlap_example(other).is_some()
    }

    /// A URI that both templates match (see [`overlaps`](Self::overlaps)),
    /// for error messages, or `None` if there is none. Variables are filled
    /// with `x` where any character would do.
    ///
    /// Explores the pairs of states of the two templates' automata, so time
    /// and memory are proportional to the product of their lengths.
    pub fn overlap_example(&self, other: &UriTemplate) -> Option<String> {
        let (a, b) = (automaton(&self.parts), automaton(&other.parts));
        let index = |(s, t): (usize, usize)| s * b.len() + t;
        // For each pair of states reached: the pair it was reached from, and
        // the character read on the way, if any. Pair (0, 0) is the start.
        let mut came_from: Vec<Option<(u32, Option<char>)>> = vec![None; a.len() * b.len()];
        came_from[0] = Some((0, None));
        let mut queue = VecDeque::from([(0, 0)]);
        while let Some((s, t)) = queue.pop_front() {
            if a[s].accept && b[t].accept {
                let mut example = Vec::new();
                let mut at = index((s, t));
                while at != 0 {
                    let (from, c) = came_from[at]?;
                    example.extend(c);
                    at = from as usize;
                }
                return Some(example.into_iter().rev().collect());
            }
            let read = match (a[s].read, b[t].read) {
                (Some((la, s2)), Some((lb, t2))) => common(la, lb).map(|c| ((s2, t2), Some(c))),
                _ => None,
            };
            let moves = [
                a[s].skip.map(|s2| ((s2, t), None)),
                b[t].skip.map(|t2| ((s, t2), None)),
                read,
            ];
            for (next, c) in moves.into_iter().flatten() {
                let slot = &mut came_from[index(next)];
                if slot.is_none() {
                    *slot = Some((u32::try_from(index((s, t))).ok()?, c));
                    queue.push_back(next);
                }
            }
        }
        None
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

/// Whether a variable's value may hold `byte`: never `?` or `#`, and `/` only
/// if the variable is multi-segment. The excluded characters are ASCII, so
/// every byte of a non-ASCII character is allowed.
fn allowed(multi: bool, byte: u8) -> bool {
    !matches!(byte, b'?' | b'#') && (multi || byte != b'/')
}

/// Computes, from the last part to the first, row `i`: for each offset `p`
/// in `uri`, whether `parts[i..]` match `uri[p..]`, decoding nothing. Hands
/// each row to `keep` and returns whether the template matches all of `uri`.
/// Row `i` is found from row `i + 1` alone, in one pass.
fn feasible(parts: &[Part], uri: &[u8], mut keep: impl FnMut(usize, &[bool])) -> bool {
    let len = uri.len();
    let mut next = vec![false; len + 1];
    next[len] = true;
    keep(parts.len(), &next);
    let mut row = vec![false; len + 1];
    for (i, part) in parts.iter().enumerate().rev() {
        match part {
            Part::Literal(l) => {
                let l = l.as_bytes();
                for p in 0..=len {
                    step();
                    row[p] = next.get(p + l.len()) == Some(&true) && uri[p..].starts_with(l);
                }
            }
            Part::Segment(_) | Part::Path(_) => {
                let multi = matches!(part, Part::Path(_));
                row[len] = false;
                for p in (0..len).rev() {
                    step();
                    row[p] = allowed(multi, uri[p]) && (next[p + 1] || row[p + 1]);
                }
            }
            Part::Query(_) => {
                for p in 0..=len {
                    step();
                    row[p] = next[p] || (uri.get(p) == Some(&b'?') && next[len]);
                }
            }
        }
        keep(i, &row);
        std::mem::swap(&mut row, &mut next);
    }
    next[0]
}

/// Walks `uri` along the template (which `table` says matches it), each
/// variable taking the longest value after which the rest still matches,
/// and decodes what it binds.
fn bind(parts: &[Part], uri: &str, table: &Table) -> Option<Vec<(String, String)>> {
    let bytes = uri.as_bytes();
    let mut bound = Vec::new();
    let mut pos = 0;
    for (i, part) in parts.iter().enumerate() {
        match part {
            Part::Literal(l) => pos += l.len(),
            Part::Segment(name) | Part::Path(name) => {
                let multi = matches!(part, Part::Path(_));
                // Some end in this run of allowed bytes lets parts[i + 1..]
                // match; take the last. Each such end is the start of a
                // literal, of the query or the end of the URI, so it is a
                // character boundary.
                let (mut e, mut end) = (pos, pos);
                while e < bytes.len() && allowed(multi, bytes[e]) {
                    step();
                    e += 1;
                    if table.get(i + 1, e) {
                        end = e;
                    }
                }
                let value = uri.get(pos..end).filter(|v| !v.is_empty())?;
                bound.push((name.clone(), percent_decode(value)?));
                pos = end;
            }
            Part::Query(names) => {
                bind_query(names, uri.get(pos..)?, &mut bound)?;
                pos = uri.len();
            }
        }
    }
    (pos == uri.len()).then_some(bound)
}

/// Binds the declared `names` that the query string `rest` (empty, or `?`
/// and the parameters) carries; `None` if a parameter does not decode.
fn bind_query(names: &[String], rest: &str, bound: &mut Vec<(String, String)>) -> Option<()> {
    let Some(query) = rest.strip_prefix('?') else {
        return rest.is_empty().then_some(());
    };
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let (key, value) = (percent_decode(key)?, percent_decode(value)?);
        if names.contains(&key) {
            bound.push((key, value));
        }
    }
    Some(())
}

/// One bit for each (part, offset) cell of the rows [`feasible`] computes.
struct Table {
    words: usize,
    bits: Vec<u64>,
}

impl Table {
    fn new(rows: usize, width: usize) -> Self {
        let words = width.div_ceil(64);
        Self {
            words,
            bits: vec![0; rows * words],
        }
    }

    fn store(&mut self, i: usize, row: &[bool]) {
        let bits = &mut self.bits[i * self.words..][..self.words];
        for (p, _) in row.iter().enumerate().filter(|(_, set)| **set) {
            bits[p / 64] |= 1 << (p % 64);
        }
    }

    fn get(&self, i: usize, p: usize) -> bool {
        self.bits[i * self.words + p / 64] >> (p % 64) & 1 == 1
    }
}

#[cfg(test)]
thread_local! {
    /// Units of matching work done on this thread, for tests of linearity.
    static STEPS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Counts one unit of matching work (in tests only).
#[inline]
fn step() {
    #[cfg(test)]
    STEPS.with(|s| s.set(s.get() + 1));
}

/// What one move of a template's automaton reads.
#[derive(Debug, Clone, Copy)]
enum Label {
    Char(char),
    /// Any character but these (which are among `/`, `?` and `#`).
    AnyBut(&'static [char]),
}

/// A state of the automaton that reads the URIs a template matches, decoding
/// nothing: literal text a character at a time, a variable as one or more
/// allowed characters, the query as nothing or `?` and then anything.
#[derive(Debug)]
struct State {
    read: Option<(Label, usize)>,
    /// A move that reads nothing.
    skip: Option<usize>,
    accept: bool,
}

fn automaton(parts: &[Part]) -> Vec<State> {
    let state = |read, skip, accept| State { read, skip, accept };
    let mut states = Vec::new();
    for part in parts {
        let here = states.len();
        match part {
            Part::Literal(l) => states.extend(
                l.chars()
                    .enumerate()
                    .map(|(k, c)| state(Some((Label::Char(c), here + k + 1)), None, false)),
            ),
            Part::Segment(_) | Part::Path(_) => {
                let value = Label::AnyBut(match part {
                    Part::Path(_) => &['?', '#'],
                    _ => &['/', '?', '#'],
                });
                states.push(state(Some((value, here + 1)), None, false));
                states.push(state(Some((value, here + 1)), Some(here + 2), false));
            }
            Part::Query(_) => {
                states.push(state(
                    Some((Label::Char('?'), here + 1)),
                    Some(here + 2),
                    false,
                ));
                states.push(state(Some((Label::AnyBut(&[]), here + 1)), None, true));
            }
        }
    }
    states.push(state(None, None, true));
    states
}

/// A character both labels read, if there is one.
fn common(a: Label, b: Label) -> Option<char> {
    match (a, b) {
        (Label::Char(x), Label::Char(y)) => (x == y).then_some(x),
        (Label::Char(x), Label::AnyBut(no)) | (Label::AnyBut(no), Label::Char(x)) => {
            (!no.contains(&x)).then_some(x)
        }
        (Label::AnyBut(_), Label::AnyBut(_)) => Some('x'),
    }
}

/// Decode `%XX` escapes; `None` if an escape is malformed (`%` not followed
/// by two hex digits) or the result is not UTF-8.
pub fn percent_decode(text: &str) -> Option<String> {
    if !text.contains('%') {
        return Some(text.to_owned());
    }
    let hex = |b: &u8| char::from(*b).to_digit(16);
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let high = hex(bytes.get(i + 1)?)?;
            let low = hex(bytes.get(i + 2)?)?;
            out.push(u8::try_from(high << 4 | low).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests;
