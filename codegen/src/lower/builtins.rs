//! Lowering of calls: the builtins of the semantics language (`load`,
//! `store`, `atomic`, `trunc`, `sext`, `jump`, `raise`, ...), statement
//! functions and the ISA's helpers.

use super::{load_kind, Lower, Ty, R, V, W};
use crate::sem::{Bin, Expr};
use quote::{format_ident, quote};

/// The IR's name for the atomic operation a spec calls `name`.
fn atomic_op_name(name: &str) -> Option<&'static str> {
    Some(match name {
        "swap" => "Swap",
        "add" => "Add",
        "and" => "And",
        "or" => "Or",
        "xor" => "Xor",
        "min" => "Min",
        "max" => "Max",
        "minu" => "MinU",
        "maxu" => "MaxU",
        _ => return None,
    })
}

impl Lower<'_> {
    /// Builtins and helpers; `want` is true in expression position.
    pub(super) fn call(&mut self, name: &str, args: &[Expr], want: bool) -> R<Option<V>> {
        let n = args.len();
        let argc = |k: usize| -> R<()> {
            if n == k {
                Ok(())
            } else {
                Err(format!("{name}() takes {k} argument(s), not {n}"))
            }
        };
        let stmt_only = |s: &Self| -> R<()> {
            let _ = s;
            if want {
                Err(format!("{name}() is a statement, not a value"))
            } else {
                Ok(())
            }
        };
        match name {
            "signed" | "unsigned" => {
                argc(1)?;
                Ok(Some(match self.expr(&args[0])? {
                    V::Dyn(t, ty) => V::Dyn(
                        t,
                        Ty {
                            w: ty.w,
                            signed: name == "signed",
                        },
                    ),
                    c => c,
                }))
            }
            "trunc" => {
                argc(2)?;
                let w = self.width_arg(&args[1])?;
                match self.expr(&args[0])? {
                    V::Const(c) => {
                        let r = self.fresh("c");
                        let bits = self.bits_tok(w);
                        self.push(quote!(let #r: i64 = if #bits >= 64 { #c } else { #c & ((1i64 << #bits) - 1) };));
                        Ok(Some(V::Const(r)))
                    }
                    V::Dyn(t, ty) => {
                        if let (Some(from), Some(to)) = (self.bits(ty.w), self.bits(w)) {
                            if to > from {
                                return Err(format!("trunc() of a {from}-bit value to {to} bits: use sext/zext to widen"));
                            }
                        }
                        let r = self.fresh("t");
                        let bits = self.bits_tok(w);
                        self.push(quote!(let #r = cx.trunc(#t, #bits);));
                        Ok(Some(V::Dyn(r, Ty { w, signed: false })))
                    }
                }
            }
            "sext" | "zext" => {
                argc(2)?;
                let w = self.width_arg(&args[1])?;
                match self.expr(&args[0])? {
                    V::Const(_) => Err(format!("{name}() of a constant: constants have no width")),
                    V::Dyn(t, ty) => {
                        let signed = name == "sext";
                        let v = V::Dyn(t, Ty { w: ty.w, signed });
                        let r = self.widen_to(v, w, "the result")?;
                        Ok(Some(V::Dyn(r, Ty { w, signed })))
                    }
                }
            }
            "mulh" => {
                argc(2)?;
                let (va, vb) = (self.expr(&args[0])?, self.expr(&args[1])?);
                let (V::Dyn(a, ta), V::Dyn(b, tb)) = (va, vb) else {
                    return Err("mulh() takes two register values".into());
                };
                self.arith_ok(ta, "mulh")?;
                self.same_width(ta, tb, Bin::Mul)?;
                let op = match (ta.signed, tb.signed) {
                    (true, true) => quote!(BinOp::MulHs),
                    (true, false) => quote!(BinOp::MulHsu),
                    (false, false) => quote!(BinOp::MulHu),
                    (false, true) => {
                        return Err("mulh(unsigned, signed): put the signed operand first".into())
                    }
                };
                let r = self.fresh("t");
                let irt = self.ir_ty(ta.w);
                self.push(quote!(let #r = cx.b.bin(#op, #irt, #a, #b);));
                Ok(Some(V::Dyn(
                    r,
                    Ty {
                        w: ta.w,
                        signed: false,
                    },
                )))
            }
            "load" => {
                argc(2)?;
                let (size, signed) = match &args[0] {
                    Expr::Name(k) => load_kind(k),
                    _ => None,
                }
                .ok_or("load(kind, addr): kind is one of u8 s8 u16 s16 u32 s32 u64 s64")?;
                let a = self.word_addr(&args[1])?;
                let w = W::Bits(size as u32 * 8);
                let r = self.fresh("t");
                let irt = self.ir_ty(w);
                let sz = size;
                self.push(quote!(let #r = cx.b.load(#irt, #a, cx.mop(#sz, false));));
                Ok(Some(V::Dyn(r, Ty { w, signed })))
            }
            "atomic" => {
                // atomic(op, kind, addr, value): one indivisible
                // read-modify-write; the value is memory's old contents.
                argc(4)?;
                let op = match &args[0] {
                    Expr::Name(o) => atomic_op_name(o),
                    _ => None,
                }
                .ok_or("atomic(op, kind, addr, value): op is one of swap add and or xor min max minu maxu")?;
                let (size, signed) = match &args[1] {
                    Expr::Name(k) => load_kind(k),
                    _ => None,
                }
                .ok_or(
                    "atomic(op, kind, addr, value): kind is one of u8 s8 u16 s16 u32 s32 u64 s64",
                )?;
                let a = self.word_addr(&args[2])?;
                let w = W::Bits(size as u32 * 8);
                let v = self.expr(&args[3])?;
                let (t, ty) = self.as_dyn(v, w);
                if let (Some(b), Some(want)) = (self.bits(ty.w), self.bits(w)) {
                    if b != want {
                        return Err(format!(
                            "atomic() on {} bytes with a {b}-bit value: trunc or extend it",
                            size
                        ));
                    }
                }
                let r = self.fresh("t");
                let irt = self.ir_ty(w);
                let op = format_ident!("{}", op);
                self.push(quote!(let #r = cx.b.atomic(hemu_runtime::ir::AtomicOp::#op, #irt, #a, #t, cx.mop(#size, false));));
                Ok(Some(V::Dyn(r, Ty { w, signed })))
            }
            "store" => {
                stmt_only(self)?;
                argc(3)?;
                let (size, _) = match &args[0] {
                    Expr::Name(k) => load_kind(k),
                    _ => None,
                }
                .ok_or("store(kind, addr, value): kind is one of u8 u16 u32 u64")?;
                let a = self.word_addr(&args[1])?;
                let v = self.expr(&args[2])?;
                let w = W::Bits((size as u32 * 8).max(32));
                let (t, ty) = self.as_dyn(v, w);
                if let Some(b) = self.bits(ty.w) {
                    if b < size as u32 * 8 {
                        return Err(format!("store of {} bytes from a {b}-bit value", size));
                    }
                }
                let sz = size;
                self.push(quote!(cx.b.store(#a, #t, cx.mop(#sz, false));));
                Ok(None)
            }
            "jump" => {
                stmt_only(self)?;
                argc(1)?;
                match self.expr(&args[0])? {
                    V::Const(c) => self.push(quote!(cx.jump_to(#c);)),
                    V::Dyn(t, ty) => {
                        if let (Some(x), Some(y)) = (self.bits(ty.w), self.bits(W::Word)) {
                            if x != y {
                                return Err(format!("jump target is {x} bits, the word is {y}"));
                            }
                        }
                        self.push(quote!(cx.jump(#t);));
                    }
                }
                Ok(None)
            }
            "jump_now" => {
                stmt_only(self)?;
                argc(1)?;
                match self.expr(&args[0])? {
                    V::Const(c) => self.push(quote!(cx.jump_now(#c);)),
                    V::Dyn(..) => return Err("jump_now() takes a constant address".into()),
                }
                Ok(None)
            }
            "raise" => {
                stmt_only(self)?;
                if n != 1 && n != 2 {
                    return Err("raise(exception[, tval])".into());
                }
                let Expr::Name(ex) = &args[0] else {
                    return Err("raise(): the first argument names an exception".into());
                };
                let code = self
                    .isa
                    .exceptions
                    .iter()
                    .find(|e| &e.name == ex)
                    .ok_or_else(|| format!("unknown exception '{ex}'"))?
                    .code;
                let tval = if n == 2 {
                    let v = self.expr(&args[1])?;
                    self.widen_to(v, W::Word, "tval")?
                } else {
                    let z = self.fresh("k");
                    self.push(quote!(let #z = cx.k(w, 0);));
                    z
                };
                self.push(quote!(cx.b.raise(#code, #tval);));
                Ok(None)
            }
            "popcount" => {
                argc(1)?;
                match self.expr(&args[0])? {
                    V::Const(c) => {
                        let r = self.fresh("c");
                        self.push(quote!(let #r: i64 = (#c as u64).count_ones() as i64;));
                        Ok(Some(V::Const(r)))
                    }
                    V::Dyn(..) => Err("popcount() counts the bits of a constant (a field); use a helper for register values".into()),
                }
            }
            _ if self.isa.functions.iter().any(|f| f.name == name) => {
                let f = self
                    .isa
                    .functions
                    .iter()
                    .find(|f| f.name == name)
                    .expect("found");
                if f.value.is_none() {
                    return Err(format!("{name}() is a statement function, not a value"));
                }
                if !want {
                    return Err(format!("{name}() is a value, not a statement"));
                }
                self.value_call(f, args).map(Some)
            }
            _ => {
                let Some(h) = self.isa.helpers.iter().find(|h| h.name == name) else {
                    return Err(format!(
                        "unknown helper '{name}' (declare it under `helpers:` in isa.yaml)"
                    ));
                };
                if want && h.ret.is_none() {
                    return Err(format!("helper {name} returns nothing"));
                }
                argc(h.args.len())?;
                let mut ts = Vec::new();
                for (a, w) in args.iter().zip(&h.args) {
                    let v = self.expr(a)?;
                    let w = Self::reg_w(*w);
                    let (t, ty) = self.as_dyn(v, w);
                    if let (Some(x), Some(y)) = (self.bits(ty.w), self.bits(w)) {
                        if x != y {
                            return Err(format!(
                                "helper {name}: a {x}-bit argument where {y} bits are declared"
                            ));
                        }
                    }
                    ts.push(t);
                }
                let hid = format_ident!("HELPER_{}", name.to_uppercase());
                let r = self.fresh("t");
                match h.ret {
                    Some(rw) => {
                        let w = Self::reg_w(rw);
                        let irt = self.ir_ty(w);
                        self.push(quote!(let #r = cx.call(&#hid, vec![#(#ts),*], #irt);));
                        Ok(Some(V::Dyn(r, Ty { w, signed: false })))
                    }
                    None => {
                        self.push(quote!(cx.b.call(&#hid, vec![#(#ts),*], None);));
                        Ok(None)
                    }
                }
            }
        }
    }
}
