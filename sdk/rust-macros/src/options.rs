//! The options inside `#[tool(...)]`, `#[resource(...)]` and `#[prompt(...)]`.

use proc_macro2::TokenStream;
use syn::parse::{Parse, ParseStream, Parser};
use syn::{LitBool, LitStr, Token, bracketed, punctuated::Punctuated};

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Tool,
    Resource,
    Prompt,
}

impl Kind {
    fn allows(self, key: &str) -> bool {
        match key {
            "name" | "title" | "description" | "tags" => true,
            "annotations" | "input_schema" | "task" => self == Kind::Tool,
            "mime_type" => self == Kind::Resource,
            _ => false,
        }
    }

    fn keys(self) -> &'static str {
        match self {
            Kind::Tool => {
                "`name`, `title`, `description`, `tags`, `annotations(...)`, `input_schema`, `task`"
            }
            Kind::Resource => "`name`, `title`, `description`, `mime_type`, `tags`",
            Kind::Prompt => "`name`, `title`, `description`, `tags`",
        }
    }
}

#[derive(Default, Debug, PartialEq)]
pub struct Annotations {
    pub read_only: Option<bool>,
    pub destructive: Option<bool>,
    pub idempotent: Option<bool>,
    pub open_world: Option<bool>,
}

#[derive(Default)]
pub struct Options {
    pub uri: Option<LitStr>,
    pub name: Option<LitStr>,
    pub title: Option<LitStr>,
    pub description: Option<LitStr>,
    pub mime_type: Option<LitStr>,
    pub tags: Vec<LitStr>,
    pub annotations: Option<Annotations>,
    /// An expression giving the input schema, replacing the generated one.
    pub input_schema: Option<syn::Expr>,
    /// Whether the tool may run as an MCP task: `forbidden` (the default),
    /// `optional` or `required`.
    pub task: Option<LitStr>,
}

struct Tags(Vec<LitStr>);

impl Parse for Tags {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let content;
        bracketed!(content in input);
        let tags = Punctuated::<LitStr, Token![,]>::parse_terminated(&content)?;
        Ok(Tags(tags.into_iter().collect()))
    }
}

impl Options {
    pub fn parse(kind: Kind, tokens: TokenStream) -> syn::Result<Self> {
        let mut options = Options::default();
        let parser = |input: ParseStream| -> syn::Result<()> {
            if input.peek(LitStr) {
                let uri: LitStr = input.parse()?;
                if kind != Kind::Resource {
                    return Err(syn::Error::new(uri.span(), "unexpected string"));
                }
                options.uri = Some(uri);
                if !input.is_empty() {
                    input.parse::<Token![,]>()?;
                }
            }
            let rest: TokenStream = input.parse()?;
            let meta_parser = syn::meta::parser(|meta| {
                let key = meta
                    .path
                    .get_ident()
                    .map(ToString::to_string)
                    .unwrap_or_default();
                if !kind.allows(&key) {
                    return Err(meta.error(format!("unknown option; expected {}", kind.keys())));
                }
                match key.as_str() {
                    "name" => options.name = Some(meta.value()?.parse()?),
                    "title" => options.title = Some(meta.value()?.parse()?),
                    "description" => options.description = Some(meta.value()?.parse()?),
                    "mime_type" => options.mime_type = Some(meta.value()?.parse()?),
                    "tags" => options.tags = meta.value()?.parse::<Tags>()?.0,
                    "input_schema" => options.input_schema = Some(meta.value()?.parse()?),
                    "task" => {
                        let value: LitStr = meta.value()?.parse()?;
                        if !["forbidden", "optional", "required"].contains(&value.value().as_str())
                        {
                            return Err(syn::Error::new(
                                value.span(),
                                "expected \"forbidden\", \"optional\" or \"required\"",
                            ));
                        }
                        options.task = Some(value);
                    }
                    "annotations" => {
                        let mut a = Annotations::default();
                        meta.parse_nested_meta(|m| {
                            let value = if m.input.peek(Token![=]) {
                                m.value()?.parse::<LitBool>()?.value
                            } else {
                                true
                            };
                            let slot = if m.path.is_ident("read_only") {
                                &mut a.read_only
                            } else if m.path.is_ident("destructive") {
                                &mut a.destructive
                            } else if m.path.is_ident("idempotent") {
                                &mut a.idempotent
                            } else if m.path.is_ident("open_world") {
                                &mut a.open_world
                            } else {
                                return Err(m.error(
                                    "unknown annotation; expected `read_only`, `destructive`, `idempotent` or `open_world`",
                                ));
                            };
                            *slot = Some(value);
                            Ok(())
                        })?;
                        options.annotations = Some(a);
                    }
                    _ => unreachable!(),
                }
                Ok(())
            });
            meta_parser.parse2(rest)
        };
        parser.parse2(tokens)?;
        Ok(options)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    #[test]
    fn tool_options() {
        let o = Options::parse(
            Kind::Tool,
            quote!(
                name = "div",
                tags = ["math", "x"],
                annotations(read_only = true, idempotent, destructive = false)
            ),
        )
        .unwrap();
        assert_eq!(o.name.unwrap().value(), "div");
        assert_eq!(o.tags.len(), 2);
        assert_eq!(
            o.annotations.unwrap(),
            Annotations {
                read_only: Some(true),
                destructive: Some(false),
                idempotent: Some(true),
                open_world: None
            }
        );
        assert!(Options::parse(Kind::Tool, quote!()).unwrap().name.is_none());
        let o = Options::parse(
            Kind::Tool,
            quote!(input_schema = json!({"type": "object"}), name = "x"),
        )
        .unwrap();
        assert!(o.input_schema.is_some());
        assert_eq!(o.name.unwrap().value(), "x");
    }

    #[test]
    fn resource_options() {
        let o = Options::parse(
            Kind::Resource,
            quote!("data://config", mime_type = "application/json"),
        )
        .unwrap();
        assert_eq!(o.uri.unwrap().value(), "data://config");
        assert_eq!(o.mime_type.unwrap().value(), "application/json");
        let o = Options::parse(Kind::Resource, quote!("a://b")).unwrap();
        assert_eq!(o.uri.unwrap().value(), "a://b");
    }

    #[test]
    fn rejects_unknown() {
        let err = |kind, t| Options::parse(kind, t).err().unwrap().to_string();
        assert!(err(Kind::Prompt, quote!(mime_type = "x")).starts_with("unknown option"));
        assert!(err(Kind::Tool, quote!("uri")).starts_with("unexpected string"));
        assert!(err(Kind::Tool, quote!(annotations(fast))).starts_with("unknown annotation"));
        assert!(err(Kind::Prompt, quote!(input_schema = x())).starts_with("unknown option"));
        assert!(err(Kind::Tool, quote!(task = "always")).starts_with("expected \"forbidden\""));
        assert!(err(Kind::Prompt, quote!(task = "optional")).starts_with("unknown option"));
        let o = Options::parse(Kind::Tool, quote!(task = "required")).unwrap();
        assert_eq!(o.task.unwrap().value(), "required");
    }
}
