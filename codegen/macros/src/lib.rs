//! Derives for hemu's object model.
//!
//! `#[derive(Properties)]` on a struct of named fields declares a device's
//! typed, documented, static properties: it implements
//! `hemu_runtime::device::Properties`, whose `PROPS` table is what machine
//! files are checked against and `hemu list devices` prints, and whose
//! `from_config` reads the resolved values into the struct.
//!
//! ```ignore
//! #[derive(Properties)]
//! pub struct Config {
//!     /// log2 of the spacing between registers in bytes
//!     #[prop(default = 0)]
//!     pub reg_shift: u64,               // property `reg-shift`, uint64
//!     /// character backend
//!     #[prop(default = "serial0")]
//!     pub chardev: CharBackend,         // chardev
//!     #[prop(name = "id", doc = "...")]
//!     pub ident: String,                // str, required (no default)
//! }
//! ```
//!
//! Field types: `u8`..`u64`, `usize` (uint64), `bool`, `String` (str),
//! `CharBackend` (chardev). The property name defaults to the field name
//! with `_` spelled `-`; the documentation to the field's doc comment.

use proc_macro::TokenStream;
use quote::quote;
use syn::{parse_macro_input, Data, DeriveInput, Expr, ExprLit, Fields, Lit, Type};

/// Derive `hemu_runtime::device::Properties`; see the crate docs.
#[proc_macro_derive(Properties, attributes(prop))]
pub fn derive_properties(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    match expand(&input) {
        Ok(ts) => ts.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

enum Kind {
    Int(syn::Ident),
    Bool,
    Str,
    Chardev,
}

fn kind(ty: &Type) -> syn::Result<Kind> {
    if let Type::Path(p) = ty {
        if let Some(last) = p.path.segments.last() {
            let name = last.ident.to_string();
            return Ok(match name.as_str() {
                "u8" | "u16" | "u32" | "u64" | "usize" => Kind::Int(last.ident.clone()),
                "bool" => Kind::Bool,
                "String" => Kind::Str,
                "CharBackend" => Kind::Chardev,
                _ => return Err(unsupported(ty)),
            });
        }
    }
    Err(unsupported(ty))
}

fn unsupported(ty: &Type) -> syn::Error {
    syn::Error::new_spanned(
        ty,
        "a property is u8, u16, u32, u64, usize, bool, String or CharBackend",
    )
}

fn lit_text(e: &Expr) -> syn::Result<String> {
    match e {
        Expr::Lit(ExprLit { lit, .. }) => match lit {
            Lit::Str(s) => Ok(s.value()),
            Lit::Int(i) => Ok(i.base10_digits().to_string()),
            Lit::Bool(b) => Ok(b.value.to_string()),
            _ => Err(syn::Error::new_spanned(
                e,
                "expected a string, integer or bool",
            )),
        },
        Expr::Unary(u) if matches!(u.op, syn::UnOp::Neg(_)) => {
            Err(syn::Error::new_spanned(e, "properties are unsigned"))
        }
        _ => Err(syn::Error::new_spanned(e, "expected a literal")),
    }
}

fn expand(input: &DeriveInput) -> syn::Result<proc_macro2::TokenStream> {
    let Data::Struct(data) = &input.data else {
        return Err(syn::Error::new_spanned(
            &input.ident,
            "Properties is derived for structs with named fields",
        ));
    };
    let Fields::Named(fields) = &data.fields else {
        return Err(syn::Error::new_spanned(
            &input.ident,
            "Properties is derived for structs with named fields",
        ));
    };
    let rt = quote!(::hemu_runtime::device);
    let mut descs = Vec::new();
    let mut inits = Vec::new();
    let mut names = Vec::<String>::new();
    for f in &fields.named {
        let ident = f.ident.as_ref().expect("named field");
        let mut name = ident.to_string().trim_start_matches("r#").replace('_', "-");
        let mut default: Option<String> = None;
        let mut doc_lines = Vec::new();
        let mut doc_override = None;
        for a in &f.attrs {
            if a.path().is_ident("doc") {
                if let syn::Meta::NameValue(nv) = &a.meta {
                    if let Ok(t) = lit_text(&nv.value) {
                        doc_lines.push(t.trim().to_string());
                    }
                }
            } else if a.path().is_ident("prop") {
                a.parse_nested_meta(|m| {
                    let key = m
                        .path
                        .get_ident()
                        .map(|i| i.to_string())
                        .unwrap_or_default();
                    let value: Expr = m.value()?.parse()?;
                    match key.as_str() {
                        "name" => name = lit_text(&value)?,
                        "default" => default = Some(lit_text(&value)?),
                        "doc" => doc_override = Some(lit_text(&value)?),
                        _ => return Err(m.error("expected name, default or doc")),
                    }
                    Ok(())
                })?;
            }
        }
        if names.contains(&name) {
            return Err(syn::Error::new_spanned(
                ident,
                format!("two properties are called '{name}'"),
            ));
        }
        names.push(name.clone());
        let doc = doc_override.unwrap_or_else(|| doc_lines.join(" ").trim().to_string());
        if doc.is_empty() {
            return Err(syn::Error::new_spanned(
                ident,
                "document the property (a /// comment or #[prop(doc = \"...\")])",
            ));
        }
        let k = kind(&f.ty)?;
        let (ty, init) = match &k {
            Kind::Int(t) => (quote!(U64), quote!(cfg.u64(#name) as #t)),
            Kind::Bool => (quote!(Bool), quote!(cfg.bool(#name))),
            Kind::Str => (quote!(Str), quote!(cfg.str(#name))),
            Kind::Chardev => (quote!(Chardev), quote!(cfg.chardev(#name))),
        };
        if let (Kind::Int(_), Some(d)) = (&k, &default) {
            let digits = d.trim_start_matches("0x").replace('_', "");
            let radix = if d.starts_with("0x") { 16 } else { 10 };
            if u64::from_str_radix(&digits, radix).is_err() {
                return Err(syn::Error::new_spanned(
                    ident,
                    format!("default '{d}' is not an unsigned integer"),
                ));
            }
        }
        if let (Kind::Bool, Some(d)) = (&k, &default) {
            if !matches!(d.as_str(), "true" | "false" | "on" | "off") {
                return Err(syn::Error::new_spanned(
                    ident,
                    format!("default '{d}' is not a bool"),
                ));
            }
        }
        let default = match &default {
            Some(d) => quote!(::core::option::Option::Some(#d)),
            None => quote!(::core::option::Option::None),
        };
        descs.push(quote! {
            #rt::PropDesc { name: #name, ty: #rt::PropType::#ty, default: #default, doc: #doc }
        });
        inits.push(quote!(#ident: #init));
    }
    let ident = &input.ident;
    let (ig, tg, wc) = input.generics.split_for_impl();
    Ok(quote! {
        impl #ig #rt::Properties for #ident #tg #wc {
            const PROPS: &'static [#rt::PropDesc] = &[#(#descs),*];
            fn from_config(cfg: &#rt::DeviceConfig) -> Self {
                #ident { #(#inits),* }
            }
        }
    })
}
