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
//!
//! Integer properties may declare their allowed range, checked wherever a
//! value is set (machine files, `device_add`, `qom-set`, `object-add`):
//!
//! ```ignore
//!     /// number of harts served
//!     #[prop(default = 1, min = 1, max = MAX_HARTS)]
//!     pub num_harts: u64,
//!     /// log2 of the register spacing
//!     #[prop(default = 0, range = 0..=3)]
//!     pub reg_shift: u64,
//! ```
//!
//! Bounds are constant expressions (literals or `const`s); a field
//! narrower than `u64` is bounded by its type. A default outside the
//! range, or `min > max`, fails to compile.

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
    // Compile-time checks of ranges and defaults (const assertions).
    let mut checks = Vec::new();
    for f in &fields.named {
        let ident = f.ident.as_ref().expect("named field");
        let mut name = ident.to_string().trim_start_matches("r#").replace('_', "-");
        let mut default: Option<String> = None;
        let mut doc_lines = Vec::new();
        let mut doc_override = None;
        let mut min: Option<Expr> = None;
        let mut max: Option<Expr> = None;
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
                        "min" => min = Some(value),
                        "max" => max = Some(value),
                        "range" => {
                            let Expr::Range(r) = &value else {
                                return Err(syn::Error::new_spanned(
                                    &value,
                                    "expected a range: A..=B, A..B, A.. or ..=B",
                                ));
                            };
                            if let Some(lo) = &r.start {
                                min = Some((**lo).clone());
                            }
                            if let Some(hi) = &r.end {
                                max = Some(match r.limits {
                                    syn::RangeLimits::Closed(_) => (**hi).clone(),
                                    syn::RangeLimits::HalfOpen(_) => {
                                        syn::parse_quote!(((#hi) as u64) - 1)
                                    }
                                });
                            }
                        }
                        _ => return Err(m.error("expected name, default, doc, min, max or range")),
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
        // The allowed range: declared bounds, else the field type's.
        let (lo, hi) = match &k {
            Kind::Int(t) => (
                min.map_or_else(|| quote!(0u64), |e| quote!(((#e) as u64))),
                match max {
                    Some(e) => {
                        checks.push(quote! {
                            ::core::assert!(
                                ((#e) as u64) <= (#t::MAX as u64),
                                "the maximum does not fit the field's type"
                            );
                        });
                        quote!(((#e) as u64))
                    }
                    None => quote!((#t::MAX as u64)),
                },
            ),
            _ => {
                if let Some(e) = min.as_ref().or(max.as_ref()) {
                    return Err(syn::Error::new_spanned(
                        e,
                        "only integer properties have a range",
                    ));
                }
                (quote!(0u64), quote!(u64::MAX))
            }
        };
        if let Kind::Int(_) = &k {
            let msg = format!("property '{name}': min is above max");
            checks.push(quote!(::core::assert!(#lo <= #hi, #msg);));
            if let Some(d) = &default {
                let digits = d.trim_start_matches("0x").replace('_', "");
                let radix = if d.starts_with("0x") { 16 } else { 10 };
                let v = u64::from_str_radix(&digits, radix).unwrap_or(0);
                let msg = format!("property '{name}': the default {d} is out of its range");
                checks.push(quote!(::core::assert!(#lo <= #v && #v <= #hi, #msg);));
            }
        }
        let default = match &default {
            Some(d) => quote!(::core::option::Option::Some(#d)),
            None => quote!(::core::option::Option::None),
        };
        descs.push(quote! {
            #rt::PropDesc {
                name: #name,
                ty: #rt::PropType::#ty,
                default: #default,
                doc: #doc,
                min: #lo,
                max: #hi,
            }
        });
        inits.push(quote!(#ident: #init));
    }
    let ident = &input.ident;
    let (ig, tg, wc) = input.generics.split_for_impl();
    Ok(quote! {
        const _: () = { #(#checks)* };
        impl #ig #rt::Properties for #ident #tg #wc {
            const PROPS: &'static [#rt::PropDesc] = &[#(#descs),*];
            fn from_config(cfg: &#rt::DeviceConfig) -> Self {
                #ident { #(#inits),* }
            }
        }
    })
}
