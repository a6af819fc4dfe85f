//! Reading a marked function: its parameters, defaults and return type.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::ext::IdentExt;
use syn::{Expr, FnArg, ItemFn, Pat, ReturnType, Type, spanned::Spanned};

use crate::docs::{self, Docs};

pub struct Param {
    /// The name clients use.
    pub name: String,
    pub ty: Type,
    pub default: Option<Expr>,
    /// The span of the parameter, for errors.
    pub span: proc_macro2::Span,
    /// A `&Call` parameter: the call's context, not an argument.
    pub context: bool,
}

/// Whether `ty` is `&Call` (or `&path::to::Call`): the call's context.
fn is_context_type(ty: &Type) -> bool {
    let Type::Reference(r) = ty else {
        return false;
    };
    if r.mutability.is_some() {
        return false;
    }
    match &*r.elem {
        Type::Path(p) if p.qself.is_none() => p
            .path
            .segments
            .last()
            .is_some_and(|s| s.ident == "Call" && s.arguments.is_none()),
        _ => false,
    }
}

impl Param {
    /// Whether the type is written `Option<...>`.
    pub fn is_syntactic_option(&self) -> bool {
        match &self.ty {
            Type::Path(p) => p.path.segments.last().is_some_and(|s| s.ident == "Option"),
            _ => false,
        }
    }
}

pub struct Func {
    /// The function, with the parameter attributes the macro consumed removed.
    pub item: ItemFn,
    /// Every parameter, the context (if any) included.
    pub params: Vec<Param>,
    pub docs: Docs,
    /// The return type (`()` when none is written).
    pub ret: TokenStream,
}

pub fn analyze(mut item: ItemFn, what: &str) -> syn::Result<Func> {
    let sig = &item.sig;
    if let Some(a) = &sig.asyncness {
        return Err(syn::Error::new(
            a.span(),
            format!("a {what} cannot be async"),
        ));
    }
    if !sig.generics.params.is_empty() {
        return Err(syn::Error::new(
            sig.generics.span(),
            format!("a {what} cannot be generic"),
        ));
    }
    if let Some(v) = &sig.variadic {
        return Err(syn::Error::new(
            v.span(),
            "variadic functions are not supported",
        ));
    }
    let mut params = Vec::new();
    for input in item.sig.inputs.iter_mut() {
        let FnArg::Typed(pt) = input else {
            return Err(syn::Error::new(
                input.span(),
                format!("a {what} must be a free function, not a method"),
            ));
        };
        let name = match &*pt.pat {
            Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none() => {
                pi.ident.unraw().to_string()
            }
            other => {
                return Err(syn::Error::new(
                    other.span(),
                    "parameters must be plain names (`name: Type`)",
                ));
            }
        };
        let context = is_context_type(&pt.ty);
        match &*pt.ty {
            Type::Reference(_) if context => {}
            Type::Reference(r) => {
                return Err(syn::Error::new(
                    r.span(),
                    "parameters must be owned types (e.g. `String` instead of `&str`); the one reference allowed is `&Call`, the call's context",
                ));
            }
            Type::ImplTrait(t) => {
                return Err(syn::Error::new(
                    t.span(),
                    "`impl Trait` parameters are not supported",
                ));
            }
            _ => {}
        }
        let mut default = None;
        let mut kept = Vec::new();
        for attr in pt.attrs.drain(..) {
            if attr.path().is_ident("default") {
                if default.is_some() {
                    return Err(syn::Error::new(attr.span(), "duplicate `#[default]`"));
                }
                default = Some(attr.parse_args::<Expr>()?);
            } else {
                kept.push(attr);
            }
        }
        pt.attrs = kept;
        if context && default.is_some() {
            return Err(syn::Error::new(
                pt.span(),
                "the `&Call` context cannot have a `#[default]`",
            ));
        }
        params.push(Param {
            name,
            ty: (*pt.ty).clone(),
            default,
            span: pt.span(),
            context,
        });
    }
    if let Some(second) = params.iter().filter(|p| p.context).nth(1) {
        return Err(syn::Error::new(
            second.span,
            "only one `&Call` context parameter is allowed",
        ));
    }
    let ret = match &item.sig.output {
        ReturnType::Default => quote!(()),
        ReturnType::Type(_, ty) => {
            if let Type::ImplTrait(t) = &**ty {
                return Err(syn::Error::new(
                    t.span(),
                    "`impl Trait` return types are not supported",
                ));
            }
            ty.to_token_stream()
        }
    };
    let docs = docs::split(docs::doc_string(&item.attrs).as_deref());
    for (i, p) in params.iter().enumerate() {
        if !p.context && params[..i].iter().any(|q| !q.context && q.name == p.name) {
            return Err(syn::Error::new(p.span, "duplicate parameter name"));
        }
    }
    Ok(Func {
        item,
        params,
        docs,
        ret,
    })
}

impl Func {
    /// The parameters that are arguments (everything but the context).
    pub fn arguments(&self) -> impl Iterator<Item = &Param> {
        self.params.iter().filter(|p| !p.context)
    }
}

/// `Some("...")` or `None`.
pub fn opt_str(s: Option<&str>) -> TokenStream {
    match s {
        Some(s) => quote!(::core::option::Option::Some(#s)),
        None => quote!(::core::option::Option::None),
    }
}

/// `Some(x)` or `None` for an `Option<bool>`.
pub fn opt_bool(b: Option<bool>) -> TokenStream {
    match b {
        Some(b) => quote!(::core::option::Option::Some(#b)),
        None => quote!(::core::option::Option::None),
    }
}

/// Names of the local variables holding the parsed arguments.
pub fn arg_idents(n: usize) -> Vec<syn::Ident> {
    (0..n)
        .map(|i| quote::format_ident!("__corral_arg{}", i))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_params() {
        let item: ItemFn = syn::parse_quote! {
            /// Search.
            ///
            /// # Arguments
            /// * `query` - what
            fn search(query: String, #[default(10)] limit: u32, r#type: Option<String>) -> Vec<String> { vec![] }
        };
        let f = analyze(item, "tool").unwrap();
        let names: Vec<_> = f.params.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["query", "limit", "type"]);
        assert!(f.params[1].default.is_some());
        assert!(f.params[2].is_syntactic_option());
        assert!(!f.params[0].is_syntactic_option());
        assert_eq!(f.docs.description.as_deref(), Some("Search."));
        assert_eq!(f.docs.argument("query"), Some("what"));
        assert_eq!(f.ret.to_string(), "Vec < String >");
        // `#[default]` is removed from the function that is emitted.
        assert!(!f.item.to_token_stream().to_string().contains("default"));
    }

    #[test]
    fn finds_the_context() {
        let item: ItemFn = syn::parse_quote! {
            fn f(a: u8, ctx: &Call, b: String) {}
        };
        let f = analyze(item, "tool").unwrap();
        let flags: Vec<_> = f.params.iter().map(|p| p.context).collect();
        assert_eq!(flags, [false, true, false]);
        let names: Vec<_> = f.arguments().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        let item: ItemFn = syn::parse_quote! {
            fn f<'a>(ctx: &'a corral_sdk::Call) {}
        };
        assert!(
            analyze(item, "tool").is_err(),
            "generic lifetimes stay rejected"
        );
        let item: ItemFn = syn::parse_quote! {
            fn f(ctx: &::corral_sdk::Call) {}
        };
        assert!(analyze(item, "tool").unwrap().params[0].context);
    }

    #[test]
    fn rejects_bad_signatures() {
        let err = |item: ItemFn| analyze(item, "tool").err().unwrap().to_string();
        assert!(
            err(syn::parse_quote!(
                async fn f() {}
            ))
            .contains("async")
        );
        assert!(
            err(syn::parse_quote!(
                fn f<T>(t: T) {}
            ))
            .contains("generic")
        );
        assert!(
            err(syn::parse_quote!(
                fn f(s: &str) {}
            ))
            .contains("owned")
        );
        assert!(
            err(syn::parse_quote!(
                fn f((a, b): (u8, u8)) {}
            ))
            .contains("plain names")
        );
        assert!(
            err(syn::parse_quote!(
                fn f(&self) {}
            ))
            .contains("method")
        );
        assert!(
            err(syn::parse_quote!(
                fn f() -> impl Sized {}
            ))
            .contains("impl Trait")
        );
        assert!(
            err(syn::parse_quote!(
                fn f(a: &Call, b: &Call) {}
            ))
            .contains("only one")
        );
        assert!(
            err(syn::parse_quote!(
                fn f(a: &mut Call) {}
            ))
            .contains("owned")
        );
        assert!(
            err(syn::parse_quote!(
                fn f(#[default(x)] a: &Call) {}
            ))
            .contains("context")
        );
    }
}
