//! `cargo xtask tidy`: the rules of the code base that no compiler checks.
//!
//! - **Layering** (docs/ARCHITECTURE.md): what each part of `host/src` may
//!   name. `config/` is a leaf, the model and units know nothing else, the
//!   protocol knows no wasmtime and the runtime no MCP, and so on: see
//!   [`IMPORT_RULES`]. Only code counts: comments and the contents of string
//!   literals are ignored, and so are tests (an inline `#[cfg(test)] mod tests
//!   { … }` ends the scan of a file; a `#[cfg(test)] mod NAME;` file is
//!   skipped whole), since tests may reach across layers. A rule whose path
//!   does not exist is skipped.
//! - **File size**: every `.rs` file has fewer than [`MAX_LINES`] lines, so
//!   that no module grows into a second crate.
//! - **Limits are documented**: every `pub const` of the host and of
//!   `sdk/uri-template` is named in docs/SECURITY.md, unless it is listed in
//!   [`NOT_LIMITS`] with the reason it is not a limit. A new bound cannot
//!   ship without the operator being told about it.
//! - **Docs** (unless `--no-doc`): `cargo doc` of the host with warnings
//!   denied (missing docs, broken intra-doc links).
//!
//! Every problem is printed as `path:line: message`; tidy fails at the end if
//! there was any.

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::{cargo, root, run};

/// What the files of one scope may name: (scope, banned crates, `crate::`
/// paths). The scope is a file, or a directory with everything under it,
/// from the root. A banned crate matches every identifier it starts
/// (`wasmtime` also catches `wasmtime_wasi`).
struct ImportRule(&'static str, &'static [&'static str], CratePaths);

/// A rule on `crate::NAME` paths (only the first segment, NAME, counts). A
/// scope may always name itself (`crate::config` in `host/src/config`).
enum CratePaths {
    /// Only these (`Only(&[])`: no `crate::` path at all).
    Only(&'static [&'static str]),
    /// Anything but these.
    Not(&'static [&'static str]),
}

impl CratePaths {
    /// Why `crate::NAME` is refused, if it is.
    fn refusal(&self, name: &str) -> Option<String> {
        match *self {
            Only(names) if names.contains(&name) => None,
            Only([]) => Some("may name no crate:: path".to_owned()),
            Only(names) => Some(format!("may name only crate::{}", names.join(", crate::"))),
            Not(names) if names.contains(&name) => Some(format!("may not name crate::{name}")),
            Not(_) => None,
        }
    }
}

use CratePaths::{Not, Only};

/// The layering of docs/ARCHITECTURE.md.
#[rustfmt::skip]
const IMPORT_RULES: &[ImportRule] = &[
    ImportRule("host/src/config",      &["wasmtime", "rmcp"], Only(&["units", "model"])),
    ImportRule("host/src/distribution", &["wasmtime", "rmcp"], Only(&["config", "units", "error"])),
    ImportRule("host/src/auth",        &["wasmtime", "rmcp", "axum"], Only(&["config", "error"])),
    ImportRule("host/src/model.rs",    &["wasmtime", "rmcp"], Only(&[])),
    ImportRule("host/src/units.rs",    &["wasmtime", "rmcp"], Only(&[])),
    ImportRule("host/src/redis.rs",    &["wasmtime", "rmcp"], Only(&["config", "units"])),
    ImportRule("host/src/otlp.rs",     &["wasmtime", "rmcp"], Only(&[])),
    ImportRule("host/src/audit.rs",    &["wasmtime", "rmcp"], Only(&["config"])),
    ImportRule("host/src/error.rs",    &["rmcp"],             Only(&["units", "config"])),
    ImportRule("host/src/provider.rs", &["wasmtime", "rmcp"], Only(&["error", "model"])),
    ImportRule("host/src/protocol",    &["wasmtime"],         Not(&["runtime", "plugin", "catalog"])),
    ImportRule("host/src/runtime",     &["rmcp"],
               Not(&["protocol", "service", "transport", "catalog", "plugin", "loader"])),
    ImportRule("host/src/plugin",      &["rmcp"],
               Not(&["protocol", "service", "transport", "catalog", "loader"])),
    ImportRule("host/src/catalog.rs",  &["wasmtime", "rmcp"],
               Not(&["plugin", "runtime", "service", "transport"])),
    ImportRule("host/src/service",     &["wasmtime"],
               Not(&["plugin", "runtime", "loader", "transport"])),
    ImportRule("host/src/transport",   &["wasmtime"],         Not(&["plugin", "runtime", "loader"])),
    ImportRule("host/src/upstream",    &["wasmtime", "rmcp"],
               Not(&["plugin", "runtime", "service", "transport", "catalog", "loader", "protocol"])),
    ImportRule("host/src/client",      &["wasmtime"],
               Not(&["plugin", "runtime", "service", "transport", "catalog", "loader", "upstream", "openapi"])),
    ImportRule("host/src/openapi",     &["wasmtime", "rmcp"],
               Only(&["config", "error", "gate", "model", "provider", "units"])),
];

/// Every `.rs` file has fewer lines than this.
const MAX_LINES: usize = 1000;
/// Where the file size rule applies.
const SIZE_ROOTS: &[&str] = &["host", "sdk", "xtask", "tests", "plugins"];
/// Directories never scanned: build output and generated code.
const SKIPPED_DIRS: &[&str] = &["target", "dist", "generated", "node_modules"];

/// Where the `pub const`s that docs/SECURITY.md must name live.
const LIMIT_SOURCES: &[&str] = &["host/src", "sdk/uri-template/src"];
/// The document that names every limit.
const LIMITS_DOC: &str = "docs/SECURITY.md";
/// Public constants that are not limits, each with the reason.
const NOT_LIMITS: &[(&str, &str)] = &[
    ("CONFIG_FILE_NAME", "a file name"),
    ("CALL_SPAN_TARGET", "the tracing target of call spans"),
    ("MASKED_ERROR", "the text of a masked error"),
    ("PARALLEL_LOADS", "the host's own startup parallelism"),
    ("JSON_ANSWER_WAIT", "picks JSON or SSE; bounds nothing"),
    ("RELOAD_DEBOUNCE", "`dev`'s file-watch debounce"),
    ("PROGRESS_MIN_BYTES", "when a compile shows progress"),
    ("KEEP_RESIDENT", "a pool tuning value, not a bound"),
    ("DEPTH_VARIABLE", "the name of an environment variable"),
    ("PASSWORD_ENV", "the name of an environment variable"),
    ("GRANTS_FILE", "a file name"),
    ("LOCK_FILE_NAME", "a file name"),
    ("DEFAULT_TAG", "the tag an untagged reference names"),
];

/// One broken rule.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Violation {
    /// The file, from the root.
    path: PathBuf,
    line: usize,
    message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.path.display(), self.line, self.message)
    }
}

/// `cargo xtask tidy`: every check on the workspace, then (with `doc`) the
/// docs.
pub fn tidy(doc: bool) -> Result<()> {
    let violations = check(&root())?;
    for violation in &violations {
        eprintln!("{violation}");
    }
    let docs = if doc {
        run(cargo()
            .args(["doc", "--locked", "--release", "--no-deps", "-p", "corral"])
            .env("RUSTDOCFLAGS", "-D warnings"))
    } else {
        Ok(())
    };
    if !violations.is_empty() {
        bail!("tidy: {} problems (listed above)", violations.len());
    }
    docs?;
    eprintln!(
        "tidy: {} import rules, file sizes and documented limits hold",
        IMPORT_RULES.len()
    );
    Ok(())
}

/// The source checks (all but the docs) on the tree at `root`, sorted.
pub fn check(root: &Path) -> Result<Vec<Violation>> {
    let test_only = test_only_paths(root)?;
    let mut violations = Vec::new();
    check_imports(root, &test_only, &mut violations)?;
    check_file_sizes(root, &mut violations)?;
    check_limits_documented(root, &test_only, &mut violations)?;
    violations.sort();
    Ok(violations)
}

fn check_imports(root: &Path, test_only: &[PathBuf], out: &mut Vec<Violation>) -> Result<()> {
    for ImportRule(scope, banned_crates, crate_paths) in IMPORT_RULES {
        let path = root.join(scope);
        let files = if path.is_file() {
            vec![path]
        } else {
            rust_files(&path)?
        };
        for file in files {
            if test_only.iter().any(|t| file.starts_with(t)) {
                continue;
            }
            let code = non_test_code(&read(&file)?);
            let mut found = BTreeSet::new();
            for (line, ident) in identifiers(&code) {
                if let Some(c) = banned_crates.iter().find(|c| ident.starts_with(**c)) {
                    found.insert((line, format!("`{ident}`: {scope} may not use {c}")));
                }
            }
            for (line, name) in crate_paths_in(&code) {
                // A module may always name itself (`crate::config` in config/).
                if Path::new(scope)
                    .file_stem()
                    .is_some_and(|own| *own == *name)
                {
                    continue;
                }
                if let Some(why) = crate_paths.refusal(&name) {
                    found.insert((line, format!("`crate::{name}`: {scope} {why}")));
                }
            }
            out.extend(
                found
                    .into_iter()
                    .map(|(line, m)| violation(root, &file, line, m)),
            );
        }
    }
    Ok(())
}

fn check_file_sizes(root: &Path, out: &mut Vec<Violation>) -> Result<()> {
    for dir in SIZE_ROOTS {
        for file in rust_files(&root.join(dir))? {
            let lines = read(&file)?.lines().count();
            if lines >= MAX_LINES {
                let message = format!("{lines} lines; files stay under {MAX_LINES} (split it)");
                out.push(violation(root, &file, MAX_LINES, message));
            }
        }
    }
    Ok(())
}

fn check_limits_documented(
    root: &Path,
    test_only: &[PathBuf],
    out: &mut Vec<Violation>,
) -> Result<()> {
    // A missing document names nothing: every constant is then reported.
    let doc = std::fs::read_to_string(root.join(LIMITS_DOC)).unwrap_or_default();
    let named: BTreeSet<String> = identifiers(&doc).map(|(_, ident)| ident).collect();
    for dir in LIMIT_SOURCES {
        for file in rust_files(&root.join(dir))? {
            if test_only.iter().any(|t| file.starts_with(t)) {
                continue;
            }
            for (index, line) in non_test_code(&read(&file)?).lines().enumerate() {
                let Some(rest) = line.trim_start().strip_prefix("pub const ") else {
                    continue;
                };
                let name: String = rest.chars().take_while(|c| is_ident(*c)).collect();
                if named.contains(&name) || NOT_LIMITS.iter().any(|(n, _)| *n == name) {
                    continue;
                }
                let message = format!(
                    "`{name}` is not named in {LIMITS_DOC} (document it, or add it to \
                     NOT_LIMITS in xtask/src/tidy.rs if it is not a limit)"
                );
                out.push(violation(root, &file, index + 1, message));
            }
        }
    }
    Ok(())
}

fn violation(root: &Path, file: &Path, line: usize, message: String) -> Violation {
    let path = file.strip_prefix(root).unwrap_or(file).to_owned();
    Violation {
        path,
        line,
        message,
    }
}

fn read(file: &Path) -> Result<String> {
    std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))
}

/// The `.rs` files under `dir` (none if it does not exist), sorted.
fn rust_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    if !dir.is_dir() {
        return Ok(files);
    }
    for entry in std::fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let path = entry?.path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if path.is_dir() && !name.starts_with('.') && !SKIPPED_DIRS.contains(&name.as_ref()) {
            files.extend(rust_files(&path)?);
        } else if path.is_file() && name.ends_with(".rs") {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// The files and directories of the modules declared `#[cfg(test)] mod
/// NAME;` in the host and the SDK.
fn test_only_paths(root: &Path) -> Result<Vec<PathBuf>> {
    let mut paths = Vec::new();
    for file in rust_files(&root.join("host/src"))?
        .into_iter()
        .chain(rust_files(&root.join("sdk"))?)
    {
        let code = code_only(&read(&file)?);
        let lines: Vec<&str> = code.lines().collect();
        for i in 0..lines.len() {
            let declared = after_cfg_test(&lines, i).and_then(|l| l.strip_prefix("mod "));
            let Some(name) = declared.and_then(|l| l.strip_suffix(';')) else {
                continue;
            };
            let module_dir = match file.file_stem().and_then(|s| s.to_str()) {
                Some("mod" | "lib" | "main") => file.parent().unwrap_or(root).to_owned(),
                _ => file.with_extension(""),
            };
            paths.push(module_dir.join(format!("{}.rs", name.trim())));
            paths.push(module_dir.join(name.trim()));
        }
    }
    Ok(paths)
}

/// When `lines[i]` is exactly `#[cfg(test)]`: the next non-blank line, trimmed.
fn after_cfg_test<'a>(lines: &[&'a str], i: usize) -> Option<&'a str> {
    if lines[i].trim_end() != "#[cfg(test)]" {
        return None;
    }
    lines[i + 1..]
        .iter()
        .map(|l| l.trim())
        .find(|l| !l.is_empty())
}

/// The code of a file ([`code_only`]) up to its `#[cfg(test)] mod tests {`.
fn non_test_code(text: &str) -> String {
    let code = code_only(text);
    let lines: Vec<&str> = code.lines().collect();
    let is_tail = |i: usize| {
        after_cfg_test(&lines, i).is_some_and(|l| l.starts_with("mod tests") && !l.ends_with(';'))
    };
    let end = (0..lines.len())
        .find(|&i| is_tail(i))
        .unwrap_or(lines.len());
    lines[..end].join("\n")
}

/// `text` with comments and the contents of string and char literals
/// blanked out; newlines stay, so line numbers do not change.
fn code_only(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let at = |i: usize| chars.get(i).copied().unwrap_or('\0');
    let find = |from: usize, what: &dyn Fn(usize) -> bool| (from..chars.len()).find(|&j| what(j));
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let (c, before) = (chars[i], at(i.wrapping_sub(1)));
        let hashes = (i + 1..chars.len())
            .take_while(|&j| chars[j] == '#')
            .count();
        // Where the comment or literal starting here ends (exclusive).
        let end = if c == '/' && at(i + 1) == '/' {
            find(i, &|j| chars[j] == '\n').unwrap_or(chars.len())
        } else if c == '/' && at(i + 1) == '*' {
            let (mut depth, mut j) = (0, i);
            while j < chars.len() {
                match (chars[j], at(j + 1)) {
                    ('/', '*') => (depth, j) = (depth + 1, j + 2),
                    ('*', '/') => (depth, j) = (depth - 1, j + 2),
                    _ => j += 1,
                }
                if depth == 0 {
                    break;
                }
            }
            j
        } else if c == '"' {
            let mut j = i + 1;
            while j < chars.len() && chars[j] != '"' {
                j += if chars[j] == '\\' { 2 } else { 1 };
            }
            j + 1
        } else if c == 'r' && (!is_ident(before) || before == 'b') && at(i + 1 + hashes) == '"' {
            // A raw string: `r"…"`, `r#"…"#`, `br"…"`.
            let closes = |j: usize| chars[j] == '"' && (1..=hashes).all(|k| at(j + k) == '#');
            find(i + 2 + hashes, &closes).map_or(chars.len(), |j| j + 1 + hashes)
        } else if c == '\'' && (at(i + 1) == '\\' || at(i + 2) == '\'') {
            // A char literal (a lone `'` starts a lifetime or a label).
            let body = if at(i + 1) == '\\' { i + 3 } else { i + 2 };
            find(body, &|j| chars[j] == '\'').map_or(chars.len(), |j| j + 1)
        } else {
            out.push(c);
            i += 1;
            continue;
        };
        let end = end.min(chars.len());
        for &c in &chars[i..end] {
            out.push(if c == '\n' { '\n' } else { ' ' });
        }
        i = end;
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Every identifier in `code`, with its line.
fn identifiers(code: &str) -> impl Iterator<Item = (usize, String)> + '_ {
    let (mut line, mut current) = (1, String::new());
    code.chars().chain(['\n']).filter_map(move |c| {
        if is_ident(c) {
            current.push(c);
            return None;
        }
        let word = std::mem::take(&mut current);
        let found = (!word.is_empty() && !word.starts_with(|d: char| d.is_ascii_digit()))
            .then_some((line, word));
        line += usize::from(c == '\n');
        found
    })
}

/// The NAME of every `crate::NAME` in `code`, with its line; for a group
/// `crate::{a, b::{c, d}}`, `a` and `b`; `*` for `crate::*`.
fn crate_paths_in(code: &str) -> Vec<(usize, String)> {
    let bytes = code.as_bytes();
    let line_at = |pos: usize| bytes[..pos].iter().filter(|&&b| b == b'\n').count() + 1;
    let ident_at = |pos: usize| {
        let len = code[pos..]
            .find(|c: char| !is_ident(c))
            .unwrap_or(code.len() - pos);
        code[pos..pos + len].to_owned()
    };
    let mut found = Vec::new();
    for (start, _) in code.match_indices("crate::") {
        if start > 0 && is_ident(char::from(bytes[start - 1])) {
            continue;
        }
        let mut pos = start + "crate::".len();
        while bytes.get(pos).is_some_and(u8::is_ascii_whitespace) {
            pos += 1;
        }
        if bytes.get(pos) != Some(&b'{') {
            let name = Some(ident_at(pos)).filter(|n| !n.is_empty());
            found.push((line_at(pos), name.unwrap_or_else(|| "*".to_owned())));
            continue;
        }
        let (mut depth, mut expecting_name) = (0, true);
        while let Some(&b) = bytes.get(pos) {
            match b {
                b'{' => depth += 1,
                b'}' if depth == 1 => break,
                b'}' => depth -= 1,
                b',' if depth == 1 => expecting_name = true,
                _ if depth == 1 && expecting_name && is_ident(char::from(b)) => {
                    found.push((line_at(pos), ident_at(pos)));
                    expecting_name = false;
                }
                _ => {}
            }
            pos += 1;
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What tidy finds in a tree written to a fresh temporary directory:
    /// `files` holds each file as a `=== PATH` line and then its lines.
    fn problems(files: &str) -> Vec<String> {
        static TREES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let tree = TREES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let root = std::env::temp_dir().join(format!("tidy-{}-{tree}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        for file in files.split("=== ").skip(1) {
            let (path, text) = file.split_once('\n').unwrap();
            let path = root.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let found = check(&root).map(|v| v.iter().map(ToString::to_string).collect());
        std::fs::remove_dir_all(&root).unwrap();
        found.unwrap()
    }

    /// Each problem up to the end of the `name` it is about.
    fn heads(problems: &[String]) -> Vec<&str> {
        let head = |p: &String| p.match_indices('`').nth(1).map_or(p.len(), |(i, _)| i + 1);
        problems.iter().map(|p| &p[..head(p)]).collect()
    }

    #[test]
    fn config_naming_another_layer_is_reported_with_file_and_line() {
        let tree = "=== host/src/config/mod.rs
//! Config.

use crate::http::HttpOptions;
";
        let found = problems(tree);
        let expected = "host/src/config/mod.rs:3: `crate::http`: \
                        host/src/config may name only crate::units, crate::model";
        assert_eq!(found, [expected]);
    }

    #[test]
    fn clean_files_pass() {
        let tree = "=== host/src/config/mod.rs
use crate::units::parse_size;
use crate::{model::Icon, units};
pub(in crate::config) use crate::config::raw::Raw;
=== host/src/model.rs
//! Knows nothing of wasmtime or rmcp.
pub struct Tool;
=== host/src/protocol.rs
use rmcp::model::Tool;
=== host/src/runtime/limits.rs
pub const MAX_WIDGETS: usize = 3;
pub const CONFIG_FILE_NAME: &str = \"not a limit\";
=== docs/SECURITY.md
| widgets | 3 (`MAX_WIDGETS`) |
";
        let found = problems(tree);
        assert_eq!(found, Vec::<String>::new());
    }

    #[test]
    fn comments_strings_and_test_tails_are_not_code() {
        let tree = r##"=== host/src/config/mod.rs
//! Unlike [`crate::http`], this is a leaf.
/// See crate::http.
/* crate::runtime /* nested */ crate::runtime */
const S: &str = "crate::http and \" wasmtime";
const R: &str = r#"a "crate::http" b"#;
fn f<'a>(c: char, s: &'a str) -> bool { c == '"' || c == '\'' || s == "\\" }
#[cfg(test)]
mod tests {
    use crate::http::HttpOptions;
}
"##;
        let found = problems(tree);
        assert_eq!(found, Vec::<String>::new());
    }

    #[test]
    fn grouped_crate_imports_are_caught() {
        let tree = "=== host/src/config/resolve.rs
use crate::{units, http};
use crate::{
    model::{Icon, Tool},
    runtime::{self, Limits},
};
";
        let found = problems(tree);
        let expected = [
            "host/src/config/resolve.rs:1: `crate::http`",
            "host/src/config/resolve.rs:4: `crate::runtime`",
        ];
        assert_eq!(heads(&found), expected);
    }

    #[test]
    fn banned_crates_match_every_identifier_they_start() {
        let tree = "=== host/src/units.rs
use wasmtime_wasi::p2::WasiView;
fn f() -> rmcp::Error { todo!() }
=== host/src/runtime/mod.rs
use crate::protocol::x;
use crate::plugin;
";
        let found = problems(tree);
        let expected = [
            "host/src/runtime/mod.rs:1: `crate::protocol`",
            "host/src/runtime/mod.rs:2: `crate::plugin`",
            "host/src/units.rs:1: `wasmtime_wasi`",
            "host/src/units.rs:2: `rmcp`",
        ];
        assert_eq!(heads(&found), expected);
    }

    #[test]
    fn test_only_module_files_are_exempt() {
        let tree = "=== host/src/config/mod.rs
#[cfg(test)]
mod tests;

use crate::http;
=== host/src/config/tests.rs
use crate::runtime::Limits;
";
        let found = problems(tree);
        assert_eq!(heads(&found), ["host/src/config/mod.rs:4: `crate::http`"]);
    }

    #[test]
    fn a_file_of_1000_lines_is_reported() {
        let lines = |n| "fn f() {}\n".repeat(n);
        let files = format!(
            "=== tests/plugins/big/src/lib.rs\n{}=== xtask/src/fine.rs\n{}=== plugins/dist/gen.rs\n{}",
            lines(1000),
            lines(999),
            lines(2000)
        );
        let found = problems(&files);
        let expected =
            "tests/plugins/big/src/lib.rs:1000: 1000 lines; files stay under 1000 (split it)";
        assert_eq!(found, [expected]);
    }

    #[test]
    fn an_undocumented_limit_is_reported() {
        let tree = "=== host/src/plugin/metadata.rs
/// Most widgets per call.
pub const MAX_WIDGETS: usize = 3;
=== docs/SECURITY.md
Widgets are bounded (`MAX_WIDGETS_PER_CALL`).
";
        let found = problems(tree);
        assert_eq!(
            heads(&found),
            ["host/src/plugin/metadata.rs:2: `MAX_WIDGETS`"]
        );
    }
}
