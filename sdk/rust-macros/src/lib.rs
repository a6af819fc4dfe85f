//! Procedural macros for `corral-sdk`: `#[tool]`, `#[resource]`, `#[prompt]`
//! and `#[derive(Schema)]`. Use them through `corral_sdk`, whose docs
//! describe them; the generated code refers to `::corral_sdk`.

use proc_macro::TokenStream;
use proc_macro2::TokenStream as TokenStream2;
use quote::quote;
use syn::{ItemFn, parse_macro_input};

mod derive;
mod docs;
mod func;
mod options;
mod template;

use func::{Func, arg_idents, opt_bool, opt_str};
use options::{Kind, Options};

/// Marks a function as an MCP tool. See the `corral_sdk` docs.
#[proc_macro_attribute]
pub fn tool(attr: TokenStream, item: TokenStream) -> TokenStream {
    let item = parse_macro_input!(item as ItemFn);
    expand(Kind::Tool, attr.into(), item)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Marks a function as an MCP resource or resource template. See the
/// `corral_sdk` docs.
#[proc_macro_attribute]
pub fn resource(attr: TokenStream, item: TokenStream) -> TokenStream {
    let item = parse_macro_input!(item as ItemFn);
    expand(Kind::Resource, attr.into(), item)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Marks a function as an MCP prompt. See the `corral_sdk` docs.
#[proc_macro_attribute]
pub fn prompt(attr: TokenStream, item: TokenStream) -> TokenStream {
    let item = parse_macro_input!(item as ItemFn);
    expand(Kind::Prompt, attr.into(), item)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Derives `corral_sdk::Schema` (and `StructuredOutput`) for a struct with
/// named fields, a newtype struct or a unit-only enum. Doc comments become
/// descriptions; `Option` fields are not required. Honours serde's `rename`,
/// `rename_all`, `default`, `skip` and `deny_unknown_fields`.
#[proc_macro_derive(Schema, attributes(serde))]
pub fn derive_schema(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as syn::DeriveInput);
    derive::expand(input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

fn expand(kind: Kind, attr: TokenStream2, item: ItemFn) -> syn::Result<TokenStream2> {
    let what = match kind {
        Kind::Tool => "tool",
        Kind::Resource => "resource",
        Kind::Prompt => "prompt",
    };
    let options = Options::parse(kind, attr)?;
    let func = func::analyze(item, what)?;
    let handler = match kind {
        Kind::Tool => tool_handler(&options, &func),
        Kind::Resource => resource_handler(&options, &func)?,
        Kind::Prompt => prompt_handler(&options, &func),
    };
    let item = &func.item;
    let ident = &item.sig.ident;
    let vis = &item.vis;
    Ok(quote! {
        #item

        #[allow(non_camel_case_types)]
        #[doc(hidden)]
        #vis struct #ident {}

        #[allow(unused_mut, unused_variables, clippy::all, clippy::pedantic)]
        #handler
    })
}

/// The name: the `name` option, else the function's name.
fn name_of(options: &Options, func: &Func) -> String {
    use syn::ext::IdentExt;
    options
        .name
        .as_ref()
        .map(syn::LitStr::value)
        .unwrap_or_else(|| func.item.sig.ident.unraw().to_string())
}

/// The arguments to call the function with: the parsed argument variables,
/// and `__corral_call` in the context's place.
fn call_args(func: &Func, args: &[syn::Ident]) -> Vec<TokenStream2> {
    let mut args = args.iter();
    func.params
        .iter()
        .map(|p| {
            if p.context {
                quote!(__corral_call)
            } else {
                let a = args.next().expect("one variable per argument");
                quote!(#a)
            }
        })
        .collect()
}

fn description_of(options: &Options, func: &Func) -> Option<String> {
    options
        .description
        .as_ref()
        .map(syn::LitStr::value)
        .or_else(|| func.docs.description.clone())
}

fn tool_handler(options: &Options, func: &Func) -> TokenStream2 {
    let ident = &func.item.sig.ident;
    let name = name_of(options, func);
    let title = opt_str(options.title.as_ref().map(|t| t.value()).as_deref());
    let description = opt_str(description_of(options, func).as_deref());
    let tags = &options.tags;
    let annotations = match &options.annotations {
        Some(a) => {
            let (r, d, i, o) = (
                opt_bool(a.read_only),
                opt_bool(a.destructive),
                opt_bool(a.idempotent),
                opt_bool(a.open_world),
            );
            quote!(::core::option::Option::Some(::corral_sdk::__private::annotations(#r, #d, #i, #o)))
        }
        None => quote!(::core::option::Option::None),
    };
    let ret = &func.ret;
    let names: Vec<&str> = func.arguments().map(|p| p.name.as_str()).collect();
    let args = arg_idents(names.len());
    let call = call_args(func, &args);
    let mut properties = Vec::new();
    let mut takes = Vec::new();
    for (p, arg) in func.arguments().zip(&args) {
        let (pname, ty) = (&p.name, &p.ty);
        let pdesc = opt_str(func.docs.argument(pname));
        match &p.default {
            Some(d) => {
                properties
                    .push(quote!(.property_with_default::<#ty>(#pname, #pdesc, || -> #ty { #d })));
                takes.push(quote!(let #arg: #ty = __corral_args.take_or::<#ty>(#pname, || -> #ty { #d })?;));
            }
            None => {
                properties.push(quote!(.property::<#ty>(#pname, #pdesc)));
                takes.push(quote!(let #arg: #ty = __corral_args.take::<#ty>(#pname)?;));
            }
        }
    }
    let schema = match &options.input_schema {
        Some(expr) => quote! {
            let __corral_schema: ::corral_sdk::serde_json::Value = #expr;
        },
        None => quote! {
            let __corral_schema = ::corral_sdk::__private::ObjectSchema::new(true)
                #(#properties)*
                .build();
        },
    };
    let task = options.task.as_ref().map(|t| {
        let variant = syn::Ident::new(
            match t.value().as_str() {
                "optional" => "Optional",
                "required" => "Required",
                _ => "Forbidden",
            },
            t.span(),
        );
        quote!(const TASK: ::corral_sdk::TaskSupport = ::corral_sdk::TaskSupport::#variant;)
    });
    quote! {
        impl ::corral_sdk::__private::ToolHandler for #ident {
            const NAME: &'static str = #name;
            #task

            fn definition() -> ::corral_sdk::Tool {
                #schema
                ::corral_sdk::__private::tool::<#ret>(
                    #name, #title, #description, __corral_schema, #annotations, &[#(#tags),*],
                )
            }

            fn call_with(
                __corral_arguments: &str,
                __corral_call: &::corral_sdk::Call,
            ) -> ::core::result::Result<
                ::corral_sdk::Outcome<::corral_sdk::ToolResult>,
                ::corral_sdk::Error,
            > {
                let mut __corral_args =
                    ::corral_sdk::__private::ToolArgs::parse(__corral_arguments, &[#(#names),*])?;
                #(#takes)*
                ::corral_sdk::__private::tool_outcome::<#ret>(#ident(#(#call),*))
            }
        }
    }
}

fn resource_handler(options: &Options, func: &Func) -> syn::Result<TokenStream2> {
    let ident = &func.item.sig.ident;
    let Some(uri) = &options.uri else {
        return Err(syn::Error::new(
            proc_macro2::Span::call_site(),
            "expected the resource's URI first: `#[resource(\"scheme://path\")]`",
        ));
    };
    let variables =
        template::variables(&uri.value()).map_err(|e| syn::Error::new(uri.span(), e))?;
    let is_variable = |name: &str| variables.iter().any(|v| v.name == name);
    for p in func.arguments() {
        if !is_variable(&p.name) && p.default.is_none() && !p.is_syntactic_option() {
            let msg = if variables.is_empty() {
                format!(
                    "parameter `{}` is not a URI template variable: a resource with a fixed URI takes no parameters (use `{{{}}}` in the URI to make it a template)",
                    p.name, p.name
                )
            } else {
                format!(
                    "parameter `{}` is not a variable of the URI template `{}`",
                    p.name,
                    uri.value()
                )
            };
            return Err(syn::Error::new(p.span, msg));
        }
    }
    for v in &variables {
        let Some(p) = func.arguments().find(|p| p.name == v.name) else {
            return Err(syn::Error::new(
                uri.span(),
                format!(
                    "URI template variable `{}` has no matching function parameter",
                    v.name
                ),
            ));
        };
        if v.optional && p.default.is_none() && !p.is_syntactic_option() {
            return Err(syn::Error::new(
                p.span,
                format!(
                    "`{}` is a query variable, which a URI may leave out: make the parameter an `Option` or give it a `#[default(...)]`",
                    v.name
                ),
            ));
        }
    }
    let required: Vec<&str> = variables
        .iter()
        .filter(|v| !v.optional)
        .map(|v| v.name.as_str())
        .collect();
    let variables: Vec<&str> = variables.iter().map(|v| v.name.as_str()).collect();
    let name = name_of(options, func);
    let title = opt_str(options.title.as_ref().map(|t| t.value()).as_deref());
    let description = opt_str(description_of(options, func).as_deref());
    let mime = opt_str(options.mime_type.as_ref().map(|m| m.value()).as_deref());
    let tags = &options.tags;
    let ret = &func.ret;
    let args = arg_idents(func.arguments().count());
    let call = call_args(func, &args);
    let takes = func.arguments().zip(&args).map(|(p, arg)| {
        let (pname, ty) = (&p.name, &p.ty);
        match &p.default {
            Some(d) => {
                quote!(let #arg: #ty = __corral_params.take_or::<#ty>(#pname, || -> #ty { #d })?;)
            }
            None => quote!(let #arg: #ty = __corral_params.take::<#ty>(#pname)?;),
        }
    });
    Ok(quote! {
        impl ::corral_sdk::__private::ResourceHandler for #ident {
            const URI: &'static str = #uri;
            const VARIABLES: &'static [&'static str] = &[#(#variables),*];
            const REQUIRED: &'static [&'static str] = &[#(#required),*];

            fn describe() -> ::corral_sdk::__private::ResourceDescriptor {
                ::corral_sdk::__private::ResourceDescriptor {
                    name: #name,
                    title: #title,
                    description: #description,
                    mime_type: ::corral_sdk::__private::mime_type::<#ret>(#mime),
                    tags: &[#(#tags),*],
                }
            }

            fn read_with(
                __corral_uri: &str,
                mut __corral_params: ::corral_sdk::__private::StrArgs,
                __corral_call: &::corral_sdk::Call,
            ) -> ::core::result::Result<
                ::corral_sdk::Outcome<::std::vec::Vec<::corral_sdk::ResourceContents>>,
                ::corral_sdk::Error,
            > {
                #(#takes)*
                ::corral_sdk::__private::resource_outcome::<#ret>(
                    #ident(#(#call),*),
                    __corral_uri,
                    ::corral_sdk::__private::mime_type::<#ret>(#mime),
                )
            }
        }
    })
}

fn prompt_handler(options: &Options, func: &Func) -> TokenStream2 {
    let ident = &func.item.sig.ident;
    let name = name_of(options, func);
    let title = opt_str(options.title.as_ref().map(|t| t.value()).as_deref());
    let description = opt_str(description_of(options, func).as_deref());
    let tags = &options.tags;
    let ret = &func.ret;
    let names: Vec<&str> = func.arguments().map(|p| p.name.as_str()).collect();
    let args = arg_idents(names.len());
    let call = call_args(func, &args);
    let mut arguments = Vec::new();
    let mut takes = Vec::new();
    for (p, arg) in func.arguments().zip(&args) {
        let (pname, ty) = (&p.name, &p.ty);
        let pdesc = opt_str(func.docs.argument(pname));
        match &p.default {
            Some(d) => {
                arguments
                    .push(quote!(::corral_sdk::__private::prompt_argument(#pname, #pdesc, false)));
                takes.push(quote!(let #arg: #ty = __corral_args.take_or::<#ty>(#pname, || -> #ty { #d })?;));
            }
            None => {
                arguments.push(quote!(::corral_sdk::__private::prompt_argument(
                    #pname, #pdesc, !<#ty as ::corral_sdk::Schema>::OPTIONAL,
                )));
                takes.push(quote!(let #arg: #ty = __corral_args.take::<#ty>(#pname)?;));
            }
        }
    }
    quote! {
        impl ::corral_sdk::__private::PromptHandler for #ident {
            const NAME: &'static str = #name;

            fn definition() -> ::corral_sdk::Prompt {
                ::corral_sdk::__private::prompt(
                    #name, #title, #description, ::std::vec![#(#arguments),*], &[#(#tags),*],
                )
            }

            fn get_with(
                __corral_arguments: ::std::vec::Vec<(::std::string::String, ::std::string::String)>,
                __corral_call: &::corral_sdk::Call,
            ) -> ::core::result::Result<
                ::corral_sdk::Outcome<::corral_sdk::PromptResult>,
                ::corral_sdk::Error,
            > {
                let mut __corral_args =
                    ::corral_sdk::__private::StrArgs::new(__corral_arguments, &[#(#names),*])?;
                #(#takes)*
                ::corral_sdk::__private::prompt_outcome::<#ret>(#ident(#(#call),*), #description)
            }
        }
    }
}
