//! The bounds on what a plugin lists at load (names, titles, descriptions,
//! URIs, icons, tags, schemas and counts; the constants are the model's,
//! [`crate::model`]), checked. A plugin is untrusted; what it
//! lists is served to every client and printed by the CLI, so a listing
//! that breaks a bound is refused at load with the bound named.

use crate::bindings::corral::mcp::types as wit;
use crate::bindings::exports::corral::mcp::{prompts, resources, tasks, tools};

use crate::model::{
    MAX_DESCRIPTION_BYTES, MAX_ITEM_ENTRIES, MAX_LABEL_BYTES, MAX_LISTED_ITEMS,
    MAX_LISTED_URI_BYTES, MAX_LISTING_BYTES, MAX_NAME_BYTES, MAX_SCHEMA_BYTES,
};

/// What was listed, as the guest returned it.
#[derive(Default)]
pub(crate) struct RawListing {
    pub(crate) tools: Vec<tools::Tool>,
    pub(crate) resources: Vec<resources::ResourceInfo>,
    pub(crate) templates: Vec<resources::ResourceTemplate>,
    pub(crate) prompts: Vec<prompts::Prompt>,
    /// What the optional `tasks` export says (empty without it).
    pub(crate) tasks: Vec<tasks::ToolTaskSupport>,
}

/// Checks strings against the bounds and adds up their size.
struct Bounds {
    total: usize,
}

impl Bounds {
    fn text(&mut self, what: &str, text: &str, max: usize) -> Result<(), String> {
        self.total += text.len();
        if text.len() > max {
            return Err(format!(
                "{what} is {} bytes; at most {max} are allowed",
                text.len()
            ));
        }
        if let Some(c) = text
            .chars()
            .find(|c| c.is_control() && *c != '\n' && *c != '\t')
        {
            return Err(format!(
                "{what} contains the control character U+{:04X}",
                c as u32
            ));
        }
        Ok(())
    }

    fn optional(&mut self, what: &str, text: &Option<String>, max: usize) -> Result<(), String> {
        text.as_deref()
            .map_or(Ok(()), |text| self.text(what, text, max))
    }

    fn count(what: &str, n: usize, max: usize) -> Result<(), String> {
        if n > max {
            return Err(format!("{what}: {n} entries; at most {max} are allowed"));
        }
        Ok(())
    }

    fn tool_name(&mut self, name: &str) -> Result<(), String> {
        self.text("a tool name", name, MAX_NAME_BYTES)
            .map_err(|e| format!("tool `{}`: {e}", crate::units::printable(shorten(name))))?;
        if let Some(c) = name
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || "_.-".contains(*c)))
        {
            return Err(format!(
                "tool `{}`: the name contains {:?}; tool names use only A-Z, a-z, 0-9, `_`, `.` and `-`",
                crate::units::printable(name),
                c.escape_default().to_string()
            ));
        }
        Ok(())
    }

    fn common(
        &mut self,
        item: &str,
        title: &Option<String>,
        description: &Option<String>,
        tags: &[String],
        icons: &[wit::Icon],
    ) -> Result<(), String> {
        self.optional(&format!("{item}: the title"), title, MAX_LABEL_BYTES)?;
        self.optional(
            &format!("{item}: the description"),
            description,
            MAX_DESCRIPTION_BYTES,
        )?;
        Self::count(&format!("{item}: tags"), tags.len(), MAX_ITEM_ENTRIES)?;
        for tag in tags {
            self.text(&format!("{item}: a tag"), tag, MAX_LABEL_BYTES)?;
        }
        Self::count(&format!("{item}: icons"), icons.len(), MAX_ITEM_ENTRIES)?;
        for icon in icons {
            self.text(&format!("{item}: an icon"), &icon.src, MAX_LISTED_URI_BYTES)?;
            self.optional(
                &format!("{item}: an icon's MIME type"),
                &icon.mime_type,
                MAX_LABEL_BYTES,
            )?;
            Self::count(
                &format!("{item}: an icon's sizes"),
                icon.sizes.len(),
                MAX_ITEM_ENTRIES,
            )?;
            for size in &icon.sizes {
                self.text(&format!("{item}: an icon size"), size, MAX_LABEL_BYTES)?;
            }
        }
        Ok(())
    }
}

/// A name cut for an error message (the name itself may be the problem).
fn shorten(text: &str) -> &str {
    let mut end = text.len().min(64);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Whether `raw` stays within every bound; the error names the item and the
/// bound it breaks.
pub(crate) fn check(raw: &RawListing) -> Result<(), String> {
    let items = raw.tools.len() + raw.resources.len() + raw.templates.len() + raw.prompts.len();
    if items > MAX_LISTED_ITEMS {
        return Err(format!(
            "lists {items} tools, resources, templates and prompts; at most {MAX_LISTED_ITEMS} are allowed"
        ));
    }
    if raw.tasks.len() > raw.tools.len() {
        return Err(format!(
            "gives the task support of {} tools but lists {} tools",
            raw.tasks.len(),
            raw.tools.len()
        ));
    }
    let mut b = Bounds { total: 0 };
    for t in &raw.tools {
        b.tool_name(&t.name)?;
        let item = format!("tool `{}`", t.name);
        b.common(&item, &t.title, &t.description, &t.tags, &t.icons)?;
        b.text(
            &format!("{item}: the input schema"),
            &t.input_schema,
            MAX_SCHEMA_BYTES,
        )?;
        b.optional(
            &format!("{item}: the output schema"),
            &t.output_schema,
            MAX_SCHEMA_BYTES,
        )?;
    }
    for r in &raw.resources {
        b.text("a resource URI", &r.uri, MAX_LISTED_URI_BYTES)?;
        let item = format!("resource `{}`", r.uri);
        b.text(&format!("{item}: the name"), &r.name, MAX_LABEL_BYTES)?;
        b.optional(
            &format!("{item}: the MIME type"),
            &r.mime_type,
            MAX_LABEL_BYTES,
        )?;
        b.common(&item, &r.title, &r.description, &r.tags, &r.icons)?;
    }
    for t in &raw.templates {
        b.text("a resource template", &t.uri_template, MAX_LISTED_URI_BYTES)?;
        let item = format!("resource template `{}`", t.uri_template);
        b.text(&format!("{item}: the name"), &t.name, MAX_LABEL_BYTES)?;
        b.optional(
            &format!("{item}: the MIME type"),
            &t.mime_type,
            MAX_LABEL_BYTES,
        )?;
        b.common(&item, &t.title, &t.description, &t.tags, &t.icons)?;
    }
    for p in &raw.prompts {
        b.text("a prompt name", &p.name, MAX_NAME_BYTES)
            .map_err(|e| {
                format!(
                    "prompt `{}`: {e}",
                    crate::units::printable(shorten(&p.name))
                )
            })?;
        let item = format!("prompt `{}`", p.name);
        b.common(&item, &p.title, &p.description, &p.tags, &p.icons)?;
        Bounds::count(
            &format!("{item}: arguments"),
            p.arguments.len(),
            MAX_ITEM_ENTRIES,
        )?;
        for a in &p.arguments {
            b.text(
                &format!("{item}: an argument name"),
                &a.name,
                MAX_NAME_BYTES,
            )?;
            b.optional(
                &format!("{item}: argument `{}`", a.name),
                &a.description,
                MAX_DESCRIPTION_BYTES,
            )?;
        }
    }
    if b.total > MAX_LISTING_BYTES {
        return Err(format!(
            "the listing holds {} of text; at most {} are allowed",
            crate::units::human_size(b.total as u64),
            crate::units::human_size(MAX_LISTING_BYTES as u64)
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tool(name: &str) -> tools::Tool {
        tools::Tool {
            name: name.into(),
            title: None,
            description: None,
            input_schema: r#"{"type":"object"}"#.into(),
            output_schema: None,
            annotations: None,
            tags: Vec::new(),
            icons: Vec::new(),
        }
    }

    fn tools(list: Vec<tools::Tool>) -> RawListing {
        RawListing {
            tools: list,
            ..RawListing::default()
        }
    }

    #[test]
    fn each_bound_is_named_when_broken() {
        let mut described = tool("d");
        described.description = Some("x".repeat(MAX_DESCRIPTION_BYTES + 1));
        let mut schema = tool("s");
        schema.input_schema = format!(
            r#"{{"type":"object","description":"{}"}}"#,
            "x".repeat(MAX_SCHEMA_BYTES)
        );
        let mut tagged = tool("t");
        tagged.tags = vec!["a".into(); MAX_ITEM_ENTRIES + 1];
        let mut escaping = tool("e");
        escaping.description = Some("\u{1b}[2J".into());
        let cases: Vec<(RawListing, &str)> = vec![
            (
                tools(vec![tool(&"n".repeat(129))]),
                "at most 128 are allowed",
            ),
            (tools(vec![tool("rm -rf")]), "tool names use only"),
            (tools(vec![tool("a\u{1b}")]), "control character"),
            (
                tools(vec![described]),
                "the description is 65537 bytes; at most 65536",
            ),
            (tools(vec![schema]), "the input schema is"),
            (tools(vec![tagged]), "tags: 65 entries; at most 64"),
            (tools(vec![escaping]), "control character"),
            (
                tools(
                    (0..=MAX_LISTED_ITEMS)
                        .map(|i| tool(&format!("t{i}")))
                        .collect(),
                ),
                "lists 10001 tools, resources, templates and prompts; at most 10000",
            ),
        ];
        for (listing, expected) in cases {
            let error = check(&listing).unwrap_err();
            assert!(
                error.contains(expected),
                "{error:?} should contain {expected:?}"
            );
        }
    }

    #[test]
    fn ordinary_listings_pass() {
        let mut t = tool("get_weather.v2-beta");
        t.description = Some("Line one.\n\tIndented.".into());
        assert_eq!(check(&tools(vec![t])), Ok(()));
        let many = (0..MAX_LISTED_ITEMS)
            .map(|i| tool(&format!("tool_{i}")))
            .collect();
        assert_eq!(check(&tools(many)), Ok(()));
    }
}
