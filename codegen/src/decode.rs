//! Decoder generation: a decision tree over fixed encoding bits, and the
//! overlap check it relies on.

use crate::error::SpecError;
use crate::lower::possible;
use crate::model::{Field, Isa};
use crate::sem::{Bin, Expr};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

/// Reject two instructions that can match the same bits under some
/// parameter valuation, unless a `priority` orders them.
pub fn check_overlaps(isa: &Isa) -> Result<(), SpecError> {
    let vals = isa.valuations();
    for (i, a) in isa.insns.iter().enumerate() {
        for b in &isa.insns[i + 1..] {
            let common = a.mask & b.mask;
            if a.bits != b.bits || (a.value & common) != (b.value & common) {
                continue;
            }
            if !vals.iter().any(|v| possible(a, v) && possible(b, v)) {
                continue;
            }
            if a.priority.is_some() && b.priority.is_some() && a.priority != b.priority {
                continue;
            }
            return Err(SpecError {
                file: b.file.clone(),
                line: b.line,
                msg: format!(
                    "encoding of {} overlaps {} ({}:{}); give them different `priority` values or make their `when` conditions exclusive",
                    b.mnemonic, a.mnemonic, a.file, a.line
                ),
            });
        }
    }
    Ok(())
}

/// CamelCase variant name of a mnemonic (`fence.i` → `FenceI`).
pub fn variant(mnemonic: &str) -> proc_macro2::Ident {
    let mut s = String::new();
    for part in mnemonic.split(['.', '_', '@']) {
        let mut c = part.chars();
        if let Some(f) = c.next() {
            s.extend(f.to_uppercase());
            s.push_str(c.as_str());
        }
    }
    format_ident!("{}", s)
}

/// Struct name of a format's fields.
pub fn fmt_struct(name: &str) -> proc_macro2::Ident {
    format_ident!("Fmt{}", name)
}

/// Expression extracting a field from `w`.
pub fn field_expr(f: &Field) -> TokenStream {
    let mut parts = Vec::new();
    let mut pos = f.width();
    for (h, l) in &f.slices {
        let n = h - l + 1;
        pos -= n;
        let mask = ((1u128 << n) - 1) as u64;
        parts.push(quote!((((w >> #l) & #mask) << #pos)));
    }
    let width = f.width();
    let shift = f.shift;
    let offset = f.offset as i64;
    let raw = quote!((#(#parts)|*));
    let v = if f.signed {
        let sh = 64 - width;
        quote!((((#raw << #sh) as i64) >> #sh) << #shift)
    } else {
        quote!((#raw as i64) << #shift)
    };
    if offset != 0 {
        quote!(((#v) + #offset))
    } else {
        v
    }
}

/// A `when` condition as Rust over `p` (params) and `f` (fields).
fn when_expr(isa: &Isa, e: &Expr) -> TokenStream {
    if let Expr::Bin(op @ (Bin::Eq | Bin::Ne), a, b) = e {
        if let Some((param, value)) = named_param_cmp(isa, a, b) {
            let id = format_ident!("{}", param);
            return match op {
                Bin::Eq => quote!((p.#id == #value)),
                _ => quote!((p.#id != #value)),
            };
        }
    }
    match e {
        Expr::Lit(n) => quote!(#n),
        Expr::Name(n) => {
            let id = format_ident!("{}", n);
            if isa.params.iter().any(|p| &p.name == n) {
                quote!(p.#id)
            } else {
                quote!(f.#id)
            }
        }
        Expr::Not(a) => {
            let a = when_expr(isa, a);
            quote!(!(#a))
        }
        Expr::Bin(op, a, b) => {
            let (a, b) = (when_expr(isa, a), when_expr(isa, b));
            match op {
                Bin::LAnd => quote!((#a && #b)),
                Bin::LOr => quote!((#a || #b)),
                Bin::Eq => quote!((#a == #b)),
                Bin::Ne => quote!((#a != #b)),
                Bin::Lt => quote!((#a < #b)),
                Bin::Le => quote!((#a <= #b)),
                Bin::Gt => quote!((#a > #b)),
                Bin::Ge => quote!((#a >= #b)),
                Bin::Add => quote!((#a + #b)),
                Bin::Sub => quote!((#a - #b)),
                Bin::And => quote!((#a & #b)),
                Bin::Or => quote!((#a | #b)),
                Bin::Xor => quote!((#a ^ #b)),
                Bin::Shl => quote!((#a << #b)),
                Bin::Shr => quote!((#a >> #b)),
                _ => quote!(false),
            }
        }
        _ => quote!(false),
    }
}

/// `param == value` for a parameter with named values (`cpu ==
/// cortex_m4`: in conditions a `-` of a value is written `_`): the
/// parameter and the value as the parameter spells it.
pub fn named_param_cmp(isa: &Isa, a: &Expr, b: &Expr) -> Option<(String, String)> {
    let (Expr::Name(x), Expr::Name(y)) = (a, b) else {
        return None;
    };
    for (param, value) in [(x, y), (y, x)] {
        if let Some(p) = isa.params.iter().find(|p| &p.name == param && !p.numeric) {
            if let Some(v) = p.values.iter().find(|v| v.replace('-', "_") == *value) {
                return Some((param.clone(), v.clone()));
            }
        }
    }
    None
}

fn leaf(isa: &Isa, set: &[usize]) -> TokenStream {
    let mut order: Vec<usize> = set.to_vec();
    // Most specific first; then declared priority.
    order.sort_by_key(|&i| {
        let x = &isa.insns[i];
        (
            std::cmp::Reverse(x.priority.unwrap_or(0)),
            std::cmp::Reverse(x.mask.count_ones()),
            i,
        )
    });
    let arms = order.iter().map(|&i| {
        let x = &isa.insns[i];
        let (mask, value) = (x.mask, x.value);
        let fmt = &isa.formats[x.format];
        let st = fmt_struct(&fmt.name);
        let v = variant(&x.mnemonic);
        let fields = fmt.fields.iter().map(|fd| {
            let id = format_ident!("{}", fd.name);
            let e = field_expr(fd);
            quote!(#id: #e)
        });
        let cond = match &x.when {
            Some(w) => when_expr(isa, w),
            None => quote!(true),
        };
        quote! {
            if w & #mask == #value {
                let f = #st { #(#fields),* };
                if #cond {
                    return Ok(Insn::#v(f));
                }
            }
        }
    });
    quote!({ #(#arms)* Err(DecodeError::Invalid) })
}

fn tree(isa: &Isa, set: &[usize], used: u64, depth: u32) -> TokenStream {
    let common = set.iter().fold(u64::MAX, |m, &i| m & isa.insns[i].mask) & !used;
    if set.len() <= 2 || common == 0 || depth > 6 {
        return leaf(isa, set);
    }
    let mut groups: Vec<(u64, Vec<usize>)> = Vec::new();
    for &i in set {
        let v = isa.insns[i].value & common;
        match groups.iter_mut().find(|(k, _)| *k == v) {
            Some((_, g)) => g.push(i),
            None => groups.push((v, vec![i])),
        }
    }
    groups.sort_by_key(|(k, _)| *k);
    let arms = groups.iter().map(|(k, g)| {
        let sub = tree(isa, g, used | common, depth + 1);
        quote!(#k => #sub)
    });
    quote! {
        match w & #common {
            #(#arms,)*
            _ => Err(DecodeError::Invalid),
        }
    }
}

/// The body of the decoder of `bits`-long instructions:
/// `decode_<bits>(w, p) -> Result<Insn, DecodeError>`.
pub fn decoder(isa: &Isa, bits: u32) -> TokenStream {
    let set: Vec<usize> = (0..isa.insns.len())
        .filter(|&i| isa.insns[i].bits == bits)
        .collect();
    if set.is_empty() {
        return quote!({
            let _ = (w, p);
            Err(DecodeError::Invalid)
        });
    }
    tree(isa, &set, 0, 0)
}

/// A length-rule condition as Rust over `first` (the first parcel).
pub fn length_expr(e: &Expr) -> TokenStream {
    match e {
        Expr::Lit(n) => {
            let n = *n as u64;
            quote!(#n)
        }
        Expr::Name(_) => quote!(first),
        Expr::Not(a) => {
            let a = length_expr(a);
            quote!(!(#a))
        }
        Expr::Bin(op, a, b) => {
            let (a, b) = (length_expr(a), length_expr(b));
            match op {
                Bin::LAnd => quote!((#a && #b)),
                Bin::LOr => quote!((#a || #b)),
                Bin::Eq => quote!((#a == #b)),
                Bin::Ne => quote!((#a != #b)),
                Bin::Lt => quote!((#a < #b)),
                Bin::Le => quote!((#a <= #b)),
                Bin::Gt => quote!((#a > #b)),
                Bin::Ge => quote!((#a >= #b)),
                Bin::And => quote!((#a & #b)),
                Bin::Or => quote!((#a | #b)),
                Bin::Shr => quote!((#a >> #b)),
                _ => quote!(false),
            }
        }
        _ => quote!(false),
    }
}
