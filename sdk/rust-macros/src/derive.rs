//! `#[derive(Schema)]`.

use proc_macro2::TokenStream;
use quote::quote;
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{Attribute, Data, DeriveInput, Fields, LitStr, Token};

use crate::docs;
use crate::func::opt_str;

/// What we read from `#[serde(...)]`.
#[derive(Default)]
struct Serde {
    rename: Option<String>,
    rename_all: Option<String>,
    default: bool,
    skip: bool,
    deny_unknown_fields: bool,
    flatten: bool,
    transparent: bool,
}

fn serde_attrs(attrs: &[Attribute]) -> syn::Result<Serde> {
    let mut s = Serde::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        attr.parse_nested_meta(|meta| {
            let key = meta
                .path
                .get_ident()
                .map(ToString::to_string)
                .unwrap_or_default();
            match key.as_str() {
                "rename" if meta.input.peek(Token![=]) => {
                    s.rename = Some(meta.value()?.parse::<LitStr>()?.value());
                }
                "rename_all" if meta.input.peek(Token![=]) => {
                    s.rename_all = Some(meta.value()?.parse::<LitStr>()?.value());
                }
                "default" => s.default = true,
                "skip" | "skip_deserializing" => s.skip = true,
                "deny_unknown_fields" => s.deny_unknown_fields = true,
                "flatten" => s.flatten = true,
                "transparent" => s.transparent = true,
                _ => {}
            }
            // Skip whatever value the option has.
            if meta.input.peek(Token![=]) {
                meta.value()?.parse::<syn::Expr>()?;
            } else if meta.input.peek(syn::token::Paren) {
                let _content;
                syn::parenthesized!(_content in meta.input);
            }
            Ok(())
        })?;
    }
    Ok(s)
}

fn words_of_snake(name: &str) -> Vec<String> {
    name.split('_')
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

fn words_of_pascal(name: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    for c in name.chars() {
        if c.is_uppercase() || words.is_empty() {
            words.push(String::new());
        }
        words.last_mut().expect("pushed").push(c);
    }
    words
}

fn capitalize(w: &str) -> String {
    let mut cs = w.chars();
    match cs.next() {
        Some(c) => c
            .to_uppercase()
            .chain(cs.flat_map(char::to_lowercase))
            .collect(),
        None => String::new(),
    }
}

/// Applies serde's `rename_all` rule to a field (snake_case) or variant
/// (PascalCase) name.
pub fn rename(name: &str, rule: &str, is_variant: bool) -> Result<String, String> {
    let words = if is_variant {
        words_of_pascal(name)
    } else {
        words_of_snake(name)
    };
    let lower = || words.iter().map(|w| w.to_lowercase()).collect::<Vec<_>>();
    let upper = || words.iter().map(|w| w.to_uppercase()).collect::<Vec<_>>();
    Ok(match rule {
        "lowercase" if is_variant => name.to_lowercase(),
        "lowercase" => name.to_owned(),
        "UPPERCASE" => name.to_uppercase(),
        "PascalCase" => words.iter().map(|w| capitalize(w)).collect(),
        "camelCase" => {
            let pascal: String = words.iter().map(|w| capitalize(w)).collect();
            let mut cs = pascal.chars();
            match cs.next() {
                Some(c) => c.to_lowercase().chain(cs).collect(),
                None => String::new(),
            }
        }
        "snake_case" => lower().join("_"),
        "SCREAMING_SNAKE_CASE" => upper().join("_"),
        "kebab-case" => lower().join("-"),
        "SCREAMING-KEBAB-CASE" => upper().join("-"),
        other => return Err(format!("unknown rename_all rule `{other}`")),
    })
}

fn bound_generics(input: &DeriveInput) -> syn::Generics {
    let mut generics = input.generics.clone();
    for param in generics.type_params_mut() {
        param.bounds.push(syn::parse_quote!(::corral_sdk::Schema));
    }
    generics
}

pub fn expand(input: DeriveInput) -> syn::Result<TokenStream> {
    let container = serde_attrs(&input.attrs)?;
    let description = docs::doc_string(&input.attrs);
    let body = match &input.data {
        Data::Struct(data) => match &data.fields {
            Fields::Named(fields) if !container.transparent => {
                let mut props = Vec::new();
                for field in &fields.named {
                    let attrs = serde_attrs(&field.attrs)?;
                    if attrs.skip {
                        continue;
                    }
                    if attrs.flatten {
                        return Err(syn::Error::new(
                            field.span(),
                            "`#[serde(flatten)]` is not supported by `#[derive(Schema)]`",
                        ));
                    }
                    let ident = field
                        .ident
                        .as_ref()
                        .expect("named field")
                        .unraw()
                        .to_string();
                    let name = match (&attrs.rename, &container.rename_all) {
                        (Some(r), _) => r.clone(),
                        (None, Some(rule)) => rename(&ident, rule, false)
                            .map_err(|e| syn::Error::new(input.span(), e))?,
                        (None, None) => ident,
                    };
                    let ty = &field.ty;
                    let desc = opt_str(docs::doc_string(&field.attrs).as_deref());
                    if attrs.default || container.default {
                        props.push(quote!(.optional_property::<#ty>(#name, #desc)));
                    } else {
                        props.push(quote!(.property::<#ty>(#name, #desc)));
                    }
                }
                let closed = container.deny_unknown_fields;
                let set_description = description.as_deref().map(|d| quote!(.description(#d)));
                quote! {
                    ::corral_sdk::__private::ObjectSchema::new(#closed)
                        #set_description
                        #(#props)*
                        .build()
                }
            }
            Fields::Named(fields) if fields.named.len() == 1 => {
                let ty = &fields.named[0].ty;
                quote!(<#ty as ::corral_sdk::Schema>::schema())
            }
            Fields::Unnamed(fields) if fields.unnamed.len() == 1 => {
                let ty = &fields.unnamed[0].ty;
                quote!(<#ty as ::corral_sdk::Schema>::schema())
            }
            _ => {
                return Err(syn::Error::new(
                    input.span(),
                    "`#[derive(Schema)]` supports structs with named fields, newtype structs and unit-only enums",
                ));
            }
        },
        Data::Enum(data) => {
            let mut names = Vec::new();
            for variant in &data.variants {
                if !matches!(variant.fields, Fields::Unit) {
                    return Err(syn::Error::new(
                        variant.span(),
                        "`#[derive(Schema)]` supports only enums whose variants carry no data",
                    ));
                }
                let attrs = serde_attrs(&variant.attrs)?;
                if attrs.skip {
                    continue;
                }
                let ident = variant.ident.unraw().to_string();
                names.push(match (&attrs.rename, &container.rename_all) {
                    (Some(r), _) => r.clone(),
                    (None, Some(rule)) => {
                        rename(&ident, rule, true).map_err(|e| syn::Error::new(input.span(), e))?
                    }
                    (None, None) => ident,
                });
            }
            let description = match &description {
                Some(d) => quote!(__corral_schema.insert("description".into(), #d.into());),
                None => quote!(),
            };
            quote! {{
                let mut __corral_schema = ::corral_sdk::__private::serde_json::Map::new();
                __corral_schema.insert("type".into(), "string".into());
                #description
                __corral_schema.insert(
                    "enum".into(),
                    ::corral_sdk::__private::serde_json::json!([#(#names),*]),
                );
                ::corral_sdk::__private::serde_json::Value::Object(__corral_schema)
            }}
        }
        Data::Union(_) => {
            return Err(syn::Error::new(
                input.span(),
                "`#[derive(Schema)]` does not support unions",
            ));
        }
    };
    let ident = &input.ident;
    let generics = bound_generics(&input);
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    Ok(quote! {
        #[allow(clippy::all, clippy::pedantic)]
        impl #impl_generics ::corral_sdk::Schema for #ident #ty_generics #where_clause {
            fn schema() -> ::corral_sdk::__private::serde_json::Value {
                #body
            }
        }

        impl #impl_generics ::corral_sdk::StructuredOutput for #ident #ty_generics #where_clause {}
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rename_rules() {
        let f = |n, r| rename(n, r, false).unwrap();
        assert_eq!(f("user_id", "camelCase"), "userId");
        assert_eq!(f("user_id", "PascalCase"), "UserId");
        assert_eq!(f("user_id", "kebab-case"), "user-id");
        assert_eq!(f("user_id", "SCREAMING_SNAKE_CASE"), "USER_ID");
        assert_eq!(f("user_id", "lowercase"), "user_id");
        let v = |n, r| rename(n, r, true).unwrap();
        assert_eq!(v("DarkMode", "snake_case"), "dark_mode");
        assert_eq!(v("DarkMode", "camelCase"), "darkMode");
        assert_eq!(v("DarkMode", "kebab-case"), "dark-mode");
        assert_eq!(v("DarkMode", "lowercase"), "darkmode");
        assert_eq!(v("DarkMode", "SCREAMING-KEBAB-CASE"), "DARK-MODE");
        assert!(rename("a", "Weird", false).is_err());
    }

    #[test]
    fn struct_expansion_mentions_fields() {
        let input: DeriveInput = syn::parse_quote! {
            /// A point.
            #[serde(rename_all = "camelCase")]
            struct Point {
                /// Horizontal.
                x_pos: f64,
                #[serde(default)]
                label: String,
                #[serde(skip)]
                cache: u8,
            }
        };
        let out = expand(input).unwrap().to_string();
        assert!(out.contains("\"xPos\""));
        assert!(out.contains("\"Horizontal.\""));
        assert!(out.contains("optional_property"));
        assert!(!out.contains("cache"));
        assert!(out.contains("\"A point.\""));
    }

    #[test]
    fn rejects_unsupported() {
        let err = |i: DeriveInput| expand(i).err().unwrap().to_string();
        assert!(
            err(syn::parse_quote!(
                enum E {
                    A(u8),
                }
            ))
            .contains("carry no data")
        );
        assert!(
            err(syn::parse_quote!(
                struct T(u8, u8);
            ))
            .contains("named fields")
        );
        assert!(
            err(syn::parse_quote!(
                struct S {
                    #[serde(flatten)]
                    x: Inner,
                }
            ))
            .contains("flatten")
        );
    }
}
